/*
 * ks_util.c — result table and host-name rule shared by the key server and
 * its agent.  The table is the normative list of error codes
 * (PROTOCOL.md §12, "Errors").
 */
#include "config.h"

#include <string.h>

#include "ks/ks.h"

static const struct {
	int		 status;
	const char	*code;
} results[KS_E__COUNT] = {
	[KS_OK]			= { 200, "ok" },
	[KS_E_BAD_JSON]		= { 400, "malformed_json" },
	[KS_E_BAD_FIELD]	= { 400, "invalid_field" },
	[KS_E_TOO_LARGE]	= { 413, "body_too_large" },
	[KS_E_UNAUTHORIZED]	= { 401, "unauthorized" },
	[KS_E_NOT_FOUND]	= { 404, "not_found" },
	[KS_E_METHOD]		= { 405, "method_not_allowed" },
	[KS_E_UNKNOWN_HOST]	= { 404, "unknown_host" },
	[KS_E_HOST_EXISTS]	= { 409, "host_exists" },
	[KS_E_REVOKED]		= { 403, "host_revoked" },
	[KS_E_NO_CERT]		= { 404, "no_certificate" },
	[KS_E_NONCE]		= { 403, "nonce_invalid" },
	[KS_E_NONCE_EXPIRED]	= { 403, "nonce_expired" },
	[KS_E_QUOTE_MALFORMED]	= { 400, "quote_malformed" },
	[KS_E_QUOTE_INVALID]	= { 403, "quote_invalid" },
	[KS_E_SIG_MALFORMED]	= { 400, "signature_malformed" },
	[KS_E_SIG_UNSUPPORTED]	= { 400, "signature_unsupported" },
	[KS_E_SIG_INVALID]	= { 403, "signature_invalid" },
	[KS_E_PCR_SELECTION]	= { 403, "pcr_selection_mismatch" },
	[KS_E_PCR_DIGEST]	= { 403, "pcr_digest_mismatch" },
	[KS_E_PCR_POLICY]	= { 403, "pcr_policy_mismatch" },
	[KS_E_KEY_PCR]		= { 403, "key_pcr_mismatch" },
	[KS_E_AK_INVALID]	= { 400, "ak_invalid" },
	[KS_E_BUSY]		= { 503, "busy" },
	[KS_E_QUOTA]		= { 429, "too_many_requests" },
	[KS_E_INTERNAL]		= { 500, "internal" },
	[KS_E_UNAVAILABLE]	= { 503, "storage_unavailable" },
	[KS_E_EK_INVALID]	= { 400, "ek_invalid" },
	[KS_E_EK_UNTRUSTED]	= { 403, "ek_untrusted" },
	[KS_E_AK_NOT_ACTIVATED]	= { 403, "ak_not_activated" },
	[KS_E_ACTIVATION]	= { 403, "activation_invalid" },
	[KS_E_ACTIVATION_EXPIRED] = { 403, "activation_expired" },
	[KS_E_NO_ACTIVATION]	= { 404, "no_activation" },
	[KS_E_OWNER_EXISTS]	= { 409, "owner_exists" },
	[KS_E_OWNER_PROOF]	= { 403, "owner_proof_invalid" },
};

int
ks_result_status(int r)
{
	if (r < 0 || r >= KS_E__COUNT)
		return 500;
	return results[r].status;
}

const char *
ks_result_code(int r)
{
	if (r < 0 || r >= KS_E__COUNT)
		return "internal";
	return results[r].code;
}

int
ks_host_valid(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > KS_HOST_MAX)
		return 0;
	/* Not "." or "..", no leading dot or dash: safe in paths and URLs. */
	if (s[0] == '.' || s[0] == '-')
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_'))
			return 0;
	}
	return 1;
}
