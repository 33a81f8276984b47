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
 * Locks: sccrypt_call_lock serialises hypercalls (it protects the request
 * and response buffers and is held across the guest copies); sccrypt_lock
 * protects the core and the domain table and is taken inside it, and alone
 * from the guest's event-channel notification.  Order: call lock, core
 * lock, then event-channel locks.  The protection table is read without a
 * lock by the mapping paths.
 */
#include <xen/init.h>
#include <xen/lib.h>
#include <xen/param.h>
#include <xen/sched.h>
#include <xen/spinlock.h>
#include <xen/event.h>
#include <xen/guest_access.h>
#include <xen/mm.h>
#include <xen/vmap.h>
#include <xen/time.h>
#include <xen/grant_table.h>
#include <xen/hypercall.h>
#include <xen/sccrypt.h>
#include <xsm/xsm.h>
#include <public/sccrypt.h>
#include <asm/page.h>

#include "sc_xen_core.h"
#include "sccrypt_tpm.h"

/* SCCrypt error codes the glue maps to errno values (core/err.h). */
#define SC_ERR_ALLOC		(-2)
#define SC_ERR_INVAL		(-3)
#define SC_ERR_NOTFOUND		(-19)
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
/* sccrypt-arena=<size>: bytes for the history buffers of all domains. */
static unsigned long __initdata opt_arena = SCCRYPT_ARENA_DEFAULT;
size_param("sccrypt-arena", opt_arena);

struct sccrypt_dom {
	struct domain	*d;		/* reference held while attached */
	domid_t		 domid;
	evtchn_port_t	 gport;		/* the guest's console port */
	evtchn_port_t	 xport;		/* our Xen-consumed end, in d */
	struct page_info *page;
	void		*va;
};

/* Lock-free view for the mapping checks (see sccrypt_*_protected). */
struct sccrypt_prot {
	unsigned long	 mfn;		/* INVALID_MFN_RAW when the slot is free */
};

static DEFINE_SPINLOCK(sccrypt_call_lock);
static DEFINE_SPINLOCK(sccrypt_lock);
static struct sc_xen_core *core;
static uint8_t *arena;
static struct sccrypt_dom doms[SCCRYPT_MAX_DOMAINS];
static struct sccrypt_prot prot[SCCRYPT_MAX_DOMAINS];
static unsigned int prot_count;
static char *reqbuf, *respbuf;		/* SC_XEN_OP_MAX each */

/* ---- entropy ------------------------------------------------------------ */

#ifdef CONFIG_X86
static bool rdrand_ok, rdseed_ok;

static bool rdrand64(uint64_t *v)
{
	unsigned int i;
	bool ok;

	for ( i = 0; i < 10; i++ )
	{
		asm volatile ( "rdrand %0" : "=r" (*v), "=@ccc" (ok) );
		if ( ok )
			return true;
	}
	return false;
}

static bool rdseed64(uint64_t *v)
{
	unsigned int i;
	bool ok;

	for ( i = 0; i < 100; i++ )
	{
		asm volatile ( "rdseed %0" : "=r" (*v), "=@ccc" (ok) );
		if ( ok )
			return true;
		cpu_relax();
	}
	return false;
}

/*
 * Startup health check: a generator that fails, or repeats a value, or
 * returns all-zero / all-one words (the known failure modes of broken
 * RDRAND implementations) is not used.
 */
static bool __init rng_healthy(bool (*fn)(uint64_t *))
{
	uint64_t v[8];
	unsigned int i, j;

	for ( i = 0; i < ARRAY_SIZE(v); i++ )
	{
		if ( !fn(&v[i]) || v[i] == 0 || v[i] == ~0ULL )
			return false;
		for ( j = 0; j < i; j++ )
			if ( v[j] == v[i] )
				return false;
	}
	memset(v, 0, sizeof(v));
	return true;
}

/*
 * The entropy source of the provider's generator (hv/xen/crypto): RDSEED
 * words (full entropy, NIST SP 800-90B/C conditioned) where present, then
 * RDRAND words (output of the CPU's DRBG, reseeded by its conditioner).
 * Returns the number of bytes that came from one of the two.
 */
static size_t cf_check sccrypt_entropy(void *arg, uint8_t *buf, size_t len)
{
	size_t n = 0;
	uint64_t v;

	while ( n + sizeof(v) <= len )
	{
		if ( !(rdseed_ok && rdseed64(&v)) && !(rdrand_ok && rdrand64(&v)) )
			break;
		memcpy(buf + n, &v, sizeof(v));
		n += sizeof(v);
	}
	v = 0;
	return n;
}
#else
#define rdrand_ok false
#define rdseed_ok false
static size_t cf_check sccrypt_entropy(void *arg, uint8_t *buf, size_t len)
{
	return 0;
}
#endif

/* ---- callbacks from the core (lock held) ------------------------------- */

static struct sccrypt_dom *dom_find(domid_t domid)
{
	unsigned int i;

	for ( i = 0; i < ARRAY_SIZE(doms); i++ )
		if ( doms[i].d != NULL && doms[i].domid == domid )
			return &doms[i];
	return NULL;
}

void sc_xen_notify_guest(uint32_t domid)
{
	struct sccrypt_dom *sd = dom_find(domid);

	if ( sd != NULL )
		notify_via_xen_event_channel(sd->d, sd->xport);
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

bool sccrypt_mfn_protected(mfn_t mfn)
{
	unsigned int i;

	if ( likely(!ACCESS_ONCE(prot_count)) )
		return false;
	for ( i = 0; i < ARRAY_SIZE(prot); i++ )
		if ( ACCESS_ONCE(prot[i].mfn) == mfn_x(mfn) )
			return true;
	return false;
}

static void prot_set(unsigned int i, mfn_t mfn)
{
	ACCESS_ONCE(prot[i].mfn) = mfn_x(mfn);
	ACCESS_ONCE(prot_count) = prot_count + 1;
	smp_mb();
}

static void prot_clear(unsigned int i)
{
	ACCESS_ONCE(prot[i].mfn) = INVALID_MFN_RAW;
	ACCESS_ONCE(prot_count) = prot_count - 1;
	smp_mb();
}

/* ---- the guest's console event channel ----------------------------------- */

static void cf_check sccrypt_guest_notification(struct vcpu *v, unsigned int port)
{
	struct domain *d = v->domain;
	int rc;

	spin_lock(&sccrypt_lock);
	if ( core != NULL && dom_find(d->domain_id) != NULL )
	{
		rc = sc_xen_core_guest_event(core, d->domain_id);
		if ( rc < 0 )
			gprintk(XENLOG_WARNING, "sccrypt: d%d console ring: error %d\n",
			        d->domain_id, rc);
	}
	spin_unlock(&sccrypt_lock);
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
	unsigned int i = sd - doms;
	int rc;

	rc = sc_xen_core_detach(core, sd->domid, dying);
	if ( rc == SC_ERR_PROTECTED )
		return -EPERM;
	/* SC_ERR_NOTFOUND: a failed attach, the core never had it. */
	prot_clear(i);
	if ( !sd->d->is_dying )
		evtchn_unbind_xen_loopback(sd->d, sd->xport, sd->gport,
		                           hardware_domain ? hardware_domain->domain_id : 0);
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
		rcu_unlock_domain(d);
		return -EPERM;
	}
	rc = xsm_sccrypt_op(XSM_PRIV, d, SCCRYPT_OP_ATTACH);
	if ( rc )
	{
		rcu_unlock_domain(d);
		return rc;
	}
	rc = prepare_ring_for_helper(d, a->gfn, &page, &va);
	if ( rc )
	{
		rcu_unlock_domain(d);
		return rc;
	}

	spin_lock(&sccrypt_lock);
	if ( dom_find(d->domain_id) != NULL )
	{
		rc = -EEXIST;
		goto fail;
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
		goto fail;
	}
	/*
	 * Protect first, then look for grant pins (prot_set() ends with a full
	 * barrier).  A map or copy that read the table before the page was
	 * protected has pinned the active entry under its lock by the time
	 * the scan takes that lock, and one after it sees the protection; the
	 * other order left a window where a map slipped in between the check
	 * and the protection and kept the page.  An existing grant mapping
	 * (xenconsoled's of GNTTAB_RESERVED_CONSOLE, or of any other entry)
	 * would survive protection: refuse; the console must not be connected.
	 */
	prot_set(i, page_to_mfn(page));
	if ( gnttab_mfn_pinned(d, page_to_mfn(page)) )
	{
		rc = -EBUSY;
		goto fail_prot;
	}
	rc = evtchn_bind_xen_loopback(d, a->port, sccrypt_guest_notification,
	                              &xport);
	if ( rc )
		goto fail_prot;
	get_knownalive_domain(d);
	sd->d = d;
	sd->domid = d->domain_id;
	sd->gport = a->port;
	sd->xport = xport;
	sd->page = page;
	sd->va = va;
	rc = errno_of(sc_xen_core_attach(core, d->domain_id, a->uuid, name, va,
	                                 a->history));
	if ( rc )
	{
		(void)detach_locked(sd, false);
		spin_unlock(&sccrypt_lock);
		rcu_unlock_domain(d);
		return rc;
	}
	/* Whatever the guest wrote before: move it now. */
	(void)sc_xen_core_guest_event(core, d->domain_id);
	spin_unlock(&sccrypt_lock);
	printk(XENLOG_INFO "sccrypt: d%d attached (console gfn %#"PRIx64
	       ", port %u)\n", d->domain_id, a->gfn, a->port);
	rcu_unlock_domain(d);
	return 0;

 fail_prot:
	prot_clear(sd - doms);
 fail:
	spin_unlock(&sccrypt_lock);
	destroy_ring_for_helper(&va, page);
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

/* ---- the hypercall -------------------------------------------------------- */

static long sccrypt_call(XEN_GUEST_HANDLE_PARAM(char) buf, unsigned long size)
{
	size_t len, resp_len = 0;
	uint32_t plen;
	long rc;

	if ( size < 32 )
		return -EINVAL;
	if ( size > SC_XEN_OP_MAX )
		size = SC_XEN_OP_MAX;
	spin_lock(&sccrypt_call_lock);
	if ( copy_from_guest(reqbuf, buf, 32) )
	{
		rc = -EFAULT;
		goto out;
	}
	/* The request is its header plus `len` (bytes 24..27, LE) bytes. */
	plen = (uint8_t)reqbuf[24] | (uint8_t)reqbuf[25] << 8 |
	       (uint8_t)reqbuf[26] << 16 | (uint32_t)(uint8_t)reqbuf[27] << 24;
	len = 32 + min_t(size_t, plen, size - 32);
	if ( len > 32 && copy_from_guest_offset(reqbuf + 32, buf, 32, len - 32) )
	{
		rc = -EFAULT;
		goto out;
	}
	spin_lock(&sccrypt_lock);
	rc = sc_xen_core_call(core, (const uint8_t *)reqbuf, len,
	                      (uint8_t *)respbuf, size, &resp_len);
	spin_unlock(&sccrypt_lock);
	if ( rc || resp_len > size )
		rc = -EINVAL;
	else if ( copy_to_guest(buf, respbuf, resp_len) )
		rc = -EFAULT;
	/* The request may carry ciphertext only, but leave nothing behind. */
	memset(reqbuf, 0, len);
	memset(respbuf, 0, resp_len);
 out:
	spin_unlock(&sccrypt_call_lock);
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

static int __init cf_check sccrypt_init(void)
{
	struct {
		uint64_t tsc[4];
		s_time_t now;
		unsigned int rnd;
	} extra;
	const uint8_t *pk;
	uint8_t pcrval[SCCRYPT_TPM_DIGEST_LEN];
	uint32_t tpm_rc;
	unsigned int i;
	int rc;

	for ( i = 0; i < ARRAY_SIZE(prot); i++ )
		prot[i].mfn = INVALID_MFN_RAW;
	if ( !opt_sccrypt )
	{
		printk(XENLOG_INFO "sccrypt: disabled on the command line\n");
		return 0;
	}
#ifdef CONFIG_X86
	rdseed_ok = cpu_has_rdseed && rng_healthy(rdseed64);
	rdrand_ok = cpu_has_rdrand && rng_healthy(rdrand64);
#endif
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

	reqbuf = xzalloc_bytes(SC_XEN_OP_MAX);
	respbuf = xzalloc_bytes(SC_XEN_OP_MAX);
	arena = vzalloc(opt_arena);
	core = vzalloc(sc_xen_core_size(SCCRYPT_MAX_DOMAINS));
	if ( !reqbuf || !respbuf || !arena || !core )
		goto nomem;
	rc = sc_xen_core_init(core, arena, opt_arena, opt_disk_check,
	                      SCCRYPT_MAX_DOMAINS);
	if ( rc )
	{
		printk(XENLOG_ERR "sccrypt: hv core initialisation failed (%d)\n", rc);
		goto fail;
	}
	pk = sc_xen_core_pubkey(core);
	printk(XENLOG_INFO "sccrypt: hv key generated (entropy: %s%s), public key ",
	       rdseed_ok ? "RDSEED " : "", rdrand_ok ? "RDRAND" : "");
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
	printk(XENLOG_INFO "sccrypt: %lu KiB history arena, disk-key check %s\n",
	       opt_arena >> 10, opt_disk_check ? "required" : "OFF (lab setting)");
	return 0;

 nomem:
	printk(XENLOG_ERR "sccrypt: out of memory\n");
 fail:
	xfree(reqbuf);
	xfree(respbuf);
	vfree(arena);
	vfree(core);
	reqbuf = respbuf = NULL;
	arena = NULL;
	core = NULL;
	return 0;
}
__initcall(sccrypt_init);
