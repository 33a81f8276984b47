#!/bin/sh
# sccrypt-term under tmux (TERM=tmux-256color), pipe mode: a console
# session, escapes, terminal restored after ~., remote death and SIGTERM,
# a 1 MiB paste, tamper detection, and the refusals (expired certificate,
# a HELLO with a key the certificate does not cover, no certificate).
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/integration/term-lib.sh"
command -v tmux >/dev/null 2>&1 || t_skip "no tmux"
term_setup

PIPE="$TERM_BIN --host $PEER_HOST --pipe $VM --"

# 1. a session: the guest computes, ~# shows the session, ~. ends it (exit 0)
term_pane_script "$T_TMP/s1" "$PIPE $(term_peer_cmd)"
tmux_start "$T_TMP/s1"
tmux_wait "encrypted console to $VM"
tmux_wait 'guest\$'
tmux_ send-keys 'echo $((6*7))' Enter
tmux_wait '^42'
tmux_ send-keys Enter '~#'
tmux_wait 'Noise_IKpsk2_25519_ChaChaPoly_BLAKE2b'
tmux_wait 'records sent'
tmux_ send-keys Enter '~?'
tmux_wait 'disconnect'
# ~W: a serial console has no size channel; the escape types the stty
# command with this pane's size for the guest (issue 18 item 9)
tmux_ send-keys 'stty size | sed s/^/SIZE-/' Enter
tmux_wait '^SIZE-24 80'
tmux_ send-keys Enter '~W'
tmux_wait "typing for the guest: stty rows $T_TMUX_ROWS cols $T_TMUX_COLS"
tmux_ send-keys 'stty size | sed s/^/SIZE-/' Enter
tmux_wait "^SIZE-$T_TMUX_ROWS $T_TMUX_COLS"
tmux_ send-keys Enter '~.'
[ "$(term_wait_rc)" = 0 ] || t_fail "~. exit code"
term_check_stty "after ~."
t_pass "session, escapes, ~W sets the guest's window size, ~. restores the terminal"

# 2. the remote dies: no hv CLOSE, so exit 5 (issue 12 item 9), terminal restored
term_pane_script "$T_TMP/s2" "$PIPE $(term_peer_cmd)"
tmux_start "$T_TMP/s2"
tmux_wait 'guest\$'
kill -9 "$(cat "$T_TMP/peer.pid")"
[ "$(term_wait_rc)" = 5 ] || t_fail "remote death exit code"
term_check_stty "after remote death"
t_pass "remote death restores the terminal (exit 5: no close handshake)"

# 3. SIGTERM to sccrypt-term: terminal restored, the reason said, exit 143
#    (the pane's shell execs the client in the foreground: its pid is $$)
term_pane_script "$T_TMP/s3" "sh -c 'echo \$\$ >$T_TMP/term.pid; exec $PIPE $(term_peer_cmd)'"
tmux_start "$T_TMP/s3"
tmux_wait 'guest\$'
kill -TERM "$(cat "$T_TMP/term.pid")"
[ "$(term_wait_rc)" = 143 ] || t_fail "SIGTERM exit code"
tmux_wait 'sccrypt-term: ended by signal 15 (Terminated)'
term_check_stty "after SIGTERM"
t_pass "SIGTERM restores the terminal, says why it ended (exit 143)"

# 4. a 1 MiB paste arrives complete and in order
head -c 1048576 /dev/urandom >"$T_TMP/paste.bin"
base64 "$T_TMP/paste.bin" >"$T_TMP/paste.b64"
want=$(sha256sum <"$T_TMP/paste.bin" | cut -d' ' -f1)
term_pane_script "$T_TMP/s4" "$PIPE $(term_peer_cmd)"
tmux_start "$T_TMP/s4"
tmux_wait 'guest\$'
# paste once the guest has turned echo off (its answer, not a fixed wait)
tmux_ send-keys "stty -echo; echo NOECHO\$((6*7)); base64 -d | sha256sum; stty echo" Enter
tmux_wait '^NOECHO42'
tmux_ load-buffer "$T_TMP/paste.b64"
tmux_ paste-buffer -d
tmux_ send-keys C-d
t_wait 600 tmux_has "^$want" || { tmux_screen | tail -5 >&2; t_fail "1 MiB paste checksum"; }
tmux_ send-keys Enter '~.'
[ "$(term_wait_rc)" = 0 ] || t_fail "exit after paste"
term_check_stty "after paste"
t_pass "1 MiB paste arrives complete (sha256 $want)"

# 5. tampering: a flipped bit in an output record
term_pane_script "$T_TMP/s5" "$PIPE $(term_peer_cmd --tamper 3)"
tmux_start "$T_TMP/s5"
tmux_wait 'guest\$'
# the peer seals one record per read of the guest's pty, and reads can
# merge (echo + output): type lines until the third record has gone out
for i in 1 2 3 4 5 6; do
	[ -s "$T_TMP/rc" ] && break
	tmux_ send-keys "echo line-$i" Enter
	t_wait 10 test -s "$T_TMP/rc" || true
done
[ "$(term_wait_rc)" = 5 ] || t_fail "tamper exit code"
tmux_wait 'connection tampered with'
term_check_stty "after tamper"
t_pass "tampering detected (exit 5), terminal restored"
tmux_stop

# 6. refusals (no terminal: nothing can be asked)
refuse() {	# refuse WHAT EXPECTED-CODE TEXT ARGS...
	what=$1 code=$2 text=$3; shift 3
	set +e
	$PIPE $(term_peer_cmd "$@") </dev/null >"$T_TMP/out" 2>"$T_TMP/err"
	rc=$?
	set -e
	[ "$rc" = "$code" ] || { cat "$T_TMP/err" >&2; t_fail "$what: exit $rc, want $code"; }
	grep -q -- "$text" "$T_TMP/err" || { cat "$T_TMP/err" >&2; t_fail "$what: message"; }
	t_pass "refused: $what"
}
refuse "expired certificate" 4 "expired" --cert expired
refuse "HELLO with a key the certificate does not cover (fake dom0)" 4 "is not the one the VMM certificate" --fake-key
refuse "certificate for another host" 4 "another host" --host other.test
refuse "no certificate with a key server pinned (dom0 withheld it)" 4 "dom0 withheld the VMM certificate" --cert none

# ... unless the user trusts that key explicitly
fp=$(sed -n 's/.*use --trust-hv-key \(SC256:[A-Za-z0-9+/]*\).*/\1/p' "$T_TMP/err")
[ -n "$fp" ] || t_fail "no fingerprint in the refusal"
set +e
printf 'echo $((6*7))\n' | $TERM_BIN --trust-hv-key "$fp" --pipe $VM -- \
	$(term_peer_cmd --cert none) >"$T_TMP/out" 2>"$T_TMP/err"
rc=$?
set -e
[ "$rc" = 0 ] || { cat "$T_TMP/err" >&2; t_fail "--trust-hv-key: exit $rc"; }
grep -q "term-testpeer: dom0 banner" "$T_TMP/out" || t_fail "clear text not passed through"
grep -qE '(^|[$] )42' "$T_TMP/out" || { cat "$T_TMP/out" >&2; t_fail "scripted input"; }
t_pass "--trust-hv-key accepts the fingerprint it names; scripted stdin works"
