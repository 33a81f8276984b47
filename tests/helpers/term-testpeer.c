/*
 * term-testpeer — TEST SCAFFOLDING ONLY (never installed).
 *
 * Plays dom0 + hypervisor for one sccrypt-term session over stdin/stdout so
 * that the terminal program's integration tests (tests/integration/term-*.sh)
 * can run under tmux, behind socat, ssh ProxyCommand, sshd forced commands
 * and `ssh -t`, before/independently of the real hvsim + consoled stack.  It
 * uses the real protocol core (frames, Noise IKpsk2 responder, records,
 * certificates); the "guest" is a shell on a pty.
 *
 *   term-testpeer init DIR              hv key + key server key into DIR
 *   term-testpeer serve DIR VM [options] (stdin/stdout = the client)
 *     --keystore KS     client keystore to read vms/VM and id_x25519.pub
 *     --cert valid|expired|none   (default valid) --host NAME (cert host)
 *     --fake-key        announce another hv key than the certified one
 *     --prompt          sudo-style password prompt (echo off) before HELLO
 *     --tamper N        flip a bit in the Nth output record
 *     --pidfile F       write our pid
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>
#ifdef HAVE_PTY_H
#include <pty.h>
#endif

#include <sodium.h>

#include "core/wire.h"
#include "vmfile.h"
#include "pubkey.h"
#include "cert.h"
#include "core/buf.h"
#include "core/crypto.h"
#include "core/err.h"
#include "core/frame.h"
#include "core/handshake.h"
#include "core/noise.h"
#include "core/record.h"
#include "io.h"
#include "secmem.h"

static void __attribute__((noreturn))
die(const char *m)
{
	fprintf(stderr, "term-testpeer: %s\n", m);
	exit(1);
}

static void
send_frame(uint8_t type, const uint8_t *body, size_t len)
{
	static uint8_t out[SC_FRAME_ENC_MAX];
	struct sc_buf b;

	sc_buf_init(&b, out, sizeof(out));
	if (sc_frame_encode(&b, SC_ENCODING_BINARY, type, body, len) < 0 ||
	    sc_write_all(STDOUT_FILENO, b.data, b.len) < 0)
		die("write");
}

static void
send_error(uint16_t code, const char *text)
{
	uint8_t eb[SC_ERRMSG_MAX + 16];
	struct sc_buf b;

	sc_buf_init(&b, eb, sizeof(eb));
	if (sc_errorframe_encode(code, text, &b) == 0)
		send_frame(SC_FRAME_ERROR, b.data, b.len);
}

static void
read_file_exact(const char *path, uint8_t *out, size_t n)
{
	unsigned char *d = NULL;
	size_t l = 0;

	if (sc_read_file(path, n, &d, &l) < 0 || l != n)
		die("cannot read key file");
	memcpy(out, d, n);
	free(d);
}

static int
cmd_init(const char *dir)
{
	uint8_t hv_pk[32], hv_sk[32], ks_pk[32], ks_sk[64];
	char p[4096];

	if (sc_x25519_keypair(sc_crypto_sodium(), hv_pk, hv_sk) < 0)
		die("keygen");
	crypto_sign_keypair(ks_pk, ks_sk);
	snprintf(p, sizeof(p), "%s/hv.key", dir);
	if (sc_write_file_atomic(p, hv_sk, 32, 0600) < 0)
		die("hv.key");
	snprintf(p, sizeof(p), "%s/ks.key", dir);
	if (sc_write_file_atomic(p, ks_sk, 64, 0600) < 0)
		die("ks.key");
	snprintf(p, sizeof(p), "%s/ks.pub", dir);
	if (sc_pubkey_write_file(SC_KSKEY_PREFIX, p, ks_pk, "test-keyserver") < 0)
		die("ks.pub");
	return 0;
}

/* Frames from the client: buffered input, decoded one at a time. */
static struct sc_frame_decoder dec;
static uint8_t inbuf[65536];
static size_t in_off, in_len;

static int
next_frame(struct sc_frame *f)
{
	for (;;) {
		size_t consumed = 0;
		int r;

		if (in_off < in_len) {
			r = sc_frame_decode(&dec, inbuf + in_off, in_len - in_off,
			    &consumed, f);
			in_off += consumed;
			if (r < 0)
				die("bad frame from the client");
			if (r == 1)
				return 1;
			continue;
		}
		return 0;
	}
}

static bool
fill(void)
{
	ssize_t n = read(STDIN_FILENO, inbuf, sizeof(inbuf));

	if (n <= 0)
		return false;
	in_off = 0;
	in_len = (size_t)n;
	return true;
}

/* What `serve` was asked to do. */
struct peer_opts {
	const char	*dir, *vm, *keystore, *certmode, *host, *pidfile;
	bool		fake, prompt;
	long		tamper;		/* flip a bit in this output record */
};

/* One served session. */
struct peer {
	struct peer_opts o;
	uint8_t		hv_sk[SC_KEY_LEN], hv_pk[SC_KEY_LEN];
	uint8_t		ks_sk[crypto_sign_SECRETKEYBYTES];
	uint8_t		user_pk[SC_KEY_LEN];
	struct sc_vmfile *vmf;
	struct sc_record_layer rl;
	pid_t		guest;
	int		master;		/* the guest's pty */
	long		nrec;		/* output records sent */
};

static void
parse_opts(int argc, char **argv, struct peer_opts *o)
{
	int i;

	memset(o, 0, sizeof(*o));
	o->dir = argv[2];
	o->vm = argv[3];
	o->certmode = "valid";
	o->host = "dom0.test";
	for (i = 4; i < argc; i++) {
		if (!strcmp(argv[i], "--keystore") && i + 1 < argc) o->keystore = argv[++i];
		else if (!strcmp(argv[i], "--cert") && i + 1 < argc) o->certmode = argv[++i];
		else if (!strcmp(argv[i], "--host") && i + 1 < argc) o->host = argv[++i];
		else if (!strcmp(argv[i], "--fake-key")) o->fake = true;
		else if (!strcmp(argv[i], "--prompt")) o->prompt = true;
		else if (!strcmp(argv[i], "--tamper") && i + 1 < argc) o->tamper = atol(argv[++i]);
		else if (!strcmp(argv[i], "--pidfile") && i + 1 < argc) o->pidfile = argv[++i];
		else die("bad option");
	}
	if (o->keystore == NULL)
		die("--keystore needed");
}

static void
write_pidfile(const char *path)
{
	FILE *pf;

	if (path == NULL)
		return;
	if ((pf = fopen(path, "w")) == NULL)
		die("pidfile");
	fprintf(pf, "%ld\n", (long)getpid());
	fclose(pf);
}

/* The hv's and key server's keys (init), the VM file and the user's key. */
static void
load_keys(struct peer *p)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/hv.key", p->o.dir);
	read_file_exact(path, p->hv_sk, sizeof(p->hv_sk));
	if (sc_crypto_sodium()->x25519_base(p->hv_pk, p->hv_sk) < 0)
		die("hv key");
	snprintf(path, sizeof(path), "%s/ks.key", p->o.dir);
	read_file_exact(path, p->ks_sk, sizeof(p->ks_sk));
	snprintf(path, sizeof(path), "%s/vms/%s", p->o.keystore, p->o.vm);
	if (sc_vmfile_read(path, NULL, &p->vmf) < 0)
		die("cannot read the VM file (must be unencrypted: vm init -N)");
	snprintf(path, sizeof(path), "%s/id_x25519.pub", p->o.keystore);
	if (sc_pubkey_read_file(SC_PUBKEY_PREFIX, path, p->user_pk) < 0)
		die("cannot read the user's public key");
}

/*
 * A sudo-style password prompt (echo off), as dom0 may show before the
 * console starts.  false: the wrong password (said, as sudo says it).
 */
static bool
sudo_prompt(void)
{
	struct termios tio, saved;
	bool tty = tcgetattr(STDIN_FILENO, &saved) == 0;
	char line[256];
	size_t n = 0;

	if (tty) {
		tio = saved;
		tio.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSANOW, &tio);
	}
	dprintf(STDOUT_FILENO, "[sudo] password for tenant: ");
	while (n + 1 < sizeof(line)) {
		char c;

		if (read(STDIN_FILENO, &c, 1) != 1)
			die("eof at prompt");
		if (c == '\n' || c == '\r')
			break;
		line[n++] = c;
	}
	line[n] = '\0';
	if (tty)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	dprintf(STDOUT_FILENO, "\r\n");
	if (strcmp(line, "sudopw") != 0) {
		dprintf(STDOUT_FILENO, "Sorry, try again.\r\n");
		return false;
	}
	if (tty) {
		/* like sccrypt-console: raw tty for the framed phase */
		tio = saved;
		cfmakeraw(&tio);
		tcsetattr(STDIN_FILENO, TCSANOW, &tio);
	}
	return true;
}

/* The certificate --cert asks for, into h (none: h has none). */
static void
make_cert(const struct peer *p, struct sc_hello *h)
{
	struct sc_cert c;
	uint64_t now = (uint64_t)time(NULL);

	if (strcmp(p->o.certmode, "none") == 0)
		return;
	memset(&c, 0, sizeof(c));
	snprintf(c.host, sizeof(c.host), "%s", p->o.host);
	memcpy(c.hv_pubkey, p->hv_pk, SC_KEY_LEN);
	c.issued = now - 60;
	c.expires = strcmp(p->o.certmode, "expired") == 0 ? now - 30 : now + 3600;
	crypto_sign_ed25519_sk_to_pk(c.signer, p->ks_sk);
	if (sc_cert_sign(&c, p->ks_sk, h->cert, sizeof(h->cert), &h->cert_len) < 0)
		die("cert");
}

/* The HELLO magic and frame, as sccrypt-console sends them. */
static void
send_hello(const struct peer *p)
{
	static uint8_t body[SC_FRAME_BODY_MAX], magic[SC_FRAME_ENC_MAX];
	struct sc_hello h;
	struct sc_buf b, mb;

	memset(&h, 0, sizeof(h));
	h.version = SC_PROTOCOL_VERSION;
	h.flags = SC_HELLO_F_PROTECTED;
	snprintf(h.vmname, sizeof(h.vmname), "%s", p->o.vm);
	memcpy(h.uuid, p->vmf->uuid, SC_UUID_LEN);
	memcpy(h.hv_pubkey, p->hv_pk, SC_KEY_LEN);
	h.history_bytes = 65536;
	make_cert(p, &h);
	if (p->o.fake) {
		uint8_t junk[SC_KEY_LEN];

		if (sc_x25519_keypair(sc_crypto_sodium(), h.hv_pubkey, junk) < 0)
			die("keygen");
	}
	sc_buf_init(&b, body, sizeof(body));
	if (sc_hello_encode(&h, &b) < 0)
		die("hello");
	sc_buf_init(&mb, magic, sizeof(magic));
	if (sc_frame_put_magic(&mb, SC_ENCODING_BINARY) < 0 ||
	    sc_write_all(STDOUT_FILENO, mb.data, mb.len) < 0)
		die("magic");
	send_frame(SC_FRAME_HELLO, b.data, b.len);
}

enum hs_end {
	HS_DONE = 0,
	HS_EOF,			/* the client went away first */
	HS_REFUSED,		/* its key is not the VM's user */
};

/*
 * The hv's side of the handshake (HS_INIT in, HS_RESP out).  A key other
 * than the VM's user is refused with an ERROR frame, as the hv refuses a
 * key outside the ACL.
 */
static enum hs_end
handshake(struct peer *p)
{
	const struct sc_hs2 hs2 = { .flags = SC_HS2_F_OWNER,
	    .history_kept = 65536 };
	struct sc_noise_handshake hs;
	struct sc_noise_transport t;
	struct sc_frame f;
	struct sc_hs1 hs1;
	uint8_t pay[64], msg[256], out[SC_HS2_PAYLOAD_LEN];
	struct sc_buf pb, mb, ob;

	if (sc_frame_decoder_init(&dec, SC_ENCODING_BINARY) < 0)
		die("decoder");
	while (next_frame(&f) == 0)
		if (!fill())
			return HS_EOF;
	if (f.type != SC_FRAME_HS_INIT)
		die("expected HS_INIT");
	if (sc_hs_init(&hs, sc_crypto_sodium(), false, p->vmf->uuid, p->hv_pk,
	    p->hv_sk, p->vmf->secret) < 0)
		die("hs init");
	sc_buf_init(&pb, pay, sizeof(pay));
	if (sc_noise_hs_read(&hs, f.body, f.len, &pb) < 0)
		die("hs read");
	if (sc_hs1_get(&pb, &hs1) < 0)
		die("malformed HS1 payload");
	if (sodium_memcmp(sc_noise_hs_remote_static(&hs), p->user_pk,
	    SC_KEY_LEN) != 0) {
		send_error(-SC_ERR_PERM, "key not in the ACL");
		return HS_REFUSED;
	}
	sc_buf_init(&ob, out, sizeof(out));
	sc_buf_init(&mb, msg, sizeof(msg));
	if (sc_hs2_put(&ob, &hs2) < 0 ||
	    sc_noise_hs_write(&hs, ob.data, ob.len, &mb) < 0 ||
	    sc_noise_hs_split(&hs, &t) < 0)
		die("hs write");
	sc_record_init(&p->rl, &t);
	sc_noise_transport_wipe(&t);
	sc_noise_hs_wipe(&hs);
	send_frame(SC_FRAME_HS_RESP, mb.data, mb.len);
	return HS_DONE;
}

/* The guest: a shell on a pty. */
static void
spawn_guest(struct peer *p)
{
	struct winsize ws = { .ws_row = 24, .ws_col = 80 };

	p->guest = forkpty(&p->master, NULL, NULL, &ws);
	if (p->guest < 0)
		die("forkpty");
	if (p->guest == 0) {
		setenv("PS1", "guest$ ", 1);
		setenv("TERM", "vt100", 1);
		execl("/bin/sh", "sh", "-i", (char *)NULL);
		_exit(127);
	}
}

/* Seal and send a CLOSE record with this reason. */
static void
send_close(struct peer *p, uint8_t reason, const char *text)
{
	static uint8_t ct[SC_RECORD_CT_MAX];
	struct sc_buf cb;

	sc_buf_init(&cb, ct, sizeof(ct));
	if (sc_record_seal_close(&p->rl, reason, text, &cb) == 0)
		send_frame(SC_FRAME_RECORD, cb.data, cb.len);
}

/*
 * The client's records buffered so far: DATA to the guest; its CLOSE
 * answered with ours (the close handshake).  false: the session is over.
 */
static bool
client_records(struct peer *p)
{
	uint8_t pt[SC_RECORD_PAYLOAD_MAX + 16], type;
	struct sc_frame f;
	struct sc_buf ptb;

	while (next_frame(&f) == 1) {
		if (f.type != SC_FRAME_RECORD)
			die("expected RECORD");
		sc_buf_init(&ptb, pt, sizeof(pt));
		if (sc_record_open(&p->rl, f.body, f.len, &type, &ptb) < 0)
			die("client record does not authenticate");
		if (type == SC_REC_DATA) {
			if (sc_write_all(p->master, ptb.data, ptb.len) < 0)
				die("guest write");
		} else if (type == SC_REC_CLOSE) {
			struct sc_record_close c;

			if (sc_record_close_parse(&p->rl, ptb.data, ptb.len, &c) < 0)
				die("client CLOSE malformed or inconsistent");
			send_close(p, SC_CLOSE_NORMAL, "closed by the client");
			return false;
		}
	}
	return true;
}

/* The guest's output, one record per read (--tamper: one of them
 * damaged).  false: the guest exited (said with a CLOSE). */
static bool
guest_output(struct peer *p)
{
	static uint8_t ct[SC_RECORD_CT_MAX];
	uint8_t buf[SC_RECORD_PAYLOAD_MAX];
	struct sc_buf cb;
	ssize_t n = read(p->master, buf, sizeof(buf));

	if (n <= 0) {
		send_close(p, SC_CLOSE_SHUTDOWN, "the guest exited");
		return false;
	}
	sc_buf_init(&cb, ct, sizeof(ct));
	if (sc_record_seal(&p->rl, SC_REC_DATA, buf, (size_t)n, &cb) < 0)
		die("seal");
	if (++p->nrec == p->o.tamper)
		ct[cb.len / 2] ^= 0x01;
	send_frame(SC_FRAME_RECORD, cb.data, cb.len);
	return true;
}

/* Records both ways until either side ends. */
static int
pump(struct peer *p)
{
	for (;;) {
		struct pollfd pf[2] = { { STDIN_FILENO, POLLIN, 0 },
		    { p->master, POLLIN, 0 } };

		if (!client_records(p))		/* frames already buffered first */
			break;
		if (poll(pf, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			die("poll");
		}
		if ((pf[0].revents & (POLLIN | POLLHUP)) && !fill())
			break;
		if ((pf[1].revents & (POLLIN | POLLHUP)) && !guest_output(p))
			return 0;
	}
	kill(p->guest, SIGHUP);
	return 0;
}

static int
cmd_serve(int argc, char **argv)
{
	struct peer p;
	enum hs_end e;

	memset(&p, 0, sizeof(p));
	parse_opts(argc, argv, &p.o);
	write_pidfile(p.o.pidfile);
	load_keys(&p);
	/* Clear phase: banner, optional sudo-style prompt. */
	dprintf(STDOUT_FILENO, "term-testpeer: dom0 banner\r\n");
	if (p.o.prompt && !sudo_prompt())
		return 1;
	send_hello(&p);
	if ((e = handshake(&p)) != HS_DONE)
		return e == HS_REFUSED ? 1 : 0;
	spawn_guest(&p);
	return pump(&p);
}

int
main(int argc, char **argv)
{
	if (sc_lib_init() < 0)
		die("init");
	signal(SIGPIPE, SIG_IGN);
	if (argc == 3 && strcmp(argv[1], "init") == 0)
		return cmd_init(argv[2]);
	if (argc >= 4 && strcmp(argv[1], "serve") == 0)
		return cmd_serve(argc, argv);
	fprintf(stderr, "usage: term-testpeer init DIR | serve DIR VM [options]\n");
	return 2;
}
