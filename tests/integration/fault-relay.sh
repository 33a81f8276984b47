#!/bin/sh
# fault-relay.sh — faults on the dom0 path of a live session (issue 17,
# "faults survived, nothing lost"), the real stack as in nothing-lost.sh.
# Each case: the client (or the shim) says what happened, the guest keeps
# running, a new session works, nothing typed arrives twice or gets lost
# that the design keeps (PROTOCOL.md §5.6, §9.3, §10 "Stalled sessions").
#   1. dom0 silently drops part of a frame and then forwards nothing (the
#      connection stays open): the client's authenticated keepalive goes
#      unanswered and it says the session is stalled and how to leave;
#      leaving works (exit 5: no hv CLOSE), the chopped keystroke never
#      reaches the guest.
#   2. consoled stopped (SIGSTOP) for 10 s while the user types: the session
#      goes on once it continues; every line typed arrives exactly once.
#   3. the shim killed (-9) under a live session: the client exits 5 saying
#      the session ended without the hv's CLOSE; what was typed before
#      arrived once; a new session works.
# (kill -9 of consoled: nothing-lost.sh part 3; of the shim after the
# client's EOF: dom0-eof.sh.)
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/integration/attack-lib.sh"
atk_need
me=$(id -u)

dom0_keys
atk_start_tpm
atk_start_ks "$T_TMP/ks-main" main
atk_enroll main $HOSTNAME_
atk_start_hv vm1
atk_attest main $HOSTNAME_ "$T_TMP/vmm.cert"
dom0_start_consoled <<EOC
allow $me vm1
EOC
atk_client_setup
atk_bind vm1
CMD=$(shim_cmd vm1)
CTL=$T_TMP/relay.ctl
mkfifo "$CTL"

# arrived TEXT: how often the guest received the line "echo TEXT"
arrived() { grep -a -c "^echo $1\$" "$T_TMP/vm1.input.lines" || true; }
input_lines() { tr '\r' '\n' <"$T_TMP/vm1.input" >"$T_TMP/vm1.input.lines"; }
# alive TAG: a new session on vm1 round-trips
alive() {
	cli_start "$1" --pipe vm1 -- $CMD
	cli_type "$1" 'echo ALIVE$((6*7))
'
	cli_wait "$1" ALIVE42 300
	cli_type "$1" "~."
	[ "$(cli_rc "$1")" = 0 ] || { cat "$T_TMP/$1.err" >&2; t_fail "$1: new session exit"; }
	cli_close "$1"
}

# ---- 1. a chopped frame: the session stalls, the client says so ----------------
: >"$T_TMP/relay.log"
cli_start a --pipe vm1 -- "$RELAY" --log "$T_TMP/relay.log" --ctl "$CTL" -- $CMD
cli_type a 'echo RT$((1+1))
'
cli_wait a RT2 300
cli_quiet a
printf 'chop c2s\n' >"$CTL"
t_wait 50 grep -q 'armed chop c2s' "$T_TMP/relay.log" ||
    { cat "$T_TMP/relay.log" >&2; t_fail "the relay did not take 'chop'"; }
cli_type a 'echo CHOPPED1
'
t_wait 50 grep -q 'did chop c2s' "$T_TMP/relay.log" || t_fail "nothing was chopped"
# keepalive 2 s after the input, stall declared 10 s later: 30 s at most
t_wait 300 grep -a -q 'the session is stalled' "$T_TMP/a.out" "$T_TMP/a.err" ||
    { tail -c 600 "$T_TMP/a.out" >&2; cat "$T_TMP/a.err" >&2
      t_fail "the client did not say that the session is stalled"; }
grep -a -q "~\. by default) to leave" "$T_TMP/a.out" "$T_TMP/a.err" ||
    t_fail "the stall notice does not say how to leave"
[ ! -e "$T_TMP/a.rc" ] || t_fail "the client ended by itself on a stall"
cli_type a "~."
rc=$(cli_rc a 300)
[ "$rc" = 5 ] || { cat "$T_TMP/a.err" >&2; t_fail "exit $rc after leaving a stalled session, expected 5"; }
cli_close a
input_lines
[ "$(arrived CHOPPED1)" = 0 ] || t_fail "the chopped keystrokes reached the guest"
alive b
t_pass "dom0 chops a frame and goes silent: 'session is stalled' shown with how to leave, ~. exits 5, a new session works"

# ---- 2. consoled stopped for 10 s under typing ------------------------------
cli_start c --pipe vm1 -- $CMD
cli_type c 'stty -echo; echo GO$((2+3))
'
cli_wait c GO5 300
kill -STOP "$CONSOLED_PID"
i=0
while [ $i -lt 10 ]; do	# typing while consoled is stopped (one line a second)
	i=$((i + 1))
	cli_type c "echo TYPED$i\$((1000+$i))
"
	sleep 1	# the fault lasts 10 s (a duration, not a synchronisation)
done
kill -CONT "$CONSOLED_PID"
cli_wait c TYPED101010 600
cli_type c 'stty echo; echo AFTER$((3+4))
'
cli_wait c AFTER7 300
[ ! -e "$T_TMP/c.rc" ] || t_fail "the session ended while consoled was stopped"
cli_type c "~."
[ "$(cli_rc c 300)" = 0 ] || { cat "$T_TMP/c.err" >&2; t_fail "exit after consoled resumed"; }
cli_close c
input_lines
i=0
while [ $i -lt 10 ]; do
	i=$((i + 1))
	n=$(grep -a -c "^echo TYPED$i\\\$((1000+$i))\$" "$T_TMP/vm1.input.lines" || true)
	[ "$n" = 1 ] || t_fail "line $i typed while consoled was stopped arrived $n times"
	grep -a -q "TYPED$i$((1000 + i))" "$T_TMP/c.out" || t_fail "no output for line $i"
done
kill -0 "$CONSOLED_PID" || t_fail "consoled died"
t_pass "consoled stopped 10 s under typing: the session went on, 10 lines typed meanwhile arrived once each"

# ---- 3. the shim killed under a live session ----------------------------------
cli_start d --pipe vm1 -- $CMD
cli_type d 'echo BEFORE$((5+5))
'
cli_wait d BEFORE10 300
shim_pid=
for p in $(cat /proc/"$(cat "$T_TMP/d.rc.pid")"/task/*/children 2>/dev/null); do shim_pid=$p; done
[ -n "$shim_pid" ] || t_fail "no shim process under the client"
grep -q sccrypt-console "/proc/$shim_pid/cmdline" || t_fail "$shim_pid is not the shim"
kill -9 "$shim_pid"
rc=$(cli_rc d 300)
[ "$rc" = 5 ] || { cat "$T_TMP/d.err" >&2; t_fail "client exit $rc when the shim died, expected 5"; }
grep -a -q "without the hypervisor's CLOSE" "$T_TMP/d.err" ||
    { cat "$T_TMP/d.err" >&2; t_fail "the client did not say the session was cut"; }
cli_close d
alive e
input_lines
[ "$(grep -a -c '^echo BEFORE\$((5+5))$' "$T_TMP/vm1.input.lines")" = 1 ] ||
    t_fail "the line typed before the shim died did not arrive exactly once"
t_pass "shim killed (-9): the client exits 5 (no hv CLOSE), input before it arrived once, a new session works"
