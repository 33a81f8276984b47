/*
 * ks_store.h — the key server's storage interface.
 *
 * A struct of function pointers so another engine (e.g. a shared SQL
 * server when one key server is not enough) can replace the embedded
 * SQLite one without touching the HTTP or attestation code.  Every
 * operation is atomic and safe to call from several threads at once.
 * Functions return 0 or a negative SC_ERR_* code.
 */
#ifndef SC_KS_STORE_H
#define SC_KS_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "ks.h"
#include "ks_req.h"

struct ks_host {
	char		name[KS_HOST_MAX + 1];
	uint8_t		ak_spki[KS_SPKI_MAX];	/* DER SubjectPublicKeyInfo */
	size_t		ak_spki_len;
	char		ak_desc[16];		/* "ecc-p256", "rsa-2048" */
	int		ak_restricted;		/* TPM attributes were checked */
	struct ks_policy policy;
	uint64_t	enrolled;
	int		revoked;
	uint64_t	revoked_at;
};

/* One attestation outcome, kept for audit (newest first in listings). */
struct ks_attest_log {
	char		host[KS_HOST_MAX + 1];
	uint64_t	time;
	int		result;			/* enum ks_result */
	uint32_t	reset_count;
	uint32_t	restart_count;
};

struct ks_store {
	void	*impl;

	/* SC_ERR_BUSY if the name exists. */
	int	(*host_add)(struct ks_store *, const struct ks_host *);
	/* SC_ERR_NOTFOUND if unknown. */
	int	(*host_get)(struct ks_store *, const char *name, struct ks_host *);
	/* Removes the host and its certificate.  SC_ERR_NOTFOUND if unknown. */
	int	(*host_delete)(struct ks_store *, const char *name);
	/* Marks revoked (and drops its certificate).  SC_ERR_NOTFOUND if unknown. */
	int	(*host_revoke)(struct ks_store *, const char *name, uint64_t now);
	/* Calls cb for each host in name order; a negative cb result stops. */
	int	(*host_list)(struct ks_store *,
		    int (*cb)(void *arg, const struct ks_host *), void *arg);

	/*
	 * Remember a fresh nonce issued to peer (an address, KS_PEER_MAX)
	 * until expires; first purges expired ones.  SC_ERR_LIMIT if peer
	 * already holds max_peer unexpired nonces (0: no per-peer limit).
	 * When max_live are outstanding, the oldest nonce of the peer holding
	 * the most is dropped if that peer holds more than peer's count + 1;
	 * otherwise SC_ERR_ALLOC.  So one address (or a few) cannot crowd out
	 * one that holds fewer nonces.
	 */
	int	(*nonce_put)(struct ks_store *, const uint8_t nonce[KS_NONCE_LEN],
		    const char *peer, uint64_t expires, uint64_t now,
		    unsigned int max_live, unsigned int max_peer);
	/*
	 * Consume a nonce: it is deleted whatever the outcome, so it can be
	 * used once.  SC_ERR_NOTFOUND (never issued or already used),
	 * SC_ERR_EXPIRED.
	 */
	int	(*nonce_take)(struct ks_store *, const uint8_t *nonce, size_t len,
		    uint64_t now);

	/* Store the host's current certificate (replacing any older one). */
	int	(*cert_put)(struct ks_store *, const char *host, const uint8_t *cert,
		    size_t len, uint64_t issued, uint64_t expires);
	/* SC_ERR_NOTFOUND if none, SC_ERR_NOSPACE if outsz is too small. */
	int	(*cert_get)(struct ks_store *, const char *host, uint8_t *out,
		    size_t outsz, size_t *len, uint64_t *expires);

	/*
	 * Append an audit record (failures included), then drop the host's
	 * oldest records beyond keep.
	 */
	int	(*log_attest)(struct ks_store *, const struct ks_attest_log *,
		    unsigned int keep);
	/* Number of audit records of host (NULL: all hosts). */
	int	(*log_count)(struct ks_store *, const char *host, uint64_t *n);

	void	(*close)(struct ks_store *);
};

/* The SQLite engine: path is created (0600) if missing; WAL mode. */
int	ks_store_sqlite_open(const char *path, struct ks_store **out)
	    __attribute__((warn_unused_result));
/* Schema version the code expects; the migrations in ks_store_sqlite.c. */
int	ks_store_sqlite_schema_version(void);

#endif /* SC_KS_STORE_H */
