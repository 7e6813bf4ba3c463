"""region= (docs/stream.md section 5): f(shape, region=r) is exactly f(shape)[r], for any
step-1 region, with or without out=, and a Generator's counter moves as for the full draw.

Property tests run under the deterministic hypothesis profile of conftest.py."""
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import fastinit

DISTRIBUTIONS = {
    "uniform": dict(low=-2.0, high=3.0),
    "normal": dict(mean=0.5, std=2.0),
    "truncated_normal": dict(mean=-1.0, std=0.5, a=-1.5, b=2.5),
}
SCHEMES = {
    "xavier_uniform": {},
    "he_normal": dict(truncated=True),
    "variance_scaling": dict(scale=2.0, mode="fan_avg", distribution="untruncated_normal"),
    "orthogonal": dict(gain=1.5),
}
DTYPES = [np.float32, np.float64, np.float16]   # bfloat16: tests/test_half.py


@st.composite
def shapes_and_regions(draw, min_dims=1):
    """A shape of 1-4 small dims and a region of step-1 slices for its first k <= ndim
    axes; bounds are None, non-negative or negative (counted from the end), and may be
    equal (an empty slice)."""
    shape = tuple(draw(st.lists(st.integers(0, 7), min_size=min_dims, max_size=4)))
    k = draw(st.integers(0, len(shape)))
    region = []
    for dim in shape[:k]:
        lo = draw(st.integers(0, dim))
        hi = draw(st.integers(lo, dim))
        start = draw(st.sampled_from([lo, lo - dim, None] if lo == 0 else [lo, lo - dim]))
        stop = draw(st.sampled_from([hi, None] if hi == dim else [hi, hi - dim]))
        step = draw(st.sampled_from([None, 1]))
        region.append(slice(start, stop, step))
    return shape, tuple(region)


def call(name, shape, **kwargs):
    params = DISTRIBUTIONS.get(name, SCHEMES.get(name))
    return getattr(fastinit, name)(shape, **params, **kwargs)


@given(case=shapes_and_regions(), name=st.sampled_from(sorted(DISTRIBUTIONS)),
       dtype=st.sampled_from(DTYPES), seed=st.integers(0, 2 ** 32))
@settings(max_examples=300)
def test_region_is_the_same_slice_of_the_full_draw(case, name, dtype, seed):
    shape, region = case
    full = call(name, shape, dtype=dtype, seed=seed)
    part = call(name, shape, dtype=dtype, seed=seed, region=region)
    assert part.shape == full[region].shape and part.dtype == dtype
    assert part.flags.c_contiguous
    assert part.tobytes() == np.ascontiguousarray(full[region]).tobytes()


@given(case=shapes_and_regions(min_dims=2), name=st.sampled_from(sorted(SCHEMES)),
       dtype=st.sampled_from(DTYPES), layout=st.sampled_from(["in_out", "torch"]))
@settings(max_examples=100)
def test_region_of_a_scheme_is_the_same_slice_of_the_full_scheme(case, name, dtype, layout):
    shape, region = case
    full = call(name, shape, dtype=dtype, seed=307, layout=layout)
    part = call(name, shape, dtype=dtype, seed=307, layout=layout, region=region)
    assert part.tobytes() == np.ascontiguousarray(full[region]).tobytes()


@given(case=shapes_and_regions(), name=st.sampled_from(sorted(DISTRIBUTIONS)),
       dtype=st.sampled_from(DTYPES))
@settings(max_examples=100)
def test_region_with_out_fills_and_returns_out(case, name, dtype):
    shape, region = case
    expected = np.ascontiguousarray(call(name, shape, dtype=dtype, seed=311)[region])
    out = np.full(expected.shape, np.nan, dtype=dtype)
    returned = call(name, shape, dtype=dtype, seed=311, region=region, out=out)
    assert returned is out
    assert out.tobytes() == expected.tobytes()


@given(case=shapes_and_regions(), name=st.sampled_from(sorted(DISTRIBUTIONS)),
       dtype=st.sampled_from(DTYPES), first=st.integers(0, 9))
@settings(max_examples=100)
def test_generator_draw_with_region_advances_the_counter_like_the_full_draw(case, name,
                                                                            dtype, first):
    shape, region = case
    g, h = fastinit.Generator(313), fastinit.Generator(313)
    # start both mid-stream, after a draw of `first` elements
    getattr(g, name)(first, dtype=dtype, **DISTRIBUTIONS[name])
    getattr(h, name)(first, dtype=dtype, **DISTRIBUTIONS[name])
    full = getattr(g, name)(shape, dtype=dtype, **DISTRIBUTIONS[name])
    part = getattr(h, name)(shape, dtype=dtype, region=region, **DISTRIBUTIONS[name])
    assert part.tobytes() == np.ascontiguousarray(full[region]).tobytes()
    words_per_element = 2 if dtype == np.float64 else 1
    expected = -(-first * words_per_element // 4) + -(-math.prod(shape) * words_per_element // 4)
    assert h.state["counter"] == g.state["counter"] == expected
    # and the next draws agree, wherever the region was
    assert g.random_raw(8).tobytes() == h.random_raw(8).tobytes()


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64", "float16"])
@pytest.mark.parametrize("name", sorted(DISTRIBUTIONS))
def test_shards_of_a_tensor_fit_together_bit_for_bit(name, dtype):
    # row shards and column shards, made separately, reassemble the full draw
    shape = (257, 130)
    full = call(name, shape, dtype=dtype, seed=317)
    row_bounds = [(i, min(i + 65, 257)) for i in range(0, 257, 65)]
    col_bounds = [(j, min(j + 33, 130)) for j in range(0, 130, 33)]
    rows = [call(name, shape, dtype=dtype, seed=317, region=(slice(lo, hi),))
            for lo, hi in row_bounds]
    cols = [call(name, shape, dtype=dtype, seed=317, region=(slice(None), slice(lo, hi)))
            for lo, hi in col_bounds]
    assert np.concatenate(rows, axis=0).tobytes() == full.tobytes()
    assert np.concatenate(cols, axis=1).tobytes() == full.tobytes()


@pytest.mark.parametrize("name", sorted(DISTRIBUTIONS))
def test_a_single_slice_is_a_region_of_the_first_axis(name):
    full = call(name, (9, 4), seed=331)
    assert call(name, (9, 4), seed=331, region=slice(2, 7)).tobytes() == full[2:7].tobytes()


@pytest.mark.parametrize("name", sorted(DISTRIBUTIONS))
def test_region_of_a_0d_draw_is_the_empty_tuple(name):
    full = call(name, (), seed=337)
    assert call(name, (), seed=337, region=()).tobytes() == full.tobytes()
