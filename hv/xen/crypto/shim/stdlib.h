/*
 * stdlib.h — freestanding stand-in for the libsodium sources compiled into
 * the hypervisor (hv/xen/crypto).  The reference implementations include
 * <stdlib.h> and <string.h> but use nothing from them beyond the few
 * functions declared in string.h; abort() is what sodium_misuse() would end
 * in and is routed to the platform (sc_ref_fatal).
 */
#ifndef SC_XEN_SHIM_STDLIB_H
#define SC_XEN_SHIM_STDLIB_H

#include <stddef.h>

#ifndef SC_REF_FATAL_DECLARED
#define SC_REF_FATAL_DECLARED
void	sc_ref_fatal(const char *why) __attribute__((__noreturn__));
#endif
#define abort()	sc_ref_fatal("abort")

#endif
