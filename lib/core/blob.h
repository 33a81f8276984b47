/*
 * blob.h — the sealed registration blob (DESIGN §4, "binding a VM").
 *
 * The owner seals {domain UUID, VM secret, disk key, ACL, options} to the
 * certified hv public key; only the hv can open it.  Construction (all via
 * the crypto provider):
 *
 *   sealed = "SCB1" || version:u8 || epk[32] || AEAD(k, nonce = 0, ad, plaintext)
 *   dh     = X25519(esk, hv_pk)            (low-order hv_pk rejected)
 *   k      = BLAKE2b-256(key = dh, "SCCrypt blob v1" || epk || hv_pk)
 *   ad     = "SCB1" || version || epk || hv_pk
 *
 * Plaintext (version 2):
 *   uuid[16] generation:u64 vm_secret[32] disk_key:str8 options:u32
 *   history_size:u32 acl_count:u8 { pubkey[32] flags:u8 }[acl_count]
 * Limits: generation >= 1, disk key 1..SC_DISK_KEY_MAX, acl_count
 * 1..SC_ACL_MAX, at least one owner entry (SC_ACL_F_OWNER).
 *
 * The generation orders the bindings of one domain: the hv accepts a blob
 * only if its generation is above the domain's current one (PROTOCOL.md
 * §8.2, PROTECT), so no blob, once superseded, binds again.
 */
#ifndef SC_CORE_BLOB_H
#define SC_CORE_BLOB_H

#include "core/compat.h"
#include "core/buf.h"
#include "core/crypto.h"
#include "core/wire.h"

#define SC_BLOB_MAGIC		"SCB1"
#define SC_BLOB_VERSION		2
#define SC_BLOB_HDR_LEN		(4 + 1 + 32)
#define SC_BLOB_PT_MAX		(16 + 8 + 32 + 1 + SC_DISK_KEY_MAX + 4 + 4 + 1 + SC_ACL_MAX * 33)
#define SC_BLOB_MAX		(SC_BLOB_HDR_LEN + SC_BLOB_PT_MAX + SC_TAG_LEN)
#define SC_BLOB_ID_LEN		32	/* BLAKE2b-256 of the sealed blob */

/* Registration options */
#define SC_REG_OPT_HISTORY	0x01	/* keep a history buffer while detached */

struct sc_acl_entry {
	uint8_t		pubkey[SC_KEY_LEN];
	uint8_t		flags;		/* SC_ACL_F_OWNER */
};

/* Contains secrets: callers keep it in secure memory and wipe it. */
struct sc_registration {
	uint8_t		uuid[SC_UUID_LEN];
	uint64_t	generation;	/* >= 1; the owner's clock in us (PROTOCOL.md §6) */
	uint8_t		vm_secret[SC_PSK_LEN];
	uint8_t		disk_key[SC_DISK_KEY_MAX];
	size_t		disk_key_len;
	uint32_t	options;
	uint32_t	history_size;
	unsigned	acl_count;
	struct sc_acl_entry acl[SC_ACL_MAX];
	/* Output of sc_blob_seal/sc_blob_open: BLAKE2b-256(sealed blob). */
	uint8_t		blob_id[SC_BLOB_ID_LEN];
};

/*
 * An ACL a blob can carry: 1..SC_ACL_MAX entries (SC_ERR_FORMAT /
 * SC_ERR_TOOLONG), only known flags and no key twice (SC_ERR_FORMAT), at
 * least one owner (SC_ERR_PERM).  Sealing and opening check it; so does
 * whatever signs an ACL for a blob (the key server's owner tokens).
 */
int	sc_acl_check(const struct sc_crypto *cp, const struct sc_acl_entry *acl,
	    unsigned n) SC_WUR;

/* Seals reg (all fields but blob_id) and sets reg->blob_id. */
int	sc_blob_seal(const struct sc_crypto *cp, struct sc_registration *reg,
	    const uint8_t hv_pk[SC_KEY_LEN], struct sc_buf *out) SC_WUR;
/* Opens and validates, setting every field of *reg; on failure *reg is wiped. */
int	sc_blob_open(const struct sc_crypto *cp, const uint8_t hv_sk[SC_KEY_LEN],
	    const uint8_t hv_pk[SC_KEY_LEN], const uint8_t *blob, size_t len,
	    struct sc_registration *reg) SC_WUR;

/*
 * The hv's answer to PROTECT, which the owner can check although dom0
 * relays it: confirm = BLAKE2b-256(key = vm_secret, "SCCrypt bound v2" ||
 * uuid || hv_pk || blob_id[32] || status:u32).  blob_id ties it to one
 * blob: two blobs with the same VM secret get different confirms, so dom0
 * cannot answer a new PROTECT with an old PROTECT's confirm.
 */
int	sc_blob_confirm(const struct sc_crypto *cp, const struct sc_registration *reg,
	    const uint8_t hv_pk[SC_KEY_LEN], int32_t status, uint8_t out[32]) SC_WUR;

#endif /* SC_CORE_BLOB_H */
