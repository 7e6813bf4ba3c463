"""fastinit.torch against torch's own initialization, for `python -m fastinit bench` and
benchmarks/test_bench_torch.py: the same model or tensor initialized both ways, timed
interleaved in one process (fastinit._bench.time_interleaved).  Imports torch; only the
bench command and the benchmarks import this module."""
import os
import statistics

from . import _bench

# the model: about 100 M parameters
TRANSFORMER = {"d_model": 1024, "nhead": 16, "dim_feedforward": 4096, "num_layers": 8}
DROP_IN_SHAPE = (4096, 4096)


def transformer_encoder(device=None):
    """The 8-layer nn.TransformerEncoder (d_model 1024, 16 heads, ffn 4096), float32."""
    import torch
    from torch import nn
    with torch.device(device or "cpu"):
        layer = nn.TransformerEncoderLayer(TRANSFORMER["d_model"], TRANSFORMER["nhead"],
                                           TRANSFORMER["dim_feedforward"], batch_first=True)
        return nn.TransformerEncoder(layer, TRANSFORMER["num_layers"], enable_nested_tensor=False)


def torch_reset_parameters(model):
    """What torch's constructors run: every module's reset_parameters (MultiheadAttention's
    _reset_parameters)."""
    for module in model.modules():
        reset = getattr(module, "reset_parameters", None) or getattr(module, "_reset_parameters", None)
        if reset is not None:
            reset()
    return model


# the Hugging Face model: a Llama of about 134 M parameters, untied embeddings
LLAMA = {"hidden_size": 768, "intermediate_size": 2048, "num_hidden_layers": 12,
         "num_attention_heads": 12, "num_key_value_heads": 12, "vocab_size": 32000,
         "tie_word_embeddings": False}


def llama_config():
    from transformers import LlamaConfig
    return LlamaConfig(**LLAMA)


def llama_on_meta(config):
    import torch
    from transformers import AutoModelForCausalLM
    with torch.device("meta"):
        return AutoModelForCausalLM.from_config(config)


def llama_hf_cpu(config):
    """transformers' CPU build: from_config runs the model's init on the CPU."""
    from transformers import AutoModelForCausalLM
    return AutoModelForCausalLM.from_config(config)


def llama_hf_meta(config):
    """transformers' own meta route: build on meta, to_empty, init_weights()."""
    model = llama_on_meta(config)
    model.to_empty(device="cpu")
    model.init_weights()
    return model


def llama_fastinit(config):
    import fastinit.torch as fit
    return fit.init_module(llama_on_meta(config), seed=0, recipe="model")


# the torch table's last column
TORCH_RATIO_COLUMN = "fastinit.torch vs torch"

CASES = ("init_module", "build_and_init_module", "kaiming_uniform_", "normal_",
         "xavier_uniform_", "trunc_normal_", "llama_from_config", "llama_meta_init_weights")
# the cases that need transformers (left out of the bench without it)
TRANSFORMERS_CASES = ("llama_from_config", "llama_meta_init_weights")


def available_cases():
    """CASES, without TRANSFORMERS_CASES when transformers is not installed."""
    import importlib.util
    if importlib.util.find_spec("transformers") is None:
        return tuple(c for c in CASES if c not in TRANSFORMERS_CASES)
    return CASES


def contender_pair(case, model=None):
    """(description, torch Contender, fastinit Contender) of one case of CASES; `model`
    reuses a transformer_encoder() for "init_module"."""
    import torch
    import fastinit.torch as fit
    if case == "init_module":
        model = model if model is not None else transformer_encoder()
        return (f"TransformerEncoder ({_millions(model)} M params): re-initialize",
                _bench.Contender("torch", "torch", "reset_parameters() of every module",
                                 lambda: torch_reset_parameters(model)),
                _bench.Contender("fastinit", "fastinit.torch", "init_module(model, seed=0)",
                                 lambda: fit.init_module(model, seed=0)))
    if case == "build_and_init_module":
        return (f"TransformerEncoder ({_millions(transformer_encoder('meta'))} M params): "
                f"build and initialize",
                _bench.Contender("torch", "torch", "TransformerEncoder(...) on the CPU",
                                 transformer_encoder),
                _bench.Contender("fastinit", "fastinit.torch",
                                 "init_module(TransformerEncoder(...) on meta, seed=0)",
                                 lambda: fit.init_module(transformer_encoder("meta"), seed=0)))
    if case in TRANSFORMERS_CASES:
        config = llama_config()
        millions = round(sum(p.numel() for p in llama_on_meta(config).parameters()) / 1e6)
        ours = _bench.Contender("fastinit", "fastinit.torch",
                                "init_module(from_config(cfg) on meta, seed=0, recipe='model')",
                                lambda: llama_fastinit(config))
        if case == "llama_from_config":
            return (f"Llama {millions} M (transformers): build and initialize",
                    _bench.Contender("torch", "transformers",
                                     "transformers' from_config(cfg) on the CPU",
                                     lambda: llama_hf_cpu(config)), ours)
        return (f"Llama {millions} M (transformers): initialize a meta build",
                _bench.Contender("torch", "transformers",
                                 "transformers' from_config(cfg) on meta, to_empty, "
                                 "init_weights()",
                                 lambda: llama_hf_meta(config)), ours)
    if case not in CASES:
        raise ValueError(f"unknown case {case!r}; expected one of {CASES}")
    tensor = torch.zeros(DROP_IN_SHAPE)          # resident: both fill the same memory
    theirs, ours = getattr(torch.nn.init, case), getattr(fit, case)
    return (f"{case} {'x'.join(map(str, DROP_IN_SHAPE))} float32",
            _bench.Contender("torch", "torch", f"torch.nn.init.{case}(t)", lambda: theirs(tensor)),
            _bench.Contender("fastinit", "fastinit.torch", f"fastinit.torch.{case}(t, seed=0)",
                             lambda: ours(tensor, seed=0)))


def _millions(model):
    return round(sum(p.numel() for p in model.parameters()) / 1e6)


def contender_pairs():
    """[(description, torch Contender, fastinit Contender)] for every available case."""
    return [contender_pair(case) for case in available_cases()]


def run_torch_bench(repeat, progress=None):
    """run_torch_bench(repeat) -> [{case, torch_code, fastinit_code, torch_ms, fastinit_ms,
    speedup, runs, torch_threads}]: medians of interleaved runs, torch with os.cpu_count()
    threads, fastinit with its default."""
    threads = os.cpu_count()
    with _bench.torch_threads(threads):
        pairs = contender_pairs()
        runs = [c.run for _, theirs, ours in pairs for c in (theirs, ours)]
        for run in runs:        # untimed: first calls import and allocate (seconds, once)
            run()
        samples = time_interleaved_limited(runs, repeat, progress)
    rows = []
    for k, (case, theirs, ours) in enumerate(pairs):
        t, f = samples[2 * k], samples[2 * k + 1]
        torch_ms, fastinit_ms = statistics.median(t) * 1e3, statistics.median(f) * 1e3
        rows.append({"case": case, "torch_code": theirs.code, "fastinit_code": ours.code,
                     "torch_ms": torch_ms, "fastinit_ms": fastinit_ms,
                     "speedup": torch_ms / fastinit_ms, "runs": min(len(t), len(f)),
                     "torch_threads": threads})
    return rows


def time_interleaved_limited(runs, repeat, progress=None):
    return _bench.time_interleaved(runs, repeat, progress, budget_seconds=_bench.BENCH_BUDGET_SECONDS)


def format_torch_table(rows):
    """format_torch_table(rows) -> the text `bench` prints for run_torch_bench's rows: each
    case with the two calls it times under it."""
    threads = rows[0].get("torch_threads") if rows else None
    lines = ["fastinit.torch against torch's own initialization (same model / tensor, "
             "medians of interleaved runs"
             + ("" if threads is None else f"; torch with {threads} threads") + "):", ""]
    header = (f"{'case':<58} {'runs':>4} {'torch ms':>9} {'fastinit ms':>11}  "
              f"{TORCH_RATIO_COLUMN}")
    lines += [header, "-" * len(header)]
    for row in rows:
        lines.append(f"{row['case']:<58} {row['runs']:>4} {row['torch_ms']:>9.1f} "
                     f"{row['fastinit_ms']:>11.1f}  {_bench.faster_or_slower(row['speedup'])}")
        lines.append(f"    torch: {row['torch_code']};  fastinit.torch: {row['fastinit_code']}")
    lines.append("")
    lines.append(f"{TORCH_RATIO_COLUMN}: torch's median / fastinit.torch's, said as how many "
                 f"times faster (or slower) fastinit.torch is.")
    return "\n".join(lines)
