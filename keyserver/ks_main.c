/*
 * sccrypt-keyserver — vouches for hypervisor keys after TPM attestation.
 *
 * Thin main: options, sockets, privileges, then the library (ks_*.c).
 * See sccrypt-keyserver(8) and PROTOCOL.md §12.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <sodium.h>

#include "core/err.h"
#include "io.h"
#include "encode.h"
#include "pubkey.h"
#include "log.h"
#include "secmem.h"
#include "pidfile.h"
#include "ks_http.h"
#include "ks_owner.h"

#define DEFAULT_STATE_DIR	"/var/lib/sccrypt-keyserver"
#define DEFAULT_LISTEN		"127.0.0.1:8740"
#define KS_DB_ENV		"SCCRYPT_KEYSERVER_DB"
#define TOKEN_FILE_MAX		1024
#define TOKEN_MIN		16

struct opts {
	const char	*listen;
	const char	*unix_path;
	const char	*state_dir;
	const char	*db;
	const char	*key;
	const char	*token;
	const char	*user;
	const char	*signer_user;
	const char	*ek_bundle;
	const char	*owner_ca_key;
	const char	*issue_uuid;	/* --issue-owner-token */
	int		 print_owner_ca;
	int		 owner_tokens;	/* serve POST /v1/owner-tokens */
	unsigned long	 act_lifetime;
	unsigned long	 cert_lifetime;
	unsigned long	 nonce_lifetime;
	unsigned long	 max_nonces;
	unsigned long	 max_nonces_peer;
	unsigned long	 max_body;
	unsigned long	 max_conns;
	unsigned long	 per_ip;
	unsigned long	 timeout;
	unsigned long	 threads;
	int		 privsep;
	int		 print_pubkey;
	int		 rotate;
	int		 no_token;
	int		 verbose;
	int		 syslog;
	struct ks_proxy_cfg proxies;
	const char	*proxy_header;
};

static void __attribute__((noreturn))
usage(int status)
{
	fprintf(status ? stderr : stdout,
"usage: sccrypt-keyserver [options]\n"
"  -l, --listen ADDR:PORT        TCP listener (default " DEFAULT_LISTEN "; \"none\")\n"
"  -S, --operator-socket PATH    unix socket for operator requests (mode 0600)\n"
"  -s, --state-dir DIR           default " DEFAULT_STATE_DIR "\n"
"      --db PATH|URI             SQLite database (default DIR/keyserver.db), or\n"
"                                a postgresql:// URI (several servers may\n"
"                                share it); default $" KS_DB_ENV " if set\n"
"      --signing-key PATH        Ed25519 key (default DIR/signing.key)\n"
"      --token-file PATH         operator token (default DIR/operator.token)\n"
"      --no-token                accept no operator token on TCP\n"
"      --cert-lifetime SEC       certificate validity (default %d)\n"
"      --nonce-lifetime SEC      nonce validity (default %d)\n"
"      --ek-ca-bundle FILE       PEM CA certificates of TPM manufacturers: hosts\n"
"                                enroll with an EK certificate chaining to them\n"
"      --activation-lifetime SEC time to answer an activation challenge\n"
"                                (default %d)\n"
"      --max-nonces N            outstanding nonces (default %d)\n"
"      --max-nonces-per-address N  outstanding nonces per client address\n"
"                                (IPv6: per /64; default %d, 0 = no limit)\n"
"      --trusted-proxy ADDR      reverse proxy whose header names the client\n"
"                                (repeatable, up to %d)\n"
"      --proxy-header NAME       that header (default " KS_PROXY_HEADER_DEFAULT ")\n"
"      --max-body BYTES          request body limit (default %d)\n"
"      --max-connections N       (default %d)\n"
"      --per-ip-connections N    (default %d, 0 = unlimited)\n"
"      --timeout SEC             idle connection timeout (default %d)\n"
"      --threads N               worker threads (default %d)\n"
"      --no-privsep              keep the signing key in this process\n"
"  -u, --user USER               drop privileges to USER after binding\n"
"      --signer-user USER        the signing process's user once it holds\n"
"                                the key (default: --user)\n"
"      --print-pubkey            print the signing public key and exit\n"
"      --rotate-key              generate a new signing key and exit\n"
"      --owner-ca-key PATH       the owner CA's Ed25519 key (default\n"
"                                DIR/owner-ca.key; made on first use)\n"
"      --print-owner-ca          print the owner CA's public key (64 hex: the\n"
"                                hypervisor's sccrypt-owner-ca= / owner-ca)\n"
"      --owner-tokens            serve ownership tokens to registered owners\n"
"                                (POST /v1/owners, /v1/owner-tokens); the\n"
"                                signing process holds the owner CA key\n"
"      --issue-owner-token UUID OWNER-KEY [USER-KEY...]\n"
"                                print the ownership token for VM UUID bound\n"
"                                to these keys (the operator has checked that\n"
"                                OWNER-KEY's holder owns the VM) and exit\n"
"      --syslog                  log to syslog instead of stderr\n"
"  -v, --verbose                 more logging (repeat for debug)\n"
"  -h, --help                    this text\n"
"  -V, --version                 the version\n",
	    KS_CERT_LIFETIME_DEFAULT, KS_NONCE_LIFETIME_DEFAULT,
	    KS_ACT_LIFETIME_DEFAULT, KS_NONCES_MAX_DEFAULT, KS_NONCES_PER_PEER_DEFAULT, KS_PROXIES_MAX,
	    KS_BODY_MAX_DEFAULT, KS_HTTP_MAX_CONNS_DEFAULT,
	    KS_HTTP_PER_IP_DEFAULT, KS_HTTP_TIMEOUT_DEFAULT,
	    KS_HTTP_THREADS_DEFAULT);
	exit(status);
}

static unsigned long
num(const char *s, const char *what, unsigned long min, unsigned long max)
{
	unsigned long v;

	if (sc_parse_ulong(s, 10, min, max, &v) != 0)
		sc_die(SC_EXIT_USAGE, "%s must be a number %lu..%lu", what, min, max);
	return v;
}

/* RFC 9110 token, short: what --proxy-header may name. */
static int
header_name_valid(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n < 64 && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789!#$%&'*+-.^_`|~") == n;
}

static char *
join(const char *dir, const char *file)
{
	char *p;

	if (asprintf(&p, "%s/%s", dir, file) < 0)
		sc_die(1, "out of memory");
	return p;
}

/* "ADDR:PORT" or "[ADDR6]:PORT" -> listening socket. */
static int
tcp_listen(const char *spec)
{
	struct addrinfo hints, *res = NULL;
	char host[256];
	const char *colon, *port;
	size_t hl;
	int fd, one = 1, e;

	if (spec[0] == '[') {
		colon = strstr(spec, "]:");
		if (colon == NULL)
			return -1;
		hl = (size_t)(colon - spec - 1);
		port = colon + 2;
		spec++;
	} else {
		colon = strrchr(spec, ':');
		if (colon == NULL)
			return -1;
		hl = (size_t)(colon - spec);
		port = colon + 1;
	}
	if (hl == 0 || hl >= sizeof(host))
		return -1;
	memcpy(host, spec, hl);
	host[hl] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV;
	if ((e = getaddrinfo(host, port, &hints, &res)) != 0) {
		sc_error("bad listen address %s:%s: %s", host, port,
		    gai_strerror(e));
		return -1;
	}
	fd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC, 0);
	if (fd < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, res->ai_addr, res->ai_addrlen) < 0 || listen(fd, 128) < 0) {
		sc_error("cannot listen on %s:%s: %s", host, port, strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

static int
unix_listen(const char *path)
{
	struct sockaddr_un sun;
	struct stat st;
	mode_t old;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		sc_error("operator socket path too long");
		return -1;
	}
	strcpy(sun.sun_path, path);
	/* Replace a stale socket, never a live one nor another kind of file. */
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			sc_error("%s exists and is not a socket", path);
			return -1;
		}
		if (sc_unix_socket_live(path, SOCK_STREAM)) {
			sc_error("%s is in use: another key server listens there", path);
			return -1;
		}
		unlink(path);
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	old = umask(0177);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
	    listen(fd, 32) < 0) {
		umask(old);
		sc_error("cannot listen on %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	umask(old);
	return fd;
}

/*
 * Load the operator token (creating a random one, 0600, if the file does
 * not exist) and keep only its hash.
 */
static int
token_load(const char *path, uint8_t hash[32], int *created)
{
	uint8_t raw[KS_TOKEN_LEN];
	char text[2 * KS_TOKEN_LEN + 2];
	unsigned char *data = NULL;
	struct stat st;
	size_t len = 0;
	int r;

	*created = 0;
	if (stat(path, &st) < 0 && errno == ENOENT) {
		randombytes_buf(raw, sizeof(raw));
		sodium_bin2hex(text, sizeof(text), raw, sizeof(raw));
		sc_memzero(raw, sizeof(raw));
		len = strlen(text);
		text[len] = '\n';
		r = sc_write_file_atomic(path, text, len + 1, 0600);
		ks_token_hash(text, len, hash);
		sc_memzero(text, sizeof(text));
		*created = 1;
		return r;
	}
	if (stat(path, &st) < 0)
		return SC_ERR_SYSTEM;
	if (!S_ISREG(st.st_mode) || (st.st_mode & 077) != 0 ||
	    st.st_uid != geteuid())
		return SC_ERR_PERM;
	if ((r = sc_read_file(path, TOKEN_FILE_MAX, &data, &len)) < 0)
		return r;
	while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == '\r' ||
	    data[len - 1] == ' ' || data[len - 1] == '\t'))
		len--;
	if (len < TOKEN_MIN || memchr(data, '\n', len) != NULL ||
	    memchr(data, '\0', len) != NULL) {
		sc_memzero(data, len);
		free(data);
		return SC_ERR_FORMAT;
	}
	ks_token_hash((const char *)data, len, hash);
	sc_memzero(data, len);
	free(data);
	return 0;
}

/* 1 if this process can open path for reading. */
static int
key_openable(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);

	if (fd < 0)
		return 0;
	close(fd);
	return 1;
}

static void
print_pubkey(const uint8_t pk[32])
{
	char text[128], fp[SC_FINGERPRINT_LEN];

	if (sc_pubkey_format(SC_KSKEY_PREFIX, pk, "keyserver", text,
	    sizeof(text)) < 0)
		sc_die(1, "cannot format public key");
	sc_fingerprint(pk, 32, fp);
	printf("%s\n", text);
	fprintf(stderr, "fingerprint %s\n", fp);
}

/*
 * --print-owner-ca, --issue-owner-token: one-shot operator commands on the
 * owner CA key (ks_owner.h); keys are the owner's key then users' keys.
 */
static int
owner_ca_main(const struct opts *o, int nkeys, char **keys)
{
	struct sc_acl_entry acl[SC_ACL_MAX];
	uint8_t *sk = NULL, pk[SC_OWNER_CA_LEN], uuid[SC_UUID_LEN];
	uint8_t token[SC_OWNER_TOKEN_LEN];
	char hex[2 * SC_OWNER_TOKEN_LEN + 1], *path;
	int created, i, r;

	if (o->issue_uuid != NULL) {
		if (sc_uuid_parse(o->issue_uuid, uuid) != 0)
			sc_die(SC_EXIT_USAGE, "--issue-owner-token: '%s' is not a UUID",
			    o->issue_uuid);
		if (nkeys < 1 || nkeys > SC_ACL_MAX)
			sc_die(SC_EXIT_USAGE, "--issue-owner-token: the owner's key, "
			    "then at most %d users' keys", SC_ACL_MAX - 1);
		memset(acl, 0, sizeof(acl));
		for (i = 0; i < nkeys; i++) {
			if (sc_pubkey_parse(SC_PUBKEY_PREFIX, keys[i], acl[i].pubkey) < 0)
				sc_die(SC_EXIT_USAGE, "'%s' is not a public key ("
				    SC_PUBKEY_PREFIX " BASE64)", keys[i]);
			acl[i].flags = i == 0 ? SC_ACL_F_OWNER : 0;
		}
	} else if (nkeys != 0)
		usage(SC_EXIT_USAGE);
	path = o->owner_ca_key != NULL ? strdup(o->owner_ca_key) :
	    join(o->state_dir, "owner-ca.key");
	if (path == NULL)
		sc_die(1, "out of memory");
	if ((r = ks_owner_ca_load(path, &sk, pk, &created)) < 0)
		sc_die_r(1, r, "owner CA key %s", path);
	if (created)
		sc_info("generated a new owner CA key %s", path);
	if (o->issue_uuid == NULL) {
		sc_hex_encode(pk, sizeof(pk), hex, sizeof(hex));
		printf("%s\n", hex);
	} else {
		r = ks_owner_token(sk, uuid, acl, (unsigned)nkeys, token);
		if (r < 0)
			sc_die_r(1, r, "cannot sign the ownership token");
		sc_hex_encode(token, sizeof(token), hex, sizeof(hex));
		printf("%s\n", hex);
		sc_info("ownership token for VM %s: %d key(s), owner CA %s",
		    o->issue_uuid, nkeys, path);
	}
	sc_secure_free(sk);
	free(path);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "operator-socket", required_argument, NULL, 'S' },
		{ "state-dir", required_argument, NULL, 's' },
		{ "db", required_argument, NULL, 1 },
		{ "signing-key", required_argument, NULL, 2 },
		{ "token-file", required_argument, NULL, 3 },
		{ "cert-lifetime", required_argument, NULL, 4 },
		{ "nonce-lifetime", required_argument, NULL, 5 },
		{ "max-nonces", required_argument, NULL, 6 },
		{ "max-body", required_argument, NULL, 7 },
		{ "max-connections", required_argument, NULL, 8 },
		{ "per-ip-connections", required_argument, NULL, 9 },
		{ "timeout", required_argument, NULL, 10 },
		{ "threads", required_argument, NULL, 11 },
		{ "no-privsep", no_argument, NULL, 12 },
		{ "print-pubkey", no_argument, NULL, 13 },
		{ "rotate-key", no_argument, NULL, 14 },
		{ "syslog", no_argument, NULL, 15 },
		{ "no-token", no_argument, NULL, 16 },
		{ "max-nonces-per-address", required_argument, NULL, 17 },
		{ "trusted-proxy", required_argument, NULL, 18 },
		{ "proxy-header", required_argument, NULL, 19 },
		{ "signer-user", required_argument, NULL, 20 },
		{ "ek-ca-bundle", required_argument, NULL, 21 },
		{ "activation-lifetime", required_argument, NULL, 22 },
		{ "owner-ca-key", required_argument, NULL, 23 },
		{ "print-owner-ca", no_argument, NULL, 24 },
		{ "issue-owner-token", required_argument, NULL, 25 },
		{ "owner-tokens", no_argument, NULL, 26 },
		{ "user", required_argument, NULL, 'u' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct opts o;
	struct ks_ctx ctx;
	struct ks_http_cfg cfg;
	struct ks_http *http = NULL;
	struct ks_store *store = NULL;
	struct ks_signer *signer = NULL;
	uint8_t token_hash[32], pk[32];
	char fp[SC_FINGERPRINT_LEN], *owned[4] = { NULL, NULL, NULL, NULL };
	const char *owner_ca = NULL;
	char *pidpath = NULL;
	long other = 0;
	int pidfd = -1;
	sigset_t set;
	int c, r, created = 0, signer_pid = 0, tcp_fd = -1, unix_fd = -1, sig;

	memset(&o, 0, sizeof(o));
	o.listen = DEFAULT_LISTEN;
	o.state_dir = DEFAULT_STATE_DIR;
	o.cert_lifetime = KS_CERT_LIFETIME_DEFAULT;
	o.nonce_lifetime = KS_NONCE_LIFETIME_DEFAULT;
	o.act_lifetime = KS_ACT_LIFETIME_DEFAULT;
	o.max_nonces = KS_NONCES_MAX_DEFAULT;
	o.max_nonces_peer = KS_NONCES_PER_PEER_DEFAULT;
	o.max_body = KS_BODY_MAX_DEFAULT;
	o.max_conns = KS_HTTP_MAX_CONNS_DEFAULT;
	o.per_ip = KS_HTTP_PER_IP_DEFAULT;
	o.timeout = KS_HTTP_TIMEOUT_DEFAULT;
	o.threads = KS_HTTP_THREADS_DEFAULT;
	o.privsep = 1;

	sc_log_init(argv[0], SC_LOG_INFO, SC_LOG_TO_STDERR);
	while ((c = getopt_long(argc, argv, "l:S:s:u:vhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'l': o.listen = optarg; break;
		case 'S': o.unix_path = optarg; break;
		case 's': o.state_dir = optarg; break;
		case 'u': o.user = optarg; break;
		case 1: o.db = optarg; break;
		case 2: o.key = optarg; break;
		case 3: o.token = optarg; break;
		case 4: o.cert_lifetime = num(optarg, "--cert-lifetime", 60,
		    366UL * 86400); break;
		case 5: o.nonce_lifetime = num(optarg, "--nonce-lifetime", 1,
		    3600); break;
		case 6: o.max_nonces = num(optarg, "--max-nonces", 1, 1000000);
		    break;
		case 7: o.max_body = num(optarg, "--max-body", 1024, 1 << 20);
		    break;
		case 8: o.max_conns = num(optarg, "--max-connections", 1, 65536);
		    break;
		case 9: o.per_ip = num(optarg, "--per-ip-connections", 0, 65536);
		    break;
		case 10: o.timeout = num(optarg, "--timeout", 1, 3600); break;
		case 11: o.threads = num(optarg, "--threads", 1, 256); break;
		case 12: o.privsep = 0; break;
		case 13: o.print_pubkey = 1; break;
		case 14: o.rotate = 1; break;
		case 15: o.syslog = 1; break;
		case 16: o.no_token = 1; break;
		case 17: o.max_nonces_peer = num(optarg,
		    "--max-nonces-per-address", 0, 1000000); break;
		case 18:
			if (ks_proxy_add(&o.proxies, optarg) < 0)
				sc_die(SC_EXIT_USAGE, "--trusted-proxy: a numeric address, at"
				    " most %d times", KS_PROXIES_MAX);
			break;
		case 20: o.signer_user = optarg; break;
		case 21: o.ek_bundle = optarg; break;
		case 22: o.act_lifetime = num(optarg, "--activation-lifetime",
		    60, 30UL * 86400); break;
		case 23: o.owner_ca_key = optarg; break;
		case 24: o.print_owner_ca = 1; break;
		case 25: o.issue_uuid = optarg; break;
		case 26: o.owner_tokens = 1; break;
		case 19:
			if (!header_name_valid(optarg))
				sc_die(SC_EXIT_USAGE, "--proxy-header: an HTTP header name");
			o.proxy_header = optarg;
			break;
		case 'v': o.verbose++; break;
		case 'h': usage(0);
		case 'V': sc_print_version("sccrypt-keyserver"); exit(0);
		default: usage(SC_EXIT_USAGE);
		}
	}
	if (optind != argc && o.issue_uuid == NULL)
		usage(SC_EXIT_USAGE);
	sc_log_init(argv[0], SC_LOG_INFO + o.verbose,
	    o.syslog ? SC_LOG_TO_SYSLOG : SC_LOG_TO_STDERR);
	if (sc_lib_init() < 0)
		sc_die(1, "cannot initialise libsodium");
	if (sc_disable_core_dumps() < 0)
		sc_die(1, "cannot disable core dumps");
	ks_tss2_quiet();
	/* The environment keeps a database password out of ps(1). */
	if (o.db == NULL && getenv(KS_DB_ENV) != NULL && *getenv(KS_DB_ENV))
		o.db = getenv(KS_DB_ENV);
	if (o.db == NULL)
		o.db = owned[0] = join(o.state_dir, "keyserver.db");
	if (o.key == NULL)
		o.key = owned[1] = join(o.state_dir, "signing.key");
	if (o.token == NULL)
		o.token = owned[2] = join(o.state_dir, "operator.token");

	if (o.print_owner_ca || o.issue_uuid != NULL) {
		r = owner_ca_main(&o, argc - optind, argv + optind);
		free(owned[0]);
		free(owned[1]);
		free(owned[2]);
		return r;
	}
	if (o.rotate) {
		if ((r = ks_signer_rotate(o.key, pk)) < 0)
			sc_die_r(1, r, "cannot rotate %s", o.key);
		sc_info("new signing key written to %s (previous kept as %s.old);"
		    " restart the server and distribute the new public key", o.key,
		    o.key);
		print_pubkey(pk);
		return 0;
	}

	/*
	 * One server per state directory: its pid file stays locked while we
	 * run (a second one would share the database and take the operator
	 * socket over).
	 */
	if (!o.print_pubkey) {
		pidpath = join(o.state_dir, "keyserver.pid");
		if ((r = sc_pidfile_lock(pidpath, &pidfd, &other)) == SC_ERR_BUSY)
			sc_die(1, "already running, pid %ld (%s is locked)", other,
			    pidpath);
		if (r < 0)
			sc_warn("cannot lock %s: %s", pidpath, strerror(errno));
	}
	/* Sockets first (may need root), then the signer, then drop privileges. */
	if (!o.print_pubkey) {
		if (strcmp(o.listen, "none") != 0 &&
		    (tcp_fd = tcp_listen(o.listen)) < 0)
			sc_die(1, "cannot listen on %s", o.listen);
		if (o.unix_path != NULL && (unix_fd = unix_listen(o.unix_path)) < 0)
			sc_die(1, "cannot create operator socket %s", o.unix_path);
		if (tcp_fd < 0 && unix_fd < 0)
			sc_die(SC_EXIT_USAGE, "nothing to listen on");
	}
	/*
	 * The signer next, still as the invoking user: the separate signing
	 * process keeps that user, so once the network process has dropped
	 * to another one it cannot open the key file.
	 */
	if (o.owner_tokens && !o.print_pubkey)
		owner_ca = o.owner_ca_key != NULL ? o.owner_ca_key :
		    (owned[3] = join(o.state_dir, "owner-ca.key"));
	r = o.privsep && !o.print_pubkey ?
	    ks_signer_privsep(o.key, owner_ca, o.cert_lifetime,
	    o.signer_user != NULL ? o.signer_user : o.user, &signer, &created,
	    &signer_pid) :
	    ks_signer_local(o.key, owner_ca, o.cert_lifetime, &signer, &created);
	if (r < 0)
		sc_die(1, "signing key %s%s%s: %s%s", o.key,
		    owner_ca != NULL ? " or owner CA key " : "",
		    owner_ca != NULL ? owner_ca : "", sc_err(r),
		    r == SC_ERR_PERM ? " (must be a regular file of this user,"
		    " mode 0600; or the signing process could not switch to its"
		    " user)" : "");
	if (o.user != NULL) {
		if ((r = ks_drop_privileges(o.user)) < 0)
			sc_die(1, "cannot drop privileges to %s: %s", o.user,
			    r == SC_ERR_NOTFOUND ? "no such user" : sc_err(r));
		if (signer_pid != 0 && key_openable(o.key))
			sc_die(1, "user %s can open the signing key %s: it must"
			    " belong to the user starting the server (e.g. root)"
			    " and not be readable by %s", o.user, o.key, o.user);
		if (signer_pid != 0 && owner_ca != NULL && key_openable(owner_ca))
			sc_die(1, "user %s can open the owner CA key %s: it must"
			    " belong to the user starting the server (e.g. root)"
			    " and not be readable by %s", o.user, owner_ca, o.user);
	} else if (!o.print_pubkey) {
		sc_warn("no --user: the network process runs as the signing key's"
		    " owner; start as root with --user so it cannot read the key");
	}
	sc_fingerprint(signer->pk, sizeof(signer->pk), fp);
	if (created)
		sc_info("generated a new signing key %s (%s)", o.key, fp);
	if (signer->have_owner_ca) {
		char ca[2 * sizeof(signer->owner_ca_pk) + 1];

		sc_hex_encode(signer->owner_ca_pk, sizeof(signer->owner_ca_pk),
		    ca, sizeof(ca));
		sc_info("serving ownership tokens (POST /v1/owner-tokens) of owner"
		    " CA %s (%s)", ca, owner_ca);
	}
	if (o.print_pubkey) {
		print_pubkey(signer->pk);
		signer->close(signer);
		return 0;
	}

	memset(&cfg, 0, sizeof(cfg));
	if (!o.no_token) {
		if ((r = token_load(o.token, token_hash, &created)) < 0)
			sc_die(1, "operator token %s: %s%s", o.token, sc_err(r),
			    r == SC_ERR_PERM ? " (must be a 0600 file owned by"
			    " this user)" : "");
		if (created)
			sc_info("generated operator token in %s", o.token);
		cfg.token_hash = token_hash;
	}
	/* A PostgreSQL URI may hold a password: never printed. */
	if ((r = ks_store_open(o.db, (unsigned int)(o.threads < KS_PG_POOL_MAX ?
	    o.threads : KS_PG_POOL_MAX), &store)) < 0)
		sc_die(1, "database %s: %s", ks_store_is_pg(o.db) ?
		    "(PostgreSQL URI)" : o.db, r == SC_ERR_AGAIN ?
		    "cannot connect" : r == SC_ERR_VERSION ? "schema is newer"
		    " than this program" : sc_err(r));

	memset(&ctx, 0, sizeof(ctx));
	ctx.store = store;
	ctx.signer = signer;
	ctx.cert_lifetime = o.cert_lifetime;
	ctx.nonce_lifetime = o.nonce_lifetime;
	ctx.max_nonces = (unsigned int)o.max_nonces;
	ctx.max_nonces_per_peer = (unsigned int)o.max_nonces_peer;
	ctx.act_lifetime = o.act_lifetime;
	if (o.ek_bundle != NULL) {
		unsigned char *b = NULL;
		size_t blen = 0;

		if ((r = sc_read_file(o.ek_bundle, KS_EK_BUNDLE_MAX, &b,
		    &blen)) < 0)
			sc_die_r(1, r, "--ek-ca-bundle %s", o.ek_bundle);
		if (memmem(b, blen, "-----BEGIN CERTIFICATE-----", 27) == NULL)
			sc_die(1, "--ek-ca-bundle %s: no PEM certificate",
			    o.ek_bundle);
		ctx.ek_bundle = (const char *)b;	/* kept until exit */
		ctx.ek_bundle_len = blen;
	} else {
		sc_info("no --ek-ca-bundle: enrollments with an EK certificate"
		    " are refused; bare AKs need \"insecure_ak\"");
	}

	cfg.tcp_fd = tcp_fd;
	cfg.unix_fd = unix_fd;
	cfg.max_body = o.max_body;
	cfg.max_conns = (unsigned int)o.max_conns;
	cfg.per_ip = (unsigned int)o.per_ip;
	cfg.timeout = (unsigned int)o.timeout;
	cfg.threads = (unsigned int)o.threads;
	cfg.proxies = o.proxies;
	cfg.proxy_header = o.proxy_header;

	/* Worker threads inherit this mask; the main thread waits for it. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	if ((r = ks_http_start(&ctx, &cfg, &http)) < 0)
		sc_die_r(1, r, "cannot start HTTP server");
	sc_memzero(token_hash, sizeof(token_hash));
	sc_info("serving on %s%s%s; signing key %s%s; certificates valid %lus;"
	    " %s database", tcp_fd >= 0 ? o.listen : "-",
	    unix_fd >= 0 ? " and " : "", unix_fd >= 0 ? o.unix_path : "", fp,
	    signer_pid ? " (separate signing process)" : "", o.cert_lifetime,
	    ks_store_is_pg(o.db) ? "PostgreSQL" : "SQLite");
	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			sc_info("SIGHUP ignored: restart to reload keys or token");
			continue;
		}
		break;
	}
	sc_info("shutting down");
	ks_http_stop(http);
	store->close(store);
	signer->close(signer);
	if (o.unix_path != NULL)
		unlink(o.unix_path);
	if (pidpath != NULL)
		sc_pidfile_release(pidpath, pidfd);
	free(pidpath);
	free(owned[0]);
	free(owned[1]);
	free(owned[2]);
	free(owned[3]);
	return 0;
}
