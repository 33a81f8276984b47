/*
 * conf.h — the [webgate] section of sccrypt.conf(5): sccrypt-webgate's
 * settings (sccrypt-webgate(8) lists them).  The line syntax and the
 * sections are lib/confsect.h's; the other parts of the file are
 * sccrypt-consoled's and only their syntax is checked here.  Strict: an
 * unknown key, a key given twice (except origin, which adds up to
 * WG_ORIGINS_MAX) or a malformed value is an error with its line number.
 * Pure: no I/O.  Fuzzed by tests/fuzz/fuzz_webgate.c.
 */
#ifndef SC_WEBGATE_CONF_H
#define SC_WEBGATE_CONF_H

#include <stdbool.h>
#include <stddef.h>

#include "auth.h"

#define WG_SECTION		"webgate"
#define WG_IFACE_MAX		63	/* "ADDR" of listen = ADDR:PORT */
#define WG_SOCK_PATH_MAX	107	/* sun_path */
#define WG_PATH_MAX		255
#define WG_CLIENTS_MAX		100000
#define WG_IDLE_MAX		86400

struct wg_conf {
	char		iface[WG_IFACE_MAX + 1];
	unsigned	port;
	char		consoled[WG_SOCK_PATH_MAX + 1];	/* "" = not set */
	char		tokens[WG_PATH_MAX + 1];
	char		cert[WG_PATH_MAX + 1];
	char		key[WG_PATH_MAX + 1];
	bool		plaintext;
	char		origins[WG_ORIGINS_MAX][WG_ORIGIN_MAX];
	size_t		norigins;
	bool		allow_no_origin;
	unsigned	max_clients, max_per_user, idle;
	int		log_level;			/* SC_LOG_* */
};

/* Defaults (those of the command line). */
void	wg_conf_defaults(struct wg_conf *c);
/*
 * Parse the whole file's text, take the [webgate] section's settings.
 * 0, or a negative SC_ERR_* with *errline (1-based; 0 = the file as a
 * whole, e.g. no [webgate] section) and *why (a constant).
 */
int	wg_conf_parse(struct wg_conf *c, const char *text, size_t len,
	    unsigned *errline, const char **why) __attribute__((warn_unused_result));
/* "ADDR:PORT" -> iface, port; 0 or SC_ERR_FORMAT. */
int	wg_listen_parse(const char *s, char iface[WG_IFACE_MAX + 1], unsigned *port)
	    __attribute__((warn_unused_result));

#endif
