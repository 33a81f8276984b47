/*
 * sccrypt-hvsim — the simulated VMM: hosts simulated domains whose console
 * rings are real struct xencons_interface pages shared with guest processes,
 * runs the hv core (hv/core) over them, and serves the hv ops ABI on a unix
 * SOCK_SEQPACKET socket (one packet per op; events pushed as SC_OP_EVENT).
 *
 * Process layout: this process is the "hypervisor".  Each domain's guest is
 * a child forked before the hv key exists, sharing only its own ring page
 * (MAP_SHARED anonymous) and an event socketpair.  dom0-side programs reach
 * the hypervisor only through the ops socket.  sim.h says which file does
 * what; this one has the options, the hv key, the socket and the main loop.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
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
#include "platform.h"
#include "guest.h"
#include "sim.h"

#define EPOLL_BATCH	64
#ifdef SC_HVSIM_DEFAULT_CONF	/* from configure's sysconfdir (hv/local.mk) */
#define DEFAULT_CONF	SC_HVSIM_DEFAULT_CONF
#else
#define DEFAULT_CONF	"/etc/sccrypt/hvsim.conf"
#endif
#define DEFAULT_SOCKET	"/run/sccrypt/hvsim.sock"

struct sim hvsim;

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

/* Watch fd for input (closing it removes it again). */
int
ep_add(int fd, uint64_t key)
{
	struct epoll_event e;

	memset(&e, 0, sizeof(e));
	e.events = EPOLLIN;
	e.data.u64 = key;
	return epoll_ctl(hvsim.epfd, EPOLL_CTL_ADD, fd, &e);
}

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
	hvsim.socket_made = true;
	return fd;
}

static int
hv_start(const char *pubkey_file)
{
	struct sc_hv_platform pf;
	uint8_t *sk, pcr_value[32];
	char fp[SC_FINGERPRINT_LEN], hex[65], err[256];
	const uint8_t *pk;
	uint32_t pcr_index = SC_HV_NO_PCR;
	unsigned i, slots = hvsim.ndom ? hvsim.ndom : 1;
	int r;

	hvsim.arena_len = 0;
	for (i = 0; i < hvsim.ndom; i++)
		hvsim.arena_len += hvsim.dom[i].conf->history ? hvsim.dom[i].conf->history :
		    hvsim.conf.history;
	/* One slot per configured domain: hvsim adds none at run time. */
	if ((hvsim.hv = sc_secure_alloc(sc_hv_size(slots, 0))) == NULL ||
	    (hvsim.arena = sc_secure_alloc(hvsim.arena_len ? hvsim.arena_len : 1)) == NULL ||
	    (sk = sc_secure_alloc(SC_KEY_LEN)) == NULL ||
	    (hvsim.chk_key = sc_secure_alloc(CHK_HASH_LEN)) == NULL) {
		sc_error("cannot allocate secure memory");
		return SC_ERR_ALLOC;
	}
	memset(&pf, 0, sizeof(pf));
	pf.check_disk_key = hook_disk;
	pf.notify_guest = hook_guest;
	pf.notify_dom0 = hook_dom0;
	/* A fresh hv key pair at every start. */
	randombytes_buf(sk, SC_KEY_LEN);
	randombytes_buf(hvsim.chk_key, CHK_HASH_LEN);
	if (hvsim.conf.tcti[0] != '\0')
		pcr_index = hvsim.conf.pcr;
	r = sc_hv_init(hvsim.hv, sc_crypto_sodium(), &pf, sk, pcr_index, hvsim.arena,
	    hvsim.arena_len, slots, 0);
	sc_secure_free(sk);
	if (r != 0) {
		sc_error_r(r, "hv init");
		return r;
	}
	if (hvsim.conf.owner_ca_set) {
		if ((r = sc_hv_set_owner_ca(hvsim.hv, hvsim.conf.owner_ca)) != 0) {
			sc_error_r(r, "owner CA");
			return r;
		}
		sc_hex_encode(hvsim.conf.owner_ca, sizeof(hvsim.conf.owner_ca), hex, sizeof(hex));
		sc_info("PROTECT requires an ownership token of owner CA %s", hex);
	}
	pk = sc_hv_pubkey(hvsim.hv);
	sc_fingerprint(pk, SC_KEY_LEN, fp);
	sc_hex_encode(pk, SC_KEY_LEN, hex, sizeof(hex));
	sc_info("hv public key %s", hex);
	sc_info("hv key fingerprint %s", fp);
	if (hvsim.conf.tcti[0] != '\0') {
		if ((r = hvsim_pcr_extend(hvsim.conf.tcti, hvsim.conf.pcr, pk, pcr_value,
		    err, sizeof(err))) != 0) {
			sc_error("TPM: %s", err);
			return r;
		}
		sc_hex_encode(pcr_value, 32, hex, sizeof(hex));
		sc_info("PCR %u (sha256) extended with SHA-256 of the hv key: now %s",
		    hvsim.conf.pcr, hex);
	} else
		sc_warn("no TPM configured (--tpm-tcti or TSS2_TCTI): the hv key is not measured");
	if (pubkey_file != NULL) {
		char line[80];

		sc_hex_encode(pk, SC_KEY_LEN, hex, sizeof(hex));
		snprintf(line, sizeof(line), "%s\n", hex);
		if ((r = sc_write_file_atomic(pubkey_file, line, strlen(line), 0644)) != 0) {
			sc_error_r(r, "%s", pubkey_file);
			return r;
		}
	}
	for (i = 0; i < hvsim.ndom; i++) {
		const struct hvsim_domain_conf *dc = hvsim.dom[i].conf;
		if ((r = sc_hv_domain_add(hvsim.hv, dc->domid, dc->uuid, dc->name,
		    hvsim.dom[i].page, dc->history ? dc->history : hvsim.conf.history)) != 0) {
			sc_error_r(r, "domain %s", dc->name);
			return r;
		}
	}
	/* DOMAIN_ADDED before anyone could listen: nothing to tell. */
	hvsim.nev = 0;
	hvsim.ev_overflow = false;
	return 0;
}

static void
shutdown_all(void)
{
	unsigned i;

	for (i = 0; i < MAX_CLIENTS; i++)
		client_close(&hvsim.cl[i], "shutdown");
	if (hvsim.lfd >= 0) {
		close(hvsim.lfd);
		hvsim.lfd = -1;
	}
	if (hvsim.socket_made)
		(void)unlink(hvsim.conf.socket);
	for (i = 0; i < hvsim.ndom; i++) {
		if (hvsim.dom[i].chk_pid > 0) {
			(void)kill(hvsim.dom[i].chk_pid, SIGKILL);
			(void)waitpid(hvsim.dom[i].chk_pid, NULL, 0);
		}
		hvsim.dom[i].chk_pid = -1;
		sodium_memzero(hvsim.dom[i].bad, sizeof(hvsim.dom[i].bad));
	}
	stop_guests();
	if (hvsim.chk_key != NULL) {
		sc_secure_free(hvsim.chk_key);
		hvsim.chk_key = NULL;
	}
	if (hvsim.hv != NULL) {
		sc_hv_wipe(hvsim.hv);
		sc_secure_free(hvsim.hv);
		hvsim.hv = NULL;
	}
	if (hvsim.arena != NULL) {
		sc_secure_free(hvsim.arena);
		hvsim.arena = NULL;
	}
}

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

	if (ep_add(hvsim.sigfd, EP_KEY(EP_SIG, 0)) != 0 ||
	    ep_add(hvsim.lfd, EP_KEY(EP_LISTEN, 0)) != 0) {
		sc_error("epoll: %s", strerror(errno));
		return 1;
	}
	for (i = 0; i < hvsim.ndom; i++)
		if (hvsim.dom[i].evfd >= 0 &&
		    ep_add(hvsim.dom[i].evfd, EP_KEY(EP_DOM, i)) != 0) {
			sc_error("epoll: %s", strerror(errno));
			return 1;
		}
	for (;;) {
		if ((n = epoll_wait(hvsim.epfd, evs, EPOLL_BATCH, -1)) == -1) {
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
				while (read(hvsim.sigfd, &si, sizeof(si)) == sizeof(si)) {
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
				struct client *c = &hvsim.cl[idx];
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
				struct sim_dom *d = &hvsim.dom[idx];
				if (idx < hvsim.ndom && d->chk_fd >= 0)
					chk_finished(d);
				break;
			}
			case EP_DOM: {
				struct sim_dom *d = &hvsim.dom[idx];
				if (idx >= hvsim.ndom || d->evfd < 0)
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

	hvsim_conf_defaults(&hvsim.conf);
	if ((rc = hvsim_conf_load(&hvsim.conf, cfg, err, sizeof(err))) != 0)
		sc_die(1, "%s", err);
	if (sock != NULL) {
		if (strlen(sock) >= sizeof(hvsim.conf.socket))
			sc_die(SC_EXIT_USAGE, "socket path too long");
		strcpy(hvsim.conf.socket, sock);
	}
	if (hvsim.conf.socket[0] == '\0')
		strcpy(hvsim.conf.socket, DEFAULT_SOCKET);
	if (tcti == NULL && hvsim.conf.tcti[0] == '\0')
		tcti = getenv("TSS2_TCTI");
	if (tcti != NULL && tcti[0] != '\0') {
		if (strlen(tcti) >= sizeof(hvsim.conf.tcti))
			sc_die(SC_EXIT_USAGE, "TCTI too long");
		strcpy(hvsim.conf.tcti, tcti);
	}
	if (pcr >= 0)
		hvsim.conf.pcr = (unsigned)pcr;
	if (hvsim.conf.ndomains == 0)
		sc_warn("%s: no [domain] sections", cfg);
	/* A console user must exist, and switching to it needs root. */
	for (i = 0; i < hvsim.conf.ndomains; i++) {
		const struct hvsim_domain_conf *dc = &hvsim.conf.dom[i];
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
		if (root_guests(&hvsim.conf, true) > 0)
			return 1;
		printf("%s: configuration OK (%u domain(s))\n", cfg, hvsim.conf.ndomains);
		return 0;
	}
	(void)root_guests(&hvsim.conf, false);

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

	if ((hvsim.sigfd = hvsim_signalfd()) == -1)
		sc_die(1, "signalfd: %s", strerror(errno));
	hvsim.lfd = -1;
	hvsim.ready_fd = ready[1];
	if ((hvsim.epfd = epoll_create1(EPOLL_CLOEXEC)) == -1)
		sc_die(1, "epoll_create1: %s", strerror(errno));
	for (i = 0; i < MAX_CLIENTS; i++)
		hvsim.cl[i].fd = -1;
	hvsim.ndom = hvsim.conf.ndomains;
	for (i = 0; i < hvsim.ndom; i++) {
		hvsim.dom[i].conf = &hvsim.conf.dom[i];
		hvsim.dom[i].chk_fd = -1;
		hvsim.dom[i].chk_pid = -1;
	}

	/* Guests first: they must never share an address space with the key. */
	rc = 1;
	if (start_guests(verbose) != 0)
		goto out;
	if (hv_start(pkfile) != 0)
		goto out;
	if ((hvsim.lfd = make_socket(hvsim.conf.socket, hvsim.conf.socket_mode)) == -1)
		goto out;
	sc_info("serving %u domain(s) on %s", hvsim.ndom, hvsim.conf.socket);
	for (i = 0; i < hvsim.ndom; i++) {
		char u[37];
		sc_uuid_format(hvsim.dom[i].conf->uuid, u);
		sc_info("domain %s: domid %u uuid %s%s", hvsim.dom[i].conf->name,
		    hvsim.dom[i].conf->domid, u, hvsim.dom[i].conf->disk[0] ? "" :
		    " (no disk: cannot be protected)");
	}
	if (ready[1] != -1) {
		if (write(ready[1], "R", 1) != 1)
			sc_warn("cannot signal readiness: %s", strerror(errno));
		close(ready[1]);
		ready[1] = -1;
		hvsim.ready_fd = -1;
	}
	rc = run();
out:
	shutdown_all();
	if (ready[1] != -1)
		close(ready[1]);
	return rc;
}
