"""fastinit against the floor and the usual ways of initializing a weight array.

    pytest benchmarks --benchmark-only          # one table per (scheme, dtype, shape)

Schemes: xavier_uniform, he_normal, he_normal(truncated=True); float32 and float64; shapes
64x64 to 16384x4096 (CASES in conftest.py).  Contenders, each in fastinit._bench:
  fastinit     threads=1 and all cores, as a new array and filling out=; in the float32
               tables also new float16 and bfloat16 arrays (all cores), the same draws in
               half the bytes (goal: a new bfloat16 array <= 1.1x the float32 one)
  floor        np.ones(shape, dtype) for new arrays, out.fill(1.0) for out=
  numpy        rng.uniform(-b, b, shape).astype(dtype), rng.standard_normal(shape, dtype) * std,
               rng.random(shape, dtype) beside the uniform (numpy's cheapest random array),
               scipy.stats.truncnorm(-2, 2, scale=std).rvs(...) for the truncated normal
               (up to 4096x4096: larger ones take ~13 GB)
  torch        torch.nn.init's xavier_uniform_ / kaiming_normal_ / trunc_normal_ on
               torch.empty(shape), with os.cpu_count() threads
  mkl_random   Philox4x32-10 uniform / normal(method="ICDF"), no truncated normal
  jax          jax.nn.initializers' glorot_uniform / variance_scaling(2, "fan_in", "normal") /
               he_normal, waited for with block_until_ready
  fastinit.jax the same initializers from fastinit.jax (a jax.Array on the default device)
A contender whose library is missing is skipped.  Times are compared, never asserted.
"""
import functools
import math

import pytest

from fastinit import _bench

# scipy's truncnorm.rvs peaks near 200 bytes per element and 0.5 us per element: 13 GB and
# 30 s for one 16384x4096 array, so it is measured up to 4096x4096 only
SCIPY_TRUNCNORM_MAX_ELEMENTS = 4096 * 4096


@pytest.mark.parametrize("threads", [1, None], ids=["threads=1", "all_cores"])
def test_fastinit_new_array(measure, case, threads):
    measure(lambda shape: _bench.fastinit_contender(case.scheme, shape, case.dtype, threads))


@pytest.mark.parametrize("threads", [1, None], ids=["threads=1", "all_cores"])
def test_fastinit_out(measure, case, threads):
    measure(lambda shape: _bench.fastinit_contender(
        case.scheme, shape, case.dtype, threads, out=_bench.resident_array(shape, case.dtype)))


@pytest.mark.parametrize("half", _bench.HALF_DTYPES)
def test_fastinit_half_new_array(measure, case, half):
    if case.dtype != "float32":
        pytest.skip("half arrays are timed next to float32 ones, in the float32 tables")
    if half not in _bench.half_dtypes():
        pytest.skip("bfloat16 needs ml_dtypes")
    measure(lambda shape: _bench.fastinit_contender(case.scheme, shape, half, None),
            dtype=half)


def test_floor_new_array(measure, case):
    measure(lambda shape: _bench.floor_contender(shape, case.dtype))


def test_floor_out(measure, case):
    measure(lambda shape: _bench.floor_contender(
        shape, case.dtype, out=_bench.resident_array(shape, case.dtype)))


def test_numpy(measure, case):
    too_big = math.prod(case.shape) > SCIPY_TRUNCNORM_MAX_ELEMENTS
    if case.scheme == "he_normal_truncated" and too_big:
        pytest.skip("scipy truncnorm.rvs needs ~13 GB and ~30 s per call at this size")
    measure(functools.partial(_bench.numpy_contender, case.scheme, dtype=case.dtype))


def test_numpy_random(measure, case):
    if case.scheme != "xavier_uniform":
        pytest.skip("numpy's rng.random is the uniform's yardstick only")
    measure(functools.partial(_bench.numpy_random_contender, dtype=case.dtype))


def test_torch(measure, case, torch_all_cores):
    measure(functools.partial(_bench.torch_contender, case.scheme, dtype=case.dtype))


def test_mkl_random(measure, case):
    measure(functools.partial(_bench.mkl_random_contender, case.scheme, dtype=case.dtype))


def test_jax(measure, case):
    measure(functools.partial(_bench.jax_contender, case.scheme, dtype=case.dtype))


def test_fastinit_jax(measure, case):
    measure(functools.partial(_bench.fastinit_jax_contender, case.scheme, dtype=case.dtype))
