/*
 * ks_owner.h — the key server's owner CA: the Ed25519 key whose public half
 * the hypervisor takes from its measured configuration (Xen:
 * sccrypt-owner-ca=, hvsim: owner-ca) and whose ownership tokens
 * (core/owner.h) the hypervisor requires at PROTECT.
 *
 * A key of its own, not the certificate signing key: the VMM certificate
 * key lives in the privilege-separated signer, which signs only what it
 * can check itself; an ownership token asserts who owns a VM, which the
 * operator decides (sccrypt-keyserver(8), --issue-owner-token).
 */
#ifndef SC_KS_OWNER_H
#define SC_KS_OWNER_H

#include <stdint.h>

#include "core/blob.h"
#include "core/owner.h"

/*
 * Load the owner CA's secret key from path, or create it (0600) if the
 * file does not exist (*created = 1).  An existing key must be a regular
 * file owned by this user and not accessible to others (SC_ERR_PERM).
 * *sk is sc_secure_alloc'd (64 bytes): sc_secure_free it.
 */
int	ks_owner_ca_load(const char *path, uint8_t **sk, uint8_t pk[SC_OWNER_CA_LEN],
	    int *created) __attribute__((warn_unused_result));
/* The token for uuid and acl[0..n) under the CA's secret key sk. */
int	ks_owner_token(const uint8_t *sk, const uint8_t uuid[SC_UUID_LEN],
	    const struct sc_acl_entry *acl, unsigned n,
	    uint8_t token[SC_OWNER_TOKEN_LEN]) __attribute__((warn_unused_result));

#endif /* SC_KS_OWNER_H */
