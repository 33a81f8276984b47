/*
 * fuzz_protect.c — the PROTECT payload parser (core/owner.h): a payload
 * that parses must split into views inside the input that write back to
 * exactly the same bytes; the token check must not crash on any view.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/err.h"
#include "core/buf.h"
#include "core/crypto.h"
#include "core/owner.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[SC_PROTECT_PAYLOAD_MAX];
	static const uint8_t ca[SC_OWNER_CA_LEN] = { 1 };
	struct sc_acl_entry acl[1];
	uint8_t uuid[SC_UUID_LEN];
	const uint8_t *blob, *token;
	struct sc_buf o;
	size_t blen;

	if (sodium_init() < 0)
		abort();
	if (sc_protect_payload_get(data, size, &blob, &blen, &token) != 0)
		return 0;
	if (blob != data || blen == 0 || blen > SC_BLOB_MAX ||
	    blen + (token ? SC_OWNER_TOKEN_LEN : 0) + 1 != size ||
	    (token != NULL && token != data + blen))
		abort();
	sc_buf_init(&o, out, sizeof(out));
	if (sc_protect_payload_put(&o, blob, blen, token) != 0 || o.len != size ||
	    memcmp(out, data, size) != 0)
		abort();
	memset(acl, 0, sizeof(acl));
	memset(uuid, 0, sizeof(uuid));
	memcpy(acl[0].pubkey, blob, blen < SC_KEY_LEN ? blen : SC_KEY_LEN);
	memcpy(uuid, blob, blen < SC_UUID_LEN ? blen : SC_UUID_LEN);
	if (sc_owner_verify(sc_crypto_sodium(), ca, uuid, acl, 1, token) == 0)
		abort();	/* nobody holds the secret of this CA key */
	return 0;
}
