"""python -m fastinit demo: the lecture on weight initialization, measured.

Three NumPy-only experiments, every random weight drawn by fastinit's own schemes:

1. Through depth: a plain MLP (default 20 layers of width 512, no biases) applied to a
   batch of N(0, 1) inputs; the std of the activations after every layer, and of the
   back-propagated gradient dL/dz of every layer's pre-activation for the loss
   L = sum(r * h_depth) with r ~ N(0, 1) fixed.  Every initialization of one family draws
   the same underlying normals (or uniforms) from the same seed, so only the scale
   differs between them.
2. Symmetry: a few SGD steps of a small classifier from each initialization, then the
   number of distinct hidden units (distinct incoming weights and bias) in each layer.
3. The experiment: a small MLP trained for a fixed number of epochs with manual
   backprop, tanh and relu from each initialization; test accuracy and loss.  The data
   are scikit-learn's bundled load_digits when scikit-learn is installed, otherwise a
   synthetic set (see synthetic_data).

Every table also has a row "advised": the scheme fastinit.for_activation(activation)
returns, with its gain, for the row's activation, and the report closes with a summary per
activation of what the three experiments measured for that advice.

Constant initializations (zeros, ones) are np.zeros / np.ones: there is nothing random
to draw.  Biases start at 0.  The deep MLP runs in float32, as networks are trained (a std
that leaves float32's range is reported as an overflow); the training runs in float64.
"""
import contextlib
import math
import textwrap
import time

import numpy as np

from ._api import for_activation
from ._fans import calculate_gain
from ._generator import Generator

ACTIVATIONS = ("tanh", "sigmoid", "relu")
NORMAL_INITS = ("zeros", "ones", "normal_1", "normal_0.01", "lecun_normal", "xavier_normal",
                "he_normal")
UNIFORM_INITS = ("lecun_uniform", "xavier_uniform", "he_uniform")
INITS = NORMAL_INITS + UNIFORM_INITS
CONSTANT_INITS = ("zeros", "ones")
FAN_SCALED_INITS = tuple(init for init in INITS
                         if init.partition("_")[0] in ("lecun", "xavier", "he"))
# the row of what fastinit.for_activation advises for the row's own activation
ADVISED = "advised"
TABLE_INITS = INITS + (ADVISED,)

DEFAULT_DEPTH = 20
DEFAULT_WIDTH = 512
MAX_DEPTH = 100
MAX_WIDTH = 2048
DEPTH_BATCH = 64                   # inputs pushed through the deep MLP
DEPTH_DTYPE = np.float32

# a unit counts as saturated when its output is this close to a bound of tanh or sigmoid
SATURATION_MARGIN = 0.01
SATURATED_SHARE = 0.5              # "saturates": more than this share in the last layer
# verdict on last / first layer (forward) and first / last layer (gradients)
VANISH_BELOW, SHRINK_BELOW, GROW_ABOVE, EXPLODE_ABOVE = 0.1, 0.5, 2.0, 10.0
REPORT_WIDTH = 100                 # the printed report's notes and summary wrap here

SYMMETRY_ACTIVATION = "tanh"
SYMMETRY_HIDDEN_LAYERS = 2
SYMMETRY_STEPS = 10
SYMMETRY_BATCH = 64
SYMMETRY_LEARNING_RATE = 0.1
# two units are one when their incoming weights and bias agree to this (relative) tolerance:
# BLAS may round the copies of a unit differently by a few ulps
SYMMETRY_TOLERANCE = 1e-6
SYMMETRY_REASON = ("Units with equal incoming weights compute equal outputs, so they receive "
                   "equal gradients (dL/dW[i, j] = h[i] * delta[j] and delta[j] is the same "
                   "for every copy j): SGD moves them together and a constant init never "
                   "breaks the symmetry; random weights differ from the start.")
ZEROS_NOTE = ("zeros: nothing passes through W = 0, forward or back (std 0), and like any "
              "constant init it makes the units of a layer copies of each other that training "
              "never separates (2. Symmetry).")

EXPERIMENT_ACTIVATIONS = ("tanh", "relu")
EXPERIMENT_HIDDEN = (64, 64, 64, 64)
EXPERIMENT_EPOCHS = 10
EXPERIMENT_BATCH = 64
EXPERIMENT_LEARNING_RATE = 0.1
TEST_SHARE = 0.25

SYNTHETIC_DESCRIPTION = (
    "synthetic: 1797 samples, 64 features, 10 classes; class means N(0, 1) and per-sample "
    "noise N(0, 1.5^2) from fastinit.normal at the demo's seed (scikit-learn not installed)")


# ---------------------------------------------------------------- weights and activations

def advice(activation):
    """advice(activation) -> {"call", "scheme", "keywords", "gain"}: the scheme and keywords
    of fastinit.for_activation(activation), and the gain they apply (He's comes from its
    nonlinearity)."""
    advised = for_activation(activation)
    keywords = dict(advised.keywords)
    if "gain" in keywords:
        gain = keywords["gain"]
    elif "nonlinearity" in keywords:
        gain = calculate_gain(keywords["nonlinearity"], keywords.get("a"))
    else:
        gain = 1.0
    return {"call": f"fastinit.for_activation({activation!r})", "scheme": advised.func.__name__,
            "keywords": keywords, "gain": gain}


def init_weights(init, generator, shape, dtype=np.float64, activation=None):
    """init_weights(init, generator, shape, dtype=float64, activation=None) -> the weights of
    one layer, shape (fan_in, fan_out), drawn from generator by the fastinit scheme the name
    says; normal_1 and normal_0.01 are fastinit's normal with std 1 and 0.01; "advised" is
    fastinit.for_activation(activation)'s scheme with its keywords."""
    if init == ADVISED:
        if activation is None:
            raise ValueError("init 'advised' needs the activation it is advised for")
        advised = advice(activation)
        return getattr(generator, advised["scheme"])(shape, dtype=dtype, **advised["keywords"])
    if init == "zeros":
        return np.zeros(shape, dtype)
    if init == "ones":
        return np.ones(shape, dtype)
    if init == "normal_1":
        return generator.normal(shape, 0.0, 1.0, dtype=dtype)
    if init == "normal_0.01":
        return generator.normal(shape, 0.0, 0.01, dtype=dtype)
    if init in INITS:
        return getattr(generator, init)(shape, dtype=dtype)
    raise ValueError(f"init must be one of {TABLE_INITS}, got {init!r}")


def sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))      # the same function, without exp overflow


def relu(z):
    return np.maximum(z, 0.0)


# activation -> (function, its derivative written in terms of the function's output)
ACTIVATION_FUNCTIONS = {
    "tanh": (np.tanh, lambda h: 1.0 - h * h),
    "sigmoid": (sigmoid, lambda h: h * (1.0 - h)),
    "relu": (relu, lambda h: (h > 0.0).astype(h.dtype)),
}


def _check_activation(activation, choices=ACTIVATIONS):
    if activation not in choices:
        raise ValueError(f"activation must be one of {choices}, got {activation!r}")


def saturated_share(activation, h):
    """The share of outputs within SATURATION_MARGIN of a bound of tanh (+-1) or sigmoid
    (0, 1); None for relu, which has no upper bound."""
    if activation == "tanh":
        return float(np.mean(np.abs(h) > 1.0 - SATURATION_MARGIN))
    if activation == "sigmoid":
        return float(np.mean(np.abs(h - 0.5) > 0.5 - SATURATION_MARGIN))
    return None


def robust_std(a):
    """np.std in float64 without overflow of the squares (exploding layers pass 1e20 and
    more); None when the values themselves overflowed."""
    with np.errstate(all="ignore"):
        if not np.all(np.isfinite(a)):
            return None
        scale = float(np.max(np.abs(a)))
        if scale == 0.0:
            return 0.0
        return float(np.std(a / scale, dtype=np.float64) * scale)


def _seed_sequences(seed, n):
    # fresh children each call: the same seed always gives the same n streams
    return np.random.SeedSequence(seed).spawn(n)


# ---------------------------------------------------------------- 1. through depth

def depth_profile(activation, init, *, depth=DEFAULT_DEPTH, width=DEFAULT_WIDTH, seed=0,
                  batch=DEPTH_BATCH, keep_activations=False):
    """depth_profile(activation, init, *, depth, width, seed) -> dict with "forward" (std of
    the activations after each layer), "backward" (std of dL/dz of each layer, first layer
    first), "saturation" (saturated share after each layer, None for relu) and, with
    keep_activations, "activations" (the outputs of every layer)."""
    _check_activation(activation)
    function, derivative = ACTIVATION_FUNCTIONS[activation]
    inputs_seq, weights_seq, signal_seq = _seed_sequences(seed, 3)
    x = Generator(inputs_seq).normal((batch, width), dtype=DEPTH_DTYPE)
    weights_generator = Generator(weights_seq)
    weights = [init_weights(init, weights_generator, (width, width), DEPTH_DTYPE, activation)
               for _ in range(depth)]
    outputs = []
    h = x
    with np.errstate(all="ignore"):              # overflow is measured, not warned about
        for w in weights:
            h = function(h @ w)
            outputs.append(h)
        grad_h = Generator(signal_seq).normal((batch, width), dtype=DEPTH_DTYPE)
        backward = [None] * depth
        for layer in reversed(range(depth)):
            grad_z = grad_h * derivative(outputs[layer])
            backward[layer] = robust_std(grad_z)
            grad_h = grad_z @ weights[layer].T
    profile = {
        "forward": [robust_std(h) for h in outputs],
        "backward": backward,
        "saturation": [saturated_share(activation, h) for h in outputs],
    }
    if keep_activations:
        profile["activations"] = outputs
    return profile


def _ratio(numerator, denominator):
    if numerator is None:
        return math.inf
    if denominator is None:
        return 0.0
    if denominator == 0.0:
        return 1.0 if numerator == 0.0 else math.inf
    return numerator / denominator


def _verdict_of_ratio(ratio, values):
    if any(v is None for v in values) or ratio > EXPLODE_ABOVE:
        return "explodes"
    if values[-1] == 0.0 or values[0] == 0.0 or ratio < VANISH_BELOW:
        return "vanishes"
    if ratio < SHRINK_BELOW:
        return "shrinks"
    if ratio > GROW_ABOVE:
        return "grows"
    return "stable"


def forward_verdict(forward, saturation):
    """"saturates" when more than SATURATED_SHARE of the last layer's outputs sit at a bound;
    otherwise by last / first layer std: "vanishes" (< 0.1 or all zero), "shrinks" (< 0.5),
    "stable" (0.5-2), "grows" (> 2), "explodes" (> 10 or overflow)."""
    if saturation[-1] is not None and saturation[-1] > SATURATED_SHARE:
        return "saturates"
    return _verdict_of_ratio(_ratio(forward[-1], forward[0]), forward)


def backward_verdict(backward):
    """The same thresholds on the gradient std at the first layer / at the last layer:
    what reaches the bottom of the network relative to what enters at the top."""
    return _verdict_of_ratio(_ratio(backward[0], backward[-1]), backward[::-1])


def depth_table(depth=DEFAULT_DEPTH, width=DEFAULT_WIDTH, seed=0, network_done=None):
    """depth_table(depth, width, seed) -> {"forward", "backward", "saturation", "verdict"},
    each {activation: {init: ...}} over every activation and init, the advised one included.
    network_done: called with no argument after each network, for progress."""
    table = {key: {} for key in ("forward", "backward", "saturation", "verdict")}
    for activation in ACTIVATIONS:
        for key in table:
            table[key][activation] = {}
        for init in TABLE_INITS:
            p = depth_profile(activation, init, depth=depth, width=width, seed=seed)
            table["forward"][activation][init] = p["forward"]
            table["backward"][activation][init] = p["backward"]
            table["saturation"][activation][init] = p["saturation"]
            table["verdict"][activation][init] = {
                "forward": forward_verdict(p["forward"], p["saturation"]),
                "backward": backward_verdict(p["backward"])}
            if network_done:
                network_done()
    return table


# ---------------------------------------------------------------- data and training

def synthetic_data(seed=0):
    """synthetic_data(seed) -> (x, y, description): the stand-in for load_digits when
    scikit-learn is absent: 1797 samples of 64 features in 10 classes, class c's samples
    are mean_c + noise with mean_c ~ N(0, 1) per feature and noise ~ N(0, 1.5^2), both
    from fastinit.normal; labels cycle through the classes."""
    means_seq, noise_seq = _seed_sequences(seed, 2)
    n, features, classes = 1797, 64, 10
    means = Generator(means_seq).normal((classes, features), dtype=np.float64)
    noise = Generator(noise_seq).normal((n, features), 0.0, 1.5, dtype=np.float64)
    y = np.arange(n) % classes
    return means[y] + noise, y, SYNTHETIC_DESCRIPTION


def load_data(seed=0):
    """load_data(seed) -> (x, y, description): scikit-learn's bundled load_digits (8x8
    images, 10 classes, no download) when scikit-learn is installed, else synthetic_data."""
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        return synthetic_data(seed)
    digits = load_digits()
    return (digits.data.astype(np.float64), digits.target.astype(np.int64),
            "load_digits (scikit-learn): 1797 8x8 images of digits, 64 features, 10 classes")


def split_data(x, y, seed=0):
    """split_data(x, y, seed) -> (x_train, y_train, x_test, y_test): a fixed shuffle, the
    last TEST_SHARE for testing, features standardized with the training set's statistics."""
    order = np.random.default_rng(seed).permutation(len(y))
    n_test = int(round(TEST_SHARE * len(y)))
    train, test = order[:-n_test], order[-n_test:]
    mean = x[train].mean(axis=0)
    std = x[train].std(axis=0)
    std[std == 0.0] = 1.0                       # constant pixels of load_digits stay 0
    return (x[train] - mean) / std, y[train], (x[test] - mean) / std, y[test]


class MLP:
    """A fully connected classifier: hidden layers of one activation, a softmax output,
    cross-entropy loss, plain SGD with manual backprop."""

    def __init__(self, sizes, activation, init, seed=0):
        _check_activation(activation)
        self.activation = activation
        generator = Generator(_seed_sequences(seed, 1)[0])
        self.weights = [init_weights(init, generator, (fan_in, fan_out), activation=activation)
                        for fan_in, fan_out in zip(sizes[:-1], sizes[1:])]
        self.biases = [np.zeros(fan_out) for fan_out in sizes[1:]]

    def forward(self, x):
        """-> (hidden outputs, class probabilities)"""
        function = ACTIVATION_FUNCTIONS[self.activation][0]
        hidden = []
        h = x
        for w, b in zip(self.weights[:-1], self.biases[:-1]):
            h = function(h @ w + b)
            hidden.append(h)
        logits = h @ self.weights[-1] + self.biases[-1]
        logits = logits - logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        return hidden, p / p.sum(axis=1, keepdims=True)

    def loss(self, x, y):
        """-> (mean cross-entropy, accuracy)"""
        with np.errstate(all="ignore"):
            _, p = self.forward(x)
            cross_entropy = -np.mean(np.log(np.maximum(p[np.arange(len(y)), y], 1e-300)))
        return float(cross_entropy), float(np.mean(p.argmax(axis=1) == y))

    def sgd_step(self, x, y, learning_rate):
        derivative = ACTIVATION_FUNCTIONS[self.activation][1]
        hidden, p = self.forward(x)
        grad = p
        grad[np.arange(len(y)), y] -= 1.0
        grad /= len(y)                          # dL/dlogits of the mean cross-entropy
        inputs = [x] + hidden
        for layer in reversed(range(len(self.weights))):
            grad_w = inputs[layer].T @ grad
            grad_b = grad.sum(axis=0)
            if layer > 0:
                grad = (grad @ self.weights[layer].T) * derivative(hidden[layer - 1])
            self.weights[layer] -= learning_rate * grad_w
            self.biases[layer] -= learning_rate * grad_b

    def finite(self):
        return all(np.all(np.isfinite(w)) for w in self.weights)


def distinct_units(weights, biases, tolerance=SYMMETRY_TOLERANCE):
    """distinct_units(weights, biases) -> the number of distinct units of a layer: columns of
    weights (with their bias) that differ by more than tolerance x the largest magnitude
    (each unit joins the first earlier one it matches)."""
    units = np.vstack([weights, biases[None, :]]).T
    limit = tolerance * max(float(np.max(np.abs(units))), np.finfo(np.float64).tiny)
    # Sorting by a projection puts matching units next to each other: |v.(a - b)| <=
    # sum|v| max|a - b|, so a gap wider than sum|v| * limit between neighbours separates
    # groups that cannot share a match; only units inside a group are compared.
    direction = np.cos(np.arange(1, units.shape[1] + 1))
    projection = units @ direction
    order = np.argsort(projection)
    gaps = np.flatnonzero(np.diff(projection[order]) > np.sum(np.abs(direction)) * limit)
    count = 0
    for group in np.split(order, gaps + 1):
        representatives = []
        for unit in units[group]:
            if not any(np.max(np.abs(r - unit)) <= limit for r in representatives):
                representatives.append(unit)
        count += len(representatives)
    return count


def symmetry_counts(data, *, width=DEFAULT_WIDTH, seed=0, activation=SYMMETRY_ACTIVATION,
                    steps=SYMMETRY_STEPS, network_done=None):
    """symmetry_counts(data, *, width, seed) -> {init: [distinct units of each hidden layer]}
    after `steps` SGD steps of a classifier with SYMMETRY_HIDDEN_LAYERS hidden layers of
    `width` units, every init and the advised one; data is split_data's tuple.  network_done:
    as for depth_table."""
    x_train, y_train = data[0], data[1]
    sizes = (x_train.shape[1],) + (width,) * SYMMETRY_HIDDEN_LAYERS + (int(y_train.max()) + 1,)
    counts = {}
    with np.errstate(all="ignore"):
        for init in TABLE_INITS:
            model = MLP(sizes, activation, init, seed=seed)
            for step in range(steps):
                batch = slice(step * SYMMETRY_BATCH, (step + 1) * SYMMETRY_BATCH)
                model.sgd_step(x_train[batch], y_train[batch], SYMMETRY_LEARNING_RATE)
            counts[init] = [distinct_units(w, b)
                            for w, b in zip(model.weights[:-1], model.biases[:-1])]
            if network_done:
                network_done()
    return counts


def train_and_test(data, activation, init, *, seed=0, hidden=EXPERIMENT_HIDDEN,
                   epochs=EXPERIMENT_EPOCHS):
    """train_and_test(data, activation, init, *, seed) -> {"accuracy", "loss"} on the test
    set after `epochs` epochs of minibatch SGD; both None when training diverged (a weight
    became inf or NaN)."""
    x_train, y_train, x_test, y_test = data
    sizes = (x_train.shape[1],) + tuple(hidden) + (int(y_train.max()) + 1,)
    model = MLP(sizes, activation, init, seed=seed)
    shuffle = np.random.default_rng(seed)
    with np.errstate(all="ignore"):
        for _ in range(epochs):
            order = shuffle.permutation(len(y_train))
            for start in range(0, len(order), EXPERIMENT_BATCH):
                batch = order[start:start + EXPERIMENT_BATCH]
                model.sgd_step(x_train[batch], y_train[batch], EXPERIMENT_LEARNING_RATE)
            if not model.finite():
                return {"accuracy": None, "loss": None}
    loss, accuracy = model.loss(x_test, y_test)
    if not math.isfinite(loss):
        return {"accuracy": None, "loss": None}
    return {"accuracy": accuracy, "loss": loss}


def experiment(data, *, seed=0, network_done=None):
    """experiment(data, *, seed) -> {activation: {init: {"accuracy", "loss"}}}, the advised
    init included.  network_done: as for depth_table."""
    results = {}
    for activation in EXPERIMENT_ACTIVATIONS:
        results[activation] = {}
        for init in TABLE_INITS:
            results[activation][init] = train_and_test(data, activation, init, seed=seed)
            if network_done:
                network_done()
    return results


# ---------------------------------------------------------------- 4. the summary

def sigmoid_reason(layers, measured, large_weights_verdict):
    """sigmoid_reason(layers, measured, large_weights_verdict) -> why sigmoid's gradient
    vanishes whatever the init: the bound (1/4)^layers beside the measured ratio (None: an
    overflow), and what larger weights did instead (normal_1's {"forward", "backward"})."""
    shown = "overflow" if measured is None else f"{measured:.2g}"
    return (f"sigmoid's slope is at most 1/4 (at 0), so at the scale Xavier keeps each layer "
            f"passes back at most a quarter of the gradient: (1/4)^{layers} = "
            f"{0.25 ** layers:.2g} over {layers} layers (measured: {shown}). Weights large "
            f"enough to make up for it saturate the units instead, in sigmoid's flat tails "
            f"(normal_1 here, activations / gradients: {large_weights_verdict['forward']} / "
            f"{large_weights_verdict['backward']}).")


def _finite_or_none(value):
    return value if value is not None and math.isfinite(value) else None


def summarize(report):
    """summarize(report) -> {activation: {...}}: per activation, what for_activation advises
    ("advised") and what the report measured for it: its verdicts through depth ("forward",
    "backward") with their std ratios (None on overflow), the other inits stable both ways
    ("stable_both_ways"), its test accuracy beside the fan-scaled inits' range where the
    experiment ran that activation ("accuracy", "fan_scaled_accuracy"), why sigmoid's
    gradient vanishes ("why", sigmoid only), and all of it in words ("text")."""
    depth = report["depth"]
    summary = {}
    for activation in ACTIVATIONS:
        forward = report["forward"][activation][ADVISED]
        backward = report["backward"][activation][ADVISED]
        verdicts = report["verdict"][activation]
        entry = {
            "advised": report["advised"][activation],
            "forward": verdicts[ADVISED]["forward"],
            "forward_ratio": _finite_or_none(_ratio(forward[-1], forward[0])),
            "backward": verdicts[ADVISED]["backward"],
            "backward_ratio": _finite_or_none(_ratio(backward[0], backward[-1])),
            "stable_both_ways": [init for init in INITS
                                 if verdicts[init] == {"forward": "stable",
                                                       "backward": "stable"}],
        }
        if activation in report["experiment"]:
            results = report["experiment"][activation]
            entry["accuracy"] = results[ADVISED]["accuracy"]
            reached = [results[init]["accuracy"] for init in FAN_SCALED_INITS
                       if results[init]["accuracy"] is not None]
            entry["fan_scaled_accuracy"] = [min(reached), max(reached)] if reached else None
        if activation == "sigmoid":
            entry["why"] = sigmoid_reason(depth - 1, entry["backward_ratio"],
                                          verdicts["normal_1"])
        entry["text"] = _summary_text(activation, entry, depth)
        summary[activation] = entry
    return summary


def _times(ratio):
    return "overflow" if ratio is None else f"{ratio:.2g}x"


def _summary_text(activation, entry, depth):
    advised = entry["advised"]
    text = (f"{activation}: {advised['call']} advises {advised['scheme']}, gain "
            f"{advised['gain']:.3g}. Through {depth} layers, activations: {entry['forward']} "
            f"(std at layer {depth}: {_times(entry['forward_ratio'])} layer 1's); gradients: "
            f"{entry['backward']} (at layer 1: {_times(entry['backward_ratio'])} what enters at "
            f"layer {depth}). Stable both ways here: "
            f"{', '.join(entry['stable_both_ways']) or 'no init'}.")
    if "accuracy" in entry:
        accuracy = entry["accuracy"]
        text += " Test accuracy: " + ("diverged" if accuracy is None else f"{accuracy:.3f}")
        if entry["fan_scaled_accuracy"] is not None:
            low, high = entry["fan_scaled_accuracy"]
            text += f"; the fan-scaled inits at their defaults: {low:.3f}-{high:.3f}"
        text += "."
    if "why" in entry:
        text += " Why: " + entry["why"]
    return text


# ---------------------------------------------------------------- the whole demo

@contextlib.contextmanager
def one_blas_thread():
    """One BLAS thread inside the block when threadpoolctl is installed (it comes with
    scikit-learn): the demo's matrices are small (at most width x width), and on a loaded
    2-core machine OpenBLAS's spinning second thread made each product ~10x slower."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def run_demo(depth=DEFAULT_DEPTH, width=DEFAULT_WIDTH, seed=0, progress=None):
    """run_demo(depth, width, seed, progress=None) -> the report `python -m fastinit demo
    --json` prints: width, depth, seed, advised (advice per activation), forward, backward,
    saturation, verdict, zeros_note, symmetry (first hidden layer), symmetry_per_layer,
    symmetry_reason, dataset, experiment, summary (summarize), settings, seconds.
    progress: called as progress(done, total) after each of the networks built and run."""
    started = time.perf_counter()
    total = len(TABLE_INITS) * (len(ACTIVATIONS) + 1 + len(EXPERIMENT_ACTIVATIONS))
    done = 0

    def network_done():
        nonlocal done
        done += 1
        if progress:
            progress(done, total)

    with one_blas_thread():
        table = depth_table(depth, width, seed, network_done=network_done)
        x, y, description = load_data(seed)
        data = split_data(x, y, seed)
        per_layer = symmetry_counts(data, width=width, seed=seed,
                                    network_done=network_done)
        results = experiment(data, seed=seed, network_done=network_done)
    report = {
        "width": width,
        "depth": depth,
        "seed": seed,
        "advised": {activation: advice(activation) for activation in ACTIVATIONS},
        "forward": table["forward"],
        "backward": table["backward"],
        "saturation": table["saturation"],
        "verdict": table["verdict"],
        "zeros_note": ZEROS_NOTE,
        "symmetry": {init: counts[0] for init, counts in per_layer.items()},
        "symmetry_per_layer": per_layer,
        "symmetry_reason": SYMMETRY_REASON,
        "dataset": description,
        "experiment": results,
        "settings": {
            "depth_batch": DEPTH_BATCH,
            "symmetry": {"activation": SYMMETRY_ACTIVATION, "hidden_layers":
                         SYMMETRY_HIDDEN_LAYERS, "steps": SYMMETRY_STEPS,
                         "batch": SYMMETRY_BATCH, "learning_rate": SYMMETRY_LEARNING_RATE},
            "experiment": {"hidden": list(EXPERIMENT_HIDDEN), "epochs": EXPERIMENT_EPOCHS,
                           "batch": EXPERIMENT_BATCH, "learning_rate": EXPERIMENT_LEARNING_RATE,
                           "train": len(data[1]), "test": len(data[3])},
        },
    }
    report["summary"] = summarize(report)
    report["seconds"] = round(time.perf_counter() - started, 2)
    return report


def _number(value):
    return "overflow" if value is None else f"{value:.3g}"


def _advice_label(advised):
    return f"{advised['call']}: {advised['scheme']}, gain {advised['gain']:.3g}"


def _wrapped(text, indent, first_indent=None):
    # whole words only: the lines joined by spaces give the text back
    return textwrap.wrap(text, width=REPORT_WIDTH, subsequent_indent=indent,
                         initial_indent=indent if first_indent is None else first_indent,
                         break_long_words=False, break_on_hyphens=False)


def format_report(report):
    """format_report(report) -> the text `python -m fastinit demo` prints."""
    depth, width = report["depth"], report["width"]
    middle = depth // 2
    layers = (0, middle - 1, depth - 1) if depth > 2 else tuple(range(depth))
    names = "/".join(f"L{layer + 1}" for layer in layers)
    lines = [
        f"1. Through depth: {depth} layers of width {width}, {report['settings']['depth_batch']} "
        f"inputs N(0, 1), seed {report['seed']}.",
        f"   act: std of the activations after layers {names}; grad: std of dL/dz at the "
        f"same layers (the loss's gradient enters at L{depth}).",
        f"   Verdict on last/first (grad: first/last) std: < {VANISH_BELOW} vanishes, "
        f"< {SHRINK_BELOW} shrinks, {SHRINK_BELOW}-{GROW_ABOVE} stable, > {GROW_ABOVE} grows, "
        f"> {EXPLODE_ABOVE} explodes; saturates: over {SATURATED_SHARE:.0%} of the last "
        f"layer's units within {SATURATION_MARGIN} of a bound.",
        f"   {ADVISED}: what fastinit.for_activation advises for the row's activation.",
        "",
    ]
    header = (f"{'activation':<10} {'init':<15}"
              + "".join(f"{f'act L{layer + 1}':>10}" for layer in layers)
              + f"  {'verdict':<10}"
              + "".join(f"{f'grad L{layer + 1}':>10}" for layer in layers)
              + "  verdict")
    lines += [header, "-" * len(header)]
    zeros_explained = False
    for activation in ACTIVATIONS:
        for init in TABLE_INITS:
            forward = report["forward"][activation][init]
            backward = report["backward"][activation][init]
            verdict = report["verdict"][activation][init]
            lines.append(
                f"{activation:<10} {init:<15}"
                + "".join(f"{_number(forward[l]):>10}" for l in layers)
                + f"  {verdict['forward']:<10}"
                + "".join(f"{_number(backward[l]):>10}" for l in layers)
                + f"  {verdict['backward']}")
            if init == "zeros" and not zeros_explained:
                lines += _wrapped(report["zeros_note"], " " * 13, " " * 11 + "^ ")
                zeros_explained = True
        lines.append(f"{'':<11}{ADVISED} = {_advice_label(report['advised'][activation])}")
        lines.append("")
    lines.append("   lecun and xavier coincide here: for square layers fan_in = "
                 "(fan_in + fan_out) / 2.")
    lines.append("")
    sym = report["settings"]["symmetry"]
    lines.append(f"2. Symmetry: distinct units in each hidden layer ({sym['hidden_layers']} "
                 f"layers of {width}, {sym['activation']}) after {sym['steps']} SGD steps; "
                 f"{ADVISED} = {_advice_label(report['advised'][sym['activation']])}.")
    layer_count = len(next(iter(report["symmetry_per_layer"].values())))
    lines.append(f"   {'init':<15}" + "".join(f"{'layer ' + str(l + 1):>9}"
                                               for l in range(layer_count)))
    for init, counts in report["symmetry_per_layer"].items():
        lines.append(f"   {init:<15}" + "".join(f"{c:>9}" for c in counts))
    lines.append(f"   Why: {report['symmetry_reason']}")
    lines.append("")
    exp = report["settings"]["experiment"]
    columns = list(report["experiment"])
    lines.append(f"3. Experiment: {report['dataset']}.")
    lines.append(f"   MLP {'-'.join(map(str, exp['hidden']))}, {exp['epochs']} epochs of SGD "
                 f"(batch {exp['batch']}, learning rate {exp['learning_rate']}), "
                 f"{exp['train']} train / {exp['test']} test samples; test accuracy and loss.")
    lines += _wrapped(f"{ADVISED}: " + "; ".join(_advice_label(report["advised"][a])
                                                 for a in columns) + ".", "   ")
    lines.append(f"   {'init':<15}" + "".join(f"{a + ' acc':>12}{a + ' loss':>12}"
                                              for a in columns))
    for init in TABLE_INITS:
        cells = ""
        for activation in columns:
            r = report["experiment"][activation][init]
            if r["accuracy"] is None:
                cells += f"{'diverged':>12}{'':>12}"
            else:
                cells += f"{r['accuracy']:>12.3f}{r['loss']:>12.3f}"
        lines.append(f"   {init:<15}" + cells)
    lines.append("")
    lines.append("4. Summary: what fastinit.for_activation advises for each activation, and "
                 "what 1-3 measured for it.")
    for activation in ACTIVATIONS:
        lines += _wrapped(report["summary"][activation]["text"], "     ", "   ")
    lines.append("")
    lines.append(f"({report['seconds']:.1f} s)")
    return "\n".join(lines)


# (activation, init) pairs whose per-layer histograms the plot shows, after Glorot & Bengio
# (2010), Fig. 6: saturation, collapse to 0, and the two advised pairings
HISTOGRAM_CASES = (("tanh", "normal_1"), ("tanh", "normal_0.01"), ("tanh", "xavier_normal"),
                   ("relu", "he_normal"))
INIT_COLORS = {"zeros": "tab:gray", "ones": "tab:brown", "normal_1": "tab:red",
               "normal_0.01": "tab:purple", "lecun": "tab:orange", "xavier": "tab:blue",
               "he": "tab:green"}


def histogram_layers(depth):
    """Up to five layers spread from the first to the last (1-based)."""
    return sorted(set(int(round(v)) for v in np.linspace(1, depth, min(depth, 5))))


def _style(init):
    if init == ADVISED:
        return {"color": "black", "linestyle": ":"}
    family, _, kind = init.partition("_")
    color = INIT_COLORS.get(family, INIT_COLORS.get(init))
    return {"color": color, "linestyle": "--" if kind == "uniform" else "-"}


def plot(report, path):
    """plot(report, path): per-layer activation histograms for HISTOGRAM_CASES (recomputed at
    the report's depth, width and seed) and the std of activations and gradients through
    depth for every activation and init, saved to path (needs matplotlib)."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    depth, width, seed = report["depth"], report["width"], report["seed"]
    fig = Figure(figsize=(14, 11))
    fig.suptitle(f"fastinit demo: MLP of depth {depth}, width {width}, seed {seed}; "
                 f"weights from fastinit's schemes", fontsize=11)
    # a fixed grid (12 columns: 4 histograms, then 3 curves a row) rather than constrained
    # layout, which took half of the plot's time
    grid = fig.add_gridspec(3, 12, left=0.05, right=0.875, top=0.91, bottom=0.05,
                            hspace=0.5, wspace=1.2)

    def row_title(axes, text):
        box = axes[0].get_position()
        fig.text(0.46, box.y1 + 0.03, text, ha="center", fontsize=10)

    layers = histogram_layers(depth)
    colors = [f"C{i}" for i in range(len(layers))]
    span = 12 // len(HISTOGRAM_CASES)
    histogram_axes = [fig.add_subplot(grid[0, i * span:(i + 1) * span])
                      for i in range(len(HISTOGRAM_CASES))]
    row_title(histogram_axes, "Activation values per layer (Glorot & Bengio 2010, Fig. 6): "
                              "share of values in each bin")
    with one_blas_thread():
        for ax, (activation, init) in zip(histogram_axes, HISTOGRAM_CASES):
            outputs = depth_profile(activation, init, depth=depth, width=width, seed=seed,
                                    keep_activations=True)["activations"]
            title = f"{activation}, {init}"
            if activation == "relu":
                title += " (values > 0)"
                chosen = [outputs[layer - 1][outputs[layer - 1] > 0] for layer in layers]
                top = max((float(np.quantile(v, 0.99)) for v in chosen if v.size), default=1.0)
                value_range = (0.0, top)
            else:
                chosen = [outputs[layer - 1].ravel() for layer in layers]
                value_range = (-1.0, 1.0) if activation == "tanh" else (0.0, 1.0)
            for values, layer, color in zip(chosen, layers, colors):
                counts, edges = np.histogram(values, bins=50, range=value_range)
                ax.stairs(counts / max(values.size, 1), edges, color=color,
                          label=f"layer {layer}")
            ax.set_title(title, fontsize=9)
            ax.set_xlabel("activation value", fontsize=8)
            ax.tick_params(labelsize=7)
            ax.legend(fontsize=7)
    span = 12 // len(ACTIVATIONS)
    for row, key, what in ((1, "forward", "activations"), (2, "backward", "gradients dL/dz")):
        axes = [fig.add_subplot(grid[row, i * span:(i + 1) * span])
                for i in range(len(ACTIVATIONS))]
        row_title(axes, f"std of the {what} through depth (log scale; all-zero and overflowed "
                        f"layers not drawn; lecun = xavier for square layers; {ADVISED}: "
                        f"fastinit.for_activation)")
        for ax, activation in zip(axes, ACTIVATIONS):
            for init in TABLE_INITS:
                values = np.array([np.nan if v is None or v <= 0 else v
                                   for v in report[key][activation][init]])
                ax.plot(np.arange(1, depth + 1), values, label=init, linewidth=1.2,
                        **_style(init))
            ax.set_yscale("log")
            ax.set_title(activation, fontsize=9)
            ax.set_xlabel("layer", fontsize=8)
            ax.set_ylabel("std", fontsize=8)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.tick_params(labelsize=7)
        box = axes[-1].get_position()
        fig.legend(*axes[-1].get_legend_handles_labels(), loc="center left", fontsize=7,
                   bbox_to_anchor=(0.885, (box.y0 + box.y1) / 2))
    fig.savefig(path, dpi=80)
