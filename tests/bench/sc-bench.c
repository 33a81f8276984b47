/*
 * sc-bench — the measuring half of tests/bench/run (which sets up the real
 * components and calls this).  Every time is CLOCK_MONOTONIC; every figure
 * is printed as one "name value" line on stdout.
 *
 *   sc-bench rtt N [--cpu HVPID,CDPID] LABEL CMD [LABEL CMD]...
 *	Run each CMD (via /bin/sh -c) with pipes on its stdin and stdout: a
 *	console client whose stdin is typed and whose stdout is the screen.
 *	Type N keystrokes into each, interleaved (ABAB.., the order flipping
 *	every round), alternately 'a' and DEL, and time each from the write
 *	to the first byte of its echo ('a', or the '\b' of "\b \b").
 *	Prints rtt_LABEL_us (median), rtt_p99_LABEL_us, rtt_min_LABEL_us,
 *	rtt_mean_LABEL_us, rtt_samples_LABEL.
 *	--cpu: then N/2 more keystrokes each, 2 ms apart, and the CPU time
 *	(proccpu.h) that SCCrypt's processes of the path spent from each
 *	write until 2 ms after its whole echo: the client's processes but ssh
 *	(sccrypt-term, the filter; none for plain ssh), the dom0 shim sshd
 *	started for it (sccrypt-console), consoled (CDPID) and hvsim (HVPID,
 *	its guests not included).  Prints cpu_LABEL_us (mean per keystroke),
 *	cpu_median_LABEL_us, and the mean of each part: cpu_client_LABEL_us,
 *	cpu_shim_LABEL_us, cpu_consoled_LABEL_us, cpu_hvsim_LABEL_us, with
 *	its times on a CPU (runs_PART_LABEL) and read/write-class system
 *	calls (syscalls_rw_PART_LABEL) per keystroke; cpu_se_LABEL_us is the
 *	standard error of cpu_LABEL_us.
 *
 *   sc-bench tput ROUNDS FILE LABEL CMD [LABEL CMD]...
 *	Same kind of clients (a shell at the other end).  Per round and
 *	client (interleaved, order flipping): type "cat FILE; echo <marker>"
 *	and time until the marker has arrived; at least FILE's size must
 *	have arrived by then.  Prints tput_LABEL_MBps (median, MB = 10^6 B),
 *	tput_min_LABEL_MBps, tput_max_LABEL_MBps.
 *
 *   sc-bench pty ROUNDS FILE
 *	The guest's own ceiling: `cat FILE` writing into a pty with the
 *	default line discipline (OPOST/ONLCR, as on a guest console), the
 *	master drained by this process in 8 KiB reads, as hvsim's console
 *	bridge does.  No ring, no hv, no dom0.  Prints tput_pty_MBps
 *	(median), tput_min_pty_MBps, tput_max_pty_MBps.
 *
 *   sc-bench relay N
 *	What inserting one filter process costs on this machine, whatever it
 *	does: N one-byte round trips, interleaved, to an echo process (a)
 *	directly and (b) through a relay process that polls both sides and
 *	copies, as sccrypt-term sits between the terminal and ssh.  Prints
 *	host_pipe_rtt_us (median of a) and host_relay_us (median of b minus
 *	median of a).
 *
 *   sc-bench filter CMD
 *	Run CMD (via /bin/sh -c) and copy stdin to it and its output to
 *	stdout, polling both like sccrypt-term --pipe but doing nothing
 *	else: `rtt` through `filter ssh ...` against plain `ssh ...` shows
 *	what the extra process costs in place, apart from SCCrypt's work.
 *
 *   sc-bench connect ROUNDS LABEL CMD
 *	Start CMD ROUNDS times; time from fork to its first byte on stdout,
 *	then SIGTERM it.  Prints connect_LABEL_ms (median) and
 *	connect_max_LABEL_ms.
 *
 *   sc-bench load [options]
 *	The many-sessions step: one process, one poll loop, N encrypted
 *	sessions through the real dom0 shim (sccrypt-console, one process per
 *	session as under sshd) to one consoled + hvsim, over libsccrypt's
 *	frame/Noise/record code.  Binds N domains (PROTECT with the LUKS2
 *	disk key), opens N sessions, then types into all of them at a fixed
 *	rate and times every echo.  Options:
 *	  --shim PATH --conf FILE   the shim and its sccrypt.conf
 *	  --vm-prefix P --count N   domains P1..PN, one writer session each
 *	  --viewers V               and V read-only viewer sessions each
 *	                            (hvsim lists at most 256 domains: 500
 *	                            sessions are 250 writers + 250 viewers)
 *	  --disk-key FILE           raw LUKS2 volume key (all load domains)
 *	  --pids P,Q                processes whose VmRSS is reported (hvsim, consoled)
 *	  --interval MS             per-session keystroke interval (default 200)
 *	  --seconds S               length of the typing phase (default 10)
 *	  --parallel K              handshakes/binds in flight (default 16)
 *	  --history H               history size asked for in the binding
 *	  --trace FILE              one line per timed keystroke: ms since the
 *	                            typing began, round trip in us, session
 *	  --raw                     the same load with protection off: the
 *	                            domains are unprotected, no binding, the
 *	                            shim relays plaintext (RAW ops), each
 *	                            keystroke is one byte on the shim's stdin
 *	                            and its echo the first matching byte out
 *	Prints sessions, the load RTT median/p99, RSS before/after and the
 *	growth per session.
 *
 * Exit status: 0 when the measurement worked, 1 when it failed (a client
 * died, a timeout), 2 on usage errors.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <termios.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "core/blob.h"
#include "core/owner.h"
#include "core/buf.h"
#include "core/crypto.h"
#include "core/err.h"
#include "core/frame.h"
#include "core/noise.h"
#include "core/record.h"
#include "core/wire.h"
#include "io.h"
#include "proccpu.h"

#define MAX_CLIENTS	4
#define RXBUF		(1u << 16)
#define STEP_TIMEOUT_MS	20000
#define DEL		0x7f

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "sc-bench: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	/* Our children are in our process group; the caller cleans up. */
	exit(1);
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted v[0..n), p in (0, 100]. */
static uint64_t
pct(const uint64_t *v, size_t n, double p)
{
	size_t k;

	if (n == 0)
		return 0;
	k = (size_t)((p / 100.0) * (double)n + 0.999999);
	if (k < 1)
		k = 1;
	if (k > n)
		k = n;
	return v[k - 1];
}

static uint64_t
median(uint64_t *v, size_t n)
{
	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), cmp_u64);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* ------------------------------------------------------------------ */
/* Pipe clients                                                        */

struct pclient {
	const char	*label;
	const char	*cmd;
	pid_t		 pid;
	int		 to, from;
	uint8_t		 rx[RXBUF];
	size_t		 rx_len;	/* bytes kept for matching */
	uint64_t	 rx_total;	/* bytes received since the last mark */
	uint64_t	*samples;
	size_t		 nsamples;
	bool		 eof_ok;	/* EOF ends reading instead of failing */
	bool		 eof;
	struct proccpu	 cpu_client, cpu_shim;	/* rtt --cpu */
};

static void
pc_spawn(struct pclient *c)
{
	int in[2], out[2];

	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0)
		die("pipe: %s", strerror(errno));
	if ((c->pid = fork()) < 0)
		die("fork: %s", strerror(errno));
	if (c->pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		signal(SIGPIPE, SIG_DFL);
		execl("/bin/sh", "sh", "-c", c->cmd, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	c->to = in[1];
	c->from = out[0];
	c->rx_len = 0;
	c->rx_total = 0;
	if (sc_set_nonblock(c->from, 1) != 0)
		die("nonblock: %s", strerror(errno));
}

static void
pc_stop(struct pclient *c)
{
	int st, i;

	if (c->pid <= 0)
		return;
	close(c->to);
	kill(c->pid, SIGTERM);
	for (i = 0; i < 300; i++) {
		if (waitpid(c->pid, &st, WNOHANG) == c->pid)
			break;
		usleep(10000);
	}
	if (i == 300) {
		kill(c->pid, SIGKILL);
		(void)waitpid(c->pid, &st, 0);
	}
	close(c->from);
	c->pid = -1;
}

static void
pc_send(struct pclient *c, const void *p, size_t n)
{
	if (sc_write_all(c->to, p, n) != 0)
		die("%s: write to the client failed", c->label);
}

/*
 * Read what is there (waiting up to wait_ms for the first bytes).  Only the
 * last RXBUF/2 bytes are kept for matching; everything is counted.
 * Returns bytes read; dies on EOF.
 */
static size_t
pc_read(struct pclient *c, int wait_ms)
{
	struct pollfd pfd = { .fd = c->from, .events = POLLIN };
	size_t total = 0;
	ssize_t r;

	if (c->eof || poll(&pfd, 1, wait_ms) <= 0)
		return 0;
	for (;;) {
		if (c->rx_len > RXBUF / 2) {
			memmove(c->rx, c->rx + c->rx_len - RXBUF / 4, RXBUF / 4);
			c->rx_len = RXBUF / 4;
		}
		r = read(c->from, c->rx + c->rx_len, RXBUF - c->rx_len);
		if (r > 0) {
			c->rx_len += (size_t)r;
			c->rx_total += (uint64_t)r;
			total += (size_t)r;
			continue;
		}
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			return total;
		if (r == 0 && c->eof_ok) {
			c->eof = true;
			return total;
		}
		die("%s: the client ended (%s)", c->label,
		    r == 0 ? "EOF" : strerror(errno));
	}
}

/* Wait until pat appears in what arrived after the last mark. */
static void
pc_expect(struct pclient *c, const void *pat, size_t n, int timeout_ms)
{
	uint64_t deadline = now_ns() + (uint64_t)timeout_ms * 1000000u;

	for (;;) {
		if (c->rx_len >= n && memmem(c->rx, c->rx_len, pat, n) != NULL)
			return;
		if (now_ns() >= deadline)
			die("%s: timeout waiting for %zu bytes of expected output",
			    c->label, n);
		(void)pc_read(c, 50);
	}
}

/*
 * Wait for the whole echo of an erase: "\b \b" from a tty's ECHOE (dash,
 * hvsim's guests), "\b\033[J" or "\b\033[K" from a line editor (busybox
 * ash on the Xen lab's guests).
 */
static void
pc_expect_erase(struct pclient *c, int timeout_ms)
{
	static const char *const pats[] = { "\b \b", "\b\033[J", "\b\033[K" };
	uint64_t deadline = now_ns() + (uint64_t)timeout_ms * 1000000u;
	size_t i;

	for (;;) {
		for (i = 0; i < sizeof(pats) / sizeof(pats[0]); i++)
			if (c->rx_len >= 3 && memmem(c->rx, c->rx_len, pats[i], 3) != NULL)
				return;
		if (now_ns() >= deadline)
			die("%s: timeout waiting for the echo of an erase", c->label);
		(void)pc_read(c, 50);
	}
}

static void
pc_mark(struct pclient *c)
{
	c->rx_len = 0;
	c->rx_total = 0;
}

/* Drain until the client has been quiet for quiet_ms. */
static void
pc_quiet(struct pclient *c, int quiet_ms)
{
	while (pc_read(c, quiet_ms) > 0)
		;
	pc_mark(c);
}

/* Start and synchronise: a shell answers a marker command. */
static void
pc_start_shell(struct pclient *c, unsigned tag)
{
	char cmd[64], want[32];

	pc_spawn(c);
	snprintf(cmd, sizeof(cmd), "echo SCB-SY''NC-%u\n", tag);
	snprintf(want, sizeof(want), "SCB-SYNC-%u", tag);
	pc_send(c, cmd, strlen(cmd));
	pc_expect(c, want, strlen(want), STEP_TIMEOUT_MS);
	pc_quiet(c, 300);
}

static size_t
parse_clients(int argc, char **argv, int i, struct pclient **out)
{
	struct pclient *cs;
	size_t n = 0;

	if ((argc - i) % 2 != 0 || argc - i < 2 || (argc - i) / 2 > MAX_CLIENTS)
		die("LABEL CMD pairs expected (1..%d)", MAX_CLIENTS);
	if ((cs = calloc((size_t)(argc - i) / 2, sizeof(*cs))) == NULL)
		die("out of memory");
	for (; i < argc; i += 2, n++) {
		cs[n].label = argv[i];
		cs[n].cmd = argv[i + 1];
		cs[n].pid = -1;
	}
	*out = cs;
	return n;
}

/* One keystroke: the round trip in nanoseconds. */
static uint64_t
keystroke(struct pclient *c, bool del)
{
	static const uint8_t erase_echo[] = { '\b' };
	uint8_t key = del ? DEL : 'a';
	const uint8_t *want = del ? erase_echo : (const uint8_t *)"a";
	uint64_t t0, t1, deadline;
	size_t i;

	pc_mark(c);
	t0 = now_ns();
	pc_send(c, &key, 1);
	deadline = t0 + (uint64_t)STEP_TIMEOUT_MS * 1000000u;
	for (;;) {
		/* Spin on poll with a zero-cost wake-up: block in poll. */
		(void)pc_read(c, 1000);
		t1 = now_ns();
		for (i = 0; i < c->rx_len; i++)
			if (c->rx[i] == want[0])
				goto got;
		if (t1 >= deadline)
			die("%s: no echo for a keystroke", c->label);
	}
got:
	/* The rest of the erase's echo must not count for the next one. */
	if (del)
		pc_expect_erase(c, STEP_TIMEOUT_MS);
	return t1 - t0;
}

static void
report_samples(const char *what, const char *label, uint64_t *s, size_t n)
{
	uint64_t sum = 0;
	size_t i;

	for (i = 0; i < n; i++)
		sum += s[i];
	printf("rtt_%s_us %.1f\n", label, (double)median(s, n) / 1000.0);
	printf("rtt_p99_%s_us %.1f\n", label, (double)pct(s, n, 99) / 1000.0);
	printf("rtt_min_%s_us %.1f\n", label, (double)s[0] / 1000.0);
	printf("rtt_mean_%s_us %.1f\n", label, n ? (double)sum / (double)n / 1000.0 : 0);
	printf("rtt_samples_%s %zu\n", label, n);
	(void)what;
}

/* The parts of a path's CPU time per keystroke (rtt --cpu). */
enum { CPU_CLIENT, CPU_SHIM, CPU_CONSOLED, CPU_HVSIM, CPU_PARTS };
static const char *const cpu_part_name[CPU_PARTS] = {
	"client", "shim", "consoled", "hvsim",
};

static void
cpu_snap(struct pclient *c, const struct proccpu *hv, const struct proccpu *cd,
    struct proccpu_val v[CPU_PARTS])
{
	proccpu_read(&c->cpu_client, &v[CPU_CLIENT]);
	proccpu_read(&c->cpu_shim, &v[CPU_SHIM]);
	proccpu_read(cd, &v[CPU_CONSOLED]);
	proccpu_read(hv, &v[CPU_HVSIM]);
}

/*
 * rtt --cpu: rounds keystrokes per client, interleaved as in rtt, each
 * followed by 2 ms of quiet, with the CPU time of the path's SCCrypt
 * processes read before the write and after the quiet.
 */
static void
rtt_cpu(struct pclient *cs, size_t nc, size_t rounds, pid_t hvpid, pid_t cdpid)
{
	struct proccpu_val a[CPU_PARTS], b[CPU_PARTS], part[MAX_CLIENTS][CPU_PARTS];
	uint64_t *tot[MAX_CLIENTS], sum;
	struct proccpu hv, cd;
	double var;
	size_t k, r, j;
	int p;

	proccpu_init(&hv);
	proccpu_init(&cd);
	if (proccpu_add(&hv, hvpid) != 0 || proccpu_add(&cd, cdpid) != 0)
		die("rtt --cpu: no such process: %d or %d", (int)hvpid, (int)cdpid);
	memset(part, 0, sizeof(part));
	for (k = 0; k < nc; k++) {
		proccpu_init(&cs[k].cpu_client);
		proccpu_init(&cs[k].cpu_shim);
		(void)proccpu_add_tree(&cs[k].cpu_client, cs[k].pid, "ssh");
		if (proccpu_add_forced(&cs[k].cpu_shim, "sccrypt-console",
		    cs[k].cmd) != 1)
			die("rtt --cpu: %s: not exactly one shim found", cs[k].label);
		if ((tot[k] = calloc(rounds, sizeof(uint64_t))) == NULL)
			die("out of memory");
	}
	for (r = 0; r < rounds; r++)
		for (k = 0; k < nc; k++) {
			j = (r / 2) % 2 ? nc - 1 - k : k;
			cpu_snap(&cs[j], &hv, &cd, a);
			(void)keystroke(&cs[j], r % 2);
			(void)pc_read(&cs[j], 2);	/* nothing more is due */
			cpu_snap(&cs[j], &hv, &cd, b);
			for (p = 0, sum = 0; p < CPU_PARTS; p++) {
				part[j][p].ns += b[p].ns - a[p].ns;
				part[j][p].runs += b[p].runs - a[p].runs;
				part[j][p].syscalls += b[p].syscalls - a[p].syscalls;
				sum += b[p].ns - a[p].ns;
			}
			tot[j][r] = sum;
		}
	for (k = 0; k < nc; k++) {
		const char *l = cs[k].label;
		double n = (double)rounds;

		for (r = 0, sum = 0; r < rounds; r++)
			sum += tot[k][r];
		for (r = 0, var = 0; r < rounds; r++) {
			double d = (double)tot[k][r] - (double)sum / n;

			var += d * d;
		}
		printf("cpu_%s_us %.2f\n", l, (double)sum / n / 1000.0);
		/* Standard error of that mean: the noise a difference carries. */
		printf("cpu_se_%s_us %.2f\n", l, sqrt(var / (n - 1) / n) / 1000.0);
		printf("cpu_median_%s_us %.2f\n", l, (double)median(tot[k], rounds) / 1000.0);
		for (p = 0; p < CPU_PARTS; p++) {
			printf("cpu_%s_%s_us %.2f\n", cpu_part_name[p], l,
			    (double)part[k][p].ns / n / 1000.0);
			printf("runs_%s_%s %.2f\n", cpu_part_name[p], l,
			    (double)part[k][p].runs / n);
			printf("syscalls_rw_%s_%s %.2f\n", cpu_part_name[p], l,
			    (double)part[k][p].syscalls / n);
		}
		proccpu_close(&cs[k].cpu_client);
		proccpu_close(&cs[k].cpu_shim);
		free(tot[k]);
	}
	proccpu_close(&hv);
	proccpu_close(&cd);
}

static int
cmd_rtt(int argc, char **argv)
{
	struct pclient *cs;
	size_t nc, k, r, rounds, warm = 50;
	long hvpid = 0, cdpid = 0;
	char *end;
	int first = 3;

	if (argc < 5)
		die("usage: sc-bench rtt N [--cpu HVPID,CDPID] LABEL CMD [LABEL CMD]...");
	rounds = strtoul(argv[2], &end, 10);
	if (*end != '\0' || rounds < 2)
		die("rtt: N must be a number >= 2");
	if (strcmp(argv[3], "--cpu") == 0) {
		if (argc < 7 || sscanf(argv[4], "%ld,%ld", &hvpid, &cdpid) != 2 ||
		    hvpid <= 0 || cdpid <= 0)
			die("rtt: --cpu HVPID,CDPID");
		first = 5;
	}
	nc = parse_clients(argc, argv, first, &cs);
	for (k = 0; k < nc; k++) {
		pc_start_shell(&cs[k], (unsigned)k);
		if ((cs[k].samples = calloc(rounds, sizeof(uint64_t))) == NULL)
			die("out of memory");
	}
	/* Warm up every path (caches, branch predictors, TCP windows). */
	for (r = 0; r < warm; r++)
		for (k = 0; k < nc; k++)
			(void)keystroke(&cs[k], r % 2);
	for (r = 0; r < rounds; r++)
		for (k = 0; k < nc; k++) {
			/* ABAB, then BABA: neither always goes first. */
			size_t j = (r / 2) % 2 ? nc - 1 - k : k;
			cs[j].samples[cs[j].nsamples++] = keystroke(&cs[j], r % 2);
		}
	for (k = 0; k < nc; k++)
		report_samples("rtt", cs[k].label, cs[k].samples, cs[k].nsamples);
	if (hvpid > 0)
		rtt_cpu(cs, nc, rounds / 2, (pid_t)hvpid, (pid_t)cdpid);
	for (k = 0; k < nc; k++)
		pc_stop(&cs[k]);
	return 0;
}

static int
cmd_tput(int argc, char **argv)
{
	struct pclient *cs;
	struct stat_ { uint64_t v[64]; size_t n; } *res;
	size_t nc, k, r, rounds, fsize;
	unsigned tag = 1000;
	const char *file;
	FILE *f;
	char *end;

	if (argc < 6)
		die("usage: sc-bench tput ROUNDS FILE LABEL CMD [LABEL CMD]...");
	rounds = strtoul(argv[2], &end, 10);
	if (*end != '\0' || rounds < 1 || rounds > 64)
		die("tput: ROUNDS must be 1..64");
	file = argv[3];
	if ((f = fopen(file, "rb")) == NULL || fseek(f, 0, SEEK_END) != 0)
		die("%s: %s", file, strerror(errno));
	fsize = (size_t)ftell(f);
	fclose(f);
	nc = parse_clients(argc, argv, 4, &cs);
	if ((res = calloc(nc, sizeof(*res))) == NULL)
		die("out of memory");
	for (k = 0; k < nc; k++)
		pc_start_shell(&cs[k], (unsigned)k);
	for (r = 0; r < rounds; r++)
		for (k = 0; k < nc; k++) {
			size_t j = r % 2 ? nc - 1 - k : k;
			struct pclient *c = &cs[j];
			char cmd[4200], want[64];
			uint64_t t0, t1;

			tag++;
			snprintf(cmd, sizeof(cmd), "cat '%s'; echo SCB-E''ND-%u\n", file, tag);
			snprintf(want, sizeof(want), "SCB-END-%u", tag);
			pc_mark(c);
			t0 = now_ns();
			pc_send(c, cmd, strlen(cmd));
			pc_expect(c, want, strlen(want), 600000);
			t1 = now_ns();
			if (c->rx_total < fsize)
				die("%s: only %llu of %zu bytes arrived", c->label,
				    (unsigned long long)c->rx_total, fsize);
			/*
			 * bytes per microsecond = MB/s; kept as MB/s * 10^6, so
			 * that the lab's ~0.03 MB/s keeps 4 significant digits.
			 */
			res[j].v[res[j].n++] = (uint64_t)((double)fsize * 1e9 /
			    (double)(t1 - t0));
			pc_quiet(c, 200);
		}
	for (k = 0; k < nc; k++) {
		uint64_t med = median(res[k].v, res[k].n);
		printf("tput_%s_MBps %.4f\n", cs[k].label, (double)med / 1e6);
		printf("tput_min_%s_MBps %.4f\n", cs[k].label, (double)res[k].v[0] / 1e6);
		printf("tput_max_%s_MBps %.4f\n", cs[k].label,
		    (double)res[k].v[res[k].n - 1] / 1e6);
		pc_stop(&cs[k]);
	}
	return 0;
}

/* One `cat FILE` into a fresh pty; the bytes read from the master. */
static uint64_t
pty_round(const char *file, uint64_t *ns)
{
	static uint8_t buf[8192];
	struct termios tio;
	uint64_t t0, got = 0;
	const char *slave;
	ssize_t n;
	pid_t pid;
	int m, s, status;

	if ((m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC)) == -1 ||
	    grantpt(m) == -1 || unlockpt(m) == -1 || (slave = ptsname(m)) == NULL)
		die("pty: %s", strerror(errno));
	if ((s = open(slave, O_RDWR | O_NOCTTY | O_CLOEXEC)) == -1 ||
	    tcgetattr(s, &tio) == -1)
		die("pty %s: %s", slave, strerror(errno));
	/* A console's settings: output processing on (ONLCR), no echo needed. */
	tio.c_oflag |= OPOST | ONLCR;
	tio.c_lflag &= ~(tcflag_t)ECHO;
	if (tcsetattr(s, TCSANOW, &tio) == -1)
		die("pty: tcsetattr: %s", strerror(errno));
	t0 = now_ns();
	if ((pid = fork()) == -1)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		if (dup2(s, STDOUT_FILENO) == -1)
			_exit(126);
		execlp("cat", "cat", file, (char *)NULL);
		_exit(127);
	}
	close(s);
	for (;;) {
		n = read(m, buf, sizeof(buf));
		if (n > 0)
			got += (uint64_t)n;
		else if (n == -1 && errno == EINTR)
			continue;
		else
			break;	/* EIO: the slave side is closed, cat is done */
	}
	*ns = now_ns() - t0;
	close(m);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		die("pty: cat %s failed", file);
	return got;
}

static int
cmd_pty(int argc, char **argv)
{
	uint64_t v[64], ns, got;
	size_t r, rounds, fsize;
	struct stat st;
	char *end;

	if (argc != 4)
		die("usage: sc-bench pty ROUNDS FILE");
	rounds = strtoul(argv[2], &end, 10);
	if (*end != '\0' || rounds < 1 || rounds > 64)
		die("pty: ROUNDS must be 1..64");
	if (stat(argv[3], &st) == -1)
		die("%s: %s", argv[3], strerror(errno));
	fsize = (size_t)st.st_size;
	for (r = 0; r < rounds; r++) {
		got = pty_round(argv[3], &ns);
		if (got < fsize)
			die("pty: only %llu of %zu bytes arrived",
			    (unsigned long long)got, fsize);
		v[r] = (uint64_t)((double)fsize * 1e6 / (double)ns);
	}
	printf("tput_pty_MBps %.2f\n", (double)median(v, rounds) / 1000.0);
	printf("tput_min_pty_MBps %.2f\n", (double)v[0] / 1000.0);
	printf("tput_max_pty_MBps %.2f\n", (double)v[rounds - 1] / 1000.0);
	return 0;
}

/* A child that echoes every byte from rfd to wfd until EOF. */
static pid_t
spawn_echo(int rfd, int wfd)
{
	uint8_t b[64];
	ssize_t n;
	pid_t pid;

	if ((pid = fork()) == -1)
		die("fork: %s", strerror(errno));
	if (pid != 0)
		return pid;
	while ((n = read(rfd, b, sizeof(b))) > 0)
		if (write(wfd, b, (size_t)n) != n)
			_exit(1);
	_exit(0);
}

/* A child that copies a_in -> b_out and b_in -> a_out, polling both. */
static pid_t
spawn_relay(int a_in, int a_out, int b_in, int b_out)
{
	struct pollfd p[2] = { { a_in, POLLIN, 0 }, { b_in, POLLIN, 0 } };
	uint8_t b[64];
	ssize_t n;
	pid_t pid;

	if ((pid = fork()) == -1)
		die("fork: %s", strerror(errno));
	if (pid != 0)
		return pid;
	for (;;) {
		if (poll(p, 2, -1) == -1)
			_exit(1);
		if (p[0].revents) {
			if ((n = read(a_in, b, sizeof(b))) <= 0 ||
			    write(b_out, b, (size_t)n) != n)
				_exit(0);
		}
		if (p[1].revents) {
			if ((n = read(b_in, b, sizeof(b))) <= 0 ||
			    write(a_out, b, (size_t)n) != n)
				_exit(0);
		}
	}
}

static uint64_t
pipe_round_trip(int wfd, int rfd)
{
	struct pollfd p = { rfd, POLLIN, 0 };
	uint64_t t0 = now_ns();
	uint8_t c = 'a';

	if (write(wfd, &c, 1) != 1 || poll(&p, 1, STEP_TIMEOUT_MS) != 1 ||
	    read(rfd, &c, 1) != 1)
		die("relay: the echo process stopped answering");
	return now_ns() - t0;
}

static int
cmd_relay(int argc, char **argv)
{
	int d_to[2], d_from[2], r_to[2], r_from[2], e_to[2], e_from[2];
	uint64_t *direct, *relayed;
	size_t i, rounds;
	pid_t pids[3];
	char *end;

	if (argc != 3)
		die("usage: sc-bench relay N");
	rounds = strtoul(argv[2], &end, 10);
	if (*end != '\0' || rounds < 2)
		die("relay: N must be a number >= 2");
	if ((direct = calloc(rounds, sizeof(*direct))) == NULL ||
	    (relayed = calloc(rounds, sizeof(*relayed))) == NULL)
		die("out of memory");
	if (pipe(d_to) == -1 || pipe(d_from) == -1 || pipe(r_to) == -1 ||
	    pipe(r_from) == -1 || pipe(e_to) == -1 || pipe(e_from) == -1)
		die("pipe: %s", strerror(errno));
	pids[0] = spawn_echo(d_to[0], d_from[1]);
	pids[1] = spawn_relay(r_to[0], r_from[1], e_from[0], e_to[1]);
	pids[2] = spawn_echo(e_to[0], e_from[1]);
	for (i = 0; i < 200; i++) {	/* warm up */
		(void)pipe_round_trip(d_to[1], d_from[0]);
		(void)pipe_round_trip(r_to[1], r_from[0]);
	}
	for (i = 0; i < rounds; i++) {
		if (i % 2) {
			direct[i] = pipe_round_trip(d_to[1], d_from[0]);
			relayed[i] = pipe_round_trip(r_to[1], r_from[0]);
		} else {
			relayed[i] = pipe_round_trip(r_to[1], r_from[0]);
			direct[i] = pipe_round_trip(d_to[1], d_from[0]);
		}
	}
	close(d_to[1]);
	close(r_to[1]);
	close(e_to[1]);
	for (i = 0; i < 3; i++) {
		(void)kill(pids[i], SIGTERM);
		(void)waitpid(pids[i], NULL, 0);
	}
	qsort(direct, rounds, sizeof(uint64_t), cmp_u64);
	qsort(relayed, rounds, sizeof(uint64_t), cmp_u64);
	printf("host_pipe_rtt_us %.1f\n", (double)median(direct, rounds) / 1000.0);
	printf("host_relay_us %.1f\n", ((double)median(relayed, rounds) -
	    (double)median(direct, rounds)) / 1000.0);
	return 0;
}

static int
cmd_filter(int argc, char **argv)
{
	int to[2], from[2], status;
	struct pollfd p[2];
	uint8_t b[16384];
	ssize_t n;
	pid_t pid;

	if (argc != 3)
		die("usage: sc-bench filter CMD");
	if (pipe(to) == -1 || pipe(from) == -1)
		die("pipe: %s", strerror(errno));
	if ((pid = fork()) == -1)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		if (dup2(to[0], 0) == -1 || dup2(from[1], 1) == -1)
			_exit(127);
		close(to[0]);
		close(to[1]);
		close(from[0]);
		close(from[1]);
		execl("/bin/sh", "sh", "-c", argv[2], (char *)NULL);
		_exit(127);
	}
	close(to[0]);
	close(from[1]);
	p[0].fd = STDIN_FILENO;
	p[0].events = POLLIN;
	p[1].fd = from[0];
	p[1].events = POLLIN;
	for (;;) {
		if (poll(p, 2, -1) == -1) {
			if (errno == EINTR)
				continue;
			die("filter: poll: %s", strerror(errno));
		}
		if (p[0].revents) {
			if ((n = read(STDIN_FILENO, b, sizeof(b))) <= 0) {
				close(to[1]);
				p[0].fd = -1;
			} else if (sc_write_all(to[1], b, (size_t)n) != 0)
				break;
		}
		if (p[1].revents) {
			if ((n = read(from[0], b, sizeof(b))) <= 0 ||
			    sc_write_all(STDOUT_FILENO, b, (size_t)n) != 0)
				break;
		}
	}
	(void)waitpid(pid, &status, 0);
	return 0;
}

static int
cmd_connect(int argc, char **argv)
{
	struct pclient c;
	uint64_t *v, t0;
	size_t r, rounds;
	char *end;

	if (argc != 5)
		die("usage: sc-bench connect ROUNDS LABEL CMD");
	rounds = strtoul(argv[2], &end, 10);
	if (*end != '\0' || rounds < 1)
		die("connect: ROUNDS must be a number");
	if ((v = calloc(rounds, sizeof(*v))) == NULL)
		die("out of memory");
	memset(&c, 0, sizeof(c));
	c.label = argv[3];
	c.cmd = argv[4];
	c.eof_ok = true;
	for (r = 0; r < rounds; r++) {
		c.eof = false;
		t0 = now_ns();
		pc_spawn(&c);
		while (pc_read(&c, 1000) == 0)
			if (c.eof || now_ns() - t0 > (uint64_t)STEP_TIMEOUT_MS * 1000000u)
				die("%s: nothing on the screen", c.label);
		v[r] = now_ns() - t0;
		pc_stop(&c);
	}
	printf("connect_%s_ms %.1f\n", c.label, (double)median(v, rounds) / 1e6);
	printf("connect_max_%s_ms %.1f\n", c.label, (double)v[rounds - 1] / 1e6);
	return 0;
}

/* ------------------------------------------------------------------ */
/* load: many encrypted sessions in one process                        */

enum ls_state {
	LS_IDLE = 0, LS_CLEAR, LS_WAIT_HELLO, LS_WAIT_PROTECT, LS_WAIT_HS,
	LS_OPEN, LS_BYE, LS_DONE, LS_FAILED,
};

enum ls_goal { LG_BIND, LG_OPEN };

struct lsess {
	unsigned	 idx;
	char		 vm[SC_VMNAME_MAX + 1];
	enum ls_state	 state;
	enum ls_goal	 goal;
	pid_t		 pid;
	int		 to, from;
	uint8_t		 enc;
	struct sc_hello_scanner scan;
	struct sc_frame_decoder *dec;
	struct sc_noise_handshake *hs;
	struct sc_record_layer rl;
	struct sc_hello	*hello;
	uint8_t		 psk[SC_PSK_LEN];
	uint8_t		 blob_id[SC_BLOB_ID_LEN];	/* of the PROTECT sent */
	uint64_t	 t_start;
	/* Typing. */
	bool		 viewer;	/* read-only: receives, never types */
	bool		 waiting;
	bool		 next_del;
	uint8_t		 want;
	uint64_t	 t_sent, t_next;
	unsigned	 keys;
};

static struct {
	const char	*shim, *conf, *prefix, *disk_key_path;
	unsigned	 count, viewers, nsess, interval_ms, seconds, parallel;
	uint32_t	 history;
	pid_t		 pids[4];
	unsigned	 npids;
	uint8_t		 disk_key[SC_DISK_KEY_MAX];
	size_t		 disk_key_len;
	uint8_t		 user_sk[32], user_pk[32];
	const struct sc_crypto *cp;
	struct lsess	*s;
	int		 ep;		/* epoll over the shims' output */
	bool		 measuring;
	uint64_t	*samples;
	size_t		 nsamples, maxsamples;
	char		 first_error[256];
	unsigned	 failures;
	FILE		*trace;		/* --trace: every sample, as its echo arrives */
	uint64_t	 t_typing;	/* when the typing phase began */
	bool		 raw;		/* --raw: plaintext sessions, no SCCrypt */
} L = { .interval_ms = 200, .seconds = 10, .parallel = 16, .history = 2048 };

static void __attribute__((format(printf, 2, 3)))
ls_fail(struct lsess *s, const char *fmt, ...)
{
	va_list ap;

	if (L.first_error[0] == '\0') {
		int n = snprintf(L.first_error, sizeof(L.first_error), "%s: ", s->vm);
		va_start(ap, fmt);
		vsnprintf(L.first_error + n, sizeof(L.first_error) - (size_t)n, fmt, ap);
		va_end(ap);
	}
	L.failures++;
	s->state = LS_FAILED;
	if (s->to >= 0)
		close(s->to);
	s->to = -1;
}

static void
ls_send_frame(struct lsess *s, uint8_t type, const uint8_t *body, size_t len)
{
	static uint8_t mem[SC_FRAME_ENC_MAX];
	struct sc_buf b;

	sc_buf_init(&b, mem, sizeof(mem));
	if (sc_frame_encode(&b, s->enc, type, body, len) < 0) {
		ls_fail(s, "cannot encode a frame");
		return;
	}
	/* The shim reads promptly; a short blocking write is fine here. */
	if (sc_write_all(s->to, mem, b.len) != 0)
		ls_fail(s, "write to the shim failed");
}

static void
ls_send_record(struct lsess *s, uint8_t type, const void *p, size_t n)
{
	uint8_t ct[SC_RECORD_CT_MAX];
	struct sc_buf b;

	sc_buf_init(&b, ct, sizeof(ct));
	if (sc_record_seal(&s->rl, type, p, n, &b) < 0) {
		ls_fail(s, "seal failed");
		return;
	}
	ls_send_frame(s, SC_FRAME_RECORD, ct, b.len);
}

static void ls_type(struct lsess *s);

static void
ls_start(struct lsess *s, enum ls_goal goal)
{
	int in[2], out[2];

	s->goal = goal;
	s->t_start = now_ns();
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0)
		die("pipe: %s", strerror(errno));
	if ((s->pid = fork()) < 0)
		die("fork: %s", strerror(errno));
	if (s->pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		if (L.raw) {	/* the shim's plaintext warning, once per session */
			int null = open("/dev/null", O_WRONLY);
			if (null >= 0)
				dup2(null, 2);
		}
		signal(SIGPIPE, SIG_DFL);
		if (L.raw) {
			/* As sshd runs it for `ssh host xenconsole VM`: auto mode. */
			char soc[16 + SC_VMNAME_MAX];
			snprintf(soc, sizeof(soc), "xenconsole %s", s->vm);
			setenv("SSH_ORIGINAL_COMMAND", soc, 1);
			execl(L.shim, L.shim, "-f", L.conf, (char *)NULL);
		}
		execl(L.shim, L.shim, "-f", L.conf, s->vm, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	s->to = in[1];
	s->from = out[0];
	if (sc_set_nonblock(s->from, 1) != 0)
		die("nonblock: %s", strerror(errno));
	{
		struct epoll_event e;
		memset(&e, 0, sizeof(e));
		e.events = EPOLLIN;
		e.data.u32 = s->idx;
		if (epoll_ctl(L.ep, EPOLL_CTL_ADD, s->from, &e) != 0)
			die("epoll_ctl: %s", strerror(errno));
	}
	sc_hello_scanner_init(&s->scan);
	s->state = LS_CLEAR;
	if (L.raw) {
		/* Plaintext from the start; the first echo shows it is attached. */
		s->state = LS_OPEN;
		ls_type(s);
	}
}

static void
ls_hello(struct lsess *s, const struct sc_frame *f)
{
	static struct sc_registration reg;
	static uint8_t blob[SC_PROTECT_PAYLOAD_MAX];
	uint8_t prologue[SC_PROTOCOL_ID_LEN + SC_UUID_LEN + SC_KEY_LEN];
	uint8_t p1[SC_HS1_PAYLOAD_LEN], msg[256];
	struct sc_buf b, pb;

	sc_buf_init_ro(&b, f->body, f->len);
	if (sc_hello_parse(&b, s->hello) < 0) {
		ls_fail(s, "malformed HELLO");
		return;
	}
	if (s->goal == LG_BIND) {
		memset(&reg, 0, sizeof(reg));
		memcpy(reg.uuid, s->hello->uuid, SC_UUID_LEN);
		reg.generation = sc_blob_generation_now();
		memcpy(reg.vm_secret, s->psk, SC_PSK_LEN);
		memcpy(reg.disk_key, L.disk_key, L.disk_key_len);
		reg.disk_key_len = L.disk_key_len;
		reg.options = SC_REG_OPT_HISTORY;
		reg.history_size = L.history;
		reg.acl_count = 1;
		memcpy(reg.acl[0].pubkey, L.user_pk, SC_KEY_LEN);
		reg.acl[0].flags = SC_ACL_F_OWNER;
		sc_buf_init(&b, blob, sizeof(blob));
		if (sc_protect_seal(L.cp, &reg, s->hello->hv_pubkey, NULL, &b) < 0) {
			ls_fail(s, "cannot seal the registration blob");
			return;
		}
		memcpy(s->blob_id, reg.blob_id, SC_BLOB_ID_LEN);
		ls_send_frame(s, SC_FRAME_PROTECT, blob, b.len);
		if (s->state != LS_FAILED)
			s->state = LS_WAIT_PROTECT;
		return;
	}
	if (!(s->hello->flags & SC_HELLO_F_PROTECTED)) {
		ls_fail(s, "domain is not protected");
		return;
	}
	memcpy(prologue, SC_PROTOCOL_ID, SC_PROTOCOL_ID_LEN);
	memcpy(prologue + SC_PROTOCOL_ID_LEN, s->hello->uuid, SC_UUID_LEN);
	memcpy(prologue + SC_PROTOCOL_ID_LEN + SC_UUID_LEN, s->hello->hv_pubkey,
	    SC_KEY_LEN);
	if (sc_noise_hs_init(s->hs, L.cp, sc_noise_pattern_lookup(SC_NOISE_PROTOCOL),
	    true, prologue, sizeof(prologue), L.user_sk, s->hello->hv_pubkey,
	    s->psk, 1) < 0) {
		ls_fail(s, "handshake init failed");
		return;
	}
	sc_buf_init(&pb, p1, sizeof(p1));
	sc_buf_init(&b, msg, sizeof(msg));
	if (sc_buf_put_u8(&pb, SC_PROTOCOL_VERSION) < 0 ||
	    sc_buf_put_u8(&pb, s->viewer ? SC_HS1_F_VIEWER : 0) < 0 ||
	    sc_buf_put_u32(&pb, 0) < 0 ||
	    sc_noise_hs_write(s->hs, p1, pb.len, &b) < 0) {
		ls_fail(s, "handshake write failed");
		return;
	}
	ls_send_frame(s, SC_FRAME_HS_INIT, msg, b.len);
	if (s->state != LS_FAILED)
		s->state = LS_WAIT_HS;
}

static void
ls_type(struct lsess *s)
{
	uint8_t key = s->next_del ? DEL : 'a';

	s->want = s->next_del ? '\b' : 'a';
	s->next_del = !s->next_del;
	s->waiting = true;
	s->t_sent = now_ns();
	if (!L.raw)
		ls_send_record(s, SC_REC_DATA, &key, 1);
	else if (sc_write_all(s->to, &key, 1) != 0)
		ls_fail(s, "write to the shim failed");
}

/* Console output p[0..n) reached session s: the echo it waits for? */
static void
ls_echo(struct lsess *s, const uint8_t *p, size_t n)
{
	uint64_t tr;
	size_t i;

	if (!s->waiting)
		return;
	for (i = 0; i < n; i++)
		if (p[i] == s->want)
			break;
	if (i == n)
		return;
	tr = now_ns();
	s->waiting = false;
	s->keys++;
	if (L.measuring && L.nsamples < L.maxsamples)
		L.samples[L.nsamples++] = tr - s->t_sent;
	if (L.measuring && L.trace != NULL)
		fprintf(L.trace, "%.3f %.1f %u\n",
		    (double)(s->t_sent - L.t_typing) / 1e6,
		    (double)(tr - s->t_sent) / 1e3, (unsigned)(s - L.s));
}

static void
ls_frame(struct lsess *s, const struct sc_frame *f)
{
	static uint8_t pt[SC_RECORD_PAYLOAD_MAX];
	struct sc_noise_transport t;
	uint8_t p2[64], confirm[32], want[32], type;
	char text[SC_ERRMSG_MAX + 1];
	struct sc_buf b, pb;
	uint32_t status;
	uint16_t code;

	if (f->type == SC_FRAME_ERROR) {
		sc_buf_init_ro(&b, f->body, f->len);
		if (sc_errorframe_parse(&b, &code, text) == 0)
			ls_fail(s, "dom0 error %u: %s", code, text);
		else
			ls_fail(s, "malformed ERROR frame");
		return;
	}
	switch (s->state) {
	case LS_WAIT_HELLO:
		if (f->type != SC_FRAME_HELLO)
			break;
		ls_hello(s, f);
		return;
	case LS_WAIT_PROTECT:
		if (f->type != SC_FRAME_PROTECT_OK)
			break;
		sc_buf_init_ro(&b, f->body, f->len);
		if (sc_buf_get_u32(&b, &status) < 0 ||
		    sc_buf_get_bytes(&b, confirm, 32) < 0) {
			ls_fail(s, "malformed PROTECT_OK");
			return;
		}
		{
			struct sc_registration reg;
			memset(&reg, 0, sizeof(reg));
			memcpy(reg.uuid, s->hello->uuid, SC_UUID_LEN);
			memcpy(reg.vm_secret, s->psk, SC_PSK_LEN);
			memcpy(reg.disk_key, L.disk_key, L.disk_key_len);
			reg.disk_key_len = L.disk_key_len;
			reg.options = SC_REG_OPT_HISTORY;
			reg.history_size = L.history;
			reg.acl_count = 1;
			memcpy(reg.acl[0].pubkey, L.user_pk, SC_KEY_LEN);
			reg.acl[0].flags = SC_ACL_F_OWNER;
			memcpy(reg.blob_id, s->blob_id, SC_BLOB_ID_LEN);
			if (sc_blob_confirm(L.cp, &reg, s->hello->hv_pubkey,
			    (int32_t)status, want) < 0 ||
			    sodium_memcmp(want, confirm, 32) != 0) {
				ls_fail(s, "PROTECT_OK confirm does not verify");
				return;
			}
			sodium_memzero(&reg, sizeof(reg));
		}
		if ((int32_t)status != 0) {
			ls_fail(s, "PROTECT refused: %s", sc_err((int32_t)status));
			return;
		}
		ls_send_frame(s, SC_FRAME_BYE, NULL, 0);
		close(s->to);
		s->to = -1;
		s->state = LS_BYE;
		return;
	case LS_WAIT_HS:
		if (f->type != SC_FRAME_HS_RESP)
			break;
		sc_buf_init(&pb, p2, sizeof(p2));
		if (sc_noise_hs_read(s->hs, f->body, f->len, &pb) < 0 ||
		    sc_noise_hs_split(s->hs, &t) < 0) {
			ls_fail(s, "handshake failed");
			return;
		}
		sc_noise_hs_wipe(s->hs);
		sc_record_init(&s->rl, &t);
		s->state = LS_OPEN;
		/* The first record makes this session the domain's writer. */
		if (!s->viewer)
			ls_type(s);
		return;
	case LS_OPEN:
		if (f->type == SC_FRAME_BYE) {
			ls_fail(s, "dom0 said BYE");
			return;
		}
		if (f->type != SC_FRAME_RECORD)
			break;
		sc_buf_init(&b, pt, sizeof(pt));
		if (sc_record_open(&s->rl, f->body, f->len, &type, &b) < 0) {
			ls_fail(s, "record failed to authenticate");
			return;
		}
		if (type == SC_REC_CLOSE) {
			ls_fail(s, "closed by the hypervisor");
			return;
		}
		if (type == SC_REC_DATA)
			ls_echo(s, pt, b.len);
		return;
	default:
		return;
	}
	ls_fail(s, "unexpected frame type %u", f->type);
}

static void
ls_input(struct lsess *s)
{
	static uint8_t buf[16384], clear[16384 + SC_HELLO_MAGIC_LEN];
	struct sc_frame f;
	size_t off, used, cl;
	ssize_t n;
	int r;

	for (;;) {
		n = read(s->from, buf, sizeof(buf));
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			close(s->from);
			s->from = -1;
			if (s->to >= 0)
				close(s->to);
			s->to = -1;
			if (s->state == LS_BYE)
				s->state = LS_DONE;
			else if (s->state != LS_FAILED)
				ls_fail(s, "the shim ended");
			return;
		}
		off = 0;
		if (L.raw) {
			ls_echo(s, buf, (size_t)n);
			continue;
		}
		if (s->state == LS_CLEAR) {
			r = sc_hello_scan(&s->scan, buf, (size_t)n, clear, &cl, &used);
			if (r < 0) {
				ls_fail(s, "HELLO scanner: %s", sc_err(r));
				return;
			}
			if (r == 0)
				continue;
			s->enc = s->scan.encoding;
			if (sc_frame_decoder_init(s->dec, s->enc) < 0) {
				ls_fail(s, "bad encoding");
				return;
			}
			s->state = LS_WAIT_HELLO;
			off = used;
		}
		while (off < (size_t)n && s->state != LS_FAILED && s->state != LS_CLEAR) {
			r = sc_frame_decode(s->dec, buf + off, (size_t)n - off, &used, &f);
			off += used;
			if (r < 0) {
				ls_fail(s, "malformed frame: %s", sc_err(r));
				return;
			}
			if (r == 1)
				ls_frame(s, &f);
		}
	}
}

static void
ls_reap(struct lsess *s)
{
	int st;

	if (s->pid > 0 && waitpid(s->pid, &st, WNOHANG) == s->pid)
		s->pid = -1;
}

static bool
ls_busy(const struct lsess *s)
{
	return s->state == LS_CLEAR || s->state == LS_WAIT_HELLO ||
	    s->state == LS_WAIT_PROTECT || s->state == LS_WAIT_HS ||
	    s->state == LS_BYE || (s->state == LS_OPEN && s->waiting);
}

/*
 * One poll round over every session with a shim; typing when due.
 * Returns after at most max_ms.
 */
static void
ls_poll(int max_ms, bool typing)
{
	struct epoll_event evs[256];
	uint64_t now = now_ns(), next = now + (uint64_t)max_ms * 1000000u;
	unsigned i;
	int n, k, timeout;

	for (i = 0; typing && i < L.nsess; i++) {
		struct lsess *s = &L.s[i];
		if (s->state != LS_OPEN || s->waiting || s->viewer)
			continue;
		if (s->t_next <= now) {
			s->t_next += (uint64_t)L.interval_ms * 1000000u;
			if (s->t_next < now)
				s->t_next = now + (uint64_t)L.interval_ms * 1000000u;
			ls_type(s);
		} else if (s->t_next < next)
			next = s->t_next;
	}
	now = now_ns();
	timeout = next > now ? (int)((next - now + 999999) / 1000000) : 0;
	if ((n = epoll_wait(L.ep, evs, 256, timeout)) < 0 && errno != EINTR)
		die("epoll_wait: %s", strerror(errno));
	for (k = 0; k < n; k++) {
		struct lsess *s = &L.s[evs[k].data.u32];
		if (s->from >= 0)
			ls_input(s);
		if (s->from < 0)
			ls_reap(s);
	}
	for (i = 0; i < L.nsess; i++)
		if (L.s[i].from < 0 && L.s[i].pid > 0)
			ls_reap(&L.s[i]);
}

/*
 * Bind the domains (sessions [0, count), the writers) or open every
 * session (writers first, then viewers), at most L.parallel at once.
 */
static unsigned
ls_phase(enum ls_goal goal)
{
	unsigned next = 0, busy, i, ok = 0, n = goal == LG_BIND ? L.count : L.nsess;
	uint64_t deadline = now_ns() + (uint64_t)n * 2000000000u + 30000000000u;

	for (;;) {
		busy = 0;
		for (i = 0; i < next; i++)
			if (ls_busy(&L.s[i]))
				busy++;
		while (busy < L.parallel && next < n) {
			ls_start(&L.s[next++], goal);
			busy++;
		}
		if (busy == 0 && next == n)
			break;
		if (now_ns() > deadline)
			die("load: %s phase timed out", goal == LG_BIND ? "bind" : "open");
		ls_poll(100, false);
	}
	for (i = 0; i < n; i++)
		if ((goal == LG_BIND && L.s[i].state == LS_DONE) ||
		    (goal == LG_OPEN && L.s[i].state == LS_OPEN))
			ok++;
	return ok;
}

static long
rss_kib(pid_t pid)
{
	char path[64], line[256];
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmRSS: %ld", &v) == 1)
			break;
	fclose(f);
	return v;
}

/*
 * CPU time the host took from this machine (/proc/stat "steal"), in ms,
 * or -1 where it is not reported: a VM's whole-machine stalls show here.
 */
static long long
steal_ms(void)
{
	unsigned long long v[8];
	long hz = sysconf(_SC_CLK_TCK);
	FILE *f;
	int n;

	if (hz <= 0 || (f = fopen("/proc/stat", "r")) == NULL)
		return -1;
	n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0],
	    &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]);
	fclose(f);
	return n == 8 ? (long long)(v[7] * 1000 / (unsigned long long)hz) : -1;
}

static long
rss_total(void)
{
	long t = 0, v;
	unsigned i;

	for (i = 0; i < L.npids; i++) {
		if ((v = rss_kib(L.pids[i])) < 0)
			die("load: process %ld is gone", (long)L.pids[i]);
		t += v;
	}
	return t;
}

static void
settle(unsigned ms)
{
	uint64_t until = now_ns() + (uint64_t)ms * 1000000u;

	while (now_ns() < until)
		ls_poll(50, false);
}

static int
cmd_load(int argc, char **argv)
{
	unsigned i, bound, opened;
	long rss0, rss1, rss2;
	long long steal0, steal1;
	uint64_t t0, t1, until, opened_ns;
	struct rlimit rl;
	unsigned char *kd = NULL;
	size_t kl = 0;
	char *p, *end;
	int a;

	for (a = 2; a < argc; a++) {
		const char *o = argv[a], *v = a + 1 < argc ? argv[a + 1] : NULL;
		if (v == NULL && strcmp(o, "--raw") != 0)
			die("load: %s needs a value", o);
		a++;
		if (strcmp(o, "--shim") == 0) L.shim = v;
		else if (strcmp(o, "--conf") == 0) L.conf = v;
		else if (strcmp(o, "--vm-prefix") == 0) L.prefix = v;
		else if (strcmp(o, "--disk-key") == 0) L.disk_key_path = v;
		else if (strcmp(o, "--count") == 0) L.count = (unsigned)strtoul(v, NULL, 10);
		else if (strcmp(o, "--viewers") == 0) L.viewers = (unsigned)strtoul(v, NULL, 10);
		else if (strcmp(o, "--interval") == 0) L.interval_ms = (unsigned)strtoul(v, NULL, 10);
		else if (strcmp(o, "--seconds") == 0) L.seconds = (unsigned)strtoul(v, NULL, 10);
		else if (strcmp(o, "--parallel") == 0) L.parallel = (unsigned)strtoul(v, NULL, 10);
		else if (strcmp(o, "--history") == 0) L.history = (uint32_t)strtoul(v, NULL, 10);
		else if (strcmp(o, "--raw") == 0) {
			L.raw = true;
			a--;		/* takes no value */
		}
		else if (strcmp(o, "--trace") == 0) {
			if ((L.trace = fopen(v, "w")) == NULL)
				die("load: %s: %s", v, strerror(errno));
		}
		else if (strcmp(o, "--pids") == 0) {
			char *dup = strdup(v), *save = NULL;
			for (p = strtok_r(dup, ",", &save); p != NULL && L.npids < 4;
			    p = strtok_r(NULL, ",", &save)) {
				L.pids[L.npids++] = (pid_t)strtol(p, &end, 10);
				if (*end != '\0')
					die("load: bad pid list");
			}
			free(dup);
		} else
			die("load: unknown option %s", o);
	}
	if (L.shim == NULL || L.conf == NULL || L.prefix == NULL ||
	    (L.disk_key_path == NULL && !L.raw) || L.count == 0 ||
	    L.parallel == 0 || L.interval_ms == 0 || L.viewers > 3 ||
	    (L.raw && L.viewers > 0))
		die("load: --shim, --conf, --vm-prefix, --disk-key (unless --raw) "
		    "and --count are required; --raw has no viewers");
	if (!L.raw && (sc_read_file(L.disk_key_path, SC_DISK_KEY_MAX, &kd, &kl) != 0 ||
	    kl == 0 || kl > SC_DISK_KEY_MAX))
		die("load: cannot read the disk key %s", L.disk_key_path);
	if (!L.raw) {
		memcpy(L.disk_key, kd, kl);
		L.disk_key_len = kl;
		sodium_memzero(kd, kl);
		free(kd);
	}
	L.nsess = L.count * (1 + L.viewers);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 4 * (rlim_t)L.nsess + 64) {
		rl.rlim_cur = SC_MIN(rl.rlim_max, 4 * (rlim_t)L.nsess + 64);
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	if ((L.ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
		die("epoll_create1: %s", strerror(errno));
	L.cp = sc_crypto_sodium();
	randombytes_buf(L.user_sk, sizeof(L.user_sk));
	if (L.cp->x25519_base(L.user_pk, L.user_sk) != 0)
		die("load: key generation failed");
	if ((L.s = calloc(L.nsess, sizeof(*L.s))) == NULL)
		die("out of memory");
	for (i = 0; i < L.nsess; i++) {
		struct lsess *s = &L.s[i];
		s->idx = i;
		s->viewer = i >= L.count;
		snprintf(s->vm, sizeof(s->vm), "%s%u", L.prefix, i % L.count + 1);
		s->to = s->from = -1;
		if ((s->dec = calloc(1, sizeof(*s->dec))) == NULL ||
		    (s->hs = calloc(1, sizeof(*s->hs))) == NULL ||
		    (s->hello = calloc(1, sizeof(*s->hello))) == NULL)
			die("out of memory");
		if (s->viewer)
			memcpy(s->psk, L.s[i % L.count].psk, sizeof(s->psk));
		else
			randombytes_buf(s->psk, sizeof(s->psk));
	}

	/* 1. Bind every domain (PROTECT: blob, LUKS2 disk-key check, confirm). */
	t0 = now_ns();
	bound = L.raw ? L.count : ls_phase(LG_BIND);
	t1 = now_ns();
	printf("load_bound %u\n", bound);
	printf("load_bind_ms_per_domain %.1f\n",
	    (double)(t1 - t0) / 1e6 / (bound ? bound : 1));
	if (bound != L.count)
		die("load: only %u of %u domains bound (%s)", bound, L.count,
		    L.first_error);
	for (i = 0; i < L.count; i++)
		L.s[i].state = LS_IDLE;
	settle(1500);
	rss0 = rss_total();

	/* 2. Open every session and make it the writer (first keystroke). */
	t0 = now_ns();
	opened = ls_phase(LG_OPEN);
	opened_ns = now_ns() - t0;
	settle(1500);
	rss1 = rss_total();
	printf("sessions %u\n", opened);
	printf("load_open_ms_per_session %.2f\n",
	    (double)opened_ns / 1e6 / (opened ? opened : 1));
	printf("load_domains %u\n", L.count);
	printf("load_viewers_per_domain %u\n", L.viewers);
	if (opened != L.nsess)
		fprintf(stderr, "sc-bench: load: %u of %u sessions failed (first: %s)\n",
		    L.nsess - opened, L.nsess, L.first_error);
	printf("load_rss_before_kib %ld\n", rss0);
	printf("load_rss_after_kib %ld\n", rss1);
	printf("rss_kib_per_session %.1f\n",
	    opened ? (double)(rss1 - rss0) / opened : 0.0);

	/* 3. Everyone types, one key per interval each; time every echo. */
	L.maxsamples = (size_t)L.count * (L.seconds * 1000u / L.interval_ms + 2);
	if ((L.samples = calloc(L.maxsamples, sizeof(uint64_t))) == NULL)
		die("out of memory");
	for (i = 0; i < L.nsess; i++) {
		/* Spread the sessions over the interval. */
		L.s[i].t_next = now_ns() + (uint64_t)randombytes_uniform(L.interval_ms * 1000u) * 1000u;
	}
	steal0 = steal_ms();
	/* A mark for tracing the typing alone (docs/benchmarks.md, the load tail). */
	fprintf(stderr, "sc-bench: load: typing into %u sessions for %u s\n",
	    L.nsess, L.seconds);
	fflush(stderr);
	L.measuring = true;
	L.t_typing = now_ns();
	if (L.trace != NULL)
		fprintf(L.trace, "# typing began at CLOCK_MONOTONIC %llu ns\n",
		    (unsigned long long)L.t_typing);
	until = L.t_typing + (uint64_t)L.seconds * 1000000000u;
	while (now_ns() < until)
		ls_poll(10, true);
	L.measuring = false;
	steal1 = steal_ms();
	if (L.trace != NULL && fclose(L.trace) != 0)
		die("load: cannot write the trace: %s", strerror(errno));
	L.trace = NULL;
	settle(500);
	rss2 = rss_total();
	{
		uint64_t med;
		qsort(L.samples, L.nsamples, sizeof(uint64_t), cmp_u64);
		med = median(L.samples, L.nsamples);
		printf("load_keys_per_s %.0f\n", (double)L.nsamples / L.seconds);
		printf("load_rtt_us %.1f\n", (double)med / 1000.0);
		printf("load_rtt_p99_us %.1f\n", (double)pct(L.samples, L.nsamples, 99) / 1000.0);
		printf("load_rtt_max_us %.1f\n",
		    L.nsamples ? (double)L.samples[L.nsamples - 1] / 1000.0 : 0.0);
		printf("load_rtt_samples %zu\n", L.nsamples);
		if (steal0 >= 0 && steal1 >= steal0)
			printf("load_steal_ms %lld\n", steal1 - steal0);
	}
	printf("load_rss_typing_kib %ld\n", rss2);
	opened = 0;
	for (i = 0; i < L.nsess; i++)
		if (L.s[i].state == LS_OPEN)
			opened++;
	printf("load_sessions_at_end %u\n", opened);
	fflush(stdout);

	/* 4. Orderly end: BYE, close, reap. */
	for (i = 0; i < L.nsess; i++) {
		struct lsess *s = &L.s[i];
		if (s->state == LS_OPEN && !L.raw) {
			uint8_t ct[SC_RECORD_CT_MAX];
			struct sc_buf cb;

			sc_buf_init(&cb, ct, sizeof(ct));
			if (sc_record_seal_close(&s->rl, SC_CLOSE_NORMAL, "", &cb) == 0)
				ls_send_frame(s, SC_FRAME_RECORD, ct, cb.len);
			ls_send_frame(s, SC_FRAME_BYE, NULL, 0);
		}
		if (s->to >= 0)
			close(s->to);
		s->to = -1;
		if (s->state == LS_OPEN)
			s->state = LS_BYE;
	}
	until = now_ns() + 10000000000u;
	for (;;) {
		bool any = false;
		for (i = 0; i < L.nsess; i++)
			if (L.s[i].pid > 0)
				any = true;
		if (!any || now_ns() > until)
			break;
		ls_poll(50, false);
	}
	for (i = 0; i < L.nsess; i++)
		if (L.s[i].pid > 0) {
			kill(L.s[i].pid, SIGKILL);
			(void)waitpid(L.s[i].pid, NULL, 0);
		}
	sodium_memzero(L.user_sk, sizeof(L.user_sk));
	if (opened != L.nsess)
		fprintf(stderr, "sc-bench: load: %u sessions died during the typing phase "
		    "(first error: %s)\n", L.nsess - opened, L.first_error);
	return 0;
}

int
main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	if (sodium_init() < 0)
		die("sodium_init failed");
	if (argc < 2)
		die("usage: sc-bench rtt|tput|pty|relay|filter|connect|load ...");
	if (strcmp(argv[1], "rtt") == 0)
		return cmd_rtt(argc, argv);
	if (strcmp(argv[1], "tput") == 0)
		return cmd_tput(argc, argv);
	if (strcmp(argv[1], "pty") == 0)
		return cmd_pty(argc, argv);
	if (strcmp(argv[1], "connect") == 0)
		return cmd_connect(argc, argv);
	if (strcmp(argv[1], "relay") == 0)
		return cmd_relay(argc, argv);
	if (strcmp(argv[1], "filter") == 0)
		return cmd_filter(argc, argv);
	if (strcmp(argv[1], "load") == 0)
		return cmd_load(argc, argv);
	die("unknown mode %s", argv[1]);
}
