/*
 * test_keys.c — key files, keystore, public key text, fingerprints, hex/UUID,
 * VM files and known_hvs.
 *
 * Built with its own copy of lib/keyfile.c compiled with -DSC_KEYS_TEST_KDF,
 * which lets it write and accept the minimum Argon2id cost so that the
 * exhaustive tests stay fast; the library's own cost (fixed, refused below
 * the minimum) is tested in test_keys_cost.c against libsccrypt itself.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>
#include <errno.h>
#include <fcntl.h>
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
#include "encode.h"
#include "keystore.h"
#include "keyfile.h"
#include "vmfile.h"
#include "pubkey.h"
#include "known_hvs.h"
#include "secmem.h"

static char tmpdir[256];

static const uint8_t key32[32] = {
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
	0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
	0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
	0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
};

static void
path_in(char *out, size_t outsz, const char *name)
{
	int n = snprintf(out, outsz, "%s/%s", tmpdir, name);

	assert_true(n > 0 && (size_t)n < outsz);
}

static mode_t
file_mode(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_mode & 07777;
}

/* ---- round trips ------------------------------------------------------ */

static void
test_roundtrip_unencrypted(void **state)
{
	char path[512];
	uint8_t *s = NULL;
	size_t len = 0;
	struct sc_keyfile_info info;

	(void)state;
	path_in(path, sizeof(path), "plain");
	assert_int_equal(sc_keyfile_write(path, SC_KEY_KIND_USER, key32, 32, NULL,
	    "alice@laptop"), 0);
	assert_int_equal(file_mode(path), 0600);
	assert_int_equal(sc_keyfile_encrypted(path), 0);
	assert_int_equal(sc_keyfile_read(path, SC_KEY_KIND_USER, NULL, &s, &len), 0);
	assert_int_equal(len, 32);
	assert_memory_equal(s, key32, 32);
	sc_secure_free(s);
	/* A passphrase given for an unencrypted file is ignored. */
	assert_int_equal(sc_keyfile_read(path, SC_KEY_KIND_USER, "x", &s, &len), 0);
	assert_memory_equal(s, key32, 32);
	sc_secure_free(s);
	/* Empty passphrase means "not encrypted" too. */
	assert_int_equal(sc_keyfile_write(path, SC_KEY_KIND_USER, key32, 32, "", NULL), 0);
	assert_int_equal(sc_keyfile_encrypted(path), 0);
	assert_int_equal(sc_keyfile_read_info(path, &info), 0);
	assert_int_equal(info.kdf, SC_KEYFILE_KDF_NONE);
	assert_string_equal(info.comment, "");
	unlink(path);
}

static void
test_roundtrip_encrypted(void **state)
{
	char path[512];
	uint8_t sk[64], *s = NULL;
	size_t len = 0;
	struct sc_keyfile_info info;

	(void)state;
	randombytes_buf(sk, sizeof(sk));
	path_in(path, sizeof(path), "enc");
	assert_int_equal(sc_keyfile_write(path, SC_KEY_KIND_SIGNING, sk, 64,
	    "correct horse battery staple", "keyserver"), 0);
	assert_int_equal(file_mode(path), 0600);
	assert_int_equal(sc_keyfile_encrypted(path), 1);
	assert_int_equal(sc_keyfile_read_info(path, &info), 0);
	assert_int_equal(info.kind, SC_KEY_KIND_SIGNING);
	assert_int_equal(info.kdf, SC_KEYFILE_KDF_ARGON2ID);
	assert_int_equal(info.aead, SC_KEYFILE_AEAD_XCHACHA);
	assert_string_equal(info.comment, "keyserver");
	assert_int_equal(sc_keyfile_read(path, SC_KEY_KIND_SIGNING,
	    "correct horse battery staple", &s, &len), 0);
	assert_int_equal(len, 64);
	assert_memory_equal(s, sk, 64);
	sc_secure_free(s);

	s = (uint8_t *)1;
	assert_int_equal(sc_keyfile_read(path, SC_KEY_KIND_SIGNING, "wrong", &s, &len),
	    SC_ERR_PASSPHRASE);
	assert_null(s);
	assert_int_equal(sc_keyfile_read(path, SC_KEY_KIND_SIGNING, "", &s, &len),
	    SC_ERR_PASSPHRASE);
	assert_int_equal(sc_keyfile_read(path, SC_KEY_KIND_SIGNING, NULL, &s, &len),
	    SC_ERR_PASSPHRASE);
	assert_null(s);
	unlink(path);
}

/* Two writes of the same key differ (fresh salt and nonce). */
static void
test_fresh_salt(void **state)
{
	uint8_t *a = NULL, *b = NULL;
	size_t alen = 0, blen = 0;

	(void)state;
	assert_int_equal(sc_keyfile_serialize(SC_KEY_KIND_USER, key32, 32, "pw", NULL,
	    &a, &alen), 0);
	assert_int_equal(sc_keyfile_serialize(SC_KEY_KIND_USER, key32, 32, "pw", NULL,
	    &b, &blen), 0);
	assert_int_equal(alen, blen);
	assert_true(memcmp(a, b, alen) != 0);
	/* The armored text is NUL-terminated and starts with the BEGIN line. */
	assert_int_equal(a[alen], 0);
	assert_non_null(strstr((char *)a, "-----BEGIN SCCRYPT SECRET KEY-----\n"));
	assert_non_null(strstr((char *)a, "-----END SCCRYPT SECRET KEY-----\n"));
	sc_secure_free(a);
	sc_secure_free(b);
}

static void
test_bad_arguments(void **state)
{
	uint8_t *text = NULL;
	size_t tlen = 0;
	uint8_t big[SC_KEYFILE_SECRET_MAX + 1];

	(void)state;
	memset(big, 0x41, sizeof(big));
	/* Wrong lengths per kind, unknown kind, control bytes in the comment. */
	assert_int_equal(sc_keyfile_serialize(SC_KEY_KIND_USER, key32, 31, NULL, NULL,
	    &text, &tlen), SC_ERR_INVAL);
	assert_int_equal(sc_keyfile_serialize(SC_KEY_KIND_SIGNING, key32, 32, NULL, NULL,
	    &text, &tlen), SC_ERR_INVAL);
	assert_int_equal(sc_keyfile_serialize(9, key32, 32, NULL, NULL,
	    &text, &tlen), SC_ERR_INVAL);
	assert_int_equal(sc_keyfile_serialize(SC_KEY_KIND_VM, big, sizeof(big), NULL,
	    NULL, &text, &tlen), SC_ERR_INVAL);
	assert_int_equal(sc_keyfile_serialize(SC_KEY_KIND_USER, key32, 32, NULL,
	    "evil\x1b[2J", &text, &tlen), SC_ERR_INVAL);
	assert_int_equal(sc_keyfile_serialize(SC_KEY_KIND_USER, key32, 32, NULL,
	    "line\nbreak", &text, &tlen), SC_ERR_INVAL);
	assert_null(text);
	/* The largest VM payload works. */
	assert_int_equal(sc_keyfile_serialize(SC_KEY_KIND_VM, big,
	    SC_KEYFILE_SECRET_MAX, "pw", NULL, &text, &tlen), 0);
	assert_true(tlen <= SC_KEYFILE_MAX);
	sc_secure_free(text);
}

/* ---- corruption ------------------------------------------------------- */

static const char b64alpha[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Every byte position, every other byte value: never accepted. */
static void
test_corrupt_unencrypted_every_byte(void **state)
{
	uint8_t *text = NULL, *copy, *s;
	size_t tlen = 0, slen, i;
	unsigned v;
	int r;

	(void)state;
	assert_int_equal(sc_keyfile_serialize(SC_KEY_KIND_USER, key32, 32, NULL,
	    "c", &text, &tlen), 0);
	copy = malloc(tlen);
	assert_non_null(copy);
	for (i = 0; i < tlen; i++) {
		for (v = 0; v < 256; v++) {
			if (v == text[i])
				continue;
			memcpy(copy, text, tlen);
			copy[i] = (uint8_t)v;
			s = NULL;
			slen = 0;
			r = sc_keyfile_parse(copy, tlen, SC_KEY_KIND_USER, NULL, &s, &slen);
			if (r == 0)
				fail_msg("corruption at %zu (0x%02x -> 0x%02x) accepted",
				    i, text[i], v);
			assert_true(r < 0);
			assert_null(s);
		}
	}
	free(copy);
	sc_secure_free(text);
}

/*
 * Encrypted file: for every position, the neighbouring base64 character
 * (or, for armor bytes, a flipped bit).  Header damage must fail before or
 * at the passphrase check, body damage with SC_ERR_FORMAT.  Corruptions that
 * raise the KDF memory above 64 MiB are only parsed for their header, to
 * keep the test fast.
 */
static void
test_corrupt_encrypted_every_byte(void **state)
{
	uint8_t *text = NULL, *copy, *s;
	size_t tlen = 0, slen, i, k;
	struct sc_keyfile_info info;
	int r, n_pass = 0, n_format = 0;
	const char *p;

	(void)state;
	assert_int_equal(sc_keyfile_serialize(SC_KEY_KIND_USER, key32, 32, "pw",
	    "c", &text, &tlen), 0);
	copy = malloc(tlen);
	assert_non_null(copy);
	for (i = 0; i < tlen; i++) {
		for (k = 0; k < 2; k++) {
			memcpy(copy, text, tlen);
			if (k == 0 && (p = strchr(b64alpha, text[i])) != NULL && text[i] != 0)
				copy[i] = (uint8_t)b64alpha[(size_t)(p - b64alpha + 1) % 64];
			else
				copy[i] ^= (uint8_t)(k == 0 ? 0x01 : 0x20);
			if (sc_keyfile_info(copy, tlen, &info) == 0 &&
			    info.memlimit_kib > 65536)
				continue;
			s = NULL;
			r = sc_keyfile_parse(copy, tlen, SC_KEY_KIND_USER, "pw", &s, &slen);
			if (r == 0)
				fail_msg("corruption at %zu accepted", i);
			assert_null(s);
			if (r == SC_ERR_PASSPHRASE)
				n_pass++;
			if (r == SC_ERR_FORMAT)
				n_format++;
		}
	}
	/* Damaged ciphertext with the right passphrase is reported as such. */
	assert_true(n_format > 0);
	assert_true(n_pass > 0);
	free(copy);
	sc_secure_free(text);
}

/* Also through the file path, on a few positions. */
static void
test_corrupt_file(void **state)
{
	char path[512];
	unsigned char *data = NULL;
	size_t len = 0, i;
	uint8_t *s = NULL;
	size_t slen;

	(void)state;
	path_in(path, sizeof(path), "corrupt");
	assert_int_equal(sc_keyfile_write(path, SC_KEY_KIND_USER, key32, 32, "pw", NULL), 0);
	assert_int_equal(sc_read_file(path, 65536, &data, &len), 0);
	for (i = 40; i < len - 40; i += 17) {
		data[i] = data[i] == 'A' ? 'B' : 'A';
		assert_int_equal(sc_write_file_atomic(path, data, len, 0600), 0);
		assert_true(sc_keyfile_read(path, SC_KEY_KIND_USER, "pw", &s, &slen) < 0);
		assert_null(s);
	}
	free(data);
	unlink(path);
}

static void
test_truncated_text(void **state)
{
	uint8_t *text = NULL, *s;
	size_t tlen = 0, slen, i;
	int r;

	(void)state;
	assert_int_equal(sc_keyfile_serialize(SC_KEY_KIND_USER, key32, 32, NULL, NULL,
	    &text, &tlen), 0);
	for (i = 0; i < tlen - 1; i++) {
		s = NULL;
		r = sc_keyfile_parse(text, i, SC_KEY_KIND_USER, NULL, &s, &slen);
		if (r == 0)
			fail_msg("truncation to %zu accepted", i);
		assert_null(s);
	}
	/* Only the final newline is optional. */
	assert_int_equal(sc_keyfile_parse(text, tlen - 1, SC_KEY_KIND_USER, NULL, &s,
	    &slen), 0);
	sc_secure_free(s);
	sc_secure_free(text);
}

/* Re-armor a raw blob the way the format says (64-column base64 lines). */
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

/* Decode the armored text into its blob (test-side implementation). */
static size_t
dearmor(const uint8_t *text, size_t tlen, uint8_t *blob, size_t cap)
{
	size_t n = 0;
	const char *b = strchr((const char *)text, '\n') + 1;
	const char *e = strstr((const char *)text, "-----END");

	assert_true(b != NULL && e != NULL && (size_t)(e - (const char *)text) < tlen);
	assert_int_equal(sodium_base642bin(blob, cap, b, (size_t)(e - b), "\n", &n,
	    NULL, sodium_base64_VARIANT_ORIGINAL), 0);
	return n;
}

/* Valid armor around a truncated or extended blob: SC_ERR_FORMAT. */
static void
test_truncated_blob(void **state)
{
	uint8_t *text = NULL, *s = NULL, blob[1024], ext[1025];
	size_t tlen = 0, blen, i, slen;
	char *a;
	int r, enc;

	(void)state;
	for (enc = 0; enc < 2; enc++) {
		assert_int_equal(sc_keyfile_serialize(SC_KEY_KIND_USER, key32, 32,
		    enc ? "pw" : NULL, "comment", &text, &tlen), 0);
		blen = dearmor(text, tlen, blob, sizeof(blob));
		/* Sanity: re-armoring the intact blob parses. */
		a = armor(blob, blen);
		assert_int_equal(sc_keyfile_parse((uint8_t *)a, strlen(a),
		    SC_KEY_KIND_USER, "pw", &s, &slen), 0);
		assert_memory_equal(s, key32, 32);
		sc_secure_free(s);
		free(a);
		for (i = 1; i < blen; i++) {
			a = armor(blob, i);
			s = NULL;
			r = sc_keyfile_parse((uint8_t *)a, strlen(a), SC_KEY_KIND_USER,
			    "pw", &s, &slen);
			if (r != SC_ERR_FORMAT)
				fail_msg("blob truncated to %zu: %d", i, r);
			assert_null(s);
			free(a);
		}
		/* One trailing byte. */
		memcpy(ext, blob, blen);
		ext[blen] = 0;
		a = armor(ext, blen + 1);
		assert_int_equal(sc_keyfile_parse((uint8_t *)a, strlen(a),
		    SC_KEY_KIND_USER, "pw", &s, &slen), SC_ERR_FORMAT);
		free(a);
		/* Unknown version. */
		blob[4] = 2;
		a = armor(blob, blen);
		assert_int_equal(sc_keyfile_parse((uint8_t *)a, strlen(a),
		    SC_KEY_KIND_USER, "pw", &s, &slen), SC_ERR_VERSION);
		free(a);
		sc_secure_free(text);
	}
}

static void
test_armor_variants(void **state)
{
	uint8_t *text = NULL, *s = NULL;
	size_t tlen = 0, slen;
	char *crlf, *p;
	size_t o = 0, i;

	(void)state;
	assert_int_equal(sc_keyfile_serialize(SC_KEY_KIND_USER, key32, 32, NULL, NULL,
	    &text, &tlen), 0);
	/* CRLF line ends are refused (strict grammar). */
	crlf = malloc(tlen * 2 + 1);
	assert_non_null(crlf);
	for (i = 0; i < tlen; i++) {
		if (text[i] == '\n')
			crlf[o++] = '\r';
		crlf[o++] = (char)text[i];
	}
	assert_int_equal(sc_keyfile_parse((uint8_t *)crlf, o, SC_KEY_KIND_USER, NULL,
	    &s, &slen), SC_ERR_FORMAT);
	free(crlf);
	/* An empty line between base64 lines is refused. */
	p = malloc(tlen + 2);
	assert_non_null(p);
	memcpy(p, text, 36);	/* BEGIN line + '\n' + first byte */
	p[35] = '\n';
	memcpy(p + 36, text + 35, tlen - 35);
	assert_int_equal(sc_keyfile_parse((uint8_t *)p, tlen + 1, SC_KEY_KIND_USER,
	    NULL, &s, &slen), SC_ERR_FORMAT);
	free(p);
	/* Oversized input. */
	p = calloc(1, SC_KEYFILE_MAX + 1);
	assert_non_null(p);
	assert_int_equal(sc_keyfile_parse((uint8_t *)p, SC_KEYFILE_MAX + 1,
	    SC_KEY_KIND_USER, NULL, &s, &slen), SC_ERR_TOOLONG);
	free(p);
	sc_secure_free(text);
}

static void
test_wrong_kind(void **state)
{
	char path[512];
	uint8_t *s = NULL;
	size_t len;

	(void)state;
	path_in(path, sizeof(path), "kind");
	assert_int_equal(sc_keyfile_write(path, SC_KEY_KIND_USER, key32, 32, "pw", NULL), 0);
	assert_int_equal(sc_keyfile_read(path, SC_KEY_KIND_VM, "pw", &s, &len), SC_ERR_TYPE);
	assert_int_equal(sc_keyfile_read(path, SC_KEY_KIND_SIGNING, "pw", &s, &len),
	    SC_ERR_TYPE);
	assert_null(s);
	unlink(path);
}

/* ---- permissions ------------------------------------------------------ */

static void
test_permissions(void **state)
{
	char path[512];
	uint8_t *s = NULL;
	size_t len;
	static const mode_t bad[] = { 0644, 0640, 0604, 0660, 0601, 0610 };
	size_t i;

	(void)state;
	path_in(path, sizeof(path), "perm");
	assert_int_equal(sc_keyfile_write(path, SC_KEY_KIND_USER, key32, 32, NULL, NULL), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(chmod(path, bad[i]), 0);
		assert_int_equal(sc_keyfile_read(path, SC_KEY_KIND_USER, NULL, &s, &len),
		    SC_ERR_PERM);
		assert_int_equal(sc_keyfile_encrypted(path), SC_ERR_PERM);
		assert_null(s);
	}
	assert_int_equal(chmod(path, 0400), 0);
	assert_int_equal(sc_keyfile_read(path, SC_KEY_KIND_USER, NULL, &s, &len), 0);
	sc_secure_free(s);
	s = NULL;
	/* Owned by someone else: only root can set that up. */
	if (geteuid() == 0) {
		assert_int_equal(chown(path, 65534, 65534), 0);
		assert_int_equal(sc_keyfile_read(path, SC_KEY_KIND_USER, NULL, &s, &len),
		    SC_ERR_PERM);
	}
	unlink(path);
	assert_int_equal(sc_keyfile_read(path, SC_KEY_KIND_USER, NULL, &s, &len),
	    SC_ERR_NOTFOUND);
	/* A directory is not a key file. */
	assert_int_equal(sc_keyfile_read(tmpdir, SC_KEY_KIND_USER, NULL, &s, &len),
	    SC_ERR_TYPE);
	/* Nor is a FIFO: refused at once, never waited on. */
	assert_int_equal(mkfifo(path, 0600), 0);
	alarm(10);	/* a hang kills the test */
	assert_int_equal(sc_keyfile_read(path, SC_KEY_KIND_USER, NULL, &s, &len),
	    SC_ERR_TYPE);
	alarm(0);
	unlink(path);
	/* Writing replaces a loose file with a 0600 one. */
	assert_int_equal(sc_write_file_atomic(path, "x", 1, 0644), 0);
	assert_int_equal(sc_keyfile_write(path, SC_KEY_KIND_USER, key32, 32, NULL, NULL), 0);
	assert_int_equal(file_mode(path), 0600);
	unlink(path);
}

/* ---- keystore --------------------------------------------------------- */

static void
test_keystore_dir(void **state)
{
	char dir[512], want[512];
	struct stat st;

	(void)state;
	unsetenv("XDG_CONFIG_HOME");
	path_in(want, sizeof(want), "ks/a/b");
	assert_int_equal(setenv("SCCRYPT_HOME", want, 1), 0);
	assert_int_equal(sc_keystore_dir(dir, sizeof(dir), 0), SC_ERR_NOTFOUND);
	assert_int_equal(sc_keystore_dir(dir, sizeof(dir), 1), 0);
	assert_string_equal(dir, want);
	assert_int_equal(stat(dir, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0700);
	/* Intermediate directories are private too. */
	path_in(want, sizeof(want), "ks/a");
	assert_int_equal(file_mode(want), 0700);
	/* Existing: found without create. */
	assert_int_equal(sc_keystore_dir(dir, sizeof(dir), 0), 0);
	/* Group-writable keystore refused. */
	assert_int_equal(chmod(dir, 0770), 0);
	assert_int_equal(sc_keystore_dir(dir, sizeof(dir), 0), SC_ERR_PERM);
	assert_int_equal(chmod(dir, 0700), 0);
	/* Too small a buffer. */
	assert_int_equal(sc_keystore_dir(dir, 4, 0), SC_ERR_NOSPACE);
	/* A file in the way. */
	path_in(want, sizeof(want), "ksfile");
	assert_int_equal(sc_write_file_atomic(want, "x", 1, 0600), 0);
	assert_int_equal(setenv("SCCRYPT_HOME", want, 1), 0);
	assert_int_equal(sc_keystore_dir(dir, sizeof(dir), 1), SC_ERR_TYPE);

	/* $XDG_CONFIG_HOME/sccrypt when SCCRYPT_HOME is unset. */
	unsetenv("SCCRYPT_HOME");
	path_in(want, sizeof(want), "xdg");
	assert_int_equal(setenv("XDG_CONFIG_HOME", want, 1), 0);
	assert_int_equal(sc_keystore_dir(dir, sizeof(dir), 1), 0);
	path_in(want, sizeof(want), "xdg/sccrypt");
	assert_string_equal(dir, want);
	assert_int_equal(file_mode(dir), 0700);

	/* A relative XDG_CONFIG_HOME is ignored: $HOME/.config/sccrypt. */
	assert_int_equal(setenv("XDG_CONFIG_HOME", "relative/dir", 1), 0);
	path_in(want, sizeof(want), "home");
	assert_int_equal(setenv("HOME", want, 1), 0);
	assert_int_equal(sc_keystore_dir(dir, sizeof(dir), 1), 0);
	path_in(want, sizeof(want), "home/.config/sccrypt");
	assert_string_equal(dir, want);
	unsetenv("XDG_CONFIG_HOME");
}

/* ---- public key text -------------------------------------------------- */

static void
test_pubkey_roundtrip(void **state)
{
	char line[256], path[512];
	uint8_t pk[32];

	(void)state;
	assert_int_equal(sc_pubkey_format(SC_PUBKEY_PREFIX, key32, "alice@laptop",
	    line, sizeof(line)), 0);
	assert_string_equal(line, "sccrypt-x25519 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8= alice@laptop");
	assert_int_equal(sc_pubkey_parse(SC_PUBKEY_PREFIX, line, pk), 0);
	assert_memory_equal(pk, key32, 32);
	assert_int_equal(sc_pubkey_format(SC_KSKEY_PREFIX, key32, NULL, line,
	    sizeof(line)), 0);
	assert_string_equal(line, "sccrypt-ed25519 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=");
	assert_int_equal(sc_pubkey_parse(SC_KSKEY_PREFIX, line, pk), 0);
	assert_memory_equal(pk, key32, 32);
	/* Trailing newline / CRLF, tabs, extra spaces, comment with spaces. */
	assert_int_equal(sc_pubkey_parse(SC_PUBKEY_PREFIX,
	    "sccrypt-x25519\tAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=  my key\r\n", pk), 0);
	assert_memory_equal(pk, key32, 32);
	assert_int_equal(sc_pubkey_format(SC_PUBKEY_PREFIX, key32, "x", line, 10),
	    SC_ERR_NOSPACE);
	assert_int_equal(sc_pubkey_format(SC_PUBKEY_PREFIX, key32, "a\nb", line,
	    sizeof(line)), SC_ERR_INVAL);
	assert_int_equal(sc_pubkey_format("ssh-ed25519", key32, NULL, line,
	    sizeof(line)), SC_ERR_INVAL);

	/* Files: comments and blank lines before the key are skipped. */
	path_in(path, sizeof(path), "id.pub");
	assert_int_equal(sc_pubkey_write_file(SC_PUBKEY_PREFIX, path, key32, "c"), 0);
	assert_int_equal(file_mode(path), 0644);
	memset(pk, 0, sizeof(pk));
	assert_int_equal(sc_pubkey_read_file(SC_PUBKEY_PREFIX, path, pk), 0);
	assert_memory_equal(pk, key32, 32);
	assert_int_equal(sc_pubkey_read_file(SC_KSKEY_PREFIX, path, pk), SC_ERR_TYPE);
	{
		const char *txt = "# pinned key server\n\n   \nsccrypt-ed25519 "
		    "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8= ks\n";
		assert_int_equal(sc_write_file_atomic(path, txt, strlen(txt), 0644), 0);
		memset(pk, 0, sizeof(pk));
		assert_int_equal(sc_pubkey_read_file(SC_KSKEY_PREFIX, path, pk), 0);
		assert_memory_equal(pk, key32, 32);
		assert_int_equal(sc_write_file_atomic(path, "# only a comment\n", 17, 0644), 0);
		assert_int_equal(sc_pubkey_read_file(SC_KSKEY_PREFIX, path, pk), SC_ERR_FORMAT);
		assert_int_equal(sc_write_file_atomic(path, "sccrypt-ed25519 \0", 17, 0644), 0);
		assert_int_equal(sc_pubkey_read_file(SC_KSKEY_PREFIX, path, pk), SC_ERR_FORMAT);
	}
	unlink(path);
	assert_int_equal(sc_pubkey_read_file(SC_KSKEY_PREFIX, path, pk), SC_ERR_NOTFOUND);
}

static void
test_pubkey_malformed(void **state)
{
	static const struct {
		const char *line;
		int err;
	} bad[] = {
		{ "", SC_ERR_FORMAT },
		{ "\n", SC_ERR_FORMAT },
		{ "sccrypt-x25519", SC_ERR_FORMAT },
		{ "sccrypt-x25519 ", SC_ERR_FORMAT },
		{ "sccrypt-x25519X AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", SC_ERR_FORMAT },
		{ "sccrypt-ed25519 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", SC_ERR_TYPE },
		{ "ssh-ed25519 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", SC_ERR_FORMAT },
		/* 43 characters, 45 characters, unpadded, bad alphabet */
		{ "sccrypt-x25519 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8", SC_ERR_FORMAT },
		{ "sccrypt-x25519 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8==", SC_ERR_FORMAT },
		{ "sccrypt-x25519 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8A", SC_ERR_FORMAT },
		{ "sccrypt-x25519 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdH-8=", SC_ERR_FORMAT },
		/* non-zero padding bits in the last character */
		{ "sccrypt-x25519 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9=", SC_ERR_FORMAT },
		/* 33 bytes of key */
		{ "sccrypt-x25519 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g", SC_ERR_FORMAT },
		/* control bytes */
		{ "sccrypt-x25519 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8= a\x1b[31m", SC_ERR_FORMAT },
		{ "sccrypt-x25519 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n\n", SC_ERR_FORMAT },
		{ "sccrypt-x25519\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", SC_ERR_FORMAT },
	};
	uint8_t pk[32];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = sc_pubkey_parse(SC_PUBKEY_PREFIX, bad[i].line, pk);
		if (r != bad[i].err)
			fail_msg("line %zu: got %d want %d", i, r, bad[i].err);
	}
	assert_int_equal(sc_pubkey_parse("bogus", "bogus AAAA", pk), SC_ERR_INVAL);
}

/* ---- fingerprints, hex, UUID, base64 --------------------------------- */

static void
test_fingerprint(void **state)
{
	char fp[SC_FINGERPRINT_LEN], fp2[SC_FINGERPRINT_LEN];
	uint8_t zero[32] = { 0 };

	(void)state;
	/* Known answers, computed independently with Python's hashlib.blake2b. */
	sc_fingerprint(zero, 32, fp);
	assert_string_equal(fp, "SC256:iesNaoppHa4s0V7QNpkxzgqUnsr6XD+T+BIYM2RuFcM");
	sc_fingerprint(key32, 32, fp);
	assert_string_equal(fp, "SC256:yy9RYPwffgWlXvSdNAtI2i5aeAmdUzkzUc1XndQlA9Y");
	sc_fingerprint(key32, 32, fp2);
	assert_string_equal(fp, fp2);
	assert_int_equal(strlen(fp), 6 + 43);
}

static void
test_hex_uuid_base64(void **state)
{
	char hex[65], u[37], b64[64];
	uint8_t out[32], uuid[16];

	(void)state;
	sc_hex_encode(key32, 4, hex, sizeof(hex));
	assert_string_equal(hex, "00010203");
	sc_hex_encode(key32, 4, hex, 6);	/* cut at a whole byte */
	assert_string_equal(hex, "0001");
	assert_int_equal(sc_hex_decode("00010203", out, 4), 0);
	assert_memory_equal(out, key32, 4);
	assert_int_equal(sc_hex_decode("0A0b", out, 2), 0);
	assert_int_equal(out[0], 0x0a);
	assert_int_equal(out[1], 0x0b);
	assert_int_equal(sc_hex_decode("000102", out, 4), SC_ERR_FORMAT);
	assert_int_equal(sc_hex_decode("0001020304", out, 4), SC_ERR_FORMAT);
	assert_int_equal(sc_hex_decode("0001020g", out, 4), SC_ERR_FORMAT);
	assert_int_equal(sc_hex_decode("00 10203", out, 4), SC_ERR_FORMAT);

	assert_int_equal(sc_uuid_parse("6F9619FF-8B86-D011-B42D-00C04FC964FF", uuid), 0);
	sc_uuid_format(uuid, u);
	assert_string_equal(u, "6f9619ff-8b86-d011-b42d-00c04fc964ff");
	assert_int_equal(uuid[0], 0x6f);
	assert_int_equal(uuid[15], 0xff);
	assert_int_equal(sc_uuid_parse("6f9619ff8b86-d011-b42d-00c04fc964ff0", uuid),
	    SC_ERR_FORMAT);
	assert_int_equal(sc_uuid_parse("6f9619ff-8b86-d011-b42d-00c04fc964f", uuid),
	    SC_ERR_FORMAT);
	assert_int_equal(sc_uuid_parse("6f9619ff-8b86-d011-b42d-00c04fc964fff", uuid),
	    SC_ERR_FORMAT);
	assert_int_equal(sc_uuid_parse("6f9619ff-8b86-d011-b42d-00c04fc964fg", uuid),
	    SC_ERR_FORMAT);
	assert_int_equal(sc_uuid_parse("6f9619ff-8b86-d011+b42d-00c04fc964ff", uuid),
	    SC_ERR_FORMAT);
	assert_int_equal(sc_uuid_parse("", uuid), SC_ERR_FORMAT);
#define VMP "/vm/6f9619ff-8b86-d011-b42d-00c04fc964ff"
	memset(uuid, 0, sizeof(uuid));
	assert_int_equal(sc_uuid_parse_tail(VMP, strlen(VMP), uuid), 0);
	assert_int_equal(uuid[0], 0x6f);
	assert_int_equal(uuid[15], 0xff);
	/* len bounds the string: the tail is what ends s[0..len). */
	assert_int_equal(sc_uuid_parse_tail(VMP "x", strlen(VMP), uuid), 0);
	assert_int_equal(sc_uuid_parse_tail(VMP "x", strlen(VMP) + 1, uuid),
	    SC_ERR_FORMAT);
	assert_int_equal(sc_uuid_parse_tail(VMP, 35, uuid), SC_ERR_FORMAT);
	assert_int_equal(sc_uuid_parse_tail("/vm/6f9619ff-8b86-d011-b42d_00c04fc964ff",
	    40, uuid), SC_ERR_FORMAT);
#undef VMP

	assert_int_equal(sc_base64_encode(key32, 3, b64, sizeof(b64)), 0);
	assert_string_equal(b64, "AAEC");
	assert_int_equal(sc_base64_encode(key32, 32, b64, 10), SC_ERR_NOSPACE);
	assert_int_equal(sc_base64_decode("AAEC", out, 3), 0);
	assert_int_equal(sc_base64_decode("AAEC", out, 2), SC_ERR_FORMAT);
	assert_int_equal(sc_base64_decode("AAE=", out, 2), 0);
	assert_int_equal(sc_base64_decode("AAE", out, 2), SC_ERR_FORMAT);
	assert_int_equal(sc_base64_decode("AAEC ", out, 3), SC_ERR_FORMAT);
}

/* ---- VM files --------------------------------------------------------- */

static struct sc_vmfile *
make_vm(void)
{
	struct sc_vmfile *vm = sc_secure_alloc(sizeof(*vm));

	assert_non_null(vm);
	memset(vm, 0, sizeof(*vm));
	assert_int_equal(sc_uuid_parse("6f9619ff-8b86-d011-b42d-00c04fc964ff", vm->uuid), 0);
	randombytes_buf(vm->secret, sizeof(vm->secret));
	memcpy(vm->disk_key, "luks passphrase", 15);
	vm->disk_key_len = 15;
	snprintf(vm->name, sizeof(vm->name), "web-01");
	return vm;
}

static void
test_vmfile(void **state)
{
	struct sc_vmfile *vm = make_vm(), *rd = NULL, dec;
	uint8_t buf[600];
	size_t len = 0;
	char path[512];

	(void)state;
	assert_int_equal(sc_vmfile_encode(vm, buf, sizeof(buf), &len), 0);
	assert_int_equal(len, 16 + 32 + 1 + 15 + 1 + 6);
	assert_memory_equal(buf, vm->uuid, 16);
	assert_memory_equal(buf + 16, vm->secret, 32);
	assert_int_equal(buf[48], 15);
	assert_int_equal(sc_vmfile_decode(buf, len, &dec), 0);
	assert_memory_equal(dec.secret, vm->secret, 32);
	assert_int_equal(dec.disk_key_len, 15);
	assert_string_equal(dec.name, "web-01");
	/* Strict: trailing byte, truncation, bad name. */
	assert_int_equal(sc_vmfile_decode(buf, len + 1, &dec), SC_ERR_FORMAT);
	for (size_t i = 0; i < len; i++)
		assert_int_equal(sc_vmfile_decode(buf, i, &dec), SC_ERR_FORMAT);
	assert_int_equal(sc_vmfile_encode(vm, buf, 20, &len), SC_ERR_NOSPACE);
	vm->disk_key_len = SC_DISK_KEY_MAX + 1;
	assert_int_equal(sc_vmfile_encode(vm, buf, sizeof(buf), &len), SC_ERR_INVAL);
	/* A disk key length byte over the limit does not decode. */
	vm->disk_key_len = 15;
	assert_int_equal(sc_vmfile_encode(vm, buf, sizeof(buf), &len), 0);
	buf[48] = SC_DISK_KEY_MAX + 1;
	assert_int_equal(sc_vmfile_decode(buf, len, &dec), SC_ERR_FORMAT);
	/* A user's VM file: no disk key (sessions only, cannot bind). */
	vm->disk_key_len = 0;
	assert_int_equal(sc_vmfile_encode(vm, buf, sizeof(buf), &len), 0);
	assert_int_equal(len, 16 + 32 + 1 + 1 + 6);
	assert_int_equal(buf[48], 0);
	memset(&dec, 0xa5, sizeof(dec));
	assert_int_equal(sc_vmfile_decode(buf, len, &dec), 0);
	assert_int_equal(dec.disk_key_len, 0);
	assert_memory_equal(dec.secret, vm->secret, 32);
	assert_string_equal(dec.name, "web-01");
	for (size_t i = 0; i < len; i++)
		assert_int_equal(sc_vmfile_decode(buf, i, &dec), SC_ERR_FORMAT);
	path_in(path, sizeof(path), "vm-user");
	assert_int_equal(sc_vmfile_write(path, vm, NULL, "web-01 user"), 0);
	assert_int_equal(sc_vmfile_read(path, NULL, &rd), 0);
	assert_non_null(rd);
	assert_int_equal(rd->disk_key_len, 0);
	assert_memory_equal(rd->secret, vm->secret, 32);
	sc_secure_free(rd);
	rd = NULL;
	unlink(path);
	vm->disk_key_len = 15;
	vm->name[2] = '\x07';
	assert_int_equal(sc_vmfile_encode(vm, buf, sizeof(buf), &len), SC_ERR_INVAL);
	vm->name[2] = 'b';

	path_in(path, sizeof(path), "vm");
	assert_int_equal(sc_vmfile_write(path, vm, "pw", "web-01 owner"), 0);
	assert_int_equal(file_mode(path), 0600);
	assert_int_equal(sc_vmfile_read(path, "bad", &rd), SC_ERR_PASSPHRASE);
	assert_null(rd);
	assert_int_equal(sc_vmfile_read(path, "pw", &rd), 0);
	assert_non_null(rd);
	assert_memory_equal(rd->uuid, vm->uuid, 16);
	assert_memory_equal(rd->secret, vm->secret, 32);
	assert_memory_equal(rd->disk_key, vm->disk_key, 15);
	assert_string_equal(rd->name, "web-01");
	sc_secure_free(rd);
	/* A user key file is not a VM file. */
	assert_int_equal(sc_keyfile_write(path, SC_KEY_KIND_USER, key32, 32, NULL, NULL), 0);
	assert_int_equal(sc_vmfile_read(path, NULL, &rd), SC_ERR_TYPE);
	unlink(path);
	sc_secure_free(vm);
}

/* ---- known_hvs -------------------------------------------------------- */

static void
test_known_hvs(void **state)
{
	char path[512], fp[SC_FINGERPRINT_LEN], line[256];
	uint8_t k1[32], k2[32];
	unsigned char *data;
	size_t len;

	(void)state;
	randombytes_buf(k1, sizeof(k1));
	randombytes_buf(k2, sizeof(k2));
	path_in(path, sizeof(path), "known_hvs");
	assert_int_equal(sc_known_hvs_check(path, "dom0.example", "web", k1), SC_ERR_NOTFOUND);
	assert_int_equal(sc_known_hvs_add(path, "dom0.example", "web", k1), 0);
	assert_int_equal(file_mode(path), 0600);
	assert_int_equal(sc_known_hvs_check(path, "dom0.example", "web", k1), 0);
	assert_int_equal(sc_known_hvs_check(path, "DOM0.Example", "web", k1), 0);
	assert_int_equal(sc_known_hvs_check(path, "dom0.example", "web", k2), SC_ERR_MISMATCH);
	assert_int_equal(sc_known_hvs_check(path, "dom0.example", "db", k1), SC_ERR_NOTFOUND);
	assert_int_equal(sc_known_hvs_check(path, "other", "web", k1), SC_ERR_NOTFOUND);
	/* The file holds exactly the documented line. */
	sc_fingerprint(k1, 32, fp);
	snprintf(line, sizeof(line), "dom0.example web %s\n", fp);
	assert_int_equal(sc_read_file(path, 4096, &data, &len), 0);
	assert_string_equal((char *)data, line);
	free(data);
	/* Wildcard entry covers every VM of the host. */
	assert_int_equal(sc_known_hvs_add(path, "dom0.example", "*", k2), 0);
	assert_int_equal(sc_known_hvs_check(path, "dom0.example", "db", k2), 0);
	assert_int_equal(sc_known_hvs_check(path, "dom0.example", "db", k1), SC_ERR_MISMATCH);
	/* web has its own entry (k1) and the wildcard (k2): either matches. */
	assert_int_equal(sc_known_hvs_check(path, "dom0.example", "web", k1), 0);
	assert_int_equal(sc_known_hvs_check(path, "dom0.example", "web", k2), 0);
	/* Replacing web's entry keeps the others. */
	assert_int_equal(sc_known_hvs_add(path, "dom0.example", "web", k2), 0);
	assert_int_equal(sc_known_hvs_check(path, "dom0.example", "web", k1), SC_ERR_MISMATCH);
	assert_int_equal(sc_known_hvs_check(path, "dom0.example", "zzz", k2), 0);
	assert_int_equal(sc_read_file(path, 4096, &data, &len), 0);
	assert_int_equal(strchr(strchr((char *)data, '\n') + 1, '\n') -
	    (char *)data + 1, (long)len);	/* exactly two lines */
	free(data);
	/* Bad arguments. */
	assert_int_equal(sc_known_hvs_add(path, "has space", "web", k1), SC_ERR_INVAL);
	assert_int_equal(sc_known_hvs_check(path, "", "web", k1), SC_ERR_INVAL);
	/* Comments and blank lines survive; malformed lines fail closed. */
	{
		const char *txt = "# pins\n\nh1 vm1 SC256:iesNaoppHa4s0V7QNpkxzgqUnsr6XD+T+BIYM2RuFcM\n";
		uint8_t zero[32] = { 0 };

		assert_int_equal(sc_write_file_atomic(path, txt, strlen(txt), 0600), 0);
		assert_int_equal(sc_known_hvs_check(path, "h1", "vm1", zero), 0);
		assert_int_equal(sc_known_hvs_add(path, "h2", "vm1", zero), 0);
		assert_int_equal(sc_read_file(path, 4096, &data, &len), 0);
		assert_memory_equal(data, txt, strlen(txt));
		free(data);
		txt = "h1 vm1 SC256:iesNaoppHa4s0V7QNpkxzgqUnsr6XD+T+BIYM2RuFc\n";
		assert_int_equal(sc_write_file_atomic(path, txt, strlen(txt), 0600), 0);
		assert_int_equal(sc_known_hvs_check(path, "h1", "vm1", zero), SC_ERR_FORMAT);
		assert_int_equal(sc_known_hvs_add(path, "h1", "vm1", zero), SC_ERR_FORMAT);
		txt = "h1 vm1 SC256:iesNaoppHa4s0V7QNpkxzgqUnsr6XD+T+BIYM2RuFcM extra\n";
		assert_int_equal(sc_write_file_atomic(path, txt, strlen(txt), 0600), 0);
		assert_int_equal(sc_known_hvs_check(path, "h1", "vm1", zero), SC_ERR_FORMAT);
		txt = "h1 vm1\n";
		assert_int_equal(sc_write_file_atomic(path, txt, strlen(txt), 0600), 0);
		assert_int_equal(sc_known_hvs_check(path, "h1", "vm1", zero), SC_ERR_FORMAT);
	}
	unlink(path);
}

static int
setup(void **state)
{
	const char *t = getenv("TMPDIR");

	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "%s/sccrypt-test_keys.XXXXXX",
	    t != NULL && t[0] == '/' ? t : "/tmp");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	return 0;
}

static int
teardown(void **state)
{
	char cmd[512];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_unencrypted),
		cmocka_unit_test(test_roundtrip_encrypted),
		cmocka_unit_test(test_fresh_salt),
		cmocka_unit_test(test_bad_arguments),
		cmocka_unit_test(test_corrupt_unencrypted_every_byte),
		cmocka_unit_test(test_corrupt_encrypted_every_byte),
		cmocka_unit_test(test_corrupt_file),
		cmocka_unit_test(test_truncated_text),
		cmocka_unit_test(test_truncated_blob),
		cmocka_unit_test(test_armor_variants),
		cmocka_unit_test(test_wrong_kind),
		cmocka_unit_test(test_permissions),
		cmocka_unit_test(test_keystore_dir),
		cmocka_unit_test(test_pubkey_roundtrip),
		cmocka_unit_test(test_pubkey_malformed),
		cmocka_unit_test(test_fingerprint),
		cmocka_unit_test(test_hex_uuid_base64),
		cmocka_unit_test(test_vmfile),
		cmocka_unit_test(test_known_hvs),
	};

	if (sc_lib_init() != 0)
		return 1;
	sc_keyfile_test_kdf(crypto_pwhash_argon2id_OPSLIMIT_MIN,
	    crypto_pwhash_argon2id_MEMLIMIT_MIN / 1024);
	umask(022);
	return cmocka_run_group_tests_name("keys", tests, setup, teardown);
}
