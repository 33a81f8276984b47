/*
 * hv_call.c — the two ops that do public-key crypto, OPEN and PROTECT, in
 * three phases (hv.h, "Ops in phases"): begin and commit with the context
 * held, crypto in between without it.  hv_ops.c calls them from
 * sc_hv_call_begin / _crypto / _commit (and so from sc_hv_dispatch).
 *
 * begin and commit run with the domain's lock held (hv_ops.c takes it for
 * the domain the request names and passes it in c->o.dom); crypto holds
 * none.  The crypto phase sees hv only as const and reads only what never
 * changes once ops run (hv->cp, hv->sk, hv->pk, the owner CA); everything
 * about the domain it works on was copied into the call at begin.  The
 * commit phase trusts nothing it snapshotted: it looks the domain up again
 * and compares its epoch (hv.h, struct sc_hv_domain) before it changes
 * anything.
 */
#include "core/compat.h"
#include "core/err.h"
#include "core/buf.h"
#include "core/crypto.h"
#include "core/noise.h"
#include "core/record.h"
#include "core/blob.h"
#include "core/owner.h"
#include "core/ops.h"
#include "core/handshake.h"
#include "core/wire.h"
#include "ring.h"
#include "hv.h"
#include "hv_int.h"

/* Has d accepted a handshake with this message 1's ephemeral key? */
static bool
open_seen(const struct sc_hv *hv, const struct sc_hv_domain *d,
    const uint8_t *msg1)
{
	bool seen = false;
	unsigned i;

	for (i = 0; i < d->seen_count; i++)
		if (hv->cp->memcmp_ct(d->seen[i], msg1, SC_KEY_LEN) == 0)
			seen = true;
	return seen;
}

/*
 * The slot a new session of d takes (a free one, else one whose CLOSE is
 * still queued), or SC_ERR_LIMIT / SC_ERR_ALLOC.  A free slot needs a pool
 * entry; a reclaimed CLOSING session brings its own.
 */
static int
open_slot(const struct sc_hv *hv, const struct sc_hv_domain *d)
{
	int slot;

	if ((slot = sc_hv_sess_slot(d, true)) < 0)
		return SC_ERR_LIMIT;
	if (d->sess[slot] == NULL && !sc_hv_pool_can_take(hv, d) &&
	    (slot = sc_hv_sess_slot_closing(d)) < 0)
		return SC_ERR_ALLOC;
	return slot;
}

/* Constant-time lookup of pk in a snapshot of an ACL: index or -1. */
static int
acl_index(const struct sc_crypto *cp, const struct sc_acl_entry *acl,
    unsigned n, const uint8_t *pk)
{
	int found = -1;
	unsigned i;

	for (i = 0; i < n; i++)
		if (cp->memcmp_ct(acl[i].pubkey, pk, SC_KEY_LEN) == 0)
			found = (int)i;
	return found;
}

/* The checks OPEN and PROTECT begin with: the fields, then the domain. */
static int
call_domain(const struct sc_hv_call *c, struct sc_hv_domain **d)
{
	int r;

	if ((r = sc_hv_need_fields(&c->o, SC_HV_USES_DOMID |
	    SC_HV_USES_PAYLOAD)) != 0)
		return r;
	if ((*d = c->o.dom) == NULL)
		return SC_ERR_NOTFOUND;
	return 0;
}

int
sc_hv_open_begin(struct sc_hv *hv, struct sc_hv_call *c)
{
	struct sc_hv_open_call *x = &c->u.open;
	struct sc_hv_opreq *o = &c->o;
	struct sc_hv_domain *d;
	int r;

	if ((r = call_domain(c, &d)) != 0)
		return r;
	if (!d->protected)
		return SC_ERR_STATE;
	if (d->broken)
		return SC_ERR_CORRUPT;
	if (o->n < SC_HS1_MSG_LEN)
		return SC_ERR_TRUNCATED;
	if (o->n > SC_HS1_MSG_LEN)
		return SC_ERR_TOOLONG;
	/* A message 1 seen before is a replay: refuse before any DH. */
	if (open_seen(hv, d, o->p))
		return SC_ERR_DECRYPT;
	if ((r = open_slot(hv, d)) < 0)
		return r;

	x->domid = d->domid;
	x->epoch = d->epoch;
	sc_memcpy(x->uuid, d->uuid, SC_UUID_LEN);
	sc_memcpy(x->vm_secret, d->vm_secret, SC_PSK_LEN);
	x->options = d->options;
	x->hist_avail = d->head - sc_hv_hist_start(d);
	x->lost = sc_hv_dom_lost(d);
	x->acl_count = d->acl_count;
	sc_memcpy(x->acl, d->acl, d->acl_count * sizeof(d->acl[0]));
	/* The provider's generator is not for several CPUs at once. */
	sc_hv_lock(hv, SC_HV_LOCK_SHARED);
	hv->cp->random(x->e_sk, sizeof(x->e_sk));
	sc_hv_unlock(hv, SC_HV_LOCK_SHARED);
	return SC_HV_CALL_CRYPTO;
}

/* The Noise responder: message 1 in, message 2 and the transport out. */
int
sc_hv_open_crypto(const struct sc_hv *hv, struct sc_hv_call *c)
{
	struct sc_hv_open_call *x = &c->u.open;
	const struct sc_hv_opreq *o = &c->o;
	uint8_t hs1[SC_HS1_PAYLOAD_LEN + 16], hs2[SC_HS2_PAYLOAD_LEN];
	struct sc_buf b, pb, mb;
	const uint8_t *rs;
	struct sc_hs1 m1;
	struct sc_hs2 m2;
	int aclidx, r;

	if ((r = sc_hs_init(&x->hs, hv->cp, false, x->uuid, hv->pk, hv->sk,
	    x->vm_secret)) != 0 ||
	    (r = sc_noise_hs_set_fixed_ephemeral(&x->hs, x->e_sk)) != 0)
		goto out;
	sc_buf_init(&pb, hs1, sizeof(hs1));
	if ((r = sc_noise_hs_read(&x->hs, o->p, o->n, &pb)) != 0)
		goto out;
	if ((rs = sc_noise_hs_remote_static(&x->hs)) == NULL) {
		r = SC_ERR_INTERNAL;
		goto out;
	}
	if ((aclidx = acl_index(hv->cp, x->acl, x->acl_count, rs)) < 0) {
		r = SC_ERR_PERM;
		goto out;
	}
	sc_memcpy(x->rs, rs, SC_KEY_LEN);
	if ((r = sc_hs1_get(&pb, &m1)) != 0) {
		if (r != SC_ERR_VERSION)
			r = SC_ERR_FORMAT;
		goto out;
	}
	x->viewer = (m1.flags & SC_HS1_F_VIEWER) != 0;
	x->owner = (x->acl[aclidx].flags & SC_ACL_F_OWNER) != 0;
	sc_memset(&m2, 0, sizeof(m2));
	m2.flags = (x->owner ? SC_HS2_F_OWNER : 0) |
	    (x->viewer ? SC_HS2_F_VIEWER : 0);
	if (x->options & SC_REG_OPT_HISTORY)
		m2.history_kept = (uint32_t)SC_MIN((uint64_t)m1.history_wanted,
		    x->hist_avail);
	m2.lost_bytes = x->viewer ? 0 : x->lost;
	x->history_kept = m2.history_kept;
	sc_buf_init(&b, hs2, sizeof(hs2));
	if (sc_hs2_put(&b, &m2) != 0) {
		r = SC_ERR_INTERNAL;
		goto out;
	}
	sc_buf_init(&mb, x->msg2, sizeof(x->msg2));
	if ((r = sc_noise_hs_write(&x->hs, hs2, b.len, &mb)) != 0 ||
	    (r = sc_noise_hs_split(&x->hs, &x->t)) != 0)
		goto out;
	if (mb.len != sizeof(x->msg2))
		r = SC_ERR_INTERNAL;
out:
	sc_noise_hs_wipe(&x->hs);
	hv->cp->memzero(x->e_sk, sizeof(x->e_sk));
	hv->cp->memzero(x->vm_secret, sizeof(x->vm_secret));
	hv->cp->memzero(hs1, sizeof(hs1));
	return r;
}

/* The session exists from here on, if what the crypto was done for holds. */
int
sc_hv_open_commit(struct sc_hv *hv, struct sc_hv_call *c)
{
	struct sc_hv_open_call *x = &c->u.open;
	struct sc_hv_opreq *o = &c->o;
	struct sc_hv_domain *d;
	struct sc_hv_session *s;
	uint64_t lost;
	int slot, i, r;

	if ((d = o->dom) == NULL)
		return SC_ERR_NOTFOUND;
	if (!d->protected)
		return SC_ERR_STATE;
	if (d->broken)
		return SC_ERR_CORRUPT;
	/* Checked at begin; a concurrent OPEN may have committed it since. */
	if (open_seen(hv, d, o->p))
		return SC_ERR_DECRYPT;
	if (d->epoch != x->epoch)
		return sc_hv_acl_find(hv, d, x->rs) < 0 ? SC_ERR_PERM : SC_ERR_AGAIN;
	if ((slot = open_slot(hv, d)) < 0)
		return slot;
	if ((r = sc_buf_put_bytes(&o->out, x->msg2, sizeof(x->msg2))) != 0)
		return r;

	slot = sc_hv_sess_slot(d, false);
	if (slot < 0 || !sc_hv_pool_can_take(hv, d)) {
		/* open_slot said so: a CLOSING session of d makes room. */
		i = sc_hv_sess_slot_closing(d);
		sc_hv_sess_free(hv, d, i, false);	/* its end was already signalled */
		if (slot < 0)
			slot = i;
	}
	/* Another domain may have taken the pool entry since open_slot. */
	if ((s = sc_hv_sess_take(hv, d, slot)) == NULL)
		return SC_ERR_ALLOC;
	sc_hv_lock(hv, SC_HV_LOCK_SHARED);
	s->id = hv->next_session++;
	if (hv->next_session == 0)
		hv->next_session = 1;
	sc_hv_unlock(hv, SC_HV_LOCK_SHARED);
	s->state = SC_HV_SESS_OPEN;
	s->viewer = x->viewer;
	s->owner = x->owner;
	sc_memcpy(s->user_pk, x->rs, SC_KEY_LEN);
	sc_record_init(&s->rl, &x->t);
	s->out_pos = d->head;
	if (x->history_kept > 0)
		sc_hv_sess_start_replay(d, s, x->history_kept);
	sc_memcpy(d->seen[d->seen_next], o->p, SC_KEY_LEN);
	d->seen_next = (d->seen_next + 1) % SC_HV_SEEN_MAX;
	if (d->seen_count < SC_HV_SEEN_MAX)
		d->seen_count++;
	/*
	 * IKpsk2 mixes the psk only into message 2, so message 1 does not
	 * prove the initiator knows the VM secret.  A writer therefore takes
	 * over when its first record authenticates (sess_confirm in
	 * hv_record.c), not here.  What was lost counts up to the commit:
	 * the session's output starts at the head it finds.
	 */
	lost = x->viewer ? 0 : sc_hv_dom_lost(d);
	if (lost > 0)
		(void)sc_hv_sess_notice(hv, s, SC_NOTICE_LOST_OUTPUT, lost,
		    "console output lost while no session was attached");
	o->session = s->id;
	if (sc_hv_sess_has_output(d, s))
		sc_hv_notify(hv, d, s->id, SC_EV_OUTPUT);
	return 0;
}

/*
 * PROTECT binds the domain to a sealed registration blob.  The blob's
 * generation must be above the domain's (a blob bound once, or superseded
 * by a newer blob or an ACL change, never binds again, however many other
 * blobs dom0 has the hv accept in between).  History survives a re-bind
 * only if the VM secret, the history size and the ACL's keys stay: a key
 * that leaves the ACL never reads what the guest printed after it left,
 * even if it comes back; a key that joins never reads what was printed
 * before.
 */
int
sc_hv_protect_begin(struct sc_hv *hv, struct sc_hv_call *c)
{
	struct sc_hv_protect_call *x = &c->u.protect;
	struct sc_hv_opreq *o = &c->o;
	struct sc_hv_domain *d;
	int r;

	(void)hv;
	if ((r = call_domain(c, &d)) != 0)
		return r;
	if ((r = sc_protect_payload_get(o->p, o->n, &x->blob, &x->blob_len,
	    &x->token)) != 0)
		return r;
	x->domid = d->domid;
	sc_memcpy(x->uuid, d->uuid, SC_UUID_LEN);
	return SC_HV_CALL_CRYPTO;
}

/* Open the blob; check it is for this domain and, with a CA, the owner's. */
int
sc_hv_protect_crypto(const struct sc_hv *hv, struct sc_hv_call *c)
{
	struct sc_hv_protect_call *x = &c->u.protect;
	int r;

	if ((r = sc_blob_open(hv->cp, hv->sk, hv->pk, x->blob, x->blob_len,
	    &x->reg)) != 0)
		return r;	/* reg is wiped */
	x->opened = true;
	if (hv->cp->memcmp_ct(x->reg.uuid, x->uuid, SC_UUID_LEN) != 0)
		x->st = SC_ERR_MISMATCH;
	else if (hv->owner_ca_set && sc_owner_verify(hv->cp, hv->owner_ca,
	    x->uuid, x->reg.acl, x->reg.acl_count, x->token) != 0)
		x->st = SC_ERR_UNTRUSTED;	/* not the owner's binding (owner.h) */
	return 0;
}

/* Bind d to the opened blob reg (every check passed, the generation stored). */
static void
protect_apply(struct sc_hv *hv, struct sc_hv_domain *d,
    const struct sc_registration *reg)
{
	size_t want;
	bool was, wipe;
	int i;

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

/*
 * The generation, the disk key and the binding, against the domain as it
 * is now.  A domain that went since begin: SC_ERR_NOTFOUND; another domain
 * at its domid: the blob's UUID is not its (SC_ERR_MISMATCH).
 */
int
sc_hv_protect_commit(struct sc_hv *hv, struct sc_hv_call *c)
{
	struct sc_hv_protect_call *x = &c->u.protect;
	struct sc_registration *reg = &x->reg;
	struct sc_hv_domain *d;
	uint8_t confirm[32];
	int r, st = x->st;

	if (!x->opened)
		return SC_ERR_INTERNAL;
	if ((d = c->o.dom) == NULL)
		return SC_ERR_NOTFOUND;
	if (st == 0 && hv->cp->memcmp_ct(reg->uuid, d->uuid, SC_UUID_LEN) != 0)
		st = SC_ERR_MISMATCH;
	if (st == 0 && reg->generation <= d->generation)
		st = SC_ERR_EXPIRED;	/* replayed or superseded */
	if (st == 0) {
		st = hv->pf.check_disk_key(hv->pf.arg, d->domid, d->uuid,
		    reg->disk_key, reg->disk_key_len);
		if (st > 0)
			st = SC_ERR_INTERNAL;
		if (st == 0)
			st = sc_hv_gen_store(hv, d, reg->generation);
	}
	if (st == 0)
		protect_apply(hv, d, reg);
	if ((r = sc_blob_confirm(hv->cp, reg, hv->pk, st, confirm)) == 0 &&
	    (r = sc_buf_put_bytes(&c->o.out, confirm, sizeof(confirm))) == 0)
		c->o.keep_payload = true;
	if (st != 0)
		return st;
	return r;
}
