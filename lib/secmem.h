/*
 * secmem.h — process and memory hygiene for programs that hold secrets.
 */
#ifndef SC_SECMEM_H
#define SC_SECMEM_H

#include <stddef.h>

/* sodium_init(); must be called first by every program.  0 or SC_ERR_*. */
int	sc_lib_init(void) __attribute__((warn_unused_result));
/* RLIMIT_CORE 0 and PR_SET_DUMPABLE 0: no core dumps, no ptrace by peers. */
int	sc_disable_core_dumps(void) __attribute__((warn_unused_result));
/* Guarded, locked allocation (sodium_malloc); NULL on failure. */
void	*sc_secure_alloc(size_t len);
/* Wipe and free (sodium_free); NULL is fine. */
void	sc_secure_free(void *p);
int	sc_secure_readonly(void *p);
int	sc_secure_readwrite(void *p);
/* Wipe (sodium_memzero). */
void	sc_memzero(void *p, size_t len);
/* Constant-time comparison: 0 when equal. */
int	sc_memeq_ct(const void *a, const void *b, size_t len);

#endif /* SC_SECMEM_H */
