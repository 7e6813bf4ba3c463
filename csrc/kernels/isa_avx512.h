/* The vector vocabulary of kernel_template.h for AVX-512F: 16 float32 / 8 float64 lanes.
 * Compiled only into kernels_avx512.c (with -mavx512f) and run only after dispatch.c
 * has seen AVX-512F in cpuid and the ZMM state enabled by the OS. */
#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>

#define FI_ISA_NAME "avx512"
#define FI_TABLE_NAME fi_kernels_avx512
#define WF 16
#define WD 8

typedef __m512i VU;
typedef __m512 VF;
typedef __m512d VD;
typedef __m512i VL;
typedef __mmask16 MF;
typedef __mmask8 MD;

#define VU_LOADU(p) _mm512_loadu_si512((const void *)(p))
#define VU_SET1(x) _mm512_set1_epi32((int)(uint32_t)(x))
#define VU_LANES() _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
#define VU_STREAM(p, v) _mm512_stream_si512((void *)(p), v)
#define VU_STREAM_FENCE() _mm_sfence()
#define VU_ADD(a, b) _mm512_add_epi32(a, b)
#define VU_XOR(a, b) _mm512_xor_si512(a, b)
#define VU_AND(a, b) _mm512_and_si512(a, b)
#define VU_SRLI(a, n) _mm512_srli_epi32(a, n)
#define VU_SRAI(a, n) _mm512_srai_epi32(a, n)
#define VU_MULHILO(a, m, hi, lo)                                                    \
    do {                                                                            \
        __m512i fi_pe_ = _mm512_mul_epu32(a, m);                                    \
        __m512i fi_po_ = _mm512_mul_epu32(_mm512_srli_epi64(a, 32), m);             \
        (hi) = _mm512_mask_blend_epi32(0xAAAA, _mm512_srli_epi64(fi_pe_, 32), fi_po_); \
        (lo) = _mm512_mask_blend_epi32(0xAAAA, fi_pe_, _mm512_slli_epi64(fi_po_, 32)); \
    } while (0)
/* 4x4 transposes inside each 128-bit lane, then of the 128-bit lanes themselves */
#define VU_STORE_BLOCKS(p, x0, x1, x2, x3)                                        \
    do {                                                                          \
        __m512i t0_ = _mm512_unpacklo_epi32(x0, x1), t1_ = _mm512_unpackhi_epi32(x0, x1); \
        __m512i t2_ = _mm512_unpacklo_epi32(x2, x3), t3_ = _mm512_unpackhi_epi32(x2, x3); \
        __m512i b0_ = _mm512_unpacklo_epi64(t0_, t2_), b1_ = _mm512_unpackhi_epi64(t0_, t2_); \
        __m512i b2_ = _mm512_unpacklo_epi64(t1_, t3_), b3_ = _mm512_unpackhi_epi64(t1_, t3_); \
        __m512i s0_ = _mm512_shuffle_i32x4(b0_, b1_, 0x44), s1_ = _mm512_shuffle_i32x4(b2_, b3_, 0x44); \
        __m512i s2_ = _mm512_shuffle_i32x4(b0_, b1_, 0xEE), s3_ = _mm512_shuffle_i32x4(b2_, b3_, 0xEE); \
        uint32_t *q_ = (p);                                                      \
        _mm512_storeu_si512(q_ + 0, _mm512_shuffle_i32x4(s0_, s1_, 0x88));      \
        _mm512_storeu_si512(q_ + 16, _mm512_shuffle_i32x4(s0_, s1_, 0xDD));     \
        _mm512_storeu_si512(q_ + 32, _mm512_shuffle_i32x4(s2_, s3_, 0x88));     \
        _mm512_storeu_si512(q_ + 48, _mm512_shuffle_i32x4(s2_, s3_, 0xDD));     \
    } while (0)

/* the low 16 bits of each lane (a value below 2^16), narrowed by vpmovdw */
#define VU_STORE_U16(p, u) _mm256_storeu_si256((__m256i *)(void *)(p), _mm512_cvtepi32_epi16(u))
/* vcvtps2ph (AVX-512F), round to nearest even by the immediate.  (AVX512-BF16's
 * vcvtneps2bf16 is not used: it flushes subnormal inputs to zero, and bfloat16 keeps them.) */
#define VH_STORE_F16(p, v)                                                   \
    _mm256_storeu_si256((__m256i *)(void *)(p),                              \
                        _mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC))

#define VF_SET1(x) _mm512_set1_ps((float)(x))
#define VF_ADD(a, b) _mm512_add_ps(a, b)
#define VF_SUB(a, b) _mm512_sub_ps(a, b)
#define VF_MUL(a, b) _mm512_mul_ps(a, b)
#define VF_DIV(a, b) _mm512_div_ps(a, b)
#define VF_SQRT(a) _mm512_sqrt_ps(a)
#define VF_MIN(a, b) _mm512_min_ps(a, b)
#define VF_MAX(a, b) _mm512_max_ps(a, b)
#define VF_LT(a, b) _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ)
#define VF_SELECT(m, t, f) _mm512_mask_blend_ps(m, f, t)
#define MF_ANY(m) ((m) != 0)
#define VF_FROM_I32(u) _mm512_cvtepi32_ps(u)
#define VF_BITS(x) _mm512_castps_si512(x)
#define VF_FROM_BITS(u) _mm512_castsi512_ps(u)
#define VF_STOREU(p, v) _mm512_storeu_ps(p, v)
#define VF_LOADU(p) _mm512_loadu_ps(p)
#define MF_BITS(m) ((unsigned)(m))

#define VD_SET1(x) _mm512_set1_pd((double)(x))
#define VD_ADD(a, b) _mm512_add_pd(a, b)
#define VD_SUB(a, b) _mm512_sub_pd(a, b)
#define VD_MUL(a, b) _mm512_mul_pd(a, b)
#define VD_DIV(a, b) _mm512_div_pd(a, b)
#define VD_SQRT(a) _mm512_sqrt_pd(a)
#define VD_MIN(a, b) _mm512_min_pd(a, b)
#define VD_MAX(a, b) _mm512_max_pd(a, b)
#define VD_LT(a, b) _mm512_cmp_pd_mask(a, b, _CMP_LT_OQ)
#define VD_SELECT(m, t, f) _mm512_mask_blend_pd(m, f, t)
#define MD_ANY(m) ((m) != 0)
#define VD_BITS(x) _mm512_castpd_si512(x)
#define VD_FROM_BITS(u) _mm512_castsi512_pd(u)
#define VD_STOREU(p, v) _mm512_storeu_pd(p, v)
#define VD_LOADU(p) _mm512_loadu_pd(p)
#define MD_BITS(m) ((unsigned)(m))
#define VD_LOAD_PAIRS(p, hi, lo)                                                          \
    do {                                                                                  \
        __m512i d_ = _mm512_permutexvar_epi32(                                            \
            _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15), VU_LOADU(p)); \
        d_ = _mm512_srlv_epi32(d_, _mm512_setr_epi32(5, 5, 5, 5, 5, 5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 6)); \
        (hi) = _mm512_cvtepi32_pd(_mm512_castsi512_si256(d_));                            \
        (lo) = _mm512_cvtepi32_pd(_mm512_extracti64x4_epi64(d_, 1));                      \
    } while (0)

#define VL_SET1(x) _mm512_set1_epi64((long long)(x))
#define VL_ADD(a, b) _mm512_add_epi64(a, b)
#define VL_AND(a, b) _mm512_and_si512(a, b)
#define VL_OR(a, b) _mm512_or_si512(a, b)
#define VL_SRLI(a, n) _mm512_srli_epi64(a, n)
/* Philox on 64-bit lanes (kernel_template.h): 8 blocks per register */
#define VL_LANES() _mm512_setr_epi64(0, 1, 2, 3, 4, 5, 6, 7)
#define VL_MUL_EPU32(a, b) _mm512_mul_epu32(a, b)
#define VL_XOR3(a, b, c) _mm512_ternarylogic_epi64(a, b, c, 0x96)
/* low halves of x0..x3 -> 8 blocks of 4 words in stream order */
#define VL_STORE_BLOCKS(p, x0, x1, x2, x3)                                                  \
    do {                                                                                    \
        __m512i a_ = _mm512_mask_blend_epi32(0xAAAA, x0, _mm512_slli_epi64(x1, 32));       \
        __m512i b_ = _mm512_mask_blend_epi32(0xAAAA, x2, _mm512_slli_epi64(x3, 32));       \
        __m512i even_ = _mm512_unpacklo_epi64(a_, b_), odd_ = _mm512_unpackhi_epi64(a_, b_); \
        uint32_t *q_ = (p);                                                                 \
        _mm512_storeu_si512(q_, _mm512_permutex2var_epi64(                                  \
            even_, _mm512_setr_epi64(0, 1, 8, 9, 2, 3, 10, 11), odd_));                     \
        _mm512_storeu_si512(q_ + 16, _mm512_permutex2var_epi64(                             \
            even_, _mm512_setr_epi64(4, 5, 12, 13, 6, 7, 14, 15), odd_));                   \
    } while (0)

/* kernel_template.h's lane packing, with the compress instructions */
#define FI_HAVE_COMPRESS_F32 1
static inline size_t compress_f32(__mmask16 m, __m512 v, size_t i, float *dq, uint32_t *di)
{
    unsigned bits = (unsigned)m, count = 0;
    _mm512_mask_compressstoreu_ps(dq, m, v);
    _mm512_mask_compressstoreu_epi32(di, m, _mm512_add_epi32(_mm512_set1_epi32((int)i), VU_LANES()));
    for (; bits; bits &= bits - 1) count++;
    return count;
}
