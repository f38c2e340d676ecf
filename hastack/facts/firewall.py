"""Facts about hastack's host firewall (its nftables table ``inet hastack``)."""

from __future__ import annotations

from pyinfra.api import FactBase

BOOT_FILE = "/etc/hastack/firewall.nft"
STATE = "/var/lib/hastack/firewall"


class HastackFirewall(FactBase):
    """What of hastack's firewall is on the host: the SHA-256 of the file loaded at boot, and
    whether the live table is still the one that file made when it was confirmed (its
    listing's hash then, kept by the switch); a table changed or removed by hand reads False.

    .. code:: python

        {"boot_file": "9f86d08...", "table_as_confirmed": True}
    """

    default = dict

    def command(self) -> str:
        return (
            f"if [ -e {BOOT_FILE} ]; then sha256sum {BOOT_FILE} | cut -d' ' -f1; else echo none; fi; "
            "if command -v nft >/dev/null && nft list table inet hastack >/dev/null 2>&1; then "
            f"  [ \"$(nft list table inet hastack | sha256sum | cut -d' ' -f1)\" = "
            f'"$(cat {STATE}/listed.sha256 2>/dev/null)" ] && echo same || echo changed; '
            "else echo absent; fi"
        )

    def process(self, output):
        boot, table = (list(output) + ["none", "absent"])[:2]
        return {
            "boot_file": None if boot.strip() == "none" else boot.strip(),
            "table": table.strip() != "absent",
            "table_as_confirmed": table.strip() == "same",
        }
