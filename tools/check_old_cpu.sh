#!/usr/bin/env bash
# Run an installed fastinit under QEMU user-mode emulation of older x86-64 CPUs and check
# that (1) runtime dispatch picks the ISA that CPU has (Nehalem: no AVX -> scalar;
# Haswell: AVX2 -> avx2; Haswell without F16C: avx2 with the scalar float16 conversion) and
# nothing executes an instruction the CPU lacks (a SIGILL), and
# (2) every value is bit-identical to the same draws computed natively on this machine.
#
# usage: tools/check_old_cpu.sh [PYTHON]
#   PYTHON  an interpreter with fastinit (and numpy) installed, e.g. /tmp/whl-venv/bin/python;
#           default: a new venv with the newest wheel in wheelhouse/ for python3's version
# env:    CPUS  "model:expected-isa ..." (default "Nehalem:scalar Haswell:avx2
#               Haswell,-f16c:avx2").  Nehalem is
#               the oldest model worth trying: numpy >= 2.4 itself needs x86-64-v2 (SSE4.2,
#               POPCNT), so under -cpu qemu64 numpy dies of SIGILL before fastinit loads.
#               QEMU's TCG has no AVX-512, so avx512 can't be emulated here.
# needs:  qemu-x86_64 (Debian: apt-get install qemu-user); installed here if missing and root.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CPUS=${CPUS:-"Nehalem:scalar Haswell:avx2 Haswell,-f16c:avx2"}
[ "$(uname -m)" = x86_64 ] || { echo "x86_64 only" >&2; exit 2; }
WORK=$(mktemp -d /tmp/fastinit-oldcpu.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

if ! command -v qemu-x86_64 > /dev/null; then
    [ "$(id -u)" = 0 ] || { echo "qemu-x86_64 missing: apt-get install qemu-user" >&2; exit 2; }
    apt-get update -qq && apt-get install -y -qq qemu-user > /dev/null
fi

if [ $# -ge 1 ]; then
    PY=$1
else
    tag=$(python3 -c 'import sys; print("cp%d%d" % sys.version_info[:2])')
    wheel=$(ls -t "$ROOT"/wheelhouse/fastinit_weights-*-"$tag"-"$tag"-*x86_64*.whl 2>/dev/null | head -1)
    [ -n "$wheel" ] || { echo "no $tag wheel in wheelhouse/: run tools/build_wheel.sh" >&2; exit 2; }
    python3 -m venv "$WORK/venv"
    "$WORK/venv/bin/python" -m pip install -q --disable-pip-version-check "$wheel"
    PY="$WORK/venv/bin/python"
    echo "wheel: $(basename "$wheel")"
fi

cat > "$WORK/draws.py" <<'EOF'
import sys, numpy as np, fastinit
def draws():
    out = {}
    for n in (1, 7, 33, 257, 1000, 4099, 257 * 33):
        out["raw/%d" % n] = fastinit.default_rng(n).random_raw(n)
        for dt in ("float32", "float64", "float16"):
            g = fastinit.default_rng(n)
            out["uniform/%s/%d" % (dt, n)] = g.uniform((n,), -2.0, 3.0, dtype=dt)
            out["normal/%s/%d" % (dt, n)] = g.normal((n,), 0.5, 2.0, dtype=dt)
            out["truncated_normal/%s/%d" % (dt, n)] = g.truncated_normal((n,), dtype=dt)
            out["he_normal/%s/%d" % (dt, n)] = fastinit.he_normal((n, 3), seed=n, dtype=dt)
    return out
mode, path = sys.argv[1], sys.argv[2]
fastinit.show_config()
if mode == "save":
    np.savez(path, **draws())
    sys.exit(0)
expected = sys.argv[3]
ref = np.load(path)
got = draws()
diff = [k for k in ref.files if ref[k].tobytes() != got[k].tobytes()]
isa = fastinit.get_isa()
print("ISA in use %s (expected %s); %d/%d draws bit-identical to the native run"
      % (isa, expected, len(ref.files) - len(diff), len(ref.files)))
if diff:
    print("  differing:", diff[:8])
sys.exit(0 if (isa == expected and not diff) else 1)
EOF

cd "$WORK"                                   # outside the source tree
echo "=== native"
"$PY" draws.py save native.npz
status=0
for spec in $CPUS; do
    cpu=${spec%%:*} want=${spec#*:}
    echo "=== qemu-x86_64 -cpu $cpu"
    t=$SECONDS
    if qemu-x86_64 -cpu "$cpu" "$PY" draws.py check native.npz "$want" 2> qemu.err; then
        echo "PASS ($((SECONDS - t)) s)"
    else
        status=1
        grep -v "TCG doesn't support requested feature" qemu.err || true
        echo "FAIL ($((SECONDS - t)) s)"
    fi
done
exit $status
