/*
 * test_blob.c — the sealed registration blob.
 *
 * Besides round trips through sc_blob_seal/sc_blob_open, the tests build
 * blobs with an independent implementation of the documented construction
 * (libsodium called directly), so the code is checked against the spec in
 * blob.h, and so blobs that sc_blob_seal refuses to make (no owner, too many
 * entries, trailing bytes...) can be fed to sc_blob_open.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>

#include "core/err.h"
#include "core/buf.h"
#include "core/crypto.h"
#include "core/blob.h"

static const struct sc_crypto *cp;
static uint8_t hv_sk[32], hv_pk[32], other_sk[32], other_pk[32];

static int
setup(void **state)
{
	(void)state;
	if (sodium_init() < 0)
		return -1;
	cp = sc_crypto_sodium();
	randombytes_buf(hv_sk, 32);
	crypto_scalarmult_base(hv_pk, hv_sk);
	randombytes_buf(other_sk, 32);
	crypto_scalarmult_base(other_pk, other_sk);
	return 0;
}

static void
fill_reg(struct sc_registration *r, unsigned acl_count, size_t dklen)
{
	unsigned i;

	memset(r, 0, sizeof(*r));
	randombytes_buf(r->uuid, sizeof(r->uuid));
	r->generation = 1 + ((uint64_t)randombytes_random() << 24);
	randombytes_buf(r->vm_secret, sizeof(r->vm_secret));
	r->disk_key_len = dklen;
	randombytes_buf(r->disk_key, dklen);
	r->options = SC_REG_OPT_HISTORY;
	r->history_size = 1 << 20;
	r->acl_count = acl_count;
	for (i = 0; i < acl_count; i++) {
		randombytes_buf(r->acl[i].pubkey, 32);
		r->acl[i].flags = i == 0 ? SC_ACL_F_OWNER : 0;
	}
}

static bool
all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i] != 0)
			return false;
	return true;
}

/* The plaintext layout of blob.h, written independently of blob.c. */
static size_t
ref_plaintext(const struct sc_registration *r, unsigned count_field,
    uint8_t *pt)
{
	size_t n = 0;
	unsigned i;

	memcpy(pt + n, r->uuid, 16); n += 16;
	for (i = 0; i < 8; i++)
		pt[n++] = (uint8_t)(r->generation >> (56 - 8 * i));
	memcpy(pt + n, r->vm_secret, 32); n += 32;
	pt[n++] = (uint8_t)r->disk_key_len;
	memcpy(pt + n, r->disk_key, r->disk_key_len); n += r->disk_key_len;
	pt[n++] = (uint8_t)(r->options >> 24);
	pt[n++] = (uint8_t)(r->options >> 16);
	pt[n++] = (uint8_t)(r->options >> 8);
	pt[n++] = (uint8_t)r->options;
	pt[n++] = (uint8_t)(r->history_size >> 24);
	pt[n++] = (uint8_t)(r->history_size >> 16);
	pt[n++] = (uint8_t)(r->history_size >> 8);
	pt[n++] = (uint8_t)r->history_size;
	pt[n++] = (uint8_t)count_field;
	for (i = 0; i < r->acl_count; i++) {
		memcpy(pt + n, r->acl[i].pubkey, 32); n += 32;
		pt[n++] = r->acl[i].flags;
	}
	return n;
}

/*
 * Reference sealer: seals pt[0..ptlen) to pk exactly as blob.h says, with
 * esk given (NULL: random).  epk_override replaces the ephemeral public key
 * in the blob (to test low-order keys).  Returns the blob length.
 */
static size_t
ref_seal(const uint8_t *pt, size_t ptlen, const uint8_t *pk,
    const uint8_t *epk_override, uint8_t *out)
{
	uint8_t esk[32], epk[32], dh[32], k[32], ad[4 + 1 + 32 + 32];
	uint8_t nonce[12] = { 0 };
	crypto_generichash_state st;
	unsigned long long clen;

	randombytes_buf(esk, 32);
	crypto_scalarmult_base(epk, esk);
	if (epk_override != NULL) {
		memcpy(epk, epk_override, 32);
		memset(dh, 0, 32);	/* what a peer would have to guess */
	} else {
		assert_int_equal(crypto_scalarmult(dh, esk, pk), 0);
	}
	crypto_generichash_init(&st, dh, 32, 32);
	crypto_generichash_update(&st, (const uint8_t *)"SCCrypt blob v1", 15);
	crypto_generichash_update(&st, epk, 32);
	crypto_generichash_update(&st, pk, 32);
	crypto_generichash_final(&st, k, 32);
	memcpy(ad, "SCB1\x02", 5);
	memcpy(ad + 5, epk, 32);
	memcpy(ad + 37, pk, 32);
	memcpy(out, "SCB1\x02", 5);
	memcpy(out + 5, epk, 32);
	crypto_aead_chacha20poly1305_ietf_encrypt(out + 37, &clen, pt, ptlen,
	    ad, sizeof(ad), NULL, nonce, k);
	assert_int_equal(clen, ptlen + 16);
	return 37 + (size_t)clen;
}

/* Reference opener: the plaintext of a blob sealed to hv_pk. */
static size_t
ref_open(const uint8_t *blob, size_t len, uint8_t *pt)
{
	uint8_t dh[32], k[32], ad[69], nonce[12] = { 0 };
	crypto_generichash_state st;
	unsigned long long mlen;

	assert_true(len > 37 + 16);
	assert_memory_equal(blob, "SCB1\x02", 5);
	assert_int_equal(crypto_scalarmult(dh, hv_sk, blob + 5), 0);
	crypto_generichash_init(&st, dh, 32, 32);
	crypto_generichash_update(&st, (const uint8_t *)"SCCrypt blob v1", 15);
	crypto_generichash_update(&st, blob + 5, 32);
	crypto_generichash_update(&st, hv_pk, 32);
	crypto_generichash_final(&st, k, 32);
	memcpy(ad, blob, 37);
	memcpy(ad + 37, hv_pk, 32);
	assert_int_equal(crypto_aead_chacha20poly1305_ietf_decrypt(pt, &mlen, NULL,
	    blob + 37, len - 37, ad, sizeof(ad), nonce, k), 0);
	return (size_t)mlen;
}

static size_t
seal(struct sc_registration *r, const uint8_t *pk, uint8_t *out, size_t cap)
{
	struct sc_buf b;

	sc_buf_init(&b, out, cap);
	assert_int_equal(sc_blob_seal(cp, r, pk, &b), 0);
	return b.len;
}

static void
assert_reg_equal(const struct sc_registration *a, const struct sc_registration *b)
{
	unsigned i;

	assert_memory_equal(a->uuid, b->uuid, 16);
	assert_int_equal(a->generation, b->generation);
	assert_memory_equal(a->vm_secret, b->vm_secret, 32);
	assert_int_equal(a->disk_key_len, b->disk_key_len);
	assert_memory_equal(a->disk_key, b->disk_key, a->disk_key_len);
	assert_int_equal(a->options, b->options);
	assert_int_equal(a->history_size, b->history_size);
	assert_int_equal(a->acl_count, b->acl_count);
	for (i = 0; i < a->acl_count; i++) {
		assert_memory_equal(a->acl[i].pubkey, b->acl[i].pubkey, 32);
		assert_int_equal(a->acl[i].flags, b->acl[i].flags);
	}
}

static void
test_roundtrip(void **state)
{
	struct sc_registration r, g;
	uint8_t blob[SC_BLOB_MAX], blob2[SC_BLOB_MAX], pt[SC_BLOB_PT_MAX], ref[SC_BLOB_PT_MAX];
	uint8_t id[32];
	size_t n, n2, ptlen;
	unsigned acl;
	size_t dk;

	(void)state;
	for (acl = 1; acl <= SC_ACL_MAX; acl += 5) {
		for (dk = 1; dk <= SC_DISK_KEY_MAX; dk += 42) {
			fill_reg(&r, acl, dk);
			n = seal(&r, hv_pk, blob, sizeof(blob));
			assert_int_equal(n, SC_BLOB_HDR_LEN + 16 + 8 + 32 + 1 + dk + 9 +
			    33 * acl + SC_TAG_LEN);
			memset(&g, 0xaa, sizeof(g));
			assert_int_equal(sc_blob_open(cp, hv_sk, hv_pk, blob, n, &g), 0);
			assert_reg_equal(&r, &g);
			/* Both ends name the blob by the hash of its bytes. */
			assert_memory_equal(r.blob_id, g.blob_id, 32);
			crypto_generichash(id, 32, blob, n, NULL, 0);
			assert_memory_equal(g.blob_id, id, 32);
			/* The plaintext is exactly the documented layout. */
			ptlen = ref_open(blob, n, pt);
			assert_int_equal(ptlen, ref_plaintext(&r, r.acl_count, ref));
			assert_memory_equal(pt, ref, ptlen);
			/* A fresh ephemeral every time. */
			n2 = seal(&r, hv_pk, blob2, sizeof(blob2));
			assert_int_equal(n2, n);
			assert_memory_not_equal(blob, blob2, n);
		}
	}
	/* The largest blob. */
	fill_reg(&r, SC_ACL_MAX, SC_DISK_KEY_MAX);
	n = seal(&r, hv_pk, blob, sizeof(blob));
	assert_int_equal(n, SC_BLOB_MAX);
	assert_int_equal(sc_blob_open(cp, hv_sk, hv_pk, blob, n, &g), 0);
	assert_reg_equal(&r, &g);
	/* A blob made by the reference sealer opens. */
	fill_reg(&r, 3, 64);
	r.acl[2].flags = SC_ACL_F_OWNER;
	r.options = 0;
	ptlen = ref_plaintext(&r, r.acl_count, pt);
	n = ref_seal(pt, ptlen, hv_pk, NULL, blob);
	assert_int_equal(sc_blob_open(cp, hv_sk, hv_pk, blob, n, &g), 0);
	assert_reg_equal(&r, &g);
	crypto_generichash(id, 32, blob, n, NULL, 0);
	assert_memory_equal(g.blob_id, id, 32);
	/* The largest generation is valid. */
	r.generation = UINT64_MAX;
	ptlen = ref_plaintext(&r, r.acl_count, pt);
	n = ref_seal(pt, ptlen, hv_pk, NULL, blob);
	assert_int_equal(sc_blob_open(cp, hv_sk, hv_pk, blob, n, &g), 0);
	assert_true(g.generation == UINT64_MAX);
}

static void
test_wrong_key(void **state)
{
	struct sc_registration r, g;
	uint8_t blob[SC_BLOB_MAX];
	size_t n;

	(void)state;
	fill_reg(&r, 2, 32);
	n = seal(&r, other_pk, blob, sizeof(blob));
	memset(&g, 0xaa, sizeof(g));
	assert_int_equal(sc_blob_open(cp, hv_sk, hv_pk, blob, n, &g), SC_ERR_DECRYPT);
	assert_true(all_zero(&g, sizeof(g)));
	/* The intended key opens it. */
	assert_int_equal(sc_blob_open(cp, other_sk, other_pk, blob, n, &g), 0);
	/* A key pair that does not belong together is a caller error. */
	assert_int_equal(sc_blob_open(cp, hv_sk, other_pk, blob, n, &g), SC_ERR_INVAL);
	assert_true(all_zero(&g, sizeof(g)));
}

static void
test_tamper_each_byte(void **state)
{
	struct sc_registration r, g;
	uint8_t blob[SC_BLOB_MAX], bad[SC_BLOB_MAX];
	size_t n, i;
	int rc;

	(void)state;
	fill_reg(&r, 2, 32);
	n = seal(&r, hv_pk, blob, sizeof(blob));
	for (i = 0; i < n; i++) {
		memcpy(bad, blob, n);
		bad[i] ^= (uint8_t)(1u << (i % 8));
		memset(&g, 0xaa, sizeof(g));
		rc = sc_blob_open(cp, hv_sk, hv_pk, bad, n, &g);
		if (i < 4)
			assert_int_equal(rc, SC_ERR_MAGIC);
		else if (i == 4)
			assert_int_equal(rc, SC_ERR_VERSION);
		else
			assert_true(rc == SC_ERR_DECRYPT || rc == SC_ERR_BADKEY);
		assert_true(all_zero(&g, sizeof(g)));
	}
}

static void
test_truncated(void **state)
{
	struct sc_registration r, g;
	uint8_t blob[SC_BLOB_MAX + 1];
	size_t n, k;

	(void)state;
	fill_reg(&r, 1, 1);
	n = seal(&r, hv_pk, blob, sizeof(blob));
	for (k = 0; k < n; k++) {
		memset(&g, 0xaa, sizeof(g));
		assert_true(sc_blob_open(cp, hv_sk, hv_pk, blob, k, &g) < 0);
		assert_true(all_zero(&g, sizeof(g)));
	}
	/* The smallest possible blob is exactly this one. */
	assert_int_equal(sc_blob_open(cp, hv_sk, hv_pk, blob, n - 1, &g),
	    SC_ERR_TRUNCATED);
	/* A trailing byte moves the tag: authentication fails. */
	blob[n] = 0;
	assert_int_equal(sc_blob_open(cp, hv_sk, hv_pk, blob, n + 1, &g), SC_ERR_DECRYPT);
	/* Over the maximum size. */
	{
		static uint8_t big[SC_BLOB_MAX + 1];

		memcpy(big, blob, n);
		assert_int_equal(sc_blob_open(cp, hv_sk, hv_pk, big, sizeof(big), &g),
		    SC_ERR_TOOLONG);
	}
}

/* Seal a hand-made plaintext with the reference sealer and open it. */
static int
open_ref(const uint8_t *pt, size_t ptlen)
{
	struct sc_registration g;
	static uint8_t blob[SC_BLOB_MAX + 64];
	size_t n;
	int rc;

	n = ref_seal(pt, ptlen, hv_pk, NULL, blob);
	memset(&g, 0xaa, sizeof(g));
	rc = sc_blob_open(cp, hv_sk, hv_pk, blob, n, &g);
	if (rc != 0)
		assert_true(all_zero(&g, sizeof(g)));
	return rc;
}

static void
test_contents_invalid(void **state)
{
	struct sc_registration r;
	uint8_t pt[SC_BLOB_PT_MAX + 64];
	size_t n;

	(void)state;
	/* Sanity: the reference path accepts a good one. */
	fill_reg(&r, 2, 16);
	n = ref_plaintext(&r, r.acl_count, pt);
	assert_int_equal(open_ref(pt, n), 0);
	/* Generation 0 (never above a domain's). */
	r.generation = 0;
	n = ref_plaintext(&r, r.acl_count, pt);
	assert_int_equal(open_ref(pt, n), SC_ERR_FORMAT);
	/* No owner. */
	fill_reg(&r, 2, 16);
	r.acl[0].flags = 0;
	n = ref_plaintext(&r, r.acl_count, pt);
	assert_int_equal(open_ref(pt, n), SC_ERR_PERM);
	/* Unknown ACL flag, unknown option, duplicate key. */
	fill_reg(&r, 2, 16);
	r.acl[1].flags = 0x80;
	n = ref_plaintext(&r, r.acl_count, pt);
	assert_int_equal(open_ref(pt, n), SC_ERR_FORMAT);
	fill_reg(&r, 2, 16);
	r.options = 0x100;
	n = ref_plaintext(&r, r.acl_count, pt);
	assert_int_equal(open_ref(pt, n), SC_ERR_FORMAT);
	fill_reg(&r, 2, 16);
	memcpy(r.acl[1].pubkey, r.acl[0].pubkey, 32);
	n = ref_plaintext(&r, r.acl_count, pt);
	assert_int_equal(open_ref(pt, n), SC_ERR_FORMAT);
	/* acl_count 0 (no entries): caught by the count when the blob is long
	 * enough to be looked at, by the minimum size otherwise. */
	fill_reg(&r, 0, 64);
	n = ref_plaintext(&r, 0, pt);
	assert_int_equal(open_ref(pt, n), SC_ERR_FORMAT);
	fill_reg(&r, 0, 16);
	n = ref_plaintext(&r, 0, pt);
	assert_int_equal(open_ref(pt, n), SC_ERR_TRUNCATED);
	/* Too many ACL entries: a count of 17 with 16 entries present ... */
	fill_reg(&r, SC_ACL_MAX, 16);
	n = ref_plaintext(&r, SC_ACL_MAX + 1, pt);
	assert_int_equal(open_ref(pt, n), SC_ERR_TOOLONG);
	/* ... and with 17 entries present. */
	fill_reg(&r, SC_ACL_MAX, 16);
	n = ref_plaintext(&r, SC_ACL_MAX + 1, pt);
	randombytes_buf(pt + n, 32);
	pt[n + 32] = 0;
	n += 33;
	assert_int_equal(open_ref(pt, n), SC_ERR_TOOLONG);
	/* Count says more entries than there are. */
	fill_reg(&r, 2, 16);
	n = ref_plaintext(&r, 3, pt);
	assert_int_equal(open_ref(pt, n), SC_ERR_TRUNCATED);
	/* Trailing plaintext byte. */
	fill_reg(&r, 2, 16);
	n = ref_plaintext(&r, r.acl_count, pt);
	pt[n++] = 0;
	assert_int_equal(open_ref(pt, n), SC_ERR_FORMAT);
	/* Disk key too long (129) and empty. */
	fill_reg(&r, 1, 16);
	{	/* by hand: struct sc_registration cannot hold 129 bytes */
		size_t o = 0;

		memcpy(pt, r.uuid, 16); o += 16;
		memset(pt + o, 0, 7); o += 7;
		pt[o++] = 1;			/* generation 1 */
		memcpy(pt + o, r.vm_secret, 32); o += 32;
		pt[o++] = SC_DISK_KEY_MAX + 1;
		memset(pt + o, 0x42, SC_DISK_KEY_MAX + 1); o += SC_DISK_KEY_MAX + 1;
		memset(pt + o, 0, 8); o += 8;
		pt[o++] = 1;
		memcpy(pt + o, r.acl[0].pubkey, 32); o += 32;
		pt[o++] = SC_ACL_F_OWNER;
		assert_int_equal(open_ref(pt, o), SC_ERR_TOOLONG);
	}
	fill_reg(&r, 2, 0);	/* 2 entries: over the minimum size */
	n = ref_plaintext(&r, 2, pt);
	assert_int_equal(open_ref(pt, n), SC_ERR_FORMAT);
}

static void
test_seal_refuses(void **state)
{
	struct sc_registration r;
	uint8_t blob[SC_BLOB_MAX];
	uint8_t zero[32] = { 0 };
	struct sc_buf b;

	(void)state;
	sc_buf_init(&b, blob, sizeof(blob));
	fill_reg(&r, 1, 16);
	r.acl[0].flags = 0;
	assert_int_equal(sc_blob_seal(cp, &r, hv_pk, &b), SC_ERR_PERM);
	fill_reg(&r, 1, 16);
	r.acl_count = SC_ACL_MAX + 1;
	assert_int_equal(sc_blob_seal(cp, &r, hv_pk, &b), SC_ERR_TOOLONG);
	fill_reg(&r, 0, 16);
	assert_int_equal(sc_blob_seal(cp, &r, hv_pk, &b), SC_ERR_FORMAT);
	fill_reg(&r, 1, 16);
	r.disk_key_len = SC_DISK_KEY_MAX + 1;
	assert_int_equal(sc_blob_seal(cp, &r, hv_pk, &b), SC_ERR_TOOLONG);
	r.disk_key_len = 0;
	assert_int_equal(sc_blob_seal(cp, &r, hv_pk, &b), SC_ERR_FORMAT);
	fill_reg(&r, 1, 16);
	r.generation = 0;
	assert_int_equal(sc_blob_seal(cp, &r, hv_pk, &b), SC_ERR_FORMAT);
	assert_int_equal(b.len, 0);
	/* Low-order hv key. */
	fill_reg(&r, 1, 16);
	assert_int_equal(sc_blob_seal(cp, &r, zero, &b), SC_ERR_BADKEY);
	assert_int_equal(b.len, 0);
	/* No room. */
	sc_buf_init(&b, blob, 100);
	assert_int_equal(sc_blob_seal(cp, &r, hv_pk, &b), SC_ERR_NOSPACE);
	assert_int_equal(b.len, 0);
}

static void
test_low_order_epk(void **state)
{
	struct sc_registration r, g;
	uint8_t pt[SC_BLOB_PT_MAX], blob[SC_BLOB_MAX];
	uint8_t zero[32] = { 0 }, one[32] = { 1 };
	size_t n, ptlen;

	(void)state;
	fill_reg(&r, 1, 16);
	ptlen = ref_plaintext(&r, 1, pt);
	n = ref_seal(pt, ptlen, hv_pk, zero, blob);
	assert_int_equal(sc_blob_open(cp, hv_sk, hv_pk, blob, n, &g), SC_ERR_BADKEY);
	n = ref_seal(pt, ptlen, hv_pk, one, blob);
	assert_int_equal(sc_blob_open(cp, hv_sk, hv_pk, blob, n, &g), SC_ERR_BADKEY);
}

static void
ref_confirm(const struct sc_registration *r, const uint8_t *pk, int32_t status,
    uint8_t out[32])
{
	crypto_generichash_state st;
	uint32_t s = (uint32_t)status;
	uint8_t be[4] = { (uint8_t)(s >> 24), (uint8_t)(s >> 16), (uint8_t)(s >> 8),
	    (uint8_t)s };

	crypto_generichash_init(&st, r->vm_secret, 32, 32);
	crypto_generichash_update(&st, (const uint8_t *)"SCCrypt bound v2", 16);
	crypto_generichash_update(&st, r->uuid, 16);
	crypto_generichash_update(&st, pk, 32);
	crypto_generichash_update(&st, r->blob_id, 32);
	crypto_generichash_update(&st, be, 4);
	crypto_generichash_final(&st, out, 32);
}

static void
test_confirm(void **state)
{
	static const int32_t statuses[] = { 0, SC_ERR_DISKKEY, SC_ERR_PROTECTED,
	    SC_ERR_FORMAT, SC_ERR_DECRYPT, 1, INT32_MIN };
	uint8_t c[SC_NELEM(statuses)][32], ref[32], x[32];
	uint8_t blob[SC_BLOB_MAX];
	struct sc_registration r, r2, g;
	size_t i, j, n;

	(void)state;
	fill_reg(&r, 1, 16);
	n = seal(&r, hv_pk, blob, sizeof(blob));
	for (i = 0; i < SC_NELEM(statuses); i++) {
		assert_int_equal(sc_blob_confirm(cp, &r, hv_pk, statuses[i], c[i]), 0);
		ref_confirm(&r, hv_pk, statuses[i], ref);
		assert_memory_equal(c[i], ref, 32);
		for (j = 0; j < i; j++)
			assert_memory_not_equal(c[i], c[j], 32);
	}
	/* It depends on the hv key, the uuid and the secret. */
	assert_int_equal(sc_blob_confirm(cp, &r, other_pk, 0, x), 0);
	assert_memory_not_equal(x, c[0], 32);
	r2 = r;
	r2.uuid[15] ^= 1;
	assert_int_equal(sc_blob_confirm(cp, &r2, hv_pk, 0, x), 0);
	assert_memory_not_equal(x, c[0], 32);
	r2 = r;
	r2.vm_secret[0] ^= 1;
	assert_int_equal(sc_blob_confirm(cp, &r2, hv_pk, 0, x), 0);
	assert_memory_not_equal(x, c[0], 32);
	/*
	 * It names the blob: a second blob with the same secret, uuid and
	 * contents has another confirm (dom0 cannot answer a re-PROTECT with
	 * the first PROTECT's confirm); the hv, which opened the blob, computes
	 * the same confirm as the owner.
	 */
	r2 = r;
	(void)seal(&r2, hv_pk, blob, sizeof(blob));
	assert_memory_not_equal(r2.blob_id, r.blob_id, 32);
	assert_int_equal(sc_blob_confirm(cp, &r2, hv_pk, 0, x), 0);
	assert_memory_not_equal(x, c[0], 32);
	assert_int_equal(sc_blob_open(cp, hv_sk, hv_pk, blob, n, &g), 0);
	assert_int_equal(sc_blob_confirm(cp, &g, hv_pk, 0, ref), 0);
	assert_memory_equal(x, ref, 32);
	/* The disk key and the ACL do not enter it. */
	r2 = r;
	r2.disk_key[0] ^= 1;
	r2.acl[0].pubkey[0] ^= 1;
	assert_int_equal(sc_blob_confirm(cp, &r2, hv_pk, 0, x), 0);
	assert_memory_equal(x, c[0], 32);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_wrong_key),
		cmocka_unit_test(test_tamper_each_byte),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_contents_invalid),
		cmocka_unit_test(test_seal_refuses),
		cmocka_unit_test(test_low_order_epk),
		cmocka_unit_test(test_confirm),
	};

	return cmocka_run_group_tests_name("blob", tests, setup, NULL);
}
