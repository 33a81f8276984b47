/*
 * frame.c — frame codec (binary DLE-stuffed and armored base64), the
 * clear-text HELLO scanner, and the HELLO / ERROR bodies.  Contracts are in
 * frame.h; the normative prose is PROTOCOL.md §3.
 *
 * Freestanding: no libc.  Input bytes are read through struct sc_buf; the
 * decoder's own fixed frame[] array is indexed only after a bounds check, and
 * bulk appends to it go through an sc_buf over it.
 *
 * Speed: the codec runs on every byte of console traffic, twice (encoded by
 * one end, decoded by the other), so the body is handled in runs, not byte
 * by byte.  Binary: a 256-entry table marks the stuffed bytes; the encoder
 * appends each run of ordinary bytes with one bounds-checked copy
 * (sc_buf_copy_span) and stuffs only the marked bytes; the decoder copies
 * runs of ordinary body bytes into frame[] the same way, limited to the rest
 * of the declared body, and takes the header, DLE escapes and errors one
 * byte at a time as before.  Armor: table-driven base64 in blocks of whole
 * quads.  The byte-at-a-time paths define the behaviour (errors, their
 * positions, header checks before any body byte is stored); the run paths
 * only ever take bytes that the byte path would have accepted in the same
 * way, so both give identical results on any input and any chunking.
 */
#include "core/compat.h"
#include "core/err.h"
#include "core/buf.h"
#include "core/wire.h"
#include "core/frame.h"

static const uint8_t	hello_magic[SC_HELLO_MAGIC_LEN] = SC_HELLO_MAGIC;

static const char	b64_alphabet[64] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* The DLE stuffing set (frame.h): nonzero for DLE, XON, XOFF, ^] and '~'. */
static const uint8_t	stuff_tab[256] = {
	[0x10] = 1, [0x11] = 1, [0x13] = 1, [0x1d] = 1, [0x7e] = 1,
};

/*
 * Base64 character classes: 0..63 the value of an alphabet character, else
 * one of the B64_* codes below.
 */
#define B64_PAD		0x40	/* '=' */
#define B64_SKIP	0x41	/* '\r' and ' ', ignored */
#define B64_EOL		0x42	/* '\n', ends a frame */
#define B64_BAD		0xff	/* anything else */
static const uint8_t	b64_dec[256] = {
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x42, 0xff, 0xff, 0x41, 0xff, 0xff,	/* 00 */
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,	/* 10 */
	0x41, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x3e, 0xff, 0xff, 0xff, 0x3f,	/* 20 */
	0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0xff, 0xff, 0xff, 0x40, 0xff, 0xff,	/* 30 */
	0xff, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e,	/* 40 */
	0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0xff, 0xff, 0xff, 0xff, 0xff,	/* 50 */
	0xff, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28,	/* 60 */
	0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f, 0x30, 0x31, 0x32, 0x33, 0xff, 0xff, 0xff, 0xff, 0xff,	/* 70 */
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,	/* 80 */
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,	/* 90 */
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,	/* a0 */
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,	/* b0 */
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,	/* c0 */
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,	/* d0 */
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,	/* e0 */
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,	/* f0 */
};
/* Stop table for runs of plain base64 data: nonzero unless b64_dec[c] < 64. */
static const uint8_t	b64_stop[256] = {
	0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01,	/* 00 */
	0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01,	/* 10 */
	0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x00, 0x01, 0x01, 0x01, 0x00,	/* 20 */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01,	/* 30 */
	0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,	/* 40 */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x01, 0x01, 0x01, 0x01,	/* 50 */
	0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,	/* 60 */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x01, 0x01, 0x01, 0x01,	/* 70 */
	0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01,	/* 80 */
	0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01,	/* 90 */
	0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01,	/* a0 */
	0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01,	/* b0 */
	0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01,	/* c0 */
	0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01,	/* d0 */
	0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01,	/* e0 */
	0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01,	/* f0 */
};

/*
 * Armor bulk step: ARMOR_BLK_IN frame bytes <-> ARMOR_BLK_OUT characters
 * (whole quads), through small local arrays.
 */
#define ARMOR_BLK_IN	192
#define ARMOR_BLK_OUT	(ARMOR_BLK_IN / 3 * 4)

/* ---- helpers ---- */

/* Members of the DLE stuffing set (frame.h). */
static bool
stuffed(uint8_t c)
{
	return stuff_tab[c] != 0;
}

static bool
frame_type_known(uint8_t type)
{
	return type >= SC_FRAME_HELLO && type <= SC_FRAME_BYE;
}

static bool
valid_encoding(uint8_t enc)
{
	return enc == SC_ENCODING_BINARY || enc == SC_ENCODING_ARMOR;
}


bool
sc_vmname_valid(const char *name, size_t len)
{
	size_t i;
	char c;

	if (name == NULL || len < 1 || len > SC_VMNAME_MAX)
		return false;
	if (name[0] == '.' || name[0] == '-')
		return false;
	for (i = 0; i < len; i++) {
		c = name[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

/* ---- encoder ---- */

static int
put_binary(struct sc_buf *out, uint8_t c)
{
	int r;

	if (stuffed(c)) {
		if ((r = sc_buf_put_u8(out, SC_DLE)) != 0)
			return r;
		c ^= SC_STUFF_XOR;
	}
	return sc_buf_put_u8(out, c);
}

/*
 * Binary: the header byte by byte, then the body as runs of bytes sent as
 * they are (one bounds-checked copy each), each followed by at most one
 * stuffed byte.
 */
static int
encode_binary(struct sc_buf *out, const uint8_t hdr[SC_FRAME_HDR_LEN],
    struct sc_buf *in)
{
	size_t i, n;
	uint8_t c;
	int r;

	for (i = 0; i < SC_FRAME_HDR_LEN; i++)
		if ((r = put_binary(out, hdr[i])) != 0)
			return r;
	for (;;) {
		if ((r = sc_buf_copy_span(out, in, stuff_tab, SIZE_MAX, &n)) != 0)
			return r;
		if (sc_buf_get_u8(in, &c) != 0)
			return 0;		/* end of the body */
		if ((r = sc_buf_put_u16(out,
		    (uint16_t)((SC_DLE << 8) | (c ^ SC_STUFF_XOR)))) != 0)
			return r;
	}
}

/*
 * Base64 of in[i..i+3) as the quad out[o..o+4).  The caller keeps i + 3 and
 * o + 4 within the arrays.
 */
static inline void
b64_encode3(const uint8_t *in, size_t i, uint8_t *out, size_t o)
{
	uint32_t v;

	v = ((uint32_t)in[i] << 16) | ((uint32_t)in[i + 1] << 8) | in[i + 2];
	out[o] = (uint8_t)b64_alphabet[v >> 18];
	out[o + 1] = (uint8_t)b64_alphabet[(v >> 12) & 0x3f];
	out[o + 2] = (uint8_t)b64_alphabet[(v >> 6) & 0x3f];
	out[o + 3] = (uint8_t)b64_alphabet[v & 0x3f];
}

/* The same for the last group of a frame, in[i..i+n) with n = 1..3,
 * '='-padded when n < 3. */
static void
b64_encode_group(const uint8_t *in, size_t i, size_t n, uint8_t *out, size_t o)
{
	uint32_t v;

	v = (uint32_t)in[i] << 16;
	if (n > 1)
		v |= (uint32_t)in[i + 1] << 8;
	if (n > 2)
		v |= in[i + 2];
	out[o] = (uint8_t)b64_alphabet[(v >> 18) & 0x3f];
	out[o + 1] = (uint8_t)b64_alphabet[(v >> 12) & 0x3f];
	out[o + 2] = n > 1 ? (uint8_t)b64_alphabet[(v >> 6) & 0x3f] : '=';
	out[o + 3] = n > 2 ? (uint8_t)b64_alphabet[v & 0x3f] : '=';
}

/*
 * Armor: the header is exactly the first 3-byte group; the body follows in
 * blocks of ARMOR_BLK_IN bytes (a multiple of 3, so only the last block can
 * end in a padded quad), then the line end.
 */
static int
encode_armor(struct sc_buf *out, const uint8_t hdr[SC_FRAME_HDR_LEN],
    struct sc_buf *in)
{
	uint8_t blk[ARMOR_BLK_IN], q[ARMOR_BLK_OUT];
	size_t n, i, o;
	int r;

	b64_encode3(hdr, 0, q, 0);
	if ((r = sc_buf_put_bytes(out, q, 4)) != 0)
		return r;
	while ((n = SC_MIN(sc_buf_avail(in), sizeof(blk))) > 0) {
		if (sc_buf_get_bytes(in, blk, n) != 0)
			return SC_ERR_INTERNAL;
		for (i = 0, o = 0; n - i >= 3; i += 3, o += 4)
			b64_encode3(blk, i, q, o);
		if (i < n) {
			b64_encode_group(blk, i, n - i, q, o);
			o += 4;
		}
		if ((r = sc_buf_put_bytes(out, q, o)) != 0)
			return r;
	}
	return sc_buf_put_u8(out, '\n');
}

/*
 * Either the whole encoded frame is appended or out is left as it was: on
 * failure the write position is restored (the bytes past it are scratch).
 */
int
sc_frame_encode(struct sc_buf *out, uint8_t encoding, uint8_t type,
    const uint8_t *body, size_t len)
{
	uint8_t hdr[SC_FRAME_HDR_LEN];
	struct sc_buf in;
	size_t saved;
	int r;

	if (!valid_encoding(encoding))
		return SC_ERR_INVAL;
	if (!frame_type_known(type))
		return SC_ERR_TYPE;
	if (len > SC_FRAME_BODY_MAX)
		return SC_ERR_TOOLONG;
	if (len > 0 && body == NULL)
		return SC_ERR_INVAL;
	if (out->readonly)
		return SC_ERR_INVAL;

	hdr[0] = type;
	hdr[1] = (uint8_t)(len >> 8);
	hdr[2] = (uint8_t)len;
	saved = out->len;
	sc_buf_init_ro(&in, body, len);
	if (encoding == SC_ENCODING_BINARY)
		r = encode_binary(out, hdr, &in);
	else
		r = encode_armor(out, hdr, &in);
	if (r != 0)
		out->len = saved;
	return r;
}

int
sc_frame_put_magic(struct sc_buf *out, uint8_t encoding)
{
	if (!valid_encoding(encoding))
		return SC_ERR_INVAL;
	if (sc_buf_room(out) < SC_HELLO_MAGIC_LEN + 1)
		return SC_ERR_NOSPACE;
	if (sc_buf_put_bytes(out, hello_magic, SC_HELLO_MAGIC_LEN) != 0 ||
	    sc_buf_put_u8(out, encoding) != 0)
		return SC_ERR_INTERNAL;
	return 0;
}

/* ---- decoder ---- */

int
sc_frame_decoder_init(struct sc_frame_decoder *d, uint8_t encoding)
{
	sc_memset(d, 0, sizeof(*d));
	if (!valid_encoding(encoding)) {
		d->error = SC_ERR_INVAL;
		return SC_ERR_INVAL;
	}
	d->encoding = encoding;
	return 0;
}

bool
sc_frame_decoder_partial(const struct sc_frame_decoder *d)
{
	if (d->frame_ready)
		return false;
	return d->have > 0 || d->in_escape || d->b64_n > 0 || d->b64_pad_seen;
}

/* Declared length of the frame being decoded (needs the full header). */
static size_t
cur_body_len(const struct sc_frame_decoder *d)
{
	return ((size_t)d->frame[1] << 8) | d->frame[2];
}

/* True once the current frame's header and body are all there. */
static bool
frame_complete(const struct sc_frame_decoder *d)
{
	return d->have >= SC_FRAME_HDR_LEN &&
	    d->have == SC_FRAME_HDR_LEN + cur_body_len(d);
}

/*
 * Body bytes the current frame still lacks: 0 until the header is complete
 * (the header goes through push_byte alone) and once the body is.
 */
static size_t
body_left(const struct sc_frame_decoder *d)
{
	size_t want;

	if (d->have < SC_FRAME_HDR_LEN)
		return 0;
	want = SC_FRAME_HDR_LEN + cur_body_len(d);
	return d->have < want ? want - d->have : 0;
}

/*
 * A writable buffer over d->frame whose write position is d->have: bulk
 * appends to the frame go through it (bounded by sizeof(d->frame)), then
 * frame_writer_done() takes the new length back.
 */
static int
frame_writer(struct sc_frame_decoder *d, struct sc_buf *fb)
{
	uint8_t *decoded;

	sc_buf_init(fb, d->frame, sizeof(d->frame));
	/* Step over the bytes already decoded; they are kept as they are. */
	if (sc_buf_reserve(fb, d->have, &decoded) != 0)
		return SC_ERR_INTERNAL;
	return 0;
}

static void
frame_writer_done(struct sc_frame_decoder *d, const struct sc_buf *fb)
{
	d->have = fb->len;
}

/*
 * Append one decoded frame byte.  The header is checked the moment its last
 * byte arrives, so a bad type or an oversize length fails before any body
 * byte is stored.  A byte past the declared end is an error (armor only:
 * the binary decoder stops at the end by itself).
 */
static int
push_byte(struct sc_frame_decoder *d, uint8_t c)
{
	if (d->have >= SC_FRAME_HDR_LEN && frame_complete(d))
		return SC_ERR_TOOLONG;
	if (d->have >= sizeof(d->frame))
		return SC_ERR_INTERNAL;
	d->frame[d->have++] = c;
	if (d->have == 1 && !frame_type_known(c))
		return SC_ERR_TYPE;
	if (d->have == SC_FRAME_HDR_LEN && cur_body_len(d) > SC_FRAME_BODY_MAX)
		return SC_ERR_TOOLONG;
	return 0;
}

/* Binary: one input byte.  Returns 1 when it completed a frame. */
static int
decode_binary(struct sc_frame_decoder *d, uint8_t c)
{
	int r;

	if (d->in_escape) {
		d->in_escape = false;
		c ^= SC_STUFF_XOR;
		if (!stuffed(c))
			return SC_ERR_FORMAT;	/* DLE + something never stuffed */
	} else if (c == SC_DLE) {
		d->in_escape = true;
		return 0;
	} else if (stuffed(c)) {
		return SC_ERR_FORMAT;		/* must have been stuffed */
	}
	if ((r = push_byte(d, c)) != 0)
		return r;
	return frame_complete(d) ? 1 : 0;
}

/*
 * Binary, inside the body and not after a DLE: copy runs of ordinary bytes
 * (none in the stuffing set) from in to the frame, each followed by a valid
 * DLE escape whose two bytes are both in, up to the declared end.
 * decode_binary() would store exactly these bytes.  Returns 1 when that
 * completed the frame, else 0: the input is used up, or its next byte is
 * for decode_binary() (a DLE whose second byte is not in yet or is bad, or
 * a raw member of the set), or SC_ERR_INTERNAL if a step that cannot fail
 * does.
 */
static int
decode_binary_run(struct sc_frame_decoder *d, struct sc_buf *in)
{
	struct sc_buf fb;
	size_t left, n;
	uint16_t esc;
	uint8_t c;
	int r;

	if ((r = frame_writer(d, &fb)) != 0)
		return r;
	left = body_left(d);
	for (;;) {
		/* left fits frame[]: a run cannot fail for room. */
		if (sc_buf_copy_span(&fb, in, stuff_tab, left, &n) != 0)
			return SC_ERR_INTERNAL;
		left -= n;
		if (left == 0 || sc_buf_peek_u16(in, &esc) != 0)
			break;
		c = (uint8_t)(esc ^ SC_STUFF_XOR);
		if ((esc >> 8) != SC_DLE || !stuffed(c))
			break;
		if (sc_buf_skip(in, 2) != 0 || sc_buf_put_u8(&fb, c) != 0)
			return SC_ERR_INTERNAL;
		left--;
	}
	frame_writer_done(d, &fb);
	return frame_complete(d) ? 1 : 0;
}

/* Armor: a full quad of base64 characters (possibly padded) to bytes. */
static int
armor_quad(struct sc_frame_decoder *d)
{
	uint32_t v[4], w;
	int i, nbytes, r;

	for (i = 0; i < 4; i++)
		v[i] = d->b64_quad[i] == '=' ? 0 : b64_dec[d->b64_quad[i]];
	if (d->b64_quad[0] == '=' || d->b64_quad[1] == '=')
		return SC_ERR_FORMAT;
	if (d->b64_quad[2] == '=') {
		if (d->b64_quad[3] != '=')
			return SC_ERR_FORMAT;
		nbytes = 1;
	} else if (d->b64_quad[3] == '=') {
		nbytes = 2;
	} else {
		nbytes = 3;
	}
	w = (v[0] << 18) | (v[1] << 12) | (v[2] << 6) | v[3];
	/* Canonical encoding only: the bits padding drops must be zero. */
	if ((nbytes == 1 && (w & 0xffff) != 0) ||
	    (nbytes == 2 && (w & 0xff) != 0))
		return SC_ERR_FORMAT;
	d->b64_n = 0;
	if ((r = push_byte(d, (uint8_t)(w >> 16))) != 0)
		return r;
	if (nbytes > 1 && (r = push_byte(d, (uint8_t)(w >> 8))) != 0)
		return r;
	if (nbytes > 2 && (r = push_byte(d, (uint8_t)w)) != 0)
		return r;
	return 0;
}

/* Armor: one input character.  Returns 1 when a line ended a frame. */
static int
decode_armor(struct sc_frame_decoder *d, uint8_t c)
{
	uint8_t v = b64_dec[c];

	if (v == B64_SKIP)
		return 0;
	if (v == B64_EOL) {
		if (d->have == 0 && d->b64_n == 0 && !d->b64_pad_seen)
			return 0;	/* empty line */
		if (d->b64_n != 0 || !frame_complete(d))
			return SC_ERR_TRUNCATED;	/* line ended inside the frame */
		d->b64_pad_seen = false;
		return 1;
	}
	if (v == B64_PAD) {
		if (d->b64_n < 2)
			return SC_ERR_FORMAT;
		d->b64_pad_seen = true;
	} else if (v == B64_BAD) {
		return SC_ERR_FORMAT;
	} else if (d->b64_pad_seen) {
		return SC_ERR_FORMAT;		/* data after padding */
	}
	/* After padding only '=' may complete the quad, then the line ends. */
	if (d->b64_pad_seen && d->b64_n == 0)
		return SC_ERR_FORMAT;
	d->b64_quad[d->b64_n++] = c;
	if (d->b64_n == 4)
		return armor_quad(d);
	return 0;
}

/*
 * Armor, inside the body at a quad boundary with no padding seen: decode
 * whole quads of alphabet characters (no '=', '\r', ' ' or '\n' among them)
 * that yield at most the body bytes still missing, a block at a time.
 * decode_armor() would accept each of these quads and store the same bytes;
 * everything else (the header quad, padding, ignored characters, line ends,
 * data past the declared end, errors) is left to it.  Returns 0, or
 * SC_ERR_INTERNAL if a checked step fails that cannot.
 */
static int
decode_armor_run(struct sc_frame_decoder *d, struct sc_buf *in)
{
	uint8_t q[ARMOR_BLK_OUT], out[ARMOR_BLK_IN];
	struct sc_buf fb;
	size_t n, i, o;
	uint32_t w;
	int r;

	n = sc_buf_span(in, b64_stop, SC_MIN(sizeof(q), body_left(d) / 3 * 4));
	n -= n % 4;
	if (n == 0)
		return 0;
	if (sc_buf_get_bytes(in, q, n) != 0)
		return SC_ERR_INTERNAL;
	for (i = 0, o = 0; i < n; i += 4, o += 3) {
		w = ((uint32_t)b64_dec[q[i]] << 18) |
		    ((uint32_t)b64_dec[q[i + 1]] << 12) |
		    ((uint32_t)b64_dec[q[i + 2]] << 6) |
		    (uint32_t)b64_dec[q[i + 3]];
		out[o] = (uint8_t)(w >> 16);
		out[o + 1] = (uint8_t)(w >> 8);
		out[o + 2] = (uint8_t)w;
	}
	if ((r = frame_writer(d, &fb)) != 0)
		return r;
	if (sc_buf_put_bytes(&fb, out, o) != 0)
		return SC_ERR_INTERNAL;		/* o <= body_left() */
	frame_writer_done(d, &fb);
	return 0;
}

/* True when the next input may go through a run path (see the top). */
static bool
run_possible(const struct sc_frame_decoder *d)
{
	if (body_left(d) == 0)
		return false;
	if (d->encoding == SC_ENCODING_BINARY)
		return !d->in_escape;
	return d->b64_n == 0 && !d->b64_pad_seen;
}

int
sc_frame_decode(struct sc_frame_decoder *d, const uint8_t *in, size_t len,
    size_t *consumed, struct sc_frame *f)
{
	struct sc_buf b;
	uint8_t c;
	int r;

	*consumed = 0;
	if (d->error != 0)
		return d->error;
	if (!valid_encoding(d->encoding))
		return (d->error = SC_ERR_STATE);
	if (len > 0 && in == NULL)
		return SC_ERR_INVAL;
	if (d->frame_ready) {
		/* The previous frame's body pointer is no longer valid. */
		d->frame_ready = false;
		d->have = 0;
	}
	sc_buf_init_ro(&b, in, len);
	while (sc_buf_avail(&b) > 0) {
		if (run_possible(d)) {
			if (d->encoding == SC_ENCODING_BINARY)
				r = decode_binary_run(d, &b);
			else
				r = decode_armor_run(d, &b);
			if (r < 0) {
				*consumed = b.off;
				goto fail;
			}
			if (r == 1)
				goto ready;
			if (sc_buf_avail(&b) == 0)
				break;
		}
		/* One byte: header, escapes, line structure, errors. */
		if (sc_buf_get_u8(&b, &c) != 0) {
			r = SC_ERR_INTERNAL;
			*consumed = b.off;
			goto fail;
		}
		if (d->encoding == SC_ENCODING_BINARY)
			r = decode_binary(d, c);
		else
			r = decode_armor(d, c);
		if (r < 0) {
			*consumed = b.off - 1;
			goto fail;
		}
		if (r == 1)
			goto ready;
	}
	*consumed = len;
	return 0;
ready:
	*consumed = b.off;
	d->frame_ready = true;
	f->type = d->frame[0];
	f->len = (uint16_t)cur_body_len(d);
	f->body = d->frame + SC_FRAME_HDR_LEN;
	return 1;
fail:
	d->error = r;
	d->have = 0;
	return r;
}

/* ---- HELLO scanner ---- */

void
sc_hello_scanner_init(struct sc_hello_scanner *s)
{
	s->matched = 0;
	s->want_encoding = false;
	s->encoding = 0;
}

/*
 * Longest proper suffix of magic[0..m) that is also a prefix of the magic
 * (the KMP failure function, computed on demand: the magic is 11 bytes).
 */
static size_t
magic_fallback(size_t m)
{
	size_t k, i;

	for (k = m - 1; k > 0; k--) {
		for (i = 0; i < k; i++)
			if (hello_magic[i] != hello_magic[m - k + i])
				break;
		if (i == k)
			return k;
	}
	return 0;
}

/* Emit the first n held-back bytes of the magic as clear text. */
static void
emit_magic_prefix(uint8_t *out, size_t *olen, size_t n)
{
	sc_memcpy(out + *olen, hello_magic, n);
	*olen += n;
}

/*
 * The held-back bytes are always hello_magic[0..matched), so the scanner
 * needs no storage of its own for them.  On a mismatch the longest suffix
 * of the held bytes that can still start the magic stays held and the rest
 * is released, in order, before the current byte is looked at again.
 */
int
sc_hello_scan(struct sc_hello_scanner *s, const uint8_t *in, size_t len,
    uint8_t *out_clear, size_t *clear_len, size_t *consumed)
{
	struct sc_buf b;
	size_t k;
	uint8_t c;

	*clear_len = 0;
	*consumed = 0;
	if (s->encoding != 0)
		return SC_ERR_STATE;		/* already found */
	if (s->matched > SC_HELLO_MAGIC_LEN ||
	    (s->want_encoding && s->matched != SC_HELLO_MAGIC_LEN))
		return SC_ERR_STATE;
	if (len > 0 && (in == NULL || out_clear == NULL))
		return SC_ERR_INVAL;
	sc_buf_init_ro(&b, in, len);
	while (sc_buf_get_u8(&b, &c) == 0) {
		if (s->want_encoding) {
			if (valid_encoding(c)) {
				s->want_encoding = false;
				s->matched = 0;
				s->encoding = c;
				*consumed = b.off;
				return 1;
			}
			/*
			 * Not an encoding we know: the magic was clear text
			 * after all.  Release it and look at c afresh (it may
			 * itself start the magic).
			 */
			s->want_encoding = false;
			emit_magic_prefix(out_clear, clear_len, SC_HELLO_MAGIC_LEN);
			s->matched = 0;
		}
		while (s->matched > 0 && c != hello_magic[s->matched]) {
			k = magic_fallback(s->matched);
			emit_magic_prefix(out_clear, clear_len, s->matched - k);
			s->matched = k;
		}
		if (c == hello_magic[s->matched]) {
			if (++s->matched == SC_HELLO_MAGIC_LEN)
				s->want_encoding = true;
		} else {
			out_clear[(*clear_len)++] = c;
		}
	}
	*consumed = len;
	return 0;
}

size_t
sc_hello_scan_flush(struct sc_hello_scanner *s, uint8_t *out_clear)
{
	size_t n = 0;

	if (s->encoding != 0 || s->matched > SC_HELLO_MAGIC_LEN)
		return 0;
	emit_magic_prefix(out_clear, &n, s->matched);
	s->matched = 0;
	s->want_encoding = false;
	return n;
}

/* ---- HELLO body ---- */

#define HELLO_FLAGS_KNOWN	(SC_HELLO_F_PROTECTED | SC_HELLO_F_VIEWER)

int
sc_hello_encode(const struct sc_hello *h, struct sc_buf *body)
{
	size_t saved, nlen;
	int r;

	if (h->version != SC_PROTOCOL_VERSION)
		return SC_ERR_VERSION;
	if ((h->flags & ~HELLO_FLAGS_KNOWN) != 0)
		return SC_ERR_INVAL;
	for (nlen = 0; nlen <= SC_VMNAME_MAX && h->vmname[nlen] != '\0'; nlen++)
		;
	if (!sc_vmname_valid(h->vmname, nlen))
		return SC_ERR_INVAL;
	if (h->cert_len > SC_CERT_MAX)
		return SC_ERR_TOOLONG;
	if (body->readonly)
		return SC_ERR_INVAL;
	saved = body->len;
	if ((r = sc_buf_put_u8(body, h->version)) != 0 ||
	    (r = sc_buf_put_u8(body, h->flags)) != 0 ||
	    (r = sc_buf_put_str8(body, h->vmname, nlen)) != 0 ||
	    (r = sc_buf_put_bytes(body, h->uuid, SC_UUID_LEN)) != 0 ||
	    (r = sc_buf_put_bytes(body, h->hv_pubkey, SC_KEY_LEN)) != 0 ||
	    (r = sc_buf_put_u32(body, h->history_bytes)) != 0 ||
	    (r = sc_buf_put_str16(body, h->cert, h->cert_len)) != 0) {
		body->len = saved;
		return r;
	}
	return 0;
}

int
sc_hello_parse(struct sc_buf *body, struct sc_hello *h)
{
	const uint8_t *name, *cert;
	size_t nlen, clen;
	int r;

	sc_memset(h, 0, sizeof(*h));
	if ((r = sc_buf_get_u8(body, &h->version)) != 0)
		goto fail;
	if (h->version != SC_PROTOCOL_VERSION) {
		r = SC_ERR_VERSION;
		goto fail;
	}
	if ((r = sc_buf_get_u8(body, &h->flags)) != 0)
		goto fail;
	if ((h->flags & ~HELLO_FLAGS_KNOWN) != 0) {
		r = SC_ERR_FORMAT;
		goto fail;
	}
	if ((r = sc_buf_get_str8(body, &name, &nlen, SC_VMNAME_MAX)) != 0)
		goto fail;
	if (!sc_vmname_valid((const char *)name, nlen)) {
		r = SC_ERR_FORMAT;
		goto fail;
	}
	sc_memcpy(h->vmname, name, nlen);
	h->vmname[nlen] = '\0';
	if ((r = sc_buf_get_bytes(body, h->uuid, SC_UUID_LEN)) != 0 ||
	    (r = sc_buf_get_bytes(body, h->hv_pubkey, SC_KEY_LEN)) != 0 ||
	    (r = sc_buf_get_u32(body, &h->history_bytes)) != 0 ||
	    (r = sc_buf_get_str16(body, &cert, &clen, SC_CERT_MAX)) != 0 ||
	    (r = sc_buf_expect_end(body)) != 0)
		goto fail;
	if (clen > 0)
		sc_memcpy(h->cert, cert, clen);
	h->cert_len = clen;
	return 0;
fail:
	sc_memset(h, 0, sizeof(*h));
	return r;
}

/* ---- ERROR body ---- */

/* Printable ASCII or '?'. */
static uint8_t
sanitise(uint8_t c)
{
	return (c >= 0x20 && c <= 0x7e) ? c : '?';
}

int
sc_errorframe_encode(uint16_t code, const char *text, struct sc_buf *body)
{
	uint8_t clean[SC_ERRMSG_MAX];
	size_t n, saved;
	int r;

	if (body->readonly)
		return SC_ERR_INVAL;
	/* Longer messages are cut at SC_ERRMSG_MAX; controls become '?'. */
	n = 0;
	if (text != NULL) {
		for (; n < SC_ERRMSG_MAX && text[n] != '\0'; n++)
			clean[n] = sanitise((uint8_t)text[n]);
	}
	saved = body->len;
	if ((r = sc_buf_put_u16(body, code)) != 0 ||
	    (r = sc_buf_put_str8(body, clean, n)) != 0) {
		body->len = saved;
		return r;
	}
	return 0;
}

int
sc_errorframe_parse(struct sc_buf *body, uint16_t *code,
    char text[SC_ERRMSG_MAX + 1])
{
	const uint8_t *p;
	size_t n, i;
	int r;

	text[0] = '\0';
	*code = 0;
	if ((r = sc_buf_get_u16(body, code)) != 0 ||
	    (r = sc_buf_get_str8(body, &p, &n, SC_ERRMSG_MAX)) != 0 ||
	    (r = sc_buf_expect_end(body)) != 0) {
		*code = 0;
		return r;
	}
	for (i = 0; i < n; i++)
		text[i] = (char)sanitise(p[i]);
	text[n] = '\0';
	return 0;
}
