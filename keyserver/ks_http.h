/*
 * ks_http.h — the key server's HTTP/1.1 front end (libmicrohttpd).
 */
#ifndef SC_KS_HTTP_H
#define SC_KS_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "ks_core.h"
#include "ks_peer.h"

#define KS_HTTP_MAX_CONNS_DEFAULT	256
#define KS_HTTP_PER_IP_DEFAULT		64
#define KS_HTTP_TIMEOUT_DEFAULT		10	/* seconds of inactivity */
#define KS_HTTP_THREADS_DEFAULT		4
#define KS_HTTP_CONN_MEMORY		(32 * 1024)

struct ks_http_cfg {
	int		 tcp_fd;	/* listening TCP socket, or -1 */
	int		 unix_fd;	/* listening operator unix socket, or -1 */
	size_t		 max_body;
	unsigned int	 max_conns;
	unsigned int	 per_ip;	/* 0 = unlimited */
	unsigned int	 timeout;
	unsigned int	 threads;
	/* BLAKE2b-256 of the operator token; NULL: no token accepted on TCP. */
	const uint8_t	*token_hash;
	/* Reverse proxies whose header names the client (ks_peer.h). */
	struct ks_proxy_cfg proxies;
	const char	*proxy_header;	/* NULL: KS_PROXY_HEADER_DEFAULT */
};

struct ks_http;

/* Start serving on the sockets in cfg (which the server then owns). */
int	ks_http_start(struct ks_ctx *ctx, const struct ks_http_cfg *cfg,
	    struct ks_http **out) __attribute__((warn_unused_result));
void	ks_http_stop(struct ks_http *);

/* BLAKE2b-256 of a token's text, as compared by the server. */
void	ks_token_hash(const char *token, size_t len, uint8_t out[32]);

#endif /* SC_KS_HTTP_H */
