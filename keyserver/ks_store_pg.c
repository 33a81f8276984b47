/*
 * ks_store_pg.c — the PostgreSQL engine behind struct ks_store.
 *
 * Several key servers may share the database; what they must agree on is
 * decided by it, not by a lock here:
 *   - a nonce is taken by one DELETE ... RETURNING: of two instances
 *     redeeming it at once, one gets the row and the other none;
 *   - nonce issuance (quota per address, table bound) runs under a
 *     transaction-scoped advisory lock, so the counts it checks are the
 *     counts it commits against, whichever instance asked;
 *   - a certificate is stored by one INSERT ... SELECT that locks the host
 *     row (FOR SHARE) and checks it still holds the checked AK and is not
 *     revoked; certs.host is the primary key, so a host has one current
 *     certificate whatever races; a revocation (UPDATE hosts, DELETE
 *     certs, one transaction) waits for or invalidates a racing put;
 *   - nothing is cached: every request reads the database.
 * The schema is versioned in table schema_version exactly as the SQLite
 * engine's (same version numbers, one migration each); migrations run at
 * open in one transaction under an advisory lock.
 *
 * Connections: a pool of up to KS_PG_POOL_MAX, made on first use.  A
 * connection that failed is dropped and remade at its next use, so the
 * server recovers by itself when the database returns; meanwhile every
 * operation fails with SC_ERR_AGAIN and changes nothing (a transaction cut
 * by a lost connection is rolled back by the server).
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>
#include <sodium.h>

#include "core/err.h"
#include "ks_pg.h"
#include "ks_store.h"

#define LOCK_MIGRATE	"7340001"	/* advisory lock keys (bigint) */
#define LOCK_NONCES	"7340002"
#define RETRIES		3		/* serialization failure / deadlock */

/* Migration N (1-based) brings the schema from version N-1 to N. */
static const char *const migrations[] = {
	/* 1: hosts, their current certificate, outstanding nonces. */
	"CREATE TABLE hosts ("
	"  name TEXT PRIMARY KEY,"
	"  ak_spki BYTEA NOT NULL,"
	"  ak_desc TEXT NOT NULL,"
	"  ak_restricted BIGINT NOT NULL,"
	"  pcr_mask BIGINT NOT NULL,"
	"  pcr_values BYTEA NOT NULL,"
	"  key_pcr BIGINT NOT NULL,"
	"  enrolled BIGINT NOT NULL,"
	"  revoked BIGINT NOT NULL DEFAULT 0,"
	"  revoked_at BIGINT NOT NULL DEFAULT 0);"
	"CREATE TABLE certs ("
	"  host TEXT PRIMARY KEY REFERENCES hosts(name) ON DELETE CASCADE,"
	"  cert BYTEA NOT NULL,"
	"  issued BIGINT NOT NULL,"
	"  expires BIGINT NOT NULL);"
	"CREATE TABLE nonces ("
	"  nonce BYTEA PRIMARY KEY,"
	"  expires BIGINT NOT NULL);"
	"CREATE INDEX nonces_expires ON nonces(expires);",
	/* 2: audit trail of attestation outcomes. */
	"CREATE TABLE attest_log ("
	"  id BIGSERIAL PRIMARY KEY,"
	"  host TEXT NOT NULL,"
	"  time BIGINT NOT NULL,"
	"  result TEXT NOT NULL,"
	"  reset_count BIGINT NOT NULL,"
	"  restart_count BIGINT NOT NULL);"
	"CREATE INDEX attest_log_host ON attest_log(host, time);",
	/* 3: who asked for each nonce (per-address quota). */
	("ALTER TABLE nonces ADD COLUMN peer TEXT NOT NULL DEFAULT '';"
	 "CREATE INDEX nonces_peer ON nonces(peer, expires);"),
	/* 4: EK-anchored AKs; hosts enrolled before were trusted as they are. */
	("ALTER TABLE hosts ADD COLUMN ak_ek BIGINT NOT NULL DEFAULT 0;"
	 "ALTER TABLE hosts ADD COLUMN ak_activated BIGINT NOT NULL DEFAULT 1;"
	 "ALTER TABLE hosts ADD COLUMN act_digest BYTEA;"
	 "ALTER TABLE hosts ADD COLUMN act_expires BIGINT NOT NULL DEFAULT 0;"
	 "ALTER TABLE hosts ADD COLUMN cred_blob BYTEA;"
	 "ALTER TABLE hosts ADD COLUMN cred_enc BYTEA;"),
	/* 5: ownership-token challenges (a nonce with a UUID and an
	 * ephemeral secret) and owner registrations. */
	("ALTER TABLE nonces ADD COLUMN uuid BYTEA;"
	 "ALTER TABLE nonces ADD COLUMN eph_sk BYTEA;"
	 "CREATE TABLE owners ("
	 "  uuid BYTEA PRIMARY KEY,"
	 "  owner_key BYTEA NOT NULL,"
	 "  registered BIGINT NOT NULL);"),
};

#define HOST_COLS	"name, ak_spki, ak_desc, ak_restricted, pcr_mask," \
			" pcr_values, key_pcr, enrolled, revoked, revoked_at," \
			" ak_ek, ak_activated, act_expires, cred_blob, cred_enc"
#define HOST_NCOLS	15

static const char Q_HOST_ADD[] = "INSERT INTO hosts (name, ak_spki, ak_desc,"
    " ak_restricted, pcr_mask, pcr_values, key_pcr, enrolled, ak_ek,"
    " ak_activated, act_digest, act_expires, cred_blob, cred_enc)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)";
/* Consumes the challenge whatever the answer (SET sees the old row). */
static const char Q_HOST_ACTIVATE[] = "UPDATE hosts SET ak_activated ="
    " CASE WHEN act_digest = $2 AND act_expires > $3 THEN 1 ELSE 0 END,"
    " act_digest = NULL, cred_blob = NULL, cred_enc = NULL"
    " WHERE name = $1 AND ak_activated = 0 AND act_digest IS NOT NULL"
    " AND revoked = 0 RETURNING ak_activated,"
    " CASE WHEN act_expires > $3 THEN 1::bigint ELSE 0::bigint END";
static const char Q_HOST_GET[] = "SELECT " HOST_COLS " FROM hosts"
    " WHERE name = $1";
static const char Q_HOST_LIST[] = "SELECT " HOST_COLS " FROM hosts"
    " ORDER BY name";
static const char Q_HOST_DEL[] = "DELETE FROM hosts WHERE name = $1";
static const char Q_HOST_REVOKE[] = "UPDATE hosts SET revoked = 1,"
    " revoked_at = $2 WHERE name = $1";
static const char Q_CERT_DEL[] = "DELETE FROM certs WHERE host = $1";
static const char Q_NONCE_LOCK[] = "SELECT pg_advisory_xact_lock("
    LOCK_NONCES ")";
static const char Q_NONCE_PURGE[] = "DELETE FROM nonces WHERE expires <= $1";
static const char Q_NONCE_COUNT[] = "SELECT count(*),"
    " count(*) FILTER (WHERE peer = $1) FROM nonces";
static const char Q_NONCE_TOP_PEER[] = "SELECT peer, count(*) AS n"
    " FROM nonces GROUP BY peer ORDER BY n DESC LIMIT 1";
static const char Q_NONCE_EVICT[] = "DELETE FROM nonces WHERE nonce ="
    " (SELECT nonce FROM nonces WHERE peer = $1 ORDER BY expires LIMIT 1)";
static const char Q_NONCE_PUT[] = "INSERT INTO nonces (nonce, expires, peer,"
    " uuid, eph_sk) VALUES ($1, $2, $3, $4, $5)";
static const char Q_NONCE_TAKE[] = "DELETE FROM nonces WHERE nonce = $1"
    " AND eph_sk IS NULL RETURNING expires";
static const char Q_CHAL_TAKE[] = "DELETE FROM nonces WHERE nonce = $1"
    " AND eph_sk IS NOT NULL RETURNING expires, uuid, eph_sk";
static const char Q_OWNER_GET[] = "SELECT owner_key FROM owners"
    " WHERE uuid = $1";
/* Row locked for the decision of owner_put. */
static const char Q_OWNER_LOCK[] = "SELECT owner_key FROM owners"
    " WHERE uuid = $1 FOR UPDATE";
/* A concurrent first registration makes one of two fail (unique key). */
static const char Q_OWNER_INS[] = "INSERT INTO owners (uuid, owner_key,"
    " registered) VALUES ($1, $2, $3)";
static const char Q_OWNER_MOVE[] = "UPDATE owners SET owner_key = $2,"
    " registered = $3 WHERE uuid = $1";
static const char Q_CERT_PUT[] = "INSERT INTO certs (host, cert, issued,"
    " expires) SELECT name, $2, $3, $4 FROM hosts WHERE name = $1"
    " AND ak_spki = $5 AND enrolled = $6 AND revoked = 0 AND ak_activated = 1"
    " FOR SHARE"
    " ON CONFLICT (host) DO UPDATE SET cert = excluded.cert,"
    " issued = excluded.issued, expires = excluded.expires";
static const char Q_CERT_GET[] = "SELECT cert, expires FROM certs"
    " WHERE host = $1";
static const char Q_LOG[] = "INSERT INTO attest_log (host, time, result,"
    " reset_count, restart_count) VALUES ($1, $2, $3, $4, $5)";
static const char Q_LOG_TRIM[] = "DELETE FROM attest_log WHERE host = $1"
    " AND id <= (SELECT id FROM attest_log WHERE host = $1"
    " ORDER BY id DESC LIMIT 1 OFFSET $2)";
static const char Q_LOG_COUNT[] = "SELECT count(*) FROM attest_log"
    " WHERE host = $1";
static const char Q_LOG_COUNT_ALL[] = "SELECT count(*) FROM attest_log";

static int
host_row(const PGresult *res, int row, struct ks_host *h)
{
	const char *name = PQgetvalue(res, row, 0);
	const char *desc = PQgetvalue(res, row, 2);
	int spki_len = PQgetlength(res, row, 1);
	int vals_len = PQgetlength(res, row, 5);
	int64_t restricted, mask, key_pcr, enrolled, revoked, revoked_at;
	int64_t ek, activated, act_expires;
	int blob_len = PQgetlength(res, row, 13);
	int enc_len = PQgetlength(res, row, 14);

	memset(h, 0, sizeof(*h));
	if (PQnfields(res) != HOST_NCOLS ||
	    pg_col_i64(res, row, 10, &ek) < 0 ||
	    pg_col_i64(res, row, 11, &activated) < 0 ||
	    pg_col_i64(res, row, 12, &act_expires) < 0 ||
	    blob_len < 0 || (size_t)blob_len > sizeof(h->cred_blob) ||
	    enc_len < 0 || (size_t)enc_len > sizeof(h->cred_enc) ||
	    pg_col_i64(res, row, 3, &restricted) < 0 ||
	    pg_col_i64(res, row, 4, &mask) < 0 ||
	    pg_col_i64(res, row, 6, &key_pcr) < 0 ||
	    pg_col_i64(res, row, 7, &enrolled) < 0 ||
	    pg_col_i64(res, row, 8, &revoked) < 0 ||
	    pg_col_i64(res, row, 9, &revoked_at) < 0 ||
	    (size_t)PQgetlength(res, row, 0) != strlen(name) ||
	    strlen(name) > KS_HOST_MAX ||
	    spki_len <= 0 || (size_t)spki_len > sizeof(h->ak_spki) ||
	    vals_len != (int)sizeof(h->policy.pcrs) ||
	    key_pcr < 0 || key_pcr >= KS_PCR_COUNT)
		return SC_ERR_CORRUPT;
	memcpy(h->name, name, strlen(name) + 1);
	memcpy(h->ak_spki, PQgetvalue(res, row, 1), (size_t)spki_len);
	h->ak_spki_len = (size_t)spki_len;
	snprintf(h->ak_desc, sizeof(h->ak_desc), "%s", desc);
	h->ak_restricted = restricted != 0;
	h->policy.pcr_mask = (uint32_t)mask & ((1u << KS_PCR_COUNT) - 1);
	memcpy(h->policy.pcrs, PQgetvalue(res, row, 5), sizeof(h->policy.pcrs));
	h->policy.key_pcr = (unsigned int)key_pcr;
	h->enrolled = (uint64_t)enrolled;
	h->revoked = revoked != 0;
	h->revoked_at = (uint64_t)revoked_at;
	h->ak_ek = ek != 0;
	h->ak_activated = activated != 0;
	h->act_expires = (uint64_t)act_expires;
	memcpy(h->cred_blob, PQgetvalue(res, row, 13), (size_t)blob_len);
	h->cred_blob_len = (size_t)blob_len;
	memcpy(h->cred_enc, PQgetvalue(res, row, 14), (size_t)enc_len);
	h->cred_enc_len = (size_t)enc_len;
	return 0;
}

/* ---- operations ---- */

struct pg {
	struct ks_store	 store;
	struct pg_pool	 pool;
};

#define PG_BEGIN(st)	struct pg *p = (st)->impl; \
			struct pgconn *pc; \
			int r = 0; \
			if ((pc = pg_pool_get(&p->pool, &r)) == NULL) \
				return r
#define PG_END()	pg_pool_put(&p->pool, pc)

static int
pg_host_add(struct ks_store *st, const struct ks_host *h)
{
	struct pg_params a = { 0 };
	PG_BEGIN(st);

	pg_text(&a, h->name);
	pg_bin(&a, h->ak_spki, h->ak_spki_len);
	pg_text(&a, h->ak_desc);
	pg_int(&a, h->ak_restricted);
	pg_int(&a, h->policy.pcr_mask);
	pg_bin(&a, h->policy.pcrs, sizeof(h->policy.pcrs));
	pg_int(&a, h->policy.key_pcr);
	pg_int(&a, (int64_t)h->enrolled);
	pg_int(&a, h->ak_ek);
	pg_int(&a, h->ak_activated);
	/* A NULL value is SQL NULL: no challenge for an activated AK. */
	pg_bin(&a, h->ak_activated ? NULL : h->act_digest, sizeof(h->act_digest));
	pg_int(&a, (int64_t)h->act_expires);
	pg_bin(&a, h->ak_activated ? NULL : h->cred_blob, h->cred_blob_len);
	pg_bin(&a, h->ak_activated ? NULL : h->cred_enc, h->cred_enc_len);
	r = pg_run(pc->conn, Q_HOST_ADD, &a, NULL, NULL);
	PG_END();
	return r;
}

static int
pg_host_activate(struct ks_store *st, const char *name,
    const uint8_t digest[KS_DIGEST_LEN], uint64_t now)
{
	struct pg_params a = { 0 };
	PGresult *res;
	int64_t ok, fresh;
	PG_BEGIN(st);

	pg_text(&a, name);
	pg_bin(&a, digest, KS_DIGEST_LEN);
	pg_int(&a, (int64_t)now);
	if ((r = pg_run(pc->conn, Q_HOST_ACTIVATE, &a, &res, NULL)) == 0) {
		if (PQntuples(res) != 1)
			r = SC_ERR_NOTFOUND;
		else if (pg_col_i64(res, 0, 0, &ok) < 0 ||
		    pg_col_i64(res, 0, 1, &fresh) < 0)
			r = SC_ERR_CORRUPT;
		else
			r = ok ? 0 : !fresh ? SC_ERR_EXPIRED : SC_ERR_MISMATCH;
		PQclear(res);
	}
	PG_END();
	return r;
}

static int
pg_host_get(struct ks_store *st, const char *name, struct ks_host *h)
{
	struct pg_params a = { 0 };
	PGresult *res;
	PG_BEGIN(st);

	pg_text(&a, name);
	if ((r = pg_run(pc->conn, Q_HOST_GET, &a, &res, NULL)) == 0) {
		r = PQntuples(res) == 1 ? host_row(res, 0, h) : SC_ERR_NOTFOUND;
		PQclear(res);
	}
	PG_END();
	return r;
}

static int
pg_host_delete(struct ks_store *st, const char *name)
{
	struct pg_params a = { 0 };
	int n = 0;
	PG_BEGIN(st);

	/* certs go with it: ON DELETE CASCADE. */
	pg_text(&a, name);
	if ((r = pg_run(pc->conn, Q_HOST_DEL, &a, NULL, &n)) == 0 && n == 0)
		r = SC_ERR_NOTFOUND;
	PG_END();
	return r;
}

/* Mark the host revoked, drop its certificate; returns hosts revoked. */
static int
tx_host_revoke(PGconn *c, void *arg)
{
	struct pg_params *a = arg;
	int r, n = 0;

	if ((r = pg_run(c, Q_HOST_REVOKE, a, NULL, &n)) < 0)
		return r;
	a->n = 1;
	if ((r = pg_run(c, Q_CERT_DEL, a, NULL, NULL)) < 0)
		return r;
	return n;
}

static int
pg_host_revoke(struct ks_store *st, const char *name, uint64_t now)
{
	struct pg_params a = { 0 };
	PG_BEGIN(st);

	pg_text(&a, name);
	pg_int(&a, (int64_t)now);
	if ((r = pg_tx(pc->conn, tx_host_revoke, &a)) >= 0)
		r = r > 0 ? 0 : SC_ERR_NOTFOUND;
	PG_END();
	return r;
}

static int
pg_host_list(struct ks_store *st, int (*cb)(void *, const struct ks_host *),
    void *arg)
{
	struct ks_host *h;
	PGresult *res = NULL;
	int i;
	PG_BEGIN(st);

	if ((h = malloc(sizeof(*h))) == NULL) {
		PG_END();
		return SC_ERR_ALLOC;
	}
	r = pg_run(pc->conn, Q_HOST_LIST, NULL, &res, NULL);
	PG_END();
	for (i = 0; r == 0 && i < PQntuples(res); i++) {
		if ((r = host_row(res, i, h)) == 0)
			r = cb(arg, h);
	}
	PQclear(res);
	free(h);
	return r;
}

/* Table full: drop the oldest nonce of the biggest holder if it holds more. */
static int
nonce_evict(PGconn *c, int64_t mine)
{
	struct pg_params a = { 0 };
	PGresult *res;
	int64_t n = 0;
	char top[KS_PEER_MAX + 1];
	int r;

	if ((r = pg_run(c, Q_NONCE_TOP_PEER, NULL, &res, NULL)) < 0)
		return r;
	if (PQntuples(res) != 1 || pg_col_i64(res, 0, 1, &n) < 0) {
		PQclear(res);
		return SC_ERR_ALLOC;
	}
	snprintf(top, sizeof(top), "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	if (n <= mine + 1)
		return SC_ERR_ALLOC;
	pg_text(&a, top);
	return pg_run(c, Q_NONCE_EVICT, &a, NULL, NULL);
}

struct nonce_op {
	const uint8_t	*nonce;
	const uint8_t	*uuid;		/* challenge only, else NULL */
	const uint8_t	*eph_sk;	/* challenge only, else NULL */
	const char	*peer;
	uint64_t	 expires, now;
	unsigned int	 max_live, max_peer;
};

static int
tx_nonce_put(PGconn *c, void *arg)
{
	const struct nonce_op *o = arg;
	const uint8_t *nonce = o->nonce;
	const char *peer = o->peer;
	uint64_t expires = o->expires, now = o->now;
	unsigned int max_live = o->max_live, max_peer = o->max_peer;
	struct pg_params a = { 0 };
	PGresult *res;
	int64_t total = 0, mine = 0;
	int r;

	/* Serialises issuance across every instance until COMMIT. */
	if ((r = pg_exec(c, Q_NONCE_LOCK)) < 0)
		return r;
	pg_int(&a, (int64_t)now);
	if ((r = pg_run(c, Q_NONCE_PURGE, &a, NULL, NULL)) < 0)
		return r;
	a.n = 0;
	pg_text(&a, peer);
	if ((r = pg_run(c, Q_NONCE_COUNT, &a, &res, NULL)) < 0)
		return r;
	if (PQntuples(res) != 1 || pg_col_i64(res, 0, 0, &total) < 0 ||
	    pg_col_i64(res, 0, 1, &mine) < 0)
		r = SC_ERR_CORRUPT;
	PQclear(res);
	if (r < 0)
		return r;
	if (max_peer != 0 && mine >= (int64_t)max_peer)
		return SC_ERR_LIMIT;
	if (total >= (int64_t)max_live && (r = nonce_evict(c, mine)) < 0)
		return r;
	a.n = 0;
	pg_bin(&a, nonce, KS_NONCE_LEN);
	pg_int(&a, (int64_t)expires);
	pg_text(&a, peer);
	pg_bin(&a, o->uuid, KS_UUID_LEN);	/* NULL: SQL NULL */
	pg_bin(&a, o->eph_sk, KS_X25519_LEN);
	return pg_run(c, Q_NONCE_PUT, &a, NULL, NULL);
}

static int	nonce_put_op(struct ks_store *, struct nonce_op *);

static int
pg_nonce_put(struct ks_store *st, const uint8_t nonce[KS_NONCE_LEN],
    const char *peer, uint64_t expires, uint64_t now, unsigned int max_live,
    unsigned int max_peer)
{
	struct nonce_op o = { nonce, NULL, NULL, peer, expires, now, max_live,
	    max_peer };

	return nonce_put_op(st, &o);
}

static int
pg_challenge_put(struct ks_store *st, const uint8_t nonce[KS_NONCE_LEN],
    const uint8_t uuid[KS_UUID_LEN], const uint8_t eph_sk[KS_X25519_LEN],
    const char *peer, uint64_t expires, uint64_t now, unsigned int max_live,
    unsigned int max_peer)
{
	struct nonce_op o = { nonce, uuid, eph_sk, peer, expires, now,
	    max_live, max_peer };

	return nonce_put_op(st, &o);
}

static int
pg_challenge_take(struct ks_store *st, const uint8_t nonce[KS_NONCE_LEN],
    uint64_t now, uint8_t uuid[KS_UUID_LEN], uint8_t eph_sk[KS_X25519_LEN])
{
	struct pg_params a = { 0 };
	PGresult *res;
	int64_t expires = 0;
	PG_BEGIN(st);

	/* One statement: of racing takers exactly one gets the row. */
	pg_bin(&a, nonce, KS_NONCE_LEN);
	if ((r = pg_run(pc->conn, Q_CHAL_TAKE, &a, &res, NULL)) == 0) {
		if (PQntuples(res) != 1)
			r = SC_ERR_NOTFOUND;
		else if (pg_col_i64(res, 0, 0, &expires) < 0 ||
		    PQgetlength(res, 0, 1) != KS_UUID_LEN ||
		    PQgetlength(res, 0, 2) != KS_X25519_LEN)
			r = SC_ERR_CORRUPT;
		else if ((uint64_t)expires <= now)
			r = SC_ERR_EXPIRED;
		else {
			memcpy(uuid, PQgetvalue(res, 0, 1), KS_UUID_LEN);
			memcpy(eph_sk, PQgetvalue(res, 0, 2), KS_X25519_LEN);
		}
		if (PQntuples(res) == 1)
			sodium_memzero(PQgetvalue(res, 0, 2),
			    (size_t)PQgetlength(res, 0, 2));
		PQclear(res);
	}
	PG_END();
	if (r != 0)
		sodium_memzero(eph_sk, KS_X25519_LEN);
	return r;
}

/* The key of uuid's row (SC_ERR_NOTFOUND) by query q. */
static int
owner_read(PGconn *c, const char *q, const uint8_t uuid[KS_UUID_LEN],
    uint8_t key[KS_X25519_LEN])
{
	struct pg_params a = { 0 };
	PGresult *res;
	int r;

	pg_bin(&a, uuid, KS_UUID_LEN);
	if ((r = pg_run(c, q, &a, &res, NULL)) < 0)
		return r;
	if (PQntuples(res) != 1)
		r = SC_ERR_NOTFOUND;
	else if (PQgetlength(res, 0, 0) != KS_X25519_LEN)
		r = SC_ERR_CORRUPT;
	else
		memcpy(key, PQgetvalue(res, 0, 0), KS_X25519_LEN);
	PQclear(res);
	return r;
}

struct owner_op {
	const uint8_t	*uuid, *key;
	int		 replace;
	uint64_t	 now;
};

static int
tx_owner_put(PGconn *c, void *arg)
{
	const struct owner_op *o = arg;
	struct pg_params a = { 0 };
	uint8_t cur[KS_X25519_LEN];
	int r;

	r = owner_read(c, Q_OWNER_LOCK, o->uuid, cur);
	if (r == 0 && memcmp(cur, o->key, KS_X25519_LEN) == 0)
		return 1;
	if (r == 0 && !o->replace)
		return SC_ERR_BUSY;
	if (r < 0 && r != SC_ERR_NOTFOUND)
		return r;
	pg_bin(&a, o->uuid, KS_UUID_LEN);
	pg_bin(&a, o->key, KS_X25519_LEN);
	pg_int(&a, (int64_t)o->now);
	if (r == 0)
		return (r = pg_run(c, Q_OWNER_MOVE, &a, NULL, NULL)) < 0 ? r : 2;
	return pg_run(c, Q_OWNER_INS, &a, NULL, NULL);
}

static int
pg_owner_put(struct ks_store *st, const uint8_t uuid[KS_UUID_LEN],
    const uint8_t key[KS_X25519_LEN], int replace, uint64_t now)
{
	struct owner_op o = { uuid, key, replace, now };
	PG_BEGIN(st);

	r = pg_tx(pc->conn, tx_owner_put, &o);
	PG_END();
	return r;
}

static int
pg_owner_get(struct ks_store *st, const uint8_t uuid[KS_UUID_LEN],
    uint8_t key[KS_X25519_LEN])
{
	PG_BEGIN(st);

	r = owner_read(pc->conn, Q_OWNER_GET, uuid, key);
	PG_END();
	return r;
}

static int
nonce_put_op(struct ks_store *st, struct nonce_op *op)
{
	struct nonce_op o = *op;
	int tries;
	PG_BEGIN(st);

	for (tries = 0; tries < RETRIES; tries++) {
		r = pg_tx(pc->conn, tx_nonce_put, &o);
		if (r != SC_ERR_STATE)
			break;
	}
	if (r == SC_ERR_STATE)
		r = SC_ERR_BUSY;
	PG_END();
	return r;
}

static int
pg_nonce_take(struct ks_store *st, const uint8_t *nonce, size_t len,
    uint64_t now)
{
	struct pg_params a = { 0 };
	PGresult *res;
	int64_t expires = 0;

	if (len != KS_NONCE_LEN)
		return SC_ERR_NOTFOUND;
	{
		PG_BEGIN(st);

		/* One statement: of racing takers exactly one gets the row. */
		pg_bin(&a, nonce, len);
		if ((r = pg_run(pc->conn, Q_NONCE_TAKE, &a, &res, NULL)) == 0) {
			if (PQntuples(res) != 1)
				r = SC_ERR_NOTFOUND;
			else if (pg_col_i64(res, 0, 0, &expires) < 0)
				r = SC_ERR_CORRUPT;
			else if ((uint64_t)expires <= now)
				r = SC_ERR_EXPIRED;
			PQclear(res);
		}
		PG_END();
		return r;
	}
}

static int
pg_cert_put(struct ks_store *st, const struct ks_host *h, const uint8_t *cert,
    size_t len, uint64_t issued, uint64_t expires)
{
	struct pg_params a = { 0 };
	int n = 0;
	PG_BEGIN(st);

	pg_text(&a, h->name);
	pg_bin(&a, cert, len);
	pg_int(&a, (int64_t)issued);
	pg_int(&a, (int64_t)expires);
	pg_bin(&a, h->ak_spki, h->ak_spki_len);
	pg_int(&a, (int64_t)h->enrolled);
	if ((r = pg_run(pc->conn, Q_CERT_PUT, &a, NULL, &n)) == 0 && n == 0)
		r = SC_ERR_NOTFOUND;
	if (r == SC_ERR_STATE)
		r = SC_ERR_BUSY;
	PG_END();
	return r;
}

static int
pg_cert_get(struct ks_store *st, const char *host, uint8_t *out, size_t outsz,
    size_t *len, uint64_t *expires)
{
	struct pg_params a = { 0 };
	PGresult *res;
	int64_t e = 0;
	int n;
	PG_BEGIN(st);

	pg_text(&a, host);
	if ((r = pg_run(pc->conn, Q_CERT_GET, &a, &res, NULL)) < 0)
		goto out;
	n = PQntuples(res) == 1 ? PQgetlength(res, 0, 0) : -1;
	if (PQntuples(res) == 0)
		r = SC_ERR_NOTFOUND;
	else if (n <= 0 || pg_col_i64(res, 0, 1, &e) < 0)
		r = SC_ERR_CORRUPT;
	else if ((size_t)n > outsz)
		r = SC_ERR_NOSPACE;
	else {
		memcpy(out, PQgetvalue(res, 0, 0), (size_t)n);
		*len = (size_t)n;
		*expires = (uint64_t)e;
	}
	PQclear(res);
 out:
	PG_END();
	return r;
}

struct log_op {
	struct pg_params	a;
	unsigned int	keep;
};

/* Append the row, then trim the host's rows beyond keep (oldest first). */
static int
tx_log_attest(PGconn *c, void *arg)
{
	struct log_op *o = arg;
	int r;

	if ((r = pg_run(c, Q_LOG, &o->a, NULL, NULL)) < 0)
		return r;
	o->a.n = 1;
	pg_int(&o->a, o->keep);
	return pg_run(c, Q_LOG_TRIM, &o->a, NULL, NULL);
}

static int
pg_log_attest(struct ks_store *st, const struct ks_attest_log *l,
    unsigned int keep)
{
	struct log_op o = { .keep = keep };
	PG_BEGIN(st);

	pg_text(&o.a, l->host);
	pg_int(&o.a, (int64_t)l->time);
	pg_text(&o.a, ks_result_code(l->result));
	pg_int(&o.a, l->reset_count);
	pg_int(&o.a, l->restart_count);
	r = pg_tx(pc->conn, tx_log_attest, &o);
	PG_END();
	return r < 0 ? r : 0;
}

static int
pg_log_count(struct ks_store *st, const char *host, uint64_t *n)
{
	struct pg_params a = { 0 };
	PGresult *res;
	int64_t v = 0;

	*n = 0;
	{
		PG_BEGIN(st);

		if (host != NULL)
			pg_text(&a, host);
		r = pg_run(pc->conn, host ? Q_LOG_COUNT : Q_LOG_COUNT_ALL, &a,
		    &res, NULL);
		if (r == 0) {
			if (PQntuples(res) != 1 || pg_col_i64(res, 0, 0, &v) < 0)
				r = SC_ERR_CORRUPT;
			PQclear(res);
		}
		*n = (uint64_t)v;
		PG_END();
		return r;
	}
}

static void
pg_close(struct ks_store *st)
{
	struct pg *p;
	unsigned int i;

	if (st == NULL)
		return;
	p = st->impl;
	for (i = 0; i < p->pool.n; i++)
		if (p->pool.slot[i].conn != NULL)
			PQfinish(p->pool.slot[i].conn);
	pthread_cond_destroy(&p->pool.freed);
	pthread_mutex_destroy(&p->pool.lock);
	free(p->pool.uri);
	free(p);
}

int
ks_store_pg_schema_version(void)
{
	return (int)(sizeof(migrations) / sizeof(migrations[0]));
}

static int
migrate_tx(PGconn *c, void *arg)
{
	struct pg_params a = { 0 };
	PGresult *res;
	int64_t v = 0;
	int r, target = ks_store_pg_schema_version();

	(void)arg;

	if ((r = pg_exec(c, "SELECT pg_advisory_xact_lock(" LOCK_MIGRATE ")")) < 0 ||
	    (r = pg_exec(c, "CREATE TABLE IF NOT EXISTS schema_version"
	    " (version BIGINT NOT NULL)")) < 0 ||
	    (r = pg_run(c, "SELECT version FROM schema_version", NULL, &res,
	    NULL)) < 0)
		return r;
	if (PQntuples(res) > 1 ||
	    (PQntuples(res) == 1 && pg_col_i64(res, 0, 0, &v) < 0))
		r = SC_ERR_CORRUPT;
	PQclear(res);
	if (r < 0)
		return r;
	if (v > target || v < 0)
		return SC_ERR_VERSION;
	if (v == target)
		return 0;
	if (v == 0 && ((r = pg_exec(c, "DELETE FROM schema_version")) < 0 ||
	    (r = pg_exec(c, "INSERT INTO schema_version VALUES (0)")) < 0))
		return r;
	for (; v < target; v++)
		if ((r = pg_exec(c, migrations[v])) < 0)
			return r;
	pg_int(&a, target);
	return pg_run(c, "UPDATE schema_version SET version = $1", &a, NULL, NULL);
}

static int
migrate(PGconn *c)
{
	return pg_tx(c, migrate_tx, NULL);
}

int
ks_store_pg_open(const char *uri, unsigned int pool, struct ks_store **out)
{
	struct pg *p;
	PQconninfoOption *opts;
	char *err = NULL;
	int r;

	*out = NULL;
	if (pool == 0 || pool > KS_PG_POOL_MAX)
		return SC_ERR_INVAL;
	if ((opts = PQconninfoParse(uri, &err)) == NULL) {
		PQfreemem(err);
		return SC_ERR_INVAL;
	}
	PQconninfoFree(opts);
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return SC_ERR_ALLOC;
	if ((p->pool.uri = strdup(uri)) == NULL) {
		free(p);
		return SC_ERR_ALLOC;
	}
	p->pool.n = pool;
	pthread_mutex_init(&p->pool.lock, NULL);
	pthread_cond_init(&p->pool.freed, NULL);
	p->store.impl = p;
	/* The first connection now: a wrong URI or schema fails at start. */
	if ((p->pool.slot[0].conn = pg_connect(uri)) == NULL) {
		r = SC_ERR_AGAIN;
		goto fail;
	}
	if ((r = migrate(p->pool.slot[0].conn)) < 0)
		goto fail;

	p->store.host_add = pg_host_add;
	p->store.host_get = pg_host_get;
	p->store.host_delete = pg_host_delete;
	p->store.host_revoke = pg_host_revoke;
	p->store.host_list = pg_host_list;
	p->store.nonce_put = pg_nonce_put;
	p->store.nonce_take = pg_nonce_take;
	p->store.challenge_put = pg_challenge_put;
	p->store.challenge_take = pg_challenge_take;
	p->store.owner_put = pg_owner_put;
	p->store.owner_get = pg_owner_get;
	p->store.host_activate = pg_host_activate;
	p->store.cert_put = pg_cert_put;
	p->store.cert_get = pg_cert_get;
	p->store.log_attest = pg_log_attest;
	p->store.log_count = pg_log_count;
	p->store.close = pg_close;
	*out = &p->store;
	return 0;
 fail:
	pg_close(&p->store);
	return r;
}
