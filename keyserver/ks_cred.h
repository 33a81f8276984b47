/*
 * ks_cred.h — TPM2 credential protection on the server side, used by
 * EK-anchored AK enrollment (ks_activate.c, PROTOCOL.md §12.4.2).
 *
 * ks_make_credential is TPM2_MakeCredential done in software (TPM 2.0
 * Part 1 §24, as Keylime's registrar and `tpm2_makecredential --tcti none`
 * do): it wraps a secret so that only the TPM holding the EK's private key,
 * and only for a loaded object with the given name, can recover it with
 * TPM2_ActivateCredential.  Supported EK: RSA 2048 with the TCG default
 * template (nameAlg SHA-256, AES-128-CFB symmetric, OAEP) — what swtpm and
 * most TPMs certify.  The AK's name binds the credential to that AK.
 *
 * OpenSSL's libcrypto does RSA-OAEP and AES-CFB (libsodium has neither);
 * HMAC-SHA-256 (KDFa, the integrity HMAC) and SHA-256 are libsodium's.
 * Pure functions: no I/O, no logging.
 */
#ifndef SC_KS_CRED_H
#define SC_KS_CRED_H

#include <stddef.h>
#include <stdint.h>

#define KS_CRED_SECRET_MAX	32	/* the credential: a TPM2B_DIGEST (SHA-256) */
#define KS_AK_NAME_LEN		34	/* TPM_ALG_SHA256 (2) + SHA-256 digest */
/* Marshalled TPM2B_ID_OBJECT: size, TPM2B_DIGEST(HMAC), encrypted TPM2B_DIGEST. */
#define KS_CRED_BLOB_MAX	(2 + 2 + 32 + 2 + KS_CRED_SECRET_MAX)
/* Marshalled TPM2B_ENCRYPTED_SECRET: size + RSA-2048 ciphertext. */
#define KS_CRED_ENC_MAX		(2 + 256)

/*
 * The TPM name of an object from its marshalled TPM2B_PUBLIC (all bytes
 * consumed): nameAlg (must be SHA-256) || SHA-256(TPMT_PUBLIC).
 * SC_ERR_FORMAT, SC_ERR_UNSUPPORTED (other nameAlg).
 */
int	ks_tpm_name(const uint8_t *tpm2b_public, size_t len,
	    uint8_t name[KS_AK_NAME_LEN]) __attribute__((warn_unused_result));

/*
 * MakeCredential for the RSA EK ek_spki (DER SubjectPublicKeyInfo, 2048
 * bits) and the object name (KS_AK_NAME_LEN bytes): blob gets the
 * marshalled TPM2B_ID_OBJECT, enc the marshalled TPM2B_ENCRYPTED_SECRET.
 * secret_len 1..KS_CRED_SECRET_MAX.  SC_ERR_UNSUPPORTED (not RSA 2048),
 * SC_ERR_BADKEY, SC_ERR_INVAL, SC_ERR_NOSPACE, SC_ERR_INTERNAL.
 */
int	ks_make_credential(const uint8_t *ek_spki, size_t ek_len,
	    const uint8_t name[KS_AK_NAME_LEN], const uint8_t *secret,
	    size_t secret_len, uint8_t blob[KS_CRED_BLOB_MAX], size_t *blob_len,
	    uint8_t enc[KS_CRED_ENC_MAX], size_t *enc_len)
	    __attribute__((warn_unused_result));

/*
 * Check an EK certificate (DER) against a bundle of CA certificates (PEM
 * text, the manufacturers' roots and intermediates): the chain must verify
 * to one of them at time now (0: the current time).  TPM EK certificates
 * have an empty subject and a critical subjectAltName naming the TPM,
 * which OpenSSL accepts.  On success the EK's public key, DER
 * SubjectPublicKeyInfo, in spki.  SC_ERR_FORMAT (not a certificate, bad
 * bundle), SC_ERR_UNTRUSTED (chain does not verify), SC_ERR_NOSPACE.
 */
int	ks_ek_cert_check(const uint8_t *der, size_t len, const char *bundle,
	    size_t bundle_len, uint64_t now, uint8_t *spki, size_t spkisz,
	    size_t *spki_len) __attribute__((warn_unused_result));

#endif /* SC_KS_CRED_H */
