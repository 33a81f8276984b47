#!/bin/sh
# term-status.sh — sccrypt-term --status on the real, attested stack, in
# tmux: the status line (VM, host, "encrypted") is drawn in the bottom row;
# output scrolls above it; full-screen drawing in the guest (a tput script,
# and vi when the system has one) is not corrupted and cannot reach it; a
# tmux resize-window moves it to the new bottom row (SIGWINCH); on exit the
# whole screen is given back and the terminal restored.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/integration/term-lib.sh"
. "$top_srcdir/tests/integration/term-real-lib.sh"

treal_up vm1
STATUS="sccrypt: vm1 @ $TREAL_HOST | encrypted"

visible() { tmux_ capture-pane -p; }	# the visible rows only
row() { visible | sed -n "${1}p"; }	# row N (1-based)
rows() { tmux_ display-message -p '#{pane_height}'; }
status_ok() {	# the status line is in the bottom row, and only there
	h=$(rows)
	row "$h" | grep -q -- "$STATUS" && [ "$(visible | grep -c 'sccrypt: vm1')" = 1 ]
}
wait_status() {
	t_wait 50 status_ok || { tmux_dump 40; t_fail "status line not (only) in the bottom row: $1"; }
}

cat >"$T_TMP/pane" <<EOS
stty -a >"$T_TMP/stty.before"
$TERM_BIN -H $TREAL_HOST --strict-hv-key --status --pipe vm1 -- $(shim_cmd vm1)
echo "rc=\$?" >"$T_TMP/rc"
stty -a >"$T_TMP/stty.after"
seq 1 60
echo PANE-END
sleep 600
EOS
tmux_ -f /dev/null new-session -d -x 100 -y 30 "TERM=tmux-256color sh $T_TMP/pane"
tmux_ set-option -g remain-on-exit on >/dev/null
tmux_wait "encrypted console to vm1"
wait_status "after the handshake"
t_pass "status line '$STATUS' in the bottom row"

# output scrolls in the rows above it
tmux_ send-keys Enter
guest_run 'seq 1000 1100; echo S$((2*5))T' S10T
wait_status "after 100 lines of output"
[ "$(row 27)" = 1100 ] && [ "$(row 28)" = S10T ] ||
	{ tmux_dump 40; t_fail "output did not scroll above the status line"; }
t_pass "output scrolls above the status line"

# a tput-drawing script in the guest: clear, absolute positions, and a
# position beyond the guest's rows (clamped: the status row stays ours)
tmux_ send-keys 'stty rows 29 cols 100; export TERM=vt220' Enter
cat >"$T_TMP/draw.sh" <<'EOS'
tput clear; tput cup 5 10; printf MARK-A; tput cup 28 0; printf MARK-B
tput cup 45 20; printf MARK-C; tput cup 12 0; printf MARK-D
while [ ! -e "$1" ]; do sleep 0.1; done	# the screen stays until checked
EOS
tmux_ send-keys "sh $T_TMP/draw.sh $T_TMP/draw.go" Enter
tmux_wait MARK-D
wait_status "after tput clear and cup"
row 6 | grep -q '^          MARK-A' || { tmux_dump 40; t_fail "MARK-A not at row 6, column 11"; }
row 29 | grep -q "^MARK-B              MARK-C" || { tmux_dump 40; t_fail "MARK-B/MARK-C not in the last guest row"; }
row 13 | grep -q '^MARK-D' || { tmux_dump 40; t_fail "MARK-D not at row 13"; }
t_pass "tput clear/cup in the guest: drawing intact, status line redrawn, nothing reaches its row"
touch "$T_TMP/draw.go"
guest_run 'echo D$((3*3))D' D9D

# vi: a full-screen editor scrolling with its own scroll region
if command -v vi >/dev/null 2>&1; then
	tmux_ send-keys 'seq 1 300 >'"$T_TMP"'/lines; vi -u NONE -i NONE '"$T_TMP"'/lines' Enter
	tmux_wait '^28$'
	tmux_ send-keys 100G
	tmux_wait '^114$'
	tmux_ send-keys jjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjj
	tmux_ send-keys k
	t_wait 50 sh -c "tmux -S '$TMUX_SOCK' capture-pane -p | sed -n 28p | grep -qx 178" ||
		{ tmux_dump 40; t_fail "vi did not scroll to line 178"; }
	wait_status "in vi"
	# every text row holds consecutive numbers: nothing scrolled wrongly
	visible | sed -n 1,28p >"$T_TMP/vi-rows"
	first=$(head -1 "$T_TMP/vi-rows")
	seq "$first" $((first + 27)) | cmp -s - "$T_TMP/vi-rows" ||
		{ tmux_dump 40; t_fail "vi's screen is corrupted"; }
	tmux_ send-keys Escape ':q!' Enter
	# vi flushes typeahead as it leaves: wait until it is gone (the guest
	# is a local process of hvsim's)
	vi_gone() { ! pgrep -f "[v]i -u NONE -i NONE $T_TMP/lines" >/dev/null; }
	t_wait 100 vi_gone || t_fail "vi did not quit"
	guest_run 'echo V$((4*4))I' V16I
	wait_status "after vi"
	t_pass "vi in the guest scrolls through a file with rows 1-28 intact and the status line untouched"
else
	echo "note: no vi on this system; the tput script covers full-screen drawing"
fi

# SIGWINCH: tmux resizes the window, the status line follows the bottom row.
# A resize resets the terminal's scroll region; the client has handled it
# when the region again ends just above the bottom row (tmux's own view of
# the pane: an event, not a delay).  Issue 17: after growing, a scroll
# region the guest had set for its old size (vi's, for 29 rows) was
# applied again, the cursor was left below it and the next output line
# landed on the status row; and the old status row was cleared by number,
# erasing a line of output that the terminal had moved there from history.
region_ok() {
	[ "$(tmux_ display-message -p '#{scroll_region_upper} #{scroll_region_lower}')" = "0 $(($1 - 2))" ]
}
resized() {	# resized ROWS: the pane has ROWS rows and the client set its region
	t_wait 100 test "$(rows)" = "$1" || t_fail "resize to $1 rows"
	t_wait 100 region_ok "$1" ||
		{ tmux_dump 40; t_fail "the scroll region was not set again after the resize to $1 rows"; }
	wait_status "after the resize to $1 rows"
}
# The guest rows must survive a resize as one block, none erased.
kept() {	# kept FILE: FILE's lines appear, in order and contiguous, on the screen
	visible >"$T_TMP/now"
	python3 - "$1" "$T_TMP/now" <<'PY'
import sys
want = [l.rstrip() for l in open(sys.argv[1])]
have = [l.rstrip() for l in open(sys.argv[2])]
while want and not want[0]: want.pop(0)
while want and not want[-1]: want.pop()
n = len(want)
sys.exit(0 if any(have[i:i + n] == want for i in range(len(have) - n + 1)) else 1)
PY
}
tmux_ resize-window -x 90 -y 24
resized 24
guest_run 'echo W$((3*7))X' W21X
wait_status "after output at 24 rows"
visible | sed -n 1,23p >"$T_TMP/rows24"
tmux_ resize-window -x 110 -y 36
resized 36
kept "$T_TMP/rows24" || { tmux_dump 40; t_fail "growing to 36 rows erased or moved guest output"; }
guest_run 'echo W$((3*8))X' W24X
wait_status "after output at 36 rows"
[ "$(row 35)" = "# " ] || [ "$(row 35)" = "#" ] || { tmux_dump 40; t_fail "the prompt is not in the last guest row"; }
[ "$(row 34)" = W24X ] || { tmux_dump 40; t_fail "W24X is not right above the prompt"; }
t_pass "resize-window: the status line is redrawn in the new bottom row, once; no output lost or overwritten"

# ~. gives the whole screen back and restores the terminal
tmux_ send-keys Enter '~.'
[ "$(term_wait_rc)" = 0 ] || t_fail "exit code"
tmux_wait PANE-END
[ "$(row 35)" = PANE-END ] || { tmux_dump 40; t_fail "the scroll region was not reset at exit"; }
visible | grep -q 'sccrypt: vm1' && { tmux_dump 40; t_fail "the status line was left on the screen"; }
term_check_stty "--status"
t_pass "after ~. the full screen scrolls again, no status line left, terminal restored"
