/*
 * cleartext.c — the clear-phase display filter (see cleartext.h).
 */
#include "config.h"

#include <string.h>

#include "cleartext.h"

void
clrf_init(struct clrf *c, int cols, int mark_cols)
{
	memset(c, 0, sizeof(*c));
	c->mark_cols = mark_cols;
	c->bol = true;
	clrf_set_cols(c, cols);
}

void
clrf_set_cols(struct clrf *c, int cols)
{
	if (cols <= 0)
		cols = CLRF_COLS_DEFAULT;
	if (cols < CLRF_COLS_MIN)
		cols = CLRF_COLS_MIN;
	c->cols = cols;
}

void
clrf_line_start(struct clrf *c)
{
	c->bol = true;
	c->col = 0;
	c->after_cr = false;
}

static void
line_end(struct clrf *c, clrf_emit_fn emit, void *ctx)
{
	emit(ctx, (const uint8_t *)"\r\n", 2);
	clrf_line_start(c);
}

/* Show p[0..n), w columns wide, on a marked line that has room for it. */
static void
put(struct clrf *c, const void *p, size_t n, int w, clrf_emit_fn emit,
    clrf_emit_fn mark, void *ctx)
{
	if (!c->bol && c->col + w > c->cols)
		line_end(c, emit, ctx);
	if (c->bol) {
		mark(ctx, NULL, 0);
		c->bol = false;
		c->col = c->mark_cols;
	}
	emit(ctx, p, n);
	c->col += w;
}

static void
put_hex(struct clrf *c, uint8_t b, clrf_emit_fn emit, clrf_emit_fn mark,
    void *ctx)
{
	static const char hex[] = "0123456789abcdef";
	char s[4] = { '\\', 'x', hex[b >> 4], hex[b & 15] };

	put(c, s, sizeof(s), (int)sizeof(s), emit, mark, ctx);
}

/* The collected UTF-8 bytes are not one valid character: show them. */
static void
u8_reject(struct clrf *c, clrf_emit_fn emit, clrf_emit_fn mark, void *ctx)
{
	int i;

	for (i = 0; i < c->u8_len; i++)
		put_hex(c, c->u8[i], emit, mark, ctx);
	c->u8_len = c->u8_want = 0;
}

/* Is b a valid continuation at position c->u8_len of the sequence? */
static bool
u8_cont_ok(const struct clrf *c, uint8_t b)
{
	uint8_t lo = 0x80, hi = 0xbf;

	if (c->u8_len == 1) {
		switch (c->u8[0]) {
		case 0xe0: lo = 0xa0; break;	/* no overlong */
		case 0xed: hi = 0x9f; break;	/* no surrogates */
		case 0xf0: lo = 0x90; break;	/* no overlong */
		case 0xf4: hi = 0x8f; break;	/* <= U+10FFFF */
		default: break;
		}
	}
	return b >= lo && b <= hi;
}

/*
 * A complete, valid sequence: C1 controls (U+0080..U+009F) and the bidi
 * embedding/override/isolate controls, which can reorder what the line
 * shows, are shown as bytes; anything else as itself, two columns wide.
 */
static void
u8_done(struct clrf *c, clrf_emit_fn emit, clrf_emit_fn mark, void *ctx)
{
	const uint8_t *u = c->u8;
	bool inert = (c->u8_len == 2 && u[0] == 0xc2 && u[1] <= 0x9f) ||
	    (c->u8_len == 3 && u[0] == 0xe2 &&
	     ((u[1] == 0x80 && u[2] >= 0xaa && u[2] <= 0xae) ||
	      (u[1] == 0x81 && u[2] >= 0xa6 && u[2] <= 0xa9)));

	if (inert) {
		u8_reject(c, emit, mark, ctx);
		return;
	}
	put(c, c->u8, (size_t)c->u8_len, 2, emit, mark, ctx);
	c->u8_len = c->u8_want = 0;
}

static int
u8_lead(uint8_t b)
{
	if (b >= 0xc2 && b <= 0xdf)
		return 2;
	if (b >= 0xe0 && b <= 0xef)
		return 3;
	if (b >= 0xf0 && b <= 0xf4)
		return 4;
	return 0;
}

static void
one_byte(struct clrf *c, uint8_t b, clrf_emit_fn emit, clrf_emit_fn mark,
    void *ctx)
{
	char s[2];

	if (c->u8_want > 0) {
		if (u8_cont_ok(c, b)) {
			c->u8[c->u8_len++] = b;
			if (c->u8_len == c->u8_want)
				u8_done(c, emit, mark, ctx);
			return;
		}
		u8_reject(c, emit, mark, ctx);	/* then b on its own */
	}
	if (b == '\r' || b == '\n') {
		if (b == '\n' && c->after_cr) {
			c->after_cr = false;	/* the LF of a CR LF */
			return;
		}
		line_end(c, emit, ctx);
		c->after_cr = b == '\r';
		return;
	}
	c->after_cr = false;
	if (b >= 0x20 && b < 0x7f) {
		s[0] = (char)b;
		put(c, s, 1, 1, emit, mark, ctx);
	} else if (b == '\t') {
		do {
			put(c, " ", 1, 1, emit, mark, ctx);
		} while (c->col % CLRF_TAB != 0 && c->col < c->cols);
	} else if (b < 0x20 || b == 0x7f) {
		s[0] = '^';
		s[1] = b == 0x7f ? '?' : (char)(b + 0x40);
		put(c, s, 2, 2, emit, mark, ctx);
	} else if ((c->u8_want = u8_lead(b)) > 0) {
		c->u8[0] = b;
		c->u8_len = 1;
	} else {
		put_hex(c, b, emit, mark, ctx);	/* 8-bit C1, stray bytes */
	}
}

void
clrf_filter(struct clrf *c, const uint8_t *in, size_t len, clrf_emit_fn emit,
    clrf_emit_fn mark, void *ctx)
{
	size_t i;

	for (i = 0; i < len; i++)
		one_byte(c, in[i], emit, mark, ctx);
}

void
clrf_flush(struct clrf *c, clrf_emit_fn emit, clrf_emit_fn mark, void *ctx)
{
	if (c->u8_len > 0)
		u8_reject(c, emit, mark, ctx);
}
