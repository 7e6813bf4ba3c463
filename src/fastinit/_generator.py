"""fastinit.Generator: a Philox4x32-10 stream and the initialization schemes drawn from it.

Seeding: the key (k0, k1) is numpy.random.SeedSequence(seed).generate_state(2, uint32).
A draw of N elements starts at the generator's next block s and takes ceil(N / 4) blocks
for float32 and ceil(N / 2) for float64, whatever the distribution; element i (flat C
order) is a pure function of (key, s, i, distribution parameters).  docs/stream.md gives
the exact mapping."""
import functools
import math
import operator
import threading
from typing import NamedTuple

import numpy as np

from . import _arrays, _core, _lapack, _schemes
from . import _fans
from ._fans import compute_fans

STREAM_BLOCKS = 2 ** 128
_COMMON_DOC = """
    Common keywords: dtype (float32 default, float64, float16, or bfloat16 as "bfloat16" or
    ml_dtypes.bfloat16: the float32 values rounded to nearest even), out (an array to fill
    in place and return), threads (default: the CPUs this process may use; more are clamped
    to that), region (a tuple of step-1 slices: returns exactly full[region] of the same call
    without it, generating only that part)."""
_FANS_DOC = """
    Fans: layout="in_out" reads shape as (*kernel, fan_in, fan_out) (NumPy/Keras/JAX);
    layout="torch" as (fan_out, fan_in, *kernel); in_axis / out_axis for any other layout;
    fan_in= / fan_out= override them all."""


def seed_sequence(seed):
    """A numpy SeedSequence from None (OS entropy), a non-negative int or a SeedSequence."""
    if seed is None or isinstance(seed, np.random.SeedSequence):
        return np.random.SeedSequence(seed) if seed is None else seed
    return np.random.SeedSequence(seed_int(seed))


def seed_int(seed, accepted="None, a non-negative int or a SeedSequence"):
    """seed as a plain non-negative int: TypeError for a bool or a non-integer (saying the
    caller takes `accepted`), ValueError for a negative one."""
    if isinstance(seed, bool):
        raise TypeError(f"seed must be {accepted}, got {seed!r}")
    try:
        value = operator.index(seed)
    except TypeError:
        raise TypeError(f"seed must be {accepted}, got {type(seed).__name__}") from None
    if value < 0:
        raise ValueError(f"seed must be non-negative, got {value}")
    return value


@functools.lru_cache(maxsize=256)
def _key_of_int_seed(seed):
    return _key_of(np.random.SeedSequence(seed))


def _key_of(seed_seq):
    k = seed_seq.generate_state(2, dtype=np.uint32)
    return int(k[0]), int(k[1])


def _variance_scaling_rule(scale, mode, distribution):
    s = _schemes.check_real("scale", scale, positive=True)
    _schemes.check_choice("mode", mode, _schemes.MODES)
    _schemes.check_choice("distribution", distribution, _schemes.DISTRIBUTIONS)
    return s, mode, "normal" if distribution == "untruncated_normal" else distribution


# scheme -> its own arguments -> (scale, mode, distribution) of variance scaling
_RULES = {
    "variance_scaling": _variance_scaling_rule,
    "lecun_uniform": lambda gain: _schemes.lecun(gain, "uniform"),
    "lecun_normal": lambda gain, truncated: _schemes.lecun(gain, _schemes.normal_kind(truncated)),
    "xavier_uniform": lambda gain: _schemes.xavier(gain, "uniform"),
    "xavier_normal": lambda gain, truncated: _schemes.xavier(gain,
                                                            _schemes.normal_kind(truncated)),
    "he_uniform": lambda a, mode, nonlinearity: _schemes.he(a, mode, nonlinearity, "uniform"),
    "he_normal": lambda a, mode, nonlinearity, truncated: _schemes.he(
        a, mode, nonlinearity, _schemes.normal_kind(truncated)),
}


class _Plan(NamedTuple):
    """A scheme's call reduced to what the C core needs, every argument validated."""
    distribution: str
    params: tuple
    shape: tuple
    dtype: np.dtype
    origin: tuple       # (0,) * ndim: the region start of a whole array
    nblocks: int        # stream blocks the draw takes


def _plan(scheme, args, shape, dtype, out, layout, in_axis, out_axis, fan_in, fan_out):
    """The validation and scheme math of a call, in the order its errors are reported."""
    rule = _RULES[scheme](*args)
    shape = _arrays.normalize_shape(shape)
    dtype = _arrays.resolve_dtype(dtype, out)
    fi, fo = Generator._fans(shape, layout, in_axis, out_axis, fan_in, fan_out)
    dist, params = _schemes.variance_scaling(*rule, fi, fo)
    dist, params = _schemes.fit_to_dtype(dist, params, dtype)
    n = math.prod(shape)
    return _Plan(dist, params, shape, dtype, (0,) * len(shape),
                 -(-n * _arrays.words_per_element(dtype) // 4))


_RULE_ARITY = {scheme: rule.__code__.co_argcount for scheme, rule in _RULES.items()}


# typed: True == 1 and (4.0, 4) == (4, 4), but only one of each pair is valid; shape comes
# as separate dims, so that their types count too
@functools.lru_cache(maxsize=1024, typed=True)
def _cached_plan(scheme, dtype, layout, in_axis, out_axis, fan_in, fan_out, *args_and_dims):
    """_plan of a new whole array (out=None, region=None), checked as _draw checks it:
    the scheme's own arguments, then the dims of the shape."""
    args, shape = args_and_dims[:_RULE_ARITY[scheme]], args_and_dims[_RULE_ARITY[scheme]:]
    plan = _plan(scheme, args, shape, dtype, None, layout, in_axis, out_axis, fan_in, fan_out)
    _core.check_params(plan.distribution, plan.dtype, plan.params)
    _arrays.check_allocation(plan.shape, plan.dtype)
    return plan


class Generator:
    """Generator(seed=None): the initialization schemes over one Philox4x32-10 stream.

    seed: None (fresh OS entropy), a non-negative int, or a numpy.random.SeedSequence.
    Successive calls draw successive, non-overlapping parts of the stream, like
    numpy.random.Generator; Generator(seed) and the module functions called with the same
    int seed give the same first array.  Safe to share between threads: each call
    reserves its own part of the stream.
    """

    _outs_are_new = False          # out= is memory in use (see NewOutGenerator)

    def __init__(self, seed=None):
        if type(seed) is int and seed >= 0:
            # the common case: the key is cached, the SeedSequence made only if spawn needs it
            self._seed_seq = None
            self._key = _key_of_int_seed(seed)
        else:
            self._seed_seq = seed_sequence(seed)
            self._key = _key_of(self._seed_seq)
        self._seed = seed
        self._counter = 0
        self._lock = threading.Lock()

    def __getstate__(self):
        # everything but the lock: a pickled or copied Generator continues the same stream
        with self._lock:
            state = dict(self.__dict__)
        del state["_lock"]
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def __repr__(self):
        return f"fastinit.Generator(key=({self._key[0]:#010x}, {self._key[1]:#010x}), counter={self._counter})"

    # ---------------------------------------------------------------- state

    @property
    def state(self):
        """{"bit_generator": "Philox4x32-10", "key": (k0, k1), "counter": next block}.
        Assign a dict of that form to restore it."""
        with self._lock:
            return {"bit_generator": "Philox4x32-10", "key": self._key, "counter": self._counter}

    @state.setter
    def state(self, value):
        if not isinstance(value, dict):
            raise TypeError(f"state must be a dict, got {type(value).__name__}")
        if value.get("bit_generator", "Philox4x32-10") != "Philox4x32-10":
            raise ValueError(f"state is for {value['bit_generator']!r}, not Philox4x32-10")
        try:
            key = tuple(operator.index(k) for k in value["key"])
            counter = operator.index(value["counter"])
        except KeyError as e:
            raise ValueError(f"state lacks {e.args[0]!r}") from None
        except TypeError:
            raise TypeError("state['key'] must be two ints and state['counter'] an int") from None
        if len(key) != 2 or not all(0 <= k < 2 ** 32 for k in key):
            raise ValueError(f"state['key'] must be two ints in [0, 2**32), got {value['key']!r}")
        if not 0 <= counter <= STREAM_BLOCKS:
            raise ValueError(f"state['counter'] must be in [0, 2**128], got {counter}")
        with self._lock:
            self._key, self._counter = key, counter

    def spawn(self, n):
        """spawn(n) -> list of n independent Generators (numpy.random.SeedSequence.spawn)."""
        n = operator.index(n)
        if n < 0:
            raise ValueError(f"n must be non-negative, got {n}")
        with self._lock:
            if self._seed_seq is None:
                self._seed_seq = np.random.SeedSequence(self._seed)
            children = self._seed_seq.spawn(n)
        return [Generator(s) for s in children]

    def _reserve(self, nblocks):
        """(key, first block) of the next nblocks of the stream, now taken by the caller."""
        with self._lock:
            start = self._counter
            if start + nblocks > STREAM_BLOCKS:
                raise OverflowError("this generator's stream (2**128 blocks) is exhausted")
            self._counter = start + nblocks
            return self._key, start

    # ---------------------------------------------------------------- drawing

    def random_raw(self, size=None, *, threads=None):
        """random_raw(size=None) -> the next raw 32-bit words of the stream, in stream order
        (4 words per block, a draw always takes whole blocks).  size None gives one int."""
        n_shape = (1,) if size is None else _arrays.normalize_shape(size)
        threads = _arrays.resolve_threads(threads)
        out = _arrays.allocate(n_shape, np.dtype(np.uint32))
        key, start = self._reserve(-(-out.size // 4))
        _core.random_raw(key, start, out.reshape(-1), threads)
        return int(out[0]) if size is None else out

    def _draw(self, distribution, params, shape, dtype, out, threads, region):
        dtype = _arrays.resolve_dtype(dtype, out)
        start, extent = _arrays.normalize_region(region, shape)
        threads = _arrays.resolve_threads(threads)
        _core.check_params(distribution, dtype, params)
        out_is_new = out is None or self._outs_are_new
        if out is None:
            out = _arrays.allocate(extent, dtype)
        else:
            _arrays.check_out(out, extent, dtype)
        n = math.prod(shape)
        key, counter = self._reserve(-(-n * _arrays.words_per_element(dtype) // 4))
        if not shape:                      # 0-d: one element, through a 1-d view of out
            _core.fill(key, counter, distribution, params, (1,), (0,), (1,), out.reshape(1),
                       threads, out_is_new)
        else:
            _core.fill(key, counter, distribution, params, shape, start, extent, out, threads,
                       out_is_new)
        return out

    @staticmethod
    def _fans(shape, layout, in_axis, out_axis, fan_in, fan_out):
        """(fan_in, fan_out): given ones as they are, the others from the shape; (None, None)
        for an empty array, which has nothing to scale."""
        _schemes.check_choice("layout", layout, _fans.LAYOUTS)
        if fan_in is not None:
            fan_in = _schemes.check_fan("fan_in", fan_in)
        if fan_out is not None:
            fan_out = _schemes.check_fan("fan_out", fan_out)
        if fan_in is None or fan_out is None:
            fi, fo = compute_fans(shape, layout, in_axis=in_axis, out_axis=out_axis)
            if math.prod(shape) == 0:
                return None, None
            fan_in = fi if fan_in is None else fan_in
            fan_out = fo if fan_out is None else fan_out
        return fan_in, fan_out

    def _scaled(self, scheme, args, shape, layout, in_axis, out_axis, fan_in, fan_out, dtype,
                out, threads, region):
        """The draw of `scheme` (a name in _RULES) with its own arguments `args`."""
        if out is None and region is None and type(shape) is tuple:
            # a new whole array: its plan depends on these values alone, so it is kept
            try:
                plan = _cached_plan(scheme, dtype, layout, in_axis, out_axis, fan_in, fan_out,
                                    *args, *shape)
            except TypeError as e:
                if not str(e).startswith("unhashable type"):
                    raise
            else:
                return self._draw_planned(plan, threads)
        plan = _plan(scheme, args, shape, dtype, out, layout, in_axis, out_axis, fan_in, fan_out)
        return self._draw(plan.distribution, plan.params, plan.shape, plan.dtype, out, threads,
                          region)

    def _draw_planned(self, plan, threads):
        """A new array of a validated plan: the fast path of the common call."""
        threads = _arrays.resolve_threads(threads)
        key, counter = self._reserve(plan.nblocks)
        out = np.empty(plan.shape, plan.dtype)
        if not plan.shape:                 # 0-d: one element, through a 1-d view of out
            _core.fill(key, counter, plan.distribution, plan.params, (1,), (0,), (1,),
                       out.reshape(1), threads, True)
        else:
            _core.fill(key, counter, plan.distribution, plan.params, plan.shape, plan.origin,
                       plan.shape, out, threads, True)
        return out

    # ---------------------------------------------------------------- plain distributions

    def uniform(self, shape, low=0.0, high=1.0, *, dtype=None, out=None, threads=None, region=None):
        """uniform(shape, low=0.0, high=1.0) -> values on [low, high).

        Element i is low + (high - low) * u_i in the output precision, u_i the i-th
        24-bit (float32) or 53-bit (float64) uniform of the stream; a value that rounds
        up to high is replaced by the largest float below high."""
        low = _schemes.check_real("low", low)
        high = _schemes.check_real("high", high)
        if not low < high:
            raise ValueError(f"low must be less than high, got low={low!r}, high={high!r}")
        return self._draw("uniform", (low, high), _arrays.normalize_shape(shape), dtype, out,
                          threads, region)

    def normal(self, shape, mean=0.0, std=1.0, *, dtype=None, out=None, threads=None, region=None):
        """normal(shape, mean=0.0, std=1.0) -> mean + std * Phi^-1(u_i), by inverse CDF
        (Wichura's AS241) of the i-th uniform of the stream."""
        mean = _schemes.check_real("mean", mean)
        std = _schemes.check_real("std", std, minimum=0)
        return self._draw("normal", (mean, std), _arrays.normalize_shape(shape), dtype, out,
                          threads, region)

    def truncated_normal(self, shape, mean=0.0, std=1.0, a=-2.0, b=2.0, *, dtype=None, out=None,
                         threads=None, region=None):
        """truncated_normal(shape, mean=0.0, std=1.0, a=-2.0, b=2.0) -> the normal(mean, std)
        restricted to [mean + a std, mean + b std]; a and b in units of std (the scipy,
        Keras and JAX convention; infinite bounds allowed).  By inverse CDF per element,
        never by rejection, so each value still depends on its position alone."""
        mean = _schemes.check_real("mean", mean)
        std = _schemes.check_real("std", std, minimum=0)
        for name, v in (("a", a), ("b", b)):
            if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
                raise TypeError(f"{name} must be a real number, got {v!r}")
            if math.isnan(v):
                raise ValueError(f"{name} must not be NaN")
        if not a < b:
            raise ValueError(f"a must be less than b, got a={a!r}, b={b!r}")
        return self._draw("truncated_normal", (mean, std, float(a), float(b)),
                          _arrays.normalize_shape(shape), dtype, out, threads, region)

    # ---------------------------------------------------------------- schemes

    def variance_scaling(self, shape, scale=1.0, mode="fan_in", distribution="truncated_normal", *,
                         layout="in_out", in_axis=None, out_axis=None, fan_in=None, fan_out=None,
                         dtype=None, out=None, threads=None, region=None):
        """variance_scaling(shape, scale=1.0, mode="fan_in", distribution="truncated_normal")

        As jax.nn.initializers.variance_scaling: variance = scale / n with n = fan_in,
        fan_out, fan_avg = (fan_in + fan_out) / 2 or fan_geo_avg = sqrt(fan_in fan_out).
        distribution "truncated_normal": normal with std sqrt(variance) / 0.87962566103423978
        truncated at 2 of its std (so the variance is `variance`); "normal" (or Keras's
        name "untruncated_normal"): std sqrt(variance); "uniform": [-sqrt(3 variance),
        sqrt(3 variance)).  Note: Keras's own distribution="normal" means the truncated one.
        """
        return self._scaled("variance_scaling", (scale, mode, distribution), shape, layout,
                            in_axis, out_axis, fan_in, fan_out, dtype, out, threads, region)

    def lecun_uniform(self, shape, gain=1.0, *, layout="in_out", in_axis=None, out_axis=None,
                      fan_in=None, fan_out=None, dtype=None, out=None, threads=None, region=None):
        """lecun_uniform(shape, gain=1.0) -> U[-b, b), b = gain * sqrt(3 / fan_in)."""
        return self._scaled("lecun_uniform", (gain,), shape, layout, in_axis, out_axis, fan_in,
                            fan_out, dtype, out, threads, region)

    def lecun_normal(self, shape, gain=1.0, *, truncated=False, layout="in_out", in_axis=None,
                     out_axis=None, fan_in=None, fan_out=None, dtype=None, out=None, threads=None,
                     region=None):
        """lecun_normal(shape, gain=1.0, *, truncated=False) -> N(0, gain^2 / fan_in);
        truncated=True: the variance_scaling truncated form with the same variance."""
        return self._scaled("lecun_normal", (gain, truncated), shape, layout, in_axis, out_axis,
                            fan_in, fan_out, dtype, out, threads, region)

    def xavier_uniform(self, shape, gain=1.0, *, layout="in_out", in_axis=None, out_axis=None,
                       fan_in=None, fan_out=None, dtype=None, out=None, threads=None, region=None):
        """xavier_uniform(shape, gain=1.0) -> U[-b, b), b = gain * sqrt(6 / (fan_in + fan_out))
        (Glorot & Bengio 2010; for sigmoid and tanh)."""
        return self._scaled("xavier_uniform", (gain,), shape, layout, in_axis, out_axis, fan_in,
                            fan_out, dtype, out, threads, region)

    def xavier_normal(self, shape, gain=1.0, *, truncated=False, layout="in_out", in_axis=None,
                      out_axis=None, fan_in=None, fan_out=None, dtype=None, out=None, threads=None,
                      region=None):
        """xavier_normal(shape, gain=1.0, *, truncated=False) -> N(0, gain^2 2 / (fan_in + fan_out));
        truncated=True: the variance_scaling truncated form with the same variance."""
        return self._scaled("xavier_normal", (gain, truncated), shape, layout, in_axis, out_axis,
                            fan_in, fan_out, dtype, out, threads, region)

    def he_uniform(self, shape, a=0.0, mode="fan_in", nonlinearity="relu", *, layout="in_out",
                   in_axis=None, out_axis=None, fan_in=None, fan_out=None, dtype=None, out=None,
                   threads=None, region=None):
        """he_uniform(shape, a=0.0, mode="fan_in", nonlinearity="relu") -> U[-b, b),
        b = gain * sqrt(3 / fan), gain = calculate_gain(nonlinearity, a), fan = fan_in or
        fan_out by mode (He et al. 2015; torch's kaiming_uniform_; for ReLU-like units)."""
        return self._scaled("he_uniform", (a, mode, nonlinearity), shape, layout, in_axis,
                            out_axis, fan_in, fan_out, dtype, out, threads, region)

    def he_normal(self, shape, a=0.0, mode="fan_in", nonlinearity="relu", *, truncated=False,
                  layout="in_out", in_axis=None, out_axis=None, fan_in=None, fan_out=None,
                  dtype=None, out=None, threads=None, region=None):
        """he_normal(shape, a=0.0, mode="fan_in", nonlinearity="relu", *, truncated=False) ->
        N(0, gain^2 / fan), gain = calculate_gain(nonlinearity, a) (torch's kaiming_normal_);
        truncated=True: the variance_scaling truncated form with the same variance."""
        return self._scaled("he_normal", (a, mode, nonlinearity, truncated), shape, layout,
                            in_axis, out_axis, fan_in, fan_out, dtype, out, threads, region)

    def orthogonal(self, shape, gain=1.0, *, layout="in_out", dtype=None, out=None, threads=None,
                   region=None):
        """orthogonal(shape, gain=1.0, *, layout="in_out") -> gain * Q, Q with orthonormal
        rows or columns (Saxe et al. 2014).

        The shape is flattened to a matrix (rows, cols): layout="in_out" -> (prod(shape[:-1]),
        shape[-1]) as Keras; layout="torch" -> (shape[0], prod(shape[1:])) as torch.  A float64
        normal matrix of (max, min) of those is drawn from the stream (ceil(rows cols / 2)
        blocks), factored by QR, its columns' signs fixed by sign(diag(R)) (0 counts as +),
        and transposed when rows < cols.  region= slices the finished matrix, which is
        always computed whole.

        Memory: where numpy's bundled LAPACK is reachable (its Linux wheels), the QR runs
        in place on one float64 matrix, with numpy.linalg.qr's routines and values
        (src/fastinit/_lapack.py); elsewhere through numpy.linalg.qr and its copies.

        Reproducibility: the normal matrix is the same bits everywhere, but the QR is
        numpy's LAPACK, whose rounding depends on the BLAS build and CPU.  The result is
        bit-identical on one machine with one numpy build (whatever the ISA, threads or
        region); elsewhere it agrees to rounding error (docs/stream.md)."""
        g = _schemes.check_real("gain", gain, minimum=0)
        _schemes.check_choice("layout", layout, ("in_out", "torch"))
        shape = _arrays.normalize_shape(shape)
        if len(shape) < 2:
            raise ValueError(f"orthogonal needs a shape with at least 2 dimensions, got {shape}")
        dtype = _arrays.resolve_dtype(dtype, out)
        if g > _arrays.largest_finite(dtype):
            raise ValueError(f"gain {gain!r} overflows {dtype}")
        start, extent = _arrays.normalize_region(region, shape)
        threads = _arrays.resolve_threads(threads)
        if out is not None:
            _arrays.check_out(out, extent, dtype)
        if layout == "in_out":
            rows, cols = math.prod(shape[:-1]), shape[-1]
        else:
            rows, cols = shape[0], math.prod(shape[1:])
        tall = (max(rows, cols), min(rows, cols))
        qr_in_place = _lapack.qr_in_place() if 0 not in tall else None
        if qr_in_place is None:
            a = self._draw("normal", (0.0, 1.0), tall, np.float64, None, threads, None)
            if a.size:
                q, r = np.linalg.qr(a)
                q *= np.where(np.diagonal(r) < 0, -1.0, 1.0)
            else:
                q = a
        else:
            # numpy's QR without numpy's copies: one Fortran-ordered matrix, filled row
            # block by row block as regions of the same draw, factored in place
            _arrays.check_allocation(tall, np.dtype(np.float64))
            q = np.empty(tall, dtype=np.float64, order="F")
            self._draw_rows_into(q, threads)
            q *= np.where(qr_in_place(q) < 0, -1.0, 1.0)
        # views, never copies: a Fortran-ordered q reshapes by splitting its dimensions
        q = (q.T if rows < cols else q).reshape(shape)
        part = q[tuple(slice(s, s + e) for s, e in zip(start, extent))]
        if out is None:
            out = _arrays.allocate(extent, dtype)
        # gain in float64, rounded once to the output (a half value: the float32 value,
        # rounded), as (q * gain).astype(dtype) would, without its float64 copy
        if _arrays.is_half(dtype):
            out[...] = np.multiply(part, g, dtype=np.float64).astype(np.float32)
        else:
            np.multiply(part, g, out=out, casting="same_kind")
        return out

    def _draw_rows_into(self, matrix, threads):
        """matrix (any order) <- the float64 standard normal draw of its shape, through a
        C-ordered buffer of about 4 MiB, block of rows by block of rows (each a region of
        the one draw, so the values are the whole draw's)."""
        rows, cols = matrix.shape
        key, counter = self._reserve(-(-rows * cols * 2 // 4))
        per_block = max(1, (1 << 19) // max(cols, 1))
        buffer = np.empty((min(per_block, rows), cols), dtype=np.float64)
        for r in range(0, rows, per_block):
            block = buffer[:min(per_block, rows - r)]
            _core.fill(key, counter, "normal", (0.0, 1.0), (rows, cols), (r, 0), block.shape,
                       block, threads, False)
            matrix[r:r + block.shape[0]] = block


class NewOutGenerator(Generator):
    """A Generator for a caller whose every out= is an array it has just allocated itself
    (fastinit.jax's aligned host buffers).  Such an out is filled as a new array is: its
    pages first touched by the threads that fill them, with plain stores; an out= of a
    Generator is taken for memory in use, which gets non-temporal stores from 8 MiB on
    where the CPU gains from them.  The store kind never changes the values."""
    _outs_are_new = True


# the schemes' own text, before the keywords that only new arrays take (the in-place
# forms reuse it), and the fans' text that follows it for the variance-scaling schemes
SCHEME_DOCS = {name: getattr(Generator, name).__doc__ for name in (
    "uniform", "normal", "truncated_normal", "variance_scaling", "lecun_uniform", "lecun_normal",
    "xavier_uniform", "xavier_normal", "he_uniform", "he_normal", "orthogonal")}
SCHEME_EXTRA_DOCS = {name: _FANS_DOC for name in (
    "variance_scaling", "lecun_uniform", "lecun_normal", "xavier_uniform", "xavier_normal",
    "he_uniform", "he_normal")}
for _name in ("uniform", "normal", "truncated_normal"):
    getattr(Generator, _name).__doc__ += _COMMON_DOC
for _name in ("variance_scaling", "lecun_uniform", "lecun_normal", "xavier_uniform",
              "xavier_normal", "he_uniform", "he_normal"):
    getattr(Generator, _name).__doc__ += _FANS_DOC + _COMMON_DOC
Generator.orthogonal.__doc__ += _COMMON_DOC

# torch and Keras names for the same schemes
Generator.glorot_uniform = Generator.xavier_uniform
Generator.glorot_normal = Generator.xavier_normal
Generator.kaiming_uniform = Generator.he_uniform
Generator.kaiming_normal = Generator.he_normal
