"""fastinit.keras: Keras 3 initializers over fastinit's stream, on any Keras backend.

    import keras, fastinit.keras
    initializer = fastinit.keras.glorot_uniform()
    weight = keras.Variable(initializer(shape=(784, 256)))
    layer = keras.layers.Dense(256, kernel_initializer=fastinit.keras.HeNormal(seed=0))

Each class has the constructor arguments, defaults and definitions of its keras.initializers
namesake (Glorot/He/Lecun normals are truncated normals with Keras's std correction, fans
follow Keras's compute_fans, VarianceScaling takes Keras's distribution names) and the
values of fastinit's NumPy API: with an int seed s, GlorotUniform(seed=s)(shape) equals
fastinit.glorot_uniform(shape, seed=s) bit for bit (the README's Keras section gives every
class's NumPy call).  The classes are registered as "fastinit>ClassName", so saved models
load with fastinit's initializers.
"""
import random as _python_random

import keras

from . import _api, _arrays
from ._fans import compute_fans

__all__ = [
    "Constant", "GlorotNormal", "GlorotUniform", "HeNormal", "HeUniform", "Identity",
    "LecunNormal", "LecunUniform", "Ones", "Orthogonal", "RandomNormal", "RandomUniform",
    "TruncatedNormal", "VarianceScaling", "Zeros", "constant", "glorot_normal",
    "glorot_uniform", "he_normal", "he_uniform", "identity", "lecun_normal", "lecun_uniform",
    "ones", "orthogonal", "random_normal", "random_uniform", "truncated_normal",
    "variance_scaling", "zeros", "keras_fans",
]

# Keyless initializers: nothing random, so Keras's own are re-exported.
Constant = keras.initializers.Constant
Zeros = keras.initializers.Zeros
Ones = keras.initializers.Ones
Identity = keras.initializers.Identity
constant, zeros, ones, identity = Constant, Zeros, Ones, Identity

_register = keras.saving.register_keras_serializable(package="fastinit")


def _make_default_seed():
    # keras.src.random.seed_generator.make_default_seed: Python's global generator, which
    # keras.utils.set_random_seed seeds, so seed=None is reproducible after it
    return _python_random.randint(1, int(1e9))


def keras_fans(shape, input_axes=None, output_axes=None):
    """keras_fans(shape, input_axes=None, output_axes=None) -> (fan_in, fan_out), as Keras 3's
    compute_fans: with both axis lists, the products of those axes alone; otherwise 0-d
    (1, 1), 1-d (n, n), and (*kernel, fan_in, fan_out) from 2-d on."""
    shape = tuple(shape)
    if input_axes is not None and output_axes is not None:
        for name, axes in (("input_axes", input_axes), ("output_axes", output_axes)):
            if any(not -len(shape) <= a < len(shape) for a in axes):
                raise ValueError(f"{name}={axes!r} is out of range for shape {shape}")
        ins = tuple(a % len(shape) for a in input_axes)
        outs = tuple(a % len(shape) for a in output_axes)
        rest = tuple(i for i in range(len(shape)) if i not in ins and i not in outs)
        return compute_fans(shape, in_axis=ins, out_axis=outs, batch_axis=rest)
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    return compute_fans(shape)


class _SeededInitializer(keras.initializers.Initializer):
    """Keras 3's seed semantics (keras.src.initializers.RandomInitializer): an int gives the
    same values on every call; None draws an int once, at construction, from Python's
    global generator (as Keras does, so keras.utils.set_random_seed fixes it); a
    keras.random.SeedGenerator gives new values on every call."""

    def __init__(self, seed=None):
        self._init_seed = seed
        if seed is None:
            seed = _make_default_seed()
        elif isinstance(seed, dict):
            seed = keras.saving.deserialize_keras_object(seed)
        if isinstance(seed, bool) or not isinstance(seed, (int, keras.random.SeedGenerator)):
            raise ValueError(f"seed must be None, an int or a keras.random.SeedGenerator, "
                             f"got {seed!r}")
        if isinstance(seed, int) and seed < 0:
            raise ValueError(f"seed must be non-negative, got {seed}")
        self.seed = seed

    def _fastinit_seed(self):
        """The NumPy API's seed for this call: the int seed, or for a SeedGenerator its next
        state (a, b) (advanced as Keras's own random ops advance it) read as a + 2**32 b,
        so that the first call of SeedGenerator(s) gives the values of seed=s."""
        if isinstance(self.seed, int):
            return self.seed
        a, b = (int(w) & 0xFFFFFFFF for w in keras.ops.convert_to_numpy(self.seed.next()))
        return a + (b << 32)

    def __call__(self, shape, dtype=None):
        dtype = keras.backend.standardize_dtype(dtype)
        values = self._values(tuple(shape), dtype, self._fastinit_seed())
        return keras.ops.convert_to_tensor(values, dtype=dtype)

    def _values(self, shape, dtype, seed):
        raise NotImplementedError

    def get_config(self):
        return {"seed": keras.saving.serialize_keras_object(self._init_seed)}


@_register
class RandomUniform(_SeededInitializer):
    """RandomUniform(minval=-0.05, maxval=0.05, seed=None): values on [minval, maxval);
    fastinit.uniform(shape, minval, maxval, seed=seed)."""

    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        minval, maxval = _arrays.python_scalar(minval), _arrays.python_scalar(maxval)
        _api.uniform((0,), minval, maxval)            # the NumPy API's checks, now
        self.minval = minval
        self.maxval = maxval
        super().__init__(seed=seed)

    def _values(self, shape, dtype, seed):
        return _api.uniform(shape, self.minval, self.maxval, dtype=dtype, seed=seed)

    def get_config(self):
        return {**super().get_config(), "minval": self.minval, "maxval": self.maxval}


@_register
class RandomNormal(_SeededInitializer):
    """RandomNormal(mean=0.0, stddev=0.05, seed=None): fastinit.normal(shape, mean, stddev,
    seed=seed)."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        mean, stddev = _arrays.python_scalar(mean), _arrays.python_scalar(stddev)
        _api.normal((0,), mean, stddev)
        self.mean = mean
        self.stddev = stddev
        super().__init__(seed=seed)

    def _values(self, shape, dtype, seed):
        return _api.normal(shape, self.mean, self.stddev, dtype=dtype, seed=seed)

    def get_config(self):
        return {**super().get_config(), "mean": self.mean, "stddev": self.stddev}


@_register
class TruncatedNormal(_SeededInitializer):
    """TruncatedNormal(mean=0.0, stddev=0.05, seed=None): the normal cut at 2 stddev, with
    no variance correction (as Keras); fastinit.truncated_normal(shape, mean, stddev,
    seed=seed)."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        mean, stddev = _arrays.python_scalar(mean), _arrays.python_scalar(stddev)
        _api.truncated_normal((0,), mean, stddev)
        self.mean = mean
        self.stddev = stddev
        super().__init__(seed=seed)

    def _values(self, shape, dtype, seed):
        return _api.truncated_normal(shape, self.mean, self.stddev, dtype=dtype, seed=seed)

    def get_config(self):
        return {**super().get_config(), "mean": self.mean, "stddev": self.stddev}


_KERAS_MODES = ("fan_in", "fan_out", "fan_avg")
_KERAS_DISTRIBUTIONS = ("truncated_normal", "untruncated_normal", "uniform")


@_register
class VarianceScaling(_SeededInitializer):
    """VarianceScaling(scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None,
    input_axes=None, output_axes=None), as Keras 3: variance scale / n, n = fan_in, fan_out
    or their mean (at least 1), fans by keras_fans; distribution "truncated_normal" (std
    corrected by 0.8796..., cut at 2 std), "untruncated_normal" or "uniform"; Keras reads
    "normal" as "truncated_normal".  fastinit.variance_scaling(shape, scale, mode,
    distribution, fan_in=, fan_out=, seed=seed) with those fans."""

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None,
                 input_axes=None, output_axes=None):
        if not isinstance(distribution, str):
            raise TypeError(f"distribution must be a string, got {distribution!r}")
        distribution = distribution.lower()
        if distribution == "normal":
            distribution = "truncated_normal"
        if distribution not in _KERAS_DISTRIBUTIONS:
            raise ValueError(f"distribution must be one of {_KERAS_DISTRIBUTIONS}, got {distribution!r}")
        if mode not in _KERAS_MODES:
            raise ValueError(f"mode must be one of {_KERAS_MODES}, got {mode!r}")
        scale = _arrays.python_scalar(scale)
        _api.variance_scaling((0, 0), scale, mode, distribution)
        self.scale = scale
        self.mode = mode
        self.distribution = distribution
        self.input_axes = input_axes
        self.output_axes = output_axes
        super().__init__(seed=seed)

    def _values(self, shape, dtype, seed):
        fan_in, fan_out = keras_fans(shape, self.input_axes, self.output_axes)
        # Keras divides by max(1, n): an empty shape has a zero fan and no values to scale
        return _api.variance_scaling(shape, self.scale, self.mode, self.distribution,
                                     fan_in=max(fan_in, 1), fan_out=max(fan_out, 1),
                                     dtype=dtype, seed=seed)

    def get_config(self):
        return {**super().get_config(), "scale": self.scale, "mode": self.mode,
                "distribution": self.distribution, "input_axes": self.input_axes,
                "output_axes": self.output_axes}


def _named_scheme(name, scale, mode, distribution):
    class NamedScheme(VarianceScaling):
        def __init__(self, seed=None, input_axes=None, output_axes=None):
            super().__init__(scale=scale, mode=mode, distribution=distribution, seed=seed,
                             input_axes=input_axes, output_axes=output_axes)

        def get_config(self):
            return {"seed": keras.saving.serialize_keras_object(self._init_seed),
                    "input_axes": self.input_axes, "output_axes": self.output_axes}

    NamedScheme.__name__ = NamedScheme.__qualname__ = name
    NamedScheme.__module__ = __name__
    NamedScheme.__doc__ = (
        f"{name}(seed=None, input_axes=None, output_axes=None), as keras.initializers.{name}: "
        f"VarianceScaling(scale={scale}, mode={mode!r}, distribution={distribution!r}).")
    return _register(NamedScheme)


GlorotUniform = _named_scheme("GlorotUniform", 1.0, "fan_avg", "uniform")
GlorotNormal = _named_scheme("GlorotNormal", 1.0, "fan_avg", "truncated_normal")
LecunUniform = _named_scheme("LecunUniform", 1.0, "fan_in", "uniform")
LecunNormal = _named_scheme("LecunNormal", 1.0, "fan_in", "truncated_normal")
HeUniform = _named_scheme("HeUniform", 2.0, "fan_in", "uniform")
HeNormal = _named_scheme("HeNormal", 2.0, "fan_in", "truncated_normal")


@_register
class Orthogonal(_SeededInitializer):
    """Orthogonal(gain=1.0, seed=None), as Keras 3: the shape flattened to
    (prod(shape[:-1]), shape[-1]), orthonormal rows or columns times gain;
    fastinit.orthogonal(shape, gain, seed=seed)."""

    def __init__(self, gain=1.0, seed=None):
        gain = _arrays.python_scalar(gain)
        _api.orthogonal((0, 0), gain)
        self.gain = gain
        super().__init__(seed=seed)

    def _values(self, shape, dtype, seed):
        return _api.orthogonal(shape, self.gain, dtype=dtype, seed=seed)

    def get_config(self):
        return {**super().get_config(), "gain": self.gain}


# the snake-case names Keras and tf.keras users type
random_uniform, random_normal, truncated_normal = RandomUniform, RandomNormal, TruncatedNormal
variance_scaling, orthogonal = VarianceScaling, Orthogonal
glorot_uniform, glorot_normal = GlorotUniform, GlorotNormal
lecun_uniform, lecun_normal = LecunUniform, LecunNormal
he_uniform, he_normal = HeUniform, HeNormal
