/*
 * screen.h — keep the guest's console output off the status line.
 *
 * With --status the bottom row of the user's terminal belongs to
 * sccrypt-term and the rows above are a scroll region for the guest.  Guest
 * output is passed through this filter, which follows the escape-sequence
 * structure (ECMA-48: ESC, CSI, OSC/DCS/APC/PM/SOS strings, UTF-8) without
 * emulating the screen, and:
 *
 *  - rewrites DECSTBM (CSI top;bottom r) so the guest's scroll region never
 *    includes the bottom row (a reset "CSI r" becomes 1..rows-1), and
 *    remembers the region the guest asked for;
 *  - clamps absolute row positioning (CUP "CSI r;c H", HVP "f", VPA "d") to
 *    rows-1;
 *  - flags a redraw after anything that may have erased or moved the status
 *    row: erase in display (ED, DECSED), DECALN (ESC # 8) and
 *    alternate-screen switches (CSI ? 47/1047/1049 h/l);
 *  - treats the resets RIS (ESC c), DECSTR (CSI ! p) and DECCOLM
 *    (CSI ? 3 h/l), which give the scroll region back to the whole screen
 *    and forget the saved cursor, as full resets: region and saved cursor
 *    forgotten, redraw flagged (the redraw sets the region again);
 *  - tracks whether the guest has a saved cursor outstanding (DECSC ESC 7 /
 *    SCOSC CSI s until ESC 8 / CSI u): the status line is drawn between its
 *    own save/restore, which would clobber the guest's.
 *
 * Every other byte passes through unchanged and in order.  Pure: no I/O, no
 * allocation; fuzzed (fuzz_term_screen) and unit-tested (test_term_screen).
 */
#ifndef SCCRYPT_TERM_SCREEN_H
#define SCCRYPT_TERM_SCREEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SCR_SEQ_MAX	64	/* longer CSI sequences pass through unchanged */

struct scrf {
	int		rows;		/* terminal rows; < 3: no rewriting */
	int		state;
	uint8_t		seq[SCR_SEQ_MAX];
	size_t		seq_len;
	bool		seq_overflow;
	bool		esc_held;	/* an ESC not yet passed on */
	int		utf8_left;	/* continuation bytes still expected */
	bool		redraw;		/* the status row may have been touched */
	bool		saved;		/* the guest has a saved cursor outstanding */
	int		top, bottom;	/* guest's scroll region as asked (0: default) */
};

typedef void (*scrf_emit_fn)(void *ctx, const uint8_t *p, size_t len);

void	scrf_init(struct scrf *s, int rows);
void	scrf_set_rows(struct scrf *s, int rows);
/* Filter guest output; the result goes to emit (possibly in several calls). */
void	scrf_filter(struct scrf *s, const uint8_t *in, size_t len, scrf_emit_fn emit,
	    void *ctx);
/* The terminal was resized: like every terminal, it reset the scroll
 * region, so the guest's region is forgotten (the whole area is used). */
void	scrf_forget_region(struct scrf *s);
/* Between sequences and characters: our own sequences may be written now. */
bool	scrf_idle(const struct scrf *s);
/* The status may be (re)drawn now without disturbing the guest. */
bool	scrf_can_draw(const struct scrf *s);
/* The guest's scroll region clamped to exclude the bottom row, 0-based
 * inclusive rows (for terminfo's csr). */
void	scrf_region(const struct scrf *s, int *top0, int *bottom0);

#endif /* SCCRYPT_TERM_SCREEN_H */
