/*
 * compat.h — the only header the freestanding protocol core includes.
 *
 * The protocol core (lib/core/) and the hypervisor core (hv/core/) are built
 * both in user space and with -ffreestanding -nostdinc (and later inside Xen).
 * They may use exactly what this header provides: fixed-width integers,
 * size_t, bool, and byte-copy helpers.  No stdio, no malloc, no errno, no
 * time, no locale.
 */
#ifndef SC_CORE_COMPAT_H
#define SC_CORE_COMPAT_H

/* These three are required of freestanding implementations (C11 §4). */
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#define SC_WUR		__attribute__((warn_unused_result))
#define SC_UNUSED	__attribute__((unused))
#define SC_ALIGNED(n)	__attribute__((aligned(n)))
#define SC_NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define SC_MIN(a, b)	((a) < (b) ? (a) : (b))
#define SC_MAX(a, b)	((a) > (b) ? (a) : (b))

/*
 * SC_CF_CHECK marks a function that is called through a pointer (a crypto
 * provider's operation, a struct sc_hv_platform hook, an entropy callback).
 * Empty here; Xen's build (hv/xen/glue/Makefile.xen) defines it to Xen's
 * cf_check, which is __attribute__((__cf_check__)) with CONFIG_XEN_IBT: Xen
 * compiles with -fcf-protection=branch -mmanual-endbr, so only marked
 * functions begin with ENDBR64 and may be the target of an indirect call
 * under CET-IBT.  tests/xen-lab/ibt-check.sh finds an unmarked one.
 */
#ifndef SC_CF_CHECK
#define SC_CF_CHECK
#endif

/*
 * Byte copies.  In a hosted build and inside Xen the compiler lowers these to
 * memcpy/memset/memmove, which both environments provide.  None of them is
 * used to clear secrets: that is the crypto provider's memzero.
 */
#define sc_memcpy(d, s, n)	__builtin_memcpy((d), (s), (n))
#define sc_memmove(d, s, n)	__builtin_memmove((d), (s), (n))
#define sc_memset(d, c, n)	__builtin_memset((d), (c), (n))

#ifdef SC_FREESTANDING
void *memcpy(void *, const void *, size_t);
void *memmove(void *, const void *, size_t);
void *memset(void *, int, size_t);
#endif

#endif /* SC_CORE_COMPAT_H */
