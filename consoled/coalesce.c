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
	unsigned long long iv = (unsigned long long)interval_ms * 1000, window, delay, want;

	if (iv == 0)
		return pull_now(SC_COALESCE_OFF);
	if (s->last_us == 0)
		return pull_now(SC_COALESCE_QUIET);	/* never pulled yet */
	/* A clock that went back (it is monotonic: never) counts as quiet. */
	if (now < s->last_us || (s->input_us != 0 && now < s->input_us))
		return pull_now(SC_COALESCE_QUIET);
	if (s->input_us != 0 && now - s->input_us < iv)
		return pull_now(SC_COALESCE_INPUT);
	if (now - s->last_us >= iv)
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
	 * once, and the guest wrote again by want_us: one write per that gap.
	 * At least 1 us, at most the interval; D = fill / rate, rounded up,
	 * at most the interval.
	 */
	if (s->prev_us != 0 && s->last_us >= s->prev_us && s->last_us - s->prev_us <= iv) {
		window = s->last_us - s->prev_us;
	} else {
		want = s->want_us != 0 ? s->want_us : now;
		window = want >= s->last_us ? want - s->last_us : iv;
	}
	if (window > iv)
		window = iv;
	if (window == 0)
		window = 1;
	if (s->last_bytes == 0)
		delay = iv;
	else
		delay = (fill * window + s->last_bytes - 1) / s->last_bytes;
	if (delay > iv)
		delay = iv;
	d.at = s->last_us + delay;
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
	s->want_us = 0;		/* what was pending has been asked for */
	if (bytes == 0)
		return;		/* an empty answer tells nothing of the rate */
	s->prev_us = s->last_us;
	s->last_us = now;
	s->last_bytes = bytes;
	s->last_more = more;
}

void
sc_coalesce_wanted(struct sc_coalesce *s, unsigned long long now)
{
	if (s->want_us == 0)
		s->want_us = now;
}

void
sc_coalesce_input(struct sc_coalesce *s, unsigned long long now)
{
	s->input_us = now;
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
	case SC_COALESCE_DUE:		return "due";
	case SC_COALESCE_DEFER:		return "defer";
	}
	return "?";
}
