/*
 * noise.c — the Noise protocol framework, revision 34, for
 * 25519 / ChaChaPoly / BLAKE2b (contract in core/noise.h).
 *
 * Shape (after noise-c, WireGuard and OpenSSH):
 *   - HMAC-BLAKE2b and HKDF (§4.3) built on the provider's unkeyed BLAKE2b-512
 *     with BLOCKLEN 128;
 *   - CipherState and SymmetricState (§5.1, §5.2) as small static functions;
 *   - one HandshakeState engine (§5.3) driven by the pattern table of
 *     noise_pattern.c (§7, §18) plus psk modifiers (§9), with exactly one
 *     function per message direction (sc_noise_hs_write / sc_noise_hs_read)
 *     and one commented case per token;
 *   - secrets on the stack are wiped at a single exit label; any failure
 *     poisons the handshake (every later call returns SC_ERR_STATE).
 *
 * Freestanding: only core/ headers, every primitive through struct sc_crypto.
 */
#include "core/compat.h"
#include "core/err.h"
#include "core/crypto.h"
#include "core/buf.h"
#include "core/noise.h"
#include "core/noise_pattern.h"

#define BLOCKLEN	SC_HASH_BLOCKLEN	/* BLAKE2b block, HMAC pad length */
#define HASHLEN		SC_NOISE_HASHLEN
#define DHLEN		SC_NOISE_DHLEN
#define KEYLEN		SC_NOISE_KEYLEN
#define TAGLEN		SC_NOISE_TAGLEN
#define NONCELEN	SC_AEAD_NONCELEN

_Static_assert(HASHLEN == SC_HASHLEN, "Noise HASHLEN is BLAKE2b-512");
_Static_assert(KEYLEN == SC_AEAD_KEYLEN, "cipher key length");
_Static_assert(TAGLEN == SC_AEAD_TAGLEN, "AEAD tag length");
_Static_assert(DHLEN == SC_X25519_LEN, "DH length");

/* ------------------------------------------------------------------ */
/* Hash, HMAC, HKDF (§4.3)                                             */
/* ------------------------------------------------------------------ */

static void
wipe(const struct sc_crypto *cp, void *p, size_t n)
{
	volatile uint8_t *v = p;

	if (cp != NULL && cp->memzero != NULL) {
		cp->memzero(p, n);
		return;
	}
	/* No provider (an uninitialised struct): a byte loop the compiler must keep. */
	while (n-- > 0)
		*v++ = 0;
}

/* HMAC-BLAKE2b (RFC 2104, B = 128): out = HMAC(key, d1 || d2). */
static int
hmac(const struct sc_crypto *cp, uint8_t out[HASHLEN], const uint8_t *key,
    size_t keylen, const uint8_t *d1, size_t l1, const uint8_t *d2, size_t l2)
{
	struct sc_hash_state st;
	uint8_t pad[BLOCKLEN];
	uint8_t inner[HASHLEN];
	size_t i;
	int r;

	/* Keys are ck or temp_key (HASHLEN <= BLOCKLEN): never pre-hashed. */
	if (keylen > BLOCKLEN)
		return SC_ERR_INTERNAL;
	for (i = 0; i < BLOCKLEN; i++)
		pad[i] = (uint8_t)((i < keylen ? key[i] : 0) ^ 0x36);
	if ((r = cp->hash_init(&st, NULL, 0, HASHLEN)) != 0 ||
	    (r = cp->hash_update(&st, pad, BLOCKLEN)) != 0 ||
	    (l1 > 0 && (r = cp->hash_update(&st, d1, l1)) != 0) ||
	    (l2 > 0 && (r = cp->hash_update(&st, d2, l2)) != 0) ||
	    (r = cp->hash_final(&st, inner, HASHLEN)) != 0)
		goto out;
	for (i = 0; i < BLOCKLEN; i++)
		pad[i] ^= 0x36 ^ 0x5c;
	if ((r = cp->hash_init(&st, NULL, 0, HASHLEN)) != 0 ||
	    (r = cp->hash_update(&st, pad, BLOCKLEN)) != 0 ||
	    (r = cp->hash_update(&st, inner, HASHLEN)) != 0 ||
	    (r = cp->hash_final(&st, out, HASHLEN)) != 0)
		goto out;
out:
	wipe(cp, &st, sizeof(st));
	wipe(cp, pad, sizeof(pad));
	wipe(cp, inner, sizeof(inner));
	return r;
}

/*
 * HKDF(ck, ikm) with two or three outputs (o3 may be NULL).  Outputs are
 * computed into locals first, so they may alias ck.
 */
static int
hkdf(const struct sc_crypto *cp, const uint8_t ck[HASHLEN], const uint8_t *ikm,
    size_t ikmlen, uint8_t o1[HASHLEN], uint8_t o2[HASHLEN], uint8_t *o3)
{
	uint8_t temp_key[HASHLEN], t1[HASHLEN], t2[HASHLEN], t3[HASHLEN];
	const uint8_t one = 0x01, two = 0x02, three = 0x03;
	int r;

	if ((r = hmac(cp, temp_key, ck, HASHLEN, ikm, ikmlen, NULL, 0)) != 0 ||
	    (r = hmac(cp, t1, temp_key, HASHLEN, &one, 1, NULL, 0)) != 0 ||
	    (r = hmac(cp, t2, temp_key, HASHLEN, t1, HASHLEN, &two, 1)) != 0 ||
	    (o3 != NULL &&
	    (r = hmac(cp, t3, temp_key, HASHLEN, t2, HASHLEN, &three, 1)) != 0))
		goto out;
	sc_memcpy(o1, t1, HASHLEN);
	sc_memcpy(o2, t2, HASHLEN);
	if (o3 != NULL)
		sc_memcpy(o3, t3, HASHLEN);
out:
	wipe(cp, temp_key, sizeof(temp_key));
	wipe(cp, t1, sizeof(t1));
	wipe(cp, t2, sizeof(t2));
	wipe(cp, t3, sizeof(t3));
	return r;
}

/* ------------------------------------------------------------------ */
/* CipherState (§5.1), ChaChaPoly (§12.3)                              */
/* ------------------------------------------------------------------ */

/* 96-bit nonce: 32 zero bits then the 64-bit counter, little-endian. */
static void
make_nonce(uint8_t nonce[NONCELEN], uint64_t n)
{
	unsigned i;

	for (i = 0; i < 4; i++)
		nonce[i] = 0;
	for (i = 0; i < 8; i++)
		nonce[4 + i] = (uint8_t)(n >> (8 * i));
}

static void
cipher_init_key(struct sc_noise_cipher *c, const uint8_t *k)
{
	sc_memcpy(c->k, k, KEYLEN);
	c->n = 0;
	c->has_key = true;
}

/*
 * EncryptWithAd: without a key the plaintext is copied (Noise semantics,
 * used only inside the handshake); with one, out gets len + TAGLEN bytes.
 * pt and out may be the same buffer.
 */
int
sc_noise_cipher_encrypt(const struct sc_crypto *cp, struct sc_noise_cipher *c,
    const uint8_t *ad, size_t adlen, const uint8_t *pt, size_t len,
    uint8_t *out)
{
	uint8_t nonce[NONCELEN];
	int r;

	if (!c->has_key) {
		if (len > 0)
			sc_memmove(out, pt, len);
		return 0;
	}
	if (c->n == SC_NOISE_NONCE_MAX)
		return SC_ERR_NONCE;
	make_nonce(nonce, c->n);
	if ((r = cp->aead_encrypt(out, pt, len, ad, adlen, nonce, c->k)) != 0)
		return r;
	c->n++;
	return 0;
}

/*
 * DecryptWithAd: out gets len - TAGLEN bytes.  On an authentication failure
 * nothing is written and n is not advanced (§5.1).
 */
int
sc_noise_cipher_decrypt(const struct sc_crypto *cp, struct sc_noise_cipher *c,
    const uint8_t *ad, size_t adlen, const uint8_t *ct, size_t len,
    uint8_t *out)
{
	uint8_t nonce[NONCELEN];
	int r;

	if (!c->has_key) {
		if (len > 0)
			sc_memmove(out, ct, len);
		return 0;
	}
	if (len < TAGLEN)
		return SC_ERR_DECRYPT;
	if (c->n == SC_NOISE_NONCE_MAX)
		return SC_ERR_NONCE;
	make_nonce(nonce, c->n);
	if ((r = cp->aead_decrypt(out, ct, len, ad, adlen, nonce, c->k)) != 0)
		return r == SC_ERR_DECRYPT ? r : SC_ERR_DECRYPT;
	c->n++;
	return 0;
}

/* §4.2 default REKEY(k) = ENCRYPT(k, 2^64-1, empty, zeros)[0..32]; n unchanged. */
static int
cipher_rekey(const struct sc_crypto *cp, struct sc_noise_cipher *c)
{
	uint8_t zeros[KEYLEN], out[KEYLEN + TAGLEN], nonce[NONCELEN];
	int r;

	if (!c->has_key)
		return SC_ERR_STATE;
	sc_memset(zeros, 0, sizeof(zeros));
	make_nonce(nonce, SC_NOISE_NONCE_MAX);
	if ((r = cp->aead_encrypt(out, zeros, KEYLEN, NULL, 0, nonce, c->k)) != 0)
		goto out;
	sc_memcpy(c->k, out, KEYLEN);
out:
	wipe(cp, out, sizeof(out));
	return r;
}

/* ------------------------------------------------------------------ */
/* SymmetricState (§5.2)                                               */
/* ------------------------------------------------------------------ */

static int
mix_hash(const struct sc_crypto *cp, struct sc_noise_symmetric *ss,
    const uint8_t *data, size_t len)
{
	struct sc_hash_state st;
	int r;

	/* Runs even for empty data: h = HASH(h). */
	if ((r = cp->hash_init(&st, NULL, 0, HASHLEN)) != 0 ||
	    (r = cp->hash_update(&st, ss->h, HASHLEN)) != 0 ||
	    (len > 0 && (r = cp->hash_update(&st, data, len)) != 0) ||
	    (r = cp->hash_final(&st, ss->h, HASHLEN)) != 0)
		goto out;
out:
	wipe(cp, &st, sizeof(st));
	return r;
}

/* ck, temp_k = HKDF(ck, ikm, 2); k = temp_k[0..32] (HASHLEN 64 truncation). */
static int
mix_key(const struct sc_crypto *cp, struct sc_noise_symmetric *ss,
    const uint8_t *ikm, size_t len)
{
	uint8_t temp_k[HASHLEN];
	int r;

	if ((r = hkdf(cp, ss->ck, ikm, len, ss->ck, temp_k, NULL)) != 0)
		goto out;
	cipher_init_key(&ss->cs, temp_k);
out:
	wipe(cp, temp_k, sizeof(temp_k));
	return r;
}

/* ck, temp_h, temp_k = HKDF(ck, ikm, 3); MixHash(temp_h); k = temp_k[0..32]. */
static int
mix_key_and_hash(const struct sc_crypto *cp, struct sc_noise_symmetric *ss,
    const uint8_t *ikm, size_t len)
{
	uint8_t temp_h[HASHLEN], temp_k[HASHLEN];
	int r;

	if ((r = hkdf(cp, ss->ck, ikm, len, ss->ck, temp_h, temp_k)) != 0 ||
	    (r = mix_hash(cp, ss, temp_h, HASHLEN)) != 0)
		goto out;
	cipher_init_key(&ss->cs, temp_k);
out:
	wipe(cp, temp_h, sizeof(temp_h));
	wipe(cp, temp_k, sizeof(temp_k));
	return r;
}

/* ct = EncryptWithAd(h, pt); MixHash(ct).  out holds len (+ TAGLEN if keyed). */
static int
encrypt_and_hash(const struct sc_crypto *cp, struct sc_noise_symmetric *ss,
    const uint8_t *pt, size_t len, uint8_t *out)
{
	size_t ctlen = len + (ss->cs.has_key ? TAGLEN : 0);
	int r;

	if ((r = sc_noise_cipher_encrypt(cp, &ss->cs, ss->h, HASHLEN, pt, len,
	    out)) != 0)
		return r;
	return mix_hash(cp, ss, out, ctlen);
}

/*
 * pt = DecryptWithAd(h, ct); MixHash(ct).  The new h is computed before
 * decrypting so that ct and out may overlap; it is kept only on success.
 */
static int
decrypt_and_hash(const struct sc_crypto *cp, struct sc_noise_symmetric *ss,
    const uint8_t *ct, size_t len, uint8_t *out)
{
	struct sc_noise_symmetric next;
	int r;

	sc_memcpy(next.h, ss->h, HASHLEN);
	if ((r = mix_hash(cp, &next, ct, len)) != 0)
		goto out;
	if ((r = sc_noise_cipher_decrypt(cp, &ss->cs, ss->h, HASHLEN, ct, len,
	    out)) != 0)
		goto out;
	sc_memcpy(ss->h, next.h, HASHLEN);
out:
	wipe(cp, next.h, sizeof(next.h));
	return r;
}

/* ------------------------------------------------------------------ */
/* HandshakeState (§5.3)                                               */
/* ------------------------------------------------------------------ */

/* Wipe every secret and make every later call fail with SC_ERR_STATE. */
static void
poison(struct sc_noise_handshake *hs)
{
	const struct sc_crypto *cp = hs->cp;

	wipe(cp, &hs->ss, sizeof(hs->ss));
	wipe(cp, hs->s_sk, sizeof(hs->s_sk));
	wipe(cp, hs->e_sk, sizeof(hs->e_sk));
	wipe(cp, hs->psks, sizeof(hs->psks));
	hs->has_e = false;
	hs->fixed_e = false;
	hs->failed = true;
}

static bool
usable(const struct sc_noise_handshake *hs)
{
	return hs != NULL && hs->cp != NULL && hs->pattern != NULL && !hs->failed;
}

/* Which side sends message m: the initiator first, then alternating. */
static bool
initiator_sends(unsigned m)
{
	return (m % 2) == 0;
}

static bool
psk_mode(const struct sc_noise_handshake *hs)
{
	return hs->pattern->psk_mask != 0;
}

bool
sc_noise_hs_complete(const struct sc_noise_handshake *hs)
{
	return usable(hs) && hs->msg_index >= sc_noise_base(hs->pattern)->nmsgs;
}

bool
sc_noise_hs_my_turn(const struct sc_noise_handshake *hs)
{
	return usable(hs) && !sc_noise_hs_complete(hs) &&
	    initiator_sends(hs->msg_index) == hs->initiator;
}

const uint8_t *
sc_noise_hs_hash(const struct sc_noise_handshake *hs)
{
	return hs->ss.h;
}

const uint8_t *
sc_noise_hs_remote_static(const struct sc_noise_handshake *hs)
{
	return hs->has_rs ? hs->rs : NULL;
}

void
sc_noise_hs_wipe(struct sc_noise_handshake *hs)
{
	if (hs != NULL)
		wipe(hs->cp, hs, sizeof(*hs));
}

int
sc_noise_hs_init(struct sc_noise_handshake *hs, const struct sc_crypto *cp,
    const struct sc_noise_pattern *pattern, bool initiator,
    const uint8_t *prologue, size_t prologue_len,
    const uint8_t *s_sk, const uint8_t *rs,
    const uint8_t *psks, unsigned npsks)
{
	const struct base_pattern *b;
	char name[SC_NOISE_NAME_MAX];
	size_t namelen;
	unsigned need;
	bool want_s, want_rs;
	int r;

	if (hs == NULL)
		return SC_ERR_INVAL;
	wipe(cp, hs, sizeof(*hs));
	hs->failed = true;	/* until initialisation succeeds */
	if (cp == NULL || pattern == NULL ||
	    (prologue == NULL && prologue_len > 0))
		return SC_ERR_INVAL;
	b = sc_noise_base(pattern);
	need = sc_noise_pattern_needs(pattern);
	want_s = (need & (initiator ? SC_NOISE_NEED_INIT_S : SC_NOISE_NEED_RESP_S)) != 0;
	want_rs = (need & (initiator ? SC_NOISE_NEED_INIT_RS : SC_NOISE_NEED_RESP_RS)) != 0;
	/* Exactly the keys the pattern calls for: a mismatch is a caller bug. */
	if ((s_sk != NULL) != want_s || (rs != NULL) != want_rs ||
	    npsks != sc_noise_pattern_psks(pattern) || npsks > SC_NOISE_MAX_PSKS ||
	    (npsks > 0 && psks == NULL))
		return SC_ERR_INVAL;

	hs->cp = cp;
	hs->pattern = pattern;
	hs->initiator = initiator;
	hs->failed = false;

	/* InitializeSymmetric(protocol_name): pad if <= HASHLEN, else hash. */
	namelen = sc_noise_build_name(pattern, name);
	if (namelen <= HASHLEN) {
		sc_memset(hs->ss.h, 0, HASHLEN);
		sc_memcpy(hs->ss.h, name, namelen);
	} else if ((r = sc_hash(cp, hs->ss.h, HASHLEN, (const uint8_t *)name,
	    namelen, NULL, 0)) != 0)
		goto fail;
	sc_memcpy(hs->ss.ck, hs->ss.h, HASHLEN);
	hs->ss.cs.has_key = false;
	hs->ss.cs.n = 0;

	/* MixHash(prologue), also when it is empty. */
	if ((r = mix_hash(cp, &hs->ss, prologue, prologue_len)) != 0)
		goto fail;

	if (s_sk != NULL) {
		sc_memcpy(hs->s_sk, s_sk, DHLEN);
		if ((r = cp->x25519_base(hs->s_pk, hs->s_sk)) != 0)
			goto fail;
		hs->has_s = true;
	}
	if (rs != NULL) {
		sc_memcpy(hs->rs, rs, DHLEN);
		hs->has_rs = true;
	}
	if (npsks > 0)
		sc_memcpy(hs->psks, psks, (size_t)npsks * SC_NOISE_PSKLEN);
	hs->npsks = npsks;

	/* Pre-messages, the initiator's first: MixHash of each static key. */
	if (b->pre_i == T_S &&
	    (r = mix_hash(cp, &hs->ss, initiator ? hs->s_pk : hs->rs, DHLEN)) != 0)
		goto fail;
	if (b->pre_r == T_S &&
	    (r = mix_hash(cp, &hs->ss, initiator ? hs->rs : hs->s_pk, DHLEN)) != 0)
		goto fail;
	r = 0;
	goto out;
fail:
	poison(hs);
out:
	wipe(cp, name, sizeof(name));
	return r;
}

int
sc_noise_hs_set_fixed_ephemeral(struct sc_noise_handshake *hs,
    const uint8_t e_sk[SC_NOISE_DHLEN])
{
	if (!usable(hs) || hs->has_e || e_sk == NULL)
		return SC_ERR_STATE;
	sc_memcpy(hs->e_sk, e_sk, DHLEN);
	hs->fixed_e = true;
	return 0;
}

/* The psk token: MixKeyAndHash with the next psk, in pattern order. */
static int
mix_next_psk(struct sc_noise_handshake *hs)
{
	if (hs->psk_index >= hs->npsks)
		return SC_ERR_INTERNAL;
	return mix_key_and_hash(hs->cp, &hs->ss, hs->psks[hs->psk_index++],
	    SC_NOISE_PSKLEN);
}

/*
 * DH for the tokens ee, es, se, ss from this side's point of view, then
 * MixKey(result).  "es" is DH(e, rs) for the initiator and DH(s, re) for
 * the responder; "se" is the mirror.  A low-order peer key makes the
 * provider fail (SC_ERR_BADKEY) and the handshake with it.
 */
static int
dh_mix(struct sc_noise_handshake *hs, enum token tok)
{
	const struct sc_crypto *cp = hs->cp;
	const uint8_t *sk, *pk;
	bool sk_ok, pk_ok;
	uint8_t dh[DHLEN];
	bool local_e;
	int r;

	switch (tok) {
	case T_EE:
		local_e = true;
		pk = hs->re;
		pk_ok = hs->has_re;
		break;
	case T_ES:
		local_e = hs->initiator;
		pk = hs->initiator ? hs->rs : hs->re;
		pk_ok = hs->initiator ? hs->has_rs : hs->has_re;
		break;
	case T_SE:
		local_e = !hs->initiator;
		pk = hs->initiator ? hs->re : hs->rs;
		pk_ok = hs->initiator ? hs->has_re : hs->has_rs;
		break;
	case T_SS:
		local_e = false;
		pk = hs->rs;
		pk_ok = hs->has_rs;
		break;
	default:
		return SC_ERR_INTERNAL;
	}
	sk = local_e ? hs->e_sk : hs->s_sk;
	sk_ok = local_e ? hs->has_e : hs->has_s;
	if (!sk_ok || !pk_ok)
		return SC_ERR_INTERNAL;	/* the pattern table is inconsistent */
	if ((r = cp->x25519(dh, sk, pk)) != 0)
		goto out;
	r = mix_key(cp, &hs->ss, dh, DHLEN);
out:
	wipe(cp, dh, sizeof(dh));
	return r;
}

/*
 * Undo a partial append: b->len was len and base its write position then
 * (from sc_buf_reserve(b, 0, &base)).  The appended bytes are wiped.
 */
static void
truncate_to(const struct sc_crypto *cp, struct sc_buf *b, size_t len,
    uint8_t *base)
{
	if (b->len > len) {
		wipe(cp, base, b->len - len);
		b->len = len;
	}
}

/*
 * WriteMessage (§5.3): append the next handshake message, carrying payload,
 * to out.  On failure out is left as it was and the handshake is poisoned.
 */
int
sc_noise_hs_write(struct sc_noise_handshake *hs, const uint8_t *payload,
    size_t payload_len, struct sc_buf *out)
{
	const struct sc_crypto *cp;
	uint8_t tokens[MAX_MSG_TOKENS];
	size_t start, n;
	uint8_t *p, *base;
	unsigned t;
	int r;

	if (!usable(hs) || out == NULL)
		return SC_ERR_STATE;
	cp = hs->cp;
	start = out->len;
	if (sc_buf_reserve(out, 0, &base) != 0)	/* where our bytes will start */
		return SC_ERR_INTERNAL;
	if (!sc_noise_hs_my_turn(hs)) {
		r = SC_ERR_STATE;
		goto fail;
	}
	if (payload_len > SC_NOISE_MSG_MAX || (payload == NULL && payload_len > 0)) {
		r = payload_len > SC_NOISE_MSG_MAX ? SC_ERR_TOOLONG : SC_ERR_INVAL;
		goto fail;
	}
	sc_noise_msg_tokens(hs->pattern, hs->msg_index, tokens);
	for (t = 0; tokens[t] != T_END; t++) {
		switch (tokens[t]) {
		case T_E:
			/* e: e = GENERATE_KEYPAIR() (or the fixed test key);
			 * write e.pub; MixHash(e.pub); in psk mode MixKey(e.pub). */
			if (!hs->fixed_e)
				cp->random(hs->e_sk, DHLEN);
			hs->fixed_e = false;
			if ((r = cp->x25519_base(hs->e_pk, hs->e_sk)) != 0)
				goto fail;
			hs->has_e = true;
			if ((r = sc_buf_put_bytes(out, hs->e_pk, DHLEN)) != 0 ||
			    (r = mix_hash(cp, &hs->ss, hs->e_pk, DHLEN)) != 0 ||
			    (psk_mode(hs) &&
			    (r = mix_key(cp, &hs->ss, hs->e_pk, DHLEN)) != 0))
				goto fail;
			break;
		case T_S:
			/* s: write EncryptAndHash(s.pub): 32 bytes, +16 if keyed. */
			n = DHLEN + (hs->ss.cs.has_key ? TAGLEN : 0);
			if ((r = sc_buf_reserve(out, n, &p)) != 0 ||
			    (r = encrypt_and_hash(cp, &hs->ss, hs->s_pk, DHLEN, p)) != 0)
				goto fail;
			break;
		case T_EE:
			/* ee: MixKey(DH(e, re)) */
		case T_ES:
			/* es: MixKey(DH(e, rs)) initiator, MixKey(DH(s, re)) responder */
		case T_SE:
			/* se: MixKey(DH(s, re)) initiator, MixKey(DH(e, rs)) responder */
		case T_SS:
			/* ss: MixKey(DH(s, rs)) */
			if ((r = dh_mix(hs, tokens[t])) != 0)
				goto fail;
			break;
		case T_PSK:
			/* psk: MixKeyAndHash(next psk) */
			if ((r = mix_next_psk(hs)) != 0)
				goto fail;
			break;
		default:
			r = SC_ERR_INTERNAL;
			goto fail;
		}
	}
	/* payload: EncryptAndHash(payload), even when it is empty. */
	n = payload_len + (hs->ss.cs.has_key ? TAGLEN : 0);
	if ((r = sc_buf_reserve(out, n, &p)) != 0 ||
	    (r = encrypt_and_hash(cp, &hs->ss, payload, payload_len, p)) != 0)
		goto fail;
	if (out->len - start > SC_NOISE_MSG_MAX) {
		r = SC_ERR_TOOLONG;
		goto fail;
	}
	hs->msg_index++;
	return 0;
fail:
	truncate_to(cp, out, start, base);
	poison(hs);
	return r;
}

/*
 * ReadMessage (§5.3): consume the next handshake message and append its
 * payload to payload_out.  Any malformed, truncated, oversized or
 * inauthentic message, or a low-order key, poisons the handshake; on
 * failure payload_out is left as it was.
 */
int
sc_noise_hs_read(struct sc_noise_handshake *hs, const uint8_t *msg,
    size_t msg_len, struct sc_buf *payload_out)
{
	const struct sc_crypto *cp;
	uint8_t tokens[MAX_MSG_TOKENS];
	uint8_t rs[DHLEN];
	const uint8_t *v;
	struct sc_buf in;
	size_t start, n;
	uint8_t *p, *base;
	unsigned t;
	int r;

	if (!usable(hs) || payload_out == NULL)
		return SC_ERR_STATE;
	cp = hs->cp;
	start = payload_out->len;
	if (sc_buf_reserve(payload_out, 0, &base) != 0)
		return SC_ERR_INTERNAL;
	if (sc_noise_hs_my_turn(hs) || sc_noise_hs_complete(hs)) {
		r = SC_ERR_STATE;
		goto fail;
	}
	if (msg == NULL && msg_len > 0) {
		r = SC_ERR_INVAL;
		goto fail;
	}
	if (msg_len > SC_NOISE_MSG_MAX) {
		r = SC_ERR_TOOLONG;
		goto fail;
	}
	sc_buf_init_ro(&in, msg, msg_len);
	sc_noise_msg_tokens(hs->pattern, hs->msg_index, tokens);
	for (t = 0; tokens[t] != T_END; t++) {
		switch (tokens[t]) {
		case T_E:
			/* e: re = next DHLEN bytes; MixHash(re); in psk mode MixKey(re). */
			if ((r = sc_buf_get_bytes(&in, hs->re, DHLEN)) != 0)
				goto fail;
			hs->has_re = true;
			if ((r = mix_hash(cp, &hs->ss, hs->re, DHLEN)) != 0 ||
			    (psk_mode(hs) &&
			    (r = mix_key(cp, &hs->ss, hs->re, DHLEN)) != 0))
				goto fail;
			break;
		case T_S:
			/* s: rs = DecryptAndHash(next DHLEN (+16 if keyed) bytes). */
			n = DHLEN + (hs->ss.cs.has_key ? TAGLEN : 0);
			if ((r = sc_buf_get_view(&in, n, &v)) != 0 ||
			    (r = decrypt_and_hash(cp, &hs->ss, v, n, rs)) != 0)
				goto fail;
			sc_memcpy(hs->rs, rs, DHLEN);
			hs->has_rs = true;
			break;
		case T_EE:
			/* ee: MixKey(DH(e, re)) */
		case T_ES:
			/* es: MixKey(DH(e, rs)) initiator, MixKey(DH(s, re)) responder */
		case T_SE:
			/* se: MixKey(DH(s, re)) initiator, MixKey(DH(e, rs)) responder */
		case T_SS:
			/* ss: MixKey(DH(s, rs)) */
			if ((r = dh_mix(hs, tokens[t])) != 0)
				goto fail;
			break;
		case T_PSK:
			/* psk: MixKeyAndHash(next psk) */
			if ((r = mix_next_psk(hs)) != 0)
				goto fail;
			break;
		default:
			r = SC_ERR_INTERNAL;
			goto fail;
		}
	}
	/* payload: DecryptAndHash(the rest), which is at least the tag if keyed. */
	n = sc_buf_avail(&in);
	if (hs->ss.cs.has_key && n < TAGLEN) {
		r = SC_ERR_TRUNCATED;
		goto fail;
	}
	if ((r = sc_buf_get_view(&in, n, &v)) != 0 ||
	    (r = sc_buf_reserve(payload_out, n - (hs->ss.cs.has_key ? TAGLEN : 0),
	    &p)) != 0 ||
	    (r = decrypt_and_hash(cp, &hs->ss, v, n, p)) != 0)
		goto fail;
	hs->msg_index++;
	r = 0;
	goto out;
fail:
	truncate_to(cp, payload_out, start, base);
	poison(hs);
out:
	wipe(cp, rs, sizeof(rs));
	return r;
}

/*
 * Split (§5.2): c1 (initiator -> responder) and c2 (responder -> initiator)
 * from HKDF(ck, empty, 2), each truncated to 32 bytes; oriented for this
 * side.  One-way patterns leave the responder's sending and the initiator's
 * receiving cipher without a key (any use is SC_ERR_STATE).
 */
int
sc_noise_hs_split(struct sc_noise_handshake *hs, struct sc_noise_transport *t)
{
	const struct sc_crypto *cp;
	uint8_t k1[HASHLEN], k2[HASHLEN];
	struct sc_noise_cipher *c1, *c2;
	bool one_way;
	int r;

	if (t == NULL || !sc_noise_hs_complete(hs))
		return SC_ERR_STATE;
	cp = hs->cp;
	wipe(cp, t, sizeof(*t));
	if ((r = hkdf(cp, hs->ss.ck, NULL, 0, k1, k2, NULL)) != 0) {
		poison(hs);
		goto out;
	}
	t->cp = cp;
	c1 = hs->initiator ? &t->send : &t->recv;
	c2 = hs->initiator ? &t->recv : &t->send;
	cipher_init_key(c1, k1);
	cipher_init_key(c2, k2);
	one_way = sc_noise_base(hs->pattern)->nmsgs == 1;
	if (one_way)
		wipe(cp, c2, sizeof(*c2));
	sc_memcpy(t->handshake_hash, hs->ss.h, HASHLEN);
	if (hs->has_rs) {
		sc_memcpy(t->remote_static, hs->rs, DHLEN);
		t->has_remote_static = true;
	}
	sc_noise_hs_wipe(hs);
	r = 0;
out:
	wipe(cp, k1, sizeof(k1));
	wipe(cp, k2, sizeof(k2));
	return r;
}

/* ------------------------------------------------------------------ */
/* Transport                                                           */
/* ------------------------------------------------------------------ */

int
sc_noise_encrypt(struct sc_noise_transport *t, const uint8_t *pt, size_t len,
    struct sc_buf *out)
{
	size_t start;
	uint8_t *p;
	int r;

	if (t == NULL || t->cp == NULL || out == NULL || !t->send.has_key)
		return SC_ERR_STATE;
	if (pt == NULL && len > 0)
		return SC_ERR_INVAL;
	if (len > SC_NOISE_MSG_MAX - TAGLEN)
		return SC_ERR_TOOLONG;
	start = out->len;
	if ((r = sc_buf_reserve(out, len + TAGLEN, &p)) != 0)
		return r;
	if ((r = sc_noise_cipher_encrypt(t->cp, &t->send, NULL, 0, pt, len, p)) != 0)
		truncate_to(t->cp, out, start, p);
	return r;
}

int
sc_noise_decrypt(struct sc_noise_transport *t, const uint8_t *ct, size_t len,
    struct sc_buf *out)
{
	size_t start;
	uint8_t *p;
	int r;

	if (t == NULL || t->cp == NULL || out == NULL || !t->recv.has_key)
		return SC_ERR_STATE;
	if (ct == NULL && len > 0)
		return SC_ERR_INVAL;
	if (len > SC_NOISE_MSG_MAX)
		return SC_ERR_TOOLONG;
	if (len < TAGLEN)
		return SC_ERR_DECRYPT;
	start = out->len;
	if ((r = sc_buf_reserve(out, len - TAGLEN, &p)) != 0)
		return r;
	if ((r = sc_noise_cipher_decrypt(t->cp, &t->recv, NULL, 0, ct, len, p)) != 0)
		truncate_to(t->cp, out, start, p);
	return r;
}

int
sc_noise_rekey_send(struct sc_noise_transport *t)
{
	if (t == NULL || t->cp == NULL)
		return SC_ERR_STATE;
	return cipher_rekey(t->cp, &t->send);
}

int
sc_noise_rekey_recv(struct sc_noise_transport *t)
{
	if (t == NULL || t->cp == NULL)
		return SC_ERR_STATE;
	return cipher_rekey(t->cp, &t->recv);
}

void
sc_noise_transport_wipe(struct sc_noise_transport *t)
{
	if (t != NULL)
		wipe(t->cp, t, sizeof(*t));
}
