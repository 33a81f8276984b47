#!/bin/sh
# ks-attest.sh — sccrypt-keyserver + sccrypt-attest against a real software
# TPM (swtpm): enrollment -> attestation -> certificate -> client-side
# verification, and every refusal (each with its JSON error, and no
# certificate).  The hv's PCR extend is done with tpm2_pcrextend here;
# ks-hvsim.sh covers sccrypt-hvsim doing it.
. "$top_srcdir/tests/lib.sh"

KS_ARGS="--max-body 16384"
. "$top_srcdir/tests/integration/ks-lib.sh"
AT=$top_builddir/keyserver/sccrypt-attest
[ -x "$KS" ] && [ -x "$AT" ] || t_skip "keyserver/attest not built"
t_need_cmds swtpm curl python3 tpm2_pcrextend sha256sum

# ---- a software TPM ----
t_start_swtpm

# ---- the key server ----
ks_start
[ "$(stat -c %a "$T_TMP/ks/operator.token")" = 600 ] || t_fail "token file mode"
[ "$(stat -c %a "$T_TMP/ks/signing.key")" = 600 ] || t_fail "signing key mode"
curl -sf -m 5 "$URL/v1/pubkey" |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])' \
	>"$T_TMP/ks.pub"
grep -q '^sccrypt-ed25519 ' "$T_TMP/ks.pub" || t_fail "pubkey text form"
t_pass "key server up, key and token created 0600"

# The signing process holds its socketpair and nothing else from the
# network process (no listening socket): stdio plus exactly one socket.
SIGNER=$(cat /proc/$KSPID/task/*/children 2>/dev/null | tr -s ' ' '\n' | grep . | head -1)
[ -n "$SIGNER" ] || t_fail "no signing process"
nsock=$(ls -l /proc/$SIGNER/fd | grep -c 'socket:')
nfd=$(ls /proc/$SIGNER/fd | wc -l)
[ "$nsock" = 1 ] && [ "$nfd" -le 4 ] ||
	{ ls -l /proc/$SIGNER/fd >&2; t_fail "signing process holds $nfd fds, $nsock sockets"; }
t_pass "signing process keeps only its socketpair"

# ---- helpers ----
attest_post() { req POST /v1/attest --data-binary @"$1"; }
# mkreq FILE HOST [agent args...]: a fresh, correctly quoted request
mkreq() {
	f=$1; h=$2; shift 2
	"$AT" -q -k "$URL" -n "$h" --hv-pubkey-file "$T_TMP/hv.key" \
		--request-out "$f" "$@" || t_fail "agent could not build a request"
}
# jq-less edits of a request: python3 edit.py IN OUT EXPR
cat >"$T_TMP/edit.py" <<'EOF'
import base64, json, sys
r = json.load(open(sys.argv[1]))
b = lambda k: bytearray(base64.b64decode(r[k]))
e = lambda k, v: base64.b64encode(bytes(v)).decode()
what = sys.argv[3]
if what == "flip-sig":
    s = b("signature"); s[-5] ^= 1; r["signature"] = e("signature", s)
elif what == "truncate-quote":
    q = b("quote"); r["quote"] = e("quote", q[:len(q) // 2])
elif what == "garbage-quote":
    r["quote"] = base64.b64encode(bytes(range(200))).decode()
elif what == "bad-pcr-value":
    r["pcrs"]["1"] = "ab" * 32
elif what == "drop-pcr":
    del r["pcrs"]["1"]
elif what == "magic":
    q = b("quote"); q[2] ^= 0xff; r["quote"] = e("quote", q)
json.dump(r, open(sys.argv[2], "w"))
EOF
edit() { python3 "$T_TMP/edit.py" "$@" || t_fail "edit $3"; }

# ---- AK provisioning and the hv key measurement ----
# This TPM has no EK certificate: the EK path is the default, a bare AK
# must be asked for (and no AK is created when the enrollment cannot be).
if "$AT" -q --create-ak -n host1 >"$T_TMP/enroll.json" 2>"$T_TMP/noek.err"; then
	t_fail "enrollment without an EK certificate and without --insecure-ak"
fi
grep -q 'no EK certificate.*--insecure-ak' "$T_TMP/noek.err" ||
	{ cat "$T_TMP/noek.err" >&2; t_fail "no hint at --insecure-ak"; }
! tpm2_readpublic -c 0x81010002 >/dev/null 2>&1 || t_fail "AK created anyway"
t_pass "without an EK certificate, --create-ak needs --insecure-ak"
"$AT" -q --create-ak --insecure-ak -n host1 >"$T_TMP/enroll.json" || t_fail "create AK"
grep -q '"ak_public"' "$T_TMP/enroll.json" || t_fail "enrollment JSON"
! "$AT" -q --create-ak --insecure-ak -n host1 >/dev/null 2>&1 || t_fail "AK handle reused without --force"
t_pass "AK created and persisted; handle protected"
# A non-trivial boot chain: PCR 0 and 7 measured.
tpm2_pcrextend 0:sha256=$(printf firmware | sha256sum | cut -d' ' -f1) >/dev/null
tpm2_pcrextend 7:sha256=$(printf secureboot | sha256sum | cut -d' ' -f1) >/dev/null
"$AT" -q --print-enrollment --insecure-ak -n host1 >"$T_TMP/enroll.json" || t_fail "print enrollment"
# The hv's key and its one extend into PCR 15 (what sccrypt-hvsim does at boot).
head -c 32 /dev/urandom >"$T_TMP/hv.key"
tpm2_pcrextend 15:sha256=$(sha256sum <"$T_TMP/hv.key" | cut -d' ' -f1) >/dev/null
head -c 32 /dev/urandom >"$T_TMP/dom0.key"

# The agent runs with core dumps off: a key server that accepts and never
# answers keeps it waiting long enough to look at its limits.
SILENT=$(t_free_port)
t_bg python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(4)
c, _ = s.accept(); time.sleep(30)' "$SILENT"
t_wait 50 python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1]))).close()' "$SILENT" ||
	t_fail "silent server did not start"
"$AT" -q -k "http://127.0.0.1:$SILENT" -n host1 --hv-pubkey-file "$T_TMP/hv.key" \
	--cert-out "$T_TMP/silent.cert" --timeout 20 2>/dev/null &
ATPID=$!
t_wait 50 grep -Eq '^Max core file size +0 +0 ' /proc/$ATPID/limits ||
	{ cat /proc/$ATPID/limits >&2; kill $ATPID; t_fail "sccrypt-attest may dump core"; }
kill $ATPID; wait $ATPID 2>/dev/null || true
t_pass "sccrypt-attest runs with core dumps off"

# ---- operator credential ----
req POST /v1/hosts --data-binary @"$T_TMP/enroll.json"
expect 401 unauthorized "enroll without a token is refused"
req POST /v1/hosts --data-binary @"$T_TMP/enroll.json" -H "Authorization: Bearer 0000$TOKEN"
expect 401 unauthorized "enroll with a wrong token is refused"
req GET /v1/hosts -H "Authorization: Basic $TOKEN"
expect 401 unauthorized "list with a non-bearer credential is refused"
op POST /v1/hosts --data-binary @"$T_TMP/enroll.json"
expect 201 "" "enroll with the token"
grep -q '"ak":"ecc-p256"' "$T_TMP/resp" || t_fail "enrolled AK type"
op POST /v1/hosts --data-binary @"$T_TMP/enroll.json"
expect 409 host_exists "second enrollment of the same name"
# A host whose golden PCR 0 is not what this TPM measured.
python3 - "$T_TMP/enroll.json" "$T_TMP/enroll-bad.json" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1])); r["name"] = "host-badpolicy"
r["policy"]["pcrs"]["0"] = "11" * 32
json.dump(r, open(sys.argv[2], "w"))
EOF
ST=$(curl -s -m 10 -o "$T_TMP/resp" -w '%{http_code}' --unix-socket "$T_TMP/ks/op.sock" \
	--data-binary @"$T_TMP/enroll-bad.json" http://localhost/v1/hosts)
expect 201 "" "enroll over the operator unix socket without a token"

# ---- refusals: each spends its nonce, none yields a certificate ----
R=$T_TMP/req.json
mkreq "$R" host1 --nonce $(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
attest_post "$R"; expect 403 nonce_invalid "quote over a nonce the server never issued"

mkreq "$R" host-badpolicy
attest_post "$R"; expect 403 pcr_policy_mismatch "PCR 0 differs from the golden policy"

"$AT" -q -k "$URL" -n host1 --hv-pubkey-file "$T_TMP/dom0.key" --request-out "$R" ||
	t_fail "request with dom0's key"
attest_post "$R"; expect 403 key_pcr_mismatch "dom0 substitutes its own hv key"

mkreq "$R" nosuchhost --pcrs 0,1,2,3,4,5,6,7 --key-pcr 15
attest_post "$R"; expect 404 unknown_host "unknown host"

mkreq "$R" host1; edit "$R" "$R.x" flip-sig
attest_post "$R.x"; expect 403 signature_invalid "signature with one bit flipped"

mkreq "$R" host1; edit "$R" "$R.x" truncate-quote
attest_post "$R.x"; expect 400 quote_malformed "truncated quote"
edit "$R" "$R.x" garbage-quote
attest_post "$R.x"; expect 400 quote_malformed "garbage quote"

mkreq "$R" host1; edit "$R" "$R.x" magic
attest_post "$R.x"; expect 403 quote_invalid "quote without TPM_GENERATED magic"

mkreq "$R" host1; edit "$R" "$R.x" bad-pcr-value
attest_post "$R.x"; expect 403 pcr_digest_mismatch "posted PCR value not the quoted one"

mkreq "$R" host1; edit "$R" "$R.x" drop-pcr
attest_post "$R.x"; expect 403 pcr_selection_mismatch "posted PCRs differ from the quote's"

mkreq "$R" host1 --pcrs 0,7
attest_post "$R"; expect 403 pcr_selection_mismatch "quote over fewer PCRs than the policy"

python3 -c 'import sys; sys.stdout.write("{\"host\":\"" + "a" * 40000 + "\"}")' >"$T_TMP/big.json"
attest_post "$T_TMP/big.json"; expect 413 body_too_large "oversized body"
python3 -c 'import sys; sys.stdout.write("x" * 20000)' |
	curl -s -m 10 -o "$T_TMP/resp" -w '%{http_code}' -H 'Transfer-Encoding: chunked' \
	--data-binary @- "$URL/v1/attest" >"$T_TMP/st"; ST=$(cat "$T_TMP/st")
expect 413 body_too_large "oversized chunked body"
printf '{"host": "host1", "quote": ' >"$T_TMP/bad.json"
attest_post "$T_TMP/bad.json"; expect 400 malformed_json "truncated JSON"
printf '{"host":"host1","quote":"QQ==","quote":"QQ=="}' >"$T_TMP/bad.json"
attest_post "$T_TMP/bad.json"; expect 400 malformed_json "duplicate keys"
python3 -c 'import sys; sys.stdout.write("[" * 50 + "]" * 50)' >"$T_TMP/bad.json"
attest_post "$T_TMP/bad.json"; expect 400 malformed_json "deep nesting"
printf '{"host":"../etc","quote":"QQ==","signature":"QQ==","pcrs":{"0":"00"},"hv_pubkey":"00"}' >"$T_TMP/bad.json"
attest_post "$T_TMP/bad.json"; expect 400 invalid_field "invalid host name"
printf '{"host":"host1","extra":1}' >"$T_TMP/bad.json"
attest_post "$T_TMP/bad.json"; expect 400 invalid_field "unknown member"

req GET /v1/hosts/host1/certificate
expect 404 no_certificate "no certificate after all the refusals"

# The agent itself: refused attestation leaves no certificate file.
! "$AT" -q -k "$URL" -n host1 --hv-pubkey-file "$T_TMP/dom0.key" \
	-o "$T_TMP/cert.bad" -K "$T_TMP/ks.pub" 2>"$T_TMP/agent.err" ||
	t_fail "agent succeeded with dom0's key"
grep -q key_pcr_mismatch "$T_TMP/agent.err" || t_fail "agent did not report the error"
[ ! -e "$T_TMP/cert.bad" ] || t_fail "agent stored a certificate after a refusal"
t_pass "agent reports the refusal and stores nothing"

# ---- success ----
mkreq "$R" host1
attest_post "$R"; expect 200 "" "valid attestation"
grep -q '"certificate":"' "$T_TMP/resp" || t_fail "no certificate in the answer"
attest_post "$R"; expect 403 nonce_invalid "replayed attestation"

"$AT" -q -k "$URL" -n host1 --hv-pubkey-file "$T_TMP/hv.key" \
	-o "$T_TMP/cert" -K "$T_TMP/ks.pub" || t_fail "agent attestation"
[ -s "$T_TMP/cert" ] || t_fail "no certificate file"
"$AT" -q --verify-cert "$T_TMP/cert" -K "$T_TMP/ks.pub" -n host1 \
	--hv-pubkey-file "$T_TMP/hv.key" >"$T_TMP/verify.out" ||
	t_fail "sc_cert_verify rejects the certificate"
grep -q "^host host1$" "$T_TMP/verify.out" || t_fail "certificate host"
grep -q "^hv_pubkey $(od -An -tx1 "$T_TMP/hv.key" | tr -d ' \n')$" "$T_TMP/verify.out" ||
	t_fail "certificate hv key"
! "$AT" -q --verify-cert "$T_TMP/cert" -K "$T_TMP/ks.pub" -n host1 \
	--hv-pubkey-file "$T_TMP/dom0.key" >/dev/null 2>&1 ||
	t_fail "certificate verified for another hv key"
! "$AT" -q --verify-cert "$T_TMP/cert" -K "$T_TMP/ks.pub" -n host2 >/dev/null 2>&1 ||
	t_fail "certificate verified for another host"
t_pass "end to end: certificate verifies with sc_cert_verify (host, hv key, pinned signer)"

req GET /v1/hosts/host1/certificate
expect 200 "" "certificate fetch"
python3 - "$T_TMP/resp" "$T_TMP/cert" <<'EOF' || t_fail "fetched certificate differs from the stored one"
import base64, json, sys
c = base64.b64decode(json.load(open(sys.argv[1]))["certificate"])
sys.exit(0 if c == open(sys.argv[2], "rb").read() else 1)
EOF
t_pass "fetched certificate is the agent's"

# ---- RSA attestation keys (RSASSA and RSAPSS) ----
for alg in rsa rsapss; do
	case $alg in rsa) h=0x81010003 ;; *) h=0x81010004 ;; esac
	"$AT" -q --create-ak --insecure-ak --ak-alg $alg --ak-handle $h -n host-$alg \
		>"$T_TMP/enroll-$alg.json" || t_fail "create $alg AK"
	op POST /v1/hosts --data-binary @"$T_TMP/enroll-$alg.json"
	expect 201 "" "enroll host-$alg"
	grep -q '"ak":"rsa-2048"' "$T_TMP/resp" || t_fail "rsa AK type"
	"$AT" -q -k "$URL" -n host-$alg --ak-handle $h --hv-pubkey-file "$T_TMP/hv.key" \
		-o "$T_TMP/cert-$alg" -K "$T_TMP/ks.pub" || t_fail "attest with $alg AK"
	t_pass "attestation with an $alg AK"
done

# ---- listing, revocation, deletion ----
op GET /v1/hosts
expect 200 "" "list hosts"
for h in host1 host-badpolicy host-rsa host-rsapss; do
	grep -q "\"name\":\"$h\"" "$T_TMP/resp" || t_fail "list lacks $h"
done
op POST /v1/hosts/host1/revoke
expect 200 "" "revoke host1"
req GET /v1/hosts/host1/certificate
expect 403 host_revoked "revoked host's certificate is refused"
mkreq "$R" host1
attest_post "$R"; expect 403 host_revoked "revoked host cannot attest"
op GET /v1/hosts/host1
grep -q '"revoked":true' "$T_TMP/resp" || t_fail "host1 not shown revoked"
op DELETE /v1/hosts/host-rsa
expect 200 "" "delete host-rsa"
req GET /v1/hosts/host-rsa/certificate
expect 404 unknown_host "deleted host is unknown"
req PUT /v1/attest
expect 405 method_not_allowed "wrong method"
req GET /v1/nothing
expect 404 not_found "unknown endpoint"

# ---- restart: same key, same database ----
PK1=$(cat "$T_TMP/ks.pub")
ks_stop
ks_start --no-privsep --per-ip-connections 2 --timeout 2
curl -sf -m 5 "$URL/v1/pubkey" | grep -q "$(echo "$PK1" | cut -d' ' -f2)" ||
	t_fail "signing key changed across a restart"
req GET /v1/hosts/host-rsapss/certificate
expect 200 "" "certificates survive a restart"

# ---- slow clients cannot tie the server up ----
# Two connections that never finish their request fill this address's
# quota; a third is turned away; the idle timeout frees both.
python3 - "$KSPORT" <<'EOF2' || t_fail "slow-client limits"
import socket, sys, time, urllib.request
port = int(sys.argv[1])
slow = []
for _ in range(2):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"GET /v1/pubkey HTTP/1.1\r\nHost: x\r\n")   # never ends
    slow.append(s)
time.sleep(0.3)
try:
    urllib.request.urlopen("http://127.0.0.1:%d/v1/pubkey" % port, timeout=2).read()
    sys.exit("third connection from the same address was served")
except Exception:
    pass
for s in slow:        # the server drops idle connections after --timeout
    s.settimeout(6)
    if s.recv(1) != b"":
        sys.exit("slow connection got data")
# The server closes a connection before it counts it gone: on a busy
# machine the next request may still meet the full quota for a moment.
deadline = time.monotonic() + 10
while True:
    try:
        urllib.request.urlopen("http://127.0.0.1:%d/v1/pubkey" % port,
                               timeout=5).read()
        break
    except OSError as e:
        if time.monotonic() > deadline:
            sys.exit("address still refused after the idle timeout: %s" % e)
        time.sleep(0.1)
EOF2
t_pass "per-address connection limit and idle timeout"

# Logs never carry the token or the signing key.
! grep -q "$TOKEN" "$T_TMP/ks.log" || t_fail "token in the log"
grep -q "audit: attest host=host1 .*result=key_pcr_mismatch" "$T_TMP/ks.log" ||
	t_fail "no audit line for a refusal"
t_pass "audit lines present, no secrets in the log"

# A clean stop; in sanitizer builds, no report from the server.
ks_stop
! grep -q "Sanitizer" "$T_TMP/ks.log" || { cat "$T_TMP/ks.log" >&2; t_fail "sanitizer report"; }
grep -q "shutting down" "$T_TMP/ks.log" || t_fail "no clean shutdown"
exit 0
