/*
 * sccrypt-hcall-probe — Xen lab helper: issue the sccrypt_op hypercall (43)
 * directly through /dev/xen/privcmd (IOCTL_PRIVCMD_HYPERCALL) and print
 * what Xen returned.  Built static (no Xen libraries), so the same binary
 * runs in dom0 and in the lab's busybox domU, as root.  It checks the
 * access control of the hypercall itself: from a domU every command must be
 * refused by the XSM hook (dummy policy XSM_PRIV: -EPERM), from dom0 the
 * same calls reach the SCCrypt core.
 *
 * usage: sccrypt-hcall-probe CMD...
 *   version         xen_version(XENVER_version): a hypercall every domain
 *                   may make, showing that the privcmd path reaches Xen
 *                   (and so that a refusal below is Xen's, not Linux's)
 *   get-info        SC_XEN_OP_CALL with an SC_OP_GET_INFO request
 *   protect:DOMID   SC_XEN_OP_CALL with an SC_OP_PROTECT request for DOMID
 *                   and an empty payload (no blob: the core, if reached,
 *                   rejects it with a negative status)
 *   attach:DOMID    SC_XEN_OP_ATTACH of DOMID (port 0, gfn 0)
 *   detach:DOMID    SC_XEN_OP_DETACH of DOMID
 *   kexec-range     kexec_op(KEXEC_CMD_kexec_get_range, KEXEC_RANGE_MA_XEN):
 *                   where Xen is in memory (issue 14 item 4)
 *   kexec-load      kexec_op(KEXEC_CMD_kexec_load) of an empty default
 *                   image (what `kexec -l` does through libxenctrl), then
 *                   its unload: "kexec-load: rc=..." and "kexec-unload: rc=..."
 *   console-reuse   (in an attached domU) find the console port bound to
 *                   Xen's loopback port (interdomain, remote = this domain),
 *                   close it and allocate an unbound port for this domain,
 *                   which reuses the number (issue 14 item 8):
 *                   "console-reuse: closed=P new=Q remote=D" or an error line
 *   console-storm   (in an attached 2-vCPU domU; never returns) read its
 *                   console page and port from xenstore (/dev/xen/xenbus),
 *                   map the page (privcmd, DOMID_SELF), write
 *                   data/sccrypt-storm = "running <mapped|unmapped>" and
 *                   then: one process signals the console port in a loop,
 *                   the other keeps setting out_prod = out_cons + 2048
 *                   (issue 14 item 1)
 *   open-storm:DOMID:SECONDS
 *                   (dom0, issue 14 item 6) SC_OP_OPEN requests for DOMID in
 *                   a tight loop for SECONDS, each with a fresh garbage
 *                   message 1 (random bytes: a new ephemeral every time, so
 *                   the hv gets to its Diffie-Hellman before it refuses):
 *                   "open-storm: running" first, then "open-storm: calls=N
 *                   decrypt=D other=O rc-errors=E ms=T" (D: refused with
 *                   SC_ERR_DECRYPT, as they must be; O: another status)
 *   xs-read:PATH    (issue 16: xenstore of a FLASK-labelled protected domU)
 *   xs-write:PATH=V one xenstore request over /dev/xen/xenbus, a path
 *                   relative to this domain's home:
 *                   "xs-read: ok VALUE" / "xs-write: ok" / "xs-...: failed"
 *
 * One line per command:
 *   NAME: rc=0 status=S [hv-public-key=HEX]    the hypercall returned 0
 *   NAME: rc=-E (ENAME)                        it returned -E
 *   version: rc=0 xen=MAJOR.MINOR
 * Exit 0 when every command was issued (whatever Xen answered), 2 on usage
 * errors or when /dev/xen/privcmd cannot be opened.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <sys/types.h>
#include <time.h>

/* The sccrypt_op ABI and the ops header (lib/xen_abi.h, lib/core/ops.h;
 * run.sh builds with -I lib: constants only, nothing of libsccrypt). */
#include "core/ops.h"
#include "xen_abi.h"

/* Linux's <xen/sys/privcmd.h> ABI (that header needs Xen's public types). */
typedef struct privcmd_hypercall {
	uint64_t	op;
	uint64_t	arg[5];
} privcmd_hypercall_t;
#define IOCTL_PRIVCMD_HYPERCALL	\
	_IOC(_IOC_NONE, 'P', 0, sizeof(privcmd_hypercall_t))

#define HYPERVISOR_xen_version	17
#define XENVER_version		0
/* Xen's public/kexec.h */
#define HYPERVISOR_kexec_op	37
/* Xen's public/event_channel.h */
#define HYPERVISOR_event_channel_op	32
#define EVTCHNOP_close		3
#define EVTCHNOP_status		5
#define EVTCHNOP_alloc_unbound	6
#define EVTCHNSTAT_interdomain	2
#define DOMID_SELF		0x7FF0
#define EVTCHNOP_send		4
/* Linux privcmd: IOCTL_PRIVCMD_MMAPBATCH_V2 */
struct privcmd_mmapbatch_v2 {
	unsigned int	num;
	uint16_t	dom;
	uint64_t	addr;
	const uint64_t	*arr;
	int		*err;
};
#define IOCTL_PRIVCMD_MMAPBATCH_V2	\
	_IOC(_IOC_NONE, 'P', 4, sizeof(struct privcmd_mmapbatch_v2))
/* xenstore wire (io/xs_wire.h) */
#define XS_READ			2
#define XS_WRITE		11
#define KEXEC_CMD_kexec_get_range	3
#define KEXEC_CMD_kexec_load	4
#define KEXEC_CMD_kexec_unload	5
#define KEXEC_RANGE_MA_XEN	1
#define KEXEC_TYPE_DEFAULT	0
#define KEXEC_ARCH_X86_64	62	/* EM_X86_64 */
struct xen_kexec_range {
	int		range;
	int		nr;
	unsigned long	size;
	unsigned long	start;
};
struct xen_kexec_load {
	uint8_t		type;
	uint8_t		pad;
	uint16_t	arch;
	uint32_t	nr_segments;
	uint64_t	segments;	/* guest handle */
	uint64_t	entry_maddr;
};

#define BUF_LEN			4096

static int privcmd = -1;
/* Hypercall buffers: page-aligned, locked and touched, as libxencall's. */
static unsigned char *buf;

static void
put32(unsigned char *p, uint32_t v)
{
	p[0] = v & 0xff;
	p[1] = (v >> 8) & 0xff;
	p[2] = (v >> 16) & 0xff;
	p[3] = (v >> 24) & 0xff;
}

static uint32_t
get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

/* Returns the hypercall's result: >= 0, or -errno. */
static long
hypercall(uint64_t op, uint64_t a0, uint64_t a1, uint64_t a2)
{
	privcmd_hypercall_t h;
	long rc;

	memset(&h, 0, sizeof(h));
	h.op = op;
	h.arg[0] = a0;
	h.arg[1] = a1;
	h.arg[2] = a2;
	rc = ioctl(privcmd, IOCTL_PRIVCMD_HYPERCALL, &h);
	return rc < 0 ? -(long)errno : rc;
}

static void
print_err(const char *name, long rc)
{
	const char *e;

	switch (-rc) {
	case EPERM:	e = "EPERM"; break;
	case EACCES:	e = "EACCES"; break;
	case ENOENT:	e = "ENOENT"; break;
	case ENOSYS:	e = "ENOSYS"; break;
	case EINVAL:	e = "EINVAL"; break;
	case EFAULT:	e = "EFAULT"; break;
	case ESRCH:	e = "ESRCH"; break;
	case EBUSY:	e = "EBUSY"; break;
	case EEXIST:	e = "EEXIST"; break;
	default:	e = "other"; break;
	}
	printf("%s: rc=%ld (%s)\n", name, rc, e);
}

static void
op_call(const char *name, uint16_t op, uint32_t domid)
{
	long rc;
	uint32_t i;

	memset(buf, 0, BUF_LEN);
	put32(buf, SC_OPS_MAGIC);
	buf[4] = SC_OPS_VERSION;
	buf[6] = op & 0xff;
	buf[7] = op >> 8;
	put32(buf + 12, domid);
	put32(buf + 28, 1);		/* seq */
	rc = hypercall(SC_XEN_HYPERCALL, SC_XEN_OP_CALL,
	    (uint64_t)(uintptr_t)buf, BUF_LEN);
	if (rc != 0) {
		print_err(name, rc);
		return;
	}
	printf("%s: rc=0 status=%d", name, (int32_t)get32(buf + 8));
	if (op == SC_OP_GET_INFO && get32(buf + 8) == 0 &&
	    get32(buf + 24) >= SC_KEY_LEN) {
		printf(" hv-public-key=");
		for (i = 0; i < SC_KEY_LEN; i++)
			printf("%02x", buf[SC_OP_HDR_LEN + i]);
	}
	printf("\n");
}

/*
 * console-reuse: the loopback bind makes the guest's console port and
 * Xen's port both "interdomain, remote = this domain"; the guest may close
 * only its own (Xen's refuses with -EINVAL).
 */
static void
console_reuse(void)
{
	uint32_t p, self = 0;
	long rc;
	int tries;

	for (tries = 0; tries < 60; tries++) {
		for (p = 1; p < 64; p++) {
			memset(buf, 0, 24);
			buf[0] = DOMID_SELF & 0xff;
			buf[1] = DOMID_SELF >> 8;
			put32(buf + 4, p);
			if (hypercall(HYPERVISOR_event_channel_op, EVTCHNOP_status,
			    (uint64_t)(uintptr_t)buf, 0) != 0 ||
			    get32(buf + 8) != EVTCHNSTAT_interdomain)
				continue;
			self = (uint32_t)buf[16] | (uint32_t)buf[17] << 8;
			if (self == 0)
				continue;
			memset(buf, 0, 4);
			put32(buf, p);
			if (hypercall(HYPERVISOR_event_channel_op, EVTCHNOP_close,
			    (uint64_t)(uintptr_t)buf, 0) != 0)
				continue;	/* Xen's end */
			memset(buf, 0, 8);
			buf[0] = DOMID_SELF & 0xff;
			buf[1] = DOMID_SELF >> 8;
			buf[2] = self & 0xff;
			buf[3] = self >> 8;
			rc = hypercall(HYPERVISOR_event_channel_op, EVTCHNOP_alloc_unbound,
			    (uint64_t)(uintptr_t)buf, 0);
			if (rc != 0) {
				print_err("console-reuse", rc);
				return;
			}
			printf("console-reuse: closed=%u new=%u remote=%u\n", p,
			    get32(buf + 4), self);
			return;
		}
		sleep(1);
	}
	printf("console-reuse: no loopback console port\n");
}

/* One xenstore request over /dev/xen/xenbus; the reply's payload in out. */
static int
xs_req(int fd, uint32_t type, const char *a, size_t alen, const char *b, size_t blen,
    char *out, size_t cap)
{
	unsigned char m[256];
	uint32_t len;
	ssize_t n;

	if (16 + alen + blen > sizeof(m))
		return -1;
	memset(m, 0, 16);
	put32(m, type);
	put32(m + 4, 1);
	put32(m + 12, (uint32_t)(alen + blen));
	memcpy(m + 16, a, alen);
	if (blen)
		memcpy(m + 16 + alen, b, blen);
	if (write(fd, m, 16 + alen + blen) != (ssize_t)(16 + alen + blen))
		return -1;
	n = read(fd, m, sizeof(m) - 1);
	if (n < 16 || get32(m) != type)
		return -1;
	len = get32(m + 12);
	if (len > (uint32_t)(n - 16) || len >= cap)
		return -1;
	memcpy(out, m + 16, len);
	out[len] = '\0';
	return 0;
}

/* xs-read:PATH or xs-write:PATH=VALUE (issue 16). */
static void
xs_cmd(const char *a)
{
	char path[128], v[128];
	const char *eq;
	int fd, wr = a[3] == 'w', rc;
	size_t plen;

	a += wr ? 9 : 8;
	eq = wr ? strchr(a, '=') : NULL;
	plen = eq ? (size_t)(eq - a) : strlen(a);
	if ((wr && eq == NULL) || plen == 0 || plen >= sizeof(path)) {
		printf("xs-%s: failed (bad argument)\n", wr ? "write" : "read");
		return;
	}
	memcpy(path, a, plen);
	path[plen] = '\0';
	if ((fd = open("/dev/xen/xenbus", O_RDWR)) < 0) {
		printf("xs-%s: failed (/dev/xen/xenbus: %s)\n", wr ? "write" : "read",
		    strerror(errno));
		return;
	}
	if (wr)
		rc = xs_req(fd, XS_WRITE, path, plen + 1, eq + 1, strlen(eq + 1), v, sizeof(v));
	else
		rc = xs_req(fd, XS_READ, path, plen + 1, NULL, 0, v, sizeof(v));
	close(fd);
	if (rc != 0)
		printf("xs-%s: failed\n", wr ? "write" : "read");
	else if (wr)
		printf("xs-write: ok\n");
	else
		printf("xs-read: ok %s\n", v);
}

static void
console_storm(void)
{
	char v[64];
	uint64_t mfn;
	uint32_t port;
	int fd, err = 0;
	volatile uint32_t *ring = NULL;
	struct privcmd_mmapbatch_v2 mb;
	void *page;
	pid_t pid;

	if ((fd = open("/dev/xen/xenbus", O_RDWR)) < 0) {
		perror("console-storm: /dev/xen/xenbus");
		return;
	}
	if (xs_req(fd, XS_READ, "console/ring-ref", 17, NULL, 0, v, sizeof(v)) != 0) {
		printf("console-storm: cannot read console/ring-ref\n");
		return;
	}
	mfn = strtoull(v, NULL, 10);
	if (xs_req(fd, XS_READ, "console/port", 13, NULL, 0, v, sizeof(v)) != 0) {
		printf("console-storm: cannot read console/port\n");
		return;
	}
	port = (uint32_t)strtoul(v, NULL, 10);
	page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, privcmd, 0);
	if (page != MAP_FAILED) {
		memset(&mb, 0, sizeof(mb));
		mb.num = 1;
		mb.dom = DOMID_SELF;
		mb.addr = (uint64_t)(uintptr_t)page;
		mb.arr = &mfn;
		mb.err = &err;
		if (ioctl(privcmd, IOCTL_PRIVCMD_MMAPBATCH_V2, &mb) == 0 && err == 0)
			ring = (volatile uint32_t *)((char *)page + 3072);
	}
	snprintf(v, sizeof(v), "running %s", ring ? "mapped" : "unmapped");
	(void)xs_req(fd, XS_WRITE, "data/sccrypt-storm", 19, v, strlen(v), v, sizeof(v));
	printf("console-storm: mfn=%llu port=%u page %s\n", (unsigned long long)mfn,
	    port, ring ? "mapped" : "not mapped");
	pid = fork();
	if (pid == 0 || ring == NULL) {
		for (;;) {
			put32(buf, port);
			(void)hypercall(HYPERVISOR_event_channel_op, EVTCHNOP_send,
			    (uint64_t)(uintptr_t)buf, 0);
		}
	}
	for (;;)	/* ring[2] = out_cons, ring[3] = out_prod */
		ring[3] = ring[2] + 2048;
}

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Noise message 1 of the ops ABI: e, es, s, ss + payload (wire.h). */
#define HS1_MSG_LEN	102

/* OPENs with garbage message 1 for DOMID for `seconds` (see the usage). */
static void
open_storm(uint16_t domid, unsigned seconds)
{
	unsigned long calls = 0, decrypt = 0, other = 0, rcerr = 0;
	uint64_t t0, x;
	unsigned char seed[8];
	int32_t st;
	long rc;
	int fd, k;

	if ((fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC)) < 0 ||
	    read(fd, seed, sizeof(seed)) != (ssize_t)sizeof(seed)) {
		printf("open-storm: no /dev/urandom\n");
		return;
	}
	close(fd);
	memcpy(&x, seed, sizeof(x));
	x |= 1;
	printf("open-storm: running\n");
	t0 = now_ms();
	while (now_ms() - t0 < (uint64_t)seconds * 1000) {
		memset(buf, 0, 32 + HS1_MSG_LEN);
		put32(buf, SC_OPS_MAGIC);
		buf[4] = SC_OPS_VERSION;
		buf[6] = SC_OP_OPEN & 0xff;
		buf[7] = SC_OP_OPEN >> 8;
		put32(buf + 12, domid);
		put32(buf + 24, HS1_MSG_LEN);
		put32(buf + 28, (uint32_t)calls + 1);	/* seq */
		/* xorshift64: a fresh "ephemeral key" and ciphertext each time. */
		for (k = 0; k < HS1_MSG_LEN; k++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			buf[32 + k] = (unsigned char)(x >> 24);
		}
		rc = hypercall(SC_XEN_HYPERCALL, SC_XEN_OP_CALL,
		    (uint64_t)(uintptr_t)buf, BUF_LEN);
		calls++;
		if (rc != 0) {
			rcerr++;
			continue;
		}
		st = (int32_t)get32(buf + 8);
		if (st == -11)		/* SC_ERR_DECRYPT */
			decrypt++;
		else
			other++;
	}
	printf("open-storm: calls=%lu decrypt=%lu other=%lu rc-errors=%lu ms=%llu\n",
	    calls, decrypt, other, rcerr, (unsigned long long)(now_ms() - t0));
}

static int
parse_domid(const char *s, uint16_t *domid)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0 || v >= 0x7ff0)
		return -1;
	*domid = (uint16_t)v;
	return 0;
}

int
main(int argc, char **argv)
{
	struct sc_xen_attach at;
	struct sc_xen_detach dt;
	uint16_t domid;
	long rc;
	int i;

	if (argc < 2) {
		fprintf(stderr, "usage: sccrypt-hcall-probe version|get-info|"
		    "protect:DOMID|attach:DOMID|detach:DOMID...\n");
		return 2;
	}
	buf = mmap(NULL, BUF_LEN, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED) {
		perror("sccrypt-hcall-probe: mmap");
		return 2;
	}
	if (mlock(buf, BUF_LEN) != 0)
		perror("sccrypt-hcall-probe: mlock (continuing)");
	memset(buf, 0, BUF_LEN);
	if ((privcmd = open("/dev/xen/privcmd", O_RDWR | O_CLOEXEC)) < 0) {
		perror("sccrypt-hcall-probe: /dev/xen/privcmd");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "version") == 0) {
			rc = hypercall(HYPERVISOR_xen_version, XENVER_version,
			    0, 0);
			if (rc < 0)
				print_err("version", rc);
			else
				printf("version: rc=0 xen=%ld.%ld\n", rc >> 16,
				    rc & 0xffff);
		} else if (strcmp(a, "get-info") == 0) {
			op_call("get-info", SC_OP_GET_INFO, 0);
		} else if (strncmp(a, "protect:", 8) == 0 &&
		    parse_domid(a + 8, &domid) == 0) {
			op_call("protect", SC_OP_PROTECT, domid);
		} else if (strncmp(a, "attach:", 7) == 0 &&
		    parse_domid(a + 7, &domid) == 0) {
			memset(&at, 0, sizeof(at));
			at.domid = domid;
			memcpy(at.name, "probe", 5);
			memcpy(buf, &at, sizeof(at));
			rc = hypercall(SC_XEN_HYPERCALL, SC_XEN_OP_ATTACH,
			    (uint64_t)(uintptr_t)buf, sizeof(at));
			if (rc == 0)
				printf("attach: rc=0\n");
			else
				print_err("attach", rc);
		} else if (strncmp(a, "detach:", 7) == 0 &&
		    parse_domid(a + 7, &domid) == 0) {
			memset(&dt, 0, sizeof(dt));
			dt.domid = domid;
			memcpy(buf, &dt, sizeof(dt));
			rc = hypercall(SC_XEN_HYPERCALL, SC_XEN_OP_DETACH,
			    (uint64_t)(uintptr_t)buf, sizeof(dt));
			if (rc == 0)
				printf("detach: rc=0\n");
			else
				print_err("detach", rc);
		} else if (strncmp(a, "xs-read:", 8) == 0 ||
		    strncmp(a, "xs-write:", 9) == 0) {
			xs_cmd(a);
		} else if (strncmp(a, "open-storm:", 11) == 0) {
			char dbuf[8], *colon = strchr(a + 11, ':');
			unsigned long secs;

			if (colon == NULL || (size_t)(colon - (a + 11)) >= sizeof(dbuf)) {
				fprintf(stderr, "sccrypt-hcall-probe: bad command %s\n", a);
				return 2;
			}
			memcpy(dbuf, a + 11, (size_t)(colon - (a + 11)));
			dbuf[colon - (a + 11)] = '\0';
			secs = strtoul(colon + 1, NULL, 10);
			if (parse_domid(dbuf, &domid) != 0 || secs == 0 || secs > 3600) {
				fprintf(stderr, "sccrypt-hcall-probe: bad command %s\n", a);
				return 2;
			}
			open_storm(domid, (unsigned)secs);
		} else if (strcmp(a, "console-storm") == 0) {
			console_storm();
		} else if (strcmp(a, "console-reuse") == 0) {
			console_reuse();
		} else if (strcmp(a, "kexec-range") == 0) {
			struct xen_kexec_range r;

			memset(&r, 0, sizeof(r));
			r.range = KEXEC_RANGE_MA_XEN;
			memcpy(buf, &r, sizeof(r));
			rc = hypercall(HYPERVISOR_kexec_op, KEXEC_CMD_kexec_get_range,
			    (uint64_t)(uintptr_t)buf, 0);
			memcpy(&r, buf, sizeof(r));
			if (rc == 0)
				printf("kexec-range: rc=0 start=%#lx size=%#lx\n", r.start, r.size);
			else
				print_err("kexec-range", rc);
		} else if (strcmp(a, "kexec-load") == 0) {
			struct xen_kexec_load l;

			memset(&l, 0, sizeof(l));
			l.type = KEXEC_TYPE_DEFAULT;
			l.arch = KEXEC_ARCH_X86_64;
			memcpy(buf, &l, sizeof(l));
			rc = hypercall(HYPERVISOR_kexec_op, KEXEC_CMD_kexec_load,
			    (uint64_t)(uintptr_t)buf, 0);
			if (rc == 0)
				printf("kexec-load: rc=0\n");
			else
				print_err("kexec-load", rc);
			memset(buf, 0, 8);
			buf[0] = KEXEC_TYPE_DEFAULT;
			rc = hypercall(HYPERVISOR_kexec_op, KEXEC_CMD_kexec_unload,
			    (uint64_t)(uintptr_t)buf, 0);
			if (rc == 0)
				printf("kexec-unload: rc=0\n");
			else
				print_err("kexec-unload", rc);
		} else {
			fprintf(stderr, "sccrypt-hcall-probe: bad command %s\n", a);
			return 2;
		}
	}
	close(privcmd);
	return 0;
}
