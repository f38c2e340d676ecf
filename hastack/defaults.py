"""Data key defaults (hastack/data_keys.py, the one place they are written) and the
folder hastack runs from."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hastack import data_keys

# The checkout (deploys, templates, the lab recipe); from an installed wheel, the
# package's parent, which only ``hastack verify`` and ``hastack check`` need.
ROOT = Path(__file__).resolve().parent.parent

DEFAULTS: dict[str, Any] = {key: value for key, value in vars(data_keys).items() if not key.startswith("_")}
