#!/bin/sh
# dom0-guest-flood: a guest that writes its console as fast as it can while
# nobody watches costs dom0 a bounded share (issue 14 item 1; the Xen lab's
# console storm left dom0 too busy to answer ssh).  consoled drains an
# unwatched unprotected domain into its backlog at most guest_output_rate
# bytes/s (as xenconsoled rate-limits a guest), so the guest, whose
# console then stays full, gets no further than that rate allows (plus the
# buffers on the way: the pty, hvsim's queue, the ring and one bucket).
# Before, consoled read as fast as the guest wrote: megabytes a second.
# Then a plaintext client attaches: it gets the backlog and then reads at
# its own pace, unthrottled.
# The window is a measured duration, not a synchronisation: a slow machine
# only makes the guest write less, never more.
. "${top_srcdir}/tests/lib.sh"
. "${top_srcdir}/tests/integration/dom0-lib.sh"

dom0_need_stack
me=$(id -u)
RATE=65536
WINDOW=4
# The guest: 100-byte lines, numbered, and the count in a file every 100.
cat >"$T_TMP/flood.sh" <<EOS
stty -echo -onlcr 2>/dev/null
i=0
while :; do
	printf 'F%08d-%090d\n' \$i 0
	i=\$((i + 1))
	if [ \$((i % 100)) = 0 ]; then
		echo \$i >"$T_TMP/count.tmp"; mv "$T_TMP/count.tmp" "$T_TMP/count"
	fi
done
EOS
printf 'socket = %s\nhistory = 65536\n\n[domain plain1]\ndomid = 1\nuuid = %s\ncommand = /bin/sh %s\n' \
    "$T_TMP/hv.sock" "$(cat /proc/sys/kernel/random/uuid)" "$T_TMP/flood.sh" >"$T_TMP/hvsim.conf"
t_bg "$HVSIM" --foreground -f "$T_TMP/hvsim.conf" 2>"$T_TMP/hvsim.log"
t_wait 100 test -S "$T_TMP/hv.sock" || t_fail "sccrypt-hvsim did not start"
dom0_start_consoled <<EOC
guest_output_rate = $RATE
allow $me plain1
EOC
# The guest is writing once the count appears.
t_wait 300 test -s "$T_TMP/count" || t_fail "the guest never wrote"
c0=$(cat "$T_TMP/count")
t0=$(date +%s%N)
sleep "$WINDOW"
c1=$(cat "$T_TMP/count")
ms=$((($(date +%s%N) - t0) / 1000000))
lines=$((c1 - c0))
# What the rate allows over the window, plus 256 KB of buffers and slack.
bound=$(( (RATE * ms / 1000 + 262144) / 100 ))
echo "guest wrote $lines lines (100 bytes) in $ms ms; bound $bound"
[ "$lines" -le "$bound" ] ||
    t_fail "an unwatched guest was drained at $((lines * 100 * 1000 / ms)) bytes/s, over guest_output_rate $RATE"

# A plaintext client reads at its own pace: lines keep coming, in order.
mkfifo "$T_TMP/in"
exec 3<>"$T_TMP/in"	# the client's input stays open (no EOF) while it reads
t_bg env SSH_ORIGINAL_COMMAND="xenconsole plain1" "$SHIM" -f "$T_TMP/sccrypt.conf" <"$T_TMP/in" >"$T_TMP/client.out" 2>"$T_TMP/client.err"
t_wait 300 sh -c "[ \$(grep -c '^F' '$T_TMP/client.out') -ge $((bound * 2)) ]" ||
    t_fail "the attached client got $(grep -c '^F' "$T_TMP/client.out") lines: $(cat "$T_TMP/client.err")"
python3 - "$T_TMP/client.out" <<'PY' || t_fail "the client's lines are not in order"
import sys
prev = None
for raw in open(sys.argv[1], 'rb').read().split(b'\n')[1:-1]:	# the first may be cut by the backlog
	if not raw.startswith(b'F'):
		continue
	n = int(raw[1:9])
	if prev is not None and n != prev + 1:
		sys.exit("line %d after %d" % (n, prev))
	prev = n
PY
t_pass
