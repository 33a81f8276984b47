/*
 * sccrypt_rng.h — the entropy source of the provider's generator
 * (hv/xen/crypto) inside Xen.
 *
 * sccrypt_rng_probe() runs once at boot, before the first
 * sccrypt_entropy(); afterwards sccrypt_rng_rd{seed,rand}_ok say which
 * sources are used.  sccrypt_entropy() fills buf with up to len bytes
 * (whole 64-bit words) from RDSEED, else RDRAND, and returns how many came
 * from one of them: 0 when neither exists or passed the health check.
 */
#ifndef SCCRYPT_RNG_H
#define SCCRYPT_RNG_H

extern bool sccrypt_rng_rdseed_ok, sccrypt_rng_rdrand_ok;

void sccrypt_rng_probe(void);
size_t cf_check sccrypt_entropy(void *arg, uint8_t *buf, size_t len);

#endif /* SCCRYPT_RNG_H */
