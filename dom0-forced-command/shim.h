/*
 * shim.h — exit statuses of sccrypt-console (sccrypt-console(8), EXIT STATUS).
 * Values follow sysexits(3) so scripts can tell the cases apart.
 */
#ifndef SC_SHIM_H
#define SC_SHIM_H

#define SC_SHIM_EXIT_OK			0	/* session ended (EOF from either side) */
#define SC_SHIM_EXIT_USAGE		64	/* command rejected by the allowlist */
#define SC_SHIM_EXIT_PROTECTED		65	/* plaintext refused: domain is protected */
#define SC_SHIM_EXIT_NOVM		68	/* no such VM */
#define SC_SHIM_EXIT_UNAVAILABLE	69	/* consoled or the hypervisor unreachable */
#define SC_SHIM_EXIT_INTERNAL		70	/* internal error */
#define SC_SHIM_EXIT_IO			74	/* I/O error while relaying */
#define SC_SHIM_EXIT_BUSY		75	/* client limit reached, try later */
#define SC_SHIM_EXIT_PERM		77	/* policy: this user may not use this VM */
#define SC_SHIM_EXIT_CONFIG		78	/* configuration or installation error */

/* Map a consoled reply status (ctl.h) to an exit status. */
int	sc_shim_exit_status(int ctl_status);

#endif /* SC_SHIM_H */
