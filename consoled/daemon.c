/*
 * daemon.c — the event loop of sccrypt-consoled (one thread, ppoll).
 *
 * Owns every file descriptor: the listening socket, the backend's
 * descriptors and the client sockets; the relay core (relay.c) owns the
 * bytes.  Signals are blocked except inside ppoll, so SIGHUP (reload) and
 * SIGTERM (stop) are never lost between a check and the wait.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/err.h"
#include "log.h"
#include "io.h"
#include "consoled.h"
#include "daemon.h"

static volatile sig_atomic_t sig_stop, sig_hup;

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
	/* Remove a stale socket (never anything else). */
	if (lstat(conf->listen, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			sc_error("%s exists and is not a socket", conf->listen);
			return SC_ERR_INVAL;
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
		if (cd->nclients >= cd->conf->max_clients) {
			(void)!write(fd, busy, sizeof(busy) - 1);
			close(fd);
			sc_warn("client limit (%u) reached; refused uid %u",
			    cd->conf->max_clients, (unsigned)cred.uid);
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

static void
client_io(struct sc_cd *cd, struct sc_cd_client *c, short revents)
{
	size_t budget;
	ssize_t r;

	if (revents & POLLOUT && sc_buf_avail(&c->out) > 0) {
		r = send(c->fd, sc_buf_rptr(&c->out), sc_buf_avail(&c->out),
		    MSG_NOSIGNAL | MSG_DONTWAIT);
		if (r > 0) {
			sc_cd_client_wrote(cd, c, (size_t)r);
		} else if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
		    errno != EINTR) {
			c->dead = true;		/* client gone: free() closes the session */
			return;
		}
	}
	if (revents & (POLLIN | POLLHUP | POLLERR)) {
		budget = sc_cd_client_read_budget(cd, c);
		if (budget == 0) {
			if ((revents & (POLLHUP | POLLERR)) && !(revents & POLLIN))
				sc_cd_client_eof(cd, c);
			return;
		}
		r = recv(c->fd, c->in + c->in_len, budget, MSG_DONTWAIT);
		if (r > 0) {
			c->in_len += (size_t)r;
			sc_cd_client_input(cd, c, (size_t)r);
		} else if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK &&
		    errno != EINTR)) {
			sc_cd_client_eof(cd, c);
		}
	}
}

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
	    strcmp(n->hv_socket, conf->hv_socket) != 0)
		sc_warn("reload: listen, backend and hv_socket need a restart");
	(void)sc_conf_resolve_users(n);
	/* Policy, limits, timeouts, paths of the certificate and the log. */
	memcpy(n->listen, conf->listen, sizeof(n->listen));
	memcpy(n->hv_socket, conf->hv_socket, sizeof(n->hv_socket));
	n->backend = conf->backend;
	memcpy(n->pid_file, conf->pid_file, sizeof(n->pid_file));
	if (o->log_level >= 0)
		n->log_level = o->log_level;
	memcpy(conf, n, sizeof(*conf));
	free(n);
	sc_log_set_level(conf->log_level);
	sc_info("configuration reloaded (%zu allow rules)", conf->nrules);
}

int
sc_daemon_run(struct sc_conf *conf, const struct sc_daemon_opts *o)
{
	static struct sc_cd cd;
	struct sc_backend *bk;
	struct pollfd *pfd = NULL;
	struct sc_cd_client **pc = NULL;
	struct sigaction sa;
	sigset_t block, orig;
	struct timespec ts;
	unsigned long long retry_at = 0, t;
	size_t cap = 0, n, nbk, i;
	int lfd, r, timeout, bkfds[SC_BK_FDS_MAX], status = 0;
	bool warned = false;

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
	while (!sig_stop) {
		if (sig_hup) {
			sig_hup = 0;
			reload(conf, o);
		}
		t = sc_now_ms();
		if (!cd.bk_up && t >= retry_at) {
			r = bk->ops->open(bk, conf);
			if (r == 0) {
				warned = false;
				if ((r = sc_cd_backend_up(&cd)) < 0) {
					sc_cd_backend_down(&cd, r);
					if (cd.bk_up) {
						cd.bk_up = false;
						bk->ops->close(bk);
					}
				}
			} else if (!warned) {
				sc_warn("hypervisor not reachable (%s); retrying",
				    sc_err(r));
				warned = true;
			}
			if (!cd.bk_up)
				retry_at = t + 1000;
		}

		n = 1 + SC_BK_FDS_MAX + cd.nclients;
		if (n > cap) {
			cap = n + 64;
			free(pfd);
			free(pc);
			pfd = calloc(cap, sizeof(*pfd));
			pc = calloc(cap, sizeof(*pc));
			if (pfd == NULL || pc == NULL) {
				sc_error("out of memory");
				status = 1;
				break;
			}
		}
		n = 0;
		pfd[n].fd = lfd;
		pfd[n++].events = POLLIN;
		nbk = cd.bk_up ? bk->ops->pollfds(bk, bkfds, SC_BK_FDS_MAX) : 0;
		for (i = 0; i < nbk; i++) {
			pfd[n].fd = bkfds[i];
			pfd[n++].events = POLLIN;
		}
		for (struct sc_cd_client *c = cd.clients; c != NULL; c = c->next) {
			short ev = 0;

			if (c->dead)
				continue;
			if (sc_cd_client_read_budget(&cd, c) > 0)
				ev |= POLLIN;
			if (sc_buf_avail(&c->out) > 0)
				ev |= POLLOUT;
			pc[n] = c;
			pfd[n].fd = c->fd;
			pfd[n++].events = ev;
		}
		timeout = sc_cd_tick(&cd);
		if (!cd.bk_up) {
			t = sc_now_ms();
			if (retry_at > t && (int)(retry_at - t) < timeout)
				timeout = (int)(retry_at - t);
		}
		ts.tv_sec = timeout / 1000;
		ts.tv_nsec = (long)(timeout % 1000) * 1000000L;
		r = ppoll(pfd, n, &ts, &orig);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			sc_error("poll: %s", strerror(errno));
			status = 1;
			break;
		}
		for (i = 1; i < 1 + nbk && cd.bk_up; i++) {
			if (pfd[i].revents == 0)
				continue;
			if ((r = bk->ops->dispatch(bk)) < 0)
				sc_cd_backend_down(&cd, r);
		}
		if (cd.bk_up)
			sc_cd_events(&cd);
		if (pfd[0].revents & POLLIN)
			accept_clients(&cd, lfd);
		for (i = 1 + nbk; i < n; i++)
			if (pfd[i].revents != 0 && !pc[i]->dead)
				client_io(&cd, pc[i], pfd[i].revents);
		if (cd.bk_up) {
			sc_cd_events(&cd);
			sc_cd_service(&cd);
			sc_cd_events(&cd);
		}
		(void)sc_cd_tick(&cd);
		reap(&cd);
	}
	if (sig_stop)
		sc_info("stopping on signal %d", (int)sig_stop);
	for (struct sc_cd_client *c = cd.clients; c != NULL; c = c->next)
		c->dead = true;
	reap(&cd);
	if (cd.bk_up)
		bk->ops->close(bk);
	close(lfd);
	(void)unlink(conf->listen);
	sc_cd_free(&cd);
	free(bk);
	free(pfd);
	free(pc);
	sigprocmask(SIG_SETMASK, &orig, NULL);
	return status;
}
