#!/bin/sh
# ks-hvsim.sh — attestation with the real simulated VMM: sccrypt-hvsim
# generates its key and extends PCR 15 of a swtpm at start; sccrypt-attest
# asks it for the key (SC_OP_GET_INFO), quotes, and gets a certificate for
# exactly that key.  A second hvsim start without a TPM reset (the PCR now
# holds two extends) is refused; after a "reboot" (swtpm restarted: PCRs
# reset, the persistent AK kept) the new hv key is certified.
. "$top_srcdir/tests/lib.sh"

KS=$top_builddir/keyserver/sccrypt-keyserver
AT=$top_builddir/keyserver/sccrypt-attest
HV=$top_builddir/hv/sim/sccrypt-hvsim
[ -x "$KS" ] && [ -x "$AT" ] || t_skip "keyserver/attest not built"
[ -x "$HV" ] || t_skip "sccrypt-hvsim not built"
t_need_cmds swtpm curl python3 tpm2_pcrread

t_start_swtpm

KSPORT=$(t_free_port)
URL=http://127.0.0.1:$KSPORT
mkdir -p "$T_TMP/ks"
t_bg "$KS" -s "$T_TMP/ks" -l 127.0.0.1:$KSPORT 2>"$T_TMP/ks.log"
t_wait 100 curl -sf -m 2 "$URL/v1/pubkey" -o /dev/null || t_fail "key server did not start"
TOKEN=$(cat "$T_TMP/ks/operator.token")
curl -sf -m 5 "$URL/v1/pubkey" |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])' >"$T_TMP/ks.pub"

HVSOCK=$T_TMP/hvsim.sock
cat >"$T_TMP/hvsim.conf" <<EOF
socket = $HVSOCK
socket-mode = 0600
tpm-tcti = $TCTI
pcr = 15
EOF
start_hv() {
	rm -f "$HVSOCK"
	t_bg "$HV" -F -f "$T_TMP/hvsim.conf" 2>"$T_TMP/hv.log"
	HVPID=$!
	t_wait 100 test -S "$HVSOCK" || { cat "$T_TMP/hv.log" >&2; t_fail "hvsim did not start"; }
	t_wait 50 grep -q "hv public key" "$T_TMP/hv.log" || t_fail "hvsim logged no key"
	HVKEY=$(sed -n 's/.*hv public key \([0-9a-f]\{64\}\).*/\1/p' "$T_TMP/hv.log" | head -n 1)
	[ ${#HVKEY} = 64 ] || t_fail "cannot read the hv key from hvsim's log"
}
stop_hv() { kill "$HVPID"; wait "$HVPID" 2>/dev/null || true; }

"$AT" -q --create-ak --insecure-ak -n hv1 >"$T_TMP/enroll.json" || t_fail "create AK"
curl -sf -m 5 -H "Authorization: Bearer $TOKEN" --data-binary @"$T_TMP/enroll.json" \
	"$URL/v1/hosts" >/dev/null || t_fail "enroll"

attest() {	# attest CERTFILE: agent with the hv's own key from GET_INFO
	"$AT" -q -k "$URL" -n hv1 -s "$HVSOCK" -K "$T_TMP/ks.pub" -o "$1" \
		2>"$T_TMP/agent.err"
}

# ---- boot 1 ----
start_hv
attest "$T_TMP/cert1" || { cat "$T_TMP/agent.err" >&2; t_fail "attestation with hvsim"; }
"$AT" -q --verify-cert "$T_TMP/cert1" -K "$T_TMP/ks.pub" -n hv1 >"$T_TMP/v1" ||
	t_fail "certificate does not verify"
grep -q "^hv_pubkey $HVKEY\$" "$T_TMP/v1" || t_fail "certificate is not for hvsim's key"
t_pass "hvsim extends PCR 15, the agent gets its key by GET_INFO, the certificate names that key"
KEY1=$HVKEY

# dom0 presenting another key while the TPM holds the hv's measurement.
head -c 32 /dev/urandom >"$T_TMP/dom0.key"
! "$AT" -q -k "$URL" -n hv1 --hv-pubkey-file "$T_TMP/dom0.key" -K "$T_TMP/ks.pub" \
	-o "$T_TMP/cert-dom0" 2>"$T_TMP/agent.err" || t_fail "dom0 key certified"
grep -q key_pcr_mismatch "$T_TMP/agent.err" || t_fail "dom0 key: wrong refusal"
[ ! -e "$T_TMP/cert-dom0" ] || t_fail "certificate stored for dom0's key"
t_pass "dom0's own key is refused (key_pcr_mismatch)"

# ---- hv restarted without a TPM reset: PCR 15 holds two extends ----
stop_hv
start_hv
[ "$HVKEY" != "$KEY1" ] || t_fail "hvsim reused its key"
cp "$T_TMP/cert1" "$T_TMP/cert-keep"
! attest "$T_TMP/cert-keep" || t_fail "second extend accepted"
grep -q key_pcr_mismatch "$T_TMP/agent.err" || t_fail "second extend: wrong refusal"
cmp -s "$T_TMP/cert1" "$T_TMP/cert-keep" || t_fail "refusal touched the stored certificate"
t_pass "hv restart without TPM reset is refused; the old certificate file is left as it was"

# ---- reboot: TPM reset, AK persists, new hv key certified ----
stop_hv
kill "$TPMPID"; wait "$TPMPID" 2>/dev/null || true
t_start_swtpm	# same ports and state
start_hv
attest "$T_TMP/cert2" || { cat "$T_TMP/agent.err" >&2; t_fail "attestation after reboot"; }
"$AT" -q --verify-cert "$T_TMP/cert2" -K "$T_TMP/ks.pub" -n hv1 >"$T_TMP/v2" ||
	t_fail "certificate 2 does not verify"
grep -q "^hv_pubkey $HVKEY\$" "$T_TMP/v2" || t_fail "certificate 2 is not for the new key"
t_pass "after a reboot the new hv key is certified"
exit 0
