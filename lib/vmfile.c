/*
 * vmfile.c — a VM's credentials on the tenant's side: UUID, VM secret,
 * optional disk key and name, stored as a key file of kind SC_KEY_KIND_VM.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/buf.h"
#include "keyfile.h"
#include "secmem.h"
#include "vmfile.h"

static int
sc_vm_name_ok(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > SC_VM_NAME_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return 0;
	return 1;
}

int
sc_vmfile_encode(const struct sc_vmfile *vm, uint8_t *out, size_t outsz,
    size_t *outlen)
{
	struct sc_buf b;
	size_t nlen;

	if (vm == NULL || out == NULL || outlen == NULL)
		return SC_ERR_INVAL;
	nlen = strnlen(vm->name, sizeof(vm->name));
	/* disk_key_len 0: a user's VM file (sessions only, cannot bind). */
	if (vm->disk_key_len > SC_DISK_KEY_MAX ||
	    nlen >= sizeof(vm->name) || !sc_vm_name_ok(vm->name, nlen))
		return SC_ERR_INVAL;
	sc_buf_init(&b, out, outsz);
	if (sc_buf_put_bytes(&b, vm->uuid, sizeof(vm->uuid)) < 0 ||
	    sc_buf_put_bytes(&b, vm->secret, sizeof(vm->secret)) < 0 ||
	    sc_buf_put_str8(&b, vm->disk_key, vm->disk_key_len) < 0 ||
	    sc_buf_put_str8(&b, vm->name, nlen) < 0) {
		sc_memzero(out, outsz);
		return SC_ERR_NOSPACE;
	}
	*outlen = b.len;
	return 0;
}

int
sc_vmfile_decode(const uint8_t *in, size_t len, struct sc_vmfile *vm)
{
	struct sc_buf b;
	const uint8_t *dk, *name;
	size_t dklen, nlen;

	if (in == NULL || vm == NULL)
		return SC_ERR_INVAL;
	sc_buf_init_ro(&b, in, len);
	if (sc_buf_get_bytes(&b, vm->uuid, sizeof(vm->uuid)) < 0 ||
	    sc_buf_get_bytes(&b, vm->secret, sizeof(vm->secret)) < 0 ||
	    sc_buf_get_str8(&b, &dk, &dklen, SC_DISK_KEY_MAX) < 0 ||
	    sc_buf_get_str8(&b, &name, &nlen, SC_VM_NAME_MAX) < 0 ||
	    sc_buf_expect_end(&b) < 0 ||
	    !sc_vm_name_ok((const char *)name, nlen)) {
		sc_memzero(vm, sizeof(*vm));
		return SC_ERR_FORMAT;
	}
	memcpy(vm->disk_key, dk, dklen);
	vm->disk_key_len = dklen;
	memcpy(vm->name, name, nlen);
	vm->name[nlen] = '\0';
	return 0;
}

#define VMFILE_MAX	(16 + SC_VM_SECRET_LEN + 1 + SC_DISK_KEY_MAX + 1 + SC_VM_NAME_MAX)

int
sc_vmfile_write(const char *path, const struct sc_vmfile *vm,
    const char *passphrase, const char *comment)
{
	uint8_t *buf;
	size_t len = 0;
	int r;

	if ((buf = sc_secure_alloc(VMFILE_MAX)) == NULL)
		return SC_ERR_ALLOC;
	if ((r = sc_vmfile_encode(vm, buf, VMFILE_MAX, &len)) == 0)
		r = sc_keyfile_write(path, SC_KEY_KIND_VM, buf, len, passphrase,
		    comment);
	sc_secure_free(buf);
	return r;
}

int
sc_vmfile_read(const char *path, const char *passphrase, struct sc_vmfile **vmp)
{
	struct sc_vmfile *vm = NULL;
	uint8_t *secret = NULL;
	size_t len = 0;
	int r;

	if (vmp == NULL)
		return SC_ERR_INVAL;
	*vmp = NULL;
	if ((r = sc_keyfile_read(path, SC_KEY_KIND_VM, passphrase, &secret, &len)) < 0)
		return r;
	if ((vm = sc_secure_alloc(sizeof(*vm))) == NULL) {
		r = SC_ERR_ALLOC;
		goto out;
	}
	memset(vm, 0, sizeof(*vm));
	if ((r = sc_vmfile_decode(secret, len, vm)) < 0)
		goto out;
	*vmp = vm;
	vm = NULL;
 out:
	sc_secure_free(vm);
	sc_secure_free(secret);
	return r;
}
