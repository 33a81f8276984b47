/*
 * xrecord-peer — the C half of the C<->JS record round trip
 * (tests/web/xrecord.sh): the hypervisor's side of the SCCrypt handshake
 * and record layer, built from lib/core (noise.c, record.c, frame.c) with
 * the libsodium provider, speaking binary frames on stdin/stdout to the JS
 * client code (web/test/xrecord.js).
 *
 *   xrecord-peer HV_SK_HEX PSK_HEX PROLOGUE_HEX [B|A]
 *   xrecord-peer --decode B|A
 *
 * After IKpsk2 (responder), every record is answered: DATA with the same
 * bytes reversed, PING with PONG, REKEY with a REKEY of its own followed by
 * DATA "rekeyed", CLOSE with the answering CLOSE (exit 0).  A record that
 * fails to open is answered with CLOSE(PROTOCOL) (exit 3).  Frames in the
 * binary encoding, or the armored one when the last argument is A.
 *
 * --decode: the C decoder (sc_frame_decode) over all of stdin, fed in
 * chunks of 1..97 bytes, prints one line per frame "F TYPE BODY_HEX", then
 * "E CODE OFFSET" (the SC_ERR_* number and the stream offset of the failing byte) or
 * "P 0|1" (sc_frame_decoder_partial at EOF): the JS decoder must print the
 * same lines for the same stream (web/test/xrecord.js).  Test-only.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "core/buf.h"
#include "core/crypto.h"
#include "core/err.h"
#include "core/frame.h"
#include "core/noise.h"
#include "core/record.h"
#include "core/wire.h"

static uint8_t outmem[SC_FRAME_ENC_MAX + 16];
static uint8_t encoding = SC_ENCODING_BINARY;

static void
send_frame(uint8_t type, const uint8_t *body, size_t len)
{
	struct sc_buf out;

	sc_buf_init(&out, outmem, sizeof(outmem));
	if (sc_frame_encode(&out, encoding, type, body, len) != 0 ||
	    write(1, out.data, out.len) != (ssize_t)out.len) {
		fprintf(stderr, "xrecord-peer: write failed\n");
		exit(1);
	}
}

static void
send_record(struct sc_record_layer *rl, uint8_t type, const uint8_t *p, size_t len)
{
	uint8_t ct[SC_RECORD_CT_MAX];
	struct sc_buf b;
	int r;

	sc_buf_init(&b, ct, sizeof(ct));
	if ((r = sc_record_seal(rl, type, p, len, &b)) != 0) {
		fprintf(stderr, "xrecord-peer: seal: %s\n", sc_err(r));
		exit(1);
	}
	send_frame(SC_FRAME_RECORD, b.data, b.len);
}

static void
unhex(const char *h, uint8_t *out, size_t n)
{
	size_t got;

	if (sodium_hex2bin(out, n, h, strlen(h), NULL, &got, NULL) != 0 || got != n) {
		fprintf(stderr, "xrecord-peer: bad hex argument\n");
		exit(2);
	}
}

static int
decode_all(uint8_t enc)
{
	static struct sc_frame_decoder dec;
	static uint8_t in[1 << 20];
	size_t len = 0, off = 0, used, chunk, i;
	ssize_t n;
	struct sc_frame f;
	unsigned step = 0;
	int r;

	while ((n = read(0, in + len, sizeof(in) - len)) > 0)
		len += (size_t)n;
	if (n < 0 || sc_frame_decoder_init(&dec, enc) != 0)
		return 1;
	while (off < len) {
		chunk = 1 + (step++ * 37) % 97;
		if (chunk > len - off)
			chunk = len - off;
		r = sc_frame_decode(&dec, in + off, chunk, &used, &f);
		if (r < 0) {
			printf("E %d %zu\n", r, off + used);
			return 0;
		}
		off += used;
		if (r == 1) {
			printf("F %u ", f.type);
			for (i = 0; i < f.len; i++)
				printf("%02x", f.body[i]);
			printf("\n");
		}
	}
	printf("P %d\n", sc_frame_decoder_partial(&dec) ? 1 : 0);
	return 0;
}

int
main(int argc, char **argv)
{
	static struct sc_frame_decoder dec;
	struct sc_noise_handshake hs;
	struct sc_noise_transport t;
	struct sc_record_layer rl;
	uint8_t sk[32], psk[32], prologue[57], in[4096], pmem[SC_RECORD_PAYLOAD_MAX];
	uint8_t p2[SC_HS2_PAYLOAD_LEN] = { SC_PROTOCOL_VERSION, 0 }, hsout[256];
	struct sc_buf out, pl;
	bool open = false;
	ssize_t n;
	int r;

	if (argc == 3 && strcmp(argv[1], "--decode") == 0)
		return decode_all(argv[2][0] == 'A' ? SC_ENCODING_ARMOR : SC_ENCODING_BINARY);
	if ((argc != 4 && argc != 5) || sodium_init() < 0)
		return 2;
	if (argc == 5)
		encoding = argv[4][0] == 'A' ? SC_ENCODING_ARMOR : SC_ENCODING_BINARY;
	unhex(argv[1], sk, sizeof(sk));
	unhex(argv[2], psk, sizeof(psk));
	unhex(argv[3], prologue, sizeof(prologue));
	if (sc_noise_hs_init(&hs, sc_crypto_sodium(),
	    sc_noise_pattern_lookup("Noise_IKpsk2_25519_ChaChaPoly_BLAKE2b"), false,
	    prologue, sizeof(prologue), sk, NULL, psk, 1) != 0 ||
	    sc_frame_decoder_init(&dec, encoding) != 0)
		return 1;
	while ((n = read(0, in, sizeof(in))) > 0) {
		size_t off = 0, used;
		struct sc_frame f;

		while (off < (size_t)n) {
			r = sc_frame_decode(&dec, in + off, (size_t)n - off, &used, &f);
			off += used;
			if (r < 0) {
				fprintf(stderr, "xrecord-peer: frame: %s\n", sc_err(r));
				return 1;
			}
			if (r == 0)
				break;
			if (!open) {
				sc_buf_init(&pl, pmem, sizeof(pmem));
				sc_buf_init(&out, hsout, sizeof(hsout));
				if (f.type != SC_FRAME_HS_INIT ||
				    (r = sc_noise_hs_read(&hs, f.body, f.len, &pl)) != 0 ||
				    (r = sc_noise_hs_write(&hs, p2, sizeof(p2), &out)) != 0 ||
				    (r = sc_noise_hs_split(&hs, &t)) != 0) {
					fprintf(stderr, "xrecord-peer: handshake failed\n");
					return 1;
				}
				send_frame(SC_FRAME_HS_RESP, out.data, out.len);
				sc_record_init(&rl, &t);
				open = true;
				continue;
			}
			uint8_t type;

			sc_buf_init(&pl, pmem, sizeof(pmem));
			if (f.type != SC_FRAME_RECORD ||
			    (r = sc_record_open(&rl, f.body, f.len, &type, &pl)) != 0) {
				uint8_t ct[SC_RECORD_CT_MAX];
				struct sc_buf b;

				fprintf(stderr, "xrecord-peer: open: %s\n", sc_err(r));
				sc_buf_init(&b, ct, sizeof(ct));
				if (sc_record_seal_close(&rl, SC_CLOSE_PROTOCOL,
				    "an input record failed authentication", &b) == 0)
					send_frame(SC_FRAME_RECORD, b.data, b.len);
				return 3;
			}
			switch (type) {
			case SC_REC_DATA: {
				uint8_t rev[SC_RECORD_PAYLOAD_MAX];

				for (size_t i = 0; i < pl.len; i++)
					rev[i] = pl.data[pl.len - 1 - i];
				send_record(&rl, SC_REC_DATA, rev, pl.len);
				break;
			}
			case SC_REC_PING:
				send_record(&rl, SC_REC_PONG, pl.data, pl.len);
				break;
			case SC_REC_REKEY:
				send_record(&rl, SC_REC_REKEY, NULL, 0);
				send_record(&rl, SC_REC_DATA, (const uint8_t *)"rekeyed", 7);
				break;
			case SC_REC_CLOSE: {
				struct sc_record_close c;
				uint8_t ct[SC_RECORD_CT_MAX];
				struct sc_buf b;

				if ((r = sc_record_close_parse(&rl, pl.data, pl.len, &c)) != 0) {
					fprintf(stderr, "xrecord-peer: CLOSE: %s\n", sc_err(r));
					return 4;
				}
				sc_buf_init(&b, ct, sizeof(ct));
				if (sc_record_seal_close(&rl, SC_CLOSE_NORMAL, "closed by the client", &b) != 0)
					return 1;
				send_frame(SC_FRAME_RECORD, b.data, b.len);
				fprintf(stderr, "xrecord-peer: closed: %llu records in, %llu out, "
				    "%llu rekeys in\n", (unsigned long long)rl.stats.records_recv,
				    (unsigned long long)rl.stats.records_sent,
				    (unsigned long long)rl.stats.rekeys_recv);
				sc_record_wipe(&rl);
				return 0;
			}
			default:
				fprintf(stderr, "xrecord-peer: unexpected record type %u\n", type);
				return 1;
			}
		}
	}
	fprintf(stderr, "xrecord-peer: EOF before CLOSE\n");
	return 5;
}
