/*
 * fuzz_handshake.c — core/handshake.h's readers on any bytes.  The first
 * byte picks the reader (HS1 payload, HS2 payload, a stream of op items),
 * the rest is its input.  Whatever a reader accepts must write back to
 * exactly the bytes it read; a refusal must consume nothing and leave the
 * struct zeroed.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/buf.h"
#include "core/handshake.h"
#include "core/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t zero[sizeof(struct sc_hs2)];

static void
payloads(const uint8_t *p, size_t n, bool hs1)
{
	uint8_t out[SC_HS2_PAYLOAD_LEN];
	struct sc_hs1 m1;
	struct sc_hs2 m2;
	struct sc_buf b, o;
	int r;

	sc_buf_init_ro(&b, p, n);
	sc_buf_init(&o, out, sizeof(out));
	if (hs1) {
		if ((r = sc_hs1_get(&b, &m1)) != 0) {
			if (b.off != 0 || memcmp(&m1, zero, sizeof(m1)) != 0)
				abort();
			return;
		}
		if (n != SC_HS1_PAYLOAD_LEN || (m1.flags & ~SC_HS1_F_KNOWN) != 0 ||
		    sc_hs1_put(&o, &m1) != 0)
			abort();
	} else {
		if ((r = sc_hs2_get(&b, &m2)) != 0) {
			if (b.off != 0 || memcmp(&m2, zero, sizeof(m2)) != 0)
				abort();
			return;
		}
		if (n != SC_HS2_PAYLOAD_LEN || sc_hs2_put(&o, &m2) != 0)
			abort();
	}
	if (sc_buf_avail(&b) != 0 || o.len != n || memcmp(out, p, n) != 0)
		abort();
}

static void
items(const uint8_t *p, size_t n)
{
	static uint8_t out[SC_OP_ITEM_MAX];
	const uint8_t *ct;
	struct sc_buf b, o;
	size_t off, len;

	sc_buf_init_ro(&b, p, n);
	for (;;) {
		off = b.off;
		if (sc_op_item_get(&b, &ct, &len) != 0) {
			if (b.off != off || ct != NULL || len != 0)
				abort();
			return;
		}
		if (len < SC_RECORD_CT_MIN || len > SC_RECORD_CT_MAX ||
		    ct != p + off + SC_OP_ITEM_HDR_LEN)
			abort();
		sc_buf_init(&o, out, sizeof(out));
		if (sc_op_item_put(&o, ct, len) != 0 || o.len != b.off - off ||
		    memcmp(out, p + off, o.len) != 0)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	switch (data[0] % 3) {
	case 0:	payloads(data + 1, size - 1, true); break;
	case 1:	payloads(data + 1, size - 1, false); break;
	default: items(data + 1, size - 1); break;
	}
	return 0;
}
