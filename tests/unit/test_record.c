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
	const uint8_t hs1[SC_HS1_PAYLOAD_LEN] = { 1, 0, 0, 0, 0x10, 0 };
	const uint8_t hs2[SC_HS2_PAYLOAD_LEN] = { 1, SC_HS2_F_OWNER };

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

static size_t
seal(struct sc_record_layer *rl, uint8_t type, const void *pl, size_t len,
    uint8_t *ct)
{
	struct sc_buf b;

	sc_buf_init(&b, ct, CT_CAP);
	assert_int_equal(sc_record_seal(rl, type, pl, len, &b), 0);
	assert_int_equal(b.len, 1 + len + SC_TAG_LEN);
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
		assert_int_equal(sc_record_seal(&p->h, SC_REC_CLOSE,
		    (const uint8_t *)"\002", 1, &b), 0);
		assert_int_equal(b.len, 1 + 1 + SC_TAG_LEN);
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
	for (bit = 0; bit < (1 + 4 + SC_TAG_LEN) * 8; bit++) {
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
	for (k = 0; k < 1 + 10 + SC_TAG_LEN; k++) {
		make_pair(p);
		n = seal(&p->c, SC_REC_DATA, "0123456789", 10, ct);
		assert_int_equal(n, 27);
		expect_killed(p, ct, k, k < 1 + SC_TAG_LEN ? SC_ERR_TRUNCATED :
		    SC_ERR_DECRYPT);
	}
	/* Extended by a byte. */
	make_pair(p);
	n = seal(&p->c, SC_REC_DATA, "0123456789", 10, ct);
	ct[n] = 0;
	expect_killed(p, ct, n + 1, SC_ERR_DECRYPT);
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
		uint8_t pt[2] = { SC_REC_REKEY, 0 };

		sc_buf_init(&b, ct[0], CT_CAP);
		assert_int_equal(sc_record_seal(&p->c, SC_REC_REKEY, (const uint8_t *)"x", 1, &b),
		    SC_ERR_INVAL);
		assert_false(p->c.dead);
		assert_int_equal(sc_noise_encrypt(&p->c.t, pt, 2, &b), 0);
		expect_killed(p, ct[0], b.len, SC_ERR_FORMAT);
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
	uint8_t ct[CT_CAP], pt[4];
	struct sc_buf b;
	size_t i;

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
		pt[0] = bad_types[i];
		pt[1] = 'x';
		assert_int_equal(sc_noise_encrypt(&p->c.t, pt, 2, &b), 0);
		expect_killed(p, ct, b.len, SC_ERR_TYPE);
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
	/* Not enough room in out: refused, nothing spent. */
	sc_buf_init(&b, ct, 1 + 10 + SC_TAG_LEN - 1);
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
	pl[0] = SC_REC_DATA;
	sc_buf_init(&b, ct, sizeof(ct));
	assert_int_equal(sc_noise_encrypt(&p->c.t, pl, SC_RECORD_PAYLOAD_MAX + 2, &b), 0);
	assert_int_equal(b.len, SC_RECORD_CT_MAX + 1);
	expect_killed(p, ct, b.len, SC_ERR_TOOLONG);
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
	};

	return cmocka_run_group_tests_name("record", tests, setup, NULL);
}
