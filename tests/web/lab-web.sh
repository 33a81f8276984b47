#!/bin/sh
# `sccrypt-lab web vm1`: brings up the gateway (lab CA, token) in front of
# the lab's consoled, prints its URL, token and key files, and serves the
# page once through sccrypt-term web; the page is the built HTML with its
# CSP; the Node web client logs in with the printed token and runs a
# command; `sccrypt-lab down` stops the gateway too.
. "${top_srcdir:-.}/tests/lib.sh"
. "$top_srcdir/tests/web/lib.sh"
w_need_node
w_need_gate
t_need_cmds curl
. "$top_srcdir/tests/integration/lab-lib.sh"
lab_up --guest shell
t_bg "$LAB_BIN" -d "$LAB_DIR" web vm1 --no-browser >"$T_TMP/web.out" 2>"$T_TMP/web.err"
t_wait 300 grep -q '^http://127.0.0.1:' "$T_TMP/web.out" || { cat "$T_TMP/web.err" >&2; t_fail "no page URL"; }
url=$(head -n 1 "$T_TMP/web.out")
gw=$(sed -n 's/.*web console gateway: \(wss:[^ ]*\) .*/\1/p' "$T_TMP/web.err")
token=$(sed -n 's/.*gateway token: //p' "$T_TMP/web.err")
[ -n "$gw" ] && [ -n "$token" ] || { cat "$T_TMP/web.err" >&2; t_fail "no gateway URL or token printed"; }
case $url in *"#vm=vm1&gw=$gw&host="*) ;; *) t_fail "page URL $url does not carry $gw" ;; esac
t_pass "sccrypt-lab web: $gw, page at $url"

# The page: served once, exactly the built file, with its CSP.
curl -sf -m 10 "${url%%#*}" -o "$T_TMP/page.html" || t_fail "page not served"
cmp -s "$T_TMP/page.html" "$W/sccrypt-web.html" || t_fail "the served page is not the built one"
grep -q "Content-Security-Policy\" content=\"default-src 'none'; script-src 'sha384-" "$T_TMP/page.html" ||
	t_fail "no CSP with the script hash"
! curl -sf -m 5 "${url%%#*}" -o /dev/null || t_fail "the one-time URL served twice"
t_pass "page served once, identical to the build, CSP present"

# A session with the printed token and the lab owner's keys.
home=$LAB_DIR/owner
lab env >"$T_TMP/env" || t_fail "lab env"
rc=0
printf 'echo L$((30+12))B\n' | "$NODE" "$W/web-e2e.mjs" --url "$gw" --ca "$LAB_DIR/dom0/web/ca.pem" \
    --token "$token" --home "$home" --host "$(sed -n 's/^HOST=//p' "$T_TMP/env")" \
    --vm vm1 --origin null --expect L42B >"$T_TMP/s1" 2>"$T_TMP/s1.err" || rc=$?
[ "$rc" = 0 ] && grep -q L42B "$T_TMP/s1" || { cat "$T_TMP/s1.err" >&2; t_fail "lab web session: exit $rc"; }
t_pass "a web session to the lab's vm1 with the printed token (L42B)"
gpid=$(cat "$LAB_DIR/run/webgate.pid" 2>/dev/null) || t_fail "no webgate pid file"
lab -q down >/dev/null 2>&1 || t_fail "lab down"
! grep -q . "$LAB_DIR/run/webgate.pid" 2>/dev/null || t_fail "webgate pid left behind"
t_wait 100 sh -c "! kill -0 $gpid 2>/dev/null" ||
    { kill "$gpid"; t_fail "lab down left the gateway (pid $gpid) running"; }
t_pass "lab down stopped the gateway"
