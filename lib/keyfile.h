/*
 * keyfile.h — secret key files (PROTOCOL.md §11).
 *
 * Self-describing (magic, version, KDF, cipher, KDF parameters, salt,
 * nonce) and encrypted with Argon2id + XChaCha20-Poly1305 (header
 * authenticated as AD), or stored with kdf "none" when the user gives an
 * empty passphrase.  They must be mode 0600 (or stricter) and owned by the
 * user: looser files are refused, like ssh does.
 */
#ifndef SC_KEYFILE_H
#define SC_KEYFILE_H

#include <stddef.h>
#include <stdint.h>

enum sc_key_kind {
	SC_KEY_KIND_USER	= 1,	/* X25519 private key, 32 bytes */
	SC_KEY_KIND_VM		= 2,	/* VM file: uuid[16] secret[32] disk_key:str8 (see keys.c) */
	SC_KEY_KIND_SIGNING	= 3,	/* Ed25519 secret key, 64 bytes (key server) */
};

/*
 * Write a secret file atomically (temp file + rename), mode 0600.
 * passphrase NULL or "" stores it unencrypted (kdf none).
 */
int	sc_keyfile_write(const char *path, int kind, const uint8_t *secret,
	    size_t len, const char *passphrase, const char *comment)
	    __attribute__((warn_unused_result));
/*
 * Read a secret file into *secret (sc_secure_alloc'd; caller frees with
 * sc_secure_free).  SC_ERR_PASSPHRASE on a wrong passphrase, SC_ERR_FORMAT on
 * a corrupt file, SC_ERR_PERM when the mode is too open, SC_ERR_TYPE when the
 * kind differs, SC_ERR_UNSUPPORTED when its Argon2id cost is below the
 * minimum (SC_KEYFILE_OPSLIMIT_MIN, SC_KEYFILE_MEMLIMIT_MIN_KIB).  If the
 * file is encrypted and passphrase is NULL, returns
 * SC_ERR_PASSPHRASE without trying.
 */
int	sc_keyfile_read(const char *path, int kind, const char *passphrase,
	    uint8_t **secret, size_t *len) __attribute__((warn_unused_result));
/* 1 if the file needs a passphrase, 0 if not, negative on error. */
int	sc_keyfile_encrypted(const char *path);

/* Key-file blob: identifiers and limits (PROTOCOL.md §files). */
#define SC_KEYFILE_MAGIC	"SCKF"
#define SC_KEYFILE_VERSION	1
#define SC_KEYFILE_KDF_NONE	0
#define SC_KEYFILE_KDF_ARGON2ID	1	/* crypto_pwhash_ALG_ARGON2ID13 */
#define SC_KEYFILE_AEAD_NONE	0	/* plain, with a BLAKE2b-128 checksum */
#define SC_KEYFILE_AEAD_XCHACHA	1	/* XChaCha20-Poly1305-IETF */
/*
 * Argon2id cost: files are always written with libsodium's INTERACTIVE
 * limits, and an encrypted file asking for less than these is refused with
 * SC_ERR_UNSUPPORTED before any passphrase is asked for or tried (it is too
 * cheap to brute-force; PROTOCOL.md §11.2).
 */
#define SC_KEYFILE_OPSLIMIT_MIN		2U	/* = OPSLIMIT_INTERACTIVE */
#define SC_KEYFILE_MEMLIMIT_MIN_KIB	65536U	/* = MEMLIMIT_INTERACTIVE */
#ifdef SC_KEYS_TEST_KDF
/* Test builds of keyfile.c only (never in libsccrypt): write and accept this
 * cost instead, so that exhaustive tests stay fast. */
void	sc_keyfile_test_kdf(uint32_t opslimit, uint32_t memlimit_kib);
#endif
#define SC_KEYFILE_SECRET_MAX	4096	/* largest secret payload */
#define SC_KEYFILE_MAX		16384	/* largest armored key file */
#define SC_KEYFILE_COMMENT_MAX	255

/* Parsed key-file header (nothing secret). */
struct sc_keyfile_info {
	int		kind;
	int		kdf;
	int		aead;
	uint32_t	opslimit;
	uint32_t	memlimit_kib;
	char		comment[SC_KEYFILE_COMMENT_MAX + 1];
};

/*
 * The in-memory forms of sc_keyfile_write/read (for fuzzing and tests).
 * serialize: *out is the armored text, sc_secure_alloc'd (free with
 * sc_secure_free), *outlen excludes the trailing NUL it carries.
 * parse: data is the armored text; same errors as sc_keyfile_read except
 * SC_ERR_PERM.  info: header only, no passphrase needed, no KDF run.
 */
int	sc_keyfile_serialize(int kind, const uint8_t *secret, size_t len,
	    const char *passphrase, const char *comment, uint8_t **out,
	    size_t *outlen) __attribute__((warn_unused_result));
int	sc_keyfile_parse(const uint8_t *data, size_t len, int kind,
	    const char *passphrase, uint8_t **secret, size_t *slen)
	    __attribute__((warn_unused_result));
int	sc_keyfile_info(const uint8_t *data, size_t len, struct sc_keyfile_info *info)
	    __attribute__((warn_unused_result));
/* Header of a key file on disk (same ownership/mode checks as sc_keyfile_read). */
int	sc_keyfile_read_info(const char *path, struct sc_keyfile_info *info)
	    __attribute__((warn_unused_result));

#endif /* SC_KEYFILE_H */
