/*
 * readpass.h — passphrase input from /dev/tty with echo off (never readline).
 */
#ifndef SC_READPASS_H
#define SC_READPASS_H

#include <stddef.h>

#define SC_PASS_MAX		1024
#define SC_RP_CONFIRM		0x01	/* ask twice, fail if different */
#define SC_RP_ALLOW_STDIN	0x02	/* no tty: read one line from stdin (for scripts/tests) */

/*
 * Prompt on /dev/tty, read a line with echo off, restore the terminal (also
 * on SIGINT/SIGTERM, which are re-raised after restoring).  Returns a
 * sc_secure_alloc'd NUL-terminated string (free with sc_secure_free), or NULL
 * with *err set.  $SCCRYPT_PASSPHRASE_FD, if set, names a descriptor to read
 * the passphrase from instead (for tests and automation; documented).
 */
char	*sc_readpass(const char *prompt, int flags, int *err);

#endif /* SC_READPASS_H */
