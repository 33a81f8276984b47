/*
 * term.c — local terminal handling for sccrypt-term (see term.h).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curses.h>
#include <term.h>

#include "core/compat.h"
#include "core/err.h"
#include "cleartext.h"
#include "screen.h"
#include "term.h"

#define SEQ_MAX		128

static struct {
	int		in, out;
	bool		is_tty;
	bool		have_saved;
	struct termios	saved;
	volatile sig_atomic_t raw;
	int		sigpipe[2];
	volatile sig_atomic_t pending;
	volatile sig_atomic_t term_sig;
	/* terminfo strings, prepared in advance */
	bool		ti_ok;
	char		rev[SEQ_MAX], sgr0[SEQ_MAX], el[SEQ_MAX];
	char		sc[SEQ_MAX], rc[SEQ_MAX];
	/* status line */
	bool		status_on;
	bool		status_drawn;
	char		status_text[256];
	int		rows, cols;
	bool		resize_pending;	/* the window changed, not yet handled */
	struct scrf	scr;		/* guest output filter (screen.h) */
	char		csr_reset[SEQ_MAX * 4];	/* async-safe copy for restore */
	size_t		csr_reset_len;
	/* dom0's clear text (cleartext.h) */
	struct clrf	clr;
	bool		clr_ready;
	bool		other_wrote;	/* someone else wrote since clear text */
	uint8_t		clrbuf[4096];
	size_t		clrbuf_len;
	/* tty_abort_on_interrupt: the message, and whether it is armed */
	char		abort_msg[256];
	volatile sig_atomic_t abort_armed;
} T = { .in = -1, .out = -1, .sigpipe = { -1, -1 } };

static void
copy_cap(char *dst, const char *cap)
{
	const char *s = tigetstr(cap);

	dst[0] = '\0';
	if (s != NULL && s != (char *)-1 && strlen(s) < SEQ_MAX)
		memcpy(dst, s, strlen(s) + 1);
}

static void
raw_write(const void *p, size_t len)
{
	const char *c = p;

	while (len > 0) {
		ssize_t w = write(T.out, c, len);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				usleep(1000);
				continue;
			}
			return;
		}
		c += w;
		len -= (size_t)w;
	}
}

/*
 * An interrupt while a blocking step is armed (tty_abort_on_interrupt):
 * give the terminal back as it was, say why, exit 128 + sig.  Only
 * async-signal-safe calls.
 */
static void __attribute__((noreturn))
abort_now(int sig)
{
	static const char pre[] = "\r\nsccrypt-term: interrupted ";

	tty_restore();
	if (T.is_tty)
		tcsetattr(T.in, TCSADRAIN, &T.saved);
	(void)!write(STDERR_FILENO, pre, sizeof(pre) - 1);
	(void)!write(STDERR_FILENO, T.abort_msg, strlen(T.abort_msg));
	(void)!write(STDERR_FILENO, "\n", 1);
	_exit(128 + sig);
}

static void
on_signal(int sig)
{
	int saved = errno;
	char c = (char)sig;

	if (T.abort_armed && sig != SIGWINCH && sig != SIGCHLD)
		abort_now(sig);
	switch (sig) {
	case SIGWINCH:
		T.pending |= TTY_SIG_WINCH;
		break;
	case SIGCHLD:
		T.pending |= TTY_SIG_CHLD;
		break;
	case SIGINT:
		T.pending |= TTY_SIG_INT;
		if (T.term_sig == 0)
			T.term_sig = sig;
		break;
	default:
		T.pending |= TTY_SIG_TERM;
		if (T.term_sig == 0)
			T.term_sig = sig;
		break;
	}
	if (T.sigpipe[1] >= 0)
		(void)!write(T.sigpipe[1], &c, 1);
	errno = saved;
}

/* Fatal signals: restore the terminal, then die of the same signal. */
static void
on_fatal(int sig)
{
	tty_restore();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void
atexit_restore(void)
{
	tty_restore();
}

int
tty_init(int in_fd, int out_fd)
{
	struct sigaction sa;
	static const int term_sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
	static const int fatal_sigs[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT };
	size_t i;
	int err;

	T.in = in_fd;
	T.out = out_fd;
	T.is_tty = isatty(in_fd) && tcgetattr(in_fd, &T.saved) == 0;
	T.have_saved = T.is_tty;
	if (pipe(T.sigpipe) != 0)
		return SC_ERR_SYSTEM;
	for (i = 0; i < 2; i++) {
		fcntl(T.sigpipe[i], F_SETFL, O_NONBLOCK);
		fcntl(T.sigpipe[i], F_SETFD, FD_CLOEXEC);
	}
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	for (i = 0; i < SC_NELEM(term_sigs); i++)
		sigaction(term_sigs[i], &sa, NULL);
	sigaction(SIGWINCH, &sa, NULL);
	sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
	sigaction(SIGCHLD, &sa, NULL);
	sa.sa_handler = on_fatal;
	sa.sa_flags = SA_RESETHAND;
	for (i = 0; i < SC_NELEM(fatal_sigs); i++)
		sigaction(fatal_sigs[i], &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	atexit(atexit_restore);

	if (isatty(out_fd) && setupterm(NULL, out_fd, &err) == OK) {
		T.ti_ok = true;
		copy_cap(T.rev, "rev");
		copy_cap(T.sgr0, "sgr0");
		copy_cap(T.el, "el");
		copy_cap(T.sc, "sc");
		copy_cap(T.rc, "rc");
	}
	return 0;
}

void
tty_abort_on_interrupt(const char *why)
{
	T.abort_armed = 0;
	if (why == NULL)
		return;
	snprintf(T.abort_msg, sizeof(T.abort_msg), "%s", why);
	T.abort_armed = 1;
}

int tty_in(void) { return T.in; }
int tty_out(void) { return T.out; }
bool tty_is_tty(void) { return T.is_tty; }
bool tty_is_raw(void) { return T.raw != 0; }
int tty_sigfd(void) { return T.sigpipe[0]; }
int tty_term_signal(void) { return T.term_sig; }

const struct termios *
tty_saved(void)
{
	return T.have_saved ? &T.saved : NULL;
}

int
tty_winsize(struct winsize *ws)
{
	memset(ws, 0, sizeof(*ws));
	if (ioctl(T.out, TIOCGWINSZ, ws) == 0 && ws->ws_row > 0)
		return 0;
	if (ioctl(T.in, TIOCGWINSZ, ws) == 0 && ws->ws_row > 0)
		return 0;
	return SC_ERR_SYSTEM;
}

int
tty_raw(void)
{
	struct termios t;

	if (!T.is_tty || T.raw)
		return 0;
	t = T.saved;
	cfmakeraw(&t);
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	if (tcsetattr(T.in, TCSADRAIN, &t) != 0)
		return SC_ERR_SYSTEM;
	T.raw = 1;
	return 0;
}

void
tty_restore(void)
{
	if (T.csr_reset_len > 0) {
		raw_write(T.csr_reset, T.csr_reset_len);
		T.csr_reset_len = 0;
	}
	if (T.is_tty && T.raw) {
		tcsetattr(T.in, TCSADRAIN, &T.saved);
		T.raw = 0;
	}
}

unsigned
tty_take_signals(void)
{
	char buf[64];
	unsigned p;

	while (read(T.sigpipe[0], buf, sizeof(buf)) > 0)
		;
	p = (unsigned)T.pending;
	T.pending = 0;
	return p;
}

void
tty_requeue_signals(unsigned sigs)
{
	char c = 0;

	if (sigs == 0)
		return;
	T.pending |= (sig_atomic_t)sigs;
	(void)!write(T.sigpipe[1], &c, 1);
}

void
tty_cancel_interrupt(void)
{
	if (T.term_sig == SIGINT)
		T.term_sig = 0;
}

void
tty_write(const void *p, size_t len)
{
	T.other_wrote = true;
	raw_write(p, len);
}

void
tty_notice(const char *text)
{
	char line[1024];
	int n;

	T.other_wrote = true;
	n = snprintf(line, sizeof(line), "\r\n%s[sccrypt] %s%s\r\n",
	    T.ti_ok ? T.rev : "", text, T.ti_ok ? T.sgr0 : "");
	if (n > 0)
		raw_write(line, SC_MIN((size_t)n, sizeof(line) - 1));
}

/* ---- status line ---- */

static void
status_geometry(void)
{
	struct winsize ws;

	T.rows = T.cols = 0;
	if (tty_winsize(&ws) == 0) {
		T.rows = ws.ws_row;
		T.cols = ws.ws_col;
	}
}

static void
put_tparm(const char *cap, int a, int b)
{
	const char *s = tigetstr(cap);
	const char *p;

	if (s == NULL || s == (char *)-1)
		return;
	p = tiparm(s, a, b);
	if (p != NULL)
		raw_write(p, strlen(p));
}

void
tty_status_redraw(void)
{
	char text[512];
	size_t n;
	int top0, bot0;

	if (!T.status_on || !T.ti_ok)
		return;
	status_geometry();
	if (T.rows < 3 || T.cols < 10)
		return;
	scrf_set_rows(&T.scr, T.rows);
	/*
	 * Scroll region: the guest's own region (if it set one), without the
	 * last row, which is ours.  (After a resize the old status row is
	 * dealt with by status_reserve, relative to the cursor.)
	 */
	raw_write(T.sc, strlen(T.sc));
	scrf_region(&T.scr, &top0, &bot0);
	put_tparm("csr", top0, bot0);
	put_tparm("cup", T.rows - 1, 0);
	snprintf(text, sizeof(text), " %s", T.status_text);
	n = strlen(text);
	if (n > (size_t)T.cols - 1)
		n = (size_t)T.cols - 1;
	raw_write(T.rev, strlen(T.rev));
	raw_write(text, n);
	raw_write(T.el, strlen(T.el));
	raw_write(T.sgr0, strlen(T.sgr0));
	raw_write(T.rc, strlen(T.rc));
	T.status_drawn = true;
	T.scr.redraw = false;
	/* What restore must write to give the whole screen back:
	 * sc, full-screen csr (which homes the cursor), clear the last row, rc.
	 * Prepared now so that a signal handler can write it. */
	{
		const char *csr = tigetstr("csr"), *cup = tigetstr("cup");
		char a[SEQ_MAX], b[SEQ_MAX], tmp[SEQ_MAX * 6];
		const char *p;

		a[0] = b[0] = '\0';
		if (csr != NULL && csr != (char *)-1 &&
		    (p = tiparm(csr, 0, T.rows - 1)) != NULL && strlen(p) < SEQ_MAX)
			memcpy(a, p, strlen(p) + 1);
		if (cup != NULL && cup != (char *)-1 &&
		    (p = tiparm(cup, T.rows - 1, 0)) != NULL && strlen(p) < SEQ_MAX)
			memcpy(b, p, strlen(p) + 1);
		snprintf(tmp, sizeof(tmp), "%s%s%s%s%s", T.sc, a, b, T.el, T.rc);
		if (a[0] != '\0' && strlen(tmp) < sizeof(T.csr_reset)) {
			T.csr_reset_len = 0;
			memcpy(T.csr_reset, tmp, strlen(tmp));
			T.csr_reset_len = strlen(tmp);
		}
	}
}

/*
 * Make room for the status row without losing the cursor's line (apt's
 * progress bar does the same): a line feed scrolls the screen if the cursor
 * is on the last row, the region is set with the cursor saved, and the
 * cursor goes back up to its line.  Used when the status line appears and
 * after a resize, when the cursor may sit on the row the status now takes.
 *
 * After a resize the old status line may still be on the screen, but not
 * necessarily in the row where it was drawn: a terminal that pulls lines
 * back from its history when it grows (tmux, VTE, xterm) moves it down
 * with everything else, and clearing its old row number would erase a
 * line of the guest's output.  What does not change is where it is
 * relative to the cursor: on the row below the last guest row, i.e. below
 * the cursor while the guest writes at the bottom.  So the row the line
 * feed lands on is erased (resized: true); everything else is left alone.
 */
static void
status_reserve(bool resized)
{
	int top0, bot0;

	status_geometry();
	if (T.rows < 3 || T.cols < 10)
		return;
	scrf_set_rows(&T.scr, T.rows);
	scrf_region(&T.scr, &top0, &bot0);
	raw_write("\n", 1);
	if (resized) {
		put_tparm("el1", 0, 0);
		raw_write(T.el, strlen(T.el));
	}
	raw_write(T.sc, strlen(T.sc));
	put_tparm("csr", top0, bot0);
	raw_write(T.rc, strlen(T.rc));
	put_tparm("cuu", 1, 0);
}

/*
 * The window size changed.  The terminal has reset its scroll region to
 * the whole screen (they all do), so until the region is set again guest
 * output can scroll the status row away or land on it: handle it before
 * any more guest output is written (tty_guest_write checks the size
 * itself, not only the SIGWINCH, which the loop may see after output
 * that arrived in the meantime), and only between the guest's sequences.
 * The guest's own region was for the old size and is gone with it.
 */
static void
status_apply_resize(void)
{
	if (!T.resize_pending || !T.status_on || !T.ti_ok || !scrf_idle(&T.scr))
		return;
	T.resize_pending = false;
	scrf_forget_region(&T.scr);
	status_reserve(true);
	tty_status_redraw();
}

/* Has the window size changed since the status line was last placed? */
static void
status_check_size(void)
{
	struct winsize ws;

	if (!T.status_on || !T.ti_ok || T.resize_pending)
		return;
	if (tty_winsize(&ws) == 0 && (ws.ws_row != T.rows || ws.ws_col != T.cols))
		T.resize_pending = true;
}

void
tty_status_resized(void)
{
	if (!T.status_on || !T.ti_ok)
		return;
	T.resize_pending = true;
	status_apply_resize();
}

void
tty_status_enable(bool on)
{
	if (!on && T.status_on && T.status_drawn) {
		size_t n = T.csr_reset_len;

		T.csr_reset_len = 0;
		raw_write(T.csr_reset, n);
		T.status_drawn = false;
	}
	if (on && !T.status_on) {
		status_geometry();
		scrf_init(&T.scr, T.rows);
	}
	if (on && !T.status_on && T.ti_ok && isatty(T.out)) {
		T.status_on = true;
		status_reserve(false);
	}
	T.status_on = on && T.ti_ok && isatty(T.out);
	if (T.status_on)
		tty_status_redraw();
}

static void
emit_raw(void *ctx, const uint8_t *p, size_t len)
{
	raw_write(p, len);
}

void
tty_guest_write(const void *p, size_t len)
{
	T.other_wrote = true;
	if (!T.status_on || !T.status_drawn) {
		raw_write(p, len);
		return;
	}
	status_check_size();
	status_apply_resize();
	scrf_filter(&T.scr, p, len, emit_raw, NULL);
	status_apply_resize();
	if (T.scr.redraw && scrf_can_draw(&T.scr))
		tty_status_redraw();
}

/* ---- dom0's clear text ---- */

static void
clr_flushbuf(void)
{
	raw_write(T.clrbuf, T.clrbuf_len);
	T.clrbuf_len = 0;
}

static void
clr_emit(void *ctx, const uint8_t *p, size_t len)
{
	if (T.clrbuf_len + len > sizeof(T.clrbuf))
		clr_flushbuf();
	if (len > sizeof(T.clrbuf)) {
		raw_write(p, len);
		return;
	}
	memcpy(T.clrbuf + T.clrbuf_len, p, len);
	T.clrbuf_len += len;
}

/* The line marker: reverse video, which the filtered text cannot produce. */
static void
clr_mark(void *ctx, const uint8_t *p, size_t len)
{
	const char *rev = T.ti_ok ? T.rev : "", *sgr0 = T.ti_ok ? T.sgr0 : "";

	clr_emit(ctx, (const uint8_t *)rev, strlen(rev));
	clr_emit(ctx, (const uint8_t *)TTY_CLEAR_MARK, strlen(TTY_CLEAR_MARK));
	clr_emit(ctx, (const uint8_t *)sgr0, strlen(sgr0));
	clr_emit(ctx, (const uint8_t *)"| ", 2);
}

void
tty_clear_write(const void *p, size_t len)
{
	struct winsize ws;
	int cols = tty_winsize(&ws) == 0 ? ws.ws_col : 0;

	if (!T.clr_ready) {
		clrf_init(&T.clr, cols, (int)strlen(TTY_CLEAR_MARK) + 2);
		T.clr_ready = true;
		T.other_wrote = true;
	}
	clrf_set_cols(&T.clr, cols);
	status_check_size();
	status_apply_resize();
	if (T.other_wrote) {
		/* We do not know where the cursor is: a line of our own. */
		clr_emit(NULL, (const uint8_t *)"\r", 1);
		if (T.ti_ok)
			clr_emit(NULL, (const uint8_t *)T.el, strlen(T.el));
		clrf_line_start(&T.clr);
		T.other_wrote = false;
	}
	clrf_filter(&T.clr, p, len, clr_emit, clr_mark, NULL);
	clr_flushbuf();
	/* Whatever the text did, the status row shows the truth again. */
	tty_status_redraw();
}

void
tty_clear_end(void)
{
	if (!T.clr_ready)
		return;
	clrf_flush(&T.clr, clr_emit, clr_mark, NULL);
	if (!T.clr.bol && !T.other_wrote)
		clr_emit(NULL, (const uint8_t *)"\r\n", 2);
	clr_flushbuf();
	clrf_line_start(&T.clr);
	T.other_wrote = true;
}

void
tty_status_set(const char *text)
{
	snprintf(T.status_text, sizeof(T.status_text), "%s", text);
	tty_status_redraw();
}

void
tty_suspend(void)
{
	bool was_raw = T.raw != 0;
	bool status = T.status_on;

	tty_status_enable(false);
	T.status_on = false;
	tty_restore();
	raise(SIGTSTP);		/* default action: stop until SIGCONT */
	if (was_raw)
		(void)!tty_raw();
	if (status)
		tty_status_enable(true);
}
