/*
 * nv-provider.c — lets tests/noise-vectors.c run on the hypervisor's crypto
 * provider: crypto-diff.sh compiles noise-vectors.c unchanged with
 * -Dsc_crypto_sodium=sc_xen_nv_provider, so every X25519, AEAD and BLAKE2b
 * operation of the Noise engine goes through hv/xen/crypto instead of
 * libsodium (libsodium only seeds the provider's generator here).
 */
#include <stdio.h>
#include <stdlib.h>

#include <sodium.h>

#include "core/crypto.h"
#include "sc_crypto_ref.h"

const struct sc_crypto *sc_xen_nv_provider(void);

void
sc_ref_fatal(const char *why)
{
	fprintf(stderr, "noise-vectors (xen provider): fatal: %s\n", why);
	abort();
}

static size_t
src_os(void *arg, uint8_t *buf, size_t len)
{
	(void)arg;
	randombytes_buf(buf, len);
	return len;
}

const struct sc_crypto *
sc_xen_nv_provider(void)
{
	if (!sc_ref_rng_seeded() && sc_ref_rng_init(src_os, NULL, NULL, 0) != 0)
		sc_ref_fatal("cannot seed the generator");
	return sc_crypto_ref();
}
