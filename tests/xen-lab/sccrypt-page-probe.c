/*
 * sccrypt-page-probe — Xen lab helper, run as root in dom0: the ways dom0
 * has, besides mapping it (sccrypt-xen-probe), to reach a domain's console
 * page, and what Xen answers (issue 14 items 2, 3, 7, 10).
 *
 * usage: sccrypt-page-probe CMD...
 *   copy:DOMID:MFN      MMUEXT_COPY_PAGE with foreigndom DOMID, source and
 *                       destination MFN (a copy of the page onto itself:
 *                       harmless, and it needs both directions allowed)
 *   clear:DOMID:MFN     MMUEXT_CLEAR_PAGE with foreigndom DOMID (zeroes it)
 *   hcall-init:DOMID:MFN  XEN_DOMCTL_hypercall_init (writes Xen's hypercall
 *                       page over it)
 *   race:DOMID:REF:N    two threads: one loops GNTTABOP_copy from grant REF
 *                       of DOMID (each copy pins the active entry for a
 *                       moment, even when it is refused), the other maps
 *                       REF (GNTMAP_device_map, read-only; unmapped at
 *                       once) N times
 *   shinfo:DOMID        print DOMID's shared_info frame
 *   attach:DOMID:MFN:U  SC_XEN_OP_ATTACH of DOMID with console frame MFN,
 *                       a fresh unbound port of DOMID for dom0, and the
 *                       UUID U: "dom" (the domain's own handle) or "wrong"
 *                       (the handle with one bit flipped); if Xen accepts,
 *                       SC_XEN_OP_DETACH at once
 *
 * One line per command:
 *   NAME: rc=0 | rc=-E (ENAME)
 *   race: maps=N mapped=K denied=D other=O copies=C
 *   shinfo: mfn=M
 *   attach: rc=... [detach: rc=...]
 * Exit 0 when every command was issued, 2 on usage or setup errors.
 */
#define _GNU_SOURCE 1
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xenctrl.h>
#include <xencall.h>
#include <xen/grant_table.h>

/* The sccrypt_op ABI: lib/xen_abi.h (run.sh builds with -I lib). */
#include "xen_abi.h"

#define COPY_BATCH		32

static xc_interface *xch;

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

static xencall_handle *
xcall_open(void)
{
	xencall_handle *h = xencall_open(NULL, 0);

	if (h == NULL) {
		perror("sccrypt-page-probe: xencall_open");
		exit(2);
	}
	return h;
}

static void *
xcall_buf(xencall_handle *h, size_t len)
{
	void *p = xencall_alloc_buffer(h, len);

	if (p == NULL) {
		perror("sccrypt-page-probe: xencall_alloc_buffer");
		exit(2);
	}
	memset(p, 0, len);
	return p;
}

static void
mmuext(const char *name, unsigned cmd, uint32_t domid, uint64_t mfn)
{
	xencall_handle *h = xcall_open();
	struct mmuext_op *op = xcall_buf(h, sizeof(*op));
	int rc;

	op->cmd = cmd;
	op->arg1.mfn = mfn;
	if (cmd == MMUEXT_COPY_PAGE)
		op->arg2.src_mfn = mfn;
	rc = xencall4(h, __HYPERVISOR_mmuext_op, (uintptr_t)op, 1, 0, domid);
	report(name, rc);
	xencall_free_buffer(h, op);
	xencall_close(h);
}

static void
hcall_init(uint32_t domid, uint64_t mfn)
{
	xencall_handle *h = xcall_open();
	struct xen_domctl *dc = xcall_buf(h, sizeof(*dc));
	int rc;

	dc->cmd = XEN_DOMCTL_hypercall_init;
	dc->interface_version = XEN_DOMCTL_INTERFACE_VERSION;
	dc->domain = (domid_t)domid;
	dc->u.hypercall_init.gmfn = mfn;
	rc = xencall1(h, __HYPERVISOR_domctl, (uintptr_t)dc);
	report("hcall-init", rc);
	xencall_free_buffer(h, dc);
	xencall_close(h);
}

/* ---- race: grant copies pin the entry while maps try it ---- */

struct race {
	uint32_t	domid;
	uint32_t	ref;
	unsigned	n;
	int		stop;
	unsigned long	copies, mapped, denied, other;
};

static void *
copier(void *arg)
{
	struct race *r = arg;
	xencall_handle *h = xcall_open();
	struct gnttab_copy *op = xcall_buf(h, COPY_BATCH * sizeof(*op));
	unsigned i;

	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		for (i = 0; i < COPY_BATCH; i++) {
			memset(&op[i], 0, sizeof(op[i]));
			op[i].source.u.ref = r->ref;
			op[i].source.domid = (domid_t)r->domid;
			/* Never reached: the source is claimed (pinned) first. */
			op[i].dest.u.gmfn = 0;
			op[i].dest.domid = DOMID_SELF;
			op[i].len = 1;
			op[i].flags = GNTCOPY_source_gref;
		}
		(void)xencall3(h, __HYPERVISOR_grant_table_op, GNTTABOP_copy,
		    (uintptr_t)op, COPY_BATCH);
		r->copies += COPY_BATCH;
	}
	xencall_free_buffer(h, op);
	xencall_close(h);
	return NULL;
}

static void
race(uint32_t domid, uint32_t ref, unsigned n)
{
	struct race r;
	pthread_t tid;
	xencall_handle *h = xcall_open();
	struct gnttab_map_grant_ref *m = xcall_buf(h, sizeof(*m));
	struct gnttab_unmap_grant_ref *u = xcall_buf(h, sizeof(*u));
	unsigned i;

	memset(&r, 0, sizeof(r));
	r.domid = domid;
	r.ref = ref;
	r.n = n;
	if (pthread_create(&tid, NULL, copier, &r) != 0) {
		fprintf(stderr, "sccrypt-page-probe: pthread_create failed\n");
		exit(2);
	}
	for (i = 0; i < n; i++) {
		memset(m, 0, sizeof(*m));
		m->flags = GNTMAP_device_map | GNTMAP_readonly;
		m->ref = ref;
		m->dom = (domid_t)domid;
		if (xencall3(h, __HYPERVISOR_grant_table_op, GNTTABOP_map_grant_ref,
		    (uintptr_t)m, 1) != 0) {
			r.other++;
			continue;
		}
		if (m->status == GNTST_okay) {
			r.mapped++;
			memset(u, 0, sizeof(*u));
			u->dev_bus_addr = m->dev_bus_addr;
			u->handle = m->handle;
			(void)xencall3(h, __HYPERVISOR_grant_table_op,
			    GNTTABOP_unmap_grant_ref, (uintptr_t)u, 1);
		} else if (m->status == GNTST_permission_denied)
			r.denied++;
		else
			r.other++;
	}
	__atomic_store_n(&r.stop, 1, __ATOMIC_RELEASE);
	pthread_join(tid, NULL);
	printf("race: maps=%u mapped=%lu denied=%lu other=%lu copies=%lu\n", n,
	    r.mapped, r.denied, r.other, r.copies);
	xencall_free_buffer(h, m);
	xencall_free_buffer(h, u);
	xencall_close(h);
}

static int
domain_info(uint32_t domid, xc_dominfo_t *info)
{
	if (xc_domain_getinfo(xch, domid, 1, info) != 1 || info->domid != domid) {
		fprintf(stderr, "sccrypt-page-probe: no domain %u\n", domid);
		return -1;
	}
	return 0;
}

static void
attach(uint32_t domid, uint64_t mfn, const char *u)
{
	xencall_handle *h = xcall_open();
	struct sc_xen_attach *a = xcall_buf(h, sizeof(*a));
	struct sc_xen_detach *dt = xcall_buf(h, sizeof(*dt));
	xc_dominfo_t info;
	int port, rc;

	if (domain_info(domid, &info) != 0)
		exit(2);
	if ((port = xc_evtchn_alloc_unbound(xch, domid, 0)) < 0) {
		perror("sccrypt-page-probe: xc_evtchn_alloc_unbound");
		exit(2);
	}
	a->domid = (uint16_t)domid;
	a->port = (uint32_t)port;
	a->gfn = mfn;
	memcpy(a->uuid, info.handle, sizeof(a->uuid));
	if (strcmp(u, "wrong") == 0)
		a->uuid[7] ^= 0x10;
	memcpy(a->name, "page-probe", 10);
	rc = xencall3(h, SC_XEN_HYPERCALL, SC_XEN_OP_ATTACH, (uintptr_t)a,
	    sizeof(*a));
	report("attach", rc);
	if (rc == 0) {
		dt->domid = (uint16_t)domid;
		report("detach", xencall3(h, SC_XEN_HYPERCALL, SC_XEN_OP_DETACH,
		    (uintptr_t)dt, sizeof(*dt)));
	}
	xencall_free_buffer(h, a);
	xencall_free_buffer(h, dt);
	xencall_close(h);
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
	uint64_t v1, v2, v3;
	xc_dominfo_t info;
	int i, k;

	if (argc < 2) {
		fprintf(stderr, "usage: sccrypt-page-probe copy:D:MFN|clear:D:MFN|"
		    "hcall-init:D:MFN|race:D:REF:N|shinfo:D|attach:D:MFN:dom|wrong...\n");
		return 2;
	}
	if ((xch = xc_interface_open(NULL, NULL, 0)) == NULL) {
		perror("sccrypt-page-probe: xc_interface_open");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 1; i < argc; i++) {
		memset(a3, 0, sizeof(a3));
		k = sscanf(argv[i], "%31[^:]:%31[^:]:%31[^:]:%31s", name, a1, a2, a3);
		if (k < 2 || num(a1, &v1) != 0 || v1 >= DOMID_FIRST_RESERVED)
			goto usage;
		if (strcmp(name, "shinfo") == 0 && k == 2) {
			if (domain_info((uint32_t)v1, &info) != 0)
				return 2;
			printf("shinfo: mfn=%lu\n", info.shared_info_frame);
			continue;
		}
		if (k < 3 || num(a2, &v2) != 0)
			goto usage;
		if (strcmp(name, "copy") == 0 && k == 3)
			mmuext("copy", MMUEXT_COPY_PAGE, (uint32_t)v1, v2);
		else if (strcmp(name, "clear") == 0 && k == 3)
			mmuext("clear", MMUEXT_CLEAR_PAGE, (uint32_t)v1, v2);
		else if (strcmp(name, "hcall-init") == 0 && k == 3)
			hcall_init((uint32_t)v1, v2);
		else if (strcmp(name, "race") == 0 && k == 4 && num(a3, &v3) == 0 &&
		    v3 > 0 && v3 <= 1000000)
			race((uint32_t)v1, (uint32_t)v2, (unsigned)v3);
		else if (strcmp(name, "attach") == 0 && k == 4 &&
		    (strcmp(a3, "dom") == 0 || strcmp(a3, "wrong") == 0))
			attach((uint32_t)v1, v2, a3);
		else
			goto usage;
	}
	xc_interface_close(xch);
	return 0;
usage:
	fprintf(stderr, "sccrypt-page-probe: bad command %s\n", argv[i]);
	return 2;
}
