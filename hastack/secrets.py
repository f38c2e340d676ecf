"""Secrets: generated once on the machine that runs pyinfra, kept, never printed.

They live in ``$HASTACK_SECRETS_DIR`` (default ``.secrets/`` in the repository,
git-ignored), one folder per cluster, one file per secret, mode 0600. To rotate
a secret, delete its file and deploy again.
"""

from __future__ import annotations

import fcntl
import os
import secrets as random
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from hastack.defaults import ROOT


def secrets_dir(cluster: str) -> Path:
    base = Path(os.environ.get("HASTACK_SECRETS_DIR", ROOT / ".secrets"))
    return base / cluster


def _path(cluster: str, name: str) -> Path:
    folder = secrets_dir(cluster)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    folder.chmod(0o700)
    return folder / name


@contextmanager
def made_alone(folder: Path) -> Iterator[None]:
    """One process at a time makes the secrets of ``folder`` (two test runs started together
    on a fresh checkout each found a file missing, and the second's O_EXCL create failed). The
    lock file sits beside the folder, whose files are all secrets."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(folder.with_name(f".{folder.name}.lock"), os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)


def password(cluster: str, name: str) -> str:
    """A random password (32 URL-safe characters), made on first use."""
    path = _path(cluster, name)
    with made_alone(path.parent):
        if not path.exists():
            _write(path, random.token_urlsafe(24).encode())
    return path.read_text().strip()


def key_file(cluster: str, name: str, size: int = 256) -> Path:
    """A file of random bytes (a key), made on first use; its path."""
    path = _path(cluster, name)
    with made_alone(path.parent):
        if not path.exists():
            _write(path, random.token_bytes(size))
    return path


def _write(path: Path, content: bytes) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(content)
