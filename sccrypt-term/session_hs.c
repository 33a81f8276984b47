/*
 * session_hs.c — the handshake steps of a client session (see session.h):
 * the HELLO and the trust decision, then either the Noise IKpsk2 initiator
 * (HS_INIT, HS_RESP and its HS2 payload) or the PROTECT exchange, and dom0's
 * ERROR frames, which during the handshake carry the hv's refusal.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/blob.h"
#include "core/owner.h"
#include "core/buf.h"
#include "core/crypto.h"
#include "core/err.h"
#include "core/handshake.h"
#include "log.h"
#include "secmem.h"
#include "session.h"
#include "session_int.h"

/* HS_INIT: Noise message 1 with the HS1 payload (core/handshake.h). */
static int
start_handshake(struct sess *s)
{
	const struct sc_hs1 hs1 = { .flags = s->cfg.hs1_flags,
	    .history_wanted = s->cfg.history_wanted };
	uint8_t pay[SC_HS1_PAYLOAD_LEN];
	uint8_t msg[SC_HS1_MSG_LEN + 16];
	struct sc_buf pb, mb;
	int r;

	if (s->cfg.user_sk == NULL || s->cfg.psk == NULL)
		return sess_fail(s, SESS_X_LOCAL, SC_ERR_INVAL, "no user key or VM secret");
	r = sc_hs_init(&s->hs, sc_crypto_sodium(), true, s->hello.uuid,
	    s->hello.hv_pubkey, s->cfg.user_sk, s->cfg.psk);
	if (r == SC_ERR_UNSUPPORTED)
		return sess_fail(s, SESS_X_LOCAL, r,
		    "%s is not supported by this build", SC_NOISE_PROTOCOL);
	if (r < 0)
		return sess_fail(s, SESS_X_VERIFY, r, "handshake setup failed: %s",
		    sc_err(r));
	sc_buf_init(&pb, pay, sizeof(pay));
	if ((r = sc_hs1_put(&pb, &hs1)) < 0)
		return sess_fail(s, SESS_X_LOCAL, r, "HS1 payload: %s", sc_err(r));
	sc_buf_init(&mb, msg, sizeof(msg));
	if ((r = sc_noise_hs_write(&s->hs, pb.data, pb.len, &mb)) < 0)
		return sess_fail(s, SESS_X_VERIFY, r, "handshake message 1: %s",
		    sc_err(r));
	s->state = SESS_HANDSHAKE;
	return sess_send_frame(s, SC_FRAME_HS_INIT, mb.data, mb.len);
}

static int
start_protect(struct sess *s)
{
	static uint8_t blob[SC_PROTECT_PAYLOAD_MAX];	/* blob || token || tlen */
	struct sc_buf b;
	int r;

	if (s->cfg.protect_build == NULL)
		return sess_fail(s, SESS_X_LOCAL, SC_ERR_INVAL, "nothing to protect");
	sc_buf_init(&b, blob, sizeof(blob));
	r = s->cfg.protect_build(s->cfg.protect_ctx, &s->hello, &b);
	if (r < 0)
		return sess_fail(s, SESS_X_LOCAL, r, "cannot seal the registration: %s",
		    sc_err(r));
	s->state = SESS_PROTECTING;
	r = sess_send_frame(s, SC_FRAME_PROTECT, b.data, b.len);
	sc_memzero(blob, sizeof(blob));	/* ciphertext only; tidy */
	return r;
}

int
sess_on_hello(struct sess *s, struct sc_buf *body)
{
	char msg[SESS_MSG_MAX];
	int r;

	if ((r = sc_hello_parse(body, &s->hello)) == SC_ERR_VERSION &&
	    body->len > 0)
		return sess_fail(s, SESS_X_PROTOCOL, r, "dom0 speaks SCCrypt protocol "
		    "version %u, this client version %u: the host's sccrypt "
		    "packages and this client must be upgraded together",
		    body->data[0], SC_PROTOCOL_VERSION);
	if (r < 0)
		return sess_fail(s, SESS_X_PROTOCOL, r, "malformed HELLO from dom0: %s",
		    sc_err(r));
	s->have_hello = true;
	if (s->hello.version != SC_PROTOCOL_VERSION)
		return sess_fail(s, SESS_X_PROTOCOL, SC_ERR_VERSION,
		    "dom0 speaks protocol version %u, this client %u",
		    s->hello.version, SC_PROTOCOL_VERSION);
	if (s->cfg.vmname != NULL && strcmp(s->cfg.vmname, s->hello.vmname) != 0)
		return sess_fail(s, SESS_X_VERIFY, SC_ERR_MISMATCH,
		    "dom0 connected this session to VM \"%s\", not \"%s\": refusing",
		    s->hello.vmname, s->cfg.vmname);
	if (s->cfg.uuid != NULL &&
	    sc_memeq_ct(s->cfg.uuid, s->hello.uuid, SC_UUID_LEN) != 0)
		return sess_fail(s, SESS_X_VERIFY, SC_ERR_MISMATCH,
		    "the domain UUID in the HELLO is not the one of VM \"%s\": refusing",
		    s->hello.vmname);
	if (s->cfg.mode == SESS_MODE_CONSOLE &&
	    !(s->hello.flags & SC_HELLO_F_PROTECTED))
		return sess_fail(s, SESS_X_VERIFY, SC_ERR_UNTRUSTED,
		    "VM \"%s\" is not protected: its console would be in clear "
		    "(bind it first with 'sccrypt-term vm protect %s')",
		    s->hello.vmname, s->hello.vmname);
	msg[0] = '\0';
	if (s->cfg.verify == NULL)
		return sess_fail(s, SESS_X_VERIFY, SC_ERR_UNTRUSTED,
		    "no way to verify the hypervisor key");
	if ((r = s->cfg.verify(s->cfg.verify_ctx, &s->hello, msg, sizeof(msg))) < 0)
		return sess_fail(s, SESS_X_VERIFY, r, "%s", msg[0] ? msg :
		    "hypervisor key not trusted");
	if (s->cfg.mode == SESS_MODE_PROTECT)
		return start_protect(s);
	return start_handshake(s);
}

void
sess_show_lost(struct sess *s)
{
	s->lost_deferred = false;
	sess_notice(s, "%llu bytes of console output were lost while no session "
	    "was attached%s", (unsigned long long)s->lost_bytes,
	    s->history_bytes_shown > 0 ? " (before the replayed history above)" :
	    "");
}

/*
 * The session just opened: say where the encrypted part starts and what
 * the HS2 said, take the console over if asked to, send what was typed
 * ahead, and say what of it was not kept.
 */
static int
opened(struct sess *s)
{
	int r;

	if (s->clear_shown > 0)
		sess_notice(s, "the encrypted session starts here: everything shown "
		    "above this line (%llu bytes marked 'dom0 clear') came from "
		    "dom0 in clear, not encrypted and not authenticated",
		    (unsigned long long)s->clear_shown);
	if ((s->hs2_flags & SC_HS2_F_VIEWER) && !s->cfg.no_typing)
		sess_notice(s, "read-only viewer: your keystrokes are not sent");
	if (s->lost_bytes > 0) {
		/* With a replay coming, say it where the gap is: after it. */
		if (s->history_kept > 0)
			s->lost_deferred = true;
		else
			sess_show_lost(s);
		s->lost_pending = true;
	}
	/* --takeover: become the writer now (the hv hands the console to a
	 * writer session with its first authenticated record). */
	if ((s->cfg.hs1_flags & SC_HS1_F_TAKEOVER) &&
	    !(s->hs2_flags & SC_HS2_F_VIEWER) && (r = sess_ping(s)) < 0)
		return r;
	if (s->typeahead_len > 0) {
		r = sess_send_data(s, s->typeahead, s->typeahead_len);
		sc_memzero(s->typeahead, sizeof(s->typeahead));
		s->typeahead_len = 0;
		if (r < 0)
			return r;
	}
	if (s->typeahead_dropped > 0)
		sess_notice(s, "%llu typed-ahead bytes were discarded",
		    (unsigned long long)s->typeahead_dropped);
	if (s->inflight_dropped > 0)
		sess_notice(s, "%llu byte%s typed while dom0's clear text was arriving "
		    "%s discarded (it may have been the terminal answering that "
		    "text)", (unsigned long long)s->inflight_dropped,
		    s->inflight_dropped == 1 ? "" : "s",
		    s->inflight_dropped == 1 ? "was" : "were");
	return 0;
}

int
sess_on_hs_resp(struct sess *s, const uint8_t *p, size_t len)
{
	struct sc_noise_transport t;
	uint8_t pay[SC_HS2_PAYLOAD_LEN + 64];
	struct sc_buf pb, rb;
	struct sc_hs2 hs2;
	int r;

	sc_buf_init(&pb, pay, sizeof(pay));
	if ((r = sc_noise_hs_read(&s->hs, p, len, &pb)) < 0)
		return sess_fail(s, SESS_X_VERIFY, r,
		    "handshake failed: the hypervisor's answer does not "
		    "authenticate (wrong VM secret, key not in the VM's ACL, "
		    "or tampered with)");
	if (!sc_noise_hs_complete(&s->hs))
		return sess_fail(s, SESS_X_PROTOCOL, SC_ERR_STATE, "handshake incomplete");
	sc_buf_init_ro(&rb, pb.data, pb.len);
	if ((r = sc_hs2_get(&rb, &hs2)) < 0)
		return sess_fail(s, SESS_X_PROTOCOL, r, "bad handshake payload: %s",
		    sc_err(r));
	s->hs2_flags = hs2.flags;
	s->history_kept = hs2.history_kept;
	s->lost_bytes = hs2.lost_bytes;
	if ((r = sc_noise_hs_split(&s->hs, &t)) < 0)
		return sess_fail(s, SESS_X_LOCAL, r, "split: %s", sc_err(r));
	sc_record_init(&s->rl, &t);
	sc_noise_transport_wipe(&t);
	s->have_rl = true;
	s->state = SESS_OPEN;
	if (s->sink.event != NULL)
		s->sink.event(s->sink.ctx, SESS_EV_OPEN);
	return opened(s);
}

int
sess_on_protect_ok(struct sess *s, struct sc_buf *b)
{
	uint32_t st;
	uint8_t confirm[32];
	int r;

	if (sc_buf_get_u32(b, &st) < 0 || sc_buf_get_bytes(b, confirm, 32) < 0 ||
	    sc_buf_expect_end(b) < 0)
		return sess_fail(s, SESS_X_PROTOCOL, SC_ERR_FORMAT,
		    "malformed PROTECT_OK frame");
	if (s->cfg.protect_check == NULL)
		return sess_fail(s, SESS_X_LOCAL, SC_ERR_INVAL, "no confirm check");
	r = s->cfg.protect_check(s->cfg.protect_ctx, &s->hello, (int32_t)st,
	    confirm);
	if (r < 0)
		return sess_fail(s, SESS_X_VERIFY, r, "the PROTECT confirmation does "
		    "not verify: the answer did not come from the hypervisor");
	if ((int32_t)st < 0)
		return sess_fail(s, SESS_X_VERIFY, (int32_t)st,
		    "the hypervisor refused the binding: %s", sc_err((int32_t)st));
	sess_done(s);
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
int
sess_on_error_frame(struct sess *s, uint16_t code, const char *text)
{
	int err = -(int)code;

	if (s->state == SESS_HANDSHAKE) {
		switch (err) {
		case SC_ERR_PERM:
			return sess_fail(s, SESS_X_VERIFY, SC_ERR_PERM,
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
			return sess_fail(s, SESS_X_VERIFY, err,
			    "the hypervisor refused the handshake: it could not "
			    "authenticate it (as reported by dom0, not "
			    "authenticated: \"%s\", code %u)", text, code);
		default:
			break;
		}
	}
	return sess_fail(s, SESS_X_RELAY, SC_ERR_CLOSED,
	    "dom0 relay (not authenticated): %s (code %u)", text, code);
}
