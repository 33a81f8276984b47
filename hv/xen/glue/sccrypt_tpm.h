/*
 * sccrypt_tpm.h — measure the hv public key into a TPM 2.0 PCR at boot.
 *
 * Xen side only (Xen headers).  A minimal TPM 2.0 driver for the PC
 * Client TIS (FIFO) interface at the standard MMIO window 0xfed40000:
 * one TPM2_PCR_Event command at locality 0, issued from sccrypt_init()
 * (an initcall: before dom0 is even built), then the locality is given
 * back so that dom0's kernel driver can use the TPM.  TPM2_PCR_Event
 * makes the TPM hash the event data in every active PCR bank and extend
 * the PCR with it: the SHA-256 bank receives SHA-256(pubkey), exactly the
 * extend sccrypt-hvsim makes (PROTOCOL.md §12.5 step 9), and Xen needs
 * no SHA-256 code of its own.  docs/xen.md §4 item 1 says which PCR and
 * locality and what dom0 can still do.
 */
#ifndef SCCRYPT_TPM_H
#define SCCRYPT_TPM_H

/* Include after <xen/types.h> (uint8_t, uint32_t, size_t). */

/* The PCR the hv key is measured into (the key server's default key PCR). */
#define SCCRYPT_KEY_PCR		15
#define SCCRYPT_TPM_DIGEST_LEN	32

/*
 * Extend PCR `pcr` (0..15) of every active bank with the hash of
 * data[0..len) (len 1..64), through TPM2_PCR_Event at locality 0, and
 * read the SHA-256 bank's value back into value_out (32 bytes).  Returns
 * 0; -ENODEV if no TPM 2.0 TIS interface answers at 0xfed40000;
 * -ETIMEDOUT if the TPM does not grant locality 0 or does not complete
 * a command in time; -EIO for a TPM error response (*tpm_rc, if not
 * NULL, gets the TPM's response code; TPM_RC_INITIALIZE 0x100 means the
 * firmware never sent TPM2_Startup) or an answer that does not parse;
 * -EINVAL for bad arguments.  Locality 0 is always relinquished before
 * returning.  __init: boot time only.
 */
int sccrypt_tpm_measure(unsigned int pcr, const uint8_t *data, size_t len,
                        uint8_t value_out[SCCRYPT_TPM_DIGEST_LEN],
                        uint32_t *tpm_rc);

#endif /* SCCRYPT_TPM_H */
