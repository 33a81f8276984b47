/*
 * ctlconf.c — the shim's view of sccrypt.conf(5) (see ctlconf.h).
 */
#include "config.h"

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/err.h"
#include "confsect.h"
#include "ctl.h"
#include "ctlconf.h"
#include "io.h"

#define CTLCONF_FILE_MAX	(1u << 20)

struct parse_state {
	struct sc_ctl_conf	*c;
	bool			 seen_listen, seen_stall;
};

void
sc_ctl_conf_defaults(struct sc_ctl_conf *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->listen, sizeof(c->listen), "%s", SC_CTL_DEFAULT_LISTEN);
	c->stall_timeout = SC_CTL_STALL_DEFAULT;
}

static int
on_line(void *arg, char *w[], size_t n, const char **why)
{
	struct parse_state *ps = arg;
	const char *val;
	uint64_t v;
	size_t len;

	if (strcmp(w[0], "listen") != 0 && strcmp(w[0], "stall_timeout") != 0)
		return 0;	/* consoled's setting or rule: not ours */
	if (n < 2 || n > 3 || strcmp(w[1], "=") != 0) {
		*why = "expected: key = value";
		return SC_ERR_FORMAT;
	}
	val = n == 3 ? w[2] : "";
	if (strcmp(w[0], "listen") == 0) {
		if (ps->seen_listen) {
			*why = "listen: duplicate key";
			return SC_ERR_FORMAT;
		}
		ps->seen_listen = true;
		len = strlen(val);
		if (len >= sizeof(ps->c->listen)) {
			*why = "listen: path too long";
			return SC_ERR_TOOLONG;
		}
		if (len == 0 || val[0] != '/') {
			*why = len == 0 ? "listen must not be empty" :
			    "listen: path must be absolute";
			return SC_ERR_FORMAT;
		}
		memcpy(ps->c->listen, val, len + 1);
		return 0;
	}
	if (ps->seen_stall) {
		*why = "stall_timeout: duplicate key";
		return SC_ERR_FORMAT;
	}
	ps->seen_stall = true;
	if (sc_confsect_number(val, false, &v) < 0 || v < 1 ||
	    v > SC_CTL_STALL_MAX) {
		*why = "stall_timeout: invalid number or out of range";
		return SC_ERR_FORMAT;
	}
	ps->c->stall_timeout = (unsigned)v;
	return 0;
}

int
sc_ctl_conf_parse(struct sc_ctl_conf *c, const char *text, size_t len,
    unsigned *errline, const char **why)
{
	struct parse_state ps = { .c = c };

	return sc_confsect_parse(text, len, NULL, on_line, &ps, NULL, errline, why);
}

int
sc_ctl_conf_load(struct sc_ctl_conf *c, const char *path, unsigned *errline,
    const char **why)
{
	unsigned char *data = NULL;
	size_t len = 0;
	int r;

	*errline = 0;
	if ((r = sc_read_file(path, CTLCONF_FILE_MAX, &data, &len)) < 0) {
		*why = "cannot read configuration file";
		return r;
	}
	r = sc_ctl_conf_parse(c, (const char *)data, len, errline, why);
	free(data);
	return r;
}

static int
check_one(const char *p, bool want_dir)
{
	struct stat st;

	if (lstat(p, &st) < 0)
		return SC_ERR_SYSTEM;
	if (want_dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode))
		return SC_ERR_PERM;
	if (st.st_uid != 0)
		return SC_ERR_PERM;
	/* No exception for sticky directories: /tmp is no place for it. */
	if ((st.st_mode & 022) != 0)
		return SC_ERR_PERM;
	return 0;
}

int
sc_conf_path_trusted(const char *path)
{
	char buf[PATH_MAX];
	char *slash;
	int r;

	if (path[0] != '/' || strlen(path) >= sizeof(buf))
		return SC_ERR_PERM;
	snprintf(buf, sizeof(buf), "%s", path);
	if ((r = check_one(buf, false)) < 0)
		return r;
	while ((slash = strrchr(buf, '/')) != NULL) {
		if (slash == buf) {
			buf[1] = '\0';
			return check_one(buf, true);
		}
		*slash = '\0';
		if ((r = check_one(buf, true)) < 0)
			return r;
	}
	return 0;
}
