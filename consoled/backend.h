/*
 * backend.h — how sccrypt-consoled reaches the hypervisor.
 *
 * Every backend transports the same ops (core/ops.h): one request header +
 * payload in, one response header + payload out, synchronously, like a
 * hypercall.  Backends differ in how domains are discovered and how events
 * arrive:
 *
 *   sim  hvsim's ops socket (AF_UNIX SOCK_SEQPACKET): LIST_DOMAINS for
 *        discovery, unsolicited SC_OP_EVENT packets for events.
 *   xen  libxencall (ops through a hypercall buffer), libxenstore (domains,
 *        names, UUIDs; @introduceDomain/@releaseDomain watches),
 *        libxenevtchn (a VIRQ that says "events pending").
 *
 * A backend reports events by pushing them onto bk->evq.  Transport failures
 * (not hv statuses) are returned as negative codes from call(): the daemon
 * then treats the hypervisor as gone and reconnects.
 */
#ifndef SC_CONSOLED_BACKEND_H
#define SC_CONSOLED_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/ops.h"
#include "core/wire.h"

struct sc_conf;

#define SC_BK_EVENTS_MAX	512
#define SC_BK_FDS_MAX		4
#define SC_BK_DOMAINS_MAX	1024
#define SC_BK_CALL_TIMEOUT_MS	5000

struct sc_bk_domain {
	uint32_t	domid;
	uint8_t		uuid[SC_UUID_LEN];
	char		name[SC_VMNAME_MAX + 1];
	uint32_t	flags;		/* SC_DOM_F_* */
};

struct sc_bk_event {
	uint32_t	domid;
	uint32_t	session;
	uint32_t	bits;		/* SC_EV_* */
};

struct sc_backend;

struct sc_backend_ops {
	const char *name;
	int	(*open)(struct sc_backend *bk, const struct sc_conf *conf);
	void	(*close)(struct sc_backend *bk);
	/* Descriptors to poll for reading; returns how many (<= max). */
	size_t	(*pollfds)(struct sc_backend *bk, int *fds, size_t max);
	/* Something is readable: collect events into bk->evq. */
	int	(*dispatch)(struct sc_backend *bk);
	/*
	 * One op.  req->magic/version/seq are filled in by the backend.  rpay
	 * has room for SC_OP_PAYLOAD_MAX bytes; resp->len says how many were
	 * written.  Returns 0 when a response arrived (look at resp->status),
	 * or a negative transport error.
	 */
	int	(*call)(struct sc_backend *bk, struct sc_op_hdr *req,
		    const uint8_t *payload, struct sc_op_hdr *resp, uint8_t *rpay);
	/* Current domains (dom0 excluded); *n set. */
	int	(*list_domains)(struct sc_backend *bk, struct sc_bk_domain *out,
		    size_t max, size_t *n);
};

struct sc_backend {
	const struct sc_backend_ops *ops;
	void		*priv;
	struct sc_bk_event evq[SC_BK_EVENTS_MAX];
	size_t		evq_len;
	bool		evq_overflow;	/* events were lost: the daemon resynchronises */
};

/* Queue an event, merging with a queued one for the same domain and session. */
void	sc_bk_push_event(struct sc_backend *bk, uint32_t domid, uint32_t session,
	    uint32_t bits);

/* Parse a LIST_DOMAINS response payload (shared by the sim backend and tests). */
int	sc_bk_parse_domains(const uint8_t *pay, size_t len, uint32_t count,
	    struct sc_bk_domain *out, size_t max, size_t *n) __attribute__((warn_unused_result));

extern const struct sc_backend_ops sc_backend_sim_ops;
#ifdef SC_WITH_XEN_BACKEND
extern const struct sc_backend_ops sc_backend_xen_ops;
#endif

#endif /* SC_CONSOLED_BACKEND_H */
