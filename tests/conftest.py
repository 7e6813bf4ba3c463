"""Shared references for the fastinit tests: an independent Philox4x32 written from the
Random123 definition (test_philox.py checks it against Random123's known answers before
test_stream.py trusts it), the stream laid out as docs/stream.md says, and a
deterministic hypothesis profile."""
import numpy as np
import pytest
from hypothesis import HealthCheck, settings

# Deterministic property tests (fixed seeds everywhere), no example database written into
# the source tree, and no deadline: a slow CI machine is not a failure.
settings.register_profile(
    "fastinit", derandomize=True, database=None, deadline=None, max_examples=100,
    suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("fastinit")

# Random123's philox.h: PHILOX_M4x32_0, PHILOX_M4x32_1 (multipliers) and PHILOX_W32_0,
# PHILOX_W32_1 (Weyl key increments: the golden ratio and sqrt(3) - 1).
M0, M1 = 0xD2511F53, 0xCD9E8D57
W0, W1 = 0x9E3779B9, 0xBB67AE85
MASK32 = 0xFFFFFFFF


def mulhilo32(a, b):
    """(hi, lo) 32-bit halves of the 64-bit product a * b."""
    p = a * b
    return p >> 32, p & MASK32


def philox4x32_reference(ctr, key, rounds=10):
    """Philox4x32-R of one block in plain Python ints, as Random123 defines it: each round
    maps (c0, c1, c2, c3) to (hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0) with
    (hi0, lo0) = mulhilo(M0, c0) and (hi1, lo1) = mulhilo(M1, c2); the key is bumped by
    (W0, W1) before every round after the first."""
    c0, c1, c2, c3 = (int(c) for c in ctr)
    k0, k1 = (int(k) for k in key)
    for r in range(rounds):
        if r > 0:
            k0, k1 = (k0 + W0) & MASK32, (k1 + W1) & MASK32
        hi0, lo0 = mulhilo32(M0, c0)
        hi1, lo1 = mulhilo32(M1, c2)
        c0, c1, c2, c3 = hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0
    return [c0, c1, c2, c3]


def stream_words_reference(key, first_block, nblocks):
    """Words of blocks first_block, ..., first_block + nblocks - 1 of key's stream, in
    stream order (docs/stream.md section 2): the same rounds as philox4x32_reference,
    vectorized over blocks with NumPy uint64 arithmetic for bulk checks."""
    lo = np.uint64(first_block & (2 ** 64 - 1))
    hi = np.uint64((first_block >> 64) & (2 ** 64 - 1))
    b_lo = lo + np.arange(nblocks, dtype=np.uint64)           # wraps modulo 2**64
    b_hi = hi + (b_lo < lo).astype(np.uint64)                  # carry into the high half
    m32, s32 = np.uint64(MASK32), np.uint64(32)
    c = [b_lo & m32, b_lo >> s32, b_hi & m32, b_hi >> s32]
    k0, k1 = int(key[0]), int(key[1])
    for r in range(10):
        if r > 0:
            k0, k1 = (k0 + W0) & MASK32, (k1 + W1) & MASK32
        p0 = np.uint64(M0) * c[0]
        p1 = np.uint64(M1) * c[2]
        c = [(p1 >> s32) ^ c[1] ^ np.uint64(k0), p1 & m32,
             (p0 >> s32) ^ c[3] ^ np.uint64(k1), p0 & m32]
    return np.stack(c, axis=1).reshape(-1).astype(np.uint32)


def key_of_seed(seed):
    """docs/stream.md section 1, straight from NumPy."""
    k = np.random.SeedSequence(seed).generate_state(2, dtype=np.uint32)
    return int(k[0]), int(k[1])


@pytest.fixture(scope="session")
def philox_block():
    return philox4x32_reference


@pytest.fixture(scope="session")
def stream_words():
    return stream_words_reference


@pytest.fixture(scope="session")
def seed_key():
    return key_of_seed


# ---------------------------------------------------------------- optional frameworks
# Adapter tests import their framework with pytest.importorskip, so a plain checkout without
# torch / jax / keras / dask still runs the core suite.  The test command (tools/test.sh)
# installs every extra and sets FASTINIT_REQUIRE_EXTRAS=1: there a missing framework is a
# failure, never a skip counted as a pass.
import os

_REQUIRE_EXTRAS = os.environ.get("FASTINIT_REQUIRE_EXTRAS") == "1"


def _is_import_skip(report):
    if not report.skipped or not isinstance(report.longrepr, tuple):
        return False
    return "could not import" in str(report.longrepr[2]).lower()


def _fail_import_skip(report):
    if _REQUIRE_EXTRAS and _is_import_skip(report):
        report.outcome = "failed"
        report.longrepr = (f"FASTINIT_REQUIRE_EXTRAS=1 but an optional framework is missing: "
                           f"{report.longrepr[2]}")


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    outcome = yield
    _fail_import_skip(outcome.get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    _fail_import_skip(outcome.get_result())
