/*
 * sccrypt.c — SCCrypt inside Xen: the __HYPERVISOR_sccrypt_op hypercall,
 * boot-time hv key generation, the console pages of attached domains, the
 * guest and dom0 notifications, and the checks that keep other domains
 * from mapping a protected console page.
 *
 * Xen side only: it includes Xen's headers and talks to the SCCrypt core
 * (lib/core, hv/core, hv/xen/crypto, built unchanged from the SCCrypt tree)
 * through sc_xen_core.h.  Copied into xen/common/sccrypt/ by
 * tests/xen-lab/build-xen.sh; docs/xen.md describes the design.
 *
 * Locks (issue 14 items 1 and 6).  The core locks for itself (hv.h,
 * "Locking"), through sc_xen_lock() on sccrypt_core_locks[]: TABLE for the
 * core's domain table (lookup, add, remove; a scan, never work on a
 * domain), one lock per domain for all of that domain's state (its ring
 * pump, sessions, history; one op or one bounded pump at a time) and
 * SHARED, a leaf held for constant-time bookkeeping (the session pool,
 * session ids, the provider's RNG, the event queue for dom0).  So one
 * guest's pump, or an OUTPUT sealing 32 KiB for one domain, delays only
 * callers for that same domain; no public-key crypto runs under any lock
 * (OPEN and PROTECT in three phases, hv.h "Ops in phases").  Order:
 * sccrypt_lock, TABLE, one domain's lock, SHARED, then event-channel
 * locks (notify_via_xen_event_channel under a domain's lock,
 * send_global_virq under SHARED); TABLE -> domain only as a trylock.
 * sccrypt_lock now guards only this file's attach table (doms[]) and
 * serialises attach and detach; no op or guest event takes it.  Removal
 * vs a call: the core's detach waits for the domain's lock (the op in
 * flight ends), wipes the domain and unlists it; a call that looked it up
 * before finds it dead (SC_ERR_NOTFOUND); so once sc_xen_core_detach()
 * returns no CPU touches the console page, and detach_locked() lets it go.
 * No lock is held across a copy from or to a guest: a call copies its
 * request into its own buffer first and its response out at the end.  A
 * guest's EVTCHNOP_send never spins on a contended lock:
 * sccrypt_guest_notification() makes the core only trylock the table and
 * the domain; if either is busy (another CPU's op on the same domain, an
 * attach) it marks the domain pending and schedules sccrypt_tasklet,
 * which does the work in the idle vCPU's context.  It may wait for
 * SHARED, held only for bookkeeping.  The protection of a console page is
 * a page flag (PGC_sccrypt, patch 0005) that the mapping paths test
 * without a lock.
 */
#include <xen/init.h>
#include <xen/lib.h>
#include <xen/param.h>
#include <xen/sched.h>
#include <xen/spinlock.h>
#include <xen/tasklet.h>
#include <xen/bitops.h>
#include <xen/event.h>
#include <xen/guest_access.h>
#include <xen/mm.h>
#include <xen/vmap.h>
#include <xen/time.h>
#include <xen/grant_table.h>
#include <xen/iommu.h>
#include <xen/hypercall.h>
#include <xen/sccrypt.h>
#include <xsm/xsm.h>
#include <public/sccrypt.h>
#include <asm/page.h>

#include "sc_xen_core.h"
#include "sccrypt_hvm.h"
#include "sccrypt_rng.h"
#include "sccrypt_tpm.h"

/* SCCrypt error codes the glue maps to errno values (core/err.h). */
#define SC_ERR_ALLOC		(-2)
#define SC_ERR_INVAL		(-3)
#define SC_ERR_NOTFOUND		(-19)
#define SC_ERR_AGAIN		(-22)
#define SC_ERR_BUSY		(-23)
#define SC_ERR_PROTECTED	(-29)

#define SCCRYPT_MAX_DOMAINS	64
#define SCCRYPT_ARENA_DEFAULT	(4u << 20)	/* history buffers, all domains */

/* sccrypt=<bool>: enable SCCrypt (default on). */
static bool __initdata opt_sccrypt = true;
boolean_param("sccrypt", opt_sccrypt);
/*
 * sccrypt-disk-check=<bool>: PROTECT requires the disk-key check (default).
 * The hypervisor cannot read a domain's disk, so with the check on every
 * PROTECT fails; the lab boots with sccrypt-disk-check=0 (docs/xen.md).
 */
static bool __read_mostly opt_disk_check = true;
boolean_param("sccrypt-disk-check", opt_disk_check);
/*
 * sccrypt-owner-ca=<64 hex digits>: the key server's owner CA (an Ed25519
 * public key).  Every PROTECT must then carry that CA's ownership token
 * (core/owner.h, docs/xen.md §4 item 6), which takes the place of the
 * disk-key check.  It is on the measured command line (PCR 8): a host
 * booted with another CA, or none, fails attestation.  One byte more than
 * the key's hex, so that a longer (truncated) value is refused.
 */
static char __initdata opt_owner_ca[2 * SC_XEN_KEY_LEN + 2];
string_param("sccrypt-owner-ca", opt_owner_ca);
/* sccrypt-arena=<size>: bytes for the history buffers of all domains. */
static unsigned long __initdata opt_arena = SCCRYPT_ARENA_DEFAULT;
size_param("sccrypt-arena", opt_arena);
/*
 * sccrypt-unsafe-no-iommu=<bool>: enable SCCrypt although dom0's DMA is not
 * confined by an IOMMU in strict mode (default off: SCCrypt stays disabled).
 * A device dom0 programs could then read the hv key; only for labs without
 * an IOMMU (QEMU TCG), see docs/xen.md.
 */
static bool __initdata opt_unsafe_no_iommu;
boolean_param("sccrypt-unsafe-no-iommu", opt_unsafe_no_iommu);

struct sccrypt_dom {
	struct domain	*d;		/* reference held while attached */
	domid_t		 domid;
	evtchn_port_t	 gport;		/* the guest's console port */
	evtchn_port_t	 xport;		/* our Xen-consumed end, in d */
	domid_t		 gremote;	/* gport's remote before attach */
	struct page_info *page;
	void		*va;
};

/* This file's attach table (doms[]); attach and detach. */
static DEFINE_SPINLOCK(sccrypt_lock);
/* The core's locks (sc_xen_core.h): TABLE, SHARED, one per domain slot. */
static spinlock_t sccrypt_core_locks[SC_XEN_LOCK_COUNT(SCCRYPT_MAX_DOMAINS)];
static struct sc_xen_core *core;
static uint8_t *arena;
static size_t arena_len;
static struct sccrypt_dom doms[SCCRYPT_MAX_DOMAINS];
/* Slots (of doms[]) whose guest signalled while the lock was busy. */
static unsigned long sccrypt_pending[BITS_TO_LONGS(SCCRYPT_MAX_DOMAINS)];
static void cf_check sccrypt_deferred(void *unused);
static DECLARE_TASKLET(sccrypt_tasklet, sccrypt_deferred, NULL);

/* ---- locks and callbacks from the core ------------------------------------ */

void sc_xen_lock(unsigned int lk)
{
	spin_lock(&sccrypt_core_locks[lk]);
}

bool sc_xen_trylock(unsigned int lk)
{
	return spin_trylock(&sccrypt_core_locks[lk]);
}

void sc_xen_unlock(unsigned int lk)
{
	spin_unlock(&sccrypt_core_locks[lk]);
}

/* sccrypt_lock held. */
static struct sccrypt_dom *dom_find(domid_t domid)
{
	unsigned int i;

	for ( i = 0; i < ARRAY_SIZE(doms); i++ )
		if ( doms[i].d != NULL && doms[i].domid == domid )
			return &doms[i];
	return NULL;
}

/*
 * The core holds domid's lock, so domid is attached and stays so until
 * the lock is dropped (detach waits for it before doms[] changes): its
 * slot is stable.  Other slots may be changing under sccrypt_lock, which
 * must not be taken here (it comes before the core's locks): read them
 * once each.
 */
void sc_xen_notify_guest(uint32_t domid)
{
	unsigned int i;

	for ( i = 0; i < ARRAY_SIZE(doms); i++ )
		if ( ACCESS_ONCE(doms[i].d) != NULL &&
		     ACCESS_ONCE(doms[i].domid) == domid )
		{
			notify_via_xen_event_channel(doms[i].d, doms[i].xport);
			return;
		}
}

void sc_xen_raise_virq(void)
{
	send_global_virq(VIRQ_SCCRYPT);
}

void sc_xen_warn_unchecked_disk_key(uint32_t domid)
{
	printk(XENLOG_WARNING "sccrypt: d%u protected WITHOUT the disk-key check "
	       "(sccrypt-disk-check=0)\n", domid);
}

void sc_xen_fatal(const char *why)
{
	panic("sccrypt: %s\n", why);
}

/* ---- mapping checks (called from mm.c, grant_table.c, p2m.c) ----------- */

/*
 * O(1) on every grant map and copy, foreign mapping and MMUEXT op: one bit
 * of the frame's page_info (it was a scan of a 64-entry table).  The bit is
 * set and cleared only while SCCrypt holds a reference to the page, so the
 * page is not freed (and reused) with it set.
 */
bool sccrypt_mfn_protected(mfn_t mfn)
{
	return mfn_valid(mfn) &&
	       test_bit(_PGC_sccrypt, &mfn_to_page(mfn)->count_info);
}

/*
 * Protect a page: false if it already was (another attach of it is under
 * way or done).  Ends with a full barrier: what the caller reads next (the
 * grant pins) is read after every CPU can see the protection.
 */
static bool prot_set(struct page_info *page)
{
	bool was = test_and_set_bit(_PGC_sccrypt, &page->count_info);

	smp_mb();
	return !was;
}

static void prot_clear(struct page_info *page)
{
	clear_bit(_PGC_sccrypt, &page->count_info);
	smp_mb();
}

/* ---- the guest's console event channel ----------------------------------- */

/* Move the guest's console ring: 0, or SC_ERR_AGAIN if try found a lock busy. */
static int guest_event(domid_t domid, bool try)
{
	int rc = sc_xen_core_guest_event(core, domid, try);

	if ( rc < 0 && rc != SC_ERR_AGAIN && rc != SC_ERR_NOTFOUND )
		printk(XENLOG_G_WARNING "sccrypt: d%u console ring: error %d\n",
		       domid, rc);
	return rc;
}

/*
 * The guest signalled its console port (EVTCHNOP_send, no event-channel
 * lock held).  Never spin here: a guest must not be able to keep its vCPU
 * in Xen waiting for another CPU's op on its domain, and a guest that
 * signals in a loop must not make other CPUs queue behind it.  The core
 * only trylocks (the table, the domain); if either is busy the slot is
 * marked and the tasklet moves the ring as soon as it is free; the
 * holder's own work is bounded (sc_hv_guest_event), so nothing is lost.
 * Another domain's lock is never involved.
 */
static void cf_check sccrypt_guest_notification(struct vcpu *v, unsigned int port)
{
	struct domain *d = v->domain;
	unsigned int i;

	if ( ACCESS_ONCE(core) == NULL ||
	     guest_event(d->domain_id, true) != SC_ERR_AGAIN )
		return;
	/* Unlocked lookup: a stale mark only costs the tasklet a pump. */
	for ( i = 0; i < ARRAY_SIZE(doms); i++ )
		if ( ACCESS_ONCE(doms[i].d) == d )
			set_bit(i, sccrypt_pending);
	tasklet_schedule(&sccrypt_tasklet);
}

/*
 * The tasklet: the guests whose notification found a lock busy.  It waits
 * for each domain's lock in turn, holding none of this file's.
 */
static void cf_check sccrypt_deferred(void *unused)
{
	unsigned int i;
	domid_t domid;
	bool found;

	for ( i = 0; i < ARRAY_SIZE(doms); i++ )
	{
		if ( !test_and_clear_bit(i, sccrypt_pending) )
			continue;
		spin_lock(&sccrypt_lock);
		found = core != NULL && doms[i].d != NULL;
		domid = doms[i].domid;
		spin_unlock(&sccrypt_lock);
		/* Detached meanwhile: the core answers SC_ERR_NOTFOUND. */
		if ( found )
			(void)guest_event(domid, false);
	}
}

/* ---- attach / detach --------------------------------------------------- */

/*
 * Let go of an attached domain, in this order: the core (which refuses a
 * protected domain that is not dying, and scrubs the console page), then
 * the protection of the page, the event channel (back to unbound for dom0
 * unless the domain is dying) and the page references.
 */
static long detach_locked(struct sccrypt_dom *sd, bool dying)
{
	int rc;

	rc = sc_xen_core_detach(core, sd->domid, dying);
	if ( rc == SC_ERR_PROTECTED )
		return -EPERM;
	/* SC_ERR_NOTFOUND: a failed attach, the core never had it. */
#ifdef CONFIG_HVM
	sccrypt_hvm_unpin(sd->d);
#endif
	prot_clear(sd->page);
	if ( !sd->d->is_dying )
		evtchn_unbind_xen_loopback(sd->d, sd->xport, sd->gport,
		                           sd->gremote);
	destroy_ring_for_helper(&sd->va, sd->page);
	put_domain(sd->d);
	memset(sd, 0, sizeof(*sd));
	return 0;
}

static int errno_of(int sc)
{
	switch ( sc )
	{
	case 0:			return 0;
	case SC_ERR_ALLOC:	return -ENOMEM;
	case SC_ERR_BUSY:	return -EBUSY;
	case SC_ERR_NOTFOUND:	return -ENOENT;
	case SC_ERR_PROTECTED:	return -EPERM;
	default:		return -EINVAL;
	}
}

static long sccrypt_attach(const struct xen_sccrypt_attach *a)
{
	struct domain *d;
	struct sccrypt_dom *sd = NULL;
	struct page_info *page;
	void *va;
	evtchn_port_t xport;
	domid_t gremote;
	char name[sizeof(a->name) + 1];
	unsigned int i;
	long rc;

	if ( a->flags != 0 || a->pad0 != 0 )
		return -EINVAL;
	memcpy(name, a->name, sizeof(a->name));
	name[sizeof(a->name)] = '\0';

	d = rcu_lock_domain_by_id(a->domid);
	if ( d == NULL )
		return -ESRCH;
	if ( d == current->domain || is_control_domain(d) || d->is_dying )
	{
		rc = -EPERM;
		goto out;
	}
	rc = xsm_sccrypt_op(XSM_PRIV, d, SCCRYPT_OP_ATTACH);
	if ( rc )
		goto out;
	/*
	 * The UUID the toolstack read from xenstore must be the one the domain
	 * was created with: the binding (PROTECT) is to a UUID, and a domid
	 * that was reused since the toolstack looked must not get it.
	 */
	if ( memcmp(a->uuid, d->handle, sizeof(d->handle)) != 0 )
	{
		gprintk(XENLOG_WARNING, "sccrypt: attach of d%d: UUID is not the "
		        "domain's\n", d->domain_id);
		rc = -ESRCH;
		goto out;
	}
	/*
	 * PV: a frame.  PVH/HVM: a gfn its p2m translates, which must be the
	 * guest's console gfn, RAM, and is pinned below (issue 16).
	 */
	if ( !is_pv_domain(d) )
	{
#ifdef CONFIG_HVM
		rc = sccrypt_hvm_console_check(d, a);
#else
		rc = -EOPNOTSUPP;
#endif
		if ( rc )
			goto out;
	}
	rc = prepare_ring_for_helper(d, a->gfn, &page, &va);
	if ( rc )
		goto out;
#ifdef CONFIG_HVM
	if ( !is_pv_domain(d) && !sccrypt_hvm_gfn_is_ram(d, a->gfn, page) )
	{
		rc = -EPERM;
		goto fail_page;
	}
#endif
	/*
	 * Ordinary RAM of the domain only: not a Xen heap page it shares
	 * (shared_info, grant table frames) nor another special page, whose
	 * other users Xen would scrub or write behind the core's back.
	 */
	if ( page_get_owner(page) != d || is_special_page(page) )
	{
		gprintk(XENLOG_WARNING, "sccrypt: attach of d%d: %#"PRIx64" is not "
		        "ordinary RAM of the domain\n", d->domain_id, a->gfn);
		rc = -EPERM;
		goto fail_page;
	}
	/*
	 * Protect first, then look for grant pins (prot_set() ends with a full
	 * barrier).  A map or copy that read the flag before the page was
	 * protected has pinned the active entry under its lock by the time
	 * the scan takes that lock, and one after it sees the protection; the
	 * other order left a window where a map slipped in between the check
	 * and the protection and kept the page.  An existing grant mapping
	 * (xenconsoled's of GNTTAB_RESERVED_CONSOLE, or of any other entry)
	 * would survive protection: refuse; the console must not be connected.
	 * A page already protected is being (or is) attached: -EEXIST, and
	 * only its attach clears the flag.  The scan (all of d's grant
	 * entries, at most max_grant_frames pages of them) runs outside
	 * sccrypt_lock: it delays only this caller, never another guest.
	 */
	if ( !prot_set(page) )
	{
		rc = -EEXIST;
		goto fail_page;
	}
	if ( gnttab_mfn_pinned(d, page_to_mfn(page)) )
	{
		rc = -EBUSY;
		goto fail_prot;
	}
#ifdef CONFIG_HVM
	if ( !is_pv_domain(d) && (rc = sccrypt_hvm_pin(d, a->gfn, page)) != 0 )
		goto fail_prot;
#endif

	spin_lock(&sccrypt_lock);
	/* domain_kill() sets is_dying before it takes the lock to detach. */
	if ( d->is_dying )
	{
		rc = -EPERM;
		goto fail_locked;
	}
	if ( dom_find(d->domain_id) != NULL )
	{
		rc = -EEXIST;
		goto fail_locked;
	}
	for ( i = 0; i < ARRAY_SIZE(doms); i++ )
		if ( doms[i].d == NULL )
		{
			sd = &doms[i];
			break;
		}
	if ( sd == NULL )
	{
		rc = -ENOSPC;
		goto fail_locked;
	}
	rc = evtchn_bind_xen_loopback(d, a->port, sccrypt_guest_notification,
	                              &xport, &gremote);
	if ( rc )
		goto fail_locked;
	get_knownalive_domain(d);
	sd->d = d;
	sd->domid = d->domain_id;
	sd->gport = a->port;
	sd->xport = xport;
	sd->gremote = gremote;
	sd->page = page;
	sd->va = va;
	rc = errno_of(sc_xen_core_attach(core, d->domain_id, a->uuid, name, va,
	                                 a->history));
	if ( rc )
	{
		(void)detach_locked(sd, false);
		spin_unlock(&sccrypt_lock);
		goto out;
	}
	/* Whatever the guest wrote before: move it now. */
	(void)guest_event(d->domain_id, false);
	spin_unlock(&sccrypt_lock);
	printk(XENLOG_INFO "sccrypt: d%d attached (%s, console %s %#"PRIx64
	       ", port %u)\n", d->domain_id,
	       is_pv_domain(d) ? "PV" : has_vpic(d) ? "HVM" : "PVH",
	       is_pv_domain(d) ? "frame" : "gfn, pinned", a->gfn, a->port);
	rcu_unlock_domain(d);
	return 0;

 fail_locked:
	spin_unlock(&sccrypt_lock);
#ifdef CONFIG_HVM
	if ( !is_pv_domain(d) )
		sccrypt_hvm_unpin(d);
#endif
 fail_prot:
	prot_clear(page);
 fail_page:
	destroy_ring_for_helper(&va, page);
 out:
	rcu_unlock_domain(d);
	return rc;
}

static long sccrypt_detach(domid_t domid)
{
	struct sccrypt_dom *sd;
	struct domain *d;
	long rc;

	d = rcu_lock_domain_by_id(domid);
	rc = xsm_sccrypt_op(XSM_PRIV, d, SCCRYPT_OP_DETACH);
	if ( rc )
		goto out;
	/*
	 * The privilege to detach is not enough for a protected domain: that
	 * would hand its console, logged-in shell and all, back to dom0 in
	 * clear.  The core refuses (-EPERM) unless the domain is dying; its
	 * console is let go by domain_kill() (sccrypt_domain_kill()).
	 */
	spin_lock(&sccrypt_lock);
	sd = dom_find(domid);
	if ( sd == NULL )
		rc = -ENOENT;
	else
		rc = detach_locked(sd, sd->d->is_dying);
	spin_unlock(&sccrypt_lock);
	if ( rc == -EPERM )
		printk(XENLOG_WARNING "sccrypt: d%u is protected: detach refused\n",
		       domid);
 out:
	if ( d != NULL )
		rcu_unlock_domain(d);
	return rc;
}

/* Called by domain_kill(): nothing of ours may keep the domain alive. */
void sccrypt_domain_kill(struct domain *d)
{
	struct sccrypt_dom *sd;

	spin_lock(&sccrypt_lock);
	if ( core != NULL && (sd = dom_find(d->domain_id)) != NULL && sd->d == d )
		(void)detach_locked(sd, true);
	spin_unlock(&sccrypt_lock);
}

/* ---- what must not reach the hv key (issue 14 item 4) ------------------- */

/*
 * SCCrypt holds secrets: the paths that let dom0 read or replace Xen's
 * memory (kexec, livepatch, debug keys, gdbsx: patch 0020) ask this and
 * refuse while it is true.
 */
bool sccrypt_active(void)
{
	return ACCESS_ONCE(core) != NULL;
}

/*
 * Crash and restart paths (patch 0020): the memory may be read by what
 * runs next (a crash kernel, firmware, the next boot).  Wipe the core (the
 * hv private key, session keys) and the history arena (console plaintext).
 * Takes no lock: it may run in a panic on a CPU that interrupted the
 * holder; the other CPUs are stopped or about to be.
 */
void sccrypt_wipe(void)
{
	struct sc_xen_core *c = ACCESS_ONCE(core);

	if ( c != NULL )
		sc_xen_core_wipe(c, SCCRYPT_MAX_DOMAINS);
	if ( arena != NULL )
		memset(arena, 0, arena_len);
	smp_mb();
}

/*
 * dom0 must not be able to DMA into Xen's memory: with a PV dom0 that
 * needs the IOMMU in strict mode (iommu=1 dom0-iommu=strict; otherwise all
 * RAM is mapped for dom0's devices).  Without it SCCrypt stays disabled
 * (fail closed) unless sccrypt-unsafe-no-iommu=1 says otherwise, loudly.
 */
static bool __init sccrypt_dma_confined(void)
{
	if ( iommu_enabled && iommu_hwdom_strict && !iommu_hwdom_passthrough )
		return true;
	if ( opt_unsafe_no_iommu )
	{
		printk(XENLOG_WARNING "sccrypt: UNSAFE: dom0's DMA is not confined "
		       "(no IOMMU in strict mode); enabled anyway "
		       "(sccrypt-unsafe-no-iommu=1)\n");
		return true;
	}
	printk(XENLOG_ERR "sccrypt: dom0's DMA is not confined by an IOMMU in "
	       "strict mode (iommu=1 dom0-iommu=strict); SCCrypt disabled\n");
	return false;
}

/* ---- the hypercall -------------------------------------------------------- */

static uint32_t le32_at(const char *p)
{
	return (uint8_t)p[0] | (uint8_t)p[1] << 8 | (uint8_t)p[2] << 16 |
	       (uint32_t)(uint8_t)p[3] << 24;
}

/*
 * Per-target access control of SCCRYPT_OP_CALL (issue 14 item 9): a
 * request naming a domain (header bytes 12..15) needs the permission over
 * that domain (FLASK: domain2 sccrypt_call), so a policy can confine a
 * console-helper domain to some guests.  A domid that names no domain
 * (none, or one already gone) is left to the core: every domain it knows
 * is attached and so still exists (attach holds a reference until
 * domain_kill detaches it), and it answers SC_ERR_NOTFOUND.
 */
static long call_target_check(const char *hdr)
{
	uint32_t domid = le32_at(hdr + 12);
	struct domain *d;
	long rc;

	if ( domid == 0 || domid >= DOMID_FIRST_RESERVED )
		return 0;
	d = rcu_lock_domain_by_id(domid);
	if ( d == NULL )
		return 0;
	rc = xsm_sccrypt_op(XSM_PRIV, d, SCCRYPT_OP_CALL);
	rcu_unlock_domain(d);
	return rc;
}

/*
 * One ops request.  No lock is held while the guest's buffer is read or
 * written (a caller that faults or is slow holds up nobody): the request
 * is copied into this call's own buffer, the core runs the request under
 * the lock of the domain it names (one request, so one bounded operation),
 * and the response is copied out after.  OPEN and PROTECT take that lock
 * twice: for their checks (begin) and for their effect (commit); their
 * public-key crypto (a Noise handshake, a blob and an ownership token) runs
 * between the two without it, on this call's own state.  Calls on other
 * domains, and their guests' events, are not held up at all (issue 14
 * item 6).
 */
static long sccrypt_call(XEN_GUEST_HANDLE_PARAM(char) buf, unsigned long size)
{
	size_t len, resp_len = 0;
	char *req = NULL, *resp = NULL;
	struct sc_xen_call *call = NULL;
	char hdr[32];
	long rc;

	if ( size < 32 )
		return -EINVAL;
	if ( size > SC_XEN_OP_MAX )
		size = SC_XEN_OP_MAX;
	if ( copy_from_guest(hdr, buf, 32) )
		return -EFAULT;
	rc = call_target_check(hdr);
	if ( rc )
		return rc;
	/* The request is its header plus `len` (bytes 24..27, LE) bytes. */
	len = 32 + min_t(size_t, le32_at(hdr + 24), size - 32);
	req = xmalloc_bytes(len);
	resp = xmalloc_bytes(size);
	call = xmalloc_bytes(sc_xen_core_call_size());
	if ( req == NULL || resp == NULL || call == NULL )
	{
		rc = -ENOMEM;
		goto out;
	}
	memcpy(req, hdr, 32);
	/* The same header: the target checked above is the one the core sees. */
	if ( len > 32 && copy_from_guest_offset(req + 32, buf, 32, len - 32) )
	{
		rc = -EFAULT;
		goto out;
	}
	/* The core takes the table's, the domain's and SHARED as it needs. */
	rc = sc_xen_core_call_begin(core, call, (const uint8_t *)req, len,
	                            (uint8_t *)resp, size, &resp_len);
	if ( rc == SC_XEN_CALL_CRYPTO )
	{
		/* No lock: this call's state, the hv key (read-only). */
		sc_xen_core_call_crypto(core, call);
		rc = sc_xen_core_call_commit(core, call, &resp_len);
	}
	if ( rc || resp_len > size )
		rc = -EINVAL;
	else if ( copy_to_guest(buf, resp, resp_len) )
		rc = -EFAULT;
 out:
	/* The request may carry ciphertext only, but leave nothing behind. */
	if ( req != NULL )
		memset(req, 0, len);
	if ( resp != NULL )
		memset(resp, 0, resp_len);
	/* Wiped by the core on its every path; again for the -ENOMEM one. */
	if ( call != NULL )
		memset(call, 0, sc_xen_core_call_size());
	xfree(req);
	xfree(resp);
	xfree(call);
	memset(hdr, 0, sizeof(hdr));
	return rc;
}

long do_sccrypt_op(unsigned int cmd, XEN_GUEST_HANDLE_PARAM(void) arg,
                   unsigned long size)
{
	XEN_GUEST_HANDLE_PARAM(char) buf = guest_handle_cast(arg, char);
	long rc;

	if ( core == NULL )
		return -ENOSYS;

	switch ( cmd )
	{
	case SCCRYPT_OP_CALL:
		rc = xsm_sccrypt_op(XSM_PRIV, NULL, cmd);
		if ( rc )
			return rc;
		return sccrypt_call(buf, size);

	case SCCRYPT_OP_ATTACH:
	{
		struct xen_sccrypt_attach a;

		if ( size != sizeof(a) )
			return -EINVAL;
		/* Checked once more against the target domain in attach. */
		rc = xsm_sccrypt_op(XSM_PRIV, NULL, cmd);
		if ( rc )
			return rc;
		if ( copy_from_guest((char *)&a, buf, sizeof(a)) )
			return -EFAULT;
		return sccrypt_attach(&a);
	}

	case SCCRYPT_OP_DETACH:
	{
		struct xen_sccrypt_detach dt;

		if ( size != sizeof(dt) )
			return -EINVAL;
		rc = xsm_sccrypt_op(XSM_PRIV, NULL, cmd);
		if ( rc )
			return rc;
		if ( copy_from_guest((char *)&dt, buf, sizeof(dt)) )
			return -EFAULT;
		if ( dt.pad0 != 0 )
			return -EINVAL;
		return sccrypt_detach(dt.domid);
	}

	default:
		return -EOPNOTSUPP;
	}
}

/* ---- boot ----------------------------------------------------------------- */

/*
 * opt_owner_ca -> ca[]: 1 if a CA is configured, 0 if none, -EINVAL if the
 * value is not exactly 64 hex digits.
 */
static int __init sccrypt_owner_ca_parse(uint8_t ca[SC_XEN_KEY_LEN])
{
	unsigned int i, j, v[2];
	char ch;

	if ( opt_owner_ca[0] == '\0' )
		return 0;
	if ( strlen(opt_owner_ca) != 2 * SC_XEN_KEY_LEN )
		return -EINVAL;
	for ( i = 0; i < SC_XEN_KEY_LEN; i++ )
	{
		for ( j = 0; j < 2; j++ )
		{
			ch = opt_owner_ca[2 * i + j];
			if ( ch >= '0' && ch <= '9' )
				v[j] = ch - '0';
			else if ( ch >= 'a' && ch <= 'f' )
				v[j] = ch - 'a' + 10;
			else if ( ch >= 'A' && ch <= 'F' )
				v[j] = ch - 'A' + 10;
			else
				return -EINVAL;
		}
		ca[i] = (uint8_t)(v[0] << 4 | v[1]);
	}
	return 1;
}

static int __init cf_check sccrypt_init(void)
{
	struct {
		uint64_t tsc[4];
		s_time_t now;
		unsigned int rnd;
	} extra;
	const uint8_t *pk;
	uint8_t pcrval[SCCRYPT_TPM_DIGEST_LEN];
	uint8_t owner_ca[SC_XEN_KEY_LEN];
	uint32_t tpm_rc;
	unsigned int i;
	int rc, have_ca;

	if ( !opt_sccrypt )
	{
		printk(XENLOG_INFO "sccrypt: disabled on the command line\n");
		return 0;
	}
	if ( !sccrypt_dma_confined() )
		return 0;
	if ( (have_ca = sccrypt_owner_ca_parse(owner_ca)) < 0 )
	{
		printk(XENLOG_ERR "sccrypt: sccrypt-owner-ca= is not 64 hex digits; "
		       "SCCrypt disabled\n");
		return 0;
	}
	sccrypt_rng_probe();
	/* Timing data is mixed in but never counted as entropy. */
	extra.tsc[0] = get_cycles();
	extra.now = NOW();
	extra.rnd = get_random();
	for ( i = 1; i < ARRAY_SIZE(extra.tsc); i++ )
		extra.tsc[i] = get_cycles();
	rc = sc_xen_core_seed(sccrypt_entropy, NULL, &extra, sizeof(extra));
	memset(&extra, 0, sizeof(extra));
	if ( rc )
	{
		printk(XENLOG_ERR "sccrypt: no usable hardware random number generator "
		       "(RDSEED/RDRAND); SCCrypt disabled\n");
		return 0;
	}

	for ( i = 0; i < ARRAY_SIZE(sccrypt_core_locks); i++ )
		spin_lock_init(&sccrypt_core_locks[i]);
	arena = vzalloc(opt_arena);
	core = vzalloc(sc_xen_core_size(SCCRYPT_MAX_DOMAINS));
	if ( !arena || !core )
		goto nomem;
	arena_len = opt_arena;
	rc = sc_xen_core_init(core, arena, opt_arena, opt_disk_check,
	                      SCCRYPT_MAX_DOMAINS);
	if ( rc )
	{
		printk(XENLOG_ERR "sccrypt: hv core initialisation failed (%d)\n", rc);
		goto fail;
	}
	if ( have_ca && (rc = sc_xen_core_set_owner_ca(core, owner_ca)) != 0 )
	{
		printk(XENLOG_ERR "sccrypt: owner CA not set (%d)\n", rc);
		goto fail;
	}
	pk = sc_xen_core_pubkey(core);
	printk(XENLOG_INFO "sccrypt: hv key generated (entropy: %s%s), public key ",
	       sccrypt_rng_rdseed_ok ? "RDSEED " : "", sccrypt_rng_rdrand_ok ? "RDRAND" : "");
	for ( i = 0; i < SC_XEN_KEY_LEN; i++ )
		printk("%02x", pk[i]);
	printk("\n");
	/*
	 * Measure the key before dom0 exists (initcalls run before dom0 is
	 * built): the key server certifies it only if the key PCR holds
	 * exactly this one extend (PROTOCOL.md §12.5 step 9).  Without a TPM
	 * SCCrypt still runs; clients must then pin the key out of band.
	 */
	rc = sccrypt_tpm_measure(SCCRYPT_KEY_PCR, pk, SC_XEN_KEY_LEN, pcrval,
	                         &tpm_rc);
	if ( !rc )
	{
		sc_xen_core_set_pcr(core, SCCRYPT_KEY_PCR);
		printk(XENLOG_INFO "sccrypt: PCR %u (sha256) is now ", SCCRYPT_KEY_PCR);
		for ( i = 0; i < sizeof(pcrval); i++ )
			printk("%02x", pcrval[i]);
		printk("\n");
	}
	else if ( rc == -ENODEV )
		printk(XENLOG_WARNING "sccrypt: no TPM 2.0 at the TIS window: the hv "
		       "key is not measured (GET_INFO reports no PCR)\n");
	else
		printk(XENLOG_ERR "sccrypt: measuring the hv key into PCR %u failed "
		       "(%d, TPM response code %#x): the key is not attested\n",
		       SCCRYPT_KEY_PCR, rc, tpm_rc);
	printk(XENLOG_INFO "sccrypt: %lu KiB history arena, %s\n", opt_arena >> 10,
	       have_ca ? "PROTECT requires an ownership token of the owner CA" :
	       opt_disk_check ? "disk-key check required" :
	       "disk-key check OFF (lab setting)");
	if ( have_ca )
	{
		printk(XENLOG_INFO "sccrypt: owner CA ");
		for ( i = 0; i < SC_XEN_KEY_LEN; i++ )
			printk("%02x", owner_ca[i]);
		printk("\n");
	}
	return 0;

 nomem:
	printk(XENLOG_ERR "sccrypt: out of memory\n");
 fail:
	vfree(arena);
	vfree(core);
	arena = NULL;
	core = NULL;
	return 0;
}
__initcall(sccrypt_init);
