/* err.c — error code strings (freestanding). */
#include "core/compat.h"
#include "core/err.h"

static const char *const sc_err_strings[] = {
	[0] = "success",
	[1] = "internal error",
	[2] = "out of memory",
	[3] = "invalid argument",
	[4] = "buffer too small",
	[5] = "message truncated",
	[6] = "length exceeds limit",
	[7] = "bad magic",
	[8] = "unsupported protocol version",
	[9] = "unexpected message type",
	[10] = "malformed message",
	[11] = "authentication failed (tampered, replayed or reordered data, or wrong key)",
	[12] = "invalid public key",
	[13] = "nonce space exhausted",
	[14] = "operation not valid in this state",
	[15] = "expired",
	[16] = "bad signature",
	[17] = "not trusted",
	[18] = "wrong passphrase",
	[19] = "not found",
	[20] = "permission denied",
	[21] = "system error",
	[22] = "try again",
	[23] = "busy",
	[24] = "disk key does not match the domain's disk",
	[25] = "shared ring is corrupt",
	[26] = "closed by peer",
	[27] = "limit reached",
	[28] = "mismatch",
	[29] = "domain is protected",
	[30] = "not supported",
	[31] = "end of file",
	[32] = "timed out",
	[33] = "cancelled",
	[34] = "no space left on the device (disk full or quota reached)",
};

const char *
sc_err(int code)
{
	if (code > 0)
		code = 0;
	if (code < SC_ERR_MIN)
		return "unknown error";
	return sc_err_strings[-code];
}
