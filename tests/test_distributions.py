"""The distributions are the ones they claim to be: Kolmogorov-Smirnov against the exact
CDFs, tail counts, bounds and moments.

Every draw uses a fixed seed, so every statistic below is a fixed number and each test
either always passes or always fails; the significance levels say how surprising a
failure would be for a correct generator, not how often it happens.  Tests reject at
p < 1e-3 (KS, chi-square) or at 5 standard errors (moments, two-sided p ~ 6e-7)."""
import math

import numpy as np
import pytest
from scipy import special, stats

import fastinit

DTYPES = pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
ALPHA = 1e-3
N = 2 ** 20            # bounds and moments
N_KS = 2 ** 18         # KS resolves CDF errors down to ~1.95 / sqrt(N_KS) = 0.004 at p = 1e-3


def ks_pvalue(values, cdf):
    # the asymptotic Kolmogorov distribution is exact to ~1e-3 relative at these sizes and,
    # unlike the exact one, costs nothing when the p-value is tiny
    return stats.kstest(np.asarray(values, dtype=np.float64), cdf, method="asymp").pvalue


def truncated_normal_cdf(a, b, mean, std):
    """The exact CDF (Phi(z) - Phi(a)) / (Phi(b) - Phi(a)), z = (x - mean) / std, written
    with survival functions when [a, b] lies in the upper tail so that nothing cancels
    (scipy.stats.truncnorm gives the same values but is ~50 times slower on 1M points)."""
    def cdf(x):
        z = (np.asarray(x) - mean) / std
        if a >= 0:
            p = (special.ndtr(-a) - special.ndtr(-z)) / (special.ndtr(-a) - special.ndtr(-b))
        else:
            p = (special.ndtr(z) - special.ndtr(a)) / (special.ndtr(b) - special.ndtr(a))
        return np.clip(p, 0.0, 1.0)
    return cdf


# ---------------------------------------------------------------- Kolmogorov-Smirnov

@DTYPES
@pytest.mark.parametrize("low, high", [(0.0, 1.0), (-3.0, 5.0), (100.0, 100.5)])
def test_uniform_passes_kolmogorov_smirnov(dtype, low, high):
    x = fastinit.uniform(N_KS, low, high, dtype=dtype, seed=101)
    assert ks_pvalue(x, stats.uniform(loc=low, scale=high - low).cdf) > ALPHA


@DTYPES
@pytest.mark.parametrize("mean, std", [(0.0, 1.0), (0.5, 2.0), (-20.0, 0.1)])
def test_normal_passes_kolmogorov_smirnov(dtype, mean, std):
    x = fastinit.normal(N_KS, mean, std, dtype=dtype, seed=103)
    assert ks_pvalue(x, stats.norm(loc=mean, scale=std).cdf) > ALPHA


TRUNCATIONS = [(-2.0, 2.0), (-1.0, 3.0), (-0.5, 0.25), (-np.inf, 0.5), (0.3, np.inf),
               (-np.inf, -1.0), (2.5, 4.0), (-4.0, -2.5), (5.0, 6.0)]


@DTYPES
@pytest.mark.parametrize("a, b", TRUNCATIONS)
def test_truncated_normal_passes_kolmogorov_smirnov(dtype, a, b):
    mean, std = 0.25, 1.5
    x = fastinit.truncated_normal(N_KS, mean, std, a, b, dtype=dtype, seed=107)
    assert ks_pvalue(x, truncated_normal_cdf(a, b, mean, std)) > ALPHA


@pytest.mark.parametrize("a, b", [(-1.0, 3.0), (0.3, np.inf), (5.0, 6.0)])
def test_truncated_normal_cdf_of_this_test_is_scipys_truncnorm(a, b):
    x = np.linspace(-1.5, 7.0, 1001)
    np.testing.assert_allclose(truncated_normal_cdf(a, b, 0.25, 1.5)(x),
                               stats.truncnorm(a, b, loc=0.25, scale=1.5).cdf(x),
                               rtol=1e-9, atol=1e-12)


@pytest.mark.slow
@DTYPES
@pytest.mark.parametrize("name, kwargs, law", [
    ("normal", {}, stats.norm.cdf),
    ("truncated_normal", dict(a=-2.0, b=2.0), truncated_normal_cdf(-2.0, 2.0, 0.0, 1.0)),
    ("uniform", {}, stats.uniform.cdf)], ids=["normal", "truncated_normal", "uniform"])
def test_kolmogorov_smirnov_on_8_million_values(name, kwargs, law, dtype):
    # 32 times the sample of the tests above: resolves CDF errors down to ~7e-4
    x = getattr(fastinit, name)(2 ** 23, dtype=dtype, seed=163, **kwargs)
    assert ks_pvalue(x, law) > ALPHA


@DTYPES
def test_kolmogorov_smirnov_rejects_a_wrong_truncation(dtype):
    # the test has power: the same draw is rejected against a slightly different law
    x = fastinit.truncated_normal(N_KS, a=-1.0, b=3.0, dtype=dtype, seed=107)
    assert ks_pvalue(x, truncated_normal_cdf(-1.05, 3.0, 0.0, 1.0)) < ALPHA


# ---------------------------------------------------------------- tails

TAIL_EDGES = [-np.inf, -4.0, -3.0, 3.0, 4.0, np.inf]


@DTYPES
def test_normal_tail_counts_beyond_3_and_4_sigma_match_the_normal(dtype):
    # 4M values: about 5400 expected beyond each of +-3 and 130 beyond each of +-4,
    # each tail counted on its own side; chi-square with 4 degrees of freedom.
    n = 2 ** 22
    z = fastinit.normal(n, dtype=dtype, seed=109)
    observed = np.histogram(z.astype(np.float64), bins=TAIL_EDGES)[0]
    expected = n * np.diff(stats.norm.cdf(TAIL_EDGES))
    assert observed.sum() == n
    assert stats.chisquare(observed, expected).pvalue > ALPHA


@DTYPES
def test_normal_reaches_beyond_5_sigma_only_as_often_as_the_normal(dtype):
    # binomial test of the count beyond |z| > 5 in 16M values (expected ~9.6), drawn as
    # four successive arrays of one generator to bound the memory
    g = fastinit.Generator(113)
    n = 4 * 2 ** 22
    count = sum(int(np.count_nonzero(np.abs(g.normal(2 ** 22, dtype=dtype)) > 5))
                for _ in range(4))
    assert stats.binomtest(count, n, 2 * stats.norm.sf(5)).pvalue > ALPHA


# ---------------------------------------------------------------- bounds

@DTYPES
@pytest.mark.parametrize("low, high", [(0.0, 1.0), (-3.0, 5.0), (0.1, 0.7), (-1e30, 1e30),
                                       (1e-30, 3e-30), (-7.0, -6.999999)])
def test_uniform_values_lie_in_low_high_in_the_output_precision(dtype, low, high):
    t = np.dtype(dtype).type
    x = fastinit.uniform(N, low, high, dtype=dtype, seed=127)
    # docs/stream.md: parameters are first rounded to the output precision
    assert x.min() >= t(low)
    assert x.max() < t(high)


@DTYPES
def test_uniform_on_a_four_ulp_interval_takes_only_the_four_floats_below_high(dtype):
    t = np.dtype(dtype).type
    low = t(1.0)
    grid = low + np.arange(5, dtype=dtype) * np.spacing(low)
    x = fastinit.uniform(N, float(grid[0]), float(grid[4]), dtype=dtype, seed=131)
    assert set(np.unique(x)) == set(grid[:4])


@DTYPES
@pytest.mark.parametrize("mean, std, a, b", [
    (0.0, 1.0, -2.0, 2.0), (0.1, 0.3, -1.0, 3.0), (5.0, 2.0, 2.5, 4.0), (-5.0, 2.0, -4.0, -2.5),
    (0.0, 1.0, -np.inf, 0.0), (0.0, 1.0, 8.0, 9.0), (3.0, 0.7, -0.001, 0.001)])
def test_truncated_normal_values_lie_in_mean_plus_a_std_to_mean_plus_b_std(dtype, mean, std,
                                                                           a, b):
    t = np.dtype(dtype).type
    x = fastinit.truncated_normal(N, mean, std, a, b, dtype=dtype, seed=137)
    # the kernel clamps z to [a, b] and computes mean + std z in the output precision,
    # whose rounding is monotonic, so the bounds are those same operations on a and b
    lower = t(mean) + t(std) * t(a)
    upper = t(mean) + t(std) * t(b)
    assert x.min() >= lower
    assert x.max() <= upper


# ---------------------------------------------------------------- moments

def assert_moments(x, mean, variance, fourth_central):
    """Sample mean and variance within 5 standard errors: SE(mean) = sqrt(var / n),
    SE(sample variance) = sqrt((mu4 - var^2) / n) (the CLT for the squares)."""
    x = np.asarray(x, dtype=np.float64)
    n = x.size
    se_mean = math.sqrt(variance / n)
    se_var = math.sqrt((fourth_central - variance ** 2) / n)
    assert abs(x.mean() - mean) < 5 * se_mean
    assert abs(x.var() - variance) < 5 * se_var


@DTYPES
@pytest.mark.parametrize("low, high", [(0.0, 1.0), (-3.0, 5.0)])
def test_uniform_mean_and_variance_match_within_clt_bounds(dtype, low, high):
    width = high - low
    x = fastinit.uniform(N, low, high, dtype=dtype, seed=139)
    # U(low, high): variance width^2 / 12, fourth central moment width^4 / 80
    assert_moments(x, (low + high) / 2, width ** 2 / 12, width ** 4 / 80)


@DTYPES
@pytest.mark.parametrize("mean, std", [(0.0, 1.0), (0.5, 2.0)])
def test_normal_mean_and_variance_match_within_clt_bounds(dtype, mean, std):
    x = fastinit.normal(N, mean, std, dtype=dtype, seed=149)
    assert_moments(x, mean, std ** 2, 3 * std ** 4)


@DTYPES
@pytest.mark.parametrize("a, b", [(-2.0, 2.0), (-1.0, 3.0), (2.5, 4.0)])
def test_truncated_normal_mean_and_variance_match_within_clt_bounds(dtype, a, b):
    mean, std = 1.0, 0.5
    law = stats.truncnorm(a, b, loc=mean, scale=std)
    mu, var, excess_kurtosis = (float(m) for m in law.stats(moments="mvk"))
    x = fastinit.truncated_normal(N, mean, std, a, b, dtype=dtype, seed=151)
    assert_moments(x, mu, var, (excess_kurtosis + 3) * var ** 2)
