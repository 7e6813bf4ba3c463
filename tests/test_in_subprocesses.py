"""Suites that need a process of their own, run from the main test run so that one
`pytest tests` covers them: Keras on its torch backend (Keras fixes its backend at import,
and the main process runs it on jax) and fastinit.jax sharded over 8 host devices (XLA
fixes the device count at start-up).  Each runs pytest in a fresh interpreter and fails
with that run's report."""
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent

SUITES = {
    "keras_on_torch_backend": ("test_keras.py", {"KERAS_BACKEND": "torch"}, ("keras", "torch")),
    "jax_on_8_host_devices": ("jax_sharding_cases.py",
                              {"XLA_FLAGS": "--xla_force_host_platform_device_count=8"}, ("jax",)),
}


@pytest.mark.parametrize("suite", list(SUITES))
def test_suite_passes_in_its_own_process(suite, tmp_path):
    module, env_update, frameworks = SUITES[suite]
    for framework in frameworks:
        # found, not imported: keras would pick its backend in this process
        if importlib.util.find_spec(framework) is None:
            pytest.skip(f"could not import {framework!r}: not installed")
    env = {**os.environ, **env_update}
    # run from outside the source tree, so that the installed fastinit is the one tested
    run = subprocess.run(
        [sys.executable, "-m", "pytest", str(TESTS / module), "-q", "-p", "no:cacheprovider",
         "--import-mode=importlib", "-W", "ignore::DeprecationWarning"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=1800)
    report = run.stdout[-6000:] + run.stderr[-2000:]
    assert run.returncode == 0, f"{module} with {env_update} failed:\n{report}"
    summary = run.stdout.strip().splitlines()[-1]
    assert "passed" in summary and "skipped" not in summary, summary
