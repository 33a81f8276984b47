/*
 * ks_store.h — the key server's storage interface.
 *
 * A struct of function pointers with two engines: embedded SQLite (one
 * key server) and PostgreSQL (several key servers on one database, which
 * then behave as one).  Every operation is atomic, safe to call from
 * several threads at once and, on PostgreSQL, from several processes on
 * several machines: the guarantees below come from transactions and
 * constraints in the database, never from a lock in this process.
 * Functions return 0 or a negative SC_ERR_* code; SC_ERR_AGAIN means the
 * database cannot be reached (nothing was changed, or the transaction
 * was rolled back): the next call tries again.
 */
#ifndef SC_KS_STORE_H
#define SC_KS_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "ks/ks.h"
#include "ks_cred.h"
#include "ks/ks_req.h"

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
	/*
	 * EK-anchored enrollment (schema 4): ak_ek says an EK certificate
	 * was checked; until the TPM answers the credential challenge
	 * ak_activated is 0 and no quote is accepted.  act_digest (SHA-256
	 * of the secret; written by host_add, never read back), act_expires
	 * and the credential are the pending challenge, gone once answered.
	 * Hosts enrolled before schema 4 or with insecure_ak are activated.
	 */
	int		ak_ek;
	int		ak_activated;
	uint8_t		act_digest[KS_DIGEST_LEN];
	uint64_t	act_expires;		/* 0: no challenge pending */
	uint8_t		cred_blob[KS_CRED_BLOB_MAX];	/* TPM2B_ID_OBJECT */
	size_t		cred_blob_len;
	uint8_t		cred_enc[KS_CRED_ENC_MAX];	/* TPM2B_ENCRYPTED_SECRET */
	size_t		cred_enc_len;
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
	/*
	 * Answer h's pending activation challenge with digest (SHA-256 of the
	 * secret the TPM recovered).  The challenge is consumed whatever the
	 * outcome, in one statement, so of racing answers (on any instance)
	 * at most one wins.  0: activated.  SC_ERR_NOTFOUND: no challenge
	 * pending (unknown or revoked host, already answered, none made),
	 * SC_ERR_EXPIRED, SC_ERR_MISMATCH (wrong secret).
	 */
	int	(*host_activate)(struct ks_store *, const char *name,
		    const uint8_t digest[KS_DIGEST_LEN], uint64_t now);
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

	/*
	 * Ownership-token challenges (schema 5): nonce_put's table, quotas
	 * and eviction, with the VM's UUID and the ephemeral X25519 secret
	 * the server answers with.  challenge_take consumes the row whatever
	 * the outcome (one DELETE ... RETURNING: of racing takers one gets
	 * it) and fills uuid and eph_sk; nonce_take never takes a challenge,
	 * challenge_take never an attestation nonce.  SC_ERR_NOTFOUND,
	 * SC_ERR_EXPIRED (eph_sk is then wiped).
	 */
	int	(*challenge_put)(struct ks_store *,
		    const uint8_t nonce[KS_NONCE_LEN],
		    const uint8_t uuid[KS_UUID_LEN],
		    const uint8_t eph_sk[KS_X25519_LEN], const char *peer,
		    uint64_t expires, uint64_t now, unsigned int max_live,
		    unsigned int max_peer);
	int	(*challenge_take)(struct ks_store *,
		    const uint8_t nonce[KS_NONCE_LEN], uint64_t now,
		    uint8_t uuid[KS_UUID_LEN], uint8_t eph_sk[KS_X25519_LEN]);

	/*
	 * Owner registrations (schema 5): VM uuid -> the owner's X25519 key.
	 * owner_put: 0 registered, 1 already registered to this key, 2
	 * moved to key (only with replace), SC_ERR_BUSY registered to another
	 * key and !replace (nothing changed).  owner_get: SC_ERR_NOTFOUND.
	 */
	int	(*owner_put)(struct ks_store *, const uint8_t uuid[KS_UUID_LEN],
		    const uint8_t key[KS_X25519_LEN], int replace, uint64_t now);
	int	(*owner_get)(struct ks_store *, const uint8_t uuid[KS_UUID_LEN],
		    uint8_t key[KS_X25519_LEN]);

	/*
	 * Store the certificate of h (replacing the current one: of two
	 * racing puts, the later committed stays) if h is still enrolled with the same
	 * AK and enrollment time, activated and not revoked; else SC_ERR_NOTFOUND and
	 * nothing is stored.  A revocation committed concurrently either
	 * waits for this put and then drops the certificate, or makes it fail.
	 */
	int	(*cert_put)(struct ks_store *, const struct ks_host *h,
		    const uint8_t *cert, size_t len, uint64_t issued,
		    uint64_t expires);
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

/*
 * The engine named by spec: a "postgresql://" or "postgres://" URI
 * (libpq syntax) selects PostgreSQL with up to conns connections (the
 * number of threads that may use it at once), anything else is an SQLite
 * path.
 */
int	ks_store_open(const char *spec, unsigned int conns,
	    struct ks_store **out)
	    __attribute__((warn_unused_result));
int	ks_store_is_pg(const char *spec);

/* The SQLite engine: path is created (0600) if missing; WAL mode. */
int	ks_store_sqlite_open(const char *path, struct ks_store **out)
	    __attribute__((warn_unused_result));
/* Schema version the code expects; the migrations in ks_store_sqlite.c. */
int	ks_store_sqlite_schema_version(void);

/*
 * The PostgreSQL engine: uri is a libpq connection URI; up to
 * KS_PG_POOL_MAX connections, made on demand and remade after a failure.
 * Open migrates the schema (one instance at a time: an advisory lock).
 * SC_ERR_INVAL if uri does not parse, SC_ERR_AGAIN if the database cannot
 * be reached at open, SC_ERR_VERSION if its schema is newer than ours.
 */
#define KS_PG_POOL_MAX		16
#define KS_PG_CONNECT_TIMEOUT	"5"	/* seconds, unless the URI says */
int	ks_store_pg_open(const char *uri, unsigned int pool,
	    struct ks_store **out) __attribute__((warn_unused_result));
int	ks_store_pg_schema_version(void);

#endif /* SC_KS_STORE_H */
