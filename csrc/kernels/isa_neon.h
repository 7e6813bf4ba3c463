/* The vector vocabulary of kernel_template.h for AArch64 Advanced SIMD (NEON): 4 float32 /
 * 2 float64 lanes.  NEON is part of the AArch64 baseline, so no runtime check is needed;
 * min/max are spelled as compare-and-select to keep the SSE semantics of isa_scalar.h. */
#include <arm_neon.h>
#include <stdint.h>

#define FI_ISA_NAME "neon"
#define FI_TABLE_NAME fi_kernels_neon
#define WF 4
#define WD 2

typedef uint32x4_t VU;
typedef float32x4_t VF;
typedef float64x2_t VD;
typedef uint64x2_t VL;
typedef uint32x4_t MF;
typedef uint64x2_t MD;

static inline uint32x4_t fi_neon_lanes(void)
{
    static const uint32_t lanes[4] = {0, 1, 2, 3};
    return vld1q_u32(lanes);
}

/* one bit per lane of a comparison mask */
static inline unsigned fi_neon_bits_f32(uint32x4_t m)
{
    static const uint32_t weights[4] = {1, 2, 4, 8};
    return vaddvq_u32(vandq_u32(m, vld1q_u32(weights)));
}
static inline unsigned fi_neon_bits_f64(uint64x2_t m)
{
    static const uint64_t weights[2] = {1, 2};
    return (unsigned)vaddvq_u64(vandq_u64(m, vld1q_u64(weights)));
}

#define VU_LOADU(p) vld1q_u32((const uint32_t *)(p))
#define VU_SET1(x) vdupq_n_u32((uint32_t)(x))
#define VU_LANES() fi_neon_lanes()
#define VU_ADD(a, b) vaddq_u32(a, b)
#define VU_XOR(a, b) veorq_u32(a, b)
#define VU_AND(a, b) vandq_u32(a, b)
#define VU_SRLI(a, n) vshrq_n_u32(a, n)
#define VU_SRAI(a, n) vreinterpretq_u32_s32(vshrq_n_s32(vreinterpretq_s32_u32(a), n))
/* full 64-bit products of lanes 0-1 and 2-3; the odd 32-bit halves are the high words */
#define VU_MULHILO(a, m, hi, lo)                                               \
    do {                                                                       \
        uint64x2_t p01_ = vmull_u32(vget_low_u32(a), vget_low_u32(m));         \
        uint64x2_t p23_ = vmull_high_u32(a, m);                                \
        (hi) = vuzp2q_u32(vreinterpretq_u32_u64(p01_), vreinterpretq_u32_u64(p23_)); \
        (lo) = vuzp1q_u32(vreinterpretq_u32_u64(p01_), vreinterpretq_u32_u64(p23_)); \
    } while (0)
/* vst4q interleaves lane l of x0..x3 as block l, which is stream order */
#define VU_STORE_BLOCKS(p, x0, x1, x2, x3)          \
    do {                                            \
        uint32x4x4_t blocks_ = {{x0, x1, x2, x3}};  \
        vst4q_u32((uint32_t *)(p), blocks_);        \
    } while (0)

/* the low 16 bits of each lane (a value below 2^16), narrowed */
#define VU_STORE_U16(p, u) vst1_u16((uint16_t *)(p), vmovn_u32(u))
/* fcvtn: float16 with the FPCR rounding mode, round to nearest even by default (as every
 * float32 operation here already assumes) */
#define VH_STORE_F16(p, v) vst1_u16((uint16_t *)(p), vreinterpret_u16_f16(vcvt_f16_f32(v)))

#define VF_SET1(x) vdupq_n_f32((float)(x))
#define VF_ADD(a, b) vaddq_f32(a, b)
#define VF_SUB(a, b) vsubq_f32(a, b)
#define VF_MUL(a, b) vmulq_f32(a, b)
#define VF_DIV(a, b) vdivq_f32(a, b)
#define VF_SQRT(a) vsqrtq_f32(a)
#define VF_MIN(a, b) vbslq_f32(vcltq_f32(a, b), a, b)
#define VF_MAX(a, b) vbslq_f32(vcgtq_f32(a, b), a, b)
#define VF_LT(a, b) vcltq_f32(a, b)
#define VF_SELECT(m, t, f) vbslq_f32(m, t, f)
#define MF_ANY(m) (vmaxvq_u32(m) != 0)
#define VF_FROM_I32(u) vcvtq_f32_s32(vreinterpretq_s32_u32(u))
#define VF_BITS(x) vreinterpretq_u32_f32(x)
#define VF_FROM_BITS(u) vreinterpretq_f32_u32(u)
#define VF_STOREU(p, v) vst1q_f32(p, v)
#define VF_LOADU(p) vld1q_f32(p)
#define MF_BITS(m) fi_neon_bits_f32(m)

#define VD_SET1(x) vdupq_n_f64((double)(x))
#define VD_ADD(a, b) vaddq_f64(a, b)
#define VD_SUB(a, b) vsubq_f64(a, b)
#define VD_MUL(a, b) vmulq_f64(a, b)
#define VD_DIV(a, b) vdivq_f64(a, b)
#define VD_SQRT(a) vsqrtq_f64(a)
#define VD_MIN(a, b) vbslq_f64(vcltq_f64(a, b), a, b)
#define VD_MAX(a, b) vbslq_f64(vcgtq_f64(a, b), a, b)
#define VD_LT(a, b) vcltq_f64(a, b)
#define VD_SELECT(m, t, f) vbslq_f64(m, t, f)
#define MD_ANY(m) (vmaxvq_u32(vreinterpretq_u32_u64(m)) != 0)
#define VD_BITS(x) vreinterpretq_u64_f64(x)
#define VD_FROM_BITS(u) vreinterpretq_f64_u64(u)
#define VD_STOREU(p, v) vst1q_f64(p, v)
#define VD_LOADU(p) vld1q_f64(p)
#define MD_BITS(m) fi_neon_bits_f64(m)
/* 2 elements = 4 words (w0 w1 w0 w1): even words >> 5 and odd words >> 6, widened */
#define VD_LOAD_PAIRS(p, hi, lo)                                                      \
    do {                                                                              \
        uint32x4_t w_ = vld1q_u32((const uint32_t *)(p));                             \
        (hi) = vcvtq_f64_u64(vmovl_u32(vshr_n_u32(vget_low_u32(vuzp1q_u32(w_, w_)), 5))); \
        (lo) = vcvtq_f64_u64(vmovl_u32(vshr_n_u32(vget_low_u32(vuzp2q_u32(w_, w_)), 6))); \
    } while (0)

#define VL_SET1(x) vdupq_n_u64((uint64_t)(x))
#define VL_ADD(a, b) vaddq_u64(a, b)
#define VL_AND(a, b) vandq_u64(a, b)
#define VL_OR(a, b) vorrq_u64(a, b)
#define VL_SRLI(a, n) vshrq_n_u64(a, n)
