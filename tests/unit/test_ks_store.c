/*
 * test_ks_store.c — the storage contract of struct ks_store, run against
 * both engines: SQLite always, PostgreSQL when KS_TEST_PG names a database
 * URI (tests/integration/ks-store-pg.sh starts a real server and runs this
 * program with it).  The contract: hosts, nonces (single use, quotas),
 * certificates (only for the host as checked), audit trim, persistence
 * across reopen, concurrent use from several threads and from two store
 * handles on one database (two key servers).  Engine-specific: SQLite file
 * mode, WAL and migrations from version 1; PostgreSQL migrations, a newer
 * schema refused, an unreachable server.
 */
#include "config.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <libpq-fe.h>
#include <sodium.h>
#include <sqlite3.h>

#include "core/err.h"
#include "secmem.h"
#include "ks_store.h"

static char tmpdir[128], dbpath[256];
static const char *spec;	/* what the contract tests open: dbpath or URI */

/* Run sql on the PostgreSQL test database; 0 if it succeeded. */
static int
pg_sql(const char *sql)
{
	PGconn *c = PQconnectdb(spec);
	PGresult *res;
	int ok;

	if (PQstatus(c) != CONNECTION_OK) {
		PQfinish(c);
		return -1;
	}
	PQclear(PQexec(c, "SET client_min_messages = warning"));
	res = PQexec(c, sql);
	ok = PQresultStatus(res) == PGRES_COMMAND_OK ||
	    PQresultStatus(res) == PGRES_TUPLES_OK;
	PQclear(res);
	PQfinish(c);
	return ok ? 0 : -1;
}

static int
setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "%s/test_ks_store.XXXXXX",
	    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	assert_non_null(mkdtemp(tmpdir));
	snprintf(dbpath, sizeof(dbpath), "%s/ks.db", tmpdir);
	spec = dbpath;
	return 0;
}

/* The same, with an empty PostgreSQL database as the store. */
static int
setup_pg(void **state)
{
	setup(state);
	spec = getenv("KS_TEST_PG");
	assert_int_equal(pg_sql("DROP SCHEMA IF EXISTS public CASCADE;"
	    " CREATE SCHEMA public"), 0);
	return 0;
}

static int
open_store(struct ks_store **s)
{
	return ks_store_open(spec, 4, s);
}

static int
teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static void
mkhost(struct ks_host *h, const char *name)
{
	unsigned int i;

	memset(h, 0, sizeof(*h));
	snprintf(h->name, sizeof(h->name), "%s", name);
	h->ak_spki_len = 91;
	for (i = 0; i < h->ak_spki_len; i++)
		h->ak_spki[i] = (uint8_t)(i * 7);
	snprintf(h->ak_desc, sizeof(h->ak_desc), "ecc-p256");
	h->ak_restricted = 1;
	h->policy.pcr_mask = 0x81;
	memset(h->policy.pcrs[0], 0xa0, 32);
	memset(h->policy.pcrs[7], 0xa7, 32);
	h->policy.key_pcr = 15;
	h->enrolled = 1700000000;
	h->ak_activated = 1;
}

static int
count_cb(void *arg, const struct ks_host *h)
{
	int *n = arg;

	(void)h;
	(*n)++;
	return 0;
}

static void
test_hosts_and_certs(void **state)
{
	struct ks_store *s;
	struct ks_host h, g;
	uint8_t cert[64], out[64];
	size_t len;
	uint64_t exp;
	struct stat st;
	int n = 0;

	(void)state;
	assert_int_equal(open_store(&s), 0);
	if (spec == dbpath) {
		assert_int_equal(stat(dbpath, &st), 0);
		assert_int_equal(st.st_mode & 0777, 0600);
	}

	mkhost(&h, "b-host");
	assert_int_equal(s->host_add(s, &h), 0);
	assert_int_equal(s->host_add(s, &h), SC_ERR_BUSY);
	mkhost(&h, "a-host");
	assert_int_equal(s->host_add(s, &h), 0);
	assert_int_equal(s->host_get(s, "a-host", &g), 0);
	assert_string_equal(g.name, "a-host");
	assert_int_equal(g.ak_spki_len, 91);
	assert_memory_equal(g.ak_spki, h.ak_spki, 91);
	assert_string_equal(g.ak_desc, "ecc-p256");
	assert_int_equal(g.ak_restricted, 1);
	assert_int_equal(g.policy.pcr_mask, 0x81);
	assert_memory_equal(g.policy.pcrs, h.policy.pcrs, sizeof(h.policy.pcrs));
	assert_int_equal(g.policy.key_pcr, 15);
	assert_int_equal(g.enrolled, 1700000000);
	assert_int_equal(g.revoked, 0);
	assert_int_equal(s->host_get(s, "nobody", &g), SC_ERR_NOTFOUND);
	assert_int_equal(s->host_list(s, count_cb, &n), 0);
	assert_int_equal(n, 2);

	memset(cert, 0x33, sizeof(cert));
	assert_int_equal(s->cert_get(s, "a-host", out, sizeof(out), &len, &exp),
	    SC_ERR_NOTFOUND);
	assert_int_equal(s->cert_put(s, &h, cert, 40, 10, 20), 0);
	cert[0] = 0x44;
	assert_int_equal(s->cert_put(s, &h, cert, 50, 11, 21), 0);
	assert_int_equal(s->cert_get(s, "a-host", out, sizeof(out), &len, &exp), 0);
	assert_int_equal(len, 50);
	assert_int_equal(exp, 21);
	assert_int_equal(out[0], 0x44);
	assert_int_equal(s->cert_get(s, "a-host", out, 10, &len, &exp),
	    SC_ERR_NOSPACE);
	/* Certificates only for enrolled hosts, with the AK checked. */
	mkhost(&g, "nobody");
	assert_int_equal(s->cert_put(s, &g, cert, 40, 10, 20), SC_ERR_NOTFOUND);
	mkhost(&g, "a-host");
	g.ak_spki[3] ^= 1;
	assert_int_equal(s->cert_put(s, &g, cert, 40, 10, 20), SC_ERR_NOTFOUND);
	mkhost(&g, "a-host");
	g.enrolled++;
	assert_int_equal(s->cert_put(s, &g, cert, 40, 10, 20), SC_ERR_NOTFOUND);
	assert_int_equal(s->cert_get(s, "a-host", out, sizeof(out), &len, &exp), 0);
	assert_int_equal(out[0], 0x44);

	/* Revocation drops the certificate, blocks new ones, survives reopen. */
	assert_int_equal(s->host_revoke(s, "a-host", 1700000500), 0);
	assert_int_equal(s->host_revoke(s, "nobody", 1), SC_ERR_NOTFOUND);
	assert_int_equal(s->cert_get(s, "a-host", out, sizeof(out), &len, &exp),
	    SC_ERR_NOTFOUND);
	assert_int_equal(s->cert_put(s, &h, cert, 40, 10, 20), SC_ERR_NOTFOUND);
	mkhost(&g, "b-host");
	assert_int_equal(s->cert_put(s, &g, cert, 40, 10, 20), 0);
	s->close(s);

	assert_int_equal(open_store(&s), 0);
	assert_int_equal(s->host_get(s, "a-host", &g), 0);
	assert_int_equal(g.revoked, 1);
	assert_int_equal(g.revoked_at, 1700000500);
	assert_int_equal(s->cert_get(s, "b-host", out, sizeof(out), &len, &exp), 0);
	assert_int_equal(s->host_delete(s, "b-host"), 0);
	assert_int_equal(s->host_delete(s, "b-host"), SC_ERR_NOTFOUND);
	assert_int_equal(s->cert_get(s, "b-host", out, sizeof(out), &len, &exp),
	    SC_ERR_NOTFOUND);
	s->close(s);
}

static void
test_nonces(void **state)
{
	struct ks_store *s;
	uint8_t n1[32], n2[32], n3[32];

	(void)state;
	randombytes_buf(n1, 32);
	randombytes_buf(n2, 32);
	randombytes_buf(n3, 32);
	assert_int_equal(open_store(&s), 0);
	assert_int_equal(s->nonce_put(s, n1, "a", 110, 100, 2, 0), 0);
	assert_int_equal(s->nonce_put(s, n2, "a", 200, 100, 2, 0), 0);
	assert_int_equal(s->nonce_put(s, n3, "a", 200, 100, 2, 0), SC_ERR_ALLOC);
	assert_int_equal(s->nonce_put(s, n3, "b", 200, 100, 3, 1), 0);
	assert_int_equal(s->nonce_put(s, n3, "b", 200, 100, 4, 1), SC_ERR_LIMIT);
	assert_int_equal(s->nonce_take(s, n3, 32, 150), 0);
	assert_int_equal(s->nonce_put(s, n1, "a", 200, 100, 3, 0), SC_ERR_BUSY);
	/* Single use. */
	assert_int_equal(s->nonce_take(s, n2, 32, 150), 0);
	assert_int_equal(s->nonce_take(s, n2, 32, 150), SC_ERR_NOTFOUND);
	/* Expired: refused, and gone. */
	assert_int_equal(s->nonce_take(s, n1, 32, 110), SC_ERR_EXPIRED);
	assert_int_equal(s->nonce_take(s, n1, 32, 100), SC_ERR_NOTFOUND);
	assert_int_equal(s->nonce_take(s, n3, 32, 100), SC_ERR_NOTFOUND);
	assert_int_equal(s->nonce_take(s, n3, 16, 100), SC_ERR_NOTFOUND);
	/* Expired nonces do not count against the limit. */
	assert_int_equal(s->nonce_put(s, n1, "a", 300, 250, 1, 0), 0);
	assert_int_equal(s->nonce_put(s, n2, "a", 400, 310, 1, 0), 0);
	/* Outstanding nonces survive a restart. */
	s->close(s);
	assert_int_equal(open_store(&s), 0);
	assert_int_equal(s->nonce_take(s, n2, 32, 320), 0);
	s->close(s);
}

/*
 * Ownership-token challenges share the nonce table (and its quotas) but
 * neither kind of take returns the other kind; single use, expiry, the
 * UUID and ephemeral secret come back as stored.  Owner registrations:
 * first wins, the same key again is a no-op, another key only with
 * replace.
 */
static void
test_owners(void **state)
{
	struct ks_store *s;
	uint8_t n1[32], n2[32], n3[32], u1[16], u2[16], k1[32], k2[32];
	uint8_t uo[16], eo[32], ko[32];

	(void)state;
	randombytes_buf(n1, 32);
	randombytes_buf(n2, 32);
	randombytes_buf(n3, 32);
	randombytes_buf(u1, 16);
	randombytes_buf(u2, 16);
	randombytes_buf(k1, 32);
	randombytes_buf(k2, 32);
	assert_int_equal(open_store(&s), 0);
	assert_int_equal(s->challenge_put(s, n1, u1, k1, "a", 200, 100, 3, 2), 0);
	assert_int_equal(s->challenge_put(s, n2, u2, k2, "a", 110, 100, 3, 2), 0);
	/* The per-address quota counts challenges and nonces together. */
	assert_int_equal(s->nonce_put(s, n3, "a", 200, 100, 3, 2), SC_ERR_LIMIT);
	assert_int_equal(s->nonce_put(s, n3, "b", 200, 100, 3, 2), 0);
	/* Kinds do not mix: neither take consumes the other kind. */
	assert_int_equal(s->nonce_take(s, n1, 32, 150), SC_ERR_NOTFOUND);
	assert_int_equal(s->challenge_take(s, n3, 150, uo, eo), SC_ERR_NOTFOUND);
	assert_int_equal(s->nonce_take(s, n3, 32, 150), 0);
	/* Single use, with what was stored. */
	assert_int_equal(s->challenge_take(s, n1, 150, uo, eo), 0);
	assert_memory_equal(uo, u1, 16);
	assert_memory_equal(eo, k1, 32);
	assert_int_equal(s->challenge_take(s, n1, 150, uo, eo), SC_ERR_NOTFOUND);
	/* Expired: refused, secret not returned, gone. */
	memset(eo, 0xaa, sizeof(eo));
	assert_int_equal(s->challenge_take(s, n2, 110, uo, eo), SC_ERR_EXPIRED);
	assert_memory_not_equal(eo, k2, 32);
	assert_int_equal(s->challenge_take(s, n2, 100, uo, eo), SC_ERR_NOTFOUND);

	assert_int_equal(s->owner_get(s, u1, ko), SC_ERR_NOTFOUND);
	assert_int_equal(s->owner_put(s, u1, k1, 0, 100), 0);
	assert_int_equal(s->owner_put(s, u1, k1, 0, 101), 1);
	assert_int_equal(s->owner_put(s, u1, k2, 0, 102), SC_ERR_BUSY);
	assert_int_equal(s->owner_get(s, u1, ko), 0);
	assert_memory_equal(ko, k1, 32);
	assert_int_equal(s->owner_put(s, u1, k2, 1, 103), 2);
	assert_int_equal(s->owner_get(s, u1, ko), 0);
	assert_memory_equal(ko, k2, 32);
	assert_int_equal(s->owner_get(s, u2, ko), SC_ERR_NOTFOUND);
	/* Registrations survive a restart. */
	s->close(s);
	assert_int_equal(open_store(&s), 0);
	assert_int_equal(s->owner_get(s, u1, ko), 0);
	assert_memory_equal(ko, k2, 32);
	s->close(s);
}

/* The audit trail keeps at most keep rows per host, the newest. */
static void
test_audit_trim(void **state)
{
	struct ks_store *s;
	struct ks_attest_log lg;
	uint64_t n;
	unsigned int i;

	(void)state;
	assert_int_equal(open_store(&s), 0);
	memset(&lg, 0, sizeof(lg));
	snprintf(lg.host, sizeof(lg.host), "other");
	assert_int_equal(s->log_attest(s, &lg, 3), 0);
	snprintf(lg.host, sizeof(lg.host), "h");
	for (i = 0; i < 10; i++) {
		lg.time = 100 + i;
		lg.result = i == 9 ? KS_OK : KS_E_SIG_INVALID;
		assert_int_equal(s->log_attest(s, &lg, 3), 0);
	}
	assert_int_equal(s->log_count(s, "h", &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(s->log_count(s, "other", &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(s->log_count(s, NULL, &n), 0);
	assert_int_equal(n, 4);
	s->close(s);
}

static void
test_schema(void **state)
{
	struct ks_store *s;
	struct ks_attest_log lg;
	sqlite3 *db;
	sqlite3_stmt *st;
	char wal[300];
	struct stat sb;

	(void)state;
	assert_int_equal(ks_store_sqlite_schema_version(), 5);
	/* A version-1 database (as the first release wrote it) is migrated. */
	assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db,
	    "CREATE TABLE schema_version (version INTEGER NOT NULL);"
	    "INSERT INTO schema_version VALUES (1);"
	    "CREATE TABLE hosts (name TEXT PRIMARY KEY, ak_spki BLOB NOT NULL,"
	    " ak_desc TEXT NOT NULL, ak_restricted INTEGER NOT NULL,"
	    " pcr_mask INTEGER NOT NULL, pcr_values BLOB NOT NULL,"
	    " key_pcr INTEGER NOT NULL, enrolled INTEGER NOT NULL,"
	    " revoked INTEGER NOT NULL DEFAULT 0,"
	    " revoked_at INTEGER NOT NULL DEFAULT 0);"
	    "CREATE TABLE certs (host TEXT PRIMARY KEY REFERENCES hosts(name)"
	    " ON DELETE CASCADE, cert BLOB NOT NULL, issued INTEGER NOT NULL,"
	    " expires INTEGER NOT NULL);"
	    "CREATE TABLE nonces (nonce BLOB PRIMARY KEY,"
	    " expires INTEGER NOT NULL);"
	    "INSERT INTO hosts (name, ak_spki, ak_desc, ak_restricted, pcr_mask,"
	    " pcr_values, key_pcr, enrolled) VALUES ('old', X'01', 'x', 0, 1,"
	    " zeroblob(768), 15, 1);", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(chmod(dbpath, 0600), 0);
	assert_int_equal(ks_store_sqlite_open(dbpath, &s), 0);
	/* Hosts enrolled before EK activation stay trusted as they were. */
	{
		struct ks_host old;

		assert_int_equal(s->host_get(s, "old", &old), 0);
		assert_int_equal(old.ak_activated, 1);
		assert_int_equal(old.ak_ek, 0);
	}
	memset(&lg, 0, sizeof(lg));
	snprintf(lg.host, sizeof(lg.host), "h");
	lg.time = 5;
	lg.result = KS_E_KEY_PCR;
	assert_int_equal(s->log_attest(s, &lg, 3), 0);
	s->close(s);
	snprintf(wal, sizeof(wal), "%s-wal", dbpath);

	assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT version FROM"
	    " schema_version", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), 5);
	sqlite3_finalize(st);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT result FROM attest_log",
	    -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0),
	    "key_pcr_mismatch");
	sqlite3_finalize(st);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st,
	    NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
	sqlite3_finalize(st);
	/* A database from a newer program is refused, not damaged. */
	assert_int_equal(sqlite3_exec(db, "UPDATE schema_version SET version = 99",
	    NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(ks_store_sqlite_open(dbpath, &s), SC_ERR_VERSION);
	(void)stat(wal, &sb);
	/* Not a database at all. */
	assert_int_equal(truncate(dbpath, 0), 0);
	{
		FILE *f = fopen(dbpath, "w");

		assert_non_null(f);
		fputs("this is not an SQLite database, just some text......."
		    "..........................................................",
		    f);
		fclose(f);
	}
	unlink(wal);
	assert_true(ks_store_sqlite_open(dbpath, &s) < 0);
}

struct worker {
	struct ks_store	*s;
	struct ks_host	 h;
	int		 id;
	int		 ok;
};

static void *
worker(void *arg)
{
	struct worker *w = arg;
	uint8_t n[32], cert[32], out[32];
	size_t len;
	uint64_t exp;
	int i;

	for (i = 0; i < 200; i++) {
		randombytes_buf(n, sizeof(n));
		memset(cert, i & 0xff, sizeof(cert));
		if (w->s->nonce_put(w->s, n, "w", 1000, 10, 100000, 0) != 0 ||
		    w->s->nonce_take(w->s, n, 32, 11) != 0 ||
		    w->s->cert_put(w->s, &w->h, cert, sizeof(cert), 10, 1000) != 0 ||
		    w->s->cert_get(w->s, w->h.name, out, sizeof(out), &len,
		    &exp) != 0 ||
		    out[0] != (i & 0xff))
			return NULL;
	}
	w->ok = 1;
	return NULL;
}

/* Host with a pending activation challenge: SHA-256 of secret, expires. */
static void
mkchallenge(struct ks_host *h, const char *name, const uint8_t *secret,
    uint64_t expires)
{
	mkhost(h, name);
	h->ak_ek = 1;
	h->ak_activated = 0;
	crypto_hash_sha256(h->act_digest, secret, 32);
	h->act_expires = expires;
	h->cred_blob_len = 70;
	memset(h->cred_blob, 0xb1, h->cred_blob_len);
	h->cred_enc_len = 258;
	memset(h->cred_enc, 0xe5, h->cred_enc_len);
}

/*
 * EK activation (schema 4): a challenge takes one answer, right or wrong;
 * an expired one is refused; until activated no certificate is stored;
 * of two handles (two key servers) answering at once, one wins.
 */
static void
test_activation(void **state)
{
	struct ks_store *s, *s2;
	struct ks_host h, got;
	uint8_t secret[32], wrong[32], d[32], dw[32], cert[8] = { 1 };
	const uint64_t now = 1700000100;
	int r1, r2;

	(void)state;
	randombytes_buf(secret, sizeof(secret));
	memcpy(wrong, secret, sizeof(wrong));
	wrong[31] ^= 1;
	crypto_hash_sha256(d, secret, sizeof(secret));
	crypto_hash_sha256(dw, wrong, sizeof(wrong));
	assert_int_equal(open_store(&s), 0);
	assert_int_equal(open_store(&s2), 0);

	mkchallenge(&h, "a", secret, now + 60);
	assert_int_equal(s->host_add(s, &h), 0);
	assert_int_equal(s2->host_get(s2, "a", &got), 0);
	assert_int_equal(got.ak_ek, 1);
	assert_int_equal(got.ak_activated, 0);
	assert_int_equal(got.act_expires, now + 60);
	assert_int_equal(got.cred_blob_len, 70);
	assert_int_equal(got.cred_enc_len, 258);
	assert_memory_equal(got.cred_enc, h.cred_enc, 258);
	/* Not activated: no certificate is stored for it. */
	assert_int_equal(s->cert_put(s, &got, cert, sizeof(cert), now, now + 9),
	    SC_ERR_NOTFOUND);
	assert_int_equal(s->host_activate(s, "nobody", d, now), SC_ERR_NOTFOUND);
	/* The right answer, once; a replay finds nothing. */
	assert_int_equal(s2->host_activate(s2, "a", d, now), 0);
	assert_int_equal(s->host_activate(s, "a", d, now), SC_ERR_NOTFOUND);
	assert_int_equal(s->host_get(s, "a", &got), 0);
	assert_int_equal(got.ak_activated, 1);
	assert_int_equal(got.cred_blob_len, 0);
	assert_int_equal(s->cert_put(s, &got, cert, sizeof(cert), now, now + 9),
	    0);

	/* A wrong answer consumes the challenge: the right one comes too late. */
	mkchallenge(&h, "b", secret, now + 60);
	assert_int_equal(s->host_add(s, &h), 0);
	assert_int_equal(s->host_activate(s, "b", dw, now), SC_ERR_MISMATCH);
	assert_int_equal(s->host_activate(s, "b", d, now), SC_ERR_NOTFOUND);
	assert_int_equal(s->host_get(s, "b", &got), 0);
	assert_int_equal(got.ak_activated, 0);

	/* Expired. */
	mkchallenge(&h, "c", secret, now);
	assert_int_equal(s->host_add(s, &h), 0);
	assert_int_equal(s->host_activate(s, "c", d, now), SC_ERR_EXPIRED);
	assert_int_equal(s->host_get(s, "c", &got), 0);
	assert_int_equal(got.ak_activated, 0);

	/* Revoked before answering. */
	mkchallenge(&h, "d", secret, now + 60);
	assert_int_equal(s->host_add(s, &h), 0);
	assert_int_equal(s->host_revoke(s, "d", now), 0);
	assert_int_equal(s->host_activate(s, "d", d, now), SC_ERR_NOTFOUND);

	/* Two instances answer at once: exactly one activates. */
	mkchallenge(&h, "e", secret, now + 60);
	assert_int_equal(s->host_add(s, &h), 0);
	r1 = s->host_activate(s, "e", d, now);
	r2 = s2->host_activate(s2, "e", d, now);
	assert_true((r1 == 0) != (r2 == 0));

	/* An operator-vouched (insecure) AK is activated from the start. */
	mkhost(&h, "f");
	assert_int_equal(s->host_add(s, &h), 0);
	assert_int_equal(s->host_get(s, "f", &got), 0);
	assert_int_equal(got.ak_activated, 1);
	assert_int_equal(got.ak_ek, 0);
	assert_int_equal(s->host_activate(s, "f", d, now), SC_ERR_NOTFOUND);
	s2->close(s2);
	s->close(s);
}

static void
test_threads(void **state)
{
	struct ks_store *s;
	struct ks_host h;
	pthread_t t[4];
	struct worker w[4];
	char name[32];
	int i;

	(void)state;
	assert_int_equal(open_store(&s), 0);
	for (i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "host%d", i);
		mkhost(&h, name);
		assert_int_equal(s->host_add(s, &h), 0);
		w[i].h = h;
		w[i].s = s;
		w[i].id = i;
		w[i].ok = 0;
		assert_int_equal(pthread_create(&t[i], NULL, worker, &w[i]), 0);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(w[i].ok, 1);
	}
	s->close(s);
}


/* ---- two handles on one database: two key server instances ---- */

struct racer {
	struct ks_store		*s;
	pthread_barrier_t	*go;
	const uint8_t		*nonce;		/* take this one */
	int			 puts;		/* or put this many for "q" */
	int			 r;		/* take result / puts that worked */
};

static void *
racer(void *arg)
{
	struct racer *x = arg;
	uint8_t n[32];
	int i;

	pthread_barrier_wait(x->go);
	if (x->nonce != NULL) {
		x->r = x->s->nonce_take(x->s, x->nonce, 32, 100);
		return NULL;
	}
	for (i = 0; i < x->puts; i++) {
		randombytes_buf(n, sizeof(n));
		if (x->s->nonce_put(x->s, n, "q", 1000, 100, 100000, 3) == 0)
			x->r++;
	}
	return NULL;
}

static void
test_two_instances(void **state)
{
	struct ks_store *s[2];
	struct ks_host h, g;
	struct racer x[4];
	pthread_t t[4];
	pthread_barrier_t go;
	uint8_t n[32], cert[40], out[64];
	size_t len;
	uint64_t exp;
	int i, k, won;

	(void)state;
	assert_int_equal(open_store(&s[0]), 0);
	assert_int_equal(open_store(&s[1]), 0);

	/* Enrollment, revocation, re-enrollment: seen by the other at once. */
	mkhost(&h, "h1");
	assert_int_equal(s[0]->host_add(s[0], &h), 0);
	assert_int_equal(s[1]->host_add(s[1], &h), SC_ERR_BUSY);
	assert_int_equal(s[1]->host_get(s[1], "h1", &g), 0);
	memset(cert, 0x5a, sizeof(cert));
	assert_int_equal(s[1]->cert_put(s[1], &g, cert, sizeof(cert), 10, 20), 0);
	assert_int_equal(s[0]->cert_get(s[0], "h1", out, sizeof(out), &len,
	    &exp), 0);
	assert_int_equal(s[1]->host_revoke(s[1], "h1", 50), 0);
	assert_int_equal(s[0]->host_get(s[0], "h1", &g), 0);
	assert_int_equal(g.revoked, 1);
	assert_int_equal(s[0]->cert_get(s[0], "h1", out, sizeof(out), &len,
	    &exp), SC_ERR_NOTFOUND);
	assert_int_equal(s[0]->host_delete(s[0], "h1"), 0);
	h.ak_spki[0] ^= 0xff;			/* a new AK: rotation */
	assert_int_equal(s[0]->host_add(s[0], &h), 0);
	h.ak_spki[0] ^= 0xff;			/* the old one, as checked */
	assert_int_equal(s[1]->cert_put(s[1], &h, cert, sizeof(cert), 10, 20),
	    SC_ERR_NOTFOUND);

	/* A nonce issued through one is redeemed exactly once by both. */
	assert_int_equal(pthread_barrier_init(&go, NULL, 2), 0);
	for (k = 0; k < 40; k++) {
		randombytes_buf(n, sizeof(n));
		assert_int_equal(s[k & 1]->nonce_put(s[k & 1], n, "a", 1000, 100,
		    100000, 0), 0);
		for (i = 0; i < 2; i++) {
			memset(&x[i], 0, sizeof(x[i]));
			x[i].s = s[i];
			x[i].go = &go;
			x[i].nonce = n;
			assert_int_equal(pthread_create(&t[i], NULL, racer, &x[i]),
			    0);
		}
		won = 0;
		for (i = 0; i < 2; i++) {
			pthread_join(t[i], NULL);
			if (x[i].r == 0)
				won++;
			else
				assert_int_equal(x[i].r, SC_ERR_NOTFOUND);
		}
		assert_int_equal(won, 1);
	}
	pthread_barrier_destroy(&go);

	/* The per-address quota (3) holds across both, racing. */
	assert_int_equal(pthread_barrier_init(&go, NULL, 4), 0);
	for (i = 0; i < 4; i++) {
		memset(&x[i], 0, sizeof(x[i]));
		x[i].s = s[i & 1];
		x[i].go = &go;
		x[i].puts = 3;
		assert_int_equal(pthread_create(&t[i], NULL, racer, &x[i]), 0);
	}
	won = 0;
	for (i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		won += x[i].r;
	}
	assert_int_equal(won, 3);
	pthread_barrier_destroy(&go);
	s[0]->close(s[0]);
	s[1]->close(s[1]);
}

/* PostgreSQL: migrations to the same version, a newer schema refused. */
static void
test_pg_schema(void **state)
{
	struct ks_store *s;

	(void)state;
	assert_int_equal(ks_store_pg_schema_version(),
	    ks_store_sqlite_schema_version());
	/*
	 * A version-2 database (no nonce owners, no EK activation yet) is
	 * migrated; its hosts stay trusted as they were (activated).
	 */
	assert_int_equal(pg_sql("CREATE TABLE schema_version (version BIGINT"
	    " NOT NULL); INSERT INTO schema_version VALUES (2);"
	    "CREATE TABLE nonces (nonce BYTEA PRIMARY KEY,"
	    " expires BIGINT NOT NULL);"
	    "INSERT INTO nonces VALUES ('\\x01', 5);"
	    "CREATE TABLE hosts (name TEXT PRIMARY KEY, ak_spki BYTEA NOT NULL,"
	    " ak_desc TEXT NOT NULL, ak_restricted BIGINT NOT NULL,"
	    " pcr_mask BIGINT NOT NULL, pcr_values BYTEA NOT NULL,"
	    " key_pcr BIGINT NOT NULL, enrolled BIGINT NOT NULL,"
	    " revoked BIGINT NOT NULL DEFAULT 0,"
	    " revoked_at BIGINT NOT NULL DEFAULT 0);"
	    "INSERT INTO hosts (name, ak_spki, ak_desc, ak_restricted, pcr_mask,"
	    " pcr_values, key_pcr, enrolled) VALUES ('old', '\\x01', 'x', 0,"
	    " 1, '\\x00', 15, 1)"), 0);
	assert_int_equal(open_store(&s), 0);
	s->close(s);
	assert_int_equal(pg_sql("DO $$ BEGIN IF (SELECT version FROM"
	    " schema_version) <> 5 OR (SELECT peer FROM nonces) <> '' OR"
	    " (SELECT ak_activated FROM hosts) <> 1 OR"
	    " (SELECT ak_ek FROM hosts) <> 0 THEN"
	    " RAISE 'not migrated'; END IF; END $$"), 0);
	/* Opening again changes nothing; a newer schema is refused. */
	assert_int_equal(open_store(&s), 0);
	s->close(s);
	assert_int_equal(pg_sql("UPDATE schema_version SET version = 99"), 0);
	assert_int_equal(open_store(&s), SC_ERR_VERSION);
}

/* PostgreSQL: nobody listening is SC_ERR_AGAIN, not a crash or a hang. */
static void
test_pg_unreachable(void **state)
{
	struct ks_store *s;
	char uri[400];

	(void)state;
	snprintf(uri, sizeof(uri), "postgresql:///x?host=%s&port=1", tmpdir);
	assert_int_equal(ks_store_open(uri, 2, &s), SC_ERR_AGAIN);
	assert_int_equal(ks_store_open("postgresql://a/b?nosuchkey=1", 2, &s),
	    SC_ERR_INVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_hosts_and_certs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nonces, setup, teardown),
		cmocka_unit_test_setup_teardown(test_owners, setup, teardown),
		cmocka_unit_test_setup_teardown(test_audit_trim, setup, teardown),
		cmocka_unit_test_setup_teardown(test_schema, setup, teardown),
		cmocka_unit_test_setup_teardown(test_activation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_instances, setup,
		    teardown),
	};
	/* The same contract on PostgreSQL, plus its own schema checks. */
	const struct CMUnitTest pg_tests[] = {
		cmocka_unit_test_setup_teardown(test_hosts_and_certs, setup_pg,
		    teardown),
		cmocka_unit_test_setup_teardown(test_nonces, setup_pg, teardown),
		cmocka_unit_test_setup_teardown(test_owners, setup_pg, teardown),
		cmocka_unit_test_setup_teardown(test_audit_trim, setup_pg,
		    teardown),
		cmocka_unit_test_setup_teardown(test_activation, setup_pg,
		    teardown),
		cmocka_unit_test_setup_teardown(test_threads, setup_pg, teardown),
		cmocka_unit_test_setup_teardown(test_two_instances, setup_pg,
		    teardown),
		cmocka_unit_test_setup_teardown(test_pg_schema, setup_pg,
		    teardown),
	};
	const struct CMUnitTest pg_offline[] = {
		cmocka_unit_test_setup_teardown(test_pg_unreachable, setup,
		    teardown),
	};
	int r;

	if (sc_lib_init() < 0)
		return 1;
	r = cmocka_run_group_tests_name("sqlite", tests, NULL, NULL);
	r |= cmocka_run_group_tests_name("pg-offline", pg_offline, NULL, NULL);
	if (getenv("KS_TEST_PG") != NULL && *getenv("KS_TEST_PG") != '\0')
		r |= cmocka_run_group_tests_name("postgresql", pg_tests, NULL,
		    NULL);
	return r;
}
