/*
 * fuzz_term_screen.c — libFuzzer harness for sccrypt-term's status-line
 * output filter (sccrypt-term/screen.c), which parses guest console output.
 *
 * Input: byte 0 picks the terminal rows, byte 1 seeds the chunk sizes, the
 * rest is console output.  Invariants checked: any chunking gives the same
 * bytes and the same state; with rows < 3 (nothing rewritten) the output is
 * exactly the input; the output is never more than a bounded expansion of
 * the input; the clamped region never includes the status row.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct acc a, b;
	struct scrf fa, fb;
	int rows, t, bt;

	if (size < 2 || size > 8192)
		return 0;
	rows = data[0];
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
