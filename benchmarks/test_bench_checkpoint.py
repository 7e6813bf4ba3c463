"""A randomly initialized Llama checkpoint (fastinit._bench_checkpoint's "small" Llama,
21 M parameters) written five ways, one table per dtype:

    pytest benchmarks/test_bench_checkpoint.py --benchmark-only

save_initialized (built on meta, written block by block), init_module + save_pretrained
(allocated on the CPU, filled, saved by transformers), the same two with the model's own
initialization code (recipe="model") and dd (the same bytes from a zero buffer: the
physical limit).  Each round writes a new directory, after the last one is
removed and os.sync() has flushed it (untimed).
`python -m fastinit bench --checkpoint DIR` runs the issue's 1.35 B-parameter Llama, each
run in its own process with its peak RSS.  Times are compared, never asserted.
"""
import itertools
import os
import shutil

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from fastinit import _bench_checkpoint  # noqa: E402

SIZE = "small"


@pytest.mark.parametrize("contender", _bench_checkpoint.CONTENDERS)
@pytest.mark.parametrize("dtype", _bench_checkpoint.DTYPES)
def test_checkpoint(benchmark, tmp_path, dtype, contender):
    nbytes = _bench_checkpoint.checkpoint_bytes(SIZE, dtype)
    runs = itertools.count()
    directories = []

    def fresh_directory():
        for old in directories:
            shutil.rmtree(old, ignore_errors=True)
        if hasattr(os, "sync"):         # the last round's write-back is not this round's
            os.sync()
        directories[:] = [str(tmp_path / f"run-{next(runs)}")]
        return (contender, SIZE, dtype, directories[0], nbytes), {}

    benchmark.group = f"Llama checkpoint ({SIZE}) {dtype}"
    benchmark.name = contender
    benchmark.extra_info["bytes"] = nbytes
    rounds = 1 if benchmark.disabled else 5
    result = benchmark.pedantic(_bench_checkpoint.run_contender, setup=fresh_directory,
                                rounds=rounds, warmup_rounds=0 if benchmark.disabled else 1)
    assert result["bytes"] >= nbytes * 0.99        # each contender wrote the checkpoint's bytes
    if benchmark.stats is not None:
        benchmark.extra_info["gb_per_s_median"] = nbytes / benchmark.stats.stats.median / 1e9
