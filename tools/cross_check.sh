#!/usr/bin/env bash
# The same bits on every libc, architecture and operating system (issue 13).
#
# Builds the C core with its C tests (tests/c/test_core.c: known answers, every ISA against
# the scalar reference, regions, threads) and tests/c/hash_fills.c (every fill of
# tests/data/stable_fills.txt on every ISA with 1 and 3 threads, against the pinned SHA-256)
# for each target below, runs them, and fails unless every run passes and every build
# reports the same table digest:
#   native     host cc (gcc), x86-64 glibc                         run
#   glibc      zig cc x86_64-linux-gnu.2.17 (the wheel's target)   run
#   musl       zig cc x86_64-linux-musl, static                    run
#   aarch64    zig cc aarch64-linux-musl, static: NEON kernels     run under qemu-aarch64
#   windows    zig cc x86_64-windows-gnu (Win32 threads)           run under wine (if present)
#   macos-x64  zig cc x86_64-macos                                 compile and link only
#   macos-arm  zig cc aarch64-macos                                compile and link only
#
# Self-contained: installs qemu-user and wine64 with apt-get (when missing and root) and
# ziglang into a venv of its own; idempotent (reuses $WORK).  A few minutes.
#   env: WORK (default /tmp/fastinit-cross), ZIGLANG (default ziglang==0.16.0),
#        FASTINIT_CROSS_WINE=0 skips wine, CC (native compiler, default cc)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=${WORK:-/tmp/fastinit-cross}
ZIGLANG=${ZIGLANG:-ziglang==0.16.0}
WANT_WINE=${FASTINIT_CROSS_WINE:-1}
mkdir -p "$WORK"
t0=$SECONDS
log() { printf '\n=== [%4ss] %s\n' "$((SECONDS - t0))" "$*"; }
die() { echo "cross_check: FAIL: $*" >&2; exit 1; }

# ------------------------------------------------------------------ tools
log "tools"
need_apt=()
command -v qemu-aarch64 >/dev/null || need_apt+=(qemu-user)
if [ "$WANT_WINE" = 1 ] && ! command -v wine >/dev/null; then need_apt+=(wine64); fi
if [ ${#need_apt[@]} -gt 0 ]; then
    [ "$(id -u)" = 0 ] || die "missing ${need_apt[*]} and not root to apt-get them"
    # wine is optional: a failed install only skips the Windows run
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q qemu-user >/dev/null 2>&1 ||
        { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q qemu-user >/dev/null; }
    if [ "$WANT_WINE" = 1 ] && ! command -v wine >/dev/null; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q wine64 >/dev/null 2>&1 ||
            echo "wine64 did not install: the Windows build is compiled but not run"
    fi
fi
command -v qemu-aarch64 >/dev/null || die "qemu-aarch64 not found"
if [ ! -x "$WORK/venv/bin/python" ]; then python3 -m venv "$WORK/venv"; fi
"$WORK/venv/bin/python" -m pip install -q --disable-pip-version-check "$ZIGLANG"
ZIG=$("$WORK/venv/bin/python" -c 'import ziglang, os; print(os.path.join(os.path.dirname(ziglang.__file__), "zig"))')
NATIVE_CC=${CC:-cc}
echo "zig $("$ZIG" version) ($("$ZIG" cc --version | head -1)); native: $("$NATIVE_CC" --version | head -1)"
echo "qemu: $(qemu-aarch64 --version | head -1)"
WINE=""
if [ "$WANT_WINE" = 1 ] && command -v wine >/dev/null; then
    WINE=$(command -v wine)
    echo "wine: $($WINE --version 2>/dev/null)"
fi

# ------------------------------------------------------------------ builds
. "$ROOT/tools/cbuild.sh"

# build NAME ARCH CC...: the two test programs in $WORK/build/NAME
build() {
    local name=$1 arch=$2 exe="" libs="-lm -lpthread"
    shift 2
    case "$name" in windows*) exe=.exe libs="" ;; macos*) libs="" ;; esac
    cbuild "$WORK/build/$name" "$arch" "$exe" "$libs" "$@"
}

log "build"
declare -A STATUS DIGEST
targets=(native glibc musl aarch64 windows macos-x64 macos-arm)
for t in "${targets[@]}"; do
    case "$t" in
        native)    args=(x86_64 "$NATIVE_CC") ;;
        glibc)     args=(x86_64 "$ZIG" cc -target x86_64-linux-gnu.2.17) ;;
        musl)      args=(x86_64 "$ZIG" cc -target x86_64-linux-musl -static) ;;
        aarch64)   args=(aarch64 "$ZIG" cc -target aarch64-linux-musl -static) ;;
        windows)   args=(x86_64 "$ZIG" cc -target x86_64-windows-gnu) ;;
        macos-x64) args=(x86_64 "$ZIG" cc -target x86_64-macos) ;;
        macos-arm) args=(aarch64 "$ZIG" cc -target aarch64-macos) ;;
    esac
    tb=$SECONDS
    if build "$t" "${args[@]}" > "$WORK/build-$t.log" 2>&1; then
        STATUS[$t]="built in $((SECONDS - tb)) s"
        if grep -q "warning:" "$WORK/build-$t.log"; then
            STATUS[$t]="${STATUS[$t]} (warnings: $WORK/build-$t.log)"
            grep "warning:" "$WORK/build-$t.log" | sort -u | head -5
        fi
    else
        cat "$WORK/build-$t.log"
        STATUS[$t]="BUILD FAILED"
    fi
    echo "  $t: ${STATUS[$t]}"
done

# ------------------------------------------------------------------ runs
# run NAME PREFIX...: test_core and hash_fills of build NAME, through PREFIX (qemu, wine)
run() {
    local t=$1 exe=""
    shift
    local dir="$WORK/build/$t"
    case "$t" in windows*) exe=.exe ;; esac
    local kat="$ROOT/tests/data/philox_kat_vectors.txt" table="$ROOT/tests/data/stable_fills.txt"
    if [ -n "$exe" ]; then kat=$(winepath -w "$kat" 2>/dev/null); table=$(winepath -w "$table" 2>/dev/null); fi
    if "$@" "$dir/test_core$exe" "$kat" > "$WORK/run-$t-core.log" 2>&1 &&
       "$@" "$dir/hash_fills$exe" "$table" > "$WORK/run-$t-hash.log" 2>&1; then
        DIGEST[$t]=$(sed -n 's/.*table digest \([0-9a-f]*\).*/\1/p' "$WORK/run-$t-hash.log" | tr -d '\r')
        STATUS[$t]="passed: $(grep -a "passed" "$WORK/run-$t-core.log" | tr -d '\r'); $(grep -a "fills" "$WORK/run-$t-hash.log" | sed 's/; table digest.*//' | tr -d '\r'); ISAs:$(grep -a '^ISAs:' "$WORK/run-$t-hash.log" | cut -d: -f2 | tr -d '\r')"
    else
        STATUS[$t]="RUN FAILED"
        tail -20 "$WORK/run-$t-core.log" "$WORK/run-$t-hash.log" 2>/dev/null || true
    fi
    echo "  $t: ${STATUS[$t]}"
}

log "run"
for t in native glibc musl; do [ "${STATUS[$t]}" = "BUILD FAILED" ] || run "$t"; done
[ "${STATUS[aarch64]}" = "BUILD FAILED" ] || run aarch64 qemu-aarch64
if [ "${STATUS[windows]}" != "BUILD FAILED" ]; then
    if [ -n "$WINE" ]; then
        export WINEPREFIX="$WORK/wineprefix" WINEDEBUG=-all
        run windows "$WINE"
    else
        STATUS[windows]="${STATUS[windows]}, not run (no wine)"
    fi
fi

# ------------------------------------------------------------------ summary
log "summary"
fail=0
ref=${DIGEST[native]:-}
for t in "${targets[@]}"; do
    mark=ok
    case "${STATUS[$t]}" in *FAILED*) mark=FAIL; fail=1 ;; esac
    if [ -n "${DIGEST[$t]:-}" ] && [ "${DIGEST[$t]}" != "$ref" ]; then mark=FAIL; fail=1; fi
    printf '%-10s %-4s %s%s\n' "$t" "$mark" "${STATUS[$t]}" "${DIGEST[$t]:+ | digest ${DIGEST[$t]:0:16}}"
done
[ -n "$ref" ] || { echo "no native digest"; fail=1; }
for t in glibc musl aarch64; do [ -n "${DIGEST[$t]:-}" ] || { echo "$t did not run"; fail=1; }; done
echo "took $((SECONDS - t0)) s"
if [ "$fail" = 0 ]; then
    echo "cross_check: every build that ran passed its C tests and hashed every pinned fill to the table"
else
    die "see above"
fi
