/*
 * crypto-diff — differential and known-answer test of the hypervisor's
 * crypto provider (hv/xen/crypto: libsodium's reference code built
 * freestanding) against user-space libsodium.
 *
 * usage: crypto-diff [-n ITERATIONS] [-s SEED_HEX64]
 *
 * Known answers (each checked on the provider AND on libsodium):
 *   RFC 7748 §5.2   X25519 test vectors 1 and 2, iterated 1 and 1000 times
 *   RFC 7748 §6.1   Diffie-Hellman: both public keys and the shared secret
 *   RFC 8439 §2.8.2 AEAD encryption (sunscreen)
 *   RFC 8439 §A.5   AEAD decryption
 *   RFC 7693 App. A BLAKE2b-512("abc"); BLAKE2 reference KAT (blake2b-kat.txt,
 *                   key 00..3f): inputs "", 00, 00..fe; unkeyed ""
 *   RFC 8032 §7.1   Ed25519 TEST 1, 2, 3: the signature verifies, every
 *                   single-bit change of signature, message or key does
 *                   not; small-order and non-canonical keys, a
 *                   non-canonical S must give SC_ERR_SIGNATURE.
 *   low-order points (the 7 of libsodium's blacklist, each also with bit 255
 *   set, and the all-zero result case) must give SC_ERR_BADKEY.
 * Differential, on inputs from a seeded deterministic generator (the seed is
 * printed so a failure can be replayed with -s):
 *   X25519 on random scalars x random points (also non-canonical ones),
 *   AEAD encrypt/decrypt with random lengths, in place and out of place,
 *   every single-bit tamper class (ciphertext, tag, ad, nonce, key),
 *   BLAKE2b with random key/out lengths and random update chunking,
 *   Ed25519 verify: libsodium's signatures of random messages under random
 *   keys, with random single-bit tampering and random garbage keys and
 *   signatures: the verdict must be libsodium's.
 * Generator: seeding refusal, determinism for a fixed source, no repeats,
 *   byte-frequency sanity.
 *
 * Output: one line per failed check, then
 *   "crypto-diff: N checks, M differences"
 * Exit 0 only if M == 0.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "core/err.h"
#include "core/crypto.h"
#include "sc_crypto_ref.h"

static unsigned long checks, failures;
static uint8_t detseed[randombytes_SEEDBYTES];
static uint64_t detctr;

void
sc_ref_fatal(const char *why)
{
	fprintf(stderr, "crypto-diff: provider fatal error: %s\n", why);
	abort();
}

static void check(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
check(bool ok, const char *fmt, ...)
{
	va_list ap;

	checks++;
	if (ok)
		return;
	failures++;
	fputs("FAIL ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static void
unhex(uint8_t *out, size_t len, const char *hex)
{
	size_t i;

	if (strlen(hex) != 2 * len) {
		fprintf(stderr, "crypto-diff: bad vector length (%zu hex digits, want %zu)\n",
		    strlen(hex), 2 * len);
		exit(2);
	}
	for (i = 0; i < len; i++) {
		unsigned v;

		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			exit(2);
		out[i] = (uint8_t)v;
	}
}

/* Deterministic test input: libsodium's ChaCha20 DRBG keyed by seed+counter. */
static void
det_bytes(void *buf, size_t len)
{
	uint8_t s[randombytes_SEEDBYTES];

	memcpy(s, detseed, sizeof(s));
	s[0] ^= (uint8_t)detctr;
	s[1] ^= (uint8_t)(detctr >> 8);
	s[2] ^= (uint8_t)(detctr >> 16);
	s[3] ^= (uint8_t)(detctr >> 24);
	s[4] ^= (uint8_t)(detctr >> 32);
	detctr++;
	randombytes_buf_deterministic(buf, len, s);
}

static uint32_t
det_u32(uint32_t bound)
{
	uint32_t v;

	det_bytes(&v, sizeof(v));
	return bound ? v % bound : v;
}

/* ---- known answers --------------------------------------------------- */

static void
kat_x25519(const struct sc_crypto *cp)
{
	static const struct {
		const char *sec, *k, *u, *out;
	} v[] = {
		/* RFC 7748 §5.2, first and second test vector */
		{ "5.2 #1",
		  "a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
		  "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
		  "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552" },
		{ "5.2 #2",
		  "4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
		  "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
		  "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957" },
	};
	/* RFC 7748 §5.2, iterated: after 1 and after 1,000 iterations */
	static const char *iter1 =
	    "422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079";
	static const char *iter1000 =
	    "684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51";
	/* RFC 7748 §6.1 */
	static const char *alice_sk =
	    "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a";
	static const char *alice_pk =
	    "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a";
	static const char *bob_sk =
	    "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb";
	static const char *bob_pk =
	    "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f";
	static const char *shared =
	    "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";
	uint8_t k[32], u[32], want[32], out[32], s2[32], tmp[32];
	size_t i;
	int it;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		unhex(k, 32, v[i].k);
		unhex(u, 32, v[i].u);
		unhex(want, 32, v[i].out);
		check(cp->x25519(out, k, u) == 0 && memcmp(out, want, 32) == 0,
		    "RFC 7748 %s: provider", v[i].sec);
		check(crypto_scalarmult_curve25519(out, k, u) == 0 &&
		    memcmp(out, want, 32) == 0, "RFC 7748 %s: libsodium", v[i].sec);
	}

	memset(k, 0, 32);
	k[0] = 9;
	memcpy(u, k, 32);
	for (it = 1; it <= 1000; it++) {
		if (cp->x25519(out, k, u) != 0) {
			check(false, "RFC 7748 5.2 iterated: failed at %d", it);
			break;
		}
		memcpy(u, k, 32);
		memcpy(k, out, 32);
		if (it == 1) {
			unhex(want, 32, iter1);
			check(memcmp(k, want, 32) == 0, "RFC 7748 5.2 iterated x1");
		}
	}
	unhex(want, 32, iter1000);
	check(memcmp(k, want, 32) == 0, "RFC 7748 5.2 iterated x1000");

	unhex(k, 32, alice_sk);
	unhex(want, 32, alice_pk);
	check(cp->x25519_base(out, k) == 0 && memcmp(out, want, 32) == 0,
	    "RFC 7748 6.1 Alice public key");
	unhex(s2, 32, bob_sk);
	unhex(want, 32, bob_pk);
	check(cp->x25519_base(tmp, s2) == 0 && memcmp(tmp, want, 32) == 0,
	    "RFC 7748 6.1 Bob public key");
	unhex(want, 32, shared);
	check(cp->x25519(u, k, tmp) == 0 && memcmp(u, want, 32) == 0,
	    "RFC 7748 6.1 shared secret (Alice)");
	check(cp->x25519(u, s2, out) == 0 && memcmp(u, want, 32) == 0,
	    "RFC 7748 6.1 shared secret (Bob)");
}

static void
kat_low_order(const struct sc_crypto *cp)
{
	/* The u-coordinates of points of order 1, 2, 4 and 8 (and their
	 * non-canonical encodings p, p+1), as in libsodium's blacklist. */
	static const char *pts[] = {
		"0000000000000000000000000000000000000000000000000000000000000000",
		"0100000000000000000000000000000000000000000000000000000000000000",
		"e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
		"5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
		"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
		"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
		"eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	};
	uint8_t sk[32], p[32], out[32];
	size_t i;
	int hi;

	for (i = 0; i < sizeof(pts) / sizeof(pts[0]); i++) {
		for (hi = 0; hi < 2; hi++) {
			det_bytes(sk, sizeof(sk));
			unhex(p, 32, pts[i]);
			if (hi)
				p[31] |= 0x80;
			check(cp->x25519(out, sk, p) == SC_ERR_BADKEY,
			    "low-order point %zu%s accepted by the provider", i,
			    hi ? " (bit 255 set)" : "");
			check(crypto_scalarmult_curve25519(out, sk, p) != 0,
			    "low-order point %zu%s accepted by libsodium", i,
			    hi ? " (bit 255 set)" : "");
		}
	}
}

static const char rfc8439_sunscreen[] =
    "Ladies and Gentlemen of the class of '99: If I could offer you only one "
    "tip for the future, sunscreen would be it.";

static void
kat_aead(const struct sc_crypto *cp)
{
	/* RFC 8439 §2.8.2 */
	static const char *key =
	    "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f";
	static const char *nonce = "070000004041424344454647";
	static const char *ad = "50515253c0c1c2c3c4c5c6c7";
	static const char *ct =
	    "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6"
	    "3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36"
	    "92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
	    "3ff4def08e4b7a9de576d26586cec64b6116"
	    "1ae10b594f09e26a7e902ecbd0600691";		/* tag */
	/* RFC 8439 §A.5 */
	static const char *a5_key =
	    "1c9240a5eb55d38af333888604f6b5f0473917c1402b80099dca5cbc207075c0";
	static const char *a5_nonce = "000000000102030405060708";
	static const char *a5_ad = "f33388860000000000004e91";
	static const char *a5_ct =
	    "64a0861575861af460f062c79be643bd5e805cfd345cf389f108670ac76c8cb2"
	    "4c6cfc18755d43eea09ee94e382d26b0bdb7b73c321b0100d4f03b7f355894cf"
	    "332f830e710b97ce98c8a84abd0b948114ad176e008d33bd60f982b1ff37c855"
	    "9797a06ef4f0ef61c186324e2b3506383606907b6a7c02b0f9f6157b53c867e4"
	    "b9166c767b804d46a59b5216cde7a4e99040c5a40433225ee282a1b0a06c523e"
	    "af4534d7f83fa1155b0047718cbc546a0d072b04b3564eea1b422273f548271a"
	    "0bb2316053fa76991955ebd63159434ecebb4e466dae5a1073a6727627097a10"
	    "49e617d91d361094fa68f0ff77987130305beaba2eda04df997b714d6c6f2c29"
	    "a6ad5cb4022b02709b"
	    "eead9d67890cbb22392336fea1851f38";		/* tag */
	static const char a5_pt[] =
	    "Internet-Drafts are draft documents valid for a maximum of six "
	    "months and may be updated, replaced, or obsoleted by other "
	    "documents at any time. It is inappropriate to use Internet-Drafts "
	    "as reference material or to cite them other than as "
	    "/\xe2\x80\x9cwork in progress./\xe2\x80\x9d";
	uint8_t k[32], n[12], a[12], want[sizeof(rfc8439_sunscreen) - 1 + 16];
	uint8_t out[sizeof(want)], back[sizeof(want)];
	uint8_t a5c[sizeof(a5_pt) - 1 + 16], a5m[sizeof(a5_pt) - 1];
	size_t mlen = sizeof(rfc8439_sunscreen) - 1, a5len = sizeof(a5_pt) - 1;
	unsigned long long l;

	unhex(k, 32, key);
	unhex(n, 12, nonce);
	unhex(a, 12, ad);
	unhex(want, sizeof(want), ct);
	check(cp->aead_encrypt(out, (const uint8_t *)rfc8439_sunscreen, mlen, a, 12,
	    n, k) == 0 && memcmp(out, want, sizeof(want)) == 0,
	    "RFC 8439 2.8.2 encrypt: provider");
	check(crypto_aead_chacha20poly1305_ietf_encrypt(out, &l,
	    (const uint8_t *)rfc8439_sunscreen, mlen, a, 12, NULL, n, k) == 0 &&
	    memcmp(out, want, sizeof(want)) == 0, "RFC 8439 2.8.2 encrypt: libsodium");
	check(cp->aead_decrypt(back, want, sizeof(want), a, 12, n, k) == 0 &&
	    memcmp(back, rfc8439_sunscreen, mlen) == 0,
	    "RFC 8439 2.8.2 decrypt: provider");

	unhex(k, 32, a5_key);
	unhex(n, 12, a5_nonce);
	unhex(a, 12, a5_ad);
	unhex(a5c, sizeof(a5c), a5_ct);
	check(cp->aead_decrypt(a5m, a5c, sizeof(a5c), a, 12, n, k) == 0 &&
	    memcmp(a5m, a5_pt, a5len) == 0, "RFC 8439 A.5 decrypt: provider");
	check(crypto_aead_chacha20poly1305_ietf_decrypt(a5m, &l, NULL, a5c,
	    sizeof(a5c), a, 12, n, k) == 0 && memcmp(a5m, a5_pt, a5len) == 0,
	    "RFC 8439 A.5 decrypt: libsodium");
	a5c[sizeof(a5c) - 1] ^= 1;
	check(cp->aead_decrypt(a5m, a5c, sizeof(a5c), a, 12, n, k) == SC_ERR_DECRYPT,
	    "RFC 8439 A.5 with a flipped tag bit: provider accepted it");
}

static void
kat_blake2b(const struct sc_crypto *cp)
{
	/* RFC 7693 Appendix A: BLAKE2b-512("abc") */
	static const char *abc =
	    "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d1"
	    "7d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923";
	/* BLAKE2b-512("") */
	static const char *empty =
	    "786a02f742015903c6c6fd852552d272912f4740e15847618a86e217f71f5419"
	    "d25e1031afee585313896444934eb04b903a685b1448b755d56f701afe9be2ce";
	/* BLAKE2 reference package, blake2b-kat.txt (key = 00..3f):
	 * in = "", in = 00, in = 00 01 .. fe (the last entry) */
	static const char *kat0 =
	    "10ebb67700b1868efb4417987acf4690ae9d972fb7a590c2f02871799aaa4786"
	    "b5e996e8f0f4eb981fc214b005f42d2ff4233499391653df7aefcbc13fc51568";
	static const char *kat1 =
	    "961f6dd1e4dd30f63901690c512e78e4b45e4742ed197c3c5e45c549fd25f2e4"
	    "187b0bc9fe30492b16b0d0bc4ef9b0f34c7003fac09a5ef1532e69430234cebd";
	static const char *kat255 =
	    "142709d62e28fcccd0af97fad0f8465b971e82201dc51070faa0372aa43e9248"
	    "4be1c1e73ba10906d5d1853db6a4106e0a7bf9800d373d6dee2d46d62ef2a461";
	uint8_t key[64], in[255], want[64], out[64], lo[64];
	size_t i;

	for (i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)i;
	for (i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)i;
	unhex(want, 64, abc);
	check(sc_hash(cp, out, 64, (const uint8_t *)"abc", 3, NULL, 0) == 0 &&
	    memcmp(out, want, 64) == 0, "RFC 7693 A BLAKE2b(abc): provider");
	crypto_generichash_blake2b(lo, 64, (const uint8_t *)"abc", 3, NULL, 0);
	check(memcmp(lo, want, 64) == 0, "RFC 7693 A BLAKE2b(abc): libsodium");
	unhex(want, 64, empty);
	check(sc_hash(cp, out, 64, in, 0, NULL, 0) == 0 && memcmp(out, want, 64) == 0,
	    "BLAKE2b(\"\"): provider");
	unhex(want, 64, kat0);
	check(sc_hash(cp, out, 64, in, 0, key, 64) == 0 && memcmp(out, want, 64) == 0,
	    "blake2b-kat in=\"\": provider");
	unhex(want, 64, kat1);
	check(sc_hash(cp, out, 64, in, 1, key, 64) == 0 && memcmp(out, want, 64) == 0,
	    "blake2b-kat in=00: provider");
	unhex(want, 64, kat255);
	check(sc_hash(cp, out, 64, in, 255, key, 64) == 0 && memcmp(out, want, 64) == 0,
	    "blake2b-kat in=00..fe: provider");
	crypto_generichash_blake2b(lo, 64, in, 255, key, 64);
	check(memcmp(lo, want, 64) == 0, "blake2b-kat in=00..fe: libsodium");

	/* Parameter checks follow the contract. */
	{
		struct sc_hash_state st;

		check(cp->hash_init(&st, NULL, 0, 0) == SC_ERR_INVAL, "outlen 0 accepted");
		check(cp->hash_init(&st, NULL, 0, 65) == SC_ERR_INVAL, "outlen 65 accepted");
		check(cp->hash_init(&st, key, 65, 32) == SC_ERR_INVAL, "keylen 65 accepted");
	}
}


/*
 * Ed25519 verification (ownership tokens).  ok = the provider's verdict
 * must be "valid"; the same verdict is required of libsodium.
 */
static void
ed_check(const struct sc_crypto *cp, const uint8_t sig[64], const uint8_t *m,
    size_t mlen, const uint8_t pk[32], bool ok, const char *what)
{
	int ra = cp->ed25519_verify(sig, m, mlen, pk);
	int rb = crypto_sign_ed25519_verify_detached(sig, m, mlen, pk);

	check(ok ? ra == 0 : ra == SC_ERR_SIGNATURE, "Ed25519 %s: provider says %d",
	    what, ra);
	check((rb == 0) == ok, "Ed25519 %s: libsodium says %d", what, rb);
}

static void
kat_ed25519(const struct sc_crypto *cp)
{
	static const struct {
		const char *pk, *m, *sig;
	} v[] = {
		{ "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
		  "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
		  "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b" },
		{ "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
		  "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
		  "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00" },
		{ "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
		  "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac"
		  "18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a" },
	};
	/* Small order (the identity, encoded as 1) and a non-canonical y = p. */
	static const char *bad_pk[] = {
		"0100000000000000000000000000000000000000000000000000000000000000",
		"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	};
	uint8_t pk[32], sig[64], m[2], x[64], k[32];
	size_t i, mlen, bit;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		mlen = strlen(v[i].m) / 2;
		unhex(pk, 32, v[i].pk);
		unhex(sig, 64, v[i].sig);
		if (mlen > 0)
			unhex(m, mlen, v[i].m);
		ed_check(cp, sig, m, mlen, pk, true, "RFC 8032 vector");
		for (bit = 0; bit < 64 * 8; bit += 7) {
			memcpy(x, sig, 64);
			x[bit / 8] ^= (uint8_t)(1u << (bit % 8));
			ed_check(cp, x, m, mlen, pk, false, "tampered signature");
		}
		for (bit = 0; bit < 32 * 8; bit += 5) {
			memcpy(k, pk, 32);
			k[bit / 8] ^= (uint8_t)(1u << (bit % 8));
			ed_check(cp, sig, m, mlen, k, false, "changed key");
		}
		if (mlen > 0) {
			m[0] ^= 1;
			ed_check(cp, sig, m, mlen, pk, false, "changed message");
			m[0] ^= 1;
		}
		/* S + L (non-canonical S) must be refused, not reduced. */
		memcpy(x, sig, 64);
		x[63] |= 0xe0;
		ed_check(cp, x, m, mlen, pk, false, "non-canonical S");
	}
	for (i = 0; i < sizeof(bad_pk) / sizeof(bad_pk[0]); i++) {
		unhex(k, 32, bad_pk[i]);
		unhex(sig, 64, v[0].sig);
		ed_check(cp, sig, m, 0, k, false, "small-order or non-canonical key");
	}
}

/* ---- differential ------------------------------------------------------ */

static void
diff_x25519(const struct sc_crypto *cp, unsigned n)
{
	uint8_t sk[32], pk[32], a[32], b[32];
	unsigned i;
	int ra, rb;

	for (i = 0; i < n; i++) {
		det_bytes(sk, 32);
		det_bytes(pk, 32);
		if (i % 8 == 1)		/* non-canonical u >= p */
			memset(pk + 1, 0xff, 31);
		ra = cp->x25519(a, sk, pk);
		rb = crypto_scalarmult_curve25519(b, sk, pk);
		check((ra == 0) == (rb == 0) && (ra != 0 || memcmp(a, b, 32) == 0),
		    "X25519 differs (iteration %u)", i);
		ra = cp->x25519_base(a, sk);
		rb = crypto_scalarmult_curve25519_base(b, sk);
		check(ra == 0 && rb == 0 && memcmp(a, b, 32) == 0,
		    "X25519 base differs (iteration %u)", i);
	}
}

#define ED_MSG_MAX	512

static void
diff_ed25519(const struct sc_crypto *cp, unsigned n)
{
	uint8_t seed[32], pk[32], sk[64], sig[64], m[ED_MSG_MAX];
	unsigned i;
	size_t mlen, bit;
	int ra, rb;

	for (i = 0; i < n; i++) {
		det_bytes(seed, sizeof(seed));
		crypto_sign_ed25519_seed_keypair(pk, sk, seed);
		mlen = det_u32(ED_MSG_MAX + 1);
		det_bytes(m, mlen > 0 ? mlen : 1);
		crypto_sign_ed25519_detached(sig, NULL, m, mlen, sk);
		switch (i % 5) {
		case 1:			/* one bit of the signature */
			bit = det_u32(64 * 8);
			sig[bit / 8] ^= (uint8_t)(1u << (bit % 8));
			break;
		case 2:			/* one bit of the message */
			if (mlen > 0) {
				bit = det_u32((uint32_t)mlen * 8);
				m[bit / 8] ^= (uint8_t)(1u << (bit % 8));
			}
			break;
		case 3:			/* a garbage key */
			det_bytes(pk, sizeof(pk));
			break;
		case 4:			/* a garbage signature */
			det_bytes(sig, sizeof(sig));
			break;
		}
		ra = cp->ed25519_verify(sig, m, mlen, pk);
		rb = crypto_sign_ed25519_verify_detached(sig, m, mlen, pk);
		check((ra == 0) == (rb == 0) && (ra == 0 || ra == SC_ERR_SIGNATURE),
		    "Ed25519 verify differs (iteration %u: %d vs %d)", i, ra, rb);
		check(i % 5 != 0 || ra == 0, "Ed25519: an untouched signature "
		    "fails (iteration %u)", i);
	}
	sodium_memzero(sk, sizeof(sk));
}

#define AEAD_MAX	4096

static void
diff_aead(const struct sc_crypto *cp, unsigned n)
{
	static uint8_t m[AEAD_MAX], ad[256], c1[AEAD_MAX + 16], c2[AEAD_MAX + 16];
	static uint8_t p[AEAD_MAX + 16], inplace[AEAD_MAX + 16];
	uint8_t key[32], nonce[12];
	unsigned i;
	size_t mlen, adlen, bit;
	unsigned long long l;

	for (i = 0; i < n; i++) {
		mlen = det_u32(i % 4 == 0 ? 64 : AEAD_MAX + 1);
		adlen = det_u32(i % 3 == 0 ? 1 : sizeof(ad) + 1);
		det_bytes(key, 32);
		det_bytes(nonce, 12);
		if (mlen)
			det_bytes(m, mlen);
		if (adlen)
			det_bytes(ad, adlen);
		check(cp->aead_encrypt(c1, m, mlen, ad, adlen, nonce, key) == 0,
		    "AEAD encrypt failed (iteration %u)", i);
		crypto_aead_chacha20poly1305_ietf_encrypt(c2, &l, m, mlen, ad, adlen,
		    NULL, nonce, key);
		check(l == mlen + 16 && memcmp(c1, c2, mlen + 16) == 0,
		    "AEAD ciphertext differs (iteration %u, mlen %zu, adlen %zu)",
		    i, mlen, adlen);
		/* In place (c == m). */
		memcpy(inplace, m, mlen);
		check(cp->aead_encrypt(inplace, inplace, mlen, ad, adlen, nonce, key) == 0 &&
		    memcmp(inplace, c2, mlen + 16) == 0,
		    "AEAD in-place encrypt differs (iteration %u)", i);
		check(cp->aead_decrypt(inplace, inplace, mlen + 16, ad, adlen, nonce,
		    key) == 0 && memcmp(inplace, m, mlen) == 0,
		    "AEAD in-place decrypt differs (iteration %u)", i);
		check(cp->aead_decrypt(p, c2, mlen + 16, ad, adlen, nonce, key) == 0 &&
		    memcmp(p, m, mlen) == 0, "AEAD decrypt of libsodium's output "
		    "differs (iteration %u)", i);
		/* One flipped bit anywhere must be refused by both. */
		switch (i % 5) {
		case 0:		/* ciphertext or tag */
			bit = det_u32((uint32_t)(mlen + 16) * 8);
			c2[bit / 8] ^= (uint8_t)(1u << (bit % 8));
			break;
		case 1:		/* tag */
			bit = det_u32(128);
			c2[mlen + bit / 8] ^= (uint8_t)(1u << (bit % 8));
			break;
		case 2:		/* associated data (or append a byte) */
			if (adlen > 0) {
				bit = det_u32((uint32_t)adlen * 8);
				ad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
			} else {
				ad[0] = 0;
				adlen = 1;
			}
			break;
		case 3:
			bit = det_u32(96);
			nonce[bit / 8] ^= (uint8_t)(1u << (bit % 8));
			break;
		default:
			bit = det_u32(256);
			key[bit / 8] ^= (uint8_t)(1u << (bit % 8));
			break;
		}
		memset(p, 0xa5, sizeof(p));
		check(cp->aead_decrypt(p, c2, mlen + 16, ad, adlen, nonce, key) ==
		    SC_ERR_DECRYPT, "AEAD tamper class %u accepted by the provider "
		    "(iteration %u)", i % 5, i);
		check(crypto_aead_chacha20poly1305_ietf_decrypt(p, &l, NULL, c2,
		    mlen + 16, ad, adlen, nonce, key) != 0,
		    "AEAD tamper class %u accepted by libsodium (iteration %u)", i % 5, i);
	}
	check(cp->aead_decrypt(p, c1, 15, NULL, 0, nonce, key) == SC_ERR_DECRYPT,
	    "AEAD: a 15-byte ciphertext was accepted");
}

#define HASH_MAX	3000

static void
diff_blake2b(const struct sc_crypto *cp, unsigned n)
{
	static uint8_t in[HASH_MAX];
	uint8_t key[64], a[64], b[64];
	struct sc_hash_state st;
	crypto_generichash_blake2b_state ls;
	size_t len, keylen, outlen, off, chunk;
	unsigned i;
	bool ok;

	for (i = 0; i < n; i++) {
		len = det_u32(HASH_MAX + 1);
		keylen = i % 2 ? det_u32(65) : 0;
		outlen = 1 + det_u32(64);
		if (len)
			det_bytes(in, len);
		if (keylen)
			det_bytes(key, keylen);
		ok = cp->hash_init(&st, key, keylen, outlen) == 0;
		for (off = 0; ok && off < len; off += chunk) {
			chunk = 1 + det_u32(i % 3 ? 300 : 1 + (uint32_t)(len - off));
			if (chunk > len - off)
				chunk = len - off;
			ok = cp->hash_update(&st, in + off, chunk) == 0;
		}
		ok = ok && cp->hash_final(&st, a, outlen) == 0;
		crypto_generichash_blake2b_init(&ls, keylen ? key : NULL, keylen, outlen);
		crypto_generichash_blake2b_update(&ls, in, len);
		crypto_generichash_blake2b_final(&ls, b, outlen);
		check(ok && memcmp(a, b, outlen) == 0,
		    "BLAKE2b differs (iteration %u, len %zu, keylen %zu, outlen %zu)",
		    i, len, keylen, outlen);
	}
}

/* ---- generator ----------------------------------------------------------- */

static size_t fixed_calls;

static size_t
src_fixed(void *arg, uint8_t *buf, size_t len)
{
	size_t i;

	(void)arg;
	for (i = 0; i < len; i++)
		buf[i] = (uint8_t)(i * 7 + fixed_calls);
	fixed_calls++;
	return len;
}

static size_t
src_short(void *arg, uint8_t *buf, size_t len)
{
	(void)arg;
	if (len > SC_REF_SEED_MIN - 1)
		len = SC_REF_SEED_MIN - 1;
	randombytes_buf(buf, len);
	return len;
}

static size_t
src_os(void *arg, uint8_t *buf, size_t len)
{
	(void)arg;
	randombytes_buf(buf, len);
	return len;
}

static void
test_rng(const struct sc_crypto *cp)
{
	static uint8_t big[1 << 20];
	uint8_t a[64], b[64], blocks[256][32];
	unsigned long hist[256];
	size_t i, j;
	bool dup = false, hist_ok = true;

	check(sc_ref_rng_init(src_short, NULL, NULL, 0) == SC_ERR_UNSUPPORTED &&
	    !sc_ref_rng_seeded(), "rng: seeded from 31 bytes of entropy");

	/* Same source, same extra data -> same stream; other extra -> other. */
	fixed_calls = 0;
	check(sc_ref_rng_init(src_fixed, NULL, "x", 1) == 0, "rng: seeding failed");
	cp->random(a, sizeof(a));
	fixed_calls = 0;
	check(sc_ref_rng_init(src_fixed, NULL, "x", 1) == 0, "rng: seeding failed");
	cp->random(b, sizeof(b));
	check(memcmp(a, b, sizeof(a)) == 0, "rng: not a function of its inputs");
	fixed_calls = 0;
	check(sc_ref_rng_init(src_fixed, NULL, "y", 1) == 0, "rng: seeding failed");
	cp->random(b, sizeof(b));
	check(memcmp(a, b, sizeof(a)) != 0, "rng: extra data not mixed in");
	cp->random(a, sizeof(a));
	check(memcmp(a, b, sizeof(a)) != 0, "rng: two calls gave the same bytes");

	/* The real source: no repeated blocks, plausible byte frequencies. */
	check(sc_ref_rng_init(src_os, NULL, NULL, 0) == 0 && sc_ref_rng_seeded(),
	    "rng: seeding from the OS failed");
	for (i = 0; i < 256; i++)
		cp->random(blocks[i], 32);
	for (i = 0; i < 256 && !dup; i++)
		for (j = i + 1; j < 256; j++)
			if (memcmp(blocks[i], blocks[j], 32) == 0)
				dup = true;
	check(!dup, "rng: a 32-byte block repeated");
	cp->random(big, sizeof(big));
	memset(hist, 0, sizeof(hist));
	for (i = 0; i < sizeof(big); i++)
		hist[big[i]]++;
	for (i = 0; i < 256; i++)	/* expected 4096 each; 10 sigma ~ 640 */
		if (hist[i] < 4096 - 640 || hist[i] > 4096 + 640)
			hist_ok = false;
	check(hist_ok, "rng: byte frequencies far from uniform");
}

int
main(int argc, char **argv)
{
	const struct sc_crypto *cp = sc_crypto_ref();
	unsigned n = 2000;
	int opt;
	size_t i;

	if (sodium_init() < 0) {
		fprintf(stderr, "crypto-diff: sodium_init failed\n");
		return 2;
	}
	randombytes_buf(detseed, sizeof(detseed));
	while ((opt = getopt(argc, argv, "n:s:")) != -1) {
		switch (opt) {
		case 'n':
			n = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 's':
			unhex(detseed, sizeof(detseed), optarg);
			break;
		default:
			fprintf(stderr, "usage: crypto-diff [-n N] [-s SEED]\n");
			return 2;
		}
	}
	printf("crypto-diff: provider %s vs libsodium %s, %u iterations, seed ",
	    cp->name, sodium_version_string(), n);
	for (i = 0; i < sizeof(detseed); i++)
		printf("%02x", detseed[i]);
	putchar('\n');
	if (sc_ref_rng_init(src_os, NULL, NULL, 0) != 0) {
		fprintf(stderr, "crypto-diff: cannot seed the provider\n");
		return 2;
	}

	kat_x25519(cp);
	kat_low_order(cp);
	kat_aead(cp);
	kat_blake2b(cp);
	kat_ed25519(cp);
	printf("known answers: %lu checks, %lu failed\n", checks, failures);
	diff_x25519(cp, n / 4);
	diff_aead(cp, n);
	diff_blake2b(cp, n);
	diff_ed25519(cp, n / 4);
	test_rng(cp);
	printf("crypto-diff: %lu checks, %lu differences\n", checks, failures);
	return failures == 0 ? 0 : 1;
}
