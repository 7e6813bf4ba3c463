#!/usr/bin/env bash
# The test command (README, .ci/run).  Sections:
#   1. the C tests of the core (ctest);
#   2. the wheel workflow linted: GitHub's schema, cibuildwheel's selection per runner
#      (tools/check_workflow.sh);
#   3. the portable manylinux_2_17 wheel (zig cc) built for CPython 3.10, 3.11, 3.12 and
#      3.13, each installed in fresh venvs and tested from outside the tree: the whole suite
#      with every framework extra on 3.11, the fast subset elsewhere, NumPy's newest and the
#      oldest the package claims, the same values in every install (tools/test_versions.sh);
#   4. Keras on its TensorFlow backend: the CPython 3.11 wheel of 3. in a venv of its own with
#      tensorflow-cpu, the lecture's tf.keras model, test_keras.py and Keras's own
#      initializer tests (tools/test_tensorflow.sh);
#   5. the sdist: built, its contents checked, installed with only a C compiler on PATH,
#      its own tests run (tools/test_sdist.sh);
#   6. the documentation site built from the CPython 3.11 wheel of 3. with warnings as
#      errors, every internal link and anchor checked (tools/build_docs.sh);
# then a summary whose last line totals every test run.
# Needs: python3 with venv, CPython 3.10-3.13 (pyenv's or on PATH: see test_versions.sh), a
# C compiler and network access to PyPI; installs everything else into its work dir.
# Leaves nothing behind: the work dir is removed on success, kept on failure (the summary
# prints its path), and nothing is written into the checkout (section 6 checks).
# env: FASTINIT_TEST_WORKDIR  work dir to use (then never removed)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
if [ -n "${FASTINIT_TEST_WORKDIR:-}" ]; then
    work=$FASTINIT_TEST_WORKDIR keep_work=1
else
    work=$(mktemp -d /tmp/fastinit-test.XXXXXX) keep_work=0
fi
mkdir -p "$work/results"
export RESULTS="$work/results" PYTHONDONTWRITEBYTECODE=1
t_start=$SECONDS
git_state() { git -C "$root" status --porcelain --ignored 2>/dev/null || true; }
checkout_before=$(git_state)

summary=() current="" t_section=0
section() {
    current=$1 t_section=$SECONDS
    printf '\n========== %s\n' "$current"
}
section_done() {
    summary+=("$(printf 'ok      %-54s %5d s' "$current" $((SECONDS - t_section)))")
    current=""
}
finish() {
    local rc=$?
    set +e
    [ -z "$current" ] || summary+=("$(printf 'FAILED  %-54s %5d s' "$current" $((SECONDS - t_section)))")
    printf '\n========== summary (%d s)\n' $((SECONDS - t_start))
    printf '%s\n' "${summary[@]}"
    if [ "$rc" != 0 ] || [ "$keep_work" = 1 ]; then
        echo "work dir kept: $work"
    fi
    echo "test runs (JUnit XML of each):"
    python3 - "$RESULTS" "$rc" <<'EOF'
import glob, os, sys
import xml.etree.ElementTree as ET
results, rc = sys.argv[1], int(sys.argv[2])
total = dict(passed=0, failed=0, skipped=0)
for path in sorted(glob.glob(os.path.join(results, "*.xml"))):
    root = ET.parse(path).getroot()
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    n = {k: sum(int(s.get(k, 0)) for s in suites) for k in ("tests", "failures", "errors", "skipped", "disabled")}
    skipped = n["skipped"] + n["disabled"]
    failed = n["failures"] + n["errors"]
    passed = n["tests"] - failed - skipped
    print("  %-40s %6d passed, %d failed, %d skipped"
          % (os.path.basename(path)[:-4], passed, failed, skipped))
    for k, v in (("passed", passed), ("failed", failed), ("skipped", skipped)):
        total[k] += v
if rc != 0 and total["failed"] == 0:
    print("  (a step outside the test runs failed: counted as 1 failed below)")
    total["failed"] = 1
print("total: %(passed)d passed, %(failed)d failed, %(skipped)d skipped" % total)
EOF
    [ "$rc" != 0 ] || [ "$keep_work" = 1 ] || rm -rf "$work"
    exit "$rc"
}
trap finish EXIT
echo "work dir: $work"

section "1. C tests (ctest)"
python3 -m venv "$work/build-tools"
"$work/build-tools/bin/pip" install -q --disable-pip-version-check cmake ninja
PATH="$work/build-tools/bin:$PATH" cmake -S "$root" -B "$work/ctest" -G Ninja \
    -DFASTINIT_BUILD_PYTHON=OFF -DFASTINIT_BUILD_TESTS=ON >/dev/null
PATH="$work/build-tools/bin:$PATH" cmake --build "$work/ctest" >/dev/null
(cd "$work/ctest" && PATH="$work/build-tools/bin:$PATH" \
    ctest --output-on-failure --output-junit "$RESULTS/ctest.xml")
section_done

section "2. the wheel workflow linted (tools/check_workflow.sh)"
WORK="$work/workflow" bash "$root/tools/check_workflow.sh"
section_done

section "3. wheels for CPython 3.10-3.13 (tools/test_versions.sh)"
WORK="$work/versions" bash "$root/tools/test_versions.sh"
section_done

section "4. Keras on TensorFlow (tools/test_tensorflow.sh)"
cp311_wheel=$(ls "$work"/versions/out/wheelhouse/fastinit_weights-*-cp311-cp311-*.whl)
WORK="$work/tensorflow" WHEEL=$cp311_wheel bash "$root/tools/test_tensorflow.sh"
section_done

section "5. the sdist (tools/test_sdist.sh)"
WORK="$work/sdist" bash "$root/tools/test_sdist.sh"
section_done

section "6. the documentation site (tools/build_docs.sh)"
# the wheel section 3 tested, in a venv of the interpreter it was built for
WORK="$work/docs" PYTHON="$work/versions/test-cp311/bin/python" \
    FASTINIT_WHEEL="$(ls "$work"/versions/out/wheelhouse/fastinit_weights-*-cp311-cp311-*.whl)" \
    bash "$root/tools/build_docs.sh"
section_done

section "7. the checkout is left as it was"
checkout_after=$(git_state)
if [ "$checkout_before" != "$checkout_after" ]; then
    diff <(echo "$checkout_before") <(echo "$checkout_after") || true
    exit 1
fi
echo "git status --ignored: unchanged"
section_done
