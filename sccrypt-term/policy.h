/*
 * policy.h — whether sccrypt-term trusts the hypervisor key in a HELLO.
 *
 * Order of the decision (PROTOCOL.md §10, "Certificate policy"):
 *  1. --trust-hv-key FP given: the key's fingerprint must equal FP, else
 *     refuse.  Equal: trusted, certificate or not.
 *  2. A certificate in the HELLO, the key server key pinned and the host
 *     known: sc_cert_verify (signature, host, hv key, expiry).  Valid:
 *     trusted.
 *  3. A key server is pinned: the certificate is mandatory.  None in the
 *     HELLO: refuse, saying that dom0 withheld it (it is dom0 that puts it
 *     there); one that failed step 2, or could not be checked: refuse with
 *     the reason.  Neither known_hvs nor a prompt can stand in for it: a
 *     dom0 that strips the certificate gets nothing.
 *  4. known_hvs (no key server pinned): an entry for (host, VM) or
 *     (host, *) with this fingerprint: trusted.  Entries for (host, VM) but
 *     none with this fingerprint: refuse loudly (the key changed).
 *  5. No certificate and no entry: ask on the terminal (trust on first use)
 *     unless strict or no_first_use is set (`vm protect`, which seals the
 *     VM secret and the disk key to the key: never on trust on first use);
 *     "yes" adds an entry.
 */
#ifndef SCCRYPT_TERM_POLICY_H
#define SCCRYPT_TERM_POLICY_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include "core/wire.h"
#include "encode.h"
#include "cert.h"
#include "core/frame.h"

enum policy_how {
	POLICY_NONE = 0,
	POLICY_CERT,		/* valid certificate */
	POLICY_FP,		/* --trust-hv-key */
	POLICY_KNOWN,		/* known_hvs entry */
	POLICY_TOFU,		/* accepted at the prompt (entry added) */
};

struct policy {
	const char	*host;		/* expected host name, or NULL */
	const char	*vmname;
	bool		have_ks;
	uint8_t		ks_pubkey[32];
	const char	*trust_fp;	/* --trust-hv-key, or NULL */
	const char	*known_hvs;	/* path, or NULL */
	bool		strict;		/* never prompt */
	bool		no_first_use;	/* never trust on first use (vm protect) */
	uint64_t	now;		/* unix seconds */
	/* Ask a yes/no question: 1 yes, 0 no, negative: cannot ask. */
	int		(*ask)(void *ctx, const char *question);
	void		*ask_ctx;

	/* Results */
	enum policy_how	how;
	char		fp[SC_FINGERPRINT_LEN];
	bool		cert_valid;
	struct sc_cert	cert;
	int		cert_err;	/* sc_cert_verify's code, if it failed */
};

/* The sess_config.verify callback: ctx is a struct policy. */
int	policy_verify(void *ctx, const struct sc_hello *h, char *msg, size_t msgsz);

const char *policy_how_name(enum policy_how how);

#endif /* SCCRYPT_TERM_POLICY_H */
