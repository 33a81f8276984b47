/*
 * fuzz_ks_sign.c — libFuzzer harness for what the key server's trusted
 * parts read from less trusted ones: the signing process's requests from
 * the network process (ks_sign_req_decode, then the checks it runs before
 * signing) and the trusted-proxy header naming a client (ks_peer.c).
 *
 * Input: selector byte, then the bytes.  Invariants: a request decodes
 * only in its canonical form (re-encoding gives the input back) with a
 * valid host name and key PCR; ks_sign_check never accepts a request
 * whose times break the lifetime rule; an address taken from a header is
 * a numeric address that parses again, and its quota key fits.
 *
 * Selector OWNER_SELECTOR: the signing process's ownership-token request
 * (ks_owner_req_decode, then the token it signs).  Invariants: it decodes
 * only in its canonical form, with 1..KS_OWNER_ACL_MAX entries, flags only
 * SC_ACL_F_OWNER, at least one owner and no key twice (an ACL a blob can
 * carry); the token made from it verifies under the owner CA for exactly
 * that UUID and ACL.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/crypto.h"
#include "core/owner.h"
#include "ks_core.h"
#include "ks_owner.h"
#include "ks_peer.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_NOW	1700000000ULL
#define FUZZ_LIFETIME	3600
#define OWNER_SELECTOR	0x02	/* older seeds (0x00, 0x01) keep their meaning */

static void
fuzz_sign_req(const uint8_t *data, size_t size)
{
	static struct ks_host h;
	static struct ks_attest_req req;
	static uint8_t again[KS_SIGN_REQ_MAX];
	struct sc_cert c;
	uint64_t issued, expires;
	size_t len;

	if (ks_sign_req_decode(data, size, &h, &req, &issued, &expires) != 0)
		return;
	if (!ks_host_valid(h.name) || strcmp(h.name, req.host) != 0 ||
	    h.policy.key_pcr >= KS_PCR_COUNT)
		abort();
	if (ks_sign_req_encode(&h, &req, issued, expires, again, sizeof(again),
	    &len) != 0 || len != size || memcmp(again, data, size) != 0)
		abort();
	if (ks_sign_check(&h, &req, issued, expires, FUZZ_NOW, FUZZ_LIFETIME,
	    &c) == 0 && (expires <= issued || expires - issued > FUZZ_LIFETIME ||
	    issued + KS_SIGN_SKEW < FUZZ_NOW || issued > FUZZ_NOW + KS_SIGN_SKEW ||
	    strcmp(c.host, h.name) != 0))
		abort();
}

static void
fuzz_owner_req(const uint8_t *data, size_t size)
{
	static uint8_t ca_pk[crypto_sign_PUBLICKEYBYTES];
	static uint8_t ca_sk[crypto_sign_SECRETKEYBYTES];
	static int ca_made;
	struct sc_acl_entry acl[KS_OWNER_ACL_MAX];
	uint8_t uuid[KS_UUID_LEN], again[KS_OWNER_REQ_MAX];
	uint8_t token[KS_OWNER_TOKEN_LEN], seed[crypto_sign_SEEDBYTES];
	unsigned i, j, n, owners = 0;
	size_t len;

	if (!ca_made) {
		memset(seed, 0x4f, sizeof(seed));
		crypto_sign_seed_keypair(ca_pk, ca_sk, seed);
		ca_made = 1;
	}
	if (ks_owner_req_decode(data, size, uuid, acl, &n) != 0)
		return;
	if (n == 0 || n > KS_OWNER_ACL_MAX)
		abort();
	for (i = 0; i < n; i++) {
		if ((acl[i].flags & ~SC_ACL_F_OWNER) != 0)
			abort();
		owners += acl[i].flags;
		for (j = 0; j < i; j++)
			if (memcmp(acl[i].pubkey, acl[j].pubkey, SC_KEY_LEN) == 0)
				abort();
	}
	if (owners == 0)
		abort();
	if (ks_owner_req_encode(uuid, acl, n, again, sizeof(again), &len) != 0 ||
	    len != size || memcmp(again, data, size) != 0)
		abort();
	if (ks_owner_token(ca_sk, uuid, acl, n, token) != 0 ||
	    sc_owner_verify(sc_crypto_sodium(), ca_pk, uuid, acl, n, token) != 0)
		abort();
	/* One bit of the UUID changed: the token is not for it. */
	uuid[size % KS_UUID_LEN] ^= 1;
	if (sc_owner_verify(sc_crypto_sodium(), ca_pk, uuid, acl, n, token) == 0)
		abort();
}

static void
fuzz_peer(const uint8_t *data, size_t size)
{
	struct ks_proxy_cfg cfg;
	struct sockaddr_in sin;
	char *hdr, out[KS_PEER_MAX], via[KS_PEER_MAX], key[KS_PEER_MAX];
	uint8_t a[16];
	int r;

	if ((hdr = malloc(size + 1)) == NULL)
		return;
	memcpy(hdr, data, size);
	hdr[size] = '\0';
	memset(&cfg, 0, sizeof(cfg));
	if (ks_proxy_add(&cfg, "127.0.0.1") != 0)
		abort();
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	r = ks_peer_resolve((struct sockaddr *)&sin, &cfg, hdr, out, via);
	if (r == 1) {
		if (inet_pton(AF_INET, out, a) != 1 &&
		    inet_pton(AF_INET6, out, a) != 1)
			abort();
		if (strcmp(via, "127.0.0.1") != 0)
			abort();
	} else if (strcmp(out, "127.0.0.1") != 0) {
		abort();
	}
	ks_peer_key(out, key);
	if (memchr(key, '\0', sizeof(key)) == NULL)
		abort();
	/* The whole input as a proxy address: added only if it parses. */
	if (ks_proxy_add(&cfg, hdr) == 0 && inet_pton(AF_INET, hdr, a) != 1 &&
	    inet_pton(AF_INET6, hdr, a) != 1)
		abort();
	free(hdr);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] == OWNER_SELECTOR)
		fuzz_owner_req(data + 1, size - 1);
	else if (data[0] & 1)
		fuzz_peer(data + 1, size - 1);
	else
		fuzz_sign_req(data + 1, size - 1);
	return 0;
}
