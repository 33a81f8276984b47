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

#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <libpq-fe.h>

#include "core/err.h"
#include "ks_store.h"

#define LOCK_MIGRATE	"7340001"	/* advisory lock keys (bigint) */
#define LOCK_NONCES	"7340002"
#define RETRIES		3		/* serialization failure / deadlock */
#define NUM_MAX		24		/* decimal int64 and NUL */
#define PARAMS_MAX	16		/* parameters of one statement */
/* Client-side bound on one statement: the server's own is 10 s. */
#define QUERY_TIMEOUT_MS	15000

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
static const char Q_NONCE_PUT[] = "INSERT INTO nonces (nonce, expires, peer)"
    " VALUES ($1, $2, $3)";
static const char Q_NONCE_TAKE[] = "DELETE FROM nonces WHERE nonce = $1"
    " RETURNING expires";
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

struct pgconn {
	PGconn	*conn;
	int	 busy;
};

struct pg {
	struct ks_store	 store;
	char		*uri;
	pthread_mutex_t	 lock;		/* guards the pool slots only */
	pthread_cond_t	 freed;
	unsigned int	 n;
	struct pgconn	 pool[KS_PG_POOL_MAX];
};

/* Query parameters: text, or binary (bytea) when len > 0. */
struct params {
	int		 n;
	const char	*val[PARAMS_MAX];
	int		 len[PARAMS_MAX];
	int		 fmt[PARAMS_MAX];
	char		 num[PARAMS_MAX][NUM_MAX];
};

static void
p_text(struct params *p, const char *s)
{
	p->val[p->n] = s;
	p->len[p->n] = 0;
	p->fmt[p->n++] = 0;
}

static void
p_bin(struct params *p, const void *b, size_t len)
{
	p->val[p->n] = b;
	p->len[p->n] = (int)len;
	p->fmt[p->n++] = 1;
}

static void
p_int(struct params *p, int64_t v)
{
	snprintf(p->num[p->n], NUM_MAX, "%lld", (long long)v);
	p_text(p, p->num[p->n]);
}

/* ---- connections ---- */

/* Server notices ("already exists, skipping") are not ours to print. */
static void
notice_quiet(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

static PGconn *
pg_connect(const char *uri)
{
	/*
	 * A database that stops answering must not hold worker threads for
	 * minutes: connect, TCP and statement timeouts, and the server drops
	 * a transaction left idle (its advisory lock with it).  The URI comes
	 * last so what it says wins.
	 */
	static const char *const keys[] = { "connect_timeout", "keepalives",
	    "keepalives_idle", "keepalives_interval", "keepalives_count",
	    "tcp_user_timeout", "options", "application_name", "dbname", NULL };
	const char *vals[] = { KS_PG_CONNECT_TIMEOUT, "1", "5", "2", "3",
	    "10000", "-c statement_timeout=10000 -c lock_timeout=5000"
	    " -c idle_in_transaction_session_timeout=10000",
	    "sccrypt-keyserver", uri, NULL };
	PGconn *c = PQconnectdbParams(keys, vals, 1);

	if (c != NULL && PQstatus(c) != CONNECTION_OK) {
		PQfinish(c);
		c = NULL;
	}
	if (c != NULL)
		PQsetNoticeProcessor(c, notice_quiet, NULL);
	return c;
}

/*
 * An idle connection has nothing to read: if it has, the server said
 * goodbye (restart, terminated backend) or hung up.  Caught here, a
 * database restart costs no request an error.
 */
static int
conn_stale(PGconn *c)
{
	struct pollfd pfd;

	pfd.fd = PQsocket(c);
	pfd.events = POLLIN;
	pfd.revents = 0;
	return pfd.fd < 0 || poll(&pfd, 1, 0) != 0;
}

/* A pool slot, connected; NULL (and *r) if the database is unreachable. */
static struct pgconn *
conn_get(struct pg *p, int *r)
{
	struct pgconn *pc = NULL;
	unsigned int i;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		for (i = 0; i < p->n && p->pool[i].busy; i++)
			;
		if (i < p->n)
			break;
		pthread_cond_wait(&p->freed, &p->lock);
	}
	pc = &p->pool[i];
	pc->busy = 1;
	pthread_mutex_unlock(&p->lock);

	if (pc->conn != NULL && (PQstatus(pc->conn) != CONNECTION_OK ||
	    conn_stale(pc->conn))) {
		PQfinish(pc->conn);
		pc->conn = NULL;
	}
	if (pc->conn == NULL && (pc->conn = pg_connect(p->uri)) == NULL) {
		*r = SC_ERR_AGAIN;
		pthread_mutex_lock(&p->lock);
		pc->busy = 0;
		pthread_cond_signal(&p->freed);
		pthread_mutex_unlock(&p->lock);
		return NULL;
	}
	return pc;
}

static void
conn_put(struct pg *p, struct pgconn *pc)
{
	/* Left inside a transaction (should not happen): start afresh. */
	if (pc->conn != NULL && PQtransactionStatus(pc->conn) != PQTRANS_IDLE) {
		PQfinish(pc->conn);
		pc->conn = NULL;
	}
	pthread_mutex_lock(&p->lock);
	pc->busy = 0;
	pthread_cond_signal(&p->freed);
	pthread_mutex_unlock(&p->lock);
}

/* The SC_ERR_* for a failed result on c. */
static int
pg_err(PGconn *c, const PGresult *res)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) :
	    NULL;

	if (PQstatus(c) != CONNECTION_OK)
		return SC_ERR_AGAIN;
	if (state == NULL)
		return SC_ERR_SYSTEM;
	if (strcmp(state, "23505") == 0)	/* unique_violation */
		return SC_ERR_BUSY;
	if (strcmp(state, "40001") == 0 ||	/* serialization_failure */
	    strcmp(state, "40P01") == 0)	/* deadlock_detected */
		return SC_ERR_STATE;
	if (strncmp(state, "08", 2) == 0 ||	/* connection exception */
	    strcmp(state, "57P01") == 0 ||	/* admin_shutdown */
	    strcmp(state, "57P02") == 0 ||	/* crash_shutdown */
	    strcmp(state, "57P03") == 0 ||	/* cannot_connect_now */
	    strcmp(state, "25006") == 0)	/* read_only_sql_transaction */
		return SC_ERR_AGAIN;
	if (strncmp(state, "53", 2) == 0 ||	/* insufficient resources */
	    strcmp(state, "57014") == 0 ||	/* statement timeout */
	    strcmp(state, "55P03") == 0)	/* lock_not_available */
		return SC_ERR_BUSY;
	return SC_ERR_SYSTEM;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Wait for the results of the query just sent, at most QUERY_TIMEOUT_MS (a
 * database host that stopped answering must not hold this thread): the
 * first failed result's error, or 0 and *out the last result.  On timeout
 * the connection is shut down (conn_put then drops it) and SC_ERR_AGAIN.
 */
static int
collect(PGconn *c, PGresult **out)
{
	int64_t deadline = now_ms() + QUERY_TIMEOUT_MS, left;
	struct pollfd pfd;
	PGresult *res;
	ExecStatusType st;
	int r = 0;

	*out = NULL;
	for (;;) {
		while (PQisBusy(c)) {
			if ((left = deadline - now_ms()) <= 0) {
				shutdown(PQsocket(c), SHUT_RDWR);
				r = SC_ERR_AGAIN;
				goto out;
			}
			pfd.fd = PQsocket(c);
			pfd.events = POLLIN;
			pfd.revents = 0;
			if (poll(&pfd, 1, (int)left) < 0 || PQconsumeInput(c) == 0) {
				r = SC_ERR_AGAIN;
				goto out;
			}
		}
		if ((res = PQgetResult(c)) == NULL)
			break;
		st = PQresultStatus(res);
		if (r == 0 && st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
			r = pg_err(c, res);
		PQclear(*out);
		*out = res;
	}
 out:
	if (r < 0) {
		PQclear(*out);
		*out = NULL;
		if (PQstatus(c) != CONNECTION_OK)
			r = SC_ERR_AGAIN;
	}
	return r;
}

/*
 * Run sql with p (binary results); *out the result if it returned rows.
 * 0, or the SC_ERR_* of the failure.
 */
static int
run(PGconn *c, const char *sql, const struct params *p, PGresult **out,
    int *changes)
{
	PGresult *res;
	int r;

	if (out != NULL)
		*out = NULL;
	if (PQsendQueryParams(c, sql, p ? p->n : 0, NULL, p ? p->val : NULL,
	    p ? p->len : NULL, p ? p->fmt : NULL, 1) != 1)
		return pg_err(c, NULL);
	if ((r = collect(c, &res)) < 0)
		return r;
	if (res == NULL)
		return SC_ERR_SYSTEM;
	if (changes != NULL)
		*changes = atoi(PQcmdTuples(res));
	if (out != NULL)
		*out = res;
	else
		PQclear(res);
	return 0;
}

/* Parameterless statement(s), results discarded (migrations may be several). */
static int
exec0(PGconn *c, const char *sql)
{
	PGresult *res;
	int r;

	if (PQsendQuery(c, sql) != 1)
		return pg_err(c, NULL);
	r = collect(c, &res);
	PQclear(res);
	return r;
}

static void
rollback(PGconn *c)
{
	if (PQstatus(c) == CONNECTION_OK)
		(void)exec0(c, "ROLLBACK");
}

/*
 * body in one transaction on c: committed when it returns >= 0, rolled back
 * when it (or the COMMIT) fails.  Returns body's value or the error.
 */
static int
pg_tx(PGconn *c, int (*body)(PGconn *, void *), void *arg)
{
	int r, k;

	if ((r = exec0(c, "BEGIN")) < 0)
		return r;
	if ((r = body(c, arg)) >= 0 && (k = exec0(c, "COMMIT")) < 0)
		r = k;
	if (r < 0)
		rollback(c);
	return r;
}

/* Binary int8 (or int4) column; -1 if NULL or another size. */
static int
col_i64(const PGresult *res, int row, int col, int64_t *v)
{
	const unsigned char *b;
	uint64_t u = 0;
	int i, n;

	if (PQgetisnull(res, row, col))
		return -1;
	b = (const unsigned char *)PQgetvalue(res, row, col);
	n = PQgetlength(res, row, col);
	if (n != 8 && n != 4)
		return -1;
	for (i = 0; i < n; i++)
		u = (u << 8) | b[i];
	*v = n == 8 ? (int64_t)u : (int64_t)(int32_t)(uint32_t)u;
	return 0;
}

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
	    col_i64(res, row, 10, &ek) < 0 ||
	    col_i64(res, row, 11, &activated) < 0 ||
	    col_i64(res, row, 12, &act_expires) < 0 ||
	    blob_len < 0 || (size_t)blob_len > sizeof(h->cred_blob) ||
	    enc_len < 0 || (size_t)enc_len > sizeof(h->cred_enc) ||
	    col_i64(res, row, 3, &restricted) < 0 ||
	    col_i64(res, row, 4, &mask) < 0 ||
	    col_i64(res, row, 6, &key_pcr) < 0 ||
	    col_i64(res, row, 7, &enrolled) < 0 ||
	    col_i64(res, row, 8, &revoked) < 0 ||
	    col_i64(res, row, 9, &revoked_at) < 0 ||
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

#define PG_BEGIN(st)	struct pg *p = (st)->impl; \
			struct pgconn *pc; \
			int r = 0; \
			if ((pc = conn_get(p, &r)) == NULL) \
				return r
#define PG_END()	conn_put(p, pc)

static int
pg_host_add(struct ks_store *st, const struct ks_host *h)
{
	struct params a = { 0 };
	PG_BEGIN(st);

	p_text(&a, h->name);
	p_bin(&a, h->ak_spki, h->ak_spki_len);
	p_text(&a, h->ak_desc);
	p_int(&a, h->ak_restricted);
	p_int(&a, h->policy.pcr_mask);
	p_bin(&a, h->policy.pcrs, sizeof(h->policy.pcrs));
	p_int(&a, h->policy.key_pcr);
	p_int(&a, (int64_t)h->enrolled);
	p_int(&a, h->ak_ek);
	p_int(&a, h->ak_activated);
	/* A NULL value is SQL NULL: no challenge for an activated AK. */
	p_bin(&a, h->ak_activated ? NULL : h->act_digest, sizeof(h->act_digest));
	p_int(&a, (int64_t)h->act_expires);
	p_bin(&a, h->ak_activated ? NULL : h->cred_blob, h->cred_blob_len);
	p_bin(&a, h->ak_activated ? NULL : h->cred_enc, h->cred_enc_len);
	r = run(pc->conn, Q_HOST_ADD, &a, NULL, NULL);
	PG_END();
	return r;
}

static int
pg_host_activate(struct ks_store *st, const char *name,
    const uint8_t digest[KS_DIGEST_LEN], uint64_t now)
{
	struct params a = { 0 };
	PGresult *res;
	int64_t ok, fresh;
	PG_BEGIN(st);

	p_text(&a, name);
	p_bin(&a, digest, KS_DIGEST_LEN);
	p_int(&a, (int64_t)now);
	if ((r = run(pc->conn, Q_HOST_ACTIVATE, &a, &res, NULL)) == 0) {
		if (PQntuples(res) != 1)
			r = SC_ERR_NOTFOUND;
		else if (col_i64(res, 0, 0, &ok) < 0 ||
		    col_i64(res, 0, 1, &fresh) < 0)
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
	struct params a = { 0 };
	PGresult *res;
	PG_BEGIN(st);

	p_text(&a, name);
	if ((r = run(pc->conn, Q_HOST_GET, &a, &res, NULL)) == 0) {
		r = PQntuples(res) == 1 ? host_row(res, 0, h) : SC_ERR_NOTFOUND;
		PQclear(res);
	}
	PG_END();
	return r;
}

static int
pg_host_delete(struct ks_store *st, const char *name)
{
	struct params a = { 0 };
	int n = 0;
	PG_BEGIN(st);

	/* certs go with it: ON DELETE CASCADE. */
	p_text(&a, name);
	if ((r = run(pc->conn, Q_HOST_DEL, &a, NULL, &n)) == 0 && n == 0)
		r = SC_ERR_NOTFOUND;
	PG_END();
	return r;
}

/* Mark the host revoked, drop its certificate; returns hosts revoked. */
static int
tx_host_revoke(PGconn *c, void *arg)
{
	struct params *a = arg;
	int r, n = 0;

	if ((r = run(c, Q_HOST_REVOKE, a, NULL, &n)) < 0)
		return r;
	a->n = 1;
	if ((r = run(c, Q_CERT_DEL, a, NULL, NULL)) < 0)
		return r;
	return n;
}

static int
pg_host_revoke(struct ks_store *st, const char *name, uint64_t now)
{
	struct params a = { 0 };
	PG_BEGIN(st);

	p_text(&a, name);
	p_int(&a, (int64_t)now);
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
	r = run(pc->conn, Q_HOST_LIST, NULL, &res, NULL);
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
	struct params a = { 0 };
	PGresult *res;
	int64_t n = 0;
	char top[KS_PEER_MAX + 1];
	int r;

	if ((r = run(c, Q_NONCE_TOP_PEER, NULL, &res, NULL)) < 0)
		return r;
	if (PQntuples(res) != 1 || col_i64(res, 0, 1, &n) < 0) {
		PQclear(res);
		return SC_ERR_ALLOC;
	}
	snprintf(top, sizeof(top), "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	if (n <= mine + 1)
		return SC_ERR_ALLOC;
	p_text(&a, top);
	return run(c, Q_NONCE_EVICT, &a, NULL, NULL);
}

struct nonce_op {
	const uint8_t	*nonce;
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
	struct params a = { 0 };
	PGresult *res;
	int64_t total = 0, mine = 0;
	int r;

	/* Serialises issuance across every instance until COMMIT. */
	if ((r = exec0(c, Q_NONCE_LOCK)) < 0)
		return r;
	p_int(&a, (int64_t)now);
	if ((r = run(c, Q_NONCE_PURGE, &a, NULL, NULL)) < 0)
		return r;
	a.n = 0;
	p_text(&a, peer);
	if ((r = run(c, Q_NONCE_COUNT, &a, &res, NULL)) < 0)
		return r;
	if (PQntuples(res) != 1 || col_i64(res, 0, 0, &total) < 0 ||
	    col_i64(res, 0, 1, &mine) < 0)
		r = SC_ERR_CORRUPT;
	PQclear(res);
	if (r < 0)
		return r;
	if (max_peer != 0 && mine >= (int64_t)max_peer)
		return SC_ERR_LIMIT;
	if (total >= (int64_t)max_live && (r = nonce_evict(c, mine)) < 0)
		return r;
	a.n = 0;
	p_bin(&a, nonce, KS_NONCE_LEN);
	p_int(&a, (int64_t)expires);
	p_text(&a, peer);
	return run(c, Q_NONCE_PUT, &a, NULL, NULL);
}

static int
pg_nonce_put(struct ks_store *st, const uint8_t nonce[KS_NONCE_LEN],
    const char *peer, uint64_t expires, uint64_t now, unsigned int max_live,
    unsigned int max_peer)
{
	struct nonce_op o = { nonce, peer, expires, now, max_live, max_peer };
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
	struct params a = { 0 };
	PGresult *res;
	int64_t expires = 0;

	if (len != KS_NONCE_LEN)
		return SC_ERR_NOTFOUND;
	{
		PG_BEGIN(st);

		/* One statement: of racing takers exactly one gets the row. */
		p_bin(&a, nonce, len);
		if ((r = run(pc->conn, Q_NONCE_TAKE, &a, &res, NULL)) == 0) {
			if (PQntuples(res) != 1)
				r = SC_ERR_NOTFOUND;
			else if (col_i64(res, 0, 0, &expires) < 0)
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
	struct params a = { 0 };
	int n = 0;
	PG_BEGIN(st);

	p_text(&a, h->name);
	p_bin(&a, cert, len);
	p_int(&a, (int64_t)issued);
	p_int(&a, (int64_t)expires);
	p_bin(&a, h->ak_spki, h->ak_spki_len);
	p_int(&a, (int64_t)h->enrolled);
	if ((r = run(pc->conn, Q_CERT_PUT, &a, NULL, &n)) == 0 && n == 0)
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
	struct params a = { 0 };
	PGresult *res;
	int64_t e = 0;
	int n;
	PG_BEGIN(st);

	p_text(&a, host);
	if ((r = run(pc->conn, Q_CERT_GET, &a, &res, NULL)) < 0)
		goto out;
	n = PQntuples(res) == 1 ? PQgetlength(res, 0, 0) : -1;
	if (PQntuples(res) == 0)
		r = SC_ERR_NOTFOUND;
	else if (n <= 0 || col_i64(res, 0, 1, &e) < 0)
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
	struct params	a;
	unsigned int	keep;
};

/* Append the row, then trim the host's rows beyond keep (oldest first). */
static int
tx_log_attest(PGconn *c, void *arg)
{
	struct log_op *o = arg;
	int r;

	if ((r = run(c, Q_LOG, &o->a, NULL, NULL)) < 0)
		return r;
	o->a.n = 1;
	p_int(&o->a, o->keep);
	return run(c, Q_LOG_TRIM, &o->a, NULL, NULL);
}

static int
pg_log_attest(struct ks_store *st, const struct ks_attest_log *l,
    unsigned int keep)
{
	struct log_op o = { .keep = keep };
	PG_BEGIN(st);

	p_text(&o.a, l->host);
	p_int(&o.a, (int64_t)l->time);
	p_text(&o.a, ks_result_code(l->result));
	p_int(&o.a, l->reset_count);
	p_int(&o.a, l->restart_count);
	r = pg_tx(pc->conn, tx_log_attest, &o);
	PG_END();
	return r < 0 ? r : 0;
}

static int
pg_log_count(struct ks_store *st, const char *host, uint64_t *n)
{
	struct params a = { 0 };
	PGresult *res;
	int64_t v = 0;

	*n = 0;
	{
		PG_BEGIN(st);

		if (host != NULL)
			p_text(&a, host);
		r = run(pc->conn, host ? Q_LOG_COUNT : Q_LOG_COUNT_ALL, &a,
		    &res, NULL);
		if (r == 0) {
			if (PQntuples(res) != 1 || col_i64(res, 0, 0, &v) < 0)
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
	for (i = 0; i < p->n; i++)
		if (p->pool[i].conn != NULL)
			PQfinish(p->pool[i].conn);
	pthread_cond_destroy(&p->freed);
	pthread_mutex_destroy(&p->lock);
	free(p->uri);
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
	struct params a = { 0 };
	PGresult *res;
	int64_t v = 0;
	int r, target = ks_store_pg_schema_version();

	(void)arg;

	if ((r = exec0(c, "SELECT pg_advisory_xact_lock(" LOCK_MIGRATE ")")) < 0 ||
	    (r = exec0(c, "CREATE TABLE IF NOT EXISTS schema_version"
	    " (version BIGINT NOT NULL)")) < 0 ||
	    (r = run(c, "SELECT version FROM schema_version", NULL, &res,
	    NULL)) < 0)
		return r;
	if (PQntuples(res) > 1 ||
	    (PQntuples(res) == 1 && col_i64(res, 0, 0, &v) < 0))
		r = SC_ERR_CORRUPT;
	PQclear(res);
	if (r < 0)
		return r;
	if (v > target || v < 0)
		return SC_ERR_VERSION;
	if (v == target)
		return 0;
	if (v == 0 && ((r = exec0(c, "DELETE FROM schema_version")) < 0 ||
	    (r = exec0(c, "INSERT INTO schema_version VALUES (0)")) < 0))
		return r;
	for (; v < target; v++)
		if ((r = exec0(c, migrations[v])) < 0)
			return r;
	p_int(&a, target);
	return run(c, "UPDATE schema_version SET version = $1", &a, NULL, NULL);
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
	if ((p->uri = strdup(uri)) == NULL) {
		free(p);
		return SC_ERR_ALLOC;
	}
	p->n = pool;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->freed, NULL);
	p->store.impl = p;
	/* The first connection now: a wrong URI or schema fails at start. */
	if ((p->pool[0].conn = pg_connect(uri)) == NULL) {
		r = SC_ERR_AGAIN;
		goto fail;
	}
	if ((r = migrate(p->pool[0].conn)) < 0)
		goto fail;

	p->store.host_add = pg_host_add;
	p->store.host_get = pg_host_get;
	p->store.host_delete = pg_host_delete;
	p->store.host_revoke = pg_host_revoke;
	p->store.host_list = pg_host_list;
	p->store.nonce_put = pg_nonce_put;
	p->store.nonce_take = pg_nonce_take;
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
