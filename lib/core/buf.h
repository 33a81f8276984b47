/*
 * buf.h — the bounds-checked byte buffer.
 *
 * Every parser and serializer of wire data in SCCrypt goes through this type;
 * it is the only code that does pointer arithmetic on bytes from a peer.
 * Storage is always provided by the caller (no allocation), so the type works
 * in the freestanding protocol core and in the hypervisor.
 *
 * Layout: [0, off) already read, [off, len) readable, [len, size) writable.
 * Multi-byte integers: plain names are big-endian (network order, used on the
 * client<->hv wire); *_le names are little-endian (used by the hv ops ABI).
 * Every get/put either succeeds completely or fails and changes nothing.
 */
#ifndef SC_CORE_BUF_H
#define SC_CORE_BUF_H

#include "core/compat.h"
#include "core/err.h"

struct sc_buf {
	uint8_t		*data;
	size_t		 size;		/* capacity of data */
	size_t		 len;		/* end of valid bytes */
	size_t		 off;		/* read position */
	bool		 readonly;
};

/* Empty writable buffer over mem[0..cap). */
void	sc_buf_init(struct sc_buf *b, void *mem, size_t cap);
/* Read-only view of data[0..len). */
void	sc_buf_init_ro(struct sc_buf *b, const void *data, size_t len);
/* Forget all contents (off = len = 0). */
void	sc_buf_reset(struct sc_buf *b);
/* Move unread bytes to the front, making room for writes. */
void	sc_buf_compact(struct sc_buf *b);


/*
 * The accessors on every record, op and frame header, inline (a call each
 * was ~10 % of a keystroke's own CPU, tests/bench/keystroke).  Same
 * contract as the rest: check first, leave the buffer unchanged on
 * failure; a failed read also sets *v to 0 (so that no caller, and no
 * compiler that sees through the inline code, meets an unset value).
 */
static inline size_t
sc_buf_avail(const struct sc_buf *b)		/* unread bytes */
{
	return b->len - b->off;
}

static inline size_t
sc_buf_room(const struct sc_buf *b)		/* writable bytes */
{
	return b->readonly ? 0 : b->size - b->len;
}

static inline const uint8_t *
sc_buf_rptr(const struct sc_buf *b)		/* start of unread bytes */
{
	return b->data + b->off;
}

/* Reserve n writable bytes at the end, returning where to write them. */
static inline SC_WUR int
sc_buf_reserve(struct sc_buf *b, size_t n, uint8_t **p)
{
	if (sc_buf_room(b) < n)
		return SC_ERR_NOSPACE;
	*p = b->data + b->len;
	b->len += n;
	return 0;
}

/* Readers of 1, 2 and 4 bytes (the rest are below, out of line). */
static inline SC_WUR int
sc_buf_get_u8(struct sc_buf *b, uint8_t *v)
{
	if (sc_buf_avail(b) < 1) {
		*v = 0;
		return SC_ERR_TRUNCATED;
	}
	*v = b->data[b->off++];
	return 0;
}

static inline SC_WUR int
sc_buf_get_u16(struct sc_buf *b, uint16_t *v)
{
	const uint8_t *p;

	if (sc_buf_avail(b) < 2) {
		*v = 0;
		return SC_ERR_TRUNCATED;
	}
	p = b->data + b->off;
	*v = (uint16_t)((uint16_t)p[0] << 8 | p[1]);
	b->off += 2;
	return 0;
}

static inline SC_WUR int
sc_buf_get_u32(struct sc_buf *b, uint32_t *v)
{
	const uint8_t *p;

	if (sc_buf_avail(b) < 4) {
		*v = 0;
		return SC_ERR_TRUNCATED;
	}
	p = b->data + b->off;
	*v = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
	b->off += 4;
	return 0;
}

static inline SC_WUR int
sc_buf_get_u16_le(struct sc_buf *b, uint16_t *v)
{
	const uint8_t *p;

	if (sc_buf_avail(b) < 2) {
		*v = 0;
		return SC_ERR_TRUNCATED;
	}
	p = b->data + b->off;
	*v = (uint16_t)((uint16_t)p[1] << 8 | p[0]);
	b->off += 2;
	return 0;
}

static inline SC_WUR int
sc_buf_get_u32_le(struct sc_buf *b, uint32_t *v)
{
	const uint8_t *p;

	if (sc_buf_avail(b) < 4) {
		*v = 0;
		return SC_ERR_TRUNCATED;
	}
	p = b->data + b->off;
	*v = (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[1] << 8 | p[0];
	b->off += 4;
	return 0;
}

/* Writers of 1, 2 and 4 bytes. */
static inline SC_WUR int
sc_buf_put_u8(struct sc_buf *b, uint8_t v)
{
	uint8_t *p;

	if (sc_buf_reserve(b, 1, &p) != 0)
		return SC_ERR_NOSPACE;
	p[0] = v;
	return 0;
}

static inline SC_WUR int
sc_buf_put_u16(struct sc_buf *b, uint16_t v)
{
	uint8_t *p;

	if (sc_buf_reserve(b, 2, &p) != 0)
		return SC_ERR_NOSPACE;
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
	return 0;
}

static inline SC_WUR int
sc_buf_put_u32(struct sc_buf *b, uint32_t v)
{
	uint8_t *p;

	if (sc_buf_reserve(b, 4, &p) != 0)
		return SC_ERR_NOSPACE;
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
	return 0;
}

static inline SC_WUR int
sc_buf_put_u16_le(struct sc_buf *b, uint16_t v)
{
	uint8_t *p;

	if (sc_buf_reserve(b, 2, &p) != 0)
		return SC_ERR_NOSPACE;
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	return 0;
}

static inline SC_WUR int
sc_buf_put_u32_le(struct sc_buf *b, uint32_t v)
{
	uint8_t *p;

	if (sc_buf_reserve(b, 4, &p) != 0)
		return SC_ERR_NOSPACE;
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
	return 0;
}

/* Readers: SC_ERR_TRUNCATED if fewer bytes remain than needed. */
int	sc_buf_get_u64(struct sc_buf *b, uint64_t *v) SC_WUR;
int	sc_buf_get_u64_le(struct sc_buf *b, uint64_t *v) SC_WUR;
int	sc_buf_get_bytes(struct sc_buf *b, void *dst, size_t n) SC_WUR;
/* Point *p at the next n unread bytes (valid while b's storage is) and skip them. */
int	sc_buf_get_view(struct sc_buf *b, size_t n, const uint8_t **p) SC_WUR;
int	sc_buf_skip(struct sc_buf *b, size_t n) SC_WUR;
/* Make sub a read-only view of the next n unread bytes and skip them in b. */
int	sc_buf_get_sub(struct sc_buf *b, size_t n, struct sc_buf *sub) SC_WUR;
/* u8-length-prefixed and u16-length-prefixed strings/blobs, with a maximum. */
int	sc_buf_get_str8(struct sc_buf *b, const uint8_t **p, size_t *n, size_t max) SC_WUR;
int	sc_buf_get_str16(struct sc_buf *b, const uint8_t **p, size_t *n, size_t max) SC_WUR;
int	sc_buf_peek_u8(const struct sc_buf *b, uint8_t *v) SC_WUR;
int	sc_buf_peek_u16(const struct sc_buf *b, uint16_t *v) SC_WUR;
/* SC_ERR_FORMAT unless every byte has been read. */
int	sc_buf_expect_end(const struct sc_buf *b) SC_WUR;

/* Writers: SC_ERR_NOSPACE if the buffer cannot take the whole item. */
int	sc_buf_put_u64(struct sc_buf *b, uint64_t v) SC_WUR;
int	sc_buf_put_u64_le(struct sc_buf *b, uint64_t v) SC_WUR;
int	sc_buf_put_bytes(struct sc_buf *b, const void *src, size_t n) SC_WUR;
int	sc_buf_put_str8(struct sc_buf *b, const void *src, size_t n) SC_WUR;
int	sc_buf_put_str16(struct sc_buf *b, const void *src, size_t n) SC_WUR;
/* Overwrite already-written bytes at absolute position pos (for length fields). */
int	sc_buf_poke_u16(struct sc_buf *b, size_t pos, uint16_t v) SC_WUR;
int	sc_buf_poke_u32_le(struct sc_buf *b, size_t pos, uint32_t v) SC_WUR;

/*
 * Bulk scanning for byte-oriented codecs (frame.c's DLE stuffing and base64).
 * stop is a 256-entry table: byte c ends a span when stop[c] != 0.
 *
 * sc_buf_span: length of the span of unread bytes starting at the read
 * position, at most max, that holds no stop byte.  Changes nothing.
 */
size_t	sc_buf_span(const struct sc_buf *b, const uint8_t stop[256], size_t max);
/*
 * Move that span (n = sc_buf_span(src, stop, max) bytes, possibly 0) from src
 * to the end of dst: src's read position and dst's length advance by n, and
 * *moved = n.  SC_ERR_NOSPACE if dst cannot take all n; then nothing changes.
 */
int	sc_buf_copy_span(struct sc_buf *dst, struct sc_buf *src,
	    const uint8_t stop[256], size_t max, size_t *moved) SC_WUR;

#endif /* SC_CORE_BUF_H */
