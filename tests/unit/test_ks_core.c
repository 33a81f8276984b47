/*
 * test_ks_core.c — the key server's attestation check and certificate
 * issuance (keyserver/ks_core.c, ks_tpm.c, ks_sign.c).
 *
 * Quotes are built here the way a TPM builds them: a TPMS_ATTEST
 * marshalled by tpm2-tss MU, signed over those bytes with an OpenSSL key
 * (ECDSA P-256, RSASSA or RSAPSS with SHA-256), the signature wrapped in a
 * TPMT_SIGNATURE.  Every check of the pipeline is exercised on its own, and
 * every issued certificate is verified with lib/cert.h as a client would.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <sodium.h>
#include <tss2/tss2_mu.h>

#include "cert.h"
#include "core/crypto.h"
#include "core/err.h"
#include "core/owner.h"
#include "secmem.h"
#include "ks_core.h"
#include "ks_peer.h"

#define NOW		1700000000ULL
#define HOST		"host1.example"
#define KEY_PCR		15
#define PEER		"192.0.2.1"
#define POLICY_MASK	((1u << 0) | (1u << 7))

static char tmpdir[128];

struct fx {
	struct ks_ctx		 ctx;
	struct ks_store		*store;
	struct ks_signer	*signer;
	EVP_PKEY		*ec;
	EVP_PKEY		*rsa;
	uint8_t			 hv_pk[32];
	uint8_t			 pcrs[KS_PCR_COUNT][KS_DIGEST_LEN];
};

/* ---- a software TPM ---- */

enum { SIG_ECDSA, SIG_RSASSA, SIG_RSAPSS };

struct qspec {
	uint32_t	magic;
	uint16_t	type;
	uint16_t	bank;
	int		two_banks;
	uint32_t	mask;
	const uint8_t	*nonce;
	size_t		nonce_len;
	uint8_t		digest[32];
	int		tpm2b;
};

static size_t
make_quote(const struct qspec *s, uint8_t *out, size_t outsz)
{
	TPMS_ATTEST a;
	TPMS_PCR_SELECTION *sel;
	size_t off = 0;

	memset(&a, 0, sizeof(a));
	a.magic = s->magic;
	a.type = s->type;
	a.qualifiedSigner.size = 4;
	memcpy(a.qualifiedSigner.name, "\x00\x0b\x01\x02", 4);
	a.extraData.size = (UINT16)s->nonce_len;
	memcpy(a.extraData.buffer, s->nonce, s->nonce_len);
	a.clockInfo.clock = 123456;
	a.clockInfo.resetCount = 3;
	a.clockInfo.restartCount = 1;
	a.clockInfo.safe = 1;
	a.firmwareVersion = 0x2000000000000001ULL;
	a.attested.quote.pcrSelect.count = s->two_banks ? 2 : 1;
	sel = &a.attested.quote.pcrSelect.pcrSelections[0];
	sel->hash = s->bank;
	sel->sizeofSelect = 3;
	sel->pcrSelect[0] = s->mask & 0xff;
	sel->pcrSelect[1] = (s->mask >> 8) & 0xff;
	sel->pcrSelect[2] = (s->mask >> 16) & 0xff;
	if (s->two_banks) {
		sel[1] = sel[0];
		sel[1].hash = TPM2_ALG_SHA1;
	}
	a.attested.quote.pcrDigest.size = 32;
	memcpy(a.attested.quote.pcrDigest.buffer, s->digest, 32);
	assert_int_equal(Tss2_MU_TPMS_ATTEST_Marshal(&a, out + (s->tpm2b ? 2 : 0),
	    outsz - 2, &off), TSS2_RC_SUCCESS);
	if (s->tpm2b) {
		out[0] = (uint8_t)(off >> 8);
		out[1] = (uint8_t)off;
		off += 2;
	}
	return off;
}

static size_t
sign_quote(EVP_PKEY *key, int alg, TPM2_ALG_ID hash, const uint8_t *data,
    size_t len, uint8_t *out, size_t outsz)
{
	TPMT_SIGNATURE ts;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	unsigned char sig[1024];
	const unsigned char *p = sig;
	size_t siglen = sizeof(sig), off = 0;
	ECDSA_SIG *es;

	assert_non_null(md);
	assert_int_equal(EVP_DigestSignInit(md, &pctx, EVP_sha256(), NULL, key), 1);
	if (alg == SIG_RSAPSS) {
		assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(pctx,
		    RSA_PKCS1_PSS_PADDING), 1);
		assert_int_equal(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx,
		    RSA_PSS_SALTLEN_DIGEST), 1);
	}
	assert_int_equal(EVP_DigestSign(md, sig, &siglen, data, len), 1);
	EVP_MD_CTX_free(md);

	memset(&ts, 0, sizeof(ts));
	if (alg == SIG_ECDSA) {
		ts.sigAlg = TPM2_ALG_ECDSA;
		ts.signature.ecdsa.hash = hash;
		es = d2i_ECDSA_SIG(NULL, &p, (long)siglen);
		assert_non_null(es);
		ts.signature.ecdsa.signatureR.size = 32;
		ts.signature.ecdsa.signatureS.size = 32;
		assert_int_equal(BN_bn2binpad(ECDSA_SIG_get0_r(es),
		    ts.signature.ecdsa.signatureR.buffer, 32), 32);
		assert_int_equal(BN_bn2binpad(ECDSA_SIG_get0_s(es),
		    ts.signature.ecdsa.signatureS.buffer, 32), 32);
		ECDSA_SIG_free(es);
	} else {
		ts.sigAlg = alg == SIG_RSAPSS ? TPM2_ALG_RSAPSS : TPM2_ALG_RSASSA;
		ts.signature.rsassa.hash = hash;
		ts.signature.rsassa.sig.size = (UINT16)siglen;
		memcpy(ts.signature.rsassa.sig.buffer, sig, siglen);
	}
	assert_int_equal(Tss2_MU_TPMT_SIGNATURE_Marshal(&ts, out, outsz, &off),
	    TSS2_RC_SUCCESS);
	return off;
}

static size_t
spki_of(EVP_PKEY *k, uint8_t *out)
{
	unsigned char *p = out;
	int n = i2d_PUBKEY(k, &p);

	assert_true(n > 0 && n <= KS_SPKI_MAX);
	return (size_t)n;
}

/* TPM2B_PUBLIC of an EC key with the given attributes. */
static size_t
tpm2b_public_ec(EVP_PKEY *k, TPMA_OBJECT attrs, TPM2_ECC_CURVE curve,
    uint8_t *out, size_t outsz)
{
	TPM2B_PUBLIC pub;
	BIGNUM *x = NULL, *y = NULL;
	size_t off = 0;

	memset(&pub, 0, sizeof(pub));
	pub.publicArea.type = TPM2_ALG_ECC;
	pub.publicArea.nameAlg = TPM2_ALG_SHA256;
	pub.publicArea.objectAttributes = attrs;
	pub.publicArea.parameters.eccDetail.symmetric.algorithm = TPM2_ALG_NULL;
	pub.publicArea.parameters.eccDetail.scheme.scheme = TPM2_ALG_ECDSA;
	pub.publicArea.parameters.eccDetail.scheme.details.ecdsa.hashAlg =
	    TPM2_ALG_SHA256;
	pub.publicArea.parameters.eccDetail.curveID = curve;
	pub.publicArea.parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
	assert_int_equal(EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_EC_PUB_X, &x), 1);
	assert_int_equal(EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_EC_PUB_Y, &y), 1);
	pub.publicArea.unique.ecc.x.size = 32;
	pub.publicArea.unique.ecc.y.size = 32;
	assert_int_equal(BN_bn2binpad(x, pub.publicArea.unique.ecc.x.buffer, 32), 32);
	assert_int_equal(BN_bn2binpad(y, pub.publicArea.unique.ecc.y.buffer, 32), 32);
	BN_free(x);
	BN_free(y);
	assert_int_equal(Tss2_MU_TPM2B_PUBLIC_Marshal(&pub, out, outsz, &off),
	    TSS2_RC_SUCCESS);
	return off;
}

#define AK_ATTRS	(TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT | \
			 TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | \
			 TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_USERWITHAUTH)

/* ---- fixture ---- */

static uint64_t
fixed_now(void)
{
	return NOW;
}

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char path[256];
	int created = 0;
	unsigned int i;

	assert_non_null(f);
	snprintf(tmpdir, sizeof(tmpdir), "%s/test_ks_core.XXXXXX",
	    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	assert_non_null(mkdtemp(tmpdir));
	snprintf(path, sizeof(path), "%s/ks.db", tmpdir);
	assert_int_equal(ks_store_sqlite_open(path, &f->store), 0);
	snprintf(path, sizeof(path), "%s/signing.key", tmpdir);
	assert_int_equal(ks_signer_local(path, NULL, 3600, &f->signer, &created), 0);
	assert_int_equal(created, 1);
	f->signer->clock = fixed_now;
	f->ctx.store = f->store;
	f->ctx.signer = f->signer;
	f->ctx.cert_lifetime = 3600;
	f->ctx.nonce_lifetime = 60;
	f->ctx.max_nonces = 100;
	f->ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	assert_non_null(f->ec);
	randombytes_buf(f->hv_pk, sizeof(f->hv_pk));
	for (i = 0; i < KS_PCR_COUNT; i++)
		memset(f->pcrs[i], 0x10 + i, KS_DIGEST_LEN);
	ks_key_pcr_value(f->hv_pk, f->pcrs[KEY_PCR]);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	char cmd[300];

	f->store->close(f->store);
	f->signer->close(f->signer);
	EVP_PKEY_free(f->ec);
	EVP_PKEY_free(f->rsa);
	free(f);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static void
enroll(struct fx *f, const char *name, EVP_PKEY *ak, uint32_t mask)
{
	struct ks_enroll_req er;
	struct ks_host h;
	char why[KS_WHY_MAX];
	unsigned int i;

	memset(&er, 0, sizeof(er));
	snprintf(er.name, sizeof(er.name), "%s", name);
	er.ak_len = spki_of(ak, er.ak);
	er.insecure_ak = 1;
	er.policy.pcr_mask = mask;
	er.policy.key_pcr = KEY_PCR;
	for (i = 0; i < KS_PCR_COUNT; i++)
		if (mask & (1u << i))
			memcpy(er.policy.pcrs[i], f->pcrs[i], KS_DIGEST_LEN);
	assert_int_equal(ks_enroll(&f->ctx, &er, NOW, &h, why), KS_OK);
	assert_int_equal(h.ak_restricted, 0);	/* DER cannot say */
}

/* A request as a correct agent builds it, over a fresh server nonce. */
static void
good_request(struct fx *f, EVP_PKEY *ak, int alg, struct ks_attest_req *r,
    struct qspec *qs)
{
	uint8_t nonce[KS_NONCE_LEN];
	uint64_t exp;
	uint32_t mask = POLICY_MASK | (1u << KEY_PCR);
	unsigned int i;
	static uint8_t nonce_store[KS_NONCE_LEN];

	assert_int_equal(ks_nonce_issue(&f->ctx, PEER, NOW, nonce, &exp), KS_OK);
	assert_int_equal(exp, NOW + 60);
	memcpy(nonce_store, nonce, sizeof(nonce));
	memset(r, 0, sizeof(*r));
	snprintf(r->host, sizeof(r->host), "%s", HOST);
	memset(qs, 0, sizeof(*qs));
	qs->magic = TPM2_GENERATED_VALUE;
	qs->type = TPM2_ST_ATTEST_QUOTE;
	qs->bank = TPM2_ALG_SHA256;
	qs->mask = mask;
	qs->nonce = nonce_store;
	qs->nonce_len = sizeof(nonce_store);
	qs->tpm2b = 1;
	ks_pcr_composite(f->pcrs, mask, qs->digest);
	r->quote_len = make_quote(qs, r->quote, sizeof(r->quote));
	r->sig_len = sign_quote(ak, alg, TPM2_ALG_SHA256, r->quote + 2,
	    r->quote_len - 2, r->sig, sizeof(r->sig));
	r->pcr_mask = mask;
	for (i = 0; i < KS_PCR_COUNT; i++)
		if (mask & (1u << i))
			memcpy(r->pcrs[i], f->pcrs[i], KS_DIGEST_LEN);
	memcpy(r->hv_pubkey, f->hv_pk, 32);
}

/* Re-sign the (modified) quote in r. */
static void
resign(struct ks_attest_req *r, EVP_PKEY *ak, int alg, int tpm2b)
{
	size_t skip = tpm2b ? 2 : 0;

	r->sig_len = sign_quote(ak, alg, TPM2_ALG_SHA256, r->quote + skip,
	    r->quote_len - skip, r->sig, sizeof(r->sig));
}

static int
attest(struct fx *f, const struct ks_attest_req *r, uint64_t now,
    uint8_t *cert, size_t *certlen, struct ks_attest_info *info)
{
	char why[KS_WHY_MAX];
	int res;

	res = ks_attest(&f->ctx, r, now, cert, KS_CERT_MAX, certlen, info, why);
	if (res != KS_OK) {
		assert_int_equal(*certlen, 0);
		assert_true(why[0] != '\0');
	}
	return res;
}

/* ---- tests ---- */

static void
test_key_pcr_value(void **state)
{
	uint8_t pk[32], out[32], h[32], buf[64], want[32];

	(void)state;
	memset(pk, 0xab, sizeof(pk));
	ks_key_pcr_value(pk, out);
	/* Independent computation with OpenSSL: SHA256(0^32 || SHA256(pk)). */
	assert_non_null(SHA256(pk, 32, h));
	memset(buf, 0, 32);
	memcpy(buf + 32, h, 32);
	assert_non_null(SHA256(buf, 64, want));
	assert_memory_equal(out, want, 32);
}

static void
test_pcr_composite(void **state)
{
	uint8_t v[KS_PCR_COUNT][KS_DIGEST_LEN], out[32], want[32], cat[96];

	(void)state;
	memset(v, 0, sizeof(v));
	memset(v[0], 1, 32);
	memset(v[7], 7, 32);
	memset(v[23], 23, 32);
	memset(v[5], 5, 32);		/* not selected */
	ks_pcr_composite(v, (1u << 0) | (1u << 7) | (1u << 23), out);
	memcpy(cat, v[0], 32);
	memcpy(cat + 32, v[7], 32);
	memcpy(cat + 64, v[23], 32);
	assert_non_null(SHA256(cat, 96, want));
	assert_memory_equal(out, want, 32);
}

static void
check_cert(struct fx *f, const uint8_t *cert, size_t len,
    const struct ks_attest_info *info)
{
	struct sc_cert c;

	assert_int_equal(sc_cert_verify(cert, len, f->signer->pk, HOST, f->hv_pk,
	    NOW + 1, &c), 0);
	assert_string_equal(c.host, HOST);
	assert_memory_equal(c.hv_pubkey, f->hv_pk, 32);
	assert_memory_equal(c.pcr_digest, info->quote.pcr_digest, 32);
	assert_int_equal(c.issued, NOW);
	assert_int_equal(c.expires, NOW + 3600);
	assert_int_equal(sc_cert_verify(cert, len, f->signer->pk, HOST, f->hv_pk,
	    NOW + 3600, &c), SC_ERR_EXPIRED);
}

static void
test_attest_ok_each_alg(void **state)
{
	struct fx *f = *state;
	struct ks_attest_req r;
	struct ks_attest_info info;
	struct qspec qs;
	uint8_t cert[KS_CERT_MAX], fetched[KS_CERT_MAX];
	size_t len, flen;
	uint64_t exp;

	f->rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	assert_non_null(f->rsa);
	enroll(f, HOST, f->ec, POLICY_MASK);

	good_request(f, f->ec, SIG_ECDSA, &r, &qs);
	assert_int_equal(attest(f, &r, NOW, cert, &len, &info), KS_OK);
	check_cert(f, cert, len, &info);
	assert_int_equal(info.quote.reset_count, 3);
	assert_int_equal(ks_cert_fetch(&f->ctx, HOST, NOW, fetched,
	    sizeof(fetched), &flen, &exp), KS_OK);
	assert_int_equal(flen, len);
	assert_memory_equal(fetched, cert, len);
	assert_int_equal(exp, NOW + 3600);
	/* Expired certificates are not handed out. */
	assert_int_equal(ks_cert_fetch(&f->ctx, HOST, NOW + 3600, fetched,
	    sizeof(fetched), &flen, &exp), KS_E_NO_CERT);

	/* The same with a bare TPMS_ATTEST (tpm2_quote -m form). */
	good_request(f, f->ec, SIG_ECDSA, &r, &qs);
	qs.tpm2b = 0;
	r.quote_len = make_quote(&qs, r.quote, sizeof(r.quote));
	resign(&r, f->ec, SIG_ECDSA, 0);
	assert_int_equal(attest(f, &r, NOW, cert, &len, &info), KS_OK);
	check_cert(f, cert, len, &info);

	/* RSA AKs: RSASSA and RSAPSS. */
	assert_int_equal(ks_delete(&f->ctx, HOST), KS_OK);
	enroll(f, HOST, f->rsa, POLICY_MASK);
	good_request(f, f->rsa, SIG_RSASSA, &r, &qs);
	assert_int_equal(attest(f, &r, NOW, cert, &len, &info), KS_OK);
	check_cert(f, cert, len, &info);
	good_request(f, f->rsa, SIG_RSAPSS, &r, &qs);
	assert_int_equal(attest(f, &r, NOW, cert, &len, &info), KS_OK);
	check_cert(f, cert, len, &info);
	/* An ECDSA signature cannot stand in for the RSA AK. */
	good_request(f, f->ec, SIG_ECDSA, &r, &qs);
	assert_int_equal(attest(f, &r, NOW, cert, &len, &info), KS_E_SIG_INVALID);
}

static void
test_attest_nonce(void **state)
{
	struct fx *f = *state;
	struct ks_attest_req r, r2;
	struct ks_attest_info info;
	struct qspec qs;
	uint8_t cert[KS_CERT_MAX], n[KS_NONCE_LEN];
	size_t len;
	uint64_t exp;
	unsigned int i;

	enroll(f, HOST, f->ec, POLICY_MASK);
	good_request(f, f->ec, SIG_ECDSA, &r, &qs);
	assert_int_equal(attest(f, &r, NOW, cert, &len, &info), KS_OK);
	/* Replay. */
	assert_int_equal(attest(f, &r, NOW, cert, &len, &info), KS_E_NONCE);

	/* A failed attempt spends the nonce too: no second try with it. */
	good_request(f, f->ec, SIG_ECDSA, &r, &qs);
	r2 = r;
	r2.sig[r2.sig_len - 3] ^= 1;
	assert_int_equal(attest(f, &r2, NOW, cert, &len, &info),
	    KS_E_SIG_INVALID);
	assert_int_equal(attest(f, &r, NOW, cert, &len, &info), KS_E_NONCE);

	/* Expiry: valid before nonce_lifetime, refused at it. */
	good_request(f, f->ec, SIG_ECDSA, &r, &qs);
	assert_int_equal(attest(f, &r, NOW + 60, cert, &len, &info),
	    KS_E_NONCE_EXPIRED);
	good_request(f, f->ec, SIG_ECDSA, &r, &qs);
	assert_int_equal(attest(f, &r, NOW + 59, cert, &len, &info), KS_OK);

	/* A nonce never issued, and a short one. */
	good_request(f, f->ec, SIG_ECDSA, &r, &qs);
	randombytes_buf(n, sizeof(n));
	qs.nonce = n;
	r.quote_len = make_quote(&qs, r.quote, sizeof(r.quote));
	resign(&r, f->ec, SIG_ECDSA, 1);
	assert_int_equal(attest(f, &r, NOW, cert, &len, &info), KS_E_NONCE);
	qs.nonce_len = 16;
	r.quote_len = make_quote(&qs, r.quote, sizeof(r.quote));
	resign(&r, f->ec, SIG_ECDSA, 1);
	assert_int_equal(attest(f, &r, NOW, cert, &len, &info), KS_E_NONCE);

	/* Outstanding nonces are bounded; expired ones are purged. */
	f->ctx.max_nonces = 5;
	for (i = 0; i < 10; i++)
		if (ks_nonce_issue(&f->ctx, PEER, NOW + 1000, n, &exp) != KS_OK)
			break;
	assert_int_equal(i, 5);
	assert_int_equal(ks_nonce_issue(&f->ctx, PEER, NOW + 1000, n, &exp),
	    KS_E_BUSY);
	assert_int_equal(ks_nonce_issue(&f->ctx, PEER, NOW + 1060, n, &exp),
	    KS_OK);
}

/*
 * Issue 13 item 3: one address cannot take the nonce table.  4097 requests
 * from one address get its quota and then 429; another address still gets
 * a nonce.  When the table is full, the address holding the most nonces
 * loses its oldest, never one that holds fewer.
 */
static void
test_nonce_quota(void **state)
{
	struct fx *f = *state;
	uint8_t n[KS_NONCE_LEN], mine[KS_NONCE_LEN], first[KS_NONCE_LEN];
	char peer[KS_PEER_MAX];
	uint64_t exp;
	unsigned int i, ok = 0, quota = 0;
	int r;

	f->ctx.max_nonces = KS_NONCES_MAX_DEFAULT;
	f->ctx.max_nonces_per_peer = KS_NONCES_PER_PEER_DEFAULT;
	for (i = 0; i < KS_NONCES_MAX_DEFAULT + 1; i++) {
		r = ks_nonce_issue(&f->ctx, "127.0.0.1", NOW, n, &exp);
		ok += r == KS_OK;
		quota += r == KS_E_QUOTA;
	}
	assert_int_equal(ok, KS_NONCES_PER_PEER_DEFAULT);
	assert_int_equal(quota, KS_NONCES_MAX_DEFAULT + 1 -
	    KS_NONCES_PER_PEER_DEFAULT);
	assert_int_equal(ks_nonce_issue(&f->ctx, "127.0.0.2", NOW, n, &exp),
	    KS_OK);
	/* Expired nonces give the quota back. */
	assert_int_equal(ks_nonce_issue(&f->ctx, "127.0.0.1", NOW + 60, n, &exp),
	    KS_OK);

	/* Full table: 4 addresses x 16.  A newcomer evicts the oldest ... */
	f->ctx.max_nonces = 64;
	for (i = 0; i < 64; i++) {
		snprintf(peer, sizeof(peer), "192.0.2.%u", i / 16);
		assert_int_equal(ks_nonce_issue(&f->ctx, peer, NOW + 1000,
		    i == 0 ? first : n, &exp), KS_OK);
	}
	assert_int_equal(ks_nonce_issue(&f->ctx, "198.51.100.1", NOW + 1000,
	    mine, &exp), KS_OK);
	assert_int_equal(f->store->nonce_take(f->store, first, KS_NONCE_LEN,
	    NOW + 1000), SC_ERR_NOTFOUND);
	/* ... and keeps its one nonce while 40 more newcomers arrive. */
	for (i = 0; i < 40; i++) {
		snprintf(peer, sizeof(peer), "203.0.113.%u", i);
		assert_int_equal(ks_nonce_issue(&f->ctx, peer, NOW + 1000, n,
		    &exp), KS_OK);
	}
	assert_int_equal(f->store->nonce_take(f->store, mine, KS_NONCE_LEN,
	    NOW + 1000), 0);
	/* Everyone holding one each: the table is full for real. */
	f->ctx.max_nonces = 2;
	f->ctx.max_nonces_per_peer = 0;
	assert_int_equal(f->store->nonce_put(f->store, n, "x", NOW + 3000,
	    NOW + 2000, 2, 0), 0);
	randombytes_buf(n, sizeof(n));
	assert_int_equal(f->store->nonce_put(f->store, n, "y", NOW + 3000,
	    NOW + 2000, 2, 0), 0);
	assert_int_equal(ks_nonce_issue(&f->ctx, "z", NOW + 2000, n, &exp),
	    KS_E_BUSY);
}

/*
 * Issue 13 item 4: an attempt for a host that is not enrolled leaves no
 * audit row, whatever is wrong with it; one for an enrolled host does.
 */
static void
test_audit_rows(void **state)
{
	struct fx *f = *state;
	struct ks_attest_req r;
	struct ks_attest_info info;
	struct qspec qs;
	uint8_t cert[KS_CERT_MAX];
	uint64_t rows;
	size_t len;
	int res;

	good_request(f, f->ec, SIG_ECDSA, &r, &qs);
	snprintf(r.host, sizeof(r.host), "not-enrolled");
	memset(r.quote, 0xee, r.quote_len);	/* malformed quote */
	res = attest(f, &r, NOW, cert, &len, &info);
	assert_int_not_equal(res, KS_OK);
	assert_int_equal(info.enrolled, 0);
	assert_int_equal(ks_attest_record(&f->ctx, &r, res, &info, NOW), 0);
	good_request(f, f->ec, SIG_ECDSA, &r, &qs);	/* well-formed, unknown */
	res = attest(f, &r, NOW, cert, &len, &info);
	assert_int_equal(res, KS_E_UNKNOWN_HOST);
	assert_int_equal(ks_attest_record(&f->ctx, &r, res, &info, NOW), 0);
	assert_int_equal(f->store->log_count(f->store, NULL, &rows), 0);
	assert_int_equal(rows, 0);

	enroll(f, HOST, f->ec, POLICY_MASK);
	good_request(f, f->ec, SIG_ECDSA, &r, &qs);
	memset(r.quote, 0xee, r.quote_len);
	res = attest(f, &r, NOW, cert, &len, &info);
	assert_int_equal(info.enrolled, 1);
	assert_int_equal(ks_attest_record(&f->ctx, &r, res, &info, NOW), 0);
	assert_int_equal(f->store->log_count(f->store, HOST, &rows), 0);
	assert_int_equal(rows, 1);
}

static void
test_attest_host_state(void **state)
{
	struct fx *f = *state;
	struct ks_attest_req r;
	struct ks_attest_info info;
	struct qspec qs;
	uint8_t cert[KS_CERT_MAX];
	size_t len;
	uint64_t exp;

	good_request(f, f->ec, SIG_ECDSA, &r, &qs);
	assert_int_equal(attest(f, &r, NOW, cert, &len, &info),
	    KS_E_UNKNOWN_HOST);
	enroll(f, HOST, f->ec, POLICY_MASK);
	good_request(f, f->ec, SIG_ECDSA, &r, &qs);
	assert_int_equal(attest(f, &r, NOW, cert, &len, &info), KS_OK);
	assert_int_equal(ks_revoke(&f->ctx, HOST, NOW), KS_OK);
	assert_int_equal(ks_cert_fetch(&f->ctx, HOST, NOW, cert, sizeof(cert),
	    &len, &exp), KS_E_REVOKED);
	good_request(f, f->ec, SIG_ECDSA, &r, &qs);
	assert_int_equal(attest(f, &r, NOW, cert, &len, &info), KS_E_REVOKED);
	assert_int_equal(ks_revoke(&f->ctx, "nobody", NOW), KS_E_UNKNOWN_HOST);
	assert_int_equal(ks_delete(&f->ctx, HOST), KS_OK);
	assert_int_equal(ks_cert_fetch(&f->ctx, HOST, NOW, cert, sizeof(cert),
	    &len, &exp), KS_E_UNKNOWN_HOST);
	assert_int_equal(ks_delete(&f->ctx, HOST), KS_E_UNKNOWN_HOST);
}

/*
 * EK path in the core: no bare AK without insecure_ak; an EK certificate
 * needs a CA bundle; an AK whose challenge is unanswered gets no
 * certificate, then the right secret activates it (once).
 */
static void
test_attest_activation(void **state)
{
	struct fx *f = *state;
	struct ks_enroll_req er;
	struct ks_activate_req ar;
	struct ks_attest_req r;
	struct ks_attest_info info;
	struct ks_host h;
	struct qspec qs;
	uint8_t cert[KS_CERT_MAX], secret[KS_ACT_SECRET_LEN];
	char why[KS_WHY_MAX];
	size_t len;

	memset(&er, 0, sizeof(er));
	snprintf(er.name, sizeof(er.name), "%s", HOST);
	er.ak_len = spki_of(f->ec, er.ak);
	er.policy.pcr_mask = POLICY_MASK;
	er.policy.key_pcr = KEY_PCR;
	memcpy(er.policy.pcrs[0], f->pcrs[0], KS_DIGEST_LEN);
	memcpy(er.policy.pcrs[7], f->pcrs[7], KS_DIGEST_LEN);
	assert_int_equal(ks_enroll(&f->ctx, &er, NOW, &h, why), KS_E_BAD_FIELD);
	er.ek_cert_len = 3;
	memcpy(er.ek_cert, "\x30\x01\x00", 3);
	assert_int_equal(ks_enroll(&f->ctx, &er, NOW, &h, why),
	    KS_E_EK_UNTRUSTED);	/* no bundle configured */

	/* A pending challenge stored as an EK enrollment leaves it. */
	memset(&h, 0, sizeof(h));
	snprintf(h.name, sizeof(h.name), "%s", HOST);
	h.ak_spki_len = spki_of(f->ec, h.ak_spki);
	snprintf(h.ak_desc, sizeof(h.ak_desc), "ecc-p256");
	h.policy = er.policy;
	h.enrolled = NOW;
	h.ak_ek = 1;
	randombytes_buf(secret, sizeof(secret));
	crypto_hash_sha256(h.act_digest, secret, sizeof(secret));
	h.act_expires = NOW + 60;
	h.cred_blob_len = h.cred_enc_len = 4;
	assert_int_equal(f->ctx.store->host_add(f->ctx.store, &h), 0);
	good_request(f, f->ec, SIG_ECDSA, &r, &qs);
	assert_int_equal(attest(f, &r, NOW, cert, &len, &info),
	    KS_E_AK_NOT_ACTIVATED);
	assert_int_equal(len, 0);
	assert_int_equal(ks_activation_get(&f->ctx, HOST, NOW, &h, why), KS_OK);
	assert_int_equal(ks_activation_get(&f->ctx, HOST, NOW + 60, &h, why),
	    KS_E_ACTIVATION_EXPIRED);
	assert_int_equal(ks_activation_get(&f->ctx, "nobody", NOW, &h, why),
	    KS_E_UNKNOWN_HOST);

	memset(&ar, 0, sizeof(ar));
	snprintf(ar.host, sizeof(ar.host), "%s", HOST);
	memcpy(ar.secret, secret, sizeof(secret));
	assert_int_equal(ks_activate(&f->ctx, &ar, NOW, why), KS_OK);
	assert_int_equal(ks_activate(&f->ctx, &ar, NOW, why), KS_E_ACTIVATION);
	assert_int_equal(ks_activation_get(&f->ctx, HOST, NOW, &h, why),
	    KS_E_NO_ACTIVATION);
	good_request(f, f->ec, SIG_ECDSA, &r, &qs);
	assert_int_equal(attest(f, &r, NOW, cert, &len, &info), KS_OK);
}

static void
test_attest_pcrs(void **state)
{
	struct fx *f = *state;
	struct ks_attest_req r;
	struct ks_attest_info info;
	struct qspec qs;
	uint8_t cert[KS_CERT_MAX], other[32];
	size_t len;

	enroll(f, HOST, f->ec, POLICY_MASK);

	/* Posted value differs from what the TPM quoted. */
	good_request(f, f->ec, SIG_ECDSA, &r, &qs);
	r.pcrs[0][0] ^= 1;
	assert_int_equal(attest(f, &r, NOW, cert, &len, &info), KS_E_PCR_DIGEST);

	/* Quoted and posted consistently, but not the golden boot chain. */
	good_request(f, f->ec, SIG_ECDSA, &r, &qs);
	r.pcrs[7][5] ^= 1;
	ks_pcr_composite(r.pcrs, r.pcr_mask, qs.digest);
	r.quote_len = make_quote(&qs, r.quote, sizeof(r.quote));
	resign(&r, f->ec, SIG_ECDSA, 1);
	assert_int_equal(attest(f, &r, NOW, cert, &len, &info), KS_E_PCR_POLICY);
	assert_int_equal(info.bad_pcr, 7);

	/* dom0 posts its own key: the key PCR holds the hv's. */
	good_request(f, f->ec, SIG_ECDSA, &r, &qs);
	randombytes_buf(other, sizeof(other));
	memcpy(r.hv_pubkey, other, 32);
	assert_int_equal(attest(f, &r, NOW, cert, &len, &info), KS_E_KEY_PCR);

	/* ... and extends its own key on top: still not a single extend. */
	good_request(f, f->ec, SIG_ECDSA, &r, &qs);
	{
		uint8_t buf[64];

		memcpy(buf, r.pcrs[KEY_PCR], 32);
		crypto_hash_sha256(buf + 32, other, 32);
		crypto_hash_sha256(r.pcrs[KEY_PCR], buf, 64);
	}
	memcpy(r.hv_pubkey, other, 32);
	ks_pcr_composite(r.pcrs, r.pcr_mask, qs.digest);
	r.quote_len = make_quote(&qs, r.quote, sizeof(r.quote));
	resign(&r, f->ec, SIG_ECDSA, 1);
	assert_int_equal(attest(f, &r, NOW, cert, &len, &info), KS_E_KEY_PCR);

	/* Selections: too few, too many, posted set differs, other banks. */
	good_request(f, f->ec, SIG_ECDSA, &r, &qs);
	qs.mask &= ~(1u << 7);
	r.quote_len = make_quote(&qs, r.quote, sizeof(r.quote));
	resign(&r, f->ec, SIG_ECDSA, 1);
	assert_int_equal(attest(f, &r, NOW, cert, &len, &info),
	    KS_E_PCR_SELECTION);
	good_request(f, f->ec, SIG_ECDSA, &r, &qs);
	qs.mask |= 1u << 3;
	r.quote_len = make_quote(&qs, r.quote, sizeof(r.quote));
	resign(&r, f->ec, SIG_ECDSA, 1);
	assert_int_equal(attest(f, &r, NOW, cert, &len, &info),
	    KS_E_PCR_SELECTION);
	good_request(f, f->ec, SIG_ECDSA, &r, &qs);
	r.pcr_mask |= 1u << 3;
	assert_int_equal(attest(f, &r, NOW, cert, &len, &info),
	    KS_E_PCR_SELECTION);
	good_request(f, f->ec, SIG_ECDSA, &r, &qs);
	qs.bank = TPM2_ALG_SHA1;
	r.quote_len = make_quote(&qs, r.quote, sizeof(r.quote));
	resign(&r, f->ec, SIG_ECDSA, 1);
	assert_int_equal(attest(f, &r, NOW, cert, &len, &info),
	    KS_E_PCR_SELECTION);
	good_request(f, f->ec, SIG_ECDSA, &r, &qs);
	qs.bank = TPM2_ALG_SHA256;
	qs.two_banks = 1;
	r.quote_len = make_quote(&qs, r.quote, sizeof(r.quote));
	resign(&r, f->ec, SIG_ECDSA, 1);
	assert_int_equal(attest(f, &r, NOW, cert, &len, &info),
	    KS_E_PCR_SELECTION);
}

/*
 * Issue 12 item 6: a resettable key PCR or an empty boot policy is refused
 * at enrollment, and a host stored with one (an older enrollment) gets no
 * certificate even with a quote that matches it.
 */
static void
test_unsafe_policy(void **state)
{
	struct fx *f = *state;
	struct ks_enroll_req er;
	struct ks_attest_req r;
	struct ks_attest_info info;
	struct ks_host h;
	struct qspec qs;
	uint8_t cert[KS_CERT_MAX];
	char why[KS_WHY_MAX];
	size_t len;

	memset(&er, 0, sizeof(er));
	snprintf(er.name, sizeof(er.name), "%s", HOST);
	er.ak_len = spki_of(f->ec, er.ak);
	er.policy.pcr_mask = POLICY_MASK;
	er.policy.key_pcr = 16;
	assert_int_equal(ks_enroll(&f->ctx, &er, NOW, &h, why), KS_E_BAD_FIELD);
	er.policy.key_pcr = 23;
	assert_int_equal(ks_enroll(&f->ctx, &er, NOW, &h, why), KS_E_BAD_FIELD);
	er.policy.key_pcr = KEY_PCR;
	er.policy.pcr_mask = 0;
	assert_int_equal(ks_enroll(&f->ctx, &er, NOW, &h, why), KS_E_BAD_FIELD);

	/* Stored behind the API's back: key PCR 16, which dom0 can reset. */
	memset(&h, 0, sizeof(h));
	snprintf(h.name, sizeof(h.name), "%s", HOST);
	h.ak_spki_len = spki_of(f->ec, h.ak_spki);
	snprintf(h.ak_desc, sizeof(h.ak_desc), "ecc-p256");
	h.policy.pcr_mask = POLICY_MASK;
	memcpy(h.policy.pcrs[0], f->pcrs[0], KS_DIGEST_LEN);
	memcpy(h.policy.pcrs[7], f->pcrs[7], KS_DIGEST_LEN);
	h.policy.key_pcr = 16;
	h.enrolled = NOW;
	h.ak_activated = 1;
	assert_int_equal(f->store->host_add(f->store, &h), 0);
	good_request(f, f->ec, SIG_ECDSA, &r, &qs);
	memcpy(r.pcrs[16], r.pcrs[KEY_PCR], KS_DIGEST_LEN);
	r.pcr_mask = qs.mask = POLICY_MASK | (1u << 16);
	ks_pcr_composite(r.pcrs, r.pcr_mask, qs.digest);
	r.quote_len = make_quote(&qs, r.quote, sizeof(r.quote));
	resign(&r, f->ec, SIG_ECDSA, 1);
	assert_int_equal(attest(f, &r, NOW, cert, &len, &info), KS_E_PCR_POLICY);
}

static void
test_attest_quote_and_sig_format(void **state)
{
	struct fx *f = *state;
	struct ks_attest_req r, t;
	struct ks_attest_info info;
	struct qspec qs;
	uint8_t cert[KS_CERT_MAX];
	size_t len, i;
	int res;

	enroll(f, HOST, f->ec, POLICY_MASK);

	good_request(f, f->ec, SIG_ECDSA, &r, &qs);
	qs.magic = 0xff544348;
	r.quote_len = make_quote(&qs, r.quote, sizeof(r.quote));
	resign(&r, f->ec, SIG_ECDSA, 1);
	assert_int_equal(attest(f, &r, NOW, cert, &len, &info),
	    KS_E_QUOTE_INVALID);
	good_request(f, f->ec, SIG_ECDSA, &r, &qs);
	qs.type = TPM2_ST_ATTEST_CERTIFY;
	r.quote_len = make_quote(&qs, r.quote, sizeof(r.quote));
	resign(&r, f->ec, SIG_ECDSA, 1);
	assert_int_equal(attest(f, &r, NOW, cert, &len, &info),
	    KS_E_QUOTE_INVALID);

	/* Every truncation and one trailing byte are malformed. */
	good_request(f, f->ec, SIG_ECDSA, &r, &qs);
	for (i = 0; i < r.quote_len; i++) {
		t = r;
		t.quote_len = i;
		res = attest(f, &t, NOW, cert, &len, &info);
		assert_true(res == KS_E_QUOTE_MALFORMED ||
		    /* cutting the TPM2B leaves a bare TPMS_ATTEST prefix */
		    res == KS_E_QUOTE_INVALID);
	}
	t = r;
	t.quote[t.quote_len++] = 0;
	assert_int_equal(attest(f, &t, NOW, cert, &len, &info),
	    KS_E_QUOTE_MALFORMED);

	/* Signature: every truncation, a SHA-1 signature, garbage. */
	good_request(f, f->ec, SIG_ECDSA, &r, &qs);
	for (i = 0; i < r.sig_len; i++) {
		t = r;
		t.sig_len = i;
		res = attest(f, &t, NOW, cert, &len, &info);
		assert_true(res == KS_E_SIG_MALFORMED || res == KS_E_NONCE);
	}
	good_request(f, f->ec, SIG_ECDSA, &r, &qs);
	r.sig_len = sign_quote(f->ec, SIG_ECDSA, TPM2_ALG_SHA1, r.quote + 2,
	    r.quote_len - 2, r.sig, sizeof(r.sig));
	assert_int_equal(attest(f, &r, NOW, cert, &len, &info),
	    KS_E_SIG_UNSUPPORTED);
	good_request(f, f->ec, SIG_ECDSA, &r, &qs);
	memset(r.sig, 0x5a, r.sig_len);
	res = attest(f, &r, NOW, cert, &len, &info);
	assert_true(res == KS_E_SIG_MALFORMED || res == KS_E_SIG_UNSUPPORTED);
}

static void
test_ak_import(void **state)
{
	struct fx *f = *state;
	uint8_t in[KS_AKPEM_MAX], spki[KS_SPKI_MAX], spki2[KS_SPKI_MAX];
	char desc[16];
	size_t n, sl;
	int restricted;
	BIO *bio;
	char *pem;
	long pl;
	EVP_PKEY *ed, *p384;

	/* TPM2B_PUBLIC of a proper AK: accepted, attributes checked. */
	n = tpm2b_public_ec(f->ec, AK_ATTRS, TPM2_ECC_NIST_P256, in, sizeof(in));
	assert_int_equal(ks_ak_import(in, n, spki, sizeof(spki), &sl, &restricted,
	    desc, sizeof(desc)), 0);
	assert_int_equal(restricted, 1);
	assert_string_equal(desc, "ecc-p256");
	assert_int_equal(spki_of(f->ec, spki2), sl);
	assert_memory_equal(spki, spki2, sl);
	/* Not restricted, or also a decryption key: refused. */
	n = tpm2b_public_ec(f->ec, AK_ATTRS & ~TPMA_OBJECT_RESTRICTED,
	    TPM2_ECC_NIST_P256, in, sizeof(in));
	assert_int_equal(ks_ak_import(in, n, spki, sizeof(spki), &sl, &restricted,
	    desc, sizeof(desc)), SC_ERR_BADKEY);
	n = tpm2b_public_ec(f->ec, AK_ATTRS | TPMA_OBJECT_DECRYPT,
	    TPM2_ECC_NIST_P256, in, sizeof(in));
	assert_int_equal(ks_ak_import(in, n, spki, sizeof(spki), &sl, &restricted,
	    desc, sizeof(desc)), SC_ERR_BADKEY);
	n = tpm2b_public_ec(f->ec, AK_ATTRS, TPM2_ECC_NIST_P384, in, sizeof(in));
	assert_int_equal(ks_ak_import(in, n, spki, sizeof(spki), &sl, &restricted,
	    desc, sizeof(desc)), SC_ERR_UNSUPPORTED);
	/* A point off the curve. */
	n = tpm2b_public_ec(f->ec, AK_ATTRS, TPM2_ECC_NIST_P256, in, sizeof(in));
	in[n - 1] ^= 1;
	assert_int_equal(ks_ak_import(in, n, spki, sizeof(spki), &sl, &restricted,
	    desc, sizeof(desc)), SC_ERR_BADKEY);

	/* PEM and DER SubjectPublicKeyInfo. */
	bio = BIO_new(BIO_s_mem());
	assert_int_equal(PEM_write_bio_PUBKEY(bio, f->ec), 1);
	pl = BIO_get_mem_data(bio, &pem);
	assert_int_equal(ks_ak_import((uint8_t *)pem, (size_t)pl, spki,
	    sizeof(spki), &sl, &restricted, desc, sizeof(desc)), 0);
	assert_int_equal(restricted, 0);
	assert_memory_equal(spki, spki2, sl);
	BIO_free(bio);
	n = spki_of(f->ec, in);
	assert_int_equal(ks_ak_import(in, n, spki, sizeof(spki), &sl, &restricted,
	    desc, sizeof(desc)), 0);
	in[n - 1] ^= 0x40;	/* now off the curve or invalid */
	assert_true(ks_ak_import(in, n, spki, sizeof(spki), &sl, &restricted,
	    desc, sizeof(desc)) < 0);

	/* Other key types are refused. */
	ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	p384 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	n = spki_of(ed, in);
	assert_int_equal(ks_ak_import(in, n, spki, sizeof(spki), &sl, &restricted,
	    desc, sizeof(desc)), SC_ERR_UNSUPPORTED);
	n = spki_of(p384, in);
	assert_int_equal(ks_ak_import(in, n, spki, sizeof(spki), &sl, &restricted,
	    desc, sizeof(desc)), SC_ERR_UNSUPPORTED);
	EVP_PKEY_free(ed);
	EVP_PKEY_free(p384);
	assert_int_equal(ks_ak_import((const uint8_t *)"garbage!", 8, spki,
	    sizeof(spki), &sl, &restricted, desc, sizeof(desc)), SC_ERR_FORMAT);
}

/* sign() on s must refuse every variation of good evidence below. */
static void
signer_refuses_bad_evidence(struct fx *f, struct ks_signer *s,
    const struct ks_host *h, const struct ks_attest_req *r, uint64_t now)
{
	struct ks_host h2;
	struct ks_attest_req r2;
	uint8_t cert[KS_CERT_MAX];
	size_t len = 1;

	/* Lifetime beyond its limit, or none, and times off its own clock. */
	assert_true(s->sign(s, h, r, now, now + 3601, cert, sizeof(cert),
	    &len) < 0);
	assert_int_equal(len, 0);
	assert_true(s->sign(s, h, r, now, now, cert, sizeof(cert), &len) < 0);
	assert_true(s->sign(s, h, r, now - KS_SIGN_SKEW - 1, now + 60, cert,
	    sizeof(cert), &len) < 0);
	/* (Far enough ahead that a slow run cannot bring it into range.) */
	assert_true(s->sign(s, h, r, now + 10 * KS_SIGN_SKEW, now + 11 *
	    KS_SIGN_SKEW, cert, sizeof(cert), &len) < 0);
	/*
	 * (Which name an AK is enrolled under is the database's, which the
	 * network process keeps: the signer cannot check that binding.)
	 */
	/* dom0's own hv key, which the key PCR does not hold. */
	r2 = *r;
	randombytes_buf(r2.hv_pubkey, sizeof(r2.hv_pubkey));
	assert_true(s->sign(s, h, &r2, now, now + 60, cert, sizeof(cert),
	    &len) < 0);
	/* A quote the enrolled AK did not sign, or signed by another AK. */
	r2 = *r;
	r2.sig[r2.sig_len - 3] ^= 1;
	assert_true(s->sign(s, h, &r2, now, now + 60, cert, sizeof(cert),
	    &len) < 0);
	h2 = *h;
	h2.ak_spki_len = spki_of(f->rsa, h2.ak_spki);
	assert_true(s->sign(s, &h2, r, now, now + 60, cert, sizeof(cert),
	    &len) < 0);
	/* Boot chain not the golden one; a policy that protects nothing. */
	h2 = *h;
	h2.policy.pcrs[7][0] ^= 1;
	assert_true(s->sign(s, &h2, r, now, now + 60, cert, sizeof(cert),
	    &len) < 0);
	h2 = *h;
	h2.policy.key_pcr = 16;
	assert_true(s->sign(s, &h2, r, now, now + 60, cert, sizeof(cert),
	    &len) < 0);
	r2 = *r;
	memset(r2.quote, 0xee, r2.quote_len);
	assert_true(s->sign(s, h, &r2, now, now + 60, cert, sizeof(cert),
	    &len) < 0);
	assert_int_equal(len, 0);
}

/*
 * Issue 13 item 6: the signer signs only what it has checked itself, in
 * the separate process (its own clock) and in process (the fixture's).
 */
static void
test_signers(void **state)
{
	struct fx *f = *state;
	struct ks_signer *ps;
	struct ks_attest_req r;
	struct ks_host h;
	struct qspec qs;
	struct sc_cert c;
	uint8_t cert[KS_CERT_MAX], pk_new[32];
	char path[256], old[300];
	uint64_t now = (uint64_t)time(NULL);
	size_t len;
	int created = 1, pid = 0;
	struct stat st;

	f->rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	assert_non_null(f->rsa);
	enroll(f, HOST, f->ec, POLICY_MASK);
	assert_int_equal(f->store->host_get(f->store, HOST, &h), 0);
	good_request(f, f->ec, SIG_ECDSA, &r, &qs);

	snprintf(path, sizeof(path), "%s/signing.key", tmpdir);
	/* The separate signing process loads the same key. */
	assert_int_equal(ks_signer_privsep(path, NULL, 3600, NULL, &ps, &created, &pid), 0);
	assert_int_equal(created, 0);
	assert_true(pid > 0);
	assert_memory_equal(ps->pk, f->signer->pk, 32);
	assert_int_equal(ps->sign(ps, &h, &r, now, now + 3600, cert,
	    sizeof(cert), &len), 0);
	assert_int_equal(sc_cert_verify(cert, len, f->signer->pk, HOST, f->hv_pk,
	    now, &c), 0);
	assert_int_equal(c.expires, now + 3600);
	assert_memory_equal(c.pcr_digest, qs.digest, 32);
	signer_refuses_bad_evidence(f, ps, &h, &r, now);
	/* Still serving after all those refusals. */
	assert_int_equal(ps->sign(ps, &h, &r, now, now + 60, cert,
	    sizeof(cert), &len), 0);
	ps->close(ps);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 077, 0);

	/* The in-process signer makes the same checks. */
	assert_int_equal(f->signer->sign(f->signer, &h, &r, NOW, NOW + 3600,
	    cert, sizeof(cert), &len), 0);
	signer_refuses_bad_evidence(f, f->signer, &h, &r, NOW);
	/* The bounds exactly (the fixture's clock is NOW). */
	assert_int_equal(f->signer->sign(f->signer, &h, &r, NOW + KS_SIGN_SKEW,
	    NOW + KS_SIGN_SKEW + 3600, cert, sizeof(cert), &len), 0);
	assert_int_equal(f->signer->sign(f->signer, &h, &r, NOW - KS_SIGN_SKEW,
	    NOW + 1, cert, sizeof(cert), &len), 0);
	assert_true(f->signer->sign(f->signer, &h, &r, NOW + KS_SIGN_SKEW + 1,
	    NOW + KS_SIGN_SKEW + 2, cert, sizeof(cert), &len) < 0);

	/* A key others can read, or that is not ours, is refused. */
	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(ks_signer_local(path, NULL, 3600, &ps, &created),
	    SC_ERR_PERM);
	assert_int_equal(chmod(path, 0600), 0);
	if (geteuid() == 0) {
		assert_int_equal(chown(path, 65534, (gid_t)-1), 0);
		assert_int_equal(ks_signer_local(path, NULL, 3600, &ps, &created),
		    SC_ERR_PERM);
		assert_int_equal(chown(path, 0, (gid_t)-1), 0);
	}

	/* Rotation keeps the old key and writes a new one. */
	assert_int_equal(ks_signer_rotate(path, pk_new), 0);
	snprintf(old, sizeof(old), "%s.old", path);
	assert_int_equal(stat(old, &st), 0);
	assert_memory_not_equal(pk_new, f->signer->pk, 32);
	assert_int_equal(ks_signer_local(path, NULL, 3600, &ps, &created), 0);
	assert_int_equal(created, 0);
	assert_memory_equal(ps->pk, pk_new, 32);
	ps->close(ps);
}

/*
 * The signer's ownership-token request (ks_owner_req_decode):
 * canonical round trip; the signing process refuses, from a network
 * process it does not trust, every request that is not one: other tag,
 * truncated, trailing bytes, 0 or too many entries, and an ACL no blob can
 * carry (unknown flag, no owner, a key twice); the privsep signer's token
 * verifies under its owner CA, and it keeps serving after refusals.
 */
static void
test_owner_req(void **state)
{
	struct sc_acl_entry acl[KS_OWNER_ACL_MAX], got[KS_OWNER_ACL_MAX];
	uint8_t uuid[KS_UUID_LEN], u2[KS_UUID_LEN], buf[KS_OWNER_REQ_MAX + 1];
	uint8_t bad[KS_OWNER_REQ_MAX + 1], token[KS_OWNER_TOKEN_LEN];
	struct ks_signer *ps;
	char path[256], opath[256];
	size_t len, i;
	unsigned n;
	int created = 0, pid = 0;

	(void)state;
	memset(acl, 0, sizeof(acl));
	randombytes_buf(uuid, sizeof(uuid));
	randombytes_buf(acl[0].pubkey, SC_KEY_LEN);
	randombytes_buf(acl[1].pubkey, SC_KEY_LEN);
	acl[0].flags = SC_ACL_F_OWNER;
	assert_int_equal(ks_owner_req_encode(uuid, acl, 2, buf, sizeof(buf),
	    &len), 0);
	assert_int_equal(len, 1 + KS_UUID_LEN + 1 + 2 * (SC_KEY_LEN + 1));
	assert_int_equal(ks_owner_req_decode(buf, len, u2, got, &n), 0);
	assert_int_equal(n, 2);
	assert_memory_equal(u2, uuid, KS_UUID_LEN);
	assert_memory_equal(got, acl, 2 * sizeof(acl[0]));

	/* Not a request: every shorter prefix, a byte more, another tag. */
	for (i = 0; i < len; i++)
		assert_int_equal(ks_owner_req_decode(buf, i, u2, got, &n),
		    SC_ERR_FORMAT);
	memcpy(bad, buf, len);
	bad[len] = 0;
	assert_int_equal(ks_owner_req_decode(bad, len + 1, u2, got, &n),
	    SC_ERR_FORMAT);
	bad[0] = 1;
	assert_int_equal(ks_owner_req_decode(bad, len, u2, got, &n),
	    SC_ERR_FORMAT);
	/* Counts out of 1..KS_OWNER_ACL_MAX. */
	memcpy(bad, buf, len);
	bad[1 + KS_UUID_LEN] = 0;
	assert_int_equal(ks_owner_req_decode(bad, 1 + KS_UUID_LEN + 1, u2, got,
	    &n), SC_ERR_FORMAT);
	memset(bad, 0, sizeof(bad));
	bad[1 + KS_UUID_LEN] = KS_OWNER_ACL_MAX + 1;
	for (i = 0; i <= KS_OWNER_ACL_MAX; i++)
		bad[1 + KS_UUID_LEN + 1 + i * (SC_KEY_LEN + 1)] = (uint8_t)i;
	assert_int_equal(ks_owner_req_decode(bad, sizeof(bad), u2, got, &n),
	    SC_ERR_FORMAT);
	/* ACLs no blob can carry: the signer signs none of them. */
	memcpy(bad, buf, len);
	bad[1 + KS_UUID_LEN + 1 + SC_KEY_LEN] = SC_ACL_F_OWNER | 0x02;
	assert_int_equal(ks_owner_req_decode(bad, len, u2, got, &n),
	    SC_ERR_FORMAT);
	bad[1 + KS_UUID_LEN + 1 + SC_KEY_LEN] = 0;
	assert_int_equal(ks_owner_req_decode(bad, len, u2, got, &n),
	    SC_ERR_FORMAT);			/* no owner */
	memcpy(bad, buf, len);
	memcpy(bad + 1 + KS_UUID_LEN + 1 + SC_KEY_LEN + 1,
	    bad + 1 + KS_UUID_LEN + 1, SC_KEY_LEN);
	assert_int_equal(ks_owner_req_decode(bad, len, u2, got, &n),
	    SC_ERR_FORMAT);			/* the owner's key twice */
	assert_int_equal(n, 0);
	/* The network side encodes none of them either. */
	acl[1].flags = 0x02;
	assert_int_equal(ks_owner_req_encode(uuid, acl, 2, buf, sizeof(buf),
	    &len), SC_ERR_INVAL);
	acl[1].flags = 0;
	assert_int_equal(ks_owner_req_encode(uuid, acl, 0, buf, sizeof(buf),
	    &len), SC_ERR_INVAL);

	/* End to end through the signing process. */
	snprintf(path, sizeof(path), "%s/signing.key", tmpdir);
	snprintf(opath, sizeof(opath), "%s/owner-ca.key", tmpdir);
	assert_int_equal(ks_signer_privsep(path, opath, 3600, NULL, &ps,
	    &created, &pid), 0);
	assert_true(ps->have_owner_ca);
	assert_int_equal(ps->sign_owner(ps, uuid, acl, 2, token), 0);
	assert_int_equal(sc_owner_verify(sc_crypto_sodium(), ps->owner_ca_pk,
	    uuid, acl, 2, token), 0);
	memcpy(acl[1].pubkey, acl[0].pubkey, SC_KEY_LEN);
	assert_int_equal(ps->sign_owner(ps, uuid, acl, 2, token), SC_ERR_INVAL);
	randombytes_buf(acl[1].pubkey, SC_KEY_LEN);
	assert_int_equal(ps->sign_owner(ps, uuid, acl, 2, token), 0);
	assert_int_equal(sc_owner_verify(sc_crypto_sodium(), ps->owner_ca_pk,
	    uuid, acl, 2, token), 0);
	ps->close(ps);
}

/* Issue 13 item 10: the client address, behind a trusted proxy or not. */
static void
test_peer(void **state)
{
	struct ks_proxy_cfg cfg;
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
	char out[KS_PEER_MAX], via[KS_PEER_MAX];
	unsigned int i;

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	/* No trusted proxy: the header is the client's to choose, ignored. */
	assert_int_equal(ks_peer_resolve((struct sockaddr *)&sin, &cfg,
	    "10.0.0.1", out, via), 0);
	assert_string_equal(out, "127.0.0.1");
	assert_string_equal(via, "");

	assert_int_equal(ks_proxy_add(&cfg, "127.0.0.1"), 0);
	assert_int_equal(ks_proxy_add(&cfg, "proxy.example"), SC_ERR_FORMAT);
	assert_int_equal(ks_proxy_add(&cfg, "127.0.0.1/8"), SC_ERR_FORMAT);
	/* Only the rightmost element: the one the proxy appended. */
	assert_int_equal(ks_peer_resolve((struct sockaddr *)&sin, &cfg,
	    "10.9.9.9, 192.0.2.7", out, via), 1);
	assert_string_equal(out, "192.0.2.7");
	assert_string_equal(via, "127.0.0.1");
	assert_int_equal(ks_peer_resolve((struct sockaddr *)&sin, &cfg,
	    " 2001:db8::5 ", out, via), 1);
	assert_string_equal(out, "2001:db8::5");
	assert_int_equal(ks_peer_resolve((struct sockaddr *)&sin, &cfg, NULL, out,
	    via), SC_ERR_FORMAT);
	assert_string_equal(out, "127.0.0.1");
	assert_int_equal(ks_peer_resolve((struct sockaddr *)&sin, &cfg,
	    "192.0.2.7, bogus", out, via), SC_ERR_FORMAT);
	assert_int_equal(ks_peer_resolve((struct sockaddr *)&sin, &cfg,
	    "192.0.2.7 10.0.0.1", out, via), SC_ERR_FORMAT);
	assert_string_equal(out, "127.0.0.1");
	/* Another address is not the proxy, header or not. */
	inet_pton(AF_INET, "127.0.0.2", &sin.sin_addr);
	assert_int_equal(ks_peer_resolve((struct sockaddr *)&sin, &cfg,
	    "192.0.2.7", out, via), 0);
	assert_string_equal(out, "127.0.0.2");
	/* The proxy over IPv6 as a v4-mapped address is the same proxy. */
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	inet_pton(AF_INET6, "::ffff:127.0.0.1", &sin6.sin6_addr);
	assert_int_equal(ks_peer_resolve((struct sockaddr *)&sin6, &cfg,
	    "192.0.2.8", out, via), 1);
	assert_string_equal(out, "192.0.2.8");
	assert_int_equal(ks_peer_resolve(NULL, &cfg, "192.0.2.8", out, via), 0);
	assert_string_equal(out, "?");
	for (i = 1; i < KS_PROXIES_MAX; i++)
		assert_int_equal(ks_proxy_add(&cfg, "::1"), 0);
	assert_int_equal(ks_proxy_add(&cfg, "::1"), SC_ERR_LIMIT);

	/* Quota keys: IPv4 as is, IPv6 by /64. */
	ks_peer_key("192.0.2.7", out);
	assert_string_equal(out, "192.0.2.7");
	ks_peer_key("2001:db8:1:2:3:4:5:6", out);
	assert_string_equal(out, "2001:db8:1:2::/64");
	ks_peer_key("2001:db8:1:2::ffff", out);
	assert_string_equal(out, "2001:db8:1:2::/64");
	ks_peer_key("local", out);
	assert_string_equal(out, "local");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_pcr_value),
		cmocka_unit_test(test_pcr_composite),
		cmocka_unit_test_setup_teardown(test_attest_ok_each_alg, setup, teardown),
		cmocka_unit_test_setup_teardown(test_attest_nonce, setup, teardown),
		cmocka_unit_test_setup_teardown(test_attest_host_state, setup, teardown),
		cmocka_unit_test_setup_teardown(test_attest_pcrs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_attest_activation, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_unsafe_policy, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_nonce_quota, setup, teardown),
		cmocka_unit_test_setup_teardown(test_audit_rows, setup, teardown),
		cmocka_unit_test(test_peer),
		cmocka_unit_test_setup_teardown(test_attest_quote_and_sig_format,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_ak_import, setup, teardown),
		cmocka_unit_test_setup_teardown(test_signers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_owner_req, setup, teardown),
	};

	if (sc_lib_init() < 0)
		return 1;
	ks_tss2_quiet();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
