/*
 * sc_xen_core.h — the seam between the Xen glue (sccrypt.c, built with
 * Xen's headers) and the SCCrypt core (sc_xen_core.c, built like hv/core
 * with only core headers).  Neither side sees the other's headers: this
 * file uses nothing but uint8_t, uint32_t, size_t and bool, which the
 * includer already has (Xen's <xen/types.h> or core/compat.h).
 *
 * Locking: the core locks for itself (hv.h, "Locking") through the Xen
 * side's sc_xen_lock/trylock/unlock, SC_XEN_LOCK_COUNT(max_domains)
 * spinlocks: TABLE (the domain table), one per domain slot, and SHARED (a
 * leaf: session pool, RNG, the event queue).  Every sc_xen_core_* call may
 * be made from any CPU without a lock held, except sc_xen_core_init,
 * _set_owner_ca and _set_pcr (boot, before any other call) and
 * sc_xen_core_wipe (no lock at all: crash paths).  The Xen side may hold
 * its own lock (of its attach table) around a call, never take it inside
 * a callback.  Callbacks: sc_xen_notify_guest with the domain's lock held,
 * sc_xen_raise_virq with SHARED held.
 */
#ifndef SC_XEN_CORE_H
#define SC_XEN_CORE_H

/* Event queue towards dom0 (coalesced per domain and session). */
#define SC_XEN_EVQ_SIZE		512
/* Largest request / response (core/ops.h SC_OP_MAX). */
#define SC_XEN_OP_MAX		(32 + 32768)
#define SC_XEN_UUID_LEN		16
#define SC_XEN_NAME_MAX		63
#define SC_XEN_KEY_LEN		32
/* The core's locks (hv.h SC_HV_LOCK_*). */
#define SC_XEN_LOCK_TABLE	0u
#define SC_XEN_LOCK_SHARED	1u
#define SC_XEN_LOCK_COUNT(max_domains)	(2u + (unsigned)(max_domains))

struct sc_xen_core;

/*
 * Seed the provider's random generator (hv/xen/crypto) from fn, an
 * entropy source returning how many bytes of hardware entropy it wrote,
 * plus extra[0..extra_len) (mixed in, not counted).  Fails (negative
 * SC_ERR_*) if fn delivered too little: then there is no hv key.
 */
int	sc_xen_core_seed(size_t (*fn)(void *arg, uint8_t *buf, size_t len),
	    void *arg, const void *extra, size_t extra_len);

/*
 * Bytes to allocate for a struct sc_xen_core that holds max_domains
 * attached domains (it holds secrets), or 0 if max_domains is 0 or too
 * large.
 */
size_t	sc_xen_core_size(unsigned max_domains);

/*
 * Generate the hv static key with the provider's generator (which must be
 * seeded: sc_ref_rng_init) and initialise the hv core, of
 * sc_xen_core_size(max_domains) bytes, with arena[0..len) for the history
 * buffers.  disk_check: true = PROTECT requires the
 * disk-key check, which the hypervisor cannot make (it has no access to
 * the domain's disk), so every PROTECT fails with SC_ERR_UNSUPPORTED;
 * false = the check is skipped (lab setting, see docs/xen.md).
 * Returns 0 or a negative SC_ERR_* code.
 */
int	sc_xen_core_init(struct sc_xen_core *c, uint8_t *arena, size_t arena_len,
	    bool disk_check, unsigned max_domains);
const uint8_t *sc_xen_core_pubkey(const struct sc_xen_core *c);
/*
 * The PCR the hv key was measured into, for GET_INFO's pcr_index (boot
 * time, before any op; SC_HV_NO_PCR, the default, if none).
 */
void	sc_xen_core_set_pcr(struct sc_xen_core *c, uint32_t pcr_index);
/*
 * Require an ownership token of owner CA ca (Ed25519 public key, from
 * Xen's measured command line: sccrypt-owner-ca=) in every PROTECT
 * (sc_hv_set_owner_ca; docs/xen.md §4 item 6).  The token takes the place
 * of the disk-key check, which the hypervisor cannot make: with a CA,
 * disk_check no longer refuses.  Boot time, before any op; once.
 */
int	sc_xen_core_set_owner_ca(struct sc_xen_core *c, const uint8_t ca[SC_XEN_KEY_LEN]);

/*
 * One ops request req[0..len) -> response resp[0..cap), *resp_len bytes.
 * SC_OP_EVENT requests are answered here from the event queue (one event
 * per call, status SC_ERR_AGAIN when it is empty); every other op goes to
 * sc_hv_dispatch.  Returns 0 when a response was written.
 */
int	sc_xen_core_call(struct sc_xen_core *c, const uint8_t *req, size_t len,
	    uint8_t *resp, size_t cap, size_t *resp_len);

/*
 * The same in three phases, so that OPEN's and PROTECT's X25519 and
 * Ed25519 run without the lock (sc_hv_call_begin and the rest, hv.h):
 *
 *	lock;   r = sc_xen_core_call_begin(c, call, req, len, resp, cap, &n);  unlock;
 *	if (r == SC_XEN_CALL_CRYPTO) {
 *		sc_xen_core_call_crypto(c, call);		no lock
 *		lock;   r = sc_xen_core_call_commit(c, call, &n);  unlock;
 *	}
 *
 * call: sc_xen_core_call_size() bytes of the caller's (it holds secrets
 * between the phases; wiped by commit, and by begin when it answers at
 * once; sc_xen_core_call_wipe() abandons one).  req and resp stay in place
 * until commit.  Every op but OPEN and PROTECT is answered by begin.
 * Several CPUs may be in sc_xen_core_call_crypto() at once, each with its
 * own call: it writes only call and reads what never changes once ops run
 * (the hv key pair, the owner CA).
 */
#define SC_XEN_CALL_CRYPTO	1
struct sc_xen_call;
size_t	sc_xen_core_call_size(void);
int	sc_xen_core_call_begin(struct sc_xen_core *c, struct sc_xen_call *call,
	    const uint8_t *req, size_t len, uint8_t *resp, size_t cap,
	    size_t *resp_len);
void	sc_xen_core_call_crypto(const struct sc_xen_core *c, struct sc_xen_call *call);
int	sc_xen_core_call_commit(struct sc_xen_core *c, struct sc_xen_call *call,
	    size_t *resp_len);
void	sc_xen_core_call_wipe(const struct sc_xen_core *c, struct sc_xen_call *call);

/* Add a domain whose console page is mapped at ring. */
int	sc_xen_core_attach(struct sc_xen_core *c, uint32_t domid,
	    const uint8_t uuid[SC_XEN_UUID_LEN], const char *name, void *ring,
	    size_t history);
/*
 * Remove a domain.  A protected domain never becomes unprotected
 * (PROTOCOL.md §8): unless it is dying (the toolstack destroys it), its
 * removal is refused with SC_ERR_PROTECTED and nothing changes.  Before a
 * domain is removed its console page is scrubbed, since the platform then
 * hands the page back (to the guest alone, or to a console daemon): the
 * `in` bytes the guest has consumed always (keystrokes), and, for a
 * protected domain, all of `in` and `out`, with the out ring marked
 * consumed.  SC_ERR_NOTFOUND if domid is not attached.
 */
int	sc_xen_core_detach(struct sc_xen_core *c, uint32_t domid, bool dying);
/*
 * The guest signalled its console event channel.  try: never wait for the
 * table's or the domain's lock (the guest's own EVTCHNOP_send): returns
 * SC_ERR_AGAIN (core/err.h) if one was busy, and the caller
 * retries later.
 */
int	sc_xen_core_guest_event(struct sc_xen_core *c, uint32_t domid, bool try);
/*
 * Wipe the whole core (hv private key, sessions) of max_domains slots, as
 * sized by sc_xen_core_size(); takes no lock (crash and restart paths).
 * The core is unusable afterwards.
 */
void	sc_xen_core_wipe(struct sc_xen_core *c, unsigned max_domains);
/* Events queued, not yet fetched (for tests and the debug key). */
unsigned sc_xen_core_pending_events(const struct sc_xen_core *c);

/* Supplied by the Xen side: lock lk of SC_XEN_LOCK_COUNT (not recursive). */
void	sc_xen_lock(unsigned lk);
bool	sc_xen_trylock(unsigned lk);
void	sc_xen_unlock(unsigned lk);
/* Supplied by the Xen side; called with a core lock held (above). */
void	sc_xen_notify_guest(uint32_t domid);
void	sc_xen_raise_virq(void);
void	sc_xen_warn_unchecked_disk_key(uint32_t domid);
/* An unrecoverable misuse inside the crypto provider: panic. */
void	sc_xen_fatal(const char *why) __attribute__((__noreturn__));

#endif /* SC_XEN_CORE_H */
