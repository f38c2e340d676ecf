"""The site file's structural checks: its keys, networks, SSH settings, hosts, disks and NICs,
and each data value on its own (type, ``hastack.rules``). Every problem is collected, none raised.

The rules that relate several keys or hosts are in hastack/cross_rules.py.
"""

from __future__ import annotations

import difflib
import ipaddress
import re
from typing import Any

from hastack import rules
from hastack.defaults import DEFAULTS
from hastack.site.model import (
    BOND_MODES,
    HOST_KEYS,
    HOSTNAME_RE,
    IFNAME_RE,
    MAC_RE,
    NETWORKS,
    ROLE_NETWORKS,
    ROLES,
    SSH_KEYS,
    GroupFile,
    Host,
    Problem,
    SshSettings,
)


def closest(word: str, choices: tuple[str, ...] | list[str]) -> str | None:
    matches = difflib.get_close_matches(str(word), list(choices), n=1, cutoff=0.5)
    return matches[0] if matches else None


class Checker:
    """Walks the parsed YAML and collects problems."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, path: str, message: str, fix: str, host: str | None = None) -> None:
        self.problems.append(Problem(path, message, fix, host))

    def unknown_keys(self, mapping: dict, known: tuple[str, ...], prefix: str, host=None):
        for key in mapping:
            if key in known:
                continue
            guess = closest(key, known)
            fix = f"did you mean {guess!r}?" if guess else f"use one of {', '.join(known)}"
            self.add(f"{prefix}{key}", "unknown key", fix, host)

    def mapping(self, value: Any, path: str, host=None) -> dict | None:
        if isinstance(value, dict):
            return value
        self.add(path, f"expected a mapping, got {type(value).__name__}", "write key: value pairs", host)
        return None

    def address(self, value: Any, path: str, host=None) -> ipaddress.IPv4Address | None:
        try:
            return ipaddress.IPv4Address(str(value).strip())
        except ValueError:
            self.add(path, f"{value!r} is not an IPv4 address", "write it as 192.0.2.10", host)
            return None

    def network(self, value: Any, path: str) -> ipaddress.IPv4Network | None:
        try:
            return ipaddress.IPv4Network(str(value).strip(), strict=True)
        except ValueError as error:
            fix = "write it as 192.0.2.0/24"
            if "host bits set" in str(error):
                net = ipaddress.IPv4Network(str(value).strip(), strict=False)
                fix = f"write the network address: {net}"
            self.add(path, f"{value!r} is not an IPv4 network ({error})", fix)
            return None

    def data(self, value: Any, path: str, host=None, sep: str = ".") -> dict[str, Any]:
        """The good entries of a data mapping; each bad one is a problem at ``<path><sep><key>``."""
        mapping = self.mapping(value, path, host)
        if mapping is None:
            return {}
        good = {}
        for key, item in mapping.items():
            if key not in DEFAULTS:
                guess = closest(key, list(DEFAULTS))
                fix = f"did you mean {guess!r}?" if guess else "see the data keys in docs/data-keys.md"
                self.add(f"{path}{sep}{key}", "unknown data key", fix, host)
                continue
            default = DEFAULTS[key]
            if default is not None and not same_type(item, default):
                self.add(
                    f"{path}{sep}{key}",
                    f"expected {type(default).__name__}, got {type(item).__name__} {item!r}",
                    f"give a {type(default).__name__} like the default {default!r}",
                    host,
                )
                continue
            problem = rules.check_value(key, item)
            if problem:
                self.add(f"{path}{sep}{key}", *problem, host)
                continue
            good[key] = item
        return good


def same_type(value: Any, default: Any) -> bool:
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(value, bool) and isinstance(default, bool)
    if isinstance(default, float):
        return isinstance(value, (int, float))
    return isinstance(value, type(default))


def check_networks(check: Checker, value: Any) -> dict[str, ipaddress.IPv4Network]:
    if value is None:
        return {}
    mapping = check.mapping(value, "networks")
    if mapping is None:
        return {}
    check.unknown_keys(mapping, NETWORKS, "networks.")
    networks = {}
    for name in NETWORKS:
        if name not in mapping:
            check.add(
                f"networks.{name}",
                "required key is missing",
                f"add 'networks.{name}: 192.0.2.0/24'",
            )
            continue
        net = check.network(mapping[name], f"networks.{name}")
        if net is not None:
            networks[name] = net
    if len(networks) == 2 and networks["back"].overlaps(networks["front"]):
        check.add("networks", "back and front overlap", "give the two networks distinct ranges")
    return networks


def check_ssh(check: Checker, value: Any) -> SshSettings:
    mapping = check.mapping(value, "ssh")
    if mapping is None:
        return SshSettings()
    check.unknown_keys(mapping, SSH_KEYS, "ssh.")
    port = mapping.get("port", 22)
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        check.add("ssh.port", f"{port!r} is not a TCP port", "give a number from 1 to 65535")
        port = 22
    for key in ("user", "key", "known_hosts"):
        if key in mapping and not isinstance(mapping[key], str):
            check.add(f"ssh.{key}", f"expected a string, got {mapping[key]!r}", "quote the value")
    return SshSettings(
        user=str(mapping.get("user", "root")),
        key=mapping.get("key") if isinstance(mapping.get("key"), str) else None,
        port=port,
        known_hosts=mapping.get("known_hosts") if isinstance(mapping.get("known_hosts"), str) else None,
    )


def check_hosts(check: Checker, value: Any, networks: dict) -> dict[str, Host]:
    if value is None:
        return {}
    mapping = check.mapping(value, "hosts")
    if mapping is None:
        return {}
    hosts = {}
    for name, spec in mapping.items():
        host = check_host(check, str(name), spec, networks)
        if host is not None:
            hosts[host.name] = host
    return hosts


def check_host(check: Checker, name: str, spec: Any, networks: dict) -> Host | None:
    path = f"hosts.{name}"
    if not HOSTNAME_RE.match(name):
        check.add(
            path,
            f"{name!r} is not a valid host name",
            "use lower-case letters, digits and '-', at most 63, not starting or ending with '-'",
            name,
        )
    spec = check.mapping(spec, path, name)
    if spec is None:
        return None
    check.unknown_keys(spec, HOST_KEYS, f"{path}.", name)

    role = spec.get("role")
    if role is None:
        check.add(f"{path}.role", "required key is missing", f"add 'role:' ({', '.join(ROLES)})", name)
    elif role not in ROLES:
        guess = closest(str(role), ROLES)
        fix = f"did you mean {guess!r}?" if guess else f"use one of {', '.join(ROLES)}"
        check.add(f"{path}.role", f"unknown role {role!r}", fix, name)
        role = None

    addresses = {}
    for net_name in NETWORKS:
        if net_name not in spec:
            if role and net_name in ROLE_NETWORKS[role]:
                check.add(
                    f"{path}.{net_name}",
                    f"a {role} host needs an address on the {net_name} network",
                    f"add '{net_name}: <address in networks.{net_name}>'",
                    name,
                )
            continue
        addr = check.address(spec[net_name], f"{path}.{net_name}", name)
        if addr is None:
            continue
        net = networks.get(net_name)
        if net is not None and addr not in net:
            check.add(
                f"{path}.{net_name}",
                f"{addr} is outside networks.{net_name} ({net})",
                f"give an address inside {net}",
                name,
            )
        elif net is not None and addr in (net.network_address, net.broadcast_address):
            check.add(
                f"{path}.{net_name}",
                f"{addr} is the network or broadcast address of {net}",
                "give a host address",
                name,
            )
        addresses[net_name] = addr

    disks = check_disks(check, spec, role, path, name)
    nics = check_nics(check, spec.get("nics", {}), path, name)
    dhcp = spec.get("dhcp", [])
    if not isinstance(dhcp, list) or not all(is_nic(item) for item in dhcp):
        check.add(
            f"{path}.dhcp",
            f"expected a list of interface names or MAC addresses, got {dhcp!r}",
            "write it as [enp0s3]",
            name,
        )
        dhcp = []
    ssh_host = spec.get("ssh_host")
    if ssh_host is not None and not isinstance(ssh_host, str):
        check.add(
            f"{path}.ssh_host",
            f"expected a host name or address, got {ssh_host!r}",
            "quote the value",
            name,
        )
        ssh_host = None
    bonds, vlans = check_links(check, spec, nics, dhcp, path, name)
    data = check.data(spec.get("data", {}), f"{path}.data", name)
    if role is None:
        return None
    return Host(name, role, addresses, disks, ssh_host, nics, tuple(dhcp), data, bonds, vlans)


def check_disks(check: Checker, spec: dict, role: str | None, path: str, name: str) -> tuple:
    disks = spec.get("disks")
    if disks is None:
        if role == "web":
            check.add(
                f"{path}.disks",
                "a web host needs two disks for its RAID-1",
                "add 'disks: [/dev/sdb, /dev/sdc]'",
                name,
            )
        return ()
    if role != "web":
        check.add(
            f"{path}.disks",
            f"only web hosts take disks, this is a {role} host",
            "remove 'disks'",
            name,
        )
        return ()
    if not isinstance(disks, list) or not all(isinstance(d, str) for d in disks):
        check.add(
            f"{path}.disks",
            f"expected a list of two device paths, got {disks!r}",
            "write it as [/dev/sdb, /dev/sdc]",
            name,
        )
        return ()
    if len(disks) != 2 or len(set(disks)) != 2:
        check.add(
            f"{path}.disks",
            f"expected exactly two distinct disks, got {disks}",
            "list two different whole disks, e.g. [/dev/sdb, /dev/sdc]",
            name,
        )
    for disk in disks:
        if not disk.startswith("/dev/"):
            check.add(
                f"{path}.disks",
                f"{disk!r} is not a device path",
                "give a path under /dev, e.g. /dev/sdb or /dev/disk/by-id/...",
                name,
            )
    return tuple(disks)


def is_nic(value: Any) -> bool:
    return isinstance(value, str) and bool(MAC_RE.match(value.lower()) or IFNAME_RE.match(value))


def check_nics(check: Checker, value: Any, path: str, name: str) -> dict[str, str]:
    mapping = check.mapping(value, f"{path}.nics", name)
    if mapping is None:
        return {}
    check.unknown_keys(mapping, NETWORKS, f"{path}.nics.", name)
    nics = {}
    for net_name, nic in mapping.items():
        if net_name not in NETWORKS:
            continue
        if not is_nic(nic):
            check.add(
                f"{path}.nics.{net_name}",
                f"{nic!r} is neither an interface name nor a MAC",
                "give a name like enp0s8 or a MAC like 52:54:00:12:34:56",
                name,
            )
            continue
        nics[net_name] = nic.lower() if MAC_RE.match(nic.lower()) else nic
    return nics


def _nic_key(nic: str) -> str:
    return nic.lower() if MAC_RE.match(nic.lower()) else nic


# hastack's own netplan ids: a bond or VLAN may not take one (netplan's ids are one namespace).
RESERVED_LINK_RE = re.compile(r"^(dhcp\d+|.+-member\d+|.+-link|\.|\.\.)$")


def link_name(value: Any) -> bool:
    """A name a bond or VLAN can take: an interface name, not a network's, a MAC or hastack's ids."""
    return (
        isinstance(value, str)
        and bool(IFNAME_RE.match(value))
        and value not in NETWORKS
        and not MAC_RE.match(value.lower())
        and not RESERVED_LINK_RE.match(value)
    )


def _link_entries(check: Checker, spec: dict, kind: str, keys: tuple, path: str, name: str):
    """(name, settings, key path) of each mapping under the host's ``kind`` (bonds, vlans)."""
    for link, item in (check.mapping(spec.get(kind, {}), f"{path}.{kind}", name) or {}).items():
        where = f"{path}.{kind}.{link}"
        item = check.mapping(item, where, name)
        if item is not None:
            check.unknown_keys(item, keys, f"{where}.", name)
            yield link, item, where


def check_links(
    check: Checker, spec: dict, nics: dict[str, str], dhcp: list, path: str, name: str
) -> tuple[dict[str, dict], dict[str, dict]]:
    """A host's bonds and VLANs (``bonds``, ``vlans``): each is named by a network's ``nics`` or
    is a VLAN's link; a bond has two or more interfaces that nothing else takes."""
    bonds: dict[str, dict] = {}
    for bond, item, where in _link_entries(check, spec, "bonds", ("interfaces", "mode"), path, name):
        members = item.get("interfaces")
        mode = item.get("mode", "active-backup")
        if not link_name(bond):
            check.add(
                where,
                f"{bond!r} is not an interface name for a bond (nor one of hastack's own ids)",
                "name it like bond0",
                name,
            )
        elif not isinstance(members, list) or len(members) < 2 or not all(is_nic(m) for m in members):
            check.add(
                f"{where}.interfaces",
                f"a bond needs two or more interfaces, got {members!r}",
                "list its members by name, like [enp1s0, enp2s0]",
                name,
            )
        elif any(MAC_RE.match(m.lower()) for m in members):
            # A member takes the bond's MAC when it joins: netplan before 0.107 (Debian 12's)
            # matches the current MAC, and would lose the member at the next boot.
            check.add(
                f"{where}.interfaces",
                f"{members} gives a member by MAC, which changes to the bond's when it joins",
                "list its members by interface name, like [enp1s0, enp2s0]",
                name,
            )
        elif len({_nic_key(m) for m in members}) != len(members):
            check.add(f"{where}.interfaces", f"{members} names an interface twice", "list each once", name)
        elif mode not in BOND_MODES:
            check.add(
                f"{where}.mode", f"unknown bond mode {mode!r}", f"use one of {', '.join(BOND_MODES)}", name
            )
        else:
            bonds[bond] = {"interfaces": [_nic_key(m) for m in members], "mode": mode}
    vlans: dict[str, dict] = {}
    vlan_names = set(spec["vlans"]) if isinstance(spec.get("vlans"), dict) else set()
    tags: dict[tuple, str] = {}
    for vlan, item, where in _link_entries(check, spec, "vlans", ("id", "link"), path, name):
        vid, link = item.get("id"), item.get("link")
        if not link_name(vlan) or vlan in bonds:
            check.add(
                where,
                f"{vlan!r} is not an interface name for a VLAN (nor a bond's, nor one of hastack's own ids)",
                "name it like vlan20",
                name,
            )
        elif isinstance(vid, bool) or not isinstance(vid, int) or not 1 <= vid <= 4094:
            check.add(
                f"{where}.id",
                f"expected a VLAN id from 1 to 4094, got {vid!r}",
                "give its tag, like 20",
                name,
            )
        elif not isinstance(link, str) or not IFNAME_RE.match(link) or link in vlan_names:
            # By name: a VLAN has its card's MAC, and netplan before 0.107 (Debian 12's) would match
            # the VLAN with the card.
            check.add(
                f"{where}.link",
                f"expected the interface the VLAN rides on (a bond or a card, by name), got {link!r}",
                f"give it, like link: {next(iter(bonds), 'enp1s0')}",
                name,
            )
        elif (link, vid) in tags:
            check.add(
                f"{where}.id",
                f"{link} carries VLAN {vid} already ({tags[link, vid]})",
                "give each its own id",
                name,
            )
        else:
            tags[link, vid] = vlan
            vlans[vlan] = {"id": vid, "link": link}
    taken: dict[str, str] = {}
    for bond, item in bonds.items():
        for member in item["interfaces"]:
            if member in taken or member in bonds or member in vlans:
                check.add(
                    f"{path}.bonds.{bond}.interfaces",
                    f"{member} is already {taken.get(member, 'a bond or VLAN of the host')}",
                    "give each interface one place",
                    name,
                )
            taken[member] = f"a member of {bond}"
    for net_name, nic in nics.items():
        if nic in taken:
            check.add(
                f"{path}.nics.{net_name}",
                f"{nic} is {taken[nic]}: its address goes on the bond",
                f"name the bond: nics.{net_name}: {taken[nic].rsplit(' ', 1)[1]}",
                name,
            )
    for item in dhcp:
        if _nic_key(item) in taken:
            check.add(f"{path}.dhcp", f"{item} is {taken[_nic_key(item)]}", "take it out of dhcp", name)
    for vlan, item in vlans.items():
        if item["link"] in taken:
            check.add(
                f"{path}.vlans.{vlan}.link",
                f"{item['link']} is {taken[item['link']]}",
                f"give the bond as the link: {taken[item['link']].rsplit(' ', 1)[1]}",
                name,
            )
    used = set(nics.values()) | {item["link"] for item in vlans.values()}
    for kind, defined in (("bonds", bonds), ("vlans", vlans)):
        for unused in sorted(set(defined) - used):
            check.add(
                f"{path}.{kind}.{unused}",
                f"{unused} carries no network and no VLAN",
                f"name it under nics (nics.back: {unused}), or remove it",
                name,
            )
    return bonds, vlans


def check_group_files(check: Checker, group_files: tuple[GroupFile, ...]) -> tuple[GroupFile, ...]:
    """Each group data file's values, checked like the site's ``data:``; only good values are kept.

    pyinfra's own names (``ssh_*`` for the connection, ``_*`` such as ``_sudo`` for its operation
    arguments) are refused: pyinfra would apply them, past the site file's ``ssh:`` section,
    which hastack's checks, verify, drills and bench all connect by."""
    checked = []
    for group_file in group_files:
        values = {}
        for key, value in group_file.values.items():
            if key.startswith(("ssh_", "_")):
                check.add(
                    f"{group_file.path}: {key}",
                    "pyinfra's connection and sudo settings are hastack's to give",
                    "set the connection in the site file's 'ssh:' section (user, key, port, known_hosts); "
                    "with a user other than root, hastack runs everything through sudo",
                )
            elif key.startswith("site_"):
                check.add(
                    f"{group_file.path}: {key}",
                    "hastack writes the site_* keys from the site file",
                    "describe it in the site file (cluster, networks, vip, hosts)",
                )
            else:
                values[key] = value
        good = check.data(values, group_file.path, sep=": ")
        checked.append(GroupFile(group_file.group, group_file.path, good))
    return tuple(checked)
