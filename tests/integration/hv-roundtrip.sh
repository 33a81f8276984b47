#!/bin/sh
# hv-roundtrip.sh — sccrypt-hvsim end to end with real components: a LUKS2
# image made by cryptsetup, a software TPM (swtpm), guests running a real
# shell.  Binds a domain with sc-hvctl (sealed blob: disk key + user key),
# opens an encrypted session over the ops socket, types `echo $((6*7))`,
# reads 42 back, and checks that
#   - the PCR holds the extend of SHA-256(hv public key),
#   - the ops-socket traffic of the protected session contains neither what
#     was typed nor what the guest printed, while the unprotected domain's
#     RAW path visibly carries plaintext,
#   - a wrong disk key is refused, RAW ops on the protected domain are
#     refused, SysRq reaches the guest's hvc bridge,
#   - the guest received exactly the typed bytes (nothing forged/replayed),
#   - SIGTERM shuts hvsim down cleanly.
. "$top_srcdir/tests/lib.sh"

HVSIM=$top_builddir/hv/sim/sccrypt-hvsim
CTL=$top_builddir/tests/helpers/sc-hvctl
[ -x "$HVSIM" ] || t_skip "sccrypt-hvsim not built (needs libcryptsetup and tss2-esys)"
t_need_cmds cryptsetup swtpm tpm2_pcrread python3
cd "$T_TMP"

# --- A LUKS2 disk for vm1, with a volume key we know. -----------------------
head -c 64 /dev/urandom > vk.bin
head -c 64 /dev/urandom > wrong-vk.bin
truncate -s 20M vm1.img
if ! printf 'not-used-passphrase' | cryptsetup luksFormat --type luks2 --batch-mode \
    --volume-key-file vk.bin --key-size 512 --pbkdf pbkdf2 \
    --pbkdf-force-iterations 1000 --key-file - vm1.img >luks.log 2>&1; then
	cat luks.log >&2
	if [ "$(id -u)" != 0 ]; then
		t_skip "cryptsetup luksFormat cannot run here as non-root"
	fi
	t_fail "cryptsetup luksFormat failed"
fi
cryptsetup luksDump vm1.img | grep -q '^Version:[[:space:]]*2' || t_fail "not a LUKS2 image"

# --- A software TPM. ---------------------------------------------------------
t_start_swtpm	# sets TCTI

# --- hvsim: one protected-to-be domain, one unprotected. ---------------------
# A third runs its console as another user: nobody when we are root, else
# ourselves (switching users needs root).
if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
	CONSOLE_USER=nobody
else
	CONSOLE_USER=$(id -un)
fi
cat > hvsim.conf <<EOF
# sccrypt-hvsim test configuration
history = 65536

[domain vm1]
uuid = 6f1c1f02-2b83-4b8f-9a51-0d3f6c2b9e11
disk = $T_TMP/vm1.img
command = /bin/sh -i
input-log = $T_TMP/vm1-input.log

[domain plain]
domid = 7
uuid = 0b1e8a4c-54de-4bc6-8a0c-2f9b7e3d1a55
command = /bin/sh -i

[domain asuser]
domid = 8
uuid = 0b1e8a4c-54de-4bc6-8a0c-2f9b7e3d1a56
command = /bin/sh -i
user = $CONSOLE_USER
EOF
SOCK=$T_TMP/ops.sock
t_bg "$HVSIM" --foreground -v -f hvsim.conf -S "$SOCK" --tpm-tcti "$TCTI" \
    --pubkey-file "$T_TMP/hvpk" 2>hvsim.log
HVPID=$!
t_wait 100 test -S "$SOCK" || { cat hvsim.log >&2; t_fail "hvsim did not start"; }
[ "$(stat -c %a "$SOCK")" = 600 ] || t_fail "ops socket mode is not 0600"
ctl() { "$CTL" -t 20 -S "$SOCK" "$@"; }

ctl info > info.txt
grep -qx 'pcr 15' info.txt || t_fail "GET_INFO does not report PCR 15"
grep -q "^hv-pubkey $(cat hvpk)\$" info.txt || t_fail "GET_INFO key differs from --pubkey-file"
ctl list > list.txt
grep -q '^1 6f1c1f02-2b83-4b8f-9a51-0d3f6c2b9e11 vm1 running$' list.txt || t_fail "list: vm1"
grep -q '^7 0b1e8a4c-54de-4bc6-8a0c-2f9b7e3d1a55 plain running$' list.txt || t_fail "list: plain"
t_pass "hvsim up, domains listed"

# --- The PCR is the extend of SHA-256(hv public key) from zero. --------------
expected=$(python3 -c '
import hashlib, sys
pk = bytes.fromhex(open(sys.argv[1]).read().strip())
print(hashlib.sha256(bytes(32) + hashlib.sha256(pk).digest()).hexdigest())' hvpk)
actual=$(TPM2TOOLS_TCTI="$TCTI" tpm2_pcrread sha256:15 | awk '/15:/ {print tolower($2)}')
[ "$actual" = "0x$expected" ] || t_fail "PCR 15 is $actual, expected 0x$expected"
t_pass "PCR 15 = extend(SHA-256(hv key))"

# --- Binding: wrong disk key refused, right one accepted. --------------------
"$CTL" genkey owner.key > owner.pub
"$CTL" genkey vm1-secret.key > /dev/null
if ctl protect vm1 --disk-key-file wrong-vk.bin --vm-secret-file vm1-secret.key \
    --owner-key owner.key 2>protect-bad.err; then
	t_fail "PROTECT with a wrong disk key succeeded"
fi
grep -q 'disk key does not match' protect-bad.err || { cat protect-bad.err >&2; t_fail "wrong disk key: unexpected error"; }
ctl list | grep -q '^1 .* vm1 running$' || t_fail "vm1 became protected with a wrong key"
ctl -D traffic.bin protect vm1 --disk-key-file vk.bin --vm-secret-file vm1-secret.key \
    --owner-key owner.key > protect.out
grep -q 'protected vm1 (domid 1), confirmed' protect.out || t_fail "PROTECT failed"
ctl list | grep -q '^1 .* vm1 running,protected$' || t_fail "vm1 not protected"
t_pass "binding needs the disk key"

# --- The encrypted session. --------------------------------------------------
ctl -D traffic.bin session vm1 --user-key owner.key --vm-secret-file vm1-secret.key \
    'send:echo $((6*7))\n' 'expect:\n42\r' \
    'send:echo SCMARK_$((1000+337))\n' 'expect:SCMARK_1337' > session.out 2>session.err ||
    { cat session.err hvsim.log >&2; t_fail "session failed"; }
grep -q '^42' session.out || t_fail "no 42 in the decrypted output"
t_pass "typed echo \$((6*7)), read 42"

# Neither the typed commands nor the output crossed the socket in clear.
python3 - traffic.bin <<'PY' || t_fail "plaintext in the protected session's ops traffic"
import sys
data = open(sys.argv[1], 'rb').read()
assert len(data) > 500, "traffic dump too small: %d" % len(data)
for needle in (b'echo $((6*7))', b'$((6*7))', b'\n42\r', b'SCMARK', b'1337', b'echo'):
    if needle in data:
        sys.exit("found %r in the ops traffic" % needle)
PY
t_pass "ops traffic of the protected session carries no plaintext"

# The guest received exactly what was typed: nothing forged or replayed.
printf 'echo $((6*7))\necho SCMARK_$((1000+337))\n' > expected-input
cmp -s expected-input vm1-input.log || { od -c vm1-input.log >&2; t_fail "guest input differs from what was typed"; }

# RAW ops on the protected domain are refused.
if ctl raw vm1 'send:id\n' 2>raw-refused.err; then
	t_fail "RAW_INPUT accepted on a protected domain"
fi
grep -q 'RAW_INPUT: domain is protected' raw-refused.err || t_fail "RAW refusal: unexpected error"

# --- The unprotected baseline: plaintext on the socket. ----------------------
ctl -D raw.bin raw plain 'send:echo RAWMARK_$((6*7))\n' 'expect:RAWMARK_42' > raw.out ||
    t_fail "raw session on the unprotected domain failed"
grep -q 'RAWMARK_42' raw.bin || t_fail "unprotected RAW traffic should show plaintext"
grep -q 'RAWMARK_\$((6\*7))' raw.bin || t_fail "unprotected RAW input should show plaintext"
t_pass "unprotected domain: RAW path is plaintext (baseline)"

# --- user = NAME: the console command runs as that user, root is gone. -------
want_uid=$(id -u "$CONSOLE_USER"); want_gid=$(id -g "$CONSOLE_USER")
want_groups=$(id -G "$CONSOLE_USER")
ctl raw asuser 'send:echo "U=$(id -u)/$(id -g)/$(id -G)/$(id -ru)"\n' \
    "expect:U=$want_uid/$want_gid/$want_groups/$want_uid" \
    > asuser.out 2>asuser.err || { cat asuser.err asuser.out >&2; t_fail "console user $CONSOLE_USER"; }
if [ "$CONSOLE_USER" != "$(id -un)" ]; then
	# Regaining root must be impossible: real, effective, saved and
	# filesystem ids are all the user's.
	ctl raw asuser 'send:grep -E "^(Uid|Gid):" /proc/self/status | tr -s "[:blank:]" " "\n' \
	    "expect:Uid: $want_uid $want_uid $want_uid $want_uid" \
	    "expect:Gid: $want_gid $want_gid $want_gid $want_gid" \
	    > asuser2.out 2>asuser2.err || { cat asuser2.err asuser2.out >&2; t_fail "saved ids of $CONSOLE_USER"; }
fi
t_pass "user = $CONSOLE_USER: console command runs as that user"

# --- SysRq through an authenticated BREAK record, and history replay. -------
ctl session vm1 --user-key owner.key --vm-secret-file vm1-secret.key --history 4096 \
    'expect-history:SCMARK_1337' 'break:h' 'expect:sysrq: HELP' > sysrq.out 2>sysrq.err ||
    { cat sysrq.err >&2; t_fail "SysRq session failed"; }
grep -q 'notice 5 value 104' sysrq.err || t_fail "no SysRq notice"
python3 - vm1-input.log expected-input <<'PY' || t_fail "guest input after SysRq is not typed bytes + ^O h"
import sys
got, before = open(sys.argv[1], 'rb').read(), open(sys.argv[2], 'rb').read()
sys.exit(0 if got == before + b'\x0fh' else "got %r" % got)
PY
t_pass "BREAK record became hvc SysRq 'h'; history replayed"

# --- Wrong VM secret: the handshake fails on the client, nothing is taken. ---
"$CTL" genkey other-secret.key > /dev/null
if ctl session vm1 --user-key owner.key --vm-secret-file other-secret.key 2>bad-secret.err; then
	t_fail "session with a wrong VM secret succeeded"
fi
"$CTL" genkey stranger.key > /dev/null
if ctl session vm1 --user-key stranger.key --vm-secret-file vm1-secret.key 2>stranger.err; then
	t_fail "session with a key outside the ACL succeeded"
fi
grep -q 'OPEN vm1: permission denied' stranger.err || { cat stranger.err >&2; t_fail "ACL miss: unexpected error"; }
grep -q 'handshake message 2: authentication failed' bad-secret.err || { cat bad-secret.err >&2; t_fail "wrong secret: unexpected error"; }
t_pass "wrong VM secret and unknown user key refused"

# --- The guest command is restarted when it exits. ---------------------------
# (Like on a real tty, what was typed after `exit` dies with the old pty, so
# wait for the restart before typing.)
ctl session vm1 --user-key owner.key --vm-secret-file vm1-secret.key \
    'send:exit\n' 'sleep:1500' 'send:echo RESTARTED_$((2+3))\n' 'expect:RESTARTED_5' \
    > restart.out 2>restart.err || { cat restart.err >&2; t_fail "guest restart"; }
grep -q 'console command exited' hvsim.log || t_fail "no restart logged"
t_pass "guest command restarted after it exited"

# --- Clean shutdown on SIGTERM. ----------------------------------------------
kill -TERM "$HVPID"
t_wait 100 sh -c "! kill -0 $HVPID 2>/dev/null" || t_fail "hvsim did not exit on SIGTERM"
wait "$HVPID" 2>/dev/null && rc=0 || rc=$?
[ "$rc" = 0 ] || t_fail "hvsim exited with $rc"
[ ! -e "$SOCK" ] || t_fail "ops socket left behind"
# Logs never contain console bytes.
if grep -q 'SCMARK\|RAWMARK\|echo' hvsim.log; then
	t_fail "hvsim log contains console bytes"
fi
t_pass "clean shutdown; log free of console bytes"
