/*
 * hv_record.c — what the hv does with each record a client sends
 * (PROTOCOL.md §5, §8.2 INPUT): console input, BREAK, CLOSE, PING, history
 * requests and the owner's ACL commands.  A record that authenticates but
 * breaks the rules ends its session.
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

#define PING_MAX	64
#define OWNER_CMD_LEN	(1 + SC_KEY_LEN + 1)

/* A well-authenticated record that breaks the rules ends the session. */
int
sc_hv_sess_violation(struct sc_hv *hv, struct sc_hv_domain *d, int idx, int err,
    const char *why)
{
	sc_hv_sess_begin_close(hv, d, idx, SC_CLOSE_PROTOCOL, why);
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
	return sc_hv_sess_queue(hv, s, SC_REC_OWNER_RESULT, mem, b.len);
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
		return sc_hv_sess_violation(hv, d, idx, SC_ERR_FORMAT,
		    "malformed owner command");
	sc_buf_init_ro(&b, p, n);
	if (sc_buf_get_u8(&b, &cmd) != 0 ||
	    sc_buf_get_bytes(&b, key, SC_KEY_LEN) != 0 ||
	    sc_buf_get_u8(&b, &flags) != 0)
		return SC_ERR_INTERNAL;
	k = sc_hv_acl_find(hv, d, key);
	if (!s->owner)
		st = SC_ERR_PERM;
	else if (cmd == SC_OWNER_ACL_ADD) {
		if ((flags & ~SC_ACL_F_OWNER) != 0)
			st = SC_ERR_FORMAT;
		else if (hv->cp->memcmp_ct(key, zero, SC_KEY_LEN) == 0)
			st = SC_ERR_BADKEY;
		else if (k >= 0 && (d->acl[k].flags & SC_ACL_F_OWNER) &&
		    !(flags & SC_ACL_F_OWNER) && sc_hv_acl_owners(d) == 1)
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
		else if ((d->acl[k].flags & SC_ACL_F_OWNER) && sc_hv_acl_owners(d) == 1)
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
			st = sc_hv_gen_store(hv, d, d->generation + 1);
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
				sc_hv_sess_begin_close(hv, d, i, SC_CLOSE_ACL,
				    "key removed from the domain's ACL");
				continue;
			}
			o->owner = (flags & SC_ACL_F_OWNER) != 0;
		}
		if (i != idx)
			(void)sc_hv_sess_notice(hv, o, SC_NOTICE_ACL_CHANGED,
			    d->acl_count, "access list changed");
	}
	if (removed || k < 0) {
		sc_hv_hist_forget(hv, d, sc_hv_hist_needed(d));
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
		sc_hv_sess_begin_close(hv, d, old, SC_CLOSE_TAKEN_OVER,
		    "taken over by another authorised session");
		(void)sc_hv_sess_notice(hv, s, SC_NOTICE_TAKEN_OVER, 0,
		    "took over from another session");
	}
	/* As a candidate it could fall behind like a viewer; a writer may not. */
	if (s->out_pos < d->tail) {
		(void)sc_hv_sess_notice(hv, s, SC_NOTICE_LOST_OUTPUT,
		    d->tail - s->out_pos, "console output lost");
		s->out_pos = d->tail;
	}
	if (s->replay_active && s->replay_pos < d->tail)
		s->replay_pos = SC_MIN(d->tail, s->replay_end);
	d->writer = idx;
	d->detached = false;
}

/* The checked length field of the item being reassembled. */
int
sc_hv_item_len(const struct sc_hv_session *s, size_t *len)
{
	struct sc_buf b;

	sc_buf_init_ro(&b, s->item, s->item_have);
	return sc_op_item_len_get(&b, len);
}

/* Open and act on the record in s->item.  Nonzero ends the INPUT op. */
int
sc_hv_sess_record(struct sc_hv *hv, struct sc_hv_domain *d, int idx)
{
	struct sc_hv_session *s = d->sess[idx];
	struct sc_buf ib, pb, rb;
	const uint8_t *ct;
	uint8_t type = 0, key;
	size_t n, ctlen;
	uint32_t wanted;
	int r = 0;

	sc_buf_init(&pb, d->scratch_pt, sizeof(d->scratch_pt));
	sc_buf_init_ro(&ib, s->item, s->item_have);
	if ((r = sc_op_item_get(&ib, &ct, &ctlen)) != 0 ||
	    (r = sc_record_open(&s->rl, ct, ctlen, &type, &pb)) != 0) {
		/*
		 * Tampered, replayed, reordered or truncated: this session
		 * ends.  Its send direction still works, so the client gets
		 * an authenticated CLOSE saying why, not just a hang-up.
		 */
		sc_hv_sess_begin_close(hv, d, idx, SC_CLOSE_PROTOCOL,
		    "an input record failed authentication");
		return r;
	}
	n = pb.len;
	sc_buf_init_ro(&rb, d->scratch_pt, n);	/* the payload, for parsing */
	if (!s->confirmed)
		sess_confirm(hv, d, idx);
	switch (type) {
	case SC_REC_DATA:
		if (s->viewer) {
			r = sc_hv_sess_violation(hv, d, idx, SC_ERR_PERM,
			    "viewer sessions are read-only");
			break;
		}
		/* sc_hv_sess_ready() guaranteed an empty pending buffer. */
		sc_memcpy(d->pending, d->scratch_pt, n);
		d->pend_off = 0;
		d->pend_len = n;
		break;
	case SC_REC_BREAK:
		if (s->viewer) {
			r = sc_hv_sess_violation(hv, d, idx, SC_ERR_PERM,
			    "viewer sessions are read-only");
			break;
		}
		if (sc_buf_get_u8(&rb, &key) != 0 || sc_buf_expect_end(&rb) != 0) {
			r = sc_hv_sess_violation(hv, d, idx, SC_ERR_FORMAT,
			    "malformed break record");
			break;
		}
		if (key == 0) {
			r = sc_hv_sess_notice(hv, s, SC_NOTICE_SYSRQ, 0,
			    "plain break is not supported on the hvc console");
			break;
		}
		if (key < 0x21 || key > 0x7e) {
			r = sc_hv_sess_violation(hv, d, idx, SC_ERR_FORMAT,
			    "invalid SysRq key");
			break;
		}
		d->pending[0] = SC_HVC_SYSRQ_CHAR;
		d->pending[1] = key;
		d->pend_off = 0;
		d->pend_len = 2;
		r = sc_hv_sess_notice(hv, s, SC_NOTICE_SYSRQ, key, "SysRq sent to the guest");
		break;
	case SC_REC_CLOSE: {
		struct sc_record_close c;

		/*
		 * The client is leaving.  Answer with our CLOSE, whose recv
		 * count tells it that every one of its records arrived (the
		 * close handshake, PROTOCOL.md §5.6); then read nothing more.
		 */
		if (sc_record_close_parse(&s->rl, d->scratch_pt, n, &c) != 0) {
			r = sc_hv_sess_violation(hv, d, idx, SC_ERR_FORMAT,
			    "malformed close record");
			break;
		}
		sc_hv_sess_begin_close(hv, d, idx, SC_CLOSE_NORMAL, "closed by the client");
		break;
	}
	case SC_REC_PING:
		if (n > PING_MAX) {
			r = sc_hv_sess_violation(hv, d, idx, SC_ERR_TOOLONG,
			    "oversized ping");
			break;
		}
		r = sc_hv_sess_queue(hv, s, SC_REC_PONG, d->scratch_pt, n);
		break;
	case SC_REC_PONG:
	case SC_REC_REKEY:		/* the record layer rekeyed */
		break;
	case SC_REC_HISTORY_REQ:
		if (sc_buf_get_u32(&rb, &wanted) != 0 ||
		    sc_buf_expect_end(&rb) != 0) {
			r = sc_hv_sess_violation(hv, d, idx, SC_ERR_FORMAT,
			    "malformed history request");
			break;
		}
		sc_hv_sess_start_replay(d, s, wanted);
		break;
	case SC_REC_OWNER_CMD:
		r = sess_owner_cmd(hv, d, idx, d->scratch_pt, n);
		break;
	default:
		r = sc_hv_sess_violation(hv, d, idx, SC_ERR_TYPE,
		    "record type not accepted");
		break;
	}
	hv->cp->memzero(d->scratch_pt, n);
	return r;
}
