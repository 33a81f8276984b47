/*
 * encode.h — hex, base64, UUIDs and key fingerprints (libsodium's codecs),
 * and the checks on comments and tokens that the text file formats share.
 */
#ifndef SC_ENCODE_H
#define SC_ENCODE_H

#include <stddef.h>
#include <stdint.h>

#define SC_FINGERPRINT_PREFIX	"SC256:"
#define SC_FINGERPRINT_B64_LEN	43	/* unpadded base64 of 32 bytes */
#define SC_FINGERPRINT_LEN	64	/* buffer size for sc_fingerprint() */

/* "SC256:" + unpadded base64 of BLAKE2b-256(key): like ssh's SHA256:... */
void	sc_fingerprint(const uint8_t *key, size_t len, char out[SC_FINGERPRINT_LEN]);

/* Exactly outlen bytes from 2 * outlen hex digits; SC_ERR_FORMAT otherwise. */
int	sc_hex_decode(const char *hex, uint8_t *out, size_t outlen)
	    __attribute__((warn_unused_result));
/* Lowercase hex; output cut at a whole byte if out is short; NUL-terminated. */
void	sc_hex_encode(const uint8_t *in, size_t len, char *out, size_t outsz);
/* Base64 (standard alphabet, padded) of in; SC_ERR_NOSPACE if out is small. */
int	sc_base64_encode(const uint8_t *in, size_t len, char *out, size_t outsz)
	    __attribute__((warn_unused_result));
/* Decode exactly outlen bytes from a padded base64 string (no whitespace). */
int	sc_base64_decode(const char *b64, uint8_t *out, size_t outlen)
	    __attribute__((warn_unused_result));
/* Newly malloc'd base64 / lowercase hex of in (free()); NULL when out of memory. */
char	*sc_base64_strdup(const uint8_t *in, size_t len)
	    __attribute__((warn_unused_result));
char	*sc_hex_strdup(const uint8_t *in, size_t len)
	    __attribute__((warn_unused_result));

/* Parse/format a UUID "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx". */
int	sc_uuid_parse(const char *s, uint8_t uuid[16]) __attribute__((warn_unused_result));
void	sc_uuid_format(const uint8_t uuid[16], char out[37]);
/* The UUID that ends s[0..len), e.g. xenstore's "/vm/<uuid>". */
int	sc_uuid_parse_tail(const char *s, size_t len, uint8_t uuid[16])
	    __attribute__((warn_unused_result));

/* 1 if s[0..len) is at most max bytes with no ASCII control character. */
int	sc_comment_ok(const char *s, size_t len, size_t max);
/* 1 if s[0..len) is 1..max bytes of printable, non-space ASCII. */
int	sc_token_ok(const char *s, size_t len, size_t max);

#endif /* SC_ENCODE_H */
