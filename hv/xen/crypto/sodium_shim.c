/*
 * sodium_shim.c — the five libsodium utility functions that the compiled
 * reference files call, for a build without libsodium's sodium/utils.c
 * (which needs libc, mlock and friends):
 *
 *   sodium_memcmp    constant-time comparison, 0 if equal, -1 otherwise
 *                    (Ed25519 verify's R check);
 *   sodium_memzero   wipe that the compiler cannot elide (volatile stores
 *                    plus a compiler barrier, libsodium's own fallback);
 *   sodium_is_zero   constant-time all-zero test (same contract as libsodium);
 *   sodium_misuse    an API misuse (e.g. a message over the AEAD limit):
 *                    fatal, like libsodium's default handler;
 *   randombytes_buf  the provider's generator (used by libsodium's keygen
 *                    helpers; SCCrypt itself calls the provider's random).
 */
#include "core/compat.h"

#include "core.h"
#include "randombytes.h"
#include "utils.h"

#include "sc_crypto_ref.h"

void
sodium_memzero(void * const pnt, const size_t len)
{
	volatile unsigned char *volatile p = (volatile unsigned char *volatile)pnt;
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = 0;
	__asm__ __volatile__("" : : "r"(pnt) : "memory");
}

int
sodium_memcmp(const void * const b1_, const void * const b2_, size_t len)
{
	const volatile unsigned char *volatile b1 =
	    (const volatile unsigned char *volatile)b1_;
	const volatile unsigned char *volatile b2 =
	    (const volatile unsigned char *volatile)b2_;
	volatile unsigned char d = 0;
	size_t i;

	for (i = 0; i < len; i++)
		d |= b1[i] ^ b2[i];
	return (1 & ((d - 1) >> 8)) - 1;
}

int
sodium_is_zero(const unsigned char *n, const size_t nlen)
{
	volatile unsigned char d = 0;
	size_t i;

	for (i = 0; i < nlen; i++)
		d |= n[i];
	return 1 & ((d - 1) >> 8);
}

void
sodium_misuse(void)
{
	sc_ref_fatal("libsodium API misuse");
}

void
randombytes_buf(void * const buf, const size_t size)
{
	sc_crypto_ref()->random(buf, size);
}
