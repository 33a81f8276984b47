/*
 * verbs.c — sccrypt-term's key subcommands (keygen, pubkey), the key
 * loading the console session shares, and the helpers every verb family
 * uses (verbs_int.h).  The vm verbs are in verbs_vm.c, cert and keyserver in
 * verbs_cert.c (see sccrypt-term(1)).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <sodium.h>

#include "app.h"
#include "cert.h"
#include "core/blob.h"
#include "core/crypto.h"
#include "core/err.h"
#include "io.h"
#include "log.h"
#include "readpass.h"
#include "secmem.h"
#include "verbs.h"
#include "verbs_int.h"
#include "encode.h"
#include "keystore.h"
#include "keyfile.h"
#include "vmfile.h"
#include "pubkey.h"

extern char **environ;

static char known_hvs_path[PATH_MAX];

/*
 * Parse argv[first..argc) against opts.  Returns 0, or -1 on an unknown
 * option or an option missing its value (the caller prints its usage).
 */
int
verb_opts(int argc, char **argv, int first, const struct verb_opt *opts)
{
	const struct verb_opt *o;
	int i;

	for (i = first; i < argc; i++) {
		for (o = opts; o->name != NULL; o++)
			if (strcmp(argv[i], o->name) == 0)
				break;
		if (o->name == NULL)
			return -1;
		if (o->str != NULL) {
			if (i + 1 >= argc)
				return -1;
			*o->str = argv[++i];
		} else
			*o->flag = true;
	}
	return 0;
}

int
path_in_store(const struct app *a, const char *name, char *out, size_t outsz)
{
	int n = snprintf(out, outsz, "%s/%s", a->keystore, name);

	return (n < 0 || (size_t)n >= outsz) ? SC_ERR_TOOLONG : 0;
}

int
open_store(struct app *a, bool create)
{
	int r;

	if (a->keystore[0] != '\0')
		return 0;
	if ((r = sc_keystore_dir(a->keystore, sizeof(a->keystore), create)) < 0) {
		sc_report("keystore %s: %s%s",
		    a->keystore[0] != '\0' ? a->keystore : "(no home directory)",
		    sc_err(r), r == SC_ERR_NOTFOUND ?
		    " (run 'sccrypt-term keygen' to create it)" : "");
		a->keystore[0] = '\0';
		return EXIT_LOCAL;
	}
	return 0;
}

/* A file of ours that does not parse: say it is damaged, not "malformed
 * message" (which reads like a network error). */
static const char *
damaged(int r)
{
	switch (r) {
	case SC_ERR_FORMAT:
	case SC_ERR_TRUNCATED:
	case SC_ERR_MAGIC:
		return " (the file is damaged or is not an sccrypt-term file)";
	}
	return "";
}

/* sc_keyfile_read's SC_ERR_UNSUPPORTED: a known KDF below the minimum cost
 * (or an unknown one): the file was weakened, or written by a test build. */
#define KEYFILE_WEAK_HINT " (its passphrase protection is below the minimum " \
	"Argon2id cost or of an unknown kind: it was not written by " \
	"sccrypt-term, or was weakened; refusing to use it)"

/* Read a secret key file, asking for its passphrase if it has one. */
static int
read_secret(const char *path, int kind, const char *what, uint8_t **secret,
    size_t *len)
{
	char prompt[PATH_MAX + 64], *pass = NULL;
	int enc, r, err = 0, tries;

	if ((enc = sc_keyfile_encrypted(path)) < 0)
		return enc;
	if (enc == 0)
		return sc_keyfile_read(path, kind, NULL, secret, len);
	for (tries = 0; tries < 3; tries++) {
		snprintf(prompt, sizeof(prompt), "Enter passphrase for %s %s: ",
		    what, path);
		if ((pass = sc_readpass(prompt, 0, &err)) == NULL)
			return err < 0 ? err : SC_ERR_CANCELLED;
		r = sc_keyfile_read(path, kind, pass, secret, len);
		sc_secure_free(pass);
		if (r != SC_ERR_PASSPHRASE)
			return r;
		fprintf(stderr, "Bad passphrase, try again.\n");
	}
	return SC_ERR_PASSPHRASE;
}

static int
read_vmfile(const char *path, struct sc_vmfile **vm)
{
	char prompt[PATH_MAX + 64], *pass = NULL;
	int enc, r, err = 0, tries;

	if ((enc = sc_keyfile_encrypted(path)) < 0)
		return enc;
	if (enc == 0)
		return sc_vmfile_read(path, NULL, vm);
	for (tries = 0; tries < 3; tries++) {
		snprintf(prompt, sizeof(prompt), "Enter passphrase for VM file %s: ",
		    path);
		if ((pass = sc_readpass(prompt, 0, &err)) == NULL)
			return err < 0 ? err : SC_ERR_CANCELLED;
		r = sc_vmfile_read(path, pass, vm);
		sc_secure_free(pass);
		if (r != SC_ERR_PASSPHRASE)
			return r;
		fprintf(stderr, "Bad passphrase, try again.\n");
	}
	return SC_ERR_PASSPHRASE;
}

/* "known VMs: a, b" (or none) and how to add one, for a name not found. */
static void
known_vms(const struct app *a, char *out, size_t outsz)
{
	char dir[PATH_MAX];
	size_t n = 0;
	unsigned count = 0;
	struct dirent *d;
	DIR *dp;

	out[0] = '\0';
	if (path_in_store(a, "vms", dir, sizeof(dir)) == 0 &&
	    (dp = opendir(dir)) != NULL) {
		while ((d = readdir(dp)) != NULL && n + 64 < outsz) {
			if (d->d_name[0] == '.')
				continue;
			n += (size_t)snprintf(out + n, outsz - n, "%s%s",
			    count++ ? ", " : "known VMs: ", d->d_name);
		}
		closedir(dp);
	}
	snprintf(out + n, outsz - n, "%s'sccrypt-term vm init NAME' adds one",
	    count ? "; a typo? " : "no VMs yet: ");
}

int
app_load_keys(struct app *a, bool need_user)
{
	char path[PATH_MAX];
	size_t len = 0;
	int r;

	if ((r = open_store(a, false)) != 0)
		return r;
	if (path_in_store(a, "known_hvs", known_hvs_path, sizeof(known_hvs_path)) == 0)
		a->pol.known_hvs = known_hvs_path;
	if (path_in_store(a, "keyserver.pub", path, sizeof(path)) == 0 &&
	    access(path, F_OK) == 0) {
		if ((r = sc_pubkey_read_file(SC_KSKEY_PREFIX, path,
		    a->pol.ks_pubkey)) < 0) {
			sc_report("the pinned key server key "
			    "%s: %s%s", path, sc_err(r), damaged(r));
			return EXIT_LOCAL;
		}
		a->pol.have_ks = true;
	}
	if (need_user) {
		const char *kp = a->user_key_path;

		if (kp == NULL) {
			if (path_in_store(a, "id_x25519", path, sizeof(path)) < 0)
				return EXIT_LOCAL;
			kp = path;
		}
		r = read_secret(kp, SC_KEY_KIND_USER, "key", &a->user_sk, &len);
		if (r < 0 || len != SC_KEY_LEN) {
			sc_report("cannot load your console key "
			    "%s: %s%s", kp, r < 0 ? sc_err(r) : "wrong size",
			    r == SC_ERR_NOTFOUND ? " (run 'sccrypt-term keygen')" :
			    r == SC_ERR_UNSUPPORTED ? KEYFILE_WEAK_HINT : damaged(r));
			sc_secure_free(a->user_sk);
			a->user_sk = NULL;
			return EXIT_LOCAL;
		}
	}
	if (a->vmname != NULL) {
		char name[PATH_MAX];

		snprintf(name, sizeof(name), "vms/%s", a->vmname);
		if (path_in_store(a, name, path, sizeof(path)) < 0)
			return EXIT_LOCAL;
		if ((r = read_vmfile(path, &a->vm)) < 0) {
			char known[512];

			if (r == SC_ERR_NOTFOUND) {
				known_vms(a, known, sizeof(known));
				sc_report("no VM named \"%s\" in "
				    "your keystore (%s); %s", a->vmname, path, known);
				return EXIT_LOCAL;
			}
			sc_report("cannot load the VM file %s: %s%s",
			    path, sc_err(r),
			    r == SC_ERR_UNSUPPORTED ? KEYFILE_WEAK_HINT : damaged(r));
			return EXIT_LOCAL;
		}
	}
	return 0;
}

void
app_free_keys(struct app *a)
{
	sc_secure_free(a->user_sk);
	a->user_sk = NULL;
	sc_secure_free(a->vm);
	a->vm = NULL;
}

/* A new passphrase (asked twice); "" means none.  *pass NULL with -N. */
int
new_passphrase(bool none, char **pass)
{
	int err = 0;

	*pass = NULL;
	if (none)
		return 0;
	*pass = sc_readpass("Enter passphrase (empty for no passphrase): ",
	    SC_RP_CONFIRM, &err);
	if (*pass == NULL) {
		sc_report("%s", err == SC_ERR_MISMATCH ?
		    "passphrases do not match" : sc_err(err ? err : SC_ERR_CANCELLED));
		return EXIT_LOCAL;
	}
	return 0;
}

/* ---- keygen / pubkey ---- */

int
verb_keygen(struct app *a, int argc, char **argv)
{
	char path[PATH_MAX], pubpath[PATH_MAX + 8], line[256], fp[SC_FINGERPRINT_LEN];
	const char *file = NULL, *comment = NULL;
	bool nopass = false, force = false;
	uint8_t *sk = NULL, pk[SC_KEY_LEN];
	char *pass = NULL, host[128], defcomment[256];
	int r, code = EXIT_LOCAL;

	const struct verb_opt opts[] = {
		{ "-f", &file, NULL }, { "-C", &comment, NULL },
		{ "-N", NULL, &nopass }, { "--force", NULL, &force },
		{ NULL, NULL, NULL },
	};

	if (verb_opts(argc, argv, 1, opts) != 0) {
		fprintf(stderr, "usage: sccrypt-term keygen [-f FILE] "
		    "[-C COMMENT] [-N] [--force]\n");
		return EXIT_USAGE;
	}
	if (file == NULL) {
		if ((r = open_store(a, true)) != 0)
			return r;
		if (path_in_store(a, "id_x25519", path, sizeof(path)) < 0)
			return EXIT_LOCAL;
	} else
		snprintf(path, sizeof(path), "%s", file);
	snprintf(pubpath, sizeof(pubpath), "%s.pub", path);
	if (!force && access(path, F_OK) == 0) {
		sc_report("%s exists; use --force to replace it",
		    path);
		return EXIT_LOCAL;
	}
	if (comment == NULL) {
		const char *u = getenv("USER");

		if (gethostname(host, sizeof(host)) != 0)
			snprintf(host, sizeof(host), "localhost");
		host[sizeof(host) - 1] = '\0';
		snprintf(defcomment, sizeof(defcomment), "%s@%s", u ? u : "user", host);
		comment = defcomment;
	}
	if ((sk = sc_secure_alloc(SC_KEY_LEN)) == NULL)
		return EXIT_LOCAL;
	if ((r = sc_x25519_keypair(sc_crypto_sodium(), pk, sk)) < 0) {
		sc_report_r(r, "key generation failed");
		goto out;
	}
	if (new_passphrase(nopass, &pass) != 0)
		goto out;
	if ((r = sc_keyfile_write(path, SC_KEY_KIND_USER, sk, SC_KEY_LEN, pass,
	    comment)) < 0) {
		sc_report_r(r, "%s", path);
		goto out;
	}
	if ((r = sc_pubkey_write_file(SC_PUBKEY_PREFIX, pubpath, pk, comment)) < 0) {
		sc_report_r(r, "%s", pubpath);
		goto out;
	}
	sc_fingerprint(pk, SC_KEY_LEN, fp);
	if (sc_pubkey_format(SC_PUBKEY_PREFIX, pk, comment, line, sizeof(line)) < 0)
		goto out;
	printf("Your console key is in %s\nYour public key is in %s\n"
	    "The key fingerprint is %s\n%s\n", path, pubpath, fp, line);
	code = 0;
out:
	sc_secure_free(pass);
	sc_secure_free(sk);
	return code;
}

int
verb_pubkey(struct app *a, int argc, char **argv)
{
	char path[PATH_MAX + 8], line[256];
	uint8_t pk[SC_KEY_LEN];
	int r;

	if (argc == 3 && strcmp(argv[1], "-f") == 0)
		snprintf(path, sizeof(path), "%s.pub", argv[2]);
	else if (argc == 1) {
		if ((r = open_store(a, false)) != 0)
			return r;
		if (path_in_store(a, "id_x25519.pub", path, sizeof(path)) < 0)
			return EXIT_LOCAL;
	} else {
		fprintf(stderr, "usage: sccrypt-term pubkey [-f FILE]\n");
		return EXIT_USAGE;
	}
	if ((r = sc_pubkey_read_file(SC_PUBKEY_PREFIX, path, pk)) < 0) {
		sc_report_r(r, "%s", path);
		return EXIT_LOCAL;
	}
	if (sc_pubkey_format(SC_PUBKEY_PREFIX, pk, NULL, line, sizeof(line)) < 0)
		return EXIT_LOCAL;
	printf("%s\n", line);
	return 0;
}
