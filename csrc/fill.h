/* The C API of fastinit: fill a buffer with scaled variates from a Philox4x32-10 stream.
 * Plain C types only; src/fastinit/_core.pxd mirrors these declarations. */
#ifndef FASTINIT_FILL_H
#define FASTINIT_FILL_H

#include <stdint.h>

#include "dispatch.h"
#include "kernels/kernel_table.h"

#define FI_MAX_DIMS 64

/* Where a draw reads the stream: the key and the 128-bit counter of its first block. */
typedef struct {
    uint32_t key[2];
    uint64_t counter_lo, counter_hi;
} fi_stream;

/* Status codes; _core.pyx turns each into its Python exception in one place. */
enum {
    FI_OK = 0,
    FI_E_DISTRIBUTION = -1,    /* unknown distribution or dtype */
    FI_E_PARAMS = -2,          /* parameters not finite, std < 0, low >= high, a >= b */
    FI_E_RANGE_PRECISION = -3, /* low and high collapse (or overflow) in the output precision */
    FI_E_TRUNCATION_MASS = -4, /* [a, b] holds too little probability for the output precision */
    FI_E_ISA = -5,             /* the requested ISA is not available */
    FI_E_SHAPE = -6,           /* bad ndim, negative extents, region outside the shape */
    FI_E_INTERRUPTED = -7,     /* the poll callback asked to stop: `out` is partly written */
    FI_E_MEMORY = -8           /* no memory for a part's buffers: `out` is partly written */
};

/* Called now and then (at most every FI_POLL_MS, never from a helper thread) during a long
 * fill; a nonzero return stops the fill early with FI_E_INTERRUPTED. */
typedef int (*fi_poll_fn)(void *poll_ctx);
#define FI_POLL_MS 50

/* Checks the parameters of a distribution without drawing anything:
 * uniform (low, high), normal (mean, std), truncated normal (mean, std, a, b). */
int fi_check_params(int distribution, int dtype, const double params[4]);

/* Flags of a fill.  FI_OUTPUT_NEW: `out` was just allocated and never touched, so its pages
 * are faulted in (and zeroed into cache) by the fill itself and plain stores beat
 * non-temporal ones; without it, an output of 4 MiB or more whose pages are not in memory
 * yet (fi_looks_untouched: a large torch.empty) is taken as new too, with huge pages asked
 * for, and other large outputs are written with non-temporal stores where the ISA and the
 * CPU gain from them (fi_nontemporal_stores).  FI_OUTPUT_STREAM:
 * non-temporal stores whatever the size and CPU, where the ISA has them (for tests).  No
 * flag ever changes a value. */
enum { FI_OUTPUT_NEW = 1, FI_OUTPUT_STREAM = 2 };

/* Fills out (C-contiguous, region_shape) with the region of the ndim-dimensional array of
 * `shape` whose element at flat C-order index i is value i of the draw that starts at
 * stream->counter (docs/stream.md).  The values do not depend on threads, isa or flags. */
int fi_fill(const fi_stream *stream, int distribution, int dtype, const double params[4],
            int ndim, const int64_t *shape, const int64_t *region_start,
            const int64_t *region_shape, void *out, int threads, int isa, int flags);

/* fi_fill that calls poll(poll_ctx) on the calling thread during long fills, so that a
 * caller can answer an interrupt (Ctrl-C) without waiting for the whole fill.  poll may
 * be NULL. */
int fi_fill_polled(const fi_stream *stream, int distribution, int dtype, const double params[4],
                   int ndim, const int64_t *shape, const int64_t *region_start,
                   const int64_t *region_shape, void *out, int threads, int isa, int flags,
                   fi_poll_fn poll, void *poll_ctx);

/* Writes nwords raw words of the stream, starting at word 0 of block stream->counter. */
int fi_random_raw(const fi_stream *stream, uint64_t nwords, uint32_t *out, int threads, int isa,
                  int flags);
int fi_random_raw_polled(const fi_stream *stream, uint64_t nwords, uint32_t *out, int threads,
                         int isa, int flags, fi_poll_fn poll, void *poll_ctx);

/* One Philox4x32 block with the given number of rounds (10 for the stream). */
void fi_philox4x32(int rounds, const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]);

#endif
