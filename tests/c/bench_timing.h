/* The clock and the sort order of the kernel benchmarks (bench_kernels, bench_parts). */
#ifndef FASTINIT_BENCH_TIMING_H
#define FASTINIT_BENCH_TIMING_H

#include <time.h>

/* seconds, monotonic */
static inline double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

/* qsort's comparison of doubles, ascending */
static inline int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

#endif
