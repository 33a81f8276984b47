/*
 * codec — micro-benchmark of the frame codec (lib/core/frame.c), both
 * encodings.  Not a test: run by hand (see docs/benchmarks.md).
 *
 *   tests/bench/codec [-s BODY_LEN] [-c CHUNK] [-t SECONDS]
 *
 * Input is pseudo-random bytes (what a record frame carries: ciphertext), in
 * frames of BODY_LEN bytes (default 4113: a RECORD frame of 4096 bytes of
 * console data, as consoled and sccrypt-term send under load).  A pass
 * encodes about 2 MiB of bodies into one output buffer, or decodes that
 * encoded stream fed in CHUNK-byte pieces (default 16384, a typical read());
 * before timing, every decoded frame is compared with what was encoded, so
 * the figures are for a codec that works.  Each figure is the best of 8
 * timed runs; all of them together take about SECONDS (default 2).
 * MB = 10^6 bytes of frame body (payload).
 *
 * Prints "name value" lines:
 *   codec_encode_binary_MBps  codec_decode_binary_MBps
 *   codec_encode_armor_MBps   codec_decode_armor_MBps
 *   codec_encode_binary_ms_per_MB ... (the same, as CPU time per MB)
 *   codec_binary_expansion codec_armor_expansion (encoded / body bytes)
 * Exit status: 0, or 1 if the codec failed (an error or a wrong frame).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/err.h"
#include "core/buf.h"
#include "core/wire.h"
#include "core/frame.h"

#define NFRAMES_MAX	512		/* frames per pass */
#define PASS_BYTES	(2u << 20)	/* body bytes per pass, about */
#define RUNS		8

static size_t	body_len = 4113;
static size_t	chunk = 16384;
static double	seconds = 2.0;

static uint8_t	*bodies;		/* nframes * body_len */
static size_t	 nframes;
static uint8_t	*stream;		/* encoded frames */
static size_t	 stream_cap, stream_len;
static struct sc_frame_decoder dec;

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
die(const char *what, int r)
{
	fprintf(stderr, "codec: %s failed: %s\n", what, sc_err(r));
	exit(1);
}

/* One pass: encode every frame into stream. */
static void
encode_pass(uint8_t encoding)
{
	struct sc_buf b;
	size_t i;
	int r;

	sc_buf_init(&b, stream, stream_cap);
	for (i = 0; i < nframes; i++) {
		r = sc_frame_encode(&b, encoding, SC_FRAME_RECORD,
		    bodies + i * body_len, body_len);
		if (r != 0)
			die("sc_frame_encode", r);
	}
	stream_len = b.len;
}

/* One pass: decode stream in chunks; check every frame if asked. */
static void
decode_pass(uint8_t encoding, int check)
{
	struct sc_frame f;
	size_t pos = 0, n, used, got = 0;
	int r;

	if ((r = sc_frame_decoder_init(&dec, encoding)) != 0)
		die("sc_frame_decoder_init", r);
	while (pos < stream_len) {
		n = stream_len - pos < chunk ? stream_len - pos : chunk;
		while (n > 0) {
			r = sc_frame_decode(&dec, stream + pos, n, &used, &f);
			if (r < 0)
				die("sc_frame_decode", r);
			pos += used;
			n -= used;
			if (r == 1) {
				if (check && (got >= nframes ||
				    f.type != SC_FRAME_RECORD ||
				    f.len != body_len || memcmp(f.body,
				    bodies + got * body_len, body_len) != 0)) {
					fprintf(stderr, "codec: frame %zu "
					    "decoded wrong\n", got);
					exit(1);
				}
				got++;
			}
		}
	}
	if (got != nframes || sc_frame_decoder_partial(&dec)) {
		fprintf(stderr, "codec: %zu of %zu frames decoded\n", got,
		    nframes);
		exit(1);
	}
}

/* Best MB/s of RUNS timed runs, each repeating passes for seconds/RUNS/4
 * (four figures are measured, so all take about `seconds'). */
static double
measure(uint8_t encoding, int decode)
{
	double best = 0, t0, t, mb;
	unsigned run, passes;

	for (run = 0; run < RUNS; run++) {
		passes = 0;
		t0 = now();
		do {
			if (decode)
				decode_pass(encoding, 0);
			else
				encode_pass(encoding);
			passes++;
			t = now() - t0;
		} while (t < seconds / RUNS / 4);
		mb = (double)passes * (double)nframes * (double)body_len / 1e6;
		if (mb / t > best)
			best = mb / t;
	}
	return best;
}

static void
usage(void)
{
	fprintf(stderr, "usage: codec [-s BODY_LEN] [-c CHUNK] [-t SECONDS]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	static const struct {
		uint8_t	encoding;
		const char *name;
	} encs[] = {
		{ SC_ENCODING_BINARY, "binary" },
		{ SC_ENCODING_ARMOR, "armor" },
	};
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	double enc_mbps, dec_mbps;
	size_t i;
	int ch;

	while ((ch = getopt(argc, argv, "s:c:t:")) != -1) {
		switch (ch) {
		case 's':
			body_len = strtoul(optarg, NULL, 10);
			break;
		case 'c':
			chunk = strtoul(optarg, NULL, 10);
			break;
		case 't':
			seconds = strtod(optarg, NULL);
			break;
		default:
			usage();
		}
	}
	if (optind != argc || body_len < 1 || body_len > SC_FRAME_BODY_MAX ||
	    chunk < 1 || !(seconds > 0))
		usage();
	nframes = PASS_BYTES / body_len;
	if (nframes < 1)
		nframes = 1;
	if (nframes > NFRAMES_MAX)
		nframes = NFRAMES_MAX;
	stream_cap = nframes * SC_FRAME_ENC_MAX;
	if ((bodies = malloc(nframes * body_len)) == NULL ||
	    (stream = malloc(stream_cap)) == NULL) {
		fprintf(stderr, "codec: out of memory\n");
		return 1;
	}
	/* xorshift64*: ciphertext-like bytes, the same on every run. */
	for (i = 0; i < nframes * body_len; i++) {
		x ^= x >> 12;
		x ^= x << 25;
		x ^= x >> 27;
		bodies[i] = (uint8_t)((x * 0x2545f4914f6cdd1dULL) >> 56);
	}
	for (i = 0; i < sizeof(encs) / sizeof(encs[0]); i++) {
		/* Correctness first: the stream decodes to the frames. */
		encode_pass(encs[i].encoding);
		decode_pass(encs[i].encoding, 1);
		enc_mbps = measure(encs[i].encoding, 0);
		dec_mbps = measure(encs[i].encoding, 1);
		printf("codec_encode_%s_MBps %.1f\n", encs[i].name, enc_mbps);
		printf("codec_decode_%s_MBps %.1f\n", encs[i].name, dec_mbps);
		printf("codec_encode_%s_ms_per_MB %.3f\n", encs[i].name,
		    1000.0 / enc_mbps);
		printf("codec_decode_%s_ms_per_MB %.3f\n", encs[i].name,
		    1000.0 / dec_mbps);
		printf("codec_%s_expansion %.4f\n", encs[i].name,
		    (double)stream_len / (double)(nframes * body_len));
	}
	printf("codec_body_len %zu\n", body_len);
	printf("codec_chunk %zu\n", chunk);
	return 0;
}
