"""The tables `python -m fastinit bench` prints read on their own: the ratio column says what
it compares, fastinit's losses read "slower", every contender is defined on its first row,
and torch's thread count appears only where torch is.  Formatting only: no time is measured
or asserted here."""
import os

import pytest

from fastinit import _bench


def machine(torch_threads):
    return {"cpu": "test CPU", "machine": "x86_64", "system": "Linux", "cores": 2,
            "usable_cores": 2, "fastinit_isa": "scalar", "fastinit_isas_available": ["scalar"],
            "fastinit_threads": 2, "torch_threads": torch_threads, "load_average_1min": 0.5,
            "python": "3.11.0", "versions": {"fastinit": "0.1.0", "numpy": "2.0.0"}}


def row(scheme, contender, median_ms, speedup, library=None):
    return {"scheme": scheme, "contender": contender, "library": library or contender,
            "code": f"code of {contender}", "runs": 3, "dtype": "float32",
            "times_ms": [median_ms] * 3, "median_ms": median_ms, "gb_per_s": 1.0,
            "ratio_to_floor": 1.0, "fastinit_speedup": speedup}


# fastinit all cores at 50 ms: numpy (200 ms) is 4x slower, `out=` (40 ms) faster than it
ROWS = [
    row("floor", "floor np.ones", 45.0, None, "floor"),
    row("he_normal", "fastinit threads=1", 80.0, 80.0 / 50.0, "fastinit"),
    row("he_normal", "fastinit all cores", 50.0, None, "fastinit"),
    row("he_normal", "fastinit all cores out=", 40.0, 40.0 / 50.0, "fastinit"),
    row("he_normal", "numpy", 200.0, 200.0 / 50.0),
    row("xavier_uniform", "fastinit all cores", 30.0, None, "fastinit"),
    row("xavier_uniform", "numpy", 120.0, 120.0 / 30.0),
]


def report(torch_threads=None):
    speedups = {"he_normal": {"fastinit threads=1": 1.6, "numpy": 4.0}}
    return {"shape": [64, 64], "dtype": "float32", "bytes_per_array": 64 * 64 * 4,
            "repeat": 3, "machine": machine(torch_threads), "results": ROWS,
            "fastinit_all_cores_speedup": speedups, "calls": [], "goals": [],
            "half_to_float32": {}}


def table_line(text, scheme, contender):
    return next(line for line in text.splitlines()
                if line.startswith(f"{scheme:<20} {contender:<24} "))


@pytest.mark.parametrize("ratio, expected", [(2.0, "2.00x faster"), (1.0, "1.00x faster"),
                                             (0.5, "2.00x slower"), (0.8, "1.25x slower")])
def test_faster_or_slower(ratio, expected):
    assert _bench.faster_or_slower(ratio) == expected


def test_ratio_column_names_what_it_compares():
    header = next(line for line in _bench.format_table(report()).splitlines()
                  if line.startswith("scheme "))
    assert header.endswith("fastinit all cores vs this")
    assert "speedup" not in header


@pytest.mark.parametrize("contender, median_ms", [("fastinit threads=1", 80.0),
                                                  ("fastinit all cores out=", 40.0),
                                                  ("numpy", 200.0)])
def test_each_ratio_says_faster_or_slower(contender, median_ms):
    line = table_line(_bench.format_table(report()), "he_normal", contender)
    # the row's median against fastinit all cores' 50 ms
    if median_ms >= 50.0:
        assert line.endswith(f"{median_ms / 50.0:.2f}x faster")
    else:
        assert line.endswith(f"{50.0 / median_ms:.2f}x slower")


def test_the_compared_row_has_no_ratio():
    line = table_line(_bench.format_table(report()), "he_normal", "fastinit all cores")
    assert not line.endswith(("faster", "slower"))


def test_each_contender_is_defined_under_its_first_row_only():
    lines = _bench.format_table(report()).splitlines()
    for name in {r["contender"] for r in ROWS}:
        definitions = [i for i, line in enumerate(lines) if line.lstrip().startswith(f"^ {name}:")]
        assert len(definitions) == 1, name
        first_row = next(i for i, line in enumerate(lines) if line[21:45].rstrip() == name)
        assert definitions[0] == first_row + 1, name


def test_definitions_fill_in_the_thread_counts():
    text = _bench.format_table(report(torch_threads=2))
    line = next(line for line in text.splitlines()
                if line.lstrip().startswith("^ fastinit all cores:"))
    assert "2 threads" in line and "{" not in text


def test_every_contender_the_bench_builds_has_a_definition():
    names = {c.name for _, c in _bench.new_array_contenders((8, 8), "float32")}
    assert names <= set(_bench.CONTENDER_DEFINITIONS)


def test_summary_lines_say_faster_or_slower():
    text = _bench.format_table(report())
    assert "he_normal: fastinit all cores is 4.00x faster than numpy" in text


def test_no_torch_thread_count_without_torch(monkeypatch):
    real_version = _bench._version
    monkeypatch.setattr(_bench, "_version",
                        lambda name: None if name == "torch" else real_version(name))
    description = _bench.machine_description()
    assert description["torch_threads"] is None
    assert "torch" not in "\n".join(_bench.describe_machine(description))


def test_torch_thread_count_with_torch(monkeypatch):
    real_version = _bench._version
    monkeypatch.setattr(_bench, "_version",
                        lambda name: "2.13.0" if name == "torch" else real_version(name))
    description = _bench.machine_description()
    assert description["torch_threads"] == os.cpu_count()
    assert f"torch threads = {os.cpu_count()}" in "\n".join(_bench.describe_machine(description))


# ---------------------------------------------------------------- the fastinit.torch table

TORCH_ROWS = [
    {"case": "TransformerEncoder: build and initialize", "torch_code": "built on the CPU",
     "fastinit_code": "init_module on meta", "torch_ms": 533.0, "fastinit_ms": 674.0,
     "speedup": 533.0 / 674.0, "runs": 5, "torch_threads": 2},
    {"case": "kaiming_uniform_ 4096x4096 float32",
     "torch_code": "torch.nn.init.kaiming_uniform_(t)", "fastinit_code": "fastinit.torch.kaiming_uniform_(t, seed=0)", "torch_ms": 159.0,
     "fastinit_ms": 19.0, "speedup": 159.0 / 19.0, "runs": 7, "torch_threads": 2},
]


def test_torch_table_says_faster_or_slower_and_names_both_calls():
    from fastinit import _bench_torch            # formatting needs no torch

    lines = _bench_torch.format_torch_table(TORCH_ROWS).splitlines()
    header = next(line for line in lines if line.startswith("case "))
    assert header.endswith("fastinit.torch vs torch") and "speedup" not in header
    assert "torch with 2 threads" in lines[0]
    for r in TORCH_ROWS:
        i = next(i for i, line in enumerate(lines) if line.startswith(r["case"]))
        ratio = r["torch_ms"] / r["fastinit_ms"]
        word = f"{ratio:.2f}x faster" if ratio >= 1 else f"{1 / ratio:.2f}x slower"
        assert lines[i].endswith(word)
        assert r["torch_code"] in lines[i + 1] and r["fastinit_code"] in lines[i + 1]
