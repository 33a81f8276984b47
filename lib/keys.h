/*
 * keys.h — key files, the user's keystore, public key text form, fingerprints.
 *
 * Keystore: $SCCRYPT_HOME, else $XDG_CONFIG_HOME/sccrypt, else
 * ~/.config/sccrypt (mode 0700).  Files:
 *   id_x25519        user console key (secret, passphrase-encrypted)
 *   id_x25519.pub    "sccrypt-x25519 <base64 public key> <comment>\n"
 *   vms/NAME         VM secret file (secret, passphrase-encrypted)
 *   known_hvs        pinned hv keys, one "<host> <vm|*> <fingerprint>" per line
 *   keyserver.pub    pinned key server Ed25519 key (public key text form)
 *
 * Secret key files are self-describing (magic, version, KDF, cipher, KDF
 * parameters, salt, nonce) and encrypted with Argon2id + XChaCha20-Poly1305
 * (header authenticated as AD), or stored with kdf "none" when the user gives
 * an empty passphrase.  They must be mode 0600 (or stricter) and owned by the
 * user: looser files are refused, like ssh does.  PROTOCOL.md §files.
 */
#ifndef SC_KEYS_H
#define SC_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "core/wire.h"	/* SC_DISK_KEY_MAX, SC_UUID_LEN */

#define SC_PUBKEY_PREFIX	"sccrypt-x25519"
#define SC_KSKEY_PREFIX		"sccrypt-ed25519"
#define SC_FINGERPRINT_LEN	64	/* buffer size for sc_fingerprint() */

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
 * minimum (SC_KEYFILE_OPSLIMIT_MIN, SC_KEYFILE_MEMLIMIT_MIN_KIB).  If the file is encrypted and passphrase is NULL, returns
 * SC_ERR_PASSPHRASE without trying.
 */
int	sc_keyfile_read(const char *path, int kind, const char *passphrase,
	    uint8_t **secret, size_t *len) __attribute__((warn_unused_result));
/* 1 if the file needs a passphrase, 0 if not, negative on error. */
int	sc_keyfile_encrypted(const char *path);

/* Keystore directory into out (created 0700 if create). */
int	sc_keystore_dir(char *out, size_t outsz, int create)
	    __attribute__((warn_unused_result));

/* "sccrypt-x25519 BASE64 comment" <-> 32-byte key.  prefix selects the kind. */
int	sc_pubkey_format(const char *prefix, const uint8_t pk[32], const char *comment,
	    char *out, size_t outsz) __attribute__((warn_unused_result));
int	sc_pubkey_parse(const char *prefix, const char *line, uint8_t pk[32])
	    __attribute__((warn_unused_result));
int	sc_pubkey_read_file(const char *prefix, const char *path, uint8_t pk[32])
	    __attribute__((warn_unused_result));
int	sc_pubkey_write_file(const char *prefix, const char *path, const uint8_t pk[32],
	    const char *comment) __attribute__((warn_unused_result));

/* "SC256:" + unpadded base64 of BLAKE2b-256(key): like ssh's SHA256:... */
void	sc_fingerprint(const uint8_t *key, size_t len, char out[SC_FINGERPRINT_LEN]);

/* Hex and base64 helpers (libsodium). */
int	sc_hex_decode(const char *hex, uint8_t *out, size_t outlen)
	    __attribute__((warn_unused_result));
void	sc_hex_encode(const uint8_t *in, size_t len, char *out, size_t outsz);
/* Parse/format a UUID "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx". */
int	sc_uuid_parse(const char *s, uint8_t uuid[16]) __attribute__((warn_unused_result));
void	sc_uuid_format(const uint8_t uuid[16], char out[37]);

/* ---- Additions (user-space layer): see PROTOCOL.md §11. ---- */

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
/* Test builds of keys.c only (never in libsccrypt): write and accept this
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

/*
 * VM file (kind SC_KEY_KIND_VM) payload:
 *   uuid[16]  vm_secret[32]  disk_key:str8 (0..SC_DISK_KEY_MAX; 0 = a
 *   user's VM file without the disk key: it opens sessions, cannot bind)
 *   name:str8 (1..255, printable ASCII).  Keep struct sc_vmfile in
 *   sc_secure_alloc memory.  The disk key limit is the protocol's
 *   (core/wire.h): a VM file holds only keys a registration blob can carry.
 */
#define SC_VM_SECRET_LEN	32
#define SC_VMFILE_DISK_KEY_MAX	SC_DISK_KEY_MAX
#define SC_VM_NAME_MAX		255
struct sc_vmfile {
	uint8_t		uuid[16];
	uint8_t		secret[SC_VM_SECRET_LEN];
	uint8_t		disk_key[SC_VMFILE_DISK_KEY_MAX];
	size_t		disk_key_len;
	char		name[SC_VM_NAME_MAX + 1];
};
int	sc_vmfile_encode(const struct sc_vmfile *vm, uint8_t *out, size_t outsz,
	    size_t *outlen) __attribute__((warn_unused_result));
int	sc_vmfile_decode(const uint8_t *in, size_t len, struct sc_vmfile *vm)
	    __attribute__((warn_unused_result));
int	sc_vmfile_write(const char *path, const struct sc_vmfile *vm,
	    const char *passphrase, const char *comment)
	    __attribute__((warn_unused_result));
/* *vm is sc_secure_alloc'd; free with sc_secure_free. */
int	sc_vmfile_read(const char *path, const char *passphrase, struct sc_vmfile **vm)
	    __attribute__((warn_unused_result));

/*
 * known_hvs: pinned hv keys (trust on first use), one entry per line
 *   "<host> <vm|*> <fingerprint>"   ('#' comments and blank lines allowed).
 * check: 0 if an entry for host (ASCII case-insensitive) and vm (or "*")
 * carries hvkey's fingerprint; SC_ERR_MISMATCH if entries exist for them
 * but none matches; SC_ERR_NOTFOUND if none exists (or no file);
 * SC_ERR_FORMAT on a malformed line (fail closed).
 * add: replace the entries for exactly (host, vm) by one with hvkey
 * (atomic rewrite, mode 0600); vm may be "*".
 */
int	sc_known_hvs_check(const char *path, const char *host, const char *vm,
	    const uint8_t hvkey[32]) __attribute__((warn_unused_result));
int	sc_known_hvs_add(const char *path, const char *host, const char *vm,
	    const uint8_t hvkey[32]) __attribute__((warn_unused_result));

/* Base64 (standard alphabet, padded) of in; SC_ERR_NOSPACE if out is small. */
int	sc_base64_encode(const uint8_t *in, size_t len, char *out, size_t outsz)
	    __attribute__((warn_unused_result));
/* Decode exactly outlen bytes from a padded base64 string (no whitespace). */
int	sc_base64_decode(const char *b64, uint8_t *out, size_t outlen)
	    __attribute__((warn_unused_result));

#endif /* SC_KEYS_H */
