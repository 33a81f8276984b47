/*
 * daemon.c — the event loop of sccrypt-consoled (one thread, epoll).
 *
 * Owns every file descriptor: the listening socket, the backend's
 * descriptors and the client sockets; the relay core (relay.c) owns the
 * bytes.  Signals are blocked except inside epoll_pwait, so SIGHUP (reload)
 * and SIGTERM (stop) are never lost between a check and the wait.
 *
 * A wake-up costs O(clients with something to do): the epoll set keeps each
 * client's wanted events, changed only for the clients the core lists as
 * changed (sc_cd_next_changed()); the core keeps its own ready list and
 * timer heap; the clock is read once per iteration (sc_cd_set_time()).
 * Output is written as soon as it is queued; EPOLLOUT is asked for only
 * when the socket did not take it all.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/err.h"
#include "log.h"
#include "io.h"
#include "secmem.h"
#include "consoled.h"
#include "daemon.h"
#include "pidfile.h"

#define EP_BATCH	256
#define DENIED_EXIT	3	/* reconnects refused for permission in a row */

static volatile sig_atomic_t sig_stop, sig_hup;

/* epoll tags for the descriptors that are not clients */
static char tag_listen, tag_backend;

static void
on_signal(int sig)
{
	if (sig == SIGHUP)
		sig_hup = 1;
	else
		sig_stop = sig;
}

const struct sc_backend_ops *
sc_daemon_backend_ops(const struct sc_conf *conf)
{
	switch (conf->backend) {
	case SC_BACKEND_SIM:
		return &sc_backend_sim_ops;
	case SC_BACKEND_XEN:
#ifdef SC_WITH_XEN_BACKEND
		return &sc_backend_xen_ops;
#else
		return NULL;
#endif
	}
	return NULL;
}

static int
listen_socket(const struct sc_conf *conf)
{
	struct sockaddr_un sun;
	struct stat st;
	struct group *gr;
	size_t pl = strlen(conf->listen);
	int fd;

	if (pl == 0 || pl >= sizeof(sun.sun_path)) {
		sc_error("listen path too long for a unix socket");
		return SC_ERR_TOOLONG;
	}
	/* Remove a stale socket (never a live one, nor anything else). */
	if (lstat(conf->listen, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			sc_error("%s exists and is not a socket", conf->listen);
			return SC_ERR_INVAL;
		}
		if (sc_unix_socket_live(conf->listen, SOCK_STREAM)) {
			sc_error("%s is in use: another sccrypt-consoled is "
			    "listening there", conf->listen);
			return SC_ERR_BUSY;
		}
		(void)unlink(conf->listen);
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, conf->listen, pl);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
		return SC_ERR_SYSTEM;
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
	    chmod(conf->listen, (mode_t)conf->listen_mode) < 0 ||
	    listen(fd, 128) < 0) {
		sc_error("cannot listen on %s: %s", conf->listen, strerror(errno));
		close(fd);
		return SC_ERR_SYSTEM;
	}
	if (conf->listen_group[0] != '\0') {
		if ((gr = getgrnam(conf->listen_group)) == NULL ||
		    chown(conf->listen, (uid_t)-1, gr->gr_gid) < 0) {
			sc_error("cannot give %s to group %s", conf->listen,
			    conf->listen_group);
			close(fd);
			return SC_ERR_SYSTEM;
		}
	}
	return fd;
}

static void
accept_clients(struct sc_cd *cd, int lfd)
{
	struct ucred cred;
	socklen_t cl;
	int fd, n;
	static const char busy[] = "ERR busy too many clients\n";

	for (n = 0; n < 32; n++) {
		fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
			    errno != ECONNABORTED)
				sc_warn("accept: %s", strerror(errno));
			return;
		}
		cl = sizeof(cred);
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) < 0 ||
		    cl != sizeof(cred)) {
			sc_warn("SO_PEERCRED: %s", strerror(errno));
			close(fd);
			continue;
		}
		if (sc_cd_admit(cd, cred.uid) < 0) {
			(void)!write(fd, busy, sizeof(busy) - 1);
			close(fd);
			sc_warn("client limit (%u, %u per user) reached; refused uid %u",
			    cd->conf->max_clients, cd->conf->max_clients_per_user,
			    (unsigned)cred.uid);
			continue;
		}
		if (sc_cd_client_new(cd, fd, cred.uid, cred.pid) == NULL) {
			close(fd);
			sc_warn("out of memory for a new client");
			continue;
		}
		sc_debug("client from uid %u pid %d", (unsigned)cred.uid, (int)cred.pid);
	}
}

/* Write what c has queued; errors other than "full" end the client. */
static void
client_write(struct sc_cd *cd, struct sc_cd_client *c)
{
	ssize_t r;

	if (sc_buf_avail(&c->out) == 0)
		return;
	r = send(c->fd, sc_buf_rptr(&c->out), sc_buf_avail(&c->out),
	    MSG_NOSIGNAL | MSG_DONTWAIT);
	if (r > 0) {
		sc_cd_client_wrote(cd, c, (size_t)r);
	} else if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
	    errno != EINTR && !sc_cd_client_write_failed(cd, c)) {
		c->dead = true;		/* client gone: free() closes the session */
		sc_cd_client_changed(cd, c);
	}
}

static void
client_io(struct sc_cd *cd, struct sc_cd_client *c, uint32_t revents)
{
	/* One read buffer for all clients: the core keeps only what it must. */
	static uint8_t rdbuf[SC_CD_IN_MAX];
	size_t budget;
	ssize_t r;

	if (revents & (EPOLLHUP | EPOLLERR)) {
		c->ep_hup = true;
		sc_cd_client_changed(cd, c);
	}
	if (revents & EPOLLOUT) {
		client_write(cd, c);
		if (c->dead)
			return;
	}
	if (revents & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
		budget = sc_cd_client_read_budget(cd, c);
		if (budget == 0) {
			/* What it wrote before hanging up is read later. */
			if ((revents & (EPOLLHUP | EPOLLERR)) && !c->rd_eof)
				sc_cd_client_hup(cd, c);
			return;
		}
		r = recv(c->fd, rdbuf, SC_MIN(budget, sizeof(rdbuf)), MSG_DONTWAIT);
		if (r > 0) {
			sc_cd_client_input(cd, c, rdbuf, (size_t)r);
		} else if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK &&
		    errno != EINTR)) {
			sc_cd_client_eof(cd, c);
		}
	}
}

/*
 * Bring the epoll set up to date for every client the core changed: free
 * the dead, write queued output at once, and register the events each
 * client wants (EPOLLIN while it has a read budget, EPOLLOUT while output
 * is left).  A client that hung up and wants nothing leaves the set, or
 * level-triggered EPOLLHUP would wake the loop forever.
 */
static void
sync_clients(struct sc_cd *cd, int epfd)
{
	struct sc_cd_client *c;
	struct epoll_event ev;
	uint32_t want;

	while ((c = sc_cd_next_changed(cd)) != NULL) {
		if (!c->dead && !(c->ep_events & EPOLLOUT))
			client_write(cd, c);	/* may list c again: fine */
		if (c->dead) {
			if (c->ep_in_set)
				(void)epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
			close(c->fd);
			sc_cd_client_free(cd, c);
			continue;
		}
		want = 0;
		if (sc_cd_client_read_budget(cd, c) > 0)
			want |= EPOLLIN;
		if (sc_buf_avail(&c->out) > 0)
			want |= EPOLLOUT;
		memset(&ev, 0, sizeof(ev));
		ev.events = want;
		ev.data.ptr = c;
		if (!c->ep_in_set) {
			if (want == 0 && c->ep_hup)
				continue;
			if (epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev) < 0) {
				sc_warn("epoll: %s; dropping client", strerror(errno));
				c->dead = true;
				sc_cd_client_changed(cd, c);
				continue;
			}
			c->ep_in_set = true;
		} else if (want == 0 && c->ep_hup) {
			(void)epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
			c->ep_in_set = false;
		} else if (want != c->ep_events) {
			(void)epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
		}
		c->ep_events = want;
	}
}

/* Shutdown: close and free every client marked dead. */
static void
reap(struct sc_cd *cd)
{
	struct sc_cd_client *c, *next;

	for (c = cd->clients; c != NULL; c = next) {
		next = c->next;
		if (!c->dead)
			continue;
		close(c->fd);
		sc_cd_client_free(cd, c);
	}
}

static void
reload(struct sc_conf *conf, const struct sc_daemon_opts *o)
{
	struct sc_conf *n;
	const char *why;
	unsigned line;

	if (o->conf_path == NULL || (n = malloc(sizeof(*n))) == NULL)
		return;
	sc_conf_defaults(n);
	if (sc_conf_load(n, o->conf_path, &line, &why) < 0) {
		sc_error("reload: %s line %u: %s; keeping the old configuration",
		    o->conf_path, line, why);
		free(n);
		return;
	}
	if (strcmp(n->listen, conf->listen) != 0 || n->backend != conf->backend ||
	    strcmp(n->hv_socket, conf->hv_socket) != 0 ||
	    strcmp(n->user, conf->user) != 0)
		sc_warn("reload: listen, backend, hv_socket and user need a restart");
	if (sc_conf_resolve_users(n) > 0) {
		sc_error("reload: %s: an allow rule names a user that does not "
		    "exist; keeping the old configuration", o->conf_path);
		free(n);
		return;
	}
	/* Policy, limits, timeouts, paths of the certificate and the log. */
	memcpy(n->listen, conf->listen, sizeof(n->listen));
	memcpy(n->hv_socket, conf->hv_socket, sizeof(n->hv_socket));
	n->backend = conf->backend;
	memcpy(n->pid_file, conf->pid_file, sizeof(n->pid_file));
	memcpy(n->user, conf->user, sizeof(n->user));
	if (o->log_level >= 0)
		n->log_level = o->log_level;
	memcpy(conf, n, sizeof(*conf));
	free(n);
	sc_log_set_level(conf->log_level);
	sc_info("configuration reloaded (%zu allow rules)", conf->nrules);
}

/*
 * Become conf->user for good, once the listening socket, the pid file and
 * (if it was reachable) the hypervisor connection are open: that user's
 * supplementary groups, its primary group, then its uid as real, effective
 * and saved ids.  Verified afterwards: every id is the target's and neither
 * uid 0 nor gid 0 can be regained.  Open descriptors stay usable.  Started
 * as the target user already, nothing is to be done.
 */
static int
drop_privileges(const char *user)
{
	struct passwd *pw;
	char name[SC_CONF_USER_MAX + 1];
	uid_t uid, ru, eu, su;
	gid_t gid, rg, eg, sg;

	errno = 0;
	if ((pw = getpwnam(user)) == NULL) {
		sc_error("user %s: %s", user,
		    errno != 0 ? strerror(errno) : "no such user");
		return SC_ERR_NOTFOUND;
	}
	uid = pw->pw_uid;
	gid = pw->pw_gid;
	snprintf(name, sizeof(name), "%s", pw->pw_name);
	if (uid == 0) {
		sc_error("user %s is root: nothing would be dropped", user);
		return SC_ERR_INVAL;
	}
	if (geteuid() != 0) {
		if (getuid() == uid && geteuid() == uid)
			return 0;
		sc_error("only root can become user %s", user);
		return SC_ERR_PERM;
	}
	if (initgroups(name, gid) < 0 || setresgid(gid, gid, gid) < 0 ||
	    setresuid(uid, uid, uid) < 0) {
		sc_error("cannot become user %s: %s", user, strerror(errno));
		return SC_ERR_SYSTEM;
	}
	if (getresuid(&ru, &eu, &su) < 0 || getresgid(&rg, &eg, &sg) < 0 ||
	    ru != uid || eu != uid || su != uid || rg != gid || eg != gid ||
	    sg != gid || setuid(0) != -1 || seteuid(0) != -1 ||
	    (gid != 0 && (setgid(0) != -1 || setegid(0) != -1))) {
		sc_error("privileges not dropped completely");
		return SC_ERR_SYSTEM;
	}
	/* Changing credentials reset "dumpable" to the sysctl's choice. */
	if (sc_disable_core_dumps() < 0)
		sc_warn("cannot disable core dumps: %s", strerror(errno));
	sc_info("running as user %s (uid %u, gid %u)", name, (unsigned)uid,
	    (unsigned)gid);
	return 0;
}

/* After the drop: what the unprivileged user will need, checked once. */
static void
check_access_after_drop(const struct sc_conf *conf, const struct sc_daemon_opts *o)
{
	if (conf->log_dir[0] != '\0' && access(conf->log_dir, W_OK | X_OK) < 0)
		sc_warn("log_dir %s is not writable by user %s: no ciphertext log",
		    conf->log_dir, conf->user);
	if (conf->certificate[0] != '\0' && access(conf->certificate, R_OK) < 0 &&
	    errno != ENOENT)
		sc_warn("certificate %s is not readable by user %s",
		    conf->certificate, conf->user);
	if (o->conf_path != NULL && access(o->conf_path, R_OK) < 0)
		sc_warn("%s is not readable by user %s: SIGHUP cannot reload it",
		    o->conf_path, conf->user);
}

/*
 * A reconnect failed: is it because the unprivileged user may not open the
 * hypervisor interface (rather than "not there yet")?
 */
static bool
reconnect_denied(const struct sc_conf *conf)
{
	const char *path = conf->backend == SC_BACKEND_XEN ? "/dev/xen/privcmd" :
	    conf->hv_socket;

	return access(path, R_OK | W_OK) < 0 && (errno == EACCES || errno == EPERM);
}

/* Connect to the hypervisor; on failure *warned says whether we said so. */
static void
backend_connect(struct sc_cd *cd, struct sc_backend *bk, struct sc_conf *conf,
    bool *warned)
{
	int r;

	r = bk->ops->open(bk, conf);
	if (r == 0) {
		*warned = false;
		if ((r = sc_cd_backend_up(cd)) < 0) {
			sc_cd_backend_down(cd, r);
			if (cd->bk_up) {
				cd->bk_up = false;
				bk->ops->close(bk);
			}
		}
	} else if (!*warned) {
		sc_warn("hypervisor not reachable (%s); retrying", sc_err(r));
		*warned = true;
	}
}

static int
ep_add(int epfd, int fd, void *tag)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = tag;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0 &&
	    (errno != EEXIST || epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev) < 0))
		return SC_ERR_SYSTEM;
	return 0;
}

int
sc_daemon_run(struct sc_conf *conf, const struct sc_daemon_opts *o)
{
	static struct sc_cd cd;
	static struct epoll_event evs[EP_BATCH];
	struct sc_backend *bk;
	struct sigaction sa;
	sigset_t block, orig;
	unsigned long long retry_at = 0, t;
	size_t nbk = 0, i;
	int lfd, epfd, r, n, timeout, bkfds[SC_BK_FDS_MAX], status = 0;
	unsigned denied = 0;
	bool warned = false, bk_reg = false, listen_ready, dropped = false;

	if ((bk = calloc(1, sizeof(*bk))) == NULL)
		return 1;
	if ((bk->ops = sc_daemon_backend_ops(conf)) == NULL) {
		sc_error("backend %s is not built in",
		    conf->backend == SC_BACKEND_XEN ? "xen" : "?");
		free(bk);
		return 78;
	}
	if (sc_cd_init(&cd, conf, bk) < 0) {
		free(bk);
		return 1;
	}
	if ((lfd = listen_socket(conf)) < 0) {
		sc_cd_free(&cd);
		free(bk);
		return 1;
	}
	if ((epfd = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
	    ep_add(epfd, lfd, &tag_listen) < 0) {
		sc_error("epoll: %s", strerror(errno));
		if (epfd >= 0)
			close(epfd);
		close(lfd);
		sc_cd_free(&cd);
		free(bk);
		return 1;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGTERM, &sa, NULL);
	(void)sigaction(SIGINT, &sa, NULL);
	(void)sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, &orig);

	sc_info("listening on %s (%s backend)", conf->listen, bk->ops->name);
	t = sc_now_ms();
	sc_cd_set_time(&cd, t);
	if (conf->user[0] != '\0') {
		/*
		 * Everything that needs root is open now: the listening
		 * socket, the pid file (main), and the hypervisor interface
		 * if it is up (the hv socket, or privcmd/evtchn/xenstore).
		 * Reconnects later happen as the user (sccrypt.conf(5)).
		 */
		backend_connect(&cd, bk, conf, &warned);
		if (!cd.bk_up)
			retry_at = t + 1000;
		if (drop_privileges(conf->user) < 0) {
			status = 1;
			goto out;
		}
		dropped = geteuid() != 0;
		check_access_after_drop(conf, o);
	}
	while (!sig_stop) {
		if (sig_hup) {
			sig_hup = 0;
			reload(conf, o);
			/* Revoked users lose their open consoles too. */
			(void)sc_cd_policy_changed(&cd);
		}
		if (!cd.bk_up && t >= retry_at) {
			backend_connect(&cd, bk, conf, &warned);
			if (!cd.bk_up)
				retry_at = t + 1000;
			/*
			 * Without root the hypervisor interface may be closed to
			 * us for good: exit, so that the service manager
			 * restarts consoled as root (Restart=on-failure).
			 */
			if (!cd.bk_up && dropped && reconnect_denied(conf)) {
				if (++denied >= DENIED_EXIT) {
					sc_error("user %s may not open %s: cannot "
					    "reconnect to the hypervisor without root; "
					    "exiting (see user in sccrypt.conf(5))",
					    conf->user, conf->backend == SC_BACKEND_XEN ?
					    "/dev/xen/privcmd" : conf->hv_socket);
					status = 75;
					break;
				}
			} else {
				denied = 0;
			}
		}
		/*
		 * The backend's descriptors: registered once per connection;
		 * closing them (backend down) took them out of the set.
		 */
		if (!cd.bk_up)
			bk_reg = false;
		else if (!bk_reg) {
			nbk = bk->ops->pollfds(bk, bkfds, SC_BK_FDS_MAX);
			for (i = 0; i < nbk; i++) {
				if (ep_add(epfd, bkfds[i], &tag_backend) < 0) {
					sc_error("epoll: %s", strerror(errno));
					status = 1;
					goto out;
				}
			}
			bk_reg = true;
			/* What arrived with the replies of GET_INFO/LIST_DOMAINS. */
			sc_cd_events(&cd);
			sc_cd_service(&cd);
		}

		sync_clients(&cd, epfd);
		timeout = sc_cd_tick(&cd);
		sync_clients(&cd, epfd);
		if (sc_cd_has_work(&cd))
			timeout = 0;
		if (!cd.bk_up && retry_at > t && retry_at - t < (unsigned long long)timeout)
			timeout = (int)(retry_at - t);
		n = epoll_pwait(epfd, evs, EP_BATCH, timeout, &orig);
		t = sc_now_ms();
		sc_cd_set_time(&cd, t);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			sc_error("epoll_wait: %s", strerror(errno));
			status = 1;
			break;
		}
		/* The hypervisor first, then new clients, then client I/O. */
		listen_ready = false;
		for (i = 0; i < (size_t)n; i++) {
			if (evs[i].data.ptr == &tag_listen)
				listen_ready = true;
			else if (evs[i].data.ptr == &tag_backend && cd.bk_up &&
			    (r = bk->ops->dispatch(bk)) < 0)
				sc_cd_backend_down(&cd, r);
		}
		if (cd.bk_up)
			sc_cd_events(&cd);
		if (listen_ready)
			accept_clients(&cd, lfd);
		for (i = 0; i < (size_t)n; i++) {
			struct sc_cd_client *c = evs[i].data.ptr;

			if (c == (void *)&tag_listen || c == (void *)&tag_backend)
				continue;
			if (!c->dead)
				client_io(&cd, c, evs[i].events);
		}
		if (cd.bk_up) {
			sc_cd_events(&cd);
			sc_cd_service(&cd);
			sc_cd_events(&cd);
		}
		/* Dead clients are freed here, after the last use of evs[]. */
		sync_clients(&cd, epfd);
	}
out:
	if (sig_stop)
		sc_info("stopping on signal %d", (int)sig_stop);
	for (struct sc_cd_client *c = cd.clients; c != NULL; c = c->next)
		c->dead = true;
	reap(&cd);
	if (cd.bk_up)
		bk->ops->close(bk);
	close(epfd);
	close(lfd);
	(void)unlink(conf->listen);
	sc_cd_free(&cd);
	free(bk);
	sigprocmask(SIG_SETMASK, &orig, NULL);
	return status;
}
