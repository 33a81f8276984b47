/*
 * at_http.h — the small HTTP/1.1 client of sccrypt-attest (also used by
 * ks_ownercli.c, sccrypt-term's ownership-token client).
 *
 * Plain HTTP to the key server: nothing the agent sends or receives is
 * secret (nonce, quote, PCR values, public keys) and the certificate it
 * receives is self-authenticating (checked against the pinned key server
 * key before it is stored), so a network attacker can only deny service.
 * One request per connection ("Connection: close"), bounded response size,
 * one overall deadline.
 */
#ifndef SC_AT_HTTP_H
#define SC_AT_HTTP_H

#include <stddef.h>
#include <stdint.h>

#define AT_HTTP_RESP_MAX	(64 * 1024)

struct at_url {
	char	host[256];	/* numeric address or DNS name */
	char	port[8];
	char	prefix[256];	/* path before /v1, "" by default */
};

/* "http://HOST[:PORT][/PREFIX]" (IPv6 as [addr]). */
int	at_url_parse(const char *url, struct at_url *u)
	    __attribute__((warn_unused_result));

/*
 * Parse a complete HTTP/1.x response (the bytes up to EOF): status code
 * and the body (Content-Length bytes if given, else everything after the
 * header).  Chunked transfer encoding is refused (SC_ERR_UNSUPPORTED).
 * SC_ERR_FORMAT / SC_ERR_TRUNCATED on anything malformed.
 */
int	at_http_parse_response(const uint8_t *in, size_t len, int *status,
	    const uint8_t **body, size_t *bodylen)
	    __attribute__((warn_unused_result));

/*
 * method path (after the prefix) with an optional JSON body; waits at most
 * timeout_ms in total.  On success *resp is malloc'd (the raw response) and
 * status, body and bodylen point into it.
 */
int	at_http_request(const struct at_url *u, const char *method,
	    const char *path, const char *json, size_t jsonlen,
	    unsigned int timeout_ms, uint8_t **resp, int *status,
	    const uint8_t **body, size_t *bodylen)
	    __attribute__((warn_unused_result));

#endif /* SC_AT_HTTP_H */
