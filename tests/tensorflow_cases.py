"""fastinit.keras on the TensorFlow backend, as a tf.keras user writes it: a model with
HeNormal, glorot_uniform, LecunNormal, RandomNormal, Zeros and Ones from fastinit.keras is
built, fitted, saved and loaded back bit-identical, and layers are built inside
tf.function.  tools/test_tensorflow.sh runs this with KERAS_BACKEND=tensorflow in a venv
of its own (tensorflow-cpu), next to test_keras.py and test_keras_suite.py on the same
backend; the name keeps plain `pytest tests` from collecting it."""
import os

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")

import fastinit                                   # noqa: E402
import fastinit.keras as fk                       # noqa: E402

FEATURES, CLASSES = 32, 4


def test_keras_runs_on_tensorflow():
    assert os.environ.get("KERAS_BACKEND") == "tensorflow"
    assert keras.backend.backend() == "tensorflow"
    # tf.keras is Keras 3 here: the lecture's tf.keras lines build these very layers
    assert tf.keras.layers.Dense is keras.layers.Dense


def lecture_model():
    return tf.keras.Sequential([
        tf.keras.Input((FEATURES,)),
        tf.keras.layers.Dense(64, activation="relu", kernel_initializer=fk.HeNormal(seed=1),
                              bias_initializer=fk.Zeros()),
        tf.keras.layers.Dense(48, activation="tanh", kernel_initializer=fk.glorot_uniform(seed=2),
                              bias_initializer=fk.Ones()),
        tf.keras.layers.Dense(32, activation="selu", kernel_initializer=fk.LecunNormal(seed=3)),
        tf.keras.layers.Dense(CLASSES, kernel_initializer=fk.RandomNormal(0.0, 0.01, seed=4)),
    ])


# each Dense kernel as the NumPy API makes it, with the biases' constants
NUMPY_KERNELS = [
    lambda: fastinit.variance_scaling((FEATURES, 64), 2.0, "fan_in", "truncated_normal", seed=1),
    lambda: fastinit.glorot_uniform((64, 48), seed=2),
    lambda: fastinit.lecun_normal((48, 32), truncated=True, seed=3),
    lambda: fastinit.normal((32, CLASSES), 0.0, 0.01, seed=4),
]
BIASES = [0.0, 1.0, 0.0, 0.0]


def clustered_data(n=1200):
    """CLASSES Gaussian clusters in FEATURES dimensions, at fixed seeds: separable enough
    that a few epochs fit them."""
    rng = np.random.default_rng(0)
    centres = rng.normal(0.0, 1.0, (CLASSES, FEATURES))
    labels = rng.integers(0, CLASSES, n)
    x = centres[labels] + rng.normal(0.0, 0.7, (n, FEATURES))
    return x.astype(np.float32), labels


def test_the_lecture_model_starts_from_the_numpy_api_values():
    model = lecture_model()
    for layer, kernel, bias in zip(model.layers, NUMPY_KERNELS, BIASES):
        np.testing.assert_array_equal(layer.kernel.numpy(), kernel())
        np.testing.assert_array_equal(layer.bias.numpy(), np.full(layer.bias.shape, bias, np.float32))


def test_the_lecture_model_fits_saves_and_loads_bit_identical(tmp_path):
    keras.utils.set_random_seed(0)        # the shuffling of fit
    model = lecture_model()
    model.compile(optimizer=tf.keras.optimizers.Adam(1e-2),
                  loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    x, y = clustered_data()
    history = model.fit(x, y, epochs=4, batch_size=64, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < 0.5 * losses[0], losses
    assert history.history["accuracy"][-1] > 0.9           # chance is 0.25

    path = tmp_path / "lecture.keras"
    model.save(path)
    loaded = tf.keras.models.load_model(path)
    for original, restored in zip(model.layers, loaded.layers):
        assert type(restored.kernel_initializer) is type(original.kernel_initializer)
        assert restored.kernel_initializer.get_config() == original.kernel_initializer.get_config()
        np.testing.assert_array_equal(restored.kernel.numpy(), original.kernel.numpy())
        np.testing.assert_array_equal(restored.bias.numpy(), original.bias.numpy())
    assert type(loaded.layers[1].bias_initializer) is fk.Ones
    np.testing.assert_array_equal(loaded.predict(x[:64], verbose=0), model.predict(x[:64], verbose=0))
    # the saved configuration builds the initial weights again
    fresh = tf.keras.Sequential.from_config(loaded.get_config())
    for layer, kernel in zip(fresh.layers, NUMPY_KERNELS):
        np.testing.assert_array_equal(layer.kernel.numpy(), kernel())


def test_layers_built_inside_tf_function_get_the_numpy_api_values():
    generator = keras.random.SeedGenerator(5)
    first = tf.keras.layers.Dense(16, kernel_initializer=fk.HeNormal(seed=generator))
    second = tf.keras.layers.Dense(8, kernel_initializer=fk.LecunNormal(seed=generator),
                                   bias_initializer=fk.RandomNormal(0.0, 0.1, seed=6))

    @tf.function
    def forward(x):
        return second(first(x))           # the first call builds both layers in the trace

    out = forward(tf.ones((2, 12)))
    assert tuple(out.shape) == (2, 8)
    # the generator's states (5, 0) and (5, 1): seeds 5 and 5 + 2**32
    np.testing.assert_array_equal(first.kernel.numpy(), fastinit.variance_scaling(
        (12, 16), 2.0, "fan_in", "truncated_normal", seed=5))
    np.testing.assert_array_equal(second.kernel.numpy(), fastinit.lecun_normal(
        (16, 8), truncated=True, seed=5 + 2**32))
    np.testing.assert_array_equal(second.bias.numpy(), fastinit.normal((8,), 0.0, 0.1, seed=6))


def test_an_initializer_called_inside_tf_function_gives_the_eager_values():
    generator = keras.random.SeedGenerator(11)
    init = fk.GlorotNormal(seed=generator)

    @tf.function
    def draw():
        return init((40, 30))

    first, second = draw(), draw()        # one trace, run twice: the generator advances
    np.testing.assert_array_equal(first.numpy(), fastinit.glorot_normal((40, 30), truncated=True, seed=11))
    np.testing.assert_array_equal(second.numpy(), fastinit.glorot_normal(
        (40, 30), truncated=True, seed=11 + 2**32))
    assert draw.experimental_get_tracing_count() == 1
