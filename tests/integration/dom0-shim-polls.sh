#!/bin/sh
# dom0-shim-polls: the dom0 shim relays a keystroke and its echo with one
# poll() per direction (issue 17, the load tail).  A byte read from one
# side is written to the other at once, without waiting in poll() for the
# other side to be writable first (it almost always is; only a write that
# would block falls back to poll).  The shim used to poll twice per
# direction: four polls, two wake-ups' worth of kernel entries more per
# keystroke, on each of the 1000 shims of tests/bench/run's load step.
#
# 200 keystrokes through the shim (plaintext relay, xenconsole plain1),
# each waiting for its echo, under strace -c: at most 2.5 polls each
# (before the fix: 4).
. "${top_srcdir}/tests/lib.sh"
. "${top_srcdir}/tests/integration/dom0-lib.sh"

dom0_need_stack
command -v strace >/dev/null 2>&1 || t_skip "strace not installed"
strace -o /dev/null true 2>/dev/null || t_skip "strace cannot trace in this environment"
me=$(id -u)
dom0_start_hv plain1
dom0_start_consoled <<EOC
allow $me plain1
EOC

N=200
python3 - "$N" "$T_TMP/strace.txt" "$SHIM" "$T_TMP/sccrypt.conf" <<'PY' >"$T_TMP/drive.out" 2>"$T_TMP/drive.err" ||
import os, select, subprocess, sys, time
n, trace, shim, conf = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
env = dict(os.environ, SSH_ORIGINAL_COMMAND='xenconsole plain1')
p = subprocess.Popen(['strace', '-c', '-e', 'trace=poll,ppoll', '-o', trace,
                      shim, '-f', conf], stdin=subprocess.PIPE,
                     stdout=subprocess.PIPE, env=env)
fd = p.stdout.fileno()

def wait_for(want, timeout=60):
    got, end = b'', time.monotonic() + timeout
    while want not in got:
        left = end - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            sys.exit('timed out waiting for %r, got %r' % (want, got[-200:]))
        b = os.read(fd, 4096)
        if not b:
            sys.exit('EOF waiting for %r' % want)
        got += b
    return got

p.stdin.write(b'echo SY""NC\n'); p.stdin.flush()
wait_for(b'SYNC')
time.sleep(0.5)				# let the prompt arrive: drained below
while select.select([fd], [], [], 0.2)[0]:
    os.read(fd, 4096)
for i in range(n):
    p.stdin.write(b'a'); p.stdin.flush()
    wait_for(b'a')
p.stdin.write(b'\n'); p.stdin.close()
p.wait(timeout=60)
print('typed', n)
PY
    { cat "$T_TMP/drive.err" "$T_TMP/drive.out" >&2; t_fail "the keystrokes did not go through the shim"; }
polls=$(awk '$NF == "poll" || $NF == "ppoll" { s += $4 } END { print s + 0 }' "$T_TMP/strace.txt")
echo "polls: $polls for $N keystrokes" >&2
[ "$polls" -gt 0 ] || { cat "$T_TMP/strace.txt" >&2; t_fail "strace counted no poll at all"; }
limit=$((N * 5 / 2))
[ "$polls" -le "$limit" ] ||
    { cat "$T_TMP/strace.txt" >&2; t_fail "the shim polled $polls times for $N keystrokes (limit $limit)"; }
t_pass "the shim relays a keystroke and its echo with $polls polls per $N keystrokes (limit $limit)"
