/*
 * test_consoled_xen — the Xen backend of sccrypt-consoled with the
 * hypercall, event-channel and xenstore layers mocked through struct
 * sc_xen_sys: hypercall buffer contract (request in, response in place,
 * seq checked), ENOSYS, VIRQ -> SC_OP_EVENT draining and unmasking,
 * @introduceDomain/@releaseDomain watches, domain discovery from xenstore
 * (dom0 skipped, hostile names and UUIDs refused, flags from STATUS), and a
 * whole relay session through the backend.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/frame.h"
#include "core/ops.h"
#include "core/wire.h"
#include "backend.h"
#include "backend_xen.h"
#include "consoled.h"

/* ---- the mock hypervisor -------------------------------------------------- */

static struct {
	int		xc, xce, xs;		/* handles (addresses only) */
	int		pipefd[2];		/* evtchn fd stand-in */
	uint8_t		*buf;
	unsigned	calls, bad_seq, enosys, allocs;
	unsigned	last_op_arg1;
	uint64_t	last_size;
	struct sc_bk_event events[8];
	size_t		nevents;
	bool		virq_pending, watch_pending;
	unsigned	unmasked;
	unsigned	bound_virq;
	uint32_t	session_next;
	uint8_t		input[256];
	size_t		input_len;
	bool		output_ready;
	uint32_t	flags5;
} m;

static void *call_open(void) { return &m.xc; }
static void call_close(void *xc) { assert_ptr_equal(xc, &m.xc); }
static void *
call_alloc(void *xc, size_t size)
{
	assert_ptr_equal(xc, &m.xc);
	assert_int_equal(size, SC_OP_MAX);
	m.allocs++;
	return m.buf = calloc(1, size);
}
static void call_free(void *xc, void *p) { (void)xc; assert_ptr_equal(p, m.buf); free(p); m.buf = NULL; }

/* A stand-in record ciphertext: tag padded with '.' to the smallest record. */
static void
padded_rec(const char *tag, uint8_t rec[SC_RECORD_CT_MIN])
{
	memset(rec, '.', SC_RECORD_CT_MIN);
	memcpy(rec, tag, strlen(tag));
}

static void
respond(struct sc_op_hdr *h, const void *pay, size_t len)
{
	struct sc_buf b;

	h->len = (uint32_t)len;
	sc_buf_init(&b, m.buf, SC_OP_MAX);
	assert_int_equal(sc_op_hdr_put(&b, h), 0);
	if (len > 0)
		assert_int_equal(sc_buf_put_bytes(&b, pay, len), 0);
}

static int
call3(void *xc, unsigned int op, uint64_t a1, uint64_t a2, uint64_t a3)
{
	struct sc_buf b;
	struct sc_op_hdr h;
	uint8_t pay[64];

	assert_ptr_equal(xc, &m.xc);
	m.calls++;
	if (m.enosys) {
		errno = ENOSYS;
		return -1;
	}
	assert_int_equal(op, SC_XEN_HYPERCALL);
	assert_int_equal(a1, SC_XEN_OP_CALL);
	assert_true((uintptr_t)a2 == (uintptr_t)m.buf);	/* the hypercall buffer */
	assert_int_equal(a3, SC_OP_MAX);
	sc_buf_init_ro(&b, m.buf, SC_OP_MAX);
	assert_int_equal(sc_op_hdr_get(&b, &h), 0);
	if (m.bad_seq)
		h.seq ^= 0x55;
	switch (h.op) {
	case SC_OP_GET_INFO:
		memset(pay, 0x5a, 32);
		memset(pay + 32, 0, 20);
		pay[36] = SC_CAP_RAW;
		respond(&h, pay, 52);
		break;
	case SC_OP_STATUS:
		memset(pay, 0, 40);
		pay[0] = (uint8_t)(h.domid == 5 ? m.flags5 : SC_DOM_F_RUNNING);
		respond(&h, pay, 40);
		break;
	case SC_OP_EVENT:
		if (m.nevents == 0) {
			h.status = SC_ERR_AGAIN;
			respond(&h, NULL, 0);
			break;
		}
		h.domid = m.events[0].domid;
		h.session = m.events[0].session;
		h.arg = m.events[0].bits;
		memmove(m.events, m.events + 1, --m.nevents * sizeof(m.events[0]));
		respond(&h, NULL, 0);
		break;
	case SC_OP_OPEN:
		h.session = ++m.session_next;
		respond(&h, "HS2", 3);
		break;
	case SC_OP_INPUT:
		assert_true(h.len <= sizeof(m.input) - m.input_len);
		memcpy(m.input + m.input_len, sc_buf_rptr(&b), h.len);
		m.input_len += h.len;
		h.arg = h.len;
		respond(&h, NULL, 0);
		break;
	case SC_OP_OUTPUT:
		if (m.output_ready) {
			m.output_ready = false;
			uint8_t item[2 + SC_RECORD_CT_MIN];

			item[0] = SC_RECORD_CT_MIN;
			item[1] = 0;
			padded_rec("ctxt", item + 2);
			respond(&h, item, sizeof(item));
		} else {
			respond(&h, NULL, 0);
		}
		break;
	case SC_OP_CLOSE:
		respond(&h, NULL, 0);
		break;
	default:
		h.status = SC_ERR_UNSUPPORTED;
		respond(&h, NULL, 0);
	}
	return 0;
}

static void *ev_open(void) { return &m.xce; }
static void ev_close(void *x) { assert_ptr_equal(x, &m.xce); }
static int ev_fd(void *x) { (void)x; return m.pipefd[0]; }
static int ev_bind_virq(void *x, unsigned int virq) { (void)x; m.bound_virq = virq; return 9; }
static int
ev_pending(void *x)
{
	(void)x;
	if (!m.virq_pending)
		return -1;
	m.virq_pending = false;
	return 9;
}
static int ev_unmask(void *x, unsigned int port) { (void)x; assert_int_equal(port, 9); m.unmasked++; return 0; }

static void *xs_open_(void) { return &m.xs; }
static void xs_close_(void *x) { (void)x; }
static int xs_fileno_(void *x) { (void)x; return m.pipefd[0]; }
static bool
xs_watch_(void *x, const char *path, const char *token)
{
	(void)x; (void)token;
	assert_true(strcmp(path, "@introduceDomain") == 0 ||
	    strcmp(path, "@releaseDomain") == 0);
	return true;
}
static char **
xs_check_watch_(void *x)
{
	char **v;

	(void)x;
	if (!m.watch_pending)
		return NULL;
	m.watch_pending = false;
	v = calloc(1, 2 * sizeof(char *) + 32);
	v[0] = (char *)(v + 2);
	strcpy(v[0], "@releaseDomain");
	return v;
}

/* The xenstore tree: domids, names and vm paths (some hostile). */
static const struct { const char *id, *name, *vm; } tree[] = {
	{ "0", "Domain-0", "/vm/00000000-0000-0000-0000-000000000000" },
	{ "5", "web1", "/vm/6f1c2a8e-0b3d-4c5e-9f7a-112233445566" },
	{ "7", "db.internal", "/vm/AABBCCDD-EEFF-0011-2233-445566778899" },
	{ "8", "bad;name", "/vm/6f1c2a8e-0b3d-4c5e-9f7a-112233445566" },
	{ "9", "nouuid", "/vm/not-a-uuid" },
	{ "010", "leadingzero", "/vm/6f1c2a8e-0b3d-4c5e-9f7a-112233445566" },
	{ "x1", "notanumber", "/vm/6f1c2a8e-0b3d-4c5e-9f7a-112233445566" },
	{ "32752", "reserved", "/vm/6f1c2a8e-0b3d-4c5e-9f7a-112233445566" },
};

static char **
xs_directory_(void *x, const char *path, unsigned int *num)
{
	char **v;
	size_t i;

	(void)x;
	assert_string_equal(path, "/local/domain");
	v = calloc(SC_NELEM(tree), sizeof(char *));
	for (i = 0; i < SC_NELEM(tree); i++)
		v[i] = (char *)tree[i].id;	/* freed as one block by the caller */
	*num = (unsigned)SC_NELEM(tree);
	return v;
}

static void *
xs_read_(void *x, const char *path, unsigned int *len)
{
	char want[64];
	size_t i;

	(void)x;
	for (i = 0; i < SC_NELEM(tree); i++) {
		snprintf(want, sizeof(want), "/local/domain/%s/name", tree[i].id);
		if (strcmp(path, want) == 0) {
			*len = (unsigned)strlen(tree[i].name);
			return strdup(tree[i].name);
		}
		snprintf(want, sizeof(want), "/local/domain/%s/vm", tree[i].id);
		if (strcmp(path, want) == 0) {
			*len = (unsigned)strlen(tree[i].vm);
			return strdup(tree[i].vm);
		}
	}
	errno = ENOENT;
	return NULL;
}

static const struct sc_xen_sys mock = {
	call_open, call_close, call_alloc, call_free, call3,
	ev_open, ev_close, ev_fd, ev_bind_virq, ev_pending, ev_unmask,
	xs_open_, xs_close_, xs_fileno_, xs_watch_, xs_check_watch_,
	xs_directory_, xs_read_,
};

static struct sc_backend bk;
static struct sc_conf *conf;

static int
setup(void **state)
{
	(void)state;
	memset(&m, 0, sizeof(m));
	assert_int_equal(pipe(m.pipefd), 0);
	m.flags5 = SC_DOM_F_RUNNING | SC_DOM_F_PROTECTED;
	sc_backend_xen_use(&mock);
	memset(&bk, 0, sizeof(bk));
	bk.ops = &sc_backend_xen_ops;
	conf = calloc(1, sizeof(*conf));
	sc_conf_defaults(conf);
	conf->backend = SC_BACKEND_XEN;
	conf->certificate[0] = '\0';
	assert_int_equal(bk.ops->open(&bk, conf), 0);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	bk.ops->close(&bk);
	assert_null(m.buf);		/* the hypercall buffer was freed */
	close(m.pipefd[0]);
	close(m.pipefd[1]);
	free(conf);
	return 0;
}

static void
test_open_and_call(void **state)
{
	struct sc_op_hdr req, resp;
	static uint8_t pay[SC_OP_PAYLOAD_MAX];
	int fds[SC_BK_FDS_MAX];

	(void)state;
	assert_int_equal(m.bound_virq, SC_XEN_VIRQ);
	assert_int_equal(m.allocs, 1);
	assert_int_equal(bk.ops->pollfds(&bk, fds, SC_BK_FDS_MAX), 2);
	memset(&req, 0, sizeof(req));
	req.op = SC_OP_GET_INFO;
	assert_int_equal(bk.ops->call(&bk, &req, NULL, &resp, pay), 0);
	assert_int_equal(resp.status, 0);
	assert_int_equal(resp.len, 52);
	assert_int_equal(pay[0], 0x5a);
	/* A response with another seq is refused. */
	m.bad_seq = 1;
	assert_int_equal(bk.ops->call(&bk, &req, NULL, &resp, pay), SC_ERR_FORMAT);
	m.bad_seq = 0;
	/* A hypervisor without SCCrypt. */
	m.enosys = 1;
	assert_int_equal(bk.ops->call(&bk, &req, NULL, &resp, pay), SC_ERR_UNSUPPORTED);
}

static void
test_domains(void **state)
{
	struct sc_bk_domain d[16];
	size_t n;

	(void)state;
	assert_int_equal(bk.ops->list_domains(&bk, d, 16, &n), 0);
	assert_int_equal(n, 2);		/* dom0 and every hostile entry skipped */
	assert_int_equal(d[0].domid, 5);
	assert_string_equal(d[0].name, "web1");
	assert_int_equal(d[0].uuid[0], 0x6f);
	assert_int_equal(d[0].uuid[15], 0x66);
	assert_int_equal(d[0].flags, SC_DOM_F_RUNNING | SC_DOM_F_PROTECTED);
	assert_int_equal(d[1].domid, 7);
	assert_string_equal(d[1].name, "db.internal");
	assert_int_equal(d[1].uuid[0], 0xaa);
	assert_int_equal(d[1].flags, SC_DOM_F_RUNNING);
}

static void
test_events(void **state)
{
	(void)state;
	m.events[0] = (struct sc_bk_event){ 5, 3, SC_EV_OUTPUT };
	m.events[1] = (struct sc_bk_event){ 7, 0, SC_EV_INPUT_SPACE };
	m.nevents = 2;
	m.virq_pending = true;
	assert_int_equal(bk.ops->dispatch(&bk), 0);
	assert_int_equal(bk.evq_len, 2);
	assert_int_equal(bk.evq[0].domid, 5);
	assert_int_equal(bk.evq[0].session, 3);
	assert_int_equal(bk.evq[0].bits, SC_EV_OUTPUT);
	assert_int_equal(bk.evq[1].bits, SC_EV_INPUT_SPACE);
	assert_int_equal(m.unmasked, 1);
	assert_false(bk.evq_overflow);
	bk.evq_len = 0;
	m.watch_pending = true;
	assert_int_equal(bk.ops->dispatch(&bk), 0);
	assert_int_equal(bk.evq_len, 1);
	assert_true(bk.evq[0].bits & SC_EV_DOMAIN_ADDED);
}

static void
test_relay_through_xen(void **state)
{
	static struct sc_cd cd;
	struct sc_cd_client *c;
	static const char req[] = "SCCRYPT/1 console web1 B\n";
	static uint8_t mem[256];
	uint8_t rec[SC_RECORD_CT_MIN];
	struct sc_buf b;
	const char *why;
	unsigned line;

	(void)state;
	assert_int_equal(sc_conf_parse(conf, "allow * *\n", 10, &line, &why), 0);
	(void)sc_conf_resolve_users(conf);
	assert_int_equal(sc_cd_init(&cd, conf, &bk), 0);
	assert_int_equal(sc_cd_backend_up(&cd), 0);
	assert_int_equal(cd.ndoms, 2);
	assert_int_equal(cd.hv_pk[0], 0x5a);
	c = sc_cd_client_new(&cd, -1, 1000, 1);
	sc_cd_client_input(&cd, c, (const uint8_t *)req, sizeof(req) - 1);
	assert_int_equal(c->state, SC_CD_FRAMED);
	sc_buf_init(&b, mem, sizeof(mem));
	assert_int_equal(sc_frame_encode(&b, 'B', SC_FRAME_HS_INIT, (const uint8_t *)"hs1", 3), 0);
	padded_rec("rec", rec);
	assert_int_equal(sc_frame_encode(&b, 'B', SC_FRAME_RECORD, rec, sizeof(rec)), 0);
	sc_cd_client_input(&cd, c, mem, b.len);
	assert_int_equal(c->state, SC_CD_SESSION);
	assert_int_equal(m.input_len, 2 + sizeof(rec));
	assert_int_equal(m.input[0] | m.input[1] << 8, sizeof(rec));
	assert_memory_equal(m.input + 2, rec, sizeof(rec));
	/* The hv raises its VIRQ for output; the event reaches the session. */
	m.output_ready = true;
	m.events[0] = (struct sc_bk_event){ 5, c->session, SC_EV_OUTPUT };
	m.nevents = 1;
	m.virq_pending = true;
	assert_int_equal(bk.ops->dispatch(&bk), 0);
	sc_cd_events(&cd);
	sc_cd_service(&cd);
	assert_true(memmem(sc_buf_rptr(&c->out), sc_buf_avail(&c->out), "ctxt", 4) != NULL);
	c->dead = true;
	sc_cd_client_free(&cd, c);
	cd.bk_up = false;	/* the backend is closed by teardown */
	sc_cd_free(&cd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_and_call, setup, teardown),
		cmocka_unit_test_setup_teardown(test_domains, setup, teardown),
		cmocka_unit_test_setup_teardown(test_events, setup, teardown),
		cmocka_unit_test_setup_teardown(test_relay_through_xen, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
