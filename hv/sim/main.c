/*
 * sccrypt-hvsim — the simulated VMM: hosts simulated domains whose console
 * rings are real struct xencons_interface pages shared with guest processes,
 * runs the hv core (hv/core) over them, and serves the hv ops ABI on a unix
 * SOCK_SEQPACKET socket (one packet per op; events pushed as SC_OP_EVENT).
 *
 * Process layout: this process is the "hypervisor".  Each domain's guest is
 * a child forked before the hv key exists, sharing only its own ring page
 * (MAP_SHARED anonymous) and an event socketpair.  dom0-side programs reach
 * the hypervisor only through the ops socket.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include <sodium.h>

#include "core/err.h"
#include "core/ops.h"
#include "core/crypto.h"
#include "hv/core/hv.h"
#include "log.h"
#include "io.h"
#include "encode.h"
#include "secmem.h"
#include "conf.h"
#include "guest.h"
#include "platform.h"

#define MAX_CLIENTS	16
#define EVQ_MAX		256
#define EPOLL_BATCH	64
/* epoll data: what kind of fd, and its index. */
#define EP_SIG		0u
#define EP_LISTEN	1u
#define EP_CLIENT	2u
#define EP_DOM		3u
#define EP_CHK		4u	/* a disk check's result pipe */
#define EP_KEY(k, i)	((uint64_t)(k) << 32 | (uint32_t)(i))
#define SEND_WAIT_MS	1000
#ifdef SC_HVSIM_DEFAULT_CONF	/* from configure's sysconfdir (hv/local.mk) */
#define DEFAULT_CONF	SC_HVSIM_DEFAULT_CONF
#else
#define DEFAULT_CONF	"/etc/sccrypt/hvsim.conf"
#endif
/*
 * Disk-key checks (libcryptsetup, tens of ms each) run in a child process,
 * one per domain at a time and CHK_MAX at once, so that no domain's PROTECT
 * stalls the ops of the others.  PROTECT answers SC_ERR_AGAIN until the
 * result is in; the same key then gets it (kept CHK_KEEP_MS; a check
 * that hangs, e.g. on a dead NFS image, is killed after CHK_TIMEOUT_MS and
 * counts as failed).  The last
 * CHK_BAD refused keys of each domain are remembered (keyed hash) and
 * refused again without a check.
 */
#define CHK_MAX		4
#define CHK_KEEP_MS	2000
#define CHK_TIMEOUT_MS	30000	/* a check still running then is killed */
#define CHK_BAD		8
#define CHK_HASH_LEN	32
#define DEFAULT_SOCKET	"/run/sccrypt/hvsim.sock"

struct sim_dom {
	const struct hvsim_domain_conf *conf;
	struct xencons_interface *page;
	int		 evfd;		/* hv end of the event socketpair */
	pid_t		 guest;
	bool		 corrupt_logged;
	/* Disk-key check (see CHK_MAX). */
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

static struct sim {
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
} S;

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: sccrypt-hvsim [-tv] [--foreground] [-f config] [-S socket]\n"
	    "                     [--tpm-tcti TCTI] [--pcr N] [--pubkey-file FILE]\n"
	    "       sccrypt-hvsim -h | --help | -V | --version\n"
	    "  -f, --config FILE    configuration (default %s)\n", DEFAULT_CONF);
}

/*
 * Domains whose console command would run as root without anyone having
 * said so: a command other than the default /bin/login (which asks for a
 * password) and no "user", with hvsim running as root.  Whoever reaches
 * such a console (a tenant, through consoled) has a root shell on dom0.
 * Returns how many; each is reported.
 */
static unsigned
root_guests(const struct hvsim_conf *conf, bool fatal)
{
	unsigned i, n = 0;

	if (geteuid() != 0)
		return 0;
	for (i = 0; i < conf->ndomains; i++) {
		const struct hvsim_domain_conf *dc = &conf->dom[i];

		if (dc->user[0] != '\0' || dc->command[0] == '\0')
			continue;
		n++;
		if (fatal)
			sc_error("domain %s: command runs as root (no user): whoever "
			    "reaches this console gets a root shell on this host; "
			    "set user (user = root if that is meant)", dc->name);
		else
			sc_warn("WARNING: domain %s: command runs as ROOT (no user): "
			    "whoever reaches this console gets a root shell on this "
			    "host; set user (user = root if that is meant)", dc->name);
	}
	return n;
}

static struct sim_dom *
dom_by_id(uint32_t domid)
{
	unsigned i;

	for (i = 0; i < S.ndom; i++)
		if (S.dom[i].conf->domid == domid)
			return &S.dom[i];
	return NULL;
}

/* ---- hv platform hooks ---- */

static int ep_add(int fd, uint64_t key);

/* Start checking key against d's disk in a child; SC_ERR_AGAIN or an error. */
static int
chk_start(struct sim_dom *d, const uint8_t *key, size_t len,
    const uint8_t h[CHK_HASH_LEN])
{
	int p[2], r;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) == -1)
		return SC_ERR_SYSTEM;
	if ((pid = fork()) == -1) {
		close(p[0]);
		close(p[1]);
		return SC_ERR_SYSTEM;
	}
	if (pid == 0) {
		/* The checker: libcryptsetup, one int back, nothing else. */
		close(p[0]);
		r = hvsim_disk_check(d->conf->disk, key, len);
		(void)!write(p[1], &r, sizeof(r));
		_exit(0);
	}
	close(p[1]);
	if (sc_set_nonblock(p[0], 1) != 0 ||
	    ep_add(p[0], EP_KEY(EP_CHK, (unsigned)(d - S.dom))) != 0) {
		close(p[0]);
		(void)kill(pid, SIGKILL);
		return SC_ERR_SYSTEM;	/* reap() collects the child */
	}
	d->chk = CHK_RUNNING;
	d->chk_done_ms = sc_now_ms();
	d->chk_pid = pid;
	d->chk_fd = p[0];
	memcpy(d->chk_hash, h, CHK_HASH_LEN);
	S.nchk++;
	return SC_ERR_AGAIN;
}

/* A check finished (or its child died): keep the result for the retry. */
static void
chk_finished(struct sim_dom *d)
{
	ssize_t n;
	int r = SC_ERR_SYSTEM;

	do
		n = read(d->chk_fd, &r, sizeof(r));
	while (n == -1 && errno == EINTR);
	if (n == -1 && errno == EAGAIN)
		return;			/* spurious: not yet */
	if (n != (ssize_t)sizeof(r) || r > 0)
		r = SC_ERR_SYSTEM;
	close(d->chk_fd);
	d->chk_fd = -1;
	d->chk = CHK_DONE;
	d->chk_result = r;
	d->chk_done_ms = sc_now_ms();
	S.nchk--;
	sc_info("domain %s: disk key %s", d->conf->name,
	    r == 0 ? "verified" : r == SC_ERR_DISKKEY ? "rejected" : "check failed");
}

static bool
chk_known_bad(const struct sim_dom *d, const uint8_t h[CHK_HASH_LEN])
{
	bool bad = false;
	unsigned i;

	for (i = 0; i < d->nbad; i++)
		if (sodium_memcmp(d->bad[i], h, CHK_HASH_LEN) == 0)
			bad = true;
	return bad;
}

static int
hook_disk(void *arg, uint32_t domid, const uint8_t uuid[SC_UUID_LEN],
    const uint8_t *key, size_t len)
{
	struct sim_dom *d = dom_by_id(domid);
	uint8_t h[CHK_HASH_LEN];
	int r;

	(void)arg;
	(void)uuid;
	if (d == NULL)
		return SC_ERR_NOTFOUND;
	if (d->conf->disk[0] == '\0') {
		sc_warn("domain %s: no disk configured: cannot be protected",
		    d->conf->name);
		return SC_ERR_UNSUPPORTED;
	}
	crypto_generichash(h, sizeof(h), key, len, S.chk_key, CHK_HASH_LEN);
	if (chk_known_bad(d, h)) {
		sc_info("domain %s: disk key rejected (refused before)", d->conf->name);
		return SC_ERR_DISKKEY;
	}
	if (d->chk == CHK_DONE) {
		if (sodium_memcmp(d->chk_hash, h, CHK_HASH_LEN) == 0) {
			d->chk = CHK_IDLE;
			r = d->chk_result;
			if (r == SC_ERR_DISKKEY) {
				memcpy(d->bad[d->bad_next], h, CHK_HASH_LEN);
				d->bad_next = (d->bad_next + 1) % CHK_BAD;
				if (d->nbad < CHK_BAD)
					d->nbad++;
			}
			return r;
		}
		if (sc_now_ms() - d->chk_done_ms < CHK_KEEP_MS)
			return SC_ERR_AGAIN;	/* another key's result is unclaimed */
		d->chk = CHK_IDLE;
	}
	if (d->chk == CHK_RUNNING) {
		if (sc_now_ms() - d->chk_done_ms >= CHK_TIMEOUT_MS && d->chk_pid > 0) {
			sc_warn("domain %s: disk check hangs; killed", d->conf->name);
			(void)kill(d->chk_pid, SIGKILL);	/* its pipe ends: failed */
		}
		return SC_ERR_AGAIN;
	}
	if (S.nchk >= CHK_MAX)
		return SC_ERR_AGAIN;
	return chk_start(d, key, len, h);
}

static void
hook_guest(void *arg, uint32_t domid)
{
	struct sim_dom *d = dom_by_id(domid);
	ssize_t n;

	(void)arg;
	if (d == NULL || d->evfd < 0)
		return;
	do
		n = write(d->evfd, "k", 1);
	while (n == -1 && errno == EINTR);
	/* EAGAIN: a kick is already pending, which is all a kick means. */
}

static void
hook_dom0(void *arg, uint32_t domid, uint32_t session, uint32_t events)
{
	unsigned i;

	(void)arg;
	for (i = 0; i < S.nev; i++)
		if (S.evq[i].domid == domid && S.evq[i].session == session) {
			S.evq[i].bits |= events;
			return;
		}
	if (S.nev == EVQ_MAX) {
		S.ev_overflow = true;
		return;
	}
	S.evq[S.nev].domid = domid;
	S.evq[S.nev].session = session;
	S.evq[S.nev].bits = events;
	S.nev++;
}

/* ---- clients ---- */

static void
client_close(struct client *c, const char *why)
{
	if (c->fd < 0)
		return;
	sc_verbose("ops client (uid %ld) disconnected: %s", (long)c->uid, why);
	close(c->fd);
	c->fd = -1;
}

/*
 * Responses may wait up to SEND_WAIT_MS for room; events never wait (a
 * full socket gives SC_ERR_AGAIN and the caller owes the client a LOST
 * event): a slow client must not stall every domain, nor lose its
 * connection for a burst of events.
 */
static int
client_send(struct client *c, const void *p, size_t n, bool wait)
{
	struct pollfd pfd;
	ssize_t w;

	for (;;) {
		w = send(c->fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w == (ssize_t)n)
			return 0;
		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (!wait)
				return SC_ERR_AGAIN;
			pfd.fd = c->fd;
			pfd.events = POLLOUT;
			if (poll(&pfd, 1, SEND_WAIT_MS) == 1)
				continue;
			client_close(c, "not reading (send timeout)");
			return SC_ERR_TIMEOUT;
		}
		client_close(c, w == -1 ? strerror(errno) : "short send");
		return SC_ERR_SYSTEM;
	}
}

static void
client_watch_out(struct client *c, bool on)
{
	struct epoll_event e;

	memset(&e, 0, sizeof(e));
	e.events = EPOLLIN | (on ? EPOLLOUT : 0);
	e.data.u64 = EP_KEY(EP_CLIENT, (unsigned)(c - S.cl));
	if (epoll_ctl(S.epfd, EPOLL_CTL_MOD, c->fd, &e) == -1)
		client_close(c, "epoll");
}

/*
 * One event to one client.  If its socket is full the event is dropped and
 * the client is owed SC_EV_LOST, sent (after everything it dropped) once
 * the socket has room again; nothing else is queued for it meanwhile.
 */
static void
client_event(struct client *c, uint32_t domid, uint32_t session, uint32_t bits)
{
	struct sc_op_hdr h;
	uint8_t pkt[SC_OP_HDR_LEN];
	struct sc_buf b;

	if (c->fd < 0 || c->owes_lost)
		return;
	sc_op_hdr_init(&h, SC_OP_EVENT, domid, session, bits, 0);
	sc_buf_init(&b, pkt, sizeof(pkt));
	if (sc_op_hdr_put(&b, &h) != 0)
		return;
	if (client_send(c, pkt, sizeof(pkt), false) == SC_ERR_AGAIN &&
	    c->fd >= 0) {
		sc_verbose("ops client (uid %ld) not keeping up with events: "
		    "owed a LOST event", (long)c->uid);
		c->owes_lost = true;
		client_watch_out(c, true);
	}
}

/* The client's socket has room: pay the LOST event it is owed. */
static void
client_writable(struct client *c)
{
	if (!c->owes_lost)
		return;
	c->owes_lost = false;
	client_event(c, 0, 0, SC_EV_LOST);
	if (!c->owes_lost && c->fd >= 0)
		client_watch_out(c, false);
}

static void
flush_events(void)
{
	unsigned i, j;

	if (S.ev_overflow) {
		/* Too many distinct events: one LOST says "look at everything". */
		S.nev = 0;
		S.ev_overflow = false;
		for (j = 0; j < MAX_CLIENTS; j++)
			client_event(&S.cl[j], 0, 0, SC_EV_LOST);
	}
	for (i = 0; i < S.nev; i++)
		for (j = 0; j < MAX_CLIENTS; j++)
			client_event(&S.cl[j], S.evq[i].domid, S.evq[i].session,
			    S.evq[i].bits);
	S.nev = 0;
}

/* Watch fd for input (closing it removes it again). */
static int
ep_add(int fd, uint64_t key)
{
	struct epoll_event e;

	memset(&e, 0, sizeof(e));
	e.events = EPOLLIN;
	e.data.u64 = key;
	return epoll_ctl(S.epfd, EPOLL_CTL_ADD, fd, &e);
}

static void
client_accept(void)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int fd, i;

	if ((fd = accept4(S.lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK)) == -1) {
		if (errno != EAGAIN && errno != EINTR)
			sc_warn("accept: %s", strerror(errno));
		return;
	}
	for (i = 0; i < MAX_CLIENTS; i++)
		if (S.cl[i].fd < 0)
			break;
	if (i == MAX_CLIENTS) {
		sc_warn("ops socket: too many clients, refusing one");
		close(fd);
		return;
	}
	if (ep_add(fd, EP_KEY(EP_CLIENT, i)) != 0) {
		sc_warn("ops socket: epoll: %s", strerror(errno));
		close(fd);
		return;
	}
	S.cl[i].fd = fd;
	S.cl[i].uid = (uid_t)-1;
	S.cl[i].owes_lost = false;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0)
		S.cl[i].uid = cred.uid;
	sc_verbose("ops client connected (uid %ld)", (long)S.cl[i].uid);
}

static void
client_request(struct client *c)
{
	size_t rlen;
	ssize_t n;

	n = recv(c->fd, S.req, sizeof(S.req), MSG_DONTWAIT);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		client_close(c, n == 0 ? "end of connection" : strerror(errno));
		return;
	}
	/*
	 * A packet over SC_OP_MAX arrives truncated to SC_OP_MAX + 1 bytes;
	 * the dispatcher refuses it like any other malformed op.
	 */
	if (sc_hv_dispatch(S.hv, S.req, (size_t)n, S.resp, sizeof(S.resp), &rlen) != 0) {
		client_close(c, "internal error");
		return;
	}
	sodium_memzero(S.req, (size_t)n);
	(void)client_send(c, S.resp, rlen, true);
}

/* ---- domains ---- */

static void
guest_gone(struct sim_dom *d, const char *why)
{
	if (d->evfd >= 0) {
		close(d->evfd);
		d->evfd = -1;
	}
	if (sc_hv_domain_set_running(S.hv, d->conf->domid, false) == 0)
		sc_warn("domain %s: guest stopped (%s)", d->conf->name, why);
	hook_dom0(NULL, d->conf->domid, 0, SC_EV_DOMAIN_GONE);
}

static void
guest_event(struct sim_dom *d)
{
	uint8_t drain[256];
	ssize_t n;
	int r;

	while ((n = read(d->evfd, drain, sizeof(drain))) > 0)
		;
	if (n == 0) {
		guest_gone(d, "event channel closed");
		return;
	}
	r = sc_hv_guest_event(S.hv, d->conf->domid);
	if (r == SC_ERR_CORRUPT && !d->corrupt_logged) {
		sc_warn("domain %s: guest corrupted its console ring; domain marked broken",
		    d->conf->name);
		d->corrupt_logged = true;
	} else if (r == 0)
		d->corrupt_logged = false;
}

static int
start_guests(int verbose)
{
	struct hvsim_guest_args ga;
	int sv[2];
	unsigned i, j;
	pid_t pid;

	for (i = 0; i < S.ndom; i++) {
		S.dom[i].page = mmap(NULL, SC_RING_PAGE_SIZE, PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (S.dom[i].page == MAP_FAILED) {
			sc_error("mmap: %s", strerror(errno));
			return SC_ERR_SYSTEM;
		}
		sc_ring_reset(S.dom[i].page);
		S.dom[i].evfd = -1;
	}
	for (i = 0; i < S.ndom; i++) {
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1) {
			sc_error("socketpair: %s", strerror(errno));
			return SC_ERR_SYSTEM;
		}
		if ((pid = fork()) == -1) {
			sc_error("fork: %s", strerror(errno));
			return SC_ERR_SYSTEM;
		}
		if (pid == 0) {
			/* The guest sees its own page and event channel, nothing else. */
			close(sv[0]);
			close(S.sigfd);
			close(S.epfd);
			if (S.ready_fd >= 0)
				close(S.ready_fd);
			for (j = 0; j < S.ndom; j++) {
				if (j == i)
					continue;
				munmap(S.dom[j].page, SC_RING_PAGE_SIZE);
				if (S.dom[j].evfd >= 0)
					close(S.dom[j].evfd);
			}
			memset(&ga, 0, sizeof(ga));
			ga.conf = S.dom[i].conf;
			ga.ring = S.dom[i].page;
			ga.evfd = sv[1];
			ga.verbose = verbose;
			hvsim_guest_main(&ga);
		}
		close(sv[1]);
		S.dom[i].evfd = sv[0];
		S.dom[i].guest = pid;
		if (sc_set_nonblock(sv[0], 1) != 0)
			return SC_ERR_SYSTEM;
	}
	return 0;
}

static void
stop_guests(void)
{
	unsigned i, k;
	int status;

	for (i = 0; i < S.ndom; i++)
		if (S.dom[i].guest > 0)
			(void)kill(S.dom[i].guest, SIGTERM);
	for (k = 0; k < 60; k++) {
		bool any = false;
		for (i = 0; i < S.ndom; i++) {
			if (S.dom[i].guest <= 0)
				continue;
			if (waitpid(S.dom[i].guest, &status, WNOHANG) == S.dom[i].guest)
				S.dom[i].guest = -1;
			else
				any = true;
		}
		if (!any)
			return;
		usleep(50000);
	}
	for (i = 0; i < S.ndom; i++)
		if (S.dom[i].guest > 0) {
			(void)kill(S.dom[i].guest, SIGKILL);
			(void)waitpid(S.dom[i].guest, &status, 0);
		}
}

static void
reap(void)
{
	unsigned i;
	pid_t pid;
	int status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		for (i = 0; i < S.ndom; i++) {
			if (S.dom[i].chk_pid == pid)
				S.dom[i].chk_pid = -1;	/* result: its pipe */
			if (S.dom[i].guest == pid) {
				S.dom[i].guest = -1;
				guest_gone(&S.dom[i], "guest process exited");
			}
		}
}

/* ---- socket ---- */

static int
make_socket(const char *path, mode_t mode)
{
	struct sockaddr_un sa;
	mode_t old;
	int fd, probe;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		sc_error("socket path too long: %s", path);
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	/* A stale socket from a dead hvsim is removed; a live one is not. */
	if ((probe = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)) != -1) {
		if (connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			close(probe);
			sc_error("%s: another hvsim is listening there", path);
			return -1;
		}
		close(probe);
	}
	(void)unlink(path);
	if ((fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) == -1) {
		sc_error("socket: %s", strerror(errno));
		return -1;
	}
	old = umask(0177);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
		umask(old);
		sc_error("bind %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	umask(old);
	if (chmod(path, mode) == -1 || listen(fd, 8) == -1) {
		sc_error("%s: %s", path, strerror(errno));
		close(fd);
		(void)unlink(path);
		return -1;
	}
	S.socket_made = true;
	return fd;
}

/* ---- hv key, TPM ---- */

static int
hv_start(const char *pubkey_file)
{
	struct sc_hv_platform pf;
	uint8_t *sk, pcr_value[32];
	char fp[SC_FINGERPRINT_LEN], hex[65], err[256];
	const uint8_t *pk;
	uint32_t pcr_index = SC_HV_NO_PCR;
	unsigned i, slots = S.ndom ? S.ndom : 1;
	int r;

	S.arena_len = 0;
	for (i = 0; i < S.ndom; i++)
		S.arena_len += S.dom[i].conf->history ? S.dom[i].conf->history :
		    S.conf.history;
	/* One slot per configured domain: hvsim adds none at run time. */
	if ((S.hv = sc_secure_alloc(sc_hv_size(slots, 0))) == NULL ||
	    (S.arena = sc_secure_alloc(S.arena_len ? S.arena_len : 1)) == NULL ||
	    (sk = sc_secure_alloc(SC_KEY_LEN)) == NULL ||
	    (S.chk_key = sc_secure_alloc(CHK_HASH_LEN)) == NULL) {
		sc_error("cannot allocate secure memory");
		return SC_ERR_ALLOC;
	}
	memset(&pf, 0, sizeof(pf));
	pf.check_disk_key = hook_disk;
	pf.notify_guest = hook_guest;
	pf.notify_dom0 = hook_dom0;
	/* A fresh hv key pair at every start. */
	randombytes_buf(sk, SC_KEY_LEN);
	randombytes_buf(S.chk_key, CHK_HASH_LEN);
	if (S.conf.tcti[0] != '\0')
		pcr_index = S.conf.pcr;
	r = sc_hv_init(S.hv, sc_crypto_sodium(), &pf, sk, pcr_index, S.arena,
	    S.arena_len, slots, 0);
	sc_secure_free(sk);
	if (r != 0) {
		sc_error("hv init: %s", sc_err(r));
		return r;
	}
	if (S.conf.owner_ca_set) {
		if ((r = sc_hv_set_owner_ca(S.hv, S.conf.owner_ca)) != 0) {
			sc_error("owner CA: %s", sc_err(r));
			return r;
		}
		sc_hex_encode(S.conf.owner_ca, sizeof(S.conf.owner_ca), hex, sizeof(hex));
		sc_info("PROTECT requires an ownership token of owner CA %s", hex);
	}
	pk = sc_hv_pubkey(S.hv);
	sc_fingerprint(pk, SC_KEY_LEN, fp);
	sc_hex_encode(pk, SC_KEY_LEN, hex, sizeof(hex));
	sc_info("hv public key %s", hex);
	sc_info("hv key fingerprint %s", fp);
	if (S.conf.tcti[0] != '\0') {
		if ((r = hvsim_pcr_extend(S.conf.tcti, S.conf.pcr, pk, pcr_value,
		    err, sizeof(err))) != 0) {
			sc_error("TPM: %s", err);
			return r;
		}
		sc_hex_encode(pcr_value, 32, hex, sizeof(hex));
		sc_info("PCR %u (sha256) extended with SHA-256 of the hv key: now %s",
		    S.conf.pcr, hex);
	} else
		sc_warn("no TPM configured (--tpm-tcti or TSS2_TCTI): the hv key is not measured");
	if (pubkey_file != NULL) {
		char line[80];

		sc_hex_encode(pk, SC_KEY_LEN, hex, sizeof(hex));
		snprintf(line, sizeof(line), "%s\n", hex);
		if ((r = sc_write_file_atomic(pubkey_file, line, strlen(line), 0644)) != 0) {
			sc_error("%s: %s", pubkey_file, sc_err(r));
			return r;
		}
	}
	for (i = 0; i < S.ndom; i++) {
		const struct hvsim_domain_conf *dc = S.dom[i].conf;
		if ((r = sc_hv_domain_add(S.hv, dc->domid, dc->uuid, dc->name,
		    S.dom[i].page, dc->history ? dc->history : S.conf.history)) != 0) {
			sc_error("domain %s: %s", dc->name, sc_err(r));
			return r;
		}
	}
	/* DOMAIN_ADDED before anyone could listen: nothing to tell. */
	S.nev = 0;
	S.ev_overflow = false;
	return 0;
}

static void
shutdown_all(void)
{
	unsigned i;

	for (i = 0; i < MAX_CLIENTS; i++)
		client_close(&S.cl[i], "shutdown");
	if (S.lfd >= 0) {
		close(S.lfd);
		S.lfd = -1;
	}
	if (S.socket_made)
		(void)unlink(S.conf.socket);
	for (i = 0; i < S.ndom; i++) {
		if (S.dom[i].chk_pid > 0) {
			(void)kill(S.dom[i].chk_pid, SIGKILL);
			(void)waitpid(S.dom[i].chk_pid, NULL, 0);
		}
		S.dom[i].chk_pid = -1;
		sodium_memzero(S.dom[i].bad, sizeof(S.dom[i].bad));
	}
	stop_guests();
	if (S.chk_key != NULL) {
		sc_secure_free(S.chk_key);
		S.chk_key = NULL;
	}
	if (S.hv != NULL) {
		sc_hv_wipe(S.hv);
		sc_secure_free(S.hv);
		S.hv = NULL;
	}
	if (S.arena != NULL) {
		sc_secure_free(S.arena);
		S.arena = NULL;
	}
}

/* ---- main loop ---- */

/*
 * One epoll set holds the signalfd, the ops socket, the clients and every
 * guest's event channel, so a wake-up costs the ready fds only, not a scan
 * of all domains (a host with hundreds of domains and busy consoles).
 */
static int
run(void)
{
	struct epoll_event evs[EPOLL_BATCH];
	struct signalfd_siginfo si;
	unsigned i, idx, kind;
	int n, k;

	if (ep_add(S.sigfd, EP_KEY(EP_SIG, 0)) != 0 ||
	    ep_add(S.lfd, EP_KEY(EP_LISTEN, 0)) != 0) {
		sc_error("epoll: %s", strerror(errno));
		return 1;
	}
	for (i = 0; i < S.ndom; i++)
		if (S.dom[i].evfd >= 0 &&
		    ep_add(S.dom[i].evfd, EP_KEY(EP_DOM, i)) != 0) {
			sc_error("epoll: %s", strerror(errno));
			return 1;
		}
	for (;;) {
		if ((n = epoll_wait(S.epfd, evs, EPOLL_BATCH, -1)) == -1) {
			if (errno == EINTR)
				continue;
			sc_error("epoll_wait: %s", strerror(errno));
			return 1;
		}
		for (k = 0; k < n; k++) {
			uint32_t re = evs[k].events;

			kind = (unsigned)(evs[k].data.u64 >> 32);
			idx = (unsigned)evs[k].data.u64;
			switch (kind) {
			case EP_SIG:
				while (read(S.sigfd, &si, sizeof(si)) == sizeof(si)) {
					if (si.ssi_signo == SIGCHLD)
						reap();
					else if (si.ssi_signo == SIGTERM ||
					    si.ssi_signo == SIGINT) {
						sc_info("signal %u: shutting down",
						    si.ssi_signo);
						return 0;
					}
				}
				break;
			case EP_LISTEN:
				client_accept();
				break;
			case EP_CLIENT: {
				struct client *c = &S.cl[idx];
				if (idx >= MAX_CLIENTS || c->fd < 0)
					break;
				if (re & EPOLLIN)
					client_request(c);
				else if (re & (EPOLLHUP | EPOLLERR))
					client_close(c, "hangup");
				if (c->fd >= 0 && (re & EPOLLOUT))
					client_writable(c);
				break;
			}
			case EP_CHK: {
				struct sim_dom *d = &S.dom[idx];
				if (idx < S.ndom && d->chk_fd >= 0)
					chk_finished(d);
				break;
			}
			case EP_DOM: {
				struct sim_dom *d = &S.dom[idx];
				if (idx >= S.ndom || d->evfd < 0)
					break;
				if (re & EPOLLIN)
					guest_event(d);
				else if (re & (EPOLLHUP | EPOLLERR))
					guest_gone(d, "event channel closed");
				break;
			}
			default:
				break;
			}
		}
		flush_events();
	}
}

int
main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "config", required_argument, NULL, 'f' },
		{ "socket", required_argument, NULL, 'S' },
		{ "tpm-tcti", required_argument, NULL, 'T' },
		{ "pcr", required_argument, NULL, 'P' },
		{ "pubkey-file", required_argument, NULL, 'K' },
		{ "foreground", no_argument, NULL, 'F' },
		{ "test", no_argument, NULL, 't' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *cfg = DEFAULT_CONF, *sock = NULL, *tcti = NULL, *pkfile = NULL;
	char err[512];
	int c, verbose = 0, foreground = 0, test_only = 0, ready[2] = { -1, -1 }, rc;
	long pcr = -1;
	unsigned long pcr_arg;
	sigset_t set;
	unsigned i;
	pid_t pid;

	while ((c = getopt_long(argc, argv, "f:S:vhVFt", lopts, NULL)) != -1) {
		switch (c) {
		case 'f': cfg = optarg; break;
		case 'S': sock = optarg; break;
		case 'T': tcti = optarg; break;
		case 'K': pkfile = optarg; break;
		case 'F': foreground = 1; break;
		case 't': test_only = 1; break;
		case 'v': verbose++; break;
		case 'P':
			if (sc_parse_ulong(optarg, 10, 0, 23, &pcr_arg) != 0) {
				fprintf(stderr, "sccrypt-hvsim: --pcr: 0..23 expected\n");
				return SC_EXIT_USAGE;
			}
			pcr = (long)pcr_arg;
			if (pcr == 16 || pcr == 23) {
				fprintf(stderr, "sccrypt-hvsim: --pcr %ld can be reset from "
				    "any locality; use 15 (the default)\n", pcr);
				return SC_EXIT_USAGE;
			}
			break;
		case 'h': usage(stdout); return 0;
		case 'V': sc_print_version("sccrypt-hvsim"); return 0;
		default: usage(stderr); return SC_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return SC_EXIT_USAGE;
	}
	sc_log_init("sccrypt-hvsim", SC_LOG_INFO + verbose,
	    foreground || test_only ? SC_LOG_TO_STDERR : SC_LOG_TO_SYSLOG);
	if (sc_lib_init() != 0)
		sc_die(1, "libsodium initialisation failed");
	if (sc_disable_core_dumps() != 0)
		sc_die(1, "cannot disable core dumps: %s", strerror(errno));

	hvsim_conf_defaults(&S.conf);
	if ((rc = hvsim_conf_load(&S.conf, cfg, err, sizeof(err))) != 0)
		sc_die(1, "%s", err);
	if (sock != NULL) {
		if (strlen(sock) >= sizeof(S.conf.socket))
			sc_die(SC_EXIT_USAGE, "socket path too long");
		strcpy(S.conf.socket, sock);
	}
	if (S.conf.socket[0] == '\0')
		strcpy(S.conf.socket, DEFAULT_SOCKET);
	if (tcti == NULL && S.conf.tcti[0] == '\0')
		tcti = getenv("TSS2_TCTI");
	if (tcti != NULL && tcti[0] != '\0') {
		if (strlen(tcti) >= sizeof(S.conf.tcti))
			sc_die(SC_EXIT_USAGE, "TCTI too long");
		strcpy(S.conf.tcti, tcti);
	}
	if (pcr >= 0)
		S.conf.pcr = (unsigned)pcr;
	if (S.conf.ndomains == 0)
		sc_warn("%s: no [domain] sections", cfg);
	/* A console user must exist, and switching to it needs root. */
	for (i = 0; i < S.conf.ndomains; i++) {
		const struct hvsim_domain_conf *dc = &S.conf.dom[i];
		struct passwd *pw;

		if (dc->user[0] == '\0')
			continue;
		if ((pw = getpwnam(dc->user)) == NULL)
			sc_die(1, "domain %s: user %s: no such user", dc->name,
			    dc->user);
		if (pw->pw_uid != geteuid() && geteuid() != 0)
			sc_die(1, "domain %s: user %s: running the console as "
			    "another user needs root", dc->name, dc->user);
	}
	if (test_only) {
		if (root_guests(&S.conf, true) > 0)
			return 1;
		printf("%s: configuration OK (%u domain(s))\n", cfg, S.conf.ndomains);
		return 0;
	}
	(void)root_guests(&S.conf, false);

	/* Daemon: the parent waits until we are ready (or failed). */
	if (!foreground) {
		if (pipe2(ready, O_CLOEXEC) == -1 || (pid = fork()) == -1)
			sc_die(1, "fork: %s", strerror(errno));
		if (pid > 0) {
			char st = 0;
			close(ready[1]);
			if (read(ready[0], &st, 1) != 1 || st != 'R') {
				fprintf(stderr, "sccrypt-hvsim: failed to start (see syslog)\n");
				return 1;
			}
			return 0;
		}
		close(ready[0]);
		if (setsid() == -1 || chdir("/") == -1)
			sc_die(1, "daemonize: %s", strerror(errno));
		if ((c = open("/dev/null", O_RDWR)) != -1) {
			(void)dup2(c, 0);
			(void)dup2(c, 1);
			(void)dup2(c, 2);
			if (c > 2)
				close(c);
		}
	}

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	if ((S.sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK)) == -1)
		sc_die(1, "signalfd: %s", strerror(errno));
	S.lfd = -1;
	S.ready_fd = ready[1];
	if ((S.epfd = epoll_create1(EPOLL_CLOEXEC)) == -1)
		sc_die(1, "epoll_create1: %s", strerror(errno));
	for (i = 0; i < MAX_CLIENTS; i++)
		S.cl[i].fd = -1;
	S.ndom = S.conf.ndomains;
	for (i = 0; i < S.ndom; i++) {
		S.dom[i].conf = &S.conf.dom[i];
		S.dom[i].chk_fd = -1;
		S.dom[i].chk_pid = -1;
	}

	/* Guests first: they must never share an address space with the key. */
	rc = 1;
	if (start_guests(verbose) != 0)
		goto out;
	if (hv_start(pkfile) != 0)
		goto out;
	if ((S.lfd = make_socket(S.conf.socket, S.conf.socket_mode)) == -1)
		goto out;
	sc_info("serving %u domain(s) on %s", S.ndom, S.conf.socket);
	for (i = 0; i < S.ndom; i++) {
		char u[37];
		sc_uuid_format(S.dom[i].conf->uuid, u);
		sc_info("domain %s: domid %u uuid %s%s", S.dom[i].conf->name,
		    S.dom[i].conf->domid, u, S.dom[i].conf->disk[0] ? "" :
		    " (no disk: cannot be protected)");
	}
	if (ready[1] != -1) {
		if (write(ready[1], "R", 1) != 1)
			sc_warn("cannot signal readiness: %s", strerror(errno));
		close(ready[1]);
		ready[1] = -1;
		S.ready_fd = -1;
	}
	rc = run();
out:
	shutdown_all();
	if (ready[1] != -1)
		close(ready[1]);
	return rc;
}
