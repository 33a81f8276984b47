/*
 * loop.c — the interactive session: one poll loop joining the user's
 * terminal (term.c), the escape processor (escape.c), the protocol session
 * (session.c) and a transport (transport*.c).
 *
 * Writes to the transport are queued and made non-blocking so that a large
 * paste can never deadlock against the echo coming back; the user's
 * terminal is not read while the queue is over OUTQ_HIGH (back-pressure).
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
#include "encode.h"

#define OUTQ_HIGH	(256 * 1024)
#define READ_CHUNK	16384
#define FLUSH_MS	3000
#define STDERR_DRAIN_MS	500	/* remote stderr after the wire's EOF */
#define STDERR_LINE_MAX	200	/* bytes of remote stderr per notice */

/* The transport output queue (ciphertext and clear-phase bytes only). */
static struct {
	uint8_t		*buf;
	size_t		len, cap, off;
} outq;

static int
outq_push(const uint8_t *p, size_t len)
{
	if (outq.off > 0 && outq.off == outq.len)
		outq.off = outq.len = 0;
	if (outq.len + len > outq.cap) {
		size_t ncap = outq.cap ? outq.cap : 65536;
		uint8_t *n;

		if (outq.off > 0) {
			memmove(outq.buf, outq.buf + outq.off, outq.len - outq.off);
			outq.len -= outq.off;
			outq.off = 0;
		}
		while (outq.len + len > ncap)
			ncap *= 2;
		if (ncap != outq.cap) {
			if ((n = realloc(outq.buf, ncap)) == NULL)
				return SC_ERR_ALLOC;
			outq.buf = n;
			outq.cap = ncap;
		}
	}
	memcpy(outq.buf + outq.len, p, len);
	outq.len += len;
	return 0;
}

static size_t
outq_pending(void)
{
	return outq.len - outq.off;
}

/* Write what the transport takes now; negative on a hard error. */
static int
outq_flush(int fd)
{
	while (outq_pending() > 0) {
		ssize_t w = write(fd, outq.buf + outq.off, outq_pending());

		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			return SC_ERR_SYSTEM;
		}
		outq.off += (size_t)w;
	}
	outq.off = outq.len = 0;
	return 0;
}

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

const char *
app_host_for_policy(const struct app *a)
{
	if (a->host != NULL)
		return a->host;
	if (a->tr.host[0] != '\0')
		return a->tr.host;
	return NULL;
}

/* ---- sinks ---- */

static void
sink_to_term(void *ctx, const uint8_t *p, size_t len)
{
	struct app *a = ctx;

	if (sess_is_open(&a->sess)) {
		a->shown += len;
		if (a->log_fd >= 0 && sc_write_all(a->log_fd, p, len) < 0) {
			close(a->log_fd);
			a->log_fd = -1;
			tty_notice("console log write failed: logging stopped");
		}
	}
	tty_guest_write(p, len);
}

/* dom0's clear text: inert and marked (term.h), and the time noted. */
static void
sink_clear_to_term(void *ctx, const uint8_t *p, size_t len)
{
	struct app *a = ctx;

	a->clear_out_ms = sc_now_ms();
	tty_clear_write(p, len);
}

/*
 * Clear output settles SESS_CLEAR_SETTLE_MS after the last of it: by then
 * the terminal has answered anything it could answer.  Returns the poll
 * timeout until then (-1: nothing in flight).
 */
static int
settle_clear(struct app *a)
{
	unsigned long long now = sc_now_ms(),
	    end = a->clear_out_ms + SESS_CLEAR_SETTLE_MS;

	if (!a->sess.clear_in_flight)
		return -1;
	if (now >= end) {
		sess_clear_settled(&a->sess);
		return -1;
	}
	return (int)(end - now);
}

static int
sink_to_wire(void *ctx, const uint8_t *p, size_t len)
{
	return outq_push(p, len);
}

static void
sink_notice(void *ctx, const char *text)
{
	struct app *a = ctx;

	/* A subcommand's output is its result; notices go to stderr. */
	if (a->batch != BATCH_NONE) {
		fprintf(stderr, "sccrypt-term: %s\n", text);
		return;
	}
	tty_notice(text);
}

static void
update_status(struct app *a)
{
	char s[768];
	const char *st = sess_state_name(a->sess.state);

	if (!a->status_line)
		return;
	/* Before the handshake completes nothing on the screen is protected:
	 * say so in the one row dom0 cannot write to. */
	switch (a->sess.state) {
	case SESS_CLEAR:
		st = "NOT ENCRYPTED: clear text from dom0";
		break;
	case SESS_WAIT_HELLO:
	case SESS_HANDSHAKE:
	case SESS_PROTECTING:
		st = "NOT ENCRYPTED yet: handshake";
		break;
	default:
		break;
	}
	snprintf(s, sizeof(s), "sccrypt: %s%s%s | %s%s",
	    a->vmname, app_host_for_policy(a) ? " @ " : "",
	    app_host_for_policy(a) ? app_host_for_policy(a) : "",
	    st, a->esc_char != ESC_NONE ? " | ~? help" : "");
	tty_status_set(s);
}

/*
 * Start reading the user's side.  A terminal goes raw.  A non-terminal
 * stdin (a script, a pipe) is not read at all until the session is open:
 * it cannot be answering a prompt, so none of it may cross dom0 in clear,
 * and unread input waits in the pipe (or file) rather than in a buffer of
 * ours, so nothing is dropped however much there is.  It is then read as
 * it is, and its EOF ends the session once the console has been quiet for
 * a->linger_ms (there is no half-close).
 */
/*
 * End the session in order: our CLOSE, then wait (APP_CLOSE_WAIT_MS) for
 * the hv's, which says that everything we sent arrived.  Without it the
 * session fails (exit 5): the end of the input cannot be known to be there.
 */
static void
app_close(struct app *a)
{
	if (sess_close(&a->sess) < 0 || a->sess.state != SESS_CLOSING) {
		a->quitting = true;
		return;
	}
	if (a->close_deadline_ms == 0)
		a->close_deadline_ms = sc_now_ms() + APP_CLOSE_WAIT_MS;
}

static void
start_reading_user(struct app *a)
{
	if (a->read_user || a->user_eof || !a->user_input)
		return;
	if (!a->interactive && !sess_is_open(&a->sess))
		return;
	if (a->interactive && tty_raw() < 0)
		sc_warn("cannot put the terminal in raw mode");
	a->read_user = true;
}

static void
sink_event(void *ctx, enum sess_event ev)
{
	struct app *a = ctx;

	switch (ev) {
	case SESS_EV_HELLO:
		tty_clear_end();
		transport_set_raw(&a->tr);
		/*
		 * Pipe mode has not read the terminal so far: what waits there
		 * was typed before the HELLO.  If clear text was still in flight
		 * it may hold the terminal's answers to it: discard it.
		 */
		if (a->mode == MODE_PIPE && a->interactive && !a->read_user &&
		    settle_clear(a) >= 0 && tcflush(tty_in(), TCIFLUSH) == 0)
			tty_notice("input typed while dom0's clear text was "
			    "arriving was discarded");
		if (a->mode == MODE_PIPE)
			start_reading_user(a);
		break;
	case SESS_EV_OPEN:
		a->opened_at = time(NULL);
		start_reading_user(a);
		if (!a->quiet && a->interactive) {
			char line[256];

			snprintf(line, sizeof(line), "encrypted console to %s "
			    "(hv key %s, %s)%s", a->vmname, a->pol.fp,
			    policy_how_name(a->pol.how),
			    a->esc_char == '~' ? "; ~? for help" : "");
			tty_notice(line);
		}
		if (a->batch == BATCH_ACL &&
		    sess_owner_cmd(&a->sess, a->batch_cmd,
		    a->batch_cmd == SC_OWNER_ACL_LIST ? NULL : a->batch_key,
		    a->batch_flags) < 0)
			a->quitting = true;
		break;
	case SESS_EV_OWNER_RESULT: {
		struct sess *s = &a->sess;
		char fp[SC_FINGERPRINT_LEN], line[256];
		unsigned i;

		if (s->owner_status < 0)
			snprintf(line, sizeof(line), "owner command refused by "
			    "the hypervisor: %s", sc_err(s->owner_status));
		else
			snprintf(line, sizeof(line), "owner command done; the "
			    "access list has %u key(s):", s->owner_count);
		if (a->batch == BATCH_ACL)
			printf("%s\n", line);
		else
			tty_notice(line);
		for (i = 0; i < s->owner_count; i++) {
			sc_fingerprint(s->owner_keys[i], SC_KEY_LEN, fp);
			snprintf(line, sizeof(line), "  %s%s", fp,
			    (s->owner_keys[i][SC_KEY_LEN] & SC_ACL_F_OWNER) ?
			    " (owner)" : "");
			if (a->batch == BATCH_ACL)
				printf("%s\n", line);
			else
				tty_notice(line);
		}
		if (a->batch == BATCH_ACL) {
			fflush(stdout);
			a->batch_status = s->owner_status;
			a->batch_done = true;
			app_close(a);
		}
		break;
	}
	case SESS_EV_CLOSED:
	case SESS_EV_FAILED:
		a->quitting = true;
		break;
	}
	update_status(a);
}

/* ---- escapes ---- */

/*
 * Ctrl-C typed before the encrypted session is open, when it would not go
 * to a clear prompt of dom0's (it would only be held for the VM): the user
 * wants out, as ssh(1) lets one out while it connects.
 */
static bool
interrupt_before_open(const struct app *a, const uint8_t *p, size_t len)
{
	const struct sess *s = &a->sess;

	if (!a->interactive || memchr(p, 0x03, len) == NULL)
		return false;
	switch (s->state) {
	case SESS_CLEAR:
		return !(s->prompt_showing &&
		    s->cfg.clear_input == SESS_CLEAR_PROMPT);
	case SESS_WAIT_HELLO:
	case SESS_HANDSHAKE:
	case SESS_PROTECTING:
		return true;
	default:
		return false;
	}
}

static void
esc_data(void *ctx, const uint8_t *p, size_t len)
{
	struct app *a = ctx;

	if (interrupt_before_open(a, p, len)) {
		a->interrupted = true;
		a->quitting = true;
		return;
	}
	a->typed += len;
	(void)!sess_user_input(&a->sess, p, len);
	app_viewer_typed(a);
}

void
app_info(struct app *a)
{
	struct sess *s = &a->sess;
	char line[512], uuid[37];
	const struct sc_record_stats *st = &s->rl.stats;

	snprintf(line, sizeof(line), "VM %s on %s, state %s", a->vmname,
	    app_host_for_policy(a) ? app_host_for_policy(a) : "(host unknown)",
	    sess_state_name(s->state));
	tty_notice(line);
	if (s->have_hello) {
		sc_uuid_format(s->hello.uuid, uuid);
		snprintf(line, sizeof(line), "domain %s, hv key %s (%s)", uuid,
		    a->pol.fp, policy_how_name(a->pol.how));
		tty_notice(line);
		if (a->pol.cert_valid) {
			long long left = (long long)a->pol.cert.expires -
			    (long long)time(NULL);

			snprintf(line, sizeof(line), "certificate for %s, expires "
			    "in %lldh%02lldm", a->pol.cert.host, left / 3600,
			    (left % 3600) / 60);
			tty_notice(line);
		}
	}
	snprintf(line, sizeof(line), "cipher %s, encoding %s",
	    SC_NOISE_PROTOCOL, s->encoding == SC_ENCODING_ARMOR ? "armored" :
	    s->encoding == SC_ENCODING_BINARY ? "binary" : "-");
	tty_notice(line);
	if (s->have_rl) {
		snprintf(line, sizeof(line), "records sent %llu / received %llu, "
		    "payload bytes sent %llu / received %llu, rekeys %llu / %llu",
		    (unsigned long long)st->records_sent,
		    (unsigned long long)st->records_recv,
		    (unsigned long long)st->bytes_sent,
		    (unsigned long long)st->bytes_recv,
		    (unsigned long long)st->rekeys_sent,
		    (unsigned long long)st->rekeys_recv);
		tty_notice(line);
	}
	if (a->opened_at != 0) {
		long age = (long)(time(NULL) - a->opened_at);

		snprintf(line, sizeof(line), "session age %ldh%02ldm%02lds%s%s",
		    age / 3600, (age / 60) % 60, age % 60,
		    (s->hs2_flags & SC_HS2_F_OWNER) ? ", you are an owner" : "",
		    (s->hs2_flags & SC_HS2_F_VIEWER) ? ", read-only viewer" : "");
		tty_notice(line);
	}
}

static void
esc_command(void *ctx, enum esc_cmd cmd, uint8_t arg)
{
	struct app *a = ctx;
	char help[1024];
	int r;

	switch (cmd) {
	case ESC_CMD_DISCONNECT:
		if (a->sess.state == SESS_CLOSING) {
			sess_close_abandon(&a->sess, "you disconnected again "
			    "before it answered");
			break;
		}
		tty_notice("disconnecting");
		app_close(a);
		break;
	case ESC_CMD_BREAK_PENDING:
		tty_notice("break: press the SysRq key (Enter: plain break, Esc: cancel)");
		break;
	case ESC_CMD_BREAK_CANCEL:
		tty_notice("break cancelled");
		break;
	case ESC_CMD_BREAK:
		if (!sess_break_key_ok(arg))
			tty_notice("not a SysRq key (a printable character, or "
			    "Enter for a plain break): break not sent");
		else if ((r = sess_send_break(&a->sess, arg)) == SC_ERR_PERM)
			tty_notice("read-only viewer: break not sent");
		else if (r < 0)
			tty_notice("no encrypted session: break not sent");
		break;
	case ESC_CMD_REKEY:
		if (sess_rekey(&a->sess) < 0)
			tty_notice("no encrypted session: nothing to rekey");
		else
			tty_notice("rekeyed (send direction)");
		break;
	case ESC_CMD_INFO:
		app_info(a);
		break;
	case ESC_CMD_HELP:
		esc_help(&a->esc, help, sizeof(help));
		tty_write("\r\n", 2);
		tty_write(help, strlen(help));
		break;
	case ESC_CMD_CMDLINE:
		app_cmdline(a);
		break;
	case ESC_CMD_SUSPEND:
		tty_suspend();
		update_status(a);
		break;
	case ESC_CMD_WINSIZE:
		app_type_winsize(a);
		break;
	}
}

/*
 * Remote stderr: clear text before the HELLO; after it, one sanitised
 * notice per line (not per write: a lone newline is no notice of its own),
 * at most STDERR_LINE_MAX bytes each; a partial line waits for its end, for
 * more to come, or for show_stderr_flush.
 */
static struct {
	uint8_t	buf[STDERR_LINE_MAX];
	size_t	len;
} errl;

static void
stderr_notice(const uint8_t *p, size_t len)
{
	char line[1024], tmp[4 * STDERR_LINE_MAX + 1];

	if (len == 0)
		return;
	sc_sanitize(tmp, sizeof(tmp), p, len);
	snprintf(line, sizeof(line), "dom0 stderr (not authenticated): %s", tmp);
	tty_notice(line);
}

static void
show_stderr_flush(void)
{
	stderr_notice(errl.buf, errl.len);
	errl.len = 0;
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
			show_stderr_flush();
			continue;
		}
		if (errl.len == sizeof(errl.buf))
			show_stderr_flush();
		errl.buf[errl.len++] = p[i];
	}
}

/*
 * The wire ended: what the remote side wrote to stderr just before (a
 * refusal's reason) may still be in the pipe.  Show it first, for up to
 * STDERR_DRAIN_MS, so that the reason comes before our verdict.
 */
static void
drain_stderr(struct app *a)
{
	unsigned long long until = sc_now_ms() + STDERR_DRAIN_MS;
	uint8_t b[4096];

	while (a->tr.efd >= 0 && sc_now_ms() < until) {
		struct pollfd p = { .fd = a->tr.efd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, 50) <= 0)
			continue;
		n = read(a->tr.efd, b, sizeof(b));
		if (n > 0)
			show_stderr(a, b, (size_t)n);
		else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
			close(a->tr.efd);
			a->tr.efd = -1;
		}
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

	while (outq_pending() > 0 && a->tr.wfd >= 0 && sc_now_ms() < until) {
		struct pollfd p = { .fd = a->tr.wfd, .events = POLLOUT };

		if (poll(&p, 1, 100) > 0 && outq_flush(a->tr.wfd) < 0)
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

int
app_run_session(struct app *a, enum sess_mode mode, const struct sess_config *extra)
{
	struct sess_config cfg;
	struct sess_sink sink = { a, sink_to_term, sink_to_wire, sink_notice,
	    sink_event, sink_clear_to_term };
	struct esc_sink esink = { a, esc_data, esc_command };
	static uint8_t buf[READ_CHUNK];
	char msg[512];
	int uin, uout, r, code = EXIT_OK_;
	bool wire_eof = false;

	a->log_fd = -1;
	open_user_tty(a, &uin, &uout);
	if (tty_init(uin >= 0 ? uin : uout, uout) < 0) {
		sc_error("cannot set up the terminal");
		return EXIT_LOCAL;
	}
	a->user_input = uin >= 0 && a->batch == BATCH_NONE &&
	    mode == SESS_MODE_CONSOLE;
	a->interactive = a->user_input && tty_is_tty() && isatty(uin);
	esc_init(&a->esc, a->esc_char);

	/* The transport.  Prompts (ssh) happen in cooked mode, before raw. */
	msg[0] = '\0';
	/* Connecting (ssh: TCP, host key, authentication) blocks: Ctrl-C
	 * must still end it at once. */
	{
		char why[300];

		snprintf(why, sizeof(why), "while connecting%s%s",
		    a->mode == MODE_SSH && a->ssh.host ? " to " : "",
		    a->mode == MODE_SSH && a->ssh.host ? a->ssh.host : "");
		tty_abort_on_interrupt(why);
	}
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
			fprintf(stderr, "sccrypt-term: cannot start the transport: %s\n",
			    sc_err(r));
		return (r == SC_ERR_UNTRUSTED || r == SC_ERR_PERM) ? EXIT_VERIFY :
		    r == SC_ERR_INVAL ? EXIT_USAGE : EXIT_TRANSPORT;
	}
	if (sc_set_nonblock(a->tr.wfd, 1) < 0 || sc_set_nonblock(a->tr.rfd, 1) < 0)
		sc_warn("cannot make the transport non-blocking");

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
	sess_init(&a->sess, &cfg, &sink);

	if (a->status_line && a->interactive)
		tty_status_enable(true);
	update_status(a);
	if (a->mode == MODE_WRAP || a->mode == MODE_SSH)
		start_reading_user(a);
	else if (!a->interactive && a->user_input && uin != STDIN_FILENO)
		a->user_input = false;	/* no terminal behind /dev/tty */

	while (!a->quitting) {
		struct pollfd p[5];
		int np = 0, iu = -1, it = -1, ie = -1, is, iw = -1;
		int timeout = -1;
		unsigned sig;

		p[np].fd = tty_sigfd(); p[np].events = POLLIN; is = np++;
		if (a->read_user && uin >= 0 && outq_pending() < OUTQ_HIGH) {
			p[np].fd = uin; p[np].events = POLLIN; iu = np++;
		}
		if (!wire_eof) {
			p[np].fd = a->tr.rfd; p[np].events = POLLIN; it = np++;
		}
		if (a->tr.efd >= 0) {
			p[np].fd = a->tr.efd; p[np].events = POLLIN; ie = np++;
		}
		if (outq_pending() > 0) {
			p[np].fd = a->tr.wfd; p[np].events = POLLOUT; iw = np++;
		}
		if (wire_eof && a->tr.efd < 0)
			break;
		timeout = settle_clear(a);
		{	/* stalled-session detection (PROTOCOL.md §10) */
			int ka = sess_keepalive(&a->sess, sc_now_ms());

			if (ka >= 0 && (timeout < 0 || ka < timeout))
				timeout = ka;
		}
		if (a->user_eof && sess_is_open(&a->sess)) {
			/* Input is over: close once it has all gone out and
			 * the console has been quiet for linger_ms. */
			unsigned long long now = sc_now_ms(),
			    end = a->last_output_ms + a->linger_ms;

			if (outq_pending() == 0 && now >= end) {
				app_close(a);
				continue;
			}
			if (timeout < 0 || timeout > 100)
				timeout = outq_pending() > 0 || end - now > 100 ?
				    100 : (int)(end - now);
		}
		if (a->sess.state == SESS_CLOSING) {
			unsigned long long now = sc_now_ms();

			if (now >= a->close_deadline_ms) {
				char why[64];

				snprintf(why, sizeof(why), "no answer within %d s",
				    APP_CLOSE_WAIT_MS / 1000);
				sess_close_abandon(&a->sess, why);
				continue;
			}
			if (timeout < 0 ||
			    a->close_deadline_ms - now < (unsigned long long)timeout)
				timeout = (int)(a->close_deadline_ms - now);
		}
		if (poll(p, (nfds_t)np, timeout) < 0) {
			if (errno == EINTR)
				continue;
			sc_error("poll: %s", strerror(errno));
			code = EXIT_LOCAL;
			break;
		}
		if (p[is].revents & POLLIN) {
			sig = tty_take_signals();
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
		if (iw >= 0 && (p[iw].revents & (POLLOUT | POLLERR | POLLHUP))) {
			if (outq_flush(a->tr.wfd) < 0) {
				outq.off = outq.len = 0;
				wire_eof = true;
				(void)!sess_wire_eof(&a->sess);
			}
		}
		if (it >= 0 && (p[it].revents & (POLLIN | POLLHUP | POLLERR))) {
			ssize_t n = read(a->tr.rfd, buf, sizeof(buf));

			if (n > 0) {
				a->last_output_ms = sc_now_ms();
				(void)!sess_from_wire(&a->sess, buf, (size_t)n);
			} else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
				/* EOF, or EIO from a pty whose child exited */
				wire_eof = true;
				if (!sess_is_open(&a->sess))
					drain_stderr(a);
				(void)!sess_wire_eof(&a->sess);
			}
		}
		if (ie >= 0 && (p[ie].revents & (POLLIN | POLLHUP | POLLERR))) {
			ssize_t n = read(a->tr.efd, buf, sizeof(buf));

			if (n > 0)
				show_stderr(a, buf, (size_t)n);
			else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
				show_stderr_flush();
				close(a->tr.efd);
				a->tr.efd = -1;
			}
		}
		if (iu >= 0 && !a->quitting &&
		    (p[iu].revents & (POLLIN | POLLHUP | POLLERR))) {
			ssize_t n;

			(void)settle_clear(a);
			n = read(uin, buf, sizeof(buf));

			if (n > 0)
				esc_feed(&a->esc, buf, (size_t)n, &esink);
			else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
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
		if (outq_pending() > 0 && outq_flush(a->tr.wfd) < 0) {
			outq.off = outq.len = 0;
			wire_eof = true;
			(void)!sess_wire_eof(&a->sess);
		}
		if (a->sess.state == SESS_FAILED || a->sess.state == SESS_DONE)
			a->quitting = true;
	}
	drain_output(a);
	show_stderr_flush();
	if (a->log_fd >= 0)
		close(a->log_fd);
	tty_status_enable(false);
	tty_restore();
	transport_close(&a->tr);

	if (a->sess.state == SESS_FAILED) {
		fprintf(stderr, "\r\nsccrypt-term: %s\n", a->sess.errmsg);
		code = app_exit_code(a->sess.exit_class);
		if (a->sess.exit_class == SESS_X_TRANSPORT && !a->sess.have_hello &&
		    a->tr.reaped && WIFEXITED(a->tr.status) &&
		    dom0_refusal(WEXITSTATUS(a->tr.status)) != NULL) {
			fprintf(stderr, "sccrypt-term: dom0 refused the console "
			    "of %s: %s (sccrypt-console exit status %d; dom0's "
			    "own words, if any, are above, not authenticated)\n",
			    a->vmname, dom0_refusal(WEXITSTATUS(a->tr.status)),
			    WEXITSTATUS(a->tr.status));
			code = EXIT_RELAY;
		} else if (a->sess.exit_class == SESS_X_TRANSPORT && a->tr.reaped &&
		    WIFEXITED(a->tr.status) && WEXITSTATUS(a->tr.status) != 0 &&
		    a->mode != MODE_SSH)
			fprintf(stderr, "sccrypt-term: the transport command "
			    "exited with status %d\n", WEXITSTATUS(a->tr.status));
	} else if (a->sess.state != SESS_DONE && code == EXIT_OK_ &&
	    !a->quitting) {
		code = EXIT_TRANSPORT;
	}
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
	sess_wipe(&a->sess);
	free(outq.buf);
	memset(&outq, 0, sizeof(outq));
	return code;
}
