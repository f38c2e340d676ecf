"""Data key defaults, read from group_data/all.py: the one place they are written.

pyinfra reads the same file as group data for the inventory; hastack reads it
here to validate site files and to give deploys their ``data_defaults``.
"""

from __future__ import annotations

import runpy
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
GROUP_DATA = ROOT / "group_data" / "all.py"


def _load() -> dict[str, Any]:
    names = runpy.run_path(str(GROUP_DATA))
    return {key: value for key, value in names.items() if not key.startswith("_")}


DEFAULTS: dict[str, Any] = _load()


def component_defaults(prefix: str) -> dict[str, Any]:
    """The defaults of one component, by key prefix (``netplan_`` ...)."""
    return {key: value for key, value in DEFAULTS.items() if key.startswith(prefix)}
