/*
 * test_frame.c — frame codec (both encodings), incremental decoding at every
 * split point, header checks before the body, malformed input, the HELLO
 * scanner, HELLO and ERROR bodies, VM name validation.
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
	assert_int_equal(body[0], 1);
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
	bad[0] = 2;
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
	h->version = 2;
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
		cmocka_unit_test(test_scanner),
		cmocka_unit_test(test_scanner_chunk_end),
		cmocka_unit_test(test_hello_roundtrip),
		cmocka_unit_test(test_hello_invalid),
		cmocka_unit_test(test_vmname),
		cmocka_unit_test(test_errorframe),
	};

	return cmocka_run_group_tests_name("frame", tests, NULL, NULL);
}
