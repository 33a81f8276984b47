/*
 * fuzz_hvclient.c — libFuzzer harness for what the client side of the hv
 * ops ABI (tests/helpers/hvclient.c, used by sc-hvctl) parses from the ops
 * socket: op packets, handshake message 2 and OUTPUT payloads.
 *
 * Input: byte 0 selects the mode, the rest is the bytes.
 *   0  an op packet: sc_hvc_op_parse
 *   1  message 2 of a handshake the harness started: sc_hvc_hs2
 *   2  an OUTPUT payload { len:u16le ct[len] }... opened with fixed
 *      session keys (seeds are real records sealed under them)
 *   3  plaintext records { len:u16be (type payload)[len] }... that the
 *      harness pads (type length:u16 payload zeros, PROTOCOL.md §5.1),
 *      seals under the peer's key and frames as items, so the
 *      fuzzer reaches the checks after authentication; one item's length
 *      field may then be corrupted (last input byte, if odd: which item)
 * Invariants: a parsed packet's payload lies inside the input and has the
 * header's length; after an error the session opens nothing more; an
 * opened record has a known type and at most SC_RECORD_PAYLOAD_MAX bytes;
 * in mode 3 without corruption every record opens to what was sealed.
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
#include "core/ops.h"
#include "core/wire.h"
#include "tests/helpers/hvclient.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_HVC_KEY	0x5c	/* hv -> client key (also in the seeds) */
#define ITEMS_MAX	(SC_OP_PAYLOAD_MAX + 64)

static const struct sc_crypto *cp;
static struct sc_hvc_session cs;
static struct sc_noise_transport peer;
static uint8_t items_mem[ITEMS_MAX], ct[SC_RECORD_CT_MAX];
static uint8_t pt_mem[SC_RECORD_PT_MAX];
static uint8_t pl_mem[SC_RECORD_PAYLOAD_MAX + 1];

/* An established session whose receive key is FUZZ_HVC_KEY. */
static void
session_fixed(void)
{
	struct sc_noise_transport t;

	memset(&cs, 0, sizeof(cs));
	cs.cp = cp;
	memset(&t, 0, sizeof(t));
	t.cp = cp;
	memset(t.recv.k, FUZZ_HVC_KEY, sizeof(t.recv.k));
	t.recv.has_key = true;
	memset(t.send.k, FUZZ_HVC_KEY + 1, sizeof(t.send.k));
	t.send.has_key = true;
	sc_record_init(&cs.rl, &t);
	cs.established = true;
	memset(&peer, 0, sizeof(peer));
	peer.cp = cp;
	memset(peer.send.k, FUZZ_HVC_KEY, sizeof(peer.send.k));
	peer.send.has_key = true;
}

/* Open every item; returns how many opened, -1 after an error. */
static int
open_all(struct sc_buf *items, const uint8_t *want_types,
    const size_t *want_len, unsigned nwant)
{
	struct sc_buf pl;
	uint8_t type;
	int r, n = 0;

	for (;;) {
		sc_buf_init(&pl, pl_mem, sizeof(pl_mem));
		r = sc_hvc_open_item(&cs, items, &type, &pl);
		if (r == 0)
			return n;
		if (r < 0) {
			/* Dead: nothing more is opened, even a valid record. */
			sc_buf_init(&pl, pl_mem, sizeof(pl_mem));
			if (sc_buf_avail(items) > 0 &&
			    sc_hvc_open_item(&cs, items, &type, &pl) > 0)
				abort();
			return -1;
		}
		if (type < SC_REC_DATA || type > SC_REC_REKEY ||
		    pl.len > SC_RECORD_PAYLOAD_MAX)
			abort();
		if (want_types != NULL && ((unsigned)n >= nwant ||
		    type != want_types[n] || pl.len != want_len[n]))
			abort();
		n++;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t types[256];
	static size_t lens[256];
	struct sc_op_hdr h;
	const uint8_t *p, *rec;
	struct sc_buf in, items, c, msg1;
	uint8_t sk[32], pk[32], uuid[16], psk[32], m1[256];
	size_t n, corrupt_at = SIZE_MAX;
	unsigned nrec = 0;
	int r;

	if (cp == NULL) {
		if (sodium_init() < 0)
			abort();
		cp = sc_crypto_sodium();
	}
	if (size < 1)
		return 0;
	switch (data[0] % 4) {
	case 0:
		if (sc_hvc_op_parse(data + 1, size - 1, &h, &p) == 0 &&
		    (p < data + 1 || p + h.len != data + size))
			abort();
		break;
	case 1:
		memset(sk, 1, sizeof(sk));
		memset(pk, 9, sizeof(pk));	/* any key: msg2 cannot verify */
		memset(uuid, 2, sizeof(uuid));
		memset(psk, 3, sizeof(psk));
		sc_buf_init(&msg1, m1, sizeof(m1));
		if (sc_hvc_hs1(&cs, cp, uuid, pk, sk, psk, 0, 0, &msg1) != 0)
			abort();
		if (sc_hvc_hs2(&cs, data + 1, size - 1) == 0 || cs.established)
			abort();	/* no one holds the responder's key */
		sc_hvc_wipe(&cs);
		break;
	case 2:
		session_fixed();
		sc_buf_init_ro(&items, data + 1, size - 1);
		(void)open_all(&items, NULL, NULL, 0);
		sc_hvc_wipe(&cs);
		break;
	case 3:
		session_fixed();
		n = size - 1;
		if (n > 0 && (data[size - 1] & 1)) {
			corrupt_at = data[size - 1] >> 1;
			n--;
		}
		sc_buf_init_ro(&in, data + 1, n);
		sc_buf_init(&items, items_mem, sizeof(items_mem));
		while (nrec < SC_NELEM(types) &&
		    sc_buf_get_str16(&in, &rec, &n, SC_RECORD_PAYLOAD_MAX + 1) == 0 &&
		    n > 0) {
			size_t ptlen = sc_record_ct_len(n - 1);

			if (ptlen == 0)
				break;
			ptlen -= SC_TAG_LEN;
			memset(pt_mem, 0, ptlen);
			pt_mem[0] = rec[0];
			pt_mem[1] = (uint8_t)((n - 1) >> 8);
			pt_mem[2] = (uint8_t)(n - 1);
			memcpy(pt_mem + SC_RECORD_HDR_LEN, rec + 1, n - 1);
			sc_buf_init(&c, ct, sizeof(ct));
			if (sc_noise_encrypt(&peer, pt_mem, ptlen, &c) != 0)
				break;
			if (sc_buf_room(&items) < 2 + c.len)
				break;
			if (nrec == corrupt_at) {
				r = sc_buf_put_u16_le(&items, (uint16_t)(c.len ^ 0x11));
			} else
				r = sc_buf_put_u16_le(&items, (uint16_t)c.len);
			if (r != 0 || sc_buf_put_bytes(&items, ct, c.len) != 0)
				abort();
			types[nrec] = rec[0];
			lens[nrec] = n - 1;
			nrec++;
		}
		sc_buf_init_ro(&in, items_mem, items.len);
		r = open_all(&in, corrupt_at == SIZE_MAX ? types : NULL, lens,
		    nrec);
		/*
		 * Known types, uncorrupted: every record opens.  (Unknown
		 * types and a bad REKEY end the session, which is right.)
		 */
		if (corrupt_at == SIZE_MAX && r >= 0 && (unsigned)r != nrec)
			abort();
		sc_hvc_wipe(&cs);
		break;
	}
	return 0;
}
