/*
 * crypto.h — the crypto-provider interface of the protocol core.
 *
 * The protocol core and the hypervisor core reach every primitive through
 * one struct sc_crypto.  User space uses sc_crypto_sodium() (libsodium);
 * inside Xen the same table is filled with the hypervisor's build of the
 * reference implementations.  Nothing in lib/core or hv/core calls a crypto
 * library directly.
 *
 * Contracts:
 *   x25519       raw X25519 (RFC 7748); returns SC_ERR_BADKEY for low-order
 *                points / an all-zero result, and then out is unspecified.
 *   x25519_base  public key from a 32-byte private key (clamped internally).
 *   aead_*       IETF ChaCha20-Poly1305 (RFC 8439), 12-byte nonce, 16-byte tag
 *                appended.  decrypt returns SC_ERR_DECRYPT on a bad tag and
 *                writes no plaintext then.  In-place operation (c == m) allowed.
 *   hash_*       BLAKE2b with outlen 1..64, optional key 0..64 bytes.
 *   ed25519_verify  pure Ed25519 (RFC 8032) detached-signature check of
 *                m[0..mlen) under pk: 0 if it verifies, SC_ERR_SIGNATURE
 *                otherwise (non-canonical S, small-order or non-canonical
 *                pk or R included: libsodium's verify rules).
 *   random       cryptographically secure random bytes; cannot fail.
 *   memzero      wipes memory so the compiler cannot elide it.
 *   memcmp_ct    constant-time comparison: 0 when equal, -1 otherwise.
 */
#ifndef SC_CORE_CRYPTO_H
#define SC_CORE_CRYPTO_H

#include "core/compat.h"

#define SC_X25519_LEN		32
#define SC_AEAD_KEYLEN		32
#define SC_AEAD_NONCELEN	12
#define SC_AEAD_TAGLEN		16
#define SC_HASHLEN		64	/* BLAKE2b-512, Noise HASHLEN */
#define SC_HASH_BLOCKLEN	128
#define SC_HASH_STATE_SIZE	384
#define SC_ED25519_PUB_LEN	32
#define SC_ED25519_SIGLEN	64

struct sc_hash_state {
	SC_ALIGNED(64) uint8_t opaque[SC_HASH_STATE_SIZE];
};

struct sc_crypto {
	const char *name;
	int	(*x25519)(uint8_t out[SC_X25519_LEN], const uint8_t sk[SC_X25519_LEN],
		    const uint8_t pk[SC_X25519_LEN]);
	int	(*x25519_base)(uint8_t pk[SC_X25519_LEN], const uint8_t sk[SC_X25519_LEN]);
	int	(*aead_encrypt)(uint8_t *c, const uint8_t *m, size_t mlen,
		    const uint8_t *ad, size_t adlen,
		    const uint8_t nonce[SC_AEAD_NONCELEN], const uint8_t key[SC_AEAD_KEYLEN]);
	int	(*aead_decrypt)(uint8_t *m, const uint8_t *c, size_t clen,
		    const uint8_t *ad, size_t adlen,
		    const uint8_t nonce[SC_AEAD_NONCELEN], const uint8_t key[SC_AEAD_KEYLEN]);
	int	(*hash_init)(struct sc_hash_state *st, const uint8_t *key, size_t keylen,
		    size_t outlen);
	int	(*hash_update)(struct sc_hash_state *st, const uint8_t *in, size_t len);
	int	(*hash_final)(struct sc_hash_state *st, uint8_t *out, size_t outlen);
	int	(*ed25519_verify)(const uint8_t sig[SC_ED25519_SIGLEN],
		    const uint8_t *m, size_t mlen, const uint8_t pk[SC_ED25519_PUB_LEN]);
	void	(*random)(void *buf, size_t len);
	void	(*memzero)(void *p, size_t len);
	int	(*memcmp_ct)(const void *a, const void *b, size_t len);
};

/* One-shot BLAKE2b through the provider. */
int	sc_hash(const struct sc_crypto *cp, uint8_t *out, size_t outlen,
	    const uint8_t *in, size_t inlen, const uint8_t *key, size_t keylen) SC_WUR;

/*
 * Generate an X25519 key pair with the provider's random source.
 */
int	sc_x25519_keypair(const struct sc_crypto *cp, uint8_t pk[SC_X25519_LEN],
	    uint8_t sk[SC_X25519_LEN]) SC_WUR;

/* The libsodium provider (user space only: lib/crypto_sodium.c). */
const struct sc_crypto *sc_crypto_sodium(void);

#endif /* SC_CORE_CRYPTO_H */
