/*
 * conf.h — sccrypt.conf(5): the configuration of sccrypt-consoled (the shim
 * reads only the socket path and stall timeout, through lib/ctlconf.h).
 *
 * Format: one setting per line, "key = value"; "#" starts a comment line;
 * blank lines are ignored; policy lines have the form "allow USER VM-GLOB".
 * Unknown keys, duplicate keys and malformed lines are errors (with the line
 * number; the line's content is never echoed).
 */
#ifndef SC_CONSOLED_CONF_H
#define SC_CONSOLED_CONF_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/wire.h"

#define SC_CONF_LINE_MAX	1024
#define SC_CONF_PATH_MAX	256	/* AF_UNIX paths must fit sun_path (108) */
#define SC_CONF_RULES_MAX	1024
#define SC_CONF_USER_MAX	32

enum sc_backend_kind {
	SC_BACKEND_SIM = 1,
	SC_BACKEND_XEN,
};

struct sc_policy_rule {
	char		user[SC_CONF_USER_MAX + 1];	/* name, decimal uid or "*" */
	char		glob[SC_VMNAME_MAX + 1];	/* fnmatch(3) pattern over VM names */
	bool		any_user;
	bool		resolved;	/* uid is valid */
	uid_t		uid;
};

#define SC_CONF_ERRS_MAX	2048

struct sc_conf {
	int		backend;			/* enum sc_backend_kind */
	char		hv_socket[SC_CONF_PATH_MAX];
	char		listen[SC_CONF_PATH_MAX];
	unsigned	listen_mode;
	char		listen_group[SC_CONF_USER_MAX + 1];
	char		user[SC_CONF_USER_MAX + 1];	/* "" = keep the starting user */
	char		certificate[SC_CONF_PATH_MAX];
	char		pid_file[SC_CONF_PATH_MAX];
	char		log_dir[SC_CONF_PATH_MAX];	/* "" = no ciphertext log */
	uint64_t	log_max_bytes;
	unsigned	max_clients;
	unsigned	max_clients_per_domain;
	unsigned	max_clients_per_user;	/* per uid (root's own: exempt) */
	size_t		client_buffer;
	uint64_t	input_rate;		/* bytes/s per client, 0 = unlimited */
	unsigned	request_timeout;	/* s to send the request line */
	unsigned	handshake_timeout;	/* s from HELLO to HS_INIT/PROTECT */
	unsigned	stall_timeout;		/* s a client may leave output unread */
	unsigned	raw_backlog;		/* bytes kept for unprotected domains */
	uint64_t	guest_output_rate;	/* bytes/s drained per unwatched unprotected domain, 0 = unlimited */
	unsigned	output_coalesce_ms;	/* protected sessions' output pulls (coalesce.h), 0 = off */
	int		log_level;
	size_t		nrules;
	struct sc_policy_rule rules[SC_CONF_RULES_MAX];
	/* Every error of the last parse, one "line N: message" per line (the
	 * first SC_CONF_ERRS_MAX bytes), and how many there were. */
	unsigned	nerrs;
	char		errs[SC_CONF_ERRS_MAX];
	char		why_buf[160];	/* a message built for a line */
	char		why_first[160];	/* the first error's, for *why */
};

/* Limits enforced on the numeric settings (documented in sccrypt.conf(5)). */
#define SC_CONF_CLIENT_BUFFER_MIN	32768
#define SC_CONF_CLIENT_BUFFER_MAX	(4u << 20)
#define SC_CONF_MAX_CLIENTS_MAX		4096

/* Fill defaults. */
void	sc_conf_defaults(struct sc_conf *c);
/*
 * Parse a configuration held in memory (for tests and fuzzing).  On error
 * returns a negative SC_ERR_* and sets *errline (1-based) and *why (the
 * first error, in c->why_first; it names the key and suggests
 * the nearest valid one for an unknown key).  Parsing goes on after an
 * error: c->errs lists every error, c->nerrs counts them.
 */
int	sc_conf_parse(struct sc_conf *c, const char *text, size_t len,
	    unsigned *errline, const char **why) __attribute__((warn_unused_result));
/* Read and parse a file (at most 1 MiB). */
int	sc_conf_load(struct sc_conf *c, const char *path, unsigned *errline,
	    const char **why) __attribute__((warn_unused_result));
/*
 * Resolve user names of the rules to uids (getpwnam).  Names that do not
 * exist stay unresolved and never match; returns how many did not resolve.
 * The programs treat any as a configuration error (sccrypt.conf(5)).
 */
unsigned sc_conf_resolve_users(struct sc_conf *c);
/* Policy: may uid use VM vm?  Default deny. */
bool	sc_policy_allows(const struct sc_conf *c, uid_t uid, const char *vm);

#endif /* SC_CONSOLED_CONF_H */
