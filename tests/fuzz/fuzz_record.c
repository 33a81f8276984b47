/*
 * fuzz_record.c — record opening, with fixed transport keys.
 *
 * Input: byte 0 selects the mode; the rest is a sequence of items
 * len:u16be bytes[len].
 *   mode even: each item is a ciphertext from the peer, opened in order
 *              (seeds are real records sealed under the fixed key);
 *   mode odd:  each item is a plaintext (type:u8 length:u16 payload
 *              padding, PROTOCOL.md §5.1) that the harness encrypts with
 *              the peer's key, so the fuzzer reaches the checks after
 *              authentication (padding, type, size, REKEY).
 * After the first failure the layer must refuse everything.  Accepted
 * records must be within the limits, of a known type and of a padded size;
 * an accepted CLOSE goes through sc_record_close_parse.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "core/err.h"
#include "core/buf.h"
#include "core/crypto.h"
#include "core/noise.h"
#include "core/record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The fixed key of the peer -> us direction (also in the seed generator). */
#define FUZZ_RECORD_KEY	0x42

static struct sc_record_layer rl;
static struct sc_noise_transport peer;
static uint8_t ctbuf[SC_NOISE_MSG_MAX], payload[SC_RECORD_PAYLOAD_MAX + 1];

static void
setup(const struct sc_crypto *cp)
{
	struct sc_noise_transport t;

	memset(&t, 0, sizeof(t));
	t.cp = cp;
	memset(t.recv.k, FUZZ_RECORD_KEY, sizeof(t.recv.k));
	t.recv.has_key = true;
	memset(t.send.k, FUZZ_RECORD_KEY + 1, sizeof(t.send.k));
	t.send.has_key = true;
	sc_record_init(&rl, &t);
	memset(&peer, 0, sizeof(peer));
	peer.cp = cp;
	memset(peer.send.k, FUZZ_RECORD_KEY, sizeof(peer.send.k));
	peer.send.has_key = true;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct sc_crypto *cp;
	struct sc_buf in, pb, cb;
	const uint8_t *item;
	size_t n;
	uint8_t mode, type;
	int r, failed = 0;

	if (cp == NULL) {
		if (sodium_init() < 0)
			abort();
		cp = sc_crypto_sodium();
	}
	if (size < 1)
		return 0;
	setup(cp);
	mode = data[0];
	sc_buf_init_ro(&in, data + 1, size - 1);
	while (sc_buf_get_str16(&in, &item, &n, SC_NOISE_MSG_MAX) == 0) {
		if (mode & 1) {
			sc_buf_init(&cb, ctbuf, sizeof(ctbuf));
			if (sc_noise_encrypt(&peer, item, n, &cb) != 0)
				break;
			item = ctbuf;
			n = cb.len;
		}
		sc_buf_init(&pb, payload, sizeof(payload));
		r = sc_record_open(&rl, item, n, &type, &pb);
		if (r == 0) {
			if (failed || rl.dead || rl.recv_dead)
				abort();
			if (type < SC_REC_DATA || type > SC_REC_REKEY ||
			    pb.len > SC_RECORD_PAYLOAD_MAX ||
			    (type == SC_REC_REKEY && pb.len != 0) ||
			    n != sc_record_ct_len(pb.len))
				abort();
			if (type == SC_REC_CLOSE) {
				struct sc_record_close c;

				if (sc_record_close_parse(&rl, payload, pb.len, &c) == 0 &&
				    (c.text_len > SC_CLOSE_TEXT_MAX ||
				    c.sent + 1 != rl.stats.records_recv))
					abort();
			}
		} else if (r == SC_ERR_NOSPACE) {
			abort();	/* the buffer always has room */
		} else {
			if (pb.len != 0 || !rl.recv_dead)
				abort();
			if (failed && r != SC_ERR_STATE)
				abort();
			failed = 1;
		}
	}
	sc_record_wipe(&rl);
	return 0;
}
