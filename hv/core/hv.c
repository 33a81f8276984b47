/*
 * hv.c — the hypervisor ring module (contract in hv.h, normative prose in
 * PROTOCOL.md §8).
 *
 * Data flow of a protected domain:
 *
 *   INPUT items --reassemble--> record_open --> pending plaintext --> in ring
 *   out ring --pump--> history buffer (positions [tail, head)) --> per-session
 *   cursors --> DATA records sealed at OUTPUT time
 *
 * Control records the hv sends (PONG, NOTICE, OWNER_RESULT, CLOSE) are
 * sealed when they arise and wait in the session's ctrlq; records built at
 * OUTPUT time are only sealed while ctrlq is empty, so ciphertexts leave in
 * the order of their Noise counters.
 *
 * Plaintext exists only in d->pending, d->hist and the scratch buffers, all
 * inside the context; it leaves the core only into the guest's ring or
 * sealed to a session.
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

#define PING_MAX	64
#define OWNER_CMD_LEN	(1 + SC_KEY_LEN + 1)

static size_t
cstrlen(const char *s)
{
	size_t n = 0;

	while (s[n] != '\0')
		n++;
	return n;
}

static bool
name_eq(const char *a, const char *b, size_t blen)
{
	size_t i;

	for (i = 0; i < blen; i++)
		if (a[i] != b[i])
			return false;
	return a[blen] == '\0';
}

/* ------------------------------------------------------------------ */
/* Lookup and events                                                   */

/* A domain lives at slot domid % max_domains when that was free. */
static unsigned
dom_home(const struct sc_hv *hv, uint32_t domid)
{
	return domid % hv->max_domains;
}

/* Every op looks its domain up: try the home slot before scanning. */
static struct sc_hv_domain *
dom_find(struct sc_hv *hv, uint32_t domid)
{
	struct sc_hv_domain *h = &hv->dom[dom_home(hv, domid)];
	unsigned i;

	if (h->used && h->domid == domid)
		return h;
	for (i = 0; i < hv->max_domains; i++)
		if (hv->dom[i].used && hv->dom[i].domid == domid)
			return &hv->dom[i];
	return NULL;
}

static int
sess_find(const struct sc_hv_domain *d, uint32_t id)
{
	int i;

	if (id == 0)
		return -1;
	for (i = 0; i < SC_HV_MAX_SESSIONS; i++)
		if (d->sess[i] != NULL && d->sess[i]->id == id)
			return i;
	return -1;
}

static void
ev(struct sc_hv *hv, const struct sc_hv_domain *d, uint32_t session,
    uint32_t events)
{
	if (events != 0 && hv->pf.notify_dom0 != NULL)
		hv->pf.notify_dom0(hv->pf.arg, d->domid, session, events);
}

static void
guest_kick(struct sc_hv *hv, const struct sc_hv_domain *d)
{
	if (hv->pf.notify_guest != NULL)
		hv->pf.notify_guest(hv->pf.arg, d->domid);
}

/* ------------------------------------------------------------------ */
/* History buffer                                                      */

static void
hist_copy_out(const struct sc_hv_domain *d, uint64_t pos, uint8_t *dst, size_t n)
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
static uint64_t
hist_start(const struct sc_hv_domain *d)
{
	return SC_MAX(d->tail, d->hist_floor);
}

/* Output bytes produced while no writer was attached that no writer can
 * get any more (reported in HS2, never to dom0). */
static uint64_t
dom_lost(const struct sc_hv_domain *d)
{
	uint64_t start = hist_start(d);

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

/* ------------------------------------------------------------------ */
/* Sessions: sealing and closing                                       */

/* Append { len:u16le ct } for one record to out, all or nothing. */
static int
seal_item(struct sc_hv *hv, struct sc_hv_session *s, uint8_t type,
    const uint8_t *p, size_t n, struct sc_buf *out)
{
	struct sc_buf ct;
	int r;

	if (n > SC_RECORD_PAYLOAD_MAX)
		return SC_ERR_TOOLONG;
	if (sc_buf_room(out) < SC_OP_ITEM_HDR_LEN + sc_record_ct_len(n))
		return SC_ERR_NOSPACE;
	sc_buf_init(&ct, hv->scratch_ct, sizeof(hv->scratch_ct));
	if ((r = sc_record_seal(&s->rl, type, p, n, &ct)) != 0)
		return r;
	return sc_op_item_put(out, ct.data, ct.len);
}

/* Bytes a record of payload n needs in an output, including a due REKEY. */
static size_t
item_need(const struct sc_hv_session *s, size_t n)
{
	return SC_OP_ITEM_HDR_LEN + sc_record_ct_len(n) +
	    (sc_record_need_rekey(&s->rl) ?
	    SC_OP_ITEM_HDR_LEN + SC_RECORD_CT_MIN : 0);
}

/* The longest payload whose record fits in room bytes (0: none fits). */
static size_t
item_fit(const struct sc_hv_session *s, size_t room)
{
	static const size_t pads[] = {
		SC_RECORD_PT_MAX, SC_RECORD_PAD_3, SC_RECORD_PAD_2, SC_RECORD_PAD_1,
	};
	size_t i, n;

	for (i = 0; i < SC_NELEM(pads); i++) {
		n = pads[i] - SC_RECORD_HDR_LEN;
		if (item_need(s, n) <= room)
			return n;
	}
	return 0;
}

/* Seal one record (after a REKEY record if one is due). */
static int
sess_seal(struct sc_hv *hv, struct sc_hv_session *s, uint8_t type,
    const uint8_t *p, size_t n, struct sc_buf *out)
{
	int r;

	if (sc_buf_room(out) < item_need(s, n))
		return SC_ERR_NOSPACE;
	if (sc_record_need_rekey(&s->rl) &&
	    (r = seal_item(hv, s, SC_REC_REKEY, NULL, 0, out)) != 0)
		return r;
	return seal_item(hv, s, type, p, n, out);
}

/* Queue a control record (not CLOSE: sess_queue_close). */
static int
sess_queue(struct sc_hv *hv, struct sc_hv_session *s, uint8_t type,
    const uint8_t *p, size_t n)
{
	size_t cap = SC_HV_CTRLQ_SIZE - SC_HV_CLOSE_RESERVE;
	struct sc_buf q;
	int r;

	if (s->ctrlq_len >= cap)
		return SC_ERR_NOSPACE;
	sc_buf_init(&q, s->ctrlq + s->ctrlq_len, cap - s->ctrlq_len);
	if ((r = sess_seal(hv, s, type, p, n, &q)) != 0)
		return r;
	s->ctrlq_len += q.len;
	return 0;
}

/*
 * Queue this side's CLOSE (reason, the record counts, text), which may use
 * the last SC_HV_CLOSE_RESERVE bytes of the queue.
 */
static int
sess_queue_close(struct sc_hv *hv, struct sc_hv_session *s, uint8_t reason,
    const char *text)
{
	struct sc_buf q, ct;
	int r;

	sc_buf_init(&q, s->ctrlq + s->ctrlq_len, SC_HV_CTRLQ_SIZE - s->ctrlq_len);
	if (sc_buf_room(&q) < item_need(s, SC_CLOSE_FIXED_LEN + 1 + SC_CLOSE_TEXT_MAX))
		return SC_ERR_NOSPACE;
	if (sc_record_need_rekey(&s->rl) &&
	    (r = seal_item(hv, s, SC_REC_REKEY, NULL, 0, &q)) != 0)
		return r;
	sc_buf_init(&ct, hv->scratch_ct, sizeof(hv->scratch_ct));
	if ((r = sc_record_seal_close(&s->rl, reason, text, &ct)) != 0 ||
	    (r = sc_op_item_put(&q, ct.data, ct.len)) != 0)
		return r;
	s->ctrlq_len += q.len;
	return 0;
}

/* NOTICE: code:u16 value:u64 text:str8 */
static int
notice_build(uint8_t *mem, size_t cap, uint16_t code, uint64_t value,
    const char *text, size_t *len)
{
	struct sc_buf b;
	int r;

	sc_buf_init(&b, mem, cap);
	if ((r = sc_buf_put_u16(&b, code)) != 0 ||
	    (r = sc_buf_put_u64(&b, value)) != 0 ||
	    (r = sc_buf_put_str8(&b, text, cstrlen(text))) != 0)
		return r;
	*len = b.len;
	return 0;
}

static int
sess_notice(struct sc_hv *hv, struct sc_hv_session *s, uint16_t code,
    uint64_t value, const char *text)
{
	uint8_t mem[2 + 8 + 1 + 255];
	size_t n;
	int r;

	if ((r = notice_build(mem, sizeof(mem), code, value, text, &n)) != 0)
		return r;
	return sess_queue(hv, s, SC_REC_NOTICE, mem, n);
}

static void
writer_detach(struct sc_hv_domain *d)
{
	if (d->writer < 0)
		return;
	d->detached = true;
	d->detach_pos = d->sess[d->writer]->out_pos;
	d->writer = -1;
}

/* Forget a session at once (its CLOSE, if any, is not delivered). */
static void
sess_free(struct sc_hv *hv, struct sc_hv_domain *d, int idx, bool event)
{
	struct sc_hv_session *s = d->sess[idx];
	uint32_t id = s->id;

	if (d->writer == idx)
		writer_detach(d);
	sc_record_wipe(&s->rl);
	hv->cp->memzero(s, sizeof(*s));	/* state FREE */
	s->next_free = hv->pool_free;
	hv->pool_free = s;
	hv->pool_free_count++;
	d->sess[idx] = NULL;
	if (--d->nsess == 0)
		hv->busy_domains--;
	if (event)
		ev(hv, d, id, SC_EV_SESSION_CLOSED);
}

/*
 * May d take one more session from the pool?  One entry stays free for
 * every domain slot that holds no session (other than d), so a domain's
 * first session is never refused because other domains took the pool.
 */
static bool
pool_can_take(const struct sc_hv *hv, const struct sc_hv_domain *d)
{
	unsigned reserved = hv->max_domains - hv->busy_domains -
	    (d->nsess == 0 ? 1 : 0);

	return hv->pool_free_count > reserved;
}

/* Give d's empty slot idx a zeroed session from the pool (pool_can_take). */
static struct sc_hv_session *
sess_take(struct sc_hv *hv, struct sc_hv_domain *d, int idx)
{
	struct sc_hv_session *s = hv->pool_free;

	hv->pool_free = s->next_free;
	hv->pool_free_count--;
	s->next_free = NULL;
	d->sess[idx] = s;
	if (d->nsess++ == 0)
		hv->busy_domains++;
	return s;
}

/*
 * End a session from the hv side: queue CLOSE(reason, text), stop reading
 * its input, release the writer role.  dom0 collects the CLOSE with OUTPUT
 * (which then frees the slot) or discards it with the CLOSE op.
 */
static void
sess_begin_close(struct sc_hv *hv, struct sc_hv_domain *d, int idx,
    uint8_t reason, const char *text)
{
	struct sc_hv_session *s = d->sess[idx];

	if (s == NULL || s->state != SC_HV_SESS_OPEN)
		return;
	if (sess_queue_close(hv, s, reason, text) != 0) {
		sess_free(hv, d, idx, true);
		return;
	}
	if (d->writer == idx)
		writer_detach(d);
	s->state = SC_HV_SESS_CLOSING;
	s->replay_active = false;
	s->item_have = 0;
	ev(hv, d, s->id, SC_EV_SESSION_CLOSED | SC_EV_OUTPUT);
}

/* The guest corrupted its ring: refuse ring work, end the sessions. */
static void
dom_mark_broken(struct sc_hv *hv, struct sc_hv_domain *d)
{
	int i;

	d->broken = true;
	for (i = 0; i < SC_HV_MAX_SESSIONS; i++)
		sess_begin_close(hv, d, i, SC_CLOSE_SHUTDOWN,
		    "guest console ring corrupt");
}

/* ------------------------------------------------------------------ */
/* Ring plumbing                                                       */

/* Move pending writer plaintext into the in ring. */
static int
dom_flush_input(struct sc_hv *hv, struct sc_hv_domain *d)
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
		guest_kick(hv, d);
	return 0;
}

static bool
dom_pending_empty(const struct sc_hv_domain *d)
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
static int
dom_pump(struct sc_hv *hv, struct sc_hv_domain *d, size_t *moved)
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
		if ((r = sc_ring_out_read(d->ring, hv->scratch_pt, room, &got)) != 0)
			break;
		if (got == 0)
			break;
		hist_append(d, hv->scratch_pt, got);
		hv->cp->memzero(hv->scratch_pt, got);
		*moved += got;
	}
	if (*moved > 0)
		guest_kick(hv, d);
	return r;
}

static bool
sess_has_output(const struct sc_hv_domain *d, const struct sc_hv_session *s)
{
	if (s == NULL || s->state == SC_HV_SESS_FREE)
		return false;
	if (s->ctrlq_len > 0 || s->state == SC_HV_SESS_CLOSING)
		return true;
	return s->replay_active || s->out_pos < d->head;
}

static bool
sess_ready(const struct sc_hv_domain *d, int idx)
{
	const struct sc_hv_session *s = d->sess[idx];

	if (SC_HV_CTRLQ_SIZE - s->ctrlq_len < SC_HV_CTRL_RESERVE)
		return false;
	/* A writer candidate may become the writer with this very record. */
	if (!s->viewer && !dom_pending_empty(d))
		return false;
	return true;
}

/* Tell dom0 to retry INPUT if it was told to wait and the hv can take more. */
static void
dom_maybe_unblock(struct sc_hv *hv, struct sc_hv_domain *d, int idx)
{
	size_t space;

	if (!d->in_blocked)
		return;
	if (d->protected) {
		if (!dom_pending_empty(d))
			return;
		if (idx >= 0 && !sess_ready(d, idx))
			return;
	} else if (sc_ring_in_space(d->ring, &space) != 0 || space == 0)
		return;
	d->in_blocked = false;
	ev(hv, d, 0, SC_EV_INPUT_SPACE);
}

/* ------------------------------------------------------------------ */
/* Init, domains                                                       */

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
			sess_free(hv, d, i, false);
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
	sc_noise_hs_wipe(&hv->hs);
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
	namelen = cstrlen(name);
	if (!sc_vmname_valid(name, namelen))
		return SC_ERR_INVAL;
	if (history_max == 0)
		history_max = SC_HV_HISTORY_DEFAULT;
	if (history_max < SC_HV_HISTORY_MIN)
		return SC_ERR_INVAL;
	for (i = 0; i < hv->max_domains; i++) {
		const struct sc_hv_domain *o = &hv->dom[i];
		if (!o->used)
			continue;
		if (o->domid == domid ||
		    hv->cp->memcmp_ct(o->uuid, uuid, SC_UUID_LEN) == 0 ||
		    name_eq(o->name, name, namelen))
			return SC_ERR_BUSY;
	}
	if (!hv->dom[dom_home(hv, domid)].used)
		d = &hv->dom[dom_home(hv, domid)];
	for (i = 0; i < hv->max_domains && d == NULL; i++)
		if (!hv->dom[i].used)
			d = &hv->dom[i];
	if (d == NULL)
		return SC_ERR_ALLOC;
	if ((r = arena_alloc(hv, history_max, &off)) != 0)
		return r;
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
	ev(hv, d, 0, SC_EV_DOMAIN_ADDED);
	return 0;
}

int
sc_hv_domain_set_generation(struct sc_hv *hv, uint32_t domid,
    uint64_t generation)
{
	struct sc_hv_domain *d = dom_find(hv, domid);

	if (d == NULL)
		return SC_ERR_NOTFOUND;
	if (generation > d->generation)
		d->generation = generation;
	return 0;
}

int
sc_hv_domain_remove(struct sc_hv *hv, uint32_t domid)
{
	struct sc_hv_domain *d = dom_find(hv, domid);
	int i;

	if (d == NULL)
		return SC_ERR_NOTFOUND;
	for (i = 0; i < SC_HV_MAX_SESSIONS; i++)
		if (d->sess[i] != NULL)
			sess_free(hv, d, i, true);
	ev(hv, d, 0, SC_EV_DOMAIN_GONE);
	dom_clear(hv, d);
	return 0;
}

int
sc_hv_domain_set_running(struct sc_hv *hv, uint32_t domid, bool running)
{
	struct sc_hv_domain *d = dom_find(hv, domid);

	if (d == NULL)
		return SC_ERR_NOTFOUND;
	d->running = running;
	return 0;
}

int
sc_hv_domain_ring_reset(struct sc_hv *hv, uint32_t domid)
{
	struct sc_hv_domain *d = dom_find(hv, domid);

	if (d == NULL)
		return SC_ERR_NOTFOUND;
	d->broken = false;
	return 0;
}

int
sc_hv_guest_event(struct sc_hv *hv, uint32_t domid)
{
	struct sc_hv_domain *d = dom_find(hv, domid);
	uint32_t events = 0;
	size_t moved, avail;
	int i, r;

	if (d == NULL)
		return SC_ERR_NOTFOUND;
	if (d->broken)
		return SC_ERR_CORRUPT;
	if ((r = dom_flush_input(hv, d)) != 0)
		goto corrupt;
	if (d->protected) {
		if ((r = dom_pump(hv, d, &moved)) != 0)
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
			    sess_has_output(d, d->sess[i])) {
				d->sess[i]->out_evented = true;
				events |= SC_EV_OUTPUT;
			}
	} else {
		if ((r = sc_ring_out_avail(d->ring, &avail)) != 0)
			goto corrupt;
		if (avail > 0)
			events |= SC_EV_OUTPUT;
	}
	ev(hv, d, 0, events);
	dom_maybe_unblock(hv, d, -1);
	return 0;
corrupt:
	dom_mark_broken(hv, d);
	return r;
}

/* ------------------------------------------------------------------ */
/* Ops                                                                 */

struct op_ctx {
	struct sc_op_hdr	h;		/* request */
	const uint8_t		*p;		/* request payload */
	size_t			 n;
	struct sc_buf		 out;		/* response payload */
	uint32_t		 session;	/* response fields */
	uint32_t		 arg;
	bool			 keep_payload;	/* payload survives an error status */
};

static int
need_fields(const struct op_ctx *o, bool domid, bool session, bool arg)
{
	if ((!domid && o->h.domid != 0) || (!session && o->h.session != 0) ||
	    (!arg && o->h.arg != 0))
		return SC_ERR_INVAL;
	if (session && o->h.session == 0)
		return SC_ERR_INVAL;
	return 0;
}

static uint32_t
dom_flags(const struct sc_hv_domain *d)
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

static int
op_get_info(struct sc_hv *hv, struct op_ctx *o)
{
	int r;

	if ((r = need_fields(o, false, false, false)) != 0)
		return r;
	if (o->n != 0)
		return SC_ERR_FORMAT;
	if ((r = sc_buf_put_bytes(&o->out, hv->pk, SC_KEY_LEN)) != 0 ||
	    (r = sc_buf_put_u32_le(&o->out, SC_OPS_VERSION)) != 0 ||
	    (r = sc_buf_put_u32_le(&o->out, SC_HV_CAPS)) != 0 ||
	    (r = sc_buf_put_u32_le(&o->out, hv->max_domains)) != 0 ||
	    (r = sc_buf_put_u32_le(&o->out, SC_HV_MAX_SESSIONS)) != 0 ||
	    (r = sc_buf_put_u32_le(&o->out, hv->pcr_index)) != 0)
		return r;
	return 0;
}

static int
op_list(struct sc_hv *hv, struct op_ctx *o)
{
	uint8_t name[SC_VMNAME_MAX];
	uint32_t count = 0, skip = o->h.arg;
	unsigned i;
	int r;

	if ((r = need_fields(o, false, false, true)) != 0)
		return r;
	if (o->n != 0)
		return SC_ERR_FORMAT;
	/* A page: the domains from index arg on, in slot order (§8.2). */
	for (i = 0; i < hv->max_domains && count < SC_OP_LIST_PAGE; i++) {
		const struct sc_hv_domain *d = &hv->dom[i];
		if (!d->used)
			continue;
		if (skip > 0) {
			skip--;
			continue;
		}
		sc_memset(name, 0, sizeof(name));
		sc_memcpy(name, d->name, cstrlen(d->name));
		if ((r = sc_buf_put_u32_le(&o->out, d->domid)) != 0 ||
		    (r = sc_buf_put_bytes(&o->out, d->uuid, SC_UUID_LEN)) != 0 ||
		    (r = sc_buf_put_bytes(&o->out, name, sizeof(name))) != 0 ||
		    (r = sc_buf_put_u32_le(&o->out, dom_flags(d))) != 0)
			return r;
		count++;
	}
	o->arg = count;
	return 0;
}

static int
op_status(struct sc_hv *hv, struct op_ctx *o)
{
	struct sc_hv_domain *d;
	uint32_t sessions = 0;
	int i, r;

	if ((r = need_fields(o, true, false, false)) != 0)
		return r;
	if (o->n != 0)
		return SC_ERR_FORMAT;
	if ((d = dom_find(hv, o->h.domid)) == NULL)
		return SC_ERR_NOTFOUND;
	for (i = 0; i < SC_HV_MAX_SESSIONS; i++)
		if ((d->sess[i] != NULL && d->sess[i]->state == SC_HV_SESS_OPEN))
			sessions++;
	/*
	 * Only what dom0 knows anyway (flags, its own sessions, the history
	 * size from the binding): no ring index, history fill or lost count,
	 * which would tell it how much the guest printed while nobody was
	 * attached (PROTOCOL.md §8.2, docs/attacks.md).
	 */
	if ((r = sc_buf_put_u32_le(&o->out, dom_flags(d))) != 0 ||
	    (r = sc_buf_put_u32_le(&o->out, sessions)) != 0 ||
	    (r = sc_buf_put_u32_le(&o->out, d->protected ?
	    (uint32_t)d->hist_size : 0)) != 0)
		return r;
	return 0;
}

/*
 * Make generation the domain's binding generation (durable first, through
 * the platform if it can persist it).  The caller has checked that it grows.
 */
static int
gen_store(struct sc_hv *hv, struct sc_hv_domain *d, uint64_t generation)
{
	int r = 0;

	if (hv->pf.store_generation != NULL)
		r = hv->pf.store_generation(hv->pf.arg, d->domid, d->uuid,
		    generation);
	if (r > 0)
		r = SC_ERR_INTERNAL;
	if (r == 0)
		d->generation = generation;
	return r;
}

/* Do the bound ACL and reg's list different keys (flags aside)? */
static bool
acl_keys_differ(const struct sc_hv *hv, const struct sc_hv_domain *d,
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
static void
hist_forget(struct sc_hv *hv, struct sc_hv_domain *d, uint64_t upto)
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
static uint64_t
hist_needed(const struct sc_hv_domain *d)
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

/*
 * Bind the domain to a sealed registration blob.  The blob's generation
 * must be above the domain's (a blob bound once, or superseded by a newer
 * blob or an ACL change, never binds again, however many other blobs dom0
 * has the hv accept in between).  History survives a re-bind only if the
 * VM secret, the history size and the ACL's keys stay: a key that leaves
 * the ACL never reads what the guest printed after it left, even if it
 * comes back; a key that joins never reads what was printed before.
 */
static int
op_protect(struct sc_hv *hv, struct op_ctx *o)
{
	struct sc_registration *reg = &hv->reg;
	struct sc_hv_domain *d;
	uint8_t confirm[32];
	size_t want;
	bool was, wipe;
	int i, r, st;

	if ((r = need_fields(o, true, false, false)) != 0)
		return r;
	if ((d = dom_find(hv, o->h.domid)) == NULL)
		return SC_ERR_NOTFOUND;
	if (o->n > SC_BLOB_MAX)
		return SC_ERR_TOOLONG;
	if ((r = sc_blob_open(hv->cp, hv->sk, hv->pk, o->p, o->n, reg)) != 0)
		return r;	/* reg is wiped */

	if (hv->cp->memcmp_ct(reg->uuid, d->uuid, SC_UUID_LEN) != 0)
		st = SC_ERR_MISMATCH;
	else if (reg->generation <= d->generation)
		st = SC_ERR_EXPIRED;	/* replayed or superseded */
	else {
		st = hv->pf.check_disk_key(hv->pf.arg, d->domid, d->uuid,
		    reg->disk_key, reg->disk_key_len);
		if (st > 0)
			st = SC_ERR_INTERNAL;
		if (st == 0)
			st = gen_store(hv, d, reg->generation);
	}
	if (st == 0) {
		was = d->protected;
		/* New credentials: sessions made with the old ones end. */
		for (i = 0; i < SC_HV_MAX_SESSIONS; i++)
			sess_begin_close(hv, d, i, SC_CLOSE_NORMAL,
			    "domain credentials re-bound");
		want = reg->history_size ? reg->history_size : SC_HV_HISTORY_DEFAULT;
		want = SC_MAX(want, (size_t)SC_HV_HISTORY_MIN);
		want = SC_MIN(want, d->hist_max);
		wipe = !was || want != d->hist_size ||
		    hv->cp->memcmp_ct(d->vm_secret, reg->vm_secret,
		    SC_PSK_LEN) != 0 || acl_keys_differ(hv, d, reg);
		sc_memcpy(d->vm_secret, reg->vm_secret, SC_PSK_LEN);
		d->options = reg->options;
		d->acl_count = reg->acl_count;
		hv->cp->memzero(d->acl, sizeof(d->acl));
		sc_memcpy(d->acl, reg->acl, reg->acl_count * sizeof(reg->acl[0]));
		if (wipe) {
			hv->cp->memzero(d->hist, d->hist_max);
			d->hist_size = want;
			d->tail = d->head;
		}
		if (!was) {
			d->detached = true;
			d->detach_pos = d->head;
		}
		d->protected = true;
	}
	if ((r = sc_blob_confirm(hv->cp, reg, hv->pk, st, confirm)) == 0 &&
	    (r = sc_buf_put_bytes(&o->out, confirm, sizeof(confirm))) == 0)
		o->keep_payload = true;
	hv->cp->memzero(reg, sizeof(*reg));
	if (st != 0)
		return st;
	return r;
}

/* Constant-time ACL lookup: index or -1. */
static int
acl_find(const struct sc_hv *hv, const struct sc_hv_domain *d, const uint8_t *pk)
{
	int found = -1;
	unsigned i;

	for (i = 0; i < d->acl_count; i++)
		if (hv->cp->memcmp_ct(d->acl[i].pubkey, pk, SC_KEY_LEN) == 0)
			found = (int)i;
	return found;
}

/* A session of d whose CLOSE is still queued (its slot may be reused), or -1. */
static int
sess_slot_closing(const struct sc_hv_domain *d)
{
	int i;

	for (i = 0; i < SC_HV_MAX_SESSIONS; i++)
		if (d->sess[i] != NULL && d->sess[i]->state == SC_HV_SESS_CLOSING)
			return i;
	return -1;
}

static int
sess_slot(const struct sc_hv_domain *d, bool reclaim)
{
	int i;

	for (i = 0; i < SC_HV_MAX_SESSIONS; i++)
		if (d->sess[i] == NULL)
			return i;
	return reclaim ? sess_slot_closing(d) : -1;
}

static void
sess_start_replay(struct sc_hv_domain *d, struct sc_hv_session *s, uint64_t wanted)
{
	uint64_t avail = 0, n;

	if (d->options & SC_REG_OPT_HISTORY)
		avail = d->head - hist_start(d);
	n = SC_MIN(wanted, avail);
	s->replay_active = true;
	s->replay_pos = d->head - n;
	s->replay_end = d->head;
	s->replay_done = 0;
}

static int
op_open(struct sc_hv *hv, struct op_ctx *o)
{
	uint8_t hs1[SC_HS1_PAYLOAD_LEN + 16], hs2[SC_HS2_PAYLOAD_LEN];
	struct sc_noise_transport t;
	struct sc_buf b, pb;
	struct sc_hv_domain *d;
	struct sc_hv_session *s;
	const uint8_t *rs;
	struct sc_hs1 m1;
	struct sc_hs2 m2;
	bool viewer;
	int aclidx, slot, r;
	unsigned i;

	sc_memset(&t, 0, sizeof(t));
	if ((r = need_fields(o, true, false, false)) != 0)
		return r;
	if ((d = dom_find(hv, o->h.domid)) == NULL)
		return SC_ERR_NOTFOUND;
	if (!d->protected)
		return SC_ERR_STATE;
	if (d->broken)
		return SC_ERR_CORRUPT;
	if (o->n < SC_HS1_MSG_LEN)
		return SC_ERR_TRUNCATED;
	if (o->n > SC_HS1_MSG_LEN)
		return SC_ERR_TOOLONG;
	/* A message 1 seen before is a replay: refuse before any DH. */
	for (i = 0; i < d->seen_count; i++)
		if (hv->cp->memcmp_ct(d->seen[i], o->p, SC_KEY_LEN) == 0)
			return SC_ERR_DECRYPT;
	if ((slot = sess_slot(d, true)) < 0)
		return SC_ERR_LIMIT;
	/* A free slot needs a pool entry; a reclaimed CLOSING one brings its own. */
	if (d->sess[slot] == NULL && !pool_can_take(hv, d) &&
	    (slot = sess_slot_closing(d)) < 0)
		return SC_ERR_ALLOC;

	if ((r = sc_hs_init(&hv->hs, hv->cp, false, d->uuid, hv->pk, hv->sk,
	    d->vm_secret)) != 0)
		goto out;
	sc_buf_init(&pb, hs1, sizeof(hs1));
	if ((r = sc_noise_hs_read(&hv->hs, o->p, o->n, &pb)) != 0)
		goto out;
	if ((rs = sc_noise_hs_remote_static(&hv->hs)) == NULL) {
		r = SC_ERR_INTERNAL;
		goto out;
	}
	if ((aclidx = acl_find(hv, d, rs)) < 0) {
		r = SC_ERR_PERM;
		goto out;
	}
	if ((r = sc_hs1_get(&pb, &m1)) != 0) {
		if (r != SC_ERR_VERSION)
			r = SC_ERR_FORMAT;
		goto out;
	}
	viewer = (m1.flags & SC_HS1_F_VIEWER) != 0;
	sc_memset(&m2, 0, sizeof(m2));
	m2.flags = ((d->acl[aclidx].flags & SC_ACL_F_OWNER) ? SC_HS2_F_OWNER : 0) |
	    (viewer ? SC_HS2_F_VIEWER : 0);
	if (d->options & SC_REG_OPT_HISTORY)
		m2.history_kept = (uint32_t)SC_MIN((uint64_t)m1.history_wanted,
		    d->head - hist_start(d));
	m2.lost_bytes = viewer ? 0 : dom_lost(d);
	sc_buf_init(&b, hs2, sizeof(hs2));
	if (sc_hs2_put(&b, &m2) != 0) {
		r = SC_ERR_INTERNAL;
		goto out;
	}
	if ((r = sc_noise_hs_write(&hv->hs, hs2, b.len, &o->out)) != 0 ||
	    (r = sc_noise_hs_split(&hv->hs, &t)) != 0) {
		o->out.len = 0;
		goto out;
	}

	/* Committed: the session exists from here on. */
	slot = sess_slot(d, false);
	if (slot < 0 || !pool_can_take(hv, d)) {
		/* Checked above: a CLOSING session of d makes room. */
		i = (unsigned)sess_slot_closing(d);
		sess_free(hv, d, (int)i, false);	/* its end was already signalled */
		if (slot < 0)
			slot = (int)i;
	}
	s = sess_take(hv, d, slot);
	s->id = hv->next_session++;
	if (hv->next_session == 0)
		hv->next_session = 1;
	s->state = SC_HV_SESS_OPEN;
	s->viewer = viewer;
	s->owner = (d->acl[aclidx].flags & SC_ACL_F_OWNER) != 0;
	sc_memcpy(s->user_pk, d->acl[aclidx].pubkey, SC_KEY_LEN);
	sc_record_init(&s->rl, &t);
	s->out_pos = d->head;
	if (m2.history_kept > 0)
		sess_start_replay(d, s, m2.history_kept);
	sc_memcpy(d->seen[d->seen_next], o->p, SC_KEY_LEN);
	d->seen_next = (d->seen_next + 1) % SC_HV_SEEN_MAX;
	if (d->seen_count < SC_HV_SEEN_MAX)
		d->seen_count++;
	/*
	 * IKpsk2 mixes the psk only into message 2, so message 1 does not
	 * prove the initiator knows the VM secret.  A writer therefore takes
	 * over when its first record authenticates (sess_confirm), not here.
	 */
	if (!viewer && m2.lost_bytes > 0)
		(void)sess_notice(hv, s, SC_NOTICE_LOST_OUTPUT, m2.lost_bytes,
		    "console output lost while no session was attached");
	o->session = s->id;
	if (sess_has_output(d, s))
		ev(hv, d, s->id, SC_EV_OUTPUT);
	r = 0;
out:
	sc_noise_hs_wipe(&hv->hs);
	hv->cp->memzero(&t, sizeof(t));
	hv->cp->memzero(hs1, sizeof(hs1));
	return r;
}

static int
op_close(struct sc_hv *hv, struct op_ctx *o)
{
	struct sc_hv_domain *d;
	int idx, r;

	if ((r = need_fields(o, true, true, false)) != 0)
		return r;
	if (o->n != 0)
		return SC_ERR_FORMAT;
	if ((d = dom_find(hv, o->h.domid)) == NULL)
		return SC_ERR_NOTFOUND;
	if ((idx = sess_find(d, o->h.session)) < 0)
		return SC_ERR_NOTFOUND;
	sess_free(hv, d, idx, false);
	dom_maybe_unblock(hv, d, -1);
	return 0;
}

/* A well-authenticated record that breaks the rules ends the session. */
static int
sess_violation(struct sc_hv *hv, struct sc_hv_domain *d, int idx, int err,
    const char *why)
{
	sess_begin_close(hv, d, idx, SC_CLOSE_PROTOCOL, why);
	return err;
}

static int
owner_result(struct sc_hv *hv, struct sc_hv_domain *d, struct sc_hv_session *s,
    uint8_t cmd, int status)
{
	uint8_t mem[1 + 4 + 1 + SC_ACL_MAX * (SC_KEY_LEN + 1)];
	struct sc_buf b;
	unsigned i, count = status == 0 ? d->acl_count : 0;
	int r;

	sc_buf_init(&b, mem, sizeof(mem));
	if ((r = sc_buf_put_u8(&b, cmd)) != 0 ||
	    (r = sc_buf_put_u32(&b, (uint32_t)status)) != 0 ||
	    (r = sc_buf_put_u8(&b, (uint8_t)count)) != 0)
		return r;
	for (i = 0; i < count; i++)
		if ((r = sc_buf_put_bytes(&b, d->acl[i].pubkey, SC_KEY_LEN)) != 0 ||
		    (r = sc_buf_put_u8(&b, d->acl[i].flags)) != 0)
			return r;
	return sess_queue(hv, s, SC_REC_OWNER_RESULT, mem, b.len);
}

static unsigned
acl_owners(const struct sc_hv_domain *d)
{
	unsigned i, n = 0;

	for (i = 0; i < d->acl_count; i++)
		if (d->acl[i].flags & SC_ACL_F_OWNER)
			n++;
	return n;
}

/*
 * An owner's ACL command.  A change first advances the binding generation
 * (durably), so no blob sealed before it binds again.  A removal ends the
 * removed key's sessions.  After a removal or a new key no replay reaches
 * back before the change (hist_floor), and the history no open session
 * still has to receive is wiped (as PROTECT does when the ACL's keys
 * change): a key that leaves and comes back never reads what was printed
 * while it was out.
 */
static int
sess_owner_cmd(struct sc_hv *hv, struct sc_hv_domain *d, int idx,
    const uint8_t *p, size_t n)
{
	static const uint8_t zero[SC_KEY_LEN];
	struct sc_hv_session *s = d->sess[idx];
	uint8_t cmd, key[SC_KEY_LEN], flags;
	struct sc_buf b;
	int st = 0, k, i, r;
	unsigned j;
	bool removed = false, changed = false;

	if (n != OWNER_CMD_LEN)
		return sess_violation(hv, d, idx, SC_ERR_FORMAT,
		    "malformed owner command");
	sc_buf_init_ro(&b, p, n);
	if (sc_buf_get_u8(&b, &cmd) != 0 ||
	    sc_buf_get_bytes(&b, key, SC_KEY_LEN) != 0 ||
	    sc_buf_get_u8(&b, &flags) != 0)
		return SC_ERR_INTERNAL;
	k = acl_find(hv, d, key);
	if (!s->owner)
		st = SC_ERR_PERM;
	else if (cmd == SC_OWNER_ACL_ADD) {
		if ((flags & ~SC_ACL_F_OWNER) != 0)
			st = SC_ERR_FORMAT;
		else if (hv->cp->memcmp_ct(key, zero, SC_KEY_LEN) == 0)
			st = SC_ERR_BADKEY;
		else if (k >= 0 && (d->acl[k].flags & SC_ACL_F_OWNER) &&
		    !(flags & SC_ACL_F_OWNER) && acl_owners(d) == 1)
			st = SC_ERR_INVAL;	/* keep one owner */
		else if (k < 0 && d->acl_count >= SC_ACL_MAX)
			st = SC_ERR_LIMIT;
		else
			changed = true;
	} else if (cmd == SC_OWNER_ACL_DEL) {
		if (flags != 0)
			st = SC_ERR_FORMAT;
		else if (k < 0)
			st = SC_ERR_NOTFOUND;
		else if ((d->acl[k].flags & SC_ACL_F_OWNER) && acl_owners(d) == 1)
			st = SC_ERR_INVAL;
		else
			removed = changed = true;
	} else if (cmd == SC_OWNER_ACL_LIST) {
		if (flags != 0 || hv->cp->memcmp_ct(key, zero, SC_KEY_LEN) != 0)
			st = SC_ERR_FORMAT;
	} else
		st = SC_ERR_TYPE;

	if (changed) {
		if (d->generation == UINT64_MAX)
			st = SC_ERR_LIMIT;
		else
			st = gen_store(hv, d, d->generation + 1);
		if (st != 0)
			removed = changed = false;
	}
	if (changed && removed) {
		for (j = (unsigned)k; j + 1 < d->acl_count; j++)
			d->acl[j] = d->acl[j + 1];
		d->acl_count--;
		hv->cp->memzero(&d->acl[d->acl_count], sizeof(d->acl[0]));
	} else if (changed && k >= 0)
		d->acl[k].flags = flags;
	else if (changed) {
		sc_memcpy(d->acl[d->acl_count].pubkey, key, SC_KEY_LEN);
		d->acl[d->acl_count].flags = flags;
		d->acl_count++;
	}

	if ((r = owner_result(hv, d, s, cmd, st)) != 0)
		return r;
	if (!changed)
		return 0;
	for (i = 0; i < SC_HV_MAX_SESSIONS; i++) {
		struct sc_hv_session *o = d->sess[i];
		if (o == NULL || o->state != SC_HV_SESS_OPEN)
			continue;
		if (hv->cp->memcmp_ct(o->user_pk, key, SC_KEY_LEN) == 0) {
			if (removed) {
				sess_begin_close(hv, d, i, SC_CLOSE_ACL,
				    "key removed from the domain's ACL");
				continue;
			}
			o->owner = (flags & SC_ACL_F_OWNER) != 0;
		}
		if (i != idx)
			(void)sess_notice(hv, o, SC_NOTICE_ACL_CHANGED,
			    d->acl_count, "access list changed");
	}
	if (removed || k < 0) {
		hist_forget(hv, d, hist_needed(d));
		d->hist_floor = d->head;
	}
	return 0;
}

/*
 * First authenticated record of a writer session: the client holds the VM
 * secret, so it becomes the domain's writer, replacing the previous one.
 */
static void
sess_confirm(struct sc_hv *hv, struct sc_hv_domain *d, int idx)
{
	struct sc_hv_session *s = d->sess[idx];
	int old = d->writer;

	s->confirmed = true;
	if (s->viewer)
		return;
	if (old >= 0 && old != idx) {
		sess_begin_close(hv, d, old, SC_CLOSE_TAKEN_OVER,
		    "taken over by another authorised session");
		(void)sess_notice(hv, s, SC_NOTICE_TAKEN_OVER, 0,
		    "took over from another session");
	}
	/* As a candidate it could fall behind like a viewer; a writer may not. */
	if (s->out_pos < d->tail) {
		(void)sess_notice(hv, s, SC_NOTICE_LOST_OUTPUT,
		    d->tail - s->out_pos, "console output lost");
		s->out_pos = d->tail;
	}
	if (s->replay_active && s->replay_pos < d->tail)
		s->replay_pos = SC_MIN(d->tail, s->replay_end);
	d->writer = idx;
	d->detached = false;
}

/* The checked length field of the item being reassembled. */
static int
item_len(const struct sc_hv_session *s, size_t *len)
{
	struct sc_buf b;

	sc_buf_init_ro(&b, s->item, s->item_have);
	return sc_op_item_len_get(&b, len);
}

/* Open and act on the record in s->item.  Nonzero ends the INPUT op. */
static int
sess_record(struct sc_hv *hv, struct sc_hv_domain *d, int idx)
{
	struct sc_hv_session *s = d->sess[idx];
	struct sc_buf ib, pb, rb;
	const uint8_t *ct;
	uint8_t type = 0, key;
	size_t n, ctlen;
	uint32_t wanted;
	int r = 0;

	sc_buf_init(&pb, hv->scratch_pt, sizeof(hv->scratch_pt));
	sc_buf_init_ro(&ib, s->item, s->item_have);
	if ((r = sc_op_item_get(&ib, &ct, &ctlen)) != 0 ||
	    (r = sc_record_open(&s->rl, ct, ctlen, &type, &pb)) != 0) {
		/*
		 * Tampered, replayed, reordered or truncated: this session
		 * ends.  Its send direction still works, so the client gets
		 * an authenticated CLOSE saying why, not just a hang-up.
		 */
		sess_begin_close(hv, d, idx, SC_CLOSE_PROTOCOL,
		    "an input record failed authentication");
		return r;
	}
	n = pb.len;
	sc_buf_init_ro(&rb, hv->scratch_pt, n);	/* the payload, for parsing */
	if (!s->confirmed)
		sess_confirm(hv, d, idx);
	switch (type) {
	case SC_REC_DATA:
		if (s->viewer) {
			r = sess_violation(hv, d, idx, SC_ERR_PERM,
			    "viewer sessions are read-only");
			break;
		}
		/* sess_ready() guaranteed an empty pending buffer. */
		sc_memcpy(d->pending, hv->scratch_pt, n);
		d->pend_off = 0;
		d->pend_len = n;
		break;
	case SC_REC_BREAK:
		if (s->viewer) {
			r = sess_violation(hv, d, idx, SC_ERR_PERM,
			    "viewer sessions are read-only");
			break;
		}
		if (sc_buf_get_u8(&rb, &key) != 0 || sc_buf_expect_end(&rb) != 0) {
			r = sess_violation(hv, d, idx, SC_ERR_FORMAT,
			    "malformed break record");
			break;
		}
		if (key == 0) {
			r = sess_notice(hv, s, SC_NOTICE_SYSRQ, 0,
			    "plain break is not supported on the hvc console");
			break;
		}
		if (key < 0x21 || key > 0x7e) {
			r = sess_violation(hv, d, idx, SC_ERR_FORMAT,
			    "invalid SysRq key");
			break;
		}
		d->pending[0] = SC_HVC_SYSRQ_CHAR;
		d->pending[1] = key;
		d->pend_off = 0;
		d->pend_len = 2;
		r = sess_notice(hv, s, SC_NOTICE_SYSRQ, key, "SysRq sent to the guest");
		break;
	case SC_REC_CLOSE: {
		struct sc_record_close c;

		/*
		 * The client is leaving.  Answer with our CLOSE, whose recv
		 * count tells it that every one of its records arrived (the
		 * close handshake, PROTOCOL.md §5.6); then read nothing more.
		 */
		if (sc_record_close_parse(&s->rl, hv->scratch_pt, n, &c) != 0) {
			r = sess_violation(hv, d, idx, SC_ERR_FORMAT,
			    "malformed close record");
			break;
		}
		sess_begin_close(hv, d, idx, SC_CLOSE_NORMAL, "closed by the client");
		break;
	}
	case SC_REC_PING:
		if (n > PING_MAX) {
			r = sess_violation(hv, d, idx, SC_ERR_TOOLONG,
			    "oversized ping");
			break;
		}
		r = sess_queue(hv, s, SC_REC_PONG, hv->scratch_pt, n);
		break;
	case SC_REC_PONG:
	case SC_REC_REKEY:		/* the record layer rekeyed */
		break;
	case SC_REC_HISTORY_REQ:
		if (sc_buf_get_u32(&rb, &wanted) != 0 ||
		    sc_buf_expect_end(&rb) != 0) {
			r = sess_violation(hv, d, idx, SC_ERR_FORMAT,
			    "malformed history request");
			break;
		}
		sess_start_replay(d, s, wanted);
		break;
	case SC_REC_OWNER_CMD:
		r = sess_owner_cmd(hv, d, idx, hv->scratch_pt, n);
		break;
	default:
		r = sess_violation(hv, d, idx, SC_ERR_TYPE,
		    "record type not accepted");
		break;
	}
	hv->cp->memzero(hv->scratch_pt, n);
	return r;
}

static int
op_input(struct sc_hv *hv, struct op_ctx *o)
{
	struct sc_hv_domain *d;
	struct sc_hv_session *s;
	struct sc_buf in;
	size_t need, take, ilen;
	bool blocked = false;
	int idx, r;

	if ((r = need_fields(o, true, true, false)) != 0)
		return r;
	if ((d = dom_find(hv, o->h.domid)) == NULL)
		return SC_ERR_NOTFOUND;
	if ((idx = sess_find(d, o->h.session)) < 0)
		return SC_ERR_NOTFOUND;
	/* dom0's items, consumed through the buffer (item_have bounds s->item). */
	sc_buf_init_ro(&in, o->p, o->n);
	s = d->sess[idx];
	if (s->state != SC_HV_SESS_OPEN)
		return SC_ERR_CLOSED;
	if (d->broken)
		return SC_ERR_CORRUPT;
	if ((r = dom_flush_input(hv, d)) != 0) {
		dom_mark_broken(hv, d);
		return r;
	}
	while (s->state == SC_HV_SESS_OPEN) {
		if (s->item_have < SC_OP_ITEM_HDR_LEN) {
			if (sc_buf_get_u8(&in, &s->item[s->item_have]) != 0)
				break;
			if (++s->item_have < SC_OP_ITEM_HDR_LEN)
				continue;
			if ((r = item_len(s, &ilen)) != 0) {
				r = sess_violation(hv, d, idx, r,
				    r == SC_ERR_TOOLONG ? "record over the size limit" :
				    "record shorter than the smallest size");
				break;
			}
			continue;
		}
		if (item_len(s, &ilen) != 0) {
			r = SC_ERR_INTERNAL;
			break;
		}
		need = SC_OP_ITEM_HDR_LEN + ilen - s->item_have;
		if (sc_buf_avail(&in) == 0)
			break;
		if (need > 1) {
			/* Buffer all but the last byte; it is taken when we can act. */
			take = SC_MIN(need - 1, sc_buf_avail(&in));
			if (sc_buf_get_bytes(&in, s->item + s->item_have, take) != 0) {
				r = SC_ERR_INTERNAL;
				break;
			}
			s->item_have += take;
			continue;
		}
		if (!sess_ready(d, idx)) {
			blocked = true;
			break;
		}
		if (sc_buf_get_u8(&in, &s->item[s->item_have]) != 0) {
			r = SC_ERR_INTERNAL;
			break;
		}
		s->item_have++;
		r = sess_record(hv, d, idx);
		if (d->sess[idx] != NULL && d->sess[idx]->id == o->h.session)
			s->item_have = 0;
		if (r != 0)
			break;
		if ((r = dom_flush_input(hv, d)) != 0) {
			dom_mark_broken(hv, d);
			break;
		}
	}
	o->arg = (uint32_t)(o->n - sc_buf_avail(&in));
	if (blocked || (r == 0 && sc_buf_avail(&in) > 0 && s->state == SC_HV_SESS_OPEN))
		d->in_blocked = true;
	/*
	 * Anything this input made deliverable (a PONG, a NOTICE, a replay
	 * started by HISTORY_REQ) is announced, or dom0 would not collect it
	 * until the guest happens to print.
	 */
	if (s->state != SC_HV_SESS_FREE && s->id == o->h.session &&
	    sess_has_output(d, s))
		ev(hv, d, s->id, SC_EV_OUTPUT);
	return r;
}

/* Put queued control records into out, whole ones, in order. */
static void
sess_emit_ctrlq(struct sc_hv_session *s, struct sc_buf *out)
{
	struct sc_buf q;
	const uint8_t *ct;
	size_t used = 0, ilen;

	sc_buf_init_ro(&q, s->ctrlq, s->ctrlq_len);
	while (sc_buf_avail(&q) > 0) {
		if (sc_op_item_get(&q, &ct, &ilen) != 0 ||
		    sc_op_item_put(out, ct, ilen) != 0)
			break;
		used += SC_OP_ITEM_HDR_LEN + ilen;
	}
	if (used > 0) {
		sc_memmove(s->ctrlq, s->ctrlq + used, s->ctrlq_len - used);
		s->ctrlq_len -= used;
	}
}

/*
 * Guest output reached the history during session skip's OUTPUT op (its
 * pull made room, the ring was drained): the other sessions that have not
 * been told yet are told now.  No guest event may follow (the guest can
 * have nothing more to write), so nothing else would tell them.
 */
static void
announce_output(struct sc_hv *hv, struct sc_hv_domain *d, int skip)
{
	struct sc_hv_session *t;
	int i;

	for (i = 0; i < SC_HV_MAX_SESSIONS; i++) {
		t = d->sess[i];
		if (i == skip || t == NULL || t->state != SC_HV_SESS_OPEN || t->out_evented ||
		    !sess_has_output(d, t))
			continue;
		t->out_evented = true;
		ev(hv, d, t->id, SC_EV_OUTPUT);
	}
}

static int
op_output(struct sc_hv *hv, struct op_ctx *o)
{
	struct sc_hv_domain *d;
	struct sc_hv_session *s;
	size_t max, n, moved, pumped, fit;
	uint8_t nb[2 + 8 + 1 + 64];
	bool more = false, closed = false;
	uint64_t lost;
	int idx, r;

	if ((r = need_fields(o, true, true, true)) != 0)
		return r;
	if (o->n != 0)
		return SC_ERR_FORMAT;
	if ((d = dom_find(hv, o->h.domid)) == NULL)
		return SC_ERR_NOTFOUND;
	if ((idx = sess_find(d, o->h.session)) < 0)
		return SC_ERR_NOTFOUND;
	s = d->sess[idx];
	s->out_evented = false;		/* dom0 is listening: the next output tells it */
	max = o->h.arg ? SC_MIN((size_t)o->h.arg, (size_t)SC_OP_PAYLOAD_MAX) :
	    SC_OP_PAYLOAD_MAX;
	if (o->out.size > max)
		o->out.size = max;	/* nothing has been written yet */
	if ((r = dom_pump(hv, d, &moved)) != 0)
		dom_mark_broken(hv, d);
	pumped = moved;
	r = 0;

	sess_emit_ctrlq(s, &o->out);
	if (s->ctrlq_len > 0) {
		more = true;
		goto done;
	}
	if (s->state == SC_HV_SESS_CLOSING) {
		sess_free(hv, d, idx, false);
		closed = true;
		goto done;
	}
	for (;;) {
		/* The longest payload that still fits, padding included. */
		if ((fit = item_fit(s, sc_buf_room(&o->out))) == 0)
			break;
		if (s->replay_active) {
			if (s->replay_pos < d->tail)
				s->replay_pos = SC_MIN(d->tail, s->replay_end);
			if (s->replay_pos < s->replay_end) {
				n = (size_t)SC_MIN(s->replay_end - s->replay_pos,
				    (uint64_t)(SC_RECORD_PAYLOAD_MAX - 1));
				if (fit < 2)
					break;
				n = SC_MIN(n, fit - 1);
				hv->scratch_pt[0] = s->replay_pos + n == s->replay_end;
				hist_copy_out(d, s->replay_pos, hv->scratch_pt + 1, n);
				r = sess_seal(hv, s, SC_REC_HISTORY, hv->scratch_pt,
				    n + 1, &o->out);
				hv->cp->memzero(hv->scratch_pt, n + 1);
				if (r != 0)
					break;
				s->replay_pos += n;
				s->replay_done += n;
			} else {
				if ((r = notice_build(nb, sizeof(nb),
				    SC_NOTICE_HISTORY_END, s->replay_done,
				    "end of history", &n)) != 0 ||
				    (r = sess_seal(hv, s, SC_REC_NOTICE, nb, n,
				    &o->out)) != 0)
					break;
				s->replay_active = false;
			}
		} else if (s->out_pos < d->tail) {
			/* A viewer fell behind the history buffer. */
			lost = d->tail - s->out_pos;
			if ((r = notice_build(nb, sizeof(nb), SC_NOTICE_LOST_OUTPUT,
			    lost, "console output lost", &n)) != 0 ||
			    (r = sess_seal(hv, s, SC_REC_NOTICE, nb, n, &o->out)) != 0)
				break;
			s->out_pos = d->tail;
		} else if (s->out_pos < d->head) {
			n = (size_t)SC_MIN(d->head - s->out_pos,
			    (uint64_t)SC_RECORD_PAYLOAD_MAX);
			n = SC_MIN(n, fit);
			hist_copy_out(d, s->out_pos, hv->scratch_pt, n);
			r = sess_seal(hv, s, SC_REC_DATA, hv->scratch_pt, n, &o->out);
			hv->cp->memzero(hv->scratch_pt, n);
			if (r != 0)
				break;
			s->out_pos += n;
			if (idx == d->writer && dom_pump(hv, d, &moved) != 0) {
				dom_mark_broken(hv, d);
				break;
			}
			pumped += moved;
		} else
			break;
	}
	if (r == SC_ERR_NOSPACE)
		r = 0;
	if (s->state != SC_HV_SESS_FREE) {
		size_t avail = 0;
		more = sess_has_output(d, s);
		if (!more && idx == d->writer && !d->broken &&
		    sc_ring_out_avail(d->ring, &avail) == 0 && avail > 0)
			more = true;
	}
done:
	o->arg = (more ? SC_OUT_F_MORE : 0) | (closed ? SC_OUT_F_CLOSED : 0);
	if (pumped > 0)
		announce_output(hv, d, idx);
	if (!closed)
		dom_maybe_unblock(hv, d, idx);
	return r;
}

static int
op_raw_input(struct sc_hv *hv, struct op_ctx *o)
{
	struct sc_hv_domain *d;
	size_t w;
	int r;

	if ((r = need_fields(o, true, false, false)) != 0)
		return r;
	if ((d = dom_find(hv, o->h.domid)) == NULL)
		return SC_ERR_NOTFOUND;
	if (d->protected)
		return SC_ERR_PROTECTED;
	if (d->broken)
		return SC_ERR_CORRUPT;
	if ((r = sc_ring_in_write(d->ring, o->p, o->n, &w)) != 0) {
		dom_mark_broken(hv, d);
		return r;
	}
	if (w > 0)
		guest_kick(hv, d);
	if (w < o->n)
		d->in_blocked = true;
	o->arg = (uint32_t)w;
	return 0;
}

static int
op_raw_output(struct sc_hv *hv, struct op_ctx *o)
{
	struct sc_hv_domain *d;
	size_t max, got, avail;
	int r;

	if ((r = need_fields(o, true, false, true)) != 0)
		return r;
	if (o->n != 0)
		return SC_ERR_FORMAT;
	if ((d = dom_find(hv, o->h.domid)) == NULL)
		return SC_ERR_NOTFOUND;
	if (d->protected)
		return SC_ERR_PROTECTED;
	if (d->broken)
		return SC_ERR_CORRUPT;
	max = o->h.arg ? SC_MIN((size_t)o->h.arg, (size_t)SC_OP_PAYLOAD_MAX) :
	    SC_OP_PAYLOAD_MAX;
	max = SC_MIN(max, sc_buf_room(&o->out));
	max = SC_MIN(max, (size_t)SC_RING_OUT_SIZE);
	if ((r = sc_ring_out_read(d->ring, hv->scratch_pt, max, &got)) != 0) {
		dom_mark_broken(hv, d);
		return r;
	}
	r = sc_buf_put_bytes(&o->out, hv->scratch_pt, got);
	hv->cp->memzero(hv->scratch_pt, got);
	if (r != 0)
		return SC_ERR_INTERNAL;
	if (got > 0)
		guest_kick(hv, d);
	o->arg = (sc_ring_out_avail(d->ring, &avail) == 0 && avail > 0) ?
	    SC_OUT_F_MORE : 0;
	return 0;
}

int
sc_hv_dispatch(struct sc_hv *hv, const uint8_t *req, size_t len,
    uint8_t *resp, size_t cap, size_t *resp_len)
{
	struct op_ctx o;
	struct sc_op_hdr rh;
	struct sc_buf in, hb;
	int r;

	if (resp_len != NULL)
		*resp_len = 0;
	if (hv == NULL || resp == NULL || resp_len == NULL || (req == NULL && len > 0))
		return SC_ERR_INVAL;
	if (cap < SC_OP_HDR_LEN)
		return SC_ERR_NOSPACE;
	sc_memset(&o, 0, sizeof(o));
	sc_buf_init(&o.out, resp + SC_OP_HDR_LEN,
	    SC_MIN(cap - SC_OP_HDR_LEN, (size_t)SC_OP_PAYLOAD_MAX));
	sc_buf_init_ro(&in, req, len);
	if ((r = sc_op_hdr_get(&in, &o.h)) != 0) {
		/* Answer with what the request said it was, if that much came. */
		(void)sc_op_hdr_peek(&in, &o.h);
		goto respond;
	}
	o.p = sc_buf_rptr(&in);
	o.n = sc_buf_avail(&in);
	o.session = o.h.session;
	if (o.n < o.h.len)
		r = SC_ERR_TRUNCATED;
	else if (o.n > o.h.len)
		r = SC_ERR_FORMAT;
	else if (o.h.status != 0)
		r = SC_ERR_INVAL;
	else {
		switch (o.h.op) {
		case SC_OP_GET_INFO:	r = op_get_info(hv, &o); break;
		case SC_OP_LIST_DOMAINS: r = op_list(hv, &o); break;
		case SC_OP_PROTECT:	r = op_protect(hv, &o); break;
		case SC_OP_OPEN:	r = op_open(hv, &o); break;
		case SC_OP_CLOSE:	r = op_close(hv, &o); break;
		case SC_OP_INPUT:	r = op_input(hv, &o); break;
		case SC_OP_OUTPUT:	r = op_output(hv, &o); break;
		case SC_OP_STATUS:	r = op_status(hv, &o); break;
		case SC_OP_RAW_INPUT:	r = op_raw_input(hv, &o); break;
		case SC_OP_RAW_OUTPUT:	r = op_raw_output(hv, &o); break;
		default:		r = SC_ERR_TYPE; break;
		}
	}
respond:
	if (r != 0 && !o.keep_payload)
		o.out.len = 0;
	sc_op_hdr_init(&rh, o.h.op, o.h.domid, r == 0 ? o.session : o.h.session,
	    o.arg, o.h.seq);
	rh.status = r;
	rh.len = (uint32_t)o.out.len;
	sc_buf_init(&hb, resp, SC_OP_HDR_LEN);
	if (sc_op_hdr_put(&hb, &rh) != 0)
		return SC_ERR_INTERNAL;
	*resp_len = SC_OP_HDR_LEN + o.out.len;
	return 0;
}
