/* The vector vocabulary of kernel_template.h for AVX2: 8 float32 / 4 float64 lanes.
 * Compiled only into kernels_avx2.c (with -mavx2) and run only after dispatch.c has
 * seen AVX2 in cpuid and the YMM state enabled by the OS. */
#include <immintrin.h>
#include <stdint.h>

#define FI_ISA_NAME "avx2"
#define FI_TABLE_NAME fi_kernels_avx2
#define WF 8
#define WD 4
/* Philox: 3 groups of 4 blocks; 4 groups spill their 16 state registers out of the 16
 * YMM registers (Zen 3: 0.86 -> 0.73 ns per word). */
#define FI_PHILOX_GROUPS 3

typedef __m256i VU;
typedef __m256 VF;
typedef __m256d VD;
typedef __m256i VL;
typedef __m256 MF;
typedef __m256d MD;

#define VU_LOADU(p) _mm256_loadu_si256((const __m256i *)(const void *)(p))
#define VU_SET1(x) _mm256_set1_epi32((int)(uint32_t)(x))
#define VU_LANES() _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)
#define VU_STREAM(p, v) _mm256_stream_si256((__m256i *)(void *)(p), v)
#define VU_STREAM_FENCE() _mm_sfence()
#define VU_ADD(a, b) _mm256_add_epi32(a, b)
#define VU_XOR(a, b) _mm256_xor_si256(a, b)
#define VU_AND(a, b) _mm256_and_si256(a, b)
#define VU_SRLI(a, n) _mm256_srli_epi32(a, n)
#define VU_SRAI(a, n) _mm256_srai_epi32(a, n)
/* 32x32->64 products of the even lanes, then of the odd lanes shifted down */
#define VU_MULHILO(a, m, hi, lo)                                              \
    do {                                                                      \
        __m256i fi_pe_ = _mm256_mul_epu32(a, m);                              \
        __m256i fi_po_ = _mm256_mul_epu32(_mm256_srli_epi64(a, 32), m);       \
        (hi) = _mm256_blend_epi32(_mm256_srli_epi64(fi_pe_, 32), fi_po_, 0xAA); \
        (lo) = _mm256_blend_epi32(fi_pe_, _mm256_slli_epi64(fi_po_, 32), 0xAA); \
    } while (0)
/* lane l of x0..x3 is block l: transpose 4x8 so the blocks land in stream order */
#define VU_STORE_BLOCKS(p, x0, x1, x2, x3)                                       \
    do {                                                                         \
        __m256i t0_ = _mm256_unpacklo_epi32(x0, x1), t1_ = _mm256_unpackhi_epi32(x0, x1); \
        __m256i t2_ = _mm256_unpacklo_epi32(x2, x3), t3_ = _mm256_unpackhi_epi32(x2, x3); \
        __m256i b0_ = _mm256_unpacklo_epi64(t0_, t2_), b1_ = _mm256_unpackhi_epi64(t0_, t2_); \
        __m256i b2_ = _mm256_unpacklo_epi64(t1_, t3_), b3_ = _mm256_unpackhi_epi64(t1_, t3_); \
        __m256i *q_ = (__m256i *)(void *)(p);                                  \
        _mm256_storeu_si256(q_ + 0, _mm256_permute2x128_si256(b0_, b1_, 0x20)); \
        _mm256_storeu_si256(q_ + 1, _mm256_permute2x128_si256(b2_, b3_, 0x20)); \
        _mm256_storeu_si256(q_ + 2, _mm256_permute2x128_si256(b0_, b1_, 0x31)); \
        _mm256_storeu_si256(q_ + 3, _mm256_permute2x128_si256(b2_, b3_, 0x31)); \
    } while (0)

/* the low 16 bits of each lane (a value below 2^16): pack, then gather the two halves */
#define VU_STORE_U16(p, u)                                                                  \
    _mm_storeu_si128((__m128i *)(void *)(p),                                                \
                     _mm256_castsi256_si128(_mm256_permute4x64_epi64(_mm256_packus_epi32(u, u), 0x08)))
/* F16C (kernels_avx2.c is built with -mf16c; dispatch.c uses this table's float16 column
 * only where cpuid shows F16C): round to nearest even by the immediate, not MXCSR */
#define VH_STORE_F16(p, v) \
    _mm_storeu_si128((__m128i *)(void *)(p), _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT))

#define VF_SET1(x) _mm256_set1_ps((float)(x))
#define VF_ADD(a, b) _mm256_add_ps(a, b)
#define VF_SUB(a, b) _mm256_sub_ps(a, b)
#define VF_MUL(a, b) _mm256_mul_ps(a, b)
#define VF_DIV(a, b) _mm256_div_ps(a, b)
#define VF_SQRT(a) _mm256_sqrt_ps(a)
#define VF_MIN(a, b) _mm256_min_ps(a, b)
#define VF_MAX(a, b) _mm256_max_ps(a, b)
#define VF_LT(a, b) _mm256_cmp_ps(a, b, _CMP_LT_OQ)
#define VF_SELECT(m, t, f) _mm256_blendv_ps(f, t, m)
#define MF_ANY(m) _mm256_movemask_ps(m)
#define VF_FROM_I32(u) _mm256_cvtepi32_ps(u)
#define VF_BITS(x) _mm256_castps_si256(x)
#define VF_FROM_BITS(u) _mm256_castsi256_ps(u)
#define VF_STOREU(p, v) _mm256_storeu_ps(p, v)
#define VF_LOADU(p) _mm256_loadu_ps(p)
#define MF_BITS(m) ((unsigned)_mm256_movemask_ps(m))

#define VD_SET1(x) _mm256_set1_pd((double)(x))
#define VD_ADD(a, b) _mm256_add_pd(a, b)
#define VD_SUB(a, b) _mm256_sub_pd(a, b)
#define VD_MUL(a, b) _mm256_mul_pd(a, b)
#define VD_DIV(a, b) _mm256_div_pd(a, b)
#define VD_SQRT(a) _mm256_sqrt_pd(a)
#define VD_MIN(a, b) _mm256_min_pd(a, b)
#define VD_MAX(a, b) _mm256_max_pd(a, b)
#define VD_LT(a, b) _mm256_cmp_pd(a, b, _CMP_LT_OQ)
#define VD_SELECT(m, t, f) _mm256_blendv_pd(f, t, m)
#define MD_ANY(m) _mm256_movemask_pd(m)
#define VD_BITS(x) _mm256_castpd_si256(x)
#define VD_FROM_BITS(u) _mm256_castsi256_pd(u)
#define VD_STOREU(p, v) _mm256_storeu_pd(p, v)
#define VD_LOADU(p) _mm256_loadu_pd(p)
#define MD_BITS(m) ((unsigned)_mm256_movemask_pd(m))
/* 4 elements = 8 words (w0 w1 w0 w1 ...): gather the w0s and w1s, shift, widen */
#define VD_LOAD_PAIRS(p, hi, lo)                                                          \
    do {                                                                                  \
        __m256i d_ = _mm256_permutevar8x32_epi32(VU_LOADU(p),                             \
                                                 _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7)); \
        d_ = _mm256_srlv_epi32(d_, _mm256_setr_epi32(5, 5, 5, 5, 6, 6, 6, 6));            \
        (hi) = _mm256_cvtepi32_pd(_mm256_castsi256_si128(d_));                            \
        (lo) = _mm256_cvtepi32_pd(_mm256_extracti128_si256(d_, 1));                       \
    } while (0)

#define VL_SET1(x) _mm256_set1_epi64x((long long)(x))
#define VL_ADD(a, b) _mm256_add_epi64(a, b)
#define VL_AND(a, b) _mm256_and_si256(a, b)
#define VL_OR(a, b) _mm256_or_si256(a, b)
#define VL_SRLI(a, n) _mm256_srli_epi64(a, n)
/* Philox on 64-bit lanes (kernel_template.h): 4 blocks per register */
#define VL_LANES() _mm256_setr_epi64x(0, 1, 2, 3)
#define VL_MUL_EPU32(a, b) _mm256_mul_epu32(a, b)
#define VL_XOR3(a, b, c) _mm256_xor_si256(_mm256_xor_si256(a, b), c)
/* low halves of x0..x3 -> 4 blocks of 4 words in stream order */
#define VL_STORE_BLOCKS(p, x0, x1, x2, x3)                                              \
    do {                                                                                \
        __m256i a_ = _mm256_blend_epi32(x0, _mm256_slli_epi64(x1, 32), 0xAA);          \
        __m256i b_ = _mm256_blend_epi32(x2, _mm256_slli_epi64(x3, 32), 0xAA);          \
        __m256i even_ = _mm256_unpacklo_epi64(a_, b_), odd_ = _mm256_unpackhi_epi64(a_, b_); \
        __m256i *q_ = (__m256i *)(void *)(p);                                          \
        _mm256_storeu_si256(q_, _mm256_permute2x128_si256(even_, odd_, 0x20));         \
        _mm256_storeu_si256(q_ + 1, _mm256_permute2x128_si256(even_, odd_, 0x31));     \
    } while (0)

/* kernel_template.h's lane packing, by a permutation (AVX2 has no compress instruction).
 * FI_PACK(m): the indices of the set bits of the 8-bit mask m, lowest first, one per
 * nibble (nibble p holds lane l when l is the p-th set bit); unused nibbles are 0.
 * Computed by the preprocessor, so the table is derived, not typed. */
#define FI_POP8(m) (((m) & 1) + ((m) >> 1 & 1) + ((m) >> 2 & 1) + ((m) >> 3 & 1) + \
                    ((m) >> 4 & 1) + ((m) >> 5 & 1) + ((m) >> 6 & 1) + ((m) >> 7 & 1))
#define FI_NIB(m, l) (((m) >> (l) & 1u) * ((uint32_t)(l) << (4 * FI_POP8((m) & ((1u << (l)) - 1)))))
#define FI_PACK(m) (FI_NIB(m, 0) | FI_NIB(m, 1) | FI_NIB(m, 2) | FI_NIB(m, 3) | \
                    FI_NIB(m, 4) | FI_NIB(m, 5) | FI_NIB(m, 6) | FI_NIB(m, 7))
#define FI_PACK4(m) FI_PACK(m), FI_PACK(m + 1), FI_PACK(m + 2), FI_PACK(m + 3)
#define FI_PACK16(m) FI_PACK4(m), FI_PACK4(m + 4), FI_PACK4(m + 8), FI_PACK4(m + 12)
#define FI_PACK64(m) FI_PACK16(m), FI_PACK16(m + 16), FI_PACK16(m + 32), FI_PACK16(m + 48)
static const uint32_t fi_pack_table[256] = {FI_PACK64(0u), FI_PACK64(64u), FI_PACK64(128u),
                                            FI_PACK64(192u)};
#define FI_POP4(m) FI_POP8(m), FI_POP8(m + 1), FI_POP8(m + 2), FI_POP8(m + 3)
#define FI_POP16(m) FI_POP4(m), FI_POP4(m + 4), FI_POP4(m + 8), FI_POP4(m + 12)
#define FI_POP64(m) FI_POP16(m), FI_POP16(m + 16), FI_POP16(m + 32), FI_POP16(m + 48)
static const uint8_t fi_count_table[256] = {FI_POP64(0u), FI_POP64(64u), FI_POP64(128u),
                                            FI_POP64(192u)};
/* the 4-bit mask of float64 lanes as the 8-bit mask of their 32-bit halves */
#define FI_PAIRS(m) (((m) & 1) * 3u | ((m) >> 1 & 1) * 12u | ((m) >> 2 & 1) * 48u | ((m) >> 3 & 1) * 192u)
static const uint8_t fi_pairs_table[16] = {
    FI_PAIRS(0), FI_PAIRS(1), FI_PAIRS(2), FI_PAIRS(3), FI_PAIRS(4), FI_PAIRS(5), FI_PAIRS(6),
    FI_PAIRS(7), FI_PAIRS(8), FI_PAIRS(9), FI_PAIRS(10), FI_PAIRS(11), FI_PAIRS(12),
    FI_PAIRS(13), FI_PAIRS(14), FI_PAIRS(15)};
/* the 8 lane indices of packed nibbles (permutevar8x32 reads only the low 3 bits) */
static inline __m256i fi_unpack_nibbles(uint32_t packed)
{
    return _mm256_srlv_epi32(_mm256_set1_epi32((int)packed),
                             _mm256_setr_epi32(0, 4, 8, 12, 16, 20, 24, 28));
}

/* Writes a whole vector at dq and di, of which the first `count` lanes are the result
 * (kernel_template.h leaves a vector of room). */
#define FI_HAVE_COMPRESS_F32 1
static inline size_t compress_f32(__m256 m, __m256 v, size_t i, float *dq, uint32_t *di)
{
    unsigned bits = (unsigned)_mm256_movemask_ps(m);
    __m256i idx = fi_unpack_nibbles(fi_pack_table[bits]);
    _mm256_storeu_ps(dq, _mm256_permutevar8x32_ps(v, idx));
    _mm256_storeu_si256((__m256i *)(void *)di,
                        _mm256_add_epi32(_mm256_and_si256(idx, _mm256_set1_epi32(7)),
                                         _mm256_set1_epi32((int)i)));
    return fi_count_table[bits];
}

#define FI_HAVE_COMPRESS_F64 1
static inline size_t compress_f64(__m256d m, __m256d v, size_t i, double *dq, uint32_t *di)
{
    unsigned bits = (unsigned)_mm256_movemask_pd(m);
    __m256i idx = fi_unpack_nibbles(fi_pack_table[fi_pairs_table[bits]]);
    _mm256_storeu_pd(dq, _mm256_castps_pd(_mm256_permutevar8x32_ps(_mm256_castpd_ps(v), idx)));
    /* element indices: the even 32-bit lane indices, halved */
    __m256i lane = _mm256_srli_epi32(_mm256_and_si256(idx, _mm256_set1_epi32(7)), 1);
    lane = _mm256_permutevar8x32_epi32(lane, _mm256_setr_epi32(0, 2, 4, 6, 0, 2, 4, 6));
    _mm_storeu_si128((__m128i *)(void *)di,
                     _mm_add_epi32(_mm256_castsi256_si128(lane), _mm_set1_epi32((int)i)));
    return fi_count_table[bits];
}

/* float32: packing every vector costs less than a mispredicted branch on whether it has
 * tail lanes (normal 1.18 -> 1.01 ns per value on fresh words); float64 keeps the branch,
 * which costs less there (3.80 -> 3.64). */
#define FI_PACK_ALWAYS_F32 1
