"""Facts about a host's network interfaces."""

from __future__ import annotations

import json

import yaml
from pyinfra.api import FactBase


class Ipv4Interfaces(FactBase):
    """
    Interfaces with their MAC address and IPv4 addresses (CIDR notation).

    .. code:: python

        {"eth0": {"mac": "02:42:0a:e7:01:0b", "addresses": ["10.231.1.11/24"], "kind": "veth"}}

    ``kind`` is the link's kind (bond, vlan, bridge, veth...), "" for a plain card.
    """

    default = dict

    def requires_command(self) -> str:
        return "ip"

    def command(self) -> str:
        return "ip -j -d addr show"

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
                "kind": link.get("linkinfo", {}).get("info_kind", ""),
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


# ifupdown's options that make other interfaces members of the one they configure.
IFUPDOWN_MEMBERS = ("bridge-ports", "bond-slaves", "vlan-raw-device")


def _ifupdown_base(name: str) -> str:
    """The interface an ifupdown name drives: eth0 for an alias (eth0:1) or a VLAN (eth0.100)."""
    return name.split(":", 1)[0].split(".", 1)[0]


class OtherNetworkManagers(FactBase):
    """The interfaces that another network manager than netplan's systemd-networkd drives, each
    with why: ifupdown's (where it is installed, as ifupdown itself reads its files, includes
    and all: the interfaces it brings up by itself, `auto` or `allow-hotplug`, with the files
    that name them; their bridge, bond or VLAN members, ``*`` for ``all``; and the ones up now),
    NetworkManager's
    (where it runs: every device it neither leaves unmanaged nor only watches, with its state).
    An alias (eth0:1) or a VLAN (eth0.100) counts for its interface.

    .. code:: python

        {"ifupdown": {"eth1": ["brought up at boot (/etc/network/interfaces.d/50-cloud-init)"]},
         "networkmanager": {"eth1": "connected"}}
    """

    default = dict

    def command(self) -> str:
        return (
            "if command -v ifquery >/dev/null 2>&1; then "
            "for i in $( { ifquery --list; ifquery --list --allow=hotplug; } 2>/dev/null | sort -u); do "
            '[ "$i" = lo ] && continue; echo "=== ifupdown $i"; ifquery "$i" 2>/dev/null; '
            'grep -rlwF -- "$i" /etc/network/interfaces /etc/network/interfaces.d 2>/dev/null '
            "| sed 's/^/file: /'; done; "
            'echo "=== ifstate"; ifquery --state 2>/dev/null; fi; '
            'if [ "$(systemctl is-active NetworkManager 2>/dev/null)" = active ] '
            "&& command -v nmcli >/dev/null 2>&1; then "
            'echo "=== networkmanager"; LC_ALL=C nmcli -t -f DEVICE,STATE device 2>/dev/null; fi; true'
        )

    def process(self, output):
        ifupdown: dict[str, list[str]] = {}
        networkmanager: dict[str, str] = {}

        def note(name: str, why: str) -> None:
            base = name if name == "*" else _ifupdown_base(name)
            if base and base != "lo" and why not in ifupdown.get(base, []):
                ifupdown.setdefault(base, []).append(why)

        section, current, members, files = None, "", [], []

        def close() -> None:
            where = f" ({', '.join(files)})" if files else ""
            if current:
                alias = f" as {current}" if _ifupdown_base(current) != current else ""
                note(current, f"brought up at boot{alias}{where}")
                for member in members:
                    note(member, f"a member of {current}{where}")

        for line in output:
            if line.startswith("=== "):
                if section == "ifupdown":
                    close()
                words = line[4:].split()
                section = words[0]
                current, members, files = (words[1] if len(words) > 1 else ""), [], []
                continue
            if section == "ifupdown":
                # ifupdown prints `name: value`; ifupdown2 prints the stanza (`  name value`)
                words = line.split()
                if not words:
                    continue
                key, value = words[0].rstrip(":").replace("_", "-"), words[1:]
                if key == "file":
                    files.append(" ".join(value))
                elif key in IFUPDOWN_MEMBERS:
                    # `all`: every interface (bridge_ports all); `none`: no member
                    members += ["*" if word == "all" else word for word in value if word != "none"]
            elif section == "ifstate":
                name = line.split("=", 1)[0].strip()
                if name:
                    note(name, "up now (ifquery --state)")
            elif section == "networkmanager":
                device, _, state = line.rpartition(":")
                # unmanaged, or only watched ("connected (externally)": another configured it)
                if device and state and not state.startswith("unmanaged") and "externally" not in state:
                    networkmanager[device.replace("\\:", ":")] = state
        if section == "ifupdown":
            close()
        return {"ifupdown": ifupdown, "networkmanager": networkmanager}
