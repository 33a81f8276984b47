/*
 * daemon.h — sccrypt-consoled's event loop: the listening socket for shims,
 * the backend connection (with reconnect), signals, the pid file.
 */
#ifndef SC_CONSOLED_DAEMON_H
#define SC_CONSOLED_DAEMON_H

#include "conf.h"

struct sc_daemon_opts {
	const char	*conf_path;
	bool		 foreground;
	int		 log_level;	/* -1: from the configuration */
};

/* Run until SIGTERM/SIGINT.  Returns an exit status. */
int	sc_daemon_run(struct sc_conf *conf, const struct sc_daemon_opts *o);

/* Select the backend ops for conf->backend (NULL if not built). */
const struct sc_backend_ops *sc_daemon_backend_ops(const struct sc_conf *conf);

#endif /* SC_CONSOLED_DAEMON_H */
