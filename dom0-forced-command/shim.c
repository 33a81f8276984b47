/*
 * sccrypt-console — dom0 forced command / sudoers command for SCCrypt.
 *
 * Runs as sshd's command= / ForceCommand or through sudo.  It validates the
 * user's command against a strict allowlist (cmdparse.c), asks
 * sccrypt-consoled for a relay over its local socket, drops the privileges it
 * got from sudo, puts its tty (if any) in raw mode and copies bytes both
 * ways until either side ends.  It never runs a shell and never passes user
 * text anywhere except, validated, in the one request line to consoled.
 * Exit codes: sccrypt-console(8) and PROTOCOL.md §9.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <linux/sockios.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "core/err.h"
#include "core/frame.h"
#include "core/wire.h"
#include "log.h"
#include "io.h"
#include "cmdparse.h"
#include "shim.h"
#include "ctl.h"
#include "ctlconf.h"

#define RELAY_BUF		16384
#define REPLY_TIMEOUT_MS	30000
/*
 * After stdin EOF the shim waits while consoled delivers the input it sent
 * (checked every DRAIN_POLL_MS); it gives up after consoled's stall_timeout
 * plus DRAIN_GRACE_S without progress (consoled itself gives up on a guest
 * that takes no input after stall_timeout).
 */
#define DRAIN_POLL_MS		250
#define DRAIN_GRACE_S		5
/* Plaintext relay ended: how long consoled's exit may lag its socket's. */
#define RAW_DEATH_WAIT_MS	300
/*
 * Plaintext relay: after stdin EOF the connection stays open until the
 * console has been quiet this long (as sccrypt-term's --linger), at most
 * RAW_LINGER_MAX_MS: consoled ends a relay whose client half-closed as soon
 * as the input is delivered, so half-closing at once would send the answer
 * to the last line typed to the backlog instead of to the user.
 */
#define RAW_LINGER_MS		2000
#define RAW_LINGER_MAX_MS	10000	/* a console never quiet: half-close anyway */

static struct termios saved_tio;
static int tty_raw;
static volatile sig_atomic_t got_signal;

static void
tty_restore(void)
{
	if (tty_raw) {
		(void)tcsetattr(STDIN_FILENO, TCSADRAIN, &saved_tio);
		tty_raw = 0;
	}
}

static void
on_signal(int sig)
{
	got_signal = sig;
}

static int
tty_make_raw(void)
{
	struct termios tio;

	if (!isatty(STDIN_FILENO))
		return 0;
	if (tcgetattr(STDIN_FILENO, &saved_tio) < 0)
		return SC_ERR_SYSTEM;
	tio = saved_tio;
	cfmakeraw(&tio);
	if (tcsetattr(STDIN_FILENO, TCSADRAIN, &tio) < 0)
		return SC_ERR_SYSTEM;
	tty_raw = 1;
	return 0;
}

static __attribute__((noreturn, format(printf, 2, 3))) void
fail(int status, const char *fmt, ...)
{
	va_list ap;

	tty_restore();
	fprintf(stderr, "sccrypt-console: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(status);
}

/* Strict decimal id from the environment (SUDO_UID/SUDO_GID). */
static int
env_id(const char *name, unsigned long *out)
{
	const char *s = getenv(name);
	unsigned long v = 0;
	size_t i, n;

	if (s == NULL)
		return SC_ERR_NOTFOUND;
	n = strlen(s);
	if (n == 0 || n > 10)
		return SC_ERR_FORMAT;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return SC_ERR_FORMAT;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v >= 4294967295UL)
		return SC_ERR_FORMAT;
	*out = v;
	return 0;
}

/*
 * Give back what sudo lent us, for good: the invoking user's gid as the only
 * group, then the uid (real, effective, saved).  Verified: root cannot be
 * regained.  Returns 0 or SC_ERR_SYSTEM.
 */
static int
drop_sudo_privileges(uid_t uid, gid_t gid)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;

	if (setgroups(1, &gid) < 0 || setresgid(gid, gid, gid) < 0 ||
	    setresuid(uid, uid, uid) < 0)
		return SC_ERR_SYSTEM;
	if (getresuid(&ru, &eu, &su) < 0 || getresgid(&rg, &eg, &sg) < 0 ||
	    ru != uid || eu != uid || su != uid || rg != gid || eg != gid || sg != gid)
		return SC_ERR_SYSTEM;
	if (uid != 0 && (setuid(0) != -1 || seteuid(0) != -1))
		return SC_ERR_SYSTEM;
	if (gid != 0 && (setgid(0) != -1 || setegid(0) != -1))
		return SC_ERR_SYSTEM;
	return 0;
}

static int
connect_consoled(const char *path)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		return SC_ERR_TOOLONG;
	memcpy(sun.sun_path, path, strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return SC_ERR_SYSTEM;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return SC_ERR_SYSTEM;
	}
	return fd;
}

/* Read one reply line, byte by byte so nothing after it is consumed. */
static int
read_reply(int fd, struct sc_ctl_reply *rp)
{
	char line[SC_CTL_LINE_MAX];
	size_t n = 0;
	struct pollfd pfd;
	ssize_t r;
	unsigned long long deadline = sc_now_ms() + REPLY_TIMEOUT_MS;

	while (n < sizeof(line)) {
		unsigned long long now = sc_now_ms();
		if (now >= deadline)
			return SC_ERR_TIMEOUT;
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, (int)(deadline - now)) < 0) {
			if (errno == EINTR && !got_signal)
				continue;
			return SC_ERR_SYSTEM;
		}
		if (got_signal)
			return SC_ERR_CANCELLED;
		r = read(fd, line + n, 1);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r < 0)
			return SC_ERR_SYSTEM;
		if (r == 0)
			return SC_ERR_EOF;
		if (line[n++] == '\n')
			return sc_ctl_reply_parse(line, n, rp);
	}
	return SC_ERR_TOOLONG;
}

/*
 * Watches consoled's framed stream for its last frame: an orderly end is a
 * BYE; a stream that stops anywhere else was cut (consoled killed, crashed,
 * restarted).  consoled sends SC_HELLO_MAGIC and the encoding character,
 * then frames (PROTOCOL.md §9.2).
 */
struct bye_watch {
	bool		on;		/* framed mode */
	size_t		skip;		/* magic and encoding character left */
	struct sc_frame_decoder dec;
	uint8_t		last;		/* type of the last whole frame, 0 = none */
};

static void
bye_watch_init(struct bye_watch *w, bool framed, uint8_t encoding)
{
	memset(w, 0, sizeof(*w));
	w->on = framed && sc_frame_decoder_init(&w->dec, encoding) == 0;
	w->skip = SC_HELLO_MAGIC_LEN + 1;
}

static void
bye_watch_feed(struct bye_watch *w, const uint8_t *p, size_t n)
{
	struct sc_frame f;
	size_t used, k;
	int r;

	if (!w->on)
		return;
	k = SC_MIN(n, w->skip);
	w->skip -= k;
	p += k;
	n -= k;
	while (n > 0 && w->dec.error == 0) {
		r = sc_frame_decode(&w->dec, p, n, &used, &f);
		if (r < 0)
			break;
		p += used;
		n -= used;
		if (r == 0)
			break;
		w->last = f.type;
	}
}

/* True when the stream ended right after a BYE (or is not framed). */
static bool
bye_watch_ok(const struct bye_watch *w)
{
	return !w->on || (w->skip == 0 && w->dec.error == 0 &&
	    !sc_frame_decoder_partial(&w->dec) && w->last == SC_FRAME_BYE);
}

/*
 * A descriptor that becomes readable when the consoled process behind sock
 * exits (pidfd of the SO_PEERCRED pid), or -1 where that cannot be had (no
 * pidfd_open, another pid namespace).  Only a plaintext relay needs it: a
 * framed relay ends in order with a BYE.
 */
static int
consoled_pidfd(int sock)
{
#ifdef SYS_pidfd_open
	struct ucred cr;
	socklen_t len = sizeof(cr);

	if (getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0 || cr.pid <= 0)
		return -1;
	return (int)syscall(SYS_pidfd_open, cr.pid, 0);
#else
	(void)sock;
	return -1;
#endif
}

/* Did consoled (pidfd) exit?  Waits up to wait_ms for it to be reaped. */
static bool
consoled_died(int pidfd, int wait_ms)
{
	struct pollfd p = { .fd = pidfd, .events = POLLIN };

	return pidfd >= 0 && poll(&p, 1, wait_ms) > 0 && (p.revents & POLLIN);
}

/* Bytes written to sock that consoled has not read yet (-1: unknown). */
static long
sock_unread(int sock)
{
	int n;

	if (ioctl(sock, SIOCOUTQ, &n) < 0)
		return -1;
	return n;
}

/*
 * write() that fails with EAGAIN instead of blocking, whatever the
 * descriptor's own flags (stdout is shared with sshd's or the terminal's
 * file description: its O_NONBLOCK is not ours to set).  Pipes and sockets
 * take RWF_NOWAIT; a tty does not (EOPNOTSUPP), nor an old kernel.
 */
static ssize_t
write_nowait(int fd, const void *p, size_t n)
{
#ifdef RWF_NOWAIT
	struct iovec iov = { (void *)(uintptr_t)p, n };

	return pwritev2(fd, &iov, 1, -1, RWF_NOWAIT);
#else
	(void)fd; (void)p; (void)n;
	errno = ENOSYS;
	return -1;
#endif
}

/*
 * Copy stdin -> sock and sock -> stdout until EOF on either side.  After
 * stdin EOF: with linger, wait until nothing came from consoled for
 * RAW_LINGER_MS; then half-close and read its last bytes.  consoled may
 * still be delivering the input (a guest that reads slowly): the shim waits
 * as long as consoled keeps reading what was sent, and gives up (exit 74,
 * with a message) only after drain_s seconds without progress.  Returns an
 * exit status.
 */
static int
relay(int sock, bool linger, bool framed, uint8_t encoding, unsigned drain_s)
{
	static unsigned char up[RELAY_BUF], down[RELAY_BUF];
	static struct bye_watch bw;
	size_t up_len = 0, down_len = 0, down_off = 0, up_off = 0;
	bool in_eof = false, sock_eof = false;
	unsigned long long eof_at = 0, last_rx = 0, progress_at = 0, now;
	unsigned long long drain_ms = (unsigned long long)drain_s * 1000;
	long unread = -1, u;
	int pidfd = -1;
	bool shut = false;
	struct pollfd pfd[3];
	bool up_now, down_now, out_nowait = true;
	ssize_t r;
	int timeout;

	bye_watch_init(&bw, framed, encoding);
	if (!framed)
		pidfd = consoled_pidfd(sock);
	for (;;) {
		if (got_signal)
			return 128 + (int)got_signal;
		if (sock_eof && down_len == 0) {
			/* A plaintext relay has no BYE: is consoled still there? */
			if (!framed && !consoled_died(pidfd, RAW_DEATH_WAIT_MS))
				return SC_SHIM_EXIT_OK;
			if (framed && bye_watch_ok(&bw))
				return SC_SHIM_EXIT_OK;
			tty_restore();
			fprintf(stderr, "\r\nsccrypt-console: sccrypt-consoled cut "
			    "the relay (%s: killed, crashed or restarted?); "
			    "the end of the session may be lost\r\n",
			    framed ? "no BYE" : "it exited");
			return SC_SHIM_EXIT_UNAVAILABLE;
		}
		timeout = -1;
		if (in_eof && up_len == 0) {
			now = sc_now_ms();
			if (eof_at == 0)
				eof_at = progress_at = now;
			if ((u = sock_unread(sock)) != unread) {
				unread = u;
				progress_at = now;
			}
			if (now >= progress_at + drain_ms) {
				tty_restore();
				if (unread > 0)
					fprintf(stderr, "\r\nsccrypt-console: "
					    "sccrypt-consoled took no input for "
					    "%u s; giving up: the end of the input "
					    "was not delivered\r\n", drain_s);
				else
					fprintf(stderr, "\r\nsccrypt-console: "
					    "sccrypt-consoled did not end the "
					    "session %u s after the input ended; "
					    "giving up\r\n", drain_s);
				return SC_SHIM_EXIT_IO;
			}
			if (!shut && (!linger ||
			    now >= SC_MAX(eof_at, last_rx) + RAW_LINGER_MS ||
			    now >= eof_at + RAW_LINGER_MAX_MS)) {
				/* Tell consoled we are done; read its last bytes. */
				(void)shutdown(sock, SHUT_WR);
				shut = true;
			}
			/* Look at consoled's progress now and then. */
			timeout = (int)SC_MIN(progress_at + drain_ms - now,
			    (unsigned long long)DRAIN_POLL_MS);
			if (!shut)
				timeout = SC_MIN(timeout, (int)(SC_MAX(eof_at,
				    last_rx) + RAW_LINGER_MS - now));
		}
		pfd[0].fd = (!in_eof && up_len == 0) ? STDIN_FILENO : -1;
		pfd[0].events = POLLIN;
		pfd[1].fd = down_len > 0 ? STDOUT_FILENO : -1;
		pfd[1].events = POLLOUT;
		pfd[2].fd = sock;
		pfd[2].events = (up_len > 0 ? POLLOUT : 0) |
		    ((!sock_eof && down_len == 0) ? POLLIN : 0);
		if (poll(pfd, 3, timeout) < 0) {
			if (errno == EINTR)
				continue;
			return SC_SHIM_EXIT_IO;
		}
		/*
		 * What was just read is written at once, without a poll for
		 * the other side first (it is almost always writable): one
		 * poll per direction per keystroke, not two.  Those writes
		 * must not block (MSG_DONTWAIT, RWF_NOWAIT); one that would
		 * leaves its bytes for the POLLOUT path as before.
		 */
		up_now = down_now = false;
		if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			r = read(STDIN_FILENO, up, sizeof(up));
			if (r > 0) {
				up_len = (size_t)r;
				up_off = 0;
				up_now = true;
			} else if (r == 0 || (errno != EINTR && errno != EAGAIN)) {
				in_eof = true;
			}
		}
		if ((pfd[2].revents & POLLOUT || up_now) && up_len > 0) {
			r = send(sock, up + up_off, up_len, MSG_NOSIGNAL | MSG_DONTWAIT);
			if (r > 0) {
				up_off += (size_t)r;
				up_len -= (size_t)r;
			} else if (r < 0 && errno != EINTR && errno != EAGAIN) {
				/* consoled went away: what it sent is still readable. */
				up_len = 0;
				in_eof = true;
			}
		}
		if (pfd[2].revents & (POLLIN | POLLHUP | POLLERR) && down_len == 0 &&
		    !sock_eof) {
			r = recv(sock, down, sizeof(down), 0);
			if (r > 0) {
				down_len = (size_t)r;
				down_off = 0;
				last_rx = sc_now_ms();
				bye_watch_feed(&bw, down, down_len);
				down_now = out_nowait;
			} else if (r == 0 || (errno != EINTR && errno != EAGAIN)) {
				sock_eof = true;
			}
		}
		if (down_now && down_len > 0) {
			r = write_nowait(STDOUT_FILENO, down + down_off, down_len);
			if (r > 0) {
				down_off += (size_t)r;
				down_len -= (size_t)r;
			} else if (r < 0 && errno == EPIPE) {
				return SC_SHIM_EXIT_OK;	/* the client went away */
			} else if (r < 0 && (errno == EOPNOTSUPP || errno == EINVAL ||
			    errno == ENOSYS)) {
				out_nowait = false;	/* a tty: poll first, as before */
			}
			/* Anything else: the POLLOUT path below tells. */
		} else if (pfd[1].revents & (POLLOUT | POLLERR | POLLHUP) && down_len > 0) {
			r = write(STDOUT_FILENO, down + down_off, down_len);
			if (r > 0) {
				down_off += (size_t)r;
				down_len -= (size_t)r;
			} else if (r < 0 && errno == EPIPE) {
				return SC_SHIM_EXIT_OK;	/* the client went away */
			} else if (r < 0 && errno != EINTR && errno != EAGAIN) {
				return SC_SHIM_EXIT_IO;
			}
		}
	}
}

static void
usage_exit(const char *why)
{
	fail(SC_SHIM_EXIT_USAGE, "rejected: %s", why);
}

int
main(int argc, char *argv[])
{
	struct sc_ctl_conf conf;
	const char *progname, *conf_path = NULL, *why = NULL, *soc;
	struct sc_shim_cmd cmd;
	struct sc_ctl_request rq;
	struct sc_ctl_reply rp;
	struct sigaction sa;
	char line[SC_CTL_LINE_MAX + 1];
	size_t linelen;
	unsigned long sudo_uid = 0, sudo_gid = 0;
	unsigned errline;
	bool sudo_mode;
	int i, r, sock, status;

	sc_log_init("sccrypt-console", SC_LOG_WARN, SC_LOG_TO_STDERR);
	progname = argc > 0 && argv[0] != NULL ? argv[0] : "sccrypt-console";
	if (strrchr(progname, '/') != NULL)
		progname = strrchr(progname, '/') + 1;

	/*
	 * Never setuid/setgid (or file capabilities): the only privileged way
	 * in is sudo, whose rule names this program and whose environment
	 * says who asked.  A set-id install would trust the caller's env.
	 */
	if (getauxval(AT_SECURE) != 0 || getuid() != geteuid() ||
	    getgid() != getegid())
		fail(SC_SHIM_EXIT_CONFIG, "%s", "refusing to run set-user-ID or "
		    "set-group-ID; use sudo or sshd (sccrypt-console(8))");

	/* Under sudo: privileges come from sudo, the text from the user. */
	sudo_mode = geteuid() == 0 && getenv("SUDO_UID") != NULL;
	if (sudo_mode) {
		if (env_id("SUDO_UID", &sudo_uid) < 0 ||
		    env_id("SUDO_GID", &sudo_gid) < 0)
			fail(SC_SHIM_EXIT_CONFIG, "%s", "invalid SUDO_UID/SUDO_GID");
	}

	/*
	 * Administrator options: only "-f CONFIG", before the user's words.
	 * Under sudo every argument is the tenant's (sudo cannot tell the
	 * administrator's words from the tenant's), so -f is refused before
	 * anything is opened: root must not read a file the tenant names.
	 */
	if (sudo_mode && argc > 1 && strcmp(argv[1], "-f") == 0)
		fail(SC_SHIM_EXIT_CONFIG, "under sudo, -f is not accepted; the "
		    "configuration is %s", SC_DEFAULT_CONF);
	for (i = 1; i + 1 < argc && strcmp(argv[i], "-f") == 0; i += 2)
		conf_path = argv[i + 1];

	soc = getenv("SSH_ORIGINAL_COMMAND");
	if (soc != NULL) {
		if (i != argc)
			fail(SC_SHIM_EXIT_CONFIG, "%s", "the forced command has "
			    "arguments other than -f CONFIG; see sccrypt-console(8)");
		r = sc_shim_parse_string(soc, strlen(soc), &cmd, &why);
	} else {
		r = sc_shim_parse_argv(progname, argc - i, argv + i, &cmd, &why);
	}
	if (r < 0)
		usage_exit(why);
	if (cmd.verb == SC_SHIM_VERSION) {
		sc_print_version("sccrypt-console");
		return SC_SHIM_EXIT_OK;
	}
	if (cmd.verb == SC_SHIM_HELP) {
		printf("usage: sccrypt-console [-f CONFIG] [--armor] "
		    "[--protect | --info] VM\n"
		    "       sccrypt-console -V | --version | -h | --help\n"
		    "       xenconsole VM | xl console VM  (through a link or "
		    "a forced command)\n"
		    "The relay of sccrypt-term(1)'s consoles on dom0; see "
		    "sccrypt-console(8).\n"
		    "  -f CONFIG    configuration (default %s)\n",
		    SC_DEFAULT_CONF);
		return SC_SHIM_EXIT_OK;
	}

	sc_ctl_conf_defaults(&conf);
	if (conf_path == NULL && access(SC_DEFAULT_CONF, F_OK) == 0)
		conf_path = SC_DEFAULT_CONF;
	if (conf_path != NULL && sudo_mode && sc_conf_path_trusted(conf_path) < 0)
		fail(SC_SHIM_EXIT_CONFIG, "under sudo, %s must be a root-owned "
		    "file in root-owned directories that no one else can write",
		    conf_path);
	if (conf_path != NULL &&
	    sc_ctl_conf_load(&conf, conf_path, &errline, &why) < 0) {
		if (errline > 0)
			fail(SC_SHIM_EXIT_CONFIG, "configuration %s: line %u: %s",
			    conf_path, errline, why);
		fail(SC_SHIM_EXIT_CONFIG, "configuration %s: %s", conf_path, why);
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGHUP, &sa, NULL);
	(void)sigaction(SIGTERM, &sa, NULL);
	(void)sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if ((sock = connect_consoled(conf.listen)) < 0)
		fail(SC_SHIM_EXIT_UNAVAILABLE, "cannot reach sccrypt-consoled "
		    "at %s: %s (configuration: %s)", conf.listen,
		    sock == SC_ERR_TOOLONG ? "path too long" : strerror(errno),
		    conf_path != NULL ? conf_path : "none, the built-in "
		    "defaults; " SC_DEFAULT_CONF " does not exist");

	/*
	 * Connected: consoled has our credentials (SO_PEERCRED, root) and the
	 * invoking user in as= below; nothing else needs sudo's privileges.
	 */
	if (sudo_mode && drop_sudo_privileges((uid_t)sudo_uid, (gid_t)sudo_gid) < 0)
		fail(SC_SHIM_EXIT_INTERNAL, "%s", "cannot drop privileges");

	memset(&rq, 0, sizeof(rq));
	switch (cmd.verb) {
	case SC_SHIM_CONSOLE:	rq.verb = SC_CTL_CONSOLE; break;
	case SC_SHIM_AUTO:	rq.verb = SC_CTL_AUTO; break;
	case SC_SHIM_PROTECT:	rq.verb = SC_CTL_PROTECT; break;
	case SC_SHIM_INFO:	rq.verb = SC_CTL_INFO; break;
	default:		fail(SC_SHIM_EXIT_INTERNAL, "%s", "bad verb");
	}
	snprintf(rq.vm, sizeof(rq.vm), "%s", cmd.vm);
	rq.encoding = cmd.encoding;
	if (sudo_mode) {
		rq.has_as = 1;
		rq.as_uid = (uid_t)sudo_uid;
	}
	if (sc_ctl_request_format(&rq, line, sizeof(line), &linelen) < 0 ||
	    sc_write_all(sock, line, linelen) < 0)
		fail(SC_SHIM_EXIT_UNAVAILABLE, "%s", "cannot send the request to "
		    "sccrypt-consoled");

	if ((r = read_reply(sock, &rp)) < 0)
		fail(SC_SHIM_EXIT_UNAVAILABLE, "no valid answer from "
		    "sccrypt-consoled (%s)", sc_err(r));
	if (rp.status != SC_CTL_OK) {
		fprintf(stderr, "sccrypt-console: %s: %s\n", cmd.vm, rp.text);
		return sc_shim_exit_status(rp.status);
	}
	if (rp.mode == SC_CTL_MODE_RAW)
		fprintf(stderr, "sccrypt-console: WARNING: %s is not protected; "
		    "this console is NOT encrypted (plaintext relay).\r\n", cmd.vm);

	/*
	 * One readable line before the frames, for a human who typed
	 * xenconsole out of habit; sccrypt-term does not show it and its
	 * CR LF keeps the HELLO magic at a line start (PROTOCOL.md §3.1).
	 */
	if (rp.mode == SC_CTL_MODE_FRAMED &&
	    sc_write_all(STDOUT_FILENO, SC_CONSOLE_PREAMBLE,
	    SC_CONSOLE_PREAMBLE_LEN) < 0)
		fail(SC_SHIM_EXIT_IO, "cannot write: %s", strerror(errno));
	if (rp.mode != SC_CTL_MODE_TEXT && tty_make_raw() < 0)
		fail(SC_SHIM_EXIT_IO, "cannot set raw mode on the terminal: %s",
		    strerror(errno));
	status = relay(sock, rp.mode == SC_CTL_MODE_RAW,
	    rp.mode == SC_CTL_MODE_FRAMED, cmd.encoding,
	    conf.stall_timeout + DRAIN_GRACE_S);
	tty_restore();
	close(sock);
	return status;
}
