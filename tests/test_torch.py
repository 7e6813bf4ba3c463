"""fastinit.torch's drop-ins for torch.nn.init: the same names, signatures, fans, gains and
distributions as torch 2.13 (two-sample KS against torch itself at fixed seeds), the same
bits as the NumPy API, tensors as they come, seeds as torch users expect, bad input."""
import inspect
import math
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")
stats = pytest.importorskip("scipy.stats")

import fastinit  # noqa: E402
import fastinit.torch as fit  # noqa: E402
from fastinit import _torch_tensors  # noqa: E402

KS_P_MIN = 1e-3     # fixed seeds: a deterministic test; this p-value threshold catches a wrong scale


def ks_p(ours, theirs):
    return stats.ks_2samp(ours.detach().double().reshape(-1).numpy(),
                          theirs.detach().double().reshape(-1).numpy()).pvalue


def torch_draw(function, shape, *args, dtype=torch.float32, seed=1234, **kwargs):
    torch.manual_seed(seed)
    return function(torch.empty(shape, dtype=dtype), *args, **kwargs)


# ---------------------------------------------------------------- the same module surface

def test_every_torch_nn_init_name_is_there():
    missing = [n for n in torch.nn.init.__all__ if not hasattr(fit, n)]
    assert missing == []


RANDOM_FUNCTIONS = ("uniform_", "normal_", "trunc_normal_", "xavier_uniform_", "xavier_normal_",
                    "kaiming_uniform_", "kaiming_normal_", "orthogonal_", "sparse_")


@pytest.mark.parametrize("name", RANDOM_FUNCTIONS)
def test_signature_is_torchs_plus_seed(name):
    theirs = inspect.signature(getattr(torch.nn.init, name)).parameters
    ours = inspect.signature(getattr(fit, name)).parameters
    assert [(p.name, p.default, p.kind) for p in theirs.values()] == \
           [(p.name, p.default, p.kind) for p in list(ours.values())[:len(theirs)]]
    assert list(ours)[len(theirs):] == ["seed"]
    assert ours["seed"].kind is inspect.Parameter.KEYWORD_ONLY and ours["seed"].default is None


def test_calculate_gain_is_torchs():
    for nonlinearity in ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
                         "conv_transpose2d", "conv_transpose3d", "sigmoid", "tanh", "relu",
                         "selu"):
        assert fit.calculate_gain(nonlinearity) == torch.nn.init.calculate_gain(nonlinearity)
    for slope in (None, 0, 0.01, 0.2, 1, 3.5):
        assert fit.calculate_gain("leaky_relu", slope) == \
               torch.nn.init.calculate_gain("leaky_relu", slope)


def test_the_lectures_code_runs_with_the_new_import():
    import fastinit.torch as init
    input_dim, output_dim = 64, 32
    weight = torch.empty(input_dim, output_dim)
    assert init.xavier_uniform_(weight) is weight
    bound = math.sqrt(6 / (input_dim + output_dim))
    assert 0 < weight.abs().max() <= bound
    assert init.kaiming_uniform_(weight, mode='fan_in', nonlinearity='relu') is weight
    assert 0 < weight.abs().max() <= math.sqrt(2) * math.sqrt(3 / output_dim)  # torch: fan_in = dim 1


def test_deprecated_aliases_warn_as_torch():
    t = torch.empty(4, 5)
    with pytest.warns(FutureWarning, match="deprecated"):
        fit.xavier_uniform(t, seed=0)
    assert torch.equal(t, fit.xavier_uniform_(torch.empty(4, 5), seed=0))


# ---------------------------------------------------------------- same bits as the NumPy API

def test_xavier_uniform_equals_the_numpy_api_bit_for_bit():
    ours = fit.xavier_uniform_(torch.empty(300, 200), seed=3)
    assert torch.equal(ours, torch.from_numpy(
        fastinit.xavier_uniform((300, 200), layout="torch", seed=3)))


SHAPES = [(7, 5), (300, 200), (64, 3, 5, 5), (16, 8, 3), (4, 2, 3, 3, 3), (1, 1), (33, 1, 1)]


def torch_fans(shape):
    return torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))


@pytest.mark.parametrize("shape", SHAPES)
def test_fans_are_torchs_for_many_shapes(shape):
    fan_in, fan_out = torch_fans(shape)
    assert fastinit.compute_fans(shape, layout="torch") == (fan_in, fan_out)
    # the values are those of the NumPy API given torch's fans explicitly
    for ours, numpy_call in [
        (fit.xavier_uniform_(torch.empty(shape), gain=1.5, seed=2),
         fastinit.xavier_uniform(shape, gain=1.5, fan_in=fan_in, fan_out=fan_out, seed=2)),
        (fit.xavier_normal_(torch.empty(shape), seed=2),
         fastinit.xavier_normal(shape, fan_in=fan_in, fan_out=fan_out, seed=2)),
        (fit.kaiming_uniform_(torch.empty(shape), a=0.3, seed=2),
         fastinit.he_uniform(shape, a=0.3, nonlinearity="leaky_relu", fan_in=fan_in,
                             fan_out=fan_out, seed=2)),
        (fit.kaiming_normal_(torch.empty(shape), mode="fan_out", nonlinearity="tanh", seed=2),
         fastinit.he_normal(shape, mode="fan_out", nonlinearity="tanh", fan_in=fan_in,
                            fan_out=fan_out, seed=2)),
    ]:
        assert torch.equal(ours, torch.from_numpy(numpy_call))


def test_kaiming_default_is_torchs_leaky_relu_with_a_zero():
    ours = fit.kaiming_normal_(torch.empty(40, 30), seed=5)
    expected = fastinit.he_normal((40, 30), a=0, nonlinearity="leaky_relu", layout="torch", seed=5)
    assert torch.equal(ours, torch.from_numpy(expected))


def test_kaiming_mode_is_case_insensitive_as_torch():
    a = fit.kaiming_uniform_(torch.empty(40, 30), mode="FAN_OUT", seed=5)
    b = fit.kaiming_uniform_(torch.empty(40, 30), mode="fan_out", seed=5)
    assert torch.equal(a, b)


def test_plain_distributions_equal_the_numpy_api():
    assert torch.equal(fit.uniform_(torch.empty(30, 20), -2, 3, seed=4),
                       torch.from_numpy(fastinit.uniform((30, 20), -2, 3, seed=4)))
    assert torch.equal(fit.normal_(torch.empty(30, 20, dtype=torch.float64), 1.5, 0.2, seed=4),
                       torch.from_numpy(fastinit.normal((30, 20), 1.5, 0.2, dtype="float64", seed=4)))


def test_trunc_normal_bounds_are_absolute():
    mean, std, a, b = 1.0, 2.0, -1.0, 4.0
    ours = fit.trunc_normal_(torch.empty(200, 100), mean, std, a, b, seed=6)
    # the same draw in the NumPy API's units of std around the mean
    expected = fastinit.truncated_normal((200, 100), mean, std, (a - mean) / std, (b - mean) / std,
                                         seed=6)
    assert torch.equal(ours, torch.from_numpy(expected))
    assert ours.min() >= a and ours.max() <= b


def test_orthogonal_equals_the_numpy_api_and_is_orthogonal():
    ours = fit.orthogonal_(torch.empty(20, 4, 3), gain=2.0, seed=8)
    assert torch.equal(ours, torch.from_numpy(
        fastinit.orthogonal((20, 4, 3), gain=2.0, layout="torch", seed=8)))
    flat = ours.reshape(20, 12).double()
    assert torch.allclose(flat.T @ flat, 4 * torch.eye(12, dtype=torch.float64), atol=1e-5)


def test_sparse_is_the_normal_draw_with_the_lowest_keys_zeroed():
    rows, cols, sparsity = 50, 30, 0.3
    ours = fit.sparse_(torch.empty(rows, cols), sparsity, std=0.5, seed=9)
    g = fastinit.Generator(9)       # the documented two draws
    values = g.normal((rows, cols), 0, 0.5)
    keys = g.uniform((rows, cols), dtype="float64")
    for c in range(cols):
        values[np.argsort(keys[:, c], kind="stable")[:math.ceil(sparsity * rows)], c] = 0
    assert torch.equal(ours, torch.from_numpy(values))
    assert ((ours == 0).sum(dim=0) == math.ceil(sparsity * rows)).all()


# ---------------------------------------------------------------- distributions against torch

KS_CASES = [
    ("uniform_", (), {}),
    ("uniform_", (-3.0, 0.5), {}),
    ("normal_", (), {}),
    ("normal_", (2.0, 0.1), {}),
    ("trunc_normal_", (), {}),
    ("trunc_normal_", (0.0, 1.0, -0.5, 1.5), {}),
    ("trunc_normal_", (0.0, 0.02, -0.04, 0.04), {}),
    ("trunc_normal_", (1.0, 3.0, 0.0, 10.0), {}),
    ("xavier_uniform_", (), {}),
    ("xavier_uniform_", (5 / 3,), {}),
    ("xavier_normal_", (), {}),
    ("xavier_normal_", (0.5,), {}),
    ("kaiming_uniform_", (), {}),
    ("kaiming_uniform_", (math.sqrt(5),), {}),
    ("kaiming_uniform_", (), {"mode": "fan_out", "nonlinearity": "relu"}),
    ("kaiming_normal_", (), {}),
    ("kaiming_normal_", (0.2, "fan_out", "leaky_relu"), {}),
    ("kaiming_normal_", (), {"nonlinearity": "selu"}),
    ("orthogonal_", (), {}),
    ("orthogonal_", (1.7,), {}),
]


@pytest.mark.parametrize("shape,dtype", [((256, 384), torch.float32), ((96, 32, 3, 3), torch.float32),
                                         ((256, 384), torch.float64)])
@pytest.mark.parametrize("name,args,kwargs", KS_CASES)
def test_same_distribution_as_torch(name, args, kwargs, shape, dtype):
    theirs = torch_draw(getattr(torch.nn.init, name), shape, *args, dtype=dtype, **kwargs)
    ours = getattr(fit, name)(torch.empty(shape, dtype=dtype), *args, seed=77, **kwargs)
    assert ours.dtype == dtype
    assert ks_p(ours, theirs) > KS_P_MIN


def test_sparse_same_distribution_as_torch():
    theirs = torch_draw(torch.nn.init.sparse_, (400, 300), 0.25, 0.05)
    ours = fit.sparse_(torch.empty(400, 300), 0.25, 0.05, seed=77)
    assert torch.equal((ours == 0).sum(0), (theirs == 0).sum(0))
    assert ks_p(ours[ours != 0], theirs[theirs != 0]) > KS_P_MIN


def test_a_wrong_scale_would_fail_the_ks_check():
    # the test above has power: a 5% larger scale is rejected at this sample size
    theirs = torch_draw(torch.nn.init.kaiming_uniform_, (256, 384))
    ours = fit.kaiming_uniform_(torch.empty(256, 384), seed=77).mul_(1.05)
    assert ks_p(ours, theirs) < KS_P_MIN


# ---------------------------------------------------------------- tensors as they come

def test_returns_the_same_tensor_object():
    for name, args in [("uniform_", ()), ("normal_", ()), ("trunc_normal_", ()),
                       ("xavier_uniform_", ()), ("xavier_normal_", ()), ("kaiming_uniform_", ()),
                       ("kaiming_normal_", ()), ("orthogonal_", ()), ("sparse_", (0.5,)),
                       ("zeros_", ()), ("ones_", ()), ("eye_", ()), ("constant_", (2.0,))]:
        t = torch.empty(6, 4)
        kwargs = {"seed": 0} if name in RANDOM_FUNCTIONS else {}
        assert getattr(fit, name)(t, *args, **kwargs) is t


def test_parameter_with_requires_grad_gets_no_history():
    p = torch.nn.Parameter(torch.empty(30, 20))
    out = fit.kaiming_normal_(p, seed=1)
    assert out is p and p.requires_grad and p.grad_fn is None and p.is_leaf
    assert torch.equal(p.detach(), fit.kaiming_normal_(torch.empty(30, 20), seed=1))
    p.sum().backward()                       # still a usable leaf
    assert torch.equal(p.grad, torch.ones(30, 20))


def test_transposed_view_is_filled_as_its_logical_shape():
    base = torch.empty(20, 30)
    view = base.T                            # (30, 20), not contiguous
    fit.xavier_uniform_(view, seed=3)
    assert torch.equal(view, fit.xavier_uniform_(torch.empty(30, 20), seed=3))


@pytest.mark.parametrize("index", [(slice(2, 7), slice(None)), (slice(None), slice(3, 9)),
                                   (slice(1, 10, 2), slice(0, 12, 3))])
def test_slice_writes_nothing_outside_the_view(index):
    base = torch.full((12, 14), float("nan"))
    view = base[index]
    fit.normal_(view, 0.0, 1.0, seed=4)
    assert torch.equal(view, torch.from_numpy(fastinit.normal(tuple(view.shape), seed=4)))
    outside = torch.ones_like(base, dtype=torch.bool)
    outside[index] = False
    assert torch.isnan(base[outside]).all()


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_types_hold_the_numpy_apis_values(dtype):
    ours = fit.xavier_normal_(torch.empty(64, 48, dtype=dtype), seed=5)
    assert ours.dtype == dtype
    np_dtype = _torch_tensors.fill_dtype(ours)
    expected = fastinit.xavier_normal((64, 48), layout="torch", dtype=np_dtype, seed=5)
    if np_dtype == np.float32:               # a core without half kernels: float32, rounded
        assert torch.equal(ours, torch.from_numpy(expected).to(dtype))
    else:
        assert torch.equal(ours, _torch_tensors._to_torch(expected))


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_types_same_distribution_as_torch(dtype):
    theirs = torch_draw(torch.nn.init.kaiming_uniform_, (256, 384), dtype=dtype)
    ours = fit.kaiming_uniform_(torch.empty(256, 384, dtype=dtype), seed=77)
    assert abs(ours.double().std() / theirs.double().std() - 1) < 0.01
    assert ours.abs().max() <= theirs.abs().max() * 1.01


def test_half_non_contiguous_view():
    base = torch.zeros(10, 12, dtype=torch.bfloat16)
    fit.uniform_(base[:, 2:5], seed=1)
    assert (base[:, :2] == 0).all() and (base[:, 5:] == 0).all()
    assert torch.equal(base[:, 2:5], fit.uniform_(torch.empty(10, 3, dtype=torch.bfloat16), seed=1))


def test_meta_tensor_is_left_alone_as_torch_does():
    t = torch.empty(5, 4, device="meta")
    assert fit.kaiming_uniform_(t, seed=0) is t
    g = fastinit.Generator(1)
    assert fit.normal_(t, seed=g) is t and t.is_meta
    assert g.state["counter"] == 0                 # nothing drawn


def test_meta_tensor_arguments_are_still_checked():
    t = torch.empty(5, 4, device="meta")
    with pytest.raises(ValueError, match="std"):
        fit.normal_(t, 0.0, -1.0, seed=0)
    with pytest.raises(ValueError, match="nonlinearity"):
        fit.kaiming_normal_(t, nonlinearity="swish", seed=0)


def test_other_devices_are_a_clear_error():
    class OnAnotherDevice(torch.Tensor):
        @property
        def device(self):
            return torch.device("cuda", 0)

    t = torch.empty(5, 4).as_subclass(OnAnotherDevice)
    with pytest.raises(ValueError, match="device cuda:0.*CPU"):
        fit.normal_(t, seed=0)


@pytest.mark.parametrize("dtype", [torch.int64, torch.int32, torch.bool, torch.complex64])
def test_non_float_dtypes_are_a_type_error(dtype):
    t = torch.zeros(4, 5, dtype=dtype)
    for name in RANDOM_FUNCTIONS:
        args = (0.5,) if name == "sparse_" else ()
        with pytest.raises(TypeError, match="dtype"):
            getattr(fit, name)(t, *args, seed=0)
    assert (t == 0).all()


def test_empty_tensors_behave_as_torch():
    for name in ("kaiming_uniform_", "kaiming_normal_"):
        for shape in [(0, 5), (0,), (3, 0, 2)]:
            with pytest.warns(UserWarning, match="zero-element"):
                getattr(torch.nn.init, name)(torch.empty(shape))
            with pytest.warns(UserWarning, match="zero-element"):
                getattr(fit, name)(torch.empty(shape), seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for name in ("uniform_", "normal_", "trunc_normal_", "xavier_uniform_", "xavier_normal_",
                     "orthogonal_"):
            for shape in [(0, 5), (4, 0, 3)]:
                assert getattr(fit, name)(torch.empty(shape), seed=0).shape == shape
    with pytest.raises(ZeroDivisionError):
        torch.nn.init.xavier_uniform_(torch.empty(0, 0))
    with pytest.raises(ValueError, match="fan_in \\+ fan_out = 0"):
        fit.xavier_uniform_(torch.empty(0, 0), seed=0)


def test_uniform_with_equal_bounds_fills_the_bound_as_torch():
    assert torch.equal(fit.uniform_(torch.empty(3, 4), 1.5, 1.5, seed=0), torch.full((3, 4), 1.5))
    assert torch.equal(torch.nn.init.uniform_(torch.empty(3, 4), 1.5, 1.5), torch.full((3, 4), 1.5))


# ---------------------------------------------------------------- seeds

def test_seed_none_follows_torch_manual_seed():
    torch.manual_seed(11)
    a1, a2 = fit.normal_(torch.empty(20, 10)), fit.xavier_uniform_(torch.empty(20, 10))
    torch.manual_seed(11)
    b1, b2 = fit.normal_(torch.empty(20, 10)), fit.xavier_uniform_(torch.empty(20, 10))
    assert torch.equal(a1, b1) and torch.equal(a2, b2)
    assert not torch.equal(a1, fit.normal_(torch.empty(20, 10)))


def test_seed_none_is_the_documented_draw_from_torchs_generator():
    torch.manual_seed(12)
    ours = fit.kaiming_normal_(torch.empty(20, 10))
    torch.manual_seed(12)
    seed = int(torch.randint(0, 2 ** 63 - 1, (1,)).item())
    assert torch.equal(ours, fit.kaiming_normal_(torch.empty(20, 10), seed=seed))


def test_torch_generator_is_used_the_same_way():
    g = torch.Generator().manual_seed(13)
    ours = fit.trunc_normal_(torch.empty(20, 10), generator=g)
    seed = int(torch.randint(0, 2 ** 63 - 1, (1,), generator=torch.Generator().manual_seed(13)).item())
    assert torch.equal(ours, fit.trunc_normal_(torch.empty(20, 10), seed=seed))
    state = torch.get_rng_state()
    fit.normal_(torch.empty(3), generator=torch.Generator().manual_seed(1))
    assert torch.equal(state, torch.get_rng_state())     # the default generator is untouched


def test_fastinit_generator_gives_successive_draws():
    g = fastinit.Generator(14)
    a = fit.normal_(torch.empty(20, 10), seed=g)
    b = fit.xavier_normal_(torch.empty(20, 10), seed=g)
    h = fastinit.Generator(14)
    assert torch.equal(a, torch.from_numpy(h.normal((20, 10))))
    assert torch.equal(b, torch.from_numpy(h.xavier_normal((20, 10), layout="torch")))


def test_blocks_through_host_memory_are_one_draw(monkeypatch):
    # a tensor fastinit cannot write directly is drawn block of rows by block of rows, each
    # from the draw's first stream position; the generator then stands where one whole
    # draw leaves it
    g, h = fastinit.Generator(21), fastinit.Generator(21)
    direct = (fit.normal_(torch.empty(40, 7), seed=g),
              fit.xavier_uniform_(torch.empty(9, 5), seed=g))
    blocks = []
    real_copy = _torch_tensors.copy_block

    def copy_block(destination, host):
        blocks.append(host.shape[0])
        real_copy(destination, host)

    monkeypatch.setattr(_torch_tensors, "DIRECT_DEVICE_TYPES", frozenset())
    monkeypatch.setattr(_torch_tensors, "HOST_BLOCK_BYTES", 3 * 7 * 4)
    monkeypatch.setattr(_torch_tensors, "copy_block", copy_block)
    with _torch_tensors.host_writes():
        blocked = (fit.normal_(torch.empty(40, 7), seed=h),
                   fit.xavier_uniform_(torch.empty(9, 5), seed=h))
    assert blocks[:14] == [3] * 13 + [1]
    for a, b in zip(direct, blocked):
        assert torch.equal(a, b)
    assert g.state == h.state


def test_int_seed_is_pure():
    a = fit.normal_(torch.empty(20, 10), seed=15)
    assert torch.equal(a, fit.normal_(torch.empty(20, 10), seed=15))
    assert not torch.equal(a, fit.normal_(torch.empty(20, 10), seed=16))


# ---------------------------------------------------------------- bad input

def sentinel():
    return torch.full((6, 5), 7.0)


@pytest.mark.parametrize("call,error,match", [
    (lambda t: fit.uniform_(t, 2.0, 1.0, seed=0), ValueError, "a <= b"),
    (lambda t: fit.uniform_(t, float("nan"), 1.0, seed=0), ValueError, "a must be finite"),
    (lambda t: fit.normal_(t, 0.0, -1.0, seed=0), ValueError, "std"),
    (lambda t: fit.normal_(t, "0", 1.0, seed=0), TypeError, "mean"),
    (lambda t: fit.trunc_normal_(t, 0.0, 1.0, 1.0, -1.0, seed=0), ValueError, "a must be less than b"),
    (lambda t: fit.trunc_normal_(t, 0.0, 0.0, seed=0), ValueError, "std must be positive"),
    (lambda t: fit.trunc_normal_(t, 0.0, 1.0, 50.0, 60.0, seed=0), ValueError, "truncation"),
    (lambda t: fit.xavier_uniform_(t, gain=-1, seed=0), ValueError, "gain"),
    (lambda t: fit.kaiming_uniform_(t, mode="fan_avg", seed=0), ValueError, "fan_avg"),
    (lambda t: fit.kaiming_normal_(t, nonlinearity="swish", seed=0), ValueError, "nonlinearity"),
    (lambda t: fit.kaiming_normal_(t, a="x", seed=0), TypeError, "a must be"),
    (lambda t: fit.sparse_(t, 1.5, seed=0), ValueError, "sparsity"),
    (lambda t: fit.orthogonal_(t, gain=float("inf"), seed=0), ValueError, "gain"),
    (lambda t: fit.normal_(t, seed=-1), ValueError, "seed must be non-negative"),
    (lambda t: fit.normal_(t, seed=1.5), TypeError, "seed"),
    (lambda t: fit.normal_(t, seed=torch.Generator()), TypeError, "generator="),
    (lambda t: fit.normal_(t, seed=1, generator=torch.Generator()), TypeError, "not both"),
    (lambda t: fit.normal_(t, generator=5), TypeError, "generator must be"),
])
def test_bad_arguments_raise_before_writing(call, error, match):
    t = sentinel()
    with pytest.raises(error, match=match):
        call(t)
    assert (t == 7.0).all()


def test_fans_need_two_dimensions_as_torch():
    for name in ("xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_"):
        with pytest.raises(ValueError, match="fewer than 2 dimensions"):
            getattr(torch.nn.init, name)(torch.empty(5))
        with pytest.raises(ValueError, match="fewer than 2 dimensions"):
            getattr(fit, name)(torch.empty(5), seed=0)
    with pytest.raises(ValueError, match="2 or more dimensions"):
        fit.orthogonal_(torch.empty(5), seed=0)
    with pytest.raises(ValueError, match="2 dimensions"):
        fit.sparse_(torch.empty(2, 3, 4), 0.5, seed=0)


def test_not_a_tensor_is_a_type_error():
    with pytest.raises(TypeError, match="torch.Tensor, got ndarray"):
        fit.normal_(np.zeros((3, 3), np.float32), seed=0)


def test_import_fastinit_does_not_import_torch():
    import subprocess
    import sys
    code = ("import sys, fastinit; fastinit.normal((2, 2), seed=0); "
            "bad = [m for m in ('torch', 'jax', 'keras', 'dask', 'ml_dtypes', 'sklearn') "
            "if m in sys.modules]; print(bad); sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
