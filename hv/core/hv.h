/*
 * hv.h — the hypervisor ring module: ops dispatcher, protected-domain state,
 * sessions (Noise IKpsk2 responder) and the per-domain history buffer.
 *
 * Freestanding (see compat.h): everything lives in one struct sc_hv of
 * sc_hv_size(max_domains, max_sessions) bytes that the platform allocates
 * (it holds secrets: user space puts it in sodium_malloc'd memory), plus one
 * caller-provided arena from which the per-domain history buffers are
 * carved.  No globals, no allocation, no blocking.  The core is
 * not thread-safe: the platform serialises every call on one context (hvsim
 * is single-threaded; inside Xen a per-context lock would do).
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
 * slot costs sizeof(struct sc_hv_domain), about 6 KiB; a pool entry
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

struct sc_hv_platform {
	void	*arg;
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
	struct sc_hv_session *next_free;	/* pool free list (state FREE) */
};

struct sc_hv_domain {
	bool		used;
	bool		running;
	bool		broken;		/* the guest corrupted the ring indices */
	bool		protected;
	bool		in_blocked;	/* dom0 was told to wait for INPUT_SPACE */
	bool		raw_evented;	/* unprotected: dom0 told of output, not read since */
	uint32_t	domid;
	uint8_t		uuid[SC_UUID_LEN];
	char		name[SC_VMNAME_MAX + 1];
	struct xencons_interface *ring;
	/*
	 * Binding generation: that of the last accepted blob, plus one per
	 * ACL change made since by an owner command.  Only grows; PROTECT
	 * takes a blob only if its generation is above it.
	 */
	uint64_t	generation;
	/* Binding (valid when protected). */
	uint8_t		vm_secret[SC_PSK_LEN];
	uint32_t	options;
	unsigned	acl_count;
	struct sc_acl_entry acl[SC_ACL_MAX];
	/* History: a circular buffer of the stream positions [tail, head). */
	uint8_t		*hist;
	size_t		hist_max;	/* carved from the arena */
	size_t		hist_size;	/* in use, <= hist_max */
	size_t		arena_off;
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
	/* Scratch (secrets are wiped after each use). */
	struct sc_noise_handshake hs;
	struct sc_registration reg;
	uint8_t		scratch_pt[1 + SC_RECORD_PAYLOAD_MAX];
	uint8_t		scratch_ct[SC_HV_ITEM_MAX];
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
 * Execute one op.  req[0..len) is one request (header + payload); the
 * response (header + payload) is written to resp[0..cap) and its size to
 * *resp_len.  The op's result is the status in the response header.
 * Returns 0 if a response was written, SC_ERR_NOSPACE if cap cannot hold
 * even a header (cap >= SC_OP_MAX always suffices).
 */
int	sc_hv_dispatch(struct sc_hv *hv, const uint8_t *req, size_t len,
	    uint8_t *resp, size_t cap, size_t *resp_len) SC_WUR;

#endif /* SC_HV_HV_H */
