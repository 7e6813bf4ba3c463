"""Property-based fuzzing of the public API with hypothesis: random shapes, dtypes,
parameters, `out` arrays, regions and fan layouts, valid and invalid.  The invariants:

- the process survives (no crash is the first check of every example);
- a call either returns the right array (shape, dtype, and for a region exactly
  `full[region]` of the same call without it, bit for bit, and the same bytes with and
  without `out=`) or raises one of the documented exceptions: TypeError, ValueError,
  OverflowError, MemoryError;
- a call that raises leaves `out` (its whole buffer) byte for byte as it was, and the
  Generator (or the module generator) where it was.

The examples are derandomized (tests/conftest.py's "fastinit" profile) so a run is
reproducible; the whole file takes a few seconds."""
import copy
import math

import numpy as np
import pytest
from hypothesis import Phase, event, given, settings
from hypothesis import strategies as st

import fastinit

DOCUMENTED_ERRORS = (TypeError, ValueError, OverflowError, MemoryError)
# no explain phase: it is slow and writes patch files into the source tree
PHASES = (Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink)
FUZZ = settings(settings.get_profile("fastinit"), max_examples=300, phases=PHASES)
SENTINEL = -12345.5      # no draw below produces it
F32, F64 = np.dtype(np.float32), np.dtype(np.float64)
SWAPPED = ">" if np.little_endian else "<"
# a full array no bigger than this is drawn again whole as the reference of a region
MAX_REFERENCE_ELEMENTS = 1 << 16

PLAIN = ("uniform", "normal", "truncated_normal")
FANNED = ("variance_scaling", "lecun_uniform", "lecun_normal", "xavier_uniform",
          "xavier_normal", "he_uniform", "he_normal", "glorot_uniform", "glorot_normal",
          "kaiming_uniform", "kaiming_normal")
SCHEMES = PLAIN + FANNED + ("orthogonal",)
IN_PLACE = tuple(name + "_" for name in SCHEMES)

# ---------------------------------------------------------------- values

# Values no real-number parameter accepts, or that only some accept.
BAD_REALS = [float("nan"), float("inf"), float("-inf"), -1.0, -1e-300, 0.0, True, False,
             "1", b"1", None, [1.0], 1j, np.complex64(1), 10 ** 400, -10 ** 400, 1e308,
             -1e308, 1e39, 5e-324, np.float16("nan"), np.float32("inf"), object()]
BAD_CHOICES = ["", "fan_x", None, 3, 2.5, ["fan_in"], ("torch",), np.array(["in_out", "torch"])]
BAD_AXES = ["a", 1.5, [None], 2 ** 100, -(2 ** 100), (0, 0), (), {0: 1}, np.int64(7), True]
BAD_THREADS = [0, -1, -(2 ** 70), True, 2.0, "2", None, [2], np.array([2]), 10 ** 30]
DTYPES_OK = [np.float32, np.float64, "float32", "f8", "<f4" if np.little_endian else ">f4",
             float, np.dtype(np.float64)]
DTYPES_BAD = [np.int16, np.int32, np.int64, np.uint32, np.complex64, complex, object, bool,
              SWAPPED + "f4", SWAPPED + "f8", "nonsense", "U4", "V8", np.dtype("2f4"),
              np.longdouble, 3, [("x", "f4")]]


def one_of_weighted(good, bad, good_weight=3):
    """`good` good_weight times as often as `bad`."""
    return st.one_of(*([good] * good_weight), bad)


def real(good):
    return one_of_weighted(good, st.sampled_from(BAD_REALS))


moderate = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False)
scales = st.one_of(st.floats(1e-3, 1e3), st.sampled_from([1, 2, np.float32(0.5), np.int64(3)]))
# 0, tiny gains (a uniform scheme's bound may underflow float32) and ordinary ones
gains = st.one_of(st.floats(0.0, 10.0), st.sampled_from([0, 0.0, 1, np.float64(2.5), 1e-50]))
# (a, b) pairs: ordinary, one-sided, whole line, far tails (float32 refuses the last ones)
TRUNCATIONS = [(-2.0, 2.0), (-1.0, 3.0), (-np.inf, 0.5), (0.3, np.inf), (-np.inf, np.inf),
               (2.5, 4.0), (-4.0, -2.5), (-0.01, 0.01), (11.4, np.inf), (20.0, 30.0),
               (-36.0, -35.0), (40.0, 41.0), (2.0, 2.0), (3.0, -3.0)]


@st.composite
def uniform_bounds(draw, valid):
    low = draw(moderate)
    width = draw(st.floats(1e-2, 1e3))
    if valid:
        return {"low": low, "high": low + width}
    kwargs = {}
    if draw(st.booleans()):
        kwargs["low"] = draw(real(st.just(low)))
    if draw(st.booleans()):
        kwargs["high"] = draw(real(st.sampled_from([low + width, low, low - width,
                                                    np.nextafter(low, np.inf)])))
    return kwargs


@st.composite
def truncation(draw, valid, dtype):
    if valid:
        limit = 11.0 if dtype == F32 else 36.0
        pairs = [(a, b) for a, b in TRUNCATIONS
                 if a < b and max(a, -b) < limit]
        a, b = draw(st.sampled_from(pairs))
        return {"a": a, "b": b}
    kwargs = {}
    a, b = draw(st.sampled_from(TRUNCATIONS))
    if draw(st.booleans()):
        kwargs["a"] = draw(real(st.just(a)))
    if draw(st.booleans()):
        kwargs["b"] = draw(real(st.just(b)))
    return kwargs


def optional(draw, kwargs, name, strategy):
    if draw(st.booleans()):
        kwargs[name] = draw(strategy)


@st.composite
def scheme_kwargs(draw, name, valid, shape, dtype):
    """Keyword arguments of scheme `name`: all valid (for `shape` and the output dtype)
    when `valid`, else a mix of valid and invalid ones."""
    kw = {}
    ndim = len(shape)
    pick = (lambda good, bad: good) if valid else one_of_weighted
    base = name.replace("glorot", "xavier").replace("kaiming", "he")
    if base == "uniform":
        kw.update(draw(uniform_bounds(valid)))
    elif base in ("normal", "truncated_normal"):
        optional(draw, kw, "mean", moderate if valid else real(moderate))
        optional(draw, kw, "std", st.floats(0.0, 1e3) if valid else real(st.floats(0.0, 1e3)))
        if base == "truncated_normal":
            kw.update(draw(truncation(valid, dtype)))
    elif base == "orthogonal":
        optional(draw, kw, "gain", gains if valid else real(gains))
        optional(draw, kw, "layout", pick(st.sampled_from(["in_out", "torch"]),
                                          st.sampled_from(BAD_CHOICES)))
    else:
        if base == "variance_scaling":
            optional(draw, kw, "scale", scales if valid else real(scales))
            optional(draw, kw, "mode", pick(st.sampled_from(["fan_in", "fan_out", "fan_avg",
                                                             "fan_geo_avg"]),
                                            st.sampled_from(BAD_CHOICES)))
            optional(draw, kw, "distribution", pick(
                st.sampled_from(["truncated_normal", "normal", "untruncated_normal",
                                 "uniform"]),
                st.sampled_from(BAD_CHOICES + ["cauchy"])))
        elif base.startswith("he_"):
            optional(draw, kw, "a", st.floats(-5, 5) if valid else real(st.floats(-5, 5)))
            optional(draw, kw, "mode", pick(st.sampled_from(["fan_in", "fan_out"]),
                                            st.sampled_from(BAD_CHOICES + ["fan_avg"])))
            optional(draw, kw, "nonlinearity", pick(
                st.sampled_from(["relu", "leaky_relu", "tanh", "linear", "selu", "sigmoid",
                                 "conv2d"]),
                st.sampled_from(BAD_CHOICES + ["swish"])))
        else:
            optional(draw, kw, "gain", gains if valid else real(gains))
        if base.endswith("_normal"):
            not_bools = st.sampled_from([1, 0, None, "yes", np.bool_(True)])
            optional(draw, kw, "truncated", pick(st.booleans(), not_bools))
        optional(draw, kw, "layout", pick(st.sampled_from(["in_out", "torch"]),
                                          st.sampled_from(BAD_CHOICES)))
        fans_given = valid and ndim < 2
        if fans_given or draw(st.booleans()):
            positive = st.one_of(st.integers(1, 10 ** 6), st.floats(0.5, 1e6))
            both = fans_given or draw(st.booleans())
            for fan in ("fan_in", "fan_out"):
                if both or draw(st.booleans()):
                    kw[fan] = draw(positive if valid else real(positive))
        if not valid and ndim >= 1:
            axes = st.one_of(st.integers(-ndim, ndim - 1),
                             st.lists(st.integers(-ndim, ndim - 1), max_size=2).map(tuple))
            for axis in ("in_axis", "out_axis"):
                optional(draw, kw, axis, one_of_weighted(axes, st.sampled_from(BAD_AXES), 1))
    return kw


# ---------------------------------------------------------------- shapes and regions

small_shapes = st.lists(st.integers(0, 6), min_size=0, max_size=4).map(tuple)
# big enough that allocating the whole array is refused as MemoryError (>= 256 GiB), so
# only a region of it is ever computed
huge_shapes = st.tuples(st.integers(2 ** 36, 2 ** 40),
                        st.lists(st.integers(1, 6), max_size=2)).map(lambda t: (t[0], *t[1]))
INVALID_SHAPES = [(-1,), (3, -2), -4, (2.0, 3), 2.5, "ab", b"ab", (True, 2), True, None,
                  (None,), (2 ** 63,), (2 ** 31, 2 ** 31, 2), (2 ** 40, 2 ** 40), 2 ** 70,
                  (1,) * 65, np.array([[2, 3]]), np.array([2.0]), {"a": 1}, (np.True_, 2),
                  (0, 2 ** 62), (2 ** 62, 2)]


@st.composite
def shape_forms(draw, canonical):
    """canonical (a tuple of ints) written as a tuple, list, ndarray, numpy ints or an int."""
    forms = [canonical, list(canonical), tuple(np.int64(d) for d in canonical),
             tuple(np.uint32(d) for d in canonical if d < 2 ** 32)
             if all(d < 2 ** 32 for d in canonical) else canonical]
    if canonical:
        forms.append(np.array(canonical, dtype=np.int64))
    if len(canonical) == 1:
        forms += [canonical[0], np.int32(canonical[0]) if canonical[0] < 2 ** 31 else canonical[0]]
    return draw(st.sampled_from(forms))


@st.composite
def valid_regions(draw, shape, small):
    """A region of shape: a tuple of step-1 slices (maybe fewer than the dims, maybe with
    negative or None bounds), or one slice.  `small` keeps every extent at most 3."""
    slices = []
    for dim in shape[:draw(st.integers(0, len(shape)))]:
        lo = draw(st.integers(0, dim))
        hi = draw(st.integers(lo, min(dim, lo + 3) if small else dim))
        start = draw(st.sampled_from([lo, lo - dim] if lo < dim else [lo]))
        stop = draw(st.sampled_from([hi, hi - dim] if hi < dim else [hi, None]))
        if start == 0 and draw(st.booleans()):
            start = None
        slices.append(slice(start, stop, draw(st.sampled_from([None, 1]))))
    if len(slices) == 1 and draw(st.booleans()):
        return slices[0]
    return tuple(slices)


@st.composite
def invalid_regions(draw, shape):
    dim = shape[0] if shape else 0
    return draw(st.sampled_from([
        (slice(0, dim + 1),), (slice(-dim - 1, None),), (slice(dim, 0),) if dim else (slice(1, 0),),
        (slice(0, dim, 2),), (slice(None, None, -1),), (slice(0, 1, 0),),
        (slice(None),) * (len(shape) + 1), [slice(None)], (1,), 0, "x", (slice(0.5, 1),),
        (slice("a", None),), (slice(None), Ellipsis), (slice(0, 2 ** 80),),
        (slice(-(2 ** 80), None),), (np.s_[0:1], 3),
    ]))


def regions(shape, small=False):
    return one_of_weighted(st.one_of(st.none(), valid_regions(shape, small)),
                           invalid_regions(shape))


def expected_extent(shape, region):
    """The shape of full[region] as NumPy indexing gives it (None if NumPy refuses it)."""
    template = np.broadcast_to(np.empty((), np.uint8), shape)
    try:
        return template[() if region is None else region].shape
    except (IndexError, TypeError, ValueError):
        return None


# ---------------------------------------------------------------- out arrays

def filled(shape, dtype):
    dtype = np.dtype(dtype)
    value = SENTINEL if dtype.kind in "fc" else (-12345 if dtype.kind == "i" else 7)
    if dtype.kind == "O":
        value = SENTINEL
    return np.full(shape, value, dtype=dtype)


def make_out(kind, shape, dtype):
    """(out, owner): an `out` argument of the given kind and the object owning its memory
    (whose bytes must not change when the call fails)."""
    dtype = np.dtype(dtype)
    if kind == "good":
        out = filled(shape, dtype)
        return out, out
    if kind == "transposed":
        owner = filled(shape[::-1], dtype)
        return owner.T, owner
    if kind == "strided":
        if not shape:
            owner = filled((2,), dtype)
            return owner[::2].reshape(()), owner
        owner = filled(shape[:-1] + (2 * shape[-1],), dtype)
        return owner[..., ::2], owner
    if kind == "read-only":
        out = filled(shape, dtype)
        out.flags.writeable = False
        return out, out
    if kind == "misaligned":
        count = math.prod(shape)
        owner = np.full(count * dtype.itemsize + 1, 0x5A, dtype=np.uint8)
        return owner[1:].view(dtype).reshape(shape), owner
    if kind == "byte-swapped":
        out = filled(shape, dtype.newbyteorder())
        return out, out
    if kind.startswith("dtype:"):
        out = filled(shape, kind[len("dtype:"):])
        return out, out
    if kind == "wrong-shape":
        out = filled(shape[:-1] + (shape[-1] + 1,) if shape else (1,), dtype)
        return out, out
    if kind == "extra-dim":
        out = filled((1,) + shape, dtype)
        return out, out
    if kind == "list":
        out = filled(shape, dtype).tolist()
        return out, out
    if kind == "subclass":
        out = filled(shape, dtype).view(np.ma.MaskedArray)
        return out, out
    raise AssertionError(kind)


OUT_KINDS = ["good", "transposed", "strided", "read-only", "misaligned", "byte-swapped",
             "dtype:int16", "dtype:int32", "dtype:complex64", "dtype:object", "dtype:other",
             "wrong-shape", "extra-dim", "list", "subclass"]


def snapshot(owner):
    """The bytes (or contents) of owner, to check a failed call left it alone."""
    if owner is None:
        return None
    if isinstance(owner, np.ndarray) and owner.dtype.kind != "O":
        return np.asarray(owner).tobytes()
    return copy.deepcopy(np.asarray(owner, dtype=object).tolist())


# ---------------------------------------------------------------- calls

def blocks_taken(name, shape, dtype):
    """Blocks of the stream a successful draw takes (docs/stream.md section 3)."""
    n = math.prod(shape)
    if name.rstrip("_") == "orthogonal":
        return -(-n // 2)                       # a float64 matrix of the same element count
    return -(-n // 4) if dtype == F32 else -(-n // 2)


def generator_at(seed, counter):
    g = fastinit.Generator(seed)
    g.state = {"key": g.state["key"], "counter": counter}
    return g


class Caller:
    """Calls `name` through one of the entry points (a Generator at a chosen block, the
    module function with an int seed or SeedSequence, or the module generator) and
    reports the state that must not move when the call fails."""

    def __init__(self, via, seed, counter):
        self.via, self.seed, self.counter = via, seed, counter

    def fresh(self):
        if self.via == "generator":
            return generator_at(self.seed, self.counter)
        if self.via == "module-generator":
            fastinit.seed(self.seed)
        return None

    def __call__(self, target, name, *args, **kwargs):
        if self.via == "generator":
            return getattr(target, name)(*args, **kwargs)
        if self.via == "module-seed":
            seed = np.random.SeedSequence(self.seed) if self.seed % 3 == 0 else self.seed
            return getattr(fastinit, name)(*args, seed=seed, **kwargs)
        return getattr(fastinit, name)(*args, **kwargs)

    def state(self, target):
        return target.state if self.via == "generator" else None

    def assert_state_unchanged(self, target, before):
        if self.via == "generator":
            assert target.state == before, "a failed call moved the generator"
        elif self.via == "module-generator":
            # nothing was drawn: the next module draw is block 0 of the seed's stream
            assert fastinit.uniform(4).tobytes() == \
                fastinit.Generator(self.seed).uniform(4).tobytes(), \
                "a failed call moved the module generator"


callers = st.builds(
    Caller,
    st.sampled_from(["generator", "generator", "module-seed", "module-generator"]),
    st.one_of(st.integers(0, 2 ** 32), st.just(2 ** 200)),
    # block 0, a c0 carry, a 64-bit carry, and the very end of the stream (2**128 blocks)
    st.sampled_from([0, 0, 5, 2 ** 32 - 1, 2 ** 64 - 3, 2 ** 128 - 2, 2 ** 128]))


def raises_documented_error_and_changes_nothing(error, owner, before_out, caller, target,
                                                before_state):
    assert isinstance(error, DOCUMENTED_ERRORS), \
        f"undocumented exception {type(error).__name__}: {error}"
    event(f"raised {type(error).__name__}")
    if owner is not None:
        assert snapshot(owner) == before_out, f"a failed call wrote into out ({error!r})"
    caller.assert_state_unchanged(target, before_state)


def reference_call(caller, name, shape_arg, kwargs):
    """The same call again from the same start, without out (and with whatever else
    kwargs says)."""
    target = caller.fresh()
    return caller(target, name, shape_arg, **kwargs)


def check_values_are_plausible(name, kwargs, result):
    """What every value of a distribution must satisfy, in the output precision."""
    if result.dtype.kind != "f":
        return
    assert not np.isnan(result).any(), f"{name} returned NaN"
    t = result.dtype.type
    if name == "uniform":
        low, high = t(float(kwargs.get("low", 0.0))), t(float(kwargs.get("high", 1.0)))
        assert np.all(result >= low) and np.all(result < high), "uniform left [low, high)"
    if name == "orthogonal":
        assert np.isfinite(result).all(), "orthogonal returned inf"   # |gain * Q| <= gain
    if name == "truncated_normal":
        mean, std = t(float(kwargs.get("mean", 0.0))), t(float(kwargs.get("std", 1.0)))
        a, b = float(kwargs.get("a", -2.0)), float(kwargs.get("b", 2.0))
        with np.errstate(invalid="ignore", over="ignore"):
            lo = mean + std * t(a) if math.isfinite(a) else -np.inf
            hi = mean + std * t(b) if math.isfinite(b) else np.inf
        assert np.all(result >= lo) and np.all(result <= hi), \
            "truncated_normal left [mean + a std, mean + b std]"


def check_correct_result(result, caller, target, name, canonical, shape_arg, kwargs, out,
                         dtype_arg, start_state):
    """result is the right array: shape, dtype, blocks taken, the same bytes without
    out=, and full[region] of the call without region=."""
    region = kwargs.get("region")
    expected_dtype = (np.dtype(dtype_arg) if dtype_arg is not None
                      else out.dtype if isinstance(out, np.ndarray) else F32)
    assert isinstance(result, np.ndarray)
    assert result.dtype == expected_dtype and result.dtype in (F32, F64)
    assert result.dtype.isnative and result.flags.c_contiguous
    extent = expected_extent(canonical, region)
    assert extent is not None, f"region {region!r} was accepted but NumPy refuses it"
    assert result.shape == extent, f"region {region!r} of {canonical}: got {result.shape}"
    if out is not None:
        assert result is out, "a call with out= must return out"
    if caller.via == "generator":
        blocks = blocks_taken(name, canonical, expected_dtype)
        assert target.state["counter"] == start_state["counter"] + blocks
    check_values_are_plausible(name, kwargs, result)

    plain = {k: v for k, v in kwargs.items() if k != "out"}
    plain["dtype"] = expected_dtype
    again = reference_call(caller, name, shape_arg, plain)
    assert again.tobytes() == result.tobytes(), "out= changed the values"

    whole = {k: v for k, v in plain.items() if k != "region"}
    if math.prod(canonical) <= MAX_REFERENCE_ELEMENTS:
        full = reference_call(caller, name, shape_arg, whole)
        assert full.shape == tuple(canonical)
        part = np.ascontiguousarray(full[() if region is None else region])
        assert part.tobytes() == result.tobytes(), "region is not full[region]"
    elif result.ndim and result.shape[0] >= 2:
        # a huge array: its region must be the two halves of the region along axis 0
        bounds = normalized_region(region, canonical)
        lo, hi = bounds[0].start, bounds[0].stop
        mid = lo + result.shape[0] // 2
        halves = []
        for a, b in ((lo, mid), (mid, hi)):
            sub = dict(plain, region=(slice(a, b),) + bounds[1:])
            halves.append(reference_call(caller, name, shape_arg, sub))
        assert np.concatenate(halves).tobytes() == result.tobytes()


def normalized_region(region, shape):
    """region as one slice per axis with non-negative bounds (for a valid region)."""
    if region is None:
        region = ()
    if isinstance(region, slice):
        region = (region,)
    out = []
    for axis, dim in enumerate(shape):
        s = region[axis] if axis < len(region) else slice(None)
        lo, hi, _ = s.indices(dim)
        out.append(slice(lo, hi))
    return tuple(out)


def run_and_check(caller, name, canonical, shape_arg, kwargs, out, owner, dtype_arg):
    """The invariants of one fuzzed call, whatever its arguments."""
    target = caller.fresh()
    start_state = caller.state(target)
    before_out = snapshot(owner)
    call_kwargs = dict(kwargs)
    if out is not None:
        call_kwargs["out"] = out
    if dtype_arg is not None:
        call_kwargs["dtype"] = dtype_arg
    try:
        result = caller(target, name, shape_arg, **call_kwargs)
    except Exception as error:  # noqa: BLE001 - the type is the thing under test
        raises_documented_error_and_changes_nothing(error, owner, before_out, caller, target,
                                                    start_state)
        return None
    event("returned an array")
    assert canonical is not None, f"shape {shape_arg!r} was accepted"
    check_correct_result(result, caller, target, name, canonical, shape_arg, call_kwargs, out,
                         dtype_arg, start_state)
    return result


# ---------------------------------------------------------------- the properties

@st.composite
def any_call(draw):
    """(caller, name, canonical shape or None, shape argument, kwargs, out kind, dtype)."""
    caller = draw(callers)
    name = draw(st.sampled_from(SCHEMES))
    shape_kind = draw(st.sampled_from(["small"] * 6 + ["huge", "invalid"]))
    if shape_kind == "invalid":
        canonical, shape_arg = None, draw(st.sampled_from(INVALID_SHAPES))
    else:
        canonical = draw(small_shapes if shape_kind == "small" else huge_shapes)
        shape_arg = draw(shape_forms(canonical))
    dtype_arg = draw(st.one_of(st.none(), st.none(), st.sampled_from(DTYPES_OK),
                               st.sampled_from(DTYPES_BAD)))
    try:
        out_dtype = np.dtype(dtype_arg) if dtype_arg is not None else F32
    except TypeError:
        out_dtype = F32
    if out_dtype not in (F32, F64):
        out_dtype = F32
    kwargs = draw(scheme_kwargs(name, False, canonical or (), out_dtype))
    region_shape = canonical if canonical is not None else (4, 5)
    region = draw(regions(region_shape, small=shape_kind == "huge"))
    if region is not None:
        kwargs["region"] = region
    if draw(st.booleans()):
        kwargs["threads"] = draw(one_of_weighted(st.integers(1, 4),
                                                 st.sampled_from(BAD_THREADS), 2))
    out_kind = draw(st.sampled_from(["none"] * 4 + OUT_KINDS))
    if dtype_arg is None and out_kind != "none" and draw(st.booleans()):
        out_dtype = F64                # out's own dtype becomes the output dtype
    return caller, name, canonical, shape_arg, kwargs, out_kind, out_dtype, dtype_arg


def out_for(out_kind, canonical, region, out_dtype):
    if out_kind == "none":
        return None, None
    extent = expected_extent(canonical, region) if canonical is not None else None
    if extent is None:
        extent = (4, 5)
    if math.prod(extent) > 4096:
        return None, None
    if out_kind == "dtype:other":
        out_kind = "dtype:" + ("float64" if out_dtype == F32 else "float32")
    return make_out(out_kind, extent, out_dtype)


@FUZZ
@given(any_call())
def test_any_call_returns_the_right_array_or_a_documented_error_changing_nothing(call):
    caller, name, canonical, shape_arg, kwargs, out_kind, out_dtype, dtype_arg = call
    out, owner = out_for(out_kind, canonical, kwargs.get("region"), out_dtype)
    run_and_check(caller, name, canonical, shape_arg, kwargs, out, owner, dtype_arg)


@st.composite
def valid_call(draw):
    caller = draw(st.builds(Caller, st.sampled_from(["generator", "module-seed"]),
                            st.integers(0, 2 ** 64),
                            st.sampled_from([0, 3, 2 ** 32 - 2, 2 ** 64 - 1, 2 ** 96 - 1])))
    name = draw(st.sampled_from(SCHEMES))
    needs_2d = name == "orthogonal"
    canonical = draw(small_shapes.filter(lambda s: len(s) >= 2) if needs_2d else small_shapes)
    shape_arg = draw(shape_forms(canonical))
    dtype = draw(st.sampled_from([F32, F64]))
    kwargs = draw(scheme_kwargs(name, True, canonical, dtype))
    region = draw(st.one_of(st.none(), valid_regions(canonical, False)))
    if region is not None:
        kwargs["region"] = region
    kwargs["threads"] = draw(st.integers(1, 3))
    with_out = draw(st.booleans())
    give_dtype = not with_out or draw(st.booleans())
    return caller, name, canonical, shape_arg, kwargs, with_out, dtype, give_dtype


@FUZZ
@given(valid_call())
def test_valid_calls_return_full_region_bit_exact_with_or_without_out(call):
    caller, name, canonical, shape_arg, kwargs, with_out, dtype, give_dtype = call
    out = owner = None
    if with_out:
        out, owner = make_out("good", expected_extent(canonical, kwargs.get("region")), dtype)
    result = run_and_check(caller, name, canonical, shape_arg, kwargs, out, owner,
                           dtype if give_dtype else None)
    assert result is not None, "a valid call raised"


@st.composite
def in_place_call(draw):
    name = draw(st.sampled_from(IN_PLACE))
    canonical = draw(small_shapes)
    dtype = draw(st.sampled_from([F32, F64]))
    kind = draw(st.sampled_from(["good"] * 4 + OUT_KINDS))
    kwargs = draw(scheme_kwargs(name[:-1], draw(st.booleans()), canonical, dtype))
    if draw(st.booleans()):
        kwargs[draw(st.sampled_from(["out", "dtype", "region"]))] = None
    seed = draw(st.integers(0, 2 ** 32))
    return name, canonical, dtype, kind, kwargs, seed


@FUZZ
@given(in_place_call())
def test_in_place_forms_fill_the_array_as_the_function_of_its_shape_or_leave_it(call):
    name, canonical, dtype, kind, kwargs, seed = call
    if kind == "dtype:other":
        kind = "dtype:" + ("float64" if dtype == F32 else "float32")
    array, owner = make_out(kind, canonical, dtype)
    before = snapshot(owner)
    try:
        result = getattr(fastinit, name)(array, seed=seed, **kwargs)
    except Exception as error:  # noqa: BLE001
        assert isinstance(error, DOCUMENTED_ERRORS), \
            f"undocumented exception {type(error).__name__}: {error}"
        event(f"raised {type(error).__name__}")
        assert snapshot(owner) == before, f"a failed call wrote into the array ({error!r})"
        return
    event("filled")
    assert result is array
    # an in-place form takes the shape of the array it is given, whatever it is
    expected = getattr(fastinit, name[:-1])(array.shape, dtype=array.dtype, seed=seed, **kwargs)
    assert np.asarray(result).tobytes() == expected.tobytes()


RAW_SIZES = [None, 0, 1, 3, 4, 5, 17, 1024, (), (2, 3), [4, 4], np.int64(9), (0, 5),
             -1, (2, -1), 1.5, "x", (True,), 2 ** 63, (2 ** 31, 2 ** 31, 4), 2 ** 40]


@FUZZ
@given(seed=st.integers(0, 2 ** 64), size=st.sampled_from(RAW_SIZES),
       counter=st.sampled_from([0, 1, 2 ** 32 - 1, 2 ** 64 - 2, 2 ** 128 - 3, 2 ** 128 - 1,
                                2 ** 128]),
       threads=st.one_of(st.none(), st.integers(1, 4), st.sampled_from(BAD_THREADS)))
def test_random_raw_returns_the_stream_words_or_a_documented_error_changing_nothing(
        stream_words, seed, size, counter, threads):
    g = generator_at(seed, counter)
    before = g.state
    try:
        words = g.random_raw(size, threads=threads)
    except Exception as error:  # noqa: BLE001
        assert isinstance(error, DOCUMENTED_ERRORS), \
            f"undocumented exception {type(error).__name__}: {error}"
        event(f"raised {type(error).__name__}")
        assert g.state == before
        return
    if size is None:
        n = 1
    elif isinstance(size, (tuple, list)):
        n = math.prod(int(d) for d in size)
    else:
        n = int(size)
    blocks = -(-n // 4)
    assert g.state["counter"] == counter + blocks
    expected = stream_words(before["key"], counter, blocks)[:n]
    if size is None:
        assert isinstance(words, int) and words == int(expected[0])
    else:
        assert words.dtype == np.uint32
        assert words.reshape(-1).tobytes() == expected.tobytes()


JUNK = [None, -1, 2 ** 129, 1.5, "x", True, [1, 2], (1, 2, 3), {"key": (1, 2)},
        {"key": (1, 2), "counter": 2 ** 128 + 1}, {"key": (1, 2), "counter": "0"},
        {"key": (2 ** 32, 0), "counter": 0}, {"key": None, "counter": 0},
        {"key": (1, 2), "counter": 0, "bit_generator": "PCG64"}, {"key": (1.0, 2), "counter": 0},
        {"key": "ab", "counter": 0}, {"key": (np.uint32(1), np.int64(2)), "counter": np.uint64(7)},
        np.random.SeedSequence(3), 0, 2 ** 200]


@FUZZ
@given(junk=st.sampled_from(JUNK), target=st.sampled_from(
    ["state", "Generator", "seed", "spawn", "default_rng", "compute_fans", "calculate_gain",
     "for_activation", "set_isa"]))
def test_other_entry_points_accept_or_refuse_junk_with_documented_errors(junk, target):
    g = fastinit.Generator(5)
    g.random_raw(8)
    before = g.state
    try:
        if target == "state":
            g.state = junk
        elif target == "spawn":
            g.spawn(junk if not isinstance(junk, int) or junk < 64 else 3)
        elif target == "compute_fans":
            fastinit.compute_fans(junk if junk != 2 ** 200 else (2, 3))
        elif target == "calculate_gain":
            fastinit.calculate_gain("leaky_relu", junk)
        elif target == "for_activation":
            fastinit.for_activation("leaky_relu", junk)
        elif target == "set_isa":
            if isinstance(junk, str):
                fastinit.set_isa(junk)            # an unknown name: refused, ISA unchanged
        else:
            getattr(fastinit, target)(junk)
    except Exception as error:  # noqa: BLE001
        assert isinstance(error, DOCUMENTED_ERRORS), \
            f"undocumented exception {type(error).__name__}: {error}"
        assert g.state == before
        return
    if target == "state":
        restored = g.state
        assert restored["counter"] == int(junk["counter"])
        assert restored["key"] == tuple(int(k) for k in junk["key"])


@settings(settings.get_profile("fastinit"), max_examples=40, phases=PHASES)
@given(rows=st.integers(600, 1000), cols=st.integers(800, 1200),
       name=st.sampled_from(PLAIN), dtype=st.sampled_from([F32, F64]),
       threads=st.integers(2, 6), data=st.data())
def test_big_regions_split_over_threads_are_full_region_bit_exact(rows, cols, name, dtype,
                                                                  threads, data):
    # regions of more than 2**17 elements, the size above which the C core splits a draw
    # over threads, with runs that begin and end mid-row
    full = getattr(fastinit, name)((rows, cols), dtype=dtype, seed=rows, threads=1)
    r0 = data.draw(st.integers(0, rows // 8))
    c0, c1 = data.draw(st.integers(0, cols // 8)), data.draw(st.integers(7 * cols // 8, cols))
    region = (slice(r0, rows), slice(c0, c1))
    got = getattr(fastinit, name)((rows, cols), dtype=dtype, seed=rows, threads=threads,
                                  region=region)
    assert got.tobytes() == np.ascontiguousarray(full[region]).tobytes()
    whole = getattr(fastinit, name)((rows, cols), dtype=dtype, seed=rows, threads=threads)
    assert whole.tobytes() == full.tobytes()


# ---------------------------------------------------------------- found by fuzzing
# (bugs of the first version, fixed in 7a54b9b; kept as regression tests)

@pytest.mark.parametrize("shape, fans", [((0, 5), {"fan_out": 3}), ((5, 0), {"fan_in": 3}),
                                         ((3, 0, 4), {"fan_out": 3})])
def test_an_empty_array_with_one_fan_given_is_drawn_like_one_without_fans(shape, fans):
    # An empty array needs no fans: without fan_in / fan_out the call returns it, and the
    # fans the shape gives (0) are never checked.  Giving one fan must not make the other,
    # taken from the empty shape, an error that blames an argument the caller never
    # passed ("fan_in must be a positive finite number, got 0", as the first version did).
    assert fastinit.xavier_uniform(shape, seed=0).shape == shape
    got = fastinit.xavier_uniform(shape, seed=0, **fans)
    assert got.shape == shape and got.dtype == F32
