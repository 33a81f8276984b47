/*
 * ks_core.h — what the key server does, independent of HTTP: issue
 * nonces, enroll/revoke hosts, check an attestation and issue a VMM
 * certificate, hand out certificates.
 *
 * Every operation returns a ks_result (ks.h); KS_OK means success.  Failure
 * texts in why[] never contain key material or input bytes.
 */
#ifndef SC_KS_CORE_H
#define SC_KS_CORE_H

#include <stddef.h>
#include <stdint.h>

#include "cert.h"
#include "core/blob.h"
#include "ks/ks.h"
#include "ks/ks_req.h"
#include "ks_store.h"
#include "ks_tpm.h"

#define KS_CERT_LIFETIME_DEFAULT	(12 * 3600)	/* seconds */
#define KS_NONCE_LIFETIME_DEFAULT	120		/* seconds */
#define KS_NONCES_MAX_DEFAULT		4096
#define KS_NONCES_PER_PEER_DEFAULT	16	/* outstanding, per address */
#define KS_EK_BUNDLE_MAX	(4 << 20)	/* bytes of --ek-ca-bundle */
#define KS_AUDIT_PER_HOST		1000	/* audit rows kept per host */

/*
 * The certificate signer.  In one process it holds the Ed25519 secret key
 * in locked memory; with privilege separation it forwards to the signing
 * process (ks_sign.c).  sign() does not trust its caller: it re-checks the
 * evidence (ks_sign_check: the quote verifies under the host's enrolled AK
 * and matches its policy and the hv key, issued within KS_SIGN_SKEW of its
 * own clock, lifetime at most max_lifetime) and signs only the certificate
 * it builds from that, for h->name and req->hv_pubkey.
 */
struct ks_signer {
	uint8_t	 pk[SC_ED25519_PK_LEN];
	int	(*sign)(struct ks_signer *, const struct ks_host *h,
		    const struct ks_attest_req *req, uint64_t issued,
		    uint64_t expires, uint8_t *out, size_t outsz, size_t *outlen);
	void	(*close)(struct ks_signer *);
	/*
	 * The ownership token (core/owner.h) for uuid and acl[0..n) under the
	 * owner CA, if the signer was given one (else SC_ERR_UNSUPPORTED).
	 * The signer cannot check who owns the VM (the registrations and the
	 * proof's nonce are the network process's database): privilege
	 * separation keeps the CA key out of the network process, it does
	 * not make a compromised network process unable to get tokens.
	 */
	int	(*sign_owner)(struct ks_signer *, const uint8_t uuid[KS_UUID_LEN],
		    const struct sc_acl_entry *acl, unsigned n,
		    uint8_t token[KS_OWNER_TOKEN_LEN]);
	int	 have_owner_ca;
	uint8_t	 owner_ca_pk[KS_X25519_LEN];
	/* Local signer only (tests): its clock; NULL is time(). */
	uint64_t (*clock)(void);
	uint64_t max_lifetime;
	void	*impl;
};

#define KS_SIGN_SKEW	60	/* seconds between issued and the signer's clock */

/*
 * Load the signing key from path, or generate one (and write it 0600) if
 * the file does not exist; *created tells which.  An existing key must be
 * a regular file owned by this user and not accessible to others
 * (SC_ERR_PERM).  Secret kept in sc_secure_alloc'd read-only memory.
 * Certificates are signed for at most max_lifetime seconds.  With
 * owner_ca_path (not NULL) the owner CA key is loaded (or created) the
 * same way and sign_owner works.
 */
int	ks_signer_local(const char *path, const char *owner_ca_path,
	    uint64_t max_lifetime, struct ks_signer **out, int *created)
	    __attribute__((warn_unused_result));
/*
 * An Ed25519 key file of the key server (signing key, owner CA): load the
 * secret key at path, or create it (0600, comment in the file) if there is
 * none (*created = 1).  An existing file must be a regular file owned by
 * this user and not accessible to others (SC_ERR_PERM).  *sk is
 * sc_secure_alloc'd read-only (64 bytes), pk its public key.
 */
int	ks_key_load_or_create(const char *path, const char *comment,
	    uint8_t **sk, uint8_t pk[32], int *created)
	    __attribute__((warn_unused_result));
/*
 * Privilege-separated signer: fork a child that holds the key (loaded or
 * created as above) and signs on request over a socketpair; the calling
 * process never maps the secret.  *pid is the child.  Call it before
 * dropping privileges: the child loads the key as the caller (root), then
 * drops to user (NULL: stays) and is non-dumpable, so the network process
 * can neither open the key file nor read the child's memory.
 */
int	ks_signer_privsep(const char *path, const char *owner_ca_path,
	    uint64_t max_lifetime,
	    const char *user, struct ks_signer **out, int *created, int *pid)
	    __attribute__((warn_unused_result));
/*
 * setgroups/setgid/setuid to user and check that root cannot be regained.
 * SC_ERR_NOTFOUND (no such user), SC_ERR_PERM.
 */
int	ks_drop_privileges(const char *user) __attribute__((warn_unused_result));
/*
 * The privilege-separated signer's request (layout in ks_sign.c): encode
 * on the network side, decode in the signing process, which trusts none
 * of it.  Decoding fills h (name, AK, policy) and req (host = h->name) and
 * accepts only the canonical encoding: SC_ERR_FORMAT otherwise.
 */
#define KS_SIGN_REQ_MAX	(1 + KS_HOST_MAX + 2 + KS_SPKI_MAX + 4 + 1 + \
			 KS_PCR_COUNT * KS_DIGEST_LEN + 2 + KS_QUOTE_MAX + \
			 2 + KS_SIG_MAX + 4 + KS_PCR_COUNT * KS_DIGEST_LEN + \
			 KS_HV_PUBKEY_LEN + 8 + 8)
int	ks_sign_req_encode(const struct ks_host *h,
	    const struct ks_attest_req *req, uint64_t issued, uint64_t expires,
	    uint8_t *buf, size_t bufsz, size_t *len)
	    __attribute__((warn_unused_result));
int	ks_sign_req_decode(const uint8_t *buf, size_t len, struct ks_host *h,
	    struct ks_attest_req *req, uint64_t *issued, uint64_t *expires)
	    __attribute__((warn_unused_result));
/*
 * The signer's ownership-token request (layout in ks_sign.c), the same way:
 * decoding accepts only the canonical encoding of uuid and an ACL a blob
 * can carry (1..KS_OWNER_ACL_MAX entries, flags only SC_ACL_F_OWNER, at
 * least one owner, no key twice), so the signing process signs no token
 * the network process could not have been asked for: SC_ERR_FORMAT
 * otherwise.  Encoding refuses what decoding would (SC_ERR_INVAL).
 */
#define KS_OWNER_REQ_MAX (1 + KS_UUID_LEN + 1 + KS_OWNER_ACL_MAX * \
			  (SC_KEY_LEN + 1))
int	ks_owner_req_encode(const uint8_t uuid[KS_UUID_LEN],
	    const struct sc_acl_entry *acl, unsigned n, uint8_t *buf,
	    size_t bufsz, size_t *len) __attribute__((warn_unused_result));
int	ks_owner_req_decode(const uint8_t *buf, size_t len,
	    uint8_t uuid[KS_UUID_LEN], struct sc_acl_entry acl[KS_OWNER_ACL_MAX],
	    unsigned *n) __attribute__((warn_unused_result));
/* Generate a new key at path, moving an existing one to path.old. */
int	ks_signer_rotate(const char *path, uint8_t pk[SC_ED25519_PK_LEN])
	    __attribute__((warn_unused_result));

/*
 * The checks of an attestation after the nonce and the host lookup, in
 * order (PROTOCOL.md §12): enrolled policy usable, AK signature, PCR
 * selection, posted values = quoted digest, golden PCRs (*bad_pcr gets the
 * first that differs), key PCR = one extend with H(hv key).  KS_OK or the
 * result of the first failing step, with why[].
 */
int	ks_evidence_check(const struct ks_host *h, const struct ks_attest_req *req,
	    const struct ks_quote *q, int *bad_pcr, char why[KS_WHY_MAX])
	    __attribute__((warn_unused_result));
/*
 * What a signer checks before signing: issued within KS_SIGN_SKEW of now,
 * 0 < expires - issued <= max_lifetime, req->host is h, and the evidence
 * passes ks_evidence_check.  Fills c (signer field left to the signer).
 * 0, SC_ERR_INVAL (times), SC_ERR_MISMATCH (host), SC_ERR_UNTRUSTED.
 */
int	ks_sign_check(const struct ks_host *h, const struct ks_attest_req *req,
	    uint64_t issued, uint64_t expires, uint64_t now,
	    uint64_t max_lifetime, struct sc_cert *c)
	    __attribute__((warn_unused_result));

struct ks_ctx {
	struct ks_store		*store;
	struct ks_signer	*signer;
	uint64_t		 cert_lifetime;
	uint64_t		 nonce_lifetime;
	unsigned int		 max_nonces;
	unsigned int		 max_nonces_per_peer;	/* 0: unlimited */
	const char		*ek_bundle;	/* PEM CA bundle; NULL: none */
	size_t			 ek_bundle_len;
	uint64_t		 act_lifetime;	/* seconds to answer a challenge */
};

/* Details of an attestation, for the audit log (valid as far as parsed). */
struct ks_attest_info {
	int		 enrolled;	/* the request names an enrolled host */
	int		 quote_parsed;
	struct ks_quote	 quote;
	uint64_t	 issued;
	uint64_t	 expires;
	int		 bad_pcr;	/* first PCR that failed the policy, or -1 */
};

/*
 * A fresh nonce for the client at peer (its address, or the /64 of an IPv6
 * one: ks_peer_key).  KS_E_QUOTA when peer holds max_nonces_per_peer
 * outstanding nonces; KS_E_BUSY when the table is full of nonces held by
 * addresses with no more than peer's.
 */
int	ks_nonce_issue(struct ks_ctx *, const char *peer, uint64_t now,
	    uint8_t nonce[KS_NONCE_LEN], uint64_t *expires)
	    __attribute__((warn_unused_result));
int	ks_enroll(struct ks_ctx *, const struct ks_enroll_req *, uint64_t now,
	    struct ks_host *out, char why[KS_WHY_MAX])
	    __attribute__((warn_unused_result));
/*
 * ks_enroll with an EK certificate (called by it; ks_activate.c): the
 * certificate must chain to ctx->ek_bundle and the AK be a TPM2B_PUBLIC
 * (h->ak_restricted); fills h's challenge (credential for the AK's name
 * under the EK, digest of a fresh secret, expiry) and leaves the AK not
 * activated.  KS_E_EK_UNTRUSTED, KS_E_EK_INVALID, KS_E_AK_INVALID.
 */
int	ks_ek_challenge(struct ks_ctx *, const struct ks_enroll_req *,
	    uint64_t now, struct ks_host *h, char why[KS_WHY_MAX])
	    __attribute__((warn_unused_result));
/*
 * The pending challenge of host (h->cred_*): KS_E_UNKNOWN_HOST,
 * KS_E_REVOKED, KS_E_NO_ACTIVATION (activated or answered),
 * KS_E_ACTIVATION_EXPIRED.
 */
int	ks_activation_get(struct ks_ctx *, const char *host, uint64_t now,
	    struct ks_host *h, char why[KS_WHY_MAX])
	    __attribute__((warn_unused_result));
/*
 * Answer a challenge (consumed by any answer): KS_OK marks the AK
 * activated; KS_E_ACTIVATION (wrong secret or none pending: one code for
 * both), KS_E_ACTIVATION_EXPIRED.
 */
int	ks_activate(struct ks_ctx *, const struct ks_activate_req *,
	    uint64_t now, char why[KS_WHY_MAX])
	    __attribute__((warn_unused_result));
int	ks_attest(struct ks_ctx *, const struct ks_attest_req *, uint64_t now,
	    uint8_t *cert, size_t certsz, size_t *certlen,
	    struct ks_attest_info *info, char why[KS_WHY_MAX])
	    __attribute__((warn_unused_result));
/*
 * Keep the audit row of an attestation attempt (result from ks_attest):
 * only for enrolled hosts, so unauthenticated requests for made-up names
 * cannot grow the database, and at most KS_AUDIT_PER_HOST rows per host.
 */
int	ks_attest_record(struct ks_ctx *, const struct ks_attest_req *,
	    int result, const struct ks_attest_info *, uint64_t now);
int	ks_cert_fetch(struct ks_ctx *, const char *host, uint64_t now,
	    uint8_t *cert, size_t certsz, size_t *certlen, uint64_t *expires)
	    __attribute__((warn_unused_result));
int	ks_revoke(struct ks_ctx *, const char *host, uint64_t now)
	    __attribute__((warn_unused_result));
int	ks_delete(struct ks_ctx *, const char *host)
	    __attribute__((warn_unused_result));

/*
 * Ownership tokens (ks_ownertok.c, PROTOCOL.md §12.10).  All three return
 * KS_E_NOT_FOUND when the signer has no owner CA (--owner-tokens).
 *
 * ks_owner_register (operator): *outcome 0 registered, 1 unchanged (same
 * key), 2 moved (req->replace); KS_E_OWNER_EXISTS if registered to
 * another key without replace.
 * ks_owner_challenge: a fresh nonce and ephemeral X25519 key for uuid,
 * stored with the ephemeral secret (quotas as ks_nonce_issue), whether
 * or not uuid is registered.
 * ks_owner_answer: consumes the nonce, then checks the proof against the
 * registered key (constant time; unregistered VM, other UUID than the
 * challenge, registered key not an owner in the ACL, wrong proof: all
 * KS_E_OWNER_PROOF), and has the signer sign the token for the ACL.
 * KS_E_NONCE_EXPIRED for an expired nonce.
 */
int	ks_owner_register(struct ks_ctx *, const struct ks_owner_reg_req *,
	    uint64_t now, int *outcome, char why[KS_WHY_MAX])
	    __attribute__((warn_unused_result));
int	ks_owner_challenge(struct ks_ctx *, const uint8_t uuid[KS_UUID_LEN],
	    const char *peer, uint64_t now, struct ks_owner_challenge_resp *out,
	    char why[KS_WHY_MAX]) __attribute__((warn_unused_result));
int	ks_owner_answer(struct ks_ctx *, const struct ks_owner_token_req *,
	    uint64_t now, uint8_t token[KS_OWNER_TOKEN_LEN], char why[KS_WHY_MAX])
	    __attribute__((warn_unused_result));

#endif /* SC_KS_CORE_H */
