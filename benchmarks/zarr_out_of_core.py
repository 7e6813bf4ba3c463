"""An array larger than memory, straight to zarr: fastinit.dask against dask.array.random.

    python benchmarks/zarr_out_of_core.py                 # 6 GiB float32, stores in a temp dir
    python benchmarks/zarr_out_of_core.py --gib 1 --dir /scratch

Each contender runs in a fresh process that writes the same shape, chunks and zarr
settings to a new local store (deleted afterwards) with dask's threaded scheduler, and
reports its wall time, its CPU time (user + system, all threads: steadier than wall time
on a shared machine) and its peak RSS (ru_maxrss, the whole process):
  fastinit      fastinit.dask.he_normal(shape, chunks=..., seed=0).to_zarr(path)
  dask.random   (dask.array.random.default_rng(0).standard_normal(shape, chunks=...,
                dtype=float32) * std).to_zarr(path), std = fastinit's he_normal std
With --sink null the same arrays are stored into a target that drops every block
(dask.array.store), which times making the values without the disk.
The goal of the fastinit row is a peak RSS under 1.5 GiB for 6 GiB.  Not part of the test
run (pytest collects test_*.py only); times are reported, never asserted.
"""
import argparse
import json
import math
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

RSS_GOAL_GIB = 1.5


def shape_of(gib):
    """(rows, 32768) float32 of `gib` GiB."""
    cols = 32768
    return (int(gib * 2 ** 30) // (4 * cols), cols)


class DropBlocks:
    """A dask.array.store target that discards what it is given."""

    def __setitem__(self, index, value):
        pass


def write(contender, path, shape, chunk_rows, sink, quiet=False):
    """Writes one store (or drops every block) in this process; returns its measurements."""
    import dask
    import dask.array as da
    import numpy as np
    import zarr

    import fastinit.dask

    chunks = (chunk_rows, shape[1])
    if contender == "fastinit":
        x = fastinit.dask.he_normal(shape, chunks=chunks, seed=0)
    else:
        std = math.sqrt(2.0 / shape[0])       # he_normal's std for (fan_in, fan_out) = shape
        x = da.random.default_rng(0).standard_normal(shape, chunks=chunks,
                                                     dtype=np.float32) * np.float32(std)
    before_gib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2 ** 20
    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    # dask's ProgressBar on stderr when it is a terminal, unless --quiet
    with dask.config.set(scheduler="threads"), fastinit.dask.progress(quiet=quiet):
        if sink == "zarr":
            x.to_zarr(path)
        else:
            da.store(x, DropBlocks(), lock=False)
    seconds = time.perf_counter() - start
    cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    cpu_seconds = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    peak_gib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2 ** 20
    if sink == "zarr":
        zarr_format = zarr.open_array(path, mode="r").metadata.zarr_format
        disk_bytes = sum(os.path.getsize(os.path.join(d, f))
                         for d, _, fs in os.walk(path) for f in fs)
    else:
        zarr_format, disk_bytes = None, 0
    return {"contender": contender, "sink": sink, "shape": shape, "chunks": chunks, "gib": x.nbytes / 2 ** 30,
            "seconds": seconds, "cpu_seconds": cpu_seconds, "gib_per_s": x.nbytes / 2 ** 30 / seconds,
            "peak_rss_gib": peak_gib, "rss_before_gib": before_gib,
            "disk_gib": disk_bytes / 2 ** 30, "zarr_format": zarr_format,
            "threads": dask.system.CPU_COUNT}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gib", type=float, default=6.0, help="array size in GiB (default 6)")
    parser.add_argument("--chunk-rows", type=int, default=1024,
                        help="rows per block of 32768 float32 (default 1024: 128 MiB)")
    parser.add_argument("--dir", default=None, help="where to put the stores (default: a temp dir)")
    parser.add_argument("--sink", choices=("zarr", "null"), default="zarr",
                        help="zarr: a local store (default); null: drop every block")
    parser.add_argument("--only", choices=("fastinit", "dask.random"), default=None)
    parser.add_argument("--quiet", action="store_true",
                        help="no progress bar (it is only drawn when stderr is a terminal)")
    parser.add_argument("--child", choices=("fastinit", "dask.random"), help=argparse.SUPPRESS)
    parser.add_argument("--path", help=argparse.SUPPRESS)
    args = parser.parse_args()
    shape = shape_of(args.gib)

    if args.child:
        print(json.dumps(write(args.child, args.path, shape, args.chunk_rows, args.sink,
                               args.quiet)))
        return

    contenders = [args.only] if args.only else ["fastinit", "dask.random"]
    workdir = tempfile.mkdtemp(prefix="zarr_out_of_core_", dir=args.dir)
    results = []
    try:
        for contender in contenders:
            path = os.path.join(workdir, contender + ".zarr")
            out = subprocess.run(
                [sys.executable, os.path.abspath(__file__), "--child", contender, "--path", path,
                 "--gib", str(args.gib), "--chunk-rows", str(args.chunk_rows),
                 "--sink", args.sink] + (["--quiet"] if args.quiet else []),
                # stderr is this process's: the child's progress bar reaches the terminal
                stdout=subprocess.PIPE, text=True, check=True)
            results.append(json.loads(out.stdout.strip().splitlines()[-1]))
            shutil.rmtree(path, ignore_errors=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    print(f"{shape[0]}x{shape[1]} float32 ({results[0]['gib']:.2f} GiB) in blocks of "
          f"{args.chunk_rows}x{shape[1]} ({args.chunk_rows * shape[1] * 4 / 2 ** 20:.0f} MiB), "
          + (f"zarr format {results[0]['zarr_format']}" if args.sink == "zarr" else
             "blocks dropped (no disk)") + f", {results[0]['threads']} threads")
    print(f"{'contender':<12} {'seconds':>8} {'GiB/s':>7} {'CPU s':>7} {'peak RSS GiB':>13} "
          f"{'on disk GiB':>12}")
    for r in results:
        print(f"{r['contender']:<12} {r['seconds']:8.1f} {r['gib_per_s']:7.3f} "
              f"{r['cpu_seconds']:7.1f} {r['peak_rss_gib']:13.2f} {r['disk_gib']:12.2f}")
    ours = next((r for r in results if r["contender"] == "fastinit"), None)
    if ours:
        verdict = "met" if ours["peak_rss_gib"] < RSS_GOAL_GIB else "missed"
        print(f"goal: fastinit peak RSS < {RSS_GOAL_GIB} GiB: {verdict}")
    if len(results) == 2:
        print(f"throughput fastinit / dask.random: "
              f"{results[0]['gib_per_s'] / results[1]['gib_per_s']:.2f}x wall, "
              f"{results[1]['cpu_seconds'] / results[0]['cpu_seconds']:.2f}x CPU time")


if __name__ == "__main__":
    main()
