/*
 * escape.h — the ssh-style escape processor of sccrypt-term.
 *
 * A pure state machine: it sees every byte the user types, in order, and
 * splits the stream into bytes for the console and escape commands.  It does
 * no I/O; callers pass a sink.  The escape character is recognised only at
 * the start of a line (the first byte of the session, or right after '\r'
 * or '\n' was sent to the console), like ssh(1):
 *
 *   ~.   disconnect             ~B   break; the next key is the SysRq key
 *   ~R   rekey                  ~#   session info
 *   ~?   help                   ~~   one literal '~'
 *   ~C   command line           ~^Z  suspend sccrypt-term
 *   ~W   window size: type `stty rows R cols C` for the guest
 *
 * Any other byte after the escape character is sent with the escape
 * character in front of it, so nothing the user types is lost.  After ~B
 * the next byte selects the SysRq key: '\r' or '\n' sends a plain break
 * (key 0), ESC (0x1b) cancels, any other byte is the SysRq key.
 */
#ifndef SCCRYPT_TERM_ESCAPE_H
#define SCCRYPT_TERM_ESCAPE_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#define ESC_NONE	(-1)	/* escape processing disabled (-e none) */
#define ESC_DEFAULT	'~'

enum esc_cmd {
	ESC_CMD_DISCONNECT = 1,
	ESC_CMD_BREAK,		/* arg = SysRq key, 0 for a plain break */
	ESC_CMD_BREAK_PENDING,	/* ~B seen: prompt for the SysRq key */
	ESC_CMD_BREAK_CANCEL,	/* ESC after ~B */
	ESC_CMD_REKEY,
	ESC_CMD_INFO,
	ESC_CMD_HELP,
	ESC_CMD_CMDLINE,
	ESC_CMD_SUSPEND,
	ESC_CMD_WINSIZE,
};

struct esc_sink {
	void	*ctx;
	/* Bytes for the console, in order.  Never called with len 0. */
	void	(*data)(void *ctx, const uint8_t *p, size_t len);
	void	(*cmd)(void *ctx, enum esc_cmd cmd, uint8_t arg);
};

enum esc_state {
	ESC_ST_TEXT = 0,	/* inside a line */
	ESC_ST_LINE_START,	/* at the start of a line */
	ESC_ST_GOT_ESC,		/* escape character seen at line start */
	ESC_ST_BREAK_KEY,	/* ~B seen, waiting for the SysRq key */
};

struct esc {
	int		esc_char;	/* 0..255, or ESC_NONE */
	enum esc_state	state;
};

void	esc_init(struct esc *e, int esc_char);
/*
 * Process len bytes of user input.  Returns false if processing stopped at a
 * disconnect command (the remaining input is dropped), true otherwise.
 */
bool	esc_feed(struct esc *e, const uint8_t *in, size_t len,
	    const struct esc_sink *sink);
/* Parse an -e argument: a single character, "^X" for a control character,
 * or "none".  Returns the escape char, ESC_NONE, or -2 on error. */
int	esc_parse_char(const char *arg);
/* The help text for ~?, with the current escape char, into out. */
void	esc_help(const struct esc *e, char *out, size_t outsz);

#endif /* SCCRYPT_TERM_ESCAPE_H */
