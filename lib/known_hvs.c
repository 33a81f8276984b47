/*
 * known_hvs.c — pinned hypervisor keys, one "<host> <vm|*> <fingerprint>"
 * per line, checked and rewritten atomically like ssh's known_hosts.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/err.h"
#include "encode.h"
#include "io.h"
#include "known_hvs.h"

#define KNOWN_HVS_MAX		(1024 * 1024)

struct khv_line {
	const char	*host, *vm, *fp;
	size_t		 hostlen, vmlen, fplen;
};

/* Split one line (no newline) into its three fields; 1 = entry, 0 = skip. */
static int
khv_split(const char *line, size_t len, struct khv_line *e)
{
	const char *p = line, *end = line + len, *f[3];
	size_t fl[3];
	int i;

	if (len > 0 && line[len - 1] == '\r')
		end--;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (p == end || *p == '#')
		return 0;
	for (i = 0; i < 3; i++) {
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		f[i] = p;
		while (p < end && *p != ' ' && *p != '\t')
			p++;
		fl[i] = (size_t)(p - f[i]);
	}
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (p != end)
		return SC_ERR_FORMAT;
	if (!sc_token_ok(f[0], fl[0], 255) || !sc_token_ok(f[1], fl[1], 255) ||
	    fl[2] != sizeof(SC_FINGERPRINT_PREFIX) - 1 + SC_FINGERPRINT_B64_LEN ||
	    memcmp(f[2], SC_FINGERPRINT_PREFIX,
	    sizeof(SC_FINGERPRINT_PREFIX) - 1) != 0 ||
	    !sc_token_ok(f[2], fl[2], 255))
		return SC_ERR_FORMAT;
	e->host = f[0];
	e->hostlen = fl[0];
	e->vm = f[1];
	e->vmlen = fl[1];
	e->fp = f[2];
	e->fplen = fl[2];
	return 1;
}

static int
khv_args_ok(const char *host, const char *vm)
{
	return host != NULL && vm != NULL &&
	    sc_token_ok(host, strlen(host), 255) && sc_token_ok(vm, strlen(vm), 255);
}

int
sc_known_hvs_check(const char *path, const char *host, const char *vm,
    const uint8_t hvkey[32])
{
	unsigned char *data = NULL;
	size_t len = 0, off, llen;
	char fp[SC_FINGERPRINT_LEN];
	struct khv_line e;
	int r, seen = 0, found = 0;

	if (path == NULL || hvkey == NULL || !khv_args_ok(host, vm))
		return SC_ERR_INVAL;
	if ((r = sc_read_file(path, KNOWN_HVS_MAX, &data, &len)) < 0)
		return r;
	sc_fingerprint(hvkey, 32, fp);
	for (off = 0; off < len; off += llen + 1) {
		const char *line = (const char *)data + off;
		const char *nl = memchr(line, '\n', len - off);

		llen = nl != NULL ? (size_t)(nl - line) : len - off;
		if (memchr(line, '\0', llen) != NULL) {
			r = SC_ERR_FORMAT;
			goto out;
		}
		if ((r = khv_split(line, llen, &e)) < 0)
			goto out;
		if (r == 0)
			continue;
		if (e.hostlen != strlen(host) || strncasecmp(e.host, host, e.hostlen) != 0)
			continue;
		if (!(e.vmlen == 1 && e.vm[0] == '*') &&
		    (e.vmlen != strlen(vm) || memcmp(e.vm, vm, e.vmlen) != 0))
			continue;
		seen = 1;
		if (e.fplen == strlen(fp) && memcmp(e.fp, fp, e.fplen) == 0)
			found = 1;
	}
	r = found ? 0 : seen ? SC_ERR_MISMATCH : SC_ERR_NOTFOUND;
 out:
	free(data);
	return r;
}

int
sc_known_hvs_add(const char *path, const char *host, const char *vm,
    const uint8_t hvkey[32])
{
	unsigned char *data = NULL;
	char *out = NULL;
	size_t len = 0, off, llen, o = 0, cap;
	char fp[SC_FINGERPRINT_LEN];
	struct khv_line e;
	int r, n;

	if (path == NULL || hvkey == NULL || !khv_args_ok(host, vm))
		return SC_ERR_INVAL;
	r = sc_read_file(path, KNOWN_HVS_MAX, &data, &len);
	if (r == SC_ERR_NOTFOUND) {
		data = NULL;
		len = 0;
	} else if (r < 0)
		return r;
	sc_fingerprint(hvkey, 32, fp);
	cap = len + 1 + strlen(host) + strlen(vm) + strlen(fp) + 4;
	if ((out = malloc(cap)) == NULL) {
		r = SC_ERR_ALLOC;
		goto out;
	}
	/* Copy every line except the entries for exactly (host, vm). */
	for (off = 0; off < len; off += llen + 1) {
		const char *line = (const char *)data + off;
		const char *nl = memchr(line, '\n', len - off);

		llen = nl != NULL ? (size_t)(nl - line) : len - off;
		if (memchr(line, '\0', llen) != NULL) {
			r = SC_ERR_FORMAT;
			goto out;
		}
		if ((r = khv_split(line, llen, &e)) < 0)
			goto out;
		if (r == 1 && e.hostlen == strlen(host) &&
		    strncasecmp(e.host, host, e.hostlen) == 0 &&
		    e.vmlen == strlen(vm) && memcmp(e.vm, vm, e.vmlen) == 0)
			continue;
		memcpy(out + o, line, llen);
		o += llen;
		out[o++] = '\n';
	}
	n = snprintf(out + o, cap - o, "%s %s %s\n", host, vm, fp);
	if (n < 0 || (size_t)n >= cap - o) {
		r = SC_ERR_INTERNAL;
		goto out;
	}
	o += (size_t)n;
	r = sc_write_file_atomic(path, out, o, 0600);
 out:
	free(out);
	free(data);
	return r;
}
