"""python -m fastinit info | bench | demo: the build's configuration, a one-minute comparison
with numpy, torch and mkl_random on this machine (the timing lives in fastinit._bench), and
the lecture on initialization, measured (fastinit._demo)."""
import argparse
import importlib.util
import json
import os
import sys

from ._progress import Progress


def _int_in_range(low, high=None):
    """An argparse type: an int in [low, high] (no upper bound when high is None)."""
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < low or (high is not None and value > high):
            bound = f"from {low} to {high}" if high is not None else f"of at least {low}"
            raise argparse.ArgumentTypeError(f"expected an integer {bound}, got {text!r}")
        return value
    return parse


def build_parser():
    """build_parser() -> the argparse parser of `python -m fastinit`."""
    parser = argparse.ArgumentParser(
        prog="python -m fastinit",
        description="fastinit: fast, reproducible neural-network weight initialization.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="{info,bench,demo}")
    commands.add_parser("info", help="print the version, instruction sets and threads",
                        description="Print the version, instruction sets and threads.")
    bench = commands.add_parser(
        "bench", help="time the schemes against numpy, torch and the np.ones floor",
        description="Time xavier_uniform, he_normal and he_normal(truncated=True) into new "
                    "arrays: fastinit with 1 thread and all cores, the np.ones floor, and "
                    "numpy / scipy, torch and mkl_random where installed, interleaved in one "
                    "process; print the medians.  With float32, fastinit's float16 and "
                    "bfloat16 (with ml_dtypes) arrays are timed alongside.")
    bench.add_argument("--shape", type=_int_in_range(1), nargs="+", default=[4096, 4096],
                       metavar="N", help="array shape, at least 2 dimensions (default: 4096 4096)")
    bench.add_argument("--dtype", choices=("float32", "float64"), default="float32",
                       help="element type (default: float32)")
    bench.add_argument("--repeat", type=_int_in_range(1), default=7, metavar="N",
                       help="timed rounds per contender; medians are reported (default: 7)")
    bench.add_argument("--json", action="store_true",
                       help="print machine-readable JSON to stdout instead of the table")
    bench.add_argument("--plot", metavar="FILE.png",
                       help="also save a bar chart of the medians (needs matplotlib)")
    bench.add_argument("--no-torch", action="store_true",
                       help="skip the fastinit.torch table (init_module of a 100 M parameter "
                            "TransformerEncoder and the drop-ins on 4096x4096, against torch; "
                            "run when torch is installed)")
    _add_quiet_flag(bench)
    _add_demo_parser(commands)
    return parser


def _add_demo_parser(commands):
    from . import _demo

    demo = commands.add_parser(
        "demo", help="the lecture on weight initialization, measured with NumPy MLPs",
        description="Activations and gradients through a deep MLP for tanh, sigmoid and relu "
                    "from each initialization, with a verdict; distinct hidden units after a "
                    "few SGD steps (symmetry); test accuracy and loss of a small classifier "
                    "trained from each initialization (load_digits with scikit-learn, else a "
                    "synthetic set).  NumPy only; every random weight from fastinit.")
    demo.add_argument("--depth", type=_int_in_range(2, _demo.MAX_DEPTH),
                      default=_demo.DEFAULT_DEPTH, metavar="N",
                      help=f"layers of the deep MLP, 2-{_demo.MAX_DEPTH} "
                           f"(default: {_demo.DEFAULT_DEPTH})")
    demo.add_argument("--width", type=_int_in_range(2, _demo.MAX_WIDTH),
                      default=_demo.DEFAULT_WIDTH, metavar="N",
                      help=f"units per layer of the deep MLP and of the symmetry network, "
                           f"2-{_demo.MAX_WIDTH} (default: {_demo.DEFAULT_WIDTH})")
    demo.add_argument("--seed", type=_int_in_range(0), default=0, metavar="N",
                      help="seed of the inputs, weights and data split (default: 0)")
    demo.add_argument("--json", action="store_true",
                      help="print one JSON object to stdout instead of the tables")
    demo.add_argument("--plot", metavar="FILE.png",
                      help="also save activation histograms and std-through-depth curves "
                           "(needs matplotlib)")
    _add_quiet_flag(demo)
    demo.set_defaults(command_parser=demo)       # errors about --plot show the demo's usage


def _add_quiet_flag(parser):
    parser.add_argument("--quiet", action="store_true",
                        help="no progress bar and no status lines on stderr (the bar is only "
                             "drawn when stderr is a terminal)")


def _status(args, text):
    """A one-line status on stderr, unless --quiet."""
    if not args.quiet:
        print(text, file=sys.stderr, flush=True)


def bench(args, parser):
    from . import _bench

    if len(args.shape) < 2:
        parser.error("--shape needs at least 2 dimensions (fans are read from the last two)")
    if args.plot and importlib.util.find_spec("matplotlib") is None:
        parser.error("--plot needs matplotlib, which is not installed: pip install matplotlib")
    _status(args, f"timing {'x'.join(map(str, args.shape))} {args.dtype} ...")
    with Progress("rounds", quiet=args.quiet) as progress:
        report = _bench.run_bench(args.shape, args.dtype, args.repeat, progress=progress)
    torch_rows = None
    if not args.no_torch and importlib.util.find_spec("torch") is not None:
        from . import _bench_torch
        _status(args, "timing fastinit.torch against torch ...")
        with Progress("rounds", quiet=args.quiet) as progress:
            torch_rows = _bench_torch.run_torch_bench(args.repeat, progress=progress)
        report["torch_adapter"] = torch_rows
    if args.json:
        json.dump(report, sys.stdout, indent=2)
        print()
    else:
        print(_bench.format_table(report))
        if torch_rows is not None:
            print()
            print(_bench_torch.format_torch_table(torch_rows))
    if args.plot:
        _bench.plot(report, args.plot)
        print(f"plot saved to {args.plot}", file=sys.stderr)
    return 0


def _check_plot_path(path, parser):
    """Refuses a --plot that cannot be written before the demo spends its half minute."""
    from ._arrays import install_hint
    try:
        from matplotlib.figure import Figure
    except ImportError:
        parser.error("--plot needs matplotlib, which is not installed: "
                     + install_hint("demo", "matplotlib"))
    extension = os.path.splitext(path)[1].lstrip(".").lower()
    formats = Figure().canvas.get_supported_filetypes()
    if extension not in formats:
        parser.error(f"--plot: cannot tell the image format of {path!r}; end the name in one of "
                     f"{', '.join('.' + f for f in sorted(formats))}")
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        parser.error(f"--plot: directory {directory!r} does not exist")
    if not os.access(directory, os.W_OK):
        parser.error(f"--plot: directory {directory!r} is not writable")


def demo(args):
    from . import _demo

    if args.plot:
        _check_plot_path(args.plot, args.command_parser)
    if importlib.util.find_spec("threadpoolctl") is None:
        print("note: threadpoolctl is not installed, so NumPy's BLAS keeps all its threads, "
              "which can make the demo several times slower on a busy machine "
              "(pip install threadpoolctl)", file=sys.stderr)
    _status(args, f"running the demo (depth {args.depth}, width {args.width}, "
                  f"seed {args.seed}) ...")
    with Progress("networks", quiet=args.quiet) as progress:
        report = _demo.run_demo(depth=args.depth, width=args.width, seed=args.seed,
                                progress=progress)
    if args.json:
        json.dump(report, sys.stdout)
        print()
    else:
        print(_demo.format_report(report))
    if args.plot:
        _demo.plot(report, args.plot)
        print(f"plot saved to {args.plot}", file=sys.stderr)
    return 0


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "info":
        from . import show_config
        show_config()
        return 0
    if args.command == "demo":
        return demo(args)
    return bench(args, parser)


if __name__ == "__main__":
    sys.exit(main())
