/* Time of the kernels alone, in cache: Philox blocks and each transform, per ISA.
 * Usage: bench_kernels [elements per call, default 2048] [ISA name, default all]
 * Each figure is the fastest of many short batches (about 0.2 ms each), so that other work
 * on a shared machine, which only ever adds time, drops out; the median is printed beside
 * it as a measure of that noise.  The transforms read WORD_SETS different sets of stream
 * words in turn, as a fill does: on one set reused, the branch predictor would learn where
 * its tail values are, and the normal would look up to 2x faster than it is. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_timing.h"
#include "dispatch.h"
#include "kernels/kernel_table.h"

#define BATCHES 301
#define WORD_SETS 16

typedef struct {
    const fi_kernel_table *k;
    int dist, dtype;          /* dist < 0: Philox */
    size_t n;
    uint32_t *words;
    void *out;
    const void *params;
} bench_case;

static void run_once(const bench_case *c, long r)
{
    if (c->dist < 0)
        c->k->philox_blocks((const uint32_t[2]){0x12345678u, 0x9abcdef0u}, (uint32_t)r, 0, 0, 0,
                            c->n / 4, c->words);
    else   /* set r of the words, 2 per element at most */
        c->k->transform[c->dist][c->dtype](c->words + (size_t)(r % WORD_SETS) * 2 * c->n,
                                           c->n, c->params, c->out);
}

/* (fastest, median) ns per unit over BATCHES batches of `reps` calls */
static void time_case(const bench_case *c, long reps, double units, double *best, double *median)
{
    double t[BATCHES];
    for (int b = 0; b < BATCHES; b++) {
        double t0 = now();
        for (long r = 0; r < reps; r++) run_once(c, r);
        t[b] = (now() - t0) / (reps * units) * 1e9;
    }
    qsort(t, BATCHES, sizeof t[0], by_value);
    *best = t[0];
    *median = t[BATCHES / 2];
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? (size_t)atol(argv[1]) : 2048;
    const char *only = argc > 2 ? argv[2] : NULL;
    n = (n + 7) / 8 * 8;
    uint32_t *words = malloc(WORD_SETS * 8 * n + 64);
    double *out = malloc(8 * n + 64);
    fi_params_f32 p32 = {.low = -1, .span = 2, .high_below = 0.99999994f, .mean = 0, .std = 1,
                         .a = -2, .b = 2, .cdf_a = 0.02275013f, .sf_b = 0.02275013f, .mass = 0.9544997f,
                         .lo = -INFINITY, .hi = INFINITY};
    fi_params_f64 p64 = {.low = -1, .span = 2, .high_below = 0.9999999999999999, .mean = 0, .std = 1,
                         .a = -2, .b = 2, .cdf_a = 0.022750131948179, .sf_b = 0.022750131948179,
                         .mass = 0.954499736103642, .lo = -INFINITY, .hi = INFINITY};
    fi_params_h16 p16 = {p32, -65504.0f, 65504.0f};
    const char *dtype_names[] = {"f32", "f64", "f16", "bf16"};
    const char *dist_names[] = {"uniform", "normal", "truncated"};
    /* about 0.2 ms per batch at ~1 ns per unit, and every word set at least once */
    long reps = (long)(2e5 / n) + 1;
    if (reps < WORD_SETS) reps = WORD_SETS;
    printf("%zu elements per call; fastest (median) of %d batches of %ld calls\n", n, BATCHES, reps);
    for (int isa = 0; isa < FI_N_ISAS; isa++) {
        const fi_kernel_table *k = fi_kernels_for(isa);
        if (!k || (only && strcmp(only, k->name))) continue;
        double best, median;
        bench_case ph = {k, -1, 0, 2 * n, words, out, NULL};
        time_case(&ph, reps, 2.0 * n, &best, &median);
        /* real stream words for the transforms: their tail branches run as often as in use */
        k->philox_blocks((const uint32_t[2]){1, 2}, 0, 0, 0, 0, WORD_SETS * 2 * n / 4, words);
        printf("%-7s philox            %6.3f (%6.3f) ns/word\n", k->name, best, median);
        for (int d = 0; d < 3; d++)
            for (int t = 0; t < FI_N_DTYPES; t++) {
                size_t m = t == FI_FLOAT64 ? n / 2 : n;
                const void *p = t == FI_FLOAT32   ? (const void *)&p32
                                : t == FI_FLOAT64 ? (const void *)&p64
                                                  : (const void *)&p16;
                bench_case c = {k, d, t, m, words, out, p};
                time_case(&c, reps, (double)m, &best, &median);
                printf("%-7s %-9s %-4s  %6.3f (%6.3f) ns/element\n", k->name, dist_names[d],
                       dtype_names[t], best, median);
            }
    }
    free(words);
    free(out);
    return 0;
}
