"""Generated blocks of the README: text between `<!-- NAME -->` and `<!-- /NAME -->` is rewritten by the report
that owns it, so the front page quotes the committed results instead of copies of them."""

import re
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def write_block(name, text, path=README):
    """Replace block `name` of `path` with `text`; False (nothing written) when the file or its markers are absent."""
    path = Path(path)
    if not path.is_file():
        return False
    content = path.read_text()
    pattern = re.compile(rf"<!-- {re.escape(name)} -->\n(?:.*?\n)?<!-- /{re.escape(name)} -->", re.S)
    if not pattern.search(content):
        return False
    block = f"<!-- {name} -->\n{text.strip()}\n<!-- /{name} -->"
    updated = pattern.sub(lambda match: block, content, count=1)
    if updated != content:
        path.write_text(updated)
    return True
