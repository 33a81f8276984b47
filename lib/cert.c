/*
 * cert.c — VMM certificates: encode+sign, strict parse, verify.
 *
 * Layout (big-endian, see cert.h and PROTOCOL.md §11):
 *   magic "SCC1"  version:u8 (1)  host:str8 (1..255 bytes, 0x21..0x7e)
 *   hv_pubkey[32]  pcr_digest[32]  issued:u64  expires:u64
 *   signer[32]  signature[64] = Ed25519(signer, every preceding byte)
 * issued < expires.  Nothing may follow the signature.
 */
#include "config.h"

#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "core/err.h"
#include "core/buf.h"
#include "cert.h"

#define CERT_MAGIC_LEN		4
#define CERT_HOST_MAX		255
#define CERT_SKEW		300	/* seconds a certificate may be "from the future" */
#define CERT_MAX_LEN		(CERT_MAGIC_LEN + 1 + 1 + CERT_HOST_MAX + 32 + 32 + 8 + 8 + \
				 SC_ED25519_PK_LEN + SC_ED25519_SIG_LEN)

/* Host names: 1..255 bytes of printable ASCII without space. */
static int
cert_host_ok(const char *h, size_t len)
{
	size_t i;

	if (len == 0 || len > CERT_HOST_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if ((unsigned char)h[i] < 0x21 || (unsigned char)h[i] > 0x7e)
			return 0;
	return 1;
}

int
sc_cert_sign(const struct sc_cert *c, const uint8_t sk[SC_ED25519_SK_LEN],
    uint8_t *out, size_t outsz, size_t *outlen)
{
	uint8_t pk[SC_ED25519_PK_LEN];
	struct sc_buf b;
	uint8_t *sig;
	size_t hlen;

	if (c == NULL || sk == NULL || out == NULL || outlen == NULL)
		return SC_ERR_INVAL;
	hlen = strnlen(c->host, sizeof(c->host));
	if (hlen >= sizeof(c->host) || !cert_host_ok(c->host, hlen) ||
	    c->issued >= c->expires)
		return SC_ERR_INVAL;
	/* The signer field must name the key that signs. */
	if (crypto_sign_ed25519_sk_to_pk(pk, sk) != 0 ||
	    sodium_memcmp(pk, c->signer, sizeof(pk)) != 0)
		return SC_ERR_INVAL;
	sc_buf_init(&b, out, outsz);
	if (sc_buf_put_bytes(&b, SC_CERT_MAGIC, CERT_MAGIC_LEN) < 0 ||
	    sc_buf_put_u8(&b, SC_CERT_VERSION) < 0 ||
	    sc_buf_put_str8(&b, c->host, hlen) < 0 ||
	    sc_buf_put_bytes(&b, c->hv_pubkey, sizeof(c->hv_pubkey)) < 0 ||
	    sc_buf_put_bytes(&b, c->pcr_digest, sizeof(c->pcr_digest)) < 0 ||
	    sc_buf_put_u64(&b, c->issued) < 0 ||
	    sc_buf_put_u64(&b, c->expires) < 0 ||
	    sc_buf_put_bytes(&b, c->signer, sizeof(c->signer)) < 0 ||
	    sc_buf_reserve(&b, SC_ED25519_SIG_LEN, &sig) < 0)
		return SC_ERR_NOSPACE;
	if (crypto_sign_ed25519_detached(sig, NULL, out,
	    b.len - SC_ED25519_SIG_LEN, sk) != 0)
		return SC_ERR_INTERNAL;
	*outlen = b.len;
	return 0;
}

/*
 * Strict parse into c; *signed_len is the length of the signed prefix and
 * *sig points at the signature inside in.
 */
static int
cert_parse(const uint8_t *in, size_t len, struct sc_cert *c,
    size_t *signed_len, const uint8_t **sig)
{
	struct sc_buf b;
	const uint8_t *magic, *host;
	uint8_t version;
	size_t hlen;

	if (in == NULL || c == NULL)
		return SC_ERR_INVAL;
	memset(c, 0, sizeof(*c));
	if (len > CERT_MAX_LEN)
		return SC_ERR_FORMAT;
	sc_buf_init_ro(&b, in, len);
	if (sc_buf_get_view(&b, CERT_MAGIC_LEN, &magic) < 0 ||
	    memcmp(magic, SC_CERT_MAGIC, CERT_MAGIC_LEN) != 0 ||
	    sc_buf_get_u8(&b, &version) < 0)
		return SC_ERR_FORMAT;
	if (version != SC_CERT_VERSION)
		return SC_ERR_VERSION;
	if (sc_buf_get_str8(&b, &host, &hlen, CERT_HOST_MAX) < 0 ||
	    !cert_host_ok((const char *)host, hlen) ||
	    sc_buf_get_bytes(&b, c->hv_pubkey, sizeof(c->hv_pubkey)) < 0 ||
	    sc_buf_get_bytes(&b, c->pcr_digest, sizeof(c->pcr_digest)) < 0 ||
	    sc_buf_get_u64(&b, &c->issued) < 0 ||
	    sc_buf_get_u64(&b, &c->expires) < 0 ||
	    sc_buf_get_bytes(&b, c->signer, sizeof(c->signer)) < 0)
		goto bad;
	*signed_len = len - sc_buf_avail(&b);
	if (sc_buf_get_view(&b, SC_ED25519_SIG_LEN, sig) < 0 ||
	    sc_buf_expect_end(&b) < 0 || c->issued >= c->expires)
		goto bad;
	memcpy(c->host, host, hlen);
	c->host[hlen] = '\0';
	return 0;
 bad:
	memset(c, 0, sizeof(*c));
	return SC_ERR_FORMAT;
}

int
sc_cert_parse(const uint8_t *in, size_t len, struct sc_cert *c)
{
	size_t signed_len;
	const uint8_t *sig;

	return cert_parse(in, len, c, &signed_len, &sig);
}

/*
 * Checks, in order: format; signer is the pinned key server key
 * (SC_ERR_UNTRUSTED); signature (SC_ERR_SIGNATURE); host (ASCII
 * case-insensitive) and hv key (SC_ERR_MISMATCH); validity window
 * issued <= now + 300 and now < expires (SC_ERR_EXPIRED).  c is filled
 * only on success (it may be NULL).
 */
int
sc_cert_verify(const uint8_t *in, size_t len, const uint8_t ks_pubkey[32],
    const char *expected_host, const uint8_t expected_hv[32], uint64_t now,
    struct sc_cert *c)
{
	struct sc_cert tmp;
	size_t signed_len = 0;
	const uint8_t *sig = NULL;
	int r;

	if (in == NULL || ks_pubkey == NULL)
		return SC_ERR_INVAL;
	if ((r = cert_parse(in, len, &tmp, &signed_len, &sig)) < 0)
		return r;
	if (sodium_memcmp(tmp.signer, ks_pubkey, SC_ED25519_PK_LEN) != 0)
		return SC_ERR_UNTRUSTED;
	if (crypto_sign_ed25519_verify_detached(sig, in, signed_len, ks_pubkey) != 0)
		return SC_ERR_SIGNATURE;
	if (expected_host != NULL && strcasecmp(tmp.host, expected_host) != 0)
		return SC_ERR_MISMATCH;
	if (expected_hv != NULL &&
	    sodium_memcmp(tmp.hv_pubkey, expected_hv, sizeof(tmp.hv_pubkey)) != 0)
		return SC_ERR_MISMATCH;
	if (tmp.issued > now && tmp.issued - now > CERT_SKEW)
		return SC_ERR_EXPIRED;
	if (now >= tmp.expires)
		return SC_ERR_EXPIRED;
	if (c != NULL)
		*c = tmp;
	return 0;
}
