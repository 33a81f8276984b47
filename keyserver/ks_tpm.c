/*
 * ks_tpm.c — TPM 2.0 quote, signature and AK handling for the key server.
 *
 * Contract: every function takes untrusted bytes, returns a negative
 * SC_ERR_* code on anything unexpected and never logs.  OpenSSL objects are
 * local to each call and always freed at one exit label.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <sodium.h>
#include <tss2/tss2_mu.h>

#include "core/err.h"
#include "ks_tpm.h"

#define P256_COORD_LEN	32
#define RSA_BITS_MIN	2048
#define RSA_BITS_MAX	4096

void
ks_tss2_quiet(void)
{
	/* tpm2-tss reads TSS2_LOG once; keep an operator's explicit choice. */
	(void)setenv("TSS2_LOG", "all+NONE", 0);
}

static int
quote_from_attest(const TPMS_ATTEST *a, struct ks_quote *q)
{
	const TPML_PCR_SELECTION *sel;
	const TPMS_PCR_SELECTION *s;
	unsigned int i;

	if (a->magic != TPM2_GENERATED_VALUE)
		return SC_ERR_MAGIC;
	if (a->type != TPM2_ST_ATTEST_QUOTE)
		return SC_ERR_TYPE;
	if (a->extraData.size > sizeof(q->extra))
		return SC_ERR_FORMAT;
	memcpy(q->extra, a->extraData.buffer, a->extraData.size);
	q->extra_len = a->extraData.size;
	q->clock = a->clockInfo.clock;
	q->reset_count = a->clockInfo.resetCount;
	q->restart_count = a->clockInfo.restartCount;
	q->safe = a->clockInfo.safe;
	q->firmware = a->firmwareVersion;

	sel = &a->attested.quote.pcrSelect;
	if (sel->count != 1)
		return SC_ERR_UNSUPPORTED;
	s = &sel->pcrSelections[0];
	if (s->hash != TPM2_ALG_SHA256)
		return SC_ERR_UNSUPPORTED;
	if (s->sizeofSelect > TPM2_PCR_SELECT_MAX)
		return SC_ERR_FORMAT;
	q->pcr_mask = 0;
	for (i = 0; i < (unsigned int)s->sizeofSelect * 8; i++) {
		if (!(s->pcrSelect[i / 8] & (1u << (i % 8))))
			continue;
		if (i >= KS_PCR_COUNT)
			return SC_ERR_UNSUPPORTED;
		q->pcr_mask |= 1u << i;
	}
	if (a->attested.quote.pcrDigest.size != KS_DIGEST_LEN)
		return SC_ERR_UNSUPPORTED;
	memcpy(q->pcr_digest, a->attested.quote.pcrDigest.buffer, KS_DIGEST_LEN);
	return 0;
}

int
ks_quote_parse(const uint8_t *in, size_t len, struct ks_quote *q)
{
	TPMS_ATTEST a;
	size_t off = 0, inner_len;
	const uint8_t *inner;
	uint16_t sz;

	memset(q, 0, sizeof(*q));
	if (in == NULL || len < 4 || len > KS_QUOTE_MAX)
		return SC_ERR_FORMAT;
	/*
	 * TPM2B_ATTEST starts with its u16 size, which can never be 0xff54
	 * (the first half of TPM_GENERATED_VALUE): sizeof(TPMS_ATTEST) is far
	 * smaller.  So the two encodings cannot be confused.
	 */
	sz = (uint16_t)((in[0] << 8) | in[1]);
	if ((size_t)sz + 2 == len) {
		inner = in + 2;
		inner_len = sz;
	} else {
		inner = in;
		inner_len = len;
	}
	memset(&a, 0, sizeof(a));
	if (Tss2_MU_TPMS_ATTEST_Unmarshal(inner, inner_len, &off, &a) !=
	    TSS2_RC_SUCCESS)
		return SC_ERR_FORMAT;
	if (off != inner_len)
		return SC_ERR_FORMAT;
	q->signed_data = inner;
	q->signed_len = inner_len;
	return quote_from_attest(&a, q);
}

/* Big-endian integer of n bytes, left-padded to out[outlen]. */
static int
pad_left(const uint8_t *in, size_t n, uint8_t *out, size_t outlen)
{
	while (n > outlen && *in == 0) {
		in++;
		n--;
	}
	if (n > outlen)
		return SC_ERR_FORMAT;
	memset(out, 0, outlen - n);
	memcpy(out + outlen - n, in, n);
	return 0;
}

static int
pkey_from_ecc_point(const uint8_t *x, size_t xl, const uint8_t *y, size_t yl,
    EVP_PKEY **out)
{
	uint8_t pt[1 + 2 * P256_COORD_LEN];
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL, *chk = NULL;
	EVP_PKEY *pkey = NULL;
	int r = SC_ERR_BADKEY;

	pt[0] = 0x04;
	if (pad_left(x, xl, pt + 1, P256_COORD_LEN) < 0 ||
	    pad_left(y, yl, pt + 1 + P256_COORD_LEN, P256_COORD_LEN) < 0)
		return SC_ERR_BADKEY;
	if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
	    !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
	    "prime256v1", 0) ||
	    !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY,
	    pt, sizeof(pt)) ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL) {
		r = SC_ERR_ALLOC;
		goto out;
	}
	if ((ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
		goto out;
	/* Reject points that are not on the curve. */
	if ((chk = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL)) == NULL ||
	    EVP_PKEY_public_check(chk) != 1)
		goto out;
	*out = pkey;
	pkey = NULL;
	r = 0;
 out:
	EVP_PKEY_free(pkey);
	EVP_PKEY_CTX_free(chk);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	return r;
}

static int
pkey_from_rsa(const uint8_t *n, size_t nl, uint32_t exponent, EVP_PKEY **out)
{
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;
	BIGNUM *bn = NULL, *be = NULL;
	int r = SC_ERR_BADKEY;

	if (exponent == 0)
		exponent = 65537;
	if ((bn = BN_bin2bn(n, (int)nl, NULL)) == NULL ||
	    (be = BN_new()) == NULL || !BN_set_word(be, exponent) ||
	    (bld = OSSL_PARAM_BLD_new()) == NULL ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be) ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL) {
		r = SC_ERR_ALLOC;
		goto out;
	}
	if ((ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
		goto out;
	*out = pkey;
	pkey = NULL;
	r = 0;
 out:
	EVP_PKEY_free(pkey);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn);
	BN_free(be);
	return r;
}

/* Accept only P-256 EC keys and RSA keys of 2048..4096 bits. */
static int
pkey_check(EVP_PKEY *pkey, char *desc, size_t descsz)
{
	char group[64];
	size_t glen = 0;
	int bits;

	switch (EVP_PKEY_get_base_id(pkey)) {
	case EVP_PKEY_EC:
		if (EVP_PKEY_get_group_name(pkey, group, sizeof(group), &glen) != 1 ||
		    strcmp(group, "prime256v1") != 0)
			return SC_ERR_UNSUPPORTED;
		snprintf(desc, descsz, "ecc-p256");
		return 0;
	case EVP_PKEY_RSA:
		bits = EVP_PKEY_get_bits(pkey);
		if (bits < RSA_BITS_MIN || bits > RSA_BITS_MAX)
			return SC_ERR_UNSUPPORTED;
		snprintf(desc, descsz, "rsa-%d", bits);
		return 0;
	default:
		return SC_ERR_UNSUPPORTED;
	}
}

static int
pkey_from_tpm2b_public(const uint8_t *in, size_t len, EVP_PKEY **out)
{
	TPM2B_PUBLIC pub;
	const TPMT_PUBLIC *p;
	size_t off = 0;
	TPMA_OBJECT need = TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT;

	memset(&pub, 0, sizeof(pub));
	if (Tss2_MU_TPM2B_PUBLIC_Unmarshal(in, len, &off, &pub) != TSS2_RC_SUCCESS ||
	    off != len)
		return SC_ERR_FORMAT;
	p = &pub.publicArea;
	/* An AK signs only TPM-generated structures: restricted, sign, no decrypt. */
	if ((p->objectAttributes & need) != need ||
	    (p->objectAttributes & TPMA_OBJECT_DECRYPT))
		return SC_ERR_BADKEY;
	switch (p->type) {
	case TPM2_ALG_ECC:
		if (p->parameters.eccDetail.curveID != TPM2_ECC_NIST_P256)
			return SC_ERR_UNSUPPORTED;
		if (p->parameters.eccDetail.scheme.scheme != TPM2_ALG_ECDSA &&
		    p->parameters.eccDetail.scheme.scheme != TPM2_ALG_NULL)
			return SC_ERR_UNSUPPORTED;
		if (p->parameters.eccDetail.scheme.scheme == TPM2_ALG_ECDSA &&
		    p->parameters.eccDetail.scheme.details.ecdsa.hashAlg !=
		    TPM2_ALG_SHA256)
			return SC_ERR_UNSUPPORTED;
		return pkey_from_ecc_point(p->unique.ecc.x.buffer,
		    p->unique.ecc.x.size, p->unique.ecc.y.buffer,
		    p->unique.ecc.y.size, out);
	case TPM2_ALG_RSA:
		if (p->parameters.rsaDetail.keyBits < RSA_BITS_MIN ||
		    p->parameters.rsaDetail.keyBits > RSA_BITS_MAX ||
		    p->unique.rsa.size * 8 != p->parameters.rsaDetail.keyBits)
			return SC_ERR_UNSUPPORTED;
		switch (p->parameters.rsaDetail.scheme.scheme) {
		case TPM2_ALG_RSASSA:
		case TPM2_ALG_RSAPSS:
			if (p->parameters.rsaDetail.scheme.details.rsassa.hashAlg !=
			    TPM2_ALG_SHA256)
				return SC_ERR_UNSUPPORTED;
			break;
		case TPM2_ALG_NULL:
			break;
		default:
			return SC_ERR_UNSUPPORTED;
		}
		return pkey_from_rsa(p->unique.rsa.buffer, p->unique.rsa.size,
		    p->parameters.rsaDetail.exponent, out);
	default:
		return SC_ERR_UNSUPPORTED;
	}
}

int
ks_ak_import(const uint8_t *in, size_t len, uint8_t *spki, size_t spkisz,
    size_t *spkilen, int *restricted, char *desc, size_t descsz)
{
	static const char pem_tag[] = "-----BEGIN PUBLIC KEY-----";
	EVP_PKEY *pkey = NULL;
	BIO *bio = NULL;
	const unsigned char *p;
	unsigned char *w;
	int r, n;

	*spkilen = 0;
	*restricted = 0;
	if (in == NULL || len < 2 || len > KS_AKPEM_MAX)
		return SC_ERR_FORMAT;
	if (len >= sizeof(pem_tag) - 1 &&
	    memcmp(in, pem_tag, sizeof(pem_tag) - 1) == 0) {
		if ((bio = BIO_new_mem_buf(in, (int)len)) == NULL)
			return SC_ERR_ALLOC;
		pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
		BIO_free(bio);
		if (pkey == NULL) {
			ERR_clear_error();
			return SC_ERR_FORMAT;
		}
	} else if (((size_t)in[0] << 8 | in[1]) + 2 == len) {
		if ((r = pkey_from_tpm2b_public(in, len, &pkey)) < 0) {
			ERR_clear_error();
			return r;
		}
		*restricted = 1;
	} else {
		p = in;
		pkey = d2i_PUBKEY(NULL, &p, (long)len);
		if (pkey == NULL || p != in + len) {
			EVP_PKEY_free(pkey);
			ERR_clear_error();
			return SC_ERR_FORMAT;
		}
	}
	if ((r = pkey_check(pkey, desc, descsz)) < 0)
		goto out;
	if ((n = i2d_PUBKEY(pkey, NULL)) <= 0) {
		r = SC_ERR_BADKEY;
		goto out;
	}
	if ((size_t)n > spkisz) {
		r = SC_ERR_NOSPACE;
		goto out;
	}
	w = spki;
	if (i2d_PUBKEY(pkey, &w) != n) {
		r = SC_ERR_BADKEY;
		goto out;
	}
	*spkilen = (size_t)n;
	r = 0;
 out:
	EVP_PKEY_free(pkey);
	ERR_clear_error();	/* failures leave nothing behind in this thread */
	return r;
}

/* DER ECDSA-Sig-Value from the TPM's (r, s). */
static int
ecdsa_der(const TPMS_SIGNATURE_ECC *e, unsigned char **der, int *derlen)
{
	ECDSA_SIG *es = NULL;
	BIGNUM *br = NULL, *bs = NULL;
	int r = SC_ERR_FORMAT;

	*der = NULL;
	if (e->signatureR.size == 0 || e->signatureS.size == 0 ||
	    e->signatureR.size > P256_COORD_LEN + 1 ||
	    e->signatureS.size > P256_COORD_LEN + 1)
		return SC_ERR_FORMAT;
	if ((es = ECDSA_SIG_new()) == NULL ||
	    (br = BN_bin2bn(e->signatureR.buffer, e->signatureR.size, NULL)) == NULL ||
	    (bs = BN_bin2bn(e->signatureS.buffer, e->signatureS.size, NULL)) == NULL) {
		r = SC_ERR_ALLOC;
		goto out;
	}
	if (!ECDSA_SIG_set0(es, br, bs))
		goto out;
	br = bs = NULL;		/* owned by es now */
	if ((*derlen = i2d_ECDSA_SIG(es, der)) <= 0) {
		*der = NULL;
		goto out;
	}
	r = 0;
 out:
	BN_free(br);
	BN_free(bs);
	ECDSA_SIG_free(es);
	return r;
}

int
ks_sig_verify(const uint8_t *spki, size_t spkilen, const uint8_t *sig,
    size_t siglen, const uint8_t *data, size_t datalen)
{
	TPMT_SIGNATURE ts;
	EVP_PKEY *pkey = NULL;
	EVP_MD_CTX *md = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	const unsigned char *p = spki;
	unsigned char *der = NULL;
	const unsigned char *s;
	size_t off = 0, slen;
	int derlen = 0, keytype, r;

	if (sig == NULL || siglen == 0 || siglen > KS_SIG_MAX)
		return SC_ERR_FORMAT;
	memset(&ts, 0, sizeof(ts));
	if (Tss2_MU_TPMT_SIGNATURE_Unmarshal(sig, siglen, &off, &ts) !=
	    TSS2_RC_SUCCESS || off != siglen)
		return SC_ERR_FORMAT;
	switch (ts.sigAlg) {
	case TPM2_ALG_ECDSA:
		if (ts.signature.ecdsa.hash != TPM2_ALG_SHA256)
			return SC_ERR_UNSUPPORTED;
		keytype = EVP_PKEY_EC;
		break;
	case TPM2_ALG_RSASSA:
	case TPM2_ALG_RSAPSS:
		if (ts.signature.rsassa.hash != TPM2_ALG_SHA256)
			return SC_ERR_UNSUPPORTED;
		if (ts.signature.rsassa.sig.size == 0)
			return SC_ERR_FORMAT;
		keytype = EVP_PKEY_RSA;
		break;
	default:
		return SC_ERR_UNSUPPORTED;
	}

	if ((pkey = d2i_PUBKEY(NULL, &p, (long)spkilen)) == NULL) {
		ERR_clear_error();
		return SC_ERR_BADKEY;
	}
	if (EVP_PKEY_get_base_id(pkey) != keytype) {
		r = SC_ERR_MISMATCH;
		goto out;
	}
	if (keytype == EVP_PKEY_EC) {
		if ((r = ecdsa_der(&ts.signature.ecdsa, &der, &derlen)) < 0)
			goto out;
		s = der;
		slen = (size_t)derlen;
	} else {
		s = ts.signature.rsassa.sig.buffer;
		slen = ts.signature.rsassa.sig.size;
	}
	if ((md = EVP_MD_CTX_new()) == NULL) {
		r = SC_ERR_ALLOC;
		goto out;
	}
	if (EVP_DigestVerifyInit(md, &pctx, EVP_sha256(), NULL, pkey) != 1) {
		r = SC_ERR_BADKEY;
		goto out;
	}
	if (ts.sigAlg == TPM2_ALG_RSAPSS &&
	    (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
	    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_AUTO) != 1)) {
		r = SC_ERR_INTERNAL;
		goto out;
	}
	r = EVP_DigestVerify(md, s, slen, data, datalen) == 1 ? 0 :
	    SC_ERR_SIGNATURE;
 out:
	OPENSSL_free(der);
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(pkey);
	ERR_clear_error();
	return r;
}

void
ks_pcr_composite(const uint8_t values[KS_PCR_COUNT][KS_DIGEST_LEN],
    uint32_t mask, uint8_t out[KS_DIGEST_LEN])
{
	crypto_hash_sha256_state st;
	unsigned int i;

	crypto_hash_sha256_init(&st);
	for (i = 0; i < KS_PCR_COUNT; i++)
		if (mask & (1u << i))
			crypto_hash_sha256_update(&st, values[i], KS_DIGEST_LEN);
	crypto_hash_sha256_final(&st, out);
}

void
ks_key_pcr_value(const uint8_t hv_pubkey[KS_HV_PUBKEY_LEN],
    uint8_t out[KS_DIGEST_LEN])
{
	uint8_t buf[2 * KS_DIGEST_LEN];

	memset(buf, 0, KS_DIGEST_LEN);
	crypto_hash_sha256(buf + KS_DIGEST_LEN, hv_pubkey, KS_HV_PUBKEY_LEN);
	crypto_hash_sha256(out, buf, sizeof(buf));
}
