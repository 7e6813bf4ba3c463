#!/usr/bin/env bash
# The documentation site (mkdocs.yml): docs/*.md, README.md as the home page and an API
# reference made from the docstrings of fastinit, fastinit.torch, fastinit.keras,
# fastinit.jax and fastinit.dask, built with `mkdocs build --strict`: any warning fails,
# among them a link to a missing page, file or anchor.
#   1. a fresh venv with the pinned MkDocs stack below, fastinit (FASTINIT_WHEEL, else
#      built from this checkout) and what the reference imports: the names fastinit,
#      fastinit.dask, fastinit.keras and fastinit.jax make at run time are read from the
#      imported modules (tools/docs_site/griffe_runtime_members.py), so dask, keras and jax
#      are installed; fastinit.torch is read from its source alone (no torch);
#   2. the build, into $SITE_DIR (default $WORK/site), never into the checkout;
#   3. the reference is checked to hold a function of each module.
#
# usage: tools/build_docs.sh
# env:   WORK            scratch dir (default: a new mktemp -d, removed on success)
#        SITE_DIR        where the site goes (default: $WORK/site)
#        FASTINIT_WHEEL  the wheel to document (tools/test.sh passes the one it tested)
#        PYTHON          the interpreter of the venv (default python3; the wheel's CPython)
set -euo pipefail
# shellcheck source=tools/lib.sh
. "$(dirname "$0")/lib.sh"
work_dir docs
PYTHON=${PYTHON:-python3}
SITE_DIR=${SITE_DIR:-$WORK/site}

# Pinned: a new release of any of these can add warnings, which --strict turns into errors.
DOCS_TOOLS=(mkdocs==1.6.1 mkdocs-material==9.8.1 pymdown-extensions==13.1.2
            mkdocstrings==1.0.8 mkdocstrings-python==2.0.11 mkdocs-autorefs==1.4.5
            griffelib==2.4.1)
# imported by the reference (see 1. above)
RUNTIME=("dask[array]>=2023.1" "keras>=3.0" "jax>=0.7")

echo "== docs 1. venv: ${DOCS_TOOLS[*]}"
"$PYTHON" -m venv "$WORK/docs-venv"
"$WORK/docs-venv/bin/python" "${PIP[@]}" "${DOCS_TOOLS[@]}" "${RUNTIME[@]}" \
    "${FASTINIT_WHEEL:-$ROOT}"

echo "== docs 2. mkdocs build --strict -> $SITE_DIR"
# the reference imports fastinit.keras: Keras needs its backend chosen before
(cd "$ROOT" && KERAS_BACKEND=jax NO_MKDOCS_2_WARNING=1 \
    "$WORK/docs-venv/bin/mkdocs" build --strict --site-dir "$SITE_DIR")

echo "== docs 3. the API reference holds every module's functions"
for page_id in api/fastinit:fastinit.he_normal api/torch:fastinit.torch.init_module \
               api/keras:fastinit.keras.GlorotUniform api/jax:fastinit.jax.glorot_uniform \
               api/dask:fastinit.dask.he_normal; do
    page=${page_id%%:*} id=${page_id#*:}
    grep -q "id=\"$id\"" "$SITE_DIR/$page/index.html" \
        || { echo "docs: $id is missing from $page/index.html" >&2; exit 1; }
done
echo "docs: built in $SITE_DIR"
