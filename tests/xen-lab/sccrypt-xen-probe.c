/*
 * sccrypt-xen-probe — Xen lab helper, run as root in dom0: try to read a
 * domain's console page the two ways dom0 has, and say what happened.
 *
 * usage: sccrypt-xen-probe DOMID GFN
 *
 *   foreign-map: xenforeignmemory_map of GFN (what xenconsoled's fallback,
 *                save/restore and dump-core use; PV dom0: mmu_update with a
 *                foreign page owner)
 *   grant-map:   xengnttab_map_grant_ref of GNTTAB_RESERVED_CONSOLE (0),
 *                the entry the toolstack seeds for the console backend
 *
 * Prints "foreign-map: mapped|refused (errno text)" and the same for
 * grant-map (a mapped page is unmapped at once; its bytes are not shown).
 * Exit 0 if both were refused, 1 if either mapped, 2 on usage errors.
 * For a domain attached to SCCrypt both must be refused; for an unattached
 * domain both succeed, which shows that the probe itself works.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <xenforeignmemory.h>
#include <xengnttab.h>

#define GNTTAB_RESERVED_CONSOLE	0

int
main(int argc, char **argv)
{
	xenforeignmemory_handle *fm;
	xengnttab_handle *gt;
	unsigned long domid;
	xen_pfn_t gfn;
	int err = 0, mapped = 0;
	void *p;
	char *end;

	if (argc != 3) {
		fprintf(stderr, "usage: sccrypt-xen-probe DOMID GFN\n");
		return 2;
	}
	domid = strtoul(argv[1], &end, 10);
	if (*argv[1] == '\0' || *end != '\0' || domid == 0 || domid >= 0x7ff0) {
		fprintf(stderr, "sccrypt-xen-probe: bad domid\n");
		return 2;
	}
	gfn = (xen_pfn_t)strtoull(argv[2], &end, 10);
	if (*argv[2] == '\0' || *end != '\0') {
		fprintf(stderr, "sccrypt-xen-probe: bad gfn\n");
		return 2;
	}

	if ((fm = xenforeignmemory_open(NULL, 0)) == NULL) {
		perror("sccrypt-xen-probe: xenforeignmemory_open");
		return 2;
	}
	p = xenforeignmemory_map(fm, (uint32_t)domid, PROT_READ, 1, &gfn, &err);
	if (p != NULL && err == 0) {
		printf("foreign-map: mapped\n");
		mapped++;
		xenforeignmemory_unmap(fm, p, 1);
	} else {
		printf("foreign-map: refused (%s)\n", strerror(p == NULL ? errno : -err));
		if (p != NULL)
			xenforeignmemory_unmap(fm, p, 1);
	}
	xenforeignmemory_close(fm);

	if ((gt = xengnttab_open(NULL, 0)) == NULL) {
		perror("sccrypt-xen-probe: xengnttab_open");
		return 2;
	}
	p = xengnttab_map_grant_ref(gt, (uint32_t)domid, GNTTAB_RESERVED_CONSOLE,
	    PROT_READ);
	if (p != NULL) {
		printf("grant-map: mapped\n");
		mapped++;
		xengnttab_unmap(gt, p, 1);
	} else {
		printf("grant-map: refused (%s)\n", strerror(errno));
	}
	xengnttab_close(gt);
	return mapped ? 1 : 0;
}
