/*
 * xen_console_compat.h — Xen's PV console ring page, for builds that cannot
 * include <xen/io/console.h> (the freestanding check, hosts without
 * libxen-dev).
 *
 * This is the layout of struct xencons_interface in Xen 4.17's public header
 * xen/include/public/io/console.h (MIT licensed), restated field by field.
 * ring.h asserts the byte offsets whichever definition is in use, so a
 * mismatch with the real header fails the build instead of corrupting a
 * guest's ring.  Directions are named from the guest's point of view: the
 * guest produces `out` and consumes `in`.
 */
#ifndef SC_HV_XEN_CONSOLE_COMPAT_H
#define SC_HV_XEN_CONSOLE_COMPAT_H

#include "core/compat.h"

#ifndef __XEN_PUBLIC_IO_CONSOLE_H__
#define __XEN_PUBLIC_IO_CONSOLE_H__

typedef uint32_t XENCONS_RING_IDX;

#define MASK_XENCONS_IDX(idx, ring) ((idx) & (sizeof(ring) - 1))

struct xencons_interface {
	char			in[1024];
	char			out[2048];
	XENCONS_RING_IDX	in_cons, in_prod;
	XENCONS_RING_IDX	out_cons, out_prod;
};

#endif /* __XEN_PUBLIC_IO_CONSOLE_H__ */

#endif /* SC_HV_XEN_CONSOLE_COMPAT_H */
