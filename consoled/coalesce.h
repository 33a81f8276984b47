/*
 * coalesce.h — when sccrypt-consoled pulls a protected session's output
 * (OUTPUT op): at once, or a little later so that a slow stream is relayed
 * in few, full records (output_coalesce_ms, sccrypt.conf(5)).
 *
 * Why: a guest's console driver signals per few hundred bytes (Xen's
 * hvc_xen per 256), the hv raises one OUTPUT event per session until dom0
 * pulls, and every pull is sealed into records padded to the next of four
 * sizes (PROTOCOL.md §5.1).  Pulled at once, a `cat` becomes hundreds of
 * small padded records: twice the bytes and ten times the wake-ups through
 * consoled, the shim, sshd and the network of full 4 KiB records.
 *
 * The rule (mosh's frame interval, Nagle's small-segment hold), with
 * I = the interval:
 *   pull at once when
 *     - coalescing is off (I = 0) or the session was never pulled;
 *     - client input was relayed to the hv less than I ago: the echo of
 *       what was typed and the answer to it are never held back;
 *     - the last pull is I or more ago: the first output after quiet;
 *     - the last pull left output in the hv (SC_OUT_F_MORE) or returned at
 *       least one full record (the fill): the producer is fast, records
 *       fill by themselves, and waiting would only hold it back;
 *   otherwise pull at (last pull + D), D = the time the rate seen by the
 *   last pull takes to fill one full record (or a quarter of the hv's
 *   history for the domain, if that is less: sc_coalesce_fill()), capped
 *   at I.  The rate is the last pull's bytes over the time since the pull
 *   before; after quiet (no pull in the I before it) over the time until
 *   output was pending again (the guest's next write: its pace).
 * So a session is held back at most I after its previous pull, a producer
 * of rate r at most one fill's worth (fill / r): the hv's history (64 KiB
 * by default, 16 records) fills because of the deferral only if a
 * producer speeds up sixteenfold (fourfold with a history of less than 16
 * KiB) within one D.  Times are in microseconds: a millisecond clock
 * cannot tell a fast producer (two writes 10 us apart read as 0 or 1 ms)
 * from a slow one.  Sizes are the ciphertext bytes the pulls returned, an
 * upper bound of the plaintext (padding): the rate is overestimated and D
 * errs short.  The caller's timer rounds the time to pull up to its tick.
 *
 * The decision is per session: deferring one session delays no other.
 * Pure functions of their arguments (no clock, no I/O): unit-tested by
 * tests/unit/test_coalesce.c.
 */
#ifndef SC_CONSOLED_COALESCE_H
#define SC_CONSOLED_COALESCE_H

#include <stdbool.h>
#include <stddef.h>

#include "core/wire.h"

/* A pull that returned this many ciphertext bytes carried a full record. */
#define SC_COALESCE_FULL	SC_RECORD_CT_MAX
#define SC_COALESCE_MS_DEFAULT	20
#define SC_COALESCE_MS_MAX	1000

/* What a session's past tells (all times in us, 0 = never). */
struct sc_coalesce {
	unsigned long long last_us;	/* the last pull that returned output */
	unsigned long long prev_us;	/* the one before it */
	size_t		last_bytes;	/* ciphertext bytes the last pull returned */
	bool		last_more;	/* it left output in the hv */
	unsigned long long input_us;	/* client input last relayed to the hv */
	unsigned long long want_us;	/* output first known pending since then */
};

enum sc_coalesce_why {
	SC_COALESCE_OFF = 0,	/* interval 0 */
	SC_COALESCE_INPUT,	/* client input relayed within the interval */
	SC_COALESCE_QUIET,	/* the last pull is an interval old, or none */
	SC_COALESCE_MORE,	/* the last pull left output in the hv */
	SC_COALESCE_FULL_REC,	/* the last pull returned a full record */
	SC_COALESCE_DUE,	/* the deferral has passed */
	SC_COALESCE_DEFER,	/* not now: at .at */
};

struct sc_coalesce_decision {
	bool		now;		/* pull now */
	unsigned long long at;		/* else: pull at this time, us (> the now given) */
	enum sc_coalesce_why why;
};

/*
 * Pull now (us), or when?  interval_ms 0 = never defer; fill = what a pull
 * should carry (sc_coalesce_fill(); 0 or more than SC_COALESCE_FULL:
 * SC_COALESCE_FULL).
 */
struct sc_coalesce_decision sc_coalesce_decide(const struct sc_coalesce *s,
	    unsigned long long now, unsigned interval_ms, size_t fill);
/*
 * The fill for a domain whose hv keeps history bytes of output (STATUS;
 * 0 = unknown): one full record, or a quarter of a smaller history, so
 * that the output held back never fills what the hv keeps for the writer
 * (the guest would wait) unless its rate quadruples within one deferral.
 */
size_t	sc_coalesce_fill(size_t history);
/* A pull at now (us) returned bytes of ciphertext; more = SC_OUT_F_MORE. */
void	sc_coalesce_pulled(struct sc_coalesce *s, unsigned long long now,
	    size_t bytes, bool more);
/* The hv has output for the session at now (us): kept until a pull. */
void	sc_coalesce_wanted(struct sc_coalesce *s, unsigned long long now);
/* Client input was relayed to the hv at now (us). */
void	sc_coalesce_input(struct sc_coalesce *s, unsigned long long now);
/* A word for the log. */
const char *sc_coalesce_why_str(enum sc_coalesce_why why);

#endif /* SC_CONSOLED_COALESCE_H */
