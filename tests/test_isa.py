"""Every instruction set gives the scalar reference's bytes, for every distribution, dtype,
size (around every vector width and buffer boundary), region and thread count.

Each test runs once per ISA fastinit knows; ISAs this CPU (or build) lacks are skipped
with the reason, never counted as passes."""
import numpy as np
import pytest

import fastinit

ALL_ISAS = ["scalar", "avx2", "avx512", "neon"]
# bfloat16, which needs ml_dtypes, is covered the same way in tests/test_half.py
DTYPES = pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16],
                                 ids=["float32", "float64", "float16"])
DISTRIBUTIONS = {
    "uniform": dict(low=-2.0, high=3.0),
    "normal": dict(mean=0.5, std=2.0),
    "truncated_normal": dict(mean=-1.0, std=0.5, a=-1.5, b=2.5),
    # a truncation in the far tail: every value takes the tail branches of AS241
    "truncated_normal_tail": dict(mean=0.0, std=1.0, a=4.0, b=9.0),
}
# around the vector widths (1 to 16 lanes) and past one 512-block buffer (2048 words)
SIZES = [0, 1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 33, 63, 65, 1000, 4097]


@pytest.fixture(autouse=True)
def restore_isa():
    original = fastinit.get_isa()
    yield
    fastinit.set_isa(original)


@pytest.fixture(params=ALL_ISAS)
def isa(request):
    name = request.param
    if name not in fastinit.available_isas():
        pytest.skip(f"instruction set {name!r} is not available on this CPU or build "
                    f"(available: {', '.join(fastinit.available_isas())})")
    return name


def draw(name, shape, dtype, isa, threads=1, seed=701, **kwargs):
    fastinit.set_isa(isa)
    function = getattr(fastinit, name.replace("_tail", ""))
    return function(shape, dtype=dtype, seed=seed, threads=threads, **DISTRIBUTIONS[name],
                    **kwargs)


def test_available_isas_are_known_names_with_scalar_always_there():
    available = fastinit.available_isas()
    assert "scalar" in available
    assert set(available) <= set(ALL_ISAS)
    assert fastinit.get_isa() in available


def test_set_isa_of_an_unknown_name_raises_value_error():
    before = fastinit.get_isa()
    with pytest.raises(ValueError, match="unknown instruction set 'nonsense'"):
        fastinit.set_isa("nonsense")
    assert fastinit.get_isa() == before


# (an empty parameter set, reported as a skip, when this CPU has every ISA)
@pytest.mark.parametrize("name", [n for n in ALL_ISAS if n not in fastinit.available_isas()])
def test_set_isa_of_an_unavailable_isa_raises_runtime_error(name):
    with pytest.raises(RuntimeError, match="not available"):
        fastinit.set_isa(name)


def test_set_isa_selects_the_isa(isa):
    fastinit.set_isa(isa)
    assert fastinit.get_isa() == isa


@DTYPES
@pytest.mark.parametrize("name", DISTRIBUTIONS)
def test_isa_gives_the_scalar_bytes_at_every_size(isa, name, dtype):
    for n in SIZES:
        expected = draw(name, (n,), dtype, "scalar")
        got = draw(name, (n,), dtype, isa)
        assert got.tobytes() == expected.tobytes(), f"size {n}"


@DTYPES
@pytest.mark.parametrize("name", DISTRIBUTIONS)
def test_isa_gives_the_scalar_bytes_of_a_region(isa, name, dtype):
    # a region whose rows start at every offset modulo the vector width
    region = (slice(3, 30), slice(5, 38))
    expected = draw(name, (37, 41), dtype, "scalar", region=region)
    got = draw(name, (37, 41), dtype, isa, region=region)
    assert got.tobytes() == expected.tobytes()


@DTYPES
@pytest.mark.parametrize("name", DISTRIBUTIONS)
def test_isa_gives_the_scalar_bytes_across_a_32_bit_counter_wrap(isa, name, dtype):
    # the draw starts 3 blocks before c0 wraps, so the vector lanes straddle the carry
    def at_wrap(which):
        fastinit.set_isa(which)
        g = fastinit.Generator(709)
        g.state = {"key": g.state["key"], "counter": 2 ** 32 - 3}
        kind = name.replace("_tail", "")
        return getattr(g, kind)(1000, dtype=dtype, threads=1, **DISTRIBUTIONS[name])
    assert at_wrap(isa).tobytes() == at_wrap("scalar").tobytes()


def test_isa_gives_the_scalar_raw_words(isa):
    for n in SIZES:
        fastinit.set_isa("scalar")
        expected = fastinit.Generator(719).random_raw(n, threads=1)
        fastinit.set_isa(isa)
        assert fastinit.Generator(719).random_raw(n, threads=1).tobytes() == \
            expected.tobytes(), f"size {n}"


@DTYPES
@pytest.mark.parametrize("name", DISTRIBUTIONS)
def test_isa_gives_the_same_bytes_on_1_2_3_and_7_threads(isa, name, dtype):
    # 2**20 + 3 elements: enough for 8 parts of the C core's 2**17-element minimum, so 7
    # threads really run 7 parts
    shape = (2 ** 20 + 3,)
    expected = draw(name, shape, dtype, "scalar", threads=1)
    for threads in (1, 2, 3, 7):
        got = draw(name, shape, dtype, isa, threads=threads)
        assert got.tobytes() == expected.tobytes(), f"threads={threads}"


@DTYPES
@pytest.mark.parametrize("name", DISTRIBUTIONS)
def test_isa_gives_the_same_bytes_of_a_region_on_several_threads(isa, name, dtype):
    # a region of a 2-d array: the threads' parts start and end inside rows
    shape, region = (1031, 1030), (slice(7, 1030), slice(1, 1029))
    expected = draw(name, shape, dtype, "scalar", threads=1, region=region)
    for threads in (2, 3, 7):
        got = draw(name, shape, dtype, isa, threads=threads, region=region)
        assert got.tobytes() == expected.tobytes(), f"threads={threads}"


def cpu_vendor():
    """The CPU's vendor string as Linux reports it ("GenuineIntel", "AuthenticAMD", ...),
    or None where /proc/cpuinfo has none."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("vendor_id"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def test_non_temporal_stores_only_where_the_kernels_have_them_and_the_cpu_gains(isa):
    from fastinit import _core
    fastinit.set_isa(isa)
    vendor = cpu_vendor()
    if isa in ("scalar", "neon"):               # their kernels have no non-temporal store
        assert _core.nontemporal_stores() is False
    elif vendor is None:
        pytest.skip("no vendor_id in /proc/cpuinfo to check the x86 policy against")
    else:                                       # slower on AMD's CPUs (csrc/dispatch.c)
        assert _core.nontemporal_stores() is (vendor not in ("AuthenticAMD", "HygonGenuine"))


@pytest.mark.parametrize("name", ["uniform", "normal"])
def test_a_large_existing_output_gets_the_bytes_of_a_new_array(isa, name):
    # 9 MiB: past the size from which existing outputs may take non-temporal stores
    shape = (9 * 2 ** 18,)
    new = draw(name, shape, np.float32, isa, threads=2)
    out = np.full(shape, np.nan, np.float32)
    draw(name, shape, np.float32, isa, threads=2, out=out)
    assert out.tobytes() == new.tobytes()


def test_info_names_the_instruction_sets_threads_and_store_policy():
    import io
    from fastinit import _core
    printed = io.StringIO()
    fastinit.show_config(file=printed)
    lines = printed.getvalue().splitlines()
    assert f"instruction sets available: {', '.join(fastinit.available_isas())}" in lines
    assert any(line.startswith(f"instruction set in use: {fastinit.get_isa()}") for line in lines)
    stores = "yes" if _core.nontemporal_stores() else "no"
    assert f"non-temporal stores for large existing outputs: {stores}" in lines


def test_python_m_fastinit_info_prints_the_same_report():
    import subprocess
    import sys
    result = subprocess.run([sys.executable, "-m", "fastinit", "info"], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert f"fastinit {fastinit.__version__}" in result.stdout.splitlines()
    assert "non-temporal stores for large existing outputs: " in result.stdout
