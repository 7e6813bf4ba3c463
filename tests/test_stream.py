"""docs/stream.md, recomputed without fastinit's code: the key from numpy's SeedSequence,
the words from the KAT-verified pure-Python Philox of conftest.py, and the values from
the formulas of section 4 evaluated with NumPy (IEEE float32 / float64, one rounding
per operation, as the spec demands) and scipy.special.ndtri for Phi^-1."""
import math

import numpy as np
import pytest
from scipy.special import ndtri

import fastinit

F32, F64 = np.dtype(np.float32), np.dtype(np.float64)
EPS32, EPS64 = 2.0 ** -23, 2.0 ** -52

# Phi^-1 tolerances.  float32: AS241's PPND7 is accurate to about 1.3e-7 relative
# (~1.1 EPS32) before rounding, and its float32 evaluation adds about ten roundings of
# 0.5 EPS32 each (q - 1/2, the two 4-term polynomials, the log / sqrt of the tail
# branches, the final product and quotient), each with condition number ~1: 6 EPS32
# bounds the total (observed: ~3.2 EPS32), while a wrong word, branch or sign is off
# by far more.  float64: PPND16 is good to ~1e-16 and scipy's ndtri to a few EPS64;
# 1e-13 leaves room for both yet is 10^6 times tighter than PPND7 would reach.
RTOL_Z = {F32: 6 * EPS32, F64: 1e-13}
# Truncated normal only: P and Q are near 1/2 when z is near 0, where one rounding of
# Phi(a) or M between this test's math.erfc and the C library's erfc moves P by one ulp
# of 1/2 (2^-24 in float32, 2^-53 in float64) and z by that over phi(0) = 0.399.
ATOL_TRUNCATED_Z = {F32: 2.0 ** -24 / 0.39, F64: 2.0 ** -53 / 0.39 * 4}


def blocks_of(n, dtype):
    """Blocks a draw of n elements takes: ceil(n / 4) float32, ceil(n / 2) float64."""
    return -(-n // 4) if np.dtype(dtype) == F32 else -(-n // 2)


def element_words(stream_words, key, start_block, n, dtype):
    """The words of elements 0..n-1 of a draw at start_block: n for float32 (element i
    reads word 4 s + i), 2n for float64 (words 4 s + 2 i, 4 s + 2 i + 1)."""
    words = stream_words(key, start_block, blocks_of(n, dtype))
    return words[:n] if np.dtype(dtype) == F32 else words[:2 * n]


def uniform53(words):
    """u = ((w0 >> 5) 2^26 + (w1 >> 6)) 2^-53: exact, an integer below 2^53 times 2^-53."""
    w0 = words[0::2].astype(np.uint64) >> np.uint64(5)
    w1 = words[1::2].astype(np.uint64) >> np.uint64(6)
    return (w0 * np.uint64(2 ** 26) + w1).astype(np.float64) * 2.0 ** -53


def uniform_from_words(words, low, high, dtype):
    """Section 4, uniform(low, high), bit for bit."""
    if np.dtype(dtype) == F32:
        u = (words >> np.uint32(8)).astype(np.float32) * np.float32(2.0 ** -24)
        x = np.float32(low) + np.float32(high - low) * u      # span: the difference in double
        return np.minimum(x, np.nextafter(np.float32(high), np.float32(-np.inf)))
    x = np.float64(low) + np.float64(high - low) * uniform53(words)
    return np.minimum(x, np.nextafter(np.float64(high), -np.inf))


def standard_normal_from_words(words, dtype):
    """Section 4, normal(0, 1): z in double from the exact q of the spec."""
    if np.dtype(dtype) == F32:
        upper = words >= np.uint32(2 ** 31)
        m = np.where(upper, np.uint32(2 ** 32 - 1) - words, words)
        q = (m.astype(np.float32) + np.float32(0.5)) * np.float32(2.0 ** -32)
        z = ndtri(q.astype(np.float64))
        return np.where(upper, -z, z)
    u = uniform53(words)
    lower = u < 0.5
    return np.where(lower, ndtri(u + 2.0 ** -54), -ndtri((1.0 - u) - 2.0 ** -54))


def normal_cdf(x):
    return 0.5 * math.erfc(-x / math.sqrt(2))


def normal_sf(x):
    return 0.5 * math.erfc(x / math.sqrt(2))


def truncated_standard_normal_from_words(words, a, b, dtype):
    """Section 4, truncated_normal(0, 1, a, b): P and Q in the output precision as the
    spec says, z in double."""
    if a >= 0:
        mass = normal_sf(a) - normal_sf(b)
    elif b <= 0:
        mass = normal_cdf(b) - normal_cdf(a)
    else:
        mass = 1.0 - normal_cdf(a) - normal_sf(b)
    t = np.float32 if np.dtype(dtype) == F32 else np.float64
    A, B_, M = t(normal_cdf(a)), t(normal_sf(b)), t(mass)
    if t is np.float32:
        v = ((words >> np.uint32(9)).astype(np.float32) * np.float32(2) + np.float32(1)) \
            * np.float32(2.0 ** -24)
        one_minus_v = np.float32(1) - v
    else:
        u = uniform53(words)
        v, one_minus_v = u + 2.0 ** -54, (1.0 - u) - 2.0 ** -54
    P = A + v * M
    Q = B_ + one_minus_v * M
    z = np.where(P < Q, ndtri(P.astype(np.float64)), -ndtri(Q.astype(np.float64)))
    return np.clip(z, float(t(a)), float(t(b)))


def assert_z_close(x, z, dtype, atol=0.0):
    x = np.asarray(x, dtype=np.float64)
    err = np.abs(x - z)
    bound = RTOL_Z[np.dtype(dtype)] * np.abs(z) + atol
    worst = int(np.argmax(err - bound))
    assert np.all(err <= bound), (
        f"element {worst}: got {x[worst]!r}, reference {z[worst]!r}, "
        f"error {err[worst]:.3g} > {bound[worst]:.3g}")


def generator_at(seed, counter):
    g = fastinit.Generator(seed)
    g.state = {"key": g.state["key"], "counter": counter}
    return g


# Draw positions: block 0, and counters whose draws carry out of c0, c1 and c2.
STARTS = [0, 2 ** 32 - 3, 2 ** 64 - 1, 2 ** 96 - 2]
SIZES = [1, 3, 17, 1000]


# ---------------------------------------------------------------- key and words

@pytest.mark.parametrize("seed", [0, 1, 12345, 2 ** 64 + 3])
def test_key_is_seed_sequence_generate_state_2_uint32(seed_key, seed):
    assert tuple(fastinit.bits.key_from_seed(seed)) == seed_key(seed)
    assert tuple(fastinit.Generator(seed).state["key"]) == seed_key(seed)


def test_key_of_a_seed_sequence_is_its_generate_state():
    ss = np.random.SeedSequence(2024)
    expected = tuple(int(k) for k in ss.generate_state(2, dtype=np.uint32))
    assert tuple(fastinit.bits.key_from_seed(ss)) == expected
    assert tuple(fastinit.Generator(ss).state["key"]) == expected


@pytest.mark.parametrize("seed", [0, 1, 12345])
def test_random_raw_is_the_words_of_blocks_0_1_2_in_order(philox_block, seed_key, seed):
    key = seed_key(seed)
    expected = []
    for b in range(25):
        expected += philox_block([b, 0, 0, 0], key)
    assert [int(w) for w in fastinit.Generator(seed).random_raw(100)] == expected


@pytest.mark.parametrize("counter", [2 ** 32 - 1, 2 ** 32 - 2, 2 ** 64 - 1, 2 ** 64 - 3,
                                     2 ** 96 - 1, 2 ** 96 + 2 ** 64 - 1, 2 ** 128 - 4])
def test_random_raw_counter_carries_into_c1_c2_c3(philox_block, counter):
    key = (0xDEADBEEF, 0x01234567)
    g = fastinit.Generator(0)
    g.state = {"key": key, "counter": counter}
    expected = []
    for b in range(counter, counter + 4):
        expected += philox_block([(b >> (32 * j)) & 0xFFFFFFFF for j in range(4)], key)
    assert [int(w) for w in g.random_raw(16)] == expected


def test_random_raw_of_a_large_draw_is_the_reference_stream(stream_words, seed_key):
    # 2**16 + 3 words: several of the C core's 512-block buffers and a partial block
    n = 2 ** 16 + 3
    got = fastinit.Generator(99).random_raw(n)
    np.testing.assert_array_equal(got, stream_words(seed_key(99), 0, blocks_of(n, F32))[:n])


def test_random_raw_without_size_is_word_0_of_the_next_block(philox_block, seed_key):
    g = fastinit.Generator(5)
    key = seed_key(5)
    assert g.random_raw() == philox_block([0, 0, 0, 0], key)[0]
    assert g.random_raw() == philox_block([1, 0, 0, 0], key)[0]


# ---------------------------------------------------------------- uniform, bit for bit

UNIFORM_RANGES = [(0.0, 1.0), (-3.5, 2.25), (-1e-3, 7.0), (1e4, 1e4 + 3.0)]


@pytest.mark.parametrize("dtype", [F32, F64], ids=["float32", "float64"])
@pytest.mark.parametrize("low, high", UNIFORM_RANGES)
@pytest.mark.parametrize("start", STARTS)
def test_uniform_values_are_the_documented_function_of_the_words(stream_words, seed_key,
                                                                  dtype, low, high, start):
    seed = 31
    for n in SIZES:
        got = generator_at(seed, start).uniform(n, low, high, dtype=dtype)
        words = element_words(stream_words, seed_key(seed), start, n, dtype)
        expected = uniform_from_words(words, low, high, dtype)
        assert got.dtype == dtype
        assert got.tobytes() == expected.tobytes(), f"n={n}"


@pytest.mark.parametrize("dtype", [F32, F64], ids=["float32", "float64"])
def test_uniform_replaces_values_that_round_up_to_high_by_the_float_below_high(
        stream_words, seed_key, dtype):
    # On [1, 1 + 4 ulp) every u >= 7/8 makes low + span u round to high itself, so the
    # min(x, nextbelow(high)) of the spec decides an eighth of the values.
    t = dtype.type
    # t(...) around the sum: NumPy 1.x (no NEP 50) would promote it to float64
    low, high = t(1.0), t(t(1.0) + 4 * np.spacing(t(1.0)))
    n = 4096
    got = fastinit.uniform(n, float(low), float(high), dtype=dtype, seed=8)
    words = element_words(stream_words, seed_key(8), 0, n, dtype)
    if dtype == F32:
        u = (words >> np.uint32(8)).astype(np.float32) * np.float32(2.0 ** -24)
    else:
        u = uniform53(words)
    uncapped = low + (high - low) * u
    assert np.count_nonzero(uncapped == high) > n // 16     # expected n / 8: the cap is used
    below_high = np.nextafter(high, t(0))
    assert got.tobytes() == np.minimum(uncapped, below_high).tobytes()
    assert got.max() == below_high


# ---------------------------------------------------------------- normal, to the stated tolerance

@pytest.mark.parametrize("dtype", [F32, F64], ids=["float32", "float64"])
@pytest.mark.parametrize("start", STARTS)
def test_standard_normal_values_are_phi_inverse_of_the_documented_p(stream_words, seed_key,
                                                                    dtype, start):
    seed = 41
    for n in SIZES:
        got = generator_at(seed, start).normal(n, dtype=dtype)
        words = element_words(stream_words, seed_key(seed), start, n, dtype)
        assert got.dtype == dtype
        assert_z_close(got, standard_normal_from_words(words, dtype), dtype)


@pytest.mark.parametrize("dtype", [F32, F64], ids=["float32", "float64"])
def test_standard_normal_matches_phi_inverse_over_a_million_values(stream_words, seed_key,
                                                                   dtype):
    # enough values to reach |z| ~ 5, all three AS241 branches
    n = 2 ** 20
    got = fastinit.normal(n, dtype=dtype, seed=43)
    z = standard_normal_from_words(element_words(stream_words, seed_key(43), 0, n, dtype), dtype)
    assert np.abs(z).max() > 4.5
    assert_z_close(got, z, dtype)


@pytest.mark.parametrize("dtype", [F32, F64], ids=["float32", "float64"])
@pytest.mark.parametrize("mean, std", [(0.5, 2.0), (-3.0, 0.01), (100.0, 7.5), (0.0, 0.0)])
def test_normal_is_mean_plus_std_times_the_standard_value_in_the_output_precision(
        dtype, mean, std):
    t = dtype.type
    z = fastinit.normal(1001, dtype=dtype, seed=47)
    got = fastinit.normal(1001, mean, std, dtype=dtype, seed=47)
    assert got.tobytes() == (t(mean) + t(std) * z).tobytes()


# ---------------------------------------------------------------- truncated normal

TRUNCATIONS = [(-2.0, 2.0), (-1.0, 3.0), (-np.inf, 0.5), (0.3, np.inf), (2.5, 4.0),
               (-4.0, -2.5), (-np.inf, np.inf), (7.0, 8.0), (-0.01, 0.01)]
# far tails, where min(P, Q) is tiny and AS241's r > 5 branch runs: near the smallest
# masses each precision accepts (2^-100 float32, 2^-960 float64)
FAR_TAIL_TRUNCATIONS = [(F32, 11.0, 12.0), (F32, -12.0, -11.0), (F32, 10.0, np.inf),
                        (F64, 20.0, 30.0), (F64, -36.0, -35.0), (F64, 35.0, np.inf)]
TRUNCATION_CASES = [(d, a, b) for d in (F32, F64) for a, b in TRUNCATIONS] + \
    FAR_TAIL_TRUNCATIONS


@pytest.mark.parametrize("dtype, a, b", TRUNCATION_CASES,
                         ids=[f"{d.name}-{a}-{b}" for d, a, b in TRUNCATION_CASES])
def test_truncated_normal_values_are_the_documented_inverse_cdf(stream_words, seed_key,
                                                                dtype, a, b):
    seed, n = 53, 20000
    for start in (0, 2 ** 32 - 3):
        got = generator_at(seed, start).truncated_normal(n, a=a, b=b, dtype=dtype)
        words = element_words(stream_words, seed_key(seed), start, n, dtype)
        z = truncated_standard_normal_from_words(words, a, b, dtype)
        assert_z_close(got, z, dtype, atol=ATOL_TRUNCATED_Z[dtype])


def support_bound(value, dtype, up):
    """The value of dtype nearest to `value` (a double) on its inner side: the smallest
    >= value (up) or the largest <= value; infinite values stay infinite."""
    v = dtype.type(value)
    if np.isfinite(value) and (float(v) < value if up else float(v) > value):
        v = np.nextafter(v, dtype.type(np.inf if up else -np.inf))
    return v


@pytest.mark.parametrize("dtype", [F32, F64], ids=["float32", "float64"])
@pytest.mark.parametrize("mean, std, a, b", [(0.5, 2.0, -1.0, 3.0), (-3.0, 0.01, 2.5, 4.0),
                                             (10.0, 3.0, -np.inf, 0.0), (1.0, 0.0, -2.0, 2.0),
                                             (-7.3, 0.02, 5.0, 10.0), (0.1, 0.3, -0.2, 1.7)])
def test_truncated_normal_is_mean_plus_std_times_the_standard_value(dtype, mean, std, a, b):
    # section 4: x = mean + std z, clamped to the values of the format inside
    # [mean + a std, mean + b std] (taken in double), for std > 0
    t = dtype.type
    z = fastinit.truncated_normal(9999, a=a, b=b, dtype=dtype, seed=59)
    got = fastinit.truncated_normal(9999, mean, std, a, b, dtype=dtype, seed=59)
    expected = t(mean) + t(std) * z
    if std > 0:
        lo = support_bound(mean + a * std, dtype, up=True)
        hi = support_bound(mean + b * std, dtype, up=False)
        expected = np.minimum(np.maximum(expected, lo), hi)
    assert got.tobytes() == expected.tobytes()


# ---------------------------------------------------------------- where a draw starts

DRAWS = {
    "uniform": lambda g, n, dtype: g.uniform(n, -1.0, 3.0, dtype=dtype),
    "normal": lambda g, n, dtype: g.normal(n, 0.0, 1.0, dtype=dtype),
    "truncated_normal": lambda g, n, dtype: g.truncated_normal(n, 0.0, 1.0, -1.5, 2.0,
                                                               dtype=dtype),
}


def reference_values(name, words, dtype):
    if name == "uniform":
        return uniform_from_words(words, -1.0, 3.0, dtype)
    if name == "normal":
        return standard_normal_from_words(words, dtype)
    return truncated_standard_normal_from_words(words, -1.5, 2.0, dtype)


def assert_values_from_words(name, got, words, dtype):
    expected = reference_values(name, words, dtype)
    if name == "uniform":
        assert got.tobytes() == expected.tobytes()
    else:
        assert_z_close(got, expected, dtype, atol=ATOL_TRUNCATED_Z[dtype])


@pytest.mark.parametrize("dtype", [F32, F64], ids=["float32", "float64"])
@pytest.mark.parametrize("name", DRAWS)
@pytest.mark.parametrize("first_n", [1, 2, 3, 4, 5, 7, 8, 9, 10])
def test_second_draw_starts_at_the_block_after_the_first_draws_blocks(
        stream_words, seed_key, dtype, name, first_n):
    seed = 61
    g = fastinit.Generator(seed)
    DRAWS[name](g, first_n, dtype)
    assert g.state["counter"] == blocks_of(first_n, dtype)
    second = DRAWS[name](g, 11, dtype)
    start = blocks_of(first_n, dtype)
    assert_values_from_words(name, second, element_words(stream_words, seed_key(seed), start,
                                                         11, dtype), dtype)
    assert g.state["counter"] == start + blocks_of(11, dtype)


@pytest.mark.parametrize("dtype", [F32, F64], ids=["float32", "float64"])
@pytest.mark.parametrize("name", DRAWS)
@pytest.mark.parametrize("shape", [(), (1,), (5,), (3, 7), (2, 3, 5)])
def test_a_draw_takes_ceil_n_over_4_or_n_over_2_blocks_whatever_its_shape(dtype, name, shape):
    g = fastinit.Generator(67)
    DRAWS[name](g, shape, dtype)
    assert g.state["counter"] == blocks_of(math.prod(shape), dtype)


@pytest.mark.parametrize("dtype", [F32, F64], ids=["float32", "float64"])
@pytest.mark.parametrize("name", DRAWS)
def test_module_function_with_int_seed_is_generators_first_draw(dtype, name):
    function = getattr(fastinit, name)
    kwargs = {"uniform": dict(low=-1.0, high=3.0), "normal": {},
              "truncated_normal": dict(a=-1.5, b=2.0)}[name]
    for seed in (0, 71, 2 ** 40):
        expected = DRAWS[name](fastinit.Generator(seed), (6, 7), dtype)
        got = function((6, 7), dtype=dtype, seed=seed, **kwargs)
        assert got.tobytes() == expected.tobytes()
        # and it is pure: calling again gives the same array, not the next one
        assert function((6, 7), dtype=dtype, seed=seed, **kwargs).tobytes() == expected.tobytes()


@pytest.mark.parametrize("dtype", [F32, F64], ids=["float32", "float64"])
@pytest.mark.parametrize("name", DRAWS)
def test_elements_are_read_in_flat_c_order(stream_words, seed_key, dtype, name):
    g = fastinit.Generator(73)
    got = DRAWS[name](g, (3, 4, 5), dtype)
    assert got.shape == (3, 4, 5) and got.flags.c_contiguous
    words = element_words(stream_words, seed_key(73), 0, 60, dtype)
    assert_values_from_words(name, got.reshape(-1), words, dtype)


@pytest.mark.parametrize("dtype", [F32, F64], ids=["float32", "float64"])
@pytest.mark.parametrize("name", DRAWS)
def test_a_0d_draw_is_element_0_of_its_block(stream_words, seed_key, dtype, name):
    got = DRAWS[name](fastinit.Generator(79), (), dtype)
    assert got.shape == () and got.dtype == dtype
    words = element_words(stream_words, seed_key(79), 0, 1, dtype)
    assert_values_from_words(name, got.reshape(1), words, dtype)


@pytest.mark.parametrize("dtype", [F32, F64], ids=["float32", "float64"])
def test_a_region_far_into_a_huge_shape_reads_the_far_words(stream_words, seed_key, dtype):
    # element i of a draw reads word 4 s + i (float32) or 4 s + 2 i (float64) even when
    # i is near 2**62: only the region is evaluated, the counter arithmetic is 64-bit
    n = 2 ** 62
    tail = 6
    got = fastinit.uniform((n,), dtype=dtype, seed=83, region=(slice(n - tail, None),))
    words_per_element = 1 if dtype == F32 else 2
    first_word = (n - tail) * words_per_element
    words = stream_words(seed_key(83), first_word // 4, 4)[first_word % 4:]
    expected = uniform_from_words(words[:tail * words_per_element], 0.0, 1.0, dtype)
    assert got.tobytes() == expected.tobytes()
