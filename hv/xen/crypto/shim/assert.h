/*
 * assert.h — freestanding stand-in.  libsodium's asserts in the compiled
 * files state argument-range invariants that the callers already check;
 * they stay checked here and end in the platform's fatal handler.
 */
#ifndef SC_XEN_SHIM_ASSERT_H
#define SC_XEN_SHIM_ASSERT_H

#ifndef SC_REF_FATAL_DECLARED
#define SC_REF_FATAL_DECLARED
void	sc_ref_fatal(const char *why) __attribute__((__noreturn__));
#endif
#define assert(e)	((e) ? (void)0 : sc_ref_fatal("assertion failed: " #e))

#endif
