"""A randomly initialized Llama checkpoint written five ways, for `python -m fastinit bench
--checkpoint DIR` and benchmarks/test_bench_checkpoint.py:

- save_initialized: the model built on meta, its values (rules giving HF Llama's recipe)
  written straight into the files;
- init_module + save_pretrained: the model allocated on the CPU (transformers'
  no_init_weights), filled by init_module with the same rules, saved by transformers;
- save_initialized(recipe=model): the model built on meta, its own initialization code
  run one module at a time, written straight into the files;
- init_module(model) + save_pretrained: the model built on meta, materialized whole by
  init_module(recipe="model"), its own code run, saved by transformers;
- dd: the same number of bytes written from a zero buffer in 64 MiB writes, no values at
  all: what the disk and the page cache allow, the physical limit.

Each pair of initializing routes gives the same values.  Each run is a fresh process (its
peak RSS is its own), into a fresh directory that is removed afterwards, after os.sync() so
that one run's write-back does not slow the next; the rounds are interleaved.  Peak RSS is
the process's VmHWM on Linux: its resident pages, anonymous and mapped, at their peak.  The
page cache that the written files occupy is not in it (no file is mapped)."""
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time

# The issue's ~1.35 B-parameter Llama (5.4 GB float32) and a small one for pytest-benchmark.
LLAMA_SIZES = {
    "1b": {"hidden_size": 2048, "intermediate_size": 8192, "num_hidden_layers": 18,
           "num_attention_heads": 16, "num_key_value_heads": 16, "vocab_size": 32000},
    "small": {"hidden_size": 512, "intermediate_size": 1408, "num_hidden_layers": 4,
              "num_attention_heads": 8, "num_key_value_heads": 8, "vocab_size": 8000},
}
CONTENDERS = ("save_initialized", "init_module+save_pretrained",
              "save_initialized(recipe=model)", "init_module(model)+save_pretrained", "dd")
DTYPES = ("float32", "bfloat16")
SEED = 0
MAX_SHARD_SIZE = "5GB"
DD_BLOCK_BYTES = 64 << 20


def llama_config(size):
    from transformers import LlamaConfig
    return LlamaConfig(**LLAMA_SIZES[size], tie_word_embeddings=False)


def llama_rules():
    """HF's Llama initialization for its layers: normal(0, 0.02) weights, RMSNorm ones."""
    import fastinit.torch as fit
    from transformers.models.llama.modeling_llama import LlamaRMSNorm
    return [fit.Rule(("normal", {"std": 0.02}), names="*.weight"),
            fit.Rule("ones", modules=LlamaRMSNorm)]


def write_with_save_initialized(size, dtype, directory):
    import torch
    import fastinit.torch as fit
    from transformers import LlamaForCausalLM
    with torch.device("meta"):
        model = LlamaForCausalLM(llama_config(size))
    return fit.save_initialized(model, directory, seed=SEED, rules=llama_rules(), dtype=dtype,
                                max_shard_size=MAX_SHARD_SIZE).bytes


def write_with_save_pretrained(size, dtype, directory):
    import torch
    import fastinit.torch as fit
    from transformers import LlamaForCausalLM
    from transformers.initialization import no_init_weights
    with no_init_weights():
        model = LlamaForCausalLM._from_config(llama_config(size), dtype=getattr(torch, dtype))
    fit.init_module(model, seed=SEED, rules=llama_rules())
    model.save_pretrained(directory, max_shard_size=MAX_SHARD_SIZE)
    return sum(os.path.getsize(os.path.join(directory, f)) for f in os.listdir(directory)
               if f.endswith(".safetensors"))


def write_with_model_recipe(size, dtype, directory):
    """The model's own initialization code (recipe="model"), one module at a time."""
    import torch
    import fastinit.torch as fit
    from transformers import LlamaForCausalLM
    with torch.device("meta"):
        model = LlamaForCausalLM(llama_config(size))
    return fit.save_initialized(model, directory, seed=SEED, recipe="model", dtype=dtype,
                                max_shard_size=MAX_SHARD_SIZE).bytes


def write_with_model_recipe_and_save_pretrained(size, dtype, directory):
    """The whole model materialized (meta, then init_module's to_empty), its own code run
    by init_module(recipe="model"), saved by transformers."""
    import torch
    import fastinit.torch as fit
    from transformers import LlamaForCausalLM
    with torch.device("meta"):
        model = LlamaForCausalLM(llama_config(size)).to(getattr(torch, dtype))
    fit.init_module(model, seed=SEED, recipe="model")
    model.save_pretrained(directory, max_shard_size=MAX_SHARD_SIZE)
    return sum(os.path.getsize(os.path.join(directory, f)) for f in os.listdir(directory)
               if f.endswith(".safetensors"))


def write_zeros(nbytes, directory):
    """dd if=/dev/zero bs=64M, in Python: nbytes into one file."""
    import numpy as np
    os.makedirs(directory)
    block = memoryview(np.zeros(DD_BLOCK_BYTES, np.uint8))
    with open(os.path.join(directory, "zeros"), "wb", buffering=0) as f:
        left = nbytes
        while left:
            left -= f.write(block[:min(left, DD_BLOCK_BYTES)])
    return nbytes


def checkpoint_bytes(size, dtype):
    """Bytes of the safetensors files of the Llama of `size` in `dtype` (header included)."""
    import torch
    from transformers import LlamaForCausalLM
    from fastinit import _checkpoint
    with torch.device("meta"):
        model = LlamaForCausalLM(llama_config(size))
    resolved = _checkpoint.resolve_dtype(dtype)
    entries = [_checkpoint._Entry(key, tuple(t.shape), resolved, True, None)
               for key, t in _checkpoint.saved_tensors(model)]
    groups = _checkpoint.split_into_files(
        entries, _checkpoint.parse_max_shard_size(MAX_SHARD_SIZE))
    return sum(_checkpoint._layout(name, group).size
               for name, group in zip(_checkpoint.file_names(len(groups)), groups))


def run_contender(contender, size, dtype, directory, nbytes=None):
    """run_contender(contender, size, dtype, directory, nbytes=None) -> {seconds, bytes}:
    one run in this process, timed from before the model is built to the last byte
    written; dd writes nbytes (default: the checkpoint's, counted before the clock starts)."""
    if contender == "dd" and nbytes is None:
        nbytes = checkpoint_bytes(size, dtype)
    start = time.perf_counter()
    if contender == "save_initialized":
        nbytes = write_with_save_initialized(size, dtype, directory)
    elif contender == "init_module+save_pretrained":
        nbytes = write_with_save_pretrained(size, dtype, directory)
    elif contender == "save_initialized(recipe=model)":
        nbytes = write_with_model_recipe(size, dtype, directory)
    elif contender == "init_module(model)+save_pretrained":
        nbytes = write_with_model_recipe_and_save_pretrained(size, dtype, directory)
    elif contender == "dd":
        nbytes = write_zeros(nbytes, directory)
    else:
        raise ValueError(f"unknown contender {contender!r}; expected one of {CONTENDERS}")
    return {"seconds": time.perf_counter() - start, "bytes": nbytes}


def peak_rss_bytes():
    """This process's peak resident set: Linux's VmHWM (its own, whereas ru_maxrss keeps
    the parent's peak across fork and exec), else ru_maxrss."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024     # bytes on macOS, KiB elsewhere


def run_in_subprocess(contender, size, dtype, directory, nbytes):
    """One run in a fresh process: {seconds, cpu_seconds, bytes, peak_rss, rss_at_start}
    (cpu_seconds: the process's user + system time in the run, all its threads, the
    kernel's copies into the page cache included; rss_at_start: the peak after the
    imports, before the run); dd writes nbytes."""
    result = subprocess.run([sys.executable, "-m", "fastinit._bench_checkpoint", contender,
                             size, dtype, directory, str(nbytes)], capture_output=True,
                            text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{contender} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def run_checkpoint_bench(directory, size="1b", dtypes=DTYPES, repeat=3, progress=None):
    """run_checkpoint_bench(directory, size="1b", dtypes=DTYPES, repeat=3) -> [{dtype,
    contender, seconds (median), samples (every run's seconds), cpu_seconds (median),
    gb_per_s, peak_rss (max), rss_at_start, runs}]: interleaved rounds of the contenders,
    each run in a fresh process writing into a new subdirectory of `directory` that is
    removed afterwards."""
    samples = {}
    os.makedirs(directory, exist_ok=True)
    nbytes = {dtype: checkpoint_bytes(size, dtype) for dtype in dtypes}
    for r in range(repeat):
        if progress:
            progress(r + 1, repeat)
        for dtype in dtypes:
            for k in range(len(CONTENDERS)):
                contender = CONTENDERS[(r + k) % len(CONTENDERS)]
                out = os.path.join(directory, f"fastinit-bench-{contender}-{dtype}")
                shutil.rmtree(out, ignore_errors=True)
                if hasattr(os, "sync"):
                    os.sync()
                try:
                    samples.setdefault((dtype, contender), []).append(
                        run_in_subprocess(contender, size, dtype, out, nbytes[dtype]))
                finally:
                    shutil.rmtree(out, ignore_errors=True)
    rows = []
    for (dtype, contender), runs in samples.items():
        seconds = statistics.median(run["seconds"] for run in runs)
        rows.append({"dtype": dtype, "contender": contender, "seconds": seconds,
                     "samples": [run["seconds"] for run in runs],
                     "cpu_seconds": statistics.median(run["cpu_seconds"] for run in runs),
                     "bytes": runs[0]["bytes"], "gb_per_s": runs[0]["bytes"] / seconds / 1e9,
                     "peak_rss": max(run["peak_rss"] for run in runs),
                     "rss_at_start": max(run["rss_at_start"] for run in runs),
                     "runs": len(runs)})
    rows.sort(key=lambda row: (dtypes.index(row["dtype"]), CONTENDERS.index(row["contender"])))
    return rows


def format_checkpoint_table(rows, size):
    params = sum(v for v in _parameter_count(size))
    lines = [f"A randomly initialized Llama checkpoint ({params / 1e6:,.0f} M parameters, "
             f"{', '.join(f'{k}={v}' for k, v in LLAMA_SIZES[size].items())}), each run a "
             f"fresh process, medians of interleaved runs:", ""]
    header = (f"{'dtype':<9} {'route':<34} {'runs':>4} {'GB':>6} {'seconds':>8} {'CPU s':>6} "
              f"{'GB/s':>6} {'peak RSS GiB':>12} {'at start':>8} {'vs dd':>6}")
    lines += [header, "-" * len(header)]
    dd = {row["dtype"]: row["seconds"] for row in rows if row["contender"] == "dd"}
    for row in rows:
        ratio = row["seconds"] / dd[row["dtype"]] if row["dtype"] in dd else float("nan")
        lines.append(f"{row['dtype']:<9} {row['contender']:<34} {row['runs']:>4} "
                     f"{row['bytes'] / 1e9:>6.2f} {row['seconds']:>8.2f} "
                     f"{row['cpu_seconds']:>6.2f} {row['gb_per_s']:>6.2f} "
                     f"{row['peak_rss'] / 2 ** 30:>12.2f} {row['rss_at_start'] / 2 ** 30:>8.2f} "
                     f"{ratio:>5.2f}x")
    lines.append("")
    lines.append("(CPU s: user + system time of the run's process, all threads; peak RSS: "
                 "each process's VmHWM, its imports included; at start: the peak after the "
                 "imports, before the run; vs dd: time over dd's)")
    return "\n".join(lines)


def _parameter_count(size):
    c = LLAMA_SIZES[size]
    h, i, v, n = c["hidden_size"], c["intermediate_size"], c["vocab_size"], c["num_hidden_layers"]
    kv = h * c["num_key_value_heads"] // c["num_attention_heads"]
    layer = 2 * h * h + 2 * h * kv + 3 * h * i + 2 * h
    return (2 * v * h, n * layer, h)


if __name__ == "__main__":
    contender, size, dtype, directory, checkpoint_nbytes = sys.argv[1:6]
    if contender != "dd":       # the imports are not the run's: their RSS is reported apart
        import fastinit.torch  # noqa: F401
        import ml_dtypes  # noqa: F401   (fastinit's bfloat16 arrays; seconds on first use)
        import transformers.initialization  # noqa: F401
        import transformers.models.llama.modeling_llama  # noqa: F401
        from transformers import LlamaConfig, LlamaForCausalLM  # noqa: F401
    at_start = peak_rss_bytes()
    cpu_at_start = resource.getrusage(resource.RUSAGE_SELF)
    report = run_contender(contender, size, dtype, directory, int(checkpoint_nbytes))
    cpu = resource.getrusage(resource.RUSAGE_SELF)
    report.update(peak_rss=peak_rss_bytes(), rss_at_start=at_start,
                  cpu_seconds=cpu.ru_utime + cpu.ru_stime - cpu_at_start.ru_utime
                  - cpu_at_start.ru_stime)
    print(json.dumps(report))
