/*
 * test_noise_hv.c — the hypervisor's Noise build (lib/core/noise.c with
 * SC_NOISE_IKPSK2_ONLY, hv/libsccrypt-hvnoise.a, what sccrypt-hvsim and the
 * Xen core link): Noise_IKpsk2 and nothing else.  The full pattern table
 * (tests/unit/test_noise.c, tests/noise-vectors.sh) stays in libsccrypt.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "core/noise.h"

#define SUFFIX	"_25519_ChaChaPoly_BLAKE2b"

static void
test_only_ikpsk2(void **state)
{
	static const char *const refused[] = {
		"Noise_IK" SUFFIX,		/* same base, no psk */
		"Noise_IKpsk1" SUFFIX,		/* same base, other psk */
		"Noise_IKpsk0+psk2" SUFFIX,
		"Noise_IKpsk1+psk2" SUFFIX,
		"Noise_XX" SUFFIX,
		"Noise_NN" SUFFIX,
		"Noise_NK" SUFFIX,
		"Noise_XXpsk3" SUFFIX,
		"Noise_KK" SUFFIX,
		"Noise_X1K1" SUFFIX,
		"Noise_IKpsk2_25519_AESGCM_SHA256",
	};
	const struct sc_noise_pattern *p;
	size_t i;

	(void)state;
	p = sc_noise_pattern_lookup("Noise_IKpsk2" SUFFIX);
	assert_non_null(p);
	assert_int_equal(sc_noise_pattern_psks(p), 1);
	assert_int_equal(sc_noise_pattern_needs(p),
	    SC_NOISE_NEED_INIT_S | SC_NOISE_NEED_RESP_S | SC_NOISE_NEED_INIT_RS);
	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		p = sc_noise_pattern_lookup(refused[i]);
		if (p != NULL)
			fail_msg("hv build accepts %s", refused[i]);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_only_ikpsk2),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
