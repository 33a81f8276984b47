# tests/xen-lab/tpm-lab.sh — the measured boot and the attestation of Xen's
# key in the Xen lab (issue 15); sourced by run.sh, which calls the tl_*
# functions.  docs/xen.md §4 item 1 and §7 describe what this shows.
#
# Boot chain (every stage measures the next before running it):
#   OVMF (Debian's ovmf, built with TPM 2.0 support; PCRs 0-7: firmware,
#   its configuration, the boot application = our GRUB image)
#   -> GRUB EFI image from grub-mkimage with the tpm module built in (so it
#   is active before grub.cfg is read): every file GRUB opens (grub.cfg,
#   xen, the dom0 kernel and initramfs) is hashed into PCR 9, every command
#   it runs, with its arguments (the multiboot2 line = Xen's command line,
#   the module2 lines = dom0's), into PCR 8
#   -> Xen via multiboot2 (EFI boot services) -> sccrypt_init extends PCR 15
#   with SHA-256(hv public key) at locality 0, before dom0 is built.
# The TPM is swtpm behind QEMU's tpm-tis (unix socket); dom0 reaches it
# through its kernel's tpm_tis driver (/dev/tpmrm0).
#
# The key server runs on the host (127.0.0.1, a free port); dom0 reaches it
# only through `ssh -R` over the lab's hostfwd ssh connection, on dom0's
# own loopback (TL_RPORT).  The golden policy (PCRs TL_PCRS) is what the
# operator records from the reference boot (sccrypt-attest --create-ak in
# dom0); the host checks independently that PCR 15 is exactly one extend
# with the key Xen printed on its serial console.
#
# Needs from run.sh: $lab, $bld, $top, $SSHO, $SSH, result(), step(),
# xl_die/xl_skip, and sets $qpid (the QEMU process) in tl_boot.

TL_PCRS=0,4,8,9			# golden policy: firmware, GRUB, commands, files
TL_KEY_PCR=15
TL_HOST=xenlab			# the host's enrolled name
TL_RPORT=8740			# the key server as dom0 sees it (its loopback)
TL_OVMF_CODE=/usr/share/OVMF/OVMF_CODE.fd
TL_OVMF_VARS=/usr/share/OVMF/OVMF_VARS.fd
TL_GRUB_MODS="normal fat part_msdos part_gpt multiboot2 tpm echo boot configfile"
tl_swtpm_pid=
tl_ks_pid=

tl_need_tools() {
	for t in swtpm swtpm_setup grub-mkimage mkfs.fat mcopy mmd curl; do
		command -v "$t" >/dev/null || xl_skip "$t is not installed (build-aux/install-deps --xen-lab)"
	done
	for f in "$TL_OVMF_CODE" "$TL_OVMF_VARS" /usr/lib/grub/x86_64-efi/tpm.mod \
	    /usr/lib/grub/x86_64-efi/multiboot2.mod; do
		[ -f "$f" ] || xl_skip "$f is missing (ovmf, grub-efi-amd64-bin)"
	done
}

# A fresh TPM for this lab run (sha256 bank only: OVMF and GRUB hash what
# they measure once per active bank, and TCG is slow), and the GRUB image.
tl_setup() {
	mkdir -p "$lab/tpm"
	swtpm_setup --tpm2 --tpmstate "$lab/tpm" --pcr-banks sha256 \
	    >"$lab/swtpm_setup.log" 2>&1 || { cat "$lab/swtpm_setup.log"; xl_die "swtpm_setup failed"; }
	# shellcheck disable=SC2086
	grub-mkimage -O x86_64-efi -o "$lab/BOOTX64.EFI" -p /EFI/BOOT $TL_GRUB_MODS ||
	    xl_die "grub-mkimage failed"
}

# tl_esp NAME XENARGS VMLINUZ DOM0INITRD: the boot disk $lab/NAME-esp.img
# (FAT, no partition table: OVMF's FAT driver takes the whole disk).
tl_esp() {
	img=$lab/$1-esp.img
	cat >"$lab/$1-grub.cfg" <<EOF
set timeout=0
echo "SCCRYPT-LAB: GRUB loading Xen ($1)"
multiboot2 /xen dom0_mem=1024M,max:1024M console=com1 com1=115200,8n1 loglvl=all guest_loglvl=all $2
module2 --nounzip /vmlinuz console=hvc0 panic=5
module2 --nounzip /dom0-initrd.gz
boot
EOF
	kb=$(( ($(stat -c %s "$xen") + $(stat -c %s "$3") + $(stat -c %s "$4")) / 1024 + 8192 ))
	rm -f "$img"
	mkfs.fat -C "$img" "$kb" >/dev/null || xl_die "mkfs.fat failed"
	mmd -i "$img" ::/EFI ::/EFI/BOOT &&
	    mcopy -i "$img" "$lab/BOOTX64.EFI" ::/EFI/BOOT/BOOTX64.EFI &&
	    mcopy -i "$img" "$lab/$1-grub.cfg" ::/EFI/BOOT/grub.cfg &&
	    mcopy -i "$img" "$xen" ::/xen && mcopy -i "$img" "$3" ::/vmlinuz &&
	    mcopy -i "$img" "$4" ::/dom0-initrd.gz || xl_die "cannot fill the boot disk"
}

# tl_boot NAME SERIAL-LOG HOSTFWD-PORT: swtpm (same state for every boot of
# this lab: a reboot of the same machine) and QEMU in the background; sets
# qpid.  Fresh UEFI variables for every boot, so PCRs 0-7 repeat.
tl_boot() {
	tl_swtpm_stop
	rm -f "$lab/swtpm.sock"
	swtpm socket --tpm2 --tpmstate dir="$lab/tpm" \
	    --ctrl type=unixio,path="$lab/swtpm.sock" \
	    --log file="$lab/swtpm-$1.log" --pid file="$lab/swtpm.pid" -d ||
	    xl_die "swtpm did not start"
	tl_swtpm_pid=$(cat "$lab/swtpm.pid")
	cp "$TL_OVMF_VARS" "$lab/$1-vars.fd"
	# XL_TCG_THREAD=single: one host thread for both vCPUs (experiments:
	# does a fault need multi-threaded TCG?).
	timeout "${XL_TIMEOUT:-2400}" qemu-system-x86_64 -accel tcg,thread="${XL_TCG_THREAD:-multi}" \
	    -cpu "$XL_CPU" -m 2048 -smp 2 -nographic -no-reboot \
	    -drive if=pflash,format=raw,unit=0,readonly=on,file="$TL_OVMF_CODE" \
	    -drive if=pflash,format=raw,unit=1,file="$lab/$1-vars.fd" \
	    -drive if=none,id=esp,format=raw,readonly=on,file="$lab/$1-esp.img" \
	    -device virtio-blk-pci,drive=esp,bootindex=0 \
	    -chardev socket,id=chrtpm,path="$lab/swtpm.sock" \
	    -tpmdev emulator,id=tpm0,chardev=chrtpm -device tpm-tis,tpmdev=tpm0 \
	    -netdev "user,id=n0,hostfwd=tcp:127.0.0.1:$3-:22" \
	    -device e1000,netdev=n0,romfile= \
	    </dev/null >"$2" 2>&1 &
	qpid=$!
}

tl_swtpm_stop() {
	if [ -n "$tl_swtpm_pid" ] && kill -0 "$tl_swtpm_pid" 2>/dev/null; then
		kill "$tl_swtpm_pid" 2>/dev/null || true
		i=0
		while kill -0 "$tl_swtpm_pid" 2>/dev/null && [ "$i" -lt 20 ]; do
			sleep 0.5; i=$((i + 1))
		done
	fi
	tl_swtpm_pid=
}

tl_cleanup() {
	tl_swtpm_stop
	if [ -n "$tl_ks_pid" ] && kill -0 "$tl_ks_pid" 2>/dev/null; then
		kill "$tl_ks_pid" 2>/dev/null || true
	fi
}

# The key server on the host: state in $lab/ks, public key in $lab/ks.pub.
tl_keyserver() {
	KSBIN=$bld/keyserver/sccrypt-keyserver
	ATBIN=$bld/keyserver/sccrypt-attest
	[ -x "$KSBIN" ] && [ -x "$ATBIN" ] ||
	    xl_die "sccrypt-keyserver/sccrypt-attest were not built (libtss2-dev, libmicrohttpd-dev ...)"
	ksport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	KSURL=http://127.0.0.1:$ksport
	mkdir -p "$lab/ks"
	"$KSBIN" -s "$lab/ks" -l "127.0.0.1:$ksport" 2>"$lab/ks.log" &
	tl_ks_pid=$!
	i=0
	until curl -sf -m 2 "$KSURL/v1/pubkey" -o /dev/null; do
		i=$((i + 1))
		[ "$i" -lt 60 ] && kill -0 "$tl_ks_pid" 2>/dev/null ||
		    { cat "$lab/ks.log"; xl_die "the key server did not start"; }
		sleep 1
	done
	curl -sf -m 5 "$KSURL/v1/pubkey" |
	    python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])' >"$lab/ks.pub"
	KSTOKEN=$(cat "$lab/ks/operator.token")
}

# SHA-256(0^32 || SHA-256(key)): the key PCR after exactly one extend.
tl_expected_pcr() {
	python3 -c 'import hashlib,sys; k=bytes.fromhex(sys.argv[1]); print(hashlib.sha256(bytes(32)+hashlib.sha256(k).digest()).hexdigest())' "$1"
}

# Run CMD in dom0 with the key server at 127.0.0.1:$TL_RPORT there.
tl_dom0_ks() {
	# shellcheck disable=SC2086
	$SSHO -o ExitOnForwardFailure=yes -R "$TL_RPORT:127.0.0.1:$ksport" root@127.0.0.1 "$1"
}

# The attestation command dom0 runs (its hv key from the hypercall).
TL_ATTEST="sccrypt-attest -k http://127.0.0.1:$TL_RPORT -n $TL_HOST -T device:/dev/tpmrm0 \
--pcrs $TL_PCRS --key-pcr $TL_KEY_PCR -K /etc/sccrypt/keyserver.pub --timeout 60"

# hv-measured, enroll, attest (after get-info).
tl_attest_checks() {
	exp=$(tl_expected_pcr "$hvpk")
	xdig=$(sed -n 's/.*sccrypt: TPM 2.0 (TIS.*PCR 15 extended at locality 0 with SHA-256 of the hv key \([0-9a-f]\{64\}\).*/\1/p' "$lab/serial.log" | head -n 1)
	xval=$(sed -n 's/.*sccrypt: PCR 15 (sha256) is now \([0-9a-f]\{64\}\).*/\1/p' "$lab/serial.log" | head -n 1)
	kdig=$(python3 -c 'import hashlib,sys; print(hashlib.sha256(bytes.fromhex(sys.argv[1])).hexdigest())' "$hvpk")
	m=$($SSH "echo pcr15=\$(cat /sys/class/tpm/tpm0/pcr-sha256/15); ls /dev/tpmrm0; sccrypt-xenctl info | grep '^pcr '" 2>&1 | tr -d '\r') || true
	d0val=$(printf '%s\n' "$m" | sed -n 's/^pcr15=//p' | tr 'A-F' 'a-f')
	if [ "$xdig" = "$kdig" ] && [ "$xval" = "$exp" ] && [ "$d0val" = "$exp" ] &&
	    printf '%s\n' "$m" | grep -qx 'pcr 15' && printf '%s\n' "$m" | grep -qx /dev/tpmrm0; then
		result PASS hv-measured "Xen extended PCR 15 with SHA-256 of its key before dom0 ran; dom0 (/dev/tpmrm0, sysfs) reads PCR 15 = SHA-256(0^32 || SHA-256(key)) = ${exp%"${exp#????????????????}"}...; GET_INFO reports pcr 15"
	else
		result FAIL hv-measured "xen digest '${xdig:-none}' (want $kdig), xen pcr '${xval:-none}', dom0: $(printf '%s' "$m" | tr '\n' ' ') (want $exp)"
	fi

	# Enrollment: the operator creates the AK in dom0's TPM and records the
	# golden PCRs of this reference boot.  dom0's clock first: under TCG on
	# a loaded host it fell 23 minutes behind, and sccrypt-attest then
	# refused the certificate as "expired" (issued in its future); a real
	# dom0 runs NTP.
	if $SSH "date -u -s @$(date +%s) >/dev/null && mkdir -p /var/lib/sccrypt && cat >/etc/sccrypt/keyserver.pub" <"$lab/ks.pub" &&
	    $SSH "sccrypt-attest -q --create-ak --insecure-ak -n $TL_HOST -T device:/dev/tpmrm0 --pcrs $TL_PCRS --key-pcr $TL_KEY_PCR" \
	    >"$lab/enroll.json" 2>"$lab/enroll.err" &&
	    curl -sf -m 30 -H "Authorization: Bearer $KSTOKEN" --data-binary @"$lab/enroll.json" \
	    "$KSURL/v1/hosts" >"$lab/enroll.out" 2>&1; then
		:
	else
		result FAIL attest "enrollment failed: $(tail -n 2 "$lab/enroll.err" | tr '\n' ' ') $(cat "$lab/enroll.out" 2>/dev/null)"
		return 0
	fi
	set +e
	tl_dom0_ks "sccrypt-xenctl info | sed -n 's/^hv-public-key //p' >/run/sccrypt/hv.pub &&
		$TL_ATTEST --hv-pubkey-file /run/sccrypt/hv.pub -o /var/lib/sccrypt/vmm.cert; echo attest-rc=\$?" \
	    >"$lab/attest.out" 2>&1
	set -e
	$SSH 'cat /var/lib/sccrypt/vmm.cert' >"$lab/vmm.cert" 2>/dev/null || true
	if grep -q '^attest-rc=0' "$lab/attest.out" && [ -s "$lab/vmm.cert" ] &&
	    "$ATBIN" -q --verify-cert "$lab/vmm.cert" -K "$lab/ks.pub" -n "$TL_HOST" >"$lab/cert.txt" 2>&1 &&
	    grep -q "^hv_pubkey $hvpk\$" "$lab/cert.txt" &&
	    grep -q "audit: attest host=$TL_HOST.*result=ok" "$lab/ks.log"; then
		result PASS attest "sccrypt-attest in dom0 (TPM via /dev/tpmrm0, key server on the host via ssh -R) got a VMM certificate for Xen's key (the one on Xen's serial console), PCRs $TL_PCRS on policy; the host verifies it"
	else
		result FAIL attest "$(tr '\n' ' ' <"$lab/attest.out") $(grep 'audit: attest' "$lab/ks.log" | tail -n 1)"
	fi
}

# strict-connect (after protect): the tenant pins the key server, no
# --trust-hv-key; consoled hands out the certificate.  Negative control:
# the same client expecting another host name is refused (exit 4).
tl_strict_connect() {
	"$TERMBIN" keyserver pin "$lab/ks.pub" >/dev/null 2>&1 ||
	    { result FAIL strict-connect "sccrypt-term keyserver pin failed"; return 0; }
	smarker="STR$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')"
	set +e
	printf '\necho %s-$((7*6))\n' "$smarker" | timeout 300 "$TERMBIN" -H "$TL_HOST" --strict-hv-key \
	    --pipe --linger "${XL_LINGER_MS:-15000}" domu1 -- $SHIM domu1 \
	    >"$lab/strict.out" 2>"$lab/strict.err"
	src=$?
	printf '\necho %s-$((1+1))\n' "$smarker" | timeout 300 "$TERMBIN" -H otherhost --strict-hv-key \
	    --pipe --linger 1000 domu1 -- $SHIM domu1 \
	    >"$lab/strict-neg.out" 2>"$lab/strict-neg.err"
	nrc=$?
	set -e
	if [ "$src" -eq 0 ] && grep -q "$smarker-42" "$lab/strict.out" && [ "$nrc" -eq 4 ] &&
	    ! grep -q "$smarker-2" "$lab/strict-neg.out"; then
		result PASS strict-connect "sccrypt-term -H $TL_HOST --strict-hv-key (no --trust-hv-key): the certificate consoled handed out verified, 42 came back; with -H otherhost the same certificate is refused (exit 4)"
	else
		result FAIL strict-connect "exit $src: $(tail -n 2 "$lab/strict.err" | tr '\n' ' ') / negative control exit $nrc: $(tail -n 1 "$lab/strict-neg.err")"
	fi
}

# dom0-own-key, dom0-extends-pcr (last checks of the first boot: the second
# spoils PCR 15 until the next boot).
tl_dom0_attacks() {
	set +e
	tl_dom0_ks "head -c 32 /dev/urandom >/tmp/own.key; rm -f /tmp/own.cert
		$TL_ATTEST --hv-pubkey-file /tmp/own.key -o /tmp/own.cert; echo attest-rc=\$?
		echo own-cert=\$(test -e /tmp/own.cert && echo present || echo absent)" \
	    >"$lab/own-key.out" 2>&1
	set -e
	if grep -q '^attest-rc=[1-9]' "$lab/own-key.out" && grep -q key_pcr_mismatch "$lab/own-key.out" &&
	    grep -q '^own-cert=absent' "$lab/own-key.out"; then
		result PASS dom0-own-key "dom0 posted a key of its own with a fresh quote: key_pcr_mismatch, no certificate"
	else
		result FAIL dom0-own-key "$(tr '\n' ' ' <"$lab/own-key.out")"
	fi

	set +e
	tl_dom0_ks "cp /var/lib/sccrypt/vmm.cert /tmp/vmm.before
		TPM2TOOLS_TCTI=device:/dev/tpmrm0 tpm2 pcrextend $TL_KEY_PCR:sha256=\$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n'); echo extend-rc=\$?
		$TL_ATTEST --hv-pubkey-file /run/sccrypt/hv.pub -o /var/lib/sccrypt/vmm.cert; echo attest-rc=\$?
		cmp -s /tmp/vmm.before /var/lib/sccrypt/vmm.cert && echo cert=unchanged" \
	    >"$lab/extend.out" 2>&1
	set -e
	if grep -q '^extend-rc=0' "$lab/extend.out" && grep -q '^attest-rc=[1-9]' "$lab/extend.out" &&
	    grep -q key_pcr_mismatch "$lab/extend.out" && grep -q '^cert=unchanged' "$lab/extend.out"; then
		result PASS dom0-extends-pcr "dom0 extended PCR $TL_KEY_PCR after boot: the real hv key is refused (key_pcr_mismatch) until a reboot resets the PCR; the stored certificate is untouched"
	else
		result FAIL dom0-extends-pcr "$(tr '\n' ' ' <"$lab/extend.out")"
	fi
}

# other-xen: the same machine (same TPM and AK) rebooted into the same Xen
# with one more option on its command line: GRUB measures the changed
# multiboot2 line into PCR 8, so the quote is off policy.  Needs the main
# VM powered off first.
tl_other_xen() {
	oport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	oargs="$xen_args dom0_vcpus_pin"
	step "other-xen: rebooting with Xen's command line + dom0_vcpus_pin"
	tl_esp other "$oargs" "$vmlinuz" "$lab/dom0-initrd.gz"
	tl_boot other "$lab/other-serial.log" "$oport"
	OSSH="$(printf '%s' "$SSHO" | sed "s/-p $port /-p $oport /") root@127.0.0.1"
	i=0
	until grep -q 'sccrypt: hv key generated' "$lab/other-serial.log" 2>/dev/null; do
		i=$((i + 2)); [ "$i" -lt 900 ] && kill -0 "$qpid" 2>/dev/null || break; sleep 2
	done
	opk=$(sed -n 's/.*sccrypt: hv key generated.*public key \([0-9a-f]\{64\}\).*/\1/p' "$lab/other-serial.log" | head -n 1)
	i=0
	until $OSSH true 2>/dev/null; do
		i=$((i + 1)); [ "$i" -lt 120 ] && kill -0 "$qpid" 2>/dev/null || break; sleep 5
	done
	set +e
	$OSSH -o ExitOnForwardFailure=yes -R "$TL_RPORT:127.0.0.1:$ksport" \
	    "date -u -s @$(date +%s) >/dev/null; mkdir -p /var/lib/sccrypt; cat >/etc/sccrypt/keyserver.pub; for p in 0 4 8 9 15; do echo pcr\$p=\$(cat /sys/class/tpm/tpm0/pcr-sha256/\$p); done
		sccrypt-xenctl info | sed -n 's/^hv-public-key //p' >/run/sccrypt/hv.pub
		$TL_ATTEST --hv-pubkey-file /run/sccrypt/hv.pub -o /var/lib/sccrypt/vmm.cert; echo attest-rc=\$?
		echo cert=\$(test -e /var/lib/sccrypt/vmm.cert && echo present || echo absent)" \
	    <"$lab/ks.pub" >"$lab/other.out" 2>&1
	set -e
	$OSSH 'busybox poweroff -f' >/dev/null 2>&1 || true
	ov() { sed -n "s/^pcr$1=//p" "$lab/other.out" | tr 'A-F' 'a-f'; }
	gv() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["policy"]["pcrs"][sys.argv[2]].lower())' "$lab/enroll.json" "$1" 2>/dev/null; }
	if [ -n "$opk" ] && [ "$(ov 15)" = "$(tl_expected_pcr "$opk")" ] &&
	    [ "$(ov 0)" = "$(gv 0)" ] && [ "$(ov 4)" = "$(gv 4)" ] && [ -n "$(ov 8)" ] &&
	    [ "$(ov 8)" != "$(gv 8)" ] &&
	    grep -q '^attest-rc=[1-9]' "$lab/other.out" && grep -q pcr_policy_mismatch "$lab/other.out" &&
	    grep -q '^cert=absent' "$lab/other.out"; then
		result PASS other-xen "same Xen, TPM and AK, command line + dom0_vcpus_pin: Xen measured its new key (PCR 15 on key), PCRs 0 and 4 as enrolled, PCR 8 not: pcr_policy_mismatch, no certificate"
	else
		result FAIL other-xen "key '${opk:-none}': $(tr '\n' ' ' <"$lab/other.out" | cut -c1-600)"
	fi
	i=0
	while kill -0 "$qpid" 2>/dev/null && [ "$i" -lt 30 ]; do sleep 1; i=$((i + 1)); done
	kill "$qpid" 2>/dev/null || true
}
