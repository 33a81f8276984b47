/*
 * pubkey.h — public keys as one line of text: "PREFIX BASE64 comment".
 */
#ifndef SC_PUBKEY_H
#define SC_PUBKEY_H

#include <stdint.h>

#define SC_PUBKEY_PREFIX	"sccrypt-x25519"	/* a user's console key */
#define SC_KSKEY_PREFIX		"sccrypt-ed25519"	/* a key server's signing key */

/* "sccrypt-x25519 BASE64 comment" <-> 32-byte key.  prefix selects the kind. */
int	sc_pubkey_format(const char *prefix, const uint8_t pk[32], const char *comment,
	    char *out, size_t outsz) __attribute__((warn_unused_result));
int	sc_pubkey_parse(const char *prefix, const char *line, uint8_t pk[32])
	    __attribute__((warn_unused_result));
int	sc_pubkey_read_file(const char *prefix, const char *path, uint8_t pk[32])
	    __attribute__((warn_unused_result));
int	sc_pubkey_write_file(const char *prefix, const char *path, const uint8_t pk[32],
	    const char *comment) __attribute__((warn_unused_result));

#endif /* SC_PUBKEY_H */
