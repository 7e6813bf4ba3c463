#!/usr/bin/env bash
# The test command (README, .ci/run):
#   1. the C tests of the core (ctest);
#   2. a portable manylinux_2_17 wheel built with zig cc and repaired by auditwheel
#      (tools/build_wheel.sh), installed in a fresh virtual environment, checked to give
#      the same bits on every instruction set this CPU has and to keep AVX code inside the
#      dispatched kernels;
#   3. the whole Python test suite run against that installed wheel, not the source tree.
# Needs python3 (with venv), a C compiler and network access to PyPI; installs the rest.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="${FASTINIT_TEST_WORKDIR:-$(mktemp -d /tmp/fastinit-test.XXXXXX)}"
mkdir -p "$work"
echo "== work dir: $work"

echo "== 1. C tests"
python3 -m venv "$work/build-tools"
"$work/build-tools/bin/pip" install -q --disable-pip-version-check cmake ninja
export PATH="$work/build-tools/bin:$PATH"
cmake -S "$root" -B "$work/ctest" -G Ninja -DFASTINIT_BUILD_PYTHON=OFF -DFASTINIT_BUILD_TESTS=ON >/dev/null
cmake --build "$work/ctest" >/dev/null
(cd "$work/ctest" && ctest --output-on-failure)

echo "== 2. portable wheel"
WORKDIR="$work/wheel" bash "$root/tools/build_wheel.sh" --no-tests

echo "== 3. Python tests against the installed wheel"
venv="$work/wheel/verify-venv"
"$venv/bin/pip" install -q --disable-pip-version-check pytest-benchmark -r "$root/tests/requirements-extras.txt"
# every optional framework is installed here, so none of their tests may be skipped
export FASTINIT_REQUIRE_EXTRAS=1
# run from outside the tree so that `import fastinit` can only find the installed wheel
cd "$work"
"$venv/bin/python" -c "import fastinit, sys; print('testing', fastinit.__file__); fastinit.show_config()"
"$venv/bin/python" -m pytest "$root/tests" -q -p no:cacheprovider --import-mode=importlib
