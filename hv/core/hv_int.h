/*
 * hv_int.h — private to the hv ring module's files (hv.c, hv_domain.c,
 * hv_session.c, hv_record.c, hv_ops.c, hv_call.c); the platform sees only
 * hv.h.
 * The sc_hv_ prefix keeps these names apart from Xen's when the module is
 * linked into the hypervisor.
 *
 * Data flow of a protected domain:
 *
 *   INPUT items --reassemble--> record_open --> pending plaintext --> in ring
 *   out ring --pump--> history buffer (positions [tail, head)) --> per-session
 *   cursors --> DATA records sealed at OUTPUT time
 *
 * Control records the hv sends (PONG, NOTICE, OWNER_RESULT, CLOSE) are
 * sealed when they arise and wait in the session's ctrlq; records built at
 * OUTPUT time are only sealed while ctrlq is empty, so ciphertexts leave in
 * the order of their Noise counters.
 *
 * Plaintext exists only in d->pending, d->hist and the scratch buffers, all
 * inside the context; it leaves the core only into the guest's ring or
 * sealed to a session.
 *
 * A session is named by its domain d and its index idx in d->sess[]; the
 * functions that may end or free it say so.  Nothing here allocates or
 * blocks but in the lock callbacks.  Unless a function says otherwise its
 * caller holds the lock of the domain d it is given (hv.h, "Locking").
 */
#ifndef SC_HV_HV_INT_H
#define SC_HV_HV_INT_H

#include "core/compat.h"
#include "core/blob.h"
#include "core/buf.h"
#include "hv.h"

/* hv_domain.c: locks (no-ops without the platform's callbacks) */
void	sc_hv_lock(const struct sc_hv *hv, unsigned lk);
bool	sc_hv_trylock(const struct sc_hv *hv, unsigned lk);
void	sc_hv_unlock(const struct sc_hv *hv, unsigned lk);
unsigned sc_hv_dom_lk(const struct sc_hv *hv, const struct sc_hv_domain *d);

/* hv_domain.c: lookup and events */
size_t	sc_hv_strlen(const char *s);
unsigned sc_hv_dom_home(const struct sc_hv *hv, uint32_t domid);
/* The listed domain domid's slot, or NULL; TABLE held. */
struct sc_hv_domain *sc_hv_dom_find(struct sc_hv *hv, uint32_t domid);
/*
 * Take domain domid with its lock held: NULL if none (or it went), and
 * with try, SC_ERR_AGAIN in *busy if a lock was busy (never waits).
 * *ref says whether a reference was taken; give it back with put.
 */
struct sc_hv_domain *sc_hv_dom_get(struct sc_hv *hv, uint32_t domid, bool try,
	    bool *ref, int *busy);
/* The same for slot i (LIST_DOMAINS): NULL if the slot holds no domain. */
struct sc_hv_domain *sc_hv_dom_get_slot(struct sc_hv *hv, unsigned i,
	    bool *ref);
/* Unlock d and drop the reference if ref; the last one frees a gone slot. */
void	sc_hv_dom_put(struct sc_hv *hv, struct sc_hv_domain *d, bool ref);
/* Wipe d's state and mark it dead (DOM held); then unlist it (TABLE). */
void	sc_hv_dom_kill(struct sc_hv *hv, struct sc_hv_domain *d);
void	sc_hv_dom_unlist(struct sc_hv *hv, struct sc_hv_domain *d);
/* A fresh value of hv->epoch (takes SHARED). */
uint64_t sc_hv_epoch_next(struct sc_hv *hv);
/* Raise events towards dom0 (session 0 = domain-wide); 0 raises nothing. */
void	sc_hv_notify(struct sc_hv *hv, const struct sc_hv_domain *d,
	    uint32_t session, uint32_t events);
void	sc_hv_guest_kick(struct sc_hv *hv, const struct sc_hv_domain *d);

/* hv_domain.c: the history buffer, stream positions [tail, head) */
void	sc_hv_hist_copy_out(const struct sc_hv_domain *d, uint64_t pos,
	    uint8_t *dst, size_t n);
uint64_t sc_hv_hist_start(const struct sc_hv_domain *d);
uint64_t sc_hv_hist_needed(const struct sc_hv_domain *d);
void	sc_hv_hist_forget(struct sc_hv *hv, struct sc_hv_domain *d,
	    uint64_t upto);
uint64_t sc_hv_dom_lost(const struct sc_hv_domain *d);

/* hv_domain.c: ring plumbing */
int	sc_hv_dom_flush_input(struct sc_hv *hv, struct sc_hv_domain *d);
bool	sc_hv_dom_pending_empty(const struct sc_hv_domain *d);
int	sc_hv_dom_pump(struct sc_hv *hv, struct sc_hv_domain *d, size_t *moved);
void	sc_hv_dom_maybe_unblock(struct sc_hv *hv, struct sc_hv_domain *d,
	    int idx);
/* Ends every session of d. */
void	sc_hv_dom_mark_broken(struct sc_hv *hv, struct sc_hv_domain *d);
uint32_t sc_hv_dom_flags(const struct sc_hv_domain *d);

/* hv_domain.c: the binding's generation and ACL */
int	sc_hv_gen_store(struct sc_hv *hv, struct sc_hv_domain *d,
	    uint64_t generation);
bool	sc_hv_acl_keys_differ(const struct sc_hv *hv,
	    const struct sc_hv_domain *d, const struct sc_registration *reg);
int	sc_hv_acl_find(const struct sc_hv *hv, const struct sc_hv_domain *d,
	    const uint8_t *pk);
unsigned sc_hv_acl_owners(const struct sc_hv_domain *d);

/* hv_session.c: the pool and slots */
int	sc_hv_sess_find(const struct sc_hv_domain *d, uint32_t id);
bool	sc_hv_pool_can_take(const struct sc_hv *hv, const struct sc_hv_domain *d);
struct sc_hv_session *sc_hv_sess_take(struct sc_hv *hv, struct sc_hv_domain *d,
	    int idx);
int	sc_hv_sess_slot_closing(const struct sc_hv_domain *d);
int	sc_hv_sess_slot(const struct sc_hv_domain *d, bool reclaim);
/* Frees the session at once (its queued CLOSE is not delivered). */
void	sc_hv_sess_free(struct sc_hv *hv, struct sc_hv_domain *d, int idx,
	    bool event);
/* Queues CLOSE and stops reading; may free the session. */
void	sc_hv_sess_begin_close(struct sc_hv *hv, struct sc_hv_domain *d,
	    int idx, uint8_t reason, const char *text);

/* hv_session.c: sealing and queueing */
size_t	sc_hv_item_fit(const struct sc_hv_session *s, size_t room);
int	sc_hv_sess_seal(struct sc_hv *hv, struct sc_hv_session *s, uint8_t type,
	    const uint8_t *p, size_t n, struct sc_buf *out);
int	sc_hv_sess_queue(struct sc_hv *hv, struct sc_hv_session *s, uint8_t type,
	    const uint8_t *p, size_t n);
int	sc_hv_notice_build(uint8_t *mem, size_t cap, uint16_t code,
	    uint64_t value, const char *text, size_t *len);
int	sc_hv_sess_notice(struct sc_hv *hv, struct sc_hv_session *s,
	    uint16_t code, uint64_t value, const char *text);

/* hv_session.c: output */
bool	sc_hv_sess_has_output(const struct sc_hv_domain *d,
	    const struct sc_hv_session *s);
bool	sc_hv_sess_ready(const struct sc_hv_domain *d, int idx);
void	sc_hv_sess_start_replay(struct sc_hv_domain *d, struct sc_hv_session *s,
	    uint64_t wanted);
void	sc_hv_sess_emit_ctrlq(struct sc_hv_session *s, struct sc_buf *out);
void	sc_hv_announce_output(struct sc_hv *hv, struct sc_hv_domain *d, int skip);

/* hv_ops.c: what an op uses of a request besides its op and seq */
#define SC_HV_USES_DOMID	0x01
#define SC_HV_USES_SESSION	0x02	/* and must name one */
#define SC_HV_USES_ARG		0x04
#define SC_HV_USES_PAYLOAD	0x08
int	sc_hv_need_fields(const struct sc_hv_opreq *o, unsigned uses);

/*
 * hv_call.c: OPEN and PROTECT in phases (hv.h).  begin returns
 * SC_HV_CALL_CRYPTO to go on, or the op's status; crypto and commit return
 * the op's status.  Only commit changes the context.
 */
int	sc_hv_open_begin(struct sc_hv *hv, struct sc_hv_call *c);
int	sc_hv_open_crypto(const struct sc_hv *hv, struct sc_hv_call *c);
int	sc_hv_open_commit(struct sc_hv *hv, struct sc_hv_call *c);
int	sc_hv_protect_begin(struct sc_hv *hv, struct sc_hv_call *c);
int	sc_hv_protect_crypto(const struct sc_hv *hv, struct sc_hv_call *c);
int	sc_hv_protect_commit(struct sc_hv *hv, struct sc_hv_call *c);

/* hv_record.c: the records a client sends (both may end the session) */
int	sc_hv_item_len(const struct sc_hv_session *s, size_t *len);
int	sc_hv_sess_record(struct sc_hv *hv, struct sc_hv_domain *d, int idx);
int	sc_hv_sess_violation(struct sc_hv *hv, struct sc_hv_domain *d, int idx,
	    int err, const char *why);

#endif /* SC_HV_HV_INT_H */
