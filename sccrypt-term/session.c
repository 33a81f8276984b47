/*
 * session.c — client side of the SCCrypt protocol (see session.h).
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/blob.h"
#include "core/buf.h"
#include "core/crypto.h"
#include "core/err.h"
#include "log.h"
#include "secmem.h"
#include "session.h"

#define CLEAR_CHUNK	4096

static void ka_pong(struct sess *s, const struct sc_buf *pt);
static void
notice(struct sess *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
notice(struct sess *s, const char *fmt, ...)
{
	char line[SESS_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (s->sink.notice != NULL)
		s->sink.notice(s->sink.ctx, line);
}

static int
fail(struct sess *s, enum sess_exit cls, int err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Record the first failure; later ones do not overwrite it. */
static int
fail(struct sess *s, enum sess_exit cls, int err, const char *fmt, ...)
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

static void
done(struct sess *s)
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

static const char *
frame_name(uint8_t t)
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
static int
send_frame(struct sess *s, uint8_t type, const uint8_t *body, size_t len)
{
	struct sc_buf out;
	int r;

	sc_buf_init(&out, s->wirebuf, sizeof(s->wirebuf));
	if ((r = sc_frame_encode(&out, s->encoding, type, body, len)) < 0)
		return fail(s, SESS_X_LOCAL, r, "cannot encode a %s frame: %s",
		    frame_name(type), sc_err(r));
	if ((r = s->sink.to_wire(s->sink.ctx, out.data, out.len)) < 0)
		return fail(s, SESS_X_TRANSPORT, r, "transport write failed: %s",
		    sc_err(r));
	return 0;
}

/* Seal one record (rekeying first when due) and send it. */
static int
send_record(struct sess *s, uint8_t type, const uint8_t *p, size_t len)
{
	struct sc_buf ct;
	int r;

	if (s->state != SESS_OPEN || !s->have_rl)
		return SC_ERR_STATE;
	if (type != SC_REC_REKEY && sc_record_need_rekey(&s->rl)) {
		if ((r = send_record(s, SC_REC_REKEY, NULL, 0)) < 0)
			return r;
	}
	if (type != SC_REC_PING && type != SC_REC_PONG)
		s->ka_input = true;
	sc_buf_init(&ct, s->recbuf, sizeof(s->recbuf));
	if ((r = sc_record_seal(&s->rl, type, p, len, &ct)) < 0)
		return fail(s, SESS_X_LOCAL, r, "cannot seal a record: %s",
		    sc_err(r));
	return send_frame(s, SC_FRAME_RECORD, ct.data, ct.len);
}

static int
send_data(struct sess *s, const uint8_t *p, size_t len)
{
	int r;

	while (len > 0) {
		size_t n = SC_MIN(len, (size_t)SC_RECORD_PAYLOAD_MAX);

		if ((r = send_record(s, SC_REC_DATA, p, n)) < 0)
			return r;
		p += n;
		len -= n;
	}
	return 0;
}

int
sess_parse_hs2(const uint8_t *p, size_t len, uint8_t *flags,
    uint32_t *history_kept, uint64_t *lost)
{
	struct sc_buf b;
	uint8_t version;
	int r;

	sc_buf_init_ro(&b, p, len);
	if ((r = sc_buf_get_u8(&b, &version)) < 0 ||
	    (r = sc_buf_get_u8(&b, flags)) < 0 ||
	    (r = sc_buf_get_u32(&b, history_kept)) < 0 ||
	    (r = sc_buf_get_u64(&b, lost)) < 0 ||
	    (r = sc_buf_expect_end(&b)) < 0)
		return r;
	if (version != SC_PROTOCOL_VERSION)
		return SC_ERR_VERSION;
	return 0;
}

static int
start_handshake(struct sess *s)
{
	const struct sc_noise_pattern *pat;
	uint8_t prologue[SC_PROTOCOL_ID_LEN + SC_UUID_LEN + SC_KEY_LEN];
	uint8_t hs1[SC_HS1_PAYLOAD_LEN];
	uint8_t msg[SC_HS1_MSG_LEN + 16];
	struct sc_buf pb, mb;
	int r;

	if (s->cfg.user_sk == NULL || s->cfg.psk == NULL)
		return fail(s, SESS_X_LOCAL, SC_ERR_INVAL, "no user key or VM secret");
	if ((pat = sc_noise_pattern_lookup(SC_NOISE_PROTOCOL)) == NULL)
		return fail(s, SESS_X_LOCAL, SC_ERR_UNSUPPORTED,
		    "%s is not supported by this build", SC_NOISE_PROTOCOL);
	memcpy(prologue, SC_PROTOCOL_ID, SC_PROTOCOL_ID_LEN);
	memcpy(prologue + SC_PROTOCOL_ID_LEN, s->hello.uuid, SC_UUID_LEN);
	memcpy(prologue + SC_PROTOCOL_ID_LEN + SC_UUID_LEN, s->hello.hv_pubkey,
	    SC_KEY_LEN);
	r = sc_noise_hs_init(&s->hs, sc_crypto_sodium(), pat, true,
	    prologue, sizeof(prologue), s->cfg.user_sk, s->hello.hv_pubkey,
	    s->cfg.psk, 1);
	if (r < 0)
		return fail(s, SESS_X_VERIFY, r, "handshake setup failed: %s",
		    sc_err(r));

	sc_buf_init(&pb, hs1, sizeof(hs1));
	if ((r = sc_buf_put_u8(&pb, SC_PROTOCOL_VERSION)) < 0 ||
	    (r = sc_buf_put_u8(&pb, s->cfg.hs1_flags)) < 0 ||
	    (r = sc_buf_put_u32(&pb, s->cfg.history_wanted)) < 0)
		return fail(s, SESS_X_LOCAL, r, "HS1 payload: %s", sc_err(r));
	sc_buf_init(&mb, msg, sizeof(msg));
	if ((r = sc_noise_hs_write(&s->hs, pb.data, pb.len, &mb)) < 0)
		return fail(s, SESS_X_VERIFY, r, "handshake message 1: %s",
		    sc_err(r));
	s->state = SESS_HANDSHAKE;
	return send_frame(s, SC_FRAME_HS_INIT, mb.data, mb.len);
}

static int
start_protect(struct sess *s)
{
	static uint8_t blob[SC_BLOB_MAX];
	struct sc_buf b;
	int r;

	if (s->cfg.protect_build == NULL)
		return fail(s, SESS_X_LOCAL, SC_ERR_INVAL, "nothing to protect");
	sc_buf_init(&b, blob, sizeof(blob));
	r = s->cfg.protect_build(s->cfg.protect_ctx, &s->hello, &b);
	if (r < 0)
		return fail(s, SESS_X_LOCAL, r, "cannot seal the registration: %s",
		    sc_err(r));
	s->state = SESS_PROTECTING;
	r = send_frame(s, SC_FRAME_PROTECT, b.data, b.len);
	memset(blob, 0, sizeof(blob));	/* ciphertext only; tidy */
	return r;
}

static int
on_hello(struct sess *s, struct sc_buf *body)
{
	char msg[SESS_MSG_MAX];
	int r;

	if ((r = sc_hello_parse(body, &s->hello)) == SC_ERR_VERSION &&
	    body->len > 0)
		return fail(s, SESS_X_PROTOCOL, r, "dom0 speaks SCCrypt protocol "
		    "version %u, this client version %u: the host's sccrypt "
		    "packages and this client must be upgraded together",
		    body->data[0], SC_PROTOCOL_VERSION);
	if (r < 0)
		return fail(s, SESS_X_PROTOCOL, r, "malformed HELLO from dom0: %s",
		    sc_err(r));
	s->have_hello = true;
	if (s->hello.version != SC_PROTOCOL_VERSION)
		return fail(s, SESS_X_PROTOCOL, SC_ERR_VERSION,
		    "dom0 speaks protocol version %u, this client %u",
		    s->hello.version, SC_PROTOCOL_VERSION);
	if (s->cfg.vmname != NULL && strcmp(s->cfg.vmname, s->hello.vmname) != 0)
		return fail(s, SESS_X_VERIFY, SC_ERR_MISMATCH,
		    "dom0 connected this session to VM \"%s\", not \"%s\": refusing",
		    s->hello.vmname, s->cfg.vmname);
	if (s->cfg.uuid != NULL &&
	    sc_memeq_ct(s->cfg.uuid, s->hello.uuid, SC_UUID_LEN) != 0)
		return fail(s, SESS_X_VERIFY, SC_ERR_MISMATCH,
		    "the domain UUID in the HELLO is not the one of VM \"%s\": refusing",
		    s->hello.vmname);
	if (s->cfg.mode == SESS_MODE_CONSOLE &&
	    !(s->hello.flags & SC_HELLO_F_PROTECTED))
		return fail(s, SESS_X_VERIFY, SC_ERR_UNTRUSTED,
		    "VM \"%s\" is not protected: its console would be in clear "
		    "(bind it first with 'sccrypt-term vm protect %s')",
		    s->hello.vmname, s->hello.vmname);
	msg[0] = '\0';
	if (s->cfg.verify == NULL)
		return fail(s, SESS_X_VERIFY, SC_ERR_UNTRUSTED,
		    "no way to verify the hypervisor key");
	if ((r = s->cfg.verify(s->cfg.verify_ctx, &s->hello, msg, sizeof(msg))) < 0)
		return fail(s, SESS_X_VERIFY, r, "%s", msg[0] ? msg :
		    "hypervisor key not trusted");
	if (s->cfg.mode == SESS_MODE_PROTECT)
		return start_protect(s);
	return start_handshake(s);
}

static void
show_lost(struct sess *s)
{
	s->lost_deferred = false;
	notice(s, "%llu bytes of console output were lost while no session "
	    "was attached%s", (unsigned long long)s->lost_bytes,
	    s->history_bytes_shown > 0 ? " (before the replayed history above)" :
	    "");
}

static int
on_hs_resp(struct sess *s, const uint8_t *p, size_t len)
{
	struct sc_noise_transport t;
	uint8_t pay[SC_HS2_PAYLOAD_LEN + 64];
	struct sc_buf pb;
	int r;

	sc_buf_init(&pb, pay, sizeof(pay));
	if ((r = sc_noise_hs_read(&s->hs, p, len, &pb)) < 0)
		return fail(s, SESS_X_VERIFY, r,
		    "handshake failed: the hypervisor's answer does not "
		    "authenticate (wrong VM secret, key not in the VM's ACL, "
		    "or tampered with)");
	if (!sc_noise_hs_complete(&s->hs))
		return fail(s, SESS_X_PROTOCOL, SC_ERR_STATE, "handshake incomplete");
	if ((r = sess_parse_hs2(pb.data, pb.len, &s->hs2_flags,
	    &s->history_kept, &s->lost_bytes)) < 0)
		return fail(s, SESS_X_PROTOCOL, r, "bad handshake payload: %s",
		    sc_err(r));
	if ((r = sc_noise_hs_split(&s->hs, &t)) < 0)
		return fail(s, SESS_X_LOCAL, r, "split: %s", sc_err(r));
	sc_record_init(&s->rl, &t);
	sc_noise_transport_wipe(&t);
	s->have_rl = true;
	s->state = SESS_OPEN;
	if (s->sink.event != NULL)
		s->sink.event(s->sink.ctx, SESS_EV_OPEN);
	if (s->clear_shown > 0)
		notice(s, "the encrypted session starts here: everything shown "
		    "above this line (%llu bytes marked 'dom0 clear') came from "
		    "dom0 in clear, not encrypted and not authenticated",
		    (unsigned long long)s->clear_shown);
	if ((s->hs2_flags & SC_HS2_F_VIEWER) && !s->cfg.no_typing)
		notice(s, "read-only viewer: your keystrokes are not sent");
	if (s->lost_bytes > 0) {
		/* With a replay coming, say it where the gap is: after it. */
		if (s->history_kept > 0)
			s->lost_deferred = true;
		else
			show_lost(s);
		s->lost_pending = true;
	}
	/* --takeover: become the writer now (the hv hands the console to a
	 * writer session with its first authenticated record). */
	if ((s->cfg.hs1_flags & SC_HS1_F_TAKEOVER) &&
	    !(s->hs2_flags & SC_HS2_F_VIEWER) && (r = sess_ping(s)) < 0)
		return r;
	if (s->typeahead_len > 0) {
		r = send_data(s, s->typeahead, s->typeahead_len);
		sc_memzero(s->typeahead, sizeof(s->typeahead));
		s->typeahead_len = 0;
		if (r < 0)
			return r;
	}
	if (s->typeahead_dropped > 0)
		notice(s, "%llu typed-ahead bytes were discarded",
		    (unsigned long long)s->typeahead_dropped);
	if (s->inflight_dropped > 0)
		notice(s, "%llu byte%s typed while dom0's clear text was arriving "
		    "%s discarded (it may have been the terminal answering that "
		    "text)", (unsigned long long)s->inflight_dropped,
		    s->inflight_dropped == 1 ? "" : "s",
		    s->inflight_dropped == 1 ? "was" : "were");
	return 0;
}

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
		notice(s, "malformed notice from the hypervisor");
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
		notice(s, "%llu bytes of console output were lost%s%s",
		    (unsigned long long)value, tn ? ": " : "", text);
		break;
	case SC_NOTICE_TAKEN_OVER:
		/* Sent to the session that did the taking over. */
		tn = tn && !says_same("took over from another session", text);
		notice(s, "this session took the console over from another "
		    "session%s%s", tn ? ": " : "", tn ? text : "");
		break;
	case SC_NOTICE_ACL_CHANGED:
		tn = tn && !says_same("the VM's access list changed", text);
		notice(s, "the VM's access list changed%s%s", tn ? ": " : "",
		    tn ? text : "");
		break;
	case SC_NOTICE_HISTORY_END:
		rplf_end(&s->replay);
		notice(s, "end of history replay (%llu bytes)",
		    (unsigned long long)value);
		if (s->lost_deferred)
			show_lost(s);
		break;
	case SC_NOTICE_SYSRQ:
		if (value >= 0x21 && value < 0x7f)
			notice(s, "SysRq '%c' delivered", (char)value);
		else
			notice(s, "break delivered");
		break;
	default:
		notice(s, "hypervisor notice %u (%llu)%s%s", code,
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
		return fail(s, SESS_X_PROTOCOL, SC_ERR_FORMAT,
		    "malformed OWNER_RESULT record");
	for (i = 0; i < count; i++)
		if (sc_buf_get_bytes(b, s->owner_keys[i], SC_KEY_LEN + 1) < 0)
			return fail(s, SESS_X_PROTOCOL, SC_ERR_FORMAT,
			    "malformed OWNER_RESULT record");
	if (sc_buf_expect_end(b) < 0)
		return fail(s, SESS_X_PROTOCOL, SC_ERR_FORMAT,
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
		return fail(s, SESS_X_PROTOCOL, r, "%s CLOSE record from the "
		    "hypervisor (%s)", r == SC_ERR_MISMATCH ? "inconsistent" :
		    "malformed", sc_err(r));
	sc_sanitize(text, sizeof(text), c.text, c.text_len);
	lost = s->rl.stats.records_sent - c.recv;
	if (s->state == SESS_CLOSING && lost == 0) {
		done(s);		/* the answer to our CLOSE */
		return 0;
	}
	if (c.text_len > 0 && says_same(close_reason(c.reason), text))
		notice(s, "session %s", text);	/* the hv's, more precise */
	else
		notice(s, "session %s%s%s", close_reason(c.reason),
		    c.text_len ? ": " : "", text);
	if (c.reason == SC_CLOSE_PROTOCOL)
		return fail(s, SESS_X_PROTOCOL, SC_ERR_CLOSED, "%s",
		    close_reason(c.reason));
	if (lost > 0 && c.reason == SC_CLOSE_NORMAL)
		return fail(s, SESS_X_TAMPER, SC_ERR_CLOSED, "the hypervisor "
		    "closed the session without receiving your last %llu "
		    "record%s: the end of your input did not reach the VM",
		    (unsigned long long)lost, lost == 1 ? "" : "s");
	if (lost > 0)
		notice(s, "your last %llu record%s did not reach the VM before "
		    "the session ended", (unsigned long long)lost,
		    lost == 1 ? "" : "s");
	done(s);
	return 0;
}

static void
replay_emit(void *ctx, const uint8_t *p, size_t len)
{
	struct sess *s = ctx;

	s->sink.to_term(s->sink.ctx, p, len);
}

static int
on_record(struct sess *s, const uint8_t *p, size_t len)
{
	struct sc_buf pt;
	uint8_t type;
	int r;

	sc_buf_init(&pt, s->ptbuf, sizeof(s->ptbuf));
	if ((r = sc_record_open(&s->rl, p, len, &type, &pt)) < 0)
		return fail(s, SESS_X_TAMPER, r,
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
			show_lost(s);
		rplf_end(&s->replay);
		if (pt.len > 0)
			s->sink.to_term(s->sink.ctx, pt.data, pt.len);
		break;
	case SC_REC_HISTORY: {
		uint8_t last;

		if (sc_buf_get_u8(&pt, &last) < 0)
			return fail(s, SESS_X_PROTOCOL, SC_ERR_FORMAT,
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
			return fail(s, SESS_X_PROTOCOL, SC_ERR_TOOLONG, "oversized PING");
		{
			uint8_t echo[64];
			size_t n = pt.len;

			memcpy(echo, pt.data, n);
			return send_record(s, SC_REC_PONG, echo, n);
		}
	case SC_REC_PONG:
		ka_pong(s, &pt);
		break;
	case SC_REC_REKEY:
		break;
	case SC_REC_OWNER_RESULT:
		return on_owner_result(s, &pt);
	default:
		return fail(s, SESS_X_PROTOCOL, SC_ERR_TYPE,
		    "unexpected record type 0x%02x from the hypervisor", type);
	}
	return 0;
}

static int
on_protect_ok(struct sess *s, struct sc_buf *b)
{
	uint32_t st;
	uint8_t confirm[32];
	int r;

	if (sc_buf_get_u32(b, &st) < 0 || sc_buf_get_bytes(b, confirm, 32) < 0 ||
	    sc_buf_expect_end(b) < 0)
		return fail(s, SESS_X_PROTOCOL, SC_ERR_FORMAT,
		    "malformed PROTECT_OK frame");
	if (s->cfg.protect_check == NULL)
		return fail(s, SESS_X_LOCAL, SC_ERR_INVAL, "no confirm check");
	r = s->cfg.protect_check(s->cfg.protect_ctx, &s->hello, (int32_t)st,
	    confirm);
	if (r < 0)
		return fail(s, SESS_X_VERIFY, r, "the PROTECT confirmation does "
		    "not verify: the answer did not come from the hypervisor");
	if ((int32_t)st < 0)
		return fail(s, SESS_X_VERIFY, (int32_t)st,
		    "the hypervisor refused the binding: %s", sc_err((int32_t)st));
	done(s);
	return 0;
}

/*
 * An ERROR frame ends the session.  It is not authenticated: dom0 wrote it,
 * possibly relaying the hv's refusal of the handshake (PROTOCOL.md §9:
 * code = -SC_ERR_* of the OPEN op).  Refusals of the handshake that mean
 * "this key or these credentials are not accepted" are reported as an
 * authentication failure (exit 4); everything else as a relay error (exit
 * 6).  The wording says that the reason is dom0's claim.
 */
static int
on_error_frame(struct sess *s, uint16_t code, const char *text)
{
	int err = -(int)code;

	if (s->state == SESS_HANDSHAKE) {
		switch (err) {
		case SC_ERR_PERM:
			return fail(s, SESS_X_VERIFY, SC_ERR_PERM,
			    "access denied: the hypervisor refused the handshake "
			    "because your console key is not in the access list "
			    "of VM \"%s\" (as reported by dom0, not authenticated: "
			    "\"%s\", code %u); ask the VM's owner to add your key "
			    "('sccrypt-term pubkey' prints it)",
			    s->hello.vmname, text, code);
		case SC_ERR_DECRYPT:
		case SC_ERR_BADKEY:
		case SC_ERR_UNTRUSTED:
		case SC_ERR_MISMATCH:
			return fail(s, SESS_X_VERIFY, err,
			    "the hypervisor refused the handshake: it could not "
			    "authenticate it (as reported by dom0, not "
			    "authenticated: \"%s\", code %u)", text, code);
		default:
			break;
		}
	}
	return fail(s, SESS_X_RELAY, SC_ERR_CLOSED,
	    "dom0 relay (not authenticated): %s (code %u)", text, code);
}

/*
 * The encrypted session ended without the hv's CLOSE: whoever cut it (dom0,
 * or the network on its way), the end of the output or of the input may be
 * missing, and nothing says how much.  That is the tamper class (exit 5).
 */
static int
cut_off(struct sess *s, const char *how)
{
	if (s->state == SESS_CLOSING)
		return fail(s, SESS_X_TAMPER, SC_ERR_CLOSED, "the session ended "
		    "without the hypervisor's CLOSE (%s): it never confirmed "
		    "your CLOSE, so the end of your input may not have reached "
		    "the VM", how);
	return fail(s, SESS_X_TAMPER, SC_ERR_CLOSED, "the session ended without "
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
		return on_error_frame(s, code, text);
	}
	if (f->type == SC_FRAME_BYE) {
		if (s->state == SESS_OPEN || s->state == SESS_CLOSING)
			return cut_off(s, "dom0 ended it (BYE)");
		return fail(s, SESS_X_TRANSPORT, SC_ERR_CLOSED,
		    "the relay closed the connection (BYE) in state %s",
		    sess_state_name(s->state));
	}
	switch (s->state) {
	case SESS_WAIT_HELLO:
		if (f->type == SC_FRAME_HELLO)
			return on_hello(s, &body);
		break;
	case SESS_HANDSHAKE:
		if (f->type == SC_FRAME_HS_RESP)
			return on_hs_resp(s, f->body, f->len);
		break;
	case SESS_PROTECTING:
		if (f->type == SC_FRAME_PROTECT_OK)
			return on_protect_ok(s, &body);
		break;
	case SESS_OPEN:
	case SESS_CLOSING:
		if (f->type == SC_FRAME_RECORD)
			return on_record(s, f->body, f->len);
		break;
	default:
		break;
	}
	return fail(s, SESS_X_PROTOCOL, SC_ERR_TYPE,
	    "unexpected %s frame from dom0 (state %s)", frame_name(f->type),
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
	notice(s, "%llu byte%s typed before this prompt appeared %s not sent; "
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
		if (s->state == SESS_CLEAR) {
			size_t chunk = SC_MIN(len, (size_t)CLEAR_CHUNK);
			size_t clear_len = 0;

			r = sc_hello_scan(&s->scan, in, chunk, s->clearbuf,
			    &clear_len, &consumed);
			show_clear(s, s->clearbuf, clear_len);
			if (r == 0)
				clear_seen(s, s->clearbuf, clear_len,
				    s->scan.matched > 0 || s->pre_pos > 0);
			if (r < 0)
				return fail(s, SESS_X_PROTOCOL, r,
				    "bad HELLO announcement: %s", sc_err(r));
			if (consumed > chunk)
				return fail(s, SESS_X_LOCAL, SC_ERR_INTERNAL,
				    "scanner overrun");
			if (r == 1) {
				show_clear_flush(s);
				s->encoding = s->scan.encoding;
				if ((r = sc_frame_decoder_init(&s->dec,
				    s->encoding)) < 0)
					return fail(s, SESS_X_PROTOCOL, r,
					    "unsupported encoding");
				s->state = SESS_WAIT_HELLO;
				if (s->sink.event != NULL)
					s->sink.event(s->sink.ctx, SESS_EV_HELLO);
			}
		} else {
			struct sc_frame f;

			r = sc_frame_decode(&s->dec, in, len, &consumed, &f);
			if (r < 0)
				return fail(s, SESS_X_PROTOCOL, r,
				    "malformed frame from dom0 (%s): session "
				    "closed, nothing was sent to the VM", sc_err(r));
			if (consumed > len)
				return fail(s, SESS_X_LOCAL, SC_ERR_INTERNAL,
				    "decoder overrun");
			if (r == 1 && (r = on_frame(s, &f)) < 0)
				return r;
			if (r == 0 && consumed == 0)
				break;
		}
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
		return fail(s, SESS_X_TRANSPORT, SC_ERR_EOF,
		    "the connection closed before the console started");
	}
	case SESS_OPEN:
	case SESS_CLOSING:
		return cut_off(s, sc_frame_decoder_partial(&s->dec) ?
		    "the connection closed in the middle of a frame" :
		    "the connection closed");
	default:
		return fail(s, SESS_X_TRANSPORT, SC_ERR_EOF,
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
		return fail(s, SESS_X_TRANSPORT, r,
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
		return send_data(s, in, len);
	case SESS_CLOSING:		/* nothing after our CLOSE */
	case SESS_DONE:
		return 0;
	case SESS_FAILED:
		return s->err;
	}
	return SC_ERR_STATE;
}

bool
sess_break_key_ok(uint8_t key)
{
	return key == 0 || (key >= 0x21 && key <= 0x7e);
}

int
sess_send_break(struct sess *s, uint8_t key)
{
	/* The hv ends the session on any other key (PROTOCOL.md §8). */
	if (!sess_break_key_ok(key))
		return SC_ERR_INVAL;
	/* A viewer's break is a protocol violation for the hv. */
	if (s->state == SESS_OPEN && (s->hs2_flags & SC_HS2_F_VIEWER))
		return SC_ERR_PERM;
	return send_record(s, SC_REC_BREAK, &key, 1);
}

int
sess_rekey(struct sess *s)
{
	return send_record(s, SC_REC_REKEY, NULL, 0);
}

int
sess_history_req(struct sess *s, uint32_t bytes)
{
	uint8_t p[4];

	p[0] = (uint8_t)(bytes >> 24);
	p[1] = (uint8_t)(bytes >> 16);
	p[2] = (uint8_t)(bytes >> 8);
	p[3] = (uint8_t)bytes;
	return send_record(s, SC_REC_HISTORY_REQ, p, sizeof(p));
}

int
sess_owner_cmd(struct sess *s, uint8_t cmd, const uint8_t key[SC_KEY_LEN],
    uint8_t flags)
{
	uint8_t p[1 + SC_KEY_LEN + 1];

	p[0] = cmd;
	if (key != NULL)
		memcpy(p + 1, key, SC_KEY_LEN);
	else
		memset(p + 1, 0, SC_KEY_LEN);
	p[1 + SC_KEY_LEN] = flags;
	return send_record(s, SC_REC_OWNER_CMD, p, sizeof(p));
}

/* Keepalive PING payload: SESS_KA_TAG, then the sequence number (u64 BE). */
#define SESS_KA_TAG	"sccrypt-ka"
#define SESS_KA_TAG_LEN	(sizeof(SESS_KA_TAG) - 1)
#define SESS_KA_LEN	(SESS_KA_TAG_LEN + 8)

static void
ka_payload(uint64_t seq, uint8_t out[SESS_KA_LEN])
{
	int i;

	memcpy(out, SESS_KA_TAG, SESS_KA_TAG_LEN);
	for (i = 0; i < 8; i++)
		out[SESS_KA_TAG_LEN + i] = (uint8_t)(seq >> (56 - 8 * i));
}

/* A PONG: the answer to our keepalive in flight ends a stall. */
static void
ka_pong(struct sess *s, const struct sc_buf *pt)
{
	uint8_t want[SESS_KA_LEN];

	if (s->ka_sent_ms == 0 || pt->len != SESS_KA_LEN)
		return;
	ka_payload(s->ka_seq, want);
	if (memcmp(pt->data, want, SESS_KA_LEN) != 0)
		return;			/* another PING's answer */
	s->ka_sent_ms = 0;
	s->ka_due_ms = 0;
	if (s->stalled) {
		s->stalled = false;
		notice(s, "the hypervisor answers again: the session goes on");
	}
}

int
sess_keepalive(struct sess *s, unsigned long long now)
{
	uint8_t p[SESS_KA_LEN];
	unsigned long long due;

	if (s->state != SESS_OPEN || !s->have_rl)
		return -1;
	if (s->ka_sent_ms != 0) {
		if (s->stalled)
			return -1;
		if (now < s->ka_sent_ms + SESS_KA_STALL_MS)
			return (int)(s->ka_sent_ms + SESS_KA_STALL_MS - now);
		s->stalled = true;
		notice(s, "the session is stalled: no answer from the hypervisor "
		    "for %d s (dom0 or the network is holding it up; what you "
		    "type may not arrive). Wait, or type the escape character "
		    "and '.' (~. by default) to leave", SESS_KA_STALL_MS / 1000);
		return -1;
	}
	due = now + (s->ka_input ? SESS_KA_AFTER_INPUT_MS : SESS_KA_IDLE_MS);
	if (s->ka_due_ms == 0 || due < s->ka_due_ms)
		s->ka_due_ms = due;
	s->ka_input = false;
	if (now < s->ka_due_ms)
		return (int)(s->ka_due_ms - now);
	ka_payload(++s->ka_seq, p);
	if (send_record(s, SC_REC_PING, p, sizeof(p)) < 0)
		return -1;
	s->ka_input = false;
	s->ka_sent_ms = now != 0 ? now : 1;
	s->ka_due_ms = 0;
	return SESS_KA_STALL_MS;
}

int
sess_ping(struct sess *s)
{
	static const uint8_t ping[8] = "sccrypt";

	return send_record(s, SC_REC_PING, ping, sizeof(ping));
}

int
sess_close(struct sess *s)
{
	struct sc_buf ct;
	int r;

	if (s->state == SESS_CLOSING || s->state == SESS_FAILED ||
	    s->state == SESS_DONE)
		return 0;
	if (s->state != SESS_OPEN || !s->have_rl) {
		done(s);
		return 0;
	}
	if (sc_record_need_rekey(&s->rl) &&
	    (r = send_record(s, SC_REC_REKEY, NULL, 0)) < 0)
		return r;
	sc_buf_init(&ct, s->recbuf, sizeof(s->recbuf));
	if ((r = sc_record_seal_close(&s->rl, SC_CLOSE_NORMAL, "", &ct)) < 0)
		return fail(s, SESS_X_LOCAL, r, "cannot seal the CLOSE: %s",
		    sc_err(r));
	if ((r = send_frame(s, SC_FRAME_RECORD, ct.data, ct.len)) < 0)
		return r;
	s->state = SESS_CLOSING;
	return 0;
}

void
sess_close_abandon(struct sess *s, const char *why)
{
	if (s->state == SESS_CLOSING)
		(void)cut_off(s, why);
}
