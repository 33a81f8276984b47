/*
 * consoled.h — sccrypt-consoled's relay core: domains, clients, and the
 * state machine between a client's byte stream and the hypervisor ops.
 *
 * The core does no polling of its own: the daemon (daemon.c) reads client
 * sockets and hands the bytes to sc_cd_client_input(), writes c->out when
 * the socket is writable, feeds backend events to sc_cd_events(), and calls
 * sc_cd_service()/sc_cd_tick() every loop.  Unit tests and the fuzzer drive
 * the same functions with a fake backend.
 *
 * Cost per wake-up is O(clients with work), not O(clients):
 *   - ready list: clients whose progress() may advance (set by events,
 *     input, freed output room, timers); sc_cd_service() runs only those,
 *     and a domain ready list for the plaintext (RAW) drain;
 *   - timer heap: one entry per client keyed by its earliest deadline
 *     (request/handshake/flush deadline, stall timer, input-rate refill,
 *     deferred output pull);
 *     sc_cd_tick() pops only the due ones;
 *   - changed list: clients whose wanted I/O (read budget, pending output)
 *     or liveness may have changed, for the daemon to update its epoll set
 *     and free the dead (sc_cd_next_changed());
 *   - sc_cd_set_time(): the daemon reads the clock once per loop iteration
 *     and every deadline of that iteration uses it.
 *
 * Bounds (per client): SC_CD_IN_MAX bytes read but not yet decoded,
 * SC_CD_PEND_MAX bytes of input items not yet taken by the hv, and
 * conf->client_buffer bytes of output.  When a bound is reached the core
 * stops reading (the client, or the hv for that session) instead of
 * growing; a client that leaves output unread for stall_timeout is dropped.
 * The three buffers are allocated on demand, grow by doubling from
 * SC_CD_BUF_MIN up to their bound, and are freed when they empty while
 * larger than SC_CD_BUF_KEEP (the output buffer only once no more output is
 * waiting), so an idle session holds at most a few hundred bytes of them.
 */
#ifndef SC_CONSOLED_H
#define SC_CONSOLED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/types.h>

#include "core/buf.h"
#include "core/frame.h"
#include "core/ops.h"
#include "backend.h"
#include "coalesce.h"
#include "conf.h"
#include "ctl.h"
#include "ctlog.h"

#define SC_CD_IN_MAX		16384
#define SC_CD_PEND_MAX		16384
#define SC_CD_BUF_MIN		256	/* first allocation of a client buffer */
#define SC_CD_BUF_KEEP		1024	/* an empty buffer up to this size is kept */
#define SC_CD_CTRL_RESERVE	4096	/* output room kept for control frames */
#define SC_CD_FLUSH_TIMEOUT_MS	5000	/* closing clients: time to take the last bytes */
#define SC_CD_OUTPUT_ROUNDS	4	/* OUTPUT ops per client per service pass */
/*
 * Binding work: a connection may send SC_CD_PROTECT_MAX PROTECTs and is
 * closed after a refused one.  While the hv checks the disk key (PROTECT
 * answers SC_ERR_AGAIN) the same PROTECT is asked again after a delay
 * growing from SC_CD_PROTECT_RETRY_MIN to _MAX ms; the loop never waits.
 */
#define SC_CD_PROTECT_MAX	4
#define SC_CD_PROTECT_RETRY_MIN	5
#define SC_CD_PROTECT_RETRY_MAX	100

enum sc_cd_state {
	SC_CD_REQ = 1,		/* reading the request line */
	SC_CD_FRAMED,		/* HELLO sent: waiting for HS_INIT or PROTECT */
	SC_CD_SESSION,		/* hv session open: relaying records */
	SC_CD_RAW,		/* plaintext relay (unprotected domain) */
	SC_CD_CLOSING,		/* flushing c->out, then closed; input ignored */
};

struct sc_cd_domain;

#define SC_CD_NO_HEAP	((size_t)-1)

struct sc_cd_client {
	struct sc_cd_client *next;		/* all clients */
	struct sc_cd_client **pprev;		/* &previous->next (O(1) unlink) */
	struct sc_cd_client *dnext;		/* clients of dom */
	struct sc_cd_domain *dom;
	int		fd;
	uid_t		peer_uid;
	pid_t		peer_pid;
	uid_t		uid;			/* effective user (as= from root) */
	int		state;
	int		verb;			/* enum sc_ctl_verb */
	uint8_t		encoding;
	uint32_t	session;		/* hv session id, 0 = none */
	uint64_t	id;			/* for logs */

	uint8_t		*in;			/* in_cap bytes, NULL if 0 */
	size_t		in_len, in_cap;
	struct sc_frame_decoder dec;
	uint8_t		*pend;			/* INPUT item stream not yet consumed */
	size_t		pend_len, pend_cap;
	bool		input_blocked;		/* hv ring full: wait for INPUT_SPACE */
	uint8_t		*protect_blob;		/* PROTECT waiting for the hv's check */
	size_t		protect_len;
	unsigned long long protect_at;		/* ask again then, 0 = none */
	unsigned	protect_delay;		/* ms */
	unsigned	nprotect;		/* PROTECTs on this connection */
	bool		finishing;		/* BYE or EOF seen: deliver pend, then close */

	uint8_t		*outmem;		/* out.size bytes, NULL if 0 */
	struct sc_buf	out;			/* encoded bytes for the client */
	size_t		out_max;		/* bound of out.size: client_buffer */
	bool		want_output;		/* the hv has output for this session */
	struct sc_coalesce co;			/* its pulls and input (coalesce.h) */
	unsigned long long pull_at;		/* output_coalesce_ms: pull then (ms), 0 = none */
	bool		hv_closed;		/* hv ended the session: drain, then BYE */

	unsigned long long deadline;		/* request/handshake/flush deadline, 0 = none */
	unsigned long long retry_at;		/* blocked input: retry INPUT, 0 = none */
	unsigned long long stall_since;		/* output pending and not drained since */
	double		tokens;			/* input rate limit (bytes) */
	unsigned long long tokens_ms;
	bool		rd_eof;			/* the client sent EOF */
	bool		peer_gone;		/* hung up: read the rest, then EOF */
	bool		out_gone;		/* output cannot reach it: discarded */
	bool		dead;			/* to be freed by the daemon */

	/* Scheduling (sched.c): see the comment at the top. */
	TAILQ_ENTRY(sc_cd_client) rdy_link;	/* cd->ready */
	TAILQ_ENTRY(sc_cd_client) tch_link;	/* cd->touched: timer to re-key */
	TAILQ_ENTRY(sc_cd_client) chg_link;	/* cd->changed: for the daemon */
	bool		on_ready, on_touched, on_changed;
	size_t		hidx;			/* index in cd->heap or SC_CD_NO_HEAP */
	unsigned long long tkey;		/* heap key: earliest timer */

	/* Owned by the daemon (epoll registration). */
	uint32_t	ep_events;		/* events registered */
	bool		ep_in_set;		/* fd is in the epoll set */
	bool		ep_hup;			/* EPOLLHUP/ERR was reported */
};

TAILQ_HEAD(sc_cd_clist, sc_cd_client);
TAILQ_HEAD(sc_cd_dlist, sc_cd_domain);

struct sc_cd_domain {
	uint32_t	domid;
	uint8_t		uuid[SC_UUID_LEN];
	char		name[SC_VMNAME_MAX + 1];
	uint32_t	flags;			/* SC_DOM_F_* as last seen */
	uint32_t	history;		/* the hv's history size (STATUS), 0 = unknown */
	bool		present;		/* in the last listing */
	struct sc_cd_client *clients;
	unsigned	nclients;
	/* Unprotected domains: output drained while no raw client is attached. */
	uint8_t		*backlog;
	size_t		backlog_len;
	bool		raw_want;		/* raw output pending */
	/* guest_output_rate while no client watches: bucket, refill due at */
	double		raw_tokens;
	unsigned long long raw_tokens_ms, raw_wait;
	struct sc_ctlog	log;			/* ciphertext log (log_dir) */
	TAILQ_ENTRY(sc_cd_domain) raw_link;	/* cd->rawq: RAW drain pending */
	bool		raw_queued;
};

struct sc_cd_stats {
	uint64_t	clients_accepted, clients_closed, clients_dropped_stall;
	uint64_t	sessions_opened, protocol_errors, records_in, records_out;
	uint64_t	input_retries;
};

struct sc_cd {
	struct sc_conf	*conf;
	struct sc_backend *bk;
	bool		bk_up;
	bool		have_info;
	uint8_t		hv_pk[SC_KEY_LEN];
	uint32_t	hv_caps;
	struct sc_cd_domain *doms;
	size_t		ndoms, doms_cap;
	bool		need_rescan;
	unsigned long long last_miss_rescan;	/* rescans for unknown names: 1/s */
	struct sc_cd_client *clients;
	unsigned	nclients;
	uint64_t	next_id;
	uint8_t		*opbuf;			/* SC_OP_PAYLOAD_MAX scratch */
	struct sc_cd_stats stats;
	unsigned long long (*now)(void);	/* clock (tests substitute) */
	unsigned long long t_now;		/* sc_cd_set_time() */
	bool		t_fixed;
	struct sc_cd_clist ready;		/* progress() may advance */
	struct sc_cd_clist touched;		/* timers to re-key */
	struct sc_cd_clist changed;		/* for the daemon */
	struct sc_cd_dlist rawq;		/* unprotected domains to drain */
	unsigned long long raw_wait_min;	/* earliest doms[].raw_wait, 0 = none */
	struct sc_cd_client **heap;		/* min-heap on tkey */
	size_t		heap_len, heap_cap;
};

int	sc_cd_init(struct sc_cd *cd, struct sc_conf *conf, struct sc_backend *bk)
	    __attribute__((warn_unused_result));
void	sc_cd_free(struct sc_cd *cd);

/* The backend (re)connected: fetch GET_INFO and the domain list. */
int	sc_cd_backend_up(struct sc_cd *cd) __attribute__((warn_unused_result));
/* The backend failed: every client is told and closed. */
void	sc_cd_backend_down(struct sc_cd *cd, int err);
/* Re-read the domain list (after DOMAIN_ADDED/GONE or on demand). */
int	sc_cd_rescan(struct sc_cd *cd);

/*
 * May a new connection from uid peer be accepted?  0 if so; SC_ERR_BUSY if
 * peer (other than root, whose connections are the sudo shims') already has
 * max_clients_per_user connections, or if max_clients connections are open
 * and none is still in the request phase.  Connections in the request phase
 * (not yet allowed anything by the policy) do not hold slots against
 * allowed users: when the table is full and peer is root or has an allow
 * rule, the oldest of another uid is closed to make room.
 */
int	sc_cd_admit(struct sc_cd *cd, uid_t peer) __attribute__((warn_unused_result));
/*
 * The policy changed (SIGHUP): every client the new policy no longer allows
 * on its VM is told and closed.  Returns how many.
 */
unsigned sc_cd_policy_changed(struct sc_cd *cd);

/* A new client connection (peer credentials from SO_PEERCRED). */
struct sc_cd_client *sc_cd_client_new(struct sc_cd *cd, int fd, uid_t uid, pid_t pid);
/* Free a client marked dead (does not close fd: the daemon owns it). */
void	sc_cd_client_free(struct sc_cd *cd, struct sc_cd_client *c);
/*
 * The client sent p[0..n) (n at most sc_cd_client_read_budget()): queue
 * and process them.  A client whose buffer cannot be allocated is closed.
 */
void	sc_cd_client_input(struct sc_cd *cd, struct sc_cd_client *c,
	    const uint8_t *p, size_t n);
/* The client sent EOF or its socket failed. */
void	sc_cd_client_eof(struct sc_cd *cd, struct sc_cd_client *c);
/*
 * c hung up (EPOLLHUP/ERR) while consoled was not reading from it: the bytes
 * it wrote before are still to be read (EOF comes after them); bounded by
 * stall_timeout.
 */
void	sc_cd_client_hup(struct sc_cd *cd, struct sc_cd_client *c);
/*
 * Writing to c failed (it is gone).  Returns true when c is still needed
 * (input it sent is not yet delivered: its output is discarded from now on),
 * false when the daemon should drop it.
 */
bool	sc_cd_client_write_failed(struct sc_cd *cd, struct sc_cd_client *c);
/* n bytes of c->out were written. */
void	sc_cd_client_wrote(struct sc_cd *cd, struct sc_cd_client *c, size_t n);
/* How many bytes the daemon may read for c now (0 = do not poll POLLIN). */
size_t	sc_cd_client_read_budget(struct sc_cd *cd, struct sc_cd_client *c);

/*
 * Use t (ms, monotonic) as "now" until the next call; the daemon calls it
 * once per loop iteration.  Without it every use reads cd->now or the clock.
 */
void	sc_cd_set_time(struct sc_cd *cd, unsigned long long t);
/*
 * Next client whose wanted I/O may have changed (read budget, pending
 * output) or that died; it is taken off the list.  NULL when none.
 */
struct sc_cd_client *sc_cd_next_changed(struct sc_cd *cd);
/* The daemon changed c (marked it dead, saw a hang-up): list it as changed. */
void	sc_cd_client_changed(struct sc_cd *cd, struct sc_cd_client *c);
/* True if sc_cd_service() has work queued (the daemon must not sleep). */
bool	sc_cd_has_work(const struct sc_cd *cd);

/* Handle the events queued in cd->bk->evq. */
void	sc_cd_events(struct sc_cd *cd);
/* Pull pending output, retry input for the clients on the ready list. */
void	sc_cd_service(struct sc_cd *cd);
/*
 * Fire the due timers; returns ms until the next one (at most 1000; 0 when
 * sc_cd_service() has work queued).
 */
int	sc_cd_tick(struct sc_cd *cd);

struct sc_cd_domain *sc_cd_domain_by_name(struct sc_cd *cd, const char *name);

#endif /* SC_CONSOLED_H */
