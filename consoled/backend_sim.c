/*
 * backend_sim.c — the sim backend: hvsim's ops socket.
 *
 * One SOCK_SEQPACKET connection through lib/opsock.c: each op is one
 * request packet answered by one response packet with the same seq.
 * Unsolicited SC_OP_EVENT packets (seq 0) may arrive at any time, including
 * while we wait for a response; they are queued with sc_bk_push_event().
 * Everything the socket delivers is validated there: hvsim is trusted to be
 * the hypervisor, but a malformed packet must never corrupt the daemon.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/ops.h"
#include "opsock.h"
#include "backend.h"
#include "conf.h"

/* Events from the ops socket go onto the backend's queue. */
static void
sim_event(void *arg, const struct sc_op_hdr *ev)
{
	sc_bk_push_event(arg, ev->domid, ev->session, ev->arg);
}

static int
sim_open(struct sc_backend *bk, const struct sc_conf *conf)
{
	struct sc_opsock *os;
	int r;

	if ((r = sc_opsock_connect(conf->hv_socket, sim_event, bk, &os)) < 0)
		return r;
	bk->priv = os;
	return 0;
}

static void
sim_close(struct sc_backend *bk)
{
	sc_opsock_close(bk->priv);
	bk->priv = NULL;
}

static size_t
sim_pollfds(struct sc_backend *bk, int *fds, size_t max)
{
	if (bk->priv == NULL || max < 1)
		return 0;
	fds[0] = sc_opsock_fd(bk->priv);
	return 1;
}

static int
sim_dispatch(struct sc_backend *bk)
{
	int r;

	if (bk->priv == NULL)
		return SC_ERR_STATE;
	if ((r = sc_opsock_drain(bk->priv)) < 0)
		return r;
	return 0;
}

/* rpay has room for SC_OP_PAYLOAD_MAX bytes (backend.h). */
static int
sim_call(struct sc_backend *bk, struct sc_op_hdr *req, const uint8_t *payload,
    struct sc_op_hdr *resp, uint8_t *rpay)
{
	if (bk->priv == NULL)
		return SC_ERR_STATE;
	return sc_opsock_call(bk->priv, req, payload, resp, rpay,
	    SC_OP_PAYLOAD_MAX, SC_BK_CALL_TIMEOUT_MS);
}

static int
sim_list_domains(struct sc_backend *bk, struct sc_bk_domain *out, size_t max,
    size_t *n)
{
	struct sc_op_hdr req, resp;
	uint8_t *pay;
	size_t base, got, i, k;
	uint32_t first = 0;
	int r;

	*n = 0;
	if ((pay = malloc(SC_OP_PAYLOAD_MAX)) == NULL)
		return SC_ERR_ALLOC;
	/*
	 * Page through the listing (PROTOCOL.md §8.2).  It is not a snapshot:
	 * a domain that moves between pages can show up twice (kept once) or
	 * be missed until the next listing, which its DOMAIN_ADDED brings.
	 */
	for (;;) {
		sc_op_hdr_init(&req, SC_OP_LIST_DOMAINS, 0, 0, first, 0);
		if ((r = sim_call(bk, &req, NULL, &resp, pay)) != 0)
			break;
		if ((r = resp.status) < 0)
			break;
		if (resp.arg > SC_OP_LIST_PAGE) {
			r = SC_ERR_FORMAT;
			break;
		}
		base = *n;
		if ((r = sc_bk_parse_domains(pay, resp.len, resp.arg, out + base,
		    max - base, &got)) != 0)
			break;
		/* Keep the page's new domids, compacted (*n <= base + i). */
		for (i = 0; i < got; i++) {
			for (k = 0; k < *n; k++)
				if (out[k].domid == out[base + i].domid)
					break;
			if (k < *n)
				continue;
			if (*n != base + i)
				out[*n] = out[base + i];
			(*n)++;
		}
		if (resp.arg < SC_OP_LIST_PAGE || *n == max)
			break;
		first += resp.arg;
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
