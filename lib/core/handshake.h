/*
 * handshake.h — the session handshake's encodings and the hv ops' record
 * items, each layout written once (PROTOCOL.md §4 and §8.2; wire.h has the
 * sizes).  Used by both ends: the hv core (responder), sccrypt-term and the
 * test clients (initiators), dom0's relay (items).
 *
 *   prologue  SC_PROTOCOL_ID || uuid[16] || hv_pubkey[32]   (hashed, never sent)
 *   HS1       version:u8 flags:u8 history_wanted:u32        (message 1 payload)
 *   HS2       version:u8 flags:u8 history_kept:u32 lost_bytes:u64
 *                                                           (message 2 payload)
 *   item      len:u16le ciphertext[len]                     (INPUT/OUTPUT payloads)
 *
 * Contract, as buf.h's: every put appends the whole encoding or fails with
 * SC_ERR_NOSPACE and leaves the buffer unchanged; every get reads the whole
 * encoding or fails and leaves the buffer unchanged (the struct is then
 * zeroed).  HS1 and HS2 are whole Noise payloads: their get refuses
 * trailing bytes.  The HS1 put writes any flags (tests send unknown ones):
 * the hv's get is what refuses them.  Likewise the item put frames any
 * length the field carries (1..SC_RECORD_CT_MAX): consoled relays a
 * client's record unjudged, and the hv, whose refusal is authenticated (a
 * CLOSE the client can verify), refuses one shorter than a record.
 *
 * Errors of the gets: SC_ERR_TRUNCATED (too short), SC_ERR_FORMAT (trailing
 * bytes, unknown HS1 flag), SC_ERR_VERSION (not SC_PROTOCOL_VERSION); for
 * items SC_ERR_TRUNCATED (torn item, or len below SC_RECORD_CT_MIN) and
 * SC_ERR_TOOLONG (len above SC_RECORD_CT_MAX).  Freestanding.
 */
#ifndef SC_CORE_HANDSHAKE_H
#define SC_CORE_HANDSHAKE_H

#include "core/compat.h"
#include "core/buf.h"
#include "core/crypto.h"
#include "core/noise.h"
#include "core/wire.h"

#define SC_HS_PROLOGUE_LEN	(SC_PROTOCOL_ID_LEN + SC_UUID_LEN + SC_KEY_LEN)
/* HS1 flags the hv knows; any other bit makes the payload malformed. */
#define SC_HS1_F_KNOWN		(SC_HS1_F_VIEWER | SC_HS1_F_TAKEOVER)

/* Message 1 payload, client -> hv (the version is SC_PROTOCOL_VERSION). */
struct sc_hs1 {
	uint8_t		flags;		/* SC_HS1_F_* */
	uint32_t	history_wanted;	/* bytes of history to replay */
};

/*
 * Message 2 payload, hv -> client.  Flag bits other than SC_HS2_F_* are
 * reserved: sent as 0, ignored by the client.
 */
struct sc_hs2 {
	uint8_t		flags;		/* SC_HS2_F_* */
	uint32_t	history_kept;	/* bytes of history the hv will replay */
	uint64_t	lost_bytes;	/* output lost while no writer was attached */
};

/* Append the prologue for the domain uuid and the hv key hv_pk. */
int	sc_hs_prologue_put(struct sc_buf *b, const uint8_t uuid[SC_UUID_LEN],
	    const uint8_t hv_pk[SC_KEY_LEN]) SC_WUR;
/*
 * Start one side of the SCCrypt handshake: SC_NOISE_PROTOCOL with the
 * prologue above and psk = the VM secret.  The initiator (client) passes
 * its static key sk and hv_pk; the responder (hv) passes the hv's static
 * key sk (hv_pk is then only the prologue's).  SC_ERR_UNSUPPORTED if this
 * build has no such pattern; sc_noise_hs_init's errors otherwise.
 */
int	sc_hs_init(struct sc_noise_handshake *hs, const struct sc_crypto *cp,
	    bool initiator, const uint8_t uuid[SC_UUID_LEN],
	    const uint8_t hv_pk[SC_KEY_LEN], const uint8_t sk[SC_KEY_LEN],
	    const uint8_t psk[SC_PSK_LEN]) SC_WUR;

int	sc_hs1_put(struct sc_buf *b, const struct sc_hs1 *m) SC_WUR;
int	sc_hs1_get(struct sc_buf *b, struct sc_hs1 *m) SC_WUR;
int	sc_hs2_put(struct sc_buf *b, const struct sc_hs2 *m) SC_WUR;
int	sc_hs2_get(struct sc_buf *b, struct sc_hs2 *m) SC_WUR;

/*
 * Op items (core/ops.h, INPUT and OUTPUT): one record ciphertext each.
 * SC_OP_ITEM_MAX bounds one item; the hv reassembles INPUT items split
 * across ops, reading the length with sc_op_item_len_get first.
 */
#define SC_OP_ITEM_HDR_LEN	2
#define SC_OP_ITEM_MAX		(SC_OP_ITEM_HDR_LEN + SC_RECORD_CT_MAX)

/* Append { len:u16le ct[len] }; len 1..CT_MAX (the get wants CT_MIN..CT_MAX). */
int	sc_op_item_put(struct sc_buf *b, const uint8_t *ct, size_t len) SC_WUR;
/* Read a whole item: *ct points into b's storage, *len is its length. */
int	sc_op_item_get(struct sc_buf *b, const uint8_t **ct, size_t *len) SC_WUR;
/* Read only an item's length field (checked as sc_op_item_get does). */
int	sc_op_item_len_get(struct sc_buf *b, size_t *len) SC_WUR;

#endif /* SC_CORE_HANDSHAKE_H */
