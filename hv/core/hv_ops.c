/*
 * hv_ops.c — the ops dom0 calls (core/ops.h, PROTOCOL.md §8.2) and their
 * dispatcher, sc_hv_dispatch.  Each op_* handler validates its request's
 * fields and payload before it changes anything.
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

struct op_ctx {
	struct sc_op_hdr	h;		/* request */
	const uint8_t		*p;		/* request payload */
	size_t			 n;
	struct sc_buf		 out;		/* response payload */
	uint32_t		 session;	/* response fields */
	uint32_t		 arg;
	bool			 keep_payload;	/* payload survives an error status */
};

/* What an op uses of a request besides its op and seq (need_fields). */
#define USES_DOMID	0x01
#define USES_SESSION	0x02	/* and must name one */
#define USES_ARG	0x04
#define USES_PAYLOAD	0x08

/*
 * A header field the op does not use must be 0 and a session op must name
 * a session (else SC_ERR_INVAL); a payload it does not take is
 * SC_ERR_FORMAT.
 */
static int
need_fields(const struct op_ctx *o, unsigned uses)
{
	if ((!(uses & USES_DOMID) && o->h.domid != 0) ||
	    (!(uses & USES_SESSION) && o->h.session != 0) ||
	    (!(uses & USES_ARG) && o->h.arg != 0))
		return SC_ERR_INVAL;
	if ((uses & USES_SESSION) && o->h.session == 0)
		return SC_ERR_INVAL;
	if (!(uses & USES_PAYLOAD) && o->n != 0)
		return SC_ERR_FORMAT;
	return 0;
}

/* The domain and the session (index in d->sess) a session op names. */
static int
op_session(struct sc_hv *hv, const struct op_ctx *o, struct sc_hv_domain **d,
    int *idx)
{
	if ((*d = sc_hv_dom_find(hv, o->h.domid)) == NULL)
		return SC_ERR_NOTFOUND;
	if ((*idx = sc_hv_sess_find(*d, o->h.session)) < 0)
		return SC_ERR_NOTFOUND;
	return 0;
}

static int
op_get_info(struct sc_hv *hv, struct op_ctx *o)
{
	int r;

	if ((r = need_fields(o, 0)) != 0)
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
op_list(struct sc_hv *hv, struct op_ctx *o)
{
	uint8_t name[SC_VMNAME_MAX];
	uint32_t count = 0, skip = o->h.arg;
	unsigned i;
	int r;

	if ((r = need_fields(o, USES_ARG)) != 0)
		return r;
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
		sc_memcpy(name, d->name, sc_hv_strlen(d->name));
		if ((r = sc_buf_put_u32_le(&o->out, d->domid)) != 0 ||
		    (r = sc_buf_put_bytes(&o->out, d->uuid, SC_UUID_LEN)) != 0 ||
		    (r = sc_buf_put_bytes(&o->out, name, sizeof(name))) != 0 ||
		    (r = sc_buf_put_u32_le(&o->out, sc_hv_dom_flags(d))) != 0)
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

	if ((r = need_fields(o, USES_DOMID)) != 0)
		return r;
	if ((d = sc_hv_dom_find(hv, o->h.domid)) == NULL)
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
	const uint8_t *blob, *token;
	uint8_t confirm[32];
	size_t want, blob_len;
	bool was, wipe;
	int i, r, st;

	if ((r = need_fields(o, USES_DOMID | USES_PAYLOAD)) != 0)
		return r;
	if ((d = sc_hv_dom_find(hv, o->h.domid)) == NULL)
		return SC_ERR_NOTFOUND;
	if ((r = sc_protect_payload_get(o->p, o->n, &blob, &blob_len, &token)) != 0)
		return r;
	if ((r = sc_blob_open(hv->cp, hv->sk, hv->pk, blob, blob_len, reg)) != 0)
		return r;	/* reg is wiped */

	if (hv->cp->memcmp_ct(reg->uuid, d->uuid, SC_UUID_LEN) != 0)
		st = SC_ERR_MISMATCH;
	else if (hv->owner_ca_set && sc_owner_verify(hv->cp, hv->owner_ca,
	    d->uuid, reg->acl, reg->acl_count, token) != 0)
		st = SC_ERR_UNTRUSTED;	/* not the owner's binding (owner.h) */
	else if (reg->generation <= d->generation)
		st = SC_ERR_EXPIRED;	/* replayed or superseded */
	else {
		st = hv->pf.check_disk_key(hv->pf.arg, d->domid, d->uuid,
		    reg->disk_key, reg->disk_key_len);
		if (st > 0)
			st = SC_ERR_INTERNAL;
		if (st == 0)
			st = sc_hv_gen_store(hv, d, reg->generation);
	}
	if (st == 0) {
		was = d->protected;
		/* New credentials: sessions made with the old ones end. */
		for (i = 0; i < SC_HV_MAX_SESSIONS; i++)
			sc_hv_sess_begin_close(hv, d, i, SC_CLOSE_NORMAL,
			    "domain credentials re-bound");
		want = reg->history_size ? reg->history_size : SC_HV_HISTORY_DEFAULT;
		want = SC_MAX(want, (size_t)SC_HV_HISTORY_MIN);
		want = SC_MIN(want, d->hist_max);
		wipe = !was || want != d->hist_size ||
		    hv->cp->memcmp_ct(d->vm_secret, reg->vm_secret,
		    SC_PSK_LEN) != 0 || sc_hv_acl_keys_differ(hv, d, reg);
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
	if ((r = need_fields(o, USES_DOMID | USES_PAYLOAD)) != 0)
		return r;
	if ((d = sc_hv_dom_find(hv, o->h.domid)) == NULL)
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
	if ((slot = sc_hv_sess_slot(d, true)) < 0)
		return SC_ERR_LIMIT;
	/* A free slot needs a pool entry; a reclaimed CLOSING one brings its own. */
	if (d->sess[slot] == NULL && !sc_hv_pool_can_take(hv, d) &&
	    (slot = sc_hv_sess_slot_closing(d)) < 0)
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
	if ((aclidx = sc_hv_acl_find(hv, d, rs)) < 0) {
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
		    d->head - sc_hv_hist_start(d));
	m2.lost_bytes = viewer ? 0 : sc_hv_dom_lost(d);
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
	slot = sc_hv_sess_slot(d, false);
	if (slot < 0 || !sc_hv_pool_can_take(hv, d)) {
		/* Checked above: a CLOSING session of d makes room. */
		i = (unsigned)sc_hv_sess_slot_closing(d);
		sc_hv_sess_free(hv, d, (int)i, false);	/* its end was already signalled */
		if (slot < 0)
			slot = (int)i;
	}
	s = sc_hv_sess_take(hv, d, slot);
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
		sc_hv_sess_start_replay(d, s, m2.history_kept);
	sc_memcpy(d->seen[d->seen_next], o->p, SC_KEY_LEN);
	d->seen_next = (d->seen_next + 1) % SC_HV_SEEN_MAX;
	if (d->seen_count < SC_HV_SEEN_MAX)
		d->seen_count++;
	/*
	 * IKpsk2 mixes the psk only into message 2, so message 1 does not
	 * prove the initiator knows the VM secret.  A writer therefore takes
	 * over when its first record authenticates (sess_confirm in
	 * hv_record.c), not here.
	 */
	if (!viewer && m2.lost_bytes > 0)
		(void)sc_hv_sess_notice(hv, s, SC_NOTICE_LOST_OUTPUT, m2.lost_bytes,
		    "console output lost while no session was attached");
	o->session = s->id;
	if (sc_hv_sess_has_output(d, s))
		sc_hv_notify(hv, d, s->id, SC_EV_OUTPUT);
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

	if ((r = need_fields(o, USES_DOMID | USES_SESSION)) != 0)
		return r;
	if ((r = op_session(hv, o, &d, &idx)) != 0)
		return r;
	sc_hv_sess_free(hv, d, idx, false);
	sc_hv_dom_maybe_unblock(hv, d, -1);
	return 0;
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

	if ((r = need_fields(o, USES_DOMID | USES_SESSION | USES_PAYLOAD)) != 0)
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
op_output(struct sc_hv *hv, struct op_ctx *o)
{
	struct sc_hv_domain *d;
	struct sc_hv_session *s;
	size_t max, n, moved, pumped, fit;
	uint8_t nb[2 + 8 + 1 + 64];
	bool more = false, closed = false;
	uint64_t lost;
	int idx, r;

	if ((r = need_fields(o, USES_DOMID | USES_SESSION | USES_ARG)) != 0)
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
				hv->scratch_pt[0] = s->replay_pos + n == s->replay_end;
				sc_hv_hist_copy_out(d, s->replay_pos, hv->scratch_pt + 1, n);
				r = sc_hv_sess_seal(hv, s, SC_REC_HISTORY, hv->scratch_pt,
				    n + 1, &o->out);
				hv->cp->memzero(hv->scratch_pt, n + 1);
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
			sc_hv_hist_copy_out(d, s->out_pos, hv->scratch_pt, n);
			r = sc_hv_sess_seal(hv, s, SC_REC_DATA, hv->scratch_pt, n, &o->out);
			hv->cp->memzero(hv->scratch_pt, n);
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
raw_domain(struct sc_hv *hv, const struct op_ctx *o, unsigned uses,
    struct sc_hv_domain **d)
{
	int r;

	if ((r = need_fields(o, uses)) != 0)
		return r;
	if ((*d = sc_hv_dom_find(hv, o->h.domid)) == NULL)
		return SC_ERR_NOTFOUND;
	if ((*d)->protected)
		return SC_ERR_PROTECTED;
	if ((*d)->broken)
		return SC_ERR_CORRUPT;
	return 0;
}

static int
op_raw_input(struct sc_hv *hv, struct op_ctx *o)
{
	struct sc_hv_domain *d;
	size_t w;
	int r;

	if ((r = raw_domain(hv, o, USES_DOMID | USES_PAYLOAD, &d)) != 0)
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
op_raw_output(struct sc_hv *hv, struct op_ctx *o)
{
	struct sc_hv_domain *d;
	size_t max, got, avail;
	int r;

	if ((r = raw_domain(hv, o, USES_DOMID | USES_ARG, &d)) != 0)
		return r;
	d->raw_evented = false;		/* dom0 is reading: the next output tells it */
	max = o->h.arg ? SC_MIN((size_t)o->h.arg, (size_t)SC_OP_PAYLOAD_MAX) :
	    SC_OP_PAYLOAD_MAX;
	max = SC_MIN(max, sc_buf_room(&o->out));
	max = SC_MIN(max, (size_t)SC_RING_OUT_SIZE);
	if ((r = sc_ring_out_read(d->ring, hv->scratch_pt, max, &got)) != 0) {
		sc_hv_dom_mark_broken(hv, d);
		return r;
	}
	r = sc_buf_put_bytes(&o->out, hv->scratch_pt, got);
	hv->cp->memzero(hv->scratch_pt, got);
	if (r != 0)
		return SC_ERR_INTERNAL;
	if (got > 0)
		sc_hv_guest_kick(hv, d);
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
