"""Regenerates the pinned outputs: tests/data/stable_fills.txt (fills at the level of the C
API: distribution, parameters, key, counter, shape, region; read by tests/c/hash_fills.c on
every cross build and by tests/test_stability.py) and tests/data/stable_hashes.py (every
scheme of the Python API), each with the SHA-256 of the output's bytes.

    python tools/stable_hashes.py            # rewrite both files from the installed fastinit
    python tools/stable_hashes.py --check    # compare instead, exit 1 on any difference

A deliberate change of values regenerates them in the same commit, with a line in
docs/stream.md saying why.  Every hash is computed on every ISA this CPU has; they must
agree before anything is written."""
import argparse
import hashlib
import itertools
import math
import pathlib
import struct
import sys

import numpy as np

import fastinit

# Add a dtype here (once the core computes it) and regenerate: both tables grow.
DTYPES = ("float32", "float64", "float16", "bfloat16")

DATA = pathlib.Path(__file__).resolve().parent.parent / "tests" / "data"

# ------------------------------------------------------------------ C-level fills

INF = math.inf
DISTRIBUTION_PARAMS = {
    "uniform": [(0.0, 1.0), (-2.0, 3.0), (1e-3, 1e-3 + 2.0 ** -20)],
    "normal": [(0.0, 1.0), (0.5, 2.0)],
    "truncated_normal": [(0.0, 1.0, -2.0, 2.0), (0.0, 0.02, -2.0, 2.0), (1.0, 0.5, -INF, 0.3),
                         (0.0, 1.0, 2.5, 6.0), (-3.0, 2.0, -9.0, -5.5), (0.0, 1.0, -INF, INF),
                         # mean + std z rounds past mean + a std here: the support clamp
                         (-7.3, 0.02, 5.0, 10.0)],
}
# (key, counter): keys of seeds 0 and 2^63, counters across the c0 and 64-bit carries
STREAMS = [((0x12345678, 0x9ABCDEF0), 77), (fastinit.bits.key_from_seed(0), 0),
           (fastinit.bits.key_from_seed(2 ** 63), 2 ** 32 - 5),
           (fastinit.bits.key_from_seed(2 ** 63), 2 ** 64 - 3)]
# (shape, region start, region extent)
SHAPES = [((1,), (0,), (1,)), ((7,), (0,), (7,)), ((33, 65), (0, 0), (33, 65)),
          ((33, 65), (3, 5), (20, 31)), ((2, 3, 4, 5), (1, 0, 1, 2), (1, 3, 3, 3))]
ISSUE_13 = ("truncated_normal", (0.0, 0.02, -2.0, 2.0), ((0x12345678, 0x9ABCDEF0), 77),
            ((1000, 1001), (0, 0), (1000, 1001)))
RAW = [(stream, n) for stream in STREAMS for n in (1, 5, 4099)]


def c_fill_cases():
    """(id, distribution, params, dtype, key, counter, shape, start, extent)"""
    cases = []
    for dist, plist in DISTRIBUTION_PARAMS.items():
        for (pi, params), (si, (key, counter)), (hi, (shape, start, extent)), dtype in \
                itertools.product(enumerate(plist), enumerate(STREAMS), enumerate(SHAPES), DTYPES):
            cases.append((f"{dist}-p{pi}-s{si}-r{hi}-{dtype}", dist, params, dtype, key, counter,
                          shape, start, extent))
    dist, params, (key, counter), (shape, start, extent) = ISSUE_13
    for dtype in DTYPES:
        cases.append((f"issue13-{dtype}", dist, params, dtype, key, counter, shape, start, extent))
    return cases


def c_fill_values(dist, params, dtype, key, counter, shape, start, extent, threads=1):
    g = fastinit.Generator(0)
    g.state = {"bit_generator": "Philox4x32-10", "key": key, "counter": counter}
    region = tuple(slice(s, s + e) for s, e in zip(start, extent))
    return getattr(g, dist)(shape, *params, dtype=dtype, region=region, threads=threads)


def raw_values(key, counter, n, threads=1):
    g = fastinit.Generator(0)
    g.state = {"bit_generator": "Philox4x32-10", "key": key, "counter": counter}
    return g.random_raw(n, threads=threads)


# ------------------------------------------------------------------ Python schemes

SCHEMES = [
    ("lecun_uniform", {}), ("lecun_normal", {}), ("lecun_normal", {"truncated": True}),
    ("xavier_uniform", {}), ("xavier_uniform", {"gain": 5 / 3}), ("xavier_normal", {}),
    ("xavier_normal", {"truncated": True}),
    ("he_uniform", {}), ("he_uniform", {"a": 0.2, "nonlinearity": "leaky_relu"}),
    ("he_normal", {}), ("he_normal", {"mode": "fan_out"}), ("he_normal", {"truncated": True}),
    ("variance_scaling", {}), ("variance_scaling", {"scale": 2.0, "mode": "fan_avg",
                                                    "distribution": "uniform"}),
    ("variance_scaling", {"mode": "fan_geo_avg", "distribution": "normal"}),
    ("uniform", {}), ("normal", {}), ("truncated_normal", {}),
]
SCHEME_SHAPES = [((64, 32), {}, None), ((3, 3, 16, 8), {}, None),
                 ((16, 8, 3, 3), {"layout": "torch"}, (slice(2, 9), slice(0, 8), slice(1, 3),
                                                       slice(0, 3)))]
SEEDS = (0, 2 ** 63 + 11)


def scheme_cases():
    """(id, scheme, kwargs, shape, seed, region, dtype); orthogonal is left out: its QR is
    LAPACK's, the same bits only on the same machine (docs/stream.md)."""
    cases = []
    for (name, kw), (hi, (shape, layout, region)), seed, dtype in \
            itertools.product(SCHEMES, enumerate(SCHEME_SHAPES), SEEDS, DTYPES):
        if name in ("uniform", "normal", "truncated_normal"):
            layout = {}
        kwargs = dict(kw, **layout)
        tag = ",".join(f"{k}={v}" for k, v in sorted(kwargs.items()))
        cases.append((f"{name}({tag})-r{hi}-seed{seed}-{dtype}", name, kwargs, shape, seed,
                      region, dtype))
    return cases


def scheme_values(name, kwargs, shape, seed, region, dtype, threads=1):
    return getattr(fastinit, name)(shape, seed=seed, dtype=dtype, region=region,
                                   threads=threads, **kwargs)


# ------------------------------------------------------------------ hashing on every ISA

def sha256(array):
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()


def on_every_isa(compute):
    """The hash of compute(threads) on every ISA and with 1 and 3 threads; all must agree."""
    before = fastinit.get_isa()
    hashes = set()
    try:
        for isa in fastinit.available_isas():
            fastinit.set_isa(isa)
            for threads in (1, 3):
                hashes.add(sha256(compute(threads)))
    finally:
        fastinit.set_isa(before)
    if len(hashes) != 1:
        raise SystemExit(f"the ISAs or thread counts disagree: {sorted(hashes)}")
    return hashes.pop()


def bits(x):
    return "%016x" % struct.unpack("<Q", struct.pack("<d", float(x)))[0]


def fills_table():
    lines = ["# Pinned fills (tools/stable_hashes.py writes this file; tests/c/hash_fills.c and",
             "# tests/test_stability.py check it).  Columns: id distribution dtype, the four",
             "# parameters as the hex bits of IEEE doubles, key k0 k1 (hex), counter low and",
             "# high 64 bits (hex), shape, region start, region extent, SHA-256 of the output."]
    for (cid, dist, params, dtype, key, counter, shape, start, extent) in c_fill_cases():
        try:
            h = on_every_isa(lambda t: c_fill_values(dist, params, dtype, key, counter, shape,
                                                     start, extent, t))
        except ValueError:   # parameters this dtype cannot hold (e.g. a span below its ulp)
            continue
        p = (tuple(params) + (0.0, 0.0, 0.0, 0.0))[:4]
        lines.append(" ".join([cid, dist, dtype, *map(bits, p), "%08x" % key[0], "%08x" % key[1],
                               "%x" % (counter & (2 ** 64 - 1)), "%x" % (counter >> 64),
                               ",".join(map(str, shape)), ",".join(map(str, start)),
                               ",".join(map(str, extent)), h]))
    for (key, counter), n in RAW:
        h = on_every_isa(lambda t: raw_values(key, counter, n, t))
        lines.append(" ".join([f"raw-{key[0]:08x}-{counter:x}-{n}", "raw", "uint32",
                               *map(bits, (0, 0, 0, 0)), "%08x" % key[0], "%08x" % key[1],
                               "%x" % (counter & (2 ** 64 - 1)), "%x" % (counter >> 64),
                               str(n), "0", str(n), h]))
    return "\n".join(lines) + "\n"


def schemes_table():
    rows = []
    for (cid, name, kwargs, shape, seed, region, dtype) in scheme_cases():
        h = on_every_isa(lambda t: scheme_values(name, kwargs, shape, seed, region, dtype, t))
        rows.append((cid, name, kwargs, shape, seed, region, dtype, h))
    return ('"""SHA-256 of every scheme of the Python API at fixed shapes, seeds, regions and\n'
            'dtypes (tools/stable_hashes.py writes this file; tests/test_stability.py checks it).\n'
            'Rows: (id, function, kwargs, shape, seed, region, dtype, sha256)."""\n'
            "SCHEME_HASHES = [\n" + "".join(f"    {row!r},\n" for row in rows) + "]\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    args = parser.parse_args()
    print(f"fastinit {fastinit.__version__} from {fastinit.__file__}, ISAs "
          f"{fastinit.available_isas()}", file=sys.stderr)
    outputs = {DATA / "stable_fills.txt": fills_table(),
               DATA / "stable_hashes.py": schemes_table()}
    differ = [p for p, text in outputs.items() if not p.exists() or p.read_text() != text]
    if args.check:
        print("differ: " + ", ".join(map(str, differ)) if differ else "both tables match")
        return 1 if differ else 0
    for path, text in outputs.items():
        path.write_text(text)
        print(f"wrote {path} ({text.count(chr(10))} lines)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
