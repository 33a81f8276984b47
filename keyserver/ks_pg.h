/*
 * ks_pg.h — libpq plumbing of the PostgreSQL store (ks_store_pg.c): a
 * bounded pool of connections made on demand and remade after a failure,
 * statement parameters, one statement with a client-side timeout, and one
 * transaction around a body.  Errors are SC_ERR_* (pg_err() maps SQLSTATE).
 */
#ifndef KS_PG_H
#define KS_PG_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "ks_store.h"	/* KS_PG_POOL_MAX, KS_PG_CONNECT_TIMEOUT */

#define NUM_MAX		24		/* decimal int64 and NUL */
#define PARAMS_MAX	16		/* parameters of one statement */

/* Query parameters: text, or binary (bytea) when len > 0. */
struct pg_params {
	int		 n;
	const char	*val[PARAMS_MAX];
	int		 len[PARAMS_MAX];
	int		 fmt[PARAMS_MAX];
	char		 num[PARAMS_MAX][NUM_MAX];
};

struct pgconn {
	PGconn	*conn;
	int	 busy;
};

struct pg_pool {
	char		*uri;
	pthread_mutex_t	 lock;		/* guards the slots' busy flags only */
	pthread_cond_t	 freed;
	unsigned int	 n;
	struct pgconn	 slot[KS_PG_POOL_MAX];
};

/* Append a text, binary (bytea) or integer parameter. */
void	pg_text(struct pg_params *p, const char *s);
void	pg_bin(struct pg_params *p, const void *b, size_t len);
void	pg_int(struct pg_params *p, int64_t v);

/* A connection with the store's timeouts, or NULL. */
PGconn	*pg_connect(const char *uri);
/* A pool slot, connected (waits for a free one); NULL and *r if unreachable. */
struct pgconn *pg_pool_get(struct pg_pool *p, int *r);
void	pg_pool_put(struct pg_pool *p, struct pgconn *pc);

/* The SC_ERR_* for a failed result on c (res may be NULL). */
int	pg_err(PGconn *c, const PGresult *res);
/*
 * Run sql with parameters p (may be NULL); rows into *out (PQclear it) when
 * out is not NULL; affected rows into *changes when not NULL.
 */
int	pg_run(PGconn *c, const char *sql, const struct pg_params *p,
	    PGresult **out, int *changes) __attribute__((warn_unused_result));
/* Parameterless statement(s), results discarded. */
int	pg_exec(PGconn *c, const char *sql);
void	pg_rollback(PGconn *c);
/*
 * body in one transaction on c: committed when it returns >= 0, rolled back
 * when it (or the COMMIT) fails.  Returns body's value or the error.
 */
int	pg_tx(PGconn *c, int (*body)(PGconn *, void *), void *arg)
	    __attribute__((warn_unused_result));
/* Binary int8 (or int4) column; -1 if NULL or another size. */
int	pg_col_i64(const PGresult *res, int row, int col, int64_t *v);

#endif /* KS_PG_H */
