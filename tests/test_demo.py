"""python -m fastinit demo: the lecture's claims, checked on the numbers the demo reports
(fixed seeds, the demo's own depth 20 and width 512 where a claim is about depth), its
JSON, and its flags.  Needs NumPy only: the plot and load_digits have their own modules
(test_demo_plot.py, test_demo_digits.py)."""
import contextlib
import io
import json
import subprocess
import sys

import numpy as np
import pytest

import fastinit
from fastinit import _demo
from fastinit.__main__ import main

DEPTH, WIDTH = _demo.DEFAULT_DEPTH, _demo.DEFAULT_WIDTH
RANDOM_INITS = [init for init in _demo.INITS if init not in _demo.CONSTANT_INITS]


@pytest.fixture(autouse=True)
def _one_blas_thread():
    with _demo.one_blas_thread():
        yield


@pytest.fixture(scope="module")
def profiles():
    """depth_profile of each (activation, init) at the demo's default size, computed once."""
    cache = {}

    def profile(activation, init):
        if (activation, init) not in cache:
            with _demo.one_blas_thread():
                cache[activation, init] = _demo.depth_profile(activation, init, depth=DEPTH,
                                                              width=WIDTH, seed=0)
        return cache[activation, init]
    return profile


def run_main(argv):
    """(exit code, stdout) of `python -m fastinit` with argv, in this process."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(argv)
    return code, out.getvalue()


@pytest.fixture(scope="module")
def small_report():
    """The --json report of a small run (depth 6, width 32), parsed."""
    with _demo.one_blas_thread():
        code, text = run_main(["demo", "--json", "--depth", "6", "--width", "32", "--seed", "3"])
    assert code == 0
    return json.loads(text)


# ---------------------------------------------------------------- the weights are fastinit's

@pytest.mark.parametrize("init", ["lecun_normal", "xavier_uniform", "he_normal", "he_uniform"])
def test_scheme_weights_are_fastinits_bits(init):
    weights = _demo.init_weights(init, fastinit.Generator(11), (64, 32), np.float32)
    expected = getattr(fastinit, init)((64, 32), seed=11, dtype=np.float32)
    assert np.array_equal(weights, expected)


@pytest.mark.parametrize("init, std", [("normal_1", 1.0), ("normal_0.01", 0.01)])
def test_plain_normal_weights_are_fastinits_bits(init, std):
    weights = _demo.init_weights(init, fastinit.Generator(11), (64, 32))
    assert np.array_equal(weights, fastinit.normal((64, 32), std=std, seed=11,
                                                   dtype=np.float64))


@pytest.mark.parametrize("activation", _demo.ACTIVATIONS)
def test_advised_weights_are_for_activations_bits(activation):
    weights = _demo.init_weights(_demo.ADVISED, fastinit.Generator(11), (64, 32), np.float32,
                                 activation)
    expected = fastinit.for_activation(activation)((64, 32), seed=11, dtype=np.float32)
    assert np.array_equal(weights, expected)


# torch.nn.init.calculate_gain's table: tanh 5/3, relu sqrt(2), sigmoid 1
@pytest.mark.parametrize("activation, scheme, gain", [("tanh", "xavier_normal", 5 / 3),
                                                      ("sigmoid", "xavier_normal", 1.0),
                                                      ("relu", "he_normal", 2 ** 0.5)])
def test_advice_names_the_scheme_and_its_gain(activation, scheme, gain):
    advice = _demo.advice(activation)
    assert advice["scheme"] == scheme
    assert advice["gain"] == pytest.approx(gain, rel=1e-12)
    assert advice["call"] == f"fastinit.for_activation({activation!r})"


def test_advised_init_needs_its_activation():
    with pytest.raises(ValueError, match="activation"):
        _demo.init_weights(_demo.ADVISED, fastinit.Generator(0), (2, 2))


def test_constant_weights():
    assert np.all(_demo.init_weights("zeros", None, (3, 4)) == 0.0)
    assert np.all(_demo.init_weights("ones", None, (3, 4)) == 1.0)


def test_unknown_init_is_refused():
    with pytest.raises(ValueError, match="init"):
        _demo.init_weights("glorot", fastinit.Generator(0), (2, 2))


def test_unknown_activation_is_refused():
    with pytest.raises(ValueError, match="activation"):
        _demo.depth_profile("gelu", "he_normal", depth=2, width=4)


# ---------------------------------------------------------------- 1. through depth

@pytest.mark.parametrize("init", ["he_normal", "he_uniform"])
def test_he_keeps_relu_std_within_half_and_double(profiles, init):
    p = profiles("relu", init)
    forward, backward = np.array(p["forward"]), np.array(p["backward"])
    assert np.all((forward / forward[0] >= 0.5) & (forward / forward[0] <= 2.0))
    assert np.all((backward / backward[-1] >= 0.5) & (backward / backward[-1] <= 2.0))
    assert _demo.forward_verdict(p["forward"], p["saturation"]) == "stable"
    assert _demo.backward_verdict(p["backward"]) == "stable"


# He et al. 2015, eq. 10: through a relu layer with zero-mean weights of variance v, the
# second moment of the activations is multiplied by width * v / 2, so the std after layer L
# is (width * v / 2) ** ((L - 1) / 2) times the std after layer 1.
RELU_WEIGHT_VARIANCE = {"normal_1": 1.0, "normal_0.01": 1e-4, "lecun_normal": 1 / WIDTH,
                        "xavier_uniform": 1 / WIDTH, "he_normal": 2 / WIDTH,
                        "he_uniform": 2 / WIDTH}


@pytest.mark.parametrize("init", sorted(RELU_WEIGHT_VARIANCE))
def test_relu_std_scales_as_he_derived(profiles, init):
    forward = profiles("relu", init)["forward"]
    predicted = (WIDTH * RELU_WEIGHT_VARIANCE[init] / 2) ** ((DEPTH - 1) / 2)
    assert 0.5 <= (forward[-1] / forward[0]) / predicted <= 2.0


@pytest.mark.parametrize("init, verdict", [("lecun_normal", "vanishes"),
                                           ("xavier_normal", "vanishes"),
                                           ("normal_0.01", "vanishes"),
                                           ("normal_1", "explodes"), ("ones", "explodes")])
def test_relu_verdicts_off_he(profiles, init, verdict):
    p = profiles("relu", init)
    assert _demo.forward_verdict(p["forward"], p["saturation"]) == verdict
    assert _demo.backward_verdict(p["backward"]) == verdict


@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
def test_normal_1_saturates(profiles, activation):
    p = profiles(activation, "normal_1")
    assert min(p["saturation"]) > 0.7            # at every layer, most units sit at a bound
    assert _demo.forward_verdict(p["forward"], p["saturation"]) == "saturates"


def test_xavier_keeps_tanh_out_of_saturation(profiles):
    p = profiles("tanh", "xavier_normal")
    assert max(p["saturation"]) < 0.05
    assert _demo.forward_verdict(p["forward"], p["saturation"]) != "saturates"


def test_tanh_std_is_bounded_by_one(profiles):
    assert all(0.0 <= s <= 1.0 for init in _demo.INITS
               for s in profiles("tanh", init)["forward"])


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_small_normal_vanishes(profiles, activation):
    forward = profiles(activation, "normal_0.01")["forward"]
    assert forward[-1] < 1e-9 * forward[0]


def test_sigmoid_gradient_vanishes_even_from_xavier(profiles):
    # sigmoid' <= 1/4: with xavier's variance the gradient's std falls by >= 4x a layer
    backward = profiles("sigmoid", "xavier_normal")["backward"]
    assert backward[0] < 4.0 ** -(DEPTH - 1) * 2 * backward[-1]
    assert _demo.backward_verdict(backward) == "vanishes"


@pytest.mark.parametrize("activation", _demo.ACTIVATIONS)
def test_zeros_give_zero_activations_and_lower_gradients(profiles, activation):
    p = profiles(activation, "zeros")
    assert p["forward"] == [0.0] * DEPTH
    assert p["backward"][:-1] == [0.0] * (DEPTH - 1)     # nothing flows through W = 0
    assert _demo.forward_verdict(p["forward"], p["saturation"]) == "vanishes"


@pytest.mark.parametrize("activation, scheme", [("sigmoid", "xavier_normal"),
                                               ("relu", "he_normal")])
def test_advice_at_the_schemes_default_gain_is_the_schemes_row(profiles, activation, scheme):
    # for_activation adds nothing to these schemes' defaults: the same draws, the same numbers
    assert profiles(activation, _demo.ADVISED) == profiles(activation, scheme)


def test_advised_tanh_gain_keeps_tanh_stable_and_unsaturated(profiles):
    advised, gain_one = profiles("tanh", _demo.ADVISED), profiles("tanh", "xavier_normal")
    assert max(advised["saturation"]) < 0.5
    assert _demo.forward_verdict(advised["forward"], advised["saturation"]) == "stable"
    # gain 5/3 keeps more of the signal than Xavier's gain 1, forward and back
    assert advised["forward"][-1] > gain_one["forward"][-1]
    assert advised["backward"][0] / advised["backward"][-1] > (
        gain_one["backward"][0] / gain_one["backward"][-1])


@pytest.mark.parametrize("init", _demo.FAN_SCALED_INITS + (_demo.ADVISED,))
def test_sigmoid_gradient_vanishes_from_every_fan_scaled_init(profiles, init):
    assert _demo.backward_verdict(profiles("sigmoid", init)["backward"]) == "vanishes"


def test_lecun_and_xavier_coincide_on_square_layers(profiles):
    for activation in _demo.ACTIVATIONS:
        assert profiles(activation, "lecun_normal")["forward"] == pytest.approx(
            profiles(activation, "xavier_normal")["forward"], rel=1e-5)


def test_depth_profile_is_reproducible_and_seeded():
    a = _demo.depth_profile("tanh", "he_normal", depth=4, width=32, seed=5)
    b = _demo.depth_profile("tanh", "he_normal", depth=4, width=32, seed=5)
    c = _demo.depth_profile("tanh", "he_normal", depth=4, width=32, seed=6)
    assert a == b
    assert a["forward"] != c["forward"]


def test_overflow_is_reported_as_none_and_explodes():
    # ones and relu multiply the values by the width every layer: 1024**15 > float32's max
    p = _demo.depth_profile("relu", "ones", depth=16, width=1024, batch=16)
    assert p["forward"][0] is not None and p["forward"][-1] is None
    assert _demo.forward_verdict(p["forward"], p["saturation"]) == "explodes"


@pytest.mark.parametrize("values, verdict", [
    ([1.0, 0.5, 0.09], "vanishes"), ([1.0, 0.8, 0.0], "vanishes"), ([0.0, 0.0, 0.0], "vanishes"),
    ([1.0, 0.7, 0.3], "shrinks"), ([1.0, 1.1, 0.6], "stable"), ([1.0, 1.5, 1.9], "stable"),
    ([1.0, 2.0, 5.0], "grows"), ([1.0, 5.0, 11.0], "explodes"), ([1.0, 1e30, None], "explodes"),
])
def test_forward_verdict_thresholds(values, verdict):
    assert _demo.forward_verdict(values, [None] * len(values)) == verdict
    # the gradient verdict reads the same list from the top down
    assert _demo.backward_verdict(values[::-1]) == verdict


def test_saturation_takes_precedence():
    assert _demo.forward_verdict([0.9, 0.9, 0.9], [0.9, 0.9, 0.6]) == "saturates"
    assert _demo.forward_verdict([0.9, 0.9, 0.9], [0.9, 0.9, 0.4]) == "stable"


def test_robust_std_survives_huge_values():
    a = np.array([1e30, -1e30, 3e30, -3e30], np.float32)
    assert _demo.robust_std(a) == pytest.approx(float(np.std(a.astype(np.float64))), rel=1e-6)
    assert _demo.robust_std(np.array([1.0, np.inf])) is None
    assert _demo.robust_std(np.zeros(3)) == 0.0


# ---------------------------------------------------------------- 2. symmetry

def test_distinct_units_counts_copies_as_one():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=6), rng.normal(size=6)
    weights = np.stack([a, b, a, a * (1 + 1e-12), b, a + 1e-3], axis=1)
    assert _demo.distinct_units(weights, np.zeros(6)) == 3
    # the bias is part of a unit
    assert _demo.distinct_units(weights, np.array([0, 0, 1.0, 0, 0, 0])) == 4


def test_distinct_units_of_random_weights_is_the_width():
    weights = fastinit.he_normal((40, 300), seed=1, dtype=np.float64)
    assert _demo.distinct_units(weights, np.zeros(300)) == 300


@pytest.fixture(scope="module")
def symmetry():
    data = _demo.split_data(*_demo.synthetic_data(0)[:2], seed=0)
    with _demo.one_blas_thread():
        return _demo.symmetry_counts(data, width=64, seed=0)


@pytest.mark.parametrize("init", _demo.CONSTANT_INITS)
def test_constant_inits_keep_one_distinct_unit(symmetry, init):
    assert symmetry[init] == [1] * _demo.SYMMETRY_HIDDEN_LAYERS


@pytest.mark.parametrize("init", RANDOM_INITS)
def test_random_inits_keep_every_unit_distinct(symmetry, init):
    assert symmetry[init] == [64] * _demo.SYMMETRY_HIDDEN_LAYERS


def test_constant_init_weights_do_move():
    # the copies stay copies although SGD changes them (the symmetry is not mere stillness)
    data = _demo.split_data(*_demo.synthetic_data(0)[:2], seed=0)
    model = _demo.MLP((64, 16, 16, 10), "sigmoid", "zeros")
    before = [w.copy() for w in model.weights]
    for step in range(5):
        model.sgd_step(data[0][step * 64:(step + 1) * 64], data[1][step * 64:(step + 1) * 64],
                       0.1)
    assert not np.array_equal(before[0], model.weights[0])
    assert _demo.distinct_units(model.weights[0], model.biases[0]) == 1


# ---------------------------------------------------------------- 3. the experiment's data

def test_synthetic_data_without_scikit_learn(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    x, y, description = _demo.load_data(seed=2)
    assert description.startswith("synthetic")
    assert x.shape == (1797, 64) and y.shape == (1797,)
    assert sorted(set(y.tolist())) == list(range(10))
    x2, y2, _ = _demo.synthetic_data(seed=2)
    assert np.array_equal(x, x2) and np.array_equal(y, y2)


def test_split_is_disjoint_and_standardized():
    x, y, _ = _demo.synthetic_data(0)
    x_train, y_train, x_test, y_test = _demo.split_data(x, y, seed=0)
    assert len(y_train) + len(y_test) == len(y)
    assert len(y_test) == round(_demo.TEST_SHARE * len(y))
    assert np.allclose(x_train.mean(axis=0), 0.0, atol=1e-12)
    assert np.allclose(x_train.std(axis=0), 1.0)


@pytest.mark.parametrize("activation, init", [("relu", "he_normal"), ("tanh", "xavier_normal")])
def test_advised_init_learns_the_synthetic_set(activation, init):
    data = _demo.split_data(*_demo.synthetic_data(0)[:2], seed=0)
    result = _demo.train_and_test(data, activation, init)
    assert result["accuracy"] > 0.9                  # chance is 0.1


@pytest.mark.parametrize("init", ["zeros", "ones"])
def test_constant_init_does_not_learn_the_synthetic_set(init):
    data = _demo.split_data(*_demo.synthetic_data(0)[:2], seed=0)
    result = _demo.train_and_test(data, "tanh", init)
    assert result["accuracy"] < 0.2


# ---------------------------------------------------------------- the command and --json

ISSUE_INITS = ("zeros", "ones", "normal_1", "normal_0.01", "lecun_normal", "xavier_normal",
               "he_normal")


def test_json_has_the_issues_keys_and_shapes(small_report):
    r = small_report
    assert r["width"] == 32 and r["depth"] == 6
    assert set(r["forward"]) == set(r["backward"]) == {"tanh", "sigmoid", "relu"}
    for key in ("forward", "backward"):
        for activation, by_init in r[key].items():
            assert set(ISSUE_INITS) <= set(by_init)
            assert all(len(stds) == 6 for stds in by_init.values())
            assert all(s is None or s >= 0 for stds in by_init.values() for s in stds)
    assert set(ISSUE_INITS) <= set(r["symmetry"])
    assert set(r["experiment"]) == {"tanh", "relu"}
    for by_init in r["experiment"].values():
        assert set(ISSUE_INITS) <= set(by_init)
        for result in by_init.values():
            assert set(result) == {"accuracy", "loss"}
            assert result["accuracy"] is None or 0.0 <= result["accuracy"] <= 1.0


def test_json_symmetry_claims(small_report):
    symmetry = small_report["symmetry"]
    assert symmetry["zeros"] == 1 and symmetry["ones"] == 1
    assert all(symmetry[init] == 32 for init in RANDOM_INITS)


def test_json_numbers_are_the_functions_numbers(small_report):
    p = _demo.depth_profile("relu", "he_normal", depth=6, width=32, seed=3)
    assert small_report["forward"]["relu"]["he_normal"] == p["forward"]
    assert small_report["backward"]["relu"]["he_normal"] == p["backward"]


def test_the_table_names_every_init_and_a_verdict(small_report):
    text = _demo.format_report(small_report)
    for activation in _demo.ACTIVATIONS:
        for init in _demo.TABLE_INITS:
            row = next(line for line in text.splitlines()
                       if line.startswith(f"{activation:<10} {init} "))
            verdict = small_report["verdict"][activation][init]
            assert verdict["forward"] in row and verdict["backward"] in row
    assert "Why:" in text and "dL/dW" in text


def test_the_table_names_each_advice_under_its_rows(small_report):
    lines = _demo.format_report(small_report).splitlines()
    for activation in _demo.ACTIVATIONS:
        advice = small_report["advised"][activation]
        row = next(i for i, line in enumerate(lines)
                   if line.startswith(f"{activation:<10} {_demo.ADVISED} "))
        assert lines[row + 1].split() == [
            _demo.ADVISED, "=", f"{advice['call']}:", f"{advice['scheme']},", "gain",
            f"{advice['gain']:.3g}"]


def test_zeros_symmetry_is_explained_where_zeros_first_appears(small_report):
    lines = _demo.format_report(small_report).splitlines()
    first_zeros = next(i for i, line in enumerate(lines) if " zeros " in line)
    assert lines[first_zeros].startswith(f"{_demo.ACTIVATIONS[0]:<10} zeros ")
    assert lines[first_zeros + 1].strip().startswith("^ zeros:")
    note = " ".join(line.strip() for line in lines[first_zeros + 1:first_zeros + 4])
    assert small_report["zeros_note"] in note.removeprefix("^ ")
    assert "copies" in small_report["zeros_note"] and "Symmetry" in small_report["zeros_note"]


@pytest.mark.parametrize("activation", _demo.ACTIVATIONS)
def test_summary_is_the_measured_numbers_of_the_advice(small_report, activation):
    r, summary = small_report, small_report["summary"][activation]
    forward = r["forward"][activation][_demo.ADVISED]
    backward = r["backward"][activation][_demo.ADVISED]
    assert summary["advised"] == r["advised"][activation]
    assert summary["forward"] == r["verdict"][activation][_demo.ADVISED]["forward"]
    assert summary["backward"] == r["verdict"][activation][_demo.ADVISED]["backward"]
    assert summary["forward_ratio"] == pytest.approx(forward[-1] / forward[0])
    assert summary["backward_ratio"] == pytest.approx(backward[0] / backward[-1])
    for init in _demo.INITS:
        both_stable = all(v == "stable" for v in r["verdict"][activation][init].values())
        assert (init in summary["stable_both_ways"]) == both_stable, init


@pytest.mark.parametrize("activation", _demo.EXPERIMENT_ACTIVATIONS)
def test_summary_has_the_advices_accuracy_and_the_fan_scaled_range(small_report, activation):
    results = small_report["experiment"][activation]
    summary = small_report["summary"][activation]
    assert summary["accuracy"] == results[_demo.ADVISED]["accuracy"]
    fan_scaled = [results[init]["accuracy"] for init in
                  ("lecun_normal", "xavier_normal", "he_normal", "lecun_uniform",
                   "xavier_uniform", "he_uniform")]
    assert summary["fan_scaled_accuracy"] == [min(fan_scaled), max(fan_scaled)]
    assert f"{summary['accuracy']:.3f}" in summary["text"]


def test_summary_text_says_scheme_gain_and_verdicts(small_report):
    for activation in _demo.ACTIVATIONS:
        summary = small_report["summary"][activation]
        advice = summary["advised"]
        text = summary["text"]
        assert text.startswith(f"{activation}: {advice['call']} advises {advice['scheme']}, "
                               f"gain {advice['gain']:.3g}.")
        assert f"activations: {summary['forward']}" in text
        assert f"gradients: {summary['backward']}" in text


def test_sigmoid_summary_says_why_with_its_bound_and_measurement(small_report):
    summary = small_report["summary"]["sigmoid"]
    layers = small_report["depth"] - 1
    assert "slope is at most 1/4" in summary["why"]
    assert f"(1/4)^{layers} = {0.25 ** layers:.2g}" in summary["why"]
    assert f"measured: {summary['backward_ratio']:.2g}" in summary["why"]
    large = small_report["verdict"]["sigmoid"]["normal_1"]
    assert f"{large['forward']} / {large['backward']}" in summary["why"]
    assert summary["text"].endswith("Why: " + summary["why"])
    assert all("why" not in small_report["summary"][a] for a in ("tanh", "relu"))


def test_the_report_closes_with_the_summary(small_report):
    lines = _demo.format_report(small_report).splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("4. Summary"))
    closing = " ".join(line.strip() for line in lines[start + 1:])
    for activation in _demo.ACTIVATIONS:
        assert small_report["summary"][activation]["text"] in closing


def test_json_summary_is_summarize_of_the_json(small_report):
    assert small_report["summary"] == json.loads(json.dumps(_demo.summarize(small_report)))


def test_demo_prints_the_tables(capsys):
    assert main(["demo", "--depth", "3", "--width", "8"]) == 0
    out = capsys.readouterr().out
    assert "1. Through depth: 3 layers of width 8" in out
    assert "2. Symmetry" in out and "3. Experiment" in out
    assert all(init in out for init in _demo.INITS)


@pytest.mark.parametrize("argv, flag", [
    (["--depth", "0"], "--depth"), (["--depth", "1"], "--depth"),
    (["--depth", "101"], "--depth"), (["--depth", "2.5"], "--depth"),
    (["--width", "1"], "--width"), (["--width", "abc"], "--width"),
    (["--width", str(_demo.MAX_WIDTH + 1)], "--width"),
    (["--seed", "-1"], "--seed"), (["--seed", "x"], "--seed"),
])
def test_bad_flag_values_are_refused(monkeypatch, capsys, argv, flag):
    monkeypatch.setattr(_demo, "run_demo", lambda **kw: pytest.fail("the demo ran"))
    with pytest.raises(SystemExit) as exit_info:
        main(["demo"] + argv)
    assert exit_info.value.code == 2
    assert f"argument {flag}" in capsys.readouterr().err


def test_plot_without_matplotlib_says_how_to_install(monkeypatch, capsys, tmp_path):
    for name in ("matplotlib", "matplotlib.figure"):
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setattr(_demo, "run_demo", lambda **kw: pytest.fail("the demo ran"))
    path = tmp_path / "demo.png"
    with pytest.raises(SystemExit) as exit_info:
        main(["demo", "--plot", str(path)])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "--plot needs matplotlib" in err and "pip install matplotlib" in err
    assert 'pip install ".[demo]" from a fastinit checkout' in err
    assert 'pip install "fastinit-weights[demo]" once' in err
    assert not path.exists()


def test_import_fastinit_leaves_the_demo_alone():
    # the demo is only imported by its command; fastinit's import stays light
    code = ("import sys, fastinit; "
            "print(any(m in sys.modules for m in ('fastinit._demo', 'sklearn', 'matplotlib')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_without_threadpoolctl_the_demo_says_so_and_runs(monkeypatch, capsys, small_report):
    monkeypatch.setitem(sys.modules, "threadpoolctl", None)
    with _demo.one_blas_thread():                    # a no-op then, not an error
        pass
    monkeypatch.setattr(_demo, "run_demo", lambda **kw: small_report)
    assert main(["demo", "--json"]) == 0
    captured = capsys.readouterr()
    assert "threadpoolctl is not installed" in captured.err
    assert json.loads(captured.out) == small_report
    assert main(["demo", "--json", "--quiet"]) == 0           # --quiet: not even the note
    assert capsys.readouterr().err == ""
