# tests/web/lib.sh — helpers for the web console tests (source after tests/lib.sh).
# Skips (77) only when Node.js is truly absent; a missing bundle with node
# present is a build failure, not a skip.
w_need_node() {
	NODE=${NODE:-$(command -v node || true)}
	[ -n "$NODE" ] && [ -x "$NODE" ] || t_skip "node not installed"
	W="$top_builddir/web"
	[ -f "$W/sccrypt-web.html" ] && [ -f "$W/web-vectors.mjs" ] ||
	    t_fail "node is installed but the web bundle was not built ($W): configure found no node/npm?"
}

# The gateway in front of the consoled of term-real-lib.sh's stack:
# a lab CA ($T_TMP/ca.pem), a server certificate for 127.0.0.1, a token for
# this user (WG_TOKEN), sccrypt-webgate on WG_PORT (URL in WG_URL).
WEBGATE=$top_builddir/webgate/sccrypt-webgate
w_need_gate() {
	[ -x "$WEBGATE" ] || t_skip "sccrypt-webgate not built (libwebsockets missing)"
	t_need_cmds openssl
}
w_make_ca() {	# w_make_ca DIR: ca.pem, gw.crt, gw.key for 127.0.0.1/localhost
	d=$1
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
	    -subj "/CN=sccrypt test CA" -keyout "$d/ca.key" -out "$d/ca.pem" \
	    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign \
	    >"$d/openssl.log" 2>&1 || { cat "$d/openssl.log" >&2; t_fail "CA"; }
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=127.0.0.1" \
	    -keyout "$d/gw.key" -out "$d/gw.csr" >>"$d/openssl.log" 2>&1 || t_fail "CSR"
	printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' >"$d/gw.ext"
	openssl x509 -req -in "$d/gw.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial \
	    -days 2 -extfile "$d/gw.ext" -out "$d/gw.crt" >>"$d/openssl.log" 2>&1 || t_fail "server cert"
	chmod 600 "$d/gw.key" "$d/ca.key"
}
w_start_gate() {	# w_start_gate [extra options]: uses/sets WG_PORT, WG_TOKEN
	[ -s "$T_TMP/ca.pem" ] || w_make_ca "$T_TMP"
	if [ -z "${WG_TOKEN:-}" ]; then
		WG_TOKEN=$("$WEBGATE" --new-token "$(id -un)" 2>"$T_TMP/token.line") || t_fail "--new-token"
		tail -n 1 "$T_TMP/token.line" >"$T_TMP/webgate.tokens"
		chmod 600 "$T_TMP/webgate.tokens"
	fi
	[ -n "${WG_PORT:-}" ] || WG_PORT=$(t_free_port)
	WG_URL=wss://127.0.0.1:$WG_PORT/
	t_bg "$WEBGATE" -l 127.0.0.1:$WG_PORT -s "$T_TMP/cd.sock" -t "$T_TMP/webgate.tokens" \
	    -c "$T_TMP/gw.crt" -k "$T_TMP/gw.key" -v "$@" 2>>"$T_TMP/webgate.log"
	WG_PID=$!
	t_wait 100 grep -q "listening on wss://127.0.0.1:$WG_PORT/" "$T_TMP/webgate.log" ||
	    { cat "$T_TMP/webgate.log" >&2; t_fail "sccrypt-webgate did not start"; }
}
# w_client OUT [options]: the Node web client (stdin = keystrokes); stdout to
# OUT, stderr to OUT.err; prints the exit status.
w_client() {
	o=$1; shift
	rc=0
	"$NODE" "$W/web-e2e.mjs" --url "${W_URL:-$WG_URL}" --ca "$T_TMP/ca.pem" --token "$WG_TOKEN" \
	    --home "$SCCRYPT_HOME" --host "$TREAL_HOST" --linger 1500 --origin null "$@" \
	    >"$o" 2>"$o.err" || rc=$?
	echo "$rc"
}
