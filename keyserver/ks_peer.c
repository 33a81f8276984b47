/*
 * ks_peer.c — client address of a request, trusted-proxy aware.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "ks_peer.h"

/* Numeric text -> family and 4 or 16 bytes; v4-mapped v6 becomes v4. */
static int
parse_addr(const char *s, int *family, uint8_t addr[16])
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0xff, 0xff };

	memset(addr, 0, 16);
	if (inet_pton(AF_INET, s, addr) == 1) {
		*family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, addr) != 1)
		return SC_ERR_FORMAT;
	*family = AF_INET6;
	if (memcmp(addr, mapped, sizeof(mapped)) == 0) {
		memmove(addr, addr + 12, 4);
		memset(addr + 4, 0, 12);
		*family = AF_INET;
	}
	return 0;
}

static void
format_addr(int family, const uint8_t addr[16], char out[KS_PEER_MAX])
{
	if (inet_ntop(family, addr, out, KS_PEER_MAX) == NULL)
		snprintf(out, KS_PEER_MAX, "?");
}

static int
sockaddr_addr(const struct sockaddr *sa, int *family, uint8_t addr[16])
{
	char text[INET6_ADDRSTRLEN];

	if (sa == NULL)
		return SC_ERR_NOTFOUND;
	if (sa->sa_family == AF_INET) {
		memset(addr, 0, 16);
		memcpy(addr, &((const struct sockaddr_in *)(const void *)sa)->
		    sin_addr, 4);
		*family = AF_INET;
		return 0;
	}
	if (sa->sa_family != AF_INET6)
		return SC_ERR_NOTFOUND;
	/* Through text, so v4-mapped addresses are folded like a header's. */
	if (inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)
	    sa)->sin6_addr, text, sizeof(text)) == NULL)
		return SC_ERR_NOTFOUND;
	return parse_addr(text, family, addr);
}

int
ks_proxy_add(struct ks_proxy_cfg *cfg, const char *addr)
{
	int family;
	uint8_t a[16];

	if (parse_addr(addr, &family, a) < 0)
		return SC_ERR_FORMAT;
	if (cfg->n >= KS_PROXIES_MAX)
		return SC_ERR_LIMIT;
	cfg->proxy[cfg->n].family = family;
	memcpy(cfg->proxy[cfg->n].addr, a, 16);
	cfg->n++;
	return 0;
}

static int
trusted(const struct ks_proxy_cfg *cfg, int family, const uint8_t addr[16])
{
	unsigned int i;

	for (i = 0; cfg != NULL && i < cfg->n; i++)
		if (cfg->proxy[i].family == family &&
		    memcmp(cfg->proxy[i].addr, addr, 16) == 0)
			return 1;
	return 0;
}

/* The rightmost comma-separated element of hdr, trimmed, as an address. */
static int
last_element(const char *hdr, int *family, uint8_t addr[16])
{
	const char *start = strrchr(hdr, ',');
	char text[INET6_ADDRSTRLEN + 1];
	size_t n;

	start = start != NULL ? start + 1 : hdr;
	while (*start == ' ' || *start == '\t')
		start++;
	n = strcspn(start, " \t");
	if (n == 0 || n >= sizeof(text) || start[n + strspn(start + n, " \t")]
	    != '\0')
		return SC_ERR_FORMAT;
	memcpy(text, start, n);
	text[n] = '\0';
	return parse_addr(text, family, addr);
}

int
ks_peer_resolve(const struct sockaddr *sa, const struct ks_proxy_cfg *cfg,
    const char *hdr, char out[KS_PEER_MAX], char via[KS_PEER_MAX])
{
	int family, cfamily;
	uint8_t addr[16], caddr[16];

	via[0] = '\0';
	if (sockaddr_addr(sa, &family, addr) < 0) {
		snprintf(out, KS_PEER_MAX, "?");
		return 0;
	}
	format_addr(family, addr, out);
	if (!trusted(cfg, family, addr))
		return 0;
	if (hdr == NULL || last_element(hdr, &cfamily, caddr) < 0)
		return SC_ERR_FORMAT;
	format_addr(family, addr, via);
	format_addr(cfamily, caddr, out);
	return 1;
}

void
ks_peer_key(const char *addr, char out[KS_PEER_MAX])
{
	uint8_t a[16];
	char text[INET6_ADDRSTRLEN];
	int family;

	if (parse_addr(addr, &family, a) < 0 || family != AF_INET6) {
		snprintf(out, KS_PEER_MAX, "%s", addr);
		return;
	}
	memset(a + 8, 0, 8);
	if (inet_ntop(AF_INET6, a, text, sizeof(text)) == NULL)
		snprintf(out, KS_PEER_MAX, "%s", addr);
	else
		snprintf(out, KS_PEER_MAX, "%s/64", text);
}
