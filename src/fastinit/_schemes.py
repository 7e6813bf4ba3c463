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

import numpy as np

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


def scaled_variance(scale, mode, fan_in, fan_out):
    """scale / n, n the fan that mode names; fans may be None for an empty array, whose
    parameters are never used."""
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
    return scale / n


def variance_scaling(scale, mode, distribution, fan_in, fan_out):
    """(distribution, params) of jax.nn.initializers.variance_scaling; fans may be None
    for an empty array, whose parameters are never used."""
    variance = scaled_variance(scale, mode, fan_in, fan_out)
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


# ---------------------------------------------------------------- complex dtypes
# jax.nn.initializers' complex forms.  Element i of a complex array is made from the pair
# (i, 0), (i, 1) of one real draw of shape (*shape, 2) in the matching real dtype
# (docs/stream.md, "Complex dtypes"), so each element still depends on its position alone.

# jax.nn.initializers.variance_scaling's divisor for its complex truncated normal (its
# comment: "stddev of complex standard normal truncated to 2").
COMPLEX_TRUNCATED_STD = 0.95311164380491208
COMPLEX_FORMS = ("normal", "disk", "truncated_disk")


def complex_variance_scaling(scale, mode, distribution, fan_in, fan_out):
    """(form, s) of jax.nn.initializers.variance_scaling for a complex dtype, with
    v = scale / n as for real dtypes:
      "normal": real and imaginary parts each normal(0, s), s = sqrt(v / 2), so E|x|^2 = v;
      "uniform" -> "disk": uniform on the disk of radius s sqrt(2), s = sqrt(v) (E|x|^2 = v);
      "truncated_normal" -> "truncated_disk": s z, s = sqrt(v) / 0.95311164380491208, z the
        complex normal with E|z|^2 = 1 cut to |z| <= 2 (JAX's divisor leaves
        E|x|^2 = v (1 - 5 e^-4) / ((1 - e^-4) 0.9084...) = 1.0187 v)."""
    variance = scaled_variance(scale, mode, fan_in, fan_out)
    if distribution == "normal":
        return "normal", math.sqrt(variance / 2)
    if distribution == "uniform":
        return "disk", math.sqrt(variance)
    return "truncated_disk", math.sqrt(variance) / COMPLEX_TRUNCATED_STD


def complex_normal_part_std(std):
    """The std of each part of a complex normal with E|x|^2 = std^2 (jax.random.normal's
    complex form: (re + 1j im) / sqrt(2))."""
    return std * math.sqrt(0.5)


def check_complex_scale(form, s, real_dtype):
    """Raises unless the largest modulus of the form fits the real dtype."""
    largest_modulus = s * {"normal": 1.0, "disk": math.sqrt(2.0),
                           "truncated_disk": TRUNCATION_BOUND}[form]
    if not largest_modulus <= largest_finite(real_dtype):
        raise ValueError(f"scale and fans give a complex {form} of scale {s:g}, which "
                         f"overflows {real_dtype}")


def polar_from_uniform_pairs(pairs, form, s, out):
    """out[...] = s r exp(i theta), from the uniforms u = pairs[..., 0] and w = pairs[..., 1]
    on [0, 1) (jax's _complex_uniform and _complex_truncated_normal):
      theta = 2 pi w;
      "disk": r = sqrt(2 u);
      "truncated_disk": r = sqrt(-log(1 - (1 - e^-4) u)), the modulus of the complex
        normal with E|z|^2 = 1 (|z|^2 exponential) cut at |z| = 2.
    Computed in float64 and rounded once to out's dtype."""
    u = pairs[..., 0].astype(np.float64)
    theta = pairs[..., 1].astype(np.float64)
    theta *= 2 * math.pi
    if form == "disk":
        u *= 2.0
    else:
        # 1 - e^-(bound^2) and log(1 - t), each without cancellation
        u *= -math.expm1(-TRUNCATION_BOUND ** 2)
        np.negative(u, out=u)
        np.log1p(u, out=u)
        np.negative(u, out=u)
    np.sqrt(u, out=u)
    u *= s                                      # the modulus
    out.real = u * np.cos(theta)
    out.imag = u * np.sin(theta)
    return out
