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
class's NumPy call).  Each class is a subclass of its Keras namesake (fastinit's GlorotUniform
is a keras.initializers.GlorotUniform and VarianceScaling), so Keras's own isinstance checks
treat it as theirs, and is registered as "fastinit>ClassName", so saved models load with
fastinit's initializers.  A keras.random.SeedGenerator seed works inside jax.jit and
tf.function too (docs/keras_jax.md).
"""
import keras
import numpy as np

from . import _api, _arrays
from ._fans import compute_fans
from ._schemes import check_real

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

# Keras's classes that fastinit's subclass, captured at import: code (or a test) may later
# put fastinit's classes in their place in keras.initializers
_KERAS = {name: getattr(keras.initializers, name) for name in (
    "RandomUniform", "RandomNormal", "TruncatedNormal", "VarianceScaling", "Orthogonal",
    "GlorotUniform", "GlorotNormal", "LecunUniform", "LecunNormal", "HeUniform", "HeNormal")}


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


def _checked_shape(shape):
    """shape as a tuple, or a ValueError naming it when a dimension is unknown (None): an
    initializer makes concrete values."""
    shape = tuple(shape)
    if any(d is None for d in shape):
        raise ValueError(f"shape must be fully defined to initialize a weight, got {shape}: "
                         f"every dimension a known int (None is a placeholder for a batch)")
    return shape


def _checked_dtype(dtype):
    """Keras's standardized name of dtype (floatx() for None); a ValueError for a dtype that
    is not floating point, as Keras's random ops raise on its jax backend (its torch and
    tensorflow backends raise other errors)."""
    dtype = keras.backend.standardize_dtype(dtype)
    if not keras.backend.is_float_dtype(dtype):
        raise ValueError(f"dtype must be a floating-point dtype, got {dtype}")
    return dtype


def _seed_of_state(state):
    """The NumPy API's seed for a SeedGenerator state (a, b): a + 2**32 b, each word read as
    uint32 (the backends keep it as int32, int64 or uint32)."""
    a, b = (int(w) & 0xFFFFFFFF for w in np.asarray(state).reshape(-1)[:2])
    return a + (b << 32)


def _tensor_of_seed_state(state, values_of_seed, shape, dtype):
    """values_of_seed(seed) for the seed a SeedGenerator state holds, as the active
    backend's tensor.  A concrete state is read at once; a traced one (inside jax.jit or
    tf.function) is read when the traced program runs, by a host callback that makes the
    same values, so a trace gives the bits an eager call gives."""
    backend = keras.backend.backend()
    if backend == "jax":
        import jax
        if isinstance(state, jax.core.Tracer):
            # float64 without jax_enable_x64 is float32, as an eager convert_to_tensor makes it
            out = jax.ShapeDtypeStruct(shape, jax.dtypes.canonicalize_dtype(dtype))
            return jax.pure_callback(
                lambda s: values_of_seed(_seed_of_state(s)).astype(out.dtype, copy=False),
                out, state)
    elif backend == "tensorflow":
        import tensorflow as tf
        if tf.is_symbolic_tensor(state):
            values = tf.numpy_function(lambda s: values_of_seed(_seed_of_state(s)), [state],
                                       Tout=tf.as_dtype(dtype), stateful=False)
            values.set_shape(shape)
            return values
    values = values_of_seed(_seed_of_state(keras.ops.convert_to_numpy(state)))
    return keras.ops.convert_to_tensor(values, dtype=dtype)


class _FastinitDraws:
    """Mixed in before a Keras initializer class, whose constructor, attributes and
    get_config it keeps (so Keras's isinstance checks and serialization see that class),
    while __call__ draws fastinit's values.

    Seeds follow Keras 3 (keras.src.initializers.RandomInitializer): an int gives the same
    values on every call; None draws an int once, at construction, from Python's global
    generator (as Keras does, so keras.utils.set_random_seed fixes it); a
    keras.random.SeedGenerator gives new values on every call: its next state (a, b),
    advanced as Keras's own random ops advance it, read as the seed a + 2**32 b, so that
    the first call of SeedGenerator(s) gives the values of seed=s."""

    def _init_keras(self, keras_class, **arguments):
        """keras_class's constructor (its checks, attributes and seed handling), then the
        seeds Keras lets through that fastinit refuses: a bool and a negative int."""
        keras_class.__init__(self, **arguments)
        if isinstance(self.seed, bool) or (isinstance(self.seed, int) and self.seed < 0):
            raise ValueError(f"seed must be None, a non-negative int or a "
                             f"keras.random.SeedGenerator, got {self.seed!r}")

    def __call__(self, shape, dtype=None):
        shape, dtype = _checked_shape(shape), _checked_dtype(dtype)
        if keras.backend.backend() == "torch":
            import torch
            # under torch.compile the draw is a graph break, run as written: dynamo would
            # otherwise trace fastinit's NumPy code as torch operations
            return torch.compiler.disable(self._tensor)(shape, dtype)
        return self._tensor(shape, dtype)

    def _tensor(self, shape, dtype):
        if isinstance(self.seed, int):
            return keras.ops.convert_to_tensor(self._values(shape, dtype, self.seed),
                                               dtype=dtype)
        return _tensor_of_seed_state(self.seed.next(),
                                     lambda seed: self._values(shape, dtype, seed),
                                     shape, dtype)

    def _values(self, shape, dtype, seed):
        raise NotImplementedError


@_register
class RandomUniform(_FastinitDraws, _KERAS["RandomUniform"]):
    """RandomUniform(minval=-0.05, maxval=0.05, seed=None): values on [minval, maxval);
    fastinit.uniform(shape, minval, maxval, seed=seed)."""

    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        minval, maxval = _arrays.python_scalar(minval), _arrays.python_scalar(maxval)
        # Keras lets minval >= maxval through, and its backends disagree on the result
        # (docs/keras_jax.md): refused here, naming the arguments
        if not check_real("minval", minval) < check_real("maxval", maxval):
            raise ValueError(f"minval must be less than maxval, got minval={minval!r}, "
                             f"maxval={maxval!r}")
        _api.uniform((0,), minval, maxval)            # the NumPy API's own checks, now
        self._init_keras(_KERAS["RandomUniform"], minval=minval, maxval=maxval,
                         seed=seed)

    def _values(self, shape, dtype, seed):
        return _api.uniform(shape, self.minval, self.maxval, dtype=dtype, seed=seed)


def _checked_mean_and_stddev(mean, stddev):
    mean, stddev = _arrays.python_scalar(mean), _arrays.python_scalar(stddev)
    # Keras lets a negative stddev through: jax draws |stddev|, torch raises
    check_real("mean", mean)
    check_real("stddev", stddev, minimum=0.0)
    return mean, stddev


@_register
class RandomNormal(_FastinitDraws, _KERAS["RandomNormal"]):
    """RandomNormal(mean=0.0, stddev=0.05, seed=None): fastinit.normal(shape, mean, stddev,
    seed=seed)."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        mean, stddev = _checked_mean_and_stddev(mean, stddev)
        self._init_keras(_KERAS["RandomNormal"], mean=mean, stddev=stddev, seed=seed)

    def _values(self, shape, dtype, seed):
        return _api.normal(shape, self.mean, self.stddev, dtype=dtype, seed=seed)


@_register
class TruncatedNormal(_FastinitDraws, _KERAS["TruncatedNormal"]):
    """TruncatedNormal(mean=0.0, stddev=0.05, seed=None): the normal cut at 2 stddev, with
    no variance correction (as Keras); fastinit.truncated_normal(shape, mean, stddev,
    seed=seed)."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        mean, stddev = _checked_mean_and_stddev(mean, stddev)
        self._init_keras(_KERAS["TruncatedNormal"], mean=mean, stddev=stddev,
                         seed=seed)

    def _values(self, shape, dtype, seed):
        return _api.truncated_normal(shape, self.mean, self.stddev, dtype=dtype, seed=seed)


@_register
class VarianceScaling(_FastinitDraws, _KERAS["VarianceScaling"]):
    """VarianceScaling(scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None,
    input_axes=None, output_axes=None), as Keras 3: variance scale / n, n = fan_in, fan_out
    or their mean (at least 1), fans by keras_fans; distribution "truncated_normal" (std
    corrected by 0.8796..., cut at 2 std), "untruncated_normal" or "uniform"; Keras reads
    "normal" as "truncated_normal".  fastinit.variance_scaling(shape, scale, mode,
    distribution, fan_in=, fan_out=, seed=seed) with those fans.  An instance of
    keras.initializers.VarianceScaling, so that EinsumDense (and MultiHeadAttention, which
    builds on it) give it the kernel's input and output axes, as they give Keras's own."""

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None,
                 input_axes=None, output_axes=None):
        if not isinstance(distribution, str):
            raise TypeError(f"distribution must be a string, got {distribution!r}")
        scale = _arrays.python_scalar(scale)
        check_real("scale", scale)          # a number; Keras checks that it is positive
        self._init_keras(_KERAS["VarianceScaling"], scale=scale, mode=mode,
                         distribution=distribution, seed=seed, input_axes=input_axes,
                         output_axes=output_axes)

    def _values(self, shape, dtype, seed):
        fan_in, fan_out = keras_fans(shape, self.input_axes, self.output_axes)
        # Keras divides by max(1, n): an empty shape has a zero fan and no values to scale
        return _api.variance_scaling(shape, self.scale, self.mode, self.distribution,
                                     fan_in=max(fan_in, 1), fan_out=max(fan_out, 1),
                                     dtype=dtype, seed=seed)


def _named_scheme(keras_class, scale, mode, distribution):
    """fastinit's class for keras_class, a VarianceScaling with fixed arguments: an instance
    of both VarianceScaling classes and of keras_class, whose get_config it keeps."""
    name = keras_class.__name__

    class NamedScheme(VarianceScaling, keras_class):
        def __init__(self, seed=None, input_axes=None, output_axes=None):
            VarianceScaling.__init__(self, scale=scale, mode=mode, distribution=distribution,
                                     seed=seed, input_axes=input_axes, output_axes=output_axes)

    NamedScheme.__name__ = NamedScheme.__qualname__ = name
    NamedScheme.__module__ = __name__
    NamedScheme.__doc__ = (
        f"{name}(seed=None, input_axes=None, output_axes=None), as keras.initializers.{name}: "
        f"VarianceScaling(scale={scale}, mode={mode!r}, distribution={distribution!r}).")
    return _register(NamedScheme)


GlorotUniform = _named_scheme(_KERAS["GlorotUniform"], 1.0, "fan_avg", "uniform")
GlorotNormal = _named_scheme(_KERAS["GlorotNormal"], 1.0, "fan_avg", "truncated_normal")
LecunUniform = _named_scheme(_KERAS["LecunUniform"], 1.0, "fan_in", "uniform")
LecunNormal = _named_scheme(_KERAS["LecunNormal"], 1.0, "fan_in", "truncated_normal")
HeUniform = _named_scheme(_KERAS["HeUniform"], 2.0, "fan_in", "uniform")
HeNormal = _named_scheme(_KERAS["HeNormal"], 2.0, "fan_in", "truncated_normal")


@_register
class Orthogonal(_FastinitDraws, _KERAS["Orthogonal"]):
    """Orthogonal(gain=1.0, seed=None), as Keras 3: the shape flattened to
    (prod(shape[:-1]), shape[-1]), orthonormal rows or columns times gain;
    fastinit.orthogonal(shape, gain, seed=seed)."""

    def __init__(self, gain=1.0, seed=None):
        gain = _arrays.python_scalar(gain)
        check_real("gain", gain, minimum=0.0)
        self._init_keras(_KERAS["Orthogonal"], gain=gain, seed=seed)

    def _values(self, shape, dtype, seed):
        return _api.orthogonal(shape, self.gain, dtype=dtype, seed=seed)


# the snake-case names Keras and tf.keras users type
random_uniform, random_normal, truncated_normal = RandomUniform, RandomNormal, TruncatedNormal
variance_scaling, orthogonal = VarianceScaling, Orthogonal
glorot_uniform, glorot_normal = GlorotUniform, GlorotNormal
lecun_uniform, lecun_normal = LecunUniform, LecunNormal
he_uniform, he_normal = HeUniform, HeNormal
