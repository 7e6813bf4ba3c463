#!/usr/bin/env bash
# The wheel on every CPython the package supports, with NumPy's oldest and newest releases.
#   1. tools/build_wheel.sh builds the manylinux_2_17 wheel (zig cc, auditwheel) for CPython
#      3.10, 3.11, 3.12 and 3.13; each is installed in a fresh venv with the newest NumPy
#      for its Python, every ISA this CPU has must give the scalar bits, and AVX code may
#      only sit in the dispatched kernels.
#   2. Each wheel is installed in a fresh venv with its [test] extra and tested from outside
#      the tree (so only the installed package can be imported):
#        3.11  newest NumPy, every framework extra (tests/requirements-extras.txt), the
#              whole suite, FASTINIT_REQUIRE_EXTRAS=1 (a missing framework fails)
#        3.10  NumPy 1.23.0, the oldest release the package claims (numpy>=1.23): core
#        3.12  newest NumPy: core
#        3.13  newest NumPy: core
#      The core selection is CORE_TESTS of tools/lib.sh with `-m "not slow"`: the compiled
#      core and the NumPy API with no framework (the tests that can differ between Pythons
#      and NumPy releases), with [half] (ml_dtypes) so that bfloat16 is tested on every
#      Python too; about a minute each.  The framework extras are
#      installed on 3.11 only (the CPU build of torch 2.13.0 this project pins is at hand
#      for 3.11).
#      Then the torch tests once more on 3.11 with NEWER_TORCH, the newest release that
#      installs here without a download of several GB (see below), so that a user who
#      gets a newer torch than the pinned one is covered too.
#   3. The same draws, hashed, must agree in every venv of 1. and 2. and in one more per
#      Python with the oldest NumPy that has a wheel for it (1.23.0, 1.23.2, 1.26.0, 2.1.0).
#
# usage: tools/test_versions.sh
# env:   WORK              scratch dir (default: a new mktemp -d, removed on success)
#        RESULTS           dir for the JUnit XML of each pytest run (default: $WORK/results)
#        FASTINIT_PYTHONS  interpreters to use instead of searching, e.g.
#                          "/opt/py310/bin/python3.10 /opt/py311/bin/python3.11 ..."
# The interpreters are looked up as $PYENV_ROOT/versions/3.X.*/bin/python3.X (pyenv, as on
# this project's machines), then python3.X on PATH; a missing one is an error that names it.
set -euo pipefail
# shellcheck source=tools/lib.sh
. "$(dirname "$0")/lib.sh"
work_dir versions

VERSIONS=(3.10 3.11 3.12 3.13)
# The oldest NumPy with a wheel for each Python (1.23.2 is the first 1.23.x for 3.11).
declare -A OLDEST_NUMPY=([3.10]=1.23.0 [3.11]=1.23.2 [3.12]=1.26.0 [3.13]=2.1.0)
# What each Python's tests install and run: "numpy pin|newest" and "full|core".
declare -A TEST_NUMPY=([3.10]=1.23.0 [3.11]=newest [3.12]=newest [3.13]=newest)
declare -A TEST_SUITE=([3.10]=core [3.11]=full [3.12]=core [3.13]=core)

# torch 2.14.1 is the newest release this machine class installs from local disk (its pip
# is capped there: /etc/xdg/pip); PyPI's newer releases (2.15.0 on 2026-12-03) exist for
# Linux x86-64 only as CUDA builds whose nvidia packages take gigabytes of downloads.
NEWER_TORCH=${NEWER_TORCH:-2.14.1}

declare -A PY WHEEL
for v in "${VERSIONS[@]}"; do PY[$v]=$(find_python "$v"); done
for v in "${VERSIONS[@]}"; do echo "CPython $v: ${PY[$v]} ($("${PY[$v]}" -c 'import sys; print(sys.version.split()[0])'))"; done

# A digest of draws of every distribution and dtype, a few schemes, a region and a
# Generator stream: equal digests mean equal values.  orthogonal is left out: its QR is
# NumPy's LAPACK, whose last bits may differ between NumPy builds.
DIGEST_PY='
import hashlib, numpy as np, fastinit
h = hashlib.sha256()
for dt in ("float16", "float32", "float64"):
    for n in (1, 7, 1000, 4099):
        g = fastinit.Generator(n)
        for a in (g.uniform((n,), -2.0, 3.0, dtype=dt), g.normal((n,), 0.5, 2.0, dtype=dt),
                  g.truncated_normal((n,), dtype=dt), g.random_raw(n),
                  fastinit.he_normal((n, 3), seed=n, dtype=dt),
                  fastinit.xavier_uniform((3, n), seed=n, dtype=dt),
                  fastinit.lecun_normal((n, 5), seed=n, dtype=dt, truncated=True),
                  fastinit.he_uniform((64, n), seed=n, dtype=dt, region=(slice(5, 9),))):
            h.update(np.ascontiguousarray(a).tobytes())
print(h.hexdigest())'
declare -A DIGEST
digest() {           # digest NAME VENV: record the digest of VENV's fastinit under NAME
    local d
    d=$(cd "$WORK" && "$2/bin/python" -c "$DIGEST_PY")
    DIGEST[$1]=$d
    printf '  %-32s numpy %-7s %s\n' "$1" "$("$2/bin/python" -c 'import numpy; print(numpy.__version__)')" "$d"
}

echo
echo "== versions 1. the wheel for CPython ${VERSIONS[*]} (tools/build_wheel.sh)"
for v in "${VERSIONS[@]}"; do
    tag=cp${v/./}
    echo
    echo "== versions 1. wheel $tag"
    PYTHON=${PY[$v]} WORKDIR="$WORK/$tag" TOOLS_VENV="$WORK/zig-tools" OUTDIR="$WORK/out" \
        bash "$ROOT/tools/build_wheel.sh" --no-tests
    WHEEL[$v]=$(ls "$WORK"/out/wheelhouse/fastinit_weights-*-"$tag"-"$tag"-*.whl)
done

echo
echo "== versions 2. tests against each installed wheel"
for v in "${VERSIONS[@]}"; do
    tag=cp${v/./}
    venv="$WORK/test-$tag"
    numpy=${TEST_NUMPY[$v]} suite=${TEST_SUITE[$v]}
    echo
    echo "== versions 2. CPython $v, numpy $numpy, $suite suite"
    "${PY[$v]}" -m venv "$venv"
    pins=()
    [ "$numpy" = newest ] || pins+=("numpy==$numpy")
    if [ "$suite" = full ]; then
        "$venv/bin/python" "${PIP[@]}" "${WHEEL[$v]}[test]" "${pins[@]}" -r "$ROOT/tests/requirements-extras.txt"
        extras=1 selection=("$ROOT/tests")
    else
        "$venv/bin/python" "${PIP[@]}" "${WHEEL[$v]}[test,half]" "${pins[@]}"
        extras=0 selection=("${CORE_TESTS[@]/#/$ROOT/tests/}" -m "not slow")
    fi
    if [ "$numpy" != newest ]; then    # the pin must hold after the test deps resolved
        "$venv/bin/python" -c "import numpy, sys; sys.exit(numpy.__version__ != '$numpy')" \
            || { echo "numpy $numpy was not kept in $venv" >&2; exit 1; }
    fi
    (cd "$WORK" && "$venv/bin/python" -c "import fastinit; print('testing', fastinit.__file__); fastinit.show_config()")
    (cd "$WORK" && FASTINIT_REQUIRE_EXTRAS=$extras "$venv/bin/python" -m pytest "${selection[@]}" -q \
        -p no:cacheprovider --import-mode=importlib \
        --junitxml="$RESULTS/$tag-numpy-$numpy-$suite.xml" -o junit_suite_name="$tag-numpy-$numpy-$suite")
done

echo
echo "== versions 2b. the torch tests on CPython 3.11 with torch $NEWER_TORCH"
venv="$WORK/test-cp311-torch-$NEWER_TORCH"
"${PY[3.11]}" -m venv "$venv"
"$venv/bin/python" "${PIP[@]}" "${WHEEL[3.11]}[test,torch]" "torch==$NEWER_TORCH"
"$venv/bin/python" -c "import torch, sys; print('torch', torch.__version__); sys.exit(not torch.__version__.startswith('$NEWER_TORCH'))"
(cd "$WORK" && FASTINIT_REQUIRE_EXTRAS=1 "$venv/bin/python" -m pytest \
    "$ROOT/tests/test_torch.py" "$ROOT/tests/test_torch_trust.py" "$ROOT/tests/test_torch_module.py" \
    "$ROOT/tests/test_torch_dtensor.py" -q -p no:cacheprovider --import-mode=importlib -m "not slow" \
    --junitxml="$RESULTS/cp311-torch-$NEWER_TORCH.xml" -o junit_suite_name="cp311-torch-$NEWER_TORCH")
rm -rf "$venv"        # 5.5 GB

echo
echo "== versions 3. the same values in every venv"
for v in "${VERSIONS[@]}"; do
    tag=cp${v/./}
    digest "$tag newest numpy (build check)" "$WORK/$tag/verify-venv"
    digest "$tag tests" "$WORK/test-$tag"
    venv="$WORK/oldest-$tag"
    if [ "${TEST_NUMPY[$v]}" != "${OLDEST_NUMPY[$v]}" ]; then
        "${PY[$v]}" -m venv "$venv"
        "$venv/bin/python" "${PIP[@]}" "${WHEEL[$v]}" "numpy==${OLDEST_NUMPY[$v]}"
        digest "$tag oldest numpy" "$venv"
    fi
done
# shellcheck disable=SC2046
if [ "$(printf '%s\n' "${DIGEST[@]}" | sort -u | wc -l)" != 1 ]; then
    echo "versions: the values differ between installs (above)" >&2
    exit 1
fi
echo "versions: the same values in all ${#DIGEST[@]} installs"
