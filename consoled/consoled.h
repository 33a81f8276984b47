/*
 * consoled.h — sccrypt-consoled's relay core: domains, clients, and the
 * state machine between a client's byte stream and the hypervisor ops.
 *
 * The core does no polling of its own: the daemon (daemon.c) reads client
 * sockets into c->in and calls sc_cd_client_input(), writes c->out when
 * the socket is writable, feeds backend events to sc_cd_events(), and calls
 * sc_cd_service()/sc_cd_tick() every loop.  Unit tests and the fuzzer drive
 * the same functions with a fake backend.
 *
 * Bounds (per client): SC_CD_IN_MAX bytes read but not yet decoded,
 * SC_CD_PEND_MAX bytes of input items not yet taken by the hv, and
 * conf->client_buffer bytes of output.  When a bound is reached the core
 * stops reading (the client, or the hv for that session) instead of
 * growing; a client that leaves output unread for stall_timeout is dropped.
 */
#ifndef SC_CONSOLED_H
#define SC_CONSOLED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/buf.h"
#include "core/frame.h"
#include "core/ops.h"
#include "backend.h"
#include "conf.h"
#include "ctl.h"

#define SC_CD_IN_MAX		16384
#define SC_CD_PEND_MAX		16384
#define SC_CD_CTRL_RESERVE	4096	/* output room kept for control frames */
#define SC_CD_FLUSH_TIMEOUT_MS	5000	/* closing clients: time to take the last bytes */
#define SC_CD_OUTPUT_ROUNDS	4	/* OUTPUT ops per client per service pass */

enum sc_cd_state {
	SC_CD_REQ = 1,		/* reading the request line */
	SC_CD_FRAMED,		/* HELLO sent: waiting for HS_INIT or PROTECT */
	SC_CD_SESSION,		/* hv session open: relaying records */
	SC_CD_RAW,		/* plaintext relay (unprotected domain) */
	SC_CD_CLOSING,		/* flushing c->out, then closed; input ignored */
};

struct sc_cd_domain;

struct sc_cd_client {
	struct sc_cd_client *next;		/* all clients */
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

	uint8_t		in[SC_CD_IN_MAX];
	size_t		in_len;
	struct sc_frame_decoder dec;
	uint8_t		pend[SC_CD_PEND_MAX];	/* INPUT item stream not yet consumed */
	size_t		pend_len;
	bool		input_blocked;		/* hv ring full: wait for INPUT_SPACE */
	bool		finishing;		/* BYE or EOF seen: deliver pend, then close */

	uint8_t		*outmem;
	struct sc_buf	out;			/* encoded bytes for the client */
	bool		want_output;		/* the hv has output for this session */
	bool		hv_closed;		/* hv ended the session: drain, then BYE */

	unsigned long long deadline;		/* request/handshake/flush deadline, 0 = none */
	unsigned long long stall_since;		/* output pending and not drained since */
	double		tokens;			/* input rate limit (bytes) */
	unsigned long long tokens_ms;
	bool		rd_eof;			/* the client sent EOF */
	bool		dead;			/* to be freed by the daemon */
};

struct sc_cd_domain {
	uint32_t	domid;
	uint8_t		uuid[SC_UUID_LEN];
	char		name[SC_VMNAME_MAX + 1];
	uint32_t	flags;			/* SC_DOM_F_* as last seen */
	bool		present;		/* in the last listing */
	struct sc_cd_client *clients;
	unsigned	nclients;
	/* Unprotected domains: output drained while no raw client is attached. */
	uint8_t		*backlog;
	size_t		backlog_len;
	bool		raw_want;		/* raw output pending */
	/* Ciphertext log (log_dir), -1 = not open. */
	int		log_fd;
	uint64_t	log_size;
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

/* A new client connection (peer credentials from SO_PEERCRED). */
struct sc_cd_client *sc_cd_client_new(struct sc_cd *cd, int fd, uid_t uid, pid_t pid);
/* Free a client marked dead (does not close fd: the daemon owns it). */
void	sc_cd_client_free(struct sc_cd *cd, struct sc_cd_client *c);
/* n_new bytes were appended to c->in: process them. */
void	sc_cd_client_input(struct sc_cd *cd, struct sc_cd_client *c, size_t n_new);
/* The client sent EOF or its socket failed. */
void	sc_cd_client_eof(struct sc_cd *cd, struct sc_cd_client *c);
/* n bytes of c->out were written. */
void	sc_cd_client_wrote(struct sc_cd *cd, struct sc_cd_client *c, size_t n);
/* How many bytes the daemon may read for c now (0 = do not poll POLLIN). */
size_t	sc_cd_client_read_budget(struct sc_cd *cd, struct sc_cd_client *c);

/* Handle the events queued in cd->bk->evq. */
void	sc_cd_events(struct sc_cd *cd);
/* Pull pending output, retry input; call once per loop. */
void	sc_cd_service(struct sc_cd *cd);
/* Timeouts; returns ms until the next deadline (or -1). */
int	sc_cd_tick(struct sc_cd *cd);

struct sc_cd_domain *sc_cd_domain_by_name(struct sc_cd *cd, const char *name);

#endif /* SC_CONSOLED_H */
