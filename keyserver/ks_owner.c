/*
 * ks_owner.c — the owner CA and its ownership tokens (ks_owner.h).
 */
#include "config.h"

#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "core/err.h"
#include "core/crypto.h"
#include "keyfile.h"
#include "secmem.h"
#include "ks_owner.h"

int
ks_owner_ca_load(const char *path, uint8_t **skp, uint8_t pk[SC_OWNER_CA_LEN],
    int *created)
{
	uint8_t *sk = NULL;
	struct stat st;
	size_t len = 0;
	int r;

	*skp = NULL;
	*created = 0;
	if (lstat(path, &st) == 0 && (!S_ISREG(st.st_mode) ||
	    st.st_uid != geteuid() || (st.st_mode & 077) != 0))
		return SC_ERR_PERM;
	r = sc_keyfile_read(path, SC_KEY_KIND_SIGNING, NULL, &sk, &len);
	if (r == SC_ERR_NOTFOUND) {
		if ((sk = sc_secure_alloc(crypto_sign_SECRETKEYBYTES)) == NULL)
			return SC_ERR_ALLOC;
		crypto_sign_keypair(pk, sk);
		if ((r = sc_keyfile_write(path, SC_KEY_KIND_SIGNING, sk,
		    crypto_sign_SECRETKEYBYTES, NULL, "sccrypt-keyserver owner CA")) < 0) {
			sc_secure_free(sk);
			return r;
		}
		*created = 1;
	} else if (r < 0) {
		return r;
	} else if (len != crypto_sign_SECRETKEYBYTES) {
		sc_secure_free(sk);
		return SC_ERR_FORMAT;
	} else
		crypto_sign_ed25519_sk_to_pk(pk, sk);
	(void)sc_secure_readonly(sk);
	*skp = sk;
	return 0;
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
