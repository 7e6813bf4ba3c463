"""fastinit.torch.init_module: each layer's parameters with the distribution of torch 2.13's
own reset_parameters (two-sample KS against torch-built layers at fixed seeds, exact for
constants), values by qualified name, overrides and rules, unknown modules, the meta
device."""
import collections
import hashlib
import math
import subprocess
import sys
import textwrap

import numpy as np
import pytest

torch = pytest.importorskip("torch")
stats = pytest.importorskip("scipy.stats")

from torch import nn  # noqa: E402

import fastinit  # noqa: E402
import fastinit.torch as fit  # noqa: E402
from fastinit._torch_modules import gpt_rules  # noqa: E402

KS_P_MIN = 1e-3
KS_MIN_SIZE = 400      # smaller tensors are pooled over several builds


def lazy_linear():
    m = nn.LazyLinear(40)
    m(torch.zeros(2, 70))                    # materializes (and torch initializes) it
    return m


LAYERS = {
    "Linear": lambda: nn.Linear(300, 200),
    "Linear no bias": lambda: nn.Linear(50, 60, bias=False),
    "Bilinear": lambda: nn.Bilinear(20, 30, 40),
    "LazyLinear": lazy_linear,
    "Conv1d": lambda: nn.Conv1d(16, 32, 5),
    "Conv2d groups": lambda: nn.Conv2d(16, 32, 3, groups=2),
    "Conv3d": lambda: nn.Conv3d(4, 8, 3),
    "ConvTranspose1d": lambda: nn.ConvTranspose1d(16, 32, 5),
    "ConvTranspose2d": lambda: nn.ConvTranspose2d(16, 24, 3, groups=4),
    "ConvTranspose3d": lambda: nn.ConvTranspose3d(4, 8, 3),
    "Embedding padding": lambda: nn.Embedding(500, 64, padding_idx=3),
    "Embedding negative padding": lambda: nn.Embedding(500, 16, padding_idx=-1),
    "EmbeddingBag": lambda: nn.EmbeddingBag(500, 64, padding_idx=0),
    "LayerNorm": lambda: nn.LayerNorm(64),
    "RMSNorm": lambda: nn.RMSNorm(64),
    "GroupNorm": lambda: nn.GroupNorm(4, 64),
    "BatchNorm1d": lambda: nn.BatchNorm1d(64),
    "BatchNorm2d": lambda: nn.BatchNorm2d(32),
    "InstanceNorm2d": lambda: nn.InstanceNorm2d(32, affine=True, track_running_stats=True),
    "MultiheadAttention": lambda: nn.MultiheadAttention(64, 4, add_bias_kv=True),
    "MultiheadAttention kdim": lambda: nn.MultiheadAttention(64, 4, kdim=32, vdim=48),
    "RNN": lambda: nn.RNN(32, 64, 2),
    "LSTM proj": lambda: nn.LSTM(32, 64, proj_size=16),
    "GRU bidirectional": lambda: nn.GRU(32, 64, bidirectional=True),
    "RNNCell": lambda: nn.RNNCell(32, 64),
    "LSTMCell": lambda: nn.LSTMCell(32, 64),
    "GRUCell": lambda: nn.GRUCell(32, 64),
    "PReLU": lambda: nn.PReLU(8, init=0.1),
    "TransformerEncoderLayer": lambda: nn.TransformerEncoderLayer(64, 4, 128),
    "TransformerDecoderLayer": lambda: nn.TransformerDecoderLayer(64, 4, 128),
    "Transformer": lambda: nn.Transformer(32, 4, 1, 1, 64, batch_first=True),
}


def torch_and_ours(make, seed=0):
    torch.manual_seed(1234)
    theirs = make()
    ours = make()
    fit.init_module(ours, seed=seed)
    return theirs, ours


def pooled(make, repeats):
    """{name: values of that tensor over `repeats` builds}: torch's (torch.manual_seed(r))
    and ours (init_module(seed=r)), so that small tensors give KS enough samples too."""
    theirs, ours = collections.defaultdict(list), collections.defaultdict(list)
    for r in range(repeats):
        torch.manual_seed(1000 + r)
        for name, t in make().state_dict().items():
            theirs[name].append(t.reshape(-1).double())
        model = make()
        fit.init_module(model, seed=r)
        for name, t in model.state_dict().items():
            ours[name].append(t.reshape(-1).double())
    return ({k: torch.cat(v) for k, v in theirs.items()}, {k: torch.cat(v) for k, v in ours.items()})


@pytest.mark.parametrize("layer", list(LAYERS))
def test_layer_has_torchs_reset_parameters_distribution(layer):
    smallest = min(t.numel() for t in LAYERS[layer]().state_dict().values())
    theirs, ours = pooled(LAYERS[layer], min(max(1, math.ceil(KS_MIN_SIZE / smallest)), 40))
    assert theirs.keys() == ours.keys()
    for name in theirs:
        if torch.all(theirs[name] == theirs[name][0]):     # a constant: ones, zeros, PReLU's init
            assert torch.equal(ours[name], theirs[name]), name
        else:
            p = stats.ks_2samp(ours[name].numpy(), theirs[name].numpy()).pvalue
            assert p > KS_P_MIN, (name, p)


@pytest.mark.parametrize("layer", ["Embedding padding", "Embedding negative padding", "EmbeddingBag"])
def test_padding_row_is_zero(layer):
    _, ours = torch_and_ours(LAYERS[layer])
    row = ours.padding_idx
    assert (ours.weight[row] == 0).all()
    others = torch.cat([ours.weight[:row % ours.weight.shape[0]],
                        ours.weight[row % ours.weight.shape[0] + 1:]])
    assert (others != 0).all()


def test_running_statistics_are_reset():
    bn = nn.BatchNorm1d(8)
    bn(torch.randn(16, 8) * 3 + 2)           # moves the running statistics
    fit.init_module(bn, seed=0)
    assert torch.equal(bn.running_mean, torch.zeros(8))
    assert torch.equal(bn.running_var, torch.ones(8))
    assert bn.num_batches_tracked.item() == 0


def test_no_parameter_keeps_its_old_values():
    model = nn.Sequential(nn.Linear(10, 20), nn.LayerNorm(20), nn.Embedding(30, 20))
    for p in model.parameters():
        p.data.fill_(float("nan"))
    fit.init_module(model, seed=0)
    assert all(torch.isfinite(p).all() for p in model.parameters())


# ---------------------------------------------------------------- by name

def documented_parameter_seed(seed, name):
    words = tuple(int.from_bytes(hashlib.sha256(name.encode()).digest()[4 * i:4 * i + 4], "little")
                  for i in range(8))
    return np.random.SeedSequence(entropy=seed, spawn_key=words)


def test_parameter_seed_is_the_documented_derivation():
    for name in ("weight", "layers.0.self_attn.in_proj_weight", "é.ünïcode"):
        ours = fit.parameter_seed(7, name)
        expected = documented_parameter_seed(7, name)
        assert np.array_equal(ours.generate_state(4), expected.generate_state(4))


@pytest.mark.parametrize("seed, error, match", [
    (-1, ValueError, "seed must be non-negative, got -1"),
    ("7", TypeError, "seed must be a non-negative int, got str"),
    (True, TypeError, "seed must be a non-negative int, got True"),
    (np.random.SeedSequence(7), TypeError, "seed must be a non-negative int, got SeedSequence"),
])
def test_parameter_seed_takes_init_modules_seeds_only(seed, error, match):
    with pytest.raises(error, match=match):
        fit.parameter_seed(seed, "weight")


def test_values_are_the_drop_in_with_the_parameters_seed():
    model = nn.Sequential(collections.OrderedDict(
        fc=nn.Linear(30, 20), emb=nn.Embedding(40, 20, padding_idx=2)))
    fit.init_module(model, seed=5)
    w = fit.kaiming_uniform_(torch.empty(20, 30), a=math.sqrt(5), seed=documented_parameter_seed(5, "fc.weight"))
    assert torch.equal(model.fc.weight, w)
    b = fit.uniform_(torch.empty(20), -1 / math.sqrt(30), 1 / math.sqrt(30),
                     seed=documented_parameter_seed(5, "fc.bias"))
    assert torch.equal(model.fc.bias, b)
    e = fit.normal_(torch.empty(40, 20), seed=documented_parameter_seed(5, "emb.weight"))
    e[2] = 0
    assert torch.equal(model.emb.weight, e)


def test_values_depend_on_the_name_not_on_order_or_other_layers():
    def block():
        return nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 16))

    torch.manual_seed(0)
    small = nn.Sequential(collections.OrderedDict(enc=block(), head=nn.Linear(16, 4)))
    torch.manual_seed(1)
    head = nn.Linear(16, 4)                  # built first, and an extra layer besides
    big = nn.Sequential(collections.OrderedDict(extra=nn.Linear(8, 8), enc=block(), head=head))
    fit.init_module(small, seed=3)
    fit.init_module(big, seed=3)
    big_params = dict(big.named_parameters())
    for name, p in small.named_parameters():
        assert torch.equal(p, big_params[name]), name
    fit.init_module(big, seed=4)
    assert not torch.equal(big.head.weight, small.head.weight)


def test_seed_none_follows_torch_manual_seed():
    a, b = nn.Linear(20, 10), nn.Linear(20, 10)
    torch.manual_seed(3)
    fit.init_module(a)
    torch.manual_seed(3)
    fit.init_module(b)
    assert torch.equal(a.weight, b.weight) and torch.equal(a.bias, b.bias)
    torch.manual_seed(3)
    seed = int(torch.randint(0, 2 ** 63 - 1, (1,)).item())
    c = fit.init_module(nn.Linear(20, 10), seed=seed)
    assert torch.equal(a.weight, c.weight)


def test_tied_weights_are_filled_once_under_the_first_name():
    emb = nn.Embedding(50, 16)
    head = nn.Linear(16, 50, bias=False)
    head.weight = emb.weight
    model = nn.Sequential(collections.OrderedDict(emb=emb, head=head))
    fit.init_module(model, seed=2)
    assert model.head.weight is model.emb.weight
    assert torch.equal(model.emb.weight, fit.normal_(torch.empty(50, 16),
                                                     seed=documented_parameter_seed(2, "emb.weight")))


def test_with_a_seed_torchs_generator_is_not_touched():
    model = nn.TransformerEncoderLayer(32, 4, 64)
    state = torch.get_rng_state()
    fit.init_module(model, seed=0)
    assert torch.equal(state, torch.get_rng_state())


# ---------------------------------------------------------------- overrides

def test_weights_and_biases_override_every_layer():
    model = nn.Sequential(collections.OrderedDict(
        fc=nn.Linear(30, 20), conv=nn.Conv2d(3, 8, 3), norm=nn.LayerNorm(20)))
    fit.init_module(model, seed=1, weights="he_normal", biases="zeros")
    assert torch.equal(model.fc.weight, fit.kaiming_normal_(
        torch.empty(20, 30), nonlinearity="relu", seed=documented_parameter_seed(1, "fc.weight")))
    assert torch.equal(model.conv.weight, fit.kaiming_normal_(
        torch.empty(8, 3, 3, 3), nonlinearity="relu", seed=documented_parameter_seed(1, "conv.weight")))
    assert (model.fc.bias == 0).all() and (model.conv.bias == 0).all()
    assert (model.norm.weight == 1).all()    # 1-d: not a weight matrix, keeps its layer's rule


def test_rules_by_pattern_and_type_last_wins():
    model = nn.Sequential(collections.OrderedDict(a=nn.Linear(10, 10), b=nn.Linear(10, 10),
                                                  n=nn.LayerNorm(10)))
    fit.init_module(model, seed=1, rules=[
        (nn.Linear, ("constant", {"val": 3.0})),
        ("b.*", ("constant", {"val": 4.0})),
        fit.Rule(("constant", {"val": 5.0}), names="*bias", modules=nn.Linear),
    ])
    assert (model.a.weight == 3).all() and (model.b.weight == 4).all()
    assert (model.a.bias == 5).all() and (model.b.bias == 5).all()
    assert (model.n.weight == 1).all() and (model.n.bias == 0).all()


def test_callable_init_gets_the_parameters_stream():
    model = nn.Linear(12, 8)
    fit.init_module(model, seed=9, rules=[("weight", lambda t, *, seed: fit.orthogonal_(t, seed=seed))])
    expected = fit.orthogonal_(torch.empty(8, 12), seed=fastinit.Generator(documented_parameter_seed(9, "weight")))
    assert torch.equal(model.weight, expected)


def test_gpt_recipe():
    n_layers = 3
    model = nn.TransformerEncoder(nn.TransformerEncoderLayer(64, 4, 256), n_layers,
                                  enable_nested_tensor=False)
    fit.init_module(model, seed=0, rules=fit.gpt_rules(n_layers))
    small = 0.02 / math.sqrt(2 * n_layers)
    for name, p in model.named_parameters():
        seed = documented_parameter_seed(0, name)
        if name.endswith(("out_proj.weight", "linear2.weight")):
            expected = fit.normal_(torch.empty_like(p), 0, small, seed=seed)
        elif name.endswith(("in_proj_weight", "linear1.weight")):
            expected = fit.normal_(torch.empty_like(p), 0, 0.02, seed=seed)
        elif "bias" in name:
            expected = torch.zeros_like(p)
        else:
            assert "norm" in name
            expected = torch.ones_like(p)
        assert torch.equal(p, expected), name


def test_gpt_rules_scale_only_gpt2s_residual_projections():
    """Llama's o_proj and down_proj are plain normal(0, std) (transformers' Llama does not
    scale them); an embedding is normal(0, std), an RMSNorm weight one."""
    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.o_proj = nn.Linear(16, 16, bias=False)
            self.down_proj = nn.Linear(32, 16, bias=False)
            self.c_proj = nn.Linear(16, 16, bias=False)
            self.norm = nn.RMSNorm(16)

    model = nn.Sequential(collections.OrderedDict(tok=nn.Embedding(100, 16), blk=Block()))
    fit.init_module(model, seed=0, rules=gpt_rules(4, std=0.05))
    assert torch.equal(model.tok.weight, fit.normal_(torch.empty(100, 16), 0, 0.05,
                                                     seed=documented_parameter_seed(0, "tok.weight")))
    for name, shape in (("o_proj", (16, 16)), ("down_proj", (16, 32))):
        assert torch.equal(getattr(model.blk, name).weight, fit.normal_(
            torch.empty(shape), 0, 0.05, seed=documented_parameter_seed(0, f"blk.{name}.weight")))
    assert torch.equal(model.blk.c_proj.weight, fit.normal_(
        torch.empty(16, 16), 0, 0.05 / math.sqrt(8), seed=documented_parameter_seed(0, "blk.c_proj.weight")))
    assert (model.blk.norm.weight == 1).all()


# ---------------------------------------------------------------- unknown modules

class Scale(nn.Module):
    def __init__(self):
        super().__init__()
        self.gamma = nn.Parameter(torch.full((4,), float("nan")))

    def reset_parameters(self):
        nn.init.constant_(self.gamma, 2.0)


def test_unknown_modules_are_listed_in_a_clear_error():
    model = nn.Sequential(collections.OrderedDict(fc=nn.Linear(4, 4), s1=Scale(), s2=Scale()))
    before = model.fc.weight.clone()
    with pytest.raises(TypeError, match=r"s1 \(Scale: gamma\); s2 \(Scale: gamma\)"):
        fit.init_module(model, seed=0)
    assert torch.equal(model.fc.weight, before)          # nothing written


def test_unknown_modules_fall_back_to_their_reset_parameters():
    model = nn.Sequential(collections.OrderedDict(fc=nn.Linear(4, 4), s=Scale()))
    fit.init_module(model, seed=0, unknown="reset_parameters")
    assert (model.s.gamma == 2).all()
    assert torch.equal(model.fc.weight, fit.kaiming_uniform_(
        torch.empty(4, 4), a=math.sqrt(5), seed=documented_parameter_seed(0, "fc.weight")))


def test_a_rule_covers_an_unknown_module():
    model = nn.Sequential(collections.OrderedDict(s=Scale()))
    fit.init_module(model, seed=0, rules=[(Scale, "ones")])
    assert (model.s.gamma == 1).all()


def test_a_subclass_with_an_extra_parameter_is_unknown():
    class ScaledLinear(nn.Linear):
        def __init__(self):
            super().__init__(4, 4)
            self.scale = nn.Parameter(torch.ones(4))

    with pytest.raises(TypeError, match="ScaledLinear: scale"):
        fit.init_module(ScaledLinear(), seed=0)


def test_unmaterialized_lazy_module_is_a_clear_error():
    with pytest.raises(ValueError, match="not materialized"):
        fit.init_module(nn.LazyLinear(4), seed=0)


@pytest.mark.parametrize("kwargs,error,match", [
    ({"weights": "he_norml"}, ValueError, "unknown scheme 'he_norml'"),
    ({"weights": ("normal", {"stdd": 1})}, TypeError, "does not take"),
    ({"biases": 3}, TypeError, "biases must be"),
    ({"rules": ["*"]}, TypeError, "rules must hold"),
    ({"rules": [(int, "zeros")]}, TypeError, "nn.Module classes"),
    ({"unknown": "skip"}, ValueError, "unknown must be"),
    ({"rules": [("bias", ("normal", {"std": -1.0}))]}, ValueError, "std"),
    ({"rules": [("bias", ("trunc_normal", {"a": 3.0, "b": 1.0}))]}, ValueError, "a must be less"),
    ({"seed": -1}, ValueError, "seed must be non-negative"),
    ({"seed": "0"}, TypeError, "seed must be None or a non-negative int, got str"),
    ({"seed": True}, TypeError, "seed must be None or a non-negative int, got True"),
    ({"seed": 1, "generator": torch.Generator()}, TypeError, "not both"),
])
def test_bad_arguments_raise_before_writing(kwargs, error, match):
    model = nn.Linear(4, 4)
    before = model.weight.clone()
    with pytest.raises(error, match=match):
        fit.init_module(model, **kwargs)
    assert torch.equal(model.weight, before)


def test_not_a_module_is_a_type_error():
    with pytest.raises(TypeError, match="torch.nn.Module"):
        fit.init_module(torch.empty(3), seed=0)


# ---------------------------------------------------------------- the meta device

def make_transformer():
    return nn.TransformerEncoder(nn.TransformerEncoderLayer(64, 4, 128), 2,
                                 norm=nn.LayerNorm(64), enable_nested_tensor=False)


def test_meta_model_is_materialized_and_equals_the_cpu_built_one():
    with torch.device("meta"):
        meta_model = nn.Sequential(make_transformer(), nn.BatchNorm1d(64), nn.Embedding(10, 64, padding_idx=0))
    cpu_model = nn.Sequential(make_transformer(), nn.BatchNorm1d(64), nn.Embedding(10, 64, padding_idx=0))
    assert fit.init_module(meta_model, seed=4) is meta_model
    fit.init_module(cpu_model, seed=4)
    cpu_state = cpu_model.state_dict()
    for name, t in meta_model.state_dict().items():
        assert t.device.type == "cpu", name
        assert torch.equal(t, cpu_state[name]), name


class WithTable(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)
        self.register_buffer("table", torch.arange(6.0), persistent=False)


def test_buffers_no_layer_resets_are_kept_on_the_cpu():
    model = WithTable()
    fit.init_module(model, seed=0)
    assert torch.equal(model.table, torch.arange(6.0))


def test_meta_model_with_buffers_nothing_would_fill_is_a_clear_error():
    with torch.device("meta"):
        model = WithTable()
    with pytest.raises(TypeError, match="without their values: table; .*recipe='model'.* "
                                        "or build the model on the CPU") as refused:
        fit.init_module(model, seed=0)
    # it suggests nothing that would silently give other values (a zeros rule on a table)
    assert "zeros" not in str(refused.value) and "Rule(" not in str(refused.value)
    assert model.fc.weight.is_meta                       # nothing materialized
    # a name rule is for parameters only: it does not cover the buffer
    with pytest.raises(TypeError, match="without their values: table"):
        fit.init_module(model, seed=0, rules=[("table", ("constant", {"val": 2.0}))])
    assert model.fc.weight.is_meta
    fit.init_module(model, seed=0,
                    rules=[fit.Rule(("constant", {"val": 2.0}), names="table", buffers=True)])
    assert torch.equal(model.table, torch.full((6,), 2.0))


def test_meta_model_peak_memory_is_about_its_size():
    code = textwrap.dedent("""
        import torch
        from torch import nn
        import fastinit.torch as fit

        def status(key):        # bytes of a /proc/self/status line (VmRSS, VmHWM)
            for line in open("/proc/self/status"):
                if line.startswith(key):
                    return int(line.split()[1]) * 1024

        with torch.device("meta"):                      # first-call costs out of the way
            fit.init_module(nn.Linear(4, 4), seed=0)
            model = nn.Sequential(*[nn.Linear(2048, 2048) for _ in range(12)])
        size = sum(p.numel() * p.element_size() for p in model.parameters())
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")                                # peak := current (Linux >= 4.0)
        before = status("VmRSS")
        fit.init_module(model, seed=0)
        print(before, status("VmHWM"), size)
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    before, peak, size = (int(v) for v in result.stdout.split()[-3:])
    assert 0.9 < (peak - before) / size < 1.15, (before, peak, size)    # the model's size, once


def test_arguments_equal_in_value_but_not_in_type_are_each_checked_before_writing():
    # identical blocks share one check of their arguments; gain=1 and gain=True compare
    # equal, but only the first is valid, so the second must still be checked
    model = nn.Sequential(nn.Linear(4, 4), nn.Linear(4, 4))
    before = [p.clone() for p in model.parameters()]
    rules = [("0.weight", ("xavier_uniform", {"gain": 1})),
             ("1.weight", ("xavier_uniform", {"gain": True}))]
    with pytest.raises(TypeError, match="gain"):
        fit.init_module(model, seed=0, rules=rules)
    assert all(torch.equal(p, b) for p, b in zip(model.parameters(), before))


def test_identical_blocks_check_their_arguments_once(monkeypatch):
    checked = []
    fill = fit._fill

    def counting_fill(tensor, *args, **kwargs):
        if tensor.device.type == "meta":             # init_module's checks fill meta tensors
            checked.append(tuple(tensor.shape))
        return fill(tensor, *args, **kwargs)

    monkeypatch.setattr(fit, "_fill", counting_fill)
    fit.init_module(nn.Sequential(*(nn.Linear(8, 8) for _ in range(3))), seed=5)
    assert sorted(checked) == [(8,), (8, 8)]         # a weight and a bias for three blocks


def test_identical_blocks_are_filled_as_if_each_was_checked_alone():
    model = nn.Sequential(*(nn.Linear(8, 8) for _ in range(3)))
    fit.init_module(model, seed=5)
    for i in range(3):
        alone = nn.Linear(8, 8)
        fit.kaiming_uniform_(alone.weight, a=math.sqrt(5), seed=fit.parameter_seed(5, f"{i}.weight"))
        assert torch.equal(model[i].weight, alone.weight)
