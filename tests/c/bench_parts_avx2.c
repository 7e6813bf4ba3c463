/* bench_parts' AVX2 half: kernel_template.h compiled a second time, for AVX2 (this file
 * alone gets the AVX2 flags), so that each pass of a quantile transform can be called
 * alone.  The passes are the library's own code. */
#include <math.h>
#include <string.h>

#include "kernels/isa_avx2.h"
#undef FI_TABLE_NAME
#define FI_TABLE_NAME fi_kernels_parts_avx2
#include "kernels/kernel_template.h"
#include "bench_parts.h"

#if FI_CHUNK != BENCH_PARTS_CHUNK
#  error "BENCH_PARTS_CHUNK must be kernel_template.h's FI_CHUNK"
#endif

static fi_params_f32 p32 = {.low = -1, .span = 2, .high_below = 0.99999994f, .mean = 0, .std = 1,
                            .a = -2, .b = 2, .cdf_a = 0.02275013f, .sf_b = 0.02275013f,
                            .mass = 0.9544997f, .lo = -INFINITY, .hi = INFINITY};
static fi_params_f64 p64 = {.low = -1, .span = 2, .high_below = 0.9999999999999999, .mean = 0,
                            .std = 1, .a = -2, .b = 2, .cdf_a = 0.022750131948179,
                            .sf_b = 0.022750131948179, .mass = 0.954499736103642,
                            .lo = -INFINITY, .hi = INFINITY};

/* The passes of one quantile transform, as FI_DEFINE_QUANTILE_TRANSFORM runs them. */
#define FI_DEFINE_PARTS(name, T, WIDTH, WPE, LOADU, STOREU, CENTRAL, TAIL, NDTRI)           \
    static void name##_pass_q(const uint32_t *w, size_t n, void *buf)                       \
    {                                                                                       \
        scratch *s = buf;                                                                   \
        T *q = (T *)s->q, *side = (T *)s->side;                                             \
        for (size_t i = 0; i < n; i += (WIDTH))                                             \
            STOREU(q + i, name##_q(w + (WPE) * i, (const void *)&P(T), side + i));          \
    }                                                                                       \
    static void name##_pass_central(const uint32_t *w, size_t n, void *buf)                 \
    {                                                                                       \
        scratch *s = buf;                                                                   \
        T *q = (T *)s->q, *out = (T *)s->out;                                               \
        (void)w;                                                                            \
        for (size_t i = 0; i < n; i += (WIDTH)) STOREU(out + i, CENTRAL(LOADU(q + i)));     \
    }                                                                                       \
    static void name##_pass_tail(const uint32_t *w, size_t n, void *buf)                    \
    {                                                                                       \
        scratch *s = buf;                                                                   \
        T *t = (T *)s->tails, *out = (T *)s->out;                                           \
        (void)w, (void)n;                                                                   \
        for (size_t i = 0; i < s->ntails; i += (WIDTH)) STOREU(out + i, TAIL(LOADU(t + i))); \
    }                                                                                       \
    static void name##_pass_ndtri(const uint32_t *w, size_t n, void *buf)                   \
    {                                                                                       \
        scratch *s = buf;                                                                   \
        T *q = (T *)s->q, *out = (T *)s->out;                                               \
        (void)w;                                                                            \
        memcpy(out, q, n * sizeof(T));                                                     \
        for (size_t i = 0; i < n; i += FI_CHUNK) NDTRI(out + i, FI_CHUNK);                  \
    }                                                                                       \
    static void name##_pass_finish(const uint32_t *w, size_t n, void *buf)                  \
    {                                                                                       \
        scratch *s = buf;                                                                   \
        T *z = (T *)s->q, *side = (T *)s->side, *out = (T *)s->out;                         \
        for (size_t i = 0; i < n; i += (WIDTH))                                             \
            STOREU(out + i, name##_finish(w + (WPE) * i, LOADU(z + i), (const void *)&P(T), \
                                          side + i));                                       \
    }                                                                                       \
    static void name##_pass_total(const uint32_t *w, size_t n, void *buf)                   \
    {                                                                                       \
        name(w, n, (const void *)&P(T), ((scratch *)buf)->out);                             \
    }                                                                                       \
    /* the tail values of word set 0, packed, and how many */                               \
    static void name##_collect_tails(const uint32_t *w, size_t n, scratch *s)               \
    {                                                                                       \
        T *q = (T *)s->q, *t = (T *)s->tails;                                               \
        name##_pass_q(w, n, s);                                                             \
        s->ntails = 0;                                                                      \
        for (size_t i = 0; i < n; i++)                                                      \
            if (q[i] < (T)0.075) t[s->ntails++] = q[i];                                     \
        while (s->ntails % (WIDTH)) t[s->ntails++] = (T)0.01;                               \
    }

/* each pass reads the parameter block of its precision */
#define P(T) PARAMS_##T
#define PARAMS_float p32
#define PARAMS_double p64

FI_DEFINE_PARTS(normal_f32, float, WF, 1, VF_LOADU, VF_STOREU,
                ndtri_central_f32, ndtri_tail_f32, ndtri_lower_f32_array)
FI_DEFINE_PARTS(truncated_normal_f32, float, WF, 1, VF_LOADU, VF_STOREU,
                ndtri_central_f32, ndtri_tail_f32, ndtri_lower_f32_array)
FI_DEFINE_PARTS(normal_f64, double, WD, 2, VD_LOADU, VD_STOREU,
                ndtri_central_f64, ndtri_tail_f64, ndtri_lower_f64_array)
FI_DEFINE_PARTS(truncated_normal_f64, double, WD, 2, VD_LOADU, VD_STOREU,
                ndtri_central_f64, ndtri_tail_f64, ndtri_lower_f64_array)

#define PARTS(name, T)                                                                       \
    {#name, sizeof(T), name##_pass_q, name##_pass_central, name##_pass_tail,            \
     name##_pass_ndtri, name##_pass_finish, name##_pass_total, name##_collect_tails}


const parts bench_parts_avx2[4] = {PARTS(normal_f32, float), PARTS(truncated_normal_f32, float),
                                   PARTS(normal_f64, double), PARTS(truncated_normal_f64, double)};
