/*
 * hv_test_platform.h — what the hv core's unit tests (test_hv_*.c) share:
 * a context on the heap with its history arena, the disk-key hook, and
 * domains added on fresh rings.
 *
 * Contract:
 *   - hvt_platform() starts a platform: arg is the struct hvt (a test's own
 *     hooks find the test's state with hvt_arg(arg)), check_disk_key is
 *     hvt_check_disk; the test adds its other hooks after.
 *   - hvt_check_disk() accepts a key of HVT_DISK_KEY_LEN bytes that equals
 *     the one declared for the domain (hvt_domain_add with a key); the key
 *     and UUID are read through the test's pointers, at the time of the
 *     check.  A UUID other than the declared one, or a domid never declared,
 *     is SC_ERR_INTERNAL (the core asked about the wrong domain); a wrong key
 *     SC_ERR_DISKKEY.  With no key declared at all, any key of
 *     HVT_DISK_KEY_LEN bytes opens every disk (tests that do not check keys).
 *   - hvt_init() allocates and initialises the context (sk NULL: a random
 *     key), hvt_domain_add() resets a ring and adds a domain on it; either
 *     fails the running cmocka test on error.  hvt_free() wipes and frees
 *     the context and zeroes t; it may be called again, or on a zeroed
 *     struct hvt.
 * Single-threaded setup; hvt_check_disk only reads and may run on any
 * thread once setup is done.
 */
#ifndef SC_HV_TEST_PLATFORM_H
#define SC_HV_TEST_PLATFORM_H

#include <stddef.h>
#include <stdint.h>

#include "core/crypto.h"
#include "hv/core/hv.h"

#define HVT_DISKS_MAX		4	/* domains with a declared disk key */
#define HVT_DISK_KEY_LEN	32

struct hvt_disk {
	uint32_t	 domid;
	const uint8_t	*uuid;		/* SC_UUID_LEN bytes, the test's */
	const uint8_t	*key;		/* HVT_DISK_KEY_LEN bytes, the test's */
};

struct hvt {
	struct sc_hv	*hv;
	uint8_t		*arena;
	size_t		 arena_len;
	void		*arg;		/* the test's, for its own hooks */
	unsigned	 ndisks;
	struct hvt_disk	 disks[HVT_DISKS_MAX];
};

/* Zero pf, then arg = t (t->arg = arg) and check_disk_key = hvt_check_disk. */
void	hvt_platform(struct hvt *t, struct sc_hv_platform *pf, void *arg);
/* The test's arg of hvt_platform, from a hook's arg. */
void	*hvt_arg(void *pf_arg);
int	hvt_check_disk(void *pf_arg, uint32_t domid, const uint8_t uuid[16],
	    const uint8_t *key, size_t len);

/* sc_hv_init on a fresh context of `domains` slots and `sessions` pool entries. */
void	hvt_init(struct hvt *t, const struct sc_crypto *cp,
	    const struct sc_hv_platform *pf, const uint8_t *sk, uint32_t pcr,
	    size_t arena_len, unsigned domains, unsigned sessions);
/* Reset ring, add the domain; disk_key (NULL: none) is what opens its disk. */
void	hvt_domain_add(struct hvt *t, uint32_t domid, const uint8_t *uuid,
	    const char *name, struct xencons_interface *ring, size_t history,
	    const uint8_t *disk_key);
void	hvt_free(struct hvt *t);

#endif
