/*
 * test_record.c — the record layer over a real Noise_IKpsk2 transport.
 *
 * Every test starts from a fresh handshake between two sc_noise_handshake
 * instances (client = initiator, hv = responder) with the SCCrypt prologue
 * and payloads, then drives the two record layers against each other.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>

#include "core/err.h"
#include "core/buf.h"
#include "core/crypto.h"
#include "core/noise.h"
#include "core/wire.h"
#include "core/record.h"

#define CT_CAP	(SC_RECORD_CT_MAX + 64)

static const struct sc_crypto *cp;

struct pair {
	struct sc_record_layer c;	/* client (initiator) */
	struct sc_record_layer h;	/* hv (responder) */
};

static int
setup(void **state)
{
	(void)state;
	if (sodium_init() < 0)
		return -1;
	cp = sc_crypto_sodium();
	return 0;
}

/* A complete IKpsk2 handshake as sccrypt-term and the hv run it. */
static void
make_pair(struct pair *p)
{
	const struct sc_noise_pattern *pat = sc_noise_pattern_lookup(SC_NOISE_PROTOCOL);
	struct sc_noise_handshake *hi = malloc(sizeof(*hi)), *hr = malloc(sizeof(*hr));
	struct sc_noise_transport ti, tr;
	uint8_t isk[32], ipk[32], rsk[32], rpk[32], psk[32], uuid[16];
	uint8_t prologue[SC_PROTOCOL_ID_LEN + 16 + 32];
	uint8_t m1[256], m2[256], pl[64];
	struct sc_buf b1, b2, pb;
	const uint8_t hs1[SC_HS1_PAYLOAD_LEN] = { SC_PROTOCOL_VERSION, 0, 0, 0,
	    0x10, 0 };
	const uint8_t hs2[SC_HS2_PAYLOAD_LEN] = { SC_PROTOCOL_VERSION, SC_HS2_F_OWNER };

	assert_non_null(pat);
	assert_int_equal(sc_x25519_keypair(cp, ipk, isk), 0);
	assert_int_equal(sc_x25519_keypair(cp, rpk, rsk), 0);
	randombytes_buf(psk, sizeof(psk));
	randombytes_buf(uuid, sizeof(uuid));
	memcpy(prologue, SC_PROTOCOL_ID, SC_PROTOCOL_ID_LEN);
	memcpy(prologue + SC_PROTOCOL_ID_LEN, uuid, 16);
	memcpy(prologue + SC_PROTOCOL_ID_LEN + 16, rpk, 32);

	assert_int_equal(sc_noise_hs_init(hi, cp, pat, true, prologue,
	    sizeof(prologue), isk, rpk, psk, 1), 0);
	assert_int_equal(sc_noise_hs_init(hr, cp, pat, false, prologue,
	    sizeof(prologue), rsk, NULL, psk, 1), 0);
	sc_buf_init(&b1, m1, sizeof(m1));
	assert_int_equal(sc_noise_hs_write(hi, hs1, sizeof(hs1), &b1), 0);
	assert_int_equal(b1.len, SC_HS1_MSG_LEN);
	sc_buf_init(&pb, pl, sizeof(pl));
	assert_int_equal(sc_noise_hs_read(hr, m1, b1.len, &pb), 0);
	assert_int_equal(pb.len, sizeof(hs1));
	assert_memory_equal(pl, hs1, sizeof(hs1));
	assert_memory_equal(sc_noise_hs_remote_static(hr), ipk, 32);
	sc_buf_init(&b2, m2, sizeof(m2));
	assert_int_equal(sc_noise_hs_write(hr, hs2, sizeof(hs2), &b2), 0);
	assert_int_equal(b2.len, SC_HS2_MSG_LEN);
	sc_buf_init(&pb, pl, sizeof(pl));
	assert_int_equal(sc_noise_hs_read(hi, m2, b2.len, &pb), 0);
	assert_true(sc_noise_hs_complete(hi));
	assert_true(sc_noise_hs_complete(hr));
	assert_int_equal(sc_noise_hs_split(hi, &ti), 0);
	assert_int_equal(sc_noise_hs_split(hr, &tr), 0);
	assert_memory_equal(ti.handshake_hash, tr.handshake_hash, SC_NOISE_HASHLEN);
	sc_record_init(&p->c, &ti);
	sc_record_init(&p->h, &tr);
	/* The transports were taken over and wiped. */
	assert_false(ti.send.has_key);
	assert_false(tr.recv.has_key);
	assert_false(p->c.dead);
	assert_false(p->h.dead);
	sodium_memzero(isk, 32);
	sodium_memzero(rsk, 32);
	sodium_memzero(psk, 32);
	free(hi);
	free(hr);
}

/*
 * The padded sizes, written out here rather than taken from the code under
 * test: the smallest of 64, 256, 1024, 4099 that holds type, length and
 * payload, plus the tag.
 */
static size_t
want_ct_len(size_t len)
{
	static const size_t pads[] = { 64, 256, 1024, 4099 };
	size_t i;

	for (i = 0; i < SC_NELEM(pads); i++)
		if (3 + len <= pads[i])
			return pads[i] + 16;
	return 0;
}

static bool
ct_len_allowed(size_t n)
{
	return n == 80 || n == 272 || n == 1040 || n == 4115;
}

static size_t
seal(struct sc_record_layer *rl, uint8_t type, const void *pl, size_t len,
    uint8_t *ct)
{
	struct sc_buf b;

	sc_buf_init(&b, ct, CT_CAP);
	assert_int_equal(sc_record_seal(rl, type, pl, len, &b), 0);
	assert_int_equal(b.len, want_ct_len(len));
	assert_true(ct_len_allowed(b.len));
	return b.len;
}

/*
 * Encrypt a hand-made plaintext type || length:u16 || payload || fill up to
 * ptlen bytes, as a peer that breaks the padding rules would (authentic:
 * it holds the key).  Returns the ciphertext length.
 */
static size_t
seal_raw(struct sc_record_layer *rl, uint8_t type, uint16_t lenfield,
    const void *pl, size_t n, size_t ptlen, uint8_t fill, uint8_t *ct)
{
	static uint8_t pt[SC_RECORD_PT_MAX + 64];
	struct sc_buf b;

	assert_true(ptlen <= sizeof(pt) && (ptlen == 0 || 3 + n <= ptlen));
	memset(pt, fill, sizeof(pt));
	if (ptlen > 0) {
		pt[0] = type;
		pt[1] = (uint8_t)(lenfield >> 8);
		pt[2] = (uint8_t)lenfield;
		if (n > 0)
			memcpy(pt + 3, pl, n);
	}
	sc_buf_init(&b, ct, CT_CAP + 64);
	assert_int_equal(sc_noise_encrypt(&rl->t, pt, ptlen, &b), 0);
	return b.len;
}

/* Open; on success check type and payload. */
static int
open_rec(struct sc_record_layer *rl, const uint8_t *ct, size_t len,
    uint8_t want_type, const void *want, size_t want_len)
{
	uint8_t out[SC_RECORD_PAYLOAD_MAX + 8];
	struct sc_buf b;
	uint8_t type = 0xee;
	int r;

	sc_buf_init(&b, out, sizeof(out));
	r = sc_record_open(rl, ct, len, &type, &b);
	if (r == 0) {
		assert_int_equal(type, want_type);
		assert_int_equal(b.len, want_len);
		assert_memory_equal(out, want, want_len);
	} else {
		/* No plaintext on failure. */
		assert_int_equal(b.len, 0);
		assert_int_equal(type, 0);
	}
	return r;
}

static void
test_roundtrip(void **state)
{
	struct pair *p = malloc(sizeof(*p));
	static uint8_t pl[SC_RECORD_PAYLOAD_MAX], ct[CT_CAP];
	static const size_t lens[] = { 0, 1, 2, 15, 16, 17, 255, 1024,
	    SC_RECORD_PAYLOAD_MAX };
	uint8_t type;
	size_t i, n;

	(void)state;
	randombytes_buf(pl, sizeof(pl));
	make_pair(p);
	for (type = SC_REC_DATA; type < SC_REC_REKEY; type++) {
		for (i = 0; i < SC_NELEM(lens); i++) {
			n = seal(&p->c, type, pl, lens[i], ct);
			assert_int_equal(open_rec(&p->h, ct, n, type, pl, lens[i]), 0);
			n = seal(&p->h, type, pl + 7, lens[i] > 7 ? lens[i] - 7 : 0, ct);
			assert_int_equal(open_rec(&p->c, ct, n, type, pl + 7,
			    lens[i] > 7 ? lens[i] - 7 : 0), 0);
		}
	}
	/* Many records in one direction before the other answers. */
	for (i = 0; i < 1000; i++) {
		n = seal(&p->c, SC_REC_DATA, pl, i % 50, ct);
		assert_int_equal(open_rec(&p->h, ct, n, SC_REC_DATA, pl, i % 50), 0);
	}
	assert_int_equal(p->c.t.send.n, p->h.t.recv.n);
	sc_record_wipe(&p->c);
	sc_record_wipe(&p->h);
	assert_true(p->c.dead);
	assert_false(p->c.t.send.has_key);
	{
		struct sc_buf b;

		sc_buf_init(&b, ct, CT_CAP);
		assert_int_equal(sc_record_seal(&p->c, SC_REC_DATA, pl, 1, &b), SC_ERR_STATE);
	}
	free(p);
}

/*
 * Expect ct to be rejected by a layer whose receive side is then dead for
 * good, while its send side can still deliver an authenticated CLOSE.
 */
static void
expect_killed(struct pair *p, const uint8_t *ct, size_t len, int want)
{
	uint8_t good[CT_CAP];
	size_t n;
	int r;

	r = open_rec(&p->h, ct, len, 0, NULL, 0);
	if (want != 0)
		assert_int_equal(r, want);
	else
		assert_true(r < 0);
	assert_true(p->h.recv_dead);
	assert_false(p->h.dead);
	/* Even a perfectly good next record is refused now. */
	n = seal(&p->c, SC_REC_DATA, "x", 1, good);
	assert_int_equal(open_rec(&p->h, good, n, SC_REC_DATA, "x", 1), SC_ERR_STATE);
	/* The detecting side can still seal a CLOSE saying why. */
	{
		struct sc_buf b;

		sc_buf_init(&b, good, CT_CAP);
		assert_int_equal(sc_record_seal_close(&p->h, SC_CLOSE_PROTOCOL,
		    "an input record failed authentication", &b), 0);
		assert_int_equal(b.len, SC_RECORD_CT_MIN);
	}
}

static void
test_bit_flip(void **state)
{
	struct pair *p = malloc(sizeof(*p));
	uint8_t ct[CT_CAP], bad[CT_CAP];
	size_t n, bit;

	(void)state;
	/* Every bit of a short record; each on a fresh session. */
	for (bit = 0; bit < SC_RECORD_CT_MIN * 8; bit++) {
		make_pair(p);
		/* A first good record, so the counter is not at zero. */
		n = seal(&p->c, SC_REC_DATA, "ab", 2, ct);
		assert_int_equal(open_rec(&p->h, ct, n, SC_REC_DATA, "ab", 2), 0);
		n = seal(&p->c, SC_REC_DATA, "data", 4, ct);
		memcpy(bad, ct, n);
		bad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		expect_killed(p, bad, n, SC_ERR_DECRYPT);
	}
	free(p);
}

static void
test_replay_drop_reorder(void **state)
{
	struct pair *p = malloc(sizeof(*p));
	uint8_t c1[CT_CAP], c2[CT_CAP], c3[CT_CAP];
	size_t n1, n2, n3;

	(void)state;
	/* Replay: the same record twice. */
	make_pair(p);
	n1 = seal(&p->c, SC_REC_DATA, "one", 3, c1);
	assert_int_equal(open_rec(&p->h, c1, n1, SC_REC_DATA, "one", 3), 0);
	expect_killed(p, c1, n1, SC_ERR_DECRYPT);

	/* Replay of a record from an earlier session into a new one. */
	make_pair(p);
	expect_killed(p, c1, n1, SC_ERR_DECRYPT);

	/* Drop: record 1 never arrives. */
	make_pair(p);
	n1 = seal(&p->c, SC_REC_DATA, "one", 3, c1);
	n2 = seal(&p->c, SC_REC_DATA, "two", 3, c2);
	(void)n1;
	expect_killed(p, c2, n2, SC_ERR_DECRYPT);

	/* Reorder: 1, 3, 2. */
	make_pair(p);
	n1 = seal(&p->c, SC_REC_DATA, "one", 3, c1);
	n2 = seal(&p->c, SC_REC_DATA, "two", 3, c2);
	n3 = seal(&p->c, SC_REC_DATA, "three", 5, c3);
	assert_int_equal(open_rec(&p->h, c1, n1, SC_REC_DATA, "one", 3), 0);
	expect_killed(p, c3, n3, SC_ERR_DECRYPT);
	assert_int_equal(open_rec(&p->h, c2, n2, SC_REC_DATA, "two", 3), SC_ERR_STATE);

	/* Reflection: a record sent back to its sender. */
	make_pair(p);
	n1 = seal(&p->h, SC_REC_DATA, "one", 3, c1);
	expect_killed(p, c1, n1, SC_ERR_DECRYPT);
	free(p);
}

static void
test_truncate(void **state)
{
	struct pair *p = malloc(sizeof(*p));
	uint8_t ct[CT_CAP];
	size_t n, k;

	(void)state;
	for (k = 0; k < SC_RECORD_CT_MIN; k++) {
		make_pair(p);
		n = seal(&p->c, SC_REC_DATA, "0123456789", 10, ct);
		assert_int_equal(n, 80);
		expect_killed(p, ct, k, SC_ERR_TRUNCATED);
	}
	/* Extended by a byte: not a padded size. */
	make_pair(p);
	n = seal(&p->c, SC_REC_DATA, "0123456789", 10, ct);
	ct[n] = 0;
	expect_killed(p, ct, n + 1, SC_ERR_FORMAT);
	/* A 272-byte record cut to another padded size fails authentication. */
	{
		static uint8_t big[200];

		make_pair(p);
		n = seal(&p->c, SC_REC_DATA, big, sizeof(big), ct);
		assert_int_equal(n, 272);
		expect_killed(p, ct, 80, SC_ERR_DECRYPT);
		make_pair(p);
		n = seal(&p->c, SC_REC_DATA, big, sizeof(big), ct);
		expect_killed(p, ct, 271, SC_ERR_FORMAT);
	}
	free(p);
}

static void
test_rekey(void **state)
{
	struct pair *p = malloc(sizeof(*p));
	uint8_t ct[4][CT_CAP], k_before[32];
	size_t n[4];
	uint64_t nc;

	(void)state;
	make_pair(p);
	memcpy(k_before, p->c.t.send.k, 32);
	n[0] = seal(&p->c, SC_REC_DATA, "before", 6, ct[0]);
	n[1] = seal(&p->c, SC_REC_REKEY, NULL, 0, ct[1]);
	nc = p->c.t.send.n;
	assert_memory_not_equal(p->c.t.send.k, k_before, 32);
	assert_int_equal(nc, 2);	/* rekey does not reset the counter */
	n[2] = seal(&p->c, SC_REC_DATA, "after", 5, ct[2]);
	assert_int_equal(p->c.stats.rekeys_sent, 1);
	assert_int_equal(p->c.since_rekey_send, 1);

	/* A receiver that skipped the REKEY (a copy) can no longer follow. */
	{
		struct sc_record_layer *copy = malloc(sizeof(*copy));

		memcpy(copy, &p->h, sizeof(*copy));
		assert_int_equal(open_rec(copy, ct[0], n[0], SC_REC_DATA, "before", 6), 0);
		/* Pretend the REKEY was consumed without rekeying. */
		copy->t.recv.n++;
		assert_int_equal(open_rec(copy, ct[2], n[2], SC_REC_DATA, "after", 5),
		    SC_ERR_DECRYPT);
		sc_record_wipe(copy);
		free(copy);
	}
	assert_int_equal(open_rec(&p->h, ct[0], n[0], SC_REC_DATA, "before", 6), 0);
	assert_int_equal(open_rec(&p->h, ct[1], n[1], SC_REC_REKEY, "", 0), 0);
	assert_int_equal(p->h.stats.rekeys_recv, 1);
	assert_memory_equal(p->h.t.recv.k, p->c.t.send.k, 32);
	assert_int_equal(open_rec(&p->h, ct[2], n[2], SC_REC_DATA, "after", 5), 0);
	/* The other direction is unaffected, and rekeys on its own. */
	n[3] = seal(&p->h, SC_REC_DATA, "reply", 5, ct[3]);
	assert_int_equal(open_rec(&p->c, ct[3], n[3], SC_REC_DATA, "reply", 5), 0);
	n[3] = seal(&p->h, SC_REC_REKEY, NULL, 0, ct[3]);
	assert_int_equal(open_rec(&p->c, ct[3], n[3], SC_REC_REKEY, "", 0), 0);
	n[3] = seal(&p->h, SC_REC_DATA, "reply2", 6, ct[3]);
	assert_int_equal(open_rec(&p->c, ct[3], n[3], SC_REC_DATA, "reply2", 6), 0);

	/* A REKEY with a payload is refused by seal and kills open. */
	{
		struct sc_buf b;
		size_t m;

		sc_buf_init(&b, ct[0], CT_CAP);
		assert_int_equal(sc_record_seal(&p->c, SC_REC_REKEY, (const uint8_t *)"x", 1, &b),
		    SC_ERR_INVAL);
		assert_false(p->c.dead);
		m = seal_raw(&p->c, SC_REC_REKEY, 1, "x", 1, 64, 0, ct[0]);
		expect_killed(p, ct[0], m, SC_ERR_FORMAT);
	}
	free(p);
}

static void
test_need_rekey(void **state)
{
	struct pair *p = malloc(sizeof(*p));
	uint8_t ct[CT_CAP];
	size_t n;

	(void)state;
	make_pair(p);
	assert_false(sc_record_need_rekey(&p->c));
	/* Jump ahead instead of sealing 2^32 records. */
	p->c.since_rekey_send = SC_REKEY_AFTER_RECORDS - 1;
	assert_false(sc_record_need_rekey(&p->c));
	n = seal(&p->c, SC_REC_DATA, "x", 1, ct);
	assert_int_equal(open_rec(&p->h, ct, n, SC_REC_DATA, "x", 1), 0);
	assert_true(sc_record_need_rekey(&p->c));
	assert_false(sc_record_need_rekey(&p->h));
	n = seal(&p->c, SC_REC_REKEY, NULL, 0, ct);
	assert_false(sc_record_need_rekey(&p->c));
	assert_int_equal(open_rec(&p->h, ct, n, SC_REC_REKEY, "", 0), 0);
	n = seal(&p->c, SC_REC_DATA, "y", 1, ct);
	assert_int_equal(open_rec(&p->h, ct, n, SC_REC_DATA, "y", 1), 0);
	free(p);
}

static void
test_nonce_exhaustion(void **state)
{
	struct pair *p = malloc(sizeof(*p));
	uint8_t ct[CT_CAP];
	struct sc_buf b;

	(void)state;
	make_pair(p);
	p->c.t.send.n = UINT64_MAX - 1;	/* the last usable nonce */
	sc_buf_init(&b, ct, CT_CAP);
	assert_int_equal(sc_record_seal(&p->c, SC_REC_DATA, (const uint8_t *)"x", 1, &b), 0);
	sc_buf_init(&b, ct, CT_CAP);
	assert_int_equal(sc_record_seal(&p->c, SC_REC_DATA, (const uint8_t *)"x", 1, &b), SC_ERR_NONCE);
	assert_int_equal(b.len, 0);
	assert_true(p->c.dead);
	assert_int_equal(sc_record_seal(&p->c, SC_REC_REKEY, NULL, 0, &b), SC_ERR_STATE);
	free(p);
}

static void
test_unknown_type(void **state)
{
	struct pair *p = malloc(sizeof(*p));
	static const uint8_t bad_types[] = { 0x00, SC_REC_REKEY + 1, 0x7f, 0xff };
	uint8_t ct[CT_CAP + 64];
	struct sc_buf b;
	size_t i, n;

	(void)state;
	for (i = 0; i < SC_NELEM(bad_types); i++) {
		make_pair(p);
		/* seal refuses, and the layer stays usable. */
		sc_buf_init(&b, ct, CT_CAP);
		assert_int_equal(sc_record_seal(&p->c, bad_types[i], (const uint8_t *)"x", 1, &b),
		    SC_ERR_TYPE);
		assert_int_equal(b.len, 0);
		assert_false(p->c.dead);
		/* A peer that sends one anyway (authentic, but unknown). */
		n = seal_raw(&p->c, bad_types[i], 1, "x", 1, 64, 0, ct);
		expect_killed(p, ct, n, SC_ERR_TYPE);
	}
	/* An empty plaintext (no type byte at all). */
	make_pair(p);
	sc_buf_init(&b, ct, CT_CAP);
	assert_int_equal(sc_noise_encrypt(&p->c.t, NULL, 0, &b), 0);
	expect_killed(p, ct, b.len, SC_ERR_TRUNCATED);
	free(p);
}

static void
test_oversize(void **state)
{
	struct pair *p = malloc(sizeof(*p));
	static uint8_t pl[SC_RECORD_PAYLOAD_MAX + 2], ct[CT_CAP + 16];
	uint8_t small[8];
	struct sc_buf b, o;
	uint8_t type;
	size_t n;

	(void)state;
	make_pair(p);
	sc_buf_init(&b, ct, sizeof(ct));
	assert_int_equal(sc_record_seal(&p->c, SC_REC_DATA, pl,
	    SC_RECORD_PAYLOAD_MAX + 1, &b), SC_ERR_TOOLONG);
	assert_false(p->c.dead);
	/* Not enough room in out (for the padded size): refused, nothing spent. */
	sc_buf_init(&b, ct, SC_RECORD_CT_MIN - 1);
	assert_int_equal(sc_record_seal(&p->c, SC_REC_DATA, pl, 10, &b), SC_ERR_NOSPACE);
	assert_int_equal(p->c.t.send.n, 0);
	assert_false(p->c.dead);
	/* Payload buffer too small on open: refused before decrypting, retry works. */
	n = seal(&p->c, SC_REC_DATA, pl, 10, ct);
	sc_buf_init(&o, small, sizeof(small));
	assert_int_equal(sc_record_open(&p->h, ct, n, &type, &o), SC_ERR_NOSPACE);
	assert_false(p->h.dead);
	assert_int_equal(open_rec(&p->h, ct, n, SC_REC_DATA, pl, 10), 0);
	/* An authentic record one byte over the limit kills the receiver. */
	n = seal_raw(&p->c, SC_REC_DATA, SC_RECORD_PAYLOAD_MAX + 1, pl,
	    SC_RECORD_PAYLOAD_MAX + 1, SC_RECORD_PT_MAX + 1, 0, ct);
	assert_int_equal(n, SC_RECORD_CT_MAX + 1);
	expect_killed(p, ct, n, SC_ERR_TOOLONG);
	free(p);
}

static void
test_stats(void **state)
{
	struct pair *p = malloc(sizeof(*p));
	uint8_t ct[CT_CAP], pl[100] = { 0 };
	size_t n;
	int i;

	(void)state;
	make_pair(p);
	for (i = 0; i < 10; i++) {
		n = seal(&p->c, SC_REC_DATA, pl, 10 * (size_t)i, ct);
		assert_int_equal(open_rec(&p->h, ct, n, SC_REC_DATA, pl, 10 * (size_t)i), 0);
	}
	n = seal(&p->c, SC_REC_REKEY, NULL, 0, ct);
	assert_int_equal(open_rec(&p->h, ct, n, SC_REC_REKEY, "", 0), 0);
	n = seal(&p->h, SC_REC_PING, "abc", 3, ct);
	assert_int_equal(open_rec(&p->c, ct, n, SC_REC_PING, "abc", 3), 0);

	assert_int_equal(p->c.stats.records_sent, 11);
	assert_int_equal(p->c.stats.bytes_sent, 450);
	assert_int_equal(p->c.stats.rekeys_sent, 1);
	assert_int_equal(p->c.stats.records_recv, 1);
	assert_int_equal(p->c.stats.bytes_recv, 3);
	assert_int_equal(p->c.stats.rekeys_recv, 0);
	assert_int_equal(p->h.stats.records_recv, 11);
	assert_int_equal(p->h.stats.bytes_recv, 450);
	assert_int_equal(p->h.stats.rekeys_recv, 1);
	assert_int_equal(p->h.stats.records_sent, 1);
	assert_int_equal(p->h.stats.bytes_sent, 3);
	assert_int_equal(p->c.since_rekey_send, 0);
	assert_int_equal(p->h.since_rekey_send, 1);
	/* Failures do not count. */
	ct[0] ^= 1;
	n = seal(&p->c, SC_REC_DATA, "z", 1, ct);
	ct[3] ^= 1;
	assert_int_equal(open_rec(&p->h, ct, n, 0, NULL, 0), SC_ERR_DECRYPT);
	assert_int_equal(p->h.stats.records_recv, 11);
	free(p);
}

/* Every payload length gives one of the four ciphertext sizes. */
static void
test_padding_sizes(void **state)
{
	struct pair *p = malloc(sizeof(*p));
	static uint8_t pl[SC_RECORD_PAYLOAD_MAX], ct[CT_CAP];
	static const size_t edges[] = { 0, 1, 61, 62, 253, 254, 1021, 1022,
	    4095, SC_RECORD_PAYLOAD_MAX };
	size_t len, i, n, seen[4] = { 0 };

	(void)state;
	for (len = 0; len <= SC_RECORD_PAYLOAD_MAX; len++) {
		n = sc_record_ct_len(len);
		assert_int_equal(n, want_ct_len(len));
		assert_true(ct_len_allowed(n));
		seen[n == 80 ? 0 : n == 272 ? 1 : n == 1040 ? 2 : 3]++;
	}
	/* 62 + 192 + 768 + 3075 lengths in the four buckets. */
	assert_int_equal(seen[0], 62);
	assert_int_equal(seen[1], 192);
	assert_int_equal(seen[2], 768);
	assert_int_equal(seen[3], 3075);
	assert_int_equal(sc_record_ct_len(SC_RECORD_PAYLOAD_MAX + 1), 0);
	/* One keystroke and a screenful of text look alike within a bucket. */
	randombytes_buf(pl, sizeof(pl));
	make_pair(p);
	for (i = 0; i < SC_NELEM(edges); i++) {
		n = seal(&p->c, SC_REC_DATA, pl, edges[i], ct);
		assert_int_equal(open_rec(&p->h, ct, n, SC_REC_DATA, pl, edges[i]), 0);
	}
	free(p);
}

/* The receiver accepts only the canonical padding. */
static void
test_padding_strict(void **state)
{
	struct pair *p = malloc(sizeof(*p));
	static uint8_t ct[CT_CAP + 64];
	size_t n;

	(void)state;
	/* The canonical form, hand-made, is accepted (the helper is right). */
	make_pair(p);
	n = seal_raw(&p->c, SC_REC_DATA, 2, "hi", 2, 64, 0, ct);
	assert_int_equal(open_rec(&p->h, ct, n, SC_REC_DATA, "hi", 2), 0);
	/* A larger bucket than needed. */
	make_pair(p);
	n = seal_raw(&p->c, SC_REC_DATA, 2, "hi", 2, 256, 0, ct);
	expect_killed(p, ct, n, SC_ERR_FORMAT);
	/* Padding that is not zero. */
	make_pair(p);
	n = seal_raw(&p->c, SC_REC_DATA, 2, "hi", 2, 64, 0x01, ct);
	expect_killed(p, ct, n, SC_ERR_FORMAT);
	/* A length field beyond the plaintext. */
	make_pair(p);
	n = seal_raw(&p->c, SC_REC_DATA, 200, "hi", 2, 64, 0, ct);
	expect_killed(p, ct, n, SC_ERR_FORMAT);
	/* 62 payload bytes need the 256 size: 64 cannot hold them. */
	make_pair(p);
	n = seal_raw(&p->c, SC_REC_DATA, 62, "hi", 2, 64, 0, ct);
	expect_killed(p, ct, n, SC_ERR_FORMAT);
	/* A plaintext length that is not a padded size, though authentic. */
	make_pair(p);
	n = seal_raw(&p->c, SC_REC_DATA, 2, "hi", 2, 100, 0, ct);
	expect_killed(p, ct, n, SC_ERR_FORMAT);
	make_pair(p);
	n = seal_raw(&p->c, SC_REC_DATA, 2, "hi", 2, 5, 0, ct);
	expect_killed(p, ct, n, SC_ERR_TRUNCATED);
	free(p);
}

/* CLOSE carries the record counts both ways; the parser checks them. */
static void
test_close_counts(void **state)
{
	struct pair *p = malloc(sizeof(*p));
	uint8_t ct[CT_CAP], out[SC_RECORD_PAYLOAD_MAX];
	struct sc_record_close c;
	struct sc_buf b;
	uint8_t type;
	size_t n;
	int i;

	(void)state;
	make_pair(p);
	for (i = 0; i < 3; i++) {
		n = seal(&p->c, SC_REC_DATA, "k", 1, ct);
		assert_int_equal(open_rec(&p->h, ct, n, SC_REC_DATA, "k", 1), 0);
	}
	for (i = 0; i < 2; i++) {
		n = seal(&p->h, SC_REC_DATA, "out", 3, ct);
		assert_int_equal(open_rec(&p->c, ct, n, SC_REC_DATA, "out", 3), 0);
	}
	/* The client's CLOSE: sent 3, received 2; a long text is cut. */
	sc_buf_init(&b, ct, CT_CAP);
	assert_int_equal(sc_record_seal_close(&p->c, SC_CLOSE_NORMAL,
	    "a text that is much longer than forty bytes, cut", &b), 0);
	assert_int_equal(b.len, SC_RECORD_CT_MIN);	/* always the smallest size */
	n = b.len;
	sc_buf_init(&b, out, sizeof(out));
	assert_int_equal(sc_record_open(&p->h, ct, n, &type, &b), 0);
	assert_int_equal(type, SC_REC_CLOSE);
	assert_int_equal(b.len, SC_CLOSE_FIXED_LEN + 1 + SC_CLOSE_TEXT_MAX);
	assert_int_equal(sc_record_close_parse(&p->h, out, b.len, &c), 0);
	assert_int_equal(c.reason, SC_CLOSE_NORMAL);
	assert_int_equal(c.sent, 3);
	assert_int_equal(c.recv, 2);
	assert_int_equal(c.text_len, SC_CLOSE_TEXT_MAX);
	assert_memory_equal(c.text, "a text that is much longer than forty by", 40);
	/* The hv's answer: sent 2, received 4 = every client record. */
	sc_buf_init(&b, ct, CT_CAP);
	assert_int_equal(sc_record_seal_close(&p->h, SC_CLOSE_NORMAL, "bye", &b), 0);
	n = b.len;
	sc_buf_init(&b, out, sizeof(out));
	assert_int_equal(sc_record_open(&p->c, ct, n, &type, &b), 0);
	assert_int_equal(sc_record_close_parse(&p->c, out, b.len, &c), 0);
	assert_int_equal(c.sent, 2);
	assert_int_equal(c.recv, 4);
	assert_int_equal(c.recv, p->c.stats.records_sent);
	assert_int_equal(c.text_len, 3);

	/* Hand-made CLOSE payloads: counts that cannot be, bad layouts. */
	{
		static const struct {
			uint8_t	pl[64];
			size_t	len;
			int	want;
		} bad[] = {
			/* sent 1, but 0 records came before it */
			{ { 0, 0,0,0,0,0,0,0,1, 0,0,0,0,0,0,0,0, 0 }, 18, SC_ERR_MISMATCH },
			/* recv 9 of the 0 records sent to it */
			{ { 0, 0,0,0,0,0,0,0,0, 0,0,0,0,0,0,0,9, 0 }, 18, SC_ERR_MISMATCH },
			/* a byte after the text */
			{ { 0, 0,0,0,0,0,0,0,0, 0,0,0,0,0,0,0,0, 0, 'x' }, 19, SC_ERR_FORMAT },
			/* the v1 layout: reason and text only */
			{ { 0, 0 }, 2, SC_ERR_TRUNCATED },
			/* a text longer than SC_CLOSE_TEXT_MAX */
			{ { 0, 0,0,0,0,0,0,0,0, 0,0,0,0,0,0,0,0, 41 }, 18 + 41, SC_ERR_TOOLONG },
		};
		size_t k;

		for (k = 0; k < SC_NELEM(bad); k++) {
			make_pair(p);
			n = seal(&p->c, SC_REC_CLOSE, bad[k].pl, bad[k].len, ct);
			sc_buf_init(&b, out, sizeof(out));
			assert_int_equal(sc_record_open(&p->h, ct, n, &type, &b), 0);
			assert_int_equal(sc_record_close_parse(&p->h, out, b.len, &c),
			    bad[k].want);
		}
		/* The same layout with consistent counts passes. */
		make_pair(p);
		{
			uint8_t z[18] = { 0 };

			n = seal(&p->c, SC_REC_CLOSE, z, sizeof(z), ct);
			sc_buf_init(&b, out, sizeof(out));
			assert_int_equal(sc_record_open(&p->h, ct, n, &type, &b), 0);
			assert_int_equal(sc_record_close_parse(&p->h, out, b.len, &c), 0);
		}
	}
	free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_bit_flip),
		cmocka_unit_test(test_replay_drop_reorder),
		cmocka_unit_test(test_truncate),
		cmocka_unit_test(test_rekey),
		cmocka_unit_test(test_need_rekey),
		cmocka_unit_test(test_nonce_exhaustion),
		cmocka_unit_test(test_unknown_type),
		cmocka_unit_test(test_oversize),
		cmocka_unit_test(test_stats),
		cmocka_unit_test(test_padding_sizes),
		cmocka_unit_test(test_padding_strict),
		cmocka_unit_test(test_close_counts),
	};

	return cmocka_run_group_tests_name("record", tests, setup, NULL);
}
