/*
 * verbs.c — subcommands of sccrypt-term (see sccrypt-term(1)).
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
#include "encode.h"
#include "keystore.h"
#include "keyfile.h"
#include "vmfile.h"
#include "pubkey.h"

extern char **environ;

static char known_hvs_path[PATH_MAX];

/*
 * A verb's options: each either takes a value (str) or is a flag.  The
 * table ends with a NULL name.
 */
struct verb_opt {
	const char	 *name;
	const char	**str;		/* "--opt VALUE": the value, or NULL */
	bool		 *flag;		/* "--opt": set to true, or NULL */
};

/*
 * Parse argv[first..argc) against opts.  Returns 0, or -1 on an unknown
 * option or an option missing its value (the caller prints its usage).
 */
static int
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

static int
path_in_store(const struct app *a, const char *name, char *out, size_t outsz)
{
	int n = snprintf(out, outsz, "%s/%s", a->keystore, name);

	return (n < 0 || (size_t)n >= outsz) ? SC_ERR_TOOLONG : 0;
}

static int
open_store(struct app *a, bool create)
{
	int r;

	if (a->keystore[0] != '\0')
		return 0;
	if ((r = sc_keystore_dir(a->keystore, sizeof(a->keystore), create)) < 0) {
		fprintf(stderr, "sccrypt-term: keystore %s: %s%s\n",
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
			fprintf(stderr, "sccrypt-term: the pinned key server key "
			    "%s: %s%s\n", path, sc_err(r), damaged(r));
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
			fprintf(stderr, "sccrypt-term: cannot load your console key "
			    "%s: %s%s\n", kp, r < 0 ? sc_err(r) : "wrong size",
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
				fprintf(stderr, "sccrypt-term: no VM named \"%s\" in "
				    "your keystore (%s); %s\n", a->vmname, path, known);
				return EXIT_LOCAL;
			}
			fprintf(stderr, "sccrypt-term: cannot load the VM file %s: %s%s\n",
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
static int
new_passphrase(bool none, char **pass)
{
	int err = 0;

	*pass = NULL;
	if (none)
		return 0;
	*pass = sc_readpass("Enter passphrase (empty for no passphrase): ",
	    SC_RP_CONFIRM, &err);
	if (*pass == NULL) {
		fprintf(stderr, "sccrypt-term: %s\n", err == SC_ERR_MISMATCH ?
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
		fprintf(stderr, "sccrypt-term: %s exists; use --force to replace it\n",
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
		fprintf(stderr, "sccrypt-term: key generation failed: %s\n", sc_err(r));
		goto out;
	}
	if (new_passphrase(nopass, &pass) != 0)
		goto out;
	if ((r = sc_keyfile_write(path, SC_KEY_KIND_USER, sk, SC_KEY_LEN, pass,
	    comment)) < 0) {
		fprintf(stderr, "sccrypt-term: %s: %s\n", path, sc_err(r));
		goto out;
	}
	if ((r = sc_pubkey_write_file(SC_PUBKEY_PREFIX, pubpath, pk, comment)) < 0) {
		fprintf(stderr, "sccrypt-term: %s: %s\n", pubpath, sc_err(r));
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
		fprintf(stderr, "sccrypt-term: %s: %s\n", path, sc_err(r));
		return EXIT_LOCAL;
	}
	if (sc_pubkey_format(SC_PUBKEY_PREFIX, pk, NULL, line, sizeof(line)) < 0)
		return EXIT_LOCAL;
	printf("%s\n", line);
	return 0;
}

/* ---- vm ---- */

/* Import a LUKS2 volume key with cryptsetup (asks for the passphrase). */
static int
luks_volume_key(const char *image, uint8_t *key, size_t max, size_t *len)
{
	char dir[] = "/tmp/sccrypt-vk.XXXXXX", file[64];
	char *argv[] = { "cryptsetup", "luksDump", "--dump-volume-key", "-q",
	    "--volume-key-file", file, (char *)image, NULL };
	unsigned char *data = NULL;
	size_t n = 0;
	pid_t pid;
	int st, r;

	if (mkdtemp(dir) == NULL)
		return SC_ERR_SYSTEM;
	snprintf(file, sizeof(file), "%s/vk", dir);
	if (posix_spawnp(&pid, "cryptsetup", NULL, NULL, argv, environ) != 0) {
		rmdir(dir);
		return SC_ERR_SYSTEM;
	}
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	r = (WIFEXITED(st) && WEXITSTATUS(st) == 0) ?
	    sc_read_file(file, max, &data, &n) : SC_ERR_DISKKEY;
	if (r == 0) {
		memcpy(key, data, n);
		*len = n;
		sodium_memzero(data, n);
	}
	free(data);
	unlink(file);
	rmdir(dir);
	return r;
}

/* The vms/ directory of the keystore and the path of vms/NAME. */
static int
vm_path(struct app *a, const char *name, char *path, size_t pathsz)
{
	char rel[PATH_MAX];
	int r;

	if ((r = open_store(a, true)) != 0)
		return r;
	if (path_in_store(a, "vms", path, pathsz) < 0)
		return EXIT_LOCAL;
	if (mkdir(path, 0700) != 0 && errno != EEXIST) {
		fprintf(stderr, "sccrypt-term: %s: %s\n", path, strerror(errno));
		return EXIT_LOCAL;
	}
	snprintf(rel, sizeof(rel), "vms/%s", name);
	if (path_in_store(a, rel, path, pathsz) < 0)
		return EXIT_LOCAL;
	return 0;
}

/*
 * A new VM file for vms/NAME at path: refused if one exists (unless
 * force), allocated in secure memory with its UUID parsed.  0 with *vmp
 * set, or an exit code (nothing allocated).
 */
static int
vm_new(const char *path, const char *uuid, bool force, struct sc_vmfile **vmp)
{
	struct sc_vmfile *vm;

	if (!force && access(path, F_OK) == 0) {
		fprintf(stderr, "sccrypt-term: %s exists; use --force to replace it\n",
		    path);
		return EXIT_LOCAL;
	}
	if ((vm = sc_secure_alloc(sizeof(*vm))) == NULL)
		return EXIT_LOCAL;
	memset(vm, 0, sizeof(*vm));
	if (sc_uuid_parse(uuid, vm->uuid) < 0) {
		fprintf(stderr, "sccrypt-term: bad UUID '%s'\n", uuid);
		sc_secure_free(vm);
		return EXIT_USAGE;
	}
	*vmp = vm;
	return 0;
}

static int
vm_init(struct app *a, int argc, char **argv)
{
	const char *name, *uuid = NULL, *keyfile = NULL, *luks = NULL;
	bool newkey = false, nopass = false, force = false;
	struct sc_vmfile *vm = NULL;
	char path[PATH_MAX], *pass = NULL, uu[37];
	int r, code = EXIT_LOCAL;

	if (argc < 3)
		goto usage;
	name = argv[2];
	{
		const struct verb_opt opts[] = {
			{ "--uuid", &uuid, NULL },
			{ "--disk-key-file", &keyfile, NULL },
			{ "--luks", &luks, NULL },
			{ "--new-disk-key", NULL, &newkey },
			{ "-N", NULL, &nopass }, { "--force", NULL, &force },
			{ NULL, NULL, NULL },
		};

		if (verb_opts(argc, argv, 3, opts) != 0)
			goto usage;
	}
	if (uuid == NULL || (!!keyfile + !!luks + newkey) != 1)
		goto usage;
	if (!sc_vmname_valid(name, strlen(name))) {
		fprintf(stderr, "sccrypt-term: invalid VM name '%s'\n", name);
		return EXIT_USAGE;
	}
	if ((r = vm_path(a, name, path, sizeof(path))) != 0 ||
	    (r = vm_new(path, uuid, force, &vm)) != 0)
		return r;
	snprintf(vm->name, sizeof(vm->name), "%s", name);
	randombytes_buf(vm->secret, sizeof(vm->secret));
	if (newkey) {
		vm->disk_key_len = 64;
		randombytes_buf(vm->disk_key, vm->disk_key_len);
	} else if (keyfile != NULL) {
		unsigned char *data = NULL;
		size_t n = 0;

		r = sc_read_file(keyfile, SC_VMFILE_DISK_KEY_MAX + 1, &data, &n);
		if (r < 0 || n == 0 || n > SC_DISK_KEY_MAX) {
			fprintf(stderr, "sccrypt-term: %s: %s\n", keyfile, r < 0 ?
			    sc_err(r) : "a disk key must be 1..128 bytes (raw)");
			if (data != NULL) {
				sodium_memzero(data, n);
				free(data);
			}
			goto out;
		}
		memcpy(vm->disk_key, data, n);
		vm->disk_key_len = n;
		sodium_memzero(data, n);
		free(data);
	} else {
		if ((r = luks_volume_key(luks, vm->disk_key, SC_DISK_KEY_MAX,
		    &vm->disk_key_len)) < 0) {
			fprintf(stderr, "sccrypt-term: cannot read the volume key "
			    "of %s: %s\n", luks, sc_err(r));
			goto out;
		}
	}
	if (new_passphrase(nopass, &pass) != 0)
		goto out;
	if ((r = sc_vmfile_write(path, vm, pass, name)) < 0) {
		fprintf(stderr, "sccrypt-term: %s: %s\n", path, sc_err(r));
		goto out;
	}
	sc_uuid_format(vm->uuid, uu);
	printf("VM %s (%s) written to %s\n", name, uu, path);
	if (newkey) {
		char kp[PATH_MAX + 16];
		int fd;

		/* The owner needs the new key to create the LUKS2 volume. */
		snprintf(kp, sizeof(kp), "%s.disk-key", path);
		fd = open(kp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0 || sc_write_all(fd, vm->disk_key, vm->disk_key_len) < 0) {
			fprintf(stderr, "sccrypt-term: %s: %s\n", kp, strerror(errno));
			if (fd >= 0)
				close(fd);
			goto out;
		}
		close(fd);
		printf("New disk key in %s: create the volume with\n"
		    "  cryptsetup luksFormat --type luks2 --volume-key-file %s "
		    "--key-size %zu IMAGE\nthen delete the key file.\n", kp, kp,
		    vm->disk_key_len * 8);
	}
	code = 0;
out:
	sc_secure_free(pass);
	sc_secure_free(vm);
	return code;
usage:
	fprintf(stderr, "usage: sccrypt-term vm init NAME --uuid UUID "
	    "(--disk-key-file FILE | --luks IMAGE | --new-disk-key) [-N] [--force]\n");
	return EXIT_USAGE;
}

/*
 * A VM secret file: 64 hex digits (a trailing newline and blanks allowed),
 * or exactly 32 raw bytes.
 */
static int
read_secret_file(const char *path, uint8_t secret[SC_VM_SECRET_LEN])
{
	unsigned char *data = NULL;
	char hex[2 * SC_VM_SECRET_LEN + 1];
	size_t n = 0, i, h = 0;
	int r;

	if ((r = sc_read_file(path, 256, &data, &n)) < 0)
		return r;
	if (n == SC_VM_SECRET_LEN) {
		memcpy(secret, data, n);
		r = 0;
		goto out;
	}
	r = SC_ERR_FORMAT;
	for (i = 0; i < n; i++) {
		if (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' ||
		    data[i] == '\n')
			continue;
		if (h == sizeof(hex) - 1)
			goto out;
		hex[h++] = (char)data[i];
	}
	hex[h] = '\0';
	r = sc_hex_decode(hex, secret, SC_VM_SECRET_LEN);
	sodium_memzero(hex, sizeof(hex));
out:
	sodium_memzero(data, n);
	free(data);
	return r;
}

/* vm import NAME --uuid UUID --secret-file F [-N] [--force] */
static int
vm_import(struct app *a, int argc, char **argv)
{
	const char *name, *uuid = NULL, *sfile = NULL;
	bool nopass = false, force = false;
	struct sc_vmfile *vm = NULL;
	char path[PATH_MAX], *pass = NULL, uu[37];
	int r, code = EXIT_LOCAL;

	if (argc < 3)
		goto usage;
	name = argv[2];
	{
		const struct verb_opt opts[] = {
			{ "--uuid", &uuid, NULL }, { "--secret-file", &sfile, NULL },
			{ "-N", NULL, &nopass }, { "--force", NULL, &force },
			{ NULL, NULL, NULL },
		};

		if (verb_opts(argc, argv, 3, opts) != 0)
			goto usage;
	}
	if (uuid == NULL || sfile == NULL)
		goto usage;
	if (!sc_vmname_valid(name, strlen(name))) {
		fprintf(stderr, "sccrypt-term: invalid VM name '%s'\n", name);
		return EXIT_USAGE;
	}
	if ((r = vm_path(a, name, path, sizeof(path))) != 0 ||
	    (r = vm_new(path, uuid, force, &vm)) != 0)
		return r;
	if ((r = read_secret_file(sfile, vm->secret)) < 0) {
		fprintf(stderr, "sccrypt-term: %s: %s (want the VM secret as 64 "
		    "hex digits, from the owner's 'sccrypt-term vm export')\n",
		    sfile, sc_err(r));
		goto out;
	}
	snprintf(vm->name, sizeof(vm->name), "%s", name);
	vm->disk_key_len = 0;		/* a user's file: sessions only */
	if (new_passphrase(nopass, &pass) != 0)
		goto out;
	if ((r = sc_vmfile_write(path, vm, pass, name)) < 0) {
		fprintf(stderr, "sccrypt-term: %s: %s\n", path, sc_err(r));
		goto out;
	}
	sc_uuid_format(vm->uuid, uu);
	printf("VM %s (%s) imported to %s (no disk key: sessions only)\n", name,
	    uu, path);
	code = 0;
out:
	sc_secure_free(pass);
	sc_secure_free(vm);
	return code;
usage:
	fprintf(stderr, "usage: sccrypt-term vm import NAME --uuid UUID "
	    "--secret-file FILE [-N] [--force]\n");
	return EXIT_USAGE;
}

/* vm export NAME --secret-file F: the VM secret for a user's 'vm import'. */
static int
vm_export(struct app *a, int argc, char **argv)
{
	char hex[2 * SC_VM_SECRET_LEN + 2], uu[37];
	const char *out;
	int fd, r, code = EXIT_LOCAL;

	if (argc != 5 || strcmp(argv[3], "--secret-file") != 0) {
		fprintf(stderr, "usage: sccrypt-term vm export NAME --secret-file FILE\n");
		return EXIT_USAGE;
	}
	a->vmname = argv[2];
	out = argv[4];
	if (!sc_vmname_valid(a->vmname, strlen(a->vmname)))
		return EXIT_USAGE;
	if ((r = app_load_keys(a, false)) != 0)
		return r;
	fd = open(out, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		fprintf(stderr, "sccrypt-term: %s: %s\n", out, strerror(errno));
		goto done;
	}
	sc_hex_encode(a->vm->secret, SC_VM_SECRET_LEN, hex, sizeof(hex) - 1);
	strcat(hex, "\n");
	r = sc_write_all(fd, hex, strlen(hex));
	sodium_memzero(hex, sizeof(hex));
	if (close(fd) != 0 || r < 0) {
		fprintf(stderr, "sccrypt-term: %s: write failed\n", out);
		unlink(out);
		goto done;
	}
	sc_uuid_format(a->vm->uuid, uu);
	printf("VM secret of %s written to %s (mode 0600).  Give it to the user "
	    "over a trusted channel; they run\n  sccrypt-term vm import %s "
	    "--uuid %s --secret-file FILE\nand you add their key with "
	    "'sccrypt-term vm acl %s add KEY'.\n", a->vmname, out, a->vmname,
	    uu, a->vmname);
	code = 0;
done:
	app_free_keys(a);
	return code;
}

static int
vm_show(struct app *a, int argc, char **argv)
{
	char uu[37];
	int r;

	if (argc != 3) {
		fprintf(stderr, "usage: sccrypt-term vm show NAME\n");
		return EXIT_USAGE;
	}
	a->vmname = argv[2];
	if (!sc_vmname_valid(a->vmname, strlen(a->vmname)))
		return EXIT_USAGE;
	if ((r = app_load_keys(a, false)) != 0)
		return r;
	sc_uuid_format(a->vm->uuid, uu);
	if (a->vm->disk_key_len > 0)
		printf("VM %s\n  uuid %s\n  disk key %zu bytes (owner: can bind "
		    "the VM)\n", a->vm->name, uu, a->vm->disk_key_len);
	else
		printf("VM %s\n  uuid %s\n  disk key none (user's VM file: "
		    "sessions only)\n", a->vm->name, uu);
	app_free_keys(a);
	return 0;
}

/*
 * The transport part of a verb's arguments: "-- COMMAND..." (pipe or wrap)
 * or one DEST (libssh).  Sets a->mode/cmd/dest.
 */
static int
verb_transport(struct app *a, int argc, char **argv, int i, bool protect,
    char *remote, size_t remsz)
{
	if (i < argc && strcmp(argv[i], "--") == 0) {
		if (i + 1 >= argc)
			return EXIT_USAGE;
		a->cmd = argv + i + 1;
		if (a->mode == MODE_SSH)
			a->mode = MODE_PIPE;
	} else if (i + 1 == argc && a->mode == MODE_SSH) {
		a->dest = argv[i];
		a->ssh.host = a->dest;
	} else if (i == argc && a->mode == MODE_PIPE) {
		a->cmd = NULL;
	} else
		return EXIT_USAGE;
	if (a->remote_cmd == NULL) {
		snprintf(remote, remsz, "sccrypt-console %s%s",
		    protect ? "--protect " : "", a->vmname);
		a->remote_cmd = remote;
	}
	return 0;
}

struct protect_ctx {
	struct sc_registration *reg;
};

static int
protect_build(void *ctx, const struct sc_hello *h, struct sc_buf *out)
{
	struct protect_ctx *p = ctx;

	return sc_blob_seal(sc_crypto_sodium(), p->reg, h->hv_pubkey, out);
}

static int
protect_check(void *ctx, const struct sc_hello *h, int32_t status,
    const uint8_t confirm[32])
{
	struct protect_ctx *p = ctx;
	uint8_t expect[32];
	int r;

	if ((r = sc_blob_confirm(sc_crypto_sodium(), p->reg, h->hv_pubkey, status,
	    expect)) < 0)
		return r;
	r = sc_memeq_ct(expect, confirm, sizeof(expect)) == 0 ? 0 : SC_ERR_DECRYPT;
	sodium_memzero(expect, sizeof(expect));
	if (r == 0 && status == SC_ERR_EXPIRED)
		fprintf(stderr, "sccrypt-term: the hypervisor holds a newer binding "
		    "of this VM (made later, or by a machine whose clock is "
		    "ahead of this one's): check this machine's clock\n");
	return r;
}

static int
vm_protect(struct app *a, int argc, char **argv)
{
	struct sc_registration *reg = NULL;
	struct protect_ctx pc;
	struct sess_config extra;
	char path[PATH_MAX + 32], remote[256];
	uint32_t history_size = 64 * 1024;
	int i, r, code = EXIT_LOCAL;

	if (argc < 3)
		goto usage;
	a->vmname = argv[2];
	if (!sc_vmname_valid(a->vmname, strlen(a->vmname)))
		goto usage;
	if ((reg = sc_secure_alloc(sizeof(*reg))) == NULL)
		return EXIT_LOCAL;
	memset(reg, 0, sizeof(*reg));
	/* Options, then the transport. */
	for (i = 3; i < argc; i++) {
		if (strcmp(argv[i], "--acl") == 0 && i + 1 < argc) {
			if (reg->acl_count + 1 >= SC_ACL_MAX) {
				fprintf(stderr, "sccrypt-term: at most %d keys\n", SC_ACL_MAX);
				goto out;
			}
			if (app_parse_pubkey_arg(argv[++i],
			    reg->acl[1 + reg->acl_count].pubkey) < 0) {
				fprintf(stderr, "sccrypt-term: '%s' is not a public key\n",
				    argv[i]);
				code = EXIT_USAGE;
				goto out;
			}
			reg->acl_count++;
		} else if (strcmp(argv[i], "--history-size") == 0 && i + 1 < argc) {
			unsigned long hs;

			if (sc_parse_ulong(argv[++i], 10, 0, UINT32_MAX, &hs) != 0) {
				fprintf(stderr, "sccrypt-term: --history-size: "
				    "'%s' is not a number 0..%lu\n", argv[i],
				    (unsigned long)UINT32_MAX);
				code = EXIT_USAGE;
				goto out;
			}
			history_size = (uint32_t)hs;
		} else
			break;
	}
	if (verb_transport(a, argc, argv, i, true, remote,
	    sizeof(remote)) != 0)
		goto usage_free;
	if ((r = app_load_keys(a, false)) != 0) {
		code = r;
		goto out;
	}
	if (a->vm->disk_key_len == 0) {
		fprintf(stderr, "sccrypt-term: the VM file of %s has no disk key "
		    "(it was made with 'vm import' for a user): only the VM's "
		    "owner, whose VM file holds the disk key ('vm init'), can "
		    "bind the VM\n", a->vmname);
		goto out;
	}
	if (a->vm->disk_key_len > SC_DISK_KEY_MAX) {
		fprintf(stderr, "sccrypt-term: the VM file has no usable disk key "
		    "(1..%d bytes)\n", SC_DISK_KEY_MAX);
		goto out;
	}
	/* ACL: the owner (this user) first, then --acl keys. */
	if (a->user_key_path != NULL)
		snprintf(path, sizeof(path), "%s.pub", a->user_key_path);
	else
		snprintf(path, sizeof(path), "%s/id_x25519.pub", a->keystore);
	if ((r = sc_pubkey_read_file(SC_PUBKEY_PREFIX, path,
	    reg->acl[0].pubkey)) < 0) {
		fprintf(stderr, "sccrypt-term: %s: %s (run 'sccrypt-term keygen')\n",
		    path, sc_err(r));
		goto out;
	}
	reg->acl[0].flags = SC_ACL_F_OWNER;
	reg->acl_count += 1;
	memcpy(reg->uuid, a->vm->uuid, SC_UUID_LEN);
	/* Above every binding made before: the hv refuses older blobs. */
	reg->generation = sc_blob_generation_now();
	memcpy(reg->vm_secret, a->vm->secret, SC_PSK_LEN);
	memcpy(reg->disk_key, a->vm->disk_key, a->vm->disk_key_len);
	reg->disk_key_len = a->vm->disk_key_len;
	reg->options = history_size > 0 ? SC_REG_OPT_HISTORY : 0;
	reg->history_size = history_size;

	pc.reg = reg;
	memset(&extra, 0, sizeof(extra));
	extra.protect_build = protect_build;
	extra.protect_check = protect_check;
	extra.protect_ctx = &pc;
	code = app_run_session(a, SESS_MODE_PROTECT, &extra);
	if (code == 0)
		printf("VM %s is now protected: the hypervisor %s confirmed the "
		    "binding (%s)\n", a->vmname, a->pol.fp,
		    policy_how_name(a->pol.how));
out:
	sc_secure_free(reg);
	app_free_keys(a);
	return code;
usage_free:
	sc_secure_free(reg);
usage:
	fprintf(stderr, "usage: sccrypt-term [options] vm protect NAME "
	    "[--acl KEY]... [--history-size N] (DEST | -- COMMAND...)\n");
	return EXIT_USAGE;
}

static int
vm_acl(struct app *a, int argc, char **argv)
{
	char remote[256];
	int i, r;

	/* vm acl NAME add KEY [owner] | del KEY | list  TRANSPORT */
	if (argc < 4)
		goto usage;
	a->vmname = argv[2];
	if (!sc_vmname_valid(a->vmname, strlen(a->vmname)))
		goto usage;
	i = 4;
	if (strcmp(argv[3], "list") == 0) {
		a->batch_cmd = SC_OWNER_ACL_LIST;
	} else if (strcmp(argv[3], "add") == 0 || strcmp(argv[3], "del") == 0) {
		a->batch_cmd = argv[3][0] == 'a' ? SC_OWNER_ACL_ADD : SC_OWNER_ACL_DEL;
		if (argc < 5 || app_parse_pubkey_arg(argv[4], a->batch_key) < 0) {
			fprintf(stderr, "sccrypt-term: need a public key "
			    "(sccrypt-x25519 BASE64, or a .pub file)\n");
			return EXIT_USAGE;
		}
		i = 5;
		if (i < argc && strcmp(argv[i], "owner") == 0 &&
		    a->batch_cmd == SC_OWNER_ACL_ADD) {
			a->batch_flags = SC_ACL_F_OWNER;
			i++;
		}
	} else
		goto usage;
	if (verb_transport(a, argc, argv, i, false, remote,
	    sizeof(remote)) != 0)
		goto usage;
	a->batch = BATCH_ACL;
	/*
	 * A read-only session: owner commands do not need the writer role, and
	 * the hv hands the console to a writer session with its first record,
	 * which would end the session of whoever is at the console.
	 */
	a->viewer = true;
	a->takeover = false;
	if ((r = app_load_keys(a, true)) != 0)
		return r;
	r = app_run_session(a, SESS_MODE_CONSOLE, NULL);
	app_free_keys(a);
	return r;
usage:
	fprintf(stderr, "usage: sccrypt-term [options] vm acl NAME "
	    "(add KEY [owner] | del KEY | list) (DEST | -- COMMAND...)\n");
	return EXIT_USAGE;
}

int
verb_vm(struct app *a, int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "init") == 0)
		return vm_init(a, argc, argv);
	if (argc >= 2 && strcmp(argv[1], "show") == 0)
		return vm_show(a, argc, argv);
	if (argc >= 2 && strcmp(argv[1], "protect") == 0)
		return vm_protect(a, argc, argv);
	if (argc >= 2 && strcmp(argv[1], "acl") == 0)
		return vm_acl(a, argc, argv);
	if (argc >= 2 && strcmp(argv[1], "import") == 0)
		return vm_import(a, argc, argv);
	if (argc >= 2 && strcmp(argv[1], "export") == 0)
		return vm_export(a, argc, argv);
	fprintf(stderr, "usage: sccrypt-term vm init|import|export|show|protect|acl ...\n");
	return EXIT_USAGE;
}

/* ---- cert ---- */

/* A certificate file: binary (starts with "SCC1") or base64 text. */
static int
read_cert(const char *path, uint8_t *out, size_t outsz, size_t *outlen)
{
	unsigned char *data = NULL;
	size_t n = 0, bin = 0;
	int r;

	if ((r = sc_read_file(path, 4 * SC_CERT_MAX, &data, &n)) < 0)
		return r;
	if (n >= 4 && memcmp(data, SC_CERT_MAGIC, 4) == 0) {
		if (n > outsz) {
			free(data);
			return SC_ERR_TOOLONG;
		}
		memcpy(out, data, n);
		*outlen = n;
		free(data);
		return 0;
	}
	r = sodium_base642bin(out, outsz, (const char *)data, n, " \t\r\n", &bin,
	    NULL, sodium_base64_VARIANT_ORIGINAL);
	free(data);
	if (r != 0)
		return SC_ERR_FORMAT;
	*outlen = bin;
	return 0;
}

static void
print_time(const char *label, uint64_t t)
{
	char buf[64];
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) != NULL &&
	    strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S UTC", &tm) > 0)
		printf("  %-10s %s (%llu)\n", label, buf, (unsigned long long)t);
	else
		printf("  %-10s %llu\n", label, (unsigned long long)t);
}

int
verb_cert(struct app *a, int argc, char **argv)
{
	uint8_t buf[SC_CERT_MAX];
	struct sc_cert c;
	char fp[SC_FINGERPRINT_LEN], hex[65], host[4 * 255 + 1];
	size_t len = 0;
	bool verify;
	int r;

	if (argc < 3 || (strcmp(argv[1], "show") != 0 && strcmp(argv[1], "verify") != 0))
		goto usage;
	verify = strcmp(argv[1], "verify") == 0;
	{
		const struct verb_opt opts[] = {
			{ "--host", &a->host, NULL }, { NULL, NULL, NULL },
		};

		if (verb_opts(argc, argv, 3, opts) != 0)
			goto usage;
	}
	if ((r = read_cert(argv[2], buf, sizeof(buf), &len)) < 0) {
		fprintf(stderr, "sccrypt-term: %s: %s\n", argv[2], sc_err(r));
		return EXIT_LOCAL;
	}
	if ((r = sc_cert_parse(buf, len, &c)) < 0) {
		fprintf(stderr, "sccrypt-term: %s: not a VMM certificate: %s\n",
		    argv[2], sc_err(r));
		return verify ? EXIT_VERIFY : EXIT_LOCAL;
	}
	if ((r = app_load_keys(a, false)) != 0)
		return r;
	sc_sanitize(host, sizeof(host), c.host, strlen(c.host));
	printf("VMM certificate %s\n  host       %s\n", argv[2], host);
	sc_fingerprint(c.hv_pubkey, 32, fp);
	printf("  hv key     %s\n", fp);
	sc_hex_encode(c.pcr_digest, 32, hex, sizeof(hex));
	printf("  pcrs       %s\n", hex);
	print_time("issued", c.issued);
	print_time("expires", c.expires);
	sc_fingerprint(c.signer, 32, fp);
	printf("  signer     %s%s\n", fp, !a->pol.have_ks ? " (no key server pinned)" :
	    sc_memeq_ct(c.signer, a->pol.ks_pubkey, 32) == 0 ? " (pinned key server)" :
	    " (NOT the pinned key server)");
	if (!verify)
		return 0;
	if (!a->pol.have_ks) {
		fprintf(stderr, "sccrypt-term: no key server key pinned "
		    "(sccrypt-term keyserver pin KEY)\n");
		return EXIT_VERIFY;
	}
	r = sc_cert_verify(buf, len, a->pol.ks_pubkey, a->host, NULL,
	    (uint64_t)time(NULL), &c);
	if (r < 0) {
		printf("INVALID: %s\n", r == SC_ERR_EXPIRED ? "expired or not yet valid" :
		    r == SC_ERR_SIGNATURE ? "bad signature" :
		    r == SC_ERR_UNTRUSTED ? "signed by another key server" :
		    r == SC_ERR_MISMATCH ? "issued for another host" : sc_err(r));
		return EXIT_VERIFY;
	}
	printf("valid%s%s\n", a->host ? " for host " : " (host not checked: give --host)",
	    a->host ? a->host : "");
	return 0;
usage:
	fprintf(stderr, "usage: sccrypt-term cert show FILE | cert verify FILE "
	    "[--host HOST]\n");
	return EXIT_USAGE;
}

/* ---- keyserver ---- */

int
verb_keyserver(struct app *a, int argc, char **argv)
{
	char path[PATH_MAX], line[256], fp[SC_FINGERPRINT_LEN];
	uint8_t pk[32];
	int r;

	if (argc == 2 && strcmp(argv[1], "show") == 0) {
		if ((r = app_load_keys(a, false)) != 0)
			return r;
		if (!a->pol.have_ks) {
			fprintf(stderr, "sccrypt-term: no key server key pinned\n");
			return EXIT_LOCAL;
		}
		sc_fingerprint(a->pol.ks_pubkey, 32, fp);
		if (sc_pubkey_format(SC_KSKEY_PREFIX, a->pol.ks_pubkey, NULL, line,
		    sizeof(line)) < 0)
			return EXIT_LOCAL;
		printf("%s\n%s\n", line, fp);
		return 0;
	}
	if (argc != 3 || strcmp(argv[1], "pin") != 0) {
		fprintf(stderr, "usage: sccrypt-term keyserver pin KEY|FILE | "
		    "keyserver show\n");
		return EXIT_USAGE;
	}
	if (strncmp(argv[2], SC_KSKEY_PREFIX " ", strlen(SC_KSKEY_PREFIX) + 1) == 0)
		r = sc_pubkey_parse(SC_KSKEY_PREFIX, argv[2], pk);
	else
		r = sc_pubkey_read_file(SC_KSKEY_PREFIX, argv[2], pk);
	if (r < 0) {
		fprintf(stderr, "sccrypt-term: '%s' is not a key server key "
		    "(\"%s BASE64\" or a file holding one): %s\n", argv[2],
		    SC_KSKEY_PREFIX, sc_err(r));
		return EXIT_USAGE;
	}
	if ((r = open_store(a, true)) != 0)
		return r;
	if (path_in_store(a, "keyserver.pub", path, sizeof(path)) < 0)
		return EXIT_LOCAL;
	if ((r = sc_pubkey_write_file(SC_KSKEY_PREFIX, path, pk, "pinned")) < 0) {
		fprintf(stderr, "sccrypt-term: %s: %s\n", path, sc_err(r));
		return EXIT_LOCAL;
	}
	sc_fingerprint(pk, 32, fp);
	printf("pinned key server key %s in %s\n", fp, path);
	return 0;
}
