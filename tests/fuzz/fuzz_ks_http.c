/*
 * fuzz_ks_http.c — libFuzzer harness for what sccrypt-attest reads from
 * the network and from the hypervisor's ops socket: HTTP/1.x responses
 * (at_http.c), key server URLs, and SC_OP_GET_INFO answers (at_hv.c).
 *
 * Input: selector byte, then the bytes.  Invariants: a parsed response's
 * body lies inside the input and its status is 100..599.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "at_http.h"
#include "at_hv.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *body;
	size_t len;
	struct at_url u;
	uint8_t pk[32];
	uint32_t pcr;
	char *s;
	int st, skip;

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
		(void)at_hv_parse_info(data + 1, size - 1, pk, &pcr, &skip);
		break;
	}
	return 0;
}
