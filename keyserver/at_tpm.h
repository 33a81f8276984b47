/*
 * at_tpm.h — sccrypt-attest's TPM side (tpm2-tss ESAPI): attestation key
 * provisioning, PCR reads and quotes.
 */
#ifndef SC_AT_TPM_H
#define SC_AT_TPM_H

#include <stddef.h>
#include <stdint.h>

#include "ks/ks.h"

#define AT_AK_HANDLE_DEFAULT	0x81010002u
#define AT_AKPUB_MAX		KS_AKPUB_MAX

enum at_ak_alg {
	AT_AK_ECC = 1,		/* NIST P-256, ECDSA/SHA-256 */
	AT_AK_RSA = 2,		/* RSA 2048, RSASSA-PKCS1-v1_5/SHA-256 */
	AT_AK_RSAPSS = 3,	/* RSA 2048, RSASSA-PSS/SHA-256 */
};

struct at_tpm;

/*
 * Open the TPM through the TCTI configuration string tcti ("swtpm:host=
 * 127.0.0.1,port=2321", "device:/dev/tpmrm0", ...); NULL uses the
 * tpm2-tss default.
 */
int	at_tpm_open(const char *tcti, struct at_tpm **out)
	    __attribute__((warn_unused_result));
void	at_tpm_close(struct at_tpm *);
/* Text of the last TPM/TSS error (constant storage). */
const char *at_tpm_error(const struct at_tpm *);

/*
 * Create a restricted signing primary key in the endorsement hierarchy
 * and make it persistent at handle (owner authorisation, empty by
 * default).  If handle is taken: SC_ERR_BUSY, unless force (then the old
 * object is evicted first).  pub gets the marshalled TPM2B_PUBLIC.
 */
int	at_tpm_create_ak(struct at_tpm *, uint32_t handle, int alg, int force,
	    uint8_t *pub, size_t pubsz, size_t *publen)
	    __attribute__((warn_unused_result));
/* Marshalled TPM2B_PUBLIC of the persistent key at handle. */
int	at_tpm_read_public(struct at_tpm *, uint32_t handle, uint8_t *pub,
	    size_t pubsz, size_t *publen) __attribute__((warn_unused_result));
/* SHA-256 bank values of the PCRs in mask. */
int	at_tpm_pcr_read(struct at_tpm *, uint32_t mask,
	    uint8_t values[KS_PCR_COUNT][KS_DIGEST_LEN])
	    __attribute__((warn_unused_result));
/*
 * Quote the SHA-256 PCRs in mask with the AK at handle over qualifying
 * data nonce: quote gets the marshalled TPM2B_ATTEST, sig the marshalled
 * TPMT_SIGNATURE.
 */
int	at_tpm_quote(struct at_tpm *, uint32_t handle, const uint8_t *nonce,
	    size_t noncelen, uint32_t mask, uint8_t *quote, size_t quotesz,
	    size_t *quotelen, uint8_t *sig, size_t sigsz, size_t *siglen)
	    __attribute__((warn_unused_result));

/* NV index of the RSA 2048 EK certificate (TCG EK Credential Profile). */
#define AT_EK_CERT_NV		0x01c00002u
#define AT_EK_CERT_MAX		KS_EKCERT_MAX

/*
 * The EK certificate (DER) the manufacturer stored at AT_EK_CERT_NV.
 * SC_ERR_NOTFOUND if the TPM has none, SC_ERR_NOSPACE if it is larger
 * than certsz.
 */
int	at_tpm_ek_cert(struct at_tpm *, uint8_t *cert, size_t certsz,
	    size_t *certlen) __attribute__((warn_unused_result));

/*
 * TPM2_ActivateCredential: recover the secret the key server wrapped
 * (blob: marshalled TPM2B_ID_OBJECT, enc: marshalled TPM2B_ENCRYPTED_
 * SECRET) for the AK at handle under the TPM's RSA EK (recreated from
 * the TCG default template; its policy is PolicySecret(endorsement)).
 * The TPM refuses a credential made for another EK or another AK name.
 * SC_ERR_FORMAT (blob/enc malformed), SC_ERR_NOSPACE, SC_ERR_SYSTEM.
 */
int	at_tpm_activate(struct at_tpm *, uint32_t handle, const uint8_t *blob,
	    size_t blob_len, const uint8_t *enc, size_t enc_len,
	    uint8_t *secret, size_t secretsz, size_t *secret_len)
	    __attribute__((warn_unused_result));

#endif /* SC_AT_TPM_H */
