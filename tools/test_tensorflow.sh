#!/usr/bin/env bash
# fastinit.keras on Keras's TensorFlow backend, in a venv of its own on CPython 3.11 (the
# framework venv of tools/test_versions.sh runs Keras on jax and torch; TensorFlow, large
# and with pins of its own, stays out of it):
#   1. a fresh venv gets fastinit (WHEEL, the cp311 wheel tools/test.sh built in its section
#      3; alone, a wheel pip builds from the checkout) with its [test] extra,
#      tensorflow-cpu 2.21 and keras from PyPI;
#   2. from outside the tree, KERAS_BACKEND=tensorflow and FASTINIT_REQUIRE_EXTRAS=1
#      (a missing framework fails), one pytest run of
#        tests/tensorflow_cases.py   the lecture's tf.keras model (HeNormal, glorot_uniform,
#                                    LecunNormal, RandomNormal, Zeros, Ones): fit, save, load
#                                    back bit-identical; layers built inside tf.function
#        tests/test_keras.py         fastinit.keras against Keras and the NumPy API
#        tests/test_keras_suite.py   Keras's own initializer tests against fastinit.keras
#                                    (FASTINIT_KERAS_SUITE_BACKENDS=tensorflow)
# About 2 minutes, most of it the download and install of TensorFlow.
#
# usage: tools/test_tensorflow.sh
# env:   WORK     scratch dir (default: a new mktemp -d, removed on success)
#        RESULTS  dir for the JUnit XML of the pytest run (default: $WORK/results)
#        WHEEL    the fastinit wheel to test (a cp311 one); default: built from the checkout
#        FASTINIT_PYTHONS  interpreters to use instead of searching (see tools/lib.sh)
set -euo pipefail
# shellcheck source=tools/lib.sh
. "$(dirname "$0")/lib.sh"
work_dir tensorflow

TENSORFLOW="tensorflow-cpu~=2.21.0"
python=$(find_python 3.11)
echo "CPython 3.11: $python ($("$python" -c 'import sys; print(sys.version.split()[0])'))"

echo
echo "== tensorflow 1. venv: fastinit, $TENSORFLOW, keras"
if [ -z "${WHEEL:-}" ]; then
    "$python" -m venv "$WORK/build-venv"
    # pip builds in a temporary dir (scikit-build-core): nothing is written into the checkout
    "$WORK/build-venv/bin/python" -m pip wheel -q --disable-pip-version-check --no-deps \
        -w "$WORK/wheel" "$ROOT"
    WHEEL=$(ls "$WORK"/wheel/fastinit_weights-*-cp311-*.whl)
fi
echo "testing $WHEEL"
venv="$WORK/venv"
"$python" -m venv "$venv"
"$venv/bin/python" "${PIP[@]}" "$WHEEL[test]" "$TENSORFLOW" "keras>=3.0"
"$venv/bin/python" -c 'import importlib.metadata as m
print(", ".join(f"{p} {m.version(p)}" for p in ("fastinit-weights", "tensorflow-cpu", "keras", "numpy")))'

echo
echo "== tensorflow 2. tests on KERAS_BACKEND=tensorflow"
(cd "$WORK" && KERAS_BACKEND=tensorflow FASTINIT_KERAS_SUITE_BACKENDS=tensorflow \
    FASTINIT_REQUIRE_EXTRAS=1 TF_CPP_MIN_LOG_LEVEL=2 \
    "$venv/bin/python" -m pytest "$ROOT/tests/tensorflow_cases.py" "$ROOT/tests/test_keras.py" \
    "$ROOT/tests/test_keras_suite.py" -q -p no:cacheprovider --import-mode=importlib \
    --junitxml="$RESULTS/cp311-tensorflow.xml" -o junit_suite_name=cp311-tensorflow)
