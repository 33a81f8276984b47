/*
 * relay_hv.c — the hypervisor side of the relay: the domain table (rescan),
 * backend up/down, hv output items wrapped into RECORD frames, the
 * plaintext drain of unprotected domains and the hv's events.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/handshake.h"
#include "log.h"
#include <sodium.h>
#include "relay_int.h"

/* ---- domains ------------------------------------------------------------ */

struct sc_cd_domain *
sc_cd_domain_by_name(struct sc_cd *cd, const char *name)
{
	size_t i;

	for (i = 0; i < cd->ndoms; i++)
		if (strcmp(cd->doms[i].name, name) == 0)
			return &cd->doms[i];
	return NULL;
}

static struct sc_cd_domain *
domain_by_id(struct sc_cd *cd, uint32_t domid)
{
	size_t i;

	for (i = 0; i < cd->ndoms; i++)
		if (cd->doms[i].domid == domid)
			return &cd->doms[i];
	return NULL;
}

static void
domain_gone(struct sc_cd *cd, struct sc_cd_domain *d)
{
	while (d->clients != NULL) {
		struct sc_cd_client *c = d->clients;

		c->hv_closed = true;		/* the hv has dropped its sessions */
		if (c->state == SC_CD_FRAMED || c->state == SC_CD_SESSION)
			cd_emit_error(cd, c, SC_ERR_NOTFOUND, "the domain has gone away");
		cd_client_close(cd, c, true);
	}
	free(d->backlog);
	d->backlog = NULL;
	sc_ctlog_close(&d->log);
}

/* Free a slot of the domain table (after domain_gone()). */
static void
domain_slot_free(struct sc_cd *cd, struct sc_cd_domain *d)
{
	cd_raw_unqueue(cd, d);
	memset(d, 0, sizeof(*d));
	d->domid = UINT32_MAX;
	sc_ctlog_init(&d->log);
}

/*
 * The table is an array of structs that clients point into, so it never
 * moves: it is allocated once with room for SC_BK_DOMAINS_MAX entries, and
 * a slot is reused only when a domain disappears.
 */
int
sc_cd_rescan(struct sc_cd *cd)
{
	struct sc_bk_domain *list;
	size_t n = 0, i, j;
	int r;

	cd->need_rescan = false;
	if (!cd->bk_up)
		return SC_ERR_STATE;
	if ((list = calloc(SC_BK_DOMAINS_MAX, sizeof(*list))) == NULL)
		return SC_ERR_ALLOC;
	r = cd->bk->ops->list_domains(cd->bk, list, SC_BK_DOMAINS_MAX, &n);
	if (r < 0) {
		free(list);
		sc_error_r(r, "cannot list domains");
		if (r == SC_ERR_SYSTEM || r == SC_ERR_EOF || r == SC_ERR_TIMEOUT)
			sc_cd_backend_down(cd, r);
		return r;
	}
	for (i = 0; i < cd->ndoms; i++)
		cd->doms[i].present = false;
	for (j = 0; j < n; j++) {
		struct sc_cd_domain *d = domain_by_id(cd, list[j].domid);

		if (d != NULL && (memcmp(d->uuid, list[j].uuid, SC_UUID_LEN) != 0 ||
		    strcmp(d->name, list[j].name) != 0)) {
			/* The domid was reused or renamed: a different domain. */
			sc_info("domain %u %s was replaced", d->domid, d->name);
			domain_gone(cd, d);
			domain_slot_free(cd, d);
			d = NULL;
		}
		if (d == NULL) {
			if (sc_cd_domain_by_name(cd, list[j].name) != NULL) {
				sc_warn("two domains named %s; ignoring domain %u",
				    list[j].name, list[j].domid);
				continue;
			}
			for (i = 0; i < cd->ndoms; i++)
				if (cd->doms[i].domid == UINT32_MAX)
					break;
			if (i == cd->ndoms) {
				if (cd->ndoms == cd->doms_cap)
					continue;
				cd->ndoms++;
			}
			d = &cd->doms[i];
			cd_raw_unqueue(cd, d);
			memset(d, 0, sizeof(*d));
			sc_ctlog_init(&d->log);
			d->domid = list[j].domid;
			memcpy(d->uuid, list[j].uuid, SC_UUID_LEN);
			snprintf(d->name, sizeof(d->name), "%s", list[j].name);
			sc_info("domain %u %s found (%s)", d->domid, d->name,
			    (list[j].flags & SC_DOM_F_PROTECTED) ? "protected" :
			    "not protected");
			if (!(list[j].flags & SC_DOM_F_PROTECTED))
				cd_raw_ready(cd, d);	/* drain what the guest wrote */
		}
		d->flags = list[j].flags;
		d->present = true;
		sc_ctlog_retry(&d->log);
	}
	for (i = 0; i < cd->ndoms; i++) {
		struct sc_cd_domain *d = &cd->doms[i];

		if (d->domid == UINT32_MAX || d->present)
			continue;
		sc_info("domain %u %s is gone", d->domid, d->name);
		domain_gone(cd, d);
		domain_slot_free(cd, d);
	}
	while (cd->ndoms > 0 && cd->doms[cd->ndoms - 1].domid == UINT32_MAX)
		cd->ndoms--;
	free(list);
	return 0;
}

/* STATUS op: refresh flags and the history size, return the latter (0 if unknown). */
uint32_t
cd_domain_status(struct sc_cd *cd, struct sc_cd_domain *d)
{
	struct sc_op_hdr resp;
	struct sc_buf b;
	uint32_t flags, sessions, history;

	if (cd_bk_call(cd, SC_OP_STATUS, d->domid, 0, 0, NULL, 0, &resp) < 0 ||
	    resp.status < 0)
		return 0;
	sc_buf_init_ro(&b, cd->opbuf, resp.len);
	if (sc_buf_get_u32_le(&b, &flags) < 0 || sc_buf_get_u32_le(&b, &sessions) < 0 ||
	    sc_buf_get_u32_le(&b, &history) < 0)
		return 0;
	d->flags = flags;
	d->history = history;
	return history;
}

/* ---- backend lifecycle -------------------------------------------------- */

int
sc_cd_backend_up(struct sc_cd *cd)
{
	struct sc_op_hdr resp;
	struct sc_buf b;
	uint32_t abi;
	int r;

	cd->bk_up = true;
	cd->have_info = false;
	if ((r = cd_bk_call(cd, SC_OP_GET_INFO, 0, 0, 0, NULL, 0, &resp)) < 0)
		return r;
	if (resp.status < 0) {
		sc_error_r(resp.status, "GET_INFO refused");
		return resp.status;
	}
	sc_buf_init_ro(&b, cd->opbuf, resp.len);
	if (sc_buf_get_bytes(&b, cd->hv_pk, SC_KEY_LEN) < 0 ||
	    sc_buf_get_u32_le(&b, &abi) < 0 || sc_buf_get_u32_le(&b, &cd->hv_caps) < 0) {
		sc_error("malformed GET_INFO answer");
		return SC_ERR_FORMAT;
	}
	cd->have_info = true;
	{
		char hex[2 * SC_KEY_LEN + 1];
		sodium_bin2hex(hex, sizeof(hex), cd->hv_pk, SC_KEY_LEN);
		sc_info("hypervisor (%s backend) key %s, abi %u, caps 0x%x",
		    cd->bk->ops->name, hex, abi, cd->hv_caps);
	}
	return sc_cd_rescan(cd);
}

void
sc_cd_backend_down(struct sc_cd *cd, int err)
{
	struct sc_cd_client *c;
	size_t i;

	if (!cd->bk_up)
		return;
	sc_error("lost the hypervisor (%s); closing all sessions", sc_err(err));
	cd->bk_up = false;
	cd->have_info = false;
	for (c = cd->clients; c != NULL; c = c->next) {
		if (c->state == SC_CD_CLOSING || c->dead)
			continue;
		c->hv_closed = true;
		if (c->state == SC_CD_FRAMED || c->state == SC_CD_SESSION)
			cd_emit_error(cd, c, SC_ERR_CLOSED, "hypervisor connection lost");
		if (c->state == SC_CD_REQ)
			cd_reply(cd, c, SC_CTL_E_UNAVAILABLE, 0, "hypervisor not reachable");
		else
			cd_client_close(cd, c, true);
	}
	for (i = 0; i < cd->ndoms; i++) {
		free(cd->doms[i].backlog);
		cd->doms[i].backlog = NULL;
		sc_ctlog_close(&cd->doms[i].log);
		cd->doms[i].raw_queued = false;
	}
	TAILQ_INIT(&cd->rawq);
	/* Every client is closing: nothing is left for cd_progress(). */
	while ((c = TAILQ_FIRST(&cd->ready)) != NULL) {
		TAILQ_REMOVE(&cd->ready, c, rdy_link);
		c->on_ready = false;
	}
	cd->ndoms = 0;
	cd->bk->evq_len = 0;
	cd->bk->ops->close(cd->bk);
}

/* ---- hv -> client -------------------------------------------------------- */

/*
 * c has output in the hv: is it time to pull it (output_coalesce_ms,
 * coalesce.h)?  If not, c->pull_at is set: its timer makes c ready then.  A
 * session the hv ended is pulled at once (its CLOSE record).
 */
static bool
pull_due(struct sc_cd *cd, struct sc_cd_client *c, enum sc_coalesce_why *why)
{
	struct sc_coalesce_decision d;
	unsigned long long t, at;

	if (c->hv_closed) {
		*why = SC_COALESCE_OFF;
		c->pull_at = 0;
		return true;
	}
	t = cd_now_us(cd);
	sc_coalesce_wanted(&c->co, t);
	d = sc_coalesce_decide(&c->co, t, cd->conf->output_coalesce_ms,
	    sc_coalesce_fill(c->dom->history));
	*why = d.why;
	if (d.now) {
		c->pull_at = 0;
		return true;
	}
	at = (d.at + 999) / 1000;		/* the timers' ms, rounded up */
	if (c->pull_at != at) {
		sc_debug("client %llu: OUTPUT deferred %llu us",
		    (unsigned long long)c->id, d.at - t);
		c->pull_at = at;
		cd_touch(cd, c);
	}
	return false;
}

/*
 * Pull up to SC_CD_OUTPUT_ROUNDS OUTPUT ops for c, now or when coalescing
 * says (pull_due()).  Returns true when it stopped at that limit with more
 * output pending, room for it and data in the last round (so another pass
 * is sure to make progress); a client without room is resumed by
 * sc_cd_client_wrote(), an idle one by events, a deferred one by its timer.
 */
bool
cd_pull_output(struct sc_cd *cd, struct sc_cd_client *c)
{
	struct sc_op_hdr resp;
	struct sc_buf b;
	const uint8_t *ct;
	size_t l, room, arg, total = 0;
	int rounds;
	bool got = false;
	enum sc_coalesce_why why = SC_COALESCE_OFF;

	if (c->want_output && c->state == SC_CD_SESSION && !c->dead &&
	    !pull_due(cd, c, &why))
		return false;
	for (rounds = 0; c->want_output && c->state == SC_CD_SESSION && !c->dead &&
	    rounds < SC_CD_OUTPUT_ROUNDS; rounds++) {
		room = cd_out_room(c);
		if (room < SC_CD_CTRL_RESERVE + 3 * ITEM_MAX)
			return false;		/* the client must read first */
		arg = SC_MIN((size_t)SC_OP_PAYLOAD_MAX, (room - SC_CD_CTRL_RESERVE) / 3);
		if (cd_bk_call(cd, SC_OP_OUTPUT, c->dom->domid, c->session, (uint32_t)arg,
		    NULL, 0, &resp) < 0)
			return false;
		if (resp.status < 0) {
			if (resp.status != SC_ERR_NOTFOUND && resp.status != SC_ERR_CLOSED)
				sc_info_r(resp.status, "client %llu: OUTPUT",
				    (unsigned long long)c->id);
			c->hv_closed = true;
			c->want_output = false;
			break;
		}
		sc_buf_init_ro(&b, cd->opbuf, resp.len);
		while (sc_buf_avail(&b) > 0) {
			if (sc_op_item_get(&b, &ct, &l) != 0) {
				sc_error("malformed OUTPUT from the hypervisor");
				c->hv_closed = true;
				resp.arg = 0;
				break;
			}
			if (cd_emit_frame(cd, c, SC_FRAME_RECORD, ct, l) < 0)
				return false;
			cd->stats.records_out++;
			sc_ctlog_append(&c->dom->log, cd->conf->log_dir,
		    cd->conf->log_max_bytes, c->dom->name, 'O', cd_now_ms(cd),
		    ct, l);
		}
		c->want_output = (resp.arg & SC_OUT_F_MORE) != 0;
		got = resp.len > 0;
		total += resp.len;
		sc_debug("client %llu: OUTPUT %u bytes, flags 0x%x, room %zu (%s)",
		    (unsigned long long)c->id, resp.len, resp.arg, room,
		    sc_coalesce_why_str(rounds == 0 ? why : SC_COALESCE_MORE));
		if (resp.arg & SC_OUT_F_CLOSED) {
			c->hv_closed = true;
			c->want_output = false;
		}
	}
	/* This pass is one pull for coalescing: what it got, what it left. */
	sc_coalesce_pulled(&c->co, cd_now_us(cd), total, c->want_output);
	if (c->hv_closed && !c->want_output && c->state == SC_CD_SESSION) {
		sc_info("client %llu: session %u ended by the hypervisor",
		    (unsigned long long)c->id, c->session);
		c->session = 0;
		cd_client_close(cd, c, true);
		return false;
	}
	return got && c->want_output && !c->dead && c->state == SC_CD_SESSION &&
	    cd_out_room(c) >= SC_CD_CTRL_RESERVE + 3 * ITEM_MAX;
}

static struct sc_cd_client *
raw_client(struct sc_cd_domain *d)
{
	struct sc_cd_client *c;

	for (c = d->clients; c != NULL; c = c->dnext)
		if (c->state == SC_CD_RAW && !c->dead)
			return c;
	return NULL;
}

static void
backlog_add(struct sc_cd *cd, struct sc_cd_domain *d, const uint8_t *p, size_t n)
{
	size_t cap = cd->conf->raw_backlog;

	if (cap == 0)
		return;
	if (d->backlog == NULL && (d->backlog = malloc(cap)) == NULL)
		return;
	if (n >= cap) {
		memcpy(d->backlog, p + n - cap, cap);
		d->backlog_len = cap;
		return;
	}
	if (d->backlog_len + n > cap) {
		size_t drop = d->backlog_len + n - cap;
		memmove(d->backlog, d->backlog + drop, d->backlog_len - drop);
		d->backlog_len -= drop;
	}
	memcpy(d->backlog + d->backlog_len, p, n);
	d->backlog_len += n;
}

/*
 * Plaintext output of an unprotected domain: to its raw client or the
 * backlog.  Returns true when it stopped at SC_CD_OUTPUT_ROUNDS with more
 * pending after a round that returned data; a raw client without room is
 * resumed by sc_cd_client_wrote().
 */
bool
cd_raw_drain(struct sc_cd *cd, struct sc_cd_domain *d)
{
	struct sc_op_hdr resp;
	struct sc_cd_client *c;
	size_t arg;
	int rounds;
	bool got = false;

	for (rounds = 0; d->raw_want && rounds < SC_CD_OUTPUT_ROUNDS && cd->bk_up;
	    rounds++) {
		if ((d->flags & SC_DOM_F_PROTECTED) || !d->present) {
			d->raw_want = false;
			return false;
		}
		c = raw_client(d);
		if (c != NULL) {
			arg = SC_MIN((size_t)SC_OP_PAYLOAD_MAX, cd_out_room(c));
			if (arg < RAW_CHUNK_MIN)
				return false;	/* wait for the client */
		} else {
			arg = SC_MAX((size_t)cd->conf->raw_backlog, (size_t)RAW_CHUNK_MIN);
			arg = SC_MIN(arg, (size_t)SC_OP_PAYLOAD_MAX);
			if ((arg = cd_raw_budget(cd, d, arg)) == 0)
				return false;	/* cd_raw_wakeups() resumes it */
		}
		if (cd_bk_call(cd, SC_OP_RAW_OUTPUT, d->domid, 0, (uint32_t)arg, NULL, 0,
		    &resp) < 0)
			return false;
		if (resp.status < 0) {
			if (resp.status == SC_ERR_PROTECTED)
				d->flags |= SC_DOM_F_PROTECTED;
			d->raw_want = false;
			if (c != NULL) {
				sc_info_r(resp.status, "plaintext console of %s ended",
				    d->name);
				cd_client_close(cd, c, false);
			}
			return false;
		}
		if (resp.len > arg)
			resp.len = (uint32_t)arg;
		if (c != NULL) {
			(void)cd_out_put(cd, c, cd->opbuf, resp.len);
		} else {
			backlog_add(cd, d, cd->opbuf, resp.len);
			cd_raw_spent(cd, d, resp.len);
		}
		d->raw_want = (resp.arg & SC_OUT_F_MORE) != 0;
		got = resp.len > 0;
	}
	return got && d->raw_want && cd->bk_up;
}

/* ---- events, service, timers -------------------------------------------- */

static struct sc_cd_client *
client_by_session(struct sc_cd_domain *d, uint32_t session)
{
	struct sc_cd_client *c;

	for (c = d->clients; c != NULL; c = c->dnext)
		if (c->session == session && c->state == SC_CD_SESSION)
			return c;
	return NULL;
}

void
sc_cd_events(struct sc_cd *cd)
{
	struct sc_backend *bk = cd->bk;
	struct sc_cd_client *c;
	size_t i;

	if (bk->evq_overflow) {
		/* Events were lost: assume everything may have happened. */
		bk->evq_overflow = false;
		cd->need_rescan = true;
		for (c = cd->clients; c != NULL; c = c->next) {
			if (c->state == SC_CD_SESSION)
				c->want_output = true;
			c->input_blocked = false;
			cd_make_ready(cd, c);
		}
		for (i = 0; i < cd->ndoms; i++)
			if (cd->doms[i].domid != UINT32_MAX &&
			    !(cd->doms[i].flags & SC_DOM_F_PROTECTED))
				cd_raw_ready(cd, &cd->doms[i]);
	}
	for (i = 0; i < bk->evq_len; i++) {
		struct sc_bk_event *ev = &bk->evq[i];
		struct sc_cd_domain *d;

		sc_debug("event domid %u session %u bits 0x%x", ev->domid,
		    ev->session, ev->bits);
		if (ev->bits & (SC_EV_DOMAIN_ADDED | SC_EV_DOMAIN_GONE))
			cd->need_rescan = true;
		if ((d = domain_by_id(cd, ev->domid)) == NULL)
			continue;
		if (ev->bits & SC_EV_OUTPUT) {
			if (ev->session != 0) {
				if ((c = client_by_session(d, ev->session)) != NULL) {
					c->want_output = true;
					cd_make_ready(cd, c);
				}
			} else {
				for (c = d->clients; c != NULL; c = c->dnext) {
					if (c->state == SC_CD_SESSION) {
						c->want_output = true;
						cd_make_ready(cd, c);
					}
				}
				if (!(d->flags & SC_DOM_F_PROTECTED))
					cd_raw_ready(cd, d);
			}
		}
		if (ev->bits & SC_EV_INPUT_SPACE) {
			for (c = d->clients; c != NULL; c = c->dnext) {
				c->input_blocked = false;
				cd_make_ready(cd, c);
			}
		}
		if ((ev->bits & SC_EV_SESSION_CLOSED) && ev->session != 0 &&
		    (c = client_by_session(d, ev->session)) != NULL) {
			c->hv_closed = true;
			c->want_output = true;
			cd_make_ready(cd, c);
		}
	}
	bk->evq_len = 0;
	if (cd->need_rescan)
		(void)sc_cd_rescan(cd);
}

