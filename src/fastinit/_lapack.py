"""The QR of fastinit.orthogonal, in place, through the very LAPACK routines numpy.linalg.qr
calls (dgeqrf, then dorgqr, with the workspace numpy asks for), so that the values are
numpy's bit for bit while the memory is one float64 matrix instead of numpy's five
(its copy of the input, a work copy per routine, Q and R).

The routines are found in numpy's own linalg extension (its bundled OpenBLAS, ILP64, as
numpy's wheels ship it).  Where they cannot be found (another BLAS, Windows, whose DLLs do
not export their dependencies' symbols) or do not reproduce numpy.linalg.qr on a check
matrix, `qr_in_place` is None and orthogonal takes numpy.linalg.qr as it is."""
import ctypes

import numpy as np

_INT = ctypes.c_int64           # ILP64: the routines' "64_" names take 64-bit integers
_NAMES = (("scipy_dgeqrf_64_", "scipy_dorgqr_64_"), ("dgeqrf_64_", "dorgqr_64_"))

_routines = None                # (dgeqrf, dorgqr), or False once looked for in vain


def _find_routines():
    try:
        from numpy.linalg import _umath_linalg
        library = ctypes.CDLL(_umath_linalg.__file__)
    except (ImportError, OSError, AttributeError):
        return None
    for geqrf_name, orgqr_name in _NAMES:
        try:
            return getattr(library, geqrf_name), getattr(library, orgqr_name)
        except AttributeError:
            continue
    return None


def _call(routine, *args):
    """routine(args..., work, lwork, info) with numpy's workspace: a size query first
    (lwork = -1), then max(1, n, the answer truncated to an int), as numpy's umath_linalg."""
    ints = [_INT(a) if isinstance(a, int) else a for a in args]
    n = ints[1].value
    query, info = ctypes.c_double(0.0), _INT(0)
    routine(*[_ref(a) for a in ints], _ref(query), _ref(_INT(-1)), _ref(info))
    if info.value != 0:
        raise np.linalg.LinAlgError(f"LAPACK workspace query failed (info {info.value})")
    lwork = max(1, n, int(query.value))
    work = np.empty(lwork, dtype=np.float64)
    routine(*[_ref(a) for a in ints], work.ctypes.data_as(ctypes.c_void_p), _ref(_INT(lwork)),
            _ref(info))
    if info.value != 0:
        raise np.linalg.LinAlgError(f"LAPACK QR failed (info {info.value})")


def _ref(value):
    return value if isinstance(value, ctypes.c_void_p) else ctypes.byref(value)


def _qr_in_place(a, routines):
    """a (m x n, m >= n, float64, Fortran order) becomes Q of its QR; returns diag(R)."""
    geqrf, orgqr = routines
    m, n = a.shape
    tau = np.empty(n, dtype=np.float64)
    pointer = ctypes.c_void_p(a.ctypes.data)
    tau_pointer = ctypes.c_void_p(tau.ctypes.data)
    lda = max(1, m)
    _call(geqrf, m, n, pointer, lda, tau_pointer)
    diagonal = a.diagonal().copy()            # R's diagonal, before dorgqr overwrites it
    _call(orgqr, m, n, n, pointer, lda, tau_pointer)
    return diagonal


def _agrees_with_numpy(routines):
    """Q and diag(R) of a check matrix equal numpy.linalg.qr's, bit for bit: sizes past
    LAPACK's block size, so that the blocked code runs as it does for real matrices."""
    rng = np.random.default_rng(20261203)
    for m, n in ((300, 200), (257, 257), (65, 1)):
        a = rng.standard_normal((m, n))
        q, r = np.linalg.qr(a)
        mine = np.asfortranarray(a)
        diagonal = _qr_in_place(mine, routines)
        if not (np.array_equal(mine, q) and np.array_equal(diagonal, np.diagonal(r))):
            return False
    return True


def qr_in_place():
    """The in-place QR (a function of a Fortran-ordered float64 matrix, returning diag(R)),
    or None where numpy's own routines are not at hand or disagree with numpy.linalg.qr."""
    global _routines
    if _routines is None:
        found = _find_routines()
        _routines = found if found is not None and _agrees_with_numpy(found) else False
    if _routines is False:
        return None
    routines = _routines
    return lambda a: _qr_in_place(a, routines)


def disable():
    """Makes qr_in_place return None (tests of the fallback)."""
    global _routines
    _routines = False


def reset():
    global _routines
    _routines = None
