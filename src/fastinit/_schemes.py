"""The math of each initialization scheme: from fans and the scheme's arguments to a
distribution and its parameters.  Every named scheme is a variance-scaling rule,
    variance = scale / n,   n = fan_in | fan_out | (fan_in + fan_out)/2 | sqrt(fan_in fan_out),
drawn as
    uniform on [-sqrt(3 variance), sqrt(3 variance))            (variance of U(-b, b) is b^2/3)
    normal(0, sqrt(variance))
    truncated_normal: normal(0, sqrt(variance) / 0.8796...) cut at +-2 of its std,
                      whose variance is again `variance`.
"""
import math
import numbers


from ._arrays import largest_finite
from ._fans import calculate_gain

# Standard deviation of a standard normal truncated to [-2, 2], as jax.nn.initializers
# and Keras write it: sqrt(1 - 4 phi(2) / (Phi(2) - Phi(-2))).
TRUNCATED_STD = 0.87962566103423978
TRUNCATION_BOUND = 2.0

MODES = ("fan_in", "fan_out", "fan_avg", "fan_geo_avg")
DISTRIBUTIONS = ("truncated_normal", "normal", "untruncated_normal", "uniform")


def check_real(name, value, *, minimum=None, positive=False):
    """value as a finite float, or a ValueError / TypeError naming the argument."""
    if type(value) is not float and (isinstance(value, bool) or not isinstance(value, numbers.Real)):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    v = float(value)
    if not math.isfinite(v):
        raise ValueError(f"{name} must be finite, got {value!r}")
    if positive and not v > 0:
        raise ValueError(f"{name} must be positive, got {value!r}")
    if minimum is not None and v < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value!r}")
    return v


def check_fan(name, value):
    if type(value) is not int and (isinstance(value, bool) or not isinstance(value, numbers.Real)):
        raise TypeError(f"{name} must be a positive number, got {value!r}")
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return value


def check_choice(name, value, choices):
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")
    return value


def variance_scaling(scale, mode, distribution, fan_in, fan_out):
    """(distribution, params) of jax.nn.initializers.variance_scaling; fans may be None
    for an empty array, whose parameters are never used."""
    if fan_in is None:
        n = 1.0
    elif mode == "fan_in":
        n = fan_in
    elif mode == "fan_out":
        n = fan_out
    elif mode == "fan_avg":
        n = (fan_in + fan_out) / 2
    else:
        n = math.sqrt(fan_in * fan_out)
    variance = scale / n
    if variance == 0:
        # gain=0 asks for zeros; a zero-width uniform is not a distribution, std 0 is
        return "normal", (0.0, 0.0)
    if distribution == "uniform":
        bound = math.sqrt(3 * variance)
        return "uniform", (-bound, bound)
    if distribution == "truncated_normal":
        std = math.sqrt(variance) / TRUNCATED_STD
        return "truncated_normal", (0.0, std, -TRUNCATION_BOUND, TRUNCATION_BOUND)
    return "normal", (0.0, math.sqrt(variance))


def fit_to_dtype(distribution, params, dtype):
    """The scheme's (distribution, params) for an output dtype: a uniform bound below the
    dtype's smallest value gives zeros, as a normal's std does; one beyond its largest is
    an error that names the scheme's arguments rather than low and high."""
    largest = largest_finite(dtype)
    scale = params[1]            # the uniform's high, the normal's std
    if scale > largest or (distribution == "truncated_normal" and scale * 2.0 > largest):
        raise ValueError(f"gain / scale and fans give a {'bound' if distribution == 'uniform' else 'std'} "
                         f"of {scale:g}, which overflows {dtype}")
    if distribution == "uniform" and dtype.type(scale) == 0:
        return "normal", (0.0, 0.0)
    return distribution, params


def normal_kind(truncated):
    if not isinstance(truncated, bool):
        raise TypeError(f"truncated must be True or False, got {truncated!r}")
    return "truncated_normal" if truncated else "normal"


def lecun(gain, distribution):
    """LeCun: variance gain^2 / fan_in."""
    g = check_real("gain", gain, minimum=0)
    return g * g, "fan_in", distribution


def xavier(gain, distribution):
    """Glorot & Bengio (2010): variance gain^2 * 2 / (fan_in + fan_out)."""
    g = check_real("gain", gain, minimum=0)
    return g * g, "fan_avg", distribution


def he(a, mode, nonlinearity, distribution):
    """He et al. (2015), as torch's kaiming_*: variance gain^2 / fan, fan = fan_in or
    fan_out, gain = calculate_gain(nonlinearity, a)."""
    check_choice("mode", mode, ("fan_in", "fan_out"))
    a = None if a is None else check_real("a", a)      # None: leaky_relu's default slope, as torch
    g = calculate_gain(nonlinearity, a)
    return g * g, mode, distribution
