/*
 * sinks.c — what the protocol session (session.h) and the escape processor
 * (escape.h) ask of sccrypt-term: console output and dom0's clear text for
 * the user's terminal, bytes for the transport's queue, notices, session
 * events (HELLO, open, owner results, end), and the ~ commands.  The status
 * line and the orderly close are here too, since events drive them.
 * loop.c installs these with app_sess_sink() and app_esc_sink().
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "core/err.h"
#include "encode.h"
#include "io.h"
#include "outq.h"
#include "term.h"

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
int
app_settle_clear(struct app *a)
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
	struct app *a = ctx;

	return outq_push(&a->outq, p, len);
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

void
app_update_status(struct app *a)
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
 * End the session in order: our CLOSE, then wait (APP_CLOSE_WAIT_MS) for
 * the hv's, which says that everything we sent arrived.  Without it the
 * session fails (exit 5): the end of the input cannot be known to be there.
 */
void
app_close(struct app *a)
{
	if (sess_close(&a->sess) < 0 || a->sess.state != SESS_CLOSING) {
		a->quitting = true;
		return;
	}
	if (a->close_deadline_ms == 0)
		a->close_deadline_ms = sc_now_ms() + APP_CLOSE_WAIT_MS;
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
void
app_start_reading_user(struct app *a)
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
on_hello_event(struct app *a)
{
	tty_clear_end();
	transport_set_raw(&a->tr);
	/*
	 * Pipe mode has not read the terminal so far: what waits there was
	 * typed before the HELLO.  If clear text was still in flight it may
	 * hold the terminal's answers to it: discard it.
	 */
	if (a->mode == MODE_PIPE && a->interactive && !a->read_user &&
	    app_settle_clear(a) >= 0 && tcflush(tty_in(), TCIFLUSH) == 0)
		tty_notice("input typed while dom0's clear text was "
		    "arriving was discarded");
	if (a->mode == MODE_PIPE)
		app_start_reading_user(a);
}

static void
on_open_event(struct app *a)
{
	a->opened_at = time(NULL);
	app_start_reading_user(a);
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
}

/* A line of the owner command's result: the batch's output, or a notice. */
static void
owner_line(struct app *a, const char *line)
{
	if (a->batch == BATCH_ACL)
		printf("%s\n", line);
	else
		tty_notice(line);
}

static void
on_owner_result_event(struct app *a)
{
	struct sess *s = &a->sess;
	char fp[SC_FINGERPRINT_LEN], line[256];
	unsigned i;

	if (s->owner_status < 0)
		snprintf(line, sizeof(line), "owner command refused by "
		    "the hypervisor: %s", sc_err(s->owner_status));
	else
		snprintf(line, sizeof(line), "owner command done; the "
		    "access list has %u key(s):", s->owner_count);
	owner_line(a, line);
	for (i = 0; i < s->owner_count; i++) {
		sc_fingerprint(s->owner_keys[i], SC_KEY_LEN, fp);
		snprintf(line, sizeof(line), "  %s%s", fp,
		    (s->owner_keys[i][SC_KEY_LEN] & SC_ACL_F_OWNER) ?
		    " (owner)" : "");
		owner_line(a, line);
	}
	if (a->batch == BATCH_ACL) {
		fflush(stdout);
		a->batch_status = s->owner_status;
		a->batch_done = true;
		app_close(a);
	}
}

static void
sink_event(void *ctx, enum sess_event ev)
{
	struct app *a = ctx;

	switch (ev) {
	case SESS_EV_HELLO:
		on_hello_event(a);
		break;
	case SESS_EV_OPEN:
		on_open_event(a);
		break;
	case SESS_EV_OWNER_RESULT:
		on_owner_result_event(a);
		break;
	case SESS_EV_CLOSED:
	case SESS_EV_FAILED:
		a->quitting = true;
		break;
	}
	app_update_status(a);
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
		app_update_status(a);
		break;
	case ESC_CMD_WINSIZE:
		app_type_winsize(a);
		break;
	}
}

void
app_sess_sink(struct app *a, struct sess_sink *sink)
{
	*sink = (struct sess_sink){ .ctx = a, .to_term = sink_to_term,
	    .to_wire = sink_to_wire, .notice = sink_notice, .event = sink_event,
	    .clear_to_term = sink_clear_to_term };
}

void
app_esc_sink(struct app *a, struct esc_sink *sink)
{
	*sink = (struct esc_sink){ .ctx = a, .data = esc_data,
	    .cmd = esc_command };
}
