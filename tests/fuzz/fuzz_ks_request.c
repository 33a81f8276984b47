/*
 * fuzz_ks_request.c — libFuzzer harness for every JSON body the key server
 * and sccrypt-attest parse (lib/ks/ks_req.c): enroll and attest
 * requests, nonce, certificate and error responses, EK activation answers
 * (POST /v1/activate) and challenges (GET /v1/hosts/NAME/activation).
 *
 * Input: selector byte, then the body.  Invariants: a parsed request only
 * holds values within the documented limits (valid host name, PCR indices
 * below 24, key PCR not in the policy, decoded sizes within bounds); an
 * enrollment's policy pins a static PCR and no resettable one, and its key
 * PCR is neither resettable nor DRTM-reset without PCR 17 pinned; the
 * an enrollment has exactly one of an EK certificate (1..KS_EKCERT_MAX
 * bytes) and insecure_ak; an activation answer names a valid host; the
 * error text is always a NUL-terminated string; parsing is deterministic.
 *
 * Selector bytes 0xf0..0xff (older seeds keep their meaning) pick the
 * ownership-token bodies (PROTOCOL.md §12.10): the operator's
 * registration, the tenant's challenge/answer request and both
 * responses.  Invariants: a parsed answer has 1..KS_OWNER_ACL_MAX entries,
 * distinct keys, at least one owner, flags 0 or 1; a refused request is
 * wiped (it may hold a proof); parsing is deterministic.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ks/ks.h"
#include "ks/ks_req.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_why(const char *why)
{
	if (memchr(why, '\0', KS_WHY_MAX) == NULL)
		abort();
}

#define OWNER_SELECTOR	0xf0

static void
owner_bodies(uint8_t sel, const uint8_t *body, size_t len)
{
	static struct ks_owner_token_req tr, tr2;
	static const struct ks_owner_token_req zero;
	struct ks_owner_reg_req rr;
	struct ks_owner_challenge_resp ch;
	struct ks_owner_token_resp tk;
	char why[KS_WHY_MAX];
	unsigned int i, j, owners;
	int r, r2;

	switch (sel % 4) {
	case 0:
		r = ks_parse_owner_token(body, len, &tr, why);
		check_why(why);
		if (r != KS_OK && memcmp(&tr, &zero, sizeof(tr)) != 0)
			abort();	/* a refused body leaves nothing behind */
		if (r == KS_OK && tr.answer) {
			if (tr.acl_count == 0 || tr.acl_count > KS_OWNER_ACL_MAX)
				abort();
			for (i = 0, owners = 0; i < tr.acl_count; i++) {
				if (tr.acl[i].flags > 1)
					abort();
				owners += tr.acl[i].flags;
				for (j = 0; j < i; j++)
					if (memcmp(tr.acl[i].key, tr.acl[j].key,
					    KS_X25519_LEN) == 0)
						abort();
			}
			if (owners == 0)
				abort();
		}
		if (r == KS_OK && !tr.answer && tr.acl_count != 0)
			abort();
		r2 = ks_parse_owner_token(body, len, &tr2, why);
		if (r != r2 || (r == KS_OK && memcmp(&tr, &tr2, sizeof(tr)) != 0))
			abort();
		break;
	case 1:
		r = ks_parse_owner_reg(body, len, &rr, why);
		check_why(why);
		if (r == KS_OK && rr.replace != 0 && rr.replace != 1)
			abort();
		break;
	case 2:
		(void)ks_parse_owner_challenge_resp(body, len, &ch, why);
		check_why(why);
		break;
	case 3:
		(void)ks_parse_owner_token_resp(body, len, &tk, why);
		check_why(why);
		break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ks_attest_req ar, ar2;
	static struct ks_enroll_req er;
	struct ks_nonce_resp nr;
	struct ks_cert_resp cr;
	struct ks_error_resp xr;
	struct ks_activate_req act;
	static struct ks_activation_resp chal;
	char why[KS_WHY_MAX];
	const uint8_t *body;
	size_t len;
	int r, r2;

	if (size < 1)
		return 0;
	body = data + 1;
	len = size - 1;
	(void)ks_json_depth(body, len);
	if (data[0] >= OWNER_SELECTOR) {
		owner_bodies(data[0], body, len);
		return 0;
	}
	switch (data[0] % 7) {
	case 0:
		r = ks_parse_attest(body, len, &ar, why);
		check_why(why);
		if (r == KS_OK) {
			if (!ks_host_valid(ar.host) || ar.quote_len == 0 ||
			    ar.quote_len > KS_QUOTE_MAX || ar.sig_len == 0 ||
			    ar.sig_len > KS_SIG_MAX || ar.pcr_mask == 0 ||
			    (ar.pcr_mask >> KS_PCR_COUNT) != 0)
				abort();
		}
		r2 = ks_parse_attest(body, len, &ar2, why);
		if (r != r2 || (r == KS_OK && memcmp(&ar, &ar2, sizeof(ar)) != 0))
			abort();
		break;
	case 1:
		r = ks_parse_enroll(body, len, &er, why);
		check_why(why);
		if (r == KS_OK) {
			if (!ks_host_valid(er.name) || er.ak_len == 0 ||
			    er.ak_len > sizeof(er.ak) ||
			    er.policy.key_pcr >= KS_PCR_COUNT ||
			    (er.policy.pcr_mask >> KS_PCR_COUNT) != 0 ||
			    (er.policy.pcr_mask & (1u << er.policy.key_pcr)) ||
			    (er.policy.pcr_mask & KS_PCR_RESETTABLE) ||
			    !(er.policy.pcr_mask & KS_PCR_STATIC) ||
			    (((1u << er.policy.key_pcr) & (KS_PCR_RESETTABLE |
			    KS_PCR_DRTM)) && !(er.policy.pcr_mask &
			    (1u << KS_PCR_DRTM_LAUNCH))) ||
			    ks_policy_check(&er.policy, why) != KS_OK ||
			    (er.ek_cert_len > 0) == (er.insecure_ak != 0) ||
			    er.ek_cert_len > sizeof(er.ek_cert))
				abort();
		}
		break;
	case 2:
		if (ks_parse_nonce_resp(body, len, &nr, why) == KS_OK &&
		    (nr.key_pcr >= KS_PCR_COUNT || (nr.pcr_mask >> KS_PCR_COUNT)))
			abort();
		check_why(why);
		break;
	case 3:
		if (ks_parse_cert_resp(body, len, &cr, why) == KS_OK &&
		    (cr.cert_len == 0 || cr.cert_len > KS_CERT_MAX))
			abort();
		check_why(why);
		break;
	case 4:
		if (ks_parse_error_resp(body, len, &xr) == KS_OK) {
			size_t i;

			for (i = 0; xr.message[i] != '\0'; i++)
				if (xr.message[i] < 0x20 || xr.message[i] > 0x7e)
					abort();
		}
		break;
	case 5:
		if (ks_parse_activate(body, len, &act, why) == KS_OK &&
		    !ks_host_valid(act.host))
			abort();
		check_why(why);
		break;
	case 6:
		if (ks_parse_activation_resp(body, len, &chal, why) == KS_OK &&
		    (chal.blob_len == 0 || chal.blob_len > sizeof(chal.blob) ||
		    chal.enc_len == 0 || chal.enc_len > sizeof(chal.enc)))
			abort();
		check_why(why);
		break;
	}
	return 0;
}
