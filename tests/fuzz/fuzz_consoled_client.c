/*
 * fuzz_consoled_client — everything a local client can send to
 * sccrypt-consoled: the request line, then frames (binary or armored) or
 * plaintext, in arbitrary chunks, interleaved with hv events, a hv whose
 * ring fills up, and a client that reads its output only sometimes.
 *
 * Input: byte 0 = scenario bits, then the stream.  Scenario bit 0x80: the
 * whole stream (request line included) is fuzz data; otherwise a valid
 * request is prepended (bits 0-1: console B, console A, auto on an
 * unprotected domain, protect), and bit 0x04 prepends a valid HS_INIT frame
 * so the session state is reached; bits 0x20/0x40 make PROTECT answer "try
 * again" before its result / refuse it.  Invariants: every buffer stays within its
 * bound; the daemon state stays consistent (checked by the sanitizers).
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/frame.h"
#include "log.h"
#include "consoled.h"
#include "../unit/test_consoled_fakehv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned long long fnow = 1000000;

static unsigned long long
clock_fn(void)
{
	return fnow;
}

static void
check(struct sc_cd *cd, struct sc_cd_client *c)
{
	size_t i;

	if (c->in_len > SC_CD_IN_MAX || c->pend_len > SC_CD_PEND_MAX ||
	    c->in_len > c->in_cap || c->pend_len > c->pend_cap ||
	    c->in_cap > SC_CD_IN_MAX || c->pend_cap > SC_CD_PEND_MAX ||
	    c->out.size > cd->conf->client_buffer ||
	    sc_buf_avail(&c->out) > cd->conf->client_buffer)
		abort();
	/* The timer heap holds each client at most once, in heap order. */
	if (cd->heap_len > cd->nclients)
		abort();
	for (i = 0; i < cd->heap_len; i++)
		if (cd->heap[i]->hidx != i ||
		    (i > 0 && cd->heap[(i - 1) / 2]->tkey > cd->heap[i]->tkey))
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sc_conf *conf;
	static uint8_t stream[70000];
	static const char *reqs[] = {
		"SCCRYPT/1 console vm1 B\n", "SCCRYPT/1 console vm1 A\n",
		"SCCRYPT/1 auto plain B\n", "SCCRYPT/1 protect plain B\n",
	};
	struct sc_backend bk;
	struct sc_cd cd;
	struct sc_cd_client *c;
	struct sc_buf b;
	size_t n = 0, off = 0, k, step = 0;
	uint8_t sc;
	const char *why;
	unsigned line;

	if (size < 1 || size > 60000)
		return 0;
	if (conf == NULL) {
		static const char text[] = "allow * *\nclient_buffer = 32768\ninput_rate = 0\n";
		sc_log_init("fuzz", SC_LOG_QUIET, SC_LOG_TO_STDERR);
		conf = calloc(1, sizeof(*conf));
		sc_conf_defaults(conf);
		if (sc_conf_parse(conf, text, strlen(text), &line, &why) < 0)
			abort();
		conf->certificate[0] = '\0';
	}
	sc = data[0];
	data++;
	size--;
	if (!(sc & 0x80)) {
		const char *rq = reqs[sc & 3];
		memcpy(stream, rq, strlen(rq));
		n = strlen(rq);
		if (sc & 0x04) {
			uint8_t enc = (sc & 3) == 1 ? 'A' : 'B';
			sc_buf_init(&b, stream + n, sizeof(stream) - n);
			if (sc_frame_encode(&b, enc, SC_FRAME_HS_INIT,
			    (const uint8_t *)"hs1", 3) == 0)
				n += b.len;
		}
	}
	memcpy(stream + n, data, size);
	n += size;

	fake_reset();
	fake_add_domain(1, "vm1", true);
	fake_add_domain(3, "plain", false);
	memset(&bk, 0, sizeof(bk));
	bk.ops = &fake_backend_ops;
	if (sc_cd_init(&cd, conf, &bk) < 0)
		return 0;
	cd.now = clock_fn;
	if (bk.ops->open(&bk, conf) < 0 || sc_cd_backend_up(&cd) < 0)
		abort();
	fakehv.ring_space = (sc & 0x08) ? 5 : (size_t)-1;
	/* Bit 0x20: PROTECT answers "try again" (a check running) a few times,
	 * and bit 0x40 then refuses it (wrong disk key). */
	fakehv.protect_again = (sc & 0x20) ? 3 : 0;
	fakehv.protect_status = (sc & 0x40) ? SC_ERR_DISKKEY : 0;
	c = sc_cd_client_new(&cd, -1, 1000, 1);
	if (c == NULL)
		abort();
	while (off < n && !c->dead && step++ < 4000) {
		k = sc_cd_client_read_budget(&cd, c);
		/* chunk size from the data itself: 1..64 bytes */
		k = SC_MIN(k, (size_t)(stream[off] & 63) + 1);
		k = SC_MIN(k, n - off);
		if (k > 0) {
			sc_cd_client_input(&cd, c, stream + off, k);
			off += k;
		}
		check(&cd, c);
		if (c->session != 0 && (step & 3) == 0)
			fake_queue_output(&bk, c->session, stream + (off % n),
			    SC_MIN((size_t)200, n - (off % n)));
		if (sc & 0x08) {
			fakehv.ring_space = 5;
			sc_bk_push_event(&bk, 1, 0, SC_EV_INPUT_SPACE);
		}
		if ((sc & 0x10) == 0 || (step & 7) == 0)
			sc_cd_client_wrote(&cd, c, sc_buf_avail(&c->out) / 2 + 1 >
			    sc_buf_avail(&c->out) ? sc_buf_avail(&c->out) :
			    sc_buf_avail(&c->out) / 2 + 1);
		sc_cd_events(&cd);
		sc_cd_service(&cd);
		check(&cd, c);
		fnow += 10;
		(void)sc_cd_tick(&cd);
	}
	if (!c->dead)
		sc_cd_client_eof(&cd, c);
	sc_cd_events(&cd);
	sc_cd_service(&cd);
	fnow += 100000;
	(void)sc_cd_tick(&cd);
	sc_cd_free(&cd);
	return 0;
}
