/*
 * sccrypt-xenctl — dom0 toolstack helper for SCCrypt inside Xen.
 *
 *   sccrypt-xenctl info            hv public key, fingerprint, capabilities
 *   sccrypt-xenctl attach [-H BYTES] DOMAIN
 *                                  make the hypervisor the console backend
 *                                  of DOMAIN (a domid or a name)
 *   sccrypt-xenctl detach DOMAIN
 *
 * Xen does not record a PV guest's console page; the toolstack put its
 * MFN/GFN and event channel into xenstore (/local/domain/N/console/ring-ref
 * and port), and this tool passes them, with the domain's name and UUID,
 * to __HYPERVISOR_sccrypt_op(SCCRYPT_OP_ATTACH).  Attach a domain created
 * paused, before any console daemon connects (`xl create -p`, attach,
 * `xl unpause`): the hypervisor refuses a console page that is already
 * grant-mapped or whose port is bound.  After attaching, console/type is
 * set to "sccrypt" so that a (re)started xenconsoled leaves it alone.
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
#include <unistd.h>

#include <xencall.h>
#include <xenstore.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/frame.h"
#include "core/ops.h"
#include "core/wire.h"
#include "keys.h"
#include "log.h"

/* The hypercall ABI of the SCCrypt Xen patch (xen/include/public/sccrypt.h). */
#define SCX_HYPERCALL		43
#define SCX_OP_CALL		1
#define SCX_OP_ATTACH		2
#define SCX_OP_DETACH		3

struct scx_attach {
	uint16_t	domid;
	uint16_t	pad0;
	uint32_t	port;
	uint64_t	gfn;
	uint32_t	history;
	uint32_t	flags;
	uint8_t		uuid[16];
	char		name[64];
};
_Static_assert(sizeof(struct scx_attach) == 104, "xen_sccrypt_attach size");
_Static_assert(__builtin_offsetof(struct scx_attach, gfn) == 8, "gfn offset");
_Static_assert(__builtin_offsetof(struct scx_attach, uuid) == 24, "uuid offset");

struct scx_detach {
	uint16_t	domid;
	uint16_t	pad0;
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: sccrypt-xenctl info\n"
	    "       sccrypt-xenctl attach [-H history-bytes] domain\n"
	    "       sccrypt-xenctl detach domain\n");
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

static int
uuid_parse(const char *s, uint8_t out[SC_UUID_LEN])
{
	size_t i, o = 0, len = strlen(s);
	int hi = -1;

	/* "/vm/<uuid>" or a bare UUID: the last 36 characters. */
	if (len < 36)
		return SC_ERR_FORMAT;
	s += len - 36;
	for (i = 0; i < 36; i++) {
		char ch = s[i];
		int v;

		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (ch != '-')
				return SC_ERR_FORMAT;
			continue;
		}
		if (ch >= '0' && ch <= '9')
			v = ch - '0';
		else if (ch >= 'a' && ch <= 'f')
			v = ch - 'a' + 10;
		else if (ch >= 'A' && ch <= 'F')
			v = ch - 'A' + 10;
		else
			return SC_ERR_FORMAT;
		if (hi < 0) {
			hi = v;
		} else {
			out[o++] = (uint8_t)(hi << 4 | v);
			hi = -1;
		}
	}
	return o == SC_UUID_LEN ? 0 : SC_ERR_FORMAT;
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
	r = xencall3(xc, SCX_HYPERCALL, cmd, (uint64_t)(uintptr_t)buf, cap);
	if (r >= 0 && out != NULL)
		memcpy(out, buf, cap);
	xencall_free_buffer(xc, buf);
	return r;
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

	memset(&h, 0, sizeof(h));
	h.magic = SC_OPS_MAGIC;
	h.version = SC_OPS_VERSION;
	h.op = SC_OP_GET_INFO;
	h.seq = 1;
	sc_buf_init(&b, req, sizeof(req));
	if (sc_op_hdr_put(&b, &h) != 0)
		return 1;
	if (hypercall(xc, SCX_OP_CALL, req, SC_OP_HDR_LEN, resp, sizeof(resp)) < 0) {
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
    uint32_t history)
{
	struct scx_attach a;
	char path[80], *v;
	uint32_t port;
	unsigned long long gfn;
	char *end;

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
	if ((v = xs_get(xs, path, 64)) == NULL || uuid_parse(v, a.uuid) != 0) {
		sc_error("domain %u: no usable UUID (/vm path)", domid);
		free(v);
		return 1;
	}
	free(v);

	if (hypercall(xc, SCX_OP_ATTACH, &a, sizeof(a), NULL, sizeof(a)) < 0) {
		int e = errno;

		sc_error("attach domain %u: %s%s", domid, strerror(e),
		    e == EBUSY ? " (the console is already connected: attach "
		    "a domain created paused, before xenconsoled maps it)" :
		    e == ENOSYS ? " (hypervisor without SCCrypt)" : "");
		return 1;
	}
	snprintf(path, sizeof(path), "/local/domain/%u/console/type", domid);
	if (!xs_write(xs, XBT_NULL, path, "sccrypt", strlen("sccrypt")))
		sc_warn("domain %u: cannot set console/type", domid);
	printf("domain %u (%s) attached: console gfn %llu, port %u\n", domid,
	    a.name, gfn, port);
	return 0;
}

static int
cmd_detach(xencall_handle *xc, uint32_t domid)
{
	struct scx_detach dt;

	memset(&dt, 0, sizeof(dt));
	dt.domid = (uint16_t)domid;
	if (hypercall(xc, SCX_OP_DETACH, &dt, sizeof(dt), NULL, sizeof(dt)) < 0) {
		sc_error("detach domain %u: %s", domid, strerror(errno));
		return 1;
	}
	printf("domain %u detached\n", domid);
	return 0;
}

int
main(int argc, char **argv)
{
	xencall_handle *xc = NULL;
	struct xs_handle *xs = NULL;
	uint32_t domid, history = 0;
	const char *cmd;
	int opt, rc = 1;

	sc_log_init("sccrypt-xenctl", SC_LOG_INFO, SC_LOG_TO_STDERR);
	if (argc < 2) {
		usage(stderr);
		return 64;
	}
	cmd = argv[1];
	optind = 2;
	while ((opt = getopt(argc, argv, "H:h")) != -1) {
		switch (opt) {
		case 'H':
			if (parse_u32(optarg, strlen(optarg), 1u << 24, &history) != 0) {
				sc_error("bad history size: %s", optarg);
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
	rc = strcmp(cmd, "attach") == 0 ? cmd_attach(xc, xs, domid, history) :
	    cmd_detach(xc, domid);
out:
	if (xs != NULL)
		xs_close(xs);
	xencall_close(xc);
	return rc;
}
