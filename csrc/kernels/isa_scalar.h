/* The vector vocabulary of kernel_template.h at width 1: plain C, the reference.  The
 * other isa_*.h headers must give every macro the same per-lane meaning. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#define FI_ISA_NAME "scalar"
#define FI_TABLE_NAME fi_kernels_scalar
#define WF 1
#define WD 1

typedef uint32_t VU;
typedef float VF;
typedef double VD;
typedef uint64_t VL;
typedef int MF;
typedef int MD;

static inline uint32_t fi_bits_f32(float x) { uint32_t u; memcpy(&u, &x, 4); return u; }
static inline float fi_f32_bits(uint32_t u) { float x; memcpy(&x, &u, 4); return x; }
static inline uint64_t fi_bits_f64(double x) { uint64_t u; memcpy(&u, &x, 8); return u; }
static inline double fi_f64_bits(uint64_t u) { double x; memcpy(&x, &u, 8); return x; }

#define VU_LOADU(p) (*(const uint32_t *)(p))
#define VU_SET1(x) ((uint32_t)(x))
#define VU_LANES() ((uint32_t)0)
#define VU_ADD(a, b) ((uint32_t)((a) + (b)))
#define VU_XOR(a, b) ((a) ^ (b))
#define VU_AND(a, b) ((a) & (b))
#define VU_SRLI(a, n) ((a) >> (n))
#define VU_SRAI(a, n) ((uint32_t)((int32_t)(a) >> (n)))
/* clang 22.1's SLP vectorizer turns the interleaved rounds of philox_groups into invalid IR
 * (a use before its definition; docs/compiler-bugs.md) and so into wrong words.  An empty
 * asm makes each product opaque to it, which leaves the code clang 21 and gcc emit. */
#if defined(__clang__)
#  define FI_OPAQUE_U64(v) __asm__("" : "+r"(v))
#else
#  define FI_OPAQUE_U64(v) ((void)0)
#endif
#define VU_MULHILO(a, m, hi, lo)                                 \
    do {                                                         \
        uint64_t fi_p_ = (uint64_t)(a) * (m);                   \
        FI_OPAQUE_U64(fi_p_);                                    \
        (hi) = (uint32_t)(fi_p_ >> 32); (lo) = (uint32_t)fi_p_; \
    } while (0)
#define VU_STORE_BLOCKS(p, x0, x1, x2, x3) \
    do { (p)[0] = (x0); (p)[1] = (x1); (p)[2] = (x2); (p)[3] = (x3); } while (0)

/* the low 16 bits of each lane (a value below 2^16) to p */
#define VU_STORE_U16(p, u) (*(p) = (uint16_t)(u))

/* float16 bits of x, round to nearest even (F. Giesen's float_to_half_fast3_rtne): beyond
 * the largest half, infinity; below 2^-14, adding 0.5f (whose ulp, 2^-24, is the smallest
 * half) lets the FPU round the subnormal; else the exponent is rebased and the 13 dropped
 * bits rounded with integer adds.  No NaN reaches here. */
static inline uint16_t fi_f16_bits(float f)
{
    uint32_t x = fi_bits_f32(f), sign = (x >> 16) & 0x8000u;
    x &= 0x7fffffffu;
    if (x >= 0x47800000u) return (uint16_t)(sign | 0x7c00u);          /* |f| >= 2^16 */
    if (x < 0x38800000u)                                              /* |f| < 2^-14 */
        return (uint16_t)(sign | (fi_bits_f32(fi_f32_bits(x) + 0.5f) - 0x3f000000u));
    x += ((uint32_t)(15 - 127) << 23) + 0xfffu + ((x >> 13) & 1u);
    return (uint16_t)(sign | (x >> 13));
}
#define VH_STORE_F16(p, v) (*(p) = fi_f16_bits(v))

#define VF_SET1(x) ((float)(x))
#define VF_ADD(a, b) ((a) + (b))
#define VF_SUB(a, b) ((a) - (b))
#define VF_MUL(a, b) ((a) * (b))
#define VF_DIV(a, b) ((a) / (b))
#define VF_SQRT(a) sqrtf(a)
/* min/max with the SSE semantics (second operand when unordered or equal) */
#define VF_MIN(a, b) ((a) < (b) ? (a) : (b))
#define VF_MAX(a, b) ((a) > (b) ? (a) : (b))
#define VF_LT(a, b) ((a) < (b))
#define VF_SELECT(m, t, f) ((m) ? (t) : (f))
#define MF_ANY(m) (m)
#define VF_FROM_I32(u) ((float)(int32_t)(u))
#define VF_BITS(x) fi_bits_f32(x)
#define VF_FROM_BITS(u) fi_f32_bits(u)
#define VF_STOREU(p, v) (*(p) = (v))
#define VF_LOADU(p) (*(p))
#define MF_BITS(m) ((m) ? 1u : 0u)

#define VD_SET1(x) ((double)(x))
#define VD_ADD(a, b) ((a) + (b))
#define VD_SUB(a, b) ((a) - (b))
#define VD_MUL(a, b) ((a) * (b))
#define VD_DIV(a, b) ((a) / (b))
#define VD_SQRT(a) sqrt(a)
#define VD_MIN(a, b) ((a) < (b) ? (a) : (b))
#define VD_MAX(a, b) ((a) > (b) ? (a) : (b))
#define VD_LT(a, b) ((a) < (b))
#define VD_SELECT(m, t, f) ((m) ? (t) : (f))
#define MD_ANY(m) (m)
#define VD_BITS(x) fi_bits_f64(x)
#define VD_FROM_BITS(u) fi_f64_bits(u)
#define VD_STOREU(p, v) (*(p) = (v))
#define VD_LOADU(p) (*(p))
#define MD_BITS(m) ((m) ? 1u : 0u)
#define VD_LOAD_PAIRS(p, hi, lo) \
    do { (hi) = (double)((p)[0] >> 5); (lo) = (double)((p)[1] >> 6); } while (0)

#define VL_SET1(x) ((uint64_t)(x))
#define VL_ADD(a, b) ((uint64_t)((a) + (b)))
#define VL_AND(a, b) ((a) & (b))
#define VL_OR(a, b) ((a) | (b))
#define VL_SRLI(a, n) ((a) >> (n))
