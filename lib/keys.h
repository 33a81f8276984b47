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
 * kind differs.  If the file is encrypted and passphrase is NULL, returns
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

#endif /* SC_KEYS_H */
