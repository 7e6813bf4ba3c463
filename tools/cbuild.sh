# Shared by tools/cross_check.sh and tools/compiler_matrix.sh (sourced, not run): builds the
# C core without CMake, for any compiler and target, with the sources and per-file flags of
# CMakeLists.txt's fastinit_core, plus the two C test programs of tests/c.
#
#   cbuild OUTDIR ARCH(x86_64|aarch64) EXE_SUFFIX LIBS CC [CC ARGS...]
#     -> OUTDIR/test_core$EXE_SUFFIX, OUTDIR/hash_fills$EXE_SUFFIX
# Needs ROOT (the checkout).  EXTRA_CFLAGS is added to every compile.
# The portable sources and the ISA files' flags are read from CMakeLists.txt, so the two
# cannot drift apart.
cmake_list() {   # the GCC/Clang COMPILE_OPTIONS of kernel file $1, or the core sources
    if [ "$1" = sources ]; then
        sed -n '/^set(FASTINIT_CORE_SOURCES/,/)/p' "$ROOT/CMakeLists.txt" | tr -d '()' |
            tr ' ' '\n' | grep '^csrc/.*\.c$' | tr '\n' ' '
    else
        grep "$1 PROPERTIES COMPILE_OPTIONS \"-" "$ROOT/CMakeLists.txt" |
            sed 's/.*COMPILE_OPTIONS "\([^"]*\)".*/\1/' | tr ';' ' '
    fi
}
CBUILD_CORE=$(cmake_list sources)
AVX2_FLAGS=$(cmake_list kernels_avx2.c)
AVX512_FLAGS=$(cmake_list kernels_avx512.c)
[ -n "$CBUILD_CORE" ] && [ -n "$AVX2_FLAGS" ] && [ -n "$AVX512_FLAGS" ] ||
    { echo "cbuild.sh: cannot read the sources and flags from CMakeLists.txt" >&2; exit 1; }

cbuild() {
    local out=$1 arch=$2 exe=$3 libs=$4
    shift 4
    local cflags="-O2 -std=gnu11 -ffp-contract=off -fno-fast-math -Wall -Wextra -Wno-unused-function -D_USE_MATH_DEFINES -I$ROOT/csrc -I$ROOT/tests/c ${EXTRA_CFLAGS:-}"
    local objs=() defs src o
    rm -rf "$out" && mkdir -p "$out"
    if [ "$arch" = x86_64 ]; then
        defs=-DFI_HAVE_X86_KERNELS
        "$@" $cflags $defs $AVX2_FLAGS -c "$ROOT/csrc/kernels/kernels_avx2.c" -o "$out/kernels_avx2.o" || return 1
        # -mevex512 where the compiler knows it, as CMakeLists.txt's check_c_compiler_flag
        local evex=""
        # from a file in $out: compiling stdin, some drivers leave a stray "-.o" / "-.obj" in
        # the working directory whatever -o says
        echo 'int x;' > "$out/evex_probe.c"
        if "$@" -mevex512 -Werror -c "$out/evex_probe.c" -o "$out/evex_probe.o" >/dev/null 2>&1; then
            evex=-mevex512
        fi
        "$@" $cflags $defs $AVX512_FLAGS $evex -c "$ROOT/csrc/kernels/kernels_avx512.c" \
            -o "$out/kernels_avx512.o" || return 1
        objs+=("$out/kernels_avx2.o" "$out/kernels_avx512.o")
    else
        defs=-DFI_HAVE_NEON_KERNELS
        "$@" $cflags $defs -c "$ROOT/csrc/kernels/kernels_neon.c" -o "$out/kernels_neon.o" || return 1
        objs+=("$out/kernels_neon.o")
    fi
    for src in $CBUILD_CORE; do
        o="$out/$(basename "$src" .c).o"
        "$@" $cflags $defs -c "$ROOT/$src" -o "$o" || return 1
        objs+=("$o")
    done
    "$@" $cflags $defs -c "$ROOT/tests/c/sha256.c" -o "$out/sha256.o" || return 1
    "$@" $cflags $defs "$ROOT/tests/c/test_core.c" "${objs[@]}" $libs -o "$out/test_core$exe" || return 1
    "$@" $cflags $defs "$ROOT/tests/c/hash_fills.c" "${objs[@]}" "$out/sha256.o" $libs \
        -o "$out/hash_fills$exe" || return 1
}
