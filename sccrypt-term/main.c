/*
 * sccrypt-term — the tenant's encrypted console client.
 *
 * Thin main: options, the verb table, key loading; the work is in loop.c
 * (interactive session), session.c (protocol), policy.c (hv key trust),
 * transport*.c and verbs.c (subcommands).  See sccrypt-term(1).
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "core/err.h"
#include "log.h"
#include "readpass.h"
#include "secmem.h"
#include "verbs.h"
#include "web.h"
#include "io.h"

static void __attribute__((noreturn))
usage(int code)
{
	FILE *f = code ? stderr : stdout;

	fprintf(f,
"usage: sccrypt-term [options] [user@]host[:port] VM\n"
"       sccrypt-term [options] --pipe VM [-- COMMAND...]\n"
"       sccrypt-term [options] [--wrap] VM -- COMMAND...\n"
"       sccrypt-term keygen [-f FILE] [-C COMMENT] [-N] [--force]\n"
"       sccrypt-term pubkey [-f FILE]\n"
"       sccrypt-term vm init NAME --uuid UUID (--disk-key-file F | --luks IMAGE | --new-disk-key) [-N]\n"
"       sccrypt-term vm import NAME --uuid UUID --secret-file F [-N]\n"
"       sccrypt-term vm export NAME --secret-file F\n"
"       sccrypt-term vm show NAME\n"
"       sccrypt-term [options] vm protect NAME [--acl KEY]... [--history-size N] (DEST | -- COMMAND...)\n"
"       sccrypt-term [options] vm acl NAME add KEY [owner] | del KEY | list  (DEST | -- COMMAND...)\n"
"       sccrypt-term cert show FILE | cert verify FILE [--host HOST]\n"
"       sccrypt-term keyserver pin KEY|FILE | keyserver show\n"
"options:\n"
"  -p PORT -l USER -i IDENTITY -F CONFIG -o Option=value   ssh options (libssh mode)\n"
"  -c COMMAND        remote command (default: sccrypt-console VM)\n"
"  -t                request a remote pty (for sudo-style prompts)\n"
"  -e CHAR|none      escape character (default ~)\n"
"  -H, --host NAME   host name the VMM certificate must carry\n"
"  --trust-hv-key FP trust this hypervisor key fingerprint\n"
"  --strict-hv-key   never ask to trust an unverified hypervisor key\n"
"  --history BYTES   replay up to BYTES of console history on attach\n"
"  --linger MS       input not from a terminal: once it ends, close after MS\n"
"                    of console quiet (default 1000)\n"
"  --viewer, --takeover, --status, --key FILE, -q, -v, -V, -h\n"
"exit: 0 ok, 1 local error, 64 usage, 3 transport, 4 verification, 5 protocol/tamper, 6 relay error\n");
	exit(code);
}

enum {
	OPT_PIPE = 256, OPT_WRAP, OPT_TRUST, OPT_STRICT, OPT_HISTORY, OPT_VIEWER,
	OPT_TAKEOVER, OPT_STATUS, OPT_KEY, OPT_LINGER,
};

static const struct option longopts[] = {
	{ "pipe",		no_argument,		NULL, OPT_PIPE },
	{ "wrap",		no_argument,		NULL, OPT_WRAP },
	{ "host",		required_argument,	NULL, 'H' },
	{ "trust-hv-key",	required_argument,	NULL, OPT_TRUST },
	{ "strict-hv-key",	no_argument,		NULL, OPT_STRICT },
	{ "history",		required_argument,	NULL, OPT_HISTORY },
	{ "viewer",		no_argument,		NULL, OPT_VIEWER },
	{ "takeover",		no_argument,		NULL, OPT_TAKEOVER },
	{ "status",		no_argument,		NULL, OPT_STATUS },
	{ "key",		required_argument,	NULL, OPT_KEY },
	{ "linger",		required_argument,	NULL, OPT_LINGER },
	{ "quiet",		no_argument,		NULL, 'q' },
	{ "verbose",		no_argument,		NULL, 'v' },
	{ "help",		no_argument,		NULL, 'h' },
	{ "version",		no_argument,		NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static int
yesno_opt(const char *v)
{
	if (strcasecmp(v, "yes") == 0 || strcasecmp(v, "true") == 0)
		return 1;
	if (strcasecmp(v, "no") == 0 || strcasecmp(v, "false") == 0)
		return 0;
	return -1;
}

/* -o Option=value: the ssh options that make sense here. */
static void
ssh_option(struct app *a, const char *arg)
{
	char key[64];
	const char *v = strpbrk(arg, "= ");
	unsigned long n;
	size_t kl;

	if (v == NULL || (kl = (size_t)(v - arg)) == 0 || kl >= sizeof(key))
		goto bad;
	memcpy(key, arg, kl);
	key[kl] = '\0';
	v++;
	if (strcasecmp(key, "Port") == 0) {
		if (sc_parse_ulong(v, 10, 1, 65535, &n) != 0)
			goto bad_value;
		a->ssh.port = (int)n;
	}
	else if (strcasecmp(key, "User") == 0)
		a->ssh.user = v;
	else if (strcasecmp(key, "IdentityFile") == 0)
		a->ssh.identity = v;
	else if (strcasecmp(key, "UserKnownHostsFile") == 0)
		a->ssh.known_hosts = v;
	else if (strcasecmp(key, "ConnectTimeout") == 0) {
		if (sc_parse_ulong(v, 10, 0, 86400, &n) != 0)
			goto bad_value;
		a->ssh.connect_timeout = (int)n;
	}
	else if (strcasecmp(key, "BatchMode") == 0 && yesno_opt(v) >= 0)
		a->ssh.batch = yesno_opt(v) == 1;
	else if (strcasecmp(key, "StrictHostKeyChecking") == 0) {
		if (strcasecmp(v, "accept-new") == 0 || yesno_opt(v) == 0)
			a->ssh.strict_host = 2;
		else if (yesno_opt(v) == 1)
			a->ssh.strict_host = 1;
		else if (strcasecmp(v, "ask") == 0)
			a->ssh.strict_host = 0;
		else
			goto bad;
	} else
		goto bad;
	return;
bad_value:
	fprintf(stderr, "sccrypt-term: bad value in -o %s\n", arg);
	exit(EXIT_USAGE);
bad:
	fprintf(stderr, "sccrypt-term: unsupported -o option '%s' (supported: Port, "
	    "User, IdentityFile, UserKnownHostsFile, StrictHostKeyChecking, "
	    "BatchMode, ConnectTimeout; others go in ~/.ssh/config)\n", arg);
	exit(EXIT_USAGE);
}

static const struct verb verbs[] = {
	{ "keygen",	verb_keygen },
	{ "pubkey",	verb_pubkey },
	{ "vm",		verb_vm },
	{ "cert",	verb_cert },
	{ "keyserver",	verb_keyserver },
	{ "web",	verb_web },
};

/* Split positionals at "--": returns the count before it; *cmd after it. */
static int
split_dashdash(int argc, char **argv, char ***cmd)
{
	int i;

	*cmd = NULL;
	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			argv[i] = NULL;
			if (i + 1 < argc)
				*cmd = argv + i + 1;
			return i;
		}
	}
	return argc;
}

#define OPTS_GO_ON	(-1)	/* parse_options: no exit code, go on */

/* -o, -t and the other options into a; OPTS_GO_ON or the exit code. */
static int
parse_options(struct app *a, int argc, char **argv, bool *pipe_mode,
    bool *wrap_mode)
{
	unsigned long v;
	int ch;

	while ((ch = getopt_long(argc, argv, "+p:l:i:F:o:c:te:qvhVH:", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'p':
			if (sc_parse_ulong(optarg, 10, 1, 65535, &v) != 0) {
				fprintf(stderr, "sccrypt-term: bad port '%s'\n", optarg);
				return EXIT_USAGE;
			}
			a->ssh.port = (int)v;
			break;
		case 'l': a->ssh.user = optarg; break;
		case 'i': a->ssh.identity = optarg; break;
		case 'F': a->ssh.config = optarg; break;
		case 'o': ssh_option(a, optarg); break;
		case 'c': a->remote_cmd = optarg; break;
		case 't': a->ssh.want_pty = true; break;
		case 'e':
			if ((a->esc_char = esc_parse_char(optarg)) == -2) {
				fprintf(stderr, "sccrypt-term: bad escape character "
				    "'%s' (one character, ^X, or none)\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'q': a->quiet = true; break;
		case 'v':
			a->verbose++;
			sc_log_set_level(SC_LOG_WARN + a->verbose);
			break;
		case 'H': a->host = optarg; break;
		case OPT_PIPE: *pipe_mode = true; break;
		case OPT_WRAP: *wrap_mode = true; break;
		case OPT_TRUST: a->trust_fp = optarg; break;
		case OPT_STRICT: a->strict_hv = true; break;
		case OPT_HISTORY:
			if (sc_parse_ulong(optarg, 10, 0, 0xffffffffUL, &v) != 0) {
				fprintf(stderr, "sccrypt-term: --history takes a number "
				    "of bytes (0 to 4294967295)\n");
				return EXIT_USAGE;
			}
			a->history = (uint32_t)v;
			break;
		case OPT_VIEWER: a->viewer = true; break;
		case OPT_TAKEOVER: a->takeover = true; break;
		case OPT_STATUS: a->status_line = true; break;
		case OPT_KEY: a->user_key_path = optarg; break;
		case OPT_LINGER:
			if (sc_parse_ulong(optarg, 10, 0, APP_LINGER_MAX_MS, &v) != 0) {
				fprintf(stderr, "sccrypt-term: --linger takes "
				    "milliseconds (0 to %lu)\n", APP_LINGER_MAX_MS);
				return EXIT_USAGE;
			}
			a->linger_ms = v;
			break;
		case 'V':
			sc_print_version("sccrypt-term");
			printf("protocol %d, %s\n", SC_PROTOCOL_VERSION,
			    SC_NOISE_PROTOCOL);
			return 0;
		case 'h':
			usage(0);
		default:
			usage(EXIT_USAGE);
		}
	}
	if (*pipe_mode && *wrap_mode) {
		fprintf(stderr, "sccrypt-term: --pipe and --wrap exclude each other\n");
		return EXIT_USAGE;
	}
	if (a->viewer && a->takeover) {
		fprintf(stderr, "sccrypt-term: --viewer and --takeover exclude each other\n");
		return EXIT_USAGE;
	}
	return OPTS_GO_ON;
}

/*
 * A console session's operands: [user@]host VM, or VM with --pipe/--wrap
 * and the transport command after "--".  OPTS_GO_ON or the exit code.
 */
static int
console_operands(struct app *a, int argc, char **argv, bool pipe_mode,
    bool wrap_mode)
{
	static char remote[256];
	char **cmd;
	int npos = split_dashdash(argc, argv, &cmd);

	if (pipe_mode) {
		if (npos != 1)
			usage(EXIT_USAGE);
		a->vmname = argv[0];
		a->cmd = cmd;
	} else if (wrap_mode || cmd != NULL) {
		if (npos != 1 || cmd == NULL)
			usage(EXIT_USAGE);
		a->mode = MODE_WRAP;
		a->vmname = argv[0];
		a->cmd = cmd;
	} else {
		if (npos != 2)
			usage(EXIT_USAGE);
		a->dest = argv[0];
		a->vmname = argv[1];
		a->ssh.host = a->dest;
	}
	if (!sc_vmname_valid(a->vmname, strlen(a->vmname))) {
		fprintf(stderr, "sccrypt-term: invalid VM name '%s'\n", a->vmname);
		return EXIT_USAGE;
	}
	if (a->remote_cmd == NULL) {
		snprintf(remote, sizeof(remote), "sccrypt-console %s", a->vmname);
		a->remote_cmd = remote;
	}
	return OPTS_GO_ON;
}

int
main(int argc, char **argv)
{
	static struct app a;
	bool pipe_mode = false, wrap_mode = false;
	size_t i;
	int r;

	sc_log_init("sccrypt-term", SC_LOG_WARN, SC_LOG_TO_STDERR);
	if (sc_lib_init() < 0) {
		fprintf(stderr, "sccrypt-term: cannot initialise libsodium\n");
		return EXIT_LOCAL;
	}
	if (sc_disable_core_dumps() < 0)
		sc_warn("cannot disable core dumps");
	a.esc_char = ESC_DEFAULT;
	a.log_fd = -1;
	a.linger_ms = APP_LINGER_MS;
	if ((r = parse_options(&a, argc, argv, &pipe_mode, &wrap_mode)) !=
	    OPTS_GO_ON)
		return r;
	argc -= optind;
	argv += optind;
	a.ssh.verbose = a.verbose;
	a.ssh.term = getenv("TERM");
	a.pol.strict = a.strict_hv;
	a.pol.trust_fp = a.trust_fp;
	a.mode = pipe_mode ? MODE_PIPE : wrap_mode ? MODE_WRAP : MODE_SSH;

	/* Verbs */
	for (i = 0; argc > 0 && i < SC_NELEM(verbs); i++)
		if (strcmp(argv[0], verbs[i].name) == 0)
			return verbs[i].fn(&a, argc, argv);

	/* Console session */
	if ((r = console_operands(&a, argc, argv, pipe_mode, wrap_mode)) !=
	    OPTS_GO_ON)
		return r;
	if ((r = app_load_keys(&a, true)) != 0)
		return r;
	r = app_run_session(&a, SESS_MODE_CONSOLE, NULL);
	app_free_keys(&a);
	return r;
}
