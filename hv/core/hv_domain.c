/*
 * hv_domain.c — a protected domain's state (hv_int.h): lookup and events,
 * the history buffer, the plumbing between the guest's ring, the pending
 * input and the history, the binding's generation and ACL.
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

size_t
sc_hv_strlen(const char *s)
{
	size_t n = 0;

	while (s[n] != '\0')
		n++;
	return n;
}

/* A domain lives at slot domid % max_domains when that was free. */
unsigned
sc_hv_dom_home(const struct sc_hv *hv, uint32_t domid)
{
	return domid % hv->max_domains;
}

void
sc_hv_lock(const struct sc_hv *hv, unsigned lk)
{
	if (hv->pf.lock != NULL)
		hv->pf.lock(hv->pf.arg, lk);
}

bool
sc_hv_trylock(const struct sc_hv *hv, unsigned lk)
{
	return hv->pf.trylock == NULL || hv->pf.trylock(hv->pf.arg, lk);
}

void
sc_hv_unlock(const struct sc_hv *hv, unsigned lk)
{
	if (hv->pf.unlock != NULL)
		hv->pf.unlock(hv->pf.arg, lk);
}

unsigned
sc_hv_dom_lk(const struct sc_hv *hv, const struct sc_hv_domain *d)
{
	return SC_HV_LOCK_DOM(d - hv->dom);
}

uint64_t
sc_hv_epoch_next(struct sc_hv *hv)
{
	uint64_t e;

	sc_hv_lock(hv, SC_HV_LOCK_SHARED);
	e = ++hv->epoch;
	sc_hv_unlock(hv, SC_HV_LOCK_SHARED);
	return e;
}

/* Every op looks its domain up: try the home slot before scanning. */
struct sc_hv_domain *
sc_hv_dom_find(struct sc_hv *hv, uint32_t domid)
{
	struct sc_hv_domain *h = &hv->dom[sc_hv_dom_home(hv, domid)];
	unsigned i;

	if (h->used && !h->gone && h->domid == domid)
		return h;
	for (i = 0; i < hv->max_domains; i++)
		if (hv->dom[i].used && !hv->dom[i].gone &&
		    hv->dom[i].domid == domid)
			return &hv->dom[i];
	return NULL;
}

/*
 * Lock slot d, found under TABLE (held on entry, released on return).  At
 * once if its lock is free: then `dead` is read with both held, since once
 * TABLE is dropped a dead slot may be unlisted and freed (sc_hv_dom_unlist)
 * and only a live one cannot (its removal needs the DOM lock we hold).
 * Else, unless try, with a reference, which keeps the slot from being
 * freed while we wait for DOM without TABLE.
 */
static struct sc_hv_domain *
dom_lock_found(struct sc_hv *hv, struct sc_hv_domain *d, bool try, bool *ref,
    int *busy)
{
	bool dead;

	*ref = false;
	if (sc_hv_trylock(hv, sc_hv_dom_lk(hv, d))) {
		dead = d->dead;
		sc_hv_unlock(hv, SC_HV_LOCK_TABLE);
		if (!dead)
			return d;
		sc_hv_unlock(hv, sc_hv_dom_lk(hv, d));
		return NULL;
	}
	if (try) {
		sc_hv_unlock(hv, SC_HV_LOCK_TABLE);
		*busy = SC_ERR_AGAIN;
		return NULL;
	}
	d->refs++;
	*ref = true;
	sc_hv_unlock(hv, SC_HV_LOCK_TABLE);
	sc_hv_lock(hv, sc_hv_dom_lk(hv, d));
	if (d->dead) {		/* removed while we waited */
		sc_hv_dom_put(hv, d, true);
		*ref = false;
		return NULL;
	}
	return d;
}

struct sc_hv_domain *
sc_hv_dom_get(struct sc_hv *hv, uint32_t domid, bool try, bool *ref, int *busy)
{
	struct sc_hv_domain *d;

	*ref = false;
	*busy = 0;
	if (try) {
		if (!sc_hv_trylock(hv, SC_HV_LOCK_TABLE)) {
			*busy = SC_ERR_AGAIN;
			return NULL;
		}
	} else {
		sc_hv_lock(hv, SC_HV_LOCK_TABLE);
	}
	if ((d = sc_hv_dom_find(hv, domid)) == NULL) {
		sc_hv_unlock(hv, SC_HV_LOCK_TABLE);
		return NULL;
	}
	return dom_lock_found(hv, d, try, ref, busy);
}

struct sc_hv_domain *
sc_hv_dom_get_slot(struct sc_hv *hv, unsigned i, bool *ref)
{
	struct sc_hv_domain *d = &hv->dom[i];
	int busy;

	*ref = false;
	sc_hv_lock(hv, SC_HV_LOCK_TABLE);
	if (!d->used || d->gone) {
		sc_hv_unlock(hv, SC_HV_LOCK_TABLE);
		return NULL;
	}
	return dom_lock_found(hv, d, false, ref, &busy);
}

/* Free a gone slot nobody references (TABLE held). */
static void
slot_free(struct sc_hv *hv, struct sc_hv_domain *d)
{
	hv->cp->memzero(d, sizeof(*d));
	d->writer = -1;
}

void
sc_hv_dom_put(struct sc_hv *hv, struct sc_hv_domain *d, bool ref)
{
	sc_hv_unlock(hv, sc_hv_dom_lk(hv, d));
	if (!ref)
		return;
	sc_hv_lock(hv, SC_HV_LOCK_TABLE);
	if (--d->refs == 0 && d->gone)
		slot_free(hv, d);
	sc_hv_unlock(hv, SC_HV_LOCK_TABLE);
}

void
sc_hv_dom_kill(struct sc_hv *hv, struct sc_hv_domain *d)
{
	int i;

	for (i = 0; i < SC_HV_MAX_SESSIONS; i++)
		if (d->sess[i] != NULL)
			sc_hv_sess_free(hv, d, i, false);
	if (d->hist != NULL)
		hv->cp->memzero(d->hist, d->hist_max);
	/* The state, from `dead` on; the slot's fields stay for TABLE. */
	hv->cp->memzero(&d->dead, sizeof(*d) - offsetof(struct sc_hv_domain, dead));
	d->writer = -1;
	d->dead = true;
}

void
sc_hv_dom_unlist(struct sc_hv *hv, struct sc_hv_domain *d)
{
	sc_hv_lock(hv, SC_HV_LOCK_TABLE);
	d->gone = true;
	if (d->refs == 0)
		slot_free(hv, d);
	sc_hv_unlock(hv, SC_HV_LOCK_TABLE);
}

void
sc_hv_notify(struct sc_hv *hv, const struct sc_hv_domain *d, uint32_t session,
    uint32_t events)
{
	if (events == 0 || hv->pf.notify_dom0 == NULL)
		return;
	sc_hv_lock(hv, SC_HV_LOCK_SHARED);
	hv->pf.notify_dom0(hv->pf.arg, d->domid, session, events);
	sc_hv_unlock(hv, SC_HV_LOCK_SHARED);
}

void
sc_hv_guest_kick(struct sc_hv *hv, const struct sc_hv_domain *d)
{
	if (hv->pf.notify_guest != NULL)
		hv->pf.notify_guest(hv->pf.arg, d->domid);
}

void
sc_hv_hist_copy_out(const struct sc_hv_domain *d, uint64_t pos, uint8_t *dst, size_t n)
{
	size_t idx = (size_t)(pos % d->hist_size);
	size_t first = SC_MIN(n, d->hist_size - idx);

	sc_memcpy(dst, d->hist + idx, first);
	if (n > first)
		sc_memcpy(dst + first, d->hist, n - first);
}

/* n <= hist_size; the caller has checked that no needed byte is overwritten. */
static void
hist_append(struct sc_hv_domain *d, const uint8_t *src, size_t n)
{
	size_t idx = (size_t)(d->head % d->hist_size);
	size_t first = SC_MIN(n, d->hist_size - idx);

	sc_memcpy(d->hist + idx, src, first);
	if (n > first)
		sc_memcpy(d->hist, src + first, n - first);
	d->head += n;
	if (d->head - d->tail > d->hist_size)
		d->tail = d->head - d->hist_size;
}

/*
 * First stream position a history replay may start at: the oldest byte
 * kept, but nothing from before the last ACL change (a key added then
 * never reads what was printed before it).
 */
uint64_t
sc_hv_hist_start(const struct sc_hv_domain *d)
{
	return SC_MAX(d->tail, d->hist_floor);
}

/* Output bytes produced while no writer was attached that no writer can
 * get any more (reported in HS2, never to dom0). */
uint64_t
sc_hv_dom_lost(const struct sc_hv_domain *d)
{
	uint64_t start = sc_hv_hist_start(d);

	if (!d->protected || !d->detached)
		return 0;
	if (d->options & SC_REG_OPT_HISTORY)
		return start > d->detach_pos ? start - d->detach_pos : 0;
	return d->head - d->detach_pos;
}

/* Lowest stream position the writer still needs; UINT64_MAX if no writer. */
static uint64_t
dom_floor(const struct sc_hv_domain *d)
{
	const struct sc_hv_session *s;
	uint64_t f;

	if (d->writer < 0)
		return UINT64_MAX;
	s = d->sess[d->writer];
	f = s->out_pos;
	if (s->replay_active && s->replay_pos < f)
		f = s->replay_pos;
	return f;
}

/* The guest corrupted its ring: refuse ring work, end the sessions. */
void
sc_hv_dom_mark_broken(struct sc_hv *hv, struct sc_hv_domain *d)
{
	int i;

	d->broken = true;
	for (i = 0; i < SC_HV_MAX_SESSIONS; i++)
		sc_hv_sess_begin_close(hv, d, i, SC_CLOSE_SHUTDOWN,
		    "guest console ring corrupt");
}

/* Move pending writer plaintext into the in ring. */
int
sc_hv_dom_flush_input(struct sc_hv *hv, struct sc_hv_domain *d)
{
	size_t w;
	int r;

	if (d->pend_off == d->pend_len)
		return 0;
	if ((r = sc_ring_in_write(d->ring, d->pending + d->pend_off,
	    d->pend_len - d->pend_off, &w)) != 0)
		return r;
	d->pend_off += w;
	if (d->pend_off == d->pend_len) {
		hv->cp->memzero(d->pending, d->pend_len);
		d->pend_off = d->pend_len = 0;
	}
	if (w > 0)
		sc_hv_guest_kick(hv, d);
	return 0;
}

bool
sc_hv_dom_pending_empty(const struct sc_hv_domain *d)
{
	return d->pend_off == d->pend_len;
}

/*
 * Drain the out ring of a protected domain into its history buffer, as far
 * as the writer's unread output allows (with no writer the oldest bytes
 * are overwritten: the guest never stalls).  At most SC_HV_PUMP_MAX bytes
 * per call: the guest moves out_prod while we read, and a guest that keeps
 * it ahead of out_cons would otherwise hold the caller (inside Xen, a
 * physical CPU under the core's lock) for as long as it likes.  That is
 * one ring's worth, all the guest can have written before it signalled;
 * what it writes meanwhile comes with its own signal.
 */
int
sc_hv_dom_pump(struct sc_hv *hv, struct sc_hv_domain *d, size_t *moved)
{
	uint64_t floor;
	size_t room, got;
	int r = 0;

	*moved = 0;
	if (!d->protected || d->broken)
		return 0;
	while (*moved < SC_HV_PUMP_MAX) {
		floor = dom_floor(d);
		if (floor == UINT64_MAX)
			room = d->hist_size;
		else
			room = (size_t)(floor + d->hist_size - d->head);
		room = SC_MIN(room, SC_HV_PUMP_MAX - *moved);
		if (room == 0)
			break;
		if ((r = sc_ring_out_read(d->ring, d->scratch_pt, room, &got)) != 0)
			break;
		if (got == 0)
			break;
		hist_append(d, d->scratch_pt, got);
		hv->cp->memzero(d->scratch_pt, got);
		*moved += got;
	}
	if (*moved > 0)
		sc_hv_guest_kick(hv, d);
	return r;
}

/* Tell dom0 to retry INPUT if it was told to wait and the hv can take more. */
void
sc_hv_dom_maybe_unblock(struct sc_hv *hv, struct sc_hv_domain *d, int idx)
{
	size_t space;

	if (!d->in_blocked)
		return;
	if (d->protected) {
		if (!sc_hv_dom_pending_empty(d))
			return;
		if (idx >= 0 && !sc_hv_sess_ready(d, idx))
			return;
	} else if (sc_ring_in_space(d->ring, &space) != 0 || space == 0)
		return;
	d->in_blocked = false;
	sc_hv_notify(hv, d, 0, SC_EV_INPUT_SPACE);
}

uint32_t
sc_hv_dom_flags(const struct sc_hv_domain *d)
{
	uint32_t f = 0;

	if (d->running)
		f |= SC_DOM_F_RUNNING;
	if (d->protected)
		f |= SC_DOM_F_PROTECTED;
	if (d->writer >= 0)
		f |= SC_DOM_F_SESSION;
	if (d->broken)
		f |= SC_DOM_F_BROKEN;
	return f;
}

/*
 * Make generation the domain's binding generation (durable first, through
 * the platform if it can persist it).  The caller has checked that it grows
 * and changes the binding (PROTECT) or the ACL (an owner command) right
 * after a success: the domain's epoch moves on with it (hv.h).
 */
int
sc_hv_gen_store(struct sc_hv *hv, struct sc_hv_domain *d, uint64_t generation)
{
	int r = 0;

	if (hv->pf.store_generation != NULL)
		r = hv->pf.store_generation(hv->pf.arg, d->domid, d->uuid,
		    generation);
	if (r > 0)
		r = SC_ERR_INTERNAL;
	if (r == 0) {
		d->generation = generation;
		d->epoch = sc_hv_epoch_next(hv);
	}
	return r;
}

/* Do the bound ACL and reg's list different keys (flags aside)? */
bool
sc_hv_acl_keys_differ(const struct sc_hv *hv, const struct sc_hv_domain *d,
    const struct sc_registration *reg)
{
	bool kept, differ = d->acl_count != reg->acl_count;
	unsigned i, j;

	/* Keys are unique within each list: same count + all kept = same set. */
	for (i = 0; i < d->acl_count; i++) {
		kept = false;
		for (j = 0; j < reg->acl_count; j++)
			if (hv->cp->memcmp_ct(d->acl[i].pubkey, reg->acl[j].pubkey,
			    SC_KEY_LEN) == 0)
				kept = true;
		if (!kept)
			differ = true;
	}
	return differ;
}

/*
 * Forget history up to stream position upto (tail <= upto <= head): the
 * bytes are wiped and no later session can replay them.
 */
void
sc_hv_hist_forget(struct sc_hv *hv, struct sc_hv_domain *d, uint64_t upto)
{
	size_t n = (size_t)(upto - d->tail);	/* <= hist_size */
	size_t idx = (size_t)(d->tail % d->hist_size);
	size_t first = SC_MIN(n, d->hist_size - idx);

	hv->cp->memzero(d->hist + idx, first);
	if (n > first)
		hv->cp->memzero(d->hist, n - first);
	d->tail = upto;
}

/* Lowest stream position an open session still has to receive. */
uint64_t
sc_hv_hist_needed(const struct sc_hv_domain *d)
{
	const struct sc_hv_session *s;
	uint64_t f = d->head;
	int i;

	for (i = 0; i < SC_HV_MAX_SESSIONS; i++) {
		s = d->sess[i];
		if (s == NULL || s->state != SC_HV_SESS_OPEN)
			continue;
		if (s->out_pos < f)
			f = s->out_pos;
		if (s->replay_active && s->replay_pos < f)
			f = s->replay_pos;
	}
	return SC_MAX(f, d->tail);
}

/* Constant-time ACL lookup: index or -1. */
int
sc_hv_acl_find(const struct sc_hv *hv, const struct sc_hv_domain *d, const uint8_t *pk)
{
	int found = -1;
	unsigned i;

	for (i = 0; i < d->acl_count; i++)
		if (hv->cp->memcmp_ct(d->acl[i].pubkey, pk, SC_KEY_LEN) == 0)
			found = (int)i;
	return found;
}

unsigned
sc_hv_acl_owners(const struct sc_hv_domain *d)
{
	unsigned i, n = 0;

	for (i = 0; i < d->acl_count; i++)
		if (d->acl[i].flags & SC_ACL_F_OWNER)
			n++;
	return n;
}
