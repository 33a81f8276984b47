/*
 * confsect.c — sccrypt.conf(5) line syntax and sections (see confsect.h).
 */
#include "config.h"

#include <string.h>

#include "core/err.h"
#include "confsect.h"
#include "log.h"

static const char printable[] = " \t!\"#$%&'()*+,-./0123456789:;<=>?@"
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~";

static bool
is_blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

bool
sc_confsect_header(const char *line, char name[SC_CONFSECT_NAME_MAX + 1])
{
	size_t i, n;

	while (is_blank(*line))
		line++;
	if (line[0] != '[')
		return false;
	for (n = 0; line[1 + n] != ']' && line[1 + n] != '\0'; n++)
		;
	if (line[1 + n] != ']' || n == 0 || n > SC_CONFSECT_NAME_MAX)
		return false;
	for (i = 2 + n; line[i] != '\0'; i++)
		if (!is_blank(line[i]))
			return false;
	for (i = 0; i < n; i++) {
		char ch = line[1 + i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_'))
			return false;
	}
	memcpy(name, line + 1, n);
	name[n] = '\0';
	return true;
}

int
sc_confsect_words(char *p, char *w[], size_t max, size_t *n)
{
	*n = 0;
	for (;;) {
		while (is_blank(*p))
			p++;
		if (*p == '\0')
			return 0;
		if (*n == max)
			return SC_ERR_FORMAT;
		w[(*n)++] = p;
		while (*p != '\0' && !is_blank(*p))
			p++;
		if (*p != '\0')
			*p++ = '\0';
	}
}

int
sc_confsect_parse(const char *text, size_t len, const char *section,
    sc_confsect_fn fn, void *arg, bool *found, unsigned *errline, const char **why)
{
	char line[SC_CONFSECT_LINE_MAX + 1], name[SC_CONFSECT_NAME_MAX + 1];
	char *w[SC_CONFSECT_WORDS];
	size_t i = 0, start, n, nw;
	unsigned lineno = 0;
	bool in = section == NULL, seen = false;
	int r;

	*errline = 0;
	*why = "";
	if (found != NULL)
		*found = false;
	while (i < len) {
		lineno++;
		start = i;
		while (i < len && text[i] != '\n')
			i++;
		n = i - start;
		if (i < len)
			i++;
		*errline = lineno;
		if (n > SC_CONFSECT_LINE_MAX) {
			*why = "line too long";
			return SC_ERR_TOOLONG;
		}
		memcpy(line, text + start, n);
		line[n] = '\0';
		if (n > 0 && line[n - 1] == '\r')
			line[--n] = '\0';
		if (memchr(line, '\0', n) != NULL || strspn(line, printable) != n) {
			*why = "control character or non-ASCII byte";
			return SC_ERR_FORMAT;
		}
		if (sc_confsect_words(line, w, SC_CONFSECT_WORDS, &nw) < 0) {
			*why = "too many words";
			return SC_ERR_FORMAT;
		}
		if (nw == 0 || w[0][0] == '#')
			continue;
		if (w[0][0] == '[') {
			/* sc_confsect_words() cut at blanks: rejoin is not needed, "[a b]" is bad. */
			if (nw != 1 || !sc_confsect_header(w[0], name)) {
				*why = "malformed section line: expected [name]";
				return SC_ERR_FORMAT;
			}
			in = section != NULL && strcmp(name, section) == 0;
			if (in && seen) {
				*why = "section given twice";
				return SC_ERR_FORMAT;
			}
			seen = seen || in;
			continue;
		}
		if (in && (r = fn(arg, w, nw, why)) < 0)
			return r;
	}
	*errline = 0;
	if (found != NULL)
		*found = seen;
	return 0;
}

int
sc_confsect_number(const char *s, bool suffix, uint64_t *out)
{
	uint64_t v = 0, mul = 1;
	size_t i, n = strlen(s);

	if (n == 0)
		return SC_ERR_FORMAT;
	if (suffix) {
		switch (s[n - 1]) {
		case 'K': case 'k': mul = 1u << 10; n--; break;
		case 'M': case 'm': mul = 1u << 20; n--; break;
		case 'G': case 'g': mul = 1u << 30; n--; break;
		}
	}
	if (n == 0 || n > 15)
		return SC_ERR_FORMAT;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return SC_ERR_FORMAT;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v * mul;
	return 0;
}

int
sc_confsect_bool(const char *s, bool *out)
{
	if (strcmp(s, "yes") == 0)
		*out = true;
	else if (strcmp(s, "no") == 0)
		*out = false;
	else
		return SC_ERR_FORMAT;
	return 0;
}

int
sc_confsect_log_level(const char *s, int *level)
{
	if (strcmp(s, "error") == 0) *level = SC_LOG_ERROR;
	else if (strcmp(s, "warn") == 0) *level = SC_LOG_WARN;
	else if (strcmp(s, "info") == 0) *level = SC_LOG_INFO;
	else if (strcmp(s, "verbose") == 0) *level = SC_LOG_VERBOSE;
	else if (strcmp(s, "debug") == 0) *level = SC_LOG_DEBUG;
	else
		return SC_ERR_FORMAT;
	return 0;
}
