# shellcheck shell=bash
# The preamble of the scripts that test installs from scratch (tools/test_sdist.sh,
# tools/test_versions.sh, tools/test_tensorflow.sh), sourced by them:
#     . "$(dirname "$0")/lib.sh"
#     work_dir NAME
# Sourcing sets ROOT (the checkout: the parent of tools/), PIP (the arguments of a quiet
# `python -m pip install`) and exports PYTHONDONTWRITEBYTECODE=1, so that nothing run from
# the checkout writes __pycache__ into it.  work_dir NAME makes the scratch dir and sets
#   WORK     $WORK if set (left in place), else a new /tmp/fastinit-NAME.XXXXXX: removed when
#            the script exits 0, kept and its path printed when it fails
#   RESULTS  dir for the JUnit XML of pytest runs ($RESULTS if set, else $WORK/results)
# CORE_TESTS are the test files that exercise the compiled core and the NumPy API with no
# framework (the stream, every fill and dtype, regions, threads, limits, bad input, the
# pinned hashes): what tools/test_versions.sh runs on the Pythons other than 3.11 and
# tools/sanitize.sh runs against the sanitized extension.
# find_python 3.X prints the path of a CPython 3.X: one of $FASTINIT_PYTHONS if set (e.g.
# "/opt/py310/bin/python3.10 /opt/py311/bin/python3.11 ..."), else
# $PYENV_ROOT/versions/3.X.*/bin/python3.X (pyenv, as on this project's machines), else
# python3.X on PATH; a missing one is an error that names it.

# shellcheck disable=SC2034  # ROOT and PIP are read by the scripts that source this
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export PYTHONDONTWRITEBYTECODE=1
# shellcheck disable=SC2034
PIP=(-m pip install -q --disable-pip-version-check)

# shellcheck disable=SC2034
CORE_TESTS=(test_philox.py test_stream.py test_stability.py test_distributions.py
            test_half.py test_region.py test_generator.py test_schemes.py test_fans.py
            test_call_path.py test_bad_input.py test_limits.py test_memory.py test_isa.py
            test_concurrency.py test_trust.py test_orthogonal.py test_normal_cdf.py)

work_dir() {
    if [ -z "${WORK:-}" ]; then
        WORK=$(mktemp -d "/tmp/fastinit-$1.XXXXXX")
        trap 'if [ $? = 0 ]; then rm -rf "$WORK"; else echo "== work dir kept: $WORK" >&2; fi' EXIT
    fi
    mkdir -p "$WORK"
    RESULTS=${RESULTS:-$WORK/results}
    mkdir -p "$RESULTS"
}

find_python() {      # find_python 3.12 -> path of a CPython 3.12 interpreter, or fail
    local v=$1 p
    if [ -n "${FASTINIT_PYTHONS:-}" ]; then
        for p in $FASTINIT_PYTHONS; do
            if [ "$("$p" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)" = "$v" ]; then
                echo "$p"; return 0
            fi
        done
    else
        for p in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$v".*/bin/python"$v" "$(command -v "python$v" || true)"; do
            # pyenv's shims exist for every installed version but run only the active one
            if [ -x "$p" ] && "$p" -c 'import sys, venv' 2>/dev/null; then
                echo "$p"; return 0
            fi
        done
    fi
    echo "CPython $v not found (looked in FASTINIT_PYTHONS, or \$PYENV_ROOT/versions/$v.*/bin" \
         "and python$v on PATH): install it (e.g. \`pyenv install $v\`) or set FASTINIT_PYTHONS" >&2
    return 1
}
