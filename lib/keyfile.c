/*
 * keyfile.c — secret key files: the armored, passphrase-encrypted format
 * every secret on disk uses.  Normative description: PROTOCOL.md §11.
 *
 * Secret key file = text armor around a binary blob:
 *
 *   -----BEGIN SCCRYPT SECRET KEY-----
 *   base64 (standard alphabet, padded), lines of 64 characters
 *   -----END SCCRYPT SECRET KEY-----
 *
 *   blob (big-endian):
 *     magic "SCKF"  version:u8 (1)  kind:u8  kdf:u8  aead:u8
 *     opslimit:u32  memlimit_kib:u32
 *     salt:str8  nonce:str8  check:str8  comment:str8
 *     payload:str16 = body || tag[16]
 *   AD = every byte before the payload body (including its length).
 *
 *   kdf argon2id / aead xchacha20poly1305-ietf:
 *     Argon2id13(passphrase, salt[16], opslimit, memlimit_kib * 1024)
 *       -> 48 bytes: key[32] || check[16]
 *     check must equal the stored check (else SC_ERR_PASSPHRASE), then
 *     body || tag = XChaCha20-Poly1305-IETF(key, nonce[24], AD, secret)
 *     (a tag failure with a correct check means a corrupt file: SC_ERR_FORMAT).
 *   kdf none / aead none (empty passphrase):
 *     salt, nonce, check empty, limits 0, body = secret,
 *     tag = BLAKE2b-128(AD || body): detects corruption, protects nothing.
 *
 * Every decrypted secret, every buffer holding armored or decoded key file
 * bytes and every derived key lives in sc_secure_alloc memory and is wiped.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "core/err.h"
#include "core/buf.h"
#include "encode.h"
#include "io.h"
#include "keyfile.h"
#include "secmem.h"
#include "vmfile.h"

#define KF_ARMOR_BEGIN		"-----BEGIN SCCRYPT SECRET KEY-----"
#define KF_ARMOR_END		"-----END SCCRYPT SECRET KEY-----"
#define KF_ARMOR_COLS		64
#define KF_MAGIC_LEN		4
#define KF_SALT_LEN		crypto_pwhash_argon2id_SALTBYTES	/* 16 */
#define KF_NONCE_LEN		crypto_aead_xchacha20poly1305_ietf_NPUBBYTES	/* 24 */
#define KF_KEY_LEN		crypto_aead_xchacha20poly1305_ietf_KEYBYTES	/* 32 */
#define KF_CHECK_LEN		16
#define KF_TAG_LEN		16	/* Poly1305 tag, or BLAKE2b-128 checksum */
#define KF_DERIVED_LEN		(KF_KEY_LEN + KF_CHECK_LEN)
/* Fixed part: magic, version, kind, kdf, aead, opslimit, memlimit_kib. */
#define KF_FIXED_LEN		(KF_MAGIC_LEN + 4 + 4 + 4)
/* Largest blob: fixed + 4 str8 + str16 payload. */
#define KF_BLOB_MAX		(KF_FIXED_LEN + 4 * 256 + 2 + SC_KEYFILE_SECRET_MAX + KF_TAG_LEN)

/*
 * KDF limits.  Writing always uses libsodium's INTERACTIVE limits (2
 * passes, 64 MiB), like signify/age-style tools, which keeps unlocking
 * under a second on a laptop; nothing (no environment variable, no build
 * option) lowers them.  Reading refuses files below them
 * (SC_KEYFILE_OPSLIMIT_MIN, SC_KEYFILE_MEMLIMIT_MIN_KIB: such a file is
 * cheap to brute-force, so it was not written by us or was weakened) and
 * above the maximums below, so a planted or corrupted file cannot make us
 * allocate more than 1 GiB or run for minutes.
 */
#define KF_OPSLIMIT_DEFAULT	crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE
#define KF_MEMLIMIT_DEFAULT	crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE
#define KF_OPSLIMIT_MIN		SC_KEYFILE_OPSLIMIT_MIN
#define KF_MEMLIMIT_MIN		((size_t)SC_KEYFILE_MEMLIMIT_MIN_KIB * 1024)
#define KF_OPSLIMIT_MAX		32U

/*
 * The cost written and the least cost read.  Constants in the library; only
 * a test program that compiles this file itself with -DSC_KEYS_TEST_KDF
 * (tests/unit/test_keys) can lower them, with sc_keyfile_test_kdf().
 */
#ifdef SC_KEYS_TEST_KDF
static uint32_t kf_write_ops = KF_OPSLIMIT_DEFAULT;
static uint32_t kf_write_kib = KF_MEMLIMIT_DEFAULT / 1024;
static uint32_t kf_min_ops = KF_OPSLIMIT_MIN;
static uint32_t kf_min_kib = KF_MEMLIMIT_MIN / 1024;

void
sc_keyfile_test_kdf(uint32_t opslimit, uint32_t memlimit_kib)
{
	kf_write_ops = kf_min_ops = opslimit;
	kf_write_kib = kf_min_kib = memlimit_kib;
}
#else
#define kf_write_ops	((uint32_t)KF_OPSLIMIT_DEFAULT)
#define kf_write_kib	((uint32_t)(KF_MEMLIMIT_DEFAULT / 1024))
#define kf_min_ops	((uint32_t)KF_OPSLIMIT_MIN)
#define kf_min_kib	((uint32_t)(KF_MEMLIMIT_MIN / 1024))
#endif
_Static_assert(KF_OPSLIMIT_DEFAULT >= SC_KEYFILE_OPSLIMIT_MIN &&
    KF_MEMLIMIT_DEFAULT / 1024 >= SC_KEYFILE_MEMLIMIT_MIN_KIB,
    "key files are written at no less than the cost read");
#define KF_MEMLIMIT_MAX		crypto_pwhash_argon2id_MEMLIMIT_SENSITIVE	/* 1 GiB */

struct kf_header {
	uint8_t		kind, kdf, aead;
	uint32_t	opslimit, memlimit_kib;
	const uint8_t	*salt, *nonce, *check, *comment, *payload;
	size_t		salt_len, nonce_len, check_len, comment_len, payload_len;
	size_t		ad_len;		/* bytes before the payload body */
};

static int
sc_kind_ok(int kind)
{
	return kind == SC_KEY_KIND_USER || kind == SC_KEY_KIND_VM ||
	    kind == SC_KEY_KIND_SIGNING;
}

/* Length rules of each kind's secret. */
static int
sc_kind_len_ok(int kind, size_t len)
{
	switch (kind) {
	case SC_KEY_KIND_USER:
		return len == 32;
	case SC_KEY_KIND_SIGNING:
		return len == 64;
	case SC_KEY_KIND_VM:
		return len >= 16 + SC_VM_SECRET_LEN + 2 && len <= SC_KEYFILE_SECRET_MAX;
	default:
		return 0;
	}
}

/*
 * Strictly parse a blob: every field in range, the parameter combination
 * one of the two defined ones, no trailing bytes.
 */
static int
kf_parse_blob(const uint8_t *blob, size_t len, struct kf_header *h)
{
	struct sc_buf b;
	const uint8_t *magic;
	uint8_t version;
	uint16_t plen;

	memset(h, 0, sizeof(*h));
	sc_buf_init_ro(&b, blob, len);
	if (sc_buf_get_view(&b, KF_MAGIC_LEN, &magic) < 0 ||
	    sc_buf_get_u8(&b, &version) < 0)
		return SC_ERR_FORMAT;
	if (memcmp(magic, SC_KEYFILE_MAGIC, KF_MAGIC_LEN) != 0)
		return SC_ERR_FORMAT;
	if (version != SC_KEYFILE_VERSION)
		return SC_ERR_VERSION;
	if (sc_buf_get_u8(&b, &h->kind) < 0 ||
	    sc_buf_get_u8(&b, &h->kdf) < 0 ||
	    sc_buf_get_u8(&b, &h->aead) < 0 ||
	    sc_buf_get_u32(&b, &h->opslimit) < 0 ||
	    sc_buf_get_u32(&b, &h->memlimit_kib) < 0 ||
	    sc_buf_get_str8(&b, &h->salt, &h->salt_len, 255) < 0 ||
	    sc_buf_get_str8(&b, &h->nonce, &h->nonce_len, 255) < 0 ||
	    sc_buf_get_str8(&b, &h->check, &h->check_len, 255) < 0 ||
	    sc_buf_get_str8(&b, &h->comment, &h->comment_len, 255) < 0 ||
	    sc_buf_peek_u16(&b, &plen) < 0)
		return SC_ERR_FORMAT;
	h->ad_len = len - sc_buf_avail(&b) + 2;
	if (sc_buf_get_str16(&b, &h->payload, &h->payload_len,
	    SC_KEYFILE_SECRET_MAX + KF_TAG_LEN) < 0 ||
	    sc_buf_expect_end(&b) < 0)
		return SC_ERR_FORMAT;
	if (!sc_kind_ok(h->kind))
		return SC_ERR_TYPE;
	if (!sc_comment_ok((const char *)h->comment, h->comment_len,
	    SC_KEYFILE_COMMENT_MAX))
		return SC_ERR_FORMAT;
	if (h->payload_len <= KF_TAG_LEN ||
	    !sc_kind_len_ok(h->kind, h->payload_len - KF_TAG_LEN))
		return SC_ERR_FORMAT;
	switch (h->kdf) {
	case SC_KEYFILE_KDF_NONE:
		if (h->aead != SC_KEYFILE_AEAD_NONE || h->opslimit != 0 ||
		    h->memlimit_kib != 0 || h->salt_len != 0 ||
		    h->nonce_len != 0 || h->check_len != 0)
			return SC_ERR_FORMAT;
		break;
	case SC_KEYFILE_KDF_ARGON2ID:
		if (h->aead != SC_KEYFILE_AEAD_XCHACHA ||
		    h->opslimit > KF_OPSLIMIT_MAX ||
		    h->memlimit_kib > KF_MEMLIMIT_MAX / 1024 ||
		    h->salt_len != KF_SALT_LEN || h->nonce_len != KF_NONCE_LEN ||
		    h->check_len != KF_CHECK_LEN)
			return SC_ERR_FORMAT;
		/* Well-formed but too cheap to guess: refused, not decrypted. */
		if (h->opslimit < kf_min_ops || h->memlimit_kib < kf_min_kib)
			return SC_ERR_UNSUPPORTED;
		break;
	default:
		return SC_ERR_UNSUPPORTED;
	}
	return 0;
}

static void
kf_checksum(uint8_t tag[KF_TAG_LEN], const uint8_t *ad, size_t adlen,
    const uint8_t *body, size_t bodylen)
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, KF_TAG_LEN);
	crypto_generichash_update(&st, ad, adlen);
	crypto_generichash_update(&st, body, bodylen);
	crypto_generichash_final(&st, tag, KF_TAG_LEN);
	sc_memzero(&st, sizeof(st));
}

/* Argon2id into derived[KF_DERIVED_LEN] (secure memory). */
static int
kf_derive(uint8_t *derived, const char *passphrase, const uint8_t *salt,
    uint32_t opslimit, uint32_t memlimit_kib)
{
	size_t plen = strlen(passphrase);

	if (plen > crypto_pwhash_argon2id_PASSWD_MAX)
		return SC_ERR_TOOLONG;
	if (crypto_pwhash(derived, KF_DERIVED_LEN, passphrase, plen, salt,
	    opslimit, (size_t)memlimit_kib * 1024,
	    crypto_pwhash_ALG_ARGON2ID13) != 0)
		return SC_ERR_ALLOC;	/* only fails when memory is short */
	return 0;
}

/*
 * Decode the armor of data[0..len) into a freshly sc_secure_alloc'd blob.
 * Grammar: BEGIN line "\n", one or more base64 lines "\n" (each at most
 * 76 characters), END line, optional final "\n".  Nothing else.
 */
static int
kf_dearmor(const uint8_t *data, size_t len, uint8_t **blobp, size_t *bloblen)
{
	const size_t blen = sizeof(KF_ARMOR_BEGIN) - 1;
	const size_t elen = sizeof(KF_ARMOR_END) - 1;
	size_t i, start, end, linelen, n = 0;
	char *b64 = NULL;
	uint8_t *blob = NULL;
	size_t o = 0;
	const char *endp = NULL;
	int r = SC_ERR_FORMAT;

	*blobp = NULL;
	*bloblen = 0;
	if (len > SC_KEYFILE_MAX)
		return SC_ERR_TOOLONG;
	if (len < blen + 1 || memcmp(data, KF_ARMOR_BEGIN, blen) != 0 ||
	    data[blen] != '\n')
		return SC_ERR_FORMAT;
	start = blen + 1;
	/* The END line, with or without a final newline. */
	end = len;
	if (end > 0 && data[end - 1] == '\n')
		end--;
	if (end < start + elen + 1 || memcmp(data + end - elen, KF_ARMOR_END, elen) != 0 ||
	    data[end - elen - 1] != '\n')
		return SC_ERR_FORMAT;
	end = end - elen;	/* base64 lines are data[start..end), each ending in \n */
	if ((b64 = sc_secure_alloc(end - start + 1)) == NULL)
		return SC_ERR_ALLOC;
	linelen = 0;
	for (i = start; i < end; i++) {
		uint8_t c = data[i];

		if (c == '\n') {
			if (linelen == 0)
				goto out;	/* empty line */
			linelen = 0;
			continue;
		}
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '='))
			goto out;
		if (++linelen > 76)
			goto out;
		b64[o++] = (char)c;
	}
	b64[o] = '\0';
	if (o == 0 || o % 4 != 0)
		goto out;
	if ((blob = sc_secure_alloc(o / 4 * 3)) == NULL) {
		r = SC_ERR_ALLOC;
		goto out;
	}
	if (sodium_base642bin(blob, o / 4 * 3, b64, o, NULL, &n, &endp,
	    sodium_base64_VARIANT_ORIGINAL) != 0 || endp != b64 + o)
		goto out;
	*blobp = blob;
	*bloblen = n;
	blob = NULL;
	r = 0;
 out:
	if (b64 != NULL)
		sc_memzero(b64, end - start + 1);
	sc_secure_free(b64);
	sc_secure_free(blob);
	return r;
}

int
sc_keyfile_info(const uint8_t *data, size_t len, struct sc_keyfile_info *info)
{
	struct kf_header h;
	uint8_t *blob = NULL;
	size_t bloblen = 0;
	int r;

	if (data == NULL || info == NULL)
		return SC_ERR_INVAL;
	memset(info, 0, sizeof(*info));
	if ((r = kf_dearmor(data, len, &blob, &bloblen)) < 0)
		return r;
	if ((r = kf_parse_blob(blob, bloblen, &h)) == 0) {
		info->kind = h.kind;
		info->kdf = h.kdf;
		info->aead = h.aead;
		info->opslimit = h.opslimit;
		info->memlimit_kib = h.memlimit_kib;
		memcpy(info->comment, h.comment, h.comment_len);
		info->comment[h.comment_len] = '\0';
	}
	sc_secure_free(blob);
	return r;
}

int
sc_keyfile_parse(const uint8_t *data, size_t len, int kind,
    const char *passphrase, uint8_t **secretp, size_t *slenp)
{
	struct kf_header h;
	uint8_t *blob = NULL, *secret = NULL, *derived = NULL;
	uint8_t tag[KF_TAG_LEN];
	size_t bloblen = 0, bodylen;
	unsigned long long mlen = 0;
	int r;

	if (data == NULL || secretp == NULL || slenp == NULL)
		return SC_ERR_INVAL;
	*secretp = NULL;
	*slenp = 0;
	if ((r = kf_dearmor(data, len, &blob, &bloblen)) < 0)
		return r;
	if ((r = kf_parse_blob(blob, bloblen, &h)) < 0)
		goto out;
	if (h.kind != kind) {
		r = SC_ERR_TYPE;
		goto out;
	}
	bodylen = h.payload_len - KF_TAG_LEN;
	if ((secret = sc_secure_alloc(bodylen)) == NULL) {
		r = SC_ERR_ALLOC;
		goto out;
	}
	if (h.kdf == SC_KEYFILE_KDF_NONE) {
		kf_checksum(tag, blob, h.ad_len, h.payload, bodylen);
		if (sodium_memcmp(tag, h.payload + bodylen, KF_TAG_LEN) != 0) {
			r = SC_ERR_FORMAT;
			goto out;
		}
		memcpy(secret, h.payload, bodylen);
	} else {
		if (passphrase == NULL) {
			r = SC_ERR_PASSPHRASE;
			goto out;
		}
		if ((derived = sc_secure_alloc(KF_DERIVED_LEN)) == NULL) {
			r = SC_ERR_ALLOC;
			goto out;
		}
		if ((r = kf_derive(derived, passphrase, h.salt, h.opslimit,
		    h.memlimit_kib)) < 0)
			goto out;
		if (sodium_memcmp(derived + KF_KEY_LEN, h.check, KF_CHECK_LEN) != 0) {
			r = SC_ERR_PASSPHRASE;
			goto out;
		}
		if (crypto_aead_xchacha20poly1305_ietf_decrypt(secret, &mlen,
		    NULL, h.payload, h.payload_len, blob, h.ad_len, h.nonce,
		    derived) != 0 || mlen != bodylen) {
			r = SC_ERR_FORMAT;	/* right passphrase, damaged file */
			goto out;
		}
	}
	*secretp = secret;
	*slenp = bodylen;
	secret = NULL;
	r = 0;
 out:
	sc_memzero(tag, sizeof(tag));
	sc_secure_free(derived);
	sc_secure_free(secret);
	sc_secure_free(blob);
	return r;
}

/* Armor blob into a secure NUL-terminated text buffer. */
static int
kf_armor(const uint8_t *blob, size_t bloblen, uint8_t **outp, size_t *outlenp)
{
	size_t b64len = sodium_base64_ENCODED_LEN(bloblen, sodium_base64_VARIANT_ORIGINAL);
	size_t cap, o = 0, i;
	char *b64 = NULL;
	uint8_t *out = NULL;
	int r = SC_ERR_ALLOC;

	cap = sizeof(KF_ARMOR_BEGIN) + b64len + b64len / KF_ARMOR_COLS + 1 +
	    sizeof(KF_ARMOR_END) + 1;
	if ((b64 = sc_secure_alloc(b64len)) == NULL ||
	    (out = sc_secure_alloc(cap)) == NULL)
		goto out;
	sodium_bin2base64(b64, b64len, blob, bloblen, sodium_base64_VARIANT_ORIGINAL);
	b64len = strlen(b64);
	memcpy(out, KF_ARMOR_BEGIN "\n", sizeof(KF_ARMOR_BEGIN));
	o = sizeof(KF_ARMOR_BEGIN);
	for (i = 0; i < b64len; i += KF_ARMOR_COLS) {
		size_t n = SC_MIN(KF_ARMOR_COLS, b64len - i);

		memcpy(out + o, b64 + i, n);
		o += n;
		out[o++] = '\n';
	}
	memcpy(out + o, KF_ARMOR_END "\n", sizeof(KF_ARMOR_END) + 1);
	o += sizeof(KF_ARMOR_END);
	if (o >= cap) {
		r = SC_ERR_INTERNAL;
		goto out;
	}
	*outp = out;
	*outlenp = o;
	out = NULL;
	r = 0;
 out:
	if (b64 != NULL)
		sc_memzero(b64, b64len);
	sc_secure_free(b64);
	sc_secure_free(out);
	return r;
}

int
sc_keyfile_serialize(int kind, const uint8_t *secret, size_t len,
    const char *passphrase, const char *comment, uint8_t **outp, size_t *outlenp)
{
	struct sc_buf b;
	uint8_t *blob = NULL, *derived = NULL, *body;
	uint8_t salt[KF_SALT_LEN], nonce[KF_NONCE_LEN];
	uint32_t ops = 0, mem = 0;
	size_t clen, adlen;
	unsigned long long ctlen = 0;
	int encrypt, r;

	if (secret == NULL || outp == NULL || outlenp == NULL)
		return SC_ERR_INVAL;
	*outp = NULL;
	*outlenp = 0;
	if (!sc_kind_ok(kind) || !sc_kind_len_ok(kind, len))
		return SC_ERR_INVAL;
	if (comment == NULL)
		comment = "";
	clen = strlen(comment);
	if (!sc_comment_ok(comment, clen, SC_KEYFILE_COMMENT_MAX))
		return SC_ERR_INVAL;
	encrypt = passphrase != NULL && passphrase[0] != '\0';

	if ((blob = sc_secure_alloc(KF_BLOB_MAX)) == NULL)
		return SC_ERR_ALLOC;
	sc_buf_init(&b, blob, KF_BLOB_MAX);
	if (encrypt) {
		ops = kf_write_ops;
		mem = kf_write_kib;
		randombytes_buf(salt, sizeof(salt));
		randombytes_buf(nonce, sizeof(nonce));
		if ((derived = sc_secure_alloc(KF_DERIVED_LEN)) == NULL) {
			r = SC_ERR_ALLOC;
			goto out;
		}
		if ((r = kf_derive(derived, passphrase, salt, ops, mem)) < 0)
			goto out;
	}
	r = SC_ERR_INTERNAL;	/* KF_BLOB_MAX fits every valid input */
	if (sc_buf_put_bytes(&b, SC_KEYFILE_MAGIC, KF_MAGIC_LEN) < 0 ||
	    sc_buf_put_u8(&b, SC_KEYFILE_VERSION) < 0 ||
	    sc_buf_put_u8(&b, (uint8_t)kind) < 0 ||
	    sc_buf_put_u8(&b, encrypt ? SC_KEYFILE_KDF_ARGON2ID : SC_KEYFILE_KDF_NONE) < 0 ||
	    sc_buf_put_u8(&b, encrypt ? SC_KEYFILE_AEAD_XCHACHA : SC_KEYFILE_AEAD_NONE) < 0 ||
	    sc_buf_put_u32(&b, ops) < 0 ||
	    sc_buf_put_u32(&b, mem) < 0 ||
	    sc_buf_put_str8(&b, salt, encrypt ? sizeof(salt) : 0) < 0 ||
	    sc_buf_put_str8(&b, nonce, encrypt ? sizeof(nonce) : 0) < 0 ||
	    sc_buf_put_str8(&b, derived != NULL ? derived + KF_KEY_LEN : salt,
		encrypt ? KF_CHECK_LEN : 0) < 0 ||
	    sc_buf_put_str8(&b, comment, clen) < 0 ||
	    sc_buf_put_u16(&b, (uint16_t)(len + KF_TAG_LEN)) < 0)
		goto out;
	adlen = b.len;
	if (sc_buf_reserve(&b, len + KF_TAG_LEN, &body) < 0)
		goto out;
	if (encrypt) {
		if (crypto_aead_xchacha20poly1305_ietf_encrypt(body, &ctlen,
		    secret, len, blob, adlen, NULL, nonce, derived) != 0 ||
		    ctlen != len + KF_TAG_LEN)
			goto out;
	} else {
		memcpy(body, secret, len);
		kf_checksum(body + len, blob, adlen, body, len);
	}
	r = kf_armor(blob, b.len, outp, outlenp);
 out:
	sc_memzero(salt, sizeof(salt));
	sc_memzero(nonce, sizeof(nonce));
	sc_secure_free(derived);
	sc_secure_free(blob);
	return r;
}

int
sc_keyfile_write(const char *path, int kind, const uint8_t *secret,
    size_t len, const char *passphrase, const char *comment)
{
	uint8_t *text = NULL;
	size_t tlen = 0;
	int r;

	if (path == NULL)
		return SC_ERR_INVAL;
	if ((r = sc_keyfile_serialize(kind, secret, len, passphrase, comment,
	    &text, &tlen)) < 0)
		return r;
	r = sc_write_file_atomic(path, text, tlen, 0600);
	sc_secure_free(text);
	return r;
}

/*
 * Open a secret file and read it whole into secure memory.  Like ssh, a
 * file that is not a regular file owned by the effective user with no
 * group/other permission bits is refused (SC_ERR_PERM) before reading.
 */
static int
kf_read_secure(const char *path, uint8_t **datap, size_t *lenp)
{
	struct stat st;
	uint8_t *buf = NULL;
	size_t have = 0;
	ssize_t rd;
	int fd, r;

	*datap = NULL;
	*lenp = 0;
	/* O_NONBLOCK: a FIFO at path is refused below, it cannot block open(). */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) == -1)
		return errno == ENOENT || errno == ENOTDIR ? SC_ERR_NOTFOUND :
		    errno == EACCES ? SC_ERR_PERM : SC_ERR_SYSTEM;
	if (fstat(fd, &st) == -1) {
		r = SC_ERR_SYSTEM;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = SC_ERR_TYPE;
		goto out;
	}
	if (st.st_uid != geteuid() || (st.st_mode & 077) != 0) {
		r = SC_ERR_PERM;
		goto out;
	}
	if (st.st_size > SC_KEYFILE_MAX) {
		r = SC_ERR_TOOLONG;
		goto out;
	}
	if ((buf = sc_secure_alloc(SC_KEYFILE_MAX + 1)) == NULL) {
		r = SC_ERR_ALLOC;
		goto out;
	}
	for (;;) {
		rd = read(fd, buf + have, SC_KEYFILE_MAX + 1 - have);
		if (rd < 0) {
			if (errno == EINTR)
				continue;
			r = SC_ERR_SYSTEM;
			goto out;
		}
		if (rd == 0)
			break;
		have += (size_t)rd;
		if (have > SC_KEYFILE_MAX) {
			r = SC_ERR_TOOLONG;
			goto out;
		}
	}
	*datap = buf;
	*lenp = have;
	buf = NULL;
	r = 0;
 out:
	sc_secure_free(buf);
	close(fd);
	return r;
}

int
sc_keyfile_read(const char *path, int kind, const char *passphrase,
    uint8_t **secret, size_t *len)
{
	uint8_t *data = NULL;
	size_t dlen = 0;
	int r;

	if (path == NULL || secret == NULL || len == NULL)
		return SC_ERR_INVAL;
	*secret = NULL;
	*len = 0;
	if ((r = kf_read_secure(path, &data, &dlen)) < 0)
		return r;
	r = sc_keyfile_parse(data, dlen, kind, passphrase, secret, len);
	sc_secure_free(data);
	return r;
}

int
sc_keyfile_read_info(const char *path, struct sc_keyfile_info *info)
{
	uint8_t *data = NULL;
	size_t dlen = 0;
	int r;

	if (path == NULL || info == NULL)
		return SC_ERR_INVAL;
	if ((r = kf_read_secure(path, &data, &dlen)) < 0)
		return r;
	r = sc_keyfile_info(data, dlen, info);
	sc_secure_free(data);
	return r;
}

int
sc_keyfile_encrypted(const char *path)
{
	struct sc_keyfile_info info;
	int r;

	if ((r = sc_keyfile_read_info(path, &info)) < 0)
		return r;
	return info.kdf != SC_KEYFILE_KDF_NONE;
}
