/*
 * relay_client.c — the client side of the relay: the request line (ctl.h)
 * and a client's frames turned into hv ops (HS_INIT -> OPEN, RECORD ->
 * INPUT items, PROTECT -> PROTECT), and its plaintext on a RAW relay.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/blob.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/frame.h"
#include "core/handshake.h"
#include "core/owner.h"
#include "encode.h"
#include "io.h"
#include "log.h"
#include <sodium.h>
#include "relay_int.h"

/* ---- requests ------------------------------------------------------------ */

static void
send_hello(struct sc_cd *cd, struct sc_cd_client *c, uint32_t history)
{
	static struct sc_hello h;
	uint8_t mem[SC_FRAME_BODY_MAX];
	struct sc_buf b;
	unsigned char *cert = NULL;
	size_t certlen = 0;
	int r;

	memset(&h, 0, sizeof(h));
	h.version = SC_PROTOCOL_VERSION;
	h.flags = (c->dom->flags & SC_DOM_F_PROTECTED) ? SC_HELLO_F_PROTECTED : 0;
	if (cd->hv_caps & SC_CAP_VIEWER)
		h.flags |= SC_HELLO_F_VIEWER;
	snprintf(h.vmname, sizeof(h.vmname), "%s", c->dom->name);
	memcpy(h.uuid, c->dom->uuid, SC_UUID_LEN);
	memcpy(h.hv_pubkey, cd->hv_pk, SC_KEY_LEN);
	h.history_bytes = history;
	if (cd->conf->certificate[0] != '\0') {
		r = sc_read_file(cd->conf->certificate, SC_CERT_MAX, &cert, &certlen);
		if (r == 0 && certlen > 0 && certlen <= SC_CERT_MAX) {
			memcpy(h.cert, cert, certlen);
			h.cert_len = certlen;
		} else if (r < 0 && errno != ENOENT) {
			sc_warn("certificate %s unusable (%s); HELLO without it",
			    cd->conf->certificate, sc_err(r));
		}
		free(cert);
	}
	sc_buf_init(&b, mem, sizeof(mem));
	if (sc_hello_encode(&h, &b) < 0) {
		cd_reply(cd, c, SC_CTL_E_INTERNAL, 0, "cannot build HELLO");
		return;
	}
	cd_reply(cd, c, SC_CTL_OK, SC_CTL_MODE_FRAMED, NULL);
	if (cd_out_reserve(c, 16) < 0 ||
	    sc_frame_put_magic(&c->out, c->encoding) < 0 ||
	    cd_emit_frame(cd, c, SC_FRAME_HELLO, mem, b.len) < 0) {
		cd_set_dead(cd, c);
		return;
	}
	if (sc_frame_decoder_init(&c->dec, c->encoding) < 0) {
		cd_set_dead(cd, c);
		return;
	}
	c->state = SC_CD_FRAMED;
	c->deadline = cd_now_ms(cd) + (unsigned long long)cd->conf->handshake_timeout * 1000;
}

static void
send_text(struct sc_cd *cd, struct sc_cd_client *c, const char *text)
{
	cd_reply(cd, c, SC_CTL_OK, SC_CTL_MODE_TEXT, NULL);
	(void)cd_out_put(cd, c, text, strlen(text));
	cd_client_close(cd, c, false);
}

static void
start_raw(struct sc_cd *cd, struct sc_cd_client *c, struct sc_cd_domain *d)
{
	struct sc_cd_client *o;

	if (cd->have_info && !(cd->hv_caps & SC_CAP_RAW)) {
		cd_reply(cd, c, SC_CTL_E_UNAVAILABLE, 0,
		    "the hypervisor offers no plaintext console");
		return;
	}
	/* One plaintext client per domain, like xenconsole: the new one wins. */
	for (o = d->clients; o != NULL; o = o->dnext) {
		if (o->state == SC_CD_RAW) {
			sc_info("plaintext console of %s taken over", d->name);
			cd_client_close(cd, o, false);
			break;
		}
	}
	cd_reply(cd, c, SC_CTL_OK, SC_CTL_MODE_RAW, NULL);
	cd_attach(d, c);
	c->state = SC_CD_RAW;
	c->deadline = 0;
	sc_info("client %llu (uid %u): PLAINTEXT relay for unprotected domain %s",
	    (unsigned long long)c->id, (unsigned)c->uid, d->name);
	if (d->backlog_len > 0) {
		(void)cd_out_put(cd, c, d->backlog, d->backlog_len);
		d->backlog_len = 0;
	}
	cd_raw_ready(cd, d);
}

void
cd_handle_request(struct sc_cd *cd, struct sc_cd_client *c, const char *line, size_t len)
{
	struct sc_ctl_request rq;
	struct sc_cd_domain *d;
	char text[512], hex[2 * SC_KEY_LEN + 1], uuid[37];
	uint32_t history;

	if (sc_ctl_request_parse(line, len, &rq) < 0) {
		cd_reply(cd, c, SC_CTL_E_USAGE, 0, "malformed request");
		return;
	}
	c->uid = c->peer_uid;
	if (rq.has_as) {
		if (c->peer_uid != 0) {
			cd_reply(cd, c, SC_CTL_E_USAGE, 0, "as= is reserved for root");
			return;
		}
		c->uid = rq.as_uid;
	}
	c->verb = rq.verb;
	c->encoding = rq.encoding;
	c->deadline = 0;

	if (rq.verb == SC_CTL_PUBKEY) {
		if (!cd->have_info) {
			cd_reply(cd, c, SC_CTL_E_UNAVAILABLE, 0, "hypervisor not reachable");
			return;
		}
		sodium_bin2hex(hex, sizeof(hex), cd->hv_pk, SC_KEY_LEN);
		snprintf(text, sizeof(text), "%s\n", hex);
		send_text(cd, c, text);
		return;
	}
	if (!sc_policy_allows(cd->conf, c->uid, rq.vm)) {
		sc_info("client %llu: uid %u denied %s of %s by policy",
		    (unsigned long long)c->id, (unsigned)c->uid,
		    sc_ctl_verb_name(rq.verb), rq.vm);
		cd_reply(cd, c, SC_CTL_E_PERM, 0, "permission denied by the dom0 policy");
		return;
	}
	if (c->uid != 0 && cd_user_clients(cd, c->uid, c) >= cd->conf->max_clients_per_user) {
		sc_info("client %llu: uid %u has %u connections already",
		    (unsigned long long)c->id, (unsigned)c->uid,
		    cd->conf->max_clients_per_user);
		cd_reply(cd, c, SC_CTL_E_BUSY, 0, "too many clients for this user");
		return;
	}
	if (!cd->bk_up) {
		cd_reply(cd, c, SC_CTL_E_UNAVAILABLE, 0, "hypervisor not reachable");
		return;
	}
	if ((d = sc_cd_domain_by_name(cd, rq.vm)) == NULL &&
	    cd_now_ms(cd) >= cd->last_miss_rescan + 1000) {
		/* Maybe new: look again, but at most once a second. */
		cd->last_miss_rescan = cd_now_ms(cd);
		(void)sc_cd_rescan(cd);
		if (c->dead || c->state == SC_CD_CLOSING)
			return;
		d = sc_cd_domain_by_name(cd, rq.vm);
	}
	if (d == NULL) {
		cd_reply(cd, c, SC_CTL_E_NODOMAIN, 0, "no such VM");
		return;
	}
	if (d->nclients >= cd->conf->max_clients_per_domain) {
		cd_reply(cd, c, SC_CTL_E_BUSY, 0, "too many clients on this VM");
		return;
	}
	history = cd_domain_status(cd, d);
	if (!cd->bk_up) {
		cd_reply(cd, c, SC_CTL_E_UNAVAILABLE, 0, "hypervisor not reachable");
		return;
	}
	sc_info("client %llu: uid %u %s %s (%c)", (unsigned long long)c->id,
	    (unsigned)c->uid, sc_ctl_verb_name(rq.verb), d->name, rq.encoding);
	switch (rq.verb) {
	case SC_CTL_INFO:
		sc_uuid_format(d->uuid, uuid);
		sodium_bin2hex(hex, sizeof(hex), cd->hv_pk, SC_KEY_LEN);
		snprintf(text, sizeof(text), "vm=%s domid=%u uuid=%s protected=%s "
		    "history=%u hv-key=%s\n", d->name, d->domid, uuid,
		    (d->flags & SC_DOM_F_PROTECTED) ? "yes" : "no", history, hex);
		send_text(cd, c, text);
		return;
	case SC_CTL_AUTO:
		if (!(d->flags & SC_DOM_F_PROTECTED)) {
			start_raw(cd, c, d);
			return;
		}
		break;
	}
	cd_attach(d, c);
	send_hello(cd, c, history);
}

/* ---- client -> hv ------------------------------------------------------- */

/* Offer c->pend to the hv; keep what it does not take. */
void
cd_flush_input(struct sc_cd *cd, struct sc_cd_client *c)
{
	struct sc_op_hdr resp;
	uint16_t op = c->state == SC_CD_RAW ? SC_OP_RAW_INPUT : SC_OP_INPUT;
	size_t n;

	while (c->pend_len > 0 && !c->input_blocked && !c->dead &&
	    (c->state == SC_CD_SESSION || c->state == SC_CD_RAW) && c->dom != NULL) {
		n = SC_MIN(c->pend_len, (size_t)SC_OP_PAYLOAD_MAX);
		if (cd_bk_call(cd, op, c->dom->domid, c->session, 0, c->pend, n, &resp) < 0)
			return;
		if (resp.status == SC_ERR_AGAIN) {
			resp.status = 0;
			resp.arg = 0;
		}
		if (resp.status < 0 || resp.arg > n) {
			if (c->state == SC_CD_RAW) {
				sc_info_r(resp.status, "plaintext input to %s refused",
				    c->dom->name);
				cd_client_close(cd, c, false);
				return;
			}
			/* The hv ended the session (bad record...): fetch its CLOSE. */
			sc_info_r(resp.status, "client %llu: hv refused input",
			    (unsigned long long)c->id);
			c->pend_len = 0;
			c->hv_closed = true;
			c->want_output = true;
			return;
		}
		if (resp.arg > 0)
			sc_coalesce_input(&c->co, cd_now_us(cd));
		memmove(c->pend, c->pend + resp.arg, c->pend_len - resp.arg);
		c->pend_len -= resp.arg;
		cd_buf_shrink(&c->pend, &c->pend_cap, c->pend_len);
		if (resp.arg < n) {
			c->input_blocked = true;
			c->retry_at = cd_now_ms(cd) + RETRY_MS;
			cd->stats.input_retries++;
		}
	}
}

void
cd_protect_drop(struct sc_cd_client *c)
{
	free(c->protect_blob);
	c->protect_blob = NULL;
	c->protect_len = 0;
	c->protect_at = 0;
}

/*
 * Ask the hv to bind with c's pending blob.  SC_ERR_AGAIN (the disk check
 * is running off the hv's main loop) schedules another try; a final answer
 * is relayed, and a refusal ends the connection: a client gets one refused
 * blob per connection, so resending bad blobs costs it a reconnect each.
 */
void
cd_protect_try(struct sc_cd *cd, struct sc_cd_client *c)
{
	struct sc_op_hdr resp;
	uint8_t body[4 + 32];
	struct sc_buf b;

	cd_touch(cd, c);
	c->protect_at = 0;
	if (c->dom == NULL || c->state != SC_CD_FRAMED) {
		cd_protect_drop(c);
		return;
	}
	if (cd_bk_call(cd, SC_OP_PROTECT, c->dom->domid, 0, 0, c->protect_blob,
	    c->protect_len, &resp) < 0) {
		cd_protect_drop(c);
		return;
	}
	if (resp.status == SC_ERR_AGAIN) {
		c->protect_at = cd_now_ms(cd) + c->protect_delay;
		c->protect_delay = SC_MIN(2 * c->protect_delay,
		    (unsigned)SC_CD_PROTECT_RETRY_MAX);
		return;
	}
	cd_protect_drop(c);
	sc_info("PROTECT of %s by uid %u: %s", c->dom->name, (unsigned)c->uid,
	    resp.status < 0 ? sc_err(resp.status) : "accepted");
	sc_buf_init(&b, body, sizeof(body));
	if (sc_buf_put_u32(&b, (uint32_t)resp.status) < 0)
		return;
	if (resp.len == 32) {
		if (sc_buf_put_bytes(&b, cd->opbuf, 32) < 0)
			return;
	} else {
		uint8_t zero[32] = { 0 };
		if (sc_buf_put_bytes(&b, zero, 32) < 0)
			return;
	}
	if (cd_emit_frame(cd, c, SC_FRAME_PROTECT_OK, body, b.len) < 0)
		return;
	if (resp.status < 0) {
		cd_client_close(cd, c, true);
		return;
	}
	(void)cd_domain_status(cd, c->dom);
	cd_make_ready(cd, c);		/* frames that waited behind it */
}

static void
handle_protect(struct sc_cd *cd, struct sc_cd_client *c, const struct sc_frame *f)
{
	if (f->len == 0 || f->len > SC_PROTECT_PAYLOAD_MAX) {
		cd_protocol_error(cd, c, SC_ERR_TOOLONG, "PROTECT blob has a bad size");
		return;
	}
	if (++c->nprotect > SC_CD_PROTECT_MAX) {
		cd_protocol_error(cd, c, SC_ERR_BUSY, "too many PROTECTs on one connection");
		return;
	}
	if ((c->protect_blob = malloc(f->len)) == NULL) {
		cd_protocol_error(cd, c, SC_ERR_ALLOC, "out of memory");
		return;
	}
	memcpy(c->protect_blob, f->body, f->len);
	c->protect_len = f->len;
	c->protect_delay = SC_CD_PROTECT_RETRY_MIN;
	cd_protect_try(cd, c);
}

static void
handle_hs_init(struct sc_cd *cd, struct sc_cd_client *c, const struct sc_frame *f)
{
	struct sc_op_hdr resp;

	if (!(c->dom->flags & SC_DOM_F_PROTECTED)) {
		(void)cd_domain_status(cd, c->dom);
		if (c->dom == NULL || !(c->dom->flags & SC_DOM_F_PROTECTED)) {
			cd_emit_error(cd, c, SC_ERR_STATE, "the domain is not protected");
			cd_client_close(cd, c, true);
			return;
		}
	}
	if (cd_bk_call(cd, SC_OP_OPEN, c->dom->domid, 0, 0, f->body, f->len, &resp) < 0)
		return;
	if (resp.status < 0) {
		sc_info_r(resp.status, "client %llu: handshake refused by the hv",
		    (unsigned long long)c->id);
		cd_emit_error(cd, c, resp.status, sc_err(resp.status));
		cd_client_close(cd, c, true);
		return;
	}
	if (resp.session == 0 || resp.len == 0 || resp.len > SC_FRAME_BODY_MAX) {
		sc_error("malformed OPEN answer from the hypervisor");
		c->hv_closed = resp.session == 0;
		c->session = resp.session;
		cd_emit_error(cd, c, SC_ERR_INTERNAL, "hypervisor error");
		cd_client_close(cd, c, true);
		return;
	}
	c->session = resp.session;
	c->state = SC_CD_SESSION;
	c->deadline = 0;
	c->want_output = true;
	cd->stats.sessions_opened++;
	sc_info("client %llu: session %u on %s", (unsigned long long)c->id,
	    c->session, c->dom->name);
	(void)cd_emit_frame(cd, c, SC_FRAME_HS_RESP, cd->opbuf, resp.len);
}

static void
handle_frame(struct sc_cd *cd, struct sc_cd_client *c, const struct sc_frame *f)
{
	struct sc_buf b;

	switch (f->type) {
	case SC_FRAME_HS_INIT:
		if (c->state != SC_CD_FRAMED) {
			cd_protocol_error(cd, c, SC_ERR_STATE, "unexpected handshake");
			return;
		}
		handle_hs_init(cd, c, f);
		return;
	case SC_FRAME_RECORD:
		if (c->state != SC_CD_SESSION) {
			cd_protocol_error(cd, c, SC_ERR_STATE, "record before the handshake");
			return;
		}
		/* Shorter than a record: the hv refuses it, authenticated. */
		if (f->len == 0 || f->len > SC_RECORD_CT_MAX) {
			cd_protocol_error(cd, c, SC_ERR_TOOLONG, "record has a bad size");
			return;
		}
		if (cd_buf_grow(&c->pend, &c->pend_cap,
		    c->pend_len + SC_OP_ITEM_HDR_LEN + f->len, SC_CD_PEND_MAX) != 0) {
			cd_protocol_error(cd, c, SC_ERR_ALLOC, "out of memory");
			return;
		}
		sc_buf_init(&b, c->pend + c->pend_len, c->pend_cap - c->pend_len);
		if (sc_op_item_put(&b, f->body, f->len) != 0) {
			cd_protocol_error(cd, c, SC_ERR_INTERNAL, "cannot queue the record");
			return;
		}
		c->pend_len += b.len;
		cd->stats.records_in++;
		sc_ctlog_append(&c->dom->log, cd->conf->log_dir,
		    cd->conf->log_max_bytes, c->dom->name, 'I', cd_now_ms(cd),
		    f->body, f->len);
		return;
	case SC_FRAME_PROTECT:
		if (c->state != SC_CD_FRAMED) {
			cd_protocol_error(cd, c, SC_ERR_STATE, "PROTECT inside a session");
			return;
		}
		handle_protect(cd, c, f);
		return;
	case SC_FRAME_BYE:
		/* Deliver the input already queued, then close (cd_progress()). */
		c->finishing = true;
		c->deadline = cd_now_ms(cd) + (unsigned long long)cd->conf->stall_timeout * 1000;
		return;
	default:
		cd_protocol_error(cd, c, SC_ERR_TYPE, "unexpected frame type");
		return;
	}
}

/* A BYE (or EOF) was seen: only queued input is still delivered. */
bool
cd_finish_input_pending(struct sc_cd_client *c)
{
	return c->finishing;
}

/* Drop the first n bytes of c->in. */
void
cd_in_consume(struct sc_cd_client *c, size_t n)
{
	if (n == 0)
		return;
	if (n < c->in_len)
		memmove(c->in, c->in + n, c->in_len - n);
	c->in_len -= n;
	cd_buf_shrink(&c->in, &c->in_cap, c->in_len);
}

void
cd_process_frames(struct sc_cd *cd, struct sc_cd_client *c)
{
	struct sc_frame f;
	size_t off = 0, used;
	int r;

	/*
	 * After BYE nothing more counts; after EOF (finishing too) every
	 * whole frame already read still does.
	 */
	while (off < c->in_len && !c->dead && c->protect_blob == NULL &&
	    (c->state == SC_CD_FRAMED || c->state == SC_CD_SESSION)) {
		if (SC_CD_PEND_MAX - c->pend_len < ITEM_MAX)
			break;			/* wait for the hv to take input */
		used = 0;
		r = sc_frame_decode(&c->dec, c->in + off, c->in_len - off, &used, &f);
		off += used;
		if (r < 0) {
			cd_protocol_error(cd, c, r, "malformed frame");
			break;
		}
		if (r == 0)
			break;
		handle_frame(cd, c, &f);
		if (f.type == SC_FRAME_BYE)
			off = c->in_len;	/* nothing after BYE counts */
	}
	cd_in_consume(c, off);
}

void
cd_process_raw(struct sc_cd *cd, struct sc_cd_client *c)
{
	size_t n = SC_MIN(c->in_len, SC_CD_PEND_MAX - c->pend_len);

	if (n == 0)
		return;
	if (cd_buf_grow(&c->pend, &c->pend_cap, c->pend_len + n, SC_CD_PEND_MAX) != 0) {
		sc_warn("client %llu: out of memory", (unsigned long long)c->id);
		cd_client_close(cd, c, false);
		return;
	}
	memcpy(c->pend + c->pend_len, c->in, n);
	c->pend_len += n;
	cd_in_consume(c, n);
}

