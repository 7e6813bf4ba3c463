"""The array side of a call: shape, dtype, out, region and threads, validated before a
single byte is written, with errors that name the argument."""
import math
import operator
import os
import sys

import numpy as np

FLOAT32, FLOAT64, FLOAT16 = np.dtype(np.float32), np.dtype(np.float64), np.dtype(np.float16)
SUPPORTED_DTYPES = (FLOAT32, FLOAT64, FLOAT16)     # and bfloat16, once ml_dtypes is imported
SUPPORTED_NAMES = "float32, float64, float16 or bfloat16"
MAX_DIMS = 64
# Element indices, times 2 words for float64, must fit the 64-bit word counter.
MAX_ELEMENTS = 2 ** 62


def install_hint(extra, packages):
    """install_hint(extra, packages) -> what an error about a missing optional package says:
    pip install of the packages themselves, or fastinit's extra in both forms, the one that
    works from a checkout now and the one for when fastinit-weights is on the package index."""
    return (f"pip install {packages} (fastinit's [{extra}] extra: pip install \".[{extra}]\" "
            f"from a fastinit checkout, or pip install \"fastinit-weights[{extra}]\" once "
            f"fastinit-weights is published on PyPI)")


HALF_EXTRA = install_hint("half", "ml_dtypes")


def normalize_shape(shape):
    """A tuple of non-negative ints from an int or a sequence of ints."""
    if type(shape) is tuple and all(type(d) is int and 0 <= d <= MAX_ELEMENTS for d in shape):
        if len(shape) <= MAX_DIMS and math.prod(shape) <= MAX_ELEMENTS:
            return shape                 # the common case, checked cheaply
    try:
        dims = (operator.index(shape),)
    except TypeError:
        if isinstance(shape, (str, bytes)) or not hasattr(shape, "__iter__"):
            raise TypeError(f"shape must be an int or a tuple of ints, got {shape!r}") from None
        dims = []
        for d in shape:
            if isinstance(d, bool):
                raise TypeError(f"shape must contain ints, got {d!r} in {shape!r}")
            try:
                dims.append(operator.index(d))
            except TypeError:
                raise TypeError(f"shape must contain ints, got {d!r} in {shape!r}") from None
        dims = tuple(dims)
    if isinstance(shape, bool):
        raise TypeError(f"shape must be an int or a tuple of ints, got {shape!r}")
    if any(d < 0 for d in dims):
        raise ValueError(f"shape must not have negative dimensions, got {dims}")
    if any(d > MAX_ELEMENTS for d in dims):
        raise OverflowError(f"shape {dims} has a dimension larger than 2**62")
    if len(dims) > MAX_DIMS:
        raise ValueError(f"shape has {len(dims)} dimensions; at most {MAX_DIMS} are supported")
    if math.prod(dims) > MAX_ELEMENTS:
        raise OverflowError(f"shape {dims} has {math.prod(dims)} elements, more than 2**62")
    return dims


def bfloat16():
    """ml_dtypes.bfloat16 as a numpy dtype; ml_dtypes is imported here, only when asked for."""
    try:
        import ml_dtypes
    except ImportError:
        raise TypeError(f"dtype bfloat16 needs the ml_dtypes package: {HALF_EXTRA}") from None
    return np.dtype(ml_dtypes.bfloat16)


def is_bfloat16(dt):
    """True for ml_dtypes.bfloat16 (a dtype that exists only once ml_dtypes is imported)."""
    ml_dtypes = sys.modules.get("ml_dtypes")
    return ml_dtypes is not None and dt == np.dtype(ml_dtypes.bfloat16)


def is_half(dt):
    """float16 or bfloat16: drawn in float32 and rounded (docs/stream.md)."""
    return dt == FLOAT16 or is_bfloat16(dt)


def is_supported(dt):
    return dt.isnative and (dt in SUPPORTED_DTYPES or is_bfloat16(dt))


_LARGEST = {dt: float(np.finfo(dt).max) for dt in SUPPORTED_DTYPES}


def largest_finite(dt):
    """The largest finite value of a supported dtype, as a Python float."""
    largest = _LARGEST.get(dt)
    if largest is None:                      # bfloat16
        largest = float(sys.modules["ml_dtypes"].finfo(dt).max)
    return largest


def words_per_element(dt):
    """Stream words per element: 2 for float64, 1 for float32 and the half dtypes."""
    return 2 if dt == FLOAT64 else 1


def resolve_dtype(dtype, out):
    """The output dtype: `dtype`, else out's dtype, else float32."""
    if dtype is None and out is None:
        return FLOAT32
    if dtype is None:
        if not isinstance(out, np.ndarray):
            raise TypeError(f"out must be a numpy.ndarray, got {type(out).__name__}")
        if not is_supported(out.dtype):
            raise TypeError(f"out has dtype {out.dtype.str if not out.dtype.isnative else out.dtype}; "
                            f"expected {SUPPORTED_NAMES} in native byte order")
        return out.dtype
    if isinstance(dtype, str) and dtype == "bfloat16":
        return bfloat16()
    try:
        dt = np.dtype(dtype)
    except TypeError as e:
        raise TypeError(f"dtype {dtype!r} is not understood: {e}") from None
    if not is_supported(dt):
        raise TypeError(f"dtype must be {SUPPORTED_NAMES}, got {dt}")
    return dt


def normalize_region(region, shape):
    """(start, region_shape) of a tuple of step-1 slices within shape."""
    if region is None:
        return (0,) * len(shape), shape
    if isinstance(region, slice):
        region = (region,)
    if not isinstance(region, tuple) or not all(isinstance(s, slice) for s in region):
        raise TypeError(f"region must be a tuple of slices, got {region!r}")
    if len(region) > len(shape):
        raise ValueError(f"region has {len(region)} slices for a shape with {len(shape)} dimensions")
    start, extent = [], []
    for axis, dim in enumerate(shape):
        s = region[axis] if axis < len(region) else slice(None)
        if s.step is not None and s.step != 1:
            raise ValueError(f"region[{axis}] has step {s.step!r}; only step 1 is supported")
        try:
            lo = 0 if s.start is None else operator.index(s.start)
            hi = dim if s.stop is None else operator.index(s.stop)
        except TypeError:
            raise TypeError(f"region[{axis}] = {s!r} must have int bounds") from None
        lo += dim if lo < 0 else 0
        hi += dim if hi < 0 else 0
        if not 0 <= lo <= hi <= dim:
            raise ValueError(f"region[{axis}] = {s!r} is out of range for axis {axis} of length {dim}")
        start.append(lo)
        extent.append(hi - lo)
    return tuple(start), tuple(extent)


def check_out(out, shape, dtype, name="out"):
    """Raises unless out can receive an array of shape and dtype in place; the errors call
    it `name` (the in-place forms' `array`)."""
    if not isinstance(out, np.ndarray):
        raise TypeError(f"{name} must be a numpy.ndarray, got {type(out).__name__}")
    if out.dtype != dtype and out.dtype.isnative and is_half(out.dtype):
        raise ValueError(f"{name} has dtype {out.dtype}, which does not match dtype {dtype}")
    if out.dtype != dtype or not out.dtype.isnative:
        raise TypeError(f"{name} has dtype {out.dtype.str if not out.dtype.isnative else out.dtype}; "
                        f"expected native {dtype}")
    if out.shape != shape:
        raise ValueError(f"{name} has shape {out.shape}; expected {shape}")
    if not out.flags.c_contiguous:
        raise ValueError(f"{name} must be C-contiguous")
    if not out.flags.writeable:
        raise ValueError(f"{name} must be writable")
    if not out.flags.aligned:
        raise ValueError(f"{name} must be aligned")


def _physical_memory():
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def _read_limit(path):
    """A cgroup memory limit file's value in bytes, or None for none ("max", absent)."""
    try:
        with open(path) as f:
            text = f.read().strip()
    except OSError:
        return None
    if not text.isdigit():
        return None                    # "max": no limit at this level
    value = int(text)
    return value if value < 2 ** 62 else None   # v1 writes "no limit" as ~2^63


def cgroup_memory_limit(proc="/proc/self"):
    """The smallest memory limit of the cgroups this process is in (v1 and v2, every level
    up to the mount's root, as the kernel enforces them), or None.  A container's limit
    kills a process that touches more, long before physical memory runs out."""
    try:
        with open(os.path.join(proc, "cgroup")) as f:
            groups = [line.rstrip("\n").split(":", 2) for line in f]
        with open(os.path.join(proc, "mountinfo")) as f:
            mounts = [line.split() for line in f]
    except OSError:
        return None
    limits = []
    for fields in mounts:
        if "-" not in fields:
            continue
        sep = fields.index("-")
        fstype, options = fields[sep + 1], fields[sep + 3].split(",") if len(fields) > sep + 3 else []
        root, mount_point = fields[3], fields[4]
        for group in groups:
            if len(group) != 3:
                continue
            _, controllers, path = group
            if fstype == "cgroup2" and controllers == "":
                name = "memory.max"
            elif fstype == "cgroup" and "memory" in controllers.split(",") and "memory" in options:
                name = "memory.limit_in_bytes"
            else:
                continue
            # the process's group relative to what this mount shows (a container sees its
            # own group as the mount's root)
            relative = os.path.relpath(path, root) if path.startswith(root) else "."
            directory = os.path.normpath(os.path.join(mount_point, relative))
            while True:
                limit = _read_limit(os.path.join(directory, name))
                if limit is not None:
                    limits.append(limit)
                if directory == mount_point or len(directory) <= len(mount_point):
                    break
                directory = os.path.dirname(directory)
    return min(limits) if limits else None


def _memory_limit():
    limits = [m for m in (_physical_memory(), cgroup_memory_limit()) if m is not None]
    return min(limits) if limits else None


# The most memory a new array may take: physical memory, or a container's limit if lower.
MEMORY_LIMIT = _memory_limit()
MAX_BYTES = int(np.iinfo(np.intp).max)


def allocate(shape, dtype):
    """A new C-contiguous array, refused up front when it cannot fit in memory (rather
    than left to the kernel's out-of-memory killer once the pages are touched)."""
    check_allocation(shape, dtype)
    return np.empty(shape, dtype)


def check_allocation(shape, dtype):
    """Raises unless a new array of shape and dtype can fit in memory."""
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes > MAX_BYTES:
        raise OverflowError(f"an array of shape {shape} and dtype {dtype} needs {nbytes} bytes, "
                            f"more than the address space")
    if MEMORY_LIMIT is not None and nbytes > MEMORY_LIMIT:
        raise MemoryError(f"an array of shape {shape} and dtype {dtype} needs "
                          f"{nbytes / 2**30:.1f} GiB, more than the "
                          f"{MEMORY_LIMIT / 2**30:.1f} GiB of memory this process may use "
                          f"(physical memory, or its container's limit)")


# More threads than this never help (the core splits a fill into at most 256 parts) and
# would overflow the core's int: larger requests are clamped to it.
MAX_THREADS = 256


def _default_threads():
    env = os.environ.get("FASTINIT_NUM_THREADS", "").strip()
    if env:                       # empty: unset, as tools treat an empty variable
        try:
            n = int(env)
        except ValueError:
            raise ValueError(f"FASTINIT_NUM_THREADS must be a positive integer, got {env!r}") from None
        if n < 1:
            raise ValueError(f"FASTINIT_NUM_THREADS must be a positive integer, got {env!r}")
        return min(n, MAX_THREADS)
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


_cached_threads = None


def default_threads():
    """Threads a call uses when it names none: FASTINIT_NUM_THREADS, else the CPUs this
    process may run on (re-read in a forked child)."""
    global _cached_threads
    if _cached_threads is None:
        _cached_threads = _default_threads()
    return _cached_threads


def _forget_threads():
    global _cached_threads, _cached_cpus
    _cached_threads = _cached_cpus = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_threads)


def resolve_threads(threads):
    if threads is None:
        return default_threads()
    if isinstance(threads, bool):
        raise TypeError(f"threads must be a positive int, got {threads!r}")
    try:
        n = operator.index(threads)
    except TypeError:
        raise TypeError(f"threads must be a positive int, got {threads!r}") from None
    if n < 1:
        raise ValueError(f"threads must be at least 1, got {n}")
    # more threads than CPUs only queue up behind each other: clamped (as documented)
    return min(n, max_threads())


_cached_cpus = None


def max_threads():
    """The most threads a call uses: the CPUs this process may run on, or
    FASTINIT_NUM_THREADS where that is more."""
    global _cached_cpus
    if _cached_cpus is None:
        try:
            _cached_cpus = len(os.sched_getaffinity(0))
        except (AttributeError, OSError):
            _cached_cpus = os.cpu_count() or 1
    return max(_cached_cpus, default_threads())


def python_scalar(value):
    """A 0-d array or tensor argument as a Python float (the frameworks accept scalar
    tensors); anything else as it is, for the NumPy API to check."""
    if getattr(value, "shape", None) == () and not isinstance(value, (int, float)):
        try:
            return float(value)
        except (TypeError, ValueError):
            return value
    return value
