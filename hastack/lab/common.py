"""What every part of the lab shares: its folders, names, Debian mirror, errors and runner."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from hastack.defaults import ROOT

LAB_DIR = ROOT / ".lab"
RECIPE_DIR = ROOT / "lab"
SITE_FILE = LAB_DIR / "site.yaml"
KEY_FILE = LAB_DIR / "id_ed25519"
KNOWN_HOSTS = LAB_DIR / "known_hosts"
PREFIX = "hastack-lab"
LABEL = "hastack.lab"
MIRROR = os.environ.get("HASTACK_LAB_MIRROR", "http://deb.debian.org/debian")
# The Debian releases the lab runs, by number; `hastack lab up --debian N`.
RELEASES = {12: "bookworm", 13: "trixie"}
DEFAULT_RELEASE = 13
# The label on every lab container that says which release it runs.
RELEASE_LABEL = "hastack.lab.debian"


def suite(release: int) -> str:
    """Debian's code name for a lab release."""
    try:
        return RELEASES[release]
    except KeyError:
        known = ", ".join(str(number) for number in RELEASES)
        raise LabError(f"the lab runs Debian {known}, not {release!r}") from None


def wanted_release() -> int:
    """The release a new lab gets: HASTACK_LAB_DEBIAN (the tests' choice), else the default."""
    value = os.environ.get("HASTACK_LAB_DEBIAN", "").strip()
    if not value:
        return DEFAULT_RELEASE
    if not value.isdigit() or int(value) not in RELEASES:
        raise LabError(f"HASTACK_LAB_DEBIAN={value!r}: expected one of {', '.join(map(str, RELEASES))}")
    return int(value)


class LabError(Exception):
    pass


def say(message: str) -> None:
    print(f"[lab] {message}", flush=True)


def run(cmd: list[str], check: bool = True, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(cmd, text=True, capture_output=True, **kwargs)
    if check and result.returncode != 0:
        raise LabError(f"{' '.join(cmd[:4])} ... failed: {result.stderr.strip() or result.stdout.strip()}")
    return result


def running_command(pid: str | int) -> list[bytes] | None:
    """The command line of a running process (its arguments), or None where none runs."""
    try:
        return Path(f"/proc/{int(pid)}/cmdline").read_bytes().split(b"\0")
    except (OSError, ValueError):
        return None
