/*
 * term.h — the user's local terminal: raw mode, restoring it on every exit
 * path, signals, notices and the optional status line.
 *
 * One terminal per process (signal handlers need a global).  Restoring is
 * async-signal-safe: termios saved at tty_init, reset strings prepared in
 * advance, written with write(2).
 */
#ifndef SCCRYPT_TERM_TERM_H
#define SCCRYPT_TERM_TERM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <termios.h>
#include <sys/ioctl.h>

/* Flags set by signal handlers; the loop polls tty_sigfd(). */
#define TTY_SIG_TERM	0x01	/* SIGTERM, SIGHUP, SIGQUIT */
#define TTY_SIG_WINCH	0x02
#define TTY_SIG_CHLD	0x04
#define TTY_SIG_INT	0x08	/* SIGINT: ends the session, but see below */

/*
 * Use in_fd/out_fd as the user's terminal (either may be a non-tty: then
 * raw mode and the status line are no-ops).  Installs signal handlers and an
 * atexit restore.  Returns 0 or SC_ERR_*.
 */
int	tty_init(int in_fd, int out_fd) __attribute__((warn_unused_result));
int	tty_in(void);
int	tty_out(void);
bool	tty_is_tty(void);
const struct termios *tty_saved(void);	/* NULL if not a tty */
int	tty_winsize(struct winsize *ws);

int	tty_raw(void);
/* Back to the saved mode (idempotent, async-signal-safe). */
void	tty_restore(void);
bool	tty_is_raw(void);

/* Read end of the self-pipe that becomes readable when a signal arrives. */
int	tty_sigfd(void);
/* Fetch and clear the pending TTY_SIG_* flags (drains the pipe). */
unsigned tty_take_signals(void);
/*
 * Arm (why != NULL) or disarm (NULL) the abort of a blocking step: while
 * armed, SIGINT, SIGQUIT, SIGTERM and SIGHUP restore the terminal, print
 * "sccrypt-term: interrupted WHY" and exit 128 + the signal at once.  For
 * steps that would otherwise swallow Ctrl-C (connecting, a yes/no question).
 */
void	tty_abort_on_interrupt(const char *why);
/* Put flags taken by tty_take_signals back for the loop to see. */
void	tty_requeue_signals(unsigned sigs);
/* A SIGINT was handled locally (it cancelled a ~C line): it does not end
 * the session nor count as the signal that ended us. */
void	tty_cancel_interrupt(void);
/* Signal that ended us, for re-raising after cleanup (0 if none). */
int	tty_term_signal(void);

/* Write all bytes to the terminal (blocking). */
void	tty_write(const void *p, size_t len);
/* Console output: as tty_write, but kept off the status line (screen.h)
 * and the status redrawn when the output may have erased it. */
void	tty_guest_write(const void *p, size_t len);
/*
 * dom0's clear text (before the handshake completes): shown inert and with
 * every line marked (cleartext.h: no escape sequence or control reaches the
 * terminal), then the status line is redrawn.  tty_clear_end ends the last
 * clear line when the clear phase is over.
 */
#define TTY_CLEAR_MARK	"dom0 clear"
void	tty_clear_write(const void *p, size_t len);
void	tty_clear_end(void);
/* A local notice on its own line: "[sccrypt] text", reverse video if possible. */
void	tty_notice(const char *text);

/* Status line in the bottom row (no-op without a capable terminal). */
void	tty_status_enable(bool on);
void	tty_status_set(const char *text);
void	tty_status_redraw(void);
/* The window size changed: keep the cursor's line, move the status row. */
void	tty_status_resized(void);

/* Suspend (SIGTSTP-style): restore, stop, and re-enter the previous mode. */
void	tty_suspend(void);

#endif /* SCCRYPT_TERM_TERM_H */
