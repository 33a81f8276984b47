/*
 * policy.c — trust decision for the hypervisor key (see policy.h).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "log.h"
#include "policy.h"
#include "encode.h"
#include "known_hvs.h"

const char *
policy_how_name(enum policy_how how)
{
	switch (how) {
	case POLICY_CERT:	return "VMM certificate";
	case POLICY_FP:		return "--trust-hv-key";
	case POLICY_KNOWN:	return "known_hvs";
	case POLICY_TOFU:	return "accepted on first use";
	case POLICY_NONE:	break;
	}
	return "not trusted";
}

/* Host names go into known_hvs fields and messages: keep them tame. */
static bool
host_ok(const char *h)
{
	size_t i;

	if (h == NULL || h[0] == '\0' || strlen(h) > SC_HOSTNAME_MAX)
		return false;
	for (i = 0; h[i] != '\0'; i++) {
		unsigned char c = (unsigned char)h[i];

		if (c <= 0x20 || c >= 0x7f || c == '#')
			return false;
	}
	return true;
}

static const char *
cert_reason(int err)
{
	switch (err) {
	case SC_ERR_EXPIRED:	return "the VMM certificate has expired (or is not yet valid)";
	case SC_ERR_SIGNATURE:	return "the VMM certificate's signature does not verify";
	case SC_ERR_UNTRUSTED:	return "the VMM certificate is signed by a key server other than the pinned one";
	case SC_ERR_MISMATCH:	return "the VMM certificate is for another host or another hypervisor key";
	case SC_ERR_FORMAT:
	case SC_ERR_TRUNCATED:
	case SC_ERR_MAGIC:
	case SC_ERR_VERSION:	return "the VMM certificate is malformed";
	}
	return "the VMM certificate is not valid";
}

/*
 * The reason a checked certificate failed, as precisely as the certificate
 * allows: which host it names, which key, when it expired.  The certificate
 * is parsed again (untrusted) only to word the refusal.
 */
static void
cert_refusal(const struct policy *p, const struct sc_hello *h, char *msg,
    size_t msgsz)
{
	struct sc_cert c;
	char host[4 * 255 + 1], fp[SC_FINGERPRINT_LEN];

	if (sc_cert_parse(h->cert, h->cert_len, &c) < 0) {
		snprintf(msg, msgsz, "%s (hv key %s): refusing",
		    cert_reason(p->cert_err), p->fp);
		return;
	}
	sc_sanitize(host, sizeof(host), c.host, strlen(c.host));
	switch (p->cert_err) {
	case SC_ERR_MISMATCH:
		if (strcmp(c.host, p->host) != 0) {
			snprintf(msg, msgsz, "the VMM certificate is for another "
			    "host: it names \"%s\", you are connecting to \"%s\" "
			    "(hv key %s): refusing%s", host, p->host, p->fp,
			    strspn(p->host, "0123456789.:[]abcdefABCDEF") ==
			    strlen(p->host) && strpbrk(p->host, ".:") != NULL ?
			    "; connecting by address? name the host the "
			    "certificate is for with -H (--host)" : "");
			return;
		}
		sc_fingerprint(c.hv_pubkey, SC_KEY_LEN, fp);
		snprintf(msg, msgsz, "the hypervisor key %s that dom0 presented "
		    "is not the one the VMM certificate for %s certifies (%s): "
		    "refusing", p->fp, host, fp);
		return;
	case SC_ERR_EXPIRED:
		if (p->now >= c.expires)
			snprintf(msg, msgsz, "the VMM certificate for %s has "
			    "expired (%llu s ago; hv key %s): refusing", host,
			    (unsigned long long)(p->now - c.expires), p->fp);
		else
			snprintf(msg, msgsz, "the VMM certificate for %s is not "
			    "valid yet (issued %llu s in the future; hv key %s): "
			    "refusing", host,
			    (unsigned long long)(c.issued - p->now), p->fp);
		return;
	case SC_ERR_UNTRUSTED:
		sc_fingerprint(c.signer, 32, fp);
		snprintf(msg, msgsz, "the VMM certificate is signed by a key "
		    "server other than the pinned one (signer %s; hv key %s): "
		    "refusing", fp, p->fp);
		return;
	default:
		snprintf(msg, msgsz, "%s (hv key %s): refusing",
		    cert_reason(p->cert_err), p->fp);
		return;
	}
}

int
policy_verify(void *ctx, const struct sc_hello *h, char *msg, size_t msgsz)
{
	struct policy *p = ctx;
	const char *khost = host_ok(p->host) ? p->host : "-";
	const char *vm = h->vmname;
	bool cert_checked = false;
	const char *why_unchecked = NULL;
	int kr, r;

	p->how = POLICY_NONE;
	p->cert_valid = false;
	p->cert_err = 0;
	sc_fingerprint(h->hv_pubkey, SC_KEY_LEN, p->fp);

	/* 1. explicit fingerprint */
	if (p->trust_fp != NULL) {
		if (strcmp(p->trust_fp, p->fp) != 0) {
			snprintf(msg, msgsz, "the hypervisor key %s does not match "
			    "--trust-hv-key %s: refusing", p->fp, p->trust_fp);
			return SC_ERR_MISMATCH;
		}
		p->how = POLICY_FP;
		return 0;
	}

	/* 2. certificate */
	if (h->cert_len > 0) {
		if (!p->have_ks)
			why_unchecked = "no key server key is pinned "
			    "(sccrypt-term keyserver pin KEY)";
		else if (!host_ok(p->host))
			why_unchecked = "the host name is unknown (give --host NAME)";
		else {
			cert_checked = true;
			r = sc_cert_verify(h->cert, h->cert_len, p->ks_pubkey,
			    p->host, h->hv_pubkey, p->now, &p->cert);
			if (r == 0) {
				p->cert_valid = true;
				p->how = POLICY_CERT;
				return 0;
			}
			p->cert_err = r;
		}
	} else
		why_unchecked = "dom0 sent no VMM certificate";

	/* 3. a pinned key server makes the certificate mandatory */
	if (p->have_ks) {
		if (cert_checked) {
			cert_refusal(p, h, msg, msgsz);
			return p->cert_err < 0 ? p->cert_err : SC_ERR_UNTRUSTED;
		}
		if (h->cert_len == 0)
			snprintf(msg, msgsz, "dom0 withheld the VMM certificate: "
			    "the HELLO for %s carries none, and with a key server "
			    "pinned the hypervisor key (%s) must be certified; "
			    "refusing (a dom0 that strips the certificate may be "
			    "impersonating the hypervisor; if you know this key is "
			    "right, use --trust-hv-key %s)", vm, p->fp, p->fp);
		else
			snprintf(msg, msgsz, "cannot check the VMM certificate: %s; "
			    "with a key server pinned the hypervisor key (%s) must "
			    "be certified: refusing", why_unchecked, p->fp);
		return SC_ERR_UNTRUSTED;
	}

	/* 4. known_hvs */
	kr = p->known_hvs == NULL ? SC_ERR_NOTFOUND :
	    sc_known_hvs_check(p->known_hvs, khost, vm, h->hv_pubkey);
	if (kr == 0) {
		p->how = POLICY_KNOWN;
		return 0;
	}
	if (kr == SC_ERR_MISMATCH) {
		snprintf(msg, msgsz,
		    "WARNING: THE HYPERVISOR KEY FOR %s/%s HAS CHANGED! "
		    "Someone could be impersonating the hypervisor. The key is "
		    "now %s; %s pins another one.%s%s Refusing.",
		    khost, vm, p->fp, p->known_hvs,
		    cert_checked ? " Also: " : "",
		    cert_checked ? cert_reason(p->cert_err) : "");
		return SC_ERR_MISMATCH;
	}
	if (kr < 0 && kr != SC_ERR_NOTFOUND) {
		snprintf(msg, msgsz, "cannot use %s: %s", p->known_hvs, sc_err(kr));
		return kr;
	}

	/* 5. trust on first use (never for vm protect) */
	if (p->no_first_use) {
		snprintf(msg, msgsz, "cannot verify the hypervisor key %s: %s; "
		    "'vm protect' seals the VM secret and disk key to it, so it "
		    "is never trusted on first use: refusing (pin the key "
		    "server, or use --trust-hv-key %s if you know it is right)",
		    p->fp, why_unchecked, p->fp);
		return SC_ERR_UNTRUSTED;
	}
	if (!p->strict && p->ask != NULL && p->known_hvs != NULL) {
		char q[1024];

		snprintf(q, sizeof(q),
		    "The authenticity of the hypervisor of %s/%s can't be "
		    "established: %s.\r\nHypervisor key fingerprint is %s.\r\n"
		    "Are you sure you want to continue connecting (yes/no)? ",
		    khost, vm, why_unchecked ? why_unchecked : "no certificate",
		    p->fp);
		r = p->ask(p->ask_ctx, q);
		if (r == 1) {
			if ((r = sc_known_hvs_add(p->known_hvs, khost, vm,
			    h->hv_pubkey)) < 0) {
				snprintf(msg, msgsz, "cannot add the key to %s: %s",
				    p->known_hvs, sc_err(r));
				return r;
			}
			p->how = POLICY_TOFU;
			return 0;
		}
		if (r == 0) {
			snprintf(msg, msgsz, "hypervisor key %s not accepted", p->fp);
			return SC_ERR_CANCELLED;
		}
	}
	snprintf(msg, msgsz, "cannot verify the hypervisor key %s: %s; "
	    "refusing (use --trust-hv-key %s if you know it is right)",
	    p->fp, why_unchecked ? why_unchecked : "no certificate", p->fp);
	return SC_ERR_UNTRUSTED;
}
