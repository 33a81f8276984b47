/*
 * ks_peer.h — who a request comes from: the socket's address, or, when
 * that is a configured trusted reverse proxy, the address the proxy put in
 * its header.  The result drives the per-address nonce quota and the audit
 * log, so a header is believed only from a trusted proxy's address, and
 * only its last (rightmost) element, the one that proxy appended itself.
 * Pure functions: no I/O.
 */
#ifndef SC_KS_PEER_H
#define SC_KS_PEER_H

#include <stdint.h>
#include <sys/socket.h>

#include "ks/ks.h"

#define KS_PROXIES_MAX		8
#define KS_PROXY_HEADER_DEFAULT	"X-Forwarded-For"

struct ks_proxy_cfg {
	unsigned int	n;
	struct {
		int	family;		/* AF_INET or AF_INET6 */
		uint8_t	addr[16];
	} proxy[KS_PROXIES_MAX];
};

/* Add a numeric address to cfg.  SC_ERR_FORMAT, SC_ERR_LIMIT (table full). */
int	ks_proxy_add(struct ks_proxy_cfg *cfg, const char *addr)
	    __attribute__((warn_unused_result));

/*
 * The client's address as text into out.  sa is the socket peer (NULL:
 * unknown, "?"); hdr the trusted-proxy header's value or NULL.  Returns 1
 * when the address came from the header of a trusted proxy (*via gets
 * the proxy's address), 0 when it is sa's, SC_ERR_FORMAT when a trusted
 * proxy sent no usable header (out is then the proxy's address).
 * IPv4-mapped IPv6 addresses are written as IPv4.
 */
int	ks_peer_resolve(const struct sockaddr *sa, const struct ks_proxy_cfg *cfg,
	    const char *hdr, char out[KS_PEER_MAX], char via[KS_PEER_MAX]);

/*
 * The key a per-address quota counts under: an IPv4 address as is, an
 * IPv6 address as its /64 (one subscriber's usual allocation), anything
 * else as is.
 */
void	ks_peer_key(const char *addr, char out[KS_PEER_MAX]);

#endif /* SC_KS_PEER_H */
