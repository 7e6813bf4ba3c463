"""Every bad input is refused with the documented exception, whose message names the
argument, before anything is written or drawn: a failed call leaves `out` as it was and
a Generator's counter where it was."""
import math
import os

import numpy as np
import pytest

import fastinit

SENTINEL = -12345.5     # no draw below produces it


def physical_memory():
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def case(name, args, kwargs, error, match, out_shape=(4, 5), id=None):
    """A bad call: fastinit.<name>(*args, **kwargs) raises error(match); out_shape is the
    shape an `out` for it would have (None: the call takes no out)."""
    return pytest.param(name, args, kwargs, error, match, out_shape, id=id)


SHAPE_CASES = [
    case("normal", ((-1,),), {}, ValueError, "negative", (1,), id="negative-dim"),
    case("normal", ((3, -2),), {}, ValueError, "negative", (3, 2), id="negative-dim-2d"),
    case("uniform", (-4,), {}, ValueError, "negative", (4,), id="negative-int-shape"),
    case("xavier_uniform", ((-1, 4),), {}, ValueError, "negative", (1, 4), id="scheme-negative"),
    case("orthogonal", ((4, -1),), {}, ValueError, "negative", (4, 1), id="orthogonal-negative"),
    case("normal", ((2.0, 3),), {}, TypeError, "shape", (2, 3), id="float-dim"),
    case("normal", (2.5,), {}, TypeError, "shape", (2,), id="float-shape"),
    case("normal", ("ab",), {}, TypeError, "shape", (2,), id="str-shape"),
    case("normal", ((True, 2),), {}, TypeError, "shape", (1, 2), id="bool-dim"),
    case("normal", (True,), {}, TypeError, "shape", (1,), id="bool-shape"),
    case("normal", (None,), {}, TypeError, "shape", (1,), id="none-shape"),
    case("normal", ((2 ** 31, 2 ** 31, 2),), {}, OverflowError, r"2\*\*62", (1,),
         id="product-over-2**62"),
    case("uniform", ((2 ** 63,),), {}, OverflowError, r"2\*\*62", (1,), id="dim-over-2**62"),
    case("he_normal", ((2 ** 40, 2 ** 40),), {}, OverflowError, r"2\*\*62", (1, 1),
         id="scheme-product-over-2**62"),
]

DTYPE_CASES = [
    case("normal", (5,), {"dtype": np.int32}, TypeError, "dtype", (5,), id="int32"),
    case("normal", (5,), {"dtype": np.int16}, TypeError, "dtype", (5,), id="int16"),
    case("uniform", (5,), {"dtype": np.complex64}, TypeError, "dtype", (5,), id="complex64"),
    case("normal", (5,), {"dtype": complex}, TypeError, "dtype", (5,), id="complex"),
    case("truncated_normal", (5,), {"dtype": np.int64}, TypeError, "dtype", (5,), id="int64"),
    case("normal", (5,), {"dtype": ">f4" if np.little_endian else "<f4"}, TypeError, "dtype",
         (5,), id="byte-swapped-dtype"),
    case("normal", (5,), {"dtype": "nonsense"}, TypeError, "dtype", (5,), id="unknown-dtype"),
    case("xavier_uniform", ((4, 5),), {"dtype": np.int32}, TypeError, "dtype", id="scheme-int"),
    case("orthogonal", ((4, 5),), {"dtype": np.int16}, TypeError, "dtype", id="orth-int16"),
]

PARAMETER_CASES = [
    case("normal", ((4, 5),), {"std": float("nan")}, ValueError, "std", id="std-nan"),
    case("normal", ((4, 5),), {"std": float("inf")}, ValueError, "std", id="std-inf"),
    case("normal", ((4, 5),), {"std": -1.0}, ValueError, "std", id="std-negative"),
    case("normal", ((4, 5),), {"std": "1"}, TypeError, "std", id="std-str"),
    case("normal", ((4, 5),), {"mean": float("nan")}, ValueError, "mean", id="mean-nan"),
    case("normal", ((4, 5),), {"mean": float("-inf")}, ValueError, "mean", id="mean-inf"),
    case("normal", ((4, 5),), {"std": 1e39}, ValueError, "mean and std", id="std-over-float32"),
    case("truncated_normal", ((4, 5),), {"std": -0.5}, ValueError, "std", id="trunc-std-neg"),
    case("truncated_normal", ((4, 5),), {"std": float("nan")}, ValueError, "std",
         id="trunc-std-nan"),
    case("uniform", ((4, 5), 1.0, 1.0), {}, ValueError, "low must be less than high",
         id="low-equals-high"),
    case("uniform", ((4, 5), 2.0, 1.0), {}, ValueError, "low must be less than high",
         id="low-above-high"),
    case("uniform", ((4, 5), float("nan"), 1.0), {}, ValueError, "low", id="low-nan"),
    case("uniform", ((4, 5), 0.0, float("inf")), {}, ValueError, "high", id="high-inf"),
    case("uniform", ((4, 5), None, 1.0), {}, TypeError, "low", id="low-none"),
    # distinct doubles that are the same float32
    case("uniform", ((4, 5), 1.0, 1.0 + 1e-12), {}, ValueError, "low and high",
         id="low-high-collapse-in-float32"),
    case("uniform", ((4, 5), -3e38, 3e38), {}, ValueError, "low and high",
         id="span-overflows-float32"),
    case("uniform", ((4, 5), -1e308, 1e308), {"dtype": np.float64}, ValueError, "low and high",
         id="span-overflows-float64"),
    case("truncated_normal", ((4, 5),), {"a": 1.0, "b": 1.0}, ValueError,
         "a must be less than b", id="a-equals-b"),
    case("truncated_normal", ((4, 5),), {"a": 2.0, "b": -1.0}, ValueError,
         "a must be less than b", id="a-above-b"),
    case("truncated_normal", ((4, 5),), {"a": float("inf"), "b": float("inf")}, ValueError,
         "a must be less than b", id="a-b-both-inf"),
    case("truncated_normal", ((4, 5),), {"a": float("nan")}, ValueError, "a must not be NaN",
         id="a-nan"),
    case("truncated_normal", ((4, 5),), {"b": float("nan")}, ValueError, "b must not be NaN",
         id="b-nan"),
    case("truncated_normal", ((4, 5),), {"a": "x"}, TypeError, "a must be a real number",
         id="a-str"),
    # P(40 < Z < 41) ~ e^-800: below 2^-100 (float32) and 2^-960 (float64)
    case("truncated_normal", ((4, 5),), {"a": 40.0, "b": 41.0}, ValueError,
         r"truncation interval \[a, b\]", id="negligible-mass-float32"),
    case("truncated_normal", ((4, 5),), {"a": 40.0, "b": 41.0, "dtype": np.float64},
         ValueError, r"truncation interval \[a, b\]", id="negligible-mass-float64"),
    case("truncated_normal", ((4, 5),), {"a": -41.0, "b": -40.0, "dtype": np.float64},
         ValueError, r"truncation interval \[a, b\]", id="negligible-mass-lower-tail"),
    # P(Z > 13) ~ 6e-39 < 2^-100
    case("truncated_normal", ((4, 5),), {"a": 13.0, "b": float("inf")}, ValueError,
         r"truncation interval \[a, b\]", id="negligible-mass-one-sided"),
]

SCHEME_CASES = [
    case("xavier_uniform", ((4, 5),), {"gain": float("nan")}, ValueError, "gain", id="gain-nan"),
    case("xavier_normal", ((4, 5),), {"gain": float("inf")}, ValueError, "gain", id="gain-inf"),
    case("lecun_uniform", ((4, 5),), {"gain": -1.0}, ValueError, "gain", id="gain-negative"),
    case("lecun_normal", ((4, 5),), {"gain": "2"}, TypeError, "gain", id="gain-str"),
    case("orthogonal", ((4, 5),), {"gain": -0.5}, ValueError, "gain", id="orth-gain-negative"),
    case("orthogonal", ((4, 5),), {"gain": float("nan")}, ValueError, "gain", id="orth-gain-nan"),
    case("variance_scaling", ((4, 5),), {"scale": 0.0}, ValueError, "scale", id="scale-zero"),
    case("variance_scaling", ((4, 5),), {"scale": -2.0}, ValueError, "scale", id="scale-neg"),
    case("variance_scaling", ((4, 5),), {"scale": float("nan")}, ValueError, "scale",
         id="scale-nan"),
    case("variance_scaling", ((4, 5),), {"mode": "fan_x"}, ValueError, "mode", id="vs-mode"),
    case("he_normal", ((4, 5),), {"mode": "fan_avg"}, ValueError, "mode", id="he-mode"),
    case("variance_scaling", ((4, 5),), {"distribution": "cauchy"}, ValueError, "distribution",
         id="vs-distribution"),
    case("he_uniform", ((4, 5),), {"nonlinearity": "swish"}, ValueError, "nonlinearity",
         id="nonlinearity"),
    case("he_normal", ((4, 5),), {"nonlinearity": "leaky_relu", "a": float("nan")}, ValueError,
         "a must be finite", id="slope-nan"),
    case("xavier_uniform", ((4, 5),), {"layout": "nchw"}, ValueError, "layout", id="layout"),
    case("orthogonal", ((4, 5),), {"layout": "oihw"}, ValueError, "layout", id="orth-layout"),
    case("he_normal", ((4, 5),), {"truncated": 1}, TypeError, "truncated", id="truncated-int"),
    case("xavier_uniform", ((5,),), {}, ValueError, "2 dimensions", (5,), id="fans-1d"),
    case("he_normal", ((),), {}, ValueError, "2 dimensions", (), id="fans-0d"),
    case("variance_scaling", ((7,),), {}, ValueError, "2 dimensions", (7,), id="vs-1d"),
    case("lecun_uniform", ((5,),), {"fan_in": 3}, ValueError, "2 dimensions", (5,),
         id="fans-1d-only-fan_in"),
    case("orthogonal", ((5,),), {}, ValueError, "2 dimensions", (5,), id="orthogonal-1d"),
    case("xavier_uniform", ((4, 5),), {"fan_in": 0, "fan_out": 3}, ValueError, "fan_in",
         id="fan_in-zero"),
    case("he_normal", ((4, 5),), {"fan_in": 3, "fan_out": -2}, ValueError, "fan_out",
         id="fan_out-negative"),
    case("lecun_normal", ((5,),), {"fan_in": -1, "fan_out": 3}, ValueError, "fan_in", (5,),
         id="fan_in-negative-1d"),
    case("xavier_normal", ((4, 5),), {"fan_in": float("nan"), "fan_out": 3}, ValueError,
         "fan_in", id="fan_in-nan"),
    case("xavier_normal", ((4, 5),), {"fan_in": True, "fan_out": 3}, TypeError, "fan_in",
         id="fan_in-bool"),
    case("xavier_normal", ((4, 5),), {"fan_in": "3", "fan_out": 3}, TypeError, "fan_in",
         id="fan_in-str"),
    case("xavier_normal", ((4, 5, 6),), {"in_axis": 3}, ValueError, "in_axis", (4, 5, 6),
         id="in_axis-out-of-range"),
]

SEED_CASES = [
    case("normal", ((4, 5),), {"seed": -1}, ValueError, "seed", id="seed-negative"),
    case("xavier_uniform", ((4, 5),), {"seed": -(2 ** 70)}, ValueError, "seed",
         id="seed-very-negative"),
    case("normal", ((4, 5),), {"seed": True}, TypeError, "seed", id="seed-bool"),
    case("uniform", ((4, 5),), {"seed": 1.5}, TypeError, "seed", id="seed-float"),
    case("orthogonal", ((4, 5),), {"seed": "1"}, TypeError, "seed", id="seed-str"),
]

THREAD_CASES = [
    case("normal", ((4, 5),), {"threads": 0}, ValueError, "threads", id="threads-zero"),
    case("uniform", ((4, 5),), {"threads": -3}, ValueError, "threads", id="threads-negative"),
    case("normal", ((4, 5),), {"threads": True}, TypeError, "threads", id="threads-bool"),
    case("he_uniform", ((4, 5),), {"threads": 2.0}, TypeError, "threads", id="threads-float"),
    case("orthogonal", ((4, 5),), {"threads": "2"}, TypeError, "threads", id="threads-str"),
]

REGION_CASES = [
    case("normal", ((4, 5),), {"region": (slice(0, 6),)}, ValueError, "region",
         id="region-stop-past-end"),
    case("normal", ((4, 5),), {"region": (slice(-6, 2),)}, ValueError, "region",
         id="region-start-before-begin"),
    case("uniform", ((4, 5),), {"region": (slice(3, 1),)}, ValueError, "region",
         id="region-reversed"),
    case("normal", ((4, 5),), {"region": (slice(None), slice(None, -6))}, ValueError, "region",
         id="region-negative-stop-out-of-range"),
    case("normal", ((4, 5),), {"region": (slice(0, 4, 2),)}, ValueError, "step", id="step-2"),
    case("truncated_normal", ((4, 5),), {"region": (slice(None, None, -1),)}, ValueError,
         "step", id="step-negative"),
    case("normal", ((4, 5),), {"region": (slice(0, 1),) * 3}, ValueError, "region",
         id="region-too-many-slices"),
    case("normal", ((4, 5),), {"region": [slice(0, 1)]}, TypeError, "region", id="region-list"),
    case("normal", ((4, 5),), {"region": (1, slice(None))}, TypeError, "region",
         id="region-int"),
    case("normal", ((4, 5),), {"region": (slice(0.5, 2),)}, TypeError, "region",
         id="region-float-bound"),
    case("xavier_uniform", ((4, 5),), {"region": (slice(0, 9),)}, ValueError, "region",
         id="scheme-region-out-of-range"),
    case("orthogonal", ((4, 5),), {"region": (slice(0, 4, 3),)}, ValueError, "step",
         id="orthogonal-region-step"),
]

ALL_CASES = (SHAPE_CASES + DTYPE_CASES + PARAMETER_CASES + SCHEME_CASES + SEED_CASES
             + THREAD_CASES + REGION_CASES)
GENERATOR_CASES = [c for c in ALL_CASES if "seed" not in c.values[2]]


def sentinel_out(shape, kwargs):
    dtype = kwargs.get("dtype", np.float32)
    dtype = dtype if dtype in (np.float32, np.float64) else np.float32
    return np.full(shape, SENTINEL, dtype=dtype)


@pytest.mark.parametrize("name, args, kwargs, error, match, out_shape", ALL_CASES)
def test_bad_argument_raises_the_documented_error_naming_it(name, args, kwargs, error, match,
                                                            out_shape):
    kwargs = dict({"seed": 0}, **kwargs)
    with pytest.raises(error, match=match):
        getattr(fastinit, name)(*args, **kwargs)


@pytest.mark.parametrize("name, args, kwargs, error, match, out_shape", ALL_CASES)
def test_failed_call_leaves_out_untouched(name, args, kwargs, error, match, out_shape):
    out = sentinel_out(out_shape, kwargs)
    kwargs = dict({"seed": 0}, **kwargs)
    with pytest.raises(error, match=match):
        getattr(fastinit, name)(*args, out=out, **kwargs)
    assert np.all(out == SENTINEL)


@pytest.mark.parametrize("name, args, kwargs, error, match, out_shape", GENERATOR_CASES)
def test_failed_generator_call_does_not_advance_the_counter(name, args, kwargs, error, match,
                                                            out_shape):
    g = fastinit.Generator(601)
    g.random_raw(4)
    with pytest.raises(error, match=match):
        getattr(g, name)(*args, **kwargs)
    assert g.state["counter"] == 1
    assert g.random_raw(4).tobytes() == fastinit.Generator(601).random_raw(8)[4:].tobytes()


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_allocation_larger_than_physical_memory_raises_memory_error(dtype):
    memory = physical_memory()
    if memory is None:
        pytest.skip("physical memory size is not available from os.sysconf on this system")
    n = 2 * memory // np.dtype(dtype).itemsize + 1          # twice the machine, < 2**62
    g = fastinit.Generator(607)
    with pytest.raises(MemoryError, match="memory"):
        g.normal((n,), dtype=dtype)
    with pytest.raises(MemoryError, match="memory"):
        g.xavier_uniform((n // 1024, 1024), dtype=dtype)
    with pytest.raises(MemoryError, match="memory"):
        g.random_raw(4 * n)
    assert g.state["counter"] == 0


# ---------------------------------------------------------------- bad out arrays

def non_contiguous(shape, dtype):
    base = np.full(shape[::-1], SENTINEL, dtype=dtype)
    return base.T, base


def strided(shape, dtype):
    base = np.full((shape[0], 2 * shape[1]), SENTINEL, dtype=dtype)
    return base[:, ::2], base


def read_only(shape, dtype):
    out = np.full(shape, SENTINEL, dtype=dtype)
    out.flags.writeable = False
    return out, out


def byte_swapped(shape, dtype):
    out = np.full(shape, SENTINEL, dtype=np.dtype(dtype).newbyteorder())
    return out, out


def wrong_shape(shape, dtype):
    out = np.full(shape[::-1], SENTINEL, dtype=dtype)
    return out, out


def one_element_short(shape, dtype):
    out = np.full((shape[0], shape[1] - 1), SENTINEL, dtype=dtype)
    return out, out


def unaligned(shape, dtype):
    itemsize = np.dtype(dtype).itemsize
    buffer = np.full(np.prod(shape) * itemsize + 1, 0, dtype=np.uint8)
    out = buffer[1:].view(dtype).reshape(shape)
    out[...] = SENTINEL
    return out, out


def python_list(shape, dtype):
    out = np.full(shape, SENTINEL, dtype=dtype).tolist()
    return out, None


def other_dtype(shape, dtype):
    out = np.full(shape, SENTINEL, dtype=np.float64 if dtype == np.float32 else np.float32)
    return out, out


def integer_dtype(shape, dtype):
    out = np.full(shape, -12345, dtype=np.int32)
    return out, out


BAD_OUTS = [
    pytest.param(non_contiguous, ValueError, "out must be C-contiguous", id="transposed"),
    pytest.param(strided, ValueError, "out must be C-contiguous", id="strided"),
    pytest.param(read_only, ValueError, "out must be writable", id="read-only"),
    pytest.param(unaligned, ValueError, "out must be aligned", id="unaligned"),
    pytest.param(wrong_shape, ValueError, "out has shape", id="wrong-shape"),
    pytest.param(one_element_short, ValueError, "out has shape", id="short"),
    pytest.param(python_list, TypeError, "out must be a numpy.ndarray", id="list"),
]
BAD_OUT_DTYPES = [
    pytest.param(byte_swapped, TypeError, "out", id="byte-swapped"),
    pytest.param(integer_dtype, TypeError, "out", id="int32"),
]
OUT_TAKERS = ["uniform", "normal", "truncated_normal", "xavier_uniform", "he_normal",
              "variance_scaling", "orthogonal"]


def assert_untouched(base):
    if base is not None:
        assert np.all(base == (-12345 if base.dtype.kind == "i" else SENTINEL))


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("factory, error, match", BAD_OUTS + BAD_OUT_DTYPES + [
    pytest.param(other_dtype, TypeError, "out", id="other-float-dtype")])
@pytest.mark.parametrize("name", OUT_TAKERS)
def test_bad_out_is_refused_naming_out_and_left_untouched(name, factory, error, match, dtype):
    out, base = factory((6, 8), dtype)
    g = fastinit.Generator(613)
    with pytest.raises(error, match=match):
        getattr(g, name)((6, 8), dtype=dtype, out=out)
    assert g.state["counter"] == 0
    assert_untouched(base)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("factory, error, match", BAD_OUTS)
@pytest.mark.parametrize("name", OUT_TAKERS)
def test_bad_out_is_refused_naming_out_when_dtype_comes_from_out(name, factory, error, match,
                                                                 dtype):
    out, base = factory((6, 8), dtype)
    g = fastinit.Generator(613)
    with pytest.raises(error, match=match):
        getattr(g, name)((6, 8), out=out)
    assert g.state["counter"] == 0
    assert_untouched(base)


@pytest.mark.parametrize("factory, error, match", BAD_OUT_DTYPES)
@pytest.mark.parametrize("name", ["normal", "xavier_uniform", "orthogonal"])
def test_out_of_an_unsupported_dtype_is_refused_naming_out_when_dtype_is_not_given(
        name, factory, error, match):
    # without dtype=, out's own dtype is the output dtype, and a bad one is out's fault:
    # the message must name out (as it does when dtype= is given), not a dtype argument
    # the caller never passed
    out, base = factory((6, 8), np.float32)
    g = fastinit.Generator(613)
    with pytest.raises(error, match=match):
        getattr(g, name)((6, 8), out=out)
    assert g.state["counter"] == 0
    assert_untouched(base)


def test_out_shaped_for_the_full_array_is_refused_for_a_region():
    out = np.full((4, 5), SENTINEL, dtype=np.float32)
    with pytest.raises(ValueError, match="out has shape"):
        fastinit.normal((4, 5), region=(slice(1, 3),), out=out, seed=0)
    assert np.all(out == SENTINEL)


# ---------------------------------------------------------------- in-place forms

@pytest.mark.parametrize("name", ["xavier_uniform_", "normal_", "orthogonal_"])
def test_in_place_form_refuses_a_non_array(name):
    with pytest.raises(TypeError, match="numpy.ndarray"):
        getattr(fastinit, name)([[0.0] * 4] * 4, seed=0)


@pytest.mark.parametrize("name", ["xavier_uniform_", "normal_", "orthogonal_"])
def test_in_place_form_refuses_an_integer_array_and_leaves_it(name):
    array = np.full((4, 4), 7, dtype=np.int32)
    with pytest.raises(TypeError, match="float32, float64, float16 or bfloat16"):
        getattr(fastinit, name)(array, seed=0)
    assert np.all(array == 7)


@pytest.mark.parametrize("name", ["xavier_uniform_", "normal_", "orthogonal_"])
def test_in_place_form_refuses_a_read_only_or_non_contiguous_array(name):
    array, base = read_only((4, 6), np.float32)
    with pytest.raises(ValueError, match="writable"):
        getattr(fastinit, name)(array, seed=0)
    array, base = non_contiguous((4, 6), np.float32)
    with pytest.raises(ValueError, match="contiguous"):
        getattr(fastinit, name)(array, seed=0)
    assert np.all(base == SENTINEL)


@pytest.mark.parametrize("keyword", ["out", "dtype", "region"])
def test_in_place_form_refuses_out_dtype_and_region(keyword):
    array = np.full((4, 4), SENTINEL, dtype=np.float32)
    value = {"out": array, "dtype": np.float32, "region": (slice(0, 2),)}[keyword]
    with pytest.raises(TypeError, match=keyword):
        fastinit.xavier_uniform_(array, seed=0, **{keyword: value})
    assert np.all(array == SENTINEL)


# ---------------------------------------------------------------- other entry points

@pytest.mark.parametrize("seed, error", [(-1, ValueError), (True, TypeError),
                                         (2.0, TypeError), ("7", TypeError)])
def test_generator_refuses_bad_seeds(seed, error):
    with pytest.raises(error, match="seed"):
        fastinit.Generator(seed)
    with pytest.raises(error, match="seed"):
        fastinit.default_rng(seed)
    with pytest.raises(error, match="seed"):
        fastinit.seed(seed)


@pytest.mark.parametrize("size, error, match", [(-1, ValueError, "negative"),
                                                ("x", TypeError, "shape"),
                                                ((2, -1), ValueError, "negative")])
def test_random_raw_refuses_bad_sizes_and_takes_nothing(size, error, match):
    g = fastinit.Generator(617)
    with pytest.raises(error, match=match):
        g.random_raw(size)
    assert g.state["counter"] == 0


@pytest.mark.parametrize("n, error", [(-1, ValueError), (1.5, TypeError)])
def test_spawn_refuses_bad_counts(n, error):
    with pytest.raises(error):
        fastinit.Generator(619).spawn(n)


@pytest.mark.parametrize("name, param, distribution, match", [
    ("swish", None, "normal", "activation 'swish'"),
    ("relu", 0.1, "normal", "takes no param"),
    ("leaky_relu", "x", "normal", "negative_slope"),
    ("leaky_relu", float("nan"), "normal", "negative_slope"),
    ("tanh", None, "cauchy", "distribution"),
])
def test_for_activation_refuses_bad_arguments_when_called(name, param, distribution, match):
    with pytest.raises(ValueError, match=match):
        fastinit.for_activation(name, param, distribution=distribution)


@pytest.mark.parametrize("dtype, exponent, accepted, refused", [
    # P(Z > 11.4) = 2^-98.6 and P(Z > 11.6) = 2^-101.9 around float32's 2^-100;
    # P(Z > 36.3) = 2^-957.0 and P(Z > 36.4) = 2^-962.3 around float64's 2^-960
    (np.float32, -100, 11.4, 11.6), (np.float64, -960, 36.3, 36.4)])
def test_truncation_mass_limit_is_2_to_minus_100_in_float32_and_minus_960_in_float64(
        dtype, exponent, accepted, refused):
    def mass(a):
        return 0.5 * math.erfc(a / math.sqrt(2))
    assert mass(accepted) > 2.0 ** exponent > mass(refused)
    for a, b in ((accepted, np.inf), (-np.inf, -accepted)):
        w = fastinit.truncated_normal(16, a=a, b=b, dtype=dtype, seed=0)
        assert np.all(np.abs(w) >= dtype(accepted)) and np.all(np.isfinite(w))
    for a, b in ((refused, np.inf), (-np.inf, -refused), (refused, refused + 1)):
        with pytest.raises(ValueError, match=r"truncation interval \[a, b\]"):
            fastinit.truncated_normal(16, a=a, b=b, dtype=dtype, seed=0)


@pytest.mark.parametrize("name", ["xavier_uniform", "lecun_uniform"])
def test_zero_gain_in_a_uniform_scheme_gives_zeros_or_an_error_naming_gain(name):
    # gain=0 passes validation (gain must be "at least 0") and the normal schemes and
    # orthogonal turn it into zeros; a uniform scheme must do the same, or refuse it
    # with an error that names gain, not an anonymous "invalid parameters (low and high)"
    assert np.all(fastinit.xavier_normal((4, 5), gain=0.0, seed=0) == 0)
    assert np.all(fastinit.orthogonal((4, 5), gain=0.0, seed=0) == 0)
    try:
        w = getattr(fastinit, name)((4, 5), gain=0.0, seed=0)
    except ValueError as error:
        assert "gain" in str(error), f"{name}(gain=0) raised {error!r}"
    else:
        assert np.all(w == 0)
