/*
 * transport.c — pipe, stdio and pty (wrap) transports (see transport.h).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#ifdef HAVE_PTY_H
#include <pty.h>
#endif
#ifdef HAVE_UTIL_H
#include <util.h>
#endif

#include "core/err.h"
#include "transport.h"
#include "io.h"

static void
transport_reset(struct transport *t, enum transport_kind kind)
{
	memset(t, 0, sizeof(*t));
	t->kind = kind;
	t->rfd = t->wfd = t->efd = t->cfd = -1;
	t->pid = -1;
}

/* Restore default signal dispositions in a child before exec. */
static void
child_signals(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGWINCH,
	    SIGCHLD, SIGPIPE, SIGTSTP, SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT };
	sigset_t none;
	size_t i;

	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		signal(sigs[i], SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

int
transport_pipe_start(struct transport *t, char *const argv[])
{
	int in[2], out[2], err[2];
	pid_t pid;

	if (argv == NULL) {
		transport_reset(t, TRANSPORT_STDIO);
		t->rfd = STDIN_FILENO;
		t->wfd = STDOUT_FILENO;
		return 0;
	}
	transport_reset(t, TRANSPORT_PIPE);
	if (pipe2(in, O_CLOEXEC) != 0)
		return SC_ERR_SYSTEM;
	if (pipe2(out, O_CLOEXEC) != 0) {
		close(in[0]); close(in[1]);
		return SC_ERR_SYSTEM;
	}
	if (pipe2(err, O_CLOEXEC) != 0) {
		close(in[0]); close(in[1]); close(out[0]); close(out[1]);
		return SC_ERR_SYSTEM;
	}
	if ((pid = fork()) < 0) {
		close(in[0]); close(in[1]); close(out[0]); close(out[1]);
		close(err[0]); close(err[1]);
		return SC_ERR_SYSTEM;
	}
	if (pid == 0) {
		child_signals();
		/* in: we write in[1], child reads in[0]; out: child writes out[1] */
		if (dup2(in[0], STDIN_FILENO) < 0 || dup2(out[1], STDOUT_FILENO) < 0 ||
		    dup2(err[1], STDERR_FILENO) < 0)
			_exit(127);
		execvp(argv[0], argv);
		dprintf(STDERR_FILENO, "sccrypt-term: cannot run %s: %s\n",
		    argv[0], strerror(errno));
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	close(err[1]);
	t->pid = pid;
	t->wfd = in[1];
	t->rfd = out[0];
	t->efd = err[0];
	return 0;
}

int
transport_wrap_start(struct transport *t, char *const argv[],
    const struct termios *tio, const struct winsize *ws)
{
	int master;
	pid_t pid;
	struct termios tcopy;
	struct winsize wcopy;

	transport_reset(t, TRANSPORT_WRAP);
	if (tio != NULL)
		tcopy = *tio;
	if (ws != NULL)
		wcopy = *ws;
	pid = forkpty(&master, NULL, tio ? &tcopy : NULL, ws ? &wcopy : NULL);
	if (pid < 0)
		return SC_ERR_SYSTEM;
	if (pid == 0) {
		child_signals();
		if (tio == NULL && tcgetattr(STDIN_FILENO, &tcopy) == 0) {
			/* No user terminal to copy: nobody can answer a
			 * prompt, so the pty is raw (8-bit clean) from the
			 * start, before the command can write a frame. */
			cfmakeraw(&tcopy);
			tcopy.c_cc[VMIN] = 1;
			tcopy.c_cc[VTIME] = 0;
			(void)tcsetattr(STDIN_FILENO, TCSANOW, &tcopy);
		}
		execvp(argv[0], argv);
		dprintf(STDERR_FILENO, "sccrypt-term: cannot run %s: %s\r\n",
		    argv[0], strerror(errno));
		_exit(127);
	}
	fcntl(master, F_SETFD, FD_CLOEXEC);
	t->pid = pid;
	t->rfd = t->wfd = master;
	return 0;
}

void
transport_set_raw(struct transport *t)
{
	struct termios tio;

	if (t->kind != TRANSPORT_WRAP)
		return;
	if (tcgetattr(t->rfd, &tio) == 0) {
		cfmakeraw(&tio);
		tcsetattr(t->rfd, TCSANOW, &tio);
	}
}

void
transport_winch(struct transport *t, const struct winsize *ws)
{
	uint8_t m[4];

	if (ws == NULL)
		return;
	if (t->kind == TRANSPORT_WRAP)
		ioctl(t->rfd, TIOCSWINSZ, ws);
	else if (t->kind == TRANSPORT_SSH && t->cfd >= 0) {
		/* rows:u16 cols:u16 (big-endian) to the pump, which owns the
		 * libssh session; a full socket just drops this size. */
		m[0] = (uint8_t)(ws->ws_row >> 8);
		m[1] = (uint8_t)ws->ws_row;
		m[2] = (uint8_t)(ws->ws_col >> 8);
		m[3] = (uint8_t)ws->ws_col;
		(void)!send(t->cfd, m, sizeof(m), MSG_DONTWAIT | MSG_NOSIGNAL);
	}
}

bool
transport_reap(struct transport *t)
{
	int st;

	if (t->pid <= 0)
		return true;
	if (t->reaped)
		return true;
	if (waitpid(t->pid, &st, WNOHANG) == t->pid) {
		t->status = st;
		t->reaped = true;
		return true;
	}
	return false;
}

void
transport_close(struct transport *t)
{
	int i;

	if (t->kind != TRANSPORT_STDIO) {
		if (t->wfd >= 0 && t->wfd != t->rfd)
			close(t->wfd);
		if (t->rfd >= 0)
			close(t->rfd);
	}
	if (t->efd >= 0)
		close(t->efd);
	if (t->cfd >= 0)
		close(t->cfd);
	t->rfd = t->wfd = t->efd = t->cfd = -1;
	if (t->pid > 0 && !t->reaped) {
		/* Give the child a moment to see EOF, then insist. */
		for (i = 0; i < 20 && !transport_reap(t); i++)
			usleep(10000);
		if (!transport_reap(t)) {
			kill(t->pid, SIGTERM);
			for (i = 0; i < 100 && !transport_reap(t); i++)
				usleep(10000);
			if (!transport_reap(t)) {
				kill(t->pid, SIGKILL);
				waitpid(t->pid, &t->status, 0);
				t->reaped = true;
			}
		}
	}
}

int
transport_parse_dest(const char *dest, char *user, size_t usz, char *host,
    size_t hsz, int *port)
{
	const char *at, *h, *colon;
	size_t hl;

	user[0] = host[0] = '\0';
	*port = 0;
	if (dest == NULL || dest[0] == '\0' || dest[0] == '-')
		return SC_ERR_INVAL;
	if ((at = strrchr(dest, '@')) != NULL) {
		if ((size_t)(at - dest) >= usz || at == dest)
			return SC_ERR_INVAL;
		memcpy(user, dest, (size_t)(at - dest));
		user[at - dest] = '\0';
		h = at + 1;
	} else
		h = dest;
	if (h[0] == '[') {
		const char *end = strchr(h, ']');

		if (end == NULL)
			return SC_ERR_INVAL;
		hl = (size_t)(end - h - 1);
		if (hl == 0 || hl >= hsz)
			return SC_ERR_INVAL;
		memcpy(host, h + 1, hl);
		host[hl] = '\0';
		colon = end[1] == ':' ? end + 1 : NULL;
		if (end[1] != '\0' && colon == NULL)
			return SC_ERR_INVAL;
	} else {
		colon = strchr(h, ':');
		if (colon != NULL && strchr(colon + 1, ':') != NULL)
			colon = NULL;	/* bare IPv6 address */
		hl = colon ? (size_t)(colon - h) : strlen(h);
		if (hl == 0 || hl >= hsz)
			return SC_ERR_INVAL;
		memcpy(host, h, hl);
		host[hl] = '\0';
	}
	if (colon != NULL) {
		unsigned long p;

		if (sc_parse_ulong(colon + 1, 10, 1, 65535, &p) != 0)
			return SC_ERR_INVAL;
		*port = (int)p;
	}
	for (hl = 0; host[hl] != '\0'; hl++)
		if ((unsigned char)host[hl] <= ' ' || host[hl] == '/')
			return SC_ERR_INVAL;
	return 0;
}
