/*
 * fuzz_hello.c — the clear-text HELLO scanner and the HELLO / ERROR bodies.
 *
 * Input: byte 0 gives the chunk size for the scanner (plus 1); the rest is
 * what dom0 sends before and after the magic.  Checks that the scanner
 * neither loses nor duplicates clear text (clear text + magic + encoding
 * char + rest == input), stays within its output bound, and that the bytes
 * after the magic parse as a HELLO body and as an ERROR body without fault;
 * an accepted HELLO must re-encode to exactly the same bytes.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/buf.h"
#include "core/frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t clear[65536 + SC_HELLO_MAGIC_LEN], out[256 + SC_HELLO_MAGIC_LEN];
static struct sc_hello h;
static uint8_t reenc[SC_FRAME_BODY_MAX];

static void
parse_bodies(const uint8_t *p, size_t n)
{
	char text[SC_ERRMSG_MAX + 1];
	struct sc_buf b;
	uint16_t code;
	size_t i;

	sc_buf_init_ro(&b, p, n);
	if (sc_hello_parse(&b, &h) == 0) {
		if (!sc_vmname_valid(h.vmname, strlen(h.vmname)))
			abort();
		sc_buf_init(&b, reenc, sizeof(reenc));
		if (sc_hello_encode(&h, &b) != 0 || b.len != n ||
		    memcmp(reenc, p, n) != 0)
			abort();
	}
	sc_buf_init_ro(&b, p, n);
	if (sc_errorframe_parse(&b, &code, text) == 0) {
		for (i = 0; text[i] != '\0'; i++)
			if (text[i] < 0x20 || text[i] > 0x7e)
				abort();
		if (i > SC_ERRMSG_MAX)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sc_hello_scanner s;
	size_t chunk, pos = 0, n, clen, used, total = 0;
	int r;

	if (size < 1 || size > 65536)
		return 0;
	chunk = (size_t)data[0] + 1;
	data++;
	size--;
	sc_hello_scanner_init(&s);
	while (pos < size) {
		n = size - pos < chunk ? size - pos : chunk;
		r = sc_hello_scan(&s, data + pos, n, out, &clen, &used);
		if (r < 0 || clen > n + SC_HELLO_MAGIC_LEN || used > n)
			abort();
		memcpy(clear + total, out, clen);
		total += clen;
		if (r == 1) {
			pos += used;
			/* Clear text, then the magic and its encoding char. */
			if (pos < SC_HELLO_MAGIC_LEN + 1 ||
			    total != pos - SC_HELLO_MAGIC_LEN - 1 ||
			    memcmp(clear, data, total) != 0 ||
			    memcmp(data + total, SC_HELLO_MAGIC, SC_HELLO_MAGIC_LEN) != 0 ||
			    data[pos - 1] != s.encoding)
				abort();
			parse_bodies(data + pos, size - pos);
			return 0;
		}
		if (used != n)
			abort();
		pos += n;
	}
	total += sc_hello_scan_flush(&s, clear + total);
	if (total != size || memcmp(clear, data, size) != 0)
		abort();
	/* Also parse the raw input as bodies. */
	parse_bodies(data, size);
	return 0;
}
