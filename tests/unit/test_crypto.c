/*
 * test_crypto.c — the libsodium crypto provider keeps the contract of
 * lib/core/crypto.h, which the in-Xen provider (hv/xen/crypto) must keep too:
 * parameter ranges, low-order point rejection, tag failures, constant-time
 * compare, and known answers.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>

#include "core/err.h"
#include "core/crypto.h"

static const struct sc_crypto *cp;

static void
test_hash_ranges(void **state)
{
	struct sc_hash_state st;
	uint8_t out[64], key[65];
	size_t n;

	(void)state;
	memset(key, 7, sizeof(key));
	for (n = 1; n <= 64; n++)
		assert_int_equal(sc_hash(cp, out, n, (const uint8_t *)"x", 1, NULL, 0), 0);
	assert_int_equal(cp->hash_init(&st, NULL, 0, 0), SC_ERR_INVAL);
	assert_int_equal(cp->hash_init(&st, NULL, 0, 65), SC_ERR_INVAL);
	assert_int_equal(cp->hash_init(&st, key, 65, 32), SC_ERR_INVAL);
	assert_int_equal(cp->hash_init(&st, key, 64, 32), 0);
}

/* BLAKE2b-512 of the empty string (RFC 7693 reference implementation). */
static void
test_hash_kat(void **state)
{
	static const uint8_t want[8] = {
		0x78, 0x6a, 0x02, 0xf7, 0x42, 0x01, 0x59, 0x03 };
	uint8_t out[64];

	(void)state;
	assert_int_equal(sc_hash(cp, out, 64, NULL, 0, NULL, 0), 0);
	assert_memory_equal(out, want, sizeof(want));
}

static void
test_x25519(void **state)
{
	/* Low-order points (RFC 7748 §6.1 discussion; libsodium's blacklist). */
	static const uint8_t zero[32] = { 0 };
	uint8_t one[32] = { 1 };
	uint8_t sk[32], pk[32], pk2[32], sk2[32], s1[32], s2[32];

	(void)state;
	assert_int_equal(sc_x25519_keypair(cp, pk, sk), 0);
	assert_int_equal(sc_x25519_keypair(cp, pk2, sk2), 0);
	assert_int_equal(cp->x25519(s1, sk, pk2), 0);
	assert_int_equal(cp->x25519(s2, sk2, pk), 0);
	assert_memory_equal(s1, s2, 32);
	assert_int_equal(cp->x25519(s1, sk, zero), SC_ERR_BADKEY);
	assert_int_equal(cp->x25519(s1, sk, one), SC_ERR_BADKEY);
}

static void
test_aead(void **state)
{
	uint8_t key[32], nonce[12] = { 0 }, m[40], c[56], d[40];

	(void)state;
	cp->random(key, sizeof(key));
	memset(m, 'm', sizeof(m));
	assert_int_equal(cp->aead_encrypt(c, m, sizeof(m), (const uint8_t *)"ad", 2,
	    nonce, key), 0);
	assert_int_equal(cp->aead_decrypt(d, c, sizeof(c), (const uint8_t *)"ad", 2,
	    nonce, key), 0);
	assert_memory_equal(d, m, sizeof(m));
	/* Wrong AD, flipped tag bit, too short: refused with SC_ERR_DECRYPT. */
	assert_int_equal(cp->aead_decrypt(d, c, sizeof(c), (const uint8_t *)"aD", 2,
	    nonce, key), SC_ERR_DECRYPT);
	c[sizeof(c) - 1] ^= 1;
	assert_int_equal(cp->aead_decrypt(d, c, sizeof(c), (const uint8_t *)"ad", 2,
	    nonce, key), SC_ERR_DECRYPT);
	assert_int_equal(cp->aead_decrypt(d, c, 15, NULL, 0, nonce, key), SC_ERR_DECRYPT);
	/* In place. */
	memcpy(c, m, sizeof(m));
	assert_int_equal(cp->aead_encrypt(c, c, sizeof(m), NULL, 0, nonce, key), 0);
	assert_int_equal(cp->aead_decrypt(c, c, sizeof(m) + 16, NULL, 0, nonce, key), 0);
	assert_memory_equal(c, m, sizeof(m));
}

static void
test_compare_and_zero(void **state)
{
	uint8_t a[32], b[32];

	(void)state;
	memset(a, 1, sizeof(a));
	memcpy(b, a, sizeof(a));
	assert_int_equal(cp->memcmp_ct(a, b, sizeof(a)), 0);
	b[31] ^= 0x80;
	assert_int_equal(cp->memcmp_ct(a, b, sizeof(a)), -1);
	cp->memzero(a, sizeof(a));
	memset(b, 0, sizeof(b));
	assert_memory_equal(a, b, sizeof(a));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash_ranges),
		cmocka_unit_test(test_hash_kat),
		cmocka_unit_test(test_x25519),
		cmocka_unit_test(test_aead),
		cmocka_unit_test(test_compare_and_zero),
	};

	if (sodium_init() < 0)
		return 1;
	cp = sc_crypto_sodium();
	return cmocka_run_group_tests_name("crypto", tests, NULL, NULL);
}
