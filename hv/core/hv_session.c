/*
 * hv_session.c — sessions (hv_int.h): the pool, sealing records and
 * queueing control records, closing, slots, replays, and what a session
 * has to deliver.
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

int
sc_hv_sess_find(const struct sc_hv_domain *d, uint32_t id)
{
	int i;

	if (id == 0)
		return -1;
	for (i = 0; i < SC_HV_MAX_SESSIONS; i++)
		if (d->sess[i] != NULL && d->sess[i]->id == id)
			return i;
	return -1;
}

/* Append { len:u16le ct } for one record to out, all or nothing. */
static int
seal_item(struct sc_hv *hv, struct sc_hv_session *s, uint8_t type,
    const uint8_t *p, size_t n, struct sc_buf *out)
{
	struct sc_buf ct;
	int r;

	(void)hv;
	if (n > SC_RECORD_PAYLOAD_MAX)
		return SC_ERR_TOOLONG;
	if (sc_buf_room(out) < SC_OP_ITEM_HDR_LEN + sc_record_ct_len(n))
		return SC_ERR_NOSPACE;
	sc_buf_init(&ct, s->dom->scratch_ct, sizeof(s->dom->scratch_ct));
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
size_t
sc_hv_item_fit(const struct sc_hv_session *s, size_t room)
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
int
sc_hv_sess_seal(struct sc_hv *hv, struct sc_hv_session *s, uint8_t type,
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
int
sc_hv_sess_queue(struct sc_hv *hv, struct sc_hv_session *s, uint8_t type,
    const uint8_t *p, size_t n)
{
	size_t cap = SC_HV_CTRLQ_SIZE - SC_HV_CLOSE_RESERVE;
	struct sc_buf q;
	int r;

	if (s->ctrlq_len >= cap)
		return SC_ERR_NOSPACE;
	sc_buf_init(&q, s->ctrlq + s->ctrlq_len, cap - s->ctrlq_len);
	if ((r = sc_hv_sess_seal(hv, s, type, p, n, &q)) != 0)
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
	sc_buf_init(&ct, s->dom->scratch_ct, sizeof(s->dom->scratch_ct));
	if ((r = sc_record_seal_close(&s->rl, reason, text, &ct)) != 0 ||
	    (r = sc_op_item_put(&q, ct.data, ct.len)) != 0)
		return r;
	s->ctrlq_len += q.len;
	return 0;
}

/* NOTICE: code:u16 value:u64 text:str8 */
int
sc_hv_notice_build(uint8_t *mem, size_t cap, uint16_t code, uint64_t value,
    const char *text, size_t *len)
{
	struct sc_buf b;
	int r;

	sc_buf_init(&b, mem, cap);
	if ((r = sc_buf_put_u16(&b, code)) != 0 ||
	    (r = sc_buf_put_u64(&b, value)) != 0 ||
	    (r = sc_buf_put_str8(&b, text, sc_hv_strlen(text))) != 0)
		return r;
	*len = b.len;
	return 0;
}

int
sc_hv_sess_notice(struct sc_hv *hv, struct sc_hv_session *s, uint16_t code,
    uint64_t value, const char *text)
{
	uint8_t mem[2 + 8 + 1 + 255];
	size_t n;
	int r;

	if ((r = sc_hv_notice_build(mem, sizeof(mem), code, value, text, &n)) != 0)
		return r;
	return sc_hv_sess_queue(hv, s, SC_REC_NOTICE, mem, n);
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
void
sc_hv_sess_free(struct sc_hv *hv, struct sc_hv_domain *d, int idx, bool event)
{
	struct sc_hv_session *s = d->sess[idx];
	uint32_t id = s->id;

	if (d->writer == idx)
		writer_detach(d);
	sc_record_wipe(&s->rl);
	hv->cp->memzero(s, sizeof(*s));	/* state FREE */
	d->sess[idx] = NULL;
	sc_hv_lock(hv, SC_HV_LOCK_SHARED);
	s->next_free = hv->pool_free;
	hv->pool_free = s;
	hv->pool_free_count++;
	if (--d->nsess == 0)
		hv->busy_domains--;
	sc_hv_unlock(hv, SC_HV_LOCK_SHARED);
	if (event)
		sc_hv_notify(hv, d, id, SC_EV_SESSION_CLOSED);
}

/*
 * May d take one more session from the pool?  One entry stays free for
 * every domain slot that holds no session (other than d), so a domain's
 * first session is never refused because other domains took the pool.
 * SHARED held.
 */
static bool
pool_can_take(const struct sc_hv *hv, const struct sc_hv_domain *d)
{
	unsigned reserved = hv->max_domains - hv->busy_domains -
	    (d->nsess == 0 ? 1 : 0);

	return hv->pool_free_count > reserved;
}

/* A snapshot: sc_hv_sess_take decides again. */
bool
sc_hv_pool_can_take(const struct sc_hv *hv, const struct sc_hv_domain *d)
{
	bool ok;

	sc_hv_lock(hv, SC_HV_LOCK_SHARED);
	ok = pool_can_take(hv, d);
	sc_hv_unlock(hv, SC_HV_LOCK_SHARED);
	return ok;
}

/*
 * Give d's empty slot idx a zeroed session from the pool, or NULL if the
 * pool cannot give d one (other domains took it since it was checked).
 */
struct sc_hv_session *
sc_hv_sess_take(struct sc_hv *hv, struct sc_hv_domain *d, int idx)
{
	struct sc_hv_session *s = NULL;

	sc_hv_lock(hv, SC_HV_LOCK_SHARED);
	if (pool_can_take(hv, d)) {
		s = hv->pool_free;
		hv->pool_free = s->next_free;
		hv->pool_free_count--;
		s->next_free = NULL;
		s->dom = d;
		d->sess[idx] = s;
		if (d->nsess++ == 0)
			hv->busy_domains++;
	}
	sc_hv_unlock(hv, SC_HV_LOCK_SHARED);
	return s;
}

/*
 * End a session from the hv side: queue CLOSE(reason, text), stop reading
 * its input, release the writer role.  dom0 collects the CLOSE with OUTPUT
 * (which then frees the slot) or discards it with the CLOSE op.
 */
void
sc_hv_sess_begin_close(struct sc_hv *hv, struct sc_hv_domain *d, int idx,
    uint8_t reason, const char *text)
{
	struct sc_hv_session *s = d->sess[idx];

	if (s == NULL || s->state != SC_HV_SESS_OPEN)
		return;
	if (sess_queue_close(hv, s, reason, text) != 0) {
		sc_hv_sess_free(hv, d, idx, true);
		return;
	}
	if (d->writer == idx)
		writer_detach(d);
	s->state = SC_HV_SESS_CLOSING;
	s->replay_active = false;
	s->item_have = 0;
	sc_hv_notify(hv, d, s->id, SC_EV_SESSION_CLOSED | SC_EV_OUTPUT);
}

bool
sc_hv_sess_has_output(const struct sc_hv_domain *d, const struct sc_hv_session *s)
{
	if (s == NULL || s->state == SC_HV_SESS_FREE)
		return false;
	if (s->ctrlq_len > 0 || s->state == SC_HV_SESS_CLOSING)
		return true;
	return s->replay_active || s->out_pos < d->head;
}

bool
sc_hv_sess_ready(const struct sc_hv_domain *d, int idx)
{
	const struct sc_hv_session *s = d->sess[idx];

	if (SC_HV_CTRLQ_SIZE - s->ctrlq_len < SC_HV_CTRL_RESERVE)
		return false;
	/* A writer candidate may become the writer with this very record. */
	if (!s->viewer && !sc_hv_dom_pending_empty(d))
		return false;
	return true;
}

/* A session of d whose CLOSE is still queued (its slot may be reused), or -1. */
int
sc_hv_sess_slot_closing(const struct sc_hv_domain *d)
{
	int i;

	for (i = 0; i < SC_HV_MAX_SESSIONS; i++)
		if (d->sess[i] != NULL && d->sess[i]->state == SC_HV_SESS_CLOSING)
			return i;
	return -1;
}

int
sc_hv_sess_slot(const struct sc_hv_domain *d, bool reclaim)
{
	int i;

	for (i = 0; i < SC_HV_MAX_SESSIONS; i++)
		if (d->sess[i] == NULL)
			return i;
	return reclaim ? sc_hv_sess_slot_closing(d) : -1;
}

void
sc_hv_sess_start_replay(struct sc_hv_domain *d, struct sc_hv_session *s, uint64_t wanted)
{
	uint64_t avail = 0, n;

	if (d->options & SC_REG_OPT_HISTORY)
		avail = d->head - sc_hv_hist_start(d);
	n = SC_MIN(wanted, avail);
	s->replay_active = true;
	s->replay_pos = d->head - n;
	s->replay_end = d->head;
	s->replay_done = 0;
}

/* Put queued control records into out, whole ones, in order. */
void
sc_hv_sess_emit_ctrlq(struct sc_hv_session *s, struct sc_buf *out)
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
void
sc_hv_announce_output(struct sc_hv *hv, struct sc_hv_domain *d, int skip)
{
	struct sc_hv_session *t;
	int i;

	for (i = 0; i < SC_HV_MAX_SESSIONS; i++) {
		t = d->sess[i];
		if (i == skip || t == NULL || t->state != SC_HV_SESS_OPEN || t->out_evented ||
		    !sc_hv_sess_has_output(d, t))
			continue;
		t->out_evented = true;
		sc_hv_notify(hv, d, t->id, SC_EV_OUTPUT);
	}
}
