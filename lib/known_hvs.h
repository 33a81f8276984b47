/*
 * known_hvs.h — the tenant's pinned hypervisor keys.
 */
#ifndef SC_KNOWN_HVS_H
#define SC_KNOWN_HVS_H

#include <stdint.h>

/*
 * known_hvs: pinned hv keys (trust on first use), one entry per line
 *   "<host> <vm|*> <fingerprint>"   ('#' comments and blank lines allowed).
 * check: 0 if an entry for host (ASCII case-insensitive) and vm (or "*")
 * carries hvkey's fingerprint; SC_ERR_MISMATCH if entries exist for them
 * but none matches; SC_ERR_NOTFOUND if none exists (or no file);
 * SC_ERR_FORMAT on a malformed line (fail closed).
 * add: replace the entries for exactly (host, vm) by one with hvkey
 * (atomic rewrite, mode 0600); vm may be "*".
 */
int	sc_known_hvs_check(const char *path, const char *host, const char *vm,
	    const uint8_t hvkey[32]) __attribute__((warn_unused_result));
int	sc_known_hvs_add(const char *path, const char *host, const char *vm,
	    const uint8_t hvkey[32]) __attribute__((warn_unused_result));

#endif /* SC_KNOWN_HVS_H */
