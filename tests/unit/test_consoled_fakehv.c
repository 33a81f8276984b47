/*
 * test_consoled_fakehv.c — see test_consoled_fakehv.h.
 */
#include "config.h"

#include <string.h>

#include "core/err.h"
#include "core/ops.h"
#include "test_consoled_fakehv.h"

struct fake_hv fakehv;

void
fake_reset(void)
{
	memset(&fakehv, 0, sizeof(fakehv));
	fakehv.next_sess = 100;
	fakehv.ring_space = (size_t)-1;
	fakehv.takeover = true;
}

void
fake_add_domain(uint32_t domid, const char *name, bool protected_)
{
	struct sc_bk_domain *d = &fakehv.doms[fakehv.ndoms++];

	memset(d, 0, sizeof(*d));
	d->domid = domid;
	memset(d->uuid, (int)domid, sizeof(d->uuid));
	strncpy(d->name, name, sizeof(d->name) - 1);
	d->flags = SC_DOM_F_RUNNING | (protected_ ? SC_DOM_F_PROTECTED : 0);
}

static struct sc_bk_domain *
dom(uint32_t domid)
{
	size_t i;

	for (i = 0; i < fakehv.ndoms; i++)
		if (fakehv.doms[i].domid == domid)
			return &fakehv.doms[i];
	return NULL;
}

struct fake_sess *
fake_session(uint32_t id)
{
	size_t i;

	for (i = 0; i < FAKE_SESS; i++)
		if (fakehv.sess[i].open && fakehv.sess[i].id == id)
			return &fakehv.sess[i];
	return NULL;
}

static void
q_item(struct fake_sess *s, const uint8_t *ct, size_t len)
{
	if (s->outq_len + 2 + len > FAKE_Q)
		return;
	s->outq[s->outq_len] = (uint8_t)(len & 0xff);
	s->outq[s->outq_len + 1] = (uint8_t)(len >> 8);
	memcpy(s->outq + s->outq_len + 2, ct, len);
	s->outq_len += 2 + len;
}

const uint8_t *
fake_rec(const char *tag)
{
	static uint8_t recs[8][FAKE_REC];
	static unsigned next;
	uint8_t *r = recs[next++ % 8];
	size_t n = strlen(tag);

	if (n > FAKE_REC)
		n = FAKE_REC;
	memset(r, '.', FAKE_REC);
	memcpy(r, tag, n);
	return r;
}

void
fake_queue_output(struct sc_backend *bk, uint32_t session, const uint8_t *ct,
    size_t len)
{
	struct fake_sess *s = fake_session(session);

	if (s == NULL)
		return;
	q_item(s, ct, len);
	sc_bk_push_event(bk, s->domid, session, SC_EV_OUTPUT);
}

void
fake_queue_output_quiet(uint32_t session, const uint8_t *ct, size_t len)
{
	struct fake_sess *s = fake_session(session);

	if (s != NULL)
		q_item(s, ct, len);
}

static int
fake_open(struct sc_backend *bk, const struct sc_conf *conf)
{
	(void)conf;
	bk->priv = &fakehv;
	return fakehv.fail_transport ? SC_ERR_SYSTEM : 0;
}

static void
fake_close(struct sc_backend *bk)
{
	bk->priv = NULL;
}

static size_t
fake_pollfds(struct sc_backend *bk, int *fds, size_t max)
{
	(void)bk; (void)fds; (void)max;
	return 0;
}

static int
fake_dispatch(struct sc_backend *bk)
{
	(void)bk;
	return 0;
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}

static int
fake_call(struct sc_backend *bk, struct sc_op_hdr *req, const uint8_t *payload,
    struct sc_op_hdr *resp, uint8_t *rpay)
{
	struct sc_bk_domain *d;
	struct fake_sess *s;
	size_t i, n, off;

	if (fakehv.fail_transport)
		return SC_ERR_EOF;
	memset(resp, 0, sizeof(*resp));
	resp->op = req->op;
	resp->domid = req->domid;
	resp->session = req->session;
	if (req->op < 16)
		fakehv.ops[req->op]++;
	d = dom(req->domid);
	switch (req->op) {
	case SC_OP_GET_INFO:
		memset(rpay, 0x42, 32);
		put32(rpay + 32, 1);
		put32(rpay + 36, SC_CAP_RAW | SC_CAP_VIEWER | SC_CAP_TAKEOVER);
		put32(rpay + 40, 64);
		put32(rpay + 44, 256);
		put32(rpay + 48, 15);
		resp->len = 52;
		return 0;
	case SC_OP_LIST_DOMAINS:
		for (i = 0; i < fakehv.ndoms; i++) {
			uint8_t *e = rpay + i * SC_OP_DOMAIN_ENTRY_LEN;
			memset(e, 0, SC_OP_DOMAIN_ENTRY_LEN);
			put32(e, fakehv.doms[i].domid);
			memcpy(e + 4, fakehv.doms[i].uuid, 16);
			memcpy(e + 20, fakehv.doms[i].name, strlen(fakehv.doms[i].name));
			put32(e + 84, fakehv.doms[i].flags);
		}
		resp->arg = (uint32_t)fakehv.ndoms;
		resp->len = (uint32_t)(fakehv.ndoms * SC_OP_DOMAIN_ENTRY_LEN);
		return 0;
	}
	if (d == NULL) {
		resp->status = SC_ERR_NOTFOUND;
		return 0;
	}
	switch (req->op) {
	case SC_OP_STATUS:
		memset(rpay, 0, 40);
		put32(rpay, d->flags);
		put32(rpay + 8, fakehv.history_used);
		resp->len = 40;
		return 0;
	case SC_OP_PROTECT:
		memset(rpay, 0xaa, 32);
		resp->len = 32;
		if (fakehv.protect_again > 0) {
			fakehv.protect_again--;
			resp->status = SC_ERR_AGAIN;	/* the disk check runs */
			return 0;
		}
		resp->status = fakehv.protect_status;
		if (fakehv.protect_status == 0)
			d->flags |= SC_DOM_F_PROTECTED;
		return 0;
	case SC_OP_OPEN:
		if (!(d->flags & SC_DOM_F_PROTECTED)) {
			resp->status = SC_ERR_STATE;
			return 0;
		}
		if (fakehv.open_refuse) {
			resp->status = SC_ERR_PERM;
			return 0;
		}
		if (fakehv.takeover) {
			for (i = 0; i < FAKE_SESS; i++) {
				s = &fakehv.sess[i];
				if (s->open && s->domid == d->domid && !s->closed_by_hv) {
					s->closed_by_hv = true;
					q_item(s, fake_rec("CLOSE-RECORD"), FAKE_REC);
					sc_bk_push_event(bk, d->domid, s->id,
					    SC_EV_SESSION_CLOSED | SC_EV_OUTPUT);
				}
			}
		}
		for (i = 0; i < FAKE_SESS && fakehv.sess[i].open; i++)
			;
		if (i == FAKE_SESS) {
			resp->status = SC_ERR_LIMIT;
			return 0;
		}
		s = &fakehv.sess[i];
		memset(s, 0, sizeof(*s));
		s->open = true;
		s->id = fakehv.next_sess++;
		s->domid = d->domid;
		fakehv.opened++;
		resp->session = s->id;
		memcpy(rpay, "HS2:", 4);
		n = req->len < 60 ? req->len : 60;
		memcpy(rpay + 4, payload, n);
		resp->len = (uint32_t)(4 + n);
		return 0;
	case SC_OP_CLOSE:
		if ((s = fake_session(req->session)) == NULL) {
			resp->status = SC_ERR_NOTFOUND;
			return 0;
		}
		s->open = false;
		return 0;
	case SC_OP_INPUT:
		if ((s = fake_session(req->session)) == NULL || s->closed_by_hv) {
			resp->status = SC_ERR_NOTFOUND;
			return 0;
		}
		n = req->len < fakehv.ring_space ? req->len : fakehv.ring_space;
		if (s->input_len + n > FAKE_Q)
			n = FAKE_Q - s->input_len;
		memcpy(s->input + s->input_len, payload, n);
		s->input_len += n;
		if (fakehv.ring_space != (size_t)-1)
			fakehv.ring_space -= n;
		resp->arg = (uint32_t)n;
		return 0;
	case SC_OP_OUTPUT:
		if ((s = fake_session(req->session)) == NULL) {
			resp->status = SC_ERR_NOTFOUND;
			return 0;
		}
		off = 0;
		while (off < s->outq_len) {
			size_t l = (size_t)s->outq[off] | ((size_t)s->outq[off + 1] << 8);
			if (off + 2 + l > req->arg)
				break;
			off += 2 + l;
		}
		memcpy(rpay, s->outq, off);
		memmove(s->outq, s->outq + off, s->outq_len - off);
		s->outq_len -= off;
		resp->len = (uint32_t)off;
		if (s->outq_len > 0)
			resp->arg = SC_OUT_F_MORE;
		else if (s->closed_by_hv) {
			resp->arg = SC_OUT_F_CLOSED;
			s->open = false;
		}
		return 0;
	case SC_OP_RAW_INPUT:
		if (d->flags & SC_DOM_F_PROTECTED) {
			resp->status = SC_ERR_PROTECTED;
			return 0;
		}
		n = req->len < fakehv.ring_space ? req->len : fakehv.ring_space;
		if (fakehv.raw_in_len + n > FAKE_Q)
			n = FAKE_Q - fakehv.raw_in_len;
		memcpy(fakehv.raw_in + fakehv.raw_in_len, payload, n);
		fakehv.raw_in_len += n;
		resp->arg = (uint32_t)n;
		return 0;
	case SC_OP_RAW_OUTPUT:
		if (d->flags & SC_DOM_F_PROTECTED) {
			resp->status = SC_ERR_PROTECTED;
			return 0;
		}
		n = fakehv.raw_out_len < req->arg ? fakehv.raw_out_len : req->arg;
		memcpy(rpay, fakehv.raw_out, n);
		memmove(fakehv.raw_out, fakehv.raw_out + n, fakehv.raw_out_len - n);
		fakehv.raw_out_len -= n;
		resp->len = (uint32_t)n;
		resp->arg = fakehv.raw_out_len > 0 ? SC_OUT_F_MORE : 0;
		return 0;
	}
	resp->status = SC_ERR_UNSUPPORTED;
	return 0;
}

static int
fake_list(struct sc_backend *bk, struct sc_bk_domain *out, size_t max, size_t *n)
{
	struct sc_op_hdr req, resp;
	static uint8_t pay[SC_OP_PAYLOAD_MAX];
	int r;

	memset(&req, 0, sizeof(req));
	req.op = SC_OP_LIST_DOMAINS;
	if ((r = fake_call(bk, &req, NULL, &resp, pay)) < 0)
		return r;
	return sc_bk_parse_domains(pay, resp.len, resp.arg, out, max, n);
}

const struct sc_backend_ops fake_backend_ops = {
	.name = "fake",
	.open = fake_open,
	.close = fake_close,
	.pollfds = fake_pollfds,
	.dispatch = fake_dispatch,
	.call = fake_call,
	.list_domains = fake_list,
};
