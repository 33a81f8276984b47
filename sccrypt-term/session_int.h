/*
 * session_int.h — what the parts of the client session share (session.c,
 * session_hs.c, session_rec.c, session_ctl.c); not for other files, which
 * use session.h.
 *
 * Contract: every function that fails the session does so through
 * sess_fail(), which records the first failure only, wipes the keys and the
 * typeahead and returns the failure's SC_ERR_*; callers return that value.
 */
#ifndef SCCRYPT_TERM_SESSION_INT_H
#define SCCRYPT_TERM_SESSION_INT_H

#include "core/buf.h"
#include "session.h"

/* session.c: the session's life and the wire */
void	sess_notice(struct sess *s, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
int	sess_fail(struct sess *s, enum sess_exit cls, int err, const char *fmt, ...)
	    __attribute__((format(printf, 4, 5)));
void	sess_done(struct sess *s);
const char *sess_frame_name(uint8_t t);
int	sess_send_frame(struct sess *s, uint8_t type, const uint8_t *body,
	    size_t len);
/* Seal one record (rekeying first when due) and send it; SESS_OPEN only. */
int	sess_send_record(struct sess *s, uint8_t type, const uint8_t *p,
	    size_t len);
/* User data in as many DATA records as it takes. */
int	sess_send_data(struct sess *s, const uint8_t *p, size_t len);
/* The encrypted session ended without the hv's CLOSE (SESS_X_TAMPER). */
int	sess_cut_off(struct sess *s, const char *how);

/* session_hs.c: the handshake steps */
int	sess_on_hello(struct sess *s, struct sc_buf *body);
int	sess_on_hs_resp(struct sess *s, const uint8_t *p, size_t len);
int	sess_on_protect_ok(struct sess *s, struct sc_buf *b);
int	sess_on_error_frame(struct sess *s, uint16_t code, const char *text);
/* The HS2 lost-output count, as a notice (now, or after the replay). */
void	sess_show_lost(struct sess *s);

/* session_rec.c: records from the hv */
int	sess_on_record(struct sess *s, const uint8_t *p, size_t len);

/* session_ctl.c: the keepalive's side of a PONG */
void	sess_ka_pong(struct sess *s, const struct sc_buf *pt);

#endif /* SCCRYPT_TERM_SESSION_INT_H */
