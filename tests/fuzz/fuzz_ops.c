/*
 * fuzz_ops.c — the hv ops header parser.  A header that parses must write
 * back to exactly the same 32 bytes; a failed parse must consume nothing.
 * sc_op_hdr_peek must see the same fields as a successful parse.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/buf.h"
#include "core/ops.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sc_op_hdr h, peek;
	uint8_t out[SC_OP_HDR_LEN];
	struct sc_buf b, o;
	size_t off;

	sc_buf_init_ro(&b, data, size);
	for (;;) {
		off = b.off;
		if (sc_op_hdr_peek(&b, &peek) != 0 && sc_buf_avail(&b) >= SC_OP_HDR_LEN)
			abort();
		if (b.off != off)
			abort();		/* peeking consumes nothing */
		if (sc_op_hdr_get(&b, &h) != 0) {
			if (b.off != off)
				abort();	/* a failed parse consumes nothing */
			return 0;
		}
		if (h.magic != SC_OPS_MAGIC || h.version != SC_OPS_VERSION ||
		    h.len > SC_OP_PAYLOAD_MAX || memcmp(&h, &peek, sizeof(h)) != 0)
			abort();
		sc_buf_init(&o, out, sizeof(out));
		if (sc_op_hdr_put(&o, &h) != 0 || o.len != SC_OP_HDR_LEN ||
		    memcmp(out, sc_buf_rptr(&b) - SC_OP_HDR_LEN, SC_OP_HDR_LEN) != 0)
			abort();
		/* Skip the payload the header announces, if present. */
		if (sc_buf_skip(&b, h.len) != 0)
			return 0;
	}
}
