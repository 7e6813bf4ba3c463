/* The per-ISA kernel table: every ISA instantiates kernel_template.h into one of these.
 * All tables compute bit-identical results; they differ only in speed. */
#ifndef FASTINIT_KERNEL_TABLE_H
#define FASTINIT_KERNEL_TABLE_H

#include <stddef.h>
#include <stdint.h>

/* Parameters of one draw, already reduced to what the element loop needs (fill.c derives
 * them once per call, in double, then rounds to the output precision). */
typedef struct {
    float low, span, high_below;          /* uniform: low + span * u, capped below high */
    float mean, std;                      /* normal and truncated normal */
    float a, b, cdf_a, sf_b, mass;        /* truncated normal, in standard units */
    float lo, hi;                         /* truncated normal: the support, in values */
} fi_params_f32;

typedef struct {
    double low, span, high_below;
    double mean, std;
    double a, b, cdf_a, sf_b, mass;
    double lo, hi;
} fi_params_f64;

/* float16 / bfloat16: the float32 draw, clamped to [lo, hi] (the nearest half values inside
 * the distribution's support, both exact in half) and rounded to nearest even. */
typedef struct {
    fi_params_f32 f32;
    float lo, hi;
} fi_params_h16;

/* Writes nblocks Philox blocks for counters (c0 + j, c1, c2, c3), j = 0..nblocks-1, as
 * 4 * nblocks words in stream order.  The caller guarantees c0 + nblocks <= 2^32. */
typedef void (*fi_philox_blocks_fn)(const uint32_t key[2], uint32_t c0, uint32_t c1,
                                    uint32_t c2, uint32_t c3, size_t nblocks, uint32_t *words);

/* Turns the words of n consecutive elements (1 word each for float32, float16 and
 * bfloat16, 2 for float64) into n output values. */
typedef void (*fi_transform_fn)(const uint32_t *words, size_t n, const void *params, void *out);

enum { FI_UNIFORM = 0, FI_NORMAL = 1, FI_TRUNCATED_NORMAL = 2, FI_N_DISTRIBUTIONS = 3 };
enum { FI_FLOAT32 = 0, FI_FLOAT64 = 1, FI_FLOAT16 = 2, FI_BFLOAT16 = 3, FI_N_DTYPES = 4 };

/* Copies bytes with non-temporal stores, so that outputs larger than the caches are
 * written without first being read in; NULL for an ISA without them.  The stores are
 * weakly ordered until the thread that made them calls the table's stream_fence (once,
 * after its last copy: a fence per copy would stall every copy until memory took it). */
typedef void (*fi_stream_copy_fn)(void *dst, const void *src, size_t bytes);
typedef void (*fi_stream_fence_fn)(void);

typedef struct {
    const char *name;
    fi_philox_blocks_fn philox_blocks;
    fi_transform_fn transform[FI_N_DISTRIBUTIONS][FI_N_DTYPES];
    fi_stream_copy_fn stream_copy;
    fi_stream_fence_fn stream_fence;
} fi_kernel_table;

extern const fi_kernel_table fi_kernels_scalar;
#if defined(FI_HAVE_X86_KERNELS)
extern const fi_kernel_table fi_kernels_avx2;
extern const fi_kernel_table fi_kernels_avx512;
#endif
#if defined(FI_HAVE_NEON_KERNELS)
extern const fi_kernel_table fi_kernels_neon;
#endif

#endif
