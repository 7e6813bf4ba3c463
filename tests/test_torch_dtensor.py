"""DTensors: every rank of a gloo group on 127.0.0.1 fills only its local shard, and the
gathered tensor equals the same call on one full tensor, bit for bit (Shard(0), Shard(1),
Replicate, uneven shards, world sizes 1, 2 and 3); init_module of a model built on meta and
sharded with FSDP2's fully_shard equals the unsharded model's, with either recipe.  The ranks are processes
this test starts (torch.multiprocessing, spawn), stops, and gives up on after a timeout."""
import os
import socket
import sys
import time

import pytest

torch = pytest.importorskip("torch")
if not torch.distributed.is_available():
    pytest.skip("this torch build has no torch.distributed", allow_module_level=True)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))   # spawned ranks import the worker
import torch_dist_worker as worker  # noqa: E402

import fastinit.torch as fit  # noqa: E402

TIMEOUT_SECONDS = 420          # three ranks importing torch on 2 busy cores


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_ranks(world_size, out_dir):
    """Runs worker.run on world_size spawned ranks; their results, or a clean failure."""
    import torch.multiprocessing as mp
    context = mp.start_processes(worker.run, args=(world_size, free_port(), str(out_dir)),
                                 nprocs=world_size, join=False, start_method="spawn")
    deadline = time.monotonic() + TIMEOUT_SECONDS
    try:
        while not context.join(timeout=5):
            if time.monotonic() > deadline:
                pytest.fail(f"the {world_size} ranks did not finish in {TIMEOUT_SECONDS} s")
    finally:
        for process in context.processes:
            if process.is_alive():
                process.kill()
            process.join(timeout=10)
    return torch.load(os.path.join(out_dir, "results.pt"), weights_only=False)


@pytest.fixture(scope="module", params=[1, 2, 3], ids=lambda n: f"world_size={n}")
def rank_results(request, tmp_path_factory):
    return request.param, run_ranks(request.param, tmp_path_factory.mktemp("ranks"))


@pytest.mark.parametrize("placement", worker.PLACEMENTS)
@pytest.mark.parametrize("name,shape,args", worker.DROP_IN_CASES, ids=[c[0] for c in worker.DROP_IN_CASES])
def test_gathered_shards_equal_one_full_call(rank_results, name, shape, args, placement):
    _, results = rank_results
    expected = getattr(fit, name)(torch.zeros(shape), *args, **worker.seed_keywords(name))
    assert torch.equal(results[(name, placement)], expected)


def test_seed_none_uses_each_ranks_default_generator(rank_results):
    _, results = rank_results
    torch.manual_seed(21)
    assert torch.equal(results[("normal_", "seed=None")], fit.normal_(torch.zeros(9, 4)))


def test_half_precision_shards(rank_results):
    _, results = rank_results
    expected = fit.kaiming_uniform_(torch.zeros(9, 4, dtype=torch.bfloat16), seed=5)
    assert torch.equal(results[("kaiming_uniform_", "bfloat16")], expected)


def test_fsdp2_model_built_on_meta_equals_the_unsharded_one(rank_results):
    _, results = rank_results
    assert results["fsdp_sharded"]
    expected = fit.init_module(worker.fsdp_model(), seed=3).state_dict()
    assert results["fsdp"].keys() == expected.keys()
    for key, value in expected.items():
        assert torch.equal(results["fsdp"][key], value), key


@pytest.mark.parametrize("built_on", ["meta", "cpu"])
def test_recipe_model_on_a_sharded_model_equals_one_process(rank_results, built_on):
    # each module's code runs on whole tensors, each rank keeps its shard: an Embedding's
    # padding row (an index into a row-sharded weight) is zero on every world size
    _, results = rank_results
    got = results[f"fsdp_model_recipe_{built_on}"]
    expected = fit.init_module(worker.fsdp_model(), seed=3, recipe="model").state_dict()
    assert got.keys() == expected.keys()
    for key, value in expected.items():
        assert torch.equal(got[key], value), key
    assert torch.count_nonzero(got["0.weight"][1]) == 0
    assert torch.count_nonzero(got["0.weight"]) > 0.9 * got["0.weight"].numel()


def test_partial_placement_is_a_clear_error():
    # no process group needed to build the error: a fake DTensor-like check on placements
    from fastinit import _torch_tensors
    from torch.distributed.tensor import Partial

    class FakeDTensor:
        placements = (Partial(),)

    original = _torch_tensors.is_dtensor
    _torch_tensors.is_dtensor = lambda t: True
    try:
        with pytest.raises(ValueError, match="Partial"):
            _torch_tensors.shard_of(FakeDTensor())
    finally:
        _torch_tensors.is_dtensor = original
