/*
 * sched.c — the relay's time and scheduling (see consoled.h, "scheduling"):
 * the ready list, the changed/touched lists for the daemon, the timer heap
 * and the per-client input budget.
 */
#include "config.h"

#include "core/buf.h"
#include "io.h"
#include "relay_int.h"

unsigned long long
cd_now_ms(struct sc_cd *cd)
{
	if (cd->t_fixed)
		return cd->t_now;
	return cd->now != NULL ? cd->now() : sc_now_ms();
}

/*
 * Microseconds, for output coalescing only (coalesce.h: a rate needs a finer
 * clock than the timers): read each time, not once per loop iteration, from
 * the clock sc_now_ms() reads (sc_now_us()), so a timer due at ms t finds at
 * least t * 1000.  A substituted clock (cd->now: tests, the fuzzer) counts
 * in whole ms.
 */
unsigned long long
cd_now_us(struct sc_cd *cd)
{
	return cd->now != NULL ? cd->now() * 1000 : sc_now_us();
}

void
sc_cd_set_time(struct sc_cd *cd, unsigned long long t)
{
	cd->t_now = t;
	cd->t_fixed = true;
}

/* ---- scheduling (see consoled.h) ----------------------------------------- */

/* c's timers or wanted I/O may have changed: re-key and tell the daemon. */
void
cd_touch(struct sc_cd *cd, struct sc_cd_client *c)
{
	if (!c->on_touched) {
		TAILQ_INSERT_TAIL(&cd->touched, c, tch_link);
		c->on_touched = true;
	}
	if (!c->on_changed) {
		TAILQ_INSERT_TAIL(&cd->changed, c, chg_link);
		c->on_changed = true;
	}
}

/* cd_progress() may advance c: run it at the next sc_cd_service(). */
void
cd_make_ready(struct sc_cd *cd, struct sc_cd_client *c)
{
	cd_touch(cd, c);
	if (!c->on_ready && !c->dead) {
		TAILQ_INSERT_TAIL(&cd->ready, c, rdy_link);
		c->on_ready = true;
	}
}

void
cd_set_dead(struct sc_cd *cd, struct sc_cd_client *c)
{
	c->dead = true;
	cd_touch(cd, c);
}

/* An unprotected domain has (or may have) plaintext output to drain. */
void
cd_raw_ready(struct sc_cd *cd, struct sc_cd_domain *d)
{
	d->raw_want = true;
	if (!d->raw_queued) {
		TAILQ_INSERT_TAIL(&cd->rawq, d, raw_link);
		d->raw_queued = true;
	}
}

void
cd_raw_unqueue(struct sc_cd *cd, struct sc_cd_domain *d)
{
	if (d->raw_queued) {
		TAILQ_REMOVE(&cd->rawq, d, raw_link);
		d->raw_queued = false;
	}
}

void
sc_cd_client_changed(struct sc_cd *cd, struct sc_cd_client *c)
{
	cd_touch(cd, c);
}

struct sc_cd_client *
sc_cd_next_changed(struct sc_cd *cd)
{
	struct sc_cd_client *c = TAILQ_FIRST(&cd->changed);

	if (c != NULL) {
		TAILQ_REMOVE(&cd->changed, c, chg_link);
		c->on_changed = false;
	}
	return c;
}

bool
sc_cd_has_work(const struct sc_cd *cd)
{
	return cd->bk_up && (!TAILQ_EMPTY(&cd->ready) || !TAILQ_EMPTY(&cd->rawq));
}

/*
 * The timer heap: a binary min-heap of clients on tkey, each client at most
 * once (c->hidx), so it never holds more than nclients entries.
 */
static void
heap_set(struct sc_cd *cd, size_t i, struct sc_cd_client *c)
{
	cd->heap[i] = c;
	c->hidx = i;
}

static void
heap_up(struct sc_cd *cd, size_t i)
{
	struct sc_cd_client *c = cd->heap[i];
	size_t p;

	while (i > 0) {
		p = (i - 1) / 2;
		if (cd->heap[p]->tkey <= c->tkey)
			break;
		heap_set(cd, i, cd->heap[p]);
		i = p;
	}
	heap_set(cd, i, c);
}

static void
heap_down(struct sc_cd *cd, size_t i)
{
	struct sc_cd_client *c = cd->heap[i];
	size_t l, m;

	for (;;) {
		l = 2 * i + 1;
		if (l >= cd->heap_len)
			break;
		m = l;
		if (l + 1 < cd->heap_len && cd->heap[l + 1]->tkey < cd->heap[l]->tkey)
			m = l + 1;
		if (cd->heap[m]->tkey >= c->tkey)
			break;
		heap_set(cd, i, cd->heap[m]);
		i = m;
	}
	heap_set(cd, i, c);
}

void
cd_heap_remove(struct sc_cd *cd, struct sc_cd_client *c)
{
	struct sc_cd_client *last;
	size_t i = c->hidx;

	if (i == SC_CD_NO_HEAP)
		return;
	c->hidx = SC_CD_NO_HEAP;
	last = cd->heap[--cd->heap_len];
	if (i < cd->heap_len) {
		heap_set(cd, i, last);
		heap_up(cd, i);
		heap_down(cd, last->hidx);
	}
}

/* Key c at key (0: no timer).  Room was reserved by sc_cd_client_new(). */
static void
heap_key(struct sc_cd *cd, struct sc_cd_client *c, unsigned long long key)
{
	unsigned long long old = c->tkey;

	if (key == 0) {
		cd_heap_remove(cd, c);
		return;
	}
	c->tkey = key;
	if (c->hidx == SC_CD_NO_HEAP) {
		heap_set(cd, cd->heap_len++, c);
		heap_up(cd, c->hidx);
	} else if (key < old) {
		heap_up(cd, c->hidx);
	} else if (key > old) {
		heap_down(cd, c->hidx);
	}
}

/*
 * guest_output_rate: an unprotected domain nobody watches is drained into
 * its backlog at most this fast (as xenconsoled rate-limits a guest), so a
 * guest that keeps its ring full and signals in a loop costs dom0 a
 * bounded share of a CPU; beyond it the guest waits for its ring.  The
 * bucket holds 200 ms' worth (at least two chunks).  A domain out of
 * budget keeps raw_want and is queued again by cd_raw_wakeups().
 */
size_t
cd_raw_budget(struct sc_cd *cd, struct sc_cd_domain *d, size_t want)
{
	unsigned long long t = cd_now_ms(cd), k;
	double rate = (double)cd->conf->guest_output_rate, burst;

	if (cd->conf->guest_output_rate == 0)
		return want;
	burst = SC_MAX(rate / 5.0, 2.0 * RAW_CHUNK_MIN);
	if (t > d->raw_tokens_ms) {
		d->raw_tokens += (double)(t - d->raw_tokens_ms) * rate / 1000.0;
		if (d->raw_tokens > burst || d->raw_tokens_ms == 0)
			d->raw_tokens = burst;
		d->raw_tokens_ms = t;
	}
	if (d->raw_tokens >= (double)RAW_CHUNK_MIN)
		return SC_MIN(want, (size_t)d->raw_tokens);
	k = t + 1 + (unsigned long long)(((double)RAW_CHUNK_MIN - d->raw_tokens) *
	    1000.0 / rate);
	d->raw_wait = k;
	if (cd->raw_wait_min == 0 || k < cd->raw_wait_min)
		cd->raw_wait_min = k;
	return 0;
}

void
cd_raw_spent(struct sc_cd *cd, struct sc_cd_domain *d, size_t n)
{
	if (cd->conf->guest_output_rate != 0)
		d->raw_tokens -= (double)n;
}

/* Queue the domains whose budget is due at t; the next due time (0: none). */
unsigned long long
cd_raw_wakeups(struct sc_cd *cd, unsigned long long t)
{
	size_t i;

	if (cd->raw_wait_min == 0 || t < cd->raw_wait_min)
		return cd->raw_wait_min;
	cd->raw_wait_min = 0;
	for (i = 0; i < cd->ndoms; i++) {
		struct sc_cd_domain *d = &cd->doms[i];

		if (d->raw_wait == 0)
			continue;
		if (d->raw_wait <= t) {
			d->raw_wait = 0;
			if (d->raw_want)
				cd_raw_ready(cd, d);
		} else if (cd->raw_wait_min == 0 || d->raw_wait < cd->raw_wait_min) {
			cd->raw_wait_min = d->raw_wait;
		}
	}
	return cd->raw_wait_min;
}

/* Refill c's input-rate bucket up to t. */
void
cd_refill(struct sc_cd *cd, struct sc_cd_client *c, unsigned long long t)
{
	double burst;

	if (cd->conf->input_rate == 0 || t <= c->tokens_ms)
		return;
	burst = SC_MAX((double)cd->conf->input_rate, (double)SC_CD_IN_MAX);
	c->tokens += (double)(t - c->tokens_ms) * (double)cd->conf->input_rate / 1000.0;
	if (c->tokens > burst)
		c->tokens = burst;
	c->tokens_ms = t;
}

/*
 * c's earliest timer at time t: its deadline, the end of its stall grace
 * (output pending and not drained since stall_since), the INPUT retry of
 * blocked input, the deferred OUTPUT pull, the refill of its input-rate
 * bucket to one byte.  0 = none.
 */
static unsigned long long
client_timer(struct sc_cd *cd, struct sc_cd_client *c, unsigned long long t)
{
	unsigned long long key = 0, k;

	if (c->dead)
		return 0;
	if (sc_buf_avail(&c->out) > 0) {
		if (c->stall_since == 0)
			c->stall_since = t;
		key = c->stall_since + (unsigned long long)cd->conf->stall_timeout * 1000;
	}
	if (c->deadline != 0 && (key == 0 || c->deadline < key))
		key = c->deadline;
	if (c->protect_at != 0 && (key == 0 || c->protect_at < key))
		key = c->protect_at;
	if (c->pull_at != 0 && (key == 0 || c->pull_at < key))
		key = c->pull_at;
	/* An INPUT_SPACE event may have unblocked c already: no retry then. */
	if (c->input_blocked && c->retry_at != 0 && (key == 0 || c->retry_at < key))
		key = c->retry_at;
	if (cd->conf->input_rate > 0 && !c->rd_eof && c->state != SC_CD_REQ &&
	    c->state != SC_CD_CLOSING) {
		cd_refill(cd, c, t);
		if (c->tokens < 1.0) {
			k = t + 1 + (unsigned long long)((1.0 - c->tokens) * 1000.0 /
			    (double)cd->conf->input_rate);
			if (key == 0 || k < key)
				key = k;
		}
	}
	return key;
}

/* Re-key the timers of every touched client. */
void
cd_settle(struct sc_cd *cd)
{
	struct sc_cd_client *c;
	unsigned long long t = cd_now_ms(cd);

	while ((c = TAILQ_FIRST(&cd->touched)) != NULL) {
		TAILQ_REMOVE(&cd->touched, c, tch_link);
		c->on_touched = false;
		heap_key(cd, c, client_timer(cd, c, t));
	}
}

