/*
 * backend.c — what every backend shares (backend.h): the event queue and
 * the decoding of a LIST_DOMAINS page.
 */
#include "config.h"

#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/frame.h"
#include "core/ops.h"
#include "log.h"
#include "backend.h"

void
sc_bk_push_event(struct sc_backend *bk, uint32_t domid, uint32_t session,
    uint32_t bits)
{
	size_t i;

	if (bits & SC_EV_LOST) {
		/* The hv dropped events: the daemon resynchronises everything. */
		bk->evq_overflow = true;
		bits &= ~(uint32_t)SC_EV_LOST;
		if (bits == 0)
			return;
	}
	for (i = 0; i < bk->evq_len; i++) {
		if (bk->evq[i].domid == domid && bk->evq[i].session == session) {
			bk->evq[i].bits |= bits;
			return;
		}
	}
	if (bk->evq_len == SC_BK_EVENTS_MAX) {
		bk->evq_overflow = true;
		return;
	}
	bk->evq[bk->evq_len].domid = domid;
	bk->evq[bk->evq_len].session = session;
	bk->evq[bk->evq_len].bits = bits;
	bk->evq_len++;
}

int
sc_bk_parse_domains(const uint8_t *pay, size_t len, uint32_t count,
    struct sc_bk_domain *out, size_t max, size_t *n)
{
	struct sc_buf b;
	const uint8_t *name;
	uint32_t i;
	size_t nl;
	int r;

	*n = 0;
	if ((size_t)count * SC_OP_DOMAIN_ENTRY_LEN != len)
		return SC_ERR_FORMAT;
	sc_buf_init_ro(&b, pay, len);
	for (i = 0; i < count; i++) {
		struct sc_bk_domain d;

		memset(&d, 0, sizeof(d));
		if ((r = sc_buf_get_u32_le(&b, &d.domid)) < 0 ||
		    (r = sc_buf_get_bytes(&b, d.uuid, SC_UUID_LEN)) < 0 ||
		    (r = sc_buf_get_view(&b, 64, &name)) < 0 ||
		    (r = sc_buf_get_u32_le(&b, &d.flags)) < 0)
			return r;
		nl = strnlen((const char *)name, 64);
		if (nl > SC_VMNAME_MAX || !sc_vmname_valid((const char *)name, nl)) {
			sc_warn("domain %u has an unusable name; ignored", d.domid);
			continue;
		}
		memcpy(d.name, name, nl);
		d.name[nl] = '\0';
		if (d.domid == 0 || *n == max)
			continue;
		out[(*n)++] = d;
	}
	return 0;
}
