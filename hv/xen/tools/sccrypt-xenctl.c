/*
 * sccrypt-xenctl — dom0 toolstack helper for SCCrypt inside Xen.
 *
 *   sccrypt-xenctl info            hv public key, fingerprint, capabilities
 *   sccrypt-xenctl attach [-H BYTES] [-w SECONDS] DOMAIN
 *                                  make the hypervisor the console backend
 *                                  of DOMAIN (a domid or a name)
 *   sccrypt-xenctl detach DOMAIN
 *
 * Xen does not record a PV guest's console page; the toolstack put its
 * MFN/GFN and event channel into xenstore (/local/domain/N/console/ring-ref
 * and port), and this tool passes them, with the domain's name and UUID,
 * to __HYPERVISOR_sccrypt_op(SCCRYPT_OP_ATTACH).
 *
 * The handover from xenconsoled: attach first sets console/type to
 * "sccrypt"; xenconsoled with the SCCrypt release patch
 * (hv/xen/patches/tools/) then unmaps the console page, closes its end of
 * the event channel (the guest's port becomes unbound again) and removes
 * console/tty.  The hypervisor refuses a page that is still grant-mapped or
 * a port that is still bound (EBUSY), so attach waits, at most -w seconds,
 * until the guest's port is unbound and the hypervisor accepts; on failure
 * console/type is put back so that xenconsoled reconnects.  Detach sets
 * console/type back to "xenconsoled", which makes xenconsoled connect the
 * console again; the hypervisor refuses to detach a protected domain
 * (EPERM: it keeps its encrypted console until it is destroyed), and then
 * nothing changes.
 *
 * Everything read from xenstore is validated: the toolstack and, for parts,
 * the guest can write there.  The hypervisor checks the page's owner.
 * Exit: 0 ok, 1 error, 64 usage.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <xencall.h>
#include <xenstore.h>
/*
 * The current hypercall interface, as Xen's own tools see it: without this
 * the public headers default to interface version 0, where
 * __HYPERVISOR_event_channel_op means the old one-argument compat call.
 */
#define __XEN_TOOLS__ 1
#include <xen/xen.h>
#include <xen/event_channel.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/frame.h"
#include "core/ops.h"
#include "core/wire.h"
#include "encode.h"
#include "log.h"
#include "xen_abi.h"

/* How long attach waits for a console daemon to let go, by default. */
#define SCX_WAIT_DEFAULT_S	10
#define SCX_WAIT_MAX_S		3600
#define SCX_POLL_NS		(50 * 1000 * 1000)
/* console/type values: SCCrypt's, and xenconsoled's (libxl's default). */
#define SCX_TYPE_SCCRYPT	"sccrypt"
#define SCX_TYPE_XENCONSOLED	"xenconsoled"
#define SCX_TYPE_MAX		64

static void
usage(FILE *f)
{
	fprintf(f, "usage: sccrypt-xenctl info\n"
	    "       sccrypt-xenctl attach [-H history-bytes] [-w seconds] domain\n"
	    "       sccrypt-xenctl detach domain\n"
	    "       sccrypt-xenctl -h | --help | -V | --version\n");
}

static int
parse_u32(const char *s, size_t len, uint32_t max, uint32_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (len == 0 || len > 10 || (len > 1 && s[0] == '0'))
		return SC_ERR_FORMAT;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return SC_ERR_FORMAT;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > max)
		return SC_ERR_TOOLONG;
	*out = (uint32_t)v;
	return 0;
}

/* Read a xenstore value as a NUL-terminated string of at most max bytes. */
static char *
xs_get(struct xs_handle *xs, const char *path, size_t max)
{
	unsigned int len;
	char *v = xs_read(xs, XBT_NULL, path, &len);

	if (v == NULL)
		return NULL;
	if (len > max || strlen(v) != len) {
		free(v);
		errno = EINVAL;
		return NULL;
	}
	return v;
}

/* DOMAIN as a domid, or the domid of the domain with that name. */
static int
resolve_domain(struct xs_handle *xs, const char *arg, uint32_t *domid)
{
	char **ids, path[64], *name;
	unsigned int n, i;
	uint32_t id;
	int r = SC_ERR_NOTFOUND;

	if (parse_u32(arg, strlen(arg), 0x7fef, domid) == 0)
		return 0;
	if ((ids = xs_directory(xs, XBT_NULL, "/local/domain", &n)) == NULL)
		return SC_ERR_SYSTEM;
	for (i = 0; i < n; i++) {
		if (parse_u32(ids[i], strlen(ids[i]), 0x7fef, &id) != 0)
			continue;
		snprintf(path, sizeof(path), "/local/domain/%u/name", id);
		if ((name = xs_get(xs, path, SC_VMNAME_MAX)) == NULL)
			continue;
		if (strcmp(name, arg) == 0) {
			*domid = id;
			r = 0;
		}
		free(name);
		if (r == 0)
			break;
	}
	free(ids);
	return r;
}

static int
hypercall(xencall_handle *xc, unsigned int cmd, const void *in, size_t len,
    void *out, size_t cap)
{
	void *buf;
	int r;

	if ((buf = xencall_alloc_buffer(xc, cap)) == NULL) {
		sc_error("cannot allocate a hypercall buffer");
		return -1;
	}
	memset(buf, 0, cap);
	memcpy(buf, in, len);
	r = xencall3(xc, SC_XEN_HYPERCALL, cmd, (uint64_t)(uintptr_t)buf, cap);
	if (r >= 0 && out != NULL)
		memcpy(out, buf, cap);
	xencall_free_buffer(xc, buf);
	return r;
}

/*
 * EVTCHNOP_status of port PORT of domain DOMID: returns the EVTCHNSTAT_*
 * value and, for an unbound or interdomain port, the peer domain in *peer;
 * -1 with errno set if the hypercall fails.
 */
static int
evtchn_status(xencall_handle *xc, uint32_t domid, uint32_t port,
    uint32_t *peer)
{
	struct evtchn_status *st;
	int r;

	if ((st = xencall_alloc_buffer(xc, sizeof(*st))) == NULL)
		return -1;
	memset(st, 0, sizeof(*st));
	st->dom = (domid_t)domid;
	st->port = port;
	r = xencall2(xc, __HYPERVISOR_event_channel_op, EVTCHNOP_status,
	    (uint64_t)(uintptr_t)st);
	if (r >= 0) {
		r = (int)st->status;
		*peer = r == EVTCHNSTAT_interdomain ? st->u.interdomain.dom :
		    r == EVTCHNSTAT_unbound ? st->u.unbound.dom : DOMID_INVALID;
	}
	xencall_free_buffer(xc, st);
	return r;
}

/* Set (value != NULL) or remove the domain's console/type. */
static bool
set_console_type(struct xs_handle *xs, uint32_t domid, const char *value)
{
	char path[80];

	snprintf(path, sizeof(path), "/local/domain/%u/console/type", domid);
	if (value == NULL)
		return xs_rm(xs, XBT_NULL, path);
	return xs_write(xs, XBT_NULL, path, value, strlen(value));
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int
cmd_info(xencall_handle *xc)
{
	static uint8_t req[SC_OP_MAX], resp[SC_OP_MAX];
	char fp[SC_FINGERPRINT_LEN];
	struct sc_op_hdr h;
	struct sc_buf b;
	uint32_t abi, caps, maxd, maxs, pcr;
	const uint8_t *pk;
	size_t i;

	sc_op_hdr_init(&h, SC_OP_GET_INFO, 0, 0, 0, 1);
	sc_buf_init(&b, req, sizeof(req));
	if (sc_op_hdr_put(&b, &h) != 0)
		return 1;
	if (hypercall(xc, SC_XEN_OP_CALL, req, SC_OP_HDR_LEN, resp, sizeof(resp)) < 0) {
		sc_error("sccrypt_op: %s%s", strerror(errno), errno == ENOSYS ?
		    " (hypervisor without SCCrypt, or no hardware RNG)" : "");
		return 1;
	}
	sc_buf_init_ro(&b, resp, sizeof(resp));
	if (sc_op_hdr_get(&b, &h) != 0 || h.op != SC_OP_GET_INFO || h.seq != 1) {
		sc_error("malformed response from the hypervisor");
		return 1;
	}
	if (h.status != 0) {
		sc_error("GET_INFO: %s", sc_err(h.status));
		return 1;
	}
	if (sc_buf_get_view(&b, SC_KEY_LEN, &pk) != 0 ||
	    sc_buf_get_u32_le(&b, &abi) != 0 || sc_buf_get_u32_le(&b, &caps) != 0 ||
	    sc_buf_get_u32_le(&b, &maxd) != 0 || sc_buf_get_u32_le(&b, &maxs) != 0 ||
	    sc_buf_get_u32_le(&b, &pcr) != 0) {
		sc_error("GET_INFO: short payload");
		return 1;
	}
	sc_fingerprint(pk, SC_KEY_LEN, fp);
	printf("hv-public-key ");
	for (i = 0; i < SC_KEY_LEN; i++)
		printf("%02x", pk[i]);
	printf("\nfingerprint %s\nabi %u\ncaps 0x%x\nmax-domains %u\n"
	    "max-sessions %u\n", fp, abi, caps, maxd, maxs);
	if (pcr == 0xffffffffu)
		printf("pcr none\n");
	else
		printf("pcr %u\n", pcr);
	return 0;
}

static int
cmd_attach(xencall_handle *xc, struct xs_handle *xs, uint32_t domid,
    uint32_t history, uint32_t wait_s)
{
	struct sc_xen_attach a;
	char path[80], *v, *old_type = NULL, why[96];
	uint32_t port, peer = 0;
	unsigned long long gfn;
	char *end;
	bool changed = false, done = false;
	uint64_t deadline;
	int st, e;

	memset(&a, 0, sizeof(a));
	a.domid = (uint16_t)domid;
	a.history = history;

	snprintf(path, sizeof(path), "/local/domain/%u/console/ring-ref", domid);
	if ((v = xs_get(xs, path, 20)) == NULL) {
		sc_error("domain %u: no console ring-ref in xenstore", domid);
		return 1;
	}
	errno = 0;
	gfn = strtoull(v, &end, 10);
	if (errno != 0 || *v == '\0' || *end != '\0') {
		sc_error("domain %u: bad console ring-ref", domid);
		free(v);
		return 1;
	}
	free(v);
	a.gfn = gfn;

	snprintf(path, sizeof(path), "/local/domain/%u/console/port", domid);
	if ((v = xs_get(xs, path, 10)) == NULL ||
	    parse_u32(v, strlen(v), 0xfffffffeu, &port) != 0) {
		sc_error("domain %u: no usable console port in xenstore", domid);
		free(v);
		return 1;
	}
	free(v);
	a.port = port;

	snprintf(path, sizeof(path), "/local/domain/%u/name", domid);
	if ((v = xs_get(xs, path, SC_VMNAME_MAX)) == NULL ||
	    !sc_vmname_valid(v, strlen(v))) {
		sc_error("domain %u: no usable name", domid);
		free(v);
		return 1;
	}
	memcpy(a.name, v, strlen(v));
	free(v);

	snprintf(path, sizeof(path), "/local/domain/%u/vm", domid);
	if ((v = xs_get(xs, path, 64)) == NULL || sc_uuid_parse_tail(v, strlen(v), a.uuid) != 0) {
		sc_error("domain %u: no usable UUID (/vm path)", domid);
		free(v);
		return 1;
	}
	free(v);

	/*
	 * Hand the console over: mark it as SCCrypt's, so that xenconsoled
	 * (with the release patch) lets go of it and never maps it again.
	 */
	snprintf(path, sizeof(path), "/local/domain/%u/console/type", domid);
	errno = 0;
	if ((old_type = xs_get(xs, path, SCX_TYPE_MAX)) == NULL &&
	    errno != ENOENT) {
		sc_error("domain %u: unreadable console/type", domid);
		return 1;
	}
	if (old_type == NULL || strcmp(old_type, SCX_TYPE_SCCRYPT) != 0) {
		if (!set_console_type(xs, domid, SCX_TYPE_SCCRYPT)) {
			sc_error("domain %u: cannot set console/type: %s", domid,
			    strerror(errno));
			free(old_type);
			return 1;
		}
		changed = true;
	}

	/*
	 * Wait until the console daemon closed its end of the event channel
	 * (the guest's port is unbound again) and unmapped the page (the
	 * hypervisor checks that no grant pins it, EBUSY otherwise).
	 */
	deadline = now_ns() + (uint64_t)wait_s * 1000000000u;
	snprintf(why, sizeof(why), "nothing was tried");
	for (;;) {
		st = evtchn_status(xc, domid, port, &peer);
		if (st < 0) {
			sc_error("domain %u: status of console port %u: %s",
			    domid, port, strerror(errno));
			break;
		}
		if (st == EVTCHNSTAT_unbound) {
			if (hypercall(xc, SC_XEN_OP_ATTACH, &a, sizeof(a), NULL,
			    sizeof(a)) == 0) {
				done = true;
				break;
			}
			e = errno;
			if (e != EBUSY) {
				sc_error("attach domain %u: %s%s", domid,
				    strerror(e), e == ENOSYS ?
				    " (hypervisor without SCCrypt)" : "");
				break;
			}
			snprintf(why, sizeof(why), "the console page is still "
			    "grant-mapped (by a console daemon)");
		} else if (st == EVTCHNSTAT_interdomain) {
			snprintf(why, sizeof(why), "console port %u is still "
			    "bound to domain %u (a console daemon)", port, peer);
		} else {
			sc_error("domain %u: port %u is not a console event "
			    "channel (status %d)", domid, port, st);
			break;
		}
		if (now_ns() >= deadline) {
			sc_error("domain %u: the console was not released within "
			    "%u s: %s; is xenconsoled built with the SCCrypt "
			    "release patch (docs/xen.md)?", domid, wait_s, why);
			break;
		}
		nanosleep(&(struct timespec){ .tv_sec = 0,
		    .tv_nsec = SCX_POLL_NS }, NULL);
	}
	if (!done) {
		/* Give the console back to whoever served it before. */
		if (changed && !set_console_type(xs, domid, old_type))
			sc_warn("domain %u: cannot restore console/type",
			    domid);
		free(old_type);
		return 1;
	}
	free(old_type);
	printf("domain %u (%s) attached: console gfn %llu, port %u\n", domid,
	    a.name, gfn, port);
	/*
	 * An HVM guest also has an emulated UART (QEMU in dom0) and firmware
	 * that prints there: none of it goes through Xen (docs/xen.md §2).
	 */
	snprintf(path, sizeof(path), "/libxl/%u/type", domid);
	if ((v = xs_get(xs, path, 8)) != NULL && strcmp(v, "hvm") == 0)
		printf("domain %u is an HVM guest: only its PV console is "
		    "protected (hvc0: boot it with console=hvc0, log in there); "
		    "its emulated serial port (ttyS0, served by QEMU in dom0) "
		    "and firmware and boot loader output are NOT encrypted\n",
		    domid);
	free(v);
	return 0;
}

static int
cmd_detach(xencall_handle *xc, struct xs_handle *xs, uint32_t domid)
{
	struct sc_xen_detach dt;
	char path[80], *type;

	memset(&dt, 0, sizeof(dt));
	dt.domid = (uint16_t)domid;
	if (hypercall(xc, SC_XEN_OP_DETACH, &dt, sizeof(dt), NULL, sizeof(dt)) < 0) {
		if (errno == EPERM)
			sc_error("detach domain %u: refused by the hypervisor: a "
			    "protected domain keeps its encrypted console until "
			    "it is destroyed", domid);
		else
			sc_error("detach domain %u: %s", domid, strerror(errno));
		return 1;
	}
	/* The port is unbound and the page unmapped: xenconsoled may have it. */
	snprintf(path, sizeof(path), "/local/domain/%u/console/type", domid);
	type = xs_get(xs, path, SCX_TYPE_MAX);
	if (type != NULL && strcmp(type, SCX_TYPE_SCCRYPT) == 0 &&
	    !set_console_type(xs, domid, SCX_TYPE_XENCONSOLED))
		sc_warn("domain %u: cannot set console/type back to %s",
		    domid, SCX_TYPE_XENCONSOLED);
	free(type);
	printf("domain %u detached\n", domid);
	return 0;
}

int
main(int argc, char **argv)
{
	xencall_handle *xc = NULL;
	struct xs_handle *xs = NULL;
	uint32_t domid, history = 0, wait_s = SCX_WAIT_DEFAULT_S;
	const char *cmd;
	int opt, rc = 1;

	sc_log_init("sccrypt-xenctl", SC_LOG_INFO, SC_LOG_TO_STDERR);
	if (argc < 2) {
		usage(stderr);
		return 64;
	}
	cmd = argv[1];
	if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(cmd, "-V") == 0 || strcmp(cmd, "--version") == 0) {
		sc_print_version("sccrypt-xenctl");
		return 0;
	}
	optind = 2;
	while ((opt = getopt(argc, argv, "H:hw:")) != -1) {
		switch (opt) {
		case 'H':
			if (parse_u32(optarg, strlen(optarg), 1u << 24, &history) != 0) {
				sc_error("bad history size: %s", optarg);
				return 64;
			}
			break;
		case 'w':
			if (parse_u32(optarg, strlen(optarg), SCX_WAIT_MAX_S,
			    &wait_s) != 0) {
				sc_error("bad wait time: %s", optarg);
				return 64;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 64;
		}
	}
	if ((strcmp(cmd, "info") == 0 && optind != argc) ||
	    (strcmp(cmd, "info") != 0 && optind != argc - 1)) {
		usage(stderr);
		return 64;
	}
	if ((xc = xencall_open(NULL, 0)) == NULL) {
		sc_error("cannot open privcmd: %s", strerror(errno));
		return 1;
	}
	if (strcmp(cmd, "info") == 0) {
		rc = cmd_info(xc);
		goto out;
	}
	if (strcmp(cmd, "attach") != 0 && strcmp(cmd, "detach") != 0) {
		usage(stderr);
		rc = 64;
		goto out;
	}
	if ((xs = xs_open(0)) == NULL) {
		sc_error("cannot open xenstore: %s", strerror(errno));
		goto out;
	}
	if (resolve_domain(xs, argv[optind], &domid) != 0 || domid == 0) {
		sc_error("no such domain: %s", argv[optind]);
		goto out;
	}
	rc = strcmp(cmd, "attach") == 0 ?
	    cmd_attach(xc, xs, domid, history, wait_s) :
	    cmd_detach(xc, xs, domid);
out:
	if (xs != NULL)
		xs_close(xs);
	xencall_close(xc);
	return rc;
}
