"""fastinit.torch: torch.nn.init on fastinit's stream, whole-model initialization, DTensor
shards that match one process, and init_module's values written straight into a
safetensors checkpoint (save_initialized) without the model in memory.

    import fastinit.torch as init          # instead of: import torch.nn.init as init
    w = torch.empty(input_dim, output_dim)
    init.xavier_uniform_(w)
    init.kaiming_uniform_(w, mode="fan_in", nonlinearity="relu", seed=0)

Every function keeps torch.nn.init's (torch 2.13) arguments, defaults and semantics (fans
from torch._calculate_fan_in_and_fan_out, torch's gains, trunc_normal_'s absolute bounds)
and returns the tensor it was given; each random one adds a keyword `seed=`:

- an int: the values are fastinit's for that seed, e.g. xavier_uniform_(torch.empty(300, 200),
  seed=3) equals torch.from_numpy(fastinit.xavier_uniform((300, 200), layout="torch", seed=3));
- a fastinit.Generator: its next draw;
- None (the default): a seed is drawn from `generator=` (a torch.Generator) or, without one,
  from torch's default CPU generator as torch.randint(0, 2**63 - 1, (1,)), so that
  torch.manual_seed(n) makes a script reproducible, as it does with torch.nn.init.

Tensors: CPU float32, float64, float16 and bfloat16, Parameters (filled without autograd
history), non-contiguous views (filled as their logical shape, nothing outside the view is
written), meta tensors (left as they are, as torch does; see init_module), and DTensors
(torch.distributed.tensor): the local shard is filled as its region of the global tensor,
fans from the global shape, so the gathered tensor equals one call on the full tensor.
"""
import math
import numbers
import struct
import warnings

import torch
from torch.nn import init as _torch_init
from torch.nn.init import _calculate_fan_in_and_fan_out

from . import _torch_tensors as _tensors
from ._fans import calculate_gain
from ._generator import Generator
from ._schemes import check_real
from ._torch_modules import Rule, gpt_rules, init_module, parameter_seed  # noqa: F401
from ._checkpoint import save_initialized  # noqa: F401

__all__ = [
    "calculate_gain", "uniform_", "normal_", "trunc_normal_", "constant_", "ones_", "zeros_",
    "eye_", "dirac_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_",
    "kaiming_normal_", "orthogonal_", "sparse_",
    "uniform", "normal", "constant", "eye", "dirac", "xavier_uniform", "xavier_normal",
    "kaiming_uniform", "kaiming_normal", "orthogonal", "sparse",
    "init_module", "Rule", "gpt_rules", "parameter_seed", "save_initialized",
]


def _number(name, value):
    """A one-element tensor as the Python number torch reads from it (torch's own init
    functions do arithmetic on such arguments); anything else unchanged, for the NumPy
    API's checks."""
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise TypeError(f"{name} must be a number or a one-element tensor, got a tensor "
                            f"of shape {tuple(value.shape)}")
        return value.item()
    return value


def _fill(tensor, scheme, seed, generator, **arguments):
    """Fills tensor with Generator.<scheme>(shape, layout-free arguments) of the NumPy API,
    through its memory or a copy; DTensors by their shard's region."""
    _tensors.check_tensor(tensor)
    local, shape, region = _tensors.shard_of(tensor)
    if _tensors.has_no_values(tensor):
        # no storage: nothing to fill, as torch; the arguments are still checked, by an
        # empty region of a throwaway stream (orthogonal would factor the whole matrix)
        if scheme != "orthogonal":
            getattr(Generator(0), scheme)(shape, **arguments, dtype=_tensors.fill_dtype(local),
                                          region=tuple(slice(0, 0) for _ in shape))
        return tensor
    rng = _tensors.resolve_generator(seed, generator)
    draw = getattr(rng, scheme)
    start = []          # the stream position of the first block of rows, once there is one

    def fill(out, dtype, rows=None):
        if rows is None:
            return draw(shape, **arguments, dtype=dtype, out=out, region=region)
        # a block of rows (a tensor on another device): every block is part of one draw,
        # so each starts from the stream position of the first
        if start:
            rng.state = start[0]
        else:
            start.append(rng.state)
        return draw(shape, **arguments, dtype=dtype, out=out,
                    region=_tensors.rows_region(region, shape, rows))

    # an orthogonal matrix is factored whole whatever region is asked for: drawn once
    _tensors.write(local, fill, blockwise=scheme != "orthogonal")
    return tensor


def _check_fans(tensor):
    """torch's fans of tensor (ValueError below 2 dimensions, as torch)."""
    _tensors.check_tensor(tensor)
    if tensor.dim() < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer "
                         "than 2 dimensions")
    return _calculate_fan_in_and_fan_out(tensor)


# ---------------------------------------------------------------- plain distributions

def uniform_(tensor, a=0.0, b=1.0, generator=None, *, seed=None):
    """uniform_(tensor, a=0.0, b=1.0, generator=None, *, seed=None) -> tensor, filled
    from U[a, b) (a == b fills a, as torch)."""
    a = check_real("a", _number("a", a))
    b = check_real("b", _number("b", b))
    if a > b:
        raise ValueError(f"uniform_ needs a <= b, got a={a!r}, b={b!r}")
    if a == b:
        return _fill(tensor, "normal", seed, generator, mean=a, std=0.0)
    return _fill(tensor, "uniform", seed, generator, low=a, high=b)


def normal_(tensor, mean=0.0, std=1.0, generator=None, *, seed=None):
    """normal_(tensor, mean=0.0, std=1.0, generator=None, *, seed=None) -> tensor, filled
    from N(mean, std^2)."""
    return _fill(tensor, "normal", seed, generator, mean=_number("mean", mean),
                 std=_number("std", std))


def trunc_normal_sigma_bounds(mean, std, a, b):
    """torch's absolute truncation bounds [a, b] as the core's units of std around mean:
    a_sigma and b_sigma such that the core's support [mean + a_sigma std, mean + b_sigma std]
    (each taken in double, docs/stream.md) lies inside [a, b], so every value does too."""
    mean = check_real("mean", _number("mean", mean))
    std = check_real("std", _number("std", std), positive=True)
    bounds = []
    for name, v in (("a", a), ("b", b)):
        v = _number(name, v)
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or math.isnan(v):
            raise TypeError(f"{name} must be a real number (infinite allowed), got {v!r}")
        bounds.append(float(v))
    a, b = bounds
    if not a < b:
        raise ValueError(f"a must be less than b, got a={a!r}, b={b!r}")
    # (a - mean) / std rounds: mean + a_sigma std may land an ulp outside [a, b]
    a_sigma = _nearest_sigma(lambda s: mean + s * std >= a, (a - mean) / std, math.inf)
    b_sigma = _nearest_sigma(lambda s: mean + s * std <= b, (b - mean) / std, -math.inf)
    if not a_sigma < b_sigma:
        raise ValueError(f"[a, b] = [{a!r}, {b!r}] is narrower than the rounding of "
                         f"mean + z std around mean={mean!r} with std={std!r}")
    return mean, std, a_sigma, b_sigma


def _nearest_sigma(inside, sigma, toward):
    """sigma, or the float nearest to it in the direction `toward` for which inside(sigma)
    holds (inside is monotone in sigma): a gallop then a bisection over the floats."""
    if not math.isfinite(sigma) or inside(sigma):
        return sigma
    order = _float_order(sigma)
    direction = 1 if toward > sigma else -1
    bad, step = order, 1
    while not inside(_float_at(order + direction * step)):
        bad = order + direction * step
        step *= 2
    good = order + direction * step
    while abs(good - bad) > 1:
        mid = (good + bad) // 2
        if inside(_float_at(mid)):
            good = mid
        else:
            bad = mid
    return _float_at(good)


def _float_order(x):
    """An int that orders floats as their values (adjacent floats differ by 1)."""
    bits = struct.unpack("<q", struct.pack("<d", x))[0]
    return bits if bits >= 0 else -(bits & 0x7FFFFFFFFFFFFFFF)


def _float_at(order):
    bits = order if order >= 0 else (-order) | -0x8000000000000000
    return struct.unpack("<d", struct.pack("<q", bits))[0]


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None, *, seed=None):
    """trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None, *, seed=None)
    -> tensor, filled from N(mean, std^2) restricted to [a, b]; a and b are absolute
    bounds, as in torch (not units of std).  Drawn by inverse CDF, never by rejection."""
    mean, std, a_sigma, b_sigma = trunc_normal_sigma_bounds(mean, std, a, b)
    return _fill(tensor, "truncated_normal", seed, generator, mean=mean, std=std,
                 a=a_sigma, b=b_sigma)


# ---------------------------------------------------------------- schemes

def xavier_uniform_(tensor, gain=1.0, generator=None, *, seed=None):
    """xavier_uniform_(tensor, gain=1.0, generator=None, *, seed=None) -> tensor, filled
    from U[-b, b), b = gain * sqrt(6 / (fan_in + fan_out)), torch's fans."""
    _check_empty_fans(tensor)
    return _fill(tensor, "xavier_uniform", seed, generator, gain=_number("gain", gain),
                 layout="torch")


def xavier_normal_(tensor, gain=1.0, generator=None, *, seed=None):
    """xavier_normal_(tensor, gain=1.0, generator=None, *, seed=None) -> tensor, filled
    from N(0, std^2), std = gain * sqrt(2 / (fan_in + fan_out)), torch's fans."""
    _check_empty_fans(tensor)
    return _fill(tensor, "xavier_normal", seed, generator, gain=_number("gain", gain),
                 layout="torch")


def _check_empty_fans(tensor):
    fan_in, fan_out = _check_fans(tensor)
    if fan_in + fan_out == 0:
        raise ValueError(f"tensor of shape {tuple(tensor.shape)} has fan_in + fan_out = 0; "
                         f"Xavier initialization divides by it")


def _kaiming(tensor, scheme, a, mode, nonlinearity, generator, seed):
    _tensors.check_tensor(tensor)
    if 0 in tensor.shape:                       # torch's check, before the fans
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=3)
        return tensor
    _check_fans(tensor)
    mode = mode.lower() if isinstance(mode, str) else mode     # torch accepts any case
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of ['fan_in', 'fan_out']")
    return _fill(tensor, scheme, seed, generator, a=_number("a", a), mode=mode,
                 nonlinearity=nonlinearity, layout="torch")


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None,
                     *, seed=None):
    """kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None,
    *, seed=None) -> tensor, filled from U[-b, b), b = gain * sqrt(3 / fan),
    gain = calculate_gain(nonlinearity, a), fan = torch's fan_in or fan_out by mode."""
    return _kaiming(tensor, "he_uniform", a, mode, nonlinearity, generator, seed)


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None,
                    *, seed=None):
    """kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None,
    *, seed=None) -> tensor, filled from N(0, std^2), std = gain / sqrt(fan)."""
    return _kaiming(tensor, "he_normal", a, mode, nonlinearity, generator, seed)


def orthogonal_(tensor, gain=1, generator=None, *, seed=None):
    """orthogonal_(tensor, gain=1, generator=None, *, seed=None) -> tensor, filled with a
    (semi-)orthogonal matrix times gain; trailing dimensions flattened, as torch
    (fastinit.orthogonal with layout="torch")."""
    _tensors.check_tensor(tensor)
    if tensor.dim() < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    gain = check_real("gain", _number("gain", gain), minimum=0)
    if tensor.numel() == 0:
        return tensor
    return _fill(tensor, "orthogonal", seed, generator, gain=gain, layout="torch")


def sparse_(tensor, sparsity, std=0.01, generator=None, *, seed=None):
    """sparse_(tensor, sparsity, std=0.01, generator=None, *, seed=None) -> tensor: a 2-d
    tensor from N(0, std^2) with ceil(sparsity * rows) zeros in each column.

    Two draws of the (rows, cols) shape from the stream: the normal values, then float64
    uniforms; in each column the rows with the smallest uniforms are zeroed (a uniformly
    random subset, like torch's randperm, fixed by position alone)."""
    _tensors.check_tensor(tensor)
    if tensor.dim() != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    sparsity = check_real("sparsity", _number("sparsity", sparsity), minimum=0)
    if sparsity > 1:
        raise ValueError(f"sparsity must be in [0, 1], got {sparsity!r}")
    std = check_real("std", _number("std", std), minimum=0)
    if _tensors.has_no_values(tensor):
        return tensor
    _tensors.check_writable(tensor)
    local, shape, region = _tensors.shard_of(tensor)
    rng = _tensors.resolve_generator(seed, generator)
    rows = shape[0]
    num_zeros = math.ceil(sparsity * rows)
    row_part, col_part = region if region is not None else (slice(0, rows), slice(0, shape[1]))
    values = rng.normal(shape, 0.0, std, dtype=_tensors.fill_dtype(local), region=region)
    # the keys of whole columns: a shard of rows still needs its columns' full ranking
    keys = rng.uniform(shape, dtype="float64", region=(slice(0, rows), col_part))
    zeroed = keys.argsort(axis=0, kind="stable")[:num_zeros]
    mask = torch.zeros(keys.shape, dtype=torch.bool)
    mask.scatter_(0, torch.from_numpy(zeroed), True)
    values_t = _tensors._to_torch(values)
    values_t[mask[row_part]] = 0
    with torch.no_grad():
        local.copy_(values_t)
    return tensor


# ---------------------------------------------------------------- deterministic fills
# No randomness: torch's own functions (they handle Parameters, views and, for the
# element-wise fills, DTensors).  torch's eye_ and dirac_ place their ones by local index,
# which is wrong on a DTensor shard of another rank: there the pattern is made on the
# global shape and the shard's region copied.

constant_ = _torch_init.constant_
ones_ = _torch_init.ones_
zeros_ = _torch_init.zeros_


def eye_(tensor):
    """eye_(tensor) -> tensor: the identity matrix of a 2-d tensor, as torch (DTensors too)."""
    if not _tensors.is_dtensor(tensor):
        return _torch_init.eye_(tensor)
    return _pattern_on_shard(tensor, _torch_init.eye_)


def dirac_(tensor, groups=1):
    """dirac_(tensor, groups=1) -> tensor: the Dirac delta of a 3-, 4- or 5-d tensor, as
    torch (DTensors too)."""
    if not _tensors.is_dtensor(tensor):
        return _torch_init.dirac_(tensor, groups)
    return _pattern_on_shard(tensor, lambda t: _torch_init.dirac_(t, groups))


def _pattern_on_shard(tensor, make):
    local, shape, region = _tensors.shard_of(tensor)
    full = make(torch.empty(shape, dtype=local.dtype, device="meta" if local.is_meta else "cpu"))
    if not local.is_meta:
        with torch.no_grad():
            local.copy_(full[region])
    return tensor


# ---------------------------------------------------------------- torch's deprecated names

def _deprecated(function):
    new_name = function.__name__
    old_name = new_name[:-1]

    def deprecated_init(*args, **kwargs):
        warnings.warn(f"`nn.init.{old_name}` is now deprecated in favor of `nn.init.{new_name}`.",
                      FutureWarning, stacklevel=2)
        return function(*args, **kwargs)

    deprecated_init.__name__ = deprecated_init.__qualname__ = old_name
    deprecated_init.__doc__ = f"{old_name}(...): deprecated alias of {new_name}, as in torch."
    return deprecated_init


uniform = _deprecated(uniform_)
normal = _deprecated(normal_)
constant = _deprecated(constant_)
eye = _deprecated(eye_)
dirac = _deprecated(dirac_)
xavier_uniform = _deprecated(xavier_uniform_)
xavier_normal = _deprecated(xavier_normal_)
kaiming_uniform = _deprecated(kaiming_uniform_)
kaiming_normal = _deprecated(kaiming_normal_)
orthogonal = _deprecated(orthogonal_)
sparse = _deprecated(sparse_)

