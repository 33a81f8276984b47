#!/bin/sh
# term-spoof.sh — issue 12 item 3: a dom0 that fakes the encrypted session
# in the clear phase.  In tmux, with --status, the fake dom0 (before it
# lets a real session start) draws a fake status line in the bottom row, a
# byte-exact "[sccrypt] encrypted console to vm1 ..." notice in reverse
# video, probes the terminal (ESC [ 6 n, DA) and shows "login: ".  The
# screen must show all of it inert and marked: every row of dom0's text
# starts with the reverse-video "dom0 clear" marker, no escape sequence took
# effect (the fake notice is not in reverse video, the bottom row is ours
# and says NOT ENCRYPTED), the terminal did not answer the probes (nothing
# reaches the guest as typing); when the real session starts, the status
# says "encrypted" and a notice says that everything before was clear.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/integration/term-lib.sh"
command -v tmux >/dev/null 2>&1 || t_skip "no tmux"
term_setup

ROWS=30
visible() { tmux_ capture-pane -p; }		# the visible rows only
visible_attr() { tmux_ capture-pane -p -e; }	# ... with attributes
row() { visible | sed -n "${1}p"; }

# The fake dom0: the spoof, then (once the test has looked) a real session.
cat >"$T_TMP/evil-dom0.sh" <<EOS
printf '\0337\033[$ROWS;1H\033[7m sccrypt: vm1 @ $PEER_HOST | encrypted | ~? help\033[K\033[m\0338'
printf 'Welcome\r\n\033[7m[sccrypt] encrypted console to vm1 (hv key SC256:Zm9vYmFy, certificate); ~? for help\033[m\r\n'
printf '\033[6n\033[c\033]0;vm1 encrypted\007\033[2J\033[!p'
printf 'login: '
t=0; while [ ! -e "$T_TMP/go" ] && [ \$t -lt 600 ]; do sleep 0.1; t=\$((t+1)); done
exec $(term_peer_cmd)
EOS
term_pane_script "$T_TMP/s1" "$TERM_BIN --host $PEER_HOST --status --pipe $VM -- sh $T_TMP/evil-dom0.sh"
tmux_ -f /dev/null new-session -d -x 100 -y $ROWS "TERM=tmux-256color sh $T_TMP/s1"
tmux_ set-option -g remain-on-exit on >/dev/null
tmux_wait 'plogin:'

# the bottom row is ours, and says the truth
t_wait 50 sh -c "tmux -S '$TMUX_SOCK' capture-pane -p | sed -n ${ROWS}p | grep -q 'sccrypt: vm1 @ $PEER_HOST | NOT ENCRYPTED: clear text from dom0'" ||
	{ tmux_dump 40; t_fail "the status row does not say NOT ENCRYPTED"; }
[ "$(visible | grep -c '| encrypted')" = 1 ] || { tmux_dump 40; t_fail "the fake status line is shown more than once"; }
# every row with dom0's text starts with the marker
for text in '| encrypted' '\[sccrypt\] encrypted console to vm1' 'login:' 'Welcome'; do
	visible | grep -- "$text" >"$T_TMP/rows" || { tmux_dump 40; t_fail "'$text' not shown"; }
	grep -qv '^dom0 clear| ' "$T_TMP/rows" && { tmux_dump 40; t_fail "'$text' shown in a row without the marker"; }
done
# no escape sequence took effect: they are shown as text, the fake notice
# is not in reverse video (only the marker is), the screen was not cleared
visible | grep -q '\^\[\[6n\^\[\[c\^\[\]0;vm1 encrypted\^G\^\[\[2J\^\[\[!plogin:' ||
	{ tmux_dump 40; t_fail "the probes were not shown inert"; }
row 1 | grep -q '^dom0 clear| \^\[7\^\[\[30;1H' || { tmux_dump 40; t_fail "the screen was cleared"; }
visible_attr | grep 'encrypted console to vm1' >"$T_TMP/attr"
E=$(printf '\033')
sed "s/$E\[7mdom0 clear//" "$T_TMP/attr" | grep -q "$E\[7m" &&
	{ cat -v "$T_TMP/attr" >&2; t_fail "the fake notice is drawn in reverse video"; }
grep -q "^$E\[7mdom0 clear" "$T_TMP/attr" ||
	{ cat -v "$T_TMP/attr" >&2; t_fail "the marker is not in reverse video"; }
t_pass "the spoof is shown inert: marked rows, no escape takes effect, the status row says NOT ENCRYPTED"

# the real session starts: the status says so, and the user is told that
# everything before was clear; the terminal never answered the probes, so
# nothing reached the guest as typing
touch "$T_TMP/go"
tmux_wait "encrypted console to $VM"
tmux_wait 'the encrypted session starts here: everything shown above this line'
t_wait 50 sh -c "tmux -S '$TMUX_SOCK' capture-pane -p | sed -n ${ROWS}p | grep -q 'sccrypt: vm1 @ $PEER_HOST | encrypted'" ||
	{ tmux_dump 40; t_fail "the status row does not say encrypted"; }
tmux_wait 'guest\$'
tmux_ send-keys 'echo PROBE-$((2*3))' Enter
tmux_wait '^PROBE-6'
visible | grep -q 'guest\$ echo PROBE-\$((2\*3))$' ||
	{ tmux_dump 40; t_fail "something reached the guest before the user's typing"; }
tmux_ send-keys Enter '~.'
[ "$(term_wait_rc)" = 0 ] || t_fail "exit code"
term_check_stty "after the spoof"
t_pass "the real session: status encrypted, the clear phase called clear, no terminal reply reached the guest"
