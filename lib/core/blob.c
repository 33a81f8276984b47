/*
 * blob.c — the sealed registration blob (core/blob.h, PROTOCOL.md §6).
 *
 *   sealed = "SCB1" || version:u8 || epk[32] || AEAD(k, nonce = 0, ad, pt)
 *   dh     = X25519(esk, hv_pk)
 *   k      = BLAKE2b-256(key = dh, "SCCrypt blob v1" || epk || hv_pk)
 *   ad     = "SCB1" || version || epk || hv_pk
 *
 * Every key is used for exactly one message (a fresh ephemeral per blob), so
 * the all-zero nonce is safe.  Stack secrets are wiped at one exit label.
 * blob_id = BLAKE2b-256(sealed) names the blob in the PROTECT confirm.
 */
#include "core/compat.h"
#include "core/err.h"
#include "core/buf.h"
#include "core/crypto.h"
#include "core/wire.h"
#include "core/blob.h"

#define BLOB_MAGIC_LEN		4
#define BLOB_KDF_LABEL		"SCCrypt blob v1"
#define BLOB_KDF_LABEL_LEN	15
#define BLOB_CONFIRM_LABEL	"SCCrypt bound v2"
#define BLOB_CONFIRM_LABEL_LEN	16
#define BLOB_KEY_LEN		32
#define BLOB_AD_LEN		(BLOB_MAGIC_LEN + 1 + SC_KEY_LEN + SC_KEY_LEN)
#define BLOB_ACL_ENTRY_LEN	(SC_KEY_LEN + 1)
/* Smallest plaintext: 1-byte disk key, one ACL entry. */
#define BLOB_PT_MIN		(SC_UUID_LEN + 8 + SC_PSK_LEN + 1 + 1 + 4 + 4 + 1 + \
				    BLOB_ACL_ENTRY_LEN)
#define BLOB_MIN		(SC_BLOB_HDR_LEN + BLOB_PT_MIN + SC_TAG_LEN)
#define REG_OPTS_KNOWN		(SC_REG_OPT_HISTORY)
#define ACL_FLAGS_KNOWN		(SC_ACL_F_OWNER)

static const uint8_t blob_magic[BLOB_MAGIC_LEN] = { 'S', 'C', 'B', '1' };

int
sc_acl_check(const struct sc_crypto *cp, const struct sc_acl_entry *acl,
    unsigned n)
{
	unsigned i, j, owners = 0;

	if (n < 1)
		return SC_ERR_FORMAT;
	if (n > SC_ACL_MAX)
		return SC_ERR_TOOLONG;
	for (i = 0; i < n; i++) {
		if ((acl[i].flags & ~ACL_FLAGS_KNOWN) != 0)
			return SC_ERR_FORMAT;
		if (acl[i].flags & SC_ACL_F_OWNER)
			owners++;
		for (j = 0; j < i; j++)
			if (cp->memcmp_ct(acl[i].pubkey, acl[j].pubkey,
			    SC_KEY_LEN) == 0)
				return SC_ERR_FORMAT;
	}
	if (owners == 0)
		return SC_ERR_PERM;
	return 0;
}

/*
 * The registration rules shared by sealing and opening: generation >= 1,
 * disk key 1..SC_DISK_KEY_MAX bytes, only known options, an ACL a blob can
 * carry (sc_acl_check()).
 */
static int
reg_check(const struct sc_crypto *cp, const struct sc_registration *reg)
{
	if (reg->generation == 0)
		return SC_ERR_FORMAT;
	if (reg->disk_key_len < 1 || reg->disk_key_len > SC_DISK_KEY_MAX)
		return reg->disk_key_len < 1 ? SC_ERR_FORMAT : SC_ERR_TOOLONG;
	/* The ACL's size is judged before the options, its entries after. */
	if (reg->acl_count >= 1 && reg->acl_count <= SC_ACL_MAX &&
	    (reg->options & ~(uint32_t)REG_OPTS_KNOWN) != 0)
		return SC_ERR_FORMAT;
	return sc_acl_check(cp, reg->acl, reg->acl_count);
}

/* k = BLAKE2b-256(key = dh, label || epk || hv_pk) */
static int
blob_kdf(const struct sc_crypto *cp, const uint8_t dh[SC_X25519_LEN],
    const uint8_t epk[SC_KEY_LEN], const uint8_t hv_pk[SC_KEY_LEN],
    uint8_t k[BLOB_KEY_LEN])
{
	struct sc_hash_state st;
	int r;

	if ((r = cp->hash_init(&st, dh, SC_X25519_LEN, BLOB_KEY_LEN)) != 0 ||
	    (r = cp->hash_update(&st, (const uint8_t *)BLOB_KDF_LABEL,
	    BLOB_KDF_LABEL_LEN)) != 0 ||
	    (r = cp->hash_update(&st, epk, SC_KEY_LEN)) != 0 ||
	    (r = cp->hash_update(&st, hv_pk, SC_KEY_LEN)) != 0 ||
	    (r = cp->hash_final(&st, k, BLOB_KEY_LEN)) != 0)
		goto out;
out:
	cp->memzero(&st, sizeof(st));
	return r;
}

/* ad = magic || version || epk || hv_pk */
static int
blob_ad(uint8_t ad[BLOB_AD_LEN], const uint8_t epk[SC_KEY_LEN],
    const uint8_t hv_pk[SC_KEY_LEN])
{
	struct sc_buf b;

	sc_buf_init(&b, ad, BLOB_AD_LEN);
	if (sc_buf_put_bytes(&b, blob_magic, BLOB_MAGIC_LEN) != 0 ||
	    sc_buf_put_u8(&b, SC_BLOB_VERSION) != 0 ||
	    sc_buf_put_bytes(&b, epk, SC_KEY_LEN) != 0 ||
	    sc_buf_put_bytes(&b, hv_pk, SC_KEY_LEN) != 0)
		return SC_ERR_INTERNAL;
	return 0;
}

/* id = BLAKE2b-256(magic || version || epk || ct): the whole sealed blob. */
static int
blob_id(const struct sc_crypto *cp, const uint8_t epk[SC_KEY_LEN],
    const uint8_t *ct, size_t ctlen, uint8_t id[SC_BLOB_ID_LEN])
{
	static const uint8_t version = SC_BLOB_VERSION;
	struct sc_hash_state st;
	int r;

	if ((r = cp->hash_init(&st, NULL, 0, SC_BLOB_ID_LEN)) != 0 ||
	    (r = cp->hash_update(&st, blob_magic, BLOB_MAGIC_LEN)) != 0 ||
	    (r = cp->hash_update(&st, &version, 1)) != 0 ||
	    (r = cp->hash_update(&st, epk, SC_KEY_LEN)) != 0 ||
	    (r = cp->hash_update(&st, ct, ctlen)) != 0 ||
	    (r = cp->hash_final(&st, id, SC_BLOB_ID_LEN)) != 0)
		goto out;
out:
	cp->memzero(&st, sizeof(st));
	return r;
}

static int
reg_serialize(const struct sc_registration *reg, struct sc_buf *pt)
{
	unsigned i;
	int r;

	if ((r = sc_buf_put_bytes(pt, reg->uuid, SC_UUID_LEN)) != 0 ||
	    (r = sc_buf_put_u64(pt, reg->generation)) != 0 ||
	    (r = sc_buf_put_bytes(pt, reg->vm_secret, SC_PSK_LEN)) != 0 ||
	    (r = sc_buf_put_str8(pt, reg->disk_key, reg->disk_key_len)) != 0 ||
	    (r = sc_buf_put_u32(pt, reg->options)) != 0 ||
	    (r = sc_buf_put_u32(pt, reg->history_size)) != 0 ||
	    (r = sc_buf_put_u8(pt, (uint8_t)reg->acl_count)) != 0)
		return r;
	for (i = 0; i < reg->acl_count; i++) {
		if ((r = sc_buf_put_bytes(pt, reg->acl[i].pubkey, SC_KEY_LEN)) != 0 ||
		    (r = sc_buf_put_u8(pt, reg->acl[i].flags)) != 0)
			return r;
	}
	return 0;
}

int
sc_blob_seal(const struct sc_crypto *cp, struct sc_registration *reg,
    const uint8_t hv_pk[SC_KEY_LEN], struct sc_buf *out)
{
	uint8_t esk[SC_X25519_LEN], epk[SC_KEY_LEN], dh[SC_X25519_LEN];
	uint8_t k[BLOB_KEY_LEN], ad[BLOB_AD_LEN];
	uint8_t nonce[SC_AEAD_NONCELEN] = { 0 };
	uint8_t ptmem[SC_BLOB_PT_MAX];
	struct sc_buf pt;
	uint8_t *ct;
	size_t saved = out->len;
	int r;

	cp->memzero(reg->blob_id, sizeof(reg->blob_id));
	sc_buf_init(&pt, ptmem, sizeof(ptmem));
	if (out->readonly) {
		r = SC_ERR_INVAL;
		goto out;
	}
	if ((r = reg_check(cp, reg)) != 0 ||
	    (r = reg_serialize(reg, &pt)) != 0)
		goto out;
	if (sc_buf_room(out) < SC_BLOB_HDR_LEN + pt.len + SC_TAG_LEN) {
		r = SC_ERR_NOSPACE;
		goto out;
	}
	cp->random(esk, sizeof(esk));
	if ((r = cp->x25519_base(epk, esk)) != 0 ||
	    (r = cp->x25519(dh, esk, hv_pk)) != 0 ||	/* low-order hv_pk fails */
	    (r = blob_kdf(cp, dh, epk, hv_pk, k)) != 0 ||
	    (r = blob_ad(ad, epk, hv_pk)) != 0)
		goto out;
	if ((r = sc_buf_put_bytes(out, blob_magic, BLOB_MAGIC_LEN)) != 0 ||
	    (r = sc_buf_put_u8(out, SC_BLOB_VERSION)) != 0 ||
	    (r = sc_buf_put_bytes(out, epk, SC_KEY_LEN)) != 0 ||
	    (r = sc_buf_reserve(out, pt.len + SC_TAG_LEN, &ct)) != 0)
		goto out;
	if ((r = cp->aead_encrypt(ct, pt.data, pt.len, ad, sizeof(ad), nonce,
	    k)) != 0)
		goto out;
	r = blob_id(cp, epk, ct, pt.len + SC_TAG_LEN, reg->blob_id);
out:
	if (r != 0 && !out->readonly)
		out->len = saved;
	cp->memzero(esk, sizeof(esk));
	cp->memzero(dh, sizeof(dh));
	cp->memzero(k, sizeof(k));
	cp->memzero(ptmem, sizeof(ptmem));
	return r;
}

static int
reg_parse(struct sc_buf *pt, struct sc_registration *reg)
{
	const uint8_t *dk;
	size_t dklen;
	uint8_t count;
	unsigned i;
	int r;

	if ((r = sc_buf_get_bytes(pt, reg->uuid, SC_UUID_LEN)) != 0 ||
	    (r = sc_buf_get_u64(pt, &reg->generation)) != 0 ||
	    (r = sc_buf_get_bytes(pt, reg->vm_secret, SC_PSK_LEN)) != 0 ||
	    (r = sc_buf_get_str8(pt, &dk, &dklen, SC_DISK_KEY_MAX)) != 0)
		return r;
	if (dklen < 1)
		return SC_ERR_FORMAT;
	sc_memcpy(reg->disk_key, dk, dklen);
	reg->disk_key_len = dklen;
	if ((r = sc_buf_get_u32(pt, &reg->options)) != 0 ||
	    (r = sc_buf_get_u32(pt, &reg->history_size)) != 0 ||
	    (r = sc_buf_get_u8(pt, &count)) != 0)
		return r;
	if (count < 1)
		return SC_ERR_FORMAT;
	if (count > SC_ACL_MAX)
		return SC_ERR_TOOLONG;
	reg->acl_count = count;
	for (i = 0; i < count; i++) {
		if ((r = sc_buf_get_bytes(pt, reg->acl[i].pubkey, SC_KEY_LEN)) != 0 ||
		    (r = sc_buf_get_u8(pt, &reg->acl[i].flags)) != 0)
			return r;
	}
	return sc_buf_expect_end(pt);
}

int
sc_blob_open(const struct sc_crypto *cp, const uint8_t hv_sk[SC_KEY_LEN],
    const uint8_t hv_pk[SC_KEY_LEN], const uint8_t *blob, size_t len,
    struct sc_registration *reg)
{
	uint8_t dh[SC_X25519_LEN], k[BLOB_KEY_LEN], ad[BLOB_AD_LEN];
	uint8_t nonce[SC_AEAD_NONCELEN] = { 0 };
	uint8_t pk_check[SC_KEY_LEN];
	uint8_t ptmem[SC_BLOB_PT_MAX];
	uint8_t magic[BLOB_MAGIC_LEN], version;
	const uint8_t *epk, *ct;
	struct sc_buf in, pt;
	size_t ctlen;
	int r;

	cp->memzero(reg, sizeof(*reg));
	if (len < BLOB_MIN) {
		r = SC_ERR_TRUNCATED;
		goto out;
	}
	if (len > SC_BLOB_MAX) {
		r = SC_ERR_TOOLONG;
		goto out;
	}
	/* The caller's key pair must belong together. */
	if ((r = cp->x25519_base(pk_check, hv_sk)) != 0)
		goto out;
	if (cp->memcmp_ct(pk_check, hv_pk, SC_KEY_LEN) != 0) {
		r = SC_ERR_INVAL;
		goto out;
	}
	sc_buf_init_ro(&in, blob, len);
	if ((r = sc_buf_get_bytes(&in, magic, BLOB_MAGIC_LEN)) != 0 ||
	    (r = sc_buf_get_u8(&in, &version)) != 0 ||
	    (r = sc_buf_get_view(&in, SC_KEY_LEN, &epk)) != 0)
		goto out;
	if (cp->memcmp_ct(magic, blob_magic, BLOB_MAGIC_LEN) != 0) {
		r = SC_ERR_MAGIC;
		goto out;
	}
	if (version != SC_BLOB_VERSION) {
		r = SC_ERR_VERSION;
		goto out;
	}
	ctlen = sc_buf_avail(&in);	/* BLOB_MIN..SC_BLOB_MAX checked above */
	if ((r = sc_buf_get_view(&in, ctlen, &ct)) != 0)
		goto out;
	if ((r = cp->x25519(dh, hv_sk, epk)) != 0 ||	/* low-order epk fails */
	    (r = blob_kdf(cp, dh, epk, hv_pk, k)) != 0 ||
	    (r = blob_ad(ad, epk, hv_pk)) != 0)
		goto out;
	if (ctlen - SC_TAG_LEN > sizeof(ptmem)) {
		r = SC_ERR_TOOLONG;
		goto out;
	}
	if ((r = cp->aead_decrypt(ptmem, ct, ctlen, ad, sizeof(ad), nonce, k)) != 0) {
		r = SC_ERR_DECRYPT;
		goto out;
	}
	sc_buf_init_ro(&pt, ptmem, ctlen - SC_TAG_LEN);
	if ((r = reg_parse(&pt, reg)) != 0 ||
	    (r = reg_check(cp, reg)) != 0 ||
	    (r = blob_id(cp, epk, ct, ctlen, reg->blob_id)) != 0)
		goto out;
out:
	if (r != 0)
		cp->memzero(reg, sizeof(*reg));
	cp->memzero(dh, sizeof(dh));
	cp->memzero(k, sizeof(k));
	cp->memzero(ptmem, sizeof(ptmem));
	return r;
}

int
sc_blob_confirm(const struct sc_crypto *cp, const struct sc_registration *reg,
    const uint8_t hv_pk[SC_KEY_LEN], int32_t status, uint8_t out[32])
{
	struct sc_hash_state st;
	uint8_t st_be[4];
	uint32_t s = (uint32_t)status;
	int r;

	st_be[0] = (uint8_t)(s >> 24);
	st_be[1] = (uint8_t)(s >> 16);
	st_be[2] = (uint8_t)(s >> 8);
	st_be[3] = (uint8_t)s;
	if ((r = cp->hash_init(&st, reg->vm_secret, SC_PSK_LEN, 32)) != 0 ||
	    (r = cp->hash_update(&st, (const uint8_t *)BLOB_CONFIRM_LABEL,
	    BLOB_CONFIRM_LABEL_LEN)) != 0 ||
	    (r = cp->hash_update(&st, reg->uuid, SC_UUID_LEN)) != 0 ||
	    (r = cp->hash_update(&st, hv_pk, SC_KEY_LEN)) != 0 ||
	    (r = cp->hash_update(&st, reg->blob_id, SC_BLOB_ID_LEN)) != 0 ||
	    (r = cp->hash_update(&st, st_be, sizeof(st_be))) != 0 ||
	    (r = cp->hash_final(&st, out, 32)) != 0)
		goto out;
out:
	cp->memzero(&st, sizeof(st));
	return r;
}
