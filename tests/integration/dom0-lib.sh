# dom0-lib.sh — shared setup for the dom0 integration tests (source after
# tests/lib.sh): a LUKS2 disk per domain made by cryptsetup, keys, a real
# sccrypt-hvsim with N domains whose guests run /bin/sh, and sccrypt-consoled.

HVSIM="$top_builddir/hv/sim/sccrypt-hvsim"
CONSOLED="$top_builddir/consoled/sccrypt-consoled"
SHIM="$top_builddir/dom0-forced-command/sccrypt-console"
PROBE="$top_builddir/tests/helpers/sc-probe"

dom0_need_stack() {
	for p in "$HVSIM" "$CONSOLED" "$SHIM" "$PROBE"; do
		[ -x "$p" ] || t_skip "$(basename "$p") not built"
	done
	command -v cryptsetup >/dev/null 2>&1 || t_skip "cryptsetup not installed"
}

hex32() { head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n'; }

# dom0_keys: a user console key and per-VM secrets (64 hex digits each).
dom0_keys() {
	hex32 >"$T_TMP/user.key"
	chmod 600 "$T_TMP/user.key"
}

# dom0_make_disk FILE-PREFIX: LUKS2 image PREFIX.img whose volume key is
# PREFIX.vk (raw bytes), and the VM secret PREFIX.secret.
dom0_make_disk() {
	head -c 64 /dev/urandom >"$1.vk"
	truncate -s 20M "$1.img"
	cryptsetup luksFormat --type luks2 --batch-mode --volume-key-file "$1.vk" \
	    --key-size 512 --pbkdf pbkdf2 --pbkdf-force-iterations 1000 \
	    --key-file "$1.vk" "$1.img" >/dev/null 2>&1 ||
	    t_fail "cryptsetup luksFormat failed"
	hex32 >"$1.secret"
}

# dom0_start_hv NAME... : one domain per name (domid 1, 2, ...), each with
# its own LUKS2 disk; names starting with "plain" get no disk (they can
# never be protected: the unprotected baseline).
dom0_start_hv() {
	conf="$T_TMP/hvsim.conf"
	printf 'socket = %s\nhistory = 65536\n' "$T_TMP/hv.sock" >"$conf"
	# DOM0_HV_CONF: more global lines (e.g. owner-ca = HEX)
	[ -z "${DOM0_HV_CONF:-}" ] || printf '%s\n' "$DOM0_HV_CONF" >>"$conf"
	id=0
	for name in "$@"; do
		id=$((id + 1))
		printf '\n[domain %s]\ndomid = %d\nuuid = %s\ncommand = /bin/sh\n' \
		    "$name" "$id" "$(cat /proc/sys/kernel/random/uuid)" >>"$conf"
		case "$name" in
		plain*) ;;
		*)	dom0_make_disk "$T_TMP/$name"
			printf 'disk = %s\n' "$T_TMP/$name.img" >>"$conf" ;;
		esac
	done
	t_bg "$HVSIM" --foreground -f "$conf" 2>"$T_TMP/hvsim.log"
	t_wait 100 test -S "$T_TMP/hv.sock" ||
	    { cat "$T_TMP/hvsim.log" >&2; t_fail "sccrypt-hvsim did not start"; }
}

# dom0_uuid NAME: domain NAME's UUID in hvsim.conf.
dom0_uuid() { sed -n "/^\[domain $1\]/,/^\[/s/^uuid = //p" "$T_TMP/hvsim.conf"; }
# dom0_hv_fp: the hv key fingerprint hvsim logged.
dom0_hv_fp() {
	sed -n 's/.*hv key fingerprint \(SC256:[A-Za-z0-9+\/]*\).*/\1/p' "$T_TMP/hvsim.log" | head -1
}

# dom0_start_consoled [extra config lines on stdin]
dom0_start_consoled() {
	{
		printf 'backend = sim\nhv_socket = %s\nlisten = %s\n' \
		    "$T_TMP/hv.sock" "$T_TMP/cd.sock"
		printf 'pid_file = %s\ncertificate = %s\nlog_level = debug\n' \
		    "$T_TMP/consoled.pid" "$T_TMP/vmm.cert"
		cat
	} >"$T_TMP/sccrypt.conf"
	# Under ASan, freed memory sits in a quarantine that looks like growth
	# to an RSS check; keep it small (other builds ignore the variable).
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=1:thread_local_quarantine_size_kb=64" \
	    t_bg "$CONSOLED" -F -f "$T_TMP/sccrypt.conf" 2>"$T_TMP/consoled.log"
	CONSOLED_PID=$!
	t_wait 100 test -S "$T_TMP/cd.sock" ||
	    { cat "$T_TMP/consoled.log" >&2; t_fail "sccrypt-consoled did not start"; }
	t_wait 100 grep -q 'hypervisor (sim backend) key' "$T_TMP/consoled.log" ||
	    { cat "$T_TMP/consoled.log" >&2; t_fail "consoled did not reach hvsim"; }
}

# dom0_probe NAME ARGS...: sc-probe ARGS, output in $T_TMP/NAME.out and
# NAME.err; if it fails, show both and consoled's log tail and t_fail NAME.
dom0_probe() {
	n=$1; shift
	"$PROBE" "$@" >"$T_TMP/$n.out" 2>"$T_TMP/$n.err" ||
	    { cat "$T_TMP/$n.out" "$T_TMP/$n.err" >&2; tail -20 "$T_TMP/consoled.log" >&2
	      t_fail "$n"; }
}

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

# dom0_default_conf: the configuration path compiled into the shim.
dom0_default_conf() {
	d_prefix=$(sed -n 's/^prefix = //p' "$top_builddir/Makefile")
	d_etc=$(sed -n 's/^sysconfdir = //p' "$top_builddir/Makefile")
	printf '%s/sccrypt/sccrypt.conf\n' "$(printf '%s' "$d_etc" |
	    sed "s|\${prefix}|$d_prefix|; s|\$(prefix)|$d_prefix|")"
}

# dom0_sudo_setup CONSOLED-SOCKET: writes $T_TMP/sudo-shim, which runs the
# shim (as root, with the caller's SUDO_* environment) the way it runs under
# sudo, where it takes no -f: its default configuration must not exist (the
# test is skipped otherwise) and its default socket /run/sccrypt/consoled.sock
# is made to lead to CONSOLED-SOCKET by running the shim in a private mount
# namespace whose /run is $T_TMP/run.  Returns 1 without mount namespaces.
dom0_sudo_setup() {
	[ "$(id -u)" = 0 ] || return 1
	[ ! -e "$(dom0_default_conf)" ] ||
	    { echo "note: $(dom0_default_conf) exists; sudo mode not tested"; return 1; }
	mkdir -p "$T_TMP/run/sccrypt"
	ln -sf "$1" "$T_TMP/run/sccrypt/consoled.sock"
	cat >"$T_TMP/sudo-shim" <<EOS
#!/bin/sh
exec unshare -m --propagation private sh -c \
    'mount --bind "$T_TMP/run" /run && exec "\$0" "\$@"' "$SHIM" "\$@"
EOS
	chmod 0755 "$T_TMP/sudo-shim"
	unshare -m --propagation private sh -c "mount --bind '$T_TMP/run' /run" \
	    2>/dev/null || { echo "note: no mount namespaces; sudo mode not tested"; return 1; }
}

# dom0_start_sshd: OpenSSH sshd on 127.0.0.1:$port (SSHD: the binary) with
# the host key $T_TMP/hostkey and $T_TMP/authorized_keys, both written by
# the caller; waits until it listens.  Then SSH=$T_TMP/ssh, an ssh wrapper
# for it (sc-probe execs its transport, so the options live in a script).
dom0_start_sshd() {
	cat >"$T_TMP/sshd_config" <<EOC
Port $port
ListenAddress 127.0.0.1
HostKey $T_TMP/hostkey
PidFile $T_TMP/sshd.pid
AuthorizedKeysFile $T_TMP/authorized_keys
StrictModes no
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UsePAM no
PrintMotd no
LogLevel VERBOSE
EOC
	if [ "$(id -u)" = 0 ]; then
		mkdir -p /run/sshd
		chmod 0755 /run/sshd
	fi
	t_bg "$SSHD" -D -e -f "$T_TMP/sshd_config" 2>"$T_TMP/sshd.log"
	t_wait 100 grep -q "Server listening on 127.0.0.1 port $port" "$T_TMP/sshd.log" ||
	    { cat "$T_TMP/sshd.log" >&2; t_fail "sshd did not start"; }

	# sc-probe execs its transport: wrap the ssh options in a script.
	cat >"$T_TMP/ssh" <<EOC
#!/bin/sh
exec ssh -F /dev/null -o BatchMode=yes -o IdentitiesOnly=yes \\
    -o StrictHostKeyChecking=no -o UserKnownHostsFile=$T_TMP/known_hosts \\
    -o LogLevel=ERROR -p $port "\$@"
EOC
	chmod +x "$T_TMP/ssh"
	SSH="$T_TMP/ssh"
}

# dom0_owner_stack CA: sccrypt-hvsim with vm1 and vm2 whose PROTECT needs an
# ownership token of owner CA CA (hex), and consoled letting this user at
# both; sets uuid1, uuid2, fp (the hv key fingerprint) and SHIMCMD.
dom0_owner_stack() {
	DOM0_HV_CONF="owner-ca = $1" dom0_start_hv vm1 vm2
	grep -q "PROTECT requires an ownership token of owner CA $1" "$T_TMP/hvsim.log" ||
	    { cat "$T_TMP/hvsim.log" >&2; t_fail "hvsim did not take the owner CA"; }
	printf 'allow %s vm1\nallow %s vm2\n' "$(id -u)" "$(id -u)" | dom0_start_consoled
	uuid1=$(dom0_uuid vm1)
	uuid2=$(dom0_uuid vm2)
	fp=$(dom0_hv_fp)
	[ -n "$uuid1" ] && [ -n "$uuid2" ] && [ -n "$fp" ] || t_fail "hvsim.conf / hvsim.log"
	SHIMCMD="$SHIM -f $T_TMP/sccrypt.conf"
}

# dom0_owner_session HOME VM: after dom0_owner_stack, $TERM_BIN (trusting
# $fp; SCCRYPT_HOME=HOME, empty: the caller's) opens a session on VM
# through the shim and sees the guest's answer to a typed command (30 s at
# most); else t_fail.
dom0_owner_session() {
	printf 'echo OWN$((40+2))ER\n' >"$T_TMP/in1"
	set +e
	env ${1:+SCCRYPT_HOME=$1} "$TERM_BIN" --trust-hv-key "$fp" --pipe "$2" -- \
	    $SHIMCMD "$2" <"$T_TMP/in1" >"$T_TMP/s1.out" 2>"$T_TMP/s1.err" &
	spid=$!
	set -e
	t_wait 300 grep -q OWN42ER "$T_TMP/s1.out" ||
	    { cat "$T_TMP/s1.err" >&2; t_fail "the owner's session after binding"; }
	kill "$spid" 2>/dev/null || true
	wait "$spid" 2>/dev/null || true
}
