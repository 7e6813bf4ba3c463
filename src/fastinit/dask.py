"""fastinit.dask: lazy dask arrays of any size whose blocks are region= fills of one call.

    import fastinit.dask
    x = fastinit.dask.he_normal((200_000, 50_000), chunks=(2_000, 50_000), seed=0)
    fastinit.dask.to_zarr(x, "weights.zarr")   # 37 GiB, made and written a block at a time

Every scheme, alias and plain distribution of the NumPy API is here with the same
arguments, except out= and region= (each block is a region) and orthogonal (see below),
plus chunks= (anything dask.array accepts: "auto", a block shape, or explicit sizes per
axis such as ((1000, 2001), (49, 2000))).  x.compute() equals fastinit.<scheme>(shape, ...)
of the same seed bit for bit, whatever the chunks: a value depends on its position in the
full shape, never on the block holding it (unlike dask.array.random, whose values change
with the chunking).  Fans come from the full shape.

seed: an int or a SeedSequence is pure, as in the NumPy API (block 0 of that seed's
stream).  A fastinit.Generator, or None (the module generator, see fastinit.seed), has the
whole array's part of its stream reserved once, when the array is built: the array equals
that generator's next draw of the same call, the generator moves past it at once, and
every block, on any worker, reads the same (key, first block).

threads: the threads that fill each block (default 1).  dask already runs one block
per core (threads) or per worker (processes, distributed); give more to few large blocks.

Every argument (shape, chunks, dtype, scheme parameters) is checked when the array is
built, by the same NumPy API call on an empty region; nothing fails at compute time.  The
task graph holds only small parameters: the scheme's name and arguments, the full shape,
the stream's (key, first block) and each block's location, never an array.

orthogonal is omitted: its values are a QR factorization of the whole matrix, so no block
can be computed without all the others (fastinit.orthogonal makes it in memory).

Progress: to_zarr(x, url) writes with dask's ProgressBar on stderr when stderr is a
terminal (quiet=True: never); `with fastinit.dask.progress(): ...` does the same for any
compute.  ProgressBar follows dask's local schedulers (threads, processes, synchronous);
under dask.distributed use its own progress or dashboard.
"""
import contextlib
import inspect
import math
import sys

import numpy as np

try:
    import dask.array as da
    from dask.array.core import normalize_chunks
    from dask.base import tokenize
except ImportError as e:
    from ._arrays import install_hint
    raise ImportError(f"fastinit.dask needs dask[array] ({e}): "
                      + install_hint("dask", '"dask[array]"')) from e

from . import _api, _arrays
from ._generator import Generator

SCHEMES = tuple(name for name in _api.SCHEMES if name != "orthogonal")
NAMES = SCHEMES + tuple(_api.ALIASES)

# Keywords of the NumPy API that a lazy array does not take: each block is its own region
# of a new array.
_NOT_TAKEN = ("out", "region")


def _generator_of(seed):
    """The generator whose stream the array is drawn from: a fresh one for an int or a
    SeedSequence (pure), the given one, or the module generator for None."""
    if isinstance(seed, Generator):
        return seed
    if seed is None:
        return _api._module_generator      # read now: fastinit.seed() replaces it
    return Generator(seed)                 # validates the seed


def _generator_at(key, counter):
    """A Generator whose next draw starts at block `counter` of key's stream."""
    generator = Generator(0)
    generator.state = {"bit_generator": "Philox4x32-10", "key": key, "counter": counter}
    return generator


def _fill_block(*, scheme, key, counter, shape, args, kwargs, threads, block_info=None):
    """One block: the NumPy API call of the whole array, restricted to this block's region."""
    region = tuple(slice(lo, hi) for lo, hi in block_info[None]["array-location"])
    return getattr(_generator_at(key, counter), scheme)(
        shape, *args, region=region, threads=threads, **kwargs)


def _block_sizes(chunks):
    """The block sizes in chunks, where it gives one per dimension (or one for all)."""
    if isinstance(chunks, int) and not isinstance(chunks, bool):
        return [chunks]
    if isinstance(chunks, (tuple, list)):
        return [c for c in chunks if isinstance(c, int) and not isinstance(c, bool)]
    return []


def _normalized_chunks(chunks, shape, dtype):
    # a block size of 0 would divide by zero inside dask; -1 means "the whole dimension"
    if any(c == 0 or c < -1 for c in _block_sizes(chunks)):
        raise ValueError(f"chunks {chunks!r} do not fit shape {shape}: a block size must be "
                         f"positive (or -1 for a whole dimension)")
    try:
        normalized = normalize_chunks(chunks, shape, dtype=dtype)
    except (ValueError, TypeError, NotImplementedError) as e:
        raise ValueError(f"chunks {chunks!r} do not fit shape {shape}: {e}") from None
    sums = tuple(sum(c) for c in normalized)
    if sums != shape:                    # normalize_chunks does not check every form
        raise ValueError(f"chunks {chunks!r} do not fit shape {shape}: they add up to {sums}")
    return normalized


def lazy_array(scheme, shape, *args, chunks="auto", seed=None, threads=1, **kwargs):
    """lazy_array(scheme, shape, *args, chunks="auto", seed=None, threads=1, **kwargs) ->
    dask.array.Array equal to fastinit.<scheme>(shape, *args, seed=seed, **kwargs).

    The functions of this module are this with their scheme's name filled in."""
    if scheme not in NAMES:
        raise ValueError(f"scheme must be one of {NAMES}, got {scheme!r}")
    scheme = _api.ALIASES.get(scheme, scheme)
    for keyword in _NOT_TAKEN:
        if keyword in kwargs:
            raise TypeError(f"fastinit.dask.{scheme}() got an unexpected keyword argument "
                            f"{keyword!r}: each block is a region of a new array")
    shape = _arrays.normalize_shape(shape)
    threads = _arrays.resolve_threads(threads)
    generator = _generator_of(seed)
    key = generator.state["key"]

    # The same call on an empty region checks every argument, resolves the dtype and
    # counts the blocks of the stream the whole array takes, writing nothing.
    probe = _generator_at(key, 0)
    empty_region = tuple(slice(0, 0) for _ in shape) if math.prod(shape) else None
    empty = getattr(probe, scheme)(shape, *args, region=empty_region, threads=1, **kwargs)
    stream_blocks = probe.state["counter"]
    dtype = empty.dtype
    chunks = _normalized_chunks(chunks, shape, dtype)

    _, counter = generator._reserve(stream_blocks)
    name = f"fastinit-{scheme}-" + tokenize(scheme, key, counter, shape, args, kwargs, dtype,
                                             chunks)
    # map_blocks with no array inputs and block_info: public dask API for years, where the
    # Task objects dask.array.random builds its graph from are private (new in 2024.12).
    # It gives one Blockwise layer, fused with what follows (to_zarr's stores); building
    # it costs ~30 us per block (dask writes each block's block_info).
    return da.map_blocks(
        _fill_block, name=name, chunks=chunks, dtype=dtype,
        meta=np.empty((0,) * len(shape), dtype),
        scheme=scheme, key=key, counter=counter, shape=shape, args=args, kwargs=kwargs,
        threads=threads)


# A bar for work that takes at least this long (dask's `minimum`): short computes stay silent.
PROGRESS_MINIMUM_SECONDS = 1.0


def progress(*, quiet=False, stream=None):
    """progress(*, quiet=False, stream=None) -> a context manager: dask's ProgressBar on
    `stream` (default sys.stderr) for the computes inside it, when that stream is a
    terminal and quiet is false; otherwise one that does nothing."""
    from ._progress import wanted

    stream = sys.stderr if stream is None else stream
    if not wanted(quiet, stream):
        return contextlib.nullcontext()
    from dask.diagnostics import ProgressBar
    return ProgressBar(minimum=PROGRESS_MINIMUM_SECONDS, out=stream)


def to_zarr(array, url, *, quiet=False, **kwargs):
    """to_zarr(array, url, *, quiet=False, **kwargs): array.to_zarr(url, **kwargs) (any
    dask array, one block at a time), with a progress bar on stderr when it is a terminal
    and quiet is false (see progress)."""
    with progress(quiet=quiet):
        return array.to_zarr(url, **kwargs)


def _dask_function(name):
    method = getattr(Generator, name)

    def function(shape, *args, chunks="auto", seed=None, threads=1, **kwargs):
        return lazy_array(name, shape, *args, chunks=chunks, seed=seed, threads=threads,
                          **kwargs)

    params = [p for p in list(inspect.signature(method).parameters.values())[1:]
              if p.name not in _NOT_TAKEN + ("threads",)]
    params += [inspect.Parameter("chunks", inspect.Parameter.KEYWORD_ONLY, default="auto"),
               inspect.Parameter("threads", inspect.Parameter.KEYWORD_ONLY, default=1),
               inspect.Parameter("seed", inspect.Parameter.KEYWORD_ONLY, default=None)]
    function.__signature__ = inspect.Signature(params)
    function.__name__ = function.__qualname__ = name
    function.__module__ = "fastinit.dask"
    function.__doc__ = (f"{name}{function.__signature__} -> dask.array.Array equal to "
                        f"fastinit.{name}(shape, ...) bit for bit, in blocks of `chunks` "
                        f"(see the fastinit.dask module docstring).\n\n"
                        f"fastinit.{name}'s documentation:\n" + method.__doc__)
    return function


for _name in SCHEMES:
    globals()[_name] = _dask_function(_name)
for _alias, _target in _api.ALIASES.items():
    globals()[_alias] = globals()[_target]
__all__ = list(NAMES) + ["lazy_array", "progress", "to_zarr"]


def __getattr__(name):
    if name == "orthogonal":
        raise AttributeError(
            "fastinit.dask has no orthogonal: its values come from a QR factorization of the "
            "whole matrix, so no block can be made alone; use fastinit.orthogonal (in memory)")
    raise AttributeError(f"module 'fastinit.dask' has no attribute {name!r}")
