/*
 * platform.h — sccrypt-hvsim's links to the outside world: the TPM (PCR
 * extend with the hash of the hv public key) and LUKS2 disks (volume-key
 * check for binding).
 */
#ifndef SC_HVSIM_PLATFORM_H
#define SC_HVSIM_PLATFORM_H

#include <stddef.h>
#include <stdint.h>

/*
 * Extend PCR `pcr` (SHA-256 bank) with SHA-256(pk) through the TCTI
 * `tcti` (tpm2-tss TctiLdr syntax, e.g. "swtpm:host=127.0.0.1,port=2321").
 * On success the resulting PCR value is stored in value_out (may be NULL).
 * Errors: SC_ERR_SYSTEM (TPM unreachable or command failed), with a
 * message in err.
 */
int	hvsim_pcr_extend(const char *tcti, unsigned pcr, const uint8_t pk[32],
	    uint8_t value_out[32], char *err, size_t errsz)
	    __attribute__((warn_unused_result));

/*
 * 0 if key opens the LUKS2 image at path, SC_ERR_DISKKEY if it does not,
 * SC_ERR_SYSTEM if the image cannot be read as LUKS2.
 */
int	hvsim_disk_check(const char *path, const uint8_t *key, size_t len)
	    __attribute__((warn_unused_result));

#endif /* SC_HVSIM_PLATFORM_H */
