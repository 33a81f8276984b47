/*
 * glue-xen.c — the Xen side of the glue (hv/xen/glue/sccrypt.c), compiled
 * unchanged in user space for glue-test.c: the few Xen types, macros and
 * functions it uses are stubbed here, and crypto-diff.sh gives it empty
 * files for the Xen headers it includes.  The core it drives is the one
 * glue-test.c hands to gx_setup(); its callbacks to the Xen side stay
 * glue-test.c's (sccrypt.c's own are renamed out of the way).
 *
 * What the stubs record (issue 12 item 8): gnttab_mfn_pinned() notes, each
 * time attach calls it, whether the frame it is asked about is already
 * protected (its PGC_sccrypt bit, which the mapping paths consult through
 * sccrypt_mfn_protected()).  Everything is single-threaded and
 * deterministic: the race is checked through the order of the two steps.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "glue-xen.h"

/* ---- types ---- */
typedef uint16_t domid_t;
typedef uint32_t evtchn_port_t;
typedef int64_t s_time_t;
typedef struct { unsigned long m; } mfn_t;

struct domain {
	domid_t		domain_id;
	bool		is_dying;
	bool		is_pv;
	uint8_t		handle[16];
	/* issue 16: translated (PVH/HVM) domains, patch 0030's fields */
	bool		sccrypt_pinned;
	unsigned long	sccrypt_gfn;
	unsigned long	sccrypt_mfn;
	bool		vpic;		/* HVM (emulated PIC), else PVH */
	bool		altp2m;		/* altp2m_active() */
	struct { struct { uint64_t params[20]; } hvm; } arch;
};
struct vcpu {
	struct domain	*domain;
};
struct page_info {
	unsigned long	mfn;
	unsigned long	count_info;	/* only PGC_sccrypt is modelled */
	struct domain	*owner;
	bool		special;	/* a Xen heap / PGC_extra page */
};

/* public/sccrypt.h (hv/xen/patches/0001-*) */
#define SCCRYPT_OP_CALL		1
#define SCCRYPT_OP_ATTACH	2
#define SCCRYPT_OP_DETACH	3
struct xen_sccrypt_attach {
	domid_t		domid;
	uint16_t	pad0;
	evtchn_port_t	port;
	uint64_t	gfn;
	uint32_t	history;
	uint32_t	flags;
	uint8_t		uuid[16];
	char		name[64];
};
struct xen_sccrypt_detach {
	domid_t		domid;
	uint16_t	pad0;
};

/* ---- macros ---- */
#define __init
#define __initdata
#define __read_mostly
#define cf_check
#define boolean_param(n, v)	extern int gx_unused_param
#define size_param(n, v)	extern int gx_unused_param
#define string_param(n, v)	extern int gx_unused_param
#define __initcall(f)		int (*gx_initcall)(void) = (f)
#define DEFINE_SPINLOCK(l)	struct gx_lock l
#define spinlock_t		struct gx_lock
#define spin_lock_init(l)	((l)->held = 0)
#define spin_lock(l)		gx_spin_lock(l)
#define spin_unlock(l)		gx_spin_unlock(l)
#define spin_trylock(l)		gx_spin_trylock(l)
#define DECLARE_TASKLET(n, f, d)	struct gx_tasklet n = { (f), (d), false }
#define BITS_PER_LONG		(8 * sizeof(long))
#define BITS_TO_LONGS(n)	(((n) + BITS_PER_LONG - 1) / BITS_PER_LONG)
#define DOMID_FIRST_RESERVED	0x7FF0U
#define XENLOG_G_WARNING	""
#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#define likely(x)		__builtin_expect(!!(x), 1)
#define ACCESS_ONCE(x)		(*(volatile __typeof__(x) *)&(x))
#define smp_mb()		__atomic_thread_fence(__ATOMIC_SEQ_CST)
#define INVALID_MFN_RAW		(~0UL)
#define mfn_x(v)		((v).m)
#define _PGC_sccrypt		8
/* Xen's bit operations on an array of longs (page flags, bitmaps). */
#define GX_WORD(b, p)		(&((unsigned long *)(p))[(b) / (8 * sizeof(long))])
#define GX_BIT(b)		(1UL << ((b) % (8 * sizeof(long))))
#define test_bit(b, p)		((*GX_WORD(b, p) & GX_BIT(b)) != 0)
#define test_and_set_bit(b, p)	((__atomic_fetch_or(GX_WORD(b, p), GX_BIT(b), __ATOMIC_SEQ_CST) & GX_BIT(b)) != 0)
#define test_and_clear_bit(b, p) ((__atomic_fetch_and(GX_WORD(b, p), ~GX_BIT(b), __ATOMIC_SEQ_CST) & GX_BIT(b)) != 0)
#define set_bit(b, p)		((void)__atomic_fetch_or(GX_WORD(b, p), GX_BIT(b), __ATOMIC_SEQ_CST))
#define clear_bit(b, p)		((void)__atomic_fetch_and(GX_WORD(b, p), ~GX_BIT(b), __ATOMIC_SEQ_CST))
#define is_pv_domain(d)		((d)->is_pv)
/* Issue 16: the HVM side of sccrypt.c, over a one-entry p2m per slot. */
#define CONFIG_HVM		1
#define is_hvm_domain(d)	(!(d)->is_pv)
#define has_vpic(d)		((d)->vpic)
#define altp2m_active(d)	((d)->altp2m)
#define HVM_PARAM_CONSOLE_PFN	17
#define HVM_PARAM_CONSOLE_EVTCHN 18
#define INVALID_MFN		((mfn_t){ ~0UL })
#define mfn_eq(a, b)		((a).m == (b).m)
#define smp_wmb()		__atomic_thread_fence(__ATOMIC_RELEASE)
#define smp_rmb()		__atomic_thread_fence(__ATOMIC_ACQUIRE)
#define put_gfn(d, g)		((void)(d), (void)(g))
typedef enum gx_p2m_type p2m_type_t;
#define is_special_page(p)	((p)->special)
#define page_get_owner(p)	((p)->owner)
#define page_to_mfn(p)		((mfn_t){ (p)->mfn })
#define min_t(t, a, b)		((t)(a) < (t)(b) ? (t)(a) : (t)(b))
#define XENLOG_INFO		""
#define XENLOG_WARNING		""
#define XENLOG_ERR		""
#define VIRQ_SCCRYPT		14
#define XSM_PRIV		0
#define XEN_GUEST_HANDLE_PARAM(t)	t *
#define guest_handle_cast(h, t)	((t *)(h))
#define copy_from_guest(d, s, n)	(gx_copy_note(), memcpy((d), (s), (n)), 0)
#define copy_from_guest_offset(d, s, o, n)	(gx_copy_note(), memcpy((d), (s) + (o), (n)), 0)
#define copy_to_guest(d, s, n)	(gx_copy_note(), memcpy((d), (s), (n)), 0)
#define current			(&gx_vcpu0)

/* sccrypt.c's callbacks from the core: glue-test.c has its own. */
#define sc_xen_notify_guest		sccrypt_c_notify_guest
#define sc_xen_raise_virq		sccrypt_c_raise_virq
#define sc_xen_warn_unchecked_disk_key	sccrypt_c_warn_unchecked_disk_key
#define sc_xen_fatal			sccrypt_c_fatal

/* ---- state and functions ---- */
/*
 * Locks (issue 14 items 1 and 6): one CPU runs the glue; gx_other marks a
 * lock as held by another CPU.  spin_lock() of such a lock would spin in
 * Xen: counted in gx_st.spins (and then taken, the test being serial).
 * A guest copy made while any lock is held is counted in
 * gx_st.copies_locked.
 */
struct gx_lock {
	int	held;
};
struct gx_tasklet {
	void	(*fn)(void *);
	void	*data;
	bool	scheduled;
};
static struct gx_lock *gx_other;
static int gx_locks_held;
static unsigned long gx_lock_takes;	/* spin_lock/trylock successes */
static struct gx_tasklet *gx_scheduled;
static struct gx_stats gx_st;

static void
gx_spin_lock(struct gx_lock *l)
{
	if (l == gx_other)
		gx_st.spins++;
	l->held++;
	gx_locks_held++;
	gx_lock_takes++;
}

static void
gx_spin_unlock(struct gx_lock *l)
{
	l->held--;
	gx_locks_held--;
}

static inline int
gx_spin_trylock(struct gx_lock *l)
{
	if (l == gx_other || l->held)
		return 0;
	l->held++;
	gx_locks_held++;
	gx_lock_takes++;
	return 1;
}

static void
gx_copy_note(void)
{
	gx_st.copies++;
	if (gx_locks_held > 0)
		gx_st.copies_locked++;
}

static inline void
tasklet_schedule(struct gx_tasklet *t)
{
	t->scheduled = true;
	gx_scheduled = t;
	gx_st.deferred++;
}


/* IOMMU state as Xen's iommu_setup() leaves it (xen/iommu.h). */
bool iommu_enabled, iommu_hwdom_strict, iommu_hwdom_passthrough;
static const char *gx_last_printk;

static struct domain gx_dom0;
static struct vcpu gx_vcpu0 = { &gx_dom0 };
static struct domain *hardware_domain __attribute__((unused)) = &gx_dom0;
static struct domain gx_doms[GX_DOMAINS];
static struct vcpu gx_vcpus[GX_DOMAINS];
static struct page_info gx_pages[GX_DOMAINS];
static void *gx_va[GX_DOMAINS];
static bool gx_pinned[GX_DOMAINS];
static enum gx_page gx_kind[GX_DOMAINS];
static struct gx_pin_check gx_last;
/* The p2m entry of each slot's console gfn: type, and a change in flight. */
static enum gx_p2m_type gx_p2m_type[GX_DOMAINS];
static bool gx_p2m_race[GX_DOMAINS];
static unsigned gx_p2m_queries[GX_DOMAINS];

static struct domain *
rcu_lock_domain_by_id(domid_t id)
{
	unsigned i;

	if (id == 0)
		return &gx_dom0;
	for (i = 0; i < GX_DOMAINS; i++)
		if (gx_doms[i].domain_id == id)
			return &gx_doms[i];
	return NULL;
}

static void rcu_unlock_domain(struct domain *d) { (void)d; }
static void get_knownalive_domain(struct domain *d) { (void)d; }
static void put_domain(struct domain *d) { (void)d; }
static bool is_control_domain(const struct domain *d) { return d == &gx_dom0; }
/* XSM: records the per-target checks of CALL; denies gx_st.deny_domid. */
static inline int
xsm_sccrypt_op(int a, struct domain *d, int op)
{
	(void)a;
	if (d != NULL && op == SCCRYPT_OP_CALL) {
		gx_st.xsm_call_target = d->domain_id;
		if (d->domain_id == gx_st.deny_domid)
			return -EACCES;
	}
	return 0;
}
static void printk(const char *fmt, ...) { gx_last_printk = fmt; }
static inline void *xmalloc_bytes(size_t n) { return malloc(n); }
#define gprintk(lvl, ...)	printk(__VA_ARGS__)
static __attribute__((noreturn)) void panic(const char *fmt, ...) { (void)fmt; abort(); }
static void notify_via_xen_event_channel(struct domain *d, evtchn_port_t p) { (void)d; (void)p; }
static void send_global_virq(unsigned v) { (void)v; }
#ifdef GX_BEFORE_ISSUE14_4
static inline void *xzalloc_bytes(size_t n) { return calloc(1, n); }
#endif
static void *vzalloc(size_t n) { return calloc(1, n); }
static void xfree(void *p) { free(p); }
static void vfree(void *p) { free(p); }
static uint64_t get_cycles(void) { return 0; }
static s_time_t NOW(void) { return 0; }
static unsigned get_random(void) { return 0; }

/* The console page of the gx_doms slot of d, as Xen would map it. */
static inline int
prepare_ring_for_helper(struct domain *d, uint64_t gfn, struct page_info **page, void **va)
{
	unsigned i = (unsigned)(d - gx_doms);

	/* A page still protected by an attach in progress is kept as it is. */
	if (!(gx_pages[i].count_info & (1UL << _PGC_sccrypt))) {
		gx_pages[i].mfn = (unsigned long)gfn;
		gx_pages[i].owner = gx_kind[i] == GX_PAGE_FOREIGN ? &gx_dom0 : d;
		gx_pages[i].special = gx_kind[i] == GX_PAGE_SPECIAL;
	}
	*page = &gx_pages[i];
	*va = gx_va[i];
	return 0;
}

/*
 * The slot's p2m: its gfn maps the page prepare_ring_for_helper() gave
 * (mfn = gfn here) with gx_p2m_type; with gx_p2m_race, every query after
 * the first sees another frame (a change that was in flight).
 */
static mfn_t
get_gfn_query(struct domain *d, unsigned long gfn, p2m_type_t *t)
{
	unsigned i = (unsigned)(d - gx_doms);

	*t = gx_p2m_type[i];
	if (gx_p2m_queries[i]++ > 0 && gx_p2m_race[i])
		return (mfn_t){ gfn + 1 };
	return (mfn_t){ gfn };
}

static void
destroy_ring_for_helper(void **va, struct page_info *page)
{
	(void)page;
	*va = NULL;
}

static inline int
evtchn_bind_xen_loopback(struct domain *d, evtchn_port_t port,
    void (*fn)(struct vcpu *, unsigned int), evtchn_port_t *xport, domid_t *gremote)
{
	(void)d;
	(void)fn;
	*xport = port + 1000;
	*gremote = 0;
	return 0;
}

static void
evtchn_unbind_xen_loopback(struct domain *d, evtchn_port_t x, evtchn_port_t g, domid_t to)
{
	(void)d; (void)x; (void)g; (void)to;
}

bool sccrypt_mfn_protected(mfn_t mfn);

/* The frames of the test slots are the only valid ones. */
static bool
mfn_valid(mfn_t mfn)
{
	unsigned i;

	for (i = 0; i < GX_DOMAINS; i++)
		if (gx_pages[i].owner != NULL && gx_pages[i].mfn == mfn_x(mfn))
			return true;
	return false;
}

static struct page_info *
mfn_to_page(mfn_t mfn)
{
	unsigned i;

	for (i = 0; i < GX_DOMAINS; i++)
		if (gx_pages[i].owner != NULL && gx_pages[i].mfn == mfn_x(mfn))
			return &gx_pages[i];
	abort();
}

/* The pin scan: records what a racing mapping would have seen. */
static bool
gnttab_mfn_pinned(struct domain *d, mfn_t mfn)
{
	unsigned i = (unsigned)(d - gx_doms);

	gx_last.calls++;
	gx_last.mfn = mfn_x(mfn);
	gx_last.protected_then = sccrypt_mfn_protected(mfn);
	return i < GX_DOMAINS && gx_pinned[i];
}

/* No TPM here (sccrypt_tpm.c is Xen's; the lab tests it). */
#define sccrypt_tpm_measure	gx_tpm_measure
int gx_tpm_measure(unsigned int pcr, const uint8_t *data, size_t len,
    uint8_t value_out[32], uint32_t *tpm_rc);
int
gx_tpm_measure(unsigned int pcr, const uint8_t *data, size_t len,
    uint8_t value_out[32], uint32_t *tpm_rc)
{
	(void)pcr; (void)data; (void)len; (void)value_out; (void)tpm_rc;
	return -ENODEV;
}

/*
 * Issue 14 item 6: whether a lock was held or taken in each phase of a
 * CALL (since per-domain locking the core takes its own locks inside begin
 * and commit).  sc_xen_core.h comes first so that its prototypes keep
 * their names; sccrypt.c's calls go through these notes.
 */
#include "glue/sc_xen_core.h"
static unsigned long gx_phase_takes;
static void
gx_phase_start(void)
{
	gx_phase_takes = gx_lock_takes;
}
static int
gx_phase(int phase, int rv)
{
	gx_st.phases[phase]++;
	if (gx_locks_held > 0 || gx_lock_takes != gx_phase_takes)
		gx_st.phases_locked[phase]++;
	return rv;
}
#define sc_xen_core_call_begin(...) \
	(gx_phase_start(), gx_phase(0, sc_xen_core_call_begin(__VA_ARGS__)))
#define sc_xen_core_call_crypto(c, call) \
	(gx_phase_start(), sc_xen_core_call_crypto((c), (call)), (void)gx_phase(1, 0))
#define sc_xen_core_call_commit(...) \
	(gx_phase_start(), gx_phase(2, sc_xen_core_call_commit(__VA_ARGS__)))

/* Xen builds this without -Wextra; its unused-argument callbacks are fine. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "glue/sccrypt_rng.c"
#include "glue/sccrypt_hvm.c"
#include "glue/sccrypt.c"
#pragma GCC diagnostic pop

/* ---- the interface for glue-test.c ---- */

void
gx_setup(struct sc_xen_core *c)
{
	opt_sccrypt = false;	/* sccrypt_init does nothing more */
	(void)gx_initcall();
	core = c;
}

long
gx_attach(unsigned slot, uint16_t domid, uint64_t mfn, void *page, bool pinned,
    const uint8_t *uuid, struct gx_pin_check *pc)
{
	return gx_attach_ex(slot, domid, mfn, page, pinned, uuid, uuid, true,
	    GX_PAGE_RAM, pc);
}

long
gx_attach_ex(unsigned slot, uint16_t domid, uint64_t mfn, void *page, bool pinned,
    const uint8_t *uuid, const uint8_t *handle, bool pv, enum gx_page kind,
    struct gx_pin_check *pc)
{
	struct xen_sccrypt_attach a;
	long rc;

	if (slot >= GX_DOMAINS)
		return -EINVAL;
	memset(&gx_doms[slot], 0, sizeof(gx_doms[slot]));
	gx_doms[slot].domain_id = domid;
	gx_doms[slot].is_pv = pv;
	memcpy(gx_doms[slot].handle, handle, sizeof(gx_doms[slot].handle));
	gx_va[slot] = page;
	gx_pinned[slot] = pinned;
	gx_kind[slot] = kind;
	memset(&gx_last, 0, sizeof(gx_last));
	memset(&a, 0, sizeof(a));
	a.domid = domid;
	a.port = 2;
	a.gfn = mfn;
	memcpy(a.uuid, uuid, sizeof(a.uuid));
	memcpy(a.name, "gx", 2);
	rc = sccrypt_attach(&a);
	*pc = gx_last;
	return rc;
}

long
gx_hvm_attach(unsigned slot, uint16_t domid, uint64_t gfn, uint64_t param_gfn,
    enum gx_p2m_type t, bool race, bool altp2m, void *page, const uint8_t *uuid)
{
	struct xen_sccrypt_attach a;

	if (slot >= GX_DOMAINS)
		return -EINVAL;
	memset(&gx_doms[slot], 0, sizeof(gx_doms[slot]));
	gx_doms[slot].domain_id = domid;
	gx_doms[slot].vpic = true;
	gx_doms[slot].altp2m = altp2m;
	gx_doms[slot].arch.hvm.params[HVM_PARAM_CONSOLE_PFN] = param_gfn;
	gx_doms[slot].arch.hvm.params[HVM_PARAM_CONSOLE_EVTCHN] = 2;
	memcpy(gx_doms[slot].handle, uuid, sizeof(gx_doms[slot].handle));
	gx_va[slot] = page;
	gx_pinned[slot] = false;
	gx_kind[slot] = GX_PAGE_RAM;
	gx_p2m_type[slot] = t;
	gx_p2m_race[slot] = race;
	gx_p2m_queries[slot] = 0;
	memset(&a, 0, sizeof(a));
	a.domid = domid;
	a.port = 2;
	a.gfn = gfn;
	memcpy(a.uuid, uuid, sizeof(a.uuid));
	memcpy(a.name, "gx", 2);
	return sccrypt_attach(&a);
}

bool
gx_hvm_pinned(unsigned slot)
{
	return sccrypt_p2m_pinned(&gx_doms[slot]);
}

bool
gx_p2m_change_ok(unsigned slot, unsigned long gfn, uint64_t mfn,
    unsigned long nr, enum gx_p2m_type t)
{
	return sccrypt_p2m_change_ok(&gx_doms[slot], gfn,
	    (mfn_t){ (unsigned long)mfn }, nr, t);
}

long
gx_detach(uint16_t domid)
{
	return sccrypt_detach(domid);
}

bool
gx_mfn_protected(uint64_t mfn)
{
	return sccrypt_mfn_protected((mfn_t){ (unsigned long)mfn });
}

void
gx_kill(unsigned slot)
{
	gx_doms[slot].is_dying = true;
	sccrypt_domain_kill(&gx_doms[slot]);
}

/* ---- issue 14: locking, per-target XSM, memory exposure ---- */

/* Per-domain locking: the guest path's first lock is the core's TABLE. */
void
gx_other_cpu_holds_lock(bool yes)
{
	gx_other = yes ? &sccrypt_core_locks[SC_XEN_LOCK_TABLE] : NULL;
}

void
gx_guest_send(unsigned slot)
{
	gx_vcpus[slot].domain = &gx_doms[slot];
	sccrypt_guest_notification(&gx_vcpus[slot], 2);
}

bool
gx_run_tasklet(void)
{
	struct gx_tasklet *t = gx_scheduled;

	if (t == NULL || !t->scheduled)
		return false;
	t->scheduled = false;
	gx_scheduled = NULL;
	t->fn(t->data);
	return true;
}

long
gx_call(void *buf, unsigned long size)
{
#ifdef GX_BEFORE_ISSUE14_4
	/* main before issue 14: static buffers that init allocated. */
	if (reqbuf == NULL) {
		reqbuf = calloc(1, SC_XEN_OP_MAX);
		respbuf = calloc(1, SC_XEN_OP_MAX);
	}
#endif
	return do_sccrypt_op(SCCRYPT_OP_CALL, buf, size);
}

struct gx_stats *
gx_stats(void)
{
	return &gx_st;
}

#ifndef GX_BEFORE_ISSUE14_4
const char *
gx_boot(bool iommu, bool strict, bool passthrough, bool unsafe)
{
	iommu_enabled = iommu;
	iommu_hwdom_strict = strict;
	iommu_hwdom_passthrough = passthrough;
	opt_unsafe_no_iommu = unsafe;
	opt_sccrypt = true;
	gx_last_printk = NULL;
	(void)gx_initcall();
	opt_sccrypt = false;
	return gx_last_printk;
}

void
gx_owner_ca(const char *value)
{
	/* Xen's string_param: safe_strcpy, cut to the buffer. */
	memset(opt_owner_ca, 0, sizeof(opt_owner_ca));
	if (value != NULL)
		memcpy(opt_owner_ca, value, strlen(value) < sizeof(opt_owner_ca) - 1 ?
		    strlen(value) : sizeof(opt_owner_ca) - 1);
}

void
gx_wipe(struct sc_xen_core *c, void *arena_, size_t len)
{
	struct sc_xen_core *saved = core;

	core = c;
	arena = arena_;
	arena_len = len;
	sccrypt_wipe();
		core = saved;
	arena = NULL;
}
#endif
