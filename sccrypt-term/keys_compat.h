/*
 * keys_compat.h — include lib/keys.h together with the protocol core.
 *
 * lib/keys.h (VM files: disk keys up to 255 bytes) and lib/core/wire.h
 * (sealed blobs: disk keys up to 128 bytes) both define SC_DISK_KEY_MAX with
 * different values, so one translation unit cannot include both as they
 * are.  Every sccrypt-term file includes this header first instead of
 * keys.h: struct sc_vmfile is laid out with keys.h's value, then the macro
 * is dropped and wire.h's (the protocol limit) is used from here on.  vm
 * protect checks a VM file's key against the protocol limit explicitly.
 */
#ifndef SCCRYPT_TERM_KEYS_COMPAT_H
#define SCCRYPT_TERM_KEYS_COMPAT_H

#include "keys.h"
#ifdef SC_CORE_WIRE_H
#error "include keys_compat.h before any core header"
#endif
#define SC_VMFILE_DISK_KEY_MAX	SC_DISK_KEY_MAX
#undef SC_DISK_KEY_MAX
#include "core/wire.h"

#endif /* SCCRYPT_TERM_KEYS_COMPAT_H */
