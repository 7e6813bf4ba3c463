#!/usr/bin/env bash
# Does every compiler we claim build correct code?  For each compiler found (Debian gcc-N
# and clang-N, and zig cc of several ziglang releases, i.e. clang 16-22), builds the C core
# with tests/c/test_core.c and tests/c/hash_fills.c for x86-64 and runs them: the C tests
# (known answers, every ISA against scalar, regions, threads; the start-up check must keep
# every ISA on) and every pinned fill of tests/data/stable_fills.txt against its SHA-256.
# With zig, also aarch64 (NEON) under qemu-aarch64.  Too slow for every CI run (~1 minute
# per compiler); docs/compiler-bugs.md records a run.
#   env: WORK (default /tmp/fastinit-compilers), ZIG_VERSIONS, COMPILERS (to pick a subset:
#        names as printed, e.g. "gcc-12 clang-22 zig-0.17.1")
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=${WORK:-/tmp/fastinit-compilers}
ZIG_VERSIONS=${ZIG_VERSIONS:-"0.11.0 0.12.1 0.13.0 0.14.1 0.15.2 0.16.0 0.17.1"}
mkdir -p "$WORK"
. "$ROOT/tools/cbuild.sh"
KAT="$ROOT/tests/data/philox_kat_vectors.txt"
TABLE="$ROOT/tests/data/stable_fills.txt"

declare -a names cmds
for v in 11 12 13 14 15; do command -v gcc-$v >/dev/null && { names+=("gcc-$v"); cmds+=("gcc-$v"); }; done
for v in 13 14 15 16 17 18 19 20 21 22; do command -v clang-$v >/dev/null && { names+=("clang-$v"); cmds+=("clang-$v"); }; done
[ -x "$WORK/venv/bin/python" ] || python3 -m venv "$WORK/venv"
for v in $ZIG_VERSIONS; do
    d="$WORK/zig-$v"
    [ -x "$d/ziglang/zig" ] || "$WORK/venv/bin/pip" install -q --disable-pip-version-check --target "$d" "ziglang==$v" >/dev/null 2>&1
    if [ -x "$d/ziglang/zig" ]; then
        names+=("zig-$v"); cmds+=("$d/ziglang/zig cc -target x86_64-linux-gnu.2.17")
        names+=("zig-$v-aarch64"); cmds+=("$d/ziglang/zig cc -target aarch64-linux-musl -static")
    fi
done

fail=0
printf '%-18s %-22s %-6s %s\n' compiler version result details
for i in "${!names[@]}"; do
    name=${names[$i]} cmd=${cmds[$i]}
    if [ -n "${COMPILERS:-}" ] && ! [[ " $COMPILERS " == *" ${name%-aarch64} "* || " $COMPILERS " == *" $name "* ]]; then continue; fi
    arch=x86_64 runner=()
    case "$name" in *-aarch64) arch=aarch64 runner=(qemu-aarch64) ;; esac
    version=$($cmd --version 2>/dev/null | head -1 | grep -oE '[0-9]+\.[0-9]+\.[0-9]+' | head -1)
    out="$WORK/build/$name" log="$WORK/$name.log"
    libs="-lm -lpthread"
    if ! cbuild "$out" "$arch" "" "$libs" $cmd > "$log" 2>&1; then
        result=BUILD details="see $log: $(grep -m1 -i error "$log")"
        fail=1
    elif "${runner[@]}" "$out/test_core" "$KAT" >> "$log" 2>&1 && "${runner[@]}" "$out/hash_fills" "$TABLE" >> "$log" 2>&1; then
        result=ok details="$(grep -m1 'passed' "$log"); $(grep -m1 '^ISAs' "$log"); $(grep -m1 'fills,' "$log" | sed 's/ (ISA x threads)//; s/; 0 rows.*digest/; digest/' | cut -c1-80)"
    else
        result=FAIL details="$(grep -m1 'passed' "$log"); $(grep -m1 -E 'MISMATCH|FAIL' "$log" | cut -c1-100)"
        fail=1
    fi
    printf '%-18s %-22s %-6s %s\n' "$name" "$version" "$result" "$details"
done
exit $fail
