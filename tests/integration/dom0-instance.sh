#!/bin/sh
# dom0-instance: one sccrypt-consoled per configuration, and what survives
# a consoled killed with -9 (issue 17, "Faults survived"):
#   1. a second consoled with the same configuration refuses ("already
#      running, pid N"), leaves the first one's socket and pid file alone,
#      and the first one keeps serving;
#   2. one with another pid file but the same socket refuses too (in use);
#   3. kill -9 of consoled mid-session: the client ends, the guest keeps
#      running, the stale socket and pid file do not stop a new consoled,
#      and a new session sees the guest's state (nothing restarted).
# And the same for sccrypt-hvsim: a second one on a live socket refuses.
# (A second daemon that wrongly starts is stopped by timeout 60.)
. "${top_srcdir}/tests/lib.sh"
. "${top_srcdir}/tests/integration/dom0-lib.sh"

dom0_need_stack
me=$(id -u)
dom0_keys
dom0_start_hv plain1
dom0_start_consoled <<EOC
allow $me plain1
EOC
FIRST=$CONSOLED_PID
shim() { env SSH_ORIGINAL_COMMAND="xenconsole plain1" "$SHIM" -f "$T_TMP/sccrypt.conf"; }
trip() {	# trip NAME: plaintext round trip through the shim
	t_converse "echo R\$((20+$2))R\\n" "R$((20 + $2))R" "$T_TMP/$1.out" "$T_TMP/$1.err" shim ||
	    { cat "$T_TMP/$1.err" >&2; t_fail "$1: no round trip"; }
}
trip first 1
t_wait 100 grep -q "^$FIRST\$" "$T_TMP/consoled.pid" || t_fail "pid file of the first consoled"

# --- 1. same configuration -------------------------------------------------
set +e
timeout 60 "$CONSOLED" -F -f "$T_TMP/sccrypt.conf" 2>"$T_TMP/second.log"
rc=$?
set -e
[ "$rc" != 0 ] || t_fail "a second consoled started"
grep -q "already running, pid $FIRST" "$T_TMP/second.log" ||
    { cat "$T_TMP/second.log" >&2; t_fail "no 'already running, pid $FIRST'"; }
kill -0 "$FIRST" || t_fail "the first consoled died"
[ -S "$T_TMP/cd.sock" ] || t_fail "the second consoled removed the socket"
grep -q "^$FIRST\$" "$T_TMP/consoled.pid" || t_fail "the pid file was changed"
trip after-second 2
t_pass "a second consoled (same configuration) refuses: already running, pid $FIRST"

# --- 2. same socket, another pid file --------------------------------------
sed "s|^pid_file = .*|pid_file = $T_TMP/other.pid|" "$T_TMP/sccrypt.conf" >"$T_TMP/other.conf"
set +e
timeout 60 "$CONSOLED" -F -f "$T_TMP/other.conf" 2>"$T_TMP/third.log"
rc=$?
set -e
[ "$rc" != 0 ] || t_fail "a consoled on a live socket started"
grep -q "cd.sock is in use" "$T_TMP/third.log" ||
    { cat "$T_TMP/third.log" >&2; t_fail "no 'in use'"; }
[ ! -e "$T_TMP/other.pid" ] || t_fail "the refused consoled left its pid file"
trip after-third 3
t_pass "a consoled on another pid file but the same socket refuses: in use"

# --- 3. kill -9 of consoled mid-session --------------------------------------
# The guest remembers state across sessions: a shell variable.
trip setvar 4
t_converse 'V=kept-$((40+2))\n' 'V=kept' "$T_TMP/var.out" "$T_TMP/var.err" shim ||
    t_fail "setting a variable in the guest"
mkfifo "$T_TMP/live.in"
shim <"$T_TMP/live.in" >"$T_TMP/live.out" 2>"$T_TMP/live.err" &
live=$!
exec 8>"$T_TMP/live.in"
printf 'echo L$((1+1))L\n' >&8
t_wait 300 grep -q L2L "$T_TMP/live.out" || t_fail "live session"
kill -9 "$FIRST"
t_wait 300 sh -c "! kill -0 $live" || t_fail "the client did not end when consoled died"
exec 8>&-
set +e
wait "$live"
rc=$?
set -e
# the shim says consoled cut the relay (issue 17: it exited 0 silently)
[ "$rc" = 69 ] || t_fail "client after consoled's death: exit $rc, expected 69"
grep -q 'sccrypt-consoled cut the relay' "$T_TMP/live.err" ||
    { cat "$T_TMP/live.err" >&2; t_fail "the shim did not report consoled's death"; }
[ -S "$T_TMP/cd.sock" ] && [ -e "$T_TMP/consoled.pid" ] ||
    t_fail "expected a stale socket and pid file after kill -9"
mv "$T_TMP/consoled.log" "$T_TMP/consoled.1.log"
dom0_start_consoled_again() {
	t_bg "$CONSOLED" -F -f "$T_TMP/sccrypt.conf" 2>"$T_TMP/consoled.log"
	CONSOLED_PID=$!
	t_wait 300 grep -q 'hypervisor (sim backend) key' "$T_TMP/consoled.log" ||
	    { cat "$T_TMP/consoled.log" >&2; t_fail "consoled did not start again"; }
}
dom0_start_consoled_again
t_wait 100 grep -q "^$CONSOLED_PID\$" "$T_TMP/consoled.pid" || t_fail "new pid file"
t_converse 'echo "$V"\n' 'kept-42' "$T_TMP/again.out" "$T_TMP/again.err" shim ||
    { cat "$T_TMP/again.err" >&2; t_fail "new session after kill -9: guest state lost"; }
grep -c 'console command started' "$T_TMP/hvsim.log" | grep -qx 1 ||
    t_fail "the guest was restarted"
t_pass "kill -9 of consoled: the shim reports it (exit 69), guest keeps running, stale socket/pid file replaced, new session sees the same shell"

# --- hvsim: a second one on the live socket ---------------------------------
set +e
timeout 60 "$HVSIM" --foreground -f "$T_TMP/hvsim.conf" 2>"$T_TMP/hv2.log"
rc=$?
set -e
[ "$rc" != 0 ] || t_fail "a second hvsim started"
grep -q 'another hvsim is listening' "$T_TMP/hv2.log" ||
    { cat "$T_TMP/hv2.log" >&2; t_fail "second hvsim: no clear refusal"; }
[ -S "$T_TMP/hv.sock" ] || t_fail "the second hvsim removed the socket"
trip hv-after 5
t_pass "a second hvsim on a live socket refuses; the first keeps serving"
