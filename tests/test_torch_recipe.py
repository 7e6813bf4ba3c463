"""init_module(..., recipe="model"): the model's own initialization code with fastinit's
draws, against transformers itself (tiny configs of GPT-2, Llama tied and untied, BERT for
masked LM, T5, ViT) and against custom modules."""
import math

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
scipy_stats = pytest.importorskip("scipy.stats")

from torch import nn  # noqa: E402

import fastinit  # noqa: E402
import fastinit.torch as fit  # noqa: E402
from fastinit import _torch_recipe, _torch_tensors  # noqa: E402


def stream(seed, name):
    return fastinit.Generator(fit.parameter_seed(seed, name))


# ---------------------------------------------------------------- transformers families

def gpt2():
    return transformers.GPT2LMHeadModel, transformers.GPT2Config(
        n_embd=32, n_layer=2, n_head=2, vocab_size=100, n_positions=64)


def llama(tied):
    def make():
        return transformers.LlamaForCausalLM, transformers.LlamaConfig(
            hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
            num_key_value_heads=2, vocab_size=100, max_position_embeddings=64,
            tie_word_embeddings=tied)
    return make


def bert():
    return transformers.BertForMaskedLM, transformers.BertConfig(
        hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
        vocab_size=100, max_position_embeddings=64)


def t5():
    return transformers.T5ForConditionalGeneration, transformers.T5Config(
        d_model=32, d_ff=64, d_kv=8, num_heads=4, num_layers=2, vocab_size=100,
        decoder_start_token_id=0, pad_token_id=0)


def vit():
    return transformers.ViTForImageClassification, transformers.ViTConfig(
        hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
        image_size=16, patch_size=4, num_labels=3)


FAMILIES = {"gpt2": gpt2, "llama_tied": llama(True), "llama_untied": llama(False),
            "bert_mlm": bert, "t5": t5, "vit": vit}


def loss_of(family, model):
    gen = torch.Generator().manual_seed(0)
    if family == "vit":
        pixels = torch.randn(2, 3, 16, 16, generator=gen)
        return model(pixel_values=pixels, labels=torch.tensor([0, 2])).loss
    ids = torch.randint(1, 100, (2, 8), generator=gen)
    if family == "t5":
        return model(input_ids=ids, labels=torch.randint(1, 100, (2, 5), generator=gen)).loss
    return model(input_ids=ids, labels=ids).loss


def tie_groups(model):
    """{frozenset of names sharing one tensor} for every tensor held under several names."""
    groups = {}
    for name, p in model.named_parameters(remove_duplicate=False):
        groups.setdefault(id(p), set()).add(name)
    return {frozenset(g) for g in groups.values() if len(g) > 1}


@pytest.fixture(scope="module")
def built():
    """{family: (HF's own CPU build, ours built on meta, ours built on the CPU)}."""
    result = {}
    for family, make in FAMILIES.items():
        cls, config = make()
        torch.manual_seed(0)
        theirs = cls(config).eval()
        with torch.device("meta"):
            on_meta = cls(config)
        fit.init_module(on_meta, seed=0, recipe="model")
        torch.manual_seed(12345)              # the CPU build's own draws must not matter
        on_cpu = cls(config)
        fit.init_module(on_cpu, seed=0, recipe="model")
        result[family] = theirs, on_meta.eval(), on_cpu.eval()
    return result


@pytest.mark.parametrize("family", FAMILIES)
def test_nothing_is_left_on_meta_or_non_finite(built, family):
    for model in built[family][1:]:
        for name, t in list(model.named_parameters()) + list(model.named_buffers()):
            assert not t.is_meta, name
            if t.is_floating_point():
                assert torch.isfinite(t).all(), name


@pytest.mark.parametrize("family", FAMILIES)
def test_meta_and_cpu_builds_are_bit_identical(built, family):
    _, on_meta, on_cpu = built[family]
    a, b = on_meta.state_dict(), on_cpu.state_dict()
    assert a.keys() == b.keys()
    for key in a:
        assert a[key].dtype == b[key].dtype and torch.equal(a[key], b[key]), key
    for (name, x), (_, y) in zip(on_meta.named_buffers(), on_cpu.named_buffers()):
        assert torch.equal(x, y), name               # non-persistent buffers too


@pytest.mark.parametrize("family", FAMILIES)
def test_buffers_equal_transformers_own(built, family):
    theirs, on_meta, on_cpu = built[family]
    expected = dict(theirs.named_buffers())
    for model in (on_meta, on_cpu):
        mine = dict(model.named_buffers())
        assert mine.keys() == expected.keys()
        for name, b in expected.items():
            assert mine[name].dtype == b.dtype and torch.equal(mine[name], b), name


@pytest.mark.parametrize("family", FAMILIES)
def test_ties_are_kept(built, family):
    theirs, on_meta, on_cpu = built[family]
    expected = tie_groups(theirs)
    assert tie_groups(on_meta) == expected and tie_groups(on_cpu) == expected
    if family in ("llama_tied", "gpt2", "bert_mlm", "t5"):
        assert expected                               # these configs tie their embeddings
    if family == "llama_untied":
        assert not expected


def constant_and_random(model):
    """([(name, tensor)] whose elements all equal, [(name, tensor)] of the others)."""
    constant, random = [], []
    for name, p in model.named_parameters():
        (constant if torch.all(p == p.reshape(-1)[0]) else random).append((name, p))
    return constant, random


@pytest.mark.parametrize("family", FAMILIES)
def test_constant_parameters_equal_transformers_own(built, family):
    theirs, on_meta, _ = built[family]
    constant, random = constant_and_random(theirs)
    assert constant and random
    mine = dict(on_meta.named_parameters())
    for name, p in constant:
        assert torch.equal(mine[name], p), name
    # rows that transformers' code zeroes inside a random tensor (an embedding's padding row)
    for name, p in random:
        if p.dim() == 2:
            assert torch.equal((mine[name] == 0).all(dim=1), (p == 0).all(dim=1)), name


# Every KS test of the matrix below is a null hypothesis that holds: one fails by chance with
# probability 1e-4, so all of them pass with probability >= 1 - 1e-4 * (their number, < 200)
# = 0.98; they are fixed by the seeds, and a wrong std or distribution fails them by far.
KS_P_MIN = 1e-4


@pytest.mark.parametrize("family", FAMILIES)
def test_random_parameters_are_ks_consistent_with_transformers_own(built, family):
    theirs, on_meta, _ = built[family]
    _, random = constant_and_random(theirs)
    mine = dict(on_meta.named_parameters())
    for name, p in random:
        ours = mine[name].detach().reshape(-1).double().numpy()
        ref = p.detach().reshape(-1).double().numpy()
        nonzero = ref != 0                            # without zeroed rows (padding)
        p_value = scipy_stats.ks_2samp(ours[ours != 0], ref[nonzero]).pvalue
        assert p_value > KS_P_MIN, (name, p_value, ours.std(), ref.std())


def test_ks_check_catches_a_wrong_std(built):
    """The matrix's check is not vacuous: GPT-2's c_proj (std 0.02 / sqrt(2 n_layer))
    against a plain std 0.02 draw of the same size fails it."""
    theirs, _, _ = built["gpt2"]
    ref = theirs.transformer.h[0].attn.c_proj.weight.detach().reshape(-1).double().numpy()
    wrong = fit.normal_(torch.empty(ref.size, dtype=torch.float64), 0, 0.02, seed=0).numpy()
    assert scipy_stats.ks_2samp(wrong, ref).pvalue < KS_P_MIN


@pytest.mark.parametrize("family", FAMILIES)
def test_forward_pass_gives_a_finite_loss(built, family):
    for model in built[family][1:]:
        with torch.no_grad():
            loss = loss_of(family, model)
        assert torch.isfinite(loss), family


def test_gpt2_values_are_fastinits_streams_with_transformers_recipe(built):
    """GPT-2's documented recipe (modeling_gpt2: normal(0, initializer_range) for Conv1D,
    Linear and Embedding weights, the residual projections c_proj normal(0,
    initializer_range / sqrt(2 n_layer))), each drawn from its name's stream."""
    _, on_meta, _ = built["gpt2"]
    config = on_meta.config
    for name, p in on_meta.named_parameters():
        if name.endswith("c_proj.weight"):
            std = config.initializer_range / math.sqrt(2 * config.n_layer)
        elif name.endswith("weight") and ".ln_" not in name and "ln_f" not in name:
            std = config.initializer_range
        else:
            continue
        expected = fit.normal_(torch.empty_like(p), 0.0, std, seed=stream(0, name))
        assert torch.equal(p, expected), name


def test_another_seed_gives_other_values_and_the_same_seed_the_same():
    cls, config = llama(False)()
    with torch.device("meta"):
        a, b, c = cls(config), cls(config), cls(config)
    fit.init_module(a, seed=1, recipe="model")
    fit.init_module(b, seed=1, recipe="model")
    fit.init_module(c, seed=2, recipe="model")
    w = "model.layers.0.mlp.up_proj.weight"
    assert torch.equal(a.get_parameter(w), b.get_parameter(w))
    assert not torch.equal(a.get_parameter(w), c.get_parameter(w))


def test_rules_apply_on_top_last_one_winning():
    cls, config = llama(False)()
    with torch.device("meta"):
        plain, ruled = cls(config), cls(config)
    fit.init_module(plain, seed=0, recipe="model")
    fit.init_module(ruled, seed=0, recipe="model", rules=[
        ("*.o_proj.weight", "ones"), ("*.layers.1.self_attn.o_proj.weight", "zeros")])
    assert (ruled.model.layers[0].self_attn.o_proj.weight == 1).all()
    assert (ruled.model.layers[1].self_attn.o_proj.weight == 0).all()
    for name, p in plain.named_parameters():
        if "o_proj" not in name:
            assert torch.equal(ruled.get_parameter(name), p), name


# ---------------------------------------------------------------- custom modules

class TruncAndNormal(nn.Module):
    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.empty(40, 30))
        self.b = nn.Parameter(torch.empty(30))
        self.reset_parameters()

    def reset_parameters(self):
        nn.init.trunc_normal_(self.w, std=0.1, a=-0.15, b=0.2)
        with torch.no_grad():
            self.b.normal_(0.5, 2.0)


@pytest.mark.parametrize("torch_seed", [0, 7])
def test_custom_reset_parameters_gets_fastinits_values_whatever_torchs_seed(torch_seed):
    torch.manual_seed(torch_seed)
    model = nn.Sequential(nn.Linear(3, 40), TruncAndNormal())
    fit.init_module(model, seed=5, recipe="model")
    w = fit.trunc_normal_(torch.empty(40, 30), std=0.1, a=-0.15, b=0.2, seed=stream(5, "1.w"))
    b = fit.normal_(torch.empty(30), 0.5, 2.0, seed=stream(5, "1.b"))
    assert torch.equal(model[1].w, w) and torch.equal(model[1].b, b)
    # torch's own layers: their reset_parameters, drawn the same way
    lin = fit.kaiming_uniform_(torch.empty(40, 3), a=math.sqrt(5), seed=stream(5, "0.weight"))
    assert torch.equal(model[0].weight, lin)
    # torch.nn.init's functions are torch's own again afterwards
    torch.manual_seed(3)
    x = nn.init.trunc_normal_(torch.empty(50))
    torch.manual_seed(3)
    assert torch.equal(x, nn.init.trunc_normal_(torch.empty(50)))
    assert nn.init.trunc_normal_.__code__ is _torch_recipe._trampolines[nn.init.trunc_normal_][0]


def test_values_do_not_depend_on_module_order():
    first = nn.ModuleDict({"a": TruncAndNormal(), "b": nn.Linear(4, 5)})
    second = nn.ModuleDict({"b": nn.Linear(4, 5), "a": TruncAndNormal()})
    fit.init_module(first, seed=2, recipe="model")
    fit.init_module(second, seed=2, recipe="model")
    assert all(torch.equal(p, second.get_parameter(n)) for n, p in first.named_parameters())


def test_torch_layers_match_their_own_distributions_and_multihead_attention():
    """MultiheadAttention's _reset_parameters (xavier_uniform_ in-projection, zero biases,
    out_proj's bias zeroed after Linear's) and a Linear's kaiming_uniform_, by name."""
    model = nn.TransformerEncoderLayer(16, 4, 32, batch_first=True)
    fit.init_module(model, seed=0, recipe="model")
    attention = model.self_attn
    assert torch.equal(attention.in_proj_weight, fit.xavier_uniform_(
        torch.empty(48, 16), seed=stream(0, "self_attn.in_proj_weight")))
    assert (attention.in_proj_bias == 0).all() and (attention.out_proj.bias == 0).all()
    assert torch.equal(model.linear1.weight, fit.kaiming_uniform_(
        torch.empty(32, 16), a=math.sqrt(5), seed=stream(0, "linear1.weight")))
    assert (model.norm1.weight == 1).all()


class Twice(nn.Module):
    def __init__(self, first_std):
        super().__init__()
        self.first_std = first_std
        self.w = nn.Parameter(torch.empty(64, 8))

    def reset_parameters(self):
        if self.first_std is not None:
            nn.init.normal_(self.w, std=self.first_std)
        nn.init.normal_(self.w, std=2.0)


def test_a_second_fill_restarts_the_stream_so_the_last_call_decides():
    once, twice = Twice(None), Twice(0.5)
    fit.init_module(once, seed=0, recipe="model")
    fit.init_module(twice, seed=0, recipe="model")
    expected = fit.normal_(torch.empty(64, 8), 0.0, 2.0, seed=stream(0, "w"))
    assert torch.equal(once.w, expected) and torch.equal(twice.w, expected)


class PartialView(nn.Module):
    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.empty(6, 10))

    def reset_parameters(self):
        nn.init.zeros_(self.w)
        self.w.data[:, :4].uniform_(-1, 1)


def test_a_fill_of_part_of_a_tensor_draws_the_parts_own_stream():
    model = PartialView()
    fit.init_module(model, seed=4, recipe="model")
    part = model.w[:, :4]
    name = _torch_recipe.view_stream_name("w", part, model.w)
    assert name == "w[offset=0, shape=(6, 4), stride=(10, 1)]"
    expected = fit.uniform_(torch.empty(6, 4), -1, 1, seed=stream(4, name))
    assert torch.equal(part, expected) and (model.w[:, 4:] == 0).all()


class Orthogonal(nn.Module):
    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.empty(8, 5))

    def reset_parameters(self):
        nn.init.orthogonal_(self.w, gain=2.0)


def test_orthogonal_is_fastinits_own():
    model = Orthogonal()
    fit.init_module(model, seed=1, recipe="model")
    assert torch.equal(model.w, fit.orthogonal_(torch.empty(8, 5), gain=2.0, seed=stream(1, "w")))


class RandnThenCopy(nn.Module):
    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.zeros(4, 4))

    def reset_parameters(self):
        with torch.no_grad():
            self.w.copy_(torch.randn(4, 4))


class FillOfATemporary(nn.Module):
    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.zeros(4, 4))

    def reset_parameters(self):
        with torch.no_grad():
            self.w.copy_(torch.empty(4, 4).normal_())


class Exponential(nn.Module):
    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.zeros(4, 4))

    def reset_parameters(self):
        self.w.data.exponential_()


@pytest.mark.parametrize("cls, error, match", [
    (RandnThenCopy, NotImplementedError, "aten.randn"),
    (FillOfATemporary, ValueError, "Tensor.normal_ on a tensor that is not one of the model's"),
    (Exponential, NotImplementedError, "Tensor.exponential_ on w"),
])
def test_random_work_that_is_not_a_named_fill_is_refused(cls, error, match):
    model = cls()
    with pytest.raises(error, match=match):
        fit.init_module(model, seed=0, recipe="model")
    assert (model.w == 0).all()                     # not torch's values


class Untouched(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 3)
        self.gamma = nn.Parameter(torch.ones(3))


def test_a_parameter_no_code_writes_is_an_error_unless_a_rule_covers_it():
    with pytest.raises(TypeError, match="wrote nothing into gamma"):
        fit.init_module(Untouched(), seed=0, recipe="model")
    model = fit.init_module(Untouched(), seed=0, recipe="model",
                            rules=[("gamma", ("constant", {"val": 3.0}))])
    assert (model.gamma == 3).all()


class WithTable(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)
        self.register_buffer("table", torch.arange(6.0), persistent=False)


def test_buffers_no_code_writes_are_kept_on_the_cpu_and_refused_on_meta():
    model = fit.init_module(WithTable(), seed=0, recipe="model")
    assert torch.equal(model.table, torch.arange(6.0))
    with torch.device("meta"):
        on_meta = WithTable()
    with pytest.raises(TypeError, match="wrote nothing into table.*uninitialized memory"):
        fit.init_module(on_meta, seed=0, recipe="model")


def test_bad_arguments():
    with pytest.raises(ValueError, match="recipe must be one of 'torch', 'model'"):
        fit.init_module(nn.Linear(2, 2), seed=0, recipe="hf")
    with pytest.raises(ValueError, match="unknown='reset_parameters' is for recipe='torch'"):
        fit.init_module(nn.Linear(2, 2), seed=0, recipe="model", unknown="reset_parameters")


# ---------------------------------------------------------------- other devices

def test_host_blocks_give_the_same_values_with_bounded_host_memory(monkeypatch):
    """The path of a tensor on cuda / xpu / mps (a host block, then copy_), run on CPU
    tensors: the same bits as the direct path, in several blocks of at most the bound."""
    cls, config = llama(False)()
    with torch.device("meta"):
        direct, blocked = cls(config), cls(config)
    fit.init_module(direct, seed=0, recipe="model", rules=[("*.up_proj.weight", "he_normal")])
    blocks = []
    real_copy = _torch_tensors.copy_block

    def copy_block(destination, host):
        blocks.append(host.numel() * host.element_size())
        real_copy(destination, host)

    monkeypatch.setattr(_torch_tensors, "DIRECT_DEVICE_TYPES", frozenset())
    monkeypatch.setattr(_torch_tensors, "HOST_BLOCK_BYTES", 1024)
    monkeypatch.setattr(_torch_tensors, "copy_block", copy_block)
    fit.init_module(blocked, seed=0, recipe="model", rules=[("*.up_proj.weight", "he_normal")])
    for name, p in direct.named_parameters():
        assert torch.equal(blocked.get_parameter(name), p), name
    embedding_bytes = 100 * 32 * 4
    assert max(blocks) <= 1024 and len(blocks) >= 2 * embedding_bytes // 1024


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device here")
def test_a_model_on_cuda_gets_the_same_values_as_on_the_cpu():
    cls, config = llama(False)()
    with torch.device("meta"):
        on_gpu, on_cpu = cls(config), cls(config)
    fit.init_module(on_gpu, seed=0, recipe="model", device="cuda")
    fit.init_module(on_cpu, seed=0, recipe="model")
    for name, p in on_cpu.named_parameters():
        assert torch.equal(on_gpu.get_parameter(name).cpu(), p), name


def test_the_drop_in_functions_still_refuse_other_devices():
    class OnAnotherDevice(torch.Tensor):
        @property
        def device(self):
            return torch.device("cuda", 0)

    t = torch.empty(5, 4).as_subclass(OnAnotherDevice)
    with pytest.raises(ValueError, match="device cuda:0"):
        fit.normal_(t, seed=0)
