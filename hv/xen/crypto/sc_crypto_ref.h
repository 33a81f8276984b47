/*
 * sc_crypto_ref.h — the crypto provider used inside the hypervisor.
 *
 * struct sc_crypto (core/crypto.h) implemented with libsodium's portable
 * reference code, compiled from Debian's libsodium 1.0.18 source package at
 * build time (hv/xen/crypto/sodium-files; nothing of libsodium is kept in
 * this tree): X25519 ref10, ChaCha20 ref + Poly1305 donna (the IETF AEAD
 * construction of crypto_aead/chacha20poly1305/sodium), BLAKE2b ref.  No CPU
 * specific code: the files are built without any HAVE_*INTRIN_H, so
 * libsodium's runtime dispatchers keep their reference implementations.
 *
 * Randomness: a forward-secure generator keyed from a platform entropy
 * source.  sc_ref_rng_init() must succeed before the provider's random() is
 * used (random() cannot fail: it calls sc_ref_fatal() when unseeded).  Each
 * random() call mixes fresh platform entropy (when the source returns any)
 * into the state with keyed BLAKE2b-512, replaces the state key (so earlier
 * output cannot be recomputed from a later state), and expands the other
 * half of the hash with ChaCha20.
 *
 * Not thread-safe: the platform serialises every call (inside Xen all calls
 * happen under the SCCrypt lock).
 */
#ifndef SC_XEN_CRYPTO_REF_H
#define SC_XEN_CRYPTO_REF_H

#include "core/compat.h"
#include "core/crypto.h"

/* Minimum entropy the source must deliver when seeding (bytes). */
#define SC_REF_SEED_MIN		32
/* Bytes asked of the source for the seed and at every random() call. */
#define SC_REF_SEED_ASK		64
#define SC_REF_RESEED_ASK	32

/*
 * Entropy source: write up to len bytes of fresh entropy to buf and return
 * how many were written (0 if none is available right now).  Only bytes the
 * platform considers real entropy count towards SC_REF_SEED_MIN.
 */
typedef size_t (*sc_ref_entropy_fn)(void *arg, uint8_t *buf, size_t len);

/*
 * Seed the generator from fn (kept for reseeding at every random() call)
 * and extra[0..extra_len) (platform data that is mixed in but not counted
 * as entropy, e.g. boot-time counters).  SC_ERR_UNSUPPORTED if fn delivered
 * fewer than SC_REF_SEED_MIN bytes: the generator stays unseeded.
 */
int	sc_ref_rng_init(sc_ref_entropy_fn fn, void *arg, const void *extra,
	    size_t extra_len) SC_WUR;
bool	sc_ref_rng_seeded(void);

/* The provider (usable once the generator is seeded). */
const struct sc_crypto *sc_crypto_ref(void);

/*
 * Supplied by the platform: an unrecoverable misuse (libsodium's
 * sodium_misuse(), a failed assert, random() before seeding).  Xen panics;
 * user space aborts.
 */
#ifndef SC_REF_FATAL_DECLARED
#define SC_REF_FATAL_DECLARED
void	sc_ref_fatal(const char *why) __attribute__((__noreturn__));
#endif

#endif /* SC_XEN_CRYPTO_REF_H */
