/*
 * hv_ops.c — the ops dom0 calls (core/ops.h, PROTOCOL.md §8.2) and their
 * dispatcher: sc_hv_call_begin / _crypto / _commit (hv.h, "Ops in phases")
 * and sc_hv_dispatch, the three back to back.  OPEN and PROTECT are in
 * hv_call.c.  Each op validates its request's fields and payload before it
 * changes anything.
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

/*
 * A header field the op does not use must be 0 and a session op must name
 * a session (else SC_ERR_INVAL); a payload it does not take is
 * SC_ERR_FORMAT.
 */
int
sc_hv_need_fields(const struct sc_hv_opreq *o, unsigned uses)
{
	if ((!(uses & SC_HV_USES_DOMID) && o->h.domid != 0) ||
	    (!(uses & SC_HV_USES_SESSION) && o->h.session != 0) ||
	    (!(uses & SC_HV_USES_ARG) && o->h.arg != 0))
		return SC_ERR_INVAL;
	if ((uses & SC_HV_USES_SESSION) && o->h.session == 0)
		return SC_ERR_INVAL;
	if (!(uses & SC_HV_USES_PAYLOAD) && o->n != 0)
		return SC_ERR_FORMAT;
	return 0;
}

/* The domain and the session (index in d->sess) a session op names. */
static int
op_session(struct sc_hv *hv, const struct sc_hv_opreq *o, struct sc_hv_domain **d,
    int *idx)
{
	(void)hv;
	if ((*d = o->dom) == NULL)
		return SC_ERR_NOTFOUND;
	if ((*idx = sc_hv_sess_find(*d, o->h.session)) < 0)
		return SC_ERR_NOTFOUND;
	return 0;
}

static int
op_get_info(struct sc_hv *hv, struct sc_hv_opreq *o)
{
	int r;

	if ((r = sc_hv_need_fields(o, 0)) != 0)
		return r;
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
op_list(struct sc_hv *hv, struct sc_hv_opreq *o)
{
	uint8_t name[SC_VMNAME_MAX];
	uint32_t count = 0, skip = o->h.arg;
	struct sc_hv_domain *d;
	unsigned i;
	bool ref;
	int r;

	if ((r = sc_hv_need_fields(o, SC_HV_USES_ARG)) != 0)
		return r;
	/*
	 * A page: the domains from index arg on, in slot order (§8.2), each
	 * read under its own lock (one at a time).
	 */
	for (i = 0; i < hv->max_domains && count < SC_OP_LIST_PAGE; i++) {
		if ((d = sc_hv_dom_get_slot(hv, i, &ref)) == NULL)
			continue;
		if (skip > 0) {
			skip--;
			sc_hv_dom_put(hv, d, ref);
			continue;
		}
		sc_memset(name, 0, sizeof(name));
		sc_memcpy(name, d->name, sc_hv_strlen(d->name));
		if ((r = sc_buf_put_u32_le(&o->out, d->domid)) != 0 ||
		    (r = sc_buf_put_bytes(&o->out, d->uuid, SC_UUID_LEN)) != 0 ||
		    (r = sc_buf_put_bytes(&o->out, name, sizeof(name))) != 0 ||
		    (r = sc_buf_put_u32_le(&o->out, sc_hv_dom_flags(d))) != 0) {
			sc_hv_dom_put(hv, d, ref);
			return r;
		}
		sc_hv_dom_put(hv, d, ref);
		count++;
	}
	o->arg = count;
	return 0;
}

static int
op_status(struct sc_hv *hv, struct sc_hv_opreq *o)
{
	struct sc_hv_domain *d;
	uint32_t sessions = 0;
	int i, r;

	if ((r = sc_hv_need_fields(o, SC_HV_USES_DOMID)) != 0)
		return r;
	(void)hv;
	if ((d = o->dom) == NULL)
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
	if ((r = sc_buf_put_u32_le(&o->out, sc_hv_dom_flags(d))) != 0 ||
	    (r = sc_buf_put_u32_le(&o->out, sessions)) != 0 ||
	    (r = sc_buf_put_u32_le(&o->out, d->protected ?
	    (uint32_t)d->hist_size : 0)) != 0)
		return r;
	return 0;
}

static int
op_close(struct sc_hv *hv, struct sc_hv_opreq *o)
{
	struct sc_hv_domain *d;
	int idx, r;

	if ((r = sc_hv_need_fields(o, SC_HV_USES_DOMID | SC_HV_USES_SESSION)) != 0)
		return r;
	if ((r = op_session(hv, o, &d, &idx)) != 0)
		return r;
	sc_hv_sess_free(hv, d, idx, false);
	sc_hv_dom_maybe_unblock(hv, d, -1);
	return 0;
}

static int
op_input(struct sc_hv *hv, struct sc_hv_opreq *o)
{
	struct sc_hv_domain *d;
	struct sc_hv_session *s;
	struct sc_buf in;
	size_t need, take, ilen;
	bool blocked = false;
	int idx, r;

	if ((r = sc_hv_need_fields(o, SC_HV_USES_DOMID | SC_HV_USES_SESSION |
	    SC_HV_USES_PAYLOAD)) != 0)
		return r;
	if ((r = op_session(hv, o, &d, &idx)) != 0)
		return r;
	/* dom0's items, consumed through the buffer (item_have bounds s->item). */
	sc_buf_init_ro(&in, o->p, o->n);
	s = d->sess[idx];
	if (s->state != SC_HV_SESS_OPEN)
		return SC_ERR_CLOSED;
	if (d->broken)
		return SC_ERR_CORRUPT;
	if ((r = sc_hv_dom_flush_input(hv, d)) != 0) {
		sc_hv_dom_mark_broken(hv, d);
		return r;
	}
	while (s->state == SC_HV_SESS_OPEN) {
		if (s->item_have < SC_OP_ITEM_HDR_LEN) {
			if (sc_buf_get_u8(&in, &s->item[s->item_have]) != 0)
				break;
			if (++s->item_have < SC_OP_ITEM_HDR_LEN)
				continue;
			if ((r = sc_hv_item_len(s, &ilen)) != 0) {
				r = sc_hv_sess_violation(hv, d, idx, r,
				    r == SC_ERR_TOOLONG ? "record over the size limit" :
				    "record shorter than the smallest size");
				break;
			}
			continue;
		}
		if (sc_hv_item_len(s, &ilen) != 0) {
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
		if (!sc_hv_sess_ready(d, idx)) {
			blocked = true;
			break;
		}
		if (sc_buf_get_u8(&in, &s->item[s->item_have]) != 0) {
			r = SC_ERR_INTERNAL;
			break;
		}
		s->item_have++;
		r = sc_hv_sess_record(hv, d, idx);
		if (d->sess[idx] != NULL && d->sess[idx]->id == o->h.session)
			s->item_have = 0;
		if (r != 0)
			break;
		if ((r = sc_hv_dom_flush_input(hv, d)) != 0) {
			sc_hv_dom_mark_broken(hv, d);
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
	    sc_hv_sess_has_output(d, s))
		sc_hv_notify(hv, d, s->id, SC_EV_OUTPUT);
	return r;
}

static int
op_output(struct sc_hv *hv, struct sc_hv_opreq *o)
{
	struct sc_hv_domain *d;
	struct sc_hv_session *s;
	size_t max, n, moved, pumped, fit;
	uint8_t nb[2 + 8 + 1 + 64];
	bool more = false, closed = false;
	uint64_t lost;
	int idx, r;

	if ((r = sc_hv_need_fields(o, SC_HV_USES_DOMID | SC_HV_USES_SESSION |
	    SC_HV_USES_ARG)) != 0)
		return r;
	if ((r = op_session(hv, o, &d, &idx)) != 0)
		return r;
	s = d->sess[idx];
	s->out_evented = false;		/* dom0 is listening: the next output tells it */
	max = o->h.arg ? SC_MIN((size_t)o->h.arg, (size_t)SC_OP_PAYLOAD_MAX) :
	    SC_OP_PAYLOAD_MAX;
	if (o->out.size > max)
		o->out.size = max;	/* nothing has been written yet */
	if ((r = sc_hv_dom_pump(hv, d, &moved)) != 0)
		sc_hv_dom_mark_broken(hv, d);
	pumped = moved;
	r = 0;

	sc_hv_sess_emit_ctrlq(s, &o->out);
	if (s->ctrlq_len > 0) {
		more = true;
		goto done;
	}
	if (s->state == SC_HV_SESS_CLOSING) {
		sc_hv_sess_free(hv, d, idx, false);
		closed = true;
		goto done;
	}
	for (;;) {
		/* The longest payload that still fits, padding included. */
		if ((fit = sc_hv_item_fit(s, sc_buf_room(&o->out))) == 0)
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
				d->scratch_pt[0] = s->replay_pos + n == s->replay_end;
				sc_hv_hist_copy_out(d, s->replay_pos, d->scratch_pt + 1, n);
				r = sc_hv_sess_seal(hv, s, SC_REC_HISTORY, d->scratch_pt,
				    n + 1, &o->out);
				hv->cp->memzero(d->scratch_pt, n + 1);
				if (r != 0)
					break;
				s->replay_pos += n;
				s->replay_done += n;
			} else {
				if ((r = sc_hv_notice_build(nb, sizeof(nb),
				    SC_NOTICE_HISTORY_END, s->replay_done,
				    "end of history", &n)) != 0 ||
				    (r = sc_hv_sess_seal(hv, s, SC_REC_NOTICE, nb, n,
				    &o->out)) != 0)
					break;
				s->replay_active = false;
			}
		} else if (s->out_pos < d->tail) {
			/* A viewer fell behind the history buffer. */
			lost = d->tail - s->out_pos;
			if ((r = sc_hv_notice_build(nb, sizeof(nb), SC_NOTICE_LOST_OUTPUT,
			    lost, "console output lost", &n)) != 0 ||
			    (r = sc_hv_sess_seal(hv, s, SC_REC_NOTICE, nb, n, &o->out)) != 0)
				break;
			s->out_pos = d->tail;
		} else if (s->out_pos < d->head) {
			n = (size_t)SC_MIN(d->head - s->out_pos,
			    (uint64_t)SC_RECORD_PAYLOAD_MAX);
			n = SC_MIN(n, fit);
			sc_hv_hist_copy_out(d, s->out_pos, d->scratch_pt, n);
			r = sc_hv_sess_seal(hv, s, SC_REC_DATA, d->scratch_pt, n, &o->out);
			hv->cp->memzero(d->scratch_pt, n);
			if (r != 0)
				break;
			s->out_pos += n;
			if (idx == d->writer && sc_hv_dom_pump(hv, d, &moved) != 0) {
				sc_hv_dom_mark_broken(hv, d);
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
		more = sc_hv_sess_has_output(d, s);
		if (!more && idx == d->writer && !d->broken &&
		    sc_ring_out_avail(d->ring, &avail) == 0 && avail > 0)
			more = true;
	}
done:
	o->arg = (more ? SC_OUT_F_MORE : 0) | (closed ? SC_OUT_F_CLOSED : 0);
	if (pumped > 0)
		sc_hv_announce_output(hv, d, idx);
	if (!closed)
		sc_hv_dom_maybe_unblock(hv, d, idx);
	return r;
}

/* The domain of a RAW op: an unprotected one, with its ring intact. */
static int
raw_domain(struct sc_hv *hv, const struct sc_hv_opreq *o, unsigned uses,
    struct sc_hv_domain **d)
{
	int r;

	if ((r = sc_hv_need_fields(o, uses)) != 0)
		return r;
	(void)hv;
	if ((*d = o->dom) == NULL)
		return SC_ERR_NOTFOUND;
	if ((*d)->protected)
		return SC_ERR_PROTECTED;
	if ((*d)->broken)
		return SC_ERR_CORRUPT;
	return 0;
}

static int
op_raw_input(struct sc_hv *hv, struct sc_hv_opreq *o)
{
	struct sc_hv_domain *d;
	size_t w;
	int r;

	if ((r = raw_domain(hv, o, SC_HV_USES_DOMID | SC_HV_USES_PAYLOAD, &d)) != 0)
		return r;
	if ((r = sc_ring_in_write(d->ring, o->p, o->n, &w)) != 0) {
		sc_hv_dom_mark_broken(hv, d);
		return r;
	}
	if (w > 0)
		sc_hv_guest_kick(hv, d);
	if (w < o->n)
		d->in_blocked = true;
	o->arg = (uint32_t)w;
	return 0;
}

static int
op_raw_output(struct sc_hv *hv, struct sc_hv_opreq *o)
{
	struct sc_hv_domain *d;
	size_t max, got, avail;
	int r;

	if ((r = raw_domain(hv, o, SC_HV_USES_DOMID | SC_HV_USES_ARG, &d)) != 0)
		return r;
	d->raw_evented = false;		/* dom0 is reading: the next output tells it */
	max = o->h.arg ? SC_MIN((size_t)o->h.arg, (size_t)SC_OP_PAYLOAD_MAX) :
	    SC_OP_PAYLOAD_MAX;
	max = SC_MIN(max, sc_buf_room(&o->out));
	max = SC_MIN(max, (size_t)SC_RING_OUT_SIZE);
	if ((r = sc_ring_out_read(d->ring, d->scratch_pt, max, &got)) != 0) {
		sc_hv_dom_mark_broken(hv, d);
		return r;
	}
	r = sc_buf_put_bytes(&o->out, d->scratch_pt, got);
	hv->cp->memzero(d->scratch_pt, got);
	if (r != 0)
		return SC_ERR_INTERNAL;
	if (got > 0)
		sc_hv_guest_kick(hv, d);
	o->arg = (sc_ring_out_avail(d->ring, &avail) == 0 && avail > 0) ?
	    SC_OUT_F_MORE : 0;
	return 0;
}

/* Phases of a call (hv.h). */
enum {
	PHASE_NONE = 0,
	PHASE_CRYPTO,		/* begin done: crypto next */
	PHASE_COMMIT,		/* crypto done: commit next */
};

/*
 * The domain the request names, locked for one phase (hv.h, "Locking"):
 * every op that uses a domain finds it in o->dom (NULL: none).  GET_INFO
 * and LIST_DOMAINS name none (LIST_DOMAINS locks each in turn).
 */
static void
call_dom_get(struct sc_hv *hv, struct sc_hv_call *c)
{
	struct sc_hv_opreq *o = &c->o;
	int busy;

	o->dom = NULL;
	o->dom_ref = false;
	if (o->h.op != SC_OP_GET_INFO && o->h.op != SC_OP_LIST_DOMAINS)
		o->dom = sc_hv_dom_get(hv, o->h.domid, false, &o->dom_ref, &busy);
}

static void
call_dom_put(struct sc_hv *hv, struct sc_hv_call *c)
{
	struct sc_hv_opreq *o = &c->o;

	if (o->dom != NULL)
		sc_hv_dom_put(hv, o->dom, o->dom_ref);
	o->dom = NULL;
	o->dom_ref = false;
}

/* Write the response header for status r; wipe the call. */
static int
call_respond(const struct sc_hv *hv, struct sc_hv_call *c, int r,
    size_t *resp_len)
{
	struct sc_hv_opreq *o = &c->o;
	struct sc_op_hdr rh;
	struct sc_buf hb;
	int ret = 0;

	if (r != 0 && !o->keep_payload)
		o->out.len = 0;
	sc_op_hdr_init(&rh, o->h.op, o->h.domid, r == 0 ? o->session : o->h.session,
	    o->arg, o->h.seq);
	rh.status = r;
	rh.len = (uint32_t)o->out.len;
	sc_buf_init(&hb, c->resp, SC_OP_HDR_LEN);
	if (sc_op_hdr_put(&hb, &rh) != 0)
		ret = SC_ERR_INTERNAL;
	else
		*resp_len = SC_OP_HDR_LEN + o->out.len;
	sc_hv_call_wipe(hv, c);
	return ret;
}

int
sc_hv_call_begin(struct sc_hv *hv, struct sc_hv_call *c, const uint8_t *req,
    size_t len, uint8_t *resp, size_t cap, size_t *resp_len)
{
	struct sc_hv_opreq *o;
	struct sc_buf in;
	int r;

	if (resp_len != NULL)
		*resp_len = 0;
	if (hv == NULL || c == NULL || resp == NULL || resp_len == NULL ||
	    (req == NULL && len > 0))
		return SC_ERR_INVAL;
	if (cap < SC_OP_HDR_LEN)
		return SC_ERR_NOSPACE;
	sc_memset(c, 0, sizeof(*c));
	o = &c->o;
	c->resp = resp;
	c->cap = cap;
	sc_buf_init(&o->out, resp + SC_OP_HDR_LEN,
	    SC_MIN(cap - SC_OP_HDR_LEN, (size_t)SC_OP_PAYLOAD_MAX));
	sc_buf_init_ro(&in, req, len);
	if ((r = sc_op_hdr_get(&in, &o->h)) != 0) {
		/* Answer with what the request said it was, if that much came. */
		(void)sc_op_hdr_peek(&in, &o->h);
		return call_respond(hv, c, r, resp_len);
	}
	o->p = sc_buf_rptr(&in);
	o->n = sc_buf_avail(&in);
	o->session = o->h.session;
	if (o->n < o->h.len)
		r = SC_ERR_TRUNCATED;
	else if (o->n > o->h.len)
		r = SC_ERR_FORMAT;
	else if (o->h.status != 0)
		r = SC_ERR_INVAL;
	else {
		call_dom_get(hv, c);
		switch (o->h.op) {
		case SC_OP_GET_INFO:	r = op_get_info(hv, o); break;
		case SC_OP_LIST_DOMAINS: r = op_list(hv, o); break;
		case SC_OP_PROTECT:	r = sc_hv_protect_begin(hv, c); break;
		case SC_OP_OPEN:	r = sc_hv_open_begin(hv, c); break;
		case SC_OP_CLOSE:	r = op_close(hv, o); break;
		case SC_OP_INPUT:	r = op_input(hv, o); break;
		case SC_OP_OUTPUT:	r = op_output(hv, o); break;
		case SC_OP_STATUS:	r = op_status(hv, o); break;
		case SC_OP_RAW_INPUT:	r = op_raw_input(hv, o); break;
		case SC_OP_RAW_OUTPUT:	r = op_raw_output(hv, o); break;
		default:		r = SC_ERR_TYPE; break;
		}
		call_dom_put(hv, c);
	}
	if (r == SC_HV_CALL_CRYPTO) {
		c->phase = PHASE_CRYPTO;
		return SC_HV_CALL_CRYPTO;
	}
	return call_respond(hv, c, r, resp_len);
}

void
sc_hv_call_crypto(const struct sc_hv *hv, struct sc_hv_call *c)
{
	if (c->phase != PHASE_CRYPTO) {
		c->status = SC_ERR_INTERNAL;	/* commit answers it */
		c->phase = PHASE_COMMIT;
		return;
	}
	c->status = c->o.h.op == SC_OP_OPEN ? sc_hv_open_crypto(hv, c) :
	    sc_hv_protect_crypto(hv, c);
	c->phase = PHASE_COMMIT;
}

int
sc_hv_call_commit(struct sc_hv *hv, struct sc_hv_call *c, size_t *resp_len)
{
	int r;

	if (resp_len == NULL || c->resp == NULL) {
		sc_hv_call_wipe(hv, c);
		return SC_ERR_INVAL;
	}
	*resp_len = 0;
	if (c->phase != PHASE_COMMIT)
		r = SC_ERR_INTERNAL;
	else if (c->status != 0)
		r = c->status;
	else {
		call_dom_get(hv, c);
		r = c->o.h.op == SC_OP_OPEN ? sc_hv_open_commit(hv, c) :
		    sc_hv_protect_commit(hv, c);
		call_dom_put(hv, c);
	}
	return call_respond(hv, c, r, resp_len);
}

void
sc_hv_call_wipe(const struct sc_hv *hv, struct sc_hv_call *c)
{
	hv->cp->memzero(c, sizeof(*c));
}

int
sc_hv_dispatch(struct sc_hv *hv, const uint8_t *req, size_t len,
    uint8_t *resp, size_t cap, size_t *resp_len)
{
	struct sc_hv_call c;
	int r;

	r = sc_hv_call_begin(hv, &c, req, len, resp, cap, resp_len);
	if (r != SC_HV_CALL_CRYPTO)
		return r;
	sc_hv_call_crypto(hv, &c);
	return sc_hv_call_commit(hv, &c, resp_len);
}
