"""python -m fastinit info | bench | demo | checkpoint: the build's configuration, a one-minute
comparison with numpy, torch and mkl_random on this machine (the timing lives in
fastinit._bench), the lecture on initialization, measured (fastinit._demo), and a randomly
initialized checkpoint written from a Hugging Face config (fastinit._checkpoint)."""
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
    commands = parser.add_subparsers(dest="command", required=True,
                                     metavar="{info,bench,demo,checkpoint}")
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
    bench.add_argument("--checkpoint", metavar="DIR",
                       help="also write a randomly initialized Llama checkpoint into DIR, "
                            "float32 and bfloat16, with save_initialized, with init_module + "
                            "save_pretrained (each with rules, then with the model's own code, "
                            "recipe='model') and as a dd-style write of the same bytes, each "
                            "run in its own process (time, GB/s, peak RSS); needs torch and "
                            "transformers, and several GB of disk with --checkpoint-size 1b")
    bench.add_argument("--checkpoint-size", choices=("1b", "small"), default="1b",
                       help="the Llama of --checkpoint: 1b (1.35 B parameters, 5.4 GB in "
                            "float32; the default) or small (21 M)")
    bench.add_argument("--checkpoint-rounds", type=_int_in_range(1), default=3, metavar="N",
                       help="interleaved rounds of --checkpoint (default: 3)")
    _add_demo_parser(commands)
    _add_checkpoint_parser(commands)
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


def _add_checkpoint_parser(commands):
    checkpoint = commands.add_parser(
        "checkpoint", help="write a randomly initialized safetensors checkpoint from an HF config",
        description="Build the model of a Hugging Face config (the class named by its "
                    "'architectures', from transformers) on the meta device, and write the "
                    "values fastinit.torch.init_module would give it straight into a "
                    "safetensors checkpoint that from_pretrained loads "
                    "(fastinit.torch.save_initialized): memory stays bounded whatever the "
                    "model's size.  Needs torch and transformers.")
    checkpoint.add_argument("config", metavar="CONFIG.json",
                            help="the model's config.json (or a directory holding one)")
    checkpoint.add_argument("out_dir", metavar="OUT_DIR", help="a new or empty directory")
    checkpoint.add_argument("--seed", type=_int_in_range(0), required=True, metavar="N",
                            help="the seed of every value")
    checkpoint.add_argument("--dtype", choices=("float32", "bfloat16", "float16", "float64"),
                            help="dtype of the floating-point tensors (default: the model's, "
                                 "float32)")
    checkpoint.add_argument("--recipe", default="model", help="the initialization recipe: "
                            "'model' (the model's own initialization code, with fastinit "
                            "drawing every random value; the default) or 'torch' (each "
                            "layer's torch reset_parameters distribution); --rule overrides "
                            "apply on top of either")
    checkpoint.add_argument("--rule", action="append", default=[], metavar="GLOB=INIT",
                            help="an init for the parameters whose qualified name matches GLOB, "
                                 "later ones winning: e.g. '*.weight=normal(std=0.02)', "
                                 "'*norm.weight=ones' (init: a scheme name of "
                                 "fastinit.torch.Rule, with keyword arguments in parentheses)")
    checkpoint.add_argument("--unknown", choices=("error", "reset_parameters"), default="error",
                            help="for parameters no layer rule or --rule covers: fail (default) "
                                 "or run their module's own reset_parameters")
    checkpoint.add_argument("--max-shard-size", default="5GB", metavar="SIZE",
                            help="largest safetensors file, e.g. 5GB, 500MB (default: 5GB)")
    checkpoint.add_argument("--shards", metavar="K/N",
                            help="write only the files i with i %% N == K (several writers, one "
                                 "checkpoint; writer 0 also writes the JSON files)")
    _add_quiet_flag(checkpoint)
    checkpoint.set_defaults(command_parser=checkpoint)


def parse_rule(text):
    """parse_rule("GLOB=INIT") -> (GLOB, init spec): INIT is a scheme name, or a call of one
    with literal keyword arguments, e.g. "normal(std=0.02)" -> ("normal", {"std": 0.02})."""
    import ast

    glob, sep, init = text.partition("=")
    if not sep or not glob.strip() or not init.strip():
        raise ValueError(f"--rule {text!r}: expected GLOB=INIT, e.g. '*.weight=normal(std=0.02)'")
    try:
        node = ast.parse(init.strip(), mode="eval").body
        if isinstance(node, ast.Name):
            return glob.strip(), node.id
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.args
                and all(k.arg is not None for k in node.keywords)):
            return glob.strip(), (node.func.id, {k.arg: ast.literal_eval(k.value)
                                                 for k in node.keywords})
    except (SyntaxError, ValueError):
        pass
    raise ValueError(f"--rule {text!r}: INIT must be a scheme name or name(keyword=value, ...), "
                     f"e.g. 'normal(std=0.02)'")


def _parse_shards(text):
    writer, sep, writers = (text or "").partition("/")
    try:
        return int(writer), int(writers)
    except ValueError:
        raise ValueError(f"--shards {text!r}: expected K/N, e.g. 0/4") from None


def _hf_model_on_meta(config_path):
    """The model of an HF config file, its class named by the config's `architectures`,
    built on the meta device."""
    import torch
    import transformers

    config = transformers.AutoConfig.from_pretrained(config_path)
    architectures = getattr(config, "architectures", None) or []
    if not architectures:
        raise ValueError(f"{config_path}: the config names no 'architectures', so the model "
                         f"class is unknown")
    cls = getattr(transformers, architectures[0], None)
    if cls is None:
        raise ValueError(f"{config_path}: transformers {transformers.__version__} has no model "
                         f"class {architectures[0]!r}")
    with torch.device("meta"):
        return cls(config)


def checkpoint(args):
    import fastinit.torch as fit

    parser = args.command_parser
    for module in ("torch", "transformers"):
        if importlib.util.find_spec(module) is None:
            parser.error(f"the checkpoint command needs {module}, which is not installed")
    try:
        rules = [parse_rule(text) for text in args.rule]
        shards = _parse_shards(args.shards) if args.shards is not None else None
        model = _hf_model_on_meta(args.config)
    except (ValueError, OSError) as e:
        parser.error(str(e))
    try:
        # bytes written, on stderr when it is a terminal (tqdm's bar, or a counter)
        with Progress("bytes written", quiet=args.quiet) as progress:
            summary = fit.save_initialized(
                model, args.out_dir, seed=args.seed, recipe=args.recipe, rules=rules,
                unknown=args.unknown, dtype=args.dtype, max_shard_size=args.max_shard_size,
                shards=shards, progress=progress)
    except (ValueError, TypeError) as e:
        parser.error(str(e))
    rate = summary.bytes / summary.seconds / 1e9 if summary.seconds > 0 else float("inf")
    print(f"{summary.parameters:,} parameters, {summary.bytes / 1e9:.3f} GB in "
          f"{len(summary.files)} files, {summary.seconds:.1f} s, {rate:.2f} GB/s -> "
          f"{summary.path}")
    return 0


def bench(args, parser):
    from . import _bench

    if len(args.shape) < 2:
        parser.error("--shape needs at least 2 dimensions (fans are read from the last two)")
    if args.plot and importlib.util.find_spec("matplotlib") is None:
        parser.error("--plot needs matplotlib, which is not installed: pip install matplotlib")
    if args.checkpoint and any(importlib.util.find_spec(m) is None
                               for m in ("torch", "transformers")):
        parser.error("--checkpoint needs torch and transformers")
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
    checkpoint_rows = None
    if args.checkpoint:
        from . import _bench_checkpoint
        _status(args, f"writing Llama checkpoints ({args.checkpoint_size}) into "
                      f"{args.checkpoint} ...")
        with Progress("rounds", quiet=args.quiet) as progress:
            checkpoint_rows = _bench_checkpoint.run_checkpoint_bench(
                args.checkpoint, args.checkpoint_size, repeat=args.checkpoint_rounds,
                progress=progress)
        report["checkpoint"] = {"size": args.checkpoint_size, "rows": checkpoint_rows}
    if args.json:
        json.dump(report, sys.stdout, indent=2)
        print()
    else:
        print(_bench.format_table(report))
        if torch_rows is not None:
            print()
            print(_bench_torch.format_torch_table(torch_rows))
        if checkpoint_rows is not None:
            print()
            print(_bench_checkpoint.format_checkpoint_table(checkpoint_rows,
                                                            args.checkpoint_size))
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
        _status(args, "note: threadpoolctl is not installed, so NumPy's BLAS keeps all its "
                      "threads, which can make the demo several times slower on a busy "
                      "machine (pip install threadpoolctl)")
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
    if args.command == "checkpoint":
        return checkpoint(args)
    return bench(args, parser)


if __name__ == "__main__":
    sys.exit(main())
