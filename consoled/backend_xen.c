/*
 * backend_xen.c — sccrypt-consoled on a real Xen host (see backend_xen.h
 * for the hypercall contract with the SCCrypt Xen patch).
 *
 * Ops: one hypercall buffer (locked, from libxencall) holds the request and,
 * after the call, the response.  Events: a VIRQ bound with libxenevtchn
 * says "the hv queued events"; they are fetched with SC_OP_EVENT requests.
 * Domains: xenstore, with @introduceDomain/@releaseDomain watches.
 * Everything read from xenstore is validated like any untrusted input:
 * xenstore is writable by the toolstack and, for parts, by guests.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/frame.h"
#include "core/ops.h"
#include "log.h"
#include "backend.h"
#include "backend_xen.h"
#include "conf.h"
#include "encode.h"

#define WATCH_TOKEN	"sccrypt-consoled"

struct xen {
	const struct sc_xen_sys *sys;
	void		*xc, *xce, *xs;
	uint8_t		*buf;		/* hypercall buffer, SC_OP_MAX bytes */
	int		 port;		/* bound VIRQ port */
	uint32_t	 seq;
};

static const struct sc_xen_sys *override;

void
sc_backend_xen_use(const struct sc_xen_sys *sys)
{
	override = sys;
}

static void
xen_close(struct sc_backend *bk)
{
	struct xen *x = bk->priv;

	if (x == NULL)
		return;
	if (x->buf != NULL)
		x->sys->call_free(x->xc, x->buf);
	if (x->xc != NULL)
		x->sys->call_close(x->xc);
	if (x->xce != NULL)
		x->sys->ev_close(x->xce);
	if (x->xs != NULL)
		x->sys->xs_close(x->xs);
	free(x);
	bk->priv = NULL;
}

static int
xen_open(struct sc_backend *bk, const struct sc_conf *conf)
{
	struct xen *x;

	(void)conf;
	if ((x = calloc(1, sizeof(*x))) == NULL)
		return SC_ERR_ALLOC;
	x->sys = override != NULL ? override : &sc_xen_sys_real;
	x->seq = 1;
	x->port = -1;
	bk->priv = x;
	if ((x->xc = x->sys->call_open()) == NULL) {
		sc_error("cannot open the hypercall interface (privcmd): %s",
		    strerror(errno));
		goto fail;
	}
	if ((x->buf = x->sys->call_alloc(x->xc, SC_OP_MAX)) == NULL) {
		sc_error("cannot allocate a hypercall buffer");
		goto fail;
	}
	if ((x->xce = x->sys->ev_open()) == NULL ||
	    (x->port = x->sys->ev_bind_virq(x->xce, SC_XEN_VIRQ)) < 0) {
		sc_error("cannot bind the SCCrypt VIRQ %d (hypervisor without "
		    "SCCrypt?)", SC_XEN_VIRQ);
		goto fail;
	}
	if ((x->xs = x->sys->xs_open()) == NULL ||
	    !x->sys->xs_watch(x->xs, "@introduceDomain", WATCH_TOKEN) ||
	    !x->sys->xs_watch(x->xs, "@releaseDomain", WATCH_TOKEN)) {
		sc_error("cannot open or watch xenstore");
		goto fail;
	}
	return 0;
fail:
	xen_close(bk);
	return SC_ERR_SYSTEM;
}

static size_t
xen_pollfds(struct sc_backend *bk, int *fds, size_t max)
{
	struct xen *x = bk->priv;
	size_t n = 0;

	if (x == NULL || max < 2)
		return 0;
	fds[n++] = x->sys->ev_fd(x->xce);
	fds[n++] = x->sys->xs_fileno(x->xs);
	return n;
}

static int
xen_call(struct sc_backend *bk, struct sc_op_hdr *req, const uint8_t *payload,
    struct sc_op_hdr *resp, uint8_t *rpay)
{
	struct xen *x = bk->priv;
	struct sc_buf b;
	struct sc_op_hdr h;
	int r;

	if (x == NULL)
		return SC_ERR_STATE;
	req->magic = SC_OPS_MAGIC;
	req->version = SC_OPS_VERSION;
	req->status = 0;
	req->seq = x->seq++;
	if (x->seq == 0)
		x->seq = 1;
	sc_buf_init(&b, x->buf, SC_OP_MAX);
	if ((r = sc_op_hdr_put(&b, req)) < 0 ||
	    (req->len > 0 && (r = sc_buf_put_bytes(&b, payload, req->len)) < 0))
		return r;
	r = x->sys->call3(x->xc, SC_XEN_HYPERCALL, SC_XEN_OP_CALL,
	    (uint64_t)(uintptr_t)x->buf, SC_OP_MAX);
	if (r < 0) {
		if (errno == ENOSYS)
			return SC_ERR_UNSUPPORTED;
		return SC_ERR_SYSTEM;
	}
	sc_buf_init_ro(&b, x->buf, SC_OP_MAX);
	if (sc_op_hdr_get(&b, &h) < 0 || h.seq != req->seq || h.op != req->op ||
	    h.len > SC_OP_PAYLOAD_MAX) {
		sc_error("malformed response from the hypervisor");
		return SC_ERR_FORMAT;
	}
	*resp = h;
	memcpy(rpay, sc_buf_rptr(&b), h.len);
	return 0;
}

/* Fetch queued hv events (SC_OP_EVENT requests) into bk->evq. */
static int
fetch_events(struct sc_backend *bk)
{
	static uint8_t pay[SC_OP_PAYLOAD_MAX];
	struct sc_op_hdr req, resp;
	int i, r;

	for (i = 0; i < SC_XEN_EVENTS_PER_IRQ; i++) {
		sc_op_hdr_init(&req, SC_OP_EVENT, 0, 0, 0, 0);
		if ((r = xen_call(bk, &req, NULL, &resp, pay)) < 0)
			return r;
		if (resp.status == SC_ERR_AGAIN)
			return 0;
		if (resp.status < 0)
			return 0;	/* an hv that cannot queue events: nothing to do */
		sc_bk_push_event(bk, resp.domid, resp.session, resp.arg);
	}
	/* More than one batch pending: make sure nothing is missed. */
	bk->evq_overflow = true;
	return 0;
}

static int
xen_dispatch(struct sc_backend *bk)
{
	struct xen *x = bk->priv;
	char **w;
	int port, n, r;

	if (x == NULL)
		return SC_ERR_STATE;
	for (n = 0; n < 64; n++) {
		port = x->sys->ev_pending(x->xce);
		if (port < 0)
			break;
		if (port == x->port && (r = fetch_events(bk)) < 0)
			return r;
		(void)x->sys->ev_unmask(x->xce, (unsigned int)port);
	}
	for (n = 0; n < 64 && (w = x->sys->xs_check_watch(x->xs)) != NULL; n++) {
		/* Either watch: the set of domains changed; rescan. */
		sc_bk_push_event(bk, 0, 0, SC_EV_DOMAIN_ADDED);
		free(w);
	}
	return 0;
}

static bool
domid_word(const char *s, uint32_t *out)
{
	unsigned long v = 0;
	size_t i, n = strlen(s);

	if (n == 0 || n > 5 || (n > 1 && s[0] == '0'))
		return false;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v >= 0x7ff0)	/* DOMID_FIRST_RESERVED */
		return false;
	*out = (uint32_t)v;
	return true;
}

static int
xen_list_domains(struct sc_backend *bk, struct sc_bk_domain *out, size_t max,
    size_t *n)
{
	struct xen *x = bk->priv;
	struct sc_op_hdr req, resp;
	static uint8_t pay[SC_OP_PAYLOAD_MAX];
	char path[64], **ids;
	unsigned int num = 0, i, len;
	char *name, *vm;
	int r;

	*n = 0;
	if (x == NULL)
		return SC_ERR_STATE;
	if ((ids = x->sys->xs_directory(x->xs, "/local/domain", &num)) == NULL)
		return SC_ERR_SYSTEM;
	for (i = 0; i < num && *n < max; i++) {
		struct sc_bk_domain d;

		memset(&d, 0, sizeof(d));
		if (!domid_word(ids[i], &d.domid) || d.domid == 0)
			continue;
		snprintf(path, sizeof(path), "/local/domain/%u/name", d.domid);
		name = x->sys->xs_read(x->xs, path, &len);
		if (name == NULL || len == 0 || len > SC_VMNAME_MAX ||
		    !sc_vmname_valid(name, len)) {
			if (name != NULL)
				sc_warn("domain %u has an unusable name; ignored", d.domid);
			free(name);
			continue;
		}
		memcpy(d.name, name, len);
		free(name);
		snprintf(path, sizeof(path), "/local/domain/%u/vm", d.domid);
		vm = x->sys->xs_read(x->xs, path, &len);
		if (vm == NULL || sc_uuid_parse_tail(vm, len, d.uuid) < 0) {
			sc_warn("domain %u (%s) has no usable UUID; ignored", d.domid,
			    d.name);
			free(vm);
			continue;
		}
		free(vm);
		d.flags = SC_DOM_F_RUNNING;
		sc_op_hdr_init(&req, SC_OP_STATUS, d.domid, 0, 0, 0);
		if ((r = xen_call(bk, &req, NULL, &resp, pay)) < 0) {
			free(ids);
			return r;
		}
		if (resp.status == 0 && resp.len >= 4)
			d.flags = (uint32_t)pay[0] | (uint32_t)pay[1] << 8 |
			    (uint32_t)pay[2] << 16 | (uint32_t)pay[3] << 24;
		out[(*n)++] = d;
	}
	free(ids);
	return 0;
}

const struct sc_backend_ops sc_backend_xen_ops = {
	.name = "xen",
	.open = xen_open,
	.close = xen_close,
	.pollfds = xen_pollfds,
	.dispatch = xen_dispatch,
	.call = xen_call,
	.list_domains = xen_list_domains,
};
