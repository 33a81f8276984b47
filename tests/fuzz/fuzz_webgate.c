/*
 * fuzz_webgate — what sccrypt-webgate parses from its WebSocket-facing and
 * relay-facing input (webgate/auth.c; libwebsockets does the RFC 6455
 * framing): the browser's first message, the tokens file, consoled's reply
 * line and the Origin check.  The first byte picks the parser.  Invariants:
 * an accepted first message is exactly "SCCRYPT-WEB/1 TOKEN VM" rebuilt
 * from its fields, with a valid VM name and token; every token entry found
 * is one that was parsed; sanitised reply text is printable; an Origin equal
 * to an exact pattern is allowed, and one with a byte outside the pattern's
 * prefix or a non-digit port is not.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/frame.h"
#include "auth.h"

static void
printable_or_abort(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s < 0x20 || *s > 0x7e)
			abort();
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
	switch (data[0] % 4) {
	case 0:
		if (wg_auth_parse(data + 1, size - 1, &a) != 0)
			return 0;
		if (!sc_vmname_valid(a.vm, strlen(a.vm)) ||
		    strlen(a.token) < WG_TOKEN_MIN || strlen(a.token) > WG_TOKEN_MAX)
			abort();
		n = snprintf(buf, sizeof(buf), "%s %s %s", WG_AUTH_PREFIX, a.token, a.vm);
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
