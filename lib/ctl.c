/*
 * ctl.c — shim <-> consoled request and reply lines (see ctl.h).
 *
 * Both parsers read untrusted bytes (consoled: from any local user; the shim:
 * from whatever listens on the socket path) and are fuzzed
 * (tests/fuzz/fuzz_consoled_conf.c).  They accept exactly the documented
 * forms: single spaces, no trailing garbage, bounded lengths.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/frame.h"
#include "ctl.h"

static const char *const verb_names[] = {
	[SC_CTL_CONSOLE] = "console",
	[SC_CTL_AUTO] = "auto",
	[SC_CTL_PROTECT] = "protect",
	[SC_CTL_INFO] = "info",
	[SC_CTL_PUBKEY] = "pubkey",
};

static const char *const mode_names[] = {
	[SC_CTL_MODE_FRAMED] = "framed",
	[SC_CTL_MODE_RAW] = "raw",
	[SC_CTL_MODE_TEXT] = "text",
};

static const char *const status_words[] = {
	[SC_CTL_OK] = "ok",
	[SC_CTL_E_USAGE] = "usage",
	[SC_CTL_E_PERM] = "perm",
	[SC_CTL_E_NODOMAIN] = "nodomain",
	[SC_CTL_E_BUSY] = "busy",
	[SC_CTL_E_UNAVAILABLE] = "unavailable",
	[SC_CTL_E_PROTECTED] = "protected",
	[SC_CTL_E_INTERNAL] = "internal",
};

const char *
sc_ctl_verb_name(int verb)
{
	if (verb <= 0 || (size_t)verb >= sizeof(verb_names) / sizeof(verb_names[0]))
		return "?";
	return verb_names[verb];
}

const char *
sc_ctl_status_word(int status)
{
	if (status < 0 || (size_t)status >= sizeof(status_words) / sizeof(status_words[0]))
		return "internal";
	return status_words[status];
}

/* Split line[0..len) (no '\n') into at most max single-space separated words. */
static int
split(const char *line, size_t len, const char *w[], size_t wl[], size_t max,
    size_t *n)
{
	size_t i = 0, start;

	*n = 0;
	while (i < len) {
		if (*n == max)
			return SC_ERR_FORMAT;
		start = i;
		while (i < len && line[i] != ' ')
			i++;
		if (i == start)
			return SC_ERR_FORMAT;	/* empty word: double or leading space */
		w[*n] = line + start;
		wl[*n] = i - start;
		(*n)++;
		if (i < len) {
			i++;			/* the single space */
			if (i == len)
				return SC_ERR_FORMAT;	/* trailing space */
		}
	}
	return 0;
}

static bool
word_is(const char *w, size_t wl, const char *s)
{
	return wl == strlen(s) && memcmp(w, s, wl) == 0;
}

/* Strict decimal: 1..10 digits, no sign, no leading zeros (except "0"). */
static int
parse_uint(const char *w, size_t wl, unsigned long max, unsigned long *out)
{
	unsigned long v = 0;
	size_t i;

	if (wl == 0 || wl > 10 || (wl > 1 && w[0] == '0'))
		return SC_ERR_FORMAT;
	for (i = 0; i < wl; i++) {
		if (w[i] < '0' || w[i] > '9')
			return SC_ERR_FORMAT;
		v = v * 10 + (unsigned long)(w[i] - '0');
		if (v > max)
			return SC_ERR_FORMAT;
	}
	*out = v;
	return 0;
}

static int
check_line(const char *line, size_t len, size_t *body)
{
	size_t i;

	if (len == 0 || len > SC_CTL_LINE_MAX || line[len - 1] != '\n')
		return SC_ERR_FORMAT;
	for (i = 0; i + 1 < len; i++)
		if ((unsigned char)line[i] < 0x20 || (unsigned char)line[i] > 0x7e)
			return SC_ERR_FORMAT;
	*body = len - 1;
	return 0;
}

int
sc_ctl_request_parse(const char *line, size_t len, struct sc_ctl_request *rq)
{
	const char *w[6];
	size_t wl[6], n, body, v;
	unsigned long uid;
	int r;

	memset(rq, 0, sizeof(*rq));
	if ((r = check_line(line, len, &body)) < 0)
		return r;
	if ((r = split(line, body, w, wl, 6, &n)) < 0)
		return r;
	if (n != 4 && n != 5)
		return SC_ERR_FORMAT;
	if (!word_is(w[0], wl[0], SC_CTL_MAGIC))
		return SC_ERR_VERSION;
	for (v = 1; v < sizeof(verb_names) / sizeof(verb_names[0]); v++)
		if (word_is(w[1], wl[1], verb_names[v]))
			rq->verb = (int)v;
	if (rq->verb == 0)
		return SC_ERR_TYPE;
	if (rq->verb == SC_CTL_PUBKEY) {
		if (!word_is(w[2], wl[2], "-"))
			return SC_ERR_FORMAT;
	} else {
		if (!sc_vmname_valid(w[2], wl[2]))
			return SC_ERR_FORMAT;
		memcpy(rq->vm, w[2], wl[2]);
		rq->vm[wl[2]] = '\0';
	}
	if (word_is(w[3], wl[3], "B"))
		rq->encoding = SC_ENCODING_BINARY;
	else if (word_is(w[3], wl[3], "A"))
		rq->encoding = SC_ENCODING_ARMOR;
	else
		return SC_ERR_FORMAT;
	if (n == 5) {
		if (wl[4] < 4 || memcmp(w[4], "as=", 3) != 0 ||
		    parse_uint(w[4] + 3, wl[4] - 3, 4294967294UL, &uid) < 0)
			return SC_ERR_FORMAT;
		rq->has_as = 1;
		rq->as_uid = (uid_t)uid;
	}
	return 0;
}

int
sc_ctl_request_format(const struct sc_ctl_request *rq, char *out, size_t outsz,
    size_t *outlen)
{
	char as[32] = "";
	const char *vm;
	int n;

	if (rq->verb < SC_CTL_CONSOLE || rq->verb > SC_CTL_PUBKEY)
		return SC_ERR_INVAL;
	if (rq->encoding != SC_ENCODING_BINARY && rq->encoding != SC_ENCODING_ARMOR)
		return SC_ERR_INVAL;
	if (rq->verb == SC_CTL_PUBKEY) {
		vm = "-";
	} else {
		vm = rq->vm;
		if (!sc_vmname_valid(vm, strnlen(vm, sizeof(rq->vm))))
			return SC_ERR_INVAL;
	}
	if (rq->has_as)
		snprintf(as, sizeof(as), " as=%lu", (unsigned long)rq->as_uid);
	n = snprintf(out, outsz, "%s %s %s %c%s\n", SC_CTL_MAGIC,
	    verb_names[rq->verb], vm, rq->encoding, as);
	if (n < 0 || (size_t)n >= outsz || (size_t)n > SC_CTL_LINE_MAX)
		return SC_ERR_NOSPACE;
	*outlen = (size_t)n;
	return 0;
}

int
sc_ctl_reply_format(const struct sc_ctl_reply *rp, char *out, size_t outsz,
    size_t *outlen)
{
	char text[SC_CTL_TEXT_MAX + 1];
	size_t i;
	int n;

	if (rp->status == SC_CTL_OK) {
		if (rp->mode < SC_CTL_MODE_FRAMED || rp->mode > SC_CTL_MODE_TEXT)
			return SC_ERR_INVAL;
		n = snprintf(out, outsz, "OK %s\n", mode_names[rp->mode]);
	} else {
		/* Keep the text printable ASCII; it ends up on a user's terminal. */
		for (i = 0; i < SC_CTL_TEXT_MAX && rp->text[i] != '\0'; i++)
			text[i] = (rp->text[i] >= 0x20 && rp->text[i] <= 0x7e) ?
			    rp->text[i] : '?';
		if (i == 0)
			text[i++] = '-';
		text[i] = '\0';
		n = snprintf(out, outsz, "ERR %s %s\n",
		    sc_ctl_status_word(rp->status), text);
	}
	if (n < 0 || (size_t)n >= outsz || (size_t)n > SC_CTL_LINE_MAX)
		return SC_ERR_NOSPACE;
	*outlen = (size_t)n;
	return 0;
}

int
sc_ctl_reply_parse(const char *line, size_t len, struct sc_ctl_reply *rp)
{
	size_t body, i, sp, tl;
	int r;

	memset(rp, 0, sizeof(*rp));
	if ((r = check_line(line, len, &body)) < 0)
		return r;
	if (body > 3 && memcmp(line, "OK ", 3) == 0) {
		for (i = 1; i < sizeof(mode_names) / sizeof(mode_names[0]); i++) {
			if (word_is(line + 3, body - 3, mode_names[i])) {
				rp->status = SC_CTL_OK;
				rp->mode = (int)i;
				return 0;
			}
		}
		return SC_ERR_FORMAT;
	}
	if (body > 4 && memcmp(line, "ERR ", 4) == 0) {
		for (sp = 4; sp < body && line[sp] != ' '; sp++)
			;
		if (sp == body)
			return SC_ERR_FORMAT;
		rp->status = -1;
		for (i = 1; i < sizeof(status_words) / sizeof(status_words[0]); i++)
			if (word_is(line + 4, sp - 4, status_words[i]))
				rp->status = (int)i;
		if (rp->status < 0)
			rp->status = SC_CTL_E_INTERNAL;	/* unknown code: still an error */
		tl = SC_MIN(body - sp - 1, (size_t)SC_CTL_TEXT_MAX);
		memcpy(rp->text, line + sp + 1, tl);
		rp->text[tl] = '\0';
		return 0;
	}
	return SC_ERR_FORMAT;
}
