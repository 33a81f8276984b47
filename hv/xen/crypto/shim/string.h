/*
 * string.h — freestanding stand-in for the libsodium sources compiled into
 * the hypervisor.  Both hosted libc and Xen provide these four.
 */
#ifndef SC_XEN_SHIM_STRING_H
#define SC_XEN_SHIM_STRING_H

#include <stddef.h>

void	*memcpy(void *, const void *, size_t);
void	*memmove(void *, const void *, size_t);
void	*memset(void *, int, size_t);
int	 memcmp(const void *, const void *, size_t);

#endif
