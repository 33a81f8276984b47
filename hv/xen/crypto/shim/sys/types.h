/* sys/types.h — empty freestanding stand-in (libsodium headers include it). */
#ifndef SC_XEN_SHIM_SYS_TYPES_H
#define SC_XEN_SHIM_SYS_TYPES_H
#endif
