#!/usr/bin/env bash
# The sdist, as a packager or `pip install fastinit-weights` without a wheel would use it:
#   1. `python -m build --sdist` from the checkout, then `twine check`;
#   2. its contents: every tracked file the build and the tests need is in it (CMakeLists.txt,
#      pyproject.toml, README.md, LICENSE, csrc/, src/, tests/, benchmarks/, docs/), and
#      nothing else is (PKG-INFO aside): no build dirs, wheels, venvs, CI or tool scripts;
#   3. `pip install fastinit_weights-*.tar.gz[bench,half]` in a fresh venv whose PATH holds a C
#      compiler and binutils and nothing else: CMake, Ninja, Cython and NumPy come from PyPI
#      through pip's isolated build;
#   4. from the unpacked sdist's root, with the installed package: plain `pytest -m "not slow"`
#      (pyproject's testpaths and options), and `pytest --benchmark-only` on one small case,
#      the benchmarks' own command, which must not need anything [bench] lacks.
#
# usage: tools/test_sdist.sh
# env:   WORK     scratch dir (default: a new mktemp -d, removed on success)
#        RESULTS  dir for the JUnit XML of the pytest run (default: $WORK/results)
#        PYTHON   interpreter for the venvs (default python3)
#        SDIST    test this sdist instead of building one (the workflow tests what it uploads)
set -euo pipefail
# shellcheck source=tools/lib.sh
. "$(dirname "$0")/lib.sh"
work_dir sdist
PYTHON=${PYTHON:-python3}
# what the build and the tests read; the sdist must hold exactly these (see pyproject's
# [tool.scikit-build] sdist.exclude)
SOURCE_PATHS=(CMakeLists.txt pyproject.toml README.md LICENSE csrc src tests benchmarks docs)

echo
echo "== sdist 1. build and twine check"
"$PYTHON" -m venv "$WORK/sdist-tools"
"$WORK/sdist-tools/bin/python" "${PIP[@]}" build twine
if [ -n "${SDIST:-}" ]; then
    SDIST=$(cd "$(dirname "$SDIST")" && pwd)/$(basename "$SDIST")
    echo "testing $SDIST"
else
    rm -rf "$WORK/sdist"
    "$WORK/sdist-tools/bin/python" -m build --sdist --outdir "$WORK/sdist" "$ROOT" | tail -1
    SDIST=$(ls "$WORK"/sdist/fastinit_weights-*.tar.gz)
fi
"$WORK/sdist-tools/bin/twine" check --strict "$SDIST"

echo
echo "== sdist 2. contents of $(basename "$SDIST")"
tar -tzf "$SDIST" | grep -v '/$' | sed 's|^[^/]*/||' | sort > "$WORK/sdist-files.txt"
echo "$(wc -l < "$WORK/sdist-files.txt") files"
if git -C "$ROOT" rev-parse --is-inside-work-tree > /dev/null 2>&1; then
    (cd "$ROOT" && git ls-files -- "${SOURCE_PATHS[@]}") | sort > "$WORK/needed.txt"
    # tracked, or new and not ignored: what a commit of this checkout would hold
    (cd "$ROOT" && git ls-files --cached --others --exclude-standard -- "${SOURCE_PATHS[@]}"; echo PKG-INFO) \
        | sort -u > "$WORK/allowed.txt"
    missing=$(comm -23 "$WORK/needed.txt" "$WORK/sdist-files.txt")
    extra=$(comm -13 "$WORK/allowed.txt" "$WORK/sdist-files.txt")
    [ -z "$missing" ] || { echo "missing from the sdist:"; echo "$missing"; }
    [ -z "$extra" ] || { echo "in the sdist but not source:"; echo "$extra"; }
    [ -z "$missing$extra" ] || exit 1
    echo "contents: every tracked file of ${SOURCE_PATHS[*]}, nothing else"
else
    echo "contents: not a git checkout, compared with nothing (the build and tests below still run)"
fi

echo
echo "== sdist 3. pip install from the sdist with only a C compiler on PATH"
ccbin="$WORK/cc-only"
mkdir -p "$ccbin"
for tool in cc gcc as ld ar ranlib strip nm objcopy; do
    p=$(command -v "$tool") || { echo "no $tool on PATH: the sdist needs a C compiler" >&2; exit 1; }
    ln -sf "$p" "$ccbin/$tool"
done
venv="$WORK/sdist-venv"
"$PYTHON" -m venv "$venv"
t0=$SECONDS
PATH="$venv/bin:$ccbin" "$venv/bin/python" "${PIP[@]}" "${SDIST}[bench,half]"
echo "built and installed in $((SECONDS - t0)) s"

echo
echo "== sdist 4. its tests, from the unpacked sdist"
mkdir -p "$WORK/unpacked"
tar -xzf "$SDIST" -C "$WORK/unpacked"
src=$(ls -d "$WORK"/unpacked/fastinit_weights-*)
# src/ layout: from the sdist's root, `import fastinit` can only find the installed package
(cd "$src" && "$venv/bin/python" -c "import fastinit; print('testing', fastinit.__file__)" \
    && "$venv/bin/python" -m pytest -q -p no:cacheprovider -m "not slow" \
        --junitxml="$RESULTS/sdist-not-slow.xml" -o junit_suite_name=sdist)
echo
echo "== sdist 4. pytest --benchmark-only (one small case)"
(cd "$src" && "$venv/bin/python" -m pytest -q -p no:cacheprovider --benchmark-only \
    -k "xavier_uniform-float32-64x64" --benchmark-columns=median,rounds --benchmark-sort=name)
