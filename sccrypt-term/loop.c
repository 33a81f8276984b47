/*
 * loop.c — the interactive session: one poll loop joining the user's
 * terminal (term.c), the escape processor (escape.c), the protocol session
 * (session.c) and a transport (transport*.c).
 *
 * Writes to the transport are queued (outq.h) and made non-blocking so that
 * a large paste can never deadlock against the echo coming back; the user's
 * terminal is not read while the queue is over OUTQ_HIGH (back-pressure).
 *
 * app_run_session() sets up the user's side, the transport and the session,
 * then runs the loop: each pass polls the descriptors that matter now
 * (poll_set), with the nearest deadline (loop_timeout), and hands each ready
 * one to its handler (on_signals, on_wire_writable, on_wire_readable,
 * on_stderr_readable, on_user_readable).  finish() tears down and turns the
 * session's end into the exit code.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <termios.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#include "app.h"
#include "core/err.h"
#include "io.h"
#include "log.h"
#include "prompt.h"
#include "secmem.h"
#include "term.h"
#include "outq.h"

#define OUTQ_HIGH	(256 * 1024)
#define READ_CHUNK	16384
#define FLUSH_MS	3000
#define STDERR_DRAIN_MS	500	/* remote stderr after the wire's EOF */

int
app_exit_code(enum sess_exit x)
{
	switch (x) {
	case SESS_X_OK:		return EXIT_OK_;
	case SESS_X_TRANSPORT:	return EXIT_TRANSPORT;
	case SESS_X_VERIFY:	return EXIT_VERIFY;
	case SESS_X_PROTOCOL:
	case SESS_X_TAMPER:	return EXIT_PROTOCOL;
	case SESS_X_RELAY:	return EXIT_RELAY;
	case SESS_X_LOCAL:	return EXIT_LOCAL;
	}
	return EXIT_LOCAL;
}

/*
 * read(2) for the loop: > 0 bytes read, 0 at the end (EOF, or an error
 * that ends the descriptor, such as EIO from a pty whose child exited),
 * -1 when there is nothing now (EINTR, EAGAIN).
 */
static ssize_t
read_some(int fd, uint8_t *buf, size_t len)
{
	ssize_t n = read(fd, buf, len);

	if (n >= 0)
		return n;
	return errno == EINTR || errno == EAGAIN ? -1 : 0;
}

/*
 * Remote stderr: clear text before the HELLO; after it, one sanitised
 * notice per line (not per write: a lone newline is no notice of its own),
 * at most APP_STDERR_LINE_MAX bytes each; a partial line waits for its end, for
 * more to come, or for show_stderr_flush.
 */
static void
stderr_notice(const uint8_t *p, size_t len)
{
	char line[1024], tmp[4 * APP_STDERR_LINE_MAX + 1];

	if (len == 0)
		return;
	sc_sanitize(tmp, sizeof(tmp), p, len);
	snprintf(line, sizeof(line), "dom0 stderr (not authenticated): %s", tmp);
	tty_notice(line);
}

static void
show_stderr_flush(struct app *a)
{
	stderr_notice(a->errline, a->errline_len);
	a->errline_len = 0;
}

static void
show_stderr(struct app *a, const uint8_t *p, size_t len)
{
	size_t i;

	if (sess_in_clear(&a->sess)) {
		a->clear_out_ms = sc_now_ms();
		tty_clear_write(p, len);		/* inert, marked */
		sess_clear_shown(&a->sess, p, len);	/* may be a prompt */
		return;
	}
	for (i = 0; i < len; i++) {
		if (p[i] == '\n' || p[i] == '\r') {
			show_stderr_flush(a);
			continue;
		}
		if (a->errline_len == sizeof(a->errline))
			show_stderr_flush(a);
		a->errline[a->errline_len++] = p[i];
	}
}

/*
 * The wire ended: what the remote side wrote to stderr just before (a
 * refusal's reason) may still be in the pipe.  Show it first, for up to
 * STDERR_DRAIN_MS, so that the reason comes before our verdict.
 */
/* One read of the remote's stderr, shown; at its end, the descriptor closed. */
static void
read_stderr(struct app *a)
{
	uint8_t buf[READ_CHUNK];
	ssize_t n = read_some(a->tr.efd, buf, sizeof(buf));

	if (n > 0)
		show_stderr(a, buf, (size_t)n);
	else if (n == 0) {
		show_stderr_flush(a);
		close(a->tr.efd);
		a->tr.efd = -1;
	}
}

static void
drain_stderr(struct app *a)
{
	unsigned long long until = sc_now_ms() + STDERR_DRAIN_MS;

	while (a->tr.efd >= 0 && sc_now_ms() < until) {
		struct pollfd p = { .fd = a->tr.efd, .events = POLLIN };

		if (poll(&p, 1, 50) > 0)
			read_stderr(a);
	}
}

static int
open_user_tty(struct app *a, int *in, int *out)
{
	int fd;

	*in = STDIN_FILENO;
	*out = STDOUT_FILENO;
	if (a->mode == MODE_PIPE && a->cmd == NULL) {
		/* stdin/stdout carry the transport: the user is on /dev/tty */
		if ((fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC)) >= 0) {
			*in = *out = fd;
		} else {
			*in = -1;
			*out = STDERR_FILENO;
		}
	}
	return 0;
}

static void
drain_output(struct app *a)
{
	unsigned long long until = sc_now_ms() + FLUSH_MS;

	while (outq_pending(&a->outq) > 0 && a->tr.wfd >= 0 &&
	    sc_now_ms() < until) {
		struct pollfd p = { .fd = a->tr.wfd, .events = POLLOUT };

		if (poll(&p, 1, 100) > 0 && outq_flush(&a->outq, a->tr.wfd) < 0)
			break;
	}
}

/*
 * sccrypt-console's refusals (sccrypt-console(8), EXIT STATUS): it says why
 * in clear on stderr and exits with one of these before any HELLO; ssh(1)
 * and the libssh transport pass the status on.  NULL: not a refusal.
 */
static const char *
dom0_refusal(int status)
{
	switch (status) {
	case 64: return "the command was rejected by dom0's allowlist";
	case 65: return "plaintext refused: the VM is protected";
	case 68: return "no such VM";
	case 69: return "sccrypt-consoled or the hypervisor is not reachable";
	case 75: return "dom0's client limit was reached; try again later";
	case 77: return "dom0's policy does not allow you this VM";
	case 78: return "dom0's configuration or installation is broken";
	}
	return NULL;
}

/* ---- the loop ---- */

/* What one session's loop keeps beside struct app. */
struct loop {
	struct app	*a;
	int		uin, uout;	/* the user's side (uin -1: none) */
	bool		wire_eof;	/* the transport's read side ended */
	struct esc_sink	esink;
};

/* The descriptors of one poll pass: index into the pollfd array, or -1. */
struct loop_fds {
	int		sig, user, wire_in, wire_err, wire_out;
};
#define LOOP_NFDS	5
#define LOOP_AGAIN	(-2)	/* loop_timeout: state changed, poll again */
#define IN_EVENTS	(POLLIN | POLLHUP | POLLERR)

/* The user's terminal (or /dev/tty), and what may be read from it. */
static int
setup_user(struct loop *l, enum sess_mode mode)
{
	struct app *a = l->a;

	open_user_tty(a, &l->uin, &l->uout);
	if (tty_init(l->uin >= 0 ? l->uin : l->uout, l->uout) < 0) {
		sc_error("cannot set up the terminal");
		return EXIT_LOCAL;
	}
	a->user_input = l->uin >= 0 && a->batch == BATCH_NONE &&
	    mode == SESS_MODE_CONSOLE;
	a->interactive = a->user_input && tty_is_tty() && isatty(l->uin);
	esc_init(&a->esc, a->esc_char);
	return EXIT_OK_;
}

/*
 * Start the transport.  Prompts (ssh) happen in cooked mode, before raw;
 * connecting (ssh: TCP, host key, authentication) blocks, and Ctrl-C must
 * still end it at once.  Returns EXIT_OK_ or the exit code of the failure.
 */
static int
start_transport(struct app *a)
{
	char msg[512], why[300];
	bool ssh_host = a->mode == MODE_SSH && a->ssh.host != NULL;
	int r;

	msg[0] = '\0';
	snprintf(why, sizeof(why), "while connecting%s%s",
	    ssh_host ? " to " : "", ssh_host ? a->ssh.host : "");
	tty_abort_on_interrupt(why);
	switch (a->mode) {
	case MODE_PIPE:
		r = transport_pipe_start(&a->tr, a->cmd);
		break;
	case MODE_WRAP: {
		struct winsize ws;

		r = transport_wrap_start(&a->tr, a->cmd, tty_saved(),
		    tty_winsize(&ws) == 0 ? &ws : NULL);
		break;
	}
	case MODE_SSH:
	default:
		r = transport_ssh_start(&a->tr, &a->ssh, a->remote_cmd, msg,
		    sizeof(msg));
		break;
	}
	tty_abort_on_interrupt(NULL);
	if (r < 0) {
		if (msg[0] != '\0')
			fprintf(stderr, "sccrypt-term: %s\n", msg);
		else
			sc_report_r(r, "cannot start the transport");
		return (r == SC_ERR_UNTRUSTED || r == SC_ERR_PERM) ? EXIT_VERIFY :
		    r == SC_ERR_INVAL ? EXIT_USAGE : EXIT_TRANSPORT;
	}
	if (sc_set_nonblock(a->tr.wfd, 1) < 0 || sc_set_nonblock(a->tr.rfd, 1) < 0)
		sc_warn("cannot make the transport non-blocking");
	return EXIT_OK_;
}

/* The trust policy and the session, once the transport is up. */
static void
start_session(struct loop *l, enum sess_mode mode,
    const struct sess_config *extra)
{
	struct app *a = l->a;
	struct sess_config cfg;
	struct sess_sink sink;

	/* The trust policy needs the host the transport resolved. */
	a->pol.host = app_host_for_policy(a);
	a->pol.vmname = a->vmname;
	a->pol.ask = a->interactive || a->batch != BATCH_NONE ?
	    prompt_ask_cb : NULL;
	/* vm protect seals the disk key: never to a key trusted on first use */
	a->pol.no_first_use = mode == SESS_MODE_PROTECT;
	a->pol.now = (uint64_t)time(NULL);

	memset(&cfg, 0, sizeof(cfg));
	if (extra != NULL)
		cfg = *extra;
	cfg.mode = mode;
	cfg.vmname = a->vmname;
	cfg.uuid = a->vm != NULL ? a->vm->uuid : NULL;
	cfg.user_sk = a->user_sk;
	cfg.psk = a->vm != NULL ? a->vm->secret : NULL;
	cfg.history_wanted = a->history;
	cfg.hs1_flags = (a->viewer ? SC_HS1_F_VIEWER : 0) |
	    (a->takeover ? SC_HS1_F_TAKEOVER : 0);
	cfg.no_typing = a->batch != BATCH_NONE;
	/* Clear-phase typing only from a person who can see the prompt. */
	cfg.clear_input = a->interactive ? SESS_CLEAR_PROMPT : SESS_CLEAR_HOLD;
	cfg.verify = policy_verify;
	cfg.verify_ctx = &a->pol;
	app_sess_sink(a, &sink);
	sess_init(&a->sess, &cfg, &sink);

	if (a->status_line && a->interactive)
		tty_status_enable(true);
	app_update_status(a);
	if (a->mode == MODE_WRAP || a->mode == MODE_SSH)
		app_start_reading_user(a);
	else if (!a->interactive && a->user_input && l->uin != STDIN_FILENO)
		a->user_input = false;	/* no terminal behind /dev/tty */
}

static int
poll_add(struct pollfd *p, int *np, int fd, short events)
{
	p[*np].fd = fd;
	p[*np].events = events;
	p[*np].revents = 0;
	return (*np)++;
}

/* The descriptors that matter in this pass. */
static int
poll_set(struct loop *l, struct pollfd *p, struct loop_fds *ix)
{
	struct app *a = l->a;
	int np = 0;

	ix->user = ix->wire_in = ix->wire_err = ix->wire_out = -1;
	ix->sig = poll_add(p, &np, tty_sigfd(), POLLIN);
	if (a->read_user && l->uin >= 0 && outq_pending(&a->outq) < OUTQ_HIGH)
		ix->user = poll_add(p, &np, l->uin, POLLIN);
	if (!l->wire_eof)
		ix->wire_in = poll_add(p, &np, a->tr.rfd, POLLIN);
	if (a->tr.efd >= 0)
		ix->wire_err = poll_add(p, &np, a->tr.efd, POLLIN);
	if (outq_pending(&a->outq) > 0)
		ix->wire_out = poll_add(p, &np, a->tr.wfd, POLLOUT);
	return np;
}

static int
min_timeout(int t, int u)
{
	return u >= 0 && (t < 0 || u < t) ? u : t;
}

/*
 * The poll timeout: the nearest of the clear text settling, the keepalive,
 * the end of a non-terminal input's linger, and the close handshake's
 * deadline.  LOOP_AGAIN when one of the last two was due (and done).
 */
static int
loop_timeout(struct loop *l)
{
	struct app *a = l->a;
	unsigned long long now;
	int timeout = app_settle_clear(a);

	/* stalled-session detection (PROTOCOL.md §10) */
	timeout = min_timeout(timeout, sess_keepalive(&a->sess, sc_now_ms()));
	if (a->user_eof && sess_is_open(&a->sess)) {
		/* Input is over: close once it has all gone out and the
		 * console has been quiet for linger_ms. */
		unsigned long long end = a->last_output_ms + a->linger_ms;

		now = sc_now_ms();
		if (outq_pending(&a->outq) == 0 && now >= end) {
			app_close(a);
			return LOOP_AGAIN;
		}
		if (timeout < 0 || timeout > 100)
			timeout = outq_pending(&a->outq) > 0 || end - now > 100 ?
			    100 : (int)(end - now);
	}
	if (a->sess.state == SESS_CLOSING) {
		now = sc_now_ms();
		if (now >= a->close_deadline_ms) {
			char why[64];

			snprintf(why, sizeof(why), "no answer within %d s",
			    APP_CLOSE_WAIT_MS / 1000);
			sess_close_abandon(&a->sess, why);
			return LOOP_AGAIN;
		}
		timeout = min_timeout(timeout, (int)(a->close_deadline_ms - now));
	}
	return timeout;
}

static void
on_signals(struct loop *l)
{
	struct app *a = l->a;
	unsigned sig = tty_take_signals();

	if (sig & (TTY_SIG_TERM | TTY_SIG_INT)) {
		(void)!sess_close(&a->sess);
		a->quitting = true;
	}
	if (sig & TTY_SIG_WINCH) {
		struct winsize ws;

		if (tty_winsize(&ws) == 0)
			transport_winch(&a->tr, &ws);
		tty_status_resized();
	}
}

/* The transport is gone for writing: what waits is lost, and so is it. */
static void
on_wire_writable(struct loop *l)
{
	struct app *a = l->a;

	if (outq_flush(&a->outq, a->tr.wfd) < 0) {
		outq_clear(&a->outq);
		l->wire_eof = true;
		(void)!sess_wire_eof(&a->sess);
	}
}

static void
on_wire_readable(struct loop *l)
{
	struct app *a = l->a;
	uint8_t buf[READ_CHUNK];
	ssize_t n = read_some(a->tr.rfd, buf, sizeof(buf));

	if (n > 0) {
		a->last_output_ms = sc_now_ms();
		(void)!sess_from_wire(&a->sess, buf, (size_t)n);
	} else if (n == 0) {
		l->wire_eof = true;
		if (!sess_is_open(&a->sess))
			drain_stderr(a);
		(void)!sess_wire_eof(&a->sess);
	}
}

static void
on_stderr_readable(struct loop *l)
{
	read_stderr(l->a);
}

/* Keystrokes: through the escape processor to the session, then wiped. */
static void
on_user_readable(struct loop *l)
{
	struct app *a = l->a;
	uint8_t buf[READ_CHUNK];
	ssize_t n;

	(void)app_settle_clear(a);
	n = read_some(l->uin, buf, sizeof(buf));
	if (n > 0) {
		esc_feed(&a->esc, buf, (size_t)n, &l->esink);
		sc_memzero(buf, (size_t)n);
	} else if (n == 0) {
		a->read_user = false;
		if (a->interactive) {
			/* the terminal went away: close like ~. */
			app_close(a);
		} else {
			a->user_eof = true;
			a->last_output_ms = sc_now_ms();
		}
	}
}

static bool
ready(const struct pollfd *p, int i, short events)
{
	return i >= 0 && (p[i].revents & events) != 0;
}

/* Returns EXIT_OK_, or EXIT_LOCAL if poll itself failed. */
static int
run_loop(struct loop *l)
{
	struct app *a = l->a;

	while (!a->quitting) {
		struct pollfd p[LOOP_NFDS];
		struct loop_fds ix;
		int np, timeout;

		np = poll_set(l, p, &ix);
		if (l->wire_eof && a->tr.efd < 0)
			break;
		if ((timeout = loop_timeout(l)) == LOOP_AGAIN)
			continue;
		if (poll(p, (nfds_t)np, timeout) < 0) {
			if (errno == EINTR)
				continue;
			sc_error("poll: %s", strerror(errno));
			return EXIT_LOCAL;
		}
		if (ready(p, ix.sig, POLLIN))
			on_signals(l);
		if (ready(p, ix.wire_out, POLLOUT | POLLERR | POLLHUP))
			on_wire_writable(l);
		if (ready(p, ix.wire_in, IN_EVENTS))
			on_wire_readable(l);
		if (ready(p, ix.wire_err, IN_EVENTS))
			on_stderr_readable(l);
		if (!a->quitting && ready(p, ix.user, IN_EVENTS))
			on_user_readable(l);
		if (outq_pending(&a->outq) > 0)	/* what this pass queued */
			on_wire_writable(l);
		if (a->sess.state == SESS_FAILED || a->sess.state == SESS_DONE)
			a->quitting = true;
	}
	return EXIT_OK_;
}

/* A failed session: its reason, and what the transport adds to it. */
static int
failure_verdict(struct app *a)
{
	int st = a->tr.reaped && WIFEXITED(a->tr.status) ?
	    WEXITSTATUS(a->tr.status) : -1;

	fprintf(stderr, "\r\nsccrypt-term: %s\n", a->sess.errmsg);
	if (a->sess.exit_class != SESS_X_TRANSPORT || st < 0)
		return app_exit_code(a->sess.exit_class);
	if (!a->sess.have_hello && dom0_refusal(st) != NULL) {
		fprintf(stderr, "sccrypt-term: dom0 refused the console of %s: "
		    "%s (sccrypt-console exit status %d; dom0's own words, if "
		    "any, are above, not authenticated)\n", a->vmname,
		    dom0_refusal(st), st);
		return EXIT_RELAY;
	}
	if (st != 0 && a->mode != MODE_SSH)
		fprintf(stderr, "sccrypt-term: the transport command exited "
		    "with status %d\n", st);
	return app_exit_code(a->sess.exit_class);
}

/* How the session ended, as the exit code (code: the loop's own). */
static int
verdict(struct app *a, int code)
{
	if (a->sess.state == SESS_FAILED)
		code = failure_verdict(a);
	else if (a->sess.state != SESS_DONE && code == EXIT_OK_ && !a->quitting)
		code = EXIT_TRANSPORT;
	if (a->interrupted && a->sess.state != SESS_FAILED) {
		fprintf(stderr, "\r\nsccrypt-term: interrupted (Ctrl-C) before "
		    "the encrypted session started; nothing was sent\n");
		code = 128 + SIGINT;
	}
	if (tty_term_signal() != 0 && code == EXIT_OK_) {
		code = 128 + tty_term_signal();
		fprintf(stderr, "\r\nsccrypt-term: ended by signal %d (%s)\n",
		    tty_term_signal(), strsignal(tty_term_signal()));
	}
	if (a->batch == BATCH_ACL && code == EXIT_OK_ &&
	    (!a->batch_done || a->batch_status < 0))
		code = a->batch_done ? EXIT_VERIFY : EXIT_TRANSPORT;
	return code;
}

/* Tear down the loop's side; then the verdict, and every secret wiped. */
static int
finish(struct app *a, int code)
{
	drain_output(a);
	show_stderr_flush(a);
	if (a->log_fd >= 0)
		close(a->log_fd);
	tty_status_enable(false);
	tty_restore();
	transport_close(&a->tr);
	code = verdict(a, code);
	sess_wipe(&a->sess);
	outq_free(&a->outq);
	return code;
}

int
app_run_session(struct app *a, enum sess_mode mode, const struct sess_config *extra)
{
	struct loop l = { .a = a };
	int code;

	app_esc_sink(a, &l.esink);
	a->log_fd = -1;
	if ((code = setup_user(&l, mode)) != EXIT_OK_)
		return code;
	if ((code = start_transport(a)) != EXIT_OK_)
		return code;
	start_session(&l, mode, extra);
	return finish(a, run_loop(&l));
}
