/* Cycles of the kernels alone, in cache: Philox blocks and each transform, per ISA.
 * Usage: bench_kernels [elements per call, default 2048] */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "dispatch.h"
#include "kernels/kernel_table.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? (size_t)atol(argv[1]) : 2048;
    uint32_t *words = malloc(8 * n + 64);
    double *out = malloc(8 * n + 64);
    const uint32_t key[2] = {0x12345678u, 0x9abcdef0u};
    fi_params_f32 p32 = {.low = -1, .span = 2, .high_below = 0.99999994f, .mean = 0, .std = 1,
                         .a = -2, .b = 2, .cdf_a = 0.02275013f, .sf_b = 0.02275013f, .mass = 0.9544997f};
    fi_params_f64 p64 = {.low = -1, .span = 2, .high_below = 0.9999999999999999, .mean = 0, .std = 1,
                         .a = -2, .b = 2, .cdf_a = 0.022750131948179, .sf_b = 0.022750131948179,
                         .mass = 0.954499736103642};
    fi_params_h16 ph = {p32, -65504.0f, 65504.0f};
    const char *dtype_names[] = {"f32", "f64", "f16", "bf16"};
    const char *dist_names[] = {"uniform", "normal", "truncated"};
    long reps = (long)(2e8 / n);
    for (int isa = 0; isa < FI_N_ISAS; isa++) {
        const fi_kernel_table *k = fi_kernels_for(isa);
        if (!k) continue;
        double t0 = now();
        for (long r = 0; r < reps; r++) k->philox_blocks(key, (uint32_t)r, 0, 0, 0, n / 2, words);
        printf("%-7s philox            %6.3f ns/word\n", k->name, (now() - t0) / (reps * 2.0 * n) * 1e9);
        for (int d = 0; d < 3; d++)
            for (int t = 0; t < FI_N_DTYPES; t++) {
                size_t m = t == FI_FLOAT64 ? n / 2 : n;
                const void *p = t == FI_FLOAT32   ? (const void *)&p32
                                : t == FI_FLOAT64 ? (const void *)&p64
                                                  : (const void *)&ph;
                t0 = now();
                for (long r = 0; r < reps; r++) k->transform[d][t](words, m, p, out);
                printf("%-7s %-9s %-4s  %6.3f ns/element\n", k->name, dist_names[d], dtype_names[t],
                       (now() - t0) / (reps * (double)m) * 1e9);
            }
    }
    free(words);
    free(out);
    return 0;
}
