# shellcheck shell=bash
# The preamble of the scripts that test installs from scratch (tools/test_sdist.sh,
# tools/test_versions.sh), sourced by them:
#     . "$(dirname "$0")/lib.sh"
#     work_dir NAME
# Sourcing sets ROOT (the checkout: the parent of tools/), PIP (the arguments of a quiet
# `python -m pip install`) and exports PYTHONDONTWRITEBYTECODE=1, so that nothing run from
# the checkout writes __pycache__ into it.  work_dir NAME makes the scratch dir and sets
#   WORK     $WORK if set (left in place), else a new /tmp/fastinit-NAME.XXXXXX: removed when
#            the script exits 0, kept and its path printed when it fails
#   RESULTS  dir for the JUnit XML of pytest runs ($RESULTS if set, else $WORK/results)

# shellcheck disable=SC2034  # ROOT and PIP are read by the scripts that source this
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export PYTHONDONTWRITEBYTECODE=1
# shellcheck disable=SC2034
PIP=(-m pip install -q --disable-pip-version-check)

work_dir() {
    if [ -z "${WORK:-}" ]; then
        WORK=$(mktemp -d "/tmp/fastinit-$1.XXXXXX")
        trap 'if [ $? = 0 ]; then rm -rf "$WORK"; else echo "== work dir kept: $WORK" >&2; fi' EXIT
    fi
    mkdir -p "$WORK"
    RESULTS=${RESULTS:-$WORK/results}
    mkdir -p "$RESULTS"
}
