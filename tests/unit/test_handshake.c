/*
 * test_handshake.c — core/handshake.h: the prologue's and the HS1/HS2
 * payloads' byte layouts (wire.h), round trips, every truncation and every
 * oversize refused with nothing consumed, the version and flag checks, the
 * op items, and a whole handshake through sc_hs_init on both sides.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>

#include "core/err.h"
#include "core/buf.h"
#include "core/crypto.h"
#include "core/noise.h"
#include "core/record.h"
#include "core/handshake.h"
#include "core/wire.h"

static const uint8_t uuid[SC_UUID_LEN] = {
	0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
	0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
};

static void
test_prologue(void **state)
{
	uint8_t pk[SC_KEY_LEN], mem[SC_HS_PROLOGUE_LEN + 1];
	struct sc_buf b;

	(void)state;
	memset(pk, 0xa5, sizeof(pk));
	sc_buf_init(&b, mem, sizeof(mem));
	assert_int_equal(sc_hs_prologue_put(&b, uuid, pk), 0);
	assert_int_equal(b.len, SC_HS_PROLOGUE_LEN);
	assert_int_equal(SC_HS_PROLOGUE_LEN, 9 + 16 + 32);
	assert_memory_equal(mem, "SCCrypt/1", 9);
	assert_memory_equal(mem + 9, uuid, 16);
	assert_memory_equal(mem + 25, pk, 32);
	/* One byte short: nothing written. */
	sc_buf_init(&b, mem, SC_HS_PROLOGUE_LEN - 1);
	assert_int_equal(sc_hs_prologue_put(&b, uuid, pk), SC_ERR_NOSPACE);
	assert_int_equal(b.len, 0);
}

static void
test_hs1(void **state)
{
	const struct sc_hs1 m = { .flags = SC_HS1_F_VIEWER,
	    .history_wanted = 0x01020304 };
	uint8_t mem[SC_HS1_PAYLOAD_LEN + 1];
	struct sc_hs1 g;
	struct sc_buf b;
	size_t n;

	(void)state;
	sc_buf_init(&b, mem, sizeof(mem));
	assert_int_equal(sc_hs1_put(&b, &m), 0);
	assert_int_equal(b.len, SC_HS1_PAYLOAD_LEN);
	/* version flags history_wanted:u32 (big-endian) */
	assert_memory_equal(mem, "\x02\x01\x01\x02\x03\x04", SC_HS1_PAYLOAD_LEN);
	assert_int_equal(sc_hs1_get(&b, &g), 0);
	assert_int_equal(g.flags, m.flags);
	assert_int_equal(g.history_wanted, m.history_wanted);
	assert_int_equal(sc_buf_avail(&b), 0);

	/* Every truncation, then one byte too many: refused, nothing read. */
	for (n = 0; n <= SC_HS1_PAYLOAD_LEN + 1; n++) {
		if (n == SC_HS1_PAYLOAD_LEN)
			continue;
		mem[SC_HS1_PAYLOAD_LEN] = 0;
		sc_buf_init_ro(&b, mem, n);
		memset(&g, 0x55, sizeof(g));
		assert_int_equal(sc_hs1_get(&b, &g), n < SC_HS1_PAYLOAD_LEN ?
		    SC_ERR_TRUNCATED : SC_ERR_FORMAT);
		assert_int_equal(b.off, 0);
		assert_int_equal(g.flags, 0);
		assert_int_equal(g.history_wanted, 0);
	}
	/* Another protocol version. */
	mem[0] = SC_PROTOCOL_VERSION + 1;
	sc_buf_init_ro(&b, mem, SC_HS1_PAYLOAD_LEN);
	assert_int_equal(sc_hs1_get(&b, &g), SC_ERR_VERSION);
	assert_int_equal(b.off, 0);
	/* Flags the hv does not know: written as asked, refused on reading. */
	sc_buf_init(&b, mem, sizeof(mem));
	assert_int_equal(sc_hs1_put(&b, &(struct sc_hs1){ .flags = 0x04 }), 0);
	assert_int_equal(sc_hs1_get(&b, &g), SC_ERR_FORMAT);
	assert_int_equal(b.off, 0);
	sc_buf_init(&b, mem, sizeof(mem));
	assert_int_equal(sc_hs1_put(&b, &(struct sc_hs1){ .flags = SC_HS1_F_KNOWN }), 0);
	assert_int_equal(sc_hs1_get(&b, &g), 0);
	assert_int_equal(g.flags, SC_HS1_F_VIEWER | SC_HS1_F_TAKEOVER);
	/* No room. */
	sc_buf_init(&b, mem, SC_HS1_PAYLOAD_LEN - 1);
	assert_int_equal(sc_hs1_put(&b, &m), SC_ERR_NOSPACE);
	assert_int_equal(b.len, 0);
}

static void
test_hs2(void **state)
{
	const struct sc_hs2 m = { .flags = SC_HS2_F_OWNER | SC_HS2_F_VIEWER,
	    .history_kept = 0x0a0b0c0d, .lost_bytes = 0x1122334455667788ull };
	uint8_t mem[SC_HS2_PAYLOAD_LEN + 1];
	struct sc_hs2 g;
	struct sc_buf b;
	size_t n;

	(void)state;
	sc_buf_init(&b, mem, sizeof(mem));
	assert_int_equal(sc_hs2_put(&b, &m), 0);
	assert_int_equal(b.len, SC_HS2_PAYLOAD_LEN);
	/* version flags history_kept:u32 lost_bytes:u64 (big-endian) */
	assert_memory_equal(mem, "\x02\x03\x0a\x0b\x0c\x0d"
	    "\x11\x22\x33\x44\x55\x66\x77\x88", SC_HS2_PAYLOAD_LEN);
	assert_int_equal(sc_hs2_get(&b, &g), 0);
	assert_int_equal(g.flags, m.flags);
	assert_int_equal(g.history_kept, m.history_kept);
	assert_true(g.lost_bytes == m.lost_bytes);
	assert_int_equal(sc_buf_avail(&b), 0);

	for (n = 0; n <= SC_HS2_PAYLOAD_LEN + 1; n++) {
		if (n == SC_HS2_PAYLOAD_LEN)
			continue;
		mem[SC_HS2_PAYLOAD_LEN] = 0;
		sc_buf_init_ro(&b, mem, n);
		memset(&g, 0x55, sizeof(g));
		assert_int_equal(sc_hs2_get(&b, &g), n < SC_HS2_PAYLOAD_LEN ?
		    SC_ERR_TRUNCATED : SC_ERR_FORMAT);
		assert_int_equal(b.off, 0);
		assert_int_equal(g.flags, 0);
		assert_int_equal(g.history_kept, 0);
		assert_true(g.lost_bytes == 0);
	}
	mem[0] = SC_PROTOCOL_VERSION - 1;
	sc_buf_init_ro(&b, mem, SC_HS2_PAYLOAD_LEN);
	assert_int_equal(sc_hs2_get(&b, &g), SC_ERR_VERSION);
	assert_int_equal(b.off, 0);
	sc_buf_init(&b, mem, SC_HS2_PAYLOAD_LEN - 1);
	assert_int_equal(sc_hs2_put(&b, &m), SC_ERR_NOSPACE);
	assert_int_equal(b.len, 0);
}

static void
test_items(void **state)
{
	static uint8_t ct[SC_RECORD_CT_MAX + 1], mem[2 * SC_OP_ITEM_MAX + 4];
	const uint8_t *p;
	struct sc_buf b;
	size_t len, n, total;

	(void)state;
	memset(ct, 0x3c, sizeof(ct));
	sc_buf_init(&b, mem, sizeof(mem));
	assert_int_equal(sc_op_item_put(&b, ct, SC_RECORD_CT_MIN), 0);
	assert_int_equal(sc_op_item_put(&b, ct, SC_RECORD_CT_MAX), 0);
	total = b.len;
	assert_int_equal(total, 2 * SC_OP_ITEM_HDR_LEN + SC_RECORD_CT_MIN +
	    SC_RECORD_CT_MAX);
	/* len:u16le */
	assert_int_equal(mem[0], SC_RECORD_CT_MIN & 0xff);
	assert_int_equal(mem[1], SC_RECORD_CT_MIN >> 8);
	assert_int_equal(sc_op_item_get(&b, &p, &len), 0);
	assert_int_equal(len, SC_RECORD_CT_MIN);
	assert_ptr_equal(p, mem + SC_OP_ITEM_HDR_LEN);
	assert_int_equal(sc_op_item_get(&b, &p, &len), 0);
	assert_int_equal(len, SC_RECORD_CT_MAX);
	assert_memory_equal(p, ct, len);
	assert_int_equal(sc_buf_avail(&b), 0);

	/* Every truncation of the first item: torn, nothing read. */
	for (n = 0; n < SC_OP_ITEM_HDR_LEN + SC_RECORD_CT_MIN; n++) {
		sc_buf_init_ro(&b, mem, n);
		assert_int_equal(sc_op_item_get(&b, &p, &len), SC_ERR_TRUNCATED);
		assert_int_equal(b.off, 0);
		assert_null(p);
		assert_int_equal(len, 0);
		if (n >= SC_OP_ITEM_HDR_LEN) {
			/* The length alone is there and valid. */
			assert_int_equal(sc_op_item_len_get(&b, &len), 0);
			assert_int_equal(len, SC_RECORD_CT_MIN);
			assert_int_equal(b.off, SC_OP_ITEM_HDR_LEN);
		} else
			assert_int_equal(sc_op_item_len_get(&b, &len),
			    SC_ERR_TRUNCATED);
	}
	/* Lengths no record has: below the smallest, above the largest. */
	mem[0] = SC_RECORD_CT_MIN - 1;
	mem[1] = 0;
	sc_buf_init_ro(&b, mem, total);
	assert_int_equal(sc_op_item_get(&b, &p, &len), SC_ERR_TRUNCATED);
	assert_int_equal(sc_op_item_len_get(&b, &len), SC_ERR_TRUNCATED);
	assert_int_equal(b.off, 0);
	mem[0] = (SC_RECORD_CT_MAX + 1) & 0xff;
	mem[1] = (SC_RECORD_CT_MAX + 1) >> 8;
	assert_int_equal(sc_op_item_get(&b, &p, &len), SC_ERR_TOOLONG);
	assert_int_equal(sc_op_item_len_get(&b, &len), SC_ERR_TOOLONG);
	assert_int_equal(b.off, 0);

	/*
	 * The writer frames what a relay was given, down to one byte (the hv's
	 * get refuses it, above); it refuses an empty item, one longer than a
	 * record and a buffer one byte short.
	 */
	sc_buf_init(&b, mem, sizeof(mem));
	assert_int_equal(sc_op_item_put(&b, ct, SC_RECORD_CT_MIN - 1), 0);
	sc_buf_init_ro(&b, mem, b.len);
	assert_int_equal(sc_op_item_get(&b, &p, &len), SC_ERR_TRUNCATED);
	sc_buf_init(&b, mem, sizeof(mem));
	assert_int_equal(sc_op_item_put(&b, ct, 0), SC_ERR_TRUNCATED);
	assert_int_equal(sc_op_item_put(&b, ct, SC_RECORD_CT_MAX + 1),
	    SC_ERR_TOOLONG);
	sc_buf_init(&b, mem, SC_OP_ITEM_HDR_LEN + SC_RECORD_CT_MIN - 1);
	assert_int_equal(sc_op_item_put(&b, ct, SC_RECORD_CT_MIN), SC_ERR_NOSPACE);
	assert_int_equal(b.len, 0);
}

/* Client and hv run the handshake through sc_hs_init and the payload codecs. */
static void
test_handshake(void **state)
{
	const struct sc_crypto *cp = sc_crypto_sodium();
	struct sc_noise_handshake ini, rsp;
	uint8_t csk[32], cpk[32], hsk[32], hpk[32], psk[SC_PSK_LEN];
	uint8_t m1[256], m2[256], pl[64], other[SC_UUID_LEN];
	struct sc_buf b, mb, pb;
	struct sc_hs1 h1;
	struct sc_hs2 h2;

	(void)state;
	assert_int_equal(sc_x25519_keypair(cp, cpk, csk), 0);
	assert_int_equal(sc_x25519_keypair(cp, hpk, hsk), 0);
	randombytes_buf(psk, sizeof(psk));

	assert_int_equal(sc_hs_init(&ini, cp, true, uuid, hpk, csk, psk), 0);
	assert_int_equal(sc_hs_init(&rsp, cp, false, uuid, hpk, hsk, psk), 0);
	sc_buf_init(&b, pl, sizeof(pl));
	assert_int_equal(sc_hs1_put(&b, &(struct sc_hs1){ .history_wanted = 5 }), 0);
	sc_buf_init(&mb, m1, sizeof(m1));
	assert_int_equal(sc_noise_hs_write(&ini, b.data, b.len, &mb), 0);
	assert_int_equal(mb.len, SC_HS1_MSG_LEN);
	sc_buf_init(&pb, pl, sizeof(pl));
	assert_int_equal(sc_noise_hs_read(&rsp, m1, mb.len, &pb), 0);
	assert_int_equal(sc_hs1_get(&pb, &h1), 0);
	assert_int_equal(h1.history_wanted, 5);
	assert_memory_equal(sc_noise_hs_remote_static(&rsp), cpk, 32);

	sc_buf_init(&b, pl, sizeof(pl));
	assert_int_equal(sc_hs2_put(&b, &(struct sc_hs2){ .lost_bytes = 9 }), 0);
	sc_buf_init(&mb, m2, sizeof(m2));
	assert_int_equal(sc_noise_hs_write(&rsp, b.data, b.len, &mb), 0);
	assert_int_equal(mb.len, SC_HS2_MSG_LEN);
	sc_buf_init(&pb, pl, sizeof(pl));
	assert_int_equal(sc_noise_hs_read(&ini, m2, mb.len, &pb), 0);
	assert_int_equal(sc_hs2_get(&pb, &h2), 0);
	assert_true(h2.lost_bytes == 9);
	assert_true(sc_noise_hs_complete(&ini));
	sc_noise_hs_wipe(&ini);
	sc_noise_hs_wipe(&rsp);

	/* The prologue binds the domain: another uuid on the hv side fails. */
	memcpy(other, uuid, sizeof(other));
	other[0] ^= 1;
	assert_int_equal(sc_hs_init(&ini, cp, true, uuid, hpk, csk, psk), 0);
	assert_int_equal(sc_hs_init(&rsp, cp, false, other, hpk, hsk, psk), 0);
	sc_buf_init(&b, pl, sizeof(pl));
	assert_int_equal(sc_hs1_put(&b, &(struct sc_hs1){ 0 }), 0);
	sc_buf_init(&mb, m1, sizeof(m1));
	assert_int_equal(sc_noise_hs_write(&ini, b.data, b.len, &mb), 0);
	sc_buf_init(&pb, pl, sizeof(pl));
	assert_int_not_equal(sc_noise_hs_read(&rsp, m1, mb.len, &pb), 0);
	sc_noise_hs_wipe(&ini);
	sc_noise_hs_wipe(&rsp);
	assert_int_equal(sc_hs_init(&ini, cp, true, NULL, hpk, csk, psk),
	    SC_ERR_INVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prologue),
		cmocka_unit_test(test_hs1),
		cmocka_unit_test(test_hs2),
		cmocka_unit_test(test_items),
		cmocka_unit_test(test_handshake),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests_name("handshake", tests, NULL, NULL);
}
