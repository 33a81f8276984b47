/*
 * ks_sign.c — the key server's Ed25519 certificate signer.
 *
 * Local signer: the 64-byte secret lives in sc_secure_alloc'd (locked,
 * guarded, read-only) memory for the life of the process.
 *
 * Privilege-separated signer (OpenSSH monitor style): a child process
 * forked before privileges are dropped and before anything talks to the
 * network loads the key (as root), drops to its own user and answers
 * signing requests over a SOCK_SEQPACKET socketpair.  The network process
 * never maps the secret, cannot open the key file (root's) and cannot read
 * the child's memory (non-dumpable).  The child does not take the
 * network process's word for anything: each request carries the evidence
 * (the enrolled host record and the attestation as posted), and the child
 * re-runs the checks (ks_sign_check) and signs only the certificate it
 * builds from them.  Requests, one packet each:
 *
 *   request:  host:str8 ak_spki:str16 policy_mask:u32 key_pcr:u8
 *             policy_pcrs[32 per mask bit] quote:str16 sig:str16
 *             pcr_mask:u32 pcrs[32 per mask bit] hv_pubkey[32]
 *             issued:u64 expires:u64
 *   response: status:u32 (0 or -SC_ERR_*) cert:str16
 *
 * and, when the child holds the owner CA key, ownership tokens:
 *
 *   request:  0x00 uuid[16] count:u8 { pubkey[32] flags:u8 }[count]
 *   response: status:u32 token:str16
 *
 * (a certificate request starts with a host name of 1..253 bytes, so
 * never with 0x00).
 */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>
#include <time.h>

#include "core/buf.h"
#include "core/crypto.h"
#include "core/err.h"
#include "keyfile.h"
#include "secmem.h"
#include "ks_core.h"
#include "ks_owner.h"

#define SIGN_REQ_MAX	KS_SIGN_REQ_MAX
#define SIGN_RESP_MAX	(4 + 2 + KS_CERT_MAX)
#define SIGNER_FD	3	/* the signer's end of the socketpair, in the child */
#define OWNER_REQ_TAG	0x00

int
ks_key_load_or_create(const char *path, const char *comment, uint8_t **skp,
    uint8_t pk[32], int *created)
{
	uint8_t *sk = NULL;
	struct stat st;
	size_t len = 0;
	int r;

	*skp = NULL;
	*created = 0;
	/*
	 * Only our own key: one another user could read, or could have put
	 * there (e.g. the network process through a directory it can write),
	 * is refused.
	 */
	if (lstat(path, &st) == 0 && (!S_ISREG(st.st_mode) ||
	    st.st_uid != geteuid() || (st.st_mode & 077) != 0))
		return SC_ERR_PERM;
	r = sc_keyfile_read(path, SC_KEY_KIND_SIGNING, NULL, &sk, &len);
	if (r == SC_ERR_NOTFOUND) {
		if ((sk = sc_secure_alloc(crypto_sign_SECRETKEYBYTES)) == NULL)
			return SC_ERR_ALLOC;
		crypto_sign_keypair(pk, sk);
		r = sc_keyfile_write(path, SC_KEY_KIND_SIGNING, sk,
		    crypto_sign_SECRETKEYBYTES, NULL, comment);
		if (r < 0) {
			sc_secure_free(sk);
			return r;
		}
		*created = 1;
	} else if (r < 0) {
		return r;
	} else if (len != crypto_sign_SECRETKEYBYTES) {
		sc_secure_free(sk);
		return SC_ERR_FORMAT;
	} else {
		crypto_sign_ed25519_sk_to_pk(pk, sk);
	}
	(void)sc_secure_readonly(sk);
	*skp = sk;
	return 0;
}

/* Check the evidence against our own clock and limit, then sign. */
static int
check_and_sign(const uint8_t *sk, const uint8_t pk[32], uint64_t max_lifetime,
    uint64_t now, const struct ks_host *h, const struct ks_attest_req *req,
    uint64_t issued, uint64_t expires, uint8_t *out, size_t outsz,
    size_t *outlen)
{
	struct sc_cert c;
	int r;

	*outlen = 0;
	if ((r = ks_sign_check(h, req, issued, expires, now, max_lifetime,
	    &c)) < 0)
		return r;
	memcpy(c.signer, pk, SC_ED25519_PK_LEN);
	return sc_cert_sign(&c, sk, out, outsz, outlen);
}

/* An ACL a blob can carry (sc_acl_check()): what an owner request may name. */
static int
owner_acl_valid(const struct sc_acl_entry *acl, unsigned n)
{
	return n <= KS_OWNER_ACL_MAX && sc_acl_check(sc_crypto_sodium(), acl, n) == 0;
}

/* ---- local signer ---- */

struct local {
	uint8_t	*sk;
	uint8_t	*owner_sk;	/* NULL: no owner CA */
};

static int
local_sign(struct ks_signer *s, const struct ks_host *h,
    const struct ks_attest_req *req, uint64_t issued, uint64_t expires,
    uint8_t *out, size_t outsz, size_t *outlen)
{
	uint64_t now = s->clock != NULL ? s->clock() : (uint64_t)time(NULL);

	return check_and_sign(((struct local *)s->impl)->sk, s->pk,
	    s->max_lifetime, now, h, req,
	    issued, expires, out, outsz, outlen);
}

static int
local_sign_owner(struct ks_signer *s, const uint8_t uuid[KS_UUID_LEN],
    const struct sc_acl_entry *acl, unsigned n,
    uint8_t token[KS_OWNER_TOKEN_LEN])
{
	struct local *l = s->impl;

	if (l->owner_sk == NULL)
		return SC_ERR_UNSUPPORTED;
	if (!owner_acl_valid(acl, n))
		return SC_ERR_INVAL;	/* as the privsep signer's encoding */
	return ks_owner_token(l->owner_sk, uuid, acl, n, token);
}

static void
local_close(struct ks_signer *s)
{
	struct local *l;

	if (s == NULL)
		return;
	l = s->impl;
	sc_secure_free(l->sk);
	sc_secure_free(l->owner_sk);
	free(l);
	free(s);
}

int
ks_signer_local(const char *path, const char *owner_ca_path,
    uint64_t max_lifetime, struct ks_signer **out, int *created)
{
	struct ks_signer *s;
	struct local *l;
	int r, ocreated;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return SC_ERR_ALLOC;
	if ((l = calloc(1, sizeof(*l))) == NULL) {
		free(s);
		return SC_ERR_ALLOC;
	}
	if ((r = ks_key_load_or_create(path, "sccrypt-keyserver", &l->sk,
	    s->pk, created)) < 0 || (owner_ca_path != NULL &&
	    (r = ks_owner_ca_load(owner_ca_path, &l->owner_sk, s->owner_ca_pk,
	    &ocreated)) < 0)) {
		sc_secure_free(l->sk);
		free(l);
		free(s);
		return r;
	}
	s->have_owner_ca = l->owner_sk != NULL;
	s->sign_owner = local_sign_owner;
	s->impl = l;
	s->max_lifetime = max_lifetime;
	s->sign = local_sign;
	s->close = local_close;
	*out = s;
	return 0;
}

/* ---- privilege-separated signer ---- */

struct ps {
	int		fd;
	pid_t		pid;
	pthread_mutex_t	lock;
};

static int
put_pcrs(struct sc_buf *b, uint32_t mask,
    const uint8_t pcrs[KS_PCR_COUNT][KS_DIGEST_LEN])
{
	unsigned int i;

	if (sc_buf_put_u32(b, mask) < 0)
		return SC_ERR_NOSPACE;
	for (i = 0; i < KS_PCR_COUNT; i++)
		if ((mask & (1u << i)) &&
		    sc_buf_put_bytes(b, pcrs[i], KS_DIGEST_LEN) < 0)
			return SC_ERR_NOSPACE;
	return 0;
}

static int
get_pcrs(struct sc_buf *b, uint32_t *mask,
    uint8_t pcrs[KS_PCR_COUNT][KS_DIGEST_LEN])
{
	unsigned int i;

	if (sc_buf_get_u32(b, mask) < 0 || *mask >= (1u << KS_PCR_COUNT))
		return SC_ERR_FORMAT;
	for (i = 0; i < KS_PCR_COUNT; i++)
		if ((*mask & (1u << i)) &&
		    sc_buf_get_bytes(b, pcrs[i], KS_DIGEST_LEN) < 0)
			return SC_ERR_FORMAT;
	return 0;
}

int
ks_sign_req_encode(const struct ks_host *h, const struct ks_attest_req *req,
    uint64_t issued, uint64_t expires, uint8_t *buf, size_t bufsz,
    size_t *len)
{
	struct sc_buf b;
	size_t hl = strnlen(h->name, sizeof(h->name));

	sc_buf_init(&b, buf, bufsz);
	if (hl == 0 || hl > KS_HOST_MAX ||
	    sc_buf_put_str8(&b, h->name, hl) < 0 ||
	    sc_buf_put_str16(&b, h->ak_spki, h->ak_spki_len) < 0 ||
	    put_pcrs(&b, h->policy.pcr_mask, h->policy.pcrs) < 0 ||
	    sc_buf_put_u8(&b, (uint8_t)h->policy.key_pcr) < 0 ||
	    sc_buf_put_str16(&b, req->quote, req->quote_len) < 0 ||
	    sc_buf_put_str16(&b, req->sig, req->sig_len) < 0 ||
	    put_pcrs(&b, req->pcr_mask, req->pcrs) < 0 ||
	    sc_buf_put_bytes(&b, req->hv_pubkey, KS_HV_PUBKEY_LEN) < 0 ||
	    sc_buf_put_u64(&b, issued) < 0 ||
	    sc_buf_put_u64(&b, expires) < 0)
		return SC_ERR_INVAL;
	*len = b.len;
	return 0;
}

int
ks_sign_req_decode(const uint8_t *buf, size_t len, struct ks_host *h,
    struct ks_attest_req *req, uint64_t *issued, uint64_t *expires)
{
	struct sc_buf b;
	const uint8_t *host, *p;
	size_t hl, n;
	uint8_t key_pcr;

	memset(h, 0, sizeof(*h));
	memset(req, 0, sizeof(*req));
	sc_buf_init_ro(&b, buf, len);
	if (sc_buf_get_str8(&b, &host, &hl, KS_HOST_MAX) < 0 || hl == 0)
		return SC_ERR_FORMAT;
	memcpy(h->name, host, hl);
	memcpy(req->host, host, hl);
	if (memchr(host, '\0', hl) != NULL || !ks_host_valid(h->name) ||
	    sc_buf_get_str16(&b, &p, &n, KS_SPKI_MAX) < 0)
		return SC_ERR_FORMAT;
	memcpy(h->ak_spki, p, n);
	h->ak_spki_len = n;
	if (get_pcrs(&b, &h->policy.pcr_mask, h->policy.pcrs) < 0 ||
	    sc_buf_get_u8(&b, &key_pcr) < 0 || key_pcr >= KS_PCR_COUNT ||
	    sc_buf_get_str16(&b, &p, &n, KS_QUOTE_MAX) < 0)
		return SC_ERR_FORMAT;
	h->policy.key_pcr = key_pcr;
	memcpy(req->quote, p, n);
	req->quote_len = n;
	if (sc_buf_get_str16(&b, &p, &n, KS_SIG_MAX) < 0)
		return SC_ERR_FORMAT;
	memcpy(req->sig, p, n);
	req->sig_len = n;
	if (get_pcrs(&b, &req->pcr_mask, req->pcrs) < 0 ||
	    sc_buf_get_bytes(&b, req->hv_pubkey, KS_HV_PUBKEY_LEN) < 0 ||
	    sc_buf_get_u64(&b, issued) < 0 ||
	    sc_buf_get_u64(&b, expires) < 0 ||
	    sc_buf_expect_end(&b) < 0)
		return SC_ERR_FORMAT;
	return 0;
}

/* The signing process: serve until the peer closes. */
int
ks_drop_privileges(const char *user)
{
	struct passwd *pw;

	if ((pw = getpwnam(user)) == NULL)
		return SC_ERR_NOTFOUND;
	/* Supplementary groups, then the group, then the user: in that order. */
	if (initgroups(pw->pw_name, pw->pw_gid) < 0 ||
	    setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0)
		return SC_ERR_PERM;
	/* Regaining root (user or group, real, effective or saved) must fail. */
	if ((pw->pw_uid != 0 && (setuid(0) != -1 || seteuid(0) != -1)) ||
	    (pw->pw_gid != 0 && (setgid(0) != -1 || setegid(0) != -1)) ||
	    getuid() != pw->pw_uid || geteuid() != pw->pw_uid ||
	    getgid() != pw->pw_gid || getegid() != pw->pw_gid)
		return SC_ERR_PERM;
	return 0;
}

int
ks_owner_req_encode(const uint8_t uuid[KS_UUID_LEN],
    const struct sc_acl_entry *acl, unsigned n, uint8_t *buf, size_t bufsz,
    size_t *len)
{
	struct sc_buf b;
	unsigned i;
	int r;

	*len = 0;
	if (!owner_acl_valid(acl, n))
		return SC_ERR_INVAL;
	sc_buf_init(&b, buf, bufsz);
	if ((r = sc_buf_put_u8(&b, OWNER_REQ_TAG)) < 0 ||
	    (r = sc_buf_put_bytes(&b, uuid, KS_UUID_LEN)) < 0 ||
	    (r = sc_buf_put_u8(&b, (uint8_t)n)) < 0)
		return r;
	for (i = 0; i < n; i++)
		if ((r = sc_buf_put_bytes(&b, acl[i].pubkey, SC_KEY_LEN)) < 0 ||
		    (r = sc_buf_put_u8(&b, acl[i].flags)) < 0)
			return r;
	*len = b.len;
	return 0;
}

int
ks_owner_req_decode(const uint8_t *buf, size_t len, uint8_t uuid[KS_UUID_LEN],
    struct sc_acl_entry acl[KS_OWNER_ACL_MAX], unsigned *n)
{
	struct sc_buf b;
	uint8_t tag, count;
	unsigned i;

	*n = 0;
	sc_buf_init_ro(&b, buf, len);
	if (sc_buf_get_u8(&b, &tag) < 0 || tag != OWNER_REQ_TAG ||
	    sc_buf_get_bytes(&b, uuid, KS_UUID_LEN) < 0 ||
	    sc_buf_get_u8(&b, &count) < 0 || count == 0 ||
	    count > KS_OWNER_ACL_MAX)
		return SC_ERR_FORMAT;
	for (i = 0; i < count; i++)
		if (sc_buf_get_bytes(&b, acl[i].pubkey, SC_KEY_LEN) < 0 ||
		    sc_buf_get_u8(&b, &acl[i].flags) < 0)
			return SC_ERR_FORMAT;
	if (sc_buf_expect_end(&b) < 0 || !owner_acl_valid(acl, count))
		return SC_ERR_FORMAT;
	*n = count;
	return 0;
}

/* An owner request -> status, token in out. */
static int
child_owner(const uint8_t *owner_sk, const uint8_t *req, size_t len,
    uint8_t *out, size_t *outlen)
{
	struct sc_acl_entry acl[KS_OWNER_ACL_MAX];
	uint8_t uuid[KS_UUID_LEN];
	unsigned n;
	int r;

	*outlen = 0;
	if (owner_sk == NULL)
		return SC_ERR_UNSUPPORTED;
	if ((r = ks_owner_req_decode(req, len, uuid, acl, &n)) < 0 ||
	    (r = ks_owner_token(owner_sk, uuid, acl, n, out)) < 0)
		return r;
	*outlen = KS_OWNER_TOKEN_LEN;
	return 0;
}

static void __attribute__((noreturn))
signer_child(int fd, const char *path, const char *owner_path, int status_fd,
    uint64_t max_lifetime, const char *user)
{
	static uint8_t req[SIGN_REQ_MAX + 1];
	uint8_t resp[SIGN_RESP_MAX], cert[KS_CERT_MAX];
	uint8_t pk[32], *sk = NULL, opk[32], *owner_sk = NULL;
	struct ks_host *h;
	struct ks_attest_req *ar;
	struct sc_buf b;
	uint64_t issued, expires;
	size_t certlen;
	ssize_t n;
	int32_t st;
	int created = 0, ocreated = 0, r;

	if (sc_disable_core_dumps() < 0)
		_exit(1);
	/*
	 * Keep only stdio and the socketpair: the listening sockets and
	 * anything else the network process had open are not the signer's
	 * business (and must not outlive the server in it).
	 */
	if (fd != SIGNER_FD) {
		if (dup2(fd, SIGNER_FD) == -1)
			_exit(1);
		fd = status_fd = SIGNER_FD;
	}
	closefrom(SIGNER_FD + 1);
	signal(SIGINT, SIG_IGN);	/* the parent decides when to stop */
	h = malloc(sizeof(*h));
	ar = malloc(sizeof(*ar));
	r = h == NULL || ar == NULL ? SC_ERR_ALLOC :
	    ks_key_load_or_create(path, "sccrypt-keyserver", &sk, pk, &created);
	if (r == 0 && owner_path != NULL)
		r = ks_owner_ca_load(owner_path, &owner_sk, opk, &ocreated);
	/*
	 * The key is in memory: no more need for the starting user, whose
	 * files (the key's among them) a bug in the quote or signature
	 * checks below must not reach.  Non-dumpable, so another process of
	 * the same user cannot read this one's memory either.
	 */
	if (r == 0 && user != NULL && (r = ks_drop_privileges(user)) == 0 &&
	    sc_disable_core_dumps() < 0)
		r = SC_ERR_SYSTEM;
	/* Startup report: status:u32 created:u8 pk[32] owner:u8 [opk[32]]. */
	sc_buf_init(&b, resp, sizeof(resp));
	if (sc_buf_put_u32(&b, (uint32_t)r) < 0 ||
	    sc_buf_put_u8(&b, (uint8_t)created) < 0 ||
	    sc_buf_put_bytes(&b, pk, sizeof(pk)) < 0 ||
	    sc_buf_put_u8(&b, owner_sk != NULL) < 0 ||
	    (owner_sk != NULL && sc_buf_put_bytes(&b, opk, sizeof(opk)) < 0) ||
	    send(status_fd, resp, b.len, MSG_NOSIGNAL) != (ssize_t)b.len || r < 0)
		_exit(1);
	for (;;) {
		n = recv(fd, req, sizeof(req), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		certlen = 0;
		if ((size_t)n > SIGN_REQ_MAX)
			st = SC_ERR_TOOLONG;
		else if (req[0] == OWNER_REQ_TAG)
			st = child_owner(owner_sk, req, (size_t)n, cert, &certlen);
		else if ((st = ks_sign_req_decode(req, (size_t)n, h, ar, &issued,
		    &expires)) == 0)
			st = check_and_sign(sk, pk, max_lifetime,
			    (uint64_t)time(NULL), h, ar, issued, expires, cert,
			    sizeof(cert), &certlen);
		sc_buf_init(&b, resp, sizeof(resp));
		if (sc_buf_put_u32(&b, (uint32_t)st) < 0 ||
		    sc_buf_put_str16(&b, cert, st == 0 ? certlen : 0) < 0)
			break;
		if (send(fd, resp, b.len, MSG_NOSIGNAL) != (ssize_t)b.len)
			break;
	}
	sc_secure_free(sk);
	sc_secure_free(owner_sk);
	free(h);
	free(ar);
	_exit(0);
}

/* One request/response with the child: the response's str16 into out. */
static int
ps_exchange(struct ps *p, const uint8_t *req, size_t len, uint8_t *out,
    size_t outsz, size_t *outlen)
{
	uint8_t resp[SIGN_RESP_MAX];
	const uint8_t *cert;
	struct sc_buf b;
	uint32_t st;
	size_t clen;
	ssize_t n;

	*outlen = 0;
	pthread_mutex_lock(&p->lock);
	n = send(p->fd, req, len, MSG_NOSIGNAL);
	if (n != (ssize_t)len) {
		pthread_mutex_unlock(&p->lock);
		return SC_ERR_CLOSED;
	}
	do {
		n = recv(p->fd, resp, sizeof(resp), 0);
	} while (n < 0 && errno == EINTR);
	pthread_mutex_unlock(&p->lock);
	if (n <= 0)
		return SC_ERR_CLOSED;
	sc_buf_init_ro(&b, resp, (size_t)n);
	if (sc_buf_get_u32(&b, &st) < 0 ||
	    sc_buf_get_str16(&b, &cert, &clen, KS_CERT_MAX) < 0 ||
	    sc_buf_expect_end(&b) < 0)
		return SC_ERR_FORMAT;
	if ((int32_t)st < 0)
		return (int32_t)st;
	if (clen > outsz)
		return SC_ERR_NOSPACE;
	memcpy(out, cert, clen);
	*outlen = clen;
	return 0;
}

static int
ps_sign(struct ks_signer *s, const struct ks_host *h,
    const struct ks_attest_req *ar, uint64_t issued, uint64_t expires,
    uint8_t *out, size_t outsz, size_t *outlen)
{
	uint8_t *req;
	size_t len;
	int r;

	*outlen = 0;
	if ((req = malloc(SIGN_REQ_MAX)) == NULL)
		return SC_ERR_ALLOC;
	if ((r = ks_sign_req_encode(h, ar, issued, expires, req, SIGN_REQ_MAX,
	    &len)) == 0)
		r = ps_exchange(s->impl, req, len, out, outsz, outlen);
	free(req);
	return r;
}

static int
ps_sign_owner(struct ks_signer *s, const uint8_t uuid[KS_UUID_LEN],
    const struct sc_acl_entry *acl, unsigned n,
    uint8_t token[KS_OWNER_TOKEN_LEN])
{
	uint8_t req[KS_OWNER_REQ_MAX];
	size_t len;
	int r;

	if (!s->have_owner_ca)
		return SC_ERR_UNSUPPORTED;
	if ((r = ks_owner_req_encode(uuid, acl, n, req, sizeof(req), &len)) < 0 ||
	    (r = ps_exchange(s->impl, req, len, token, KS_OWNER_TOKEN_LEN,
	    &len)) < 0)
		return r;
	return len == KS_OWNER_TOKEN_LEN ? 0 : SC_ERR_FORMAT;
}

static void
ps_close(struct ks_signer *s)
{
	struct ps *p;

	if (s == NULL)
		return;
	p = s->impl;
	close(p->fd);		/* the child sees EOF and exits */
	while (waitpid(p->pid, NULL, 0) < 0 && errno == EINTR)
		;
	pthread_mutex_destroy(&p->lock);
	free(p);
	free(s);
}

int
ks_signer_privsep(const char *path, const char *owner_ca_path,
    uint64_t max_lifetime, const char *user, struct ks_signer **out,
    int *created, int *pid)
{
	struct ks_signer *s = NULL;
	struct ps *p = NULL;
	uint8_t report[4 + 1 + 32 + 1 + 32], have_owner;
	struct sc_buf b;
	uint32_t st;
	uint8_t cr;
	int sv[2], r;
	ssize_t n;
	pid_t child;

	*out = NULL;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return SC_ERR_SYSTEM;
	child = fork();
	if (child < 0) {
		close(sv[0]);
		close(sv[1]);
		return SC_ERR_SYSTEM;
	}
	if (child == 0) {
		close(sv[0]);
		signer_child(sv[1], path, owner_ca_path, sv[1], max_lifetime,
		    user);
	}
	close(sv[1]);
	do {
		n = recv(sv[0], report, sizeof(report), 0);
	} while (n < 0 && errno == EINTR);
	sc_buf_init_ro(&b, report, n > 0 ? (size_t)n : 0);
	if (sc_buf_get_u32(&b, &st) < 0) {
		r = SC_ERR_CLOSED;
		goto fail;
	}
	if ((int32_t)st < 0) {
		r = (int32_t)st;
		goto fail;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (p = calloc(1, sizeof(*p))) == NULL) {
		r = SC_ERR_ALLOC;
		goto fail;
	}
	if (sc_buf_get_u8(&b, &cr) < 0 ||
	    sc_buf_get_bytes(&b, s->pk, sizeof(s->pk)) < 0 ||
	    sc_buf_get_u8(&b, &have_owner) < 0 || (have_owner &&
	    sc_buf_get_bytes(&b, s->owner_ca_pk, sizeof(s->owner_ca_pk)) < 0)) {
		r = SC_ERR_FORMAT;
		goto fail;
	}
	p->fd = sv[0];
	p->pid = child;
	pthread_mutex_init(&p->lock, NULL);
	s->impl = p;
	s->max_lifetime = max_lifetime;
	s->sign = ps_sign;
	s->sign_owner = ps_sign_owner;
	s->have_owner_ca = have_owner != 0;
	s->close = ps_close;
	*created = cr;
	*pid = (int)child;
	*out = s;
	return 0;
 fail:
	free(p);
	free(s);
	close(sv[0]);
	while (waitpid(child, NULL, 0) < 0 && errno == EINTR)
		;
	return r;
}

int
ks_signer_rotate(const char *path, uint8_t pk[SC_ED25519_PK_LEN])
{
	char old[4096];
	uint8_t *sk;
	int r;

	if (snprintf(old, sizeof(old), "%s.old", path) >= (int)sizeof(old))
		return SC_ERR_TOOLONG;
	if ((sk = sc_secure_alloc(crypto_sign_SECRETKEYBYTES)) == NULL)
		return SC_ERR_ALLOC;
	crypto_sign_keypair(pk, sk);
	if (access(path, F_OK) == 0 && (link(path, old) < 0 &&
	    (errno != EEXIST || (unlink(old) < 0 || link(path, old) < 0)))) {
		sc_secure_free(sk);
		return SC_ERR_SYSTEM;
	}
	/* Atomic replace: a crash leaves either the old or the new key. */
	r = sc_keyfile_write(path, SC_KEY_KIND_SIGNING, sk,
	    crypto_sign_SECRETKEYBYTES, NULL, "sccrypt-keyserver");
	sc_secure_free(sk);
	return r;
}
