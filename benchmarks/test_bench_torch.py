"""fastinit.torch against torch's own initialization, one table per case:

    pytest benchmarks/test_bench_torch.py --benchmark-only

Cases (fastinit._bench_torch.CASES, which also back the fastinit.torch table of
`python -m fastinit bench`): init_module of an 8-layer nn.TransformerEncoder (d_model 1024,
16 heads, ffn 4096, ~100 M parameters) against every module's reset_parameters; the same
model built on meta and initialized, against torch building it on the CPU; the drop-ins
kaiming_uniform_, normal_, xavier_uniform_, trunc_normal_ on a resident 4096x4096 float32
tensor; a transformers Llama of 134 M parameters (hidden 768, 12 layers, vocab 32000) built
on meta and initialized by init_module(recipe="model"), against transformers' from_config
on the CPU and against its own meta route (to_empty, init_weights()).  Goals (issue 8):
init_module >= 6x, kaiming_uniform_ >= 5x, normal_ >= 4x faster than torch; for the Llama,
>= 3x faster than the CPU build and >= 2x faster than the meta route.  Times are compared,
never asserted.
"""
import pytest

torch = pytest.importorskip("torch")

from fastinit import _bench, _bench_torch  # noqa: E402

SLOW_CASES = ("init_module", "build_and_init_module", "trunc_normal_") + _bench_torch.TRANSFORMERS_CASES


@pytest.fixture(scope="module")
def torch_all_cores():
    with _bench.torch_threads():
        yield


@pytest.mark.parametrize("library", ["torch", "fastinit.torch"])
@pytest.mark.parametrize("torch_case", _bench_torch.CASES)
def test_torch_adapter(benchmark, torch_all_cores, torch_case, library):
    if torch_case in _bench_torch.TRANSFORMERS_CASES:
        pytest.importorskip("transformers")
    description, theirs, ours = _bench_torch.contender_pair(torch_case)
    contender = theirs if library == "torch" else ours
    benchmark.group = description
    benchmark.name = contender.name
    benchmark.extra_info["code"] = contender.code
    rounds = 1 if benchmark.disabled else (3 if torch_case in SLOW_CASES else 10)
    benchmark.pedantic(contender.run, rounds=rounds, iterations=1,
                       warmup_rounds=0 if benchmark.disabled else 1)
