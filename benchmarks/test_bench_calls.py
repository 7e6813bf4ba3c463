"""The cost of a call: one small float32 array, as a model's many biases and norms get it.

    pytest benchmarks/test_bench_calls.py --benchmark-only   # one table per shape

fastinit's module functions (he_normal, xavier_uniform) against numpy's cheapest calls
(rng.standard_normal, rng.random) at 4x4, 64x64 and 512x512 (fastinit._bench.CALL_SHAPES).
Times are compared, never asserted; the goals (4x4 he_normal at most 3x numpy's
standard_normal, 64x64 xavier_uniform at most numpy's random) are printed by
`python -m fastinit bench`.
"""
import pytest

from fastinit import _bench

CONTENDERS = [c.name for c in _bench.call_contenders((1, 1))]


@pytest.mark.parametrize("shape", _bench.CALL_SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("contender", CONTENDERS)
def test_call(benchmark, shape, contender):
    run = {c.name: c for c in _bench.call_contenders(shape)}[contender]
    benchmark.group = f"call {'x'.join(map(str, shape))} float32"
    benchmark.name = run.name
    benchmark.extra_info["code"] = run.code
    seconds, calls = _bench.time_per_call(run.run)
    rounds = max(5, min(200, int(0.3 / (seconds * calls))))
    result = benchmark.pedantic(run.run, rounds=rounds, iterations=calls, warmup_rounds=1)
    if result is None:                       # looped rounds keep no result
        result = run.run()
    # a benchmark that produced other work would compare nothing
    assert tuple(result.shape) == shape
    assert str(result.dtype) == "float32"
