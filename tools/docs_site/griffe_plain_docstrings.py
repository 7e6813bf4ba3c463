"""Griffe extension for the API reference: fastinit's docstrings are plain text, shown as
written rather than read as Markdown.

They write `*kernel`, `fastinit.<scheme>(...)` and `x[region]` as text, which Markdown
would turn into emphasis, an HTML tag and a link.  Once the package is loaded, every
docstring gets those characters escaped, except inside `code spans` (kept as code) and
in indented example blocks (kept as code blocks, as Markdown shows them).
"""
import html
import re

import griffe

# characters Markdown gives a meaning to, inside a line of prose
_MARKDOWN_SPECIAL = re.compile(r"([\\*_\[\]])")


def plain_text_as_markdown(text):
    """text -> Markdown that renders as text: special characters escaped outside `code`
    spans and outside indented blocks."""
    lines = []
    for line in text.split("\n"):
        if line.startswith("    "):
            lines.append(line)
            continue
        parts = line.split("`")
        if len(parts) % 2 == 0:             # an unpaired backtick: no code span on this line
            parts = [line]
        for i in range(0, len(parts), 2):
            parts[i] = _MARKDOWN_SPECIAL.sub(r"\\\1", html.escape(parts[i], quote=False))
        lines.append("`".join(parts))
    return "\n".join(lines)


def _objects(obj):
    yield obj
    for member in obj.members.values():
        if not member.is_alias:
            yield from _objects(member)


class PlainTextDocstrings(griffe.Extension):
    def on_package(self, *, pkg, **kwargs):
        for obj in _objects(pkg):
            if obj.docstring is not None:
                obj.docstring.value = plain_text_as_markdown(obj.docstring.value)
