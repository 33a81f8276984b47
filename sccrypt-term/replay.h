/*
 * replay.h — replayed console history must not make the user's terminal
 * type into the guest (issue 18 item 1).
 *
 * History replayed on attach (--history) is old output: the queries in it
 * (an editor asking for the cursor position or the terminal's identity when
 * it started) were answered long ago.  Shown again they would make the
 * user's terminal answer now, and the answers would reach the guest as the
 * user's keystrokes.  This filter removes, from replayed output only, the
 * sequences that make a terminal answer, and passes everything else
 * unchanged and in order:
 *
 *  - ENQ (answerback) and DECID (ESC Z);
 *  - CSI ... c (DA1/DA2/DA3), CSI ... n (DSR), CSI ... $ p (DECRQM),
 *    CSI > ... q (XTVERSION), CSI ? ... u (keyboard protocol query),
 *    CSI ? ... m (XTQMODKEYS), CSI ... x (DECREQTPARM), CSI ... * y
 *    (DECRQCRA), CSI ... $ w (DECRQPSR), CSI 11/13-16/18-21 ... t
 *    (window reports);
 *  - DCS $ q (DECRQSS) and DCS + q (XTGETTCAP) strings;
 *  - OSC strings with a "?" in them (colour and clipboard queries; a title
 *    with a question mark is lost in the replay, nothing else);
 *  - APC, PM and SOS strings (kitty graphics queries among them).
 *
 * A CSI longer than RPLF_SEQ_MAX, and the part of an OSC or DCS beyond
 * RPLF_STR_MAX, pass through unchanged (no terminal query is that long).
 * The output is the same for any chunking.  Pure: no I/O, no allocation;
 * fuzzed (fuzz_term_screen) and unit-tested (test_term_screen).
 */
#ifndef SCCRYPT_TERM_REPLAY_H
#define SCCRYPT_TERM_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RPLF_SEQ_MAX	64	/* CSI sequences held to be classified */
#define RPLF_STR_MAX	256	/* OSC/DCS prefix held to be classified */

typedef void (*rplf_emit_fn)(void *ctx, const uint8_t *p, size_t len);

struct rplf {
	int		state;
	uint8_t		buf[RPLF_STR_MAX];
	size_t		len;
	bool		passing;	/* the rest of this sequence goes through */
	bool		dropping;	/* the rest of this sequence is dropped */
};

void	rplf_init(struct rplf *f);
void	rplf_filter(struct rplf *f, const uint8_t *in, size_t len,
	    rplf_emit_fn emit, void *ctx);
/* The replay is over: a sequence it left unfinished is dropped. */
void	rplf_end(struct rplf *f);

#endif /* SCCRYPT_TERM_REPLAY_H */
