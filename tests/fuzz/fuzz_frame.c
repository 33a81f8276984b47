/*
 * fuzz_frame.c — the incremental frame decoder, both encodings.
 *
 * Input: byte 0 selects the encoding (bit 0) and the chunk size the rest is
 * fed in (bits 1..7, plus 1); the rest is the stream from dom0.  Every frame
 * the decoder yields must be within the limits, must re-encode to exactly
 * the bytes of the byte-at-a-time reference encoder (frame_ref.h), and the
 * re-encoding must decode to the same frame.  A decoder error must be
 * sticky.  The decoder is run on the chunks, on the whole input at once and
 * (up to 1 KiB) one byte at a time, and each run must match the reference
 * decoder exactly: the same frames ending at the same offsets with the same
 * bodies, the same error on the same byte, the same partial state at the
 * end.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/buf.h"
#include "core/frame.h"

#include "frame_ref.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * What the reference decoder made of the stream (at most one frame per 3
 * input bytes; the bodies, concatenated, are no longer than the input).
 */
#define INPUT_MAX	65536
#define EVENTS_MAX	(INPUT_MAX / 3 + 1)
struct result {
	size_t	nframes;
	size_t	end[EVENTS_MAX];	/* offset just past the frame's last byte */
	uint8_t	type[EVENTS_MAX];
	uint16_t len[EVENTS_MAX];
	size_t	boff[EVENTS_MAX];	/* the body, at bodies[boff] */
	uint8_t	bodies[INPUT_MAX];
	size_t	blen;
	int	err;
	size_t	err_at;			/* offset of the byte it failed on */
	bool	partial;
};

static struct sc_frame_decoder d, d2;
static struct ref_dec ref;
static struct result want;
static uint8_t enc[SC_FRAME_ENC_MAX], enc_ref[SC_FRAME_ENC_MAX];
static uint8_t copy[SC_FRAME_BODY_MAX];

static void
check_reencode(uint8_t encoding, const struct sc_frame *f)
{
	struct sc_frame g;
	struct sc_buf b;
	size_t used, n;
	uint16_t len = f->len;
	uint8_t type = f->type;

	if (f->len > SC_FRAME_BODY_MAX)
		abort();
	memcpy(copy, f->body, f->len);
	sc_buf_init(&b, enc, sizeof(enc));
	if (sc_frame_encode(&b, encoding, type, copy, len) != 0)
		abort();
	n = ref_encode(encoding, type, copy, len, enc_ref);
	if (b.len != n || memcmp(enc, enc_ref, n) != 0)
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

static void
ref_run(uint8_t encoding, const uint8_t *in, size_t len, struct result *res)
{
	size_t i, n;
	int r;

	res->nframes = 0;
	res->blen = 0;
	res->err = 0;
	res->err_at = 0;
	res->partial = false;
	ref_init(&ref, encoding);
	for (i = 0; i < len; i++) {
		r = ref_byte(&ref, in[i]);
		if (r < 0) {
			res->err = r;
			res->err_at = i;
			return;
		}
		if (r == 1) {
			n = ref_len(&ref);
			if (res->nframes >= EVENTS_MAX || n > SC_FRAME_BODY_MAX ||
			    n > sizeof(res->bodies) - res->blen)
				abort();
			res->end[res->nframes] = i + 1;
			res->type[res->nframes] = ref.frame[0];
			res->len[res->nframes] = (uint16_t)n;
			res->boff[res->nframes] = res->blen;
			memcpy(res->bodies + res->blen, ref.frame + 3, n);
			res->blen += n;
			res->nframes++;
			ref.have = 0;
		}
	}
	res->partial = ref_partial(&ref);
}

/*
 * Decode in[0..len) in chunks of `chunk` bytes and check, as it goes, that
 * it does exactly what the reference did (w).
 */
static void
real_run(uint8_t encoding, const uint8_t *in, size_t len, size_t chunk,
    bool reencode, const struct result *w)
{
	struct sc_frame f;
	size_t pos = 0, n, used, nf = 0;
	int r;

	if (sc_frame_decoder_init(&d, encoding) != 0)
		abort();
	while (pos < len) {
		n = len - pos < chunk ? len - pos : chunk;
		while (n > 0) {
			r = sc_frame_decode(&d, in + pos, n, &used, &f);
			if (used > n)
				abort();
			if (r < 0) {
				if (r != w->err || pos + used != w->err_at ||
				    nf != w->nframes)
					abort();
				/* Sticky: nothing more is accepted. */
				if (sc_frame_decode(&d, (const uint8_t *)"\x08\x00\x00",
				    3, &used, &f) != r || used != 0)
					abort();
				return;
			}
			pos += used;
			n -= used;
			if (r == 1) {
				if (nf >= w->nframes || pos != w->end[nf] ||
				    f.type != w->type[nf] || f.len != w->len[nf] ||
				    memcmp(f.body, w->bodies + w->boff[nf],
				    f.len) != 0)
					abort();
				nf++;
				if (reencode)
					check_reencode(encoding, &f);
			} else if (r != 0 || n != 0) {
				abort();	/* 0 means everything was consumed */
			}
		}
	}
	if (w->err != 0 || nf != w->nframes ||
	    sc_frame_decoder_partial(&d) != w->partial)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t encoding;
	size_t chunk;

	if (size < 1)
		return 0;
	encoding = (data[0] & 1) ? SC_ENCODING_ARMOR : SC_ENCODING_BINARY;
	chunk = (size_t)(data[0] >> 1) + 1;
	data++;
	size--;
	if (size > INPUT_MAX)
		return 0;		/* EVENTS_MAX */
	ref_run(encoding, data, size, &want);
	real_run(encoding, data, size, chunk, true, &want);
	real_run(encoding, data, size, size ? size : 1, false, &want);
	/* Byte by byte (the unit tests do long inputs that way). */
	if (size <= 1024)
		real_run(encoding, data, size, 1, false, &want);
	return 0;
}
