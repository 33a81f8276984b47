/*
 * session.c — client side of the SCCrypt protocol (see session.h): the
 * session's life (init, failure, end), the frame dispatch, the clear phase
 * before the HELLO magic, and the user's input.  The handshake steps are in
 * session_hs.c, the records the hv sends in session_rec.c, and what the user
 * can ask of an open session in session_ctl.c; session_int.h joins them.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/crypto.h"
#include "core/err.h"
#include "log.h"
#include "secmem.h"
#include "session.h"
#include "session_int.h"

#define CLEAR_CHUNK	4096

void
sess_notice(struct sess *s, const char *fmt, ...)
{
	char line[SESS_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (s->sink.notice != NULL)
		s->sink.notice(s->sink.ctx, line);
}

/* Record the first failure; later ones do not overwrite it. */
int
sess_fail(struct sess *s, enum sess_exit cls, int err, const char *fmt, ...)
{
	va_list ap;

	if (s->state == SESS_FAILED)
		return s->err;
	s->state = SESS_FAILED;
	s->exit_class = cls;
	s->err = err < 0 ? err : SC_ERR_INTERNAL;
	va_start(ap, fmt);
	vsnprintf(s->errmsg, sizeof(s->errmsg), fmt, ap);
	va_end(ap);
	if (s->have_rl)
		sc_record_wipe(&s->rl);
	s->have_rl = false;
	sc_noise_hs_wipe(&s->hs);
	sc_memzero(s->typeahead, sizeof(s->typeahead));
	s->typeahead_len = 0;
	if (s->sink.event != NULL)
		s->sink.event(s->sink.ctx, SESS_EV_FAILED);
	return s->err;
}

void
sess_done(struct sess *s)
{
	if (s->state == SESS_FAILED || s->state == SESS_DONE)
		return;
	s->state = SESS_DONE;
	if (s->have_rl)
		sc_record_wipe(&s->rl);
	s->have_rl = false;
	if (s->sink.event != NULL)
		s->sink.event(s->sink.ctx, SESS_EV_CLOSED);
}

const char *
sess_state_name(enum sess_state st)
{
	switch (st) {
	case SESS_CLEAR:	return "clear";
	case SESS_WAIT_HELLO:	return "hello";
	case SESS_HANDSHAKE:	return "handshake";
	case SESS_PROTECTING:	return "protecting";
	case SESS_OPEN:		return "encrypted";
	case SESS_CLOSING:	return "closing";
	case SESS_DONE:		return "closed";
	case SESS_FAILED:	return "failed";
	}
	return "?";
}

const char *
sess_frame_name(uint8_t t)
{
	switch (t) {
	case SC_FRAME_HELLO:		return "HELLO";
	case SC_FRAME_HS_INIT:		return "HS_INIT";
	case SC_FRAME_HS_RESP:		return "HS_RESP";
	case SC_FRAME_RECORD:		return "RECORD";
	case SC_FRAME_ERROR:		return "ERROR";
	case SC_FRAME_PROTECT:		return "PROTECT";
	case SC_FRAME_PROTECT_OK:	return "PROTECT_OK";
	case SC_FRAME_BYE:		return "BYE";
	}
	return "unknown";
}

void
sess_init(struct sess *s, const struct sess_config *cfg,
    const struct sess_sink *sink)
{
	memset(s, 0, sizeof(*s));
	s->cfg = *cfg;
	s->sink = *sink;
	s->state = SESS_CLEAR;
	sc_hello_scanner_init(&s->scan);
}

void
sess_wipe(struct sess *s)
{
	if (s->have_rl)
		sc_record_wipe(&s->rl);
	s->have_rl = false;
	sc_noise_hs_wipe(&s->hs);
	sc_memzero(s->typeahead, sizeof(s->typeahead));
	sc_memzero(s->ptbuf, sizeof(s->ptbuf));
	sc_memzero(s->recbuf, sizeof(s->recbuf));
	s->typeahead_len = 0;
}

bool
sess_is_open(const struct sess *s)
{
	return s->state == SESS_OPEN;
}

bool
sess_in_clear(const struct sess *s)
{
	return s->state == SESS_CLEAR;
}

/* Encode one frame and hand it to the transport. */
int
sess_send_frame(struct sess *s, uint8_t type, const uint8_t *body, size_t len)
{
	struct sc_buf out;
	int r;

	sc_buf_init(&out, s->wirebuf, sizeof(s->wirebuf));
	if ((r = sc_frame_encode(&out, s->encoding, type, body, len)) < 0)
		return sess_fail(s, SESS_X_LOCAL, r, "cannot encode a %s frame: %s",
		    sess_frame_name(type), sc_err(r));
	if ((r = s->sink.to_wire(s->sink.ctx, out.data, out.len)) < 0)
		return sess_fail(s, SESS_X_TRANSPORT, r, "transport write failed: %s",
		    sc_err(r));
	return 0;
}

/* Seal one record (rekeying first when due) and send it. */
int
sess_send_record(struct sess *s, uint8_t type, const uint8_t *p, size_t len)
{
	struct sc_buf ct;
	int r;

	if (s->state != SESS_OPEN || !s->have_rl)
		return SC_ERR_STATE;
	if (type != SC_REC_REKEY && sc_record_need_rekey(&s->rl)) {
		if ((r = sess_send_record(s, SC_REC_REKEY, NULL, 0)) < 0)
			return r;
	}
	if (type != SC_REC_PING && type != SC_REC_PONG)
		s->ka_input = true;
	sc_buf_init(&ct, s->recbuf, sizeof(s->recbuf));
	if ((r = sc_record_seal(&s->rl, type, p, len, &ct)) < 0)
		return sess_fail(s, SESS_X_LOCAL, r, "cannot seal a record: %s",
		    sc_err(r));
	return sess_send_frame(s, SC_FRAME_RECORD, ct.data, ct.len);
}

int
sess_send_data(struct sess *s, const uint8_t *p, size_t len)
{
	int r;

	while (len > 0) {
		size_t n = SC_MIN(len, (size_t)SC_RECORD_PAYLOAD_MAX);

		if ((r = sess_send_record(s, SC_REC_DATA, p, n)) < 0)
			return r;
		p += n;
		len -= n;
	}
	return 0;
}

/*
 * The encrypted session ended without the hv's CLOSE: whoever cut it (dom0,
 * or the network on its way), the end of the output or of the input may be
 * missing, and nothing says how much.  That is the tamper class (exit 5).
 */
int
sess_cut_off(struct sess *s, const char *how)
{
	if (s->state == SESS_CLOSING)
		return sess_fail(s, SESS_X_TAMPER, SC_ERR_CLOSED, "the session ended "
		    "without the hypervisor's CLOSE (%s): it never confirmed "
		    "your CLOSE, so the end of your input may not have reached "
		    "the VM", how);
	return sess_fail(s, SESS_X_TAMPER, SC_ERR_CLOSED, "the session ended without "
	    "the hypervisor's CLOSE (%s): the end of the console output or of "
	    "your input may be missing (cut by dom0 or the network)", how);
}

static int
on_frame(struct sess *s, const struct sc_frame *f)
{
	struct sc_buf body;

	sc_buf_init_ro(&body, f->body, f->len);
	if (f->type == SC_FRAME_ERROR) {
		uint16_t code = 0;
		char text[SC_ERRMSG_MAX + 1];

		if (sc_errorframe_parse(&body, &code, text) < 0)
			snprintf(text, sizeof(text), "(malformed ERROR frame)");
		return sess_on_error_frame(s, code, text);
	}
	if (f->type == SC_FRAME_BYE) {
		if (s->state == SESS_OPEN || s->state == SESS_CLOSING)
			return sess_cut_off(s, "dom0 ended it (BYE)");
		return sess_fail(s, SESS_X_TRANSPORT, SC_ERR_CLOSED,
		    "the relay closed the connection (BYE) in state %s",
		    sess_state_name(s->state));
	}
	switch (s->state) {
	case SESS_WAIT_HELLO:
		if (f->type == SC_FRAME_HELLO)
			return sess_on_hello(s, &body);
		break;
	case SESS_HANDSHAKE:
		if (f->type == SC_FRAME_HS_RESP)
			return sess_on_hs_resp(s, f->body, f->len);
		break;
	case SESS_PROTECTING:
		if (f->type == SC_FRAME_PROTECT_OK)
			return sess_on_protect_ok(s, &body);
		break;
	case SESS_OPEN:
	case SESS_CLOSING:
		if (f->type == SC_FRAME_RECORD)
			return sess_on_record(s, f->body, f->len);
		break;
	default:
		break;
	}
	return sess_fail(s, SESS_X_PROTOCOL, SC_ERR_TYPE,
	    "unexpected %s frame from dom0 (state %s)", sess_frame_name(f->type),
	    sess_state_name(s->state));
}

static void show_clear_flush(struct sess *s);

/* Clear text from dom0: to its own sink, never to to_term (session.h). */
static void
show_clear_now(struct sess *s, const uint8_t *p, size_t len)
{
	if (len == 0)
		return;
	s->clear_shown += len;
	s->clear_in_flight = true;
	s->pre_mid_line = p[len - 1] != '\n' && p[len - 1] != '\r';
	if (s->sink.clear_to_term != NULL)
		s->sink.clear_to_term(s->sink.ctx, p, len);
}

/*
 * The same, without sccrypt-console's preamble line (SC_CONSOLE_PREAMBLE,
 * exactly, at the start of a line): it is for a human on xenconsole.  A
 * partial match is held (s->pre_pos bytes, always a prefix of the
 * preamble) until it is decided; a mismatch releases it in order.
 */
static void
show_clear(struct sess *s, const uint8_t *p, size_t len)
{
	static const char pre[] = SC_CONSOLE_PREAMBLE;
	size_t i, run = 0;	/* p[run..i) is clear text not shown yet */

	for (i = 0; i < len; i++) {
		bool line_start;

		if (s->pre_pos > 0) {
			if (p[i] == (uint8_t)pre[s->pre_pos]) {
				if (++s->pre_pos == SC_CONSOLE_PREAMBLE_LEN) {
					s->pre_pos = 0;	/* the whole line: not shown */
					s->pre_mid_line = false;
				}
				run = i + 1;
				continue;
			}
			/* mismatch: the held prefix was clear text; this byte
			 * is examined afresh */
			show_clear_flush(s);
			run = i;
		}
		line_start = i > run ? p[i - 1] == '\n' || p[i - 1] == '\r' :
		    !s->pre_mid_line;
		if (line_start && p[i] == (uint8_t)pre[0]) {
			show_clear_now(s, p + run, i - run);
			s->pre_pos = 1;
			run = i + 1;
		}
	}
	show_clear_now(s, p + run, len - run);
}

/* End of the clear phase: a held partial preamble was clear text. */
static void
show_clear_flush(struct sess *s)
{
	size_t n = s->pre_pos;

	s->pre_pos = 0;
	show_clear_now(s, (const uint8_t *)SC_CONSOLE_PREAMBLE, n);
}

/*
 * Keep user bytes for the first records (bounded; the excess is counted).
 * In the clear phase, bytes that arrive while clear text is in flight are
 * not kept: they may be the terminal answering that text.
 */
static void
hold_input(struct sess *s, const uint8_t *in, size_t len)
{
	size_t n;

	if (s->state == SESS_CLEAR && s->clear_in_flight) {
		s->inflight_dropped += len;
		return;
	}
	n = SC_MIN(len, sizeof(s->typeahead) - s->typeahead_len);

	memcpy(s->typeahead + s->typeahead_len, in, n);
	s->typeahead_len += n;
	s->typeahead_dropped += len - n;
}

/*
 * Clear text arrived: p[0..len) was shown, and `held` says whether the
 * scanner now holds back a partial magic after it.  A prompt is showing
 * when the text ends in something other than a line end; a held partial
 * magic starts with CR, so it is a line end (or the HELLO) either way.
 */
static void
clear_seen(struct sess *s, const uint8_t *p, size_t len, bool held)
{
	uint64_t n;

	if (s->state != SESS_CLEAR)
		return;
	if (held)
		s->prompt_showing = false;
	else if (len > 0)
		s->prompt_showing = p[len - 1] != '\n' && p[len - 1] != '\r';
	if (!s->prompt_showing || s->cfg.clear_input != SESS_CLEAR_PROMPT)
		return;
	/* Bytes typed before this prompt appeared were not typed at it, and
	 * may have been meant for the VM: neither send them in clear nor keep
	 * them for the VM (they may be an answer typed too early). */
	n = s->typeahead_len + s->typeahead_dropped;
	if (n == 0)
		return;
	sc_memzero(s->typeahead, sizeof(s->typeahead));
	s->typeahead_len = 0;
	s->typeahead_dropped = 0;
	sess_notice(s, "%llu byte%s typed before this prompt appeared %s not sent; "
	    "type the answer again", (unsigned long long)n, n == 1 ? "" : "s",
	    n == 1 ? "was" : "were");
}

void
sess_clear_shown(struct sess *s, const uint8_t *p, size_t len)
{
	if (s->state != SESS_CLEAR || len == 0)
		return;
	s->clear_shown += len;
	s->clear_in_flight = true;
	clear_seen(s, p, len, false);
}

void
sess_clear_settled(struct sess *s)
{
	s->clear_in_flight = false;
}

/*
 * The clear phase: scan up to CLEAR_CHUNK bytes for the HELLO magic,
 * showing the clear text before it; at the magic, frames start.  Returns 0
 * or the failure; *consumed says how much of in was used.
 */
static int
from_wire_clear(struct sess *s, const uint8_t *in, size_t len,
    size_t *consumed)
{
	size_t chunk = SC_MIN(len, (size_t)CLEAR_CHUNK), clear_len = 0;
	int r;

	r = sc_hello_scan(&s->scan, in, chunk, s->clearbuf, &clear_len,
	    consumed);
	show_clear(s, s->clearbuf, clear_len);
	if (r == 0)
		clear_seen(s, s->clearbuf, clear_len,
		    s->scan.matched > 0 || s->pre_pos > 0);
	if (r < 0)
		return sess_fail(s, SESS_X_PROTOCOL, r,
		    "bad HELLO announcement: %s", sc_err(r));
	if (*consumed > chunk)
		return sess_fail(s, SESS_X_LOCAL, SC_ERR_INTERNAL,
		    "scanner overrun");
	if (r == 0)
		return 0;
	show_clear_flush(s);
	s->encoding = s->scan.encoding;
	if ((r = sc_frame_decoder_init(&s->dec, s->encoding)) < 0)
		return sess_fail(s, SESS_X_PROTOCOL, r, "unsupported encoding");
	s->state = SESS_WAIT_HELLO;
	if (s->sink.event != NULL)
		s->sink.event(s->sink.ctx, SESS_EV_HELLO);
	return 0;
}

#define FROM_WIRE_MORE	1	/* from_wire_frame: a partial frame, kept */

/* At most one frame, handled.  0, FROM_WIRE_MORE, or the failure. */
static int
from_wire_frame(struct sess *s, const uint8_t *in, size_t len,
    size_t *consumed)
{
	struct sc_frame f;
	int r;

	r = sc_frame_decode(&s->dec, in, len, consumed, &f);
	if (r < 0)
		return sess_fail(s, SESS_X_PROTOCOL, r, "malformed frame from "
		    "dom0 (%s): session closed, nothing was sent to the VM",
		    sc_err(r));
	if (*consumed > len)
		return sess_fail(s, SESS_X_LOCAL, SC_ERR_INTERNAL,
		    "decoder overrun");
	if (r == 1)
		return on_frame(s, &f);
	return *consumed == 0 ? FROM_WIRE_MORE : 0;
}

int
sess_from_wire(struct sess *s, const uint8_t *in, size_t len)
{
	int r;

	while (len > 0) {
		size_t consumed = 0;

		if (s->state == SESS_FAILED)
			return s->err;
		if (s->state == SESS_DONE)
			return 0;	/* trailing bytes after the end are ignored */
		if (s->state == SESS_CLEAR)
			r = from_wire_clear(s, in, len, &consumed);
		else
			r = from_wire_frame(s, in, len, &consumed);
		if (r < 0)
			return r;
		if (r == FROM_WIRE_MORE)
			break;
		in += consumed;
		len -= consumed;
	}
	return s->state == SESS_FAILED ? s->err : 0;
}

int
sess_wire_eof(struct sess *s)
{
	switch (s->state) {
	case SESS_DONE:
		return 0;
	case SESS_FAILED:
		return s->err;
	case SESS_CLEAR: {
		/* A held-back partial magic was clear text after all. */
		size_t n = sc_hello_scan_flush(&s->scan, s->clearbuf);

		show_clear(s, s->clearbuf, n);
		show_clear_flush(s);
		return sess_fail(s, SESS_X_TRANSPORT, SC_ERR_EOF,
		    "the connection closed before the console started");
	}
	case SESS_OPEN:
	case SESS_CLOSING:
		return sess_cut_off(s, sc_frame_decoder_partial(&s->dec) ?
		    "the connection closed in the middle of a frame" :
		    "the connection closed");
	default:
		return sess_fail(s, SESS_X_TRANSPORT, SC_ERR_EOF,
		    "the connection closed during the %s phase",
		    sess_state_name(s->state));
	}
}

/*
 * The clear phase.  Only a person at a terminal answering a prompt that is
 * showing sends clear bytes, and only up to the end of the answer (the
 * first CR or LF); the rest waits for the next prompt or for the session.
 */
static int
clear_input(struct sess *s, const uint8_t *in, size_t len)
{
	size_t n;
	int r;

	if (s->cfg.clear_input != SESS_CLEAR_PROMPT || !s->prompt_showing) {
		hold_input(s, in, len);
		return 0;
	}
	for (n = 0; n < len && in[n] != '\r' && in[n] != '\n'; n++)
		;
	if (n < len) {
		n++;			/* the line end answers the prompt */
		s->prompt_showing = false;
	}
	if ((r = s->sink.to_wire(s->sink.ctx, in, n)) < 0)
		return sess_fail(s, SESS_X_TRANSPORT, r,
		    "transport write failed: %s", sc_err(r));
	if (n < len)
		hold_input(s, in + n, len - n);
	return 0;
}

int
sess_user_input(struct sess *s, const uint8_t *in, size_t len)
{
	switch (s->state) {
	case SESS_CLEAR:
		if (len == 0)
			return 0;
		return clear_input(s, in, len);
	case SESS_WAIT_HELLO:
	case SESS_HANDSHAKE:
	case SESS_PROTECTING:
		hold_input(s, in, len);
		return 0;
	case SESS_OPEN:
		if (s->hs2_flags & SC_HS2_F_VIEWER)
			return 0;
		return sess_send_data(s, in, len);
	case SESS_CLOSING:		/* nothing after our CLOSE */
	case SESS_DONE:
		return 0;
	case SESS_FAILED:
		return s->err;
	}
	return SC_ERR_STATE;
}
