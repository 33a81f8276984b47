/*
 * owner.c — the ownership token and the PROTECT payload (layout and
 * contracts in owner.h).
 */
#include "core/err.h"
#include "core/owner.h"

/* -1, 0, 1 as a sorts before, equal to, after b (public keys: not secret). */
static int
entry_cmp(const struct sc_acl_entry *a, const struct sc_acl_entry *b)
{
	size_t i;

	for (i = 0; i < SC_KEY_LEN; i++)
		if (a->pubkey[i] != b->pubkey[i])
			return a->pubkey[i] < b->pubkey[i] ? -1 : 1;
	if (a->flags != b->flags)
		return a->flags < b->flags ? -1 : 1;
	return 0;
}

int
sc_owner_acl_digest(const struct sc_crypto *cp, const struct sc_acl_entry *acl,
    unsigned n, uint8_t out[SC_OWNER_DIGEST_LEN])
{
	struct sc_hash_state st;
	uint8_t idx[SC_ACL_MAX], cnt = (uint8_t)n, t;
	unsigned i, j;
	int r;

	if (cp == NULL || out == NULL || n > SC_ACL_MAX || (n > 0 && acl == NULL))
		return SC_ERR_INVAL;
	/* Insertion sort of indices: at most SC_ACL_MAX entries. */
	for (i = 0; i < n; i++) {
		idx[i] = (uint8_t)i;
		for (j = i; j > 0 && entry_cmp(&acl[idx[j - 1]], &acl[idx[j]]) > 0; j--) {
			t = idx[j];
			idx[j] = idx[j - 1];
			idx[j - 1] = t;
		}
	}
	if ((r = cp->hash_init(&st, NULL, 0, SC_OWNER_DIGEST_LEN)) != 0 ||
	    (r = cp->hash_update(&st, (const uint8_t *)SC_OWNER_ACL_DOMAIN,
	    sizeof(SC_OWNER_ACL_DOMAIN) - 1)) != 0 ||
	    (r = cp->hash_update(&st, &cnt, 1)) != 0)
		goto out;
	for (i = 0; i < n; i++)
		if ((r = cp->hash_update(&st, acl[idx[i]].pubkey, SC_KEY_LEN)) != 0 ||
		    (r = cp->hash_update(&st, &acl[idx[i]].flags, 1)) != 0)
			goto out;
	r = cp->hash_final(&st, out, SC_OWNER_DIGEST_LEN);
out:
	cp->memzero(&st, sizeof(st));
	return r;
}

int
sc_owner_message(const struct sc_crypto *cp, const uint8_t uuid[SC_UUID_LEN],
    const struct sc_acl_entry *acl, unsigned n, uint8_t msg[SC_OWNER_MSG_LEN])
{
	uint8_t digest[SC_OWNER_DIGEST_LEN];
	struct sc_buf b;
	int r;

	if (uuid == NULL || msg == NULL)
		return SC_ERR_INVAL;
	if ((r = sc_owner_acl_digest(cp, acl, n, digest)) != 0)
		return r;
	sc_buf_init(&b, msg, SC_OWNER_MSG_LEN);
	if (sc_buf_put_bytes(&b, SC_OWNER_DOMAIN, SC_OWNER_DOMAIN_LEN) != 0 ||
	    sc_buf_put_bytes(&b, uuid, SC_UUID_LEN) != 0 ||
	    sc_buf_put_bytes(&b, digest, sizeof(digest)) != 0 ||
	    b.len != SC_OWNER_MSG_LEN)
		return SC_ERR_INTERNAL;
	return 0;
}

int
sc_owner_verify(const struct sc_crypto *cp, const uint8_t ca[SC_OWNER_CA_LEN],
    const uint8_t uuid[SC_UUID_LEN], const struct sc_acl_entry *acl,
    unsigned n, const uint8_t *token)
{
	uint8_t msg[SC_OWNER_MSG_LEN];
	int r;

	if (ca == NULL)
		return SC_ERR_INVAL;
	if (token == NULL)
		return SC_ERR_UNTRUSTED;
	if ((r = sc_owner_message(cp, uuid, acl, n, msg)) != 0)
		return r;
	if (cp->ed25519_verify(token, msg, sizeof(msg), ca) != 0)
		return SC_ERR_UNTRUSTED;
	return 0;
}

int
sc_protect_payload_put(struct sc_buf *out, const uint8_t *blob, size_t blob_len,
    const uint8_t *token)
{
	size_t tlen = token != NULL ? SC_OWNER_TOKEN_LEN : 0;

	if (out == NULL || blob == NULL || blob_len == 0)
		return SC_ERR_INVAL;
	if (blob_len > SC_BLOB_MAX)
		return SC_ERR_TOOLONG;
	if (sc_buf_room(out) < blob_len + tlen + SC_PROTECT_TLEN_LEN)
		return SC_ERR_NOSPACE;
	if (sc_buf_put_bytes(out, blob, blob_len) != 0 ||
	    (tlen > 0 && sc_buf_put_bytes(out, token, tlen) != 0) ||
	    sc_buf_put_u8(out, (uint8_t)tlen) != 0)
		return SC_ERR_INTERNAL;
	return 0;
}

int
sc_protect_seal(const struct sc_crypto *cp, struct sc_registration *reg,
    const uint8_t hv_pk[SC_KEY_LEN], const uint8_t *token, struct sc_buf *out)
{
	size_t start, tlen = token != NULL ? SC_OWNER_TOKEN_LEN : 0;
	int r;

	if (out == NULL)
		return SC_ERR_INVAL;
	start = out->len;
	if ((r = sc_blob_seal(cp, reg, hv_pk, out)) != 0)
		return r;
	if (sc_buf_room(out) < tlen + SC_PROTECT_TLEN_LEN) {
		out->len = start;
		return SC_ERR_NOSPACE;
	}
	if ((tlen > 0 && sc_buf_put_bytes(out, token, tlen) != 0) ||
	    sc_buf_put_u8(out, (uint8_t)tlen) != 0) {
		out->len = start;
		return SC_ERR_INTERNAL;
	}
	return 0;
}

int
sc_protect_payload_get(const uint8_t *p, size_t n, const uint8_t **blob,
    size_t *blob_len, const uint8_t **token)
{
	struct sc_buf b;
	const uint8_t *t = NULL;
	uint8_t tlen;

	if ((p == NULL && n > 0) || blob == NULL || blob_len == NULL || token == NULL)
		return SC_ERR_INVAL;
	*blob = NULL;
	*blob_len = 0;
	*token = NULL;
	if (n < SC_PROTECT_TLEN_LEN)
		return SC_ERR_TRUNCATED;
	if (n > SC_PROTECT_PAYLOAD_MAX)
		return SC_ERR_TOOLONG;
	sc_buf_init_ro(&b, p, n);
	if (sc_buf_skip(&b, n - SC_PROTECT_TLEN_LEN) != 0 ||
	    sc_buf_get_u8(&b, &tlen) != 0)
		return SC_ERR_INTERNAL;
	if (tlen != 0 && tlen != SC_OWNER_TOKEN_LEN)
		return SC_ERR_FORMAT;
	if (n < SC_PROTECT_TLEN_LEN + (size_t)tlen + 1)
		return SC_ERR_TRUNCATED;	/* no room for a blob */
	if (n - SC_PROTECT_TLEN_LEN - tlen > SC_BLOB_MAX)
		return SC_ERR_TOOLONG;
	sc_buf_init_ro(&b, p, n - SC_PROTECT_TLEN_LEN);
	if (sc_buf_get_view(&b, n - SC_PROTECT_TLEN_LEN - tlen, blob) != 0 ||
	    (tlen > 0 && sc_buf_get_view(&b, tlen, &t) != 0) ||
	    sc_buf_expect_end(&b) != 0)
		return SC_ERR_INTERNAL;
	*blob_len = n - SC_PROTECT_TLEN_LEN - tlen;
	*token = t;
	return 0;
}

int
sc_owner_proof(const struct sc_crypto *cp, const uint8_t sk[SC_KEY_LEN],
    const uint8_t peer[SC_KEY_LEN], const uint8_t eph_pk[SC_KEY_LEN],
    const uint8_t owner_pk[SC_KEY_LEN], const uint8_t nonce[SC_OWNER_NONCE_LEN],
    const uint8_t uuid[SC_UUID_LEN], const struct sc_acl_entry *acl,
    unsigned n, uint8_t out[SC_OWNER_PROOF_LEN])
{
	struct sc_hash_state st;
	uint8_t dh[SC_X25519_LEN], digest[SC_OWNER_DIGEST_LEN];
	int r;

	if (cp == NULL || sk == NULL || peer == NULL || eph_pk == NULL ||
	    owner_pk == NULL || nonce == NULL || uuid == NULL || out == NULL)
		return SC_ERR_INVAL;
	if ((r = sc_owner_acl_digest(cp, acl, n, digest)) != 0)
		return r;
	if ((r = cp->x25519(dh, sk, peer)) != 0) {	/* low-order peer fails */
		r = SC_ERR_BADKEY;
		goto out;
	}
	if ((r = cp->hash_init(&st, dh, sizeof(dh), SC_OWNER_PROOF_LEN)) != 0 ||
	    (r = cp->hash_update(&st, (const uint8_t *)SC_OWNER_PROOF_DOMAIN,
	    sizeof(SC_OWNER_PROOF_DOMAIN) - 1)) != 0 ||
	    (r = cp->hash_update(&st, nonce, SC_OWNER_NONCE_LEN)) != 0 ||
	    (r = cp->hash_update(&st, eph_pk, SC_KEY_LEN)) != 0 ||
	    (r = cp->hash_update(&st, owner_pk, SC_KEY_LEN)) != 0 ||
	    (r = cp->hash_update(&st, uuid, SC_UUID_LEN)) != 0 ||
	    (r = cp->hash_update(&st, digest, sizeof(digest))) != 0)
		goto out;
	r = cp->hash_final(&st, out, SC_OWNER_PROOF_LEN);
out:
	cp->memzero(&st, sizeof(st));
	cp->memzero(dh, sizeof(dh));
	return r;
}
