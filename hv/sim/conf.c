/*
 * conf.c — parser for sccrypt-hvsim's configuration (format in conf.h and
 * sccrypt-hvsim(8)).  Strict: unknown keys, bad values, duplicates and
 * over-long lines are errors that name the line.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/err.h"
#include "core/frame.h"
#include "encode.h"
#include "io.h"
#include "conf.h"

#define LINE_MAX_LEN	2048
#define CONF_FILE_MAX	(256 * 1024)
#define HISTORY_MIN	2048
#define HISTORY_MAX	(16u << 20)

void
hvsim_conf_defaults(struct hvsim_conf *c)
{
	/*
	 * The domain table is large (HVSIM_MAX_DOMAINS entries of ~3 KiB);
	 * entries are cleared as [domain] sections claim them, so only the
	 * fixed part is cleared here (the parser and the fuzzer call this
	 * for every file).
	 */
	memset(c, 0, offsetof(struct hvsim_conf, dom));
	c->socket_mode = 0600;
	c->pcr = 15;
	c->history = 65536;
}

static int fail(char *, size_t, const char *, unsigned, int, const char *, ...)
    __attribute__((format(printf, 6, 7)));

static int
fail(char *err, size_t errsz, const char *name, unsigned line, int code,
    const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line > 0)
		snprintf(err, errsz, "%s:%u: %s", name, line, msg);
	else
		snprintf(err, errsz, "%s: %s", name, msg);
	return code;
}

static char *
trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

static int
set_str(char *dst, size_t dstsz, const char *v)
{
	size_t n = strlen(v);

	if (n == 0 || n >= dstsz)
		return SC_ERR_FORMAT;
	memcpy(dst, v, n + 1);
	return 0;
}

/* A login name as useradd(8) accepts it: [A-Za-z0-9._-], '-' not first. */
static bool
user_ok(const char *v)
{
	size_t i, n = strlen(v);

	if (n == 0 || n > HVSIM_USER_MAX || v[0] == '-')
		return false;
	for (i = 0; i < n; i++)
		if (!((v[i] >= 'a' && v[i] <= 'z') || (v[i] >= 'A' && v[i] <= 'Z') ||
		    (v[i] >= '0' && v[i] <= '9') || v[i] == '.' || v[i] == '_' ||
		    v[i] == '-'))
			return false;
	return true;
}

#define F(...)	fail(err, errsz, name, lineno, SC_ERR_FORMAT, __VA_ARGS__)

int
hvsim_conf_parse(struct hvsim_conf *c, const char *text, size_t len,
    const char *name, char *err, size_t errsz)
{
	char line[LINE_MAX_LEN + 2], *k, *v, *eq;
	struct hvsim_domain_conf *d = NULL;
	bool seen_uuid[HVSIM_MAX_DOMAINS] = { false };
	unsigned lineno = 0, i, j;
	unsigned long x;
	size_t pos = 0, n;
	uint32_t next;

	while (pos < len) {
		lineno++;
		n = 0;
		while (pos < len && text[pos] != '\n') {
			if (text[pos] == '\0')
				return F("NUL byte in file");
			if (n > LINE_MAX_LEN)
				return F("line too long");
			line[n++] = text[pos++];
		}
		if (pos < len)
			pos++;		/* the newline */
		line[n] = '\0';
		k = trim(line);
		if (*k == '\0' || *k == '#')
			continue;
		if (*k == '[') {
			size_t kl = strlen(k);
			char *nm;

			if (kl < 10 || strncmp(k, "[domain ", 8) != 0 || k[kl - 1] != ']')
				return F("expected [domain NAME]");
			k[kl - 1] = '\0';
			nm = trim(k + 8);
			if (!sc_vmname_valid(nm, strlen(nm)))
				return F("invalid domain name");
			for (i = 0; i < c->ndomains; i++)
				if (strcmp(c->dom[i].name, nm) == 0)
					return F("domain %s defined twice", nm);
			if (c->ndomains == HVSIM_MAX_DOMAINS)
				return F("more than %d domains", HVSIM_MAX_DOMAINS);
			d = &c->dom[c->ndomains++];
			memset(d, 0, sizeof(*d));
			memcpy(d->name, nm, strlen(nm) + 1);
			continue;
		}
		if ((eq = strchr(k, '=')) == NULL)
			return F("expected key = value");
		*eq = '\0';
		v = trim(eq + 1);
		k = trim(k);
		if (d == NULL) {
			if (strcmp(k, "socket") == 0) {
				if (set_str(c->socket, sizeof(c->socket), v) != 0 || v[0] != '/')
					return F("socket: absolute path expected");
			} else if (strcmp(k, "socket-mode") == 0) {
				if (sc_parse_ulong(v, 8, 0, 0777, &x) != 0 || (x & 0007) != 0)
					return F("socket-mode: octal mode without world bits expected");
				c->socket_mode = (mode_t)x;
			} else if (strcmp(k, "tpm-tcti") == 0) {
				if (set_str(c->tcti, sizeof(c->tcti), v) != 0)
					return F("tpm-tcti: value expected");
			} else if (strcmp(k, "pcr") == 0) {
				if (sc_parse_ulong(v, 10, 0, 23, &x) != 0)
					return F("pcr: 0..23 expected");
				if (x == 16 || x == 23)
					return F("pcr: %lu can be reset from any locality; use 15", x);
				c->pcr = (unsigned)x;
			} else if (strcmp(k, "history") == 0) {
				if (sc_parse_ulong(v, 10, HISTORY_MIN, HISTORY_MAX, &x) != 0)
					return F("history: %u..%u bytes expected", HISTORY_MIN, HISTORY_MAX);
				c->history = x;
			} else if (strcmp(k, "owner-ca") == 0) {
				if (sc_hex_decode(v, c->owner_ca, sizeof(c->owner_ca)) != 0)
					return F("owner-ca: 64 hex digits (an Ed25519 public key) expected");
				c->owner_ca_set = true;
			} else
				return F("unknown key '%s'", k);
			continue;
		}
		if (strcmp(k, "domid") == 0) {
			if (sc_parse_ulong(v, 10, 1, 0x7fef, &x) != 0)
				return F("domid: 1..32751 expected");
			d->domid = (uint32_t)x;
		} else if (strcmp(k, "uuid") == 0) {
			if (sc_uuid_parse(v, d->uuid) != 0)
				return F("uuid: xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx expected");
			seen_uuid[d - c->dom] = true;
		} else if (strcmp(k, "disk") == 0) {
			if (set_str(d->disk, sizeof(d->disk), v) != 0)
				return F("disk: path expected");
		} else if (strcmp(k, "command") == 0) {
			if (set_str(d->command, sizeof(d->command), v) != 0)
				return F("command: value expected");
		} else if (strcmp(k, "history") == 0) {
			if (sc_parse_ulong(v, 10, HISTORY_MIN, HISTORY_MAX, &x) != 0)
				return F("history: %u..%u bytes expected", HISTORY_MIN, HISTORY_MAX);
			d->history = x;
		} else if (strcmp(k, "input-log") == 0) {
			if (set_str(d->input_log, sizeof(d->input_log), v) != 0)
				return F("input-log: path expected");
		} else if (strcmp(k, "user") == 0) {
			if (!user_ok(v) || set_str(d->user, sizeof(d->user), v) != 0)
				return F("user: login name expected");
		} else
			return F("unknown key '%s' in [domain %s]", k, d->name);
	}
	lineno = 0;
	for (i = 0; i < c->ndomains; i++) {
		if (!seen_uuid[i])
			return F("domain %s has no uuid", c->dom[i].name);
		for (j = 0; j < i; j++) {
			if (memcmp(c->dom[i].uuid, c->dom[j].uuid, SC_UUID_LEN) == 0)
				return F("domains %s and %s have the same uuid",
				    c->dom[j].name, c->dom[i].name);
			if (c->dom[i].domid != 0 && c->dom[i].domid == c->dom[j].domid)
				return F("domains %s and %s have the same domid",
				    c->dom[j].name, c->dom[i].name);
		}
	}
	/* Domains without a domid get the lowest free ones, in file order. */
	for (i = 0; i < c->ndomains; i++) {
		bool taken = true;

		if (c->dom[i].domid != 0)
			continue;
		for (next = 1; taken; next++) {
			taken = false;
			for (j = 0; j < c->ndomains; j++)
				if (c->dom[j].domid == next)
					taken = true;
			if (!taken)
				break;
		}
		c->dom[i].domid = next;
	}
	return 0;
}

int
hvsim_conf_load(struct hvsim_conf *c, const char *path, char *err, size_t errsz)
{
	unsigned char *data = NULL;
	size_t len = 0;
	int r;

	if ((r = sc_read_file(path, CONF_FILE_MAX, &data, &len)) != 0)
		return fail(err, errsz, path, 0, r, "cannot read: %s", sc_err(r));
	r = hvsim_conf_parse(c, (const char *)data, len, path, err, errsz);
	free(data);
	return r;
}
