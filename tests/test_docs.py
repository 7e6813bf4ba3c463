"""Every fenced Python block of README.md and docs/*.md runs as written, and the output a
block shows is the output it gives.

Sybil (pinned in tests/requirements-extras.txt) finds the blocks: its Markdown lexer knows
fences, their language and their line numbers, and a Python block that starts with `>>>`
becomes doctest examples whose shown output is compared (ELLIPSIS and NORMALIZE_WHITESPACE).
It was chosen over pytest-markdown-docs because that plugin runs fences but compares no
shown output, and collects only the Markdown files pytest itself visits: the suite runs
from outside the tree against an installed wheel, and README.md is not under tests/.
Sybil's `parse` takes any path, so the documents are found from this file's checkout.

Only ```python fences run: ```bash, ```sh and unlabelled fences are commands or formulas.
Each block runs in a fresh interpreter, as a reader who pastes it into `python` would: a
subprocess of this Python, in an empty temporary directory, without the caller's
XLA_FLAGS or KERAS_BACKEND, so a block that leans on a name or a setting from elsewhere
fails.  A block that imports an optional framework is skipped with pytest's "could not
import" where that framework is missing, which tests/conftest.py turns into a failure under
FASTINIT_REQUIRE_EXTRAS=1 (the test command).

`python test_docs.py --run FILE LINE` runs the block whose fence opens on LINE of FILE,
as the tests do.
"""
import ast
import doctest
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("sybil")

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
OPTION_FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
# settings a block must make itself (before its imports) if it needs them
CLEARED_ENVIRONMENT = ("XLA_FLAGS", "KERAS_BACKEND")

# What an imported module needs installed, by the first part(s) of its dotted name.
# Keras needs a backend: the documents' Keras blocks choose jax.
FRAMEWORKS = {
    "torch": ("torch",), "fastinit.torch": ("torch",),
    "jax": ("jax",), "fastinit.jax": ("jax",), "flax": ("flax", "jax"),
    "keras": ("keras", "jax"), "fastinit.keras": ("keras", "jax"),
    "dask": ("dask",), "fastinit.dask": ("dask",), "zarr": ("zarr",),
    "ml_dtypes": ("ml_dtypes",), "matplotlib": ("matplotlib",), "sklearn": ("sklearn",),
}


def _sybil():
    from sybil import Sybil
    from sybil.parsers.markdown import PythonCodeBlockParser
    return Sybil(parsers=[PythonCodeBlockParser(doctest_optionflags=OPTION_FLAGS)])


def python_fences(path):
    """[(first line, source)] of the ```python fences of a Markdown file, by Sybil's lexer."""
    from sybil import Document
    from sybil.parsers.markdown.lexers import FencedCodeBlockLexer

    document = Document(path.read_text(encoding="utf-8"), str(path))
    lexer = FencedCodeBlockLexer(language="python")
    return [(document.text.count("\n", 0, region.start) + 1, str(region.lexemes["source"]))
            for region in lexer(document)]


def run_fence(path, line):
    """Evaluates the examples of the fence opening on `line`, in order, in one namespace;
    raises what a failing example raises (Sybil's SybilFailure for a wrong shown output)."""
    fences = dict((first, source) for first, source in python_fences(path))
    if line not in fences:
        raise SystemExit(f"{path}:{line}: no ```python fence opens there")
    end = line + fences[line].count("\n") + 1
    document = _sybil().parse(path)
    examples = [e for e in document if line <= e.line <= end]
    if not examples:
        raise SystemExit(f"{path}:{line}: Sybil found no example in the fence")
    for example in examples:
        example.evaluate()


def _imported_modules(source):
    if source.lstrip().startswith(">>>"):
        source = "\n".join(e.source for e in doctest.DocTestParser().get_examples(source))
    modules = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            modules.add(node.module)
    return modules


def frameworks_needed(source):
    """The optional distributions (import names) a block's imports need, sorted."""
    needed = set()
    for module in _imported_modules(source):
        parts = module.split(".")
        for prefix in (".".join(parts[:2]), parts[0]):
            if prefix in FRAMEWORKS:
                needed.update(FRAMEWORKS[prefix])
                break
    return sorted(needed)


BLOCKS = [(path, line, source) for path in DOCUMENTS for line, source in python_fences(path)]


def _block_id(block):
    return f"{block[0].relative_to(ROOT)}:{block[1]}"


def run_in_fresh_interpreter(path, line, cwd, timeout=900):
    env = {k: v for k, v in os.environ.items() if k not in CLEARED_ENVIRONMENT}
    return subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--run", str(path), str(line)],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize("block", BLOCKS, ids=_block_id)
def test_block_runs_as_written(block, tmp_path):
    path, line, source = block
    for framework in frameworks_needed(source):
        # found, not imported: keras would fix its backend in this process
        if importlib.util.find_spec(framework) is None:
            pytest.skip(f"could not import {framework!r}: not installed")
    run = run_in_fresh_interpreter(path, line, tmp_path)
    assert run.returncode == 0, (f"{_block_id(block)} failed in a fresh interpreter:\n"
                                 f"{run.stdout[-4000:]}{run.stderr[-6000:]}")


def test_documents_and_their_python_blocks_are_found():
    assert all(p.is_file() for p in DOCUMENTS), DOCUMENTS
    counted = {p.name: sum(1 for b in BLOCKS if b[0] == p) for p in DOCUMENTS}
    # README has blocks for the NumPy API, each framework, half dtypes and dask
    assert counted["README.md"] >= 8, counted
    assert counted["torch.md"] >= 1, counted


def test_only_python_fences_are_collected():
    text = "\n".join(["```bash", "exit 1", "```", "```", "undefined_name", "```",
                      "```python", "x = 1", "```", "```sh", "false", "```"])
    sources = [source for _, source in _fences_of_text(text)]
    assert sources == ["x = 1\n"]


def _fences_of_text(text):
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "doc.md"
        path.write_text(text, encoding="utf-8")
        return python_fences(path)


@pytest.mark.parametrize("body, passes", [
    (["```python", ">>> 1 + 1", "2", "```"], True),
    (["```python", ">>> 1 + 1", "3", "```"], False),             # a wrong shown output
    (["```python", "x = 1", "```", "", "```python", "print(x)", "```"], False),   # a name from another block
    (["```python", "import fastinit", "fastinit.no_such_function()", "```"], False),
])
def test_the_runner_fails_a_wrong_block(body, passes, tmp_path):
    path = tmp_path / "doc.md"
    path.write_text("\n".join(["# a document", ""] + body) + "\n", encoding="utf-8")
    last_fence = python_fences(path)[-1][0]
    run = run_in_fresh_interpreter(path, last_fence, tmp_path, timeout=120)
    assert (run.returncode == 0) == passes, run.stdout + run.stderr


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] != "--run":
        raise SystemExit(f"usage: python {sys.argv[0]} --run FILE.md LINE")
    run_fence(Path(sys.argv[2]), int(sys.argv[3]))
