/*
 * ks_owner.c — the owner CA and its ownership tokens (ks_owner.h).
 */
#include "config.h"

#include <sodium.h>

#include "core/err.h"
#include "core/crypto.h"
#include "ks_owner.h"
#include "ks_core.h"

int
ks_owner_ca_load(const char *path, uint8_t **skp, uint8_t pk[SC_OWNER_CA_LEN],
    int *created)
{
	return ks_key_load_or_create(path, "sccrypt-keyserver owner CA", skp,
	    pk, created);
}

int
ks_owner_token(const uint8_t *sk, const uint8_t uuid[SC_UUID_LEN],
    const struct sc_acl_entry *acl, unsigned n, uint8_t token[SC_OWNER_TOKEN_LEN])
{
	uint8_t msg[SC_OWNER_MSG_LEN];
	int r;

	if ((r = sc_owner_message(sc_crypto_sodium(), uuid, acl, n, msg)) != 0)
		return r;
	if (crypto_sign_ed25519_detached(token, NULL, msg, sizeof(msg), sk) != 0)
		return SC_ERR_INTERNAL;
	return 0;
}
