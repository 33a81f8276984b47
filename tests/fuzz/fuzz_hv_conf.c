/*
 * fuzz_hv_conf.c — libFuzzer harness for sccrypt-hvsim's configuration
 * parser (hv/sim/conf.c).  Checks: no crash, and an accepted configuration
 * satisfies what hvsim relies on (NUL-terminated strings, unique names,
 * uuids and domids, domids assigned, limits respected).
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/frame.h"
#include "hv/sim/conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct hvsim_conf c;
	char err[512];
	unsigned i, j;

	hvsim_conf_defaults(&c);
	if (hvsim_conf_parse(&c, (const char *)data, size, "fuzz", err,
	    sizeof(err)) != 0) {
		if (memchr(err, '\0', sizeof(err)) == NULL)
			abort();
		return 0;
	}
	if (c.ndomains > HVSIM_MAX_DOMAINS || c.pcr > 23 || c.pcr == 16 ||
	    c.pcr == 23 || (c.socket_mode & 0007) != 0)
		abort();
	for (i = 0; i < c.ndomains; i++) {
		const struct hvsim_domain_conf *d = &c.dom[i];
		if (!sc_vmname_valid(d->name, strlen(d->name)) || d->domid == 0 ||
		    memchr(d->disk, '\0', sizeof(d->disk)) == NULL ||
		    memchr(d->command, '\0', sizeof(d->command)) == NULL ||
		    memchr(d->input_log, '\0', sizeof(d->input_log)) == NULL)
			abort();
		for (j = 0; j < i; j++)
			if (strcmp(d->name, c.dom[j].name) == 0 ||
			    d->domid == c.dom[j].domid ||
			    memcmp(d->uuid, c.dom[j].uuid, sizeof(d->uuid)) == 0)
				abort();
	}
	return 0;
}
