/*
 * ks_req.h — JSON bodies of the key server API, parsed into fixed-size
 * structs with every limit of PROTOCOL.md §12 enforced.
 *
 * Parsers take untrusted bytes (len bytes, not necessarily NUL-terminated)
 * and return KS_OK or a ks_result (KS_E_BAD_JSON, KS_E_BAD_FIELD); on error,
 * why[] gets a short message built only from constant text and field names,
 * never from the input, so it is safe to log and to return to the client.
 */
#ifndef SC_KS_REQ_H
#define SC_KS_REQ_H

#include <stddef.h>
#include <stdint.h>

#include "ks/ks.h"

#define KS_WHY_MAX	160

/* Golden PCR policy of a host (SHA-256 bank). */
struct ks_policy {
	uint32_t	pcr_mask;	/* boot PCRs checked against pcrs[] */
	uint8_t		pcrs[KS_PCR_COUNT][KS_DIGEST_LEN];
	unsigned int	key_pcr;	/* PCR the hv extends with H(hv key) */
};

/*
 * PCRs a policy must not rely on.  16 (debug) and 23 (application) can be
 * reset from any locality, so dom0 could reset one and extend it with its
 * own key; 17..22 are reset by a dynamic launch (DRTM), so they are a key
 * PCR only in a DRTM policy, one that pins the launch measurement (PCR 17).
 */
#define KS_PCR_RESETTABLE	((1u << 16) | (1u << 23))
#define KS_PCR_DRTM		0x007e0000u	/* PCRs 17..22 */
#define KS_PCR_DRTM_LAUNCH	17
#define KS_PCR_STATIC		0x0000ffffu	/* PCRs 0..15: reset only at boot */

/* POST /v1/hosts */
struct ks_enroll_req {
	char		name[KS_HOST_MAX + 1];
	uint8_t		ak[KS_AKPEM_MAX];	/* PEM text, or decoded base64 */
	size_t		ak_len;
	struct ks_policy policy;
	uint8_t		ek_cert[KS_EKCERT_MAX];	/* DER; ek_cert_len 0: none */
	size_t		ek_cert_len;
	int		insecure_ak;	/* bare AK, no EK proof (exclusive) */
};

/* POST /v1/activate */
struct ks_activate_req {
	char		host[KS_HOST_MAX + 1];
	uint8_t		secret[KS_ACT_SECRET_LEN];
};

/* Response of GET /v1/hosts/NAME/activation (read by sccrypt-attest). */
#define KS_CRED_BLOB_WIRE_MAX	128	/* marshalled TPM2B_ID_OBJECT */
#define KS_CRED_ENC_WIRE_MAX	1024	/* marshalled TPM2B_ENCRYPTED_SECRET */
struct ks_activation_resp {
	uint8_t		blob[KS_CRED_BLOB_WIRE_MAX];
	size_t		blob_len;
	uint8_t		enc[KS_CRED_ENC_WIRE_MAX];
	size_t		enc_len;
	uint64_t	expires;
};

/* POST /v1/attest */
struct ks_attest_req {
	char		host[KS_HOST_MAX + 1];
	uint8_t		quote[KS_QUOTE_MAX];
	size_t		quote_len;
	uint8_t		sig[KS_SIG_MAX];
	size_t		sig_len;
	uint32_t	pcr_mask;		/* PCR values posted */
	uint8_t		pcrs[KS_PCR_COUNT][KS_DIGEST_LEN];
	uint8_t		hv_pubkey[KS_HV_PUBKEY_LEN];
};

/* Response of GET /v1/nonce (read by sccrypt-attest). */
struct ks_nonce_resp {
	uint8_t		nonce[KS_NONCE_LEN];
	uint64_t	expires;
	int		have_policy;	/* host known: pcr_mask/key_pcr valid */
	uint32_t	pcr_mask;
	unsigned int	key_pcr;
};

/* Response of POST /v1/attest and GET /v1/hosts/NAME/certificate. */
struct ks_cert_resp {
	uint8_t		cert[KS_CERT_MAX];
	size_t		cert_len;
	uint64_t	expires;
};

/* POST /v1/owners (operator): register VM uuid -> owner key. */
struct ks_owner_reg_req {
	uint8_t		uuid[KS_UUID_LEN];
	uint8_t		owner_key[KS_X25519_LEN];
	int		replace;	/* "replace": true moves a registered VM */
};

/*
 * POST /v1/owner-tokens.  Step 1 (challenge) carries only "uuid"; step 2
 * (answer) carries "uuid", "nonce", "acl" and "proof" (PROTOCOL.md §12.10).
 */
struct ks_owner_acl_entry {
	uint8_t		key[KS_X25519_LEN];
	uint8_t		flags;		/* SC_ACL_F_OWNER (1) or 0 */
};
struct ks_owner_token_req {
	uint8_t		uuid[KS_UUID_LEN];
	int		answer;		/* 0: challenge request, 1: answer */
	uint8_t		nonce[KS_NONCE_LEN];
	uint8_t		proof[KS_OWNER_PROOF_LEN];
	unsigned int	acl_count;	/* 1..KS_OWNER_ACL_MAX, keys distinct */
	struct ks_owner_acl_entry acl[KS_OWNER_ACL_MAX];
};

/* Response of the challenge step (read by the tenant's client). */
struct ks_owner_challenge_resp {
	uint8_t		uuid[KS_UUID_LEN];
	uint8_t		nonce[KS_NONCE_LEN];
	uint8_t		server_key[KS_X25519_LEN];	/* ephemeral X25519 */
	uint64_t	expires;
};

/* Response of the answer step. */
struct ks_owner_token_resp {
	uint8_t		uuid[KS_UUID_LEN];
	uint8_t		token[KS_OWNER_TOKEN_LEN];
};

/* Error body {"error": code, "message": text} (read by sccrypt-attest). */
struct ks_error_resp {
	char		code[48];
	char		message[KS_WHY_MAX];	/* sanitised: printable ASCII */
};

/*
 * Enrollment: exactly one of "ek_certificate" (base64 DER) and
 * "insecure_ak": true (a bare AK, the operator's explicit choice).
 */
int	ks_parse_enroll(const void *body, size_t len, struct ks_enroll_req *r,
	    char why[KS_WHY_MAX]) __attribute__((warn_unused_result));
/* POST /v1/activate: host and the 32-byte secret the TPM recovered. */
int	ks_parse_activate(const void *body, size_t len, struct ks_activate_req *r,
	    char why[KS_WHY_MAX]) __attribute__((warn_unused_result));
int	ks_parse_activation_resp(const void *body, size_t len,
	    struct ks_activation_resp *r, char why[KS_WHY_MAX])
	    __attribute__((warn_unused_result));
int	ks_parse_attest(const void *body, size_t len, struct ks_attest_req *r,
	    char why[KS_WHY_MAX]) __attribute__((warn_unused_result));
int	ks_parse_nonce_resp(const void *body, size_t len, struct ks_nonce_resp *r,
	    char why[KS_WHY_MAX]) __attribute__((warn_unused_result));
int	ks_parse_cert_resp(const void *body, size_t len, struct ks_cert_resp *r,
	    char why[KS_WHY_MAX]) __attribute__((warn_unused_result));
int	ks_parse_owner_reg(const void *body, size_t len,
	    struct ks_owner_reg_req *r, char why[KS_WHY_MAX])
	    __attribute__((warn_unused_result));
int	ks_parse_owner_token(const void *body, size_t len,
	    struct ks_owner_token_req *r, char why[KS_WHY_MAX])
	    __attribute__((warn_unused_result));
int	ks_parse_owner_challenge_resp(const void *body, size_t len,
	    struct ks_owner_challenge_resp *r, char why[KS_WHY_MAX])
	    __attribute__((warn_unused_result));
int	ks_parse_owner_token_resp(const void *body, size_t len,
	    struct ks_owner_token_resp *r, char why[KS_WHY_MAX])
	    __attribute__((warn_unused_result));
int	ks_parse_error_resp(const void *body, size_t len, struct ks_error_resp *r)
	    __attribute__((warn_unused_result));

/*
 * KS_OK if p can protect a key: a key PCR neither resettable (16, 23) nor
 * DRTM-resettable (17..22) unless the policy pins PCR 17; a non-empty boot
 * policy with at least one static PCR (0..15) and no resettable one; the
 * key PCR not among the boot PCRs.  Else KS_E_BAD_FIELD and why[].
 */
int	ks_policy_check(const struct ks_policy *p, char why[KS_WHY_MAX])
	    __attribute__((warn_unused_result));

/*
 * Maximum nesting depth of arrays/objects in body, counting strings
 * correctly; -1 if the text is not even lexically balanced.  Checked before
 * jansson sees the body, so deep nesting costs nothing.
 */
int	ks_json_depth(const void *body, size_t len);

/* PCR index list "0,1,7" <-> mask. */
int	ks_pcr_list_parse(const char *s, uint32_t *mask)
	    __attribute__((warn_unused_result));
void	ks_pcr_list_format(uint32_t mask, char *out, size_t outsz);

#endif /* SC_KS_REQ_H */
