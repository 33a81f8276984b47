#!/bin/sh
# ks-pg.sh — two sccrypt-keyserver instances on one real PostgreSQL behave
# as one: a nonce issued by one is redeemed exactly once across both (also
# when both are asked at the same time), the per-address quota counts both,
# enrollment, revocation and AK rotation through one are seen by the other
# at the next request, racing attestations leave one certificate; and the
# database going away mid-run: 503 storage_unavailable JSON, an audit log
# line, the servers keep running, nothing half-written, and they recover by
# themselves when it is back.  The AK is a software P-256 key (ks-load): the
# server's checks are the same as with a TPM's (ks-attest.sh).
. "$top_srcdir/tests/lib.sh"

KS=$top_builddir/keyserver/sccrypt-keyserver
LOAD=$top_builddir/tests/bench/keyserver/ks-load
[ -x "$KS" ] && [ -x "$LOAD" ] || t_skip "key server not built"
t_need_cmds curl python3
. "$top_srcdir/tests/integration/ks-pglib.sh"
ks_pg_start

# ---- two key servers, one signing key, one token, one database ----
PA=$(t_free_port)
PB=$(t_free_port)
mkdir -p "$T_TMP/a" "$T_TMP/b"
chmod 700 "$T_TMP/a" "$T_TMP/b"
start_ks() {	# start_ks NAME PORT
	t_bg "$KS" -s "$T_TMP/$1" -l 127.0.0.1:$2 --db "$PGURI" \
		--max-nonces-per-address 3 2>>"$T_TMP/$1.log"
	eval "PID_$1=\$!"
	t_wait 300 curl -sf -m 2 "http://127.0.0.1:$2/v1/pubkey" -o /dev/null ||
		{ cat "$T_TMP/$1.log" >&2; t_fail "key server $1 did not start"; }
}
start_ks a $PA
cp -p "$T_TMP/a/signing.key" "$T_TMP/a/operator.token" "$T_TMP/b/"
start_ks b $PB
TOKEN=$(cat "$T_TMP/a/operator.token")
t_pass "two key servers on one PostgreSQL database"

# req A|B METHOD PATH [curl args...]: status in $ST, body in $T_TMP/resp
req() {
	case $1 in a) p=$PA ;; b) p=$PB ;; esac
	m=$2; pth=$3; shift 3
	ST=$(curl -s -m 20 -o "$T_TMP/resp" -w '%{http_code}' -X "$m" "$@" \
		"http://127.0.0.1:$p$pth")
}
op() { s=$1; shift; req "$s" "$@" -H "Authorization: Bearer $TOKEN"; }
expect() {	# expect STATUS [ERRORCODE] what
	[ "$ST" = "$1" ] || { cat "$T_TMP/resp" >&2; t_fail "$3: HTTP $ST, want $1"; }
	if [ -n "$2" ]; then
		grep -q "\"error\":\"$2\"" "$T_TMP/resp" ||
			{ cat "$T_TMP/resp" >&2; t_fail "$3: want error $2"; }
		! grep -q '"certificate":' "$T_TMP/resp" ||
			t_fail "$3: certificate in a refusal"
	fi
	t_pass "$3"
}
nonce_from() {	# nonce_from A|B: a fresh nonce (hex) in $NONCE
	req "$1" GET /v1/nonce
	[ "$ST" = 200 ] || { cat "$T_TMP/resp" >&2; t_fail "nonce from $1: HTTP $ST"; }
	NONCE=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["nonce"])' \
		<"$T_TMP/resp")
}
body() {	# body FILE KEY: an attestation of h1 over $NONCE, signed by KEY
	"$LOAD" body h1 "$2" "$NONCE" >"$1" || t_fail "ks-load body"
}

# ---- enrollment through A, seen by B ----
"$LOAD" enroll h1 "$T_TMP/ak1.pem" >"$T_TMP/enroll1.json"
op a POST /v1/hosts --data-binary @"$T_TMP/enroll1.json"
expect 201 "" "enroll h1 through A"
op b GET /v1/hosts/h1
expect 200 "" "B sees the enrollment"
op b POST /v1/hosts --data-binary @"$T_TMP/enroll1.json"
expect 409 host_exists "B refuses enrolling h1 again"

# ---- a nonce from A, redeemed at B, then never again ----
nonce_from a
body "$T_TMP/q.json" "$T_TMP/ak1.pem"
req b POST /v1/attest --data-binary @"$T_TMP/q.json"
expect 200 "" "nonce from A redeemed at B: certificate"
CERT_B=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["certificate"])' <"$T_TMP/resp")
req a POST /v1/attest --data-binary @"$T_TMP/q.json"
expect 403 nonce_invalid "the same nonce replayed at A"
req b POST /v1/attest --data-binary @"$T_TMP/q.json"
expect 403 nonce_invalid "the same nonce replayed at B"
req a GET /v1/hosts/h1/certificate
expect 200 "" "A serves the certificate B issued"
python3 -c 'import json,sys; assert json.load(sys.stdin)["certificate"] == sys.argv[1]' \
	"$CERT_B" <"$T_TMP/resp" || t_fail "A's certificate is not B's"

# ---- both asked to redeem one nonce at the same moment: one wins ----
i=0
while [ $i -lt 10 ]; do
	nonce_from b
	body "$T_TMP/q.json" "$T_TMP/ak1.pem"
	pids=""
	for s in a b; do
		case $s in a) p=$PA ;; b) p=$PB ;; esac
		curl -s -m 20 -o /dev/null -w '%{http_code}\n' --data-binary @"$T_TMP/q.json" \
			"http://127.0.0.1:$p/v1/attest" >"$T_TMP/race.$s" &
		pids="$pids $!"
	done
	wait $pids	# (not the key servers)
	got=$(cat "$T_TMP/race.a" "$T_TMP/race.b" | sort | tr '\n' ' ')
	[ "$got" = "200 403 " ] || t_fail "racing redemption $i: $got"
	i=$((i + 1))
done
t_pass "one nonce redeemed at A and B at once: exactly one certificate, 10 times"

# ---- the per-address quota (3) counts both servers ----
nonce_from a; N1=$NONCE
nonce_from b; N2=$NONCE
nonce_from a; N3=$NONCE
req b GET /v1/nonce
expect 429 too_many_requests "fourth outstanding nonce, asked of B, refused"
req a GET /v1/nonce
expect 429 too_many_requests "fourth outstanding nonce, asked of A, refused"
for NONCE in $N1 $N2 $N3; do	# spend them: attestations racing on one host
	body "$T_TMP/q.$NONCE" "$T_TMP/ak1.pem"
done
curl -s -m 20 -o /dev/null --data-binary @"$T_TMP/q.$N1" "http://127.0.0.1:$PA/v1/attest" &
p1=$!
curl -s -m 20 -o /dev/null --data-binary @"$T_TMP/q.$N2" "http://127.0.0.1:$PB/v1/attest" &
p2=$!
curl -s -m 20 -o /dev/null --data-binary @"$T_TMP/q.$N3" "http://127.0.0.1:$PA/v1/attest" &
wait $p1 $p2 $!
req b GET /v1/hosts/h1/certificate
expect 200 "" "after racing attestations, one current certificate"
op a GET /v1/hosts
python3 -c 'import json,sys; h=json.load(sys.stdin)["hosts"]; assert len(h) == 1, h' \
	<"$T_TMP/resp" || t_fail "host list"

# ---- revocation through B, seen by A at the next request ----
op b POST /v1/hosts/h1/revoke
expect 200 "" "revoke h1 through B"
req a GET /v1/hosts/h1/certificate
expect 403 host_revoked "A refuses the revoked host's certificate"
nonce_from a
body "$T_TMP/q.json" "$T_TMP/ak1.pem"
req a POST /v1/attest --data-binary @"$T_TMP/q.json"
expect 403 host_revoked "A refuses the revoked host's attestation"

# ---- AK rotation: delete through A, enroll a new AK through B ----
op a DELETE /v1/hosts/h1
expect 200 "" "delete h1 through A"
"$LOAD" enroll h1 "$T_TMP/ak2.pem" >"$T_TMP/enroll2.json"
op b POST /v1/hosts --data-binary @"$T_TMP/enroll2.json"
expect 201 "" "enroll h1 with a new AK through B"
nonce_from b
body "$T_TMP/q.json" "$T_TMP/ak1.pem"
req a POST /v1/attest --data-binary @"$T_TMP/q.json"
expect 403 signature_invalid "A refuses the old AK after the rotation"
nonce_from b
body "$T_TMP/q.json" "$T_TMP/ak2.pem"
req a POST /v1/attest --data-binary @"$T_TMP/q.json"
expect 200 "" "A accepts the new AK"

# ---- the database goes away in the middle ----
nonce_from a
body "$T_TMP/q-held.json" "$T_TMP/ak2.pem"
ks_pg_stop
req a GET /v1/hosts/h1/certificate
expect 503 storage_unavailable "database down: certificate fetch answers 503"
req b GET /v1/nonce
expect 503 storage_unavailable "database down: nonce answers 503"
req a POST /v1/attest --data-binary @"$T_TMP/q-held.json"
expect 503 storage_unavailable "database down: attestation answers 503"
"$LOAD" enroll h2 "$T_TMP/ak3.pem" >"$T_TMP/enroll3.json"
op b POST /v1/hosts --data-binary @"$T_TMP/enroll3.json"
expect 503 storage_unavailable "database down: enrollment answers 503"
op a POST /v1/hosts/h1/revoke
expect 503 storage_unavailable "database down: revocation answers 503"
grep -q '"message":"database unavailable' "$T_TMP/resp" || t_fail "503 message"
kill -0 "$PID_a" && kill -0 "$PID_b" || t_fail "a key server exited"
grep -q 'audit: .*storage_unavailable' "$T_TMP/a.log" &&
	grep -q 'audit: .*storage_unavailable' "$T_TMP/b.log" ||
	{ cat "$T_TMP/a.log" >&2; t_fail "no audit line for the refusals"; }
t_pass "both servers keep running and log the refusals"

ks_pg_start
t_wait 300 sh -c "curl -sf -m 5 http://127.0.0.1:$PA/v1/hosts/h1/certificate -o /dev/null" ||
	t_fail "A did not recover after the database came back"
t_wait 300 sh -c "curl -sf -m 5 http://127.0.0.1:$PB/v1/nonce -o /dev/null" ||
	t_fail "B did not recover after the database came back"
t_pass "both recover by themselves when the database is back"
op a GET /v1/hosts/h2
expect 404 unknown_host "the enrollment refused during the outage left nothing"
op b GET /v1/hosts/h1
grep -q '"revoked":false' "$T_TMP/resp" || t_fail "the refused revocation half-happened"
req b POST /v1/attest --data-binary @"$T_TMP/q-held.json"
expect 200 "" "the nonce the outage refused to redeem is still good, once"
req a POST /v1/attest --data-binary @"$T_TMP/q-held.json"
expect 403 nonce_invalid "and only once"
# Nonces issued before the outage by one, redeemed at the other after it.
nonce_from a
ks_pg_stop
ks_pg_start
body "$T_TMP/q.json" "$T_TMP/ak2.pem"
req b POST /v1/attest --data-binary @"$T_TMP/q.json"
expect 200 "" "a nonce from A survives a database restart and is redeemed at B"

# ---- the database stops answering (host hung, network black hole) ----
# SIGSTOP this test's postmaster and its backends: no error, no close.
PGPIDS=$(head -1 "$KS_PG_DIR/data/postmaster.pid")
PGPIDS="$PGPIDS $(cat /proc/$PGPIDS/task/*/children 2>/dev/null)"
kill -STOP $PGPIDS
t0=$(date +%s)
req a GET /v1/hosts/h1/certificate
t1=$(date +%s)
kill -CONT $PGPIDS
expect 503 storage_unavailable "database hung: 503, not a hung request"
[ $((t1 - t0)) -le 25 ] || t_fail "answered after $((t1 - t0)) s"
t_wait 300 sh -c "curl -sf -m 20 http://127.0.0.1:$PA/v1/hosts/h1/certificate -o /dev/null" ||
	t_fail "A did not recover after the database answered again"
t_pass "and recovers when it answers again"
