/*
 * coalesce.c — when to pull a protected session's output (see coalesce.h).
 */
#include "config.h"

#include "coalesce.h"

static struct sc_coalesce_decision
pull_now(enum sc_coalesce_why why)
{
	struct sc_coalesce_decision d = { true, 0, why };

	return d;
}

struct sc_coalesce_decision
sc_coalesce_decide(const struct sc_coalesce *s, unsigned long long now,
    unsigned interval_ms, size_t fill)
{
	struct sc_coalesce_decision d = { false, 0, SC_COALESCE_DEFER };
	unsigned long long iv = interval_ms, window, delay, want;

	if (iv == 0)
		return pull_now(SC_COALESCE_OFF);
	if (s->last_ms == 0)
		return pull_now(SC_COALESCE_QUIET);	/* never pulled yet */
	/* A clock that went back (it is monotonic: never) counts as quiet. */
	if (now < s->last_ms || (s->input_ms != 0 && now < s->input_ms))
		return pull_now(SC_COALESCE_QUIET);
	if (s->input_ms != 0 && now - s->input_ms < iv)
		return pull_now(SC_COALESCE_INPUT);
	if (now - s->last_ms >= iv)
		return pull_now(SC_COALESCE_QUIET);
	if (s->last_more)
		return pull_now(SC_COALESCE_MORE);
	if (fill == 0 || fill > SC_COALESCE_FULL)
		fill = SC_COALESCE_FULL;
	if (s->last_bytes >= fill)
		return pull_now(SC_COALESCE_FULL_REC);
	/*
	 * The rate: last_bytes over the time they took.  In a stream (the
	 * pull before was at most an interval earlier) that is the time since
	 * that pull.  After quiet, the last pull took what the guest wrote at
	 * once, and the guest wrote again by want_ms: one write per that gap.
	 * A time of 0 or 1 ms is below what the clock measures (0.01 ms
	 * across a tick reads as 1): the rate may be any multiple of the
	 * estimate, and a deferral could fill the hv's history while the
	 * guest waits for it: a fast producer, pulled at once.  From 2 ms
	 * on the estimate is at most half the rate.  D = fill / rate,
	 * rounded up, at most the interval.
	 */
	if (s->prev_ms != 0 && s->last_ms >= s->prev_ms && s->last_ms - s->prev_ms <= iv) {
		window = s->last_ms - s->prev_ms;
	} else {
		want = s->want_ms != 0 ? s->want_ms : now;
		window = want >= s->last_ms ? want - s->last_ms : iv;
	}
	if (window <= 1)
		return pull_now(SC_COALESCE_FAST);
	if (window > iv)
		window = iv;
	if (s->last_bytes == 0)
		delay = iv;
	else
		delay = (fill * window + s->last_bytes - 1) / s->last_bytes;
	if (delay > iv)
		delay = iv;
	d.at = s->last_ms + delay;
	if (d.at <= now)
		return pull_now(SC_COALESCE_DUE);
	return d;
}

size_t
sc_coalesce_fill(size_t history)
{
	if (history == 0 || history / 4 >= SC_COALESCE_FULL)
		return SC_COALESCE_FULL;
	return history / 4 > 0 ? history / 4 : 1;
}

void
sc_coalesce_pulled(struct sc_coalesce *s, unsigned long long now, size_t bytes,
    bool more)
{
	s->want_ms = 0;		/* what was pending has been asked for */
	if (bytes == 0)
		return;		/* an empty answer tells nothing of the rate */
	s->prev_ms = s->last_ms;
	s->last_ms = now;
	s->last_bytes = bytes;
	s->last_more = more;
}

void
sc_coalesce_wanted(struct sc_coalesce *s, unsigned long long now)
{
	if (s->want_ms == 0)
		s->want_ms = now;
}

void
sc_coalesce_input(struct sc_coalesce *s, unsigned long long now)
{
	s->input_ms = now;
}

const char *
sc_coalesce_why_str(enum sc_coalesce_why why)
{
	switch (why) {
	case SC_COALESCE_OFF:		return "off";
	case SC_COALESCE_INPUT:		return "input";
	case SC_COALESCE_QUIET:		return "quiet";
	case SC_COALESCE_MORE:		return "more";
	case SC_COALESCE_FULL_REC:	return "full";
	case SC_COALESCE_FAST:		return "fast";
	case SC_COALESCE_DUE:		return "due";
	case SC_COALESCE_DEFER:		return "defer";
	}
	return "?";
}
