"""fastinit.torch keeps torch's safety rules: autograd's version counter, inference tensors,
tied parameters, buffers, the truncated normal's bounds, the arguments torch accepts, and
clear errors (or torch's own behaviour) for sparse, negated and fake tensors."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

import fastinit  # noqa: E402
import fastinit.torch as fit  # noqa: E402
from torch import nn  # noqa: E402

RANDOM_FILLS = {
    "uniform_": lambda t, **kw: fit.uniform_(t, -1.0, 1.0, **kw),
    "normal_": lambda t, **kw: fit.normal_(t, **kw),
    "trunc_normal_": lambda t, **kw: fit.trunc_normal_(t, **kw),
    "xavier_uniform_": lambda t, **kw: fit.xavier_uniform_(t, **kw),
    "xavier_normal_": lambda t, **kw: fit.xavier_normal_(t, **kw),
    "kaiming_uniform_": lambda t, **kw: fit.kaiming_uniform_(t, **kw),
    "kaiming_normal_": lambda t, **kw: fit.kaiming_normal_(t, **kw),
    "orthogonal_": lambda t, **kw: fit.orthogonal_(t, **kw),
    "sparse_": lambda t, **kw: fit.sparse_(t, 0.5, **kw),
}


# ---------------------------------------------------------------- autograd

@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16])
@pytest.mark.parametrize("name", sorted(RANDOM_FILLS))
def test_a_fill_after_the_forward_pass_makes_backward_raise_as_torch(name, dtype):
    w = torch.randn(6, 4, dtype=dtype, requires_grad=True)
    loss = (w * w).sum()
    RANDOM_FILLS[name](w, seed=0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()


@pytest.mark.parametrize("name", sorted(RANDOM_FILLS))
def test_every_fill_moves_the_version_counter(name):
    for t in (torch.empty(6, 4), torch.empty(4, 6).t()):       # through memory, through copy_
        before = t._version
        RANDOM_FILLS[name](t, seed=0)
        assert t._version > before


def test_init_module_moves_the_version_counter_of_every_parameter():
    model = nn.Sequential(nn.Linear(4, 3), nn.Tanh(), nn.Linear(3, 2))
    loss = model(torch.randn(2, 4)).sum()
    fit.init_module(model, seed=0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()


def test_inference_tensors_are_written_only_inside_inference_mode():
    with torch.inference_mode():
        t = torch.empty(5, 5)
    for name in sorted(RANDOM_FILLS):
        with pytest.raises(RuntimeError, match="Inplace update to inference tensor outside InferenceMode"):
            RANDOM_FILLS[name](t, seed=0)
    with torch.inference_mode():
        fit.normal_(t, seed=3)
    assert torch.equal(t, torch.from_numpy(fastinit.normal((5, 5), seed=3)))


# ---------------------------------------------------------------- ties and buffers

class TiedLM(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(50, 8)
        self.mid = nn.Linear(8, 8)
        self.norm = nn.LayerNorm(8)
        self.head = nn.Linear(8, 50, bias=False)
        self.head.weight = self.emb.weight


def test_meta_built_model_keeps_its_ties_and_equals_the_cpu_built_one():
    cpu = TiedLM()
    fit.init_module(cpu, seed=7)
    with torch.device("meta"):
        meta = TiedLM()
    fit.init_module(meta, seed=7)
    assert meta.head.weight is meta.emb.weight
    assert len(list(meta.parameters())) == len(list(cpu.parameters())) == 5
    for (name, a), (_, b) in zip(cpu.state_dict().items(), meta.state_dict().items()):
        assert a.dtype == b.dtype and torch.equal(a, b), name
    # filled once, under the first name: the embedding's init (normal), not the head's
    expected = fastinit.normal((50, 8), seed=fit.parameter_seed(7, "emb.weight"))
    assert torch.equal(meta.emb.weight, torch.from_numpy(expected))


class WithMask(nn.Module):
    """GPT-Neo's layout: a boolean causal mask registered as a buffer called `bias`."""

    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(4, 4)
        self.register_buffer("bias", torch.tril(torch.ones(4, 4, dtype=torch.bool)))
        self.register_buffer("scale", torch.full((4,), 3.0))


def test_rules_never_write_a_boolean_buffer_named_bias():
    model = WithMask()
    fit.init_module(model, seed=0, rules=fit.gpt_rules(2))
    assert torch.equal(model.bias, torch.tril(torch.ones(4, 4, dtype=torch.bool)))
    assert torch.equal(model.proj.bias, torch.zeros(4))         # the parameter still is
    # even a rule that asks for buffers skips a non-float one
    fit.init_module(model, seed=0, rules=[fit.Rule("zeros", names="*", buffers=True)])
    assert torch.equal(model.bias, torch.tril(torch.ones(4, 4, dtype=torch.bool)))
    assert torch.equal(model.scale, torch.zeros(4))


def test_name_rules_reach_buffers_only_when_they_say_so():
    model = WithMask()
    fit.init_module(model, seed=0, rules=[("*scale", "ones"), ("*", ("normal", {"std": 0.5}))])
    assert torch.equal(model.scale, torch.full((4,), 3.0))
    fit.init_module(model, seed=0, rules=[fit.Rule("ones", names="*scale", buffers=True)])
    assert torch.equal(model.scale, torch.ones(4))
    with pytest.raises(TypeError, match="buffers must be True or False"):
        fit.Rule("ones", names="*", buffers="yes")


# ---------------------------------------------------------------- truncated normal bounds

@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16])
def test_trunc_normal_values_stay_in_torchs_absolute_bounds(dtype):
    rng = np.random.default_rng(23)
    outside = []
    for _ in range(400):
        mean = float(rng.choice([-1, 1]) * 10.0 ** rng.uniform(-2, 1.5))
        std = float(10.0 ** rng.uniform(-3, 0))
        a = mean + std * float(rng.uniform(-4, 5))
        b = a + std * float(10.0 ** rng.uniform(-1, 0.7))
        t = torch.empty(3000, dtype=dtype)
        try:
            fit.trunc_normal_(t, mean=mean, std=std, a=a, b=b, seed=1)
        except ValueError as e:            # no value of the dtype inside [a, b]
            assert "no" in str(e) and dtype != torch.float64, (mean, std, a, b)
            continue
        # as torch compares a tensor with Python bounds, and in double
        if not (bool((t >= a).all()) and bool((t <= b).all())
                and bool((t.double() >= a).all()) and bool((t.double() <= b).all())):
            outside.append((mean, std, a, b))
    assert outside == []


def test_trunc_normal_reported_case():
    t = torch.empty(10 ** 6)
    fit.trunc_normal_(t, mean=-7.3, std=0.02, a=-7.2, b=-7.1, seed=0)
    assert bool((t.double() >= -7.2).all()) and bool((t.double() <= -7.1).all())


# ---------------------------------------------------------------- what torch accepts

@pytest.mark.parametrize("call, plain", [
    (lambda t: fit.xavier_uniform_(t, gain=torch.tensor(2.0), seed=0),
     lambda t: fit.xavier_uniform_(t, gain=2.0, seed=0)),
    (lambda t: fit.normal_(t, mean=torch.tensor(1.0), std=torch.tensor(0.5), seed=0),
     lambda t: fit.normal_(t, mean=1.0, std=0.5, seed=0)),
    (lambda t: fit.uniform_(t, torch.tensor(-1.0), torch.tensor([2.0]), seed=0),
     lambda t: fit.uniform_(t, -1.0, 2.0, seed=0)),
    (lambda t: fit.trunc_normal_(t, mean=torch.tensor(0.1), std=torch.tensor(2.0),
                                 a=np.float32(-1.0), b=np.float64(3.0), seed=0),
     lambda t: fit.trunc_normal_(t, mean=torch.tensor(0.1).item(), std=2.0, a=-1.0, b=3.0, seed=0)),
    (lambda t: fit.kaiming_normal_(t, a=torch.tensor(0.2), seed=0),
     lambda t: fit.kaiming_normal_(t, a=torch.tensor(0.2).item(), seed=0)),
    (lambda t: fit.orthogonal_(t, gain=torch.tensor(3.0), seed=0),
     lambda t: fit.orthogonal_(t, gain=3.0, seed=0)),
    (lambda t: fit.sparse_(t, torch.tensor(0.25), std=np.float32(0.5), seed=0),
     lambda t: fit.sparse_(t, 0.25, std=float(np.float32(0.5)), seed=0)),
])
def test_one_element_tensors_and_numpy_scalars_are_their_values(call, plain):
    a, b = torch.empty(8, 6), torch.empty(8, 6)
    call(a)
    plain(b)
    assert torch.equal(a, b)


def test_tensor_arguments_with_more_than_one_element_are_refused():
    with pytest.raises(TypeError, match="gain must be a number or a one-element tensor"):
        fit.xavier_uniform_(torch.empty(3, 3), gain=torch.ones(2))


def test_kaiming_a_none_is_torchs_default_slope():
    t, ref = torch.empty(300, 200), torch.empty(300, 200)
    fit.kaiming_uniform_(t, a=None, seed=0)
    fit.kaiming_uniform_(ref, a=0.01, seed=0)
    assert torch.equal(t, ref)
    gain = torch.nn.init.calculate_gain("leaky_relu", None)
    bound = gain * (3.0 / 200) ** 0.5
    assert float(t.abs().max()) <= bound and float(t.abs().max()) > 0.99 * bound


# ---------------------------------------------------------------- other tensor kinds

def test_sparse_tensors_get_a_clear_error():
    with pytest.raises(TypeError, match="layout torch.sparse_coo; fastinit.torch fills dense"):
        fit.normal_(torch.randn(3, 3).to_sparse(), seed=0)


def test_negated_views_show_the_drawn_values_as_torch():
    x = torch.zeros(5, 7)._neg_view()
    fit.xavier_normal_(x, seed=4)
    assert x.is_neg()
    assert torch.equal(x.resolve_neg(), torch.from_numpy(fastinit.xavier_normal((5, 7), layout="torch", seed=4)))


def test_fake_tensors_are_left_alone_as_torch_does():
    from torch._subclasses.fake_tensor import FakeTensorMode
    with FakeTensorMode():
        t = torch.empty(6, 4)
        for name in sorted(RANDOM_FILLS):
            assert RANDOM_FILLS[name](t, seed=0) is t
        with pytest.raises(ValueError, match="sparsity must be in"):
            fit.sparse_(t, 2.0)                       # the arguments are still checked
