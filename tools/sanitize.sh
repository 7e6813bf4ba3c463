#!/usr/bin/env bash
# Memory and undefined-behaviour checks of the core:
#   1. the C tests built with AddressSanitizer + UndefinedBehaviorSanitizer (ctest);
#   2. the C tests under valgrind memcheck (valgrind reports no AVX-512, so this also runs
#      the dispatch fallback to AVX2);
#   3. the core Python tests (CORE_TESTS of tools/lib.sh: the compiled core and the NumPy
#      API, no framework) against an extension built with both sanitizers.
# Usage: bash tools/sanitize.sh   (needs gcc, cmake, ninja, valgrind; run from anywhere)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=tools/lib.sh
. "$root/tools/lib.sh"
if [ -n "${SANITIZE_WORKDIR:-}" ]; then
    work=$SANITIZE_WORKDIR
else    # removed on success, kept for a look on failure
    work=$(mktemp -d /tmp/fastinit-sanitize.XXXXXX)
    trap 'rc=$?; if [ $rc = 0 ]; then rm -rf "$work"; else echo "== work dir kept: $work"; fi' EXIT
fi
echo "== work dir: $work"

echo "== 1. C tests with ASan + UBSan"
cmake -S "$root" -B "$work/c-asan" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DFASTINIT_SANITIZE=ON -DFASTINIT_BUILD_PYTHON=OFF -DFASTINIT_BUILD_TESTS=ON >/dev/null
cmake --build "$work/c-asan" >/dev/null
(cd "$work/c-asan" && ctest --output-on-failure)

echo "== 2. C tests under valgrind memcheck"
cmake -S "$root" -B "$work/c-plain" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DFASTINIT_BUILD_PYTHON=OFF -DFASTINIT_BUILD_TESTS=ON >/dev/null
cmake --build "$work/c-plain" >/dev/null
valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite \
         "$work/c-plain/tests/c/test_core" "$root/tests/data/philox_kat_vectors.txt"

echo "== 3. Python tests against a sanitized extension"
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install -q --upgrade pip
"$work/venv/bin/pip" install -q "$root[test,half]" \
    -Ccmake.define.FASTINIT_SANITIZE=ON -Ccmake.build-type=RelWithDebInfo
libasan="$(gcc -print-file-name=libasan.so)"
libubsan="$(gcc -print-file-name=libubsan.so)"
# CPython itself is not built with ASan: its allocations look like leaks, so leak checking is off
(cd "$work" && LD_PRELOAD="$libasan $libubsan" ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 \
    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    "$work/venv/bin/python" -m pytest "${CORE_TESTS[@]/#/$root/tests/}" -q -x -p no:cacheprovider \
    -m "not slow")
echo "== sanitizers: all clean"
