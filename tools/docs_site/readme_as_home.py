"""MkDocs hook: README.md becomes the site's home page (index.md), its links into docs/
made relative to the site (docs/stream.md -> stream.md), so the README stays the one
source and every link in it is checked by mkdocs build --strict."""
import re
from pathlib import Path

from mkdocs.structure.files import File

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_for_site(text):
    """The README's Markdown with links and images into docs/ pointing inside the site."""
    return re.sub(r"\]\(docs/", "](", text)


def on_files(files, config):
    files.append(File.generated(config, "index.md",
                                content=readme_for_site(README.read_text(encoding="utf-8"))))
    return files
