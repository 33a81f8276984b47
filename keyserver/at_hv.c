/*
 * at_hv.c — sccrypt-attest's tiny hv ops client: one SC_OP_GET_INFO over
 * the hypervisor's SOCK_SEQPACKET ops socket (lib/core/ops.h) to learn the
 * hv public key and the PCR it was measured into.  Unsolicited EVENT
 * packets and answers to other sequence numbers are skipped.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/ops.h"
#include "io.h"
#include "at_hv.h"

#define GET_INFO_MIN	(32 + 5 * 4)	/* hv_pubkey + five u32 */
#define AT_HV_SEQ	0x61747374u	/* "atst" */

int
at_hv_parse_info(const uint8_t *pkt, size_t len, uint8_t pk[32],
    uint32_t *pcr_index, int *skip)
{
	struct sc_buf b, pl;
	struct sc_op_hdr h;
	uint32_t abi, caps, maxd, maxs;
	int r;

	*skip = 0;
	sc_buf_init_ro(&b, pkt, len);
	if ((r = sc_op_hdr_get(&b, &h)) < 0)
		return r;
	if (h.op == SC_OP_EVENT || h.seq != AT_HV_SEQ) {
		*skip = 1;
		return 0;
	}
	if (h.op != SC_OP_GET_INFO)
		return SC_ERR_TYPE;
	if (h.status < 0)
		return h.status >= SC_ERR_MIN ? h.status : SC_ERR_FORMAT;
	if (h.len != sc_buf_avail(&b) || h.len < GET_INFO_MIN)
		return SC_ERR_FORMAT;
	if (sc_buf_get_sub(&b, h.len, &pl) < 0 ||
	    sc_buf_get_bytes(&pl, pk, 32) < 0 ||
	    sc_buf_get_u32_le(&pl, &abi) < 0 ||
	    sc_buf_get_u32_le(&pl, &caps) < 0 ||
	    sc_buf_get_u32_le(&pl, &maxd) < 0 ||
	    sc_buf_get_u32_le(&pl, &maxs) < 0 ||
	    sc_buf_get_u32_le(&pl, pcr_index) < 0)
		return SC_ERR_FORMAT;
	return 0;
}

int
at_hv_get_info(const char *path, unsigned int timeout_ms, uint8_t pk[32],
    uint32_t *pcr_index)
{
	struct sockaddr_un sun;
	struct sc_op_hdr h;
	struct sc_buf b;
	struct pollfd pfd;
	uint8_t req[SC_OP_HDR_LEN], *pkt = NULL;
	unsigned long long deadline = sc_now_ms() + timeout_ms, now;
	ssize_t n;
	int fd, r, skip;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		return SC_ERR_TOOLONG;
	strcpy(sun.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)) < 0)
		return SC_ERR_SYSTEM;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		r = errno == ENOENT || errno == ECONNREFUSED ? SC_ERR_NOTFOUND :
		    errno == EACCES ? SC_ERR_PERM : SC_ERR_SYSTEM;
		goto out;
	}
	memset(&h, 0, sizeof(h));
	h.magic = SC_OPS_MAGIC;
	h.version = SC_OPS_VERSION;
	h.op = SC_OP_GET_INFO;
	h.seq = AT_HV_SEQ;
	sc_buf_init(&b, req, sizeof(req));
	if ((r = sc_op_hdr_put(&b, &h)) < 0)
		goto out;
	if (send(fd, req, b.len, MSG_NOSIGNAL) != (ssize_t)b.len) {
		r = SC_ERR_SYSTEM;
		goto out;
	}
	if ((pkt = malloc(SC_OP_MAX)) == NULL) {
		r = SC_ERR_ALLOC;
		goto out;
	}
	for (;;) {
		now = sc_now_ms();
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (now >= deadline ||
		    poll(&pfd, 1, (int)(deadline - now)) <= 0) {
			r = SC_ERR_TIMEOUT;
			goto out;
		}
		n = recv(fd, pkt, SC_OP_MAX, MSG_TRUNC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = SC_ERR_CLOSED;
			goto out;
		}
		if ((size_t)n > SC_OP_MAX) {
			r = SC_ERR_TOOLONG;
			goto out;
		}
		if ((r = at_hv_parse_info(pkt, (size_t)n, pk, pcr_index,
		    &skip)) < 0)
			goto out;
		if (!skip)
			break;
	}
	r = 0;
 out:
	free(pkt);
	close(fd);
	return r;
}
