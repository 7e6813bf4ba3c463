"""init_module: every parameter of a torch model filled by name, with the distribution its
layer's reset_parameters gives in torch 2.13, unless a rule says otherwise.

A parameter's values depend only on (seed, qualified name, position, its init): each one
draws from block 0 of the stream of parameter_seed(seed, name).  Adding, removing or
reordering other layers changes nothing else."""
import contextlib
import fnmatch
import functools
import inspect
import itertools
import math
import operator

import torch
from torch import nn

from . import _torch_tensors as _tensors
from ._generator import Generator, NewOutGenerator, seed_int

# An init spec is a name, (name, keyword arguments) or a callable(tensor, *, seed) that
# fills tensor in place from seed (a fastinit.Generator of the parameter's own stream).
_SQRT5 = math.sqrt(5)


def parameter_seed(seed, name):
    """parameter_seed(seed, name) -> numpy.random.SeedSequence of the parameter or buffer
    `name` (its qualified name, as module.named_parameters() gives it) under init_module's
    `seed`: SeedSequence(entropy=seed, spawn_key=SHA-256(name's UTF-8 bytes) as 8
    little-endian uint32 words).  init_module fills it as fastinit.torch.<init>_(tensor,
    ..., seed=parameter_seed(seed, name)) would."""
    return _tensors.name_seed_sequence(seed_int(seed, accepted="a non-negative int"), name)


class Rule:
    """Rule(init, *, names=None, modules=None, buffers=False): init for every parameter
    whose qualified name matches one of `names` (fnmatch globs, e.g. "*.out_proj.weight",
    "*bias") and whose module is an instance of `modules` (a class or a tuple of classes);
    an omitted condition always holds.  init: a scheme name ("normal", "zeros",
    "he_normal", ...), (name, {keyword: value}) or a callable(tensor, *, seed) filling
    tensor in place.

    A rule matches parameters only: a glob such as "*bias" must never reach a buffer that
    happens to share the name (GPT-Neo's boolean causal masks are buffers called `bias`).
    buffers=True makes it match floating-point buffers instead; other buffers (masks,
    indices, counters) are never written by a rule."""

    def __init__(self, init, *, names=None, modules=None, buffers=False):
        if not isinstance(buffers, bool):
            raise TypeError(f"buffers must be True or False, got {buffers!r}")
        if names is None and modules is None:
            raise ValueError("a Rule needs names=, modules= or both")
        if isinstance(names, str):
            names = (names,)
        if names is not None:
            names = tuple(names)
            if not all(isinstance(n, str) for n in names):
                raise TypeError(f"names must be a glob string or a sequence of them, got {names!r}")
        if isinstance(modules, type):
            modules = (modules,)
        if modules is not None:
            modules = tuple(modules)
            if not all(isinstance(m, type) and issubclass(m, nn.Module) for m in modules):
                raise TypeError(f"modules must be nn.Module classes, got {modules!r}")
        self.init = resolve_init(init, "Rule init")
        self.names, self.modules, self.buffers = names, modules, buffers

    def matches(self, qualified_name, module, tensor):
        if isinstance(tensor, nn.Parameter) == self.buffers:
            return False
        if self.buffers and not tensor.is_floating_point():
            return False
        if self.modules is not None and not isinstance(module, self.modules):
            return False
        return self.names is None or any(fnmatch.fnmatchcase(qualified_name, n) for n in self.names)

    def __repr__(self):
        extra = ", buffers=True" if self.buffers else ""
        return (f"Rule({self.init.description}, names={self.names!r}, "
                f"modules={self.modules!r}{extra})")


def gpt_rules(n_layers, *, std=0.02, output_projections=("*.out_proj.weight", "*.linear2.weight",
                                                         "*.c_proj.weight")):
    """gpt_rules(n_layers, *, std=0.02, output_projections=(...)) -> list of Rules: GPT-2's
    recipe (OpenAI's GPT-2 paper, nanoGPT) for a model built from torch's own layers:
    normal(0, std) for every nn.Linear and nn.Embedding weight and for attention
    in-projections, zero biases, nn.LayerNorm / nn.RMSNorm weights one, and the weights of
    the residual output projections (the names in output_projections: nn.MultiheadAttention's
    out_proj, TransformerEncoderLayer's linear2, nanoGPT's c_proj) normal(0, std /
    sqrt(2 n_layers)).  A transformers model has its own recipe (GPT-2's Conv1D, Llama's
    unscaled o_proj and down_proj, its own norm classes): init_module(model,
    recipe="model") runs it."""
    n_layers = operator.index(n_layers)
    if n_layers < 1:
        raise ValueError(f"n_layers must be at least 1, got {n_layers}")
    return [
        Rule(("normal", {"std": std}), modules=(nn.Linear, nn.Embedding, nn.EmbeddingBag),
             names="*weight"),
        Rule(("normal", {"std": std}), names="*in_proj_weight"),
        Rule("zeros", names="*bias"),
        Rule("ones", modules=(nn.LayerNorm, nn.RMSNorm), names="*weight"),
        Rule(("normal", {"std": std / math.sqrt(2 * n_layers)}), names=output_projections),
    ]


# ---------------------------------------------------------------- init specs

class _Init:
    """A resolved init: fill(tensor, rng) and a description for messages."""

    def __init__(self, fill, description, checkable=True, check_key=None, draws=True):
        # checkable: a fill of a meta tensor checks the arguments and writes nothing;
        # check_key: equal for inits whose checks give the same outcome (None: unknown);
        # draws: False when fill ignores rng (zeros, ones, constant), which may be None
        self.fill, self.description, self.checkable = fill, description, checkable
        self.check_key, self.draws = check_key, draws


def _scheme_table():
    from . import torch as ft

    def lecun(distribution):
        def fill(tensor, *, seed, gain=1.0):
            return ft._fill(tensor, "lecun_" + distribution, seed, None, gain=gain, layout="torch")
        return fill

    return {
        "uniform": ft.uniform_, "normal": ft.normal_, "trunc_normal": ft.trunc_normal_,
        "xavier_uniform": ft.xavier_uniform_, "xavier_normal": ft.xavier_normal_,
        "glorot_uniform": ft.xavier_uniform_, "glorot_normal": ft.xavier_normal_,
        "kaiming_uniform": ft.kaiming_uniform_, "kaiming_normal": ft.kaiming_normal_,
        "he_uniform": lambda t, *, seed, **kw: ft.kaiming_uniform_(
            t, **{"nonlinearity": "relu", **kw}, seed=seed),
        "he_normal": lambda t, *, seed, **kw: ft.kaiming_normal_(
            t, **{"nonlinearity": "relu", **kw}, seed=seed),
        "lecun_uniform": lecun("uniform"), "lecun_normal": lecun("normal"),
        "orthogonal": ft.orthogonal_, "sparse": ft.sparse_,
        "zeros": lambda t, *, seed: ft.zeros_(t), "ones": lambda t, *, seed: ft.ones_(t),
        "constant": lambda t, *, seed, val: ft.constant_(t, val),
    }


_SCHEMES = None
# the schemes that draw nothing: their fills ignore the stream
_DETERMINISTIC_SCHEMES = frozenset({"zeros", "ones", "constant"})
# check_keys of (name, keywords) whose keywords the scheme is known to accept
_ACCEPTED = set()


@functools.lru_cache(maxsize=None)
def _signature(function):
    """inspect.signature of a scheme function, computed once: plan() resolves an init per
    parameter."""
    return inspect.signature(function)


def resolve_init(spec, what):
    """An _Init from a spec (see Rule), or a ValueError / TypeError naming `what`."""
    global _SCHEMES
    if _SCHEMES is None:
        _SCHEMES = _scheme_table()
    if isinstance(spec, _Init):
        return spec
    if callable(spec) and not isinstance(spec, (str, tuple)):
        return _Init(lambda t, rng: spec(t, seed=rng), getattr(spec, "__name__", repr(spec)),
                     checkable=False)
    if isinstance(spec, str):
        name, kwargs = spec, {}
    elif isinstance(spec, tuple) and len(spec) == 2 and isinstance(spec[0], str) \
            and isinstance(spec[1], dict):
        name, kwargs = spec[0], dict(spec[1])
    else:
        raise TypeError(f"{what} must be a scheme name, (name, {{keyword: value}}) or a "
                        f"callable(tensor, *, seed), got {spec!r}")
    if name not in _SCHEMES:
        raise ValueError(f"{what}: unknown scheme {name!r}; expected one of {sorted(_SCHEMES)}")
    if any(k in ("seed", "generator") for k in kwargs):
        raise TypeError(f"{what}: the seed comes from init_module, not from the keywords")
    function = _SCHEMES[name]
    # the types too: 1, 1.0 and True are equal keys but not equally valid arguments
    check_key = (name, tuple((k, type(v), v) for k, v in kwargs.items()))
    try:
        hash(check_key)
    except TypeError:
        check_key = None                   # unhashable arguments: checked every time
    if check_key is None or check_key not in _ACCEPTED:
        # the keywords against the signature (bind costs more than the rest of resolving)
        try:
            _signature(function).bind(None, **kwargs, seed=None)
        except TypeError as e:
            raise TypeError(f"{what}: {name} does not take {kwargs}: {e}") from None
        if check_key is not None:
            _ACCEPTED.add(check_key)
    description = name if not kwargs else f"{name}({', '.join(f'{k}={v!r}' for k, v in kwargs.items())})"
    return _Init(lambda t, rng: function(t, **kwargs, seed=rng), description,
                 check_key=check_key, draws=name not in _DETERMINISTIC_SCHEMES)


def _uniform_bound(bound):
    return ("uniform", {"a": -bound, "b": bound})


def _fan_in_bound(weight):
    """1 / sqrt(fan_in) of weight (0 for fan_in 0), as Linear and _ConvNd bound their bias."""
    fan_in, _ = torch.nn.init._calculate_fan_in_and_fan_out(weight)
    return 1 / math.sqrt(fan_in) if fan_in > 0 else 0


# ---------------------------------------------------------------- torch 2.13's layers

def _linear_like(module):
    specs = {"weight": ("kaiming_uniform", {"a": _SQRT5})}
    if module.bias is not None:
        specs["bias"] = _uniform_bound(_fan_in_bound(module.weight))
    return specs


def _bilinear(module):
    bound = 1 / math.sqrt(module.weight.size(1))
    specs = {"weight": _uniform_bound(bound)}
    if module.bias is not None:
        specs["bias"] = _uniform_bound(bound)
    return specs


def _embedding(module):
    return {"weight": "normal"}


def _affine_norm(module):
    specs = {}
    if getattr(module, "weight", None) is not None:
        specs["weight"] = "ones"
    if getattr(module, "bias", None) is not None:
        specs["bias"] = "zeros"
    return specs


def _batch_norm(module):
    specs = _affine_norm(module)
    if module.track_running_stats:
        specs.update(running_mean="zeros", running_var="ones", num_batches_tracked="zeros")
    return specs


def _multihead_attention(module):
    specs = {}
    if module._qkv_same_embed_dim:
        specs["in_proj_weight"] = "xavier_uniform"
    else:
        specs.update(q_proj_weight="xavier_uniform", k_proj_weight="xavier_uniform",
                     v_proj_weight="xavier_uniform")
    if module.in_proj_bias is not None:
        specs["in_proj_bias"] = "zeros"
        specs["out_proj.bias"] = "zeros"      # a child's parameter: MHA zeroes it after Linear's
    if module.bias_k is not None:
        specs["bias_k"] = "xavier_normal"
    if module.bias_v is not None:
        specs["bias_v"] = "xavier_normal"
    return specs


def _recurrent(module):
    stdv = 1.0 / math.sqrt(module.hidden_size) if module.hidden_size > 0 else 0
    return {name: _uniform_bound(stdv) for name, _ in module.named_parameters(recurse=False)}


def _prelu(module):
    return {"weight": ("constant", {"val": module.init})}


# isinstance order: the first class that matches a module gives its layer rule
LAYER_RULES = (
    (nn.Linear, _linear_like),
    (nn.modules.conv._ConvNd, _linear_like),
    (nn.Bilinear, _bilinear),
    (nn.Embedding, _embedding),
    (nn.EmbeddingBag, _embedding),
    (nn.LayerNorm, _affine_norm),
    (nn.GroupNorm, _affine_norm),
    (nn.RMSNorm, _affine_norm),
    (nn.modules.batchnorm._NormBase, _batch_norm),
    (nn.MultiheadAttention, _multihead_attention),
    (nn.RNNBase, _recurrent),
    (nn.RNNCellBase, _recurrent),
    (nn.PReLU, _prelu),
)


def layer_specs(module):
    """{local name: init spec} from module's torch 2.13 reset_parameters, or None for a
    module type without a rule here."""
    for cls, rule in LAYER_RULES:
        if isinstance(module, cls):
            return rule(module)
    return None


# ---------------------------------------------------------------- the plan

def _is_bias(local_name):
    return "bias" in local_name


def _own_tensors(module):
    """[(local name, tensor, is_parameter)] held directly by module."""
    own = [(n, p, True) for n, p in module._parameters.items() if p is not None]
    own += [(n, b, False) for n, b in module._buffers.items() if b is not None]
    return own


def plan(model, *, weights=None, biases=None, rules=(), unknown="error"):
    """([(qualified name, tensor, _Init, padding_idx or None)] for every parameter of model
    and every buffer a known layer resets or a rule names, [modules to reset by their own
    reset_parameters] (unknown="reset_parameters"), [names of the buffers left as they
    are]).  Raises before anything is filled."""
    if unknown not in ("error", "reset_parameters"):
        raise ValueError(f"unknown must be 'error' or 'reset_parameters', got {unknown!r}")
    weights = None if weights is None else resolve_init(weights, "weights")
    biases = None if biases is None else resolve_init(biases, "biases")
    rules = [_as_rule(r) for r in rules]

    # entries: id(tensor) -> [qualified name, tensor, spec, owner module, padding_idx]
    entries, order = {}, []
    child_specs = []                        # (qualified name, spec) a parent sets on a child
    resets = []
    transformer_roots = []
    for module_name, module in model.named_modules():
        prefix = module_name + "." if module_name else ""
        if isinstance(module, nn.Transformer):
            transformer_roots.append(module)
        own = _own_tensors(module)
        for local, tensor, is_param in own:
            if isinstance(tensor, nn.parameter.UninitializedTensorMixin):
                raise ValueError(f"{prefix}{local} of {type(module).__name__} is not "
                                 f"materialized yet: run a forward pass of the lazy module first")
        specs = layer_specs(module)
        for local, tensor, is_param in own:
            key = id(tensor)
            if key in entries:              # shared (tied): filled once, under its first name
                continue
            spec = specs.get(local) if specs is not None else None
            entries[key] = [prefix + local, tensor, spec, module, _padding_idx(module, local)]
            order.append(key)
        if specs is not None:
            child_specs += [(prefix + local, spec) for local, spec in specs.items() if "." in local]

    for name, spec in child_specs:          # a parent's say over a child's tensor (MHA out_proj)
        child = model.get_parameter(name)
        if id(child) in entries:
            entries[id(child)][2] = spec
    for root in transformer_roots:          # nn.Transformer: xavier_uniform_ on every p.dim() > 1
        for p in root.parameters():
            if p.dim() > 1 and id(p) in entries:
                entries[id(p)][2] = "xavier_uniform"

    result = []
    still_unknown = {}
    kept_buffers = []
    for key in order:
        name, tensor, spec, module, padding_idx = entries[key]
        local = name.rsplit(".", 1)[-1]
        init = resolve_init(spec, name) if spec is not None else None
        init = _override(init, name, tensor, module, weights, biases, rules)
        is_param = isinstance(tensor, nn.Parameter)
        if init is None and not is_param:
            kept_buffers.append(name)       # a buffer no reset_parameters touches: kept
            continue
        if init is None:
            owner = name.rsplit(".", 1)[0] if "." in name else "(root)"
            still_unknown.setdefault(owner, (module, []))[1].append(local)
            continue
        result.append((name, tensor, init, padding_idx))

    if still_unknown:
        if unknown == "error":
            listed = "; ".join(f"{owner} ({type(m).__name__}: {', '.join(names)})"
                               for owner, (m, names) in still_unknown.items())
            raise TypeError(f"init_module has no rule for these modules' parameters: {listed}. "
                            f"Add rules=[Rule(init, modules=...)] or pass "
                            f"unknown='reset_parameters' to use their own reset_parameters; "
                            f"init_module(model, seed=..., recipe='model') runs the model's "
                            f"own initialization code (a transformers model's init_weights)")
        for owner, (module, names) in still_unknown.items():
            if not callable(getattr(module, "reset_parameters", None)):
                raise TypeError(f"{owner} ({type(module).__name__}) has parameters "
                                f"{', '.join(names)} with no rule and no reset_parameters")
            resets.append(module)
    return result, resets, kept_buffers


def _override(init, name, tensor, module, weights, biases, rules):
    """The init of tensor `name` (held by module) once weights=, biases= and rules= have had
    their say over `init`, later ones winning."""
    local = name.rsplit(".", 1)[-1]
    is_param = isinstance(tensor, nn.Parameter)
    if is_param and weights is not None and tensor.dim() >= 2 and not _is_bias(local):
        init = weights
    if is_param and biases is not None and _is_bias(local):
        init = biases
    for rule in rules:
        if rule.matches(name, module, tensor):
            init = rule.init
    return init


def overrides(model, *, weights=None, biases=None, rules=()):
    """[(qualified name, tensor, _Init, padding_idx or None)] of the parameters and buffers
    that weights=, biases= or rules= give an init (each tensor once, under its first name,
    in named_modules order): what recipe="model" fills after the model's own code."""
    weights = None if weights is None else resolve_init(weights, "weights")
    biases = None if biases is None else resolve_init(biases, "biases")
    rules = [_as_rule(r) for r in rules]
    if weights is None and biases is None and not rules:
        return []
    seen, result = set(), []
    for module_name, module in model.named_modules():
        prefix = module_name + "." if module_name else ""
        for local, tensor, _ in _own_tensors(module):
            if id(tensor) in seen:
                continue
            seen.add(id(tensor))
            name = prefix + local
            init = _override(None, name, tensor, module, weights, biases, rules)
            if init is not None:
                result.append((name, tensor, init, _padding_idx(module, local)))
    return result


def _padding_idx(module, local):
    if isinstance(module, (nn.Embedding, nn.EmbeddingBag)) and local == "weight":
        return module.padding_idx
    return None


def _as_rule(rule):
    if isinstance(rule, Rule):
        return rule
    if isinstance(rule, tuple) and len(rule) == 2:
        match, init = rule
        if isinstance(match, str):
            return Rule(init, names=match)
        return Rule(init, modules=match)
    raise TypeError(f"rules must hold Rule objects or (match, init) pairs, got {rule!r}")


# ---------------------------------------------------------------- init_module

def _root_seed(seed, generator):
    if seed is not None and generator is not None:
        raise TypeError("pass seed= or generator=, not both")
    if seed is None:
        return _tensors.seed_from_torch(generator)
    # a plain int: the entropy of each parameter's SeedSequence, whose spawn key is the name
    return seed_int(seed, accepted="None or a non-negative int")


def holders(model):
    """{id(tensor): [(module, kind, local name), ...]}: where each parameter and buffer is
    held ("_parameters" or "_buffers" of a module), first holder first, in named_modules
    order."""
    held = {}
    for module in model.modules():
        for kind in ("_parameters", "_buffers"):
            for local, tensor in getattr(module, kind).items():
                if tensor is not None:
                    held.setdefault(id(tensor), []).append((module, kind, local))
    return held


def _shared_tensors(model):
    """[[(module, kind, local name), ...]] for every tensor held under more than one name
    (tied weights), first holder first, in named_modules order."""
    return [h for h in holders(model).values() if len(h) > 1]


def _retie(ties):
    """Points every holder of a tie at its first holder's tensor again: to_empty makes a new
    tensor per module, which would untie them."""
    for (first, kind, local), *others in ties:
        tensor = getattr(first, kind)[local]
        for module, other_kind, other_local in others:
            getattr(module, other_kind)[other_local] = tensor


# init_module's recipes: "torch", each layer's torch 2.13 reset_parameters distribution by
# name (plan); "model", the model's own initialization code with fastinit's draws
# (_torch_recipe).  Rules and overrides apply on top of either.
RECIPES = ("torch", "model")


def init_module(module, seed=None, *, recipe="torch", weights=None, biases=None, rules=(),
                unknown="error", generator=None, device="cpu"):
    """init_module(module, seed=None, *, recipe="torch", weights=None, biases=None, rules=(),
    unknown="error", generator=None, device="cpu") -> module, every parameter filled.

    recipe="torch" (the default): each parameter (and BatchNorm/InstanceNorm running
    statistics) gets the distribution its layer's reset_parameters gives in torch 2.13:
    Linear, Bilinear, Conv*/ConvTranspose* (and lazy ones, once materialized), Embedding /
    EmbeddingBag (padding_idx row zero), LayerNorm, RMSNorm, GroupNorm, BatchNorm*,
    InstanceNorm*, MultiheadAttention, RNN/LSTM/GRU and their cells, PReLU, nn.Transformer
    (xavier_uniform_ on every parameter with more than one dimension).
    recipe="model": the model's own initialization code runs (a transformers
    PreTrainedModel's init_weights(); for other modules each submodule's reset_parameters),
    every random fill it makes drawn by fastinit with the same distribution and arguments
    from the stream of the tensor's name; a parameter that code leaves unwritten and no
    override covers is an error (see docs/torch.md).
    Overrides, later ones winning, on top of either recipe: weights= (every parameter of 2
    or more dimensions whose name has no "bias"), biases= (every parameter whose name has
    "bias"), then rules= (Rule objects, or (glob, init) / (module class(es), init) pairs;
    see gpt_rules).  An Embedding's padding_idx row is zero whatever its init.
    unknown (recipe="torch"): "error" raises a TypeError listing the modules whose
    parameters nothing covers; "reset_parameters" calls their own reset_parameters (drawing
    from torch's generator) and fills everything else by name.
    seed: an int, or None to draw one from `generator` / torch's default generator (see
    fastinit.torch).  Parameter `name` is filled from parameter_seed(seed, name).
    A module with meta tensors (built under torch.device("meta")) is first materialized
    with module.to_empty(device=device), its tied tensors tied again, then filled once:
    a tensor held under several names is filled once, under its first name, so meta-built
    and CPU-built models get the same bits.  Parameters that are DTensors
    (e.g. after FSDP2's fully_shard) have each rank fill its own shard.
    """
    if not isinstance(module, nn.Module):
        raise TypeError(f"module must be a torch.nn.Module, got {type(module).__name__}")
    if not isinstance(recipe, str) or recipe not in RECIPES:
        raise ValueError(f"recipe must be one of {', '.join(map(repr, RECIPES))}, got {recipe!r}")
    if recipe == "model":
        if unknown != "error":
            raise ValueError(f"unknown={unknown!r} is for recipe='torch'; with recipe='model' "
                             f"the model's own code decides every parameter")
        return _init_module_by_model(module, seed, weights=weights, biases=biases, rules=rules,
                                     generator=generator, device=device)
    entries, resets, kept_buffers = plan(module, weights=weights, biases=biases, rules=rules,
                                         unknown=unknown)
    on_meta = _on_meta(module)
    if on_meta and kept_buffers:
        # their values come from the model's own code (frequency tables, masks, position
        # ids), which to_empty does not run: no rule of ours could know them
        raise TypeError(f"init_module materializes this meta model with to_empty, which would "
                        f"leave these buffers without their values: {', '.join(kept_buffers)}; "
                        f"init_module(model, seed=..., recipe='model') runs the model's own "
                        f"initialization code, which computes them (transformers models do), "
                        f"or build the model on the CPU (its constructor computes them)")
    root = _root_seed(seed, generator)
    _check_inits(entries)
    generator_class = Generator         # its out= is memory in use
    if on_meta:
        _materialize(module, device)
        entries, resets, _ = plan(module, weights=weights, biases=biases, rules=rules,
                                  unknown=unknown)
        for _, tensor, _, _ in entries:     # untouched memory: filled as new arrays are
            _tensors.advise_fresh(tensor)
        generator_class = NewOutGenerator
    for m in resets:
        m.reset_parameters()
    _fill_entries(entries, root, generator_class)
    return module


def _on_meta(module):
    return any(t.is_meta for t in module.parameters()) or any(t.is_meta for t in module.buffers())


def _materialize(module, device):
    """to_empty(device), every tie tied again."""
    ties = _shared_tensors(module)
    module.to_empty(device=device)
    _retie(ties)


def _check_inits(entries):
    """Every init's arguments checked on a meta tensor of its target's shape, before a byte
    is written; repeated blocks (same init, shape, dtype) checked once."""
    checked = set()
    for name, tensor, init, _ in entries:
        key = (init.check_key, tuple(tensor.shape), tensor.dtype)
        if init.checkable and (init.check_key is None or key not in checked):
            init.fill(torch.empty(tensor.shape, dtype=tensor.dtype, device="meta"), Generator(0))
            checked.add(key)


def _fill_entries(entries, root, generator_class, fresh=None):
    """Each (name, tensor, init, padding_idx) filled from parameter_seed(root, name)."""
    with torch.no_grad():
        for name, tensor, init, padding_idx in entries:
            cls = generator_class if fresh is None or name in fresh else Generator
            # a parameter's stream costs a SeedSequence (tens of us): made only for draws
            init.fill(tensor, cls(parameter_seed(root, name)) if init.draws else None)
            if padding_idx is not None:
                _tensors.zero_row(tensor, padding_idx)


def _init_module_by_model(module, seed, *, weights, biases, rules, generator, device):
    """init_module's recipe="model" (see _torch_recipe)."""
    from . import _torch_recipe
    sharded = any(_tensors.is_dtensor(tensor) for _, tensor in _first_names(module))
    extra = overrides(module, weights=weights, biases=biases, rules=rules)
    root = _root_seed(seed, generator)
    _check_inits(extra)
    fresh = set()
    if _on_meta(module):
        if sharded:
            # the model's code is first run on meta stand-ins (which errors to raise
            # before anything is allocated)
            _torch_recipe.ModuleByModule(module, root).trace()
        _materialize(module, device)
        extra = overrides(module, weights=weights, biases=biases, rules=rules)
        fresh = {name for name, _ in _first_names(module)}
        for _, tensor in _first_names(module):
            _tensors.advise_fresh(tensor)
    if sharded:
        # ops on a DTensor shard are not the whole tensor's (an index into a row-sharded
        # weight gathers a copy): each module's code runs on whole CPU tensors, and every
        # rank copies its shard out of them
        runner = _torch_recipe.ModuleByModule(module, root, fresh=fresh)
        last_use = {name: i for i, used in enumerate(runner.trace()) for name in used}
        with contextlib.closing(runner.values(sorted(last_use, key=last_use.get))) as values:
            for name, tensor in values:
                _copy_shard(runner.tensors[name], tensor)
        record, fresh_after = runner.record, set()
    else:
        record = _torch_recipe.run_model_code(module, root, fresh=fresh)
        fresh_after = record.fresh
    with _tensors.host_writes():
        _fill_entries(extra, root, NewOutGenerator, fresh=fresh_after)
    check_model_code_covers(module, record.written | {name for name, _, _, _ in extra},
                            fresh=bool(fresh))
    return module


def check_model_code_covers(module, covered, *, fresh):
    """recipe='model': a TypeError naming what neither the model's code nor an override
    wrote (whole): every parameter, and every tensor of a model whose memory is new."""
    missing = [name for name, tensor in _first_names(module)
               if name not in covered and (isinstance(tensor, nn.Parameter) or fresh)]
    if missing:
        raise TypeError(
            f"recipe='model': the model's own initialization code wrote nothing into "
            f"{', '.join(missing)}; their values would be "
            + ("uninitialized memory (the model was built on meta)" if fresh else
               "whatever the constructor put there (torch's generator)")
            + ". Give them rules (rules=[Rule(init, names=...)], buffers=True for buffers)"
            + ("" if not fresh else ", or build the model on the CPU"))


def _copy_shard(tensor, values):
    """Copies the part of the whole tensor's `values` that tensor holds (a DTensor: its
    shard; else all of it) into it."""
    local, _, region = _tensors.shard_of(tensor)
    with torch.no_grad():
        local.copy_(values[region] if region is not None else values)


def _first_names(module):
    """[(first qualified name, tensor)] of every parameter and buffer, each tensor once."""
    seen, result = set(), []
    for name, tensor in itertools.chain(module.named_parameters(remove_duplicate=False),
                                        module.named_buffers(remove_duplicate=False)):
        if id(tensor) not in seen:
            seen.add(id(tensor))
            result.append((name, tensor))
    return result
