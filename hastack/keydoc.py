"""docs/data-keys.md, made from hastack/data_keys.py: each key's default and the comment above it.

    python -m hastack.keydoc            # print the reference
    python -m hastack.keydoc --write    # write docs/data-keys.md

tests/unit/test_keydoc.py fails when docs/data-keys.md differs from what this makes, so the
description of a key lives in one place: the comment above it in data_keys.py.
"""

from __future__ import annotations

import ast
import json
import re
import sys

from hastack.defaults import ROOT

SOURCE = ROOT / "hastack" / "data_keys.py"
TARGET = ROOT / "docs" / "data-keys.md"
SECTION = re.compile(r"^# --- (.+?) -+$")

HEADER = """# Data keys

Generated from `hastack/data_keys.py` by `python -m hastack.keydoc --write`: edit the comments
there, not this file (a test fails when it is stale).

Every key has a default. Override it for the whole site under `data:` in the site file, or for
one host under `hosts.<name>.data:`, or in `group_data/all.py` or `group_data/<role>.py`
(docs/real-servers.md). The site model gives each host every key's effective value (its own,
else the site's, else its role's group data, else `all.py`'s, else the default) through the
inventory, so the deploys and `hastack verify` read the same values. Each value is checked
before any host is touched (`hastack/rules.py`, `hastack/cross_rules.py`).
"""


def shown(value) -> str:
    """A default as a site file writes it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value if value else '""'
    return json.dumps(value)


def kind(value) -> str:
    return {bool: "bool", int: "int", str: "str", list: "list", dict: "dict"}.get(
        type(value), type(value).__name__
    )


def entries(source: str) -> list[tuple[str, str, list[str]]]:
    """(section, key, description lines) for each key, in the file's order."""
    lines = source.splitlines()
    found = []
    for node in ast.parse(source).body:
        if not isinstance(node, ast.Assign):
            continue
        name = node.targets[0].id
        comment = []
        number = node.lineno - 2
        while number >= 0 and lines[number].startswith("#") and not SECTION.match(lines[number]):
            comment.insert(0, lines[number][2:] if lines[number].startswith("# ") else "")
            number -= 1
        section = next(
            (m.group(1) for line in reversed(lines[: node.lineno]) if (m := SECTION.match(line))), ""
        )
        found.append((section, name, comment))
    return found


def render(source: str | None = None) -> str:
    source = SOURCE.read_text() if source is None else source
    namespace: dict = {}
    exec(compile(source, str(SOURCE), "exec"), namespace)
    out = [HEADER]
    section = None
    for where, name, comment in entries(source):
        if where != section:
            section = where
            out.append(f"## {where}\n")
        value = namespace[name]
        body = "\n".join(comment).strip()
        out.append(f"### `{name}`\n\n{kind(value)}, default: `{shown(value)}`.\n\n{body}\n")
    return "\n".join(out)


def main(argv: list[str]) -> int:
    text = render()
    if "--write" in argv:
        TARGET.write_text(text)
        print(f"wrote {TARGET.relative_to(ROOT)}")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
