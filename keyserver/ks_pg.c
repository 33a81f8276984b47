/*
 * ks_pg.c — libpq plumbing of the PostgreSQL store (contract in ks_pg.h).
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
#include "ks_pg.h"

/* Client-side bound on one statement: the server's own is 10 s. */
#define QUERY_TIMEOUT_MS	15000

void
pg_text(struct pg_params *p, const char *s)
{
	p->val[p->n] = s;
	p->len[p->n] = 0;
	p->fmt[p->n++] = 0;
}

void
pg_bin(struct pg_params *p, const void *b, size_t len)
{
	p->val[p->n] = b;
	p->len[p->n] = (int)len;
	p->fmt[p->n++] = 1;
}

void
pg_int(struct pg_params *p, int64_t v)
{
	snprintf(p->num[p->n], NUM_MAX, "%lld", (long long)v);
	pg_text(p, p->num[p->n]);
}

/* Server notices ("already exists, skipping") are not ours to print. */
static void
notice_quiet(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

PGconn *
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
struct pgconn *
pg_pool_get(struct pg_pool *p, int *r)
{
	struct pgconn *pc = NULL;
	unsigned int i;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		for (i = 0; i < p->n && p->slot[i].busy; i++)
			;
		if (i < p->n)
			break;
		pthread_cond_wait(&p->freed, &p->lock);
	}
	pc = &p->slot[i];
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

void
pg_pool_put(struct pg_pool *p, struct pgconn *pc)
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
int
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
int
pg_run(PGconn *c, const char *sql, const struct pg_params *p, PGresult **out,
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
int
pg_exec(PGconn *c, const char *sql)
{
	PGresult *res;
	int r;

	if (PQsendQuery(c, sql) != 1)
		return pg_err(c, NULL);
	r = collect(c, &res);
	PQclear(res);
	return r;
}

void
pg_rollback(PGconn *c)
{
	if (PQstatus(c) == CONNECTION_OK)
		(void)pg_exec(c, "ROLLBACK");
}

/*
 * body in one transaction on c: committed when it returns >= 0, rolled back
 * when it (or the COMMIT) fails.  Returns body's value or the error.
 */
int
pg_tx(PGconn *c, int (*body)(PGconn *, void *), void *arg)
{
	int r, k;

	if ((r = pg_exec(c, "BEGIN")) < 0)
		return r;
	if ((r = body(c, arg)) >= 0 && (k = pg_exec(c, "COMMIT")) < 0)
		r = k;
	if (r < 0)
		pg_rollback(c);
	return r;
}

/* Binary int8 (or int4) column; -1 if NULL or another size. */
int
pg_col_i64(const PGresult *res, int row, int col, int64_t *v)
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
