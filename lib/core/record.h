/*
 * record.h — the record layer on top of a Noise transport.
 *
 * A record is type:u8 || length:u16 || payload || zero padding up to the
 * smallest of four fixed sizes, sealed as one Noise transport message (see
 * wire.h, PROTOCOL.md §5).  Counters are strict and implicit: records must
 * arrive exactly in order, once.  Rekeying is a record: sc_record_seal(SC_REC_REKEY) rekeys the
 * send direction right after sealing it; sc_record_open() of a REKEY record
 * rekeys the receive direction and reports SC_REC_REKEY so the caller can
 * count it and otherwise ignore it.  The sender side also rekeys by itself
 * after SC_REKEY_AFTER_RECORDS records (sc_record_need_rekey()).
 */
#ifndef SC_CORE_RECORD_H
#define SC_CORE_RECORD_H

#include "core/compat.h"
#include "core/buf.h"
#include "core/noise.h"
#include "core/wire.h"

struct sc_record_stats {
	uint64_t	records_sent, records_recv;
	uint64_t	bytes_sent, bytes_recv;	/* payload bytes */
	uint64_t	rekeys_sent, rekeys_recv;
};

struct sc_record_layer {
	struct sc_noise_transport t;
	struct sc_record_stats	stats;
	uint64_t	since_rekey_send;
	bool		dead;		/* transport unusable: nothing is sealed or opened */
	bool		recv_dead;	/* a received record failed: nothing more is opened */
};

/*
 * CLOSE payload (wire.h): reason:u8 sent:u64 recv:u64 text:str8.  text
 * points into the parsed payload; at most SC_CLOSE_TEXT_MAX bytes, not
 * sanitised (the caller shows it through its sanitiser).
 */
struct sc_record_close {
	uint8_t		reason;
	uint64_t	sent, recv;
	const uint8_t	*text;
	size_t		text_len;
};

/* Ciphertext length of a record with len payload bytes; 0 if len is too long. */
size_t	sc_record_ct_len(size_t len);

/* Take over a transport (t is wiped). */
void	sc_record_init(struct sc_record_layer *rl, struct sc_noise_transport *t);
void	sc_record_wipe(struct sc_record_layer *rl);

/* Append the ciphertext of one record (sc_record_ct_len(len) bytes) to out. */
int	sc_record_seal(struct sc_record_layer *rl, uint8_t type,
	    const uint8_t *payload, size_t len, struct sc_buf *out) SC_WUR;
/*
 * Authenticate and decrypt one record.  On success *type is set and the
 * payload (at most SC_RECORD_PAYLOAD_MAX bytes) is appended to payload_out.
 * Any failure (a length that is not a padded size, bad tag, replay, gap,
 * unknown type, a payload length that does not fit, padding that is not the
 * smallest or not zero) marks the
 * receive direction dead and returns a negative code; no plaintext is
 * produced and no later record is opened.  The send direction stays usable,
 * so the side that detected tampering can still tell its peer, with an
 * authenticated CLOSE, why the session ends.
 */
int	sc_record_open(struct sc_record_layer *rl, const uint8_t *ct, size_t len,
	    uint8_t *type, struct sc_buf *payload_out) SC_WUR;
/*
 * Seal this side's CLOSE: sent and recv are taken from rl's statistics, the
 * text (printable ASCII expected) is cut at SC_CLOSE_TEXT_MAX bytes.
 */
int	sc_record_seal_close(struct sc_record_layer *rl, uint8_t reason,
	    const char *text, struct sc_buf *out) SC_WUR;
/*
 * Parse the payload of a CLOSE that sc_record_open just returned and check
 * its counts against rl: sent must equal the records opened before it, recv
 * must not exceed the records sealed.  SC_ERR_TRUNCATED / SC_ERR_FORMAT /
 * SC_ERR_TOOLONG for a bad layout, SC_ERR_MISMATCH for counts that cannot
 * be right.  (The session decides what an honest recv < sent means.)
 */
int	sc_record_close_parse(const struct sc_record_layer *rl, const uint8_t *p,
	    size_t len, struct sc_record_close *c) SC_WUR;
/* True when the send side should emit SC_REC_REKEY before the next record. */
bool	sc_record_need_rekey(const struct sc_record_layer *rl);

#endif /* SC_CORE_RECORD_H */
