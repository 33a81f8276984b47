/*
 * sccrypt-fpu-probe: does this (virtual) machine keep each process's SIMD
 * registers?  A lab diagnostic, not part of SCCrypt.
 *
 * Usage: sccrypt-fpu-probe SECONDS NPROCS
 *
 * Forks NPROCS children.  Each child, until SECONDS have passed, loads its
 * own pattern (child number, round) into xmm0-15 (ymm0-15 when the CPU and
 * the kernel have AVX), spins inside one asm block long enough to be
 * preempted by dom0's scheduler and by Xen's, then runs ONE instruction X
 * on the registers (the first SIMD instruction after the spin: under a lazy
 * FPU switch it is the one that must raise #NM so that the hypervisor
 * restores this context) and stores all registers.  The compiler never
 * sees the registers between the load and the store, so any difference
 * from what X must give is the machine's: the kernel, the hypervisor or
 * the emulator lost a context, mixed two up, or ran X on another's
 * registers.  X cycles through SSE, AVX and AVX2 instructions (those glibc's
 * string functions use).
 *
 * Prints "fpu-probe: child N rounds R bad B" per child and, for the first bad
 * round of each, X, the register and word, expected and found.  Exit status:
 * 0 every round matched, 1 some did not, 2 usage or system error.
 */
#define _GNU_SOURCE
#include <cpuid.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NREG	16
#define NW	4		/* 64-bit words per ymm register */
#define SPIN	200000UL	/* loop iterations inside the asm block */

typedef uint64_t regs_t[NREG][NW];

#define LOAD_X(ld, r) \
	ld "   0(%[i]), %%" r "0\n\t"  ld "  32(%[i]), %%" r "1\n\t" \
	ld "  64(%[i]), %%" r "2\n\t"  ld "  96(%[i]), %%" r "3\n\t" \
	ld " 128(%[i]), %%" r "4\n\t"  ld " 160(%[i]), %%" r "5\n\t" \
	ld " 192(%[i]), %%" r "6\n\t"  ld " 224(%[i]), %%" r "7\n\t" \
	ld " 256(%[i]), %%" r "8\n\t"  ld " 288(%[i]), %%" r "9\n\t" \
	ld " 320(%[i]), %%" r "10\n\t" ld " 352(%[i]), %%" r "11\n\t" \
	ld " 384(%[i]), %%" r "12\n\t" ld " 416(%[i]), %%" r "13\n\t" \
	ld " 448(%[i]), %%" r "14\n\t" ld " 480(%[i]), %%" r "15\n\t"
#define STORE_X(st, r) \
	st " %%" r "0,    0(%[o])\n\t" st " %%" r "1,   32(%[o])\n\t" \
	st " %%" r "2,   64(%[o])\n\t" st " %%" r "3,   96(%[o])\n\t" \
	st " %%" r "4,  128(%[o])\n\t" st " %%" r "5,  160(%[o])\n\t" \
	st " %%" r "6,  192(%[o])\n\t" st " %%" r "7,  224(%[o])\n\t" \
	st " %%" r "8,  256(%[o])\n\t" st " %%" r "9,  288(%[o])\n\t" \
	st " %%" r "10, 320(%[o])\n\t" st " %%" r "11, 352(%[o])\n\t" \
	st " %%" r "12, 384(%[o])\n\t" st " %%" r "13, 416(%[o])\n\t" \
	st " %%" r "14, 448(%[o])\n\t" st " %%" r "15, 480(%[o])\n\t"
#define CLOBBERS "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", \
	"xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", \
	"xmm14", "xmm15"

/* One function per X: registers <- in, spin, X, out <- registers. */
#define ROUND_SSE(name, x)						\
static void								\
name(regs_t in, regs_t out)						\
{									\
	unsigned long n = SPIN;						\
									\
	__asm__ volatile(LOAD_X("movdqu", "xmm") "1: dec %[n]\n\t"	\
	    "jnz 1b\n\t" x "\n\t" STORE_X("movdqu", "xmm")		\
	    : [n] "+r"(n) : [i] "r"(in), [o] "r"(out) : CLOBBERS);	\
}
#define ROUND_AVX(name, x)						\
static void								\
name(regs_t in, regs_t out)						\
{									\
	unsigned long n = SPIN;						\
									\
	__asm__ volatile(LOAD_X("vmovdqu", "ymm") "1: dec %[n]\n\t"	\
	    "jnz 1b\n\t" x "\n\t" STORE_X("vmovdqu", "ymm") "vzeroupper\n\t"\
	    : [n] "+r"(n) : [i] "r"(in), [o] "r"(out) : CLOBBERS);	\
}

ROUND_SSE(sse_store, "")
ROUND_SSE(sse_pxor, "pxor %%xmm1, %%xmm0")
ROUND_SSE(sse_pshufd, "pshufd $0x1b, %%xmm1, %%xmm0")
ROUND_AVX(avx_store, "")
ROUND_AVX(avx_vpxor, "vpxor %%ymm1, %%ymm0, %%ymm0")
ROUND_AVX(avx_vpermq, "vpermq $0x1b, %%ymm1, %%ymm0")
ROUND_AVX(avx_vpbroadcastq, "vpbroadcastq %%xmm1, %%ymm0")
ROUND_AVX(avx_vpcmpeqb, "vpcmpeqb %%ymm1, %%ymm1, %%ymm0")
ROUND_AVX(avx_vpaddq, "vpaddq %%ymm1, %%ymm0, %%ymm0")
ROUND_AVX(avx_pxor_legacy, "pxor %%xmm1, %%xmm0")

enum { SSE = 1, AVX = 2, AVX2 = 4 };

struct probe_x {
	const char	*name;
	int		 needs;
	void		(*run)(regs_t, regs_t);
	void		(*expect)(regs_t);	/* in -> what X leaves */
};

static void e_none(regs_t r) { (void)r; }
static void e_pxor128(regs_t r) { r[0][0] ^= r[1][0]; r[0][1] ^= r[1][1]; }
static void
e_pshufd(regs_t r)	/* dwords of xmm1 reversed into xmm0 */
{
	uint64_t lo = r[1][0], hi = r[1][1];

	r[0][0] = (hi >> 32) | (hi << 32);
	r[0][1] = (lo >> 32) | (lo << 32);
}
static void e_vpxor(regs_t r) { int w; for (w = 0; w < NW; w++) r[0][w] ^= r[1][w]; }
static void
e_vpermq(regs_t r)	/* qwords of ymm1 reversed into ymm0 */
{
	int w;

	for (w = 0; w < NW; w++)
		r[0][w] = r[1][NW - 1 - w];
}
static void e_bcast(regs_t r) { int w; for (w = 0; w < NW; w++) r[0][w] = r[1][0]; }
static void e_ones(regs_t r) { int w; for (w = 0; w < NW; w++) r[0][w] = ~(uint64_t)0; }
static void e_vpaddq(regs_t r) { int w; for (w = 0; w < NW; w++) r[0][w] += r[1][w]; }

static const struct probe_x probes[] = {
	{ "movdqu (store only)",	SSE,	sse_store,	e_none },
	{ "pxor",			SSE,	sse_pxor,	e_pxor128 },
	{ "pshufd",			SSE,	sse_pshufd,	e_pshufd },
	{ "vmovdqu (store only)",	AVX,	avx_store,	e_none },
	{ "vpxor",			AVX,	avx_vpxor,	e_vpxor },
	{ "pxor (ymm state)",		AVX,	avx_pxor_legacy, e_pxor128 },
	{ "vpermq",			AVX2,	avx_vpermq,	e_vpermq },
	{ "vpbroadcastq",		AVX2,	avx_vpbroadcastq, e_bcast },
	{ "vpcmpeqb",			AVX2,	avx_vpcmpeqb,	e_ones },
	{ "vpaddq",			AVX2,	avx_vpaddq,	e_vpaddq },
};
#define NPROBES	(sizeof(probes) / sizeof(probes[0]))

static int
cpu_features(void)
{
	unsigned int a, b, c, d, lo, hi;
	int f = SSE;

	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_AVX) || !(c & bit_OSXSAVE))
		return f;
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	if ((lo & 6) != 6)
		return f;
	f |= AVX;
	if (__get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & bit_AVX2))
		f |= AVX2;
	return f;
}

static void
fill(regs_t v, unsigned child, unsigned long round)
{
	int r, w;

	for (r = 0; r < NREG; r++)
		for (w = 0; w < NW; w++)
			v[r][w] = ((uint64_t)(child + 1) << 56) ^ ((uint64_t)round << 16) ^
			    (0x9e3779b97f4a7c15ULL * (uint64_t)(r * NW + w + 1));
}

static int
child(unsigned id, time_t end, int feat)
{
	regs_t in, want, out;
	unsigned long round = 0, bad = 0;
	const struct probe_x *x;
	int r, w, nw;

	while (time(NULL) < end) {
		x = &probes[round++ % NPROBES];
		if ((x->needs & feat) != x->needs)
			continue;
		nw = (x->needs & SSE) ? 2 : NW;
		fill(in, id, round);
		memcpy(want, in, sizeof(want));
		x->expect(want);
		memset(out, 0, sizeof(out));
		x->run(in, out);
		for (r = 0; r < NREG; r++)
			for (w = 0; w < nw; w++)
				if (out[r][w] != want[r][w])
					goto bad;
		continue;
bad:
		if (bad++ < 3)
			printf("fpu-probe: child %u round %lu X=%s: %s%d word %d: "
			    "expected %016llx got %016llx\n", id, round, x->name,
			    nw == 2 ? "xmm" : "ymm", r, w,
			    (unsigned long long)want[r][w], (unsigned long long)out[r][w]);
	}
	printf("fpu-probe: child %u rounds %lu bad %lu\n", id, round, bad);
	fflush(stdout);
	return bad != 0;
}

int
main(int argc, char **argv)
{
	long secs, nprocs, i;
	time_t end;
	int feat, status, bad = 0;
	pid_t pid;

	if (argc != 3 || (secs = atol(argv[1])) <= 0 || (nprocs = atol(argv[2])) <= 0 ||
	    nprocs > 64) {
		fprintf(stderr, "usage: sccrypt-fpu-probe SECONDS NPROCS (1..64)\n");
		return 2;
	}
	feat = cpu_features();
	printf("fpu-probe: %ld children for %ld s, %s\n", nprocs, secs,
	    (feat & AVX2) ? "SSE, AVX, AVX2" : (feat & AVX) ? "SSE, AVX" : "SSE only");
	fflush(stdout);
	end = time(NULL) + secs;
	for (i = 0; i < nprocs; i++) {
		if ((pid = fork()) < 0) {
			perror("fork");
			return 2;
		}
		if (pid == 0)
			_exit(child((unsigned)i, end, feat));
	}
	while ((pid = wait(&status)) > 0 || errno == EINTR)
		if (pid > 0 && (!WIFEXITED(status) || WEXITSTATUS(status) != 0))
			bad = 1;
	printf("fpu-probe: %s\n", bad ? "SIMD state was lost or mixed up" :
	    "every round matched");
	return bad;
}
