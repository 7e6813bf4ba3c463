/* The pinned fills of tests/data/stable_fills.txt, recomputed and hashed: every fill on
 * every ISA this build has, with 1 and 3 threads, must give the SHA-256 in the table.
 * tools/cross_check.sh runs it on every platform build (glibc, musl, aarch64, Windows), so
 * one table proves them all bit-identical.  tools/stable_hashes.py writes the table from
 * the Python API, which tests/test_stability.py checks against the same table.
 *
 * usage: hash_fills PATH/TO/stable_fills.txt        exit status 0: every hash matches */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dispatch.h"
#include "fill.h"
#include "sha256.h"

/* the dtypes the table may name: add one line per new dtype */
static const struct { const char *name; int code; size_t size; } DTYPES[] = {
    {"float32", FI_FLOAT32, 4},
    {"float64", FI_FLOAT64, 8},
    {"float16", FI_FLOAT16, 2},
    {"bfloat16", FI_BFLOAT16, 2},
};
static const char *const DISTRIBUTIONS[] = {"uniform", "normal", "truncated_normal"};

typedef struct {
    char id[128];
    int distribution;   /* -1: raw words */
    int dtype;
    size_t itemsize;
    double params[4];
    fi_stream stream;
    int ndim;
    int64_t shape[FI_MAX_DIMS], start[FI_MAX_DIMS], extent[FI_MAX_DIMS];
    char sha256[65];
} fill_case;

static int parse_dims(const char *s, int64_t *dims)
{
    int n = 0;
    while (*s && n < FI_MAX_DIMS) {
        char *end;
        dims[n++] = strtoll(s, &end, 10);
        if (end == s) return -1;
        s = *end == ',' ? end + 1 : end;
    }
    return n;
}

static double from_bits(uint64_t u)
{
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

/* one line: id distribution dtype p0 p1 p2 p3 k0 k1 counter_lo counter_hi shape start
 * extent sha256; the parameters as the hex bits of their IEEE doubles */
static int parse_case(const char *line, fill_case *c)
{
    char dist[64], dtype[64], shape[512], start[512], extent[512];
    uint64_t p[4], lo, hi;
    unsigned k0, k1;
    memset(c, 0, sizeof *c);
    if (sscanf(line, "%127s %63s %63s %" SCNx64 " %" SCNx64 " %" SCNx64 " %" SCNx64
                     " %x %x %" SCNx64 " %" SCNx64 " %511s %511s %511s %64s",
               c->id, dist, dtype, &p[0], &p[1], &p[2], &p[3], &k0, &k1, &lo, &hi, shape, start,
               extent, c->sha256) != 15)
        return -1;
    c->distribution = -1;
    for (int d = 0; d < 3; d++)
        if (strcmp(dist, DISTRIBUTIONS[d]) == 0) c->distribution = d;
    if (c->distribution < 0 && strcmp(dist, "raw") != 0) return -1;
    c->dtype = -1;
    for (size_t t = 0; t < sizeof DTYPES / sizeof DTYPES[0]; t++)
        if (strcmp(dtype, DTYPES[t].name) == 0) {
            c->dtype = DTYPES[t].code;
            c->itemsize = DTYPES[t].size;
        }
    if (c->distribution < 0) c->itemsize = 4;   /* raw words: uint32 */
    else if (c->dtype < 0) return -2;           /* a dtype this build does not know */
    for (int i = 0; i < 4; i++) c->params[i] = from_bits(p[i]);
    c->stream.key[0] = k0;
    c->stream.key[1] = k1;
    c->stream.counter_lo = lo;
    c->stream.counter_hi = hi;
    c->ndim = parse_dims(shape, c->shape);
    if (c->ndim < 1 || parse_dims(start, c->start) != c->ndim ||
        parse_dims(extent, c->extent) != c->ndim)
        return -1;
    return 0;
}

static int run_case(const fill_case *c, int isa, int threads, char hex[65])
{
    uint64_t n = 1;
    for (int d = 0; d < c->ndim; d++) n *= (uint64_t)c->extent[d];
    void *out = malloc(n * c->itemsize + 1);
    int status;
    if (!out) return -100;
    if (c->distribution < 0)
        status = fi_random_raw(&c->stream, n, (uint32_t *)out, threads, isa, 0);
    else
        status = fi_fill(&c->stream, c->distribution, c->dtype, c->params, c->ndim, c->shape,
                         c->start, c->extent, out, threads, isa, 0);
    if (status == FI_OK) {
        sha256_ctx h;
        sha256_init(&h);
        sha256_update(&h, out, n * c->itemsize);
        sha256_hex(&h, hex);
    }
    free(out);
    return status;
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "tests/data/stable_fills.txt";
    FILE *f = fopen(path, "r");
    char line[4096];
    int cases = 0, runs = 0, bad = 0, skipped = 0;
    sha256_ctx all;
    char digest[65];
    if (!f) {
        fprintf(stderr, "hash_fills: cannot open %s\n", path);
        return 2;
    }
    printf("ISAs:");
    for (int isa = 0; isa < FI_N_ISAS; isa++)
        if (fi_kernels_for(isa)) printf(" %s", fi_isa_name(isa));
    if (fi_disabled_isas()) printf(" (switched off by the start-up check: %#x)", fi_disabled_isas());
    printf("\n");
    sha256_init(&all);
    while (fgets(line, sizeof line, f)) {
        fill_case c;
        if (line[0] == '#' || line[0] == '\n') continue;
        int parsed = parse_case(line, &c);
        if (parsed == -2) {
            skipped++;
            continue;
        }
        if (parsed != 0) {
            fprintf(stderr, "hash_fills: bad line: %s", line);
            return 2;
        }
        cases++;
        for (int isa = 0; isa < FI_N_ISAS; isa++) {
            if (!fi_kernels_for(isa)) continue;
            for (int threads = 1; threads <= 3; threads += 2) {
                char hex[65] = "";
                int status = run_case(&c, isa, threads, hex);
                runs++;
                if (status != FI_OK || strcmp(hex, c.sha256) != 0) {
                    bad++;
                    printf("MISMATCH %s on %s, %d threads: %s (status %d), table %s\n", c.id,
                           fi_isa_name(isa), threads, hex, status, c.sha256);
                }
            }
        }
        sha256_update(&all, c.sha256, 64);
    }
    fclose(f);
    sha256_hex(&all, digest);
    printf("%d fills, %d runs (ISA x threads), %d mismatches; %d rows of unknown dtypes "
           "skipped; table digest %s\n", cases, runs, bad, skipped, digest);
    if (fi_disabled_isas()) {
        printf("FAIL: a vector path disagreed with the scalar reference at start-up\n");
        return 1;
    }
    return bad != 0 || cases == 0;
}
