"""fastinit.torch.save_initialized and `python -m fastinit checkpoint`: the values are
init_module's bit for bit, the directory is save_pretrained's (files, names, ties, index,
configs) and from_pretrained loads it, the safetensors files are what the format
specifies, several writers make one writer's bytes, bad input is refused before anything
is written, and memory stays bounded (measured in a subprocess)."""
import io
import json
import os
import struct
import subprocess
import sys
import textwrap

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
safetensors_torch = pytest.importorskip("safetensors.torch")

from safetensors import safe_open  # noqa: E402
from torch import nn  # noqa: E402
from transformers import GPT2Config, GPT2LMHeadModel, LlamaConfig, LlamaForCausalLM  # noqa: E402
from transformers.models.llama.modeling_llama import LlamaRMSNorm  # noqa: E402
from transformers.pytorch_utils import Conv1D  # noqa: E402

import fastinit.torch as fit  # noqa: E402
from fastinit import _checkpoint  # noqa: E402
from fastinit.__main__ import main, parse_rule  # noqa: E402

INT_OF_SIZE = {1: torch.uint8, 2: torch.int16, 4: torch.int32, 8: torch.int64}


def same_bits(a, b):
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    if a.dtype == torch.bool or not a.is_floating_point():
        return torch.equal(a, b)
    as_int = INT_OF_SIZE[a.element_size()]
    return torch.equal(a.contiguous().view(as_int), b.contiguous().view(as_int))


def llama_config(tied=False, **overrides):
    settings = dict(hidden_size=64, intermediate_size=160, num_hidden_layers=2,
                    num_attention_heads=4, num_key_value_heads=2, vocab_size=300,
                    tie_word_embeddings=tied, bos_token_id=1, eos_token_id=2, pad_token_id=0)
    return LlamaConfig(**{**settings, **overrides})


def gpt2_config():
    return GPT2Config(n_embd=48, n_layer=2, n_head=4, vocab_size=300, n_positions=64,
                      bos_token_id=1, eos_token_id=2)


# HF's own recipes for these layers: normal(0, 0.02) weights, norm weights one, biases zero
LLAMA_RULES = [fit.Rule(("normal", {"std": 0.02}), names="*.weight"),
               fit.Rule("ones", modules=LlamaRMSNorm)]
GPT2_RULES = [fit.Rule(("normal", {"std": 0.02}), modules=(Conv1D, nn.Embedding), names="*weight"),
              fit.Rule("zeros", modules=Conv1D, names="*bias")]
FAMILIES = {
    "llama": (LlamaForCausalLM, llama_config, LLAMA_RULES),
    "llama-tied": (LlamaForCausalLM, lambda: llama_config(tied=True), LLAMA_RULES),
    "gpt2": (GPT2LMHeadModel, gpt2_config, GPT2_RULES),
}


def on_meta(build):
    with torch.device("meta"):
        return build()


def hf_model(family, device="cpu"):
    cls, config, _ = FAMILIES[family]
    with torch.device(device):
        return cls(config())


def init_module_state(model, seed, rules, dtype=None, **kwargs):
    """init_module's values of a CPU model (in dtype), as a state dict."""
    if dtype is not None:
        model = model.to(dtype)
    fit.init_module(model, seed=seed, rules=rules, **kwargs)
    return model.state_dict()


def read_checkpoint(path):
    """{key: tensor} of every safetensors file in path."""
    tensors = {}
    for name in sorted(os.listdir(path)):
        if name.endswith(".safetensors"):
            tensors.update(safetensors_torch.load_file(os.path.join(path, name)))
    return tensors


def directory_bytes(path):
    return {name: open(os.path.join(path, name), "rb").read() for name in sorted(os.listdir(path))}


# ---------------------------------------------------------------- values

@pytest.mark.parametrize("dtype", [None, torch.bfloat16, torch.float16])
@pytest.mark.parametrize("family", ["llama", "gpt2"])
def test_values_equal_init_module_of_the_same_model(tmp_path, family, dtype):
    _, _, rules = FAMILIES[family]
    fit.save_initialized(on_meta(lambda: hf_model(family)), tmp_path / "ckpt", seed=11,
                         rules=rules, dtype=dtype)
    expected = init_module_state(hf_model(family), 11, rules, dtype)
    got = read_checkpoint(tmp_path / "ckpt")
    assert set(got) <= set(expected)
    for key, tensor in got.items():
        assert same_bits(tensor, expected[key]), key


def every_block_drawn_scheme():
    """A model with one weight per block-drawn scheme, of shapes whose row blocks are
    several rows, a part of one row (the (3, 5000) weight) or of a conv kernel, and the
    rules that give each its scheme."""
    specs = {
        "uniform": ("uniform", {"a": -0.5, "b": 0.25}), "normal": ("normal", {"std": 0.3}),
        "trunc_normal": ("trunc_normal", {"std": 0.2, "a": -0.3, "b": 0.1}),
        "xavier_uniform": ("xavier_uniform", {"gain": 1.5}), "xavier_normal": "xavier_normal",
        "glorot_uniform": "glorot_uniform", "glorot_normal": "glorot_normal",
        "kaiming_uniform": ("kaiming_uniform", {"a": 0.1, "mode": "fan_out"}),
        "kaiming_normal": "kaiming_normal", "he_uniform": "he_uniform",
        "he_normal": ("he_normal", {"mode": "fan_out"}), "lecun_uniform": "lecun_uniform",
        "lecun_normal": ("lecun_normal", {"gain": 2.0}),
    }
    assert set(specs) == _checkpoint.BLOCK_DRAWN_SCHEMES

    def build():
        layers = {name: nn.Linear(37, 300 + i, bias=False) for i, name in enumerate(specs)}
        layers["wide"] = nn.Linear(5000, 3)                  # rows longer than a block
        layers["conv"] = nn.Conv2d(3, 40, 5)
        layers["embedding"] = nn.Embedding(400, 33, padding_idx=-7)
        return nn.ModuleDict(layers)

    rules = [fit.Rule(spec, names=f"{name}.weight") for name, spec in specs.items()]
    rules.append(fit.Rule(("uniform", {"a": -2.0, "b": 3.0}), names="wide.bias"))
    return build, rules


@pytest.mark.parametrize("dtype", [None, torch.bfloat16])
def test_every_block_drawn_scheme_written_in_small_blocks_equals_init_module(tmp_path, monkeypatch,
                                                                            dtype):
    monkeypatch.setattr(_checkpoint, "BLOCK_BYTES", 4096)
    filled_whole = []
    original = _checkpoint._TensorWriter._filled
    monkeypatch.setattr(_checkpoint._TensorWriter, "_filled",
                        lambda self, entry: filled_whole.append(entry.key) or original(self, entry))
    build, rules = every_block_drawn_scheme()
    fit.save_initialized(on_meta(build), tmp_path / "ckpt", seed=4, rules=rules, dtype=dtype)
    expected = init_module_state(build(), 4, rules, dtype)
    got = read_checkpoint(tmp_path / "ckpt")
    assert set(got) == set(expected)
    for key in expected:
        assert same_bits(got[key], expected[key]), key
    assert filled_whole == []           # every tensor was drawn in blocks, none as a whole
    assert torch.count_nonzero(got["embedding.weight"][-7]) == 0


@pytest.mark.parametrize("shape, max_elements", [
    ((10,), 3), ((10,), 10), ((7, 5), 12), ((7, 5), 4), ((2, 3, 4, 5), 7), ((2, 3, 4, 5), 1),
    ((4, 0, 3), 2), ((3, 5000), 1024)])
def test_row_blocks_cover_the_shape_in_c_order(shape, max_elements):
    flat = np.arange(int(np.prod(shape))).reshape(shape)
    covered = []
    for region, first, count in _checkpoint.row_blocks(shape, max_elements):
        assert count <= max_elements or all(s.stop - s.start == 1 for s in region[:-1])
        assert count <= max(max_elements, 1)
        values = flat[region]
        assert values.size == count
        assert np.array_equal(values.ravel(), np.arange(first, first + count))
        covered.append(values.ravel())
    joined = np.concatenate(covered) if covered else np.zeros(0, int)
    assert np.array_equal(joined, flat.ravel())


def test_a_module_left_to_its_own_reset_parameters_gets_the_values_init_module_gives(tmp_path):
    class Scaled(nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = nn.Parameter(torch.empty(50))
            self.reset_parameters()

        def reset_parameters(self):
            nn.init.uniform_(self.scale, 0.5, 1.5)       # torch's generator

    def build():
        return nn.Sequential(nn.Linear(8, 50), Scaled(), nn.Linear(50, 4))

    torch.manual_seed(3)
    fit.save_initialized(on_meta(build), tmp_path / "ckpt", seed=2, unknown="reset_parameters")
    model = build()
    torch.manual_seed(3)
    expected = init_module_state(model, 2, (), unknown="reset_parameters")
    got = read_checkpoint(tmp_path / "ckpt")
    for key in expected:
        assert same_bits(got[key], expected[key]), key
    assert got["1.scale"].min() >= 0.5


def test_a_cpu_model_keeps_its_buffers_and_is_left_unchanged(tmp_path):
    class WithTable(nn.Module):
        def __init__(self):
            super().__init__()
            self.proj = nn.Linear(6, 6)
            self.register_buffer("table", torch.arange(12, dtype=torch.float32).reshape(3, 4))
            self.register_buffer("steps", torch.tensor(7, dtype=torch.int64))

    model = WithTable()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    fit.save_initialized(model, tmp_path / "ckpt", seed=0, dtype="float16")
    got = read_checkpoint(tmp_path / "ckpt")
    assert same_bits(got["table"], before["table"].half())
    assert same_bits(got["steps"], before["steps"])           # not floating: its own dtype
    assert same_bits(got["proj.weight"], init_module_state(WithTable(), 0, (), torch.float16)
                     ["proj.weight"])
    for key, value in model.state_dict().items():
        assert same_bits(value, before[key]), key


# ---------------------------------------------------------------- save_pretrained's directory

@pytest.mark.parametrize("dtype", [None, torch.bfloat16])
@pytest.mark.parametrize("max_shard_size", ["5GB", "100KB"])
@pytest.mark.parametrize("family", list(FAMILIES))
def test_the_directory_is_save_pretrained_of_init_module(tmp_path, family, max_shard_size, dtype):
    _, _, rules = FAMILIES[family]
    summary = fit.save_initialized(on_meta(lambda: hf_model(family)), tmp_path / "ours",
                                   seed=5, rules=rules, dtype=dtype, max_shard_size=max_shard_size)
    model = hf_model(family)
    if dtype is not None:
        model = model.to(dtype)
    fit.init_module(model, seed=5, rules=rules)
    model.save_pretrained(tmp_path / "theirs", max_shard_size=max_shard_size)

    ours, theirs = sorted(os.listdir(tmp_path / "ours")), sorted(os.listdir(tmp_path / "theirs"))
    assert ours == theirs
    assert sorted(summary.files) == ours
    assert (len([n for n in ours if n.endswith(".safetensors")]) > 1) == (max_shard_size == "100KB")
    for name in ours:
        if name.endswith(".json"):      # config, generation config, index: the same text
            ours_text = (tmp_path / "ours" / name).read_text()
            assert ours_text == (tmp_path / "theirs" / name).read_text()
        else:
            with safe_open(tmp_path / "ours" / name, "pt") as a, \
                    safe_open(tmp_path / "theirs" / name, "pt") as b:
                assert a.metadata() == b.metadata() == {"format": "pt"}
                assert sorted(a.keys()) == sorted(b.keys())
                for key in a.keys():
                    assert same_bits(a.get_tensor(key), b.get_tensor(key)), key


@pytest.mark.parametrize("family", list(FAMILIES))
def test_from_pretrained_loads_it_with_no_missing_or_unexpected_keys(tmp_path, family):
    cls, _, rules = FAMILIES[family]
    fit.save_initialized(on_meta(lambda: hf_model(family)), tmp_path, seed=8, rules=rules,
                         max_shard_size="200KB")
    loaded, info = cls.from_pretrained(tmp_path, output_loading_info=True)
    assert info["missing_keys"] == set() and info["unexpected_keys"] == set()
    assert info["mismatched_keys"] == set() and not info["error_msgs"]
    expected = init_module_state(hf_model(family), 8, rules)
    for key, value in loaded.state_dict().items():
        assert same_bits(value, expected[key]), key
    tied = family != "llama"
    assert (loaded.lm_head.weight is loaded.get_input_embeddings().weight) == tied


def test_a_tied_tensor_is_stored_once_under_the_name_save_pretrained_keeps(tmp_path):
    fit.save_initialized(on_meta(lambda: hf_model("llama-tied")), tmp_path, seed=1,
                         rules=LLAMA_RULES)
    keys = set(read_checkpoint(tmp_path))
    assert "model.embed_tokens.weight" in keys and "lm_head.weight" not in keys


def test_a_shared_parameter_without_declared_ties_is_stored_once_under_its_first_name(tmp_path):
    def build():
        model = nn.Sequential(nn.Embedding(30, 8), nn.Linear(8, 30, bias=False))
        model[1].weight = model[0].weight
        return model

    fit.save_initialized(on_meta(build), tmp_path, seed=6)
    got = read_checkpoint(tmp_path)
    assert set(got) == {"0.weight"}
    assert same_bits(got["0.weight"], init_module_state(build(), 6, ())["0.weight"])


def test_config_json_records_the_written_dtype_and_the_class(tmp_path):
    fit.save_initialized(on_meta(lambda: hf_model("llama")), tmp_path, seed=0,
                         rules=LLAMA_RULES, dtype="bfloat16")
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["dtype"] == "bfloat16"
    assert config["architectures"] == ["LlamaForCausalLM"]
    assert all(t.dtype == torch.bfloat16 for t in read_checkpoint(tmp_path).values())


def test_a_model_without_a_config_gets_only_the_weights(tmp_path):
    fit.save_initialized(on_meta(lambda: nn.Linear(3, 4)), tmp_path, seed=0)
    assert os.listdir(tmp_path) == ["model.safetensors"]


# ---------------------------------------------------------------- the safetensors format

def test_each_file_is_the_safetensors_format(tmp_path):
    build, rules = every_block_drawn_scheme()

    def build_mixed():
        model = build()
        model.register_buffer("count", torch.zeros((), dtype=torch.int64))
        model.register_buffer("flags", torch.zeros(5, dtype=torch.bool))
        return model

    model = build_mixed()          # on the CPU: its integer buffers are written as they are
    fit.save_initialized(model, tmp_path, seed=3, rules=rules, dtype="bfloat16",
                         max_shard_size="50KB")
    names = [n for n in sorted(os.listdir(tmp_path)) if n.endswith(".safetensors")]
    assert len(names) > 2
    for name in names:
        data = (tmp_path / name).read_bytes()
        (length,) = struct.unpack("<Q", data[:8])
        assert (8 + length) % 8 == 0
        header = json.loads(data[8:8 + length].decode("utf-8"))
        assert header.pop("__metadata__") == {"format": "pt"}
        spans = sorted(v["data_offsets"] for v in header.values())
        assert spans[0][0] == 0
        assert all(a[1] == b[0] for a, b in zip(spans, spans[1:]))   # no holes, no overlap
        assert 8 + length + spans[-1][1] == len(data)
        with safe_open(tmp_path / name, "pt") as f:
            for key, info in header.items():
                tensor = f.get_tensor(key)
                assert list(tensor.shape) == info["shape"]
                itemsize = tensor.element_size()
                assert info["data_offsets"][0] % itemsize == 0       # aligned to its element
                assert _checkpoint.SAFETENSORS_DTYPES[tensor.dtype] == info["dtype"]
    index = json.loads((tmp_path / "model.safetensors.index.json").read_text())
    assert set(index["weight_map"].values()) == set(names)
    assert index["metadata"]["total_size"] == sum(
        t.numel() * t.element_size() for t in read_checkpoint(tmp_path).values())


# ---------------------------------------------------------------- several writers

def test_writers_of_separate_files_make_one_writers_bytes(tmp_path):
    model = on_meta(lambda: hf_model("llama"))
    kwargs = dict(seed=9, rules=LLAMA_RULES, max_shard_size="60KB")
    fit.save_initialized(model, tmp_path / "one", **kwargs)
    written = []
    for writer in (2, 0, 1):
        summary = fit.save_initialized(model, tmp_path / "three", shards=(writer, 3), **kwargs)
        written += summary.files
    assert sorted(written) == sorted(os.listdir(tmp_path / "one"))
    assert directory_bytes(tmp_path / "three") == directory_bytes(tmp_path / "one")
    assert len([n for n in written if n.endswith(".safetensors")]) >= 4


def stacked_linears():
    return nn.Sequential(*[nn.Linear(40, 60 + i) for i in range(8)])


# The workers' task, as a module that Client.upload_file gives them: they cannot import
# this file when pytest runs from outside the tree (--import-mode=importlib).
WRITE_SHARE_MODULE = textwrap.dedent("""
    import os
    import torch
    from torch import nn
    import fastinit.torch as fit

    def write_share(path, writer, writers):
        with torch.device("meta"):
            model = nn.Sequential(*[nn.Linear(40, 60 + i) for i in range(8)])
        summary = fit.save_initialized(model, path, seed=13, max_shard_size="20KB",
                                       shards=(writer, writers))
        return os.getpid(), summary.files
""")


@pytest.mark.slow          # 15-30 s: each worker process imports torch
def test_a_dask_local_cluster_of_two_processes_writes_one_writers_bytes(tmp_path):
    distributed = pytest.importorskip("distributed")
    fit.save_initialized(on_meta(stacked_linears), tmp_path / "one", seed=13,
                         max_shard_size="20KB")
    path = str(tmp_path / "many")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None, timeout=60) as cluster, \
            distributed.Client(cluster, timeout=60) as client:
        client.wait_for_workers(2, timeout=60)
        workers = list(client.scheduler_info()["workers"])
        module = tmp_path / "fastinit_write_share.py"
        module.write_text(WRITE_SHARE_MODULE)
        client.upload_file(str(module))
        sys.path.insert(0, str(tmp_path))
        try:
            import fastinit_write_share
        finally:
            sys.path.remove(str(tmp_path))
        futures = [client.submit(fastinit_write_share.write_share, path, k, 2,
                                 workers=[workers[k]], pure=False)
                   for k in range(2)]
        distributed.wait(futures, timeout=240)           # a failure, never a hang
        results = client.gather(futures)
        sys.modules.pop("fastinit_write_share", None)
    assert len({pid for pid, _ in results} - {os.getpid()}) == 2     # two other processes
    assert all(files for _, files in results)
    assert len(os.listdir(tmp_path / "one")) >= 5
    assert directory_bytes(path) == directory_bytes(tmp_path / "one")


# ---------------------------------------------------------------- bad input

def test_a_non_empty_directory_is_refused_and_left_as_it_was(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match="not empty.*notes.txt"):
        fit.save_initialized(on_meta(lambda: nn.Linear(3, 4)), tmp_path, seed=0)
    assert os.listdir(tmp_path) == ["notes.txt"]


def test_a_path_that_is_a_file_is_refused(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match="not a directory"):
        fit.save_initialized(on_meta(lambda: nn.Linear(3, 4)), tmp_path / "file", seed=0)


def test_a_path_that_cannot_be_created_is_refused(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match="cannot be created"):
        fit.save_initialized(on_meta(lambda: nn.Linear(3, 4)), tmp_path / "file" / "sub", seed=0)


def test_a_directory_without_write_permission_is_refused(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        if os.access(locked, os.W_OK):
            pytest.skip("this user (root) may write into any directory")
        with pytest.raises(ValueError, match="not writable"):
            fit.save_initialized(on_meta(lambda: nn.Linear(3, 4)), locked, seed=0)
    finally:
        locked.chmod(0o755)


def test_too_little_free_disk_is_refused_before_anything_is_created(tmp_path, monkeypatch):
    real = _checkpoint.shutil.disk_usage
    monkeypatch.setattr(_checkpoint.shutil, "disk_usage",
                        lambda p: real(p)._replace(free=1000))
    with pytest.raises(ValueError, match="GB free"):
        fit.save_initialized(on_meta(lambda: nn.Linear(100, 100)), tmp_path / "new", seed=0)
    assert not (tmp_path / "new").exists()


def test_a_failure_while_writing_leaves_no_file_behind(tmp_path, monkeypatch):
    calls = []

    def failing_write(self, out, offset, entry):
        calls.append(entry.key)
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        return original(self, out, offset, entry)

    original = _checkpoint._TensorWriter.write
    monkeypatch.setattr(_checkpoint._TensorWriter, "write", failing_write)
    model = on_meta(lambda: hf_model("llama"))
    with pytest.raises(OSError, match="No space"):
        fit.save_initialized(model, tmp_path / "new", seed=0, rules=LLAMA_RULES,
                             max_shard_size="60KB")
    assert not (tmp_path / "new").exists()
    (tmp_path / "empty").mkdir()
    calls.clear()
    with pytest.raises(OSError, match="No space"):
        fit.save_initialized(model, tmp_path / "empty", seed=0, rules=LLAMA_RULES)
    assert os.listdir(tmp_path / "empty") == []


def test_a_writer_refuses_files_of_its_own_that_exist_but_not_other_writers_files(tmp_path):
    model = on_meta(lambda: hf_model("llama"))
    kwargs = dict(seed=0, rules=LLAMA_RULES, max_shard_size="60KB")
    fit.save_initialized(model, tmp_path, shards=(1, 2), **kwargs)
    fit.save_initialized(model, tmp_path, shards=(0, 2), **kwargs)     # others' files: fine
    with pytest.raises(ValueError, match="already holds model-00002"):
        fit.save_initialized(model, tmp_path, shards=(1, 2), **kwargs)


def test_a_saved_buffer_of_a_meta_model_that_nothing_initializes_is_refused(tmp_path):
    class WithBuffer(nn.Module):
        def __init__(self):
            super().__init__()
            self.proj = nn.Linear(3, 3)
            self.register_buffer("table", torch.ones(4))
            self.register_buffer("scratch", torch.ones(4), persistent=False)   # not saved

    with pytest.raises(ValueError, match="saved buffers: table;"):
        fit.save_initialized(on_meta(WithBuffer), tmp_path / "new", seed=0)
    assert not (tmp_path / "new").exists()


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(seed=None), TypeError, "seed must be a non-negative int"),
    (dict(seed=-1), ValueError, "non-negative"),
    (dict(seed=1.5), TypeError, "seed"),
    (dict(recipe="hf"), ValueError, "recipe must be one of 'torch', 'model'"),
    (dict(recipe="model", unknown="reset_parameters"), ValueError,
     "unknown='reset_parameters' is for recipe='torch'"),
    (dict(dtype="int8"), TypeError, "dtype must be"),
    (dict(dtype=torch.int32), TypeError, "dtype must be"),
    (dict(max_shard_size="5XB"), ValueError, "max_shard_size"),
    (dict(max_shard_size=0), ValueError, "max_shard_size"),
    (dict(max_shard_size=True), TypeError, "max_shard_size"),
    (dict(shards=(2, 2)), ValueError, "shards"),
    (dict(shards=(0,)), TypeError, "shards"),
    (dict(shards="0/2"), TypeError, "shards"),
    (dict(progress=3), TypeError, "progress"),
    (dict(rules=[("*weight", "no_such_scheme")]), ValueError, "unknown scheme"),
    (dict(rules=[("*weight", ("normal", {"std": -1.0}))]), ValueError, "std"),
])
def test_bad_arguments_are_refused_before_anything_is_written(tmp_path, kwargs, error, match):
    arguments = {"seed": 0, **kwargs}
    with pytest.raises(error, match=match):
        fit.save_initialized(on_meta(lambda: nn.Linear(3, 4)), tmp_path / "new", **arguments)
    assert not (tmp_path / "new").exists()


def test_a_model_and_a_path_of_the_wrong_type_are_refused(tmp_path):
    with pytest.raises(TypeError, match="model must be a torch.nn.Module"):
        fit.save_initialized({"w": torch.ones(2)}, tmp_path, seed=0)
    with pytest.raises(TypeError, match="path must be"):
        fit.save_initialized(nn.Linear(2, 2), 3, seed=0)


def test_a_layer_without_a_rule_is_refused_as_init_module_refuses_it(tmp_path):
    with pytest.raises(TypeError, match="LlamaRMSNorm"):
        fit.save_initialized(on_meta(lambda: hf_model("llama")), tmp_path / "new", seed=0)
    assert not (tmp_path / "new").exists()


# ---------------------------------------------------------------- recipe="model"

def t5_config():
    return transformers.T5Config(d_model=32, d_ff=64, d_kv=8, num_heads=4, num_layers=2,
                                 vocab_size=120, decoder_start_token_id=0, pad_token_id=0)


# the model's own code (no rules needed); T5: an encoder-decoder whose code writes one
# module's tensors from another module's visit (shared relative attention bias, ties)
MODEL_RECIPE_FAMILIES = {"llama": (LlamaForCausalLM, llama_config),
                         "llama-tied": (LlamaForCausalLM, lambda: llama_config(tied=True)),
                         "gpt2": (GPT2LMHeadModel, gpt2_config),
                         "t5": (transformers.T5ForConditionalGeneration, t5_config)}


def model_recipe_model(family, device="cpu"):
    cls, config = MODEL_RECIPE_FAMILIES[family]
    with torch.device(device):
        return cls(config())


def init_module_model_recipe_state(family, seed, dtype=None, **kwargs):
    """init_module(recipe="model")'s values of the whole model, built on meta, as a state
    dict (in dtype: the values of model.to(dtype))."""
    model = model_recipe_model(family, "meta")
    if dtype is not None:
        model = model.to(dtype)
    fit.init_module(model, seed=seed, recipe="model", **kwargs)
    return model.state_dict()


@pytest.mark.parametrize("built_on", ["meta", "cpu"])
@pytest.mark.parametrize("dtype", [None, torch.bfloat16])
@pytest.mark.parametrize("family", list(MODEL_RECIPE_FAMILIES))
def test_the_model_recipe_equals_init_module_of_the_whole_model(tmp_path, family, dtype,
                                                                built_on):
    torch.manual_seed(7)                # a CPU build's own draws must not matter
    model = model_recipe_model(family, built_on)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    fit.save_initialized(model, tmp_path, seed=4, recipe="model", dtype=dtype,
                         max_shard_size="40KB")
    expected = init_module_model_recipe_state(family, 4, dtype)
    got = read_checkpoint(tmp_path)
    assert set(got) == {key for key, _ in _checkpoint.saved_tensors(model)}
    for key, tensor in got.items():
        assert same_bits(tensor, expected[key]), key
    if built_on == "cpu":               # read, never written
        for key, value in model.state_dict().items():
            assert same_bits(value, before[key]), key
    else:
        assert all(t.is_meta for t in model.state_dict().values())


@pytest.mark.parametrize("family", list(MODEL_RECIPE_FAMILIES))
def test_the_model_recipe_loads_with_every_key_and_tie(tmp_path, family):
    cls, _ = MODEL_RECIPE_FAMILIES[family]
    fit.save_initialized(model_recipe_model(family, "meta"), tmp_path, seed=2, recipe="model",
                         max_shard_size="100KB")
    loaded, info = cls.from_pretrained(tmp_path, output_loading_info=True)
    assert info["missing_keys"] == set() and info["unexpected_keys"] == set()
    assert info["mismatched_keys"] == set() and not info["error_msgs"]
    expected = init_module_model_recipe_state(family, 2)
    for key, value in loaded.state_dict().items():
        assert same_bits(value, expected[key]), key
    tied = family != "llama"
    assert (loaded.get_output_embeddings().weight is loaded.get_input_embeddings().weight) == tied


def test_rules_apply_on_top_of_the_model_recipe(tmp_path):
    rules = [fit.Rule("zeros", names="*.q_proj.weight"),
             fit.Rule(("normal", {"std": 0.5}), names="*.mlp.up_proj.weight")]
    fit.save_initialized(model_recipe_model("llama", "meta"), tmp_path, seed=3, recipe="model",
                         rules=rules)
    got = read_checkpoint(tmp_path)
    expected = init_module_model_recipe_state("llama", 3, rules=rules)
    for key, tensor in got.items():
        assert same_bits(tensor, expected[key]), key
    assert torch.count_nonzero(got["model.layers.0.self_attn.q_proj.weight"]) == 0
    assert abs(got["model.layers.1.mlp.up_proj.weight"].std().item() - 0.5) < 0.05


def test_writers_of_the_model_recipe_make_one_writers_bytes(tmp_path):
    model = model_recipe_model("t5", "meta")
    kwargs = dict(seed=9, recipe="model", max_shard_size="30KB")
    fit.save_initialized(model, tmp_path / "one", **kwargs)
    for writer in (1, 0):
        fit.save_initialized(model, tmp_path / "two", shards=(writer, 2), **kwargs)
    assert directory_bytes(tmp_path / "two") == directory_bytes(tmp_path / "one")
    assert len([n for n in os.listdir(tmp_path / "one") if n.endswith(".safetensors")]) >= 4


class HalfWritten(nn.Module):
    """Its code writes its weight but not its scale."""

    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(4, 4))
        self.scale = nn.Parameter(torch.empty(4))

    def reset_parameters(self):
        nn.init.normal_(self.weight)


class ValueDependent(nn.Module):
    """Its code takes a path by its own values, which a run on meta cannot."""

    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(4, 4))

    def reset_parameters(self):
        nn.init.normal_(self.weight)
        if self.weight.sum() > 0:
            self.weight.mul_(-1)


def test_what_the_model_code_leaves_unwritten_is_refused_before_writing(tmp_path):
    with pytest.raises(TypeError, match="wrote nothing into scale"):
        fit.save_initialized(on_meta(HalfWritten), tmp_path / "new", seed=0, recipe="model")
    assert not (tmp_path / "new").exists()
    # a rule covers it: written
    fit.save_initialized(on_meta(HalfWritten), tmp_path / "ruled", seed=0, recipe="model",
                         rules=[("scale", "ones")])
    assert torch.equal(read_checkpoint(tmp_path / "ruled")["scale"], torch.ones(4))


def test_code_whose_path_depends_on_values_is_refused_before_writing(tmp_path):
    with pytest.raises(RuntimeError, match="on meta tensors"):
        fit.save_initialized(on_meta(ValueDependent), tmp_path / "new", seed=0, recipe="model")
    assert not (tmp_path / "new").exists()


def test_the_command_runs_the_models_own_code_by_default(tmp_path, capsys):
    write_config(tmp_path / "config.json", "gpt2")
    assert main(["checkpoint", str(tmp_path / "config.json"), str(tmp_path / "cli"),
                 "--seed", "6", "--quiet", "--max-shard-size", "70KB"]) == 0
    fit.save_initialized(model_recipe_model("gpt2", "meta"), tmp_path / "api", seed=6,
                         recipe="model", max_shard_size="70KB")
    assert directory_bytes(tmp_path / "cli") == directory_bytes(tmp_path / "api")


# ---------------------------------------------------------------- progress and memory

def test_progress_counts_every_byte_of_the_files(tmp_path):
    seen = []
    summary = fit.save_initialized(on_meta(lambda: hf_model("llama")), tmp_path, seed=0,
                                   rules=LLAMA_RULES, max_shard_size="60KB",
                                   progress=lambda done, total: seen.append((done, total)))
    sizes = sum(os.path.getsize(tmp_path / n) for n in os.listdir(tmp_path)
                if n.endswith(".safetensors"))
    assert summary.bytes == sizes
    assert seen[-1] == (sizes, sizes)
    assert all(a[0] < b[0] for a, b in zip(seen, seen[1:]))
    assert summary.parameters == sum(p.numel() for p in hf_model("llama").parameters())


RSS_SCRIPT = textwrap.dedent("""
    import sys
    import torch
    from torch import nn
    import fastinit.torch as fit

    def status(field):
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) * 1024 for line in f if line.startswith(field))

    with torch.device("meta"):
        model = nn.Sequential(*[nn.Linear(4096, 4096, bias=False) for _ in range(12)],
                              nn.Embedding(50000, 1024, padding_idx=0))
    fit.save_initialized(model, sys.argv[1] + "/warm-up", seed=0, dtype="float16")
    before = status("VmRSS:")
    summary = fit.save_initialized(model, sys.argv[1] + "/ckpt", seed=0)
    print(before, status("VmHWM:"), summary.bytes)
""")


MODEL_RECIPE_RSS_SCRIPT = textwrap.dedent("""
    import sys
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM
    import fastinit.torch as fit

    def status(field):
        for line in open("/proc/self/status"):
            if line.startswith(field):
                return int(line.split()[1]) * 1024

    def llama(layers):
        config = LlamaConfig(hidden_size=1024, intermediate_size=4096, num_hidden_layers=layers,
                             num_attention_heads=8, num_key_value_heads=8, vocab_size=8000,
                             tie_word_embeddings=False)
        with torch.device("meta"):
            return LlamaForCausalLM(config)

    fit.save_initialized(llama(1), sys.argv[1] + "/warm-up", seed=0, recipe="model")
    model = llama(16)
    before = status("VmRSS:")
    summary = fit.save_initialized(model, sys.argv[1] + "/ckpt", seed=0, recipe="model")
    print(before, status("VmHWM:"), summary.bytes)
""")


def run_rss_script(script, tmp_path):
    """(RSS before the measured write, peak RSS, bytes written) of script in a new process."""
    result = subprocess.run([sys.executable, "-c", script, str(tmp_path)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return tuple(map(int, result.stdout.split()))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
def test_peak_rss_of_the_model_recipe_grows_by_a_few_tensors_not_the_model(tmp_path):
    # a 1.1 GB Llama (16 layers of 16 MiB MLP weights) made by its own code one module at a
    # time: the peak may grow by the tensors of the module running, the one being written
    # and the writer's 64 MiB queue, not by the model
    before, peak, model_bytes = run_rss_script(MODEL_RECIPE_RSS_SCRIPT, tmp_path)
    assert model_bytes > 1000 * 2 ** 20
    assert peak - before < 250 * 2 ** 20, (before, peak)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
def test_peak_rss_grows_by_far_less_than_the_model(tmp_path):
    # 12 kaiming-uniform 64 MiB weights and a 195 MiB embedding (962 MiB in all), written
    # after a small warm-up run: the process's peak resident set (VmHWM: anonymous and
    # mapped pages; the page cache holding the written files is not mapped) may grow by
    # the two 32 MiB block buffers and change, not by a tensor, let alone the model
    before, peak, model_bytes = run_rss_script(RSS_SCRIPT, tmp_path)
    assert model_bytes > 900 * 2 ** 20
    assert peak - before < 150 * 2 ** 20, (before, peak)


# ---------------------------------------------------------------- the command line

def write_config(path, family):
    config = FAMILIES[family][1]()
    config.architectures = [FAMILIES[family][0].__name__]
    config.to_json_file(path)


class TerminalStream(io.StringIO):
    def isatty(self):
        return True


def test_the_command_writes_what_save_initialized_writes(tmp_path, capsys, monkeypatch):
    write_config(tmp_path / "config.json", "llama")
    terminal = TerminalStream()
    monkeypatch.setattr(sys, "stderr", terminal)        # progress is drawn on a terminal only
    code = main(["checkpoint", str(tmp_path / "config.json"), str(tmp_path / "cli"),
                 "--seed", "21", "--dtype", "bfloat16", "--max-shard-size", "80KB",
                 "--recipe", "torch",
                 "--rule", "*.weight=normal(std=0.02)", "--rule", "*norm.weight=ones"])
    assert code == 0
    out = capsys.readouterr().out
    parameters = sum(p.numel() for p in hf_model("llama").parameters())
    assert f"{parameters:,} parameters" in out and "GB/s" in out
    assert "bytes written" in terminal.getvalue()          # the progress bar, on stderr
    rules = [fit.Rule(("normal", {"std": 0.02}), names="*.weight"),
             fit.Rule("ones", names="*norm.weight")]
    fit.save_initialized(on_meta(lambda: hf_model("llama")), tmp_path / "api", seed=21,
                         rules=rules, dtype="bfloat16", max_shard_size="80KB")
    assert directory_bytes(tmp_path / "cli") == directory_bytes(tmp_path / "api")


def test_the_command_is_quiet_when_asked_and_writes_shards(tmp_path, capsys):
    write_config(tmp_path / "config.json", "gpt2")
    for k in (0, 1):
        assert main(["checkpoint", str(tmp_path / "config.json"), str(tmp_path / "out"),
                     "--seed", "0", "--quiet", "--shards", f"{k}/2", "--max-shard-size", "60KB",
                     "--rule", "*attn.c_*.weight=normal(std=0.02)",
                     "--rule", "*mlp.c_*.weight=normal(std=0.02)",
                     "--rule", "*.c_*.bias=zeros"]) == 0
    out, err = capsys.readouterr()
    assert "writing" not in err
    loaded, info = GPT2LMHeadModel.from_pretrained(tmp_path / "out", output_loading_info=True)
    assert info["missing_keys"] == set() and info["unexpected_keys"] == set()


@pytest.mark.parametrize("arguments, message", [
    (["--recipe", "hf"], "recipe must be one of 'torch', 'model'"),
    (["--rule", "*.weight"], "expected GLOB=INIT"),
    (["--rule", "*.weight=normal(0.02)"], "INIT must be a scheme name"),
    (["--shards", "1"], "expected K/N"),
    (["--recipe", "torch"], "LlamaRMSNorm"),
])
def test_the_command_reports_bad_input_as_a_usage_error(tmp_path, capsys, arguments, message):
    write_config(tmp_path / "config.json", "llama")
    with pytest.raises(SystemExit) as exit_info:
        main(["checkpoint", str(tmp_path / "config.json"), str(tmp_path / "out"), "--seed", "0",
              *arguments])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_a_config_without_architectures_is_a_usage_error(tmp_path, capsys):
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "llama"}))
    with pytest.raises(SystemExit):
        main(["checkpoint", str(tmp_path / "config.json"), str(tmp_path / "out"), "--seed", "0"])
    assert "architectures" in capsys.readouterr().err


@pytest.mark.parametrize("text, rule", [
    ("*.weight=ones", ("*.weight", "ones")),
    ("a.b=normal(std=0.02)", ("a.b", ("normal", {"std": 0.02}))),
    (" *x = trunc_normal(std=1, a=-2.5, b=2) ",
     ("*x", ("trunc_normal", {"std": 1, "a": -2.5, "b": 2}))),
])
def test_parse_rule_reads_a_glob_and_an_init(text, rule):
    assert parse_rule(text) == rule


@pytest.mark.slow          # three fresh processes, each importing torch and transformers
def test_the_checkpoint_bench_runs_every_route_and_removes_its_files(tmp_path):
    from fastinit import _bench_checkpoint
    rows = _bench_checkpoint.run_checkpoint_bench(str(tmp_path), "small", dtypes=("float32",),
                                                  repeat=1)
    assert [row["contender"] for row in rows] == list(_bench_checkpoint.CONTENDERS)
    expected = _bench_checkpoint.checkpoint_bytes("small", "float32")
    # save_pretrained's own headers may differ from ours by a few bytes of JSON
    assert all(abs(row["bytes"] - expected) < 1e-3 * expected and row["seconds"] > 0
               for row in rows)
    assert os.listdir(tmp_path) == []
    table = _bench_checkpoint.format_checkpoint_table(rows, "small")
    assert all(contender in table for contender in _bench_checkpoint.CONTENDERS)
