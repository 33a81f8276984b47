/*
 * hv_test_platform.c — the hv unit tests' shared context and disk-key hook
 * (contract in hv_test_platform.h).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "core/err.h"
#include "tests/unit/hv_test_platform.h"

void
hvt_platform(struct hvt *t, struct sc_hv_platform *pf, void *arg)
{
	memset(pf, 0, sizeof(*pf));
	t->arg = arg;
	pf->arg = t;
	pf->check_disk_key = hvt_check_disk;
}

void *
hvt_arg(void *pf_arg)
{
	return ((struct hvt *)pf_arg)->arg;
}

int
hvt_check_disk(void *pf_arg, uint32_t domid, const uint8_t uuid[16],
    const uint8_t *key, size_t len)
{
	const struct hvt *t = pf_arg;
	unsigned i;

	if (t->ndisks == 0)
		return len == HVT_DISK_KEY_LEN ? 0 : SC_ERR_DISKKEY;
	for (i = 0; i < t->ndisks; i++)
		if (t->disks[i].domid == domid)
			break;
	if (i == t->ndisks || memcmp(uuid, t->disks[i].uuid, SC_UUID_LEN) != 0)
		return SC_ERR_INTERNAL;
	if (len != HVT_DISK_KEY_LEN ||
	    memcmp(key, t->disks[i].key, HVT_DISK_KEY_LEN) != 0)
		return SC_ERR_DISKKEY;
	return 0;
}

void
hvt_init(struct hvt *t, const struct sc_crypto *cp,
    const struct sc_hv_platform *pf, const uint8_t *sk, uint32_t pcr,
    size_t arena_len, unsigned domains, unsigned sessions)
{
	uint8_t own[SC_KEY_LEN];

	t->hv = calloc(1, sc_hv_size(domains, sessions));
	t->arena = calloc(1, arena_len);
	t->arena_len = arena_len;
	assert_non_null(t->hv);
	assert_non_null(t->arena);
	if (sk == NULL) {
		cp->random(own, sizeof(own));
		sk = own;
	}
	assert_int_equal(sc_hv_init(t->hv, cp, pf, sk, pcr, t->arena, arena_len,
	    domains, sessions), 0);
	cp->memzero(own, sizeof(own));
}

void
hvt_domain_add(struct hvt *t, uint32_t domid, const uint8_t *uuid,
    const char *name, struct xencons_interface *ring, size_t history,
    const uint8_t *disk_key)
{
	unsigned i;

	sc_ring_reset(ring);
	assert_int_equal(sc_hv_domain_add(t->hv, domid, uuid, name, ring,
	    history), 0);
	if (disk_key == NULL)
		return;
	for (i = 0; i < t->ndisks && t->disks[i].domid != domid; i++)
		;
	assert_true(i < HVT_DISKS_MAX);
	t->disks[i].domid = domid;
	t->disks[i].uuid = uuid;
	t->disks[i].key = disk_key;
	if (i == t->ndisks)
		t->ndisks++;
}

void
hvt_free(struct hvt *t)
{
	if (t->hv != NULL) {
		sc_hv_wipe(t->hv);
		free(t->hv);
	}
	free(t->arena);
	memset(t, 0, sizeof(*t));
}
