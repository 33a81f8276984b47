/*
 * fuzz_term_screen.c — libFuzzer harness for sccrypt-term's status-line
 * output filter (sccrypt-term/screen.c), which parses guest console output.
 *
 * Input: byte 0 picks the terminal rows, byte 1 seeds the chunk sizes, the
 * rest is console output.  Invariants checked: any chunking gives the same
 * bytes and the same state; with rows < 3 (nothing rewritten) the output is
 * exactly the input; the output is never more than a bounded expansion of
 * the input; the clamped region never includes the status row.  The same
 * input goes through the clear-phase filter (cleartext.c), byte 0 as the
 * width: see check_clear; and through the replayed-history query filter
 * (replay.c): see check_replay.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../sccrypt-term/cleartext.h"
#include "../../sccrypt-term/replay.h"
#include "../../sccrypt-term/screen.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct acc {
	uint8_t		out[65536];
	size_t		len;
};

static void
acc_emit(void *ctx, const uint8_t *p, size_t len)
{
	struct acc *a = ctx;

	if (len == 0 || a->len + len > sizeof(a->out))
		abort();
	memcpy(a->out + a->len, p, len);
	a->len += len;
}

static void
run(int rows, const uint8_t *in, size_t len, unsigned seed, struct acc *a,
    struct scrf *f)
{
	size_t off = 0;

	scrf_init(f, rows);
	a->len = 0;
	while (off < len) {
		size_t n = seed == 0 ? len - off : 1 + (seed + off) % 13;

		if (n > len - off)
			n = len - off;
		scrf_filter(f, in + off, n, acc_emit, a);
		off += n;
	}
}

static void
acc_mark(void *ctx, const uint8_t *p, size_t len)
{
	acc_emit(ctx, (const uint8_t *)"|", 1);
}

/* The clear-phase filter (cleartext.h) on the same input. */
static void
run_clear(int cols, const uint8_t *in, size_t len, unsigned seed,
    struct acc *a)
{
	struct clrf c;
	size_t off = 0;

	clrf_init(&c, cols, 1);
	a->len = 0;
	while (off < len) {
		size_t n = seed == 0 ? len - off : 1 + (seed + off) % 13;

		if (n > len - off)
			n = len - off;
		clrf_filter(&c, in + off, n, acc_emit, acc_mark, a);
		off += n;
	}
	clrf_flush(&c, acc_emit, acc_mark, a);
}

/*
 * Clear text: the same for any chunking; no control byte but the CR LF the
 * filter writes, no ESC, no DEL, no 8-bit C1, no UTF-8 encoded C1; no row
 * longer than the width (non-ASCII counted as two columns); every row with
 * text starts with the marker.
 */
static void
check_clear(int cols, const uint8_t *in, size_t len, unsigned seed)
{
	static struct acc a, b;
	int width = cols < CLRF_COLS_MIN ? (cols <= 0 ? CLRF_COLS_DEFAULT :
	    CLRF_COLS_MIN) : cols, col = 0;
	size_t i;

	run_clear(cols, in, len, 0, &a);
	run_clear(cols, in, len, seed, &b);
	if (a.len != b.len || memcmp(a.out, b.out, a.len) != 0)
		abort();
	for (i = 0; i < a.len; i++) {
		uint8_t c = a.out[i];

		if (c == '\r') {
			if (i + 1 >= a.len || a.out[i + 1] != '\n')
				abort();
			i++;
			col = 0;
			continue;
		}
		if (c < 0x20 || c == 0x7f)
			abort();
		/* 0x80..0xbf only inside a UTF-8 sequence: no 8-bit C1 */
		if (c >= 0x80 && c < 0xc0 && (i == 0 || a.out[i - 1] < 0x80))
			abort();
		if (c == 0xc2 && i + 1 < a.len && a.out[i + 1] < 0xa0)
			abort();
		if (col == 0 && c != '|')
			abort();
		if (c < 0x80)
			col++;
		else if ((c & 0xc0) != 0x80)
			col += 2;
		if (col > width)
			abort();
	}
}

static void
run_replay(const uint8_t *in, size_t len, unsigned seed, struct acc *a)
{
	struct rplf f;
	size_t off = 0;

	rplf_init(&f);
	a->len = 0;
	while (off < len) {
		size_t n = seed == 0 ? len - off : 1 + (seed + off) % 13;

		if (n > len - off)
			n = len - off;
		rplf_filter(&f, in + off, n, acc_emit, a);
		off += n;
	}
	rplf_end(&f);
}

/* Replayed history: the same for any chunking, and only bytes taken out
 * (the output is a subsequence of the input). */
static void
check_replay(const uint8_t *in, size_t len, unsigned seed)
{
	static struct acc a, b;
	size_t i, j = 0;

	run_replay(in, len, 0, &a);
	run_replay(in, len, seed, &b);
	if (a.len != b.len || memcmp(a.out, b.out, a.len) != 0)
		abort();
	for (i = 0; i < len && j < a.len; i++)
		if (in[i] == a.out[j])
			j++;
	if (j != a.len)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct acc a, b;
	struct scrf fa, fb;
	int rows, t, bt;

	if (size < 2 || size > 8192)
		return 0;
	rows = data[0];
	check_clear(rows, data + 2, size - 2, data[1]);
	check_replay(data + 2, size - 2, data[1]);
	run(rows, data + 2, size - 2, 0, &a, &fa);
	run(rows, data + 2, size - 2, data[1], &b, &fb);
	if (a.len != b.len || memcmp(a.out, b.out, a.len) != 0)
		abort();
	if (fa.redraw != fb.redraw || fa.saved != fb.saved ||
	    fa.top != fb.top || fa.bottom != fb.bottom ||
	    scrf_idle(&fa) != scrf_idle(&fb))
		abort();
	if (a.len > 2 * (size - 2) + 64)
		abort();
	if (rows < 3) {
		if (a.len > size - 2 || memcmp(a.out, data + 2, a.len) != 0)
			abort();
	} else {
		scrf_region(&fa, &t, &bt);
		if (t < 0 || bt > rows - 2 || t >= bt)
			abort();
	}
	return 0;
}
