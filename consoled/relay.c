/*
 * relay.c — sccrypt-consoled's relay core (see consoled.h; relay_int.h
 * says which file holds what).
 *
 * dom0 is untrusted and only ever handles ciphertext here: frames from the
 * client are unwrapped into hv ops (HS_INIT -> OPEN, RECORD -> INPUT items,
 * PROTECT -> PROTECT) and hv output items are wrapped into RECORD frames.
 * The one exception is the clearly marked plaintext relay (RAW ops) for
 * domains that are not protected, which is today's xenconsoled behaviour.
 *
 * Every buffer is bounded; every error of one client ends that client only.
 *
 * This file: the hv call, client buffers and frames, client lifecycle, the
 * service pass and the timers.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/frame.h"
#include "log.h"
#include "relay_int.h"

/* ---- small helpers ---------------------------------------------------- */

int
cd_bk_call(struct sc_cd *cd, uint16_t op, uint32_t domid, uint32_t session,
    uint32_t arg, const uint8_t *payload, size_t len, struct sc_op_hdr *resp)
{
	struct sc_op_hdr req;
	int r;

	if (!cd->bk_up)
		return SC_ERR_STATE;
	sc_op_hdr_init(&req, op, domid, session, arg, 0);	/* seq: the backend's */
	req.len = (uint32_t)len;
	memset(resp, 0, sizeof(*resp));
	r = cd->bk->ops->call(cd->bk, &req, payload, resp, cd->opbuf);
	if (r < 0) {
		sc_error_r(r, "hypervisor op %u failed", op);
		sc_cd_backend_down(cd, r);
		return r;
	}
	if (resp->len > SC_OP_PAYLOAD_MAX)
		resp->len = 0;
	return 0;
}

/*
 * Make *mem (*cap bytes, *len in use) hold need bytes: double from
 * SC_CD_BUF_MIN, at most max.  0, SC_ERR_NOSPACE or SC_ERR_ALLOC.
 */
int
cd_buf_grow(uint8_t **mem, size_t *cap, size_t need, size_t max)
{
	size_t n = *cap ? *cap : SC_CD_BUF_MIN;
	uint8_t *p;

	if (need <= *cap)
		return 0;
	if (need > max)
		return SC_ERR_NOSPACE;
	while (n < need)
		n *= 2;
	n = SC_MIN(n, max);
	if ((p = realloc(*mem, n)) == NULL)
		return SC_ERR_ALLOC;
	*mem = p;
	*cap = n;
	return 0;
}

/* An emptied buffer larger than SC_CD_BUF_KEEP is freed. */
void
cd_buf_shrink(uint8_t **mem, size_t *cap, size_t len)
{
	if (len == 0 && *cap > SC_CD_BUF_KEEP) {
		free(*mem);
		*mem = NULL;
		*cap = 0;
	}
}

/* Room for output: up to the bound, whatever is allocated now. */
size_t
cd_out_room(struct sc_cd_client *c)
{
	if (c->out.off > 0 && sc_buf_room(&c->out) < c->out.size / 2)
		sc_buf_compact(&c->out);
	return c->out_max - sc_buf_avail(&c->out);
}

/* Let c->out take n more bytes (within out_max): 0 or a negative code. */
int
cd_out_reserve(struct sc_cd_client *c, size_t n)
{
	size_t avail = sc_buf_avail(&c->out), cap = c->out.size;
	int r;

	if (sc_buf_room(&c->out) >= n)
		return 0;
	if (c->out.off > 0)
		sc_buf_compact(&c->out);
	if (sc_buf_room(&c->out) >= n)
		return 0;
	if ((r = cd_buf_grow(&c->outmem, &cap, avail + n, c->out_max)) != 0)
		return r;
	c->out.data = c->outmem;
	c->out.size = cap;
	return 0;
}

/* The output buffer emptied: free it if it is large and nothing waits. */
static void
out_idle(struct sc_cd_client *c)
{
	if (c->want_output || (c->state == SC_CD_RAW && c->dom != NULL &&
	    c->dom->raw_want))
		return;
	cd_buf_shrink(&c->outmem, &c->out.size, 0);
	if (c->outmem == NULL)
		sc_buf_init(&c->out, NULL, 0);
}

int
cd_out_put(struct sc_cd *cd, struct sc_cd_client *c, const void *p, size_t n)
{
	int r;

	cd_touch(cd, c);
	if (c->out_gone)
		return 0;			/* nobody to read it */
	if (cd_out_room(c) < n)
		return SC_ERR_NOSPACE;
	if ((r = cd_out_reserve(c, n)) != 0)
		return r;
	return sc_buf_put_bytes(&c->out, p, n);
}


/* Queue a frame; a client whose buffer cannot take a control frame is dropped. */
int
cd_emit_frame(struct sc_cd *cd, struct sc_cd_client *c, uint8_t type,
    const uint8_t *body, size_t len)
{
	int r;

	cd_touch(cd, c);
	if (c->out_gone)
		return 0;			/* nobody to read it */
	/* Room for the worst case of either encoding (bounded by out_max). */
	if ((r = cd_out_reserve(c, SC_MIN(2 * (len + 8) + 8,
	    (size_t)SC_FRAME_ENC_MAX_BINARY))) == SC_ERR_ALLOC ||
	    (r = sc_frame_encode(&c->out, c->encoding, type, body, len)) < 0) {
		sc_warn("client %llu: output buffer full; dropped",
		    (unsigned long long)c->id);
		cd_set_dead(cd, c);
	}
	return r;
}

void
cd_emit_error(struct sc_cd *cd, struct sc_cd_client *c, int err, const char *text)
{
	uint8_t mem[SC_ERRMSG_MAX + 8];
	struct sc_buf b;

	sc_buf_init(&b, mem, sizeof(mem));
	if (sc_errorframe_encode((uint16_t)(err < 0 ? -err : err), text, &b) == 0)
		(void)cd_emit_frame(cd, c, SC_FRAME_ERROR, mem, b.len);
}

void
cd_reply(struct sc_cd *cd, struct sc_cd_client *c, int status, int mode,
    const char *text)
{
	struct sc_ctl_reply rp;
	char line[SC_CTL_LINE_MAX + 1];
	size_t len;

	memset(&rp, 0, sizeof(rp));
	rp.status = status;
	rp.mode = mode;
	snprintf(rp.text, sizeof(rp.text), "%s", text != NULL ? text : "");
	if (sc_ctl_reply_format(&rp, line, sizeof(line), &len) == 0)
		(void)cd_out_put(cd, c, line, len);
	if (status != SC_CTL_OK)
		cd_client_close(cd, c, false);
}

void
cd_attach(struct sc_cd_domain *d, struct sc_cd_client *c)
{
	c->dom = d;
	c->dnext = d->clients;
	d->clients = c;
	d->nclients++;
}

static void
detach(struct sc_cd_client *c)
{
	struct sc_cd_client **pp;

	if (c->dom == NULL)
		return;
	for (pp = &c->dom->clients; *pp != NULL; pp = &(*pp)->dnext) {
		if (*pp == c) {
			*pp = c->dnext;
			c->dom->nclients--;
			break;
		}
	}
	c->dom = NULL;
	c->dnext = NULL;
}

/*
 * End a client: close its hv session (unless the hv already did), queue BYE
 * for framed clients, and let the daemon flush what is queued.
 */
void
cd_client_close(struct sc_cd *cd, struct sc_cd_client *c, bool bye)
{
	struct sc_op_hdr resp;

	if (c->state == SC_CD_CLOSING)
		return;
	cd_touch(cd, c);
	if (c->session != 0 && !c->hv_closed && c->dom != NULL && cd->bk_up) {
		if (cd_bk_call(cd, SC_OP_CLOSE, c->dom->domid, c->session, 0, NULL, 0,
		    &resp) == 0 && resp.status < 0 && resp.status != SC_ERR_NOTFOUND)
			sc_debug_r(resp.status, "close of session %u",
			    c->session);
	}
	if (bye && (c->state == SC_CD_FRAMED || c->state == SC_CD_SESSION))
		(void)cd_emit_frame(cd, c, SC_FRAME_BYE, NULL, 0);
	c->session = 0;
	c->pend_len = 0;
	c->retry_at = 0;
	c->want_output = false;
	cd_protect_drop(c);
	detach(c);
	c->state = SC_CD_CLOSING;
	c->deadline = cd_now_ms(cd) + SC_CD_FLUSH_TIMEOUT_MS;
	if (sc_buf_avail(&c->out) == 0)
		cd_set_dead(cd, c);
}

void
cd_protocol_error(struct sc_cd *cd, struct sc_cd_client *c, int err, const char *text)
{
	cd->stats.protocol_errors++;
	sc_info("client %llu (uid %u): %s; closing", (unsigned long long)c->id,
	    (unsigned)c->uid, text);
	cd_emit_error(cd, c, err, text);
	cd_client_close(cd, c, true);
}

/* ---- client lifecycle ---------------------------------------------------- */

int
sc_cd_init(struct sc_cd *cd, struct sc_conf *conf, struct sc_backend *bk)
{
	memset(cd, 0, sizeof(*cd));
	cd->conf = conf;
	cd->bk = bk;
	cd->next_id = 1;
	TAILQ_INIT(&cd->ready);
	TAILQ_INIT(&cd->touched);
	TAILQ_INIT(&cd->changed);
	TAILQ_INIT(&cd->rawq);
	cd->doms_cap = SC_BK_DOMAINS_MAX;
	if ((cd->doms = calloc(cd->doms_cap, sizeof(*cd->doms))) == NULL ||
	    (cd->opbuf = malloc(SC_OP_PAYLOAD_MAX)) == NULL) {
		free(cd->doms);
		return SC_ERR_ALLOC;
	}
	return 0;
}

void
sc_cd_free(struct sc_cd *cd)
{
	size_t i;

	while (cd->clients != NULL) {
		cd->clients->dead = true;
		sc_cd_client_free(cd, cd->clients);
	}
	for (i = 0; i < cd->ndoms; i++) {
		free(cd->doms[i].backlog);
		sc_ctlog_close(&cd->doms[i].log);
	}
	free(cd->doms);
	free(cd->opbuf);
	free(cd->heap);
	memset(cd, 0, sizeof(*cd));
}

struct sc_cd_client *
sc_cd_client_new(struct sc_cd *cd, int fd, uid_t uid, pid_t pid)
{
	struct sc_cd_client *c, **h;
	size_t cap;

	if (cd->heap_len >= cd->heap_cap || cd->nclients >= cd->heap_cap) {
		/* One heap entry per client at most: reserve it now. */
		cap = cd->heap_cap == 0 ? 64 : 2 * cd->heap_cap;
		if ((h = reallocarray(cd->heap, cap, sizeof(*h))) == NULL)
			return NULL;
		cd->heap = h;
		cd->heap_cap = cap;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->hidx = SC_CD_NO_HEAP;
	sc_buf_init(&c->out, NULL, 0);	/* allocated on demand */
	c->out_max = cd->conf->client_buffer;
	c->fd = fd;
	c->peer_uid = c->uid = uid;
	c->peer_pid = pid;
	c->state = SC_CD_REQ;
	c->encoding = SC_ENCODING_BINARY;
	c->id = cd->next_id++;
	c->deadline = cd_now_ms(cd) + (unsigned long long)cd->conf->request_timeout * 1000;
	c->tokens_ms = cd_now_ms(cd);
	c->tokens = (double)SC_CD_IN_MAX;
	c->next = cd->clients;
	if (c->next != NULL)
		c->next->pprev = &c->next;
	cd->clients = c;
	c->pprev = &cd->clients;
	cd->nclients++;
	cd->stats.clients_accepted++;
	cd_touch(cd, c);
	return c;
}

void
sc_cd_client_free(struct sc_cd *cd, struct sc_cd_client *c)
{
	if (c->state != SC_CD_CLOSING)
		cd_client_close(cd, c, false);
	detach(c);
	*c->pprev = c->next;
	if (c->next != NULL)
		c->next->pprev = c->pprev;
	cd->nclients--;
	if (c->on_ready)
		TAILQ_REMOVE(&cd->ready, c, rdy_link);
	if (c->on_touched)
		TAILQ_REMOVE(&cd->touched, c, tch_link);
	if (c->on_changed)
		TAILQ_REMOVE(&cd->changed, c, chg_link);
	cd_heap_remove(cd, c);
	cd->stats.clients_closed++;
	cd_protect_drop(c);
	free(c->outmem);
	free(c->in);
	free(c->pend);
	free(c);
}

/*
 * Advance c as far as it goes now.  Returns true when c stopped at a
 * per-pass limit with work left that is sure to progress (see cd_pull_output()
 * and the plaintext case below): sc_cd_service() then runs it again.
 */
bool
cd_progress(struct sc_cd *cd, struct sc_cd_client *c)
{
	char *nl;
	size_t len;
	bool again = false;

	if (c->dead)
		return false;
	cd_touch(cd, c);
	if (c->state == SC_CD_REQ) {
		nl = c->in_len ? memchr(c->in, '\n', c->in_len) : NULL;
		if (nl == NULL) {
			if (c->in_len >= SC_CTL_LINE_MAX)
				cd_reply(cd, c, SC_CTL_E_USAGE, 0, "request too long");
			return false;
		}
		len = (size_t)((uint8_t *)nl - c->in) + 1;
		cd_handle_request(cd, c, (const char *)c->in, len);
		cd_in_consume(c, len);
	}
	switch (c->state) {
	case SC_CD_FRAMED:
	case SC_CD_SESSION:
		for (;;) {
			cd_process_frames(cd, c);
			if (c->dead || c->state != SC_CD_SESSION)
				break;
			cd_flush_input(cd, c);
			if (c->dead || c->input_blocked || c->in_len == 0 ||
			    SC_CD_PEND_MAX - c->pend_len < ITEM_MAX)
				break;
		}
		if (c->state == SC_CD_SESSION && !c->dead)
			again = cd_pull_output(cd, c);
		if (cd_finish_input_pending(c) && c->pend_len == 0 &&
		    (c->state == SC_CD_SESSION || c->state == SC_CD_FRAMED)) {
			cd_client_close(cd, c, true);
			again = false;
		}
		break;
	case SC_CD_RAW:
		cd_process_raw(cd, c);
		cd_flush_input(cd, c);
		if (cd_finish_input_pending(c) && c->pend_len == 0 && c->in_len == 0)
			cd_client_close(cd, c, false);
		/* Input left in c->in that the now empty pend can take. */
		again = c->state == SC_CD_RAW && !c->dead && !c->input_blocked &&
		    c->in_len > 0 && c->pend_len < SC_CD_PEND_MAX;
		break;
	case SC_CD_CLOSING:
		cd_in_consume(c, c->in_len);
		break;
	}
	return again;
}

void
sc_cd_client_input(struct sc_cd *cd, struct sc_cd_client *c,
    const uint8_t *p, size_t n)
{
	c->tokens -= (double)n;
	if (c->dead || c->state == SC_CD_CLOSING || n == 0) {
		cd_touch(cd, c);
		return;		/* read only to see EOF */
	}
	if (cd_buf_grow(&c->in, &c->in_cap, c->in_len + n, SC_CD_IN_MAX) != 0) {
		sc_warn("client %llu: cannot take its input (out of memory or over "
		    "the bound); closed", (unsigned long long)c->id);
		cd_client_close(cd, c, false);
		cd_touch(cd, c);
		return;
	}
	memcpy(c->in + c->in_len, p, n);
	c->in_len += n;
	if (cd_progress(cd, c))
		cd_make_ready(cd, c);
	cd_touch(cd, c);
}

void
sc_cd_client_eof(struct sc_cd *cd, struct sc_cd_client *c)
{
	c->rd_eof = true;
	cd_touch(cd, c);
	if (c->dead)
		return;
	switch (c->state) {
	case SC_CD_REQ:
		cd_client_close(cd, c, false);
		break;
	case SC_CD_FRAMED:
		cd_client_close(cd, c, true);
		break;
	case SC_CD_SESSION:
	case SC_CD_RAW:
		sc_debug("client %llu: EOF with %zu bytes read and %zu queued "
		    "for the hv", (unsigned long long)c->id, c->in_len, c->pend_len);
		if (c->pend_len > 0 || c->in_len > 0) {
			/*
			 * Deliver what was already accepted, then close: the
			 * queued input and the frames read but not yet decoded
			 * (left there while the guest was slow to take input).
			 */
			c->finishing = true;
			c->deadline = cd_now_ms(cd) +
			    (unsigned long long)cd->conf->stall_timeout * 1000;
			cd_make_ready(cd, c);
		} else {
			cd_client_close(cd, c, c->state == SC_CD_SESSION);
		}
		break;
	}
}

void
sc_cd_client_hup(struct sc_cd *cd, struct sc_cd_client *c)
{
	cd_touch(cd, c);
	if (c->dead || c->rd_eof || c->peer_gone)
		return;
	if (c->state != SC_CD_SESSION && c->state != SC_CD_RAW) {
		sc_cd_client_eof(cd, c);
		return;
	}
	c->peer_gone = true;
	sc_debug("client %llu: hung up with %zu bytes read and %zu queued for "
	    "the hv; reading the rest", (unsigned long long)c->id, c->in_len,
	    c->pend_len);
	if (c->deadline == 0)
		c->deadline = cd_now_ms(cd) +
		    (unsigned long long)cd->conf->stall_timeout * 1000;
}

bool
sc_cd_client_write_failed(struct sc_cd *cd, struct sc_cd_client *c)
{
	cd_touch(cd, c);
	c->out.off = c->out.len = 0;
	if (c->dead || (c->state != SC_CD_SESSION && c->state != SC_CD_RAW))
		return false;
	if (c->rd_eof && c->pend_len == 0 && c->in_len == 0)
		return false;
	/* It may have sent input before it went: deliver that first. */
	if (!c->out_gone)
		sc_debug("client %llu: gone; its output is discarded while its "
		    "input is delivered", (unsigned long long)c->id);
	c->out_gone = true;
	c->peer_gone = true;
	if (c->deadline == 0)
		c->deadline = cd_now_ms(cd) +
		    (unsigned long long)cd->conf->stall_timeout * 1000;
	return true;
}

void
sc_cd_client_wrote(struct sc_cd *cd, struct sc_cd_client *c, size_t n)
{
	cd_touch(cd, c);
	if (sc_buf_skip(&c->out, n) < 0)
		c->out.off = c->out.len;
	if (sc_buf_avail(&c->out) == 0) {
		sc_buf_reset(&c->out);
		out_idle(c);
		c->stall_since = 0;
		if (c->state == SC_CD_CLOSING)
			cd_set_dead(cd, c);
	} else {
		c->stall_since = cd_now_ms(cd);
	}
	/* Room was made: resume what waited for it. */
	if (c->dead)
		return;
	if (c->state == SC_CD_SESSION && c->want_output)
		cd_make_ready(cd, c);
	else if (c->state == SC_CD_RAW && c->dom != NULL && c->dom->raw_want)
		cd_raw_ready(cd, c->dom);
}

size_t
sc_cd_client_read_budget(struct sc_cd *cd, struct sc_cd_client *c)
{
	double cap;

	if (c->dead || c->rd_eof)
		return 0;
	switch (c->state) {
	case SC_CD_REQ:
		return SC_CTL_LINE_MAX > c->in_len ? SC_CTL_LINE_MAX - c->in_len : 0;
	case SC_CD_CLOSING:
		return SC_CD_IN_MAX;		/* read and discard, to see EOF */
	}
	if (c->input_blocked || cd_finish_input_pending(c))
		return 0;
	if (c->state != SC_CD_RAW && SC_CD_PEND_MAX - c->pend_len < ITEM_MAX)
		return 0;
	cap = (double)(SC_CD_IN_MAX - c->in_len);
	if (cd->conf->input_rate > 0) {
		cd_refill(cd, c, cd_now_ms(cd));
		if (c->tokens < 1.0)
			return 0;
		if (cap > c->tokens)
			cap = c->tokens;
	}
	return (size_t)cap;
}

/*
 * Run cd_progress() for the clients on the ready list and drain the domains on
 * the RAW list, each once: what a pass re-queues (per-pass limits, events
 * raised by the ops of this pass) waits for the next call, so one busy
 * session cannot starve the others.
 */
void
sc_cd_service(struct sc_cd *cd)
{
	struct sc_cd_clist work = TAILQ_HEAD_INITIALIZER(work);
	struct sc_cd_dlist dwork = TAILQ_HEAD_INITIALIZER(dwork);
	struct sc_cd_client *c;
	struct sc_cd_domain *d;

	TAILQ_CONCAT(&work, &cd->ready, rdy_link);
	while ((c = TAILQ_FIRST(&work)) != NULL) {
		TAILQ_REMOVE(&work, c, rdy_link);
		c->on_ready = false;
		if (!cd->bk_up)
			continue;
		if (!c->dead && c->state != SC_CD_CLOSING && c->state != SC_CD_REQ &&
		    cd_progress(cd, c))
			cd_make_ready(cd, c);
	}
	TAILQ_CONCAT(&dwork, &cd->rawq, raw_link);
	while ((d = TAILQ_FIRST(&dwork)) != NULL) {
		TAILQ_REMOVE(&dwork, d, raw_link);
		d->raw_queued = false;
		if (!cd->bk_up)
			continue;
		if (d->raw_want && d->domid != UINT32_MAX && cd_raw_drain(cd, d))
			cd_raw_ready(cd, d);
	}
}

/* A timer of c may be due at t: act on what is. */
static void
client_timeout(struct sc_cd *cd, struct sc_cd_client *c, unsigned long long t)
{
	unsigned long long stall;

	if (c->dead)
		return;
	cd_touch(cd, c);
	stall = (unsigned long long)cd->conf->stall_timeout * 1000;
	if (sc_buf_avail(&c->out) > 0 && c->stall_since != 0 &&
	    t - c->stall_since >= stall) {
		cd->stats.clients_dropped_stall++;
		sc_info("client %llu: not reading for %u s; dropped",
		    (unsigned long long)c->id, cd->conf->stall_timeout);
		c->out.off = c->out.len = 0;
		cd_client_close(cd, c, false);
		cd_set_dead(cd, c);
		return;
	}
	if (c->protect_at != 0 && t >= c->protect_at && c->protect_blob != NULL) {
		cd_protect_try(cd, c);
		if (c->dead || c->state == SC_CD_CLOSING)
			return;
	}
	if (c->pull_at != 0 && t >= c->pull_at) {
		/* Coalesced output is due: cd_pull_output() pulls it. */
		c->pull_at = 0;
		cd_make_ready(cd, c);
	}
	if (c->retry_at != 0 && t >= c->retry_at) {
		/* No INPUT_SPACE event yet: retry anyway. */
		c->retry_at = 0;
		if (c->input_blocked) {
			c->input_blocked = false;
			cd_make_ready(cd, c);
		}
	}
	if (c->deadline == 0 || t < c->deadline)
		return;		/* the input-rate refill, or an early key */
	c->deadline = 0;
	if ((cd_finish_input_pending(c) || c->peer_gone) &&
	    (c->pend_len > 0 || c->in_len > 0 || !c->rd_eof))
		sc_info("client %llu: %s did not take the last %zu bytes of input "
		    "in %u s%s; closing", (unsigned long long)c->id,
		    c->dom != NULL ? c->dom->name : "the VM",
		    c->pend_len + c->in_len, cd->conf->stall_timeout,
		    c->rd_eof ? "" : " (and more unread from the client)");
	switch (c->state) {
	case SC_CD_REQ:
		cd_reply(cd, c, SC_CTL_E_USAGE, 0, "request timeout");
		break;
	case SC_CD_FRAMED:
		if (cd_finish_input_pending(c)) {
			cd_client_close(cd, c, true);
			break;
		}
		cd_emit_error(cd, c, SC_ERR_TIMEOUT, "handshake timeout");
		cd_client_close(cd, c, true);
		break;
	case SC_CD_CLOSING:
		cd_set_dead(cd, c);
		break;
	default:
		if (cd_finish_input_pending(c) || c->peer_gone)
			cd_client_close(cd, c, true);
		break;
	}
}

int
sc_cd_tick(struct sc_cd *cd)
{
	unsigned long long t, next;
	struct sc_cd_client *c;

	cd_settle(cd);
	t = cd_now_ms(cd);
	/*
	 * Pop every due client first and re-key them all afterwards: a client
	 * is handled at most once per tick whatever its new key.
	 */
	while (cd->heap_len > 0 && cd->heap[0]->tkey <= t) {
		c = cd->heap[0];
		cd_heap_remove(cd, c);
		client_timeout(cd, c, t);
	}
	(void)cd_raw_wakeups(cd, t);
	cd_settle(cd);
	if (sc_cd_has_work(cd))
		return 0;
	next = t + 1000;
	if (cd->heap_len > 0 && cd->heap[0]->tkey < next)
		next = cd->heap[0]->tkey;
	if (cd->raw_wait_min != 0 && cd->raw_wait_min < next)
		next = cd->raw_wait_min;
	return next > t ? (int)(next - t) : 0;
}

