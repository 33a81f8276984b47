/*
 * ring.h — the ring engine: both ends of Xen's PV console ring
 * (struct xencons_interface), as the hypervisor sees them and as a guest's
 * hvc driver does.
 *
 * Rules (Xen's, see PROTOCOL.md §hv "Ring rules"):
 *  - indices are free-running u32 counters; a slot is index & (size - 1);
 *    used = prod - cons modulo 2^32;
 *  - prod - cons > size means the page is corrupt: SC_ERR_CORRUPT, nothing
 *    is read or written and no index moves;
 *  - the peer's index is latched once per call (the page is shared with an
 *    untrusted party, so it is never read twice);
 *  - producer: read indices -> full barrier -> write data -> write barrier
 *    -> publish prod; consumer: read indices -> read barrier -> read data
 *    -> full barrier -> publish cons.
 *
 * `in` is produced by the hv (backend) and consumed by the guest; `out` is
 * produced by the guest and consumed by the hv.
 */
#ifndef SC_HV_RING_H
#define SC_HV_RING_H

#include "core/compat.h"

#if defined(HAVE_CONFIG_H) && !defined(SC_FREESTANDING)
#include "config.h"
#endif
#if defined(HAVE_XEN_CONSOLE_H) && !defined(SC_FREESTANDING)
#include <xen/io/console.h>
#else
#include "xen_console_compat.h"
#endif

/* The 4.17 layout, checked against whichever definition is in use. */
_Static_assert(sizeof(((struct xencons_interface *)0)->in) == 1024, "in ring size");
_Static_assert(sizeof(((struct xencons_interface *)0)->out) == 2048, "out ring size");
_Static_assert(__builtin_offsetof(struct xencons_interface, in) == 0, "in offset");
_Static_assert(__builtin_offsetof(struct xencons_interface, out) == 1024, "out offset");
_Static_assert(__builtin_offsetof(struct xencons_interface, in_cons) == 3072, "in_cons offset");
_Static_assert(__builtin_offsetof(struct xencons_interface, in_prod) == 3076, "in_prod offset");
_Static_assert(__builtin_offsetof(struct xencons_interface, out_cons) == 3080, "out_cons offset");
_Static_assert(__builtin_offsetof(struct xencons_interface, out_prod) == 3084, "out_prod offset");
_Static_assert(sizeof(XENCONS_RING_IDX) == 4, "ring index width");

#define SC_RING_IN_SIZE		1024u
#define SC_RING_OUT_SIZE	2048u
#define SC_RING_PAGE_SIZE	4096u

/*
 * Barriers.  __atomic builtins compile to the right fences on every target
 * and need no library, so they work in Xen and in user space alike.
 */
#define sc_ring_mb()		__atomic_thread_fence(__ATOMIC_SEQ_CST)
#define sc_ring_rmb()		__atomic_thread_fence(__ATOMIC_ACQUIRE)
#define sc_ring_wmb()		__atomic_thread_fence(__ATOMIC_RELEASE)
/* Single, untorn access to an index in the shared page. */
#define SC_RING_LOAD(p)		__atomic_load_n((p), __ATOMIC_RELAXED)
#define SC_RING_STORE(p, v)	__atomic_store_n((p), (v), __ATOMIC_RELAXED)

/* Zero a ring page's indices and data (owner of the page, before sharing). */
void	sc_ring_reset(struct xencons_interface *r);

/*
 * hv side.
 * in_write: copy up to len bytes into `in`, as many as fit; *written = count.
 * out_read: move up to cap bytes out of `out`; *got = count.
 * in_space / out_avail: free bytes of `in` / used bytes of `out`.
 * All return 0 or SC_ERR_CORRUPT.
 */
int	sc_ring_in_write(struct xencons_interface *r, const uint8_t *data,
	    size_t len, size_t *written) SC_WUR;
int	sc_ring_out_read(struct xencons_interface *r, uint8_t *dst, size_t cap,
	    size_t *got) SC_WUR;
int	sc_ring_in_space(const struct xencons_interface *r, size_t *space) SC_WUR;
int	sc_ring_out_avail(const struct xencons_interface *r, size_t *avail) SC_WUR;
/*
 * in_scrub: zero the `in` slots outside [in_cons, in_prod), i.e. what the
 * guest has consumed (decrypted keystrokes) and what was never written; the
 * producer owns those slots, so this races with no reader.
 * check: 0 if both index pairs are consistent (prod - cons <= size).
 * Both return 0 or SC_ERR_CORRUPT (then nothing was written).
 */
int	sc_ring_in_scrub(struct xencons_interface *r) SC_WUR;
int	sc_ring_check(const struct xencons_interface *r) SC_WUR;

/*
 * Guest side (the hvc driver's view), used by the simulated guest and the
 * tests: the guest produces `out` and consumes `in`.
 */
int	sc_ring_guest_out_write(struct xencons_interface *r, const uint8_t *data,
	    size_t len, size_t *written) SC_WUR;
int	sc_ring_guest_in_read(struct xencons_interface *r, uint8_t *dst,
	    size_t cap, size_t *got) SC_WUR;
int	sc_ring_guest_in_avail(const struct xencons_interface *r, size_t *avail) SC_WUR;
int	sc_ring_guest_out_space(const struct xencons_interface *r, size_t *space) SC_WUR;

#endif /* SC_HV_RING_H */
