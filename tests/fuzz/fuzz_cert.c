/*
 * fuzz_cert.c — libFuzzer harness for VMM certificate parsing and
 * verification (the certificate arrives from untrusted dom0 in the HELLO).
 *
 * The pinned key server key is derived from a fixed seed; the corpus holds
 * certificates signed with it (tests/fuzz/corpus/fuzz_cert), so mutations
 * reach every check after the signature too.  Invariants: parse and verify
 * agree on the format; a verified certificate lies in its validity window
 * and names the pinned signer; re-signing a parsed certificate and parsing
 * it again gives the same fields.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "cert.h"
#include "core/err.h"
#include "secmem.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int	LLVMFuzzerInitialize(int *argc, char ***argv);

#define NOW	1700000000ULL

static uint8_t ks_pk[32], ks_sk[64];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	uint8_t seed[32];

	(void)argc;
	(void)argv;
	if (sc_lib_init() != 0)
		abort();
	memset(seed, 0x4b, sizeof(seed));	/* 'K': fixed fuzzing key */
	crypto_sign_ed25519_seed_keypair(ks_pk, ks_sk, seed);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sc_cert c, v, again;
	uint8_t out[512];
	size_t outlen = 0;
	int rp, rv;

	rp = sc_cert_parse(data, size, &c);
	rv = sc_cert_verify(data, size, ks_pk, NULL, NULL, NOW, &v);
	if ((rp == 0) != (rv != SC_ERR_FORMAT && rv != SC_ERR_VERSION))
		abort();
	if (rv == 0) {
		if (v.issued > NOW + 300 || NOW >= v.expires ||
		    memcmp(v.signer, ks_pk, 32) != 0 || memcmp(&v, &c, sizeof(c)) != 0)
			abort();
		/* With the expected host and key it verifies again. */
		if (sc_cert_verify(data, size, ks_pk, v.host, v.hv_pubkey, NOW, NULL) != 0)
			abort();
	}
	if (rp == 0) {
		if (strlen(c.host) == 0 || strlen(c.host) > 255 || c.issued >= c.expires)
			abort();
		memcpy(c.signer, ks_pk, 32);
		if (sc_cert_sign(&c, ks_sk, out, sizeof(out), &outlen) != 0)
			abort();
		if (sc_cert_verify(out, outlen, ks_pk, c.host, c.hv_pubkey,
		    c.issued, &again) != 0 || memcmp(&again, &c, sizeof(c)) != 0)
			abort();
	}
	return 0;
}
