/*
 * backend_sim.c — the sim backend: hvsim's ops socket.
 *
 * One SOCK_SEQPACKET connection; each op is one request packet answered by
 * one response packet with the same seq.  Unsolicited SC_OP_EVENT packets
 * (seq 0) may arrive at any time, including while we wait for a response;
 * they are queued.  Everything the socket delivers is validated: hvsim is
 * trusted to be the hypervisor, but a malformed packet must never corrupt
 * the daemon.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/frame.h"
#include "core/ops.h"
#include "log.h"
#include "io.h"
#include "backend.h"
#include "conf.h"

struct sim {
	int		fd;
	uint32_t	seq;
	uint8_t		pkt[SC_OP_MAX];
};

void
sc_bk_push_event(struct sc_backend *bk, uint32_t domid, uint32_t session,
    uint32_t bits)
{
	size_t i;

	for (i = 0; i < bk->evq_len; i++) {
		if (bk->evq[i].domid == domid && bk->evq[i].session == session) {
			bk->evq[i].bits |= bits;
			return;
		}
	}
	if (bk->evq_len == SC_BK_EVENTS_MAX) {
		bk->evq_overflow = true;
		return;
	}
	bk->evq[bk->evq_len].domid = domid;
	bk->evq[bk->evq_len].session = session;
	bk->evq[bk->evq_len].bits = bits;
	bk->evq_len++;
}

int
sc_bk_parse_domains(const uint8_t *pay, size_t len, uint32_t count,
    struct sc_bk_domain *out, size_t max, size_t *n)
{
	struct sc_buf b;
	const uint8_t *name;
	uint32_t i;
	size_t nl;
	int r;

	*n = 0;
	if ((size_t)count * SC_OP_DOMAIN_ENTRY_LEN != len)
		return SC_ERR_FORMAT;
	sc_buf_init_ro(&b, pay, len);
	for (i = 0; i < count; i++) {
		struct sc_bk_domain d;

		memset(&d, 0, sizeof(d));
		if ((r = sc_buf_get_u32_le(&b, &d.domid)) < 0 ||
		    (r = sc_buf_get_bytes(&b, d.uuid, SC_UUID_LEN)) < 0 ||
		    (r = sc_buf_get_view(&b, 64, &name)) < 0 ||
		    (r = sc_buf_get_u32_le(&b, &d.flags)) < 0)
			return r;
		nl = strnlen((const char *)name, 64);
		if (nl > SC_VMNAME_MAX || !sc_vmname_valid((const char *)name, nl)) {
			sc_warn("domain %u has an unusable name; ignored", d.domid);
			continue;
		}
		memcpy(d.name, name, nl);
		d.name[nl] = '\0';
		if (d.domid == 0 || *n == max)
			continue;
		out[(*n)++] = d;
	}
	return 0;
}

static int
sim_open(struct sc_backend *bk, const struct sc_conf *conf)
{
	struct sockaddr_un sun;
	struct sim *s;
	size_t pl = strlen(conf->hv_socket);

	if (pl == 0 || pl >= sizeof(sun.sun_path))
		return SC_ERR_INVAL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return SC_ERR_ALLOC;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, conf->hv_socket, pl);
	s->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s->fd < 0 || connect(s->fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		int e = errno;
		if (s->fd >= 0)
			close(s->fd);
		free(s);
		errno = e;
		return SC_ERR_SYSTEM;
	}
	s->seq = 1;
	bk->priv = s;
	return 0;
}

static void
sim_close(struct sc_backend *bk)
{
	struct sim *s = bk->priv;

	if (s == NULL)
		return;
	close(s->fd);
	free(s);
	bk->priv = NULL;
}

static size_t
sim_pollfds(struct sc_backend *bk, int *fds, size_t max)
{
	struct sim *s = bk->priv;

	if (s == NULL || max < 1)
		return 0;
	fds[0] = s->fd;
	return 1;
}

/*
 * Handle one received packet: queue it if it is an event, return 1 if it is
 * the response to seq (copied out), 0 otherwise.
 */
static int
sim_packet(struct sc_backend *bk, size_t len, uint32_t seq,
    struct sc_op_hdr *resp, uint8_t *rpay)
{
	struct sim *s = bk->priv;
	struct sc_buf b;
	struct sc_op_hdr h;

	sc_buf_init_ro(&b, s->pkt, len);
	if (sc_op_hdr_get(&b, &h) < 0 || h.len != sc_buf_avail(&b)) {
		sc_warn("malformed packet from the hypervisor (%zu bytes) dropped", len);
		return 0;
	}
	if (h.op == SC_OP_EVENT && h.seq == 0) {
		sc_bk_push_event(bk, h.domid, h.session, h.arg);
		return 0;
	}
	if (seq == 0 || h.seq != seq) {
		sc_debug("unexpected response seq %u op %u dropped", h.seq, h.op);
		return 0;
	}
	*resp = h;
	memcpy(rpay, sc_buf_rptr(&b), h.len);
	return 1;
}

static int
sim_recv_one(struct sim *s, size_t *len)
{
	ssize_t r;

	r = recv(s->fd, s->pkt, sizeof(s->pkt), MSG_DONTWAIT | MSG_TRUNC);
	if (r < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return SC_ERR_AGAIN;
		return SC_ERR_SYSTEM;
	}
	if (r == 0)
		return SC_ERR_EOF;
	if ((size_t)r > sizeof(s->pkt)) {
		sc_warn("oversized packet from the hypervisor dropped");
		*len = 0;
		return 0;
	}
	*len = (size_t)r;
	return 0;
}

static int
sim_dispatch(struct sc_backend *bk)
{
	struct sim *s = bk->priv;
	size_t len;
	int r, n;

	for (n = 0; n < 256; n++) {
		if ((r = sim_recv_one(s, &len)) == SC_ERR_AGAIN)
			return 0;
		if (r < 0)
			return r;
		if (len > 0)
			(void)sim_packet(bk, len, 0, NULL, NULL);
	}
	return 0;
}

static int
sim_call(struct sc_backend *bk, struct sc_op_hdr *req, const uint8_t *payload,
    struct sc_op_hdr *resp, uint8_t *rpay)
{
	struct sim *s = bk->priv;
	struct sc_buf b;
	struct pollfd pfd;
	unsigned long long deadline;
	size_t len;
	ssize_t w;
	int r;

	if (s == NULL)
		return SC_ERR_STATE;
	req->magic = SC_OPS_MAGIC;
	req->version = SC_OPS_VERSION;
	req->status = 0;
	req->seq = s->seq++;
	if (s->seq == 0)
		s->seq = 1;
	sc_buf_init(&b, s->pkt, sizeof(s->pkt));
	if ((r = sc_op_hdr_put(&b, req)) < 0 ||
	    (req->len > 0 && (r = sc_buf_put_bytes(&b, payload, req->len)) < 0))
		return r;
	do {
		w = send(s->fd, s->pkt, b.len, MSG_NOSIGNAL);
	} while (w < 0 && errno == EINTR);
	if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
		pfd.fd = s->fd;
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, SC_BK_CALL_TIMEOUT_MS) <= 0)
			return SC_ERR_TIMEOUT;
		w = send(s->fd, s->pkt, b.len, MSG_NOSIGNAL);
	}
	if (w < 0)
		return SC_ERR_SYSTEM;
	if ((size_t)w != b.len)
		return SC_ERR_SYSTEM;

	deadline = sc_now_ms() + SC_BK_CALL_TIMEOUT_MS;
	for (;;) {
		r = sim_recv_one(s, &len);
		if (r == 0) {
			if (len > 0 && sim_packet(bk, len, req->seq, resp, rpay) == 1)
				return 0;
			continue;
		}
		if (r != SC_ERR_AGAIN)
			return r;
		unsigned long long now = sc_now_ms();
		if (now >= deadline)
			return SC_ERR_TIMEOUT;
		pfd.fd = s->fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, (int)(deadline - now)) < 0 && errno != EINTR)
			return SC_ERR_SYSTEM;
	}
}

static int
sim_list_domains(struct sc_backend *bk, struct sc_bk_domain *out, size_t max,
    size_t *n)
{
	struct sc_op_hdr req, resp;
	uint8_t *pay;
	int r;

	*n = 0;
	if ((pay = malloc(SC_OP_PAYLOAD_MAX)) == NULL)
		return SC_ERR_ALLOC;
	memset(&req, 0, sizeof(req));
	req.op = SC_OP_LIST_DOMAINS;
	if ((r = sim_call(bk, &req, NULL, &resp, pay)) == 0) {
		if (resp.status < 0)
			r = resp.status;
		else
			r = sc_bk_parse_domains(pay, resp.len, resp.arg, out, max, n);
	}
	free(pay);
	return r;
}

const struct sc_backend_ops sc_backend_sim_ops = {
	.name = "sim",
	.open = sim_open,
	.close = sim_close,
	.pollfds = sim_pollfds,
	.dispatch = sim_dispatch,
	.call = sim_call,
	.list_domains = sim_list_domains,
};
