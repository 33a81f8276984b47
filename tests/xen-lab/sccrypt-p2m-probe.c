/*
 * sccrypt-p2m-probe — Xen lab helper, run as root in dom0 (issue 16): the
 * ways dom0 has to change the p2m of a PVH/HVM guest so that the guest's
 * console gfn no longer maps the frame Xen protects, and what Xen answers.
 *
 * usage: sccrypt-p2m-probe CMD...
 *   decrease:DOMID:GFN  XENMEM_decrease_reservation of GFN on DOMID's behalf
 *   populate:DOMID:GFN  XENMEM_populate_physmap of GFN (a new page at a gfn
 *                       that is mapped: the old entry is replaced)
 *                       (both print the extents Xen did: a refused change
 *                       of one gfn is "extents=0", not an error code)
 *   memtype:DOMID:GFN:T XEN_DMOP_set_mem_type of GFN to T = ro | rw |
 *                       ioreq (for ioreq, first an ioreq server of dom0 is
 *                       created and HVMMEM_ioreq_server mapped to it for
 *                       writes, so that the guest's writes to GFN would
 *                       reach dom0; destroyed again afterwards)
 *   param:DOMID:GFN     HVM_PARAM_CONSOLE_PFN of DOMID set to GFN (the
 *                       console the guest finds the next time it looks)
 *   altp2m:DOMID        HVMOP_altp2m_set_domain_state on (altp2m views
 *                       could map the console gfn elsewhere)
 *   getparam:DOMID      print HVM_PARAM_CONSOLE_PFN and _EVTCHN
 *
 * One line per command:  NAME: rc=0 | rc=-E (ENAME) | extents=N  (ioreq: the setup
 * steps print their own lines first); getparam: pfn=P evtchn=E.
 * Exit 0 when every command was issued, 2 on usage or setup errors.
 */
#define _GNU_SOURCE 1
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xenctrl.h>
#include <xendevicemodel.h>
#include <xen/hvm/params.h>

static xc_interface *xch;
static xendevicemodel_handle *dmod;

static const char *
ename(int e)
{
	switch (e) {
	case EPERM:	return "EPERM";
	case EACCES:	return "EACCES";
	case ENOENT:	return "ENOENT";
	case EINVAL:	return "EINVAL";
	case ESRCH:	return "ESRCH";
	case EBUSY:	return "EBUSY";
	case EEXIST:	return "EEXIST";
	case ENOMEM:	return "ENOMEM";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	default:	return "other";
	}
}

static void
report(const char *name, int rc)
{
	if (rc == 0)
		printf("%s: rc=0\n", name);
	else
		printf("%s: rc=-%d (%s)\n", name, errno, ename(errno));
}

/* XENMEM_{decrease_reservation,populate_physmap}: extents done, or -1. */
static void
extents(const char *name, int rc)
{
	if (rc < 0)
		report(name, rc);
	else
		printf("%s: extents=%d\n", name, rc);
}

static void
memtype(uint32_t domid, uint64_t gfn, const char *t)
{
	ioservid_t id;
	int rc;

	if (strcmp(t, "ro") == 0) {
		report("memtype-ro", xendevicemodel_set_mem_type(dmod, domid,
		    HVMMEM_ram_ro, gfn, 1));
		return;
	}
	if (strcmp(t, "rw") == 0) {
		report("memtype-rw", xendevicemodel_set_mem_type(dmod, domid,
		    HVMMEM_ram_rw, gfn, 1));
		return;
	}
	rc = xendevicemodel_create_ioreq_server(dmod, domid,
	    HVM_IOREQSRV_BUFIOREQ_OFF, &id);
	report("ioreq-server", rc);
	if (rc != 0)
		return;
	report("ioreq-map", xendevicemodel_map_mem_type_to_ioreq_server(dmod,
	    domid, id, HVMMEM_ioreq_server, XEN_DMOP_IOREQ_MEM_ACCESS_WRITE));
	report("memtype-ioreq", xendevicemodel_set_mem_type(dmod, domid,
	    HVMMEM_ioreq_server, gfn, 1));
	/* Unmap the type from the server, then the server (best effort). */
	(void)xendevicemodel_map_mem_type_to_ioreq_server(dmod, domid, id,
	    HVMMEM_ioreq_server, 0);
	(void)xendevicemodel_destroy_ioreq_server(dmod, domid, id);
}

static int
num(const char *s, uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 0);
	return (*s == '\0' || *end != '\0' || errno != 0) ? -1 : 0;
}

int
main(int argc, char **argv)
{
	char name[32], a1[32], a2[32], a3[32];
	uint64_t v1, v2, pfn, evt;
	xen_pfn_t gfn;
	int i, k;

	if (argc < 2) {
		fprintf(stderr, "usage: sccrypt-p2m-probe decrease:D:GFN|"
		    "populate:D:GFN|memtype:D:GFN:ro|rw|ioreq|param:D:GFN|"
		    "altp2m:D|getparam:D...\n");
		return 2;
	}
	if ((xch = xc_interface_open(NULL, NULL, 0)) == NULL ||
	    (dmod = xendevicemodel_open(NULL, 0)) == NULL) {
		perror("sccrypt-p2m-probe: open");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 1; i < argc; i++) {
		memset(a3, 0, sizeof(a3));
		k = sscanf(argv[i], "%31[^:]:%31[^:]:%31[^:]:%31s", name, a1, a2, a3);
		if (k < 2 || num(a1, &v1) != 0 || v1 >= DOMID_FIRST_RESERVED)
			goto usage;
		if (strcmp(name, "altp2m") == 0 && k == 2) {
			report("altp2m", xc_altp2m_set_domain_state(xch,
			    (uint32_t)v1, true));
			continue;
		}
		if (strcmp(name, "getparam") == 0 && k == 2) {
			if (xc_hvm_param_get(xch, (uint32_t)v1,
			    HVM_PARAM_CONSOLE_PFN, &pfn) != 0 ||
			    xc_hvm_param_get(xch, (uint32_t)v1,
			    HVM_PARAM_CONSOLE_EVTCHN, &evt) != 0)
				report("getparam", -1);
			else
				printf("getparam: pfn=%" PRIu64 " evtchn=%" PRIu64
				    "\n", pfn, evt);
			continue;
		}
		if (k < 3 || num(a2, &v2) != 0)
			goto usage;
		gfn = (xen_pfn_t)v2;
		if (strcmp(name, "decrease") == 0 && k == 3)
			extents("decrease", xc_domain_decrease_reservation(xch,
			    (uint32_t)v1, 1, 0, &gfn));
		else if (strcmp(name, "populate") == 0 && k == 3)
			extents("populate", xc_domain_populate_physmap(xch,
			    (uint32_t)v1, 1, 0, 0, &gfn));
		else if (strcmp(name, "memtype") == 0 && k == 4)
			memtype((uint32_t)v1, v2, a3);
		else if (strcmp(name, "param") == 0 && k == 3)
			report("param", xc_hvm_param_set(xch, (uint32_t)v1,
			    HVM_PARAM_CONSOLE_PFN, v2));
		else
			goto usage;
	}
	xendevicemodel_close(dmod);
	xc_interface_close(xch);
	return 0;
usage:
	fprintf(stderr, "sccrypt-p2m-probe: bad command %s\n", argv[i]);
	return 2;
}
