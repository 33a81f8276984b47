/*
 * at_hv.h — ask the hypervisor (sccrypt-hvsim) for its public key.
 */
#ifndef SC_AT_HV_H
#define SC_AT_HV_H

#include <stddef.h>
#include <stdint.h>

/*
 * Connect to the ops socket at path, send SC_OP_GET_INFO and return the hv
 * public key and the PCR index it was measured into.  Events are skipped.
 * SC_ERR_NOTFOUND if nobody listens, SC_ERR_PERM, SC_ERR_TOOLONG (path),
 * SC_ERR_TIMEOUT, SC_ERR_CLOSED if the hv hung up, SC_ERR_FORMAT for a
 * short answer, or the hv's negative status (SC_ERR_FORMAT if that is no
 * SC_ERR_* code).
 */
int	at_hv_get_info(const char *path, unsigned int timeout_ms, uint8_t pk[32],
	    uint32_t *pcr_index) __attribute__((warn_unused_result));

/*
 * Parse a GET_INFO response payload (len bytes, at least the 52 of ABI 1):
 * fills pk and pcr_index, or SC_ERR_FORMAT.  at_hv_get_info() uses it on
 * what sc_opsock_call() (lib/opsock.h) received.
 */
int	at_hv_info_payload(const uint8_t *p, size_t len, uint8_t pk[32],
	    uint32_t *pcr_index) __attribute__((warn_unused_result));

#endif /* SC_AT_HV_H */
