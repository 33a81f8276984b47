/*
 * secmem.c — process and memory hygiene for programs that hold secrets.
 *
 * Thin wrappers over libsodium's guarded allocator and the kernel's
 * core-dump/ptrace controls, so that every program does the same thing.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/resource.h>
#ifdef HAVE_SYS_PRCTL_H
#include <sys/prctl.h>
#endif

#include <sodium.h>

#include "core/err.h"
#include "secmem.h"

/*
 * Initialise libsodium.  Safe to call more than once (sodium_init returns 1
 * when it already ran).
 */
int
sc_lib_init(void)
{
	if (sodium_init() < 0)
		return SC_ERR_INTERNAL;
	return 0;
}

/*
 * No core files (they would contain decrypted keys) and, on Linux, not
 * dumpable: other processes of the same user cannot ptrace us or read
 * /proc/PID/mem.  Both must succeed.
 */
int
sc_disable_core_dumps(void)
{
	struct rlimit rl;

	rl.rlim_cur = 0;
	rl.rlim_max = 0;
	if (setrlimit(RLIMIT_CORE, &rl) == -1)
		return SC_ERR_SYSTEM;
#if defined(HAVE_PRCTL) && defined(PR_SET_DUMPABLE)
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		return SC_ERR_SYSTEM;
#endif
	return 0;
}

/* Guarded allocation: guard pages, canary, mlock'ed, wiped on free. */
void *
sc_secure_alloc(size_t len)
{
	if (len == 0)
		len = 1;
	return sodium_malloc(len);
}

void
sc_secure_free(void *p)
{
	if (p != NULL)
		sodium_free(p);
}

int
sc_secure_readonly(void *p)
{
	if (p == NULL)
		return SC_ERR_INVAL;
	return sodium_mprotect_readonly(p) == 0 ? 0 : SC_ERR_SYSTEM;
}

int
sc_secure_readwrite(void *p)
{
	if (p == NULL)
		return SC_ERR_INVAL;
	return sodium_mprotect_readwrite(p) == 0 ? 0 : SC_ERR_SYSTEM;
}

void
sc_memzero(void *p, size_t len)
{
	if (p != NULL && len > 0)
		sodium_memzero(p, len);
}

/* Constant time in len; 0 when equal, -1 otherwise. */
int
sc_memeq_ct(const void *a, const void *b, size_t len)
{
	if (len == 0)
		return 0;
	return sodium_memcmp(a, b, len) == 0 ? 0 : -1;
}
