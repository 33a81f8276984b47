/*
 * test_frame.c — frame codec (both encodings), incremental decoding at every
 * split point, header checks before the body, malformed input, the HELLO
 * scanner, HELLO and ERROR bodies, VM name validation; and the codec against
 * a byte-at-a-time reference (identical encoded bytes; identical frames,
 * errors and error positions under every chunking of the decoder input).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>
#include <cmocka.h>

#include "core/err.h"
#include "core/buf.h"
#include "core/wire.h"
#include "core/frame.h"

#include "../fuzz/frame_ref.h"

#define STREAM_MAX	(64 * 1024)

static const uint8_t stuff_set[] = { 0x10, 0x11, 0x13, 0x1d, 0x7e };

struct got_frame {
	uint8_t	type;
	size_t	len;
	uint8_t	body[SC_FRAME_BODY_MAX];
};

/* Encode one frame into a fresh buffer; returns the encoded length. */
static size_t
enc1(uint8_t enc, uint8_t type, const uint8_t *body, size_t len, uint8_t *out,
    size_t cap)
{
	struct sc_buf b;

	sc_buf_init(&b, out, cap);
	assert_int_equal(sc_frame_encode(&b, enc, type, body, len), 0);
	return b.len;
}

/*
 * Feed in[0..len) to a fresh decoder in chunks of `chunk` bytes (0 = all at
 * once); collect frames.  Returns the number of frames, or the negative error.
 */
static int
decode_all(uint8_t enc, const uint8_t *in, size_t len, size_t chunk,
    struct got_frame *got, int maxgot, bool *partial)
{
	struct sc_frame_decoder *d = malloc(sizeof(*d));
	struct sc_frame f;
	size_t pos = 0, n, used;
	int nf = 0, r;

	assert_non_null(d);
	assert_int_equal(sc_frame_decoder_init(d, enc), 0);
	if (chunk == 0)
		chunk = len ? len : 1;
	while (pos < len) {
		n = SC_MIN(chunk, len - pos);
		while (n > 0) {
			r = sc_frame_decode(d, in + pos, n, &used, &f);
			assert_true(used <= n);
			if (r < 0) {
				free(d);
				return r;
			}
			pos += used;
			n -= used;
			if (r == 1) {
				assert_true(nf < maxgot);
				got[nf].type = f.type;
				got[nf].len = f.len;
				memcpy(got[nf].body, f.body, f.len);
				nf++;
			} else {
				assert_int_equal(n, 0);
			}
		}
	}
	if (partial != NULL)
		*partial = sc_frame_decoder_partial(d);
	free(d);
	return nf;
}

/* ---- encoding ---- */

static void
test_stuffed_bytes(void **state)
{
	uint8_t out[64], body[3];
	size_t n, i, k;
	struct got_frame *got = malloc(sizeof(*got));

	(void)state;
	for (i = 0; i < sizeof(stuff_set); i++) {
		body[0] = 'a';
		body[1] = stuff_set[i];
		body[2] = 'b';
		n = enc1(SC_ENCODING_BINARY, SC_FRAME_RECORD, body, 3, out, sizeof(out));
		/* header 04 00 03, then a, DLE, x^0x20, b */
		assert_int_equal(n, 3 + 4);
		assert_int_equal(out[0], 0x04);
		assert_int_equal(out[3], 'a');
		assert_int_equal(out[4], SC_DLE);
		assert_int_equal(out[5], stuff_set[i] ^ SC_STUFF_XOR);
		assert_int_equal(out[6], 'b');
		/* No raw member of the set outside the DLE escapes. */
		for (k = 0; k < n; k++) {
			if (out[k] == SC_DLE) {
				k++;
				continue;
			}
			assert_null(memchr(stuff_set, out[k], sizeof(stuff_set)));
		}
		assert_int_equal(decode_all(SC_ENCODING_BINARY, out, n, 0, got, 1, NULL), 1);
		assert_int_equal(got->type, SC_FRAME_RECORD);
		assert_int_equal(got->len, 3);
		assert_memory_equal(got->body, body, 3);
	}
	/* A length byte in the set is stuffed too: len 0x7e, 0x1011. */
	{
		static uint8_t big[0x1011];
		uint8_t *o = malloc(SC_FRAME_ENC_MAX);

		n = enc1(SC_ENCODING_BINARY, SC_FRAME_RECORD, big, 0x7e, o, SC_FRAME_ENC_MAX);
		assert_int_equal(o[1], 0x00);
		assert_int_equal(o[2], SC_DLE);
		assert_int_equal(o[3], 0x7e ^ 0x20);
		assert_int_equal(decode_all(SC_ENCODING_BINARY, o, n, 1, got, 1, NULL), 1);
		assert_int_equal(got->len, 0x7e);
		n = enc1(SC_ENCODING_BINARY, SC_FRAME_RECORD, big, 0x1011, o, SC_FRAME_ENC_MAX);
		assert_int_equal(o[1], SC_DLE);
		assert_int_equal(o[2], 0x30);
		assert_int_equal(o[3], SC_DLE);
		assert_int_equal(o[4], 0x31);
		assert_int_equal(decode_all(SC_ENCODING_BINARY, o, n, 7, got, 1, NULL), 1);
		assert_int_equal(got->len, 0x1011);
		free(o);
	}
	free(got);
}

static void
check_all_bytes(uint8_t enc)
{
	uint8_t body[1024], *out = malloc(SC_FRAME_ENC_MAX);
	struct got_frame *got = malloc(sizeof(*got));
	size_t i, n, len;
	uint8_t type;

	for (i = 0; i < sizeof(body); i++)
		body[i] = (uint8_t)(i * 7 + (i >> 8));
	for (type = SC_FRAME_HELLO; type <= SC_FRAME_BYE; type++) {
		for (len = 0; len <= 260; len += (len < 8 ? 1 : 63)) {
			n = enc1(enc, type, body, len, out, SC_FRAME_ENC_MAX);
			assert_true(n <= (enc == SC_ENCODING_BINARY ?
			    SC_FRAME_ENC_MAX_BINARY : SC_FRAME_ENC_MAX_ARMOR));
			assert_int_equal(decode_all(enc, out, n, 0, got, 1, NULL), 1);
			assert_int_equal(got->type, type);
			assert_int_equal(got->len, len);
			assert_memory_equal(got->body, body, len);
		}
	}
	/* Every byte value, in a single frame and one frame per value. */
	for (i = 0; i < 256; i++)
		body[i] = (uint8_t)i;
	n = enc1(enc, SC_FRAME_RECORD, body, 256, out, SC_FRAME_ENC_MAX);
	if (enc == SC_ENCODING_ARMOR) {
		for (i = 0; i < n; i++)
			assert_true(isalnum(out[i]) || out[i] == '+' ||
			    out[i] == '/' || out[i] == '=' ||
			    (out[i] == '\n' && i == n - 1));
	} else {
		for (i = 0; i < n; i++) {
			if (out[i] == SC_DLE) {
				i++;
				continue;
			}
			assert_null(memchr(stuff_set, out[i], sizeof(stuff_set)));
		}
	}
	assert_int_equal(decode_all(enc, out, n, 1, got, 1, NULL), 1);
	assert_int_equal(got->len, 256);
	assert_memory_equal(got->body, body, 256);
	for (i = 0; i < 256; i++) {
		uint8_t v = (uint8_t)i;

		n = enc1(enc, SC_FRAME_RECORD, &v, 1, out, SC_FRAME_ENC_MAX);
		assert_int_equal(decode_all(enc, out, n, 0, got, 1, NULL), 1);
		assert_int_equal(got->len, 1);
		assert_int_equal(got->body[0], v);
	}
	/* The largest frame, worst case for stuffing. */
	{
		static uint8_t maxbody[SC_FRAME_BODY_MAX];

		memset(maxbody, 0x7e, sizeof(maxbody));
		n = enc1(enc, SC_FRAME_RECORD, maxbody, sizeof(maxbody), out,
		    SC_FRAME_ENC_MAX);
		if (enc == SC_ENCODING_BINARY)
			assert_int_equal(n, 3 + 2 * SC_FRAME_BODY_MAX);
		assert_int_equal(decode_all(enc, out, n, 1000, got, 1, NULL), 1);
		assert_int_equal(got->len, SC_FRAME_BODY_MAX);
		assert_memory_equal(got->body, maxbody, sizeof(maxbody));
	}
	free(out);
	free(got);
}

static void
test_all_bytes_binary(void **state)
{
	(void)state;
	check_all_bytes(SC_ENCODING_BINARY);
}

static void
test_all_bytes_armor(void **state)
{
	(void)state;
	check_all_bytes(SC_ENCODING_ARMOR);
}

static void
test_known_armor(void **state)
{
	uint8_t out[64];
	size_t n;

	(void)state;
	/* 04 00 02 'h' 'i' -> base64 "BAACaGk=" */
	n = enc1(SC_ENCODING_ARMOR, SC_FRAME_RECORD, (const uint8_t *)"hi", 2,
	    out, sizeof(out));
	assert_int_equal(n, 9);
	assert_memory_equal(out, "BAACaGk=\n", 9);
	/* BYE, empty: 08 00 00 -> "CAAA" */
	n = enc1(SC_ENCODING_ARMOR, SC_FRAME_BYE, NULL, 0, out, sizeof(out));
	assert_memory_equal(out, "CAAA\n", 5);
}

static void
test_encode_errors(void **state)
{
	static uint8_t body[SC_FRAME_BODY_MAX + 1];
	uint8_t out[16];
	struct sc_buf b;

	(void)state;
	sc_buf_init(&b, out, sizeof(out));
	assert_int_equal(sc_frame_encode(&b, 'X', SC_FRAME_BYE, NULL, 0), SC_ERR_INVAL);
	assert_int_equal(sc_frame_encode(&b, SC_ENCODING_BINARY, 0, NULL, 0), SC_ERR_TYPE);
	assert_int_equal(sc_frame_encode(&b, SC_ENCODING_BINARY, 9, NULL, 0), SC_ERR_TYPE);
	assert_int_equal(sc_frame_encode(&b, SC_ENCODING_BINARY, SC_FRAME_RECORD,
	    body, sizeof(body)), SC_ERR_TOOLONG);
	/* No room: out unchanged. */
	assert_int_equal(sc_frame_encode(&b, SC_ENCODING_BINARY, SC_FRAME_RECORD,
	    body, 14), SC_ERR_NOSPACE);
	assert_int_equal(b.len, 0);
	assert_int_equal(sc_frame_encode(&b, SC_ENCODING_ARMOR, SC_FRAME_RECORD,
	    body, 10), SC_ERR_NOSPACE);
	assert_int_equal(b.len, 0);
	assert_int_equal(sc_frame_put_magic(&b, SC_ENCODING_ARMOR), 0);
	assert_int_equal(b.len, SC_HELLO_MAGIC_LEN + 1);
	assert_memory_equal(out, "\r\n:SCCRYPT:A", 12);
	assert_int_equal(sc_frame_put_magic(&b, SC_ENCODING_ARMOR), SC_ERR_NOSPACE);
	assert_int_equal(sc_frame_put_magic(&b, 'Z'), SC_ERR_INVAL);
}

/* ---- incremental decoding ---- */

static const struct {
	uint8_t type;
	size_t len;
} stream_frames[] = {
	{ SC_FRAME_HELLO, 120 }, { SC_FRAME_HS_INIT, SC_HS1_MSG_LEN },
	{ SC_FRAME_BYE, 0 }, { SC_FRAME_RECORD, 1 }, { SC_FRAME_RECORD, 2 },
	{ SC_FRAME_RECORD, 3 }, { SC_FRAME_RECORD, 300 }, { SC_FRAME_ERROR, 17 },
	{ SC_FRAME_BYE, 0 },
};

static size_t
build_stream(uint8_t enc, uint8_t *out, size_t cap, uint8_t bodies[][300])
{
	struct sc_buf b;
	size_t i, k;

	sc_buf_init(&b, out, cap);
	for (i = 0; i < SC_NELEM(stream_frames); i++) {
		for (k = 0; k < stream_frames[i].len; k++)	/* dense in stuffed bytes */
			bodies[i][k] = (k % 3 == 0) ? stuff_set[(i + k) % 5] :
			    (uint8_t)(k * 31 + i);
		assert_int_equal(sc_frame_encode(&b, enc, stream_frames[i].type,
		    bodies[i], stream_frames[i].len), 0);
	}
	return b.len;
}

static void
check_frames(const struct got_frame *got, int n, uint8_t bodies[][300])
{
	size_t i;

	assert_int_equal(n, (int)SC_NELEM(stream_frames));
	for (i = 0; i < SC_NELEM(stream_frames); i++) {
		assert_int_equal(got[i].type, stream_frames[i].type);
		assert_int_equal(got[i].len, stream_frames[i].len);
		assert_memory_equal(got[i].body, bodies[i], got[i].len);
	}
}

static void
check_splits(uint8_t enc)
{
	uint8_t *s = malloc(STREAM_MAX);
	uint8_t bodies[SC_NELEM(stream_frames)][300];
	struct got_frame *got = calloc(SC_NELEM(stream_frames), sizeof(*got));
	struct sc_frame_decoder *d = malloc(sizeof(*d));
	struct sc_frame f;
	size_t n, chunk, cut, used, pos;
	bool partial;
	int nf, r;

	n = build_stream(enc, s, STREAM_MAX, bodies);
	/* Every chunk size 1..n. */
	for (chunk = 1; chunk <= n; chunk++) {
		nf = decode_all(enc, s, n, chunk, got, SC_NELEM(stream_frames), &partial);
		check_frames(got, nf, bodies);
		assert_false(partial);
	}
	/* Every single split point; the stream cut there is partial. */
	for (cut = 0; cut <= n; cut++) {
		assert_int_equal(sc_frame_decoder_init(d, enc), 0);
		nf = 0;
		pos = 0;
		while (pos < cut) {
			r = sc_frame_decode(d, s + pos, cut - pos, &used, &f);
			assert_true(r >= 0);
			pos += used;
			if (r == 1) {
				got[nf].type = f.type;
				got[nf].len = f.len;
				memcpy(got[nf].body, f.body, f.len);
				nf++;
			}
		}
		while (pos < n) {
			r = sc_frame_decode(d, s + pos, n - pos, &used, &f);
			assert_true(r >= 0);
			pos += used;
			if (r == 1) {
				got[nf].type = f.type;
				got[nf].len = f.len;
				memcpy(got[nf].body, f.body, f.len);
				nf++;
			}
		}
		check_frames(got, nf, bodies);
		assert_false(sc_frame_decoder_partial(d));
	}
	/* Truncation: any proper prefix ending inside a frame is partial at EOF. */
	for (cut = 1; cut < n; cut++) {
		nf = decode_all(enc, s, cut, 0, got, SC_NELEM(stream_frames), &partial);
		assert_true(nf >= 0);
		if (nf < (int)SC_NELEM(stream_frames) && !partial) {
			/* Ended exactly between two frames: re-encoding agrees. */
			uint8_t *t = malloc(STREAM_MAX);
			struct sc_buf b;
			int i;

			sc_buf_init(&b, t, STREAM_MAX);
			for (i = 0; i < nf; i++)
				assert_int_equal(sc_frame_encode(&b, enc, got[i].type,
				    got[i].body, got[i].len), 0);
			assert_int_equal(b.len, cut);
			free(t);
		}
	}
	free(d);
	free(got);
	free(s);
}

static void
test_splits_binary(void **state)
{
	(void)state;
	check_splits(SC_ENCODING_BINARY);
}

static void
test_splits_armor(void **state)
{
	(void)state;
	check_splits(SC_ENCODING_ARMOR);
}

/* Feed in one go; return the result and what was consumed. */
static int
feed(struct sc_frame_decoder *d, const void *in, size_t len, size_t *used)
{
	struct sc_frame f;

	return sc_frame_decode(d, in, len, used, &f);
}

static void
test_header_checked_first(void **state)
{
	struct sc_frame_decoder d;
	uint8_t hdr[4] = { SC_FRAME_RECORD, 0x20, 0x01, 0xaa };	/* len 8193 */
	uint8_t ok[3] = { SC_FRAME_RECORD, 0x20, 0x00 };		/* len 8192 */
	size_t used;

	(void)state;
	/* Binary: fails on the third byte, before any body byte. */
	assert_int_equal(sc_frame_decoder_init(&d, SC_ENCODING_BINARY), 0);
	assert_int_equal(feed(&d, hdr, 2, &used), 0);
	assert_int_equal(used, 2);
	assert_true(sc_frame_decoder_partial(&d));
	assert_int_equal(feed(&d, hdr + 2, 2, &used), SC_ERR_TOOLONG);
	assert_int_equal(used, 0);
	/* Sticky. */
	assert_int_equal(feed(&d, ok, 3, &used), SC_ERR_TOOLONG);
	assert_int_equal(used, 0);
	/* 0xffff too. */
	assert_int_equal(sc_frame_decoder_init(&d, SC_ENCODING_BINARY), 0);
	assert_int_equal(feed(&d, "\x04\xff\xff", 3, &used), SC_ERR_TOOLONG);
	assert_int_equal(used, 2);
	/* The maximum is fine and waits for its body. */
	assert_int_equal(sc_frame_decoder_init(&d, SC_ENCODING_BINARY), 0);
	assert_int_equal(feed(&d, ok, 3, &used), 0);
	assert_true(sc_frame_decoder_partial(&d));
	/* Armor: base64 of 04 20 01 is "BCAB"; the error comes at the 4th char. */
	assert_int_equal(sc_frame_decoder_init(&d, SC_ENCODING_ARMOR), 0);
	assert_int_equal(feed(&d, "BCABqqqq\n", 9, &used), SC_ERR_TOOLONG);
	assert_int_equal(used, 3);
	assert_int_equal(sc_frame_decoder_init(&d, SC_ENCODING_ARMOR), 0);
	assert_int_equal(feed(&d, "BCAA", 4, &used), 0);
	assert_true(sc_frame_decoder_partial(&d));
}

static void
test_unknown_type(void **state)
{
	struct sc_frame_decoder d;
	static const uint8_t bad[] = { 0x00, 0x09, 0x10 ^ 0x20, 0x41, 0x80, 0xff };
	uint8_t in[4];
	size_t i, used;

	(void)state;
	for (i = 0; i < sizeof(bad); i++) {
		assert_int_equal(sc_frame_decoder_init(&d, SC_ENCODING_BINARY), 0);
		in[0] = bad[i];
		in[1] = 0;
		in[2] = 0;
		assert_int_equal(feed(&d, in, 3, &used), SC_ERR_TYPE);
		assert_int_equal(used, 0);
		assert_false(sc_frame_decoder_partial(&d));
	}
	/* A stuffed-looking type (DLE 0x30 decodes to 0x10) is unknown too. */
	assert_int_equal(sc_frame_decoder_init(&d, SC_ENCODING_BINARY), 0);
	assert_int_equal(feed(&d, "\x10\x30\x00\x00", 4, &used), SC_ERR_TYPE);
	/* Armor: "AAAA" decodes to 00 00 00. */
	assert_int_equal(sc_frame_decoder_init(&d, SC_ENCODING_ARMOR), 0);
	assert_int_equal(feed(&d, "AAAA\n", 5, &used), SC_ERR_TYPE);
	assert_int_equal(used, 3);
}

static void
test_garbage(void **state)
{
	struct sc_frame_decoder d;
	const char *text = "Last login: Mon Jan  1 00:00:00 2024\r\n";
	uint8_t rnd[4096];
	size_t i, used;
	int r, round;

	(void)state;
	assert_int_equal(sc_frame_decoder_init(&d, SC_ENCODING_BINARY), 0);
	assert_int_equal(feed(&d, text, strlen(text), &used), SC_ERR_TYPE);
	assert_int_equal(sc_frame_decoder_init(&d, SC_ENCODING_ARMOR), 0);
	/* "Last" is valid base64 for 2d ab 2d: type 0x2d is unknown. */
	assert_int_equal(feed(&d, text, strlen(text), &used), SC_ERR_TYPE);
	assert_int_equal(sc_frame_decoder_init(&d, SC_ENCODING_ARMOR), 0);
	assert_int_equal(feed(&d, "[sudo] password", 15, &used), SC_ERR_FORMAT);
	assert_int_equal(used, 0);
	/* Random input: the decoder never reads out of bounds and either
	 * fails or yields frames within limits. */
	srand(1);
	for (round = 0; round < 200; round++) {
		for (i = 0; i < sizeof(rnd); i++)
			rnd[i] = (uint8_t)rand();
		if (round % 2)
			rnd[0] = SC_FRAME_RECORD;
		assert_int_equal(sc_frame_decoder_init(&d, round % 4 < 2 ?
		    SC_ENCODING_BINARY : SC_ENCODING_ARMOR), 0);
		i = 0;
		for (;;) {
			struct sc_frame f;

			r = sc_frame_decode(&d, rnd + i, sizeof(rnd) - i, &used, &f);
			i += used;
			if (r != 1)
				break;
			assert_true(f.len <= SC_FRAME_BODY_MAX);
		}
		assert_true(r <= 0);
	}
}

static void
test_truncated(void **state)
{
	struct sc_frame_decoder d;
	uint8_t out[64];
	size_t n, k, used;

	(void)state;
	n = enc1(SC_ENCODING_BINARY, SC_FRAME_RECORD, (const uint8_t *)"\x10\x7e", 2,
	    out, sizeof(out));
	for (k = 0; k < n; k++) {
		assert_int_equal(sc_frame_decoder_init(&d, SC_ENCODING_BINARY), 0);
		assert_false(sc_frame_decoder_partial(&d));
		assert_int_equal(feed(&d, out, k, &used), 0);
		assert_int_equal(used, k);
		/* Ending right after the DLE is partial as well. */
		assert_int_equal(sc_frame_decoder_partial(&d), k > 0);
	}
	n = enc1(SC_ENCODING_ARMOR, SC_FRAME_RECORD, (const uint8_t *)"abcd", 4,
	    out, sizeof(out));
	for (k = 0; k < n; k++) {
		assert_int_equal(sc_frame_decoder_init(&d, SC_ENCODING_ARMOR), 0);
		assert_int_equal(feed(&d, out, k, &used), 0);
		assert_int_equal(sc_frame_decoder_partial(&d), k > 0);
	}
	/* The line ends before the frame does. */
	assert_int_equal(sc_frame_decoder_init(&d, SC_ENCODING_ARMOR), 0);
	assert_int_equal(feed(&d, "BAAE\n", 5, &used), SC_ERR_TRUNCATED);
	assert_int_equal(sc_frame_decoder_init(&d, SC_ENCODING_ARMOR), 0);
	assert_int_equal(feed(&d, "BAAEYW\n", 7, &used), SC_ERR_TRUNCATED);
}

static void
test_bad_dle(void **state)
{
	struct sc_frame_decoder d;
	uint8_t in[8];
	unsigned c;
	size_t used;
	int r, ok = 0;

	(void)state;
	/* DLE followed by every byte: only the five stuffed values decode. */
	for (c = 0; c < 256; c++) {
		assert_int_equal(sc_frame_decoder_init(&d, SC_ENCODING_BINARY), 0);
		memcpy(in, "\x04\x00\x01", 3);
		in[3] = SC_DLE;
		in[4] = (uint8_t)c;
		r = feed(&d, in, 5, &used);
		if (memchr(stuff_set, c ^ 0x20, sizeof(stuff_set)) != NULL) {
			assert_int_equal(r, 1);
			ok++;
		} else {
			assert_int_equal(r, SC_ERR_FORMAT);
			assert_int_equal(used, 4);
			assert_int_equal(feed(&d, "\x08\x00\x00", 3, &used), SC_ERR_FORMAT);
		}
	}
	assert_int_equal(ok, 5);
	/* A raw member of the set (never sent unstuffed) is an error. */
	for (c = 1; c < sizeof(stuff_set); c++) {
		assert_int_equal(sc_frame_decoder_init(&d, SC_ENCODING_BINARY), 0);
		in[0] = 0x04; in[1] = 0; in[2] = 2; in[3] = 'x'; in[4] = stuff_set[c];
		assert_int_equal(feed(&d, in, 5, &used), SC_ERR_FORMAT);
		assert_int_equal(used, 4);
	}
}

static void
test_armor_errors(void **state)
{
	struct sc_frame_decoder d;
	static const char *const bad[] = {
		"BAAC*Gk=\n", "BAAC\taGk=\n", "BAAC-Gk=\n", "BAAC_Gk=\n",
		"BAACa\0k=\n", "BAACaGk=A\n", "BAAC=Gk=\n", "BAACa===\n",
		"BAACaGl=\n",	/* non-canonical: padding bits set */
		"BAABaQ=A\n", "BAABaR==\n", "BA=AaGk=\n", "BAACaGk==\n",
	};
	size_t i, used;
	int r;

	(void)state;
	for (i = 0; i < SC_NELEM(bad); i++) {
		assert_int_equal(sc_frame_decoder_init(&d, SC_ENCODING_ARMOR), 0);
		r = feed(&d, bad[i], 9 + (i == 12), &used);
		assert_true(r < 0);
	}
	/* Line too long: more data than the header declares. */
	assert_int_equal(sc_frame_decoder_init(&d, SC_ENCODING_ARMOR), 0);
	assert_int_equal(feed(&d, "BAACaGkAAAAA\n", 13, &used), SC_ERR_TOOLONG);
	assert_int_equal(sc_frame_decoder_init(&d, SC_ENCODING_ARMOR), 0);
	assert_int_equal(feed(&d, "CAAAAAAA\n", 9, &used), SC_ERR_TOOLONG);
	assert_int_equal(used, 7);
	/* '\r', ' ' and empty lines are ignored; the frame still decodes. */
	{
		struct sc_frame f;
		const char *in = "\r\n \n B A\rA C a G k =  \r\n";

		assert_int_equal(sc_frame_decoder_init(&d, SC_ENCODING_ARMOR), 0);
		assert_int_equal(sc_frame_decode(&d, (const uint8_t *)in, strlen(in),
		    &used, &f), 1);
		assert_int_equal(used, strlen(in));
		assert_int_equal(f.type, SC_FRAME_RECORD);
		assert_int_equal(f.len, 2);
		assert_memory_equal(f.body, "hi", 2);
	}
	/* A bad encoding char for the decoder. */
	assert_int_equal(sc_frame_decoder_init(&d, 'Q'), SC_ERR_INVAL);
	assert_int_equal(feed(&d, "x", 1, &used), SC_ERR_INVAL);
}

/* ---- the codec against a byte-at-a-time reference ---- */

/* The reference codec is tests/fuzz/frame_ref.h. */

/* What a decoder made of a stream. */
#define RES_FRAMES_MAX	64
struct dec_res {
	int	nframes;
	size_t	end[RES_FRAMES_MAX];	/* offset just past the frame's last byte */
	uint8_t	type[RES_FRAMES_MAX];
	size_t	len[RES_FRAMES_MAX];
	uint64_t sum[RES_FRAMES_MAX];	/* FNV-1a of the body */
	int	err;			/* 0 or the (sticky) error */
	size_t	err_at;			/* offset of the byte it failed on */
	bool	partial;		/* no error: a frame is incomplete at EOF */
};

static uint64_t
fnv(const uint8_t *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return h;
}

static void
res_frame(struct dec_res *res, size_t end, uint8_t type, const uint8_t *body,
    size_t len)
{
	assert_true(res->nframes < RES_FRAMES_MAX);
	res->end[res->nframes] = end;
	res->type[res->nframes] = type;
	res->len[res->nframes] = len;
	res->sum[res->nframes] = fnv(body, len);
	res->nframes++;
}

static void
ref_run(uint8_t enc, const uint8_t *in, size_t len, struct dec_res *res)
{
	static struct ref_dec r;
	size_t i;
	int e;

	memset(res, 0, sizeof(*res));
	ref_init(&r, enc);
	for (i = 0; i < len; i++) {
		e = ref_byte(&r, in[i]);
		if (e < 0) {
			res->err = e;
			res->err_at = i;
			return;
		}
		if (e == 1) {
			res_frame(res, i + 1, r.frame[0], r.frame + 3, ref_len(&r));
			r.have = 0;
		}
	}
	res->partial = ref_partial(&r);
}

/*
 * Chunkings of the input: CUT_FIXED k-byte pieces; CUT_SPLIT two pieces cut
 * at k; CUT_RANDOM pieces of 1..k bytes from a seeded generator; CUT_MASK
 * a cut after byte i wherever bit i of k is set (all chunkings of a short
 * input are the masks 0 .. 2^(len-1) - 1).
 */
enum cut_mode { CUT_FIXED, CUT_SPLIT, CUT_RANDOM, CUT_MASK };
struct chunker {
	enum cut_mode	mode;
	size_t		k;
	unsigned	seed;
};

static size_t
next_chunk(struct chunker *ch, size_t pos, size_t left)
{
	size_t n;

	switch (ch->mode) {
	case CUT_FIXED:
		n = ch->k;
		break;
	case CUT_SPLIT:
		n = pos < ch->k ? ch->k - pos : left;
		break;
	case CUT_RANDOM:
		n = 1 + (size_t)rand_r(&ch->seed) % ch->k;
		break;
	case CUT_MASK:
	default:
		for (n = 1; n < left && !(ch->k & ((size_t)1 << (pos + n - 1)));
		    n++)
			;
		break;
	}
	if (n == 0 || n > left)
		n = left;
	return n;
}

static void
real_run(uint8_t enc, const uint8_t *in, size_t len, struct chunker ch,
    struct dec_res *res)
{
	static struct sc_frame_decoder d;
	struct sc_frame f;
	size_t pos = 0, n, used;
	int r;

	memset(res, 0, sizeof(*res));
	assert_int_equal(sc_frame_decoder_init(&d, enc), 0);
	while (pos < len) {
		n = next_chunk(&ch, pos, len - pos);
		while (n > 0) {
			r = sc_frame_decode(&d, in + pos, n, &used, &f);
			assert_true(used <= n);
			if (r < 0) {
				res->err = r;
				res->err_at = pos + used;
				/* Sticky: the same code, nothing consumed. */
				assert_int_equal(sc_frame_decode(&d, in + pos,
				    n, &used, &f), r);
				assert_int_equal(used, 0);
				return;
			}
			pos += used;
			n -= used;
			if (r == 1) {
				assert_true(f.len <= SC_FRAME_BODY_MAX);
				res_frame(res, pos, f.type, f.body, f.len);
			} else {
				assert_int_equal(r, 0);
				assert_int_equal(n, 0);
			}
		}
	}
	res->partial = sc_frame_decoder_partial(&d);
}

static void
same_res(const struct dec_res *a, const struct dec_res *b)
{
	int i;

	assert_int_equal(a->nframes, b->nframes);
	for (i = 0; i < a->nframes; i++) {
		assert_int_equal(a->end[i], b->end[i]);
		assert_int_equal(a->type[i], b->type[i]);
		assert_int_equal(a->len[i], b->len[i]);
		assert_true(a->sum[i] == b->sum[i]);
	}
	assert_int_equal(a->err, b->err);
	assert_int_equal(a->err_at, b->err_at);
	if (a->err == 0)
		assert_int_equal(a->partial, b->partial);
}

/* Decode in[0..len) with the given chunking and compare with ref. */
static void
check_chunking(uint8_t enc, const uint8_t *in, size_t len,
    const struct dec_res *ref, enum cut_mode mode, size_t k, unsigned seed)
{
	struct dec_res got;
	struct chunker ch = { mode, k, seed };

	real_run(enc, in, len, ch, &got);
	same_res(ref, &got);
}

/*
 * The decoder against the reference on in[0..len): every chunk size 1..len
 * and every single cut when len <= every_max, else a spread of sizes; plus
 * `nrandom` random chunkings.
 */
static void
check_decoder(uint8_t enc, const uint8_t *in, size_t len, size_t every_max,
    unsigned nrandom, unsigned seed)
{
	static const size_t sizes[] = { 1, 2, 3, 4, 5, 7, 8, 13, 63, 64, 65,
	    255, 1000, 4096, 8195 };
	struct dec_res ref;
	size_t k;
	unsigned i;

	ref_run(enc, in, len, &ref);
	check_chunking(enc, in, len, &ref, CUT_FIXED, len, 0);
	if (len <= every_max) {
		for (k = 1; k < len; k++) {
			check_chunking(enc, in, len, &ref, CUT_FIXED, k, 0);
			check_chunking(enc, in, len, &ref, CUT_SPLIT, k, 0);
		}
	} else {
		for (i = 0; i < SC_NELEM(sizes); i++)
			check_chunking(enc, in, len, &ref, CUT_FIXED, sizes[i], 0);
	}
	for (i = 0; i < nrandom; i++)
		check_chunking(enc, in, len, &ref, CUT_RANDOM,
		    i % 2 ? 16 : 700, seed + i);
}

/* Bodies of a few kinds: uniform (ciphertext), dense in stuffed bytes,
 * one repeated value, printable text. */
static void
fill_body(uint8_t *body, size_t len, unsigned kind, unsigned *seed)
{
	uint8_t one = (uint8_t)rand_r(seed);
	size_t i;

	for (i = 0; i < len; i++) {
		switch (kind % 4) {
		case 0:
			body[i] = (uint8_t)rand_r(seed);
			break;
		case 1:
			body[i] = rand_r(seed) % 2 ? stuff_set[rand_r(seed) % 5] :
			    (uint8_t)rand_r(seed);
			break;
		case 2:
			body[i] = one;
			break;
		default:
			body[i] = (uint8_t)(0x20 + rand_r(seed) % 0x5f);
			break;
		}
	}
}

static void
check_encode_same(uint8_t enc, uint8_t type, const uint8_t *body, size_t len,
    uint8_t *out, uint8_t *want)
{
	struct sc_buf b;
	size_t n;

	n = ref_encode(enc, type, body, len, want);
	assert_true(n <= (enc == SC_ENCODING_BINARY ? SC_FRAME_ENC_MAX_BINARY :
	    SC_FRAME_ENC_MAX_ARMOR));
	sc_buf_init(&b, out, SC_FRAME_ENC_MAX);
	assert_int_equal(sc_frame_encode(&b, enc, type, body, len), 0);
	assert_int_equal(b.len, n);
	assert_memory_equal(out, want, n);
}

static void
check_ref_encode(uint8_t enc)
{
	uint8_t *body = malloc(SC_FRAME_BODY_MAX), *out = malloc(SC_FRAME_ENC_MAX);
	uint8_t *want = malloc(SC_FRAME_ENC_MAX);
	struct sc_buf b;
	unsigned seed = 11, i, a, c;
	size_t len, n;
	uint8_t type;

	/* All 256 byte values, in every frame type; then at every offset
	 * modulo 3 (armor groups) and with every byte alone. */
	for (i = 0; i < 256; i++)
		body[i] = (uint8_t)i;
	for (type = SC_FRAME_HELLO; type <= SC_FRAME_BYE; type++)
		check_encode_same(enc, type, body, 256, out, want);
	for (i = 0; i < 3; i++)
		check_encode_same(enc, SC_FRAME_RECORD, body + i, 256 - i, out, want);
	for (i = 0; i < 256; i++)
		check_encode_same(enc, SC_FRAME_RECORD, body + i, 1, out, want);
	/* Every pair of byte values. */
	for (a = 0; a < 256; a++) {
		for (c = 0; c < 256; c++) {
			body[0] = (uint8_t)a;
			body[1] = (uint8_t)c;
			check_encode_same(enc, SC_FRAME_RECORD, body, 2, out, want);
		}
	}
	/* Lengths whose header bytes are stuffed, or not: 0..300, and
	 * around 0x10xx, 0x11xx, 0x13xx, 0x1d00, 0x1fff, 0x2000. */
	for (len = 0; len <= 300; len++) {
		fill_body(body, len, (unsigned)len, &seed);
		check_encode_same(enc, SC_FRAME_RECORD, body, len, out, want);
	}
	{
		static const size_t lens[] = { 0x1010, 0x107e, 0x1110, 0x1311,
		    0x1d1d, 0x1d00, 0x1fff, 0x2000 };

		for (i = 0; i < SC_NELEM(lens); i++) {
			fill_body(body, lens[i], i, &seed);
			check_encode_same(enc, SC_FRAME_RECORD, body, lens[i],
			    out, want);
		}
	}
	/* Random lengths and contents. */
	for (i = 0; i < 400; i++) {
		len = (size_t)rand_r(&seed) % (SC_FRAME_BODY_MAX + 1);
		if (i % 3 == 0)
			len %= 64;
		fill_body(body, len, i, &seed);
		type = (uint8_t)(SC_FRAME_HELLO + rand_r(&seed) % SC_FRAME_BYE);
		check_encode_same(enc, type, body, len, out, want);
		/* All or nothing: one byte short fails and appends nothing
		 * (after something already in the buffer); exact fits. */
		n = ref_encode(enc, type, body, len, want);
		sc_buf_init(&b, out, 5 + n - 1);
		assert_int_equal(sc_buf_put_bytes(&b, "pre:", 4), 0);
		assert_int_equal(sc_buf_put_u8(&b, ' '), 0);
		assert_int_equal(sc_frame_encode(&b, enc, type, body, len),
		    SC_ERR_NOSPACE);
		assert_int_equal(b.len, 5);
		sc_buf_init(&b, out, 5 + n);
		assert_int_equal(sc_buf_put_bytes(&b, "pre: ", 5), 0);
		assert_int_equal(sc_frame_encode(&b, enc, type, body, len), 0);
		assert_int_equal(b.len, 5 + n);
		assert_memory_equal(out + 5, want, n);
	}
	free(want);
	free(out);
	free(body);
}

static void
test_ref_encode_binary(void **state)
{
	(void)state;
	check_ref_encode(SC_ENCODING_BINARY);
}

static void
test_ref_encode_armor(void **state)
{
	(void)state;
	check_ref_encode(SC_ENCODING_ARMOR);
}

/* A stream of nframes random frames, reference-encoded; returns its length. */
static size_t
ref_stream(uint8_t enc, unsigned nframes, size_t maxlen, unsigned *seed,
    uint8_t *out, size_t cap)
{
	static uint8_t body[SC_FRAME_BODY_MAX];
	size_t len, n = 0;
	unsigned i;

	for (i = 0; i < nframes; i++) {
		len = (size_t)rand_r(seed) % (maxlen + 1);
		fill_body(body, len, (unsigned)rand_r(seed), seed);
		assert_true(n + SC_FRAME_ENC_MAX <= cap);
		n += ref_encode(enc, (uint8_t)(SC_FRAME_HELLO +
		    rand_r(seed) % SC_FRAME_BYE), body, len, out + n);
		/* Armor: ignored characters and empty lines between frames. */
		if (enc == SC_ENCODING_ARMOR && rand_r(seed) % 4 == 0)
			out[n++] = (uint8_t)"\r \n"[rand_r(seed) % 3];
	}
	return n;
}

static void
check_ref_decode_valid(uint8_t enc)
{
	size_t cap = 8 * SC_FRAME_ENC_MAX, n;
	uint8_t *s = malloc(cap);
	unsigned seed = 5, i;

	/* Small streams: every chunk size and every cut. */
	for (i = 0; i < 60; i++) {
		n = ref_stream(enc, 1 + i % 4, 80, &seed, s, cap);
		check_decoder(enc, s, n, SIZE_MAX, 4, i);
	}
	/* Large frames, random lengths up to the maximum. */
	for (i = 0; i < 40; i++) {
		n = ref_stream(enc, 1 + i % 3, SC_FRAME_BODY_MAX, &seed, s, cap);
		check_decoder(enc, s, n, 0, 6, i);
	}
	free(s);
}

static void
test_ref_decode_valid_binary(void **state)
{
	(void)state;
	check_ref_decode_valid(SC_ENCODING_BINARY);
}

static void
test_ref_decode_valid_armor(void **state)
{
	(void)state;
	check_ref_decode_valid(SC_ENCODING_ARMOR);
}

/* Bytes that matter to the decoders, for mutations. */
static const uint8_t nasty[] = { 0x10, 0x11, 0x13, 0x1d, 0x7e, 0x30, 0x31,
    0x33, 0x3d, 0x5e, 0x00, 0x20, 0x0d, 0x0a, '=', 'A', '/', '+', 0x04,
    0x08, 0xff };

static void
check_ref_decode_mutated(uint8_t enc)
{
	size_t cap = 4 * SC_FRAME_ENC_MAX, n, at;
	uint8_t *s = malloc(cap + 16);
	unsigned seed = 9, i, m, nm;

	for (i = 0; i < 1500; i++) {
		n = ref_stream(enc, 1 + i % 3, i % 5 ? 40 : 3000, &seed, s, cap);
		nm = 1 + (unsigned)rand_r(&seed) % 3;
		for (m = 0; m < nm && n > 0; m++) {
			at = (size_t)rand_r(&seed) % n;
			switch (rand_r(&seed) % 5) {
			case 0:		/* overwrite with a nasty byte */
				s[at] = nasty[rand_r(&seed) % SC_NELEM(nasty)];
				break;
			case 1:		/* overwrite with anything */
				s[at] = (uint8_t)rand_r(&seed);
				break;
			case 2:		/* insert a nasty byte */
				memmove(s + at + 1, s + at, n - at);
				s[at] = nasty[rand_r(&seed) % SC_NELEM(nasty)];
				n++;
				break;
			case 3:		/* delete a byte */
				memmove(s + at, s + at + 1, n - at - 1);
				n--;
				break;
			default:	/* truncate */
				n = at;
				break;
			}
		}
		check_decoder(enc, s, n, 200, 3, i);
	}
	free(s);
}

static void
test_ref_decode_mutated_binary(void **state)
{
	(void)state;
	check_ref_decode_mutated(SC_ENCODING_BINARY);
}

static void
test_ref_decode_mutated_armor(void **state)
{
	(void)state;
	check_ref_decode_mutated(SC_ENCODING_ARMOR);
}

/*
 * Every pair of input bytes at the places where the run paths hand over
 * to the byte path (binary: inside a body, after a run; armor: the data
 * quad and the padding), fed whole, byte by byte and cut at each point
 * around the pair.
 */
static void
test_ref_decode_pairs(void **state)
{
	uint8_t in[16];
	struct dec_res ref;
	unsigned a, c;
	size_t n, k;

	(void)state;
	for (a = 0; a < 256; a++) {
		for (c = 0; c < 256; c++) {
			/* Binary: RECORD of 3 bytes 'x' a c, then a BYE. */
			memcpy(in, "\x04\x00\x03x", 4);
			in[4] = (uint8_t)a;
			in[5] = (uint8_t)c;
			memcpy(in + 6, "yz\x08\x00\x00", 5);
			n = 11;
			ref_run(SC_ENCODING_BINARY, in, n, &ref);
			for (k = 3; k <= 7; k++)
				check_chunking(SC_ENCODING_BINARY, in, n, &ref,
				    CUT_SPLIT, k, 0);
			check_chunking(SC_ENCODING_BINARY, in, n, &ref,
			    CUT_FIXED, 1, 0);
			/* Armor: "BAAD" (RECORD, 3 bytes) "aG" a c "\n". */
			memcpy(in, "BAADaG", 6);
			in[6] = (uint8_t)a;
			in[7] = (uint8_t)c;
			memcpy(in + 8, "\nCAAA\n", 6);
			n = 14;
			ref_run(SC_ENCODING_ARMOR, in, n, &ref);
			for (k = 4; k <= 9; k++)
				check_chunking(SC_ENCODING_ARMOR, in, n, &ref,
				    CUT_SPLIT, k, 0);
			check_chunking(SC_ENCODING_ARMOR, in, n, &ref,
			    CUT_FIXED, 1, 0);
		}
	}
}

/* Short streams, valid and not, under every one of their chunkings. */
static void
test_ref_decode_all_chunkings(void **state)
{
	static const struct {
		uint8_t		enc;
		const char	*in;
		size_t		len;
	} cases[] = {
		{ 'B', "\x04\x00\x04\x10\x30\x10\x5e" "ab\x08\x00\x00", 12 },
		{ 'B', "\x04\x00\x05" "a\x10\x31\x10\x33" "b\x10\x3d", 12 },
		{ 'B', "\x10\x3e\x00\x02" "abc\x08\x00\x00", 10 },	/* 0x1e type */
		{ 'B', "\x04\x00\x03" "ab\x10\x10\x08\x00\x00", 10 },	/* DLE DLE */
		{ 'B', "\x04\x00\x03" "ab\x7e" "c\x08\x00", 9 },	/* raw '~' */
		{ 'B', "\x04\x00\x06" "abc\x10", 8 },			/* partial */
		{ 'B', "\x04\x20\x01" "abcdefg", 10 },			/* too long */
		{ 'A', "BAADYWJj\nCAAA\n", 14 },
		{ 'A', "BAACaGk=\r\n \nCA", 14 },
		{ 'A', "BAABaQ==\nBAAC", 13 },
		{ 'A', "BAACaGkAAAAA\n", 13 },			/* line too long */
		{ 'A', "BAADYW=j\n", 9 },			/* data after '=' */
		{ 'A', "BAACaGl=\n", 9 },			/* not canonical */
		{ 'A', "BAAEYWJj\n", 9 },			/* line ends early */
		{ 'A', "B AA DY WJ j\n", 13 },
	};
	struct dec_res ref;
	size_t i, mask;

	(void)state;
	for (i = 0; i < SC_NELEM(cases); i++) {
		const uint8_t *in = (const uint8_t *)cases[i].in;
		size_t len = cases[i].len;

		assert_true(len >= 1 && len <= 14);
		ref_run(cases[i].enc, in, len, &ref);
		for (mask = 0; mask < ((size_t)1 << (len - 1)); mask++)
			check_chunking(cases[i].enc, in, len, &ref, CUT_MASK,
			    mask, 0);
	}
}

/* ---- HELLO scanner ---- */

struct scan_result {
	uint8_t	clear[STREAM_MAX];
	size_t	clear_len;
	uint8_t	rest[STREAM_MAX];
	size_t	rest_len;
	uint8_t	encoding;
	bool	found;
};

/* Scan in[0..len) in chunks of size `chunk`; flush at EOF if not found. */
static void
scan_chunks(const uint8_t *in, size_t len, size_t chunk, struct scan_result *res)
{
	struct sc_hello_scanner s;
	uint8_t out[STREAM_MAX + SC_HELLO_MAGIC_LEN];
	size_t pos = 0, n, clen, used;
	int r;

	memset(res, 0, sizeof(*res));
	sc_hello_scanner_init(&s);
	while (pos < len) {
		n = SC_MIN(chunk, len - pos);
		r = sc_hello_scan(&s, in + pos, n, out, &clen, &used);
		assert_true(r == 0 || r == 1);
		assert_true(clen <= n + SC_HELLO_MAGIC_LEN);
		memcpy(res->clear + res->clear_len, out, clen);
		res->clear_len += clen;
		if (r == 1) {
			assert_true(used <= n);
			res->found = true;
			res->encoding = s.encoding;
			pos += used;
			memcpy(res->rest, in + pos, len - pos);
			res->rest_len = len - pos;
			/* The scanner is done now. */
			assert_int_equal(sc_hello_scan(&s, in, 0, out, &clen, &used),
			    SC_ERR_STATE);
			return;
		}
		assert_int_equal(used, n);
		pos += n;
	}
	clen = sc_hello_scan_flush(&s, out);
	memcpy(res->clear + res->clear_len, out, clen);
	res->clear_len += clen;
}

static void
check_scan(const char *clear, size_t clear_len, bool with_magic, uint8_t enc,
    const char *after, size_t after_len)
{
	uint8_t *in = malloc(STREAM_MAX);
	struct scan_result *res = malloc(sizeof(*res));
	size_t len = 0, chunk;

	memcpy(in, clear, clear_len);
	len = clear_len;
	if (with_magic) {
		memcpy(in + len, SC_HELLO_MAGIC, SC_HELLO_MAGIC_LEN);
		len += SC_HELLO_MAGIC_LEN;
		in[len++] = enc;
	}
	memcpy(in + len, after, after_len);
	len += after_len;
	for (chunk = 1; chunk <= len; chunk++) {
		scan_chunks(in, len, chunk, res);
		assert_int_equal(res->found, with_magic);
		if (with_magic) {
			assert_int_equal(res->encoding, enc);
			assert_int_equal(res->clear_len, clear_len);
			assert_memory_equal(res->clear, clear, clear_len);
			assert_int_equal(res->rest_len, after_len);
			assert_memory_equal(res->rest, after, after_len);
		} else {
			/* Nothing lost, nothing duplicated, order kept. */
			assert_int_equal(res->clear_len, len);
			assert_memory_equal(res->clear, in, len);
		}
	}
	free(res);
	free(in);
}

static void
test_scanner(void **state)
{
	static const char decoys[] =
	    "[sudo] password for admin: \r\n"
	    "\r\n:SCCR no\r\n:\r\r\n\r\n:SCCRYPT\r\n:SCCRYPT:Z"
	    "\r\n:SCCRYPT:\r\n:SCC \r\r\r\n\n:SCCRYPT:x\r\n";
	static const char frames[] = "\x04\x00\x02hi\x08\x00\x00";

	(void)state;
	check_scan("", 0, true, 'B', "", 0);
	check_scan("", 0, true, 'A', "BAACaGk=\n", 9);
	check_scan("hello\r\n", 7, true, 'B', frames, sizeof(frames) - 1);
	check_scan(decoys, sizeof(decoys) - 1, true, 'B', frames, sizeof(frames) - 1);
	check_scan(decoys, sizeof(decoys) - 1, true, 'A', "\r\n:SCCRYPT:B", 12);
	/* No magic at all: everything is clear text, including partial
	 * matches held at EOF and released by the flush. */
	check_scan(decoys, sizeof(decoys) - 1, false, 0, "", 0);
	check_scan("x\r\n:SCCRYPT", 11, false, 0, "", 0);
	check_scan("x\r\n:SCCRYPT:", 12, false, 0, "", 0);
	check_scan("\r\n:SCCRYPT:\0", 12, false, 0, "", 0);
}

static void
test_scanner_chunk_end(void **state)
{
	struct sc_hello_scanner s;
	uint8_t out[64];
	size_t clen, used;

	(void)state;
	sc_hello_scanner_init(&s);
	/* Magic at the very end of a chunk: held back, nothing emitted. */
	assert_int_equal(sc_hello_scan(&s, (const uint8_t *)"ab\r\n:SCCRYPT:", 13,
	    out, &clen, &used), 0);
	assert_int_equal(clen, 2);
	assert_memory_equal(out, "ab", 2);
	assert_int_equal(used, 13);
	/* The encoding char is the first byte of the next chunk. */
	assert_int_equal(sc_hello_scan(&s, (const uint8_t *)"B\x08\x00\x00", 4,
	    out, &clen, &used), 1);
	assert_int_equal(clen, 0);
	assert_int_equal(used, 1);
	assert_int_equal(s.encoding, 'B');
	assert_int_equal(sc_hello_scan_flush(&s, out), 0);

	/* A wrong char after the magic releases the magic and that char, and
	 * the maximum output of one call is len + SC_HELLO_MAGIC_LEN. */
	sc_hello_scanner_init(&s);
	assert_int_equal(sc_hello_scan(&s, (const uint8_t *)"\r\n:SCCRYPT:", 11,
	    out, &clen, &used), 0);
	assert_int_equal(clen, 0);
	assert_int_equal(sc_hello_scan(&s, (const uint8_t *)"C", 1, out, &clen,
	    &used), 0);
	assert_int_equal(clen, 12);
	assert_memory_equal(out, "\r\n:SCCRYPT:C", 12);
	/* A wrong char that starts a new magic is held, not released. */
	assert_int_equal(sc_hello_scan(&s, (const uint8_t *)"\r\n:SCCRYPT:\r", 12,
	    out, &clen, &used), 0);
	assert_int_equal(clen, 11);
	assert_memory_equal(out, "\r\n:SCCRYPT:", 11);
	assert_int_equal(sc_hello_scan(&s, (const uint8_t *)"\n:SCCRYPT:A", 11,
	    out, &clen, &used), 1);
	assert_int_equal(clen, 0);
	assert_int_equal(s.encoding, 'A');
}

/* ---- HELLO / ERROR bodies ---- */

static void
fill_hello(struct sc_hello *h)
{
	size_t i;

	memset(h, 0, sizeof(*h));
	h->version = SC_PROTOCOL_VERSION;
	h->flags = SC_HELLO_F_PROTECTED;
	strcpy(h->vmname, "web-01.prod_eu");
	for (i = 0; i < SC_UUID_LEN; i++)
		h->uuid[i] = (uint8_t)(0xa0 + i);
	for (i = 0; i < SC_KEY_LEN; i++)
		h->hv_pubkey[i] = (uint8_t)(i * 3);
	h->history_bytes = 65536;
	h->cert_len = 300;
	for (i = 0; i < h->cert_len; i++)
		h->cert[i] = (uint8_t)(i ^ 0x5a);
}

static size_t
hello_bytes(const struct sc_hello *h, uint8_t *out, size_t cap)
{
	struct sc_buf b;

	sc_buf_init(&b, out, cap);
	assert_int_equal(sc_hello_encode(h, &b), 0);
	return b.len;
}

static int
hello_parse_bytes(const uint8_t *in, size_t len, struct sc_hello *h)
{
	struct sc_buf b;

	sc_buf_init_ro(&b, in, len);
	return sc_hello_parse(&b, h);
}

static void
test_hello_roundtrip(void **state)
{
	struct sc_hello *h = malloc(sizeof(*h)), *g = malloc(sizeof(*g));
	uint8_t body[SC_FRAME_BODY_MAX], *enc = malloc(SC_FRAME_ENC_MAX);
	struct got_frame *got = malloc(sizeof(*got));
	size_t n, e;
	uint8_t encs[2] = { SC_ENCODING_BINARY, SC_ENCODING_ARMOR };
	int i;

	(void)state;
	fill_hello(h);
	n = hello_bytes(h, body, sizeof(body));
	assert_int_equal(n, 1 + 1 + 1 + 14 + 16 + 32 + 4 + 2 + 300);
	/* Layout spot checks: version, flags, str8 name, history BE. */
	assert_int_equal(body[0], 2);
	assert_int_equal(body[1], SC_HELLO_F_PROTECTED);
	assert_int_equal(body[2], 14);
	assert_memory_equal(body + 3, "web-01.prod_eu", 14);
	assert_memory_equal(body + 17 + 16 + 32, "\x00\x01\x00\x00\x01\x2c", 6);
	for (i = 0; i < 2; i++) {
		struct sc_buf b;

		sc_buf_init(&b, enc, SC_FRAME_ENC_MAX);
		assert_int_equal(sc_frame_put_magic(&b, encs[i]), 0);
		assert_int_equal(sc_frame_encode(&b, encs[i], SC_FRAME_HELLO, body, n), 0);
		e = b.len;
		assert_int_equal(decode_all(encs[i], enc + SC_HELLO_MAGIC_LEN + 1,
		    e - SC_HELLO_MAGIC_LEN - 1, 5, got, 1, NULL), 1);
		assert_int_equal(got->type, SC_FRAME_HELLO);
		assert_int_equal(hello_parse_bytes(got->body, got->len, g), 0);
		assert_memory_equal(g, h, offsetof(struct sc_hello, cert));
		assert_int_equal(g->cert_len, h->cert_len);
		assert_memory_equal(g->cert, h->cert, h->cert_len);
	}
	/* Empty certificate, maximal name and certificate. */
	h->cert_len = 0;
	memset(h->vmname, 'a', SC_VMNAME_MAX);
	h->vmname[SC_VMNAME_MAX] = '\0';
	n = hello_bytes(h, body, sizeof(body));
	assert_int_equal(hello_parse_bytes(body, n, g), 0);
	assert_string_equal(g->vmname, h->vmname);
	assert_int_equal(g->cert_len, 0);
	h->cert_len = SC_CERT_MAX;
	n = hello_bytes(h, body, sizeof(body));
	assert_int_equal(hello_parse_bytes(body, n, g), 0);
	assert_int_equal(g->cert_len, SC_CERT_MAX);
	free(got);
	free(enc);
	free(h);
	free(g);
}

static void
test_hello_invalid(void **state)
{
	struct sc_hello *h = malloc(sizeof(*h)), *g = malloc(sizeof(*g));
	uint8_t body[SC_FRAME_BODY_MAX], bad[SC_FRAME_BODY_MAX];
	struct sc_buf b;
	size_t n, k;

	(void)state;
	fill_hello(h);
	n = hello_bytes(h, body, sizeof(body));
	/* Every truncation fails (and leaves *g zeroed). */
	for (k = 0; k < n; k++) {
		memset(g, 0xee, sizeof(*g));
		assert_true(hello_parse_bytes(body, k, g) < 0);
		assert_int_equal(g->version, 0);
		assert_int_equal(g->cert_len, 0);
	}
	/* Trailing byte. */
	memcpy(bad, body, n);
	bad[n] = 0;
	assert_int_equal(hello_parse_bytes(bad, n + 1, g), SC_ERR_FORMAT);
	/* Version. */
	memcpy(bad, body, n);
	bad[0] = 1;	/* unpadded records, no close handshake */
	assert_int_equal(hello_parse_bytes(bad, n, g), SC_ERR_VERSION);
	bad[0] = 3;
	assert_int_equal(hello_parse_bytes(bad, n, g), SC_ERR_VERSION);
	bad[0] = 0;
	assert_int_equal(hello_parse_bytes(bad, n, g), SC_ERR_VERSION);
	/* Unknown flag. */
	memcpy(bad, body, n);
	bad[1] = 0x80;
	assert_int_equal(hello_parse_bytes(bad, n, g), SC_ERR_FORMAT);
	/* Name with a bad character; empty name; name over the limit. */
	memcpy(bad, body, n);
	bad[3 + 3] = '/';
	assert_int_equal(hello_parse_bytes(bad, n, g), SC_ERR_FORMAT);
	bad[3 + 3] = '\0';
	assert_int_equal(hello_parse_bytes(bad, n, g), SC_ERR_FORMAT);
	bad[2] = 0;
	memcpy(bad + 3, body + 3 + 14, n - 3 - 14);
	assert_int_equal(hello_parse_bytes(bad, n - 14, g), SC_ERR_FORMAT);
	bad[2] = SC_VMNAME_MAX + 1;
	memset(bad + 3, 'a', SC_VMNAME_MAX + 1);
	memcpy(bad + 3 + SC_VMNAME_MAX + 1, body + 3 + 14, n - 3 - 14);
	assert_int_equal(hello_parse_bytes(bad, n - 14 + SC_VMNAME_MAX + 1, g),
	    SC_ERR_TOOLONG);
	/* Certificate over SC_CERT_MAX (hand-made: the encoder refuses). */
	sc_buf_init(&b, bad, sizeof(bad));
	assert_int_equal(sc_buf_put_bytes(&b, body, n - 2 - 300), 0);
	assert_int_equal(sc_buf_put_u16(&b, SC_CERT_MAX + 1), 0);
	memset(bad + b.len, 0x41, SC_CERT_MAX + 1);
	b.len += SC_CERT_MAX + 1;
	assert_int_equal(hello_parse_bytes(bad, b.len, g), SC_ERR_TOOLONG);
	/* Certificate length beyond the body. */
	sc_buf_init(&b, bad, sizeof(bad));
	assert_int_equal(sc_buf_put_bytes(&b, body, n - 2 - 300), 0);
	assert_int_equal(sc_buf_put_u16(&b, 301), 0);
	assert_int_equal(sc_buf_put_bytes(&b, body + n - 300, 300), 0);
	assert_int_equal(hello_parse_bytes(bad, b.len, g), SC_ERR_TRUNCATED);

	/* The encoder refuses what the parser would refuse. */
	sc_buf_init(&b, bad, sizeof(bad));
	fill_hello(h);
	h->version = 1;
	assert_int_equal(sc_hello_encode(h, &b), SC_ERR_VERSION);
	fill_hello(h);
	h->flags = 0x40;
	assert_int_equal(sc_hello_encode(h, &b), SC_ERR_INVAL);
	fill_hello(h);
	strcpy(h->vmname, "a b");
	assert_int_equal(sc_hello_encode(h, &b), SC_ERR_INVAL);
	fill_hello(h);
	memset(h->vmname, 'a', sizeof(h->vmname));	/* no NUL */
	assert_int_equal(sc_hello_encode(h, &b), SC_ERR_INVAL);
	fill_hello(h);
	h->cert_len = SC_CERT_MAX + 1;
	assert_int_equal(sc_hello_encode(h, &b), SC_ERR_TOOLONG);
	assert_int_equal(b.len, 0);
	/* No room: nothing written. */
	fill_hello(h);
	sc_buf_init(&b, bad, 100);
	assert_int_equal(sc_hello_encode(h, &b), SC_ERR_NOSPACE);
	assert_int_equal(b.len, 0);
	free(h);
	free(g);
}

static void
test_vmname(void **state)
{
	static const struct {
		const char *name;
		size_t len;
		bool ok;
	} t[] = {
		{ "vm1", 3, true },
		{ "a", 1, true },
		{ "Web_01.example-prod", 19, true },
		{ "9lives", 6, true },
		{ "_x", 2, true },
		{ "x.", 2, true },
		{ "a..b", 4, true },
		{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 64, true },
		{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 65, false },
		{ "; rm -rf /", 10, false },
		{ "../x", 4, false },
		{ "", 0, false },
		{ ".x", 2, false },
		{ ".", 1, false },
		{ "..", 2, false },
		{ "-x", 2, false },
		{ "-", 1, false },
		{ "vm\0x", 4, false },
		{ "vm\0", 3, false },
		{ "vm 1", 4, false },
		{ "vm/1", 4, false },
		{ "vm\n", 3, false },
		{ "$(id)", 5, false },
		{ "vm\xc3\xa9", 4, false },
		{ "vm:1", 4, false },
		{ "vm~", 3, false },
	};
	size_t i;

	(void)state;
	for (i = 0; i < SC_NELEM(t); i++) {
		if (sc_vmname_valid(t[i].name, t[i].len) != t[i].ok)
			fail_msg("vmname #%zu (%.*s): expected %d", i, (int)t[i].len,
			    t[i].name, t[i].ok);
	}
	assert_false(sc_vmname_valid(NULL, 3));
}

static void
test_errorframe(void **state)
{
	uint8_t body[512];
	char text[SC_ERRMSG_MAX + 1], longtext[400];
	struct sc_buf b;
	uint16_t code;

	(void)state;
	sc_buf_init(&b, body, sizeof(body));
	assert_int_equal(sc_errorframe_encode(404, "no such VM: vm1", &b), 0);
	assert_int_equal(b.len, 2 + 1 + 15);
	assert_memory_equal(body, "\x01\x94\x0f", 3);
	sc_buf_init_ro(&b, body, 18);
	assert_int_equal(sc_errorframe_parse(&b, &code, text), 0);
	assert_int_equal(code, 404);
	assert_string_equal(text, "no such VM: vm1");

	/* Hostile text: controls and high bytes become '?'. */
	memcpy(body, "\x00\x07\x0d\x1b[2J\x07\x9b" "31m\x7f\x00ok", 16);
	sc_buf_init_ro(&b, body, 16);
	assert_int_equal(sc_errorframe_parse(&b, &code, text), 0);
	assert_int_equal(code, 7);
	assert_string_equal(text, "?[2J??31m??ok");

	/* Over SC_ERRMSG_MAX, trailing bytes, truncated: rejected. */
	body[0] = 0;
	body[1] = 1;
	body[2] = SC_ERRMSG_MAX + 1;
	memset(body + 3, 'x', SC_ERRMSG_MAX + 1);
	sc_buf_init_ro(&b, body, 3 + SC_ERRMSG_MAX + 1);
	assert_int_equal(sc_errorframe_parse(&b, &code, text), SC_ERR_TOOLONG);
	body[2] = 2;
	sc_buf_init_ro(&b, body, 6);
	assert_int_equal(sc_errorframe_parse(&b, &code, text), SC_ERR_FORMAT);
	sc_buf_init_ro(&b, body, 4);
	assert_int_equal(sc_errorframe_parse(&b, &code, text), SC_ERR_TRUNCATED);
	sc_buf_init_ro(&b, body, 1);
	assert_int_equal(sc_errorframe_parse(&b, &code, text), SC_ERR_TRUNCATED);

	/* The encoder cuts long text and sanitises too. */
	memset(longtext, 'y', sizeof(longtext) - 1);
	longtext[sizeof(longtext) - 1] = '\0';
	longtext[0] = '\x1b';
	sc_buf_init(&b, body, sizeof(body));
	assert_int_equal(sc_errorframe_encode(1, longtext, &b), 0);
	assert_int_equal(b.len, 3 + SC_ERRMSG_MAX);
	assert_int_equal(body[3], '?');
	sc_buf_init_ro(&b, body, 3 + SC_ERRMSG_MAX);
	assert_int_equal(sc_errorframe_parse(&b, &code, text), 0);
	assert_int_equal(strlen(text), SC_ERRMSG_MAX);
	/* Empty text. */
	sc_buf_init(&b, body, sizeof(body));
	assert_int_equal(sc_errorframe_encode(2, "", &b), 0);
	sc_buf_init_ro(&b, body, 3);
	assert_int_equal(sc_errorframe_parse(&b, &code, text), 0);
	assert_string_equal(text, "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stuffed_bytes),
		cmocka_unit_test(test_all_bytes_binary),
		cmocka_unit_test(test_all_bytes_armor),
		cmocka_unit_test(test_known_armor),
		cmocka_unit_test(test_encode_errors),
		cmocka_unit_test(test_splits_binary),
		cmocka_unit_test(test_splits_armor),
		cmocka_unit_test(test_header_checked_first),
		cmocka_unit_test(test_unknown_type),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_bad_dle),
		cmocka_unit_test(test_armor_errors),
		cmocka_unit_test(test_ref_encode_binary),
		cmocka_unit_test(test_ref_encode_armor),
		cmocka_unit_test(test_ref_decode_valid_binary),
		cmocka_unit_test(test_ref_decode_valid_armor),
		cmocka_unit_test(test_ref_decode_mutated_binary),
		cmocka_unit_test(test_ref_decode_mutated_armor),
		cmocka_unit_test(test_ref_decode_pairs),
		cmocka_unit_test(test_ref_decode_all_chunkings),
		cmocka_unit_test(test_scanner),
		cmocka_unit_test(test_scanner_chunk_end),
		cmocka_unit_test(test_hello_roundtrip),
		cmocka_unit_test(test_hello_invalid),
		cmocka_unit_test(test_vmname),
		cmocka_unit_test(test_errorframe),
	};

	return cmocka_run_group_tests_name("frame", tests, NULL, NULL);
}
