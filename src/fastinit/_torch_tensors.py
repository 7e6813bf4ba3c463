"""The tensor side of fastinit.torch: which seed a call draws from, and how a NumPy fill of
the tensor's logical shape (or of a DTensor's local shard, as a region of the global shape)
reaches the tensor's memory.  No scheme math here: the fill is a NumPy-API call."""
import contextlib
import contextvars
import hashlib
import math
import operator
import sys

import numpy as np
import torch

from . import _arrays, _core
from ._generator import Generator

# Largest seed drawn from a torch.Generator: torch.randint's exclusive bound must fit int64.
_TORCH_SEED_BOUND = 2 ** 63 - 1

# Storage from which a fresh tensor asks for huge pages: numpy's threshold for its arrays.
HUGE_PAGES_MIN_BYTES = 4 << 20

_NUMPY_OF_TORCH = {torch.float32: np.dtype(np.float32), torch.float64: np.dtype(np.float64),
                   torch.float16: np.dtype(np.float16)}
FLOAT_DTYPES = (torch.float32, torch.float64, torch.float16, torch.bfloat16)

# Device types whose memory fastinit writes directly (through a NumPy view).  A tensor on any
# other device (cuda, xpu, mps, ...) is filled through host memory, inside host_writes(), in
# blocks of at most HOST_BLOCK_BYTES, each copied to it with copy_: the host never holds
# more than one block of it.
DIRECT_DEVICE_TYPES = frozenset({"cpu"})
HOST_BLOCK_BYTES = 64 << 20
_HOST_WRITES = contextvars.ContextVar("fastinit_host_writes", default=False)


@contextlib.contextmanager
def host_writes():
    """Within it, check_tensor accepts tensors on any device and write() fills those whose
    device fastinit cannot write directly through host blocks (init_module's
    recipe="model", which must fill a model wherever its parameters live)."""
    token = _HOST_WRITES.set(True)
    try:
        yield
    finally:
        _HOST_WRITES.reset(token)


# ---------------------------------------------------------------- seeds

def seed_from_torch(generator=None):
    """A non-negative int drawn from a torch.Generator (default: torch's default CPU
    generator), so that torch.manual_seed makes fastinit.torch calls reproducible."""
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator or None, "
                        f"got {type(generator).__name__}")
    device = "cpu" if generator is None else generator.device
    draw = torch.randint(0, _TORCH_SEED_BOUND, (1,), generator=generator, device=device)
    return int(draw.item())


def resolve_generator(seed, generator):
    """The fastinit.Generator a call draws from: seed (an int or a numpy SeedSequence: a
    fresh stream, pure; a fastinit.Generator: its next draw), else a seed drawn from
    `generator` or torch's default generator."""
    if seed is not None and generator is not None:
        raise TypeError("pass seed= or generator=, not both")
    if isinstance(seed, Generator):
        return seed
    if seed is None:
        return Generator(seed_from_torch(generator))
    if isinstance(seed, torch.Generator):
        raise TypeError("seed must be an int or a fastinit.Generator; pass a torch.Generator "
                        "as generator=")
    return Generator(seed)           # validates the int / SeedSequence


def name_seed_sequence(seed, name):
    """numpy.random.SeedSequence(entropy=seed, spawn_key=(w0, ..., w7)), the words being
    SHA-256 of name's UTF-8 bytes read as 8 little-endian uint32: the stream of the
    parameter or buffer called `name` (its qualified name in the module)."""
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    words = tuple(int(w) for w in np.frombuffer(digest, dtype="<u4"))
    return np.random.SeedSequence(entropy=seed, spawn_key=words)


# ---------------------------------------------------------------- tensors

def is_dtensor(tensor):
    # a DTensor exists only once its module is imported: never import it here (seconds)
    module = sys.modules.get("torch.distributed.tensor")
    return module is not None and isinstance(tensor, module.DTensor)


def shard_of(tensor):
    """(local tensor, global shape, region or None): what to fill for `tensor`.  A DTensor
    fills its local shard as the region of the global tensor that it holds."""
    if not is_dtensor(tensor):
        return tensor, tuple(tensor.shape), None
    from torch.distributed.tensor import Partial
    from torch.distributed.tensor._utils import compute_local_shape_and_global_offset
    if any(isinstance(p, Partial) for p in tensor.placements):
        raise ValueError(f"tensor is a DTensor with a Partial placement {tensor.placements}; "
                         f"fastinit.torch fills Shard and Replicate placements")
    global_shape = tuple(tensor.shape)
    local = tensor.to_local()
    local_shape, offset = compute_local_shape_and_global_offset(
        tensor.shape, tensor.device_mesh, tensor.placements)
    if tuple(local_shape) != tuple(local.shape):
        raise ValueError(f"the local shard has shape {tuple(local.shape)}, but its placements "
                         f"{tensor.placements} give {tuple(local_shape)}")
    if local.numel() == 0:
        offset = (0,) * len(global_shape)      # torch reports an empty shard's offset as its end
    region = tuple(slice(o, o + n) for o, n in zip(offset, local_shape))
    return local, global_shape, region


def advise_fresh(tensor):
    """Asks for transparent huge pages under the storage of a CPU tensor that nothing has
    touched yet (init_module's to_empty), as numpy does for its own new arrays: the fill's
    first touch then faults once per 2 MiB instead of once per 4 KiB."""
    local = tensor.to_local() if is_dtensor(tensor) else tensor
    if local.device.type != "cpu":
        return
    storage = local.untyped_storage()
    if storage.nbytes() >= HUGE_PAGES_MIN_BYTES:
        _core.advise_huge_pages(storage.data_ptr(), storage.nbytes())


def check_tensor(tensor, name="tensor"):
    """Raises a TypeError / ValueError naming `name` unless fastinit.torch can fill it."""
    if not isinstance(tensor, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(tensor).__name__}")
    if tensor.dtype not in FLOAT_DTYPES:
        raise TypeError(f"{name} has dtype {tensor.dtype}; fastinit.torch fills float32, "
                        f"float64, float16 and bfloat16 tensors")
    if tensor.layout != torch.strided:
        raise TypeError(f"{name} has layout {tensor.layout}; fastinit.torch fills dense "
                        f"(strided) tensors, as torch.nn.init's random fills do")
    device = tensor.device.type
    if device not in ("cpu", "meta") and not _HOST_WRITES.get():
        raise ValueError(f"{name} is on device {tensor.device}; fastinit.torch fills CPU "
                         f"tensors: initialize a CPU tensor and move it with .to({device!r})")


def is_fake(tensor):
    """A FakeTensor (torch._subclasses.FakeTensorMode, torch.compile's tracing): shapes and
    dtypes only, like a meta tensor."""
    module = sys.modules.get("torch._subclasses.fake_tensor")
    return module is not None and isinstance(tensor, module.FakeTensor)


def has_no_values(tensor):
    """Meta and fake tensors: nothing to fill, as torch's own init functions."""
    return tensor.device.type == "meta" or is_fake(tensor)


def numpy_view(tensor):
    """A NumPy array sharing tensor's memory with the dtype the core writes, or None when
    no such view exists (non-contiguous tensor, a negated or conjugated view, whose memory
    holds other values than it shows, or a half type the core does not write)."""
    if not tensor.is_contiguous() or tensor.is_neg() or tensor.is_conj():
        return None
    dtype = tensor.dtype
    if dtype == torch.bfloat16:
        np_dtype = bfloat16_dtype()
        if np_dtype is None or not core_writes(np_dtype):
            return None
        return tensor.detach().view(torch.int16).numpy().view(np_dtype)
    np_dtype = _NUMPY_OF_TORCH[dtype]
    if not core_writes(np_dtype):
        return None
    return tensor.detach().numpy()


def bfloat16_dtype():
    try:
        import ml_dtypes
    except ImportError:
        return None
    return np.dtype(ml_dtypes.bfloat16)


_CORE_DTYPES = {}


def core_writes(np_dtype):
    """Whether the NumPy API accepts np_dtype as an output dtype."""
    if np_dtype not in _CORE_DTYPES:
        try:
            _arrays.resolve_dtype(np_dtype, None)
            _CORE_DTYPES[np_dtype] = True
        except TypeError:
            _CORE_DTYPES[np_dtype] = False
    return _CORE_DTYPES[np_dtype]


def fill_dtype(tensor):
    """The NumPy dtype a fill of tensor is computed in: the tensor's own, or float32 for a
    half type the core does not write (then rounded to it by torch, to nearest even)."""
    if tensor.dtype == torch.bfloat16:
        np_dtype = bfloat16_dtype()
        return np_dtype if np_dtype is not None and core_writes(np_dtype) else np.dtype(np.float32)
    np_dtype = _NUMPY_OF_TORCH[tensor.dtype]
    return np_dtype if core_writes(np_dtype) else np.dtype(np.float32)


def check_writable(tensor):
    """torch's rule for in-place writes that fastinit's own writes (through NumPy, which
    torch does not see) must keep: an inference tensor only inside inference_mode."""
    if tensor.is_inference() and not torch.is_inference_mode_enabled():
        raise RuntimeError("Inplace update to inference tensor outside InferenceMode is not "
                           "allowed. You can make a clone to get a normal tensor before doing "
                           "inplace update.")


def write(tensor, fill, *, blockwise=True):
    """Runs fill(out, dtype) -> ndarray and puts its values into tensor (no autograd
    history), as an in-place op of torch's: the tensor's version counter moves, so autograd
    refuses a backward pass that saved the old values.  out is a NumPy view of tensor's
    memory when one exists (filled in place), else None: fill then returns a new
    C-contiguous array of tensor's logical shape, copied into it, so a non-contiguous view
    is written only where it points.

    A tensor on a device outside DIRECT_DEVICE_TYPES is written by blocks of its rows:
    fill(None, dtype, (start, stop)) returns rows start:stop (of its first dimension), each
    copied to the device before the next is drawn; blockwise=False draws it whole (a fill
    that cannot make part of a tensor by itself, such as an orthogonal matrix)."""
    check_writable(tensor)
    if tensor.device.type not in DIRECT_DEVICE_TYPES:
        return write_through_host(tensor, fill, blockwise=blockwise)
    out = numpy_view(tensor)
    dtype = fill_dtype(tensor)
    if out is None:
        result = fill(None, dtype)
        with torch.no_grad():
            tensor.copy_(_to_torch(result))       # torch's copy_ moves the version itself
        return tensor
    try:
        fill(out, dtype)
    finally:
        # also when interrupted: the memory may have changed
        if not tensor.is_inference():
            torch.autograd.graph.increment_version(tensor)
    return tensor


def row_blocks(tensor, block_bytes, blockwise=True):
    """[(start, stop)] of tensor's first dimension, each block of rows at most block_bytes
    (at least one row), or [None] for one whole draw (a 0-d tensor, or blockwise=False)."""
    if tensor.dim() == 0 or not blockwise:
        return [None]
    rows = tensor.shape[0]
    row_bytes = max(1, numel(tuple(tensor.shape[1:])) * tensor.element_size())
    step = max(1, block_bytes // row_bytes)
    return [(start, min(start + step, rows)) for start in range(0, rows, step)]


def write_through_host(tensor, fill, *, blockwise=True):
    """write() for a tensor on another device: each block of rows drawn into new host
    memory and copied to the device."""
    dtype = fill_dtype(tensor)
    for rows in row_blocks(tensor, HOST_BLOCK_BYTES, blockwise):
        if rows is None:
            copy_block(tensor, _to_torch(fill(None, dtype)))
        else:
            copy_block(tensor[rows[0]:rows[1]], _to_torch(fill(None, dtype, rows)))
    return tensor


def copy_block(destination, host):
    """destination.copy_(host): one host block onto the device (the tests count them)."""
    with torch.no_grad():
        destination.copy_(host)


def rows_region(region, shape, rows):
    """The region of the global `shape` that rows start:stop of a tensor holding `region`
    (None: all of it) cover."""
    if region is None:
        region = tuple(slice(0, n) for n in shape)
    first = region[0]
    return (slice(first.start + rows[0], first.start + rows[1]),) + tuple(region[1:])


def _to_torch(array):
    if array.dtype.name == "bfloat16":          # by name: importing ml_dtypes takes seconds
        return torch.from_numpy(array.view(np.int16)).view(torch.bfloat16)
    return torch.from_numpy(array)


def shape_of(tensor):
    return tuple(operator.index(d) for d in tensor.shape)


def numel(shape):
    return math.prod(shape)


def zero_row(tensor, index):
    """Sets row `index` (negative counts from the end) of tensor to zero; of a DTensor,
    only where its local shard holds that row."""
    local, shape, region = shard_of(tensor)
    row = index % shape[0]
    start = 0 if region is None else region[0].start
    if start <= row < start + local.shape[0]:
        with torch.no_grad():
            local[row - start].zero_()
