"""save_initialized: the values init_module would give a model, written straight into a
safetensors checkpoint, one bounded block at a time, without materializing the model.

The directory is what transformers' save_pretrained writes: the state dict's names with
tied duplicates dropped, split in state-dict order at max_shard_size as huggingface_hub's
split_torch_state_dict_into_shards splits it (model.safetensors, or
model-0000i-of-0000N.safetensors and model.safetensors.index.json), then config.json and
generation_config.json when the model has them.  Each file is the safetensors format: an
8-byte little-endian header length, a JSON header, then every tensor's raw little-endian
bytes, back to back.

Every value is init_module's with the same recipe: recipe="torch" by the same plan
(fastinit._torch_modules.plan), the same stream for each qualified name; recipe="model" by
the model's own code run one module at a time (fastinit._torch_recipe.ModuleByModule),
each tensor made when its file asks for it and written whole.  With recipe="torch", a
tensor whose init is one draw of the whole tensor is drawn in row blocks (region=) into two
reused buffers, one filled while a writer thread writes the other to the file; any other
tensor is filled in memory exactly as init_module fills it, then written.  The files are written with plain writes, not through a memory map: filling
a shared file mapping took 1.1 to 2.3 times as long here (a page fault per 4 KiB) and
turns a full disk into SIGBUS instead of an OSError."""
import collections
import concurrent.futures
import copy
import dataclasses
import json
import math
import mmap
import numbers
import os
import re
import shutil
import struct
import sys
import tempfile
import time
from typing import NamedTuple

import numpy as np
import torch
from torch import nn

from . import _arrays
from . import _torch_modules as _modules
from . import _torch_tensors as _tensors
from ._generator import Generator, NewOutGenerator, seed_int

# The recipes save_initialized draws, init_module's: "torch" (each layer's torch 2.13
# reset_parameters distribution) and "model" (the model's own initialization code, run one
# module at a time), then weights=, biases=, rules=.
RECIPES = ("torch", "model")

# Tensors are drawn and written in blocks of at most this size (two such buffers in use).
BLOCK_BYTES = 32 << 20

# fastinit.torch functions that are one whole-tensor draw and nothing else (its _fill):
# their tensors can be drawn block by block.  Every other init is run on a whole tensor.
BLOCK_DRAWN_SCHEMES = frozenset({
    "uniform", "normal", "trunc_normal", "xavier_uniform", "xavier_normal", "glorot_uniform",
    "glorot_normal", "kaiming_uniform", "kaiming_normal", "he_uniform", "he_normal",
    "lecun_uniform", "lecun_normal"})

# huggingface_hub's size units (parse_size_to_int) and file names (transformers' constants)
SIZE_UNITS = {"TB": 10 ** 12, "GB": 10 ** 9, "MB": 10 ** 6, "KB": 10 ** 3}
WEIGHTS_NAME = "model.safetensors"
INDEX_NAME = "model.safetensors.index.json"
CONFIG_NAME = "config.json"
GENERATION_CONFIG_NAME = "generation_config.json"

# the safetensors format's dtype names
SAFETENSORS_DTYPES = {
    torch.float64: "F64", torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16",
    torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8",
    torch.uint8: "U8", torch.bool: "BOOL", torch.uint16: "U16", torch.uint32: "U32",
    torch.uint64: "U64", torch.float8_e4m3fn: "F8_E4M3", torch.float8_e5m2: "F8_E5M2",
}
_DTYPE_NAMES = {"float32": torch.float32, "float64": torch.float64, "float16": torch.float16,
                "bfloat16": torch.bfloat16}


class CheckpointSummary(NamedTuple):
    """What one save_initialized call wrote."""
    path: str           # the checkpoint's directory
    files: tuple        # names of the files this call wrote, safetensors files first
    parameters: int     # values of the model's parameters in those safetensors files
    bytes: int          # bytes of those safetensors files
    seconds: float      # from the call to the last rename


# ---------------------------------------------------------------- what each tensor holds

class _Drawn(NamedTuple):
    """init_module's values: init drawn from the stream of `name` (the plan's name)."""
    name: str
    init: object
    padding_idx: object


class _FromCode(NamedTuple):
    """recipe="model": the values the model's own code gives the tensor `name` (its first
    name), run one module at a time (_torch_recipe.ModuleByModule)."""
    name: str


class _Given(NamedTuple):
    """Values that already exist: a CPU model's kept buffer, or a module's own
    reset_parameters run on a copy of that module."""
    tensor: torch.Tensor


@dataclasses.dataclass(frozen=True)
class _Entry:
    key: str                # the tensor's name in the checkpoint
    shape: tuple
    dtype: torch.dtype      # as written
    is_parameter: bool
    source: object          # _Drawn, _FromCode or _Given

    @property
    def nbytes(self):
        return math.prod(self.shape) * self.dtype.itemsize


@dataclasses.dataclass(frozen=True)
class _File:
    name: str
    header: bytes                   # length, JSON, padding: the data starts right after
    placed: tuple                   # ((entry, offset in the data), ...) in data order

    @property
    def size(self):
        last_entry, last_offset = self.placed[-1] if self.placed else (None, 0)
        return len(self.header) + last_offset + (last_entry.nbytes if last_entry else 0)


# ---------------------------------------------------------------- arguments

def parse_max_shard_size(size):
    """parse_max_shard_size(size) -> bytes: an int, or a string of digits and a unit as
    huggingface_hub reads it ("5GB" = 5 * 10**9; units TB, GB, MB, KB)."""
    if isinstance(size, bool):
        raise TypeError(f"max_shard_size must be an int or a string like '5GB', got {size!r}")
    if isinstance(size, numbers.Integral):
        value = int(size)
    elif isinstance(size, str):
        text = size.strip()
        unit = text[-2:].upper()
        if unit not in SIZE_UNITS:
            raise ValueError(f"max_shard_size {size!r}: the unit must be one of "
                             f"{', '.join(SIZE_UNITS)}")
        try:
            value = int(float(text[:-2].strip()) * SIZE_UNITS[unit])
        except ValueError:
            raise ValueError(f"max_shard_size {size!r}: cannot read the number") from None
    else:
        raise TypeError(f"max_shard_size must be an int or a string like '5GB', "
                        f"got {type(size).__name__}")
    if value < 1:
        raise ValueError(f"max_shard_size must be at least 1 byte, got {size!r}")
    return value


def resolve_dtype(dtype):
    """The dtype floating-point tensors are written in: None keeps each tensor's own."""
    if dtype is None:
        return None
    if isinstance(dtype, str) and dtype in _DTYPE_NAMES:
        return _DTYPE_NAMES[dtype]
    if isinstance(dtype, torch.dtype) and dtype in _tensors.FLOAT_DTYPES:
        return dtype
    raise TypeError(f"dtype must be None or one of {', '.join(_DTYPE_NAMES)} (a name or a "
                    f"torch.dtype), got {dtype!r}")


def _resolve_shards(shards):
    """(writer, writers) from shards=: None is (0, 1), one writer writing everything."""
    if shards is None:
        return 0, 1
    try:
        writer, writers = shards
        writer, writers = int(writer), int(writers)
        if (writer, writers) != tuple(shards) or isinstance(shards[0], bool):
            raise TypeError
    except (TypeError, ValueError):
        raise TypeError(f"shards must be None or (writer, writers), two ints, got {shards!r}") \
            from None
    if writers < 1 or not 0 <= writer < writers:
        raise ValueError(f"shards=(writer, writers) needs 0 <= writer < writers, got {shards!r}")
    return writer, writers


# ---------------------------------------------------------------- the state dict

def saved_tensors(model):
    """saved_tensors(model) -> [(key, tensor)] that save_pretrained writes for model, in
    state-dict order: persistent buffers only, without _keys_to_ignore_on_save, and each
    tensor held under several names (tied) once.  As transformers' remove_tied_weights_from_
    state_dict: the names its modules' _tied_weights_keys match (re.search, in sorted order)
    are dropped first; of names it does not declare, the first in state-dict order stays."""
    state = model.state_dict(keep_vars=True)
    for key in getattr(model, "_keys_to_ignore_on_save", None) or ():
        state.pop(key, None)
    names_of = collections.defaultdict(list)
    for key, tensor in state.items():
        names_of[id(tensor)].append(key)
    patterns = _tied_weight_patterns(model)
    dropped = set()
    for keys in names_of.values():
        if len(keys) < 2:
            continue
        declared = [k for k in sorted(keys) if any(re.search(p, k) for p in patterns)]
        dropped.update(declared[:len(keys) - 1])
        dropped.update([k for k in keys if k not in dropped][1:])
    return [(key, tensor) for key, tensor in state.items() if key not in dropped]


def _tied_weight_patterns(model):
    """Every module's _tied_weights_keys (a {target: source} dict, or a list of patterns in
    older transformers), prefixed with the module's name."""
    patterns = []
    for name, module in model.named_modules():
        tied = getattr(module, "_tied_weights_keys", None) or ()
        patterns += [f"{name}.{k}" if name else k for k in (tied.keys() if isinstance(tied, dict)
                                                            else tied)]
    return patterns


def _check_names_are_kept(model, saved):
    """transformers may rename or merge a model's weights on save (its conversion mappings);
    save_initialized writes the module's own names, so such models are refused."""
    transformers = sys.modules.get("transformers")
    if transformers is None or not isinstance(model, transformers.PreTrainedModel):
        return
    try:
        from transformers.core_model_loading import revert_weight_conversion
    except ImportError:
        return
    probe = {key: torch.empty(tuple(t.shape), dtype=t.dtype, device="meta") for key, t in saved}
    reverted = revert_weight_conversion(model, dict(probe))
    if set(reverted) != set(probe):
        changed = sorted(set(probe) ^ set(reverted))[:6]
        raise ValueError(f"save_pretrained converts the weights of {type(model).__name__} "
                         f"before writing them (names such as {changed}); save_initialized "
                         f"writes the module's own names and cannot write this model")


# ---------------------------------------------------------------- values

def _torch_recipe_sources(model, saved, dtype, *, weights, biases, rules, unknown, code):
    """{id(tensor): _Drawn or _Given} by init_module's plan.  A module that
    unknown="reset_parameters" leaves to its own reset_parameters runs it on a copy of that
    module only, in plan order (those draws come from torch's generator)."""
    planned, resets, _ = _modules.plan(model, weights=weights, biases=biases, rules=rules,
                                       unknown=unknown)
    saved_ids = {id(t) for _, t in saved}
    sources = {}
    for module in resets:
        sources.update((key, _Given(values))
                       for key, values in _reset_copy(module, dtype, saved_ids).items())
    # the plan's inits come after the resets and win over them, as in init_module
    sources.update((id(tensor), _Drawn(name, init, padding_idx))
                   for name, tensor, init, padding_idx in planned)
    return sources


def _model_recipe_sources(model, saved, dtype, *, weights, biases, rules, unknown, code):
    """{id(tensor): _FromCode or _Drawn}: what the model's own code writes (found by its
    first run on meta stand-ins, code.trace()), then the overrides, which win, as in
    init_module.  What neither writes is refused here, before a byte is written, as
    init_module refuses it after."""
    if unknown != "error":
        raise ValueError(f"unknown={unknown!r} is for recipe='torch'; with recipe='model' "
                         f"the model's own code decides every parameter")
    extra = _modules.overrides(model, weights=weights, biases=biases, rules=rules)
    used = set().union(*code.trace())
    _modules.check_model_code_covers(model, code.written | {name for name, *_ in extra},
                                     fresh=bool(code.fresh))
    sources = {id(code.tensors[name]): _FromCode(name) for name in used}
    sources.update((id(tensor), _Drawn(name, init, padding_idx))
                   for name, tensor, init, padding_idx in extra)
    return sources


# recipe -> sources(model, saved, dtype, code=the model's code one module at a time,
# **init_module's keywords): where each saved tensor's values come from.
_RECIPE_SOURCES = {"torch": _torch_recipe_sources, "model": _model_recipe_sources}
assert tuple(_RECIPE_SOURCES) == RECIPES


def _entries(model, saved, dtype, recipe, **keywords):
    """[_Entry] of the saved tensors, each with its values' source under `recipe`."""
    sources = _RECIPE_SOURCES[recipe](model, saved, dtype, **keywords)
    parameter_ids = {id(p) for p in model.parameters()}
    entries, unfilled = [], []
    for key, tensor in saved:
        if _tensors.is_dtensor(tensor):
            raise TypeError(f"{key} is a DTensor: build the model unsharded (on meta) to "
                            f"write its checkpoint")
        out_dtype = dtype if dtype is not None and tensor.is_floating_point() else tensor.dtype
        if out_dtype not in SAFETENSORS_DTYPES:
            raise TypeError(f"{key} has dtype {out_dtype}, which safetensors cannot store")
        if id(tensor) in sources:
            source = sources[id(tensor)]
        elif tensor.is_meta:
            unfilled.append(key)
            continue
        else:               # a buffer no init touches: written as the model holds it
            source = _Given(tensor.detach())
        entries.append(_Entry(key, tuple(tensor.shape), out_dtype, id(tensor) in parameter_ids,
                              source))
    if unfilled:
        raise ValueError(f"the model is on meta and nothing initializes these saved buffers: "
                         f"{', '.join(unfilled)}; build the model on the CPU, or give them "
                         f"rules, or make them non-persistent if they are not weights")
    return entries


def _reset_copy(module, dtype, saved_ids):
    """{id(parameter): values} of module's own parameters after its reset_parameters, run on
    a copy of the module materialized on the CPU (in `dtype` when one is given)."""
    twin = copy.deepcopy(module)
    if any(t.is_meta for t in twin.parameters()) or any(t.is_meta for t in twin.buffers()):
        twin.to_empty(device="cpu")
    if dtype is not None:
        twin.to(dtype)
    twin.reset_parameters()
    return {id(p): twin._parameters[local].detach()
            for local, p in module._parameters.items()
            if p is not None and id(p) in saved_ids}


def _check_inits(entries):
    """Every drawn init's arguments checked on a meta tensor before anything is written, as
    init_module checks them; identical blocks once."""
    checked = set()
    for entry in entries:
        if not isinstance(entry.source, _Drawn):
            continue
        init = entry.source.init
        key = (init.check_key, entry.shape, entry.dtype)
        if init.checkable and (init.check_key is None or key not in checked):
            init.fill(torch.empty(entry.shape, dtype=entry.dtype, device="meta"), Generator(0))
            checked.add(key)


# ---------------------------------------------------------------- the files

def split_into_files(entries, max_shard_bytes):
    """[[entries of file 1], ...]: huggingface_hub's split in state-dict order (a tensor
    larger than the limit alone in its file; a file that the next tensor would push over
    the limit closed)."""
    files, current, current_bytes = [], [], 0
    for entry in entries:
        if entry.nbytes > max_shard_bytes:
            files.append([entry])
            continue
        if current_bytes + entry.nbytes > max_shard_bytes:
            files.append(current)
            current, current_bytes = [], 0
        current.append(entry)
        current_bytes += entry.nbytes
    if current or not files:
        files.append(current)
    return files


def file_names(count):
    """save_pretrained's safetensors file names for `count` files."""
    if count == 1:
        return [WEIGHTS_NAME]
    return [f"model-{i + 1:05d}-of-{count:05d}.safetensors" for i in range(count)]


def _layout(name, entries):
    """A _File: entries in data order (larger elements first, then by name, so that every
    tensor starts aligned to its element size) behind the safetensors header."""
    header = {"__metadata__": {"format": "pt"}}
    placed, offset = [], 0
    for entry in sorted(entries, key=lambda e: (-e.dtype.itemsize, e.key)):
        header[entry.key] = {"dtype": SAFETENSORS_DTYPES[entry.dtype], "shape": list(entry.shape),
                             "data_offsets": [offset, offset + entry.nbytes]}
        placed.append((entry, offset))
        offset += entry.nbytes
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-(8 + len(text)) % 8)      # the data starts 8-byte aligned
    return _File(name, struct.pack("<Q", len(text)) + text, tuple(placed))


def _index_json(files, total_parameters):
    """model.safetensors.index.json as save_pretrained writes it."""
    weight_map = {entry.key: f.name for f in files for entry, _ in f.placed}
    total_size = sum(entry.nbytes for f in files for entry, _ in f.placed)
    index = {"metadata": {"total_parameters": total_parameters, "total_size": total_size},
             "weight_map": weight_map}
    return json.dumps(index, indent=2, sort_keys=True) + "\n"


def _config_writers(model, entries, files):
    """[(file name, write(path))] of the JSON files save_pretrained writes besides the
    weights: the index, generation_config.json and config.json (last: renamed last, a
    directory without it is never taken for a model)."""
    writers = []
    if len(files) > 1:
        total = sum(p.numel() for p in model.parameters())
        text = _index_json(files, total)
        writers.append((INDEX_NAME, lambda path: _write_text(path, text)))
    config = getattr(model, "config", None)
    generation = getattr(model, "generation_config", None)
    can_generate = getattr(model, "can_generate", None)
    if (generation is not None and hasattr(generation, "to_json_file") and callable(can_generate)
            and can_generate()):
        writers.append((GENERATION_CONFIG_NAME,
                        lambda path: generation.to_json_file(path, use_diff=True,
                                                             keys_to_pop=["compile_config"])))
    if config is not None and hasattr(config, "to_json_file"):
        config = copy.deepcopy(config)
        # as save_pretrained: the dtype written and the class that reads it back
        dtypes = [e.dtype for e in entries if e.dtype.is_floating_point]
        if dtypes:
            config.dtype = str(dtypes[0]).removeprefix("torch.")
        config.architectures = [type(model).__name__]
        writers.append((CONFIG_NAME, lambda path: config.to_json_file(path, use_diff=True)))
    elif isinstance(config, dict):
        text = json.dumps(config, indent=2, sort_keys=True) + "\n"
        writers.append((CONFIG_NAME, lambda path: _write_text(path, text)))
    return writers


def _write_text(path, text):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


# ---------------------------------------------------------------- the directory

def _prepare_directory(path, names, whole, needed_bytes):
    """Checks path before anything is written, then creates it: refused when it is a file,
    when (one writer) it is a directory with anything in it, when (several writers) one of
    this writer's files is there already, when its disk has fewer than needed_bytes free,
    or when it cannot be created or written.  Returns whether it was created."""
    if os.path.exists(path) and not os.path.isdir(path):
        raise ValueError(f"path {path!r} exists and is not a directory")
    exists = os.path.isdir(path)
    if exists and whole:
        present = sorted(os.listdir(path))
        if present:
            raise ValueError(f"path {path!r} is not empty (it holds {', '.join(present[:5])}"
                             f"{', ...' if len(present) > 5 else ''}); save_initialized writes "
                             f"a checkpoint into a new or empty directory")
    if exists and not whole:
        clash = [n for n in names if os.path.lexists(os.path.join(path, n))]
        if clash:
            raise ValueError(f"path {path!r} already holds {', '.join(clash)}, which this "
                             f"writer would write")
    ancestor = os.path.abspath(path)
    while not os.path.isdir(ancestor):
        ancestor = os.path.dirname(ancestor)
    free = shutil.disk_usage(ancestor).free
    if free < needed_bytes:
        raise ValueError(f"path {path!r}: the disk has {free / 1e9:.3f} GB free and this "
                         f"checkpoint needs {needed_bytes / 1e9:.3f} GB")
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as e:
        raise ValueError(f"path {path!r} cannot be created: {e.strerror or e}") from None
    try:
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as e:
        if not exists:
            _remove_empty_directory(path)
        raise ValueError(f"path {path!r} is not writable: {e.strerror or e}") from None
    return not exists


def _remove_empty_directory(path):
    try:
        os.rmdir(path)
    except OSError:
        pass


def _temporary_name(name):
    # hidden, and not a name transformers or safetensors would ever read
    return f".{name}.partial"


# ---------------------------------------------------------------- writing

class _FileWriter:
    """Writes byte ranges of one file on a writer thread, so that the next block is drawn
    while this one is written; progress(bytes) is told of each finished write, in order,
    on the caller's thread.  At most max_pending bytes wait to be written: a caller that
    gets ahead waits for the oldest write."""

    def __init__(self, path, progress, executor, max_pending):
        self._file = open(path, "wb", buffering=0)
        self._progress, self._executor, self._max_pending = progress, executor, max_pending
        self._pending = collections.deque()   # (future, bytes, bytes to report), oldest first
        self._pending_bytes = 0

    def write_at(self, offset, array, rewrite=False, whole=False):
        """Queues array's bytes for offset; returns the write's future.  array must not
        change until it is done.  rewrite: bytes written before, not counted again.
        whole: array is a tensor's own memory, held until written anyway: the caller goes
        on (to make the next tensor) while it is written, waiting only for what was queued
        before it beyond max_pending."""
        view = memoryview(np.ascontiguousarray(array).reshape(-1).view(np.uint8))
        future = self._executor.submit(self._write, offset, view)
        self._pending.append((future, view.nbytes, 0 if rewrite else view.nbytes))
        self._pending_bytes += view.nbytes
        max_pending = self._max_pending + (view.nbytes if whole else 0)
        while self._pending and (self._pending[0][0].done()
                                 or self._pending_bytes > max_pending):
            self._finish_oldest()
        return future

    def _write(self, offset, view):
        if self._file.tell() != offset:
            self._file.seek(offset)
        while view:                     # a raw write may take less than it was given
            view = view[self._file.write(view):]

    def _finish_oldest(self):
        future, nbytes, reported = self._pending.popleft()
        self._pending_bytes -= nbytes
        future.result()                 # a failed write raises here
        if reported:
            self._progress(reported)

    def close(self):
        """Waits for every write (raising the first failure), then closes the file."""
        try:
            while self._pending:
                self._finish_oldest()
        finally:
            for future, _, _ in self._pending:      # after a failure: let the rest finish
                future.cancel()
            concurrent.futures.wait([f for f, _, _ in self._pending])
            self._file.close()


class _BlockBuffers:
    """Two reusable blocks of memory: one is filled while the other is written."""

    def __init__(self, nbytes):
        self.nbytes = nbytes
        self._arrays = [np.empty(nbytes, np.uint8) for _ in range(2)]
        self._writes = [None, None]
        self._next = 0

    def take(self):
        """(index, array) of a block no pending write reads any longer."""
        index, self._next = self._next, 1 - self._next
        if self._writes[index] is not None:
            concurrent.futures.wait([self._writes[index]])
        return index, self._arrays[index]

    def written_by(self, index, future):
        self._writes[index] = future


class _BlockDrawGenerator(Generator):
    """A Generator whose draw into exactly `target` (a tensor's whole memory, never touched)
    is made in row blocks into `buffers`, each block passed to write_block(first element,
    block) -> the write's future instead of landing in target.  Its other draws are
    ordinary ones.  The blocks are regions of the same draw: the stream position restarts
    for each, and ends where one whole draw would leave it."""
    _outs_are_new = True        # the buffer: plain stores (the values never depend on it)

    def __init__(self, seed, target, buffers, write_block):
        super().__init__(seed)
        self._target = (target.__array_interface__["data"][0], target.shape)
        self._buffers, self._write_block = buffers, write_block
        self.block_draws = self.other_draws = 0

    def _draw(self, distribution, params, shape, dtype, out, threads, region):
        if (out is None or region is not None
                or (out.__array_interface__["data"][0], out.shape) != self._target):
            self.other_draws += 1
            return super()._draw(distribution, params, shape, dtype, out, threads, region)
        dtype = _arrays.resolve_dtype(dtype, out)
        start = self.state
        for block_region, first, count in row_blocks(shape, self._buffers.nbytes // dtype.itemsize):
            self.state = start
            extent = tuple(s.stop - s.start for s in block_region)
            index, memory = self._buffers.take()
            block = memory[:count * dtype.itemsize].view(dtype).reshape(extent)
            super()._draw(distribution, params, shape, dtype, block, threads, block_region)
            self._buffers.written_by(index, self._write_block(first, block))
        self.block_draws += 1
        return out


def row_blocks(shape, max_elements):
    """[(region, first element, elements)] covering shape in C order, each region a
    contiguous run of at most max_elements elements: whole rows of the first axis whose
    rows fit, single indices on the axes before it."""
    n = math.prod(shape)
    if n == 0:
        return []
    max_elements = max(1, max_elements)
    axis = 0
    while math.prod(shape[axis + 1:]) > max_elements:
        axis += 1
    inner = math.prod(shape[axis + 1:])
    step = max(1, max_elements // inner)
    blocks = []
    for outer in np.ndindex(*shape[:axis]):
        base = sum(i * math.prod(shape[k + 1:]) for k, i in enumerate(outer))
        for lo in range(0, shape[axis], step):
            hi = min(shape[axis], lo + step)
            region = tuple(slice(i, i + 1) for i in outer) + (slice(lo, hi),) + tuple(
                slice(0, d) for d in shape[axis + 1:])
            blocks.append((region, base + lo * inner, (hi - lo) * inner))
    return blocks


def _untouched_tensor(shape, dtype):
    """A CPU tensor of shape and dtype on fresh anonymous memory: it takes no RSS as long
    as nothing writes to it."""
    nbytes = math.prod(shape) * dtype.itemsize
    raw = np.frombuffer(mmap.mmap(-1, max(nbytes, 1)), np.uint8, count=nbytes)
    return torch.from_numpy(raw).view(dtype).view(shape)


class _TensorWriter:
    """Puts each entry's values into its file: drawn block by block into reused buffers
    when its init is one draw of the whole tensor, else filled whole as init_module fills
    it."""

    def __init__(self, root_seed, block_bytes, code_values=None):
        self._root = root_seed
        self._block_bytes = block_bytes
        self._buffers = None
        self._code_values = code_values

    def close(self):
        if self._code_values is not None:
            self._code_values.close()

    def write(self, out, offset, entry):
        source = entry.source
        if isinstance(source, (_Given, _FromCode)):
            values = (source.tensor if isinstance(source, _Given)
                      else self._code_values.take(source.name))
            out.write_at(offset, _bytes_of(values.to("cpu", entry.dtype).contiguous()),
                         whole=isinstance(source, _FromCode))
            return
        drawn_in_blocks = None
        if entry.nbytes and self._blocks_drawable(source.init):
            drawn_in_blocks = self._write_in_blocks(out, offset, entry)
            if drawn_in_blocks:
                return
        # a draw in blocks that was not one whole draw has written bytes: they are replaced
        out.write_at(offset, _bytes_of(self._filled(entry)), rewrite=drawn_in_blocks is False)

    @staticmethod
    def _blocks_drawable(init):
        check_key = getattr(init, "check_key", None)
        return check_key is not None and check_key[0] in BLOCK_DRAWN_SCHEMES

    def _filled(self, entry):
        """The entry's values in a new tensor, filled as init_module fills it."""
        source = entry.source
        tensor = torch.empty(entry.shape, dtype=entry.dtype)
        with torch.no_grad():
            source.init.fill(tensor, NewOutGenerator(_modules.parameter_seed(self._root,
                                                                             source.name)))
            if source.padding_idx is not None:
                _tensors.zero_row(tensor, source.padding_idx)
        return tensor

    def _write_in_blocks(self, out, offset, entry):
        """Runs the entry's init on an untouched tensor with a _BlockDrawGenerator: True
        when that was exactly one draw of the whole tensor, now written; False when it was
        not (what it wrote is not to be trusted); None when nothing was tried."""
        target = _untouched_tensor(entry.shape, entry.dtype)
        target_view = _tensors.numpy_view(target)
        if target_view is None:                 # a dtype the core does not write here
            return None
        if self._buffers is None:
            self._buffers = _BlockBuffers(self._block_bytes)
        itemsize = entry.dtype.itemsize
        source = entry.source
        generator = _BlockDrawGenerator(
            _modules.parameter_seed(self._root, source.name), target_view, self._buffers,
            lambda first, block: out.write_at(offset + first * itemsize, block))
        with torch.no_grad():
            source.init.fill(target, generator)
        if generator.block_draws != 1 or generator.other_draws:
            return False
        if source.padding_idx is not None:      # init_module's zero row, in the file
            row_bytes = entry.nbytes // entry.shape[0]
            row = source.padding_idx % entry.shape[0]
            out.write_at(offset + row * row_bytes, np.zeros(row_bytes, np.uint8), rewrite=True)
        return True


class _CodeValues:
    """The values of recipe="model", asked for in the files' order (safetensors sorts a
    file's tensors by name: layers.10 before layers.2), each made when it is asked for."""

    def __init__(self, code, names):
        self._names = list(names)
        self._values = code.values(self._names)

    def take(self, name):
        made, values = next(self._values)
        assert made == name, (made, name)       # the files ask in the order they listed
        return values

    def close(self):
        self._values.close()            # puts the model's own tensors back


def _bytes_of(tensor):
    flat = tensor.detach().reshape(-1)
    if flat.numel() == 0:
        return np.zeros(0, np.uint8)
    return flat.view(torch.uint8).numpy()


# ---------------------------------------------------------------- save_initialized

def save_initialized(model, path, *, seed, recipe="torch", weights=None, biases=None, rules=(),
                     unknown="error", dtype=None, max_shard_size="5GB", shards=None,
                     progress=None):
    """save_initialized(model, path, *, seed, recipe="torch", weights=None, biases=None,
    rules=(), unknown="error", dtype=None, max_shard_size="5GB", shards=None, progress=None)
    -> CheckpointSummary: writes the values init_module(model, seed=seed, recipe=recipe,
    weights=weights, biases=biases, rules=rules, unknown=unknown) would give (of model.to(dtype) when dtype
    is given) as a safetensors checkpoint in the directory `path`, without filling the model.

    model: a torch.nn.Module, best built under torch.device("meta"); a CPU model is read
    for its shapes and its buffers that no init covers, and is left unchanged.
    path: a new or empty directory (created).  The files are save_pretrained's: the state
    dict's names, tied tensors once, model.safetensors or model-0000i-of-0000N.safetensors
    (split at max_shard_size, huggingface_hub's rule) with model.safetensors.index.json,
    then generation_config.json and config.json for a model that has them
    (transformers' from_pretrained loads the directory).  Each file is written under a
    hidden temporary name and renamed when all of them are complete.
    seed: a non-negative int (every writer of a checkpoint must draw the same values).
    recipe: one of RECIPES ("model": the model's own initialization code, run one module
    at a time on CPU stand-ins of the tensors it uses; see docs/torch.md).  dtype: None, or the dtype of every floating-point tensor in
    the files ("float32", "float16", "bfloat16", "float64" or the torch dtype).
    shards: None (this call writes everything), or (writer, writers): this call writes the
    safetensors files i with i % writers == writer, writer 0 also the JSON files; the
    directory may then exist and hold other writers' files.  The writers' files together
    are byte for byte one writer's.
    progress: None or a callable(bytes written so far, bytes this call writes).
    Raises before writing anything for a bad argument, a path that is a file or a non-empty
    directory (or already holds this writer's files), a disk with too little free space, or
    a path that cannot be created or written.
    """
    started = time.perf_counter()
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    try:
        path = os.fspath(path)
    except TypeError:
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}") from None
    root = seed_int(seed, accepted="a non-negative int")
    if not isinstance(recipe, str) or recipe not in RECIPES:
        raise ValueError(f"recipe must be one of {', '.join(map(repr, RECIPES))}, "
                         f"got {recipe!r}")
    dtype = resolve_dtype(dtype)
    max_shard_bytes = parse_max_shard_size(max_shard_size)
    writer, writers = _resolve_shards(shards)
    if progress is not None and not callable(progress):
        raise TypeError(f"progress must be None or a callable, got {type(progress).__name__}")

    saved = saved_tensors(model)
    _check_names_are_kept(model, saved)
    code = None
    if recipe == "model":
        from . import _torch_recipe
        on_meta = [name for name, t in _modules._first_names(model) if _tensors.has_no_values(t)]
        code = _torch_recipe.ModuleByModule(model, root, dtype=dtype,
                                            fresh=on_meta)
    entries = _entries(model, saved, dtype, recipe, weights=weights, biases=biases, rules=rules,
                       unknown=unknown, code=code)
    _check_inits(entries)
    groups = split_into_files(entries, max_shard_bytes)
    files = [_layout(name, group) for name, group in zip(file_names(len(groups)), groups)]
    mine = [f for i, f in enumerate(files) if i % writers == writer]
    configs = _config_writers(model, entries, files) if writer == 0 else []
    total = sum(f.size for f in mine)
    created = _prepare_directory(path, [f.name for f in mine] + [n for n, _ in configs],
                                 whole=shards is None, needed_bytes=total)

    done = 0

    def report(nbytes):
        nonlocal done
        done += nbytes
        if progress is not None:
            progress(done, total)

    temporaries = []
    from_code = [e.source.name for f in mine for e, _ in f.placed if isinstance(e.source, _FromCode)]
    tensors = _TensorWriter(root, BLOCK_BYTES,
                            _CodeValues(code, from_code) if from_code else None)
    executor = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="fastinit-write")
    try:
        for f in mine:
            temporary = os.path.join(path, _temporary_name(f.name))
            temporaries.append((temporary, os.path.join(path, f.name)))
            out = _FileWriter(temporary, report, executor, max_pending=2 * BLOCK_BYTES)
            try:
                out.write_at(0, np.frombuffer(f.header, np.uint8))
                for entry, offset in f.placed:
                    tensors.write(out, len(f.header) + offset, entry)
            finally:
                out.close()
        for name, write_config in configs:
            temporary = os.path.join(path, _temporary_name(name))
            temporaries.append((temporary, os.path.join(path, name)))
            write_config(temporary)
        for temporary, final in temporaries:
            os.replace(temporary, final)
    except BaseException:
        for temporary, _ in temporaries:
            if os.path.lexists(temporary):
                os.remove(temporary)
        if created:
            _remove_empty_directory(path)
        raise
    finally:
        tensors.close()
        executor.shutdown()
    parameters = sum(math.prod(e.shape) for f in mine for e, _ in f.placed if e.is_parameter)
    return CheckpointSummary(path, tuple(f.name for f in mine) + tuple(n for n, _ in configs),
                             parameters, total, time.perf_counter() - started)
