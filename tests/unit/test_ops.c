/*
 * test_ops.c — the hv ops header codec: byte layout, round trip, and every
 * validation (magic, version, payload length, truncation).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "core/err.h"
#include "core/buf.h"
#include "core/ops.h"

static struct sc_op_hdr
sample(void)
{
	struct sc_op_hdr h;

	memset(&h, 0, sizeof(h));
	h.magic = SC_OPS_MAGIC;
	h.version = SC_OPS_VERSION;
	h.op = SC_OP_INPUT;
	h.status = SC_ERR_AGAIN;
	h.domid = 0x01020304;
	h.session = 0xa1b2c3d4;
	h.arg = 77;
	h.len = SC_OP_PAYLOAD_MAX;
	h.seq = 0xfffffffe;
	return h;
}

static void
test_roundtrip(void **state)
{
	struct sc_op_hdr h = sample(), g;
	uint8_t mem[SC_OP_HDR_LEN + 5];
	struct sc_buf b;

	(void)state;
	sc_buf_init(&b, mem, sizeof(mem));
	assert_int_equal(sc_op_hdr_put(&b, &h), 0);
	assert_int_equal(b.len, SC_OP_HDR_LEN);
	/* Little-endian layout from ops.h. */
	assert_memory_equal(mem, "SCOP\x03\x00\x06\x00", 8);
	assert_memory_equal(mem + 8, "\xea\xff\xff\xff", 4);	/* -22 */
	assert_memory_equal(mem + 12, "\x04\x03\x02\x01", 4);
	assert_memory_equal(mem + 16, "\xd4\xc3\xb2\xa1", 4);
	assert_memory_equal(mem + 20, "\x4d\x00\x00\x00", 4);
	assert_memory_equal(mem + 24, "\x00\x80\x00\x00", 4);
	assert_memory_equal(mem + 28, "\xfe\xff\xff\xff", 4);
	assert_int_equal(sc_buf_put_bytes(&b, "abcde", 5), 0);
	assert_int_equal(sc_op_hdr_get(&b, &g), 0);
	assert_int_equal(b.off, SC_OP_HDR_LEN);
	assert_memory_equal(&g, &h, sizeof(h));
	assert_int_equal(g.status, SC_ERR_AGAIN);
	/* Payload follows untouched. */
	assert_int_equal(sc_buf_avail(&b), 5);
}

static void
check_bad(const uint8_t *mem, size_t len, int want)
{
	struct sc_op_hdr g;
	struct sc_buf b;

	sc_buf_init_ro(&b, mem, len);
	memset(&g, 0x55, sizeof(g));
	assert_int_equal(sc_op_hdr_get(&b, &g), want);
	/* Nothing consumed, nothing half-filled. */
	assert_int_equal(b.off, 0);
	assert_int_equal(g.magic, 0);
	assert_int_equal(g.len, 0);
	assert_int_equal(g.op, 0);
}

static void
test_bad(void **state)
{
	struct sc_op_hdr h = sample();
	uint8_t mem[SC_OP_HDR_LEN], bad[SC_OP_HDR_LEN];
	struct sc_buf b;
	size_t k;

	(void)state;
	sc_buf_init(&b, mem, sizeof(mem));
	assert_int_equal(sc_op_hdr_put(&b, &h), 0);
	for (k = 0; k < SC_OP_HDR_LEN; k++)
		check_bad(mem, k, SC_ERR_TRUNCATED);
	for (k = 0; k < 4; k++) {
		memcpy(bad, mem, sizeof(bad));
		bad[k] ^= 0x01;
		check_bad(bad, sizeof(bad), SC_ERR_MAGIC);
	}
	memcpy(bad, mem, sizeof(bad));
	bad[4] = 1;	/* the version before STATUS lost its ring fields */
	check_bad(bad, sizeof(bad), SC_ERR_VERSION);
	bad[4] = 2;	/* the version before PROTECT carried a token */
	check_bad(bad, sizeof(bad), SC_ERR_VERSION);
	bad[4] = 4;
	check_bad(bad, sizeof(bad), SC_ERR_VERSION);
	bad[4] = 0;
	check_bad(bad, sizeof(bad), SC_ERR_VERSION);
	bad[4] = 2;
	bad[5] = 1;	/* version 0x0102 */
	check_bad(bad, sizeof(bad), SC_ERR_VERSION);
	memcpy(bad, mem, sizeof(bad));
	memcpy(bad + 24, "\x01\x80\x00\x00", 4);	/* 32769 */
	check_bad(bad, sizeof(bad), SC_ERR_TOOLONG);
	memcpy(bad + 24, "\xff\xff\xff\xff", 4);
	check_bad(bad, sizeof(bad), SC_ERR_TOOLONG);
}

static void
test_put_checks(void **state)
{
	struct sc_op_hdr h;
	uint8_t mem[SC_OP_HDR_LEN];
	struct sc_buf b;

	(void)state;
	sc_buf_init(&b, mem, sizeof(mem));
	h = sample();
	h.magic = 0;
	assert_int_equal(sc_op_hdr_put(&b, &h), SC_ERR_INVAL);
	h = sample();
	h.version = SC_OPS_VERSION + 1;
	assert_int_equal(sc_op_hdr_put(&b, &h), SC_ERR_INVAL);
	h = sample();
	h.len = SC_OP_PAYLOAD_MAX + 1;
	assert_int_equal(sc_op_hdr_put(&b, &h), SC_ERR_TOOLONG);
	assert_int_equal(b.len, 0);
	sc_buf_init(&b, mem, SC_OP_HDR_LEN - 1);
	h = sample();
	assert_int_equal(sc_op_hdr_put(&b, &h), SC_ERR_NOSPACE);
	assert_int_equal(b.len, 0);
}

/* sc_op_hdr_init: a header sc_op_hdr_put takes, with the given fields. */
static void
test_init(void **state)
{
	struct sc_op_hdr h, g;
	uint8_t mem[SC_OP_HDR_LEN];
	struct sc_buf b;

	(void)state;
	memset(&h, 0x55, sizeof(h));
	sc_op_hdr_init(&h, SC_OP_OUTPUT, 7, 8, 9, 10);
	assert_int_equal(h.magic, SC_OPS_MAGIC);
	assert_int_equal(h.version, SC_OPS_VERSION);
	assert_int_equal(h.op, SC_OP_OUTPUT);
	assert_int_equal(h.status, 0);
	assert_int_equal(h.domid, 7);
	assert_int_equal(h.session, 8);
	assert_int_equal(h.arg, 9);
	assert_int_equal(h.len, 0);
	assert_int_equal(h.seq, 10);
	sc_buf_init(&b, mem, sizeof(mem));
	assert_int_equal(sc_op_hdr_put(&b, &h), 0);
	assert_int_equal(sc_op_hdr_get(&b, &g), 0);
	assert_memory_equal(&g, &h, sizeof(h));
}

/*
 * sc_op_hdr_peek: the fields as sent, even of a header sc_op_hdr_get
 * refuses, nothing consumed; too short a buffer gives a zeroed header.
 */
static void
test_peek(void **state)
{
	struct sc_op_hdr h = sample(), g;
	uint8_t mem[SC_OP_HDR_LEN];
	struct sc_buf b;

	(void)state;
	sc_buf_init(&b, mem, sizeof(mem));
	assert_int_equal(sc_op_hdr_put(&b, &h), 0);
	mem[0] ^= 0xff;				/* bad magic */
	mem[24] = 0xff;				/* len way over the maximum */
	mem[25] = 0xff;
	sc_buf_init_ro(&b, mem, sizeof(mem));
	assert_int_equal(sc_op_hdr_get(&b, &g), SC_ERR_MAGIC);
	assert_int_equal(sc_op_hdr_peek(&b, &g), 0);
	assert_int_equal(b.off, 0);
	assert_int_equal(g.magic, h.magic ^ 0xff);
	assert_int_equal(g.op, h.op);
	assert_int_equal(g.status, h.status);
	assert_int_equal(g.domid, h.domid);
	assert_int_equal(g.session, h.session);
	assert_int_equal(g.arg, h.arg);
	assert_int_equal(g.len, 0xffff);
	assert_int_equal(g.seq, h.seq);
	sc_buf_init_ro(&b, mem, SC_OP_HDR_LEN - 1);
	memset(&g, 0x55, sizeof(g));
	assert_int_equal(sc_op_hdr_peek(&b, &g), SC_ERR_TRUNCATED);
	assert_int_equal(g.seq, 0);
	assert_int_equal(g.op, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_put_checks),
		cmocka_unit_test(test_init),
		cmocka_unit_test(test_peek),
	};

	return cmocka_run_group_tests_name("ops", tests, NULL, NULL);
}
