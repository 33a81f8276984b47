#!/bin/sh
# C<->JS record round trip: the JS client code (web/src, bundled) against
# the C core (lib/core via tests/web/xrecord-peer) over binary frames:
# handshake, 300 records over every padding size, REKEY both ways, PING,
# the close handshake with counts; a tampered record gets CLOSE(PROTOCOL).
. "${top_srcdir:-.}/tests/lib.sh"
. "$top_srcdir/tests/web/lib.sh"
w_need_node
PEER=$top_builddir/tests/web/xrecord-peer
[ -x "$PEER" ] || t_fail "xrecord-peer not built"
rc=0
"$NODE" "$W/web-xrecord.mjs" "$PEER" >"$T_TMP/out" 2>&1 || rc=$?
cat "$T_TMP/out"
[ "$rc" -eq 0 ] || t_fail "web-xrecord exited $rc"
tail -n 1 "$T_TMP/out" | grep -qx '7 passed, 0 failed, 0 skipped' || t_fail "summary"
[ "$(grep -c 'xrecord-peer: closed: 303 records in' "$T_TMP/out")" -eq 2 ] ||
    t_fail "the C side did not count 303 records in each encoding"
grep -q 'xrecord-peer: open: authentication failed' "$T_TMP/out" || t_fail "the C side did not refuse"
t_pass "C<->JS records agree"
