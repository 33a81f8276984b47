/*
 * vmfile.h — the tenant's VM file: a key file of kind SC_KEY_KIND_VM.
 */
#ifndef SC_VMFILE_H
#define SC_VMFILE_H

#include <stddef.h>
#include <stdint.h>

#include "core/wire.h"	/* SC_DISK_KEY_MAX */

/*
 * VM file (kind SC_KEY_KIND_VM) payload:
 *   uuid[16]  vm_secret[32]  disk_key:str8 (0..SC_DISK_KEY_MAX; 0 = a
 *   user's VM file without the disk key: it opens sessions, cannot bind)
 *   name:str8 (1..255, printable ASCII).  Keep struct sc_vmfile in
 *   sc_secure_alloc memory.  The disk key limit is the protocol's
 *   (core/wire.h): a VM file holds only keys a registration blob can carry.
 */
#define SC_VM_SECRET_LEN	32
#define SC_VMFILE_DISK_KEY_MAX	SC_DISK_KEY_MAX
#define SC_VM_NAME_MAX		255
struct sc_vmfile {
	uint8_t		uuid[16];
	uint8_t		secret[SC_VM_SECRET_LEN];
	uint8_t		disk_key[SC_VMFILE_DISK_KEY_MAX];
	size_t		disk_key_len;
	char		name[SC_VM_NAME_MAX + 1];
};
int	sc_vmfile_encode(const struct sc_vmfile *vm, uint8_t *out, size_t outsz,
	    size_t *outlen) __attribute__((warn_unused_result));
int	sc_vmfile_decode(const uint8_t *in, size_t len, struct sc_vmfile *vm)
	    __attribute__((warn_unused_result));
int	sc_vmfile_write(const char *path, const struct sc_vmfile *vm,
	    const char *passphrase, const char *comment)
	    __attribute__((warn_unused_result));
/* *vm is sc_secure_alloc'd; free with sc_secure_free. */
int	sc_vmfile_read(const char *path, const char *passphrase, struct sc_vmfile **vm)
	    __attribute__((warn_unused_result));

#endif /* SC_VMFILE_H */
