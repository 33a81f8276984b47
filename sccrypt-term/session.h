/*
 * session.h — the client side of the SCCrypt protocol, without I/O.
 *
 * A session sees the bytes that arrive from the transport and the bytes the
 * user types, and produces bytes for the user's terminal, bytes for the
 * transport and local notices, through a sink.  It owns the clear phase
 * (clear text passed through byte-exact until the HELLO magic), the HELLO,
 * the trust decision (through a callback, see policy.h), the Noise IKpsk2
 * initiator, and the record layer.  Terminal handling and transports live
 * elsewhere (term.c, transport.c); this file is what the unit tests and the
 * fuzzer drive.
 *
 * Invariants:
 *  - once the HELLO magic has been seen, no user byte is ever written to the
 *    transport except inside an authenticated, encrypted record;
 *  - before it (the clear phase), a user byte is written in clear only with
 *    SESS_CLEAR_PROMPT and only while clear text ending in a prompt (not in
 *    a line end) is on the screen; otherwise it is held for the session,
 *    unless it was typed while clear text was in flight (shown, and not yet
 *    settled: see sess_clear_settled), when it is discarded: it may be the
 *    terminal's answer to something in that text, not the user's typing;
 *  - clear text goes to sink.clear_to_term, never to sink.to_term: to_term
 *    only ever gets authenticated console output;
 *  - no byte of a record is shown unless the record authenticated; the first
 *    failure ends the session (SESS_X_TAMPER);
 *  - replayed history (HISTORY records) is shown without the sequences that
 *    make a terminal answer (replay.h): old output never types into the
 *    guest through the user's terminal.
 */
#ifndef SCCRYPT_TERM_SESSION_H
#define SCCRYPT_TERM_SESSION_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include "core/frame.h"
#include "core/noise.h"
#include "core/record.h"
#include "core/wire.h"
#include "replay.h"

/* What the session is for. */
enum sess_mode {
	SESS_MODE_CONSOLE = 0,	/* handshake, then an interactive console */
	SESS_MODE_PROTECT,	/* send a PROTECT frame, wait for PROTECT_OK */
};

enum sess_state {
	SESS_CLEAR = 0,		/* before the HELLO magic */
	SESS_WAIT_HELLO,	/* magic seen, waiting for the HELLO frame */
	SESS_HANDSHAKE,		/* HS_INIT sent, waiting for HS_RESP */
	SESS_PROTECTING,	/* PROTECT sent, waiting for PROTECT_OK */
	SESS_OPEN,		/* records both ways */
	SESS_CLOSING,		/* our CLOSE sent, waiting for the hv's CLOSE */
	SESS_DONE,		/* orderly end (CLOSE handshake, PROTECT_OK) */
	SESS_FAILED,		/* error; see exit_class and errmsg */
};

/* Why a session ended: main maps these to exit codes (see main.c). */
enum sess_exit {
	SESS_X_OK = 0,
	SESS_X_TRANSPORT,	/* transport closed before or during the session */
	SESS_X_VERIFY,		/* hv key / certificate / handshake authentication */
	SESS_X_PROTOCOL,	/* malformed frame, unexpected message */
	SESS_X_TAMPER,		/* a record failed authentication, or the session
				 * ended without the close handshake */
	SESS_X_RELAY,		/* dom0 sent an ERROR frame */
	SESS_X_LOCAL,		/* a local problem (e.g. sealing failed) */
};

enum sess_event {
	SESS_EV_HELLO = 1,	/* the magic was seen: switch the terminal to raw */
	SESS_EV_OPEN,		/* handshake complete */
	SESS_EV_CLOSED,		/* orderly end */
	SESS_EV_FAILED,
	SESS_EV_OWNER_RESULT,	/* an OWNER_RESULT record was shown */
};

#define SESS_TYPEAHEAD_MAX	4096	/* user bytes held until the session is OPEN */

/*
 * What the user's bytes may do in the clear phase (before the HELLO magic).
 * The zero value is the safe one.
 */
enum sess_clear_input {
	/* Never in clear: held (up to SESS_TYPEAHEAD_MAX) and sent in the
	 * first records.  For input that is not a person at a terminal (a
	 * script, a pipe): it cannot see a prompt, so it is never answering
	 * one, and everything it says is meant for the VM. */
	SESS_CLEAR_HOLD = 0,
	/* A person at a terminal: bytes typed while a prompt is showing (the
	 * last clear text shown does not end in CR or LF, e.g. "[sudo]
	 * password for alice: ") are passed on in clear, so ssh and sudo
	 * prompts on the way can be answered; bytes typed while no prompt is
	 * showing are held like SESS_CLEAR_HOLD.  Bytes held when a prompt
	 * then appears are discarded (with a notice): they were typed before
	 * the prompt, so they were not an answer the user saw it ask for, and
	 * they may have been meant for the VM. */
	SESS_CLEAR_PROMPT,
};
#define SESS_MSG_MAX		512

struct sess;

struct sess_sink {
	void	*ctx;
	/* Authenticated console output for the user's terminal. */
	void	(*to_term)(void *ctx, const uint8_t *p, size_t len);
	/* Bytes for the transport.  Returns 0 or a negative SC_ERR_*. */
	int	(*to_wire)(void *ctx, const uint8_t *p, size_t len);
	/* A local notice (one line, no newline, printable). */
	void	(*notice)(void *ctx, const char *text);
	void	(*event)(void *ctx, enum sess_event ev);
	/* Clear text from dom0 (the clear phase): unauthenticated, to be shown
	 * inert and marked (cleartext.h).  NULL: it is not shown. */
	void	(*clear_to_term)(void *ctx, const uint8_t *p, size_t len);
};

struct sess_config {
	enum sess_mode	mode;
	const char	*vmname;	/* the VM the user asked for */
	const uint8_t	*uuid;		/* expected domain UUID, or NULL */
	const uint8_t	*user_sk;	/* SC_KEY_LEN, console mode */
	const uint8_t	*psk;		/* SC_PSK_LEN (VM secret), console mode */
	uint32_t	history_wanted;
	uint8_t		hs1_flags;	/* SC_HS1_F_* */
	bool		no_typing;	/* nobody types (batch): no typing notices */
	enum sess_clear_input clear_input;
	/*
	 * Decide whether the HELLO's hv key is trusted.  Returns 0 to go on,
	 * or a negative SC_ERR_* after putting a reason into msg (msgsz).
	 */
	int	(*verify)(void *ctx, const struct sc_hello *h, char *msg, size_t msgsz);
	void	*verify_ctx;
	/*
	 * Protect mode: build the sealed blob for h's hv key into out, and
	 * check the PROTECT_OK confirm.  Both return 0 or SC_ERR_*.
	 */
	int	(*protect_build)(void *ctx, const struct sc_hello *h, struct sc_buf *out);
	int	(*protect_check)(void *ctx, const struct sc_hello *h, int32_t status,
		    const uint8_t confirm[32]);
	void	*protect_ctx;
};

struct sess {
	struct sess_config cfg;
	struct sess_sink sink;
	enum sess_state	state;
	enum sess_exit	exit_class;
	int		err;		/* SC_ERR_* of the failure */
	char		errmsg[SESS_MSG_MAX];

	struct sc_hello_scanner scan;
	struct sc_frame_decoder	dec;
	uint8_t		encoding;
	struct sc_hello	hello;
	bool		have_hello;

	struct sc_noise_handshake hs;
	struct sc_record_layer	rl;
	bool		have_rl;
	uint8_t		hs2_flags;
	uint32_t	history_kept;
	uint64_t	lost_bytes;
	bool		lost_pending;	/* HS2's lost count shown, notice due */
	bool		lost_deferred;	/* HS2's lost count waits for the replay */
	uint64_t	history_bytes_shown;
	struct rplf	replay;		/* queries out of replayed history */

	uint8_t		typeahead[SESS_TYPEAHEAD_MAX];
	size_t		typeahead_len;
	uint64_t	typeahead_dropped;
	bool		prompt_showing;	/* clear text shown ends in a prompt */
	size_t		pre_pos;	/* bytes of SC_CONSOLE_PREAMBLE held */
	bool		pre_mid_line;	/* clear text shown ends mid-line */
	bool		clear_in_flight; /* clear text shown, not yet settled */
	uint64_t	clear_shown;	/* clear bytes shown (text and stderr) */
	uint64_t	inflight_dropped; /* typed while clear text was in flight */

	/* Last OWNER_RESULT, for the command line. */
	uint8_t		owner_cmd;
	int32_t		owner_status;
	unsigned	owner_count;
	uint8_t		owner_keys[SC_ACL_MAX][SC_KEY_LEN + 1];

	/* Keepalive (sess_keepalive): one PING of ours in flight at most. */
	uint64_t	ka_seq;		/* number of our last keepalive PING */
	unsigned long long ka_sent_ms;	/* it was sent then; 0 = answered */
	unsigned long long ka_due_ms;	/* next one due then; 0 = not planned */
	bool		ka_input;	/* records sent since it was planned */
	bool		stalled;	/* the stall notice is showing */
	uint8_t		wirebuf[SC_FRAME_ENC_MAX];
	uint8_t		recbuf[SC_RECORD_CT_MAX + 64];
	uint8_t		ptbuf[SC_RECORD_PAYLOAD_MAX + 64];
	uint8_t		clearbuf[4096 + SC_HELLO_MAGIC_LEN];
};

/* cfg and sink are copied; pointers inside cfg must outlive s. */
void	sess_init(struct sess *s, const struct sess_config *cfg,
	    const struct sess_sink *sink);
/* Wipe every secret in s. */
void	sess_wipe(struct sess *s);

/*
 * Bytes from the transport.  Returns 0, or a negative code once the session
 * has failed (s->state == SESS_FAILED, reason in s->errmsg).
 */
int	sess_from_wire(struct sess *s, const uint8_t *in, size_t len) SC_WUR;
/* The transport reached EOF.  Returns 0 if that is an orderly end. */
int	sess_wire_eof(struct sess *s) SC_WUR;
/*
 * Bytes the user typed (after escape processing).  In SESS_CLEAR they go to
 * the transport as they are only as cfg.clear_input allows (see enum
 * sess_clear_input); otherwise, and from the HELLO magic on, they are held
 * (up to SESS_TYPEAHEAD_MAX; the excess is dropped and counted in a notice)
 * until the session is open, then sent in records.
 */
int	sess_user_input(struct sess *s, const uint8_t *in, size_t len) SC_WUR;
/*
 * Clear text the caller showed the user on the transport's behalf other than
 * through sink.to_term (the remote's stderr in the clear phase): it can be a
 * prompt too.  Ignored outside SESS_CLEAR.
 */
void	sess_clear_shown(struct sess *s, const uint8_t *p, size_t len);
/*
 * The clear text shown so far has settled: the user's terminal has had
 * time to answer anything in it (the caller decides: SESS_CLEAR_SETTLE_MS
 * without clear output).  Until then, user bytes in the clear phase that
 * would be held for the session are discarded instead (counted, and said
 * when the session opens), so that a terminal's reply to clear-phase
 * output never becomes the user's first record.
 */
void	sess_clear_settled(struct sess *s);
#define SESS_CLEAR_SETTLE_MS	500

/* Records the user can ask for (SESS_OPEN only; SC_ERR_STATE otherwise). */
/* A SysRq key the hv accepts: 0 (plain break) or 0x21..0x7e. */
bool	sess_break_key_ok(uint8_t key);
/* SC_ERR_INVAL (nothing sent, session unchanged) for another key,
 * SC_ERR_PERM in a read-only (viewer) session. */
int	sess_send_break(struct sess *s, uint8_t key) SC_WUR;
int	sess_rekey(struct sess *s) SC_WUR;
int	sess_history_req(struct sess *s, uint32_t bytes) SC_WUR;
int	sess_owner_cmd(struct sess *s, uint8_t cmd, const uint8_t key[SC_KEY_LEN],
	    uint8_t flags) SC_WUR;
int	sess_ping(struct sess *s) SC_WUR;
/*
 * Keepalive (PROTOCOL.md §10, "Stalled sessions").  Call with the time
 * whenever the loop wakes up; returns the ms until it wants to be called
 * again (-1: not before something else happens).  While the session is open
 * it sends an authenticated PING SESS_KA_AFTER_INPUT_MS after input was sent
 * and SESS_KA_IDLE_MS after the last answer; the hv's PONG proves that every
 * record before the PING arrived and that its answers come back.  A PING
 * unanswered for SESS_KA_STALL_MS puts up a notice that the session is
 * stalled and how to leave; the PONG, if it comes, says it goes on.
 */
int	sess_keepalive(struct sess *s, unsigned long long now_ms);
#define SESS_KA_AFTER_INPUT_MS	2000
#define SESS_KA_IDLE_MS		15000
#define SESS_KA_STALL_MS	10000
/*
 * Orderly close.  When open: send our CLOSE (with the record counts) and go
 * to SESS_CLOSING; the session is SESS_DONE once the hv's CLOSE accounts for
 * every record we sent (the close handshake, PROTOCOL.md §5.6).  Before the
 * session is open: SESS_DONE at once.  Returns 0 or a negative code.
 */
int	sess_close(struct sess *s) SC_WUR;
/*
 * Give up waiting for the hv's CLOSE (a timeout, or the user insisted):
 * in SESS_CLOSING the session fails with SESS_X_TAMPER, since the end of
 * what we sent cannot be known to have arrived.  No-op in other states.
 */
void	sess_close_abandon(struct sess *s, const char *why);

bool	sess_is_open(const struct sess *s);
bool	sess_in_clear(const struct sess *s);
const char *sess_state_name(enum sess_state st);

#endif /* SCCRYPT_TERM_SESSION_H */
