/*
 * fuzz_ks_http.c — libFuzzer harness for what sccrypt-attest reads from
 * the network and from the hypervisor's ops socket: HTTP/1.x responses
 * (at_http.c), key server URLs, and SC_OP_GET_INFO answer payloads
 * (at_hv_info_payload(); the packets around them are lib/opsock.c's, see
 * fuzz_opsock).
 *
 * Input: selector byte, then the bytes.  Invariants: a parsed response's
 * body lies inside the input and its status is 100..599; a GET_INFO
 * payload parses exactly when it has ABI 1's 52 bytes or more, and then
 * the key is its first 32 bytes and the PCR index the u32le at offset 48.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ks/at_http.h"
#include "at_hv.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* GET_INFO payload of ABI 1: hv_pubkey[32] and five u32, pcr_index last. */
#define GET_INFO_LEN	52

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *body;
	size_t len;
	struct at_url u;
	uint8_t pk[32];
	uint32_t pcr;
	char *s;
	int st, r;

	if (size < 1)
		return 0;
	switch (data[0] % 3) {
	case 0:
		if (at_http_parse_response(data + 1, size - 1, &st, &body,
		    &len) == 0 && (body < data + 1 || body + len > data + size ||
		    st < 100 || st > 599))
			abort();
		break;
	case 1:
		if ((s = malloc(size)) == NULL)
			return 0;
		memcpy(s, data + 1, size - 1);
		s[size - 1] = '\0';
		if (at_url_parse(s, &u) == 0 &&
		    (memchr(u.host, '\0', sizeof(u.host)) == NULL ||
		    memchr(u.port, '\0', sizeof(u.port)) == NULL))
			abort();
		free(s);
		break;
	case 2:
		r = at_hv_info_payload(data + 1, size - 1, pk, &pcr);
		if ((r == 0) != (size - 1 >= GET_INFO_LEN))
			abort();
		if (r == 0 && (memcmp(pk, data + 1, 32) != 0 ||
		    pcr != ((uint32_t)data[49] | (uint32_t)data[50] << 8 |
		    (uint32_t)data[51] << 16 | (uint32_t)data[52] << 24)))
			abort();
		break;
	}
	return 0;
}
