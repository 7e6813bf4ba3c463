"""The module-level API: every Generator scheme as a function of its own (pure for an int
seed, drawn from a module generator for seed=None), the in-place forms, and
for_activation."""
import functools
import inspect
import os
import platform

import numpy as np

from . import _arrays, _core
from ._fans import calculate_gain
from ._generator import Generator

SCHEMES = ("uniform", "normal", "truncated_normal", "variance_scaling", "lecun_uniform",
           "lecun_normal", "xavier_uniform", "xavier_normal", "he_uniform", "he_normal",
           "orthogonal")
ALIASES = {"glorot_uniform": "xavier_uniform", "glorot_normal": "xavier_normal",
           "kaiming_uniform": "he_uniform", "kaiming_normal": "he_normal"}

_module_generator = Generator()

# Helper threads alive at once, across every concurrent call: one core is the caller's.
_core.set_helper_budget(max(_arrays.default_threads() - 1, 0))


def seed(seed=None):
    """seed(seed=None): restarts the module generator (used by calls with seed=None)."""
    global _module_generator
    _module_generator = Generator(seed)


def _generator_for(seed):
    # an int seed gives a fresh stream from block 0: pure, the same as Generator(seed)'s first draw
    return _module_generator if seed is None else Generator(seed)


_SEED_DOC = """
    seed: None draws from the module generator (see fastinit.seed); an int or a
    SeedSequence draws from block 0 of that seed's stream, so the same seed always gives
    the same array (the first array of Generator(seed))."""


def _module_function(name):
    method = getattr(Generator, name)

    def function(*args, seed=None, **kwargs):
        return getattr(_generator_for(seed), name)(*args, **kwargs)

    params = list(inspect.signature(method).parameters.values())[1:]
    params.append(inspect.Parameter("seed", inspect.Parameter.KEYWORD_ONLY, default=None))
    function.__signature__ = inspect.Signature(params)
    function.__name__ = function.__qualname__ = name
    function.__doc__ = method.__doc__ + _SEED_DOC
    function.__module__ = "fastinit"
    return function


def _in_place_function(name):
    """name_(array, ...): fills a writable C-contiguous float32/float64 array in place."""
    function_of_shape = globals()[name]

    def function(array, *args, **kwargs):
        if not isinstance(array, np.ndarray):
            raise TypeError(f"{name}_ fills a numpy.ndarray, got {type(array).__name__}")
        for keyword in ("out", "dtype", "region"):
            if keyword in kwargs:
                raise TypeError(f"{name}_() got an unexpected keyword argument {keyword!r}")
        return function_of_shape(array.shape, *args, out=array, dtype=array.dtype, **kwargs)

    params = list(inspect.signature(function_of_shape).parameters.values())
    params = [inspect.Parameter("array", inspect.Parameter.POSITIONAL_ONLY)] + [
        p for p in params[1:] if p.name not in ("out", "dtype", "region")]
    function.__signature__ = inspect.Signature(params)
    function.__name__ = function.__qualname__ = name + "_"
    function.__doc__ = (f"{name}_(array, ...) -> array, filled in place with {name}(array.shape, "
                        f"...): any writable, C-contiguous float32, float64, float16 or bfloat16 ndarray.")
    function.__module__ = "fastinit"
    return function


for _name in SCHEMES:
    globals()[_name] = _module_function(_name)
for _name in SCHEMES:
    globals()[_name + "_"] = _in_place_function(_name)
for _alias, _target in ALIASES.items():
    globals()[_alias] = globals()[_target]
    globals()[_alias + "_"] = globals()[_target + "_"]


# activation -> (scheme family, keywords), following the usual advice: Glorot for
# saturating units, He for rectifiers, LeCun for SELU (Klambauer et al. 2017) and linear.
_ACTIVATIONS = {
    "sigmoid": ("xavier", lambda p: {"gain": calculate_gain("sigmoid")}),
    "tanh": ("xavier", lambda p: {"gain": calculate_gain("tanh")}),
    "relu": ("he", lambda p: {"nonlinearity": "relu"}),
    "leaky_relu": ("he", lambda p: {"nonlinearity": "leaky_relu", "a": 0.01 if p is None else p}),
    # GELU and SiLU have no gain of their own in common use; ReLU's sqrt(2) is the usual choice
    "gelu": ("he", lambda p: {"nonlinearity": "relu"}),
    "silu": ("he", lambda p: {"nonlinearity": "relu"}),
    "selu": ("lecun", lambda p: {}),
    "linear": ("lecun", lambda p: {}),
}
ACTIVATIONS = tuple(_ACTIVATIONS)


def for_activation(name, param=None, *, distribution="normal"):
    """for_activation(name, param=None, *, distribution="normal") -> scheme function

    The initializer advised for an activation, ready to call with a shape:
    sigmoid -> Xavier (gain 1), tanh -> Xavier (gain 5/3), relu / gelu / silu -> He
    (gain sqrt(2)), leaky_relu -> He with negative slope param (default 0.01),
    selu / linear -> LeCun.  distribution: "normal", "truncated_normal" or "uniform".
    Example: for_activation("relu")((512, 256)) == he_normal((512, 256)).
    """
    if name not in _ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; expected one of {ACTIVATIONS}")
    if distribution not in ("normal", "truncated_normal", "uniform"):
        raise ValueError(f"distribution must be 'normal', 'truncated_normal' or 'uniform', "
                         f"got {distribution!r}")
    family, keywords = _ACTIVATIONS[name]
    kw = keywords(param)
    if name == "leaky_relu":
        calculate_gain("leaky_relu", kw["a"])        # validates param now, not at first call
    elif param is not None:
        raise ValueError(f"activation {name!r} takes no param, got {param!r}")
    if distribution == "uniform":
        scheme = globals()[family + "_uniform"]
    else:
        scheme = globals()[family + "_normal"]
        kw["truncated"] = distribution == "truncated_normal"
    return functools.partial(scheme, **kw)


def show_config(file=None):
    """Prints the version, CPU, available and selected instruction sets and threads."""
    from . import __version__
    lines = [
        f"fastinit {__version__}",
        f"python {platform.python_version()}, numpy {np.__version__}",
        f"machine: {platform.machine()} ({platform.system()})",
        f"instruction sets available: {', '.join(_core.available_isas())}",
        f"instruction set in use: {_core.get_isa()}"
        + (f" (forced by FASTINIT_ISA)" if os.environ.get("FASTINIT_ISA") else ""),
        f"default threads: {_arrays.default_threads()}",
    ]
    if _core.disabled_isas():
        lines.append(f"switched off (failed the start-up check against the scalar reference): "
                     f"{', '.join(_core.disabled_isas())}")
    print("\n".join(lines), file=file)
