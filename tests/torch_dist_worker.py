"""The rank side of test_torch_dtensor.py: a process of a gloo group on 127.0.0.1 that fills
DTensors with fastinit.torch (Shard(0), Shard(1), Replicate, uneven shards) and
initializes an FSDP2 model built on meta, gathers the results and, on rank 0, saves them
for the parent test to compare with one process.  Started by torch.multiprocessing
(spawn), which imports this module by name."""
import os

import torch
import torch.distributed as dist
from torch import nn

# (function, global shape, positional arguments); the random ones filled with seed=5
DROP_IN_CASES = [
    ("uniform_", (7, 5), (-1.0, 2.0)),
    ("normal_", (12, 10), (0.5, 2.0)),
    ("trunc_normal_", (9, 4), (0.0, 1.0, -1.5, 0.5)),
    ("xavier_uniform_", (11, 6, 3), ()),
    ("xavier_normal_", (5, 7), ()),
    ("kaiming_uniform_", (10, 3), ()),
    ("kaiming_normal_", (6, 13), (0.1, "fan_out")),
    ("orthogonal_", (8, 5), (1.5,)),
    ("sparse_", (10, 7), (0.3,)),
    ("eye_", (7, 5), ()),
    ("dirac_", (6, 3, 3), ()),
    ("constant_", (5, 4), (0.5,)),
]
DETERMINISTIC = ("eye_", "dirac_", "constant_")


def seed_keywords(name):
    return {} if name in DETERMINISTIC else {"seed": 5}
PLACEMENTS = ("Shard(0)", "Shard(1)", "Replicate()")
N_LAYERS = 2


def fsdp_model():
    """A small model with every kind of layer init_module knows in a transformer."""
    return nn.Sequential(
        nn.Embedding(37, 16, padding_idx=1),
        nn.TransformerEncoder(nn.TransformerEncoderLayer(16, 2, 24), N_LAYERS,
                              enable_nested_tensor=False),
        nn.LayerNorm(16),
        nn.Linear(16, 37),
    )


def placement(text):
    from torch.distributed.tensor import Replicate, Shard
    return eval(text, {"Shard": Shard, "Replicate": Replicate})


def run(rank, world_size, port, out_dir):
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank,
                            world_size=world_size)
    try:
        results = _run_cases(world_size)
        if rank == 0:
            torch.save(results, os.path.join(out_dir, "results.pt"))
        dist.barrier()
    finally:
        dist.destroy_process_group()


def _run_cases(world_size):
    import fastinit.torch as fit
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.tensor import distribute_tensor
    mesh = init_device_mesh("cpu", (world_size,))
    results = {}
    for name, shape, args in DROP_IN_CASES:
        for text in PLACEMENTS:
            dt = distribute_tensor(torch.zeros(shape), mesh, [placement(text)])
            assert getattr(fit, name)(dt, *args, **seed_keywords(name)) is dt
            results[(name, text)] = dt.full_tensor()
    # seed=None: each rank draws the seed from its own default generator, seeded alike
    torch.manual_seed(21)
    dt = distribute_tensor(torch.zeros(9, 4), mesh, [placement("Shard(0)")])
    results[("normal_", "seed=None")] = fit.normal_(dt).full_tensor()
    # half precision shards
    dt = distribute_tensor(torch.zeros(9, 4, dtype=torch.bfloat16), mesh, [placement("Shard(1)")])
    results[("kaiming_uniform_", "bfloat16")] = fit.kaiming_uniform_(dt, seed=5).full_tensor()

    from torch.distributed.fsdp import fully_shard
    with torch.device("meta"):
        model = fsdp_model()
    for layer in model[1].layers:
        fully_shard(layer, mesh=mesh)
    fully_shard(model, mesh=mesh)
    fit.init_module(model, seed=3)
    state = {}
    for key, value in model.state_dict().items():
        value = value.full_tensor() if hasattr(value, "full_tensor") else value
        state[key] = value.detach().clone()
    results["fsdp"] = state
    results["fsdp_sharded"] = all(hasattr(p, "placements") for p in model.parameters())

    # recipe="model": the model's own code (reset_parameters, the Embedding's padding row
    # written through an index), built on meta and on the CPU, then sharded
    for built_on in ("meta", "cpu"):
        with torch.device(built_on):
            model = fsdp_model()
        for layer in model[1].layers:
            fully_shard(layer, mesh=mesh)
        fully_shard(model, mesh=mesh)
        fit.init_module(model, seed=3, recipe="model")
        results[f"fsdp_model_recipe_{built_on}"] = {
            key: (value.full_tensor() if hasattr(value, "full_tensor") else value).detach().clone()
            for key, value in model.state_dict().items()}
    return results
