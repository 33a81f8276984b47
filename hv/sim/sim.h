/*
 * sim.h — sccrypt-hvsim's state and the links between its files:
 *
 *   main.c       options, configuration, the hv key and TPM, the ops
 *                socket, the main loop (one epoll set), shutdown
 *   clients.c    ops clients: requests into sc_hv_dispatch, events out
 *   domains.c    the guests: rings, event channels, guest processes
 *   diskcheck.c  PROTECT's disk-key checks, in child processes
 *
 * The program is single-threaded: every function runs from the main loop
 * on the one global state, hvsim.
 */
#ifndef SC_HVSIM_SIM_H
#define SC_HVSIM_SIM_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/ops.h"
#include "hv/core/hv.h"
#include "conf.h"

#define MAX_CLIENTS	16
#define EVQ_MAX		256
/* epoll data: what kind of fd, and its index. */
#define EP_SIG		0u
#define EP_LISTEN	1u
#define EP_CLIENT	2u
#define EP_DOM		3u
#define EP_CHK		4u	/* a disk check's result pipe */
#define EP_KEY(k, i)	((uint64_t)(k) << 32 | (uint32_t)(i))
/* Disk-key checks: see diskcheck.c. */
#define CHK_BAD		8
#define CHK_HASH_LEN	32

struct sim_dom {
	const struct hvsim_domain_conf *conf;
	struct xencons_interface *page;
	int		 evfd;		/* hv end of the event socketpair */
	pid_t		 guest;
	bool		 corrupt_logged;
	/* Disk-key check (diskcheck.c). */
	enum { CHK_IDLE, CHK_RUNNING, CHK_DONE } chk;
	pid_t		 chk_pid;
	int		 chk_fd;	/* result pipe, -1 = none */
	uint8_t		 chk_hash[CHK_HASH_LEN];
	int		 chk_result;
	unsigned long long chk_done_ms;	/* or, while running, its start */
	uint8_t		 bad[CHK_BAD][CHK_HASH_LEN];
	unsigned	 nbad, bad_next;
};

struct client {
	int		 fd;
	uid_t		 uid;
	/*
	 * Its socket was full when an event was due: events are not queued
	 * for it until it has taken one SC_EV_LOST (sent when it drains).
	 */
	bool		 owes_lost;
};

struct ev {
	uint32_t	 domid, session, bits;
};

struct sim {
	struct hvsim_conf conf;
	struct sim_dom	 dom[HVSIM_MAX_DOMAINS];
	unsigned	 ndom;
	struct sc_hv	*hv;
	uint8_t		*arena;
	size_t		 arena_len;
	int		 lfd;
	int		 sigfd;
	int		 epfd;		/* every fd the main loop waits on */
	int		 ready_fd;	/* daemon: tells the waiting parent we are up */
	bool		 socket_made;
	struct client	 cl[MAX_CLIENTS];
	struct ev	 evq[EVQ_MAX];
	unsigned	 nev;
	bool		 ev_overflow;
	uint8_t		 req[SC_OP_MAX + 1];
	uint8_t		 resp[SC_OP_MAX];
	uint8_t		*chk_key;	/* keys the hashes of disk keys */
	unsigned	 nchk;		/* checks running */
};

extern struct sim hvsim;

/* main.c */
int	ep_add(int fd, uint64_t key);

/* clients.c */
void	client_close(struct client *c, const char *why);
void	client_accept(void);
void	client_request(struct client *c);
void	client_writable(struct client *c);
void	flush_events(void);
/* The hv's notify_dom0 hook: queue an event for every client. */
void	hook_dom0(void *arg, uint32_t domid, uint32_t session, uint32_t events);

/* domains.c */
struct sim_dom *dom_by_id(uint32_t domid);
int	start_guests(int verbose);
void	stop_guests(void);
void	guest_gone(struct sim_dom *d, const char *why);
void	guest_event(struct sim_dom *d);
void	reap(void);
/* The hv's notify_guest hook. */
void	hook_guest(void *arg, uint32_t domid);

/* diskcheck.c */
/* The hv's check_disk_key hook. */
int	hook_disk(void *arg, uint32_t domid, const uint8_t uuid[SC_UUID_LEN],
	    const uint8_t *key, size_t len);
void	chk_finished(struct sim_dom *d);

#endif /* SC_HVSIM_SIM_H */
