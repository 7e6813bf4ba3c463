/* The fill driver: derives kernel parameters, splits the output into parts for threads,
 * walks a region as runs that are contiguous in the full array, and feeds each run
 * through a small stack buffer of Philox words into the transform kernel. */
#include "fill.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "memory.h"
#include "normal_cdf.h"
#include "parallel.h"
#include "philox.h"

/* Philox blocks generated per step: 8 KiB of words, resident in L1. */
#define FI_BUF_BLOCKS 512
/* Existing outputs from this size on are written with non-temporal stores, through an L1
 * bounce buffer, on CPUs where that pays: they would not stay in cache anyway, and need
 * not be read in first.  (New outputs are not: the page faults zero them into cache,
 * where plain stores win.) */
#ifndef FI_STREAM_MIN_BYTES
#  define FI_STREAM_MIN_BYTES (UINT64_C(8) << 20)
#endif
/* Existing outputs from this size on are checked for pages not yet in memory (numpy's
 * threshold for asking for huge pages). */
#define FI_UNTOUCHED_MIN_BYTES (UINT64_C(4) << 20)
/* Elements below which a part is not worth a thread (start-up cost ~ tens of us). */
#define FI_MIN_PER_PART (1 << 17)
/* Elements between two looks at the clock on the polling thread (~1 ms of work). */
#define FI_POLL_ELEMENTS (1 << 20)

typedef struct {
    fi_params_f32 f32;
    fi_params_f64 f64;
    fi_params_h16 h16;
} fi_params_both;

/* The smallest float32 >= x (-inf for -inf; +inf when none is finite). */
static float f32_at_least(double x)
{
    if (x > FLT_MAX) return INFINITY;
    if (x < -FLT_MAX) return x == -INFINITY ? -INFINITY : -FLT_MAX;
    float f = (float)x;
    return (double)f < x ? nextafterf(f, INFINITY) : f;
}

/* The largest float32 <= x. */
static float f32_at_most(double x) { return -f32_at_least(-x); }

static int prepare(int distribution, int dtype, const double prm[4], fi_params_both *kp)
{
    /* float32, float16 and bfloat16 draws all compute in float32 */
    const int single = dtype != FI_FLOAT64;
    memset(kp, 0, sizeof *kp);
    if (dtype < 0 || dtype >= FI_N_DTYPES) return FI_E_DISTRIBUTION;
    switch (distribution) {
    case FI_UNIFORM: {
        double low = prm[0], high = prm[1];
        if (!isfinite(low) || !isfinite(high) || !(low < high)) return FI_E_PARAMS;
        double span = high - low;
        if (!isfinite(span)) return FI_E_RANGE_PRECISION;
        kp->f64 = (fi_params_f64){.low = low, .span = span, .high_below = nextafter(high, -INFINITY)};
        float lowf = (float)low, highf = (float)high, spanf = (float)span;
        if (single && (!(lowf < highf) || !isfinite(spanf) || !isfinite(lowf) || !isfinite(highf)))
            return FI_E_RANGE_PRECISION;
        kp->f32 = (fi_params_f32){.low = lowf, .span = spanf, .high_below = nextafterf(highf, -INFINITY)};
        return FI_OK;
    }
    case FI_NORMAL: {
        double mean = prm[0], std = prm[1];
        if (!isfinite(mean) || !isfinite(std) || std < 0) return FI_E_PARAMS;
        if (single && (!isfinite((float)mean) || !isfinite((float)std)))
            return FI_E_RANGE_PRECISION;
        kp->f64 = (fi_params_f64){.mean = mean, .std = std};
        kp->f32 = (fi_params_f32){.mean = (float)mean, .std = (float)std};
        return FI_OK;
    }
    case FI_TRUNCATED_NORMAL: {
        double mean = prm[0], std = prm[1], a = prm[2], b = prm[3];
        if (!isfinite(mean) || !isfinite(std) || std < 0 || isnan(a) || isnan(b) || !(a < b))
            return FI_E_PARAMS;
        if (single && (!isfinite((float)mean) || !isfinite((float)std)))
            return FI_E_RANGE_PRECISION;
        /* fastinit's own Phi, never libm's erfc: the same bits on every platform */
        double cdf_a = fi_normal_cdf(a), sf_b = fi_normal_sf(b), mass;
        if (a >= 0) mass = fi_normal_sf(a) - sf_b;       /* both bounds in the upper tail */
        else if (b <= 0) mass = fi_normal_cdf(b) - cdf_a; /* both in the lower tail */
        else mass = 1.0 - cdf_a - sf_b;
        /* every P = Phi(a) + v * mass must stay a normal number of the output precision */
        if (!(mass >= (single ? 0x1p-100 : 0x1p-960))) return FI_E_TRUNCATION_MASS;
        /* the support [mean + a std, mean + b std], taken in double from the parameters as
         * given; every value is clamped to the output-precision values inside it, which
         * changes only values that rounding carried out (docs/stream.md) */
        double lo = -INFINITY, hi = INFINITY;
        if (std > 0) {
            if (isfinite(a)) lo = mean + a * std;
            if (isfinite(b)) hi = mean + b * std;
        }
        float lof = f32_at_least(lo), hif = f32_at_most(hi);
        if (single ? !(lof <= hif) || lof == INFINITY || hif == -INFINITY
                   : !(lo <= hi) || lo == INFINITY || hi == -INFINITY)
            return FI_E_RANGE_PRECISION;   /* no finite value of the output inside */
        kp->f64 = (fi_params_f64){.mean = mean, .std = std, .a = a, .b = b,
                                  .cdf_a = cdf_a, .sf_b = sf_b, .mass = mass, .lo = lo, .hi = hi};
        kp->f32 = (fi_params_f32){.mean = (float)mean, .std = (float)std, .a = (float)a,
                                  .b = (float)b, .cdf_a = (float)cdf_a, .sf_b = (float)sf_b,
                                  .mass = (float)mass, .lo = lof, .hi = hif};
        return FI_OK;
    }
    default:
        return FI_E_DISTRIBUTION;
    }
}

/* ---------------------------------------------------------------- float16 and bfloat16 */

/* The finite values of a 16-bit format in increasing order: index k >= 0 is the value of
 * bit pattern k, index -k its negative; half_top is the pattern of the largest. */
static int half_top(int dtype) { return dtype == FI_BFLOAT16 ? 0x7f7f : 0x7bff; }

static double half_value(int dtype, int k)
{
    unsigned bits = (unsigned)(k < 0 ? -k : k);
    double v;
    if (dtype == FI_BFLOAT16) {
        uint32_t u = (uint32_t)bits << 16;   /* the upper half of a float32 */
        float f;
        memcpy(&f, &u, sizeof f);
        v = f;
    } else {
        unsigned e = bits >> 10, m = bits & 0x3ffu;
        v = e ? ldexp(1024.0 + m, (int)e - 25) : ldexp(m, -24);
    }
    return k < 0 ? -v : v;
}

/* The smallest finite half value >= x, or NaN if there is none (binary search). */
static double half_at_least(int dtype, double x)
{
    int lo = -half_top(dtype), hi = half_top(dtype);
    if (!(half_value(dtype, hi) >= x)) return NAN;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (half_value(dtype, mid) >= x) hi = mid;
        else lo = mid + 1;
    }
    return half_value(dtype, lo);
}

/* The largest finite half value <= x, or NaN if there is none. */
static double half_at_most(int dtype, double x)
{
    return -half_at_least(dtype, -x);
}

/* 1 if x rounds to a finite half value (below the largest plus half its spacing). */
static int half_finite(int dtype, double x)
{
    int top = half_top(dtype);
    double max = half_value(dtype, top), limit = max + (max - half_value(dtype, top - 1)) / 2;
    return fabs(x) < limit;
}

/* The clamp of a half draw: [lo, hi] are the nearest half values inside the support, so
 * only a value that rounding would carry outside it changes (docs/stream.md).  A zero bound
 * is -0 below and +0 above, so a value moved onto it keeps its sign. */
static int prepare_half(int distribution, int dtype, const double prm[4], fi_params_both *kp)
{
    double max = half_value(dtype, half_top(dtype)), lo = -max, hi = max;
    if (!half_finite(dtype, prm[0]) || !half_finite(dtype, prm[1])) return FI_E_RANGE_PRECISION;
    if (distribution == FI_UNIFORM) {          /* [low, high) */
        lo = half_at_least(dtype, prm[0]);
        hi = half_at_most(dtype, nextafter(prm[1], -INFINITY));
    } else if (distribution == FI_TRUNCATED_NORMAL && prm[1] > 0) {   /* [mean + a std, mean + b std] */
        lo = half_at_least(dtype, prm[0] + prm[2] * prm[1]);
        hi = half_at_most(dtype, prm[0] + prm[3] * prm[1]);
    }
    if (!(lo <= hi)) return FI_E_RANGE_PRECISION;    /* no half value inside (or NaN) */
    kp->h16.f32 = kp->f32;
    kp->h16.lo = lo == 0 ? -0.0f : (float)lo;   /* exact: half values are float32 values */
    kp->h16.hi = hi == 0 ? 0.0f : (float)hi;
    return FI_OK;
}

/* prepare, then the clamp of a half dtype */
static int prepare_draw(int distribution, int dtype, const double prm[4], fi_params_both *kp)
{
    int status = prepare(distribution, dtype, prm, kp);
    if (status == FI_OK && (dtype == FI_FLOAT16 || dtype == FI_BFLOAT16))
        status = prepare_half(distribution, dtype, prm, kp);
    return status;
}

int fi_check_params(int distribution, int dtype, const double params[4])
{
    fi_params_both kp;
    return prepare_draw(distribution, dtype, params, &kp);
}

/* ------------------------------------------------------------------ one draw */

typedef struct {
    const fi_kernel_table *kernels;
    fi_transform_fn transform;      /* NULL: raw words */
    const void *params;
    uint32_t key[2];
    uint64_t counter_lo, counter_hi;
    unsigned words_per_element;
    size_t element_size;
    int nontemporal;                /* fi_nontemporal_stores of the ISA */
    int stream_stores;
    /* the region as runs: `outer` dims (C order) around runs of run_len elements */
    int n_outer;
    int64_t outer_shape[FI_MAX_DIMS], outer_start[FI_MAX_DIMS];
    uint64_t outer_stride[FI_MAX_DIMS];
    uint64_t run_offset, run_len, total;
    char *out;
    fi_poll_fn poll;                /* NULL: never polled */
    void *poll_ctx;
    fi_flag stop;                   /* raised: every part returns at its next buffer */
    fi_flag interrupted, out_of_memory;
} fill_job;

/* What one part works with: its buffers (on the heap: a part may run on a small stack)
 * and, on the calling thread, the pacing of polls. */
typedef struct {
    uint32_t buf[4 * FI_BUF_BLOCKS];
    uint32_t bounce[4 * FI_BUF_BLOCKS];   /* n <= 4 * FI_BUF_BLOCKS / wpe elements of 4 * wpe bytes */
    int polls;                            /* this part runs on the caller and job->poll is set */
    uint64_t since_clock, last_poll_ms;
} part_state;

/* 1 if the fill must stop: another part stopped it, or (on the caller, at most every
 * FI_POLL_MS) the poll callback asks to. */
static int should_stop(fill_job *job, part_state *st, uint64_t elements_done)
{
    if (fi_flag_is_raised(&job->stop)) return 1;
    if (!st->polls) return 0;
    st->since_clock += elements_done;
    if (st->since_clock < FI_POLL_ELEMENTS) return 0;
    st->since_clock = 0;
    uint64_t now = fi_monotonic_ms();
    if (now - st->last_poll_ms < FI_POLL_MS) return 0;
    st->last_poll_ms = now;
    if (!job->poll(job->poll_ctx)) return 0;
    fi_flag_raise(&job->interrupted);
    fi_flag_raise(&job->stop);
    return 1;
}

static void copy_words(const uint32_t *words, size_t n, const void *params, void *out)
{
    (void)params;
    memcpy(out, words, n * sizeof(uint32_t));
}

/* Elements [first, first + count) of the draw into out; 0 if the fill was stopped. */
static int fill_elements(fill_job *job, part_state *st, uint64_t first, uint64_t count, char *out)
{
    uint32_t *buf = st->buf, *bounce = st->bounce;
    const unsigned wpe = job->words_per_element;
    fi_transform_fn transform = job->transform ? job->transform : copy_words;
    uint64_t word = first * wpe, words_left = count * wpe;
    while (words_left > 0) {
        uint64_t block = word >> 2;
        unsigned offset = (unsigned)(word & 3);
        uint64_t lo = job->counter_lo + block;
        uint64_t hi = job->counter_hi + (lo < block);   /* 128-bit counter: carry */
        uint32_t c0 = (uint32_t)lo;
        /* stop where c0 wraps, so the kernel may count in 32 bits */
        uint64_t room = (UINT64_C(1) << 32) - c0;
        uint64_t need = (offset + words_left + 3) / 4;
        uint64_t nblocks = need < FI_BUF_BLOCKS ? need : FI_BUF_BLOCKS;
        if (nblocks > room) nblocks = room;
        uint64_t nwords = nblocks * 4 - offset;
        if (nwords > words_left) nwords = words_left;
        job->kernels->philox_blocks(job->key, c0, (uint32_t)(lo >> 32), (uint32_t)hi,
                                    (uint32_t)(hi >> 32), (size_t)nblocks, buf);
        size_t n = (size_t)(nwords / wpe);
        if (job->stream_stores) {
            transform(buf + offset, n, job->params, bounce);
            job->kernels->stream_copy(out, bounce, n * job->element_size);
        } else {
            transform(buf + offset, n, job->params, out);
        }
        out += n * job->element_size;
        word += nwords;
        words_left -= nwords;
        if (should_stop(job, st, n)) return 0;
    }
    return 1;
}

/* Part `part` of `nparts` equal slices of the output, walked run by run. */
static void fill_part(void *ctx, int part, int nparts, int on_caller)
{
    fill_job *job = (fill_job *)ctx;
    if (fi_flag_is_raised(&job->stop)) return;
    part_state *st = (part_state *)malloc(sizeof *st);
    if (!st) {
        fi_flag_raise(&job->out_of_memory);
        fi_flag_raise(&job->stop);
        return;
    }
    st->polls = on_caller && job->poll != NULL;
    st->since_clock = 0;
    st->last_poll_ms = st->polls ? fi_monotonic_ms() : 0;
    uint64_t per = job->total / (uint64_t)nparts, extra = job->total % (uint64_t)nparts;
    uint64_t o = per * (uint64_t)part + ((uint64_t)part < extra ? (uint64_t)part : extra);
    uint64_t end = o + per + ((uint64_t)part < extra ? 1 : 0);
    uint64_t run = o / job->run_len, within = o % job->run_len;
    while (o < end) {
        /* flat index of this run's first element: decompose `run` over the outer dims */
        uint64_t flat = job->run_offset, r = run;
        for (int d = job->n_outer - 1; d >= 0; d--) {
            uint64_t idx = r % (uint64_t)job->outer_shape[d];
            r /= (uint64_t)job->outer_shape[d];
            flat += ((uint64_t)job->outer_start[d] + idx) * job->outer_stride[d];
        }
        uint64_t n = job->run_len - within;
        if (n > end - o) n = end - o;
        if (!fill_elements(job, st, flat + within, n, job->out + o * job->element_size)) break;
        o += n;
        run++;
        within = 0;
    }
    /* this thread's non-temporal stores, all ordered before the part is reported done */
    if (job->stream_stores) job->kernels->stream_fence();
    free(st);
}

static int run_job(fill_job *job, int threads, int flags)
{
    if (job->total == 0) return FI_OK;
    uint64_t bytes = job->total * job->element_size;
    if (!(flags & (FI_OUTPUT_NEW | FI_OUTPUT_STREAM)) && bytes >= FI_UNTOUCHED_MIN_BYTES &&
        fi_looks_untouched(job->out, (size_t)bytes)) {
        /* an existing output the OS has not mapped yet: its pages fault in as a new
         * array's do, so it is filled as one (a fault per 2 MiB, plain stores) */
        fi_advise_huge_pages(job->out, (size_t)bytes);
        flags |= FI_OUTPUT_NEW;
    }
    int large = bytes >= FI_STREAM_MIN_BYTES;
    job->stream_stores = job->kernels->stream_copy != NULL &&
                         ((flags & FI_OUTPUT_STREAM) ||
                          (!(flags & FI_OUTPUT_NEW) && large && job->nontemporal));
    uint64_t useful = (job->total + FI_MIN_PER_PART - 1) / FI_MIN_PER_PART;
    int nparts = threads < 1 ? 1 : threads;
    if ((uint64_t)nparts > useful) nparts = (int)useful;
    if (nparts > 256) nparts = 256;
    if (nparts == 1) fill_part(job, 0, 1, 1);
    else fi_run_parts(nparts, fill_part, job);
    if (fi_flag_is_raised(&job->out_of_memory)) return FI_E_MEMORY;
    if (fi_flag_is_raised(&job->interrupted)) return FI_E_INTERRUPTED;
    return FI_OK;
}

static int init_job(fill_job *job, const fi_stream *stream, int isa, fi_poll_fn poll,
                    void *poll_ctx)
{
    memset(job, 0, sizeof *job);
    job->poll = poll;
    job->poll_ctx = poll_ctx;
    job->kernels = fi_kernels_for(isa);
    if (!job->kernels) return FI_E_ISA;
    job->nontemporal = fi_nontemporal_stores(isa);
    job->key[0] = stream->key[0];
    job->key[1] = stream->key[1];
    job->counter_lo = stream->counter_lo;
    job->counter_hi = stream->counter_hi;
    return FI_OK;
}

int fi_fill(const fi_stream *stream, int distribution, int dtype, const double params[4],
            int ndim, const int64_t *shape, const int64_t *region_start,
            const int64_t *region_shape, void *out, int threads, int isa, int flags)
{
    return fi_fill_polled(stream, distribution, dtype, params, ndim, shape, region_start,
                          region_shape, out, threads, isa, flags, NULL, NULL);
}

int fi_fill_polled(const fi_stream *stream, int distribution, int dtype, const double params[4],
                   int ndim, const int64_t *shape, const int64_t *region_start,
                   const int64_t *region_shape, void *out, int threads, int isa, int flags,
                   fi_poll_fn poll, void *poll_ctx)
{
    fi_params_both kp;
    fill_job job;
    int status = prepare_draw(distribution, dtype, params, &kp);
    if (status != FI_OK) return status;
    if (ndim < 1 || ndim > FI_MAX_DIMS) return FI_E_SHAPE;
    for (int d = 0; d < ndim; d++)
        if (shape[d] < 0 || region_start[d] < 0 || region_shape[d] < 0 ||
            region_start[d] > shape[d] || region_shape[d] > shape[d] - region_start[d])
            return FI_E_SHAPE;
    if ((status = init_job(&job, stream, isa, poll, poll_ctx)) != FI_OK) return status;
    job.transform = job.kernels->transform[distribution][dtype];
    job.params = dtype == FI_FLOAT32   ? (const void *)&kp.f32
                 : dtype == FI_FLOAT64 ? (const void *)&kp.f64
                                       : (const void *)&kp.h16;
    job.words_per_element = dtype == FI_FLOAT64 ? 2 : 1;
    job.element_size = dtype == FI_FLOAT64 ? 8 : dtype == FI_FLOAT32 ? 4 : 2;
    job.out = (char *)out;

    /* runs: the trailing dims the region covers whole, plus one partial dim (`lead`) */
    int lead = ndim - 1;
    while (lead > 0 && region_shape[lead] == shape[lead]) lead--;
    uint64_t stride = 1, run_len = 1, total = 1;
    for (int d = ndim - 1; d >= 0; d--) {
        if (d < lead) {
            job.outer_shape[d] = region_shape[d];
            job.outer_start[d] = region_start[d];
            job.outer_stride[d] = stride;
        } else {
            run_len *= (uint64_t)region_shape[d];
        }
        if (d == lead) job.run_offset = (uint64_t)region_start[d] * stride;
        stride *= (uint64_t)shape[d];
        total *= (uint64_t)region_shape[d];
    }
    job.n_outer = lead;
    job.run_len = run_len;
    job.total = total;
    return run_job(&job, threads, flags);
}

int fi_random_raw(const fi_stream *stream, uint64_t nwords, uint32_t *out, int threads, int isa,
                  int flags)
{
    return fi_random_raw_polled(stream, nwords, out, threads, isa, flags, NULL, NULL);
}

int fi_random_raw_polled(const fi_stream *stream, uint64_t nwords, uint32_t *out, int threads,
                         int isa, int flags, fi_poll_fn poll, void *poll_ctx)
{
    fill_job job;
    int status = init_job(&job, stream, isa, poll, poll_ctx);
    if (status != FI_OK) return status;
    job.transform = NULL;
    job.words_per_element = 1;
    job.element_size = sizeof(uint32_t);
    job.out = (char *)out;
    job.n_outer = 0;
    job.run_len = nwords ? nwords : 1;
    job.total = nwords;
    return run_job(&job, threads, flags);
}

void fi_philox4x32(int rounds, const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4])
{
    fi_philox4x32_r(rounds, ctr, key, out);
}
