/*
 * ks_http.c — HTTP/1.1 JSON API of sccrypt-keyserver over libmicrohttpd.
 *
 * Two daemons may run: the public TCP listener (operator endpoints need the
 * bearer token there) and an optional unix-socket listener on which the
 * socket's file permissions are the operator credential.  Limits on every
 * request: body size (checked against Content-Length before reading, and
 * again while reading chunked bodies), JSON nesting and field sizes
 * (ks_req.c), connection count, per-IP connections and an inactivity
 * timeout, so slow or hostile clients cannot tie the server up.
 *
 * Every attestation and every operator action leaves one "audit:" log line
 * (never with key material, tokens or raw input).
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <microhttpd.h>
#include <sodium.h>

#include "core/err.h"
#include "encode.h"
#include "pubkey.h"
#include "log.h"
#include "ks_http.h"
#include "secmem.h"

#define HOSTS_PATH	KS_API_PREFIX "/hosts"
#define ADDR_MAX	(2 * KS_PEER_MAX + PROXY_HEADER_MAX + 32)	/* + proxy */
#define PROXY_HEADER_MAX	64
#define WARN_PER_SECOND	20	/* unauthenticated refusals logged per second */

struct ks_http {
	struct ks_ctx		*ctx;
	struct MHD_Daemon	*tcp;
	struct MHD_Daemon	*local;
	size_t			 max_body;
	uint8_t			 token_hash[32];
	int			 have_token;
	char			*pubkey_json;	/* constant body of GET /v1/pubkey */
	size_t			 pubkey_json_len;
	struct ks_proxy_cfg	 proxies;
	char			 proxy_header[PROXY_HEADER_MAX];
};

/* One per daemon, so the handler knows where a request came in. */
struct listener {
	struct ks_http	*srv;
	int		 local;		/* unix socket: operator by permission */
};

struct req {
	char	*body;
	size_t	 len;
	size_t	 cap;
	int	 too_large;
	int	 started;
};

static struct listener tcp_listener, local_listener;

static pthread_mutex_t warn_lock = PTHREAD_MUTEX_INITIALIZER;
static time_t warn_second;
static unsigned long warn_count, warn_dropped;

/*
 * A warning anyone on the network can provoke: at most WARN_PER_SECOND a
 * second, then one line saying how many were left out, so a flood of bad
 * requests cannot flood the log.
 */
static void __attribute__((format(printf, 1, 2)))
warn_limited(const char *fmt, ...)
{
	time_t now = time(NULL);
	unsigned long dropped = 0;
	va_list ap;
	int log;

	pthread_mutex_lock(&warn_lock);
	if (now != warn_second) {
		dropped = warn_dropped;
		warn_second = now;
		warn_count = warn_dropped = 0;
	}
	log = warn_count < WARN_PER_SECOND;
	if (log)
		warn_count++;
	else
		warn_dropped++;
	pthread_mutex_unlock(&warn_lock);
	if (dropped > 0)
		sc_warn("audit: %lu similar refusals not logged", dropped);
	if (log) {
		va_start(ap, fmt);
		sc_logv(SC_LOG_WARN, NULL, fmt, ap);
		va_end(ap);
	}
}

void
ks_token_hash(const char *token, size_t len, uint8_t out[32])
{
	crypto_generichash(out, 32, (const unsigned char *)token, len,
	    (const unsigned char *)"sccrypt-ks-token", 16);
}

/*
 * The client of conn: its address for the audit log ("ADDR", or "ADDR
 * proxy=PROXY" through a trusted proxy) in log, the key its nonce quota
 * counts under in key.
 */
static void
peer_addr(struct ks_http *srv, struct MHD_Connection *conn, int local,
    char log[ADDR_MAX], char key[KS_PEER_MAX])
{
	const union MHD_ConnectionInfo *ci;
	const char *hdr = NULL;
	char addr[KS_PEER_MAX], via[KS_PEER_MAX];
	int r;

	if (local) {
		snprintf(log, ADDR_MAX, "local");
		snprintf(key, KS_PEER_MAX, "local");
		return;
	}
	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (srv->proxies.n > 0)
		hdr = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
		    srv->proxy_header);
	r = ks_peer_resolve(ci != NULL ? ci->client_addr : NULL, &srv->proxies,
	    hdr, addr, via);
	if (r == 1)
		snprintf(log, ADDR_MAX, "%s proxy=%s", addr, via);
	else if (r < 0)
		snprintf(log, ADDR_MAX, "%s (trusted proxy sent no %s)", addr,
		    srv->proxy_header);
	else
		snprintf(log, ADDR_MAX, "%s", addr);
	ks_peer_key(addr, key);
}

static enum MHD_Result
send_body(struct MHD_Connection *conn, unsigned int status, char *body,
    size_t len, const char *ctype)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	if (body == NULL)
		return MHD_NO;
	resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (resp == NULL) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (status == MHD_HTTP_UNAUTHORIZED)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
		    "Bearer realm=\"sccrypt-keyserver\"");
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* Send j (consumed) as the JSON body. */
static enum MHD_Result
send_json(struct MHD_Connection *conn, unsigned int status, json_t *j)
{
	char *s;

	if (j == NULL)
		return MHD_NO;
	s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (s == NULL)
		return MHD_NO;
	return send_body(conn, status, s, strlen(s), "application/json");
}

static enum MHD_Result
send_error(struct MHD_Connection *conn, int result, const char *message)
{
	const char *msg = message != NULL && message[0] != '\0' ? message :
	    ks_result_code(result);

	/* Every request the database's absence refuses leaves a line. */
	if (result == KS_E_UNAVAILABLE) {
		msg = "database unavailable; retry later";
		warn_limited("audit: refused a request: %s (storage_unavailable)",
		    msg);
	}

	return send_json(conn, (unsigned int)ks_result_status(result),
	    json_pack("{s:s, s:s}", "error", ks_result_code(result),
	    "message", msg));
}

static json_t *
cert_json(const char *host, const uint8_t *cert, size_t len, uint64_t issued,
    uint64_t expires, const uint8_t pcr_digest[32])
{
	char *c = sc_base64_strdup(cert, len);
	char *d = pcr_digest ? sc_hex_strdup(pcr_digest, 32) : NULL;
	json_t *j = NULL;

	if (c == NULL)
		goto out;
	j = json_pack("{s:s, s:s, s:I}", "host", host, "certificate", c,
	    "expires", (json_int_t)expires);
	if (j != NULL && issued != 0)
		json_object_set_new(j, "issued", json_integer((json_int_t)issued));
	if (j != NULL && d != NULL)
		json_object_set_new(j, "pcr_digest", json_string(d));
 out:
	free(c);
	free(d);
	return j;
}

static json_t *
policy_json(const struct ks_policy *p)
{
	json_t *pcrs = json_object();
	char key[4], *v;
	unsigned int i;

	if (pcrs == NULL)
		return NULL;
	for (i = 0; i < KS_PCR_COUNT; i++) {
		if (!(p->pcr_mask & (1u << i)))
			continue;
		snprintf(key, sizeof(key), "%u", i);
		if ((v = sc_hex_strdup(p->pcrs[i], KS_DIGEST_LEN)) == NULL) {
			json_decref(pcrs);
			return NULL;
		}
		json_object_set_new(pcrs, key, json_string(v));
		free(v);
	}
	return json_pack("{s:s, s:o, s:i}", "bank", "sha256", "pcrs", pcrs,
	    "key_pcr", (int)p->key_pcr);
}

static json_t *
host_json(const struct ks_host *h)
{
	char fp[SC_FINGERPRINT_LEN];
	json_t *j;

	sc_fingerprint(h->ak_spki, h->ak_spki_len, fp);
	j = json_pack("{s:s, s:s, s:s, s:b, s:o, s:I, s:b}", "name", h->name,
	    "ak", h->ak_desc, "ak_fingerprint", fp,
	    "ak_restricted", h->ak_restricted, "policy", policy_json(&h->policy),
	    "enrolled", (json_int_t)h->enrolled, "revoked", h->revoked);
	if (j != NULL && h->revoked)
		json_object_set_new(j, "revoked_at",
		    json_integer((json_int_t)h->revoked_at));
	if (j != NULL) {
		json_object_set_new(j, "ak_ek", json_boolean(h->ak_ek));
		json_object_set_new(j, "ak_activated",
		    json_boolean(h->ak_activated));
		if (!h->ak_activated)
			json_object_set_new(j, "activation_expires",
			    json_integer((json_int_t)h->act_expires));
	}
	return j;
}

/* The pending challenge: public, only the TPM holding the EK can use it. */
static json_t *
activation_json(const struct ks_host *h)
{
	char *blob = sc_base64_strdup(h->cred_blob, h->cred_blob_len);
	char *enc = sc_base64_strdup(h->cred_enc, h->cred_enc_len);
	json_t *j = NULL;

	if (blob != NULL && enc != NULL)
		j = json_pack("{s:s, s:s, s:s, s:I}", "host", h->name,
		    "credential_blob", blob, "encrypted_secret", enc,
		    "expires", (json_int_t)h->act_expires);
	free(blob);
	free(enc);
	return j;
}

/* ---- public endpoints ---- */

/*
 * The same answer whoever asks and whatever ?host= says: which hosts are
 * enrolled and their PCR sets are the operator's business (the agent is
 * told its PCRs by its configuration, or by the error of an attestation
 * its AK signed).
 */
static enum MHD_Result
do_nonce(struct ks_http *srv, struct MHD_Connection *conn, const char *peer,
    const char *key)
{
	uint8_t nonce[KS_NONCE_LEN];
	uint64_t expires;
	json_t *j;
	char *n;
	int r;

	r = ks_nonce_issue(srv->ctx, key, (uint64_t)time(NULL), nonce, &expires);
	if (r != KS_OK) {
		warn_limited("audit: nonce refused peer=%s: %s", peer,
		    ks_result_code(r));
		return send_error(conn, r, r == KS_E_QUOTA ?
		    "too many outstanding nonces for this address; use or let"
		    " them expire" : r == KS_E_BUSY ?
		    "too many outstanding nonces; retry later" : NULL);
	}
	if ((n = sc_hex_strdup(nonce, sizeof(nonce))) == NULL)
		return MHD_NO;
	j = json_pack("{s:s, s:I}", "nonce", n, "expires", (json_int_t)expires);
	free(n);
	return send_json(conn, MHD_HTTP_OK, j);
}

static enum MHD_Result
do_attest(struct ks_http *srv, struct MHD_Connection *conn, struct req *rq,
    const char *peer)
{
	struct ks_attest_req *ar;
	struct ks_attest_info info;
	uint8_t cert[KS_CERT_MAX];
	char why[KS_WHY_MAX], hostbuf[KS_HOST_MAX + 1];
	size_t certlen = 0;
	uint64_t now = (uint64_t)time(NULL);
	enum MHD_Result ret;
	int r;

	if ((ar = malloc(sizeof(*ar))) == NULL)
		return MHD_NO;
	memset(&info, 0, sizeof(info));
	r = ks_parse_attest(rq->body, rq->len, ar, why);
	if (r == KS_OK)
		r = ks_attest(srv->ctx, ar, now, cert, sizeof(cert), &certlen,
		    &info, why);
	snprintf(hostbuf, sizeof(hostbuf), "%s", ar->host[0] ? ar->host : "-");
	if (r == KS_OK) {
		sc_info("audit: attest host=%s peer=%s result=ok"
		    " reset_count=%u restart_count=%u expires=%llu", hostbuf, peer,
		    info.quote.reset_count, info.quote.restart_count,
		    (unsigned long long)info.expires);
		ret = send_json(conn, MHD_HTTP_OK, cert_json(hostbuf, cert,
		    certlen, info.issued, info.expires, info.quote.pcr_digest));
	} else {
		warn_limited("audit: attest host=%s%s peer=%s result=%s"
		    " reason=\"%s\"", hostbuf, info.enrolled ? "" :
		    " (not enrolled)", peer, ks_result_code(r), why);
		ret = send_error(conn, r, why);
	}
	/* Audit rows for enrolled hosts only, bounded per host. */
	if (ks_attest_record(srv->ctx, ar, r, &info, now) < 0)
		warn_limited("cannot record attestation of %s", hostbuf);
	free(ar);
	return ret;
}

static enum MHD_Result
do_cert(struct ks_http *srv, struct MHD_Connection *conn, const char *host)
{
	uint8_t cert[KS_CERT_MAX];
	size_t len;
	uint64_t expires;
	int r;

	r = ks_cert_fetch(srv->ctx, host, (uint64_t)time(NULL), cert,
	    sizeof(cert), &len, &expires);
	if (r != KS_OK)
		return send_error(conn, r, r == KS_E_NO_CERT ?
		    "no valid certificate: the host has not attested recently" :
		    r == KS_E_REVOKED ? "host has been revoked" : NULL);
	return send_json(conn, MHD_HTTP_OK, cert_json(host, cert, len, 0,
	    expires, NULL));
}

static enum MHD_Result
do_activation(struct ks_http *srv, struct MHD_Connection *conn,
    const char *host)
{
	struct ks_host *h;
	char why[KS_WHY_MAX];
	enum MHD_Result ret;
	int r;

	if ((h = malloc(sizeof(*h))) == NULL)
		return MHD_NO;
	r = ks_activation_get(srv->ctx, host, (uint64_t)time(NULL), h, why);
	ret = r == KS_OK ? send_json(conn, MHD_HTTP_OK, activation_json(h)) :
	    send_error(conn, r, why);
	free(h);
	return ret;
}

static enum MHD_Result
do_activate(struct ks_http *srv, struct MHD_Connection *conn, struct req *rq,
    const char *peer)
{
	struct ks_activate_req ar;
	char why[KS_WHY_MAX];
	enum MHD_Result ret;
	int r;

	r = ks_parse_activate(rq->body, rq->len, &ar, why);
	if (r == KS_OK)
		r = ks_activate(srv->ctx, &ar, (uint64_t)time(NULL), why);
	if (r == KS_OK) {
		sc_info("audit: activate host=%s peer=%s result=ok: the AK is"
		    " resident in the certified TPM", ar.host, peer);
		ret = send_json(conn, MHD_HTTP_OK, json_pack("{s:s, s:s}",
		    "host", ar.host, "status", "activated"));
	} else {
		warn_limited("audit: activate host=%s peer=%s result=%s"
		    " reason=\"%s\"", ar.host[0] ? ar.host : "-", peer,
		    ks_result_code(r), why);
		ret = send_error(conn, r, why);
	}
	sc_memzero(&ar, sizeof(ar));
	return ret;
}

/* ---- ownership tokens (PROTOCOL.md §12.10) ---- */

#define KS_UUID_TEXT_MAX	37	/* sc_uuid_format: 36 characters and NUL */

static json_t *
hex_json(const uint8_t *v, size_t n)
{
	char *h = sc_hex_strdup(v, n);
	json_t *j = h != NULL ? json_string(h) : NULL;

	free(h);
	return j;
}

static json_t *
uuid_json(const uint8_t uuid[KS_UUID_LEN])
{
	char u[KS_UUID_TEXT_MAX];

	sc_uuid_format(uuid, u);
	return json_string(u);
}

static enum MHD_Result
do_owner_tokens(struct ks_http *srv, struct MHD_Connection *conn,
    struct req *rq, const char *peer, const char *key)
{
	struct ks_owner_token_req *tr;
	struct ks_owner_challenge_resp ch;
	uint8_t token[KS_OWNER_TOKEN_LEN];
	char why[KS_WHY_MAX], u[KS_UUID_TEXT_MAX] = "-";
	uint64_t now = (uint64_t)time(NULL);
	enum MHD_Result ret;
	json_t *j = NULL;
	int r;

	if ((tr = sodium_malloc(sizeof(*tr))) == NULL)
		return MHD_NO;
	r = ks_parse_owner_token(rq->body, rq->len, tr, why);
	if (r == KS_OK)
		sc_uuid_format(tr->uuid, u);
	if (r == KS_OK && !tr->answer) {
		r = ks_owner_challenge(srv->ctx, tr->uuid, key, now, &ch, why);
		if (r == KS_OK)
			j = json_pack("{s:o, s:o, s:o, s:I}", "uuid",
			    uuid_json(ch.uuid), "nonce",
			    hex_json(ch.nonce, KS_NONCE_LEN),
			    "server_key", hex_json(ch.server_key, KS_X25519_LEN), "expires",
			    (json_int_t)ch.expires);
	} else if (r == KS_OK) {
		r = ks_owner_answer(srv->ctx, tr, now, token, why);
		if (r == KS_OK) {
			sc_info("audit: owner-token uuid=%s peer=%s keys=%u"
			    " result=ok", u, peer, tr->acl_count);
			j = json_pack("{s:o, s:o}", "uuid", uuid_json(tr->uuid),
			    "token", hex_json(token,
			    sizeof(token)));
		}
	}
	if (r == KS_OK)
		ret = send_json(conn, MHD_HTTP_OK, j);
	else {
		warn_limited("audit: owner-token%s uuid=%s peer=%s result=%s"
		    " reason=\"%s\"", r == KS_E_BAD_JSON || r == KS_E_BAD_FIELD ?
		    "" : tr->answer ? " answer" : " challenge", u, peer,
		    ks_result_code(r), why);
		ret = send_error(conn, r, why);
	}
	sodium_free(tr);
	sc_memzero(token, sizeof(token));
	return ret;
}

/* ---- operator endpoints ---- */

static int
operator_ok(struct ks_http *srv, struct MHD_Connection *conn, int local)
{
	static const char prefix[] = "Bearer ";
	const char *auth;
	uint8_t h[32];
	int ok;

	if (local)
		return 1;
	if (!srv->have_token)
		return 0;
	auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_AUTHORIZATION);
	if (auth == NULL || strncmp(auth, prefix, sizeof(prefix) - 1) != 0)
		return 0;
	auth += sizeof(prefix) - 1;
	ks_token_hash(auth, strlen(auth), h);
	ok = sodium_memcmp(h, srv->token_hash, sizeof(h)) == 0;
	sc_memzero(h, sizeof(h));
	return ok;
}

static enum MHD_Result
do_enroll(struct ks_http *srv, struct MHD_Connection *conn, struct req *rq,
    const char *peer)
{
	struct ks_enroll_req *er;
	struct ks_host *h;
	json_t *j;
	char why[KS_WHY_MAX], pcrs[80], fp[SC_FINGERPRINT_LEN];
	enum MHD_Result ret;
	int r;

	er = malloc(sizeof(*er));
	h = malloc(sizeof(*h));
	if (er == NULL || h == NULL) {
		free(er);
		free(h);
		return MHD_NO;
	}
	r = ks_parse_enroll(rq->body, rq->len, er, why);
	if (r == KS_OK)
		r = ks_enroll(srv->ctx, er, (uint64_t)time(NULL), h, why);
	if (r == KS_OK) {
		sc_fingerprint(h->ak_spki, h->ak_spki_len, fp);
		ks_pcr_list_format(h->policy.pcr_mask, pcrs, sizeof(pcrs));
		sc_info("audit: enroll host=%s peer=%s ak=%s ak_fingerprint=%s"
		    " pcrs=%s key_pcr=%u%s%s", h->name, peer, h->ak_desc, fp,
		    pcrs, h->policy.key_pcr, h->ak_restricted ? "" :
		    " (AK attributes not checkable from this format)",
		    h->ak_ek ? " ek=verified activation=pending" : "");
		if (!h->ak_ek)
			sc_warn("audit: enroll host=%s peer=%s insecure_ak: the AK"
			    " is trusted on the operator's word, not proven to"
			    " live in a genuine TPM", h->name, peer);
		j = host_json(h);
		if (j != NULL && h->ak_ek)
			json_object_set_new(j, "activation", activation_json(h));
		ret = send_json(conn, MHD_HTTP_CREATED, j);
	} else {
		sc_warn("audit: enroll host=%s peer=%s result=%s reason=\"%s\"",
		    er->name[0] ? er->name : "-", peer, ks_result_code(r), why);
		ret = send_error(conn, r, why);
	}
	free(er);
	free(h);
	return ret;
}

static int
list_cb(void *arg, const struct ks_host *h)
{
	json_t *j = host_json(h);

	if (j == NULL)
		return SC_ERR_ALLOC;
	return json_array_append_new(arg, j) == 0 ? 0 : SC_ERR_ALLOC;
}

static enum MHD_Result
do_list(struct ks_http *srv, struct MHD_Connection *conn)
{
	json_t *a = json_array();
	int r;

	if (a == NULL)
		return MHD_NO;
	if ((r = srv->ctx->store->host_list(srv->ctx->store, list_cb, a)) < 0) {
		json_decref(a);
		return send_error(conn, r == SC_ERR_AGAIN ? KS_E_UNAVAILABLE :
		    KS_E_INTERNAL, "storage error");
	}
	return send_json(conn, MHD_HTTP_OK, json_pack("{s:o}", "hosts", a));
}

static enum MHD_Result
do_host_get(struct ks_http *srv, struct MHD_Connection *conn, const char *name)
{
	struct ks_host *h = malloc(sizeof(*h));
	uint8_t cert[KS_CERT_MAX];
	size_t len;
	uint64_t expires;
	json_t *j;
	int r;

	if (h == NULL)
		return MHD_NO;
	r = srv->ctx->store->host_get(srv->ctx->store, name, h);
	if (r < 0) {
		free(h);
		return send_error(conn, r == SC_ERR_NOTFOUND ? KS_E_UNKNOWN_HOST :
		    r == SC_ERR_AGAIN ? KS_E_UNAVAILABLE : KS_E_INTERNAL, NULL);
	}
	j = host_json(h);
	free(h);
	if (j != NULL && srv->ctx->store->cert_get(srv->ctx->store, name, cert,
	    sizeof(cert), &len, &expires) == 0)
		json_object_set_new(j, "certificate_expires",
		    json_integer((json_int_t)expires));
	return send_json(conn, MHD_HTTP_OK, j);
}

static enum MHD_Result
do_revoke(struct ks_http *srv, struct MHD_Connection *conn, const char *name,
    int delete, const char *peer)
{
	int r = delete ? ks_delete(srv->ctx, name) :
	    ks_revoke(srv->ctx, name, (uint64_t)time(NULL));

	if (r != KS_OK) {
		sc_warn("audit: %s host=%s peer=%s result=%s",
		    delete ? "delete" : "revoke", name, peer, ks_result_code(r));
		return send_error(conn, r, NULL);
	}
	sc_info("audit: %s host=%s peer=%s result=ok",
	    delete ? "delete" : "revoke", name, peer);
	return send_json(conn, MHD_HTTP_OK, json_pack("{s:s, s:s}", "name", name,
	    "status", delete ? "deleted" : "revoked"));
}

static enum MHD_Result
do_owner_register(struct ks_http *srv, struct MHD_Connection *conn,
    struct req *rq, const char *peer)
{
	static const char *const what[] = { "registered", "unchanged", "moved" };
	struct ks_owner_reg_req rr;
	char why[KS_WHY_MAX], u[KS_UUID_TEXT_MAX] = "-", fp[SC_FINGERPRINT_LEN];
	int r, outcome = -1;

	r = ks_parse_owner_reg(rq->body, rq->len, &rr, why);
	if (r == KS_OK) {
		sc_uuid_format(rr.uuid, u);
		r = ks_owner_register(srv->ctx, &rr, (uint64_t)time(NULL),
		    &outcome, why);
	}
	if (r != KS_OK) {
		sc_warn("audit: owner-register uuid=%s peer=%s result=%s"
		    " reason=\"%s\"", u, peer, ks_result_code(r), why);
		return send_error(conn, r, why);
	}
	sc_fingerprint(rr.owner_key, KS_X25519_LEN, fp);
	sc_info("audit: owner-register uuid=%s peer=%s owner_key=%s result=%s",
	    u, peer, fp, what[outcome]);
	return send_json(conn, outcome == 0 ? MHD_HTTP_CREATED : MHD_HTTP_OK,
	    json_pack("{s:o, s:o, s:s}", "uuid", uuid_json(rr.uuid), "owner_key",
	    hex_json(rr.owner_key, KS_X25519_LEN), "status",
	    what[outcome]));
}

/* ---- routing ---- */

/* "/v1/hosts/NAME[/tail]": copy NAME, point *tail at "" or "/tail". */
static int
split_host(const char *url, char name[KS_HOST_MAX + 1], const char **tail)
{
	const char *p = url + sizeof(HOSTS_PATH);	/* after "/v1/hosts/" */
	const char *slash = strchr(p, '/');
	size_t n = slash ? (size_t)(slash - p) : strlen(p);

	if (n == 0 || n > KS_HOST_MAX)
		return -1;
	memcpy(name, p, n);
	name[n] = '\0';
	*tail = slash ? slash : "";
	return ks_host_valid(name) ? 0 : -1;
}

static enum MHD_Result
method_not_allowed(struct MHD_Connection *conn, const char *allow)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	json_t *j;
	char *s;

	j = json_pack("{s:s, s:s}", "error", ks_result_code(KS_E_METHOD),
	    "message", allow);
	s = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	if (s == NULL)
		return MHD_NO;
	resp = MHD_create_response_from_buffer(strlen(s), s,
	    MHD_RESPMEM_MUST_FREE);
	if (resp == NULL) {
		free(s);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	    "application/json");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
	ret = MHD_queue_response(conn, MHD_HTTP_METHOD_NOT_ALLOWED, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result
route(struct listener *l, struct MHD_Connection *conn, const char *url,
    const char *method, struct req *rq)
{
	struct ks_http *srv = l->srv;
	char name[KS_HOST_MAX + 1], peer[ADDR_MAX], key[KS_PEER_MAX];
	const char *tail;
	int get = strcmp(method, MHD_HTTP_METHOD_GET) == 0 ||
	    strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
	int post = strcmp(method, MHD_HTTP_METHOD_POST) == 0;
	int del = strcmp(method, MHD_HTTP_METHOD_DELETE) == 0;

	peer_addr(srv, conn, l->local, peer, key);
	if (rq->too_large) {
		warn_limited("audit: request %s %s peer=%s refused: body over %zu"
		    " bytes", method, strcmp(url, KS_API_PREFIX "/attest") == 0 ?
		    url : "-", peer, srv->max_body);
		return send_error(conn, KS_E_TOO_LARGE, "request body too large");
	}

	if (strcmp(url, KS_API_PREFIX "/nonce") == 0)
		return get ? do_nonce(srv, conn, peer, key) :
		    method_not_allowed(conn, "GET");
	if (strcmp(url, KS_API_PREFIX "/pubkey") == 0) {
		if (!get)
			return method_not_allowed(conn, "GET");
		return send_body(conn, MHD_HTTP_OK,
		    strdup(srv->pubkey_json), srv->pubkey_json_len,
		    "application/json");
	}
	if (strcmp(url, KS_API_PREFIX "/attest") == 0)
		return post ? do_attest(srv, conn, rq, peer) :
		    method_not_allowed(conn, "POST");
	if (strcmp(url, KS_API_PREFIX "/activate") == 0)
		return post ? do_activate(srv, conn, rq, peer) :
		    method_not_allowed(conn, "POST");

	if (strcmp(url, KS_API_PREFIX "/owner-tokens") == 0)
		return post ? do_owner_tokens(srv, conn, rq, peer, key) :
		    method_not_allowed(conn, "POST");
	if (strcmp(url, KS_API_PREFIX "/owners") == 0) {
		if (!post)
			return method_not_allowed(conn, "POST");
		if (!operator_ok(srv, conn, l->local)) {
			warn_limited("audit: %s %s peer=%s refused: no operator"
			    " credential", method, url, peer);
			return send_error(conn, KS_E_UNAUTHORIZED,
			    "operator token required");
		}
		return do_owner_register(srv, conn, rq, peer);
	}
	if (strcmp(url, HOSTS_PATH) == 0) {
		if (!get && !post)
			return method_not_allowed(conn, "GET, POST");
		if (!operator_ok(srv, conn, l->local)) {
			warn_limited("audit: %s %s peer=%s refused: no operator"
			    " credential", method, url, peer);
			return send_error(conn, KS_E_UNAUTHORIZED,
			    "operator token required");
		}
		return post ? do_enroll(srv, conn, rq, peer) : do_list(srv, conn);
	}
	if (strncmp(url, HOSTS_PATH "/", sizeof(HOSTS_PATH)) == 0) {
		if (split_host(url, name, &tail) < 0)
			return send_error(conn, KS_E_BAD_FIELD,
			    "invalid host name in path");
		if (strcmp(tail, "/certificate") == 0)
			return get ? do_cert(srv, conn, name) :
			    method_not_allowed(conn, "GET");
		if (strcmp(tail, "/activation") == 0)
			return get ? do_activation(srv, conn, name) :
			    method_not_allowed(conn, "GET");
		if (strcmp(tail, "") != 0 && strcmp(tail, "/revoke") != 0)
			return send_error(conn, KS_E_NOT_FOUND, "no such endpoint");
		if (tail[0] == '\0' && !get && !del)
			return method_not_allowed(conn, "GET, DELETE");
		if (tail[0] != '\0' && !post)
			return method_not_allowed(conn, "POST");
		if (!operator_ok(srv, conn, l->local)) {
			warn_limited("audit: %s %s peer=%s refused: no operator"
			    " credential", method, url, peer);
			return send_error(conn, KS_E_UNAUTHORIZED,
			    "operator token required");
		}
		if (tail[0] != '\0')
			return do_revoke(srv, conn, name, 0, peer);
		return del ? do_revoke(srv, conn, name, 1, peer) :
		    do_host_get(srv, conn, name);
	}
	return send_error(conn, KS_E_NOT_FOUND, "no such endpoint");
}

static enum MHD_Result
handler(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **con_cls)
{
	struct listener *l = cls;
	struct req *rq = *con_cls;
	const char *cl;
	unsigned long long n;
	char *end, *nb;
	size_t want;

	if (rq == NULL) {
		if ((rq = calloc(1, sizeof(*rq))) == NULL)
			return MHD_NO;
		*con_cls = rq;
		/* Refuse an announced oversized body before reading any of it. */
		cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
		    MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl != NULL) {
			n = strtoull(cl, &end, 10);
			if (*end == '\0' && n > l->srv->max_body) {
				rq->too_large = 1;
				rq->started = 1;
				return route(l, conn, url, method, rq);
			}
		}
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		if (!rq->too_large) {
			if (*upload_data_size > l->srv->max_body - rq->len) {
				rq->too_large = 1;
				free(rq->body);
				rq->body = NULL;
				rq->len = rq->cap = 0;
			} else {
				want = rq->len + *upload_data_size;
				if (want > rq->cap) {
					want = want < 4096 ? 4096 : want * 2;
					if (want > l->srv->max_body)
						want = l->srv->max_body;
					if ((nb = realloc(rq->body, want)) == NULL)
						return MHD_NO;
					rq->body = nb;
					rq->cap = want;
				}
				memcpy(rq->body + rq->len, upload_data,
				    *upload_data_size);
				rq->len += *upload_data_size;
			}
		}
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (rq->started)
		return MHD_YES;		/* response already queued (early 413) */
	rq->started = 1;
	return route(l, conn, url, method, rq);
}

static void
completed(void *cls, struct MHD_Connection *conn, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct req *rq = *con_cls;

	if (rq != NULL) {
		free(rq->body);
		free(rq);
		*con_cls = NULL;
	}
}

/* libmicrohttpd hands us its own printf format (MHD_LogCallback). */
static void __attribute__((format(printf, 2, 0)))
mhd_log(void *cls, const char *fmt, va_list ap)
{
	char buf[256];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	buf[strcspn(buf, "\n")] = '\0';
	sc_verbose("libmicrohttpd: %s", buf);
}

static struct MHD_Daemon *
start_daemon(struct listener *l, const struct ks_http_cfg *cfg, int fd,
    unsigned int per_ip)
{
	return MHD_start_daemon(MHD_USE_AUTO | MHD_USE_INTERNAL_POLLING_THREAD |
	    MHD_USE_ERROR_LOG, 0, NULL, NULL, handler, l,
	    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
	    MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
	    MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
	    MHD_OPTION_THREAD_POOL_SIZE, cfg->threads,
	    MHD_OPTION_CONNECTION_LIMIT, cfg->max_conns,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, per_ip,
	    MHD_OPTION_CONNECTION_TIMEOUT, cfg->timeout,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)KS_HTTP_CONN_MEMORY,
	    MHD_OPTION_END);
}

int
ks_http_start(struct ks_ctx *ctx, const struct ks_http_cfg *cfg,
    struct ks_http **out)
{
	struct ks_http *srv;
	char text[128], fp[SC_FINGERPRINT_LEN], *pk64;
	json_t *j;

	*out = NULL;
	if ((srv = calloc(1, sizeof(*srv))) == NULL)
		return SC_ERR_ALLOC;
	srv->ctx = ctx;
	srv->max_body = cfg->max_body;
	if (cfg->token_hash != NULL) {
		memcpy(srv->token_hash, cfg->token_hash, 32);
		srv->have_token = 1;
	}
	srv->proxies = cfg->proxies;
	snprintf(srv->proxy_header, sizeof(srv->proxy_header), "%s",
	    cfg->proxy_header != NULL ? cfg->proxy_header :
	    KS_PROXY_HEADER_DEFAULT);
	if (sc_pubkey_format(SC_KSKEY_PREFIX, ctx->signer->pk, "keyserver",
	    text, sizeof(text)) < 0 ||
	    (pk64 = sc_base64_strdup(ctx->signer->pk, SC_ED25519_PK_LEN)) == NULL)
		goto fail;
	sc_fingerprint(ctx->signer->pk, SC_ED25519_PK_LEN, fp);
	j = json_pack("{s:s, s:s, s:s, s:s}", "algorithm", "ed25519",
	    "public_key", pk64, "key", text, "fingerprint", fp);
	free(pk64);
	if (j == NULL || (srv->pubkey_json = json_dumps(j, JSON_COMPACT)) == NULL) {
		json_decref(j);
		goto fail;
	}
	json_decref(j);
	srv->pubkey_json_len = strlen(srv->pubkey_json);

	tcp_listener.srv = local_listener.srv = srv;
	tcp_listener.local = 0;
	local_listener.local = 1;
	if (cfg->tcp_fd >= 0 && (srv->tcp = start_daemon(&tcp_listener, cfg,
	    cfg->tcp_fd, cfg->per_ip)) == NULL)
		goto fail;
	if (cfg->unix_fd >= 0 && (srv->local = start_daemon(&local_listener, cfg,
	    cfg->unix_fd, 0)) == NULL)
		goto fail;
	*out = srv;
	return 0;
 fail:
	ks_http_stop(srv);
	return SC_ERR_SYSTEM;
}

void
ks_http_stop(struct ks_http *srv)
{
	if (srv == NULL)
		return;
	if (srv->tcp != NULL)
		MHD_stop_daemon(srv->tcp);
	if (srv->local != NULL)
		MHD_stop_daemon(srv->local);
	free(srv->pubkey_json);
	sc_memzero(srv->token_hash, sizeof(srv->token_hash));
	free(srv);
}
