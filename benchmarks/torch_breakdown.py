"""Where fastinit.torch's time goes, next to torch's and a no-randomness floor.

    python benchmarks/torch_breakdown.py               # medians of 9 interleaved rounds
    python benchmarks/torch_breakdown.py --repeat 15 --json

Two cases of `python -m fastinit bench`'s torch table, each cut into parts timed side by
side (fastinit._bench.time_interleaved, medians), torch with all cores, fastinit with its
default threads:

init_module of the ~100 M parameter nn.TransformerEncoder (fastinit._bench_torch), built
on the CPU, so its parameters are resident:
  torch                every module's reset_parameters()
  fastinit             init_module(model, seed=0)
  C fills alone        init_module's own calls of the C fill (recorded once), replayed
                       into the same parameters: the fills without any Python around them
                       (and with one thread: what the second core adds)
  Python alone         init_module with the C fill replaced by a no-op: plans, seeds,
                       checks, torch's zeros_ / ones_ of biases and norms
  draws in cache       the same number of values of the same distributions drawn into one
                       512 KiB buffer (in cache) on one thread: the generator's arithmetic,
                       with no memory traffic and no thread started (half of it is the
                       2-core bound of the draws)
  floor: zero_()       zero_() of every parameter (torch, all cores): the same bytes
                       written with no randomness
  threads started      the helper threads of each fill of several parts: what a fill of
                       2 x 2**17 values in cache takes beyond half of the same fill on
                       one thread (starting, waking and joining them), times the number
                       of such fills

normal_ (and kaiming_uniform_) of a 4096x4096 float32 tensor, resident (torch.zeros, made
once) and fresh (a new torch.empty per call, whose pages the fill faults in):
  torch, fastinit, C fill alone, draws in cache, floor (zero_() of the same tensor)

On a shared machine, read the medians with care: torch's own times were bimodal on a 2-core
VM (a 2-thread op runs at the speed of the slower core).  torch's OpenMP workers also spin
for a while after each parallel op (libgomp's default wait policy), so a 2-thread fill
that starts right after one runs slower (normal 4096x4096: 23 ms instead of 18 on an
AVX-512 Xeon); OMP_WAIT_POLICY=PASSIVE removes that.

Not part of the test run (pytest collects test_*.py only); times are reported, never
asserted.  Say the CPU (`python -m fastinit info`, lscpu) and the load (uptime) with them.
"""
import argparse
import json
import os
import statistics
import sys

import numpy as np
import torch

import fastinit.torch as fit
from fastinit import _arrays, _bench, _core
from fastinit._bench_torch import DROP_IN_SHAPE, torch_reset_parameters, transformer_encoder

CACHE_ELEMENTS = 1 << 17          # 512 KiB of float32: in L2, so the draws alone
KEY = (1, 2)


def recorded_fills(run):
    """The arguments of every non-empty C fill that run() makes."""
    calls, real = [], _core.fill

    def record(*args):
        calls.append(args)
        return real(*args)

    _core.fill = record
    try:
        run()
    finally:
        _core.fill = real
    return [c for c in calls if c[7].size]


def replay(calls):
    def run():
        for c in calls:
            _core.fill(*c)
    return run


def without_fills(run):
    """run() with the C fill a no-op: its Python alone."""
    def python_alone():
        real = _core.fill
        _core.fill = lambda *args: args[7]
        try:
            run()
        finally:
            _core.fill = real
    return python_alone


def draws_in_cache(calls):
    """The values of `calls` (distribution, parameters and count of each) drawn into one
    in-cache buffer, CACHE_ELEMENTS at a time, on one thread."""
    buffers = {}
    work = []
    for c in calls:
        distribution, params, out = c[2], c[3], c[7]
        buffer = buffers.setdefault(out.dtype, np.zeros(CACHE_ELEMENTS, out.dtype))
        for start in range(0, out.size, CACHE_ELEMENTS):
            n = min(CACHE_ELEMENTS, out.size - start)
            work.append((distribution, params, buffer[:n]))

    def run():
        for distribution, params, buffer in work:
            _core.fill(KEY, 0, distribution, params, buffer.shape, (0,), buffer.shape, buffer,
                       1, True)
    return run


def thread_start_cost(threads, repeat):
    """Seconds a 2-part fill spends beyond half of a 1-part one (the same values, in
    cache): starting and joining its helper thread."""
    n = 2 * CACHE_ELEMENTS
    buffer = np.zeros(n, np.float32)

    def fill(t):
        return lambda: _core.fill(KEY, 0, "uniform", (-1.0, 1.0), (n,), (0,), (n,), buffer, t,
                                  True)
    one, two = _bench.time_interleaved([fill(1), fill(threads)], max(repeat, 50))
    return statistics.median(two) - statistics.median(one) / 2


def zero_all(tensors):
    def run():
        with torch.no_grad():
            for t in tensors:
                t.zero_()
    return run


def measure(contenders, repeat):
    names = list(contenders)
    samples = _bench.time_interleaved([contenders[n] for n in names], repeat)
    return {n: statistics.median(s) * 1e3 for n, s in zip(names, samples)}


def encoder_rows(repeat, threads):
    model = transformer_encoder()
    params = list(model.parameters())
    fills = recorded_fills(lambda: fit.init_module(model, seed=0))
    fills = [c[:8] + (threads,) + c[9:] for c in fills]
    # the C fill gives a part of its own to every 2**17 elements, up to `threads` parts
    split = sum(1 for c in fills if c[7].size > 1 << 17) if threads > 1 else 0
    times = measure({
        "torch: reset_parameters() of every module": lambda: torch_reset_parameters(model),
        "fastinit: init_module(model, seed=0)": lambda: fit.init_module(model, seed=0),
        "  C fills alone (init_module's, replayed)": replay(fills),
        "  C fills alone, 1 thread": replay([c[:8] + (1,) + c[9:] for c in fills]),
        "  Python alone (C fills a no-op)": without_fills(lambda: fit.init_module(model, seed=0)),
        "  draws in cache, 1 thread (no memory traffic)": draws_in_cache(fills),
        "floor: zero_() of every parameter": zero_all(params),
    }, repeat)
    times[f"  threads started ({split} fills of {threads} parts)"] = \
        split * thread_start_cost(threads, repeat) * 1e3
    nbytes = sum(p.numel() * p.element_size() for p in params)
    return (f"init_module, TransformerEncoder ({round(sum(p.numel() for p in params) / 1e6)} M "
            f"parameters, {nbytes / 2 ** 20:.0f} MiB, resident)", times)


def drop_in_rows(case, repeat):
    shape = DROP_IN_SHAPE
    resident = torch.zeros(shape)
    theirs, ours = getattr(torch.nn.init, case), getattr(fit, case)
    fills = recorded_fills(lambda: ours(resident, seed=0))
    times = measure({
        f"torch: torch.nn.init.{case}(t), resident t": lambda: theirs(resident),
        f"fastinit: fastinit.torch.{case}(t, seed=0), resident t": lambda: ours(resident, seed=0),
        "  C fill alone": replay(fills),
        "  draws in cache, 1 thread (no memory traffic)": draws_in_cache(fills),
        "floor: t.zero_(), resident t": lambda: resident.zero_(),
        f"torch: torch.nn.init.{case}(torch.empty(...))": lambda: theirs(torch.empty(shape)),
        f"fastinit: fastinit.torch.{case}(torch.empty(...), seed=0)":
            lambda: ours(torch.empty(shape), seed=0),
        "floor: torch.empty(...).zero_()": lambda: torch.empty(shape).zero_(),
    }, repeat)
    return f"{case} {'x'.join(map(str, shape))} float32", times


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=9, help="interleaved rounds (medians)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")
    args = parser.parse_args(argv)
    threads = _arrays.resolve_threads(None)
    with _bench.torch_threads():
        sections = [encoder_rows(args.repeat, threads),
                    drop_in_rows("normal_", args.repeat),
                    drop_in_rows("kaiming_uniform_", args.repeat)]
    if args.json:
        json.dump({"isa": _core.get_isa(), "threads": threads, "torch_threads": os.cpu_count(),
                   "sections": {title: rows for title, rows in sections}}, sys.stdout, indent=1)
        print()
        return
    print(f"fastinit {_core.get_isa()}, {threads} threads; torch {torch.__version__}, "
          f"{os.cpu_count()} threads; medians of {args.repeat} interleaved rounds, ms")
    for title, rows in sections:
        print(f"\n{title}")
        for name, ms in rows.items():
            print(f"  {name:<62} {ms:9.2f}")


if __name__ == "__main__":
    main()
