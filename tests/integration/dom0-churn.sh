#!/bin/sh
# dom0-churn: client churn against one sccrypt-consoled.  200 clients
# connect to 20 protected domains (plus the observer's and the stalled
# reader's own domains), stream and disconnect in four ways: orderly BYE
# after a round trip, a burst of output then exit, EOF right after the
# HELLO, and vanishing in the middle of a frame (half a frame, then
# SIGKILL of the transport).  Meanwhile an observer session on its own
# domain keeps doing round trips, and a client that stops reading (its
# process is stopped) while its guest floods output must be dropped after
# stall_timeout without growing consoled.  Checks: consoled stays up, its RSS and
# fd count come back to their level before the churn (bounded), the
# observer never misses a beat, and every churn client got its answers.
. "${top_srcdir}/tests/lib.sh"
. "${top_srcdir}/tests/integration/dom0-lib.sh"

dom0_need_stack
CLIENTS=${DOM0_CHURN_CLIENTS:-200}
NDOM=${DOM0_CHURN_DOMAINS:-20}

names=""
i=1
while [ "$i" -le "$NDOM" ]; do
	names="$names d$i"
	i=$((i + 1))
done
dom0_keys
dom0_start_hv obs slow $names
dom0_start_consoled <<EOC
allow $(id -u) *
max_clients = 512
stall_timeout = 3
EOC

shim() { echo "$SHIM" -f "$T_TMP/sccrypt.conf" "$1"; }
uk="--user-key $T_TMP/user.key --quiet --timeout 60"

# Bind every domain (owner = our user key), in parallel.
bpids=""
for d in obs slow $names; do
	"$PROBE" $uk --vm-secret "$T_TMP/$d.secret" --protect-disk-key "$T_TMP/$d.vk" \
	    -- $(shim "$d") >"$T_TMP/bind-$d.out" 2>&1 &
	bpids="$bpids $!"
done
for p in $bpids; do wait "$p" || true; done
for d in obs slow $names; do
	grep -q '^protect status=0$' "$T_TMP/bind-$d.out" ||
	    { cat "$T_TMP/bind-$d.out" >&2; t_fail "binding $d"; }
done

# Observer: 60 round trips, 150 ms apart, through the whole churn.
steps=""
i=0
while [ "$i" -lt 60 ]; do
	steps="$steps --send echo\$((7000+$i)) --expect $((7000 + i)) --sleep 150"
	i=$((i + 1))
done
# shellcheck disable=SC2086
"$PROBE" $uk --timeout 120 --vm-secret "$T_TMP/obs.secret" $steps \
    -- $(shim obs) >"$T_TMP/observer.out" 2>"$T_TMP/observer.err" &
OBS=$!
T_PIDS="$T_PIDS $OBS"
t_wait 100 grep -q 'expect ok: 7000' "$T_TMP/observer.out" || t_fail "observer did not start"

pid=$CONSOLED_PID
rss0=$(rss_kb "$pid")
fd0=$(ls "/proc/$pid/fd" | wc -l)

# The stalled reader: it is stopped once its guest has started printing
# ~50 MB (stopping it any earlier could catch it before it sent the
# command: then nothing would ever stall).  The '' keeps the echoed
# command line from matching what the command prints.
"$PROBE" $uk --vm-secret "$T_TMP/slow.secret" \
    --send "yes stalled-''reader | head -c 50000000" --expect 'stalled-reader' \
    --sleep 60000 -- $(shim slow) >"$T_TMP/slow.out" 2>&1 &
SLOW=$!
T_PIDS="$T_PIDS $SLOW"
t_wait 300 grep -q '^expect ok: stalled-reader' "$T_TMP/slow.out" ||
    { cat "$T_TMP/slow.out" >&2; t_fail "slow reader did not start"; }
kill -STOP "$SLOW"

churn_one() {	# client number -> runs one client of kind n % 4 on domain d(n % NDOM + 1)
	n=$1
	d="d$((n % NDOM + 1))"
	sec="$T_TMP/$d.secret"
	case $((n % 4)) in
	0)	"$PROBE" $uk --takeover --vm-secret "$sec" --send "echo \$((100+$n))" \
		    --expect "$((100 + n))" -- $(shim "$d") ;;
	1)	"$PROBE" $uk --takeover --vm-secret "$sec" --send "seq 1 400" \
		    --expect "$(printf '399\r\n400')" -- $(shim "$d") ;;
	2)	"$PROBE" $uk --hello-only -- $(shim "$d") ;;
	3)	"$PROBE" $uk --takeover --vm-secret "$sec" --send "echo \$((500+$n))" \
		    --expect "$((500 + n))" --abort-mid-frame -- $(shim "$d") ;;
	esac >"$T_TMP/c$n.out" 2>"$T_TMP/c$n.err"
}

# Batches of NDOM clients, one per domain, so no two churn clients of a
# batch share a domain (a second writer would take the first one over).
n=0
fails=0
while [ "$n" -lt "$CLIENTS" ]; do
	b=0
	pids=""
	while [ "$b" -lt "$NDOM" ] && [ "$n" -lt "$CLIENTS" ]; do
		churn_one "$n" &
		pids="$pids $!"
		n=$((n + 1))
		b=$((b + 1))
	done
	for p in $pids; do
		wait "$p" || fails=$((fails + 1))
	done
	kill -0 "$pid" || t_fail "consoled died during the churn"
done
if [ "$fails" -gt 0 ]; then
	for f in "$T_TMP"/c*.err; do
		[ -s "$f" ] && { echo "== $f"; cat "$f"; }
	done | head -40 >&2
	t_fail "$fails of $CLIENTS churn clients failed"
fi
t_pass "$CLIENTS churn clients on $NDOM domains: all answered (BYE, burst, EOF after HELLO, mid-frame kill)"

t_wait 150 grep -q 'not reading for 3 s; dropped' "$T_TMP/consoled.log" ||
    t_fail "the stalled reader was not dropped"
kill -CONT "$SLOW"
wait "$SLOW" && t_fail "the stalled reader's session survived"
t_pass "a client that stopped reading was dropped after stall_timeout"

wait "$OBS" || { cat "$T_TMP/observer.err" >&2; t_fail "the observer session was disturbed"; }
[ "$(grep -c '^expect ok: ' "$T_TMP/observer.out")" = 60 ] || t_fail "observer missed round trips"
t_pass "observer session unaffected: 60/60 round trips during the churn"

# Everything the churn opened is gone again: fds back to the level before,
# memory bounded (one client's buffers are ~100 KiB; allow slack for the
# allocator, but not per-client growth).
t_wait 100 sh -c "[ \$(ls /proc/$pid/fd | wc -l) -le $fd0 ]" ||
    t_fail "consoled holds $(ls "/proc/$pid/fd" | wc -l) fds, $fd0 before the churn"
rss1=$(rss_kb "$pid")
echo "consoled RSS: ${rss0} KiB before, ${rss1} KiB after $CLIENTS clients"
[ "$rss1" -le $((rss0 + 8192)) ] || t_fail "consoled RSS grew from $rss0 to $rss1 KiB"
grep -q 'sessions\? .*lost\|hypervisor connection lost' "$T_TMP/consoled.log" &&
    t_fail "consoled lost the hypervisor"
t_pass "consoled up, fds back to $fd0, RSS bounded"
