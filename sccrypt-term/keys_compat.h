/*
 * keys_compat.h — lib/keys.h with the protocol core's limits.
 *
 * lib/keys.h now takes SC_DISK_KEY_MAX from core/wire.h (a VM file holds
 * only disk keys a registration blob can carry), so this header is just the
 * two includes; it is kept so sccrypt-term files need not change.
 */
#ifndef SCCRYPT_TERM_KEYS_COMPAT_H
#define SCCRYPT_TERM_KEYS_COMPAT_H

#include "keys.h"
#include "core/wire.h"

#endif /* SCCRYPT_TERM_KEYS_COMPAT_H */
