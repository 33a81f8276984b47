/*
 * clients.c — sccrypt-hvsim's ops clients (sim.h): each request packet goes
 * to sc_hv_dispatch and its response back; the hv's events are queued
 * while an op or a guest event runs and sent to every client after it.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sodium.h>

#include "core/err.h"
#include "core/buf.h"
#include "core/ops.h"
#include "hv/core/hv.h"
#include "log.h"
#include "sim.h"

#define SEND_WAIT_MS	1000

void
hook_dom0(void *arg, uint32_t domid, uint32_t session, uint32_t events)
{
	unsigned i;

	(void)arg;
	for (i = 0; i < hvsim.nev; i++)
		if (hvsim.evq[i].domid == domid && hvsim.evq[i].session == session) {
			hvsim.evq[i].bits |= events;
			return;
		}
	if (hvsim.nev == EVQ_MAX) {
		hvsim.ev_overflow = true;
		return;
	}
	hvsim.evq[hvsim.nev].domid = domid;
	hvsim.evq[hvsim.nev].session = session;
	hvsim.evq[hvsim.nev].bits = events;
	hvsim.nev++;
}

void
client_close(struct client *c, const char *why)
{
	if (c->fd < 0)
		return;
	sc_verbose("ops client (uid %ld) disconnected: %s", (long)c->uid, why);
	close(c->fd);
	c->fd = -1;
}

/*
 * Responses may wait up to SEND_WAIT_MS for room; events never wait (a
 * full socket gives SC_ERR_AGAIN and the caller owes the client a LOST
 * event): a slow client must not stall every domain, nor lose its
 * connection for a burst of events.
 */
static int
client_send(struct client *c, const void *p, size_t n, bool wait)
{
	struct pollfd pfd;
	ssize_t w;

	for (;;) {
		w = send(c->fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w == (ssize_t)n)
			return 0;
		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (!wait)
				return SC_ERR_AGAIN;
			pfd.fd = c->fd;
			pfd.events = POLLOUT;
			if (poll(&pfd, 1, SEND_WAIT_MS) == 1)
				continue;
			client_close(c, "not reading (send timeout)");
			return SC_ERR_TIMEOUT;
		}
		client_close(c, w == -1 ? strerror(errno) : "short send");
		return SC_ERR_SYSTEM;
	}
}

static void
client_watch_out(struct client *c, bool on)
{
	struct epoll_event e;

	memset(&e, 0, sizeof(e));
	e.events = EPOLLIN | (on ? EPOLLOUT : 0);
	e.data.u64 = EP_KEY(EP_CLIENT, (unsigned)(c - hvsim.cl));
	if (epoll_ctl(hvsim.epfd, EPOLL_CTL_MOD, c->fd, &e) == -1)
		client_close(c, "epoll");
}

/*
 * One event to one client.  If its socket is full the event is dropped and
 * the client is owed SC_EV_LOST, sent (after everything it dropped) once
 * the socket has room again; nothing else is queued for it meanwhile.
 */
static void
client_event(struct client *c, uint32_t domid, uint32_t session, uint32_t bits)
{
	struct sc_op_hdr h;
	uint8_t pkt[SC_OP_HDR_LEN];
	struct sc_buf b;

	if (c->fd < 0 || c->owes_lost)
		return;
	sc_op_hdr_init(&h, SC_OP_EVENT, domid, session, bits, 0);
	sc_buf_init(&b, pkt, sizeof(pkt));
	if (sc_op_hdr_put(&b, &h) != 0)
		return;
	if (client_send(c, pkt, sizeof(pkt), false) == SC_ERR_AGAIN &&
	    c->fd >= 0) {
		sc_verbose("ops client (uid %ld) not keeping up with events: "
		    "owed a LOST event", (long)c->uid);
		c->owes_lost = true;
		client_watch_out(c, true);
	}
}

/* The client's socket has room: pay the LOST event it is owed. */
void
client_writable(struct client *c)
{
	if (!c->owes_lost)
		return;
	c->owes_lost = false;
	client_event(c, 0, 0, SC_EV_LOST);
	if (!c->owes_lost && c->fd >= 0)
		client_watch_out(c, false);
}

void
flush_events(void)
{
	unsigned i, j;

	if (hvsim.ev_overflow) {
		/* Too many distinct events: one LOST says "look at everything". */
		hvsim.nev = 0;
		hvsim.ev_overflow = false;
		for (j = 0; j < MAX_CLIENTS; j++)
			client_event(&hvsim.cl[j], 0, 0, SC_EV_LOST);
	}
	for (i = 0; i < hvsim.nev; i++)
		for (j = 0; j < MAX_CLIENTS; j++)
			client_event(&hvsim.cl[j], hvsim.evq[i].domid, hvsim.evq[i].session,
			    hvsim.evq[i].bits);
	hvsim.nev = 0;
}

void
client_accept(void)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int fd, i;

	if ((fd = accept4(hvsim.lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK)) == -1) {
		if (errno != EAGAIN && errno != EINTR)
			sc_warn("accept: %s", strerror(errno));
		return;
	}
	for (i = 0; i < MAX_CLIENTS; i++)
		if (hvsim.cl[i].fd < 0)
			break;
	if (i == MAX_CLIENTS) {
		sc_warn("ops socket: too many clients, refusing one");
		close(fd);
		return;
	}
	if (ep_add(fd, EP_KEY(EP_CLIENT, i)) != 0) {
		sc_warn("ops socket: epoll: %s", strerror(errno));
		close(fd);
		return;
	}
	hvsim.cl[i].fd = fd;
	hvsim.cl[i].uid = (uid_t)-1;
	hvsim.cl[i].owes_lost = false;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0)
		hvsim.cl[i].uid = cred.uid;
	sc_verbose("ops client connected (uid %ld)", (long)hvsim.cl[i].uid);
}

void
client_request(struct client *c)
{
	size_t rlen;
	ssize_t n;

	n = recv(c->fd, hvsim.req, sizeof(hvsim.req), MSG_DONTWAIT);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		client_close(c, n == 0 ? "end of connection" : strerror(errno));
		return;
	}
	/*
	 * A packet over SC_OP_MAX arrives truncated to SC_OP_MAX + 1 bytes;
	 * the dispatcher refuses it like any other malformed op.
	 */
	if (sc_hv_dispatch(hvsim.hv, hvsim.req, (size_t)n, hvsim.resp, sizeof(hvsim.resp), &rlen) != 0) {
		client_close(c, "internal error");
		return;
	}
	sodium_memzero(hvsim.req, (size_t)n);
	(void)client_send(c, hvsim.resp, rlen, true);
}
