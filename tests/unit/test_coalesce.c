/*
 * test_coalesce — sccrypt-consoled's output coalescing decision
 * (consoled/coalesce.h, issue 16 "xenconsoled"): a table of cases, one per
 * rule, and two streams replayed through sc_coalesce_pulled(): a slow
 * stream is pulled in fewer, larger pulls; a fast one is never held back.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "coalesce.h"

#define T0	1000000ULL	/* a monotonic time far from 0 */
#define FULL	SC_COALESCE_FULL

struct tcase {
	const char	*name;
	struct sc_coalesce s;
	unsigned long long now;
	unsigned	iv;
	bool		now_;		/* expected: pull now */
	unsigned long long at;		/* expected time otherwise */
	enum sc_coalesce_why why;
	size_t		fill;		/* 0 = a full record */
};

/* { last_ms, prev_ms, last_bytes, last_more, input_ms, want_ms } */
static const struct tcase cases[] = {
	{ "off: interval 0 never defers", { T0, T0 - 5, 300, false, 0, 0 }, T0 + 1, 0,
	    true, 0, SC_COALESCE_OFF, 0 },
	{ "never pulled: at once", { 0, 0, 0, false, 0, 0 }, T0, 20,
	    true, 0, SC_COALESCE_QUIET, 0 },
	{ "first output after quiet (last pull an interval ago)",
	    { T0, T0 - 100, 300, false, 0, 0 }, T0 + 20, 20, true, 0, SC_COALESCE_QUIET, 0 },
	{ "input relayed just now: the echo at once",
	    { T0, T0 - 3, 80, false, T0 + 1, 0 }, T0 + 2, 20, true, 0, SC_COALESCE_INPUT, 0 },
	{ "input 19 ms ago, interval 20: still the answer to it",
	    { T0 + 5, T0 + 2, 80, false, T0, 0 }, T0 + 19, 20, true, 0, SC_COALESCE_INPUT, 0 },
	{ "input 20 ms ago: no longer counts, stream deferred",
	    { T0 + 15, T0 + 10, 300, false, T0, 0 }, T0 + 20, 20,
	    false, T0 + 15 + 20, SC_COALESCE_DEFER, 0 },
	{ "input before the last pull but within the interval",
	    { T0 + 2, T0 + 1, 300, false, T0 + 1, 0 }, T0 + 4, 20, true, 0, SC_COALESCE_INPUT, 0 },
	{ "MORE left in the hv: at once",
	    { T0, T0 - 1, 300, true, 0, 0 }, T0 + 1, 20, true, 0, SC_COALESCE_MORE, 0 },
	{ "a full record pulled: at once",
	    { T0, T0 - 1, FULL, false, 0, 0 }, T0 + 1, 20, true, 0, SC_COALESCE_FULL_REC, 0 },
	{ "several records, a full record's worth: at once",
	    { T0, T0 - 2, 4 * 1040, false, 0, 0 }, T0 + 1, 20, true, 0, SC_COALESCE_FULL_REC, 0 },
	{ "slow stream: 274 B per 5 ms needs 76 ms for a record, capped at 20",
	    { T0, T0 - 5, 274, false, 0, 0 }, T0 + 5, 20, false, T0 + 20, SC_COALESCE_DEFER, 0 },
	{ "faster: 1042 B in 2 ms fills a record in 8 ms (rounded up)",
	    { T0, T0 - 2, 1042, false, 0, 0 }, T0 + 1, 20, false, T0 + 8, SC_COALESCE_DEFER, 0 },
	{ "that deferral has passed: due",
	    { T0, T0 - 2, 1042, false, 0, 0 }, T0 + 8, 20, true, 0, SC_COALESCE_DUE, 0 },
	{ "pulled twice in the same ms: too fast to measure, at once",
	    { T0, T0, 2100, false, 0, 0 }, T0, 20, true, 0, SC_COALESCE_FAST, 0 },
	{ "pulls 1 ms apart: at once (0.01 ms across a tick reads 1)",
	    { T0, T0 - 1, 300, false, 0, 0 }, T0 + 1, 20, true, 0, SC_COALESCE_FAST, 0 },
	{ "pulls 2 ms apart: measured, 300 B / 2 ms fills a record in 28 ms, capped",
	    { T0, T0 - 2, 300, false, 0, 0 }, T0 + 1, 20, false, T0 + 20,
	    SC_COALESCE_DEFER, 0 },
	{ "after quiet, next write 6 ms later: 274 B / 6 ms, capped at 20",
	    { T0, T0 - 60000, 274, false, 0, T0 + 6 }, T0 + 6, 20, false, T0 + 20,
	    SC_COALESCE_DEFER, 0 },
	{ "after quiet, next write within 1 ms: too fast to measure, at once",
	    { T0, T0 - 60000, 1040, false, 0, T0 + 1 }, T0 + 1, 20, true, 0,
	    SC_COALESCE_FAST, 0 },
	{ "after quiet, next write 2 ms later: 1040 B / 2 ms fills a record in 8 ms",
	    { T0, T0 - 60000, 1040, false, 0, T0 + 2 }, T0 + 2, 20, false, T0 + 8,
	    SC_COALESCE_DEFER, 0 },
	{ "after quiet, the pace is when output was first pending, not now",
	    { T0, T0 - 60000, 1040, false, 0, T0 + 2 }, T0 + 5, 20, false, T0 + 8,
	    SC_COALESCE_DEFER, 0 },
	{ "after quiet, not yet marked pending: now is the pace",
	    { T0, T0 - 60000, 2100, false, 0, 0 }, T0 + 3, 20, false, T0 + 6,
	    SC_COALESCE_DEFER, 0 },
	{ "first pull ever (no prev): the pace of the next write",
	    { T0, 0, 274, false, 0, T0 + 5 }, T0 + 5, 20, false, T0 + 20, SC_COALESCE_DEFER, 0 },
	{ "pulls exactly an interval apart: a stream, rate over that interval",
	    { T0, T0 - 20, 2100, false, 0, T0 + 1 }, T0 + 1, 20, false, T0 + 20,
	    SC_COALESCE_DEFER, 0 },
	{ "larger interval: capped there",
	    { T0, T0 - 10, 82, false, 0, 0 }, T0 + 1, 200, false, T0 + 200, SC_COALESCE_DEFER, 0 },
	{ "larger interval, rate fills a record in 50 ms",
	    { T0, T0 - 50, FULL - 1, false, 0, 0 }, T0 + 1, 200, false, T0 + 51, SC_COALESCE_DEFER, 0 },
	{ "small history (fill 512): a pull of 600 B is full",
	    { T0, T0 - 5, 600, false, 0, 0 }, T0 + 1, 20, true, 0, SC_COALESCE_FULL_REC, 512 },
	{ "small history: 272 B / 5 ms fills 512 B in 10 ms",
	    { T0, T0 - 5, 272, false, 0, 0 }, T0 + 1, 20, false, T0 + 10,
	    SC_COALESCE_DEFER, 512 },
	{ "a fill above a record counts as a record",
	    { T0, T0 - 5, FULL, false, 0, 0 }, T0 + 1, 20, true, 0, SC_COALESCE_FULL_REC,
	    100000 },
	{ "a clock behind the last pull: quiet, at once",
	    { T0, T0 - 5, 274, false, 0, 0 }, T0 - 1, 20, true, 0, SC_COALESCE_QUIET, 0 },
	{ "a clock behind the last input: at once",
	    { T0, T0 - 5, 274, false, T0 + 5, 0 }, T0 + 1, 20, true, 0, SC_COALESCE_QUIET, 0 },
};

static void
test_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct tcase *t = &cases[i];
		struct sc_coalesce_decision d = sc_coalesce_decide(&t->s, t->now, t->iv, t->fill);

		if (d.now != t->now_ || d.why != t->why || (!d.now && d.at != t->at) ||
		    (!d.now && d.at <= t->now)) {
			print_error("case %zu \"%s\": got now=%d at=%llu why=%s, want "
			    "now=%d at=%llu why=%s\n", i, t->name, d.now, d.at,
			    sc_coalesce_why_str(d.why), t->now_, t->at,
			    sc_coalesce_why_str(t->why));
			fail();
		}
		/* Never held beyond one interval after the last pull. */
		if (!d.now)
			assert_true(d.at <= t->s.last_ms + t->iv);
	}
}

static void
test_pulled_and_input(void **state)
{
	struct sc_coalesce s = { 0 };

	(void)state;
	sc_coalesce_wanted(&s, T0);
	sc_coalesce_wanted(&s, T0 + 1);		/* the first time is kept */
	assert_int_equal(s.want_ms, T0);
	sc_coalesce_pulled(&s, T0, 0, false);	/* empty: no rate, but asked */
	assert_int_equal(s.last_ms, 0);
	assert_int_equal(s.want_ms, 0);
	sc_coalesce_pulled(&s, T0, 300, false);
	sc_coalesce_pulled(&s, T0 + 7, 1040, true);
	assert_int_equal(s.prev_ms, T0);
	assert_int_equal(s.last_ms, T0 + 7);
	assert_int_equal(s.last_bytes, 1040);
	assert_true(s.last_more);
	sc_coalesce_input(&s, T0 + 9);
	assert_int_equal(s.input_ms, T0 + 9);
	assert_string_equal(sc_coalesce_why_str(SC_COALESCE_DEFER), "defer");
	/* The fill: a record, or a quarter of a smaller history. */
	assert_int_equal(sc_coalesce_fill(0), FULL);
	assert_int_equal(sc_coalesce_fill(65536), FULL);
	assert_int_equal(sc_coalesce_fill(16384), 4096);
	assert_int_equal(sc_coalesce_fill(2048), 512);
	assert_int_equal(sc_coalesce_fill(3), 1);
}

/*
 * Replay a producer writing `chunk` bytes (padded as records of the sizes
 * a pull of that much would give) every `every` ms for `ms` ms, with the
 * hv raising an event at each write while none is pending, and count the
 * pulls.  Returns the pulls; *max_wait is the longest time a written byte
 * waited in the hv.
 */
static unsigned
replay(unsigned iv, unsigned chunk, unsigned every, unsigned ms,
    unsigned long long *max_wait)
{
	struct sc_coalesce s = { 0 };
	unsigned long long t, at = 0, oldest = 0;
	size_t pending = 0;
	unsigned pulls = 0;

	*max_wait = 0;
	for (t = T0; t < T0 + ms + 1000; t++) {
		bool event = false;
		if (t < T0 + ms && (t - T0) % every == 0) {
			if (pending == 0)
				oldest = t;
			pending += chunk;
			event = true;
		}
		if (pending == 0)
			continue;
		if (event || (at != 0 && t >= at)) {
			struct sc_coalesce_decision d;

			sc_coalesce_wanted(&s, t);
			d = sc_coalesce_decide(&s, t, iv, 0);
			if (!d.now) {
				at = d.at;
				continue;
			}
			at = 0;
			pulls++;
			if (t - oldest > *max_wait)
				*max_wait = t - oldest;
			/* the bytes a pull returns: records of at most 4096 B */
			sc_coalesce_pulled(&s, t, pending + 16 * (pending / 4096 + 1), false);
			pending = 0;
		}
	}
	return pulls;
}

static void
test_streams(void **state)
{
	unsigned long long w_off, w_on;
	unsigned off, on;

	(void)state;
	/* hvc_xen's pattern under TCG: 256 B every 6 ms for 3 s. */
	off = replay(0, 256, 6, 3000, &w_off);
	on = replay(20, 256, 6, 3000, &w_on);
	assert_int_equal(off, 500);
	assert_true(on * 3 <= off);		/* fewer, larger pulls */
	assert_true(w_on <= 20);		/* none waits beyond the interval */
	/* A fast producer: 4 KiB every ms; every pull is full, never deferred. */
	off = replay(0, 4096, 1, 1000, &w_off);
	on = replay(20, 4096, 1, 1000, &w_on);
	assert_int_equal(on, off);
	assert_int_equal(w_on, 0);
	/* 1 KiB every ms: faster than the ms clock measures, never held. */
	on = replay(20, 1024, 1, 1000, &w_on);
	assert_int_equal(w_on, 0);
	/* 1 KiB every 2 ms: held at most the few ms a record takes to fill,
	 * from the start of the stream on, in fewer pulls. */
	on = replay(20, 1024, 2, 1000, &w_on);
	off = replay(0, 1024, 2, 1000, &w_off);
	print_message("1 KiB / 2 ms: %u pulls on, %u off, longest wait %llu ms\n", on, off, w_on);
	assert_true(w_on <= 8);
	assert_true(on * 3 <= off * 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_pulled_and_input),
		cmocka_unit_test(test_streams),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
