# cython: language_level=3, boundscheck=False, wraparound=False
"""The boundary to the C core: converts validated Python values to C, calls it without
the GIL, and turns its status codes into exceptions.  Validation with argument names
happens in the Python layer (_arrays.py, _schemes.py); the checks here are the last line
that keeps bad values away from the C code."""
import sys
import threading

cimport numpy as cnp
from cpython.exc cimport PyErr_CheckSignals
from libc.stdint cimport int64_t, uint32_t, uint64_t

cnp.import_array()

DISTRIBUTIONS = {"uniform": FI_UNIFORM, "normal": FI_NORMAL,
                 "truncated_normal": FI_TRUNCATED_NORMAL}
_PARAM_NAMES = {FI_UNIFORM: "low and high", FI_NORMAL: "mean and std",
                FI_TRUNCATED_NORMAL: "mean, std, a and b"}
MAX_DIMS = FI_MAX_DIMS


if not fi_scalar_kernels_verified():
    raise ImportError("fastinit's compiled kernels do not reproduce the Philox4x32-10 "
                      "reference: this build is miscompiled (see docs/compiler-bugs.md); rebuild "
                      "with another compiler")

cdef int _isa = fi_best_isa()


def _is_bfloat16(dtype):
    """True for ml_dtypes.bfloat16 (which exists only once ml_dtypes is imported)."""
    ml_dtypes = sys.modules.get("ml_dtypes")
    return ml_dtypes is not None and dtype == ml_dtypes.bfloat16


cdef int _dtype_code(object dtype) except -1:
    """The core's code of a float32, float64, float16 or ml_dtypes.bfloat16 numpy dtype."""
    cdef int num = dtype.num
    if num == cnp.NPY_FLOAT32:
        return FI_FLOAT32
    if num == cnp.NPY_FLOAT64:
        return FI_FLOAT64
    if num == cnp.NPY_FLOAT16:
        return FI_FLOAT16
    if _is_bfloat16(dtype):
        return FI_BFLOAT16
    raise TypeError(f"dtype must be float32, float64, float16 or bfloat16, got {dtype}")


cdef int _poll_signals(void *raised) noexcept nogil:
    """The poll of a long fill (csrc/fill.h): runs Python's signal handlers; an exception
    one raises (Ctrl-C's KeyboardInterrupt) stops the fill and is kept in `raised`, a list,
    to be raised when the fill has returned."""
    with gil:
        try:
            PyErr_CheckSignals()
        except BaseException as e:
            (<list>raised).append(e)
            return 1
    return 0


cdef inline bint _on_main_thread():
    # Python runs signal handlers on the main thread only: polling elsewhere is wasted
    return threading.main_thread() is threading.current_thread()


def _raise_for_status(int status, int distribution, object dtype, list raised=None):
    """The one place where C status codes become Python exceptions."""
    if status == FI_OK:
        return
    if status == FI_E_INTERRUPTED and raised:
        raise raised[0]
    if status == FI_E_MEMORY:
        raise MemoryError("not enough memory for the fill's buffers")
    if status == FI_E_PARAMS:
        raise ValueError(f"invalid parameters ({_PARAM_NAMES.get(distribution, '?')})")
    if status == FI_E_RANGE_PRECISION and distribution == FI_TRUNCATED_NORMAL:
        raise ValueError(f"mean and std overflow {dtype}, or no {dtype} value lies in the "
                         f"support [mean + a std, mean + b std]")
    if status == FI_E_RANGE_PRECISION:
        raise ValueError(f"low and high (or mean and std) do not fit in {dtype}: they "
                         f"overflow, round to the same value, or no {dtype} value lies "
                         f"between the bounds")
    if status == FI_E_TRUNCATION_MASS:
        raise ValueError(f"the truncation interval [a, b] holds too little probability to "
                         f"sample in {dtype}; move it closer to the mean")
    if status == FI_E_ISA:
        raise RuntimeError("the selected instruction set is not available")
    if status == FI_E_SHAPE:
        raise ValueError("region does not fit in shape")
    raise ValueError(f"unknown distribution or dtype (status {status})")


cdef inline void _params_to_c(tuple params, double c_params[4]) except *:
    cdef Py_ssize_t i
    for i in range(4):
        c_params[i] = float(params[i]) if i < len(params) else 0.0


def check_params(str distribution, object dtype, tuple params):
    """Raises ValueError when the C core would refuse (distribution, dtype, params)."""
    cdef double c_params[4]
    cdef int dist = DISTRIBUTIONS[distribution]
    _params_to_c(params, c_params)
    _raise_for_status(fi_check_params(dist, _dtype_code(dtype), c_params), dist, dtype)


cdef inline void _stream_to_c(tuple key, object counter, fi_stream *stream) except *:
    stream.key[0] = <uint32_t>key[0]
    stream.key[1] = <uint32_t>key[1]
    stream.counter_lo = <uint64_t>(counter & 0xFFFFFFFFFFFFFFFF)
    # mod 2**128: counter 2**128 (an exhausted stream) only reaches here for empty draws
    stream.counter_hi = <uint64_t>((counter >> 64) & 0xFFFFFFFFFFFFFFFF)


def fill(tuple key, object counter, str distribution, tuple params, tuple shape,
         tuple region_start, tuple region_shape, cnp.ndarray out, int threads,
         bint out_is_new=False):
    """Fills `out` (C-contiguous, writable, region_shape; float32, float64, float16 or
    ml_dtypes.bfloat16, recognised by its dtype, so any 2-byte buffer viewed as one of those
    will do) with the region of the draw of `shape` that starts at block `counter` of the stream of `key`;
    out_is_new says `out` was just allocated (it picks the store kind, never the values).
    On the main thread, an exception raised by a signal handler during the fill (Ctrl-C)
    stops it within about 50 ms and propagates; `out` is then left partly written: each
    element holds either its new value or what it held before."""
    cdef fi_stream stream
    cdef double c_params[4]
    cdef int64_t c_shape[FI_MAX_DIMS]
    cdef int64_t c_start[FI_MAX_DIMS]
    cdef int64_t c_rshape[FI_MAX_DIMS]
    cdef int ndim = len(shape), status, i
    cdef int dist = DISTRIBUTIONS[distribution]
    cdef int dtype_code
    cdef void *data = cnp.PyArray_DATA(out)
    cdef list raised
    cdef fi_poll_fn poll
    try:
        dtype_code = _dtype_code(out.dtype)
    except TypeError:
        raise TypeError(f"out must be float32, float64, float16 or bfloat16, got {out.dtype}") from None
    if ndim < 1 or ndim > FI_MAX_DIMS or len(region_start) != ndim or len(region_shape) != ndim:
        raise ValueError("shape and region must have between 1 and 64 matching dimensions")
    if not (cnp.PyArray_IS_C_CONTIGUOUS(out) and cnp.PyArray_ISWRITEABLE(out)
            and cnp.PyArray_ISALIGNED(out) and cnp.PyArray_ISNOTSWAPPED(out)):
        raise ValueError("out must be contiguous, writable, aligned and in native byte order")
    for i in range(ndim):
        c_shape[i] = shape[i]
        c_start[i] = region_start[i]
        c_rshape[i] = region_shape[i]
        if out.shape[i] != c_rshape[i]:
            raise ValueError("out has the wrong shape")
    if out.ndim != ndim:
        raise ValueError("out has the wrong shape")
    _stream_to_c(key, counter, &stream)
    _params_to_c(params, c_params)
    raised = []
    poll = _poll_signals if _on_main_thread() else <fi_poll_fn>NULL
    with nogil:
        status = fi_fill_polled(&stream, dist, dtype_code, c_params, ndim, c_shape, c_start,
                                c_rshape, data, threads, _isa,
                                FI_OUTPUT_NEW if out_is_new else 0, poll, <void *>raised)
    _raise_for_status(status, dist, out.dtype, raised)
    return out


def random_raw(tuple key, object counter, cnp.ndarray out, int threads):
    """Fills the uint32 array `out` with the stream's words from block `counter` on."""
    cdef fi_stream stream
    cdef int status
    cdef uint64_t n = out.size
    cdef uint32_t *data = <uint32_t *>cnp.PyArray_DATA(out)
    cdef list raised
    cdef fi_poll_fn poll
    if cnp.PyArray_TYPE(out) != cnp.NPY_UINT32 or not cnp.PyArray_IS_C_CONTIGUOUS(out):
        raise ValueError("out must be a contiguous uint32 array")
    _stream_to_c(key, counter, &stream)
    raised = []
    poll = _poll_signals if _on_main_thread() else <fi_poll_fn>NULL
    with nogil:
        status = fi_random_raw_polled(&stream, n, data, threads, _isa, FI_OUTPUT_NEW, poll,
                                      <void *>raised)
    _raise_for_status(status, -1, out.dtype, raised)
    return out


def philox4x32(counter, key, int rounds=10):
    """Philox4x32-`rounds` of one block: 4 counter words and 2 key words (uint32 each) in,
    4 words out, as a uint32 array."""
    cdef uint32_t c_ctr[4]
    cdef uint32_t c_key[2]
    cdef uint32_t c_out[4]
    cdef int i
    counter = [int(c) for c in counter]
    key = [int(k) for k in key]
    if len(counter) != 4 or len(key) != 2:
        raise ValueError("counter takes 4 words and key 2 words")
    if any(not 0 <= w <= 0xFFFFFFFF for w in counter + key):
        raise ValueError("counter and key words must be in [0, 2**32)")
    if not 1 <= rounds <= 16:
        raise ValueError("rounds must be between 1 and 16")
    for i in range(4):
        c_ctr[i] = counter[i]
    for i in range(2):
        c_key[i] = key[i]
    fi_philox4x32(rounds, c_ctr, c_key, c_out)
    import numpy
    return numpy.array([c_out[0], c_out[1], c_out[2], c_out[3]], dtype=numpy.uint32)


def normal_cdf(double x):
    """Phi(x), the standard normal CDF, as the truncated normal computes it (csrc/normal_cdf.c)."""
    if x != x:
        raise ValueError("x must not be NaN")
    return fi_normal_cdf(x)


def normal_sf(double x):
    """1 - Phi(x), without cancellation, as the truncated normal computes it."""
    if x != x:
        raise ValueError("x must not be NaN")
    return fi_normal_sf(x)


def advise_huge_pages(size_t address, size_t nbytes):
    """Asks for transparent huge pages under the 2 MiB-aligned part of the nbytes at
    address, memory about to be written for the first time (csrc/memory.h); True if the
    advice was given.  The caller owns the memory and keeps it alive; nothing is read or
    written."""
    return bool(fi_advise_huge_pages(<void *>address, nbytes))


def looks_untouched(size_t address, size_t nbytes):
    """True if none of the pages the fill probes in the nbytes at address is in memory yet
    (csrc/memory.h): fi_fill then fills them as a new array.  Reads and writes nothing."""
    return bool(fi_looks_untouched(<const void *>address, nbytes))


def available_isas():
    """Names of the instruction sets this CPU can run with this build, best last."""
    cdef unsigned isas = fi_available_isas()
    return [fi_isa_name(i).decode() for i in range(FI_N_ISAS) if isas & (1u << i)]


def disabled_isas():
    """Names of instruction sets the CPU has but whose kernels failed the start-up check
    against the scalar reference, and so are never used."""
    cdef unsigned isas = fi_disabled_isas()
    return [fi_isa_name(i).decode() for i in range(FI_N_ISAS) if isas & (1u << i)]


def nontemporal_stores():
    """True if large existing outputs are written with non-temporal stores here (the
    instruction set in use has them and the CPU gains from them)."""
    return bool(fi_nontemporal_stores(_isa))


def best_isa():
    return fi_isa_name(fi_best_isa()).decode()


def get_isa():
    """The instruction set the kernels run on now."""
    return fi_isa_name(_isa).decode()


def set_isa(str name):
    """Runs the kernels on instruction set `name` (results are identical on all of them)."""
    global _isa
    cdef unsigned isas = fi_available_isas()
    for i in range(FI_N_ISAS):
        if fi_isa_name(i).decode() == name:
            if not isas & (1u << i):
                raise RuntimeError(f"instruction set {name!r} is not available on this CPU "
                                   f"(available: {', '.join(available_isas())})")
            _isa = i
            return
    raise ValueError(f"unknown instruction set {name!r}; expected one of "
                     f"{', '.join(fi_isa_name(i).decode() for i in range(FI_N_ISAS))}")


def set_helper_budget(int helpers):
    """Caps the helper threads alive at once across all concurrent calls."""
    fi_set_helper_budget(helpers)


def _apply_isa_from_environment():
    """FASTINIT_ISA=scalar|avx2|avx512|neon forces a path; a path this CPU lacks is an
    error at import rather than a silent fallback."""
    import os
    name = os.environ.get("FASTINIT_ISA", "").strip()
    if not name:
        return
    try:
        set_isa(name)
    except (ValueError, RuntimeError) as e:
        raise ImportError(f"FASTINIT_ISA={name!r}: {e}") from None


_apply_isa_from_environment()
