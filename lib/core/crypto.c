/* crypto.c — small helpers over the crypto provider (freestanding). */
#include "core/compat.h"
#include "core/err.h"
#include "core/crypto.h"

int
sc_hash(const struct sc_crypto *cp, uint8_t *out, size_t outlen,
    const uint8_t *in, size_t inlen, const uint8_t *key, size_t keylen)
{
	struct sc_hash_state st;
	int r;

	if ((r = cp->hash_init(&st, key, keylen, outlen)) != 0 ||
	    (r = cp->hash_update(&st, in, inlen)) != 0 ||
	    (r = cp->hash_final(&st, out, outlen)) != 0)
		goto out;
out:
	cp->memzero(&st, sizeof(st));
	return r;
}

int
sc_x25519_keypair(const struct sc_crypto *cp, uint8_t pk[SC_X25519_LEN],
    uint8_t sk[SC_X25519_LEN])
{
	cp->random(sk, SC_X25519_LEN);
	return cp->x25519_base(pk, sk);
}
