/*
 * noise-vectors — replay Noise test vectors through lib/core/noise.c.
 *
 * usage: noise-vectors [-v] FILE.json ...
 *
 * Reads files in the standard Noise test-vector format
 *   {"vectors": [{"protocol_name", "init_prologue", "init_psks",
 *     "init_static", "init_ephemeral", "init_remote_static", "resp_*",
 *     "handshake_hash", "messages": [{"payload", "ciphertext"}]}]}
 * (also the older form with "name" or "pattern"/"dh"/"cipher"/"hash" and
 * single "init_psk"/"resp_psk").  Every vector whose protocol the engine
 * supports is replayed on both sides with the vector's fixed ephemerals:
 * the sender's output must equal each ciphertext and the receiver must
 * recover each payload from the vector's ciphertext; both sides' handshake
 * hash must equal handshake_hash when given.  After the handshake, entry i
 * is sent by the initiator with c1 if i is even and by the responder with
 * c2 if odd (one-way patterns: always the initiator).
 *
 * Output: "PASS name", "FAIL name: reason" or "SKIP name: reason" per
 * vector, then "N passed, N failed, N skipped".  Exit status 1 if anything
 * failed (including an unreadable file), else 0.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "core/err.h"
#include "core/buf.h"
#include "core/crypto.h"
#include "core/noise.h"

#define MSGBUF	(SC_NOISE_MSG_MAX + 1)

static int verbose;

struct result {
	char	reason[256];
};

static bool fail(struct result *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static bool
fail(struct result *res, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(res->reason, sizeof(res->reason), fmt, ap);
	va_end(ap);
	return false;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode hex string s into out[0..max); returns the length or -1. */
static long
unhex(const char *s, uint8_t *out, size_t max)
{
	size_t len = strlen(s), i;

	if (len % 2 != 0 || len / 2 > max)
		return -1;
	for (i = 0; i < len / 2; i++) {
		int hi = hexval((unsigned char)s[2 * i]);
		int lo = hexval((unsigned char)s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return (long)(len / 2);
}

/* A hex field of exactly n bytes; *present says whether it was there. */
static bool
get_key(json_t *v, const char *field, uint8_t *out, size_t n, bool *present,
    struct result *res)
{
	json_t *f = json_object_get(v, field);

	*present = false;
	if (f == NULL || json_is_null(f))
		return true;
	if (!json_is_string(f) || unhex(json_string_value(f), out, n) != (long)n)
		return fail(res, "%s is not %zu hex bytes", field, n);
	*present = true;
	return true;
}

/* Prologue (hex, may be absent = empty). */
static bool
get_blob(json_t *v, const char *field, uint8_t *out, size_t max, size_t *len,
    struct result *res)
{
	json_t *f = json_object_get(v, field);
	long n;

	*len = 0;
	if (f == NULL || json_is_null(f))
		return true;
	if (!json_is_string(f) || (n = unhex(json_string_value(f), out, max)) < 0)
		return fail(res, "%s is not hex", field);
	*len = (size_t)n;
	return true;
}

/* "<side>_psks": [hex...] or the older single "<side>_psk". */
static bool
get_psks(json_t *v, const char *side, uint8_t *out, unsigned *n,
    struct result *res)
{
	char field[32];
	json_t *f, *e;
	size_t i;

	*n = 0;
	snprintf(field, sizeof(field), "%s_psks", side);
	if ((f = json_object_get(v, field)) != NULL) {
		if (!json_is_array(f) || json_array_size(f) > SC_NOISE_MAX_PSKS)
			return fail(res, "%s: bad array", field);
		json_array_foreach(f, i, e) {
			if (!json_is_string(e) || unhex(json_string_value(e),
			    out + i * SC_NOISE_PSKLEN, SC_NOISE_PSKLEN) != SC_NOISE_PSKLEN)
				return fail(res, "%s[%zu] is not %d hex bytes", field,
				    i, SC_NOISE_PSKLEN);
		}
		*n = (unsigned)json_array_size(f);
		return true;
	}
	snprintf(field, sizeof(field), "%s_psk", side);
	if ((f = json_object_get(v, field)) != NULL) {
		if (!json_is_string(f) || unhex(json_string_value(f), out,
		    SC_NOISE_PSKLEN) != SC_NOISE_PSKLEN)
			return fail(res, "%s is not %d hex bytes", field, SC_NOISE_PSKLEN);
		*n = 1;
	}
	return true;
}

/*
 * The vector's protocol name into name[len]; false if it has none.
 * "protocol_name", else the older "name" (as is: e.g. noise-c's rev. 30
 * "NoisePSK_..." vectors stay unsupported), else built from "pattern",
 * "dh", "cipher" and "hash".
 */
static bool
vector_name(json_t *v, char *name, size_t len)
{
	const char *pn = json_string_value(json_object_get(v, "protocol_name"));
	const char *p, *dh, *ci, *ha;

	if (pn == NULL)
		pn = json_string_value(json_object_get(v, "name"));
	if (pn != NULL) {
		snprintf(name, len, "%s", pn);
		return true;
	}
	p = json_string_value(json_object_get(v, "pattern"));
	dh = json_string_value(json_object_get(v, "dh"));
	ci = json_string_value(json_object_get(v, "cipher"));
	ha = json_string_value(json_object_get(v, "hash"));
	if (p != NULL && dh != NULL && ci != NULL && ha != NULL) {
		snprintf(name, len, "Noise_%s_%s_%s_%s", p, dh, ci, ha);
		return true;
	}
	return false;
}

struct side {
	const char	*label;		/* "init" or "resp" */
	bool		 initiator;
	struct sc_noise_handshake hs;
	struct sc_noise_transport t;
};

static bool
setup_side(struct side *sd, json_t *v, const struct sc_noise_pattern *pat,
    struct result *res)
{
	const struct sc_crypto *cp = sc_crypto_sodium();
	uint8_t prologue[1024], s[32], rs[32], e[32];
	uint8_t psks[SC_NOISE_MAX_PSKS * SC_NOISE_PSKLEN];
	unsigned need = sc_noise_pattern_needs(pat), npsks;
	bool want_s, want_rs, has_s, has_rs, has_e;
	size_t plen;
	char f[64];
	int r;

	want_s = need & (sd->initiator ? SC_NOISE_NEED_INIT_S : SC_NOISE_NEED_RESP_S);
	want_rs = need & (sd->initiator ? SC_NOISE_NEED_INIT_RS : SC_NOISE_NEED_RESP_RS);
	snprintf(f, sizeof(f), "%s_prologue", sd->label);
	if (!get_blob(v, f, prologue, sizeof(prologue), &plen, res))
		return false;
	snprintf(f, sizeof(f), "%s_static", sd->label);
	if (!get_key(v, f, s, sizeof(s), &has_s, res))
		return false;
	if (want_s && !has_s)
		return fail(res, "vector lacks %s", f);
	snprintf(f, sizeof(f), "%s_remote_static", sd->label);
	if (!get_key(v, f, rs, sizeof(rs), &has_rs, res))
		return false;
	if (want_rs && !has_rs)
		return fail(res, "vector lacks %s", f);
	snprintf(f, sizeof(f), "%s_ephemeral", sd->label);
	if (!get_key(v, f, e, sizeof(e), &has_e, res))
		return false;
	if (!get_psks(v, sd->label, psks, &npsks, res))
		return false;
	if (npsks != sc_noise_pattern_psks(pat))
		return fail(res, "%s has %u psks, the pattern takes %u", sd->label,
		    npsks, sc_noise_pattern_psks(pat));
	if ((r = sc_noise_hs_init(&sd->hs, cp, pat, sd->initiator, prologue, plen,
	    want_s ? s : NULL, want_rs ? rs : NULL, psks, npsks)) != 0)
		return fail(res, "%s: init: %s", sd->label, sc_err(r));
	if (has_e && (r = sc_noise_hs_set_fixed_ephemeral(&sd->hs, e)) != 0)
		return fail(res, "%s: fixed ephemeral: %s", sd->label, sc_err(r));
	sodium_memzero(s, sizeof(s));
	sodium_memzero(e, sizeof(e));
	sodium_memzero(psks, sizeof(psks));
	return true;
}

static bool
check_bytes(const char *what, size_t i, const uint8_t *got, size_t gotlen,
    const uint8_t *want, size_t wantlen, struct result *res)
{
	if (gotlen != wantlen)
		return fail(res, "message %zu: %s is %zu bytes, expected %zu", i, what,
		    gotlen, wantlen);
	if (memcmp(got, want, wantlen) != 0)
		return fail(res, "message %zu: %s differs", i, what);
	return true;
}

/* Replay one supported vector on both sides. */
static bool
replay(json_t *v, const struct sc_noise_pattern *pat, struct result *res)
{
	static uint8_t payload[MSGBUF], ct[MSGBUF], outmem[MSGBUF], ptmem[MSGBUF];
	struct side init = { .label = "init", .initiator = true };
	struct side resp = { .label = "resp", .initiator = false };
	uint8_t hh[SC_NOISE_HASHLEN];
	json_t *msgs, *m;
	struct sc_buf out, pt;
	bool ok = false, has_hh, one_way = false, split = false;
	size_t i;
	long plen, clen;
	int r;

	msgs = json_object_get(v, "messages");
	if (!json_is_array(msgs))
		return fail(res, "no messages array");
	if (!get_key(v, "handshake_hash", hh, sizeof(hh), &has_hh, res))
		return false;
	if (!setup_side(&init, v, pat, res) || !setup_side(&resp, v, pat, res))
		goto out;

	json_array_foreach(msgs, i, m) {
		struct side *snd, *rcv;
		const char *ps = json_string_value(json_object_get(m, "payload"));
		const char *cs = json_string_value(json_object_get(m, "ciphertext"));

		if (ps == NULL || cs == NULL ||
		    (plen = unhex(ps, payload, SC_NOISE_MSG_MAX)) < 0 ||
		    (clen = unhex(cs, ct, SC_NOISE_MSG_MAX)) < 0) {
			fail(res, "message %zu: bad payload/ciphertext", i);
			goto out;
		}
		sc_buf_init(&out, outmem, sizeof(outmem));
		sc_buf_init(&pt, ptmem, sizeof(ptmem));

		if (!split) {
			/* Handshake message: whoever's turn it is sends. */
			snd = sc_noise_hs_my_turn(&init.hs) ? &init : &resp;
			rcv = snd == &init ? &resp : &init;
			if (snd->initiator != (i % 2 == 0)) {
				fail(res, "message %zu: out of turn", i);
				goto out;
			}
			if ((r = sc_noise_hs_write(&snd->hs, payload, (size_t)plen,
			    &out)) != 0) {
				fail(res, "message %zu: %s write: %s", i, snd->label,
				    sc_err(r));
				goto out;
			}
			if (!check_bytes("ciphertext", i, out.data, out.len, ct,
			    (size_t)clen, res))
				goto out;
			if ((r = sc_noise_hs_read(&rcv->hs, ct, (size_t)clen,
			    &pt)) != 0) {
				fail(res, "message %zu: %s read: %s", i, rcv->label,
				    sc_err(r));
				goto out;
			}
			if (!check_bytes("payload", i, pt.data, pt.len, payload,
			    (size_t)plen, res))
				goto out;
			if (sc_noise_hs_complete(&init.hs) != sc_noise_hs_complete(&resp.hs)) {
				fail(res, "message %zu: sides disagree on completion", i);
				goto out;
			}
			if (!sc_noise_hs_complete(&init.hs))
				continue;
			/* Handshake done: compare h on both sides, then Split. */
			if (memcmp(sc_noise_hs_hash(&init.hs), sc_noise_hs_hash(&resp.hs),
			    SC_NOISE_HASHLEN) != 0) {
				fail(res, "handshake hashes of the two sides differ");
				goto out;
			}
			if (has_hh && memcmp(sc_noise_hs_hash(&init.hs), hh,
			    SC_NOISE_HASHLEN) != 0) {
				fail(res, "handshake_hash differs");
				goto out;
			}
			if ((r = sc_noise_hs_split(&init.hs, &init.t)) != 0 ||
			    (r = sc_noise_hs_split(&resp.hs, &resp.t)) != 0) {
				fail(res, "split: %s", sc_err(r));
				goto out;
			}
			one_way = !init.t.recv.has_key;
			split = true;
			continue;
		}

		/* Transport message. */
		snd = (one_way || i % 2 == 0) ? &init : &resp;
		rcv = snd == &init ? &resp : &init;
		if ((r = sc_noise_encrypt(&snd->t, payload, (size_t)plen, &out)) != 0) {
			fail(res, "message %zu: %s encrypt: %s", i, snd->label, sc_err(r));
			goto out;
		}
		if (!check_bytes("ciphertext", i, out.data, out.len, ct, (size_t)clen,
		    res))
			goto out;
		if ((r = sc_noise_decrypt(&rcv->t, ct, (size_t)clen, &pt)) != 0) {
			fail(res, "message %zu: %s decrypt: %s", i, rcv->label, sc_err(r));
			goto out;
		}
		if (!check_bytes("payload", i, pt.data, pt.len, payload, (size_t)plen,
		    res))
			goto out;
	}
	if (!split) {
		fail(res, "vector ends before the handshake completes");
		goto out;
	}
	ok = true;
out:
	sc_noise_hs_wipe(&init.hs);
	sc_noise_hs_wipe(&resp.hs);
	sc_noise_transport_wipe(&init.t);
	sc_noise_transport_wipe(&resp.t);
	return ok;
}

struct totals {
	unsigned	passed, failed, skipped;
};

static void
run_vector(json_t *v, size_t idx, struct totals *tot)
{
	const struct sc_noise_pattern *pat;
	struct result res = { "" };
	char name[256];
	json_t *fl;
	bool ok, expect_fail;

	if (!json_is_object(v) || !vector_name(v, name, sizeof(name))) {
		printf("FAIL vector %zu: no protocol name\n", idx);
		tot->failed++;
		return;
	}
	fl = json_object_get(v, "fallback");
	if ((fl != NULL && json_is_true(fl)) || json_object_get(v, "hybrid") != NULL ||
	    (pat = sc_noise_pattern_lookup(name)) == NULL) {
		printf("SKIP %s: unsupported\n", name);
		tot->skipped++;
		return;
	}
	/* Some sources mark vectors that must fail ("fail": true). */
	expect_fail = json_is_true(json_object_get(v, "fail"));
	ok = replay(v, pat, &res);
	if (ok != expect_fail) {
		printf("PASS %s\n", name);
		if (verbose && expect_fail)
			printf("  (failed as expected: %s)\n", res.reason);
		tot->passed++;
	} else {
		printf("FAIL %s: %s\n", name, expect_fail ?
		    "expected a failure, replay succeeded" : res.reason);
		tot->failed++;
	}
}

static void
run_file(const char *path, struct totals *tot)
{
	json_error_t err;
	json_t *root, *vecs, *v;
	size_t i;

	if ((root = json_load_file(path, 0, &err)) == NULL) {
		printf("FAIL %s: %s:%d: %s\n", path, err.source, err.line, err.text);
		tot->failed++;
		return;
	}
	vecs = json_is_array(root) ? root : json_object_get(root, "vectors");
	if (!json_is_array(vecs)) {
		printf("FAIL %s: no \"vectors\" array\n", path);
		tot->failed++;
	} else {
		json_array_foreach(vecs, i, v)
			run_vector(v, i, tot);
	}
	json_decref(root);
}

int
main(int argc, char **argv)
{
	struct totals tot = { 0, 0, 0 };
	int i, first = 1;

	if (argc > 1 && strcmp(argv[1], "-v") == 0) {
		verbose = 1;
		first = 2;
	}
	if (argc <= first) {
		fprintf(stderr, "usage: noise-vectors [-v] FILE.json ...\n");
		return 2;
	}
	if (sodium_init() < 0) {
		fprintf(stderr, "noise-vectors: sodium_init failed\n");
		return 2;
	}
	for (i = first; i < argc; i++)
		run_file(argv[i], &tot);
	printf("%u passed, %u failed, %u skipped\n", tot.passed, tot.failed,
	    tot.skipped);
	return tot.failed > 0 ? 1 : 0;
}
