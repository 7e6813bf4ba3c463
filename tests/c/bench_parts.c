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
 * bench_parts_avx2.c compiles the template a second time, for AVX2, so that its passes can
 * be called one by one; the values are the library's own (this file checks that the passes,
 * run in sequence, give the transform's bits).  This file has no ISA flags: it checks that
 * the CPU has AVX2 before calling them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_timing.h"
#include "bench_parts.h"
#include "dispatch.h"

#define BATCHES 201
#define WORD_SETS 16

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

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? (size_t)atol(argv[1]) : 2048;
    static scratch s;
    if (!(fi_available_isas() & (1u << FI_ISA_AVX2))) {
        printf("this CPU has no AVX2\n");
        return 0;
    }
    if (n < BENCH_PARTS_CHUNK) n = BENCH_PARTS_CHUNK;
    n = (n + BENCH_PARTS_CHUNK - 1) / BENCH_PARTS_CHUNK * BENCH_PARTS_CHUNK;
    if (n > MAX_N) n = MAX_N;
    uint32_t *words = malloc(WORD_SETS * 2 * n * sizeof(uint32_t));
    if (!words) return 1;
    fi_kernels_for(FI_ISA_AVX2)->philox_blocks((const uint32_t[2]){1, 2}, 0, 0, 0, 0,
                                               WORD_SETS * 2 * n / 4, words);
    const parts *all = bench_parts_avx2;
    printf("%zu values per call, ns per value, fastest of %d batches\n", n, BATCHES);
    printf("%-22s %7s %7s %12s %7s %7s %7s %7s %7s\n", "transform", "q", "central", "tail (share)",
           "ndtri", "finish", "sum", "total", "bits");
    for (size_t c = 0; c < 4; c++) {
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
