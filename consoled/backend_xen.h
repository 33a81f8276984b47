/*
 * backend_xen.h — the Xen backend of sccrypt-consoled and its seam.
 *
 * The SCCrypt ops travel through the sccrypt_op hypercall (lib/xen_abi.h,
 * the patch's public ABI): SC_XEN_OP_CALL with one ops request in a buffer
 * of SC_OP_MAX bytes, replaced in place by the response; -ENOSYS when the
 * hypervisor has no SCCrypt.  Events: Xen raises SC_XEN_VIRQ whenever it
 * queues one; dom0 then fetches them with SC_OP_EVENT requests (seq != 0),
 * one event each (domid, session, arg = SC_EV_* bits), or status
 * SC_ERR_AGAIN when none is left.
 *
 * Domains, names and UUIDs come from xenstore (/local/domain/<id>/name and
 * /vm); @introduceDomain and @releaseDomain watches trigger a rescan.
 * Protection state comes from the STATUS op.
 *
 * Every library call goes through struct sc_xen_sys so unit tests can
 * replace the hypercall, event-channel and xenstore layers.
 */
#ifndef SC_CONSOLED_BACKEND_XEN_H
#define SC_CONSOLED_BACKEND_XEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xen_abi.h"

#define SC_XEN_EVENTS_PER_IRQ	256	/* events fetched per notification, at most */

struct sc_xen_sys {
	/* libxencall */
	void	*(*call_open)(void);
	void	 (*call_close)(void *xc);
	void	*(*call_alloc)(void *xc, size_t size);
	void	 (*call_free)(void *xc, void *p);
	int	 (*call3)(void *xc, unsigned int op, uint64_t a1, uint64_t a2, uint64_t a3);
	/* libxenevtchn */
	void	*(*ev_open)(void);
	void	 (*ev_close)(void *xce);
	int	 (*ev_fd)(void *xce);
	int	 (*ev_bind_virq)(void *xce, unsigned int virq);	/* port or -1 */
	int	 (*ev_pending)(void *xce);			/* port or -1 */
	int	 (*ev_unmask)(void *xce, unsigned int port);
	/* libxenstore */
	void	*(*xs_open)(void);
	void	 (*xs_close)(void *xs);
	int	 (*xs_fileno)(void *xs);
	bool	 (*xs_watch)(void *xs, const char *path, const char *token);
	char	**(*xs_check_watch)(void *xs);			/* malloc'd vector or NULL */
	char	**(*xs_directory)(void *xs, const char *path, unsigned int *num);
	void	*(*xs_read)(void *xs, const char *path, unsigned int *len);
};

/* The real libraries (backend_xen_sys.c). */
extern const struct sc_xen_sys sc_xen_sys_real;
/* Tests: use this table instead (NULL = the real one). */
void	sc_backend_xen_use(const struct sc_xen_sys *sys);

#endif /* SC_CONSOLED_BACKEND_XEN_H */
