#!/bin/sh
# ks-cred.sh — the key server's EK certificate check and software
# TPM2_MakeCredential (ks_cred.c) against a real TPM (swtpm whose EK
# certificate swtpm_setup had signed by a local test CA): the EK
# certificate verifies against the CA bundle and certifies the TPM's EK;
# against another CA it is refused; the credential made for an AK resident
# in the TPM with the certified EK is recovered by TPM2_ActivateCredential;
# made for another AK's name (an AK the TPM does not hold) or for another
# TPM's EK, activation fails.  (Building blocks of issue 21 item 6.)
. "$top_srcdir/tests/lib.sh"
MK=$(cd "$top_builddir" && pwd)/tests/unit/ks_mkcred
[ -x "$MK" ] || t_skip "ks_mkcred not built"
t_need_cmds swtpm swtpm_setup swtpm_localca tpm2_createek tpm2_createak \
	tpm2_activatecredential tpm2_readpublic tpm2_flushcontext tpm2_nvread openssl

# A TPM manufactured by a local test CA.
CA=$T_TMP/ca
mkdir -p "$CA" "$T_TMP/tpm"
cat >"$T_TMP/localca.conf" <<CONF
statedir = $CA
signingkey = $CA/signkey.pem
issuercert = $CA/issuercert.pem
certserial = $CA/certserial
CONF
cat >"$T_TMP/localca.options" <<CONF
--platform-manufacturer SCCryptTest
--platform-version 1
--platform-model TestTPM
CONF
cat >"$T_TMP/swtpm_setup.conf" <<CONF
create_certs_tool = $(command -v swtpm_localca)
create_certs_tool_config = $T_TMP/localca.conf
create_certs_tool_options = $T_TMP/localca.options
active_pcr_banks = sha256
CONF
swtpm_setup --tpm2 --tpmstate "$T_TMP/tpm" --config "$T_TMP/swtpm_setup.conf" \
	--create-ek-cert --createek --lock-nvram --overwrite >"$T_TMP/setup.log" 2>&1 ||
	{ cat "$T_TMP/setup.log" >&2; t_fail "swtpm_setup"; }
cat "$CA/issuercert.pem" "$CA/swtpm-localca-rootca-cert.pem" >"$T_TMP/bundle.pem"
t_start_swtpm
cd "$T_TMP"
tpm2_nvread 0x01c00002 -o ekcert.der >/dev/null 2>&1 || t_fail "no RSA EK certificate in NV"
"$MK" -c ekcert.der bundle.pem ek.der || t_fail "EK certificate refused"
t_pass "the EK certificate verifies against the manufacturer CA bundle"
# An EK certificate from a CA not in the bundle.
openssl req -x509 -newkey rsa:2048 -nodes -keyout other.key -subj /CN=other-ca \
	-days 2 -out other.pem >/dev/null 2>&1 || t_fail "openssl req"
set +e; "$MK" -c ekcert.der other.pem x.der; rc=$?; set -e
[ $rc = 3 ] || t_fail "EK certificate from an unknown CA: exit $rc, want 3 (untrusted)"
t_pass "an EK certificate from an unknown CA is refused"

tpm2_createek -c ek.ctx -G rsa -u ek.pub >/dev/null || t_fail "createek"
tpm2_readpublic -c ek.ctx -f der -o ek-tpm.der >/dev/null || t_fail "EK to DER"
cmp -s ek.der ek-tpm.der || t_fail "the certified EK is not the TPM's default RSA EK"
flush() { tpm2_flushcontext -t >/dev/null; tpm2_flushcontext -s >/dev/null; }
# activate CRED OUT: TPM2_ActivateCredential with the resident AK and the EK
# (its policy: PolicySecret of the endorsement hierarchy).
activate() {
	flush
	tpm2_startauthsession --policy-session -S sess.ctx >/dev/null &&
	tpm2_policysecret -S sess.ctx -c e >/dev/null &&
	tpm2_activatecredential -c ak.ctx -C ek.ctx -i "$1" -o "$2" \
		-P session:sess.ctx >/dev/null 2>act.log
}
flush
tpm2_createak -C ek.ctx -c ak.ctx -G ecc -g sha256 -s ecdsa -u ak.pub \
	-n ak.name >/dev/null || t_fail "createak"
flush
head -c 32 /dev/urandom >secret

# The name we compute is the TPM's.
"$MK" ek.der ak.pub secret cred || t_fail "make credential"
activate cred got ||
	{ cat act.log >&2; t_fail "the TPM could not activate our credential"; }
cmp -s got secret || t_fail "activated secret differs"
t_pass "swtpm activates the credential made in software for its own AK"

# Made for an AK this TPM does not hold: activation with the resident AK fails.
flush
tpm2_createak -C ek.ctx -c ak2.ctx -G rsa -g sha256 -s rsassa -u ak2.pub \
	-n ak2.name >/dev/null || t_fail "second AK"
flush
"$MK" ek.der ak2.pub secret cred2 || t_fail "make credential 2"
if activate cred2 got2; then
	t_fail "credential for another AK's name activated"
fi
# Refused by the credential's integrity check, not for another reason.
grep -q 'integrity check failed' act.log || { cat act.log >&2; t_fail "wrong refusal"; }
t_pass "a credential bound to another AK's name is not activated"

# Made with another TPM's EK (a fresh RSA key): activation fails.
python3 - <<'PY' || t_skip "python3 cryptography not installed"
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives import serialization
k = rsa.generate_private_key(public_exponent=65537, key_size=2048)
open("other-ek.der", "wb").write(k.public_key().public_bytes(
    serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo))
PY
"$MK" other-ek.der ak.pub secret cred3 || t_fail "make credential 3"
if activate cred3 got3; then
	t_fail "credential for another TPM's EK activated"
fi
# The TPM refuses it in ActivateCredential itself (swtpm 0.7 / libtpms
# answers a failed OAEP decryption with TPM_RC_FAILURE; so this case runs last).
grep -q 'Esys_ActivateCredential(0x' act.log || { cat act.log >&2; t_fail "wrong refusal"; }
t_pass "a credential made for another TPM's EK is not activated"
