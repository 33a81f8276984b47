/*
 * test_hv_ops.c — the hv ops dispatcher end to end: real Noise handshakes
 * (lib/core), real records, real rings, with the test playing dom0, the
 * tenant's client and the guest.
 *
 * Every rejection test checks the exact error and then shows that another
 * domain's session (and, where it applies, the same domain's session) still
 * works: bad input from dom0 affects only what it targeted.
 */
#define _GNU_SOURCE 1
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>

#include "core/err.h"
#include "core/buf.h"
#include "core/crypto.h"
#include "core/blob.h"
#include "core/owner.h"
#include "core/ops.h"
#include "core/wire.h"
#include "hv/core/hv.h"
#include "tests/helpers/hvclient.h"
#include "tests/unit/hv_test_platform.h"

#define D1	1	/* protected in most tests */
#define D2	2	/* a second protected domain: must keep working */
#define D3	7	/* unprotected (RAW baseline) */
#define ARENA	(256 * 1024)
#define FX_DOMAINS 16	/* slots of the fixture's context */

struct fx {
	struct hvt		 t;
	const struct sc_crypto	*cp;
	struct xencons_interface ring[3];
	uint8_t			 uuid[3][SC_UUID_LEN];
	uint8_t			 disk[3][32];
	uint8_t			 secret[3][SC_PSK_LEN];
	uint8_t			 owner_sk[32], owner_pk[32];
	uint8_t			 user_sk[32], user_pk[32];	/* in ACL, not owner */
	uint8_t			 other_sk[32], other_pk[32];	/* not in ACL */
	/* Events seen. */
	uint32_t		 events[8];
	uint32_t		 closed_ids[16];
	unsigned		 nclosed;
	unsigned		 kicks;
	uint32_t		 seq;
	uint8_t			 resp[SC_OP_MAX];
	/* Binding generations: the next blob's, and what the hv stored. */
	uint64_t		 gen;
	uint64_t		 stored[3];
	unsigned		 nstored;
	int			 store_fail;	/* store_generation's answer */
	struct sc_op_hdr	 rh;
	const uint8_t		*rp;
};

static int
dom_index(uint32_t domid)
{
	return domid == D1 ? 0 : domid == D2 ? 1 : 2;
}

static void
hook_guest(void *arg, uint32_t domid)
{
	struct fx *f = hvt_arg(arg);

	(void)domid;
	f->kicks++;
}

static void
hook_dom0(void *arg, uint32_t domid, uint32_t session, uint32_t events)
{
	struct fx *f = hvt_arg(arg);

	f->events[domid & 7] |= events;
	if ((events & SC_EV_SESSION_CLOSED) && f->nclosed < 16)
		f->closed_ids[f->nclosed++] = session;
}

static int
hook_store_gen(void *arg, uint32_t domid, const uint8_t uuid[16], uint64_t gen)
{
	struct fx *f = hvt_arg(arg);
	int i = dom_index(domid);

	assert_memory_equal(uuid, f->uuid[i], 16);
	if (f->store_fail != 0)
		return f->store_fail;
	assert_true(gen > f->stored[i]);	/* only ever grows */
	f->stored[i] = gen;
	f->nstored++;
	return 0;
}

static int
setup(void **state)
{
	struct sc_hv_platform pf;
	struct fx *f = calloc(1, sizeof(*f));
	int i;

	assert_non_null(f);
	f->cp = sc_crypto_sodium();
	for (i = 0; i < 3; i++) {
		f->cp->random(f->uuid[i], 16);
		f->cp->random(f->disk[i], 32);
		f->cp->random(f->secret[i], 32);
	}
	assert_int_equal(sc_x25519_keypair(f->cp, f->owner_pk, f->owner_sk), 0);
	assert_int_equal(sc_x25519_keypair(f->cp, f->user_pk, f->user_sk), 0);
	assert_int_equal(sc_x25519_keypair(f->cp, f->other_pk, f->other_sk), 0);
	hvt_platform(&f->t, &pf, f);
	pf.notify_guest = hook_guest;
	pf.notify_dom0 = hook_dom0;
	pf.store_generation = hook_store_gen;
	hvt_init(&f->t, f->cp, &pf, NULL, 15, ARENA, FX_DOMAINS, 0);
	hvt_domain_add(&f->t, D1, f->uuid[0], "vm1", &f->ring[0], 0, f->disk[0]);
	hvt_domain_add(&f->t, D2, f->uuid[1], "vm2", &f->ring[1], 8192, f->disk[1]);
	hvt_domain_add(&f->t, D3, f->uuid[2], "plain", &f->ring[2], 0, f->disk[2]);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	hvt_free(&f->t);
	free(f);
	return 0;
}

/* Run one op; returns the response status.  f->rh / f->rp hold the answer. */
static int
op_full(struct fx *f, uint16_t op, uint32_t domid, uint32_t session,
    uint32_t arg, const void *p, size_t n, size_t cap)
{
	uint8_t req[SC_OP_MAX + 64];
	struct sc_buf b;
	size_t rlen;

	sc_buf_init(&b, req, sizeof(req));
	assert_int_equal(sc_hvc_op_build(&b, op, domid, session, arg, ++f->seq, p, n), 0);
	assert_int_equal(sc_hv_dispatch(f->t.hv, req, b.len, f->resp, cap, &rlen), 0);
	assert_int_equal(sc_hvc_op_parse(f->resp, rlen, &f->rh, &f->rp), 0);
	assert_int_equal(f->rh.seq, f->seq);
	assert_int_equal(f->rh.op, op);
	if (f->rh.status != 0 && op != SC_OP_PROTECT)
		assert_int_equal(f->rh.len, 0);
	return f->rh.status;
}

static int
op(struct fx *f, uint16_t o, uint32_t domid, uint32_t session, uint32_t arg,
    const void *p, size_t n)
{
	return op_full(f, o, domid, session, arg, p, n, sizeof(f->resp));
}

struct acl_spec {
	const uint8_t	*pk;
	uint8_t		 flags;
};

/* PROTECT with blob; checks the confirm against reg (sealed as blob). */
static int
protect_blob(struct fx *f, uint32_t domid, const struct sc_registration *reg,
    const uint8_t *blob, size_t len)
{
	uint8_t confirm[32];
	int st;

	st = op(f, SC_OP_PROTECT, domid, 0, 0, blob, len);
	if (f->rh.len == 32) {
		/* The answer is authenticated with the VM secret, status included. */
		assert_int_equal(sc_blob_confirm(f->cp, reg, sc_hv_pubkey(f->t.hv), st,
		    confirm), 0);
		assert_memory_equal(confirm, f->rp, 32);
	}
	return st;
}

static int
protect_ex(struct fx *f, uint32_t domid, const uint8_t *uuid, const uint8_t *disk,
    size_t disklen, uint32_t options, uint32_t hist, const struct acl_spec *acl,
    unsigned nacl, const uint8_t *hv_pk)
{
	struct sc_registration reg;
	uint8_t blob[SC_PROTECT_PAYLOAD_MAX];
	struct sc_buf b;
	unsigned i;
	int i_dom = dom_index(domid);

	memset(&reg, 0, sizeof(reg));
	memcpy(reg.uuid, uuid, 16);
	reg.generation = ++f->gen;
	memcpy(reg.vm_secret, f->secret[i_dom], 32);
	memcpy(reg.disk_key, disk, disklen);
	reg.disk_key_len = disklen;
	reg.options = options;
	reg.history_size = hist;
	reg.acl_count = nacl;
	for (i = 0; i < nacl; i++) {
		memcpy(reg.acl[i].pubkey, acl[i].pk, 32);
		reg.acl[i].flags = acl[i].flags;
	}
	sc_buf_init(&b, blob, sizeof(blob));
	assert_int_equal(sc_protect_seal(f->cp, &reg, hv_pk ? hv_pk : sc_hv_pubkey(f->t.hv), NULL, &b), 0);
	return protect_blob(f, domid, &reg, blob, b.len);
}

static int
protect(struct fx *f, uint32_t domid, uint32_t options, uint32_t hist)
{
	struct acl_spec acl[2] = {
		{ f->owner_pk, SC_ACL_F_OWNER }, { f->user_pk, 0 },
	};
	int i = dom_index(domid);

	return protect_ex(f, domid, f->uuid[i], f->disk[i], 32, options, hist,
	    acl, 2, NULL);
}

static int
open_ex(struct fx *f, uint32_t domid, const uint8_t *uuid, const uint8_t *hv_pk,
    const uint8_t *user_sk, const uint8_t *secret, uint8_t flags, uint32_t hist,
    struct sc_hvc_session *cs, uint32_t *sid, uint8_t *msg1_copy)
{
	uint8_t msg1[256];
	struct sc_buf b;
	int st;

	sc_buf_init(&b, msg1, sizeof(msg1));
	assert_int_equal(sc_hvc_hs1(cs, f->cp, uuid, hv_pk, user_sk, secret, flags,
	    hist, &b), 0);
	assert_int_equal(b.len, SC_HS1_MSG_LEN);
	if (msg1_copy != NULL)
		memcpy(msg1_copy, msg1, b.len);
	st = op(f, SC_OP_OPEN, domid, 0, 0, msg1, b.len);
	if (st != 0)
		return st;
	assert_int_not_equal(f->rh.session, 0);
	assert_int_equal(f->rh.len, SC_HS2_MSG_LEN);
	*sid = f->rh.session;
	/* The client's own verdict (IKpsk2 checks the psk in message 2). */
	return sc_hvc_hs2(cs, f->rp, f->rh.len);
}

static int
open_s(struct fx *f, uint32_t domid, const uint8_t *user_sk, uint8_t flags,
    uint32_t hist, struct sc_hvc_session *cs, uint32_t *sid)
{
	int i = dom_index(domid);

	return open_ex(f, domid, f->uuid[i], sc_hv_pubkey(f->t.hv), user_sk,
	    f->secret[i], flags, hist, cs, sid, NULL);
}

/* Send one record as an INPUT op; returns status, *consumed if wanted. */
static int
send_rec(struct fx *f, uint32_t domid, uint32_t sid, struct sc_hvc_session *cs,
    uint8_t type, const void *p, size_t n)
{
	uint8_t items[SC_RECORD_CT_MAX + 2];
	struct sc_buf b;
	int st;

	sc_buf_init(&b, items, sizeof(items));
	assert_int_equal(sc_hvc_seal(cs, type, p, n, &b), 0);
	st = op(f, SC_OP_INPUT, domid, sid, 0, items, b.len);
	if (st == 0)
		assert_int_equal(f->rh.arg, b.len);
	return st;
}

struct rx {
	uint8_t		data[65536];
	size_t		ndata;
	uint8_t		hist[65536];
	size_t		nhist;
	bool		hist_last;
	uint8_t		types[256];
	unsigned	ntypes;
	uint16_t	notice_code[16];
	uint64_t	notice_val[16];
	unsigned	nnotice;
	uint8_t		close_reason;
	uint64_t	close_sent, close_recv;	/* the hv's CLOSE counts */
	bool		got_close;
	bool		closed_flag;
	uint8_t		last_pl[SC_RECORD_PAYLOAD_MAX];
	size_t		last_len;
};

/* OUTPUT until nothing more; collect what the records say. */
static void
recv_all(struct fx *f, uint32_t domid, uint32_t sid, struct sc_hvc_session *cs,
    struct rx *rx, uint32_t max)
{
	uint8_t plm[SC_RECORD_PAYLOAD_MAX];
	struct sc_buf items, pl, nb;
	uint8_t type;
	uint16_t code;
	uint64_t val;
	int r, rounds = 0;

	do {
		assert_int_equal(op(f, SC_OP_OUTPUT, domid, sid, max, NULL, 0), 0);
		if (max)
			assert_true(f->rh.len <= max);
		sc_buf_init_ro(&items, f->rp, f->rh.len);
		for (;;) {
			sc_buf_init(&pl, plm, sizeof(plm));
			r = sc_hvc_open_item(cs, &items, &type, &pl);
			assert_true(r >= 0);
			if (r == 0)
				break;
			if (rx->ntypes < sizeof(rx->types))
				rx->types[rx->ntypes++] = type;
			memcpy(rx->last_pl, plm, pl.len);
			rx->last_len = pl.len;
			switch (type) {
			case SC_REC_DATA:
				assert_true(rx->ndata + pl.len <= sizeof(rx->data));
				memcpy(rx->data + rx->ndata, plm, pl.len);
				rx->ndata += pl.len;
				break;
			case SC_REC_HISTORY:
				assert_true(pl.len >= 1);
				memcpy(rx->hist + rx->nhist, plm + 1, pl.len - 1);
				rx->nhist += pl.len - 1;
				rx->hist_last = plm[0] == 1;
				break;
			case SC_REC_NOTICE:
				sc_buf_init_ro(&nb, plm, pl.len);
				assert_int_equal(sc_buf_get_u16(&nb, &code), 0);
				assert_int_equal(sc_buf_get_u64(&nb, &val), 0);
				if (rx->nnotice < 16) {
					rx->notice_code[rx->nnotice] = code;
					rx->notice_val[rx->nnotice++] = val;
				}
				break;
			case SC_REC_CLOSE: {
				/* Every hv CLOSE carries consistent counts. */
				struct sc_record_close c;

				assert_int_equal(sc_record_close_parse(&cs->rl, plm,
				    pl.len, &c), 0);
				rx->got_close = true;
				rx->close_reason = c.reason;
				rx->close_sent = c.sent;
				rx->close_recv = c.recv;
				break;
			}
			}
		}
		if (f->rh.arg & SC_OUT_F_CLOSED)
			rx->closed_flag = true;
		assert_true(++rounds < 1000);
	} while ((f->rh.arg & SC_OUT_F_MORE) && !(f->rh.arg & SC_OUT_F_CLOSED));
}

static size_t
guest_read(struct fx *f, uint32_t domid, uint8_t *buf, size_t cap)
{
	size_t got;

	assert_int_equal(sc_ring_guest_in_read(&f->ring[dom_index(domid)], buf, cap, &got), 0);
	return got;
}

static size_t
guest_write(struct fx *f, uint32_t domid, const void *p, size_t n)
{
	size_t w;

	assert_int_equal(sc_ring_guest_out_write(&f->ring[dom_index(domid)], p, n, &w), 0);
	assert_int_equal(sc_hv_guest_event(f->t.hv, domid), 0);
	return w;
}

static bool
has_notice(const struct rx *rx, uint16_t code, uint64_t *val)
{
	unsigned i;

	for (i = 0; i < rx->nnotice; i++)
		if (rx->notice_code[i] == code) {
			if (val)
				*val = rx->notice_val[i];
			return true;
		}
	return false;
}

/* A full round trip on a domain's writer session: input and output. */
static void
roundtrip(struct fx *f, uint32_t domid, uint32_t sid, struct sc_hvc_session *cs,
    const char *tag)
{
	uint8_t buf[256];
	static struct rx rx;
	size_t n;

	assert_int_equal(send_rec(f, domid, sid, cs, SC_REC_DATA, tag, strlen(tag)), 0);
	n = guest_read(f, domid, buf, sizeof(buf));
	assert_int_equal(n, strlen(tag));
	assert_memory_equal(buf, tag, n);
	assert_int_equal(guest_write(f, domid, tag, strlen(tag)), strlen(tag));
	memset(&rx, 0, sizeof(rx));
	recv_all(f, domid, sid, cs, &rx, 0);
	assert_int_equal(rx.ndata, strlen(tag));
	assert_memory_equal(rx.data, tag, rx.ndata);
}

/* ------------------------------------------------------------------ */

static void
test_info_list_status(void **state)
{
	struct fx *f = *state;
	struct sc_buf b;
	uint32_t v, flags;
	uint8_t pk[32], name[64];

	assert_int_equal(op(f, SC_OP_GET_INFO, 0, 0, 0, NULL, 0), 0);
	assert_int_equal(f->rh.len, 32 + 5 * 4);
	sc_buf_init_ro(&b, f->rp, f->rh.len);
	assert_int_equal(sc_buf_get_bytes(&b, pk, 32), 0);
	assert_memory_equal(pk, sc_hv_pubkey(f->t.hv), 32);
	assert_int_equal(sc_buf_get_u32_le(&b, &v), 0);
	assert_int_equal(v, SC_OPS_VERSION);
	assert_int_equal(sc_buf_get_u32_le(&b, &v), 0);
	assert_int_equal(v, SC_HV_CAPS);
	assert_int_equal(sc_buf_get_u32_le(&b, &v), 0);
	assert_int_equal(v, FX_DOMAINS);
	assert_int_equal(sc_buf_get_u32_le(&b, &v), 0);
	assert_int_equal(v, SC_HV_MAX_SESSIONS);
	assert_int_equal(sc_buf_get_u32_le(&b, &v), 0);
	assert_int_equal(v, 15);

	assert_int_equal(protect(f, D1, SC_REG_OPT_HISTORY, 0), 0);
	assert_int_equal(op(f, SC_OP_LIST_DOMAINS, 0, 0, 0, NULL, 0), 0);
	assert_int_equal(f->rh.arg, 3);
	assert_int_equal(f->rh.len, 3 * SC_OP_DOMAIN_ENTRY_LEN);
	sc_buf_init_ro(&b, f->rp, f->rh.len);
	assert_int_equal(sc_buf_get_u32_le(&b, &v), 0);
	assert_int_equal(v, D1);
	assert_int_equal(sc_buf_skip(&b, 16), 0);
	assert_int_equal(sc_buf_get_bytes(&b, name, 64), 0);
	assert_string_equal((char *)name, "vm1");
	assert_int_equal(sc_buf_get_u32_le(&b, &flags), 0);
	assert_int_equal(flags, SC_DOM_F_RUNNING | SC_DOM_F_PROTECTED);

	assert_int_equal(op(f, SC_OP_STATUS, D1, 0, 0, NULL, 0), 0);
	assert_int_equal(f->rh.len, 3 * 4);
	sc_buf_init_ro(&b, f->rp, f->rh.len);
	assert_int_equal(sc_buf_get_u32_le(&b, &flags), 0);
	assert_int_equal(flags, SC_DOM_F_RUNNING | SC_DOM_F_PROTECTED);
	assert_int_equal(sc_buf_get_u32_le(&b, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(sc_buf_get_u32_le(&b, &v), 0);	/* history size */
	assert_int_equal(v, SC_HV_HISTORY_DEFAULT);
	assert_int_equal(op(f, SC_OP_STATUS, 99, 0, 0, NULL, 0), SC_ERR_NOTFOUND);
}

/*
 * STATUS tells dom0 nothing it does not know: what the guest printed while
 * nobody was attached (ring indices, history fill, lost bytes) and what a
 * session typed leave its answer byte for byte the same.
 */
static void
test_status_reveals_nothing(void **state)
{
	struct fx *f = *state;
	struct sc_hvc_session cs;
	static uint8_t junk[1000];
	uint8_t before[64], buf[64];
	size_t blen;
	uint32_t sid;
	int i;

	assert_int_equal(protect(f, D1, SC_REG_OPT_HISTORY, 4096), 0);
	assert_int_equal(op(f, SC_OP_STATUS, D1, 0, 0, NULL, 0), 0);
	blen = f->rh.len;
	assert_true(blen <= sizeof(before));
	memcpy(before, f->rp, blen);
	/* The guest prints while detached, beyond the history (bytes lost). */
	memset(junk, 'j', sizeof(junk));
	for (i = 0; i < 8; i++)
		assert_int_equal(guest_write(f, D1, junk, sizeof(junk)), sizeof(junk));
	assert_int_equal(op(f, SC_OP_STATUS, D1, 0, 0, NULL, 0), 0);
	assert_int_equal(f->rh.len, blen);
	assert_memory_equal(f->rp, before, blen);
	/* A session types; the guest reads it; the session ends. */
	assert_int_equal(open_s(f, D1, f->owner_sk, 0, 0, &cs, &sid), 0);
	assert_int_equal(send_rec(f, D1, sid, &cs, SC_REC_DATA, "secret\n", 7), 0);
	assert_int_equal(guest_read(f, D1, buf, sizeof(buf)), 7);
	assert_int_equal(op(f, SC_OP_CLOSE, D1, sid, 0, NULL, 0), 0);
	sc_hvc_wipe(&cs);
	assert_int_equal(guest_write(f, D1, junk, 100), 100);
	assert_int_equal(op(f, SC_OP_STATUS, D1, 0, 0, NULL, 0), 0);
	assert_int_equal(f->rh.len, blen);
	assert_memory_equal(f->rp, before, blen);
}

/* Header and field validation: every bad request is refused and changes nothing. */
static void
test_bad_headers(void **state)
{
	struct fx *f = *state;
	struct sc_hvc_session cs;
	uint8_t req[SC_OP_MAX + 16], resp[64];
	struct sc_buf b;
	struct sc_op_hdr h;
	const uint8_t *p;
	size_t rlen;
	uint32_t sid;

	assert_int_equal(protect(f, D1, 0, 0), 0);
	assert_int_equal(open_s(f, D1, f->owner_sk, 0, 0, &cs, &sid), 0);

	/* Short packet, bad magic, bad version, len mismatch, status set. */
	sc_buf_init(&b, req, sizeof(req));
	assert_int_equal(sc_hvc_op_build(&b, SC_OP_GET_INFO, 0, 0, 0, 5, NULL, 0), 0);
	assert_int_equal(sc_hv_dispatch(f->t.hv, req, 31, f->resp, sizeof(f->resp), &rlen), 0);
	assert_int_equal(sc_hvc_op_parse(f->resp, rlen, &h, &p), 0);
	assert_int_equal(h.status, SC_ERR_TRUNCATED);
	req[0] ^= 1;
	assert_int_equal(sc_hv_dispatch(f->t.hv, req, 32, f->resp, sizeof(f->resp), &rlen), 0);
	assert_int_equal(sc_hvc_op_parse(f->resp, rlen, &h, &p), 0);
	assert_int_equal(h.status, SC_ERR_MAGIC);
	assert_int_equal(h.seq, 5);	/* echoed even for a bad header */
	req[0] ^= 1;
	req[4] = SC_OPS_VERSION + 1;
	assert_int_equal(sc_hv_dispatch(f->t.hv, req, 32, f->resp, sizeof(f->resp), &rlen), 0);
	assert_int_equal(sc_hvc_op_parse(f->resp, rlen, &h, &p), 0);
	assert_int_equal(h.status, SC_ERR_VERSION);
	req[4] = SC_OPS_VERSION;
	req[24] = 4;			/* len 4, but no payload */
	assert_int_equal(sc_hv_dispatch(f->t.hv, req, 32, f->resp, sizeof(f->resp), &rlen), 0);
	assert_int_equal(sc_hvc_op_parse(f->resp, rlen, &h, &p), 0);
	assert_int_equal(h.status, SC_ERR_TRUNCATED);
	req[24] = 0;
	req[32] = 'x';			/* trailing byte */
	assert_int_equal(sc_hv_dispatch(f->t.hv, req, 33, f->resp, sizeof(f->resp), &rlen), 0);
	assert_int_equal(sc_hvc_op_parse(f->resp, rlen, &h, &p), 0);
	assert_int_equal(h.status, SC_ERR_FORMAT);
	req[8] = 0xff;			/* status in a request */
	assert_int_equal(sc_hv_dispatch(f->t.hv, req, 32, f->resp, sizeof(f->resp), &rlen), 0);
	assert_int_equal(sc_hvc_op_parse(f->resp, rlen, &h, &p), 0);
	assert_int_equal(h.status, SC_ERR_INVAL);
	/* Oversize: len over SC_OP_PAYLOAD_MAX. */
	sc_buf_init(&b, req, sizeof(req));
	assert_int_equal(sc_hvc_op_build(&b, SC_OP_RAW_INPUT, D3, 0, 0, 6, NULL, 0), 0);
	req[24] = 0x01; req[25] = 0x80; req[26] = 0; req[27] = 0;	/* 32769 */
	memset(req + 32, 'A', SC_OP_PAYLOAD_MAX + 1);
	assert_int_equal(sc_hv_dispatch(f->t.hv, req, 32 + SC_OP_PAYLOAD_MAX + 1,
	    f->resp, sizeof(f->resp), &rlen), 0);
	assert_int_equal(sc_hvc_op_parse(f->resp, rlen, &h, &p), 0);
	assert_int_equal(h.status, SC_ERR_TOOLONG);
	/* Response buffer too small for a header. */
	assert_int_equal(sc_hv_dispatch(f->t.hv, req, 32, resp, 31, &rlen), SC_ERR_NOSPACE);

	/* Fields an op does not use must be zero; unknown ops refused. */
	assert_int_equal(op(f, SC_OP_GET_INFO, 1, 0, 0, NULL, 0), SC_ERR_INVAL);
	assert_int_equal(op(f, SC_OP_GET_INFO, 0, 1, 0, NULL, 0), SC_ERR_INVAL);
	assert_int_equal(op(f, SC_OP_GET_INFO, 0, 0, 1, NULL, 0), SC_ERR_INVAL);
	assert_int_equal(op(f, SC_OP_GET_INFO, 0, 0, 0, "x", 1), SC_ERR_FORMAT);
	assert_int_equal(op(f, SC_OP_STATUS, D1, sid, 0, NULL, 0), SC_ERR_INVAL);
	assert_int_equal(op(f, SC_OP_CLOSE, D1, 0, 0, NULL, 0), SC_ERR_INVAL);
	assert_int_equal(op(f, SC_OP_INPUT, D1, sid, 3, NULL, 0), SC_ERR_INVAL);
	assert_int_equal(op(f, SC_OP_EVENT, D1, 0, 0, NULL, 0), SC_ERR_TYPE);
	assert_int_equal(op(f, 0, 0, 0, 0, NULL, 0), SC_ERR_TYPE);
	assert_int_equal(op(f, 200, 0, 0, 0, NULL, 0), SC_ERR_TYPE);
	assert_int_equal(op(f, SC_OP_INPUT, D1, sid + 100, 0, NULL, 0), SC_ERR_NOTFOUND);
	assert_int_equal(op(f, SC_OP_OUTPUT, D2, sid, 0, NULL, 0), SC_ERR_NOTFOUND);
	/* RAW ops are refused on a protected domain; unprotected has no sessions. */
	assert_int_equal(op(f, SC_OP_RAW_INPUT, D1, 0, 0, "ls\n", 3), SC_ERR_PROTECTED);
	assert_int_equal(op(f, SC_OP_RAW_OUTPUT, D1, 0, 0, NULL, 0), SC_ERR_PROTECTED);
	assert_int_equal(op(f, SC_OP_OPEN, D3, 0, 0, req, SC_HS1_MSG_LEN), SC_ERR_STATE);

	/* After all that the session still works. */
	roundtrip(f, D1, sid, &cs, "still here\n");
	sc_hvc_wipe(&cs);
}

/*
 * PROTECT of domid with generation gen, the owner's and the user's keys
 * (plus extra, if not NULL, as a user) and a token that ca_sk signed for
 * the UUID and token_acl entries of that list (0: no token).
 */
static int
protect_tok(struct fx *f, uint32_t domid, uint64_t gen, const uint8_t *extra,
    const uint8_t *ca_sk, unsigned token_acl, const uint8_t *secret)
{
	struct sc_registration reg;
	uint8_t blob[SC_PROTECT_PAYLOAD_MAX], msg[SC_OWNER_MSG_LEN], tok[64];
	struct sc_buf b;
	int i_dom = dom_index(domid);

	memset(&reg, 0, sizeof(reg));
	memcpy(reg.uuid, f->uuid[i_dom], 16);
	reg.generation = gen;
	memcpy(reg.vm_secret, secret != NULL ? secret : f->secret[i_dom], 32);
	memcpy(reg.disk_key, f->disk[i_dom], 32);
	reg.disk_key_len = 32;
	reg.acl_count = 2;
	memcpy(reg.acl[0].pubkey, f->owner_pk, 32);
	reg.acl[0].flags = SC_ACL_F_OWNER;
	memcpy(reg.acl[1].pubkey, f->user_pk, 32);
	if (extra != NULL)
		memcpy(reg.acl[reg.acl_count++].pubkey, extra, 32);
	if (ca_sk != NULL) {
		assert_int_equal(sc_owner_message(f->cp, reg.uuid, reg.acl,
		    token_acl, msg), 0);
		crypto_sign_ed25519_detached(tok, NULL, msg, sizeof(msg), ca_sk);
	}
	sc_buf_init(&b, blob, sizeof(blob));
	assert_int_equal(sc_protect_seal(f->cp, &reg, sc_hv_pubkey(f->t.hv),
	    ca_sk != NULL ? tok : NULL, &b), 0);
	return protect_blob(f, domid, &reg, blob, b.len);
}

/*
 * Owner CA configured (docs/xen.md §4 item 6): dom0's own credentials are
 * refused on a fresh and on a protected domain, the owner's token binds,
 * a replayed token binds only the keys it was made for.
 */
static void
test_owner_token(void **state)
{
	struct fx *f = *state;
	uint8_t ca_pk[32], ca_sk[64], evil_pk[32], evil_sk[64], dom0_pk[32],
	    dom0_sk[32], dom0_secret[32], flags[4];
	uint64_t g = 1000;

	crypto_sign_ed25519_keypair(ca_pk, ca_sk);
	crypto_sign_ed25519_keypair(evil_pk, evil_sk);
	assert_int_equal(sc_x25519_keypair(f->cp, dom0_pk, dom0_sk), 0);
	randombytes_buf(dom0_secret, sizeof(dom0_secret));
	assert_int_equal(sc_hv_set_owner_ca(f->t.hv, ca_pk), 0);
	assert_int_equal(sc_hv_set_owner_ca(f->t.hv, evil_pk), SC_ERR_STATE);
	/* Fresh domain: no token, a token of another key, dom0's key added. */
	assert_int_equal(protect_tok(f, D1, g, NULL, NULL, 0, NULL), SC_ERR_UNTRUSTED);
	assert_int_equal(f->rh.len, 32);	/* the owner learns why */
	assert_int_equal(protect_tok(f, D1, g, NULL, evil_sk, 2, NULL), SC_ERR_UNTRUSTED);
	assert_int_equal(protect_tok(f, D1, g, dom0_pk, ca_sk, 2, NULL), SC_ERR_UNTRUSTED);
	assert_int_equal(op(f, SC_OP_STATUS, D1, 0, 0, NULL, 0), 0);
	memcpy(flags, f->rp, 4);
	assert_int_equal(flags[0] & SC_DOM_F_PROTECTED, 0);
	/* The owner's token, same generation: the refusals did not take it. */
	assert_int_equal(protect_tok(f, D1, g, NULL, ca_sk, 2, NULL), 0);
	assert_int_equal(f->stored[dom_index(D1)], g);
	/* Protected domain: dom0's own credentials with a newer generation. */
	assert_int_equal(protect_tok(f, D1, g + 1, dom0_pk, ca_sk, 2, dom0_secret),
	    SC_ERR_UNTRUSTED);
	assert_int_equal(protect_tok(f, D1, g + 1, NULL, NULL, 0, dom0_secret),
	    SC_ERR_UNTRUSTED);
	assert_int_equal(f->stored[dom_index(D1)], g);
	/* A token for another domain's UUID does not bind D2. */
	assert_int_equal(protect_tok(f, D2, g, NULL, NULL, 0, NULL), SC_ERR_UNTRUSTED);
	/*
	 * The owner's token replayed with a VM secret of dom0's: binds the
	 * owner's keys only, so dom0's key cannot open a session.
	 */
	assert_int_equal(protect_tok(f, D1, g + 2, NULL, ca_sk, 2, dom0_secret), 0);
	{
		struct sc_hvc_session cs;
		uint32_t sid;

		assert_true(open_ex(f, D1, f->uuid[0], sc_hv_pubkey(f->t.hv), dom0_sk,
		    dom0_secret, 0, 0, &cs, &sid, NULL) < 0);
	}
	sodium_memzero(ca_sk, sizeof(ca_sk));
	sodium_memzero(evil_sk, sizeof(evil_sk));
}

static void
test_protect_rejections(void **state)
{
	struct fx *f = *state;
	struct acl_spec acl[1] = { { NULL, SC_ACL_F_OWNER } };
	uint8_t wrong_disk[32], other_pk[32], other_sk[32], garbage[200];
	struct sc_hvc_session cs2;
	uint32_t sid2;
	uint32_t flags;

	acl[0].pk = f->owner_pk;
	/* Domain 2 is protected and in session throughout. */
	assert_int_equal(protect(f, D2, 0, 0), 0);
	assert_int_equal(open_s(f, D2, f->owner_sk, 0, 0, &cs2, &sid2), 0);

	memcpy(wrong_disk, f->disk[0], 32);
	wrong_disk[5] ^= 0x40;
	assert_int_equal(protect_ex(f, D1, f->uuid[0], wrong_disk, 32, 0, 0, acl, 1,
	    NULL), SC_ERR_DISKKEY);
	assert_int_equal(f->rh.len, 32);		/* a confirm of the failure */
	/* Blob for another domain's UUID (even with that domain's disk key). */
	assert_int_equal(protect_ex(f, D1, f->uuid[1], f->disk[1], 32, 0, 0, acl, 1,
	    NULL), SC_ERR_MISMATCH);
	/* Sealed to another hv key. */
	assert_int_equal(sc_x25519_keypair(f->cp, other_pk, other_sk), 0);
	assert_int_equal(protect_ex(f, D1, f->uuid[0], f->disk[0], 32, 0, 0, acl, 1,
	    other_pk), SC_ERR_DECRYPT);
	/* Garbage and truncated blobs. */
	memset(garbage, 0x41, sizeof(garbage));
	assert_true(op(f, SC_OP_PROTECT, D1, 0, 0, garbage, sizeof(garbage)) < 0);
	assert_int_equal(op(f, SC_OP_PROTECT, D1, 0, 0, garbage, 10), SC_ERR_FORMAT);
	garbage[9] = 0;		/* tlen 0: a 9-byte blob */
	assert_int_equal(op(f, SC_OP_PROTECT, D1, 0, 0, garbage, 10), SC_ERR_TRUNCATED);
	garbage[9] = 0x41;
	assert_int_equal(op(f, SC_OP_PROTECT, D1, 0, 0, NULL, 0), SC_ERR_TRUNCATED);
	assert_int_equal(op(f, SC_OP_PROTECT, 55, 0, 0, garbage, 100), SC_ERR_NOTFOUND);
	/* None of that protected D1. */
	assert_int_equal(op(f, SC_OP_STATUS, D1, 0, 0, NULL, 0), 0);
	memcpy(&flags, f->rp, 4);
	assert_int_equal(flags & SC_DOM_F_PROTECTED, 0);
	assert_int_equal(op(f, SC_OP_RAW_INPUT, D1, 0, 0, "x", 1), 0);

	/* Re-binding a protected domain needs the disk key again. */
	memcpy(wrong_disk, f->disk[1], 32);
	wrong_disk[0] ^= 1;
	assert_int_equal(protect_ex(f, D2, f->uuid[1], wrong_disk, 32, 0, 0, acl, 1,
	    NULL), SC_ERR_DISKKEY);
	roundtrip(f, D2, sid2, &cs2, "d2 unaffected\n");
	sc_hvc_wipe(&cs2);
}

static void
test_session_roundtrip_and_raw(void **state)
{
	struct fx *f = *state;
	struct sc_hvc_session cs;
	uint8_t buf[64];
	uint32_t sid;
	size_t n;

	assert_int_equal(protect(f, D1, SC_REG_OPT_HISTORY, 0), 0);
	assert_int_equal(open_s(f, D1, f->owner_sk, 0, 0, &cs, &sid), 0);
	assert_int_equal(cs.hs2_flags, SC_HS2_F_OWNER);
	assert_true(f->events[D1] == 0 || (f->events[D1] & SC_EV_SESSION_CLOSED) == 0);
	roundtrip(f, D1, sid, &cs, "echo $((6*7))\n");
	/* Output is never plaintext: the OUTPUT payload does not contain it. */
	assert_int_equal(guest_write(f, D1, "SECRET-42", 9), 9);
	assert_true(f->events[D1] & SC_EV_OUTPUT);
	assert_int_equal(op(f, SC_OP_OUTPUT, D1, sid, 0, NULL, 0), 0);
	assert_true(f->rh.len > 9);
	assert_null(memmem(f->rp, f->rh.len, "SECRET", 6));
	assert_null(memmem(f->resp, sizeof(f->resp), "SECRET", 6));

	/* Unprotected domain: RAW in both directions is plaintext. */
	assert_int_equal(op(f, SC_OP_RAW_INPUT, D3, 0, 0, "plain\n", 6), 0);
	assert_int_equal(f->rh.arg, 6);
	n = guest_read(f, D3, buf, sizeof(buf));
	assert_int_equal(n, 6);
	assert_memory_equal(buf, "plain\n", 6);
	assert_int_equal(guest_write(f, D3, "out!", 4), 4);
	assert_true(f->events[D3] & SC_EV_OUTPUT);
	assert_int_equal(op(f, SC_OP_RAW_OUTPUT, D3, 0, 0, NULL, 0), 0);
	assert_int_equal(f->rh.len, 4);
	assert_memory_equal(f->rp, "out!", 4);
	/*
	 * A guest signalling in a loop while its output waits wakes dom0 once
	 * until dom0 reads (issue 14 item 1: the lab's console storm).
	 */
	f->events[D3] = 0;
	assert_int_equal(guest_write(f, D3, "a", 1), 1);
	assert_true(f->events[D3] & SC_EV_OUTPUT);
	f->events[D3] = 0;
	for (n = 0; n < 100; n++) {
		assert_int_equal(guest_write(f, D3, "b", 1), 1);
		assert_int_equal(sc_hv_guest_event(f->t.hv, D3), 0);
	}
	assert_int_equal(f->events[D3] & SC_EV_OUTPUT, 0);
	assert_int_equal(op(f, SC_OP_RAW_OUTPUT, D3, 0, 0, NULL, 0), 0);
	assert_int_equal(f->rh.len, 101);
	assert_int_equal(guest_write(f, D3, "c", 1), 1);
	assert_true(f->events[D3] & SC_EV_OUTPUT);
	assert_int_equal(op(f, SC_OP_RAW_OUTPUT, D3, 0, 0, NULL, 0), 0);
	/* CLOSE, then the id is gone. */
	assert_int_equal(op(f, SC_OP_CLOSE, D1, sid, 0, NULL, 0), 0);
	assert_int_equal(op(f, SC_OP_INPUT, D1, sid, 0, NULL, 0), SC_ERR_NOTFOUND);
	sc_hvc_wipe(&cs);
}

static void
test_handshake_rejections(void **state)
{
	struct fx *f = *state;
	struct sc_hvc_session cs, cs2, tmp;
	uint8_t msg1[SC_HS1_MSG_LEN], bad_secret[32], other_hv[32], x[32],
	    forged[2 + SC_RECORD_CT_MIN];
	uint32_t sid, sid2;

	assert_int_equal(protect(f, D1, 0, 0), 0);
	assert_int_equal(protect(f, D2, 0, 0), 0);
	assert_int_equal(open_s(f, D2, f->owner_sk, 0, 0, &cs2, &sid2), 0);

	/* Key not in the ACL. */
	assert_int_equal(open_s(f, D1, f->other_sk, 0, 0, &tmp, &sid), SC_ERR_PERM);
	sc_hvc_wipe(&tmp);
	/*
	 * Wrong VM secret (psk): IKpsk2 mixes the psk into message 2 only, so
	 * the hv answers, the client cannot read the answer, and the would-be
	 * writer never proves itself: it takes nothing over.
	 */
	assert_int_equal(open_s(f, D2, f->owner_sk, 0, 0, &cs, &sid), 0);
	memcpy(bad_secret, f->secret[1], 32);
	bad_secret[31] ^= 0x80;
	assert_int_equal(open_ex(f, D2, f->uuid[1], sc_hv_pubkey(f->t.hv), f->owner_sk,
	    bad_secret, SC_HS1_F_TAKEOVER, 0, &tmp, &sid, NULL), SC_ERR_DECRYPT);
	sc_hvc_wipe(&tmp);
	roundtrip(f, D2, sid2, &cs2, "d2 writer kept\n");
	/* ...and a record forged without the secret kills only the intruder. */
	memset(forged, 'A', sizeof(forged));
	forged[0] = SC_RECORD_CT_MIN;
	forged[1] = 0;
	assert_int_equal(op(f, SC_OP_INPUT, D2, sid, 0, forged, sizeof(forged)),
	    SC_ERR_DECRYPT);
	roundtrip(f, D2, sid2, &cs2, "d2 writer still kept\n");
	sc_hvc_wipe(&cs);
	/* Wrong prologue: another domain's UUID (handshake spliced onto D1). */
	assert_int_equal(open_ex(f, D1, f->uuid[1], sc_hv_pubkey(f->t.hv), f->owner_sk,
	    f->secret[0], 0, 0, &tmp, &sid, NULL), SC_ERR_DECRYPT);
	sc_hvc_wipe(&tmp);
	/* Wrong hv key in the prologue / as the responder static. */
	assert_int_equal(sc_x25519_keypair(f->cp, other_hv, x), 0);
	assert_true(open_ex(f, D1, f->uuid[0], other_hv, f->owner_sk, f->secret[0],
	    0, 0, &tmp, &sid, NULL) == SC_ERR_DECRYPT);
	sc_hvc_wipe(&tmp);
	/* Truncated and oversize message 1. */
	memset(msg1, 7, sizeof(msg1));
	assert_int_equal(op(f, SC_OP_OPEN, D1, 0, 0, msg1, SC_HS1_MSG_LEN - 1), SC_ERR_TRUNCATED);
	assert_int_equal(op(f, SC_OP_OPEN, D1, 0, 0, f->resp, SC_HS1_MSG_LEN + 1), SC_ERR_TOOLONG);
	/* A valid one, then its replay. */
	assert_int_equal(open_ex(f, D1, f->uuid[0], sc_hv_pubkey(f->t.hv), f->owner_sk,
	    f->secret[0], 0, 0, &cs, &sid, msg1), 0);
	assert_int_equal(op(f, SC_OP_OPEN, D1, 0, 0, msg1, sizeof(msg1)), SC_ERR_DECRYPT);
	/* The replay took nothing over: the original session still works. */
	roundtrip(f, D1, sid, &cs, "not taken over\n");
	/* Bit flips in message 1. */
	msg1[40] ^= 1;
	assert_int_equal(op(f, SC_OP_OPEN, D1, 0, 0, msg1, sizeof(msg1)), SC_ERR_DECRYPT);
	roundtrip(f, D2, sid2, &cs2, "d2 fine\n");
	sc_hvc_wipe(&cs);
	sc_hvc_wipe(&cs2);
}

static void
test_record_rejections(void **state)
{
	static struct rx rx;
	struct fx *f = *state;
	struct sc_hvc_session cs, cs2;
	uint8_t items[256], saved[256], buf[64];
	struct sc_buf b;
	uint32_t sid, sid2;
	size_t n, i;

	assert_int_equal(protect(f, D1, 0, 0), 0);
	assert_int_equal(protect(f, D2, 0, 0), 0);
	assert_int_equal(open_s(f, D2, f->owner_sk, 0, 0, &cs2, &sid2), 0);

	/*
	 * Tampered record: rejected, the session ends, nothing reaches the
	 * guest, and the client is told why with an authenticated CLOSE.
	 */
	assert_int_equal(open_s(f, D1, f->owner_sk, 0, 0, &cs, &sid), 0);
	sc_buf_init(&b, items, sizeof(items));
	assert_int_equal(sc_hvc_seal(&cs, SC_REC_DATA, (const uint8_t *)"rm -rf /\n", 9, &b), 0);
	items[5] ^= 0x01;
	assert_int_equal(op(f, SC_OP_INPUT, D1, sid, 0, items, b.len), SC_ERR_DECRYPT);
	assert_int_equal(guest_read(f, D1, buf, sizeof(buf)), 0);
	assert_int_equal(op(f, SC_OP_INPUT, D1, sid, 0, NULL, 0), SC_ERR_CLOSED);
	assert_true(f->events[D1] & SC_EV_SESSION_CLOSED);
	memset(&rx, 0, sizeof(rx));
	recv_all(f, D1, sid, &cs, &rx, 0);
	assert_true(rx.got_close);
	assert_int_equal(rx.close_reason, SC_CLOSE_PROTOCOL);
	assert_true(rx.closed_flag);
	assert_int_equal(op(f, SC_OP_INPUT, D1, sid, 0, NULL, 0), SC_ERR_NOTFOUND);
	sc_hvc_wipe(&cs);

	/* Replayed record. */
	assert_int_equal(open_s(f, D1, f->owner_sk, 0, 0, &cs, &sid), 0);
	sc_buf_init(&b, items, sizeof(items));
	assert_int_equal(sc_hvc_seal(&cs, SC_REC_DATA, (const uint8_t *)"ls\n", 3, &b), 0);
	memcpy(saved, items, b.len);
	assert_int_equal(op(f, SC_OP_INPUT, D1, sid, 0, items, b.len), 0);
	assert_int_equal(op(f, SC_OP_INPUT, D1, sid, 0, saved, b.len), SC_ERR_DECRYPT);
	n = guest_read(f, D1, buf, sizeof(buf));
	assert_int_equal(n, 3);			/* once, not twice */
	sc_hvc_wipe(&cs);

	/* Item shorter than a tag; item longer than the limit. */
	assert_int_equal(open_s(f, D1, f->owner_sk, 0, 0, &cs, &sid), 0);
	items[0] = 10; items[1] = 0;
	assert_int_equal(op(f, SC_OP_INPUT, D1, sid, 0, items, 2), SC_ERR_TRUNCATED);
	assert_int_equal(op(f, SC_OP_INPUT, D1, sid, 0, NULL, 0), SC_ERR_CLOSED);
	sc_hvc_wipe(&cs);
	assert_int_equal(open_s(f, D1, f->owner_sk, 0, 0, &cs, &sid), 0);
	items[0] = 0xff; items[1] = 0xff;
	assert_int_equal(op(f, SC_OP_INPUT, D1, sid, 0, items, 2), SC_ERR_TOOLONG);
	sc_hvc_wipe(&cs);

	/* Truncated ciphertext: the item claims more than it carries, then the
	 * next item's bytes complete it — not a padded size, refused. */
	assert_int_equal(open_s(f, D1, f->owner_sk, 0, 0, &cs, &sid), 0);
	sc_buf_init(&b, items, sizeof(items));
	assert_int_equal(sc_hvc_seal(&cs, SC_REC_DATA, (const uint8_t *)"abc", 3, &b), 0);
	items[0] += 5;
	assert_int_equal(op(f, SC_OP_INPUT, D1, sid, 0, items, b.len), 0);
	assert_int_equal(f->rh.arg, b.len);	/* buffered, waiting for 5 more */
	assert_int_equal(op(f, SC_OP_INPUT, D1, sid, 0, "12345", 5), SC_ERR_FORMAT);
	assert_int_equal(guest_read(f, D1, buf, sizeof(buf)), 0);
	sc_hvc_wipe(&cs);

	/* A record split into 1-byte INPUT ops is reassembled. */
	assert_int_equal(open_s(f, D1, f->owner_sk, 0, 0, &cs, &sid), 0);
	sc_buf_init(&b, items, sizeof(items));
	assert_int_equal(sc_hvc_seal(&cs, SC_REC_DATA, (const uint8_t *)"split\n", 6, &b), 0);
	assert_int_equal(sc_hvc_seal(&cs, SC_REC_DATA, (const uint8_t *)"two\n", 4, &b), 0);
	for (i = 0; i < b.len; i++) {
		assert_int_equal(op(f, SC_OP_INPUT, D1, sid, 0, items + i, 1), 0);
		assert_int_equal(f->rh.arg, 1);
	}
	n = guest_read(f, D1, buf, sizeof(buf));
	assert_int_equal(n, 10);
	assert_memory_equal(buf, "split\ntwo\n", 10);
	/* An hv->client record type from the client is a protocol violation. */
	assert_int_equal(send_rec(f, D1, sid, &cs, SC_REC_NOTICE, "xx", 2), SC_ERR_TYPE);
	sc_hvc_wipe(&cs);

	roundtrip(f, D2, sid2, &cs2, "d2 still fine\n");
	sc_hvc_wipe(&cs2);
}

/* More input than the in ring holds: back-pressure, nothing lost or doubled. */
static void
test_backpressure(void **state)
{
	struct fx *f = *state;
	struct sc_hvc_session cs;
	static uint8_t stream[20000], got[20000], items[30000];
	struct sc_buf b;
	size_t off = 0, ngot = 0, n, i, rounds = 0;
	uint32_t sid;

	assert_int_equal(protect(f, D1, 0, 0), 0);
	assert_int_equal(open_s(f, D1, f->owner_sk, 0, 0, &cs, &sid), 0);
	for (i = 0; i < sizeof(stream); i++)
		stream[i] = (uint8_t)(i * 31 + (i >> 8));
	/* Records of odd sizes up to the payload maximum. */
	sc_buf_init(&b, items, sizeof(items));
	for (i = 0; i < sizeof(stream); ) {
		n = SC_MIN((size_t)(1 + (i * 7) % SC_RECORD_PAYLOAD_MAX), sizeof(stream) - i);
		assert_int_equal(sc_hvc_seal(&cs, SC_REC_DATA, stream + i, n, &b), 0);
		i += n;
	}
	while (off < b.len || ngot < sizeof(stream)) {
		if (off < b.len) {
			f->events[D1] = 0;
			assert_int_equal(op(f, SC_OP_INPUT, D1, sid, 0, items + off,
			    SC_MIN(b.len - off, (size_t)3000)), 0);
			off += f->rh.arg;
		}
		/* The guest reads a little, then signals. */
		n = guest_read(f, D1, got + ngot, SC_MIN((size_t)300, sizeof(got) - ngot));
		ngot += n;
		assert_int_equal(sc_hv_guest_event(f->t.hv, D1), 0);
		assert_true(++rounds < 10000);
	}
	assert_int_equal(ngot, sizeof(stream));
	assert_memory_equal(got, stream, sizeof(stream));
	assert_int_equal(guest_read(f, D1, got, 10), 0);
	sc_hvc_wipe(&cs);
}

/*
 * OUTPUT events are edge-triggered per session: guest output raises one,
 * further output raises none until dom0 calls OUTPUT for the session, and
 * the next output after that call raises one again (PROTOCOL.md §8.2).
 */
static void
test_output_event_once_per_pull(void **state)
{
	struct fx *f = *state;
	struct sc_hvc_session cs;
	struct rx rx;
	uint32_t sid;

	assert_int_equal(protect(f, D1, SC_REG_OPT_HISTORY, 0), 0);
	assert_int_equal(open_s(f, D1, f->owner_sk, 0, 0, &cs, &sid), 0);
	memset(&rx, 0, sizeof(rx));
	recv_all(f, D1, sid, &cs, &rx, 0);
	f->events[D1] = 0;
	assert_int_equal(guest_write(f, D1, "one", 3), 3);
	assert_true(f->events[D1] & SC_EV_OUTPUT);
	f->events[D1] = 0;
	assert_int_equal(guest_write(f, D1, "two", 3), 3);
	assert_int_equal(f->events[D1] & SC_EV_OUTPUT, 0);
	/* The pull delivers both; the next output is announced again. */
	memset(&rx, 0, sizeof(rx));
	recv_all(f, D1, sid, &cs, &rx, 0);
	assert_int_equal(rx.ndata, 6);
	assert_memory_equal(rx.data, "onetwo", 6);
	assert_int_equal(guest_write(f, D1, "three", 5), 5);
	assert_true(f->events[D1] & SC_EV_OUTPUT);
	sc_hvc_wipe(&cs);
}

/*
 * Output that reaches the history during another session's OUTPUT op (the
 * writer's pull drains the ring once its backlog shrinks) raises an event
 * for the sessions that have not seen it: the guest may have nothing more
 * to write, and no guest event would ever come.
 */
static void
test_output_moved_by_a_pull_is_announced(void **state)
{
	struct fx *f = *state;
	struct sc_hvc_session w, v;
	static struct rx rx;
	uint8_t out[4096];
	uint32_t sw, sv;
	size_t i, n;

	for (i = 0; i < sizeof(out); i++)
		out[i] = (uint8_t)('A' + i % 26);
	assert_int_equal(protect(f, D1, SC_REG_OPT_HISTORY, 4096), 0);
	assert_int_equal(open_s(f, D1, f->owner_sk, 0, 0, &w, &sw), 0);
	assert_int_equal(open_s(f, D1, f->user_sk, SC_HS1_F_VIEWER, 0, &v, &sv), 0);
	/* A record makes the first session the writer, whose backlog holds the guest. */
	assert_int_equal(send_rec(f, D1, sw, &w, SC_REC_PING, "", 0), 0);
	memset(&rx, 0, sizeof(rx));
	recv_all(f, D1, sw, &w, &rx, 0);
	memset(&rx, 0, sizeof(rx));
	recv_all(f, D1, sv, &v, &rx, 0);
	/* The writer's unread output fills the history; 1000 bytes wait in the ring. */
	for (i = 0; i < sizeof(out); i += n)
		n = guest_write(f, D1, out + i, sizeof(out) - i);
	assert_int_equal(guest_write(f, D1, "0123456789", 10), 10);
	for (i = 0; i < 99; i++)
		assert_int_equal(guest_write(f, D1, "0123456789", 10), 10);
	/* The viewer catches up with the history. */
	memset(&rx, 0, sizeof(rx));
	recv_all(f, D1, sv, &v, &rx, 0);
	assert_int_equal(rx.ndata, 4096);
	/* The writer's pull moves the ring's 1000 bytes: the viewer is told. */
	f->events[D1] = 0;
	memset(&rx, 0, sizeof(rx));
	recv_all(f, D1, sw, &w, &rx, 0);
	assert_int_equal(rx.ndata, 5096);
	assert_true(f->events[D1] & SC_EV_OUTPUT);
	memset(&rx, 0, sizeof(rx));
	recv_all(f, D1, sv, &v, &rx, 0);
	assert_int_equal(rx.ndata, 1000);
	sc_hvc_wipe(&w);
	sc_hvc_wipe(&v);
}

static void
test_blocked_then_event(void **state)
{
	struct fx *f = *state;
	struct sc_hvc_session cs;
	uint8_t big[1500], items[2 * (2 + SC_RECORD_CT_MAX)], buf[2048];
	struct sc_buf b;
	uint32_t sid;
	size_t n;

	memset(big, 'q', sizeof(big));
	assert_int_equal(protect(f, D1, 0, 0), 0);
	assert_int_equal(open_s(f, D1, f->owner_sk, 0, 0, &cs, &sid), 0);
	sc_buf_init(&b, items, sizeof(items));
	assert_int_equal(sc_hvc_seal(&cs, SC_REC_DATA, big, sizeof(big), &b), 0);
	assert_int_equal(sc_hvc_seal(&cs, SC_REC_DATA, (const uint8_t *)"Z", 1, &b), 0);
	/* First record is accepted (1024 to the ring, 476 pending); the second
	 * is held back by all but its last byte. */
	assert_int_equal(op(f, SC_OP_INPUT, D1, sid, 0, items, b.len), 0);
	assert_int_equal(f->rh.arg, b.len - 1);
	f->events[D1] = 0;
	n = guest_read(f, D1, buf, sizeof(buf));
	assert_int_equal(n, 1024);
	assert_int_equal(sc_hv_guest_event(f->t.hv, D1), 0);
	assert_true(f->events[D1] & SC_EV_INPUT_SPACE);
	assert_int_equal(op(f, SC_OP_INPUT, D1, sid, 0, items + b.len - 1, 1), 0);
	assert_int_equal(f->rh.arg, 1);
	n = guest_read(f, D1, buf, sizeof(buf));
	assert_int_equal(n, 477);
	assert_int_equal(buf[476], 'Z');
	sc_hvc_wipe(&cs);
}

static void
test_history(void **state)
{
	struct fx *f = *state;
	struct sc_hvc_session cs, cs2;
	static struct rx rx;
	static uint8_t out[20000];
	uint8_t req[4] = { 0, 0, 0, 50 };
	uint32_t sid, sid2;
	uint64_t v;
	size_t i, w;

	for (i = 0; i < sizeof(out); i++)
		out[i] = (uint8_t)('a' + i % 26);
	/* D1: history kept.  Guest writes 100 bytes with nobody attached. */
	assert_int_equal(protect(f, D1, SC_REG_OPT_HISTORY, 0), 0);
	assert_int_equal(guest_write(f, D1, out, 100), 100);
	assert_int_equal(open_s(f, D1, f->owner_sk, 0, 1000, &cs, &sid), 0);
	assert_int_equal(cs.history_kept, 100);
	assert_int_equal(cs.lost_bytes, 0);
	memset(&rx, 0, sizeof(rx));
	recv_all(f, D1, sid, &cs, &rx, 0);
	assert_int_equal(rx.nhist, 100);
	assert_true(rx.hist_last);
	assert_memory_equal(rx.hist, out, 100);
	assert_true(has_notice(&rx, SC_NOTICE_HISTORY_END, &v));
	assert_int_equal(v, 100);
	assert_int_equal(rx.ndata, 0);
	/* HISTORY_REQ replays the last N bytes, announced at once. */
	f->events[D1] = 0;
	assert_int_equal(send_rec(f, D1, sid, &cs, SC_REC_HISTORY_REQ, req, 4), 0);
	assert_true(f->events[D1] & SC_EV_OUTPUT);
	memset(&rx, 0, sizeof(rx));
	recv_all(f, D1, sid, &cs, &rx, 0);
	assert_int_equal(rx.nhist, 50);
	assert_memory_equal(rx.hist, out + 50, 50);
	sc_hvc_wipe(&cs);

	/* D2: 8 KiB buffer; 20000 bytes while detached overflow it. */
	assert_int_equal(protect(f, D2, SC_REG_OPT_HISTORY, 0), 0);
	for (i = 0; i < sizeof(out); i += w)
		w = guest_write(f, D2, out + i, sizeof(out) - i);
	assert_int_equal(open_s(f, D2, f->owner_sk, 0, 100000, &cs2, &sid2), 0);
	assert_int_equal(cs2.history_kept, 8192);
	assert_int_equal(cs2.lost_bytes, 20000 - 8192);
	memset(&rx, 0, sizeof(rx));
	recv_all(f, D2, sid2, &cs2, &rx, 1000);		/* small OUTPUTs */
	assert_int_equal(rx.nhist, 8192);
	assert_memory_equal(rx.hist, out + 20000 - 8192, 8192);
	assert_true(has_notice(&rx, SC_NOTICE_LOST_OUTPUT, &v));
	assert_int_equal(v, 20000 - 8192);
	/* Live output after the replay comes as DATA, all of it, in order,
	 * even far more than the buffer (the writer back-pressures the guest). */
	for (i = 0; i < sizeof(out); ) {
		i += guest_write(f, D2, out + i, sizeof(out) - i);
		memset(&rx, 0, sizeof(rx));
		recv_all(f, D2, sid2, &cs2, &rx, 0);
		assert_memory_equal(rx.data, out + i - rx.ndata, rx.ndata);
	}
	sc_hvc_wipe(&cs2);
}

static void
test_no_history_option(void **state)
{
	struct fx *f = *state;
	struct sc_hvc_session cs;
	uint32_t sid;

	assert_int_equal(protect(f, D1, 0, 0), 0);
	assert_int_equal(guest_write(f, D1, "while away", 10), 10);
	assert_int_equal(open_s(f, D1, f->owner_sk, 0, 1000, &cs, &sid), 0);
	assert_int_equal(cs.history_kept, 0);
	assert_int_equal(cs.lost_bytes, 10);
	sc_hvc_wipe(&cs);
}

static void
test_takeover_and_viewer(void **state)
{
	struct fx *f = *state;
	struct sc_hvc_session a, b, v;
	static struct rx rx;
	uint32_t sa, sb, sv;

	assert_int_equal(protect(f, D1, SC_REG_OPT_HISTORY, 0), 0);
	assert_int_equal(open_s(f, D1, f->owner_sk, 0, 0, &a, &sa), 0);
	assert_int_equal(open_s(f, D1, f->user_sk, SC_HS1_F_VIEWER, 0, &v, &sv), 0);
	assert_int_equal(v.hs2_flags, SC_HS2_F_VIEWER);
	/* Output reaches writer and viewer. */
	assert_int_equal(guest_write(f, D1, "both see this", 13), 13);
	memset(&rx, 0, sizeof(rx));
	recv_all(f, D1, sv, &v, &rx, 0);
	assert_int_equal(rx.ndata, 13);
	memset(&rx, 0, sizeof(rx));
	recv_all(f, D1, sa, &a, &rx, 0);
	assert_int_equal(rx.ndata, 13);
	/* A viewer may not type: the session ends, nothing reaches the guest. */
	assert_int_equal(send_rec(f, D1, sv, &v, SC_REC_DATA, "x", 1), SC_ERR_PERM);
	memset(&rx, 0, sizeof(rx));
	recv_all(f, D1, sv, &v, &rx, 0);
	assert_true(rx.got_close);
	assert_int_equal(rx.close_reason, SC_CLOSE_PROTOCOL);
	assert_true(rx.closed_flag);
	assert_int_equal(op(f, SC_OP_OUTPUT, D1, sv, 0, NULL, 0), SC_ERR_NOTFOUND);
	/* A second writer takes over with its first record; the first is told. */
	f->nclosed = 0;
	assert_int_equal(open_s(f, D1, f->user_sk, SC_HS1_F_TAKEOVER, 0, &b, &sb), 0);
	assert_int_equal(f->nclosed, 0);
	roundtrip(f, D1, sa, &a, "old writer until the new one proves itself\n");
	assert_int_equal(send_rec(f, D1, sb, &b, SC_REC_PING, "", 0), 0);
	assert_int_equal(f->nclosed, 1);
	assert_int_equal(f->closed_ids[0], sa);
	assert_int_equal(send_rec(f, D1, sa, &a, SC_REC_DATA, "late", 4), SC_ERR_CLOSED);
	memset(&rx, 0, sizeof(rx));
	recv_all(f, D1, sa, &a, &rx, 0);
	assert_true(rx.got_close);
	assert_int_equal(rx.close_reason, SC_CLOSE_TAKEN_OVER);
	assert_true(rx.closed_flag);
	memset(&rx, 0, sizeof(rx));
	recv_all(f, D1, sb, &b, &rx, 0);
	assert_true(has_notice(&rx, SC_NOTICE_TAKEN_OVER, NULL));
	roundtrip(f, D1, sb, &b, "new writer\n");
	sc_hvc_wipe(&a);
	sc_hvc_wipe(&b);
	sc_hvc_wipe(&v);
}

static void
test_break_ping_close(void **state)
{
	struct fx *f = *state;
	struct sc_hvc_session cs;
	static struct rx rx;
	uint8_t buf[16], key = 'h', zero = 0, bad = 0x07;
	struct sc_buf b;
	uint64_t v;
	uint32_t sid;

	assert_int_equal(protect(f, D1, 0, 0), 0);
	assert_int_equal(open_s(f, D1, f->owner_sk, 0, 0, &cs, &sid), 0);
	assert_int_equal(send_rec(f, D1, sid, &cs, SC_REC_BREAK, &key, 1), 0);
	assert_int_equal(guest_read(f, D1, buf, sizeof(buf)), 2);
	assert_int_equal(buf[0], SC_HVC_SYSRQ_CHAR);
	assert_int_equal(buf[1], 'h');
	assert_int_equal(send_rec(f, D1, sid, &cs, SC_REC_BREAK, &zero, 1), 0);
	assert_int_equal(guest_read(f, D1, buf, sizeof(buf)), 0);
	assert_int_equal(send_rec(f, D1, sid, &cs, SC_REC_PING, "hello", 5), 0);
	memset(&rx, 0, sizeof(rx));
	recv_all(f, D1, sid, &cs, &rx, 0);
	assert_true(has_notice(&rx, SC_NOTICE_SYSRQ, &v));
	assert_int_equal(v, 'h');
	assert_int_equal(rx.types[rx.ntypes - 1], SC_REC_PONG);
	assert_int_equal(rx.last_len, 5);
	assert_memory_equal(rx.last_pl, "hello", 5);
	/* Invalid SysRq key: protocol violation. */
	assert_int_equal(send_rec(f, D1, sid, &cs, SC_REC_BREAK, &bad, 1), SC_ERR_FORMAT);
	sc_hvc_wipe(&cs);
	/* Payloads of the wrong size: protocol violations, nothing reaches the guest. */
	{
		static const struct { uint8_t type; size_t len; } wrong[] = {
			{ SC_REC_BREAK, 0 }, { SC_REC_BREAK, 2 },
			{ SC_REC_HISTORY_REQ, 0 }, { SC_REC_HISTORY_REQ, 3 },
			{ SC_REC_HISTORY_REQ, 5 },
		};
		static const uint8_t pl[8] = { 'h', 'h', 0, 0, 0, 0, 0, 0 };
		unsigned i;

		for (i = 0; i < SC_NELEM(wrong); i++) {
			assert_int_equal(open_s(f, D1, f->owner_sk, 0, 0, &cs, &sid), 0);
			assert_int_equal(send_rec(f, D1, sid, &cs, wrong[i].type, pl,
			    wrong[i].len), SC_ERR_FORMAT);
			memset(&rx, 0, sizeof(rx));
			recv_all(f, D1, sid, &cs, &rx, 0);
			assert_true(rx.got_close);
			assert_int_equal(rx.close_reason, SC_CLOSE_PROTOCOL);
			assert_int_equal(guest_read(f, D1, buf, sizeof(buf)), 0);
			sc_hvc_wipe(&cs);
		}
	}
	/*
	 * The close handshake: the hv answers the client's CLOSE with its own,
	 * whose counts say it got every client record (the CLOSE included) and
	 * how many it sent; then it reads nothing more and the session ends.
	 */
	assert_int_equal(open_s(f, D1, f->owner_sk, 0, 0, &cs, &sid), 0);
	assert_int_equal(send_rec(f, D1, sid, &cs, SC_REC_DATA, "ab", 2), 0);
	assert_int_equal(send_rec(f, D1, sid, &cs, SC_REC_PING, "p", 1), 0);
	{
		uint8_t items[2 + SC_RECORD_CT_MIN];

		sc_buf_init(&b, items, sizeof(items));
		assert_int_equal(sc_hvc_seal_close(&cs, SC_CLOSE_NORMAL, "", &b), 0);
		assert_int_equal(op(f, SC_OP_INPUT, D1, sid, 0, items, b.len), 0);
	}
	assert_int_equal(guest_read(f, D1, buf, sizeof(buf)), 2);
	memset(&rx, 0, sizeof(rx));
	recv_all(f, D1, sid, &cs, &rx, 0);
	assert_true(rx.got_close);
	assert_true(rx.closed_flag);
	assert_int_equal(rx.close_reason, SC_CLOSE_NORMAL);
	assert_int_equal(rx.close_recv, 3);		/* DATA, PING, CLOSE */
	assert_int_equal(rx.close_recv, cs.rl.stats.records_sent);
	assert_int_equal(rx.close_sent, 1);		/* the PONG */
	assert_int_equal(send_rec(f, D1, sid, &cs, SC_REC_DATA, "x", 1),
	    SC_ERR_NOTFOUND);
	assert_int_equal(op(f, SC_OP_OUTPUT, D1, sid, 0, NULL, 0), SC_ERR_NOTFOUND);
	sc_hvc_wipe(&cs);
	/* A CLOSE in the version-1 layout (reason, text; no counts) is refused. */
	assert_int_equal(open_s(f, D1, f->owner_sk, 0, 0, &cs, &sid), 0);
	assert_int_equal(send_rec(f, D1, sid, &cs, SC_REC_CLOSE, "\0\0", 2),
	    SC_ERR_FORMAT);
	memset(&rx, 0, sizeof(rx));
	recv_all(f, D1, sid, &cs, &rx, 0);
	assert_true(rx.got_close);
	assert_int_equal(rx.close_reason, SC_CLOSE_PROTOCOL);
	sc_hvc_wipe(&cs);
}

static void
owner_cmd(struct fx *f, uint32_t domid, uint32_t sid, struct sc_hvc_session *cs,
    uint8_t cmd, const uint8_t *key, uint8_t flags, int32_t want_status,
    unsigned want_count)
{
	static struct rx rx;
	uint8_t p[34];
	uint32_t st;

	memset(p, 0, sizeof(p));
	p[0] = cmd;
	if (key)
		memcpy(p + 1, key, 32);
	p[33] = flags;
	assert_int_equal(send_rec(f, domid, sid, cs, SC_REC_OWNER_CMD, p, sizeof(p)), 0);
	memset(&rx, 0, sizeof(rx));
	recv_all(f, domid, sid, cs, &rx, 0);
	assert_int_equal(rx.types[0], SC_REC_OWNER_RESULT);
	/* last_pl is the last record; find the result as the first one. */
	assert_true(rx.ntypes >= 1);
	if (rx.ntypes == 1) {
		assert_int_equal(rx.last_pl[0], cmd);
		st = (uint32_t)rx.last_pl[1] << 24 | rx.last_pl[2] << 16 |
		    rx.last_pl[3] << 8 | rx.last_pl[4];
		assert_int_equal((int32_t)st, want_status);
		assert_int_equal(rx.last_pl[5], want_count);
		assert_int_equal(rx.last_len, 6 + want_count * 33);
	}
}

static void
test_owner_commands(void **state)
{
	struct fx *f = *state;
	struct sc_hvc_session o, u, x;
	static struct rx rx;
	uint32_t so, su, sx;

	assert_int_equal(protect(f, D1, 0, 0), 0);
	assert_int_equal(open_s(f, D1, f->owner_sk, 0, 0, &o, &so), 0);
	assert_int_equal(open_s(f, D1, f->user_sk, SC_HS1_F_VIEWER, 0, &u, &su), 0);
	assert_int_equal(u.hs2_flags, SC_HS2_F_VIEWER);	/* not an owner */
	owner_cmd(f, D1, so, &o, SC_OWNER_ACL_LIST, NULL, 0, 0, 2);
	/* Non-owner: refused, ACL unchanged. */
	owner_cmd(f, D1, su, &u, SC_OWNER_ACL_ADD, f->other_pk, 0, SC_ERR_PERM, 0);
	assert_int_equal(open_s(f, D1, f->other_sk, 0, 0, &x, &sx), SC_ERR_PERM);
	sc_hvc_wipe(&x);
	/* Owner adds the third key: it can now open a session. */
	owner_cmd(f, D1, so, &o, SC_OWNER_ACL_ADD, f->other_pk, 0, 0, 3);
	assert_int_equal(open_s(f, D1, f->other_sk, SC_HS1_F_VIEWER, 0, &x, &sx), 0);
	/* Removing the last owner is refused; unknown key is NOTFOUND. */
	owner_cmd(f, D1, so, &o, SC_OWNER_ACL_DEL, f->owner_pk, 0, SC_ERR_INVAL, 0);
	owner_cmd(f, D1, so, &o, SC_OWNER_ACL_DEL, f->disk[0], 0, SC_ERR_NOTFOUND, 0);
	/* Removing a key closes its sessions. */
	f->nclosed = 0;
	owner_cmd(f, D1, so, &o, SC_OWNER_ACL_DEL, f->other_pk, 0, 0, 2);
	assert_int_equal(f->nclosed, 1);
	assert_int_equal(f->closed_ids[0], sx);
	memset(&rx, 0, sizeof(rx));
	recv_all(f, D1, sx, &x, &rx, 0);
	assert_true(rx.got_close);
	assert_int_equal(rx.close_reason, SC_CLOSE_ACL);
	assert_int_equal(open_s(f, D1, f->other_sk, 0, 0, &x, &sx), SC_ERR_PERM);
	/* The other viewer was told the ACL changed. */
	memset(&rx, 0, sizeof(rx));
	recv_all(f, D1, su, &u, &rx, 0);
	assert_true(has_notice(&rx, SC_NOTICE_ACL_CHANGED, NULL));
	roundtrip(f, D1, so, &o, "owner ok\n");
	sc_hvc_wipe(&o);
	sc_hvc_wipe(&u);
	sc_hvc_wipe(&x);
}

/*
 * A registration for domid (its UUID, secret and disk key) with generation
 * gen, the owner and, if with_user, the user in the ACL, sealed to the hv
 * into blob[0..*len).
 */
static void
seal_for(struct fx *f, uint32_t domid, uint64_t gen, bool with_user,
    uint32_t options, struct sc_registration *reg, uint8_t *blob, size_t *len)
{
	int i = dom_index(domid);
	struct sc_buf b;

	memset(reg, 0, sizeof(*reg));
	memcpy(reg->uuid, f->uuid[i], 16);
	reg->generation = gen;
	memcpy(reg->vm_secret, f->secret[i], 32);
	memcpy(reg->disk_key, f->disk[i], 32);
	reg->disk_key_len = 32;
	reg->options = options;
	reg->acl_count = with_user ? 2 : 1;
	memcpy(reg->acl[0].pubkey, f->owner_pk, 32);
	reg->acl[0].flags = SC_ACL_F_OWNER;
	memcpy(reg->acl[1].pubkey, f->user_pk, 32);
	sc_buf_init(&b, blob, SC_PROTECT_PAYLOAD_MAX);
	assert_int_equal(sc_protect_seal(f->cp, reg, sc_hv_pubkey(f->t.hv), NULL, &b), 0);
	*len = b.len;
}

static bool
contains(const uint8_t *hay, size_t n, const char *needle)
{
	size_t k = strlen(needle), i;

	for (i = 0; i + k <= n; i++)
		if (memcmp(hay + i, needle, k) == 0)
			return true;
	return false;
}

/*
 * dom0 keeps the owner's PROTECT blob, has the hv accept more blobs for a
 * VM it controls than any replay cache could hold, and replays the owner's
 * blob after the owner removed a key with ACL_DEL: the generation refuses
 * it (the removed key stays out, the owner's session survives), and the
 * removed user never reads what the guest printed after the removal, even
 * once the owner lets him back in.
 */
static void
test_protect_replay(void **state)
{
	struct fx *f = *state;
	static struct sc_registration reg, reg2;
	static uint8_t blob[SC_PROTECT_PAYLOAD_MAX], blob2[SC_PROTECT_PAYLOAD_MAX];
	static struct rx rx;
	struct sc_hvc_session o, u;
	size_t len, len2;
	uint32_t so, su;
	unsigned i;

	seal_for(f, D1, ++f->gen, true, SC_REG_OPT_HISTORY, &reg, blob, &len);
	assert_int_equal(protect_blob(f, D1, &reg, blob, len), 0);
	assert_int_equal(f->rh.len, 32);
	assert_true(f->stored[0] == reg.generation);	/* made durable */
	assert_int_equal(guest_write(f, D1, "before\n", 7), 7);

	/* The owner removes the user's key; the guest prints a secret. */
	assert_int_equal(open_s(f, D1, f->owner_sk, 0, 0, &o, &so), 0);
	owner_cmd(f, D1, so, &o, SC_OWNER_ACL_DEL, f->user_pk, 0, 0, 1);
	assert_true(f->stored[0] == reg.generation + 1);
	assert_int_equal(open_s(f, D1, f->user_sk, 0, 0, &u, &su), SC_ERR_PERM);
	sc_hvc_wipe(&u);
	assert_int_equal(guest_write(f, D1, "SECRET-after\n", 13), 13);
	memset(&rx, 0, sizeof(rx));
	recv_all(f, D1, so, &o, &rx, 0);
	assert_true(contains(rx.data, rx.ndata, "SECRET-after"));

	/* dom0 binds D2 (whose disk key it knows) over and over: more than
	 * the 1024 blobs the old replay cache held. */
	for (i = 0; i < 1100; i++)
		assert_int_equal(protect(f, D2, 0, 0), 0);

	/* ... then replays the owner's blob: refused, nothing re-bound.  The
	 * refusal comes with a confirm, so the owner can trust it. */
	f->nclosed = 0;
	assert_int_equal(protect_blob(f, D1, &reg, blob, len), SC_ERR_EXPIRED);
	assert_int_equal(f->rh.len, 32);
	assert_int_equal(f->nclosed, 0);
	assert_int_equal(open_s(f, D1, f->user_sk, 0, 100000, &u, &su), SC_ERR_PERM);
	sc_hvc_wipe(&u);
	roundtrip(f, D1, so, &o, "still bound\n");
	/* Not to another domain either (its UUID does not match). */
	assert_int_equal(protect_blob(f, D2, &reg, blob, len), SC_ERR_MISMATCH);

	/* The owner lets the user back in with a new blob (same secret): the
	 * user gets no history from while he was out. */
	assert_int_equal(op(f, SC_OP_CLOSE, D1, so, 0, NULL, 0), 0);
	sc_hvc_wipe(&o);
	assert_int_equal(guest_write(f, D1, "SECRET-detached\n", 16), 16);
	seal_for(f, D1, ++f->gen, true, SC_REG_OPT_HISTORY, &reg2, blob2, &len2);
	assert_int_equal(protect_blob(f, D1, &reg2, blob2, len2), 0);
	assert_int_equal(open_s(f, D1, f->user_sk, 0, 100000, &u, &su), 0);
	assert_int_equal(u.history_kept, 0);
	memset(&rx, 0, sizeof(rx));
	recv_all(f, D1, su, &u, &rx, 0);
	assert_int_equal(rx.nhist, 0);
	assert_false(contains(rx.data, rx.ndata, "SECRET"));
	/* What the guest prints now, he sees. */
	assert_int_equal(guest_write(f, D1, "welcome back\n", 13), 13);
	memset(&rx, 0, sizeof(rx));
	recv_all(f, D1, su, &u, &rx, 0);
	assert_true(contains(rx.data, rx.ndata, "welcome back"));
	/* The newer blob, replayed, is refused as well. */
	assert_int_equal(protect_blob(f, D1, &reg2, blob2, len2), SC_ERR_EXPIRED);
	sc_hvc_wipe(&u);
	memset(&reg, 0, sizeof(reg));
	memset(&reg2, 0, sizeof(reg2));
}

/*
 * History survives a re-bind only when the VM secret and the ACL's keys
 * stay: a new secret (e.g. dom0 swapped the LUKS header and bound its own
 * credentials) or a dropped key wipes it; an in-session ACL_DEL forgets
 * what no open session still needs.
 */
static void
test_rebind_wipes_history(void **state)
{
	struct fx *f = *state;
	struct acl_spec acl1[1] = { { NULL, SC_ACL_F_OWNER } };
	struct sc_hvc_session o, u, x;
	static struct rx rx;
	uint8_t cmd[34];
	uint32_t so, su, sx;

	acl1[0].pk = f->owner_pk;
	/* Same secret, same keys, same size: history kept. */
	assert_int_equal(protect(f, D1, SC_REG_OPT_HISTORY, 0), 0);
	assert_int_equal(guest_write(f, D1, "kept\n", 5), 5);
	assert_int_equal(protect(f, D1, SC_REG_OPT_HISTORY, 0), 0);
	assert_int_equal(open_s(f, D1, f->owner_sk, 0, 1000, &o, &so), 0);
	assert_int_equal(o.history_kept, 5);
	assert_int_equal(op(f, SC_OP_CLOSE, D1, so, 0, NULL, 0), 0);
	sc_hvc_wipe(&o);
	/* A new VM secret: wiped. */
	f->cp->random(f->secret[0], 32);
	assert_int_equal(protect(f, D1, SC_REG_OPT_HISTORY, 0), 0);
	assert_int_equal(open_s(f, D1, f->owner_sk, 0, 1000, &o, &so), 0);
	assert_int_equal(o.history_kept, 0);
	assert_int_equal(op(f, SC_OP_CLOSE, D1, so, 0, NULL, 0), 0);
	sc_hvc_wipe(&o);
	/* A key dropped from the ACL by the new blob: wiped. */
	assert_int_equal(guest_write(f, D1, "gone\n", 5), 5);
	assert_int_equal(protect_ex(f, D1, f->uuid[0], f->disk[0], 32,
	    SC_REG_OPT_HISTORY, 0, acl1, 1, NULL), 0);
	assert_int_equal(open_s(f, D1, f->owner_sk, 0, 1000, &o, &so), 0);
	assert_int_equal(o.history_kept, 0);
	assert_int_equal(op(f, SC_OP_CLOSE, D1, so, 0, NULL, 0), 0);
	sc_hvc_wipe(&o);

	/* ACL_DEL with the owner attached: what the owner has not read yet
	 * stays his, the rest is forgotten. */
	assert_int_equal(protect(f, D1, SC_REG_OPT_HISTORY, 0), 0);
	assert_int_equal(guest_write(f, D1, "old\n", 4), 4);
	assert_int_equal(open_s(f, D1, f->owner_sk, 0, 0, &o, &so), 0);
	assert_int_equal(open_s(f, D1, f->user_sk, SC_HS1_F_VIEWER, 0, &u, &su), 0);
	assert_int_equal(guest_write(f, D1, "unread\n", 7), 7);
	memset(cmd, 0, sizeof(cmd));
	cmd[0] = SC_OWNER_ACL_DEL;
	memcpy(cmd + 1, f->user_pk, 32);
	assert_int_equal(send_rec(f, D1, so, &o, SC_REC_OWNER_CMD, cmd,
	    sizeof(cmd)), 0);
	memset(&rx, 0, sizeof(rx));
	recv_all(f, D1, so, &o, &rx, 0);
	assert_non_null(memchr(rx.types, SC_REC_OWNER_RESULT, rx.ntypes));
	assert_int_equal(rx.ndata, 7);
	assert_memory_equal(rx.data, "unread\n", 7);
	sc_hvc_wipe(&u);
	assert_int_equal(op(f, SC_OP_CLOSE, D1, so, 0, NULL, 0), 0);
	sc_hvc_wipe(&o);
	/* Nothing from before the removal is replayed, and only "unread",
	 * which the owner still had to receive, was kept in memory. */
	assert_int_equal(open_s(f, D1, f->owner_sk, 0, 1000, &o, &so), 0);
	assert_int_equal(o.history_kept, 0);
	assert_int_equal(f->t.hv->dom[D1 % FX_DOMAINS].tail + 7,
	    f->t.hv->dom[D1 % FX_DOMAINS].head);

	/* Removed, then added back while a viewer lags: what the guest printed
	 * in between stays the viewer's, but the user never replays it. */
	owner_cmd(f, D1, so, &o, SC_OWNER_ACL_ADD, f->user_pk, 0, 0, 2);
	owner_cmd(f, D1, so, &o, SC_OWNER_ACL_ADD, f->other_pk, 0, 0, 3);
	assert_int_equal(open_s(f, D1, f->other_sk, SC_HS1_F_VIEWER, 0, &x, &sx), 0);
	owner_cmd(f, D1, so, &o, SC_OWNER_ACL_DEL, f->user_pk, 0, 0, 2);
	assert_int_equal(guest_write(f, D1, "GAP-SECRET\n", 11), 11);
	owner_cmd(f, D1, so, &o, SC_OWNER_ACL_ADD, f->user_pk, 0, 0, 3);
	assert_int_equal(open_s(f, D1, f->user_sk, SC_HS1_F_VIEWER, 100000, &u,
	    &su), 0);
	assert_int_equal(u.history_kept, 0);
	memset(&rx, 0, sizeof(rx));
	recv_all(f, D1, su, &u, &rx, 0);
	assert_int_equal(rx.nhist, 0);
	assert_false(contains(rx.data, rx.ndata, "GAP"));
	memset(&rx, 0, sizeof(rx));
	recv_all(f, D1, sx, &x, &rx, 0);		/* the viewer loses nothing */
	assert_true(contains(rx.data, rx.ndata, "GAP-SECRET"));
	sc_hvc_wipe(&u);
	sc_hvc_wipe(&x);
	sc_hvc_wipe(&o);
}

/*
 * The generation: owner commands advance it, the platform stores it first
 * (a failure refuses the change), and a restarted hv that restores it still
 * refuses every blob bound or superseded before the restart.
 */
static void
test_generation_store_restart(void **state)
{
	struct fx *f = *state;
	static struct sc_registration r1, r2, r3;
	static uint8_t b1[SC_PROTECT_PAYLOAD_MAX], b2[SC_PROTECT_PAYLOAD_MAX], b3[SC_PROTECT_PAYLOAD_MAX];
	struct sc_hvc_session o, x;
	size_t l1, l2, l3;
	uint32_t so, sx;
	uint64_t g;

	seal_for(f, D1, 100, true, 0, &r1, b1, &l1);
	assert_int_equal(protect_blob(f, D1, &r1, b1, l1), 0);
	assert_int_equal(f->stored[0], 100);
	assert_int_equal(open_s(f, D1, f->owner_sk, 0, 0, &o, &so), 0);
	owner_cmd(f, D1, so, &o, SC_OWNER_ACL_ADD, f->other_pk, 0, 0, 3);
	assert_int_equal(f->stored[0], 101);
	/* A blob the owner sealed before the change (101 is not above it). */
	seal_for(f, D1, 101, true, 0, &r2, b2, &l2);
	assert_int_equal(protect_blob(f, D1, &r2, b2, l2), SC_ERR_EXPIRED);
	assert_int_equal(open_s(f, D1, f->other_sk, SC_HS1_F_VIEWER, 0, &x, &sx), 0);
	sc_hvc_wipe(&x);
	/* Flag changes and failed commands: only changes advance it. */
	owner_cmd(f, D1, so, &o, SC_OWNER_ACL_ADD, f->other_pk, SC_ACL_F_OWNER, 0, 3);
	assert_int_equal(f->stored[0], 102);
	owner_cmd(f, D1, so, &o, SC_OWNER_ACL_DEL, f->disk[0], 0, SC_ERR_NOTFOUND, 0);
	owner_cmd(f, D1, so, &o, SC_OWNER_ACL_LIST, NULL, 0, 0, 3);
	assert_int_equal(f->stored[0], 102);

	/* The platform cannot store: nothing changes. */
	f->store_fail = SC_ERR_SYSTEM;
	owner_cmd(f, D1, so, &o, SC_OWNER_ACL_DEL, f->other_pk, 0, SC_ERR_SYSTEM, 0);
	owner_cmd(f, D1, so, &o, SC_OWNER_ACL_LIST, NULL, 0, 0, 3);
	seal_for(f, D1, 200, true, 0, &r3, b3, &l3);
	assert_int_equal(protect_blob(f, D1, &r3, b3, l3), SC_ERR_SYSTEM);
	roundtrip(f, D1, so, &o, "not re-bound\n");
	f->store_fail = 0;
	assert_int_equal(f->stored[0], 102);
	sc_hvc_wipe(&o);

	/* hv restart: the domain comes back with a fresh slot; the platform
	 * restores the stored generation (a lower value never lowers it). */
	g = f->stored[0];
	assert_int_equal(sc_hv_domain_remove(f->t.hv, D1), 0);
	assert_int_equal(sc_hv_domain_add(f->t.hv, D1, f->uuid[0], "vm1", &f->ring[0], 0), 0);
	assert_int_equal(sc_hv_domain_set_generation(f->t.hv, D1, g), 0);
	assert_int_equal(sc_hv_domain_set_generation(f->t.hv, D1, 1), 0);
	assert_int_equal(sc_hv_domain_set_generation(f->t.hv, 55, g), SC_ERR_NOTFOUND);
	assert_int_equal(protect_blob(f, D1, &r1, b1, l1), SC_ERR_EXPIRED);
	assert_int_equal(protect_blob(f, D1, &r2, b2, l2), SC_ERR_EXPIRED);
	/* The withheld blob 200 is above: it binds (it is the owner's newest). */
	f->stored[0] = 0;
	assert_int_equal(protect_blob(f, D1, &r3, b3, l3), 0);
	assert_int_equal(f->stored[0], 200);

	/* A domain never seen (no stored generation) takes any valid blob. */
	assert_int_equal(sc_hv_domain_remove(f->t.hv, D1), 0);
	assert_int_equal(sc_hv_domain_add(f->t.hv, D1, f->uuid[0], "vm1", &f->ring[0], 0), 0);
	f->stored[0] = 0;
	assert_int_equal(protect_blob(f, D1, &r1, b1, l1), 0);
	memset(&r1, 0, sizeof(r1));
	memset(&r2, 0, sizeof(r2));
	memset(&r3, 0, sizeof(r3));
}

/*
 * The client side: an OUTPUT payload whose item is torn (its length runs
 * past the payload) ends the session; a valid item after it is not opened.
 */
static void
test_client_torn_item(void **state)
{
	struct fx *f = *state;
	static const uint8_t torn[3] = { 0xff, 0x0f, 0x00 };
	struct sc_hvc_session cs;
	uint8_t plm[SC_RECORD_PAYLOAD_MAX + 1], type;
	struct sc_buf items, pl;
	uint32_t sid;

	assert_int_equal(protect(f, D1, 0, 0), 0);
	assert_int_equal(open_s(f, D1, f->owner_sk, 0, 0, &cs, &sid), 0);
	assert_int_equal(send_rec(f, D1, sid, &cs, SC_REC_PING, "p", 1), 0);
	assert_int_equal(op(f, SC_OP_OUTPUT, D1, sid, 0, NULL, 0), 0);
	assert_true(f->rh.len > 2);
	sc_buf_init_ro(&items, torn, sizeof(torn));
	sc_buf_init(&pl, plm, sizeof(plm));
	assert_int_equal(sc_hvc_open_item(&cs, &items, &type, &pl), SC_ERR_TRUNCATED);
	sc_buf_init_ro(&items, f->rp, f->rh.len);
	assert_int_equal(sc_hvc_open_item(&cs, &items, &type, &pl), SC_ERR_STATE);
	assert_int_equal(pl.len, 0);
	sc_hvc_wipe(&cs);
}

static void
test_corrupt_ring(void **state)
{
	struct fx *f = *state;
	struct sc_hvc_session cs, cs2;
	static struct rx rx;
	uint32_t sid, sid2, flags;

	assert_int_equal(protect(f, D1, 0, 0), 0);
	assert_int_equal(protect(f, D2, 0, 0), 0);
	assert_int_equal(open_s(f, D1, f->owner_sk, 0, 0, &cs, &sid), 0);
	assert_int_equal(open_s(f, D2, f->owner_sk, 0, 0, &cs2, &sid2), 0);
	/* The guest of D1 scribbles over its indices. */
	f->ring[0].out_prod = f->ring[0].out_cons + 5000;
	assert_int_equal(sc_hv_guest_event(f->t.hv, D1), SC_ERR_CORRUPT);
	assert_int_equal(op(f, SC_OP_STATUS, D1, 0, 0, NULL, 0), 0);
	memcpy(&flags, f->rp, 4);
	assert_true(flags & SC_DOM_F_BROKEN);
	assert_int_equal(send_rec(f, D1, sid, &cs, SC_REC_DATA, "x", 1), SC_ERR_CLOSED);
	memset(&rx, 0, sizeof(rx));
	recv_all(f, D1, sid, &cs, &rx, 0);
	assert_true(rx.got_close);
	assert_int_equal(rx.close_reason, SC_CLOSE_SHUTDOWN);
	/* D3 (unprotected) with a corrupt in ring: RAW_INPUT refused, no crash. */
	f->ring[2].in_prod = f->ring[2].in_cons - 1;
	assert_int_equal(op(f, SC_OP_RAW_INPUT, D3, 0, 0, "x", 1), SC_ERR_CORRUPT);
	assert_int_equal(op(f, SC_OP_RAW_OUTPUT, D3, 0, 0, NULL, 0), SC_ERR_CORRUPT);
	/* Others unaffected; a ring reset (guest reboot) restores D1. */
	roundtrip(f, D2, sid2, &cs2, "d2 alive\n");
	sc_ring_reset(&f->ring[0]);
	assert_int_equal(sc_hv_domain_ring_reset(f->t.hv, D1), 0);
	sc_hvc_wipe(&cs);
	assert_int_equal(open_s(f, D1, f->owner_sk, 0, 0, &cs, &sid), 0);
	roundtrip(f, D1, sid, &cs, "d1 back\n");
	sc_hvc_wipe(&cs);
	sc_hvc_wipe(&cs2);
}

static void
test_domains_and_arena(void **state)
{
	struct fx *f = *state;
	static struct xencons_interface r[4];
	uint8_t u[16];

	memset(u, 9, sizeof(u));
	assert_int_equal(sc_hv_domain_add(f->t.hv, D1, u, "again", &r[0], 0), SC_ERR_BUSY);
	assert_int_equal(sc_hv_domain_add(f->t.hv, 20, f->uuid[0], "again", &r[0], 0), SC_ERR_BUSY);
	assert_int_equal(sc_hv_domain_add(f->t.hv, 20, u, "vm1", &r[0], 0), SC_ERR_BUSY);
	assert_int_equal(sc_hv_domain_add(f->t.hv, 20, u, "-bad", &r[0], 0), SC_ERR_INVAL);
	assert_int_equal(sc_hv_domain_add(f->t.hv, 20, u, "small", &r[0], 100), SC_ERR_INVAL);
	/* Arena: 256 KiB - (64 + 8 + 64) KiB used = 120 KiB free. */
	assert_int_equal(sc_hv_domain_add(f->t.hv, 20, u, "huge", &r[0], 200 * 1024), SC_ERR_ALLOC);
	assert_int_equal(sc_hv_domain_add(f->t.hv, 20, u, "fits", &r[0], 120 * 1024), 0);
	u[0] = 1;
	assert_int_equal(sc_hv_domain_add(f->t.hv, 21, u, "full", &r[1], 4096), SC_ERR_ALLOC);
	/* Removing frees the space for reuse. */
	assert_int_equal(sc_hv_domain_remove(f->t.hv, D2), 0);
	assert_true(f->events[D2] & SC_EV_DOMAIN_GONE);
	assert_int_equal(sc_hv_domain_add(f->t.hv, 21, u, "reuse", &r[1], 8192), 0);
	assert_int_equal(sc_hv_domain_remove(f->t.hv, 99), SC_ERR_NOTFOUND);
	assert_int_equal(op(f, SC_OP_LIST_DOMAINS, 0, 0, 0, NULL, 0), 0);
	assert_int_equal(f->rh.arg, 4);
}

/*
 * The context holds as many domains as it was sized for, finds each of
 * them whatever its home slot, and LIST_DOMAINS pages through more than
 * one op can carry: every domain exactly once.
 */
static void
test_domain_table_and_paging(void **state)
{
	enum { N = SC_OP_LIST_PAGE + 30 };
	struct fx *f = *state;
	struct xencons_interface *rings;
	struct sc_hv_platform pf;
	struct sc_hv *big, *saved = f->t.hv;
	static bool seen[N * 7 + 4];
	uint8_t sk[32], u[16], *arena;
	uint32_t first, domid, total = 0;
	struct sc_buf b;
	char name[16];
	unsigned i;

	assert_int_equal(sc_hv_size(0, 0), 0);
	assert_int_equal(sc_hv_size(SC_HV_DOMAINS_LIMIT + 1, 0), 0);
	assert_true(sc_hv_size(2, 0) > sc_hv_size(1, 0));
	assert_true(sc_hv_size(1, 0) > sizeof(struct sc_hv));
	/* The pool: one session per domain at least, SC_HV_MAX_SESSIONS at most. */
	assert_int_equal(sc_hv_size(4, 3), 0);
	assert_int_equal(sc_hv_size(4, 4 * SC_HV_MAX_SESSIONS + 1), 0);
	assert_true(sc_hv_size(4, 5) > sc_hv_size(4, 4));
	assert_int_equal(sc_hv_size(4, 0), sc_hv_size(4, 4 * SC_HV_MAX_SESSIONS));
	assert_int_equal(sc_hv_size(1000, 0), sc_hv_size(1000,
	    1000 + SC_HV_SESSIONS_SPARE));
	assert_non_null(big = calloc(1, sc_hv_size(N, 0)));
	assert_non_null(rings = calloc(N + 1, sizeof(*rings)));
	assert_non_null(arena = calloc(N + 1, SC_HV_HISTORY_MIN));
	hvt_platform(&f->t, &pf, f);
	pf.notify_dom0 = hook_dom0;
	f->cp->random(sk, sizeof(sk));
	assert_int_equal(sc_hv_init(big, f->cp, &pf, sk, 15, arena,
	    (N + 1) * SC_HV_HISTORY_MIN, 0, 0), SC_ERR_INVAL);
	assert_int_equal(sc_hv_init(big, f->cp, &pf, sk, 15, arena,
	    (N + 1) * SC_HV_HISTORY_MIN, N, 0), 0);
	/* Domids i * 7 + 3: many share a home slot (domid % N). */
	for (i = 0; i <= N; i++) {
		sc_ring_reset(&rings[i]);
		memset(u, 0, sizeof(u));
		memcpy(u, &i, sizeof(i));
		snprintf(name, sizeof(name), "d%u", i);
		assert_int_equal(sc_hv_domain_add(big, i * 7 + 3, u, name, &rings[i],
		    SC_HV_HISTORY_MIN), i < N ? 0 : SC_ERR_ALLOC);
	}
	f->t.hv = big;
	for (i = 0; i < N; i++)
		assert_int_equal(op(f, SC_OP_STATUS, i * 7 + 3, 0, 0, NULL, 0), 0);
	assert_int_equal(op(f, SC_OP_STATUS, N * 7 + 3, 0, 0, NULL, 0), SC_ERR_NOTFOUND);
	assert_int_equal(op(f, SC_OP_GET_INFO, 0, 0, 0, NULL, 0), 0);
	sc_buf_init_ro(&b, f->rp, f->rh.len);
	assert_int_equal(sc_buf_skip(&b, 32 + 4 + 4), 0);
	assert_int_equal(sc_buf_get_u32_le(&b, &domid), 0);
	assert_int_equal(domid, N);

	/* Pages: full, then the rest, then nothing. */
	for (first = 0; ; first += f->rh.arg) {
		assert_int_equal(op(f, SC_OP_LIST_DOMAINS, 0, 0, first, NULL, 0), 0);
		assert_int_equal(f->rh.len, f->rh.arg * SC_OP_DOMAIN_ENTRY_LEN);
		assert_true(f->rh.arg <= SC_OP_LIST_PAGE);
		sc_buf_init_ro(&b, f->rp, f->rh.len);
		for (i = 0; i < f->rh.arg; i++) {
			assert_int_equal(sc_buf_get_u32_le(&b, &domid), 0);
			assert_int_equal(sc_buf_skip(&b, 16 + 64 + 4), 0);
			assert_true(domid < N * 7 + 4 && domid % 7 == 3);
			assert_false(seen[domid]);
			seen[domid] = true;
			total++;
		}
		if (first == 0)
			assert_int_equal(f->rh.arg, SC_OP_LIST_PAGE);
		if (f->rh.arg < SC_OP_LIST_PAGE)
			break;
	}
	assert_int_equal(total, N);
	assert_int_equal(op(f, SC_OP_LIST_DOMAINS, 0, 0, N + 100, NULL, 0), 0);
	assert_int_equal(f->rh.arg, 0);

	/* A freed slot is reused; the new domain is found. */
	assert_int_equal(sc_hv_domain_remove(big, 3), 0);
	memset(u, 0xee, sizeof(u));
	assert_int_equal(sc_hv_domain_add(big, 100000, u, "late", &rings[N],
	    SC_HV_HISTORY_MIN), 0);
	assert_int_equal(op(f, SC_OP_STATUS, 100000, 0, 0, NULL, 0), 0);
	assert_int_equal(op(f, SC_OP_STATUS, 3, 0, 0, NULL, 0), SC_ERR_NOTFOUND);

	f->t.hv = saved;
	sc_hv_wipe(big);
	free(big);
	free(rings);
	free(arena);
}

/*
 * The session pool (#17): shared by all domains, one entry kept for every
 * domain without a session, a clear SC_ERR_ALLOC when it runs out (other
 * sessions unaffected), entries reused after CLOSE and reclaimed from a
 * domain's own CLOSING sessions.
 */
static void
test_session_pool(void **state)
{
	struct fx *f = *state;
	struct sc_hv_platform pf;
	struct sc_hv *small, *saved = f->t.hv;
	struct sc_hvc_session a, v, w, x, y, z;
	static struct rx rx;
	uint32_t sa, sv, sw, sx, sy, sz;
	uint8_t sk[32];
	int i;

	/* Three domain slots, four sessions: one to spare. */
	assert_non_null(small = calloc(1, sc_hv_size(3, 4)));
	hvt_platform(&f->t, &pf, f);
	pf.notify_guest = hook_guest;
	pf.notify_dom0 = hook_dom0;
	f->cp->random(sk, sizeof(sk));
	assert_int_equal(sc_hv_init(small, f->cp, &pf, sk, 15, f->t.arena, ARENA,
	    3, 2), SC_ERR_INVAL);
	assert_int_equal(sc_hv_init(small, f->cp, &pf, sk, 15, f->t.arena, ARENA,
	    3, 4), 0);
	for (i = 0; i < 3; i++)
		sc_ring_reset(&f->ring[i]);
	assert_int_equal(sc_hv_domain_add(small, D1, f->uuid[0], "vm1", &f->ring[0], 0), 0);
	assert_int_equal(sc_hv_domain_add(small, D2, f->uuid[1], "vm2", &f->ring[1], 0), 0);
	assert_int_equal(sc_hv_domain_add(small, D3, f->uuid[2], "vm3", &f->ring[2], 0), 0);
	f->t.hv = small;
	assert_int_equal(protect(f, D1, 0, 0), 0);
	assert_int_equal(protect(f, D2, 0, 0), 0);
	assert_int_equal(protect(f, D3, 0, 0), 0);

	/* D1 takes its own entry and the spare one; a third would take D2's. */
	assert_int_equal(open_s(f, D1, f->owner_sk, 0, 0, &a, &sa), 0);
	assert_int_equal(open_s(f, D1, f->user_sk, SC_HS1_F_VIEWER, 0, &v, &sv), 0);
	assert_int_equal(open_s(f, D1, f->user_sk, SC_HS1_F_VIEWER, 0, &w, &sw),
	    SC_ERR_ALLOC);
	/* The other domains' first sessions are never refused. */
	assert_int_equal(open_s(f, D2, f->owner_sk, 0, 0, &x, &sx), 0);
	assert_int_equal(open_s(f, D3, f->owner_sk, 0, 0, &y, &sy), 0);
	assert_int_equal(open_s(f, D2, f->user_sk, SC_HS1_F_VIEWER, 0, &z, &sz),
	    SC_ERR_ALLOC);
	/* The refusals changed nothing for the open sessions. */
	roundtrip(f, D1, sa, &a, "d1 writer\n");
	roundtrip(f, D2, sx, &x, "d2 writer\n");
	roundtrip(f, D3, sy, &y, "d3 writer\n");

	/* CLOSE returns the viewer's entry to the pool: D2 gets it. */
	assert_int_equal(op(f, SC_OP_CLOSE, D1, sv, 0, NULL, 0), 0);
	assert_int_equal(open_s(f, D2, f->user_sk, SC_HS1_F_VIEWER, 0, &z, &sz), 0);
	assert_int_equal(guest_write(f, D2, "both", 4), 4);
	memset(&rx, 0, sizeof(rx));
	recv_all(f, D2, sz, &z, &rx, 0);
	assert_int_equal(rx.ndata, 4);
	memset(&rx, 0, sizeof(rx));
	recv_all(f, D2, sx, &x, &rx, 0);
	assert_int_equal(rx.ndata, 4);
	assert_int_equal(open_s(f, D1, f->user_sk, SC_HS1_F_VIEWER, 0, &w, &sw),
	    SC_ERR_ALLOC);

	/*
	 * A session of D2 that is closing (its CLOSE still queued) is
	 * reclaimed for D2's next session even with the pool empty.
	 */
	assert_int_equal(send_rec(f, D2, sz, &z, SC_REC_DATA, "x", 1), SC_ERR_PERM);
	assert_int_equal(open_s(f, D2, f->user_sk, SC_HS1_F_VIEWER, 0, &w, &sw), 0);
	assert_int_equal(op(f, SC_OP_OUTPUT, D2, sz, 0, NULL, 0), SC_ERR_NOTFOUND);
	roundtrip(f, D2, sx, &x, "d2 still typing\n");

	/*
	 * A removed domain's session goes back to the pool, kept for the
	 * empty slot: not for D1's viewer, but for the next domain there.
	 */
	assert_int_equal(sc_hv_domain_remove(small, D3), 0);
	assert_int_equal(open_s(f, D1, f->user_sk, SC_HS1_F_VIEWER, 0, &v, &sv),
	    SC_ERR_ALLOC);
	sc_ring_reset(&f->ring[2]);
	assert_int_equal(sc_hv_domain_add(small, D3, f->uuid[2], "vm3", &f->ring[2], 0), 0);
	assert_int_equal(protect(f, D3, 0, 0), 0);
	assert_int_equal(open_s(f, D3, f->owner_sk, 0, 0, &y, &sy), 0);
	roundtrip(f, D3, sy, &y, "d3 again\n");
	roundtrip(f, D1, sa, &a, "d1 after all that\n");

	f->t.hv = saved;
	sc_hv_wipe(small);
	free(small);
	sc_hvc_wipe(&a);
	sc_hvc_wipe(&v);
	sc_hvc_wipe(&w);
	sc_hvc_wipe(&x);
	sc_hvc_wipe(&y);
	sc_hvc_wipe(&z);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_info_list_status, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_headers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_protect_rejections, setup, teardown),
		cmocka_unit_test_setup_teardown(test_owner_token, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_roundtrip_and_raw, setup, teardown),
		cmocka_unit_test_setup_teardown(test_handshake_rejections, setup, teardown),
		cmocka_unit_test_setup_teardown(test_record_rejections, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backpressure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_blocked_then_event, setup, teardown),
		cmocka_unit_test_setup_teardown(test_output_event_once_per_pull, setup, teardown),
		cmocka_unit_test_setup_teardown(test_output_moved_by_a_pull_is_announced, setup, teardown),
		cmocka_unit_test_setup_teardown(test_history, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_history_option, setup, teardown),
		cmocka_unit_test_setup_teardown(test_takeover_and_viewer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_break_ping_close, setup, teardown),
		cmocka_unit_test_setup_teardown(test_status_reveals_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_owner_commands, setup, teardown),
		cmocka_unit_test_setup_teardown(test_protect_replay, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rebind_wipes_history, setup, teardown),
		cmocka_unit_test_setup_teardown(test_generation_store_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_client_torn_item, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_ring, setup, teardown),
		cmocka_unit_test_setup_teardown(test_domains_and_arena, setup, teardown),
		cmocka_unit_test_setup_teardown(test_domain_table_and_paging, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_pool, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
