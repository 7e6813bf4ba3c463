"""Fans and gains: how many inputs and outputs a weight tensor connects, and the gain a
nonlinearity asks for.  The definitions follow torch.nn.init (gains, layout="torch") and
Keras / JAX (layout="in_out", in_axis / out_axis)."""
import math
import numbers
import operator

LAYOUTS = ("in_out", "torch")

# layout -> (in_axis, out_axis)
_LAYOUT_AXES = {"in_out": (-2, -1), "torch": (1, 0)}


def _axes(value, ndim, name):
    """A tuple of axes in [0, ndim) from an int or a sequence of ints (JAX semantics: an
    axis listed twice stays twice)."""
    try:
        axes = (operator.index(value),)
    except TypeError:
        try:
            axes = tuple(operator.index(a) for a in value)
        except TypeError:
            raise TypeError(f"{name} must be an int or a sequence of ints, got {value!r}") from None
    normalized = []
    for axis in axes:
        if not -ndim <= axis < ndim:
            raise ValueError(f"{name}={value!r} is out of range for a shape with {ndim} dimensions")
        normalized.append(axis % ndim)
    return tuple(normalized)


def compute_fans(shape, layout="in_out", *, in_axis=None, out_axis=None, batch_axis=()):
    """compute_fans(shape, layout="in_out", *, in_axis=None, out_axis=None, batch_axis=())
    -> (fan_in, fan_out)

    layout="in_out": shape is (*kernel, fan_in, fan_out), the NumPy / Keras / JAX convention
        (y = x @ W); fan_in = shape[-2] * prod(kernel), fan_out = shape[-1] * prod(kernel).
    layout="torch": shape is (fan_out, fan_in, *kernel), torch.nn's convention;
        fan_in = shape[1] * prod(kernel), fan_out = shape[0] * prod(kernel).
    in_axis / out_axis / batch_axis (each an int or a sequence of ints) name the axes of
        any other layout, exactly as jax.nn.initializers' _compute_fans reads them:
        in = prod(shape[in_axis]), out = prod(shape[out_axis]), batch likewise,
        receptive = prod(shape) / (in * out * batch), fan_in = in * receptive and
        fan_out = out * receptive.  With distinct axes the receptive field is the product
        of the axes in none of the lists (batch axes count towards neither fan) and the
        fans are ints; axes listed twice or in two lists are taken as JAX takes them, and
        the fans are then JAX's floats.  Empty lists are allowed, so a 1-d or 0-d shape
        has fans once its axes are given (in_axis=[0], out_axis=[] on (n,) gives (n, 1)).

    Raises ValueError for a shape of fewer than 2 dimensions with the default in_axis
    (give in_axis, or pass fan_in= and fan_out= to the scheme instead), for axes out of
    range and for unknown layouts.
    """
    shape = tuple(operator.index(d) for d in shape)
    ndim = len(shape)
    if ndim == 2 and in_axis is None and out_axis is None and batch_axis == ():
        if layout == "in_out":
            return shape[0], shape[1]
        if layout == "torch":
            return shape[1], shape[0]
    if layout not in _LAYOUT_AXES:
        raise ValueError(f"layout must be one of {LAYOUTS}, got {layout!r}")
    # JAX refuses its default in_axis (-2) below 2 dimensions with its own message
    if ndim < 2 and (in_axis is None or (type(in_axis) is int and in_axis == -2)):
        raise ValueError(f"fans need a shape with at least 2 dimensions, got {shape} with "
                         f"the default in_axis; give in_axis= (and out_axis=) explicitly, "
                         f"or pass fan_in= and fan_out=")
    default_in, default_out = _LAYOUT_AXES[layout]
    in_axes = _axes(default_in if in_axis is None else in_axis, ndim, "in_axis")
    out_axes = _axes(default_out if out_axis is None else out_axis, ndim, "out_axis")
    batch_axes = _axes(batch_axis, ndim, "batch_axis")
    in_size = math.prod(shape[i] for i in in_axes)
    out_size = math.prod(shape[i] for i in out_axes)
    listed = in_axes + out_axes + batch_axes
    if len(set(listed)) == len(listed):
        receptive = math.prod(d for i, d in enumerate(shape) if i not in listed)
        return in_size * receptive, out_size * receptive
    denominator = in_size * out_size * math.prod(shape[i] for i in batch_axes)
    if denominator == 0:
        return 0, 0                      # an empty shape: nothing to scale
    # JAX's own order of float operations, so that the fans are its bits
    receptive = math.prod(shape) / in_size / out_size / math.prod(shape[i] for i in batch_axes)
    return in_size * receptive, out_size * receptive


# torch.nn.init.calculate_gain's table
_UNIT_GAIN = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
              "conv_transpose2d", "conv_transpose3d", "sigmoid")
NONLINEARITIES = _UNIT_GAIN + ("tanh", "relu", "leaky_relu", "selu")


def calculate_gain(nonlinearity, param=None):
    """calculate_gain(nonlinearity, param=None) -> float, torch.nn.init's gain table.

    linear, conv*, conv_transpose*, sigmoid: 1;  tanh: 5/3;  relu: sqrt(2);
    leaky_relu: sqrt(2 / (1 + negative_slope**2)), negative_slope = param (default 0.01);
    selu: 3/4.
    """
    if nonlinearity in _UNIT_GAIN:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, numbers.Real) and not isinstance(param, bool):
            slope = float(param)
        else:
            raise ValueError(f"negative_slope {param!r} is not a valid number")
        if not math.isfinite(slope):
            raise ValueError(f"negative_slope must be finite, got {param!r}")
        return math.sqrt(2.0 / (1 + slope * slope))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"unsupported nonlinearity {nonlinearity!r}; expected one of {NONLINEARITIES}")
