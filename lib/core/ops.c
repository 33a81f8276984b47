/*
 * ops.c — the hv ops header codec (core/ops.h): 32 bytes, little-endian.
 * The payload that follows is parsed by the op's own handler.
 */
#include "core/compat.h"
#include "core/err.h"
#include "core/buf.h"
#include "core/ops.h"

void
sc_op_hdr_init(struct sc_op_hdr *h, uint16_t op, uint32_t domid,
    uint32_t session, uint32_t arg, uint32_t seq)
{
	sc_memset(h, 0, sizeof(*h));
	h->magic = SC_OPS_MAGIC;
	h->version = SC_OPS_VERSION;
	h->op = op;
	h->domid = domid;
	h->session = session;
	h->arg = arg;
	h->seq = seq;
}

int
sc_op_hdr_peek(const struct sc_buf *b, struct sc_op_hdr *h)
{
	struct sc_buf v;
	uint32_t status;

	sc_memset(h, 0, sizeof(*h));
	if (sc_buf_avail(b) < SC_OP_HDR_LEN)
		return SC_ERR_TRUNCATED;
	sc_buf_init_ro(&v, sc_buf_rptr(b), SC_OP_HDR_LEN);
	if (sc_buf_get_u32_le(&v, &h->magic) != 0 ||
	    sc_buf_get_u16_le(&v, &h->version) != 0 ||
	    sc_buf_get_u16_le(&v, &h->op) != 0 ||
	    sc_buf_get_u32_le(&v, &status) != 0 ||
	    sc_buf_get_u32_le(&v, &h->domid) != 0 ||
	    sc_buf_get_u32_le(&v, &h->session) != 0 ||
	    sc_buf_get_u32_le(&v, &h->arg) != 0 ||
	    sc_buf_get_u32_le(&v, &h->len) != 0 ||
	    sc_buf_get_u32_le(&v, &h->seq) != 0) {
		sc_memset(h, 0, sizeof(*h));
		return SC_ERR_INTERNAL;
	}
	h->status = (int32_t)status;
	return 0;
}

/*
 * Reads exactly SC_OP_HDR_LEN bytes.  The fields are decoded from a private
 * view first, so on any failure b is unchanged and *h is zeroed.
 */
int
sc_op_hdr_get(struct sc_buf *b, struct sc_op_hdr *h)
{
	int r;

	if ((r = sc_op_hdr_peek(b, h)) != 0)
		return r;
	if (h->magic != SC_OPS_MAGIC)
		r = SC_ERR_MAGIC;
	else if (h->version != SC_OPS_VERSION)
		r = SC_ERR_VERSION;
	else if (h->len > SC_OP_PAYLOAD_MAX)
		r = SC_ERR_TOOLONG;
	else
		r = sc_buf_skip(b, SC_OP_HDR_LEN);
	if (r == 0)
		return 0;
	sc_memset(h, 0, sizeof(*h));
	return r;
}

/*
 * Writes the header as given, after the same checks the reader makes, so a
 * header this function writes is always one sc_op_hdr_get() accepts.
 * Either all 32 bytes are appended or b is unchanged.
 */
int
sc_op_hdr_put(struct sc_buf *b, const struct sc_op_hdr *h)
{
	if (h->magic != SC_OPS_MAGIC || h->version != SC_OPS_VERSION)
		return SC_ERR_INVAL;
	if (h->len > SC_OP_PAYLOAD_MAX)
		return SC_ERR_TOOLONG;
	if (sc_buf_room(b) < SC_OP_HDR_LEN)
		return SC_ERR_NOSPACE;
	if (sc_buf_put_u32_le(b, h->magic) != 0 ||
	    sc_buf_put_u16_le(b, h->version) != 0 ||
	    sc_buf_put_u16_le(b, h->op) != 0 ||
	    sc_buf_put_u32_le(b, (uint32_t)h->status) != 0 ||
	    sc_buf_put_u32_le(b, h->domid) != 0 ||
	    sc_buf_put_u32_le(b, h->session) != 0 ||
	    sc_buf_put_u32_le(b, h->arg) != 0 ||
	    sc_buf_put_u32_le(b, h->len) != 0 ||
	    sc_buf_put_u32_le(b, h->seq) != 0)
		return SC_ERR_INTERNAL;
	return 0;
}
