/*
 * session_ctl.c — what the user can ask of an open session (see session.h):
 * break, rekey, history, owner commands, the keepalive and the orderly close.
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
	return sess_send_record(s, SC_REC_BREAK, &key, 1);
}

int
sess_rekey(struct sess *s)
{
	return sess_send_record(s, SC_REC_REKEY, NULL, 0);
}

int
sess_history_req(struct sess *s, uint32_t bytes)
{
	uint8_t p[4];
	struct sc_buf b;

	sc_buf_init(&b, p, sizeof(p));
	if (sc_buf_put_u32(&b, bytes) < 0)
		return SC_ERR_INTERNAL;
	return sess_send_record(s, SC_REC_HISTORY_REQ, b.data, b.len);
}

int
sess_owner_cmd(struct sess *s, uint8_t cmd, const uint8_t key[SC_KEY_LEN],
    uint8_t flags)
{
	static const uint8_t none[SC_KEY_LEN];
	uint8_t p[1 + SC_KEY_LEN + 1];
	struct sc_buf b;

	sc_buf_init(&b, p, sizeof(p));
	if (sc_buf_put_u8(&b, cmd) < 0 ||
	    sc_buf_put_bytes(&b, key != NULL ? key : none, SC_KEY_LEN) < 0 ||
	    sc_buf_put_u8(&b, flags) < 0)
		return SC_ERR_INTERNAL;
	return sess_send_record(s, SC_REC_OWNER_CMD, b.data, b.len);
}

/* Keepalive PING payload: SESS_KA_TAG, then the sequence number (u64 BE). */
#define SESS_KA_TAG	"sccrypt-ka"
#define SESS_KA_TAG_LEN	(sizeof(SESS_KA_TAG) - 1)
#define SESS_KA_LEN	(SESS_KA_TAG_LEN + 8)

static void
ka_payload(uint64_t seq, uint8_t out[SESS_KA_LEN])
{
	struct sc_buf b;

	sc_buf_init(&b, out, SESS_KA_LEN);
	/* cannot fail: SESS_KA_LEN is exactly these */
	(void)!sc_buf_put_bytes(&b, SESS_KA_TAG, SESS_KA_TAG_LEN);
	(void)!sc_buf_put_u64(&b, seq);
}

/* A PONG: the answer to our keepalive in flight ends a stall. */
void
sess_ka_pong(struct sess *s, const struct sc_buf *pt)
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
		sess_notice(s, "the hypervisor answers again: the session goes on");
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
		sess_notice(s, "the session is stalled: no answer from the hypervisor "
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
	if (sess_send_record(s, SC_REC_PING, p, sizeof(p)) < 0)
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

	return sess_send_record(s, SC_REC_PING, ping, sizeof(ping));
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
		sess_done(s);
		return 0;
	}
	if (sc_record_need_rekey(&s->rl) &&
	    (r = sess_send_record(s, SC_REC_REKEY, NULL, 0)) < 0)
		return r;
	sc_buf_init(&ct, s->recbuf, sizeof(s->recbuf));
	if ((r = sc_record_seal_close(&s->rl, SC_CLOSE_NORMAL, "", &ct)) < 0)
		return sess_fail(s, SESS_X_LOCAL, r, "cannot seal the CLOSE: %s",
		    sc_err(r));
	if ((r = sess_send_frame(s, SC_FRAME_RECORD, ct.data, ct.len)) < 0)
		return r;
	s->state = SESS_CLOSING;
	return 0;
}

void
sess_close_abandon(struct sess *s, const char *why)
{
	if (s->state == SESS_CLOSING)
		(void)sess_cut_off(s, why);
}
