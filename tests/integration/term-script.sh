#!/bin/sh
# term-script.sh — sccrypt-term with standard input that is not a terminal
# (scripts, pipes) and the clear-phase rule, on the real attested stack
# (hvsim + consoled + the sccrypt-console shim) behind a real OpenSSH sshd.
#
# sshd's forced command plays a dom0 with something on the way: it prints
# a fake sudo prompt, copies everything the client sends to $T_TMP/dom0.in
# (what dom0 receives, before the shim), then runs the shim.  For every
# mode (libssh, --pipe, --wrap) a script's input must:
#   - reach the guest (hvsim's input log) and its output come back: 42;
#   - never appear in dom0.in in clear (it is held until the session is
#     open, then sent in encrypted records);
#   - end the session cleanly at EOF once the console is quiet (exit 0),
#     after --linger MS of quiet.
# At a terminal (tmux), clear-phase typing goes to dom0 only as the answer
# to a prompt that is showing; typing while no prompt shows is held for the
# VM (or discarded, with a notice, when a prompt then appears).
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/integration/term-lib.sh"
. "$top_srcdir/tests/integration/term-real-lib.sh"
command -v ssh >/dev/null 2>&1 || t_skip "no ssh client"

treal_up vm1

# The forced command.  SSH_ORIGINAL_COMMAND picks a variant:
#   (default)  a banner and a fake sudo prompt that reads nothing
#   slow       2 s of silence first (time to type ahead at a terminal)
#   prompt     a real prompt (echo off) whose answer goes to dom0.pw
# then the shim gets the real "sccrypt-console vm1".  With a pty (-t) the
# pty is made raw for the framed phase, as sccrypt-console does itself when
# it owns the terminal.
cat >"$T_TMP/forced.sh" <<EOS
#!/bin/sh
case "\$SSH_ORIGINAL_COMMAND" in
*slow*)	sleep 2 ;;
esac
case "\$SSH_ORIGINAL_COMMAND" in
*prompt*)
	[ -t 0 ] && stty -echo
	printf '[sudo] password for tenant: '
	IFS= read -r pw
	printf '%s\n' "\$pw" >>"$T_TMP/dom0.pw"
	printf '\r\n' ;;
*slow*)	;;
*)	printf 'dom0 banner\r\n[sudo] password for tenant: ' ;;
esac
[ -t 0 ] && stty raw -echo
SSH_ORIGINAL_COMMAND="sccrypt-console vm1"
export SSH_ORIGINAL_COMMAND
tee -a "$T_TMP/dom0.in" | $SHIM -f $T_TMP/sccrypt.conf
EOS
chmod +x "$T_TMP/forced.sh"
SSHD_FORCED="$T_TMP/forced.sh"
term_sshd
: >"$T_TMP/dom0.in"

SSHO="-p $SSHD_PORT -i $T_TMP/id_user -F /dev/null -o UserKnownHostsFile=$T_TMP/known_hosts -o StrictHostKeyChecking=yes -o BatchMode=yes"
CLIENT="$TERM_BIN -H $TREAL_HOST --strict-hv-key"
DEST="$SSH_USER@127.0.0.1"

# script MODE MARK [options]: pipe "echo MARK-$((6*7))" into a client.
script() {
	mode=$1 mark=$2; shift 2
	: >"$T_TMP/dom0.in"
	set +e
	case $mode in
	libssh)	printf 'echo %s-$((6*7))\n' "$mark" |
		    timeout 60 $CLIENT $SSHO "$@" $DEST vm1 ;;
	pipe)	printf 'echo %s-$((6*7))\n' "$mark" |
		    timeout 60 $CLIENT "$@" --pipe vm1 -- ssh -T $SSHO $DEST sccrypt-console vm1 ;;
	wrap)	printf 'echo %s-$((6*7))\n' "$mark" |
		    timeout 60 $CLIENT "$@" --wrap vm1 -- ssh -T $SSHO $DEST sccrypt-console vm1 ;;
	esac >"$T_TMP/out" 2>"$T_TMP/err"
	rc=$?
	set -e
}
check_script() {	# check_script WHAT MARK
	[ "$rc" = 0 ] || { cat "$T_TMP/out" "$T_TMP/err" >&2; t_fail "$1: exit $rc, want 0"; }
	grep -q "$2-42" "$T_TMP/out" || { cat "$T_TMP/out" >&2; t_fail "$1: no $2-42"; }
	grep -q "password for tenant" "$T_TMP/out" || t_fail "$1: the clear text was not shown"
	# the guest got the line, encrypted on the way
	guest_input vm1 | grep -qF "echo $2-\$((6*7))" || t_fail "$1: the guest never got the input"
	# dom0 saw traffic, but never the keystrokes in clear
	[ -s "$T_TMP/dom0.in" ] || t_fail "$1: the capture of dom0's input is empty"
	! grep -qa "$2" "$T_TMP/dom0.in" ||
	    { od -c "$T_TMP/dom0.in" | head >&2; t_fail "$1: the script's input reached dom0 in clear"; }
}

# 1. the three modes, a script on stdin
script libssh MARKLIBSSH
check_script "libssh mode" MARKLIBSSH
t_pass "libssh mode: piped input reaches the guest encrypted (42), never dom0 in clear; exit 0 at EOF"
script pipe MARKPIPE
check_script "--pipe behind ssh" MARKPIPE
t_pass "--pipe behind ssh -T: piped input reaches the guest encrypted (42), never dom0 in clear; exit 0 at EOF"
script wrap MARKWRAP
check_script "--wrap around ssh -T" MARKWRAP
t_pass "--wrap around ssh -T: piped input reaches the guest encrypted (42), never dom0 in clear; exit 0 at EOF"

# 2. exactly the documented example, and the local shim as the transport
set +e
printf 'echo $((6*7))\n' | timeout 60 $CLIENT --pipe vm1 -- $(shim_cmd vm1) >"$T_TMP/out" 2>"$T_TMP/err"
rc=$?
set -e
[ "$rc" = 0 ] || { cat "$T_TMP/err" >&2; t_fail "shim pipe: exit $rc"; }
grep -q '^42' "$T_TMP/out" || { cat "$T_TMP/out" >&2; t_fail "shim pipe: no 42"; }
t_pass "printf 'echo \$((6*7))' | sccrypt-term --pipe vm1 -- sccrypt-console ...: 42, exit 0"

# 3. a long script: far more than the session's typeahead bound, all of it
# arrives in order (stdin is not read before the session is open, so
# nothing waits in a bounded buffer of the client's)
i=0
while [ $i -lt 400 ]; do
	printf ': %03d xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n' $i
	i=$((i + 1))
done >"$T_TMP/long.sh"
echo 'echo LONG-$((20+22))-END' >>"$T_TMP/long.sh"
: >"$T_TMP/dom0.in"
n0=$(guest_input vm1 | wc -c)
set +e
timeout 90 $CLIENT --linger 2000 $SSHO $DEST vm1 <"$T_TMP/long.sh" >"$T_TMP/out" 2>"$T_TMP/err"
rc=$?
set -e
[ "$rc" = 0 ] || { cat "$T_TMP/err" >&2; t_fail "long script: exit $rc"; }
grep -q 'LONG-42-END' "$T_TMP/out" || { tail -5 "$T_TMP/out" >&2; t_fail "long script: no LONG-42-END"; }
guest_input vm1 | tail -c +$((n0 + 1)) >"$T_TMP/long.got"
cmp -s "$T_TMP/long.sh" "$T_TMP/long.got" ||
	t_fail "long script: the guest got $(wc -c <"$T_TMP/long.got") bytes, not the $(wc -c <"$T_TMP/long.sh") of the script"
! grep -qa 'xxxxxxxxxxxxxxxxxxxx' "$T_TMP/dom0.in" || t_fail "long script: input in clear at dom0"
t_pass "a $(wc -c <"$T_TMP/long.sh")-byte script arrives whole and in order at the guest, nothing in clear at dom0"

# 4. --linger: the session waits for MS of quiet after EOF
printf 'sleep 2; echo LATE-$((2*3))-OUT\n' |
	timeout 60 $CLIENT --linger 5000 $SSHO $DEST vm1 >"$T_TMP/out" 2>"$T_TMP/err" ||
	{ cat "$T_TMP/err" >&2; t_fail "--linger 5000: exit status"; }
grep -q 'LATE-6-OUT' "$T_TMP/out" || { cat "$T_TMP/out" >&2; t_fail "--linger 5000: output after 2 s lost"; }
printf 'sleep 4; echo TOOLATE-$((2*3))-OUT\n' |
	timeout 60 $CLIENT --linger 300 $SSHO $DEST vm1 >"$T_TMP/out" 2>"$T_TMP/err" ||
	{ cat "$T_TMP/err" >&2; t_fail "--linger 300: exit status"; }
! grep -q 'TOOLATE-6-OUT' "$T_TMP/out" || t_fail "--linger 300: the session did not end after 300 ms of quiet"
set +e
$CLIENT --linger 12x $DEST vm1 </dev/null >/dev/null 2>"$T_TMP/err"
rc=$?
set -e
[ "$rc" = 64 ] && grep -q 'linger takes milliseconds' "$T_TMP/err" || t_fail "--linger 12x: exit $rc"
t_pass "--linger MS: output within MS of quiet after EOF is shown, then an orderly close (exit 0); bad values are usage errors"

# 5. at a terminal: typing before the HELLO with no prompt showing is held
# for the VM (encrypted); dom0 never sees it
pane_tty() { tmux_ display-message -p '#{pane_tty}'; }
tty_is_raw() { stty -F "$(pane_tty)" -a | grep -q -- '-icanon'; }
: >"$T_TMP/dom0.in"
treal_pane t1 "$CLIENT $SSHO -c 'sccrypt-console vm1 slow' $DEST vm1"
t_wait 100 tty_is_raw || t_fail "the client never made its terminal raw"
tmux_ send-keys 'echo EARLY-$((5*5))-TYPED' Enter	# dom0 is still silent
tmux_wait "encrypted console to vm1"
tmux_wait 'EARLY-25-TYPED'
! grep -qa 'EARLY' "$T_TMP/dom0.in" || t_fail "typeahead at a terminal reached dom0 in clear"
tmux_ send-keys Enter '~.'
[ "$(term_wait_rc)" = 0 ] || t_fail "terminal typeahead: exit code"
term_check_stty "typeahead at a terminal"
t_pass "at a terminal, what is typed while no prompt is showing goes to the VM encrypted, not to dom0"
tmux_stop

# 6. at a terminal: a clear-phase prompt (remote pty, -t) is answered in
# clear; what was typed before it appeared is discarded with a notice
: >"$T_TMP/dom0.in"
rm -f "$T_TMP/dom0.pw"
treal_pane t2 "$CLIENT $SSHO -t -c 'sccrypt-console vm1 slow prompt' $DEST vm1"
t_wait 100 tty_is_raw || t_fail "the client never made its terminal raw"
tmux_ send-keys 'TOO-EARLY'		# the forced command is still asleep
tmux_wait 'password for tenant:'
tmux_wait '9 bytes typed before this prompt appeared were not sent'
tmux_ send-keys 'sudopw' Enter
tmux_wait "encrypted console to vm1"
t_wait 50 test -s "$T_TMP/dom0.pw" || t_fail "the prompt's answer never reached dom0"
[ "$(cat "$T_TMP/dom0.pw")" = sudopw ] || t_fail "dom0's prompt read '$(cat "$T_TMP/dom0.pw")', not sudopw"
tmux_has sudopw && t_fail "the answer was echoed"
tmux_ send-keys Enter
guest_run 'echo P$((6*7))Q' P42Q
! grep -qa 'P\$((6\*7))Q' "$T_TMP/dom0.in" || t_fail "console typing reached dom0 in clear"
! guest_input vm1 | grep -q 'TOO-EARLY' || t_fail "bytes typed before the prompt reached the guest"
tmux_ send-keys Enter '~.'
[ "$(term_wait_rc)" = 0 ] || t_fail "prompt: exit code"
term_check_stty "clear-phase prompt"
t_pass "at a terminal, a clear-phase prompt is answered in clear; earlier typing is discarded with a notice"
tmux_stop
