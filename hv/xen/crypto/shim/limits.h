/* limits.h — freestanding stand-in: the compiler's own <limits.h> values. */
#ifndef SC_XEN_SHIM_LIMITS_H
#define SC_XEN_SHIM_LIMITS_H

#define CHAR_BIT	__CHAR_BIT__
#define SCHAR_MAX	__SCHAR_MAX__
#define UCHAR_MAX	(SCHAR_MAX * 2 + 1)
#define INT_MAX		__INT_MAX__
#define UINT_MAX	(INT_MAX * 2U + 1U)
#define LONG_MAX	__LONG_MAX__
#define ULONG_MAX	(LONG_MAX * 2UL + 1UL)
#define LLONG_MAX	__LONG_LONG_MAX__
#define ULLONG_MAX	(LLONG_MAX * 2ULL + 1ULL)

#endif
