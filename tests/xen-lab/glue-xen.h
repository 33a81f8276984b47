/*
 * glue-xen.h — drive hv/xen/glue/sccrypt.c (the Xen side of the glue),
 * built in user space by glue-xen.c, from glue-test.c.
 *
 * gx_setup(c):  sccrypt.c's init with SCCrypt "disabled" (it does nothing
 *               then), and c becomes its core.
 * gx_attach():  sccrypt_attach() of domid in test slot `slot` (< GX_DOMAINS),
 *               console frame `mfn` mapped at `page`; `pinned` says whether
 *               the grant-pin scan finds a pin.  Returns its errno result;
 *               *pc tells what the pin scan saw (last call).
 * gx_attach_ex(): the same for a domain whose handle (creation UUID) is
 *               `handle`, PV or not, whose frame is of kind `kind`.
 * gx_mfn_protected(mfn): sccrypt_mfn_protected(), what every mapping path
 *               asks.
 * gx_kill(slot): the domain dies (sccrypt_domain_kill()).
 */
#ifndef GLUE_XEN_H
#define GLUE_XEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GX_DOMAINS	4

struct sc_xen_core;

struct gx_pin_check {
	unsigned	calls;		/* gnttab_mfn_pinned() calls */
	uint64_t	mfn;		/* the frame of the last call */
	bool		protected_then;	/* was it protected at that moment */
};

/* What the frame at the attach's gfn is. */
enum gx_page {
	GX_PAGE_RAM,		/* ordinary RAM of the domain */
	GX_PAGE_SPECIAL,	/* a Xen heap page shared with it (shared_info) */
	GX_PAGE_FOREIGN,	/* a page another domain owns */
};

/* Issue 16: p2m types of a translated domain's console gfn (asm/p2m.h). */
enum gx_p2m_type {
	p2m_ram_rw,
	p2m_ram_logdirty,
	p2m_ram_ro,
	p2m_grant_map_rw,
	p2m_map_foreign,
	p2m_ioreq_server,
};

void	gx_setup(struct sc_xen_core *c);
long	gx_attach(unsigned slot, uint16_t domid, uint64_t mfn, void *page, bool pinned,
	    const uint8_t *uuid, struct gx_pin_check *pc);
long	gx_attach_ex(unsigned slot, uint16_t domid, uint64_t mfn, void *page,
	    bool pinned, const uint8_t *uuid, const uint8_t *handle, bool pv,
	    enum gx_page kind, struct gx_pin_check *pc);
bool	gx_mfn_protected(uint64_t mfn);
/*
 * Issue 16: attach of an HVM domain in slot whose HVM_PARAM_CONSOLE_PFN is
 * param_gfn and whose p2m maps gfn with type t (race: the entry changes
 * between the attach's first look and its look after pinning); the pin as
 * p2m_set_entry() asks it; DETACH.
 */
long	gx_hvm_attach(unsigned slot, uint16_t domid, uint64_t gfn, uint64_t param_gfn,
	    enum gx_p2m_type t, bool race, bool altp2m, void *page, const uint8_t *uuid);
bool	gx_hvm_pinned(unsigned slot);
bool	gx_p2m_change_ok(unsigned slot, unsigned long gfn, uint64_t mfn,
	    unsigned long nr, enum gx_p2m_type t);
long	gx_detach(uint16_t domid);
void	gx_kill(unsigned slot);

/*
 * Issue 14.  gx_other_cpu_holds_lock(yes): the core's TABLE lock (the first
 * one the guest path tries) is (not) held by another CPU.  gx_guest_send(slot): the guest of slot signals its console
 * port (sccrypt_guest_notification()).  gx_run_tasklet(): run the tasklet
 * if one is scheduled (false if none).  gx_call(): do_sccrypt_op(CALL).
 * gx_boot(): sccrypt_init() with that IOMMU state and
 * sccrypt-unsafe-no-iommu; returns the format of its last printk.
 * gx_wipe(c, arena, len): sccrypt_wipe() of that core and arena.
 * gx_owner_ca(value): sccrypt-owner-ca= as Xen's string_param stores it
 * (NULL: not given) for the next gx_boot().
 */
struct gx_stats {
	unsigned long	spins;		/* spin_lock() of a lock another CPU held */
	unsigned long	deferred;	/* tasklet_schedule() calls */
	unsigned long	copies;		/* guest copies */
	unsigned long	copies_locked;	/* ... made with a lock held */
	uint32_t	xsm_call_target; /* domain of the last per-target CALL check */
	uint32_t	deny_domid;	/* XSM refuses CALLs naming this domain */
	/*
	 * Item 6: a CALL's phases (begin, crypto, commit) run, and how many
	 * of them ran with a lock held.
	 */
	unsigned long	phases[3];
	unsigned long	phases_locked[3];
};

void	gx_other_cpu_holds_lock(bool yes);
void	gx_guest_send(unsigned slot);
bool	gx_run_tasklet(void);
long	gx_call(void *buf, unsigned long size);
struct gx_stats *gx_stats(void);
const char *gx_boot(bool iommu, bool strict, bool passthrough, bool unsafe);
void	gx_wipe(struct sc_xen_core *c, void *arena, size_t len);
void	gx_owner_ca(const char *value);

#endif
