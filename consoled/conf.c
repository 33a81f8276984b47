/*
 * conf.c — sccrypt.conf(5) parser and the per-user VM policy.
 *
 * The parser is strict: a typo in a daemon's access-control configuration
 * must stop it from starting rather than silently open or close access.
 * Fuzzed by tests/fuzz/fuzz_consoled_conf.c.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/frame.h"
#include "log.h"
#include "io.h"
#include "confsect.h"
#include "ctl.h"
#include "conf.h"
#include "coalesce.h"

#define CONF_FILE_MAX	(1u << 20)

enum kt { K_STR, K_PATH, K_UINT, K_SIZE, K_MODE, K_BACKEND, K_LEVEL, K_USER };

struct key {
	const char	*name;
	enum kt		 type;
	size_t		 off;
	size_t		 size;		/* for strings: buffer size */
	uint64_t	 min, max;	/* for numbers */
};

#define F(m)	offsetof(struct sc_conf, m), sizeof(((struct sc_conf *)0)->m)

static const struct key keys[] = {
	{ "backend",		K_BACKEND, F(backend), 0, 0 },
	{ "hv_socket",		K_PATH, F(hv_socket), 0, 0 },
	{ "listen",		K_PATH, F(listen), 0, 0 },
	{ "listen_mode",	K_MODE, F(listen_mode), 0, 0777 },
	{ "listen_group",	K_USER, F(listen_group), 0, 0 },
	{ "user",		K_USER, F(user), 0, 0 },
	{ "certificate",	K_PATH, F(certificate), 0, 0 },
	{ "pid_file",		K_PATH, F(pid_file), 0, 0 },
	{ "log_dir",		K_PATH, F(log_dir), 0, 0 },
	{ "log_max_bytes",	K_SIZE, F(log_max_bytes), 4096, UINT64_C(1) << 40 },
	{ "max_clients",	K_UINT, F(max_clients), 1, SC_CONF_MAX_CLIENTS_MAX },
	{ "max_clients_per_domain", K_UINT, F(max_clients_per_domain), 1, 64 },
	{ "max_clients_per_user", K_UINT, F(max_clients_per_user), 1,
	    SC_CONF_MAX_CLIENTS_MAX },
	{ "client_buffer",	K_SIZE, F(client_buffer), SC_CONF_CLIENT_BUFFER_MIN,
	    SC_CONF_CLIENT_BUFFER_MAX },
	{ "input_rate",		K_SIZE, F(input_rate), 0, UINT64_C(1) << 40 },
	{ "request_timeout",	K_UINT, F(request_timeout), 1, 3600 },
	{ "handshake_timeout",	K_UINT, F(handshake_timeout), 1, 86400 },
	{ "stall_timeout",	K_UINT, F(stall_timeout), 1, SC_CTL_STALL_MAX },
	{ "raw_backlog",	K_UINT, F(raw_backlog), 0, 1u << 20 },
	{ "guest_output_rate",	K_SIZE, F(guest_output_rate), 0, UINT64_C(1) << 40 },
	{ "output_coalesce_ms",	K_UINT, F(output_coalesce_ms), 0, SC_COALESCE_MS_MAX },
	{ "log_level",		K_LEVEL, F(log_level), 0, 0 },
};

void
sc_conf_defaults(struct sc_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->backend = SC_BACKEND_SIM;
	snprintf(c->hv_socket, sizeof(c->hv_socket), "/run/sccrypt/hvsim.sock");
	snprintf(c->listen, sizeof(c->listen), "%s", SC_CTL_DEFAULT_LISTEN);
	c->listen_mode = 0666;
	snprintf(c->certificate, sizeof(c->certificate), "/var/lib/sccrypt/vmm.cert");
	snprintf(c->pid_file, sizeof(c->pid_file), "/run/sccrypt-consoled.pid");
	c->log_max_bytes = 8u << 20;
	c->max_clients = 256;
	c->max_clients_per_domain = 8;
	c->max_clients_per_user = 32;
	c->client_buffer = 65536;
	c->input_rate = 1u << 20;
	c->request_timeout = 10;
	c->handshake_timeout = 300;
	c->stall_timeout = SC_CTL_STALL_DEFAULT;
	c->raw_backlog = 16384;
	c->guest_output_rate = 256u << 10;
	c->output_coalesce_ms = SC_COALESCE_MS_DEFAULT;
	c->log_level = SC_LOG_INFO;
}

static bool
user_word_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > SC_CONF_USER_MAX)
		return false;
	if (strcmp(s, "*") == 0)
		return true;
	for (i = 0; i < n; i++) {
		char ch = s[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '_' || ch == '-' ||
		    ch == '.' || (ch == '$' && i == n - 1)))
			return false;
	}
	return s[0] != '-';
}

static bool
glob_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > SC_VMNAME_MAX)
		return false;
	for (i = 0; i < n; i++) {
		char ch = s[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '_' || ch == '-' ||
		    ch == '.' || ch == '*' || ch == '?' || ch == '[' ||
		    ch == ']' || ch == '!'))
			return false;
	}
	return true;
}

static int
set_key(struct sc_conf *c, const struct key *k, const char *val, const char **why)
{
	char *dst = (char *)c + k->off;
	uint64_t v;
	size_t n = strlen(val);

	switch (k->type) {
	case K_STR:
	case K_USER:
		if (n >= k->size || (k->type == K_USER && n > 0 && !user_word_ok(val))) {
			*why = "invalid value";
			return SC_ERR_FORMAT;
		}
		memcpy(dst, val, n + 1);
		return 0;
	case K_PATH:
		if (n >= k->size) {
			*why = "path too long";
			return SC_ERR_TOOLONG;
		}
		if (n > 0 && val[0] != '/') {
			*why = "path must be absolute";
			return SC_ERR_FORMAT;
		}
		memcpy(dst, val, n + 1);
		return 0;
	case K_BACKEND:
		if (strcmp(val, "sim") == 0)
			c->backend = SC_BACKEND_SIM;
		else if (strcmp(val, "xen") == 0)
			c->backend = SC_BACKEND_XEN;
		else {
			*why = "backend must be sim or xen";
			return SC_ERR_FORMAT;
		}
		return 0;
	case K_LEVEL:
		if (sc_confsect_log_level(val, &c->log_level) < 0) {
			*why = SC_CONFSECT_LOG_LEVEL_WHY;
			return SC_ERR_FORMAT;
		}
		return 0;
	case K_MODE: {
		size_t i;
		if (n < 1 || n > 4) {
			*why = "mode must be octal, e.g. 0660";
			return SC_ERR_FORMAT;
		}
		for (v = 0, i = 0; i < n; i++) {
			if (val[i] < '0' || val[i] > '7') {
				*why = "mode must be octal, e.g. 0660";
				return SC_ERR_FORMAT;
			}
			v = v * 8 + (uint64_t)(val[i] - '0');
		}
		if (v > k->max) {
			*why = "mode out of range";
			return SC_ERR_FORMAT;
		}
		c->listen_mode = (unsigned)v;
		return 0;
	}
	case K_UINT:
	case K_SIZE:
		if (sc_confsect_number(val, k->type == K_SIZE, &v) < 0) {
			*why = "invalid number";
			return SC_ERR_FORMAT;
		}
		if (v < k->min || v > k->max) {
			*why = "number out of range";
			return SC_ERR_FORMAT;
		}
		if (k->size == sizeof(unsigned))
			*(unsigned *)(void *)dst = (unsigned)v;
		else if (k->size == sizeof(uint64_t))
			*(uint64_t *)(void *)dst = v;
		else
			return SC_ERR_INTERNAL;
		return 0;
	}
	return SC_ERR_INTERNAL;
}

/* Edit distance (insert, delete, substitute), capped at the lengths used. */
static size_t
edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	size_t d[2][64];

	if (la >= 63 || lb >= 63)
		return SIZE_MAX;
	for (j = 0; j <= lb; j++)
		d[0][j] = j;
	for (i = 1; i <= la; i++) {
		size_t *cur = d[i & 1], *prev = d[(i - 1) & 1];

		cur[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);

			cur[j] = SC_MIN(SC_MIN(prev[j] + 1, cur[j - 1] + 1), sub);
		}
	}
	return d[la & 1][lb];
}

static int
parse_line(struct sc_conf *c, char *line, uint32_t *seen, const char **why)
{
	char *w[4];
	size_t n, i;
	struct sc_policy_rule *r;
	int r2;

	if (sc_confsect_words(line, w, 4, &n) < 0) {
		*why = "too many words";
		return SC_ERR_FORMAT;
	}
	if (n == 0 || w[0][0] == '#')
		return 0;
	if (strcmp(w[0], "allow") == 0) {
		if (n != 3) {
			*why = "expected: allow USER VM-GLOB";
			return SC_ERR_FORMAT;
		}
		if (!user_word_ok(w[1])) {
			*why = "invalid user in allow rule";
			return SC_ERR_FORMAT;
		}
		if (!glob_ok(w[2])) {
			*why = "invalid VM pattern in allow rule";
			return SC_ERR_FORMAT;
		}
		if (c->nrules == SC_CONF_RULES_MAX) {
			*why = "too many allow rules";
			return SC_ERR_LIMIT;
		}
		r = &c->rules[c->nrules++];
		memset(r, 0, sizeof(*r));
		snprintf(r->user, sizeof(r->user), "%s", w[1]);
		snprintf(r->glob, sizeof(r->glob), "%s", w[2]);
		r->any_user = strcmp(w[1], "*") == 0;
		return 0;
	}
	if (n < 2 || strcmp(w[1], "=") != 0 || n > 3) {
		*why = "expected: key = value";
		return SC_ERR_FORMAT;
	}
	for (i = 0; i < SC_NELEM(keys); i++) {
		if (strcmp(w[0], keys[i].name) != 0)
			continue;
		if (*seen & (UINT32_C(1) << i)) {
			*why = "duplicate key";
			return SC_ERR_FORMAT;
		}
		*seen |= UINT32_C(1) << i;
		if ((r2 = set_key(c, &keys[i], n == 3 ? w[2] : "", why)) < 0) {
			snprintf(c->why_buf, sizeof(c->why_buf), "%s: %s",
			    keys[i].name, *why);
			*why = c->why_buf;
		}
		return r2;
	}
	{
		size_t best = SIZE_MAX, bi = 0, d, kl = strlen(w[0]);

		/* The file's content is never echoed, except a word that
		 * looks like a key name (the file may not be a config file). */
		if (kl > 32 || strspn(w[0], "abcdefghijklmnopqrstuvwxyz"
		    "0123456789_") != kl) {
			*why = "unknown key";
			return SC_ERR_FORMAT;
		}

		for (i = 0; i < SC_NELEM(keys); i++)
			if ((d = edit_distance(w[0], keys[i].name)) < best) {
				best = d;
				bi = i;
			}
		if (best <= 3 && best < strlen(w[0]))
			snprintf(c->why_buf, sizeof(c->why_buf), "unknown key "
			    "'%s'; did you mean '%s'?", w[0], keys[bi].name);
		else
			snprintf(c->why_buf, sizeof(c->why_buf), "unknown key "
			    "'%s' (see sccrypt.conf(5))", w[0]);
		*why = c->why_buf;
	}
	return SC_ERR_FORMAT;
}

/* Note an error of line `lineno` (0: the whole file) and keep the first. */
static int
conf_error(struct sc_conf *c, unsigned lineno, const char *why, int r,
    unsigned *errline, const char **first_why, int *first_r)
{
	size_t used = strnlen(c->errs, sizeof(c->errs));

	if (c->nerrs++ == 0) {
		*errline = lineno;
		snprintf(c->why_first, sizeof(c->why_first), "%s", why);
		*first_why = c->why_first;
		*first_r = r;
	}
	if (lineno > 0)
		snprintf(c->errs + used, sizeof(c->errs) - used, "line %u: %s\n",
		    lineno, why);
	else
		snprintf(c->errs + used, sizeof(c->errs) - used, "%s\n", why);
	return r;
}

/*
 * Sections of other programs ("[webgate]", sccrypt-webgate(8)): their lines
 * are theirs to check; ours are those before the first section line.
 * 1 if line is a section line, 0 if not, or an error for an unknown one.
 */
static int
section_line(const char *line, bool *other, const char **why)
{
	static const char *const known[] = { "webgate" };
	char name[SC_CONFSECT_NAME_MAX + 1];
	size_t i;

	if (!sc_confsect_header(line, name)) {
		if (line[strspn(line, " \t")] == '[') {
			*why = "malformed section line: expected [name]";
			return SC_ERR_FORMAT;
		}
		return 0;
	}
	for (i = 0; i < SC_NELEM(known); i++)
		if (strcmp(name, known[i]) == 0) {
			*other = true;
			return 1;
		}
	*other = true;		/* its lines are not ours either */
	*why = "unknown section";
	return SC_ERR_FORMAT;
}

int
sc_conf_parse(struct sc_conf *c, const char *text, size_t len, unsigned *errline,
    const char **why)
{
	char line[SC_CONF_LINE_MAX + 1];
	bool other_section = false;
	uint32_t seen = 0;
	size_t i = 0, start, n;
	unsigned lineno = 0;
	int r, first_r = 0;

	*errline = 0;
	*why = "";
	c->nerrs = 0;
	c->errs[0] = '\0';
	while (i < len) {
		lineno++;
		start = i;
		while (i < len && text[i] != '\n')
			i++;
		n = i - start;
		if (i < len)
			i++;
		if (n > SC_CONF_LINE_MAX) {
			conf_error(c, lineno, "line too long", SC_ERR_TOOLONG,
			    errline, why, &first_r);
			continue;
		}
		memcpy(line, text + start, n);
		line[n] = '\0';
		if (n > 0 && line[n - 1] == '\r')
			line[--n] = '\0';
		if (memchr(line, '\0', n) != NULL || (n > 0 &&
		    strspn(line, " \t!\"#$%&'()*+,-./0123456789:;<=>?@"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~") != n)) {
			conf_error(c, lineno, "control character or non-ASCII "
			    "byte", SC_ERR_FORMAT, errline, why, &first_r);
			continue;
		}
		{
			const char *lwhy = "";

			if ((r = section_line(line, &other_section, &lwhy)) < 0) {
				conf_error(c, lineno, lwhy, r, errline, why,
				    &first_r);
				continue;
			}
			if (r == 1 || other_section)
				continue;
			if ((r = parse_line(c, line, &seen, &lwhy)) < 0)
				conf_error(c, lineno, lwhy, r, errline, why,
				    &first_r);
		}
	}
	if (c->listen[0] == '\0')
		conf_error(c, 0, "listen must not be empty", SC_ERR_FORMAT,
		    errline, why, &first_r);
	return c->nerrs > 0 ? first_r : 0;
}

int
sc_conf_load(struct sc_conf *c, const char *path, unsigned *errline, const char **why)
{
	unsigned char *data = NULL;
	size_t len = 0;
	int r;

	*errline = 0;
	if ((r = sc_read_file(path, CONF_FILE_MAX, &data, &len)) < 0) {
		*why = "cannot read configuration file";
		return r;
	}
	r = sc_conf_parse(c, (const char *)data, len, errline, why);
	free(data);
	return r;
}

unsigned
sc_conf_resolve_users(struct sc_conf *c)
{
	unsigned missing = 0;
	uint64_t v;
	size_t i;
	struct passwd *pw;

	for (i = 0; i < c->nrules; i++) {
		struct sc_policy_rule *r = &c->rules[i];

		r->resolved = false;
		if (r->any_user)
			continue;
		if (sc_confsect_number(r->user, false, &v) == 0 && v < UINT32_MAX) {
			r->uid = (uid_t)v;
			r->resolved = true;
		} else if ((pw = getpwnam(r->user)) != NULL) {
			r->uid = pw->pw_uid;
			r->resolved = true;
		} else {
			missing++;
		}
	}
	return missing;
}

bool
sc_policy_allows(const struct sc_conf *c, uid_t uid, const char *vm)
{
	size_t i;

	if (!sc_vmname_valid(vm, strnlen(vm, SC_VMNAME_MAX + 1)))
		return false;
	for (i = 0; i < c->nrules; i++) {
		const struct sc_policy_rule *r = &c->rules[i];

		if (!r->any_user && !(r->resolved && r->uid == uid))
			continue;
		if (fnmatch(r->glob, vm, FNM_PERIOD) == 0)
			return true;
	}
	return false;
}
