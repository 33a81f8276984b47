/*
 * test_cert.c — VMM certificate sign / parse / verify.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "cert.h"
#include "core/err.h"
#include "secmem.h"

#define NOW	1700000000ULL

static uint8_t ks_pk[32], ks_sk[64];
static uint8_t other_pk[32], other_sk[64];
static uint8_t hv_pk[32];

static void
make_cert(struct sc_cert *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->host, sizeof(c->host), "dom0.example.net");
	memcpy(c->hv_pubkey, hv_pk, 32);
	memset(c->pcr_digest, 0xa5, 32);
	c->issued = NOW - 60;
	c->expires = NOW + 3600;
	memcpy(c->signer, ks_pk, 32);
}

static size_t
signed_cert(uint8_t *out, size_t outsz)
{
	struct sc_cert c;
	size_t len = 0;

	make_cert(&c);
	assert_int_equal(sc_cert_sign(&c, ks_sk, out, outsz, &len), 0);
	return len;
}

static void
test_roundtrip(void **state)
{
	uint8_t buf[512];
	size_t len;
	struct sc_cert c, want;

	(void)state;
	len = signed_cert(buf, sizeof(buf));
	/* magic, version, str8 host, 32+32, 8+8, 32, 64 */
	assert_int_equal(len, 4 + 1 + 1 + 16 + 32 + 32 + 8 + 8 + 32 + 64);
	assert_memory_equal(buf, "SCC1", 4);
	assert_int_equal(buf[4], 1);
	assert_int_equal(buf[5], 16);
	make_cert(&want);
	memset(&c, 0xff, sizeof(c));
	assert_int_equal(sc_cert_verify(buf, len, ks_pk, "dom0.example.net", hv_pk,
	    NOW, &c), 0);
	assert_string_equal(c.host, want.host);
	assert_memory_equal(c.hv_pubkey, want.hv_pubkey, 32);
	assert_memory_equal(c.pcr_digest, want.pcr_digest, 32);
	assert_int_equal(c.issued, want.issued);
	assert_int_equal(c.expires, want.expires);
	assert_memory_equal(c.signer, ks_pk, 32);
	/* Optional checks may be skipped; c may be NULL; host compare ignores case. */
	assert_int_equal(sc_cert_verify(buf, len, ks_pk, NULL, NULL, NOW, NULL), 0);
	assert_int_equal(sc_cert_verify(buf, len, ks_pk, "DOM0.Example.NET", NULL,
	    NOW, NULL), 0);
	/* parse works without any trust. */
	memset(&c, 0, sizeof(c));
	assert_int_equal(sc_cert_parse(buf, len, &c), 0);
	assert_string_equal(c.host, "dom0.example.net");
	/* Big-endian times at their offsets. */
	assert_int_equal(buf[6 + 16 + 64 + 7], (uint8_t)(NOW - 60));
}

static void
test_validity_window(void **state)
{
	uint8_t buf[512];
	size_t len;

	(void)state;
	len = signed_cert(buf, sizeof(buf));
	/* expires is exclusive */
	assert_int_equal(sc_cert_verify(buf, len, ks_pk, NULL, NULL, NOW + 3599, NULL), 0);
	assert_int_equal(sc_cert_verify(buf, len, ks_pk, NULL, NULL, NOW + 3600, NULL),
	    SC_ERR_EXPIRED);
	assert_int_equal(sc_cert_verify(buf, len, ks_pk, NULL, NULL, UINT64_MAX, NULL),
	    SC_ERR_EXPIRED);
	/* issued = NOW - 60: valid from NOW - 360 thanks to the 300 s skew */
	assert_int_equal(sc_cert_verify(buf, len, ks_pk, NULL, NULL, NOW - 360, NULL), 0);
	assert_int_equal(sc_cert_verify(buf, len, ks_pk, NULL, NULL, NOW - 361, NULL),
	    SC_ERR_EXPIRED);
	assert_int_equal(sc_cert_verify(buf, len, ks_pk, NULL, NULL, 0, NULL),
	    SC_ERR_EXPIRED);
}

static void
test_forged(void **state)
{
	uint8_t buf[512], copy[512];
	size_t len, i;
	int bit, r;

	(void)state;
	len = signed_cert(buf, sizeof(buf));
	/* Every single bit flip anywhere is rejected. */
	for (i = 0; i < len; i++) {
		for (bit = 0; bit < 8; bit++) {
			memcpy(copy, buf, len);
			copy[i] ^= (uint8_t)(1u << bit);
			r = sc_cert_verify(copy, len, ks_pk, "dom0.example.net", hv_pk,
			    NOW, NULL);
			if (r == 0)
				fail_msg("bit %d of byte %zu flipped: accepted", bit, i);
			/* Flips in the signed body or signature: bad signature
			 * (unless they broke the format or the signer field). */
			if (i >= 6 + 16 && i < 6 + 16 + 32 + 32 + 16)
				assert_true(r == SC_ERR_SIGNATURE || r == SC_ERR_FORMAT);
			if (i >= len - 64)
				assert_int_equal(r, SC_ERR_SIGNATURE);
			if (i >= len - 96 && i < len - 64)
				assert_int_equal(r, SC_ERR_UNTRUSTED);
		}
	}
}

static void
test_wrong_signer(void **state)
{
	uint8_t buf[512];
	size_t len = 0;
	struct sc_cert c;

	(void)state;
	/* Signed by another key that names itself as signer: untrusted. */
	make_cert(&c);
	memcpy(c.signer, other_pk, 32);
	assert_int_equal(sc_cert_sign(&c, other_sk, buf, sizeof(buf), &len), 0);
	assert_int_equal(sc_cert_verify(buf, len, ks_pk, NULL, NULL, NOW, NULL),
	    SC_ERR_UNTRUSTED);
	/* But it verifies against its own key. */
	assert_int_equal(sc_cert_verify(buf, len, other_pk, NULL, NULL, NOW, NULL), 0);
	/* Another key naming the pinned key as signer: bad signature. */
	memcpy(buf + len - 96, ks_pk, 32);
	assert_int_equal(sc_cert_verify(buf, len, ks_pk, NULL, NULL, NOW, NULL),
	    SC_ERR_SIGNATURE);
	/* sign refuses a signer field that does not match the key. */
	make_cert(&c);
	assert_int_equal(sc_cert_sign(&c, other_sk, buf, sizeof(buf), &len), SC_ERR_INVAL);
}

static void
test_mismatch(void **state)
{
	uint8_t buf[512], hv2[32];
	size_t len;

	(void)state;
	len = signed_cert(buf, sizeof(buf));
	assert_int_equal(sc_cert_verify(buf, len, ks_pk, "dom1.example.net", hv_pk,
	    NOW, NULL), SC_ERR_MISMATCH);
	assert_int_equal(sc_cert_verify(buf, len, ks_pk, "dom0.example.ne", hv_pk,
	    NOW, NULL), SC_ERR_MISMATCH);
	memcpy(hv2, hv_pk, 32);
	hv2[31] ^= 1;
	assert_int_equal(sc_cert_verify(buf, len, ks_pk, "dom0.example.net", hv2,
	    NOW, NULL), SC_ERR_MISMATCH);
}

static void
test_truncated_and_trailing(void **state)
{
	uint8_t buf[512];
	size_t len, i;
	struct sc_cert c;

	(void)state;
	len = signed_cert(buf, sizeof(buf));
	for (i = 0; i < len; i++) {
		assert_int_equal(sc_cert_verify(buf, i, ks_pk, NULL, NULL, NOW, NULL),
		    SC_ERR_FORMAT);
		assert_int_equal(sc_cert_parse(buf, i, &c), SC_ERR_FORMAT);
	}
	buf[len] = 0;
	assert_int_equal(sc_cert_verify(buf, len + 1, ks_pk, NULL, NULL, NOW, NULL),
	    SC_ERR_FORMAT);
	assert_int_equal(sc_cert_parse(buf, len + 1, &c), SC_ERR_FORMAT);
}

static void
test_bad_fields(void **state)
{
	uint8_t buf[512];
	size_t len = 0;
	struct sc_cert c;

	(void)state;
	/* Host rules on signing: 1..255 bytes, printable, no space. */
	make_cert(&c);
	c.host[0] = '\0';
	assert_int_equal(sc_cert_sign(&c, ks_sk, buf, sizeof(buf), &len), SC_ERR_INVAL);
	snprintf(c.host, sizeof(c.host), "a b");
	assert_int_equal(sc_cert_sign(&c, ks_sk, buf, sizeof(buf), &len), SC_ERR_INVAL);
	snprintf(c.host, sizeof(c.host), "a\x1b");
	assert_int_equal(sc_cert_sign(&c, ks_sk, buf, sizeof(buf), &len), SC_ERR_INVAL);
	memset(c.host, 'h', sizeof(c.host));	/* no NUL at all */
	assert_int_equal(sc_cert_sign(&c, ks_sk, buf, sizeof(buf), &len), SC_ERR_INVAL);
	memset(c.host, 'h', 255);
	c.host[255] = '\0';
	assert_int_equal(sc_cert_sign(&c, ks_sk, buf, sizeof(buf), &len), 0);
	assert_int_equal(sc_cert_verify(buf, len, ks_pk, c.host, NULL, NOW, NULL), 0);
	assert_int_equal(sc_cert_sign(&c, ks_sk, buf, len - 1, &len), SC_ERR_NOSPACE);
	/* issued must be before expires. */
	make_cert(&c);
	c.issued = c.expires;
	assert_int_equal(sc_cert_sign(&c, ks_sk, buf, sizeof(buf), &len), SC_ERR_INVAL);

	/* A correctly signed certificate with a control byte in the host
	 * (hand-built) is refused as malformed before the signature check. */
	make_cert(&c);
	assert_int_equal(sc_cert_sign(&c, ks_sk, buf, sizeof(buf), &len), 0);
	buf[6] = '\n';
	crypto_sign_ed25519_detached(buf + len - 64, NULL, buf, len - 64, ks_sk);
	assert_int_equal(sc_cert_verify(buf, len, ks_pk, NULL, NULL, NOW, NULL),
	    SC_ERR_FORMAT);
	/* Likewise a zero-length host, and a bad magic / version. */
	make_cert(&c);
	assert_int_equal(sc_cert_sign(&c, ks_sk, buf, sizeof(buf), &len), 0);
	buf[0] = 'X';
	assert_int_equal(sc_cert_parse(buf, len, &c), SC_ERR_FORMAT);
	buf[0] = 'S';
	buf[4] = 2;
	assert_int_equal(sc_cert_parse(buf, len, &c), SC_ERR_VERSION);
	buf[4] = 1;
	{
		/* Re-encode by hand: host length 0. */
		uint8_t b2[512];
		size_t n = 0;

		memcpy(b2, buf, 5);
		b2[5] = 0;
		n = 6;
		memcpy(b2 + n, buf + 6 + 16, len - 6 - 16);
		n += len - 6 - 16;
		crypto_sign_ed25519_detached(b2 + n - 64, NULL, b2, n - 64, ks_sk);
		assert_int_equal(sc_cert_parse(b2, n, &c), SC_ERR_FORMAT);
	}
	/* A hand-made certificate with issued >= expires is malformed. */
	make_cert(&c);
	assert_int_equal(sc_cert_sign(&c, ks_sk, buf, sizeof(buf), &len), 0);
	memset(buf + 6 + 16 + 64 + 8, 0, 8);	/* expires = 0 */
	crypto_sign_ed25519_detached(buf + len - 64, NULL, buf, len - 64, ks_sk);
	assert_int_equal(sc_cert_verify(buf, len, ks_pk, NULL, NULL, NOW, NULL),
	    SC_ERR_FORMAT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_validity_window),
		cmocka_unit_test(test_forged),
		cmocka_unit_test(test_wrong_signer),
		cmocka_unit_test(test_mismatch),
		cmocka_unit_test(test_truncated_and_trailing),
		cmocka_unit_test(test_bad_fields),
	};

	if (sc_lib_init() != 0)
		return 1;
	crypto_sign_ed25519_keypair(ks_pk, ks_sk);
	crypto_sign_ed25519_keypair(other_pk, other_sk);
	randombytes_buf(hv_pk, sizeof(hv_pk));
	return cmocka_run_group_tests_name("cert", tests, NULL, NULL);
}
