"""Facts about a host's network interfaces."""

from __future__ import annotations

import json

from pyinfra.api import FactBase


class Ipv4Interfaces(FactBase):
    """
    Interfaces with their MAC address and IPv4 addresses (CIDR notation).

    .. code:: python

        {"eth0": {"mac": "02:42:0a:e7:01:0b", "addresses": ["10.231.1.11/24"]}}
    """

    default = dict

    def requires_command(self) -> str:
        return "ip"

    def command(self) -> str:
        return "ip -j addr show"

    def process(self, output):
        interfaces = {}
        for link in json.loads("\n".join(output) or "[]"):
            interfaces[link["ifname"]] = {
                "mac": link.get("address", ""),
                "addresses": [
                    f"{info['local']}/{info['prefixlen']}"
                    for info in link.get("addr_info", [])
                    if info.get("family") == "inet"
                ],
            }
        return interfaces
