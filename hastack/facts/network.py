"""Facts about a host's network interfaces."""

from __future__ import annotations

import json

import yaml
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


class NetplanProvides(FactBase):
    """What the netplan files in /etc/netplan give the host besides addresses: an IPv4 default
    route (a gateway, a route to default or 0.0.0.0/0, or DHCPv4, which brings one), DNS
    servers (static, or by DHCP); and whether systemd-resolved serves the host's names (running,
    and /etc/resolv.conf its file): only then do netplan's DNS servers matter. A file that cannot
    be read, or that hands its devices to NetworkManager, counts as giving both: nothing is
    assumed away.

    .. code:: python

        {"files": {"/etc/netplan/50-cloud-init.yaml": {"route": True, "dns": True}},
         "resolved": True}
    """

    default = dict

    def command(self) -> str:
        return (
            'for f in /etc/netplan/*.yaml; do [ -e "$f" ] && { echo "=== $f"; cat "$f"; echo; }; done; '
            'echo "=== resolved $(systemctl is-active systemd-resolved 2>/dev/null || true) '
            '$(readlink -f /etc/resolv.conf)"'
        )

    def process(self, output):
        files: dict[str, list[str]] = {}
        resolved, current = False, None
        for line in output:
            if line.startswith("=== resolved "):
                words = line.split()
                resolved = words[2:3] == ["active"] and words[-1].startswith("/run/systemd/resolve/")
                current = None
            elif line.startswith("=== /"):
                current = line[4:].strip()
                files[current] = []
            elif current is not None:
                files[current].append(line)
        return {
            "files": {path: netplan_provides("\n".join(lines)) for path, lines in files.items()},
            "resolved": resolved,
        }


DEFAULT_DESTINATIONS = ("default", "0.0.0.0/0")
YES = (True, "yes", "true", "on")


def netplan_provides(text: str) -> dict[str, bool]:
    """{"route": ..., "dns": ...} of one netplan file's text (see NetplanProvides)."""
    try:
        network = (yaml.safe_load(text) or {}).get("network") or {}
        devices = [
            device
            for kind in ("ethernets", "bonds", "vlans", "bridges", "wifis")
            for device in (network.get(kind) or {}).values()
        ]
        if network.get("renderer") == "NetworkManager" or any(
            device.get("renderer") == "NetworkManager" for device in devices
        ):
            return {"route": True, "dns": True}
        dhcp4 = any(device.get("dhcp4") in YES for device in devices)
        dhcp6 = any(device.get("dhcp6") in YES for device in devices)
        route = dhcp4 or any(
            device.get("gateway4")
            or any(str(entry.get("to")) in DEFAULT_DESTINATIONS for entry in device.get("routes") or [])
            for device in devices
        )
        dns = dhcp4 or dhcp6 or any((device.get("nameservers") or {}).get("addresses") for device in devices)
    except Exception:  # noqa: BLE001 - any shape netplan may not have meant: assume the most
        return {"route": True, "dns": True}
    return {"route": bool(route), "dns": bool(dns)}


# ifupdown's own files (the `source` line of Debian's /etc/network/interfaces reads the folder).
IFUPDOWN_FILES = ("/etc/network/interfaces", "/etc/network/interfaces.d/*")
# ifupdown's stanzas that name an interface it brings up or configures.
IFUPDOWN_STANZAS = ("iface", "auto", "allow-hotplug", "allow-auto")


class OtherNetworkManagers(FactBase):
    """The interfaces that another network manager than netplan's systemd-networkd would drive:
    ifupdown's (where it is installed: the interfaces its files name, but ``lo``, each with the
    file and the line), NetworkManager's (where it runs: every device it neither leaves
    unmanaged nor only watches, with its state).

    .. code:: python

        {"ifupdown": {"eth1": ["/etc/network/interfaces.d/50-cloud-init: iface eth1 inet dhcp"]},
         "networkmanager": {"eth1": "connected"}}
    """

    default = dict

    def command(self) -> str:
        files = " ".join(IFUPDOWN_FILES)
        return (
            "if command -v ifup >/dev/null 2>&1; then "
            f'for f in {files}; do [ -f "$f" ] && {{ echo "=== $f"; cat "$f"; echo; }}; done; fi; '
            'if [ "$(systemctl is-active NetworkManager 2>/dev/null)" = active ] '
            "&& command -v nmcli >/dev/null 2>&1; then "
            'echo "=== networkmanager"; nmcli -t -f DEVICE,STATE device 2>/dev/null; fi; true'
        )

    def process(self, output):
        ifupdown: dict[str, list[str]] = {}
        networkmanager: dict[str, str] = {}
        current = None
        for line in output:
            if line.startswith("=== "):
                current = line[4:].strip()
                continue
            if current == "networkmanager":
                device, _, state = line.rpartition(":")
                # unmanaged, or only watched ("connected (externally)": another configured it)
                if device and state and not state.startswith("unmanaged") and "externally" not in state:
                    networkmanager[device.replace("\\:", ":")] = state
            elif current is not None:
                words = line.split("#", 1)[0].split()
                if words and words[0] in IFUPDOWN_STANZAS:
                    names = words[1:2] if words[0] == "iface" else words[1:]
                    for name in names:
                        if name != "lo":
                            ifupdown.setdefault(name, []).append(f"{current}: {' '.join(words)}")
        return {"ifupdown": ifupdown, "networkmanager": networkmanager}
