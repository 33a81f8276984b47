/*
 * err.h — error codes shared by every layer of SCCrypt.
 *
 * Library functions return 0 (or a non-negative count) on success and one of
 * these negative codes on failure.  They never exit and never print; only a
 * program's main turns a code into a message, with sc_err().
 */
#ifndef SC_CORE_ERR_H
#define SC_CORE_ERR_H

enum sc_error {
	SC_OK			= 0,
	SC_ERR_INTERNAL		= -1,	/* invariant violated (a bug) */
	SC_ERR_ALLOC		= -2,	/* out of memory or table full */
	SC_ERR_INVAL		= -3,	/* invalid argument from the caller */
	SC_ERR_NOSPACE		= -4,	/* destination buffer too small */
	SC_ERR_TRUNCATED	= -5,	/* input ended inside an item */
	SC_ERR_TOOLONG		= -6,	/* a length exceeds a protocol limit */
	SC_ERR_MAGIC		= -7,	/* bad magic number */
	SC_ERR_VERSION		= -8,	/* unsupported version */
	SC_ERR_TYPE		= -9,	/* unknown or unexpected type */
	SC_ERR_FORMAT		= -10,	/* malformed input */
	SC_ERR_DECRYPT		= -11,	/* authentication failed: tampered, replayed, reordered or wrong key */
	SC_ERR_BADKEY		= -12,	/* invalid or low-order public key */
	SC_ERR_NONCE		= -13,	/* nonce space exhausted */
	SC_ERR_STATE		= -14,	/* operation not valid in this state */
	SC_ERR_EXPIRED		= -15,	/* certificate, nonce or binding expired (superseded) */
	SC_ERR_SIGNATURE	= -16,	/* signature does not verify */
	SC_ERR_UNTRUSTED	= -17,	/* key or certificate not trusted */
	SC_ERR_PASSPHRASE	= -18,	/* wrong passphrase */
	SC_ERR_NOTFOUND		= -19,	/* no such domain, key, file or entry */
	SC_ERR_PERM		= -20,	/* permission denied / not in ACL */
	SC_ERR_SYSTEM		= -21,	/* system call failed; see errno */
	SC_ERR_AGAIN		= -22,	/* try again later (ring full, no data) */
	SC_ERR_BUSY		= -23,	/* resource busy */
	SC_ERR_DISKKEY		= -24,	/* disk key does not open the domain's disk */
	SC_ERR_CORRUPT		= -25,	/* shared ring indices are corrupt */
	SC_ERR_CLOSED		= -26,	/* peer closed the session */
	SC_ERR_LIMIT		= -27,	/* rate or resource limit reached */
	SC_ERR_MISMATCH		= -28,	/* value differs from what was expected (UUID, host, key) */
	SC_ERR_PROTECTED	= -29,	/* operation refused on a protected domain */
	SC_ERR_UNSUPPORTED	= -30,	/* feature not supported */
	SC_ERR_EOF		= -31,	/* end of file / stream */
	SC_ERR_TIMEOUT		= -32,	/* timed out */
	SC_ERR_CANCELLED	= -33,	/* cancelled by the user */
	SC_ERR_DISKFULL		= -34,	/* no space left on the device (ENOSPC, EDQUOT) */
};
#define SC_ERR_MIN	(-34)

/* Human-readable, constant, never NULL. */
const char *sc_err(int code);

#endif /* SC_CORE_ERR_H */
