/*
 * test_keys_cost.c — the Argon2id cost of key files, against libsccrypt
 * itself (issue 12 item 10): the library always writes libsodium's
 * INTERACTIVE cost, whatever the environment says (SCCRYPT_KDF_FAST used
 * to lower it to 1 pass / 8 KiB for any program); it refuses to read an
 * encrypted file asking for less (SC_ERR_UNSUPPORTED, before any
 * passphrase is tried), and it has no way to lower the cost at all (the
 * test hook exists only in test builds of keyfile.c, see test_keys.c).
 */
#include "config.h"

#include <sys/stat.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "core/err.h"
#include "io.h"
#include "keyfile.h"
#include "secmem.h"

/* Present only in test builds of keyfile.c: must be absent from the library. */
#pragma weak sc_keyfile_test_kdf
void	sc_keyfile_test_kdf(uint32_t opslimit, uint32_t memlimit_kib);

#define OPS_OFF		8	/* magic[4] version kind kdf aead, then u32 BE */
#define MEM_OFF		12

static const uint8_t key32[32] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };

static size_t
dearmor(const uint8_t *text, uint8_t *blob, size_t cap)
{
	size_t n = 0;
	const char *b = strchr((const char *)text, '\n') + 1;
	const char *e = strstr((const char *)text, "-----END");

	assert_true(b != NULL && e != NULL);
	assert_int_equal(sodium_base642bin(blob, cap, b, (size_t)(e - b), "\n", &n,
	    NULL, sodium_base64_VARIANT_ORIGINAL), 0);
	return n;
}

static char *
armor(const uint8_t *blob, size_t len)
{
	size_t b64cap = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
	char *b64 = malloc(b64cap), *out = malloc(b64cap * 2 + 200);
	size_t n, i, o;

	assert_non_null(b64);
	assert_non_null(out);
	sodium_bin2base64(b64, b64cap, blob, len, sodium_base64_VARIANT_ORIGINAL);
	n = strlen(b64);
	o = (size_t)sprintf(out, "-----BEGIN SCCRYPT SECRET KEY-----\n");
	for (i = 0; i < n; i += 64) {
		size_t k = n - i < 64 ? n - i : 64;

		memcpy(out + o, b64 + i, k);
		o += k;
		out[o++] = '\n';
	}
	sprintf(out + o, "-----END SCCRYPT SECRET KEY-----\n");
	free(b64);
	return out;
}

static void
put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* The environment cannot lower the cost any more. */
static void
test_cost_is_fixed(void **state)
{
	uint8_t *text = NULL, *s = NULL;
	size_t tlen = 0, slen = 0;
	struct sc_keyfile_info info;

	(void)state;
	assert_int_equal(setenv("SCCRYPT_KDF_FAST", "1", 1), 0);
	assert_int_equal(sc_keyfile_serialize(SC_KEY_KIND_USER, key32, 32, "pw",
	    NULL, &text, &tlen), 0);
	assert_int_equal(sc_keyfile_info(text, tlen, &info), 0);
	assert_int_equal(info.opslimit, crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE);
	assert_int_equal(info.memlimit_kib,
	    crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE / 1024);
	assert_true(info.opslimit >= SC_KEYFILE_OPSLIMIT_MIN);
	assert_true(info.memlimit_kib >= SC_KEYFILE_MEMLIMIT_MIN_KIB);
	assert_int_equal(sc_keyfile_parse(text, tlen, SC_KEY_KIND_USER, "pw", &s,
	    &slen), 0);
	assert_memory_equal(s, key32, 32);
	sc_secure_free(s);
	sc_secure_free(text);
	assert_int_equal(unsetenv("SCCRYPT_KDF_FAST"), 0);
	/* and the library has no hook to lower it */
	assert_null((void *)sc_keyfile_test_kdf);
}

/*
 * A well-formed encrypted file asking for less than the minimum cost (what
 * SCCRYPT_KDF_FAST wrote, or a file someone weakened) is refused, from text
 * and from disk, before any passphrase is tried.
 */
static void
test_weak_files_refused(void **state)
{
	static const uint32_t weak[][2] = {
		{ 1, 8 },				/* SCCRYPT_KDF_FAST's */
		{ 1, SC_KEYFILE_MEMLIMIT_MIN_KIB },
		{ SC_KEYFILE_OPSLIMIT_MIN, 8 },
		{ SC_KEYFILE_OPSLIMIT_MIN, SC_KEYFILE_MEMLIMIT_MIN_KIB - 1 },
	};
	uint8_t *text = NULL, *s = NULL, blob[1024];
	size_t tlen = 0, slen = 0, blen, i;
	struct sc_keyfile_info info;
	char dir[] = "/tmp/test_keys_cost.XXXXXX", path[64];
	char *a;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/id", dir);
	assert_int_equal(sc_keyfile_serialize(SC_KEY_KIND_USER, key32, 32, "pw",
	    NULL, &text, &tlen), 0);
	blen = dearmor(text, blob, sizeof(blob));
	/* sanity: the re-armored intact blob reads */
	a = armor(blob, blen);
	assert_int_equal(sc_keyfile_parse((uint8_t *)a, strlen(a),
	    SC_KEY_KIND_USER, "pw", &s, &slen), 0);
	sc_secure_free(s);
	free(a);
	for (i = 0; i < sizeof(weak) / sizeof(weak[0]); i++) {
		put_be32(blob + OPS_OFF, weak[i][0]);
		put_be32(blob + MEM_OFF, weak[i][1]);
		a = armor(blob, blen);
		s = NULL;
		assert_int_equal(sc_keyfile_parse((uint8_t *)a, strlen(a),
		    SC_KEY_KIND_USER, "pw", &s, &slen), SC_ERR_UNSUPPORTED);
		assert_null(s);
		assert_int_equal(sc_keyfile_info((uint8_t *)a, strlen(a), &info),
		    SC_ERR_UNSUPPORTED);
		assert_int_equal(sc_write_file_atomic(path, a, strlen(a), 0600), 0);
		assert_int_equal(sc_keyfile_encrypted(path), SC_ERR_UNSUPPORTED);
		assert_int_equal(sc_keyfile_read(path, SC_KEY_KIND_USER, "pw", &s,
		    &slen), SC_ERR_UNSUPPORTED);
		assert_null(s);
		free(a);
	}
	unlink(path);
	rmdir(dir);
	sc_secure_free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cost_is_fixed),
		cmocka_unit_test(test_weak_files_refused),
	};

	if (sc_lib_init() != 0)
		return 1;
	umask(022);
	return cmocka_run_group_tests_name("keys_cost", tests, NULL, NULL);
}
