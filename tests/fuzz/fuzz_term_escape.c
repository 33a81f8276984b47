/*
 * fuzz_term_escape.c — libFuzzer harness for sccrypt-term's escape processor.
 *
 * Input: byte 0 picks the escape char (0xff = none), byte 1 seeds the chunk
 * sizes, the rest is user input.  Invariants checked: the processor never
 * emits more console bytes than it was given, never emits an empty chunk,
 * stops at a disconnect, and gives the same result for any chunking.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../sccrypt-term/escape.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct acc {
	uint8_t		out[16384];
	size_t		len;
	unsigned	cmds;
	uint32_t	cmdhash;
};

static void
acc_data(void *ctx, const uint8_t *p, size_t len)
{
	struct acc *a = ctx;

	if (len == 0)
		abort();
	if (a->len + len > sizeof(a->out))
		abort();
	memcpy(a->out + a->len, p, len);
	a->len += len;
}

static void
acc_cmd(void *ctx, enum esc_cmd cmd, uint8_t arg)
{
	struct acc *a = ctx;

	a->cmds++;
	a->cmdhash = a->cmdhash * 31 + (uint32_t)cmd * 257 + arg;
}

static bool
run(int ec, const uint8_t *in, size_t len, unsigned seed, struct acc *a)
{
	struct esc e;
	struct esc_sink sink = { a, acc_data, acc_cmd };
	size_t off = 0;

	esc_init(&e, ec);
	while (off < len) {
		size_t n = seed == 0 ? len - off : 1 + (seed + off) % 7;

		if (n > len - off)
			n = len - off;
		if (!esc_feed(&e, in + off, n, &sink))
			return false;
		off += n;
	}
	return true;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct acc a, b;
	int ec;

	if (size < 2 || size > 8192)
		return 0;
	ec = data[0] == 0xff ? ESC_NONE : data[0];
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	bool ra = run(ec, data + 2, size - 2, 0, &a);
	bool rb = run(ec, data + 2, size - 2, data[1] | 1u, &b);

	if (a.len > size - 2)
		abort();
	if (ra != rb || a.len != b.len || a.cmds != b.cmds ||
	    a.cmdhash != b.cmdhash || memcmp(a.out, b.out, a.len) != 0)
		abort();	/* chunking changed the result */
	if (ec == ESC_NONE && (a.len != size - 2 || a.cmds != 0))
		abort();
	return 0;
}
