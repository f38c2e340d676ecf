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


class NetplanFiles(FactBase):
    """The netplan files in /etc/netplan (the ones netplan reads there), by SHA-256.

    .. code:: python

        {"/etc/netplan/50-cloud-init.yaml": "9f86d08..."}
    """

    default = dict

    def command(self) -> str:
        return 'for f in /etc/netplan/*.yaml; do if [ -e "$f" ]; then sha256sum "$f"; fi; done'

    def process(self, output):
        pairs = (line.split(None, 1) for line in output if line.strip())
        return {path.strip(): digest for digest, path in pairs}


class ArpAnswer(FactBase):
    """The MAC address that answers ARP for an IPv4 address on this host's networks, or None.

    A TCP connection attempt (bash's /dev/tcp: no tool needed) makes the kernel ask ARP for
    the address; whatever answers lands in the neighbour table, even a host that drops the
    connection itself or ICMP.
    """

    def command(self, address: str) -> str:
        return (
            f"timeout 2 bash -c 'echo > /dev/tcp/{address}/9' 2>/dev/null; "
            f"ip neigh show to {address} | awk '/lladdr/ {{print $5}}'; true"
        )

    def process(self, output):
        macs = [line.strip() for line in output if line.strip()]
        return macs[0] if macs else None
