#!/bin/sh
# term-session.sh — the interactive session of sccrypt-term on the real,
# attested stack (hvsim + consoled + shim), driven in tmux:
#   ~B + key    SysRq reaches the guest (hvsim's guest prints "sysrq: ...")
#   ~C          the readline command line: help, status, rekey, log on/off,
#               history N
#   ~R, ~#      rekey (traffic still flows), session information
#   ~^Z         suspends cleanly; fg resumes with the terminal raw again
#   --history   output produced while detached is replayed on attach; the
#               lost-output notice is local and styled apart from guest output
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/integration/term-lib.sh"
. "$top_srcdir/tests/integration/term-real-lib.sh"

treal_up vm1 vm2
# vm2 keeps only hvsim's minimum history (2048 bytes): output overflows it
"$TERM_BIN" -H $TREAL_HOST --strict-hv-key vm protect vm2 --history-size 2048 \
	-- $(shim_cmd vm2) </dev/null >"$T_TMP/out" 2>&1 ||
	{ cat "$T_TMP/out" >&2; t_fail "re-bind vm2 with a small history"; }
CLIENT="$TERM_BIN -H $TREAL_HOST --strict-hv-key"

# reverse_at FILE TEXT: is TEXT drawn in reverse video in a capture-pane -e
# dump (SGR state carries over lines: tmux only writes changes)?
reverse_at() {
	python3 - "$1" "$2" <<'PY'
import re, sys
data = open(sys.argv[1], encoding="utf-8", errors="replace").read()
want = sys.argv[2]
rev = False
pos = 0
for m in re.finditer(r"\x1b\[([0-9;]*)m|" + re.escape(want), data):
    if m.group(0) == want:
        print("reverse" if rev else "normal")
        sys.exit(0)
    for p in (m.group(1) or "0").split(";"):
        if p in ("", "0", "27"):
            rev = False
        elif p == "7":
            rev = True
print("absent")
PY
}

pane_tty() { tmux_ display-message -p '#{pane_tty}'; }
tty_is_raw() { stty -F "$(pane_tty)" -a | grep -q -- '-icanon' &&
	stty -F "$(pane_tty)" -a | grep -q -- '-echo '; }
tty_is_cooked() { stty -F "$(pane_tty)" -a | grep -q -- ' icanon' &&
	stty -F "$(pane_tty)" -a | grep -q -- ' echo '; }

# ---- 1. ~B SysRq, ~R, ~#, ~C ------------------------------------------------
treal_pane s1 "$CLIENT --pipe vm1 -- $(shim_cmd vm1)"
tmux_wait "encrypted console to vm1"
tmux_ send-keys Enter
guest_run 'echo A$((1+1))B' A2B

# ~B then h: the hv writes ^O h into the guest's ring (Linux hvc: SysRq)
tmux_ send-keys Enter '~B'
tmux_wait "break: press the SysRq key"
tmux_ send-keys h
tmux_wait "sysrq: HELP : reboot(b)"
tmux_wait "SysRq 'h' delivered"
guest_input vm1 | od -An -c | tr -s ' ' | grep -q '017 h' ||
	t_fail "the guest's console did not receive ^O h"
# ~B then Esc: cancelled, nothing sent
n0=$(guest_input vm1 | wc -c)
tmux_ send-keys Enter '~B' Escape
tmux_wait "break cancelled"
# ~B then a key the hv would reject (space): refused locally, session lives
tmux_ send-keys Enter '~B' Space
tmux_wait "not a SysRq key"
guest_run 'echo A$((2+2))B' A4B
guest_input vm1 | od -An -tx1 | tr -d ' \n' | grep -q '0f20' &&
	t_fail "a ^O space reached the guest"
t_pass "~B + h: SysRq reaches the guest (sysrq: HELP on the console), Esc cancels, bad keys refused locally"

# ~R: rekey, then traffic still flows both ways
tmux_ send-keys Enter '~R'
tmux_wait "rekeyed (send direction)"
guest_run 'echo R$((5+5))K' R10K
tmux_ send-keys Enter '~#'
tmux_wait 'rekeys 1 / 0'
tmux_wait "VM vm1 on $TREAL_HOST, state encrypted"
tmux_wait "certificate for $TREAL_HOST"
tmux_wait 'cipher Noise_IKpsk2_25519_ChaChaPoly_BLAKE2b'
tmux_wait 'session age 0h00m'
t_pass "~R rekeys and the session goes on; ~# shows VM, host, key, certificate, cipher, counters, age"

# ~C: the command line
tmux_ send-keys Enter '~C'
tmux_wait '^sccrypt>'
tmux_ send-keys help Enter
tmux_wait 'log on FILE | log off'
tmux_ send-keys '~C'		# the escape after a command line is a new line
tmux_wait '^sccrypt>'
tmux_ send-keys 'frobnicate' Enter
tmux_wait "unknown command 'frobnicate'"
tmux_ send-keys '~C'
tmux_wait '^sccrypt>'
tmux_ send-keys status Enter
count() { tmux_screen | grep -c -- "$1"; }
t_wait 50 test "$(count 'domain .*hv key')" = 2 ||
	{ tmux_dump; t_fail "~C status: no session information"; }
tmux_ send-keys '~C'
tmux_wait '^sccrypt>'
tmux_ send-keys rekey Enter
t_wait 50 test "$(count 'rekeyed (send direction)')" = 2 ||
	t_fail "~C rekey"
guest_run 'echo R$((6+6))K' R12K
# log on FILE: the decrypted guest output goes to the file, until log off
tmux_ send-keys Enter '~C'
tmux_wait '^sccrypt>'
tmux_ send-keys "log on $T_TMP/console.log" Enter
tmux_wait "logging decrypted console output to $T_TMP/console.log"
guest_run 'echo L$((7*7))G' L49G
tmux_ send-keys '~C'
tmux_wait '^sccrypt>'
tmux_ send-keys 'log off' Enter
tmux_wait 'console log off'
guest_run 'echo N$((8*8))L' N64L
grep -q L49G "$T_TMP/console.log" || t_fail "log on: the guest output is not in the file"
! grep -q N64L "$T_TMP/console.log" || t_fail "log off: the file still grows"
[ "$(stat -c %a "$T_TMP/console.log")" = 600 ] || t_fail "log file mode"
# history N: the hv replays the last N bytes of the console
tmux_ send-keys '~C'
tmux_wait '^sccrypt>'
tmux_ send-keys 'history 300' Enter
tmux_wait 'asked the hypervisor to replay up to 300 bytes'
tmux_wait 'end of history replay ('
# the last output came back a second time, replayed from the hv's buffer
[ "$(count '^N64L')" = 2 ] || { tmux_dump; t_fail "history 300: no replay"; }
n=$(tmux_screen | sed -n 's/.*end of history replay (\([0-9]*\) bytes).*/\1/p')
[ "$n" -gt 100 ] && [ "$n" -le 300 ] || t_fail "history 300 replayed $n bytes"

# the readline history: Up recalls the last command
tmux_ send-keys '~C'
tmux_wait '^sccrypt>'
tmux_ send-keys Up
tmux_wait 'sccrypt> history 300'
tmux_ send-keys C-u Enter
guest_run 'echo H$((9*9))S' H81S
t_pass "~C: help, unknown command, status, rekey, log on/off (0600 file with the guest output), history N, readline history"

# ~. ends the session; the terminal is as before
tmux_ send-keys Enter '~.'
[ "$(term_wait_rc)" = 0 ] || t_fail "exit code after ~C"
term_check_stty "after ~C / ~B / ~R"
tmux_stop

# ---- 2. ~^Z suspends; fg resumes raw ---------------------------------------
tmux_ -f /dev/null new-session -d -x 120 -y 40 "TERM=tmux-256color bash --norc --noprofile --noediting -i"
tmux_ set-option -g remain-on-exit on >/dev/null
t_wait 50 tty_is_cooked || t_fail "the shell's terminal is not cooked"
tmux_ send-keys "PS1='shell> '" Enter
tmux_ send-keys "$CLIENT --pipe vm1 -- $(shim_cmd vm1)" Enter
tmux_wait "encrypted console to vm1"
t_wait 50 tty_is_raw || t_fail "session terminal not raw"
tmux_ send-keys Enter
guest_run 'echo Z$((2*3))Z' Z6Z
tmux_ send-keys Enter '~' C-z
tmux_wait 'Stopped'
t_wait 50 tty_is_cooked || t_fail "suspended: the terminal was not restored"
tmux_ send-keys 'echo SHELL-$((1+4))' Enter
tmux_wait 'SHELL-5'
tmux_ send-keys fg Enter
t_wait 50 tty_is_raw || t_fail "fg: the terminal is not raw again"
guest_run 'echo F$((3*3))G' F9G
tmux_ send-keys Enter '~.'
tmux_wait 'disconnecting'
tmux_ send-keys 'echo rc=$?' Enter		# fg's status is the job's
tmux_wait 'rc=0'
t_wait 50 tty_is_cooked || t_fail "after ~.: the terminal is not cooked"
t_pass "~^Z suspends with the terminal restored; fg resumes raw; the session goes on"
tmux_stop

# ---- 3. --history: output made while detached, replayed on attach ----------
treal_pane h1 "$CLIENT --pipe vm1 -- $(shim_cmd vm1)"
tmux_wait "encrypted console to vm1"
tmux_ send-keys Enter
guest_run 'echo P$((1+2))Q' P3Q
# the guest prints while no session is attached, terminal queries among it
# (what vim sends at start-up: cursor position, device attributes, colour)
tmux_ send-keys "sleep 2; printf '\\033[6n\\033[c\\033]11;?\\007'; echo DETACHED-\$((6*7))-OUTPUT; touch $T_TMP/det1" Enter Enter '~.'
[ "$(term_wait_rc)" = 0 ] || t_fail "detach: exit code"
term_check_stty "detach"
# The guest (a local shell under hvsim) says when it has printed.
t_wait 600 test -e "$T_TMP/det1" || t_fail "the guest did not print while detached"
n0=$(guest_input vm1 | wc -c)
treal_pane h2 "$CLIENT --history 4096 --pipe vm1 -- $(shim_cmd vm1)"
tmux_wait "encrypted console to vm1"
tmux_wait 'DETACHED-42-OUTPUT'
tmux_wait 'end of history replay'
tmux_has 'bytes of console output were lost' && t_fail "vm1: a loss was reported"
# issue 18 item 1: the replayed queries were not answered into the guest:
# after a round trip, the guest received exactly what was typed
tmux_ send-keys Enter
guest_run 'echo H$((2+2))H' H4H
guest_input vm1 | tail -c +$((n0 + 1)) >"$T_TMP/after-replay"
printf '\recho H$((2+2))H\r' | cmp -s - "$T_TMP/after-replay" ||
	{ od -c "$T_TMP/after-replay" >&2; t_fail "the replay made the terminal type into the guest"; }
tmux_ send-keys Enter '~.'
[ "$(term_wait_rc)" = 0 ] || t_fail "history: exit code"
term_check_stty "history replay"
t_pass "--history: output produced while detached is replayed on attach"

# vm2 keeps 2048 bytes: more is lost, and the client says how much, locally
treal_pane h3 "$CLIENT --pipe vm2 -- $(shim_cmd vm2)"
tmux_wait "encrypted console to vm2"
tmux_ send-keys Enter
guest_run 'echo P$((2+2))Q' P4Q
tmux_ send-keys "sleep 2; seq 100001 101000; echo LAST-\$((5*5))-LINE; touch $T_TMP/det2" Enter Enter '~.'
[ "$(term_wait_rc)" = 0 ] || t_fail "vm2 detach"
t_wait 600 test -e "$T_TMP/det2" || t_fail "vm2: the guest did not print while detached"
treal_pane h4 "$CLIENT --history 1024 --pipe vm2 -- $(shim_cmd vm2)"
tmux_wait 'LAST-25-LINE'
tmux_wait 'bytes of console output were lost while no session was attached (before the replayed history above)'
# said where the gap is: after the replay, not scrolled away above it
tmux_screen | grep -n 'end of history replay\|bytes of console output were lost\|LAST-25-LINE' |
	cut -d: -f1 | tr '\n' ' ' >"$T_TMP/order"
set -- $(cat "$T_TMP/order")
[ $# = 3 ] && [ "$1" -lt "$2" ] && [ "$2" -lt "$3" ] ||
	{ tmux_dump; t_fail "replay / end / lost notice order: $(cat "$T_TMP/order")"; }
lost=$(tmux_screen | sed -n 's/.*\[sccrypt\] \([0-9]*\) bytes of console output were lost.*/\1/p' | head -1)
[ -n "$lost" ] && [ "$lost" -ge 4000 ] || t_fail "lost count '$lost' (about 7 KB were produced)"
[ "$(tmux_screen | grep -c 'bytes of console output were lost')" = 1 ] ||
	t_fail "the loss was reported more than once"
tmux_has '^100001$' && t_fail "bytes reported lost were shown"
# the notice is drawn apart from guest output: reverse video, [sccrypt]
tmux_ capture-pane -p -e -S -200 >"$T_TMP/attrs"
[ "$(reverse_at "$T_TMP/attrs" 'bytes of console output were lost')" = reverse ] ||
	t_fail "the lost-output notice is not in reverse video"
[ "$(reverse_at "$T_TMP/attrs" 'LAST-25-LINE')" = normal ] ||
	t_fail "guest output drawn like a notice"
tmux_ send-keys Enter '~.'
[ "$(term_wait_rc)" = 0 ] || t_fail "vm2 history: exit code"
term_check_stty "history with loss"
t_pass "--history with a small buffer: the tail is replayed, the $lost lost bytes are reported once, as a local reverse-video [sccrypt] notice"
