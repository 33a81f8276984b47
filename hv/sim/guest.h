/*
 * guest.h — the simulated guest: a process that plays the guest kernel's hvc
 * console driver for one domain.  It shares the domain's console page with
 * the hypervisor process and bridges it to a pty on which the guest command
 * runs (the guest's "hvc0").  Event channels are one socketpair per domain:
 * either side writes a byte to kick the other.
 */
#ifndef SC_HVSIM_GUEST_H
#define SC_HVSIM_GUEST_H

#include <sys/types.h>

#include "hv/core/ring.h"
#include "conf.h"

struct hvsim_guest_args {
	const struct hvsim_domain_conf *conf;
	struct xencons_interface *ring;	/* shared page */
	int		 evfd;		/* our end of the event socketpair */
	int		 verbose;
};

/*
 * Run the bridge until SIGTERM; never returns.  Called in the forked child.
 * Restarts the guest command whenever it exits.  Implements Linux hvc's
 * SysRq convention: ^O followed by a key (^O^O is a literal ^O).
 */
void	hvsim_guest_main(const struct hvsim_guest_args *a)
	    __attribute__((noreturn));

/*
 * Both of hvsim's processes take their signals this way: SIGCHLD, SIGTERM,
 * SIGINT and SIGHUP blocked and read from the returned signalfd
 * (non-blocking, close-on-exec; -1 with errno on failure), SIGPIPE ignored.
 */
int	hvsim_signalfd(void);

#endif /* SC_HVSIM_GUEST_H */
