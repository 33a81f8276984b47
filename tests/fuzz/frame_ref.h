/*
 * frame_ref.h — a byte-at-a-time reference of the frame codec, for
 * tests/unit/test_frame.c and tests/fuzz/fuzz_frame.c.
 *
 * Written from PROTOCOL.md §3, the way lib/core/frame.c worked
 * before it was made to handle runs of bytes: one byte in, one decision.
 * The real encoder must produce exactly ref_encode()'s bytes; the real
 * decoder must, on any input cut into chunks in any way, yield the same
 * frames at the same offsets, fail with the same code on the same byte and
 * agree on whether a partial frame is held at the end.
 *
 * Include after <string.h>, core/err.h and core/frame.h.
 */
#ifndef SC_TESTS_FRAME_REF_H
#define SC_TESTS_FRAME_REF_H

static const char ref_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static inline bool
ref_stuffed(uint8_t c)
{
	return c == 0x10 || c == 0x11 || c == 0x13 || c == 0x1d || c == 0x7e;
}

static inline int
ref_b64(uint8_t c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Encoded frame into out (room for SC_FRAME_ENC_MAX); returns its length. */
static inline size_t
ref_encode(uint8_t enc, uint8_t type, const uint8_t *body, size_t len,
    uint8_t *out)
{
	static uint8_t fr[SC_FRAME_MAX];
	size_t n, i, o = 0;
	uint32_t v;

	fr[0] = type;
	fr[1] = (uint8_t)(len >> 8);
	fr[2] = (uint8_t)len;
	if (len > 0)
		memcpy(fr + 3, body, len);
	n = 3 + len;
	if (enc == SC_ENCODING_BINARY) {
		for (i = 0; i < n; i++) {
			if (ref_stuffed(fr[i])) {
				out[o++] = SC_DLE;
				out[o++] = fr[i] ^ SC_STUFF_XOR;
			} else {
				out[o++] = fr[i];
			}
		}
		return o;
	}
	for (i = 0; i < n; i += 3) {
		v = (uint32_t)fr[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)fr[i + 1] << 8;
		if (i + 2 < n)
			v |= fr[i + 2];
		out[o++] = (uint8_t)ref_alphabet[v >> 18];
		out[o++] = (uint8_t)ref_alphabet[(v >> 12) & 63];
		out[o++] = i + 1 < n ? (uint8_t)ref_alphabet[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < n ? (uint8_t)ref_alphabet[v & 63] : '=';
	}
	out[o++] = '\n';
	return o;
}

struct ref_dec {
	uint8_t	enc;
	bool	esc;		/* binary: after a DLE */
	bool	pad;		/* armor: '=' seen in this line */
	uint8_t	quad[4];
	unsigned qn;
	size_t	have;
	uint8_t	frame[SC_FRAME_MAX];
};

static inline size_t
ref_len(const struct ref_dec *r)
{
	return ((size_t)r->frame[1] << 8) | r->frame[2];
}

static inline bool
ref_complete(const struct ref_dec *r)
{
	return r->have >= 3 && r->have == 3 + ref_len(r);
}

static inline int
ref_push(struct ref_dec *r, uint8_t c)
{
	if (ref_complete(r))
		return SC_ERR_TOOLONG;		/* armor: line too long */
	if (r->have >= sizeof(r->frame))
		return SC_ERR_INTERNAL;		/* cannot happen */
	r->frame[r->have++] = c;
	if (r->have == 1 && (c < SC_FRAME_HELLO || c > SC_FRAME_BYE))
		return SC_ERR_TYPE;
	if (r->have == 3 && ref_len(r) > SC_FRAME_BODY_MAX)
		return SC_ERR_TOOLONG;
	return 0;
}

/* One input byte: negative error, 1 when it ended a frame, else 0. */
static inline int
ref_byte(struct ref_dec *r, uint8_t c)
{
	uint32_t w;
	int v[4], i, nb, e;

	if (r->enc == SC_ENCODING_BINARY) {
		if (r->esc) {
			r->esc = false;
			c ^= SC_STUFF_XOR;
			if (!ref_stuffed(c))
				return SC_ERR_FORMAT;
		} else if (c == SC_DLE) {
			r->esc = true;
			return 0;
		} else if (ref_stuffed(c)) {
			return SC_ERR_FORMAT;
		}
		if ((e = ref_push(r, c)) != 0)
			return e;
		return ref_complete(r) ? 1 : 0;
	}
	if (c == '\r' || c == ' ')
		return 0;
	if (c == '\n') {
		if (r->have == 0 && r->qn == 0 && !r->pad)
			return 0;			/* empty line */
		if (r->qn != 0 || !ref_complete(r))
			return SC_ERR_TRUNCATED;
		r->pad = false;
		return 1;
	}
	if (c == '=') {
		if (r->qn < 2)
			return SC_ERR_FORMAT;	/* '=' only as 3rd or 4th */
		r->pad = true;
	} else if (ref_b64(c) < 0 || r->pad) {
		return SC_ERR_FORMAT;		/* bad char, data after '=' */
	}
	r->quad[r->qn++] = c;
	if (r->qn < 4)
		return 0;
	r->qn = 0;
	if (r->quad[2] == '=' && r->quad[3] != '=')
		return SC_ERR_FORMAT;
	nb = r->quad[2] == '=' ? 1 : r->quad[3] == '=' ? 2 : 3;
	for (i = 0; i < 4; i++)
		v[i] = r->quad[i] == '=' ? 0 : ref_b64(r->quad[i]);
	w = ((uint32_t)v[0] << 18) | ((uint32_t)v[1] << 12) |
	    ((uint32_t)v[2] << 6) | (uint32_t)v[3];
	if ((nb == 1 && (w & 0xffff) != 0) || (nb == 2 && (w & 0xff) != 0))
		return SC_ERR_FORMAT;		/* not canonical */
	for (i = 0; i < nb; i++)
		if ((e = ref_push(r, (uint8_t)(w >> (16 - 8 * i)))) != 0)
			return e;
	return 0;
}

/* A fresh reference decoder (frame[] need not be cleared). */
static inline void
ref_init(struct ref_dec *r, uint8_t enc)
{
	r->enc = enc;
	r->esc = r->pad = false;
	r->qn = 0;
	r->have = 0;
}

/* sc_frame_decoder_partial() of the reference, between frames. */
static inline bool
ref_partial(const struct ref_dec *r)
{
	return r->have > 0 || r->esc || r->qn > 0 || r->pad;
}

#endif /* SC_TESTS_FRAME_REF_H */
