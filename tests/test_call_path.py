"""The call path of the module functions: the cached plan of a common call gives the same
bits as the uncached path and never lets an invalid argument through, errors name what the
caller wrote (the function called, the in-place forms' `array`), threads are clamped as
documented, and the in-place forms document their scheme."""
import inspect

import numpy as np
import pytest

import fastinit
from fastinit import _arrays, _generator

SCHEMES = ("variance_scaling", "lecun_uniform", "lecun_normal", "xavier_uniform",
           "xavier_normal", "he_uniform", "he_normal")
ALL = SCHEMES + ("uniform", "normal", "truncated_normal", "orthogonal")
SENTINEL = -7.0


# ---------------------------------------------------------------- the cached plan

@pytest.mark.parametrize("name", SCHEMES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cached_call_gives_the_bits_of_the_uncached_paths(name, dtype):
    shape = (3, 5, 7)
    new = getattr(fastinit, name)(shape, dtype=dtype, seed=11)
    again = getattr(fastinit, name)(shape, dtype=dtype, seed=11)       # a cache hit
    # out= and region= never use the cache: they run the validation step by step
    out = np.full(shape, SENTINEL, dtype=dtype)
    getattr(fastinit, name)(shape, out=out, seed=11)
    whole = getattr(fastinit, name)(shape, dtype=dtype, seed=11, region=(slice(None),))
    assert new.tobytes() == again.tobytes() == out.tobytes() == whole.tobytes()


def test_cached_call_takes_successive_parts_of_a_generator_stream():
    g, h = fastinit.Generator(5), fastinit.Generator(5)
    first, second = g.he_normal((4, 4), fan_in=8), g.he_normal((4, 4), fan_in=8)
    both = h.he_normal((2, 4, 4), fan_in=8)
    assert first.tobytes() + second.tobytes() == both.tobytes()


# each: (valid keywords, the same keywords with a value that compares equal but is invalid)
EQUAL_BUT_INVALID = [
    pytest.param("xavier_uniform", {"gain": 1}, {"gain": True}, TypeError, "gain", id="gain-bool"),
    pytest.param("he_normal", {"a": 0}, {"a": False}, TypeError, "a", id="a-bool"),
    pytest.param("he_normal", {"truncated": True}, {"truncated": 1}, TypeError, "truncated",
                 id="truncated-int"),
    pytest.param("lecun_normal", {"fan_in": 4}, {"fan_in": True}, TypeError, "fan_in",
                 id="fan_in-bool"),
    pytest.param("xavier_normal", {"in_axis": 0, "out_axis": 1}, {"in_axis": 0.0, "out_axis": 1},
                 TypeError, "in_axis", id="in_axis-float"),
    pytest.param("variance_scaling", {"scale": 2}, {"scale": True}, TypeError, "scale",
                 id="scale-bool"),
]


@pytest.mark.parametrize("name, valid, invalid, error, match", EQUAL_BUT_INVALID)
def test_a_cached_valid_call_lets_no_equal_invalid_argument_through(name, valid, invalid,
                                                                   error, match):
    function = getattr(fastinit, name)
    function((4, 6), seed=0, **valid)
    for _ in range(2):                 # and the error is raised again, not remembered
        with pytest.raises(error, match=match):
            function((4, 6), seed=0, **invalid)


@pytest.mark.parametrize("bad_shape", [(4.0, 6), (True, 6), (4, np.float64(6))])
def test_a_cached_shape_lets_no_equal_invalid_shape_through(bad_shape):
    fastinit.he_uniform((4, 6), seed=0)
    fastinit.he_uniform((1, 6), seed=0)
    for _ in range(2):
        with pytest.raises(TypeError, match="shape"):
            fastinit.he_uniform(bad_shape, seed=0)


def test_unhashable_arguments_take_the_uncached_path():
    a = fastinit.xavier_normal((2, 3, 4), in_axis=[0, 1], out_axis=[2], seed=3)
    b = fastinit.xavier_normal((2, 3, 4), in_axis=(0, 1), out_axis=(2,), seed=3)
    assert a.tobytes() == b.tobytes()


def test_an_int_seed_generator_spawns_as_its_seed_sequence():
    children = fastinit.Generator(42).spawn(2)
    expected = np.random.SeedSequence(42).spawn(2)
    for child, seq in zip(children, expected):
        assert child.state["key"] == tuple(int(k) for k in seq.generate_state(2, np.uint32))


# ---------------------------------------------------------------- errors name what was written

@pytest.mark.parametrize("name", ALL)
def test_a_misspelled_keyword_names_the_module_function(name):
    with pytest.raises(TypeError) as info:
        getattr(fastinit, name)((4, 4), gian=2.0, seed=0)
    message = str(info.value)
    assert message.startswith(f"{name}() got an unexpected keyword argument 'gian'")
    assert "Generator" not in message


@pytest.mark.parametrize("name", ALL)
def test_a_misspelled_keyword_names_the_in_place_function(name):
    array = np.full((4, 4), SENTINEL, dtype=np.float32)
    with pytest.raises(TypeError, match=rf"^{name}_\(\) got an unexpected keyword argument"):
        getattr(fastinit, name + "_")(array, gian=2.0, seed=0)
    assert np.all(array == SENTINEL)


def _read_only():
    array = np.full((4, 4), SENTINEL, dtype=np.float32)
    array.flags.writeable = False
    return array


def _unaligned():
    buffer = np.zeros(4 * 4 * 4 + 1, dtype=np.uint8)
    return buffer[1:].view(np.float32).reshape(4, 4)


BAD_ARRAYS = [
    pytest.param(lambda: [[0.0] * 4] * 4, TypeError, "array must be a numpy.ndarray", id="list"),
    pytest.param(lambda: np.zeros((4, 4), np.int32), TypeError, "array has dtype int32",
                 id="int32"),
    pytest.param(lambda: np.zeros((4, 4), ">f4"), TypeError, "array has dtype >f4",
                 id="byte-swapped"),
    pytest.param(lambda: np.zeros((4, 8), np.float32)[:, ::2], ValueError,
                 "array must be C-contiguous", id="strided"),
    pytest.param(_read_only, ValueError, "array must be writable", id="read-only"),
    pytest.param(_unaligned, ValueError, "array must be aligned", id="unaligned"),
]


@pytest.mark.parametrize("make, error, match", BAD_ARRAYS)
@pytest.mark.parametrize("name", ["xavier_uniform", "he_normal", "normal", "truncated_normal",
                                  "orthogonal"])
def test_in_place_errors_name_the_array_argument(name, make, error, match):
    array = make()
    before = np.array(array, copy=True) if isinstance(array, np.ndarray) else None
    with pytest.raises(error, match=match) as info:
        getattr(fastinit, name + "_")(array, seed=0)
    assert "out" not in str(info.value)
    if before is not None:
        assert before.tobytes() == array.tobytes()


def test_new_array_errors_still_name_out():
    with pytest.raises(ValueError, match="out must be C-contiguous"):
        fastinit.he_normal((4, 4), out=np.zeros((4, 8), np.float32)[:, ::2], seed=0)


# ---------------------------------------------------------------- threads

def test_threads_beyond_the_cpus_are_clamped_to_them():
    assert _arrays.resolve_threads(10000) == _arrays.max_threads()
    assert _arrays.resolve_threads(1) == 1
    assert _arrays.max_threads() >= 1


def test_threads_10000_draws_the_same_values():
    many = fastinit.xavier_uniform((512, 600), threads=10000, seed=1)
    one = fastinit.xavier_uniform((512, 600), threads=1, seed=1)
    assert many.tobytes() == one.tobytes()


@pytest.mark.parametrize("name", ["xavier_uniform", "xavier_uniform_", "normal", "he_normal_"])
def test_the_clamp_is_documented(name):
    doc = " ".join(getattr(fastinit, name).__doc__.split())
    assert "more are clamped to that" in doc


# ---------------------------------------------------------------- in-place docstrings

@pytest.mark.parametrize("name", ALL)
def test_in_place_docstring_carries_the_scheme_text(name):
    in_place = getattr(fastinit, name + "_").__doc__
    scheme_text = inspect.cleandoc(_generator.SCHEME_DOCS[name])
    # every line of the scheme's own documentation (formula, arguments) is there
    for line in scheme_text.splitlines():
        assert line.strip() in in_place
    assert in_place.startswith(f"{name}_(array, ...)")
    assert "Common keywords" not in in_place        # dtype, out and region are not taken


@pytest.mark.parametrize("name", ALL)
def test_in_place_signature_is_the_scheme_less_out_dtype_region(name):
    new = inspect.signature(getattr(fastinit, name)).parameters
    in_place = inspect.signature(getattr(fastinit, name + "_")).parameters
    assert list(in_place)[0] == "array"
    assert list(in_place)[1:] == [p for p in list(new)[1:] if p not in ("out", "dtype", "region")]
    for p in list(in_place)[1:]:
        assert in_place[p].default == new[p].default
