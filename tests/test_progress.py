"""Progress on stderr for long work (fastinit._progress, `python -m fastinit bench` and
`demo`, fastinit.dask.to_zarr): a bar only when stderr is a terminal, none with --quiet
(quiet=True), none in a pipe or a log.  The terminal is a real pseudo-terminal for the
command line, and a stream whose isatty() says True in process."""
import io
import json
import os
import subprocess
import sys
import threading

import numpy as np
import pytest

from fastinit import _demo, _progress
from fastinit.__main__ import main


class TerminalStream(io.StringIO):
    def isatty(self):
        return True


class PipeStream(io.StringIO):
    def isatty(self):
        return False


# ---------------------------------------------------------------- fastinit._progress

def test_wanted_only_on_a_terminal_and_not_quiet():
    assert _progress.wanted(stream=TerminalStream())
    assert not _progress.wanted(quiet=True, stream=TerminalStream())
    assert not _progress.wanted(stream=PipeStream())
    assert not _progress.wanted(stream=object())          # no isatty at all


def test_wanted_reads_sys_stderr_by_default(monkeypatch):
    monkeypatch.setattr(sys, "stderr", TerminalStream())
    assert _progress.wanted()
    monkeypatch.setattr(sys, "stderr", PipeStream())
    assert not _progress.wanted()


def _report_steps(stream, quiet=False, steps=5):
    with _progress.Progress("networks", quiet=quiet, stream=stream) as progress:
        for done in range(1, steps + 1):
            progress(done, steps)
    return stream.getvalue()


def test_a_terminal_gets_tqdms_bar():
    pytest.importorskip("tqdm")
    text = _report_steps(TerminalStream())
    assert "networks" in text and "5/5" in text and "100%" in text


def test_without_tqdm_a_terminal_gets_a_counter(monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)          # import tqdm raises ImportError
    text = _report_steps(TerminalStream())
    assert text == "".join(f"\rnetworks: {n}/5" for n in range(1, 6)) + "\n"


@pytest.mark.parametrize("stream, quiet", [(PipeStream(), False), (TerminalStream(), True)],
                         ids=["pipe", "quiet terminal"])
def test_no_bar_in_a_pipe_or_when_quiet(stream, quiet):
    assert _report_steps(stream, quiet=quiet) == ""


def test_a_loop_that_stops_early_leaves_the_bar_where_it_was(monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)
    stream = TerminalStream()
    with _progress.Progress("rounds", stream=stream) as progress:
        progress(1, 7)
        progress(2, 7)                                  # a time budget ends the loop here
    assert stream.getvalue() == "\rrounds: 1/7\rrounds: 2/7\n"


# ---------------------------------------------------------------- python -m fastinit demo

DEMO = ["-m", "fastinit", "demo", "--depth", "2", "--width", "4", "--json"]
DEMO_NETWORKS = len(_demo.TABLE_INITS) * (len(_demo.ACTIVATIONS) + 1
                                          + len(_demo.EXPERIMENT_ACTIVATIONS))


def _run_with_stderr_on_a_terminal(args, cwd):
    """(exit code, stdout, what the terminal showed) of python args, stderr on a pty."""
    pty = pytest.importorskip("pty")
    controller, terminal = pty.openpty()
    process = subprocess.Popen([sys.executable, *args], cwd=cwd, stdout=subprocess.PIPE,
                               stderr=terminal, stdin=subprocess.DEVNULL)
    os.close(terminal)
    shown = []

    def read():                     # drain the pty as it fills, or the child would block
        while True:
            try:
                chunk = os.read(controller, 4096)
            except OSError:         # EIO: the child closed its end
                return
            if not chunk:
                return
            shown.append(chunk)

    reader = threading.Thread(target=read)
    reader.start()
    stdout, _ = process.communicate(timeout=600)
    reader.join(timeout=60)
    os.close(controller)
    return process.returncode, stdout.decode(), b"".join(shown).decode(errors="replace")


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")
def test_demo_draws_a_bar_on_a_terminal(tmp_path):
    pytest.importorskip("tqdm")
    code, stdout, shown = _run_with_stderr_on_a_terminal(DEMO, tmp_path)
    assert code == 0, shown
    assert json.loads(stdout)["depth"] == 2
    assert "running the demo" in shown
    assert "networks: 100%" in shown and f"{DEMO_NETWORKS}/{DEMO_NETWORKS}" in shown


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")
def test_demo_quiet_shows_nothing_on_a_terminal(tmp_path):
    code, stdout, shown = _run_with_stderr_on_a_terminal(DEMO + ["--quiet"], tmp_path)
    assert code == 0, shown
    assert json.loads(stdout)["depth"] == 2
    assert shown == ""


def test_demo_draws_no_bar_into_a_pipe(tmp_path):
    run = subprocess.run([sys.executable, *DEMO], cwd=tmp_path, capture_output=True,
                         text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    # the status line stays (a log shows what ran); no bar
    # (after the note on a missing threadpoolctl, where it is missing)
    assert run.stderr.splitlines()[-1].startswith("running the demo"), run.stderr
    assert "networks" not in run.stderr and "\r" not in run.stderr


def test_run_demo_reports_every_network_once():
    calls = []
    with _demo.one_blas_thread():
        _demo.run_demo(depth=2, width=4, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(n, DEMO_NETWORKS) for n in range(1, DEMO_NETWORKS + 1)]


# ---------------------------------------------------------------- python -m fastinit bench

@pytest.fixture
def bench_rounds(monkeypatch):
    """run_bench replaced by two reported rounds: the flag's effect, not a minute of timing."""
    from fastinit import _bench

    def run_bench(shape, dtype, repeat, progress=None):
        for done in (1, 2):
            progress(done, 2)
        return {"shape": list(shape)}
    monkeypatch.setattr(_bench, "run_bench", run_bench)


@pytest.mark.parametrize("quiet", [False, True])
def test_bench_progress_and_quiet(bench_rounds, monkeypatch, capsys, quiet):
    pytest.importorskip("tqdm")
    terminal = TerminalStream()
    monkeypatch.setattr(sys, "stderr", terminal)
    code = main(["bench", "--shape", "8", "8", "--json", "--no-torch"]
                + (["--quiet"] if quiet else []))
    assert code == 0
    assert json.loads(capsys.readouterr().out) == {"shape": [8, 8]}
    if quiet:
        assert terminal.getvalue() == ""
    else:
        assert "timing 8x8 float32" in terminal.getvalue()
        assert "rounds: 100%" in terminal.getvalue() and "2/2" in terminal.getvalue()


def test_bench_draws_no_bar_into_a_pipe(bench_rounds, monkeypatch, capsys):
    pipe = PipeStream()
    monkeypatch.setattr(sys, "stderr", pipe)
    assert main(["bench", "--shape", "8", "8", "--json", "--no-torch"]) == 0
    assert pipe.getvalue() == "timing 8x8 float32 ...\n"


# ---------------------------------------------------------------- fastinit.dask

def _slow_block(block):
    import time
    time.sleep(0.4)                 # four blocks in sequence: past dask's 1 s minimum
    return block


@pytest.mark.parametrize("terminal, quiet, bar", [(True, False, True), (True, True, False),
                                                  (False, False, False)],
                         ids=["terminal", "quiet terminal", "pipe"])
def test_dask_to_zarr_progress(tmp_path, monkeypatch, terminal, quiet, bar):
    dask = pytest.importorskip("dask")
    zarr = pytest.importorskip("zarr")
    import fastinit
    import fastinit.dask

    stream = TerminalStream() if terminal else PipeStream()
    monkeypatch.setattr(sys, "stderr", stream)
    x = fastinit.dask.he_normal((40, 6), chunks=(10, 6), seed=3).map_blocks(_slow_block)
    with dask.config.set(scheduler="synchronous"):
        fastinit.dask.to_zarr(x, str(tmp_path / "w.zarr"), quiet=quiet)
    assert np.array_equal(zarr.open_array(str(tmp_path / "w.zarr"))[:],
                          fastinit.he_normal((40, 6), seed=3))
    assert ("100% Completed" in stream.getvalue()) == bar, stream.getvalue()
    if not bar:
        assert stream.getvalue() == ""
