/*
 * ks_ownercli.h — the tenant's side of the key server's ownership-token
 * endpoint (PROTOCOL.md §12.10), used by sccrypt-term vm protect
 * --keyserver: challenge, proof of the owner key, answer.
 *
 * Nothing sent or received is secret (the proof is bound to a single-use
 * nonce, the token is public); the owner's secret key only keys the proof
 * and never leaves the caller.  A network attacker can deny service or
 * hand back a wrong token, which the hypervisor then refuses (with a
 * confirm the owner checks).
 */
#ifndef SC_KS_OWNERCLI_H
#define SC_KS_OWNERCLI_H

#include <stddef.h>
#include <stdint.h>

#include "core/blob.h"
#include "ks/ks.h"
#include "ks/at_http.h"

#define KS_OWNER_MSG_MAX	256	/* refusal text for the caller */

/*
 * The token for uuid and acl[0..n) (the blob's whole ACL, owner_sk's public
 * key among its owners).  0, or: SC_ERR_UNTRUSTED (the server refused; msg
 * has its code and message), SC_ERR_FORMAT (malformed answer, or one for
 * another VM), a network error of at_http_request.  timeout_ms bounds each
 * of the two requests.
 */
int	ks_owner_token_fetch(const struct at_url *u, const uint8_t owner_sk[32],
	    const uint8_t uuid[KS_UUID_LEN], const struct sc_acl_entry *acl,
	    unsigned n, unsigned int timeout_ms,
	    uint8_t token[KS_OWNER_TOKEN_LEN], char msg[KS_OWNER_MSG_MAX])
	    __attribute__((warn_unused_result));

#endif /* SC_KS_OWNERCLI_H */
