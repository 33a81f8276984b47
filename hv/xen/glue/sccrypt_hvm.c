/*
 * sccrypt_hvm.c — SCCrypt inside Xen: the console frame of a translated
 * (PVH or HVM) domain, checked and pinned in its p2m while attached
 * (sccrypt_hvm.h; patch 0030 calls the two public functions from the p2m
 * code).  Xen side only, like sccrypt.c.
 */
#include <xen/init.h>
#include <xen/lib.h>
#include <xen/sched.h>
#include <xen/mm.h>
#include <xen/sccrypt.h>
#include <public/sccrypt.h>
#ifdef CONFIG_HVM
#include <asm/p2m.h>
#include <asm/altp2m.h>
#include <public/hvm/params.h>
#endif

#include "sccrypt_hvm.h"

/*
 * A PV guest names its console page by frame; a PVH/HVM guest by a gfn
 * (HVM_PARAM_CONSOLE_PFN) that its p2m translates, and dom0 can change
 * that p2m.  While attached the gfn is pinned: d->sccrypt_{gfn,mfn} and
 * the flag (patch 0030), which p2m_set_entry() asks through
 * sccrypt_p2m_change_ok() for every change of the host p2m, and altp2m,
 * mem_access and HVM_PARAM_CONSOLE_* through sccrypt_p2m_pinned().
 */
bool sccrypt_p2m_pinned(const struct domain *d)
{
	return ACCESS_ONCE(d->sccrypt_pinned);
}

bool sccrypt_p2m_change_ok(const struct domain *d, unsigned long gfn,
                           mfn_t mfn, unsigned long nr, unsigned int t)
{
#ifdef CONFIG_HVM
	unsigned long cg;

	if ( likely(!ACCESS_ONCE(d->sccrypt_pinned)) )
		return true;
	smp_rmb();
	cg = d->sccrypt_gfn;
	if ( cg < gfn || cg - gfn >= nr )
		return true;
	/* Same frame, still RAM the guest writes (log-dirty is that too). */
	if ( !mfn_eq(mfn, INVALID_MFN) &&
	     mfn_x(mfn) + (cg - gfn) == d->sccrypt_mfn &&
	     (t == p2m_ram_rw || t == p2m_ram_logdirty) )
		return true;
	printk(XENLOG_G_WARNING "sccrypt: d%d: p2m change of the protected "
	       "console gfn %#lx refused (to %s mfn, type %u)\n", d->domain_id,
	       cg, mfn_eq(mfn, INVALID_MFN) ? "no" : "another", t);
	return false;
#else
	return true;
#endif
}

#ifdef CONFIG_HVM
/*
 * The console frame of a translated domain: the gfn must be the one the
 * guest finds (HVM_PARAM_CONSOLE_PFN; dom0 passes what it read from
 * xenstore), and the port HVM_PARAM_CONSOLE_EVTCHN.  The p2m type must be
 * p2m_ram_rw: not a grant or foreign mapping (another domain's page: a
 * p2m_map_foreign gfn would hand Xen a third domain's frame), MMIO,
 * paged or shared, read-only or an ioreq server's.  No altp2m view may be
 * active (the guest could be running in one that maps the gfn elsewhere).
 */
long sccrypt_hvm_console_check(struct domain *d,
                              const struct xen_sccrypt_attach *a)
{
	if ( a->gfn != d->arch.hvm.params[HVM_PARAM_CONSOLE_PFN] ||
	     a->port != d->arch.hvm.params[HVM_PARAM_CONSOLE_EVTCHN] )
	{
		gprintk(XENLOG_WARNING, "sccrypt: attach of d%d: gfn %#"PRIx64
		        " port %u are not its HVM_PARAM_CONSOLE_PFN %#"PRIx64
		        " / EVTCHN %"PRIu64"\n", d->domain_id, a->gfn, a->port,
		        d->arch.hvm.params[HVM_PARAM_CONSOLE_PFN],
		        d->arch.hvm.params[HVM_PARAM_CONSOLE_EVTCHN]);
		return -EINVAL;
	}
	if ( altp2m_active(d) )
	{
		gprintk(XENLOG_WARNING, "sccrypt: attach of d%d: altp2m is "
		        "active\n", d->domain_id);
		return -EPERM;
	}
	return 0;
}

/* The gfn maps page as p2m_ram_rw now (takes and drops the gfn lock). */
bool sccrypt_hvm_gfn_is_ram(struct domain *d, unsigned long gfn,
                           struct page_info *page)
{
	p2m_type_t t;
	mfn_t mfn = get_gfn_query(d, gfn, &t);
	bool ok = t == p2m_ram_rw && mfn_eq(mfn, page_to_mfn(page));

	put_gfn(d, gfn);
	if ( !ok )
		gprintk(XENLOG_WARNING, "sccrypt: attach of d%d: gfn %#lx is not "
		        "ordinary RAM (p2m type %d)\n", d->domain_id, gfn, t);
	return ok;
}

/*
 * Pin: from here on p2m_set_entry() refuses to move or retype the gfn.
 * Then look once more (under the gfn lock, so after any change that was
 * in flight): a change that raced with the attach is seen, and refused.
 */
long sccrypt_hvm_pin(struct domain *d, unsigned long gfn,
                    struct page_info *page)
{
	if ( ACCESS_ONCE(d->sccrypt_pinned) )
		return -EEXIST;
	d->sccrypt_gfn = gfn;
	d->sccrypt_mfn = mfn_x(page_to_mfn(page));
	smp_wmb();
	ACCESS_ONCE(d->sccrypt_pinned) = true;
	smp_mb();
	if ( sccrypt_hvm_gfn_is_ram(d, gfn, page) )
		return 0;
	ACCESS_ONCE(d->sccrypt_pinned) = false;
	smp_mb();
	return -EBUSY;
}

void sccrypt_hvm_unpin(struct domain *d)
{
	ACCESS_ONCE(d->sccrypt_pinned) = false;
	smp_mb();
}
#endif

