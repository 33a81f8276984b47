/*
 * auth.c — see auth.h.
 */
#include "config.h"

#include <string.h>

#include <sodium.h>

#include "core/err.h"
#include "core/frame.h"
#include "auth.h"

static bool
tok_char(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '-';
}

int
wg_auth_parse(const uint8_t *msg, size_t len, struct wg_auth *a)
{
	const size_t plen = sizeof(WG_AUTH_PREFIX) - 1;
	size_t i, tl, vl, rest;
	const uint8_t *tok, *vm;

	memset(a, 0, sizeof(*a));
	if (len > WG_AUTH_MAX)
		return SC_ERR_TOOLONG;
	if (len < plen + 1 || memcmp(msg, WG_AUTH_PREFIX, plen) != 0 ||
	    msg[plen] != ' ')
		return SC_ERR_FORMAT;
	tok = msg + plen + 1;
	rest = len - plen - 1;
	for (tl = 0; tl < rest && tok[tl] != ' '; tl++)
		if (!tok_char(tok[tl]))
			return SC_ERR_FORMAT;
	if (tl < WG_TOKEN_MIN || tl > WG_TOKEN_MAX || tl == rest)
		return SC_ERR_FORMAT;
	vm = tok + tl + 1;
	rest -= tl + 1;
	for (vl = 0; vl < rest && vm[vl] != ' '; vl++)
		;
	a->enc = 'B';
	if (vl < rest) {
		/* " A" or " B": exactly one more word of one character. */
		if (rest - vl != 2 || (vm[vl + 1] != 'A' && vm[vl + 1] != 'B'))
			return SC_ERR_FORMAT;
		a->enc = (char)vm[vl + 1];
	}
	if (!sc_vmname_valid((const char *)vm, vl) || vl >= sizeof(a->vm))
		return SC_ERR_FORMAT;
	memcpy(a->token, tok, tl);
	memcpy(a->vm, vm, vl);
	for (i = 0; i < vl; i++)
		if (a->vm[i] == '\0')
			return SC_ERR_FORMAT;
	return 0;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static bool
user_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
	    c == '.' || c == '-';
}

int
wg_tokens_parse(const char *text, size_t len, struct wg_tokens *t,
    size_t *bad_line)
{
	size_t pos = 0, line = 0;

	memset(t, 0, sizeof(*t));
	*bad_line = 0;
	while (pos < len) {
		size_t end = pos, ul, i;
		const char *l = text + pos;
		struct wg_token_entry *e;

		while (end < len && text[end] != '\n')
			end++;
		line++;
		pos = end + 1;
		if (end - (size_t)(l - text) == 0 || l[0] == '#')
			continue;
		/* USER SP 64 lowercase hex digits, nothing else. */
		for (ul = 0; l + ul < text + end && l[ul] != ' '; ul++)
			if (!user_char(l[ul]))
				goto bad;
		if (ul == 0 || ul > WG_USER_MAX ||
		    (size_t)(text + end - l) != ul + 1 + 2 * WG_HASH_LEN ||
		    t->n == WG_TOKENS_MAX)
			goto bad;
		e = &t->e[t->n];
		memcpy(e->user, l, ul);
		for (i = 0; i < WG_HASH_LEN; i++) {
			int hi = hexval(l[ul + 1 + 2 * i]), lo = hexval(l[ul + 2 + 2 * i]);

			if (hi < 0 || lo < 0)
				goto bad;
			e->hash[i] = (uint8_t)(hi << 4 | lo);
		}
		t->n++;
		continue;
bad:
		*bad_line = line;
		sodium_memzero(t, sizeof(*t));
		return SC_ERR_FORMAT;
	}
	return 0;
}

const struct wg_token_entry *
wg_tokens_find(const struct wg_tokens *t, const uint8_t hash[WG_HASH_LEN])
{
	const struct wg_token_entry *found = NULL;
	size_t i;

	for (i = 0; i < t->n; i++)
		if (sodium_memcmp(t->e[i].hash, hash, WG_HASH_LEN) == 0 &&
		    found == NULL)
			found = &t->e[i];
	return found;
}

bool
wg_origin_allowed(const char *origin, const char *const *patterns, size_t n,
    bool allow_missing)
{
	size_t i, ol, pl;

	if (origin == NULL || origin[0] == '\0')
		return allow_missing;
	ol = strlen(origin);
	for (i = 0; i < n; i++) {
		pl = strlen(patterns[i]);
		if (pl >= 2 && patterns[i][pl - 1] == '*' && patterns[i][pl - 2] == ':') {
			size_t j;

			/* "scheme://host:*": the prefix, then 1..5 digits. */
			if (ol <= pl - 1 || ol > pl - 1 + 5 ||
			    memcmp(origin, patterns[i], pl - 1) != 0)
				continue;
			for (j = pl - 1; j < ol; j++)
				if (origin[j] < '0' || origin[j] > '9')
					break;
			if (j == ol)
				return true;
		} else if (ol == pl && memcmp(origin, patterns[i], pl) == 0)
			return true;
	}
	return false;
}

static void
copy_sane(char *dst, size_t dstsz, const char *src, size_t len)
{
	size_t i;

	if (dstsz == 0)
		return;
	if (len > dstsz - 1)
		len = dstsz - 1;
	for (i = 0; i < len; i++)
		dst[i] = (src[i] >= 0x20 && src[i] <= 0x7e) ? src[i] : '?';
	dst[len] = '\0';
}

int
wg_reply_parse(const char *line, size_t len, char *code, size_t codesz,
    char *text, size_t textsz)
{
	size_t cl;

	code[0] = text[0] = '\0';
	if (len >= WG_REPLY_MAX)
		return SC_ERR_FORMAT;
	if (len == 9 && memcmp(line, "OK framed", 9) == 0)
		return 1;
	if (len < 5 || memcmp(line, "ERR ", 4) != 0)
		return SC_ERR_FORMAT;
	for (cl = 0; 4 + cl < len && line[4 + cl] != ' '; cl++)
		if (line[4 + cl] < 'a' || line[4 + cl] > 'z')
			return SC_ERR_FORMAT;
	if (cl == 0)
		return SC_ERR_FORMAT;
	copy_sane(code, codesz, line + 4, cl);
	if (4 + cl < len)
		copy_sane(text, textsz, line + 5 + cl, len - 5 - cl);
	return 0;
}
