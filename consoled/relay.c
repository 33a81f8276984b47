/*
 * relay.c — sccrypt-consoled's relay core (see consoled.h).
 *
 * dom0 is untrusted and only ever handles ciphertext here: frames from the
 * client are unwrapped into hv ops (HS_INIT -> OPEN, RECORD -> INPUT items,
 * PROTECT -> PROTECT) and hv output items are wrapped into RECORD frames.
 * The one exception is the clearly marked plaintext relay (RAW ops) for
 * domains that are not protected, which is today's xenconsoled behaviour.
 *
 * Every buffer is bounded; every error of one client ends that client only.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/blob.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/frame.h"
#include "core/ops.h"
#include "log.h"
#include "io.h"
#include <sodium.h>
#include "consoled.h"

#define ITEM_MAX	(2 + SC_RECORD_CT_MAX)
#define RAW_CHUNK_MIN	1024
#define RETRY_MS	1000

static unsigned long long
now_ms(struct sc_cd *cd)
{
	if (cd->t_fixed)
		return cd->t_now;
	return cd->now != NULL ? cd->now() : sc_now_ms();
}

void
sc_cd_set_time(struct sc_cd *cd, unsigned long long t)
{
	cd->t_now = t;
	cd->t_fixed = true;
}

/* ---- scheduling (see consoled.h) ----------------------------------------- */

/* c's timers or wanted I/O may have changed: re-key and tell the daemon. */
static void
touch(struct sc_cd *cd, struct sc_cd_client *c)
{
	if (!c->on_touched) {
		TAILQ_INSERT_TAIL(&cd->touched, c, tch_link);
		c->on_touched = true;
	}
	if (!c->on_changed) {
		TAILQ_INSERT_TAIL(&cd->changed, c, chg_link);
		c->on_changed = true;
	}
}

/* progress() may advance c: run it at the next sc_cd_service(). */
static void
make_ready(struct sc_cd *cd, struct sc_cd_client *c)
{
	touch(cd, c);
	if (!c->on_ready && !c->dead) {
		TAILQ_INSERT_TAIL(&cd->ready, c, rdy_link);
		c->on_ready = true;
	}
}

static void
set_dead(struct sc_cd *cd, struct sc_cd_client *c)
{
	c->dead = true;
	touch(cd, c);
}

/* An unprotected domain has (or may have) plaintext output to drain. */
static void
raw_ready(struct sc_cd *cd, struct sc_cd_domain *d)
{
	d->raw_want = true;
	if (!d->raw_queued) {
		TAILQ_INSERT_TAIL(&cd->rawq, d, raw_link);
		d->raw_queued = true;
	}
}

static void
raw_unqueue(struct sc_cd *cd, struct sc_cd_domain *d)
{
	if (d->raw_queued) {
		TAILQ_REMOVE(&cd->rawq, d, raw_link);
		d->raw_queued = false;
	}
}

void
sc_cd_client_changed(struct sc_cd *cd, struct sc_cd_client *c)
{
	touch(cd, c);
}

struct sc_cd_client *
sc_cd_next_changed(struct sc_cd *cd)
{
	struct sc_cd_client *c = TAILQ_FIRST(&cd->changed);

	if (c != NULL) {
		TAILQ_REMOVE(&cd->changed, c, chg_link);
		c->on_changed = false;
	}
	return c;
}

bool
sc_cd_has_work(const struct sc_cd *cd)
{
	return cd->bk_up && (!TAILQ_EMPTY(&cd->ready) || !TAILQ_EMPTY(&cd->rawq));
}

/*
 * The timer heap: a binary min-heap of clients on tkey, each client at most
 * once (c->hidx), so it never holds more than nclients entries.
 */
static void
heap_set(struct sc_cd *cd, size_t i, struct sc_cd_client *c)
{
	cd->heap[i] = c;
	c->hidx = i;
}

static void
heap_up(struct sc_cd *cd, size_t i)
{
	struct sc_cd_client *c = cd->heap[i];
	size_t p;

	while (i > 0) {
		p = (i - 1) / 2;
		if (cd->heap[p]->tkey <= c->tkey)
			break;
		heap_set(cd, i, cd->heap[p]);
		i = p;
	}
	heap_set(cd, i, c);
}

static void
heap_down(struct sc_cd *cd, size_t i)
{
	struct sc_cd_client *c = cd->heap[i];
	size_t l, m;

	for (;;) {
		l = 2 * i + 1;
		if (l >= cd->heap_len)
			break;
		m = l;
		if (l + 1 < cd->heap_len && cd->heap[l + 1]->tkey < cd->heap[l]->tkey)
			m = l + 1;
		if (cd->heap[m]->tkey >= c->tkey)
			break;
		heap_set(cd, i, cd->heap[m]);
		i = m;
	}
	heap_set(cd, i, c);
}

static void
heap_remove(struct sc_cd *cd, struct sc_cd_client *c)
{
	struct sc_cd_client *last;
	size_t i = c->hidx;

	if (i == SC_CD_NO_HEAP)
		return;
	c->hidx = SC_CD_NO_HEAP;
	last = cd->heap[--cd->heap_len];
	if (i < cd->heap_len) {
		heap_set(cd, i, last);
		heap_up(cd, i);
		heap_down(cd, last->hidx);
	}
}

/* Key c at key (0: no timer).  Room was reserved by sc_cd_client_new(). */
static void
heap_key(struct sc_cd *cd, struct sc_cd_client *c, unsigned long long key)
{
	unsigned long long old = c->tkey;

	if (key == 0) {
		heap_remove(cd, c);
		return;
	}
	c->tkey = key;
	if (c->hidx == SC_CD_NO_HEAP) {
		heap_set(cd, cd->heap_len++, c);
		heap_up(cd, c->hidx);
	} else if (key < old) {
		heap_up(cd, c->hidx);
	} else if (key > old) {
		heap_down(cd, c->hidx);
	}
}

/* Refill c's input-rate bucket up to t. */
static void
refill(struct sc_cd *cd, struct sc_cd_client *c, unsigned long long t)
{
	double burst;

	if (cd->conf->input_rate == 0 || t <= c->tokens_ms)
		return;
	burst = SC_MAX((double)cd->conf->input_rate, (double)SC_CD_IN_MAX);
	c->tokens += (double)(t - c->tokens_ms) * (double)cd->conf->input_rate / 1000.0;
	if (c->tokens > burst)
		c->tokens = burst;
	c->tokens_ms = t;
}

/*
 * c's earliest timer at time t: its deadline, the end of its stall grace
 * (output pending and not drained since stall_since), the INPUT retry of
 * blocked input, the refill of its input-rate bucket to one byte.  0 = none.
 */
static unsigned long long
client_timer(struct sc_cd *cd, struct sc_cd_client *c, unsigned long long t)
{
	unsigned long long key = 0, k;

	if (c->dead)
		return 0;
	if (sc_buf_avail(&c->out) > 0) {
		if (c->stall_since == 0)
			c->stall_since = t;
		key = c->stall_since + (unsigned long long)cd->conf->stall_timeout * 1000;
	}
	if (c->deadline != 0 && (key == 0 || c->deadline < key))
		key = c->deadline;
	if (c->protect_at != 0 && (key == 0 || c->protect_at < key))
		key = c->protect_at;
	/* An INPUT_SPACE event may have unblocked c already: no retry then. */
	if (c->input_blocked && c->retry_at != 0 && (key == 0 || c->retry_at < key))
		key = c->retry_at;
	if (cd->conf->input_rate > 0 && !c->rd_eof && c->state != SC_CD_REQ &&
	    c->state != SC_CD_CLOSING) {
		refill(cd, c, t);
		if (c->tokens < 1.0) {
			k = t + 1 + (unsigned long long)((1.0 - c->tokens) * 1000.0 /
			    (double)cd->conf->input_rate);
			if (key == 0 || k < key)
				key = k;
		}
	}
	return key;
}

/* Re-key the timers of every touched client. */
static void
settle(struct sc_cd *cd)
{
	struct sc_cd_client *c;
	unsigned long long t = now_ms(cd);

	while ((c = TAILQ_FIRST(&cd->touched)) != NULL) {
		TAILQ_REMOVE(&cd->touched, c, tch_link);
		c->on_touched = false;
		heap_key(cd, c, client_timer(cd, c, t));
	}
}

/* ---- small helpers ---------------------------------------------------- */

static int
bk_call(struct sc_cd *cd, uint16_t op, uint32_t domid, uint32_t session,
    uint32_t arg, const uint8_t *payload, size_t len, struct sc_op_hdr *resp)
{
	struct sc_op_hdr req;
	int r;

	if (!cd->bk_up)
		return SC_ERR_STATE;
	memset(&req, 0, sizeof(req));
	req.op = op;
	req.domid = domid;
	req.session = session;
	req.arg = arg;
	req.len = (uint32_t)len;
	memset(resp, 0, sizeof(*resp));
	r = cd->bk->ops->call(cd->bk, &req, payload, resp, cd->opbuf);
	if (r < 0) {
		sc_error("hypervisor op %u failed: %s", op, sc_err(r));
		sc_cd_backend_down(cd, r);
		return r;
	}
	if (resp->len > SC_OP_PAYLOAD_MAX)
		resp->len = 0;
	return 0;
}

/*
 * Make *mem (*cap bytes, *len in use) hold need bytes: double from
 * SC_CD_BUF_MIN, at most max.  0, SC_ERR_NOSPACE or SC_ERR_ALLOC.
 */
static int
buf_grow(uint8_t **mem, size_t *cap, size_t need, size_t max)
{
	size_t n = *cap ? *cap : SC_CD_BUF_MIN;
	uint8_t *p;

	if (need <= *cap)
		return 0;
	if (need > max)
		return SC_ERR_NOSPACE;
	while (n < need)
		n *= 2;
	n = SC_MIN(n, max);
	if ((p = realloc(*mem, n)) == NULL)
		return SC_ERR_ALLOC;
	*mem = p;
	*cap = n;
	return 0;
}

/* An emptied buffer larger than SC_CD_BUF_KEEP is freed. */
static void
buf_shrink(uint8_t **mem, size_t *cap, size_t len)
{
	if (len == 0 && *cap > SC_CD_BUF_KEEP) {
		free(*mem);
		*mem = NULL;
		*cap = 0;
	}
}

/* Room for output: up to the bound, whatever is allocated now. */
static size_t
out_room(struct sc_cd_client *c)
{
	if (c->out.off > 0 && sc_buf_room(&c->out) < c->out.size / 2)
		sc_buf_compact(&c->out);
	return c->out_max - sc_buf_avail(&c->out);
}

/* Let c->out take n more bytes (within out_max): 0 or a negative code. */
static int
out_reserve(struct sc_cd_client *c, size_t n)
{
	size_t avail = sc_buf_avail(&c->out), cap = c->out.size;
	int r;

	if (sc_buf_room(&c->out) >= n)
		return 0;
	if (c->out.off > 0)
		sc_buf_compact(&c->out);
	if (sc_buf_room(&c->out) >= n)
		return 0;
	if ((r = buf_grow(&c->outmem, &cap, avail + n, c->out_max)) != 0)
		return r;
	c->out.data = c->outmem;
	c->out.size = cap;
	return 0;
}

/* The output buffer emptied: free it if it is large and nothing waits. */
static void
out_idle(struct sc_cd_client *c)
{
	if (c->want_output || (c->state == SC_CD_RAW && c->dom != NULL &&
	    c->dom->raw_want))
		return;
	buf_shrink(&c->outmem, &c->out.size, 0);
	if (c->outmem == NULL)
		sc_buf_init(&c->out, NULL, 0);
}

static int
out_put(struct sc_cd *cd, struct sc_cd_client *c, const void *p, size_t n)
{
	int r;

	touch(cd, c);
	if (c->out_gone)
		return 0;			/* nobody to read it */
	if (out_room(c) < n)
		return SC_ERR_NOSPACE;
	if ((r = out_reserve(c, n)) != 0)
		return r;
	return sc_buf_put_bytes(&c->out, p, n);
}

static void client_close(struct sc_cd *cd, struct sc_cd_client *c, bool bye);
static void protect_drop(struct sc_cd_client *c);

/* Queue a frame; a client whose buffer cannot take a control frame is dropped. */
static int
emit_frame(struct sc_cd *cd, struct sc_cd_client *c, uint8_t type,
    const uint8_t *body, size_t len)
{
	int r;

	touch(cd, c);
	if (c->out_gone)
		return 0;			/* nobody to read it */
	/* Room for the worst case of either encoding (bounded by out_max). */
	if ((r = out_reserve(c, SC_MIN(2 * (len + 8) + 8,
	    (size_t)SC_FRAME_ENC_MAX_BINARY))) == SC_ERR_ALLOC ||
	    (r = sc_frame_encode(&c->out, c->encoding, type, body, len)) < 0) {
		sc_warn("client %llu: output buffer full; dropped",
		    (unsigned long long)c->id);
		set_dead(cd, c);
	}
	return r;
}

static void
emit_error(struct sc_cd *cd, struct sc_cd_client *c, int err, const char *text)
{
	uint8_t mem[SC_ERRMSG_MAX + 8];
	struct sc_buf b;

	sc_buf_init(&b, mem, sizeof(mem));
	if (sc_errorframe_encode((uint16_t)(err < 0 ? -err : err), text, &b) == 0)
		(void)emit_frame(cd, c, SC_FRAME_ERROR, mem, b.len);
}

static void
reply(struct sc_cd *cd, struct sc_cd_client *c, int status, int mode,
    const char *text)
{
	struct sc_ctl_reply rp;
	char line[SC_CTL_LINE_MAX + 1];
	size_t len;

	memset(&rp, 0, sizeof(rp));
	rp.status = status;
	rp.mode = mode;
	snprintf(rp.text, sizeof(rp.text), "%s", text != NULL ? text : "");
	if (sc_ctl_reply_format(&rp, line, sizeof(line), &len) == 0)
		(void)out_put(cd, c, line, len);
	if (status != SC_CTL_OK)
		client_close(cd, c, false);
}

static void
attach(struct sc_cd_domain *d, struct sc_cd_client *c)
{
	c->dom = d;
	c->dnext = d->clients;
	d->clients = c;
	d->nclients++;
}

static void
detach(struct sc_cd_client *c)
{
	struct sc_cd_client **pp;

	if (c->dom == NULL)
		return;
	for (pp = &c->dom->clients; *pp != NULL; pp = &(*pp)->dnext) {
		if (*pp == c) {
			*pp = c->dnext;
			c->dom->nclients--;
			break;
		}
	}
	c->dom = NULL;
	c->dnext = NULL;
}

/*
 * End a client: close its hv session (unless the hv already did), queue BYE
 * for framed clients, and let the daemon flush what is queued.
 */
static void
client_close(struct sc_cd *cd, struct sc_cd_client *c, bool bye)
{
	struct sc_op_hdr resp;

	if (c->state == SC_CD_CLOSING)
		return;
	touch(cd, c);
	if (c->session != 0 && !c->hv_closed && c->dom != NULL && cd->bk_up) {
		if (bk_call(cd, SC_OP_CLOSE, c->dom->domid, c->session, 0, NULL, 0,
		    &resp) == 0 && resp.status < 0 && resp.status != SC_ERR_NOTFOUND)
			sc_debug("close of session %u: %s", c->session,
			    sc_err(resp.status));
	}
	if (bye && (c->state == SC_CD_FRAMED || c->state == SC_CD_SESSION))
		(void)emit_frame(cd, c, SC_FRAME_BYE, NULL, 0);
	c->session = 0;
	c->pend_len = 0;
	c->retry_at = 0;
	c->want_output = false;
	protect_drop(c);
	detach(c);
	c->state = SC_CD_CLOSING;
	c->deadline = now_ms(cd) + SC_CD_FLUSH_TIMEOUT_MS;
	if (sc_buf_avail(&c->out) == 0)
		set_dead(cd, c);
}

static void
protocol_error(struct sc_cd *cd, struct sc_cd_client *c, int err, const char *text)
{
	cd->stats.protocol_errors++;
	sc_info("client %llu (uid %u): %s; closing", (unsigned long long)c->id,
	    (unsigned)c->uid, text);
	emit_error(cd, c, err, text);
	client_close(cd, c, true);
}

/* ---- ciphertext log ---------------------------------------------------- */

static void
log_close(struct sc_cd_domain *d)
{
	if (d->log_fd >= 0)
		close(d->log_fd);
	d->log_fd = -1;
}

static int
log_open(struct sc_cd *cd, struct sc_cd_domain *d)
{
	char path[SC_CONF_PATH_MAX + SC_VMNAME_MAX + 16];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s.sclog", cd->conf->log_dir, d->name);
	d->log_fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
	    0600);
	if (d->log_fd < 0 || fstat(d->log_fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		sc_warn("cannot open ciphertext log for %s: %s", d->name,
		    strerror(errno));
		log_close(d);
		d->log_fd = -2;		/* do not retry until the next rescan */
		return SC_ERR_SYSTEM;
	}
	d->log_size = (uint64_t)st.st_size;
	return 0;
}

/*
 * Append one ciphertext item: dir:u8 ('I' input, 'O' output) ts_ms:u64
 * len:u16 ciphertext[len], big-endian.  Rotates to NAME.sclog.1 at
 * log_max_bytes.  Only ever called with record ciphertext.
 */
static void
log_ct(struct sc_cd *cd, struct sc_cd_domain *d, uint8_t dir, const uint8_t *ct,
    size_t len)
{
	uint8_t mem[11 + SC_RECORD_CT_MAX];
	char a[SC_CONF_PATH_MAX + SC_VMNAME_MAX + 16], b[sizeof(a) + 2];
	struct sc_buf e;

	if (cd->conf->log_dir[0] == '\0' || d->log_fd == -2 || len > SC_RECORD_CT_MAX)
		return;
	if (d->log_fd < 0 && log_open(cd, d) < 0)
		return;
	if (d->log_size + sizeof(mem) > cd->conf->log_max_bytes) {
		snprintf(a, sizeof(a), "%s/%s.sclog", cd->conf->log_dir, d->name);
		snprintf(b, sizeof(b), "%s.1", a);
		log_close(d);
		if (rename(a, b) < 0)
			sc_warn("cannot rotate ciphertext log of %s: %s", d->name,
			    strerror(errno));
		if (log_open(cd, d) < 0)
			return;
	}
	sc_buf_init(&e, mem, sizeof(mem));
	if (sc_buf_put_u8(&e, dir) < 0 || sc_buf_put_u64(&e, now_ms(cd)) < 0 ||
	    sc_buf_put_u16(&e, (uint16_t)len) < 0 || sc_buf_put_bytes(&e, ct, len) < 0)
		return;
	if (sc_write_all(d->log_fd, mem, e.len) < 0) {
		int err = errno;

		/* No torn entry at the end: the log stays whole entries. */
		if (ftruncate(d->log_fd, (off_t)d->log_size) < 0)
			sc_warn("ciphertext log of %s: cannot cut a partial entry: %s",
			    d->name, strerror(errno));
		sc_warn("ciphertext log of %s: write failed (%s); logging "
		    "stopped until the next domain rescan", d->name, strerror(err));
		log_close(d);
		d->log_fd = -2;
		return;
	}
	d->log_size += e.len;
}

static void
uuid_format(const uint8_t u[SC_UUID_LEN], char out[37])
{
	static const char hx[] = "0123456789abcdef";
	size_t i, o = 0;

	for (i = 0; i < SC_UUID_LEN; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hx[u[i] >> 4];
		out[o++] = hx[u[i] & 15];
	}
	out[o] = '\0';
}

/* ---- domains ------------------------------------------------------------ */

struct sc_cd_domain *
sc_cd_domain_by_name(struct sc_cd *cd, const char *name)
{
	size_t i;

	for (i = 0; i < cd->ndoms; i++)
		if (strcmp(cd->doms[i].name, name) == 0)
			return &cd->doms[i];
	return NULL;
}

static struct sc_cd_domain *
domain_by_id(struct sc_cd *cd, uint32_t domid)
{
	size_t i;

	for (i = 0; i < cd->ndoms; i++)
		if (cd->doms[i].domid == domid)
			return &cd->doms[i];
	return NULL;
}

static void
domain_gone(struct sc_cd *cd, struct sc_cd_domain *d)
{
	while (d->clients != NULL) {
		struct sc_cd_client *c = d->clients;

		c->hv_closed = true;		/* the hv has dropped its sessions */
		if (c->state == SC_CD_FRAMED || c->state == SC_CD_SESSION)
			emit_error(cd, c, SC_ERR_NOTFOUND, "the domain has gone away");
		client_close(cd, c, true);
	}
	free(d->backlog);
	d->backlog = NULL;
	log_close(d);
}

/* Free a slot of the domain table (after domain_gone()). */
static void
domain_slot_free(struct sc_cd *cd, struct sc_cd_domain *d)
{
	raw_unqueue(cd, d);
	memset(d, 0, sizeof(*d));
	d->domid = UINT32_MAX;
	d->log_fd = -1;
}

/*
 * The table is an array of structs that clients point into, so it never
 * moves: it is allocated once with room for SC_BK_DOMAINS_MAX entries, and
 * a slot is reused only when a domain disappears.
 */
int
sc_cd_rescan(struct sc_cd *cd)
{
	struct sc_bk_domain *list;
	size_t n = 0, i, j;
	int r;

	cd->need_rescan = false;
	if (!cd->bk_up)
		return SC_ERR_STATE;
	if ((list = calloc(SC_BK_DOMAINS_MAX, sizeof(*list))) == NULL)
		return SC_ERR_ALLOC;
	r = cd->bk->ops->list_domains(cd->bk, list, SC_BK_DOMAINS_MAX, &n);
	if (r < 0) {
		free(list);
		sc_error("cannot list domains: %s", sc_err(r));
		if (r == SC_ERR_SYSTEM || r == SC_ERR_EOF || r == SC_ERR_TIMEOUT)
			sc_cd_backend_down(cd, r);
		return r;
	}
	for (i = 0; i < cd->ndoms; i++)
		cd->doms[i].present = false;
	for (j = 0; j < n; j++) {
		struct sc_cd_domain *d = domain_by_id(cd, list[j].domid);

		if (d != NULL && (memcmp(d->uuid, list[j].uuid, SC_UUID_LEN) != 0 ||
		    strcmp(d->name, list[j].name) != 0)) {
			/* The domid was reused or renamed: a different domain. */
			sc_info("domain %u %s was replaced", d->domid, d->name);
			domain_gone(cd, d);
			domain_slot_free(cd, d);
			d = NULL;
		}
		if (d == NULL) {
			if (sc_cd_domain_by_name(cd, list[j].name) != NULL) {
				sc_warn("two domains named %s; ignoring domain %u",
				    list[j].name, list[j].domid);
				continue;
			}
			for (i = 0; i < cd->ndoms; i++)
				if (cd->doms[i].domid == UINT32_MAX)
					break;
			if (i == cd->ndoms) {
				if (cd->ndoms == cd->doms_cap)
					continue;
				cd->ndoms++;
			}
			d = &cd->doms[i];
			raw_unqueue(cd, d);
			memset(d, 0, sizeof(*d));
			d->log_fd = -1;
			d->domid = list[j].domid;
			memcpy(d->uuid, list[j].uuid, SC_UUID_LEN);
			snprintf(d->name, sizeof(d->name), "%s", list[j].name);
			sc_info("domain %u %s found (%s)", d->domid, d->name,
			    (list[j].flags & SC_DOM_F_PROTECTED) ? "protected" :
			    "not protected");
			if (!(list[j].flags & SC_DOM_F_PROTECTED))
				raw_ready(cd, d);	/* drain what the guest wrote */
		}
		d->flags = list[j].flags;
		d->present = true;
		if (d->log_fd == -2)
			d->log_fd = -1;
	}
	for (i = 0; i < cd->ndoms; i++) {
		struct sc_cd_domain *d = &cd->doms[i];

		if (d->domid == UINT32_MAX || d->present)
			continue;
		sc_info("domain %u %s is gone", d->domid, d->name);
		domain_gone(cd, d);
		domain_slot_free(cd, d);
	}
	while (cd->ndoms > 0 && cd->doms[cd->ndoms - 1].domid == UINT32_MAX)
		cd->ndoms--;
	free(list);
	return 0;
}

/* STATUS op: refresh flags, return the history size (0 if unknown). */
static uint32_t
domain_status(struct sc_cd *cd, struct sc_cd_domain *d)
{
	struct sc_op_hdr resp;
	struct sc_buf b;
	uint32_t flags, sessions, used;

	if (bk_call(cd, SC_OP_STATUS, d->domid, 0, 0, NULL, 0, &resp) < 0 ||
	    resp.status < 0)
		return 0;
	sc_buf_init_ro(&b, cd->opbuf, resp.len);
	if (sc_buf_get_u32_le(&b, &flags) < 0 || sc_buf_get_u32_le(&b, &sessions) < 0 ||
	    sc_buf_get_u32_le(&b, &used) < 0)
		return 0;
	d->flags = flags;
	return used;
}

/* ---- backend lifecycle -------------------------------------------------- */

int
sc_cd_backend_up(struct sc_cd *cd)
{
	struct sc_op_hdr resp;
	struct sc_buf b;
	uint32_t abi;
	int r;

	cd->bk_up = true;
	cd->have_info = false;
	if ((r = bk_call(cd, SC_OP_GET_INFO, 0, 0, 0, NULL, 0, &resp)) < 0)
		return r;
	if (resp.status < 0) {
		sc_error("GET_INFO refused: %s", sc_err(resp.status));
		return resp.status;
	}
	sc_buf_init_ro(&b, cd->opbuf, resp.len);
	if (sc_buf_get_bytes(&b, cd->hv_pk, SC_KEY_LEN) < 0 ||
	    sc_buf_get_u32_le(&b, &abi) < 0 || sc_buf_get_u32_le(&b, &cd->hv_caps) < 0) {
		sc_error("malformed GET_INFO answer");
		return SC_ERR_FORMAT;
	}
	cd->have_info = true;
	{
		char hex[2 * SC_KEY_LEN + 1];
		sodium_bin2hex(hex, sizeof(hex), cd->hv_pk, SC_KEY_LEN);
		sc_info("hypervisor (%s backend) key %s, abi %u, caps 0x%x",
		    cd->bk->ops->name, hex, abi, cd->hv_caps);
	}
	return sc_cd_rescan(cd);
}

void
sc_cd_backend_down(struct sc_cd *cd, int err)
{
	struct sc_cd_client *c;
	size_t i;

	if (!cd->bk_up)
		return;
	sc_error("lost the hypervisor (%s); closing all sessions", sc_err(err));
	cd->bk_up = false;
	cd->have_info = false;
	for (c = cd->clients; c != NULL; c = c->next) {
		if (c->state == SC_CD_CLOSING || c->dead)
			continue;
		c->hv_closed = true;
		if (c->state == SC_CD_FRAMED || c->state == SC_CD_SESSION)
			emit_error(cd, c, SC_ERR_CLOSED, "hypervisor connection lost");
		if (c->state == SC_CD_REQ)
			reply(cd, c, SC_CTL_E_UNAVAILABLE, 0, "hypervisor not reachable");
		else
			client_close(cd, c, true);
	}
	for (i = 0; i < cd->ndoms; i++) {
		free(cd->doms[i].backlog);
		cd->doms[i].backlog = NULL;
		log_close(&cd->doms[i]);
		cd->doms[i].raw_queued = false;
	}
	TAILQ_INIT(&cd->rawq);
	/* Every client is closing: nothing is left for progress(). */
	while ((c = TAILQ_FIRST(&cd->ready)) != NULL) {
		TAILQ_REMOVE(&cd->ready, c, rdy_link);
		c->on_ready = false;
	}
	cd->ndoms = 0;
	cd->bk->evq_len = 0;
	cd->bk->ops->close(cd->bk);
}

/* ---- requests ------------------------------------------------------------ */

static void
send_hello(struct sc_cd *cd, struct sc_cd_client *c, uint32_t history)
{
	static struct sc_hello h;
	uint8_t mem[SC_FRAME_BODY_MAX];
	struct sc_buf b;
	unsigned char *cert = NULL;
	size_t certlen = 0;
	int r;

	memset(&h, 0, sizeof(h));
	h.version = SC_PROTOCOL_VERSION;
	h.flags = (c->dom->flags & SC_DOM_F_PROTECTED) ? SC_HELLO_F_PROTECTED : 0;
	if (cd->hv_caps & SC_CAP_VIEWER)
		h.flags |= SC_HELLO_F_VIEWER;
	snprintf(h.vmname, sizeof(h.vmname), "%s", c->dom->name);
	memcpy(h.uuid, c->dom->uuid, SC_UUID_LEN);
	memcpy(h.hv_pubkey, cd->hv_pk, SC_KEY_LEN);
	h.history_bytes = history;
	if (cd->conf->certificate[0] != '\0') {
		r = sc_read_file(cd->conf->certificate, SC_CERT_MAX, &cert, &certlen);
		if (r == 0 && certlen > 0 && certlen <= SC_CERT_MAX) {
			memcpy(h.cert, cert, certlen);
			h.cert_len = certlen;
		} else if (r < 0 && errno != ENOENT) {
			sc_warn("certificate %s unusable (%s); HELLO without it",
			    cd->conf->certificate, sc_err(r));
		}
		free(cert);
	}
	sc_buf_init(&b, mem, sizeof(mem));
	if (sc_hello_encode(&h, &b) < 0) {
		reply(cd, c, SC_CTL_E_INTERNAL, 0, "cannot build HELLO");
		return;
	}
	reply(cd, c, SC_CTL_OK, SC_CTL_MODE_FRAMED, NULL);
	if (out_reserve(c, 16) < 0 ||
	    sc_frame_put_magic(&c->out, c->encoding) < 0 ||
	    emit_frame(cd, c, SC_FRAME_HELLO, mem, b.len) < 0) {
		set_dead(cd, c);
		return;
	}
	if (sc_frame_decoder_init(&c->dec, c->encoding) < 0) {
		set_dead(cd, c);
		return;
	}
	c->state = SC_CD_FRAMED;
	c->deadline = now_ms(cd) + (unsigned long long)cd->conf->handshake_timeout * 1000;
}

static void
send_text(struct sc_cd *cd, struct sc_cd_client *c, const char *text)
{
	reply(cd, c, SC_CTL_OK, SC_CTL_MODE_TEXT, NULL);
	(void)out_put(cd, c, text, strlen(text));
	client_close(cd, c, false);
}

static void
start_raw(struct sc_cd *cd, struct sc_cd_client *c, struct sc_cd_domain *d)
{
	struct sc_cd_client *o;

	if (cd->have_info && !(cd->hv_caps & SC_CAP_RAW)) {
		reply(cd, c, SC_CTL_E_UNAVAILABLE, 0,
		    "the hypervisor offers no plaintext console");
		return;
	}
	/* One plaintext client per domain, like xenconsole: the new one wins. */
	for (o = d->clients; o != NULL; o = o->dnext) {
		if (o->state == SC_CD_RAW) {
			sc_info("plaintext console of %s taken over", d->name);
			client_close(cd, o, false);
			break;
		}
	}
	reply(cd, c, SC_CTL_OK, SC_CTL_MODE_RAW, NULL);
	attach(d, c);
	c->state = SC_CD_RAW;
	c->deadline = 0;
	sc_info("client %llu (uid %u): PLAINTEXT relay for unprotected domain %s",
	    (unsigned long long)c->id, (unsigned)c->uid, d->name);
	if (d->backlog_len > 0) {
		(void)out_put(cd, c, d->backlog, d->backlog_len);
		d->backlog_len = 0;
	}
	raw_ready(cd, d);
}

/* Open connections of uid (c->uid: the peer's, or the as= user's), except skip. */
static unsigned
user_clients(const struct sc_cd *cd, uid_t uid, const struct sc_cd_client *skip)
{
	const struct sc_cd_client *o;
	unsigned n = 0;

	for (o = cd->clients; o != NULL; o = o->next)
		if (o != skip && !o->dead && o->state != SC_CD_CLOSING && o->uid == uid)
			n++;
	return n;
}

/* Root (the sudo shims), or a user the policy allows some VM. */
static bool
user_has_rules(const struct sc_conf *conf, uid_t uid)
{
	size_t i;

	if (uid == 0)
		return true;
	for (i = 0; i < conf->nrules; i++)
		if (conf->rules[i].any_user ||
		    (conf->rules[i].resolved && conf->rules[i].uid == uid))
			return true;
	return false;
}

int
sc_cd_admit(struct sc_cd *cd, uid_t peer)
{
	struct sc_cd_client *o, *victim = NULL;
	unsigned live = 0;

	if (peer != 0 && user_clients(cd, peer, NULL) >= cd->conf->max_clients_per_user)
		return SC_ERR_BUSY;
	/* Closing clients still hold their buffers for a while: a hard cap. */
	if (cd->nclients >= 2 * cd->conf->max_clients)
		return SC_ERR_BUSY;
	for (o = cd->clients; o != NULL; o = o->next) {
		if (o->dead || o->state == SC_CD_CLOSING)
			continue;
		live++;
		/* The list is newest first: the last match is the oldest. */
		if (o->state == SC_CD_REQ && o->peer_uid != peer)
			victim = o;
	}
	if (live < cd->conf->max_clients)
		return 0;
	if (victim == NULL || !user_has_rules(cd->conf, peer))
		return SC_ERR_BUSY;
	sc_info("client %llu (uid %u): closed in the request phase to make room",
	    (unsigned long long)victim->id, (unsigned)victim->peer_uid);
	reply(cd, victim, SC_CTL_E_BUSY, 0, "too many clients");
	return 0;
}

unsigned
sc_cd_policy_changed(struct sc_cd *cd)
{
	struct sc_cd_client *c;
	unsigned n = 0;

	for (c = cd->clients; c != NULL; c = c->next) {
		if (c->dead || c->dom == NULL || (c->state != SC_CD_FRAMED &&
		    c->state != SC_CD_SESSION && c->state != SC_CD_RAW))
			continue;
		if (sc_policy_allows(cd->conf, c->uid, c->dom->name))
			continue;
		sc_info("client %llu: uid %u no longer allowed on %s by the policy; "
		    "closing", (unsigned long long)c->id, (unsigned)c->uid,
		    c->dom->name);
		if (c->state != SC_CD_RAW)
			emit_error(cd, c, SC_ERR_PERM, "access revoked by the dom0 policy");
		client_close(cd, c, c->state != SC_CD_RAW);
		n++;
	}
	return n;
}

static void
handle_request(struct sc_cd *cd, struct sc_cd_client *c, const char *line, size_t len)
{
	struct sc_ctl_request rq;
	struct sc_cd_domain *d;
	char text[512], hex[2 * SC_KEY_LEN + 1], uuid[37];
	uint32_t history;

	if (sc_ctl_request_parse(line, len, &rq) < 0) {
		reply(cd, c, SC_CTL_E_USAGE, 0, "malformed request");
		return;
	}
	c->uid = c->peer_uid;
	if (rq.has_as) {
		if (c->peer_uid != 0) {
			reply(cd, c, SC_CTL_E_USAGE, 0, "as= is reserved for root");
			return;
		}
		c->uid = rq.as_uid;
	}
	c->verb = rq.verb;
	c->encoding = rq.encoding;
	c->deadline = 0;

	if (rq.verb == SC_CTL_PUBKEY) {
		if (!cd->have_info) {
			reply(cd, c, SC_CTL_E_UNAVAILABLE, 0, "hypervisor not reachable");
			return;
		}
		sodium_bin2hex(hex, sizeof(hex), cd->hv_pk, SC_KEY_LEN);
		snprintf(text, sizeof(text), "%s\n", hex);
		send_text(cd, c, text);
		return;
	}
	if (!sc_policy_allows(cd->conf, c->uid, rq.vm)) {
		sc_info("client %llu: uid %u denied %s of %s by policy",
		    (unsigned long long)c->id, (unsigned)c->uid,
		    sc_ctl_verb_name(rq.verb), rq.vm);
		reply(cd, c, SC_CTL_E_PERM, 0, "permission denied by the dom0 policy");
		return;
	}
	if (c->uid != 0 && user_clients(cd, c->uid, c) >= cd->conf->max_clients_per_user) {
		sc_info("client %llu: uid %u has %u connections already",
		    (unsigned long long)c->id, (unsigned)c->uid,
		    cd->conf->max_clients_per_user);
		reply(cd, c, SC_CTL_E_BUSY, 0, "too many clients for this user");
		return;
	}
	if (!cd->bk_up) {
		reply(cd, c, SC_CTL_E_UNAVAILABLE, 0, "hypervisor not reachable");
		return;
	}
	if ((d = sc_cd_domain_by_name(cd, rq.vm)) == NULL &&
	    now_ms(cd) >= cd->last_miss_rescan + 1000) {
		/* Maybe new: look again, but at most once a second. */
		cd->last_miss_rescan = now_ms(cd);
		(void)sc_cd_rescan(cd);
		if (c->dead || c->state == SC_CD_CLOSING)
			return;
		d = sc_cd_domain_by_name(cd, rq.vm);
	}
	if (d == NULL) {
		reply(cd, c, SC_CTL_E_NODOMAIN, 0, "no such VM");
		return;
	}
	if (d->nclients >= cd->conf->max_clients_per_domain) {
		reply(cd, c, SC_CTL_E_BUSY, 0, "too many clients on this VM");
		return;
	}
	history = domain_status(cd, d);
	if (!cd->bk_up) {
		reply(cd, c, SC_CTL_E_UNAVAILABLE, 0, "hypervisor not reachable");
		return;
	}
	sc_info("client %llu: uid %u %s %s (%c)", (unsigned long long)c->id,
	    (unsigned)c->uid, sc_ctl_verb_name(rq.verb), d->name, rq.encoding);
	switch (rq.verb) {
	case SC_CTL_INFO:
		uuid_format(d->uuid, uuid);
		sodium_bin2hex(hex, sizeof(hex), cd->hv_pk, SC_KEY_LEN);
		snprintf(text, sizeof(text), "vm=%s domid=%u uuid=%s protected=%s "
		    "history=%u hv-key=%s\n", d->name, d->domid, uuid,
		    (d->flags & SC_DOM_F_PROTECTED) ? "yes" : "no", history, hex);
		send_text(cd, c, text);
		return;
	case SC_CTL_AUTO:
		if (!(d->flags & SC_DOM_F_PROTECTED)) {
			start_raw(cd, c, d);
			return;
		}
		break;
	}
	attach(d, c);
	send_hello(cd, c, history);
}

/* ---- client -> hv ------------------------------------------------------- */

/* Offer c->pend to the hv; keep what it does not take. */
static void
flush_input(struct sc_cd *cd, struct sc_cd_client *c)
{
	struct sc_op_hdr resp;
	uint16_t op = c->state == SC_CD_RAW ? SC_OP_RAW_INPUT : SC_OP_INPUT;
	size_t n;

	while (c->pend_len > 0 && !c->input_blocked && !c->dead &&
	    (c->state == SC_CD_SESSION || c->state == SC_CD_RAW) && c->dom != NULL) {
		n = SC_MIN(c->pend_len, (size_t)SC_OP_PAYLOAD_MAX);
		if (bk_call(cd, op, c->dom->domid, c->session, 0, c->pend, n, &resp) < 0)
			return;
		if (resp.status == SC_ERR_AGAIN) {
			resp.status = 0;
			resp.arg = 0;
		}
		if (resp.status < 0 || resp.arg > n) {
			if (c->state == SC_CD_RAW) {
				sc_info("plaintext input to %s refused: %s", c->dom->name,
				    sc_err(resp.status));
				client_close(cd, c, false);
				return;
			}
			/* The hv ended the session (bad record...): fetch its CLOSE. */
			sc_info("client %llu: hv refused input: %s",
			    (unsigned long long)c->id, sc_err(resp.status));
			c->pend_len = 0;
			c->hv_closed = true;
			c->want_output = true;
			return;
		}
		memmove(c->pend, c->pend + resp.arg, c->pend_len - resp.arg);
		c->pend_len -= resp.arg;
		buf_shrink(&c->pend, &c->pend_cap, c->pend_len);
		if (resp.arg < n) {
			c->input_blocked = true;
			c->retry_at = now_ms(cd) + RETRY_MS;
			cd->stats.input_retries++;
		}
	}
}

static void
protect_drop(struct sc_cd_client *c)
{
	free(c->protect_blob);
	c->protect_blob = NULL;
	c->protect_len = 0;
	c->protect_at = 0;
}

/*
 * Ask the hv to bind with c's pending blob.  SC_ERR_AGAIN (the disk check
 * is running off the hv's main loop) schedules another try; a final answer
 * is relayed, and a refusal ends the connection: a client gets one refused
 * blob per connection, so resending bad blobs costs it a reconnect each.
 */
static void
protect_try(struct sc_cd *cd, struct sc_cd_client *c)
{
	struct sc_op_hdr resp;
	uint8_t body[4 + 32];
	struct sc_buf b;

	touch(cd, c);
	c->protect_at = 0;
	if (c->dom == NULL || c->state != SC_CD_FRAMED) {
		protect_drop(c);
		return;
	}
	if (bk_call(cd, SC_OP_PROTECT, c->dom->domid, 0, 0, c->protect_blob,
	    c->protect_len, &resp) < 0) {
		protect_drop(c);
		return;
	}
	if (resp.status == SC_ERR_AGAIN) {
		c->protect_at = now_ms(cd) + c->protect_delay;
		c->protect_delay = SC_MIN(2 * c->protect_delay,
		    (unsigned)SC_CD_PROTECT_RETRY_MAX);
		return;
	}
	protect_drop(c);
	sc_info("PROTECT of %s by uid %u: %s", c->dom->name, (unsigned)c->uid,
	    resp.status < 0 ? sc_err(resp.status) : "accepted");
	sc_buf_init(&b, body, sizeof(body));
	if (sc_buf_put_u32(&b, (uint32_t)resp.status) < 0)
		return;
	if (resp.len == 32) {
		if (sc_buf_put_bytes(&b, cd->opbuf, 32) < 0)
			return;
	} else {
		uint8_t zero[32] = { 0 };
		if (sc_buf_put_bytes(&b, zero, 32) < 0)
			return;
	}
	if (emit_frame(cd, c, SC_FRAME_PROTECT_OK, body, b.len) < 0)
		return;
	if (resp.status < 0) {
		client_close(cd, c, true);
		return;
	}
	(void)domain_status(cd, c->dom);
	make_ready(cd, c);		/* frames that waited behind it */
}

static void
handle_protect(struct sc_cd *cd, struct sc_cd_client *c, const struct sc_frame *f)
{
	if (f->len == 0 || f->len > SC_BLOB_MAX) {
		protocol_error(cd, c, SC_ERR_TOOLONG, "PROTECT blob has a bad size");
		return;
	}
	if (++c->nprotect > SC_CD_PROTECT_MAX) {
		protocol_error(cd, c, SC_ERR_BUSY, "too many PROTECTs on one connection");
		return;
	}
	if ((c->protect_blob = malloc(f->len)) == NULL) {
		protocol_error(cd, c, SC_ERR_ALLOC, "out of memory");
		return;
	}
	memcpy(c->protect_blob, f->body, f->len);
	c->protect_len = f->len;
	c->protect_delay = SC_CD_PROTECT_RETRY_MIN;
	protect_try(cd, c);
}

static void
handle_hs_init(struct sc_cd *cd, struct sc_cd_client *c, const struct sc_frame *f)
{
	struct sc_op_hdr resp;

	if (!(c->dom->flags & SC_DOM_F_PROTECTED)) {
		(void)domain_status(cd, c->dom);
		if (c->dom == NULL || !(c->dom->flags & SC_DOM_F_PROTECTED)) {
			emit_error(cd, c, SC_ERR_STATE, "the domain is not protected");
			client_close(cd, c, true);
			return;
		}
	}
	if (bk_call(cd, SC_OP_OPEN, c->dom->domid, 0, 0, f->body, f->len, &resp) < 0)
		return;
	if (resp.status < 0) {
		sc_info("client %llu: handshake refused by the hv: %s",
		    (unsigned long long)c->id, sc_err(resp.status));
		emit_error(cd, c, resp.status, sc_err(resp.status));
		client_close(cd, c, true);
		return;
	}
	if (resp.session == 0 || resp.len == 0 || resp.len > SC_FRAME_BODY_MAX) {
		sc_error("malformed OPEN answer from the hypervisor");
		c->hv_closed = resp.session == 0;
		c->session = resp.session;
		emit_error(cd, c, SC_ERR_INTERNAL, "hypervisor error");
		client_close(cd, c, true);
		return;
	}
	c->session = resp.session;
	c->state = SC_CD_SESSION;
	c->deadline = 0;
	c->want_output = true;
	cd->stats.sessions_opened++;
	sc_info("client %llu: session %u on %s", (unsigned long long)c->id,
	    c->session, c->dom->name);
	(void)emit_frame(cd, c, SC_FRAME_HS_RESP, cd->opbuf, resp.len);
}

static bool finish_input_pending(struct sc_cd_client *c);

static void
handle_frame(struct sc_cd *cd, struct sc_cd_client *c, const struct sc_frame *f)
{
	switch (f->type) {
	case SC_FRAME_HS_INIT:
		if (c->state != SC_CD_FRAMED) {
			protocol_error(cd, c, SC_ERR_STATE, "unexpected handshake");
			return;
		}
		handle_hs_init(cd, c, f);
		return;
	case SC_FRAME_RECORD:
		if (c->state != SC_CD_SESSION) {
			protocol_error(cd, c, SC_ERR_STATE, "record before the handshake");
			return;
		}
		if (f->len == 0 || f->len > SC_RECORD_CT_MAX) {
			protocol_error(cd, c, SC_ERR_TOOLONG, "record has a bad size");
			return;
		}
		if (buf_grow(&c->pend, &c->pend_cap, c->pend_len + 2 + f->len,
		    SC_CD_PEND_MAX) != 0) {
			protocol_error(cd, c, SC_ERR_ALLOC, "out of memory");
			return;
		}
		c->pend[c->pend_len] = (uint8_t)(f->len & 0xff);
		c->pend[c->pend_len + 1] = (uint8_t)(f->len >> 8);
		memcpy(c->pend + c->pend_len + 2, f->body, f->len);
		c->pend_len += 2 + (size_t)f->len;
		cd->stats.records_in++;
		log_ct(cd, c->dom, 'I', f->body, f->len);
		return;
	case SC_FRAME_PROTECT:
		if (c->state != SC_CD_FRAMED) {
			protocol_error(cd, c, SC_ERR_STATE, "PROTECT inside a session");
			return;
		}
		handle_protect(cd, c, f);
		return;
	case SC_FRAME_BYE:
		/* Deliver the input already queued, then close (progress()). */
		c->finishing = true;
		c->deadline = now_ms(cd) + (unsigned long long)cd->conf->stall_timeout * 1000;
		return;
	default:
		protocol_error(cd, c, SC_ERR_TYPE, "unexpected frame type");
		return;
	}
}

/* A BYE (or EOF) was seen: only queued input is still delivered. */
static bool
finish_input_pending(struct sc_cd_client *c)
{
	return c->finishing;
}

/* Drop the first n bytes of c->in. */
static void
in_consume(struct sc_cd_client *c, size_t n)
{
	if (n == 0)
		return;
	if (n < c->in_len)
		memmove(c->in, c->in + n, c->in_len - n);
	c->in_len -= n;
	buf_shrink(&c->in, &c->in_cap, c->in_len);
}

static void
process_frames(struct sc_cd *cd, struct sc_cd_client *c)
{
	struct sc_frame f;
	size_t off = 0, used;
	int r;

	/*
	 * After BYE nothing more counts; after EOF (finishing too) every
	 * whole frame already read still does.
	 */
	while (off < c->in_len && !c->dead && c->protect_blob == NULL &&
	    (c->state == SC_CD_FRAMED || c->state == SC_CD_SESSION)) {
		if (SC_CD_PEND_MAX - c->pend_len < ITEM_MAX)
			break;			/* wait for the hv to take input */
		used = 0;
		r = sc_frame_decode(&c->dec, c->in + off, c->in_len - off, &used, &f);
		off += used;
		if (r < 0) {
			protocol_error(cd, c, r, "malformed frame");
			break;
		}
		if (r == 0)
			break;
		handle_frame(cd, c, &f);
		if (f.type == SC_FRAME_BYE)
			off = c->in_len;	/* nothing after BYE counts */
	}
	in_consume(c, off);
}

static void
process_raw(struct sc_cd *cd, struct sc_cd_client *c)
{
	size_t n = SC_MIN(c->in_len, SC_CD_PEND_MAX - c->pend_len);

	if (n == 0)
		return;
	if (buf_grow(&c->pend, &c->pend_cap, c->pend_len + n, SC_CD_PEND_MAX) != 0) {
		sc_warn("client %llu: out of memory", (unsigned long long)c->id);
		client_close(cd, c, false);
		return;
	}
	memcpy(c->pend + c->pend_len, c->in, n);
	c->pend_len += n;
	in_consume(c, n);
}

/* ---- hv -> client -------------------------------------------------------- */

/*
 * Pull up to SC_CD_OUTPUT_ROUNDS OUTPUT ops for c.  Returns true when it
 * stopped at that limit with more output pending, room for it and data in
 * the last round (so another pass is sure to make progress); a client
 * without room is resumed by sc_cd_client_wrote(), an idle one by events.
 */
static bool
pull_output(struct sc_cd *cd, struct sc_cd_client *c)
{
	struct sc_op_hdr resp;
	struct sc_buf b;
	const uint8_t *ct;
	uint16_t l;
	size_t room, arg;
	int rounds;
	bool got = false;

	for (rounds = 0; c->want_output && c->state == SC_CD_SESSION && !c->dead &&
	    rounds < SC_CD_OUTPUT_ROUNDS; rounds++) {
		room = out_room(c);
		if (room < SC_CD_CTRL_RESERVE + 3 * ITEM_MAX)
			return false;		/* the client must read first */
		arg = SC_MIN((size_t)SC_OP_PAYLOAD_MAX, (room - SC_CD_CTRL_RESERVE) / 3);
		if (bk_call(cd, SC_OP_OUTPUT, c->dom->domid, c->session, (uint32_t)arg,
		    NULL, 0, &resp) < 0)
			return false;
		if (resp.status < 0) {
			if (resp.status != SC_ERR_NOTFOUND && resp.status != SC_ERR_CLOSED)
				sc_info("client %llu: OUTPUT: %s",
				    (unsigned long long)c->id, sc_err(resp.status));
			c->hv_closed = true;
			c->want_output = false;
			break;
		}
		sc_buf_init_ro(&b, cd->opbuf, resp.len);
		while (sc_buf_avail(&b) > 0) {
			if (sc_buf_get_u16_le(&b, &l) < 0 || l == 0 ||
			    l > SC_RECORD_CT_MAX || sc_buf_get_view(&b, l, &ct) < 0) {
				sc_error("malformed OUTPUT from the hypervisor");
				c->hv_closed = true;
				resp.arg = 0;
				break;
			}
			if (emit_frame(cd, c, SC_FRAME_RECORD, ct, l) < 0)
				return false;
			cd->stats.records_out++;
			log_ct(cd, c->dom, 'O', ct, l);
		}
		c->want_output = (resp.arg & SC_OUT_F_MORE) != 0;
		got = resp.len > 0;
		sc_debug("client %llu: OUTPUT %u bytes, flags 0x%x, room %zu",
		    (unsigned long long)c->id, resp.len, resp.arg, room);
		if (resp.arg & SC_OUT_F_CLOSED) {
			c->hv_closed = true;
			c->want_output = false;
		}
	}
	if (c->hv_closed && !c->want_output && c->state == SC_CD_SESSION) {
		sc_info("client %llu: session %u ended by the hypervisor",
		    (unsigned long long)c->id, c->session);
		c->session = 0;
		client_close(cd, c, true);
		return false;
	}
	return got && c->want_output && !c->dead && c->state == SC_CD_SESSION &&
	    out_room(c) >= SC_CD_CTRL_RESERVE + 3 * ITEM_MAX;
}

static struct sc_cd_client *
raw_client(struct sc_cd_domain *d)
{
	struct sc_cd_client *c;

	for (c = d->clients; c != NULL; c = c->dnext)
		if (c->state == SC_CD_RAW && !c->dead)
			return c;
	return NULL;
}

static void
backlog_add(struct sc_cd *cd, struct sc_cd_domain *d, const uint8_t *p, size_t n)
{
	size_t cap = cd->conf->raw_backlog;

	if (cap == 0)
		return;
	if (d->backlog == NULL && (d->backlog = malloc(cap)) == NULL)
		return;
	if (n >= cap) {
		memcpy(d->backlog, p + n - cap, cap);
		d->backlog_len = cap;
		return;
	}
	if (d->backlog_len + n > cap) {
		size_t drop = d->backlog_len + n - cap;
		memmove(d->backlog, d->backlog + drop, d->backlog_len - drop);
		d->backlog_len -= drop;
	}
	memcpy(d->backlog + d->backlog_len, p, n);
	d->backlog_len += n;
}

/*
 * Plaintext output of an unprotected domain: to its raw client or the
 * backlog.  Returns true when it stopped at SC_CD_OUTPUT_ROUNDS with more
 * pending after a round that returned data; a raw client without room is
 * resumed by sc_cd_client_wrote().
 */
static bool
raw_drain(struct sc_cd *cd, struct sc_cd_domain *d)
{
	struct sc_op_hdr resp;
	struct sc_cd_client *c;
	size_t arg;
	int rounds;
	bool got = false;

	for (rounds = 0; d->raw_want && rounds < SC_CD_OUTPUT_ROUNDS && cd->bk_up;
	    rounds++) {
		if ((d->flags & SC_DOM_F_PROTECTED) || !d->present) {
			d->raw_want = false;
			return false;
		}
		c = raw_client(d);
		if (c != NULL) {
			arg = SC_MIN((size_t)SC_OP_PAYLOAD_MAX, out_room(c));
			if (arg < RAW_CHUNK_MIN)
				return false;	/* wait for the client */
		} else {
			arg = SC_MAX((size_t)cd->conf->raw_backlog, (size_t)RAW_CHUNK_MIN);
			arg = SC_MIN(arg, (size_t)SC_OP_PAYLOAD_MAX);
		}
		if (bk_call(cd, SC_OP_RAW_OUTPUT, d->domid, 0, (uint32_t)arg, NULL, 0,
		    &resp) < 0)
			return false;
		if (resp.status < 0) {
			if (resp.status == SC_ERR_PROTECTED)
				d->flags |= SC_DOM_F_PROTECTED;
			d->raw_want = false;
			if (c != NULL) {
				sc_info("plaintext console of %s ended: %s", d->name,
				    sc_err(resp.status));
				client_close(cd, c, false);
			}
			return false;
		}
		if (resp.len > arg)
			resp.len = (uint32_t)arg;
		if (c != NULL)
			(void)out_put(cd, c, cd->opbuf, resp.len);
		else
			backlog_add(cd, d, cd->opbuf, resp.len);
		d->raw_want = (resp.arg & SC_OUT_F_MORE) != 0;
		got = resp.len > 0;
	}
	return got && d->raw_want && cd->bk_up;
}

/* ---- client lifecycle ---------------------------------------------------- */

int
sc_cd_init(struct sc_cd *cd, struct sc_conf *conf, struct sc_backend *bk)
{
	memset(cd, 0, sizeof(*cd));
	cd->conf = conf;
	cd->bk = bk;
	cd->next_id = 1;
	TAILQ_INIT(&cd->ready);
	TAILQ_INIT(&cd->touched);
	TAILQ_INIT(&cd->changed);
	TAILQ_INIT(&cd->rawq);
	cd->doms_cap = SC_BK_DOMAINS_MAX;
	if ((cd->doms = calloc(cd->doms_cap, sizeof(*cd->doms))) == NULL ||
	    (cd->opbuf = malloc(SC_OP_PAYLOAD_MAX)) == NULL) {
		free(cd->doms);
		return SC_ERR_ALLOC;
	}
	return 0;
}

void
sc_cd_free(struct sc_cd *cd)
{
	size_t i;

	while (cd->clients != NULL) {
		cd->clients->dead = true;
		sc_cd_client_free(cd, cd->clients);
	}
	for (i = 0; i < cd->ndoms; i++) {
		free(cd->doms[i].backlog);
		log_close(&cd->doms[i]);
	}
	free(cd->doms);
	free(cd->opbuf);
	free(cd->heap);
	memset(cd, 0, sizeof(*cd));
}

struct sc_cd_client *
sc_cd_client_new(struct sc_cd *cd, int fd, uid_t uid, pid_t pid)
{
	struct sc_cd_client *c, **h;
	size_t cap;

	if (cd->heap_len >= cd->heap_cap || cd->nclients >= cd->heap_cap) {
		/* One heap entry per client at most: reserve it now. */
		cap = cd->heap_cap == 0 ? 64 : 2 * cd->heap_cap;
		if ((h = reallocarray(cd->heap, cap, sizeof(*h))) == NULL)
			return NULL;
		cd->heap = h;
		cd->heap_cap = cap;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->hidx = SC_CD_NO_HEAP;
	sc_buf_init(&c->out, NULL, 0);	/* allocated on demand */
	c->out_max = cd->conf->client_buffer;
	c->fd = fd;
	c->peer_uid = c->uid = uid;
	c->peer_pid = pid;
	c->state = SC_CD_REQ;
	c->encoding = SC_ENCODING_BINARY;
	c->id = cd->next_id++;
	c->deadline = now_ms(cd) + (unsigned long long)cd->conf->request_timeout * 1000;
	c->tokens_ms = now_ms(cd);
	c->tokens = (double)SC_CD_IN_MAX;
	c->next = cd->clients;
	if (c->next != NULL)
		c->next->pprev = &c->next;
	cd->clients = c;
	c->pprev = &cd->clients;
	cd->nclients++;
	cd->stats.clients_accepted++;
	touch(cd, c);
	return c;
}

void
sc_cd_client_free(struct sc_cd *cd, struct sc_cd_client *c)
{
	if (c->state != SC_CD_CLOSING)
		client_close(cd, c, false);
	detach(c);
	*c->pprev = c->next;
	if (c->next != NULL)
		c->next->pprev = c->pprev;
	cd->nclients--;
	if (c->on_ready)
		TAILQ_REMOVE(&cd->ready, c, rdy_link);
	if (c->on_touched)
		TAILQ_REMOVE(&cd->touched, c, tch_link);
	if (c->on_changed)
		TAILQ_REMOVE(&cd->changed, c, chg_link);
	heap_remove(cd, c);
	cd->stats.clients_closed++;
	protect_drop(c);
	free(c->outmem);
	free(c->in);
	free(c->pend);
	free(c);
}

/*
 * Advance c as far as it goes now.  Returns true when c stopped at a
 * per-pass limit with work left that is sure to progress (see pull_output()
 * and the plaintext case below): sc_cd_service() then runs it again.
 */
static bool
progress(struct sc_cd *cd, struct sc_cd_client *c)
{
	char *nl;
	size_t len;
	bool again = false;

	if (c->dead)
		return false;
	touch(cd, c);
	if (c->state == SC_CD_REQ) {
		nl = c->in_len ? memchr(c->in, '\n', c->in_len) : NULL;
		if (nl == NULL) {
			if (c->in_len >= SC_CTL_LINE_MAX)
				reply(cd, c, SC_CTL_E_USAGE, 0, "request too long");
			return false;
		}
		len = (size_t)((uint8_t *)nl - c->in) + 1;
		handle_request(cd, c, (const char *)c->in, len);
		in_consume(c, len);
	}
	switch (c->state) {
	case SC_CD_FRAMED:
	case SC_CD_SESSION:
		for (;;) {
			process_frames(cd, c);
			if (c->dead || c->state != SC_CD_SESSION)
				break;
			flush_input(cd, c);
			if (c->dead || c->input_blocked || c->in_len == 0 ||
			    SC_CD_PEND_MAX - c->pend_len < ITEM_MAX)
				break;
		}
		if (c->state == SC_CD_SESSION && !c->dead)
			again = pull_output(cd, c);
		if (finish_input_pending(c) && c->pend_len == 0 &&
		    (c->state == SC_CD_SESSION || c->state == SC_CD_FRAMED)) {
			client_close(cd, c, true);
			again = false;
		}
		break;
	case SC_CD_RAW:
		process_raw(cd, c);
		flush_input(cd, c);
		if (finish_input_pending(c) && c->pend_len == 0 && c->in_len == 0)
			client_close(cd, c, false);
		/* Input left in c->in that the now empty pend can take. */
		again = c->state == SC_CD_RAW && !c->dead && !c->input_blocked &&
		    c->in_len > 0 && c->pend_len < SC_CD_PEND_MAX;
		break;
	case SC_CD_CLOSING:
		in_consume(c, c->in_len);
		break;
	}
	return again;
}

void
sc_cd_client_input(struct sc_cd *cd, struct sc_cd_client *c,
    const uint8_t *p, size_t n)
{
	c->tokens -= (double)n;
	if (c->dead || c->state == SC_CD_CLOSING || n == 0) {
		touch(cd, c);
		return;		/* read only to see EOF */
	}
	if (buf_grow(&c->in, &c->in_cap, c->in_len + n, SC_CD_IN_MAX) != 0) {
		sc_warn("client %llu: cannot take its input (out of memory or over "
		    "the bound); closed", (unsigned long long)c->id);
		client_close(cd, c, false);
		touch(cd, c);
		return;
	}
	memcpy(c->in + c->in_len, p, n);
	c->in_len += n;
	if (progress(cd, c))
		make_ready(cd, c);
	touch(cd, c);
}

void
sc_cd_client_eof(struct sc_cd *cd, struct sc_cd_client *c)
{
	c->rd_eof = true;
	touch(cd, c);
	if (c->dead)
		return;
	switch (c->state) {
	case SC_CD_REQ:
		client_close(cd, c, false);
		break;
	case SC_CD_FRAMED:
		client_close(cd, c, true);
		break;
	case SC_CD_SESSION:
	case SC_CD_RAW:
		sc_debug("client %llu: EOF with %zu bytes read and %zu queued "
		    "for the hv", (unsigned long long)c->id, c->in_len, c->pend_len);
		if (c->pend_len > 0 || c->in_len > 0) {
			/*
			 * Deliver what was already accepted, then close: the
			 * queued input and the frames read but not yet decoded
			 * (left there while the guest was slow to take input).
			 */
			c->finishing = true;
			c->deadline = now_ms(cd) +
			    (unsigned long long)cd->conf->stall_timeout * 1000;
			make_ready(cd, c);
		} else {
			client_close(cd, c, c->state == SC_CD_SESSION);
		}
		break;
	}
}

void
sc_cd_client_hup(struct sc_cd *cd, struct sc_cd_client *c)
{
	touch(cd, c);
	if (c->dead || c->rd_eof || c->peer_gone)
		return;
	if (c->state != SC_CD_SESSION && c->state != SC_CD_RAW) {
		sc_cd_client_eof(cd, c);
		return;
	}
	c->peer_gone = true;
	sc_debug("client %llu: hung up with %zu bytes read and %zu queued for "
	    "the hv; reading the rest", (unsigned long long)c->id, c->in_len,
	    c->pend_len);
	if (c->deadline == 0)
		c->deadline = now_ms(cd) +
		    (unsigned long long)cd->conf->stall_timeout * 1000;
}

bool
sc_cd_client_write_failed(struct sc_cd *cd, struct sc_cd_client *c)
{
	touch(cd, c);
	c->out.off = c->out.len = 0;
	if (c->dead || (c->state != SC_CD_SESSION && c->state != SC_CD_RAW))
		return false;
	if (c->rd_eof && c->pend_len == 0 && c->in_len == 0)
		return false;
	/* It may have sent input before it went: deliver that first. */
	if (!c->out_gone)
		sc_debug("client %llu: gone; its output is discarded while its "
		    "input is delivered", (unsigned long long)c->id);
	c->out_gone = true;
	c->peer_gone = true;
	if (c->deadline == 0)
		c->deadline = now_ms(cd) +
		    (unsigned long long)cd->conf->stall_timeout * 1000;
	return true;
}

void
sc_cd_client_wrote(struct sc_cd *cd, struct sc_cd_client *c, size_t n)
{
	touch(cd, c);
	if (sc_buf_skip(&c->out, n) < 0)
		c->out.off = c->out.len;
	if (sc_buf_avail(&c->out) == 0) {
		sc_buf_reset(&c->out);
		out_idle(c);
		c->stall_since = 0;
		if (c->state == SC_CD_CLOSING)
			set_dead(cd, c);
	} else {
		c->stall_since = now_ms(cd);
	}
	/* Room was made: resume what waited for it. */
	if (c->dead)
		return;
	if (c->state == SC_CD_SESSION && c->want_output)
		make_ready(cd, c);
	else if (c->state == SC_CD_RAW && c->dom != NULL && c->dom->raw_want)
		raw_ready(cd, c->dom);
}

size_t
sc_cd_client_read_budget(struct sc_cd *cd, struct sc_cd_client *c)
{
	double cap;

	if (c->dead || c->rd_eof)
		return 0;
	switch (c->state) {
	case SC_CD_REQ:
		return SC_CTL_LINE_MAX > c->in_len ? SC_CTL_LINE_MAX - c->in_len : 0;
	case SC_CD_CLOSING:
		return SC_CD_IN_MAX;		/* read and discard, to see EOF */
	}
	if (c->input_blocked || finish_input_pending(c))
		return 0;
	if (c->state != SC_CD_RAW && SC_CD_PEND_MAX - c->pend_len < ITEM_MAX)
		return 0;
	cap = (double)(SC_CD_IN_MAX - c->in_len);
	if (cd->conf->input_rate > 0) {
		refill(cd, c, now_ms(cd));
		if (c->tokens < 1.0)
			return 0;
		if (cap > c->tokens)
			cap = c->tokens;
	}
	return (size_t)cap;
}

/* ---- events, service, timers -------------------------------------------- */

static struct sc_cd_client *
client_by_session(struct sc_cd_domain *d, uint32_t session)
{
	struct sc_cd_client *c;

	for (c = d->clients; c != NULL; c = c->dnext)
		if (c->session == session && c->state == SC_CD_SESSION)
			return c;
	return NULL;
}

void
sc_cd_events(struct sc_cd *cd)
{
	struct sc_backend *bk = cd->bk;
	struct sc_cd_client *c;
	size_t i;

	if (bk->evq_overflow) {
		/* Events were lost: assume everything may have happened. */
		bk->evq_overflow = false;
		cd->need_rescan = true;
		for (c = cd->clients; c != NULL; c = c->next) {
			if (c->state == SC_CD_SESSION)
				c->want_output = true;
			c->input_blocked = false;
			make_ready(cd, c);
		}
		for (i = 0; i < cd->ndoms; i++)
			if (cd->doms[i].domid != UINT32_MAX &&
			    !(cd->doms[i].flags & SC_DOM_F_PROTECTED))
				raw_ready(cd, &cd->doms[i]);
	}
	for (i = 0; i < bk->evq_len; i++) {
		struct sc_bk_event *ev = &bk->evq[i];
		struct sc_cd_domain *d;

		sc_debug("event domid %u session %u bits 0x%x", ev->domid,
		    ev->session, ev->bits);
		if (ev->bits & (SC_EV_DOMAIN_ADDED | SC_EV_DOMAIN_GONE))
			cd->need_rescan = true;
		if ((d = domain_by_id(cd, ev->domid)) == NULL)
			continue;
		if (ev->bits & SC_EV_OUTPUT) {
			if (ev->session != 0) {
				if ((c = client_by_session(d, ev->session)) != NULL) {
					c->want_output = true;
					make_ready(cd, c);
				}
			} else {
				for (c = d->clients; c != NULL; c = c->dnext) {
					if (c->state == SC_CD_SESSION) {
						c->want_output = true;
						make_ready(cd, c);
					}
				}
				if (!(d->flags & SC_DOM_F_PROTECTED))
					raw_ready(cd, d);
			}
		}
		if (ev->bits & SC_EV_INPUT_SPACE) {
			for (c = d->clients; c != NULL; c = c->dnext) {
				c->input_blocked = false;
				make_ready(cd, c);
			}
		}
		if ((ev->bits & SC_EV_SESSION_CLOSED) && ev->session != 0 &&
		    (c = client_by_session(d, ev->session)) != NULL) {
			c->hv_closed = true;
			c->want_output = true;
			make_ready(cd, c);
		}
	}
	bk->evq_len = 0;
	if (cd->need_rescan)
		(void)sc_cd_rescan(cd);
}

/*
 * Run progress() for the clients on the ready list and drain the domains on
 * the RAW list, each once: what a pass re-queues (per-pass limits, events
 * raised by the ops of this pass) waits for the next call, so one busy
 * session cannot starve the others.
 */
void
sc_cd_service(struct sc_cd *cd)
{
	struct sc_cd_clist work = TAILQ_HEAD_INITIALIZER(work);
	struct sc_cd_dlist dwork = TAILQ_HEAD_INITIALIZER(dwork);
	struct sc_cd_client *c;
	struct sc_cd_domain *d;

	TAILQ_CONCAT(&work, &cd->ready, rdy_link);
	while ((c = TAILQ_FIRST(&work)) != NULL) {
		TAILQ_REMOVE(&work, c, rdy_link);
		c->on_ready = false;
		if (!cd->bk_up)
			continue;
		if (!c->dead && c->state != SC_CD_CLOSING && c->state != SC_CD_REQ &&
		    progress(cd, c))
			make_ready(cd, c);
	}
	TAILQ_CONCAT(&dwork, &cd->rawq, raw_link);
	while ((d = TAILQ_FIRST(&dwork)) != NULL) {
		TAILQ_REMOVE(&dwork, d, raw_link);
		d->raw_queued = false;
		if (!cd->bk_up)
			continue;
		if (d->raw_want && d->domid != UINT32_MAX && raw_drain(cd, d))
			raw_ready(cd, d);
	}
}

/* A timer of c may be due at t: act on what is. */
static void
client_timeout(struct sc_cd *cd, struct sc_cd_client *c, unsigned long long t)
{
	unsigned long long stall;

	if (c->dead)
		return;
	touch(cd, c);
	stall = (unsigned long long)cd->conf->stall_timeout * 1000;
	if (sc_buf_avail(&c->out) > 0 && c->stall_since != 0 &&
	    t - c->stall_since >= stall) {
		cd->stats.clients_dropped_stall++;
		sc_info("client %llu: not reading for %u s; dropped",
		    (unsigned long long)c->id, cd->conf->stall_timeout);
		c->out.off = c->out.len = 0;
		client_close(cd, c, false);
		set_dead(cd, c);
		return;
	}
	if (c->protect_at != 0 && t >= c->protect_at && c->protect_blob != NULL) {
		protect_try(cd, c);
		if (c->dead || c->state == SC_CD_CLOSING)
			return;
	}
	if (c->retry_at != 0 && t >= c->retry_at) {
		/* No INPUT_SPACE event yet: retry anyway. */
		c->retry_at = 0;
		if (c->input_blocked) {
			c->input_blocked = false;
			make_ready(cd, c);
		}
	}
	if (c->deadline == 0 || t < c->deadline)
		return;		/* the input-rate refill, or an early key */
	c->deadline = 0;
	if ((finish_input_pending(c) || c->peer_gone) &&
	    (c->pend_len > 0 || c->in_len > 0 || !c->rd_eof))
		sc_info("client %llu: %s did not take the last %zu bytes of input "
		    "in %u s%s; closing", (unsigned long long)c->id,
		    c->dom != NULL ? c->dom->name : "the VM",
		    c->pend_len + c->in_len, cd->conf->stall_timeout,
		    c->rd_eof ? "" : " (and more unread from the client)");
	switch (c->state) {
	case SC_CD_REQ:
		reply(cd, c, SC_CTL_E_USAGE, 0, "request timeout");
		break;
	case SC_CD_FRAMED:
		if (finish_input_pending(c)) {
			client_close(cd, c, true);
			break;
		}
		emit_error(cd, c, SC_ERR_TIMEOUT, "handshake timeout");
		client_close(cd, c, true);
		break;
	case SC_CD_CLOSING:
		set_dead(cd, c);
		break;
	default:
		if (finish_input_pending(c) || c->peer_gone)
			client_close(cd, c, true);
		break;
	}
}

int
sc_cd_tick(struct sc_cd *cd)
{
	unsigned long long t, next;
	struct sc_cd_client *c;

	settle(cd);
	t = now_ms(cd);
	/*
	 * Pop every due client first and re-key them all afterwards: a client
	 * is handled at most once per tick whatever its new key.
	 */
	while (cd->heap_len > 0 && cd->heap[0]->tkey <= t) {
		c = cd->heap[0];
		heap_remove(cd, c);
		client_timeout(cd, c, t);
	}
	settle(cd);
	if (sc_cd_has_work(cd))
		return 0;
	next = t + 1000;
	if (cd->heap_len > 0 && cd->heap[0]->tkey < next)
		next = cd->heap[0]->tkey;
	return next > t ? (int)(next - t) : 0;
}
