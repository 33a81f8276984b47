# tests/integration/ks-lib.sh — the key server on 127.0.0.1 for the ks tests
# (source after tests/lib.sh; not a test itself).
#
# Sourcing sets KS (the binary), KSPORT (a free port), URL, and makes the
# server's state directory $T_TMP/ks (0700).
# ks_start [ARGS...]: start it there on $URL with the operator socket
#   $T_TMP/ks/op.sock, $KS_ARGS and ARGS, log to $T_TMP/ks.log; waits until
#   it answers; sets KSPID and TOKEN (the operator token).
# ks_stop: SIGTERM, and wait (bounded) until it is gone.
# ks_owner_ca: the owner CA public key of $T_TMP/ks (made on first use) in
#   $ca, checked to be 64 hex digits.
# req METHOD PATH [curl args...]: status in $ST, body in $T_TMP/resp.
# op METHOD PATH [curl args...]: req with the operator token.
# expect STATUS [ERRORCODE] WHAT: $ST is STATUS; with ERRORCODE, the body is
#   that JSON error with a message and no "$KS_GRANT" member (what the
#   server grants: certificate, token); t_pass WHAT.
# register UUID PUBHEX [replace]: the operator registers UUID's owner key.

KS=$top_builddir/keyserver/sccrypt-keyserver
KS_ARGS=${KS_ARGS:-}
KS_GRANT=${KS_GRANT:-certificate}
KSPORT=$(t_free_port)
URL=http://127.0.0.1:$KSPORT
mkdir -p "$T_TMP/ks"
chmod 700 "$T_TMP/ks"

ks_start() {
	t_bg "$KS" -s "$T_TMP/ks" -l 127.0.0.1:$KSPORT -S "$T_TMP/ks/op.sock" \
		$KS_ARGS "$@" 2>>"$T_TMP/ks.log"
	KSPID=$!
	t_wait 100 curl -sf -m 2 "$URL/v1/pubkey" -o /dev/null ||
		{ cat "$T_TMP/ks.log" >&2; t_fail "key server did not start"; }
	TOKEN=$(cat "$T_TMP/ks/operator.token")
}
ks_stop() {
	kill "$KSPID"
	t_wait 300 t_pid_gone "$KSPID" || t_fail "key server did not stop"
	wait "$KSPID" 2>/dev/null || true
}
ks_owner_ca() {
	ca=$("$KS" -s "$T_TMP/ks" --print-owner-ca 2>"$T_TMP/ks.err") ||
		{ cat "$T_TMP/ks.err" >&2; t_fail "--print-owner-ca"; }
	echo "$ca" | grep -qx '[0-9a-f]\{64\}' || t_fail "--print-owner-ca: '$ca'"
}
req() {
	m=$1; p=$2; shift 2
	ST=$(curl -s -m 10 -o "$T_TMP/resp" -w '%{http_code}' -X "$m" "$@" "$URL$p")
}
op() { req "$@" -H "Authorization: Bearer $TOKEN"; }
expect() {
	st=$1; code=$2; what=$3
	[ "$ST" = "$st" ] || { cat "$T_TMP/resp" >&2; t_fail "$what: HTTP $ST, want $st"; }
	if [ -n "$code" ]; then
		grep -q "\"error\":\"$code\"" "$T_TMP/resp" ||
			{ cat "$T_TMP/resp" >&2; t_fail "$what: want error $code"; }
		grep -q '"message":"' "$T_TMP/resp" || t_fail "$what: no message"
		! grep -q "\"$KS_GRANT\":" "$T_TMP/resp" ||
			t_fail "$what: $KS_GRANT in a refusal"
	fi
	t_pass "$what"
}
register() {
	r=""
	[ -z "${3:-}" ] || r=', "replace": true'
	op POST /v1/owners -H 'Content-Type: application/json' \
		--data-binary "{\"uuid\": \"$1\", \"owner_key\": \"$2\"$r}"
}
