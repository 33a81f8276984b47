/*
 * conf.c — sccrypt-webgate's [webgate] section of sccrypt.conf(5) (conf.h).
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/compat.h"
#include "core/err.h"
#include "confsect.h"
#include "log.h"
#include "conf.h"

enum kt { K_LISTEN, K_SOCK, K_PATH, K_BOOL, K_UINT, K_ORIGIN, K_LEVEL };

struct key {
	const char	*name;
	enum kt		 type;
	size_t		 off, size;
	unsigned	 min, max;
};

#define F(m)	offsetof(struct wg_conf, m), sizeof(((struct wg_conf *)0)->m)

static const struct key keys[] = {
	{ "listen",		K_LISTEN, 0, 0, 0, 0 },
	{ "consoled_socket",	K_SOCK, F(consoled), 0, 0 },
	{ "tokens",		K_PATH, F(tokens), 0, 0 },
	{ "tls_certificate",	K_PATH, F(cert), 0, 0 },
	{ "tls_key",		K_PATH, F(key), 0, 0 },
	{ "plaintext",		K_BOOL, F(plaintext), 0, 0 },
	{ "origin",		K_ORIGIN, 0, 0, 0, 0 },
	{ "allow_no_origin",	K_BOOL, F(allow_no_origin), 0, 0 },
	{ "max_clients",	K_UINT, F(max_clients), 1, WG_CLIENTS_MAX },
	{ "max_per_user",	K_UINT, F(max_per_user), 1, WG_CLIENTS_MAX },
	{ "idle_timeout",	K_UINT, F(idle), 1, WG_IDLE_MAX },
	{ "log_level",		K_LEVEL, F(log_level), 0, 0 },
};

struct pstate {
	struct wg_conf	*c;
	uint32_t	 seen;
};

void
wg_conf_defaults(struct wg_conf *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->iface, sizeof(c->iface), "127.0.0.1");
	c->port = 8443;
	c->max_clients = 64;
	c->max_per_user = 4;
	c->idle = 900;
	c->log_level = SC_LOG_INFO;
}

int
wg_listen_parse(const char *s, char iface[WG_IFACE_MAX + 1], unsigned *port)
{
	const char *colon = strrchr(s, ':');
	uint64_t v;
	size_t n;

	if (colon == NULL || (n = (size_t)(colon - s)) == 0 || n > WG_IFACE_MAX ||
	    sc_confsect_number(colon + 1, false, &v) != 0 || v < 1 || v > 65535)
		return SC_ERR_FORMAT;
	memcpy(iface, s, n);
	iface[n] = '\0';
	*port = (unsigned)v;
	return 0;
}

static bool
origin_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n >= WG_ORIGIN_MAX)
		return false;
	for (i = 0; i < n; i++)
		if (s[i] <= 0x20 || s[i] > 0x7e)
			return false;
	return true;
}

static int
set_key(struct wg_conf *c, const struct key *k, const char *val, const char **why)
{
	char *dst = (char *)c + k->off;
	size_t n = strlen(val);
	uint64_t v;

	switch (k->type) {
	case K_LISTEN:
		if (wg_listen_parse(val, c->iface, &c->port) != 0) {
			*why = "listen must be ADDRESS:PORT";
			return SC_ERR_FORMAT;
		}
		return 0;
	case K_SOCK:
	case K_PATH:
		if (n == 0 || val[0] != '/') {
			*why = "path must be absolute";
			return SC_ERR_FORMAT;
		}
		if (n >= k->size) {
			*why = "path too long";
			return SC_ERR_TOOLONG;
		}
		memcpy(dst, val, n + 1);
		return 0;
	case K_BOOL:
		if (sc_confsect_bool(val, (bool *)(void *)dst) != 0) {
			*why = "value must be yes or no";
			return SC_ERR_FORMAT;
		}
		return 0;
	case K_UINT:
		if (sc_confsect_number(val, false, &v) != 0 || v < k->min || v > k->max) {
			*why = "number missing or out of range";
			return SC_ERR_FORMAT;
		}
		*(unsigned *)(void *)dst = (unsigned)v;
		return 0;
	case K_ORIGIN:
		if (!origin_ok(val)) {
			*why = "invalid origin";
			return SC_ERR_FORMAT;
		}
		if (c->norigins == WG_ORIGINS_MAX) {
			*why = "too many origin lines";
			return SC_ERR_LIMIT;
		}
		memcpy(c->origins[c->norigins++], val, n + 1);
		return 0;
	case K_LEVEL:
		if (sc_confsect_log_level(val, &c->log_level) < 0) {
			*why = SC_CONFSECT_LOG_LEVEL_WHY;
			return SC_ERR_FORMAT;
		}
		return 0;
	}
	return SC_ERR_INTERNAL;
}

static int
on_line(void *arg, char *w[], size_t n, const char **why)
{
	struct pstate *ps = arg;
	size_t i;

	if (n != 3 || strcmp(w[1], "=") != 0) {
		*why = "expected: key = value";
		return SC_ERR_FORMAT;
	}
	for (i = 0; i < SC_NELEM(keys); i++) {
		if (strcmp(w[0], keys[i].name) != 0)
			continue;
		if (keys[i].type != K_ORIGIN && (ps->seen & (UINT32_C(1) << i))) {
			*why = "duplicate key";
			return SC_ERR_FORMAT;
		}
		ps->seen |= UINT32_C(1) << i;
		return set_key(ps->c, &keys[i], w[2], why);
	}
	*why = "unknown key in [webgate]";
	return SC_ERR_FORMAT;
}

int
wg_conf_parse(struct wg_conf *c, const char *text, size_t len, unsigned *errline,
    const char **why)
{
	struct pstate ps = { c, 0 };
	bool found;
	int r;

	if ((r = sc_confsect_parse(text, len, WG_SECTION, on_line, &ps, &found,
	    errline, why)) < 0)
		return r;
	if (!found) {
		*why = "no [webgate] section";
		return SC_ERR_NOTFOUND;
	}
	return 0;
}
