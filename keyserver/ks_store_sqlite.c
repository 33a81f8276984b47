/*
 * ks_store_sqlite.c — the embedded SQLite engine behind struct ks_store.
 *
 * One connection, WAL journal, a mutex around every operation (statements
 * are cached and some operations are multi-statement transactions).  The
 * schema is versioned in table schema_version; migrations[] upgrades an
 * older database in one transaction at open, and a database newer than this
 * program is refused.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>
#include <sqlite3.h>

#include "core/err.h"
#include "ks_store.h"

#define BUSY_TIMEOUT_MS	5000

/* Migration N (1-based) brings the schema from version N-1 to N. */
static const char *const migrations[] = {
	/* 1: hosts, their current certificate, outstanding nonces. */
	"CREATE TABLE hosts ("
	"  name TEXT PRIMARY KEY,"
	"  ak_spki BLOB NOT NULL,"
	"  ak_desc TEXT NOT NULL,"
	"  ak_restricted INTEGER NOT NULL,"
	"  pcr_mask INTEGER NOT NULL,"
	"  pcr_values BLOB NOT NULL,"
	"  key_pcr INTEGER NOT NULL,"
	"  enrolled INTEGER NOT NULL,"
	"  revoked INTEGER NOT NULL DEFAULT 0,"
	"  revoked_at INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE certs ("
	"  host TEXT PRIMARY KEY REFERENCES hosts(name) ON DELETE CASCADE,"
	"  cert BLOB NOT NULL,"
	"  issued INTEGER NOT NULL,"
	"  expires INTEGER NOT NULL);"
	"CREATE TABLE nonces ("
	"  nonce BLOB PRIMARY KEY,"
	"  expires INTEGER NOT NULL);"
	"CREATE INDEX nonces_expires ON nonces(expires);",
	/* 2: audit trail of attestation outcomes. */
	"CREATE TABLE attest_log ("
	"  id INTEGER PRIMARY KEY,"
	"  host TEXT NOT NULL,"
	"  time INTEGER NOT NULL,"
	"  result TEXT NOT NULL,"
	"  reset_count INTEGER NOT NULL,"
	"  restart_count INTEGER NOT NULL);"
	"CREATE INDEX attest_log_host ON attest_log(host, time);",
	/* 3: who asked for each nonce (per-address quota). */
	("ALTER TABLE nonces ADD COLUMN peer TEXT NOT NULL DEFAULT '';"
	 "CREATE INDEX nonces_peer ON nonces(peer, expires);"),
	/* 4: EK-anchored AKs; hosts enrolled before were trusted as they are. */
	("ALTER TABLE hosts ADD COLUMN ak_ek INTEGER NOT NULL DEFAULT 0;"
	 "ALTER TABLE hosts ADD COLUMN ak_activated INTEGER NOT NULL DEFAULT 1;"
	 "ALTER TABLE hosts ADD COLUMN act_digest BLOB;"
	 "ALTER TABLE hosts ADD COLUMN act_expires INTEGER NOT NULL DEFAULT 0;"
	 "ALTER TABLE hosts ADD COLUMN cred_blob BLOB;"
	 "ALTER TABLE hosts ADD COLUMN cred_enc BLOB;"),
	/* 5: ownership-token challenges (a nonce with a UUID and an
	 * ephemeral secret) and owner registrations. */
	("ALTER TABLE nonces ADD COLUMN uuid BLOB;"
	 "ALTER TABLE nonces ADD COLUMN eph_sk BLOB;"
	 "CREATE TABLE owners ("
	 "  uuid BLOB PRIMARY KEY,"
	 "  owner_key BLOB NOT NULL,"
	 "  registered INTEGER NOT NULL);"),
};

#define HOST_COLS	"name, ak_spki, ak_desc, ak_restricted, pcr_mask," \
			" pcr_values, key_pcr, enrolled, revoked, revoked_at," \
			" ak_ek, ak_activated, act_expires, cred_blob, cred_enc"

enum {
	Q_HOST_ADD, Q_HOST_ACTIVATE, Q_HOST_GET, Q_HOST_DEL, Q_HOST_REVOKE, Q_CERT_DEL,
	Q_HOST_LIST, Q_NONCE_PURGE, Q_NONCE_COUNT, Q_NONCE_COUNT_PEER,
	Q_NONCE_TOP_PEER, Q_NONCE_EVICT, Q_NONCE_PUT, Q_NONCE_TAKE,
	Q_CHAL_TAKE, Q_OWNER_GET, Q_OWNER_INS, Q_OWNER_MOVE,
	Q_CERT_PUT, Q_CERT_GET, Q_LOG, Q_LOG_TRIM, Q_LOG_COUNT, Q_LOG_COUNT_ALL,
	Q__COUNT
};

static const char *const queries[Q__COUNT] = {
	[Q_HOST_ADD] = "INSERT INTO hosts (name, ak_spki, ak_desc, ak_restricted,"
	    " pcr_mask, pcr_values, key_pcr, enrolled, ak_ek, ak_activated,"
	    " act_digest, act_expires, cred_blob, cred_enc)"
	    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
	/* Consumes the challenge whatever the answer (old values in SET). */
	[Q_HOST_ACTIVATE] = "UPDATE hosts SET ak_activated = CASE WHEN"
	    " act_digest = ?2 AND act_expires > ?3 THEN 1 ELSE 0 END,"
	    " act_digest = NULL, cred_blob = NULL, cred_enc = NULL"
	    " WHERE name = ?1 AND ak_activated = 0 AND act_digest IS NOT NULL"
	    " AND revoked = 0 RETURNING ak_activated, act_expires > ?3",
	[Q_HOST_GET] = "SELECT " HOST_COLS " FROM hosts WHERE name = ?",
	[Q_HOST_DEL] = "DELETE FROM hosts WHERE name = ?",
	[Q_HOST_REVOKE] = "UPDATE hosts SET revoked = 1, revoked_at = ?"
	    " WHERE name = ?",
	[Q_CERT_DEL] = "DELETE FROM certs WHERE host = ?",
	[Q_HOST_LIST] = "SELECT " HOST_COLS " FROM hosts ORDER BY name",
	[Q_NONCE_PURGE] = "DELETE FROM nonces WHERE expires <= ?",
	[Q_NONCE_COUNT] = "SELECT count(*) FROM nonces",
	[Q_NONCE_COUNT_PEER] = "SELECT count(*) FROM nonces WHERE peer = ?",
	[Q_NONCE_TOP_PEER] = "SELECT peer, count(*) AS n FROM nonces"
	    " GROUP BY peer ORDER BY n DESC LIMIT 1",
	[Q_NONCE_EVICT] = "DELETE FROM nonces WHERE rowid = (SELECT rowid"
	    " FROM nonces WHERE peer = ? ORDER BY expires LIMIT 1)",
	[Q_NONCE_PUT] = "INSERT INTO nonces (nonce, expires, peer, uuid, eph_sk)"
	    " VALUES (?, ?, ?, ?, ?)",
	[Q_NONCE_TAKE] = "DELETE FROM nonces WHERE nonce = ? AND eph_sk IS NULL"
	    " RETURNING expires",
	[Q_CHAL_TAKE] = "DELETE FROM nonces WHERE nonce = ? AND eph_sk IS NOT"
	    " NULL RETURNING expires, uuid, eph_sk",
	[Q_OWNER_GET] = "SELECT owner_key FROM owners WHERE uuid = ?",
	[Q_OWNER_INS] = "INSERT INTO owners (uuid, owner_key, registered)"
	    " VALUES (?, ?, ?)",
	[Q_OWNER_MOVE] = "UPDATE owners SET owner_key = ?2, registered = ?3"
	    " WHERE uuid = ?1",
	/* Only for the host as checked (same AK, not revoked). */
	[Q_CERT_PUT] = "INSERT INTO certs (host, cert, issued, expires)"
	    " SELECT name, ?2, ?3, ?4 FROM hosts WHERE name = ?1"
	    " AND ak_spki = ?5 AND enrolled = ?6 AND revoked = 0"
	    " AND ak_activated = 1 ON CONFLICT (host) DO UPDATE SET cert = excluded.cert,"
	    " issued = excluded.issued, expires = excluded.expires",
	[Q_CERT_GET] = "SELECT cert, expires FROM certs WHERE host = ?",
	[Q_LOG] = "INSERT INTO attest_log (host, time, result, reset_count,"
	    " restart_count) VALUES (?,?,?,?,?)",
	[Q_LOG_TRIM] = "DELETE FROM attest_log WHERE host = ?1 AND id <="
	    " (SELECT id FROM attest_log WHERE host = ?1 ORDER BY id DESC"
	    " LIMIT 1 OFFSET ?2)",
	[Q_LOG_COUNT] = "SELECT count(*) FROM attest_log WHERE host = ?",
	[Q_LOG_COUNT_ALL] = "SELECT count(*) FROM attest_log",
};

struct sq {
	struct ks_store	 store;
	sqlite3		*db;
	sqlite3_stmt	*stmt[Q__COUNT];
	pthread_mutex_t	 lock;
};

static int
sq_err(int rc)
{
	switch (rc) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return SC_ERR_BUSY;
	case SQLITE_NOMEM:
		return SC_ERR_ALLOC;
	case SQLITE_CONSTRAINT:
		return SC_ERR_BUSY;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return SC_ERR_CORRUPT;
	default:
		return SC_ERR_SYSTEM;
	}
}

/* Cached, reset statement q; NULL on failure.  Caller holds the lock. */
static sqlite3_stmt *
stmt(struct sq *s, int q)
{
	if (s->stmt[q] == NULL &&
	    sqlite3_prepare_v3(s->db, queries[q], -1, SQLITE_PREPARE_PERSISTENT,
	    &s->stmt[q], NULL) != SQLITE_OK)
		return NULL;
	sqlite3_reset(s->stmt[q]);
	sqlite3_clear_bindings(s->stmt[q]);
	return s->stmt[q];
}

static void
done(sqlite3_stmt *st)
{
	if (st != NULL) {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
	}
}

static int
exec(struct sq *s, const char *sql)
{
	return sqlite3_exec(s->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 :
	    sq_err(sqlite3_errcode(s->db));
}

/* Step a statement that returns no rows, then reset it. */
static int
step_done(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	done(st);
	return rc == SQLITE_DONE ? 0 : sq_err(rc);
}

/*
 * body in one IMMEDIATE transaction: committed when it returns >= 0, rolled
 * back when it (or the COMMIT) fails.  Returns body's value or the error.
 * The caller holds s->lock (or owns the connection alone, as at open).
 */
static int
tx_locked(struct sq *s, int (*body)(struct sq *, void *), void *arg)
{
	int r, c;

	if ((r = exec(s, "BEGIN IMMEDIATE")) < 0)
		return r;
	if ((r = body(s, arg)) >= 0 && (c = exec(s, "COMMIT")) < 0)
		r = c;
	if (r < 0)
		(void)exec(s, "ROLLBACK");
	return r;
}

/* tx_locked() under the connection's lock. */
static int
with_tx(struct sq *s, int (*body)(struct sq *, void *), void *arg)
{
	int r;

	pthread_mutex_lock(&s->lock);
	r = tx_locked(s, body, arg);
	pthread_mutex_unlock(&s->lock);
	return r;
}

static int
host_row(sqlite3_stmt *st, struct ks_host *h)
{
	const unsigned char *name = sqlite3_column_text(st, 0);
	const unsigned char *desc = sqlite3_column_text(st, 2);
	const void *spki = sqlite3_column_blob(st, 1);
	int spki_len = sqlite3_column_bytes(st, 1);
	const void *vals = sqlite3_column_blob(st, 5);
	int vals_len = sqlite3_column_bytes(st, 5);
	int64_t key_pcr = sqlite3_column_int64(st, 6);
	const void *blob;
	int n;

	memset(h, 0, sizeof(*h));
	if (name == NULL || desc == NULL || spki == NULL ||
	    strlen((const char *)name) > KS_HOST_MAX ||
	    spki_len <= 0 || (size_t)spki_len > sizeof(h->ak_spki) ||
	    vals_len != (int)sizeof(h->policy.pcrs) ||
	    key_pcr < 0 || key_pcr >= KS_PCR_COUNT)
		return SC_ERR_CORRUPT;
	strcpy(h->name, (const char *)name);
	memcpy(h->ak_spki, spki, (size_t)spki_len);
	h->ak_spki_len = (size_t)spki_len;
	snprintf(h->ak_desc, sizeof(h->ak_desc), "%s", (const char *)desc);
	h->ak_restricted = sqlite3_column_int(st, 3) != 0;
	h->policy.pcr_mask = (uint32_t)sqlite3_column_int64(st, 4) &
	    ((1u << KS_PCR_COUNT) - 1);
	memcpy(h->policy.pcrs, vals, sizeof(h->policy.pcrs));
	h->policy.key_pcr = (unsigned int)key_pcr;
	h->enrolled = (uint64_t)sqlite3_column_int64(st, 7);
	h->revoked = sqlite3_column_int(st, 8) != 0;
	h->revoked_at = (uint64_t)sqlite3_column_int64(st, 9);
	h->ak_ek = sqlite3_column_int(st, 10) != 0;
	h->ak_activated = sqlite3_column_int(st, 11) != 0;
	h->act_expires = (uint64_t)sqlite3_column_int64(st, 12);
	blob = sqlite3_column_blob(st, 13);
	n = sqlite3_column_bytes(st, 13);
	if (n < 0 || (size_t)n > sizeof(h->cred_blob))
		return SC_ERR_CORRUPT;
	if (blob != NULL)
		memcpy(h->cred_blob, blob, (size_t)n);
	h->cred_blob_len = blob != NULL ? (size_t)n : 0;
	blob = sqlite3_column_blob(st, 14);
	n = sqlite3_column_bytes(st, 14);
	if (n < 0 || (size_t)n > sizeof(h->cred_enc))
		return SC_ERR_CORRUPT;
	if (blob != NULL)
		memcpy(h->cred_enc, blob, (size_t)n);
	h->cred_enc_len = blob != NULL ? (size_t)n : 0;
	return 0;
}

static int
sq_host_add(struct ks_store *st_, const struct ks_host *h)
{
	struct sq *s = st_->impl;
	sqlite3_stmt *st;
	int rc, r;

	pthread_mutex_lock(&s->lock);
	if ((st = stmt(s, Q_HOST_ADD)) == NULL) {
		r = SC_ERR_INTERNAL;
		goto out;
	}
	sqlite3_bind_text(st, 1, h->name, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, h->ak_spki, (int)h->ak_spki_len, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, h->ak_desc, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, h->ak_restricted);
	sqlite3_bind_int64(st, 5, h->policy.pcr_mask);
	sqlite3_bind_blob(st, 6, h->policy.pcrs, sizeof(h->policy.pcrs),
	    SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, h->policy.key_pcr);
	sqlite3_bind_int64(st, 8, (int64_t)h->enrolled);
	sqlite3_bind_int(st, 9, h->ak_ek);
	sqlite3_bind_int(st, 10, h->ak_activated);
	if (!h->ak_activated) {
		sqlite3_bind_blob(st, 11, h->act_digest, sizeof(h->act_digest),
		    SQLITE_STATIC);
		sqlite3_bind_blob(st, 13, h->cred_blob, (int)h->cred_blob_len,
		    SQLITE_STATIC);
		sqlite3_bind_blob(st, 14, h->cred_enc, (int)h->cred_enc_len,
		    SQLITE_STATIC);
	}
	sqlite3_bind_int64(st, 12, (int64_t)h->act_expires);
	rc = sqlite3_step(st);
	r = rc == SQLITE_DONE ? 0 : sq_err(rc);
 out:
	done(st);
	pthread_mutex_unlock(&s->lock);
	return r;
}

static int
sq_host_activate(struct ks_store *st_, const char *name,
    const uint8_t digest[KS_DIGEST_LEN], uint64_t now)
{
	struct sq *s = st_->impl;
	sqlite3_stmt *st;
	int rc, r = SC_ERR_NOTFOUND, ok = 0, fresh = 0;

	pthread_mutex_lock(&s->lock);
	if ((st = stmt(s, Q_HOST_ACTIVATE)) == NULL) {
		r = SC_ERR_INTERNAL;
		goto out;
	}
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, digest, KS_DIGEST_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (int64_t)now);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		ok = sqlite3_column_int(st, 0) != 0;
		fresh = sqlite3_column_int(st, 1) != 0;
		r = 0;
	}
	if (rc != SQLITE_DONE)
		r = sq_err(rc);
	else if (r == 0)
		r = ok ? 0 : !fresh ? SC_ERR_EXPIRED : SC_ERR_MISMATCH;
 out:
	done(st);
	pthread_mutex_unlock(&s->lock);
	return r;
}

static int
sq_host_get(struct ks_store *st_, const char *name, struct ks_host *h)
{
	struct sq *s = st_->impl;
	sqlite3_stmt *st;
	int rc, r;

	pthread_mutex_lock(&s->lock);
	if ((st = stmt(s, Q_HOST_GET)) == NULL) {
		r = SC_ERR_INTERNAL;
		goto out;
	}
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		r = host_row(st, h);
	else if (rc == SQLITE_DONE)
		r = SC_ERR_NOTFOUND;
	else
		r = sq_err(rc);
 out:
	done(st);
	pthread_mutex_unlock(&s->lock);
	return r;
}

/* Run q (bound to name, optional leading int64) in the open transaction. */
static int
step_name(struct sq *s, int q, int64_t *num, const char *name, int *changes)
{
	sqlite3_stmt *st;
	int r, i = 1;

	if ((st = stmt(s, q)) == NULL)
		return SC_ERR_INTERNAL;
	if (num != NULL)
		sqlite3_bind_int64(st, i++, *num);
	sqlite3_bind_text(st, i, name, -1, SQLITE_STATIC);
	if ((r = step_done(st)) < 0)
		return r;
	if (changes != NULL)
		*changes = sqlite3_changes(s->db);
	return 0;
}

struct host_op {
	const char	*name;
	int64_t		 now;
};

/* Drop the host's certificate, then the host; returns the hosts deleted. */
static int
tx_host_delete(struct sq *s, void *arg)
{
	const struct host_op *o = arg;
	int r, n = 0;

	if ((r = step_name(s, Q_CERT_DEL, NULL, o->name, NULL)) < 0 ||
	    (r = step_name(s, Q_HOST_DEL, NULL, o->name, &n)) < 0)
		return r;
	return n;
}

/* Mark the host revoked and drop its certificate; returns hosts revoked. */
static int
tx_host_revoke(struct sq *s, void *arg)
{
	struct host_op *o = arg;
	int r, n = 0;

	if ((r = step_name(s, Q_HOST_REVOKE, &o->now, o->name, &n)) < 0 ||
	    (r = step_name(s, Q_CERT_DEL, NULL, o->name, NULL)) < 0)
		return r;
	return n;
}

static int
sq_host_delete(struct ks_store *st_, const char *name)
{
	struct host_op o = { name, 0 };
	int r = with_tx(st_->impl, tx_host_delete, &o);

	return r < 0 ? r : r > 0 ? 0 : SC_ERR_NOTFOUND;
}

static int
sq_host_revoke(struct ks_store *st_, const char *name, uint64_t now)
{
	struct host_op o = { name, (int64_t)now };
	int r = with_tx(st_->impl, tx_host_revoke, &o);

	return r < 0 ? r : r > 0 ? 0 : SC_ERR_NOTFOUND;
}

static int
sq_host_list(struct ks_store *st_, int (*cb)(void *, const struct ks_host *),
    void *arg)
{
	struct sq *s = st_->impl;
	struct ks_host *h;
	sqlite3_stmt *st;
	int rc, r = 0;

	if ((h = malloc(sizeof(*h))) == NULL)
		return SC_ERR_ALLOC;
	pthread_mutex_lock(&s->lock);
	if ((st = stmt(s, Q_HOST_LIST)) == NULL) {
		r = SC_ERR_INTERNAL;
		goto out;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((r = host_row(st, h)) < 0 || (r = cb(arg, h)) < 0)
			goto out;
	}
	if (rc != SQLITE_DONE)
		r = sq_err(rc);
 out:
	done(st);
	pthread_mutex_unlock(&s->lock);
	free(h);
	return r;
}

/* One-row, one-column integer query q with an optional text parameter. */
static int
count_query(struct sq *s, int q, const char *arg, int64_t *n)
{
	sqlite3_stmt *st;
	int rc;

	if ((st = stmt(s, q)) == NULL)
		return SC_ERR_INTERNAL;
	if (arg != NULL)
		sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	*n = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	done(st);
	return rc == SQLITE_ROW ? 0 : sq_err(rc);
}

/* Run q with an optional text and integer parameter; expect no rows. */
static int
run_query(struct sq *s, int q, const char *text, int64_t num)
{
	sqlite3_stmt *st;

	if ((st = stmt(s, q)) == NULL)
		return SC_ERR_INTERNAL;
	if (text != NULL)
		sqlite3_bind_text(st, 1, text, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_int64(st, 1, num);
	return step_done(st);
}

/*
 * Table full: make room by dropping the oldest nonce of the address that
 * holds the most, if it holds more than mine + 1 (so an address with fewer
 * outstanding nonces than another never loses one to it).
 */
static int
nonce_evict(struct sq *s, int64_t mine)
{
	sqlite3_stmt *st;
	char top[KS_PEER_MAX + 1];
	int64_t n;
	int rc;

	if ((st = stmt(s, Q_NONCE_TOP_PEER)) == NULL)
		return SC_ERR_INTERNAL;
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		done(st);
		return rc == SQLITE_DONE ? SC_ERR_ALLOC : sq_err(rc);
	}
	snprintf(top, sizeof(top), "%s",
	    (const char *)sqlite3_column_text(st, 0) ?
	    (const char *)sqlite3_column_text(st, 0) : "");
	n = sqlite3_column_int64(st, 1);
	done(st);
	if (n <= mine + 1)
		return SC_ERR_ALLOC;
	return run_query(s, Q_NONCE_EVICT, top, 0);
}

struct nonce_op {
	const uint8_t	*nonce;
	const uint8_t	*uuid;		/* challenge only, else NULL */
	const uint8_t	*eph_sk;	/* challenge only, else NULL */
	const char	*peer;
	uint64_t	 expires, now;
	unsigned int	 max_live, max_peer;
};

/* Purge expired nonces, enforce the quotas, store the new nonce. */
static int
tx_nonce_put(struct sq *s, void *arg)
{
	const struct nonce_op *o = arg;
	sqlite3_stmt *st;
	int64_t total, mine;
	int r;

	if ((r = run_query(s, Q_NONCE_PURGE, NULL, (int64_t)o->now)) < 0 ||
	    (r = count_query(s, Q_NONCE_COUNT_PEER, o->peer, &mine)) < 0 ||
	    (r = count_query(s, Q_NONCE_COUNT, NULL, &total)) < 0)
		return r;
	if (o->max_peer != 0 && mine >= (int64_t)o->max_peer)
		return SC_ERR_LIMIT;
	if (total >= (int64_t)o->max_live && (r = nonce_evict(s, mine)) < 0)
		return r;
	if ((st = stmt(s, Q_NONCE_PUT)) == NULL)
		return SC_ERR_INTERNAL;
	sqlite3_bind_blob(st, 1, o->nonce, KS_NONCE_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (int64_t)o->expires);
	sqlite3_bind_text(st, 3, o->peer, -1, SQLITE_STATIC);
	if (o->eph_sk != NULL) {
		sqlite3_bind_blob(st, 4, o->uuid, KS_UUID_LEN, SQLITE_STATIC);
		sqlite3_bind_blob(st, 5, o->eph_sk, KS_X25519_LEN, SQLITE_STATIC);
	} else {
		sqlite3_bind_null(st, 4);
		sqlite3_bind_null(st, 5);
	}
	return step_done(st);
}

static int
sq_nonce_put(struct ks_store *st_, const uint8_t nonce[KS_NONCE_LEN],
    const char *peer, uint64_t expires, uint64_t now, unsigned int max_live,
    unsigned int max_peer)
{
	struct nonce_op o = { nonce, NULL, NULL, peer, expires, now, max_live,
	    max_peer };

	return with_tx(st_->impl, tx_nonce_put, &o);
}

static int
sq_challenge_put(struct ks_store *st_, const uint8_t nonce[KS_NONCE_LEN],
    const uint8_t uuid[KS_UUID_LEN], const uint8_t eph_sk[KS_X25519_LEN],
    const char *peer, uint64_t expires, uint64_t now, unsigned int max_live,
    unsigned int max_peer)
{
	struct nonce_op o = { nonce, uuid, eph_sk, peer, expires, now,
	    max_live, max_peer };

	return with_tx(st_->impl, tx_nonce_put, &o);
}

static int
sq_challenge_take(struct ks_store *st_, const uint8_t nonce[KS_NONCE_LEN],
    uint64_t now, uint8_t uuid[KS_UUID_LEN], uint8_t eph_sk[KS_X25519_LEN])
{
	struct sq *s = st_->impl;
	sqlite3_stmt *st;
	int64_t expires = 0;
	int rc, r, found = 0;

	pthread_mutex_lock(&s->lock);
	if ((st = stmt(s, Q_CHAL_TAKE)) == NULL) {
		r = SC_ERR_INTERNAL;
		goto out;
	}
	sqlite3_bind_blob(st, 1, nonce, KS_NONCE_LEN, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		expires = sqlite3_column_int64(st, 0);
		found = sqlite3_column_bytes(st, 1) == KS_UUID_LEN &&
		    sqlite3_column_bytes(st, 2) == KS_X25519_LEN ? 1 : -1;
		if (found == 1) {
			memcpy(uuid, sqlite3_column_blob(st, 1), KS_UUID_LEN);
			memcpy(eph_sk, sqlite3_column_blob(st, 2), KS_X25519_LEN);
		}
	}
	if (rc != SQLITE_DONE)
		r = sq_err(rc);
	else if (found == 0)
		r = SC_ERR_NOTFOUND;
	else if (found < 0)
		r = SC_ERR_CORRUPT;
	else if ((uint64_t)expires <= now)
		r = SC_ERR_EXPIRED;
	else
		r = 0;
 out:
	done(st);
	pthread_mutex_unlock(&s->lock);
	if (r != 0)
		sodium_memzero(eph_sk, KS_X25519_LEN);
	return r;
}

/* Reads the key registered for uuid (SC_ERR_NOTFOUND); s->lock held. */
static int
owner_read(struct sq *s, const uint8_t uuid[KS_UUID_LEN],
    uint8_t key[KS_X25519_LEN])
{
	sqlite3_stmt *st;
	int rc, r = SC_ERR_NOTFOUND;

	if ((st = stmt(s, Q_OWNER_GET)) == NULL)
		return SC_ERR_INTERNAL;
	sqlite3_bind_blob(st, 1, uuid, KS_UUID_LEN, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (sqlite3_column_bytes(st, 0) != KS_X25519_LEN)
			r = SC_ERR_CORRUPT;
		else {
			memcpy(key, sqlite3_column_blob(st, 0), KS_X25519_LEN);
			r = 0;
		}
	} else if (rc != SQLITE_DONE)
		r = sq_err(rc);
	done(st);
	return r;
}

struct owner_op {
	const uint8_t	*uuid, *key;
	int		 replace;
	uint64_t	 now;
};

static int
tx_owner_put(struct sq *s, void *arg)
{
	const struct owner_op *o = arg;
	uint8_t cur[KS_X25519_LEN];
	sqlite3_stmt *st;
	int r;

	r = owner_read(s, o->uuid, cur);
	if (r == 0 && memcmp(cur, o->key, KS_X25519_LEN) == 0)
		return 1;
	if (r == 0 && !o->replace)
		return SC_ERR_BUSY;
	if (r < 0 && r != SC_ERR_NOTFOUND)
		return r;
	if ((st = stmt(s, r == 0 ? Q_OWNER_MOVE : Q_OWNER_INS)) == NULL)
		return SC_ERR_INTERNAL;
	sqlite3_bind_blob(st, 1, o->uuid, KS_UUID_LEN, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, o->key, KS_X25519_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (int64_t)o->now);
	if (r == 0)
		return (r = step_done(st)) < 0 ? r : 2;
	return step_done(st);
}

static int
sq_owner_put(struct ks_store *st_, const uint8_t uuid[KS_UUID_LEN],
    const uint8_t key[KS_X25519_LEN], int replace, uint64_t now)
{
	struct owner_op o = { uuid, key, replace, now };

	return with_tx(st_->impl, tx_owner_put, &o);
}

static int
sq_owner_get(struct ks_store *st_, const uint8_t uuid[KS_UUID_LEN],
    uint8_t key[KS_X25519_LEN])
{
	struct sq *s = st_->impl;
	int r;

	pthread_mutex_lock(&s->lock);
	r = owner_read(s, uuid, key);
	pthread_mutex_unlock(&s->lock);
	return r;
}

static int
sq_nonce_take(struct ks_store *st_, const uint8_t *nonce, size_t len,
    uint64_t now)
{
	struct sq *s = st_->impl;
	sqlite3_stmt *st;
	int64_t expires = 0;
	int rc, r, found = 0;

	if (len != KS_NONCE_LEN)
		return SC_ERR_NOTFOUND;
	pthread_mutex_lock(&s->lock);
	if ((st = stmt(s, Q_NONCE_TAKE)) == NULL) {
		r = SC_ERR_INTERNAL;
		goto out;
	}
	sqlite3_bind_blob(st, 1, nonce, (int)len, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		expires = sqlite3_column_int64(st, 0);
		found = 1;
	}
	if (rc != SQLITE_DONE)
		r = sq_err(rc);
	else if (!found)
		r = SC_ERR_NOTFOUND;
	else if ((uint64_t)expires <= now)
		r = SC_ERR_EXPIRED;
	else
		r = 0;
 out:
	done(st);
	pthread_mutex_unlock(&s->lock);
	return r;
}

static int
sq_cert_put(struct ks_store *st_, const struct ks_host *h,
    const uint8_t *cert, size_t len, uint64_t issued, uint64_t expires)
{
	struct sq *s = st_->impl;
	sqlite3_stmt *st;
	int rc, r;

	pthread_mutex_lock(&s->lock);
	if ((st = stmt(s, Q_CERT_PUT)) == NULL) {
		r = SC_ERR_INTERNAL;
		goto out;
	}
	sqlite3_bind_text(st, 1, h->name, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, cert, (int)len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (int64_t)issued);
	sqlite3_bind_int64(st, 4, (int64_t)expires);
	sqlite3_bind_blob(st, 5, h->ak_spki, (int)h->ak_spki_len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, (int64_t)h->enrolled);
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE)
		r = sq_err(rc);
	else
		r = sqlite3_changes(s->db) > 0 ? 0 : SC_ERR_NOTFOUND;
 out:
	done(st);
	pthread_mutex_unlock(&s->lock);
	return r;
}

static int
sq_cert_get(struct ks_store *st_, const char *host, uint8_t *out, size_t outsz,
    size_t *len, uint64_t *expires)
{
	struct sq *s = st_->impl;
	sqlite3_stmt *st;
	const void *blob;
	int rc, r, n;

	pthread_mutex_lock(&s->lock);
	if ((st = stmt(s, Q_CERT_GET)) == NULL) {
		r = SC_ERR_INTERNAL;
		goto out;
	}
	sqlite3_bind_text(st, 1, host, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		r = SC_ERR_NOTFOUND;
		goto out;
	}
	if (rc != SQLITE_ROW) {
		r = sq_err(rc);
		goto out;
	}
	blob = sqlite3_column_blob(st, 0);
	n = sqlite3_column_bytes(st, 0);
	if (blob == NULL || n <= 0) {
		r = SC_ERR_CORRUPT;
		goto out;
	}
	if ((size_t)n > outsz) {
		r = SC_ERR_NOSPACE;
		goto out;
	}
	memcpy(out, blob, (size_t)n);
	*len = (size_t)n;
	*expires = (uint64_t)sqlite3_column_int64(st, 1);
	r = 0;
 out:
	done(st);
	pthread_mutex_unlock(&s->lock);
	return r;
}

struct log_op {
	const struct ks_attest_log	*l;
	unsigned int			 keep;
};

/* Append the row, then trim the host's rows beyond keep (oldest first). */
static int
tx_log_attest(struct sq *s, void *arg)
{
	const struct log_op *o = arg;
	sqlite3_stmt *st;
	int r;

	if ((st = stmt(s, Q_LOG)) == NULL)
		return SC_ERR_INTERNAL;
	sqlite3_bind_text(st, 1, o->l->host, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (int64_t)o->l->time);
	sqlite3_bind_text(st, 3, ks_result_code(o->l->result), -1,
	    SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, o->l->reset_count);
	sqlite3_bind_int64(st, 5, o->l->restart_count);
	if ((r = step_done(st)) < 0)
		return r;
	if ((st = stmt(s, Q_LOG_TRIM)) == NULL)
		return SC_ERR_INTERNAL;
	sqlite3_bind_text(st, 1, o->l->host, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, o->keep);
	return step_done(st);
}

static int
sq_log_attest(struct ks_store *st_, const struct ks_attest_log *l,
    unsigned int keep)
{
	struct log_op o = { l, keep };

	return with_tx(st_->impl, tx_log_attest, &o);
}

static int
sq_log_count(struct ks_store *st_, const char *host, uint64_t *n)
{
	struct sq *s = st_->impl;
	sqlite3_stmt *st;
	int rc, r;

	*n = 0;
	pthread_mutex_lock(&s->lock);
	if ((st = stmt(s, host ? Q_LOG_COUNT : Q_LOG_COUNT_ALL)) == NULL) {
		r = SC_ERR_INTERNAL;
		goto out;
	}
	if (host != NULL)
		sqlite3_bind_text(st, 1, host, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*n = (uint64_t)sqlite3_column_int64(st, 0);
		r = 0;
	} else {
		r = sq_err(rc);
	}
 out:
	done(st);
	pthread_mutex_unlock(&s->lock);
	return r;
}

static void
sq_close(struct ks_store *st_)
{
	struct sq *s;
	int i;

	if (st_ == NULL)
		return;
	s = st_->impl;
	for (i = 0; i < Q__COUNT; i++)
		sqlite3_finalize(s->stmt[i]);
	sqlite3_close(s->db);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

int
ks_store_sqlite_schema_version(void)
{
	return (int)(sizeof(migrations) / sizeof(migrations[0]));
}

static int
schema_version(struct sq *s, int *v)
{
	sqlite3_stmt *st = NULL;
	int rc;

	*v = 0;
	if (sqlite3_prepare_v2(s->db, "SELECT version FROM schema_version", -1,
	    &st, NULL) != SQLITE_OK) {
		/* No table yet: a new database. */
		return 0;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return (rc == SQLITE_ROW || rc == SQLITE_DONE) ? 0 : sq_err(rc);
}

/* Bring the schema up to this program's version; refuse a newer one. */
static int
tx_migrate(struct sq *s, void *arg)
{
	char sql[96];
	int v, r, target = ks_store_sqlite_schema_version();

	(void)arg;
	if ((r = schema_version(s, &v)) < 0)
		return r;
	if (v > target)
		return SC_ERR_VERSION;
	if (v == 0 && (r = exec(s, "CREATE TABLE IF NOT EXISTS schema_version"
	    " (version INTEGER NOT NULL);"
	    "DELETE FROM schema_version;"
	    "INSERT INTO schema_version VALUES (0)")) < 0)
		return r;
	for (; v < target; v++) {
		if ((r = exec(s, migrations[v])) < 0)
			return r;
	}
	snprintf(sql, sizeof(sql), "UPDATE schema_version SET version = %d",
	    target);
	return exec(s, sql);
}

static int
migrate(struct sq *s)
{
	int r = tx_locked(s, tx_migrate, NULL);

	return r < 0 ? r : 0;
}

int
ks_store_sqlite_open(const char *path, struct ks_store **out)
{
	struct sq *s;
	int fd, r;

	*out = NULL;
	/* Create it 0600 ourselves; SQLite gives -wal/-shm the same mode. */
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return errno == EACCES ? SC_ERR_PERM : SC_ERR_SYSTEM;
	close(fd);

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return SC_ERR_ALLOC;
	pthread_mutex_init(&s->lock, NULL);
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK) {
		r = SC_ERR_SYSTEM;
		goto fail;
	}
	sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
	if ((r = exec(s, "PRAGMA journal_mode=WAL")) < 0 ||
	    (r = exec(s, "PRAGMA synchronous=NORMAL")) < 0 ||
	    (r = exec(s, "PRAGMA foreign_keys=ON")) < 0 ||
	    /* challenges hold ephemeral secrets: overwrite deleted rows */
	    (r = exec(s, "PRAGMA secure_delete=ON")) < 0 ||
	    (r = migrate(s)) < 0)
		goto fail;

	s->store.impl = s;
	s->store.host_add = sq_host_add;
	s->store.host_activate = sq_host_activate;
	s->store.host_get = sq_host_get;
	s->store.host_delete = sq_host_delete;
	s->store.host_revoke = sq_host_revoke;
	s->store.host_list = sq_host_list;
	s->store.nonce_put = sq_nonce_put;
	s->store.nonce_take = sq_nonce_take;
	s->store.challenge_put = sq_challenge_put;
	s->store.challenge_take = sq_challenge_take;
	s->store.owner_put = sq_owner_put;
	s->store.owner_get = sq_owner_get;
	s->store.cert_put = sq_cert_put;
	s->store.cert_get = sq_cert_get;
	s->store.log_attest = sq_log_attest;
	s->store.log_count = sq_log_count;
	s->store.close = sq_close;
	*out = &s->store;
	return 0;
 fail:
	sqlite3_close(s->db);
	pthread_mutex_destroy(&s->lock);
	free(s);
	return r;
}
