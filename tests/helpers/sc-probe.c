/*
 * sc-probe — a minimal scripted SCCrypt client for tests.
 *
 *   sc-probe [options] -- TRANSPORT-COMMAND [ARGS...]
 *
 * Runs the transport command (e.g. `ssh -T host sccrypt-console vm1`, or
 * sccrypt-console itself) with pipes on its stdin/stdout, passes the clear
 * phase to stderr, finds the HELLO with the frame.h scanner and reports it,
 * optionally binds the VM (PROTECT with a real sealed blob, confirm
 * checked), then does the Noise IKpsk2 initiator handshake and runs a
 * script of steps in order:
 *
 *   --send TEXT      send TEXT followed by "\r" as one DATA record
 *   --send-raw TEXT  send TEXT as is (no "\r")
 *   --expect TEXT    wait until TEXT appears in the decrypted output
 *                    (searched in the output received since the last match)
 *   --sleep MS       wait, reading output meanwhile
 *
 * Keys: --user-key FILE and --vm-secret FILE hold 64 hex digits (or 32 raw
 * bytes, or an unencrypted keystore file).  --protect-disk-key FILE (hex or
 * raw) binds the VM first, with the user key as the owner.  Other options:
 * --hello-only, --takeover, --viewer, --history N, --hv-key HEX (expected),
 * --timeout S, --abort-mid-frame (after the script, write half a frame and
 * kill the transport: a client vanishing mid-frame), --quiet.
 * --protect-flood N (no keys needed): after HELLO send N PROTECTs at once,
 * each a fresh blob with a random (wrong) 64-byte disk key, print
 * "flood sent N", then one line per answer ("flood protect_ok status=S",
 * "flood bye", "flood error CODE") and "flood closed" at EOF (exit 0).
 *
 * Prints "hello ...", "protect status=N", "handshake ok", "expect ok: TEXT"
 * on stdout; exits 0 when every step succeeded, 1 on a failed step or
 * timeout, 2 on usage errors, 3 when the transport ended early.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

#include "core/blob.h"
#include "core/owner.h"
#include "core/buf.h"
#include "core/crypto.h"
#include "core/err.h"
#include "core/frame.h"
#include "core/noise.h"
#include "core/handshake.h"
#include "core/record.h"
#include "core/wire.h"
#include "io.h"

#define MAX_STEPS	512
#define OUTBUF_MAX	(1 << 20)

enum step_kind { ST_SEND, ST_SEND_RAW, ST_EXPECT, ST_SLEEP };

struct step {
	enum step_kind	kind;
	const char	*arg;
};

static struct {
	struct step	steps[MAX_STEPS];
	size_t		nsteps;
	const char	*user_key, *vm_secret, *disk_key, *hv_key_hex;
	bool		hello_only, takeover, viewer, abort_mid, quiet;
	unsigned	flood;
	uint32_t	history;
	int		timeout_s;
} opt = { .timeout_s = 20 };

static bool flood_mode;		/* EOF is the expected end */
static pid_t child = -1;
static int to_fd = -1, from_fd = -1;
static uint8_t encoding;
static struct sc_frame_decoder dec;
static unsigned long long deadline;
static uint8_t output[OUTBUF_MAX];
static size_t output_len, output_mark;
static const struct sc_crypto *cp;

static void __attribute__((noreturn, format(printf, 2, 3)))
die(int status, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "sc-probe: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (child > 0) {
		kill(child, SIGTERM);
		(void)waitpid(child, NULL, 0);
	}
	exit(status);
}

/* 64 hex digits, or exactly n raw bytes. */
static void
load_key(const char *path, uint8_t *out, size_t n, size_t *outlen)
{
	unsigned char *data = NULL;
	size_t len = 0, hl;
	const char *end;

	if (sc_read_file(path, 4096, &data, &len) < 0)
		die(2, "cannot read %s", path);
	hl = len;
	while (hl > 0 && (data[hl - 1] == '\n' || data[hl - 1] == '\r' ||
	    data[hl - 1] == ' '))
		hl--;
	if (hl > 0 && hl % 2 == 0 && hl / 2 <= n &&
	    sodium_hex2bin(out, n, (const char *)data, hl, NULL, outlen, &end) == 0 &&
	    end == (const char *)data + hl) {
		free(data);
		return;
	}
	if (len <= n && (outlen != NULL || len == n)) {
		memcpy(out, data, len);
		if (outlen != NULL)
			*outlen = len;
		free(data);
		return;
	}
	free(data);
	die(2, "%s: expected %zu bytes (hex or raw)", path, n);
}

static void
spawn(char **argv)
{
	int in[2], out[2];

	if (pipe(in) < 0 || pipe(out) < 0)
		die(2, "pipe: %s", strerror(errno));
	if ((child = fork()) < 0)
		die(2, "fork: %s", strerror(errno));
	if (child == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[0]); close(in[1]); close(out[0]); close(out[1]);
		execvp(argv[0], argv);
		fprintf(stderr, "sc-probe: exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	to_fd = in[1];
	from_fd = out[0];
	signal(SIGPIPE, SIG_IGN);
}

/* Read some bytes from the transport (waits until the deadline). */
static size_t
rd(uint8_t *buf, size_t max, int wait_ms)
{
	struct pollfd pfd = { .fd = from_fd, .events = POLLIN };
	unsigned long long now = sc_now_ms();
	ssize_t r;
	int t;

	if (now >= deadline)
		die(1, "timeout");
	t = (int)(deadline - now);
	if (wait_ms >= 0 && wait_ms < t)
		t = wait_ms;
	if (poll(&pfd, 1, t) <= 0)
		return 0;
	r = read(from_fd, buf, max);
	if (r < 0 && errno == EINTR)
		return 0;
	if (r <= 0 && flood_mode) {
		printf("flood closed\n");
		exit(0);
	}
	if (r <= 0)
		die(3, "the transport ended (%s)", r == 0 ? "EOF" : strerror(errno));
	return (size_t)r;
}

static void
send_frame(uint8_t type, const uint8_t *body, size_t len)
{
	static uint8_t mem[SC_FRAME_ENC_MAX];
	struct sc_buf b;

	sc_buf_init(&b, mem, sizeof(mem));
	if (sc_frame_encode(&b, encoding, type, body, len) < 0)
		die(1, "cannot encode a frame");
	if (sc_write_all(to_fd, mem, b.len) < 0)
		die(3, "write to the transport failed");
}

/* Pending decoded-but-unconsumed transport bytes. */
static uint8_t pend[65536];
static size_t pend_off, pend_len;

static bool
next_frame(struct sc_frame *f, uint8_t *body, int wait_ms)
{
	size_t used;
	int r;

	for (;;) {
		while (pend_off < pend_len) {
			r = sc_frame_decode(&dec, pend + pend_off, pend_len - pend_off,
			    &used, f);
			pend_off += used;
			if (r < 0)
				die(1, "malformed frame from dom0 (%s)", sc_err(r));
			if (r == 1) {
				memcpy(body, f->body, f->len);
				f->body = body;
				return true;
			}
		}
		pend_off = pend_len = 0;
		pend_len = rd(pend, sizeof(pend), wait_ms);
		if (pend_len == 0)
			return false;
	}
}

static void
expect_frame(uint8_t type, struct sc_frame *f, uint8_t *body)
{
	struct sc_buf b;
	uint16_t code;
	char text[SC_ERRMSG_MAX + 1];

	while (!next_frame(f, body, -1))
		;
	if (f->type == SC_FRAME_ERROR) {
		sc_buf_init_ro(&b, f->body, f->len);
		if (sc_errorframe_parse(&b, &code, text) == 0)
			die(1, "dom0 error %u: %s", code, text);
		die(1, "malformed ERROR frame");
	}
	if (f->type != type)
		die(1, "expected frame type %u, got %u", type, f->type);
}

static struct sc_hello hello;

static void
clear_phase(void)
{
	struct sc_hello_scanner s;
	static uint8_t buf[16384], clear[16384 + SC_HELLO_MAGIC_LEN];
	size_t n, cl, used;
	int r;

	sc_hello_scanner_init(&s);
	for (;;) {
		n = rd(buf, sizeof(buf), -1);
		if (n == 0)
			continue;
		r = sc_hello_scan(&s, buf, n, clear, &cl, &used);
		if (r < 0)
			die(1, "scanner: %s", sc_err(r));
		if (cl > 0 && !opt.quiet)
			(void)!write(2, clear, cl);
		if (r == 1) {
			encoding = s.encoding;
			memcpy(pend, buf + used, n - used);
			pend_off = 0;
			pend_len = n - used;
			return;
		}
	}
}

static void
read_hello(void)
{
	static uint8_t body[SC_FRAME_BODY_MAX];
	struct sc_frame f;
	struct sc_buf b;
	char uuid[37] = "", hex[65];
	size_t i, o = 0;

	if (sc_frame_decoder_init(&dec, encoding) < 0)
		die(1, "bad encoding");
	expect_frame(SC_FRAME_HELLO, &f, body);
	sc_buf_init_ro(&b, f.body, f.len);
	if (sc_hello_parse(&b, &hello) < 0)
		die(1, "malformed HELLO");
	for (i = 0; i < SC_UUID_LEN; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			uuid[o++] = '-';
		o += (size_t)snprintf(uuid + o, sizeof(uuid) - o, "%02x", hello.uuid[i]);
	}
	sodium_bin2hex(hex, sizeof(hex), hello.hv_pubkey, SC_KEY_LEN);
	printf("hello encoding=%c vm=%s uuid=%s protected=%s history=%u cert=%zu hv=%s\n",
	    encoding, hello.vmname, uuid,
	    (hello.flags & SC_HELLO_F_PROTECTED) ? "yes" : "no",
	    hello.history_bytes, hello.cert_len, hex);
	fflush(stdout);
	if (opt.hv_key_hex != NULL && strcmp(opt.hv_key_hex, hex) != 0)
		die(1, "hv key differs from --hv-key");
}

static void
do_protect(const uint8_t user_sk[32], const uint8_t psk[32])
{
	static struct sc_registration reg;
	static uint8_t blob[SC_PROTECT_PAYLOAD_MAX], body[SC_FRAME_BODY_MAX];
	uint8_t confirm[32];
	struct sc_frame f;
	struct sc_buf b;
	uint32_t status;
	size_t dl = 0;

	memset(&reg, 0, sizeof(reg));
	memcpy(reg.uuid, hello.uuid, SC_UUID_LEN);
	reg.generation = sc_blob_generation_now();
	memcpy(reg.vm_secret, psk, SC_PSK_LEN);
	load_key(opt.disk_key, reg.disk_key, SC_DISK_KEY_MAX, &dl);
	reg.disk_key_len = dl;
	reg.options = SC_REG_OPT_HISTORY;
	reg.history_size = 65536;
	reg.acl_count = 1;
	if (cp->x25519_base(reg.acl[0].pubkey, user_sk) < 0)
		die(1, "bad user key");
	reg.acl[0].flags = SC_ACL_F_OWNER;
	sc_buf_init(&b, blob, sizeof(blob));
	if (sc_protect_seal(cp, &reg, hello.hv_pubkey, NULL, &b) < 0)
		die(1, "cannot seal the registration blob");
	send_frame(SC_FRAME_PROTECT, blob, b.len);
	expect_frame(SC_FRAME_PROTECT_OK, &f, body);
	sc_buf_init_ro(&b, f.body, f.len);
	if (sc_buf_get_u32(&b, &status) < 0 || sc_buf_get_bytes(&b, confirm, 32) < 0)
		die(1, "malformed PROTECT_OK");
	printf("protect status=%d\n", (int32_t)status);
	fflush(stdout);
	{
		uint8_t want[32];
		if (sc_blob_confirm(cp, &reg, hello.hv_pubkey, (int32_t)status, want) < 0 ||
		    sodium_memcmp(want, confirm, 32) != 0)
			die(1, "PROTECT_OK confirm does not verify (forged by dom0?)");
	}
	sodium_memzero(&reg, sizeof(reg));
	if ((int32_t)status != 0)
		die(1, "PROTECT refused: %s", sc_err((int32_t)status));
	hello.flags |= SC_HELLO_F_PROTECTED;
}

/* --protect-flood: N wrong-disk-key PROTECTs in a row, then the answers. */
static void
do_flood(unsigned n)
{
	static struct sc_registration reg;
	static uint8_t blob[SC_PROTECT_PAYLOAD_MAX], body[SC_FRAME_BODY_MAX];
	char text[SC_ERRMSG_MAX + 1];
	uint8_t sk[32];
	struct sc_frame f;
	struct sc_buf b;
	uint32_t status;
	uint16_t code;
	unsigned i;

	randombytes_buf(sk, sizeof(sk));
	for (i = 0; i < n; i++) {
		memset(&reg, 0, sizeof(reg));
		memcpy(reg.uuid, hello.uuid, SC_UUID_LEN);
		randombytes_buf(reg.vm_secret, SC_PSK_LEN);
		randombytes_buf(reg.disk_key, 64);
		reg.disk_key_len = 64;
		/* A current generation: refused for the disk key, not as stale. */
		reg.generation = sc_blob_generation_now() + i;
		reg.acl_count = 1;
		if (cp->x25519_base(reg.acl[0].pubkey, sk) < 0)
			die(1, "x25519");
		reg.acl[0].flags = SC_ACL_F_OWNER;
		sc_buf_init(&b, blob, sizeof(blob));
		if (sc_protect_seal(cp, &reg, hello.hv_pubkey, NULL, &b) < 0)
			die(1, "cannot seal a blob");
		send_frame(SC_FRAME_PROTECT, blob, b.len);
	}
	printf("flood sent %u\n", n);
	fflush(stdout);
	flood_mode = true;
	for (;;) {
		if (!next_frame(&f, body, -1))
			continue;
		sc_buf_init_ro(&b, f.body, f.len);
		if (f.type == SC_FRAME_PROTECT_OK && sc_buf_get_u32(&b, &status) == 0)
			printf("flood protect_ok status=%d\n", (int32_t)status);
		else if (f.type == SC_FRAME_BYE)
			printf("flood bye\n");
		else if (f.type == SC_FRAME_ERROR && sc_errorframe_parse(&b, &code, text) == 0)
			printf("flood error %u %s\n", code, text);
		else
			printf("flood frame %u\n", f.type);
		fflush(stdout);
	}
}

static struct sc_record_layer rl;

static void
handshake(const uint8_t user_sk[32], const uint8_t psk[32])
{
	static struct sc_noise_handshake hs;
	static uint8_t body[SC_FRAME_BODY_MAX];
	struct sc_noise_transport t;
	uint8_t p1[SC_HS1_PAYLOAD_LEN], msg[256], p2[64];
	struct sc_buf b, pb;
	struct sc_frame f;
	struct sc_hs1 m1 = {
		.flags = (uint8_t)((opt.viewer ? SC_HS1_F_VIEWER : 0) |
		    (opt.takeover ? SC_HS1_F_TAKEOVER : 0)),
		.history_wanted = opt.history,
	};
	struct sc_hs2 m2;

	if (sc_hs_init(&hs, cp, true, hello.uuid, hello.hv_pubkey, user_sk,
	    psk) < 0)
		die(1, "handshake init failed");
	sc_buf_init(&pb, p1, sizeof(p1));
	if (sc_hs1_put(&pb, &m1) < 0)
		die(1, "internal error");
	sc_buf_init(&b, msg, sizeof(msg));
	if (sc_noise_hs_write(&hs, p1, pb.len, &b) < 0)
		die(1, "handshake write failed");
	send_frame(SC_FRAME_HS_INIT, msg, b.len);
	expect_frame(SC_FRAME_HS_RESP, &f, body);
	sc_buf_init(&pb, p2, sizeof(p2));
	if (sc_noise_hs_read(&hs, f.body, f.len, &pb) < 0)
		die(1, "handshake failed (wrong VM secret, key not in the ACL, or tampering)");
	sc_buf_init_ro(&b, p2, pb.len);
	if (sc_hs2_get(&b, &m2) < 0)
		die(1, "malformed HS2 payload");
	if (sc_noise_hs_split(&hs, &t) < 0)
		die(1, "split failed");
	sc_record_init(&rl, &t);
	printf("handshake ok flags=0x%x history_kept=%u lost=%llu\n", m2.flags,
	    m2.history_kept, (unsigned long long)m2.lost_bytes);
	fflush(stdout);
}

static void
send_record(uint8_t type, const void *p, size_t len)
{
	static uint8_t ct[SC_RECORD_CT_MAX];
	struct sc_buf b;

	sc_buf_init(&b, ct, sizeof(ct));
	if (sc_record_seal(&rl, type, p, len, &b) < 0)
		die(1, "seal failed");
	send_frame(SC_FRAME_RECORD, ct, b.len);
}

static bool closed;

/*
 * Append console output.  The buffer is a window: when it would overflow,
 * the older half is dropped (a match never needs more than one record of
 * look-back), so arbitrarily long output can be searched.
 */
static void
out_append(const uint8_t *p, size_t n)
{
	size_t drop;

	if (output_len + n > sizeof(output)) {
		drop = output_len - sizeof(output) / 2;
		memmove(output, output + drop, output_len - drop);
		output_len -= drop;
		output_mark = output_mark > drop ? output_mark - drop : 0;
	}
	memcpy(output + output_len, p, n);
	output_len += n;
}

/* Receive records for up to wait_ms; returns when something arrived. */
static void
pump(int wait_ms)
{
	static uint8_t body[SC_FRAME_BODY_MAX], pt[SC_RECORD_PAYLOAD_MAX];
	struct sc_frame f;
	struct sc_buf b;
	uint8_t type;
	int r;

	if (!next_frame(&f, body, wait_ms))
		return;
	do {
		if (f.type == SC_FRAME_BYE) {
			closed = true;
			return;
		}
		if (f.type == SC_FRAME_ERROR)
			die(1, "dom0 sent ERROR during the session");
		if (f.type != SC_FRAME_RECORD)
			die(1, "unexpected frame %u in the session", f.type);
		sc_buf_init(&b, pt, sizeof(pt));
		if ((r = sc_record_open(&rl, f.body, f.len, &type, &b)) < 0)
			die(1, "record failed to open (%s): tampered", sc_err(r));
		switch (type) {
		case SC_REC_DATA:
			out_append(pt, b.len);
			break;
		case SC_REC_HISTORY:
			if (b.len >= 1)
				out_append(pt + 1, b.len - 1);
			break;
		case SC_REC_CLOSE:
			printf("closed by the hv reason=%u\n", b.len > 0 ? pt[0] : 255);
			fflush(stdout);
			break;
		case SC_REC_PING:
			send_record(SC_REC_PONG, pt, b.len);
			break;
		default:
			break;
		}
	} while (pend_off < pend_len && next_frame(&f, body, 0));
}

static void
run_steps(void)
{
	size_t i;

	for (i = 0; i < opt.nsteps; i++) {
		struct step *s = &opt.steps[i];
		char buf[4200];
		size_t n;

		switch (s->kind) {
		case ST_SEND:
		case ST_SEND_RAW:
			n = (size_t)snprintf(buf, sizeof(buf), "%s%s", s->arg,
			    s->kind == ST_SEND ? "\r" : "");
			if (n > SC_RECORD_PAYLOAD_MAX)
				die(2, "send text too long");
			send_record(SC_REC_DATA, buf, n);
			break;
		case ST_EXPECT:
			for (;;) {
				uint8_t *hit = memmem(output + output_mark,
				    output_len - output_mark, s->arg, strlen(s->arg));
				if (hit != NULL) {
					output_mark = (size_t)(hit - output) + strlen(s->arg);
					printf("expect ok: %s\n", s->arg);
					fflush(stdout);
					break;
				}
				if (closed)
					die(1, "session closed before \"%s\"", s->arg);
				pump(-1);
			}
			break;
		case ST_SLEEP: {
			unsigned long long until = sc_now_ms() + strtoul(s->arg, NULL, 10);
			while (sc_now_ms() < until && !closed)
				pump((int)(until - sc_now_ms()));
			break;
		}
		}
	}
}

static void
add_step(enum step_kind k, const char *arg)
{
	if (opt.nsteps == MAX_STEPS)
		die(2, "too many steps");
	opt.steps[opt.nsteps].kind = k;
	opt.steps[opt.nsteps++].arg = arg;
}

int
main(int argc, char *argv[])
{
	uint8_t user_sk[32], psk[32];
	int i, st;

	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
#define NEEDV() do { if (v == NULL) die(2, "%s needs a value", a); i++; } while (0)
		if (strcmp(a, "--user-key") == 0) { NEEDV(); opt.user_key = v; }
		else if (strcmp(a, "--vm-secret") == 0) { NEEDV(); opt.vm_secret = v; }
		else if (strcmp(a, "--protect-disk-key") == 0) { NEEDV(); opt.disk_key = v; }
		else if (strcmp(a, "--hv-key") == 0) { NEEDV(); opt.hv_key_hex = v; }
		else if (strcmp(a, "--send") == 0) { NEEDV(); add_step(ST_SEND, v); }
		else if (strcmp(a, "--send-raw") == 0) { NEEDV(); add_step(ST_SEND_RAW, v); }
		else if (strcmp(a, "--expect") == 0) { NEEDV(); add_step(ST_EXPECT, v); }
		else if (strcmp(a, "--sleep") == 0) { NEEDV(); add_step(ST_SLEEP, v); }
		else if (strcmp(a, "--timeout") == 0) { NEEDV(); opt.timeout_s = atoi(v); }
		else if (strcmp(a, "--history") == 0) { NEEDV(); opt.history = (uint32_t)strtoul(v, NULL, 10); }
		else if (strcmp(a, "--hello-only") == 0) opt.hello_only = true;
		else if (strcmp(a, "--takeover") == 0) opt.takeover = true;
		else if (strcmp(a, "--viewer") == 0) opt.viewer = true;
		else if (strcmp(a, "--abort-mid-frame") == 0) opt.abort_mid = true;
		else if (strcmp(a, "--quiet") == 0) opt.quiet = true;
		else if (strcmp(a, "--protect-flood") == 0) { NEEDV(); opt.flood = (unsigned)strtoul(v, NULL, 10); }
		else die(2, "unknown option %s", a);
#undef NEEDV
	}
	if (i + 1 >= argc)
		die(2, "usage: sc-probe [options] -- COMMAND [ARGS...]");
	if (sodium_init() < 0)
		die(2, "sodium_init failed");
	cp = sc_crypto_sodium();
	if (!opt.hello_only && opt.flood == 0) {
		if (opt.user_key == NULL || opt.vm_secret == NULL)
			die(2, "--user-key and --vm-secret are needed (or --hello-only)");
		load_key(opt.user_key, user_sk, 32, NULL);
		load_key(opt.vm_secret, psk, 32, NULL);
	}
	deadline = sc_now_ms() + (unsigned long long)opt.timeout_s * 1000;
	spawn(argv + i + 1);
	clear_phase();
	read_hello();
	if (opt.flood > 0)
		do_flood(opt.flood);
	if (!opt.hello_only) {
		if (opt.disk_key != NULL)
			do_protect(user_sk, psk);
		handshake(user_sk, psk);
		run_steps();
		if (opt.abort_mid) {
			static const uint8_t half[] = { SC_FRAME_RECORD, 0x00, 0x40, 1, 2, 3 };
			if (sc_write_all(to_fd, half, sizeof(half)) < 0)
				die(3, "write failed");
			kill(child, SIGKILL);
			(void)waitpid(child, NULL, 0);
			printf("aborted mid-frame\n");
			return 0;
		}
		send_frame(SC_FRAME_BYE, NULL, 0);
		sodium_memzero(user_sk, sizeof(user_sk));
		sodium_memzero(psk, sizeof(psk));
	}
	close(to_fd);
	printf("input closed\n");	/* tests wait for this event */
	fflush(stdout);
	/* Let the transport finish on its own; do not wait forever. */
	for (;;) {
		pid_t w = waitpid(child, &st, WNOHANG);
		if (w == child)
			break;
		if (sc_now_ms() >= deadline) {
			kill(child, SIGTERM);
			(void)waitpid(child, &st, 0);
			break;
		}
		{
			uint8_t sink[4096];
			struct pollfd pfd = { .fd = from_fd, .events = POLLIN };
			if (poll(&pfd, 1, 50) > 0 && read(from_fd, sink, sizeof(sink)) <= 0)
				usleep(10000);
		}
	}
	return 0;
}
