/* The passes of the quantile transforms, compiled for AVX2 in bench_parts_avx2.c and
 * timed by bench_parts.c, which itself runs on any x86-64 CPU. */
#ifndef FASTINIT_BENCH_PARTS_H
#define FASTINIT_BENCH_PARTS_H

#include <stddef.h>
#include <stdint.h>

/* The scratch of every pass: q, side and out of n values each (n <= MAX_N), tail values. */
#define MAX_N 65536
typedef struct {
    double q[MAX_N], side[MAX_N], out[MAX_N], tails[MAX_N];
    size_t ntails;
} scratch;

/* One pass of one transform over n values (n a multiple of BENCH_PARTS_CHUNK). */
typedef void (*pass_fn)(const uint32_t *words, size_t n, void *buf);

typedef struct {
    const char *name;
    size_t bytes;
    pass_fn q, central, tail, ndtri, finish, total;
    void (*collect)(const uint32_t *, size_t, scratch *);
} parts;

/* the transforms' chunk (FI_CHUNK): n is rounded up to a multiple of it */
#define BENCH_PARTS_CHUNK 256

/* normal and truncated normal, float32 then float64 */
extern const parts bench_parts_avx2[4];

#endif
