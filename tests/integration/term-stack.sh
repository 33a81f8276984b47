#!/bin/sh
# sccrypt-term against the real stack: sccrypt-hvsim (a LUKS2 disk made by
# cryptsetup, a guest running /bin/sh), sccrypt-consoled and the
# sccrypt-console shim (started with dom0-lib.sh, shared with the dom0
# tests).  The owner binds the VM with `sccrypt-term vm protect` (sealed
# blob, disk key checked by hvsim, confirm verified), then a console
# session runs under tmux: 42 comes back, ~. restores the terminal.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/integration/dom0-lib.sh"
. "$top_srcdir/tests/integration/term-lib.sh"
command -v tmux >/dev/null 2>&1 || t_skip "no tmux"
dom0_need_stack

me=$(id -u)
dom0_start_hv vm1
dom0_start_consoled <<EOC
allow $me vm1
EOC
uuid=$(sed -n '/^\[domain vm1\]/,/^\[/s/^uuid = //p' "$T_TMP/hvsim.conf")
[ -n "$uuid" ] || t_fail "no uuid in hvsim.conf"
SHIMCMD="$SHIM -f $T_TMP/sccrypt.conf"

new_keystore() {	# new_keystore DIR DISK-KEY-FILE
	SCCRYPT_HOME=$1; export SCCRYPT_HOME
	mkdir -p "$SCCRYPT_HOME"; chmod 700 "$SCCRYPT_HOME"
	"$TERM_BIN" keygen -N >/dev/null
	"$TERM_BIN" vm init vm1 --uuid "$uuid" --disk-key-file "$2" -N >/dev/null
}
run() {	# run ARGS...: exit code in $rc, output in out/err
	set +e
	"$TERM_BIN" "$@" </dev/null >"$T_TMP/out" 2>"$T_TMP/err"
	rc=$?
	set -e
}

# 1. no certificate is configured: without a pin the client refuses
new_keystore "$T_TMP/ks" "$T_TMP/vm1.vk"
run --strict-hv-key --pipe vm protect vm1 -- $SHIMCMD --protect vm1
[ "$rc" = 4 ] || { cat "$T_TMP/err" >&2; t_fail "unverified hv key: exit $rc"; }
fp=$(sed -n 's/.*hv key fingerprint \(SC256:[A-Za-z0-9+\/]*\).*/\1/p' "$T_TMP/hvsim.log" | head -1)
[ -n "$fp" ] || t_fail "no hv fingerprint in the hvsim log"
grep -q "$fp" "$T_TMP/err" || { cat "$T_TMP/err" >&2; t_fail "the refusal does not name the hv key"; }
t_pass "unverified hypervisor key refused before anything is sent"

# 2. a wrong disk key: hvsim refuses the binding, the client says so
head -c 64 /dev/urandom >"$T_TMP/wrong.vk"
new_keystore "$T_TMP/ks-wrong" "$T_TMP/wrong.vk"
run --trust-hv-key "$fp" --pipe vm protect vm1 -- $SHIMCMD --protect vm1
[ "$rc" = 4 ] || { cat "$T_TMP/err" >&2; t_fail "wrong disk key: exit $rc"; }
grep -q "refused the binding" "$T_TMP/err" || { cat "$T_TMP/err" >&2; t_fail "wrong disk key: message"; }
t_pass "binding with a wrong disk key refused (confirmed by the hv)"

# 3. the owner binds the VM
SCCRYPT_HOME=$T_TMP/ks; export SCCRYPT_HOME
run --trust-hv-key "$fp" --pipe vm protect vm1 -- $SHIMCMD --protect vm1
[ "$rc" = 0 ] || { cat "$T_TMP/out" "$T_TMP/err" >&2; t_fail "vm protect: exit $rc"; }
grep -q "is now protected" "$T_TMP/out" || t_fail "vm protect: no confirmation"
t_pass "vm protect: blob sealed to the hv key, disk key checked, confirm verified"

# 4. another user's key is not in the ACL: the hv refuses the session
SCCRYPT_HOME=$T_TMP/ks-other; export SCCRYPT_HOME
mkdir -p "$SCCRYPT_HOME/vms"; chmod 700 "$SCCRYPT_HOME"
"$TERM_BIN" keygen -N >/dev/null
cp "$T_TMP/ks/vms/vm1" "$SCCRYPT_HOME/vms/vm1"
run --trust-hv-key "$fp" --pipe vm1 -- $SHIMCMD vm1
[ "$rc" = 4 ] || { cat "$T_TMP/err" >&2; t_fail "key not in ACL: exit $rc"; }
grep -q "not in the access list" "$T_TMP/err" || { cat "$T_TMP/err" >&2; t_fail "key not in ACL: message"; }
t_pass "a key outside the VM's ACL gets no session (exit 4, 'not in the access list')"
SCCRYPT_HOME=$T_TMP/ks; export SCCRYPT_HOME

# 5. the console under tmux
term_pane_script "$T_TMP/s1" "$TERM_BIN --trust-hv-key $fp --pipe vm1 -- $SHIMCMD vm1"
tmux_start "$T_TMP/s1"
tmux_wait "encrypted console to vm1"
tmux_ send-keys Enter
# the guest may echo the line before its prompt: match what only the
# command's output contains
tmux_ send-keys 'echo X$((6*7))Y' Enter
tmux_wait 'X42Y'
tmux_ send-keys Enter '~#'
tmux_wait 'records sent'
tmux_ send-keys Enter '~.'
[ "$(term_wait_rc)" = 0 ] || t_fail "session exit code"
term_check_stty "after ~. on the real stack"
t_pass "encrypted console over hvsim + consoled + shim: 42, ~#, ~. restores the terminal"
tmux_has 'this console is encrypted' && { tmux_dump; t_fail "sccrypt-term showed the shim's preamble"; }
t_pass "sccrypt-term does not show the shim's preamble"
tmux_stop

# 6. a human on the plain shim (xenconsole out of habit): one readable line
#    first (issue 18 item 5)
#    The bytes decide what comes first: the binary HELLO after the line holds
#    random bytes that may move a terminal's cursor over it (a rendered
#    screen showed "}CCrypt: ..." once), so check the stream, then that a
#    real terminal shows the sentence.
pre='SCCrypt: this console is encrypted; connect with sccrypt-term(1). What follows is not for a terminal.'
t_converse '' ':SCCRYPT:' "$T_TMP/plain.out" "$T_TMP/plain.err" \
	$SHIMCMD vm1 || t_fail "no HELLO from the shim: $(cat "$T_TMP/plain.err")"
[ "$(head -n 1 "$T_TMP/plain.out")" = "$(printf '%s\r' "$pre")" ] ||
	t_fail "the shim's first line is not the preamble: $(head -n 1 "$T_TMP/plain.out" | cat -v)"
[ "$(sed -n 2p "$T_TMP/plain.out")" = "$(printf '\r')" ] &&
	sed -n 3p "$T_TMP/plain.out" | grep -q '^:SCCRYPT:' ||
	t_fail "the HELLO does not follow the preamble line"
term_pane_script "$T_TMP/s2" "$SHIMCMD vm1"
tmux_start "$T_TMP/s2"
tmux_wait 'this console is encrypted; connect with sccrypt-term(1)'
t_pass "a human attaching with the shim reads the preamble first"
tmux_stop
