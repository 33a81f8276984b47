/*
 * test_opsock.c — lib/opsock.c, the hv ops socket client, against a fake
 * hypervisor: a child process on the other end of a SOCK_SEQPACKET
 * socketpair (or of a listening socket in a temporary directory) that reads
 * the client's requests and sends scripted packets back.
 *
 * Covered: request encoding and seq allocation, response matching by seq,
 * events before the response delivered in order, stray and malformed
 * packets dropped, oversized packets refused, a late response after a
 * timeout, payload capacity, a response for another op, the peer closing,
 * drain/wait for an event loop (bounded per call, order kept), the tap,
 * and connect errors (too-long path, nothing there, nobody listening,
 * permission).
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/ops.h"
#include "io.h"
#include "log.h"
#include "opsock.h"
#include "op_packet.h"

/* Every fake hv gives up after this long, so a failed test cannot hang. */
#define FAKE_ALARM_S	20
/* Generous timeouts for calls that are answered; only the timeout test
 * waits for one to run out. */
#define CALL_MS		10000
#define SHORT_MS	200
#define FLOOD_EVENTS	300

/* ---- the fake hypervisor (child side; no cmocka here) ---- */

#define CHILD_CHECK(c) do {						\
	if (!(c)) {							\
		fprintf(stderr, "fake hv: %s:%d: %s\n", __FILE__,	\
		    __LINE__, #c);					\
		_exit(1);						\
	}								\
} while (0)

static uint8_t child_pkt[SC_OP_MAX + 256];

/* Read one request; false at EOF.  Its payload: pl, plen. */
static bool
hv_recv(int fd, struct sc_op_hdr *h, const uint8_t **pl, size_t *plen)
{
	struct sc_buf b;
	ssize_t n;

	do {
		n = recv(fd, child_pkt, sizeof(child_pkt), 0);
	} while (n < 0 && errno == EINTR);
	CHILD_CHECK(n >= 0);
	if (n == 0)
		return false;
	sc_buf_init_ro(&b, child_pkt, (size_t)n);
	CHILD_CHECK(sc_op_hdr_get(&b, h) == 0);
	CHILD_CHECK(h->len == sc_buf_avail(&b));
	CHILD_CHECK(h->status == 0 && h->seq != 0);
	if (pl != NULL)
		*pl = sc_buf_rptr(&b);
	if (plen != NULL)
		*plen = h->len;
	return true;
}

static void
hv_send_raw(int fd, const void *p, size_t n)
{
	CHILD_CHECK(send(fd, p, n, MSG_NOSIGNAL) == (ssize_t)n);
}

static void
hv_send(int fd, uint16_t op, int32_t status, uint32_t domid, uint32_t session,
    uint32_t arg, uint32_t seq, const void *pl, size_t len)
{
	static uint8_t out[SC_OP_MAX];
	size_t n;

	n = op_packet(out, sizeof(out), op, status, domid, session, arg, seq, pl, len);
	CHILD_CHECK(n == SC_OP_HDR_LEN + len);
	hv_send_raw(fd, out, n);
}

static void
hv_event(int fd, uint32_t domid, uint32_t session, uint32_t bits)
{
	hv_send(fd, SC_OP_EVENT, 0, domid, session, bits, 0, NULL, 0);
}

/* Answer h with payload pl. */
static void
hv_answer(int fd, const struct sc_op_hdr *h, uint32_t arg, const void *pl,
    size_t len)
{
	hv_send(fd, h->op, 0, h->domid, h->session, arg, h->seq, pl, len);
}

/* Wait until the client hangs up. */
static void
hv_wait_close(int fd)
{
	struct sc_op_hdr h;

	while (hv_recv(fd, &h, NULL, NULL))
		;
}

/* ---- the client side ---- */

struct evlog {
	struct sc_op_hdr ev[FLOOD_EVENTS + 8];
	size_t		n;
};
static struct evlog evlog;

static void
record_event(void *arg, const struct sc_op_hdr *ev)
{
	struct evlog *l = arg;

	if (l->n < SC_NELEM(l->ev))
		l->ev[l->n] = *ev;
	l->n++;
}

struct fake {
	pid_t			 pid;
	struct sc_opsock	*os;
};

static void
fake_child(int fd, void (*script)(int))
{
	alarm(FAKE_ALARM_S);
	script(fd);
	_exit(0);
}

/* Start script(fd) in a child on the far end of a socketpair. */
static void
fake_start(struct fake *f, void (*script)(int))
{
	int sv[2];

	memset(&evlog, 0, sizeof(evlog));
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0,
	    sv), 0);
	f->pid = fork();
	assert_true(f->pid >= 0);
	if (f->pid == 0) {
		close(sv[0]);
		fake_child(sv[1], script);
	}
	close(sv[1]);
	assert_int_equal(sc_opsock_adopt(sv[0], record_event, &evlog, &f->os), 0);
	assert_non_null(f->os);
}

/* Hang up and require the fake hv to have finished its script cleanly. */
static void
fake_finish(struct fake *f)
{
	int status;

	sc_opsock_close(f->os);
	f->os = NULL;
	assert_int_equal(waitpid(f->pid, &status, 0), f->pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static int
call(struct fake *f, uint16_t op, uint32_t domid, uint32_t session,
    uint32_t arg, const void *pl, size_t len, struct sc_op_hdr *resp,
    uint8_t *rpay, size_t rcap, unsigned int ms)
{
	struct sc_op_hdr req;

	memset(&req, 0, sizeof(req));
	req.op = op;
	req.domid = domid;
	req.session = session;
	req.arg = arg;
	req.len = (uint32_t)len;
	memset(resp, 0xa5, sizeof(*resp));
	return sc_opsock_call(f->os, &req, pl, resp, rpay, rcap, ms);
}

/* ---- scripts and tests ---- */

/* Requests arrive as sent; answers echo seq; seqs count 1, 2, 3. */
static void
script_basic(int fd)
{
	struct sc_op_hdr h;
	const uint8_t *pl;
	size_t n;
	uint32_t want = 1;

	while (hv_recv(fd, &h, &pl, &n)) {
		CHILD_CHECK(h.seq == want);
		want++;
		if (h.op == SC_OP_INPUT) {
			CHILD_CHECK(h.domid == 7 && h.session == 9 && h.arg == 0);
			CHILD_CHECK(n == 5 && memcmp(pl, "hello", 5) == 0);
			hv_answer(fd, &h, 5, NULL, 0);
		} else {
			CHILD_CHECK(h.op == SC_OP_GET_INFO && n == 0);
			hv_answer(fd, &h, 0, "info!", 5);
		}
	}
}

static void
test_call_basic(void **state)
{
	struct fake f;
	struct sc_op_hdr req, resp;
	uint8_t rpay[64];

	(void)state;
	fake_start(&f, script_basic);
	assert_int_equal(call(&f, SC_OP_GET_INFO, 0, 0, 0, NULL, 0, &resp, rpay,
	    sizeof(rpay), CALL_MS), 0);
	assert_int_equal(resp.op, SC_OP_GET_INFO);
	assert_int_equal(resp.seq, 1);
	assert_int_equal(resp.status, 0);
	assert_int_equal(resp.len, 5);
	assert_memory_equal(rpay, "info!", 5);

	/* The caller sees the header that was sent. */
	memset(&req, 0, sizeof(req));
	req.op = SC_OP_INPUT;
	req.domid = 7;
	req.session = 9;
	req.len = 5;
	req.status = 99;	/* overwritten: requests carry status 0 */
	assert_int_equal(sc_opsock_call(f.os, &req, "hello", &resp, rpay,
	    sizeof(rpay), CALL_MS), 0);
	assert_int_equal(req.magic, SC_OPS_MAGIC);
	assert_int_equal(req.version, SC_OPS_VERSION);
	assert_int_equal(req.status, 0);
	assert_int_equal(req.seq, 2);
	assert_int_equal(resp.seq, 2);
	assert_int_equal(resp.arg, 5);
	assert_int_equal(resp.len, 0);

	/* Refused before anything is sent (the fake would notice a gap). */
	req.op = SC_OP_INPUT;
	req.len = SC_OP_PAYLOAD_MAX + 1;
	assert_int_equal(sc_opsock_call(f.os, &req, rpay, &resp, rpay,
	    sizeof(rpay), CALL_MS), SC_ERR_TOOLONG);
	req.len = 3;
	assert_int_equal(sc_opsock_call(f.os, &req, NULL, &resp, rpay,
	    sizeof(rpay), CALL_MS), SC_ERR_INVAL);

	assert_int_equal(call(&f, SC_OP_GET_INFO, 0, 0, 0, NULL, 0, &resp, rpay,
	    sizeof(rpay), CALL_MS), 0);
	assert_int_equal(resp.seq, 3);
	assert_int_equal(evlog.n, 0);
	fake_finish(&f);
}

/* Three events, then the answer. */
static void
script_events_first(int fd)
{
	struct sc_op_hdr h;

	CHILD_CHECK(hv_recv(fd, &h, NULL, NULL));
	hv_event(fd, 1, 0, SC_EV_DOMAIN_ADDED);
	hv_event(fd, 2, 5, SC_EV_OUTPUT);
	hv_event(fd, 1, 0, SC_EV_DOMAIN_GONE);
	hv_answer(fd, &h, 0, "ok", 2);
	hv_wait_close(fd);
}

static void
test_events_before_response(void **state)
{
	struct fake f;
	struct sc_op_hdr resp;
	uint8_t rpay[16];

	(void)state;
	fake_start(&f, script_events_first);
	assert_int_equal(call(&f, SC_OP_STATUS, 3, 0, 0, NULL, 0, &resp, rpay,
	    sizeof(rpay), CALL_MS), 0);
	assert_int_equal(resp.len, 2);
	assert_memory_equal(rpay, "ok", 2);
	/* All three, in order, unmerged (merging is the caller's business). */
	assert_int_equal(evlog.n, 3);
	assert_int_equal(evlog.ev[0].domid, 1);
	assert_int_equal(evlog.ev[0].arg, SC_EV_DOMAIN_ADDED);
	assert_int_equal(evlog.ev[1].domid, 2);
	assert_int_equal(evlog.ev[1].session, 5);
	assert_int_equal(evlog.ev[1].arg, SC_EV_OUTPUT);
	assert_int_equal(evlog.ev[2].domid, 1);
	assert_int_equal(evlog.ev[2].arg, SC_EV_DOMAIN_GONE);
	assert_int_equal(evlog.ev[2].op, SC_OP_EVENT);
	assert_int_equal(evlog.ev[2].seq, 0);
	fake_finish(&f);
}

/* Answers for seqs nobody asked (and a non-event with seq 0) come first. */
static void
script_stray(int fd)
{
	struct sc_op_hdr h;

	CHILD_CHECK(hv_recv(fd, &h, NULL, NULL));
	hv_send(fd, h.op, 0, 0, 0, 0, h.seq + 1, "wrong1", 6);
	hv_send(fd, h.op, 0, 0, 0, 0, h.seq + 1000, "wrong2", 6);
	hv_send(fd, h.op, 0, 0, 0, 0, 0, "wrong3", 6);
	hv_event(fd, 4, 0, SC_EV_OUTPUT);
	hv_answer(fd, &h, 0, "right", 5);
	hv_wait_close(fd);
}

static void
test_stray_dropped(void **state)
{
	struct fake f;
	struct sc_op_hdr resp;
	uint8_t rpay[16];

	(void)state;
	fake_start(&f, script_stray);
	assert_int_equal(call(&f, SC_OP_LIST_DOMAINS, 0, 0, 0, NULL, 0, &resp,
	    rpay, sizeof(rpay), CALL_MS), 0);
	assert_int_equal(resp.len, 5);
	assert_memory_equal(rpay, "right", 5);
	assert_int_equal(evlog.n, 1);
	assert_int_equal(evlog.ev[0].domid, 4);
	fake_finish(&f);
}

/* Every kind of malformed packet, each carrying the awaited seq. */
static void
script_malformed(int fd)
{
	static uint8_t p[SC_OP_MAX];
	struct sc_op_hdr h;
	size_t n;

	CHILD_CHECK(hv_recv(fd, &h, NULL, NULL));
	/* Shorter than a header. */
	hv_send_raw(fd, "SCOP", 4);
	/* Bad magic, bad version. */
	n = op_packet(p, sizeof(p), h.op, 0, 0, 0, 0, h.seq, "bad", 3);
	p[0] ^= 0x01;
	hv_send_raw(fd, p, n);
	n = op_packet(p, sizeof(p), h.op, 0, 0, 0, 0, h.seq, "bad", 3);
	p[4] = SC_OPS_VERSION + 1;
	hv_send_raw(fd, p, n);
	/* len says 10, 3 follow; len says 3, 4 follow. */
	n = op_packet(p, sizeof(p), h.op, 0, 0, 0, 0, h.seq, "0123456789", 10);
	hv_send_raw(fd, p, n - 7);
	n = op_packet(p, sizeof(p), h.op, 0, 0, 0, 0, h.seq, "bad", 3);
	p[n] = 'x';
	hv_send_raw(fd, p, n + 1);
	/* len above SC_OP_PAYLOAD_MAX in the header. */
	n = op_packet(p, sizeof(p), h.op, 0, 0, 0, 0, h.seq, NULL, 0);
	p[24] = 0xff;
	p[25] = 0xff;
	hv_send_raw(fd, p, n);
	/* Events with a seq or a payload. */
	hv_send(fd, SC_OP_EVENT, 0, 8, 0, SC_EV_OUTPUT, h.seq, NULL, 0);
	hv_send(fd, SC_OP_EVENT, 0, 8, 0, SC_EV_OUTPUT, 0, "x", 1);
	/* Then the real thing. */
	hv_event(fd, 9, 1, SC_EV_INPUT_SPACE);
	hv_answer(fd, &h, 0, "good", 4);
	hv_wait_close(fd);
}

static void
test_malformed_dropped(void **state)
{
	struct fake f;
	struct sc_op_hdr resp;
	uint8_t rpay[16];

	(void)state;
	fake_start(&f, script_malformed);
	assert_int_equal(call(&f, SC_OP_GET_INFO, 0, 0, 0, NULL, 0, &resp, rpay,
	    sizeof(rpay), CALL_MS), 0);
	assert_int_equal(resp.len, 4);
	assert_memory_equal(rpay, "good", 4);
	assert_int_equal(evlog.n, 1);
	assert_int_equal(evlog.ev[0].domid, 9);
	assert_int_equal(evlog.ev[0].session, 1);
	assert_int_equal(evlog.ev[0].arg, SC_EV_INPUT_SPACE);
	fake_finish(&f);
}

/* A well-formed-looking answer longer than SC_OPSOCK_PKT_MAX, then the real one. */
static void
script_oversized(int fd)
{
	static uint8_t big[SC_OP_MAX + 100];
	struct sc_op_hdr h;

	CHILD_CHECK(hv_recv(fd, &h, NULL, NULL));
	memset(big, 'B', sizeof(big));
	CHILD_CHECK(op_packet(big, sizeof(big), h.op, 0, 0, 0, 0, h.seq, NULL, 0) ==
	    SC_OP_HDR_LEN);
	hv_send_raw(fd, big, sizeof(big));
	memset(big, 'B', sizeof(big));
	/* Exactly the limit is fine. */
	hv_event(fd, 5, 0, SC_EV_OUTPUT);
	hv_send(fd, h.op, 0, 0, 0, 0, h.seq, big, SC_OP_PAYLOAD_MAX);
	hv_wait_close(fd);
}

static size_t tap_sent, tap_received, tap_received_bytes;

static void
count_tap(void *arg, int dir, const uint8_t *p, size_t n)
{
	(void)p;
	assert_ptr_equal(arg, &tap_sent);
	if (dir == SC_OPSOCK_TAP_SENT)
		tap_sent++;
	else {
		tap_received++;
		tap_received_bytes += n;
	}
}

static void
test_oversized_refused(void **state)
{
	struct fake f;
	struct sc_op_hdr resp;
	uint8_t *rpay;

	(void)state;
	assert_non_null(rpay = malloc(SC_OP_PAYLOAD_MAX));
	fake_start(&f, script_oversized);
	tap_sent = tap_received = tap_received_bytes = 0;
	sc_opsock_set_tap(f.os, count_tap, &tap_sent);
	assert_int_equal(call(&f, SC_OP_RAW_OUTPUT, 1, 0, 0, NULL, 0, &resp,
	    rpay, SC_OP_PAYLOAD_MAX, CALL_MS), 0);
	assert_int_equal(resp.len, SC_OP_PAYLOAD_MAX);
	assert_int_equal(rpay[0], 'B');
	assert_int_equal(rpay[SC_OP_PAYLOAD_MAX - 1], 'B');
	assert_int_equal(evlog.n, 1);
	/* The tap saw all three packets, the oversized one cut at the limit. */
	assert_int_equal(tap_sent, 1);
	assert_int_equal(tap_received, 3);
	assert_int_equal(tap_received_bytes, SC_OP_MAX + SC_OP_HDR_LEN + SC_OP_MAX);
	free(rpay);
	fake_finish(&f);
}

/*
 * The first request is never answered; the answer to it comes late, just
 * before the answer to the second.
 */
static void
script_late(int fd)
{
	struct sc_op_hdr h1, h2;

	CHILD_CHECK(hv_recv(fd, &h1, NULL, NULL));
	CHILD_CHECK(hv_recv(fd, &h2, NULL, NULL));
	CHILD_CHECK(h2.seq == h1.seq + 1);
	hv_answer(fd, &h1, 0, "late", 4);
	hv_answer(fd, &h2, 0, "second", 6);
	hv_wait_close(fd);
}

static void
test_timeout_then_late_answer(void **state)
{
	struct fake f;
	struct sc_op_hdr resp;
	uint8_t rpay[16];
	unsigned long long t0;

	(void)state;
	fake_start(&f, script_late);
	t0 = sc_now_ms();
	assert_int_equal(call(&f, SC_OP_STATUS, 1, 0, 0, NULL, 0, &resp, rpay,
	    sizeof(rpay), SHORT_MS), SC_ERR_TIMEOUT);
	/* It did wait (lower bound only: this is not a speed test). */
	assert_true(sc_now_ms() - t0 >= SHORT_MS);
	assert_int_equal(call(&f, SC_OP_STATUS, 1, 0, 0, NULL, 0, &resp, rpay,
	    sizeof(rpay), CALL_MS), 0);
	assert_int_equal(resp.seq, 2);
	assert_int_equal(resp.len, 6);
	assert_memory_equal(rpay, "second", 6);
	fake_finish(&f);
}

/* Too big for the caller's buffer; an answer naming another op. */
static void
script_capacity(int fd)
{
	static uint8_t pl[100];
	struct sc_op_hdr h;

	memset(pl, 'p', sizeof(pl));
	CHILD_CHECK(hv_recv(fd, &h, NULL, NULL));
	hv_answer(fd, &h, 0, pl, sizeof(pl));
	CHILD_CHECK(hv_recv(fd, &h, NULL, NULL));
	hv_send(fd, SC_OP_CLOSE, 0, 0, 0, 0, h.seq, NULL, 0);
	CHILD_CHECK(hv_recv(fd, &h, NULL, NULL));
	hv_answer(fd, &h, 0, pl, 50);
	hv_wait_close(fd);
}

static void
test_capacity_and_wrong_op(void **state)
{
	struct fake f;
	struct sc_op_hdr resp;
	uint8_t rpay[51];

	(void)state;
	fake_start(&f, script_capacity);
	memset(rpay, 0, sizeof(rpay));
	assert_int_equal(call(&f, SC_OP_OUTPUT, 1, 2, 0, NULL, 0, &resp, rpay,
	    50, CALL_MS), SC_ERR_NOSPACE);
	assert_int_equal(resp.len, 100);
	assert_int_equal(rpay[0], 0);	/* nothing copied */
	assert_int_equal(call(&f, SC_OP_OUTPUT, 1, 2, 0, NULL, 0, &resp, rpay,
	    50, CALL_MS), SC_ERR_TYPE);
	assert_int_equal(resp.op, SC_OP_CLOSE);
	/* Exactly the capacity is fine; the byte after it is untouched. */
	assert_int_equal(call(&f, SC_OP_OUTPUT, 1, 2, 0, NULL, 0, &resp, rpay,
	    50, CALL_MS), 0);
	assert_int_equal(resp.len, 50);
	assert_int_equal(rpay[49], 'p');
	assert_int_equal(rpay[50], 0);
	fake_finish(&f);
}

/* Read the request, send an event, hang up. */
static void
script_hangup(int fd)
{
	struct sc_op_hdr h;

	CHILD_CHECK(hv_recv(fd, &h, NULL, NULL));
	hv_event(fd, 3, 0, SC_EV_DOMAIN_GONE);
	close(fd);
}

static void
test_peer_closed(void **state)
{
	struct fake f;
	struct sc_op_hdr resp;
	uint8_t rpay[16];

	(void)state;
	fake_start(&f, script_hangup);
	assert_int_equal(call(&f, SC_OP_GET_INFO, 0, 0, 0, NULL, 0, &resp, rpay,
	    sizeof(rpay), CALL_MS), SC_ERR_EOF);
	/* What was sent before the hang-up was still delivered. */
	assert_int_equal(evlog.n, 1);
	/* Sending to a closed peer (EPIPE) is the same end. */
	assert_int_equal(call(&f, SC_OP_GET_INFO, 0, 0, 0, NULL, 0, &resp, rpay,
	    sizeof(rpay), CALL_MS), SC_ERR_EOF);
	assert_int_equal(sc_opsock_drain(f.os), SC_ERR_EOF);
	fake_finish(&f);
}

/*
 * For an event loop: a flood of events (and a stray answer) without any
 * request, then one more event after the client asks for it.
 */
static void
script_flood(int fd)
{
	struct sc_op_hdr h;
	uint32_t i;

	for (i = 0; i < FLOOD_EVENTS; i++) {
		if (i == 10)
			hv_send(fd, SC_OP_STATUS, 0, 0, 0, 0, 77, NULL, 0);
		hv_event(fd, i, 0, SC_EV_OUTPUT);
	}
	CHILD_CHECK(hv_recv(fd, &h, NULL, NULL));
	hv_answer(fd, &h, 0, NULL, 0);
	hv_event(fd, 1000, 0, SC_EV_OUTPUT);
	hv_wait_close(fd);
}

static void
test_drain_and_wait(void **state)
{
	struct pollfd pfd;
	struct fake f;
	struct sc_op_hdr resp;
	uint8_t rpay[16];
	unsigned long long deadline;
	size_t i;
	int r;

	(void)state;
	fake_start(&f, script_flood);
	deadline = sc_now_ms() + CALL_MS;
	while (evlog.n < FLOOD_EVENTS && sc_now_ms() < deadline) {
		r = sc_opsock_wait(f.os, SHORT_MS);
		assert_true(r >= 0);
		/* Bounded: the packets per drain include the stray answer. */
		assert_true(r <= SC_OPSOCK_DRAIN_MAX);
	}
	assert_int_equal(evlog.n, FLOOD_EVENTS);
	for (i = 0; i < FLOOD_EVENTS; i++)
		assert_int_equal(evlog.ev[i].domid, i);
	/* Nothing queued: both return at once with 0. */
	assert_int_equal(sc_opsock_drain(f.os), 0);
	assert_int_equal(sc_opsock_wait(f.os, 0), 0);
	/* The stray seq 77 did not confuse the next call either. */
	assert_int_equal(call(&f, SC_OP_STATUS, 1, 0, 0, NULL, 0, &resp, rpay,
	    sizeof(rpay), CALL_MS), 0);
	assert_int_equal(resp.seq, 1);
	/* Once the event is queued, a zero wait still collects it. */
	pfd.fd = sc_opsock_fd(f.os);
	pfd.events = POLLIN;
	assert_int_equal(poll(&pfd, 1, CALL_MS), 1);
	assert_int_equal(sc_opsock_wait(f.os, 0), 1);
	assert_int_equal(evlog.n, FLOOD_EVENTS + 1);
	assert_int_equal(evlog.ev[FLOOD_EVENTS].domid, 1000);
	fake_finish(&f);
}

/* ---- connecting by path ---- */

static char tmpdir[128];

static int
setup_tmpdir(void **state)
{
	const char *t = getenv("TMPDIR");

	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "%s/test_opsock.XXXXXX",
	    t != NULL && strlen(t) < 64 ? t : "/tmp");
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int
teardown_tmpdir(void **state)
{
	char p[256];

	(void)state;
	snprintf(p, sizeof(p), "%s/locked/hv.sock", tmpdir);
	(void)unlink(p);
	snprintf(p, sizeof(p), "%s/locked", tmpdir);
	(void)chmod(p, 0700);
	(void)rmdir(p);
	snprintf(p, sizeof(p), "%s/hv.sock", tmpdir);
	(void)unlink(p);
	snprintf(p, sizeof(p), "%s/dead.sock", tmpdir);
	(void)unlink(p);
	return rmdir(tmpdir);
}

static int
listen_at(const char *path, bool do_listen)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	assert_true(strlen(path) < sizeof(sun.sun_path));
	strcpy(sun.sun_path, path);
	(void)unlink(path);
	assert_true((fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)) >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	if (do_listen)
		assert_int_equal(listen(fd, 4), 0);
	return fd;
}

static void
test_connect_path(void **state)
{
	struct sc_opsock *os = (struct sc_opsock *)&os;
	struct sc_op_hdr req, resp;
	uint8_t rpay[16];
	char path[256], longp[200];
	pid_t pid;
	int lfd, cfd, status;

	(void)state;
	/* Too long for sun_path: refused before any system call. */
	memset(longp, 'a', sizeof(longp) - 1);
	longp[0] = '/';
	longp[sizeof(longp) - 1] = '\0';
	assert_int_equal(sc_opsock_connect(longp, NULL, NULL, &os), SC_ERR_TOOLONG);
	assert_null(os);
	assert_int_equal(sc_opsock_connect("", NULL, NULL, &os), SC_ERR_INVAL);

	/* Nothing there. */
	snprintf(path, sizeof(path), "%s/none.sock", tmpdir);
	assert_int_equal(sc_opsock_connect(path, NULL, NULL, &os), SC_ERR_NOTFOUND);
	assert_int_equal(errno, ENOENT);
	/* A socket file nobody listens on (a dead hvsim's). */
	snprintf(path, sizeof(path), "%s/dead.sock", tmpdir);
	close(listen_at(path, false));
	assert_int_equal(sc_opsock_connect(path, NULL, NULL, &os), SC_ERR_NOTFOUND);
	assert_int_equal(errno, ECONNREFUSED);
	/* Not a socket at all. */
	assert_int_equal(sc_opsock_connect(tmpdir, NULL, NULL, &os), SC_ERR_NOTFOUND);

	/* A listening socket; the fake hv answers one GET_INFO. */
	snprintf(path, sizeof(path), "%s/hv.sock", tmpdir);
	lfd = listen_at(path, true);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		alarm(FAKE_ALARM_S);
		CHILD_CHECK((cfd = accept(lfd, NULL, NULL)) >= 0);
		close(lfd);
		script_basic(cfd);
		_exit(0);
	}
	close(lfd);
	assert_int_equal(sc_opsock_connect(path, record_event, &evlog, &os), 0);
	memset(&req, 0, sizeof(req));
	req.op = SC_OP_GET_INFO;
	assert_int_equal(sc_opsock_call(os, &req, NULL, &resp, rpay, sizeof(rpay),
	    CALL_MS), 0);
	assert_int_equal(resp.len, 5);
	assert_memory_equal(rpay, "info!", 5);
	sc_opsock_close(os);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	sc_opsock_close(NULL);
}

/*
 * A socket in a directory we may not search: SC_ERR_PERM, errno EACCES.  As
 * root, the connect runs in a child that has become nobody.
 */
static void
test_connect_perm(void **state)
{
	struct sc_opsock *os;
	char dir[192], path[256];
	pid_t pid;
	int lfd, status;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/locked", tmpdir);
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(path, sizeof(path), "%s/hv.sock", dir);
	lfd = listen_at(path, true);
	assert_int_equal(chmod(dir, 0), 0);
	if (geteuid() != 0) {
		assert_int_equal(sc_opsock_connect(path, NULL, NULL, &os),
		    SC_ERR_PERM);
		assert_int_equal(errno, EACCES);
	} else {
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			alarm(FAKE_ALARM_S);
			CHILD_CHECK(setgid(65534) == 0 && setuid(65534) == 0);
			CHILD_CHECK(sc_opsock_connect(path, NULL, NULL, &os) ==
			    SC_ERR_PERM);
			CHILD_CHECK(errno == EACCES);
			_exit(0);
		}
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	assert_int_equal(chmod(dir, 0700), 0);
	close(lfd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_call_basic),
		cmocka_unit_test(test_events_before_response),
		cmocka_unit_test(test_stray_dropped),
		cmocka_unit_test(test_malformed_dropped),
		cmocka_unit_test(test_oversized_refused),
		cmocka_unit_test(test_timeout_then_late_answer),
		cmocka_unit_test(test_capacity_and_wrong_op),
		cmocka_unit_test(test_peer_closed),
		cmocka_unit_test(test_drain_and_wait),
		cmocka_unit_test(test_connect_path),
		cmocka_unit_test(test_connect_perm),
	};

	/* Debug level, so the drop messages are formatted (and checked by ASan). */
	sc_log_init("test_opsock", SC_LOG_DEBUG, SC_LOG_TO_STDERR);
	return cmocka_run_group_tests_name("opsock", tests, setup_tmpdir,
	    teardown_tmpdir);
}
