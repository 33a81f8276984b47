/*
 * ops.h — the hv ops ABI: what dom0 may ask of the hypervisor ring module.
 *
 * Hypercall-shaped: every op is one request and one response, each a fixed
 * 32-byte little-endian header followed by `len` payload bytes.  In the
 * simulation each is one SOCK_SEQPACKET packet on hvsim's ops socket (one
 * connection = dom0's privcmd); inside Xen the same structs travel through a
 * hypercall buffer.  The hv validates every field; a bad op returns a
 * negative status (core/err.h) and changes nothing.  PROTOCOL.md §ops is the
 * prose form.
 *
 *   offset size field
 *   0      4    magic     "SCOP" (0x504f4353 as u32le)
 *   4      2    version   SC_OPS_VERSION
 *   6      2    op        enum sc_op
 *   8      4    status    request: 0; response: 0 or a negative sc_error
 *   12     4    domid
 *   16     4    session   session id (0 = none)
 *   20     4    arg       op-specific (below)
 *   24     4    len       payload length, <= SC_OP_PAYLOAD_MAX
 *   28     4    seq       request id, echoed in the response
 */
#ifndef SC_CORE_OPS_H
#define SC_CORE_OPS_H

#include "core/compat.h"
#include "core/buf.h"
#include "core/wire.h"

#define SC_OPS_MAGIC		0x504f4353u
/*
 * 2: STATUS no longer carries ring indices, history fill or lost bytes.
 * 3: PROTECT's payload is blob || token || tlen:u8 (core/owner.h).
 */
#define SC_OPS_VERSION		3
#define SC_OP_HDR_LEN		32
#define SC_OP_PAYLOAD_MAX	32768
#define SC_OP_MAX		(SC_OP_HDR_LEN + SC_OP_PAYLOAD_MAX)

enum sc_op {
	/*
	 * GET_INFO  -> payload: hv_pubkey[32] abi_version:u32 caps:u32
	 *              max_domains:u32 max_sessions:u32 pcr_index:u32
	 */
	SC_OP_GET_INFO		= 1,
	/*
	 * LIST_DOMAINS (simulation's discovery; Xen uses xenstore)
	 *           arg = index of the first domain wanted (paging)
	 *           -> arg = count (<= SC_OP_LIST_PAGE); payload: count x
	 *              { domid:u32 uuid[16] name[64] (NUL-padded)
	 *              flags:u32 (SC_DOM_F_*) }
	 */
	SC_OP_LIST_DOMAINS	= 2,
	/*
	 * PROTECT   domid; payload = sealed registration blob (core/blob.h)
	 *           || ownership token || tlen:u8 (core/owner.h)
	 *           -> status; payload: confirm[32] (sc_blob_confirm)
	 */
	SC_OP_PROTECT		= 3,
	/*
	 * OPEN      domid; payload = Noise message 1
	 *           -> session = new id; payload = Noise message 2
	 */
	SC_OP_OPEN		= 4,
	/* CLOSE     domid, session -> status */
	SC_OP_CLOSE		= 5,
	/*
	 * INPUT     domid, session; payload = a byte stream of items
	 *           { len:u16le ciphertext[len] } (record ciphertexts), which
	 *           may be split anywhere between ops: the hv reassembles.
	 *           -> arg = bytes consumed (0..len).  Fewer than len means the
	 *           guest's in ring is full: retry the rest after an
	 *           SC_EV_INPUT_SPACE event.  Nothing is dropped or duplicated.
	 */
	SC_OP_INPUT		= 6,
	/*
	 * OUTPUT    domid, session; arg = max payload bytes wanted
	 *           -> payload = items { len:u16le ciphertext[len] } (whole
	 *           records only); arg = SC_OUT_F_MORE if more is pending.
	 *           The session's pending output includes the hv's CLOSE record
	 *           for a session that was taken over.
	 */
	SC_OP_OUTPUT		= 7,
	/*
	 * STATUS    domid -> payload: flags:u32 sessions:u32 history_size:u32
	 *           (only what dom0 knows anyway: nothing about how much
	 *           the guest printed or was sent)
	 */
	SC_OP_STATUS		= 8,
	/*
	 * RAW_INPUT / RAW_OUTPUT: plaintext access for *unprotected* domains
	 * only (today's xenconsoled behaviour, the benchmark baseline).
	 * Protected domains answer SC_ERR_PROTECTED.  RAW_INPUT -> arg =
	 * bytes consumed; RAW_OUTPUT arg = max -> payload = bytes.
	 */
	SC_OP_RAW_INPUT		= 9,
	SC_OP_RAW_OUTPUT	= 10,
	/*
	 * EVENT (hv -> dom0, unsolicited; seq = 0): domid; arg = SC_EV_* bits;
	 * session = the session concerned (0 = domain-wide).  The simulation's
	 * stand-in for event channels.
	 */
	SC_OP_EVENT		= 11,
};

#define SC_DOM_F_RUNNING	0x01
#define SC_DOM_F_PROTECTED	0x02
#define SC_DOM_F_SESSION	0x04	/* a writer session is open */

#define SC_OUT_F_MORE		0x01

#define SC_EV_OUTPUT		0x01	/* ciphertext (or raw output) is ready */
#define SC_EV_INPUT_SPACE	0x02	/* the guest consumed input: retry INPUT */
#define SC_EV_DOMAIN_ADDED	0x04
#define SC_EV_DOMAIN_GONE	0x08
#define SC_EV_SESSION_CLOSED	0x10	/* session ended by the hv (taken over, error) */
/*
 * Events for this dom0 were dropped (it did not read them fast enough, or
 * too many happened at once): any event may have happened to any domain
 * and session.  Sent with domid 0 and session 0.
 */
#define SC_EV_LOST		0x20

#define SC_OP_DOMAIN_ENTRY_LEN	(4 + 16 + 64 + 4)
/*
 * LIST_DOMAINS answers at most this many entries (what fits one payload);
 * a full page means: ask again with arg = first index + count.
 */
#define SC_OP_LIST_PAGE		(SC_OP_PAYLOAD_MAX / SC_OP_DOMAIN_ENTRY_LEN)

struct sc_op_hdr {
	uint32_t	magic;
	uint16_t	version;
	uint16_t	op;
	int32_t		status;
	uint32_t	domid;
	uint32_t	session;
	uint32_t	arg;
	uint32_t	len;
	uint32_t	seq;
};

/*
 * A header with magic and version set, status 0 and len 0 (set len, or
 * status in a response, afterwards).
 */
void	sc_op_hdr_init(struct sc_op_hdr *h, uint16_t op, uint32_t domid,
	    uint32_t session, uint32_t arg, uint32_t seq);
/*
 * Decode the next SC_OP_HDR_LEN bytes of b as they are, validating nothing
 * and consuming nothing: for answering a request sc_op_hdr_get refused
 * (its op, domid, session and seq).  SC_ERR_TRUNCATED if fewer bytes
 * remain; *h is then zeroed, which is all an error reply needs.
 */
int	sc_op_hdr_peek(const struct sc_buf *b, struct sc_op_hdr *h);
/* Parse and validate a header (magic, version, len <= SC_OP_PAYLOAD_MAX). */
int	sc_op_hdr_get(struct sc_buf *b, struct sc_op_hdr *h) SC_WUR;
int	sc_op_hdr_put(struct sc_buf *b, const struct sc_op_hdr *h) SC_WUR;

/*
 * Added by the hv work (PROTOCOL.md §8):
 * SC_DOM_F_BROKEN  the guest corrupted its ring indices; ring ops fail with
 *                  SC_ERR_CORRUPT until the platform resets the page.
 * SC_OUT_F_CLOSED  (OUTPUT arg) the session has ended and this response
 *                  carried its last records; its id is now invalid.
 * SC_CAP_*         GET_INFO caps bits.
 */
#define SC_DOM_F_BROKEN		0x08
#define SC_OUT_F_CLOSED		0x02
#define SC_CAP_HISTORY		0x01	/* history buffer + replay */
#define SC_CAP_VIEWER		0x02	/* read-only viewer sessions */
#define SC_CAP_SYSRQ		0x04	/* BREAK records become hvc SysRq */
#define SC_CAP_OWNER_CMD	0x08	/* ACL changes by owner commands */
#define SC_CAP_RAW		0x10	/* RAW_INPUT/RAW_OUTPUT for unprotected domains */
#define SC_CAP_TAKEOVER		0x20	/* a new writer replaces the old one */

#endif /* SC_CORE_OPS_H */
