/*
 * backend_xen_sys.c — struct sc_xen_sys over the real Xen libraries
 * (libxencall, libxenevtchn, libxenstore).  Thin adapters only.
 */
#include "config.h"

#include <fcntl.h>
#include <stdlib.h>

#include <xencall.h>
#include <xenevtchn.h>
#include <xenstore.h>

#include "backend_xen.h"

static void *
r_call_open(void)
{
	return xencall_open(NULL, 0);
}

static void
r_call_close(void *xc)
{
	(void)xencall_close(xc);
}

static void *
r_call_alloc(void *xc, size_t size)
{
	return xencall_alloc_buffer(xc, size);
}

static void
r_call_free(void *xc, void *p)
{
	xencall_free_buffer(xc, p);
}

static int
r_call3(void *xc, unsigned int op, uint64_t a1, uint64_t a2, uint64_t a3)
{
	return xencall3(xc, op, a1, a2, a3);
}

static void *
r_ev_open(void)
{
	xenevtchn_handle *xce = xenevtchn_open(NULL, 0);
	int fl;

	/*
	 * xen_dispatch() calls ev_pending until no port is left: on the
	 * default (blocking) fd the call after the last pending port blocks
	 * consoled in read(2) for good.
	 */
	if (xce != NULL && (fl = fcntl(xenevtchn_fd(xce), F_GETFL)) != -1)
		(void)fcntl(xenevtchn_fd(xce), F_SETFL, fl | O_NONBLOCK);
	return xce;
}

static void
r_ev_close(void *xce)
{
	(void)xenevtchn_close(xce);
}

static int
r_ev_fd(void *xce)
{
	return xenevtchn_fd(xce);
}

static int
r_ev_bind_virq(void *xce, unsigned int virq)
{
	return (int)xenevtchn_bind_virq(xce, virq);
}

static int
r_ev_pending(void *xce)
{
	return (int)xenevtchn_pending(xce);
}

static int
r_ev_unmask(void *xce, unsigned int port)
{
	return xenevtchn_unmask(xce, port);
}

static void *
r_xs_open(void)
{
	return xs_open(0);
}

static void
r_xs_close(void *xs)
{
	xs_close(xs);
}

static int
r_xs_fileno(void *xs)
{
	return xs_fileno(xs);
}

static bool
r_xs_watch(void *xs, const char *path, const char *token)
{
	return xs_watch(xs, path, token);
}

static char **
r_xs_check_watch(void *xs)
{
	return xs_check_watch(xs);
}

static char **
r_xs_directory(void *xs, const char *path, unsigned int *num)
{
	return xs_directory(xs, XBT_NULL, path, num);
}

static void *
r_xs_read(void *xs, const char *path, unsigned int *len)
{
	return xs_read(xs, XBT_NULL, path, len);
}

const struct sc_xen_sys sc_xen_sys_real = {
	.call_open = r_call_open,
	.call_close = r_call_close,
	.call_alloc = r_call_alloc,
	.call_free = r_call_free,
	.call3 = r_call3,
	.ev_open = r_ev_open,
	.ev_close = r_ev_close,
	.ev_fd = r_ev_fd,
	.ev_bind_virq = r_ev_bind_virq,
	.ev_pending = r_ev_pending,
	.ev_unmask = r_ev_unmask,
	.xs_open = r_xs_open,
	.xs_close = r_xs_close,
	.xs_fileno = r_xs_fileno,
	.xs_watch = r_xs_watch,
	.xs_check_watch = r_xs_check_watch,
	.xs_directory = r_xs_directory,
	.xs_read = r_xs_read,
};
