/*
 * test_owner.c — the ownership token and the PROTECT payload (core/owner.h).
 *
 * The token is checked against an independent implementation of the
 * documented construction (libsodium called directly: BLAKE2b-256 of the
 * sorted entries, Ed25519 over domain || uuid || digest), so a change of
 * the layout in owner.c alone cannot pass.
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
#include "core/owner.h"

static const struct sc_crypto *cp;
static uint8_t ca_pk[32], ca_sk[64], other_pk[32], other_sk[64];

static int
setup(void **state)
{
	(void)state;
	if (sodium_init() < 0)
		return -1;
	cp = sc_crypto_sodium();
	crypto_sign_ed25519_keypair(ca_pk, ca_sk);
	crypto_sign_ed25519_keypair(other_pk, other_sk);
	return 0;
}

static void
fill_acl(struct sc_acl_entry *acl, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		randombytes_buf(acl[i].pubkey, 32);
		acl[i].flags = i == 0 ? SC_ACL_F_OWNER : 0;
	}
}

/* The spec in owner.h, written out with libsodium and a different sort. */
static void
spec_token(const uint8_t sk[64], const uint8_t uuid[16],
    const struct sc_acl_entry *acl, unsigned n, uint8_t sig[64])
{
	struct sc_acl_entry s[SC_ACL_MAX], t;
	crypto_generichash_blake2b_state st;
	uint8_t msg[SC_OWNER_MSG_LEN], cnt = (uint8_t)n;
	unsigned i, j;

	memcpy(s, acl, n * sizeof(*acl));
	for (i = 0; i < n; i++)		/* selection sort on (pubkey, flags) */
		for (j = i + 1; j < n; j++) {
			int c = memcmp(s[j].pubkey, s[i].pubkey, 32);
			if (c < 0 || (c == 0 && s[j].flags < s[i].flags)) {
				t = s[i]; s[i] = s[j]; s[j] = t;
			}
		}
	crypto_generichash_blake2b_init(&st, NULL, 0, 32);
	crypto_generichash_blake2b_update(&st,
	    (const uint8_t *)"SCCrypt ownership acl v1", 24);
	crypto_generichash_blake2b_update(&st, &cnt, 1);
	for (i = 0; i < n; i++) {
		crypto_generichash_blake2b_update(&st, s[i].pubkey, 32);
		crypto_generichash_blake2b_update(&st, &s[i].flags, 1);
	}
	memcpy(msg, "SCCrypt ownership v1", 20);
	memcpy(msg + 20, uuid, 16);
	crypto_generichash_blake2b_final(&st, msg + 36, 32);
	crypto_sign_ed25519_detached(sig, NULL, msg, sizeof(msg), sk);
}

static void
test_token_spec(void **state)
{
	struct sc_acl_entry acl[SC_ACL_MAX], rev[SC_ACL_MAX];
	uint8_t uuid[16], sig[64], msg[SC_OWNER_MSG_LEN];
	unsigned n, i;

	(void)state;
	for (n = 1; n <= SC_ACL_MAX; n++) {
		randombytes_buf(uuid, sizeof(uuid));
		fill_acl(acl, n);
		spec_token(ca_sk, uuid, acl, n, sig);
		assert_int_equal(sc_owner_verify(cp, ca_pk, uuid, acl, n, sig), 0);
		/* Order of the entries does not matter. */
		for (i = 0; i < n; i++)
			rev[i] = acl[n - 1 - i];
		assert_int_equal(sc_owner_verify(cp, ca_pk, uuid, rev, n, sig), 0);
		/* The message is what the spec signs. */
		assert_int_equal(sc_owner_message(cp, uuid, acl, n, msg), 0);
		assert_int_equal(crypto_sign_ed25519_verify_detached(sig, msg,
		    sizeof(msg), ca_pk), 0);
	}
}

static void
test_token_refusals(void **state)
{
	struct sc_acl_entry acl[4], x[5];
	uint8_t uuid[16], u2[16], sig[64], bad[64];

	(void)state;
	randombytes_buf(uuid, sizeof(uuid));
	fill_acl(acl, 4);
	spec_token(ca_sk, uuid, acl, 4, sig);
	assert_int_equal(sc_owner_verify(cp, ca_pk, uuid, acl, 4, sig), 0);
	/* No token, another CA, another UUID. */
	assert_int_equal(sc_owner_verify(cp, ca_pk, uuid, acl, 4, NULL), SC_ERR_UNTRUSTED);
	assert_int_equal(sc_owner_verify(cp, other_pk, uuid, acl, 4, sig), SC_ERR_UNTRUSTED);
	memcpy(u2, uuid, 16);
	u2[15] ^= 1;
	assert_int_equal(sc_owner_verify(cp, ca_pk, u2, acl, 4, sig), SC_ERR_UNTRUSTED);
	/* dom0 adds a user key of its own next to the owner's. */
	memcpy(x, acl, sizeof(acl));
	randombytes_buf(x[4].pubkey, 32);
	x[4].flags = 0;
	assert_int_equal(sc_owner_verify(cp, ca_pk, uuid, x, 5, sig), SC_ERR_UNTRUSTED);
	/* ... or drops one, or swaps an owner flag, or changes a key. */
	assert_int_equal(sc_owner_verify(cp, ca_pk, uuid, acl, 3, sig), SC_ERR_UNTRUSTED);
	memcpy(x, acl, sizeof(acl));
	x[1].flags = SC_ACL_F_OWNER;
	assert_int_equal(sc_owner_verify(cp, ca_pk, uuid, x, 4, sig), SC_ERR_UNTRUSTED);
	memcpy(x, acl, sizeof(acl));
	x[0].pubkey[0] ^= 1;
	assert_int_equal(sc_owner_verify(cp, ca_pk, uuid, x, 4, sig), SC_ERR_UNTRUSTED);
	/* A token signed by another key for the same statement. */
	spec_token(other_sk, uuid, acl, 4, bad);
	assert_int_equal(sc_owner_verify(cp, ca_pk, uuid, acl, 4, bad), SC_ERR_UNTRUSTED);
	/* Arguments. */
	assert_int_equal(sc_owner_verify(cp, ca_pk, uuid, acl, SC_ACL_MAX + 1, sig),
	    SC_ERR_INVAL);
	assert_int_equal(sc_owner_verify(cp, NULL, uuid, acl, 4, sig), SC_ERR_INVAL);
}

static void
test_payload(void **state)
{
	uint8_t blob[SC_BLOB_MAX], tok[SC_OWNER_TOKEN_LEN], mem[SC_PROTECT_PAYLOAD_MAX + 8];
	const uint8_t *b, *t;
	struct sc_buf o;
	size_t bl;

	(void)state;
	randombytes_buf(blob, sizeof(blob));
	randombytes_buf(tok, sizeof(tok));
	/* Round trips, with and without a token, smallest and largest blob. */
	sc_buf_init(&o, mem, sizeof(mem));
	assert_int_equal(sc_protect_payload_put(&o, blob, SC_BLOB_MAX, tok), 0);
	assert_int_equal(o.len, SC_PROTECT_PAYLOAD_MAX);
	assert_int_equal(sc_protect_payload_get(mem, o.len, &b, &bl, &t), 0);
	assert_ptr_equal(b, mem);
	assert_int_equal(bl, SC_BLOB_MAX);
	assert_non_null(t);
	assert_memory_equal(t, tok, sizeof(tok));
	sc_buf_init(&o, mem, sizeof(mem));
	assert_int_equal(sc_protect_payload_put(&o, blob, 1, NULL), 0);
	assert_int_equal(o.len, 2);
	assert_int_equal(mem[1], 0);
	assert_int_equal(sc_protect_payload_get(mem, o.len, &b, &bl, &t), 0);
	assert_int_equal(bl, 1);
	assert_null(t);
	/* Malformed: empty, only a tlen, a bad tlen, a token and no blob, too long. */
	assert_int_equal(sc_protect_payload_get(mem, 0, &b, &bl, &t), SC_ERR_TRUNCATED);
	mem[0] = 0;
	assert_int_equal(sc_protect_payload_get(mem, 1, &b, &bl, &t), SC_ERR_TRUNCATED);
	mem[0] = 1;
	mem[1] = 63;
	assert_int_equal(sc_protect_payload_get(mem, 2, &b, &bl, &t), SC_ERR_FORMAT);
	memset(mem, 0, sizeof(mem));
	mem[SC_OWNER_TOKEN_LEN] = SC_OWNER_TOKEN_LEN;
	assert_int_equal(sc_protect_payload_get(mem, SC_OWNER_TOKEN_LEN + 1, &b, &bl, &t),
	    SC_ERR_TRUNCATED);
	mem[SC_BLOB_MAX + 1] = 0;
	assert_int_equal(sc_protect_payload_get(mem, SC_BLOB_MAX + 2, &b, &bl, &t),
	    SC_ERR_TOOLONG);
	assert_int_equal(sc_protect_payload_get(mem, SC_PROTECT_PAYLOAD_MAX + 1, &b, &bl, &t),
	    SC_ERR_TOOLONG);
	assert_null(b);
	assert_null(t);
	/* put: no room, empty or oversized blob. */
	sc_buf_init(&o, mem, 10);
	assert_int_equal(sc_protect_payload_put(&o, blob, 10, NULL), SC_ERR_NOSPACE);
	assert_int_equal(o.len, 0);
	sc_buf_init(&o, mem, sizeof(mem));
	assert_int_equal(sc_protect_payload_put(&o, blob, 0, NULL), SC_ERR_INVAL);
	assert_int_equal(sc_protect_payload_put(&o, blob, SC_BLOB_MAX + 1, NULL), SC_ERR_TOOLONG);
}

/*
 * The owner proof (owner.h) written out with libsodium: both sides (owner
 * with its secret and the server's ephemeral public key, server with the
 * ephemeral secret and the owner's public key) get the spec's value, and
 * every input changes it.
 */
static void
spec_proof(const uint8_t dh[32], const uint8_t nonce[32],
    const uint8_t eph_pk[32], const uint8_t owner_pk[32],
    const uint8_t uuid[16], const struct sc_acl_entry *acl, unsigned n,
    uint8_t out[32])
{
	crypto_generichash_blake2b_state st;
	uint8_t msg[SC_OWNER_MSG_LEN];
	uint8_t sig[64];

	/* acl_digest via the token spec: msg = domain || uuid || digest. */
	spec_token(ca_sk, uuid, acl, n, sig);
	assert_int_equal(sc_owner_message(cp, uuid, acl, n, msg), 0);
	assert_int_equal(crypto_sign_ed25519_verify_detached(sig, msg,
	    sizeof(msg), ca_pk), 0);
	crypto_generichash_blake2b_init(&st, dh, 32, 32);
	crypto_generichash_blake2b_update(&st,
	    (const uint8_t *)"SCCrypt owner proof v1", 22);
	crypto_generichash_blake2b_update(&st, nonce, 32);
	crypto_generichash_blake2b_update(&st, eph_pk, 32);
	crypto_generichash_blake2b_update(&st, owner_pk, 32);
	crypto_generichash_blake2b_update(&st, uuid, 16);
	crypto_generichash_blake2b_update(&st, msg + 36, 32);
	crypto_generichash_blake2b_final(&st, out, 32);
}

static void
test_proof(void **state)
{
	struct sc_acl_entry acl[SC_ACL_MAX], rev[SC_ACL_MAX];
	uint8_t osk[32], opk[32], esk[32], epk[32], nonce[32], uuid[16], dh[32];
	uint8_t want[32], a[32], b[32], c[32], low[32] = { 0 };
	unsigned n, i;

	(void)state;
	for (n = 1; n <= SC_ACL_MAX; n++) {
		randombytes_buf(osk, 32);
		randombytes_buf(esk, 32);
		randombytes_buf(nonce, 32);
		randombytes_buf(uuid, 16);
		crypto_scalarmult_curve25519_base(opk, osk);
		crypto_scalarmult_curve25519_base(epk, esk);
		fill_acl(acl, n);
		assert_int_equal(crypto_scalarmult_curve25519(dh, osk, epk), 0);
		spec_proof(dh, nonce, epk, opk, uuid, acl, n, want);
		/* The owner's side and the server's side. */
		assert_int_equal(sc_owner_proof(cp, osk, epk, epk, opk, nonce,
		    uuid, acl, n, a), 0);
		assert_int_equal(sc_owner_proof(cp, esk, opk, epk, opk, nonce,
		    uuid, acl, n, b), 0);
		assert_memory_equal(a, want, 32);
		assert_memory_equal(b, want, 32);
		for (i = 0; i < n; i++)
			rev[i] = acl[n - 1 - i];
		assert_int_equal(sc_owner_proof(cp, osk, epk, epk, opk, nonce,
		    uuid, rev, n, c), 0);
		assert_memory_equal(c, want, 32);	/* order-free ACL */
		/* Each input counts. */
		nonce[0] ^= 1;
		assert_int_equal(sc_owner_proof(cp, osk, epk, epk, opk, nonce,
		    uuid, acl, n, c), 0);
		assert_memory_not_equal(c, want, 32);
		nonce[0] ^= 1;
		uuid[15] ^= 1;
		assert_int_equal(sc_owner_proof(cp, osk, epk, epk, opk, nonce,
		    uuid, acl, n, c), 0);
		assert_memory_not_equal(c, want, 32);
		uuid[15] ^= 1;
		acl[n - 1].flags ^= SC_ACL_F_OWNER;
		assert_int_equal(sc_owner_proof(cp, osk, epk, epk, opk, nonce,
		    uuid, acl, n, c), 0);
		assert_memory_not_equal(c, want, 32);
		acl[n - 1].flags ^= SC_ACL_F_OWNER;
		/* Another owner key (the wrong tenant) gives another value. */
		randombytes_buf(osk, 32);
		assert_int_equal(sc_owner_proof(cp, osk, epk, epk, opk, nonce,
		    uuid, acl, n, c), 0);
		assert_memory_not_equal(c, want, 32);
	}
	/* A low-order peer key is refused, not hashed as an all-zero key. */
	assert_int_equal(sc_owner_proof(cp, osk, low, epk, opk, nonce, uuid,
	    acl, 1, c), SC_ERR_BADKEY);
	assert_int_equal(sc_owner_proof(cp, osk, epk, epk, opk, nonce, uuid,
	    acl, SC_ACL_MAX + 1, c), SC_ERR_INVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_token_spec),
		cmocka_unit_test(test_token_refusals),
		cmocka_unit_test(test_payload),
		cmocka_unit_test(test_proof),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
