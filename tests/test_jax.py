"""fastinit.jax against jax.nn.initializers (same fans, same distribution by two-sample KS
at fixed seeds) and against the NumPy API (the same bits), on one device; sharding over 8
host devices is in jax_sharding_cases.py, and JAX's own initializer cases in
test_jax_nn_cases.py."""
import math

import numpy as np
import pytest

jax = pytest.importorskip("jax")
flax = pytest.importorskip("flax")
import jax.numpy as jnp                                   # noqa: E402
from jax._src.nn.initializers import _compute_fans as jax_compute_fans   # noqa: E402
from scipy import stats                                    # noqa: E402

import fastinit                                            # noqa: E402
import fastinit.jax as fj                                  # noqa: E402

SHAPE = (96, 80)
KS_SAMPLES = (400, 300)        # 120k values a side
KS_MIN_P = 1e-3                # fixed seeds: the p-values are fixed numbers, checked once


def host(x):
    return np.asarray(jax.device_get(x))


# ---------------------------------------------------------------- the same bits as the NumPy API

SCHEMES = [
    # (fastinit.jax constructor call, the NumPy API call it stands for)
    (lambda: fj.glorot_uniform(), lambda s, seed, **kw: fastinit.glorot_uniform(s, seed=seed, **kw)),
    (lambda: fj.xavier_uniform(), lambda s, seed, **kw: fastinit.xavier_uniform(s, seed=seed, **kw)),
    (lambda: fj.glorot_normal(), lambda s, seed, **kw: fastinit.glorot_normal(s, truncated=True, seed=seed, **kw)),
    (lambda: fj.lecun_uniform(), lambda s, seed, **kw: fastinit.lecun_uniform(s, seed=seed, **kw)),
    (lambda: fj.lecun_normal(), lambda s, seed, **kw: fastinit.lecun_normal(s, truncated=True, seed=seed, **kw)),
    (lambda: fj.he_uniform(),
     lambda s, seed, **kw: fastinit.variance_scaling(s, 2.0, "fan_in", "uniform", seed=seed, **kw)),
    (lambda: fj.kaiming_normal(),
     lambda s, seed, **kw: fastinit.variance_scaling(s, 2.0, "fan_in", "truncated_normal", seed=seed, **kw)),
    (lambda: fj.variance_scaling(0.5, "fan_geo_avg", "normal"),
     lambda s, seed, **kw: fastinit.variance_scaling(s, 0.5, "fan_geo_avg", "normal", seed=seed, **kw)),
    (lambda: fj.uniform(), lambda s, seed, **kw: fastinit.uniform(s, 0.0, 1e-2, seed=seed, **kw)),
    (lambda: fj.normal(0.3), lambda s, seed, **kw: fastinit.normal(s, 0.0, 0.3, seed=seed, **kw)),
    (lambda: fj.truncated_normal(0.3, lower=-1.0, upper=3.0),
     lambda s, seed, **kw: fastinit.truncated_normal(s, 0.0, 0.3, -1.0, 3.0, seed=seed, **kw)),
    (lambda: fj.orthogonal(2.0), lambda s, seed, **kw: fastinit.orthogonal(s, 2.0, seed=seed, **kw)),
]


@pytest.mark.parametrize("make, numpy_call", SCHEMES)
@pytest.mark.parametrize("seed", [0, 3, 2**32 - 1])
def test_key_s_gives_the_numpy_api_values_of_seed_s(make, numpy_call, seed):
    got = make()(jax.random.key(seed), SHAPE)
    assert isinstance(got, jax.Array) and got.dtype == jnp.float32 and got.shape == SHAPE
    np.testing.assert_array_equal(host(got), numpy_call(SHAPE, seed))


@pytest.mark.parametrize("make, numpy_call", [SCHEMES[0], SCHEMES[6]], ids=["glorot_uniform",
                                                                        "he_normal"])
def test_an_eager_init_fills_its_new_host_buffer_as_a_new_array(make, numpy_call, monkeypatch):
    """The aligned host buffer of an eager init is new: filled as the NumPy API fills a new
    array (not with the non-temporal stores of an existing out= of 8 MiB and more), the
    same bits."""
    from fastinit import _core
    shape = (2048, 1280)                                  # 10 MiB of float32
    init = make()
    flags, fill = [], _core.fill

    def recording_fill(*args):
        flags.append(args[-1])                            # out_is_new
        return fill(*args)
    monkeypatch.setattr(_core, "fill", recording_fill)
    got = host(init(jax.random.key(5), shape))
    assert flags == [True]
    np.testing.assert_array_equal(got, numpy_call(shape, 5, threads=2))
    np.testing.assert_array_equal(got, numpy_call(shape, 5, threads=1))


def test_raw_and_typed_keys_give_the_same_values():
    init = fj.he_normal()
    np.testing.assert_array_equal(host(init(jax.random.PRNGKey(11), SHAPE)),
                                  host(init(jax.random.key(11), SHAPE)))


def test_seed_of_key_reads_the_key_words_big_endian():
    for key in (jax.random.key(5), jax.random.PRNGKey(5)):
        assert fj.seed_of_key(key) == 5
    for words in ([0, 0], [1, 0], [0xDEADBEEF, 7], [2**32 - 1, 2**32 - 1]):
        key = jnp.asarray(words, dtype=jnp.uint32)
        assert fj.seed_of_key(key) == words[0] * 2**32 + words[1]
        assert fj.seed_of_key(jax.random.wrap_key_data(key)) == words[0] * 2**32 + words[1]


def test_the_same_key_gives_the_same_values_and_different_keys_different_values():
    init = fj.glorot_normal()
    key = jax.random.key(42)
    first, again = host(init(key, SHAPE)), host(init(key, SHAPE))
    np.testing.assert_array_equal(first, again)
    a, b = jax.random.split(key)
    va, vb = host(init(a, SHAPE)), host(init(b, SHAPE))
    # distinct seeds: not one position in common beyond chance (float32 ties are rare)
    assert np.mean(va == vb) < 0.01 and np.mean(va == first) < 0.01


def test_conv_kernel_fans_follow_in_axis_out_axis_and_batch_axis():
    shape = (3, 5, 16, 32)
    init = fj.he_uniform(in_axis=(1, 2), out_axis=3, batch_axis=0)
    fan_in, fan_out = jax_compute_fans(shape, (1, 2), 3, 0)
    want = fastinit.variance_scaling(shape, 2.0, "fan_in", "uniform", fan_in=fan_in,
                                     fan_out=fan_out, seed=9)
    np.testing.assert_array_equal(host(init(jax.random.key(9), shape)), want)


@pytest.mark.parametrize("shape, in_axis, out_axis, batch_axis", [
    ((7, 9), -2, -1, ()), ((3, 3, 8, 16), -2, -1, ()), ((4, 6, 10), 0, (1, 2), ()),
    ((5, 3, 3, 8, 16), -2, -1, 0), ((2, 3, 4, 5), (0, 1), -1, (2,)), ((6, 2, 7), 2, 0, 1),
])
def test_fans_equal_jax_compute_fans(shape, in_axis, out_axis, batch_axis):
    assert fastinit.compute_fans(shape, in_axis=in_axis, out_axis=out_axis,
                                 batch_axis=batch_axis) == jax_compute_fans(
        shape, in_axis, out_axis, batch_axis)


@pytest.mark.parametrize("column_axis", [-1, 0, 1])
def test_orthogonal_column_axis_moves_the_columns_as_jax_does(column_axis):
    shape = (6, 4, 5)
    got = host(fj.orthogonal(column_axis=column_axis)(jax.random.key(1), shape))
    cols = shape[column_axis]
    matrix = np.moveaxis(got, column_axis, -1).reshape(-1, cols)
    np.testing.assert_array_equal(
        matrix, fastinit.orthogonal((math.prod(shape) // cols, cols), seed=1))
    ref = host(jax.nn.initializers.orthogonal(column_axis=column_axis)(jax.random.key(1), shape))
    assert np.moveaxis(ref, column_axis, -1).reshape(-1, cols).shape == matrix.shape


# ---------------------------------------------------------------- the same distribution as JAX

KS_CASES = [
    ("glorot_uniform", {}), ("glorot_normal", {}), ("lecun_uniform", {}), ("lecun_normal", {}),
    ("he_uniform", {}), ("he_normal", {}), ("normal", {"stddev": 0.5}), ("uniform", {"scale": 2.0}),
    ("truncated_normal", {"stddev": 0.5}),
    ("variance_scaling", {"scale": 3.0, "mode": "fan_out", "distribution": "normal"}),
    ("variance_scaling", {"scale": 0.5, "mode": "fan_geo_avg", "distribution": "truncated_normal"}),
]


@pytest.mark.parametrize("name, kwargs", KS_CASES)
def test_same_distribution_as_jax_nn_initializers(name, kwargs):
    ours = host(getattr(fj, name)(**kwargs)(jax.random.key(2024), KS_SAMPLES)).ravel()
    theirs = host(getattr(jax.nn.initializers, name)(**kwargs)(jax.random.key(2024), KS_SAMPLES)).ravel()
    assert stats.ks_2samp(ours, theirs).pvalue > KS_MIN_P
    # and the same support: the scale is right, not just the shape of the distribution
    assert abs(ours.std() / theirs.std() - 1) < 0.02


def test_orthogonal_is_orthogonal_and_scaled_like_jax():
    q = host(fj.orthogonal(scale=1.5)(jax.random.key(0), (64, 48))).astype(np.float64)
    np.testing.assert_allclose(q.T @ q, 1.5**2 * np.eye(48), atol=1e-5)
    ref = host(jax.nn.initializers.orthogonal(scale=1.5)(jax.random.key(0), (64, 48)))
    np.testing.assert_allclose(ref.T @ ref, 1.5**2 * np.eye(48), atol=1e-5)


# ---------------------------------------------------------------- dtypes

def test_float64_is_float32_without_x64_as_in_jax():
    got = fj.lecun_normal()(jax.random.key(4), SHAPE, jnp.float64)
    assert got.dtype == jax.nn.initializers.lecun_normal()(jax.random.key(4), SHAPE, jnp.float64).dtype
    np.testing.assert_array_equal(host(got), fastinit.lecun_normal(SHAPE, truncated=True, seed=4))


# ---------------------------------------------------------------- inside jit, vmap; Flax

def test_inside_jit_the_values_come_from_a_host_callback_and_are_the_same():
    init = fj.he_normal()
    eager = host(init(jax.random.key(8), SHAPE))
    jitted = jax.jit(lambda k: init(k, SHAPE))
    np.testing.assert_array_equal(host(jitted(jax.random.key(8))), eager)
    assert "pure_callback" in str(jax.make_jaxpr(lambda k: init(k, SHAPE))(jax.random.key(8)))


def test_vmap_over_keys_initializes_each_key_on_its_own():
    init = fj.glorot_uniform()
    keys = jax.random.split(jax.random.key(0), 3)
    batched = host(jax.vmap(lambda k: init(k, SHAPE))(keys))
    for i in range(3):
        np.testing.assert_array_equal(batched[i], host(init(keys[i], SHAPE)))


def test_flax_linen_dense_kernel_init_eager_and_jitted():
    import flax.linen as nn
    model = nn.Dense(24, kernel_init=fj.lecun_normal())
    x = jnp.ones((2, 40))
    params = model.init(jax.random.key(0), x)
    jitted = jax.jit(model.init)(jax.random.key(0), x)
    kernel = host(params["params"]["kernel"])
    np.testing.assert_array_equal(kernel, host(jitted["params"]["kernel"]))
    assert kernel.shape == (40, 24)
    assert stats.kstest(kernel.ravel() * math.sqrt(40) * 0.87962566103423978,
                        stats.truncnorm(-2, 2).cdf).pvalue > KS_MIN_P
    assert model.apply(params, x).shape == (2, 24)


def test_flax_nnx_linear_kernel_init():
    from flax import nnx
    layer = nnx.Linear(40, 24, kernel_init=fj.lecun_normal(), rngs=nnx.Rngs(0))
    kernel = host(layer.kernel[...])
    again = host(nnx.Linear(40, 24, kernel_init=fj.lecun_normal(), rngs=nnx.Rngs(0)).kernel[...])
    np.testing.assert_array_equal(kernel, again)
    assert stats.kstest(kernel.ravel() * math.sqrt(40) * 0.87962566103423978,
                        stats.truncnorm(-2, 2).cdf).pvalue > KS_MIN_P
    assert layer(jnp.ones((2, 40))).shape == (2, 24)


def test_flax_nnx_under_nnx_jit():
    from flax import nnx
    make = nnx.jit(lambda: nnx.Linear(40, 24, kernel_init=fj.he_uniform(), rngs=nnx.Rngs(3)))
    eager = nnx.Linear(40, 24, kernel_init=fj.he_uniform(), rngs=nnx.Rngs(3))
    np.testing.assert_array_equal(host(make().kernel[...]), host(eager.kernel[...]))


# ---------------------------------------------------------------- bad input

def test_a_batch_of_keys_is_refused_naming_key():
    with pytest.raises(ValueError, match="key"):
        fj.glorot_uniform()(jax.random.split(jax.random.key(0), 2), SHAPE)


def test_a_non_key_is_refused_naming_key():
    with pytest.raises(TypeError, match="key"):
        fj.glorot_uniform()(np.array([1.0, 2.0]), SHAPE)
    with pytest.raises(TypeError, match="key"):
        fj.glorot_uniform()(object(), SHAPE)


def test_bad_constructor_arguments_fail_at_construction():
    with pytest.raises(ValueError, match="mode"):
        fj.variance_scaling(1.0, "fan_sum", "uniform")
    with pytest.raises(ValueError, match="distribution"):
        fj.variance_scaling(1.0, "fan_in", "gaussian")
    with pytest.raises(ValueError, match="scale"):
        fj.variance_scaling(-1.0, "fan_in", "uniform")
    with pytest.raises(ValueError, match="std"):
        fj.normal(-0.1)
    with pytest.raises(TypeError, match="dtype"):
        fj.normal(dtype="float33")


def test_bad_call_arguments_name_the_argument():
    init = fj.glorot_uniform()
    key = jax.random.key(0)
    with pytest.raises(ValueError, match="dimensions"):
        init(key, (5,))
    with pytest.raises(TypeError, match="dtype"):
        init(key, SHAPE, jnp.int32)
    with pytest.raises(TypeError, match="out_sharding"):
        init(key, SHAPE, out_sharding="rows")
    with pytest.raises(ValueError, match="mesh"):
        init(key, SHAPE, out_sharding=jax.sharding.PartitionSpec("x"))
    with pytest.raises(ValueError, match="column_axis"):
        fj.orthogonal(column_axis=3)(key, SHAPE)


def test_import_fastinit_imports_no_framework():
    import subprocess
    import sys
    code = ("import sys, fastinit; bad = [m for m in ('jax', 'keras', 'torch', 'dask', "
            "'ml_dtypes', 'sklearn', 'flax') if m in sys.modules]; print(bad); assert not bad")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_scalar_array_arguments_are_read_as_numbers():
    stddev = jnp.asarray(0.3, dtype=jnp.float32)
    got = host(fj.normal(stddev)(jax.random.key(1), SHAPE))
    np.testing.assert_array_equal(got, fastinit.normal(SHAPE, 0.0, float(np.float32(0.3)), seed=1))


# ---------------------------------------------------------------- half precision

@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
@pytest.mark.parametrize("make, numpy_call", SCHEMES)
def test_half_precision_gives_the_numpy_api_half_values(make, numpy_call, dtype):
    got = make()(jax.random.key(3), SHAPE, jnp.dtype(dtype))
    assert got.dtype == jnp.dtype(dtype)
    want = numpy_call(SHAPE, 3, dtype=dtype)
    assert want.dtype == got.dtype
    np.testing.assert_array_equal(host(got).astype(np.float32), want.astype(np.float32))


def test_constructor_dtype_is_the_default_and_the_call_dtype_wins():
    init = fj.lecun_normal(dtype=jnp.bfloat16)
    assert init(jax.random.key(0), SHAPE).dtype == jnp.bfloat16
    assert init(jax.random.key(0), SHAPE, jnp.float16).dtype == jnp.float16


def test_half_precision_inside_jit():
    init = fj.he_uniform(dtype=jnp.bfloat16)
    jitted = jax.jit(lambda k: init(k, SHAPE))(jax.random.key(5))
    assert jitted.dtype == jnp.bfloat16
    np.testing.assert_array_equal(host(jitted).astype(np.float32),
                                  host(init(jax.random.key(5), SHAPE)).astype(np.float32))


def test_bad_arguments_inside_jit_fail_at_trace_time_naming_them():
    with pytest.raises(ValueError, match="dimensions"):
        jax.jit(lambda k: fj.glorot_uniform()(k, (5,)))(jax.random.key(0))
    with pytest.raises(ValueError, match="column_axis"):
        jax.jit(lambda k: fj.orthogonal(column_axis=2)(k, (4, 4)))(jax.random.key(0))
    with pytest.raises(ValueError, match="shape"):
        jax.jit(lambda k: fj.normal()(k, (4, -1)))(jax.random.key(0))


def test_bad_shapes_are_refused_before_anything_is_allocated():
    with pytest.raises(ValueError, match="shape"):
        fj.normal()(jax.random.key(0), (4, -1))
    with pytest.raises(TypeError, match="shape"):
        fj.normal()(jax.random.key(0), "4x4")
    with pytest.raises(MemoryError):
        fj.normal()(jax.random.key(0), (2**40, 2**10))


CONSTRUCTORS = ["glorot_uniform", "glorot_normal", "xavier_uniform", "xavier_normal",
                "lecun_uniform", "lecun_normal", "he_uniform", "he_normal", "kaiming_uniform",
                "kaiming_normal", "variance_scaling", "normal", "uniform", "truncated_normal",
                "orthogonal", "delta_orthogonal"]


@pytest.mark.parametrize("name", CONSTRUCTORS)
def test_constructor_arguments_and_defaults_are_jax(name):
    import inspect

    def parameters(function):
        return [(p.name, p.default, p.kind) for p in inspect.signature(function).parameters.values()]
    assert parameters(getattr(fj, name)) == parameters(getattr(jax.nn.initializers, name))
    init = getattr(fj, name)(*((1.0, "fan_in", "uniform") if name == "variance_scaling" else ()))
    assert [p.name for p in inspect.signature(init).parameters.values()] == [
        "key", "shape", "dtype", "out_sharding"]


def test_every_public_name_of_jax_nn_initializers_is_here():
    theirs = {n for n in dir(jax.nn.initializers) if not n.startswith("_")}
    assert theirs <= set(fj.__all__)
    assert all(hasattr(fj, n) for n in fj.__all__)


def test_initializer_is_jaxs_protocol_and_every_initializer_satisfies_it():
    assert fj.Initializer is jax.nn.initializers.Initializer
    for name in CONSTRUCTORS:
        init = getattr(fj, name)(*((1.0, "fan_in", "uniform") if name == "variance_scaling" else ()))
        assert isinstance(init, fj.Initializer)


# ---------------------------------------------------------------- fans of any axes JAX takes

def axes_choices(ndim):
    """Every int axis, the empty list, each single axis, each pair and a repeated axis."""
    choices = list(range(-ndim, ndim)) + [[]] + [[a] for a in range(-ndim, ndim)]
    choices += [[a, b] for a in range(ndim) for b in range(a + 1, ndim)]
    return choices + ([[0, 0]] if ndim else [])


@pytest.mark.parametrize("shape", [(), (5,), (4096,), (2, 3), (2, 3, 5), (2, 3, 5, 7)])
def test_fans_equal_jax_compute_fans_for_every_axes_combination_it_takes(shape):
    batch_choices = [(), 0, [0, 1]] if len(shape) >= 2 else [()]
    compared = refused = 0
    for in_axis in axes_choices(len(shape)):
        for out_axis in axes_choices(len(shape)):
            for batch_axis in batch_choices:
                try:
                    want = jax_compute_fans(shape, in_axis, out_axis, batch_axis)
                except (IndexError, ValueError):
                    # out of range, or JAX's default in_axis below 2-d: ours says which
                    with pytest.raises(ValueError, match="in_axis|out_axis|batch_axis"):
                        fastinit.compute_fans(shape, in_axis=in_axis, out_axis=out_axis,
                                              batch_axis=batch_axis)
                    refused += 1
                    continue
                got = fastinit.compute_fans(shape, in_axis=in_axis, out_axis=out_axis,
                                            batch_axis=batch_axis)
                assert got == want, (in_axis, out_axis, batch_axis)
                compared += 1
    assert compared > 0


@pytest.mark.parametrize("shape, in_axis, out_axis", [
    ((4096,), [0], []), ((2,), [0], []), ((2,), [], [0]), ((), [], []), ((2,), [], []),
    ((5,), 0, -1),             # in and out the same axis: JAX's fans (1.0, 1.0)
])
def test_variance_scaling_with_explicit_axes_takes_1d_and_0d_shapes(shape, in_axis, out_axis):
    init = fj.variance_scaling(1, "fan_in", "normal", in_axis=in_axis, out_axis=out_axis)
    got = host(init(jax.random.key(6), shape))
    assert got.shape == shape
    fan_in, fan_out = jax_compute_fans(shape, in_axis, out_axis, ())
    want = fastinit.variance_scaling(shape, 1.0, "fan_in", "normal", fan_in=fan_in,
                                     fan_out=fan_out, seed=6)
    np.testing.assert_array_equal(got, want)


def test_variance_scaling_of_a_long_1d_shape_is_distributed_as_jaxs():
    shape = (120_000,)
    ours = host(fj.variance_scaling(1, "fan_in", "normal", in_axis=[0], out_axis=[])(
        jax.random.key(1), shape))
    theirs = host(jax.nn.initializers.variance_scaling(1, "fan_in", "normal", in_axis=[0],
                                                       out_axis=[])(jax.random.key(1), shape))
    assert stats.ks_2samp(ours, theirs).pvalue > KS_MIN_P
    assert abs(ours.std() / theirs.std() - 1) < 0.02


# ---------------------------------------------------------------- delta_orthogonal

@pytest.mark.parametrize("shape", [(3, 4, 4), (3, 3, 8, 16), (2, 4, 3, 5, 6), (1, 5, 5),
                                   (4, 2, 6)])
def test_delta_orthogonal_is_the_orthogonal_matrix_at_the_kernel_center(shape):
    key = jax.random.key(7)
    got = host(fj.delta_orthogonal(scale=1.5)(key, shape))
    assert got.shape == shape and got.dtype == np.float32
    center = tuple((k - 1) // 2 for k in shape[:-2])
    np.testing.assert_array_equal(got[center], host(fj.orthogonal(1.5)(key, shape[-2:])))
    others = got.copy()
    others[center] = 0
    assert not others.any()
    q = got[center].astype(np.float64)
    np.testing.assert_allclose(q @ q.T, 1.5 ** 2 * np.eye(shape[-2]), atol=1e-5)
    # the same non-zero positions as JAX's own
    theirs = host(jax.nn.initializers.delta_orthogonal(scale=1.5)(key, shape))
    np.testing.assert_array_equal(theirs != 0, got != 0)


def test_delta_orthogonal_inside_jit_is_the_eager_value():
    init = fj.delta_orthogonal()
    eager = host(init(jax.random.key(2), (3, 3, 6, 6)))
    jitted = host(jax.jit(lambda k: init(k, (3, 3, 6, 6)))(jax.random.key(2)))
    np.testing.assert_array_equal(jitted, eager)


@pytest.mark.parametrize("shape, words", [
    ((6, 6), "3-, 4- or 5-dimensional"), ((2, 2, 2, 2, 6, 6), "3-, 4- or 5-dimensional"),
    ((3, 8, 4), "fan_in <= fan_out"),
])
def test_delta_orthogonal_refuses_the_shapes_jax_refuses(shape, words):
    key = jax.random.key(0)
    with pytest.raises(ValueError):
        jax.nn.initializers.delta_orthogonal()(key, shape)
    with pytest.raises(ValueError, match=words):
        fj.delta_orthogonal()(key, shape)
    with pytest.raises(ValueError, match=words):
        jax.jit(lambda k: fj.delta_orthogonal()(k, shape))(key)


# ---------------------------------------------------------------- complex dtypes

FAN_IN, FAN_OUT = KS_SAMPLES
# E|z|^2 of the complex normal with E|z|^2 = 1 (|z|^2 exponential with mean 1) cut to
# |z| <= 2: the integral of x e^-x over [0, 4], over 1 - e^-4
TRUNCATED_DISK_MEAN_SQUARE = (1 - 5 * math.exp(-4)) / (1 - math.exp(-4))

COMPLEX_CASES = [
    # (id, initializer arguments, E|x|^2 before any truncation constant)
    ("normal", ("normal", (0.5,)), 0.25),
    ("variance_scaling_normal", ("variance_scaling", (2.0, "fan_in", "normal")), 2.0 / FAN_IN),
    ("he_uniform_disk", ("he_uniform", ()), 2.0 / FAN_IN),
    ("glorot_normal_truncated_disk", ("glorot_normal", ()), None),
]


def complex_mean_square(name, expected):
    if expected is not None:
        return expected
    # JAX's divisor 0.95311164380491208 on the truncated form (its std is not 1)
    return 2.0 / (FAN_IN + FAN_OUT) * TRUNCATED_DISK_MEAN_SQUARE / 0.95311164380491208 ** 2


@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
@pytest.mark.parametrize("case, call, expected", COMPLEX_CASES, ids=[c[0] for c in COMPLEX_CASES])
def test_complex_parts_and_mean_square_are_distributed_as_jaxs(case, call, expected, dtype):
    name, args = call
    with jax.enable_x64(dtype == "complex128"):
        ours = host(getattr(fj, name)(*args)(jax.random.key(21), KS_SAMPLES,
                                             jnp.dtype(dtype))).ravel()
        theirs = host(getattr(jax.nn.initializers, name)(*args)(
            jax.random.key(21), KS_SAMPLES, jnp.dtype(dtype))).ravel()
    assert ours.dtype == theirs.dtype == np.dtype(dtype)
    for part in (np.real, np.imag, np.abs):
        assert stats.ks_2samp(part(ours), part(theirs)).pvalue > KS_MIN_P, part.__name__
    mean_square = complex_mean_square(case, expected)
    assert abs(np.mean(np.abs(ours) ** 2) / mean_square - 1) < 0.02
    assert abs(np.mean(np.abs(theirs) ** 2) / mean_square - 1) < 0.02


@pytest.mark.parametrize("dtype, parts", [("complex64", "float32"), ("complex128", "float64")])
def test_complex_normal_is_the_pair_draw_of_the_numpy_api(dtype, parts):
    with jax.enable_x64(True):
        got = host(fj.normal(0.3)(jax.random.key(3), SHAPE, jnp.dtype(dtype)))
        scaled = host(fj.variance_scaling(2.0, "fan_in", "normal")(jax.random.key(3), SHAPE,
                                                                   jnp.dtype(dtype)))
    pairs = fastinit.normal(SHAPE + (2,), 0.0, 0.3 * math.sqrt(0.5), dtype=parts, seed=3)
    np.testing.assert_array_equal(got.real, pairs[..., 0])
    np.testing.assert_array_equal(got.imag, pairs[..., 1])
    pairs = fastinit.normal(SHAPE + (2,), 0.0, math.sqrt(2.0 / SHAPE[0] / 2), dtype=parts, seed=3)
    np.testing.assert_array_equal(scaled.real, pairs[..., 0])
    np.testing.assert_array_equal(scaled.imag, pairs[..., 1])


@pytest.mark.parametrize("dtype, parts, rtol", [("complex64", "float32", 1e-6),
                                                ("complex128", "float64", 1e-14)])
def test_complex_disks_are_the_polar_forms_of_the_pair_uniforms(dtype, parts, rtol):
    """Radius from element (i, 0), angle from element (i, 1) of uniform(shape + (2,))."""
    from fastinit._schemes import COMPLEX_TRUNCATED_STD
    variance_in, variance_avg = 2.0 / SHAPE[0], 2.0 / sum(SHAPE)
    with jax.enable_x64(True):
        disk = host(fj.he_uniform()(jax.random.key(4), SHAPE, jnp.dtype(dtype)))
        cut = host(fj.glorot_normal()(jax.random.key(4), SHAPE, jnp.dtype(dtype)))
    u = fastinit.uniform(SHAPE + (2,), dtype=parts, seed=4).astype(np.float64)
    angle = np.exp(2j * np.pi * u[..., 1])
    np.testing.assert_allclose(disk, math.sqrt(variance_in) * np.sqrt(2 * u[..., 0]) * angle,
                               rtol=rtol, atol=0)
    modulus = np.sqrt(-np.log1p(-(1 - math.exp(-4)) * u[..., 0]))
    np.testing.assert_allclose(cut, math.sqrt(variance_avg) / COMPLEX_TRUNCATED_STD * modulus
                               * angle, rtol=rtol, atol=0)


@pytest.mark.parametrize("form", ["normal", "disk", "truncated_disk"])
@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
def test_a_complex_region_is_the_slice_of_the_whole(form, dtype):
    shape = (7, 5, 6)
    whole = fj._complex_draw(9, shape, np.dtype(dtype), None, None, form, 0.7)
    for region in [(slice(2, 5),), (slice(0, 7), slice(1, 4), slice(5, 6)),
                   (slice(3, 3), slice(0, 5)), (slice(6, 7), slice(4, 5), slice(0, 1))]:
        part = fj._complex_draw(9, shape, np.dtype(dtype), region, None, form, 0.7)
        np.testing.assert_array_equal(part, whole[region])


@pytest.mark.parametrize("make", [lambda: fj.normal(), lambda: fj.lecun_uniform(),
                                  lambda: fj.he_normal()])
def test_complex_inside_jit_is_the_eager_value(make):
    init = make()
    eager = host(init(jax.random.key(10), SHAPE, jnp.complex64))
    jitted = host(jax.jit(lambda k: init(k, SHAPE, jnp.complex64))(jax.random.key(10)))
    assert jitted.dtype == np.complex64
    np.testing.assert_array_equal(jitted, eager)


@pytest.mark.parametrize("name", ["uniform", "truncated_normal", "orthogonal",
                                  "delta_orthogonal"])
def test_initializers_without_a_complex_form_refuse_complex_naming_dtype(name):
    with pytest.raises(TypeError, match="dtype complex64"):
        getattr(fj, name)(dtype=jnp.complex64)
    with pytest.raises(TypeError, match="dtype complex64"):
        getattr(fj, name)()(jax.random.key(0), (3, 4, 4), jnp.complex64)


def test_a_complex_scale_beyond_the_parts_dtype_is_refused():
    with pytest.raises(ValueError, match="overflows float32"):
        fj.variance_scaling(1e80, "fan_in", "uniform")(jax.random.key(0), SHAPE, jnp.complex64)
