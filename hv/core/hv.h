/*
 * hv.h — the hypervisor ring module: ops dispatcher, protected-domain state,
 * sessions (Noise IKpsk2 responder) and the per-domain history buffer.
 *
 * Freestanding (see compat.h): everything lives in one struct sc_hv of
 * sc_hv_size(max_domains, max_sessions) bytes that the platform allocates
 * (it holds secrets: user space puts it in sodium_malloc'd memory), plus one
 * caller-provided arena from which the per-domain history buffers are
 * carved.  No globals, no allocation; it blocks only in the platform's
 * lock callbacks.
 *
 * Locking.  Without lock callbacks (struct sc_hv_platform.lock == NULL) the
 * core is not thread-safe and the platform makes one call at a time (hvsim,
 * single-threaded).  With them, every entry point below may be called from
 * several CPUs at once and the core takes, through the callbacks:
 *   SC_HV_LOCK_TABLE   the domain table: which slot holds which domain
 *                      (add, remove, lookup), a slot's identity (domid,
 *                      UUID, name, history extent) and reference count;
 *                      held for a scan of the table, never across work on a
 *                      domain;
 *   SC_HV_LOCK_DOM(i)  everything else of the domain in slot i: its ring
 *                      pump, sessions, history, pending input, binding;
 *                      held for one op or one bounded pump of that domain;
 *   SC_HV_LOCK_SHARED  a leaf for the little that all domains share: the
 *                      session pool, session ids, the epoch counter, the
 *                      provider's random generator and notify_dom0 (the
 *                      platform's event queue); held for constant-time
 *                      bookkeeping only.
 * Order: TABLE, then a DOM, then SHARED; never the reverse, never two DOM
 * locks, and TABLE -> DOM only as a trylock (a caller that must wait for a
 * domain takes a reference under TABLE, drops TABLE, then waits on DOM).
 * Domain removal vs a call on it: a slot is never reused while referenced.
 * Removal waits for DOM (the op in flight ends), wipes the domain and marks
 * it dead under DOM, then unlists it under TABLE; a call that took its
 * reference before finds it dead and answers SC_ERR_NOTFOUND; the last
 * reference frees the slot.  After sc_hv_domain_remove returns no call
 * touches the domain's ring page again.  The crypto phase of an op in
 * phases (sc_hv_call_crypto, below) takes no lock.
 *
 * The platform supplies:
 *   - the guest's console page for each domain (sc_hv_domain_add),
 *   - sc_hv_guest_event() whenever the guest signals its event channel,
 *   - hooks: disk-key check, guest notification, dom0 notification.
 * The normative description of the ops is PROTOCOL.md §8.
 */
#ifndef SC_HV_HV_H
#define SC_HV_HV_H

#include "core/compat.h"
#include "core/crypto.h"
#include "core/noise.h"
#include "core/record.h"
#include "core/blob.h"
#include "core/owner.h"
#include "core/ops.h"
#include "core/handshake.h"
#include "core/wire.h"
#include "ring.h"

/*
 * Domains and sessions: the platform chooses how many domains the context
 * holds and how many sessions its session pool has (sc_hv_size).  A domain
 * slot costs sizeof(struct sc_hv_domain), about 14 KiB (8 KiB of it the
 * domain's own scratch buffers, so domains need no shared one); a pool entry
 * sizeof(struct sc_hv_session), about 8.5 KiB (reassembly buffer and
 * control queue).  Sessions come from the pool, shared by all domains, at
 * most SC_HV_MAX_SESSIONS per domain; the pool holds at least one session
 * per domain slot and always keeps one for every domain that has none, so
 * a domain's first session is never refused for want of pool entries.
 * SC_HV_DOMAINS_LIMIT is the most Xen can run (domids below
 * DOMID_FIRST_RESERVED).
 */
#define SC_HV_DOMAINS_DEFAULT	256
#define SC_HV_DOMAINS_LIMIT	32752
#define SC_HV_MAX_SESSIONS	4	/* per domain: one writer + viewers */
/* Pool entries beyond one per domain when the platform asks for the default. */
#define SC_HV_SESSIONS_SPARE	256
#define SC_HV_HISTORY_DEFAULT	65536	/* history buffer per domain */
#define SC_HV_HISTORY_MIN	SC_RING_OUT_SIZE
#define SC_HV_PUMP_MAX		SC_RING_OUT_SIZE	/* guest output moved per guest event or OUTPUT */
#define SC_HV_SEEN_MAX		32	/* remembered handshake ephemerals per domain */
#define SC_HV_CTRLQ_SIZE	4096	/* per-session queue of sealed control records */
/*
 * Room needed before a client record is processed: what one record can
 * queue (an OWNER_RESULT in the 1024-byte bucket, two notices, REKEYs).
 */
#define SC_HV_CTRL_RESERVE	1536
/* Kept free for the CLOSE record (and a REKEY due before it). */
#define SC_HV_CLOSE_RESERVE	(2 * (SC_OP_ITEM_HDR_LEN + SC_RECORD_CT_MIN))
#define SC_HV_ITEM_MAX		SC_OP_ITEM_MAX
#define SC_HV_PENDING_MAX	SC_RECORD_PAYLOAD_MAX
#define SC_HV_NO_PCR		0xffffffffu

/* Capabilities reported by GET_INFO (also in ops.h as SC_CAP_*). */
#define SC_HV_CAPS	(SC_CAP_HISTORY | SC_CAP_VIEWER | SC_CAP_SYSRQ | \
			 SC_CAP_OWNER_CMD | SC_CAP_RAW | SC_CAP_TAKEOVER)

/* Lock identifiers passed to the lock callbacks (see the top of this file). */
#define SC_HV_LOCK_TABLE	0u
#define SC_HV_LOCK_SHARED	1u
#define SC_HV_LOCK_DOM(slot)	(2u + (unsigned)(slot))
/* Locks a platform provides for a context of max_domains slots. */
#define SC_HV_LOCK_COUNT(max_domains)	(2u + (unsigned)(max_domains))

struct sc_hv_platform {
	void	*arg;
	/*
	 * Locks (optional: all three or none).  lock waits for the lock,
	 * trylock takes it only if it is free (true) and never waits, unlock
	 * releases it.  Not recursive.  The callbacks below may be made with
	 * a DOM lock held (notify_guest, check_disk_key, store_generation;
	 * they must not call into the core) or with SHARED held
	 * (notify_dom0).
	 */
	void	(*lock)(void *arg, unsigned lk);
	bool	(*trylock)(void *arg, unsigned lk);
	void	(*unlock)(void *arg, unsigned lk);
	/*
	 * 0 if key[0..len) opens the disk of domain domid (whose UUID is
	 * uuid), SC_ERR_DISKKEY if it does not, another negative code if the
	 * check could not be made.  Required.
	 */
	int	(*check_disk_key)(void *arg, uint32_t domid,
		    const uint8_t uuid[SC_UUID_LEN], const uint8_t *key, size_t len);
	/* Signal the guest's console event channel.  Optional. */
	void	(*notify_guest)(void *arg, uint32_t domid);
	/* Raise SC_EV_* bits towards dom0 (session 0 = domain-wide).  Optional. */
	void	(*notify_dom0)(void *arg, uint32_t domid, uint32_t session,
		    uint32_t events);
	/*
	 * Make the domain's new binding generation durable before it takes
	 * effect: 0 on success, a negative code to refuse the change (the
	 * PROTECT or owner command then fails and nothing changes).
	 * Optional: without it the generation lives in the context, for the
	 * domain's life (see sc_hv_domain_set_generation).
	 */
	int	(*store_generation)(void *arg, uint32_t domid,
		    const uint8_t uuid[SC_UUID_LEN], uint64_t generation);
};

enum sc_hv_sess_state {
	SC_HV_SESS_FREE = 0,
	SC_HV_SESS_OPEN,
	SC_HV_SESS_CLOSING,	/* only its queued output (ending in CLOSE) remains */
};

struct sc_hv_session {
	uint32_t	id;
	uint8_t		state;
	bool		viewer;
	bool		owner;
	bool		confirmed;	/* a valid record arrived: the peer has the psk */
	uint8_t		user_pk[SC_KEY_LEN];
	struct sc_record_layer rl;
	uint64_t	out_pos;	/* next live output byte to deliver */
	uint64_t	replay_pos;	/* history replay range [pos, end) */
	uint64_t	replay_end;
	uint64_t	replay_done;	/* bytes replayed in the current replay */
	bool		replay_active;
	/*
	 * A guest-output OUTPUT event was raised for this session and dom0
	 * has not called OUTPUT since: further guest output raises none
	 * (PROTOCOL.md §8.2, EVENT).
	 */
	bool		out_evented;
	/* Input reassembly: one { len:u16le ct[len] } item. */
	uint8_t		item[SC_HV_ITEM_MAX];
	size_t		item_have;
	/* Sealed control records, each as { len:u16le ct[len] }. */
	uint8_t		ctrlq[SC_HV_CTRLQ_SIZE];
	size_t		ctrlq_len;
	struct sc_hv_domain *dom;	/* its domain (set while taken) */
	struct sc_hv_session *next_free;	/* pool free list (state FREE) */
};

struct sc_hv_domain {
	/*
	 * The slot (SC_HV_LOCK_TABLE): set by domain_add before the domain can
	 * be found, wiped when the slot is freed; read-only in between, so
	 * the DOM lock's holder reads the identity fields freely.
	 */
	bool		used;		/* the slot is taken (maybe gone) */
	bool		gone;		/* removed: lookups skip it */
	unsigned	refs;		/* callers waiting for or holding DOM */
	uint32_t	domid;
	uint8_t		uuid[SC_UUID_LEN];
	char		name[SC_VMNAME_MAX + 1];
	uint8_t		*hist;
	size_t		hist_max;	/* carved from the arena */
	size_t		arena_off;
	/* Everything below: the domain's state (SC_HV_LOCK_DOM(slot)). */
	bool		dead;		/* removed: wiped, only the slot remains */
	bool		running;
	bool		broken;		/* the guest corrupted the ring indices */
	bool		protected;
	bool		in_blocked;	/* dom0 was told to wait for INPUT_SPACE */
	bool		raw_evented;	/* unprotected: dom0 told of output, not read since */
	struct xencons_interface *ring;
	/*
	 * Binding generation: that of the last accepted blob, plus one per
	 * ACL change made since by an owner command.  Only grows; PROTECT
	 * takes a blob only if its generation is above it.
	 */
	uint64_t	generation;
	/*
	 * Changes (from hv->epoch) when the domain is added and with every
	 * binding change (PROTECT, an ACL change): an op in phases that saw
	 * another epoch in its begin phase is refused at commit.
	 */
	uint64_t	epoch;
	/* Binding (valid when protected). */
	uint8_t		vm_secret[SC_PSK_LEN];
	uint32_t	options;
	unsigned	acl_count;
	struct sc_acl_entry acl[SC_ACL_MAX];
	/* History: a circular buffer of the stream positions [tail, head). */
	size_t		hist_size;	/* in use, <= hist_max */
	uint64_t	head, tail;
	uint64_t	hist_floor;	/* no replay starts below (last ACL change) */
	bool		detached;	/* no writer since detach_pos */
	uint64_t	detach_pos;
	/* Writer's plaintext not yet in the guest's in ring. */
	uint8_t		pending[SC_HV_PENDING_MAX];
	size_t		pend_off, pend_len;
	/* Ephemerals of accepted handshakes (replayed message 1 is refused). */
	uint8_t		seen[SC_HV_SEEN_MAX][SC_KEY_LEN];
	unsigned	seen_next, seen_count;
	int		writer;		/* index into sess, -1 if none */
	unsigned	nsess;		/* non-NULL entries of sess */
	struct sc_hv_session *sess[SC_HV_MAX_SESSIONS];	/* from the pool */
	/* Scratch of this domain's ops (secrets are wiped after each use). */
	uint8_t		scratch_pt[1 + SC_RECORD_PAYLOAD_MAX];
	uint8_t		scratch_ct[SC_HV_ITEM_MAX];
};

struct sc_hv {
	const struct sc_crypto	*cp;
	struct sc_hv_platform	pf;
	uint8_t		sk[SC_KEY_LEN];
	uint8_t		pk[SC_KEY_LEN];
	uint32_t	pcr_index;
	/* Owner CA (sc_hv_set_owner_ca): PROTECT then needs its token. */
	bool		owner_ca_set;
	uint8_t		owner_ca[SC_OWNER_CA_LEN];
	uint8_t		*arena;
	size_t		arena_len;
	uint32_t	next_session;
	unsigned	max_domains;	/* slots in dom[] */
	/* Session pool: max_sessions entries after dom[] (see hv.h top). */
	struct sc_hv_session *pool;
	struct sc_hv_session *pool_free;	/* free list */
	unsigned	max_sessions;
	unsigned	pool_free_count;
	unsigned	busy_domains;	/* domains holding at least one session */
	/* Bumped for every domain_add and binding change (sc_hv_domain.epoch). */
	uint64_t	epoch;
	struct sc_hv_domain dom[];	/* max_domains slots */
};

/*
 * Bytes of a context holding max_domains domains (1..SC_HV_DOMAINS_LIMIT)
 * and a pool of max_sessions sessions (max_domains..SC_HV_MAX_SESSIONS *
 * max_domains; 0 = max_domains + SC_HV_SESSIONS_SPARE, at most that upper
 * bound), or 0 if either is out of range.  The platform allocates it; the
 * core never allocates.
 */
size_t	sc_hv_size(unsigned max_domains, unsigned max_sessions);

/*
 * Initialise hv, sc_hv_size(max_domains, max_sessions) bytes, with the hv
 * static key (sk, 32 bytes; the public key is derived) and the arena for
 * history buffers.  pcr_index is what GET_INFO reports (SC_HV_NO_PCR if no
 * PCR was extended).  pf is copied.  OPEN fails with SC_ERR_ALLOC when the
 * session pool is exhausted (PROTOCOL.md §8.2).
 */
int	sc_hv_init(struct sc_hv *hv, const struct sc_crypto *cp,
	    const struct sc_hv_platform *pf, const uint8_t sk[SC_KEY_LEN],
	    uint32_t pcr_index, uint8_t *arena, size_t arena_len,
	    unsigned max_domains, unsigned max_sessions) SC_WUR;
/* Close everything and wipe all secrets in hv (all of its size). */
void	sc_hv_wipe(struct sc_hv *hv);
const uint8_t *sc_hv_pubkey(const struct sc_hv *hv);
/*
 * From now on every PROTECT must carry an ownership token (core/owner.h)
 * that ca signed for the domain's UUID and the blob's ACL; without one, or
 * with another, PROTECT fails with SC_ERR_UNTRUSTED before the blob's
 * generation is looked at (docs/xen.md §4 item 6).  The platform takes ca
 * from a measured place and calls this once, after sc_hv_init and before
 * any op; it cannot be undone (SC_ERR_STATE on a second call).
 */
int	sc_hv_set_owner_ca(struct sc_hv *hv, const uint8_t ca[SC_OWNER_CA_LEN]) SC_WUR;

/*
 * Add a domain whose console page is ring (owned by the platform, shared
 * with the guest; the core never frees it).  name: a VM name (frame.h rules);
 * history_max: history buffer to carve from the arena (0 = the default,
 * SC_HV_HISTORY_DEFAULT).  SC_ERR_BUSY if domid or uuid is already in use,
 * SC_ERR_ALLOC if the table or the arena is full.
 */
int	sc_hv_domain_add(struct sc_hv *hv, uint32_t domid,
	    const uint8_t uuid[SC_UUID_LEN], const char *name,
	    struct xencons_interface *ring, size_t history_max) SC_WUR;
/*
 * Raise the domain's binding generation to at least generation (it never
 * goes down): the platform restores what store_generation made durable,
 * right after sc_hv_domain_add and before any op reaches the domain.  A
 * domain never seen before starts at 0 and takes any valid blob.
 */
int	sc_hv_domain_set_generation(struct sc_hv *hv, uint32_t domid,
	    uint64_t generation) SC_WUR;
/* Remove a domain: its sessions end, its secrets are wiped. */
int	sc_hv_domain_remove(struct sc_hv *hv, uint32_t domid) SC_WUR;
/*
 * Remove a domain whose console page the platform then hands back (to the
 * guest alone, or to a console daemon).  A protected domain never becomes
 * unprotected (PROTOCOL.md §8): unless dying, it is refused with
 * SC_ERR_PROTECTED and nothing changes.  Before removal the page is
 * scrubbed: the `in` bytes the guest has consumed always (keystrokes),
 * and, for a protected domain, all of `in` and `out`, with the out ring
 * marked consumed.  The check, the scrub and the removal are one step
 * under the domain's lock.
 */
int	sc_hv_domain_detach(struct sc_hv *hv, uint32_t domid, bool dying) SC_WUR;
/*
 * The domain domid with its lock held (NULL if there is none): for the
 * platform's own look at a domain (tests, debug dumps).  Give it back with
 * sc_hv_domain_put; call nothing else of the core in between.
 */
struct sc_hv_domain *sc_hv_domain_get(struct sc_hv *hv, uint32_t domid);
void	sc_hv_domain_put(struct sc_hv *hv, struct sc_hv_domain *d);
/* Running flag reported by LIST_DOMAINS/STATUS. */
int	sc_hv_domain_set_running(struct sc_hv *hv, uint32_t domid, bool running) SC_WUR;
/*
 * The platform re-initialised the domain's ring page (guest reboot): clear
 * the broken state.  Plaintext pending for the in ring is kept.
 */
int	sc_hv_domain_ring_reset(struct sc_hv *hv, uint32_t domid) SC_WUR;

/*
 * The guest signalled its console event channel: move pending input into
 * the in ring, drain the out ring of a protected domain into its history,
 * and raise events towards dom0.  SC_ERR_CORRUPT if the guest corrupted
 * its ring (the domain is then marked broken and its sessions end).
 */
int	sc_hv_guest_event(struct sc_hv *hv, uint32_t domid) SC_WUR;
/*
 * The same with flags.  SC_HV_GE_TRY: never wait for a lock (the guest's
 * own path into the hypervisor): SC_ERR_AGAIN if the table or the
 * domain's lock is busy, and the platform retries later (Xen: a tasklet);
 * only the SHARED leaf, held for constant-time bookkeeping, is waited for.
 * SC_HV_GE_RESET_BROKEN: a broken ring whose indices are consistent again
 * (the guest re-initialised its page) is taken back first, as
 * sc_hv_domain_ring_reset.
 */
#define SC_HV_GE_TRY		0x1u
#define SC_HV_GE_RESET_BROKEN	0x2u
int	sc_hv_guest_event_ex(struct sc_hv *hv, uint32_t domid, unsigned flags) SC_WUR;

/*
 * Execute one op.  req[0..len) is one request (header + payload); the
 * response (header + payload) is written to resp[0..cap) and its size to
 * *resp_len.  The op's result is the status in the response header.
 * Returns 0 if a response was written, SC_ERR_NOSPACE if cap cannot hold
 * even a header (cap >= SC_OP_MAX always suffices).
 */
int	sc_hv_dispatch(struct sc_hv *hv, const uint8_t *req, size_t len,
	    uint8_t *resp, size_t cap, size_t *resp_len) SC_WUR;

/*
 * Ops in phases.  OPEN and PROTECT do public-key crypto: OPEN the Noise
 * IKpsk2 responder (four X25519 and two fixed-base multiplications),
 * PROTECT the opening of the blob (one of each) and the ownership token's
 * Ed25519 check.  A platform that runs
 * ops from several CPUs under one lock (Xen) runs that part outside it:
 *
 *	lock;   r = sc_hv_call_begin(hv, c, req, len, resp, cap, &rlen);  unlock;
 *	if (r == SC_HV_CALL_CRYPTO) {
 *		sc_hv_call_crypto(hv, c);			(no lock)
 *		lock;   r = sc_hv_call_commit(hv, c, &rlen);  unlock;
 *	}
 *
 * begin is sc_hv_dispatch for every other op (it answers at once and
 * returns 0).  For OPEN and PROTECT it makes the checks that need no crypto
 * (the same, in the same order, as the op in one piece), snapshots into c
 * what the crypto needs (the domain's UUID, VM secret, ACL, epoch) and
 * draws the random bytes it will use (the provider's generator needs the
 * lock).  crypto reads only c, req and what never changes once ops run
 * (the hv key pair, the owner CA, the provider), writes only c, and may run
 * on several CPUs at once for different calls.  commit looks the domain up
 * again and changes nothing unless what the crypto was done for still
 * holds: OPEN is refused if the domain went (SC_ERR_NOTFOUND), its ring
 * broke (SC_ERR_CORRUPT), another OPEN committed the same message 1
 * (SC_ERR_DECRYPT), the key left the ACL (SC_ERR_PERM), the binding
 * changed otherwise (SC_ERR_AGAIN: a new OPEN may be sent), or the slots
 * or the pool filled up (SC_ERR_LIMIT, SC_ERR_ALLOC); PROTECT checks the
 * generation, the disk key and stores the generation only at commit, so
 * the commits order concurrent PROTECTs as if they ran one after the other.
 * Nothing is reserved between the phases.
 *
 * c is the caller's (sizeof(struct sc_hv_call), it holds secrets between
 * the phases); req[0..len) and resp[0..cap) must stay in place, unchanged,
 * until commit.  commit, and begin when it answers at once, wipe c on every
 * path; sc_hv_call_wipe abandons a call after begin (nothing changes).
 * sc_hv_dispatch is the three phases back to back.
 */
#define SC_HV_CALL_CRYPTO	1	/* begin: run crypto, then commit */

struct sc_hv_opreq {
	struct sc_op_hdr	h;		/* request */
	struct sc_hv_domain	*dom;		/* h.domid's, its lock held; or NULL */
	bool			 dom_ref;	/* dom holds a reference */
	const uint8_t		*p;		/* request payload */
	size_t			 n;
	struct sc_buf		 out;		/* response payload (in resp) */
	uint32_t		 session;	/* response fields */
	uint32_t		 arg;
	bool			 keep_payload;	/* payload survives an error status */
};

/* OPEN between its phases (hv_call.c). */
struct sc_hv_open_call {
	uint32_t	domid;
	uint64_t	epoch;
	uint8_t		uuid[SC_UUID_LEN];
	uint8_t		vm_secret[SC_PSK_LEN];
	uint8_t		e_sk[SC_KEY_LEN];	/* the responder's ephemeral */
	uint32_t	options;
	uint64_t	hist_avail;	/* bytes a replay could have */
	uint64_t	lost;		/* sc_hv_dom_lost at begin */
	unsigned	acl_count;
	struct sc_acl_entry acl[SC_ACL_MAX];
	/* The crypto phase's results. */
	struct sc_noise_handshake hs;
	struct sc_noise_transport t;
	uint8_t		rs[SC_KEY_LEN];	/* the initiator's static key */
	bool		owner, viewer;
	uint32_t	history_kept;
	uint8_t		msg2[SC_HS2_MSG_LEN];
};

/* PROTECT between its phases. */
struct sc_hv_protect_call {
	uint32_t	domid;
	uint8_t		uuid[SC_UUID_LEN];
	const uint8_t	*blob, *token;	/* in req */
	size_t		blob_len;
	bool		opened;		/* reg holds the opened blob */
	int		st;		/* status from the crypto (UUID, token) */
	struct sc_registration reg;
};

struct sc_hv_call {
	struct sc_hv_opreq o;
	uint8_t		*resp;
	size_t		cap;
	uint8_t		phase;		/* hv_ops.c */
	int		status;		/* of the crypto phase */
	union {
		struct sc_hv_open_call	open;
		struct sc_hv_protect_call protect;
	} u;
};

/*
 * Phase 1 (context held): 0 if the response is written to resp (*resp_len
 * bytes, c wiped), SC_HV_CALL_CRYPTO if the crypto and commit phases must
 * follow, SC_ERR_NOSPACE / SC_ERR_INVAL as sc_hv_dispatch.
 */
int	sc_hv_call_begin(struct sc_hv *hv, struct sc_hv_call *c,
	    const uint8_t *req, size_t len, uint8_t *resp, size_t cap,
	    size_t *resp_len) SC_WUR;
/* Phase 2 (no lock needed): the crypto, after begin returned SC_HV_CALL_CRYPTO. */
void	sc_hv_call_crypto(const struct sc_hv *hv, struct sc_hv_call *c);
/* Phase 3 (context held): the response to resp, *resp_len bytes; c is wiped. */
int	sc_hv_call_commit(struct sc_hv *hv, struct sc_hv_call *c,
	    size_t *resp_len) SC_WUR;
/* Abandon a call between its phases: c is wiped, nothing changes. */
void	sc_hv_call_wipe(const struct sc_hv *hv, struct sc_hv_call *c);

#endif /* SC_HV_HV_H */
