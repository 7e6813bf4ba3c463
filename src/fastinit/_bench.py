"""The comparison behind `python -m fastinit bench` and benchmarks/: each scheme as fastinit
draws it and as numpy, scipy, torch, mkl_random and jax users write it (and through
fastinit.jax, fastinit's jax.nn.initializers), next to a floor (writing
the same bytes with no randomness at all), timed interleaved in one process.

A contender is a zero-argument callable that returns the initialized array; building one
(allocating an `out`, seeding a generator) is never timed.  The optional libraries are
imported only when a contender of theirs is built, so `import fastinit` never pays for them.
"""
import contextlib
import dataclasses
import importlib
import importlib.metadata
import importlib.util
import math
import os
import platform
import statistics
import textwrap
import time
from typing import Callable

import numpy as np

from . import _arrays, _core
from ._fans import calculate_gain, compute_fans
from ._generator import Generator
from ._schemes import TRUNCATED_STD, TRUNCATION_BOUND

SCHEMES = ("xavier_uniform", "he_normal", "he_normal_truncated")
# fastinit's half-precision rows, next to its float32 ones: the same draws, half the bytes
HALF_DTYPES = ("float16", "bfloat16")
LIBRARIES = ("fastinit", "floor", "numpy", "torch", "mkl_random", "jax", "fastinit.jax")
OPTIONAL_LIBRARIES = ("scipy", "torch", "mkl_random", "jax")

# A contender slower than SLOW_CALL_SECONDS per call (scipy's truncnorm, torch's
# trunc_normal_ at 4096x4096) is run at most SLOW_BUDGET_SECONDS' worth, and at least once,
# so that `bench` stays under a minute; its first call is then one of its samples.
SLOW_CALL_SECONDS = 1.0
SLOW_BUDGET_SECONDS = 4.0
# `bench` starts no new round past this: a busy machine gets fewer rounds (the table shows
# how many each contender had) rather than a late answer; but the first round always runs
BENCH_BUDGET_SECONDS = 40.0


class Unavailable(Exception):
    """A contender that cannot run here: its library is missing or lacks the scheme."""


@dataclasses.dataclass(frozen=True)
class Contender:
    """One way of producing a scheme's array: `run()` returns it."""
    library: str        # one of LIBRARIES
    name: str           # as the tables show it
    code: str           # the measured call, for the record
    run: Callable[[], object]
    dtype: str = None   # the array's dtype when it is not the run's (fastinit's half rows)


# ---------------------------------------------------------------- the schemes' parameters

def uniform_bound(shape):
    """uniform_bound(shape) -> b of xavier_uniform: U[-b, b), b = sqrt(6 / (fan_in + fan_out))."""
    fan_in, fan_out = compute_fans(shape)
    return math.sqrt(6.0 / (fan_in + fan_out))


def normal_std(scheme, shape):
    """normal_std(scheme, shape) -> std of he_normal (gain sqrt(2), fan_in), or for
    he_normal_truncated the std of the normal that is cut at +-2 of it."""
    fan_in, _ = compute_fans(shape)
    std = calculate_gain("relu") / math.sqrt(fan_in)
    return std / TRUNCATED_STD if scheme == "he_normal_truncated" else std


def _check_scheme(scheme):
    if scheme not in SCHEMES:
        raise ValueError(f"unknown scheme {scheme!r}; expected one of {SCHEMES}")


def _dtype_name(dtype):
    # "bfloat16" is a numpy dtype name only once ml_dtypes is imported
    return dtype if isinstance(dtype, str) and dtype == "bfloat16" else np.dtype(dtype).name


def half_dtypes():
    """The HALF_DTYPES fastinit can draw here: bfloat16 needs ml_dtypes."""
    return tuple(name for name in HALF_DTYPES
                 if name != "bfloat16" or importlib.util.find_spec("ml_dtypes") is not None)


def _import_optional(name):
    try:
        return importlib.import_module(name)
    except ImportError:
        raise Unavailable(f"{name.split('.')[0]} is not installed") from None


def resident_array(shape, dtype):
    """A new array whose pages are already mapped, so filling it measures the fill alone."""
    out = np.empty(shape, dtype)
    out.fill(0.0)
    return out


# ---------------------------------------------------------------- contenders

# contender name -> what it measures, as the table defines it on the contender's first row
# ({threads}: fastinit's all-cores thread count, {torch_threads}: torch's)
CONTENDER_DEFINITIONS = {
    "floor np.ones": "np.ones(shape): the same bytes written with no randomness, which no "
                     "initializer can beat ('x floor' divides by it)",
    "fastinit threads=1": "fastinit's scheme into a new array, 1 thread",
    "fastinit all cores": "fastinit's scheme into a new array, {threads} threads (every core "
                          "this process may use): the row the last column compares with",
    "fastinit float16": "fastinit all cores, the same draws rounded into a new float16 array",
    "fastinit bfloat16": "fastinit all cores, the same draws rounded into a new bfloat16 array",
    "fastinit threads=1 out=": "fastinit filling an existing array already in memory (no page "
                               "faults), 1 thread",
    "fastinit all cores out=": "the same, {threads} threads",
    "numpy": "numpy.random.Generator as the scheme is usually written: "
             "rng.uniform(-b, b, shape) in float64 then converted; "
             "rng.standard_normal(shape, dtype) * std",
    "numpy random": "rng.random(shape, dtype): numpy's cheapest random array, uniform [0, 1) "
                    "and unscaled",
    "scipy truncnorm": "scipy.stats.truncnorm(-2, 2, scale=std).rvs(size=shape), the usual "
                       "truncated normal without fastinit",
    "torch": "torch.nn.init's function (xavier_uniform_, kaiming_normal_, trunc_normal_) on a "
             "new torch.empty tensor, {torch_threads} threads",
    "mkl_random": "Intel's mkl_random, Philox4x32-10 and inverse-CDF normals, float64 "
                  "then converted",
    "jax": "jax.nn.initializers' initializer on jax's default device, waited for",
    "fastinit.jax": "fastinit.jax's initializer of the same name, a jax.Array on the same "
                    "device",
}


def faster_or_slower(ratio):
    """faster_or_slower(ratio) -> "2.50x faster" for a ratio of times >= 1 (theirs / ours),
    "1.25x slower" (1 / ratio) below 1."""
    return f"{ratio:.2f}x faster" if ratio >= 1 else f"{1 / ratio:.2f}x slower"


def fastinit_contender(scheme, shape, dtype, threads=None, out=None):
    """fastinit_contender(scheme, shape, dtype, threads=None, out=None) -> Contender: a new
    array, or filling `out`, with `threads` threads (None: all this process may use)."""
    _check_scheme(scheme)
    generator = Generator(0)
    kwargs = {"dtype": _arrays.resolve_dtype(dtype, None), "threads": threads}
    if scheme == "he_normal_truncated":
        kwargs["truncated"] = True
    method = getattr(generator, "xavier_uniform" if scheme == "xavier_uniform" else "he_normal")
    name = "fastinit threads=1" if threads == 1 else (
        "fastinit all cores" if threads is None else f"fastinit threads={threads}")
    extra = ", truncated=True" if scheme == "he_normal_truncated" else ""
    if out is None:
        code = f"{method.__name__}(shape{extra}, dtype={_dtype_name(dtype)}, threads={threads})"
        return Contender("fastinit", name, code, lambda: method(shape, **kwargs))
    code = f"{method.__name__}(shape{extra}, out=out, threads={threads})"
    return Contender("fastinit", name + " out=", code, lambda: method(shape, out=out, **kwargs))


def floor_contender(shape, dtype, out=None):
    """floor_contender(shape, dtype, out=None) -> Contender writing ones: np.ones for a new
    array, out.fill(1.0) in place; no initializer can beat writing its bytes."""
    if out is None:
        return Contender("floor", "floor np.ones", f"np.ones(shape, {_dtype_name(dtype)})",
                         lambda: np.ones(shape, dtype))

    def fill():
        out.fill(1.0)
        return out
    return Contender("floor", "floor fill out=", "out.fill(1.0)", fill)


def numpy_contender(scheme, shape, dtype):
    """numpy_contender(scheme, shape, dtype) -> Contender: the scheme as numpy's Generator is
    idiomatically used; the truncated normal through scipy.stats.truncnorm (Unavailable
    without scipy)."""
    _check_scheme(scheme)
    rng = np.random.default_rng(0)
    dtype = np.dtype(dtype)
    if scheme == "xavier_uniform":
        b = uniform_bound(shape)
        # Generator.uniform has no dtype: it draws float64, converted when float32 is asked
        return Contender("numpy", "numpy", f"rng.uniform(-b, b, shape).astype({dtype.name})",
                         lambda: rng.uniform(-b, b, shape).astype(dtype, copy=False))
    std = normal_std(scheme, shape)
    if scheme == "he_normal":
        return Contender("numpy", "numpy",
                         f"rng.standard_normal(shape, dtype={dtype.name}) * std",
                         lambda: rng.standard_normal(shape, dtype=dtype) * std)
    stats = _import_optional("scipy.stats")
    a, b = -TRUNCATION_BOUND, TRUNCATION_BOUND
    return Contender(
        "numpy", "scipy truncnorm",
        f"truncnorm(-2, 2, scale=std).rvs(size=shape, random_state=rng).astype({dtype.name})",
        lambda: stats.truncnorm(a, b, scale=std).rvs(size=shape, random_state=rng)
        .astype(dtype, copy=False))


def torch_contender(scheme, shape, dtype):
    """torch_contender(scheme, shape, dtype) -> Contender: torch.nn.init's function on a new
    torch.empty tensor (Unavailable without torch).  Its threads are the caller's
    business: see torch_threads."""
    _check_scheme(scheme)
    torch = _import_optional("torch")
    tdtype = {"float32": torch.float32, "float64": torch.float64}[_dtype_name(dtype)]
    init = torch.nn.init
    empty = f"torch.empty(shape, dtype=torch.{_dtype_name(dtype)})"
    if scheme == "xavier_uniform":
        return Contender("torch", "torch", f"xavier_uniform_({empty})",
                         lambda: init.xavier_uniform_(torch.empty(shape, dtype=tdtype)))
    if scheme == "he_normal":
        # torch reads a matrix as (fan_out, fan_in), fastinit as (fan_in, fan_out): torch's
        # mode="fan_out" is the same fan, so both draw with the same std
        return Contender("torch", "torch", f"kaiming_normal_({empty}, mode='fan_out')",
                         lambda: init.kaiming_normal_(torch.empty(shape, dtype=tdtype),
                                                      mode="fan_out", nonlinearity="relu"))
    std = normal_std(scheme, shape)
    lo, hi = -TRUNCATION_BOUND * std, TRUNCATION_BOUND * std     # torch's a, b are absolute
    return Contender("torch", "torch", f"trunc_normal_({empty}, std=std, a=-2*std, b=2*std)",
                     lambda: init.trunc_normal_(torch.empty(shape, dtype=tdtype), std=std,
                                                a=lo, b=hi))


def mkl_random_contender(scheme, shape, dtype):
    """mkl_random_contender(scheme, shape, dtype) -> Contender: Intel's mkl_random on the
    Philox4x32-10 generator, normals by inverse CDF like fastinit's (Unavailable without
    mkl_random, and for the truncated normal, which it does not offer)."""
    _check_scheme(scheme)
    mkl_random = _import_optional("mkl_random")
    if scheme == "he_normal_truncated":
        raise Unavailable("mkl_random has no truncated normal")
    # MKLRandomState since mkl_random 1.3.2, which deprecates RandomState's MKL extensions
    state_class = getattr(mkl_random, "MKLRandomState", None) or mkl_random.RandomState
    rs = state_class(0, brng="PHILOX4X32X10")
    dtype = np.dtype(dtype)
    # mkl_random draws float64 only: converted when float32 is asked
    if scheme == "xavier_uniform":
        b = uniform_bound(shape)
        return Contender("mkl_random", "mkl_random",
                         f"rs.uniform(-b, b, shape).astype({dtype.name})",
                         lambda: rs.uniform(-b, b, shape).astype(dtype, copy=False))
    std = normal_std(scheme, shape)
    return Contender("mkl_random", "mkl_random",
                     f"rs.normal(0, std, shape, method='ICDF').astype({dtype.name})",
                     lambda: rs.normal(0.0, std, shape, method="ICDF").astype(dtype, copy=False))


# scheme -> the jax.nn.initializers call that draws it; fastinit.jax has the same names
_JAX_INITIALIZERS = {
    "xavier_uniform": ("glorot_uniform", ()),
    "he_normal": ("variance_scaling", (2.0, "fan_in", "normal")),      # JAX's he_normal is truncated
    "he_normal_truncated": ("he_normal", ()),
}


def _jax_initializer_contender(library, module, scheme, shape, dtype):
    _check_scheme(scheme)
    jax = _import_optional("jax")
    name, args = _JAX_INITIALIZERS[scheme]
    dtype = np.dtype(dtype)
    if dtype.itemsize == 8 and not jax.config.jax_enable_x64:
        raise Unavailable("jax makes float64 only with jax_enable_x64")
    init = getattr(module, name)(*args)
    key = jax.random.key(0)
    prefix = "jax.nn.initializers" if library == "jax" else "fastinit.jax"
    code = (f"{prefix}.{name}({', '.join(map(repr, args))})(key, shape, {dtype.name})"
            f".block_until_ready()")
    label = "jax" if library == "jax" else "fastinit.jax"
    return Contender(library, label, code,
                     lambda: init(key, shape, dtype).block_until_ready())


def jax_contender(scheme, shape, dtype):
    """jax_contender(scheme, shape, dtype) -> Contender: jax.nn.initializers on jax's
    default device, waited for (Unavailable without jax)."""
    jax = _import_optional("jax")
    return _jax_initializer_contender("jax", jax.nn.initializers, scheme, shape, dtype)


def fastinit_jax_contender(scheme, shape, dtype):
    """fastinit_jax_contender(scheme, shape, dtype) -> Contender: the same initializer from
    fastinit.jax, a jax.Array on jax's default device (Unavailable without jax)."""
    _import_optional("jax")
    module = importlib.import_module("fastinit.jax")
    return _jax_initializer_contender("fastinit.jax", module, scheme, shape, dtype)


@contextlib.contextmanager
def torch_threads(n=None):
    """torch_threads(n=None): within it torch uses n intra-op threads (None: os.cpu_count()),
    restored afterwards; does nothing without torch."""
    try:
        torch = importlib.import_module("torch")
    except ImportError:
        yield
        return
    previous = torch.get_num_threads()
    torch.set_num_threads(n or os.cpu_count() or 1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def numpy_random_contender(shape, dtype):
    """numpy_random_contender(shape, dtype) -> Contender: numpy's own uniform [0, 1) in the
    output dtype, rng.random(shape, dtype), the cheapest random array numpy makes."""
    rng = np.random.default_rng(0)
    dtype = np.dtype(dtype)
    return Contender("numpy", "numpy random", f"rng.random(shape, dtype={dtype.name})",
                     lambda: rng.random(shape, dtype=dtype))


def new_array_contenders(shape, dtype):
    """new_array_contenders(shape, dtype) -> [(scheme, Contender)]: the floor, then per
    scheme fastinit with 1 thread and all cores and whichever other libraries are here;
    numpy's rng.random beside the uniform, and he_normal filling out= with 1 thread and all
    cores beside the new arrays (the goals compare them: GOALS)."""
    contenders = [("floor", floor_contender(shape, dtype))]
    for scheme in SCHEMES:
        contenders.append((scheme, fastinit_contender(scheme, shape, dtype, threads=1)))
        contenders.append((scheme, fastinit_contender(scheme, shape, dtype, threads=None)))
        if np.dtype(dtype) == np.float32:
            for half in half_dtypes():
                c = fastinit_contender(scheme, shape, half, threads=None)
                contenders.append((scheme, dataclasses.replace(
                    c, name=f"fastinit {half}", dtype=half)))
        if scheme == "he_normal":
            out = resident_array(shape, dtype)
            contenders.append((scheme, fastinit_contender(scheme, shape, dtype, 1, out=out)))
            contenders.append((scheme, fastinit_contender(scheme, shape, dtype, None, out=out)))
        for make in (numpy_contender, torch_contender, mkl_random_contender, jax_contender,
                     fastinit_jax_contender):
            try:
                contenders.append((scheme, make(scheme, shape, dtype)))
            except Unavailable:
                pass
        if scheme == "xavier_uniform":
            contenders.append((scheme, numpy_random_contender(shape, dtype)))
    return contenders


# ---------------------------------------------------------------- the cost of a call

CALL_SHAPES = ((4, 4), (64, 64), (512, 512))


def call_contenders(shape):
    """call_contenders(shape) -> [Contender]: one small float32 array as a model's many small
    tensors get it, fastinit's module functions against numpy's cheapest calls: he_normal
    vs rng.standard_normal, xavier_uniform vs rng.random."""
    rng = np.random.default_rng(0)
    from . import he_normal, xavier_uniform
    return [
        Contender("fastinit", "fastinit he_normal", "fastinit.he_normal(shape)",
                  lambda: he_normal(shape)),
        Contender("numpy", "numpy standard_normal",
                  "rng.standard_normal(shape, dtype=float32)",
                  lambda: rng.standard_normal(shape, dtype=np.float32)),
        Contender("fastinit", "fastinit xavier_uniform", "fastinit.xavier_uniform(shape)",
                  lambda: xavier_uniform(shape)),
        Contender("numpy", "numpy random", "rng.random(shape, dtype=float32)",
                  lambda: rng.random(shape, dtype=np.float32)),
    ]


def time_per_call(run, min_seconds=2e-3):
    """time_per_call(run) -> (seconds per call, calls): calls looped until they take
    min_seconds, far above the timer's resolution."""
    calls = 1
    while True:
        start = time.perf_counter()
        for _ in range(calls):
            run()
        seconds = time.perf_counter() - start
        if seconds >= min_seconds:
            return seconds / calls, calls
        calls *= 4 if seconds < min_seconds / 8 else 2


def run_calls(repeat, shapes=CALL_SHAPES):
    """run_calls(repeat) -> [row]: each small-call contender, per shape, timed in `repeat`
    interleaved rounds of looped calls; medians and minima in microseconds."""
    rows = []
    for shape in shapes:
        contenders = call_contenders(shape)
        samples = [[] for _ in contenders]
        for c in contenders:
            c.run()
        for r in range(repeat):
            for k in range(len(contenders)):
                i = (r + k) % len(contenders)
                samples[i].append(time_per_call(contenders[i].run)[0])
        for c, seconds in zip(contenders, samples):
            rows.append({"shape": list(shape), "contender": c.name, "library": c.library,
                         "code": c.code, "median_us": statistics.median(seconds) * 1e6,
                         "min_us": min(seconds) * 1e6})
    return rows


# name -> (numerator row, denominator row, goal, "le" | "ge") of the goals for AVX2-only
# machines; rows are (scheme, contender) of the main table, or ("calls", shape, contender)
# of the small calls.  Each ratio is of medians; a goal whose rows were not measured (torch
# missing) is left out.  The kernels' own goals (Philox and the transforms, ns per value)
# are tests/c/bench_kernels's.
GOALS = {
    "normal / uniform, new array, 1 thread": (
        ("he_normal", "fastinit threads=1"), ("xavier_uniform", "fastinit threads=1"), 1.6, "le"),
    "truncated / uniform, new array, 1 thread": (
        ("he_normal_truncated", "fastinit threads=1"), ("xavier_uniform", "fastinit threads=1"),
        1.8, "le"),
    "uniform, 1 thread: times faster than numpy random": (
        ("xavier_uniform", "numpy random"), ("xavier_uniform", "fastinit threads=1"), 3.0, "ge"),
    "uniform new array: all cores vs 1 thread": (
        ("xavier_uniform", "fastinit threads=1"), ("xavier_uniform", "fastinit all cores"),
        1.7, "ge"),
    "normal out=: all cores vs 1 thread": (
        ("he_normal", "fastinit threads=1 out="), ("he_normal", "fastinit all cores out="),
        1.8, "ge"),
    "normal, all cores: times faster than numpy's idiom": (
        ("he_normal", "numpy"), ("he_normal", "fastinit all cores"), 8.0, "ge"),
    "xavier_uniform, all cores: times faster than torch": (
        ("xavier_uniform", "torch"), ("xavier_uniform", "fastinit all cores"), 6.0, "ge"),
    "he_normal, all cores: times faster than torch": (
        ("he_normal", "torch"), ("he_normal", "fastinit all cores"), 6.0, "ge"),
    # fastinit.jax against jax.nn.initializers, both returning a jax.Array (issue 9)
    "xavier_uniform, fastinit.jax: times faster than jax.nn.initializers": (
        ("xavier_uniform", "jax"), ("xavier_uniform", "fastinit.jax"), 5.0, "ge"),
    "he_normal, fastinit.jax: times faster than jax.nn.initializers": (
        ("he_normal", "jax"), ("he_normal", "fastinit.jax"), 5.0, "ge"),
    "he_normal truncated, fastinit.jax: times faster than jax.nn.initializers": (
        ("he_normal_truncated", "jax"), ("he_normal_truncated", "fastinit.jax"), 5.0, "ge"),
    "he_normal((4, 4)) / numpy standard_normal": (
        ("calls", (4, 4), "fastinit he_normal"), ("calls", (4, 4), "numpy standard_normal"),
        3.0, "le"),
    "xavier_uniform((64, 64)) / numpy random": (
        ("calls", (64, 64), "fastinit xavier_uniform"), ("calls", (64, 64), "numpy random"),
        1.0, "le"),
    # the same draws as float32, rounded into half the bytes (docs/stream.md)
    "xavier_uniform new array: bfloat16 / float32": (
        ("xavier_uniform", "fastinit bfloat16"), ("xavier_uniform", "fastinit all cores"),
        1.1, "le"),
    "he_normal new array: bfloat16 / float32": (
        ("he_normal", "fastinit bfloat16"), ("he_normal", "fastinit all cores"), 1.1, "le"),
}


def evaluate_goals(rows, call_rows):
    """evaluate_goals(rows, call_rows) -> [{name, value, goal, how, met}] for the GOALS whose
    rows were measured."""
    medians = {(r["scheme"], r["contender"]): r["median_ms"] / 1e3 for r in rows}
    medians.update({("calls", tuple(r["shape"]), r["contender"]): r["median_us"] / 1e6
                    for r in call_rows})
    goals = []
    for name, (num, den, goal, how) in GOALS.items():
        if num in medians and den in medians:
            value = medians[num] / medians[den]
            goals.append({"name": name, "value": value, "goal": goal, "how": how,
                          "met": value <= goal if how == "le" else value >= goal})
    return goals


# ---------------------------------------------------------------- timing

def time_call(run):
    """time_call(run) -> seconds of one call; the result is freed after the clock stops."""
    start = time.perf_counter()
    result = run()
    seconds = time.perf_counter() - start
    del result
    return seconds


def time_interleaved(contenders, repeat, progress=None, budget_seconds=None):
    """time_interleaved(contenders, repeat, budget_seconds=None) -> [[seconds, ...] per
    contender].

    One warm-up call each, then up to `repeat` rounds calling every contender once,
    round-robin from a start that moves by one each round, so that drifts of a shared
    machine fall on all of them alike.  A contender slower than SLOW_CALL_SECONDS keeps its
    warm-up call as a sample and stops after SLOW_BUDGET_SECONDS' worth of calls (at least
    one).  No round after the first starts if it would end past budget_seconds from the
    start."""
    start = time.perf_counter()
    n = len(contenders)
    samples = [[] for _ in range(n)]
    wanted, last = [], []
    for i, run in enumerate(contenders):
        seconds = time_call(run)
        last.append(seconds)
        if seconds > SLOW_CALL_SECONDS:
            samples[i].append(seconds)      # first-call costs are noise at this length
            wanted.append(max(1, min(repeat, int(SLOW_BUDGET_SECONDS / seconds))))
        else:
            wanted.append(repeat)
    for r in range(repeat):
        pending = [i for i in range(n) if len(samples[i]) < wanted[i]]
        if not pending:
            break
        round_seconds = sum(samples[i][-1] if samples[i] else last[i] for i in pending)
        if (r > 0 and budget_seconds is not None
                and time.perf_counter() - start + round_seconds > budget_seconds):
            break
        if progress:
            progress(r + 1, repeat)
        for k in range(n):
            i = (r + k) % n
            if len(samples[i]) < wanted[i]:
                samples[i].append(time_call(contenders[i]))
    return samples


# ---------------------------------------------------------------- the machine

def cpu_model():
    """The CPU's model name from /proc/cpuinfo, else what platform knows."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() in ("model name", "Model", "Hardware") and value.strip():
                    return value.strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def _version(distribution):
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def machine_description():
    """machine_description() -> dict: CPU, cores, fastinit's instruction set and threads,
    and the versions of the libraries compared."""
    from . import __version__
    try:
        usable = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        usable = os.cpu_count()
    versions = {"fastinit": __version__, "numpy": np.__version__}
    for name in OPTIONAL_LIBRARIES:
        versions[name] = _version(name.replace("_", "-")) or _version(name)
    return {
        "cpu": cpu_model(),
        "machine": platform.machine(),
        "system": platform.system(),
        "cores": os.cpu_count(),
        "usable_cores": usable,
        "fastinit_isa": _core.get_isa(),
        "fastinit_isas_available": list(_core.available_isas()),
        "fastinit_threads": _arrays.default_threads(),
        # run_bench sets torch to os.cpu_count() threads (torch_threads); None without torch
        "torch_threads": os.cpu_count() if versions["torch"] else None,
        # other work on a shared machine is the first suspect for odd numbers
        "load_average_1min": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
        "python": platform.python_version(),
        "versions": versions,
    }


# ---------------------------------------------------------------- the `bench` command

# the main table's last column: fastinit all cores against the row, per scheme
RATIO_COLUMN = "fastinit all cores vs this"

def run_bench(shape, dtype, repeat, progress=None):
    """run_bench(shape, dtype, repeat) -> dict: every new-array contender timed interleaved,
    with medians, GB/s (output bytes / median), ratios to the floor and fastinit's speedups."""
    shape = tuple(shape)
    dtype = np.dtype(dtype)
    nbytes = math.prod(shape) * dtype.itemsize
    machine = machine_description()
    with torch_threads(os.cpu_count()):
        pairs = new_array_contenders(shape, dtype)
        samples = time_interleaved([c.run for _, c in pairs], repeat, progress,
                                   budget_seconds=BENCH_BUDGET_SECONDS)
    call_rows = run_calls(repeat)
    medians = [statistics.median(s) for s in samples]
    floor = medians[0]
    fastinit_all = {scheme: m for (scheme, c), m in zip(pairs, medians)
                    if c.library == "fastinit" and c.name == "fastinit all cores"}
    rows = []
    half_to_float32 = {}
    for (scheme, contender), median, seconds in zip(pairs, medians, samples):
        reference = fastinit_all.get(scheme)
        is_reference = contender.name == "fastinit all cores"
        row_bytes = nbytes
        if contender.dtype is not None:
            row_bytes = math.prod(shape) * _arrays.resolve_dtype(contender.dtype, None).itemsize
            # the same scheme's new float32 array, all cores, timed in the same rounds
            half_to_float32.setdefault(scheme, {})[contender.dtype] = median / reference
        rows.append({
            "scheme": scheme,
            "contender": contender.name,
            "library": contender.library,
            "code": contender.code,
            "runs": len(seconds),
            "dtype": contender.dtype or dtype.name,
            "times_ms": [s * 1e3 for s in seconds],
            "median_ms": median * 1e3,
            "gb_per_s": row_bytes / median / 1e9,
            "ratio_to_floor": median / floor,
            # how many times faster fastinit (all cores) is than this row
            "fastinit_speedup": (None if reference is None or is_reference or contender.dtype
                                 else median / reference),
        })
    speedups = {}
    for scheme in SCHEMES:
        speedups[scheme] = {row["library"] if row["contender"] == row["library"] else
                            row["contender"]:
                            row["fastinit_speedup"]
                            for row in rows
                            if row["scheme"] == scheme and row["fastinit_speedup"] is not None}
    return {"shape": list(shape), "dtype": dtype.name, "bytes_per_array": nbytes,
            "repeat": repeat, "machine": machine, "results": rows,
            "fastinit_all_cores_speedup": speedups, "calls": call_rows,
            "goals": evaluate_goals(rows, call_rows),
            # median of a new half array / median of the new float32 one (all cores)
            "half_to_float32": half_to_float32}


def describe_machine(machine):
    """The lines `bench` prints above its table."""
    v = machine["versions"]
    libs = ", ".join(f"{name} {version}" for name, version in v.items() if version)
    torch = ("" if machine.get("torch_threads") is None
             else f"; torch threads = {machine['torch_threads']}")
    return [
        f"cpu: {machine['cpu']} ({machine['machine']}, {machine['cores']} cores, "
        f"{machine['usable_cores']} usable), load average {machine['load_average_1min']} "
        f"before the run",
        f"fastinit: instruction set {machine['fastinit_isa']} (available: "
        f"{', '.join(machine['fastinit_isas_available'])}), all cores = "
        f"{machine['fastinit_threads']} threads{torch}",
        f"versions: python {machine['python']}, {libs}",
    ]


def format_table(report):
    """format_table(report) -> the text `bench` prints for run_bench's report."""
    shape = "x".join(str(d) for d in report["shape"])
    lines = describe_machine(report["machine"])
    rounds = max(row["runs"] for row in report["results"])
    cut = (f" (--repeat {report['repeat']} cut short by the {BENCH_BUDGET_SECONDS:.0f} s budget)"
           if rounds < report["repeat"] else "")
    lines.append(f"case: {shape} {report['dtype']}, {report['bytes_per_array'] / 2**20:.1f} MiB "
                 f"per new array; median of up to {rounds} interleaved runs{cut}")
    lines.append("")
    header = (f"{'scheme':<20} {'contender':<24} {'runs':>4} {'median ms':>10} {'GB/s':>7} "
              f"{'x floor':>8}  {RATIO_COLUMN}")
    lines += [header, "-" * len(header)]
    machine = report["machine"]
    defined = set()
    previous = None
    for row in report["results"]:
        if previous is not None and row["scheme"] != previous:
            lines.append("")
        previous = row["scheme"]
        ratio = row["fastinit_speedup"]
        lines.append(f"{row['scheme']:<20} {row['contender']:<24} {row['runs']:>4} "
                     f"{row['median_ms']:>10.1f} {row['gb_per_s']:>7.2f} "
                     f"{row['ratio_to_floor']:>8.2f}  "
                     f"{'' if ratio is None else faster_or_slower(ratio)}".rstrip())
        if row["contender"] not in defined:
            defined.add(row["contender"])
            definition = CONTENDER_DEFINITIONS.get(row["contender"], row["code"]).format(
                threads=machine["fastinit_threads"], torch_threads=machine.get("torch_threads"))
            lines += textwrap.wrap(f"^ {row['contender']}: {definition}", width=100,
                                   initial_indent=" " * 21, subsequent_indent=" " * 23,
                                   break_long_words=False, break_on_hyphens=False)
    lines.append("")
    lines.append("GB/s: output bytes / median.  x floor: median / the np.ones median.")
    lines.append(f"{RATIO_COLUMN}: this row's median / the fastinit all cores median of the same "
                 f"scheme, said as how many times faster (or slower) fastinit on all cores is.")
    for scheme, speedups in report["fastinit_all_cores_speedup"].items():
        others = [f"{faster_or_slower(speedups[lib])} than {lib}"
                  for lib in ("numpy", "torch", "mkl_random") if lib in speedups]
        if others:
            lines.append(f"{scheme}: fastinit all cores is " + ", ".join(others))
    for scheme, ratios in report.get("half_to_float32", {}).items():
        lines.append(f"{scheme}: new half array / new float32 array (all cores, same draws): "
                     + ", ".join(f"{name} {ratio:.2f}x" for name, ratio in ratios.items()))
    for scheme, ratio in jax_speedups(report).items():
        lines.append(f"{scheme}: fastinit.jax is {faster_or_slower(ratio)} than "
                     f"jax.nn.initializers (both returning a jax.Array)")
    if report.get("calls"):
        lines += ["", "The cost of a call (float32, fastinit's module functions; medians of "
                  f"{report['repeat']} rounds of looped calls):", ""]
        header = f"{'shape':<10} {'contender':<24} {'median us':>10} {'min us':>8}  code"
        lines += [header, "-" * len(header)]
        for row in report["calls"]:
            shape = "x".join(map(str, row["shape"]))
            lines.append(f"{shape:<10} {row['contender']:<24} {row['median_us']:>10.2f} "
                         f"{row['min_us']:>8.2f}  {row['code']}")
    if report.get("goals"):
        lines += ["", "Goals set for AVX2-only machines (ratios of medians):"]
        for goal in report["goals"]:
            sign = "<=" if goal["how"] == "le" else ">="
            lines.append(f"  {'met ' if goal['met'] else 'MISS'} {goal['name']}: "
                         f"{goal['value']:.2f} (goal {sign} {goal['goal']:g})")
    return "\n".join(lines)


def jax_speedups(report):
    """jax_speedups(report) -> {scheme: jax.nn.initializers median / fastinit.jax median}."""
    medians = {(row["scheme"], row["library"]): row["median_ms"] for row in report["results"]}
    return {scheme: medians[(scheme, "jax")] / medians[(scheme, "fastinit.jax")]
            for scheme in SCHEMES
            if (scheme, "jax") in medians and (scheme, "fastinit.jax") in medians}


def plot(report, path):
    """plot(report, path): a horizontal bar chart of the medians, one block per scheme, on a
    log scale (the slowest contenders take 100 times the fastest), saved to path."""
    from matplotlib.figure import Figure

    rows = report["results"]
    colors = {"fastinit": "tab:blue", "floor": "tab:gray", "numpy": "tab:orange",
              "torch": "tab:red", "mkl_random": "tab:green", "jax": "tab:brown",
              "fastinit.jax": "tab:cyan"}
    labels, values, bar_colors, positions = [], [], [], []
    y, previous = 0.0, None
    for row in rows:
        if previous is not None and row["scheme"] != previous:
            y += 0.6                                   # a gap between schemes
        previous = row["scheme"]
        labels.append(row["contender"] if row["library"] == "floor"
                      else f"{row['scheme']}: {row['contender']}")
        values.append(row["median_ms"])
        bar_colors.append(colors.get(row["library"], "tab:purple"))
        positions.append(y)
        y += 1.0
    fig = Figure(figsize=(10, 0.32 * len(rows) + 1.6), layout="constrained")
    ax = fig.add_subplot()
    ax.barh(positions, values, color=bar_colors)
    ax.set_yticks(positions, labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.axvline(rows[0]["median_ms"], color="tab:gray", linestyle="--", linewidth=1)
    for p, v in zip(positions, values):
        ax.text(v, p, f" {v:.1f}", va="center", fontsize=7)
    ax.set_xlim(min(values) / 3, max(values) * 3)
    ax.set_xlabel("median ms per array (log scale; dashed: the np.ones floor)")
    machine = report["machine"]
    shape = "x".join(str(d) for d in report["shape"])
    ax.set_title(f"{shape} {report['dtype']}, new arrays: {machine['cpu']}, "
                 f"{machine['usable_cores']} cores, fastinit {machine['fastinit_isa']}",
                 fontsize=9)
    fig.savefig(path, dpi=120)
