/*
 * wire.h — the SCCrypt wire format and its limits, in one place.
 *
 * PROTOCOL.md is the normative prose; this header is its machine form.  All
 * integers on the client<->hv wire are big-endian.  (The hv ops ABI in
 * core/ops.h is little-endian, like a hypercall struct.)
 *
 * Byte stream between sccrypt-term and dom0 (DESIGN §5):
 *
 *   clear text (ssh/sudo prompts, errors) ...
 *   SC_HELLO_MAGIC  encoding-char  frame frame frame ...
 *
 * The encoding char is 'B' (binary, DLE-stuffed, see frame.h) or 'A'
 * (armored: one base64 frame per line).  After the magic the client never
 * sends clear text again; both directions use the announced encoding.
 *
 * A frame (before encoding): type:u8 length:u16 body[length].
 */
#ifndef SC_CORE_WIRE_H
#define SC_CORE_WIRE_H

#include "core/compat.h"

/*
 * Version 2: padded records and the CLOSE handshake with record counts
 * (PROTOCOL.md §5).  The prologue id stays "SCCrypt/1": it names the
 * protocol family; the version is checked in HELLO and bound into the
 * handshake hash by the HS1/HS2 payloads.
 */
#define SC_PROTOCOL_VERSION	2
#define SC_PROTOCOL_ID		"SCCrypt/1"	/* prologue prefix, no NUL */
#define SC_PROTOCOL_ID_LEN	9
#define SC_NOISE_PROTOCOL	"Noise_IKpsk2_25519_ChaChaPoly_BLAKE2b"

#define SC_HELLO_MAGIC		"\r\n:SCCRYPT:"	/* 11 bytes, then 'B' or 'A' */
#define SC_HELLO_MAGIC_LEN	11
/*
 * The line sccrypt-console writes before relaying a protected console, so
 * that a human who attached with xenconsole reads something first
 * (PROTOCOL.md §3.1); sccrypt-term does not show it.
 */
#define SC_CONSOLE_PREAMBLE	"SCCrypt: this console is encrypted; connect " \
	"with sccrypt-term(1). What follows is not for a terminal.\r\n"
#define SC_CONSOLE_PREAMBLE_LEN	(sizeof(SC_CONSOLE_PREAMBLE) - 1)
#define SC_ENCODING_BINARY	'B'
#define SC_ENCODING_ARMOR	'A'

/* Sizes */
#define SC_KEY_LEN		32	/* X25519 / Ed25519 public keys */
#define SC_PSK_LEN		32	/* VM secret */
#define SC_UUID_LEN		16
#define SC_TAG_LEN		16
#define SC_VMNAME_MAX		64	/* [A-Za-z0-9._-], no leading '.' or '-' */
#define SC_HOSTNAME_MAX		255
#define SC_DISK_KEY_MAX		128	/* LUKS2 volume keys are <= 64 bytes in practice */
#define SC_ACL_MAX		16	/* user keys per domain */
#define SC_CERT_MAX		1024	/* encoded VMM certificate */
#define SC_ERRMSG_MAX		200	/* ERROR frame text */

/* Frames */
#define SC_FRAME_HDR_LEN	3	/* type:u8 length:u16 */
#define SC_FRAME_BODY_MAX	8192
#define SC_FRAME_MAX		(SC_FRAME_HDR_LEN + SC_FRAME_BODY_MAX)

enum sc_frame_type {
	SC_FRAME_HELLO		= 0x01,	/* dom0 -> client, see layout below */
	SC_FRAME_HS_INIT	= 0x02,	/* client -> hv: Noise message 1 */
	SC_FRAME_HS_RESP	= 0x03,	/* hv -> client: Noise message 2 */
	SC_FRAME_RECORD		= 0x04,	/* both: Noise transport message (a record) */
	SC_FRAME_ERROR		= 0x05,	/* dom0 -> client: code:u16 text:str8 (unauthenticated) */
	SC_FRAME_PROTECT	= 0x06,	/* client -> dom0 -> hv: sealed registration blob */
	SC_FRAME_PROTECT_OK	= 0x07,	/* hv -> client: status:i32-as-u32 confirm[32] */
	SC_FRAME_BYE		= 0x08,	/* either: relay closing, no body */
};

/*
 * HELLO body:
 *   version:u8  flags:u8  vmname:str8  uuid[16]  hv_pubkey[32]
 *   history_bytes:u32  certificate:str16 (empty if dom0 has none)
 * flags: SC_HELLO_F_PROTECTED — the domain is protected (else only PROTECT
 * is possible), SC_HELLO_F_VIEWER — relay offers read-only viewing.
 */
#define SC_HELLO_F_PROTECTED	0x01
#define SC_HELLO_F_VIEWER	0x02

/*
 * Handshake (Noise_IKpsk2_25519_ChaChaPoly_BLAKE2b, rev. 34):
 *   prologue = SC_PROTOCOL_ID || uuid[16] || hv_pubkey[32]
 *   psk      = the VM secret
 * Message 1 payload (client -> hv), SC_HS1_PAYLOAD_LEN bytes:
 *   version:u8  flags:u8  history_wanted:u32
 *   flags: SC_HS1_F_VIEWER (read-only), SC_HS1_F_TAKEOVER (replace the writer)
 * Message 2 payload (hv -> client), SC_HS2_PAYLOAD_LEN bytes:
 *   version:u8  flags:u8  history_kept:u32  lost_bytes:u64
 *   flags: SC_HS2_F_OWNER (initiator key may change the ACL),
 *          SC_HS2_F_VIEWER (session is read-only)
 */
#define SC_HS1_PAYLOAD_LEN	6
#define SC_HS2_PAYLOAD_LEN	14
#define SC_HS1_MSG_LEN		(32 + 48 + 16 + SC_HS1_PAYLOAD_LEN)
#define SC_HS2_MSG_LEN		(32 + 16 + SC_HS2_PAYLOAD_LEN)
#define SC_HS1_F_VIEWER		0x01
#define SC_HS1_F_TAKEOVER	0x02
#define SC_HS2_F_OWNER		0x01
#define SC_HS2_F_VIEWER		0x02

/*
 * Records (protocol version 2): the plaintext of every Noise transport
 * message is
 *   type:u8 length:u16 payload[length] zero[pad]
 * padded to the smallest of the SC_RECORD_PAD_* sizes that holds it, and
 * encrypted with the direction's cipher state and zero-length AD.  A
 * ciphertext is therefore one of four lengths (bucket + 16): dom0 sees the
 * bucket, not the payload length.  The nonce is the implicit Noise counter:
 * the ssh channel is reliable and ordered, so any drop, duplicate, reorder
 * or bit flip fails authentication and ends the session.
 */
#define SC_RECORD_PAYLOAD_MAX	4096
#define SC_RECORD_HDR_LEN	3		/* type:u8 length:u16 */
#define SC_RECORD_PAD_1		64		/* padded plaintext sizes */
#define SC_RECORD_PAD_2		256
#define SC_RECORD_PAD_3		1024
#define SC_RECORD_PT_MAX	(SC_RECORD_HDR_LEN + SC_RECORD_PAYLOAD_MAX)	/* 4099, the 4th */
#define SC_RECORD_CT_MIN	(SC_RECORD_PAD_1 + SC_TAG_LEN)	/* 80 */
#define SC_RECORD_CT_MAX	(SC_RECORD_PT_MAX + SC_TAG_LEN)	/* 4115 */

enum sc_record_type {
	SC_REC_DATA		= 0x01,	/* console bytes (input or output) */
	SC_REC_BREAK		= 0x02,	/* client -> hv: key:u8 (SysRq key; 0 = plain break) */
	SC_REC_CLOSE		= 0x03,	/* either: reason:u8 sent:u64 recv:u64 text:str8 — see below */
	SC_REC_PING		= 0x04,	/* either: opaque[0..64], answered by PONG with the same bytes */
	SC_REC_PONG		= 0x05,
	SC_REC_HISTORY_REQ	= 0x06,	/* client -> hv: bytes_wanted:u32 */
	SC_REC_HISTORY		= 0x07,	/* hv -> client: last:u8 bytes[...] (replayed output) */
	SC_REC_NOTICE		= 0x08,	/* hv -> client: code:u16 value:u64 text:str8 */
	SC_REC_OWNER_CMD	= 0x09,	/* client -> hv: cmd:u8 key[32] flags:u8 */
	SC_REC_OWNER_RESULT	= 0x0a,	/* hv -> client: cmd:u8 status:i32-as-u32 count:u8 keys[count][33] */
	SC_REC_REKEY		= 0x0b,	/* either: empty; sender's cipher rekeys after this record */
};

/*
 * CLOSE: sent = records the sender sealed before this CLOSE (its own
 * counter), recv = records it had opened from its peer when it sealed it.
 * The close handshake (PROTOCOL.md §5.6): the client ends a session with
 * CLOSE and waits for the hv's CLOSE, whose recv must count every client
 * record; the hv ends one with CLOSE and reads nothing more.  A session
 * that ends without the peer's CLOSE has lost its tail (exit 5).
 */
#define SC_CLOSE_FIXED_LEN	(1 + 8 + 8)	/* before text:str8 */
#define SC_CLOSE_TEXT_MAX	40		/* keeps every CLOSE in the smallest bucket */

enum sc_close_reason {
	SC_CLOSE_NORMAL		= 0,
	SC_CLOSE_TAKEN_OVER	= 1,	/* another session of an authorised user took over */
	SC_CLOSE_PROTOCOL	= 2,	/* protocol violation */
	SC_CLOSE_SHUTDOWN	= 3,	/* hypervisor or domain shutting down */
	SC_CLOSE_ACL		= 4,	/* the user's key was removed from the ACL */
};

enum sc_notice_code {
	SC_NOTICE_LOST_OUTPUT	= 1,	/* value = bytes of output lost while detached */
	SC_NOTICE_TAKEN_OVER	= 2,
	SC_NOTICE_ACL_CHANGED	= 3,
	SC_NOTICE_HISTORY_END	= 4,	/* value = bytes replayed */
	SC_NOTICE_SYSRQ		= 5,	/* value = key sent */
};

enum sc_owner_cmd {
	SC_OWNER_ACL_ADD	= 1,
	SC_OWNER_ACL_DEL	= 2,
	SC_OWNER_ACL_LIST	= 3,
};
#define SC_ACL_F_OWNER		0x01

/* Rekey policy: a sender rekeys after this many records in one direction. */
#define SC_REKEY_AFTER_RECORDS	(1ULL << 32)

/* Linux hvc: Ctrl-O then a key is a SysRq request on the hvc console. */
#define SC_HVC_SYSRQ_CHAR	0x0f

#endif /* SC_CORE_WIRE_H */
