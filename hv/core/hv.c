/*
 * hv.c — the hypervisor ring module (contract in hv.h, normative prose in
 * PROTOCOL.md §8): the context (size, init, wipe) and the platform's calls
 * for domains (add, remove, state, guest events).
 *
 * The module's files: hv.c, hv_domain.c (lookup, history, ring plumbing,
 * the binding's ACL), hv_session.c (the session pool, sealing, closing,
 * output bookkeeping), hv_record.c (the records a client sends), hv_ops.c
 * (the ops dom0 calls, sc_hv_dispatch), hv_call.c (OPEN and PROTECT, in
 * phases).  hv_int.h is their private header
 * and describes the data flow.
 */
#include "core/compat.h"
#include "core/err.h"
#include "core/buf.h"
#include "core/crypto.h"
#include "core/noise.h"
#include "core/record.h"
#include "core/blob.h"
#include "core/frame.h"
#include "core/ops.h"
#include "core/handshake.h"
#include "core/wire.h"
#include "ring.h"
#include "hv.h"
#include "hv_int.h"

static bool
name_eq(const char *a, const char *b, size_t blen)
{
	size_t i;

	for (i = 0; i < blen; i++)
		if (a[i] != b[i])
			return false;
	return a[blen] == '\0';
}

/* The pool's entries, after dom[], aligned for a session. */
static size_t
pool_offset(unsigned max_domains)
{
	size_t a = _Alignof(struct sc_hv_session);
	size_t off = sizeof(struct sc_hv) +
	    (size_t)max_domains * sizeof(struct sc_hv_domain);

	return (off + a - 1) / a * a;
}

/* The pool size asked for (0 = the default), or 0 if out of range. */
static unsigned
pool_sessions(unsigned max_domains, unsigned max_sessions)
{
	unsigned most = max_domains * SC_HV_MAX_SESSIONS;

	if (max_sessions == 0)
		return SC_MIN(max_domains + SC_HV_SESSIONS_SPARE, most);
	if (max_sessions < max_domains || max_sessions > most)
		return 0;
	return max_sessions;
}

size_t
sc_hv_size(unsigned max_domains, unsigned max_sessions)
{
	unsigned n;

	if (max_domains == 0 || max_domains > SC_HV_DOMAINS_LIMIT)
		return 0;
	if ((n = pool_sessions(max_domains, max_sessions)) == 0)
		return 0;
	return pool_offset(max_domains) +
	    (size_t)n * sizeof(struct sc_hv_session);
}

int
sc_hv_init(struct sc_hv *hv, const struct sc_crypto *cp,
    const struct sc_hv_platform *pf, const uint8_t sk[SC_KEY_LEN],
    uint32_t pcr_index, uint8_t *arena, size_t arena_len,
    unsigned max_domains, unsigned max_sessions)
{
	size_t size = sc_hv_size(max_domains, max_sessions);
	unsigned i;
	int r;

	if (hv == NULL || cp == NULL || pf == NULL || sk == NULL || size == 0 ||
	    pf->check_disk_key == NULL || (arena == NULL && arena_len != 0))
		return SC_ERR_INVAL;
	if (sc_noise_pattern_lookup(SC_NOISE_PROTOCOL) == NULL)
		return SC_ERR_UNSUPPORTED;
	cp->memzero(hv, size);
	hv->max_domains = max_domains;
	hv->cp = cp;
	hv->pf = *pf;
	hv->pcr_index = pcr_index;
	hv->arena = arena;
	hv->arena_len = arena_len;
	hv->next_session = 1;
	sc_memcpy(hv->sk, sk, SC_KEY_LEN);
	if ((r = cp->x25519_base(hv->pk, hv->sk)) != 0) {
		cp->memzero(hv, size);
		return r;
	}
	for (i = 0; i < hv->max_domains; i++)
		hv->dom[i].writer = -1;
	hv->max_sessions = pool_sessions(max_domains, max_sessions);
	hv->pool = (struct sc_hv_session *)(void *)((uint8_t *)hv +
	    pool_offset(max_domains));
	for (i = hv->max_sessions; i-- > 0;) {
		hv->pool[i].next_free = hv->pool_free;
		hv->pool_free = &hv->pool[i];
	}
	hv->pool_free_count = hv->max_sessions;
	return 0;
}

int
sc_hv_set_owner_ca(struct sc_hv *hv, const uint8_t ca[SC_OWNER_CA_LEN])
{
	if (hv == NULL || ca == NULL)
		return SC_ERR_INVAL;
	if (hv->owner_ca_set)
		return SC_ERR_STATE;
	sc_memcpy(hv->owner_ca, ca, SC_OWNER_CA_LEN);
	hv->owner_ca_set = true;
	return 0;
}

const uint8_t *
sc_hv_pubkey(const struct sc_hv *hv)
{
	return hv->pk;
}

static void
dom_clear(struct sc_hv *hv, struct sc_hv_domain *d)
{
	int i;

	for (i = 0; i < SC_HV_MAX_SESSIONS; i++)
		if (d->sess[i] != NULL)
			sc_hv_sess_free(hv, d, i, false);
	if (d->hist != NULL)
		hv->cp->memzero(d->hist, d->hist_max);
	hv->cp->memzero(d, sizeof(*d));
	d->writer = -1;
}

void
sc_hv_wipe(struct sc_hv *hv)
{
	const struct sc_crypto *cp = hv->cp;
	unsigned i;

	if (cp == NULL)
		return;
	for (i = 0; i < hv->max_domains; i++)
		if (hv->dom[i].used)
			dom_clear(hv, &hv->dom[i]);
	cp->memzero(hv, sc_hv_size(hv->max_domains, hv->max_sessions));
}

/* First fit in the arena, between the extents of the domains in use. */
static int
arena_alloc(struct sc_hv *hv, size_t size, size_t *off)
{
	size_t cand, best = SIZE_MAX;
	unsigned i, j;
	bool ok;

	for (i = 0; i <= hv->max_domains; i++) {
		if (i == hv->max_domains)
			cand = 0;
		else if (hv->dom[i].used)
			cand = hv->dom[i].arena_off + hv->dom[i].hist_max;
		else
			continue;
		if (cand > hv->arena_len || hv->arena_len - cand < size)
			continue;
		ok = true;
		for (j = 0; j < hv->max_domains && ok; j++) {
			const struct sc_hv_domain *o = &hv->dom[j];
			if (o->used && cand < o->arena_off + o->hist_max &&
			    o->arena_off < cand + size)
				ok = false;
		}
		if (ok && cand < best)
			best = cand;
	}
	if (best == SIZE_MAX)
		return SC_ERR_ALLOC;
	*off = best;
	return 0;
}

int
sc_hv_domain_add(struct sc_hv *hv, uint32_t domid,
    const uint8_t uuid[SC_UUID_LEN], const char *name,
    struct xencons_interface *ring, size_t history_max)
{
	struct sc_hv_domain *d = NULL;
	size_t namelen, off;
	unsigned i;
	int r;

	if (uuid == NULL || name == NULL || ring == NULL)
		return SC_ERR_INVAL;
	namelen = sc_hv_strlen(name);
	if (!sc_vmname_valid(name, namelen))
		return SC_ERR_INVAL;
	if (history_max == 0)
		history_max = SC_HV_HISTORY_DEFAULT;
	if (history_max < SC_HV_HISTORY_MIN)
		return SC_ERR_INVAL;
	sc_hv_lock(hv, SC_HV_LOCK_TABLE);
	r = SC_ERR_BUSY;
	for (i = 0; i < hv->max_domains; i++) {
		const struct sc_hv_domain *o = &hv->dom[i];
		if (!o->used || o->gone)
			continue;
		if (o->domid == domid ||
		    hv->cp->memcmp_ct(o->uuid, uuid, SC_UUID_LEN) == 0 ||
		    name_eq(o->name, name, namelen))
			goto out;
	}
	r = SC_ERR_ALLOC;
	if (!hv->dom[sc_hv_dom_home(hv, domid)].used)
		d = &hv->dom[sc_hv_dom_home(hv, domid)];
	for (i = 0; i < hv->max_domains && d == NULL; i++)
		if (!hv->dom[i].used)
			d = &hv->dom[i];
	if (d == NULL || (r = arena_alloc(hv, history_max, &off)) != 0)
		goto out;
	/* Unreachable until used is set: no other lock is needed. */
	sc_memset(d, 0, sizeof(*d));
	d->used = true;
	d->running = true;
	d->domid = domid;
	sc_memcpy(d->uuid, uuid, SC_UUID_LEN);
	sc_memcpy(d->name, name, namelen);
	d->ring = ring;
	d->arena_off = off;
	d->hist = hv->arena + off;
	d->hist_max = history_max;
	d->hist_size = history_max;
	d->writer = -1;
	d->epoch = sc_hv_epoch_next(hv);
	sc_hv_notify(hv, d, 0, SC_EV_DOMAIN_ADDED);
	r = 0;
out:
	sc_hv_unlock(hv, SC_HV_LOCK_TABLE);
	return r;
}

/* The platform's look: always with a reference, so put needs no flag. */
struct sc_hv_domain *
sc_hv_domain_get(struct sc_hv *hv, uint32_t domid)
{
	struct sc_hv_domain *d;

	sc_hv_lock(hv, SC_HV_LOCK_TABLE);
	if ((d = sc_hv_dom_find(hv, domid)) != NULL)
		d->refs++;
	sc_hv_unlock(hv, SC_HV_LOCK_TABLE);
	if (d == NULL)
		return NULL;
	sc_hv_lock(hv, sc_hv_dom_lk(hv, d));
	if (d->dead) {
		sc_hv_dom_put(hv, d, true);
		return NULL;
	}
	return d;
}

void
sc_hv_domain_put(struct sc_hv *hv, struct sc_hv_domain *d)
{
	sc_hv_dom_put(hv, d, true);
}

int
sc_hv_domain_set_generation(struct sc_hv *hv, uint32_t domid,
    uint64_t generation)
{
	struct sc_hv_domain *d;
	bool ref;
	int busy;

	if ((d = sc_hv_dom_get(hv, domid, false, &ref, &busy)) == NULL)
		return SC_ERR_NOTFOUND;
	if (generation > d->generation)
		d->generation = generation;
	sc_hv_dom_put(hv, d, ref);
	return 0;
}

/*
 * Scrub the console page before the platform lets go of it.  The `in`
 * slots outside [in_cons, in_prod) are ours (we produce `in`): the guest
 * has consumed them or never will read them, so zeroing them races with
 * nothing.  A protected domain's page is only given up when the domain is
 * dying: then all of it goes, whatever the guest left unread.
 */
static void
scrub_ring(struct sc_hv *hv, struct sc_hv_domain *d)
{
	struct xencons_interface *r = d->ring;
	uint32_t cons, prod, used, i;

	if (d->protected) {
		hv->cp->memzero(r->in, sizeof(r->in));
		hv->cp->memzero(r->out, sizeof(r->out));
		SC_RING_STORE(&r->out_cons, SC_RING_LOAD(&r->out_prod));
		return;
	}
	cons = SC_RING_LOAD(&r->in_cons);
	prod = SC_RING_LOAD(&r->in_prod);
	used = prod - cons;
	if (used > SC_RING_IN_SIZE)	/* corrupt indices: the guest reads garbage anyway */
		used = 0;
	for (i = 0; i < SC_RING_IN_SIZE - used; i++)
		r->in[(prod + i) & (SC_RING_IN_SIZE - 1)] = 0;
}

#define REMOVE_DETACH	0x1	/* sc_hv_domain_detach: refuse a protected one, scrub */
#define REMOVE_DYING	0x2

/*
 * Removal (hv.h, "Locking"): under the domain's lock (so after the op in
 * flight), end its sessions and wipe it; then unlist it.  The refusal,
 * the scrub and the wipe are one critical section: a PROTECT cannot
 * commit in between.
 */
static int
dom_remove(struct sc_hv *hv, uint32_t domid, unsigned how)
{
	struct sc_hv_domain *d;
	bool ref;
	int busy, i;

	if ((d = sc_hv_dom_get(hv, domid, false, &ref, &busy)) == NULL)
		return SC_ERR_NOTFOUND;
	if ((how & REMOVE_DETACH) && d->protected && !(how & REMOVE_DYING)) {
		sc_hv_dom_put(hv, d, ref);
		return SC_ERR_PROTECTED;
	}
	if (how & REMOVE_DETACH)
		scrub_ring(hv, d);
	for (i = 0; i < SC_HV_MAX_SESSIONS; i++)
		if (d->sess[i] != NULL)
			sc_hv_sess_free(hv, d, i, true);
	sc_hv_notify(hv, d, 0, SC_EV_DOMAIN_GONE);
	sc_hv_dom_kill(hv, d);
	sc_hv_dom_put(hv, d, ref);
	sc_hv_dom_unlist(hv, d);
	return 0;
}

int
sc_hv_domain_remove(struct sc_hv *hv, uint32_t domid)
{
	return dom_remove(hv, domid, 0);
}

int
sc_hv_domain_detach(struct sc_hv *hv, uint32_t domid, bool dying)
{
	return dom_remove(hv, domid, REMOVE_DETACH | (dying ? REMOVE_DYING : 0));
}

int
sc_hv_domain_set_running(struct sc_hv *hv, uint32_t domid, bool running)
{
	struct sc_hv_domain *d;
	bool ref;
	int busy;

	if ((d = sc_hv_dom_get(hv, domid, false, &ref, &busy)) == NULL)
		return SC_ERR_NOTFOUND;
	d->running = running;
	sc_hv_dom_put(hv, d, ref);
	return 0;
}

int
sc_hv_domain_ring_reset(struct sc_hv *hv, uint32_t domid)
{
	struct sc_hv_domain *d;
	bool ref;
	int busy;

	if ((d = sc_hv_dom_get(hv, domid, false, &ref, &busy)) == NULL)
		return SC_ERR_NOTFOUND;
	d->broken = false;
	sc_hv_dom_put(hv, d, ref);
	return 0;
}

int
sc_hv_guest_event(struct sc_hv *hv, uint32_t domid)
{
	return sc_hv_guest_event_ex(hv, domid, 0);
}

/* The guest event on d, locked. */
static int
guest_event_locked(struct sc_hv *hv, struct sc_hv_domain *d)
{
	uint32_t events = 0;
	size_t moved, avail;
	int i, r;

	if (d->broken)
		return SC_ERR_CORRUPT;
	if ((r = sc_hv_dom_flush_input(hv, d)) != 0)
		goto corrupt;
	if (d->protected) {
		if ((r = sc_hv_dom_pump(hv, d, &moved)) != 0)
			goto corrupt;
		/* Decrypted input the guest has read leaves the shared page. */
		if ((r = sc_ring_in_scrub(d->ring)) != 0)
			goto corrupt;
		/*
		 * One event per session until dom0 pulls: a guest streaming
		 * output through its 2 KiB ring kicks us per ring-full, and
		 * dom0 would otherwise be woken as often.
		 */
		for (i = 0; i < SC_HV_MAX_SESSIONS; i++)
			if ((d->sess[i] != NULL && d->sess[i]->state == SC_HV_SESS_OPEN) &&
			    !d->sess[i]->out_evented &&
			    sc_hv_sess_has_output(d, d->sess[i])) {
				d->sess[i]->out_evented = true;
				events |= SC_EV_OUTPUT;
			}
	} else {
		/*
		 * One event until dom0 reads (RAW_OUTPUT): a guest that keeps
		 * its ring full and signals in a loop would otherwise wake dom0
		 * once per signal, and dom0 that chose not to read (consoled's
		 * guest_output_rate) would be woken for nothing.
		 */
		if ((r = sc_ring_out_avail(d->ring, &avail)) != 0)
			goto corrupt;
		if (avail > 0 && !d->raw_evented) {
			d->raw_evented = true;
			events |= SC_EV_OUTPUT;
		}
	}
	sc_hv_notify(hv, d, 0, events);
	sc_hv_dom_maybe_unblock(hv, d, -1);
	return 0;
corrupt:
	sc_hv_dom_mark_broken(hv, d);
	return r;
}

int
sc_hv_guest_event_ex(struct sc_hv *hv, uint32_t domid, unsigned flags)
{
	struct sc_hv_domain *d;
	bool ref;
	int busy, r;

	d = sc_hv_dom_get(hv, domid, (flags & SC_HV_GE_TRY) != 0, &ref, &busy);
	if (d == NULL)
		return busy != 0 ? busy : SC_ERR_NOTFOUND;
	/*
	 * A broken ring (the guest corrupted its indices; its sessions ended
	 * then) is taken back at the first notification that finds them
	 * consistent again: the guest re-initialised its console page.
	 */
	if ((flags & SC_HV_GE_RESET_BROKEN) && d->broken &&
	    sc_ring_check(d->ring) == 0)
		d->broken = false;
	r = guest_event_locked(hv, d);
	sc_hv_dom_put(hv, d, ref);
	return r;
}
