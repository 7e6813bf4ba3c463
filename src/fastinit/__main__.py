"""python -m fastinit info | bench: the build's configuration, and a one-minute comparison
with numpy, torch and mkl_random on this machine (the timing lives in fastinit._bench)."""
import argparse
import importlib.util
import json
import sys


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def build_parser():
    """build_parser() -> the argparse parser of `python -m fastinit`."""
    parser = argparse.ArgumentParser(
        prog="python -m fastinit",
        description="fastinit: fast, reproducible neural-network weight initialization.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="{info,bench}")
    commands.add_parser("info", help="print the version, instruction sets and threads",
                        description="Print the version, instruction sets and threads.")
    bench = commands.add_parser(
        "bench", help="time the schemes against numpy, torch and the np.ones floor",
        description="Time xavier_uniform, he_normal and he_normal(truncated=True) into new "
                    "arrays: fastinit with 1 thread and all cores, the np.ones floor, and "
                    "numpy / scipy, torch and mkl_random where installed, interleaved in one "
                    "process; print the medians.  With float32, fastinit's float16 and "
                    "bfloat16 (with ml_dtypes) arrays are timed alongside.")
    bench.add_argument("--shape", type=_positive_int, nargs="+", default=[4096, 4096],
                       metavar="N", help="array shape, at least 2 dimensions (default: 4096 4096)")
    bench.add_argument("--dtype", choices=("float32", "float64"), default="float32",
                       help="element type (default: float32)")
    bench.add_argument("--repeat", type=_positive_int, default=7, metavar="N",
                       help="timed rounds per contender; medians are reported (default: 7)")
    bench.add_argument("--json", action="store_true",
                       help="print machine-readable JSON to stdout instead of the table")
    bench.add_argument("--plot", metavar="FILE.png",
                       help="also save a bar chart of the medians (needs matplotlib)")
    return parser


def _progress(done, total):
    if sys.stderr.isatty():                    # a counter on a terminal, nothing in a log
        print(f"\rround {done}/{total}", end="" if done < total else "\n", file=sys.stderr,
              flush=True)


def bench(args, parser):
    from . import _bench

    if len(args.shape) < 2:
        parser.error("--shape needs at least 2 dimensions (fans are read from the last two)")
    if args.plot and importlib.util.find_spec("matplotlib") is None:
        parser.error("--plot needs matplotlib, which is not installed: pip install matplotlib")
    print(f"timing {'x'.join(map(str, args.shape))} {args.dtype} ...", file=sys.stderr,
          flush=True)
    report = _bench.run_bench(args.shape, args.dtype, args.repeat, progress=_progress)
    if args.json:
        json.dump(report, sys.stdout, indent=2)
        print()
    else:
        print(_bench.format_table(report))
    if args.plot:
        _bench.plot(report, args.plot)
        print(f"plot saved to {args.plot}", file=sys.stderr)
    return 0


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "info":
        from . import show_config
        show_config()
        return 0
    return bench(args, parser)


if __name__ == "__main__":
    sys.exit(main())
