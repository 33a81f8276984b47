/*
 * test_buf.c — the bounds-checked buffer (lib/core/buf.c).
 *
 * Every reader and writer at its boundaries: exact fit, one byte short,
 * length-prefixed strings at their maximum and truncated, read-only views
 * refusing writes, compact/reset, poke, sub-buffers, span scanning and
 * copying.  Every failing call must leave the buffer (struct and bytes)
 * exactly as it was.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/err.h"
#include "core/buf.h"

/* A snapshot of a buffer, to prove that a failed call changed nothing. */
struct snap {
	struct sc_buf	b;
	uint8_t		mem[512];
};

static void
take(struct snap *s, const struct sc_buf *b)
{
	s->b = *b;
	assert_true(b->size <= sizeof(s->mem));
	memcpy(s->mem, b->data, b->size);
}

static void
same(const struct snap *s, const struct sc_buf *b)
{
	assert_ptr_equal(s->b.data, b->data);
	assert_int_equal(s->b.size, b->size);
	assert_int_equal(s->b.len, b->len);
	assert_int_equal(s->b.off, b->off);
	assert_int_equal(s->b.readonly, b->readonly);
	assert_memory_equal(s->mem, b->data, b->size);
}

static void
test_init(void **state)
{
	uint8_t mem[16];
	const uint8_t ro[3] = { 1, 2, 3 };
	struct sc_buf b;

	(void)state;
	sc_buf_init(&b, mem, sizeof(mem));
	assert_int_equal(sc_buf_avail(&b), 0);
	assert_int_equal(sc_buf_room(&b), 16);
	assert_false(b.readonly);
	assert_ptr_equal(sc_buf_rptr(&b), mem);

	sc_buf_init_ro(&b, ro, sizeof(ro));
	assert_int_equal(sc_buf_avail(&b), 3);
	assert_int_equal(sc_buf_room(&b), 0);
	assert_true(b.readonly);
	assert_ptr_equal(sc_buf_rptr(&b), ro);

	/* Zero-capacity buffers are valid and full. */
	sc_buf_init(&b, mem, 0);
	assert_int_equal(sc_buf_room(&b), 0);
	assert_int_equal(sc_buf_put_u8(&b, 1), SC_ERR_NOSPACE);
	assert_int_equal(sc_buf_put_bytes(&b, mem, 0), 0);
}

/* Every big-endian and little-endian integer, written then read back. */
static void
test_integers_roundtrip(void **state)
{
	uint8_t mem[2 * (1 + 2 + 4 + 8) + 2 + 4 + 8];
	struct sc_buf b;
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;
	static const uint8_t expect[] = {
		0xa5,
		0x12, 0x34,
		0x89, 0xab, 0xcd, 0xef,
		0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
		0x34, 0x12,
		0xef, 0xcd, 0xab, 0x89,
		0xef, 0xcd, 0xab, 0x89, 0x67, 0x45, 0x23, 0x01,
	};

	(void)state;
	sc_buf_init(&b, mem, sizeof(mem));
	assert_int_equal(sc_buf_put_u8(&b, 0xa5), 0);
	assert_int_equal(sc_buf_put_u16(&b, 0x1234), 0);
	assert_int_equal(sc_buf_put_u32(&b, 0x89abcdefu), 0);
	assert_int_equal(sc_buf_put_u64(&b, 0x0123456789abcdefull), 0);
	assert_int_equal(sc_buf_put_u16_le(&b, 0x1234), 0);
	assert_int_equal(sc_buf_put_u32_le(&b, 0x89abcdefu), 0);
	assert_int_equal(sc_buf_put_u64_le(&b, 0x0123456789abcdefull), 0);
	assert_int_equal(b.len, sizeof(expect));
	assert_memory_equal(mem, expect, sizeof(expect));

	assert_int_equal(sc_buf_peek_u8(&b, &u8), 0);
	assert_int_equal(u8, 0xa5);
	assert_int_equal(b.off, 0);
	assert_int_equal(sc_buf_get_u8(&b, &u8), 0);
	assert_int_equal(u8, 0xa5);
	assert_int_equal(sc_buf_peek_u16(&b, &u16), 0);
	assert_int_equal(u16, 0x1234);
	assert_int_equal(b.off, 1);
	assert_int_equal(sc_buf_get_u16(&b, &u16), 0);
	assert_int_equal(u16, 0x1234);
	assert_int_equal(sc_buf_get_u32(&b, &u32), 0);
	assert_int_equal(u32, 0x89abcdefu);
	assert_int_equal(sc_buf_get_u64(&b, &u64), 0);
	assert_true(u64 == 0x0123456789abcdefull);
	assert_int_equal(sc_buf_get_u16_le(&b, &u16), 0);
	assert_int_equal(u16, 0x1234);
	assert_int_equal(sc_buf_get_u32_le(&b, &u32), 0);
	assert_int_equal(u32, 0x89abcdefu);
	assert_int_equal(sc_buf_get_u64_le(&b, &u64), 0);
	assert_true(u64 == 0x0123456789abcdefull);
	assert_int_equal(sc_buf_expect_end(&b), 0);
	assert_int_equal(sc_buf_avail(&b), 0);
}

/* Each reader with exactly enough bytes, and with one byte fewer. */
static void
test_readers_short(void **state)
{
	static const uint8_t src[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	static const size_t widths[] = { 1, 2, 4, 8 };
	struct sc_buf b;
	struct snap s;
	uint8_t u8, dst[8];
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;
	const uint8_t *p;
	size_t i, w;
	int le;

	(void)state;
	for (i = 0; i < sizeof(widths) / sizeof(widths[0]); i++) {
		w = widths[i];
		for (le = 0; le < 2; le++) {
			int r1 = 0, r2 = 0;

			if (w == 1 && le)
				continue;
			/* One short: fails, nothing consumed. */
			sc_buf_init_ro(&b, src, w - 1);
			take(&s, &b);
			switch (w) {
			case 1: r1 = sc_buf_get_u8(&b, &u8); break;
			case 2: r1 = le ? sc_buf_get_u16_le(&b, &u16) : sc_buf_get_u16(&b, &u16); break;
			case 4: r1 = le ? sc_buf_get_u32_le(&b, &u32) : sc_buf_get_u32(&b, &u32); break;
			case 8: r1 = le ? sc_buf_get_u64_le(&b, &u64) : sc_buf_get_u64(&b, &u64); break;
			}
			assert_int_equal(r1, SC_ERR_TRUNCATED);
			same(&s, &b);
			/* Exact fit: succeeds and consumes everything. */
			sc_buf_init_ro(&b, src, w);
			switch (w) {
			case 1: r2 = sc_buf_get_u8(&b, &u8); break;
			case 2: r2 = le ? sc_buf_get_u16_le(&b, &u16) : sc_buf_get_u16(&b, &u16); break;
			case 4: r2 = le ? sc_buf_get_u32_le(&b, &u32) : sc_buf_get_u32(&b, &u32); break;
			case 8: r2 = le ? sc_buf_get_u64_le(&b, &u64) : sc_buf_get_u64(&b, &u64); break;
			}
			assert_int_equal(r2, 0);
			assert_int_equal(sc_buf_expect_end(&b), 0);
		}
	}

	/* peek on empty / one byte */
	sc_buf_init_ro(&b, src, 0);
	assert_int_equal(sc_buf_peek_u8(&b, &u8), SC_ERR_TRUNCATED);
	sc_buf_init_ro(&b, src, 1);
	assert_int_equal(sc_buf_peek_u16(&b, &u16), SC_ERR_TRUNCATED);
	assert_int_equal(sc_buf_peek_u8(&b, &u8), 0);
	assert_int_equal(u8, 1);

	/* get_bytes / get_view / skip: exact and one short */
	sc_buf_init_ro(&b, src, sizeof(src));
	take(&s, &b);
	assert_int_equal(sc_buf_get_bytes(&b, dst, 9), SC_ERR_TRUNCATED);
	same(&s, &b);
	assert_int_equal(sc_buf_get_view(&b, 9, &p), SC_ERR_TRUNCATED);
	same(&s, &b);
	assert_int_equal(sc_buf_skip(&b, 9), SC_ERR_TRUNCATED);
	same(&s, &b);
	assert_int_equal(sc_buf_skip(&b, 2), 0);
	assert_int_equal(sc_buf_get_view(&b, 2, &p), 0);
	assert_ptr_equal(p, src + 2);
	assert_int_equal(sc_buf_get_bytes(&b, dst, 4), 0);
	assert_memory_equal(dst, src + 4, 4);
	assert_int_equal(sc_buf_get_bytes(&b, dst, 0), 0);
	assert_int_equal(sc_buf_expect_end(&b), 0);
	assert_int_equal(sc_buf_get_u8(&b, &u8), SC_ERR_TRUNCATED);

	/* expect_end with bytes left */
	sc_buf_init_ro(&b, src, 1);
	assert_int_equal(sc_buf_expect_end(&b), SC_ERR_FORMAT);
}

/* Each writer with exactly enough room, and one byte short. */
static void
test_writers_short(void **state)
{
	uint8_t mem[8];
	static const size_t widths[] = { 1, 2, 4, 8 };
	struct sc_buf b;
	struct snap s;
	size_t i;
	int le;

	(void)state;
	for (i = 0; i < sizeof(widths) / sizeof(widths[0]); i++) {
		size_t w = widths[i];

		for (le = 0; le < 2; le++) {
			int r;

			if (w == 1 && le)
				continue;
			memset(mem, 0xee, sizeof(mem));
			sc_buf_init(&b, mem, w - 1);
			take(&s, &b);
			switch (w) {
			case 1: r = sc_buf_put_u8(&b, 0x11); break;
			case 2: r = le ? sc_buf_put_u16_le(&b, 0x1122) : sc_buf_put_u16(&b, 0x1122); break;
			case 4: r = le ? sc_buf_put_u32_le(&b, 0x11223344) : sc_buf_put_u32(&b, 0x11223344); break;
			default: r = le ? sc_buf_put_u64_le(&b, 1) : sc_buf_put_u64(&b, 1); break;
			}
			assert_int_equal(r, SC_ERR_NOSPACE);
			same(&s, &b);
			assert_int_equal(mem[w - 1], 0xee);	/* nothing past size */

			sc_buf_init(&b, mem, w);
			switch (w) {
			case 1: r = sc_buf_put_u8(&b, 0x11); break;
			case 2: r = le ? sc_buf_put_u16_le(&b, 0x1122) : sc_buf_put_u16(&b, 0x1122); break;
			case 4: r = le ? sc_buf_put_u32_le(&b, 0x11223344) : sc_buf_put_u32(&b, 0x11223344); break;
			default: r = le ? sc_buf_put_u64_le(&b, 1) : sc_buf_put_u64(&b, 1); break;
			}
			assert_int_equal(r, 0);
			assert_int_equal(b.len, w);
			assert_int_equal(sc_buf_room(&b), 0);
		}
	}

	/* put_bytes and reserve: exact fit and one short */
	sc_buf_init(&b, mem, 4);
	take(&s, &b);
	assert_int_equal(sc_buf_put_bytes(&b, "abcde", 5), SC_ERR_NOSPACE);
	same(&s, &b);
	assert_int_equal(sc_buf_put_bytes(&b, "abcd", 4), 0);
	assert_memory_equal(mem, "abcd", 4);
	sc_buf_init(&b, mem, 4);
	{
		uint8_t *p = NULL;

		take(&s, &b);
		assert_int_equal(sc_buf_reserve(&b, 5, &p), SC_ERR_NOSPACE);
		same(&s, &b);
		assert_int_equal(sc_buf_reserve(&b, 3, &p), 0);
		assert_ptr_equal(p, mem);
		assert_int_equal(b.len, 3);
		assert_int_equal(sc_buf_reserve(&b, 1, &p), 0);
		assert_ptr_equal(p, mem + 3);
		assert_int_equal(sc_buf_reserve(&b, 1, &p), SC_ERR_NOSPACE);
		assert_int_equal(sc_buf_reserve(&b, 0, &p), 0);
	}
}

static void
test_str8(void **state)
{
	uint8_t mem[1 + 255 + 1], data[256], in[300];
	struct sc_buf b;
	struct snap s;
	const uint8_t *p;
	size_t n;

	(void)state;
	memset(data, 'x', sizeof(data));
	/* Maximum length 255 fits exactly in 256 bytes. */
	sc_buf_init(&b, mem, 256);
	take(&s, &b);
	assert_int_equal(sc_buf_put_str8(&b, data, 256), SC_ERR_TOOLONG);
	same(&s, &b);
	assert_int_equal(sc_buf_put_str8(&b, data, 255), 0);
	assert_int_equal(b.len, 256);
	assert_int_equal(mem[0], 255);
	assert_int_equal(sc_buf_get_str8(&b, &p, &n, 255), 0);
	assert_int_equal(n, 255);
	assert_ptr_equal(p, mem + 1);
	assert_int_equal(sc_buf_expect_end(&b), 0);

	/* One byte of room short. */
	sc_buf_init(&b, mem, 10);
	take(&s, &b);
	assert_int_equal(sc_buf_put_str8(&b, data, 10), SC_ERR_NOSPACE);
	same(&s, &b);
	assert_int_equal(sc_buf_put_str8(&b, data, 9), 0);

	/* Reader: max enforced, truncation detected, nothing consumed on error. */
	in[0] = 5;
	memcpy(in + 1, "hello", 5);
	sc_buf_init_ro(&b, in, 6);
	take(&s, &b);
	assert_int_equal(sc_buf_get_str8(&b, &p, &n, 4), SC_ERR_TOOLONG);
	same(&s, &b);
	sc_buf_init_ro(&b, in, 5);
	take(&s, &b);
	assert_int_equal(sc_buf_get_str8(&b, &p, &n, 255), SC_ERR_TRUNCATED);
	same(&s, &b);
	sc_buf_init_ro(&b, in, 0);
	assert_int_equal(sc_buf_get_str8(&b, &p, &n, 255), SC_ERR_TRUNCATED);
	sc_buf_init_ro(&b, in, 6);
	assert_int_equal(sc_buf_get_str8(&b, &p, &n, 5), 0);
	assert_int_equal(n, 5);
	assert_memory_equal(p, "hello", 5);

	/* Empty string. */
	sc_buf_init(&b, mem, 1);
	assert_int_equal(sc_buf_put_str8(&b, NULL, 0), 0);
	assert_int_equal(sc_buf_get_str8(&b, &p, &n, 0), 0);
	assert_int_equal(n, 0);
}

static void
test_str16(void **state)
{
	static uint8_t mem[2 + 65535], data[65536];
	struct sc_buf b;
	struct snap s;
	const uint8_t *p;
	size_t n;
	uint8_t small[8];

	(void)state;
	memset(data, 'y', sizeof(data));
	sc_buf_init(&b, mem, sizeof(mem));
	assert_int_equal(sc_buf_put_str16(&b, data, 65536), SC_ERR_TOOLONG);
	assert_int_equal(b.len, 0);
	assert_int_equal(sc_buf_put_str16(&b, data, 65535), 0);
	assert_int_equal(b.len, sizeof(mem));
	assert_int_equal(mem[0], 0xff);
	assert_int_equal(mem[1], 0xff);
	assert_int_equal(sc_buf_get_str16(&b, &p, &n, 65534), SC_ERR_TOOLONG);
	assert_int_equal(b.off, 0);
	assert_int_equal(sc_buf_get_str16(&b, &p, &n, 65535), 0);
	assert_int_equal(n, 65535);
	assert_int_equal(sc_buf_expect_end(&b), 0);

	/* Room one short. */
	sc_buf_init(&b, small, sizeof(small));
	take(&s, &b);
	assert_int_equal(sc_buf_put_str16(&b, data, 7), SC_ERR_NOSPACE);
	same(&s, &b);
	assert_int_equal(sc_buf_put_str16(&b, data, 6), 0);
	assert_int_equal(small[0], 0);
	assert_int_equal(small[1], 6);

	/* Truncated body and truncated length field. */
	sc_buf_init_ro(&b, small, 7);
	take(&s, &b);
	assert_int_equal(sc_buf_get_str16(&b, &p, &n, 100), SC_ERR_TRUNCATED);
	same(&s, &b);
	sc_buf_init_ro(&b, small, 1);
	assert_int_equal(sc_buf_get_str16(&b, &p, &n, 100), SC_ERR_TRUNCATED);
	assert_int_equal(b.off, 0);
}

static void
test_readonly_refuses_writes(void **state)
{
	uint8_t ro[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	struct sc_buf b;
	struct snap s;
	uint8_t *p;
	uint8_t u8;

	(void)state;
	sc_buf_init_ro(&b, ro, 4);	/* room exists past len in memory, not in the view */
	take(&s, &b);
	assert_int_equal(sc_buf_room(&b), 0);
	assert_int_equal(sc_buf_put_u8(&b, 9), SC_ERR_NOSPACE);
	assert_int_equal(sc_buf_put_u16(&b, 9), SC_ERR_NOSPACE);
	assert_int_equal(sc_buf_put_u32(&b, 9), SC_ERR_NOSPACE);
	assert_int_equal(sc_buf_put_u64(&b, 9), SC_ERR_NOSPACE);
	assert_int_equal(sc_buf_put_u16_le(&b, 9), SC_ERR_NOSPACE);
	assert_int_equal(sc_buf_put_u32_le(&b, 9), SC_ERR_NOSPACE);
	assert_int_equal(sc_buf_put_u64_le(&b, 9), SC_ERR_NOSPACE);
	assert_int_equal(sc_buf_put_bytes(&b, "z", 1), SC_ERR_NOSPACE);
	assert_int_equal(sc_buf_put_str8(&b, "z", 1), SC_ERR_NOSPACE);
	assert_int_equal(sc_buf_put_str16(&b, "z", 1), SC_ERR_NOSPACE);
	assert_int_equal(sc_buf_reserve(&b, 1, &p), SC_ERR_NOSPACE);
	assert_int_equal(sc_buf_poke_u16(&b, 0, 0xffff), SC_ERR_INVAL);
	assert_int_equal(sc_buf_poke_u32_le(&b, 0, 0xffffffff), SC_ERR_INVAL);
	same(&s, &b);
	assert_memory_equal(ro, "\1\2\3\4\5\6\7\10", 8);

	/* compact on a read-only view is a no-op; reset re-exposes the view. */
	assert_int_equal(sc_buf_get_u8(&b, &u8), 0);
	sc_buf_compact(&b);
	assert_int_equal(b.off, 1);
	assert_int_equal(ro[0], 1);
	sc_buf_reset(&b);
	assert_int_equal(b.off, 0);
	assert_int_equal(sc_buf_avail(&b), 4);
}

static void
test_compact_reset(void **state)
{
	uint8_t mem[8];
	struct sc_buf b;
	uint8_t u8;
	uint16_t u16;

	(void)state;
	sc_buf_init(&b, mem, sizeof(mem));
	assert_int_equal(sc_buf_put_bytes(&b, "abcdefgh", 8), 0);
	assert_int_equal(sc_buf_room(&b), 0);
	/* compact with nothing read: no change */
	sc_buf_compact(&b);
	assert_int_equal(b.len, 8);
	assert_int_equal(sc_buf_get_u16(&b, &u16), 0);
	assert_int_equal(sc_buf_get_u8(&b, &u8), 0);
	sc_buf_compact(&b);
	assert_int_equal(b.off, 0);
	assert_int_equal(b.len, 5);
	assert_memory_equal(mem, "defgh", 5);
	assert_ptr_equal(sc_buf_rptr(&b), mem);
	assert_int_equal(sc_buf_room(&b), 3);
	assert_int_equal(sc_buf_put_bytes(&b, "xyz", 3), 0);
	assert_memory_equal(mem, "defghxyz", 8);
	/* compact with everything read: empty */
	assert_int_equal(sc_buf_skip(&b, 8), 0);
	sc_buf_compact(&b);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.off, 0);
	assert_int_equal(sc_buf_room(&b), 8);
	/* reset forgets contents */
	assert_int_equal(sc_buf_put_u8(&b, 1), 0);
	sc_buf_reset(&b);
	assert_int_equal(sc_buf_avail(&b), 0);
	assert_int_equal(sc_buf_room(&b), 8);
}

static void
test_poke(void **state)
{
	uint8_t mem[8];
	struct sc_buf b;
	struct snap s;

	(void)state;
	sc_buf_init(&b, mem, sizeof(mem));
	assert_int_equal(sc_buf_put_bytes(&b, "\0\0\0\0\0\0", 6), 0);
	assert_int_equal(sc_buf_poke_u16(&b, 0, 0xa1b2), 0);
	assert_int_equal(sc_buf_poke_u32_le(&b, 2, 0x11223344), 0);
	assert_memory_equal(mem, "\xa1\xb2\x44\x33\x22\x11", 6);
	/* Last valid positions, then one past: only written bytes may be poked. */
	assert_int_equal(sc_buf_poke_u16(&b, 4, 0x0102), 0);
	assert_int_equal(sc_buf_poke_u32_le(&b, 2, 0), 0);
	take(&s, &b);
	assert_int_equal(sc_buf_poke_u16(&b, 5, 0x0102), SC_ERR_INVAL);
	assert_int_equal(sc_buf_poke_u32_le(&b, 3, 1), SC_ERR_INVAL);
	assert_int_equal(sc_buf_poke_u16(&b, 7, 1), SC_ERR_INVAL);
	assert_int_equal(sc_buf_poke_u16(&b, SIZE_MAX, 1), SC_ERR_INVAL);
	assert_int_equal(sc_buf_poke_u32_le(&b, SIZE_MAX - 1, 1), SC_ERR_INVAL);
	same(&s, &b);
}

static void
test_get_sub(void **state)
{
	static const uint8_t src[6] = { 0, 3, 'a', 'b', 'c', 9 };
	struct sc_buf b, sub;
	struct snap s;
	uint16_t n;
	uint8_t u8, *p;

	(void)state;
	sc_buf_init_ro(&b, src, sizeof(src));
	assert_int_equal(sc_buf_get_u16(&b, &n), 0);
	take(&s, &b);
	assert_int_equal(sc_buf_get_sub(&b, 5, &sub), SC_ERR_TRUNCATED);
	same(&s, &b);
	assert_int_equal(sc_buf_get_sub(&b, n, &sub), 0);
	assert_true(sub.readonly);
	assert_int_equal(sc_buf_avail(&sub), 3);
	assert_ptr_equal(sc_buf_rptr(&sub), src + 2);
	/* The sub-view cannot see past its end or be written. */
	assert_int_equal(sc_buf_skip(&sub, 3), 0);
	assert_int_equal(sc_buf_get_u8(&sub, &u8), SC_ERR_TRUNCATED);
	assert_int_equal(sc_buf_reserve(&sub, 1, &p), SC_ERR_NOSPACE);
	/* b continues after the sub-view. */
	assert_int_equal(sc_buf_get_u8(&b, &u8), 0);
	assert_int_equal(u8, 9);
	assert_int_equal(sc_buf_expect_end(&b), 0);
	/* Exact fit of the rest; empty sub-view. */
	sc_buf_init_ro(&b, src, sizeof(src));
	assert_int_equal(sc_buf_get_sub(&b, 6, &sub), 0);
	assert_int_equal(sc_buf_avail(&sub), 6);
	assert_int_equal(sc_buf_get_sub(&b, 0, &sub), 0);
	assert_int_equal(sc_buf_avail(&sub), 0);
}

/* A length that would overflow size_t arithmetic is refused, not wrapped. */
static void
test_huge_lengths(void **state)
{
	uint8_t mem[8];
	struct sc_buf b;
	struct snap s;
	const uint8_t *p;
	uint8_t *w;

	(void)state;
	sc_buf_init(&b, mem, sizeof(mem));
	assert_int_equal(sc_buf_put_u16(&b, 1), 0);
	take(&s, &b);
	assert_int_equal(sc_buf_reserve(&b, SIZE_MAX, &w), SC_ERR_NOSPACE);
	assert_int_equal(sc_buf_put_bytes(&b, mem, SIZE_MAX), SC_ERR_NOSPACE);
	assert_int_equal(sc_buf_put_str8(&b, mem, SIZE_MAX), SC_ERR_TOOLONG);
	assert_int_equal(sc_buf_put_str16(&b, mem, SIZE_MAX), SC_ERR_TOOLONG);
	assert_int_equal(sc_buf_skip(&b, SIZE_MAX), SC_ERR_TRUNCATED);
	assert_int_equal(sc_buf_get_view(&b, SIZE_MAX, &p), SC_ERR_TRUNCATED);
	same(&s, &b);
}

/* ---- bulk scanning: sc_buf_span, sc_buf_copy_span ---- */

/* The obvious loop, to compare with. */
static size_t
naive_span(const uint8_t *p, size_t avail, const uint8_t stop[256], size_t max)
{
	size_t i;

	for (i = 0; i < avail && i < max; i++)
		if (stop[p[i]] != 0)
			break;
	return i;
}

static void
test_span(void **state)
{
	static const uint8_t none[256];
	uint8_t all[256], some[256], src[40];
	struct sc_buf b;
	struct snap s;
	size_t i, k, max;

	(void)state;
	memset(all, 1, sizeof(all));
	memset(some, 0, sizeof(some));
	some[0x10] = some[0x7e] = some[0xff] = 1;
	/* Empty buffers, including one over NULL, and max 0. */
	sc_buf_init_ro(&b, NULL, 0);
	assert_int_equal(sc_buf_span(&b, none, SIZE_MAX), 0);
	sc_buf_init(&b, src, sizeof(src));
	assert_int_equal(sc_buf_span(&b, none, SIZE_MAX), 0);	/* nothing written */
	for (i = 0; i < sizeof(src); i++)
		src[i] = (uint8_t)(0x20 + i);
	sc_buf_init_ro(&b, src, sizeof(src));
	take(&s, &b);
	assert_int_equal(sc_buf_span(&b, none, 0), 0);
	assert_int_equal(sc_buf_span(&b, none, SIZE_MAX), sizeof(src));
	assert_int_equal(sc_buf_span(&b, none, 7), 7);
	assert_int_equal(sc_buf_span(&b, all, SIZE_MAX), 0);
	same(&s, &b);			/* span never moves anything */
	/* A stop byte at every position, seen from every read position and
	 * with every max: the span ends right before it. */
	for (k = 0; k < sizeof(src); k++) {
		for (i = 0; i < sizeof(src); i++)
			src[i] = (uint8_t)(0x20 + i);
		src[k] = 0x7e;
		for (i = 0; i <= sizeof(src); i++) {
			for (max = 0; max <= sizeof(src) + 1; max++) {
				sc_buf_init_ro(&b, src, sizeof(src));
				assert_int_equal(sc_buf_skip(&b, i), 0);
				assert_int_equal(sc_buf_span(&b, some, max),
				    naive_span(src + i, sizeof(src) - i, some, max));
				assert_int_equal(b.off, i);
			}
		}
	}
	/* Random data and random tables against the loop above. */
	srand(7);
	for (k = 0; k < 2000; k++) {
		uint8_t tab[256];

		for (i = 0; i < 256; i++)
			tab[i] = (rand() % 16 == 0) ? (uint8_t)(1 + rand() % 255) : 0;
		for (i = 0; i < sizeof(src); i++)
			src[i] = (uint8_t)rand();
		i = (size_t)rand() % (sizeof(src) + 1);
		max = (size_t)rand() % (sizeof(src) + 4);
		sc_buf_init_ro(&b, src, sizeof(src));
		assert_int_equal(sc_buf_skip(&b, i), 0);
		assert_int_equal(sc_buf_span(&b, tab, max),
		    naive_span(src + i, sizeof(src) - i, tab, max));
	}
}

static void
test_copy_span(void **state)
{
	static const uint8_t none[256];
	uint8_t stop[256], src[32], mem[16];
	struct sc_buf in, out;
	struct snap s_in, s_out;
	size_t n, i;

	(void)state;
	memset(stop, 0, sizeof(stop));
	stop['|'] = 1;
	memcpy(src, "abc|defghij|klmnopqrstuvwxyz0123", sizeof(src));
	sc_buf_init_ro(&in, src, sizeof(src));
	sc_buf_init(&out, mem, sizeof(mem));
	/* Moves the run before the stop byte; both sides advance. */
	assert_int_equal(sc_buf_put_u8(&out, '>'), 0);
	assert_int_equal(sc_buf_copy_span(&out, &in, stop, SIZE_MAX, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(in.off, 3);
	assert_int_equal(out.len, 4);
	assert_memory_equal(mem, ">abc", 4);
	/* At a stop byte: nothing moves, n = 0. */
	assert_int_equal(sc_buf_copy_span(&out, &in, stop, SIZE_MAX, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(in.off, 3);
	assert_int_equal(out.len, 4);
	assert_int_equal(sc_buf_skip(&in, 1), 0);
	/* max limits the run. */
	assert_int_equal(sc_buf_copy_span(&out, &in, stop, 2, &n), 0);
	assert_int_equal(n, 2);
	assert_memory_equal(mem, ">abcde", 6);
	/* The rest of the run, "fghij", fits (6 + 5 = 11 <= 16). */
	assert_int_equal(sc_buf_copy_span(&out, &in, stop, SIZE_MAX, &n), 0);
	assert_int_equal(n, 5);
	assert_int_equal(out.len, 11);
	assert_int_equal(sc_buf_skip(&in, 1), 0);
	/* The next run (20 bytes) does not fit: nothing changes. */
	take(&s_in, &in);
	take(&s_out, &out);
	n = 99;
	assert_int_equal(sc_buf_copy_span(&out, &in, stop, SIZE_MAX, &n),
	    SC_ERR_NOSPACE);
	assert_int_equal(n, 0);
	same(&s_in, &in);
	same(&s_out, &out);
	/* ... but the part that fits can be asked for with max. */
	assert_int_equal(sc_buf_copy_span(&out, &in, stop, sc_buf_room(&out), &n), 0);
	assert_int_equal(n, 5);
	assert_int_equal(sc_buf_room(&out), 0);
	assert_memory_equal(mem, ">abcdefghijklmno", 16);
	/* A read-only destination takes nothing (an empty run is fine). */
	sc_buf_init_ro(&in, src, sizeof(src));
	sc_buf_init_ro(&out, mem, sizeof(mem));
	take(&s_out, &out);
	assert_int_equal(sc_buf_copy_span(&out, &in, none, SIZE_MAX, &n),
	    SC_ERR_NOSPACE);
	assert_int_equal(in.off, 0);
	same(&s_out, &out);
	assert_int_equal(sc_buf_copy_span(&out, &in, stop, 0, &n), 0);
	assert_int_equal(n, 0);
	/* An empty source over NULL. */
	sc_buf_init_ro(&in, NULL, 0);
	sc_buf_init(&out, mem, sizeof(mem));
	assert_int_equal(sc_buf_copy_span(&out, &in, none, SIZE_MAX, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(out.len, 0);
	/* Whole buffer with no stop byte in it. */
	for (i = 0; i < sizeof(src); i++)
		src[i] = (uint8_t)i;
	sc_buf_init_ro(&in, src, sizeof(src));
	sc_buf_init(&out, mem, sizeof(mem));
	assert_int_equal(sc_buf_copy_span(&out, &in, none, sizeof(mem), &n), 0);
	assert_int_equal(n, sizeof(mem));
	assert_memory_equal(mem, src, sizeof(mem));
	assert_int_equal(sc_buf_avail(&in), sizeof(src) - sizeof(mem));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init),
		cmocka_unit_test(test_integers_roundtrip),
		cmocka_unit_test(test_readers_short),
		cmocka_unit_test(test_writers_short),
		cmocka_unit_test(test_str8),
		cmocka_unit_test(test_str16),
		cmocka_unit_test(test_readonly_refuses_writes),
		cmocka_unit_test(test_compact_reset),
		cmocka_unit_test(test_poke),
		cmocka_unit_test(test_get_sub),
		cmocka_unit_test(test_huge_lengths),
		cmocka_unit_test(test_span),
		cmocka_unit_test(test_copy_span),
	};

	return cmocka_run_group_tests_name("buf", tests, NULL, NULL);
}
