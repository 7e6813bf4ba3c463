/* C tests of the core: Random123 known answers, the stream layout across 32- and 64-bit
 * counter carries, every ISA's kernels (every dtype, float16 and bfloat16 included) against
 * the scalar reference at edge sizes, and fi_fill's region/thread invariance.  Usage: test_core PATH/TO/philox_kat_vectors.txt */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dispatch.h"
#include "fill.h"
#include "philox.h"

static int failures = 0, checks = 0;
#define CHECK(cond, ...)                                                   \
    do {                                                                   \
        checks++;                                                          \
        if (!(cond)) {                                                     \
            failures++;                                                    \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);           \
            fprintf(stderr, __VA_ARGS__);                                  \
            fprintf(stderr, "\n");                                         \
        }                                                                  \
    } while (0)

static void test_known_answers(const char *path)
{
    FILE *f = fopen(path, "r");
    char line[512];
    int n = 0;
    CHECK(f != NULL, "cannot open %s", path);
    if (!f) return;
    while (fgets(line, sizeof line, f)) {
        unsigned r, c[4], k[2], e[4];
        if (sscanf(line, "philox4x32 %u %x %x %x %x %x %x %x %x %x %x", &r, &c[0], &c[1], &c[2],
                   &c[3], &k[0], &k[1], &e[0], &e[1], &e[2], &e[3]) != 11)
            continue;
        uint32_t ctr[4] = {c[0], c[1], c[2], c[3]}, key[2] = {k[0], k[1]}, out[4];
        fi_philox4x32((int)r, ctr, key, out);
        for (int i = 0; i < 4; i++) CHECK(out[i] == e[i], "KAT line %d word %d", n, i);
        n++;
    }
    fclose(f);
    CHECK(n == 6, "expected 6 philox4x32 KAT lines, read %d", n);
}

/* Words of blocks start..start+nblocks-1 through the block function, 128-bit counter by hand. */
static void reference_words(const fi_stream *s, uint64_t nblocks, uint32_t *out)
{
    for (uint64_t b = 0; b < nblocks; b++) {
        uint64_t lo = s->counter_lo + b, hi = s->counter_hi + (lo < b);
        uint32_t ctr[4] = {(uint32_t)lo, (uint32_t)(lo >> 32), (uint32_t)hi, (uint32_t)(hi >> 32)};
        fi_philox4x32(10, ctr, s->key, out + 4 * b);
    }
}

static void test_stream_carries(void)
{
    const uint64_t starts[][2] = {{0, 0}, {0xFFFFFFF0u, 0}, {0xFFFFFFFFFFFFFFF0u, 0},
                                  {0xFFFFFFFFFFFFFFF0u, 0xFFFFFFFFu}, {0x1FFFFFFF3u, 7}};
    enum { NB = 300 };
    static uint32_t got[4 * NB], want[4 * NB];
    for (size_t i = 0; i < sizeof starts / sizeof starts[0]; i++)
        for (int isa = 0; isa < FI_N_ISAS; isa++) {
            if (!fi_kernels_for(isa)) continue;
            fi_stream s = {{0xDEADBEEFu, 0x01234567u}, starts[i][0], starts[i][1]};
            reference_words(&s, NB, want);
            for (int threads = 1; threads <= 3; threads += 2) {
                memset(got, 0, sizeof got);
                CHECK(fi_random_raw(&s, 4 * NB - 3, got, threads, isa, FI_OUTPUT_NEW) == FI_OK, "random_raw");
                CHECK(memcmp(got, want, (4 * NB - 3) * 4) == 0 && got[4 * NB - 3] == 0,
                      "stream words at start %zu on %s, %d threads", i, fi_isa_name(isa), threads);
            }
        }
}

static void test_kernels_match_scalar(void)
{
    const size_t sizes[] = {0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65,
                            127, 128, 129, 1000, 2047, 2048, 2049};
    enum { MAXN = 2049, GUARD = 16 };
    static uint32_t words[2 * MAXN + 8];
    static double ref[MAXN + GUARD], out[MAXN + GUARD];
    const fi_kernel_table *scalar = fi_kernels_for(FI_ISA_SCALAR);
    const uint32_t key[2] = {42, 4242};
    /* words for the transforms: a stretch of the stream with both tails well covered */
    scalar->philox_blocks(key, 0, 0, 0, 0, (2 * MAXN + 8) / 4, words);
    words[0] = 0; words[1] = 0xFFFFFFFFu; words[2] = 0x7FFFFFFFu; words[3] = 0x80000000u;
    fi_params_f32 p32 = {.low = -0.5f, .span = 1.25f, .high_below = 0.74999994f, .mean = 0.25f,
                         .std = 1.5f, .a = -1.0f, .b = 3.0f, .cdf_a = 0.15865525f,
                         .sf_b = 0.0013498980f, .mass = 0.83999474f,
                         .lo = -1.0f, .hi = 4.0f};   /* inside [-1.25, 4.75]: the clamp bites */
    fi_params_f64 p64 = {.low = -0.5, .span = 1.25, .high_below = 0.7499999999999999, .mean = 0.25,
                         .std = 1.5, .a = -1.0, .b = 3.0, .cdf_a = 0.15865525393145707,
                         .sf_b = 0.0013498980316301, .mass = 0.8399947444554128,
                         .lo = -1.0, .hi = 4.0};
    /* half outputs at scales that reach every kind of half value: normal ones with clamps
     * that bite, float16 subnormals (1e-6), bfloat16 subnormals (1e-39, float32 subnormals
     * too) and float16 overflow clamped to +-65504 (1e4 * 6.3 sigma) */
    const float scales[] = {1.0f, 1e-6f, 1e-39f, 1e4f};
    enum { NSETS = 2 + 2 * (sizeof scales / sizeof scales[0]) };
    fi_params_h16 ph[sizeof scales / sizeof scales[0]];
    for (size_t j = 0; j < sizeof scales / sizeof scales[0]; j++) {
        float c = scales[j];
        ph[j].f32 = p32;
        ph[j].f32.low = -0.5f * c;
        ph[j].f32.span = 1.25f * c;
        ph[j].f32.high_below = 0.75f * c;
        ph[j].f32.mean = 0.25f * c;
        ph[j].f32.std = 1.5f * c;
        ph[j].f32.lo = -1.0f * c;
        ph[j].f32.hi = 4.0f * c;
        ph[j].lo = j == 3 ? -65504.0f : -0.25f * c;   /* exact in both formats for j < 3 */
        ph[j].hi = j == 3 ? 65504.0f : 0.5f * c;
    }
    for (int isa = 1; isa < FI_N_ISAS; isa++) {
        const fi_kernel_table *k = fi_kernels_for(isa);
        if (!k) continue;
        for (int d = 0; d < 3; d++)
            for (int set = 0; set < NSETS; set++)
                for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
                    for (int offset = 0; offset < 2; offset++) {
                        /* sets 0, 1: float32, float64; then float16 and bfloat16 per scale */
                        int t = set < 2 ? set : (set - 2) % 2 ? FI_BFLOAT16 : FI_FLOAT16;
                        size_t n = sizes[i];
                        const void *p = t == FI_FLOAT32   ? (const void *)&p32
                                        : t == FI_FLOAT64 ? (const void *)&p64
                                                          : (const void *)&ph[(set - 2) / 2];
                        size_t bytes = n * (t == FI_FLOAT64 ? 8 : t == FI_FLOAT32 ? 4 : 2);
                        memset(ref, 0xA5, sizeof ref);
                        memset(out, 0xA5, sizeof out);
                        scalar->transform[d][t](words + offset, n, p, ref);
                        k->transform[d][t](words + offset, n, p, out);
                        CHECK(memcmp(ref, out, bytes + GUARD * 4) == 0,
                              "%s dist %d dtype %d set %d n %zu offset %d differs from scalar (or wrote past n)",
                              k->name, d, t, set, n, offset);
                    }
        /* Philox itself, across a c0 wrap handled by the caller and odd block counts */
        static uint32_t a[4 * 200 + 4], b[4 * 200 + 4];
        for (size_t nb = 0; nb <= 200; nb += 13) {
            memset(a, 0, sizeof a);
            memset(b, 0, sizeof b);
            scalar->philox_blocks(key, 0xFFFFFF00u, 5, 6, 7, nb, a);
            k->philox_blocks(key, 0xFFFFFF00u, 5, 6, 7, nb, b);
            CHECK(memcmp(a, b, sizeof a) == 0, "%s philox_blocks n=%zu", k->name, nb);
        }
    }
}

/* Every pattern of tail lanes in a vector, for the quantile transforms' lane packing: vector
 * j of 16 lanes has its lanes l with bit l of j (and of j >> 4, ...) in a tail, the others in
 * the central region, so each of the 2^8 (float32) and 2^4 (float64) lane masks of the
 * widest ISA occurs, the full and the empty one included; every ISA against the scalar
 * reference. */
static void test_every_tail_pattern_matches_scalar(void)
{
    enum { VECTORS = 256, LANES = 16, N = VECTORS * LANES };
    static uint32_t words[2 * N];
    static double ref[N], out[N];
    const fi_kernel_table *scalar = fi_kernels_for(FI_ISA_SCALAR);
    fi_params_f32 p32 = {.mean = 0.25f, .std = 1.5f, .a = -1.0f, .b = 3.0f,
                         .cdf_a = 0.15865525f, .sf_b = 0.0013498980f, .mass = 0.83999474f,
                         .lo = -INFINITY, .hi = INFINITY};
    fi_params_f64 p64 = {.mean = 0.25, .std = 1.5, .a = -1.0, .b = 3.0,
                         .cdf_a = 0.15865525393145707, .sf_b = 0.0013498980316301,
                         .mass = 0.8399947444554128, .lo = -INFINITY, .hi = INFINITY};
    /* (tail word, central word): the normal's q is about w / 2^32 (below 1/2); the truncated
     * one above reaches its upper tail only for v near 1 */
    const uint32_t tail_word[3] = {0, 0x01234567u, 0xF9876543u};
    const uint32_t central_word[3] = {0, 0x40000000u, 0x80000000u};
    for (int d = 1; d < 3; d++)
        for (int t = 0; t < 2; t++) {
            size_t n = t ? N / 2 : N;
            for (size_t i = 0; i < n; i++) {
                size_t lane = i % LANES, pattern = i / LANES;
                int in_tail = (int)(pattern >> (lane % (t ? 4 : 8)) & 1u);
                uint32_t w = in_tail ? tail_word[d] + (uint32_t)i : central_word[d] + (uint32_t)i;
                if (t) words[2 * i] = words[2 * i + 1] = w;
                else words[i] = w;
            }
            const void *p = t ? (const void *)&p64 : (const void *)&p32;
            scalar->transform[d][t](words, n, p, ref);
            for (int isa = 1; isa < FI_N_ISAS; isa++) {
                const fi_kernel_table *k = fi_kernels_for(isa);
                if (!k) continue;
                memset(out, 0xA5, sizeof out);
                k->transform[d][t](words, n, p, out);
                CHECK(memcmp(ref, out, n * (t ? 8 : 4)) == 0,
                      "%s dist %d dtype %d: a tail pattern differs from scalar", k->name, d, t);
            }
        }
}

static void test_fill_region_and_threads(void)
{
    enum { R = 37, C = 53 };
    const int64_t shape[2] = {R, C}, zero[2] = {0, 0};
    static double full[R * C], part[R * C], again[R * C];
    fi_stream s = {{7, 11}, 0xFFFFFFF0u, 0};   /* the draw crosses a c0 wrap */
    const double params[3][4] = {{-2, 3, 0, 0}, {1, 2, 0, 0}, {0, 1, -0.5, 2.5}};
    for (int d = 0; d < 3; d++)
        for (int t = 0; t < FI_N_DTYPES; t++) {
            size_t es = t == FI_FLOAT64 ? 8 : t == FI_FLOAT32 ? 4 : 2;
            CHECK(fi_fill(&s, d, t, params[d], 2, shape, zero, shape, full, 1, FI_ISA_SCALAR, 0) == FI_OK, "fill");
            for (int isa = 0; isa < FI_N_ISAS; isa++) {
                if (!fi_kernels_for(isa)) continue;
                for (int threads = 1; threads <= 7; threads += 2) {
                    CHECK(fi_fill(&s, d, t, params[d], 2, shape, zero, shape, again, threads, isa, 0) == FI_OK, "fill");
                    CHECK(memcmp(full, again, R * C * es) == 0, "threads %d isa %d", threads, isa);
                }
                const int64_t starts[][2] = {{0, 0}, {3, 5}, {36, 0}, {10, 52}, {0, 17}};
                const int64_t extents[][2] = {{R, C}, {20, 31}, {1, C}, {27, 1}, {R, 0}};
                for (int r = 0; r < 5; r++) {
                    CHECK(fi_fill(&s, d, t, params[d], 2, shape, starts[r], extents[r], part, 3, isa, 0) == FI_OK, "region");
                    int same = 1;
                    for (int64_t i = 0; i < extents[r][0]; i++)
                        for (int64_t j = 0; j < extents[r][1]; j++) {
                            size_t src = (size_t)((starts[r][0] + i) * C + starts[r][1] + j);
                            size_t dst = (size_t)(i * extents[r][1] + j);
                            same &= memcmp((char *)full + src * es, (char *)part + dst * es, es) == 0;
                        }
                    CHECK(same, "region %d of dist %d dtype %d isa %d", r, d, t, isa);
                }
            }
        }
    const int64_t bad_start[2] = {0, 50}, bad_extent[2] = {1, 4};
    CHECK(fi_fill(&s, 0, 0, params[0], 2, shape, bad_start, bad_extent, part, 1, 0, 0) == FI_E_SHAPE,
          "region past the end is refused");
}

/* Outputs of 8 MiB and more may go through non-temporal stores (forced here on every CPU
 * by FI_OUTPUT_STREAM); their values must not change. */
static void test_streamed_output_matches_cached(void)
{
    enum { N = 3 << 20, TAIL = 3001 };   /* 12 MiB of float32 */
    float *full = malloc(N * sizeof(float));
    static float tail[TAIL];
    const int64_t shape[1] = {N}, zero[1] = {0}, tail_start[1] = {N - TAIL}, tail_len[1] = {TAIL};
    const double params[4] = {0, 1, 0, 0};
    fi_stream s = {{3, 4}, 12345, 0};
    CHECK(full != NULL, "malloc");
    if (!full) return;
    for (int isa = 0; isa < FI_N_ISAS; isa++) {
        if (!fi_kernels_for(isa)) continue;
        CHECK(fi_fill(&s, 1, 0, params, 1, shape, tail_start, tail_len, tail, 1, isa, 0) == FI_OK, "tail");
        for (int flags = 0; flags <= FI_OUTPUT_STREAM; flags++) {
            memset(full, 0, N * sizeof(float));
            CHECK(fi_fill(&s, 1, 0, params, 1, shape, zero, shape, full, 2, isa, flags) == FI_OK, "fill");
            CHECK(memcmp(full + N - TAIL, tail, sizeof tail) == 0, "fill with flags %d on %s", flags,
                  fi_isa_name(isa));
        }
    }
    free(full);
}

static void test_parameter_checks(void)
{
    const double bad_uniform[4] = {1, 1, 0, 0}, bad_std[4] = {0, -1, 0, 0},
                 far_tail[4] = {0, 1, 40, 41}, collapse[4] = {1, 1 + 1e-12, 0, 0},
                 ok_trunc[4] = {0, 1, -2, 2};
    CHECK(fi_check_params(0, 0, bad_uniform) == FI_E_PARAMS, "low == high");
    CHECK(fi_check_params(1, 1, bad_std) == FI_E_PARAMS, "negative std");
    CHECK(fi_check_params(2, 0, far_tail) == FI_E_TRUNCATION_MASS, "mass underflow float32");
    CHECK(fi_check_params(0, 0, collapse) == FI_E_RANGE_PRECISION, "collapse in float32");
    CHECK(fi_check_params(0, 1, collapse) == FI_OK, "distinct in float64");
    CHECK(fi_check_params(2, 1, ok_trunc) == FI_OK, "truncated ok");
    CHECK(fi_check_params(3, 0, ok_trunc) == FI_E_DISTRIBUTION, "unknown distribution");
    CHECK(fi_kernels_for(99) == NULL && fi_kernels_for(-1) == NULL, "no table for bad ISA");
}

int main(int argc, char **argv)
{
    printf("available ISAs:");
    for (int isa = 0; isa < FI_N_ISAS; isa++)
        if (fi_kernels_for(isa)) printf(" %s", fi_isa_name(isa));
    printf("\n");
    /* a kernel table the CPU can run but that failed the start-up check is a bug here */
    CHECK(fi_disabled_isas() == 0, "ISAs switched off by the start-up check: %#x", fi_disabled_isas());
    test_known_answers(argc > 1 ? argv[1] : "tests/data/philox_kat_vectors.txt");
    test_stream_carries();
    test_kernels_match_scalar();
    test_every_tail_pattern_matches_scalar();
    test_fill_region_and_threads();
    test_streamed_output_matches_cached();
    test_parameter_checks();
    printf("%d passed, %d failed\n", checks - failures, failures);
    return failures != 0;
}
