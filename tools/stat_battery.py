"""Statistical battery for fastinit: the raw stream through dieharder, and every
distribution against its exact CDF.  Not a unit test: a report, run by hand
(docs/statistics.md records a run).

    python tools/stat_battery.py --quick     # a few minutes
    python tools/stat_battery.py             # the full run (about 40 minutes on 2 cores)

(a) Raw stream.  fastinit.Generator(seed).random_raw(2**20) chunks, in stream order, are
    piped into Debian's dieharder (`apt-get install dieharder`), which reads raw 32-bit
    words from stdin as its generator 200 (stdin_input_raw):
        <words of Generator(seed)> | dieharder -g 200 -d N [-n ntuple]   (each test)
    or  <words of Generator(seed)> | dieharder -g 200 -a                 (--dieharder-all)
    The full mode runs every test of -a (with -a's ntuple variants) except
    rgb_lagged_sum beyond the lags in LAGS_FULL; --quick runs QUICK_TESTS for one seed.
    Every test restarts the stream at block 0 of its seed.  PASSED / WEAK / FAILED are
    dieharder's own assessments (WEAK: p < 0.005 or p > 0.995, FAILED: p < 1e-6 or
    p > 1 - 1e-6); a good generator shows WEAK about once per 100 results.

(b) Distributions.  For uniform, normal, truncated normal on (-2, 2) and an asymmetric
    truncated normal, in float32 and float64: over 20 seeds, a sample of n values from
    fastinit.<distribution>(n, ..., seed=s) gets a Kolmogorov-Smirnov test and a
    chi-square test on B equiprobable bins, both against the exact CDF (scipy.stats).
    The 20 p-values of each (distribution, dtype, test) must themselves look U(0, 1): a
    second-level KS test of them against U(0, 1) gives the number reported.

Exit status: 1 if any second-level p is below 1e-4 or dieharder reports any FAILED,
else 0.
"""
import argparse
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from scipy import stats

import fastinit

SECOND_LEVEL_ALPHA = 1e-4
CHUNK_WORDS = 1 << 20                        # 4 MiB of stream per write to dieharder

# dieharder tests by number, as `dieharder -l` lists them.  -a runs each once with its
# defaults, except that it runs rgb_bitdist for ntuple 1..12, rgb_minimum_distance and
# rgb_permutations for 2..5 and rgb_lagged_sum for 0..32; ALL_TESTS does the same.
# 14 (diehard_sums) is included as -a does, although dieharder marks it "Do Not Use".
ALL_TESTS = ([(d, None) for d in list(range(0, 18)) + [100, 101, 102]]
             + [(200, n) for n in range(1, 13)] + [(201, n) for n in range(2, 6)]
             + [(202, n) for n in range(2, 6)] + [(203, n) for n in range(0, 33)]
             + [(d, None) for d in range(204, 210)])
# The full mode's list: every test of -a, but rgb_lagged_sum only at lags 0-4, 8 and 16.
# Its other 26 lags read about 85 % of the data -a reads and made one -a run take about
# 50 minutes per seed on the 2-CPU machine of docs/statistics.md (which records one
# complete -a run as well).
LAGS_FULL = (0, 1, 2, 3, 4, 8, 16)
FULL_TESTS = [t for t in ALL_TESTS if t[0] != 203 or t[1] in LAGS_FULL]
# A subset that takes minutes rather than an hour: the diehard classics that read the
# least data, the STS tests, byte and bit distributions and the DAB tests.
QUICK_TESTS = ([(d, None) for d in (0, 1, 2, 3, 4, 8, 9, 10, 11, 12, 13, 15, 16, 100, 101,
                                    102, 205, 206, 207, 208, 209)]
               + [(200, n) for n in (1, 2, 8)] + [(202, 3)])

# (name, fastinit call, exact scipy distribution)
DISTRIBUTIONS = [
    ("uniform(-1, 3)", lambda n, dt, s: fastinit.uniform(n, -1.0, 3.0, dtype=dt, seed=s),
     stats.uniform(loc=-1.0, scale=4.0)),
    ("normal(0.5, 2)", lambda n, dt, s: fastinit.normal(n, 0.5, 2.0, dtype=dt, seed=s),
     stats.norm(loc=0.5, scale=2.0)),
    ("truncated_normal(0, 1, -2, 2)",
     lambda n, dt, s: fastinit.truncated_normal(n, 0.0, 1.0, -2.0, 2.0, dtype=dt, seed=s),
     stats.truncnorm(-2.0, 2.0)),
    ("truncated_normal(1, 0.5, -0.5, 2.5)",
     lambda n, dt, s: fastinit.truncated_normal(n, 1.0, 0.5, -0.5, 2.5, dtype=dt, seed=s),
     stats.truncnorm(-0.5, 2.5, loc=1.0, scale=0.5)),
]
DTYPES = (np.float32, np.float64)


# ---------------------------------------------------------------- (a) dieharder

def feed_stream(seed, pipe, stop):
    """Writes Generator(seed)'s words to pipe until the reader goes away."""
    g = fastinit.Generator(seed)
    try:
        while not stop.is_set():
            pipe.write(g.random_raw(CHUNK_WORDS, threads=1).tobytes())
    except (BrokenPipeError, OSError, ValueError):
        pass                                  # dieharder has read all it wanted


def parse_dieharder(text):
    """Result rows of dieharder's table: (test, ntup, tsamples, psamples, p, assessment)."""
    rows = []
    for line in text.splitlines():
        fields = [f.strip() for f in line.split("|")]
        if len(fields) != 6 or fields[0] == "test_name" or fields[5] not in (
                "PASSED", "WEAK", "FAILED"):
            continue
        rows.append({"test": fields[0], "ntup": int(fields[1]), "tsamples": int(fields[2]),
                     "psamples": int(fields[3]), "p": float(fields[4]),
                     "assessment": fields[5]})
    return rows


def dieharder_command(test, psamples=None):
    if test == "all":
        command = ["dieharder", "-g", "200", "-a"]
    else:
        number, ntuple = test
        command = ["dieharder", "-g", "200", "-d", str(number)]
        if ntuple is not None:
            command += ["-n", str(ntuple)]
    if psamples is not None:
        command += ["-p", str(psamples)]
    return command


def run_dieharder(seed, test, psamples=None):
    """Runs one dieharder command on Generator(seed)'s stream; returns its rows, seconds
    and the command."""
    command = dieharder_command(test, psamples)
    started = time.monotonic()
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT)
    stop = threading.Event()
    feeder = threading.Thread(target=feed_stream, args=(seed, process.stdin, stop), daemon=True)
    feeder.start()
    output = process.stdout.read().decode(errors="replace")
    process.wait()
    stop.set()
    try:
        process.stdin.close()
    except (BrokenPipeError, OSError):
        pass
    feeder.join()
    rows = parse_dieharder(output)
    if not rows:
        raise RuntimeError(f"no results from {' '.join(command)}:\n{output[-2000:]}")
    for row in rows:
        row["seed"] = seed
    return rows, time.monotonic() - started, " ".join(command)


def dieharder_battery(seeds, tests, jobs, log, psamples=None):
    tasks = [(seed, test) for seed in seeds for test in tests]
    results, runs = [], []
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(run_dieharder, seed, test, psamples) for seed, test in tasks]
        for (seed, test), future in zip(tasks, futures):
            rows, seconds, command = future.result()
            results += rows
            runs.append({"seed": seed, "command": command, "seconds": round(seconds, 1)})
            for row in rows:
                log(f"  seed {seed:>3}  {row['test']:>22} ntup {row['ntup']:>2}  "
                    f"p = {row['p']:.6f}  {row['assessment']}")
            log(f"    ({command}: {seconds:.0f} s)")
    return results, runs


# ---------------------------------------------------------------- (b) distributions

def equiprobable_chisquare(sample, law, bins):
    """p of a chi-square test of sample on `bins` bins of equal probability under law."""
    edges = law.ppf(np.arange(1, bins) / bins)
    counts = np.bincount(np.searchsorted(edges, sample, side="right"), minlength=bins)
    return float(stats.chisquare(counts).pvalue)


def distribution_seeds(distribution_index, dtype_index, count=20):
    """Seeds of one (distribution, dtype): 1000 (i + 1) + 100 j + 1 .. + count.  Each pair
    gets its own: every distribution is an inverse CDF of the same uniforms, and the KS
    and equiprobable chi-square statistics do not change under a monotone map, so shared
    seeds would repeat one set of p-values for every distribution of a dtype."""
    base = 1000 * (distribution_index + 1) + 100 * dtype_index
    return list(range(base + 1, base + count + 1))


def distribution_battery(n, bins, log):
    rows = []
    for i, (name, draw, law) in enumerate(DISTRIBUTIONS):
        for j, dtype in enumerate(DTYPES):
            seeds = distribution_seeds(i, j)
            ks_p, chi_p = [], []
            for seed in seeds:
                sample = draw(n, dtype, seed).astype(np.float64)
                ks_p.append(float(stats.kstest(sample, law.cdf).pvalue))
                chi_p.append(equiprobable_chisquare(sample, law, bins))
            row = {"distribution": name, "dtype": np.dtype(dtype).name,
                   "seeds": f"{seeds[0]}..{seeds[-1]}"}
            for test, ps in (("ks", ks_p), ("chi2", chi_p)):
                row[test + "_p"] = ps
                row[test + "_second_level_p"] = float(stats.kstest(ps, "uniform").pvalue)
            rows.append(row)
            log(f"  {name:<36} {row['dtype']:<8} seeds {row['seeds']}  KS 2nd-level p = "
                f"{row['ks_second_level_p']:.4f}   chi2 2nd-level p = "
                f"{row['chi2_second_level_p']:.4f}")
    return rows


# ---------------------------------------------------------------- report

def machine():
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {"cpu": cpu, "cpus": os.cpu_count(), "python": platform.python_version(),
            "numpy": np.__version__, "fastinit": fastinit.__version__,
            "isa": fastinit.get_isa(), "system": f"{platform.system()} {platform.release()}"}


def summary_table(dist_rows, dh_rows):
    lines = ["", "Distributions: second-level KS p of 20 first-level p-values "
             "(fail below 1e-4)", "",
             f"  {'distribution':<36} {'dtype':<8} {'seeds':<10} {'KS':>8} {'chi2':>8}  "
             f"{'min KS p':>9} {'min chi2 p':>10}"]
    for r in dist_rows:
        lines.append(f"  {r['distribution']:<36} {r['dtype']:<8} {r['seeds']:<10} "
                     f"{r['ks_second_level_p']:>8.4f} "
                     f"{r['chi2_second_level_p']:>8.4f}  {min(r['ks_p']):>9.4f} "
                     f"{min(r['chi2_p']):>10.4f}")
    if dh_rows:
        lines += ["", "dieharder assessments per seed", ""]
        for seed in sorted({r["seed"] for r in dh_rows}):
            mine = [r for r in dh_rows if r["seed"] == seed]
            counts = {a: sum(r["assessment"] == a for r in mine)
                      for a in ("PASSED", "WEAK", "FAILED")}
            lines.append(f"  seed {seed:>3}: {len(mine)} results, {counts['PASSED']} PASSED, "
                         f"{counts['WEAK']} WEAK, {counts['FAILED']} FAILED")
        for r in dh_rows:
            if r["assessment"] != "PASSED":
                lines.append(f"    seed {r['seed']} {r['test']} ntup {r['ntup']}: "
                             f"p = {r['p']:.8f} {r['assessment']}")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="one dieharder seed and a fast subset of tests; n = 10**5")
    parser.add_argument("--dieharder-seeds", type=int, nargs="*",
                        help="seeds for dieharder (default: 1 2 3, quick: 1)")
    parser.add_argument("--dieharder-all", action="store_true",
                        help="run `dieharder -a` in one process per seed instead of the "
                             "tests one by one")
    parser.add_argument("--dieharder-tests", type=str,
                        help="comma-separated test numbers (d or d:ntuple) instead of the "
                             "mode's list")
    parser.add_argument("--psamples", type=int,
                        help="dieharder -p: p-values per test (more data, to resolve a WEAK)")
    parser.add_argument("--no-dieharder", action="store_true")
    parser.add_argument("--no-distributions", action="store_true")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                        help="dieharder processes at once (default: the CPU count)")
    parser.add_argument("--n", type=int, help="values per sample (default 10**6, quick 10**5)")
    parser.add_argument("--json", type=str, help="write every number to this file")
    args = parser.parse_args(argv)

    def log(text):
        print(text, flush=True)

    n = args.n or (10 ** 5 if args.quick else 10 ** 6)
    bins = 100 if args.quick else 1000
    dh_seeds = args.dieharder_seeds or ([1] if args.quick else [1, 2, 3])
    if args.dieharder_tests:
        tests = [tuple(int(x) for x in t.split(":")) if ":" in t else (int(t), None)
                 for t in args.dieharder_tests.split(",")]
    elif args.dieharder_all:
        tests = ["all"]
    else:
        tests = QUICK_TESTS if args.quick else FULL_TESTS
    report = {"date": datetime.date.today().isoformat(), "machine": machine(),
              "argv": sys.argv, "n": n, "bins": bins,
              "dieharder_seeds": dh_seeds}
    started = time.monotonic()
    log(f"fastinit {fastinit.__version__} on {report['machine']['cpu']} "
        f"({report['machine']['cpus']} CPUs, ISA {report['machine']['isa']})")

    dist_rows = []
    if not args.no_distributions:
        log(f"\n(b) distributions: n = {n}, {bins} equiprobable bins, 20 seeds each")
        dist_rows = distribution_battery(n, bins, log)
    report["distributions"] = dist_rows

    dh_rows = []
    if not args.no_dieharder:
        if shutil.which("dieharder") is None:
            log("dieharder is not installed: apt-get update && apt-get install -y dieharder")
            return 2
        log(f"\n(a) dieharder -g 200 on Generator(seed).random_raw, seeds {dh_seeds}, "
            f"{args.jobs} at once")
        dh_rows, runs = dieharder_battery(dh_seeds, tests, args.jobs, log, args.psamples)
        report["dieharder_runs"] = runs
    report["dieharder"] = dh_rows
    report["seconds"] = round(time.monotonic() - started, 1)

    log(summary_table(dist_rows, dh_rows))
    worst = min((min(r["ks_second_level_p"], r["chi2_second_level_p"]) for r in dist_rows),
                default=1.0)
    failed = sum(r["assessment"] == "FAILED" for r in dh_rows)
    log(f"\nsmallest second-level p: {worst:.4g}; dieharder FAILED: {failed}; "
        f"{report['seconds']:.0f} s")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=1)
    return 1 if worst < SECOND_LEVEL_ALPHA or failed else 0


if __name__ == "__main__":
    sys.exit(main())
