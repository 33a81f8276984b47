/*
 * sccrypt-consoled — the dom0 relay daemon of SCCrypt (sccrypt-consoled(8)).
 *
 * Thin main: options, configuration, logging, pid file, daemonising; the
 * loop is daemon.c and the relay logic relay.c.
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
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <sodium.h>

#include "core/err.h"
#include "core/ops.h"
#include "log.h"
#include "io.h"
#include "secmem.h"
#include "backend.h"
#include "conf.h"
#include "ctl.h"
#include "daemon.h"
#include "pidfile.h"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: sccrypt-consoled [-F] [-d] [-f config] [-u user]\n"
	    "       sccrypt-consoled [-f config] -t | --check-config\n"
	    "       sccrypt-consoled [-f config] --print-hv-key\n"
	    "       sccrypt-consoled -V | --version | -h | --help\n"
	    "  -f, --config FILE    configuration (default %s)\n"
	    "  -F, --foreground     stay in the foreground, log to stderr\n"
	    "  -d, --debug          debug logging (repeat: no effect)\n"
	    "  -u, --user USER      run as USER once the sockets are open\n"
	    "  -t, --check-config   parse the configuration and exit\n"
	    "      --print-hv-key   print the hypervisor public key (hex) and exit\n",
	    SC_DEFAULT_CONF);
}

/* Ask the running daemon (pubkey verb); else the backend directly. */
static int
print_hv_key(struct sc_conf *conf)
{
	struct sockaddr_un sun;
	char line[SC_CTL_LINE_MAX + 1], buf[256];
	struct sc_ctl_request rq;
	struct sc_ctl_reply rp;
	size_t len, n = 0;
	ssize_t r;
	int fd;

	memset(&rq, 0, sizeof(rq));
	rq.verb = SC_CTL_PUBKEY;
	rq.encoding = SC_ENCODING_BINARY;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(conf->listen) >= sizeof(sun.sun_path))
		return 78;
	memcpy(sun.sun_path, conf->listen, strlen(conf->listen));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0 &&
	    sc_ctl_request_format(&rq, line, sizeof(line), &len) == 0 &&
	    sc_write_all(fd, line, len) == 0) {
		while (n < sizeof(buf) - 1 &&
		    (r = read(fd, buf + n, sizeof(buf) - 1 - n)) > 0)
			n += (size_t)r;
		close(fd);
		buf[n] = '\0';
		char *nl = memchr(buf, '\n', n);
		if (nl != NULL && sc_ctl_reply_parse(buf, (size_t)(nl - buf) + 1, &rp) == 0) {
			if (rp.status != SC_CTL_OK) {
				fprintf(stderr, "sccrypt-consoled: %s\n", rp.text);
				return 69;
			}
			char *key = nl + 1, *end = memchr(key, '\n', n - (size_t)(key - buf));
			if (end != NULL && end - key == 2 * SC_KEY_LEN) {
				*end = '\0';
				printf("%s\n", key);
				return 0;
			}
		}
		fprintf(stderr, "sccrypt-consoled: malformed answer from the daemon\n");
		return 70;
	}
	if (fd >= 0)
		close(fd);

	/* No daemon: ask the hypervisor directly. */
	{
		struct sc_backend bk;
		struct sc_op_hdr req, resp;
		uint8_t *pay = malloc(SC_OP_PAYLOAD_MAX);
		char hex[2 * SC_KEY_LEN + 1];
		int e;

		memset(&bk, 0, sizeof(bk));
		if (pay == NULL || (bk.ops = sc_daemon_backend_ops(conf)) == NULL) {
			free(pay);
			fprintf(stderr, "sccrypt-consoled: backend not available\n");
			return 78;
		}
		if ((e = bk.ops->open(&bk, conf)) < 0) {
			free(pay);
			fprintf(stderr, "sccrypt-consoled: neither the daemon nor the "
			    "hypervisor is reachable (%s)\n", sc_err(e));
			return 69;
		}
		sc_op_hdr_init(&req, SC_OP_GET_INFO, 0, 0, 0, 0);
		e = bk.ops->call(&bk, &req, NULL, &resp, pay);
		bk.ops->close(&bk);
		if (e < 0 || resp.status < 0 || resp.len < SC_KEY_LEN) {
			free(pay);
			fprintf(stderr, "sccrypt-consoled: GET_INFO failed (%s)\n",
			    sc_err(e < 0 ? e : resp.status < 0 ? resp.status : SC_ERR_FORMAT));
			return 69;
		}
		sodium_bin2hex(hex, sizeof(hex), pay, SC_KEY_LEN);
		free(pay);
		printf("%s\n", hex);
		return 0;
	}
}

static int
daemonize(void)
{
	pid_t pid;
	int fd;

	if ((pid = fork()) < 0)
		return SC_ERR_SYSTEM;
	if (pid > 0)
		_exit(0);
	if (setsid() < 0)
		return SC_ERR_SYSTEM;
	if ((pid = fork()) < 0)
		return SC_ERR_SYSTEM;
	if (pid > 0)
		_exit(0);
	if (chdir("/") < 0)
		return SC_ERR_SYSTEM;
	if ((fd = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0)
		return SC_ERR_SYSTEM;
	(void)dup2(fd, 0);
	(void)dup2(fd, 1);
	(void)dup2(fd, 2);
	if (fd > 2)
		close(fd);
	return 0;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'f' },
		{ "foreground", no_argument, NULL, 'F' },
		{ "debug", no_argument, NULL, 'd' },
		{ "user", required_argument, NULL, 'u' },
		{ "check-config", no_argument, NULL, 't' },
		{ "print-hv-key", no_argument, NULL, 'K' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sc_daemon_opts o;
	struct sc_conf *conf;
	const char *why, *user = NULL;
	struct passwd *pw;
	struct rlimit rl;
	unsigned line, missing;
	bool check = false, printkey = false;
	int ch, r, pidfd = -1;
	long other = 0;

	memset(&o, 0, sizeof(o));
	o.log_level = -1;
	while ((ch = getopt_long(argc, argv, "f:Fdtu:hV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'f': o.conf_path = optarg; break;
		case 'F': o.foreground = true; break;
		case 'd': o.log_level = SC_LOG_DEBUG; break;
		case 'u': user = optarg; break;
		case 't': check = true; break;
		case 'K': printkey = true; break;
		case 'V':
			sc_print_version("sccrypt-consoled");
			return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return SC_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return SC_EXIT_USAGE;
	}
	sc_log_init("sccrypt-consoled", SC_LOG_INFO,
	    (o.foreground || check || printkey) ? SC_LOG_TO_STDERR : SC_LOG_TO_SYSLOG);
	if (sc_lib_init() < 0) {
		fprintf(stderr, "sccrypt-consoled: libsodium initialisation failed\n");
		return 70;
	}
	if (o.conf_path == NULL)
		o.conf_path = SC_DEFAULT_CONF;
	if ((conf = malloc(sizeof(*conf))) == NULL)
		return 70;
	sc_conf_defaults(conf);
	if ((r = sc_conf_load(conf, o.conf_path, &line, &why)) < 0) {
		if (conf->nerrs > 0)
			fprintf(stderr, "sccrypt-consoled: %s has %u error(s):\n%s",
			    o.conf_path, conf->nerrs, conf->errs);
		else
			fprintf(stderr, "sccrypt-consoled: %s: %s (%s)\n", o.conf_path,
			    why, sc_err(r));
		free(conf);
		return 78;
	}
	if (o.log_level >= 0)
		conf->log_level = o.log_level;
	if (user != NULL) {
		if (strlen(user) >= sizeof(conf->user)) {
			fprintf(stderr, "sccrypt-consoled: -u: user name too long\n");
			free(conf);
			return 64;
		}
		snprintf(conf->user, sizeof(conf->user), "%s", user);
	}
	/* The user to become must exist and not be root (checked by -t too). */
	if (conf->user[0] != '\0' && !printkey) {
		errno = 0;
		pw = getpwnam(conf->user);
		if (pw == NULL || pw->pw_uid == 0) {
			fprintf(stderr, "sccrypt-consoled: user %s: %s\n", conf->user,
			    pw != NULL ? "is root (nothing would be dropped)" :
			    errno != 0 ? strerror(errno) : "no such user");
			free(conf);
			return 78;
		}
	}
	sc_log_set_level(printkey ? SC_LOG_WARN : conf->log_level);
	missing = sc_conf_resolve_users(conf);
	if (missing > 0) {
		size_t i;

		/* A typo in a user name would silently lock that user out. */
		for (i = 0; i < conf->nrules; i++)
			if (!conf->rules[i].any_user && !conf->rules[i].resolved)
				fprintf(stderr, "sccrypt-consoled: %s: allow rule "
				    "for '%s': no such user\n", o.conf_path,
				    conf->rules[i].user);
		free(conf);
		return 78;
	}
	if (check) {
		printf("%s: OK (%zu allow rules, backend %s%s%s)\n", o.conf_path,
		    conf->nrules, conf->backend == SC_BACKEND_XEN ? "xen" : "sim",
		    conf->user[0] != '\0' ? ", runs as " : "", conf->user);
		free(conf);
		return 0;
	}
	if (printkey) {
		r = print_hv_key(conf);
		free(conf);
		return r;
	}
	if (sc_daemon_backend_ops(conf) == NULL) {
		fprintf(stderr, "sccrypt-consoled: the xen backend is not built in\n");
		free(conf);
		return 78;
	}
	/*
	 * No core dumps: consoled holds no keys but sees ciphertext and the
	 * unprotected consoles.  Started as root it is also made non-dumpable
	 * (no ptrace or /proc access by other users); an unprivileged
	 * consoled stays inspectable by its own user (tests, the lab) and
	 * holds nothing that user could not read anyway.
	 */
	if (geteuid() == 0) {
		if (sc_disable_core_dumps() < 0)
			sc_warn("cannot disable core dumps: %s", strerror(errno));
	} else {
		rl.rlim_cur = rl.rlim_max = 0;
		if (setrlimit(RLIMIT_CORE, &rl) < 0)
			sc_warn("cannot disable core dumps: %s", strerror(errno));
	}
	/*
	 * One daemon per configuration: the pid file stays locked for our
	 * life (before daemonising, so that the refusal is seen; the child
	 * inherits the lock).  A second consoled must not take over the
	 * socket, nor delete the first one's socket and pid file on exit.
	 */
	if (conf->pid_file[0] != '\0' &&
	    (r = sc_pidfile_lock(conf->pid_file, &pidfd, &other)) < 0) {
		if (r == SC_ERR_BUSY)
			sc_error("already running, pid %ld (pid file %s is locked)",
			    other, conf->pid_file);
		else
			sc_error("cannot lock pid file %s: %s", conf->pid_file,
			    strerror(errno));
		free(conf);
		return 1;
	}
	if (!o.foreground && daemonize() < 0) {
		sc_error("cannot daemonise: %s", strerror(errno));
		free(conf);
		return 71;
	}
	if (pidfd >= 0 && sc_pidfile_update(pidfd) < 0)
		sc_warn("cannot write pid file %s", conf->pid_file);
	r = sc_daemon_run(conf, &o);
	sc_pidfile_release(conf->pid_file, pidfd);
	free(conf);
	return r;
}
