/*
 * fuzz_blob.c — sealed registration blob opening with a fixed hv key.
 *
 * Input: byte 0 selects the mode.
 *   mode even: the rest is a blob from dom0 (seeds: real blobs sealed to
 *              the fixed key);
 *   mode odd:  the rest is a plaintext that the harness seals to the fixed
 *              key with the documented construction (blob.h), so the fuzzer
 *              reaches the parsing and validation after authentication.
 * An accepted registration must satisfy every documented rule; a rejected
 * one must come back wiped.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "core/err.h"
#include "core/buf.h"
#include "core/crypto.h"
#include "core/blob.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Fixed keys (also used by the seed generator). */
#define FUZZ_HV_SK	0x5a
#define FUZZ_E_SK	0x33

static uint8_t hv_sk[32], hv_pk[32];
static uint8_t blob[SC_BLOB_MAX + 4096];

/* The construction of blob.h with a fixed ephemeral key. */
static size_t
seal_plaintext(const struct sc_crypto *cp, const uint8_t *pt, size_t len)
{
	uint8_t esk[32], epk[32], dh[32], k[32], ad[69], nonce[12] = { 0 };
	struct sc_hash_state st;

	memset(esk, FUZZ_E_SK, sizeof(esk));
	if (cp->x25519_base(epk, esk) != 0 || cp->x25519(dh, esk, hv_pk) != 0)
		abort();
	if (cp->hash_init(&st, dh, 32, 32) != 0 ||
	    cp->hash_update(&st, (const uint8_t *)"SCCrypt blob v1", 15) != 0 ||
	    cp->hash_update(&st, epk, 32) != 0 ||
	    cp->hash_update(&st, hv_pk, 32) != 0 ||
	    cp->hash_final(&st, k, 32) != 0)
		abort();
	memcpy(blob, "SCB1\x02", 5);
	memcpy(blob + 5, epk, 32);
	memcpy(ad, blob, 37);
	memcpy(ad + 37, hv_pk, 32);
	if (cp->aead_encrypt(blob + 37, pt, len, ad, sizeof(ad), nonce, k) != 0)
		abort();
	return 37 + len + 16;
}

static int
all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i] != 0)
			return 0;
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct sc_crypto *cp;
	static struct sc_registration reg;
	const uint8_t *p;
	size_t n;
	unsigned i, owners = 0;

	if (cp == NULL) {
		if (sodium_init() < 0)
			abort();
		cp = sc_crypto_sodium();
		memset(hv_sk, FUZZ_HV_SK, sizeof(hv_sk));
		if (cp->x25519_base(hv_pk, hv_sk) != 0)
			abort();
	}
	if (size < 1)
		return 0;
	p = data + 1;
	n = size - 1;
	if (data[0] & 1) {
		if (n > sizeof(blob) - 37 - 16)
			return 0;
		n = seal_plaintext(cp, p, n);
		p = blob;
	}
	memset(&reg, 0xa5, sizeof(reg));
	if (sc_blob_open(cp, hv_sk, hv_pk, p, n, &reg) != 0) {
		if (!all_zero(&reg, sizeof(reg)))
			abort();
		return 0;
	}
	if (reg.generation == 0 ||
	    reg.disk_key_len < 1 || reg.disk_key_len > SC_DISK_KEY_MAX ||
	    reg.acl_count < 1 || reg.acl_count > SC_ACL_MAX ||
	    (reg.options & ~(uint32_t)SC_REG_OPT_HISTORY) != 0)
		abort();
	for (i = 0; i < reg.acl_count; i++)
		if (reg.acl[i].flags & SC_ACL_F_OWNER)
			owners++;
	if (owners == 0)
		abort();
	cp->memzero(&reg, sizeof(reg));
	return 0;
}
