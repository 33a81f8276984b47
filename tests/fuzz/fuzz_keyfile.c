/*
 * fuzz_keyfile.c — libFuzzer harness for everything read from the keystore:
 * armored secret key files (with and without passphrase), VM file payloads,
 * public key lines and files, known_hvs files, UUIDs.
 *
 * Encrypted inputs are decrypted with the passphrase "fuzz" (the corpus in
 * tests/fuzz/corpus/fuzz_keyfile is written with it at the minimum Argon2id
 * cost), but only when the header asks for small Argon2id limits, so that
 * one input cannot take seconds.  The harness links a test build of
 * lib/keyfile.c (-DSC_KEYS_TEST_KDF) that accepts and writes that cost; the
 * library itself refuses it (test_keys_cost).  Invariants: info and parse agree on the
 * header; a parsed secret re-serializes and parses back to the same bytes.
 */
#include "config.h"

#include <sys/mman.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <sodium.h>

#include "core/err.h"
#include "encode.h"
#include "keyfile.h"
#include "vmfile.h"
#include "pubkey.h"
#include "known_hvs.h"
#include "secmem.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int	LLVMFuzzerInitialize(int *argc, char ***argv);

#define PASS		"fuzz"
#define SMALL_KIB	64	/* largest KDF memory we run per input */

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (sc_lib_init() != 0)
		abort();
	sc_keyfile_test_kdf(crypto_pwhash_argon2id_OPSLIMIT_MIN,
	    crypto_pwhash_argon2id_MEMLIMIT_MIN / 1024);
	return 0;
}

static void
roundtrip(int kind, const uint8_t *secret, size_t len, const char *pass)
{
	uint8_t *text = NULL, *back = NULL;
	size_t tlen = 0, blen = 0;

	if (sc_keyfile_serialize(kind, secret, len, pass, "fuzz", &text, &tlen) != 0)
		abort();
	if (sc_keyfile_parse(text, tlen, kind, pass, &back, &blen) != 0 ||
	    blen != len || memcmp(back, secret, len) != 0)
		abort();
	sc_secure_free(back);
	sc_secure_free(text);
}

static void
try_kind(const uint8_t *data, size_t size, int kind, const struct sc_keyfile_info *info,
    int info_ok)
{
	struct sc_vmfile vm;
	uint8_t *secret = NULL;
	size_t len = 0;
	const char *pass = NULL;
	int r;

	if (info_ok && info->kdf == SC_KEYFILE_KDF_ARGON2ID) {
		if (info->memlimit_kib > SMALL_KIB || info->opslimit > 3)
			return;
		pass = PASS;
	}
	r = sc_keyfile_parse(data, size, kind, pass, &secret, &len);
	if (r == 0) {
		if (!info_ok || info->kind != kind || secret == NULL)
			abort();
		roundtrip(kind, secret, len, pass);
		if (kind == SC_KEY_KIND_VM && sc_vmfile_decode(secret, len, &vm) == 0) {
			uint8_t enc[1024];
			size_t elen = 0;

			if (sc_vmfile_encode(&vm, enc, sizeof(enc), &elen) != 0 ||
			    elen != len || memcmp(enc, secret, len) != 0)
				abort();
			sc_memzero(enc, sizeof(enc));
		}
		sc_memzero(&vm, sizeof(vm));
		sc_secure_free(secret);
	} else if (secret != NULL)
		abort();
}

/*
 * The file readers (known_hvs, public key files) on an in-memory file:
 * a memfd reached through /proc/self/fd.  Invariant: a known_hvs check
 * succeeds only if the key's fingerprint is in the file.
 */
static void
known_hvs_and_pubfile(const uint8_t *data, size_t size, const char *text)
{
	static const uint8_t zero[32];
	char path[64], fp[SC_FINGERPRINT_LEN];
	uint8_t pk[32];
	int fd;

	if ((fd = memfd_create("fuzz", MFD_CLOEXEC)) == -1)
		return;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	sc_fingerprint(zero, sizeof(zero), fp);
	if (sc_known_hvs_check(path, "h1", "vm1", zero) == 0 &&
	    (memchr(data, '\0', size) != NULL || strstr(text, fp) == NULL))
		abort();
	(void)sc_known_hvs_check(path, "dom0.example.net", "web", zero);
	(void)sc_pubkey_read_file(SC_PUBKEY_PREFIX, path, pk);
	close(fd);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sc_keyfile_info info;
	struct sc_vmfile vm;
	uint8_t pk[32], uuid[16];
	char *line;
	int info_ok;

	info_ok = sc_keyfile_info(data, size, &info) == 0;
	try_kind(data, size, SC_KEY_KIND_USER, &info, info_ok);
	try_kind(data, size, SC_KEY_KIND_VM, &info, info_ok);
	try_kind(data, size, SC_KEY_KIND_SIGNING, &info, info_ok);

	/* The same bytes as a raw VM payload, a public key line, a UUID. */
	(void)sc_vmfile_decode(data, size, &vm);
	if ((line = malloc(size + 1)) == NULL)
		return 0;
	memcpy(line, data, size);
	line[size] = '\0';
	if (sc_pubkey_parse(SC_PUBKEY_PREFIX, line, pk) == 0) {
		char out[512];

		if (sc_pubkey_format(SC_PUBKEY_PREFIX, pk, NULL, out, sizeof(out)) != 0)
			abort();
	}
	(void)sc_pubkey_parse(SC_KSKEY_PREFIX, line, pk);
	known_hvs_and_pubfile(data, size, line);
	if (sc_uuid_parse(line, uuid) == 0) {
		char u[37];

		sc_uuid_format(uuid, u);
		if (strcasecmp(u, line) != 0)
			abort();
	}
	free(line);
	return 0;
}
