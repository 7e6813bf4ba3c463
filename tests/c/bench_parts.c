/* Where the time of a quantile transform goes, on AVX2: each of its passes timed alone,
 * in cache, in ns per value.  Usage: bench_parts [elements per call, default 2048]
 *
 *   q        the probability of each value from its stream words (and which half it took)
 *   central  the central branch of Phi^-1 on every value, nothing else
 *   tail     the tail branch on packed tail values, per tail value
 *   ndtri    Phi^-1 as the transform runs it: central on all, packing, tails on the packed
 *            (and a copy of q, in cache, which costs ~0.02 ns)
 *   finish   the value from z (sign, truncation clamp, mean + std z)
 *   total    the whole transform, as bench_kernels times it
 *
 * The template is compiled here a second time, for AVX2, so that its passes can be called
 * one by one; the values are the library's own (this file checks that the passes, run in
 * sequence, give the transform's bits). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kernels/isa_avx2.h"
#undef FI_TABLE_NAME
#define FI_TABLE_NAME fi_kernels_parts_avx2
#include "kernels/kernel_template.h"
#include "dispatch.h"

#define BATCHES 201
#define WORD_SETS 16

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* One pass of one transform over n values (n a multiple of FI_CHUNK) from word set r. */
typedef void (*pass_fn)(const uint32_t *words, size_t n, void *buf);

/* fastest of BATCHES batches of `reps` calls, ns per value */
static double fastest(pass_fn f, const uint32_t *words, size_t words_per_set, size_t n,
                      double units, void *buf)
{
    double t[BATCHES];
    long reps = (long)(2e5 / n) + WORD_SETS;
    for (int b = 0; b < BATCHES; b++) {
        double t0 = now();
        for (long r = 0; r < reps; r++) f(words + (size_t)(r % WORD_SETS) * words_per_set, n, buf);
        t[b] = (now() - t0) / (reps * units) * 1e9;
    }
    qsort(t, BATCHES, sizeof t[0], by_value);
    return t[0];
}

static fi_params_f32 p32 = {.low = -1, .span = 2, .high_below = 0.99999994f, .mean = 0, .std = 1,
                            .a = -2, .b = 2, .cdf_a = 0.02275013f, .sf_b = 0.02275013f,
                            .mass = 0.9544997f};
static fi_params_f64 p64 = {.low = -1, .span = 2, .high_below = 0.9999999999999999, .mean = 0,
                            .std = 1, .a = -2, .b = 2, .cdf_a = 0.022750131948179,
                            .sf_b = 0.022750131948179, .mass = 0.954499736103642};

/* The scratch of every pass: q, side and out of n values each (n <= MAX_N), tail values. */
#define MAX_N 65536
typedef struct {
    double q[MAX_N], side[MAX_N], out[MAX_N], tails[MAX_N];
    size_t ntails;
} scratch;

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

typedef struct {
    const char *name;
    size_t bytes;
    pass_fn q, central, tail, ndtri, finish, total;
    void (*collect)(const uint32_t *, size_t, scratch *);
} parts;

#define PARTS(name, T)                                                                       \
    {#name, sizeof(T), name##_pass_q, name##_pass_central, name##_pass_tail,            \
     name##_pass_ndtri, name##_pass_finish, name##_pass_total, name##_collect_tails}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? (size_t)atol(argv[1]) : 2048;
    static scratch s;
    if (!(fi_available_isas() & (1u << FI_ISA_AVX2))) {
        printf("this CPU has no AVX2\n");
        return 0;
    }
    n = (n + FI_CHUNK - 1) / FI_CHUNK * FI_CHUNK;
    if (n > MAX_N) n = MAX_N;
    uint32_t *words = malloc(WORD_SETS * 2 * n * sizeof(uint32_t));
    philox_blocks((const uint32_t[2]){1, 2}, 0, 0, 0, 0, WORD_SETS * 2 * n / 4, words);
    const parts all[] = {PARTS(normal_f32, float), PARTS(truncated_normal_f32, float),
                         PARTS(normal_f64, double), PARTS(truncated_normal_f64, double)};
    printf("%zu values per call, ns per value, fastest of %d batches\n", n, BATCHES);
    printf("%-22s %7s %7s %12s %7s %7s %7s %7s %7s\n", "transform", "q", "central", "tail (share)",
           "ndtri", "finish", "sum", "total", "bits");
    for (size_t c = 0; c < sizeof all / sizeof all[0]; c++) {
        const parts *x = &all[c];
        size_t wps = 2 * n;
        /* the passes in sequence must give the transform's values */
        x->q(words, n, &s);
        x->ndtri(words, n, &s);
        memcpy(s.q, s.out, n * x->bytes);
        x->finish(words, n, &s);
        memcpy(s.tails, s.out, n * x->bytes);
        x->total(words, n, &s);
        int same = memcmp(s.tails, s.out, n * x->bytes) == 0;
        x->q(words, n, &s);   /* q and side of set 0 for the central/ndtri/finish timings */
        double tq = fastest(x->q, words, wps, n, (double)n, &s);
        x->q(words, n, &s);
        double tc = fastest(x->central, words, wps, n, (double)n, &s);
        double tn = fastest(x->ndtri, words, wps, n, (double)n, &s);
        double tf = fastest(x->finish, words, wps, n, (double)n, &s);
        x->collect(words, n, &s);
        double share = (double)s.ntails / n;
        double tt = fastest(x->tail, words, wps, n, (double)s.ntails, &s);
        double total = fastest(x->total, words, wps, n, (double)n, &s);
        printf("%-22s %7.3f %7.3f %6.3f (%2.0f%%) %7.3f %7.3f %7.3f %7.3f %7s\n", x->name, tq, tc,
               tt, 100 * share, tn, tf, tq + tn + tf, total, same ? "same" : "DIFFER");
        if (!same) return 1;
    }
    free(words);
    return 0;
}
