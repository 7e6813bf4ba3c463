"""fastinit.keras against Keras 3 itself (same fans, same seeds, same distribution by
two-sample KS at fixed seeds) and against the NumPy API (the same bits).

Keras fixes its backend at import: this module runs on KERAS_BACKEND (jax when unset) in
the main test process, test_in_subprocesses.py runs it again with KERAS_BACKEND=torch,
and tools/test_tensorflow.sh with KERAS_BACKEND=tensorflow in a venv of its own.
Keras's own initializer tests run against fastinit.keras in test_keras_suite.py."""
import math
import os

import numpy as np
import pytest

BACKEND = os.environ.setdefault("KERAS_BACKEND", "jax")
pytest.importorskip(BACKEND)
keras = pytest.importorskip("keras")
from keras.src.initializers.random_initializers import compute_fans as keras_compute_fans  # noqa: E402
from scipy import stats                                   # noqa: E402

import fastinit                                           # noqa: E402
import fastinit.keras as fk                               # noqa: E402

SHAPE = (96, 80)
KS_SAMPLES = (400, 300)        # 120k values a side
KS_MIN_P = 1e-3                # fixed seeds: the p-values are fixed numbers, checked once


def test_keras_runs_on_the_requested_backend():
    assert keras.backend.backend() == BACKEND


def values(tensor):
    return keras.ops.convert_to_numpy(tensor)


# ---------------------------------------------------------------- the same bits as the NumPy API

BITS = [
    # (fastinit.keras initializer with seed s, the NumPy API call with seed s)
    (lambda s: fk.GlorotUniform(seed=s), lambda sh, s, **kw: fastinit.glorot_uniform(sh, seed=s, **kw)),
    (lambda s: fk.glorot_uniform(seed=s), lambda sh, s, **kw: fastinit.xavier_uniform(sh, seed=s, **kw)),
    (lambda s: fk.GlorotNormal(seed=s),
     lambda sh, s, **kw: fastinit.glorot_normal(sh, truncated=True, seed=s, **kw)),
    (lambda s: fk.LecunUniform(seed=s), lambda sh, s, **kw: fastinit.lecun_uniform(sh, seed=s, **kw)),
    (lambda s: fk.lecun_normal(seed=s),
     lambda sh, s, **kw: fastinit.lecun_normal(sh, truncated=True, seed=s, **kw)),
    (lambda s: fk.HeUniform(seed=s),
     lambda sh, s, **kw: fastinit.variance_scaling(sh, 2.0, "fan_in", "uniform", seed=s, **kw)),
    (lambda s: fk.he_normal(seed=s),
     lambda sh, s, **kw: fastinit.variance_scaling(sh, 2.0, "fan_in", "truncated_normal", seed=s, **kw)),
    (lambda s: fk.VarianceScaling(0.3, "fan_out", "untruncated_normal", seed=s),
     lambda sh, s, **kw: fastinit.variance_scaling(sh, 0.3, "fan_out", "normal", seed=s, **kw)),
    (lambda s: fk.VarianceScaling(0.3, "fan_avg", "normal", seed=s),   # Keras: "normal" is truncated
     lambda sh, s, **kw: fastinit.variance_scaling(sh, 0.3, "fan_avg", "truncated_normal", seed=s, **kw)),
    (lambda s: fk.RandomUniform(seed=s), lambda sh, s, **kw: fastinit.uniform(sh, -0.05, 0.05, seed=s, **kw)),
    (lambda s: fk.RandomNormal(0.5, 2.0, seed=s), lambda sh, s, **kw: fastinit.normal(sh, 0.5, 2.0, seed=s, **kw)),
    (lambda s: fk.TruncatedNormal(seed=s),
     lambda sh, s, **kw: fastinit.truncated_normal(sh, 0.0, 0.05, seed=s, **kw)),
    (lambda s: fk.Orthogonal(1.5, seed=s), lambda sh, s, **kw: fastinit.orthogonal(sh, 1.5, seed=s, **kw)),
]


@pytest.mark.parametrize("make, numpy_call", BITS)
@pytest.mark.parametrize("seed", [0, 3])
def test_int_seed_s_gives_the_numpy_api_values_of_seed_s(make, numpy_call, seed):
    got = make(seed)(SHAPE)
    assert keras.ops.is_tensor(got) and tuple(got.shape) == SHAPE
    assert keras.backend.standardize_dtype(got.dtype) == "float32"
    np.testing.assert_array_equal(values(got), numpy_call(SHAPE, seed))


def test_conv_kernel_fans_as_keras():
    shape = (3, 3, 16, 32)
    want = fastinit.he_uniform(shape, seed=5)          # (*kernel, in, out): fastinit's in_out
    got = fk.VarianceScaling(2.0, "fan_in", "uniform", seed=5)(shape)
    np.testing.assert_array_equal(values(got), fastinit.variance_scaling(
        shape, 2.0, "fan_in", "uniform", seed=5))
    assert want.shape == shape


def test_the_lecture_lines():
    initializer = fk.glorot_uniform()
    weight = keras.Variable(initializer(shape=(784, 256)))
    assert tuple(weight.shape) == (784, 256)
    bound = math.sqrt(6 / (784 + 256))
    w = values(weight)
    assert w.min() >= -bound and w.max() < bound
    for name in ("lecun_normal", "he_uniform"):
        assert tuple(keras.Variable(getattr(fk, name)()(shape=(64, 32))).shape) == (64, 32)


@pytest.mark.parametrize("shape, input_axes, output_axes", [
    ((), None, None), ((7,), None, None), ((7, 9), None, None), ((3, 3, 8, 16), None, None),
    ((2, 3, 5, 7, 11), None, None), ((4, 6, 10), [0], [1, 2]), ((4, 6, 10), [0, 1], [2]),
    ((4, 6, 10), [0], None), ((5, 3, 4, 2), [1], [-1]),
])
def test_fans_equal_keras_compute_fans(shape, input_axes, output_axes):
    assert fk.keras_fans(shape, input_axes, output_axes) == keras_compute_fans(
        shape, input_axes, output_axes)


def test_input_and_output_axes_set_the_fans():
    shape = (4, 6, 10)
    init = fk.LecunUniform(seed=1, input_axes=[0], output_axes=[1, 2])
    np.testing.assert_array_equal(values(init(shape)), fastinit.lecun_uniform(
        shape, fan_in=4, fan_out=60, seed=1))


def test_one_dimensional_shapes_use_keras_fans():
    got = values(fk.LecunNormal(seed=2)((50,)))
    np.testing.assert_array_equal(got, fastinit.lecun_normal(
        (50,), truncated=True, fan_in=50, fan_out=50, seed=2))


# ---------------------------------------------------------------- seeds as Keras 3

def test_an_int_seed_gives_the_same_values_on_every_call():
    init = fk.GlorotNormal(seed=12)
    np.testing.assert_array_equal(values(init(SHAPE)), values(init(SHAPE)))


def test_seed_none_draws_the_seed_keras_would_draw_after_set_random_seed():
    keras.utils.set_random_seed(1234)
    theirs = keras.initializers.GlorotUniform()
    keras.utils.set_random_seed(1234)
    ours = fk.GlorotUniform()
    assert isinstance(ours.seed, int) and ours.seed == theirs.seed
    np.testing.assert_array_equal(values(ours(SHAPE)), values(ours(SHAPE)))
    np.testing.assert_array_equal(values(ours(SHAPE)),
                                  fastinit.glorot_uniform(SHAPE, seed=ours.seed))
    keras.utils.set_random_seed(1234)
    np.testing.assert_array_equal(values(fk.GlorotUniform()(SHAPE)), values(ours(SHAPE)))


def test_seed_none_without_set_random_seed_gives_each_initializer_its_own_seed():
    keras.utils.set_random_seed(99)
    first, second = fk.HeNormal(), fk.HeNormal()
    assert first.seed != second.seed
    assert not np.array_equal(values(first(SHAPE)), values(second(SHAPE)))


def test_a_seed_generator_gives_new_values_on_every_call():
    init = fk.RandomNormal(seed=keras.random.SeedGenerator(5))
    first, second = values(init(SHAPE)), values(init(SHAPE))
    # its state (5, 0) then (5, 1): seeds 5 and 5 + 2**32
    np.testing.assert_array_equal(first, fastinit.normal(SHAPE, 0.0, 0.05, seed=5))
    np.testing.assert_array_equal(second, fastinit.normal(SHAPE, 0.0, 0.05, seed=5 + 2**32))


# ---------------------------------------------------------------- the same distribution as Keras

KS_CASES = ["GlorotUniform", "GlorotNormal", "LecunUniform", "LecunNormal", "HeUniform",
            "HeNormal", "RandomUniform", "RandomNormal", "TruncatedNormal"]


@pytest.mark.parametrize("name", KS_CASES)
def test_same_distribution_as_keras_own_class(name):
    ours = values(getattr(fk, name)(seed=2024)(KS_SAMPLES)).ravel()
    theirs = values(getattr(keras.initializers, name)(seed=2024)(KS_SAMPLES)).ravel()
    assert stats.ks_2samp(ours, theirs).pvalue > KS_MIN_P
    assert abs(ours.std() / theirs.std() - 1) < 0.02


@pytest.mark.parametrize("distribution", ["truncated_normal", "untruncated_normal", "uniform", "normal"])
@pytest.mark.parametrize("mode", ["fan_in", "fan_out", "fan_avg"])
def test_variance_scaling_same_distribution_as_keras(distribution, mode):
    shape = (3, 3, 120, 100)
    ours = values(fk.VarianceScaling(0.7, mode, distribution, seed=11)(shape)).ravel()
    theirs = values(keras.initializers.VarianceScaling(0.7, mode, distribution, seed=11)(shape)).ravel()
    assert stats.ks_2samp(ours, theirs).pvalue > KS_MIN_P


def test_orthogonal_is_orthogonal_as_keras():
    for shape in ((64, 48), (48, 64), (4, 4, 8, 16)):
        q = values(fk.Orthogonal(gain=2.0, seed=3)(shape)).reshape(-1, shape[-1]).astype(np.float64)
        small = min(q.shape)
        gram = q.T @ q if q.shape[0] >= q.shape[1] else q @ q.T
        np.testing.assert_allclose(gram, 4.0 * np.eye(small), atol=1e-4)


# ---------------------------------------------------------------- dtypes

def test_float64_follows_keras_dtype_rules():
    ours = fk.RandomNormal(seed=1)(SHAPE, dtype="float64")
    theirs = keras.initializers.RandomNormal(seed=1)(SHAPE, dtype="float64")
    assert keras.backend.standardize_dtype(ours.dtype) == keras.backend.standardize_dtype(theirs.dtype)
    if keras.backend.standardize_dtype(ours.dtype) == "float64":
        np.testing.assert_array_equal(values(ours), fastinit.normal(
            SHAPE, 0.0, 0.05, dtype=np.float64, seed=1))


def test_default_dtype_is_keras_floatx():
    assert keras.backend.standardize_dtype(fk.HeUniform(seed=0)((4, 4)).dtype) == keras.config.floatx()


# ---------------------------------------------------------------- serialization and layers

ALL_CLASSES = [fk.GlorotUniform, fk.GlorotNormal, fk.LecunUniform, fk.LecunNormal, fk.HeUniform,
               fk.HeNormal, fk.RandomUniform, fk.RandomNormal, fk.TruncatedNormal,
               fk.VarianceScaling, fk.Orthogonal]


@pytest.mark.parametrize("cls", ALL_CLASSES)
def test_config_round_trip_gives_equal_values(cls):
    init = cls(seed=21)
    again = cls.from_config(init.get_config())
    assert type(again) is cls and again.get_config() == init.get_config()
    np.testing.assert_array_equal(values(again(SHAPE)), values(init(SHAPE)))
    rebuilt = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(init))
    assert type(rebuilt) is cls
    np.testing.assert_array_equal(values(rebuilt(SHAPE)), values(init(SHAPE)))


@pytest.mark.parametrize("cls", ALL_CLASSES)
def test_config_has_keras_keys(cls):
    assert set(cls(seed=1).get_config()) == set(getattr(keras.initializers, cls.__name__)(seed=1).get_config())


def test_classes_are_registered_under_fastinit():
    for cls in ALL_CLASSES:
        assert keras.saving.get_registered_object(f"fastinit>{cls.__name__}") is cls
        assert issubclass(cls, keras.initializers.Initializer)


def test_dense_kernel_initializer_gives_the_numpy_api_values():
    layer = keras.layers.Dense(24, kernel_initializer=fk.HeNormal(seed=8))
    layer.build((None, 40))
    np.testing.assert_array_equal(values(layer.kernel), fastinit.variance_scaling(
        (40, 24), 2.0, "fan_in", "truncated_normal", seed=8))


def test_model_save_and_load_keep_fastinit_initializers(tmp_path):
    model = keras.Sequential([
        keras.Input((40,)),
        keras.layers.Dense(24, kernel_initializer=fk.GlorotUniform(seed=4)),
        keras.layers.Dense(8, kernel_initializer=fk.VarianceScaling(0.5, "fan_avg", "uniform", seed=6),
                           bias_initializer=fk.RandomNormal(0.0, 0.01, seed=1)),
    ])
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    for original, restored in zip(model.layers, loaded.layers):
        assert type(restored.kernel_initializer) is type(original.kernel_initializer)
        assert type(restored.kernel_initializer).__module__ == "fastinit.keras"
        assert restored.kernel_initializer.get_config() == original.kernel_initializer.get_config()
        np.testing.assert_array_equal(values(restored.kernel), values(original.kernel))
    assert type(loaded.layers[1].bias_initializer) is fk.RandomNormal
    # a model rebuilt from the saved configuration draws the same weights again
    fresh = keras.Sequential.from_config(loaded.get_config())
    np.testing.assert_array_equal(values(fresh.layers[0].kernel),
                                  fastinit.glorot_uniform((40, 24), seed=4))


# ---------------------------------------------------------------- bad input

def test_bad_seeds_are_refused_naming_seed():
    # True and -1 Keras accepts (a bool is an int to it): fastinit's seeds are non-negative
    # ints, as in its NumPy API (docs/keras_jax.md)
    for seed in ("7", 1.5, True, False, [1], -1):
        for cls in ALL_CLASSES:
            with pytest.raises(ValueError, match="seed"):
                cls(seed=seed)


def test_bad_arguments_are_refused_at_construction():
    with pytest.raises(ValueError, match="mode"):
        fk.VarianceScaling(mode="fan_geo_avg")          # jax's mode, not Keras's
    with pytest.raises(ValueError, match="distribution"):
        fk.VarianceScaling(distribution="gaussian")
    with pytest.raises(TypeError, match="distribution"):
        fk.VarianceScaling(distribution=1)
    with pytest.raises(ValueError, match="scale"):
        fk.VarianceScaling(scale=0.0)
    with pytest.raises(TypeError, match="scale"):
        fk.VarianceScaling(scale="2")
    with pytest.raises(ValueError, match="scale"):
        fk.VarianceScaling(scale=float("nan"))
    with pytest.raises(ValueError, match="gain"):
        fk.Orthogonal(gain=-1.0)
    with pytest.raises(ValueError, match="mean"):
        fk.RandomNormal(mean=float("inf"))


def test_keras_error_messages_for_what_keras_checks():
    # Keras's own texts, which its test suite matches (test_keras_suite.py)
    with pytest.raises(ValueError, match="Argument `scale` must be positive float"):
        fk.VarianceScaling(scale=-1.0)
    with pytest.raises(ValueError, match="Invalid `mode` argument"):
        fk.VarianceScaling(mode="invalid_mode")
    with pytest.raises(ValueError, match="Invalid `distribution` argument"):
        fk.VarianceScaling(distribution="invalid_dist")


@pytest.mark.parametrize("minval, maxval", [(1.0, 0.0), (0.5, 0.5)])
def test_an_empty_or_reversed_uniform_range_is_refused_naming_minval_and_maxval(minval, maxval):
    # Keras accepts it and its backends disagree (docs/keras_jax.md)
    with pytest.raises(ValueError, match="minval must be less than maxval"):
        fk.RandomUniform(minval=minval, maxval=maxval)


@pytest.mark.parametrize("cls", [fk.RandomNormal, fk.TruncatedNormal])
def test_a_negative_stddev_is_refused_naming_stddev(cls):
    with pytest.raises(ValueError, match="stddev must be at least 0"):
        cls(stddev=-1.0)
    # zero is a constant, as in Keras
    np.testing.assert_array_equal(values(cls(0.25, 0.0, seed=1)((3, 4))), np.full((3, 4), 0.25, np.float32))


def test_bad_calls_are_refused():
    with pytest.raises(ValueError, match="dimensions"):
        fk.Orthogonal(seed=0)((5,))


@pytest.mark.parametrize("dtype", ["int32", "uint8", "bool"])
def test_non_float_dtypes_are_a_value_error_as_in_keras(dtype):
    with pytest.raises(ValueError, match=f"dtype must be a floating-point dtype, got {dtype}"):
        fk.GlorotUniform(seed=0)((4, 4), dtype=dtype)


def test_float_dtypes_fastinit_does_not_draw_are_a_type_error_naming_dtype():
    with pytest.raises(TypeError, match="dtype"):
        fk.RandomNormal(seed=0)((4, 4), dtype="float8_e4m3fn")


@pytest.mark.parametrize("shape", [(None, 4), (3, None, 2), [None]])
def test_a_shape_with_unknown_dimensions_is_refused_naming_shape(shape):
    with pytest.raises(ValueError, match=r"shape must be fully defined .*None"):
        fk.GlorotUniform(seed=0)(shape)


def test_scalar_tensor_arguments_are_read_as_numbers():
    init = fk.RandomUniform(minval=keras.ops.convert_to_tensor(-0.5), maxval=keras.ops.convert_to_tensor(0.25), seed=2)
    np.testing.assert_array_equal(values(init(SHAPE)), fastinit.uniform(SHAPE, -0.5, 0.25, seed=2))
    assert init.get_config()["minval"] == -0.5


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
@pytest.mark.parametrize("make, numpy_call", BITS)
def test_half_precision_gives_the_numpy_api_half_values(make, numpy_call, dtype):
    got = make(3)(SHAPE, dtype=dtype)
    assert keras.backend.standardize_dtype(got.dtype) == dtype
    want = numpy_call(SHAPE, 3, dtype=dtype)
    # float32 holds every half value exactly: compare there (numpy has no bfloat16 of its own)
    np.testing.assert_array_equal(values(keras.ops.cast(got, "float32")), want.astype(np.float32))


@pytest.mark.parametrize("cls", ALL_CLASSES)
def test_constructor_arguments_and_defaults_are_keras(cls):
    import inspect

    def parameters(c):
        return [(p.name, p.default) for p in inspect.signature(c.__init__).parameters.values()]
    assert parameters(cls) == parameters(getattr(keras.initializers, cls.__name__))


def test_snake_case_names_are_the_classes_as_in_keras():
    for name in ("glorot_uniform", "glorot_normal", "lecun_uniform", "lecun_normal",
                 "he_uniform", "he_normal", "random_uniform", "random_normal",
                 "truncated_normal", "variance_scaling", "orthogonal", "constant", "zeros",
                 "ones", "identity"):
        ours, theirs = getattr(fk, name), getattr(keras.initializers, name)
        assert ours.__name__ == theirs.__name__


def test_axes_out_of_range_are_refused_naming_them():
    with pytest.raises(ValueError, match="input_axes"):
        fk.LecunUniform(seed=0, input_axes=[3], output_axes=[1])((4, 6, 10))


# ---------------------------------------------------------------- what Keras's layers see

VARIANCE_SCALING_CLASSES = [fk.VarianceScaling, fk.GlorotUniform, fk.GlorotNormal,
                            fk.LecunUniform, fk.LecunNormal, fk.HeUniform, fk.HeNormal]


@pytest.mark.parametrize("cls", ALL_CLASSES)
def test_each_class_is_an_instance_of_its_keras_namesake(cls):
    init = cls(seed=1)
    assert isinstance(init, getattr(keras.initializers, cls.__name__))
    assert isinstance(init, keras.initializers.Initializer)


@pytest.mark.parametrize("cls", VARIANCE_SCALING_CLASSES)
def test_the_variance_scaling_family_is_keras_variance_scaling(cls):
    # EinsumDense.build passes the kernel's axes only to keras.initializers.VarianceScaling
    init = cls(seed=1)
    assert isinstance(init, keras.initializers.VarianceScaling)
    assert isinstance(init, fk.VarianceScaling)


def test_einsum_dense_gives_the_kernel_axes_to_the_fans():
    layer = keras.layers.EinsumDense("abc,cde->abde", output_shape=(None, 8, 32),
                                     kernel_initializer=fk.LecunUniform(seed=4))
    layer.build((None, 10, 48))
    kernel_shape = (48, 8, 32)
    assert tuple(layer.kernel.shape) == kernel_shape
    # input axis c, output axes d, e: fan_in 48, fan_out 256 (conv-style fans would be 384, ...)
    np.testing.assert_array_equal(values(layer.kernel), fastinit.lecun_uniform(
        kernel_shape, fan_in=48, fan_out=8 * 32, seed=4))


def test_multi_head_attention_query_kernel_has_keras_lecun_normal_std():
    dim, heads, key_dim = 256, 8, 32

    def query_kernel(initializer):
        mha = keras.layers.MultiHeadAttention(num_heads=heads, key_dim=key_dim,
                                              kernel_initializer=initializer)
        mha.build((None, 10, dim), (None, 10, dim))
        kernel = values(mha.query_dense.kernel)
        assert kernel.shape == (dim, heads, key_dim)
        return kernel

    ours = query_kernel(fk.LecunNormal(seed=2024))
    theirs = query_kernel(keras.initializers.LecunNormal(seed=2024))
    # the fans Keras gives its own LecunNormal there: fan_in = dim, whatever the heads
    np.testing.assert_array_equal(ours, fastinit.lecun_normal(
        ours.shape, truncated=True, fan_in=dim, fan_out=heads * key_dim, seed=2024))
    assert stats.ks_2samp(ours.ravel(), theirs.ravel()).pvalue > KS_MIN_P
    # 65536 values a side: the standard error of each std is about 0.3 %
    assert abs(ours.std() / theirs.std() - 1) < 0.02
    assert abs(ours.std() / math.sqrt(1 / dim) - 1) < 0.02


# ---------------------------------------------------------------- a SeedGenerator inside a trace

def traced(function):
    """function() as the active backend traces it (jax.jit, tf.function, torch.compile),
    run twice; a jitted JAX function threads the generator's state through
    keras.StatelessScope, as Keras's JAX trainer does."""
    if BACKEND == "jax":
        import jax

        def run(generator):
            @jax.jit
            def step(state):
                with keras.StatelessScope(state_mapping=[(generator.state, state)]) as scope:
                    out = function()
                    return out, scope.get_current_value(generator.state)
            out, state = step(generator.state.value)
            generator.state.assign(state)
            return out
        return run
    if BACKEND == "tensorflow":
        import tensorflow as tf
        compiled = tf.function(function)
    else:
        import torch
        compiled = torch.compile(function)    # fastinit's call is a graph break
    return lambda generator: compiled()


@pytest.mark.parametrize("make, numpy_call", BITS[:2] + BITS[7:12])
def test_a_seed_generator_inside_a_trace_gives_the_eager_values(make, numpy_call):
    generator = keras.random.SeedGenerator(9)
    init = make(generator)
    run = traced(lambda: init(SHAPE))
    first, second = values(run(generator)), values(run(generator))
    np.testing.assert_array_equal(first, numpy_call(SHAPE, 9))
    np.testing.assert_array_equal(second, numpy_call(SHAPE, 9 + 2**32))
    assert tuple(int(w) for w in values(generator.state.value)) == (9, 2)


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_a_seed_generator_inside_a_trace_keeps_the_dtype(dtype):
    generator = keras.random.SeedGenerator(3)
    init = fk.HeUniform(seed=generator)
    got = traced(lambda: init(SHAPE, dtype=dtype))(generator)
    assert keras.backend.standardize_dtype(got.dtype) == dtype
    want = fastinit.variance_scaling(SHAPE, 2.0, "fan_in", "uniform", dtype=dtype, seed=3)
    np.testing.assert_array_equal(values(keras.ops.cast(got, "float32")), want.astype(np.float32))


def test_an_int_seed_inside_a_trace_gives_the_eager_values():
    generator = keras.random.SeedGenerator(0)      # unused: the run helper's signature
    got = traced(lambda: fk.GlorotNormal(seed=5)(SHAPE))(generator)
    np.testing.assert_array_equal(values(got), fastinit.glorot_normal(SHAPE, truncated=True, seed=5))
