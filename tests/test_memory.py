"""The paging advice for memory about to be filled for the first time (csrc/memory.c), which
init_module gives the tensors it materializes from meta, and the check by which a fill
treats an existing output whose pages are not in memory yet as a new one."""
import os
import sys

import numpy as np
import pytest

import fastinit
from fastinit import _core

HUGE = 2 << 20
# Linux built with transparent huge pages shows this directory, whatever its mode
LINUX_THP = sys.platform.startswith("linux") and os.path.isdir("/sys/kernel/mm/transparent_hugepage")


def test_advice_is_given_where_the_kernel_has_huge_pages():
    buffer = np.empty(8 << 20, np.uint8)      # holds at least three aligned 2 MiB pages
    assert _core.advise_huge_pages(buffer.ctypes.data, buffer.nbytes) is LINUX_THP


def test_no_advice_for_a_range_without_a_whole_aligned_huge_page():
    buffer = np.empty(3 * HUGE, np.uint8)
    inside = buffer.ctypes.data + (-buffer.ctypes.data % HUGE) + 1   # just past a boundary
    assert _core.advise_huge_pages(inside, HUGE - 2) is False
    assert _core.advise_huge_pages(buffer.ctypes.data, 0) is False


def test_advised_memory_gets_the_same_values():
    out = np.empty((2048, 2048), np.float32)
    _core.advise_huge_pages(out.ctypes.data, out.nbytes)
    fastinit.he_normal(out.shape, seed=3, out=out)
    assert out.tobytes() == fastinit.he_normal(out.shape, seed=3).tobytes()


def fresh_array(shape, dtype):
    """An array over a new anonymous mapping: pages the OS has not given it yet."""
    import mmap
    nbytes = int(np.prod(shape)) * np.dtype(dtype).itemsize
    return np.frombuffer(mmap.mmap(-1, nbytes), dtype=dtype).reshape(shape)


def test_a_new_mapping_looks_untouched_until_written():
    out = fresh_array((1024, 1024), np.float64)          # 8 MiB
    address = out.ctypes.data
    assert _core.looks_untouched(address, out.nbytes) is sys.platform.startswith("linux")
    out[512, 0] = 1.0                                   # the middle page, in memory now
    assert _core.looks_untouched(address, out.nbytes) is False
    assert _core.looks_untouched(address, 4096) is False    # too few pages to tell


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("threads", [1, 2])
def test_untouched_outputs_get_the_same_values(dtype, threads):
    # fi_fill fills an untouched output as a new one (huge pages, plain stores); a
    # resident one of 8 MiB and more may take non-temporal stores: the same values
    shape = (1536, 2048)                               # 12 or 24 MiB
    fresh, resident = fresh_array(shape, dtype), np.ones(shape, dtype)
    g = fastinit.Generator(5)
    state = g.state
    g.normal(shape, 0.5, 2.0, out=fresh, threads=threads)
    g.state = state
    g.normal(shape, 0.5, 2.0, out=resident, threads=threads)
    new = fastinit.Generator(5).normal(shape, 0.5, 2.0, dtype=dtype)
    assert fresh.tobytes() == resident.tobytes() == new.tobytes()
