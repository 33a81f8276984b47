/*
 * fuzz_term_session.c — libFuzzer harness for sccrypt-term's clear phase,
 * HELLO handling and frame dispatch (session.c), i.e. everything dom0 can
 * send to the client before and around the handshake.
 *
 * Input: byte 0 seeds the chunk sizes and the clear-input rule (bit 0x20:
 * SESS_CLEAR_PROMPT, a person at a terminal; else SESS_CLEAR_HOLD, a
 * script), the rest is what dom0 sends.  Between chunks the "user" types a
 * marker line.  Invariants:
 *  - the clear text shown equals the input up to the first magic followed
 *    by a valid encoding character, byte for byte (all of it at EOF if
 *    there is none), and goes to sink.clear_to_term only: sink.to_term
 *    (console output) gets nothing without an open session;
 *  - after the magic, the marker never appears on the wire in clear;
 *  - SESS_CLEAR_HOLD: no user byte is written before the magic either;
 *  - SESS_CLEAR_PROMPT: a user byte is written in clear only while the
 *    last byte dom0 sent is not a line end, and only whole answer lines;
 *  - a failed session stays failed and writes nothing more.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/wire.h"
#include "vmfile.h"
#include "../../sccrypt-term/session.h"
#include "core/err.h"
#include "core/wire.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MARKER		"USERKEY!"
#define MARKER_LEN	8
#define TYPED		MARKER "\r"	/* one answer line */
#define TYPED_LEN	(MARKER_LEN + 1)

static struct {
	uint8_t		term[65536];
	size_t		term_len;
	uint8_t		wire[65536];
	size_t		wire_len;
	size_t		wire_at_hello;
	bool		hello;
	size_t		console_len;
	bool		opened;
} A;

/* Clear text (sink.clear_to_term). */
static void
to_clear(void *ctx, const uint8_t *p, size_t len)
{
	if (A.term_len + len > sizeof(A.term))
		abort();
	memcpy(A.term + A.term_len, p, len);
	A.term_len += len;
}

/* Console output: only from authenticated records, never clear text. */
static void
to_term(void *ctx, const uint8_t *p, size_t len)
{
	A.console_len += len;
}

static int
to_wire(void *ctx, const uint8_t *p, size_t len)
{
	if (A.wire_len + len > sizeof(A.wire))
		return SC_ERR_NOSPACE;
	memcpy(A.wire + A.wire_len, p, len);
	A.wire_len += len;
	return 0;
}

static void
notice(void *ctx, const char *text)
{
	(void)text;
}

static void
event(void *ctx, enum sess_event ev)
{
	if (ev == SESS_EV_OPEN)
		A.opened = true;
	if (ev == SESS_EV_HELLO) {
		A.hello = true;
		A.wire_at_hello = A.wire_len;
	}
}

static int
accept_all(void *ctx, const struct sc_hello *h, char *msg, size_t msgsz)
{
	/* Trust decisions are policy.c's (tested elsewhere); accept to reach
	 * the handshake paths. */
	return h->hv_pubkey[0] == 0xee ? SC_ERR_UNTRUSTED : 0;
}

static size_t
find_magic(const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i + SC_HELLO_MAGIC_LEN < len; i++)
		if (memcmp(p + i, SC_HELLO_MAGIC, SC_HELLO_MAGIC_LEN) == 0 &&
		    (p[i + SC_HELLO_MAGIC_LEN] == 'A' || p[i + SC_HELLO_MAGIC_LEN] == 'B'))
			return i;
	return len;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sess s;
	static const uint8_t user_sk[32] = { 1, 2, 3 }, psk[32] = { 4, 5, 6 };
	struct sess_config cfg;
	struct sess_sink sink = { NULL, to_term, to_wire, notice, event,
	    to_clear };
	const uint8_t *in;
	size_t len, off = 0, magic, i;
	unsigned seed;
	bool failed = false, clear;

	if (size < 1 || size > 32768)
		return 0;
	seed = data[0];
	in = data + 1;
	len = size - 1;
	memset(&A, 0, sizeof(A));
	memset(&cfg, 0, sizeof(cfg));
	cfg.mode = (seed & 0x80) ? SESS_MODE_PROTECT : SESS_MODE_CONSOLE;
	cfg.vmname = (seed & 0x40) ? "vm1" : NULL;
	cfg.user_sk = user_sk;
	cfg.psk = psk;
	cfg.verify = accept_all;
	cfg.clear_input = (seed & 0x20) ? SESS_CLEAR_PROMPT : SESS_CLEAR_HOLD;
	sess_init(&s, &cfg, &sink);

	while (off < len) {
		size_t n = 1 + (seed * 31 + off) % ((seed & 0x3f) + 1);
		size_t wl;
		int r;

		if (n > len - off)
			n = len - off;
		wl = A.wire_len;
		r = sess_from_wire(&s, in + off, n);
		if (failed && A.wire_len != wl)
			abort();	/* wrote after failing */
		if (r < 0)
			failed = true;
		if (s.state == SESS_FAILED && r >= 0)
			abort();
		off += n;
		wl = A.wire_len;
		clear = s.state == SESS_CLEAR;
		r = sess_user_input(&s, (const uint8_t *)TYPED, TYPED_LEN);
		if (failed && A.wire_len != wl)
			abort();
		if (clear && A.wire_len != wl) {
			/* a clear write: only an answer to a prompt showing */
			if (cfg.clear_input != SESS_CLEAR_PROMPT ||
			    in[off - 1] == '\r' || in[off - 1] == '\n' ||
			    A.wire_len - wl != TYPED_LEN ||
			    memcmp(A.wire + wl, TYPED, TYPED_LEN) != 0)
				abort();
		}
	}
	if (cfg.clear_input == SESS_CLEAR_HOLD &&
	    (A.hello ? A.wire_at_hello : A.wire_len) != 0)
		abort();
	if (s.state == SESS_CLEAR)
		(void)!sess_wire_eof(&s);

	/* console output only in an open session (which the fuzzer cannot
	 * reach: it has no key the client trusts) */
	if (A.console_len != 0 && !A.opened)
		abort();
	/* clear text is exact, and only on the clear sink */
	magic = find_magic(in, len);
	if (A.hello != (magic < len))
		abort();
	if (A.term_len < magic)
		abort();
	if (memcmp(A.term, in, magic) != 0)
		abort();
	if (!A.hello && A.term_len != len)
		abort();
	/* no clear marker after the magic */
	for (i = A.wire_at_hello; A.hello && i + MARKER_LEN <= A.wire_len; i++)
		if (memcmp(A.wire + i, MARKER, MARKER_LEN) == 0)
			abort();
	sess_wipe(&s);
	return 0;
}
