/*
 * keystore.h — the user's keystore directory.
 *
 * $SCCRYPT_HOME, else $XDG_CONFIG_HOME/sccrypt, else ~/.config/sccrypt
 * (mode 0700).  Files:
 *   id_x25519        user console key (secret, passphrase-encrypted: keyfile.h)
 *   id_x25519.pub    "sccrypt-x25519 <base64 public key> <comment>\n" (pubkey.h)
 *   vms/NAME         VM secret file (secret, passphrase-encrypted: vmfile.h)
 *   known_hvs        pinned hv keys (known_hvs.h)
 *   keyserver.pub    pinned key server Ed25519 key (pubkey.h)
 */
#ifndef SC_KEYSTORE_H
#define SC_KEYSTORE_H

#include <stddef.h>

/* Keystore directory into out (created 0700 if create). */
int	sc_keystore_dir(char *out, size_t outsz, int create)
	    __attribute__((warn_unused_result));

#endif /* SC_KEYSTORE_H */
