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

/* Read frames from stdin until one of type `want` arrives. */
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

static int
cmd_serve(int argc, char **argv)
{
	const char *dir = argv[2], *vm = argv[3], *keystore = NULL, *certmode = "valid";
	const char *host = "dom0.test", *pidfile = NULL;
	bool fake = false, prompt = false;
	long tamper = 0, nrec = 0;
	uint8_t hv_sk[32], hv_pk[32], ks_sk[64], user_pk[32];
	struct sc_vmfile *vmf = NULL;
	struct sc_hello h;
	static uint8_t body[SC_FRAME_BODY_MAX], out[SC_FRAME_ENC_MAX];
	struct sc_buf b;
	struct sc_frame f;
	struct sc_noise_handshake hs;
	struct sc_noise_transport t;
	struct sc_record_layer rl;
	char p[4096];
	int i, master;
	pid_t guest;

	for (i = 4; i < argc; i++) {
		if (!strcmp(argv[i], "--keystore") && i + 1 < argc) keystore = argv[++i];
		else if (!strcmp(argv[i], "--cert") && i + 1 < argc) certmode = argv[++i];
		else if (!strcmp(argv[i], "--host") && i + 1 < argc) host = argv[++i];
		else if (!strcmp(argv[i], "--fake-key")) fake = true;
		else if (!strcmp(argv[i], "--prompt")) prompt = true;
		else if (!strcmp(argv[i], "--tamper") && i + 1 < argc) tamper = atol(argv[++i]);
		else if (!strcmp(argv[i], "--pidfile") && i + 1 < argc) pidfile = argv[++i];
		else die("bad option");
	}
	if (keystore == NULL)
		die("--keystore needed");
	if (pidfile != NULL) {
		FILE *pf = fopen(pidfile, "w");

		if (pf == NULL)
			die("pidfile");
		fprintf(pf, "%ld\n", (long)getpid());
		fclose(pf);
	}
	snprintf(p, sizeof(p), "%s/hv.key", dir);
	read_file_exact(p, hv_sk, 32);
	if (sc_crypto_sodium()->x25519_base(hv_pk, hv_sk) < 0)
		die("hv key");
	snprintf(p, sizeof(p), "%s/ks.key", dir);
	read_file_exact(p, ks_sk, 64);
	snprintf(p, sizeof(p), "%s/vms/%s", keystore, vm);
	if (sc_vmfile_read(p, NULL, &vmf) < 0)
		die("cannot read the VM file (must be unencrypted: vm init -N)");
	snprintf(p, sizeof(p), "%s/id_x25519.pub", keystore);
	if (sc_pubkey_read_file(SC_PUBKEY_PREFIX, p, user_pk) < 0)
		die("cannot read the user's public key");

	/* Clear phase: banner, optional sudo-style prompt. */
	dprintf(STDOUT_FILENO, "term-testpeer: dom0 banner\r\n");
	if (prompt) {
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
			return 1;
		}
		if (tty) {
			/* like sccrypt-console: raw tty for the framed phase */
			tio = saved;
			cfmakeraw(&tio);
			tcsetattr(STDIN_FILENO, TCSANOW, &tio);
		}
	}

	memset(&h, 0, sizeof(h));
	h.version = SC_PROTOCOL_VERSION;
	h.flags = SC_HELLO_F_PROTECTED;
	snprintf(h.vmname, sizeof(h.vmname), "%s", vm);
	memcpy(h.uuid, vmf->uuid, 16);
	memcpy(h.hv_pubkey, hv_pk, 32);
	h.history_bytes = 65536;
	if (strcmp(certmode, "none") != 0) {
		struct sc_cert c;
		uint64_t now = (uint64_t)time(NULL);

		memset(&c, 0, sizeof(c));
		snprintf(c.host, sizeof(c.host), "%s", host);
		memcpy(c.hv_pubkey, hv_pk, 32);
		c.issued = now - 60;
		c.expires = strcmp(certmode, "expired") == 0 ? now - 30 : now + 3600;
		crypto_sign_ed25519_sk_to_pk(c.signer, ks_sk);
		if (sc_cert_sign(&c, ks_sk, h.cert, sizeof(h.cert), &h.cert_len) < 0)
			die("cert");
	}
	if (fake) {
		uint8_t junk[32];

		if (sc_x25519_keypair(sc_crypto_sodium(), h.hv_pubkey, junk) < 0)
			die("keygen");
	}
	sc_buf_init(&b, body, sizeof(body));
	if (sc_hello_encode(&h, &b) < 0)
		die("hello");
	{
		struct sc_buf ob;

		sc_buf_init(&ob, out, sizeof(out));
		if (sc_frame_put_magic(&ob, SC_ENCODING_BINARY) < 0 ||
		    sc_write_all(STDOUT_FILENO, ob.data, ob.len) < 0)
			die("magic");
	}
	send_frame(SC_FRAME_HELLO, b.data, b.len);

	/* Handshake */
	if (sc_frame_decoder_init(&dec, SC_ENCODING_BINARY) < 0)
		die("decoder");
	while (next_frame(&f) == 0)
		if (!fill())
			return 0;
	if (f.type != SC_FRAME_HS_INIT)
		die("expected HS_INIT");
	{
		uint8_t prologue[9 + 16 + 32], pay[64], msg[256];
		uint8_t hs2[SC_HS2_PAYLOAD_LEN] = { SC_PROTOCOL_VERSION,
		    SC_HS2_F_OWNER, 0, 1, 0, 0 };
		struct sc_buf pb, mb;

		memcpy(prologue, SC_PROTOCOL_ID, 9);
		memcpy(prologue + 9, vmf->uuid, 16);
		memcpy(prologue + 25, hv_pk, 32);
		if (sc_noise_hs_init(&hs, sc_crypto_sodium(),
		    sc_noise_pattern_lookup(SC_NOISE_PROTOCOL), false, prologue,
		    sizeof(prologue), hv_sk, NULL, vmf->secret, 1) < 0)
			die("hs init");
		sc_buf_init(&pb, pay, sizeof(pay));
		if (sc_noise_hs_read(&hs, f.body, f.len, &pb) < 0)
			die("hs read");
		if (sodium_memcmp(sc_noise_hs_remote_static(&hs), user_pk, 32) != 0) {
			uint8_t eb[128];
			struct sc_buf ebb;

			sc_buf_init(&ebb, eb, sizeof(eb));
			if (sc_errorframe_encode(20, "key not in the ACL", &ebb) == 0)
				send_frame(SC_FRAME_ERROR, ebb.data, ebb.len);
			return 1;
		}
		sc_buf_init(&mb, msg, sizeof(msg));
		if (sc_noise_hs_write(&hs, hs2, sizeof(hs2), &mb) < 0 ||
		    sc_noise_hs_split(&hs, &t) < 0)
			die("hs write");
		sc_record_init(&rl, &t);
		send_frame(SC_FRAME_HS_RESP, mb.data, mb.len);
	}

	/* The guest: a shell on a pty. */
	{
		struct winsize ws = { .ws_row = 24, .ws_col = 80 };

		guest = forkpty(&master, NULL, NULL, &ws);
		if (guest < 0)
			die("forkpty");
		if (guest == 0) {
			setenv("PS1", "guest$ ", 1);
			setenv("TERM", "vt100", 1);
			execl("/bin/sh", "sh", "-i", (char *)NULL);
			_exit(127);
		}
	}
	for (;;) {
		struct pollfd pf[2] = { { STDIN_FILENO, POLLIN, 0 }, { master, POLLIN, 0 } };
		uint8_t buf[SC_RECORD_PAYLOAD_MAX];
		ssize_t n;

		/* frames already buffered first */
		while (next_frame(&f) == 1) {
			uint8_t pt[SC_RECORD_PAYLOAD_MAX + 16], type;
			struct sc_buf ptb;

			if (f.type != SC_FRAME_RECORD)
				die("expected RECORD");
			sc_buf_init(&ptb, pt, sizeof(pt));
			if (sc_record_open(&rl, f.body, f.len, &type, &ptb) < 0)
				die("client record does not authenticate");
			if (type == SC_REC_DATA) {
				if (sc_write_all(master, ptb.data, ptb.len) < 0)
					die("guest write");
			} else if (type == SC_REC_CLOSE) {
				/* The close handshake: answer with our counts. */
				struct sc_record_close c;
				struct sc_buf cb;
				static uint8_t ct[SC_RECORD_CT_MAX];

				if (sc_record_close_parse(&rl, ptb.data, ptb.len, &c) < 0)
					die("client CLOSE malformed or inconsistent");
				sc_buf_init(&cb, ct, sizeof(ct));
				if (sc_record_seal_close(&rl, SC_CLOSE_NORMAL,
				    "closed by the client", &cb) == 0)
					send_frame(SC_FRAME_RECORD, cb.data, cb.len);
				kill(guest, SIGHUP);
				return 0;
			}
		}
		if (poll(pf, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			die("poll");
		}
		if (pf[0].revents & (POLLIN | POLLHUP)) {
			if (!fill()) {
				kill(guest, SIGHUP);
				return 0;
			}
		}
		if (pf[1].revents & (POLLIN | POLLHUP)) {
			struct sc_buf cb;
			static uint8_t ct[SC_RECORD_CT_MAX];

			n = read(master, buf, sizeof(buf));
			if (n <= 0) {
				sc_buf_init(&cb, ct, sizeof(ct));
				if (sc_record_seal_close(&rl, SC_CLOSE_SHUTDOWN,
				    "the guest exited", &cb) == 0)
					send_frame(SC_FRAME_RECORD, cb.data, cb.len);
				return 0;
			}
			sc_buf_init(&cb, ct, sizeof(ct));
			if (sc_record_seal(&rl, SC_REC_DATA, buf, (size_t)n, &cb) < 0)
				die("seal");
			if (++nrec == tamper)
				ct[cb.len / 2] ^= 0x01;
			send_frame(SC_FRAME_RECORD, cb.data, cb.len);
		}
	}
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
