/*
 * verbs_vm.c — sccrypt-term's vm verbs: init, import, export, show,
 * protect, acl (see sccrypt-term(1)).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <sodium.h>

#include "app.h"
#include "core/blob.h"
#include "core/owner.h"
#include "core/crypto.h"
#include "core/err.h"
#include "encode.h"
#include "io.h"
#include "keyfile.h"
#include "log.h"
#include "pubkey.h"
#include "readpass.h"
#include "secmem.h"
#include "verbs.h"
#include "verbs_int.h"
#include "vmfile.h"
#ifdef SC_TERM_OWNER_TOKENS
#include "ks/ks_ownercli.h"
#define OWNER_FETCH_TIMEOUT_MS	15000
#endif

extern char **environ;

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
		sc_memzero(data, n);
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
		sc_report("%s: %s", path, strerror(errno));
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
		sc_report("%s exists; use --force to replace it",
		    path);
		return EXIT_LOCAL;
	}
	if ((vm = sc_secure_alloc(sizeof(*vm))) == NULL)
		return EXIT_LOCAL;
	memset(vm, 0, sizeof(*vm));
	if (sc_uuid_parse(uuid, vm->uuid) < 0) {
		sc_report("bad UUID '%s'", uuid);
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
		sc_report("invalid VM name '%s'", name);
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
			sc_report("%s: %s", keyfile, r < 0 ?
			    sc_err(r) : "a disk key must be 1..128 bytes (raw)");
			if (data != NULL) {
				sc_memzero(data, n);
				free(data);
			}
			goto out;
		}
		memcpy(vm->disk_key, data, n);
		vm->disk_key_len = n;
		sc_memzero(data, n);
		free(data);
	} else {
		if ((r = luks_volume_key(luks, vm->disk_key, SC_DISK_KEY_MAX,
		    &vm->disk_key_len)) < 0) {
			sc_report_r(r, "cannot read the volume key "
			    "of %s", luks);
			goto out;
		}
	}
	if (new_passphrase(nopass, &pass) != 0)
		goto out;
	if ((r = sc_vmfile_write(path, vm, pass, name)) < 0) {
		sc_report_r(r, "%s", path);
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
			sc_report("%s: %s", kp, strerror(errno));
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
	sc_memzero(hex, sizeof(hex));
out:
	sc_memzero(data, n);
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
		sc_report("invalid VM name '%s'", name);
		return EXIT_USAGE;
	}
	if ((r = vm_path(a, name, path, sizeof(path))) != 0 ||
	    (r = vm_new(path, uuid, force, &vm)) != 0)
		return r;
	if ((r = read_secret_file(sfile, vm->secret)) < 0) {
		sc_report("%s: %s (want the VM secret as 64 "
		    "hex digits, from the owner's 'sccrypt-term vm export')",
		    sfile, sc_err(r));
		goto out;
	}
	snprintf(vm->name, sizeof(vm->name), "%s", name);
	vm->disk_key_len = 0;		/* a user's file: sessions only */
	if (new_passphrase(nopass, &pass) != 0)
		goto out;
	if ((r = sc_vmfile_write(path, vm, pass, name)) < 0) {
		sc_report_r(r, "%s", path);
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
		sc_report("%s: %s", out, strerror(errno));
		goto done;
	}
	sc_hex_encode(a->vm->secret, SC_VM_SECRET_LEN, hex, sizeof(hex) - 1);
	strcat(hex, "\n");
	r = sc_write_all(fd, hex, strlen(hex));
	sc_memzero(hex, sizeof(hex));
	if (close(fd) != 0 || r < 0) {
		sc_report("%s: write failed", out);
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
	const uint8_t	*token;		/* NULL: none (core/owner.h) */
};

static int
protect_build(void *ctx, const struct sc_hello *h, struct sc_buf *out)
{
	struct protect_ctx *p = ctx;

	return sc_protect_seal(sc_crypto_sodium(), p->reg, h->hv_pubkey, p->token, out);
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
	sc_memzero(expect, sizeof(expect));
	if (r == 0 && status == SC_ERR_EXPIRED)
		sc_report("the hypervisor holds a newer binding "
		    "of this VM (made later, or by a machine whose clock is "
		    "ahead of this one's): check this machine's clock");
	if (r == 0 && status == SC_ERR_UNTRUSTED)
		sc_report(p->token == NULL ?
		    "this hypervisor binds a VM only with an ownership token "
		    "from the key server's owner CA: ask its operator for one "
		    "(sccrypt-keyserver --issue-owner-token) and pass it with "
		    "--owner-token" :
		    "the hypervisor did not accept this ownership token: it was "
		    "not issued by the owner CA the hypervisor trusts, or for "
		    "another VM or other keys (the token covers this VM's UUID "
		    "and every key given with --acl)");
	return r;
}

static int
vm_protect(struct app *a, int argc, char **argv)
{
	struct sc_registration *reg = NULL;
	struct protect_ctx pc;
	struct sess_config extra;
	uint8_t token[SC_OWNER_TOKEN_LEN];
	bool have_token = false;
	const char *keyserver = NULL;
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
				sc_report("at most %d keys", SC_ACL_MAX);
				goto out;
			}
			if (app_parse_pubkey_arg(argv[++i],
			    reg->acl[1 + reg->acl_count].pubkey) < 0) {
				sc_report("'%s' is not a public key",
				    argv[i]);
				code = EXIT_USAGE;
				goto out;
			}
			reg->acl_count++;
		} else if (strcmp(argv[i], "--history-size") == 0 && i + 1 < argc) {
			unsigned long hs;

			if (sc_parse_ulong(argv[++i], 10, 0, UINT32_MAX, &hs) != 0) {
				sc_report("--history-size: "
				    "'%s' is not a number 0..%lu", argv[i],
				    (unsigned long)UINT32_MAX);
				code = EXIT_USAGE;
				goto out;
			}
			history_size = (uint32_t)hs;
		} else if (strcmp(argv[i], "--owner-token") == 0 && i + 1 < argc) {
			if (sc_hex_decode(argv[++i], token, sizeof(token)) != 0) {
				sc_report("--owner-token: %d hex digits expected "
				    "(the key server's ownership token)",
				    2 * SC_OWNER_TOKEN_LEN);
				code = EXIT_USAGE;
				goto out;
			}
			have_token = true;
		} else if (strcmp(argv[i], "--keyserver") == 0 && i + 1 < argc) {
			keyserver = argv[++i];
		} else
			break;
	}
	if (keyserver != NULL && have_token) {
		sc_report("--keyserver and --owner-token: give one of them");
		code = EXIT_USAGE;
		goto out;
	}
#ifndef SC_TERM_OWNER_TOKENS
	if (keyserver != NULL) {
		sc_report("--keyserver: this sccrypt-term was built without the "
		    "key server client (jansson); use --owner-token");
		code = EXIT_USAGE;
		goto out;
	}
#endif
	if (verb_transport(a, argc, argv, i, true, remote,
	    sizeof(remote)) != 0)
		goto usage_free;
	/* The user's secret key keys the proof to the key server. */
	if ((r = app_load_keys(a, keyserver != NULL)) != 0) {
		code = r;
		goto out;
	}
	if (a->vm->disk_key_len == 0) {
		sc_report("the VM file of %s has no disk key "
		    "(it was made with 'vm import' for a user): only the VM's "
		    "owner, whose VM file holds the disk key ('vm init'), can "
		    "bind the VM", a->vmname);
		goto out;
	}
	if (a->vm->disk_key_len > SC_DISK_KEY_MAX) {
		sc_report("the VM file has no usable disk key "
		    "(1..%d bytes)", SC_DISK_KEY_MAX);
		goto out;
	}
	/* ACL: the owner (this user) first, then --acl keys. */
	if (a->user_key_path != NULL)
		snprintf(path, sizeof(path), "%s.pub", a->user_key_path);
	else
		snprintf(path, sizeof(path), "%s/id_x25519.pub", a->keystore);
	if ((r = sc_pubkey_read_file(SC_PUBKEY_PREFIX, path,
	    reg->acl[0].pubkey)) < 0) {
		sc_report("%s: %s (run 'sccrypt-term keygen')",
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

#ifdef SC_TERM_OWNER_TOKENS
	if (keyserver != NULL) {
		struct at_url url;
		char msg[KS_OWNER_MSG_MAX];

		if (at_url_parse(keyserver, &url) < 0) {
			sc_report("--keyserver: '%s' is not http://HOST[:PORT]",
			    keyserver);
			code = EXIT_USAGE;
			goto out;
		}
		/* The proof is keyed with this user's key, the ACL's owner. */
		if ((r = ks_owner_token_fetch(&url, a->user_sk, reg->uuid,
		    reg->acl, reg->acl_count, OWNER_FETCH_TIMEOUT_MS, token,
		    msg)) < 0) {
			sc_report("no ownership token from the key server %s: %s%s",
			    keyserver, msg, r == SC_ERR_UNTRUSTED ? " (is this VM "
			    "registered to your key? ask the cloud's operator)" : "");
			goto out;
		}
		have_token = true;
	}
#endif
	pc.reg = reg;
	pc.token = have_token ? token : NULL;
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
	    "[--acl KEY]... [--history-size N] [--owner-token HEX | "
	    "--keyserver URL] "
	    "(DEST | -- COMMAND...)\n");
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
			sc_report("need a public key "
			    "(sccrypt-x25519 BASE64, or a .pub file)");
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
	static const struct verb sub[] = {
		{ "init",	vm_init },
		{ "import",	vm_import },
		{ "export",	vm_export },
		{ "show",	vm_show },
		{ "protect",	vm_protect },
		{ "acl",	vm_acl },
	};
	size_t i;

	for (i = 0; argc >= 2 && i < sizeof(sub) / sizeof(sub[0]); i++)
		if (strcmp(argv[1], sub[i].name) == 0)
			return sub[i].fn(a, argc, argv);
	fprintf(stderr, "usage: sccrypt-term vm init|import|export|show|protect|acl ...\n");
	return EXIT_USAGE;
}
