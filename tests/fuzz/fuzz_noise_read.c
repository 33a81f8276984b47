/*
 * fuzz_noise_read.c — libFuzzer harness for everything in lib/core/noise.c
 * that consumes bytes from a peer.  Each input is tried as:
 *   1. handshake message 1, read by the responder (hv) with fixed keys/psk;
 *   2. handshake message 2, read by the initiator after it wrote message 1
 *      with a fixed ephemeral;
 *   3. a transport message decrypted by both sides of a completed handshake.
 * When a message is accepted the handshake is carried on to Split, so the
 * rest of the state machine runs too.  All keys are fixed, so the seed
 * corpus (tests/fuzz/corpus/fuzz_noise_read/) holds real messages.
 *
 * Regenerate the seeds (needs no libFuzzer):
 *   cc -DFUZZ_NOISE_GEN_SEEDS -Ilib tests/fuzz/fuzz_noise_read.c \
 *       lib/libsccrypt.a -lsodium -o gen && ./gen tests/fuzz/corpus/fuzz_noise_read
 * (lib/libsccrypt.a from a build directory).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "core/err.h"
#include "core/buf.h"
#include "core/crypto.h"
#include "core/noise.h"
#include "core/wire.h"

#define PROLOGUE_LEN	(SC_PROTOCOL_ID_LEN + SC_UUID_LEN + SC_KEY_LEN)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct sc_crypto *cp;
static const struct sc_noise_pattern *pat;
static uint8_t client_sk[32], client_pk[32], hv_sk[32], hv_pk[32];
static uint8_t psk[32], e_init[32], e_resp[32];
static uint8_t prologue[PROLOGUE_LEN];
static uint8_t hs1[SC_HS1_PAYLOAD_LEN] = { 1, 0, 0, 0, 0x10, 0 };
static uint8_t hs2[SC_HS2_PAYLOAD_LEN] = { 1, 1, 0, 0, 0x10, 0 };

/* The responder before message 1, the initiator after writing it, and the
 * transports of a full run: copied for each input. */
static struct sc_noise_handshake resp_fresh;
static struct sc_noise_handshake ini_after_msg1;
static struct sc_noise_transport t_ini, t_resp;
static uint8_t msg1[SC_HS1_MSG_LEN], msg2[SC_HS2_MSG_LEN];

static void die(const char *) __attribute__((noreturn));

static void
die(const char *what)
{
	fprintf(stderr, "fuzz_noise_read: setup failed: %s\n", what);
	abort();
}

static void
setup(void)
{
	struct sc_noise_handshake ini, resp;
	uint8_t pl[64];
	struct sc_buf b;

	if (cp != NULL)
		return;
	if (sodium_init() < 0)
		die("sodium_init");
	cp = sc_crypto_sodium();
	if ((pat = sc_noise_pattern_lookup(SC_NOISE_PROTOCOL)) == NULL)
		die("lookup");
	memset(client_sk, 0x11, 32);
	memset(hv_sk, 0x22, 32);
	memset(psk, 0x33, 32);
	memset(e_init, 0x44, 32);
	memset(e_resp, 0x55, 32);
	if (cp->x25519_base(client_pk, client_sk) != 0 ||
	    cp->x25519_base(hv_pk, hv_sk) != 0)
		die("keys");
	memcpy(prologue, SC_PROTOCOL_ID, SC_PROTOCOL_ID_LEN);
	memset(prologue + SC_PROTOCOL_ID_LEN, 0x66, SC_UUID_LEN);
	memcpy(prologue + SC_PROTOCOL_ID_LEN + SC_UUID_LEN, hv_pk, 32);

	if (sc_noise_hs_init(&ini, cp, pat, true, prologue, PROLOGUE_LEN,
	    client_sk, hv_pk, psk, 1) != 0 ||
	    sc_noise_hs_set_fixed_ephemeral(&ini, e_init) != 0 ||
	    sc_noise_hs_init(&resp, cp, pat, false, prologue, PROLOGUE_LEN,
	    hv_sk, NULL, psk, 1) != 0 ||
	    sc_noise_hs_set_fixed_ephemeral(&resp, e_resp) != 0)
		die("init");
	resp_fresh = resp;
	sc_buf_init(&b, msg1, sizeof(msg1));
	if (sc_noise_hs_write(&ini, hs1, sizeof(hs1), &b) != 0 || b.len != sizeof(msg1))
		die("msg1");
	ini_after_msg1 = ini;
	sc_buf_init(&b, pl, sizeof(pl));
	if (sc_noise_hs_read(&resp, msg1, sizeof(msg1), &b) != 0)
		die("read msg1");
	sc_buf_init(&b, msg2, sizeof(msg2));
	if (sc_noise_hs_write(&resp, hs2, sizeof(hs2), &b) != 0 || b.len != sizeof(msg2))
		die("msg2");
	sc_buf_init(&b, pl, sizeof(pl));
	if (sc_noise_hs_read(&ini, msg2, sizeof(msg2), &b) != 0 ||
	    sc_noise_hs_split(&ini, &t_ini) != 0 ||
	    sc_noise_hs_split(&resp, &t_resp) != 0)
		die("finish");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[SC_NOISE_MSG_MAX + 64];
	struct sc_noise_handshake hs;
	struct sc_noise_transport t;
	struct sc_buf b;

	setup();

	/* 1. As message 1, at the responder. */
	hs = resp_fresh;
	sc_buf_init(&b, out, sizeof(out));
	if (sc_noise_hs_read(&hs, data, size, &b) == 0) {
		if (b.len != size - (SC_HS1_MSG_LEN - SC_HS1_PAYLOAD_LEN) ||
		    !sc_noise_hs_my_turn(&hs))
			abort();
		sc_buf_init(&b, out, sizeof(out));
		if (sc_noise_hs_write(&hs, hs2, sizeof(hs2), &b) != 0 ||
		    sc_noise_hs_split(&hs, &t) != 0)
			abort();
		sc_noise_transport_wipe(&t);
	} else if (!hs.failed || b.len != 0) {
		abort();	/* a rejected message must poison and append nothing */
	}
	sc_noise_hs_wipe(&hs);

	/* 2. As message 2, at the initiator. */
	hs = ini_after_msg1;
	sc_buf_init(&b, out, sizeof(out));
	if (sc_noise_hs_read(&hs, data, size, &b) == 0) {
		if (!sc_noise_hs_complete(&hs) || sc_noise_hs_split(&hs, &t) != 0)
			abort();
		sc_noise_transport_wipe(&t);
	} else if (!hs.failed || b.len != 0) {
		abort();
	}
	sc_noise_hs_wipe(&hs);

	/* 3. As a transport message, in each direction. */
	t = t_resp;
	sc_buf_init(&b, out, sizeof(out));
	if (sc_noise_decrypt(&t, data, size, &b) == 0) {
		if (t.recv.n != 1 || b.len + SC_NOISE_TAGLEN != size)
			abort();
	} else if (t.recv.n != 0 || b.len != 0) {
		abort();	/* a failed decrypt must not advance n */
	}
	t = t_ini;
	sc_buf_init(&b, out, sizeof(out));
	if (sc_noise_decrypt(&t, data, size, &b) != 0 && (t.recv.n != 0 || b.len != 0))
		abort();
	sc_noise_transport_wipe(&t);
	return 0;
}

#ifdef FUZZ_NOISE_GEN_SEEDS
static void
put(const char *dir, const char *name, const uint8_t *p, size_t n)
{
	char path[4096];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((fp = fopen(path, "wb")) == NULL || fwrite(p, 1, n, fp) != n ||
	    fclose(fp) != 0)
		die(path);
}

int
main(int argc, char **argv)
{
	uint8_t ct[256];
	struct sc_noise_transport t;
	struct sc_buf b;
	static const char *rec[] = { "\x01hello", "\x04", "\x0b" };
	char name[32];
	size_t i;

	if (argc != 2)
		return 2;
	setup();
	put(argv[1], "msg1", msg1, sizeof(msg1));
	put(argv[1], "msg2", msg2, sizeof(msg2));
	for (i = 0; i < sizeof(rec) / sizeof(rec[0]); i++) {
		/* First record of each direction (n = 0). */
		t = t_ini;
		sc_buf_init(&b, ct, sizeof(ct));
		if (sc_noise_encrypt(&t, (const uint8_t *)rec[i], strlen(rec[i]), &b) != 0)
			die("encrypt");
		snprintf(name, sizeof(name), "rec_c2s_%zu", i);
		put(argv[1], name, ct, b.len);
		t = t_resp;
		sc_buf_init(&b, ct, sizeof(ct));
		if (sc_noise_encrypt(&t, (const uint8_t *)rec[i], strlen(rec[i]), &b) != 0)
			die("encrypt");
		snprintf(name, sizeof(name), "rec_s2c_%zu", i);
		put(argv[1], name, ct, b.len);
	}
	return 0;
}
#endif
