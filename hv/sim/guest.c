/*
 * guest.c — the simulated guest's hvc console driver (see guest.h).
 *
 * Data paths (the guest's side of the ring rules in hv/core/ring.h):
 *   in ring --(log, SysRq filter)--> inq --> pty master --> guest command
 *   guest command --> pty master --> outq --> out ring
 * Each queue is bounded and nothing is read from its source while it is
 * full, so a slow side back-pressures the other and no byte is dropped
 * while the command runs.  While the command is being restarted the in
 * ring is left alone (the hypervisor sees a full ring, not a lossy one).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pty.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "core/err.h"
#include "core/wire.h"
#include "log.h"
#include "io.h"
#include "guest.h"

#define OUTQ_SIZE	8192
#define INQ_SIZE	4096
#define RESTART_MIN_MS	200
#define RESTART_MAX_MS	5000
#define STABLE_MS	2000

struct gst {
	const struct hvsim_guest_args *a;
	pid_t		child;
	int		master;
	int		sigfd;
	int		logfd;
	unsigned long long started_ms;
	unsigned long long restart_at;	/* 0 = none pending */
	unsigned	restart_delay;
	unsigned	restarts;
	bool		restart_now;	/* SysRq 'b': no back-off */
	bool		sysrq_pressed;
	uint8_t		outq[OUTQ_SIZE];
	size_t		outq_len;
	uint8_t		inq[INQ_SIZE];
	size_t		inq_off, inq_len;
	/* conf->user, resolved once: whom the command runs as. */
	bool		switch_user;
	uid_t		uid;
	gid_t		gid;
	char		home[HVSIM_PATH_MAX];
};

static void
kick(struct gst *g)
{
	ssize_t n;

	/* A full socket already holds a pending kick: coalescing is fine. */
	do
		n = write(g->a->evfd, "k", 1);
	while (n == -1 && errno == EINTR);
}

/* Console text from the "kernel" (SysRq reports), as the guest prints it. */
static void
console_msg(struct gst *g, const char *msg)
{
	size_t n = strlen(msg);

	if (n > sizeof(g->outq) - g->outq_len)
		n = sizeof(g->outq) - g->outq_len;
	memcpy(g->outq + g->outq_len, msg, n);
	g->outq_len += n;
}

static void
signal_command(struct gst *g, int sig)
{
	if (g->child > 0) {
		(void)kill(-g->child, sig);
		(void)kill(g->child, sig);
	}
}

/* Linux's handle_sysrq(), for the keys the simulation can act on. */
static void
sysrq(struct gst *g, uint8_t key)
{
	char msg[128];

	switch (key) {
	case 'b':
		console_msg(g, "\r\nsysrq: Resetting\r\n");
		signal_command(g, SIGKILL);
		g->restart_now = true;
		break;
	case 'e':
		console_msg(g, "\r\nsysrq: Terminate All Tasks\r\n");
		signal_command(g, SIGTERM);
		break;
	case 'i':
		console_msg(g, "\r\nsysrq: Kill All Tasks\r\n");
		signal_command(g, SIGKILL);
		break;
	case 's':
		console_msg(g, "\r\nsysrq: Emergency Sync\r\n");
		sync();
		console_msg(g, "Emergency Sync complete\r\n");
		break;
	case 't':
		snprintf(msg, sizeof(msg), "\r\nsysrq: Show State\r\n  console task pid %ld, restarts %u\r\n",
		    (long)g->child, g->restarts);
		console_msg(g, msg);
		break;
	default:
		/* 'h' and unknown keys print the help, as Linux does. */
		console_msg(g, "\r\nsysrq: HELP : reboot(b) term-all-tasks(e) "
		    "kill-all-tasks(i) sync(s) show-task-states(t) help(h)\r\n");
		break;
	}
	/* The key is console input: not logged. */
	sc_info("guest %s: SysRq request handled", g->a->conf->name);
}

/*
 * Resolve conf->user.  Switching needs root; without root the user may
 * only name ourselves.  0 or SC_ERR_*, with why set.
 */
static int
resolve_user(struct gst *g, const char **why)
{
	const char *user = g->a->conf->user;
	struct passwd *pw;

	g->switch_user = false;
	g->uid = geteuid();
	g->gid = getegid();
	g->home[0] = '\0';
	if (user[0] == '\0')
		return 0;
	if ((pw = getpwnam(user)) == NULL) {
		*why = "no such user";
		return SC_ERR_NOTFOUND;
	}
	if (pw->pw_uid != geteuid() && geteuid() != 0) {
		*why = "running as another user needs root";
		return SC_ERR_PERM;
	}
	g->switch_user = pw->pw_uid != geteuid();
	g->uid = pw->pw_uid;
	g->gid = pw->pw_gid;
	if (pw->pw_dir != NULL && strlen(pw->pw_dir) < sizeof(g->home))
		memcpy(g->home, pw->pw_dir, strlen(pw->pw_dir) + 1);
	return 0;
}

/*
 * In the command's process: become conf->user for good (supplementary
 * groups, then gid, then uid) and make sure root cannot be regained.
 * Returns false if any step failed; the caller must not exec then.
 */
static bool
become_user(const struct gst *g)
{
	const char *user = g->a->conf->user;

	if (!g->switch_user)
		return true;
	if (initgroups(user, g->gid) == -1 || setgid(g->gid) == -1 ||
	    setuid(g->uid) == -1)
		return false;
	if (g->uid != 0 && (setuid(0) != -1 || seteuid(0) != -1))
		return false;
	if (g->gid != 0 && (setgid(0) != -1 || setegid(0) != -1))
		return false;
	if (getuid() != g->uid || geteuid() != g->uid ||
	    getgid() != g->gid || getegid() != g->gid)
		return false;
	setenv("USER", user, 1);
	setenv("LOGNAME", user, 1);
	if (g->home[0] != '\0') {
		setenv("HOME", g->home, 1);
		if (chdir(g->home) == -1 && chdir("/") == -1)
			return false;
	}
	return true;
}

/*
 * In the command's process: every signal back to its default disposition
 * and none blocked.  hvsim's own parent may have left some ignored (a
 * `cmd &` from a non-interactive shell ignores SIGINT and SIGQUIT), and
 * ignored dispositions survive exec: the guest's Ctrl-C would do nothing.
 */
static void
reset_signals(void)
{
	struct sigaction dfl;
	sigset_t none;
	int sig;

	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	for (sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			(void)sigaction(sig, &dfl, NULL);	/* EINVAL: reserved */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

static void
spawn(struct gst *g)
{
	static const char refused[] = "hvsim: cannot switch to the console user\r\n";
	const char *cmd = g->a->conf->command;
	struct winsize ws = { .ws_row = 24, .ws_col = 80 };
	char line[HVSIM_CMD_MAX + 8];
	pid_t pid;
	int m;

	/* login(1) needs root; any other user gets a login shell. */
	if (cmd[0] == '\0')
		cmd = g->uid == 0 ? "/bin/login" : "/bin/sh -l";
	snprintf(line, sizeof(line), "exec %s", cmd);
	pid = forkpty(&m, NULL, NULL, &ws);
	if (pid == -1) {
		sc_error("guest %s: forkpty: %s", g->a->conf->name, strerror(errno));
		g->restart_at = sc_now_ms() + RESTART_MAX_MS;
		return;
	}
	if (pid == 0) {
		reset_signals();
		closefrom(3);
		setenv("TERM", "vt220", 1);
		if (!become_user(g)) {
			/* Never run the command with the privileges we kept. */
			if (write(STDERR_FILENO, refused, sizeof(refused) - 1) < 0)
				_exit(126);
			_exit(126);
		}
		execl("/bin/sh", "sh", "-c", line, (char *)NULL);
		_exit(127);
	}
	if (sc_set_nonblock(m, 1) != 0 || sc_set_cloexec(m) != 0)
		sc_warn("guest %s: cannot configure pty", g->a->conf->name);
	g->child = pid;
	g->master = m;
	g->started_ms = sc_now_ms();
	g->restart_at = 0;
	g->sysrq_pressed = false;
	sc_info("guest %s: console command started (pid %ld)", g->a->conf->name,
	    (long)pid);
}

static void
close_master(struct gst *g)
{
	uint8_t buf[1024];
	ssize_t n;

	if (g->master < 0)
		return;
	/* What the command printed before it died is still console output. */
	while (g->outq_len < sizeof(g->outq) &&
	    (n = read(g->master, buf, SC_MIN(sizeof(buf), sizeof(g->outq) - g->outq_len))) > 0) {
		memcpy(g->outq + g->outq_len, buf, (size_t)n);
		g->outq_len += (size_t)n;
	}
	close(g->master);
	g->master = -1;
	g->inq_off = g->inq_len = 0;
}

static void
child_exited(struct gst *g, int status)
{
	unsigned long long now = sc_now_ms();

	sc_info("guest %s: console command exited (%s %d), restarting",
	    g->a->conf->name, WIFSIGNALED(status) ? "signal" : "status",
	    WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
	close_master(g);
	g->child = -1;
	g->restarts++;
	if (now - g->started_ms >= STABLE_MS)
		g->restart_delay = RESTART_MIN_MS;
	else
		g->restart_delay = SC_MIN(g->restart_delay * 2, RESTART_MAX_MS);
	g->restart_at = now + (g->restart_now ? 0 : g->restart_delay);
	g->restart_now = false;
}

static void __attribute__((noreturn))
shutdown_guest(struct gst *g)
{
	int i, status;

	if (g->child > 0) {
		if (g->master >= 0)
			close(g->master);
		signal_command(g, SIGHUP);
		signal_command(g, SIGTERM);
		for (i = 0; i < 20; i++) {
			if (waitpid(g->child, &status, WNOHANG) == g->child) {
				g->child = -1;
				break;
			}
			usleep(50000);
		}
		if (g->child > 0) {
			signal_command(g, SIGKILL);
			(void)waitpid(g->child, &status, 0);
		}
	}
	_exit(0);
}

/*
 * in ring -> log -> SysRq filter -> inq.  Returns the bytes taken from the
 * ring, or -1 if inq had no room (so the ring was not looked at).
 */
static ssize_t
pump_in(struct gst *g)
{
	uint8_t buf[INQ_SIZE];
	size_t got, i, room;
	ssize_t w;

	if (g->master < 0)
		return 0;
	if (g->inq_off == g->inq_len)
		g->inq_off = g->inq_len = 0;
	room = sizeof(g->inq) - g->inq_len;
	if (room == 0)
		return -1;
	if (sc_ring_guest_in_read(g->a->ring, buf, room, &got) != 0) {
		sc_warn("guest %s: hypervisor wrote corrupt in-ring indices",
		    g->a->conf->name);
		return 0;
	}
	if (got == 0)
		return 0;
	if (g->logfd >= 0) {
		w = write(g->logfd, buf, got);
		if (w != (ssize_t)got)
			sc_warn("guest %s: input log write failed", g->a->conf->name);
	}
	for (i = 0; i < got; i++) {
		if (buf[i] == SC_HVC_SYSRQ_CHAR) {
			/* ^O^O passes one ^O through, as in hvc_poll(). */
			g->sysrq_pressed = !g->sysrq_pressed;
			if (g->sysrq_pressed)
				continue;
		} else if (g->sysrq_pressed) {
			g->sysrq_pressed = false;
			sysrq(g, buf[i]);
			continue;
		}
		g->inq[g->inq_len++] = buf[i];
	}
	kick(g);		/* the hypervisor may have more for us now */
	return (ssize_t)got;
}

static void
flush_inq(struct gst *g)
{
	ssize_t n;

	while (g->master >= 0 && g->inq_off < g->inq_len) {
		n = write(g->master, g->inq + g->inq_off, g->inq_len - g->inq_off);
		if (n > 0)
			g->inq_off += (size_t)n;
		else
			break;
	}
}

static void
read_master(struct gst *g)
{
	ssize_t n;

	while (g->master >= 0 && g->outq_len < sizeof(g->outq)) {
		n = read(g->master, g->outq + g->outq_len, sizeof(g->outq) - g->outq_len);
		if (n > 0)
			g->outq_len += (size_t)n;
		else
			break;	/* EAGAIN, or EIO once the command is gone */
	}
}

static void
flush_outq(struct gst *g)
{
	size_t w;

	if (g->outq_len == 0)
		return;
	if (sc_ring_guest_out_write(g->a->ring, g->outq, g->outq_len, &w) != 0) {
		sc_warn("guest %s: hypervisor wrote corrupt out-ring indices",
		    g->a->conf->name);
		return;
	}
	if (w == 0)
		return;
	memmove(g->outq, g->outq + w, g->outq_len - w);
	g->outq_len -= w;
	kick(g);
}

int
hvsim_signalfd(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

void
hvsim_guest_main(const struct hvsim_guest_args *a)
{
	static struct gst g;
	struct signalfd_siginfo si;
	struct pollfd pfd[3];
	unsigned long long now;
	uint8_t drain[256];
	ssize_t n_in;
	int status, timeout;
	pid_t pid;

	memset(&g, 0, sizeof(g));
	g.a = a;
	g.master = -1;
	g.child = -1;
	g.logfd = -1;
	g.restart_delay = RESTART_MIN_MS;
	if ((g.sigfd = hvsim_signalfd()) == -1)
		sc_die(1, "guest %s: signalfd: %s", a->conf->name, strerror(errno));
	if (sc_set_nonblock(a->evfd, 1) != 0)
		sc_die(1, "guest %s: cannot configure event channel", a->conf->name);
	{
		const char *why = "";

		if (resolve_user(&g, &why) != 0)
			sc_die(1, "guest %s: user %s: %s", a->conf->name,
			    a->conf->user, why);
	}
	if (a->conf->input_log[0] != '\0' &&
	    (g.logfd = open(a->conf->input_log, O_WRONLY | O_CREAT | O_APPEND |
	    O_CLOEXEC | O_NOFOLLOW, 0600)) == -1)
		sc_warn("guest %s: cannot open input log %s: %s", a->conf->name,
		    a->conf->input_log, strerror(errno));
	spawn(&g);

	for (;;) {
		/*
		 * Move input until the pty stops taking it (POLLOUT brings us
		 * back) or the ring is empty.  The ring must be read again
		 * after inq drains: its event may already have been consumed
		 * while inq was full, and nothing else would wake us.
		 */
		for (;;) {
			n_in = pump_in(&g);
			flush_inq(&g);
			if (g.inq_off < g.inq_len || n_in == 0)
				break;
		}
		/*
		 * Ring first (the hv has just made room, most likely), then
		 * refill from the pty and top the ring up again: one pass per
		 * wake-up instead of a second poll() for the pty.
		 */
		flush_outq(&g);
		read_master(&g);
		flush_outq(&g);

		pfd[0].fd = g.sigfd;
		pfd[0].events = POLLIN;
		pfd[1].fd = a->evfd;
		pfd[1].events = POLLIN;
		pfd[2].fd = g.master;
		pfd[2].events = 0;
		if (g.master >= 0) {
			if (g.outq_len < sizeof(g.outq))
				pfd[2].events |= POLLIN;
			if (g.inq_off < g.inq_len)
				pfd[2].events |= POLLOUT;
		}
		timeout = -1;
		if (g.child < 0 && g.restart_at != 0) {
			now = sc_now_ms();
			timeout = g.restart_at > now ? (int)(g.restart_at - now) : 0;
		}
		if (poll(pfd, 3, timeout) == -1 && errno != EINTR)
			sc_die(1, "guest %s: poll: %s", a->conf->name, strerror(errno));
		if (pfd[0].revents & POLLIN) {
			while (read(g.sigfd, &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo == SIGCHLD)
					continue;
				shutdown_guest(&g);
			}
			while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
				if (pid == g.child)
					child_exited(&g, status);
		}
		if (pfd[1].revents & POLLIN)
			while (read(a->evfd, drain, sizeof(drain)) > 0)
				;
		if (pfd[1].revents & (POLLHUP | POLLERR)) {
			/* The hypervisor is gone: so is this "VM". */
			shutdown_guest(&g);
		}
		if (pfd[2].revents & (POLLHUP | POLLERR)) {
			/* Every slave fd is closed: the console is gone. */
			close_master(&g);
			signal_command(&g, SIGHUP);
		}
		if (g.child < 0 && g.restart_at != 0 && sc_now_ms() >= g.restart_at)
			spawn(&g);
	}
}
