/* Runtime CPU dispatch.  Nothing in this file, nor in any file built without ISA flags,
 * executes an instruction beyond the target's baseline: AVX2 and AVX-512 code lives only
 * in kernels_avx2.c and kernels_avx512.c and is reached through the table returned here. */
#include "dispatch.h"
#include "philox.h"

#include <stddef.h>
#include <string.h>

#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__) || defined(_M_IX86)
#  define FI_X86 1
#  if defined(_MSC_VER) && !defined(__clang__)
#    include <intrin.h>
#    include <immintrin.h>
static void fi_cpuid(unsigned leaf, unsigned sub, unsigned r[4])
{
    int v[4];
    __cpuidex(v, (int)leaf, (int)sub);
    r[0] = (unsigned)v[0]; r[1] = (unsigned)v[1]; r[2] = (unsigned)v[2]; r[3] = (unsigned)v[3];
}
static unsigned long long fi_xgetbv0(void) { return _xgetbv(0); }
#  else
static void fi_cpuid(unsigned leaf, unsigned sub, unsigned r[4])
{
    __asm__ __volatile__("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
                         : "a"(leaf), "c"(sub));
}
static unsigned long long fi_xgetbv0(void)
{
    unsigned lo, hi;
    /* the xgetbv opcode, spelled out for assemblers that predate it */
    __asm__ __volatile__(".byte 0x0f, 0x01, 0xd0" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((unsigned long long)hi << 32) | lo;
}
#  endif
#endif

/* F16C (vcvtps2ph): the avx2 table's float16 column needs it.  AVX2 CPUs without it get
 * a copy of that table whose float16 column is the scalar one (same bits, slower). */
#if defined(FI_HAVE_X86_KERNELS)
static int has_f16c = 1;
static fi_kernel_table avx2_without_f16c;
#endif

/* Non-temporal stores for large existing outputs were chosen on an Intel Xeon; on AMD's
 * CPUs they lose: on a Zen 3 EPYC, plain stores filled existing float32 and float64
 * outputs of 16 to 256 MiB in 2-19% less time, with 1 and 2 threads. */
static int nontemporal_pays = 1;

static unsigned detect(void)
{
    unsigned isas = 1u << FI_ISA_SCALAR;
#if defined(FI_X86) && defined(FI_HAVE_X86_KERNELS)
    unsigned r[4];
    fi_cpuid(0, 0, r);
    unsigned max_leaf = r[0];
    /* the vendor string is ebx, edx, ecx: "AuthenticAMD", "HygonGenuine" (Zen-based) */
    if ((r[1] == 0x68747541u && r[3] == 0x69746e65u && r[2] == 0x444d4163u) ||
        (r[1] == 0x6f677948u && r[3] == 0x6e65476eu && r[2] == 0x656e6975u))
        nontemporal_pays = 0;
    if (max_leaf < 7) return isas;
    fi_cpuid(1, 0, r);
    int osxsave = (r[2] >> 27) & 1, avx = (r[2] >> 28) & 1;
    has_f16c = (r[2] >> 29) & 1;
    if (!has_f16c) {
        avx2_without_f16c = fi_kernels_avx2;
        for (int d = 0; d < FI_N_DISTRIBUTIONS; d++)
            avx2_without_f16c.transform[d][FI_FLOAT16] = fi_kernels_scalar.transform[d][FI_FLOAT16];
    }
    if (!osxsave || !avx) return isas;
    unsigned long long xcr0 = fi_xgetbv0();
    int ymm_state = (xcr0 & 0x6) == 0x6;          /* XMM and YMM saved by the OS */
    int zmm_state = (xcr0 & 0xE6) == 0xE6;        /* plus opmask, ZMM0-15 upper, ZMM16-31 */
    fi_cpuid(7, 0, r);
    int avx2 = (r[1] >> 5) & 1, avx512f = (r[1] >> 16) & 1;
    if (ymm_state && avx2) isas |= 1u << FI_ISA_AVX2;
    if (zmm_state && avx512f) isas |= 1u << FI_ISA_AVX512;
#endif
#if defined(FI_HAVE_NEON_KERNELS)
    isas |= 1u << FI_ISA_NEON;                    /* Advanced SIMD is baseline on aarch64 */
#endif
    return isas;
}

static const fi_kernel_table *compiled_table(int isa)
{
    switch (isa) {
#if defined(FI_HAVE_X86_KERNELS)
    case FI_ISA_AVX2: return has_f16c ? &fi_kernels_avx2 : &avx2_without_f16c;
    case FI_ISA_AVX512: return &fi_kernels_avx512;
#endif
#if defined(FI_HAVE_NEON_KERNELS)
    case FI_ISA_NEON: return &fi_kernels_neon;
#endif
    default: return &fi_kernels_scalar;
    }
}

/* A vector path must reproduce the scalar reference bit for bit; one that does not (a
 * miscompiling compiler, a faulty emulator) is switched off rather than trusted. */
static int agrees_with_scalar(const fi_kernel_table *k)
{
    enum { BLOCKS = 150, N = 67 };
    static const uint32_t key[2] = {0x243F6A88u, 0x85A308D3u};
    uint32_t ref_words[4 * BLOCKS], words[4 * BLOCKS];
    double ref_out[N], out[N];
    const fi_kernel_table *scalar = &fi_kernels_scalar;
    /* truncated normal: supports [lo, hi] that bite */
    const fi_params_f32 p32 = {-1.0f, 2.0f, 0.99999994f, 0.5f, 2.0f, -2.0f, 2.0f,
                               0.022750132f, 0.022750132f, 0.95449974f, -2.5f, 3.0f};
    const fi_params_f64 p64 = {-1.0, 2.0, 0.99999999999999989, 0.5, 2.0, -2.0, 2.0,
                               0.022750131948179195, 0.022750131948179195, 0.95449973610364158,
                               -2.5, 3.0};
    /* half outputs: clamps that bite, and a scale of subnormal float16 values */
    const fi_params_h16 ph[2] = {
        {p32, -1.5f, 2.5f},
        {{-1e-6f, 2e-6f, 9.9999994e-7f, 0.0f, 1e-6f, -2.0f, 2.0f, 0.022750132f, 0.022750132f,
          0.95449974f, -1.5e-6f, 1.5e-6f}, -6.556511e-7f, 6.556511e-7f}};
    /* the words against the one-block definition of philox.h, then the transforms
     * against the scalar table's */
    for (uint32_t b = 0; b < BLOCKS; b++) {
        const uint32_t ctr[4] = {0xFFFFFFFFu - BLOCKS + b, 1, 2, 3};
        fi_philox4x32_r(FI_PHILOX_ROUNDS, ctr, key, ref_words + 4 * b);
    }
    k->philox_blocks(key, 0xFFFFFFFFu - BLOCKS, 1, 2, 3, BLOCKS, words);
    if (memcmp(ref_words, words, sizeof words) != 0) return 0;
    if (k == scalar) return 1;
    for (int d = 0; d < FI_N_DISTRIBUTIONS; d++)
        for (int t = 0; t < FI_N_DTYPES + 2; t++) {   /* the half dtypes twice: both ph */
            int dtype = t < FI_N_DTYPES ? t : t - 2;
            const void *p = t == FI_FLOAT32   ? (const void *)&p32
                            : t == FI_FLOAT64 ? (const void *)&p64
                                              : (const void *)&ph[t >= FI_N_DTYPES];
            size_t n = t == FI_FLOAT64 ? N / 2 : N;
            memset(ref_out, 0, sizeof ref_out);
            memset(out, 0, sizeof out);
            scalar->transform[d][dtype](ref_words + 1, n, p, ref_out);
            k->transform[d][dtype](words + 1, n, p, out);
            if (memcmp(ref_out, out, sizeof out) != 0) return 0;
        }
    return 1;
}

static unsigned available = 0, disabled = 0;

static int scalar_verified = -1;

int fi_scalar_kernels_verified(void)
{
    if (scalar_verified < 0) scalar_verified = agrees_with_scalar(&fi_kernels_scalar);
    return scalar_verified;
}

static void detect_and_verify(void)
{
    unsigned isas = detect(), off = 0;
    for (int isa = 1; isa < FI_N_ISAS; isa++)
        if ((isas & (1u << isa)) && !agrees_with_scalar(compiled_table(isa))) off |= 1u << isa;
    disabled = off;
    available = isas & ~off;
}

unsigned fi_available_isas(void)
{
    /* detection is idempotent, so a race between first callers only repeats it */
    if (available == 0) detect_and_verify();
    return available;
}

unsigned fi_disabled_isas(void)
{
    fi_available_isas();
    return disabled;
}

int fi_nontemporal_stores(int isa)
{
    const fi_kernel_table *k = fi_kernels_for(isa);
    return k != NULL && k->stream_copy != NULL && nontemporal_pays;
}

int fi_best_isa(void)
{
    static const int order[] = {FI_ISA_AVX512, FI_ISA_AVX2, FI_ISA_NEON, FI_ISA_SCALAR};
    unsigned isas = fi_available_isas();
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
        if (isas & (1u << order[i])) return order[i];
    return FI_ISA_SCALAR;
}

const char *fi_isa_name(int isa)
{
    static const char *names[FI_N_ISAS] = {"scalar", "avx2", "avx512", "neon"};
    return (isa >= 0 && isa < FI_N_ISAS) ? names[isa] : NULL;
}

const fi_kernel_table *fi_kernels_for(int isa)
{
    if (isa < 0 || isa >= FI_N_ISAS || !(fi_available_isas() & (1u << isa))) return NULL;
    return compiled_table(isa);
}
