/* stdio.h — empty freestanding stand-in (libsodium headers include it). */
#ifndef SC_XEN_SHIM_STDIO_H
#define SC_XEN_SHIM_STDIO_H
#endif
