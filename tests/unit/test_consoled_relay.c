/*
 * test_consoled_relay — sccrypt-consoled's relay core against a fake
 * hypervisor: request handling and policy, HELLO contents, handshake and
 * record relay in both directions, input back-pressure, bounded output for
 * a client that stops reading, takeover, malformed input, EOF mid-frame,
 * unprotected domains (plaintext relay, PROTECT), hypervisor loss, domains
 * disappearing and the ciphertext-only log; the scheduler: timer heap
 * order and wake-up times, the input-rate timer, and that an event touches
 * only the clients it concerns (the daemon's wake-up is O(active)).
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/frame.h"
#include "consoled.h"
#include "test_consoled_fakehv.h"

static struct sc_conf *conf;
static struct sc_backend bk;
static struct sc_cd cd;
static unsigned long long fake_now = 1000000;

/*
 * What the client has written that consoled has not read yet (the socket's
 * buffer): consoled reads from it only as far as its read budget allows.
 */
static uint8_t wire[1 << 20];
static size_t wire_len;
static struct sc_cd_client *wire_owner;


static unsigned long long
clock_fn(void)
{
	return fake_now;
}

static int
setup(void **state)
{
	const char *why;
	unsigned line;
	static const char text[] =
	    "allow 1000 vm*\n"
	    "allow 1000 plain\n"
	    "allow 0 *\n";

	(void)state;
	fake_reset();
	fake_add_domain(1, "vm1", true);
	fake_add_domain(2, "vm2", true);
	fake_add_domain(3, "plain", false);
	conf = calloc(1, sizeof(*conf));
	sc_conf_defaults(conf);
	assert_int_equal(sc_conf_parse(conf, text, strlen(text), &line, &why), 0);
	conf->certificate[0] = '\0';
	conf->input_rate = 0;
	assert_int_equal(sc_conf_resolve_users(conf), 0);
	memset(&bk, 0, sizeof(bk));
	bk.ops = &fake_backend_ops;
	assert_int_equal(sc_cd_init(&cd, conf, &bk), 0);
	cd.now = clock_fn;
	assert_int_equal(bk.ops->open(&bk, conf), 0);
	assert_int_equal(sc_cd_backend_up(&cd), 0);
	assert_int_equal(cd.ndoms, 3);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	wire_owner = NULL;
	wire_len = 0;
	sc_cd_free(&cd);
	free(conf);
	return 0;
}


static void
feed(struct sc_cd_client *c)
{
	size_t k;

	while (wire_owner == c && wire_len > 0 && !c->dead) {
		k = sc_cd_client_read_budget(&cd, c);
		if (k == 0)
			return;
		k = SC_MIN(k, wire_len);
		sc_cd_client_input(&cd, c, wire, k);
		memmove(wire, wire + k, wire_len - k);
		wire_len -= k;
	}
}

static void
pump(void)
{
	int i;

	for (i = 0; i < 2; i++) {
		sc_cd_events(&cd);
		sc_cd_service(&cd);
		if (wire_owner != NULL)
			feed(wire_owner);
	}
}

static void
send_bytes(struct sc_cd_client *c, const void *p, size_t n)
{
	if (wire_owner != c) {
		wire_len = 0;
		wire_owner = c;
	}
	assert_true(wire_len + n <= sizeof(wire));
	memcpy(wire + wire_len, p, n);
	wire_len += n;
	feed(c);
}

static void
send_frame(struct sc_cd_client *c, uint8_t type, const void *body, size_t len)
{
	static uint8_t mem[SC_FRAME_ENC_MAX];
	struct sc_buf b;

	sc_buf_init(&b, mem, sizeof(mem));
	assert_int_equal(sc_frame_encode(&b, c->encoding, type, body, len), 0);
	send_bytes(c, mem, b.len);
}

/* Take the status line from the client's output. */
static void
take_line(struct sc_cd_client *c, char *line, size_t max)
{
	const uint8_t *p = sc_buf_rptr(&c->out);
	size_t n = sc_buf_avail(&c->out), i;

	for (i = 0; i < n && i + 1 < max; i++) {
		line[i] = (char)p[i];
		if (p[i] == '\n') {
			line[i + 1] = '\0';
			sc_cd_client_wrote(&cd, c, i + 1);
			return;
		}
	}
	fail_msg("no line in client output (%zu bytes)", n);
}

static void
take_magic(struct sc_cd_client *c)
{
	assert_true(sc_buf_avail(&c->out) >= SC_HELLO_MAGIC_LEN + 1);
	assert_memory_equal(sc_buf_rptr(&c->out), SC_HELLO_MAGIC, SC_HELLO_MAGIC_LEN);
	assert_int_equal(sc_buf_rptr(&c->out)[SC_HELLO_MAGIC_LEN], c->encoding);
	sc_cd_client_wrote(&cd, c, SC_HELLO_MAGIC_LEN + 1);
}

struct rx {
	struct sc_frame_decoder dec;
	uint8_t		type;
	uint8_t		body[SC_FRAME_BODY_MAX];
	size_t		len;
};

/* Next frame from the client's output; returns false if none is complete. */
static bool
next_frame(struct sc_cd_client *c, struct rx *rx)
{
	struct sc_frame f;
	size_t used;
	int r;

	while (sc_buf_avail(&c->out) > 0) {
		r = sc_frame_decode(&rx->dec, sc_buf_rptr(&c->out), sc_buf_avail(&c->out),
		    &used, &f);
		assert_true(r >= 0);
		if (r == 1) {
			rx->type = f.type;
			rx->len = f.len;
			memcpy(rx->body, f.body, f.len);
		}
		sc_cd_client_wrote(&cd, c, used);
		if (r == 1)
			return true;
	}
	return false;
}

static struct sc_cd_client *
open_framed(uid_t uid, const char *vm, char enc, struct rx *rx)
{
	struct sc_cd_client *c = sc_cd_client_new(&cd, -1, uid, 1);
	char req[128], line[128];

	snprintf(req, sizeof(req), "SCCRYPT/1 console %s %c\n", vm, enc);
	send_bytes(c, req, strlen(req));
	take_line(c, line, sizeof(line));
	assert_string_equal(line, "OK framed\n");
	take_magic(c);
	assert_int_equal(sc_frame_decoder_init(&rx->dec, (uint8_t)enc), 0);
	assert_true(next_frame(c, rx));
	assert_int_equal(rx->type, SC_FRAME_HELLO);
	assert_int_equal(c->state, SC_CD_FRAMED);
	return c;
}

static struct sc_cd_client *
open_session(uid_t uid, const char *vm, struct rx *rx)
{
	struct sc_cd_client *c = open_framed(uid, vm, 'B', rx);

	send_frame(c, SC_FRAME_HS_INIT, "hs1-bytes", 9);
	assert_true(next_frame(c, rx));
	assert_int_equal(rx->type, SC_FRAME_HS_RESP);
	assert_int_equal(rx->len, 13);
	assert_memory_equal(rx->body, "HS2:hs1-bytes", 13);
	assert_int_equal(c->state, SC_CD_SESSION);
	assert_true(c->session != 0);
	return c;
}

static void
reap(void)
{
	struct sc_cd_client *c, *n;

	for (c = cd.clients; c != NULL; c = n) {
		n = c->next;
		if (c->dead) {
			if (wire_owner == c)
				wire_owner = NULL;
			sc_cd_client_free(&cd, c);
		}
	}
}


/* PROTECT while the hv checks (SC_ERR_AGAIN): retried on the timer, the loop
 * never waits; a refusal ends the connection; a fifth PROTECT is an error. */
static void
test_protect_retry_and_limits(void **state)
{
	struct sc_cd_client *c, *o;
	struct rx rx, orx;
	uint8_t blob[64];
	unsigned n0, i;
	char line[128];
	int32_t st;

	(void)state;
	memset(blob, 0x5a, sizeof(blob));
	fakehv.protect_again = 3;
	fakehv.protect_status = SC_ERR_DISKKEY;
	c = open_framed(1000, "plain", 'B', &rx);
	n0 = fakehv.ops[SC_OP_PROTECT];
	send_frame(c, SC_FRAME_PROTECT, blob, sizeof(blob));
	/* A second PROTECT queued behind it waits (never sent to the hv). */
	send_frame(c, SC_FRAME_PROTECT, blob, sizeof(blob));
	assert_int_equal(fakehv.ops[SC_OP_PROTECT], n0 + 1);
	assert_false(next_frame(c, &rx));
	assert_non_null(c->protect_blob);
	/* Meanwhile another client is served at once. */
	o = sc_cd_client_new(&cd, -1, 1000, 2);
	send_bytes(o, "SCCRYPT/1 info vm2 B\n", 21);
	take_line(o, line, sizeof(line));
	assert_string_equal(line, "OK text\n");
	(void)orx;
	/* The retries follow the timer: 5, 10, 20 ms. */
	for (i = 0; i < 3; i++) {
		assert_true(sc_cd_tick(&cd) <= 20);
		fake_now += 20;
		(void)sc_cd_tick(&cd);
		pump();
	}
	assert_int_equal(fakehv.ops[SC_OP_PROTECT], n0 + 4);
	assert_true(next_frame(c, &rx));
	assert_int_equal(rx.type, SC_FRAME_PROTECT_OK);
	st = (int32_t)((uint32_t)rx.body[0] << 24 | (uint32_t)rx.body[1] << 16 |
	    (uint32_t)rx.body[2] << 8 | rx.body[3]);
	assert_int_equal(st, SC_ERR_DISKKEY);
	assert_true(next_frame(c, &rx));
	assert_int_equal(rx.type, SC_FRAME_BYE);
	assert_int_equal(c->state, SC_CD_CLOSING);
	/* The queued second PROTECT never reached the hv. */
	pump();
	assert_int_equal(fakehv.ops[SC_OP_PROTECT], n0 + 4);
	reap();

	/* Accepted PROTECTs: four per connection, the fifth is an error. */
	fakehv.protect_again = 0;
	fakehv.protect_status = 0;
	c = open_framed(1000, "vm1", 'B', &rx);
	for (i = 0; i < 5; i++)
		send_frame(c, SC_FRAME_PROTECT, blob, sizeof(blob));
	pump();
	for (i = 0; i < 4; i++) {
		assert_true(next_frame(c, &rx));
		assert_int_equal(rx.type, SC_FRAME_PROTECT_OK);
	}
	assert_true(next_frame(c, &rx));
	assert_int_equal(rx.type, SC_FRAME_ERROR);
	assert_int_equal(c->state, SC_CD_CLOSING);
	assert_int_equal(fakehv.ops[SC_OP_PROTECT], n0 + 8);
	reap();
}

/* SIGHUP with a policy that no longer allows a user: its clients end. */
static void
test_policy_revocation(void **state)
{
	struct sc_cd_client *a, *b, *r;
	struct rx ra, rb;
	const char *why;
	unsigned line;
	static const char text[] = "allow 1000 vm2\nallow 0 *\n";

	(void)state;
	a = open_session(1000, "vm1", &ra);
	b = open_session(1000, "vm2", &rb);
	r = sc_cd_client_new(&cd, -1, 1000, 3);
	send_bytes(r, "SCCRYPT/1 auto plain B\n", 23);
	assert_int_equal(r->state, SC_CD_RAW);
	assert_int_equal(sc_cd_policy_changed(&cd), 0);
	sc_conf_defaults(conf);
	assert_int_equal(sc_conf_parse(conf, text, strlen(text), &line, &why), 0);
	conf->certificate[0] = '\0';
	conf->input_rate = 0;
	(void)sc_conf_resolve_users(conf);
	assert_int_equal(sc_cd_policy_changed(&cd), 2);
	assert_int_equal(a->state, SC_CD_CLOSING);
	assert_int_equal(r->state, SC_CD_CLOSING);
	assert_int_equal(b->state, SC_CD_SESSION);
	assert_true(next_frame(a, &ra));
	assert_int_equal(ra.type, SC_FRAME_ERROR);
	reap();
}

/* Per-uid caps; a full table of request-phase connections gives way. */
static void
test_admission(void **state)
{
	struct sc_cd_client *c[4];
	unsigned i;

	(void)state;
	conf->max_clients = 4;
	conf->max_clients_per_user = 2;
	for (i = 0; i < 2; i++) {
		assert_int_equal(sc_cd_admit(&cd, 2000), 0);
		c[i] = sc_cd_client_new(&cd, -1, 2000, 10);
	}
	/* uid 2000 (no allow rule) is at its cap; root is not capped. */
	assert_int_equal(sc_cd_admit(&cd, 2000), SC_ERR_BUSY);
	for (i = 2; i < 4; i++) {
		assert_int_equal(sc_cd_admit(&cd, 3000), 0);
		c[i] = sc_cd_client_new(&cd, -1, 3000, 11);
	}
	/* Full of idle request-phase connections of users without rules. */
	assert_int_equal(sc_cd_admit(&cd, 3000), SC_ERR_BUSY);
	assert_int_equal(sc_cd_admit(&cd, 4000), SC_ERR_BUSY);
	/* An allowed user (1000) gets the oldest one's place. */
	assert_int_equal(sc_cd_admit(&cd, 1000), 0);
	assert_int_equal(c[0]->state, SC_CD_CLOSING);
	for (i = 1; i < 4; i++)
		assert_int_equal(c[i]->state, SC_CD_REQ);
	reap();
}

/* ------------------------------------------------------------------------ */

static void
test_requests_and_policy(void **state)
{
	struct sc_cd_client *c;
	char line[256];
	static const struct {
		uid_t uid;
		const char *req;
		const char *want;
	} cases[] = {
		{ 1000, "hello\n", "ERR usage" },
		{ 1000, "SCCRYPT/1 console vm1\n", "ERR usage" },
		{ 1000, "SCCRYPT/1 console ../vm1 B\n", "ERR usage" },
		{ 1000, "SCCRYPT/1 shell vm1 B\n", "ERR usage" },
		{ 1000, "SCCRYPT/2 console vm1 B\n", "ERR usage" },
		{ 1000, "SCCRYPT/1  console vm1 B\n", "ERR usage" },
		{ 1000, "SCCRYPT/1 console vm1 B as=0\n", "ERR usage" },	/* not root */
		{ 1000, "SCCRYPT/1 console secret B\n", "ERR perm" },
		{ 1001, "SCCRYPT/1 console vm1 B\n", "ERR perm" },
		{ 0, "SCCRYPT/1 console vm1 B as=1001\n", "ERR perm" },	/* sudo by 1001 */
		{ 1000, "SCCRYPT/1 console vm9 B\n", "ERR nodomain" },
		{ 0, "SCCRYPT/1 console vm1 B as=1000\n", "OK framed" },
		{ 1000, "SCCRYPT/1 console vm1 A\n", "OK framed" },
		{ 1000, "SCCRYPT/1 auto plain B\n", "OK raw" },
		{ 1000, "SCCRYPT/1 info vm1 B\n", "OK text" },
		{ 1001, "SCCRYPT/1 pubkey - B\n", "OK text" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < SC_NELEM(cases); i++) {
		c = sc_cd_client_new(&cd, -1, cases[i].uid, 1);
		send_bytes(c, cases[i].req, strlen(cases[i].req));
		take_line(c, line, sizeof(line));
		if (strncmp(line, cases[i].want, strlen(cases[i].want)) != 0)
			fail_msg("case %zu: got %s", i, line);
		if (strncmp(line, "ERR", 3) == 0)
			assert_int_equal(c->state, SC_CD_CLOSING);
		if (i == 12)
			assert_int_equal(c->encoding, SC_ENCODING_ARMOR);
		if (i == 14) {
			take_line(c, line, sizeof(line));
			assert_non_null(strstr(line, "vm=vm1 domid=1 "));
			assert_non_null(strstr(line, "protected=yes"));
		}
		if (i == 15) {
			take_line(c, line, sizeof(line));
			assert_int_equal(strlen(line), 65);
			assert_memory_equal(line, "42424242", 8);
		}
		c->dead = true;
		reap();
	}
	/* An over-long request line is refused without waiting for '\n'. */
	c = sc_cd_client_new(&cd, -1, 1000, 1);
	memset(line, 'a', sizeof(line));
	send_bytes(c, line, SC_CTL_LINE_MAX);
	take_line(c, line, sizeof(line));
	assert_memory_equal(line, "ERR usage", 9);
	/* A silent client is dropped at request_timeout. */
	c = sc_cd_client_new(&cd, -1, 1000, 1);
	fake_now += (unsigned long long)conf->request_timeout * 1000 + 1;
	(void)sc_cd_tick(&cd);
	take_line(c, line, sizeof(line));
	assert_memory_equal(line, "ERR usage request timeout", 25);
	assert_true(c->dead);
	reap();
}

static void
test_hello(void **state)
{
	struct rx rx;
	struct sc_buf b;
	static struct sc_hello h;
	struct sc_cd_client *c;
	char path[] = "/tmp/sccrypt-test-cert.XXXXXX";
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "CERTIFICATE-BYTES", 17), 17);
	close(fd);
	snprintf(conf->certificate, sizeof(conf->certificate), "%s", path);
	fakehv.history_used = 777;
	c = open_framed(1000, "vm2", 'B', &rx);
	unlink(path);
	sc_buf_init_ro(&b, rx.body, rx.len);
	assert_int_equal(sc_hello_parse(&b, &h), 0);
	assert_int_equal(h.version, SC_PROTOCOL_VERSION);
	assert_true(h.flags & SC_HELLO_F_PROTECTED);
	assert_string_equal(h.vmname, "vm2");
	assert_int_equal(h.uuid[0], 2);
	assert_int_equal(h.hv_pubkey[31], 0x42);
	assert_int_equal(h.history_bytes, 777);
	assert_int_equal(h.cert_len, 17);
	assert_memory_equal(h.cert, "CERTIFICATE-BYTES", 17);
	(void)c;
}

static void
test_session_relay(void **state)
{
	struct rx rx;
	struct sc_cd_client *c;
	struct fake_sess *s;
	uint8_t rec[SC_RECORD_CT_MAX];
	size_t i;

	(void)state;
	c = open_session(1000, "vm1", &rx);
	s = fake_session(c->session);
	assert_non_null(s);
	/* Records in: each becomes one {len:u16le ct} item, in order. */
	for (i = 0; i < sizeof(rec); i++)
		rec[i] = (uint8_t)i;
	send_frame(c, SC_FRAME_RECORD, fake_rec("abc"), FAKE_REC);
	send_frame(c, SC_FRAME_RECORD, rec, sizeof(rec));
	pump();
	assert_int_equal(s->input_len, 2 + FAKE_REC + 2 + sizeof(rec));
	assert_int_equal(s->input[0] | (s->input[1] << 8), FAKE_REC);
	assert_memory_equal(s->input + 2, fake_rec("abc"), FAKE_REC);
	assert_int_equal(s->input[2 + FAKE_REC] | (s->input[3 + FAKE_REC] << 8),
	    (int)sizeof(rec));
	assert_memory_equal(s->input + 4 + FAKE_REC, rec, sizeof(rec));
	/*
	 * A record shorter than the smallest one is passed on as it came:
	 * the hv refuses it with a CLOSE the client can authenticate.
	 */
	{
		struct rx rx2;
		struct sc_cd_client *c2 = open_session(1000, "vm2", &rx2);
		struct fake_sess *s2 = fake_session(c2->session);

		send_frame(c2, SC_FRAME_RECORD, rec, 3);
		pump();
		assert_int_equal(s2->input_len, 2 + 3);
		assert_int_equal(s2->input[0] | (s2->input[1] << 8), 3);
		assert_false(next_frame(c2, &rx2));
	}
	/* Records out. */
	fake_queue_output(&bk, c->session, fake_rec("out-1"), FAKE_REC);
	fake_queue_output(&bk, c->session, rec, sizeof(rec));
	pump();
	assert_true(next_frame(c, &rx));
	assert_int_equal(rx.type, SC_FRAME_RECORD);
	assert_int_equal(rx.len, FAKE_REC);
	assert_memory_equal(rx.body, fake_rec("out-1"), FAKE_REC);
	assert_true(next_frame(c, &rx));
	assert_int_equal(rx.len, sizeof(rec));
	assert_memory_equal(rx.body, rec, sizeof(rec));
	assert_false(next_frame(c, &rx));
	/* Oversized record: protocol error, session closed at the hv. */
	{
		static uint8_t big[SC_RECORD_CT_MAX + 1];
		unsigned closes = fakehv.ops[SC_OP_CLOSE];
		send_frame(c, SC_FRAME_RECORD, big, sizeof(big));
		assert_true(next_frame(c, &rx));
		assert_int_equal(rx.type, SC_FRAME_ERROR);
		assert_true(next_frame(c, &rx));
		assert_int_equal(rx.type, SC_FRAME_BYE);
		assert_int_equal(fakehv.ops[SC_OP_CLOSE], closes + 1);
		assert_true(c->dead);
	}
}

/*
 * SC_EV_LOST (the hv dropped events for us): session output whose event
 * never came is fetched.
 */
static void
test_lost_events(void **state)
{
	struct rx rx;
	struct sc_cd_client *c;
	unsigned outputs;
	size_t queued;

	(void)state;
	c = open_session(1000, "vm1", &rx);
	fake_queue_output_quiet(c->session, fake_rec("unannounced"), FAKE_REC);
	outputs = fakehv.ops[SC_OP_OUTPUT];
	pump();
	assert_false(next_frame(c, &rx));
	assert_int_equal(fakehv.ops[SC_OP_OUTPUT], outputs);
	queued = bk.evq_len;
	sc_bk_push_event(&bk, 0, 0, SC_EV_LOST);
	assert_int_equal(bk.evq_len, queued);	/* a flag, not an event */
	assert_true(bk.evq_overflow);
	pump();
	assert_true(next_frame(c, &rx));
	assert_int_equal(rx.type, SC_FRAME_RECORD);
	assert_int_equal(rx.len, FAKE_REC);
	assert_memory_equal(rx.body, fake_rec("unannounced"), FAKE_REC);
	assert_false(bk.evq_overflow);
}

static void
test_input_backpressure(void **state)
{
	struct rx rx;
	struct sc_cd_client *c;
	struct fake_sess *s;
	uint8_t want[4096];
	size_t wl = 0, i;
	char tag[32];
	const uint8_t *rec;

	(void)state;
	c = open_session(1000, "vm1", &rx);
	s = fake_session(c->session);
	fakehv.ring_space = 10;		/* the guest reads slowly */
	for (i = 0; i < 40; i++) {
		snprintf(tag, sizeof(tag), "keystroke-record-%02zu", i);
		rec = fake_rec(tag);
		want[wl++] = FAKE_REC;
		want[wl++] = 0;
		memcpy(want + wl, rec, FAKE_REC);
		wl += FAKE_REC;
		send_frame(c, SC_FRAME_RECORD, rec, FAKE_REC);
	}
	assert_int_equal(s->input_len, 10);
	assert_true(c->input_blocked);
	/* While blocked, consoled reads nothing more from this client. */
	assert_int_equal(sc_cd_client_read_budget(&cd, c), 0);
	/* The guest makes room a little at a time; INPUT_SPACE resumes. */
	for (i = 0; i < 1000 && s->input_len < wl; i++) {
		fakehv.ring_space = 7;
		sc_bk_push_event(&bk, 1, 0, SC_EV_INPUT_SPACE);
		pump();
	}
	assert_int_equal(s->input_len, wl);
	assert_memory_equal(s->input, want, wl);	/* nothing lost or duplicated */
	assert_true(cd.stats.input_retries > 0);
	/* Without an event, the retry timer still gets input through. */
	fakehv.ring_space = 0;
	send_frame(c, SC_FRAME_RECORD, fake_rec("late"), FAKE_REC);
	assert_true(c->input_blocked);
	fakehv.ring_space = 100;
	fake_now += 1001;
	(void)sc_cd_tick(&cd);
	pump();
	assert_int_equal(s->input_len, wl + 2 + FAKE_REC);
}

static void
test_slow_reader_bounded(void **state)
{
	struct rx rx, rx2;
	struct sc_cd_client *c, *other;
	struct fake_sess *s;
	uint8_t rec[4000];
	size_t i, closes;

	(void)state;
	c = open_session(1000, "vm1", &rx);
	other = open_session(1000, "vm2", &rx2);
	s = fake_session(c->session);
	memset(rec, 'x', sizeof(rec));
	/* The hv has far more output than the client buffer holds. */
	for (i = 0; i < 16; i++)
		fake_queue_output(&bk, c->session, rec, sizeof(rec));
	for (i = 0; i < 10; i++)
		pump();
	/* consoled stopped pulling: the client buffer stays within its bound. */
	assert_true(sc_buf_avail(&c->out) <= conf->client_buffer);
	assert_true(s->outq_len > 0);
	/* The other domain's session is unaffected. */
	fake_queue_output(&bk, other->session, fake_rec("hello"), FAKE_REC);
	pump();
	assert_true(next_frame(other, &rx2));
	assert_memory_equal(rx2.body, "hello", 5);
	/* Draining resumes pulling. */
	while (next_frame(c, &rx))
		pump();
	assert_int_equal(s->outq_len, 0);
	/* A client that reads nothing for stall_timeout is dropped.  (The
	 * output comes after quiet: pulled at once, not coalesced.) */
	fake_now += conf->output_coalesce_ms;
	fake_queue_output(&bk, c->session, rec, sizeof(rec));
	pump();
	assert_true(sc_buf_avail(&c->out) > 0);
	closes = fakehv.ops[SC_OP_CLOSE];
	(void)sc_cd_tick(&cd);
	fake_now += (unsigned long long)conf->stall_timeout * 1000 + 1;
	(void)sc_cd_tick(&cd);
	assert_true(c->dead);
	assert_int_equal(fakehv.ops[SC_OP_CLOSE], closes + 1);
	assert_int_equal(cd.stats.clients_dropped_stall, 1);
	assert_false(other->dead);
}

/*
 * Per-client buffers (#17): nothing large is held by an idle session;
 * input, pending input and output grow on demand within their bounds and
 * are freed once they empty.
 */
static void
test_buffers_on_demand(void **state)
{
	struct rx rx;
	struct sc_cd_client *c;
	struct fake_sess *s;
	static uint8_t rec[SC_RECORD_CT_MAX];
	size_t i, n;

	(void)state;
	c = open_session(1000, "vm1", &rx);
	s = fake_session(c->session);
	assert_non_null(s);
	/* After the handshake: at most small buffers. */
	assert_true(c->in_cap <= SC_CD_BUF_KEEP);
	assert_true(c->pend_cap <= SC_CD_BUF_KEEP);
	assert_true(c->out.size <= SC_CD_BUF_KEEP);
	/* A keystroke each way keeps them small. */
	send_frame(c, SC_FRAME_RECORD, fake_rec("k"), FAKE_REC);
	fake_queue_output(&bk, c->session, fake_rec("e"), FAKE_REC);
	pump();
	assert_true(next_frame(c, &rx));
	assert_int_equal(rx.len, FAKE_REC);
	assert_true(c->in_cap <= SC_CD_BUF_KEEP && c->pend_cap <= SC_CD_BUF_KEEP &&
	    c->out.size <= SC_CD_BUF_KEEP);
	/* A large record grows input and pending input; both go when taken. */
	memset(rec, 0x5a, sizeof(rec));
	n = s->input_len;
	send_frame(c, SC_FRAME_RECORD, rec, sizeof(rec));
	pump();
	assert_int_equal(s->input_len, n + 2 + sizeof(rec));
	assert_int_equal(c->in_len, 0);
	assert_int_equal(c->pend_len, 0);
	assert_true(c->in_cap <= SC_CD_BUF_KEEP);
	assert_true(c->pend_cap <= SC_CD_BUF_KEEP);
	/* Much output: the buffer grows, never past its bound ... */
	for (i = 0; i < 16; i++)
		fake_queue_output(&bk, c->session, rec, sizeof(rec));
	pump();
	assert_true(c->out.size > SC_CD_BUF_KEEP);
	assert_true(c->out.size <= conf->client_buffer);
	assert_true(sc_buf_avail(&c->out) <= conf->client_buffer);
	/* ... and is freed once it is drained and nothing more waits. */
	i = 0;
	while (next_frame(c, &rx) || sc_buf_avail(&c->out) > 0 || c->want_output) {
		pump();
		assert_true(c->out.size <= conf->client_buffer);
		assert_true(++i < 1000);
	}
	assert_int_equal(s->outq_len, 0);
	assert_int_equal(c->out.size, 0);
	assert_null(c->outmem);
	/* And grows again for the next output. */
	fake_queue_output(&bk, c->session, fake_rec("again"), FAKE_REC);
	pump();
	assert_true(next_frame(c, &rx));
	assert_memory_equal(rx.body, "again", 5);
	assert_false(c->dead);
}

static void
test_takeover(void **state)
{
	struct rx rxa, rxb;
	struct sc_cd_client *a, *b;

	(void)state;
	a = open_session(1000, "vm1", &rxa);
	b = open_session(1000, "vm1", &rxb);
	pump();
	/* The old client gets the hv's CLOSE record, then BYE, then the end. */
	assert_true(next_frame(a, &rxa));
	assert_int_equal(rxa.type, SC_FRAME_RECORD);
	assert_int_equal(rxa.len, FAKE_REC);
	assert_memory_equal(rxa.body, "CLOSE-RECORD", 12);
	assert_true(next_frame(a, &rxa));
	assert_int_equal(rxa.type, SC_FRAME_BYE);
	assert_true(a->dead);
	assert_int_equal(b->state, SC_CD_SESSION);
	fake_queue_output(&bk, b->session, fake_rec("new"), FAKE_REC);
	pump();
	assert_true(next_frame(b, &rxb));
	assert_memory_equal(rxb.body, "new", 3);
}

static void
test_malformed_input(void **state)
{
	struct rx rx, rx2;
	struct sc_cd_client *c, *other;
	static const uint8_t junk[] = { 0x99, 0x00, 0x01, 0x00 };	/* unknown type */
	static const uint8_t toolong[] = { SC_FRAME_RECORD, 0xff, 0xff };

	(void)state;
	other = open_session(1000, "vm2", &rx2);
	c = open_session(1000, "vm1", &rx);
	send_bytes(c, junk, sizeof(junk));
	assert_true(next_frame(c, &rx));
	assert_int_equal(rx.type, SC_FRAME_ERROR);
	assert_true(next_frame(c, &rx));
	assert_int_equal(rx.type, SC_FRAME_BYE);
	assert_int_equal(c->state, SC_CD_CLOSING);
	assert_int_equal(cd.stats.protocol_errors, 1);

	c = open_session(1000, "vm1", &rx);
	send_bytes(c, toolong, sizeof(toolong));
	assert_int_equal(c->state, SC_CD_CLOSING);

	/* Record before the handshake, server-only frames from the client. */
	c = open_framed(1000, "vm1", 'B', &rx);
	send_frame(c, SC_FRAME_RECORD, fake_rec("x"), FAKE_REC);
	assert_int_equal(c->state, SC_CD_CLOSING);
	c = open_framed(1000, "vm1", 'B', &rx);
	send_frame(c, SC_FRAME_HELLO, "x", 1);
	assert_int_equal(c->state, SC_CD_CLOSING);
	c = open_session(1000, "vm1", &rx);
	send_frame(c, SC_FRAME_HS_INIT, "again", 5);
	assert_int_equal(c->state, SC_CD_CLOSING);

	/* Armored garbage. */
	c = open_framed(1000, "vm1", 'A', &rx);
	send_bytes(c, "!!!!\n", 5);
	assert_int_equal(c->state, SC_CD_CLOSING);

	/* The bystander is unaffected. */
	assert_int_equal(other->state, SC_CD_SESSION);
	fake_queue_output(&bk, other->session, fake_rec("still"), FAKE_REC);
	pump();
	assert_true(next_frame(other, &rx2));
	assert_memory_equal(rx2.body, "still", 5);
}

static void
test_eof_mid_frame(void **state)
{
	size_t i;
	struct rx rx;
	struct sc_cd_client *c;
	struct fake_sess *s;
	static uint8_t mem[64];
	struct sc_buf b;
	unsigned closes;

	(void)state;
	c = open_session(1000, "vm1", &rx);
	s = fake_session(c->session);
	sc_buf_init(&b, mem, sizeof(mem));
	assert_int_equal(sc_frame_encode(&b, 'B', SC_FRAME_RECORD, (const uint8_t *)"partial-record", 14), 0);
	closes = fakehv.ops[SC_OP_CLOSE];
	send_bytes(c, mem, b.len - 4);		/* cut inside the body */
	sc_cd_client_eof(&cd, c);
	assert_int_equal(s->input_len, 0);	/* nothing half-delivered */
	assert_int_equal(fakehv.ops[SC_OP_CLOSE], closes + 1);
	assert_int_equal(c->state, SC_CD_CLOSING);

	/* EOF with accepted input still queued: delivered first, then closed. */
	c = open_session(1000, "vm1", &rx);
	s = fake_session(c->session);
	fakehv.ring_space = 3;
	send_frame(c, SC_FRAME_RECORD, fake_rec("queued"), FAKE_REC);
	sc_cd_client_eof(&cd, c);
	assert_int_equal(c->state, SC_CD_SESSION);
	fakehv.ring_space = 100;
	sc_bk_push_event(&bk, 1, 0, SC_EV_INPUT_SPACE);
	pump();
	assert_int_equal(s->input_len, 2 + FAKE_REC);
	assert_int_equal(c->state, SC_CD_CLOSING);

	/*
	 * BYE and EOF while the guest reads slowly: the queued input outlives
	 * the 1 s INPUT retry interval and is delivered before the close.
	 */
	c = open_session(1000, "vm1", &rx);
	s = fake_session(c->session);
	fakehv.ring_space = 2;
	send_frame(c, SC_FRAME_RECORD, fake_rec("slow-guest"), FAKE_REC);
	send_frame(c, SC_FRAME_BYE, NULL, 0);
	sc_cd_client_eof(&cd, c);
	pump();
	assert_true(c->input_blocked);
	fakehv.ring_space = 0;
	for (i = 0; i < 5; i++) {	/* 5 s: each retry finds the ring full */
		fake_now += 1001;
		(void)sc_cd_tick(&cd);
		pump();
		assert_int_equal(c->state, SC_CD_SESSION);
	}
	assert_int_equal(s->input_len, 2);
	fakehv.ring_space = 100;
	fake_now += 1001;
	(void)sc_cd_tick(&cd);
	pump();
	assert_int_equal(s->input_len, 2 + FAKE_REC);
	assert_memory_equal(s->input + 2, fake_rec("slow-guest"), FAKE_REC);
	assert_int_equal(c->state, SC_CD_CLOSING);
	/* Input the guest never takes is dropped after stall_timeout, not before. */
	c = open_session(1000, "vm1", &rx);
	s = fake_session(c->session);
	fakehv.ring_space = 0;
	send_frame(c, SC_FRAME_RECORD, fake_rec("never-read"), FAKE_REC);
	send_frame(c, SC_FRAME_BYE, NULL, 0);
	sc_cd_client_eof(&cd, c);
	pump();
	fake_now += (unsigned long long)conf->stall_timeout * 1000 - 100;
	(void)sc_cd_tick(&cd);
	pump();
	assert_int_equal(c->state, SC_CD_SESSION);
	fake_now += 200;
	(void)sc_cd_tick(&cd);
	pump();
	assert_int_equal(c->state, SC_CD_CLOSING);
	assert_int_equal(s->input_len, 0);
	fakehv.ring_space = (size_t)-1;

	/* BYE from the client: orderly close. */
	c = open_session(1000, "vm1", &rx);
	closes = fakehv.ops[SC_OP_CLOSE];
	send_frame(c, SC_FRAME_BYE, NULL, 0);
	pump();
	assert_int_equal(c->state, SC_CD_CLOSING);
	assert_int_equal(fakehv.ops[SC_OP_CLOSE], closes + 1);
	assert_true(next_frame(c, &rx));
	assert_int_equal(rx.type, SC_FRAME_BYE);
}

static void
test_handshake_refused(void **state)
{
	struct rx rx;
	struct sc_cd_client *c;
	uint16_t code;
	char text[SC_ERRMSG_MAX + 1];
	struct sc_buf b;

	(void)state;
	fakehv.open_refuse = true;
	c = open_framed(1000, "vm1", 'B', &rx);
	send_frame(c, SC_FRAME_HS_INIT, "hs1", 3);
	assert_true(next_frame(c, &rx));
	assert_int_equal(rx.type, SC_FRAME_ERROR);
	sc_buf_init_ro(&b, rx.body, rx.len);
	assert_int_equal(sc_errorframe_parse(&b, &code, text), 0);
	assert_int_equal(code, -SC_ERR_PERM);
	assert_int_equal(c->state, SC_CD_CLOSING);
	/* Handshake timeout. */
	fakehv.open_refuse = false;
	c = open_framed(1000, "vm1", 'B', &rx);
	fake_now += (unsigned long long)conf->handshake_timeout * 1000 + 1;
	(void)sc_cd_tick(&cd);
	assert_true(next_frame(c, &rx));
	assert_int_equal(rx.type, SC_FRAME_ERROR);
	assert_int_equal(c->state, SC_CD_CLOSING);
}

/*
 * guest_output_rate: a guest that keeps its console full while nobody
 * watches is drained into the backlog at that rate, not as fast as it
 * writes (the Xen lab's console storm kept dom0 busy); a plaintext client
 * that attaches reads at its own pace.
 */
static void
test_guest_output_rate(void **state)
{
	struct sc_cd_client *c;
	char line[64];
	size_t total = 60000, taken, i;
	int next;

	(void)state;
	conf->guest_output_rate = 10240;	/* burst 2048 (200 ms' worth) */
	memset(fakehv.raw_out, 'y', total);
	fakehv.raw_out_len = total;
	sc_bk_push_event(&bk, 3, 0, SC_EV_OUTPUT);
	pump();
	taken = total - fakehv.raw_out_len;
	assert_true(taken > 0 && taken <= 2048);
	/* More events do not buy more: the budget does. */
	for (i = 0; i < 10; i++) {
		sc_bk_push_event(&bk, 3, 0, SC_EV_OUTPUT);
		pump();
	}
	assert_int_equal(total - fakehv.raw_out_len, taken);
	next = sc_cd_tick(&cd);
	assert_true(next > 0 && next <= 101);
	/* Ten seconds later, ~10 s' worth more, queued again by the tick alone. */
	for (i = 0; i < 100; i++) {
		fake_now += 100;
		(void)sc_cd_tick(&cd);
		pump();
	}
	taken = total - fakehv.raw_out_len;
	assert_true(taken >= 10 * 10240 / 2 && taken <= 2048 + 10 * 10240 + 1024);
	/* A plaintext client reads at its own pace: the rest comes. */
	c = sc_cd_client_new(&cd, -1, 1000, 1);
	send_bytes(c, "SCCRYPT/1 auto plain B\n", 23);
	take_line(c, line, sizeof(line));
	assert_string_equal(line, "OK raw\n");
	for (i = 0; i < 100 && fakehv.raw_out_len > 0; i++) {
		sc_cd_client_wrote(&cd, c, sc_buf_avail(&c->out));
		pump();
	}
	assert_int_equal(fakehv.raw_out_len, 0);
}

static void
test_unprotected(void **state)
{
	struct rx rx;
	struct sc_cd_client *c, *c2;
	char line[64];
	static struct sc_hello h;
	struct sc_buf b;
	uint8_t blob[100];

	(void)state;
	/* Output written while nobody is attached is kept (bounded backlog). */
	memcpy(fakehv.raw_out, "boot messages\n", 14);
	fakehv.raw_out_len = 14;
	sc_bk_push_event(&bk, 3, 0, SC_EV_OUTPUT);
	pump();
	assert_int_equal(fakehv.raw_out_len, 0);

	c = sc_cd_client_new(&cd, -1, 1000, 1);
	send_bytes(c, "SCCRYPT/1 auto plain B\n", 23);
	take_line(c, line, sizeof(line));
	assert_string_equal(line, "OK raw\n");
	assert_int_equal(sc_buf_avail(&c->out), 14);
	assert_memory_equal(sc_buf_rptr(&c->out), "boot messages\n", 14);
	sc_cd_client_wrote(&cd, c, 14);
	send_bytes(c, "ls\r", 3);
	pump();
	assert_int_equal(fakehv.raw_in_len, 3);
	memcpy(fakehv.raw_out, "file\r\n", 6);
	fakehv.raw_out_len = 6;
	sc_bk_push_event(&bk, 3, 0, SC_EV_OUTPUT);
	pump();
	assert_int_equal(sc_buf_avail(&c->out), 6);
	/* A second plaintext client takes over. */
	c2 = sc_cd_client_new(&cd, -1, 1000, 1);
	send_bytes(c2, "SCCRYPT/1 auto plain B\n", 23);
	assert_int_equal(c->state, SC_CD_CLOSING);

	/* Framed on an unprotected domain: HELLO without PROTECTED; HS refused. */
	c = open_framed(1000, "plain", 'B', &rx);
	sc_buf_init_ro(&b, rx.body, rx.len);
	assert_int_equal(sc_hello_parse(&b, &h), 0);
	assert_false(h.flags & SC_HELLO_F_PROTECTED);
	send_frame(c, SC_FRAME_HS_INIT, "x", 1);
	assert_true(next_frame(c, &rx));
	assert_int_equal(rx.type, SC_FRAME_ERROR);

	/* PROTECT is relayed; PROTECT_OK carries the status and confirm. */
	c = open_framed(1000, "plain", 'B', &rx);
	memset(blob, 7, sizeof(blob));
	send_frame(c, SC_FRAME_PROTECT, blob, sizeof(blob));
	assert_true(next_frame(c, &rx));
	assert_int_equal(rx.type, SC_FRAME_PROTECT_OK);
	assert_int_equal(rx.len, 36);
	assert_memory_equal(rx.body, "\0\0\0\0", 4);
	assert_int_equal(rx.body[4], 0xaa);
	/* Now protected: the same connection may handshake. */
	send_frame(c, SC_FRAME_HS_INIT, "hs1", 3);
	assert_true(next_frame(c, &rx));
	assert_int_equal(rx.type, SC_FRAME_HS_RESP);
	/* ... and the plaintext client is refused from now on. */
	pump();
	c2->dead = true;
	reap();
	c2 = sc_cd_client_new(&cd, -1, 1000, 1);
	send_bytes(c2, "SCCRYPT/1 auto plain B\n", 23);
	take_line(c2, line, sizeof(line));
	assert_string_equal(line, "OK framed\n");
}

static void
test_backend_loss(void **state)
{
	struct rx rx, rx2;
	struct sc_cd_client *a, *b;
	char line[64];

	(void)state;
	a = open_session(1000, "vm1", &rx);
	b = open_framed(1000, "vm2", 'B', &rx2);
	fakehv.fail_transport = true;
	send_frame(a, SC_FRAME_RECORD, fake_rec("x"), FAKE_REC);
	assert_false(cd.bk_up);
	assert_true(next_frame(a, &rx));
	assert_int_equal(rx.type, SC_FRAME_ERROR);
	assert_true(next_frame(b, &rx2));
	assert_int_equal(rx2.type, SC_FRAME_ERROR);
	assert_int_equal(a->state, SC_CD_CLOSING);
	assert_int_equal(b->state, SC_CD_CLOSING);
	/* New requests are told the hypervisor is unreachable. */
	a = sc_cd_client_new(&cd, -1, 1000, 1);
	send_bytes(a, "SCCRYPT/1 console vm1 B\n", 24);
	take_line(a, line, sizeof(line));
	assert_memory_equal(line, "ERR unavailable", 15);
	/* Reconnect. */
	fakehv.fail_transport = false;
	assert_int_equal(bk.ops->open(&bk, conf), 0);
	assert_int_equal(sc_cd_backend_up(&cd), 0);
	a = open_session(1000, "vm1", &rx);
	(void)a;
}

static void
test_domain_gone(void **state)
{
	struct rx rx;
	struct sc_cd_client *c;

	(void)state;
	c = open_session(1000, "vm2", &rx);
	fakehv.ndoms = 1;		/* vm2 and plain disappear */
	sc_bk_push_event(&bk, 2, 0, SC_EV_DOMAIN_GONE);
	pump();
	assert_int_equal(c->state, SC_CD_CLOSING);
	assert_null(sc_cd_domain_by_name(&cd, "vm2"));
	assert_non_null(sc_cd_domain_by_name(&cd, "vm1"));
	/* Same domid, new UUID: a different domain; old clients go. */
	c = open_session(1000, "vm1", &rx);
	memset(fakehv.doms[0].uuid, 0x77, 16);
	sc_bk_push_event(&bk, 1, 0, SC_EV_DOMAIN_ADDED);
	pump();
	assert_int_equal(c->state, SC_CD_CLOSING);
	assert_int_equal(sc_cd_domain_by_name(&cd, "vm1")->uuid[0], 0x77);
}

static void
test_ciphertext_log(void **state)
{
	struct rx rx;
	struct sc_cd_client *c;
	char dir[] = "/tmp/sccrypt-test-log.XXXXXX", path[128];
	unsigned char *data = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(conf->log_dir, sizeof(conf->log_dir), "%s", dir);
	c = open_session(1000, "vm1", &rx);
	send_frame(c, SC_FRAME_RECORD, fake_rec("CIPHER-IN"), FAKE_REC);
	fake_queue_output(&bk, c->session, fake_rec("CIPHER-OUT"), FAKE_REC);
	pump();
	sc_cd_free(&cd);		/* closes the log */
	snprintf(path, sizeof(path), "%s/vm1.sclog", dir);
	f = fopen(path, "rb");
	assert_non_null(f);
	data = malloc(4096);
	len = fread(data, 1, 4096, f);
	fclose(f);
	assert_int_equal(len, 2 * (11 + FAKE_REC));
	assert_int_equal(data[0], 'I');
	assert_int_equal(data[9] << 8 | data[10], FAKE_REC);
	assert_memory_equal(data + 11, fake_rec("CIPHER-IN"), FAKE_REC);
	assert_int_equal(data[11 + FAKE_REC], 'O');
	assert_memory_equal(data + 22 + FAKE_REC, fake_rec("CIPHER-OUT"), FAKE_REC);
	free(data);
	unlink(path);
	rmdir(dir);
	/* teardown frees again: re-init an empty core */
	assert_int_equal(sc_cd_init(&cd, conf, &bk), 0);
}

/* The timer heap: parent keys <= child keys, indices consistent. */
static void
check_heap(void)
{
	size_t i;

	for (i = 0; i < cd.heap_len; i++) {
		assert_int_equal(cd.heap[i]->hidx, i);
		if (i > 0)
			assert_true(cd.heap[(i - 1) / 2]->tkey <= cd.heap[i]->tkey);
	}
}

static void
drain_changed(void)
{
	while (sc_cd_next_changed(&cd) != NULL)
		;
}

/*
 * 200 silent clients arrive 7 ms apart: each times out exactly at its own
 * request deadline, in order, and sc_cd_tick() says when the next one is.
 */
static void
test_timer_heap(void **state)
{
	enum { N = 200, GAP = 7 };
	struct sc_cd_client *cl[N];
	unsigned long long t0 = fake_now, rt;
	size_t i, k;
	int next;

	(void)state;
	conf->max_clients = N + 8;
	rt = (unsigned long long)conf->request_timeout * 1000;
	pump();				/* the initial drain of "plain" */
	/* Arrivals in a shuffled order, so the heap sees keys out of order. */
	for (i = 0; i < N; i++) {
		k = (i * 73) % N;		/* 73 is prime to 200: a permutation */
		fake_now = t0 + k * GAP;
		cl[k] = sc_cd_client_new(&cd, -1, 1000, 1);
		assert_non_null(cl[k]);
		if (i % 16 == 0) {
			(void)sc_cd_tick(&cd);
			check_heap();
		}
	}
	fake_now = t0 + (N - 1) * GAP;
	next = sc_cd_tick(&cd);
	check_heap();
	assert_int_equal(cd.heap_len, N);
	/* The first deadline is t0 + rt; ticks are capped at 1000 ms. */
	assert_int_equal(next, (int)SC_MIN(rt - (N - 1) * GAP, 1000ULL));
	for (i = 0; i < N; i++) {
		fake_now = t0 + i * GAP + rt - 1;
		next = sc_cd_tick(&cd);
		assert_false(cl[i]->state == SC_CD_CLOSING);
		assert_int_equal(next, 1);
		fake_now++;
		(void)sc_cd_tick(&cd);
		assert_int_equal(cl[i]->state, SC_CD_CLOSING);	/* "request timeout" */
		if (i + 1 < N)
			assert_false(cl[i + 1]->state == SC_CD_CLOSING);
		check_heap();
	}
	drain_changed();
	for (i = 0; i < N; i++)
		cl[i]->dead = true;
	reap();
	assert_int_equal(cd.heap_len, 0);
	assert_int_equal(cd.nclients, 0);
}

/*
 * With many sessions open, one output event lists only its own client as
 * changed and ready, and an idle tick changes nothing: the daemon's work per
 * wake-up follows activity, not the number of sessions.
 */
static void
test_work_follows_activity(void **state)
{
	enum { N = 12 };
	struct sc_cd_client *cl[N], *c;
	struct rx rx[N];
	unsigned ops_before;
	size_t i, nchanged;

	(void)state;
	conf->max_clients_per_domain = N;
	fakehv.takeover = false;	/* all sessions stay open */
	for (i = 0; i < N; i++)
		cl[i] = open_session(1000, i % 2 ? "vm1" : "vm2", &rx[i]);
	pump();
	(void)sc_cd_tick(&cd);
	drain_changed();
	assert_false(sc_cd_has_work(&cd));
	/* Idle: a tick touches nobody and sleeps for up to a second. */
	fake_now += 10;
	assert_int_equal(sc_cd_tick(&cd), 1000);
	assert_null(sc_cd_next_changed(&cd));
	/* One event for one session. */
	for (i = 0; i < N; i++)
		assert_int_equal(cl[i]->state, SC_CD_SESSION);
	c = cl[N / 2];
	fake_queue_output(&bk, c->session, fake_rec("one"), FAKE_REC);
	sc_cd_events(&cd);
	assert_true(sc_cd_has_work(&cd));
	ops_before = fakehv.ops[SC_OP_OUTPUT];
	sc_cd_service(&cd);
	assert_int_equal(fakehv.ops[SC_OP_OUTPUT], ops_before + 1);
	assert_false(sc_cd_has_work(&cd));
	nchanged = 0;
	while (sc_cd_next_changed(&cd) == c)
		nchanged++;
	assert_int_equal(nchanged, 1);
	assert_null(sc_cd_next_changed(&cd));
	assert_true(sc_buf_avail(&c->out) > 0);
}

/* A client over its input rate is not read until the bucket refills. */
static void
test_rate_timer(void **state)
{
	struct rx rx;
	struct sc_cd_client *c;
	uint8_t junk[3000];
	int next;

	(void)state;
	conf->input_rate = 1000;	/* bytes/s; bursts of SC_CD_IN_MAX */
	c = open_session(1000, "vm1", &rx);
	memset(junk, 'k', sizeof(junk));
	while (sc_cd_client_read_budget(&cd, c) > 0 && !c->dead)
		send_frame(c, SC_FRAME_RECORD, junk, sizeof(junk));
	assert_false(c->dead);
	assert_int_equal(sc_cd_client_read_budget(&cd, c), 0);
	pump();
	next = sc_cd_tick(&cd);
	/* Less than one byte in the bucket: it refills within ~1 ms/byte. */
	if (next < 1 || next > 2)
		fail_msg("tick %d, tokens %f", next, c->tokens);
	fake_now += (unsigned long long)next;
	(void)sc_cd_tick(&cd);
	assert_true(sc_cd_client_read_budget(&cd, c) > 0);
}

/*
 * Output coalescing (output_coalesce_ms, consoled/coalesce.h): a small
 * pull soon after another is deferred to a timer of that session only;
 * the timer pulls it; output that answers client input, and any output
 * with coalescing off, is pulled at once.
 */
static void
test_output_coalescing(void **state)
{
	struct rx rx, rx2;
	struct sc_cd_client *c, *other;
	unsigned outs;
	int next;

	(void)state;
	assert_int_equal(conf->output_coalesce_ms, SC_COALESCE_MS_DEFAULT);
	c = open_session(1000, "vm1", &rx);
	other = open_session(1000, "vm2", &rx2);
	fake_now += 1000;			/* quiet since the handshake */
	/* The first output after quiet: at once. */
	fake_queue_output(&bk, c->session, fake_rec("o1"), FAKE_REC);
	pump();
	assert_true(next_frame(c, &rx));
	assert_memory_equal(rx.body, "o1", 2);
	/* A small one right after: deferred, to a timer within the interval. */
	outs = fakehv.ops[SC_OP_OUTPUT];
	fake_now += 2;
	fake_queue_output(&bk, c->session, fake_rec("o2"), FAKE_REC);
	pump();
	assert_false(next_frame(c, &rx));
	assert_int_equal(fakehv.ops[SC_OP_OUTPUT], outs);
	assert_true(c->pull_at > fake_now);
	assert_true(c->pull_at <= fake_now - 2 + conf->output_coalesce_ms);
	/* Another session is not held by c's deferral. */
	fake_queue_output(&bk, other->session, fake_rec("x1"), FAKE_REC);
	pump();
	assert_true(next_frame(other, &rx2));
	assert_memory_equal(rx2.body, "x1", 2);
	/* More output meanwhile joins the deferred pull. */
	fake_queue_output_quiet(c->session, fake_rec("o3"), FAKE_REC);
	next = sc_cd_tick(&cd);
	assert_int_equal((unsigned long long)next, c->pull_at - fake_now);
	fake_now += (unsigned long long)next - 1;
	(void)sc_cd_tick(&cd);
	pump();
	assert_false(next_frame(c, &rx));	/* not yet */
	fake_now += 1;
	(void)sc_cd_tick(&cd);
	pump();
	assert_int_equal(fakehv.ops[SC_OP_OUTPUT], outs + 2);	/* x1, then o2+o3 */
	assert_true(next_frame(c, &rx));
	assert_memory_equal(rx.body, "o2", 2);
	assert_true(next_frame(c, &rx));
	assert_memory_equal(rx.body, "o3", 2);
	assert_int_equal(c->pull_at, 0);
	/* The echo of a keystroke: at once, however soon after a pull. */
	fake_now += 1;
	send_frame(c, SC_FRAME_RECORD, fake_rec("k"), FAKE_REC);
	fake_queue_output(&bk, c->session, fake_rec("e1"), FAKE_REC);
	pump();
	assert_true(next_frame(c, &rx));
	assert_memory_equal(rx.body, "e1", 2);
	/* And what follows within the interval of that input, too. */
	fake_now += conf->output_coalesce_ms - 1;
	fake_queue_output(&bk, c->session, fake_rec("e2"), FAKE_REC);
	pump();
	assert_true(next_frame(c, &rx));
	assert_memory_equal(rx.body, "e2", 2);
	/* Coalescing off: a small pull right after another is not deferred. */
	conf->output_coalesce_ms = 0;
	fake_now += 1000;
	fake_queue_output(&bk, c->session, fake_rec("f1"), FAKE_REC);
	pump();
	fake_now += 1;
	fake_queue_output(&bk, c->session, fake_rec("f2"), FAKE_REC);
	pump();
	assert_true(next_frame(c, &rx));
	assert_memory_equal(rx.body, "f1", 2);
	assert_true(next_frame(c, &rx));
	assert_memory_equal(rx.body, "f2", 2);
	assert_int_equal(c->pull_at, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_requests_and_policy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hello, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_relay, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lost_events, setup, teardown),
		cmocka_unit_test_setup_teardown(test_input_backpressure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_slow_reader_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_buffers_on_demand, setup, teardown),
		cmocka_unit_test_setup_teardown(test_takeover, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_input, setup, teardown),
		cmocka_unit_test_setup_teardown(test_eof_mid_frame, setup, teardown),
		cmocka_unit_test_setup_teardown(test_handshake_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unprotected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_guest_output_rate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backend_loss, setup, teardown),
		cmocka_unit_test_setup_teardown(test_domain_gone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ciphertext_log, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timer_heap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_work_follows_activity, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rate_timer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_output_coalescing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_protect_retry_and_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_policy_revocation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_admission, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
