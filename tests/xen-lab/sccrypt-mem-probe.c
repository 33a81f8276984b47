/*
 * sccrypt-mem-probe — the Xen lab's dom0 probe of a guest's memory (issue 16).
 *
 * usage: sccrypt-mem-probe DOMID CANARY [MFN [ops]]
 *
 * Tries, as dom0 root, to read every page of a PV domain the way save,
 * migration and `xl dump-core` do, and looks for CANARY (a string the
 * guest computed at run time and keeps in its RAM):
 *   1. xc_map_domain_meminfo(): map the guest's P2M (shared_info's frame
 *      list, then the P2M frames: foreign mappings) and ask Xen for the
 *      page types (XEN_DOMCTL_getpageframeinfo3);
 *   2. if that worked, foreign-map every valid page read-only, 256 at a
 *      time, and count the pages that hold CANARY;
 *   3. with MFN (the domain's console frame, from xenstore), try to
 *      foreign-map the 64 frames from MFN-32 as that domain: the probe
 *      then needs nothing of the guest's own to find some of its frames
 *      (frames the domain does not own are refused in any case).
 *   4. with "ops", two things dom0 can do to a guest without mapping it,
 *      each made harmless by its argument: a page-table update with the
 *      guest as page-table owner (mmu_update, foreigndom = (DOMID+1)<<16
 *      | DOMID_SELF) of MFN 0, which no domain owns, and a
 *      decrease_reservation on the guest's behalf of an invalid frame.
 *      Under FLASK the policy answers first (-EACCES without remote_remap
 *      and adjust over the guest); otherwise Xen refuses the frame.
 * Prints, one line each:
 *   meminfo: ok p2m_size=N | meminfo: refused (errno text)
 *   pages: total=N mapped=M refused=R canary-pages=K   (only after ok)
 *   window: tried=64 mapped=M eacces=A eperm=P other=O
 *   remote-pt: rc=0 | rc=-E (text)       decrease: rc=0 | rc=-E (text)
 *   canary: found | canary: not found
 * Exit 0 when the probe ran (whatever Xen allowed), 2 on usage errors or
 * when libxenctrl/libxenforeignmemory cannot be opened.
 */
#define _GNU_SOURCE	/* memmem */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <xencall.h>
#include <xenctrl.h>
#include <xenforeignmemory.h>
#include <xenguest.h>

#define PROBE_PAGE	4096u
#define PROBE_BATCH	256u
#define PROBE_WINDOW	64u

/* Pages in [mfns, mfns + n) mapped as domid; counts and canary hits added. */
static void
map_batch(xenforeignmemory_handle *fm, uint32_t domid, const xen_pfn_t *mfns,
    unsigned int n, const char *canary, unsigned long *mapped,
    unsigned long *hits, unsigned long *eacces, unsigned long *eperm,
    unsigned long *other)
{
	int err[PROBE_BATCH];
	unsigned int i;
	unsigned char *p;
	size_t clen = strlen(canary);

	p = xenforeignmemory_map(fm, domid, PROT_READ, n, mfns, err);
	if (p == NULL) {
		for (i = 0; i < n; i++)
			err[i] = -errno;
	}
	for (i = 0; i < n; i++) {
		if (err[i] == 0 && p != NULL) {
			(*mapped)++;
			if (memmem(p + (size_t)i * PROBE_PAGE, PROBE_PAGE, canary, clen) != NULL)
				(*hits)++;
		} else if (err[i] == -EACCES) {
			(*eacces)++;
		} else if (err[i] == -EPERM) {
			(*eperm)++;
		} else {
			(*other)++;
		}
	}
	if (p != NULL)
		xenforeignmemory_unmap(fm, p, n);
}

/* "ops": a remote page-table update and a decrease_reservation, both of
 * frames the guest does not have (see the top). */
static void
remote_ops(xc_interface *xch, uint32_t domid)
{
	xencall_handle *xc = xencall_open(NULL, 0);
	struct mmu_update *u;
	xen_pfn_t bad = (xen_pfn_t)0xfffffffffULL;
	int rc;

	if (xc == NULL || (u = xencall_alloc_buffer(xc, sizeof(*u))) == NULL) {
		printf("remote-pt: failed to set up (%s)\n", strerror(errno));
	} else {
		u->ptr = 0 | MMU_NORMAL_PT_UPDATE;	/* MFN 0, offset 0 */
		u->val = 0;
		rc = xencall4(xc, __HYPERVISOR_mmu_update, (uintptr_t)u, 1, 0,
		    ((domid + 1) << 16) | DOMID_SELF);
		if (rc == 0)
			printf("remote-pt: rc=0\n");
		else
			printf("remote-pt: rc=-%d (%s)\n", errno, strerror(errno));
		xencall_free_buffer(xc, u);
	}
	if (xc != NULL)
		xencall_close(xc);
	rc = xc_domain_decrease_reservation_exact(xch, domid, 1, 0, &bad);
	if (rc == 0)
		printf("decrease: rc=0\n");
	else
		printf("decrease: rc=-%d (%s)\n", errno, strerror(errno));
}

int
main(int argc, char **argv)
{
	xc_interface *xch;
	xenforeignmemory_handle *fm;
	struct xc_domain_meminfo mi;
	xen_pfn_t mfns[PROBE_BATCH];
	unsigned long pfn, total = 0, mapped = 0, hits = 0, eacces = 0, eperm = 0, other = 0;
	unsigned long wmapped = 0, whits = 0, wacc = 0, wperm = 0, wother = 0;
	unsigned int n = 0, i;
	uint32_t domid;
	char *end;

	if (argc < 3 || argc > 5 || (argc == 5 && strcmp(argv[4], "ops") != 0)) {
		fprintf(stderr, "usage: sccrypt-mem-probe DOMID CANARY [MFN [ops]]\n");
		return 2;
	}
	domid = (uint32_t)strtoul(argv[1], &end, 10);
	if (*end != '\0' || domid == 0 || strlen(argv[2]) < 8) {
		fprintf(stderr, "sccrypt-mem-probe: bad domid or canary (8 bytes at least)\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if ((xch = xc_interface_open(NULL, NULL, 0)) == NULL ||
	    (fm = xenforeignmemory_open(NULL, 0)) == NULL) {
		perror("sccrypt-mem-probe: xc_interface_open/xenforeignmemory_open");
		return 2;
	}

	memset(&mi, 0, sizeof(mi));
	if (xc_map_domain_meminfo(xch, domid, &mi) != 0) {
		printf("meminfo: refused (%s)\n", strerror(errno));
	} else {
		printf("meminfo: ok p2m_size=%lu guest_width=%u\n", mi.p2m_size, mi.guest_width);
		for (pfn = 0; pfn < mi.p2m_size; pfn++) {
			uint64_t mfn = mi.guest_width == 8 ?
			    ((const uint64_t *)mi.p2m_table)[pfn] :
			    ((const uint32_t *)mi.p2m_table)[pfn];

			if ((mi.pfn_type[pfn] & XEN_DOMCTL_PFINFO_LTAB_MASK) ==
			    XEN_DOMCTL_PFINFO_XTAB || mfn == INVALID_MFN ||
			    (mi.guest_width == 4 && mfn == 0xffffffffu))
				continue;
			mfns[n++] = (xen_pfn_t)mfn;
			total++;
			if (n == PROBE_BATCH) {
				map_batch(fm, domid, mfns, n, argv[2], &mapped, &hits,
				    &eacces, &eperm, &other);
				n = 0;
			}
		}
		if (n > 0)
			map_batch(fm, domid, mfns, n, argv[2], &mapped, &hits,
			    &eacces, &eperm, &other);
		printf("pages: total=%lu mapped=%lu refused=%lu canary-pages=%lu\n",
		    total, mapped, eacces + eperm + other, hits);
		xc_unmap_domain_meminfo(xch, &mi);
	}

	if (argc >= 4) {
		unsigned long long m = strtoull(argv[3], &end, 0);

		if (*end != '\0' || m < PROBE_WINDOW / 2) {
			fprintf(stderr, "sccrypt-mem-probe: bad MFN %s\n", argv[3]);
			return 2;
		}
		for (i = 0; i < PROBE_WINDOW; i++)
			mfns[i] = (xen_pfn_t)(m - PROBE_WINDOW / 2 + i);
		map_batch(fm, domid, mfns, PROBE_WINDOW, argv[2], &wmapped, &whits,
		    &wacc, &wperm, &wother);
		printf("window: tried=%u mapped=%lu eacces=%lu eperm=%lu other=%lu\n",
		    PROBE_WINDOW, wmapped, wacc, wperm, wother);
	}
	if (argc == 5)
		remote_ops(xch, domid);
	printf("canary: %s\n", hits + whits > 0 ? "found" : "not found");
	xenforeignmemory_close(fm);
	xc_interface_close(xch);
	return 0;
}
