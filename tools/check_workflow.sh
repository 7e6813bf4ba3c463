#!/usr/bin/env bash
# Lint of the wheel workflow, without running it:
#   1. .github/workflows/*.yml parse as YAML and validate against GitHub's workflow schema
#      (check-jsonschema's vendored copy: no network needed);
#   2. for each runner of the wheels job, `cibuildwheel --print-build-identifiers`, run with
#      the version the workflow pins and [tool.cibuildwheel] of pyproject.toml, must select
#      exactly CPython 3.10-3.13 for that runner's platform and architecture.
#
# usage: tools/check_workflow.sh   (env: WORK, scratch dir; default a new mktemp -d, removed)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
if [ -z "${WORK:-}" ]; then
    WORK=$(mktemp -d /tmp/fastinit-workflow.XXXXXX)
    trap 'rm -rf "$WORK"' EXIT
fi
workflow="$ROOT/.github/workflows/wheels.yml"
cibw=$(grep -oE 'pypa/cibuildwheel@v[0-9.]+' "$workflow" | head -1 | sed 's/.*@v//')
[ -n "$cibw" ] || { echo "no pypa/cibuildwheel@vX.Y.Z in $workflow" >&2; exit 1; }

python3 -m venv "$WORK/lint-venv"
"$WORK/lint-venv/bin/python" -m pip install -q --disable-pip-version-check check-jsonschema "cibuildwheel==$cibw"
bin="$WORK/lint-venv/bin"

echo "== workflow 1. schema ($("$bin/check-jsonschema" --version))"
"$bin/check-jsonschema" --builtin-schema vendor.github-workflows "$ROOT"/.github/workflows/*.yml

echo "== workflow 2. build selection of cibuildwheel $cibw per runner"
versions="cp310 cp311 cp312 cp313"
expect() { local v; for v in $versions; do for p in "$@"; do echo "$v-$p"; done; done | sort; }
bad=0
# runner (as in the workflow's matrix) : platform : architecture its "native" means : wheels
while IFS=: read -r runner platform arch wheels; do
    grep -qE "os: $runner( |$)" "$workflow" || { echo "  $runner: not in the workflow's matrix"; bad=1; continue; }
    # shellcheck disable=SC2086
    want=$(expect $wheels)
    got=$(cd "$ROOT" && "$bin/cibuildwheel" --platform "$platform" --archs "$arch" \
              --print-build-identifiers | sort)
    if [ "$got" = "$want" ]; then
        echo "  $runner: $(echo $got)"
    else
        echo "  $runner: selects $(echo $got), expected $(echo $want)"; bad=1
    fi
done <<'EOF'
ubuntu-24.04:linux:x86_64:manylinux_x86_64 musllinux_x86_64
ubuntu-24.04-arm:linux:aarch64:manylinux_aarch64
macos-15-intel:macos:x86_64:macosx_x86_64
macos-14:macos:arm64:macosx_arm64
windows-2022:windows:AMD64:win_amd64
EOF
[ "$bad" = 0 ] || exit 1
echo "workflow: schema valid, CPython 3.10-3.13 on every runner"
