/*
 * at_hv.h — ask the hypervisor (sccrypt-hvsim) for its public key.
 */
#ifndef SC_AT_HV_H
#define SC_AT_HV_H

#include <stddef.h>
#include <stdint.h>

/*
 * Connect to the ops socket at path, send SC_OP_GET_INFO and return the hv
 * public key and the PCR index it was measured into.  SC_ERR_NOTFOUND if
 * nobody listens, SC_ERR_TIMEOUT, or the hv's negative status.
 */
int	at_hv_get_info(const char *path, unsigned int timeout_ms, uint8_t pk[32],
	    uint32_t *pcr_index) __attribute__((warn_unused_result));

/*
 * Parse one ops packet: the GET_INFO answer (fills pk/pcr_index), or
 * *skip = 1 for an event or another request's answer.
 */
int	at_hv_parse_info(const uint8_t *pkt, size_t len, uint8_t pk[32],
	    uint32_t *pcr_index, int *skip) __attribute__((warn_unused_result));

#endif /* SC_AT_HV_H */
