"""compute_fans and calculate_gain follow torch.nn.init (layout="torch", gains) and
Keras / JAX (layout="in_out", in_axis / out_axis).  Expected values are worked out by hand
from those definitions:

    torch:  fan_in = shape[1] * prod(shape[2:]),   fan_out = shape[0] * prod(shape[2:])
    Keras:  fan_in = shape[-2] * prod(shape[:-2]), fan_out = shape[-1] * prod(shape[:-2])
    JAX:    fan_in = prod(shape[in_axis]) * receptive, fan_out = prod(shape[out_axis]) *
            receptive, receptive = product of the remaining axes

When torch is importable the same shapes and gains are also compared with torch itself;
those comparisons skip without torch, the hand-derived tests stand on their own."""
import math

import numpy as np
import pytest

import fastinit

# shape -> (fan_in, fan_out) under the torch definition
TORCH_FANS = [
    ((7, 5), (5, 7)),                        # Linear(5, 7).weight is (out=7, in=5)
    ((4, 5, 6), (5 * 6, 4 * 6)),             # Conv1d(5, 4, kernel_size=6)
    ((128, 64, 3, 3), (64 * 9, 128 * 9)),    # Conv2d(64, 128, 3)
    ((16, 8, 2, 3, 5), (8 * 30, 16 * 30)),   # Conv3d(8, 16, (2, 3, 5))
    ((3, 1, 1, 1), (1, 3)),
    ((1, 1), (1, 1)),
]

# shape -> (fan_in, fan_out) under the Keras / JAX in_out definition
IN_OUT_FANS = [
    ((512, 256), (512, 256)),                # Dense: (in, out)
    ((4, 5, 6), (5 * 4, 6 * 4)),             # Conv1D kernel (k, in, out)
    ((3, 3, 64, 128), (64 * 9, 128 * 9)),    # Conv2D kernel (kh, kw, in, out)
    ((2, 3, 5, 8, 16), (8 * 30, 16 * 30)),   # Conv3D kernel
    ((1, 1), (1, 1)),
]


@pytest.mark.parametrize("shape, fans", TORCH_FANS)
def test_torch_layout_fans_are_in_channels_and_out_channels_times_receptive_field(shape,
                                                                                  fans):
    assert fastinit.compute_fans(shape, layout="torch") == fans


@pytest.mark.parametrize("shape, fans", IN_OUT_FANS)
def test_in_out_layout_fans_are_the_last_two_axes_times_receptive_field(shape, fans):
    assert fastinit.compute_fans(shape, layout="in_out") == fans


def test_in_out_is_the_default_layout():
    assert fastinit.compute_fans((3, 3, 64, 128)) == (576, 1152)


@pytest.mark.parametrize("shape, in_axis, out_axis, fans", [
    # torch's convention spelled as axes: in_axis=1, out_axis=0
    ((128, 64, 3, 3), 1, 0, (64 * 9, 128 * 9)),
    # (in, kh, kw, out): receptive field 3 * 3
    ((32, 3, 3, 256), 0, -1, (32 * 9, 256 * 9)),
    # tuples of axes (jax.nn.initializers): in = 2 * 3, out = 5, receptive 4
    ((2, 3, 4, 5), (0, 1), -1, (6 * 4, 5 * 4)),
    ((2, 3, 4, 5), (0, 1), (2, 3), (6, 20)),
    ((2, 3, 4, 5), (-4, -3), (2,), (6 * 5, 4 * 5)),
    # one axis given: the other keeps the layout default (in_out: out_axis = -1)
    ((2, 3, 4), 0, None, (2 * 3, 4 * 3)),
    ((2, 3, 4), None, 0, (3 * 4, 2 * 4)),
])
def test_in_axis_and_out_axis_pick_the_fans_axes_the_rest_is_receptive_field(
        shape, in_axis, out_axis, fans):
    assert fastinit.compute_fans(shape, in_axis=in_axis, out_axis=out_axis) == fans


def test_in_axis_overrides_the_torch_layout_default():
    # torch layout's out_axis stays 0; in_axis=(2, 3) makes axis 1 receptive field
    assert fastinit.compute_fans((4, 5, 6, 7), layout="torch", in_axis=(2, 3)) == \
        (6 * 7 * 5, 4 * 5)


@pytest.mark.parametrize("shape", [(), (5,)])
@pytest.mark.parametrize("in_axis", [None, -2])
def test_fans_need_two_dimensions_with_the_default_in_axis(shape, in_axis):
    with pytest.raises(ValueError, match="at least 2 dimensions.*in_axis"):
        fastinit.compute_fans(shape, in_axis=in_axis)


@pytest.mark.parametrize("shape, in_axis, out_axis, fans", [
    # JAX's rule with empty lists: in = out = 1 for [], receptive = what is left
    ((4096,), [0], [], (4096, 1)),
    ((2,), [], [0], (1, 2)),
    ((2,), [], [], (2, 2)),
    ((), [], [], (1, 1)),
    ((2, 3, 4), [0], [], (24, 12)),
])
def test_explicit_axes_give_fans_of_shapes_under_two_dimensions_and_empty_axis_lists(
        shape, in_axis, out_axis, fans):
    assert fastinit.compute_fans(shape, in_axis=in_axis, out_axis=out_axis) == fans


def test_the_numpy_api_schemes_take_explicit_axes_on_a_1d_shape():
    got = fastinit.variance_scaling((4096,), 1.0, "fan_in", "normal", in_axis=[0], out_axis=[],
                                    seed=3)
    want = fastinit.variance_scaling((4096,), 1.0, "fan_in", "normal", fan_in=4096, fan_out=1,
                                     seed=3)
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("shape, in_axis, out_axis, batch_axis, fans", [
    # receptive = prod(shape) / (in * out * batch), fan = its axes' size * receptive
    ((2, 3, 4), 0, 0, (), (2 * 24 / 4, 2 * 24 / 4)),           # in = out = 2
    ((2, 3, 4), (0, 1), 1, (), (6 * 24 / 18, 3 * 24 / 18)),    # axis 1 in both
    ((2, 3, 4), -1, 2, (), (1.0 * 4 * 24 / 16, 4 * 24 / 16)),
    ((2, 3, 4), [0, 0], 2, (), (4 * 24 / 16, 4 * 24 / 16)),    # axis 0 twice: in = 4
    ((2, 3, 4), 1, 2, 1, (3 * 24 / 36, 4 * 24 / 36)),          # batch axis also the in axis
    ((4096,), 0, -1, (), (1.0, 1.0)),                          # JAX's defaults but in_axis=0
])
def test_repeated_or_overlapping_axes_count_as_jax_counts_them(shape, in_axis, out_axis,
                                                               batch_axis, fans):
    got = fastinit.compute_fans(shape, in_axis=in_axis, out_axis=out_axis,
                                batch_axis=batch_axis)
    assert got == pytest.approx(fans, rel=1e-15)


def test_fans_refuse_an_unknown_layout():
    with pytest.raises(ValueError, match="layout"):
        fastinit.compute_fans((3, 4), layout="nchw")


@pytest.mark.parametrize("in_axis", [3, -4, (0, 3)])
def test_fans_refuse_axes_out_of_range(in_axis):
    with pytest.raises(ValueError, match="in_axis"):
        fastinit.compute_fans((2, 3, 4), in_axis=in_axis, out_axis=1)


# ---------------------------------------------------------------- gains

# torch.nn.init.calculate_gain's documented table
GAINS = [
    ("linear", None, 1.0), ("conv1d", None, 1.0), ("conv2d", None, 1.0), ("conv3d", None, 1.0),
    ("conv_transpose1d", None, 1.0), ("conv_transpose2d", None, 1.0),
    ("conv_transpose3d", None, 1.0), ("sigmoid", None, 1.0),
    ("tanh", None, 5 / 3),
    ("relu", None, math.sqrt(2)),
    ("leaky_relu", None, math.sqrt(2 / (1 + 0.01 ** 2))),   # default negative slope 0.01
    ("leaky_relu", 0.2, math.sqrt(2 / 1.04)),
    ("leaky_relu", 0, math.sqrt(2)),
    ("leaky_relu", 1, 1.0),
    ("selu", None, 3 / 4),
]


@pytest.mark.parametrize("nonlinearity, param, gain", GAINS)
def test_calculate_gain_follows_torchs_table(nonlinearity, param, gain):
    assert fastinit.calculate_gain(nonlinearity, param) == pytest.approx(gain, rel=1e-15)


def test_calculate_gain_refuses_an_unknown_nonlinearity():
    with pytest.raises(ValueError, match="nonlinearity 'swish'"):
        fastinit.calculate_gain("swish")


@pytest.mark.parametrize("param", ["0.1", True, float("nan"), float("inf")])
def test_calculate_gain_refuses_a_non_number_slope(param):
    with pytest.raises(ValueError, match="negative_slope"):
        fastinit.calculate_gain("leaky_relu", param)


# ---------------------------------------------------------------- against torch itself

@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch", reason="torch is not installed; the hand-derived "
                                               "fan and gain tests above still run")


@pytest.mark.parametrize("shape", [s for s, _ in TORCH_FANS] + [(3, 0, 2), (2, 9, 1, 1)])
def test_torch_layout_fans_equal_torchs(torch, shape):
    expected = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    assert fastinit.compute_fans(shape, layout="torch") == tuple(expected)


@pytest.mark.parametrize("nonlinearity, param", [(n, p) for n, p, _ in GAINS])
def test_calculate_gain_equals_torchs(torch, nonlinearity, param):
    assert fastinit.calculate_gain(nonlinearity, param) == pytest.approx(
        torch.nn.init.calculate_gain(nonlinearity, param), rel=1e-15)
