#!/bin/sh
# ks-owner.sh — the tenant's self-service ownership token (PROTOCOL.md
# §12.10) against the real key server on 127.0.0.1: operator registration
# (and who may move a VM), challenge and answer with an independent client
# (ks-owner-client.py: hashlib + cryptography), the token checked against
# the owner CA and against --issue-owner-token, and the attacks: wrong
# key, replay, answer for another VM or ACL, unregistered VM (no oracle),
# expired nonce, malformed bodies (the server keeps serving).
# KS_OWNER_DB=pg runs it on PostgreSQL (ks-owner-pg.sh).
. "$top_srcdir/tests/lib.sh"

KS_GRANT=token
. "$top_srcdir/tests/integration/ks-lib.sh"
PY="python3 $top_srcdir/tests/integration/ks-owner-client.py"
[ -x "$KS" ] || t_skip "keyserver not built"
t_need_cmds curl python3
python3 -c 'import cryptography.hazmat.primitives.asymmetric.x25519' 2>/dev/null ||
	t_skip "python3 cryptography not installed"
if [ "${KS_OWNER_DB:-}" = pg ]; then
	. "$top_srcdir/tests/integration/ks-pglib.sh"
	ks_pg_start
	KS_ARGS="--db $PGURI"
fi

challenge() {	# challenge UUID FILE
	req POST /v1/owner-tokens --data-binary "{\"uuid\": \"$1\"}"
	[ "$ST" = 200 ] || { cat "$T_TMP/resp" >&2; t_fail "challenge for $1: HTTP $ST"; }
	cp "$T_TMP/resp" "$2"
}
answer() {	# answer BODYFILE
	req POST /v1/owner-tokens --data-binary @"$1"
}

# Not enabled: no endpoint, and the owner CA key is not made.
ks_start
req POST /v1/owner-tokens --data-binary '{"uuid": "11111111-2222-3333-4444-555555555555"}'
expect 404 not_found "without --owner-tokens there is no token endpoint"
[ ! -e "$T_TMP/ks/owner-ca.key" ] || t_fail "owner CA key made without --owner-tokens"
ks_stop

ks_start --owner-tokens
[ "$(stat -c %a "$T_TMP/ks/owner-ca.key")" = 600 ] || t_fail "owner CA key mode"
ks_owner_ca
grep -q "serving ownership tokens .* of owner CA $ca" "$T_TMP/ks.log" ||
	t_fail "the server does not log the owner CA it serves"
t_pass "owner CA made by the signing process, 0600"

U1=0e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b
U2=1e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b
U3=2e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b
PA=$($PY keypair "$T_TMP/a.sk")		# the owner
PB=$($PY keypair "$T_TMP/b.sk")		# dom0 (or another tenant)
PC=$($PY keypair "$T_TMP/c.sk")		# a user the owner shares the console with

# ---- registration: the operator only ----
req POST /v1/owners --data-binary "{\"uuid\": \"$U1\", \"owner_key\": \"$PA\"}"
expect 401 unauthorized "registration without the operator token refused"
req POST /v1/owners -H "Authorization: Bearer 00$TOKEN" \
	--data-binary "{\"uuid\": \"$U1\", \"owner_key\": \"$PB\"}"
expect 401 unauthorized "registration with a wrong operator token refused"
register "$U1" "$PA"
expect 201 "" "operator registers U1 -> owner A"
grep -q '"status":"registered"' "$T_TMP/resp" || t_fail "status registered"
register "$U1" "$PA"
expect 200 "" "registering the same key again is a no-op"
grep -q '"status":"unchanged"' "$T_TMP/resp" || t_fail "status unchanged"
register "$U1" "$PB"
expect 409 owner_exists "re-registration to another key refused without replace"
ST=$(curl -s -m 10 -o "$T_TMP/resp" -w '%{http_code}' --unix-socket "$T_TMP/ks/op.sock" \
	-X POST --data-binary "{\"uuid\": \"$U2\", \"owner_key\": \"$PA\"}" http://local/v1/owners)
expect 201 "" "operator socket registers U2 -> owner A"

# ---- the owner gets its token ----
ACL="$PA:o,$PC:u"
challenge "$U1" "$T_TMP/ch1"
grep -q '"server_key":"[0-9a-f]\{64\}"' "$T_TMP/ch1" || t_fail "challenge has no server_key"
$PY answer "$T_TMP/a.sk" "$T_TMP/ch1" "$U1" "$ACL" >"$T_TMP/ans1"
answer "$T_TMP/ans1"
expect 200 "" "owner's answer gets the token"
cp "$T_TMP/resp" "$T_TMP/tok1"
$PY verify "$ca" "$U1" "$ACL" "$T_TMP/tok1" ||
	t_fail "the token is not the owner CA's signature for U1 and the ACL"
t_pass "token verifies under the owner CA for exactly U1 and the ACL"
want=$("$KS" -s "$T_TMP/ks" --issue-owner-token "$U1" "$($PY b64 "$PA")" \
	"$($PY b64 "$PC")" 2>/dev/null)
grep -q "\"token\":\"$want\"" "$T_TMP/tok1" ||
	t_fail "endpoint token differs from --issue-owner-token's"
t_pass "same token as --issue-owner-token (one signing code)"

# ---- attacks ----
answer "$T_TMP/ans1"
expect 403 owner_proof_invalid "replayed answer refused (nonce single use)"

challenge "$U1" "$T_TMP/ch2"
$PY answer "$T_TMP/b.sk" "$T_TMP/ch2" "$U1" "$PB:o" >"$T_TMP/ans2"
answer "$T_TMP/ans2"
expect 403 owner_proof_invalid "another key (dom0's) gets no token for U1"
cp "$T_TMP/resp" "$T_TMP/wrongkey"

challenge "$U1" "$T_TMP/ch3"
$PY answer "$T_TMP/b.sk" "$T_TMP/ch3" "$U1" "$PA:o,$PB:u" >"$T_TMP/ans3"
answer "$T_TMP/ans3"
expect 403 owner_proof_invalid "another key naming the owner's key in the ACL refused"

# dom0 relays the owner's exchange and changes the ACL (adds its key).
challenge "$U1" "$T_TMP/ch4"
$PY answer "$T_TMP/a.sk" "$T_TMP/ch4" "$U1" "$PA:o,$PC:u,$PB:u" "$U1" "$ACL" >"$T_TMP/ans4"
answer "$T_TMP/ans4"
expect 403 owner_proof_invalid "answer posted with another ACL than proved refused"

# The owner's proof for U1 posted for U2 (also the owner's VM).
challenge "$U2" "$T_TMP/ch5"
$PY answer "$T_TMP/a.sk" "$T_TMP/ch5" "$U2" "$ACL" "$U1" >"$T_TMP/ans5"
answer "$T_TMP/ans5"
expect 403 owner_proof_invalid "proof for U1 posted for U2 refused"
# An honest answer for U1 to a challenge made for U2.
challenge "$U2" "$T_TMP/ch6"
$PY answer "$T_TMP/a.sk" "$T_TMP/ch6" "$U1" "$ACL" >"$T_TMP/ans6"
answer "$T_TMP/ans6"
expect 403 owner_proof_invalid "answer for another VM than the challenge refused"

# Unregistered VM: a challenge like any other, then the same refusal as a
# wrong key, byte for byte.
challenge "$U3" "$T_TMP/ch7"
$PY answer "$T_TMP/a.sk" "$T_TMP/ch7" "$U3" "$PA:o" >"$T_TMP/ans7"
answer "$T_TMP/ans7"
expect 403 owner_proof_invalid "unregistered VM gets no token"
cmp -s "$T_TMP/resp" "$T_TMP/wrongkey" ||
	{ cat "$T_TMP/resp" "$T_TMP/wrongkey" >&2; t_fail "unregistered VM answered unlike a wrong key"; }
t_pass "unregistered VM and wrong key: identical refusals (no registration oracle)"

# ---- malformed bodies: clear 400s, and the server keeps serving ----
bad() {	# bad BODY CODE what
	req POST /v1/owner-tokens --data-binary "$1"
	expect 400 "$2" "$3"
}
bad '{"uuid": ' malformed_json "truncated JSON"
bad '[1]' malformed_json "not an object"
bad '{"uuid": "not-a-uuid"}' invalid_field "bad UUID"
bad "{\"uuid\": \"$U1\", \"x\": 1}" invalid_field "unknown member"
bad "{\"uuid\": \"$U1\", \"nonce\": \"zz\", \"proof\": \"00\", \"acl\": []}" invalid_field "bad hex nonce"
N=$(python3 -c 'print("ab"*32)')
bad "{\"uuid\": \"$U1\", \"nonce\": \"$N\", \"proof\": \"$N\", \"acl\": []}" invalid_field "empty ACL"
bad "{\"uuid\": \"$U1\", \"nonce\": \"$N\", \"proof\": \"$N\", \"acl\": [{\"key\": \"$PA\", \"owner\": false}]}" invalid_field "ACL without owner"
bad "{\"uuid\": \"$U1\", \"nonce\": \"$N\", \"proof\": \"$N\", \"acl\": [{\"key\": \"$PA\", \"owner\": true}, {\"key\": \"$PA\", \"owner\": false}]}" invalid_field "duplicate ACL key"
bad "{\"uuid\": \"$U1\", \"nonce\": \"$N\", \"proof\": \"${N}00\", \"acl\": [{\"key\": \"$PA\", \"owner\": true}]}" invalid_field "proof too long"
req POST /v1/owners -H "Authorization: Bearer $TOKEN" --data-binary "{\"uuid\": \"$U1\", \"owner_key\": \"xyz\"}"
expect 400 invalid_field "registration with a bad key"
req GET /v1/owner-tokens
expect 405 method_not_allowed "GET on the token endpoint"
challenge "$U1" "$T_TMP/ch8"
$PY answer "$T_TMP/a.sk" "$T_TMP/ch8" "$U1" "$PA:o" >"$T_TMP/ans8"
answer "$T_TMP/ans8"
expect 200 "" "after the garbage the owner still gets its token"

# ---- moving a VM to another tenant: the operator, explicitly ----
register "$U1" "$PB" replace
expect 200 "" "operator moves U1 to B with replace"
grep -q '"status":"moved"' "$T_TMP/resp" || t_fail "status moved"
challenge "$U1" "$T_TMP/ch9"
$PY answer "$T_TMP/a.sk" "$T_TMP/ch9" "$U1" "$PA:o" >"$T_TMP/ans9"
answer "$T_TMP/ans9"
expect 403 owner_proof_invalid "the former owner gets no token after the move"
challenge "$U1" "$T_TMP/ch10"
$PY answer "$T_TMP/b.sk" "$T_TMP/ch10" "$U1" "$PB:o" >"$T_TMP/ans10"
answer "$T_TMP/ans10"
expect 200 "" "the new owner gets its token"

# ---- without privilege separation (registrations survive the restart) ----
ks_stop
ks_start --owner-tokens --no-privsep
challenge "$U2" "$T_TMP/ch12"
$PY answer "$T_TMP/a.sk" "$T_TMP/ch12" "$U2" "$PA:o" >"$T_TMP/ans12"
answer "$T_TMP/ans12"
expect 200 "" "token from the in-process signer (--no-privsep)"
$PY verify "$ca" "$U2" "$PA:o" "$T_TMP/resp" || t_fail "no-privsep token"

# ---- an expired nonce ----
ks_stop
ks_start --owner-tokens --nonce-lifetime 1
challenge "$U2" "$T_TMP/ch11"
exp=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["expires"])' "$T_TMP/ch11")
t_wait 100 sh -c "[ \$(date +%s) -gt $exp ]" || t_fail "clock did not pass the expiry"
$PY answer "$T_TMP/a.sk" "$T_TMP/ch11" "$U2" "$PA:o" >"$T_TMP/ans11"
answer "$T_TMP/ans11"
expect 403 nonce_expired "answer to an expired challenge refused"
answer "$T_TMP/ans11"
expect 403 owner_proof_invalid "an expired nonce is gone after its first use"

grep -q "audit: owner-token uuid=$U1 .*result=ok" "$T_TMP/ks.log" || t_fail "no audit line"
! grep -qi "$(cut -c1-16 "$T_TMP/a.sk")" "$T_TMP/ks.log" || t_fail "secret in the log"
t_pass "audit lines, no key material in the log"
