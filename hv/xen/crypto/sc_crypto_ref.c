/*
 * sc_crypto_ref.c — struct sc_crypto over libsodium's reference code, and
 * the hypervisor's random generator (contracts in sc_crypto_ref.h and
 * core/crypto.h).
 *
 * Built freestanding with the libsodium headers on the include path
 * (hv/xen/crypto/shim stands in for the few libc headers they name).  The
 * same object goes into the hypervisor and into the user-space
 * differential test (tests/xen-lab/crypto-diff.c).
 */
#include "core/compat.h"
#include "core/err.h"
#include "core/crypto.h"

#include "crypto_aead_chacha20poly1305.h"
#include "crypto_generichash_blake2b.h"
#include "crypto_scalarmult_curve25519.h"
#include "crypto_sign_ed25519.h"
#include "crypto_stream_chacha20.h"
#include "utils.h"

#include "sc_crypto_ref.h"

_Static_assert(sizeof(struct sc_hash_state) >= sizeof(crypto_generichash_blake2b_state),
    "sc_hash_state too small for libsodium's BLAKE2b state");
_Static_assert(crypto_aead_chacha20poly1305_ietf_ABYTES == SC_AEAD_TAGLEN &&
    crypto_aead_chacha20poly1305_ietf_NPUBBYTES == SC_AEAD_NONCELEN &&
    crypto_aead_chacha20poly1305_ietf_KEYBYTES == SC_AEAD_KEYLEN,
    "AEAD sizes");
_Static_assert(crypto_scalarmult_curve25519_BYTES == SC_X25519_LEN, "X25519 size");
_Static_assert(crypto_sign_ed25519_BYTES == SC_ED25519_SIGLEN &&
    crypto_sign_ed25519_PUBLICKEYBYTES == SC_ED25519_PUB_LEN, "Ed25519 sizes");

#define RNG_KEYLEN	32	/* state key and per-call stream key */
#define RNG_HASHLEN	(2 * RNG_KEYLEN)
#define RNG_DOMAIN_SEED	"SCCrypt hv rng seed v1"
#define RNG_DOMAIN_NEXT	"SCCrypt hv rng next v1"

static struct {
	bool		 seeded;
	sc_ref_entropy_fn fn;
	void		*arg;
	uint64_t	 calls;
	uint8_t		 key[RNG_KEYLEN];
} rng;

static void SC_CF_CHECK
ref_memzero(void *p, size_t len)
{
	sodium_memzero(p, len);
}

static int SC_CF_CHECK
ref_memcmp_ct(const void *a, const void *b, size_t len)
{
	const volatile uint8_t *x = a, *y = b;
	volatile uint8_t d = 0;
	size_t i;

	for (i = 0; i < len; i++)
		d |= x[i] ^ y[i];
	/* 0 when equal, -1 otherwise, without a data-dependent branch. */
	return (int)(1 & (((unsigned)d - 1) >> 8)) - 1;
}

static int SC_CF_CHECK
ref_x25519(uint8_t out[SC_X25519_LEN], const uint8_t sk[SC_X25519_LEN],
    const uint8_t pk[SC_X25519_LEN])
{
	/*
	 * ref10 refuses the listed low-order points; libsodium's wrapper
	 * (compiled here) also refuses an all-zero result.
	 */
	if (crypto_scalarmult_curve25519(out, sk, pk) != 0)
		return SC_ERR_BADKEY;
	return 0;
}

static int SC_CF_CHECK
ref_x25519_base(uint8_t pk[SC_X25519_LEN], const uint8_t sk[SC_X25519_LEN])
{
	if (crypto_scalarmult_curve25519_base(pk, sk) != 0)
		return SC_ERR_BADKEY;
	return 0;
}

static int SC_CF_CHECK
ref_aead_encrypt(uint8_t *c, const uint8_t *m, size_t mlen, const uint8_t *ad,
    size_t adlen, const uint8_t nonce[SC_AEAD_NONCELEN],
    const uint8_t key[SC_AEAD_KEYLEN])
{
	unsigned long long clen;

	if (mlen > crypto_aead_chacha20poly1305_ietf_MESSAGEBYTES_MAX)
		return SC_ERR_TOOLONG;
	if (crypto_aead_chacha20poly1305_ietf_encrypt(c, &clen, m, mlen, ad,
	    adlen, (const unsigned char *)0, nonce, key) != 0)
		return SC_ERR_INTERNAL;
	return 0;
}

static int SC_CF_CHECK
ref_aead_decrypt(uint8_t *m, const uint8_t *c, size_t clen, const uint8_t *ad,
    size_t adlen, const uint8_t nonce[SC_AEAD_NONCELEN],
    const uint8_t key[SC_AEAD_KEYLEN])
{
	unsigned long long mlen;

	if (clen < SC_AEAD_TAGLEN)
		return SC_ERR_DECRYPT;
	if (crypto_aead_chacha20poly1305_ietf_decrypt(m, &mlen,
	    (unsigned char *)0, c, clen, ad, adlen, nonce, key) != 0)
		return SC_ERR_DECRYPT;
	return 0;
}

static int SC_CF_CHECK
ref_hash_init(struct sc_hash_state *st, const uint8_t *key, size_t keylen,
    size_t outlen)
{
	/*
	 * core/crypto.h: outlen 1..64 (BLAKE2b's own range; libsodium's
	 * BYTES_MIN of 16 is a recommendation, not a limit of the function).
	 */
	if (outlen < 1 || outlen > crypto_generichash_blake2b_BYTES_MAX ||
	    keylen > crypto_generichash_blake2b_KEYBYTES_MAX)
		return SC_ERR_INVAL;
	if (crypto_generichash_blake2b_init((crypto_generichash_blake2b_state *)st,
	    keylen ? key : (const uint8_t *)0, keylen, outlen) != 0)
		return SC_ERR_INTERNAL;
	return 0;
}

static int SC_CF_CHECK
ref_hash_update(struct sc_hash_state *st, const uint8_t *in, size_t len)
{
	if (crypto_generichash_blake2b_update((crypto_generichash_blake2b_state *)st,
	    in, len) != 0)
		return SC_ERR_INTERNAL;
	return 0;
}

static int SC_CF_CHECK
ref_hash_final(struct sc_hash_state *st, uint8_t *out, size_t outlen)
{
	if (crypto_generichash_blake2b_final((crypto_generichash_blake2b_state *)st,
	    out, outlen) != 0)
		return SC_ERR_INTERNAL;
	return 0;
}

static int SC_CF_CHECK
ref_ed25519_verify(const uint8_t sig[SC_ED25519_SIGLEN], const uint8_t *m,
    size_t mlen, const uint8_t pk[SC_ED25519_PUB_LEN])
{
	/* ref10 (open.c): canonical S, R and pk, no small-order R or pk. */
	if (crypto_sign_ed25519_verify_detached(sig, m, mlen, pk) != 0)
		return SC_ERR_SIGNATURE;
	return 0;
}

/*
 * h = BLAKE2b-512(key = rng.key (if seeded), domain || counter || data ||
 * fresh entropy).  Returns the number of fresh entropy bytes mixed in.
 */
static size_t
rng_mix(uint8_t h[RNG_HASHLEN], const char *domain, size_t domain_len,
    const void *data, size_t data_len, size_t ask)
{
	crypto_generichash_blake2b_state st;
	uint8_t fresh[SC_REF_SEED_ASK], ctr[8];
	size_t got = 0, i;

	if (ask > sizeof(fresh))
		ask = sizeof(fresh);
	if (rng.fn != (sc_ref_entropy_fn)0 && ask > 0) {
		got = rng.fn(rng.arg, fresh, ask);
		if (got > ask)
			got = ask;
	}
	for (i = 0; i < sizeof(ctr); i++)
		ctr[i] = (uint8_t)(rng.calls >> (8 * i));
	if (crypto_generichash_blake2b_init(&st, rng.seeded ? rng.key : (const uint8_t *)0,
	    rng.seeded ? sizeof(rng.key) : 0, RNG_HASHLEN) != 0)
		sc_ref_fatal("rng: BLAKE2b init");
	(void)crypto_generichash_blake2b_update(&st, (const uint8_t *)domain, domain_len);
	(void)crypto_generichash_blake2b_update(&st, ctr, sizeof(ctr));
	if (data_len > 0)
		(void)crypto_generichash_blake2b_update(&st, data, data_len);
	if (got > 0)
		(void)crypto_generichash_blake2b_update(&st, fresh, got);
	(void)crypto_generichash_blake2b_final(&st, h, RNG_HASHLEN);
	rng.calls++;
	sodium_memzero(&st, sizeof(st));
	sodium_memzero(fresh, sizeof(fresh));
	return got;
}

int
sc_ref_rng_init(sc_ref_entropy_fn fn, void *arg, const void *extra, size_t extra_len)
{
	uint8_t h[RNG_HASHLEN];
	size_t got;

	if (fn == (sc_ref_entropy_fn)0)
		return SC_ERR_INVAL;
	sodium_memzero(&rng, sizeof(rng));
	rng.fn = fn;
	rng.arg = arg;
	got = rng_mix(h, RNG_DOMAIN_SEED, sizeof(RNG_DOMAIN_SEED) - 1, extra,
	    extra_len, SC_REF_SEED_ASK);
	if (got < SC_REF_SEED_MIN) {
		sodium_memzero(h, sizeof(h));
		sodium_memzero(&rng, sizeof(rng));
		return SC_ERR_UNSUPPORTED;
	}
	sc_memcpy(rng.key, h, RNG_KEYLEN);
	rng.seeded = true;
	sodium_memzero(h, sizeof(h));
	return 0;
}

bool
sc_ref_rng_seeded(void)
{
	return rng.seeded;
}

static void SC_CF_CHECK
ref_random(void *buf, size_t len)
{
	static const uint8_t zero_nonce[crypto_stream_chacha20_ietf_NONCEBYTES];
	uint8_t h[RNG_HASHLEN];

	if (!rng.seeded)
		sc_ref_fatal("random bytes requested before the generator was seeded");
	(void)rng_mix(h, RNG_DOMAIN_NEXT, sizeof(RNG_DOMAIN_NEXT) - 1,
	    (const void *)0, 0, SC_REF_RESEED_ASK);
	/* The state moves on first: h[0..32) is never used as output. */
	sc_memcpy(rng.key, h, RNG_KEYLEN);
	if (len > 0)
		(void)crypto_stream_chacha20_ietf(buf, len, zero_nonce, h + RNG_KEYLEN);
	sodium_memzero(h, sizeof(h));
}

static const struct sc_crypto ref_provider = {
	.name = "libsodium-1.0.18-ref",
	.x25519 = ref_x25519,
	.x25519_base = ref_x25519_base,
	.aead_encrypt = ref_aead_encrypt,
	.aead_decrypt = ref_aead_decrypt,
	.hash_init = ref_hash_init,
	.hash_update = ref_hash_update,
	.hash_final = ref_hash_final,
	.ed25519_verify = ref_ed25519_verify,
	.random = ref_random,
	.memzero = ref_memzero,
	.memcmp_ct = ref_memcmp_ct,
};

const struct sc_crypto *
sc_crypto_ref(void)
{
	return &ref_provider;
}
