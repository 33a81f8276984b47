/*
 * test_hv_locks.c — the hv core's per-domain locking (hv.h, "Locking";
 * issue 14 item 6), driven from several threads through a platform whose
 * lock callbacks are real pthread mutexes, as the Xen glue's are spinlocks:
 *
 *   - while one thread holds domain A's lock (A's long op: an OUTPUT that
 *     seals 32 KiB, a pump), another thread's guest event, OUTPUT, INPUT
 *     and STATUS on domain B complete; a guest event on A with
 *     SC_HV_GE_TRY returns SC_ERR_AGAIN at once (the guest path never
 *     waits); a blocking op on A waits, and completes once A is let go;
 *   - destroy vs call: one thread removes and re-adds a domain in a loop,
 *     each time on a freshly allocated console page that it frees right
 *     after sc_hv_domain_remove / sc_hv_domain_detach returns, while other
 *     threads send guest events (trying and blocking), ops and
 *     LIST_DOMAINS at it: under ASan a call that touched the page after
 *     removal is a use after free; at the end every slot is free again
 *     (no reference leaked);
 *   - every lock the core takes is checked against the documented order
 *     (TABLE, then one DOM, then SHARED; TABLE -> DOM only as a trylock):
 *     a violation aborts the test.
 *
 * Run it by hand under TSan too: build with CC=clang CFLAGS=-fsanitize=thread.
 */
#define _GNU_SOURCE 1
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <setjmp.h>
#include <string.h>
#include <pthread.h>
#include <sched.h>
#include <time.h>
#include <cmocka.h>
#include <sodium.h>

#include "core/err.h"
#include "core/buf.h"
#include "core/crypto.h"
#include "core/blob.h"
#include "core/ops.h"
#include "core/wire.h"
#include "hv/core/hv.h"
#include "tests/helpers/hvclient.h"
#include "tests/unit/hv_test_platform.h"

#define DA	1
#define DB	2
#define DX	7		/* the domain removed and re-added */
#define SLOTS	8
#define ARENA	(256 * 1024)
#define WAIT_S	60		/* generous: the machine may be busy */
#define CYCLES	400		/* remove/add cycles in the race test */

/* ---- the platform: mutexes, and the lock order checked per thread ------ */

static pthread_mutex_t locks[SC_HV_LOCK_COUNT(SLOTS)];
static __thread bool held_table, held_shared;
static __thread int held_dom = -1;
/*
 * The race test's callers linger a little with a domain's lock just taken,
 * so that a removal that did not wait for the op in flight would free the
 * page (or wipe the domain) under it.
 */
static __thread bool lingers;

static void
linger(unsigned lk)
{
	int i;

	if (lingers && lk >= SC_HV_LOCK_DOM(0))
		for (i = 0; i < 20; i++)
			sched_yield();
}

static void
order_fail(const char *why, unsigned lk)
{
	fprintf(stderr, "lock order violated: %s (lock %u)\n", why, lk);
	abort();
}

static void
order_check(unsigned lk, bool try)
{
	if (held_shared)
		order_fail("a lock taken under SHARED", lk);
	if (lk == SC_HV_LOCK_TABLE && (held_table || held_dom >= 0))
		order_fail("TABLE taken under TABLE or a DOM", lk);
	if (lk >= SC_HV_LOCK_DOM(0)) {
		if (held_dom >= 0)
			order_fail("two DOM locks", lk);
		if (held_table && !try)
			order_fail("DOM waited for under TABLE", lk);
	}
}

static void
held_set(unsigned lk, bool on)
{
	if (lk == SC_HV_LOCK_TABLE)
		held_table = on;
	else if (lk == SC_HV_LOCK_SHARED)
		held_shared = on;
	else
		held_dom = on ? (int)lk : -1;
}

static void
pf_lock(void *arg, unsigned lk)
{
	(void)arg;
	order_check(lk, false);
	if (pthread_mutex_lock(&locks[lk]) != 0)
		abort();
	held_set(lk, true);
	linger(lk);
}

static bool
pf_trylock(void *arg, unsigned lk)
{
	(void)arg;
	order_check(lk, true);
	if (pthread_mutex_trylock(&locks[lk]) != 0)
		return false;
	held_set(lk, true);
	linger(lk);
	return true;
}

static void
pf_unlock(void *arg, unsigned lk)
{
	(void)arg;
	held_set(lk, false);
	if (pthread_mutex_unlock(&locks[lk]) != 0)
		abort();
}

/* notify_dom0 runs under SHARED: count what arrives, nothing more. */
static unsigned long dom0_events;

static void
hook_dom0(void *arg, uint32_t domid, uint32_t session, uint32_t events)
{
	(void)arg;
	(void)domid;
	(void)session;
	(void)events;
	if (!held_shared)
		order_fail("notify_dom0 without SHARED", SC_HV_LOCK_SHARED);
	dom0_events++;
}

/* ---- fixture -------------------------------------------------------------- */

struct fx {
	struct hvt	 t;
	const struct sc_crypto *cp;
	struct xencons_interface ring[2];	/* DA, DB */
	uint8_t		 sk[32];
	uint8_t		 uuid[2][SC_UUID_LEN];
	uint8_t		 secret[SC_PSK_LEN];
	uint8_t		 owner_sk[32], owner_pk[32];
	struct sc_hvc_session cs;		/* a session on DB */
	uint32_t	 sid;
};

static uint32_t seq_ctr;

/* One op; its status (and, if wanted, the response).  Thread-safe. */
static int
op(struct sc_hv *hv, uint16_t o, uint32_t domid, uint32_t session,
    uint32_t arg, const void *p, size_t n, uint8_t *resp, size_t *rlen)
{
	uint8_t *req = malloc(SC_OP_MAX), *rbuf = resp ? resp : malloc(SC_OP_MAX);
	struct sc_op_hdr rh;
	const uint8_t *rp;
	struct sc_buf b;
	size_t len;

	if (req == NULL || rbuf == NULL)
		abort();
	sc_buf_init(&b, req, SC_OP_MAX);
	if (sc_hvc_op_build(&b, o, domid, session, arg,
	    __atomic_add_fetch(&seq_ctr, 1, __ATOMIC_RELAXED), p, n) != 0 ||
	    sc_hv_dispatch(hv, req, b.len, rbuf, SC_OP_MAX, &len) != 0 ||
	    sc_hvc_op_parse(rbuf, len, &rh, &rp) != 0)
		abort();
	if (rlen != NULL)
		*rlen = len;
	free(req);
	if (resp == NULL)
		free(rbuf);
	return rh.status;
}

static int
protect(struct fx *f, uint32_t domid, const uint8_t uuid[SC_UUID_LEN],
    uint64_t gen)
{
	static uint8_t blob[SC_PROTECT_PAYLOAD_MAX];
	struct sc_registration reg;
	struct sc_buf b;

	memset(&reg, 0, sizeof(reg));
	memcpy(reg.uuid, uuid, SC_UUID_LEN);
	reg.generation = gen;
	memcpy(reg.vm_secret, f->secret, SC_PSK_LEN);
	reg.disk_key_len = 32;
	reg.acl_count = 1;
	memcpy(reg.acl[0].pubkey, f->owner_pk, 32);
	reg.acl[0].flags = SC_ACL_F_OWNER;
	sc_buf_init(&b, blob, sizeof(blob));
	assert_int_equal(sc_protect_seal(f->cp, &reg, sc_hv_pubkey(f->t.hv), NULL,
	    &b), 0);
	sodium_memzero(&reg, sizeof(reg));
	return op(f->t.hv, SC_OP_PROTECT, domid, 0, 0, blob, b.len, NULL, NULL);
}

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct sc_hv_platform pf;
	uint8_t m1[SC_HS1_MSG_LEN], resp[SC_OP_MAX];
	struct sc_op_hdr rh;
	const uint8_t *rp;
	struct sc_buf b;
	size_t rlen;
	unsigned i;

	assert_non_null(f);
	for (i = 0; i < SC_NELEM(locks); i++)
		assert_int_equal(pthread_mutex_init(&locks[i], NULL), 0);
	f->cp = sc_crypto_sodium();
	f->cp->random(f->sk, 32);
	f->cp->random(f->uuid, sizeof(f->uuid));
	f->cp->random(f->secret, SC_PSK_LEN);
	assert_int_equal(sc_x25519_keypair(f->cp, f->owner_pk, f->owner_sk), 0);
	hvt_platform(&f->t, &pf, f);
	pf.notify_dom0 = hook_dom0;
	pf.lock = pf_lock;
	pf.trylock = pf_trylock;
	pf.unlock = pf_unlock;
	hvt_init(&f->t, f->cp, &pf, f->sk, SC_HV_NO_PCR, ARENA, SLOTS, 0);
	for (i = 0; i < 2; i++) {
		hvt_domain_add(&f->t, i == 0 ? DA : DB, f->uuid[i],
		    i == 0 ? "vma" : "vmb", &f->ring[i], 16384, NULL);
		assert_int_equal(protect(f, i == 0 ? DA : DB, f->uuid[i], 1), 0);
	}
	/* A writer session on DB. */
	sc_buf_init(&b, m1, sizeof(m1));
	assert_int_equal(sc_hvc_hs1(&f->cs, f->cp, f->uuid[1], sc_hv_pubkey(f->t.hv),
	    f->owner_sk, f->secret, 0, 0, &b), 0);
	assert_int_equal(op(f->t.hv, SC_OP_OPEN, DB, 0, 0, m1, b.len, resp, &rlen), 0);
	assert_int_equal(sc_hvc_op_parse(resp, rlen, &rh, &rp), 0);
	assert_int_equal(sc_hvc_hs2(&f->cs, rp, rh.len), 0);
	f->sid = rh.session;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	unsigned i;

	sc_hvc_wipe(&f->cs);
	hvt_free(&f->t);
	free(f);
	for (i = 0; i < SC_NELEM(locks); i++)
		(void)pthread_mutex_destroy(&locks[i]);
	return 0;
}

/* The lock id of domid's slot, through the core's own lookup. */
static unsigned
dom_lock_id(struct fx *f, uint32_t domid)
{
	struct sc_hv_domain *d = sc_hv_domain_get(f->t.hv, domid);
	unsigned lk;

	assert_non_null(d);
	lk = SC_HV_LOCK_DOM(d - f->t.hv->dom);
	sc_hv_domain_put(f->t.hv, d);
	return lk;
}

/* Wait (polling, up to WAIT_S) until *flag is set; false on timeout. */
static bool
wait_flag(const int *flag)
{
	struct timespec ts = { 0, 1000000 };
	time_t end = time(NULL) + WAIT_S;

	while (!__atomic_load_n(flag, __ATOMIC_ACQUIRE)) {
		if (time(NULL) > end)
			return false;
		nanosleep(&ts, NULL);
	}
	return true;
}

/* ---- A held, B goes on ------------------------------------------------- */

struct b_work {
	struct fx	*f;
	int		 done;
	int		 st_event, st_input, st_output, st_status, st_try_a;
};

static void *
b_thread(void *arg)
{
	struct b_work *w = arg;
	struct fx *f = w->f;
	uint8_t items[512];
	struct sc_buf b;
	size_t wr;

	/* The guest of B prints; its event is handled (trying, as Xen does). */
	if (sc_ring_guest_out_write(&f->ring[1], (const uint8_t *)"hello\n", 6,
	    &wr) != 0)
		abort();
	w->st_event = sc_hv_guest_event_ex(f->t.hv, DB, SC_HV_GE_TRY);
	sc_buf_init(&b, items, sizeof(items));
	if (sc_hvc_seal(&f->cs, SC_REC_DATA, (const uint8_t *)"ls\n", 3, &b) != 0)
		abort();
	w->st_input = op(f->t.hv, SC_OP_INPUT, DB, f->sid, 0, items, b.len, NULL,
	    NULL);
	w->st_output = op(f->t.hv, SC_OP_OUTPUT, DB, f->sid, 0, NULL, 0, NULL, NULL);
	w->st_status = op(f->t.hv, SC_OP_STATUS, DB, 0, 0, NULL, 0, NULL, NULL);
	/* The guest path on A: never waits for A's lock. */
	w->st_try_a = sc_hv_guest_event_ex(f->t.hv, DA, SC_HV_GE_TRY);
	__atomic_store_n(&w->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

struct a_work {
	struct fx	*f;
	int		 started, done, st;
};

static void *
a_thread(void *arg)
{
	struct a_work *w = arg;

	__atomic_store_n(&w->started, 1, __ATOMIC_RELEASE);
	w->st = op(w->f->t.hv, SC_OP_STATUS, DA, 0, 0, NULL, 0, NULL, NULL);
	__atomic_store_n(&w->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void
test_busy_domain_does_not_stall_others(void **state)
{
	struct fx *f = *state;
	unsigned lka = dom_lock_id(f, DA);
	struct b_work bw = { .f = f };
	struct a_work aw = { .f = f };
	pthread_t tb, ta;

	/* This thread is A's long op: it holds A's lock throughout. */
	assert_int_equal(pthread_mutex_lock(&locks[lka]), 0);
	assert_int_equal(pthread_create(&ta, NULL, a_thread, &aw), 0);
	assert_int_equal(pthread_create(&tb, NULL, b_thread, &bw), 0);
	assert_true(wait_flag(&bw.done));	/* before A is let go */
	assert_int_equal(bw.st_event, 0);
	assert_int_equal(bw.st_input, 0);
	assert_int_equal(bw.st_output, 0);
	assert_int_equal(bw.st_status, 0);
	assert_int_equal(bw.st_try_a, SC_ERR_AGAIN);
	assert_true(wait_flag(&aw.started));
	/* A's STATUS waits for A's lock (B finished meanwhile, so it had time). */
	assert_int_equal(__atomic_load_n(&aw.done, __ATOMIC_ACQUIRE), 0);
	assert_int_equal(pthread_mutex_unlock(&locks[lka]), 0);
	assert_true(wait_flag(&aw.done));
	assert_int_equal(aw.st, 0);
	assert_int_equal(pthread_join(ta, NULL), 0);
	assert_int_equal(pthread_join(tb, NULL), 0);
	/* The try path, now that A is free, works. */
	assert_int_equal(sc_hv_guest_event_ex(f->t.hv, DA, SC_HV_GE_TRY), 0);
}

/* ---- destroy vs call ------------------------------------------------------ */

struct race {
	struct fx	*f;
	int		 stop;
	unsigned long	 calls, found;
};

static void *
race_caller(void *arg)
{
	struct race *rc = arg;
	struct sc_hv *hv = rc->f->t.hv;
	uint8_t in[4] = { 'x', 'y', 'z', '\n' };
	unsigned k = 0;
	int st;

	lingers = true;
	while (!__atomic_load_n(&rc->stop, __ATOMIC_ACQUIRE)) {
		switch (k++ % 6) {
		case 0: st = sc_hv_guest_event_ex(hv, DX, SC_HV_GE_TRY); break;
		case 1: st = sc_hv_guest_event(hv, DX); break;
		case 2: st = op(hv, SC_OP_RAW_INPUT, DX, 0, 0, in, sizeof(in),
			    NULL, NULL); break;
		case 3: st = op(hv, SC_OP_RAW_OUTPUT, DX, 0, 0, NULL, 0, NULL,
			    NULL); break;
		case 4: st = op(hv, SC_OP_STATUS, DX, 0, 0, NULL, 0, NULL, NULL);
			break;
		default: st = op(hv, SC_OP_LIST_DOMAINS, 0, 0, 0, NULL, 0, NULL,
			    NULL); break;
		}
		/* Whatever the race, only these answers. */
		if (st != 0 && st != SC_ERR_NOTFOUND && st != SC_ERR_AGAIN &&
		    st != SC_ERR_PROTECTED) {
			fprintf(stderr, "unexpected status %d (case %u)\n", st,
			    (k - 1) % 6);
			abort();
		}
		__atomic_add_fetch(&rc->calls, 1, __ATOMIC_RELAXED);
		if (st == 0)
			__atomic_add_fetch(&rc->found, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void
test_remove_races_calls(void **state)
{
	struct fx *f = *state;
	struct race rc = { .f = f };
	struct xencons_interface *ring;
	uint8_t uuid[SC_UUID_LEN];
	unsigned long found;
	pthread_t t[3];
	unsigned i, n;
	time_t end;
	size_t wr;

	for (i = 0; i < SC_NELEM(t); i++)
		assert_int_equal(pthread_create(&t[i], NULL, race_caller, &rc), 0);
	for (n = 0; n < CYCLES; n++) {
		ring = malloc(sizeof(*ring));
		assert_non_null(ring);
		sc_ring_reset(ring);
		assert_int_equal(sc_ring_guest_out_write(ring, (const uint8_t *)"boot\n",
		    5, &wr), 0);
		f->cp->random(uuid, sizeof(uuid));
		found = __atomic_load_n(&rc.found, __ATOMIC_RELAXED);
		assert_int_equal(sc_hv_domain_add(f->t.hv, DX, uuid, "vmx", ring,
		    SC_HV_HISTORY_MIN), 0);
		/* Remove only once the callers are at it (polling, bounded). */
		end = time(NULL) + WAIT_S;
		while (__atomic_load_n(&rc.found, __ATOMIC_RELAXED) < found + 2 &&
		    time(NULL) <= end)
			sched_yield();
		/* Every 8th: protected, and let go as a dying domain. */
		if (n % 8 == 0) {
			assert_int_equal(protect(f, DX, uuid, 1), 0);
			assert_int_equal(sc_hv_domain_detach(f->t.hv, DX, false),
			    SC_ERR_PROTECTED);
			assert_int_equal(sc_hv_domain_detach(f->t.hv, DX, true), 0);
		} else if (n % 2 == 0) {
			assert_int_equal(sc_hv_domain_detach(f->t.hv, DX, false), 0);
		} else {
			assert_int_equal(sc_hv_domain_remove(f->t.hv, DX), 0);
		}
		/* No call may touch the page from here on (ASan: use after free). */
		free(ring);
	}
	__atomic_store_n(&rc.stop, 1, __ATOMIC_RELEASE);
	for (i = 0; i < SC_NELEM(t); i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	assert_true(rc.calls > 0);
	print_message("%lu calls raced %u removals, %lu found the domain\n",
	    rc.calls, CYCLES, rc.found);
	/* No slot leaked: DA, DB and SLOTS - 2 new domains fit, no more. */
	assert_null(sc_hv_domain_get(f->t.hv, DX));
	for (i = 0; i <= SLOTS - 2; i++) {
		char name[16];

		snprintf(name, sizeof(name), "s%u", i);
		f->cp->random(uuid, sizeof(uuid));
		/* Never pumped: the page is the test's, shared by all. */
		assert_int_equal(sc_hv_domain_add(f->t.hv, 100 + i, uuid, name,
		    &f->ring[0], SC_HV_HISTORY_MIN),
		    i < SLOTS - 2 ? 0 : SC_ERR_ALLOC);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_busy_domain_does_not_stall_others,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_remove_races_calls, setup,
		    teardown),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
