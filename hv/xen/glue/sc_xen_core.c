/*
 * sc_xen_core.c — the core side of the Xen glue (see sc_xen_core.h):
 * owns the struct sc_hv, the platform hooks and the queue of events for
 * dom0.  Freestanding like hv/core: core headers only, compiled into Xen
 * together with lib/core, hv/core and hv/xen/crypto.
 */
#include "core/compat.h"
#include "core/err.h"
#include "core/buf.h"
#include "core/crypto.h"
#include "core/ops.h"
#include "hv/core/hv.h"
#include "crypto/sc_crypto_ref.h"

#include "sc_xen_core.h"

_Static_assert(SC_XEN_OP_MAX == SC_OP_MAX, "op size");
_Static_assert(SC_XEN_UUID_LEN == SC_UUID_LEN, "uuid size");
_Static_assert(SC_XEN_KEY_LEN == SC_KEY_LEN, "key size");
_Static_assert(SC_XEN_CALL_CRYPTO == SC_HV_CALL_CRYPTO, "call phases");
_Static_assert(SC_XEN_LOCK_TABLE == SC_HV_LOCK_TABLE &&
    SC_XEN_LOCK_SHARED == SC_HV_LOCK_SHARED &&
    SC_XEN_LOCK_COUNT(1) == SC_HV_LOCK_COUNT(1), "lock ids");

struct sc_xen_event {
	uint32_t	domid;
	uint32_t	session;
	uint32_t	events;
};

struct sc_xen_core {
	struct sc_hv	*hv;		/* right after this struct, same allocation */
	bool		disk_check;
	bool		owner_ca;	/* PROTECT needs the owner CA's token */
	/* FIFO of coalesced events: [head, head + count) modulo the size. */
	struct sc_xen_event evq[SC_XEN_EVQ_SIZE];
	unsigned	evq_head, evq_count;
	bool		evq_lost;	/* a rescan event is owed */
};

void
sc_ref_fatal(const char *why)
{
	sc_xen_fatal(why);
}

int
sc_xen_core_seed(size_t (*fn)(void *arg, uint8_t *buf, size_t len), void *arg,
    const void *extra, size_t extra_len)
{
	return sc_ref_rng_init(fn, arg, extra, extra_len);
}

/* Where the hv context starts: after the core, aligned for any member. */
#define CORE_HV_OFFSET	((sizeof(struct sc_xen_core) + 63) & ~(size_t)63)

size_t
sc_xen_core_size(unsigned max_domains)
{
	size_t hv = sc_hv_size(max_domains, 0);

	return hv == 0 ? 0 : CORE_HV_OFFSET + hv;
}

static int SC_CF_CHECK
xen_check_disk_key(void *arg, uint32_t domid, const uint8_t uuid[SC_UUID_LEN],
    const uint8_t *key, size_t len)
{
	struct sc_xen_core *c = arg;

	(void)uuid;
	(void)key;
	(void)len;
	if (c->owner_ca)
		return 0;	/* ownership proven by the token (hv core) */
	if (c->disk_check)
		return SC_ERR_UNSUPPORTED;	/* no disk access in the hypervisor */
	sc_xen_warn_unchecked_disk_key(domid);
	return 0;
}

static void SC_CF_CHECK
xen_lock(void *arg, unsigned lk)
{
	(void)arg;
	sc_xen_lock(lk);
}

static bool SC_CF_CHECK
xen_trylock(void *arg, unsigned lk)
{
	(void)arg;
	return sc_xen_trylock(lk);
}

static void SC_CF_CHECK
xen_unlock(void *arg, unsigned lk)
{
	(void)arg;
	sc_xen_unlock(lk);
}

static void SC_CF_CHECK
xen_notify_guest(void *arg, uint32_t domid)
{
	(void)arg;
	sc_xen_notify_guest(domid);
}

/*
 * Queue (or merge into a queued) event; raise the VIRQ if it is new.
 * SHARED held (the core takes it around notify_dom0).
 */
static void SC_CF_CHECK
xen_notify_dom0(void *arg, uint32_t domid, uint32_t session, uint32_t events)
{
	struct sc_xen_core *c = arg;
	unsigned i, k;

	if (events == 0)
		return;
	for (i = 0; i < c->evq_count; i++) {
		k = (c->evq_head + i) % SC_XEN_EVQ_SIZE;
		if (c->evq[k].domid == domid && c->evq[k].session == session) {
			c->evq[k].events |= events;
			sc_xen_raise_virq();
			return;
		}
	}
	if (c->evq_count == SC_XEN_EVQ_SIZE) {
		c->evq_lost = true;
	} else {
		k = (c->evq_head + c->evq_count) % SC_XEN_EVQ_SIZE;
		c->evq[k].domid = domid;
		c->evq[k].session = session;
		c->evq[k].events = events;
		c->evq_count++;
	}
	sc_xen_raise_virq();
}

int
sc_xen_core_init(struct sc_xen_core *c, uint8_t *arena, size_t arena_len,
    bool disk_check, unsigned max_domains)
{
	const struct sc_crypto *cp = sc_crypto_ref();
	size_t size = sc_xen_core_size(max_domains);
	struct sc_hv_platform pf;
	uint8_t sk[SC_KEY_LEN];
	int r;

	if (!sc_ref_rng_seeded())
		return SC_ERR_STATE;
	if (size == 0)
		return SC_ERR_INVAL;
	cp->memzero(c, size);
	c->hv = (struct sc_hv *)(void *)((uint8_t *)c + CORE_HV_OFFSET);
	c->disk_check = disk_check;
	sc_memset(&pf, 0, sizeof(pf));
	pf.arg = c;
	pf.check_disk_key = xen_check_disk_key;
	pf.notify_guest = xen_notify_guest;
	pf.notify_dom0 = xen_notify_dom0;
	pf.lock = xen_lock;
	pf.trylock = xen_trylock;
	pf.unlock = xen_unlock;
	cp->random(sk, sizeof(sk));
	r = sc_hv_init(c->hv, cp, &pf, sk, SC_HV_NO_PCR, arena, arena_len,
	    max_domains, 0);
	cp->memzero(sk, sizeof(sk));
	return r;
}

int
sc_xen_core_set_owner_ca(struct sc_xen_core *c, const uint8_t ca[SC_XEN_KEY_LEN])
{
	int r;

	if ((r = sc_hv_set_owner_ca(c->hv, ca)) != 0)
		return r;
	c->owner_ca = true;
	return 0;
}

const uint8_t *
sc_xen_core_pubkey(const struct sc_xen_core *c)
{
	return sc_hv_pubkey(c->hv);
}

void
sc_xen_core_set_pcr(struct sc_xen_core *c, uint32_t pcr_index)
{
	c->hv->pcr_index = pcr_index;
}

/* SC_OP_EVENT: hand out the oldest queued event (the queue is SHARED's). */
static int
core_event(struct sc_xen_core *c, const struct sc_op_hdr *h, uint8_t *resp,
    size_t cap, size_t *resp_len)
{
	struct sc_op_hdr rh;
	struct sc_buf b;
	int r;

	sc_memset(&rh, 0, sizeof(rh));
	rh.magic = SC_OPS_MAGIC;
	rh.version = SC_OPS_VERSION;
	rh.op = SC_OP_EVENT;
	rh.seq = h->seq;
	sc_xen_lock(SC_XEN_LOCK_SHARED);
	if (h->len != 0 || h->status != 0) {
		rh.status = SC_ERR_FORMAT;
	} else if (c->evq_count > 0) {
		const struct sc_xen_event *e = &c->evq[c->evq_head];

		rh.domid = e->domid;
		rh.session = e->session;
		rh.arg = e->events;
		c->evq_head = (c->evq_head + 1) % SC_XEN_EVQ_SIZE;
		c->evq_count--;
	} else if (c->evq_lost) {
		/* Events were dropped: dom0 resynchronises everything. */
		rh.arg = SC_EV_LOST | SC_EV_DOMAIN_ADDED;
		c->evq_lost = false;
	} else {
		rh.status = SC_ERR_AGAIN;
	}
	sc_xen_unlock(SC_XEN_LOCK_SHARED);
	sc_buf_init(&b, resp, cap);
	if ((r = sc_op_hdr_put(&b, &rh)) != 0)
		return r;
	*resp_len = SC_OP_HDR_LEN;
	return 0;
}

struct sc_xen_call {
	struct sc_hv_call	hv;
};

size_t
sc_xen_core_call_size(void)
{
	return sizeof(struct sc_xen_call);
}

int
sc_xen_core_call_begin(struct sc_xen_core *c, struct sc_xen_call *call,
    const uint8_t *req, size_t len, uint8_t *resp, size_t cap, size_t *resp_len)
{
	struct sc_op_hdr h;
	struct sc_buf b;

	*resp_len = 0;
	sc_buf_init_ro(&b, req, len);
	if (sc_op_hdr_get(&b, &h) == 0 && h.op == SC_OP_EVENT &&
	    len == SC_OP_HDR_LEN + (size_t)h.len) {
		sc_xen_core_call_wipe(c, call);
		return core_event(c, &h, resp, cap, resp_len);
	}
	return sc_hv_call_begin(c->hv, &call->hv, req, len, resp, cap, resp_len);
}

void
sc_xen_core_call_crypto(const struct sc_xen_core *c, struct sc_xen_call *call)
{
	sc_hv_call_crypto(c->hv, &call->hv);
}

int
sc_xen_core_call_commit(struct sc_xen_core *c, struct sc_xen_call *call,
    size_t *resp_len)
{
	return sc_hv_call_commit(c->hv, &call->hv, resp_len);
}

void
sc_xen_core_call_wipe(const struct sc_xen_core *c, struct sc_xen_call *call)
{
	sc_hv_call_wipe(c->hv, &call->hv);
}

int
sc_xen_core_call(struct sc_xen_core *c, const uint8_t *req, size_t len,
    uint8_t *resp, size_t cap, size_t *resp_len)
{
	struct sc_xen_call call;
	int r;

	r = sc_xen_core_call_begin(c, &call, req, len, resp, cap, resp_len);
	if (r != SC_XEN_CALL_CRYPTO)
		return r;
	sc_xen_core_call_crypto(c, &call);
	return sc_xen_core_call_commit(c, &call, resp_len);
}

int
sc_xen_core_attach(struct sc_xen_core *c, uint32_t domid,
    const uint8_t uuid[SC_XEN_UUID_LEN], const char *name, void *ring,
    size_t history)
{
	int r;

	if ((r = sc_hv_domain_add(c->hv, domid, uuid, name,
	    (struct xencons_interface *)ring, history)) != 0)
		return r;
	if ((r = sc_hv_domain_set_running(c->hv, domid, true)) != 0) {
		if (sc_hv_domain_remove(c->hv, domid) != 0)
			return SC_ERR_INTERNAL;
		return r;
	}
	return 0;
}

/*
 * The refusal of a protected domain that is not dying, the scrub of its
 * console page and its removal are one step under the domain's lock
 * (sc_hv_domain_detach, hv.h).
 */
int
sc_xen_core_detach(struct sc_xen_core *c, uint32_t domid, bool dying)
{
	return sc_hv_domain_detach(c->hv, domid, dying);
}

/*
 * A broken ring (the guest corrupted its indices; its sessions ended then)
 * is taken back at the first notification that finds consistent indices
 * again: the guest re-initialised its console page (a reboot or kexec in
 * place, a repaired driver).  That is the platform's ring reset of
 * PROTOCOL.md §8.5 for Xen, where nothing else tells the hypervisor.  A
 * guest that breaks its ring again only ends its own sessions again.
 */
int
sc_xen_core_guest_event(struct sc_xen_core *c, uint32_t domid, bool try)
{
	return sc_hv_guest_event_ex(c->hv, domid, SC_HV_GE_RESET_BROKEN |
	    (try ? SC_HV_GE_TRY : 0));
}

void
sc_xen_core_wipe(struct sc_xen_core *c, unsigned max_domains)
{
	size_t size = sc_xen_core_size(max_domains);

	if (size != 0)
		sc_crypto_ref()->memzero(c, size);
}

unsigned
sc_xen_core_pending_events(const struct sc_xen_core *c)
{
	unsigned n;

	sc_xen_lock(SC_XEN_LOCK_SHARED);
	n = c->evq_count;
	sc_xen_unlock(SC_XEN_LOCK_SHARED);
	return n;
}
