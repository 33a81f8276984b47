#!/bin/sh
# dom0-eof: input the client sent before it ended is delivered, however
# slowly the guest takes it (issue 17, "nothing lost").  A client pastes
# 55 KB in encrypted records, sends BYE and closes while the guest is not
# reading.  Each case must deliver all of it, in order, once the guest reads:
#   a. the guest reads only 12 s after the client's EOF.  The shim used to
#      give up 10 s after its stdin EOF and close the socket; consoled then
#      took the hang-up for EOF and dropped what it had not read yet, and
#      dropped the records it had read but not decoded (all but one).
#   b. the shim is killed (-9) after the client's EOF: consoled reads what
#      the shim had written before it died and delivers it.
# The shim must end by itself in case a (exit 0, consoled's BYE seen).
. "${top_srcdir}/tests/lib.sh"
. "${top_srcdir}/tests/integration/dom0-lib.sh"

dom0_need_stack
me=$(id -u)
dom0_keys
dom0_start_hv vm1
dom0_start_consoled <<EOC
allow $me vm1
EOC
shim() { echo "$SHIM" -f "$T_TMP/sccrypt.conf" "$1"; }

# 55 KB of numbered lines (100 bytes each), sent as 3000-byte records.
python3 - "$T_TMP/paste" <<'PY'
import sys
with open(sys.argv[1], 'w') as f:
    for i in range(550):
        f.write('L%05d-%s\n' % (i, '0' * 93))
PY
size=$(wc -c <"$T_TMP/paste")

# child_of PID: the first child process of PID (empty if none)
child_of() { for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do echo "$c"; return; done; }

# paste TAG: start the probe (its pid in $probe); the guest reads nothing
# until the file GO.TAG exists, then exactly $size bytes into got.TAG.
paste() {
	cmd="stty -echo; while [ ! -e $T_TMP/GO.$1 ]; do sleep 0.1; done; head -c $size >$T_TMP/got.$1"
	python3 - "$PROBE" "$T_TMP" "$cmd" $(shim vm1) <<'PY' >"$T_TMP/probe.$1.out" 2>"$T_TMP/probe.$1.err" &
import os, sys
probe, tmp, cmd = sys.argv[1:4]
data = open(tmp + '/paste').read()
args = [probe, '--user-key', tmp + '/user.key', '--vm-secret', tmp + '/vm1.secret',
        '--protect-disk-key', tmp + '/vm1.vk', '--timeout', '120', '--send', cmd]
for i in range(0, len(data), 3000):
    args += ['--send-raw', data[i:i + 3000]]
os.execv(probe, args + ['--'] + sys.argv[4:])
PY
	probe=$!
	t_wait 600 grep -q '^input closed' "$T_TMP/probe.$1.out" ||
	    { cat "$T_TMP/probe.$1.out" "$T_TMP/probe.$1.err" >&2
	      t_fail "$1: the client did not finish sending"; }
	grep -q '^handshake ok' "$T_TMP/probe.$1.out" || t_fail "$1: no session"
}
# delivered TAG: the guest got the whole paste, unchanged
delivered() {
	t_wait 900 sh -c "[ \"\$(wc -c <$T_TMP/got.$1 2>/dev/null)\" = $size ]" ||
	    { tail -5 "$T_TMP/consoled.log" >&2
	      t_fail "$1: the guest got $(wc -c <"$T_TMP/got.$1" 2>/dev/null || echo 0) of $size bytes pasted before EOF"; }
	cmp -s "$T_TMP/paste" "$T_TMP/got.$1" || t_fail "$1: the paste arrived changed"
}

# ---- a. the guest reads 12 s after the client's EOF ------------------------
paste a
# The fault is a guest that does not read for longer than the shim's old
# 10 s limit: a fixed time by design, not a synchronisation.
sleep 12
kill -0 "$probe" 2>/dev/null || t_fail "a: the shim ended before the input was delivered"
touch "$T_TMP/GO.a"
delivered a
wait "$probe" || true
grep -q 'sccrypt-console:' "$T_TMP/probe.a.err" &&
    { cat "$T_TMP/probe.a.err" >&2; t_fail "a: the shim reported a problem"; }
t_pass "55 KB pasted, then EOF, guest reading 12 s later: all of it delivered, in order"

# ---- b. the shim killed after the client's EOF ------------------------------
paste b
shim_pid=$(child_of "$probe")
[ -n "$shim_pid" ] || t_fail "b: no shim process"
kill -9 "$shim_pid"
# consoled has not read everything (the guest takes nothing): a hang-up
t_wait 300 grep -q 'hung up with\|EOF with' "$T_TMP/consoled.log" ||
    t_fail "b: consoled did not notice the shim's end"
touch "$T_TMP/GO.b"
delivered b
wait "$probe" || true
t_pass "55 KB pasted, then EOF, shim killed (-9) before the guest read: all of it delivered"
