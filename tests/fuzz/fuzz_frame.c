/*
 * fuzz_frame.c — the incremental frame decoder, both encodings.
 *
 * Input: byte 0 selects the encoding (bit 0) and the chunk size the rest is
 * fed in (bits 1..7, plus 1); the rest is the stream from dom0.  Every frame
 * the decoder yields must be within the limits, must re-encode, and the
 * re-encoding must decode to the same frame.  A decoder error must be sticky.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/buf.h"
#include "core/frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct sc_frame_decoder d, d2;
static uint8_t enc[SC_FRAME_ENC_MAX], copy[SC_FRAME_BODY_MAX];

static void
check_reencode(uint8_t encoding, const struct sc_frame *f)
{
	struct sc_frame g;
	struct sc_buf b;
	size_t used;
	uint16_t len = f->len;
	uint8_t type = f->type;

	if (f->len > SC_FRAME_BODY_MAX)
		abort();
	memcpy(copy, f->body, f->len);
	sc_buf_init(&b, enc, sizeof(enc));
	if (sc_frame_encode(&b, encoding, type, copy, len) != 0)
		abort();
	if (sc_frame_decoder_init(&d2, encoding) != 0)
		abort();
	if (sc_frame_decode(&d2, enc, b.len, &used, &g) != 1 || used != b.len)
		abort();
	if (g.type != type || g.len != len || memcmp(g.body, copy, len) != 0)
		abort();
	if (sc_frame_decoder_partial(&d2))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sc_frame f;
	uint8_t encoding;
	size_t chunk, pos = 0, n, used;
	int r = 0;

	if (size < 1)
		return 0;
	encoding = (data[0] & 1) ? SC_ENCODING_ARMOR : SC_ENCODING_BINARY;
	chunk = (size_t)(data[0] >> 1) + 1;
	data++;
	size--;
	if (sc_frame_decoder_init(&d, encoding) != 0)
		abort();
	while (pos < size) {
		n = size - pos < chunk ? size - pos : chunk;
		while (n > 0) {
			r = sc_frame_decode(&d, data + pos, n, &used, &f);
			if (used > n)
				abort();
			pos += used;
			n -= used;
			if (r < 0)
				goto failed;
			if (r == 1)
				check_reencode(encoding, &f);
			else if (n != 0)
				abort();	/* 0 means everything was consumed */
		}
	}
	(void)sc_frame_decoder_partial(&d);
	return 0;
failed:
	/* Sticky: nothing more is accepted. */
	if (sc_frame_decode(&d, (const uint8_t *)"\x08\x00\x00", 3, &used, &f) != r ||
	    used != 0)
		abort();
	return 0;
}
