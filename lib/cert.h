/*
 * cert.h — VMM certificates (DESIGN §4).
 *
 * Issued by the key server after TPM attestation; self-authenticating, so
 * untrusted dom0 may deliver it in the HELLO.  Binary layout (big-endian):
 *
 *   magic "SCC1"  version:u8  host:str8  hv_pubkey[32]  pcr_digest[32]
 *   issued:u64  expires:u64  (unix seconds)  signer[32] (key server Ed25519
 *   public key)  signature[64] (Ed25519 over every preceding byte)
 */
#ifndef SC_CERT_H
#define SC_CERT_H

#include <stddef.h>
#include <stdint.h>

#define SC_CERT_MAGIC		"SCC1"
#define SC_CERT_VERSION		1
#define SC_ED25519_PK_LEN	32
#define SC_ED25519_SK_LEN	64
#define SC_ED25519_SIG_LEN	64

struct sc_cert {
	char		host[256];
	uint8_t		hv_pubkey[32];
	uint8_t		pcr_digest[32];
	uint64_t	issued;
	uint64_t	expires;
	uint8_t		signer[SC_ED25519_PK_LEN];
};

/* Encode c signed with sk (whose public half must equal c->signer). */
int	sc_cert_sign(const struct sc_cert *c, const uint8_t sk[SC_ED25519_SK_LEN],
	    uint8_t *out, size_t outsz, size_t *outlen) __attribute__((warn_unused_result));
/* Parse without trusting (for display). */
int	sc_cert_parse(const uint8_t *in, size_t len, struct sc_cert *c)
	    __attribute__((warn_unused_result));
/*
 * Parse and verify: signature by ks_pubkey (the pinned key server key),
 * host equal to expected_host (if not NULL), hv_pubkey equal to expected_hv
 * (if not NULL), issued <= now + 300 s skew, now < expires.
 * SC_ERR_SIGNATURE, SC_ERR_UNTRUSTED (other signer), SC_ERR_MISMATCH (host or
 * key), SC_ERR_EXPIRED, SC_ERR_FORMAT.
 */
int	sc_cert_verify(const uint8_t *in, size_t len, const uint8_t ks_pubkey[32],
	    const char *expected_host, const uint8_t expected_hv[32], uint64_t now,
	    struct sc_cert *c) __attribute__((warn_unused_result));

#endif /* SC_CERT_H */
