"""The edges of what fastinit can index and allocate: element counts above 2**62 are an
OverflowError, arrays larger than the machine a MemoryError raised at once (nothing
touched), regions deep inside arrays of 2**44+ elements are computed alone and read the
stream words docs/stream.md names (also from Generators whose counter is about to carry
past 2**64 or reach the end of the 2**128-block stream), and the end of the stream is a
hard stop."""
import math
import os
import resource
import time

import numpy as np
import pytest
from scipy.special import ndtri

import fastinit

F32, F64 = np.dtype(np.float32), np.dtype(np.float64)
EPS32, EPS64 = 2.0 ** -23, 2.0 ** -52
# Phi^-1 tolerances, relative: AS241 PPND7 evaluated in float32 is within ~6 EPS32 of the
# true quantile of the spec's q, PPND16 in float64 within far less than 1e-13 (the same
# bounds tests/test_stream.py derives)
RTOL_Z = {F32: 6 * EPS32, F64: 1e-13}
STREAM_BLOCKS = 2 ** 128
QUICK_SECONDS = 1.0            # a refusal that takes longer has done work it should not


def physical_memory():
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def generator_at(seed, counter):
    g = fastinit.Generator(seed)
    g.state = {"key": g.state["key"], "counter": counter}
    return g


def words_per_element(dtype):
    return 1 if np.dtype(dtype) == F32 else 2


def blocks_of(n, dtype):
    return -(-n * words_per_element(dtype) // 4)


# ---------------------------------------------------------------- the spec, from words

def element_words(stream_words, key, start_block, flat_indices, dtype):
    """Words of the elements at flat_indices of a draw starting at start_block, one row
    per element (docs/stream.md section 3): word 4 s + i (float32) or words 4 s + 2 i and
    4 s + 2 i + 1 (float64), each from its own block of the reference Philox."""
    wpe = words_per_element(dtype)
    rows = []
    for i in flat_indices:
        first = 4 * start_block + wpe * int(i)
        block = first // 4
        words = stream_words(key, block, 2)          # an element never spans more than 2
        rows.append(words[first % 4:first % 4 + wpe])
    return np.array(rows, dtype=np.uint32)


def uniform_from_words(words, dtype):
    """uniform(0, 1) of docs/stream.md section 4, bit for bit (low = 0, span = 1)."""
    if np.dtype(dtype) == F32:
        u = (words[:, 0] >> np.uint32(8)).astype(np.float32) * np.float32(2.0 ** -24)
        return np.minimum(u, np.nextafter(np.float32(1), np.float32(0)))
    u = unit53(words)
    return np.minimum(u, np.nextafter(1.0, 0.0))


def unit53(words):
    w0 = words[:, 0].astype(np.uint64) >> np.uint64(5)
    w1 = words[:, 1].astype(np.uint64) >> np.uint64(6)
    return (w0 * np.uint64(2 ** 26) + w1).astype(np.float64) * 2.0 ** -53


def standard_normal_from_words(words, dtype):
    """normal(0, 1) of docs/stream.md section 4: Phi^-1 of the spec's exact q (by scipy's
    ndtri, in double)."""
    if np.dtype(dtype) == F32:
        w = words[:, 0]
        upper = w >= np.uint32(2 ** 31)
        m = np.where(upper, np.uint32(2 ** 32 - 1) - w, w)
        q = (m.astype(np.float32) + np.float32(0.5)) * np.float32(2.0 ** -32)
        z = ndtri(q.astype(np.float64))
        return np.where(upper, -z, z)
    u = unit53(words)
    return np.where(u < 0.5, ndtri(u + 2.0 ** -54), -ndtri((1.0 - u) - 2.0 ** -54))


def assert_values_from_words(name, got, words, dtype):
    if name == "uniform":
        assert got.reshape(-1).tobytes() == uniform_from_words(words, dtype).tobytes()
    else:
        z = standard_normal_from_words(words, dtype)
        x = got.reshape(-1).astype(np.float64)
        err = np.abs(x - z)
        assert np.all(err <= RTOL_Z[np.dtype(dtype)] * np.abs(z)), \
            f"worst error {err.max():.3g} at {int(np.argmax(err))}"


def flat_indices(shape, region):
    """Flat C-order indices, in region order, of the elements of full[region]."""
    ranges = [range(*s.indices(d)) for s, d in zip(region, shape)]
    grids = np.meshgrid(*[np.array(r, dtype=object) for r in ranges], indexing="ij")
    strides = [math.prod(shape[k + 1:]) for k in range(len(shape))]
    flat = sum(g * s for g, s in zip(grids, strides))
    return [int(i) for i in np.asarray(flat, dtype=object).reshape(-1)]


# ---------------------------------------------------------------- 2**62 elements

OVER_2_62 = [(2 ** 62 + 1,), (2 ** 31, 2 ** 31 + 1), (2 ** 21, 2 ** 21, 2 ** 21),
             (2 ** 16, 2 ** 16, 2 ** 16, 2 ** 16), (3, 2 ** 61), (2 ** 62, 2, 1)]


@pytest.mark.parametrize("shape", OVER_2_62, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("name", ["uniform", "normal", "truncated_normal", "xavier_uniform",
                                  "he_normal", "orthogonal"])
def test_more_than_2_to_62_elements_is_an_overflow_error_even_for_a_small_region(name, shape):
    g = fastinit.Generator(1)
    region = (slice(0, 1),)
    with pytest.raises(OverflowError, match=r"2\*\*62"):
        getattr(g, name)(shape, region=region)
    with pytest.raises(OverflowError, match=r"2\*\*62"):
        getattr(fastinit, name)(shape, seed=1)
    assert g.state["counter"] == 0


@pytest.mark.parametrize("size", OVER_2_62 + [2 ** 62 + 1, 2 ** 64], ids=str)
def test_random_raw_of_more_than_2_to_62_words_is_an_overflow_error(size):
    g = fastinit.Generator(1)
    with pytest.raises(OverflowError):
        g.random_raw(size)
    assert g.state["counter"] == 0


@pytest.mark.parametrize("dtype", [F32, F64], ids=["float32", "float64"])
@pytest.mark.parametrize("shape", [(2 ** 62,), (2 ** 31, 2 ** 31), (2 ** 20, 2 ** 21, 2 ** 21)],
                         ids=lambda s: "x".join(map(str, s)))
def test_exactly_2_to_62_elements_is_accepted_and_its_last_element_computed(
        stream_words, seed_key, shape, dtype):
    region = tuple(slice(d - 1, d) for d in shape)
    g = fastinit.Generator(17)
    got = g.uniform(shape, dtype=dtype, region=region)
    assert got.shape == (1,) * len(shape)
    assert g.state["counter"] == blocks_of(2 ** 62, dtype)
    words = element_words(stream_words, seed_key(17), 0, [2 ** 62 - 1], dtype)
    assert_values_from_words("uniform", got, words, dtype)


# ---------------------------------------------------------------- larger than memory

LARGER_THAN_MEMORY = [
    ("normal", (2 ** 40,), F32),                      # 4 TiB
    ("normal", (2 ** 36,), F64),                      # 512 GiB
    ("uniform", (2 ** 20, 2 ** 20), F32),
    ("truncated_normal", (2 ** 12, 2 ** 12, 2 ** 12), F64),
    ("xavier_uniform", (2 ** 18, 2 ** 18), F32),
    ("orthogonal", (2 ** 20, 2 ** 16), F32),          # its float64 matrix: 512 GiB
]


def max_rss_bytes():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


@pytest.mark.parametrize("name, shape, dtype", LARGER_THAN_MEMORY,
                         ids=[f"{n}-{'x'.join(map(str, s))}-{d}" for n, s, d in LARGER_THAN_MEMORY])
def test_an_array_larger_than_memory_is_a_memory_error_at_once_touching_nothing(name, shape,
                                                                                dtype):
    memory = physical_memory()
    nbytes = math.prod(shape) * (8 if name == "orthogonal" else dtype.itemsize)
    if memory is None or memory >= nbytes:
        pytest.skip("this machine's memory is unknown or large enough for the array")
    g = fastinit.Generator(5)
    rss_before = max_rss_bytes()
    started = time.perf_counter()
    with pytest.raises(MemoryError, match="memory"):
        getattr(g, name)(shape, dtype=dtype)
    with pytest.raises(MemoryError, match="memory"):
        getattr(fastinit, name)(shape, dtype=dtype, seed=5)
    assert time.perf_counter() - started < QUICK_SECONDS
    assert max_rss_bytes() - rss_before < 64 * 2 ** 20, "memory was touched"
    assert g.state["counter"] == 0


def test_random_raw_larger_than_memory_is_a_memory_error_at_once():
    memory = physical_memory()
    if memory is None or memory >= 2 ** 42:
        pytest.skip("this machine's memory is unknown or at least 4 TiB")
    g = fastinit.Generator(5)
    started = time.perf_counter()
    with pytest.raises(MemoryError, match="memory"):
        g.random_raw(2 ** 40)                           # 4 TiB of words
    assert time.perf_counter() - started < QUICK_SECONDS
    assert g.state["counter"] == 0


# ---------------------------------------------------------------- regions at huge offsets

HUGE = (2 ** 41, 8)                                    # 2**44 elements, 64 TiB in float32
HUGE_REGION = (slice(2 ** 40 + 5, 2 ** 40 + 9), slice(None))


@pytest.mark.parametrize("dtype", [F32, F64], ids=["float32", "float64"])
@pytest.mark.parametrize("name", ["uniform", "normal"])
def test_a_region_past_2_to_40_rows_is_the_stream_words_at_that_position(
        stream_words, seed_key, name, dtype):
    rss_before = max_rss_bytes()
    got = getattr(fastinit, name)(HUGE, region=HUGE_REGION, seed=3, dtype=dtype)
    assert got.shape == (4, 8) and got.dtype == dtype
    assert max_rss_bytes() - rss_before < 64 * 2 ** 20
    words = element_words(stream_words, seed_key(3), 0, flat_indices(HUGE, HUGE_REGION), dtype)
    assert_values_from_words(name, got, words, dtype)


def carry_counters(dtype):
    """Counters for a Generator drawing HUGE whose region's blocks straddle a carry out
    of the low 64 bits of the counter, near 2**64 and near the end of the stream, and the
    last counter from which the whole draw still fits in the stream."""
    first_region_block = (HUGE_REGION[0].start * HUGE[1] * words_per_element(dtype)) // 4
    total = blocks_of(math.prod(HUGE), dtype)
    return {
        "straddles-2**64": 2 ** 64 - first_region_block - 3,
        "straddles-2**128-2**64": STREAM_BLOCKS - 2 ** 64 - first_region_block - 3,
        "ends-at-2**128": STREAM_BLOCKS - total,
    }


@pytest.mark.parametrize("where", ["straddles-2**64", "straddles-2**128-2**64",
                                   "ends-at-2**128"])
@pytest.mark.parametrize("dtype", [F32, F64], ids=["float32", "float64"])
@pytest.mark.parametrize("name", ["uniform", "normal"])
def test_a_huge_region_from_a_generator_near_a_counter_carry_reads_the_right_words(
        stream_words, name, dtype, where):
    counter = carry_counters(dtype)[where]
    key = (0x01234567, 0x89ABCDEF)
    g = fastinit.Generator(0)
    g.state = {"key": key, "counter": counter}
    region = HUGE_REGION
    if where == "ends-at-2**128":
        region = (slice(HUGE[0] - 4, None), slice(None))  # the last blocks of the stream
    got = getattr(g, name)(HUGE, region=region, dtype=dtype)
    total = blocks_of(math.prod(HUGE), dtype)
    assert g.state["counter"] == counter + total
    words = element_words(stream_words, key, counter, flat_indices(HUGE, region), dtype)
    assert_values_from_words(name, got, words, dtype)
    if where == "ends-at-2**128":
        with pytest.raises(OverflowError, match="exhausted"):
            g.normal(1)
        assert g.state["counter"] == STREAM_BLOCKS


def test_a_region_of_a_huge_array_reserves_the_whole_array_even_at_the_end_of_the_stream():
    # one block fewer than the draw of HUGE takes: refused, though the region is tiny
    total = blocks_of(math.prod(HUGE), F32)
    g = generator_at(9, STREAM_BLOCKS - total + 1)
    with pytest.raises(OverflowError, match="exhausted"):
        g.normal(HUGE, region=HUGE_REGION)
    assert g.state["counter"] == STREAM_BLOCKS - total + 1


SCATTERED_SHAPE = (2 ** 21, 2 ** 21, 4)                # 2**44 elements
SCATTERED_REGION = (slice(2 ** 20 + 1, 2 ** 20 + 3), slice(2 ** 21 - 3, None), slice(1, 3))


@pytest.mark.parametrize("dtype", [F32, F64], ids=["float32", "float64"])
@pytest.mark.parametrize("name", ["uniform", "normal"])
def test_a_region_made_of_many_short_runs_at_huge_offsets_reads_each_runs_words(
        stream_words, name, dtype):
    # rows 2**20 + 1..2, their last 3 columns, 2 of 4 items: 6 runs of 2 elements, each
    # 2**23 elements apart, so the C core walks the outer dimensions at huge strides
    key = (7, 11)
    g = fastinit.Generator(0)
    g.state = {"key": key, "counter": 2 ** 64 - 5}
    got = getattr(g, name)(SCATTERED_SHAPE, region=SCATTERED_REGION, dtype=dtype)
    assert got.shape == (2, 3, 2)
    indices = flat_indices(SCATTERED_SHAPE, SCATTERED_REGION)
    words = element_words(stream_words, key, 2 ** 64 - 5, indices, dtype)
    assert_values_from_words(name, got, words, dtype)


@pytest.mark.parametrize("dtype", [F32, F64], ids=["float32", "float64"])
def test_a_region_of_a_huge_array_split_over_threads_is_the_stream_words(stream_words, seed_key,
                                                                         dtype):
    # 600 rows of 1024 at row 2**39 + 7 of a 2**49-element array: 614400 elements, which
    # the C core splits over threads, each part at an offset near 2**48
    shape = (2 ** 39, 1024)
    region = (slice(2 ** 38 + 7, 2 ** 38 + 607), slice(None))
    one = fastinit.uniform(shape, region=region, seed=31, dtype=dtype, threads=1)
    for threads in (2, 3):
        got = fastinit.uniform(shape, region=region, seed=31, dtype=dtype, threads=threads)
        assert got.tobytes() == one.tobytes(), f"threads={threads}"
    wpe = words_per_element(dtype)
    first_word = (2 ** 38 + 7) * 1024 * wpe              # a multiple of 4: whole blocks
    words = stream_words(seed_key(31), first_word // 4, one.size * wpe // 4)
    expected = uniform_from_words(words.reshape(-1, wpe), dtype)
    assert one.reshape(-1).tobytes() == expected.tobytes()


# ---------------------------------------------------------------- the end of the stream

def test_random_raw_up_to_the_last_block_of_the_stream_then_overflow_error(philox_block):
    key = (0xCAFEF00D, 0x0BADBEEF)
    g = fastinit.Generator(0)
    g.state = {"key": key, "counter": STREAM_BLOCKS - 5}
    with pytest.raises(OverflowError, match="exhausted"):
        g.random_raw(21)                                # 6 blocks, 5 left
    assert g.state["counter"] == STREAM_BLOCKS - 5
    got = g.random_raw(20)
    expected = []
    for b in range(STREAM_BLOCKS - 5, STREAM_BLOCKS):  # the last is counter 2**128 - 1
        expected += philox_block([(b >> (32 * j)) & 0xFFFFFFFF for j in range(4)], key)
    assert [int(w) for w in got] == expected
    assert g.state["counter"] == STREAM_BLOCKS
    for size in (1, None, (2, 2)):
        with pytest.raises(OverflowError, match="exhausted"):
            g.random_raw(size)
    assert g.state["counter"] == STREAM_BLOCKS


EMPTY_DRAWS = {
    "random_raw(0)": lambda g: g.random_raw(0),
    "normal(0)": lambda g: g.normal(0),
    "uniform((0, 5))": lambda g: g.uniform((0, 5), dtype=np.float64),
    "xavier_uniform((0, 5))": lambda g: g.xavier_uniform((0, 5)),
    "orthogonal((0, 5))": lambda g: g.orthogonal((0, 5)),
}


@pytest.mark.parametrize("draw", EMPTY_DRAWS.values(), ids=EMPTY_DRAWS.keys())
def test_an_empty_draw_from_an_exhausted_generator_is_empty_or_the_exhausted_error(draw):
    # An empty draw takes no blocks, so at counter 2**128 (a state the setter accepts and
    # drawing the last block leaves) it passes no end: it returns an empty array, or at
    # most refuses with the documented "exhausted" error, never an internal conversion
    # error of the 128-bit counter ("Python int too large to convert to C unsigned long",
    # which the first version raised: fixed in 7a54b9b).
    g = generator_at(4, STREAM_BLOCKS)
    try:
        got = draw(g)
    except OverflowError as error:
        assert "exhausted" in str(error), f"raised {error!r}"
    else:
        assert got.size == 0
    assert g.state["counter"] == STREAM_BLOCKS


def test_random_raw_of_a_partial_last_block_takes_the_whole_block_then_stops():
    g = generator_at(4, STREAM_BLOCKS - 1)
    assert g.random_raw(3).size == 3
    assert g.state["counter"] == STREAM_BLOCKS
    with pytest.raises(OverflowError, match="exhausted"):
        g.random_raw(1)


# ---------------------------------------------------------------- float range

@pytest.mark.parametrize("name, kwargs, argument", [
    ("xavier_uniform", {"gain": 1e-50}, "gain"),
    ("lecun_uniform", {"gain": 1e-60}, "gain"),
    ("he_uniform", {"fan_in": 1e300, "fan_out": 1}, "fan"),
    ("variance_scaling", {"scale": 1e-300, "distribution": "uniform"}, "scale"),
])
def test_uniform_scheme_whose_bound_underflows_float32_gives_zeros_or_an_error_naming_it(
        name, kwargs, argument):
    # A positive gain (or scale, or fan) can make a uniform scheme's bound
    # sqrt(3 variance) smaller than float32's smallest subnormal.  The normal schemes
    # return zeros for the same arguments, as every scheme does for gain=0
    # (test_bad_input.py); a uniform scheme must do the same or refuse with an error that
    # names the argument, not "low and high (or mean and std) do not fit in float32",
    # arguments the caller never passed (as the first version did: fixed in 7a54b9b).
    normal_name = name.replace("uniform", "normal")
    normal_kwargs = {k: v for k, v in kwargs.items() if k != "distribution"}
    if name == "variance_scaling":
        normal_kwargs["distribution"] = "normal"
    assert np.all(getattr(fastinit, normal_name)((4, 5), seed=0, **normal_kwargs) == 0)
    try:
        w = getattr(fastinit, name)((4, 5), seed=0, **kwargs)
    except ValueError as error:
        assert argument in str(error), f"{name}({kwargs}) raised {error!r}"
    else:
        assert np.all(w == 0)


def test_orthogonal_with_a_gain_beyond_float32_is_refused_like_the_normal_schemes():
    # The normal and uniform schemes refuse a gain whose scale does not fit the output
    # dtype (test_bad_input.py, "std-over-float32").  orthogonal computes in float64 and
    # casts gain * Q to float32 at the end: in the first version a gain above float32's
    # largest value turned into +-inf there (with NumPy's "overflow encountered in cast"
    # warning) instead of an error (fixed in 7a54b9b).
    with pytest.raises(ValueError):
        fastinit.xavier_normal((4, 5), gain=1e39, seed=0)
    try:
        with np.errstate(over="ignore"):
            w = fastinit.orthogonal((4, 5), gain=1e39, seed=0)
    except ValueError as error:
        assert "gain" in str(error), f"raised {error!r}"
    else:
        infinite = int(np.count_nonzero(~np.isfinite(w)))
        assert infinite == 0, f"{infinite} of 20 values are inf"
