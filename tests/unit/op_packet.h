/*
 * op_packet.h — ops packets (header + payload) with any status and fields,
 * for the tests' fake hypervisors (test_opsock, test_ks_req).  Requests of
 * the test clients go through sc_hvc_op_build() (tests/helpers/hvclient.h),
 * which has no status.  Aborts if the packet does not fit (a broken test,
 * not a result).
 */
#ifndef TEST_OP_PACKET_H
#define TEST_OP_PACKET_H

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/ops.h"

/* Write the packet into out[0..cap); returns its length. */
static size_t
op_packet(uint8_t *out, size_t cap, uint16_t op, int32_t status, uint32_t domid,
    uint32_t session, uint32_t arg, uint32_t seq, const void *pl, size_t len)
{
	struct sc_op_hdr h;
	struct sc_buf b;

	sc_op_hdr_init(&h, op, domid, session, arg, seq);
	h.status = status;
	h.len = (uint32_t)len;
	sc_buf_init(&b, out, cap);
	if (sc_op_hdr_put(&b, &h) != 0 ||
	    (len > 0 && sc_buf_put_bytes(&b, pl, len) != 0))
		abort();
	return b.len;
}

#endif /* TEST_OP_PACKET_H */
