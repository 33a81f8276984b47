/*
 * xen_abi.h — the sccrypt_op hypercall ABI as user space sees it: the one
 * copy outside Xen of the public header that hv/xen/patches/0001 adds
 * (xen/include/public/sccrypt.h, plus __HYPERVISOR_sccrypt_op and
 * VIRQ_SCCRYPT in public/xen.h).  sccrypt-consoled's Xen backend,
 * sccrypt-xenctl and the lab's hypercall probe use it; none of them has the
 * patched Xen headers (libxen-dev ships the unpatched ones).
 *
 *   long HYPERVISOR_sccrypt_op(unsigned int cmd, void *buf, unsigned long size)
 *
 *   SC_XEN_OP_CALL    buf holds one ops request (lib/core/ops.h: 32-byte
 *                     header + payload; size = the buffer, at most
 *                     SC_OP_MAX is used); Xen replaces it with the response.
 *                     0 when a response was written (its status field is the
 *                     op's result).  SC_OP_EVENT requests return one queued
 *                     event each, or status SC_ERR_AGAIN; Xen raises
 *                     SC_XEN_VIRQ when it queues one.
 *   SC_XEN_OP_ATTACH  buf = struct sc_xen_attach: Xen becomes the console
 *                     backend of the domain (paused, port still unbound).
 *   SC_XEN_OP_DETACH  buf = struct sc_xen_detach.
 *   Errors: -ENOSYS (no SCCrypt), -EPERM, -EINVAL, -EFAULT, -ESRCH, -EBUSY,
 *   -EEXIST, -ENOSPC (the patch's header says when).  64-bit callers only.
 *
 * Layouts are fixed by the _Static_asserts below; tests/xen-abi-check.sh
 * compiles them against the header extracted from the patch (make check),
 * so a change on either side without the other fails the build's tests.
 * Header only: <stdint.h> and <stddef.h>, nothing else (the probe is a
 * static binary built without libsccrypt).
 */
#ifndef SC_XEN_ABI_H
#define SC_XEN_ABI_H

#include <stddef.h>
#include <stdint.h>

#define SC_XEN_HYPERCALL	43	/* __HYPERVISOR_sccrypt_op */
#define SC_XEN_VIRQ		14	/* VIRQ_SCCRYPT: global, dom0 binds it */

/* cmd: SCCRYPT_OP_* */
#define SC_XEN_OP_CALL		1
#define SC_XEN_OP_ATTACH	2
#define SC_XEN_OP_DETACH	3

#define SC_XEN_UUID_LEN		16
#define SC_XEN_NAME_LEN		64	/* NUL-padded */

/* struct xen_sccrypt_attach: all IN. */
struct sc_xen_attach {
	uint16_t	domid;
	uint16_t	pad0;			/* 0 */
	uint32_t	port;			/* the console event channel */
	uint64_t	gfn;			/* the console page (PV: MFN) */
	uint32_t	history;		/* history bytes, 0 = default */
	uint32_t	flags;			/* 0 */
	uint8_t		uuid[SC_XEN_UUID_LEN];
	char		name[SC_XEN_NAME_LEN];
};

/* struct xen_sccrypt_detach: all IN. */
struct sc_xen_detach {
	uint16_t	domid;
	uint16_t	pad0;			/* 0 */
};

#define SC_XEN_ATTACH_SIZE	104
#define SC_XEN_DETACH_SIZE	4

_Static_assert(sizeof(struct sc_xen_attach) == SC_XEN_ATTACH_SIZE,
    "xen_sccrypt_attach size");
_Static_assert(offsetof(struct sc_xen_attach, port) == 4, "attach.port");
_Static_assert(offsetof(struct sc_xen_attach, gfn) == 8, "attach.gfn");
_Static_assert(offsetof(struct sc_xen_attach, history) == 16, "attach.history");
_Static_assert(offsetof(struct sc_xen_attach, flags) == 20, "attach.flags");
_Static_assert(offsetof(struct sc_xen_attach, uuid) == 24, "attach.uuid");
_Static_assert(offsetof(struct sc_xen_attach, name) == 40, "attach.name");
_Static_assert(sizeof(struct sc_xen_detach) == SC_XEN_DETACH_SIZE,
    "xen_sccrypt_detach size");

#endif /* SC_XEN_ABI_H */
