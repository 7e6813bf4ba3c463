"""init_module(..., recipe="model"): the model's own initialization code, run with every
random value drawn by fastinit.

What runs: for a transformers PreTrainedModel, its init_weights() (_init_weights over every
module, then tie_weights); for any other module, each submodule's own reset_parameters()
(torch's MultiheadAttention and Transformer: _reset_parameters), children before their
parent, as their constructors run them.

What is intercepted: a TorchFunctionMode sees every torch.nn.init function (they dispatch
through __torch_function__, so also when a library captured them at import, as
transformers' initialization.py does) and every Tensor method.  A random fill of one of
the model's tensors becomes fastinit.torch's function of the same name and arguments
(RANDOM_INIT_CALLS, RANDOM_TENSOR_METHODS), drawn from the stream of
parameter_seed(seed, the tensor's qualified name); deterministic fills (zeros_, fill_,
copy_, ...) run as they are.  A TorchDispatchMode underneath refuses every other random op
(aten ops tagged nondeterministic_seeded: randn, rand, randint, randperm, bernoulli,
exponential_, ...) on real memory: their values would come from torch's generator.

Every random fill of a tensor starts that tensor's stream from its beginning: its values
depend only on (seed, name, the call's distribution and arguments), and the last fill
decides, whatever came before and in whatever order the modules run."""
import contextlib
import contextvars
import functools
import inspect
import itertools
import sys
import threading
import types
from typing import NamedTuple

import torch
from torch import nn
from torch.overrides import TorchFunctionMode
from torch.utils._python_dispatch import TorchDispatchMode

from . import _torch_modules as _modules
from . import _torch_tensors as _tensors
from ._generator import Generator, NewOutGenerator


# ---------------------------------------------------------------- the call table

def _init_table():
    """{torch.nn.init function: fastinit.torch function}: the same names, the same
    signatures (tensor, the distribution's arguments, generator), fastinit's stream."""
    from . import torch as ft
    names = ("uniform_", "normal_", "trunc_normal_", "xavier_uniform_", "xavier_normal_",
             "kaiming_uniform_", "kaiming_normal_", "orthogonal_", "sparse_")
    return {getattr(torch.nn.init, n): getattr(ft, n) for n in names}


def _tensor_normal(tensor, mean=0.0, std=1.0, *, generator=None):
    """Tensor.normal_(mean=0, std=1, *, generator=None) -> fastinit.torch.normal_'s keywords."""
    return tensor, {"mean": mean, "std": std}


def _tensor_uniform(tensor, *args, generator=None, **kwargs):
    """Tensor.uniform_(from=0, to=1, *, generator=None) -> fastinit.torch.uniform_'s a, b."""
    bound = inspect.Signature([
        inspect.Parameter("low", inspect.Parameter.POSITIONAL_ONLY, default=0.0),
        inspect.Parameter("high", inspect.Parameter.POSITIONAL_ONLY, default=1.0)]).bind(*args)
    bound.apply_defaults()
    low, high = bound.arguments["low"], bound.arguments["high"]
    extra = set(kwargs) - {"from", "to"}
    if extra or (args and kwargs):
        raise TypeError(f"uniform_() got unexpected arguments {sorted(kwargs)}")
    return tensor, {"a": kwargs.get("from", low), "b": kwargs.get("to", high)}


# Tensor method -> (argument translation, fastinit.torch function name)
RANDOM_TENSOR_METHODS = {
    torch.Tensor.normal_: (_tensor_normal, "normal_"),
    torch.Tensor.uniform_: (_tensor_uniform, "uniform_"),
}

# In-place random Tensor methods with no fastinit counterpart: refused, never torch's values.
UNSUPPORTED_TENSOR_METHODS = {
    getattr(torch.Tensor, n): n for n in ("bernoulli_", "cauchy_", "exponential_",
                                          "geometric_", "log_normal_", "random_")}

# Tensor functions that read a tensor's metadata only (and property getters: shape, dtype,
# .data, ...): using a tensor this way needs no values.
_METADATA_ONLY = frozenset({"__get__", "size", "dim", "numel", "nelement", "ndimension",
                            "stride", "storage_offset", "element_size", "is_floating_point",
                            "is_complex", "is_contiguous", "__len__", "__hash__"})

_IN_PLACE_DUNDERS = frozenset({"__setitem__", "__iadd__", "__isub__", "__imul__",
                               "__itruediv__"})

RANDOM_INIT_CALLS = None          # filled on first use: importing fastinit.torch is circular
_RANDOM_INIT_NAMES = {}           # name -> torch.nn.init's own function of that name


def _random_init_function(func):
    """The torch.nn.init random function that func is, or None.  torch.nn.init's functions
    dispatch under the name their module holds now, which a wrapper may have taken
    (transformers' guard_torch_init_functions puts its guarded versions there)."""
    if func in RANDOM_INIT_CALLS:
        return func
    name = getattr(func, "__name__", None)
    if name in _RANDOM_INIT_NAMES and torch.nn.init.__dict__.get(name) is func:
        return _RANDOM_INIT_NAMES[name]
    return None


def _is_in_place(func):
    name = getattr(func, "__name__", "")
    return name in _IN_PLACE_DUNDERS or (name.endswith("_") and not name.startswith("__"))


# ---------------------------------------------------------------- which tensor is which

class _TensorNames:
    """The model's parameters and buffers by identity: each tensor's first qualified name
    (named_parameters / named_buffers with remove_duplicate=False: ties are one tensor), and
    for aliases (.data, detach(), views) the tensor whose memory they show.  Memory is told
    apart by its storage object, which meta tensors have too."""

    def __init__(self, named):
        self.by_id = {}                 # id(tensor) -> (name, tensor)
        self.by_name = {}               # first name -> tensor
        self.by_storage = {}            # storage key -> [(name, tensor)]
        for name, tensor in named:
            if id(tensor) in self.by_id:
                continue
            self.by_id[id(tensor)] = (name, tensor)
            self.by_name[name] = tensor
            key = _storage_key(tensor)
            if key is not None:
                self.by_storage.setdefault(key, []).append((name, tensor))

    def put(self, name, tensor):
        """name is now held by tensor (a stand-in of the model's tensor)."""
        old = self.by_name.pop(name)
        del self.by_id[id(old)]
        key = _storage_key(old)
        if key is not None:
            self.by_storage[key] = [e for e in self.by_storage[key] if e[0] != name]
        self.by_id[id(tensor)] = (name, tensor)
        self.by_name[name] = tensor
        key = _storage_key(tensor)
        if key is not None:
            self.by_storage.setdefault(key, []).append((name, tensor))

    @classmethod
    def of_model(cls, model):
        return cls(itertools.chain(model.named_parameters(remove_duplicate=False),
                                   model.named_buffers(remove_duplicate=False)))

    def find(self, tensor):
        """(name, whole) of the model's tensor that `tensor` is or shows part of (whole:
        all of it, in the same layout), or None."""
        hit = self.by_id.get(id(tensor))
        if hit is not None:
            return hit[0], True
        key = _storage_key(tensor)
        candidates = self.by_storage.get(key, ()) if key is not None else ()
        for name, base in candidates:
            if (base.dtype == tensor.dtype and base.storage_offset() == tensor.storage_offset()
                    and base.shape == tensor.shape and base.stride() == tensor.stride()):
                return name, True
        start = tensor.storage_offset()
        for name, base in candidates:
            if base.storage_offset() <= start < base.storage_offset() + max(base.numel(), 1):
                return name, False
        return None


def _storage_key(tensor):
    """What tells tensor's memory apart (its storage's address in torch, also for meta
    tensors), or None: DTensors, fake tensors and empty tensors alias nothing we track."""
    if _tensors.is_dtensor(tensor) or _tensors.is_fake(tensor) or tensor.numel() == 0:
        return None
    try:
        return tensor.untyped_storage()._cdata
    except (RuntimeError, NotImplementedError, AttributeError):
        return None


def view_stream_name(name, view, base):
    """The stream of a random fill of part of the model's tensor `name` (a view, e.g.
    weight[:, :4].normal_()): its own, named by the view's place in the tensor's memory."""
    return (f"{name}[offset={view.storage_offset() - base.storage_offset()}, "
            f"shape={tuple(view.shape)}, stride={tuple(view.stride())}]")


# ---------------------------------------------------------------- the interception

class _DrawByName(TorchFunctionMode):
    """Random fills of the model's tensors drawn by fastinit from their names' streams;
    every whole in-place write recorded (so that what nothing wrote can be named)."""

    def __init__(self, names, root, fresh, *, track=False):
        super().__init__()
        self.names, self.root, self.fresh = names, root, fresh
        self.written = set()            # names written whole
        self.draws = {}                 # stream name -> description of its last draw
        # track: the names of the model's tensors the code uses (their values, not only
        # their shape) go to `used`; using one outside `live` (a meta stand-in, when
        # live is a set) is an error, not a write that vanishes
        self.track, self.used, self.live = track, set(), None

    def init_call(self, func, args, kwargs):
        """A torch.nn.init random fill, by fastinit."""
        target, arguments = _bind_init_call(func, args, kwargs)
        return self._draw(RANDOM_INIT_CALLS[func], func.__name__, target, arguments)

    def _use(self, tensor):
        found = self.names.find(tensor)
        if found is None:
            return
        if self.live is not None and found[0] not in self.live:
            raise RuntimeError(
                f"the model's initialization code used {found[0]} in a module where a first "
                f"run of that code on meta tensors did not (its path depends on values): "
                f"running it one module at a time would lose that; run init_module on the "
                f"whole unsharded model instead")
        self.used.add(found[0])

    def _use_arguments(self, func, args, kwargs):
        if getattr(func, "__name__", "") in _METADATA_ONLY:
            return
        for value in itertools.chain(args, kwargs.values()):
            for item in (value if isinstance(value, (list, tuple)) else (value,)):
                if isinstance(item, torch.Tensor):
                    self._use(item)

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if self.track:
            self._use_arguments(func, args, kwargs)
        init_function = _random_init_function(func)
        if init_function is not None:
            return self.init_call(init_function, args, kwargs)
        if func in RANDOM_TENSOR_METHODS:
            translate, ft_name = RANDOM_TENSOR_METHODS[func]
            target, arguments = translate(*args, **kwargs)
            return self._draw(getattr(_fastinit_torch(), ft_name), f"Tensor.{func.__name__}",
                              target, arguments)
        if func in UNSUPPORTED_TENSOR_METHODS and args and not _tensors.has_no_values(args[0]):
            raise NotImplementedError(
                f"the model's initialization code calls Tensor.{UNSUPPORTED_TENSOR_METHODS[func]}"
                f" on {self._describe(args[0])}; fastinit has no such distribution, and its "
                f"values would come from torch's generator. Give this tensor a rule "
                f"(rules=[Rule(init, names=...)]) and keep the call off it")
        result = func(*args, **kwargs)
        # torch.nn.init's functions dispatch with their tensor as a keyword
        target = args[0] if args else kwargs.get("tensor")
        if isinstance(target, torch.Tensor) and _is_in_place(func):
            found = self.names.find(target)
            if found is not None and found[1]:
                self.written.add(found[0])
        return result

    def _describe(self, tensor):
        found = self.names.find(tensor)
        if found is None:
            return (f"a tensor that is not one of the model's parameters or buffers (shape "
                    f"{tuple(tensor.shape)}, {tensor.dtype})")
        return f"{found[0]}" + ("" if found[1] else " (part of it)")

    def _draw(self, fill, call, tensor, arguments):
        if not isinstance(tensor, torch.Tensor):
            raise TypeError(f"{call} got {type(tensor).__name__}, not a tensor")
        if self.track:
            self._use(tensor)
        if _tensors.has_no_values(tensor):
            # nothing to draw (a tie's other holders while the model's code runs, every
            # tensor in a first run on meta): the arguments are still checked
            if self.track:
                found = self.names.find(tensor)
                if found is not None and found[1]:
                    self.written.add(found[0])
            return fill(tensor, **arguments, seed=Generator(0))
        found = self.names.find(tensor)
        if found is None:
            raise ValueError(
                f"the model's initialization code calls {call} on {self._describe(tensor)}: "
                f"fastinit draws each value from the stream of the parameter's or buffer's "
                f"name, and this tensor has none (copying random values into the model from "
                f"a tensor of its own, as torch.randn(...) then copy_ does, is not a fill "
                f"fastinit can name); its values would come from torch's generator. Give the "
                f"parameter it ends up in a rule instead (rules=[Rule(init, names=...)])")
        name, whole = found
        if whole:
            stream = name
            generator_class = NewOutGenerator if name in self.fresh else Generator
            self.fresh.discard(name)        # a second fill writes memory in use
        else:
            stream = view_stream_name(name, tensor, self.names.by_name[name])
            generator_class = Generator
        with torch.no_grad():
            fill(tensor, **arguments, seed=generator_class(_modules.parameter_seed(self.root, stream)))
        if whole:
            self.written.add(name)
        self.draws[stream] = f"{call}({', '.join(f'{k}={v!r}' for k, v in arguments.items())})"
        return tensor


# ---------------------------------------------------------------- torch.nn.init without dispatch
# Some torch.nn.init functions never reach __torch_function__ (torch 2.13: trunc_normal_,
# xavier_uniform_, xavier_normal_, kaiming_normal_, orthogonal_, sparse_), and code holds
# them under other names (torch's own modules import them; transformers keeps them in
# TORCH_INIT_FUNCTIONS).  Every such reference is the same function object, so while a
# model's code runs its __code__ is a trampoline with the same parameters that hands the
# call to the running recipe (to the original code in any other thread or context).

_ACTIVE = contextvars.ContextVar("fastinit_model_recipe", default=None)
_TRAMPOLINE_GLOBAL = "_fastinit_init_call"
_trampolines = {}                # function -> (original code, trampoline code, original)
_trampoline_users = 0
_trampoline_lock = threading.Lock()


def _needs_trampoline(function):
    return "handle_torch_function" not in function.__code__.co_names


def _make_trampoline(function):
    """(trampoline code, a copy of the original function) for a torch.nn.init function."""
    original = types.FunctionType(function.__code__, function.__globals__, function.__name__,
                                  function.__defaults__, function.__closure__)
    original.__kwdefaults__ = function.__kwdefaults__
    parameters = inspect.signature(function).parameters.values()
    if any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD, p.POSITIONAL_ONLY) for p in parameters):
        raise RuntimeError(f"torch.nn.init.{function.__name__} has a signature this recipe "
                           f"does not know: {inspect.signature(function)}")
    listed, passed, keyword_only = [], [], False
    for p in parameters:
        if p.kind is p.KEYWORD_ONLY and not keyword_only:
            listed.append("*")
            keyword_only = True
        # the defaults themselves stay the function's own (__defaults__, __kwdefaults__)
        listed.append(p.name if p.default is p.empty else f"{p.name}=None")
        passed.append(f"{p.name}={p.name}")
    source = (f"def {function.__name__}({', '.join(listed)}):\n"
              f"    return {_TRAMPOLINE_GLOBAL}({function.__name__!r}, {', '.join(passed)})\n")
    namespace = {}
    exec(source, {}, namespace)
    return namespace[function.__name__].__code__, original


def _init_call(name, **arguments):
    """What a trampolined torch.nn.init function runs: the recipe's draw, or the original."""
    function = _RANDOM_INIT_NAMES[name]     # not torch.nn.init's attribute: a wrapper may hold it
    recorder = _ACTIVE.get()
    if recorder is None:
        return _trampolines[function][2](**arguments)
    return recorder.init_call(function, (), arguments)


@contextlib.contextmanager
def _trampolines_installed():
    global _trampoline_users
    with _trampoline_lock:
        if _trampoline_users == 0:
            torch.nn.init.__dict__[_TRAMPOLINE_GLOBAL] = _init_call
            for function in RANDOM_INIT_CALLS:
                if function not in _trampolines and _needs_trampoline(function):
                    _trampolines[function] = (function.__code__,) + _make_trampoline(function)
                if function in _trampolines:
                    function.__code__ = _trampolines[function][1]
        _trampoline_users += 1
    try:
        yield
    finally:
        with _trampoline_lock:
            _trampoline_users -= 1
            if _trampoline_users == 0:
                for function, (code, _, _) in _trampolines.items():
                    function.__code__ = code


def _fastinit_torch():
    from . import torch as ft
    return ft


_INIT_SIGNATURES = {}


def _bind_init_call(func, args, kwargs):
    """(tensor, {argument: value}) of a torch.nn.init call, by torch's own signature; its
    generator= is dropped (the values come from the tensor's stream)."""
    signature = _INIT_SIGNATURES.get(func)
    if signature is None:
        signature = _INIT_SIGNATURES[func] = inspect.signature(func)
    bound = signature.bind(*args, **kwargs)
    arguments = dict(bound.arguments)
    arguments.pop("generator", None)
    tensor = arguments.pop("tensor")
    return tensor, arguments


class _NoTorchRandomness(TorchDispatchMode):
    """Refuses every aten op that draws from torch's generator into real memory: random work
    that is not one of the fills _DrawByName maps (torch.randn, bernoulli, randperm, ...)."""

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if torch.Tag.nondeterministic_seeded in func.tags and not _on_meta(func, args, kwargs):
            raise NotImplementedError(
                f"the model's initialization code runs {func} (random values from torch's "
                f"generator, not a fill of a named parameter that fastinit can draw): these "
                f"values would be torch's, not fastinit's. Give the parameters it initializes "
                f"rules (rules=[Rule(init, names=...)]), or write that code with "
                f"torch.nn.init's functions on the parameter itself")
        return func(*args, **kwargs)


def _on_meta(func, args, kwargs):
    """Whether an aten call works on meta tensors only (no values, nothing drawn)."""
    device = kwargs.get("device")
    if device is not None:
        return torch.device(device).type == "meta"
    tensors = [a for a in itertools.chain(args, kwargs.values()) if isinstance(a, torch.Tensor)]
    return bool(tensors) and all(t.is_meta for t in tensors)


# ---------------------------------------------------------------- running the model's code

def _pretrained_model_class():
    module = sys.modules.get("transformers.modeling_utils")
    return getattr(module, "PreTrainedModel", None)


def _run_transformers(model):
    """What PreTrainedModel.init_weights() does, on every module whatever it did before:
    transformers marks a module initialized (module._is_hf_initialized) and skips it the
    next time, so the marks of a CPU-built or loaded model are cleared first."""
    for module in model.modules():
        if getattr(module, "_is_hf_initialized", False):
            module._is_hf_initialized = False
        for tensor in itertools.chain(module._parameters.values(), module._buffers.values()):
            if tensor is not None and getattr(tensor, "_is_hf_initialized", False):
                tensor._is_hf_initialized = False
    model.init_weights()


def _run_own_code(module, pretrained):
    """Children first, then module's own reset_parameters (MultiheadAttention's and
    Transformer's _reset_parameters): the order of their constructors.  A transformers
    model inside runs its init_weights()."""
    if pretrained is not None and isinstance(module, pretrained):
        _run_transformers(module)
        return
    for child in module.children():
        _run_own_code(child, pretrained)
    reset = getattr(module, "reset_parameters", None)
    if not callable(reset) and isinstance(module, (nn.MultiheadAttention, nn.Transformer)):
        reset = module._reset_parameters
    if callable(reset):
        reset()


@contextlib.contextmanager
def _ties_held_once(ties):
    """While the model's code runs, every holder of a tied tensor but the first holds a meta
    stand-in, so a tensor is filled once, by the module that first holds it (as
    transformers initializes then ties: lm_head gets the embedding's values); then every
    holder gets the first's tensor again."""
    for (first, kind, local), *others in ties:
        tensor = getattr(first, kind)[local]
        for module, other_kind, other_local in others:
            stand_in = torch.empty(tensor.shape, dtype=tensor.dtype, device="meta")
            if isinstance(tensor, nn.Parameter):
                stand_in = nn.Parameter(stand_in, requires_grad=tensor.requires_grad)
            getattr(module, other_kind)[other_local] = stand_in
    try:
        yield
    finally:
        _modules._retie(ties)


def _ensure_call_table():
    global RANDOM_INIT_CALLS
    if RANDOM_INIT_CALLS is None:
        RANDOM_INIT_CALLS = _init_table()
        _RANDOM_INIT_NAMES.update((f.__name__, f) for f in RANDOM_INIT_CALLS)


@contextlib.contextmanager
def _drawing_by_name(recorder):
    """The model's code runs with recorder drawing its random fills."""
    token = _ACTIVE.set(recorder)
    try:
        with _trampolines_installed(), _tensors.host_writes(), torch.no_grad(), \
                _NoTorchRandomness(), recorder:
            yield
    finally:
        _ACTIVE.reset(token)


def run_model_code(model, root, *, fresh=()):
    """Runs model's own initialization code with every random fill drawn by fastinit
    (parameter_seed(root, name)); returns the _DrawByName record (written names, draws).
    fresh: names whose memory nothing has touched yet (just materialized)."""
    _ensure_call_table()
    recorder = _DrawByName(_TensorNames.of_model(model), root, set(fresh))
    with _ties_held_once(_modules._shared_tensors(model)), _drawing_by_name(recorder):
        _run_own_code(model, _pretrained_model_class())
    return recorder


# ---------------------------------------------------------------- one module at a time
# For a checkpoint written without the model in memory (save_initialized) and for a model
# of DTensor shards (whose ops on a shard, such as a padding row's fill_, are not the whole
# tensor's), the model's code runs one module at a time on CPU tensors of the whole shape
# standing in for the tensors that module's code uses.  A first run on meta stand-ins
# finds which those are; in the second, each tensor has memory from the first module
# whose code uses it to the last, then is handed on (to a file, or into its shard).  The
# values are run_model_code's: each module's code is the same code on the same streams.

class _Visit(NamedTuple):
    module: nn.Module
    run: object                 # () -> None: that module's own initialization code


def model_visits(model):
    """[_Visit] of the model's initialization code, in the order run_model_code runs it:
    transformers' initialize_weights (each module's owner's _init_weights, children
    first, a nested PreTrainedModel owning its modules), else each module's
    reset_parameters, children first."""
    pretrained = _pretrained_model_class()
    visits = []

    def walk(module):
        if pretrained is not None and isinstance(module, pretrained):
            _check_transformers_init(module, pretrained)
            custom = getattr(module, "is_custom_code", lambda: False)()
            walk_transformers(module, module, custom)
            return
        for child in module.children():
            walk(child)
        reset = getattr(module, "reset_parameters", None)
        if not callable(reset) and isinstance(module, (nn.MultiheadAttention, nn.Transformer)):
            reset = module._reset_parameters
        if callable(reset):
            visits.append(_Visit(module, reset))

    def walk_transformers(module, owner, custom):
        for child in module.children():
            if isinstance(child, pretrained):
                _check_transformers_init(child, pretrained)
                walk_transformers(child, child, custom)
            else:
                walk_transformers(child, owner, custom)
        visits.append(_Visit(module, functools.partial(_transformers_visit, owner, module,
                                                       custom)))

    walk(model)
    return visits


def _check_transformers_init(model, pretrained):
    """model_visits restates PreTrainedModel's init_weights; a model that changes it is
    refused rather than initialized some other way than its own code says."""
    changed = [n for n in ("init_weights", "initialize_weights", "_initialize_weights")
               if getattr(type(model), n, None) is not getattr(pretrained, n, None)]
    if changed:
        raise ValueError(f"{type(model).__name__} has its own {', '.join(changed)}: its "
                         f"initialization cannot be run one module at a time; use "
                         f"init_module(model, seed=..., recipe='model') on the whole model")


def _transformers_visit(owner, module, custom):
    if getattr(module, "_is_hf_initialized", False):
        module._is_hf_initialized = False       # a second run (or a loaded model) redoes it
    if "is_custom_code" in inspect.signature(owner._initialize_weights).parameters:
        owner._initialize_weights(module, is_custom_code=custom)
    else:
        owner._initialize_weights(module)


def _transformers_guard():
    """transformers' guard on torch.nn.init (as initialize_weights runs under), if loaded."""
    module = sys.modules.get("transformers.initialization")
    guard = getattr(module, "guard_torch_init_functions", None)
    return guard() if guard is not None else contextlib.nullcontext()


def _meta_stand_in(tensor, dtype):
    stand_in = torch.empty(tuple(tensor.shape), dtype=dtype, device="meta")
    if isinstance(tensor, nn.Parameter):
        stand_in = nn.Parameter(stand_in, requires_grad=tensor.requires_grad)
    return stand_in


class ModuleByModule:
    """The model's own initialization code run one module at a time (see above).

    model: its tensors may be on meta, on the CPU, or DTensors; they are never written:
    finished() hands on each tensor's values.  dtype: None, or the dtype of the stand-ins
    of floating-point tensors (the values of model.to(dtype)).  fresh: names whose current
    memory holds nothing (meta, just materialized): their stand-ins start empty; any other
    stand-in starts from the tensor's values (a DTensor's gathered: every rank must run)."""

    def __init__(self, model, root, *, dtype=None, fresh=()):
        _ensure_call_table()
        self.model, self.root, self.dtype = model, root, dtype
        self.fresh = set(fresh)
        self.tensors = dict(_modules._first_names(model))      # first name -> tensor
        places = _modules.holders(model)
        self.places = {name: places[id(t)] for name, t in self.tensors.items()}
        self.visits = model_visits(model)
        self.record = _DrawByName(None, root, set(), track=True)
        self.used = None            # per visit: the names its code uses (after trace())
        self.written = None         # names some code writes whole (after trace())

    def _dtype_of(self, tensor):
        return self.dtype if self.dtype is not None and tensor.is_floating_point() else tensor.dtype

    @contextlib.contextmanager
    def _holding(self, held):
        """Every place of every tensor holds a meta stand-in but the first, which holds
        held[name]; the model's own tensors are put back after."""
        stand_ins = {name: _meta_stand_in(t, self._dtype_of(t)) for name, t in self.tensors.items()}
        try:
            for name, places in self.places.items():
                for i, (module, kind, local) in enumerate(places):
                    getattr(module, kind)[local] = held[name] if i == 0 else stand_ins[name]
            yield
        finally:
            for name, places in self.places.items():
                for module, kind, local in places:
                    getattr(module, kind)[local] = self.tensors[name]

    def _put(self, held, name, tensor):
        held[name] = tensor
        self.record.names.put(name, tensor)
        module, kind, local = self.places[name][0]
        getattr(module, kind)[local] = tensor

    def _run(self, visit, live):
        self.record.used, self.record.live = set(), live
        with _transformers_guard(), _drawing_by_name(self.record):
            visit.run()
        return self.record.used

    def trace(self):
        """Runs the code once on meta stand-ins: which tensors each module's code uses."""
        if self.used is None:
            held = {name: _meta_stand_in(t, self._dtype_of(t)) for name, t in self.tensors.items()}
            try:
                self.record.names = _TensorNames(held.items())
                with self._holding(held):
                    self.used = [self._run(v, None) for v in self.visits]
            except (RuntimeError, TypeError, ValueError) as error:
                if isinstance(error, NotImplementedError) or "fastinit" in str(error):
                    raise           # fastinit's own refusal: it says what it is
                raise RuntimeError(f"running the model's initialization code on meta "
                                   f"tensors (to find what each module's code uses) failed: "
                                   f"{error}") from error
            self.written = set(self.record.written)
            self.record.written.clear()
            self.record.draws.clear()
        return self.used

    def _stand_in(self, name):
        """A CPU tensor for name's values while modules use it (new, True) or (values, False)."""
        tensor = self.tensors[name]
        dtype = self._dtype_of(tensor)
        if name in self.fresh or _tensors.has_no_values(
                tensor.to_local() if _tensors.is_dtensor(tensor) else tensor):
            values, new = torch.empty(tuple(tensor.shape), dtype=dtype), True
            _tensors.advise_fresh(values)
        else:
            whole = tensor.full_tensor() if _tensors.is_dtensor(tensor) else tensor
            values, new = whole.detach().to("cpu", dtype, copy=True), False
        if isinstance(tensor, nn.Parameter):
            values = nn.Parameter(values, requires_grad=tensor.requires_grad)
        return values, new

    def values(self, names):
        """Yields (name, CPU tensor of its values) for each of `names` (names the code
        uses), in that order.  Only the modules whose code leads to them run, each once,
        as late as it can: a name's modules, and before each of them every earlier module
        that uses one of its tensors.  Two modules that use a tensor in common keep their
        order; others may not (the code of separate modules shares only tensors).  Close
        the generator (contextlib.closing) to end early: the model gets its tensors back."""
        used = self.trace()
        visits_of = {}
        for i, names_used in enumerate(used):
            for name in names_used:
                visits_of.setdefault(name, []).append(i)
        left = {name: len(visits) for name, visits in visits_of.items()}
        wanted = set(names)
        held = {name: _meta_stand_in(t, self._dtype_of(t)) for name, t in self.tensors.items()}
        order = {name: i for i, name in enumerate(self.tensors)}
        done, live, ready = set(), set(), {}
        self.record.names = _TensorNames(held.items())
        with self._holding(held):
            for name in names:
                for i in self._leading_to(name, visits_of, used, done):
                    for used_name in sorted(used[i] - live, key=order.__getitem__):
                        values, new = self._stand_in(used_name)     # its first module
                        self._put(held, used_name, values)
                        live.add(used_name)
                        if new:
                            self.record.fresh.add(used_name)
                    self._run(self.visits[i], live)
                    done.add(i)
                    for used_name in used[i]:
                        left[used_name] -= 1
                        if left[used_name] == 0:                    # its last module
                            values = held[used_name]
                            self._put(held, used_name, _meta_stand_in(values, values.dtype))
                            live.discard(used_name)
                            if used_name in wanted:
                                ready[used_name] = values.detach()
                            del values
                yield name, ready.pop(name)

    @staticmethod
    def _leading_to(name, visits_of, used, done):
        """The indices of the modules not yet run whose code name's values depend on, in
        order: name's own, and before each every earlier one sharing a tensor with it."""
        leading, stack = set(), [i for i in visits_of[name] if i not in done]
        while stack:
            i = stack.pop()
            if i in leading:
                continue
            leading.add(i)
            for used_name in used[i]:
                stack.extend(j for j in visits_of[used_name] if j < i and j not in done)
        return sorted(leading)

    @property
    def draws(self):
        return self.record.draws
