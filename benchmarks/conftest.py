"""The benchmark cases and how each contender is timed.

Every test takes a `case` (scheme, dtype, shape) and builds its contender with fastinit._bench,
which also backs `python -m fastinit bench`, so both compare the same code.  One table per
case: `pytest benchmarks --benchmark-only` prints them in CASES order, and runs the
contenders of a case one after another so that a shared machine's drifts hit them alike.

Rounds are planned from one timed call of a smaller copy of the contender (at most 2**22
elements), so that the whole run takes minutes: about TARGET_SECONDS of timed calls per
contender, at least MIN_ROUNDS of them after a warm-up call; a contender slower than
SLOW_CALL_SECONDS (torch's trunc_normal_ takes 2 to 30 s at the large shapes) gets
SLOW_BUDGET_SECONDS' worth of calls, at least one, and no warm-up.
"""
import dataclasses
import math

import numpy as np
import pytest

from fastinit import _bench

SHAPES = ((64, 64), (1024, 1024), (4096, 4096), (16384, 4096))
DTYPES = ("float32", "float64")

TARGET_SECONDS = 0.3        # timed calls per contender, when calls are short
MIN_ROUNDS, MAX_ROUNDS = 3, 100
MIN_ROUND_SECONDS = 1e-3    # tiny calls are looped within a round, far above timer resolution
SLOW_CALL_SECONDS = 1.0
SLOW_BUDGET_SECONDS = 3.0
PROBE_ELEMENTS = 2 ** 22


@dataclasses.dataclass(frozen=True)
class Case:
    scheme: str
    dtype: str
    shape: tuple

    @property
    def shape_id(self):
        return "x".join(map(str, self.shape))

    @property
    def id(self):
        return f"{self.scheme}-{self.dtype}-{self.shape_id}"

    @property
    def group(self):
        return f"{self.scheme} {self.dtype} {self.shape_id}"

    @property
    def nbytes(self):
        return math.prod(self.shape) * np.dtype(self.dtype).itemsize


CASES = [Case(scheme, dtype, shape)
         for scheme in _bench.SCHEMES for dtype in DTYPES for shape in SHAPES]
CASE_ORDER = {case: i for i, case in enumerate(CASES)}


def pytest_generate_tests(metafunc):
    if "case" in metafunc.fixturenames:
        metafunc.parametrize("case", CASES, ids=[case.id for case in CASES])


def pytest_collection_modifyitems(items):
    # stable: each case's contenders run together, in the order the test file lists them
    def case_index(item):
        callspec = getattr(item, "callspec", None)
        case = callspec.params.get("case") if callspec else None
        return CASE_ORDER.get(case, -1)
    items.sort(key=case_index)


@pytest.hookimpl(wrapper=True)
def pytest_benchmark_group_stats(config, benchmarks, group_by):
    groups = yield
    order = {case.group: i for i, case in enumerate(CASES)}
    return sorted(groups, key=lambda group: order.get(group[0], len(order)))


@pytest.fixture(scope="session")
def torch_all_cores():
    """torch with os.cpu_count() intra-op threads for the session's torch benchmarks."""
    with _bench.torch_threads():
        yield


def probe_shape(shape):
    """shape with its first axis cut so that it has at most PROBE_ELEMENTS elements."""
    rest = math.prod(shape[1:])
    return (max(1, min(shape[0], PROBE_ELEMENTS // max(rest, 1))),) + tuple(shape[1:])


def plan_rounds(make, shape):
    """(rounds, iterations, warmup_rounds) for the contender make(shape), from a call of
    make(probe_shape(shape)) scaled to the full size."""
    probe = make(probe_shape(shape))
    seconds = _bench.time_call(probe.run)
    if seconds < 0.1:           # short enough for first-call costs to matter: time it again
        seconds = _bench.time_call(probe.run)
    seconds *= math.prod(shape) / math.prod(probe_shape(shape))
    if seconds >= SLOW_CALL_SECONDS:
        return max(1, int(SLOW_BUDGET_SECONDS / seconds)), 1, 0
    seconds = max(seconds, 1e-7)
    iterations = max(1, math.ceil(MIN_ROUND_SECONDS / seconds))
    rounds = round(TARGET_SECONDS / (seconds * iterations))
    return min(max(rounds, MIN_ROUNDS), MAX_ROUNDS), iterations, 1


def _described_dtype(array):
    return str(array.dtype).removeprefix("torch.")


@pytest.fixture
def measure(benchmark, case):
    """measure(make, dtype=None): times make(case.shape), a fastinit._bench contender builder,
    in the case's group; dtype names the result's when it is not the case's (fastinit's half
    rows in the float32 tables); skips when the contender is unavailable here."""
    benchmark.group = case.group

    def run(make, dtype=None):
        try:
            contender = make(case.shape)
        except _bench.Unavailable as e:
            pytest.skip(str(e))
        dtype = dtype or case.dtype
        nbytes = case.nbytes if dtype == case.dtype else math.prod(case.shape) * 2
        benchmark.name = contender.name if dtype == case.dtype else f"{contender.name} {dtype}"
        benchmark.extra_info.update(code=contender.code, bytes=nbytes)
        if benchmark.disabled:
            rounds, iterations, warmup = 1, 1, 0
        else:
            rounds, iterations, warmup = plan_rounds(make, case.shape)
        result = benchmark.pedantic(contender.run, rounds=rounds, iterations=iterations,
                                    warmup_rounds=warmup)
        if result is None:                       # looped rounds keep no result
            result = contender.run()
        # a benchmark that produced other work would compare nothing
        assert tuple(result.shape) == case.shape
        assert _described_dtype(result) == dtype
        if benchmark.stats is not None:
            median = benchmark.stats.stats.median
            benchmark.extra_info["gb_per_s_median"] = nbytes / median / 1e9

    return run
