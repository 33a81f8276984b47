/*
 * ctlconf.h — what a client of sccrypt-consoled's socket (the shim,
 * sccrypt-console(8)) reads from sccrypt.conf(5): the socket path
 * ("listen") and consoled's "stall_timeout" (the shim waits that long, plus
 * a grace, for consoled to take the rest of its input).  Nothing else: the
 * daemon's policy and settings stay consoled's (consoled/conf.c); a program
 * run by sudo parses no more of the file than it uses.
 *
 * The file's line syntax is lib/confsect's and every line is checked; the
 * two keys are checked as consoled checks them (absolute path that fits
 * sun_path's limit, 1..SC_CTL_STALL_MAX seconds, no duplicates); every
 * other line of the main part is consoled's to judge and is skipped.
 * Errors give the 1-based line (0: the whole file) and a constant reason,
 * never the file's content.  Fuzzed by tests/fuzz/fuzz_consoled_conf.c.
 */
#ifndef SC_CTLCONF_H
#define SC_CTLCONF_H

#include <stddef.h>

#define SC_CTLCONF_PATH_MAX	256	/* = consoled's SC_CONF_PATH_MAX */

struct sc_ctl_conf {
	char		listen[SC_CTLCONF_PATH_MAX];
	unsigned	stall_timeout;		/* s */
};

/* The built-in defaults (SC_CTL_DEFAULT_LISTEN, SC_CTL_STALL_DEFAULT). */
void	sc_ctl_conf_defaults(struct sc_ctl_conf *c);

/* Parse text[0..len) over the defaults in *c.  0, or a negative SC_ERR_*
 * with *errline and *why (a constant). */
int	sc_ctl_conf_parse(struct sc_ctl_conf *c, const char *text, size_t len,
	    unsigned *errline, const char **why) __attribute__((warn_unused_result));

/* Read (at most 1 MiB) and parse path. */
int	sc_ctl_conf_load(struct sc_ctl_conf *c, const char *path,
	    unsigned *errline, const char **why) __attribute__((warn_unused_result));

/*
 * For a program running with privileges it got from sudo: the file must be a
 * regular file owned by root and not writable by group or others, and so
 * must every directory above it (sticky directories such as /tmp included).
 * 0 or SC_ERR_PERM / SC_ERR_SYSTEM.
 */
int	sc_conf_path_trusted(const char *path) __attribute__((warn_unused_result));

#endif /* SC_CTLCONF_H */
