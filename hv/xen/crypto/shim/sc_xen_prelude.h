/*
 * sc_xen_prelude.h — force-included (after Xen's xen/config.h) into the
 * libsodium files and the provider when they are built inside Xen.  Xen's
 * <xen/compiler.h> defines a few plain words as macros that libsodium's
 * headers use in their ordinary meaning; they are undone here, for these
 * files only.
 */
#undef noreturn
#undef noinline
