/*
 * buf.c — the bounds-checked byte buffer (see buf.h for the contract).
 *
 * This file and the inline accessors in buf.h are the only place in
 * SCCrypt that indexes wire data with computed offsets.  Each function checks before it touches anything, so a
 * failed call leaves the buffer exactly as it was.
 */
#include "core/compat.h"
#include "core/err.h"
#include "core/buf.h"

void
sc_buf_init(struct sc_buf *b, void *mem, size_t cap)
{
	b->data = mem;
	b->size = cap;
	b->len = 0;
	b->off = 0;
	b->readonly = false;
}

void
sc_buf_init_ro(struct sc_buf *b, const void *data, size_t len)
{
	/* The cast is confined here: readonly forbids every write below. */
	b->data = (uint8_t *)(uintptr_t)data;
	b->size = len;
	b->len = len;
	b->off = 0;
	b->readonly = true;
}

void
sc_buf_reset(struct sc_buf *b)
{
	b->len = b->readonly ? b->size : 0;
	b->off = 0;
}

void
sc_buf_compact(struct sc_buf *b)
{
	if (b->readonly || b->off == 0)
		return;
	if (b->off < b->len)
		sc_memmove(b->data, b->data + b->off, b->len - b->off);
	b->len -= b->off;
	b->off = 0;
}

/* ---- readers ---- */

static int
need(const struct sc_buf *b, size_t n)
{
	return sc_buf_avail(b) < n ? SC_ERR_TRUNCATED : 0;
}

static uint64_t
load_be(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;
	unsigned i;

	for (i = 0; i < n; i++)
		v = (v << 8) | p[i];
	return v;
}

static uint64_t
load_le(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;
	unsigned i;

	for (i = n; i > 0; i--)
		v = (v << 8) | p[i - 1];
	return v;
}

static void
store_be(uint8_t *p, uint64_t v, unsigned n)
{
	unsigned i;

	for (i = n; i > 0; i--) {
		p[i - 1] = (uint8_t)v;
		v >>= 8;
	}
}

static void
store_le(uint8_t *p, uint64_t v, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

#define GETTER(name, type, n, load)				\
int								\
name(struct sc_buf *b, type *v)					\
{								\
	if (need(b, n) != 0)					\
		return SC_ERR_TRUNCATED;			\
	*v = (type)load(b->data + b->off, n);			\
	b->off += n;						\
	return 0;						\
}

GETTER(sc_buf_get_u64, uint64_t, 8, load_be)
GETTER(sc_buf_get_u64_le, uint64_t, 8, load_le)

int
sc_buf_get_bytes(struct sc_buf *b, void *dst, size_t n)
{
	if (need(b, n) != 0)
		return SC_ERR_TRUNCATED;
	if (n > 0)
		sc_memcpy(dst, b->data + b->off, n);
	b->off += n;
	return 0;
}

int
sc_buf_get_view(struct sc_buf *b, size_t n, const uint8_t **p)
{
	if (need(b, n) != 0)
		return SC_ERR_TRUNCATED;
	*p = b->data + b->off;
	b->off += n;
	return 0;
}

int
sc_buf_skip(struct sc_buf *b, size_t n)
{
	if (need(b, n) != 0)
		return SC_ERR_TRUNCATED;
	b->off += n;
	return 0;
}

int
sc_buf_get_sub(struct sc_buf *b, size_t n, struct sc_buf *sub)
{
	if (need(b, n) != 0)
		return SC_ERR_TRUNCATED;
	sc_buf_init_ro(sub, b->data + b->off, n);
	b->off += n;
	return 0;
}

static int
get_str(struct sc_buf *b, unsigned lenbytes, const uint8_t **p, size_t *n,
    size_t max)
{
	uint64_t len;

	if (need(b, lenbytes) != 0)
		return SC_ERR_TRUNCATED;
	len = load_be(b->data + b->off, lenbytes);
	if (len > max)
		return SC_ERR_TOOLONG;
	if (sc_buf_avail(b) - lenbytes < len)
		return SC_ERR_TRUNCATED;
	*p = b->data + b->off + lenbytes;
	*n = (size_t)len;
	b->off += lenbytes + (size_t)len;
	return 0;
}

int
sc_buf_get_str8(struct sc_buf *b, const uint8_t **p, size_t *n, size_t max)
{
	return get_str(b, 1, p, n, max);
}

int
sc_buf_get_str16(struct sc_buf *b, const uint8_t **p, size_t *n, size_t max)
{
	return get_str(b, 2, p, n, max);
}

int
sc_buf_peek_u8(const struct sc_buf *b, uint8_t *v)
{
	if (need(b, 1) != 0)
		return SC_ERR_TRUNCATED;
	*v = b->data[b->off];
	return 0;
}

int
sc_buf_peek_u16(const struct sc_buf *b, uint16_t *v)
{
	if (need(b, 2) != 0)
		return SC_ERR_TRUNCATED;
	*v = (uint16_t)load_be(b->data + b->off, 2);
	return 0;
}

int
sc_buf_expect_end(const struct sc_buf *b)
{
	return sc_buf_avail(b) == 0 ? 0 : SC_ERR_FORMAT;
}

/* ---- writers ---- */

#define PUTTER(name, type, n, store)				\
int								\
name(struct sc_buf *b, type v)					\
{								\
	uint8_t *p;						\
								\
	if (sc_buf_reserve(b, n, &p) != 0)			\
		return SC_ERR_NOSPACE;				\
	store(p, v, n);						\
	return 0;						\
}

PUTTER(sc_buf_put_u64, uint64_t, 8, store_be)
PUTTER(sc_buf_put_u64_le, uint64_t, 8, store_le)

int
sc_buf_put_bytes(struct sc_buf *b, const void *src, size_t n)
{
	uint8_t *p;

	if (sc_buf_reserve(b, n, &p) != 0)
		return SC_ERR_NOSPACE;
	if (n > 0)
		sc_memmove(p, src, n);
	return 0;
}

int
sc_buf_put_str8(struct sc_buf *b, const void *src, size_t n)
{
	if (n > 0xff)
		return SC_ERR_TOOLONG;
	if (sc_buf_room(b) < 1 + n)
		return SC_ERR_NOSPACE;
	if (sc_buf_put_u8(b, (uint8_t)n) != 0 || sc_buf_put_bytes(b, src, n) != 0)
		return SC_ERR_INTERNAL;
	return 0;
}

int
sc_buf_put_str16(struct sc_buf *b, const void *src, size_t n)
{
	if (n > 0xffff)
		return SC_ERR_TOOLONG;
	if (sc_buf_room(b) < 2 + n)
		return SC_ERR_NOSPACE;
	if (sc_buf_put_u16(b, (uint16_t)n) != 0 || sc_buf_put_bytes(b, src, n) != 0)
		return SC_ERR_INTERNAL;
	return 0;
}

int
sc_buf_poke_u16(struct sc_buf *b, size_t pos, uint16_t v)
{
	if (b->readonly || pos > b->len || b->len - pos < 2)
		return SC_ERR_INVAL;
	store_be(b->data + pos, v, 2);
	return 0;
}

int
sc_buf_poke_u32_le(struct sc_buf *b, size_t pos, uint32_t v)
{
	if (b->readonly || pos > b->len || b->len - pos < 4)
		return SC_ERR_INVAL;
	store_le(b->data + pos, v, 4);
	return 0;
}

/* ---- bulk scanning ---- */

size_t
sc_buf_span(const struct sc_buf *b, const uint8_t stop[256], size_t max)
{
	const uint8_t *p;
	size_t n = SC_MIN(max, sc_buf_avail(b)), i = 0;

	if (n == 0)
		return 0;	/* data may be NULL for an empty buffer */
	p = b->data + b->off;
	/* Four bytes per step while none of them stops the span. */
	while (n - i >= 4 && (stop[p[i]] | stop[p[i + 1]] | stop[p[i + 2]] |
	    stop[p[i + 3]]) == 0)
		i += 4;
	while (i < n && stop[p[i]] == 0)
		i++;
	return i;
}

int
sc_buf_copy_span(struct sc_buf *dst, struct sc_buf *src,
    const uint8_t stop[256], size_t max, size_t *moved)
{
	size_t n;

	*moved = 0;
	n = sc_buf_span(src, stop, max);
	if (sc_buf_room(dst) < n)
		return SC_ERR_NOSPACE;
	if (n > 0) {
		sc_memmove(dst->data + dst->len, src->data + src->off, n);
		dst->len += n;
		src->off += n;
	}
	*moved = n;
	return 0;
}
