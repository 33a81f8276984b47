/*
 * ks_cred.c — TPM2_MakeCredential in software (see ks_cred.h).
 *
 * TPM 2.0 Part 1 §24 with an RSA EK (nameAlg SHA-256, AES-128-CFB):
 *   seed      = 32 random bytes
 *   enc       = RSA-OAEP-SHA256(EK, seed, label "IDENTITY\0")
 *   symKey    = KDFa(SHA256, seed, "STORAGE", name, "", 128)
 *   encIdent  = AES-128-CFB(symKey, IV 0, TPM2B_DIGEST(secret))
 *   hmacKey   = KDFa(SHA256, seed, "INTEGRITY", "", "", 256)
 *   hmac      = HMAC-SHA256(hmacKey, encIdent || name)
 *   blob      = TPM2B_ID_OBJECT(TPM2B_DIGEST(hmac) || encIdent)
 */
#include "config.h"

#include <string.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <sodium.h>
#include <tss2/tss2_mu.h>

#include "core/buf.h"
#include "core/err.h"
#include "ks_cred.h"
#include "secmem.h"

#define SEED_LEN	32
#define SYM_KEY_LEN	16	/* AES-128 */
#define HMAC_LEN	crypto_auth_hmacsha256_BYTES
#define EK_RSA_BITS	2048

int
ks_tpm_name(const uint8_t *in, size_t len, uint8_t name[KS_AK_NAME_LEN])
{
	TPM2B_PUBLIC pub;
	struct sc_buf b;
	const uint8_t *body;
	uint16_t size;
	size_t off = 0;

	memset(&pub, 0, sizeof(pub));
	if (Tss2_MU_TPM2B_PUBLIC_Unmarshal(in, len, &off, &pub) != 0 ||
	    off != len)
		return SC_ERR_FORMAT;
	if (pub.publicArea.nameAlg != TPM2_ALG_SHA256)
		return SC_ERR_UNSUPPORTED;
	sc_buf_init_ro(&b, in, len);
	if (sc_buf_get_u16(&b, &size) < 0 || size != len - 2 ||
	    sc_buf_get_view(&b, size, &body) < 0)
		return SC_ERR_FORMAT;
	name[0] = (uint8_t)(TPM2_ALG_SHA256 >> 8);
	name[1] = (uint8_t)(TPM2_ALG_SHA256 & 0xff);
	crypto_hash_sha256(name + 2, body, size);
	return 0;
}

/* KDFa (Part 1 §11.4.10.2) with HMAC-SHA-256; outlen a multiple of 8 bits. */
static int
kdfa(const uint8_t *key, size_t keylen, const char *label,
    const uint8_t *ctx_u, size_t ulen, uint8_t *out, size_t outlen)
{
	crypto_auth_hmacsha256_state st;
	uint8_t block[HMAC_LEN], be[4];
	uint32_t counter, bits = (uint32_t)outlen * 8;
	size_t n;

	for (counter = 1; outlen > 0; counter++) {
		crypto_auth_hmacsha256_init(&st, key, keylen);
		be[0] = (uint8_t)(counter >> 24);
		be[1] = (uint8_t)(counter >> 16);
		be[2] = (uint8_t)(counter >> 8);
		be[3] = (uint8_t)counter;
		crypto_auth_hmacsha256_update(&st, be, 4);
		/* The label with its terminating NUL. */
		crypto_auth_hmacsha256_update(&st, (const uint8_t *)label,
		    strlen(label) + 1);
		if (ulen > 0)
			crypto_auth_hmacsha256_update(&st, ctx_u, ulen);
		be[0] = (uint8_t)(bits >> 24);
		be[1] = (uint8_t)(bits >> 16);
		be[2] = (uint8_t)(bits >> 8);
		be[3] = (uint8_t)bits;
		crypto_auth_hmacsha256_update(&st, be, 4);
		crypto_auth_hmacsha256_final(&st, block);
		n = outlen < sizeof(block) ? outlen : sizeof(block);
		memcpy(out, block, n);
		out += n;
		outlen -= n;
	}
	sc_memzero(block, sizeof(block));
	sc_memzero(&st, sizeof(st));
	return 0;
}

/* RSA-OAEP(SHA-256, label "IDENTITY\0") of seed to the EK. */
static int
wrap_seed(const uint8_t *ek_spki, size_t ek_len, const uint8_t seed[SEED_LEN],
    uint8_t *out, size_t *outlen)
{
	static const char label[] = "IDENTITY";
	const unsigned char *p = ek_spki;
	EVP_PKEY *ek;
	EVP_PKEY_CTX *ctx = NULL;
	void *lab = NULL;
	int r = SC_ERR_INTERNAL;

	if ((ek = d2i_PUBKEY(NULL, &p, (long)ek_len)) == NULL ||
	    p != ek_spki + ek_len) {
		EVP_PKEY_free(ek);
		return SC_ERR_BADKEY;
	}
	if (EVP_PKEY_get_base_id(ek) != EVP_PKEY_RSA ||
	    EVP_PKEY_get_bits(ek) != EK_RSA_BITS) {
		r = SC_ERR_UNSUPPORTED;
		goto out;
	}
	if ((ctx = EVP_PKEY_CTX_new(ek, NULL)) == NULL ||
	    EVP_PKEY_encrypt_init(ctx) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) != 1 ||
	    EVP_PKEY_CTX_set_rsa_oaep_md(ctx, EVP_sha256()) != 1 ||
	    EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha256()) != 1 ||
	    (lab = OPENSSL_memdup(label, sizeof(label))) == NULL)
		goto out;
	if (EVP_PKEY_CTX_set0_rsa_oaep_label(ctx, lab, sizeof(label)) != 1) {
		OPENSSL_free(lab);
		goto out;
	}
	if (EVP_PKEY_encrypt(ctx, out, outlen, seed, SEED_LEN) == 1)
		r = 0;
 out:
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(ek);
	return r;
}

static int
aes128_cfb(const uint8_t key[SYM_KEY_LEN], const uint8_t *in, size_t len,
    uint8_t *out)
{
	static const uint8_t iv[16];
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int n = 0, fin = 0, ok;

	ok = c != NULL &&
	    EVP_EncryptInit_ex(c, EVP_aes_128_cfb128(), NULL, key, iv) == 1 &&
	    EVP_EncryptUpdate(c, out, &n, in, (int)len) == 1 &&
	    EVP_EncryptFinal_ex(c, out + n, &fin) == 1 &&
	    (size_t)(n + fin) == len;
	EVP_CIPHER_CTX_free(c);
	return ok ? 0 : SC_ERR_INTERNAL;
}

int
ks_make_credential(const uint8_t *ek_spki, size_t ek_len,
    const uint8_t name[KS_AK_NAME_LEN], const uint8_t *secret,
    size_t secret_len, uint8_t blob[KS_CRED_BLOB_MAX], size_t *blob_len,
    uint8_t enc[KS_CRED_ENC_MAX], size_t *enc_len)
{
	uint8_t seed[SEED_LEN], sym[SYM_KEY_LEN], hkey[HMAC_LEN];
	uint8_t plain[2 + KS_CRED_SECRET_MAX], ident[2 + KS_CRED_SECRET_MAX];
	uint8_t hmac[HMAC_LEN], wrapped[KS_CRED_ENC_MAX - 2];
	crypto_auth_hmacsha256_state st;
	struct sc_buf b;
	size_t wlen = sizeof(wrapped), ilen = 2 + secret_len;
	int r;

	*blob_len = *enc_len = 0;
	if (secret_len == 0 || secret_len > KS_CRED_SECRET_MAX)
		return SC_ERR_INVAL;
	randombytes_buf(seed, sizeof(seed));
	if ((r = wrap_seed(ek_spki, ek_len, seed, wrapped, &wlen)) < 0)
		goto out;

	/* The credential as a marshalled TPM2B_DIGEST, encrypted. */
	sc_buf_init(&b, plain, sizeof(plain));
	if ((r = sc_buf_put_str16(&b, secret, secret_len)) < 0)
		goto out;
	kdfa(seed, sizeof(seed), "STORAGE", name, KS_AK_NAME_LEN, sym,
	    sizeof(sym));
	if ((r = aes128_cfb(sym, plain, ilen, ident)) < 0)
		goto out;
	kdfa(seed, sizeof(seed), "INTEGRITY", NULL, 0, hkey, sizeof(hkey));
	crypto_auth_hmacsha256_init(&st, hkey, sizeof(hkey));
	crypto_auth_hmacsha256_update(&st, ident, ilen);
	crypto_auth_hmacsha256_update(&st, name, KS_AK_NAME_LEN);
	crypto_auth_hmacsha256_final(&st, hmac);

	sc_buf_init(&b, blob, KS_CRED_BLOB_MAX);
	if ((r = sc_buf_put_u16(&b, (uint16_t)(2 + HMAC_LEN + ilen))) < 0 ||
	    (r = sc_buf_put_str16(&b, hmac, HMAC_LEN)) < 0 ||
	    (r = sc_buf_put_bytes(&b, ident, ilen)) < 0)
		goto out;
	*blob_len = sc_buf_avail(&b);
	sc_buf_init(&b, enc, KS_CRED_ENC_MAX);
	if ((r = sc_buf_put_str16(&b, wrapped, wlen)) < 0)
		goto out;
	*enc_len = sc_buf_avail(&b);
	r = 0;
 out:
	sc_memzero(seed, sizeof(seed));
	sc_memzero(sym, sizeof(sym));
	sc_memzero(hkey, sizeof(hkey));
	sc_memzero(plain, sizeof(plain));
	sc_memzero(&st, sizeof(st));
	if (r < 0)
		*blob_len = *enc_len = 0;
	return r;
}

int
ks_ek_cert_check(const uint8_t *der, size_t len, const char *bundle,
    size_t bundle_len, uint64_t now, uint8_t *spki, size_t spkisz,
    size_t *spki_len)
{
	const unsigned char *p = der;
	unsigned char *out;
	X509 *cert = NULL, *ca;
	X509_STORE *store = NULL;
	X509_STORE_CTX *ctx = NULL;
	BIO *bio = NULL;
	int n, cas = 0, r = SC_ERR_FORMAT;

	*spki_len = 0;
	if (len == 0 || len > 0x7fffffff || bundle_len > 0x7fffffff ||
	    (cert = d2i_X509(NULL, &p, (long)len)) == NULL || p != der + len)
		goto out;
	if ((store = X509_STORE_new()) == NULL ||
	    (bio = BIO_new_mem_buf(bundle, (int)bundle_len)) == NULL)
		goto out;
	while ((ca = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		if (X509_STORE_add_cert(store, ca) != 1) {
			X509_free(ca);
			goto out;
		}
		X509_free(ca);
		cas++;
	}
	if (cas == 0)
		goto out;
	r = SC_ERR_UNTRUSTED;
	if ((ctx = X509_STORE_CTX_new()) == NULL ||
	    X509_STORE_CTX_init(ctx, store, cert, NULL) != 1)
		goto out;
	if (now != 0)
		X509_STORE_CTX_set_time(ctx, 0, (time_t)now);
	if (X509_verify_cert(ctx) != 1)
		goto out;
	r = SC_ERR_NOSPACE;
	n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), NULL);
	if (n <= 0 || (size_t)n > spkisz)
		goto out;
	out = spki;
	if (i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &out) != n)
		goto out;
	*spki_len = (size_t)n;
	r = 0;
 out:
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	BIO_free(bio);
	X509_free(cert);
	return r;
}
