/*
 * fuzz_webgate — what sccrypt-webgate parses from its WebSocket-facing and
 * relay-facing input (webgate/auth.c; libwebsockets does the RFC 6455
 * framing): the browser's first message, the tokens file, consoled's reply
 * line and the Origin check.  The first byte picks the parser.  Invariants:
 * an accepted first message is exactly "SCCRYPT-WEB/1 TOKEN VM" rebuilt
 * from its fields, with a valid VM name and token; every token entry found
 * is one that was parsed; sanitised reply text is printable; an Origin equal
 * to an exact pattern is allowed, and one with a byte outside the pattern's
 * prefix or a non-digit port is not.  A first byte of 0xC0 picks the
 * sccrypt.conf(5) parser for the [webgate] section (webgate/conf.c over
 * lib/confsect.c): an accepted file gives settings within their limits,
 * and the main part's parse by the same line syntax agrees on validity.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/frame.h"
#include "auth.h"
#include "conf.h"
#include "confsect.h"

static void
printable_or_abort(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s < 0x20 || *s > 0x7e)
			abort();
}

#define WG_FUZZ_CONF	0xC0

static int
count_line(void *arg, char *w[], size_t n, const char **why)
{
	(void)w; (void)why;
	if (n == 0 || n > SC_CONFSECT_WORDS)
		abort();
	(*(size_t *)arg)++;
	return 0;
}

static int
conf_one(const char *text, size_t len)
{
	static struct wg_conf c;
	const char *why;
	unsigned errline;
	size_t lines = 0, i;
	int r, r2;

	wg_conf_defaults(&c);
	r = wg_conf_parse(&c, text, len, &errline, &why);
	if (r == 0) {
		if (c.port < 1 || c.port > 65535 || c.max_clients < 1 ||
		    c.max_clients > WG_CLIENTS_MAX || c.max_per_user < 1 ||
		    c.idle < 1 || c.idle > WG_IDLE_MAX || c.norigins > WG_ORIGINS_MAX ||
		    (c.consoled[0] != '\0' && c.consoled[0] != '/') ||
		    (c.tokens[0] != '\0' && c.tokens[0] != '/') || strlen(c.iface) == 0)
			abort();
		for (i = 0; i < c.norigins; i++)
			printable_or_abort(c.origins[i]);
	} else if (why == NULL || why[0] == '\0')
		abort();
	/* The line syntax is the file's, whichever section is read. */
	r2 = sc_confsect_parse(text, len, NULL, count_line, &lines, NULL, &errline, &why);
	if (r2 != 0 && r == 0)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct wg_tokens t;
	struct wg_auth a;
	char buf[WG_AUTH_MAX + 64], code[32], text[WG_REPLY_MAX];
	size_t bad;
	int n;

	if (size < 1)
		return 0;
	if (data[0] == WG_FUZZ_CONF)
		return conf_one((const char *)data + 1, size - 1);
	switch (data[0] % 4) {
	case 0:
		if (wg_auth_parse(data + 1, size - 1, &a) != 0)
			return 0;
		if (!sc_vmname_valid(a.vm, strlen(a.vm)) ||
		    strlen(a.token) < WG_TOKEN_MIN || strlen(a.token) > WG_TOKEN_MAX)
			abort();
		/* The message is exactly what it parsed to; no word means B. */
		if (a.enc != 'A' && a.enc != 'B')
			abort();
		n = snprintf(buf, sizeof(buf), "%s %s %s", WG_AUTH_PREFIX, a.token, a.vm);
		if (n >= 0 && (size_t)n != size - 1)
			n = snprintf(buf, sizeof(buf), "%s %s %s %c", WG_AUTH_PREFIX,
			    a.token, a.vm, a.enc);
		else if (a.enc != 'B')
			abort();
		if (n < 0 || (size_t)n != size - 1 || memcmp(buf, data + 1, size - 1) != 0)
			abort();
		break;
	case 1:
		if (wg_tokens_parse((const char *)data + 1, size - 1, &t, &bad) != 0) {
			if (bad == 0 || t.n != 0)
				abort();
			return 0;
		}
		for (size_t i = 0; i < t.n; i++) {
			if (t.e[i].user[0] == '\0' || strlen(t.e[i].user) > WG_USER_MAX)
				abort();
			const struct wg_token_entry *e = wg_tokens_find(&t, t.e[i].hash);
			if (e == NULL || memcmp(e->hash, t.e[i].hash, WG_HASH_LEN) != 0)
				abort();
		}
		break;
	case 2:
		n = wg_reply_parse((const char *)data + 1, size - 1, code, sizeof(code),
		    text, sizeof(text));
		if (n == 1 && (size - 1 != 9 || memcmp(data + 1, "OK framed", 9) != 0))
			abort();
		if (n == 0 && code[0] == '\0')
			abort();
		printable_or_abort(code);
		printable_or_abort(text);
		break;
	default: {
		/* "pattern\0origin" */
		const char *p = (const char *)data + 1, *nul = memchr(p, '\0', size - 1);
		char pat[WG_ORIGIN_MAX], org[WG_ORIGIN_MAX];
		const char *pats[1] = { pat };
		size_t pl, ol;

		if (nul == NULL)
			return 0;
		pl = (size_t)(nul - p);
		ol = size - 2 - pl;
		if (pl >= sizeof(pat) || ol >= sizeof(org) || memchr(nul + 1, '\0', ol) != NULL)
			return 0;
		memcpy(pat, p, pl);
		pat[pl] = '\0';
		memcpy(org, nul + 1, ol);
		org[ol] = '\0';
		if (pl > 0 && strcmp(pat, org) == 0 && !wg_origin_allowed(org, pats, 1, false))
			abort();
		if (wg_origin_allowed(org, pats, 1, false)) {
			if (pl >= 2 && pat[pl - 1] == '*' && pat[pl - 2] == ':' && strcmp(pat, org) != 0) {
				if (ol < pl || memcmp(org, pat, pl - 1) != 0)
					abort();
				for (size_t i = pl - 1; i < ol; i++)
					if (org[i] < '0' || org[i] > '9')
						abort();
			} else if (strcmp(pat, org) != 0)
				abort();
		}
		if (wg_origin_allowed("", pats, 1, false) || !wg_origin_allowed(NULL, pats, 1, true))
			abort();
		break;
	}
	}
	return 0;
}
