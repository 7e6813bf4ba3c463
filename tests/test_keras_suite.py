"""Keras's own initializer tests, shipped in the keras wheel, pass against fastinit.keras:
keras_suite_cases.py substitutes fastinit's classes for Keras's and runs them, here once
per backend in a process of its own (Keras fixes its backend at import).  Every one of
them must pass: none is skipped, marked or left out (docs/keras_jax.md).

The backends are those in FASTINIT_KERAS_SUITE_BACKENDS (default "jax torch", the ones
tests/requirements-extras.txt installs); tools/test_tensorflow.sh sets "tensorflow" in its
own venv."""
import importlib.util
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
BACKENDS = os.environ.get("FASTINIT_KERAS_SUITE_BACKENDS", "jax torch").split()
SUBSTITUTED = {"GlorotNormal", "GlorotUniform", "HeNormal", "HeUniform", "LecunNormal",
               "LecunUniform", "Orthogonal", "RandomNormal", "RandomUniform",
               "TruncatedNormal", "VarianceScaling"}
# the tests that found fastinit.keras's gaps: each must be among those run, and pass
MUST_RUN = {"test_mha_query_projection_variance", "test_variance_scaling_with_axes",
            "test_variance_scaling_invalid_scale", "test_variance_scaling_invalid_mode",
            "test_variance_scaling_invalid_distribution", "test_serialization_with_seed_generator"}


@pytest.mark.parametrize("backend", BACKENDS)
def test_keras_initializer_suite_passes_against_fastinit(backend, tmp_path):
    for framework in ("keras", backend):
        # found, not imported: keras would pick its backend in this process
        if importlib.util.find_spec(framework) is None:
            pytest.skip(f"could not import {framework!r}: not installed")
    junit = tmp_path / "keras_suite.xml"
    run = subprocess.run(
        [sys.executable, str(TESTS / "keras_suite_cases.py"), "-q", "-rfEsx",
         "-W", "ignore::DeprecationWarning", f"--junitxml={junit}"],
        cwd=tmp_path, env={**os.environ, "KERAS_BACKEND": backend},
        capture_output=True, text=True, timeout=900)
    report = run.stdout[-6000:] + run.stderr[-2000:]
    assert run.returncode == 0, f"Keras's tests on {backend} failed:\n{report}"
    substituted = [line for line in run.stdout.splitlines() if "substituted for:" in line]
    assert substituted and SUBSTITUTED <= set(substituted[-1].split(": ")[-1].split()), report

    suite = ET.parse(junit).getroot()
    suite = suite if suite.tag == "testsuite" else suite.find("testsuite")
    counts = {k: int(suite.get(k, 0)) for k in ("tests", "failures", "errors", "skipped")}
    assert counts["failures"] == counts["errors"] == counts["skipped"] == 0, (counts, report)
    names = {case.get("name") for case in suite.iter("testcase")}
    assert MUST_RUN <= names, MUST_RUN - names
    assert counts["tests"] == len(names) >= 20, (counts, report)
