/*
 * hvclient.h — the dom0/tenant side of the hv ops ABI, without I/O: build
 * and parse op packets, and run a console session (Noise IKpsk2 initiator +
 * records) whose messages travel in OPEN/INPUT/OUTPUT payloads.
 *
 * Test scaffolding, in no installed program: used by the op-level unit
 * tests, the fuzz harnesses, the keystroke bench and sc-hvctl (the test
 * client), all linking tests/helpers/libhvclient.a.  Freestanding like the
 * hv core; all protocol work is lib/core's (core/handshake.h, core/ops.h).
 */
#ifndef SC_HV_CLIENT_H
#define SC_HV_CLIENT_H

#include "core/compat.h"
#include "core/buf.h"
#include "core/crypto.h"
#include "core/noise.h"
#include "core/record.h"
#include "core/ops.h"
#include "core/wire.h"

struct sc_hvc_session {
	const struct sc_crypto	*cp;
	struct sc_noise_handshake hs;
	struct sc_record_layer	rl;
	bool		established;
	/* From the HS2 payload. */
	uint8_t		hs2_flags;
	uint32_t	history_kept;
	uint64_t	lost_bytes;
};

/* Append one op packet (header + payload) to out. */
int	sc_hvc_op_build(struct sc_buf *out, uint16_t op, uint32_t domid,
	    uint32_t session, uint32_t arg, uint32_t seq,
	    const uint8_t *payload, size_t len) SC_WUR;
/* Parse one op packet; *payload points into pkt.  Checks len consistency. */
int	sc_hvc_op_parse(const uint8_t *pkt, size_t len, struct sc_op_hdr *h,
	    const uint8_t **payload) SC_WUR;

/*
 * Start a session: write Noise message 1 (to send with OPEN) into msg1.
 * prologue = SC_PROTOCOL_ID || uuid || hv_pk; psk = vm_secret.
 */
int	sc_hvc_hs1(struct sc_hvc_session *s, const struct sc_crypto *cp,
	    const uint8_t uuid[SC_UUID_LEN], const uint8_t hv_pk[SC_KEY_LEN],
	    const uint8_t user_sk[SC_KEY_LEN], const uint8_t vm_secret[SC_PSK_LEN],
	    uint8_t flags, uint32_t history_wanted, struct sc_buf *msg1) SC_WUR;
/* Finish it with message 2 (OPEN's response payload). */
int	sc_hvc_hs2(struct sc_hvc_session *s, const uint8_t *msg2, size_t len) SC_WUR;
/* Append one sealed record as an INPUT item { len:u16le ct } to items. */
int	sc_hvc_seal(struct sc_hvc_session *s, uint8_t type, const uint8_t *p,
	    size_t n, struct sc_buf *items) SC_WUR;
/*
 * Append this side's CLOSE (reason, the layer's record counts, text cut at
 * SC_CLOSE_TEXT_MAX) as an INPUT item.  Check the hv's answer with
 * sc_record_close_parse on s->rl.
 */
int	sc_hvc_seal_close(struct sc_hvc_session *s, uint8_t reason,
	    const char *text, struct sc_buf *items) SC_WUR;
/*
 * Open the next item of an OUTPUT payload.  Returns 1 with *type and the
 * payload appended to pl, 0 when items is exhausted, negative on error
 * (malformed item or failed authentication; the session is then dead).
 * REKEY records are handled and reported like any other type.
 */
int	sc_hvc_open_item(struct sc_hvc_session *s, struct sc_buf *items,
	    uint8_t *type, struct sc_buf *pl) SC_WUR;
void	sc_hvc_wipe(struct sc_hvc_session *s);

#endif /* SC_HV_CLIENT_H */
