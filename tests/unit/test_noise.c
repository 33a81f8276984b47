/*
 * test_noise.c — the Noise engine (lib/core/noise.c) as SCCrypt uses it:
 * Noise_IKpsk2_25519_ChaChaPoly_BLAKE2b through the libsodium provider with
 * the SCCrypt prologue (core/wire.h), and every way it must refuse to work.
 * Interoperability with other implementations is tests/noise-vectors.sh.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>

#include "core/err.h"
#include "core/buf.h"
#include "core/crypto.h"
#include "core/noise.h"
#include "core/wire.h"

#define PROLOGUE_LEN	(SC_PROTOCOL_ID_LEN + SC_UUID_LEN + SC_KEY_LEN)
#define BIG		(SC_NOISE_MSG_MAX + 64)

struct fixture {
	const struct sc_crypto *cp;
	const struct sc_noise_pattern *pat;
	uint8_t	 client_sk[32], client_pk[32];	/* initiator: the user's key */
	uint8_t	 hv_sk[32], hv_pk[32];		/* responder: the hypervisor */
	uint8_t	 psk[SC_PSK_LEN];		/* the VM secret */
	uint8_t	 prologue[PROLOGUE_LEN];
	uint8_t	 hs1[SC_HS1_PAYLOAD_LEN], hs2[SC_HS2_PAYLOAD_LEN];
	/* state of the current run */
	struct sc_noise_handshake ini, resp;
	struct sc_noise_transport ti, tr;
	uint8_t	 msg1[BIG], msg2[BIG];
	size_t	 msg1_len, msg2_len;
};

/*
 * X25519 points of small order (and their encodings with bit 255 set, which
 * X25519 ignores): 0, 1, the two points of order 8, p-1, p, p+1.
 */
static const uint8_t low_order[][32] = {
	{ 0 },
	{ 1 },
	{ 0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3, 0xfa,
	  0xf1, 0x9f, 0xc4, 0x6a, 0xda, 0x09, 0x8d, 0xeb, 0x9c, 0x32, 0xb1, 0xfd,
	  0x86, 0x62, 0x05, 0x16, 0x5f, 0x49, 0xb8, 0x00 },
	{ 0x5f, 0x9c, 0x95, 0xbc, 0xa3, 0x50, 0x8c, 0x24, 0xb1, 0xd0, 0xb1, 0x55,
	  0x9c, 0x83, 0xef, 0x5b, 0x04, 0x44, 0x5c, 0xc4, 0x58, 0x1c, 0x8e, 0x86,
	  0xd8, 0x22, 0x4e, 0xdd, 0xd0, 0x9f, 0x11, 0x57 },
	{ 0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f },
	{ 0xed, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f },
	{ 0xee, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f },
};
#define NLOW	(2 * (sizeof(low_order) / sizeof(low_order[0])))

/* Point i of the 14: the list above, then the same with bit 255 set. */
static void
low_point(size_t i, uint8_t out[32])
{
	size_t n = sizeof(low_order) / sizeof(low_order[0]);

	memcpy(out, low_order[i % n], 32);
	if (i >= n)
		out[31] |= 0x80;
}

static int
setup(void **state)
{
	static struct fixture f;
	uint8_t uuid[SC_UUID_LEN];

	if (sodium_init() < 0)
		return -1;
	memset(&f, 0, sizeof(f));
	f.cp = sc_crypto_sodium();
	f.pat = sc_noise_pattern_lookup(SC_NOISE_PROTOCOL);
	if (f.pat == NULL ||
	    sc_x25519_keypair(f.cp, f.client_pk, f.client_sk) != 0 ||
	    sc_x25519_keypair(f.cp, f.hv_pk, f.hv_sk) != 0)
		return -1;
	randombytes_buf(f.psk, sizeof(f.psk));
	randombytes_buf(uuid, sizeof(uuid));
	/* prologue = SC_PROTOCOL_ID || uuid[16] || hv_pubkey[32] */
	memcpy(f.prologue, SC_PROTOCOL_ID, SC_PROTOCOL_ID_LEN);
	memcpy(f.prologue + SC_PROTOCOL_ID_LEN, uuid, SC_UUID_LEN);
	memcpy(f.prologue + SC_PROTOCOL_ID_LEN + SC_UUID_LEN, f.hv_pk, SC_KEY_LEN);
	/* version flags history_wanted / version flags history_kept lost_bytes */
	memcpy(f.hs1, "\x01\x02\x00\x01\x00\x00", SC_HS1_PAYLOAD_LEN);
	memcpy(f.hs2, "\x01\x01\x00\x00\x80\x00\x00\x00\x00\x00\x00\x00\x00\x2a",
	    SC_HS2_PAYLOAD_LEN);
	*state = &f;
	return 0;
}

/* Initialise both sides; NULL arguments mean "the right value". */
static void
init_pair(struct fixture *f, const uint8_t *ini_prologue, const uint8_t *ini_psk,
    const uint8_t *ini_rs)
{
	assert_int_equal(sc_noise_hs_init(&f->ini, f->cp, f->pat, true,
	    ini_prologue ? ini_prologue : f->prologue, PROLOGUE_LEN, f->client_sk,
	    ini_rs ? ini_rs : f->hv_pk, ini_psk ? ini_psk : f->psk, 1), 0);
	assert_int_equal(sc_noise_hs_init(&f->resp, f->cp, f->pat, false,
	    f->prologue, PROLOGUE_LEN, f->hv_sk, NULL, f->psk, 1), 0);
	assert_true(sc_noise_hs_my_turn(&f->ini));
	assert_false(sc_noise_hs_my_turn(&f->resp));
}

static void
write_msg1(struct fixture *f)
{
	struct sc_buf b;

	sc_buf_init(&b, f->msg1, sizeof(f->msg1));
	assert_int_equal(sc_noise_hs_write(&f->ini, f->hs1, sizeof(f->hs1), &b), 0);
	f->msg1_len = b.len;
	assert_int_equal(f->msg1_len, SC_HS1_MSG_LEN);
}

static int
read_msg1(struct fixture *f, const uint8_t *m, size_t len)
{
	uint8_t pl[BIG];
	struct sc_buf b;
	int r;

	sc_buf_init(&b, pl, sizeof(pl));
	if ((r = sc_noise_hs_read(&f->resp, m, len, &b)) != 0) {
		assert_int_equal(b.len, 0);	/* nothing appended on failure */
		return r;
	}
	assert_int_equal(b.len, sizeof(f->hs1));
	assert_memory_equal(pl, f->hs1, sizeof(f->hs1));
	return 0;
}

static void
write_msg2(struct fixture *f)
{
	struct sc_buf b;

	sc_buf_init(&b, f->msg2, sizeof(f->msg2));
	assert_int_equal(sc_noise_hs_write(&f->resp, f->hs2, sizeof(f->hs2), &b), 0);
	f->msg2_len = b.len;
	assert_int_equal(f->msg2_len, SC_HS2_MSG_LEN);
}

static int
read_msg2(struct fixture *f, const uint8_t *m, size_t len)
{
	uint8_t pl[BIG];
	struct sc_buf b;
	int r;

	sc_buf_init(&b, pl, sizeof(pl));
	if ((r = sc_noise_hs_read(&f->ini, m, len, &b)) != 0) {
		assert_int_equal(b.len, 0);
		return r;
	}
	assert_int_equal(b.len, sizeof(f->hs2));
	assert_memory_equal(pl, f->hs2, sizeof(f->hs2));
	return 0;
}

/* A full good handshake, split into f->ti / f->tr. */
static void
handshake(struct fixture *f)
{
	init_pair(f, NULL, NULL, NULL);
	write_msg1(f);
	assert_int_equal(read_msg1(f, f->msg1, f->msg1_len), 0);
	write_msg2(f);
	assert_int_equal(read_msg2(f, f->msg2, f->msg2_len), 0);
	assert_true(sc_noise_hs_complete(&f->ini));
	assert_true(sc_noise_hs_complete(&f->resp));
	assert_int_equal(sc_noise_hs_split(&f->ini, &f->ti), 0);
	assert_int_equal(sc_noise_hs_split(&f->resp, &f->tr), 0);
}

/* A poisoned handshake refuses everything. */
static void
assert_poisoned(struct sc_noise_handshake *hs)
{
	uint8_t mem[BIG], msg[SC_HS2_MSG_LEN] = { 0 };
	struct sc_noise_transport t;
	struct sc_buf b;

	sc_buf_init(&b, mem, sizeof(mem));
	assert_true(hs->failed);
	assert_false(sc_noise_hs_my_turn(hs));
	assert_false(sc_noise_hs_complete(hs));
	assert_int_equal(sc_noise_hs_write(hs, NULL, 0, &b), SC_ERR_STATE);
	assert_int_equal(sc_noise_hs_read(hs, msg, sizeof(msg), &b), SC_ERR_STATE);
	assert_int_equal(sc_noise_hs_split(hs, &t), SC_ERR_STATE);
	assert_int_equal(b.len, 0);
	/* The secrets are gone. */
	assert_true(sodium_is_zero(hs->ss.ck, sizeof(hs->ss.ck)));
	assert_true(sodium_is_zero(hs->ss.cs.k, sizeof(hs->ss.cs.k)));
	assert_true(sodium_is_zero(hs->s_sk, sizeof(hs->s_sk)));
	assert_true(sodium_is_zero(hs->e_sk, sizeof(hs->e_sk)));
	assert_true(sodium_is_zero((const uint8_t *)hs->psks, sizeof(hs->psks)));
}

static int
xfer(struct sc_noise_transport *from, struct sc_noise_transport *to,
    const void *msg, size_t len)
{
	uint8_t ct[BIG], pt[BIG];
	struct sc_buf cb, pb;
	int r;

	sc_buf_init(&cb, ct, sizeof(ct));
	sc_buf_init(&pb, pt, sizeof(pt));
	if ((r = sc_noise_encrypt(from, msg, len, &cb)) != 0)
		return r;
	assert_int_equal(cb.len, len + SC_NOISE_TAGLEN);
	if ((r = sc_noise_decrypt(to, ct, cb.len, &pb)) != 0)
		return r;
	assert_int_equal(pb.len, len);
	assert_memory_equal(pt, msg, len);
	return 0;
}

/* ---- the good path ---- */

static void
test_lookup(void **state)
{
	(void)state;
	assert_non_null(sc_noise_pattern_lookup("Noise_IKpsk2_25519_ChaChaPoly_BLAKE2b"));
	assert_non_null(sc_noise_pattern_lookup("Noise_IK_25519_ChaChaPoly_BLAKE2b"));
	assert_non_null(sc_noise_pattern_lookup("Noise_XXpsk0+psk3_25519_ChaChaPoly_BLAKE2b"));
	assert_int_equal(sc_noise_pattern_psks(
	    sc_noise_pattern_lookup("Noise_NNpsk0+psk1+psk2_25519_ChaChaPoly_BLAKE2b")), 3);
	assert_int_equal(sc_noise_pattern_needs(
	    sc_noise_pattern_lookup(SC_NOISE_PROTOCOL)),
	    SC_NOISE_NEED_INIT_S | SC_NOISE_NEED_RESP_S | SC_NOISE_NEED_INIT_RS);
	/* Other primitives, unknown patterns and modifiers, non-canonical psk
	 * order (it would change the hashed name), psk positions past the last
	 * message, garbage. */
	assert_null(sc_noise_pattern_lookup("Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s"));
	assert_null(sc_noise_pattern_lookup("Noise_IKpsk2_448_ChaChaPoly_BLAKE2b"));
	assert_null(sc_noise_pattern_lookup("Noise_IKpsk2_25519_AESGCM_BLAKE2b"));
	assert_null(sc_noise_pattern_lookup("Noise_IKpsk2_25519_ChaChaPoly_BLAKE2bX"));
	assert_null(sc_noise_pattern_lookup("Noise_QQ_25519_ChaChaPoly_BLAKE2b"));
	assert_null(sc_noise_pattern_lookup("Noise_XXfallback_25519_ChaChaPoly_BLAKE2b"));
	assert_null(sc_noise_pattern_lookup("Noise_NNpsk2+psk0_25519_ChaChaPoly_BLAKE2b"));
	assert_null(sc_noise_pattern_lookup("Noise_NNpsk0+psk0_25519_ChaChaPoly_BLAKE2b"));
	assert_null(sc_noise_pattern_lookup("Noise_NNpsk3_25519_ChaChaPoly_BLAKE2b"));
	assert_null(sc_noise_pattern_lookup("Noise_Npsk2_25519_ChaChaPoly_BLAKE2b"));
	assert_null(sc_noise_pattern_lookup("Noise_NNpsk_25519_ChaChaPoly_BLAKE2b"));
	assert_null(sc_noise_pattern_lookup("Noise_NNpsk0psk1_25519_ChaChaPoly_BLAKE2b"));
	assert_null(sc_noise_pattern_lookup("Noise_NNpsk0+_25519_ChaChaPoly_BLAKE2b"));
	assert_null(sc_noise_pattern_lookup("Noise__25519_ChaChaPoly_BLAKE2b"));
	assert_null(sc_noise_pattern_lookup("noise_IK_25519_ChaChaPoly_BLAKE2b"));
	assert_null(sc_noise_pattern_lookup(""));
	assert_null(sc_noise_pattern_lookup(NULL));
	assert_null(sc_noise_pattern_lookup(
	    "Noise_XXpsk0+psk1+psk2+psk3_25519_ChaChaPoly_BLAKE2b_and_then_far_too_long"));
}

static void
test_init_arguments(void **state)
{
	struct fixture *f = *state;
	struct sc_noise_handshake hs;

	/* IKpsk2 initiator needs s, rs and one psk; responder s and one psk. */
	assert_int_equal(sc_noise_hs_init(&hs, f->cp, f->pat, true, f->prologue,
	    PROLOGUE_LEN, NULL, f->hv_pk, f->psk, 1), SC_ERR_INVAL);
	assert_int_equal(sc_noise_hs_init(&hs, f->cp, f->pat, true, f->prologue,
	    PROLOGUE_LEN, f->client_sk, NULL, f->psk, 1), SC_ERR_INVAL);
	assert_int_equal(sc_noise_hs_init(&hs, f->cp, f->pat, true, f->prologue,
	    PROLOGUE_LEN, f->client_sk, f->hv_pk, f->psk, 0), SC_ERR_INVAL);
	assert_int_equal(sc_noise_hs_init(&hs, f->cp, f->pat, true, f->prologue,
	    PROLOGUE_LEN, f->client_sk, f->hv_pk, NULL, 1), SC_ERR_INVAL);
	assert_int_equal(sc_noise_hs_init(&hs, f->cp, f->pat, false, f->prologue,
	    PROLOGUE_LEN, f->hv_sk, f->client_pk, f->psk, 1), SC_ERR_INVAL);
	assert_int_equal(sc_noise_hs_init(&hs, f->cp, f->pat, false, NULL,
	    PROLOGUE_LEN, f->hv_sk, NULL, f->psk, 1), SC_ERR_INVAL);
	assert_int_equal(sc_noise_hs_init(&hs, f->cp, NULL, false, NULL, 0,
	    f->hv_sk, NULL, f->psk, 1), SC_ERR_INVAL);
	/* A failed init leaves a state that refuses everything. */
	assert_poisoned(&hs);
}

static void
test_ikpsk2_roundtrip(void **state)
{
	struct fixture *f = *state;
	uint8_t h_ini[SC_NOISE_HASHLEN], big[4096];
	size_t i;

	init_pair(f, NULL, NULL, NULL);
	assert_null(sc_noise_hs_remote_static(&f->resp));
	write_msg1(f);
	assert_false(sc_noise_hs_my_turn(&f->ini));
	assert_int_equal(read_msg1(f, f->msg1, f->msg1_len), 0);
	/* The responder learned the client's static key from message 1. */
	assert_non_null(sc_noise_hs_remote_static(&f->resp));
	assert_memory_equal(sc_noise_hs_remote_static(&f->resp), f->client_pk, 32);
	assert_true(sc_noise_hs_my_turn(&f->resp));
	write_msg2(f);
	assert_int_equal(read_msg2(f, f->msg2, f->msg2_len), 0);
	assert_true(sc_noise_hs_complete(&f->ini));
	assert_true(sc_noise_hs_complete(&f->resp));
	assert_false(sc_noise_hs_my_turn(&f->ini));
	assert_false(sc_noise_hs_my_turn(&f->resp));
	assert_memory_equal(sc_noise_hs_hash(&f->ini), sc_noise_hs_hash(&f->resp),
	    SC_NOISE_HASHLEN);
	memcpy(h_ini, sc_noise_hs_hash(&f->ini), sizeof(h_ini));

	assert_int_equal(sc_noise_hs_split(&f->ini, &f->ti), 0);
	assert_int_equal(sc_noise_hs_split(&f->resp, &f->tr), 0);
	/* Split wiped the handshakes. */
	assert_true(sodium_is_zero((const uint8_t *)&f->ini, sizeof(f->ini)));
	assert_true(sodium_is_zero((const uint8_t *)&f->resp, sizeof(f->resp)));
	/* Channel binding: the same h on both sides. */
	assert_memory_equal(f->ti.handshake_hash, h_ini, SC_NOISE_HASHLEN);
	assert_memory_equal(f->tr.handshake_hash, h_ini, SC_NOISE_HASHLEN);
	assert_true(f->ti.has_remote_static);
	assert_memory_equal(f->ti.remote_static, f->hv_pk, 32);
	assert_true(f->tr.has_remote_static);
	assert_memory_equal(f->tr.remote_static, f->client_pk, 32);
	/* c1 = initiator's send = responder's receive, and the reverse. */
	assert_memory_equal(f->ti.send.k, f->tr.recv.k, SC_NOISE_KEYLEN);
	assert_memory_equal(f->ti.recv.k, f->tr.send.k, SC_NOISE_KEYLEN);
	assert_memory_not_equal(f->ti.send.k, f->ti.recv.k, SC_NOISE_KEYLEN);

	/* Payload round trips both ways, empty to maximum size. */
	randombytes_buf(big, sizeof(big));
	for (i = 0; i < 50; i++) {
		assert_int_equal(xfer(&f->ti, &f->tr, big, i * 37 % sizeof(big)), 0);
		assert_int_equal(xfer(&f->tr, &f->ti, big, i * 53 % sizeof(big)), 0);
	}
	assert_int_equal(xfer(&f->ti, &f->tr, "", 0), 0);
	assert_int_equal(f->ti.send.n, 51);
	assert_int_equal(f->tr.recv.n, 51);
	{
		static uint8_t max[SC_NOISE_MSG_MAX - SC_NOISE_TAGLEN];

		assert_int_equal(xfer(&f->tr, &f->ti, max, sizeof(max)), 0);
		assert_int_equal(xfer(&f->tr, &f->ti, max, sizeof(max) + 1),
		    SC_ERR_TOOLONG);
	}
	sc_noise_transport_wipe(&f->ti);
	sc_noise_transport_wipe(&f->tr);
}

/* Two runs with different ephemerals give unrelated messages and keys. */
static void
test_fresh_ephemerals(void **state)
{
	struct fixture *f = *state;
	uint8_t m1[SC_HS1_MSG_LEN], k[SC_NOISE_KEYLEN];

	handshake(f);
	memcpy(m1, f->msg1, sizeof(m1));
	memcpy(k, f->ti.send.k, sizeof(k));
	sc_noise_transport_wipe(&f->ti);
	sc_noise_transport_wipe(&f->tr);
	handshake(f);
	assert_memory_not_equal(m1, f->msg1, 32);
	assert_memory_not_equal(k, f->ti.send.k, sizeof(k));
	sc_noise_transport_wipe(&f->ti);
	sc_noise_transport_wipe(&f->tr);
}

/* ---- wrong credentials ---- */

static void
test_wrong_psk(void **state)
{
	struct fixture *f = *state;
	uint8_t bad[SC_PSK_LEN];

	memcpy(bad, f->psk, sizeof(bad));
	bad[7] ^= 0x40;
	/* The psk enters at the end of message 2 (psk2): message 1 still
	 * verifies, message 2 does not. */
	init_pair(f, NULL, bad, NULL);
	write_msg1(f);
	assert_int_equal(read_msg1(f, f->msg1, f->msg1_len), 0);
	write_msg2(f);
	assert_int_equal(read_msg2(f, f->msg2, f->msg2_len), SC_ERR_DECRYPT);
	assert_poisoned(&f->ini);
	sc_noise_hs_wipe(&f->resp);
}

static void
test_wrong_prologue(void **state)
{
	struct fixture *f = *state;
	uint8_t bad[PROLOGUE_LEN];

	/* A different VM (uuid) and a different hv key in the prologue. */
	memcpy(bad, f->prologue, sizeof(bad));
	bad[SC_PROTOCOL_ID_LEN] ^= 1;
	init_pair(f, bad, NULL, NULL);
	write_msg1(f);
	assert_int_equal(read_msg1(f, f->msg1, f->msg1_len), SC_ERR_DECRYPT);
	assert_poisoned(&f->resp);
	sc_noise_hs_wipe(&f->ini);

	memcpy(bad, f->prologue, sizeof(bad));
	bad[PROLOGUE_LEN - 1] ^= 0x80;
	init_pair(f, bad, NULL, NULL);
	write_msg1(f);
	assert_int_equal(read_msg1(f, f->msg1, f->msg1_len), SC_ERR_DECRYPT);
	assert_poisoned(&f->resp);
	sc_noise_hs_wipe(&f->ini);

	/* Empty prologue against the real one. */
	assert_int_equal(sc_noise_hs_init(&f->ini, f->cp, f->pat, true, NULL, 0,
	    f->client_sk, f->hv_pk, f->psk, 1), 0);
	assert_int_equal(sc_noise_hs_init(&f->resp, f->cp, f->pat, false,
	    f->prologue, PROLOGUE_LEN, f->hv_sk, NULL, f->psk, 1), 0);
	write_msg1(f);
	assert_int_equal(read_msg1(f, f->msg1, f->msg1_len), SC_ERR_DECRYPT);
	assert_poisoned(&f->resp);
	sc_noise_hs_wipe(&f->ini);
}

static void
test_wrong_responder_key(void **state)
{
	struct fixture *f = *state;
	uint8_t other_sk[32], other_pk[32];

	/* The client thinks the hv key is another (valid) key. */
	assert_int_equal(sc_x25519_keypair(f->cp, other_pk, other_sk), 0);
	init_pair(f, NULL, NULL, other_pk);
	write_msg1(f);
	assert_int_equal(read_msg1(f, f->msg1, f->msg1_len), SC_ERR_DECRYPT);
	assert_poisoned(&f->resp);
	sc_noise_hs_wipe(&f->ini);
}

/* ---- tampering ---- */

static void
test_tamper_msg1(void **state)
{
	struct fixture *f = *state;
	uint8_t m[BIG], good[SC_HS1_MSG_LEN];
	size_t pos, len;
	int r;

	init_pair(f, NULL, NULL, NULL);
	write_msg1(f);
	memcpy(good, f->msg1, sizeof(good));
	sc_noise_hs_wipe(&f->ini);
	for (pos = 0; pos < sizeof(good); pos++) {
		memcpy(m, good, sizeof(good));
		m[pos] ^= (uint8_t)(1u << (pos % 8));
		assert_int_equal(sc_noise_hs_init(&f->resp, f->cp, f->pat, false,
		    f->prologue, PROLOGUE_LEN, f->hv_sk, NULL, f->psk, 1), 0);
		r = read_msg1(f, m, sizeof(good));
		/* A flipped e byte may also hit a low-order point. */
		assert_true(r == SC_ERR_DECRYPT || (pos < 32 && r == SC_ERR_BADKEY));
		assert_poisoned(&f->resp);
	}
	/* Every truncation, and one extra byte. */
	for (len = 0; len <= sizeof(good); len++) {
		memcpy(m, good, sizeof(good));
		m[sizeof(good)] = 0;
		if (len == sizeof(good))
			len++;
		assert_int_equal(sc_noise_hs_init(&f->resp, f->cp, f->pat, false,
		    f->prologue, PROLOGUE_LEN, f->hv_sk, NULL, f->psk, 1), 0);
		r = read_msg1(f, m, len);
		assert_true(r == SC_ERR_TRUNCATED || r == SC_ERR_DECRYPT);
		assert_poisoned(&f->resp);
	}
	/* The untouched message is still accepted. */
	assert_int_equal(sc_noise_hs_init(&f->resp, f->cp, f->pat, false,
	    f->prologue, PROLOGUE_LEN, f->hv_sk, NULL, f->psk, 1), 0);
	assert_int_equal(read_msg1(f, good, sizeof(good)), 0);
	sc_noise_hs_wipe(&f->resp);
}

static void
test_tamper_msg2(void **state)
{
	struct fixture *f = *state;
	struct sc_noise_handshake saved;
	uint8_t m[BIG];
	size_t pos, len;
	int r;

	init_pair(f, NULL, NULL, NULL);
	write_msg1(f);
	assert_int_equal(read_msg1(f, f->msg1, f->msg1_len), 0);
	write_msg2(f);
	sc_noise_hs_wipe(&f->resp);
	saved = f->ini;		/* the initiator waiting for message 2 */
	for (pos = 0; pos < f->msg2_len; pos++) {
		memcpy(m, f->msg2, f->msg2_len);
		m[pos] ^= (uint8_t)(0x80u >> (pos % 8));
		f->ini = saved;
		r = read_msg2(f, m, f->msg2_len);
		assert_true(r == SC_ERR_DECRYPT || (pos < 32 && r == SC_ERR_BADKEY));
		assert_poisoned(&f->ini);
	}
	for (len = 0; len <= f->msg2_len; len++) {
		memcpy(m, f->msg2, f->msg2_len);
		m[f->msg2_len] = 0xaa;
		f->ini = saved;
		r = read_msg2(f, m, len == f->msg2_len ? len + 1 : len);
		assert_true(r == SC_ERR_TRUNCATED || r == SC_ERR_DECRYPT);
		assert_poisoned(&f->ini);
	}
	f->ini = saved;
	assert_int_equal(read_msg2(f, f->msg2, f->msg2_len), 0);
	sc_noise_hs_wipe(&f->ini);
	sodium_memzero(&saved, sizeof(saved));
}

/* ---- low-order points ---- */

static void
test_low_order_e(void **state)
{
	struct fixture *f = *state;
	uint8_t m[BIG];
	size_t i;

	/* As the initiator's e in message 1: es = DH(s, re) fails. */
	init_pair(f, NULL, NULL, NULL);
	write_msg1(f);
	sc_noise_hs_wipe(&f->ini);
	for (i = 0; i < NLOW; i++) {
		memcpy(m, f->msg1, f->msg1_len);
		low_point(i, m);
		assert_int_equal(sc_noise_hs_init(&f->resp, f->cp, f->pat, false,
		    f->prologue, PROLOGUE_LEN, f->hv_sk, NULL, f->psk, 1), 0);
		assert_int_equal(read_msg1(f, m, f->msg1_len), SC_ERR_BADKEY);
		assert_poisoned(&f->resp);
	}

	/* As the responder's e in message 2: ee = DH(e, re) fails. */
	for (i = 0; i < NLOW; i++) {
		init_pair(f, NULL, NULL, NULL);
		write_msg1(f);
		assert_int_equal(read_msg1(f, f->msg1, f->msg1_len), 0);
		write_msg2(f);
		sc_noise_hs_wipe(&f->resp);
		memcpy(m, f->msg2, f->msg2_len);
		low_point(i, m);
		assert_int_equal(read_msg2(f, m, f->msg2_len), SC_ERR_BADKEY);
		assert_poisoned(&f->ini);
	}
}

static void
test_low_order_s(void **state)
{
	struct fixture *f = *state;
	size_t i;

	for (i = 0; i < NLOW; i++) {
		/* A malicious initiator announcing a low-order static key: the
		 * responder decrypts it and ss = DH(s, rs) fails. */
		init_pair(f, NULL, NULL, NULL);
		low_point(i, f->ini.s_pk);
		write_msg1(f);
		sc_noise_hs_wipe(&f->ini);
		assert_int_equal(read_msg1(f, f->msg1, f->msg1_len), SC_ERR_BADKEY);
		assert_poisoned(&f->resp);

		/* A client configured with a low-order hv key: es fails at once. */
		{
			uint8_t lp[32], mem[BIG];
			struct sc_buf b;

			low_point(i, lp);
			assert_int_equal(sc_noise_hs_init(&f->ini, f->cp, f->pat, true,
			    f->prologue, PROLOGUE_LEN, f->client_sk, lp, f->psk, 1), 0);
			sc_buf_init(&b, mem, sizeof(mem));
			assert_int_equal(sc_noise_hs_write(&f->ini, f->hs1,
			    sizeof(f->hs1), &b), SC_ERR_BADKEY);
			assert_int_equal(b.len, 0);
			assert_poisoned(&f->ini);
		}
	}
}

/* ---- misuse of the handshake ---- */

static void
test_out_of_turn_and_small_buffers(void **state)
{
	struct fixture *f = *state;
	uint8_t mem[BIG];
	struct sc_buf b;
	struct sc_noise_transport t;

	/* Responder writing first, initiator reading first, early split. */
	init_pair(f, NULL, NULL, NULL);
	sc_buf_init(&b, mem, sizeof(mem));
	assert_int_equal(sc_noise_hs_split(&f->ini, &t), SC_ERR_STATE);
	assert_int_equal(sc_noise_hs_write(&f->resp, NULL, 0, &b), SC_ERR_STATE);
	assert_poisoned(&f->resp);
	assert_int_equal(sc_noise_hs_read(&f->ini, mem, SC_HS2_MSG_LEN, &b),
	    SC_ERR_STATE);
	assert_poisoned(&f->ini);

	/* Message 1 one byte larger than the output buffer: nothing written. */
	init_pair(f, NULL, NULL, NULL);
	memset(mem, 0xcc, sizeof(mem));
	sc_buf_init(&b, mem, SC_HS1_MSG_LEN - 1);
	assert_int_equal(sc_noise_hs_write(&f->ini, f->hs1, sizeof(f->hs1), &b),
	    SC_ERR_NOSPACE);
	assert_int_equal(b.len, 0);
	assert_int_equal(mem[SC_HS1_MSG_LEN - 1], 0xcc);	/* not overrun */
	assert_poisoned(&f->ini);

	/* Payload buffer too small for the decrypted payload. */
	init_pair(f, NULL, NULL, NULL);
	write_msg1(f);
	sc_buf_init(&b, mem, SC_HS1_PAYLOAD_LEN - 1);
	assert_int_equal(sc_noise_hs_read(&f->resp, f->msg1, f->msg1_len, &b),
	    SC_ERR_NOSPACE);
	assert_int_equal(b.len, 0);
	assert_poisoned(&f->resp);

	/* Over-long payload and message. */
	init_pair(f, NULL, NULL, NULL);
	{
		static uint8_t huge[SC_NOISE_MSG_MAX + 1];
		static uint8_t out[2 * SC_NOISE_MSG_MAX];

		sc_buf_init(&b, out, sizeof(out));
		/* 96 + payload + 16 > 65535 */
		assert_int_equal(sc_noise_hs_write(&f->ini, huge,
		    SC_NOISE_MSG_MAX - 90, &b), SC_ERR_TOOLONG);
		assert_int_equal(b.len, 0);
		assert_poisoned(&f->ini);
		sc_buf_init(&b, out, sizeof(out));
		assert_int_equal(sc_noise_hs_read(&f->resp, huge, sizeof(huge), &b),
		    SC_ERR_TOOLONG);
		assert_poisoned(&f->resp);
	}

	/* The fixed-ephemeral hook only before e is generated. */
	init_pair(f, NULL, NULL, NULL);
	write_msg1(f);
	assert_int_equal(sc_noise_hs_set_fixed_ephemeral(&f->ini, f->client_sk),
	    SC_ERR_STATE);
	sc_noise_hs_wipe(&f->ini);
	sc_noise_hs_wipe(&f->resp);
}

/* ---- transport ---- */

static void
test_nonce_exhaustion(void **state)
{
	struct fixture *f = *state;
	uint8_t ct[64], pt[64];
	struct sc_buf cb, pb;

	handshake(f);
	f->ti.send.n = UINT64_MAX - 1;
	f->tr.recv.n = UINT64_MAX - 1;
	/* n = 2^64-2 is the last usable nonce. */
	assert_int_equal(xfer(&f->ti, &f->tr, "last", 4), 0);
	assert_true(f->ti.send.n == UINT64_MAX);
	assert_true(f->tr.recv.n == UINT64_MAX);
	/* 2^64-1 is reserved: both directions refuse, nothing written. */
	sc_buf_init(&cb, ct, sizeof(ct));
	assert_int_equal(sc_noise_encrypt(&f->ti, (const uint8_t *)"more", 4, &cb),
	    SC_ERR_NONCE);
	assert_int_equal(cb.len, 0);
	assert_true(f->ti.send.n == UINT64_MAX);
	memset(ct, 0, sizeof(ct));
	sc_buf_init(&pb, pt, sizeof(pt));
	assert_int_equal(sc_noise_decrypt(&f->tr, ct, 20, &pb), SC_ERR_NONCE);
	assert_int_equal(pb.len, 0);
	/* Rekey does not reset n (§11.3): still exhausted. */
	assert_int_equal(sc_noise_rekey_send(&f->ti), 0);
	sc_buf_init(&cb, ct, sizeof(ct));
	assert_int_equal(sc_noise_encrypt(&f->ti, (const uint8_t *)"more", 4, &cb),
	    SC_ERR_NONCE);
	/* The other direction is unaffected. */
	assert_int_equal(xfer(&f->tr, &f->ti, "back", 4), 0);
	sc_noise_transport_wipe(&f->ti);
	sc_noise_transport_wipe(&f->tr);
}

static void
test_failed_decrypt_keeps_n(void **state)
{
	struct fixture *f = *state;
	uint8_t ct[64], pt[64], bad[64];
	struct sc_buf cb, pb;
	size_t i;

	handshake(f);
	sc_buf_init(&cb, ct, sizeof(ct));
	assert_int_equal(sc_noise_encrypt(&f->ti, (const uint8_t *)"hello", 5, &cb), 0);
	for (i = 0; i < cb.len; i++) {
		memcpy(bad, ct, cb.len);
		bad[i] ^= 0x01;
		sc_buf_init(&pb, pt, sizeof(pt));
		assert_int_equal(sc_noise_decrypt(&f->tr, bad, cb.len, &pb),
		    SC_ERR_DECRYPT);
		assert_int_equal(pb.len, 0);
		assert_int_equal(f->tr.recv.n, 0);
	}
	/* Truncated (shorter than a tag, or missing a byte). */
	sc_buf_init(&pb, pt, sizeof(pt));
	assert_int_equal(sc_noise_decrypt(&f->tr, ct, SC_NOISE_TAGLEN - 1, &pb),
	    SC_ERR_DECRYPT);
	assert_int_equal(sc_noise_decrypt(&f->tr, ct, cb.len - 1, &pb),
	    SC_ERR_DECRYPT);
	assert_int_equal(f->tr.recv.n, 0);
	/* The genuine message still decrypts. */
	assert_int_equal(sc_noise_decrypt(&f->tr, ct, cb.len, &pb), 0);
	assert_int_equal(pb.len, 5);
	assert_memory_equal(pt, "hello", 5);
	assert_int_equal(f->tr.recv.n, 1);
	sc_noise_transport_wipe(&f->ti);
	sc_noise_transport_wipe(&f->tr);
}

static void
test_replay_reorder(void **state)
{
	struct fixture *f = *state;
	uint8_t c0[64], c1[64], pt[64];
	struct sc_buf b0, b1, pb;

	handshake(f);
	sc_buf_init(&b0, c0, sizeof(c0));
	sc_buf_init(&b1, c1, sizeof(c1));
	assert_int_equal(sc_noise_encrypt(&f->tr, (const uint8_t *)"zero", 4, &b0), 0);
	assert_int_equal(sc_noise_encrypt(&f->tr, (const uint8_t *)"one", 3, &b1), 0);
	sc_buf_init(&pb, pt, sizeof(pt));
	/* Reordered: message 1 before message 0. */
	assert_int_equal(sc_noise_decrypt(&f->ti, c1, b1.len, &pb), SC_ERR_DECRYPT);
	assert_int_equal(sc_noise_decrypt(&f->ti, c0, b0.len, &pb), 0);
	/* Replayed: message 0 again. */
	assert_int_equal(sc_noise_decrypt(&f->ti, c0, b0.len, &pb), SC_ERR_DECRYPT);
	assert_int_equal(sc_noise_decrypt(&f->ti, c1, b1.len, &pb), 0);
	assert_int_equal(pb.len, 7);
	assert_memory_equal(pt, "zeroone", 7);
	/* A message reflected back to its sender fails (different keys). */
	sc_buf_init(&b0, c0, sizeof(c0));
	assert_int_equal(sc_noise_encrypt(&f->ti, (const uint8_t *)"x", 1, &b0), 0);
	sc_buf_init(&pb, pt, sizeof(pt));
	assert_int_equal(sc_noise_decrypt(&f->ti, c0, b0.len, &pb), SC_ERR_DECRYPT);
	sc_noise_transport_wipe(&f->ti);
	sc_noise_transport_wipe(&f->tr);
}

static void
test_rekey(void **state)
{
	struct fixture *f = *state;
	struct sc_noise_transport ti_old, tr_old;
	uint8_t old_ct[64], ct[64], pt[64], want[48], zeros[32] = { 0 };
	uint8_t nonce[12] = { 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	unsigned long long clen;
	struct sc_buf b, ob, pb;
	uint64_t n_before;

	handshake(f);
	assert_int_equal(xfer(&f->ti, &f->tr, "before", 6), 0);
	ti_old = f->ti;		/* what a party that missed the rekey would hold */
	tr_old = f->tr;

	/* REKEY(k) = ENCRYPT(k, 2^64-1, empty, zeros)[0..32], computed here
	 * directly with libsodium as an independent check. */
	assert_int_equal(crypto_aead_chacha20poly1305_ietf_encrypt(want, &clen,
	    zeros, sizeof(zeros), NULL, 0, NULL, nonce, f->ti.send.k), 0);
	n_before = f->ti.send.n;
	assert_int_equal(sc_noise_rekey_send(&f->ti), 0);
	assert_memory_equal(f->ti.send.k, want, 32);
	assert_memory_not_equal(f->ti.send.k, ti_old.send.k, 32);
	assert_true(f->ti.send.n == n_before);		/* n is not reset */
	assert_int_equal(sc_noise_rekey_recv(&f->tr), 0);
	assert_memory_equal(f->tr.recv.k, want, 32);
	assert_true(f->tr.recv.n == n_before);

	/* A message under the old key at the current nonce is refused ... */
	sc_buf_init(&ob, old_ct, sizeof(old_ct));
	assert_int_equal(sc_noise_encrypt(&ti_old, (const uint8_t *)"stale", 5, &ob), 0);
	sc_buf_init(&pb, pt, sizeof(pt));
	assert_int_equal(sc_noise_decrypt(&f->tr, old_ct, ob.len, &pb), SC_ERR_DECRYPT);
	/* ... and a receiver that missed the rekey refuses the new key. */
	sc_buf_init(&b, ct, sizeof(ct));
	assert_int_equal(sc_noise_encrypt(&f->ti, (const uint8_t *)"after", 5, &b), 0);
	assert_int_equal(sc_noise_decrypt(&tr_old, ct, b.len, &pb), SC_ERR_DECRYPT);
	/* The rekeyed pair is in sync. */
	assert_int_equal(sc_noise_decrypt(&f->tr, ct, b.len, &pb), 0);
	assert_int_equal(pb.len, 5);
	assert_memory_equal(pt, "after", 5);
	assert_int_equal(xfer(&f->ti, &f->tr, "again", 5), 0);
	/* The other direction was not rekeyed and still works. */
	assert_int_equal(xfer(&f->tr, &f->ti, "reply", 5), 0);

	/* Several rekeys in a row stay in sync. */
	assert_int_equal(sc_noise_rekey_send(&f->tr), 0);
	assert_int_equal(sc_noise_rekey_send(&f->tr), 0);
	assert_int_equal(sc_noise_rekey_recv(&f->ti), 0);
	sc_buf_init(&b, ct, sizeof(ct));
	assert_int_equal(sc_noise_encrypt(&f->tr, (const uint8_t *)"lone", 4, &b), 0);
	sc_buf_init(&pb, pt, sizeof(pt));
	assert_int_equal(sc_noise_decrypt(&f->ti, ct, b.len, &pb), SC_ERR_DECRYPT);
	assert_int_equal(sc_noise_rekey_recv(&f->ti), 0);
	assert_int_equal(sc_noise_decrypt(&f->ti, ct, b.len, &pb), 0);
	assert_memory_equal(pt, "lone", 4);
	sc_noise_transport_wipe(&ti_old);
	sc_noise_transport_wipe(&tr_old);
	sc_noise_transport_wipe(&f->ti);
	sc_noise_transport_wipe(&f->tr);
}

static void
test_transport_buffers(void **state)
{
	struct fixture *f = *state;
	uint8_t ct[64], pt[64], small[8];
	struct sc_buf b, pb;

	handshake(f);
	/* Output one byte short: refused, nonce not consumed, buffer intact. */
	memset(small, 0xcc, sizeof(small));
	sc_buf_init(&b, ct, 5 + SC_NOISE_TAGLEN - 1);
	assert_int_equal(sc_noise_encrypt(&f->ti, (const uint8_t *)"hello", 5, &b),
	    SC_ERR_NOSPACE);
	assert_int_equal(b.len, 0);
	assert_int_equal(f->ti.send.n, 0);
	sc_buf_init(&b, ct, 5 + SC_NOISE_TAGLEN);	/* exact fit */
	assert_int_equal(sc_noise_encrypt(&f->ti, (const uint8_t *)"hello", 5, &b), 0);
	assert_int_equal(f->ti.send.n, 1);

	sc_buf_init(&pb, small, 4);
	assert_int_equal(sc_noise_decrypt(&f->tr, ct, b.len, &pb), SC_ERR_NOSPACE);
	assert_int_equal(pb.len, 0);
	assert_int_equal(f->tr.recv.n, 0);
	assert_int_equal(small[0], 0xcc);
	sc_buf_init(&pb, pt, 5);
	assert_int_equal(sc_noise_decrypt(&f->tr, ct, b.len, &pb), 0);
	assert_memory_equal(pt, "hello", 5);

	/* Appending after existing contents works; a read-only buffer is full. */
	sc_buf_init(&b, ct, sizeof(ct));
	assert_int_equal(sc_buf_put_u8(&b, 0x04), 0);
	assert_int_equal(sc_noise_encrypt(&f->ti, (const uint8_t *)"x", 1, &b), 0);
	assert_int_equal(b.len, 1 + 1 + SC_NOISE_TAGLEN);
	sc_buf_init_ro(&pb, pt, sizeof(pt));
	assert_int_equal(sc_noise_decrypt(&f->tr, ct + 1, 1 + SC_NOISE_TAGLEN, &pb),
	    SC_ERR_NOSPACE);
	assert_int_equal(f->tr.recv.n, 1);

	/* Oversized input. */
	sc_buf_init(&b, ct, sizeof(ct));
	assert_int_equal(sc_noise_decrypt(&f->tr, ct, SC_NOISE_MSG_MAX + 1, &b),
	    SC_ERR_TOOLONG);
	sc_noise_transport_wipe(&f->ti);
	sc_noise_transport_wipe(&f->tr);
}

static void
test_wipe(void **state)
{
	struct fixture *f = *state;
	uint8_t ct[64];
	struct sc_buf b;

	init_pair(f, NULL, NULL, NULL);
	write_msg1(f);
	sc_noise_hs_wipe(&f->ini);
	assert_true(sodium_is_zero((const uint8_t *)&f->ini, sizeof(f->ini)));
	/* A wiped handshake is unusable. */
	assert_false(sc_noise_hs_my_turn(&f->ini));
	sc_buf_init(&b, ct, sizeof(ct));
	assert_int_equal(sc_noise_hs_write(&f->ini, NULL, 0, &b), SC_ERR_STATE);
	sc_noise_hs_wipe(&f->resp);

	handshake(f);
	sc_noise_transport_wipe(&f->ti);
	assert_true(sodium_is_zero((const uint8_t *)&f->ti, sizeof(f->ti)));
	assert_int_equal(sc_noise_encrypt(&f->ti, (const uint8_t *)"x", 1, &b),
	    SC_ERR_STATE);
	assert_int_equal(sc_noise_decrypt(&f->ti, ct, 17, &b), SC_ERR_STATE);
	assert_int_equal(sc_noise_rekey_send(&f->ti), SC_ERR_STATE);
	sc_noise_transport_wipe(&f->tr);
	assert_true(sodium_is_zero((const uint8_t *)&f->tr, sizeof(f->tr)));
}

/* A one-way pattern gives the responder no sending key at all. */
static void
test_one_way_transport(void **state)
{
	struct fixture *f = *state;
	const struct sc_noise_pattern *n = sc_noise_pattern_lookup(
	    "Noise_N_25519_ChaChaPoly_BLAKE2b");
	uint8_t mem[128];
	struct sc_buf b;

	assert_non_null(n);
	assert_int_equal(sc_noise_hs_init(&f->ini, f->cp, n, true, NULL, 0, NULL,
	    f->hv_pk, NULL, 0), 0);
	assert_int_equal(sc_noise_hs_init(&f->resp, f->cp, n, false, NULL, 0,
	    f->hv_sk, NULL, NULL, 0), 0);
	sc_buf_init(&b, mem, sizeof(mem));
	assert_int_equal(sc_noise_hs_write(&f->ini, NULL, 0, &b), 0);
	assert_int_equal(b.len, 32 + 16);
	assert_true(sc_noise_hs_complete(&f->ini));
	sc_buf_init(&b, mem + 64, sizeof(mem) - 64);
	assert_int_equal(sc_noise_hs_read(&f->resp, mem, 48, &b), 0);
	assert_int_equal(sc_noise_hs_split(&f->ini, &f->ti), 0);
	assert_int_equal(sc_noise_hs_split(&f->resp, &f->tr), 0);
	assert_int_equal(xfer(&f->ti, &f->tr, "one way", 7), 0);
	sc_buf_init(&b, mem, sizeof(mem));
	assert_int_equal(sc_noise_encrypt(&f->tr, (const uint8_t *)"no", 2, &b),
	    SC_ERR_STATE);
	assert_int_equal(sc_noise_rekey_send(&f->tr), SC_ERR_STATE);
	sc_noise_transport_wipe(&f->ti);
	sc_noise_transport_wipe(&f->tr);
}

/* The cipher primitives at the nonce limit, and without a key. */
static void
test_cipher_primitives(void **state)
{
	struct fixture *f = *state;
	struct sc_noise_cipher c;
	uint8_t out[64];

	memset(&c, 0, sizeof(c));
	/* No key: EncryptWithAd returns the plaintext (Noise §5.1). */
	assert_int_equal(sc_noise_cipher_encrypt(f->cp, &c, NULL, 0,
	    (const uint8_t *)"abc", 3, out), 0);
	assert_memory_equal(out, "abc", 3);
	c.has_key = true;
	randombytes_buf(c.k, sizeof(c.k));
	c.n = UINT64_MAX;
	assert_int_equal(sc_noise_cipher_encrypt(f->cp, &c, NULL, 0,
	    (const uint8_t *)"abc", 3, out), SC_ERR_NONCE);
	memset(out, 0, sizeof(out));
	assert_int_equal(sc_noise_cipher_decrypt(f->cp, &c, NULL, 0, out, 19, out),
	    SC_ERR_NONCE);
	/* In place. */
	c.n = 7;
	memcpy(out, "in place", 8);
	assert_int_equal(sc_noise_cipher_encrypt(f->cp, &c, (const uint8_t *)"ad", 2,
	    out, 8, out), 0);
	c.n = 7;
	assert_int_equal(sc_noise_cipher_decrypt(f->cp, &c, (const uint8_t *)"ad", 2,
	    out, 24, out), 0);
	assert_memory_equal(out, "in place", 8);
	assert_int_equal(c.n, 8);
	sodium_memzero(&c, sizeof(c));
}

/*
 * Any pattern of the table between two honest parties with random
 * ephemerals: both sides must agree on h and on the transport keys.
 * Returns the first error (the handshake's or the transport's).
 */
static int
run_pattern(struct fixture *f, const char *name, const uint8_t *ipsks,
    const uint8_t *rpsks)
{
	const struct sc_noise_pattern *p = sc_noise_pattern_lookup(name);
	struct sc_noise_handshake *side[2] = { &f->ini, &f->resp };
	uint8_t msg[512], pl[512];
	struct sc_buf mb, pb;
	unsigned need, npsks, turn;
	int r;

	assert_non_null(p);
	need = sc_noise_pattern_needs(p);
	npsks = sc_noise_pattern_psks(p);
	assert_int_equal(sc_noise_hs_init(&f->ini, f->cp, p, true, f->prologue,
	    PROLOGUE_LEN, (need & SC_NOISE_NEED_INIT_S) ? f->client_sk : NULL,
	    (need & SC_NOISE_NEED_INIT_RS) ? f->hv_pk : NULL, ipsks, npsks), 0);
	assert_int_equal(sc_noise_hs_init(&f->resp, f->cp, p, false, f->prologue,
	    PROLOGUE_LEN, (need & SC_NOISE_NEED_RESP_S) ? f->hv_sk : NULL,
	    (need & SC_NOISE_NEED_RESP_RS) ? f->client_pk : NULL, rpsks, npsks), 0);
	for (turn = 0; !sc_noise_hs_complete(&f->ini); turn++) {
		struct sc_noise_handshake *w = side[turn % 2], *rd = side[(turn + 1) % 2];

		assert_true(turn < 4);
		assert_true(sc_noise_hs_my_turn(w));
		sc_buf_init(&mb, msg, sizeof(msg));
		sc_buf_init(&pb, pl, sizeof(pl));
		assert_int_equal(sc_noise_hs_write(w, (const uint8_t *)name,
		    strlen(name), &mb), 0);
		if ((r = sc_noise_hs_read(rd, msg, mb.len, &pb)) != 0) {
			sc_noise_hs_wipe(&f->ini);
			sc_noise_hs_wipe(&f->resp);
			return r;
		}
		assert_int_equal(pb.len, strlen(name));
		assert_memory_equal(pl, name, pb.len);
	}
	assert_true(sc_noise_hs_complete(&f->resp));
	assert_memory_equal(sc_noise_hs_hash(&f->ini), sc_noise_hs_hash(&f->resp),
	    SC_NOISE_HASHLEN);
	/* Each side learned the other's static key when the pattern has one. */
	if (need & SC_NOISE_NEED_INIT_S)
		assert_memory_equal(sc_noise_hs_remote_static(&f->resp), f->client_pk, 32);
	if (need & SC_NOISE_NEED_RESP_S)
		assert_memory_equal(sc_noise_hs_remote_static(&f->ini), f->hv_pk, 32);
	assert_int_equal(sc_noise_hs_split(&f->ini, &f->ti), 0);
	assert_int_equal(sc_noise_hs_split(&f->resp, &f->tr), 0);
	r = xfer(&f->ti, &f->tr, "ping", 4);
	if (r == 0 && f->tr.send.has_key)
		r = xfer(&f->tr, &f->ti, "pong", 4);
	sc_noise_transport_wipe(&f->ti);
	sc_noise_transport_wipe(&f->tr);
	return r;
}

static void
test_all_patterns(void **state)
{
	struct fixture *f = *state;
	static const char *bases[] = {
		"N", "K", "X", "NN", "NK", "NX", "KN", "KK", "KX", "XN", "XK", "XX",
		"IN", "IK", "IX", "NK1", "NX1", "X1N", "X1K", "XK1", "X1K1", "X1X",
		"XX1", "X1X1", "K1N", "K1K", "KK1", "K1K1", "K1X", "KX1", "K1X1",
		"I1N", "I1K", "IK1", "I1K1", "I1X", "IX1", "I1X1",
	};
	static const char *mods[] = { "", "psk0", "psk1", "psk0+psk1", "psk1+psk2",
	    "psk0+psk2+psk3" };
	uint8_t psks[4 * 32], wrong[4 * 32];
	char name[SC_NOISE_NAME_MAX + 1];
	size_t i, j, k;
	unsigned n;

	randombytes_buf(psks, sizeof(psks));
	for (i = 0; i < sizeof(bases) / sizeof(bases[0]); i++) {
		for (j = 0; j < sizeof(mods) / sizeof(mods[0]); j++) {
			snprintf(name, sizeof(name), "Noise_%s%s_25519_ChaChaPoly_BLAKE2b",
			    bases[i], mods[j]);
			if (sc_noise_pattern_lookup(name) == NULL) {
				/* Only a psk position past the last message is refused. */
				assert_true(strchr(name, '3') != NULL ||
				    strlen(bases[i]) == 1);
				continue;
			}
			assert_int_equal(run_pattern(f, name, psks, psks), 0);
			/* Each psk matters: changing any one of them fails. */
			n = sc_noise_pattern_psks(sc_noise_pattern_lookup(name));
			for (k = 0; k < n; k++) {
				memcpy(wrong, psks, sizeof(wrong));
				wrong[k * 32 + 5] ^= 1;
				assert_int_equal(run_pattern(f, name, psks, wrong),
				    SC_ERR_DECRYPT);
			}
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookup),
		cmocka_unit_test(test_init_arguments),
		cmocka_unit_test(test_ikpsk2_roundtrip),
		cmocka_unit_test(test_fresh_ephemerals),
		cmocka_unit_test(test_wrong_psk),
		cmocka_unit_test(test_wrong_prologue),
		cmocka_unit_test(test_wrong_responder_key),
		cmocka_unit_test(test_tamper_msg1),
		cmocka_unit_test(test_tamper_msg2),
		cmocka_unit_test(test_low_order_e),
		cmocka_unit_test(test_low_order_s),
		cmocka_unit_test(test_out_of_turn_and_small_buffers),
		cmocka_unit_test(test_nonce_exhaustion),
		cmocka_unit_test(test_failed_decrypt_keeps_n),
		cmocka_unit_test(test_replay_reorder),
		cmocka_unit_test(test_rekey),
		cmocka_unit_test(test_transport_buffers),
		cmocka_unit_test(test_wipe),
		cmocka_unit_test(test_one_way_transport),
		cmocka_unit_test(test_cipher_primitives),
		cmocka_unit_test(test_all_patterns),
	};

	return cmocka_run_group_tests_name("noise", tests, setup, NULL);
}
