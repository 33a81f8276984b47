/*
 * evil-relay — a hostile dom0 for the attack suite (tests/integration/
 * attack-relay.sh).  It runs as the transport command of sccrypt-term
 * (sccrypt-term --pipe VM -- evil-relay [options] -- COMMAND...), starts the
 * real dom0 path (COMMAND: the shim, which talks to consoled and the hv) on
 * pipes, forwards the byte stream in both directions and, on command,
 * manipulates it with exact framing: it decodes every frame with
 * libsccrypt's frame codec (core/frame.h) and re-encodes what it forwards.
 *
 * Direction names: c2s = client -> dom0/hv, s2c = dom0/hv -> client.
 *
 * One-shot attacks, armed with --arm "ACTION DIR [TYPE]" or by writing the
 * same line to the --ctl FIFO (the relay logs "armed ..." when it has read
 * it).  They hit the next frame of TYPE (default RECORD; also HELLO,
 * HS_INIT, HS_RESP) travelling in DIR:
 *   flip      flip one bit in the middle of the frame body
 *   drop      do not forward the frame
 *   dup       forward the frame twice
 *   reorder   hold the frame, forward the next one of that type first
 *   truncate  forward the body without its last 8 bytes (a shorter frame)
 *   cut       forward half of the encoded frame, then end that direction
 *   chop      forward half of the encoded frame, then nothing more in that
 *             direction, keeping the connection open (a silent stall)
 *   replace   forward instead the first frame of that type and direction
 *             saved by --record in an earlier run (read from --replay FILE)
 * "tail DIR N" drops the next N RECORD frames of DIR and then hangs up both
 * directions, as a dom0 that cuts the end of a session off and closes the
 * connection (the last DATA and the CLOSE never arrive).
 * Immediate injections (ctl or --arm): "garbage DIR N" (N random bytes),
 * "oversize DIR" (a RECORD header announcing 65535 bytes, then filler),
 * "badtype DIR" (a well-formed frame of unknown type 0x7f), "bigrecord DIR"
 * (RECORD frames that are valid frames but hold a record over the record
 * size limit), "shortrecord DIR" (a record of 16 bytes, under the smallest
 * padded size), "replay DIR"
 * (every RECORD frame of DIR saved with --record in an earlier run, read
 * from --replay FILE, injected now).  --record FILE saves every frame, both
 * directions, as dir:u8 type:u8 len:u16be body.
 *
 * Set-up attacks (options): --hello-vm NAME, --hello-uuid UUID, --hello-key
 * HEX|random (substitute the relay's own hypervisor key), --cert FILE|none
 * (serve another certificate), --splice "SHELL COMMAND" (a second dom0 path,
 * e.g. the shim for another VM: the client's HS_INIT and everything after it
 * go there, and its answers come back; its own HELLO is swallowed).
 *
 * --capture PREFIX writes every byte as it crossed the relay to PREFIX.c2s
 * and PREFIX.s2c (what a dom0 observer learns); --log FILE says what the
 * relay saw and did.  Test-only: never installed.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include <sodium.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/frame.h"
#include "core/wire.h"

#define C2S		0
#define S2C		1
#define MAX_ARMED	32
#define MAX_SAVED	256
#define READ_CHUNK	16384
#define TRUNCATE_BY	8

enum action {
	A_FLIP = 1, A_DROP, A_DUP, A_REORDER, A_TRUNCATE, A_CUT,
	A_GARBAGE, A_OVERSIZE, A_BADTYPE, A_REPLAY, A_REPLACE, A_BIGREC,
	A_SHORTREC, A_CHOP,
};

struct armed {
	enum action	act;
	int		dir;
	uint8_t		type;
};

struct saved {
	uint16_t	len;
	uint8_t		body[SC_FRAME_BODY_MAX];
};

/* One direction of the stream. */
struct dirstate {
	int		in;		/* read side */
	int		out;		/* write side (-1 once ended) */
	bool		eof;
	bool		framed;		/* encoding known, decoder running */
	struct sc_frame_decoder dec;
	int		capfd;
	struct saved	held;		/* reorder: the frame held back */
	bool		holding;
	bool		silent;		/* chopped: forwards nothing more */
	uint8_t		held_type;
	unsigned long	frames;
};

static struct {
	struct dirstate	d[2];
	uint8_t		encoding;
	struct sc_hello_scanner scan;	/* s2c clear phase (primary) */
	/* splice: a second dom0 path */
	pid_t		pid2;
	int		in2, out2;	/* we write in2, read out2 */
	bool		eof2;
	bool		spliced;	/* client traffic goes to path 2 */
	struct sc_hello_scanner scan2;
	bool		framed2;
	bool		hello2_seen;
	struct sc_frame_decoder dec2;
	/* options */
	const char	*hello_vm;
	bool		set_uuid;
	uint8_t		hello_uuid[SC_UUID_LEN];
	bool		set_key;
	uint8_t		hello_key[SC_KEY_LEN];
	const char	*cert_file;
	int		recfd;
	const char	*replay_file;
	struct armed	armed[MAX_ARMED];
	unsigned	narmed;
	int		tail_dir;	/* "tail": drop tail_left more records, hang up */
	unsigned long	tail_left;
	FILE		*log;
	pid_t		pid;
} R;

static void
logf_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
logf_(const char *fmt, ...)
{
	va_list ap;

	if (R.log == NULL)
		return;
	va_start(ap, fmt);
	fprintf(R.log, "evil-relay: ");
	vfprintf(R.log, fmt, ap);
	fprintf(R.log, "\n");
	va_end(ap);
	fflush(R.log);
}

static void
die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

static void
die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "evil-relay: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	if (R.log != NULL) {
		va_start(ap, fmt);
		fprintf(R.log, "evil-relay: fatal: ");
		vfprintf(R.log, fmt, ap);
		fprintf(R.log, "\n");
		va_end(ap);
	}
	exit(2);
}

static const char *
dname(int dir)
{
	return dir == C2S ? "c2s" : "s2c";
}

static const char *
tname(uint8_t t)
{
	switch (t) {
	case SC_FRAME_HELLO:		return "HELLO";
	case SC_FRAME_HS_INIT:		return "HS_INIT";
	case SC_FRAME_HS_RESP:		return "HS_RESP";
	case SC_FRAME_RECORD:		return "RECORD";
	case SC_FRAME_ERROR:		return "ERROR";
	case SC_FRAME_PROTECT:		return "PROTECT";
	case SC_FRAME_PROTECT_OK:	return "PROTECT_OK";
	case SC_FRAME_BYE:		return "BYE";
	}
	return "?";
}

static int
parse_type(const char *s, uint8_t *t)
{
	static const uint8_t all[] = { SC_FRAME_HELLO, SC_FRAME_HS_INIT,
	    SC_FRAME_HS_RESP, SC_FRAME_RECORD, SC_FRAME_ERROR, SC_FRAME_PROTECT,
	    SC_FRAME_PROTECT_OK, SC_FRAME_BYE };
	size_t i;

	for (i = 0; i < sizeof(all); i++)
		if (strcmp(s, tname(all[i])) == 0) {
			*t = all[i];
			return 0;
		}
	return -1;
}

static const char *
aname(enum action a)
{
	switch (a) {
	case A_FLIP:		return "flip";
	case A_DROP:		return "drop";
	case A_DUP:		return "dup";
	case A_REORDER:		return "reorder";
	case A_TRUNCATE:	return "truncate";
	case A_CUT:		return "cut";
	case A_CHOP:		return "chop";
	case A_GARBAGE:		return "garbage";
	case A_OVERSIZE:	return "oversize";
	case A_BADTYPE:		return "badtype";
	case A_REPLAY:		return "replay";
	case A_REPLACE:		return "replace";
	case A_BIGREC:		return "bigrecord";
	case A_SHORTREC:	return "shortrecord";
	}
	return "?";
}

/* Hex helpers (lib/keys.h cannot be included next to core/wire.h). */
static int
hex_exact(const char *hex, uint8_t *out, size_t outlen)
{
	size_t got = 0;

	if (sodium_hex2bin(out, outlen, hex, strlen(hex), "-", &got, NULL) != 0 ||
	    got != outlen)
		return -1;
	return 0;
}

static void
uuid_format(const uint8_t u[SC_UUID_LEN], char out[37])
{
	static const char x[] = "0123456789abcdef";
	size_t i, o = 0;

	for (i = 0; i < SC_UUID_LEN; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = x[u[i] >> 4];
		out[o++] = x[u[i] & 15];
	}
	out[o] = '\0';
}

/* ---- output ---- */

static void __attribute__((noreturn))
finish(void)
{
	int status;

	logf_("done: %lu frames c2s, %lu frames s2c", R.d[C2S].frames,
	    R.d[S2C].frames);
	if (R.d[S2C].out >= 0)
		close(R.d[S2C].out);
	if (R.d[C2S].out >= 0)
		close(R.d[C2S].out);
	if (R.in2 >= 0)
		close(R.in2);
	if (R.pid2 > 0) {
		kill(R.pid2, SIGTERM);
		(void)waitpid(R.pid2, &status, 0);
	}
	if (R.pid > 0)
		(void)waitpid(R.pid, &status, 0);
	exit(0);
}

static void
write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				struct pollfd pf = { .fd = fd, .events = POLLOUT };

				(void)poll(&pf, 1, 1000);
				continue;
			}
			logf_("write: %s: stopping", strerror(errno));
			finish();
		}
		p += w;
		n -= (size_t)w;
	}
}

/* Where a direction's bytes go now (c2s may be spliced to path 2). */
static int
sink_fd(int dir)
{
	if (dir == C2S && R.spliced)
		return R.in2;
	return R.d[dir].out;
}

static void
emit_raw(int dir, const uint8_t *p, size_t n)
{
	int fd = sink_fd(dir);

	if (fd < 0 || n == 0)
		return;
	if (R.d[dir].capfd >= 0)
		(void)!write(R.d[dir].capfd, p, n);
	write_all(fd, p, n);
}

static void
emit_frame(int dir, uint8_t type, const uint8_t *body, size_t len)
{
	static uint8_t mem[SC_FRAME_ENC_MAX];
	struct sc_buf b;

	sc_buf_init(&b, mem, sizeof(mem));
	if (sc_frame_encode(&b, R.encoding, type, body, len) < 0)
		die("cannot encode a %s frame of %zu bytes", tname(type), len);
	emit_raw(dir, b.data, b.len);
}

/*
 * Encode any header (type, length field) and body bytes, which the library
 * encoder refuses to do for invalid frames: binary with the DLE stuffing of
 * frame.h, or one armored line.
 */
static void
emit_any(int dir, uint8_t type, uint16_t lenfield, const uint8_t *body,
    size_t n)
{
	static uint8_t raw[SC_FRAME_HDR_LEN + 4096];
	static uint8_t enc[2 * sizeof(raw) + 8];
	size_t i, o = 0, rn;

	if (n > sizeof(raw) - SC_FRAME_HDR_LEN)
		n = sizeof(raw) - SC_FRAME_HDR_LEN;
	raw[0] = type;
	raw[1] = (uint8_t)(lenfield >> 8);
	raw[2] = (uint8_t)lenfield;
	memcpy(raw + SC_FRAME_HDR_LEN, body, n);
	rn = SC_FRAME_HDR_LEN + n;
	if (R.encoding == SC_ENCODING_ARMOR) {
		sodium_bin2base64((char *)enc, sizeof(enc), raw, rn,
		    sodium_base64_VARIANT_ORIGINAL);
		o = strlen((char *)enc);
		enc[o++] = '\n';
	} else {
		for (i = 0; i < rn; i++) {
			uint8_t c = raw[i];

			if (c == SC_DLE || c == 0x11 || c == 0x13 || c == 0x1d ||
			    c == 0x7e) {
				enc[o++] = SC_DLE;
				c ^= SC_STUFF_XOR;
			}
			enc[o++] = c;
		}
	}
	emit_raw(dir, enc, o);
}

/* ---- the attacks ---- */

/*
 * The k-th frame of (dir, type) in the --replay file (written by --record
 * in an earlier run: dir:u8 type:u8 len:u16 body[len] per frame).
 */
static bool
load_saved(int dir, uint8_t type, unsigned k, struct saved *sv)
{
	FILE *f;
	uint8_t hdr[4];
	bool found = false;

	if (R.replay_file == NULL || (f = fopen(R.replay_file, "rb")) == NULL)
		die("replay: no --replay file");
	while (fread(hdr, 1, 4, f) == 4) {
		sv->len = (uint16_t)(hdr[2] << 8 | hdr[3]);
		if (sv->len > SC_FRAME_BODY_MAX ||
		    fread(sv->body, 1, sv->len, f) != sv->len)
			die("replay: malformed file");
		if (hdr[0] == dir && hdr[1] == type && k-- == 0) {
			found = true;
			break;
		}
	}
	fclose(f);
	return found;
}

static void
inject(enum action act, int dir, unsigned long n)
{
	static uint8_t buf[SC_FRAME_BODY_MAX];

	if (!R.d[dir].framed)
		logf_("note: injecting %s %s before the HELLO", aname(act), dname(dir));
	/* logged first: the peer may hang up while the bytes are written */
	if (act != A_REPLAY)
		logf_("did %s %s (%lu)", aname(act), dname(dir), n);
	switch (act) {
	case A_GARBAGE:
		if (n > sizeof(buf))
			n = sizeof(buf);
		randombytes_buf(buf, n);
		emit_raw(dir, buf, n);
		break;
	case A_OVERSIZE:
		/* A RECORD header announcing 0xffff bytes, then filler. */
		memset(buf, 'A', 4096);
		emit_any(dir, SC_FRAME_RECORD, 0xffff, buf, 4096);
		break;
	case A_BIGREC:
		/* A valid frame whose record is over SC_RECORD_CT_MAX. */
		randombytes_buf(buf, SC_RECORD_CT_MAX + 1);
		emit_frame(dir, SC_FRAME_RECORD, buf, SC_RECORD_CT_MAX + 1);
		break;
	case A_SHORTREC:
		/* A valid frame whose record is shorter than the smallest size. */
		randombytes_buf(buf, SC_TAG_LEN);
		emit_frame(dir, SC_FRAME_RECORD, buf, SC_TAG_LEN);
		break;
	case A_BADTYPE:
		/* A well-formed frame of a type nobody knows. */
		memset(buf, 'B', 32);
		emit_any(dir, 0x7f, 32, buf, 32);
		break;
	case A_REPLAY: {
		static struct saved sv;
		unsigned k, cnt = 0;

		for (k = 0; load_saved(dir, SC_FRAME_RECORD, k, &sv); k++) {
			emit_frame(dir, SC_FRAME_RECORD, sv.body, sv.len);
			cnt++;
		}
		logf_("did replay %s: %u recorded RECORD frames injected", dname(dir), cnt);
		return;
	}
	default:
		break;
	}
}

/* "ACTION DIR [TYPE|N]" */
static void
arm(const char *line)
{
	char a[32], d[8], t[32];
	struct armed x;
	int n;

	t[0] = '\0';
	n = sscanf(line, "%31s %7s %31s", a, d, t);
	if (n < 2)
		die("bad command: %s", line);
	memset(&x, 0, sizeof(x));
	if (strcmp(d, "c2s") == 0)
		x.dir = C2S;
	else if (strcmp(d, "s2c") == 0)
		x.dir = S2C;
	else
		die("bad direction in: %s", line);
	if (strcmp(a, "garbage") == 0) {
		inject(A_GARBAGE, x.dir, n == 3 ? strtoul(t, NULL, 10) : 256);
		return;
	}
	if (strcmp(a, "oversize") == 0) {
		inject(A_OVERSIZE, x.dir, 0);
		return;
	}
	if (strcmp(a, "badtype") == 0) {
		inject(A_BADTYPE, x.dir, 0);
		return;
	}
	if (strcmp(a, "bigrecord") == 0) {
		inject(A_BIGREC, x.dir, 0);
		return;
	}
	if (strcmp(a, "shortrecord") == 0) {
		inject(A_SHORTREC, x.dir, 0);
		return;
	}
	if (strcmp(a, "replay") == 0) {
		inject(A_REPLAY, x.dir, 0);
		return;
	}
	if (strcmp(a, "tail") == 0) {
		R.tail_dir = x.dir;
		R.tail_left = n == 3 ? strtoul(t, NULL, 10) : 1;
		if (R.tail_left == 0)
			die("tail: at least one record");
		logf_("armed tail %s %lu", dname(x.dir), R.tail_left);
		return;
	}
	if (strcmp(a, "flip") == 0) x.act = A_FLIP;
	else if (strcmp(a, "drop") == 0) x.act = A_DROP;
	else if (strcmp(a, "dup") == 0) x.act = A_DUP;
	else if (strcmp(a, "reorder") == 0) x.act = A_REORDER;
	else if (strcmp(a, "truncate") == 0) x.act = A_TRUNCATE;
	else if (strcmp(a, "cut") == 0) x.act = A_CUT;
	else if (strcmp(a, "chop") == 0) x.act = A_CHOP;
	else if (strcmp(a, "replace") == 0) x.act = A_REPLACE;
	else die("unknown action in: %s", line);
	x.type = SC_FRAME_RECORD;
	if (n == 3 && parse_type(t, &x.type) < 0)
		die("unknown frame type in: %s", line);
	if (R.narmed >= MAX_ARMED)
		die("too many armed attacks");
	R.armed[R.narmed++] = x;
	logf_("armed %s %s %s", aname(x.act), dname(x.dir), tname(x.type));
}

/* Take the first armed attack matching (dir, type); 0 if none. */
static enum action
take_armed(int dir, uint8_t type)
{
	unsigned i;
	enum action a;

	for (i = 0; i < R.narmed; i++) {
		if (R.armed[i].dir == dir && R.armed[i].type == type) {
			a = R.armed[i].act;
			memmove(&R.armed[i], &R.armed[i + 1],
			    (R.narmed - i - 1) * sizeof(R.armed[0]));
			R.narmed--;
			return a;
		}
	}
	return 0;
}

static void
record_frame(int dir, const struct sc_frame *f)
{
	uint8_t hdr[4];

	if (R.recfd < 0)
		return;
	hdr[0] = (uint8_t)dir;
	hdr[1] = f->type;
	hdr[2] = (uint8_t)(f->len >> 8);
	hdr[3] = (uint8_t)f->len;
	(void)!write(R.recfd, hdr, 4);
	(void)!write(R.recfd, f->body, f->len);
}

/* Rewrite the HELLO as the options say. */
static void
forward_hello(const struct sc_frame *f)
{
	static struct sc_hello h;
	static uint8_t mem[SC_FRAME_BODY_MAX];
	struct sc_buf in, out;
	char uuid[37];
	int r;

	sc_buf_init_ro(&in, f->body, f->len);
	if ((r = sc_hello_parse(&in, &h)) < 0)
		die("cannot parse dom0's HELLO: %s", sc_err(r));
	uuid_format(h.uuid, uuid);
	logf_("HELLO from dom0: vm=%s uuid=%s flags=%u history=%u cert=%zu bytes",
	    h.vmname, uuid, h.flags, h.history_bytes, h.cert_len);
	if (R.hello_vm != NULL) {
		snprintf(h.vmname, sizeof(h.vmname), "%s", R.hello_vm);
		logf_("HELLO rewritten: vm=%s", h.vmname);
	}
	if (R.set_uuid) {
		memcpy(h.uuid, R.hello_uuid, SC_UUID_LEN);
		logf_("HELLO rewritten: uuid");
	}
	if (R.set_key) {
		memcpy(h.hv_pubkey, R.hello_key, SC_KEY_LEN);
		logf_("HELLO rewritten: hv key (the relay's own)");
	}
	if (R.cert_file != NULL) {
		if (strcmp(R.cert_file, "none") == 0) {
			h.cert_len = 0;
		} else {
			FILE *cf = fopen(R.cert_file, "rb");

			if (cf == NULL)
				die("%s: %s", R.cert_file, strerror(errno));
			/* As consoled does: the file's bytes, as they are. */
			h.cert_len = fread(h.cert, 1, sizeof(h.cert), cf);
			fclose(cf);
		}
		logf_("HELLO rewritten: certificate %s (%zu bytes)", R.cert_file,
		    h.cert_len);
	}
	sc_buf_init(&out, mem, sizeof(mem));
	if ((r = sc_hello_encode(&h, &out)) < 0)
		die("cannot encode the HELLO: %s", sc_err(r));
	emit_frame(S2C, SC_FRAME_HELLO, out.data, out.len);
}

/* End both directions: the client and dom0 each see the connection close. */
static void
hang_up(void)
{
	logf_("tail: hanging up both directions");
	if (R.d[S2C].out >= 0) {
		close(R.d[S2C].out);
		R.d[S2C].out = -1;
	}
	if (sink_fd(C2S) >= 0) {
		close(sink_fd(C2S));
		if (R.spliced)
			R.in2 = -1;
		else
			R.d[C2S].out = -1;
	}
}

/* A whole frame arrived in direction dir: attack or forward it. */
static void
on_frame(int dir, const struct sc_frame *f)
{
	struct dirstate *ds = &R.d[dir];
	enum action a;
	static uint8_t body[SC_FRAME_BODY_MAX];

	ds->frames++;
	record_frame(dir, f);
	if (dir == C2S && f->type == SC_FRAME_HS_INIT && R.pid2 > 0 && !R.spliced) {
		R.spliced = true;
		logf_("splice: the client's HS_INIT goes to the second path");
	}
	if (R.tail_left > 0 && dir == R.tail_dir && f->type == SC_FRAME_RECORD) {
		logf_("did tail %s: dropped RECORD #%lu (%u bytes)", dname(dir),
		    ds->frames, f->len);
		if (--R.tail_left == 0)
			hang_up();
		return;
	}
	if (ds->silent)
		return;
	a = take_armed(dir, f->type);
	if (a != 0)
		logf_("did %s %s %s #%lu (%u bytes)", aname(a), dname(dir),
		    tname(f->type), ds->frames, f->len);
	switch (a) {
	case A_FLIP:
		memcpy(body, f->body, f->len);
		if (f->len > 0)
			body[f->len / 2] ^= 0x04;
		emit_frame(dir, f->type, body, f->len);
		return;
	case A_DROP:
		return;
	case A_REPLACE: {
		static struct saved sv;

		if (!load_saved(dir, f->type, 0, &sv))
			die("replace: no recorded %s %s frame", dname(dir),
			    tname(f->type));
		emit_frame(dir, f->type, sv.body, sv.len);
		return;
	}
	case A_DUP:
		emit_frame(dir, f->type, f->body, f->len);
		emit_frame(dir, f->type, f->body, f->len);
		return;
	case A_REORDER:
		memcpy(ds->held.body, f->body, f->len);
		ds->held.len = f->len;
		ds->held_type = f->type;
		ds->holding = true;
		return;
	case A_TRUNCATE:
		emit_frame(dir, f->type, f->body,
		    f->len > TRUNCATE_BY ? f->len - TRUNCATE_BY : 0);
		return;
	case A_CHOP: {
		static uint8_t mem[SC_FRAME_ENC_MAX];
		struct sc_buf b;

		sc_buf_init(&b, mem, sizeof(mem));
		if (sc_frame_encode(&b, R.encoding, f->type, f->body, f->len) < 0)
			die("encode");
		emit_raw(dir, b.data, b.len / 2);
		ds->silent = true;
		logf_("chop: %s stops mid-frame, connection kept", dname(dir));
		return;
	}
	case A_CUT: {
		static uint8_t mem[SC_FRAME_ENC_MAX];
		struct sc_buf b;

		sc_buf_init(&b, mem, sizeof(mem));
		if (sc_frame_encode(&b, R.encoding, f->type, f->body, f->len) < 0)
			die("encode");
		emit_raw(dir, b.data, b.len / 2);
		logf_("cut: %s ends mid-frame", dname(dir));
		if (dir == S2C) {
			close(ds->out);
			ds->out = -1;
		} else {
			close(sink_fd(C2S));
			if (R.spliced)
				R.in2 = -1;
			else
				ds->out = -1;
		}
		return;
	}
	default:
		break;
	}
	if (dir == S2C && f->type == SC_FRAME_HELLO)
		forward_hello(f);
	else
		emit_frame(dir, f->type, f->body, f->len);
	if (ds->holding && f->type == ds->held_type) {
		ds->holding = false;
		logf_("reorder: the held %s %s frame follows", dname(dir),
		    tname(ds->held_type));
		emit_frame(dir, ds->held_type, ds->held.body, ds->held.len);
	}
}

/*
 * Feed bytes of direction dir through the decoder.  path2: the bytes come
 * from the second (splice) path, whose own HELLO is swallowed and whose
 * other frames reach the client only once the session is spliced.
 */
static void
feed_frames(int dir, struct sc_frame_decoder *dec, const uint8_t *p, size_t n,
    bool path2)
{
	while (n > 0) {
		struct sc_frame f;
		size_t used = 0;
		int r = sc_frame_decode(dec, p, n, &used, &f);

		if (r < 0) {
			/* Not ours to judge: pass the rest through as it is. */
			logf_("%s: undecodable stream (%s): passing bytes through",
			    dname(dir), sc_err(r));
			if (!path2 || R.spliced)
				emit_raw(dir, p, n);
			return;
		}
		if (r == 1) {
			if (path2 && (!R.hello2_seen || !R.spliced)) {
				if (f.type == SC_FRAME_HELLO)
					R.hello2_seen = true;
				logf_("second path: swallowed its %s frame",
				    tname(f.type));
			} else
				on_frame(dir, &f);
		}
		if (used == 0 && r == 0)
			break;
		p += used;
		n -= used;
	}
}

static void
start_framing(uint8_t enc)
{
	int r;

	R.encoding = enc;
	if ((r = sc_frame_decoder_init(&R.d[S2C].dec, enc)) < 0 ||
	    (r = sc_frame_decoder_init(&R.d[C2S].dec, enc)) < 0)
		die("decoder: %s", sc_err(r));
	R.d[S2C].framed = R.d[C2S].framed = true;
	logf_("HELLO magic seen, encoding %c", enc);
}

static void
from_server(const uint8_t *p, size_t n)
{
	static uint8_t clear[READ_CHUNK + SC_HELLO_MAGIC_LEN];
	static uint8_t magic[SC_HELLO_MAGIC_LEN + 1];
	struct sc_buf mb;

	while (n > 0 && !R.d[S2C].framed) {
		size_t cl = 0, used = 0;
		int r = sc_hello_scan(&R.scan, p, n, clear, &cl, &used);

		if (cl > 0)
			emit_raw(S2C, clear, cl);
		if (r < 0)
			die("hello scan: %s", sc_err(r));
		p += used;
		n -= used;
		if (r == 1) {
			start_framing(R.scan.encoding);
			sc_buf_init(&mb, magic, sizeof(magic));
			if (sc_frame_put_magic(&mb, R.encoding) < 0)
				die("magic");
			emit_raw(S2C, mb.data, mb.len);
		}
	}
	if (n > 0)
		feed_frames(S2C, &R.d[S2C].dec, p, n, false);
}

static void
from_server2(const uint8_t *p, size_t n)
{
	static uint8_t clear[READ_CHUNK + SC_HELLO_MAGIC_LEN];

	while (n > 0 && !R.framed2) {
		size_t cl = 0, used = 0;
		int r = sc_hello_scan(&R.scan2, p, n, clear, &cl, &used);

		if (r < 0)
			die("hello scan 2: %s", sc_err(r));
		p += used;
		n -= used;
		if (r == 1) {
			if (sc_frame_decoder_init(&R.dec2, R.scan2.encoding) < 0)
				die("decoder 2");
			R.framed2 = true;
		}
	}
	if (n > 0)
		feed_frames(S2C, &R.dec2, p, n, true);
}

static void
from_client(const uint8_t *p, size_t n)
{
	if (!R.d[C2S].framed) {
		emit_raw(C2S, p, n);
		return;
	}
	feed_frames(C2S, &R.d[C2S].dec, p, n, false);
}

/* ---- processes ---- */

static pid_t
spawn(char *const argv[], int *to, int *from)
{
	int in[2], out[2];
	pid_t pid;

	if (pipe(in) != 0 || pipe(out) != 0)
		die("pipe: %s", strerror(errno));
	if ((pid = fork()) < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		signal(SIGPIPE, SIG_DFL);
		if (dup2(in[0], 0) < 0 || dup2(out[1], 1) < 0)
			_exit(127);
		close(in[0]); close(in[1]); close(out[0]); close(out[1]);
		execvp(argv[0], argv);
		fprintf(stderr, "evil-relay: cannot run %s: %s\n", argv[0],
		    strerror(errno));
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	*to = in[1];
	*from = out[0];
	return pid;
}

static void
usage(void)
{
	fprintf(stderr,
"usage: evil-relay [--log FILE] [--capture PREFIX] [--ctl FIFO] [--arm CMD]...\n"
"                  [--record FILE] [--replay FILE] [--hello-vm NAME]\n"
"                  [--hello-uuid UUID] [--hello-key HEX|random]\n"
"                  [--cert FILE|none] [--splice 'SHELL COMMAND'] -- COMMAND...\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *ctl = NULL, *capture = NULL, *splice = NULL;
	const char *pre[MAX_ARMED];
	unsigned npre = 0, i;
	int ctlfd = -1, argi;
	char ctlbuf[512];
	size_t ctllen = 0;

	memset(&R, 0, sizeof(R));
	R.recfd = -1;
	R.d[0].capfd = R.d[1].capfd = -1;
	R.in2 = R.out2 = -1;
	R.log = stderr;
	if (sodium_init() < 0)
		die("sodium_init");
	for (argi = 1; argi < argc; argi++) {
		const char *o = argv[argi], *v = argi + 1 < argc ? argv[argi + 1] : NULL;

		if (strcmp(o, "--") == 0) {
			argi++;
			break;
		}
		if (v == NULL)
			usage();
		argi++;
		if (strcmp(o, "--log") == 0) {
			if ((R.log = fopen(v, "a")) == NULL)
				die("%s: %s", v, strerror(errno));
		} else if (strcmp(o, "--capture") == 0)
			capture = v;
		else if (strcmp(o, "--ctl") == 0)
			ctl = v;
		else if (strcmp(o, "--arm") == 0 && npre < MAX_ARMED)
			pre[npre++] = v;
		else if (strcmp(o, "--record") == 0) {
			if ((R.recfd = open(v, O_WRONLY | O_CREAT | O_TRUNC, 0600)) < 0)
				die("%s: %s", v, strerror(errno));
		} else if (strcmp(o, "--replay") == 0)
			R.replay_file = v;
		else if (strcmp(o, "--hello-vm") == 0)
			R.hello_vm = v;
		else if (strcmp(o, "--hello-uuid") == 0) {
			if (hex_exact(v, R.hello_uuid, SC_UUID_LEN) < 0)
				die("bad uuid %s", v);
			R.set_uuid = true;
		} else if (strcmp(o, "--hello-key") == 0) {
			if (strcmp(v, "random") == 0) {
				uint8_t sk[SC_KEY_LEN];

				randombytes_buf(sk, sizeof(sk));
				if (crypto_scalarmult_base(R.hello_key, sk) != 0)
					die("x25519");
				sodium_memzero(sk, sizeof(sk));
			} else if (hex_exact(v, R.hello_key, SC_KEY_LEN) < 0)
				die("bad key %s", v);
			R.set_key = true;
		} else if (strcmp(o, "--cert") == 0)
			R.cert_file = v;
		else if (strcmp(o, "--splice") == 0)
			splice = v;
		else
			usage();
	}
	if (argi >= argc)
		usage();
	signal(SIGPIPE, SIG_IGN);
	if (capture != NULL) {
		char path[4096];

		snprintf(path, sizeof(path), "%s.c2s", capture);
		R.d[C2S].capfd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0600);
		snprintf(path, sizeof(path), "%s.s2c", capture);
		R.d[S2C].capfd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0600);
		if (R.d[C2S].capfd < 0 || R.d[S2C].capfd < 0)
			die("capture %s: %s", capture, strerror(errno));
	}
	if (ctl != NULL && (ctlfd = open(ctl, O_RDWR | O_NONBLOCK)) < 0)
		die("%s: %s", ctl, strerror(errno));

	R.pid = spawn(&argv[argi], &R.d[C2S].out, &R.d[S2C].in);
	R.d[C2S].in = STDIN_FILENO;
	R.d[S2C].out = STDOUT_FILENO;
	if (splice != NULL) {
		char *sargv[] = { "/bin/sh", "-c", (char *)splice, NULL };

		R.pid2 = spawn(sargv, &R.in2, &R.out2);
	}
	logf_("started (pid %ld) for %s", (long)getpid(), argv[argi]);
	for (i = 0; i < npre; i++)
		arm(pre[i]);

	for (;;) {
		struct pollfd p[4];
		int np = 0, ic = -1, is = -1, i2 = -1, ik = -1;
		static uint8_t buf[READ_CHUNK];
		ssize_t n;

		if (!R.d[C2S].eof) {
			p[np].fd = R.d[C2S].in; p[np].events = POLLIN; ic = np++;
		}
		if (!R.d[S2C].eof) {
			p[np].fd = R.d[S2C].in; p[np].events = POLLIN; is = np++;
		}
		if (R.pid2 > 0 && !R.eof2) {
			p[np].fd = R.out2; p[np].events = POLLIN; i2 = np++;
		}
		if (ctlfd >= 0) {
			p[np].fd = ctlfd; p[np].events = POLLIN; ik = np++;
		}
		/* The client's path ended: we are done. */
		if (R.d[S2C].eof && (!R.spliced || R.eof2))
			break;
		if (R.spliced && R.eof2)
			break;
		if (poll(p, (nfds_t)np, -1) < 0) {
			if (errno == EINTR)
				continue;
			die("poll: %s", strerror(errno));
		}
		if (ik >= 0 && (p[ik].revents & POLLIN)) {
			n = read(ctlfd, ctlbuf + ctllen, sizeof(ctlbuf) - 1 - ctllen);
			if (n > 0) {
				char *nl;

				ctllen += (size_t)n;
				ctlbuf[ctllen] = '\0';
				while ((nl = strchr(ctlbuf, '\n')) != NULL) {
					*nl = '\0';
					if (ctlbuf[0] != '\0')
						arm(ctlbuf);
					ctllen -= (size_t)(nl + 1 - ctlbuf);
					memmove(ctlbuf, nl + 1, ctllen);
					ctlbuf[ctllen] = '\0';
				}
				if (ctllen >= sizeof(ctlbuf) - 1)
					ctllen = 0;
			}
		}
		if (is >= 0 && (p[is].revents & (POLLIN | POLLHUP | POLLERR))) {
			n = read(R.d[S2C].in, buf, sizeof(buf));
			if (n > 0) {
				if (R.spliced && R.pid2 > 0)
					;	/* the first path is cut off */
				else
					from_server(buf, (size_t)n);
			} else if (n == 0 || errno != EINTR) {
				R.d[S2C].eof = true;
				logf_("s2c: end of stream from dom0");
			}
		}
		if (i2 >= 0 && (p[i2].revents & (POLLIN | POLLHUP | POLLERR))) {
			n = read(R.out2, buf, sizeof(buf));
			if (n > 0)
				from_server2(buf, (size_t)n);
			else if (n == 0 || errno != EINTR) {
				R.eof2 = true;
				logf_("second path: end of stream");
			}
		}
		if (ic >= 0 && (p[ic].revents & (POLLIN | POLLHUP | POLLERR))) {
			n = read(R.d[C2S].in, buf, sizeof(buf));
			if (n > 0)
				from_client(buf, (size_t)n);
			else if (n == 0 || errno != EINTR) {
				R.d[C2S].eof = true;
				logf_("c2s: end of stream from the client");
				if (R.d[C2S].out >= 0) {
					close(R.d[C2S].out);
					R.d[C2S].out = -1;
				}
				if (R.in2 >= 0) {
					close(R.in2);
					R.in2 = -1;
				}
			}
		}
	}
	finish();
}
