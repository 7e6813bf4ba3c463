"""fastinit's own Phi and 1 - Phi (csrc/normal_cdf.c, behind the truncated normal's Phi(a)
and Phi(b)) against mpmath at 50 digits and scipy: relative error below 1e-15 wherever
the value is a normal double (docs/stream.md states it)."""
import math

import numpy as np
import pytest

from fastinit import bits

mpmath = pytest.importorskip("mpmath")
special = pytest.importorskip("scipy.special")

TINY = 2.2250738585072014e-308   # smallest normal double
BOUND = 1e-15


def _points():
    rng = np.random.default_rng(20261201)
    return np.concatenate([
        np.linspace(-40.0, 40.0, 1601),
        rng.uniform(-38.5, 38.5, 1500),
        rng.uniform(-4.0, 4.0, 1000),
        # the branch points of Cody's erfc (x / sqrt 2 = 0.46875, 4, 26.543), either side
        [s * f * math.sqrt(2) for s in (-1, 1) for f in (0.46875, 4.0, 26.543)
         for f in (np.nextafter(f, 0), f, np.nextafter(f, 10))],
        [0.0, -0.0, 5e-324, -5e-324, 1e-300, -1e-300, 1e-8, -1e-8],
    ]).tolist()


def _relative_error(got, want):
    return float(abs(mpmath.mpf(got) - want) / want)


def test_against_mpmath():
    mpmath.mp.dps = 50
    worst = 0.0
    checked = 0
    for x in _points():
        for got, want in ((bits.normal_cdf(x), mpmath.ncdf(x)), (bits.normal_sf(x), mpmath.ncdf(-x))):
            if want >= TINY:
                worst = max(worst, _relative_error(got, want))
                checked += 1
            else:
                # below the normal range: the value may underflow, never exceed it
                assert 0.0 <= got <= TINY
    assert checked > 7000
    assert worst < BOUND, f"max relative error {worst:.3g}"


def test_against_scipy_ndtr():
    x = np.linspace(-37.0, 37.0, 20001)
    cdf = np.array([bits.normal_cdf(v) for v in x])
    sf = np.array([bits.normal_sf(v) for v in x])
    # scipy's ndtr is 0.5 erfc(-x / sqrt 2): the rounding of x / sqrt 2 alone costs it a
    # relative error up to x^2 2^-53 in the tails, which bounds the difference
    rtol = 2e-15 + x * x * 2.0 ** -51
    assert np.all(np.abs(cdf - special.ndtr(x)) <= rtol * special.ndtr(x))
    assert np.all(np.abs(sf - special.ndtr(-x)) <= rtol * special.ndtr(-x))


def test_limits_symmetry_and_monotonicity():
    assert bits.normal_cdf(-math.inf) == 0.0 and bits.normal_cdf(math.inf) == 1.0
    assert bits.normal_sf(math.inf) == 0.0 and bits.normal_sf(-math.inf) == 1.0
    assert bits.normal_cdf(0.0) == 0.5 == bits.normal_sf(0.0)
    x = np.linspace(-39.0, 39.0, 50001)
    cdf = np.array([bits.normal_cdf(v) for v in x])
    assert np.all(np.diff(cdf) >= 0)
    # sf is cdf mirrored, bit for bit
    assert all(bits.normal_sf(v) == bits.normal_cdf(-v) for v in x[::7])


def test_nan_is_refused():
    with pytest.raises(ValueError, match="x"):
        bits.normal_cdf(math.nan)
    with pytest.raises(ValueError, match="x"):
        bits.normal_sf(math.nan)
