"""The module-level API: every Generator scheme as a function of its own (pure for an int
seed, drawn from a module generator for seed=None), the in-place forms, and
for_activation."""
import functools
import inspect
import os
import platform
import textwrap
import threading

import numpy as np

from . import _arrays, _core
from ._fans import calculate_gain
from ._generator import SCHEME_DOCS, SCHEME_EXTRA_DOCS, Generator

SCHEMES = ("uniform", "normal", "truncated_normal", "variance_scaling", "lecun_uniform",
           "lecun_normal", "xavier_uniform", "xavier_normal", "he_uniform", "he_normal",
           "orthogonal")
ALIASES = {"glorot_uniform": "xavier_uniform", "glorot_normal": "xavier_normal",
           "kaiming_uniform": "he_uniform", "kaiming_normal": "he_normal"}

_module_generator = Generator()

# Helper threads alive at once, across every concurrent call: one core is the caller's.
_core.set_helper_budget(max(_arrays.default_threads() - 1, 0))


def seed(seed=None):
    """seed(seed=None): restarts the module generator (used by calls with seed=None).
    seed=None takes fresh OS entropy, again in every forked child process (a fork-based
    pool's or DataLoader's workers draw differently, as Python's random does); a seeded
    module generator is inherited by children as it is, as numpy's is (use
    Generator.spawn for distinct streams)."""
    global _module_generator
    _module_generator = Generator(seed)


def _after_fork_in_child():
    global _module_generator
    if _module_generator._seed is None:
        _module_generator = Generator()
    else:
        # a thread of the parent may have held the lock at the fork: it never releases here
        _module_generator._lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _generator_for(seed):
    # an int seed gives a fresh stream from block 0: pure, the same as Generator(seed)'s first draw
    return _module_generator if seed is None else Generator(seed)


_SEED_DOC = """
    seed: None draws from the module generator (see fastinit.seed); an int or a
    SeedSequence draws from block 0 of that seed's stream, so the same seed always gives
    the same array (the first array of Generator(seed))."""

_IN_PLACE_DOC = """
    threads: as for the new-array form (default: the CPUs this process may use; more are
    clamped to that).  seed: as for the new-array form."""


def _define(name, params, body, namespace):
    """A function `name` with exactly the signature `params` (inspect.Parameter objects),
    made from source as dataclasses makes __init__: a call is bound by the interpreter, so
    a wrong argument is reported against `name`, the function the caller called."""
    defaults = {}
    source, star = [], False
    for p in params:
        if p.kind is p.KEYWORD_ONLY and not star:
            source.append("*")
            star = True
        text = p.name
        if p.default is not p.empty:
            defaults[f"_default_{p.name}"] = p.default
            text += f"=_default_{p.name}"
        source.append(text)
        if p.kind is p.POSITIONAL_ONLY and (params.index(p) + 1 == len(params)
                                            or params[params.index(p) + 1].kind
                                            is not p.POSITIONAL_ONLY):
            source.append("/")
    code = f"def {name}({', '.join(source)}):\n    {body}\n"
    scope = dict(namespace, **defaults)
    exec(code, scope)
    function = scope[name]
    function.__module__ = "fastinit"
    return function


def _call_arguments(params):
    """The arguments that pass each of params on under its own name."""
    return ", ".join(p.name if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
                     else f"{p.name}={p.name}" for p in params)


def _module_function(name):
    method = getattr(Generator, name)
    params = list(inspect.signature(method).parameters.values())[1:]
    seed = inspect.Parameter("seed", inspect.Parameter.KEYWORD_ONLY, default=None)
    function = _define(name, params + [seed],
                       f"return _generator_for(seed).{name}({_call_arguments(params)})",
                       {"_generator_for": _generator_for})
    function.__doc__ = method.__doc__ + _SEED_DOC
    return function


def _check_array(array):
    """Raises unless `array` can be filled in place; errors name it `array`."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"array must be a numpy.ndarray, got {type(array).__name__}")
    if not _arrays.is_supported(array.dtype):
        shown = array.dtype if array.dtype.isnative else array.dtype.str
        raise TypeError(f"array has dtype {shown}; expected {_arrays.SUPPORTED_NAMES} in "
                        f"native byte order")
    _arrays.check_out(array, array.shape, array.dtype, name="array")


def _in_place_function(name):
    """name_(array, ...): fills a writable C-contiguous array of a supported dtype in place."""
    function_of_shape = globals()[name]
    params = list(inspect.signature(function_of_shape).parameters.values())
    params = [inspect.Parameter("array", inspect.Parameter.POSITIONAL_ONLY)] + [
        p for p in params[1:] if p.name not in ("out", "dtype", "region")]
    function = _define(
        name + "_", params,
        f"_check_array(array); "
        f"return {name}(array.shape, {_call_arguments(params[1:])}, dtype=array.dtype, "
        f"out=array)",
        {"_check_array": _check_array, name: function_of_shape})
    scheme_doc = textwrap.indent(inspect.cleandoc(SCHEME_DOCS[name]), "    ")
    function.__doc__ = (
        f"{name}_(array, ...) -> array, filled in place with {name}(array.shape, ...): any "
        f"writable, C-contiguous {_arrays.SUPPORTED_NAMES} ndarray.\n\n{scheme_doc}\n"
        + SCHEME_EXTRA_DOCS.get(name, "") + _IN_PLACE_DOC)
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
        + (" (forced by FASTINIT_ISA)" if os.environ.get("FASTINIT_ISA") else ""),
        f"default threads: {_arrays.default_threads()}",
        f"non-temporal stores for large existing outputs: "
        f"{'yes' if _core.nontemporal_stores() else 'no'}",
    ]
    if _core.disabled_isas():
        lines.append(f"switched off (failed the start-up check against the scalar reference): "
                     f"{', '.join(_core.disabled_isas())}")
    print("\n".join(lines), file=file)
