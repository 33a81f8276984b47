/*
 * sodium_cf_check.h — CET-IBT marks for the imported libsodium files.
 *
 * Xen compiles with -fcf-protection=branch -mmanual-endbr: only functions
 * declared cf_check begin with ENDBR64 and may be reached by an indirect
 * call.  The libsodium reference files (crypto/sodium-files) are compiled
 * unmodified, byte for byte as in the source package, and call a few of
 * their own functions through implementation tables.  This header is
 * force-included (-include, after sc_xen_prelude.h) into every one of them
 * and declares exactly those functions SC_CF_CHECK (Xen's cf_check) before
 * the file defines them; GCC keeps an attribute of an earlier declaration
 * on the definition.
 *
 * The build defines SC_SODIUM_<file> for each file (its base name, '-'
 * as '_': hv/xen/glue/Makefile.xen, tests/xen-lab/crypto-diff.sh), so that
 * a file sees only the declarations of functions it defines: the static
 * ones could not be declared anywhere else.  The prototypes are the
 * definitions' own (a mismatch does not compile).
 *
 * tests/xen-lab/ibt-check.sh proves the list complete and minimal: every
 * function whose address is taken begins with ENDBR64 and no other one
 * does, in the libsodium objects as in SCCrypt's.  A new sodium-files entry
 * with a dispatch table, or a libsodium upgrade that adds one, fails it
 * until its functions are listed here.
 */
#ifndef SC_SODIUM_CF_CHECK_H
#define SC_SODIUM_CF_CHECK_H

#include <stddef.h>
#include <stdint.h>

#ifndef SC_CF_CHECK
#define SC_CF_CHECK
#endif

/* crypto_scalarmult/curve25519/ref10/x25519_ref10.c:
 * crypto_scalarmult_curve25519_ref10_implementation */
#ifdef SC_SODIUM_x25519_ref10
static int crypto_scalarmult_curve25519_ref10(unsigned char *q,
    const unsigned char *n, const unsigned char *p) SC_CF_CHECK;
static int crypto_scalarmult_curve25519_ref10_base(unsigned char *q,
    const unsigned char *n) SC_CF_CHECK;
#endif

/* crypto_stream/chacha20/ref/chacha20_ref.c:
 * crypto_stream_chacha20_ref_implementation */
#ifdef SC_SODIUM_chacha20_ref
static int stream_ref(unsigned char *c, unsigned long long clen,
    const unsigned char *n, const unsigned char *k) SC_CF_CHECK;
static int stream_ietf_ext_ref(unsigned char *c, unsigned long long clen,
    const unsigned char *n, const unsigned char *k) SC_CF_CHECK;
static int stream_ref_xor_ic(unsigned char *c, const unsigned char *m,
    unsigned long long mlen, const unsigned char *n, uint64_t ic,
    const unsigned char *k) SC_CF_CHECK;
static int stream_ietf_ext_ref_xor_ic(unsigned char *c,
    const unsigned char *m, unsigned long long mlen, const unsigned char *n,
    uint32_t ic, const unsigned char *k) SC_CF_CHECK;
#endif

/* crypto_onetimeauth/poly1305/donna/poly1305_donna.c:
 * crypto_onetimeauth_poly1305_donna_implementation */
#ifdef SC_SODIUM_poly1305_donna
#include "crypto_onetimeauth_poly1305.h"
static int crypto_onetimeauth_poly1305_donna(unsigned char *out,
    const unsigned char *m, unsigned long long inlen,
    const unsigned char *key) SC_CF_CHECK;
static int crypto_onetimeauth_poly1305_donna_verify(const unsigned char *h,
    const unsigned char *in, unsigned long long inlen,
    const unsigned char *k) SC_CF_CHECK;
static int crypto_onetimeauth_poly1305_donna_init(
    crypto_onetimeauth_poly1305_state *state,
    const unsigned char *key) SC_CF_CHECK;
static int crypto_onetimeauth_poly1305_donna_update(
    crypto_onetimeauth_poly1305_state *state, const unsigned char *in,
    unsigned long long inlen) SC_CF_CHECK;
static int crypto_onetimeauth_poly1305_donna_final(
    crypto_onetimeauth_poly1305_state *state,
    unsigned char *out) SC_CF_CHECK;
#endif

/* crypto_generichash/blake2b/ref/blake2b-compress-ref.c: the value of
 * blake2b_compress, generichash_blake2b.c's pointer to the compression
 * function (blake2.h: typedef struct blake2b_state {...} blake2b_state;
 * the block is BLAKE2B_BLOCKBYTES = 128 bytes) */
#ifdef SC_SODIUM_blake2b_compress_ref
struct blake2b_state;
int blake2b_compress_ref(struct blake2b_state *S,
    const uint8_t block[128]) SC_CF_CHECK;
#endif

#endif /* SC_SODIUM_CF_CHECK_H */
