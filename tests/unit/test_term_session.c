/*
 * test_term_session.c — sccrypt-term's protocol session and certificate
 * policy, against a fake dom0 + hv built from the real protocol core (Noise
 * responder, frames, records, sealed blobs) and real VMM certificates.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <sodium.h>

#include "core/wire.h"
#include "vmfile.h"
#include "../../sccrypt-term/policy.h"
#include "../../sccrypt-term/session.h"
#include "cert.h"
#include "core/blob.h"
#include "core/owner.h"
#include "core/crypto.h"
#include "core/err.h"
#include "core/handshake.h"
#include "core/frame.h"
#include "core/noise.h"
#include "core/record.h"
#include "secmem.h"
#include "encode.h"
#include "known_hvs.h"

#define HOST	"dom0.example"
#define VM	"vm1"

/* ---- the fake dom0 + hypervisor ---- */

struct fake {
	uint8_t		hv_sk[32], hv_pk[32];
	uint8_t		ks_sk[64], ks_pk[32];
	uint8_t		pinned[32];	/* what the client pins */
	uint8_t		user_sk[32], user_pk[32];
	uint8_t		psk[32], hv_psk[32];
	uint8_t		uuid[16];
	struct sc_noise_handshake hs;
	struct sc_record_layer rl;
	bool		open;
	struct sc_frame_decoder dec;
	bool		dec_ready;
	uint8_t		hs1_flags;
	uint32_t	hs1_history;
	/* what the client sent */
	uint8_t		wire[65536];
	size_t		wire_len;
	size_t		wire_seen;	/* bytes already decoded by the hv */
	size_t		clear_wire_len;	/* bytes the client sent before the magic */
	uint8_t		rx_data[65536];	/* decrypted DATA from the client */
	size_t		rx_len;
	uint8_t		rx_types[64];
	size_t		rx_n;
	uint8_t		blob[SC_PROTECT_PAYLOAD_MAX];
	size_t		blob_len;
	bool		got_protect;
	bool		got_close;	/* the client's CLOSE, counts checked */
	uint64_t	close_sent, close_recv;
	size_t		ct_sizes_bad;	/* client records not of a padded size */
	uint8_t		last_ping[64];	/* the client's last PING payload */
	size_t		last_ping_len;
};

struct capture {
	uint8_t		term[65536];
	size_t		term_len;
	uint8_t		clear[65536];	/* clear text (sink.clear_to_term) */
	size_t		clear_len;
	char		notices[4096];
	int		events[32];
	size_t		nevents;
	bool		saw_hello;
};

static struct fake F;
static struct capture C;
static struct sess S;
static struct policy P;
static char known_path[256];
static enum sess_clear_input clear_mode;	/* for the next setup_session */
static bool no_ks;			/* setup_session: no key server pinned */
static char tmpdir[128];

static void
cap_term(void *ctx, const uint8_t *p, size_t len)
{
	assert_true(C.term_len + len <= sizeof(C.term));
	memcpy(C.term + C.term_len, p, len);
	C.term_len += len;
}

static void
cap_clear(void *ctx, const uint8_t *p, size_t len)
{
	assert_true(C.clear_len + len <= sizeof(C.clear));
	memcpy(C.clear + C.clear_len, p, len);
	C.clear_len += len;
}

static int
cap_wire(void *ctx, const uint8_t *p, size_t len)
{
	assert_true(F.wire_len + len <= sizeof(F.wire));
	memcpy(F.wire + F.wire_len, p, len);
	F.wire_len += len;
	if (!C.saw_hello)
		F.clear_wire_len = F.wire_len;
	return 0;
}

static void
cap_notice(void *ctx, const char *text)
{
	strncat(C.notices, text, sizeof(C.notices) - strlen(C.notices) - 2);
	strcat(C.notices, "\n");
}

static void
cap_event(void *ctx, enum sess_event ev)
{
	if (ev == SESS_EV_HELLO)
		C.saw_hello = true;
	if (C.nevents < 32)
		C.events[C.nevents++] = (int)ev;
}

static const struct sess_sink sink = { NULL, cap_term, cap_wire, cap_notice,
    cap_event, cap_clear };

static int
ask_yes(void *ctx, const char *q)
{
	(*(int *)ctx)++;
	return 1;
}

static void
make_cert(uint8_t *out, size_t *len, const char *host, const uint8_t hv_pk[32],
    int64_t issued_off, int64_t expires_off)
{
	struct sc_cert c;
	uint64_t now = (uint64_t)time(NULL);

	memset(&c, 0, sizeof(c));
	snprintf(c.host, sizeof(c.host), "%s", host);
	memcpy(c.hv_pubkey, hv_pk, 32);
	memset(c.pcr_digest, 0x5a, 32);
	c.issued = now + (uint64_t)issued_off;
	c.expires = now + (uint64_t)expires_off;
	memcpy(c.signer, F.ks_pk, 32);
	assert_int_equal(sc_cert_sign(&c, F.ks_sk, out, SC_CERT_MAX, len), 0);
}

/* Bytes dom0 sends: magic + HELLO frame (binary encoding). */
static size_t
hello_bytes(uint8_t *out, size_t cap, uint8_t flags, const char *vm,
    const uint8_t hv_pk[32], const uint8_t *cert, size_t cert_len)
{
	struct sc_hello h;
	uint8_t body[SC_FRAME_BODY_MAX];
	struct sc_buf bb, ob;

	memset(&h, 0, sizeof(h));
	h.version = SC_PROTOCOL_VERSION;
	h.flags = flags;
	snprintf(h.vmname, sizeof(h.vmname), "%s", vm);
	memcpy(h.uuid, F.uuid, 16);
	memcpy(h.hv_pubkey, hv_pk, 32);
	h.history_bytes = 65536;
	if (cert_len > 0)
		memcpy(h.cert, cert, cert_len);
	h.cert_len = cert_len;
	sc_buf_init(&bb, body, sizeof(body));
	assert_int_equal(sc_hello_encode(&h, &bb), 0);
	sc_buf_init(&ob, out, cap);
	assert_int_equal(sc_frame_put_magic(&ob, SC_ENCODING_BINARY), 0);
	assert_int_equal(sc_frame_encode(&ob, SC_ENCODING_BINARY, SC_FRAME_HELLO,
	    bb.data, bb.len), 0);
	return ob.len;
}

static size_t
frame_bytes(uint8_t *out, size_t cap, uint8_t type, const uint8_t *body, size_t len)
{
	struct sc_buf ob;

	sc_buf_init(&ob, out, cap);
	assert_int_equal(sc_frame_encode(&ob, SC_ENCODING_BINARY, type, body, len), 0);
	return ob.len;
}

/* The hv side: decode the client's frames sent since last time and act. */
static void
hv_pump(void)
{
	struct sc_frame f;
	size_t consumed;
	int r;

	if (!F.dec_ready) {
		assert_int_equal(sc_frame_decoder_init(&F.dec, SC_ENCODING_BINARY), 0);
		F.dec_ready = true;
		F.wire_seen = F.clear_wire_len;
	}
	while (F.wire_seen < F.wire_len) {
		r = sc_frame_decode(&F.dec, F.wire + F.wire_seen,
		    F.wire_len - F.wire_seen, &consumed, &f);
		assert_true(r >= 0);
		F.wire_seen += consumed;
		if (r == 0)
			break;
		if (f.type == SC_FRAME_HS_INIT) {
			const struct sc_hs2 hs2 = { .flags = SC_HS2_F_OWNER,
			    .history_kept = 65536, .lost_bytes = 7 };
			uint8_t pay[64], msg[256], out[SC_HS2_PAYLOAD_LEN];
			struct sc_buf pb, mb, ob;
			struct sc_noise_transport t;
			struct sc_hs1 hs1;

			assert_int_equal(sc_hs_init(&F.hs, sc_crypto_sodium(), false,
			    F.uuid, F.hv_pk, F.hv_sk, F.hv_psk), 0);
			sc_buf_init(&pb, pay, sizeof(pay));
			r = sc_noise_hs_read(&F.hs, f.body, f.len, &pb);
			assert_int_equal(r, 0);
			assert_int_equal(pb.len, SC_HS1_PAYLOAD_LEN);
			assert_int_equal(sc_hs1_get(&pb, &hs1), 0);
			F.hs1_flags = hs1.flags;
			F.hs1_history = hs1.history_wanted;
			assert_memory_equal(sc_noise_hs_remote_static(&F.hs), F.user_pk, 32);
			sc_buf_init(&ob, out, sizeof(out));
			assert_int_equal(sc_hs2_put(&ob, &hs2), 0);
			sc_buf_init(&mb, msg, sizeof(msg));
			assert_int_equal(sc_noise_hs_write(&F.hs, ob.data, ob.len, &mb), 0);
			assert_int_equal(sc_noise_hs_split(&F.hs, &t), 0);
			sc_record_init(&F.rl, &t);
			F.open = true;
			/* deliver HS_RESP later via hv_send_hs2 */
			memcpy(F.blob, mb.data, mb.len);	/* reuse as a stash */
			F.blob_len = mb.len;
		} else if (f.type == SC_FRAME_RECORD) {
			uint8_t pt[SC_RECORD_PAYLOAD_MAX + 16], type;
			struct sc_buf pb;

			sc_buf_init(&pb, pt, sizeof(pt));
			if (f.len != 80 && f.len != 272 && f.len != 1040 && f.len != 4115)
				F.ct_sizes_bad++;
			assert_int_equal(sc_record_open(&F.rl, f.body, f.len, &type, &pb), 0);
			if (F.rx_n < sizeof(F.rx_types))
				F.rx_types[F.rx_n++] = type;
			if (type == SC_REC_CLOSE) {
				struct sc_record_close c;

				assert_int_equal(sc_record_close_parse(&F.rl, pb.data,
				    pb.len, &c), 0);
				F.got_close = true;
				F.close_sent = c.sent;
				F.close_recv = c.recv;
			}
			if (type == SC_REC_PING) {
				assert_true(pb.len <= sizeof(F.last_ping));
				memcpy(F.last_ping, pb.data, pb.len);
				F.last_ping_len = pb.len;
			}
			if (type == SC_REC_DATA) {
				assert_true(F.rx_len + pb.len <= sizeof(F.rx_data));
				memcpy(F.rx_data + F.rx_len, pb.data, pb.len);
				F.rx_len += pb.len;
			}
		} else if (f.type == SC_FRAME_PROTECT) {
			assert_true(f.len <= sizeof(F.blob));
			memcpy(F.blob, f.body, f.len);
			F.blob_len = f.len;
			F.got_protect = true;
		} else {
			fail_msg("unexpected frame type %u from the client", f.type);
		}
	}
}

/* Feed bytes to the client in chunks of `chunk` (0: all at once). */
static int
to_client(const uint8_t *p, size_t len, size_t chunk)
{
	size_t off = 0;
	int r = 0;

	while (off < len) {
		size_t n = chunk ? SC_MIN(chunk, len - off) : len - off;

		r = sess_from_wire(&S, p + off, n);
		if (r < 0)
			return r;
		off += n;
	}
	return r;
}

static int
hv_send_hs2(void)
{
	uint8_t out[1024];
	size_t n = frame_bytes(out, sizeof(out), SC_FRAME_HS_RESP, F.blob, F.blob_len);

	return to_client(out, n, 0);
}

static size_t
hv_record(uint8_t *out, size_t cap, uint8_t type, const void *p, size_t len)
{
	uint8_t ct[SC_RECORD_CT_MAX];
	struct sc_buf cb;

	sc_buf_init(&cb, ct, sizeof(ct));
	assert_int_equal(sc_record_seal(&F.rl, type, p, len, &cb), 0);
	return frame_bytes(out, cap, SC_FRAME_RECORD, cb.data, cb.len);
}

/* The hv's CLOSE with its real counts. */
static size_t
hv_close(uint8_t *out, size_t cap, uint8_t reason, const char *text)
{
	uint8_t ct[SC_RECORD_CT_MAX];
	struct sc_buf cb;

	sc_buf_init(&cb, ct, sizeof(ct));
	assert_int_equal(sc_record_seal_close(&F.rl, reason, text, &cb), 0);
	return frame_bytes(out, cap, SC_FRAME_RECORD, cb.data, cb.len);
}

/* A record whose ciphertext has one bit flipped (in the tag), then framed:
 * flipping bytes of the encoded frame could hit the DLE stuffing instead. */
static size_t
hv_record_flipped(uint8_t *out, size_t cap, uint8_t type, const void *p, size_t len)
{
	uint8_t ct[SC_RECORD_CT_MAX];
	struct sc_buf cb;

	sc_buf_init(&cb, ct, sizeof(ct));
	assert_int_equal(sc_record_seal(&F.rl, type, p, len, &cb), 0);
	ct[cb.len - 3] ^= 0x04;
	return frame_bytes(out, cap, SC_FRAME_RECORD, cb.data, cb.len);
}

static void
setup_session(enum sess_mode mode, const char *host)
{
	struct sess_config cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.mode = mode;
	cfg.vmname = VM;
	cfg.uuid = F.uuid;
	cfg.user_sk = F.user_sk;
	cfg.psk = F.psk;
	cfg.history_wanted = 1234;
	cfg.hs1_flags = SC_HS1_F_TAKEOVER;
	cfg.clear_input = clear_mode;
	cfg.verify = policy_verify;
	cfg.verify_ctx = &P;
	P.host = host;
	P.vmname = VM;
	P.now = (uint64_t)time(NULL);
	P.known_hvs = known_path;
	P.have_ks = !no_ks;
	memcpy(P.ks_pubkey, F.pinned, 32);
	sess_init(&S, &cfg, &sink);
}

static int
setup(void **state)
{
	memset(&F, 0, sizeof(F));
	memset(&C, 0, sizeof(C));
	memset(&P, 0, sizeof(P));
	P.strict = true;
	clear_mode = SESS_CLEAR_HOLD;
	no_ks = false;
	assert_int_equal(sc_x25519_keypair(sc_crypto_sodium(), F.hv_pk, F.hv_sk), 0);
	assert_int_equal(sc_x25519_keypair(sc_crypto_sodium(), F.user_pk, F.user_sk), 0);
	crypto_sign_keypair(F.ks_pk, F.ks_sk);
	memcpy(F.pinned, F.ks_pk, 32);
	randombytes_buf(F.psk, 32);
	memcpy(F.hv_psk, F.psk, 32);
	randombytes_buf(F.uuid, 16);
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_term_session.XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	snprintf(known_path, sizeof(known_path), "%s/known_hvs", tmpdir);
	return 0;
}

static int
teardown(void **state)
{
	sess_wipe(&S);
	unlink(known_path);
	rmdir(tmpdir);
	return 0;
}

/* Connect with a valid certificate and open the session. */
static void
open_session(void)
{
	uint8_t cert[SC_CERT_MAX], buf[4096];
	size_t cl, n;

	setup_session(SESS_MODE_CONSOLE, HOST);
	make_cert(cert, &cl, HOST, F.hv_pk, -10, 3600);
	n = hello_bytes(buf, sizeof(buf), SC_HELLO_F_PROTECTED, VM, F.hv_pk, cert, cl);
	assert_int_equal(to_client(buf, n, 0), 0);
	assert_int_equal(S.state, SESS_HANDSHAKE);
	hv_pump();
	assert_true(F.open);
	assert_int_equal(hv_send_hs2(), 0);
	assert_int_equal(S.state, SESS_OPEN);
	assert_int_equal(P.how, POLICY_CERT);
}

/* ---- tests ---- */

static void
test_clear_text_byte_exact_any_chunking(void **state)
{
	static const char clear[] = "login banner\r\n\r\n:SCCR not quite\r\n:SCCRYPT:X"
	    "\r\n:SCC\r\n\r\n:SCCRYPT:";	/* ends right at a real magic */
	uint8_t all[4096], cert[SC_CERT_MAX];
	size_t cl, n, hn, chunk;

	for (chunk = 0; chunk <= 13; chunk++) {
		memset(&C, 0, sizeof(C));
		setup_session(SESS_MODE_CONSOLE, HOST);
		make_cert(cert, &cl, HOST, F.hv_pk, -10, 3600);
		n = sizeof(clear) - 1 - SC_HELLO_MAGIC_LEN;
		memcpy(all, clear, n);
		hn = hello_bytes(all + n, sizeof(all) - n, SC_HELLO_F_PROTECTED, VM,
		    F.hv_pk, cert, cl);
		assert_int_equal(to_client(all, n + hn, chunk), 0);
		/* everything before the magic, exactly, as clear text: never
		 * as console output */
		assert_int_equal(C.clear_len, n);
		assert_memory_equal(C.clear, clear, n);
		assert_int_equal(C.term_len, 0);
		assert_int_equal(S.state, SESS_HANDSHAKE);
		sess_wipe(&S);
		F.wire_len = 0;
	}
}

/*
 * sccrypt-console's preamble line (SC_CONSOLE_PREAMBLE) at a line start is
 * not shown; anywhere else, or a near miss, is shown byte-exact, in any
 * chunking, and a partial preamble at the magic or at EOF is released.
 */
static void
test_preamble_not_shown(void **state)
{
	static const char pre[] = SC_CONSOLE_PREAMBLE;
	static const char *cases[][2] = {	/* { stream, what is shown } */
		{ "", "" },
		{ "sudo: ok\r\n", "sudo: ok\r\n" },
		{ "x SC", "x SC" },		/* not at a line start */
		{ "SCCrypt: this console is encrypted; NOT\r\n",
		  "SCCrypt: this console is encrypted; NOT\r\n" },
		{ "SSCCrypt\r\n", "SSCCrypt\r\n" },	/* restarts afresh */
		{ "SCCrypt: this", "SCCrypt: this" },	/* partial at the magic */
	};
	uint8_t all[4096], want[4096], cert[SC_CERT_MAX];
	size_t cl, n, hn, wn, chunk, k, pl = sizeof(pre) - 1;

	for (k = 0; k < SC_NELEM(cases); k++)
	for (chunk = 0; chunk <= 13; chunk++) {
		memset(&C, 0, sizeof(C));
		setup_session(SESS_MODE_CONSOLE, HOST);
		make_cert(cert, &cl, HOST, F.hv_pk, -10, 3600);
		/* banner, PREAMBLE, case, PREAMBLE, magic + HELLO; and a
		 * preamble that is not at a line start */
		n = wn = 0;
		memcpy(all + n, "banner\r\n", 8); n += 8;
		memcpy(want + wn, "banner\r\n", 8); wn += 8;
		memcpy(all + n, pre, pl); n += pl;
		memcpy(all + n, "mid ", 4); n += 4;
		memcpy(want + wn, "mid ", 4); wn += 4;
		memcpy(all + n, pre, pl); n += pl;
		memcpy(want + wn, pre, pl); wn += pl;
		memcpy(all + n, cases[k][0], strlen(cases[k][0]));
		n += strlen(cases[k][0]);
		memcpy(want + wn, cases[k][1], strlen(cases[k][1]));
		wn += strlen(cases[k][1]);
		if (k + 1 < SC_NELEM(cases)) {
			size_t cl2 = strlen(cases[k][0]);

			memcpy(all + n, pre, pl); n += pl;	/* then the magic */
			if (cl2 > 0 && cases[k][0][cl2 - 1] != '\n') {
				memcpy(want + wn, pre, pl);	/* mid-line: shown */
				wn += pl;
			}
		}
		hn = hello_bytes(all + n, sizeof(all) - n, SC_HELLO_F_PROTECTED, VM,
		    F.hv_pk, cert, cl);
		assert_int_equal(to_client(all, n + hn, chunk), 0);
		assert_int_equal(C.clear_len, wn);
		assert_memory_equal(C.clear, want, wn);
		assert_int_equal(S.state, SESS_HANDSHAKE);
		sess_wipe(&S);
		F.wire_len = 0;
	}
	/* a partial preamble at EOF is released */
	memset(&C, 0, sizeof(C));
	setup_session(SESS_MODE_CONSOLE, HOST);
	assert_int_equal(to_client((const uint8_t *)pre, 10, 3), 0);
	assert_true(sess_wire_eof(&S) < 0);
	assert_int_equal(C.clear_len, 10);
	assert_memory_equal(C.clear, pre, 10);
}

static void
test_clear_tail_released_at_eof(void **state)
{
	static const char clear[] = "bye\r\n:SCCRY";

	setup_session(SESS_MODE_CONSOLE, HOST);
	assert_int_equal(to_client((const uint8_t *)clear, strlen(clear), 1), 0);
	assert_true(sess_wire_eof(&S) < 0);
	assert_int_equal(S.exit_class, SESS_X_TRANSPORT);
	assert_int_equal(C.clear_len, strlen(clear));
	assert_memory_equal(C.clear, clear, strlen(clear));
	assert_int_equal(C.term_len, 0);
}

static void
test_keystrokes_never_clear_after_hello(void **state)
{
	static const uint8_t secret[] = "hunter2-SECRET-KEYSTROKES";
	uint8_t buf[4096], cert[SC_CERT_MAX];
	size_t n, cl, i;

	clear_mode = SESS_CLEAR_PROMPT;
	setup_session(SESS_MODE_CONSOLE, HOST);
	/* clear phase at a terminal: the answer to a showing prompt goes to
	 * dom0 as it is (sudo) */
	assert_int_equal(to_client((const uint8_t *)"[sudo] password: ", 17, 0), 0);
	assert_int_equal(sess_user_input(&S, (const uint8_t *)"pw\r", 3), 0);
	assert_int_equal(F.wire_len, 3);
	assert_memory_equal(F.wire, "pw\r", 3);
	/* the magic arrives alone: from here on nothing clear */
	n = hello_bytes(buf, sizeof(buf), SC_HELLO_F_PROTECTED, VM, F.hv_pk, NULL, 0);
	assert_int_equal(to_client(buf, SC_HELLO_MAGIC_LEN + 1, 0), 0);
	assert_int_equal(S.state, SESS_WAIT_HELLO);
	assert_int_equal(sess_user_input(&S, secret, sizeof(secret) - 1), 0);
	assert_int_equal(F.wire_len, 3);
	make_cert(cert, &cl, HOST, F.hv_pk, -10, 3600);
	n = hello_bytes(buf, sizeof(buf), SC_HELLO_F_PROTECTED, VM, F.hv_pk, cert, cl);
	assert_int_equal(to_client(buf + SC_HELLO_MAGIC_LEN + 1,
	    n - SC_HELLO_MAGIC_LEN - 1, 0), 0);
	assert_int_equal(sess_user_input(&S, secret, sizeof(secret) - 1), 0);
	hv_pump();
	assert_int_equal(hv_send_hs2(), 0);
	assert_int_equal(S.state, SESS_OPEN);
	hv_pump();
	/* the typed-ahead bytes arrived, encrypted, in order */
	assert_int_equal(F.rx_len, 2 * (sizeof(secret) - 1));
	assert_memory_equal(F.rx_data, secret, sizeof(secret) - 1);
	/* and never appear in clear on the wire */
	for (i = 0; i + sizeof(secret) - 1 <= F.wire_len; i++)
		assert_true(memcmp(F.wire + i, secret, sizeof(secret) - 1) != 0);
	assert_int_equal(F.hs1_flags, SC_HS1_F_TAKEOVER);
	assert_int_equal(F.hs1_history, 1234);
}

/* Open the session that setup_session started: HELLO, handshake. */
static void
finish_open(void)
{
	uint8_t buf[4096], cert[SC_CERT_MAX];
	size_t n, cl;

	make_cert(cert, &cl, HOST, F.hv_pk, -10, 3600);
	n = hello_bytes(buf, sizeof(buf), SC_HELLO_F_PROTECTED, VM, F.hv_pk, cert, cl);
	assert_int_equal(to_client(buf, n, 0), 0);
	assert_int_equal(S.state, SESS_HANDSHAKE);
	hv_pump();
	assert_int_equal(hv_send_hs2(), 0);
	assert_int_equal(S.state, SESS_OPEN);
	hv_pump();
}

static bool
wire_has(const char *text)
{
	size_t i, n = strlen(text);

	for (i = 0; i + n <= F.wire_len; i++)
		if (memcmp(F.wire + i, text, n) == 0)
			return true;
	return false;
}

/*
 * Input that is not a person at a terminal (SESS_CLEAR_HOLD, the default):
 * nothing crosses in clear, even while a prompt is showing; it is held and
 * arrives encrypted, in order; beyond SESS_TYPEAHEAD_MAX it is dropped and
 * counted, never sent in clear.
 */
static void
test_clear_hold_never_clear(void **state)
{
	static const char prompt[] = "dom0 banner\r\n[sudo] password for tenant: ";
	static const char a[] = "echo SCRIPT-SECRET-1\n", b[] = "echo SCRIPT-SECRET-2\n";
	static uint8_t big[SESS_TYPEAHEAD_MAX + 100];

	setup_session(SESS_MODE_CONSOLE, HOST);
	assert_int_equal(sess_user_input(&S, (const uint8_t *)a, strlen(a)), 0);
	assert_int_equal(to_client((const uint8_t *)prompt, strlen(prompt), 0), 0);
	assert_true(S.prompt_showing);
	sess_clear_settled(&S);
	assert_int_equal(sess_user_input(&S, (const uint8_t *)b, strlen(b)), 0);
	sess_clear_shown(&S, (const uint8_t *)"Password: ", 10);
	assert_int_equal(F.wire_len, 0);
	assert_int_equal(C.notices[0], '\0');	/* nothing discarded */
	finish_open();
	assert_int_equal(F.rx_len, strlen(a) + strlen(b));
	assert_memory_equal(F.rx_data, a, strlen(a));
	assert_memory_equal(F.rx_data + strlen(a), b, strlen(b));
	assert_false(wire_has("SCRIPT-SECRET"));
	sess_wipe(&S);

	/* the bound: held bytes beyond it are dropped and counted */
	memset(&C, 0, sizeof(C));
	memset(&F.wire_len, 0, sizeof(F.wire_len));
	F.dec_ready = false;
	F.rx_len = 0;
	setup_session(SESS_MODE_CONSOLE, HOST);
	memset(big, 'q', sizeof(big));
	assert_int_equal(sess_user_input(&S, big, sizeof(big)), 0);
	assert_int_equal(F.wire_len, 0);
	assert_int_equal(S.typeahead_len, SESS_TYPEAHEAD_MAX);
	finish_open();
	assert_int_equal(F.rx_len, SESS_TYPEAHEAD_MAX);
	assert_non_null(strstr(C.notices, "100 typed-ahead bytes were discarded"));
}

/*
 * A person at a terminal (SESS_CLEAR_PROMPT): clear bytes only while a
 * prompt is showing, only up to the end of the answer; bytes typed while
 * no prompt shows are held for the VM, or discarded (with a notice) when a
 * prompt then appears; the remote's stderr can be the prompt.
 */
static void
test_clear_prompt_rules(void **state)
{
	static const char early[] = "early-typing";

	clear_mode = SESS_CLEAR_PROMPT;
	setup_session(SESS_MODE_CONSOLE, HOST);
	/* nothing shown yet: no prompt, held */
	assert_false(S.prompt_showing);
	assert_int_equal(sess_user_input(&S, (const uint8_t *)early, 12), 0);
	assert_int_equal(F.wire_len, 0);
	/* a line of clear text is not a prompt: still held */
	assert_int_equal(to_client((const uint8_t *)"Warning: added host\r\n", 21, 0), 0);
	assert_false(S.prompt_showing);
	sess_clear_settled(&S);
	assert_int_equal(sess_user_input(&S, (const uint8_t *)"X", 1), 0);
	assert_int_equal(F.wire_len, 0);
	assert_int_equal(S.typeahead_len, 13);
	/* a prompt appears: what was typed before it is discarded, said */
	assert_int_equal(to_client((const uint8_t *)"Password: ", 10, 3), 0);
	assert_true(S.prompt_showing);
	assert_int_equal(S.typeahead_len, 0);
	assert_non_null(strstr(C.notices, "13 bytes typed before this prompt "
	    "appeared were not sent"));
	/* the answer goes in clear up to its line end; the rest is held */
	sess_clear_settled(&S);
	assert_int_equal(sess_user_input(&S, (const uint8_t *)"pw", 2), 0);
	assert_int_equal(sess_user_input(&S, (const uint8_t *)"1\rafter", 7), 0);
	assert_int_equal(F.wire_len, 4);
	assert_memory_equal(F.wire, "pw1\r", 4);
	assert_false(S.prompt_showing);
	assert_int_equal(sess_user_input(&S, (const uint8_t *)"more", 4), 0);
	assert_int_equal(F.wire_len, 4);
	assert_int_equal(S.typeahead_len, 9);
	/* a prompt on the remote's stderr counts too */
	memset(C.notices, 0, sizeof(C.notices));
	sess_clear_shown(&S, (const uint8_t *)"sudo: password: ", 16);
	assert_true(S.prompt_showing);
	assert_non_null(strstr(C.notices, "9 bytes typed before this prompt"));
	assert_int_equal(sess_user_input(&S, (const uint8_t *)"s\n", 2), 0);
	assert_int_equal(F.wire_len, 6);
	assert_memory_equal(F.wire + 4, "s\n", 2);
	/* answered; a line end arrives, then typing meant for the VM: held */
	assert_int_equal(to_client((const uint8_t *)"\r\n", 2, 0), 0);
	sess_clear_settled(&S);
	assert_int_equal(sess_user_input(&S, (const uint8_t *)"VM-BOUND\r", 9), 0);
	assert_int_equal(F.wire_len, 6);
	finish_open();
	assert_int_equal(F.rx_len, 9);
	assert_memory_equal(F.rx_data, "VM-BOUND\r", 9);
	assert_false(wire_has("VM-BOUND"));
	assert_false(wire_has("early"));
	assert_false(wire_has("after"));
	/* after the session is up, clear text hooks do nothing */
	sess_clear_shown(&S, (const uint8_t *)"prompt? ", 8);
	assert_int_equal(S.state, SESS_OPEN);
}

/*
 * Issue 12 item 3: clear text is dom0's.  It goes to the clear sink only
 * (shown inert and marked), never as console output; what the user's side
 * produces while it is in flight (before the caller says it settled) can be
 * the terminal answering it (ESC [ 6 n -> ESC [ r ; c R) and is discarded,
 * never sent to the VM; what is typed once it settled is kept; bytes typed
 * after the HELLO are kept; the user is told where the encrypted session
 * starts and that everything before it was clear.
 */
static void
test_clear_inflight_replies_discarded(void **state)
{
	static const char probe[] = "dom0 banner\x1b[6n\x1b[c\r\nlogin: ";
	static const char reply[] = "\x1b[24;1R\x1b[?62;22c";
	uint8_t buf[4096], cert[SC_CERT_MAX];
	size_t n, cl;

	setup_session(SESS_MODE_CONSOLE, HOST);
	assert_int_equal(to_client((const uint8_t *)probe, strlen(probe), 0), 0);
	assert_true(S.clear_in_flight);
	assert_int_equal(C.clear_len, strlen(probe));
	assert_int_equal(C.term_len, 0);
	/* the terminal answers the probes: in flight, discarded */
	assert_int_equal(sess_user_input(&S, (const uint8_t *)reply,
	    strlen(reply)), 0);
	assert_int_equal(S.typeahead_len, 0);
	/* settled: the user's own typing is kept */
	sess_clear_settled(&S);
	assert_int_equal(sess_user_input(&S, (const uint8_t *)"ls\r", 3), 0);
	assert_int_equal(S.typeahead_len, 3);
	/* remote stderr is clear text too: in flight again */
	sess_clear_shown(&S, (const uint8_t *)"\x1b[6n\n", 5);
	assert_int_equal(sess_user_input(&S, (const uint8_t *)"\x1b[1;1R", 6), 0);
	assert_int_equal(S.typeahead_len, 3);
	/* after the HELLO nothing is clear any more: typing is kept */
	make_cert(cert, &cl, HOST, F.hv_pk, -10, 3600);
	n = hello_bytes(buf, sizeof(buf), SC_HELLO_F_PROTECTED, VM, F.hv_pk, cert, cl);
	assert_int_equal(to_client(buf, n, 0), 0);
	assert_int_equal(S.state, SESS_HANDSHAKE);
	assert_int_equal(sess_user_input(&S, (const uint8_t *)"pwd\r", 4), 0);
	hv_pump();
	assert_int_equal(hv_send_hs2(), 0);
	assert_int_equal(S.state, SESS_OPEN);
	hv_pump();
	assert_int_equal(F.rx_len, 7);
	assert_memory_equal(F.rx_data, "ls\rpwd\r", 7);
	assert_int_equal(F.wire_len - F.wire_seen, 0);
	assert_non_null(strstr(C.notices, "22 bytes typed while dom0's clear "
	    "text was arriving were discarded"));
	assert_non_null(strstr(C.notices, "the encrypted session starts here: "
	    "everything shown above this line"));
	assert_non_null(strstr(C.notices, "came from dom0 in clear"));
	/* console output from here on goes to to_term, not the clear sink */
	n = C.clear_len;
	assert_int_equal(to_client(buf, hv_record(buf, sizeof(buf), SC_REC_DATA,
	    (const uint8_t *)"guest$ ", 7), 0), 0);
	assert_int_equal(C.clear_len, n);
	assert_int_equal(C.term_len, 7);
}

/* Without clear text, no "everything above was clear" notice. */
static void
test_no_clear_no_notice(void **state)
{
	open_session();
	assert_null(strstr(C.notices, "came from dom0 in clear"));
	assert_int_equal(C.clear_len, 0);
}

static void
test_records_both_ways(void **state)
{
	uint8_t buf[8192], big[10000];
	size_t n;

	open_session();
	n = hv_record(buf, sizeof(buf), SC_REC_DATA, "guest$ ", 7);
	assert_int_equal(to_client(buf, n, 3), 0);
	assert_int_equal(C.term_len, 7);
	assert_memory_equal(C.term, "guest$ ", 7);
	/* a large paste is split into records and arrives whole */
	for (n = 0; n < sizeof(big); n++)
		big[n] = (uint8_t)(n * 7 + 3);
	assert_int_equal(sess_user_input(&S, big, sizeof(big)), 0);
	hv_pump();
	assert_int_equal(F.rx_len, sizeof(big));
	assert_memory_equal(F.rx_data, big, sizeof(big));
	/* break, rekey, history request, ping answered */
	assert_int_equal(sess_send_break(&S, 'h'), 0);
	assert_int_equal(sess_rekey(&S), 0);
	assert_int_equal(sess_history_req(&S, 100), 0);
	hv_pump();
	n = hv_record(buf, sizeof(buf), SC_REC_PING, "abc", 3);
	assert_int_equal(to_client(buf, n, 0), 0);
	hv_pump();
	assert_int_equal(F.rx_types[F.rx_n - 1], SC_REC_PONG);
	/* a notice and an orderly close */
	{
		uint8_t np[64] = { 0, SC_NOTICE_TAKEN_OVER, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
		static const char hvtext[] = "took over from another session";

		n = hv_record(buf, sizeof(buf), SC_REC_NOTICE, np, 11);
		assert_int_equal(to_client(buf, n, 0), 0);
		assert_non_null(strstr(C.notices, "took the console over"));
		/* the hv's own words (hv/core/hv.c) are not repeated after ours */
		memset(C.notices, 0, sizeof(C.notices));
		np[10] = (uint8_t)(sizeof(hvtext) - 1);
		memcpy(np + 11, hvtext, sizeof(hvtext) - 1);
		n = hv_record(buf, sizeof(buf), SC_REC_NOTICE, np,
		    11 + sizeof(hvtext) - 1);
		assert_int_equal(to_client(buf, n, 0), 0);
		assert_string_equal(C.notices, "this session took the console "
		    "over from another session\n");
	}
	/* every record the client sent had one of the four padded sizes */
	assert_true(F.rx_n > 5);
	assert_int_equal(F.ct_sizes_bad, 0);
	/* the guest shuts down: the hv's CLOSE is the end (exit 0) */
	n = hv_close(buf, sizeof(buf), SC_CLOSE_SHUTDOWN, "guest exited");
	assert_int_equal(to_client(buf, n, 0), 0);
	assert_int_equal(S.state, SESS_DONE);
	assert_int_equal(sess_wire_eof(&S), 0);
	assert_int_equal(S.exit_class, SESS_X_OK);
}

/* How often needle occurs in C.notices. */
static size_t
notices_count(const char *needle)
{
	const char *p = C.notices;
	size_t k = 0;

	while ((p = strstr(p, needle)) != NULL) {
		k++;
		p += strlen(needle);
	}
	return k;
}

/*
 * Keepalive (PROTOCOL.md §10, stalled sessions): a PING 2 s after input, a
 * stall notice (with how to leave) when its PONG does not come within 10 s,
 * the all-clear when it does; another PING's PONG does not count; idle
 * PINGs every 15 s after an answer.
 */
static void
test_keepalive_stall(void **state)
{
	uint8_t buf[4096];
	unsigned long long t = 1000000;
	size_t n, sent;

	open_session();
	memset(C.notices, 0, sizeof(C.notices));
	assert_int_equal(sess_user_input(&S, (const uint8_t *)"ls\r", 3), 0);
	hv_pump();
	sent = F.rx_n;
	assert_int_equal(sess_keepalive(&S, t), SESS_KA_AFTER_INPUT_MS);
	assert_int_equal(sess_keepalive(&S, t + 1999), 1);
	hv_pump();
	assert_int_equal(F.rx_n, sent);		/* not yet */
	assert_int_equal(sess_keepalive(&S, t + 2000), SESS_KA_STALL_MS);
	hv_pump();
	assert_int_equal(F.rx_n, sent + 1);
	assert_int_equal(F.rx_types[F.rx_n - 1], SC_REC_PING);
	/* a PONG for another PING is not the answer */
	n = hv_record(buf, sizeof(buf), SC_REC_PONG, "sccrypt", 8);
	assert_int_equal(to_client(buf, n, 0), 0);
	assert_int_equal(sess_keepalive(&S, t + 2000 + 9999), 1);
	assert_int_equal(notices_count("stalled"), 0);
	/* no answer within 10 s: stalled, said once, with the way out */
	assert_int_equal(sess_keepalive(&S, t + 12000), -1);
	assert_non_null(strstr(C.notices, "the session is stalled"));
	assert_non_null(strstr(C.notices, "~. by default) to leave"));
	assert_int_equal(sess_keepalive(&S, t + 30000), -1);
	assert_int_equal(notices_count("stalled"), 1);
	assert_int_equal(S.state, SESS_OPEN);	/* a stall does not end it */
	/* the answer comes: the session goes on */
	n = hv_record(buf, sizeof(buf), SC_REC_PONG, F.last_ping, F.last_ping_len);
	assert_int_equal(to_client(buf, n, 0), 0);
	assert_int_equal(notices_count("answers again"), 1);
	/* idle: the next PING 15 s later */
	assert_int_equal(sess_keepalive(&S, t + 31000), SESS_KA_IDLE_MS);
	sent = F.rx_n;
	assert_int_equal(sess_keepalive(&S, t + 31000 + SESS_KA_IDLE_MS),
	    SESS_KA_STALL_MS);
	hv_pump();
	assert_int_equal(F.rx_n, sent + 1);
	assert_int_equal(F.rx_types[F.rx_n - 1], SC_REC_PING);
}

/* Taken over: the hv's words once, not after ours saying the same. */
static void
test_taken_over_said_once(void **state)
{
	uint8_t buf[4096];
	size_t n;

	open_session();
	memset(C.notices, 0, sizeof(C.notices));
	n = hv_close(buf, sizeof(buf), SC_CLOSE_TAKEN_OVER,
	    "taken over by another authorised session");
	assert_int_equal(to_client(buf, n, 0), 0);
	assert_non_null(strstr(C.notices, "session taken over by another "
	    "authorised session\n"));
	assert_null(strstr(C.notices, "taken over by another session"));
	assert_int_equal(S.state, SESS_DONE);
}

/*
 * The close handshake: our CLOSE says what we sent and received; we are
 * done only when the hv's CLOSE counts every record we sent.
 */
static void
test_close_handshake(void **state)
{
	uint8_t buf[1024];
	size_t n, wl;

	open_session();
	n = hv_record(buf, sizeof(buf), SC_REC_DATA, "guest$ ", 7);
	assert_int_equal(to_client(buf, n, 0), 0);
	assert_int_equal(sess_user_input(&S, (const uint8_t *)"exit\r", 5), 0);
	assert_int_equal(sess_close(&S), 0);
	assert_int_equal(S.state, SESS_CLOSING);
	assert_false(sess_is_open(&S));
	hv_pump();
	assert_true(F.got_close);
	assert_int_equal(F.close_sent, S.rl.stats.records_sent - 1);
	assert_int_equal(F.close_recv, 1);
	/* nothing more goes out after our CLOSE; late output is not shown */
	wl = F.wire_len;
	assert_int_equal(sess_user_input(&S, (const uint8_t *)"more", 4), 0);
	assert_int_equal(F.wire_len, wl);
	C.term_len = 0;
	n = hv_record(buf, sizeof(buf), SC_REC_DATA, "logout\r\n", 8);
	assert_int_equal(to_client(buf, n, 0), 0);
	assert_int_equal(C.term_len, 0);
	assert_int_equal(S.state, SESS_CLOSING);
	/* the hv's answer counts all of ours: done, exit 0 */
	n = hv_close(buf, sizeof(buf), SC_CLOSE_NORMAL, "closed by the client");
	assert_int_equal(to_client(buf, n, 0), 0);
	assert_int_equal(S.state, SESS_DONE);
	assert_int_equal(sess_wire_eof(&S), 0);
	assert_int_equal(S.exit_class, SESS_X_OK);
}

/* dom0 drops what follows a point (records are not opened by the hv). */
static void
dom0_drops_client_output(void)
{
	F.wire_seen = F.wire_len;
}

/*
 * Tail truncation: dom0 drops the end of the session.  Every way it can do
 * that ends with SESS_X_TAMPER (exit 5), never an orderly end.
 */
static void
test_tail_truncation(void **state)
{
	uint8_t buf[1024];
	size_t n;
	int k;

	for (k = 0; k < 6; k++) {
		setup(state);
		open_session();
		n = hv_record(buf, sizeof(buf), SC_REC_DATA, "guest$ ", 7);
		assert_int_equal(to_client(buf, n, 0), 0);
		hv_pump();
		assert_int_equal(sess_user_input(&S, (const uint8_t *)"rm x\r", 5), 0);
		switch (k) {
		case 0:	/* output: the guest's last DATA and the hv's CLOSE dropped */
			assert_true(sess_wire_eof(&S) < 0);
			assert_non_null(strstr(S.errmsg, "without the hypervisor's CLOSE"));
			break;
		case 1:	/* same, but dom0 says BYE */
			n = frame_bytes(buf, sizeof(buf), SC_FRAME_BYE, NULL, 0);
			assert_true(to_client(buf, n, 0) < 0);
			assert_non_null(strstr(S.errmsg, "BYE"));
			break;
		case 2:	/* input: our last DATA and CLOSE dropped, then EOF */
			assert_int_equal(sess_close(&S), 0);
			dom0_drops_client_output();
			assert_true(sess_wire_eof(&S) < 0);
			assert_non_null(strstr(S.errmsg, "never confirmed your CLOSE"));
			break;
		case 3:	/* same, no answer in time (the caller's timeout) */
			assert_int_equal(sess_close(&S), 0);
			dom0_drops_client_output();
			sess_close_abandon(&S, "no answer within 15 s");
			assert_int_equal(S.state, SESS_FAILED);
			assert_non_null(strstr(S.errmsg, "no answer within 15 s"));
			break;
		case 4:	/* dropped, then the hv closes (NORMAL) without them */
			assert_int_equal(sess_close(&S), 0);
			dom0_drops_client_output();
			n = hv_close(buf, sizeof(buf), SC_CLOSE_NORMAL,
			    "domain credentials re-bound");
			assert_true(to_client(buf, n, 0) < 0);
			assert_non_null(strstr(S.errmsg, "without receiving your "
			    "last 2 records"));
			break;
		case 5:	/* a CLOSE whose counts cannot be right */
		{
			uint8_t pl[18] = { SC_CLOSE_NORMAL, 0, 0, 0, 0, 0, 0, 0, 9 };

			n = hv_record(buf, sizeof(buf), SC_REC_CLOSE, pl, sizeof(pl));
			assert_true(to_client(buf, n, 0) < 0);
			assert_int_equal(S.exit_class, SESS_X_PROTOCOL);
			assert_non_null(strstr(S.errmsg, "inconsistent CLOSE"));
			teardown(state);
			continue;
		}
		}
		assert_int_equal(S.state, SESS_FAILED);
		assert_int_equal(S.exit_class, SESS_X_TAMPER);
		teardown(state);
	}
}

/*
 * The hv ends the session for a reason of its own while input is in
 * flight: an orderly end (exit 0), and the user is told what was lost.
 */
static void
test_close_with_input_in_flight(void **state)
{
	uint8_t buf[1024];
	size_t n;

	open_session();
	hv_pump();
	assert_int_equal(sess_user_input(&S, (const uint8_t *)"ab", 2), 0);
	dom0_drops_client_output();	/* in flight when the guest went away */
	n = hv_close(buf, sizeof(buf), SC_CLOSE_SHUTDOWN, "guest exited");
	assert_int_equal(to_client(buf, n, 0), 0);
	assert_int_equal(S.state, SESS_DONE);
	assert_int_equal(S.exit_class, SESS_X_OK);
	assert_non_null(strstr(C.notices, "your last 1 record did not reach the VM"));
}

/* --takeover: a PING right after the handshake makes the session the writer. */

/* --takeover: a PING right after the handshake makes the session the writer. */
static void
test_takeover_pings_at_once(void **state)
{
	open_session();
	hv_pump();
	assert_true(F.rx_n >= 1);
	assert_int_equal(F.rx_types[0], SC_REC_PING);
	assert_int_equal(F.rx_len, 0);
	sess_wipe(&S);

	/* without --takeover nothing is sent until the user types */
	memset(&F.rx_types, 0, sizeof(F.rx_types));
	F.rx_n = 0;
	F.wire_len = F.wire_seen = F.clear_wire_len = 0;
	F.dec_ready = false;
	C.saw_hello = false;
	setup_session(SESS_MODE_CONSOLE, HOST);
	S.cfg.hs1_flags = 0;
	{
		uint8_t cert[SC_CERT_MAX], buf[4096];
		size_t cl, n;

		make_cert(cert, &cl, HOST, F.hv_pk, -10, 3600);
		n = hello_bytes(buf, sizeof(buf), SC_HELLO_F_PROTECTED, VM,
		    F.hv_pk, cert, cl);
		assert_int_equal(to_client(buf, n, 0), 0);
		hv_pump();
		assert_int_equal(hv_send_hs2(), 0);
		assert_int_equal(S.state, SESS_OPEN);
		hv_pump();
		assert_int_equal(F.rx_n, 0);
	}
}

/* The HS2 lost count and the hv's LOST_OUTPUT notice for it: shown once. */
static void
test_lost_notice_once(void **state)
{
	uint8_t buf[1024], np[64];
	size_t n;

	open_session();
	/* HS2: 7 bytes lost, 65536 kept: the loss is told after the replay */
	assert_null(strstr(C.notices, "lost"));
	memset(np, 0, sizeof(np));
	np[1] = SC_NOTICE_LOST_OUTPUT;
	np[9] = 7;		/* value 7 (u64 big-endian) */
	np[10] = 0;		/* empty text */
	n = hv_record(buf, sizeof(buf), SC_REC_NOTICE, np, 11);
	assert_int_equal(to_client(buf, n, 0), 0);
	assert_null(strstr(C.notices, "lost"));
	n = hv_record(buf, sizeof(buf), SC_REC_HISTORY, "\001old", 4);
	assert_int_equal(to_client(buf, n, 0), 0);
	assert_int_equal(C.term_len, 3);
	assert_null(strstr(C.notices, "lost"));
	np[1] = SC_NOTICE_HISTORY_END;
	np[9] = 3;
	n = hv_record(buf, sizeof(buf), SC_REC_NOTICE, np, 11);
	assert_int_equal(to_client(buf, n, 0), 0);
	assert_non_null(strstr(C.notices, "end of history replay (3 bytes)\n"
	    "7 bytes of console output were lost while no session was attached "
	    "(before the replayed history above)"));
	C.notices[0] = '\0';
	np[1] = SC_NOTICE_LOST_OUTPUT;
	/* a later loss (a viewer falling behind) is shown */
	np[9] = 9;
	n = hv_record(buf, sizeof(buf), SC_REC_NOTICE, np, 11);
	assert_int_equal(to_client(buf, n, 0), 0);
	assert_non_null(strstr(C.notices, "9 bytes of console output were lost"));
	assert_int_equal(C.term_len, 3);	/* never mixed with guest output */
}

/* Break keys the hv would end the session for are refused locally. */
/*
 * Issue 18 item 1: replayed history (vim ran in the guest) holds terminal
 * queries; shown again they would make the user's terminal answer into the
 * guest.  They are taken out of HISTORY records (a query split across two
 * records too), everything else shown in order; live DATA is untouched
 * (a live program's queries must be answered).
 */
static void
test_history_queries_removed(void **state)
{
	static const char h1[] = "\001vim\x1b[?1049h\x1b[6n\x1bP$q q\x1b\\\x1b[";
	static const char h2[] = "\001>c\x1b]11;?\x07" "edited\x05";
	static const char want[] = "vim\x1b[?1049hedited";
	uint8_t buf[1024];
	size_t n;

	open_session();
	n = hv_record(buf, sizeof(buf), SC_REC_HISTORY, h1, sizeof(h1) - 1);
	assert_int_equal(to_client(buf, n, 0), 0);
	n = hv_record(buf, sizeof(buf), SC_REC_HISTORY, h2, sizeof(h2) - 1);
	assert_int_equal(to_client(buf, n, 0), 0);
	assert_int_equal(C.term_len, sizeof(want) - 1);
	assert_memory_equal(C.term, want, sizeof(want) - 1);
	/* live output: as it is */
	C.term_len = 0;
	n = hv_record(buf, sizeof(buf), SC_REC_DATA, "\x1b[6n", 4);
	assert_int_equal(to_client(buf, n, 0), 0);
	assert_int_equal(C.term_len, 4);
	assert_memory_equal(C.term, "\x1b[6n", 4);
}

static void
test_break_keys(void **state)
{
	size_t before;

	open_session();
	hv_pump();
	before = F.rx_n;
	assert_int_equal(sess_send_break(&S, ' '), SC_ERR_INVAL);
	assert_int_equal(sess_send_break(&S, 0x7f), SC_ERR_INVAL);
	assert_int_equal(sess_send_break(&S, 0x0f), SC_ERR_INVAL);
	assert_int_equal(sess_send_break(&S, 0xc3), SC_ERR_INVAL);
	hv_pump();
	assert_int_equal(F.rx_n, before);
	assert_int_equal(S.state, SESS_OPEN);
	assert_int_equal(sess_send_break(&S, 's'), 0);
	assert_int_equal(sess_send_break(&S, 0), 0);
	hv_pump();
	assert_int_equal(F.rx_n, before + 2);
	assert_int_equal(F.rx_types[before], SC_REC_BREAK);
	/* a read-only session never sends one (the hv would end it) */
	S.hs2_flags |= SC_HS2_F_VIEWER;
	assert_int_equal(sess_send_break(&S, 's'), SC_ERR_PERM);
	assert_int_equal(sess_user_input(&S, (const uint8_t *)"x", 1), 0);
	hv_pump();
	assert_int_equal(F.rx_n, before + 2);
	assert_int_equal(S.state, SESS_OPEN);
}

/* dom0's ERROR frame during the handshake: ACL refusal is exit class VERIFY. */
static void
error_in_handshake(uint16_t code, const char *text, enum sess_exit want,
    const char *msg)
{
	uint8_t cert[SC_CERT_MAX], buf[4096], body[SC_ERRMSG_MAX + 8];
	struct sc_buf bb;
	size_t cl, n;

	setup_session(SESS_MODE_CONSOLE, HOST);
	make_cert(cert, &cl, HOST, F.hv_pk, -10, 3600);
	n = hello_bytes(buf, sizeof(buf), SC_HELLO_F_PROTECTED, VM, F.hv_pk, cert, cl);
	assert_int_equal(to_client(buf, n, 0), 0);
	assert_int_equal(S.state, SESS_HANDSHAKE);
	sc_buf_init(&bb, body, sizeof(body));
	assert_int_equal(sc_errorframe_encode(code, text, &bb), 0);
	n = frame_bytes(buf, sizeof(buf), SC_FRAME_ERROR, bb.data, bb.len);
	assert_true(to_client(buf, n, 0) < 0);
	assert_int_equal(S.state, SESS_FAILED);
	assert_int_equal(S.exit_class, want);
	assert_non_null(strstr(S.errmsg, msg));
	assert_non_null(strstr(S.errmsg, "not authenticated"));
	sess_wipe(&S);
}

static void
test_error_frames(void **state)
{
	error_in_handshake((uint16_t)-SC_ERR_PERM, "permission denied",
	    SESS_X_VERIFY, "not in the access list");
	error_in_handshake((uint16_t)-SC_ERR_DECRYPT, "authentication failed",
	    SESS_X_VERIFY, "could not authenticate");
	error_in_handshake((uint16_t)-SC_ERR_LIMIT, "limit reached",
	    SESS_X_RELAY, "limit reached");
	error_in_handshake((uint16_t)-SC_ERR_NOTFOUND, "no such VM",
	    SESS_X_RELAY, "no such VM");
}

static void
tamper_case(int how)
{
	uint8_t r1[8192], r2[8192];
	size_t n1, n2, before;
	int r;

	open_session();
	n1 = hv_record(r1, sizeof(r1), SC_REC_DATA, "first", 5);
	n2 = how == 0 ?
	    hv_record_flipped(r2, sizeof(r2), SC_REC_DATA, "FORGED", 6) :
	    hv_record(r2, sizeof(r2), SC_REC_DATA, "FORGED", 6);
	assert_int_equal(to_client(r1, n1, 0), 0);
	before = C.term_len;
	switch (how) {
	case 0:	/* bit flip in the second record's ciphertext */
		r = to_client(r2, n2, 0);
		break;
	case 1:	/* replay of the first record */
		r = to_client(r1, n1, 0);
		break;
	default: /* gap: a third record without the second */
		n2 = hv_record(r2, sizeof(r2), SC_REC_DATA, "third", 5);
		r = to_client(r2, n2, 0);
		break;
	}
	assert_true(r < 0);
	assert_int_equal(S.state, SESS_FAILED);
	assert_int_equal(S.exit_class, SESS_X_TAMPER);
	assert_non_null(strstr(S.errmsg, "connection tampered with"));
	assert_int_equal(C.term_len, before);	/* nothing forged shown */
	/* dead for good: even a valid-looking record is ignored */
	assert_true(sess_from_wire(&S, r1, n1) < 0);
	assert_int_equal(C.term_len, before);
	/* and the user's keys no longer go anywhere */
	before = F.wire_len;
	assert_true(sess_user_input(&S, (const uint8_t *)"x", 1) < 0);
	assert_int_equal(F.wire_len, before);
}

static void test_tamper_bitflip(void **state) { tamper_case(0); }
static void test_tamper_replay(void **state) { tamper_case(1); }
static void test_tamper_gap(void **state) { tamper_case(2); }

static int
hello_with(const char *host, const uint8_t *cert, size_t cl, const uint8_t hv_pk[32],
    const char *vm, uint8_t flags)
{
	uint8_t buf[4096];
	size_t n;

	setup_session(SESS_MODE_CONSOLE, host);
	n = hello_bytes(buf, sizeof(buf), flags, vm, hv_pk, cert, cl);
	return to_client(buf, n, 0);
}

static void
test_cert_refusals(void **state)
{
	uint8_t cert[SC_CERT_MAX], other_pk[32], other_sk[32];
	size_t cl;

	/* expired */
	make_cert(cert, &cl, HOST, F.hv_pk, -7200, -3600);
	assert_true(hello_with(HOST, cert, cl, F.hv_pk, VM, SC_HELLO_F_PROTECTED) < 0);
	assert_int_equal(S.exit_class, SESS_X_VERIFY);
	assert_non_null(strstr(S.errmsg, "expired"));
	assert_int_equal(F.wire_len, 0);	/* no handshake message sent */

	/* issued for another host */
	make_cert(cert, &cl, "other.example", F.hv_pk, -10, 3600);
	assert_true(hello_with(HOST, cert, cl, F.hv_pk, VM, SC_HELLO_F_PROTECTED) < 0);
	assert_non_null(strstr(S.errmsg, "another host"));

	/* a fake dom0's own key in the HELLO, with the real certificate */
	assert_int_equal(sc_x25519_keypair(sc_crypto_sodium(), other_pk, other_sk), 0);
	make_cert(cert, &cl, HOST, F.hv_pk, -10, 3600);
	assert_true(hello_with(HOST, cert, cl, other_pk, VM, SC_HELLO_F_PROTECTED) < 0);
	assert_int_equal(S.exit_class, SESS_X_VERIFY);

	/* a certificate signed by another key server */
	{
		uint8_t ks2_pk[32], ks2_sk[64];

		crypto_sign_keypair(ks2_pk, ks2_sk);
		memcpy(F.ks_pk, ks2_pk, 32);
		memcpy(F.ks_sk, ks2_sk, 64);
		make_cert(cert, &cl, HOST, F.hv_pk, -10, 3600);
		assert_true(hello_with(HOST, cert, cl, F.hv_pk, VM,
		    SC_HELLO_F_PROTECTED) < 0);
		assert_int_equal(S.exit_class, SESS_X_VERIFY);
	}

	/* no certificate, strict: refused with the fingerprint to trust */
	assert_true(hello_with(HOST, NULL, 0, F.hv_pk, VM, SC_HELLO_F_PROTECTED) < 0);
	assert_non_null(strstr(S.errmsg, "--trust-hv-key"));
	assert_int_equal(F.wire_len, 0);
}

static void
test_hello_checks(void **state)
{
	uint8_t cert[SC_CERT_MAX], buf[256];
	size_t cl, n;

	make_cert(cert, &cl, HOST, F.hv_pk, -10, 3600);
	/* dom0 routes us to another VM */
	assert_true(hello_with(HOST, cert, cl, F.hv_pk, "vm2", SC_HELLO_F_PROTECTED) < 0);
	assert_int_equal(S.exit_class, SESS_X_VERIFY);
	assert_non_null(strstr(S.errmsg, "vm2"));
	/* unprotected domain: console would be clear */
	assert_true(hello_with(HOST, cert, cl, F.hv_pk, VM, 0) < 0);
	assert_non_null(strstr(S.errmsg, "not protected"));
	/* a dom0 of protocol version 1: a clear error, nothing sent */
	setup_session(SESS_MODE_CONSOLE, HOST);
	{
		struct sc_hello h;
		uint8_t body[SC_FRAME_BODY_MAX];
		struct sc_buf bb;

		memset(&h, 0, sizeof(h));
		h.version = SC_PROTOCOL_VERSION;
		h.flags = SC_HELLO_F_PROTECTED;
		snprintf(h.vmname, sizeof(h.vmname), "%s", VM);
		memcpy(h.uuid, F.uuid, 16);
		memcpy(h.hv_pubkey, F.hv_pk, 32);
		sc_buf_init(&bb, body, sizeof(body));
		assert_int_equal(sc_hello_encode(&h, &bb), 0);
		body[0] = 1;
		F.wire_len = 0;
		n = hello_bytes(buf, sizeof(buf), 0, VM, F.hv_pk, NULL, 0);
		assert_int_equal(to_client(buf, SC_HELLO_MAGIC_LEN + 1, 0), 0);
		n = frame_bytes(buf, sizeof(buf), SC_FRAME_HELLO, bb.data, bb.len);
		assert_true(to_client(buf, n, 0) < 0);
		assert_int_equal(S.exit_class, SESS_X_PROTOCOL);
		assert_non_null(strstr(S.errmsg, "protocol version 1, this client "
		    "version 2"));
		assert_int_equal(F.wire_len, 0);
	}
	/* an ERROR frame from the relay */
	setup_session(SESS_MODE_CONSOLE, HOST);
	{
		uint8_t body[256];
		struct sc_buf bb;

		sc_buf_init(&bb, body, sizeof(body));
		assert_int_equal(sc_errorframe_encode(19, "no such VM\x1b[2J", &bb), 0);
		n = hello_bytes(buf, sizeof(buf), 0, VM, F.hv_pk, NULL, 0);
		assert_true(to_client(buf, SC_HELLO_MAGIC_LEN + 1, 0) == 0);
		n = frame_bytes(buf, sizeof(buf), SC_FRAME_ERROR, bb.data, bb.len);
		assert_true(to_client(buf, n, 0) < 0);
		assert_int_equal(S.exit_class, SESS_X_RELAY);
		assert_non_null(strstr(S.errmsg, "no such VM"));
		assert_null(strchr(S.errmsg, 0x1b));
	}
	/* garbage after the magic */
	setup_session(SESS_MODE_CONSOLE, HOST);
	memcpy(buf, SC_HELLO_MAGIC "B", SC_HELLO_MAGIC_LEN + 1);
	memcpy(buf + SC_HELLO_MAGIC_LEN + 1, "\x7f\xff\xff", 3);
	assert_true(to_client(buf, SC_HELLO_MAGIC_LEN + 4, 0) < 0);
	assert_int_equal(S.exit_class, SESS_X_PROTOCOL);
	/* a record before the handshake */
	setup_session(SESS_MODE_CONSOLE, HOST);
	memcpy(buf, SC_HELLO_MAGIC "B", SC_HELLO_MAGIC_LEN + 1);
	n = frame_bytes(buf + SC_HELLO_MAGIC_LEN + 1, sizeof(buf) - 12,
	    SC_FRAME_RECORD, (const uint8_t *)"xxxxxxxxxxxxxxxxxxxx", 20);
	assert_true(to_client(buf, SC_HELLO_MAGIC_LEN + 1 + n, 0) < 0);
	assert_int_equal(S.exit_class, SESS_X_PROTOCOL);
}

static int
file_exists(const char *path)
{
	return access(path, F_OK) == 0;
}

/*
 * Issue 12 item 2: dom0 strips the VMM certificate.  With a key server
 * pinned the certificate is mandatory: refused without a question (even by
 * a user who would say yes), nothing written to known_hvs, and the refusal
 * says that dom0 withheld it; a known_hvs entry for the key does not stand
 * in for it either; --trust-hv-key still works.  vm protect
 * (no_first_use) never offers trust on first use, key server or not.
 */
static void
test_stripped_certificate(void **state)
{
	struct sc_hello h;
	char msg[SESS_MSG_MAX], fp[SC_FINGERPRINT_LEN];
	int asked = 0;

	memset(&h, 0, sizeof(h));
	h.version = SC_PROTOCOL_VERSION;
	h.flags = SC_HELLO_F_PROTECTED;
	snprintf(h.vmname, sizeof(h.vmname), "%s", VM);
	memcpy(h.uuid, F.uuid, 16);
	memcpy(h.hv_pubkey, F.hv_pk, 32);
	h.cert_len = 0;			/* stripped */
	P.host = HOST;
	P.vmname = VM;
	P.now = (uint64_t)time(NULL);
	P.known_hvs = known_path;
	P.have_ks = true;
	memcpy(P.ks_pubkey, F.pinned, 32);
	P.strict = false;
	P.ask = ask_yes;
	P.ask_ctx = &asked;

	/* pinned key server, no certificate: refused, no question */
	assert_int_equal(policy_verify(&P, &h, msg, sizeof(msg)), SC_ERR_UNTRUSTED);
	assert_int_equal(asked, 0);
	assert_false(file_exists(known_path));
	assert_non_null(strstr(msg, "dom0 withheld the VMM certificate"));
	assert_int_equal(P.how, POLICY_NONE);
	/* the same through a session: no handshake message sent */
	assert_true(hello_with(HOST, NULL, 0, F.hv_pk, VM, SC_HELLO_F_PROTECTED) < 0);
	assert_int_equal(S.exit_class, SESS_X_VERIFY);
	assert_non_null(strstr(S.errmsg, "dom0 withheld the VMM certificate"));
	assert_int_equal(F.wire_len, 0);
	assert_int_equal(asked, 0);
	assert_false(file_exists(known_path));
	/* a known_hvs entry (an earlier first use) does not replace it */
	assert_int_equal(sc_known_hvs_add(known_path, HOST, VM, F.hv_pk), 0);
	assert_int_equal(policy_verify(&P, &h, msg, sizeof(msg)), SC_ERR_UNTRUSTED);
	assert_non_null(strstr(msg, "dom0 withheld"));
	unlink(known_path);
	/* the user's explicit fingerprint does */
	sc_fingerprint(F.hv_pk, 32, fp);
	P.trust_fp = fp;
	assert_int_equal(policy_verify(&P, &h, msg, sizeof(msg)), 0);
	assert_int_equal(P.how, POLICY_FP);
	P.trust_fp = NULL;

	/* vm protect, no key server pinned: never trust on first use */
	P.have_ks = false;
	P.no_first_use = true;
	assert_int_equal(policy_verify(&P, &h, msg, sizeof(msg)), SC_ERR_UNTRUSTED);
	assert_int_equal(asked, 0);
	assert_false(file_exists(known_path));
	assert_non_null(strstr(msg, "never trusted on first use"));
	/* the console may still ask then (no key server, not protect) */
	P.no_first_use = false;
	assert_int_equal(policy_verify(&P, &h, msg, sizeof(msg)), 0);
	assert_int_equal(asked, 1);
	assert_int_equal(P.how, POLICY_TOFU);
}

static void
test_wrong_vm_secret(void **state)
{
	uint8_t cert[SC_CERT_MAX], buf[4096], junk[SC_HS2_MSG_LEN];
	size_t cl, n;

	F.hv_psk[0] ^= 1;	/* the hv holds another secret */
	make_cert(cert, &cl, HOST, F.hv_pk, -10, 3600);
	assert_int_equal(hello_with(HOST, cert, cl, F.hv_pk, VM, SC_HELLO_F_PROTECTED), 0);
	hv_pump();
	/* psk2: the psk enters with message 2, so only the client can tell */
	assert_true(hv_send_hs2() < 0);
	assert_int_equal(S.exit_class, SESS_X_VERIFY);
	assert_non_null(strstr(S.errmsg, "handshake failed"));
	assert_int_equal(S.state, SESS_FAILED);

	/* dom0 makes up an answer */
	F.hv_psk[0] ^= 1;
	assert_int_equal(hello_with(HOST, cert, cl, F.hv_pk, VM, SC_HELLO_F_PROTECTED), 0);
	randombytes_buf(junk, sizeof(junk));
	n = frame_bytes(buf, sizeof(buf), SC_FRAME_HS_RESP, junk, sizeof(junk));
	assert_true(to_client(buf, n, 0) < 0);
	assert_int_equal(S.exit_class, SESS_X_VERIFY);
	assert_non_null(strstr(S.errmsg, "handshake failed"));
}

static void
test_known_hvs_and_trust_fp(void **state)
{
	char fp[SC_FINGERPRINT_LEN];
	uint8_t other_pk[32], other_sk[32];
	int asked = 0;

	sc_fingerprint(F.hv_pk, 32, fp);
	/* --trust-hv-key with the right fingerprint */
	P.trust_fp = fp;
	assert_int_equal(hello_with(HOST, NULL, 0, F.hv_pk, VM, SC_HELLO_F_PROTECTED), 0);
	assert_int_equal(P.how, POLICY_FP);
	/* ... and with another key */
	assert_int_equal(sc_x25519_keypair(sc_crypto_sodium(), other_pk, other_sk), 0);
	assert_true(hello_with(HOST, NULL, 0, other_pk, VM, SC_HELLO_F_PROTECTED) < 0);
	assert_non_null(strstr(S.errmsg, "does not match"));
	P.trust_fp = NULL;

	/* TOFU (no key server pinned): first use asks, yes adds an entry */
	no_ks = true;
	P.strict = false;
	P.ask = ask_yes;
	P.ask_ctx = &asked;
	assert_int_equal(hello_with(HOST, NULL, 0, F.hv_pk, VM, SC_HELLO_F_PROTECTED), 0);
	assert_int_equal(asked, 1);
	assert_int_equal(P.how, POLICY_TOFU);
	/* second use: known, no question */
	assert_int_equal(hello_with(HOST, NULL, 0, F.hv_pk, VM, SC_HELLO_F_PROTECTED), 0);
	assert_int_equal(asked, 1);
	assert_int_equal(P.how, POLICY_KNOWN);
	/* a different key now: loud refusal, no question */
	assert_true(hello_with(HOST, NULL, 0, other_pk, VM, SC_HELLO_F_PROTECTED) < 0);
	assert_int_equal(asked, 1);
	assert_non_null(strstr(S.errmsg, "HAS CHANGED"));
	assert_int_equal(S.exit_class, SESS_X_VERIFY);
	/* a bad certificate is never overridden by the prompt */
	no_ks = false;
	{
		uint8_t cert[SC_CERT_MAX];
		size_t cl;

		make_cert(cert, &cl, HOST, other_pk, -7200, -3600);
		assert_true(hello_with("h2.example", cert, cl, other_pk, VM,
		    SC_HELLO_F_PROTECTED) < 0);
		assert_int_equal(asked, 1);
	}
}

static int
protect_build(void *ctx, const struct sc_hello *h, struct sc_buf *out)
{
	return sc_protect_seal(sc_crypto_sodium(), ctx, h->hv_pubkey, NULL, out);
}

static int
protect_check(void *ctx, const struct sc_hello *h, int32_t st, const uint8_t c[32])
{
	uint8_t e[32];

	assert_int_equal(sc_blob_confirm(sc_crypto_sodium(), ctx, h->hv_pubkey, st, e), 0);
	return sc_memeq_ct(e, c, 32) == 0 ? 0 : SC_ERR_DECRYPT;
}

static void
protect_case(bool forge)
{
	static struct sc_registration reg, opened;
	struct sess_config cfg;
	uint8_t cert[SC_CERT_MAX], buf[4096], body[36];
	size_t cl, n;

	memset(&reg, 0, sizeof(reg));
	memcpy(reg.uuid, F.uuid, 16);
	reg.generation = 1;
	memcpy(reg.vm_secret, F.psk, 32);
	memset(reg.disk_key, 0x42, 64);
	reg.disk_key_len = 64;
	reg.acl_count = 1;
	memcpy(reg.acl[0].pubkey, F.user_pk, 32);
	reg.acl[0].flags = SC_ACL_F_OWNER;
	memset(&cfg, 0, sizeof(cfg));
	cfg.mode = SESS_MODE_PROTECT;
	cfg.vmname = VM;
	cfg.verify = policy_verify;
	cfg.verify_ctx = &P;
	cfg.protect_build = protect_build;
	cfg.protect_check = protect_check;
	cfg.protect_ctx = &reg;
	P.host = HOST;
	P.now = (uint64_t)time(NULL);
	P.have_ks = true;
	memcpy(P.ks_pubkey, F.ks_pk, 32);
	sess_init(&S, &cfg, &sink);
	make_cert(cert, &cl, HOST, F.hv_pk, -10, 3600);
	/* an unprotected domain is fine for PROTECT */
	n = hello_bytes(buf, sizeof(buf), 0, VM, F.hv_pk, cert, cl);
	assert_int_equal(to_client(buf, n, 0), 0);
	assert_int_equal(S.state, SESS_PROTECTING);
	hv_pump();
	assert_true(F.got_protect);
	/* a PROTECT payload without a token, whose blob only the hv can open */
	assert_int_equal(F.blob[F.blob_len - 1], 0);
	assert_int_equal(sc_blob_open(sc_crypto_sodium(), F.hv_sk, F.hv_pk, F.blob,
	    F.blob_len - 1, &opened), 0);
	assert_memory_equal(opened.vm_secret, F.psk, 32);
	assert_memory_equal(opened.uuid, F.uuid, 16);
	/* PROTECT_OK: status 0 + confirm */
	body[0] = body[1] = body[2] = body[3] = 0;
	assert_int_equal(sc_blob_confirm(sc_crypto_sodium(), &opened, F.hv_pk, 0,
	    body + 4), 0);
	if (forge)
		body[10] ^= 1;
	n = frame_bytes(buf, sizeof(buf), SC_FRAME_PROTECT_OK, body, sizeof(body));
	if (forge) {
		assert_true(to_client(buf, n, 0) < 0);
		assert_int_equal(S.exit_class, SESS_X_VERIFY);
	} else {
		assert_int_equal(to_client(buf, n, 0), 0);
		assert_int_equal(S.state, SESS_DONE);
	}
	sodium_memzero(&opened, sizeof(opened));
}

static void test_protect_ok(void **state) { protect_case(false); }
static void test_protect_forged_confirm(void **state) { protect_case(true); }

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_clear_text_byte_exact_any_chunking, setup, teardown),
		cmocka_unit_test_setup_teardown(test_clear_tail_released_at_eof, setup, teardown),
		cmocka_unit_test_setup_teardown(test_preamble_not_shown, setup, teardown),
		cmocka_unit_test_setup_teardown(test_taken_over_said_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keepalive_stall, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keystrokes_never_clear_after_hello, setup, teardown),
		cmocka_unit_test_setup_teardown(test_clear_hold_never_clear, setup, teardown),
		cmocka_unit_test_setup_teardown(test_clear_prompt_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_clear_inflight_replies_discarded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_clear_no_notice, setup, teardown),
		cmocka_unit_test_setup_teardown(test_history_queries_removed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_records_both_ways, setup, teardown),
		cmocka_unit_test_setup_teardown(test_close_handshake, setup, teardown),
		cmocka_unit_test(test_tail_truncation),
		cmocka_unit_test_setup_teardown(test_close_with_input_in_flight, setup, teardown),
		cmocka_unit_test_setup_teardown(test_takeover_pings_at_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lost_notice_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_break_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_error_frames, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tamper_bitflip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tamper_replay, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tamper_gap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cert_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hello_checks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_vm_secret, setup, teardown),
		cmocka_unit_test_setup_teardown(test_known_hvs_and_trust_fp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stripped_certificate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_protect_ok, setup, teardown),
		cmocka_unit_test_setup_teardown(test_protect_forged_confirm, setup, teardown),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
