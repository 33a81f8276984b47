/*
 * test_term_outq.c — sccrypt-term's transport output queue (outq.h): order
 * and conservation through partial writes, and that no byte outlives its
 * stay in the queue (consumed, compacted, grown, cleared, freed).
 *
 * Linked with -Wl,--wrap=free: __wrap_free checks that the block the queue
 * frees (the one the test names in watch_ptr) is all zero at that moment.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <sodium.h>

#include "../../sccrypt-term/outq.h"

void	__real_free(void *p);
void	__wrap_free(void *p);

static const uint8_t	*watch_ptr;	/* the queue's buffer, when watched */
static size_t		watch_len;
static int		watch_freed, watch_dirty;

void
__wrap_free(void *p)
{
	if (p != NULL && p == watch_ptr) {
		size_t i;

		for (i = 0; i < watch_len; i++)
			if (watch_ptr[i] != 0)
				watch_dirty++;
		watch_freed++;
		watch_ptr = NULL;
	}
	__real_free(p);
}

static void
watch(const struct outq *q)
{
	watch_ptr = q->buf;
	watch_len = q->cap;
	watch_freed = watch_dirty = 0;
}

static void
fill(uint8_t *p, size_t n, unsigned seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(0x80 | ((seed + i * 7) & 0x7f));	/* never 0 */
}

static void
test_order_and_consume_wipes(void **state)
{
	struct outq q = { 0 };
	uint8_t a[100], b[50];

	(void)state;
	fill(a, sizeof(a), 1);
	fill(b, sizeof(b), 2);
	assert_int_equal(outq_pending(&q), 0);
	assert_int_equal(outq_push(&q, a, sizeof(a)), 0);
	assert_int_equal(outq_push(&q, b, sizeof(b)), 0);
	assert_int_equal(outq_pending(&q), 150);
	assert_memory_equal(outq_peek(&q), a, sizeof(a));
	outq_consume(&q, 30);
	assert_true(sodium_is_zero(q.buf, 30) == 1);		/* consumed: wiped */
	assert_int_equal(outq_pending(&q), 120);
	assert_memory_equal(outq_peek(&q), a + 30, 70);
	assert_memory_equal(outq_peek(&q) + 70, b, sizeof(b));
	outq_consume(&q, 120);
	assert_int_equal(outq_pending(&q), 0);
	assert_true(sodium_is_zero(q.buf, 150) == 1);
	outq_free(&q);
	assert_null(q.buf);
	assert_int_equal(q.cap, 0);
}

/* A push that does not fit moves the rest to the front: the old tail goes. */
static void
test_compact_wipes_tail(void **state)
{
	struct outq q = { 0 };
	static uint8_t big[OUTQ_MIN_CAP];
	uint8_t tail[100];

	(void)state;
	fill(big, sizeof(big), 3);
	fill(tail, sizeof(tail), 4);
	assert_int_equal(outq_push(&q, big, sizeof(big) - 10), 0);
	outq_consume(&q, sizeof(big) - 60);		/* 50 left, at the end */
	assert_int_equal(outq_push(&q, tail, sizeof(tail)), 0);
	assert_int_equal(q.cap, OUTQ_MIN_CAP);		/* compacted, not grown */
	assert_int_equal(q.off, 0);
	assert_memory_equal(q.buf, big + sizeof(big) - 60, 50);
	assert_memory_equal(q.buf + 50, tail, sizeof(tail));
	assert_true(sodium_is_zero(q.buf + 150, q.cap - 150) == 1);
	outq_free(&q);
}

/* Growing copies to a new buffer and wipes the old one before freeing it. */
static void
test_grow_wipes_old_buffer(void **state)
{
	struct outq q = { 0 };
	static uint8_t big[OUTQ_MIN_CAP + 1000];

	(void)state;
	fill(big, sizeof(big), 5);
	assert_int_equal(outq_push(&q, big, 1000), 0);
	watch(&q);
	assert_int_equal(outq_push(&q, big + 1000, OUTQ_MIN_CAP), 0);
	assert_int_equal(watch_freed, 1);
	assert_int_equal(watch_dirty, 0);
	assert_true(q.cap >= sizeof(big));
	assert_memory_equal(outq_peek(&q), big, sizeof(big));
	outq_free(&q);
}

static void
test_clear_and_free_wipe(void **state)
{
	struct outq q = { 0 };
	uint8_t secret[64];

	(void)state;
	fill(secret, sizeof(secret), 6);
	assert_int_equal(outq_push(&q, secret, sizeof(secret)), 0);
	outq_clear(&q);
	assert_int_equal(outq_pending(&q), 0);
	assert_true(sodium_is_zero(q.buf, q.cap) == 1);
	assert_int_equal(outq_push(&q, secret, sizeof(secret)), 0);
	watch(&q);
	outq_free(&q);
	assert_int_equal(watch_freed, 1);
	assert_int_equal(watch_dirty, 0);
	outq_free(&q);					/* idempotent */
}

/* Through a pipe that takes only part at a time: order, nothing lost. */
static void
test_flush_partial_writes(void **state)
{
	struct outq q = { 0 };
	static uint8_t data[300000], got[sizeof(data)];
	size_t have = 0;
	int fds[2];

	(void)state;
	fill(data, sizeof(data), 7);
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(fcntl(fds[1], F_SETFL, O_NONBLOCK), 0);
	assert_int_equal(fcntl(fds[0], F_SETFL, O_NONBLOCK), 0);
	assert_int_equal(outq_push(&q, data, sizeof(data)), 0);
	while (have < sizeof(data)) {
		ssize_t n = 0;

		assert_int_equal(outq_flush(&q, fds[1]), 0);
		assert_true(outq_pending(&q) < sizeof(data) - have); /* progress */
		while (have < sizeof(got) &&
		    (n = read(fds[0], got + have, sizeof(got) - have)) > 0)
			have += (size_t)n;
		assert_true(have == sizeof(got) || (n < 0 && errno == EAGAIN));
		assert_int_equal(outq_pending(&q), sizeof(data) - have);
	}
	assert_memory_equal(got, data, sizeof(data));
	assert_true(sodium_is_zero(q.buf, q.cap) == 1);
	close(fds[0]);
	/* A hard error leaves the queue as it was. */
	assert_int_equal(outq_push(&q, data, 10), 0);
	assert_true(outq_flush(&q, fds[1] + 1000) < 0);
	assert_int_equal(outq_pending(&q), 10);
	close(fds[1]);
	outq_free(&q);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_and_consume_wipes),
		cmocka_unit_test(test_compact_wipes_tail),
		cmocka_unit_test(test_grow_wipes_old_buffer),
		cmocka_unit_test(test_clear_and_free_wipe),
		cmocka_unit_test(test_flush_partial_writes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
