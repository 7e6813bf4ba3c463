"""The paging advice for memory about to be filled for the first time (csrc/memory.c), which
init_module gives the tensors it materializes from meta."""
import os
import sys

import numpy as np

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
