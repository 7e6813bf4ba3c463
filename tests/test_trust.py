"""What happens around a call: values inside their support, fork, small thread stacks,
Ctrl-C, pickling, environment values and container memory limits.  Each of these failed
silently (or crashed) before it was made a rule; the subprocess tests run the case in a
fresh interpreter so that a crash is a failed test, not a dead test run."""
import copy
import os
import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import fastinit
from fastinit import _arrays

F32, F64 = np.dtype(np.float32), np.dtype(np.float64)


def run_python(code, env=None, timeout=120):
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=timeout,
                          env=None if env is None else {**os.environ, **env})


# ---------------------------------------------------------------- truncated normal support

def random_truncations(n, seed):
    """(mean, std, a, b) cases of every scale, mostly narrow intervals far from the mean,
    where mean + std z rounds across a bound most often."""
    rng = np.random.default_rng(seed)
    cases = []
    for _ in range(n):
        mean = float(rng.choice([-1, 1]) * 10.0 ** rng.uniform(-3, 3))
        std = float(10.0 ** rng.uniform(-4, 1))
        a = float(rng.uniform(-6, 6))
        b = a + float(10.0 ** rng.uniform(-2, 0.5))
        cases.append((mean, std, a, b))
    return cases


@pytest.mark.parametrize("dtype", [F32, F64], ids=["float32", "float64"])
def test_truncated_normal_values_stay_inside_mean_plus_a_std_and_b_std(dtype):
    # the bounds as a user computes them in double: every value of 400 draws inside
    outside, refused = [], 0
    for mean, std, a, b in random_truncations(400, seed=17):
        lo, hi = mean + a * std, mean + b * std
        try:
            x = fastinit.truncated_normal(2000, mean, std, a, b, dtype=dtype, seed=5)
        except ValueError as e:
            # refused only where no value of the format lies in [lo, hi]
            smallest = dtype.type(lo)
            if float(smallest) < lo:
                smallest = np.nextafter(smallest, dtype.type(np.inf))
            assert "no float32 value lies in the support" in str(e)
            assert dtype == F32 and float(smallest) > hi, (mean, std, a, b)
            refused += 1
            continue
        if not ((x.astype(np.float64) >= lo).all() and (x.astype(np.float64) <= hi).all()):
            outside.append((mean, std, a, b))
    assert outside == []
    assert refused < 40


def test_truncated_normal_reported_cases_keep_their_bounds():
    x = fastinit.truncated_normal((10 ** 6,), -7.3, 0.02, a=5, b=10, dtype=np.float32, seed=0)
    assert (x.astype(np.float64) >= -7.3 + 5 * 0.02).all()
    # the bound itself is reached (the nearest float32 inside), not moved further in
    bound = -7.3 + 5 * 0.02
    inside = np.float32(bound)
    if float(inside) < bound:
        inside = np.nextafter(inside, np.float32(0))
    assert x.min() == inside


@pytest.mark.parametrize("dtype", [F32, F64], ids=["float32", "float64"])
def test_a_support_without_a_value_of_the_format_is_refused(dtype):
    # [0.1 - 1e-17, 0.1 + 1e-17] holds no float32 (and in double rounds to one point)
    if dtype == F32:
        with pytest.raises(ValueError, match="no float32 value lies in the support"):
            fastinit.truncated_normal(10, 0.1, 1e-12, -1.0, 1.0, dtype=dtype, seed=0)
    else:
        x = fastinit.truncated_normal(10, 0.1, 1e-12, -1.0, 1.0, dtype=dtype, seed=0)
        assert ((x >= 0.1 - 1e-12) & (x <= 0.1 + 1e-12)).all()


# ---------------------------------------------------------------- fork
# In a fresh interpreter: forking this one, where other tests imported multithreaded
# frameworks (JAX), could deadlock the children.

FORKED_DRAWS = """
    import multiprocessing
    import fastinit

    def draw(_):
        return fastinit.normal(8).tobytes()

    if __name__ == "__main__":
        {setup}
        with multiprocessing.get_context("fork").Pool(4, maxtasksperchild=1) as pool:
            draws = pool.map(draw, range(4), chunksize=1)
        print(len(set(draws)), draws[0] == fastinit.Generator(123).normal(8).tobytes())
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_unseeded_module_generator_draws_differently_in_forked_workers():
    result = run_python(FORKED_DRAWS.format(setup="fastinit.normal(8)"))
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["4", "False"]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_seeded_module_generator_is_inherited_by_forked_workers():
    # seeded, every child continues the parent's stream, as numpy's generators do
    result = run_python(FORKED_DRAWS.format(setup="fastinit.seed(123)"))
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["1", "True"]


# ---------------------------------------------------------------- small stacks

def test_every_fill_runs_on_the_smallest_thread_stack_python_allows():
    result = run_python("""
        import threading
        import numpy as np
        import fastinit
        threading.stack_size(32 * 1024)          # the smallest Python allows
        errors = []

        def work():
            try:
                for dtype in ("float32", "float64", "float16"):
                    for name, kw in (("uniform", {}), ("normal", {}),
                                     ("truncated_normal", {"a": -1.0, "b": 2.0})):
                        x = getattr(fastinit, name)((3, 300_001), dtype=dtype, seed=1, **kw)
                        assert np.isfinite(x).all()
                fastinit.he_normal((512, 1031), seed=2)
                fastinit.Generator(3).random_raw(1_000_003)
            except BaseException as e:
                errors.append(repr(e))

        t = threading.Thread(target=work)
        t.start()
        t.join()
        print("errors", errors)
    """)
    assert result.returncode == 0, (result.returncode, result.stderr[-2000:])
    assert "errors []" in result.stdout


# ---------------------------------------------------------------- Ctrl-C

@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to oneself is POSIX")
def test_ctrl_c_stops_a_long_fill_within_a_second_and_leaves_out_documented():
    result = run_python("""
        import os, signal, threading, time
        import numpy as np
        import fastinit
        n = 1 << 28                                   # 2 GiB of float64: seconds on one thread
        out = np.full(n, np.nan)
        sent = []

        def interrupt():
            time.sleep(0.3)
            sent.append(time.perf_counter())
            os.kill(os.getpid(), signal.SIGINT)

        threading.Thread(target=interrupt).start()
        start = time.perf_counter()
        try:
            fastinit.truncated_normal(n, a=-2.0, b=2.0, dtype=np.float64, out=out, threads=1,
                                      seed=0)
            print("finished", time.perf_counter() - start)
        except KeyboardInterrupt:
            answered = time.perf_counter()
            written = ~np.isnan(out)
            head = fastinit.truncated_normal(n, a=-2.0, b=2.0, dtype=np.float64, seed=0,
                                             region=(slice(0, 1 << 20),))
            same = bool((out[:1 << 20][written[:1 << 20]] == head[written[:1 << 20]]).all())
            print("interrupted", answered - sent[0], written.mean(), same)
    """, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    words = result.stdout.split()
    assert words[0] == "interrupted", result.stdout
    latency, fraction, same = float(words[1]), float(words[2]), words[3]
    assert latency < 1.0
    assert 0 < fraction < 1                         # partly written, as documented
    assert same == "True"                           # what was written is the draw's values


def test_a_fill_off_the_main_thread_is_not_polled_and_completes():
    # signals reach only the main thread: a worker thread's fill runs to the end
    import threading
    result = {}
    t = threading.Thread(target=lambda: result.update(x=fastinit.normal(1 << 22, seed=4)))
    t.start()
    t.join()
    assert np.array_equal(result["x"], fastinit.normal(1 << 22, seed=4))


# ---------------------------------------------------------------- pickling

def test_generator_pickles_and_copies_and_continues_the_same_stream():
    g = fastinit.Generator(11)
    g.normal(100)
    for clone in (pickle.loads(pickle.dumps(g)), copy.deepcopy(g), copy.copy(g)):
        expected = fastinit.Generator(11)
        expected.normal(100)
        assert clone.state == expected.state
        assert np.array_equal(clone.xavier_uniform((30, 40)), expected.xavier_uniform((30, 40)))
    # the copies are independent: drawing from one does not move the other
    c = copy.deepcopy(g)
    c.normal(10)
    assert g.state["counter"] != c.state["counter"]


def test_unseeded_generator_pickles_to_the_same_stream():
    g = fastinit.Generator()
    assert np.array_equal(pickle.loads(pickle.dumps(g)).normal(16), g.normal(16))


# ---------------------------------------------------------------- environment

@pytest.mark.parametrize("value, threads", [("2147483648", 256), ("99999999999999999999", 256),
                                            ("", None), ("  ", None), ("3", 3)])
def test_fastinit_num_threads_values(value, threads):
    result = run_python("""
        import fastinit, numpy as np
        from fastinit import _arrays
        x = fastinit.normal((1000, 1000), seed=0)
        print(_arrays.default_threads(), x.tobytes() == fastinit.normal((1000, 1000), seed=0, threads=1).tobytes())
    """, env={"FASTINIT_NUM_THREADS": value})
    assert result.returncode == 0, result.stderr[-2000:]
    got, same = result.stdout.split()
    assert same == "True"
    expected = threads if threads is not None else len(os.sched_getaffinity(0)) \
        if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert int(got) == expected


def test_fastinit_num_threads_garbage_is_a_clear_error():
    result = run_python("import fastinit", env={"FASTINIT_NUM_THREADS": "many"})
    assert result.returncode != 0
    assert "FASTINIT_NUM_THREADS must be a positive integer, got 'many'" in result.stderr


# ---------------------------------------------------------------- container memory limits

def make_proc(tmp_path, cgroup_lines, mount_lines):
    proc = tmp_path / "proc"
    proc.mkdir()
    (proc / "cgroup").write_text("\n".join(cgroup_lines) + "\n")
    (proc / "mountinfo").write_text("\n".join(mount_lines) + "\n")
    return str(proc)


def test_cgroup_v2_limit_is_the_smallest_on_the_way_up(tmp_path):
    root = tmp_path / "cg2"
    (root / "outer" / "inner").mkdir(parents=True)
    (root / "memory.max").write_text("max\n")
    (root / "outer" / "memory.max").write_text(f"{3 << 30}\n")
    (root / "outer" / "inner" / "memory.max").write_text("max\n")
    proc = make_proc(tmp_path, ["0::/outer/inner"],
                     [f"30 20 0:26 / {root} rw,nosuid - cgroup2 cgroup2 rw"])
    assert _arrays.cgroup_memory_limit(proc) == 3 << 30


def test_cgroup_v1_limit_with_a_container_view_of_its_own_group(tmp_path):
    # a container sees its own group as the mount's root: /proc says /docker/abc
    mount = tmp_path / "memory"
    mount.mkdir()
    (mount / "memory.limit_in_bytes").write_text(f"{1 << 30}\n")
    proc = make_proc(tmp_path, ["4:memory:/docker/abc", "3:cpu:/docker/abc"],
                     [f"40 30 0:35 /docker/abc {mount} rw - cgroup cgroup rw,memory"])
    assert _arrays.cgroup_memory_limit(proc) == 1 << 30


def test_cgroup_without_a_limit_gives_none(tmp_path):
    mount = tmp_path / "memory"
    mount.mkdir()
    (mount / "memory.limit_in_bytes").write_text("9223372036854771712\n")
    proc = make_proc(tmp_path, ["4:memory:/"], [f"40 30 0:35 / {mount} rw - cgroup cgroup rw,memory"])
    assert _arrays.cgroup_memory_limit(proc) is None
    assert _arrays.cgroup_memory_limit(str(tmp_path / "no-such-proc")) is None


def writable_memory_cgroup():
    """A directory where a memory cgroup with a limit can be made here (root in a
    container with cgroup v1's memory controller, or v2), or None."""
    for base, name in (("/sys/fs/cgroup/memory", "memory.limit_in_bytes"),
                       ("/sys/fs/cgroup", "memory.max")):
        if os.path.exists(os.path.join(base, name if base.endswith("memory") else "cgroup.controllers")):
            if os.access(base, os.W_OK):
                return base, name
    return None


@pytest.mark.skipif(sys.platform != "linux" or writable_memory_cgroup() is None,
                    reason="needs a writable memory cgroup (root, Linux)")
def test_a_request_above_the_container_limit_raises_memory_error(tmp_path):
    base, name = writable_memory_cgroup()
    group = os.path.join(base, f"fastinit-test-{os.getpid()}")
    os.mkdir(group)
    try:
        try:
            with open(os.path.join(group, name), "w") as f:
                f.write(str(1 << 30))
        except OSError as e:
            pytest.skip(f"cannot set a memory limit here: {e}")
        result = run_python(f"""
            import os
            with open({os.path.join(group, 'cgroup.procs')!r}, "w") as f:
                f.write(str(os.getpid()))
            import fastinit
            try:
                fastinit.normal((1 << 29,), seed=0)          # 2 GiB against a 1 GiB limit
                print("allocated")
            except MemoryError as e:
                print("MemoryError", e)
        """)
    finally:
        os.rmdir(group)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.startswith("MemoryError")
    assert "1.0 GiB of memory this process may use" in result.stdout
