/*
 * owner.h — the ownership token: a binding that dom0 cannot make on its
 * own (docs/xen.md §4 item 6, PROTOCOL.md §6.4).
 *
 * A platform configured with an owner CA (an Ed25519 public key the hv
 * takes from a measured place: Xen's command line, hvsim's configuration)
 * binds a domain only with a token the CA signed for the domain's UUID and
 * the blob's whole ACL.  The CA (the key server) signs only for the owner it
 * authenticated for that UUID; dom0 holds no CA key, so it cannot make a
 * token for keys of its own, and a replayed token binds only the keys it
 * was made for.
 *
 *   acl_digest = BLAKE2b-256("SCCrypt ownership acl v1" || count:u8 ||
 *                { pubkey[32] flags:u8 }[count], sorted by pubkey then flags)
 *   message    = "SCCrypt ownership v1" || uuid[16] || acl_digest[32]
 *   token      = Ed25519 signature of message (64 bytes; RFC 8032, pure)
 *
 * Every entry counts (owners and users alike): a token for owner keys
 * alone would let dom0 add a user key of its own next to the owner's in
 * a blob of its own making.  The order of the entries does not matter.
 *
 * The PROTECT payload (ops ABI 3 op payload and PROTECT frame body):
 *
 *   blob[blob_len] || token[tlen] || tlen:u8      tlen = 0 or SC_OWNER_TOKEN_LEN
 *
 * Freestanding; crypto through the provider.
 */
#ifndef SC_CORE_OWNER_H
#define SC_CORE_OWNER_H

#include "core/compat.h"
#include "core/buf.h"
#include "core/crypto.h"
#include "core/blob.h"
#include "core/wire.h"

#define SC_OWNER_DOMAIN		"SCCrypt ownership v1"
#define SC_OWNER_DOMAIN_LEN	(sizeof(SC_OWNER_DOMAIN) - 1)
#define SC_OWNER_ACL_DOMAIN	"SCCrypt ownership acl v1"
#define SC_OWNER_CA_LEN		SC_ED25519_PUB_LEN	/* the CA's public key */
#define SC_OWNER_DIGEST_LEN	32
#define SC_OWNER_TOKEN_LEN	SC_ED25519_SIGLEN
#define SC_OWNER_MSG_LEN	(SC_OWNER_DOMAIN_LEN + SC_UUID_LEN + SC_OWNER_DIGEST_LEN)
#define SC_OWNER_PROOF_DOMAIN	"SCCrypt owner proof v1"
#define SC_OWNER_NONCE_LEN	32
#define SC_OWNER_PROOF_LEN	32
#define SC_PROTECT_TLEN_LEN	1	/* the trailing tlen byte */
#define SC_PROTECT_PAYLOAD_MAX	(SC_BLOB_MAX + SC_OWNER_TOKEN_LEN + SC_PROTECT_TLEN_LEN)

/* acl_digest over acl[0..n) (n <= SC_ACL_MAX). */
int	sc_owner_acl_digest(const struct sc_crypto *cp, const struct sc_acl_entry *acl,
	    unsigned n, uint8_t out[SC_OWNER_DIGEST_LEN]) SC_WUR;
/* The signed message for uuid and acl[0..n). */
int	sc_owner_message(const struct sc_crypto *cp, const uint8_t uuid[SC_UUID_LEN],
	    const struct sc_acl_entry *acl, unsigned n,
	    uint8_t msg[SC_OWNER_MSG_LEN]) SC_WUR;
/*
 * 0 if token is ca's signature for uuid and acl[0..n), SC_ERR_UNTRUSTED if
 * it is not (or token is NULL), another negative code on a local failure.
 */
int	sc_owner_verify(const struct sc_crypto *cp, const uint8_t ca[SC_OWNER_CA_LEN],
	    const uint8_t uuid[SC_UUID_LEN], const struct sc_acl_entry *acl,
	    unsigned n, const uint8_t *token) SC_WUR;

/*
 * The tenant's proof of possession of the registered owner key in the key
 * server's ownership-token challenge (PROTOCOL.md §12.10):
 *
 *   dh    = X25519(sk, peer)        client: (owner_sk, eph_pk); server:
 *                                   (eph_sk, owner_pk); all-zero refused
 *   proof = BLAKE2b(key = dh, outlen = 32, "SCCrypt owner proof v1" ||
 *                   nonce[32] || eph_pk[32] || owner_pk[32] || uuid[16] ||
 *                   acl_digest[32])
 *
 * SC_ERR_BADKEY for a low-order peer key.  dh is wiped.
 */
int	sc_owner_proof(const struct sc_crypto *cp, const uint8_t sk[SC_KEY_LEN],
	    const uint8_t peer[SC_KEY_LEN], const uint8_t eph_pk[SC_KEY_LEN],
	    const uint8_t owner_pk[SC_KEY_LEN],
	    const uint8_t nonce[SC_OWNER_NONCE_LEN],
	    const uint8_t uuid[SC_UUID_LEN], const struct sc_acl_entry *acl,
	    unsigned n, uint8_t out[SC_OWNER_PROOF_LEN]) SC_WUR;

/*
 * Seals reg (sc_blob_seal) and appends token || tlen: the whole PROTECT
 * payload, at most SC_PROTECT_PAYLOAD_MAX bytes.  token may be NULL.  On
 * failure out is as it was.
 */
int	sc_protect_seal(const struct sc_crypto *cp, struct sc_registration *reg,
	    const uint8_t hv_pk[SC_KEY_LEN], const uint8_t *token,
	    struct sc_buf *out) SC_WUR;
/* Appends blob || token || tlen to out; token may be NULL (tlen 0). */
int	sc_protect_payload_put(struct sc_buf *out, const uint8_t *blob, size_t blob_len,
	    const uint8_t *token) SC_WUR;
/*
 * Splits p[0..n) into the blob (1..SC_BLOB_MAX bytes) and the token
 * (*token = NULL when tlen is 0): SC_ERR_FORMAT / SC_ERR_TRUNCATED /
 * SC_ERR_TOOLONG on a malformed payload.  The views point into p.
 */
int	sc_protect_payload_get(const uint8_t *p, size_t n, const uint8_t **blob,
	    size_t *blob_len, const uint8_t **token) SC_WUR;

#endif /* SC_CORE_OWNER_H */
