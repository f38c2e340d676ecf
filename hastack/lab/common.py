"""What every part of the lab shares: its folders, names, Debian mirror, errors and runner."""

from __future__ import annotations

import os
import subprocess

from hastack.defaults import ROOT

LAB_DIR = ROOT / ".lab"
RECIPE_DIR = ROOT / "lab"
SITE_FILE = LAB_DIR / "site.yaml"
KEY_FILE = LAB_DIR / "id_ed25519"
KNOWN_HOSTS = LAB_DIR / "known_hosts"
PREFIX = "hastack-lab"
LABEL = "hastack.lab"
MIRROR = os.environ.get("HASTACK_LAB_MIRROR", "http://deb.debian.org/debian")
SUITE = "bookworm"


class LabError(Exception):
    pass


def say(message: str) -> None:
    print(f"[lab] {message}", flush=True)


def run(cmd: list[str], check: bool = True, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(cmd, text=True, capture_output=True, **kwargs)
    if check and result.returncode != 0:
        raise LabError(f"{' '.join(cmd[:4])} ... failed: {result.stderr.strip() or result.stdout.strip()}")
    return result
