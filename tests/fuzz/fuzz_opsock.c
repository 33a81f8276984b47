/*
 * fuzz_opsock.c — libFuzzer harness for how lib/opsock.c sorts the packets
 * the hypervisor sends on the ops socket: events to the callback, stray,
 * malformed, oversized and empty packets, and the response matched by seq
 * and copied into the caller's bounded buffer.
 *
 * Driven through the public API only: the client adopts one end of a
 * SOCK_SEQPACKET socketpair, the harness writes the fuzzed packets into the
 * other end (all before the first call, so nothing ever waits), then makes
 * up to three sc_opsock_call()s and drains the rest.  Timeouts are either 0
 * (a call handles at most one packet) or long but never reached, because
 * the "hv" end has shut down its sending side first: once the queue is
 * empty the client sees the end of the stream instead of waiting.  So every
 * run is deterministic and takes no sleeps.
 *
 * Input:
 *   byte 0  flags: 0x01 the hv hangs up after its packets (shutdown)
 *                  0x02 long timeout (only with 0x01; otherwise 0 ms)
 *                  0x0c number of calls (0..3)
 *                  0x10 install a tap
 *                  0x20 requests carry a 4-byte payload
 *                  0x40 drain with sc_opsock_wait(os, 0), not _drain()
 *   byte 1  the requests' op
 *   byte 2  0x03 response capacity {0, 52, 4096, SC_OP_PAYLOAD_MAX}
 *           0x04 no event callback
 *   then packets { len:u16le bytes[len & 0x7fff] } (the last one may be
 *   short); bit 15 of len pads the packet with zeros to
 *   SC_OPSOCK_PKT_MAX - 1 + (len & 3) bytes, around the size limit.
 *
 * Invariants, checked against an independent model of the rules in
 * opsock.h: every call's and drain's result; the callback sees exactly the
 * well-formed EVENT packets (seq 0, len 0), in order, and nothing else; a
 * returned response has the request's seq and op, fits the buffer (which is
 * exactly rcap bytes, so ASan sees any overrun) and holds the packet's
 * payload; after SC_ERR_TYPE/SC_ERR_NOSPACE the buffer is untouched; each
 * request is sent as exactly the header *req describes, seqs 1, 2, 3; the
 * tap sees every non-empty packet received, in order, cut at
 * SC_OPSOCK_PKT_MAX.  No crash, no leak (of memory or descriptors).
 */
#include "config.h"

#include <sys/socket.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/ops.h"
#include "log.h"
#include "opsock.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int	LLVMFuzzerInitialize(int *argc, char ***argv);

#define F_HUP		0x01
#define F_LONG		0x02
#define F_CALLS(f)	(((f) >> 2) & 3)
#define F_TAP		0x10
#define F_REQ_PAYLOAD	0x20
#define F_WAIT		0x40
#define C_NO_CB		0x04

#define LEN_PAD		0x8000u
#define MAX_PKTS	8192
#define LONG_MS		60000	/* never reached: the hv has hung up */
#define CANARY		0xa5

static const size_t rcaps[4] = { 0, 52, 4096, SC_OP_PAYLOAD_MAX };
static const uint8_t req_payload[4] = { 'a', 'b', 'c', 'd' };

/* A packet as sent: dlen input bytes, then zeros up to size. */
struct pkt {
	const uint8_t	*p;
	size_t		 dlen;
	size_t		 size;
};

enum model_kind { M_EOF, M_DROP, M_EVENT, M_RESP };

static struct pkt pkts[MAX_PKTS];
static size_t npkts;
static size_t mpos;		/* the model's next packet */
static bool hup;

static struct sc_op_hdr want_ev[MAX_PKTS], got_ev[MAX_PKTS];
static size_t nwant_ev, ngot_ev;

static size_t tap_pos;		/* next non-empty packet the tap must see */
static uint32_t tap_sent_seq;	/* seq of the last request the tap saw */

static uint8_t txbuf[SC_OPSOCK_PKT_MAX + 4];
static uint8_t zeros[SC_OPSOCK_PKT_MAX + 4];
static uint8_t canary[SC_OP_PAYLOAD_MAX];
static uint8_t reqbuf[SC_OP_MAX + 64];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* Every dropped packet is logged; keep the fuzzer's output readable. */
	sc_log_init("fuzz_opsock", SC_LOG_QUIET, SC_LOG_TO_STDERR);
	memset(canary, CANARY, sizeof(canary));
	return 0;
}

static uint8_t
pkt_byte(const struct pkt *k, size_t i)
{
	return i < k->dlen ? k->p[i] : 0;
}

/*
 * Whether bytes off..off+len of packet k are p (whole-range compares: a
 * byte loop here would dominate the run time under coverage tracing).
 */
static bool
pkt_equal(const struct pkt *k, size_t off, const uint8_t *p, size_t len)
{
	size_t n;

	if (off + len > k->size)
		return false;
	n = off < k->dlen ? SC_MIN(len, k->dlen - off) : 0;
	if (n > 0 && memcmp(p, k->p + off, n) != 0)
		return false;
	return len == n || memcmp(p + n, zeros, len - n) == 0;
}

static uint32_t
pkt_u32(const struct pkt *k, size_t off)
{
	return (uint32_t)pkt_byte(k, off) |
	    (uint32_t)pkt_byte(k, off + 1) << 8 |
	    (uint32_t)pkt_byte(k, off + 2) << 16 |
	    (uint32_t)pkt_byte(k, off + 3) << 24;
}

static uint16_t
pkt_u16(const struct pkt *k, size_t off)
{
	return (uint16_t)(pkt_byte(k, off) | pkt_byte(k, off + 1) << 8);
}

/*
 * The model: what opsock.h says the client makes of packet k while it
 * awaits seq want (0: nothing), decoded here by hand, not by sc_op_hdr_get.
 */
static enum model_kind
model_kind(const struct pkt *k, uint32_t want, struct sc_op_hdr *h)
{
	if (k->size == 0)
		return M_EOF;	/* indistinguishable from a hang-up */
	if (k->size > SC_OPSOCK_PKT_MAX || k->size < SC_OP_HDR_LEN)
		return M_DROP;
	h->magic = pkt_u32(k, 0);
	h->version = pkt_u16(k, 4);
	h->op = pkt_u16(k, 6);
	h->status = (int32_t)pkt_u32(k, 8);
	h->domid = pkt_u32(k, 12);
	h->session = pkt_u32(k, 16);
	h->arg = pkt_u32(k, 20);
	h->len = pkt_u32(k, 24);
	h->seq = pkt_u32(k, 28);
	if (h->magic != SC_OPS_MAGIC || h->version != SC_OPS_VERSION ||
	    h->len > SC_OP_PAYLOAD_MAX || h->len != k->size - SC_OP_HDR_LEN)
		return M_DROP;
	if (h->op == SC_OP_EVENT)
		return h->seq == 0 && h->len == 0 ? M_EVENT : M_DROP;
	return want != 0 && h->seq == want ? M_RESP : M_DROP;
}

static void
model_event(const struct sc_op_hdr *h, bool cb)
{
	if (cb)
		want_ev[nwant_ev++] = *h;
}

/* sc_opsock_call() per opsock.h; *rk is the response's packet. */
static int
model_call(uint32_t want, uint16_t op, size_t rcap, bool zero_to, bool cb,
    struct sc_op_hdr *rh, const struct pkt **rk)
{
	struct sc_op_hdr h;
	const struct pkt *k;

	for (;;) {
		if (mpos == npkts)
			return hup ? SC_ERR_EOF : SC_ERR_TIMEOUT;
		k = &pkts[mpos++];
		switch (model_kind(k, want, &h)) {
		case M_EOF:
			return SC_ERR_EOF;
		case M_RESP:
			*rh = h;
			*rk = k;
			if (h.op != op)
				return SC_ERR_TYPE;
			return h.len > rcap ? SC_ERR_NOSPACE : 0;
		case M_EVENT:
			model_event(&h, cb);
			break;
		case M_DROP:
			break;
		}
		if (zero_to)
			return SC_ERR_TIMEOUT;
	}
}

/* sc_opsock_drain() per opsock.h. */
static int
model_drain(bool cb)
{
	struct sc_op_hdr h;
	const struct pkt *k;
	int count;

	for (count = 0; count < SC_OPSOCK_DRAIN_MAX; count++) {
		if (mpos == npkts) {
			if (hup)
				return SC_ERR_EOF;
			break;
		}
		k = &pkts[mpos++];
		if (k->size == 0)
			return SC_ERR_EOF;
		if (model_kind(k, 0, &h) == M_EVENT)
			model_event(&h, cb);
	}
	return count;
}

static void
on_event(void *arg, const struct sc_op_hdr *ev)
{
	if (arg != &got_ev)
		abort();
	if (ev->magic != SC_OPS_MAGIC || ev->version != SC_OPS_VERSION ||
	    ev->op != SC_OP_EVENT || ev->seq != 0 || ev->len != 0)
		abort();
	if (ngot_ev >= MAX_PKTS)
		abort();
	got_ev[ngot_ev++] = *ev;
}

static void
check_events(void)
{
	if (ngot_ev != nwant_ev ||
	    memcmp(got_ev, want_ev, ngot_ev * sizeof(got_ev[0])) != 0)
		abort();
}

static void
tap(void *arg, int dir, const uint8_t *p, size_t len)
{
	const struct pkt *k;
	struct sc_op_hdr h;
	struct sc_buf b;

	if (arg != &tap_pos)
		abort();
	if (dir == SC_OPSOCK_TAP_SENT) {
		sc_buf_init_ro(&b, p, len);
		if (sc_op_hdr_get(&b, &h) < 0 || h.len != sc_buf_avail(&b) ||
		    h.seq != tap_sent_seq + 1)
			abort();
		tap_sent_seq = h.seq;
		return;
	}
	if (dir != SC_OPSOCK_TAP_RECEIVED)
		abort();
	/* The next packet that is not empty (an empty one is no packet). */
	while (tap_pos < npkts && pkts[tap_pos].size == 0)
		tap_pos++;
	if (tap_pos >= npkts)
		abort();
	k = &pkts[tap_pos++];
	if (len != SC_MIN(k->size, (size_t)SC_OPSOCK_PKT_MAX) ||
	    !pkt_equal(k, 0, p, len))
		abort();
}

/* Split the input into packets and queue them on fd (until it is full). */
static void
send_pkts(int fd, const uint8_t *data, size_t size)
{
	struct pkt *k;
	size_t off = 0;
	uint16_t l;
	ssize_t w;

	npkts = 0;
	while (off + 2 <= size && npkts < MAX_PKTS) {
		l = (uint16_t)(data[off] | data[off + 1] << 8);
		off += 2;
		k = &pkts[npkts];
		k->p = data + off;
		k->dlen = SC_MIN((size_t)(l & ~LEN_PAD), size - off);
		off += k->dlen;
		k->size = (l & LEN_PAD) ?
		    SC_OPSOCK_PKT_MAX - 1 + (l & 3) : k->dlen;
		if (k->size > sizeof(txbuf))
			abort();
		memcpy(txbuf, k->p, k->dlen);
		memset(txbuf + k->dlen, 0, k->size - k->dlen);
		w = send(fd, txbuf, k->size, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == ENOBUFS))
			break;		/* the queue is full: the rest is not sent */
		if (w < 0 || (size_t)w != k->size)
			abort();
		npkts++;
	}
}

/* The request the hv end received must be exactly *req (and its payload). */
static void
check_request(int fd, const struct sc_op_hdr *req, uint32_t seq)
{
	struct sc_op_hdr h;
	struct sc_buf b;
	ssize_t n;

	if (req->seq != seq || req->magic != SC_OPS_MAGIC ||
	    req->version != SC_OPS_VERSION || req->status != 0)
		abort();
	n = recv(fd, reqbuf, sizeof(reqbuf), MSG_DONTWAIT);
	if (n < 0)
		abort();
	sc_buf_init_ro(&b, reqbuf, (size_t)n);
	if (sc_op_hdr_get(&b, &h) < 0 || memcmp(&h, req, sizeof(h)) != 0 ||
	    sc_buf_avail(&b) != h.len)
		abort();
	if (h.len > 0 && memcmp(sc_buf_rptr(&b), req_payload, h.len) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sc_opsock *os;
	struct sc_op_hdr req, resp, mresp;
	const struct pkt *rk;
	uint8_t flags, ctl, *rpay;
	size_t rcap;
	unsigned int ncalls, k, timeout_ms;
	bool cb, zero_to;
	int sv[2], r, m, rounds;

	if (size < 3)
		return 0;
	flags = data[0];
	ctl = data[2];
	hup = (flags & F_HUP) != 0;
	zero_to = !(hup && (flags & F_LONG));
	timeout_ms = zero_to ? 0 : LONG_MS;
	ncalls = F_CALLS(flags);
	rcap = rcaps[ctl & 3];
	cb = !(ctl & C_NO_CB);

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	send_pkts(sv[1], data + 3, size - 3);
	if (hup && shutdown(sv[1], SHUT_WR) < 0)
		abort();
	if (sc_opsock_adopt(sv[0], cb ? on_event : NULL, &got_ev, &os) < 0)
		abort();
	mpos = 0;
	nwant_ev = ngot_ev = 0;
	tap_pos = 0;
	tap_sent_seq = 0;
	if (flags & F_TAP)
		sc_opsock_set_tap(os, tap, &tap_pos);
	/* Exactly rcap bytes, so ASan catches a copy past the capacity. */
	if ((rpay = malloc(rcap > 0 ? rcap : 1)) == NULL)
		abort();

	for (k = 0; k < ncalls; k++) {
		memset(&req, 0, sizeof(req));
		req.op = data[1];
		req.domid = k;
		req.len = (flags & F_REQ_PAYLOAD) ? sizeof(req_payload) : 0;
		memset(rpay, CANARY, rcap);
		m = model_call(k + 1, req.op, rcap, zero_to, cb, &mresp, &rk);
		r = sc_opsock_call(os, &req,
		    req.len > 0 ? req_payload : NULL, &resp, rpay, rcap,
		    timeout_ms);
		if (r != m)
			abort();
		check_request(sv[1], &req, k + 1);
		check_events();
		if (r == 0 || r == SC_ERR_TYPE || r == SC_ERR_NOSPACE) {
			if (memcmp(&resp, &mresp, sizeof(resp)) != 0 ||
			    resp.seq != req.seq)
				abort();
		}
		if (r == 0) {
			if (resp.op != req.op || resp.len > rcap ||
			    !pkt_equal(rk, SC_OP_HDR_LEN, rpay, resp.len))
				abort();
		} else if (memcmp(rpay, canary, rcap) != 0)
			abort();
	}

	/* Hand the rest to the event loop's path, one bounded batch a time. */
	for (rounds = 0; rounds < MAX_PKTS + 2; rounds++) {
		m = model_drain(cb);
		r = (flags & F_WAIT) ? sc_opsock_wait(os, 0) :
		    sc_opsock_drain(os);
		if (r != m || r > SC_OPSOCK_DRAIN_MAX)
			abort();
		check_events();
		if (r == 0 || (r == SC_ERR_EOF && mpos == npkts))
			break;
		if (r < 0 && r != SC_ERR_EOF)
			abort();
	}
	if (mpos != npkts)
		abort();
	if (flags & F_TAP) {
		while (tap_pos < npkts && pkts[tap_pos].size == 0)
			tap_pos++;
		if (tap_pos != npkts || tap_sent_seq != ncalls)
			abort();
	}

	free(rpay);
	sc_opsock_close(os);
	close(sv[1]);
	return 0;
}
