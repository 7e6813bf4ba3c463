"""Every initialization scheme draws from the distribution its formula names, with fans
computed by hand here (never by fastinit.compute_fans).

Variances are checked to 5 standard errors of the sample variance, SE = var sqrt((kappa + 2)
/ n) with kappa the distribution's excess kurtosis; with the fixed seeds each check is a
fixed outcome, and a correct scheme would fail one with probability ~6e-7."""
import math

import numpy as np
import pytest
from scipy import stats

import fastinit

DTYPES = pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])

# shape, layout, and the fans worked out by hand
SHAPES = {
    # dense y = x @ W: W is (fan_in, fan_out)
    "dense": ((512, 256), "in_out", 512, 256),
    # Keras / JAX conv kernel (kh, kw, in, out): receptive field 3*3 = 9,
    # fan_in = 64 * 9 = 576, fan_out = 128 * 9 = 1152
    "conv_in_out": ((3, 3, 64, 128), "in_out", 576, 1152),
    # torch conv weight (out, in, kh, kw): the same fans
    "conv_torch": ((128, 64, 3, 3), "torch", 576, 1152),
}

# Standard deviation of N(0, 1) cut at +-2, from scipy rather than from fastinit's constant.
TRUNCATED_UNIT_STD = float(stats.truncnorm(-2, 2).std())
EXCESS_KURTOSIS = {"uniform": -1.2, "normal": 0.0,
                   "truncated_normal": float(stats.truncnorm(-2, 2).stats(moments="k"))}


def geo(fi, fo):
    return math.sqrt(fi * fo)


# name -> (call(shape, **common), variance(fan_in, fan_out), distribution)
RULES = {
    "lecun_uniform": (lambda s, **k: fastinit.lecun_uniform(s, **k),
                      lambda fi, fo: 1 / fi, "uniform"),
    "lecun_uniform_gain_1.5": (lambda s, **k: fastinit.lecun_uniform(s, gain=1.5, **k),
                               lambda fi, fo: 2.25 / fi, "uniform"),
    "lecun_normal": (lambda s, **k: fastinit.lecun_normal(s, **k),
                     lambda fi, fo: 1 / fi, "normal"),
    "lecun_normal_truncated": (lambda s, **k: fastinit.lecun_normal(s, truncated=True, **k),
                               lambda fi, fo: 1 / fi, "truncated_normal"),
    "xavier_uniform": (lambda s, **k: fastinit.xavier_uniform(s, **k),
                       lambda fi, fo: 2 / (fi + fo), "uniform"),
    "xavier_uniform_gain_5/3": (lambda s, **k: fastinit.xavier_uniform(s, gain=5 / 3, **k),
                                lambda fi, fo: 25 / 9 * 2 / (fi + fo), "uniform"),
    "xavier_normal": (lambda s, **k: fastinit.xavier_normal(s, **k),
                      lambda fi, fo: 2 / (fi + fo), "normal"),
    "xavier_normal_truncated": (lambda s, **k: fastinit.xavier_normal(s, truncated=True, **k),
                                lambda fi, fo: 2 / (fi + fo), "truncated_normal"),
    "he_uniform": (lambda s, **k: fastinit.he_uniform(s, **k),
                   lambda fi, fo: 2 / fi, "uniform"),
    "he_uniform_fan_out": (lambda s, **k: fastinit.he_uniform(s, mode="fan_out", **k),
                           lambda fi, fo: 2 / fo, "uniform"),
    # leaky ReLU slope 0.2: gain^2 = 2 / (1 + 0.2^2) = 2 / 1.04
    "he_uniform_leaky_0.2": (lambda s, **k: fastinit.he_uniform(s, a=0.2,
                                                                nonlinearity="leaky_relu", **k),
                             lambda fi, fo: 2 / 1.04 / fi, "uniform"),
    "he_normal": (lambda s, **k: fastinit.he_normal(s, **k),
                  lambda fi, fo: 2 / fi, "normal"),
    "he_normal_truncated": (lambda s, **k: fastinit.he_normal(s, truncated=True, **k),
                            lambda fi, fo: 2 / fi, "truncated_normal"),
    "he_normal_fan_out": (lambda s, **k: fastinit.he_normal(s, mode="fan_out", **k),
                          lambda fi, fo: 2 / fo, "normal"),
    # tanh gain 5/3, selu gain 3/4 (torch's table)
    "he_normal_tanh": (lambda s, **k: fastinit.he_normal(s, nonlinearity="tanh", **k),
                       lambda fi, fo: 25 / 9 / fi, "normal"),
    "he_normal_selu_truncated": (lambda s, **k: fastinit.he_normal(s, nonlinearity="selu",
                                                                   truncated=True, **k),
                                 lambda fi, fo: 9 / 16 / fi, "truncated_normal"),
}
VS_MODES = {"fan_in": lambda fi, fo: fi, "fan_out": lambda fi, fo: fo,
            "fan_avg": lambda fi, fo: (fi + fo) / 2, "fan_geo_avg": geo}
VS_DISTRIBUTIONS = {"truncated_normal": "truncated_normal", "normal": "normal",
                    "untruncated_normal": "normal", "uniform": "uniform"}
for _mode, _n in VS_MODES.items():
    for _dist, _kind in VS_DISTRIBUTIONS.items():
        RULES[f"variance_scaling_{_mode}_{_dist}"] = (
            lambda s, _m=_mode, _d=_dist, **k: fastinit.variance_scaling(s, 2.0, _m, _d, **k),
            lambda fi, fo, _n=_n: 2.0 / _n(fi, fo), _kind)


def check_variance_scaled_sample(w, variance, kind, dtype):
    x = w.astype(np.float64).ravel()
    n = x.size
    t = np.dtype(dtype).type
    # mean 0 within 5 standard errors
    assert abs(x.mean()) < 5 * math.sqrt(variance / n)
    # mean of squares (the mean is known to be 0) within 5 standard errors
    se = variance * math.sqrt((EXCESS_KURTOSIS[kind] + 2) / n)
    assert abs(np.mean(x * x) - variance) < 5 * se, (np.mean(x * x), variance)
    if kind == "uniform":
        b = math.sqrt(3 * variance)
        assert w.min() >= t(-b) and w.max() < t(b)
        # n uniforms all stay below b (1 - 40/n) with probability exp(-20)
        assert w.max() > b * (1 - 40 / n) and w.min() < -b * (1 - 40 / n)
    elif kind == "truncated_normal":
        bound = 2 * math.sqrt(variance) / TRUNCATED_UNIT_STD
        assert w.min() >= t(-bound) and w.max() <= t(bound)
        # the density at the cut is phi(2) / 0.9545 per unit std: ~0.11 n eps values are
        # expected within eps of each end; eps = 200 / n makes missing them ~exp(-22)
        assert w.max() > bound * (1 - 200 / n) and w.min() < -bound * (1 - 200 / n)


@DTYPES
@pytest.mark.parametrize("shape_name", SHAPES)
@pytest.mark.parametrize("rule", RULES)
def test_scheme_draws_its_formulas_variance_and_bound(rule, shape_name, dtype):
    call, variance, kind = RULES[rule]
    shape, layout, fan_in, fan_out = SHAPES[shape_name]
    w = call(shape, layout=layout, dtype=dtype, seed=211)
    assert w.shape == shape and w.dtype == dtype and w.flags.c_contiguous
    check_variance_scaled_sample(w, variance(fan_in, fan_out), kind, dtype)


@pytest.mark.parametrize("rule", ["xavier_uniform", "he_normal", "lecun_normal_truncated",
                                  "variance_scaling_fan_avg_uniform"])
def test_explicit_fans_override_the_shape(rule):
    call, variance, kind = RULES[rule]
    # a 1-d bias-like shape has no fans of its own; fan_in=300, fan_out=700 given
    w = call((200_000,), fan_in=300, fan_out=700, seed=223)
    check_variance_scaled_sample(w, variance(300, 700), kind, np.float32)


@pytest.mark.parametrize("rule", ["xavier_normal", "he_uniform"])
def test_in_axis_and_out_axis_name_the_fans_of_any_layout(rule):
    call, variance, kind = RULES[rule]
    # (in, kh, kw, out) with in_axis=0, out_axis=-1: receptive field 9, fan_in 32 * 9 = 288,
    # fan_out 256 * 9 = 2304
    w = call((32, 3, 3, 256), in_axis=0, out_axis=-1, seed=227)
    check_variance_scaled_sample(w, variance(288, 2304), kind, np.float32)


# ---------------------------------------------------------------- names and forms

ALIASES = [("glorot_uniform", "xavier_uniform"), ("glorot_normal", "xavier_normal"),
           ("kaiming_uniform", "he_uniform"), ("kaiming_normal", "he_normal")]


@pytest.mark.parametrize("alias, name", ALIASES)
def test_aliases_are_the_same_functions(alias, name):
    assert getattr(fastinit, alias) is getattr(fastinit, name)
    assert getattr(fastinit, alias + "_") is getattr(fastinit, name + "_")
    assert getattr(fastinit.Generator, alias) is getattr(fastinit.Generator, name)


SCHEME_NAMES = ["uniform", "normal", "truncated_normal", "variance_scaling", "lecun_uniform",
                "lecun_normal", "xavier_uniform", "xavier_normal", "he_uniform", "he_normal",
                "orthogonal", "glorot_uniform", "glorot_normal", "kaiming_uniform",
                "kaiming_normal"]


@DTYPES
@pytest.mark.parametrize("name", SCHEME_NAMES)
def test_in_place_form_fills_the_array_returns_it_and_equals_the_out_of_place_result(name,
                                                                                      dtype):
    shape = (24, 5, 7)
    array = np.full(shape, np.nan, dtype=dtype)
    returned = getattr(fastinit, name + "_")(array, seed=229)
    assert returned is array
    expected = getattr(fastinit, name)(shape, dtype=dtype, seed=229)
    assert array.tobytes() == expected.tobytes()


@DTYPES
@pytest.mark.parametrize("name", SCHEME_NAMES)
def test_out_is_returned_filled_with_the_out_of_place_result(name, dtype):
    shape = (6, 40)
    out = np.full(shape, np.nan, dtype=dtype)
    returned = getattr(fastinit, name)(shape, dtype=dtype, out=out, seed=233)
    assert returned is out
    assert out.tobytes() == getattr(fastinit, name)(shape, dtype=dtype, seed=233).tobytes()


@pytest.mark.parametrize("name", SCHEME_NAMES)
def test_dtype_follows_out_when_not_given(name):
    out = np.zeros((6, 40), dtype=np.float64)
    assert getattr(fastinit, name)((6, 40), out=out, seed=239).dtype == np.float64
    assert getattr(fastinit, name)((6, 40), seed=239).dtype == np.float32


@pytest.mark.parametrize("name", SCHEME_NAMES)
@pytest.mark.parametrize("layout", ["in_out", "torch"])
@pytest.mark.parametrize("shape", [(0, 5), (5, 0), (3, 3, 0, 4), (0, 0)])
@DTYPES
def test_zero_size_shapes_give_empty_arrays_of_that_shape_and_dtype(name, layout, shape,
                                                                     dtype):
    kwargs = {"layout": layout} if name not in ("uniform", "normal", "truncated_normal") else {}
    g = fastinit.Generator(241)
    w = getattr(g, name)(shape, dtype=dtype, **kwargs)
    assert w.shape == shape and w.dtype == dtype and w.size == 0


@pytest.mark.parametrize("name", ["uniform", "normal", "truncated_normal"])
@pytest.mark.parametrize("shape", [(0,), (2, 0, 3), 0])
def test_zero_size_distribution_draws_are_empty_and_take_no_blocks(name, shape):
    g = fastinit.Generator(251)
    w = getattr(g, name)(shape)
    assert w.shape == (shape if isinstance(shape, tuple) else (shape,)) and w.size == 0
    assert g.state["counter"] == 0


# ---------------------------------------------------------------- orthogonal

# shape, layout, and the matrix it is flattened to (Keras: (prod(shape[:-1]), shape[-1]);
# torch: (shape[0], prod(shape[1:])))
ORTHOGONAL_CASES = [
    ((64, 32), "in_out", (64, 32)),          # tall
    ((32, 64), "in_out", (32, 64)),          # wide
    ((16, 16), "in_out", (16, 16)),          # square
    ((3, 3, 16, 8), "in_out", (144, 8)),     # conv kernel, tall
    ((1, 1, 4, 16), "in_out", (4, 16)),      # 1x1 conv kernel, wide
    ((8, 16, 3, 3), "torch", (8, 144)),      # torch conv weight, wide
    ((64, 2, 2, 2), "torch", (64, 8)),       # torch conv weight, tall
    ((64, 32), "torch", (64, 32)),
]


@DTYPES
@pytest.mark.parametrize("gain", [1.0, 1.7])
@pytest.mark.parametrize("shape, layout, matrix", ORTHOGONAL_CASES)
def test_orthogonal_has_orthonormal_columns_or_rows_times_gain(shape, layout, matrix, gain,
                                                               dtype):
    w = fastinit.orthogonal(shape, gain=gain, layout=layout, dtype=dtype, seed=257)
    assert w.shape == shape and w.dtype == dtype
    m = w.astype(np.float64).reshape(matrix)
    rows, cols = matrix
    gram = m.T @ m if rows >= cols else m @ m.T
    # float32 entries carry a relative rounding of 2^-24 each; sums of <= 144 of them
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(gram, gain ** 2 * np.eye(min(rows, cols)), atol=tol * gain ** 2)


@pytest.mark.parametrize("shape, layout, matrix", ORTHOGONAL_CASES)
def test_orthogonal_is_the_qr_of_the_documented_float64_normal_draw(shape, layout, matrix):
    # docstring: a float64 normal (max, min) matrix from the stream, QR, columns' signs by
    # sign(diag(R)) (0 as +), transposed when rows < cols, times gain
    rows, cols = matrix
    a = fastinit.Generator(263).normal((max(matrix), min(matrix)), dtype=np.float64)
    q, r = np.linalg.qr(a)
    q = q * np.where(np.diag(r) < 0, -1.0, 1.0)
    expected = 1.3 * (q.T if rows < cols else q)
    w = fastinit.orthogonal(shape, gain=1.3, layout=layout, dtype=np.float64, seed=263)
    np.testing.assert_allclose(w.reshape(matrix), expected, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("shape, layout, matrix", ORTHOGONAL_CASES)
def test_orthogonal_takes_the_blocks_of_its_float64_matrix(shape, layout, matrix):
    g = fastinit.Generator(269)
    g.orthogonal(shape, layout=layout)              # float32 output, float64 draw inside
    assert g.state["counter"] == -(-math.prod(matrix) // 2)


# ---------------------------------------------------------------- for_activation

# activation -> (function, keywords), as the for_activation docstring documents
ADVICE = {
    "sigmoid": ("xavier", {"gain": 1.0}),
    "tanh": ("xavier", {"gain": 5 / 3}),
    "relu": ("he", {"nonlinearity": "relu"}),
    "leaky_relu": ("he", {"nonlinearity": "leaky_relu", "a": 0.01}),
    "gelu": ("he", {"nonlinearity": "relu"}),
    "silu": ("he", {"nonlinearity": "relu"}),
    "selu": ("lecun", {}),
    "linear": ("lecun", {}),
}


def test_activations_are_the_documented_ones():
    assert set(fastinit.ACTIVATIONS) == set(ADVICE)


@pytest.mark.parametrize("distribution", ["normal", "truncated_normal", "uniform"])
@pytest.mark.parametrize("activation", ADVICE)
def test_for_activation_returns_the_documented_scheme(activation, distribution):
    family, kwargs = ADVICE[activation]
    if distribution == "uniform":
        expected_scheme = getattr(fastinit, family + "_uniform")
    else:
        expected_scheme = getattr(fastinit, family + "_normal")
        kwargs = dict(kwargs, truncated=distribution == "truncated_normal")
    init = fastinit.for_activation(activation, distribution=distribution)
    got = init((96, 80), seed=271)
    assert got.tobytes() == expected_scheme((96, 80), seed=271, **kwargs).tobytes()


def test_for_activation_defaults_to_the_normal_distribution():
    got = fastinit.for_activation("relu")((96, 80), seed=277)
    assert got.tobytes() == fastinit.he_normal((96, 80), seed=277).tobytes()


def test_for_activation_leaky_relu_takes_its_slope_as_param():
    got = fastinit.for_activation("leaky_relu", 0.2)((96, 80), seed=281)
    expected = fastinit.he_normal((96, 80), a=0.2, nonlinearity="leaky_relu", seed=281)
    assert got.tobytes() == expected.tobytes()
