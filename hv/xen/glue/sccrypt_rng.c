/*
 * sccrypt_rng.c — the hardware entropy source of SCCrypt's random generator
 * inside Xen (sccrypt_rng.h): RDSEED and RDRAND, each used only if it passes
 * a startup health check.  Xen side only, like sccrypt.c.
 */
#include <xen/init.h>
#include <xen/lib.h>
#include <xen/sched.h>
#include <asm/cpufeature.h>

#include "sccrypt_rng.h"

#ifdef CONFIG_X86
bool __read_mostly sccrypt_rng_rdrand_ok, sccrypt_rng_rdseed_ok;

static bool rdrand64(uint64_t *v)
{
	unsigned int i;
	bool ok;

	for ( i = 0; i < 10; i++ )
	{
		asm volatile ( "rdrand %0" : "=r" (*v), "=@ccc" (ok) );
		if ( ok )
			return true;
	}
	return false;
}

static bool rdseed64(uint64_t *v)
{
	unsigned int i;
	bool ok;

	for ( i = 0; i < 100; i++ )
	{
		asm volatile ( "rdseed %0" : "=r" (*v), "=@ccc" (ok) );
		if ( ok )
			return true;
		cpu_relax();
	}
	return false;
}

/*
 * Startup health check: a generator that fails, or repeats a value, or
 * returns all-zero / all-one words (the known failure modes of broken
 * RDRAND implementations) is not used.
 */
static bool __init rng_healthy(bool (*fn)(uint64_t *))
{
	uint64_t v[8];
	unsigned int i, j;

	for ( i = 0; i < ARRAY_SIZE(v); i++ )
	{
		if ( !fn(&v[i]) || v[i] == 0 || v[i] == ~0ULL )
			return false;
		for ( j = 0; j < i; j++ )
			if ( v[j] == v[i] )
				return false;
	}
	memset(v, 0, sizeof(v));
	return true;
}

/* Boot: which of the two sources exist and pass the health check. */
void __init sccrypt_rng_probe(void)
{
	sccrypt_rng_rdseed_ok = cpu_has_rdseed && rng_healthy(rdseed64);
	sccrypt_rng_rdrand_ok = cpu_has_rdrand && rng_healthy(rdrand64);
}

/*
 * The entropy source of the provider's generator (hv/xen/crypto): RDSEED
 * words (full entropy, NIST SP 800-90B/C conditioned) where present, then
 * RDRAND words (output of the CPU's DRBG, reseeded by its conditioner).
 * Returns the number of bytes that came from one of the two.
 */
size_t cf_check sccrypt_entropy(void *arg, uint8_t *buf, size_t len)
{
	size_t n = 0;
	uint64_t v;

	while ( n + sizeof(v) <= len )
	{
		if ( !(sccrypt_rng_rdseed_ok && rdseed64(&v)) &&
		     !(sccrypt_rng_rdrand_ok && rdrand64(&v)) )
			break;
		memcpy(buf + n, &v, sizeof(v));
		n += sizeof(v);
	}
	v = 0;
	return n;
}
#else
bool sccrypt_rng_rdrand_ok, sccrypt_rng_rdseed_ok;

void __init sccrypt_rng_probe(void)
{
}

size_t cf_check sccrypt_entropy(void *arg, uint8_t *buf, size_t len)
{
	return 0;
}
#endif
