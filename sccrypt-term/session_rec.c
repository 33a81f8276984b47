/*
 * session_rec.c — the records the hypervisor sends an open session (see
 * session.h): console output, replayed history, notices, owner results,
 * PINGs and the CLOSE that ends the session.
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

/*
 * Whether the hv's text only repeats what our own words say (the takeover
 * notice said the same thing twice): they share their first
 * SAYS_SAME_PREFIX bytes, or ours contains theirs.
 */
#define SAYS_SAME_PREFIX	12
static bool
says_same(const char *ours, const char *theirs)
{
	return strncasecmp(ours, theirs, SAYS_SAME_PREFIX) == 0 ||
	    strstr(ours, theirs) != NULL;
}

static void
show_notice(struct sess *s, struct sc_buf *b)
{
	uint16_t code;
	uint64_t value;
	const uint8_t *tp;
	size_t tn;
	char text[4 * 255 + 1];

	if (sc_buf_get_u16(b, &code) < 0 || sc_buf_get_u64(b, &value) < 0 ||
	    sc_buf_get_str8(b, &tp, &tn, 255) < 0) {
		sess_notice(s, "malformed notice from the hypervisor");
		return;
	}
	sc_sanitize(text, sizeof(text), tp, tn);
	switch (code) {
	case SC_NOTICE_LOST_OUTPUT:
		/* The hv also queues the HS2 lost count as a notice: once. */
		if (s->lost_pending && value == s->lost_bytes) {
			s->lost_pending = false;
			break;
		}
		s->lost_pending = false;
		sess_notice(s, "%llu bytes of console output were lost%s%s",
		    (unsigned long long)value, tn ? ": " : "", text);
		break;
	case SC_NOTICE_TAKEN_OVER:
		/* Sent to the session that did the taking over. */
		tn = tn && !says_same("took over from another session", text);
		sess_notice(s, "this session took the console over from another "
		    "session%s%s", tn ? ": " : "", tn ? text : "");
		break;
	case SC_NOTICE_ACL_CHANGED:
		tn = tn && !says_same("the VM's access list changed", text);
		sess_notice(s, "the VM's access list changed%s%s", tn ? ": " : "",
		    tn ? text : "");
		break;
	case SC_NOTICE_HISTORY_END:
		rplf_end(&s->replay);
		sess_notice(s, "end of history replay (%llu bytes)",
		    (unsigned long long)value);
		if (s->lost_deferred)
			sess_show_lost(s);
		break;
	case SC_NOTICE_SYSRQ:
		if (value >= 0x21 && value < 0x7f)
			sess_notice(s, "SysRq '%c' delivered", (char)value);
		else
			sess_notice(s, "break delivered");
		break;
	default:
		sess_notice(s, "hypervisor notice %u (%llu)%s%s", code,
		    (unsigned long long)value, tn ? ": " : "", text);
		break;
	}
}

static int
on_owner_result(struct sess *s, struct sc_buf *b)
{
	uint32_t st;
	uint8_t count;
	unsigned i;

	if (sc_buf_get_u8(b, &s->owner_cmd) < 0 || sc_buf_get_u32(b, &st) < 0 ||
	    sc_buf_get_u8(b, &count) < 0 || count > SC_ACL_MAX)
		return sess_fail(s, SESS_X_PROTOCOL, SC_ERR_FORMAT,
		    "malformed OWNER_RESULT record");
	for (i = 0; i < count; i++)
		if (sc_buf_get_bytes(b, s->owner_keys[i], SC_KEY_LEN + 1) < 0)
			return sess_fail(s, SESS_X_PROTOCOL, SC_ERR_FORMAT,
			    "malformed OWNER_RESULT record");
	if (sc_buf_expect_end(b) < 0)
		return sess_fail(s, SESS_X_PROTOCOL, SC_ERR_FORMAT,
		    "malformed OWNER_RESULT record");
	s->owner_status = (int32_t)st;
	s->owner_count = count;
	if (s->sink.event != NULL)
		s->sink.event(s->sink.ctx, SESS_EV_OWNER_RESULT);
	return 0;
}

static const char *
close_reason(uint8_t r)
{
	switch (r) {
	case SC_CLOSE_NORMAL:		return "closed by the hypervisor";
	case SC_CLOSE_TAKEN_OVER:	return "taken over by another session";
	case SC_CLOSE_PROTOCOL:		return "protocol violation reported by the hypervisor";
	case SC_CLOSE_SHUTDOWN:		return "the domain or hypervisor is shutting down";
	case SC_CLOSE_ACL:		return "your key was removed from the VM's access list";
	}
	return "closed (unknown reason)";
}

/*
 * The hv's CLOSE: the session ends.  Its counts are checked by the record
 * layer (sent = what we opened before it); recv says how many of our
 * records the hv processed.  Exit 0 needs all of them, unless the hv ended
 * the session for a reason of its own (shutdown, takeover, ACL), where
 * what was in flight is lost by design and counted in a notice.
 */
static int
on_close(struct sess *s, struct sc_buf *pt)
{
	struct sc_record_close c;
	uint64_t lost;
	char text[4 * SC_CLOSE_TEXT_MAX + 1];
	int r;

	if ((r = sc_record_close_parse(&s->rl, pt->data, pt->len, &c)) < 0)
		return sess_fail(s, SESS_X_PROTOCOL, r, "%s CLOSE record from the "
		    "hypervisor (%s)", r == SC_ERR_MISMATCH ? "inconsistent" :
		    "malformed", sc_err(r));
	sc_sanitize(text, sizeof(text), c.text, c.text_len);
	lost = s->rl.stats.records_sent - c.recv;
	if (s->state == SESS_CLOSING && lost == 0) {
		sess_done(s);		/* the answer to our CLOSE */
		return 0;
	}
	if (c.text_len > 0 && says_same(close_reason(c.reason), text))
		sess_notice(s, "session %s", text);	/* the hv's, more precise */
	else
		sess_notice(s, "session %s%s%s", close_reason(c.reason),
		    c.text_len ? ": " : "", text);
	if (c.reason == SC_CLOSE_PROTOCOL)
		return sess_fail(s, SESS_X_PROTOCOL, SC_ERR_CLOSED, "%s",
		    close_reason(c.reason));
	if (lost > 0 && c.reason == SC_CLOSE_NORMAL)
		return sess_fail(s, SESS_X_TAMPER, SC_ERR_CLOSED, "the hypervisor "
		    "closed the session without receiving your last %llu "
		    "record%s: the end of your input did not reach the VM",
		    (unsigned long long)lost, lost == 1 ? "" : "s");
	if (lost > 0)
		sess_notice(s, "your last %llu record%s did not reach the VM before "
		    "the session ended", (unsigned long long)lost,
		    lost == 1 ? "" : "s");
	sess_done(s);
	return 0;
}

static void
replay_emit(void *ctx, const uint8_t *p, size_t len)
{
	struct sess *s = ctx;

	s->sink.to_term(s->sink.ctx, p, len);
}

int
sess_on_record(struct sess *s, const uint8_t *p, size_t len)
{
	struct sc_buf pt;
	uint8_t type;
	int r;

	sc_buf_init(&pt, s->ptbuf, sizeof(s->ptbuf));
	if ((r = sc_record_open(&s->rl, p, len, &type, &pt)) < 0)
		return sess_fail(s, SESS_X_TAMPER, r,
		    "connection tampered with \xe2\x80\x94 session closed (%s)",
		    sc_err(r));
	if (type == SC_REC_CLOSE)
		return on_close(s, &pt);
	/* After our CLOSE only the hv's CLOSE matters: output is not shown. */
	if (s->state == SESS_CLOSING)
		return 0;
	switch (type) {
	case SC_REC_DATA:
		if (s->lost_deferred)	/* live output: the replay is over */
			sess_show_lost(s);
		rplf_end(&s->replay);
		if (pt.len > 0)
			s->sink.to_term(s->sink.ctx, pt.data, pt.len);
		break;
	case SC_REC_HISTORY: {
		uint8_t last;

		if (sc_buf_get_u8(&pt, &last) < 0)
			return sess_fail(s, SESS_X_PROTOCOL, SC_ERR_FORMAT,
			    "malformed HISTORY record");
		if (sc_buf_avail(&pt) > 0)	/* without its queries */
			rplf_filter(&s->replay, sc_buf_rptr(&pt),
			    sc_buf_avail(&pt), replay_emit, s);
		s->history_bytes_shown += sc_buf_avail(&pt);
		break;
	}
	case SC_REC_NOTICE:
		show_notice(s, &pt);
		break;
	case SC_REC_PING:
		if (pt.len > 64)
			return sess_fail(s, SESS_X_PROTOCOL, SC_ERR_TOOLONG, "oversized PING");
		{
			uint8_t echo[64];
			size_t n = pt.len;

			memcpy(echo, pt.data, n);
			return sess_send_record(s, SC_REC_PONG, echo, n);
		}
	case SC_REC_PONG:
		sess_ka_pong(s, &pt);
		break;
	case SC_REC_REKEY:
		break;
	case SC_REC_OWNER_RESULT:
		return on_owner_result(s, &pt);
	default:
		return sess_fail(s, SESS_X_PROTOCOL, SC_ERR_TYPE,
		    "unexpected record type 0x%02x from the hypervisor", type);
	}
	return 0;
}
