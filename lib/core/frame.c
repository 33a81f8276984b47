/*
 * frame.c — frame codec (binary DLE-stuffed and armored base64), the
 * clear-text HELLO scanner, and the HELLO / ERROR bodies.  Contracts are in
 * frame.h; the normative prose is docs/protocol/frames.md.
 *
 * Freestanding: no libc.  Input bytes are read through struct sc_buf; the
 * decoder's own fixed frame[] array is indexed only after a bounds check.
 */
#include "core/compat.h"
#include "core/err.h"
#include "core/buf.h"
#include "core/wire.h"
#include "core/frame.h"

static const uint8_t	hello_magic[SC_HELLO_MAGIC_LEN] = SC_HELLO_MAGIC;

static const char	b64_alphabet[64] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* ---- helpers ---- */

/* Members of the DLE stuffing set (frame.h). */
static bool
stuffed(uint8_t c)
{
	return c == 0x10 || c == 0x11 || c == 0x13 || c == 0x1d || c == 0x7e;
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

/* Value of a base64 character, or -1. */
static int
b64_value(uint8_t c)
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
 * Armor: the frame's bytes go through a 3-byte group; every full group
 * becomes four characters.
 */
struct armor_enc {
	uint8_t	grp[3];
	unsigned n;
};

static int
armor_flush(struct sc_buf *out, struct armor_enc *a)
{
	uint32_t v;
	uint8_t q[4];
	int r;

	if (a->n == 0)
		return 0;
	v = (uint32_t)a->grp[0] << 16;
	if (a->n > 1)
		v |= (uint32_t)a->grp[1] << 8;
	if (a->n > 2)
		v |= a->grp[2];
	q[0] = (uint8_t)b64_alphabet[(v >> 18) & 0x3f];
	q[1] = (uint8_t)b64_alphabet[(v >> 12) & 0x3f];
	q[2] = a->n > 1 ? (uint8_t)b64_alphabet[(v >> 6) & 0x3f] : '=';
	q[3] = a->n > 2 ? (uint8_t)b64_alphabet[v & 0x3f] : '=';
	a->n = 0;
	if ((r = sc_buf_put_bytes(out, q, sizeof(q))) != 0)
		return r;
	return 0;
}

static int
put_armor(struct sc_buf *out, struct armor_enc *a, uint8_t c)
{
	a->grp[a->n++] = c;
	if (a->n == 3)
		return armor_flush(out, a);
	return 0;
}

static int
put_encoded(struct sc_buf *out, uint8_t encoding, struct armor_enc *a, uint8_t c)
{
	if (encoding == SC_ENCODING_BINARY)
		return put_binary(out, c);
	return put_armor(out, a, c);
}

/*
 * Either the whole encoded frame is appended or out is left as it was: on
 * failure the write position is restored (the bytes past it are scratch).
 */
int
sc_frame_encode(struct sc_buf *out, uint8_t encoding, uint8_t type,
    const uint8_t *body, size_t len)
{
	struct armor_enc a = { { 0, 0, 0 }, 0 };
	struct sc_buf in;
	size_t saved;
	uint8_t c;
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

	saved = out->len;
	sc_buf_init_ro(&in, body, len);
	if ((r = put_encoded(out, encoding, &a, type)) != 0 ||
	    (r = put_encoded(out, encoding, &a, (uint8_t)(len >> 8))) != 0 ||
	    (r = put_encoded(out, encoding, &a, (uint8_t)len)) != 0)
		goto fail;
	while (sc_buf_get_u8(&in, &c) == 0) {
		if ((r = put_encoded(out, encoding, &a, c)) != 0)
			goto fail;
	}
	if (encoding == SC_ENCODING_ARMOR) {
		if ((r = armor_flush(out, &a)) != 0 ||
		    (r = sc_buf_put_u8(out, '\n')) != 0)
			goto fail;
	}
	return 0;
fail:
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

/* Armor: a full quad of base64 characters (possibly padded) to bytes. */
static int
armor_quad(struct sc_frame_decoder *d)
{
	int v[4], i, nbytes, r;
	uint32_t w;

	for (i = 0; i < 4; i++)
		v[i] = d->b64_quad[i] == '=' ? 0 : b64_value(d->b64_quad[i]);
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
	w = ((uint32_t)v[0] << 18) | ((uint32_t)v[1] << 12) |
	    ((uint32_t)v[2] << 6) | (uint32_t)v[3];
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
	if (c == '\r' || c == ' ')
		return 0;
	if (c == '\n') {
		if (d->have == 0 && d->b64_n == 0 && !d->b64_pad_seen)
			return 0;	/* empty line */
		if (d->b64_n != 0 || !frame_complete(d))
			return SC_ERR_TRUNCATED;	/* line ended inside the frame */
		d->b64_pad_seen = false;
		return 1;
	}
	if (c == '=') {
		if (d->b64_n < 2)
			return SC_ERR_FORMAT;
		d->b64_pad_seen = true;
	} else if (b64_value(c) < 0) {
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
	while (sc_buf_get_u8(&b, &c) == 0) {
		if (d->encoding == SC_ENCODING_BINARY)
			r = decode_binary(d, c);
		else
			r = decode_armor(d, c);
		if (r < 0) {
			*consumed = b.off - 1;
			d->error = r;
			d->have = 0;
			return r;
		}
		if (r == 1) {
			*consumed = b.off;
			d->frame_ready = true;
			f->type = d->frame[0];
			f->len = (uint16_t)cur_body_len(d);
			f->body = d->frame + SC_FRAME_HDR_LEN;
			return 1;
		}
	}
	*consumed = len;
	return 0;
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
