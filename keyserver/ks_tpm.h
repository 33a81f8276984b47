/*
 * ks_tpm.h — server-side handling of TPM 2.0 structures: quotes
 * (TPMS_ATTEST), quote signatures (TPMT_SIGNATURE), attestation key public
 * parts (TPM2B_PUBLIC / SubjectPublicKeyInfo) and the PCR arithmetic of the
 * attestation check.
 *
 * Structure parsing uses tpm2-tss's marshalling library; signature checks
 * use OpenSSL's libcrypto, because a TPM signs with ECDSA P-256 or RSA and
 * libsodium implements neither.  Everything else (SHA-256, the certificate)
 * stays with libsodium.  Every function here is pure: no I/O, no logging.
 */
#ifndef SC_KS_TPM_H
#define SC_KS_TPM_H

#include <stddef.h>
#include <stdint.h>

#include "ks/ks.h"

#define KS_EXTRA_MAX	64	/* sizeof TPMU_HA: TPM2B_DATA maximum */

/* What the key server needs from a TPMS_ATTEST of type TPM_ST_ATTEST_QUOTE. */
struct ks_quote {
	uint8_t		 extra[KS_EXTRA_MAX];	/* extraData: our nonce */
	size_t		 extra_len;
	uint32_t	 pcr_mask;		/* bit i: PCR i selected (SHA-256 bank) */
	uint8_t		 pcr_digest[KS_DIGEST_LEN];
	uint64_t	 clock;
	uint32_t	 reset_count;
	uint32_t	 restart_count;
	uint8_t		 safe;
	uint64_t	 firmware;
	/* The signed bytes (the marshalled TPMS_ATTEST) inside the input. */
	const uint8_t	*signed_data;
	size_t		 signed_len;
};

/*
 * Parse a quote: in is either a marshalled TPM2B_ATTEST (what
 * Esys_Quote returns) or a bare marshalled TPMS_ATTEST (what
 * `tpm2_quote -m` writes).  Every byte must be consumed.
 * SC_ERR_FORMAT/SC_ERR_TRUNCATED: not a well-formed structure;
 * SC_ERR_MAGIC: magic != TPM_GENERATED_VALUE; SC_ERR_TYPE: not a quote;
 * SC_ERR_UNSUPPORTED: selection is not exactly one SHA-256 bank or the
 * digest is not 32 bytes.
 */
int	ks_quote_parse(const uint8_t *in, size_t len, struct ks_quote *q)
	    __attribute__((warn_unused_result));

/*
 * Convert an AK public key to DER SubjectPublicKeyInfo.  in is a marshalled
 * TPM2B_PUBLIC, a DER SubjectPublicKeyInfo, or PEM text ("-----BEGIN PUBLIC
 * KEY-----").  A TPM2B_PUBLIC must describe a restricted signing key
 * (ECC NIST P-256 with ECDSA/SHA-256 or null scheme, or RSA 2048..4096 with
 * RSASSA/RSAPSS/null scheme); a PEM or DER key must be P-256 or RSA >= 2048.
 * *restricted is set to 1 when the TPM attributes were checked (TPM2B_PUBLIC)
 * and 0 when the format cannot say (PEM/DER).  desc gets "ecc-p256" or
 * "rsa-NNNN".  SC_ERR_FORMAT, SC_ERR_UNSUPPORTED, SC_ERR_BADKEY, SC_ERR_NOSPACE.
 */
int	ks_ak_import(const uint8_t *in, size_t len, uint8_t *spki, size_t spkisz,
	    size_t *spkilen, int *restricted, char *desc, size_t descsz)
	    __attribute__((warn_unused_result));

/*
 * Verify a marshalled TPMT_SIGNATURE over data with the AK (DER SPKI).
 * Accepts ECDSA with SHA-256 for EC keys, RSASSA-PKCS1-v1_5 and RSASSA-PSS
 * with SHA-256 for RSA keys.
 * SC_ERR_FORMAT: malformed TPMT_SIGNATURE; SC_ERR_UNSUPPORTED: other
 * algorithm or hash; SC_ERR_MISMATCH: algorithm does not fit the key type;
 * SC_ERR_SIGNATURE: does not verify; SC_ERR_BADKEY: stored key unusable.
 */
int	ks_sig_verify(const uint8_t *spki, size_t spkilen, const uint8_t *sig,
	    size_t siglen, const uint8_t *data, size_t datalen)
	    __attribute__((warn_unused_result));

/* SHA-256 over the values of the PCRs in mask, ascending index order. */
void	ks_pcr_composite(const uint8_t values[KS_PCR_COUNT][KS_DIGEST_LEN],
	    uint32_t mask, uint8_t out[KS_DIGEST_LEN]);

/*
 * The value of a PCR reset to zeros and extended once with
 * SHA-256(hv_pubkey): SHA-256(0^32 || SHA-256(hv_pubkey)).
 */
void	ks_key_pcr_value(const uint8_t hv_pubkey[KS_HV_PUBKEY_LEN],
	    uint8_t out[KS_DIGEST_LEN]);

/* Suppress tpm2-tss's own stderr logging unless TSS2_LOG is set. */
void	ks_tss2_quiet(void);

#endif /* SC_KS_TPM_H */
