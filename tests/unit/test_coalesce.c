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

#define T0	1000000000ULL	/* a monotonic time (us) far from 0 */
#define MS(x)	((unsigned long long)(x) * 1000)
#define FULL	SC_COALESCE_FULL

struct tcase {
	const char	*name;
	struct sc_coalesce s;
	unsigned long long now;
	unsigned	iv;		/* ms */
	bool		now_;		/* expected: pull now */
	unsigned long long at;		/* expected time otherwise */
	enum sc_coalesce_why why;
	size_t		fill;		/* 0 = a full record */
};

/*
 * Times in us.  { last_us, prev_us, last_bytes, last_more, input_us,
 * want_us }.  D = ceil(fill * window / last_bytes), at most the interval.
 */
static const struct tcase cases[] = {
	{ "off: interval 0 never defers", { T0, T0 - MS(5), 300, false, 0, 0 },
	    T0 + MS(1), 0, true, 0, SC_COALESCE_OFF, 0 },
	{ "never pulled: at once", { 0, 0, 0, false, 0, 0 }, T0, 20,
	    true, 0, SC_COALESCE_QUIET, 0 },
	{ "first output after quiet (last pull an interval ago)",
	    { T0, T0 - MS(100), 300, false, 0, 0 }, T0 + MS(20), 20,
	    true, 0, SC_COALESCE_QUIET, 0 },
	{ "input relayed just now: the echo at once",
	    { T0, T0 - MS(3), 80, false, T0 + MS(1), 0 }, T0 + MS(1) + 300, 20,
	    true, 0, SC_COALESCE_INPUT, 0 },
	{ "input 19.999 ms ago, interval 20: still the answer to it",
	    { T0 + MS(5), T0 + MS(2), 80, false, T0, 0 }, T0 + MS(20) - 1, 20,
	    true, 0, SC_COALESCE_INPUT, 0 },
	{ "input 20 ms ago: no longer counts, stream deferred",
	    { T0 + MS(15), T0 + MS(10), 300, false, T0, 0 }, T0 + MS(20), 20,
	    false, T0 + MS(35), SC_COALESCE_DEFER, 0 },
	{ "input before the last pull but within the interval",
	    { T0 + MS(2), T0 + MS(1), 300, false, T0 + MS(1), 0 }, T0 + MS(4), 20,
	    true, 0, SC_COALESCE_INPUT, 0 },
	{ "MORE left in the hv: at once",
	    { T0, T0 - MS(1), 300, true, 0, 0 }, T0 + MS(1), 20,
	    true, 0, SC_COALESCE_MORE, 0 },
	{ "a full record pulled: at once",
	    { T0, T0 - MS(1), FULL, false, 0, 0 }, T0 + MS(1), 20,
	    true, 0, SC_COALESCE_FULL_REC, 0 },
	{ "several records, a full record's worth: at once",
	    { T0, T0 - MS(2), 4 * 1040, false, 0, 0 }, T0 + MS(1), 20,
	    true, 0, SC_COALESCE_FULL_REC, 0 },
	{ "slow stream: 274 B per 5 ms needs 75 ms for a record, capped at 20",
	    { T0, T0 - MS(5), 274, false, 0, 0 }, T0 + MS(5), 20,
	    false, T0 + MS(20), SC_COALESCE_DEFER, 0 },
	{ "faster: 1042 B in 2 ms fills a record in 7899 us (rounded up)",
	    { T0, T0 - MS(2), 1042, false, 0, 0 }, T0 + MS(1), 20,
	    false, T0 + 7899, SC_COALESCE_DEFER, 0 },
	{ "that deferral has passed: due",
	    { T0, T0 - MS(2), 1042, false, 0, 0 }, T0 + 7899, 20,
	    true, 0, SC_COALESCE_DUE, 0 },
	{ "a fast producer: 2100 B 10 us after the pull before, held 20 us",
	    { T0, T0 - 10, 2100, false, 0, 0 }, T0 + 5, 20,
	    false, T0 + 20, SC_COALESCE_DEFER, 0 },
	{ "pulled twice in the same us: the window counts as 1 us",
	    { T0, T0, 2100, false, 0, 0 }, T0, 20, false, T0 + 2, SC_COALESCE_DEFER, 0 },
	{ "after quiet, next write 6 ms later: 274 B / 6 ms, capped at 20",
	    { T0, T0 - MS(60000), 274, false, 0, T0 + MS(6) }, T0 + MS(6), 20,
	    false, T0 + MS(20), SC_COALESCE_DEFER, 0 },
	{ "after quiet, next write 100 us later: 1040 B / 100 us fills a record in 396 us",
	    { T0, T0 - MS(60000), 1040, false, 0, T0 + 100 }, T0 + 100, 20,
	    false, T0 + 396, SC_COALESCE_DEFER, 0 },
	{ "after quiet, the pace is when output was first pending, not now",
	    { T0, T0 - MS(60000), 1040, false, 0, T0 + 100 }, T0 + 300, 20,
	    false, T0 + 396, SC_COALESCE_DEFER, 0 },
	{ "after quiet, not yet marked pending: now is the pace",
	    { T0, T0 - MS(60000), 2100, false, 0, 0 }, T0 + MS(3), 20,
	    false, T0 + 5879, SC_COALESCE_DEFER, 0 },
	{ "first pull ever (no prev): the pace of the next write",
	    { T0, 0, 274, false, 0, T0 + MS(5) }, T0 + MS(5), 20,
	    false, T0 + MS(20), SC_COALESCE_DEFER, 0 },
	{ "pulls exactly an interval apart: a stream, rate over that interval",
	    { T0, T0 - MS(20), 2100, false, 0, T0 + 100 }, T0 + 100, 20,
	    false, T0 + MS(20), SC_COALESCE_DEFER, 0 },
	{ "larger interval: capped there",
	    { T0, T0 - MS(10), 82, false, 0, 0 }, T0 + MS(1), 200,
	    false, T0 + MS(200), SC_COALESCE_DEFER, 0 },
	{ "larger interval, rate fills a record in 50.013 ms",
	    { T0, T0 - MS(50), FULL - 1, false, 0, 0 }, T0 + MS(1), 200,
	    false, T0 + 50013, SC_COALESCE_DEFER, 0 },
	{ "small history (fill 512): a pull of 600 B is full",
	    { T0, T0 - MS(5), 600, false, 0, 0 }, T0 + MS(1), 20,
	    true, 0, SC_COALESCE_FULL_REC, 512 },
	{ "small history: 272 B / 5 ms fills 512 B in 9412 us",
	    { T0, T0 - MS(5), 272, false, 0, 0 }, T0 + MS(1), 20,
	    false, T0 + 9412, SC_COALESCE_DEFER, 512 },
	{ "a fill above a record counts as a record",
	    { T0, T0 - MS(5), FULL, false, 0, 0 }, T0 + MS(1), 20,
	    true, 0, SC_COALESCE_FULL_REC, 100000 },
	{ "a clock behind the last pull: quiet, at once",
	    { T0, T0 - MS(5), 274, false, 0, 0 }, T0 - 1, 20,
	    true, 0, SC_COALESCE_QUIET, 0 },
	{ "a clock behind the last input: at once",
	    { T0, T0 - MS(5), 274, false, T0 + MS(5), 0 }, T0 + MS(1), 20,
	    true, 0, SC_COALESCE_QUIET, 0 },
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
			assert_true(d.at <= t->s.last_us + MS(t->iv));
	}
}

static void
test_pulled_and_input(void **state)
{
	struct sc_coalesce s = { 0 };

	(void)state;
	sc_coalesce_wanted(&s, T0);
	sc_coalesce_wanted(&s, T0 + 1);		/* the first time is kept */
	assert_int_equal(s.want_us, T0);
	sc_coalesce_pulled(&s, T0, 0, false);	/* empty: no rate, but asked */
	assert_int_equal(s.last_us, 0);
	assert_int_equal(s.want_us, 0);
	sc_coalesce_pulled(&s, T0, 300, false);
	sc_coalesce_pulled(&s, T0 + 7, 1040, true);
	assert_int_equal(s.prev_us, T0);
	assert_int_equal(s.last_us, T0 + 7);
	assert_int_equal(s.last_bytes, 1040);
	assert_true(s.last_more);
	sc_coalesce_input(&s, T0 + 9);
	assert_int_equal(s.input_us, T0 + 9);
	assert_string_equal(sc_coalesce_why_str(SC_COALESCE_DEFER), "defer");
	/* The fill: a record, or a quarter of a smaller history. */
	assert_int_equal(sc_coalesce_fill(0), FULL);
	assert_int_equal(sc_coalesce_fill(65536), FULL);
	assert_int_equal(sc_coalesce_fill(16384), 4096);
	assert_int_equal(sc_coalesce_fill(2048), 512);
	assert_int_equal(sc_coalesce_fill(3), 1);
}

struct replay {
	unsigned	pulls;
	unsigned long long max_wait;	/* us a written byte waited in the hv */
	size_t		max_pending;	/* bytes the hv held at most */
};

/*
 * Replay a producer writing `chunk` bytes every `every` us for `len` us
 * (and 2 more bytes `gap` us after each, if gap is not 0),
 * the hv raising an event at each write (consoled acting on it at once),
 * a deferred pull firing at the first whole ms at or after its time (the
 * daemon's timers), in 10 us steps.  A pull returns what is pending, as
 * records of at most 4096 B (16 B of tag each).
 */
static struct replay
replay2(unsigned iv, size_t chunk, unsigned every, unsigned len, unsigned gap)
{
	struct sc_coalesce s = { 0 };
	struct replay r = { 0, 0, 0 };
	unsigned long long t, at = 0, oldest = 0;
	size_t pending = 0;

	for (t = T0; t < T0 + len + MS(1000); t += 10) {
		bool event = false;

		if (t < T0 + len && ((t - T0) % every == 0 ||
		    (gap != 0 && (t - T0) % every == gap))) {
			if (pending == 0)
				oldest = t;
			pending += (t - T0) % every == 0 ? chunk : 2;
			event = true;
			if (pending > r.max_pending)
				r.max_pending = pending;
		}
		if (pending == 0)
			continue;
		if (event || (at != 0 && t >= (at + 999) / 1000 * 1000)) {
			struct sc_coalesce_decision d;

			sc_coalesce_wanted(&s, t);
			d = sc_coalesce_decide(&s, t, iv, 0);
			if (!d.now) {
				assert_true(d.at > t);
				at = d.at;
				continue;
			}
			at = 0;
			r.pulls++;
			if (t - oldest > r.max_wait)
				r.max_wait = t - oldest;
			sc_coalesce_pulled(&s, t, pending + 16 * (pending / 4096 + 1), false);
			pending = 0;
		}
	}
	return r;
}

static struct replay
replay(unsigned iv, size_t chunk, unsigned every, unsigned len)
{
	return replay2(iv, chunk, every, len, 0);
}

static void
test_streams(void **state)
{
	struct replay off, on;

	(void)state;
	/* hvc_xen's pattern under TCG: 256 B every 6 ms for 3 s. */
	off = replay(0, 256, MS(6), MS(3000));
	on = replay(20, 256, MS(6), MS(3000));
	print_message("256 B / 6 ms: %u pulls on, %u off\n", on.pulls, off.pulls);
	assert_int_equal(off.pulls, 500);
	assert_true(on.pulls * 3 <= off.pulls);		/* fewer, larger pulls */
	assert_true(on.max_wait <= MS(20));	/* none waits beyond the interval */
	/* 4 KiB every ms: every pull is full, never deferred. */
	off = replay(0, 4096, MS(1), MS(1000));
	on = replay(20, 4096, MS(1), MS(1000));
	assert_int_equal(on.pulls, off.pulls);
	assert_int_equal(on.max_wait, 0);
	/* 20 MB/s (2 KiB every 100 us): held less than the ms timer's tick
	 * plus the first record, far from filling a 64 KiB history. */
	on = replay(20, 2048, 100, MS(1000));
	print_message("2 KiB / 100 us: %u pulls, longest wait %llu us, most held %zu B\n",
	    on.pulls, on.max_wait, on.max_pending);
	assert_true(on.max_wait <= MS(1));
	assert_true(on.max_pending <= 65536 / 2);
	/* 1 KiB every 1 or 2 ms: held at most the few ms a record takes to
	 * fill, from the start of the stream on, in fewer pulls. */
	on = replay(20, 1024, MS(1), MS(1000));
	off = replay(0, 1024, MS(1), MS(1000));
	print_message("1 KiB / ms: %u pulls on, %u off, longest wait %llu us\n",
	    on.pulls, off.pulls, on.max_wait);
	assert_true(on.max_wait <= MS(4));
	assert_true(on.pulls * 2 <= off.pulls);
	on = replay(20, 1024, MS(2), MS(1000));
	off = replay(0, 1024, MS(2), MS(1000));
	print_message("1 KiB / 2 ms: %u pulls on, %u off, longest wait %llu us\n",
	    on.pulls, off.pulls, on.max_wait);
	assert_true(on.max_wait <= MS(8));
	assert_true(on.pulls * 3 <= off.pulls * 2);
	/* Writes in pairs (a line, then its newline 100 us later) every 5
	 * ms: the pair does not make the stream look fast. */
	on = replay2(20, 130, MS(5), MS(1000), 100);
	off = replay2(0, 130, MS(5), MS(1000), 100);
	print_message("130 B + 2 B 100 us later / 5 ms: %u pulls on, %u off\n",
	    on.pulls, off.pulls);
	assert_true(on.pulls * 3 <= off.pulls);
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
