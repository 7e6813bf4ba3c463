# Declarations of the C core (csrc/fill.h, csrc/dispatch.h, csrc/parallel.h); keep in step.
from libc.stdint cimport int64_t, uint32_t, uint64_t

cdef extern from "fill.h" nogil:
    ctypedef struct fi_stream:
        uint32_t key[2]
        uint64_t counter_lo
        uint64_t counter_hi

    enum:
        FI_MAX_DIMS
        FI_OK
        FI_E_DISTRIBUTION
        FI_E_PARAMS
        FI_E_RANGE_PRECISION
        FI_E_TRUNCATION_MASS
        FI_E_ISA
        FI_E_SHAPE
        FI_E_INTERRUPTED
        FI_E_MEMORY
        FI_OUTPUT_NEW

    ctypedef int (*fi_poll_fn)(void *poll_ctx) noexcept nogil

    int fi_check_params(int distribution, int dtype, const double params[4])
    int fi_fill(const fi_stream *stream, int distribution, int dtype, const double params[4],
                int ndim, const int64_t *shape, const int64_t *region_start,
                const int64_t *region_shape, void *out, int threads, int isa, int flags)
    int fi_fill_polled(const fi_stream *stream, int distribution, int dtype,
                       const double params[4], int ndim, const int64_t *shape,
                       const int64_t *region_start, const int64_t *region_shape, void *out,
                       int threads, int isa, int flags, fi_poll_fn poll, void *poll_ctx)
    int fi_random_raw(const fi_stream *stream, uint64_t nwords, uint32_t *out, int threads,
                      int isa, int flags)
    int fi_random_raw_polled(const fi_stream *stream, uint64_t nwords, uint32_t *out,
                             int threads, int isa, int flags, fi_poll_fn poll, void *poll_ctx)
    void fi_philox4x32(int rounds, const uint32_t ctr[4], const uint32_t key[2],
                       uint32_t out[4])

cdef extern from "kernels/kernel_table.h" nogil:
    enum:
        FI_UNIFORM
        FI_NORMAL
        FI_TRUNCATED_NORMAL
        FI_FLOAT32
        FI_FLOAT64
        FI_FLOAT16
        FI_BFLOAT16

cdef extern from "dispatch.h" nogil:
    enum:
        FI_N_ISAS
    unsigned fi_available_isas()
    unsigned fi_disabled_isas()
    int fi_nontemporal_stores(int isa)
    int fi_scalar_kernels_verified()
    int fi_best_isa()
    const char *fi_isa_name(int isa)

cdef extern from "parallel.h" nogil:
    void fi_set_helper_budget(int helpers)

cdef extern from "normal_cdf.h" nogil:
    double fi_normal_cdf(double x)
    double fi_normal_sf(double x)

cdef extern from "memory.h" nogil:
    int fi_advise_huge_pages(void *p, size_t bytes)
    int fi_looks_untouched(const void *p, size_t bytes)
