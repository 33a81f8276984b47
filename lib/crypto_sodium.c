/*
 * crypto_sodium.c — the libsodium implementation of the crypto provider
 * (user space).  Contracts are in core/crypto.h.
 */
#include <string.h>
#include <sodium.h>

#include "core/err.h"
#include "core/crypto.h"

_Static_assert(sizeof(struct sc_hash_state) >= sizeof(crypto_generichash_blake2b_state),
    "sc_hash_state too small for libsodium's BLAKE2b state");

static int
sodium_x25519(uint8_t out[32], const uint8_t sk[32], const uint8_t pk[32])
{
	/* libsodium rejects low-order points and all-zero results with -1. */
	if (crypto_scalarmult_curve25519(out, sk, pk) != 0)
		return SC_ERR_BADKEY;
	return 0;
}

static int
sodium_x25519_base(uint8_t pk[32], const uint8_t sk[32])
{
	if (crypto_scalarmult_curve25519_base(pk, sk) != 0)
		return SC_ERR_BADKEY;
	return 0;
}

static int
sodium_aead_encrypt(uint8_t *c, const uint8_t *m, size_t mlen, const uint8_t *ad,
    size_t adlen, const uint8_t nonce[12], const uint8_t key[32])
{
	unsigned long long clen;

	if (crypto_aead_chacha20poly1305_ietf_encrypt(c, &clen, m, mlen, ad, adlen,
	    NULL, nonce, key) != 0)
		return SC_ERR_INTERNAL;
	return 0;
}

static int
sodium_aead_decrypt(uint8_t *m, const uint8_t *c, size_t clen, const uint8_t *ad,
    size_t adlen, const uint8_t nonce[12], const uint8_t key[32])
{
	unsigned long long mlen;

	if (clen < crypto_aead_chacha20poly1305_ietf_ABYTES)
		return SC_ERR_DECRYPT;
	if (crypto_aead_chacha20poly1305_ietf_decrypt(m, &mlen, NULL, c, clen, ad,
	    adlen, nonce, key) != 0)
		return SC_ERR_DECRYPT;
	return 0;
}

static int
sodium_hash_init(struct sc_hash_state *st, const uint8_t *key, size_t keylen,
    size_t outlen)
{
	/* core/crypto.h: 1..64, exactly what blake2b_init accepts. */
	if (outlen < 1 || outlen > crypto_generichash_blake2b_BYTES_MAX ||
	    keylen > crypto_generichash_blake2b_KEYBYTES_MAX)
		return SC_ERR_INVAL;
	if (crypto_generichash_blake2b_init((crypto_generichash_blake2b_state *)st,
	    keylen ? key : NULL, keylen, outlen) != 0)
		return SC_ERR_INTERNAL;
	return 0;
}

static int
sodium_hash_update(struct sc_hash_state *st, const uint8_t *in, size_t len)
{
	if (crypto_generichash_blake2b_update((crypto_generichash_blake2b_state *)st,
	    in, len) != 0)
		return SC_ERR_INTERNAL;
	return 0;
}

static int
sodium_hash_final(struct sc_hash_state *st, uint8_t *out, size_t outlen)
{
	if (crypto_generichash_blake2b_final((crypto_generichash_blake2b_state *)st,
	    out, outlen) != 0)
		return SC_ERR_INTERNAL;
	return 0;
}

static int
sodium_ed25519_verify(const uint8_t sig[64], const uint8_t *m, size_t mlen,
    const uint8_t pk[32])
{
	if (crypto_sign_ed25519_verify_detached(sig, m, mlen, pk) != 0)
		return SC_ERR_SIGNATURE;
	return 0;
}

static void
sodium_random(void *buf, size_t len)
{
	randombytes_buf(buf, len);
}

static void
sodium_zero(void *p, size_t len)
{
	sodium_memzero(p, len);
}

static int
sodium_cmp(const void *a, const void *b, size_t len)
{
	return sodium_memcmp(a, b, len) == 0 ? 0 : -1;
}

static const struct sc_crypto sodium_provider = {
	.name = "libsodium",
	.x25519 = sodium_x25519,
	.x25519_base = sodium_x25519_base,
	.aead_encrypt = sodium_aead_encrypt,
	.aead_decrypt = sodium_aead_decrypt,
	.hash_init = sodium_hash_init,
	.hash_update = sodium_hash_update,
	.hash_final = sodium_hash_final,
	.ed25519_verify = sodium_ed25519_verify,
	.random = sodium_random,
	.memzero = sodium_zero,
	.memcmp_ct = sodium_cmp,
};

const struct sc_crypto *
sc_crypto_sodium(void)
{
	return &sodium_provider;
}
