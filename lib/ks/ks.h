/*
 * ks.h — limits and result codes shared by sccrypt-keyserver,
 * sccrypt-attest and sccrypt-term (through ks_ownercli.h).  PROTOCOL.md
 * §12 is the normative prose form; every number here appears there.
 */
#ifndef SC_KS_H
#define SC_KS_H

#include <stddef.h>
#include <stdint.h>

#define KS_API_PREFIX		"/v1"
#define KS_DEFAULT_PORT		8740

#define KS_NONCE_LEN		32	/* bytes; hex in JSON */
#define KS_DIGEST_LEN		32	/* SHA-256 */
#define KS_HV_PUBKEY_LEN	32	/* X25519 */
#define KS_PCR_COUNT		24	/* PCR indices 0..23 */
#define KS_HOST_MAX		253	/* host name: 1..253 of [A-Za-z0-9._-] */
#define KS_QUOTE_MAX		1024	/* decoded TPM2B_ATTEST / TPMS_ATTEST */
#define KS_SIG_MAX		1024	/* decoded TPMT_SIGNATURE */
#define KS_AKPUB_MAX		2048	/* decoded TPM2B_PUBLIC or DER SPKI */
#define KS_AKPEM_MAX		4096	/* PEM text of an AK public key */
#define KS_SPKI_MAX		1024	/* stored DER SubjectPublicKeyInfo */
#define KS_CERT_MAX		512	/* encoded VMM certificate (lib/cert.h) */
#define KS_JSON_DEPTH_MAX	4	/* nesting of arrays/objects in a request */
#define KS_JSON_KEYS_MAX	32	/* members of any object in a request */
#define KS_BODY_MAX_DEFAULT	(64 * 1024)
#define KS_TOKEN_LEN		32	/* operator token: 32 random bytes, 64 hex */
#define KS_EKCERT_MAX		4096	/* decoded DER EK certificate */
#define KS_ACT_SECRET_LEN	32	/* activation secret (a TPM2B_DIGEST) */
#define KS_ACT_LIFETIME_DEFAULT	(24 * 3600) /* seconds to answer a challenge */
#define KS_UUID_LEN		16	/* VM UUID (owner tokens) */
#define KS_X25519_LEN		32	/* owner / ephemeral X25519 keys */
#define KS_OWNER_PROOF_LEN	32	/* BLAKE2b proof of the owner key */
#define KS_OWNER_TOKEN_LEN	64	/* Ed25519 ownership token */
#define KS_OWNER_ACL_MAX	16	/* ACL entries (SC_ACL_MAX) */
#define KS_PEER_MAX		64	/* client address text (IPv6 /64: "a:b:c:d::/64") */

/*
 * Outcome of a request.  Each has a fixed HTTP status and JSON error code
 * (ks_result_status/ks_result_code); KS_OK is success.
 */
enum ks_result {
	KS_OK = 0,
	KS_E_BAD_JSON,		/* 400 malformed_json */
	KS_E_BAD_FIELD,		/* 400 invalid_field */
	KS_E_TOO_LARGE,		/* 413 body_too_large */
	KS_E_UNAUTHORIZED,	/* 401 unauthorized */
	KS_E_NOT_FOUND,		/* 404 not_found (no such endpoint) */
	KS_E_METHOD,		/* 405 method_not_allowed */
	KS_E_UNKNOWN_HOST,	/* 404 unknown_host */
	KS_E_HOST_EXISTS,	/* 409 host_exists */
	KS_E_REVOKED,		/* 403 host_revoked */
	KS_E_NO_CERT,		/* 404 no_certificate */
	KS_E_NONCE,		/* 403 nonce_invalid: unknown or already used */
	KS_E_NONCE_EXPIRED,	/* 403 nonce_expired */
	KS_E_QUOTE_MALFORMED,	/* 400 quote_malformed */
	KS_E_QUOTE_INVALID,	/* 403 quote_invalid: not TPM-generated / not a quote */
	KS_E_SIG_MALFORMED,	/* 400 signature_malformed */
	KS_E_SIG_UNSUPPORTED,	/* 400 signature_unsupported */
	KS_E_SIG_INVALID,	/* 403 signature_invalid */
	KS_E_PCR_SELECTION,	/* 403 pcr_selection_mismatch */
	KS_E_PCR_DIGEST,	/* 403 pcr_digest_mismatch */
	KS_E_PCR_POLICY,	/* 403 pcr_policy_mismatch */
	KS_E_KEY_PCR,		/* 403 key_pcr_mismatch */
	KS_E_AK_INVALID,	/* 400 ak_invalid */
	KS_E_BUSY,		/* 503 busy */
	KS_E_QUOTA,		/* 429 too_many_requests: this address's quota */
	KS_E_INTERNAL,		/* 500 internal */
	KS_E_UNAVAILABLE,	/* 503 storage_unavailable: database unreachable */
	KS_E_EK_INVALID,	/* 400 ek_invalid: not a usable EK certificate */
	KS_E_EK_UNTRUSTED,	/* 403 ek_untrusted: chain does not verify */
	KS_E_AK_NOT_ACTIVATED,	/* 403 ak_not_activated: credential not answered */
	KS_E_ACTIVATION,	/* 403 activation_invalid */
	KS_E_ACTIVATION_EXPIRED, /* 403 activation_expired */
	KS_E_NO_ACTIVATION,	/* 404 no_activation: no challenge pending */
	KS_E_OWNER_EXISTS,	/* 409 owner_exists: registered to another key */
	KS_E_OWNER_PROOF,	/* 403 owner_proof_invalid: wrong key, unregistered
				 * UUID, nonce unknown/used, other UUID (one code) */
	KS_E__COUNT
};

int		 ks_result_status(int r);
const char	*ks_result_code(int r);

/* 1 if s (NUL-terminated) is a valid host name (KS_HOST_MAX, charset). */
int	ks_host_valid(const char *s);

#endif /* SC_KS_H */
