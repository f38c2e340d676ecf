"""Quorum device facts: the certificates in corosync-qnetd's or corosync-qdevice's NSS database."""

from __future__ import annotations

import shlex

from pyinfra.api import FactBase


class NssCertificates(FactBase):
    """
    The SHA-256 of each named certificate (its DER) in an NSS database, with its trust flags;
    a name the database lacks (or a database that does not exist) is left out.

    .. code:: python

        {"QNet CA": {"sha256": "9f86...", "trust": "CT,,"}, "QNetd Cert": {"sha256": "...", "trust": "u,u,u"}}
    """

    def requires_command(self, database: str, nicknames: list[str]) -> str:
        return "certutil"

    def default(self):
        return {}

    def command(self, database: str, nicknames: list[str]) -> str:
        db = shlex.quote(f"sql:{database}")
        names = " ".join(shlex.quote(name) for name in nicknames)
        return (
            f"[ -d {shlex.quote(database)} ] || exit 0; "
            f"for name in {names}; do "
            f'der=$(certutil -L -d {db} -n "$name" -r 2>/dev/null | sha256sum | cut -d" " -f1) && '
            f'certutil -L -d {db} -n "$name" >/dev/null 2>&1 && '
            f'trust=$(certutil -L -d {db} | sed -n "s/^$name  *\\([^ ]*\\) *$/\\1/p") && '
            'echo "$name|$der|$trust"; done'
        )

    def process(self, output):
        found = {}
        for line in output:
            name, digest, trust = line.rsplit("|", 2)
            found[name] = {"sha256": digest, "trust": trust}
        return found


class QdeviceTimeout(FactBase):
    """The timeout (ms) the running corosync-qdevice uses (``HB interval`` of
    ``corosync-qdevice-tool -s -v``: quorum.device.timeout, read when it starts); None where it
    does not run."""

    def command(self) -> str:
        return (
            "corosync-qdevice-tool -s -v 2>/dev/null | "
            "sed -n 's/^HB interval:[[:space:]]*\\([0-9]*\\)ms$/\\1/p' | head -1 || true"
        )

    def process(self, output):
        return int(output[0]) if output and output[0].strip().isdigit() else None
