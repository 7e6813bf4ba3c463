"""fastinit.orthogonal's QR through numpy's own LAPACK in place (src/fastinit/_lapack.py):
the values of the numpy.linalg.qr route, bit for bit, in a fraction of its memory."""
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import fastinit
from fastinit import _lapack


def reference(shape, layout, dtype, seed, gain=1.0, region=None):
    """docs/stream.md's orthogonal, written out: the float64 standard normal draw of the
    tall matrix, numpy.linalg.qr, columns' signs by sign(diag(R)), transposed when wide,
    times gain in float64, cut to the region, rounded to dtype (half: through float32)."""
    if layout == "in_out":
        rows, cols = int(np.prod(shape[:-1])), shape[-1]
    else:
        rows, cols = shape[0], int(np.prod(shape[1:]))
    a = fastinit.normal((max(rows, cols), min(rows, cols)), dtype=np.float64, seed=seed)
    q, r = np.linalg.qr(a)
    q *= np.where(np.diagonal(r) < 0, -1.0, 1.0)
    full = (q.T if rows < cols else q).reshape(shape) * gain
    if region is not None:
        full = full[region]
    if np.dtype(dtype) == np.float16:
        full = full.astype(np.float32)
    return np.ascontiguousarray(full, dtype=dtype)


CASES = [((300, 200), "in_out", None), ((200, 300), "in_out", None),
         ((64, 3, 3, 16), "torch", None), ((5, 7, 40), "in_out", (slice(1, 4), slice(2, 7))),
         ((260, 260), "torch", (slice(100, 200),)), ((3, 1), "in_out", None),
         ((1, 5), "torch", None), ((40, 2, 2, 30), "in_out", None)]


@pytest.fixture(params=["lapack in place", "numpy.linalg.qr"])
def route(request):
    if request.param == "lapack in place":
        _lapack.reset()
        if _lapack.qr_in_place() is None:
            pytest.skip("numpy's LAPACK routines are not reachable here: only the fallback runs")
    else:
        _lapack.disable()
    yield request.param
    _lapack.reset()


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
@pytest.mark.parametrize("shape, layout, region", CASES, ids=[str(c[0]) for c in CASES])
def test_values_are_the_numpy_qr_route_bit_for_bit(route, shape, layout, region, dtype):
    got = fastinit.orthogonal(shape, 1.7, layout=layout, dtype=dtype, seed=3, region=region)
    expected = reference(shape, layout, dtype, 3, 1.7, region)
    assert got.dtype == expected.dtype and got.shape == expected.shape
    assert got.tobytes() == expected.tobytes()


def test_out_and_generator_streams_are_unchanged(route):
    g, h = fastinit.Generator(9), fastinit.Generator(9)
    out = np.empty((120, 80), np.float32)
    assert g.orthogonal((120, 80), out=out) is out
    assert out.tobytes() == h.orthogonal((120, 80), dtype=np.float32).tobytes()
    assert g.state == h.state                      # the same blocks of the stream taken
    assert g.normal(10).tobytes() == h.normal(10).tobytes()


def test_the_numpy_routines_are_found_with_numpys_own_wheels():
    # numpy's Linux wheels bundle ILP64 OpenBLAS with these names: the in-place route must
    # be the one taken there, or the memory bound below would silently not hold
    config = np.show_config(mode="dicts") if np.lib.NumpyVersion(np.__version__) >= "1.26.0" else {}
    lapack = config.get("Build Dependencies", {}).get("lapack", {})
    if sys.platform != "linux" or lapack.get("name") != "scipy-openblas":
        pytest.skip(f"numpy here is built against {lapack.get('name', 'an unknown LAPACK')}")
    _lapack.reset()
    assert _lapack.qr_in_place() is not None


@pytest.mark.slow
@pytest.mark.skipif(sys.platform != "linux", reason="reads VmHWM from /proc")
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_peak_memory_beyond_the_output_is_under_four_times_the_output(dtype):
    code = textwrap.dedent(f"""
        import numpy as np, fastinit

        def status(key):
            for line in open("/proc/self/status"):
                if line.startswith(key):
                    return int(line.split()[1]) * 1024

        fastinit.orthogonal((300, 200), seed=0)           # first-call costs: LAPACK, buffers
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")                                  # peak := current
        before = status("VmRSS")
        q = fastinit.orthogonal((2048, 2048), seed=1, dtype="{dtype}")
        print(before, status("VmHWM"), q.nbytes)
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stderr
    before, peak, output = (int(v) for v in result.stdout.split())
    extra = (peak - before - output) / output
    assert extra < 4, extra
