/*
 * test_hv_ring.c — the ring engine (hv/core/ring.c) against a model.
 *
 * Random interleavings of the four parties (hv and guest, producing and
 * consuming on `in` and `out`), with indices starting anywhere — notably just
 * below 2^32 — and random chunk sizes, so rings fill, wrap and empty.  The
 * model is a byte counter per direction: what is read must be exactly the
 * continuation of what was written (nothing lost, nothing duplicated, no
 * reordering).  Also: corrupt indices are refused without moving anything,
 * and a two-thread run exercises the barriers with real concurrency.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <pthread.h>
#include <sched.h>
#include <cmocka.h>

#include "core/err.h"
#include "hv/core/ring.h"

/* Deterministic PRNG (xorshift64*), so failures reproduce. */
static uint64_t rng_state;

static uint64_t
rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ULL;
}

/* The i-th byte of a direction's stream. */
static uint8_t
stream_byte(uint64_t i, uint8_t salt)
{
	uint64_t x = (i + 1) * 0x9E3779B97F4A7C15ULL ^ salt;

	return (uint8_t)(x >> 56);
}

struct dir_model {
	uint64_t	written;	/* bytes produced so far */
	uint64_t	read;		/* bytes consumed so far */
	size_t		size;
	uint8_t		salt;
};

static void
produce(struct xencons_interface *r, struct dir_model *m, bool in_ring, size_t want)
{
	uint8_t buf[4096];
	size_t i, w, space;
	int rc;

	for (i = 0; i < want; i++)
		buf[i] = stream_byte(m->written + i, m->salt);
	if (in_ring) {
		assert_int_equal(sc_ring_in_space(r, &space), 0);
		rc = sc_ring_in_write(r, buf, want, &w);
	} else {
		assert_int_equal(sc_ring_guest_out_space(r, &space), 0);
		rc = sc_ring_guest_out_write(r, buf, want, &w);
	}
	assert_int_equal(rc, 0);
	/* The model: exactly min(want, free) bytes go in. */
	assert_int_equal(space, m->size - (m->written - m->read));
	assert_int_equal(w, want < space ? want : space);
	m->written += w;
}

static void
consume(struct xencons_interface *r, struct dir_model *m, bool in_ring, size_t cap)
{
	uint8_t buf[4096];
	size_t i, got, avail;
	int rc;

	if (in_ring) {
		assert_int_equal(sc_ring_guest_in_avail(r, &avail), 0);
		rc = sc_ring_guest_in_read(r, buf, cap, &got);
	} else {
		assert_int_equal(sc_ring_out_avail(r, &avail), 0);
		rc = sc_ring_out_read(r, buf, cap, &got);
	}
	assert_int_equal(rc, 0);
	assert_int_equal(avail, m->written - m->read);
	assert_int_equal(got, cap < avail ? cap : avail);
	for (i = 0; i < got; i++)
		if (buf[i] != stream_byte(m->read + i, m->salt))
			fail_msg("byte %llu: got %02x want %02x",
			    (unsigned long long)(m->read + i), buf[i],
			    stream_byte(m->read + i, m->salt));
	m->read += got;
}

static void
run_model(uint32_t in_start, uint32_t out_start, uint64_t seed, unsigned steps)
{
	static struct xencons_interface ring;
	struct dir_model in = { 0, 0, SC_RING_IN_SIZE, 0x11 };
	struct dir_model out = { 0, 0, SC_RING_OUT_SIZE, 0x77 };
	unsigned s;
	size_t n;

	sc_ring_reset(&ring);
	ring.in_cons = ring.in_prod = in_start;
	ring.out_cons = ring.out_prod = out_start;
	rng_state = seed;
	for (s = 0; s < steps; s++) {
		/* Chunk sizes favour edge cases: 0, 1, exact sizes, over-size. */
		switch (rng() % 6) {
		case 0: n = 0; break;
		case 1: n = 1; break;
		case 2: n = rng() % 64; break;
		case 3: n = SC_RING_IN_SIZE; break;
		case 4: n = SC_RING_OUT_SIZE + rng() % 100; break;
		default: n = rng() % 3000; break;
		}
		switch (rng() % 4) {
		case 0: produce(&ring, &in, true, SC_MIN(n, (size_t)4096)); break;
		case 1: consume(&ring, &in, true, SC_MIN(n, (size_t)4096)); break;
		case 2: produce(&ring, &out, false, SC_MIN(n, (size_t)4096)); break;
		default: consume(&ring, &out, false, SC_MIN(n, (size_t)4096)); break;
		}
		/* Indices are free-running: they equal start + bytes moved. */
		assert_int_equal(ring.in_prod, (uint32_t)(in_start + in.written));
		assert_int_equal(ring.in_cons, (uint32_t)(in_start + in.read));
		assert_int_equal(ring.out_prod, (uint32_t)(out_start + out.written));
		assert_int_equal(ring.out_cons, (uint32_t)(out_start + out.read));
	}
	/* Drain both: everything written arrives. */
	while (in.read < in.written)
		consume(&ring, &in, true, 4096);
	while (out.read < out.written)
		consume(&ring, &out, false, 4096);
	assert_true(in.written > 10 * SC_RING_IN_SIZE);
	assert_true(out.written > 10 * SC_RING_OUT_SIZE);
}

static void
test_model_from_zero(void **state)
{
	(void)state;
	run_model(0, 0, 0x1234567, 20000);
}

static void
test_model_wraps_2_32(void **state)
{
	(void)state;
	/* Start just below the u32 wrap, unaligned to the ring size. */
	run_model(0xffffffffu - 700, 0xffffffffu - 3, 0xfeedface, 20000);
	run_model(0xfffffc00u, 0xfffff800u, 42, 20000);
}

static void
test_model_many_seeds(void **state)
{
	uint64_t seed;

	(void)state;
	for (seed = 1; seed <= 50; seed++)
		run_model((uint32_t)(rng() ^ seed * 0x1000193), (uint32_t)(seed * 0x9e3779b9u),
		    seed * 0x5851f42d4c957f2dULL, 2000);
}

static void
test_full_and_empty(void **state)
{
	static struct xencons_interface ring;
	uint8_t buf[4096];
	size_t n;

	(void)state;
	sc_ring_reset(&ring);
	memset(buf, 'x', sizeof(buf));
	assert_int_equal(sc_ring_in_write(&ring, buf, sizeof(buf), &n), 0);
	assert_int_equal(n, SC_RING_IN_SIZE);
	assert_int_equal(sc_ring_in_write(&ring, buf, 1, &n), 0);
	assert_int_equal(n, 0);				/* full: nothing taken */
	assert_int_equal(sc_ring_in_space(&ring, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(sc_ring_out_read(&ring, buf, sizeof(buf), &n), 0);
	assert_int_equal(n, 0);				/* empty */
	assert_int_equal(sc_ring_guest_out_write(&ring, buf, sizeof(buf), &n), 0);
	assert_int_equal(n, SC_RING_OUT_SIZE);
	assert_int_equal(sc_ring_guest_in_read(&ring, buf, sizeof(buf), &n), 0);
	assert_int_equal(n, SC_RING_IN_SIZE);
	assert_int_equal(ring.in_prod, SC_RING_IN_SIZE);
	assert_int_equal(ring.in_cons, SC_RING_IN_SIZE);
}

/* Corrupt indices: refused by every call, and no index moves. */
static void
test_corrupt(void **state)
{
	static struct xencons_interface ring;
	static const struct { uint32_t cons, prod; } bad[] = {
		{ 0, SC_RING_OUT_SIZE + 1 },
		{ 100, 99 },			/* prod behind cons */
		{ 0xfffffff0u, 0x00000900u },	/* across the wrap, too far */
		{ 5, 0x80000000u },
	};
	uint8_t buf[64];
	size_t n, i;

	(void)state;
	memset(buf, 'y', sizeof(buf));
	for (i = 0; i < SC_NELEM(bad); i++) {
		sc_ring_reset(&ring);
		ring.out_cons = bad[i].cons;
		ring.out_prod = bad[i].prod;
		ring.in_cons = bad[i].cons;
		ring.in_prod = bad[i].prod;
		n = 77;
		assert_int_equal(sc_ring_out_read(&ring, buf, sizeof(buf), &n), SC_ERR_CORRUPT);
		assert_int_equal(n, 0);
		assert_int_equal(sc_ring_out_avail(&ring, &n), SC_ERR_CORRUPT);
		assert_int_equal(sc_ring_guest_out_write(&ring, buf, 1, &n), SC_ERR_CORRUPT);
		assert_int_equal(sc_ring_guest_out_space(&ring, &n), SC_ERR_CORRUPT);
		if (bad[i].prod - bad[i].cons > SC_RING_IN_SIZE) {
			assert_int_equal(sc_ring_in_write(&ring, buf, 1, &n), SC_ERR_CORRUPT);
			assert_int_equal(sc_ring_in_space(&ring, &n), SC_ERR_CORRUPT);
			assert_int_equal(sc_ring_guest_in_read(&ring, buf, 1, &n), SC_ERR_CORRUPT);
		}
		assert_int_equal(ring.out_cons, bad[i].cons);
		assert_int_equal(ring.out_prod, bad[i].prod);
		assert_int_equal(ring.in_cons, bad[i].cons);
		assert_int_equal(ring.in_prod, bad[i].prod);
	}
	/* Exactly full is not corrupt (in: 1024 used). */
	sc_ring_reset(&ring);
	ring.in_cons = 0xfffffe00u;
	ring.in_prod = 0x00000200u;
	assert_int_equal(sc_ring_in_space(&ring, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(sc_ring_guest_in_avail(&ring, &n), 0);
	assert_int_equal(n, SC_RING_IN_SIZE);
	/* 1025 used is. */
	ring.in_prod++;
	assert_int_equal(sc_ring_in_space(&ring, &n), SC_ERR_CORRUPT);
}

/* Two threads: hv producing `in` / guest consuming it, and vice versa. */
#define THREAD_BYTES	(4u << 20)

struct thr {
	struct xencons_interface *ring;
	int		 role;		/* 0 hv->in, 1 guest<-in, 2 guest->out, 3 hv<-out */
	uint64_t	 errors;
};

static void *
thr_main(void *arg)
{
	struct thr *t = arg;
	uint8_t buf[512];
	uint64_t pos = 0;
	size_t i, n, want;
	uint8_t salt = t->role < 2 ? 0x21 : 0x43;

	while (pos < THREAD_BYTES) {
		want = SC_MIN((size_t)(1 + (pos * 7 + 13) % sizeof(buf)),
		    (size_t)(THREAD_BYTES - pos));
		n = 0;
		switch (t->role) {
		case 0:
		case 2:
			for (i = 0; i < want; i++)
				buf[i] = stream_byte(pos + i, salt);
			if ((t->role == 0 ? sc_ring_in_write(t->ring, buf, want, &n) :
			    sc_ring_guest_out_write(t->ring, buf, want, &n)) != 0)
				t->errors++;
			break;
		default:
			if ((t->role == 1 ? sc_ring_guest_in_read(t->ring, buf, want, &n) :
			    sc_ring_out_read(t->ring, buf, want, &n)) != 0)
				t->errors++;
			for (i = 0; i < n; i++)
				if (buf[i] != stream_byte(pos + i, salt))
					t->errors++;
			break;
		}
		if (t->errors)
			break;
		pos += n;
		if (n == 0)
			sched_yield();
	}
	return NULL;
}

static void
test_threads(void **state)
{
	static struct xencons_interface ring;
	pthread_t tid[4];
	struct thr t[4];
	int i;

	(void)state;
	sc_ring_reset(&ring);
	ring.in_cons = ring.in_prod = 0xffffff00u;
	ring.out_cons = ring.out_prod = 0xfffff000u;
	for (i = 0; i < 4; i++) {
		t[i].ring = &ring;
		t[i].role = i;
		t[i].errors = 0;
		assert_int_equal(pthread_create(&tid[i], NULL, thr_main, &t[i]), 0);
	}
	for (i = 0; i < 4; i++)
		assert_int_equal(pthread_join(tid[i], NULL), 0);
	for (i = 0; i < 4; i++)
		assert_int_equal(t[i].errors, 0);
	assert_int_equal(ring.in_prod, (uint32_t)(0xffffff00u + THREAD_BYTES));
	assert_int_equal(ring.out_cons, (uint32_t)(0xfffff000u + THREAD_BYTES));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_model_from_zero),
		cmocka_unit_test(test_model_wraps_2_32),
		cmocka_unit_test(test_model_many_seeds),
		cmocka_unit_test(test_full_and_empty),
		cmocka_unit_test(test_corrupt),
		cmocka_unit_test(test_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
