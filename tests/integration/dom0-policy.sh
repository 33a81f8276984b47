#!/bin/sh
# dom0-policy: no local user can lock the others out of sccrypt-consoled,
# and a revoked user keeps nothing open.
#   1. Two unprivileged users (nobody and daemon, no allow rule) each try to
#      hold max_clients idle connections: each gets max_clients_per_user,
#      and an allowed user is still served (a connection still in the
#      request phase gives way to it).
#   2. Revocation: sessions of root on vm1 (encrypted) and plain1 (plaintext
#      relay) and on vm2; the allow rules for vm1 and plain1 are removed and
#      consoled gets SIGHUP: both of those clients end promptly, vm2's
#      session carries on.
. "${top_srcdir}/tests/lib.sh"
. "${top_srcdir}/tests/integration/dom0-lib.sh"

dom0_need_stack
[ "$(id -u)" = 0 ] || t_skip "needs root (connections as other users)"
command -v setpriv >/dev/null 2>&1 || t_skip "setpriv not installed"
PY=/usr/bin/python3	# not a per-user shim: other users run it
[ -x "$PY" ] || t_skip "$PY not installed"
daemon_uid=$(id -u daemon 2>/dev/null) || t_skip "no user daemon"
chmod 0755 "$T_TMP"

dom0_keys
dom0_start_hv vm1 vm2 plain1
policy() {
	printf 'max_clients = 16\nmax_clients_per_user = 6\nrequest_timeout = 120\n'
	printf 'stall_timeout = 120\n'
	for vm in "$@"; do printf 'allow 0 %s\n' "$vm"; done
}
policy vm1 vm2 plain1 >"$T_TMP/policy"
dom0_start_consoled <"$T_TMP/policy"

# --- 1. idle connections from users without any allow rule ----------------
cat >"$T_TMP/hold.py" <<'PY'
import socket, sys, select
path, n = sys.argv[1], int(sys.argv[2])    # argv[3]: a fifo
socks = []
for _ in range(n):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    socks.append(s)
# A refused connection gets "ERR busy" and EOF at once (an accepted one
# hears nothing until request_timeout): count until 1 s without news.
closed = set()
while True:
    r, _, _ = select.select([s for s in socks if s not in closed], [], [], 1.0)
    if not r:
        break
    closed.update(r)
print("open=%d" % (n - len(closed)), flush=True)
open(sys.argv[3]).read()    # hold them until the fifo is closed
PY
mkfifo "$T_TMP/hold.in"
exec 3<>"$T_TMP/hold.in"
for u in 65534 "$daemon_uid"; do
	t_bg setpriv --reuid "$u" --regid "$u" --clear-groups \
	    "$PY" "$T_TMP/hold.py" "$T_TMP/cd.sock" 16 "$T_TMP/hold.in" >"$T_TMP/hold.$u"
done
for u in 65534 "$daemon_uid"; do
	t_wait 100 test -s "$T_TMP/hold.$u" || t_fail "holder $u did not report"
	[ "$(cat "$T_TMP/hold.$u")" = "open=6" ] ||
	    t_fail "uid $u holds $(cat "$T_TMP/hold.$u") idle connections, expected 6"
done
# 12 idle connections of others out of 16: the allowed user gets through.
for i in 1 2 3 4 5 6; do
	"$SHIM" -f "$T_TMP/sccrypt.conf" --info vm1 >"$T_TMP/info.out" 2>"$T_TMP/info.err" ||
	    t_fail "allowed user refused ($i): $(cat "$T_TMP/info.err")"
	grep -q '^vm=vm1 ' "$T_TMP/info.out" || t_fail "info: $(cat "$T_TMP/info.out")"
done
t_pass "unprivileged users capped at max_clients_per_user; allowed user served"

# A full table of request-phase connections gives way to an allowed user.
policy vm1 vm2 plain1 | sed 's/^max_clients_per_user = .*/max_clients_per_user = 16/' \
    >"$T_TMP/p2"
{ grep -v '^max_clients\|^request_timeout\|^stall_timeout\|^allow' "$T_TMP/sccrypt.conf"
  cat "$T_TMP/p2"; } >"$T_TMP/sccrypt.conf.new"
mv "$T_TMP/sccrypt.conf.new" "$T_TMP/sccrypt.conf"
kill -HUP "$CONSOLED_PID"
t_wait 50 grep -q 'configuration reloaded' "$T_TMP/consoled.log" || t_fail "no reload"
t_bg setpriv --reuid 65534 --regid 65534 --clear-groups \
    "$PY" "$T_TMP/hold.py" "$T_TMP/cd.sock" 16 "$T_TMP/hold.in" >"$T_TMP/hold.full"
t_wait 100 test -s "$T_TMP/hold.full" || t_fail "holder did not report"
# A user without any allow rule fills the table but makes no room for itself.
[ "$(cat "$T_TMP/hold.full")" = "open=4" ] ||
    t_fail "third holder: $(cat "$T_TMP/hold.full"), expected open=4"
grep -q 'closed in the request phase' "$T_TMP/consoled.log" &&
    t_fail "a user without allow rules closed others' connections"
"$SHIM" -f "$T_TMP/sccrypt.conf" --info vm1 >"$T_TMP/info.out" 2>"$T_TMP/info.err" ||
    t_fail "allowed user refused with a full table: $(cat "$T_TMP/info.err")"
grep -q 'closed in the request phase to make room' "$T_TMP/consoled.log" ||
    t_fail "no request-phase connection gave way"
exec 3>&-
t_pass "a table full of idle request-phase connections gives way to an allowed user"

# --- 2. revocation ends open sessions --------------------------------------
uk="--user-key $T_TMP/user.key --timeout 60"
t_bg "$PROBE" $uk --vm-secret "$T_TMP/vm1.secret" --protect-disk-key "$T_TMP/vm1.vk" \
    --send 'echo r""eady' --expect ready --sleep 40000 --send 'echo a""fter' --expect after \
    -- "$SHIM" -f "$T_TMP/sccrypt.conf" vm1 >"$T_TMP/p1.out" 2>"$T_TMP/p1.err"
p1=$!
t_bg "$PROBE" $uk --vm-secret "$T_TMP/vm2.secret" --protect-disk-key "$T_TMP/vm2.vk" \
    --send 'echo r""eady' --expect ready --sleep 3000 --send 'echo a""fter' --expect after \
    -- "$SHIM" -f "$T_TMP/sccrypt.conf" vm2 >"$T_TMP/p2.out" 2>"$T_TMP/p2.err"
p2=$!
mkfifo "$T_TMP/raw.in"
exec 4<>"$T_TMP/raw.in"
# (t_bg's command would get /dev/null as its input: redirect inside.)
t_bg sh -c 'SSH_ORIGINAL_COMMAND="xenconsole plain1" exec "$0" -f "$1" <"$2" >/dev/null 2>"$3"' \
    "$SHIM" "$T_TMP/sccrypt.conf" "$T_TMP/raw.in" "$T_TMP/raw.err"
praw=$!
t_wait 300 grep -q 'expect ok: ready' "$T_TMP/p1.out" || t_fail "vm1 session did not start"
t_wait 300 grep -q 'expect ok: ready' "$T_TMP/p2.out" || t_fail "vm2 session did not start"
t_wait 100 grep -q 'PLAINTEXT relay for unprotected domain plain1' "$T_TMP/consoled.log" ||
    t_fail "plain1 relay did not start"
grep -v '^allow 0 vm1$\|^allow 0 plain1$' "$T_TMP/sccrypt.conf" >"$T_TMP/sccrypt.conf.new"
mv "$T_TMP/sccrypt.conf.new" "$T_TMP/sccrypt.conf"
t0=$(date +%s%N)
kill -HUP "$CONSOLED_PID"
# Before this was fixed both stayed open (vm1's probe sleeps 40 s).
t_wait 50 sh -c "! kill -0 $p1 2>/dev/null && ! kill -0 $praw 2>/dev/null" ||
    t_fail "revoked clients still open 5 s after the reload"
ms=$((($(date +%s%N) - t0) / 1000000))
grep -q 'no longer allowed on vm1' "$T_TMP/consoled.log" || t_fail "vm1 not revoked"
grep -q 'no longer allowed on plain1' "$T_TMP/consoled.log" || t_fail "plain1 not revoked"
grep -q 'expect ok: after' "$T_TMP/p1.out" && t_fail "revoked vm1 session kept going"
wait "$p2" || { cat "$T_TMP/p2.out" "$T_TMP/p2.err" >&2; t_fail "vm2 session (still allowed) broken"; }
grep -q 'expect ok: after' "$T_TMP/p2.out" || t_fail "vm2 session did not go on"
exec 4>&-
t_pass "revoked user's vm1 session and plain1 relay closed ${ms} ms after SIGHUP; vm2 kept"
