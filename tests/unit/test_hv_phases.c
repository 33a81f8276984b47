/*
 * test_hv_phases.c — OPEN and PROTECT in phases (hv.h, "Ops in phases";
 * issue 14 item 6): begin and commit under the context's lock, the
 * public-key crypto in between without it, as the Xen glue runs them.
 *
 *   - the phases back to back answer byte for byte what sc_hv_dispatch
 *     answers, for a script of ops that succeed and fail (twin contexts on
 *     a deterministic generator);
 *   - the crypto phase writes nothing of the context;
 *   - whatever another CPU commits between an OPEN's crypto and its commit
 *     (the domain destroyed, destroyed and added again, re-protected, its
 *     ring broken, the key removed from the ACL by its owner, the same
 *     message 1 committed by a concurrent OPEN, the slots filled) makes the
 *     commit refuse with the error the protocol names, and nothing leaks:
 *     no session, no pool entry, no remembered message 1;
 *   - PROTECT: a concurrent PROTECT with a higher generation that commits
 *     first wins (the later commit gets SC_ERR_EXPIRED, confirmed); a
 *     domain gone (SC_ERR_NOTFOUND) or replaced at its domid
 *     (SC_ERR_MISMATCH) binds nothing;
 *   - the call's memory is wiped at commit on every path, by
 *     sc_hv_call_wipe, and of the handshake's secrets already after crypto.
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

#define D1	1
#define D2	2
#define NDOM	2
#define SLOTS	8
#define ARENA	(64 * 1024)

/*
 * Two providers that are libsodium's but for random(): each draws from its
 * own deterministic stream, the same for both, so twin contexts fed the same
 * requests make the same ephemeral keys.
 */
static struct sc_crypto det_cp[2];
static uint64_t det_ctr[2];

static void
det_fill(int k, void *buf, size_t len)
{
	uint8_t seed[randombytes_SEEDBYTES];

	memset(seed, 0x5c, sizeof(seed));
	memcpy(seed, &det_ctr[k], sizeof(det_ctr[k]));
	det_ctr[k]++;
	randombytes_buf_deterministic(buf, len, seed);
}

static void det_random0(void *buf, size_t len) { det_fill(0, buf, len); }
static void det_random1(void *buf, size_t len) { det_fill(1, buf, len); }

struct cx {
	struct hvt		 t;
	const struct sc_crypto	*cp;
	struct xencons_interface ring[NDOM];
	uint64_t		 gen_stored;
};

/* What every test shares: the keys of the tenant and its domains. */
struct fx {
	struct cx	 a, b;		/* b only in the twin test */
	const struct sc_crypto *cp;	/* the test's own (sodium) */
	uint8_t		 sk[32];
	uint8_t		 uuid[NDOM][SC_UUID_LEN];
	uint8_t		 disk[NDOM][32];
	uint8_t		 secret[NDOM][SC_PSK_LEN];
	uint8_t		 owner_sk[32], owner_pk[32];
	uint8_t		 user_sk[32], user_pk[32];
	uint64_t	 gen;
	uint32_t	 seq;
	uint8_t		 resp[SC_OP_MAX];
	size_t		 rlen;
	struct sc_op_hdr rh;
	const uint8_t	*rp;
};

static int
hook_store_gen(void *arg, uint32_t domid, const uint8_t uuid[16], uint64_t gen)
{
	struct cx *c = hvt_arg(arg);

	(void)domid;
	(void)uuid;
	c->gen_stored = gen;
	return 0;
}

static void
cx_init(struct fx *f, struct cx *c, const struct sc_crypto *cp)
{
	struct sc_hv_platform pf;
	int i;

	c->cp = cp;
	hvt_platform(&c->t, &pf, c);
	pf.store_generation = hook_store_gen;
	hvt_init(&c->t, cp, &pf, f->sk, SC_HV_NO_PCR, ARENA, SLOTS, 0);
	for (i = 0; i < NDOM; i++)
		hvt_domain_add(&c->t, (uint32_t)(i + 1), f->uuid[i],
		    i == 0 ? "vm1" : "vm2", &c->ring[i], 8192, NULL);
}

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	int i;

	assert_non_null(f);
	f->cp = sc_crypto_sodium();
	f->cp->random(f->sk, 32);
	for (i = 0; i < NDOM; i++) {
		f->cp->random(f->uuid[i], SC_UUID_LEN);
		f->cp->random(f->disk[i], 32);
		f->cp->random(f->secret[i], SC_PSK_LEN);
	}
	assert_int_equal(sc_x25519_keypair(f->cp, f->owner_pk, f->owner_sk), 0);
	assert_int_equal(sc_x25519_keypair(f->cp, f->user_pk, f->user_sk), 0);
	cx_init(f, &f->a, f->cp);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	hvt_free(&f->a.t);
	hvt_free(&f->b.t);
	free(f);
	return 0;
}

/* The core's own lookup; single-threaded, so the pointer stays valid. */
static struct sc_hv_domain *
dom(struct cx *c, uint32_t domid)
{
	struct sc_hv_domain *d = sc_hv_domain_get(c->t.hv, domid);

	if (d != NULL)
		sc_hv_domain_put(c->t.hv, d);
	return d;
}

static void
req_build(struct fx *f, uint8_t *req, size_t cap, size_t *len, uint16_t op,
    uint32_t domid, uint32_t session, const void *p, size_t n)
{
	struct sc_buf b;

	sc_buf_init(&b, req, cap);
	assert_int_equal(sc_hvc_op_build(&b, op, domid, session, 0, ++f->seq, p, n), 0);
	*len = b.len;
}

static int
parse(struct fx *f)
{
	assert_int_equal(sc_hvc_op_parse(f->resp, f->rlen, &f->rh, &f->rp), 0);
	return f->rh.status;
}

/* One op through sc_hv_dispatch on c; the response status. */
static int
op(struct fx *f, struct cx *c, uint16_t o, uint32_t domid, uint32_t session,
    const void *p, size_t n)
{
	uint8_t req[SC_OP_MAX];
	size_t len;

	req_build(f, req, sizeof(req), &len, o, domid, session, p, n);
	assert_int_equal(sc_hv_dispatch(c->t.hv, req, len, f->resp, sizeof(f->resp),
	    &f->rlen), 0);
	return parse(f);
}

/* A sealed PROTECT payload for domain i: the owner, and the user if with_user. */
static size_t
seal(struct fx *f, int i, uint64_t gen, bool with_user, uint8_t *blob,
    struct sc_registration *reg)
{
	struct sc_buf b;

	memset(reg, 0, sizeof(*reg));
	memcpy(reg->uuid, f->uuid[i], SC_UUID_LEN);
	reg->generation = gen;
	memcpy(reg->vm_secret, f->secret[i], SC_PSK_LEN);
	memcpy(reg->disk_key, f->disk[i], 32);
	reg->disk_key_len = 32;
	reg->acl_count = with_user ? 2 : 1;
	memcpy(reg->acl[0].pubkey, f->owner_pk, 32);
	reg->acl[0].flags = SC_ACL_F_OWNER;
	memcpy(reg->acl[1].pubkey, f->user_pk, 32);
	sc_buf_init(&b, blob, SC_PROTECT_PAYLOAD_MAX);
	assert_int_equal(sc_protect_seal(f->cp, reg, sc_hv_pubkey(f->a.t.hv), NULL, &b), 0);
	return b.len;
}

static int
protect(struct fx *f, struct cx *c, uint32_t domid, bool with_user)
{
	static uint8_t blob[SC_PROTECT_PAYLOAD_MAX];
	struct sc_registration reg;
	size_t n = seal(f, (int)domid - 1, ++f->gen, with_user, blob, &reg);

	sodium_memzero(&reg, sizeof(reg));
	return op(f, c, SC_OP_PROTECT, domid, 0, blob, n);
}

/* Message 1 of key user_sk for domain domid of context c. */
static void
msg1(struct fx *f, struct cx *c, uint32_t domid, const uint8_t *user_sk,
    uint8_t flags, struct sc_hvc_session *cs, uint8_t m[SC_HS1_MSG_LEN])
{
	struct sc_buf b;

	sc_buf_init(&b, m, SC_HS1_MSG_LEN);
	assert_int_equal(sc_hvc_hs1(cs, f->cp, f->uuid[domid - 1], sc_hv_pubkey(c->t.hv),
	    user_sk, f->secret[domid - 1], flags, 0, &b), 0);
	assert_int_equal(b.len, SC_HS1_MSG_LEN);
}

/* A full OPEN through dispatch; the session id, the client finished. */
static uint32_t
open_ok(struct fx *f, struct cx *c, uint32_t domid, const uint8_t *user_sk,
    uint8_t flags, struct sc_hvc_session *cs)
{
	uint8_t m[SC_HS1_MSG_LEN];

	msg1(f, c, domid, user_sk, flags, cs, m);
	assert_int_equal(op(f, c, SC_OP_OPEN, domid, 0, m, sizeof(m)), 0);
	assert_int_equal(sc_hvc_hs2(cs, f->rp, f->rh.len), 0);
	return f->rh.session;
}

/* A call in phases, stopped between crypto and commit. */
struct pending {
	struct sc_hv_call call;
	uint8_t		 req[SC_OP_MAX];
	uint8_t		 resp[SC_OP_MAX];
	size_t		 rlen;
};

static void
begin_crypto(struct fx *f, struct cx *c, struct pending *pc, uint16_t o,
    uint32_t domid, const void *p, size_t n)
{
	size_t len;

	req_build(f, pc->req, sizeof(pc->req), &len, o, domid, 0, p, n);
	assert_int_equal(sc_hv_call_begin(c->t.hv, &pc->call, pc->req, len, pc->resp,
	    sizeof(pc->resp), &pc->rlen), SC_HV_CALL_CRYPTO);
	sc_hv_call_crypto(c->t.hv, &pc->call);
}

static bool
all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i] != 0)
			return false;
	return true;
}

/* Commit pc; the call is wiped; f->rh and f->rp hold the answer. */
static int
commit(struct fx *f, struct cx *c, struct pending *pc)
{
	assert_int_equal(sc_hv_call_commit(c->t.hv, &pc->call, &pc->rlen), 0);
	assert_true(all_zero(&pc->call, sizeof(pc->call)));
	memcpy(f->resp, pc->resp, pc->rlen);
	f->rlen = pc->rlen;
	return parse(f);
}

/* Everything an OPEN that commits nothing must leave as it found it. */
struct snap {
	unsigned	pool_free;
	unsigned	nsess;
	unsigned	seen;
	uint32_t	next_session;
};

static struct snap
snap(struct cx *c, uint32_t domid)
{
	struct sc_hv_domain *d = dom(c, domid);
	struct snap s;

	memset(&s, 0, sizeof(s));
	s.pool_free = c->t.hv->pool_free_count;
	s.nsess = d ? d->nsess : 0;
	s.seen = d ? d->seen_count : 0;
	s.next_session = c->t.hv->next_session;
	return s;
}

static void
assert_nothing_leaked(struct fx *f, struct cx *c, uint32_t domid,
    const struct snap *before)
{
	struct snap now = snap(c, domid);

	assert_int_equal(f->rh.len, 0);		/* no message 2 */
	assert_int_equal(f->rh.session, 0);
	assert_int_equal(now.pool_free, before->pool_free);
	assert_int_equal(now.nsess, before->nsess);
	assert_int_equal(now.seen, before->seen);
	assert_int_equal(now.next_session, before->next_session);
}

/*
 * The glue's way (begin, crypto, commit) answers byte for byte what
 * sc_hv_dispatch answers, on twin contexts, for a script of ops that
 * succeed and that fail at each phase.
 */
static void
test_phases_equal_dispatch(void **state)
{
	struct fx *f = *state;
	static uint8_t blob[SC_PROTECT_PAYLOAD_MAX], reqs[16][SC_OP_MAX];
	static uint8_t ra[SC_OP_MAX], rb[SC_OP_MAX];
	static struct sc_hv_call call;
	struct sc_registration reg;
	struct sc_hvc_session cs, cu;
	uint8_t m1[SC_HS1_MSG_LEN], m2[SC_HS1_MSG_LEN], bad[SC_HS1_MSG_LEN];
	size_t lens[16], la, lb, nblob, w;
	uint32_t sid;
	unsigned i, k = 0, phased = 0;
	int r;

	hvt_free(&f->a.t);
	det_ctr[0] = det_ctr[1] = 0;
	det_cp[0] = *sc_crypto_sodium();
	det_cp[0].random = det_random0;
	det_cp[1] = *sc_crypto_sodium();
	det_cp[1].random = det_random1;
	cx_init(f, &f->a, &det_cp[0]);
	cx_init(f, &f->b, &det_cp[1]);
	/* The guest printed before anyone attached. */
	assert_int_equal(sc_ring_guest_out_write(&f->a.ring[0], (const uint8_t *)"boot\n",
	    5, &w), 0);
	assert_int_equal(sc_ring_guest_out_write(&f->b.ring[0], (const uint8_t *)"boot\n",
	    5, &w), 0);

	nblob = seal(f, 0, 5, false, blob, &reg);
	req_build(f, reqs[k], SC_OP_MAX, &lens[k], SC_OP_OPEN, D1, 0, blob, 10); k++;	/* not protected */
	req_build(f, reqs[k], SC_OP_MAX, &lens[k], SC_OP_PROTECT, 9, 0, blob, nblob); k++;
	req_build(f, reqs[k], SC_OP_MAX, &lens[k], SC_OP_PROTECT, D2, 0, blob, nblob); k++;	/* MISMATCH */
	blob[nblob / 2] ^= 1;
	req_build(f, reqs[k], SC_OP_MAX, &lens[k], SC_OP_PROTECT, D1, 0, blob, nblob); k++;	/* DECRYPT */
	blob[nblob / 2] ^= 1;
	req_build(f, reqs[k], SC_OP_MAX, &lens[k], SC_OP_PROTECT, D1, 0, blob, nblob); k++;	/* ok */
	req_build(f, reqs[k], SC_OP_MAX, &lens[k], SC_OP_PROTECT, D1, 0, blob, nblob); k++;	/* EXPIRED */
	msg1(f, &f->a, D1, f->owner_sk, 0, &cs, m1);
	msg1(f, &f->a, D1, f->user_sk, 0, &cu, m2);	/* not in this ACL */
	memcpy(bad, m1, sizeof(bad));
	bad[40] ^= 1;
	req_build(f, reqs[k], SC_OP_MAX, &lens[k], SC_OP_OPEN, D1, 0, m1, 50); k++;	/* TRUNCATED */
	req_build(f, reqs[k], SC_OP_MAX, &lens[k], SC_OP_OPEN, D1, 0, bad, sizeof(bad)); k++;
	req_build(f, reqs[k], SC_OP_MAX, &lens[k], SC_OP_OPEN, D1, 0, m2, sizeof(m2)); k++;	/* PERM */
	req_build(f, reqs[k], SC_OP_MAX, &lens[k], SC_OP_OPEN, D1, 0, m1, sizeof(m1)); k++;	/* ok */
	req_build(f, reqs[k], SC_OP_MAX, &lens[k], SC_OP_OPEN, D1, 0, m1, sizeof(m1)); k++;	/* replay */
	req_build(f, reqs[k], SC_OP_MAX, &lens[k], SC_OP_STATUS, D1, 0, NULL, 0); k++;
	req_build(f, reqs[k], SC_OP_MAX, &lens[k], SC_OP_GET_INFO, 0, 0, NULL, 0); k++;
	req_build(f, reqs[k], SC_OP_MAX, &lens[k] , SC_OP_PROTECT, D1, 0, NULL, 0); k++;
	sodium_memzero(&reg, sizeof(reg));

	for (i = 0; i < k; i++) {
		assert_int_equal(sc_hv_dispatch(f->a.t.hv, reqs[i], lens[i], ra, sizeof(ra),
		    &la), 0);
		r = sc_hv_call_begin(f->b.t.hv, &call, reqs[i], lens[i], rb, sizeof(rb), &lb);
		if (r == SC_HV_CALL_CRYPTO) {
			phased++;
			sc_hv_call_crypto(f->b.t.hv, &call);
			r = sc_hv_call_commit(f->b.t.hv, &call, &lb);
		}
		assert_int_equal(r, 0);
		assert_true(all_zero(&call, sizeof(call)));
		assert_int_equal(la, lb);
		assert_memory_equal(ra, rb, la);
		if (i == 9) {	/* the OPEN that works: the client finishes */
			assert_int_equal(sc_hvc_op_parse(ra, la, &f->rh, &f->rp), 0);
			assert_int_equal(f->rh.status, 0);
			sid = f->rh.session;
			assert_int_equal(sc_hvc_hs2(&cs, f->rp, f->rh.len), 0);
			/* It gets the boot output (and a LOST notice), the same from both. */
			req_build(f, reqs[15], SC_OP_MAX, &lens[15], SC_OP_OUTPUT, D1, sid,
			    NULL, 0);
			assert_int_equal(sc_hv_dispatch(f->a.t.hv, reqs[15], lens[15], ra,
			    sizeof(ra), &la), 0);
			assert_int_equal(sc_hv_call_begin(f->b.t.hv, &call, reqs[15], lens[15],
			    rb, sizeof(rb), &lb), 0);
			assert_int_equal(la, lb);
			assert_true(la > SC_OP_HDR_LEN);
			assert_memory_equal(ra, rb, la);
		}
	}
	/* OPENs and PROTECTs that got past their cheap checks went in phases. */
	assert_int_equal(phased, 7);
	assert_int_equal(det_ctr[0], det_ctr[1]);
	sc_hvc_wipe(&cs);
	sc_hvc_wipe(&cu);
}

/* The crypto phase reads the context and writes only the call. */
static void
test_crypto_writes_no_context(void **state)
{
	struct fx *f = *state;
	size_t size = sc_hv_size(SLOTS, 0);
	static struct pending pc;
	struct sc_hvc_session cs;
	uint8_t m[SC_HS1_MSG_LEN], *copy = malloc(size);
	static uint8_t blob[SC_PROTECT_PAYLOAD_MAX];
	struct sc_registration reg;
	size_t len, n;

	assert_non_null(copy);
	assert_int_equal(protect(f, &f->a, D1, true), 0);
	msg1(f, &f->a, D1, f->user_sk, 0, &cs, m);
	req_build(f, pc.req, sizeof(pc.req), &len, SC_OP_OPEN, D1, 0, m, sizeof(m));
	assert_int_equal(sc_hv_call_begin(f->a.t.hv, &pc.call, pc.req, len, pc.resp,
	    sizeof(pc.resp), &pc.rlen), SC_HV_CALL_CRYPTO);
	memcpy(copy, f->a.t.hv, size);
	sc_hv_call_crypto(f->a.t.hv, &pc.call);
	assert_memory_equal(copy, f->a.t.hv, size);
	/* The handshake's secrets are gone already; the transport keys wait for commit. */
	assert_true(all_zero(&pc.call.u.open.hs, sizeof(pc.call.u.open.hs)));
	assert_true(all_zero(pc.call.u.open.e_sk, sizeof(pc.call.u.open.e_sk)));
	assert_true(all_zero(pc.call.u.open.vm_secret, sizeof(pc.call.u.open.vm_secret)));
	assert_int_equal(commit(f, &f->a, &pc), 0);
	assert_int_equal(sc_hvc_hs2(&cs, f->rp, f->rh.len), 0);

	/* PROTECT: the blob opens in the crypto phase, nothing binds before commit. */
	n = seal(f, 0, ++f->gen, false, blob, &reg);
	req_build(f, pc.req, sizeof(pc.req), &len, SC_OP_PROTECT, D1, 0, blob, n);
	assert_int_equal(sc_hv_call_begin(f->a.t.hv, &pc.call, pc.req, len, pc.resp,
	    sizeof(pc.resp), &pc.rlen), SC_HV_CALL_CRYPTO);
	memcpy(copy, f->a.t.hv, size);
	sc_hv_call_crypto(f->a.t.hv, &pc.call);
	assert_memory_equal(copy, f->a.t.hv, size);
	assert_true(pc.call.u.protect.opened);
	/* Abandoned: wiped, nothing bound (the user is still in the ACL). */
	sc_hv_call_wipe(f->a.t.hv, &pc.call);
	assert_true(all_zero(&pc.call, sizeof(pc.call)));
	assert_int_equal(dom(&f->a, D1)->acl_count, 2);
	sodium_memzero(&reg, sizeof(reg));
	sc_hvc_wipe(&cs);
	free(copy);
}

/* The domain is destroyed (and added again) between crypto and commit. */
static void
test_open_domain_gone(void **state)
{
	struct fx *f = *state;
	static struct pending pc;
	struct sc_hvc_session cs;
	uint8_t m[SC_HS1_MSG_LEN];
	struct snap before;
	uint64_t gen;

	assert_int_equal(protect(f, &f->a, D1, true), 0);
	msg1(f, &f->a, D1, f->owner_sk, 0, &cs, m);
	begin_crypto(f, &f->a, &pc, SC_OP_OPEN, D1, m, sizeof(m));
	assert_int_equal(sc_hv_domain_remove(f->a.t.hv, D1), 0);
	before = snap(&f->a, D1);
	assert_int_equal(commit(f, &f->a, &pc), SC_ERR_NOTFOUND);
	assert_nothing_leaked(f, &f->a, D1, &before);

	/* Added again under the same domid and UUID, then protected again. */
	assert_int_equal(sc_hv_domain_add(f->a.t.hv, D1, f->uuid[0], "vm1", &f->a.ring[0],
	    8192), 0);
	assert_int_equal(protect(f, &f->a, D1, true), 0);
	msg1(f, &f->a, D1, f->owner_sk, 0, &cs, m);
	begin_crypto(f, &f->a, &pc, SC_OP_OPEN, D1, m, sizeof(m));
	assert_int_equal(sc_hv_domain_remove(f->a.t.hv, D1), 0);
	assert_int_equal(sc_hv_domain_add(f->a.t.hv, D1, f->uuid[0], "vm1", &f->a.ring[0],
	    8192), 0);
	before = snap(&f->a, D1);
	assert_int_equal(commit(f, &f->a, &pc), SC_ERR_STATE);	/* not protected (yet) */
	assert_nothing_leaked(f, &f->a, D1, &before);
	/*
	 * Once more, and this time the new domain is bound to a blob of the
	 * same generation (nothing restored it), VM secret and ACL: only the
	 * epoch tells the two lives apart.
	 */
	assert_int_equal(protect(f, &f->a, D1, true), 0);
	gen = dom(&f->a, D1)->generation;
	begin_crypto(f, &f->a, &pc, SC_OP_OPEN, D1, m, sizeof(m));
	assert_int_equal(sc_hv_domain_remove(f->a.t.hv, D1), 0);
	assert_int_equal(sc_hv_domain_add(f->a.t.hv, D1, f->uuid[0], "vm1", &f->a.ring[0],
	    8192), 0);
	f->gen = gen - 1;
	assert_int_equal(protect(f, &f->a, D1, true), 0);
	assert_int_equal(dom(&f->a, D1)->generation, gen);
	before = snap(&f->a, D1);
	assert_int_equal(commit(f, &f->a, &pc), SC_ERR_AGAIN);	/* another domain's life */
	assert_nothing_leaked(f, &f->a, D1, &before);
	/* A new OPEN of the same key works. */
	sc_hvc_wipe(&cs);
	assert_int_not_equal(open_ok(f, &f->a, D1, f->owner_sk, 0, &cs), 0);
	sc_hvc_wipe(&cs);
}

/* Re-protected between crypto and commit: with the key, and without it. */
static void
test_open_reprotected(void **state)
{
	struct fx *f = *state;
	static struct pending pc;
	struct sc_hvc_session cs;
	uint8_t m[SC_HS1_MSG_LEN];
	struct snap before;

	assert_int_equal(protect(f, &f->a, D1, true), 0);
	msg1(f, &f->a, D1, f->user_sk, 0, &cs, m);
	begin_crypto(f, &f->a, &pc, SC_OP_OPEN, D1, m, sizeof(m));
	assert_int_equal(protect(f, &f->a, D1, true), 0);	/* same keys, new binding */
	before = snap(&f->a, D1);
	assert_int_equal(commit(f, &f->a, &pc), SC_ERR_AGAIN);
	assert_nothing_leaked(f, &f->a, D1, &before);

	begin_crypto(f, &f->a, &pc, SC_OP_OPEN, D1, m, sizeof(m));	/* the same message 1: not seen */
	assert_int_equal(protect(f, &f->a, D1, false), 0);	/* the user is out */
	before = snap(&f->a, D1);
	assert_int_equal(commit(f, &f->a, &pc), SC_ERR_PERM);
	assert_nothing_leaked(f, &f->a, D1, &before);
	sc_hvc_wipe(&cs);
}

/* The owner removes the user's key while the user's OPEN is in its crypto. */
static void
test_open_acl_removed(void **state)
{
	struct fx *f = *state;
	static struct pending pc;
	struct sc_hvc_session co, cu;
	uint8_t m[SC_HS1_MSG_LEN], items[SC_RECORD_CT_MAX + 2], cmd[34];
	struct sc_buf b;
	struct snap before;
	uint32_t so;

	assert_int_equal(protect(f, &f->a, D1, true), 0);
	so = open_ok(f, &f->a, D1, f->owner_sk, 0, &co);
	msg1(f, &f->a, D1, f->user_sk, 0, &cu, m);
	begin_crypto(f, &f->a, &pc, SC_OP_OPEN, D1, m, sizeof(m));

	memset(cmd, 0, sizeof(cmd));
	cmd[0] = SC_OWNER_ACL_DEL;
	memcpy(cmd + 1, f->user_pk, 32);
	sc_buf_init(&b, items, sizeof(items));
	assert_int_equal(sc_hvc_seal(&co, SC_REC_OWNER_CMD, cmd, sizeof(cmd), &b), 0);
	assert_int_equal(op(f, &f->a, SC_OP_INPUT, D1, so, items, b.len), 0);
	assert_int_equal(dom(&f->a, D1)->acl_count, 1);

	before = snap(&f->a, D1);
	assert_int_equal(commit(f, &f->a, &pc), SC_ERR_PERM);
	assert_nothing_leaked(f, &f->a, D1, &before);
	sc_hvc_wipe(&co);
	sc_hvc_wipe(&cu);
}

/* Two CPUs OPEN with the same message 1: the second commit is a replay. */
static void
test_open_same_msg1_twice(void **state)
{
	struct fx *f = *state;
	static struct pending p1, p2;
	struct sc_hvc_session cs;
	uint8_t m[SC_HS1_MSG_LEN];
	struct snap before;
	uint32_t sid;

	assert_int_equal(protect(f, &f->a, D1, true), 0);
	msg1(f, &f->a, D1, f->owner_sk, 0, &cs, m);
	begin_crypto(f, &f->a, &p1, SC_OP_OPEN, D1, m, sizeof(m));
	begin_crypto(f, &f->a, &p2, SC_OP_OPEN, D1, m, sizeof(m));
	before = snap(&f->a, D1);
	assert_int_equal(commit(f, &f->a, &p1), 0);
	sid = f->rh.session;
	assert_int_equal(sc_hvc_hs2(&cs, f->rp, f->rh.len), 0);
	assert_int_equal(snap(&f->a, D1).pool_free, before.pool_free - 1);
	before = snap(&f->a, D1);
	assert_int_equal(commit(f, &f->a, &p2), SC_ERR_DECRYPT);
	assert_nothing_leaked(f, &f->a, D1, &before);
	assert_int_equal(dom(&f->a, D1)->nsess, 1);
	assert_int_equal(dom(&f->a, D1)->sess[0]->id, sid);
	sc_hvc_wipe(&cs);
}

/* The ring breaks, or other OPENs take the slots, between crypto and commit. */
static void
test_open_broken_or_full(void **state)
{
	struct fx *f = *state;
	static struct pending pc;
	struct sc_hvc_session cs, vs[SC_HV_MAX_SESSIONS];
	uint8_t m[SC_HS1_MSG_LEN];
	struct snap before;
	unsigned i;

	assert_int_equal(protect(f, &f->a, D1, true), 0);
	msg1(f, &f->a, D1, f->owner_sk, 0, &cs, m);
	begin_crypto(f, &f->a, &pc, SC_OP_OPEN, D1, m, sizeof(m));
	for (i = 0; i < SC_HV_MAX_SESSIONS; i++)
		assert_int_not_equal(open_ok(f, &f->a, D1, f->user_sk, SC_HS1_F_VIEWER,
		    &vs[i]), 0);
	before = snap(&f->a, D1);
	assert_int_equal(commit(f, &f->a, &pc), SC_ERR_LIMIT);
	assert_nothing_leaked(f, &f->a, D1, &before);
	for (i = 0; i < SC_HV_MAX_SESSIONS; i++)
		sc_hvc_wipe(&vs[i]);

	/* D2: the guest corrupts its ring meanwhile. */
	assert_int_equal(protect(f, &f->a, D2, true), 0);
	msg1(f, &f->a, D2, f->owner_sk, 0, &cs, m);
	begin_crypto(f, &f->a, &pc, SC_OP_OPEN, D2, m, sizeof(m));
	f->a.ring[1].out_prod = f->a.ring[1].out_cons + 4096;
	assert_int_equal(sc_hv_guest_event(f->a.t.hv, D2), SC_ERR_CORRUPT);
	before = snap(&f->a, D2);
	assert_int_equal(commit(f, &f->a, &pc), SC_ERR_CORRUPT);
	assert_nothing_leaked(f, &f->a, D2, &before);
	sc_hvc_wipe(&cs);
}

/*
 * PROTECT in phases: concurrent PROTECTs are ordered by their commits; a
 * domain gone or replaced binds nothing.
 */
static void
test_protect_phases(void **state)
{
	struct fx *f = *state;
	static struct pending pc;
	static uint8_t blob[SC_PROTECT_PAYLOAD_MAX], other[SC_PROTECT_PAYLOAD_MAX];
	struct sc_registration reg, oreg;
	uint8_t confirm[32];
	size_t n, on;
	uint64_t gen;

	/* Blob A (generation 10) is in its crypto when blob B (11) commits. */
	n = seal(f, 0, 10, true, blob, &reg);
	on = seal(f, 0, 11, false, other, &oreg);
	begin_crypto(f, &f->a, &pc, SC_OP_PROTECT, D1, blob, n);
	assert_int_equal(op(f, &f->a, SC_OP_PROTECT, D1, 0, other, on), 0);
	assert_int_equal(commit(f, &f->a, &pc), SC_ERR_EXPIRED);
	assert_int_equal(f->rh.len, 32);	/* the refusal is confirmed to the owner */
	assert_int_equal(sc_blob_confirm(f->cp, &reg, sc_hv_pubkey(f->a.t.hv),
	    SC_ERR_EXPIRED, confirm), 0);
	assert_memory_equal(confirm, f->rp, 32);
	assert_int_equal(dom(&f->a, D1)->generation, 11);
	assert_int_equal(dom(&f->a, D1)->acl_count, 1);	/* B's binding stands */

	/* The other order: B's commit comes second and takes over. */
	sodium_memzero(&reg, sizeof(reg));
	n = seal(f, 0, 13, true, blob, &reg);
	on = seal(f, 0, 12, false, other, &oreg);
	begin_crypto(f, &f->a, &pc, SC_OP_PROTECT, D1, blob, n);
	assert_int_equal(op(f, &f->a, SC_OP_PROTECT, D1, 0, other, on), 0);
	assert_int_equal(commit(f, &f->a, &pc), 0);
	assert_int_equal(dom(&f->a, D1)->generation, 13);
	assert_int_equal(dom(&f->a, D1)->acl_count, 2);
	assert_int_equal(f->a.gen_stored, 13);

	/* D2 destroyed meanwhile: NOTFOUND, nothing stored. */
	gen = f->a.gen_stored;
	n = seal(f, 1, 20, true, blob, &reg);
	begin_crypto(f, &f->a, &pc, SC_OP_PROTECT, D2, blob, n);
	assert_int_equal(sc_hv_domain_remove(f->a.t.hv, D2), 0);
	assert_int_equal(commit(f, &f->a, &pc), SC_ERR_NOTFOUND);
	assert_int_equal(f->rh.len, 0);
	assert_int_equal(f->a.gen_stored, gen);

	/* Another domain (another UUID) at D2's domid: the blob is not its. */
	assert_int_equal(sc_hv_domain_add(f->a.t.hv, D2, f->uuid[1], "vm2", &f->a.ring[1],
	    8192), 0);
	begin_crypto(f, &f->a, &pc, SC_OP_PROTECT, D2, blob, n);
	assert_int_equal(sc_hv_domain_remove(f->a.t.hv, D2), 0);
	f->cp->random(f->uuid[1], SC_UUID_LEN);
	assert_int_equal(sc_hv_domain_add(f->a.t.hv, D2, f->uuid[1], "vm2", &f->a.ring[1],
	    8192), 0);
	assert_int_equal(commit(f, &f->a, &pc), SC_ERR_MISMATCH);
	assert_int_equal(f->rh.len, 32);
	assert_false(dom(&f->a, D2)->protected);
	assert_int_equal(dom(&f->a, D2)->generation, 0);
	sodium_memzero(&reg, sizeof(reg));
	sodium_memzero(&oreg, sizeof(oreg));
}

/* Misuse: commit without crypto, a call that is not in phases. */
static void
test_call_misuse(void **state)
{
	struct fx *f = *state;
	static struct pending pc;
	struct sc_hvc_session cs;
	uint8_t m[SC_HS1_MSG_LEN];
	size_t len;

	assert_int_equal(protect(f, &f->a, D1, true), 0);
	msg1(f, &f->a, D1, f->owner_sk, 0, &cs, m);
	req_build(f, pc.req, sizeof(pc.req), &len, SC_OP_OPEN, D1, 0, m, sizeof(m));
	assert_int_equal(sc_hv_call_begin(f->a.t.hv, &pc.call, pc.req, len, pc.resp,
	    sizeof(pc.resp), &pc.rlen), SC_HV_CALL_CRYPTO);
	assert_int_equal(commit(f, &f->a, &pc), SC_ERR_INTERNAL);	/* no crypto */
	assert_int_equal(dom(&f->a, D1)->nsess, 0);
	/* An op answered at once leaves a wiped call too. */
	req_build(f, pc.req, sizeof(pc.req), &len, SC_OP_GET_INFO, 0, 0, NULL, 0);
	memset(&pc.call, 0xa5, sizeof(pc.call));
	assert_int_equal(sc_hv_call_begin(f->a.t.hv, &pc.call, pc.req, len, pc.resp,
	    sizeof(pc.resp), &pc.rlen), 0);
	assert_true(all_zero(&pc.call, sizeof(pc.call)));
	sc_hvc_wipe(&cs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_phases_equal_dispatch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crypto_writes_no_context, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_domain_gone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_reprotected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_acl_removed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_same_msg1_twice, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_broken_or_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_protect_phases, setup, teardown),
		cmocka_unit_test_setup_teardown(test_call_misuse, setup, teardown),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
