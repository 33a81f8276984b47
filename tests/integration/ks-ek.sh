#!/bin/sh
# ks-ek.sh — EK-anchored AK enrollment end to end (issue 21): two software
# TPMs whose EK certificates local test CAs signed (swtpm_setup); the key
# server trusts only the first CA.  Enrollment with the EK certificate ->
# credential challenge -> sccrypt-attest --activate (TPM2_ActivateCredential)
# -> attestation -> certificate.  Refused, each with its JSON error and no
# certificate: a quote before activation, an AK from a different TPM than
# the EK certificate (its challenge cannot be answered), an EK certificate
# from an unknown CA, a wrong activation answer (which also spends the
# challenge), a replayed activation; a bare AK without "insecure_ak".
# KS_EK_DB=pg runs the same on PostgreSQL (ks-ek-pg.sh).
. "$top_srcdir/tests/lib.sh"

KS=$top_builddir/keyserver/sccrypt-keyserver
AT=$top_builddir/keyserver/sccrypt-attest
[ -x "$KS" ] && [ -x "$AT" ] || t_skip "keyserver/attest not built"
t_need_cmds swtpm swtpm_setup swtpm_localca curl python3 tpm2_pcrextend \
	tpm2_createek tpm2_activatecredential tpm2_startauthsession \
	tpm2_policysecret tpm2_flushcontext sha256sum openssl
. "$top_srcdir/tests/integration/ks-eklib.sh"
DBARG=""
if [ "${KS_EK_DB:-}" = pg ]; then
	. "$top_srcdir/tests/integration/ks-pglib.sh"
	ks_pg_start
	DBARG="--db $PGURI"
fi

# ---- two TPMs from two manufacturers; the key server knows the first ----
ks_ek_ca "$T_TMP/ca1"
ks_ek_ca "$T_TMP/ca2"
ks_ek_tpm "$T_TMP/tpmA" "$T_TMP/ca1"
ks_ek_tpm "$T_TMP/tpmB" "$T_TMP/ca2"
ks_ek_swtpm "$T_TMP/tpmA"; TA=$EK_TCTI
ks_ek_swtpm "$T_TMP/tpmB"; TB=$EK_TCTI
head -c 32 /dev/urandom >"$T_TMP/hv.key"
for t in "$TA" "$TB"; do
	TPM2TOOLS_TCTI=$t tpm2_pcrextend \
		15:sha256=$(sha256sum <"$T_TMP/hv.key" | cut -d' ' -f1) >/dev/null
done

KSPORT=$(t_free_port)
URL=http://127.0.0.1:$KSPORT
mkdir -p "$T_TMP/ks"
chmod 700 "$T_TMP/ks"
# shellcheck disable=SC2086
t_bg "$KS" -s "$T_TMP/ks" -l 127.0.0.1:$KSPORT $DBARG \
	--ek-ca-bundle "$T_TMP/ca1/bundle.pem" 2>>"$T_TMP/ks.log"
t_wait 100 curl -sf -m 2 "$URL/v1/pubkey" -o /dev/null ||
	{ cat "$T_TMP/ks.log" >&2; t_fail "key server did not start"; }
TOKEN=$(cat "$T_TMP/ks/operator.token")
curl -sf -m 5 "$URL/v1/pubkey" |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])' >"$T_TMP/ks.pub"

req() {
	m=$1; p=$2; shift 2
	ST=$(curl -s -m 10 -o "$T_TMP/resp" -w '%{http_code}' -X "$m" "$@" "$URL$p")
}
op() { req "$@" -H "Authorization: Bearer $TOKEN"; }
expect() {	# expect STATUS [ERRORCODE] what
	[ "$ST" = "$1" ] || { cat "$T_TMP/resp" >&2; t_fail "$3: HTTP $ST, want $1"; }
	if [ -n "$2" ]; then
		grep -q "\"error\":\"$2\"" "$T_TMP/resp" ||
			{ cat "$T_TMP/resp" >&2; t_fail "$3: want error $2"; }
		! grep -q '"certificate":' "$T_TMP/resp" || t_fail "$3: certificate in a refusal"
	fi
	t_pass "$3"
}
# at TCTI HOST [args...]: the agent on that TPM for that host name
at() { t=$1; h=$2; shift 2; "$AT" -q -T "$t" -n "$h" "$@"; }
# attest TCTI HOST: one attestation; the certificate in $T_TMP/HOST.cert
attest() {
	rm -f "$T_TMP/$2.cert"
	at "$1" "$2" -k "$URL" -K "$T_TMP/ks.pub" --hv-pubkey-file "$T_TMP/hv.key" \
		--cert-out "$T_TMP/$2.cert" 2>"$T_TMP/attest.err"
}
refused() {	# refused TCTI HOST CODE what: attestation refused with CODE, no cert
	if attest "$1" "$2"; then t_fail "$4: attested"; fi
	grep -q "$3" "$T_TMP/attest.err" || { cat "$T_TMP/attest.err" >&2; t_fail "$4: not $3"; }
	[ ! -e "$T_TMP/$2.cert" ] || t_fail "$4: a certificate was stored"
	t_pass "$4"
}

# ---- AKs: one per TPM; the enrollment carries the TPM's EK certificate ----
at "$TA" hostA --create-ak >"$T_TMP/A.json" || t_fail "create AK in TPM A"
at "$TB" hostB --create-ak >"$T_TMP/B.json" || t_fail "create AK in TPM B"
grep -q '"ek_certificate"' "$T_TMP/A.json" || t_fail "no EK certificate in the enrollment"
! grep -q insecure_ak "$T_TMP/A.json" || t_fail "insecure_ak by default"
t_pass "sccrypt-attest --create-ak reads the EK certificate from the TPM"

# A bare AK is refused unless the enrollment says insecure_ak.
python3 - "$T_TMP/A.json" "$T_TMP/bare.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); del r["ek_certificate"]; r["name"] = "bare"
json.dump(r, open(sys.argv[2], "w"))
PY
op POST /v1/hosts --data-binary @"$T_TMP/bare.json"
expect 400 invalid_field "a bare AK without insecure_ak is refused"
grep -q 'insecure_ak' "$T_TMP/resp" || t_fail "the refusal does not name insecure_ak"

# An EK certificate from a CA the key server does not trust.
op POST /v1/hosts --data-binary @"$T_TMP/B.json"
expect 403 ek_untrusted "an EK certificate from an unknown CA is refused"
req GET /v1/hosts/hostB/activation
expect 404 unknown_host "nothing was enrolled for it"

# ---- the genuine enrollment ----
op POST /v1/hosts --data-binary @"$T_TMP/A.json"
expect 201 "" "enrollment with a trusted EK certificate"
grep -q '"ak_ek":true' "$T_TMP/resp" && grep -q '"ak_activated":false' "$T_TMP/resp" &&
	grep -q '"credential_blob"' "$T_TMP/resp" || { cat "$T_TMP/resp" >&2; t_fail "host object"; }
grep -q 'ek=verified activation=pending' "$T_TMP/ks.log" || t_fail "enrollment audit line"
refused "$TA" hostA ak_not_activated "no certificate before the AK is activated"

# ---- an AK from a different TPM, claimed under TPM A's EK ----
python3 - "$T_TMP/A.json" "$T_TMP/B.json" "$T_TMP/X.json" <<'PY'
import json, sys
a = json.load(open(sys.argv[1])); b = json.load(open(sys.argv[2]))
b["ek_certificate"] = a["ek_certificate"]; b["name"] = "hostX"
json.dump(b, open(sys.argv[3], "w"))
PY
op POST /v1/hosts --data-binary @"$T_TMP/X.json"
expect 201 "" "enrollment of TPM B's AK with TPM A's EK certificate (not yet provable)"
if at "$TA" hostX -k "$URL" --activate 2>"$T_TMP/act.err"; then
	t_fail "TPM A answered a challenge for an AK it does not hold"
fi
grep -q 'ActivateCredential' "$T_TMP/act.err" || { cat "$T_TMP/act.err" >&2; t_fail "wrong failure (A)"; }
if at "$TB" hostX -k "$URL" --activate 2>"$T_TMP/act.err"; then
	t_fail "TPM B answered a challenge made for TPM A's EK"
fi
grep -q 'ActivateCredential' "$T_TMP/act.err" || { cat "$T_TMP/act.err" >&2; t_fail "wrong failure (B)"; }
refused "$TB" hostX ak_not_activated "an AK from a different TPM gets no certificate"

# ---- a wrong answer spends the challenge ----
sed 's/"name": "hostA"/"name": "hostW"/' "$T_TMP/A.json" >"$T_TMP/W.json"
op POST /v1/hosts --data-binary @"$T_TMP/W.json"
expect 201 "" "enrollment of hostW"
req POST /v1/activate --data-binary "{\"host\":\"hostW\",\"secret\":\"$(head -c 32 /dev/urandom | base64 -w0)\"}"
expect 403 activation_invalid "a wrong activation answer is refused"
grep -q 'activate host=hostW .*result=activation_invalid' "$T_TMP/ks.log" || t_fail "audit line"
if at "$TA" hostW -k "$URL" --activate 2>"$T_TMP/act.err"; then
	t_fail "the challenge survived a wrong answer"
fi
grep -q no_activation "$T_TMP/act.err" || { cat "$T_TMP/act.err" >&2; t_fail "want no_activation"; }
refused "$TA" hostW ak_not_activated "after a wrong answer the AK stays unactivated"

# ---- activation by the TPM, then attestation ----
at "$TA" hostA -k "$URL" --activate || t_fail "activation of hostA"
grep -q 'activate host=hostA .*result=ok' "$T_TMP/ks.log" || t_fail "activation audit line"
t_pass "sccrypt-attest --activate: the TPM recovered the secret, the key server accepted it"
attest "$TA" hostA || { cat "$T_TMP/attest.err" >&2; t_fail "attestation after activation"; }
"$AT" -q --verify-cert "$T_TMP/hostA.cert" -K "$T_TMP/ks.pub" -n hostA \
	--hv-pubkey-file "$T_TMP/hv.key" >/dev/null || t_fail "certificate does not verify"
t_pass "activated AK attests and gets a certificate"
op GET /v1/hosts/hostA
grep -q '"ak_activated":true' "$T_TMP/resp" || t_fail "host not shown activated"
if at "$TA" hostA -k "$URL" --activate 2>"$T_TMP/act.err"; then
	t_fail "a second activation succeeded"
fi
grep -q no_activation "$T_TMP/act.err" || { cat "$T_TMP/act.err" >&2; t_fail "want no_activation"; }
t_pass "an activated AK has no challenge left"

# ---- a replayed activation: the same right answer twice ----
sed 's/"name": "hostA"/"name": "hostR"/' "$T_TMP/A.json" >"$T_TMP/R.json"
op POST /v1/hosts --data-binary @"$T_TMP/R.json"
expect 201 "" "enrollment of hostR"
req GET /v1/hosts/hostR/activation
expect 200 "" "the challenge is public"
# What an eavesdropper on the agent's POST would hold: the secret, recovered
# here with tpm2-tools from the same challenge.
python3 - "$T_TMP/resp" "$T_TMP/R.cred" <<'PY'
import base64, json, struct, sys
r = json.load(open(sys.argv[1]))
open(sys.argv[2], "wb").write(struct.pack(">II", 0xBADCC0DE, 1) +
    base64.b64decode(r["credential_blob"]) + base64.b64decode(r["encrypted_secret"]))
PY
(
	cd "$T_TMP" && export TPM2TOOLS_TCTI="$TA" &&
	tpm2_createek -c ek.ctx -G rsa >/dev/null &&
	tpm2_startauthsession --policy-session -S s.ctx >/dev/null &&
	tpm2_policysecret -S s.ctx -c e >/dev/null &&
	tpm2_activatecredential -c 0x81010002 -C ek.ctx -i R.cred -o R.secret \
		-P session:s.ctx >/dev/null 2>act.log &&
	tpm2_flushcontext -t >/dev/null && tpm2_flushcontext -s >/dev/null
) || { cat "$T_TMP/act.log" >&2; t_fail "tpm2_activatecredential"; }
B=$(base64 -w0 <"$T_TMP/R.secret")
req POST /v1/activate --data-binary "{\"host\":\"hostR\",\"secret\":\"$B\"}"
expect 200 "" "the recovered secret activates hostR"
req POST /v1/activate --data-binary "{\"host\":\"hostR\",\"secret\":\"$B\"}"
expect 403 activation_invalid "a replayed activation is refused"
req POST /v1/activate --data-binary "{\"host\":\"hostA\",\"secret\":\"$B\"}"
expect 403 activation_invalid "a secret is not accepted for another host"

# ---- revocation still applies to activated hosts; bare AK still possible ----
op POST /v1/hosts/hostA/revoke
expect 200 "" "revoke hostA"
refused "$TA" hostA host_revoked "a revoked activated host gets no certificate"
at "$TB" hostB --print-enrollment --insecure-ak >"$T_TMP/Bi.json" 2>"$T_TMP/insecure.err" ||
	t_fail "--insecure-ak enrollment"
grep -q '"insecure_ak": true' "$T_TMP/Bi.json" || t_fail "no insecure_ak in the enrollment"
grep -q 'insecure-ak' "$T_TMP/insecure.err" || t_fail "--insecure-ak not warned about"
op POST /v1/hosts --data-binary @"$T_TMP/Bi.json"
expect 201 "" "--insecure-ak enrolls a bare AK"
grep -q 'enroll host=hostB .*insecure_ak' "$T_TMP/ks.log" || t_fail "insecure_ak not logged"
attest "$TB" hostB || { cat "$T_TMP/attest.err" >&2; t_fail "insecure AK attestation"; }
t_pass "an operator-vouched AK attests (logged as insecure_ak)"
