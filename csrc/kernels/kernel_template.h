/* The kernels, written once against the vector vocabulary of an isa_*.h header and
 * compiled once per ISA (kernels_<isa>.c).  Every ISA, the scalar one included, runs
 * the same IEEE operations in the same order on each element, so all of them produce
 * the same bits: no fused multiply-add (the build passes -ffp-contract=off), only
 * correctly rounded +, -, *, /, sqrt, min, max and exact integer/bit operations.
 *
 * The mapping from stream words to values is specified in docs/stream.md; the formulas
 * below are that document in code. */
#include <string.h>
#include "../philox.h"
#include "kernel_table.h"

#ifndef FI_INLINE
#  if defined(_MSC_VER)
#    define FI_INLINE static __forceinline
#  else
#    define FI_INLINE static inline __attribute__((always_inline))
#  endif
#endif

/* ---------------------------------------------------------------- Philox, WF blocks at a time */

/* FI_PHILOX_GROUPS independent groups of blocks per iteration: one group alone is a chain
 * of 10 dependent multiply rounds, so interleaving groups is what fills the pipelines. */
#ifndef FI_PHILOX_GROUPS
#  define FI_PHILOX_GROUPS 4
#endif

#if defined(VL_MUL_EPU32)
/* One block per 64-bit lane, its words in the low halves: the 32x32->64 multiply reads
 * only low halves, so the product needs no shuffling and the garbage the high halves
 * collect never reaches a result.  PW blocks per group. */
#define PW WD
FI_INLINE void philox_groups(const uint32_t key[2], uint32_t c0, uint32_t c1, uint32_t c2,
                             uint32_t c3, uint32_t *words, const int groups)
{
    const VL m0 = VL_SET1(FI_PHILOX_M0), m1 = VL_SET1(FI_PHILOX_M1);
    VL x[FI_PHILOX_GROUPS][4];
    for (int g = 0; g < groups; g++) {
        x[g][0] = VL_ADD(VL_SET1((uint64_t)c0 + (uint64_t)(g * PW)), VL_LANES());
        x[g][1] = VL_SET1(c1);
        x[g][2] = VL_SET1(c2);
        x[g][3] = VL_SET1(c3);
    }
    for (int r = 0; r < FI_PHILOX_ROUNDS; r++) {
        /* the round key: bumped by the Weyl constants before every round after the first */
        const VL kv0 = VL_SET1((uint32_t)(key[0] + (uint32_t)r * FI_PHILOX_W0));
        const VL kv1 = VL_SET1((uint32_t)(key[1] + (uint32_t)r * FI_PHILOX_W1));
        for (int g = 0; g < groups; g++) {
            VL p0 = VL_MUL_EPU32(x[g][0], m0), p1 = VL_MUL_EPU32(x[g][2], m1);
            VL y0 = VL_XOR3(VL_SRLI(p1, 32), x[g][1], kv0);
            VL y2 = VL_XOR3(VL_SRLI(p0, 32), x[g][3], kv1);
            x[g][0] = y0;
            x[g][1] = p1;
            x[g][2] = y2;
            x[g][3] = p0;
        }
    }
    for (int g = 0; g < groups; g++)
        VL_STORE_BLOCKS(words + 4 * PW * g, x[g][0], x[g][1], x[g][2], x[g][3]);
}
#else
/* One block per 32-bit lane. */
#define PW WF
FI_INLINE void philox_groups(const uint32_t key[2], uint32_t c0, uint32_t c1, uint32_t c2,
                             uint32_t c3, uint32_t *words, const int groups)
{
    const VU m0 = VU_SET1(FI_PHILOX_M0), m1 = VU_SET1(FI_PHILOX_M1);
    VU x[FI_PHILOX_GROUPS][4];
    /* lane l of group g holds the counter (c0 + g PW + l, c1, c2, c3) */
    for (int g = 0; g < groups; g++) {
        x[g][0] = VU_ADD(VU_SET1(c0 + (uint32_t)(g * PW)), VU_LANES());
        x[g][1] = VU_SET1(c1);
        x[g][2] = VU_SET1(c2);
        x[g][3] = VU_SET1(c3);
    }
    for (int r = 0; r < FI_PHILOX_ROUNDS; r++) {
        const VU kv0 = VU_SET1(key[0] + (uint32_t)r * FI_PHILOX_W0);
        const VU kv1 = VU_SET1(key[1] + (uint32_t)r * FI_PHILOX_W1);
        for (int g = 0; g < groups; g++) {
            VU hi0, lo0, hi1, lo1;
            VU_MULHILO(x[g][0], m0, hi0, lo0);
            VU_MULHILO(x[g][2], m1, hi1, lo1);
            VU y0 = VU_XOR(VU_XOR(hi1, x[g][1]), kv0);
            VU y2 = VU_XOR(VU_XOR(hi0, x[g][3]), kv1);
            x[g][0] = y0;
            x[g][1] = lo1;
            x[g][2] = y2;
            x[g][3] = lo0;
        }
    }
    for (int g = 0; g < groups; g++)
        VU_STORE_BLOCKS(words + 4 * PW * g, x[g][0], x[g][1], x[g][2], x[g][3]);
}
#endif

static void philox_blocks(const uint32_t key[2], uint32_t c0, uint32_t c1, uint32_t c2,
                          uint32_t c3, size_t nblocks, uint32_t *words)
{
    size_t j = 0;
    for (; j + FI_PHILOX_GROUPS * PW <= nblocks; j += FI_PHILOX_GROUPS * PW)
        philox_groups(key, c0 + (uint32_t)j, c1, c2, c3, words + 4 * j, FI_PHILOX_GROUPS);
    for (; j + PW <= nblocks; j += PW)
        philox_groups(key, c0 + (uint32_t)j, c1, c2, c3, words + 4 * j, 1);
    for (; j < nblocks; j++) {
        const uint32_t ctr[4] = {c0 + (uint32_t)j, c1, c2, c3};
        fi_philox4x32_r(FI_PHILOX_ROUNDS, ctr, key, words + 4 * j);
    }
}

/* ---------------------------------------------------------------- natural logarithm, x > 0 normal */

/* log x = k ln2 + log m with m in [sqrt(1/2), sqrt(2)) (the exponent split of fdlibm's
 * logf).  float32: log m = f P(f), f = m - 1, P of degree 9 from tools/fit_log1p.py
 * (abs. error 3.7e-8, and no division, which is the scarce unit here).  float64:
 * log m = 2 atanh(s), s = (m - 1) / (m + 1), summed as 2 s (1 + s^2/3 + s^4/5 + ...) to
 * 11 terms (|s| <= 0.1716). */
FI_INLINE VF log_f32(VF x)
{
    VU ix = VU_ADD(VF_BITS(x), VU_SET1(0x3f800000u - 0x3f3504f3u));
    VF k = VF_SUB(VF_FROM_I32(VU_SRLI(ix, 23)), VF_SET1(127.0f));
    VF m = VF_FROM_BITS(VU_ADD(VU_AND(ix, VU_SET1(0x007fffffu)), VU_SET1(0x3f3504f3u)));
    VF f = VF_SUB(m, VF_SET1(1.0f));
    VF p = VF_SET1(-0x1.34d474p-4f);
    p = VF_ADD(VF_MUL(p, f), VF_SET1(0x1.0517b6p-3f));
    p = VF_ADD(VF_MUL(p, f), VF_SET1(-0x1.0e508ep-3f));
    p = VF_ADD(VF_MUL(p, f), VF_SET1(0x1.22de96p-3f));
    p = VF_ADD(VF_MUL(p, f), VF_SET1(-0x1.544e74p-3f));
    p = VF_ADD(VF_MUL(p, f), VF_SET1(0x1.999fa8p-3f));
    p = VF_ADD(VF_MUL(p, f), VF_SET1(-0x1.000354p-2f));
    p = VF_ADD(VF_MUL(p, f), VF_SET1(0x1.555556p-2f));
    p = VF_ADD(VF_MUL(p, f), VF_SET1(-0x1.fffffap-2f));
    p = VF_ADD(VF_MUL(p, f), VF_SET1(1.0f));
    return VF_ADD(VF_MUL(k, VF_SET1(0.693147180559945309f)), VF_MUL(f, p));
}

FI_INLINE VD log_f64(VD x)
{
    /* ln 2 split so that k * LN2_HI is exact (fdlibm's ln2_hi / ln2_lo) */
    const double LN2_HI = 6.93147180369123816490e-01, LN2_LO = 1.90821492927058770002e-10;
    VL ix = VL_ADD(VD_BITS(x), VL_SET1(UINT64_C(0x3ff0000000000000) - UINT64_C(0x3fe6a09e667f3bcd)));
    /* exponent to double exactly: the bits 0x433.. | e are the double 2^52 + e */
    VD k = VD_SUB(VD_FROM_BITS(VL_OR(VL_SRLI(ix, 52), VL_SET1(UINT64_C(0x4330000000000000)))),
                  VD_SET1(4503599627370496.0 + 1023.0));
    VD m = VD_FROM_BITS(VL_ADD(VL_AND(ix, VL_SET1(UINT64_C(0x000fffffffffffff))),
                               VL_SET1(UINT64_C(0x3fe6a09e667f3bcd))));
    VD f = VD_SUB(m, VD_SET1(1.0));
    VD s = VD_DIV(f, VD_ADD(m, VD_SET1(1.0)));
    VD z = VD_MUL(s, s);
    VD p = VD_SET1(1.0 / 21);
    p = VD_ADD(VD_MUL(p, z), VD_SET1(1.0 / 19));
    p = VD_ADD(VD_MUL(p, z), VD_SET1(1.0 / 17));
    p = VD_ADD(VD_MUL(p, z), VD_SET1(1.0 / 15));
    p = VD_ADD(VD_MUL(p, z), VD_SET1(1.0 / 13));
    p = VD_ADD(VD_MUL(p, z), VD_SET1(1.0 / 11));
    p = VD_ADD(VD_MUL(p, z), VD_SET1(1.0 / 9));
    p = VD_ADD(VD_MUL(p, z), VD_SET1(1.0 / 7));
    p = VD_ADD(VD_MUL(p, z), VD_SET1(1.0 / 5));
    p = VD_ADD(VD_MUL(p, z), VD_SET1(1.0 / 3));
    /* log m = f - s f + 2 s (z/3 + z^2/5 + ...) keeps the leading term f exact */
    VD tail = VD_MUL(VD_ADD(s, s), VD_MUL(z, p));
    VD logm = VD_ADD(VD_SUB(f, VD_MUL(s, f)), tail);
    return VD_ADD(VD_MUL(k, VD_SET1(LN2_HI)), VD_ADD(VD_MUL(k, VD_SET1(LN2_LO)), logm));
}

/* ---------------------------------------------------------------- lower-half normal quantile */

/* Phi^-1(q) for q in (0, 1/2], by Wichura's AS241 (Applied Statistics 37(3), 1988):
 * PPND7 (relative error ~1e-7) for float32, PPND16 (~1e-16) for float64.  The central
 * branch (q >= 0.075) runs on every lane; the tail branches, which need a log and a sqrt,
 * run only on the ~15% of lanes that need them, packed together (ndtri_lower_*_array).
 * Every value depends only on its own q: the packing never changes a bit. */
#define FI_POLY4F(r, c3, c2, c1, c0) \
    VF_ADD(VF_MUL(VF_ADD(VF_MUL(VF_ADD(VF_MUL(VF_SET1(c3), r), VF_SET1(c2)), r), VF_SET1(c1)), r), VF_SET1(c0))
#define FI_POLY3F(r, c2, c1, c0) \
    VF_ADD(VF_MUL(VF_ADD(VF_MUL(VF_SET1(c2), r), VF_SET1(c1)), r), VF_SET1(c0))

FI_INLINE VF ndtri_central_f32(VF q)
{
    VF t = VF_SUB(q, VF_SET1(0.5f));
    VF r = VF_SUB(VF_SET1(0.180625f), VF_MUL(t, t));
    VF num = FI_POLY4F(r, 59.10937472f, 159.29113202f, 50.434271938f, 3.3871327179f);
    VF den = FI_POLY4F(r, 67.18756360f, 78.757757664f, 17.895169469f, 1.0f);
    return VF_DIV(VF_MUL(t, num), den);
}

FI_INLINE VF ndtri_tail_f32(VF q)
{
    VF rt = VF_SQRT(VF_SUB(VF_SET1(0.0f), log_f32(q)));
    VF r1 = VF_SUB(rt, VF_SET1(1.6f));
    VF num = FI_POLY4F(r1, 0.17023821103f, 1.3067284816f, 2.75681539f, 1.4234372777f);
    VF den = FI_POLY3F(r1, 0.12021132975f, 0.73700164250f, 1.0f);
    MF far = VF_LT(VF_SET1(5.0f), rt);
    if (MF_ANY(far)) {
        VF r2 = VF_SUB(rt, VF_SET1(5.0f));
        num = VF_SELECT(far, FI_POLY4F(r2, 0.017337203997f, 0.42868294337f, 3.081226386f,
                                       6.657904643f), num);
        den = VF_SELECT(far, FI_POLY3F(r2, 0.012258202635f, 0.24197894225f, 1.0f), den);
    }
    return VF_DIV(VF_SUB(VF_SET1(0.0f), num), den);
}

#define FI_POLY8D(r, c7, c6, c5, c4, c3, c2, c1, c0) \
    VD_ADD(VD_MUL(VD_ADD(VD_MUL(VD_ADD(VD_MUL(VD_ADD(VD_MUL(VD_ADD(VD_MUL(VD_ADD(VD_MUL(VD_ADD( \
    VD_MUL(VD_SET1(c7), r), VD_SET1(c6)), r), VD_SET1(c5)), r), VD_SET1(c4)), r), VD_SET1(c3)), r), \
    VD_SET1(c2)), r), VD_SET1(c1)), r), VD_SET1(c0))

FI_INLINE VD ndtri_central_f64(VD q)
{
    VD t = VD_SUB(q, VD_SET1(0.5));
    VD r = VD_SUB(VD_SET1(0.180625), VD_MUL(t, t));
    VD num = FI_POLY8D(r, 2.5090809287301226727e+3, 3.3430575583588128105e+4,
                       6.7265770927008700853e+4, 4.5921953931549871457e+4,
                       1.3731693765509461125e+4, 1.9715909503065514427e+3,
                       1.3314166789178437745e+2, 3.3871328727963666080e+0);
    VD den = FI_POLY8D(r, 5.2264952788528545610e+3, 2.8729085735721942674e+4,
                       3.9307895800092710610e+4, 2.1213794301586595867e+4,
                       5.3941960214247511077e+3, 6.8718700749205790830e+2,
                       4.2313330701600911252e+1, 1.0);
    return VD_DIV(VD_MUL(t, num), den);
}

FI_INLINE VD ndtri_tail_f64(VD q)
{
    VD rt = VD_SQRT(VD_SUB(VD_SET1(0.0), log_f64(q)));
    VD r1 = VD_SUB(rt, VD_SET1(1.6));
    VD num = FI_POLY8D(r1, 7.74545014278341407640e-4, 2.27238449892691845833e-2,
                       2.41780725177450611770e-1, 1.27045825245236838258e+0,
                       3.64784832476320460504e+0, 5.76949722146069140550e+0,
                       4.63033784615654529590e+0, 1.42343711074968357734e+0);
    VD den = FI_POLY8D(r1, 1.05075007164441684324e-9, 5.47593808499534494600e-4,
                       1.51986665636164571966e-2, 1.48103976427480074590e-1,
                       6.89767334985100004550e-1, 1.67638483018380384940e+0,
                       2.05319162663775882187e+0, 1.0);
    MD far = VD_LT(VD_SET1(5.0), rt);
    if (MD_ANY(far)) {
        VD r2 = VD_SUB(rt, VD_SET1(5.0));
        num = VD_SELECT(far, FI_POLY8D(r2, 2.01033439929228813265e-7, 2.71155556874348757815e-5,
                                       1.24266094738807843860e-3, 2.65321895265761230930e-2,
                                       2.96560571828504891230e-1, 1.78482653991729133580e+0,
                                       5.46378491116411436990e+0, 6.65790464350110377720e+0), num);
        den = VD_SELECT(far, FI_POLY8D(r2, 2.04426310338993978564e-15, 1.42151175831644588870e-7,
                                       1.84631831751005468180e-5, 7.86869131145613259100e-4,
                                       1.48753612908506148525e-2, 1.36929880922735805310e-1,
                                       5.99832206555887937690e-1, 1.0), den);
    }
    return VD_DIV(VD_SUB(VD_SET1(0.0), num), den);
}

/* Elements per pass of the quantile transforms (a multiple of every vector width). */
#define FI_CHUNK 256

/* The lanes of v selected by m, packed into dq, with their indices i + lane into di;
 * returns how many.  (An ISA may bring its own compress_f32 and compress_f64.) */
#if !defined(FI_HAVE_COMPRESS_F32)
FI_INLINE size_t compress_f32(MF m, VF v, size_t i, float *dq, uint32_t *di)
{
    float lanes[WF];
    unsigned bits = MF_BITS(m);
    size_t c = 0;
    VF_STOREU(lanes, v);
    for (unsigned l = 0; l < WF; l++)
        if ((bits >> l) & 1u) { dq[c] = lanes[l]; di[c] = (uint32_t)(i + l); c++; }
    return c;
}
#endif

#if !defined(FI_HAVE_COMPRESS_F64)
FI_INLINE size_t compress_f64(MD m, VD v, size_t i, double *dq, uint32_t *di)
{
    double lanes[WD];
    unsigned bits = MD_BITS(m);
    size_t c = 0;
    VD_STOREU(lanes, v);
    for (unsigned l = 0; l < WD; l++)
        if ((bits >> l) & 1u) { dq[c] = lanes[l]; di[c] = (uint32_t)(i + l); c++; }
    return c;
}
#endif

/* A vector with no tail lane skips the packing, unless the ISA's packing costs less than
 * that branch mispredicted: ~15% of lanes are in the tails, so a vector of 8 has none with
 * probability 0.27, at random (FI_PACK_ALWAYS_F32). */
#if defined(FI_PACK_ALWAYS_F32)
#  define FI_ANY_TAIL_F32(m) 1
#else
#  define FI_ANY_TAIL_F32(m) MF_ANY(m)
#endif

/* q[0..n) <- Phi^-1(q), n a multiple of the vector width, at most FI_CHUNK. */
static void ndtri_lower_f32_array(float *q, size_t n)
{
    float tq[FI_CHUNK + WF];
    uint32_t ti[FI_CHUNK + WF];
    size_t nt = 0;
    for (size_t i = 0; i < n; i += WF) {
        VF x = VF_LOADU(q + i);
        MF tail = VF_LT(x, VF_SET1(0.075f));
        VF_STOREU(q + i, ndtri_central_f32(x));
        if (FI_ANY_TAIL_F32(tail)) nt += compress_f32(tail, x, i, tq + nt, ti + nt);
    }
    if (nt == 0) return;
    for (size_t k = nt; k % WF; k++) tq[k] = 0.01f;   /* pad lanes: any tail value */
    for (size_t k = 0; k < nt; k += WF) VF_STOREU(tq + k, ndtri_tail_f32(VF_LOADU(tq + k)));
    for (size_t k = 0; k < nt; k++) q[ti[k]] = tq[k];
}

static void ndtri_lower_f64_array(double *q, size_t n)
{
    double tq[FI_CHUNK + WD];
    uint32_t ti[FI_CHUNK + WD];
    size_t nt = 0;
    for (size_t i = 0; i < n; i += WD) {
        VD x = VD_LOADU(q + i);
        MD tail = VD_LT(x, VD_SET1(0.075));
        VD_STOREU(q + i, ndtri_central_f64(x));
        if (MD_ANY(tail)) nt += compress_f64(tail, x, i, tq + nt, ti + nt);
    }
    if (nt == 0) return;
    for (size_t k = nt; k % WD; k++) tq[k] = 0.01;
    for (size_t k = 0; k < nt; k += WD) VD_STOREU(tq + k, ndtri_tail_f64(VD_LOADU(tq + k)));
    for (size_t k = 0; k < nt; k++) q[ti[k]] = tq[k];
}

/* ---------------------------------------------------------------- one vector of elements */

/* float32 element i <- word i; float64 element i <- words 2i, 2i+1 (docs/stream.md). */

FI_INLINE void uniform_f32_step(const uint32_t *w, float *out, const fi_params_f32 *p)
{
    VF u = VF_MUL(VF_FROM_I32(VU_SRLI(VU_LOADU(w), 8)), VF_SET1(0x1p-24f));
    VF y = VF_ADD(VF_SET1(p->low), VF_MUL(VF_SET1(p->span), u));
    VF_STOREU(out, VF_MIN(y, VF_SET1(p->high_below)));
}

FI_INLINE VD uniform53(const uint32_t *w)
{
    VD hi, lo;
    VD_LOAD_PAIRS(w, hi, lo);   /* hi = w0 >> 5 (27 bits), lo = w1 >> 6 (26 bits) */
    return VD_MUL(VD_ADD(VD_MUL(hi, VD_SET1(0x1p26)), lo), VD_SET1(0x1p-53));
}

FI_INLINE void uniform_f64_step(const uint32_t *w, double *out, const fi_params_f64 *p)
{
    VD y = VD_ADD(VD_SET1(p->low), VD_MUL(VD_SET1(p->span), uniform53(w)));
    VD_STOREU(out, VD_MIN(y, VD_SET1(p->high_below)));
}

/* Each quantile transform is three steps per vector: the lower-half probability q from
 * the words (*_q), Phi^-1 of all of them (ndtri_lower_*_array), and the value from z and
 * the words again (*_finish). */

/* x = Phi^-1((w + 1/2) / 2^32): the half below 1/2 directly, the upper half by symmetry
 * from ~w, so both tails keep full resolution (|x| reaches 6.34). */
FI_INLINE VF normal_f32_q(const uint32_t *w, const fi_params_f32 *p, float *side)
{
    VU x = VU_LOADU(w);
    VU m = VU_XOR(x, VU_SRAI(x, 31));             /* w, or ~w where w >= 2^31: below 2^31 */
    (void)p, (void)side;
    return VF_MUL(VF_ADD(VF_FROM_I32(m), VF_SET1(0.5f)), VF_SET1(0x1p-32f));
}

FI_INLINE VF normal_f32_finish(const uint32_t *w, VF z, const fi_params_f32 *p, const float *side)
{
    (void)side;
    z = VF_FROM_BITS(VU_XOR(VF_BITS(z), VU_AND(VU_LOADU(w), VU_SET1(0x80000000u))));
    return VF_ADD(VF_SET1(p->mean), VF_MUL(VF_SET1(p->std), z));
}

/* x = Phi^-1(u + 2^-54), u the 53-bit uniform: the midpoint of u's cell, never 0 or 1. */
FI_INLINE VD normal_f64_q(const uint32_t *w, const fi_params_f64 *p, double *side)
{
    VD u = uniform53(w);
    MD lower = VD_LT(u, VD_SET1(0.5));
    (void)p;
    VD_STOREU(side, VD_SELECT(lower, VD_SET1(1.0), VD_SET1(0.0)));   /* as the truncated's */
    return VD_SELECT(lower, VD_ADD(u, VD_SET1(0x1p-54)),
                     VD_SUB(VD_SUB(VD_SET1(1.0), u), VD_SET1(0x1p-54)));
}

FI_INLINE VD normal_f64_finish(const uint32_t *w, VD z, const fi_params_f64 *p, const double *side)
{
    (void)w;
    z = VD_SELECT(VD_LT(VD_SET1(0.5), VD_LOADU(side)), z, VD_SUB(VD_SET1(0.0), z));
    return VD_ADD(VD_SET1(p->mean), VD_MUL(VD_SET1(p->std), z));
}

/* Inverse CDF of the normal truncated to [a, b]: with v the midpoint uniform,
 * P = Phi(a) + v (Phi(b) - Phi(a)) and 1 - P = (1 - Phi(b)) + (1 - v)(Phi(b) - Phi(a));
 * the smaller of the two goes through the lower-half quantile, so neither tail loses
 * precision to 1 - P.  float32: v = (2 (w >> 9) + 1) / 2^24, exact, as is 1 - v. */
FI_INLINE MF truncated_f32_split(const uint32_t *w, const fi_params_f32 *p, VF *q)
{
    VU k = VU_SRLI(VU_LOADU(w), 9);
    VF v = VF_MUL(VF_FROM_I32(VU_ADD(VU_ADD(k, k), VU_SET1(1))), VF_SET1(0x1p-24f));
    VF mass = VF_SET1(p->mass);
    VF below = VF_ADD(VF_SET1(p->cdf_a), VF_MUL(v, mass));
    VF above = VF_ADD(VF_SET1(p->sf_b), VF_MUL(VF_SUB(VF_SET1(1.0f), v), mass));
    MF lower = VF_LT(below, above);
    *q = VF_SELECT(lower, below, above);
    return lower;
}

/* The q pass leaves which half each element took in `side` (1: lower, 0: upper), so
 * that the finish need not compute P again. */
FI_INLINE VF truncated_normal_f32_q(const uint32_t *w, const fi_params_f32 *p, float *side)
{
    VF q;
    MF lower = truncated_f32_split(w, p, &q);
    VF_STOREU(side, VF_SELECT(lower, VF_SET1(1.0f), VF_SET1(0.0f)));
    return q;
}

FI_INLINE VF truncated_normal_f32_finish(const uint32_t *w, VF z, const fi_params_f32 *p,
                                         const float *side)
{
    MF lower = VF_LT(VF_SET1(0.5f), VF_LOADU(side));
    (void)w;
    z = VF_SELECT(lower, z, VF_SUB(VF_SET1(0.0f), z));
    z = VF_MAX(VF_MIN(z, VF_SET1(p->b)), VF_SET1(p->a));
    /* rounding may carry mean + std z past a bound by an ulp: the support is kept */
    VF x = VF_ADD(VF_SET1(p->mean), VF_MUL(VF_SET1(p->std), z));
    return VF_MAX(VF_MIN(x, VF_SET1(p->hi)), VF_SET1(p->lo));
}

FI_INLINE MD truncated_f64_split(const uint32_t *w, const fi_params_f64 *p, VD *q)
{
    VD u = uniform53(w);
    VD v = VD_ADD(u, VD_SET1(0x1p-54));
    VD one_minus_v = VD_SUB(VD_SUB(VD_SET1(1.0), u), VD_SET1(0x1p-54));
    VD mass = VD_SET1(p->mass);
    VD below = VD_ADD(VD_SET1(p->cdf_a), VD_MUL(v, mass));
    VD above = VD_ADD(VD_SET1(p->sf_b), VD_MUL(one_minus_v, mass));
    MD lower = VD_LT(below, above);
    *q = VD_SELECT(lower, below, above);
    return lower;
}

FI_INLINE VD truncated_normal_f64_q(const uint32_t *w, const fi_params_f64 *p, double *side)
{
    VD q;
    MD lower = truncated_f64_split(w, p, &q);
    VD_STOREU(side, VD_SELECT(lower, VD_SET1(1.0), VD_SET1(0.0)));
    return q;
}

FI_INLINE VD truncated_normal_f64_finish(const uint32_t *w, VD z, const fi_params_f64 *p,
                                         const double *side)
{
    MD lower = VD_LT(VD_SET1(0.5), VD_LOADU(side));
    (void)w;
    z = VD_SELECT(lower, z, VD_SUB(VD_SET1(0.0), z));
    z = VD_MAX(VD_MIN(z, VD_SET1(p->b)), VD_SET1(p->a));
    VD x = VD_ADD(VD_SET1(p->mean), VD_MUL(VD_SET1(p->std), z));
    return VD_MAX(VD_MIN(x, VD_SET1(p->hi)), VD_SET1(p->lo));
}

/* ---------------------------------------------------------------- loops over n elements */

/* Whole vectors in place; the last partial vector through a zero-padded copy, so no lane
 * reads or writes past the caller's buffers. */
#define FI_DEFINE_TRANSFORM(name, T, PARAMS, WIDTH, WORDS_PER_ELEMENT)                          \
    static void name(const uint32_t *words, size_t n, const void *params, void *out_)        \
    {                                                                                          \
        const PARAMS *p = (const PARAMS *)params;                                              \
        T *out = (T *)out_;                                                                    \
        size_t i = 0;                                                                          \
        for (; i + (WIDTH) <= n; i += (WIDTH))                                                 \
            name##_step(words + (WORDS_PER_ELEMENT) * i, out + i, p);                          \
        if (i < n) {                                                                           \
            uint32_t wpad[(WIDTH) * (WORDS_PER_ELEMENT)] = {0};                                \
            T opad[WIDTH];                                                                     \
            memcpy(wpad, words + (WORDS_PER_ELEMENT) * i,                                      \
                   (n - i) * (WORDS_PER_ELEMENT) * sizeof(uint32_t));                          \
            name##_step(wpad, opad, p);                                                        \
            memcpy(out + i, opad, (n - i) * sizeof(T));                                        \
        }                                                                                      \
    }

FI_DEFINE_TRANSFORM(uniform_f32, float, fi_params_f32, WF, 1)
FI_DEFINE_TRANSFORM(uniform_f64, double, fi_params_f64, WD, 2)

/* Chunks of FI_CHUNK elements: q for all, Phi^-1 for all, then the values; a last partial
 * vector reads zero-padded words and writes through q, so nothing runs past the buffers.
 * `side` carries what the q pass knows and the finish needs, per element. */
#define FI_DEFINE_QUANTILE_TRANSFORM(name, T, PARAMS, WIDTH, WPE, LOADU, STOREU, NDTRI)     \
    static void name(const uint32_t *words, size_t n, const void *params, void *out_)     \
    {                                                                                     \
        const PARAMS *p = (const PARAMS *)params;                                         \
        T *out = (T *)out_;                                                               \
        T q[FI_CHUNK], side[FI_CHUNK];                                                    \
        uint32_t wpad[FI_CHUNK * (WPE)];                                                  \
        for (size_t base = 0; base < n; base += FI_CHUNK) {                               \
            size_t m = n - base < FI_CHUNK ? n - base : FI_CHUNK;                         \
            size_t mv = (m + (WIDTH) - 1) / (WIDTH) * (WIDTH);                            \
            const uint32_t *w = words + (WPE) * base;                                     \
            if (mv != m) {                                                                \
                memset(wpad, 0, mv * (WPE) * sizeof(uint32_t));                           \
                memcpy(wpad, w, m * (WPE) * sizeof(uint32_t));                            \
                w = wpad;                                                                 \
            }                                                                             \
            for (size_t i = 0; i < mv; i += (WIDTH)) STOREU(q + i, name##_q(w + (WPE) * i, p, side + i)); \
            NDTRI(q, mv);                                                                 \
            T *dst = mv == m ? out + base : q;                                            \
            for (size_t i = 0; i < mv; i += (WIDTH))                                      \
                STOREU(dst + i, name##_finish(w + (WPE) * i, LOADU(q + i), p, side + i)); \
            if (dst == q) memcpy(out + base, q, m * sizeof(T));                           \
        }                                                                                 \
    }

FI_DEFINE_QUANTILE_TRANSFORM(normal_f32, float, fi_params_f32, WF, 1, VF_LOADU, VF_STOREU,
                             ndtri_lower_f32_array)
FI_DEFINE_QUANTILE_TRANSFORM(normal_f64, double, fi_params_f64, WD, 2, VD_LOADU, VD_STOREU,
                             ndtri_lower_f64_array)
FI_DEFINE_QUANTILE_TRANSFORM(truncated_normal_f32, float, fi_params_f32, WF, 1, VF_LOADU,
                             VF_STOREU, ndtri_lower_f32_array)
FI_DEFINE_QUANTILE_TRANSFORM(truncated_normal_f64, double, fi_params_f64, WD, 2, VD_LOADU,
                             VD_STOREU, ndtri_lower_f64_array)

/* ---------------------------------------------------------------- float16 and bfloat16 */

/* bfloat16 bits of x, round to nearest even, in the low half of each 32-bit lane (no NaN
 * reaches here; a carry out of the largest finite value gives infinity, as it should). */
FI_INLINE VU bf16_bits(VF x)
{
    VU u = VF_BITS(x);
    VU odd = VU_AND(VU_SRLI(u, 16), VU_SET1(1));
    return VU_SRLI(VU_ADD(u, VU_ADD(VU_SET1(0x7fff), odd)), 16);
}

#define FI_STORE_BF16(p, x) VU_STORE_U16(p, bf16_bits(x))

/* A chunk of float32 values (the float32 transform itself, into an L1 buffer), then each
 * clamped to [lo, hi] and rounded to nearest even into the 16-bit output: so a half value
 * is its float32 value rounded, by construction.  The clamp keeps x when it equals a bound
 * (VF_MIN/VF_MAX return their second operand then), so a zero keeps its sign. */
#define FI_DEFINE_HALF_TRANSFORM(name, transform_f32, STORE_HALF)                           \
    static void name(const uint32_t *words, size_t n, const void *params, void *out_)      \
    {                                                                                      \
        const fi_params_h16 *p = (const fi_params_h16 *)params;                            \
        uint16_t *out = (uint16_t *)out_;                                                  \
        const VF lo = VF_SET1(p->lo), hi = VF_SET1(p->hi);                                 \
        float x[FI_CHUNK];                                                                 \
        uint16_t pad[WF];                                                                  \
        for (size_t base = 0; base < n; base += FI_CHUNK) {                                \
            size_t m = n - base < FI_CHUNK ? n - base : FI_CHUNK, i = 0;                   \
            transform_f32(words + base, m, &p->f32, x);                                    \
            for (; i + WF <= m; i += WF)                                                   \
                STORE_HALF(out + base + i, VF_MAX(lo, VF_MIN(hi, VF_LOADU(x + i))));       \
            if (i < m) {                                                                   \
                memset(x + m, 0, (i + WF - m) * sizeof(float));                            \
                STORE_HALF(pad, VF_MAX(lo, VF_MIN(hi, VF_LOADU(x + i))));                  \
                memcpy(out + base + i, pad, (m - i) * sizeof(uint16_t));                   \
            }                                                                              \
        }                                                                                  \
    }

FI_DEFINE_HALF_TRANSFORM(uniform_f16, uniform_f32, VH_STORE_F16)
FI_DEFINE_HALF_TRANSFORM(normal_f16, normal_f32, VH_STORE_F16)
FI_DEFINE_HALF_TRANSFORM(truncated_normal_f16, truncated_normal_f32, VH_STORE_F16)
FI_DEFINE_HALF_TRANSFORM(uniform_bf16, uniform_f32, FI_STORE_BF16)
FI_DEFINE_HALF_TRANSFORM(normal_bf16, normal_f32, FI_STORE_BF16)
FI_DEFINE_HALF_TRANSFORM(truncated_normal_bf16, truncated_normal_f32, FI_STORE_BF16)

#if defined(VU_STREAM)
static void stream_copy(void *dst, const void *src, size_t bytes)
{
    char *d = (char *)dst;
    const char *s = (const char *)src;
    size_t head = (size_t)(-(uintptr_t)d) & (sizeof(VU) - 1);   /* up to alignment */
    if (head > bytes) head = bytes;
    memcpy(d, s, head);
    d += head, s += head, bytes -= head;
    for (; bytes >= sizeof(VU); bytes -= sizeof(VU), d += sizeof(VU), s += sizeof(VU))
        VU_STREAM(d, VU_LOADU(s));
    memcpy(d, s, bytes);
}
static void stream_fence(void) { VU_STREAM_FENCE(); }
#  define FI_STREAM_COPY stream_copy
#  define FI_STREAM_FENCE stream_fence
#else
#  define FI_STREAM_COPY NULL   /* no non-temporal stores: fill.c writes with plain ones */
#  define FI_STREAM_FENCE NULL
#endif

const fi_kernel_table FI_TABLE_NAME = {
    FI_ISA_NAME,
    philox_blocks,
    {
        {uniform_f32, uniform_f64, uniform_f16, uniform_bf16},
        {normal_f32, normal_f64, normal_f16, normal_bf16},
        {truncated_normal_f32, truncated_normal_f64, truncated_normal_f16, truncated_normal_bf16},
    },
    FI_STREAM_COPY,
    FI_STREAM_FENCE,
};
