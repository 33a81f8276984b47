/*
 * at_hv.c — sccrypt-attest's tiny hv ops client: one SC_OP_GET_INFO over
 * the hypervisor's SOCK_SEQPACKET ops socket (lib/core/ops.h, through
 * lib/opsock.c) to learn the hv public key and the PCR it was measured
 * into.  Unsolicited EVENT packets and answers to other sequence numbers
 * are skipped.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/ops.h"
#include "opsock.h"
#include "at_hv.h"

#define GET_INFO_MIN	(32 + 5 * 4)	/* hv_pubkey + five u32 */

/*
 * The GET_INFO response payload: hv_pubkey[32] abi_version:u32 caps:u32
 * max_domains:u32 max_sessions:u32 pcr_index:u32 (longer is accepted: later
 * ABI versions may append fields).
 */
int
at_hv_info_payload(const uint8_t *p, size_t len, uint8_t pk[32],
    uint32_t *pcr_index)
{
	struct sc_buf pl;
	uint32_t abi, caps, maxd, maxs;

	if (len < GET_INFO_MIN)
		return SC_ERR_FORMAT;
	sc_buf_init_ro(&pl, p, len);
	if (sc_buf_get_bytes(&pl, pk, 32) < 0 ||
	    sc_buf_get_u32_le(&pl, &abi) < 0 ||
	    sc_buf_get_u32_le(&pl, &caps) < 0 ||
	    sc_buf_get_u32_le(&pl, &maxd) < 0 ||
	    sc_buf_get_u32_le(&pl, &maxs) < 0 ||
	    sc_buf_get_u32_le(&pl, pcr_index) < 0)
		return SC_ERR_FORMAT;
	return 0;
}

/* An hv status as our error: a known negative code, else SC_ERR_FORMAT. */
static int
hv_status(int32_t status)
{
	return status >= SC_ERR_MIN ? status : SC_ERR_FORMAT;
}

int
at_hv_get_info(const char *path, unsigned int timeout_ms, uint8_t pk[32],
    uint32_t *pcr_index)
{
	struct sc_opsock *os;
	struct sc_op_hdr req, resp;
	uint8_t *pay;
	int r;

	if ((r = sc_opsock_connect(path, NULL, NULL, &os)) < 0)
		return r;
	if ((pay = malloc(SC_OP_PAYLOAD_MAX)) == NULL) {
		sc_opsock_close(os);
		return SC_ERR_ALLOC;
	}
	memset(&req, 0, sizeof(req));
	req.op = SC_OP_GET_INFO;
	r = sc_opsock_call(os, &req, NULL, &resp, pay, SC_OP_PAYLOAD_MAX,
	    timeout_ms);
	if (r == SC_ERR_EOF)
		r = SC_ERR_CLOSED;	/* what this function always said */
	else if (r == 0 && resp.status < 0)
		r = hv_status(resp.status);
	else if (r == 0)
		r = at_hv_info_payload(pay, resp.len, pk, pcr_index);
	free(pay);
	sc_opsock_close(os);
	return r;
}
