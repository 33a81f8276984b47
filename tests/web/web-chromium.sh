#!/bin/sh
# The web console in a real browser: Debian's chromium, headless, driven by
# puppeteer-core (web/test/browser.js) against the attested hvsim stack
# through sccrypt-webgate (wss://, lab CA pinned by SPKI).  The first page
# comes from `sccrypt-term web` (one-time URL on 127.0.0.1), the others are
# the same HTML file opened from disk.  See browser.js for the scenarios;
# then the eavesdrop check on the gateway's log.  A screenshot of the
# session is left in the build directory (web-console.png).
. "${top_srcdir:-.}/tests/lib.sh"
. "$top_srcdir/tests/web/lib.sh"
w_need_node
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
[ -n "$CHROMIUM" ] || t_skip "chromium not installed"
[ -d "$W/node_modules/puppeteer-core" ] || t_fail "puppeteer-core missing from $W/node_modules"
. "$top_srcdir/tests/integration/term-lib.sh"
. "$top_srcdir/tests/integration/term-real-lib.sh"
w_need_gate
CERTTOOL=$top_builddir/tests/helpers/term-certtool

treal_up vm1
w_start_gate
echo "$WG_PID" >"$T_TMP/gate.pid"
# The restart: a waiting copy of the gateway, started when the test says so.
mkfifo "$T_TMP/gate.fifo"
t_bg sh -c "read x <'$T_TMP/gate.fifo'; echo \$\$ >'$T_TMP/gate2.pid'; exec '$WEBGATE' -l 127.0.0.1:$WG_PORT \
    -s '$T_TMP/cd.sock' -t '$T_TMP/webgate.tokens' -c '$T_TMP/gw.crt' -k '$T_TMP/gw.key' -v 2>>'$T_TMP/webgate.log'"
spki=$(openssl x509 -in "$T_TMP/gw.crt" -pubkey -noout | openssl pkey -pubin -outform der |
	openssl dgst -sha256 -binary | base64)

# Hostile hops in the WebSocket path (tamper, withheld / expired certificate).
"$CERTTOOL" "$T_TMP/ks-main/signing.key" "$T_TMP/good.cert" "$T_TMP/expired.cert" --expired ||
	t_fail "term-certtool --expired"
hop() {	# hop NAME ARM: sets HOP to the hop's URL (not in a subshell: t_bg)
	hp=$(t_free_port)
	t_bg "$NODE" "$W/web-e2e.mjs" --mitm --listen "$hp" --to "$WG_URL" --ca "$T_TMP/ca.pem" \
	    --arm "$2" >/dev/null 2>"$T_TMP/hop-$1.log"
	t_wait 100 grep -q "mitm listening" "$T_TMP/hop-$1.log" || t_fail "hop $1 did not start"
	HOP=ws://127.0.0.1:$hp/
}
hop tamper flip@2; HOP_TAMPER=$HOP
hop nocert hello-nocert; HOP_NOCERT=$HOP
hop expired "hello-cert:$T_TMP/expired.cert"; HOP_EXPIRED=$HOP

# An encrypted keystore (real Argon2id limits): a key outside vm1's ACL
# and vm1's secret, both under a passphrase.
PASS=correct-horse-$$
ENC=$T_TMP/enc-home
mkdir -m 700 "$ENC" "$ENC/vms" 2>/dev/null || mkdir -p "$ENC/vms"
chmod 700 "$ENC" "$ENC/vms"
"$TERM_BIN" vm export vm1 --secret-file "$T_TMP/webvm1.secret" >/dev/null || t_fail "vm export"
SCCRYPT_HOME=$ENC SCCRYPT_PASSPHRASE_FD=3 "$TERM_BIN" keygen >/dev/null 3<<EOF2 || t_fail "keygen with a passphrase"
$PASS
EOF2
SCCRYPT_HOME=$ENC SCCRYPT_PASSPHRASE_FD=3 "$TERM_BIN" vm import vm1 --uuid "$(atk_uuid vm1)" \
    --secret-file "$T_TMP/webvm1.secret" >/dev/null 3<<EOF2 || t_fail "vm import with a passphrase"
$PASS
EOF2
cp "$SCCRYPT_HOME/keyserver.pub" "$ENC/"

# The page, served once by sccrypt-term web from "the tenant's machine".
t_bg "$TERM_BIN" -H "$TREAL_HOST" web "127.0.0.1:$WG_PORT" vm1 --no-browser \
    --html "$W/sccrypt-web.html" >"$T_TMP/web.url" 2>"$T_TMP/web.err"
t_wait 100 grep -q '^http://127.0.0.1:' "$T_TMP/web.url" || { cat "$T_TMP/web.err" >&2; t_fail "sccrypt-term web"; }
url=$(head -n 1 "$T_TMP/web.url")
case $url in *"#vm=vm1&gw=wss://127.0.0.1:$WG_PORT/&host=$TREAL_HOST") ;; *) t_fail "page URL: $url" ;; esac

rc=0
"$NODE" "$W/web-browser.mjs" --chromium "$CHROMIUM" --url "$url" --file "$W/sccrypt-web.html" \
    --home "$SCCRYPT_HOME" --enc-home "$ENC" --pass "$PASS" --token "$WG_TOKEN" --gw "$WG_URL" \
    --host "$TREAL_HOST" --spki "$spki" --hop "$HOP_TAMPER" --hop-nocert "$HOP_NOCERT" \
    --hop-expired "$HOP_EXPIRED" --shot "$top_builddir/web-console.png" \
    --gate-pidfile "$T_TMP/gate.pid" --gate-restart-fifo "$T_TMP/gate.fifo" >"$T_TMP/browser.out" 2>&1 || rc=$?
cat "$T_TMP/browser.out"
[ "$rc" -eq 0 ] || { tail -20 "$T_TMP/webgate.log" >&2; t_fail "browser scenarios failed"; }
grep -q 'page served; the token is spent' "$T_TMP/web.err" || t_fail "sccrypt-term web did not serve the page"
[ -s "$top_builddir/web-console.png" ] || t_fail "no screenshot"

# Eavesdrop: the gateway's log never holds console text.
for s in 'B42R' 'echo B' 'A42G' 'X10Y' 'sha256sum' 'SUM=' 'M42A' 'echo M'; do
	! grep -aqF "$s" "$T_TMP/webgate.log" || t_fail "plaintext '$s' in the gateway log"
done
grep -q "user $(id -un): console vm1" "$T_TMP/webgate.log" || t_fail "the gateway log does not name the sessions"
grep -q "user $(id -un): console vm1 (armored)" "$T_TMP/webgate.log" || t_fail "the armored page did not ask for A"
t_pass "eavesdrop: 0 plaintext hits in the gateway log ($(wc -l <"$T_TMP/webgate.log") lines)"
