/*
 * opsock.c — the user-space client of the hv ops socket (opsock.h).
 *
 * One connection = one non-blocking SOCK_SEQPACKET socket, a send buffer and
 * a receive buffer of SC_OPSOCK_PKT_MAX bytes each (separate, because events
 * are drained while a request waits to be sent).  Waiting is always poll()
 * against an absolute deadline on the monotonic clock, so EINTR and
 * spurious wake-ups only ever shorten the remaining wait.
 *
 * Wire bytes are only looked at through sc_buf and sc_op_hdr_get().
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/ops.h"
#include "io.h"
#include "log.h"
#include "opsock.h"

struct sc_opsock {
	int			 fd;
	uint32_t		 next_seq;	/* never 0: seq 0 marks events */
	sc_opsock_event_fn	*on_event;
	void			*on_event_arg;
	sc_opsock_tap_fn	*tap;
	void			*tap_arg;
	uint8_t			 tx[SC_OPSOCK_PKT_MAX];
	uint8_t			 rx[SC_OPSOCK_PKT_MAX];
};

/* What one received packet turned out to be. */
enum pkt_kind {
	PKT_DROP,		/* malformed, oversized or stray: logged, ignored */
	PKT_EVENT,		/* an EVENT: hand to the callback */
	PKT_RESPONSE,		/* the response awaited */
};

static int
connect_errno_code(int e)
{
	switch (e) {
	case ENOENT:
	case ECONNREFUSED:
		return SC_ERR_NOTFOUND;
	case EACCES:
	case EPERM:
		return SC_ERR_PERM;
	default:
		return SC_ERR_SYSTEM;
	}
}

static int
opsock_new(int fd, sc_opsock_event_fn *on_event, void *on_event_arg,
    struct sc_opsock **out)
{
	struct sc_opsock *os;

	if ((os = calloc(1, sizeof(*os))) == NULL)
		return SC_ERR_ALLOC;
	os->fd = fd;
	os->next_seq = 1;
	os->on_event = on_event;
	os->on_event_arg = on_event_arg;
	*out = os;
	return 0;
}

int
sc_opsock_connect(const char *path, sc_opsock_event_fn *on_event,
    void *on_event_arg, struct sc_opsock **out)
{
	struct sockaddr_un sun;
	size_t pl;
	int fd, r, e;

	*out = NULL;
	if (path == NULL || (pl = strlen(path)) == 0)
		return SC_ERR_INVAL;
	memset(&sun, 0, sizeof(sun));
	if (pl >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return SC_ERR_TOOLONG;
	}
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, pl);
	/*
	 * Non-blocking from the start: a connect to a listener whose backlog
	 * is full fails (EAGAIN, SC_ERR_SYSTEM) instead of stalling a daemon.
	 */
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return SC_ERR_SYSTEM;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		e = errno;
		close(fd);
		errno = e;
		return connect_errno_code(e);
	}
	if ((r = opsock_new(fd, on_event, on_event_arg, out)) < 0) {
		close(fd);
		errno = ENOMEM;
	}
	return r;
}

int
sc_opsock_adopt(int fd, sc_opsock_event_fn *on_event, void *on_event_arg,
    struct sc_opsock **out)
{
	int r;

	*out = NULL;
	if (fd < 0)
		return SC_ERR_INVAL;
	if ((r = sc_set_nonblock(fd, 1)) < 0 ||
	    (r = opsock_new(fd, on_event, on_event_arg, out)) < 0)
		close(fd);
	return r;
}

void
sc_opsock_close(struct sc_opsock *os)
{
	if (os == NULL)
		return;
	close(os->fd);
	free(os);
}

int
sc_opsock_fd(const struct sc_opsock *os)
{
	return os->fd;
}

void
sc_opsock_set_tap(struct sc_opsock *os, sc_opsock_tap_fn *tap, void *tap_arg)
{
	os->tap = tap;
	os->tap_arg = tap_arg;
}

/* The next request id: 1, 2, ... 0xffffffff, 1, ... (0 is the events'). */
static uint32_t
next_seq(struct sc_opsock *os)
{
	uint32_t seq = os->next_seq++;

	if (os->next_seq == 0)
		os->next_seq = 1;
	return seq;
}

/*
 * poll() for events until deadline (sc_now_ms() time).  Returns the revents
 * (> 0), SC_ERR_TIMEOUT once the deadline has passed, 0 when interrupted
 * by a signal (the caller just tries again), or SC_ERR_SYSTEM.
 */
static int
wait_until(struct sc_opsock *os, short events, unsigned long long deadline)
{
	struct pollfd pfd;
	unsigned long long now = sc_now_ms();
	int r;

	if (now >= deadline)
		return SC_ERR_TIMEOUT;
	pfd.fd = os->fd;
	pfd.events = events;
	pfd.revents = 0;
	r = poll(&pfd, 1, (int)SC_MIN(deadline - now, (unsigned long long)INT_MAX));
	if (r < 0)
		return errno == EINTR ? 0 : SC_ERR_SYSTEM;
	if (r == 0)
		return SC_ERR_TIMEOUT;
	return pfd.revents;
}

/*
 * Receive one packet into os->rx without blocking.  0 with *n its length
 * (*n = 0: an oversized packet was read and dropped), SC_ERR_AGAIN when
 * none is queued, SC_ERR_EOF when the hv has gone, or SC_ERR_SYSTEM.
 * (A zero-length packet is indistinguishable from the end of the stream
 * here; the hv never sends one.)
 */
static int
recv_one(struct sc_opsock *os, size_t *n)
{
	ssize_t r;

	*n = 0;
	do {
		r = recv(os->fd, os->rx, sizeof(os->rx), MSG_DONTWAIT | MSG_TRUNC);
	} while (r < 0 && errno == EINTR);
	if (r < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return SC_ERR_AGAIN;
		return errno == ECONNRESET ? SC_ERR_EOF : SC_ERR_SYSTEM;
	}
	if (r == 0)
		return SC_ERR_EOF;
	if (os->tap != NULL)
		os->tap(os->tap_arg, SC_OPSOCK_TAP_RECEIVED, os->rx,
		    SC_MIN((size_t)r, sizeof(os->rx)));
	if ((size_t)r > sizeof(os->rx)) {
		/* MSG_TRUNC: r is the real size; the rest is already gone. */
		sc_warn("oversized packet from the hypervisor (%zd bytes) dropped",
		    r);
		return 0;
	}
	*n = (size_t)r;
	return 0;
}

/*
 * Classify the n-byte packet in os->rx.  want is the seq of the response
 * awaited (0: none).  For PKT_EVENT and PKT_RESPONSE, *h is the header; for
 * PKT_RESPONSE, *payload is a read-only view of its h->len payload bytes
 * (valid until the next receive).  Everything else is logged and dropped.
 */
static enum pkt_kind
classify(struct sc_opsock *os, size_t n, uint32_t want, struct sc_op_hdr *h,
    struct sc_buf *payload)
{
	struct sc_buf b;
	int r;

	if (n == 0)
		return PKT_DROP;	/* oversized, already reported */
	sc_buf_init_ro(&b, os->rx, n);
	if ((r = sc_op_hdr_get(&b, h)) < 0 || h->len != sc_buf_avail(&b)) {
		sc_warn("malformed packet from the hypervisor (%zu bytes) dropped: %s",
		    n, sc_err(r < 0 ? r : SC_ERR_FORMAT));
		return PKT_DROP;
	}
	if (h->op == SC_OP_EVENT) {
		if (h->seq != 0 || h->len != 0) {
			sc_warn("malformed event from the hypervisor (seq %u, "
			    "%u payload bytes) dropped", h->seq, h->len);
			return PKT_DROP;
		}
		return PKT_EVENT;
	}
	if (want == 0 || h->seq != want) {
		sc_debug("unexpected response seq %u op %u dropped", h->seq, h->op);
		return PKT_DROP;
	}
	if (sc_buf_get_sub(&b, h->len, payload) < 0)
		return PKT_DROP;	/* cannot happen: len == avail */
	return PKT_RESPONSE;
}

static void
deliver_event(struct sc_opsock *os, const struct sc_op_hdr *h)
{
	if (os->on_event != NULL)
		os->on_event(os->on_event_arg, h);
}

int
sc_opsock_drain(struct sc_opsock *os)
{
	struct sc_op_hdr h;
	struct sc_buf pl;
	size_t n;
	int count, r;

	for (count = 0; count < SC_OPSOCK_DRAIN_MAX; count++) {
		if ((r = recv_one(os, &n)) == SC_ERR_AGAIN)
			break;
		if (r < 0)
			return r;
		if (classify(os, n, 0, &h, &pl) == PKT_EVENT)
			deliver_event(os, &h);
	}
	return count;
}

int
sc_opsock_wait(struct sc_opsock *os, unsigned int timeout_ms)
{
	struct pollfd pfd;
	int r;

	pfd.fd = os->fd;
	pfd.events = POLLIN;
	pfd.revents = 0;
	r = poll(&pfd, 1, (int)SC_MIN(timeout_ms, (unsigned int)INT_MAX));
	if (r < 0)
		return errno == EINTR ? 0 : SC_ERR_SYSTEM;
	if (r == 0)
		return 0;
	return sc_opsock_drain(os);	/* also on POLLHUP: it reports the EOF */
}

/*
 * Send the len-byte request in os->tx as one packet.  When the socket is
 * full, wait for room until deadline, draining what the hv sends meanwhile
 * (it may be blocked on us reading).
 */
static int
send_pkt(struct sc_opsock *os, size_t len, unsigned long long deadline)
{
	ssize_t w;
	int r;

	if (os->tap != NULL)
		os->tap(os->tap_arg, SC_OPSOCK_TAP_SENT, os->tx, len);
	for (;;) {
		w = send(os->fd, os->tx, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w >= 0)	/* SOCK_SEQPACKET: all or nothing */
			return (size_t)w == len ? 0 : SC_ERR_SYSTEM;
		if (errno == EINTR)
			continue;
		if (errno == EPIPE || errno == ECONNRESET)
			return SC_ERR_EOF;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return SC_ERR_SYSTEM;
		if ((r = wait_until(os, POLLOUT | POLLIN, deadline)) < 0)
			return r;
		if ((r & POLLIN) != 0 && (r = sc_opsock_drain(os)) < 0)
			return r;
	}
}

int
sc_opsock_call(struct sc_opsock *os, struct sc_op_hdr *req,
    const void *payload, struct sc_op_hdr *resp, void *rpay, size_t rcap,
    unsigned int timeout_ms)
{
	unsigned long long deadline = sc_now_ms() + timeout_ms;
	struct sc_op_hdr h;
	struct sc_buf b, pl;
	size_t n;
	int r;

	if (req->len > 0 && payload == NULL)
		return SC_ERR_INVAL;
	if (req->len > SC_OP_PAYLOAD_MAX)
		return SC_ERR_TOOLONG;
	req->magic = SC_OPS_MAGIC;
	req->version = SC_OPS_VERSION;
	req->status = 0;
	req->seq = next_seq(os);
	sc_buf_init(&b, os->tx, sizeof(os->tx));
	if ((r = sc_op_hdr_put(&b, req)) < 0 ||
	    (req->len > 0 && (r = sc_buf_put_bytes(&b, payload, req->len)) < 0))
		return r;
	if ((r = send_pkt(os, b.len, deadline)) < 0)
		return r;

	for (;;) {
		r = recv_one(os, &n);
		if (r == SC_ERR_AGAIN) {
			if ((r = wait_until(os, POLLIN, deadline)) < 0)
				return r;
			continue;
		}
		if (r < 0)
			return r;
		switch (classify(os, n, req->seq, &h, &pl)) {
		case PKT_RESPONSE:
			*resp = h;
			if (h.op != req->op) {
				sc_warn("the hypervisor answered op %u with op %u",
				    req->op, h.op);
				return SC_ERR_TYPE;
			}
			if (h.len > rcap)
				return SC_ERR_NOSPACE;
			if (h.len > 0 && sc_buf_get_bytes(&pl, rpay, h.len) < 0)
				return SC_ERR_INTERNAL;
			return 0;
		case PKT_EVENT:
			deliver_event(os, &h);
			break;
		case PKT_DROP:
			break;
		}
		/* A flood of other packets must not outlast the deadline. */
		if (sc_now_ms() >= deadline)
			return SC_ERR_TIMEOUT;
	}
}
