"""docs/data-keys.md is made from hastack/data_keys.py (hastack/keydoc.py) and kept current."""

import pytest

from hastack import keydoc
from hastack.defaults import DEFAULTS


def test_the_reference_is_current():
    assert keydoc.TARGET.read_text() == keydoc.render(), (
        "docs/data-keys.md is stale: run `.venv/bin/python -m hastack.keydoc --write`"
    )


@pytest.mark.parametrize("key", sorted(DEFAULTS))
def test_every_key_has_a_description(key):
    described = {
        name: "\n".join(lines).strip() for _, name, lines in keydoc.entries(keydoc.SOURCE.read_text())
    }
    assert described.get(key), f"{key}: write what it does in the comment above it in hastack/data_keys.py"


def test_a_key_is_shown_with_its_type_default_and_comment():
    source = "# --- web: web hosts ---\n# The port.\n#\n# Second paragraph.\nweb_port = 80\nflag = False\n"
    text = keydoc.render(source)
    assert (
        "## web: web hosts\n\n### `web_port`\n\nint, default: `80`.\n\nThe port.\n\nSecond paragraph.\n"
        in text
    )
    assert "### `flag`\n\nbool, default: `false`.\n\n\n" in text
