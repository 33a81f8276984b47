/*
 * cleartext.h — show dom0's clear text (everything before the handshake
 * completes) so that it can neither drive the user's terminal nor pass for
 * sccrypt-term's own output.
 *
 * Until the encrypted session is open, every byte on the screen that came
 * from the transport was written by dom0 (or whoever sits on the path): it
 * is unauthenticated.  This filter turns it into inert, marked text:
 *
 *  - no ESC, CSI, OSC, DCS, C1 (8-bit or UTF-8 encoded) or other control
 *    reaches the terminal: ESC and C0 controls become "^[", "^H" ...; DEL
 *    becomes "^?"; bytes that are not valid UTF-8 and C1 characters become
 *    "\xNN"; TAB becomes spaces;
 *  - CR, LF and CR LF each end the line; the filter writes the line end
 *    itself (CR LF), so dom0 cannot return to the start of a line;
 *  - every line starts with a marker drawn by the caller (mark callback:
 *    sccrypt-term draws it in reverse video, which the filtered text can
 *    never produce), so no text from dom0 starts a row of the screen;
 *  - lines are broken before the terminal would wrap them (a non-ASCII
 *    character counts as two columns, so the filter breaks early rather
 *    than late), so a long line cannot put dom0's text at the start of a
 *    row either.
 *
 * The output is the same for any chunking of the input.  Pure: no I/O, no
 * allocation; fuzzed (fuzz_term_screen) and unit-tested (test_term_screen).
 */
#ifndef SCCRYPT_TERM_CLEARTEXT_H
#define SCCRYPT_TERM_CLEARTEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CLRF_COLS_DEFAULT	80	/* when the terminal width is unknown */
#define CLRF_COLS_MIN		20	/* narrower terminals: as if this wide */
#define CLRF_TAB		8

typedef void (*clrf_emit_fn)(void *ctx, const uint8_t *p, size_t len);

struct clrf {
	int		cols;		/* terminal width */
	int		mark_cols;	/* width of the marker the caller draws */
	int		col;		/* columns used on the current line */
	bool		bol;		/* at the start of a line: marker due */
	bool		after_cr;	/* a CR ended the line: an LF is its pair */
	uint8_t		u8[4];		/* a UTF-8 sequence being collected */
	int		u8_len, u8_want;
};

void	clrf_init(struct clrf *c, int cols, int mark_cols);
/* The terminal width changed (cols <= 0: unknown). */
void	clrf_set_cols(struct clrf *c, int cols);
/* Something else wrote to the terminal and left the cursor at the start
 * of a line: the next text starts a new, marked line. */
void	clrf_line_start(struct clrf *c);
/*
 * Filter clear text.  emit gets the inert text and line ends; mark is
 * called where a marker of c->mark_cols columns must be drawn (at the
 * start of every line that has text).
 */
void	clrf_filter(struct clrf *c, const uint8_t *in, size_t len,
	    clrf_emit_fn emit, clrf_emit_fn mark, void *ctx);
/* A partial UTF-8 sequence held at the end is shown as "\xNN" now. */
void	clrf_flush(struct clrf *c, clrf_emit_fn emit, clrf_emit_fn mark,
	    void *ctx);

#endif /* SCCRYPT_TERM_CLEARTEXT_H */
