"""The site file: load, validate and describe the cluster a person wants.

Validation collects every problem before it reports, so that one run of
``hastack check`` shows all that is wrong, each problem naming the key path,
the host and the fix.
"""

from __future__ import annotations

import copy
import difflib
import ipaddress
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from hastack import rules, topology
from hastack.defaults import DEFAULTS

ROLES = topology.ROLES
NETWORKS = ("back", "front")
# Which networks a host of each role must have an address on.
ROLE_NETWORKS = {"proxy": ("back", "front"), "web": ("back",), "client": ("front",)}
TOP_KEYS = ("cluster", "networks", "vip", "ssh", "hosts", "data", "lab")
SSH_KEYS = ("user", "key", "port", "known_hosts")
HOST_KEYS = ("role", "back", "front", "disks", "ssh_host", "nics", "dhcp", "data")
REQUIRED_TOP_KEYS = ("cluster", "networks", "vip", "hosts")

CLUSTER_RE = re.compile(r"^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$")
HOSTNAME_RE = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
MAC_RE = re.compile(r"^([0-9a-f]{2}:){5}[0-9a-f]{2}$")
IFNAME_RE = re.compile(r"^[A-Za-z0-9_.-]{1,15}$")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a site file."""

    path: str
    message: str
    fix: str
    host: str | None = None

    def __str__(self) -> str:
        where = f" [host {self.host}]" if self.host else ""
        return f"{self.path}{where}: {self.message}. Fix: {self.fix}."


class SiteError(Exception):
    """The site file is not usable; ``problems`` lists every reason."""

    def __init__(self, source: str, problems: list[Problem]):
        self.source = source
        self.problems = problems
        super().__init__(self.report())

    def report(self) -> str:
        lines = [f"{self.source}: {len(self.problems)} problem(s), nothing was touched:"]
        lines += [f"  - {problem}" for problem in self.problems]
        return "\n".join(lines)


@dataclass(frozen=True)
class SshSettings:
    user: str = "root"
    key: str | None = None
    port: int = 22
    known_hosts: str | None = None


@dataclass(frozen=True)
class Host:
    name: str
    role: str
    addresses: dict[str, ipaddress.IPv4Address]
    disks: tuple[str, ...] = ()
    ssh_host: str | None = None
    nics: dict[str, str] = field(default_factory=dict)
    dhcp: tuple[str, ...] = ()
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def connect_address(self) -> str:
        """Where SSH goes: ``ssh_host`` if given, else the back address, else the front."""
        return self.ssh_host or self.primary_address

    @property
    def primary_address(self) -> str:
        """Where its peers and agents reach it: the back address, else the front."""
        return topology.primary_address(self.addresses)


@dataclass(frozen=True)
class Site:
    source: str
    cluster: str
    networks: dict[str, ipaddress.IPv4Network]
    vip: ipaddress.IPv4Address
    ssh: SshSettings
    hosts: dict[str, Host]
    data: dict[str, Any] = field(default_factory=dict)
    # The hosts are the lab's containers (``hastack lab up`` writes it): drills kill containers.
    lab: bool = False
    # The lab's Debian release (``lab: {debian: N}``), None outside the lab.
    lab_debian: int | None = None
    # What is usable but should be seen to (a certificate near its expiry).
    warnings: tuple[str, ...] = ()

    def hosts_in(self, role: str) -> list[Host]:
        return [self.hosts[other["name"]] for other in topology.in_role(self.topology_hosts(), role)]

    def topology_hosts(self) -> list[dict]:
        """Every host as deploys see it (``site_hosts``): name, role, addresses."""
        return [
            {
                "name": other.name,
                "role": other.role,
                "addresses": {network: str(address) for network, address in other.addresses.items()},
            }
            for other in self.hosts.values()
        ]

    def setting(self, key: str, host: Host | None = None) -> Any:
        """The value a data key has for a host (or the whole site): its own, the site's, the default."""
        for data in ([host.data] if host else []) + [self.data]:
            if key in data:
                return data[key]
        return DEFAULTS[key]

    def proxy_setting(self, key: str) -> Any:
        """A key the proxies share (the validator makes them agree): the VIP's listeners."""
        proxies = self.hosts_in("proxy")
        return self.setting(key, proxies[0] if proxies else None)

    def url(self, path: str = "/", scheme: str = "https") -> str:
        """The shop's URL through the VIP: HTTPS on ``https_port``, or plain HTTP on 80."""
        port = self.proxy_setting("https_port") if scheme == "https" else 80
        suffix = "" if port == {"https": 443, "http": 80}[scheme] else f":{port}"
        return f"{scheme}://{self.vip}{suffix}{path}"

    def probe_ca(self) -> str | None:
        """The CA file hastack's own probes verify the VIP with (None: the system's CAs)."""
        from hastack import tls

        return tls.client_ca_file(self.cluster, self.proxy_setting("tls_certificate"))

    def host_data(self, host: Host) -> dict[str, Any]:
        """Everything pyinfra needs for one host: connection, site facts, data overrides."""
        data: dict[str, Any] = {
            "ssh_hostname": host.connect_address,
            "ssh_user": self.ssh.user,
            "ssh_port": self.ssh.port,
            "site_cluster": self.cluster,
            "site_role": host.role,
            "site_networks": {name: str(net) for name, net in self.networks.items()},
            "site_vip": str(self.vip),
            "site_addresses": {name: str(addr) for name, addr in host.addresses.items()},
            "site_disks": list(host.disks),
            "site_nics": dict(host.nics),
            "site_dhcp": list(host.dhcp),
            "site_hosts": self.topology_hosts(),
        }
        if self.ssh.user != "root":
            # Every operation and fact through sudo (the user needs NOPASSWD rights: docs/real-servers.md).
            data["_sudo"] = True
        if self.ssh.key:
            data["ssh_key"] = str(Path(self.ssh.key).expanduser())
        if self.ssh.known_hosts:
            data["ssh_known_hosts_file"] = str(Path(self.ssh.known_hosts).expanduser())
            data["ssh_strict_host_key_checking"] = "accept-new"
        # Every data key's effective value, as ``setting`` gives it: deploys and checks agree.
        data.update({key: copy.deepcopy(self.setting(key, host)) for key in DEFAULTS})
        return data

    def document(self, data: dict[str, Any] | None = None) -> dict[str, Any]:
        """The site as a site file holds it (``dump_site`` writes it), with ``data`` merged
        into the site's data: derived sites are made from the model, never spliced as text."""
        ssh: dict[str, Any] = {"user": self.ssh.user, "port": self.ssh.port}
        ssh.update({key: value for key in ("key", "known_hosts") if (value := getattr(self.ssh, key))})
        hosts = {}
        for host in self.hosts.values():
            spec: dict[str, Any] = {"role": host.role}
            spec.update({network: str(address) for network, address in host.addresses.items()})
            optional = {
                "disks": list(host.disks),
                "ssh_host": host.ssh_host,
                "nics": dict(host.nics),
                "dhcp": list(host.dhcp),
                "data": dict(host.data),
            }
            spec.update({key: value for key, value in optional.items() if value})
            hosts[host.name] = spec
        return {
            **({"lab": {"debian": self.lab_debian} if self.lab_debian else True} if self.lab else {}),
            "cluster": self.cluster,
            "networks": {name: str(network) for name, network in self.networks.items()},
            "vip": str(self.vip),
            "ssh": ssh,
            "data": {**self.data, **(data or {})},
            "hosts": hosts,
        }

    def summary(self) -> str:
        nets = ", ".join(f"{name} {net}" for name, net in self.networks.items())
        lines = [
            f"{self.source}: cluster {self.cluster!r}, {len(self.hosts)} hosts",
            f"  networks: {nets}; VIP {self.vip}",
        ]
        for role in ROLES:
            for host in self.hosts_in(role):
                addrs = "  ".join(f"{n} {a}" for n, a in host.addresses.items())
                extra = f"  disks {' '.join(host.disks)}" if host.disks else ""
                lines.append(f"  {role:<6} {host.name:<10} {addrs}{extra}")
        return "\n".join(lines)


def dump_site(document: dict[str, Any], header: str = "") -> str:
    """A site file's text from a document (``Site.document``), validated before it is given."""
    comment = "".join(f"# {line}".rstrip() + "\n" for line in header.splitlines())
    text = comment + yaml.safe_dump(document, sort_keys=False, default_flow_style=False, width=110)
    parse_site(text, "<dumped site>")
    return text


class _Loader(yaml.SafeLoader):
    """A YAML loader that records duplicate mapping keys instead of dropping them."""

    duplicates: list[tuple[str, int]]


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> dict:
    seen: set = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            loader.duplicates.append((str(key), key_node.start_mark.line + 1))
        seen.add(key)
    return loader.construct_mapping(node)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _closest(word: str, choices: tuple[str, ...] | list[str]) -> str | None:
    matches = difflib.get_close_matches(str(word), list(choices), n=1, cutoff=0.5)
    return matches[0] if matches else None


class _Checker:
    """Walks the parsed YAML and collects problems."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, path: str, message: str, fix: str, host: str | None = None) -> None:
        self.problems.append(Problem(path, message, fix, host))

    def unknown_keys(self, mapping: dict, known: tuple[str, ...], prefix: str, host=None):
        for key in mapping:
            if key in known:
                continue
            guess = _closest(key, known)
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

    def data(self, value: Any, path: str, host=None) -> dict[str, Any]:
        mapping = self.mapping(value, path, host)
        if mapping is None:
            return {}
        good = {}
        for key, item in mapping.items():
            if key not in DEFAULTS:
                guess = _closest(key, list(DEFAULTS))
                fix = f"did you mean {guess!r}?" if guess else "see the data keys in docs/data-keys.md"
                self.add(f"{path}.{key}", "unknown data key", fix, host)
                continue
            default = DEFAULTS[key]
            if default is not None and not _same_type(item, default):
                self.add(
                    f"{path}.{key}",
                    f"expected {type(default).__name__}, got {type(item).__name__} {item!r}",
                    f"give a {type(default).__name__} like the default {default!r}",
                    host,
                )
                continue
            problem = rules.check_value(key, item)
            if problem:
                self.add(f"{path}.{key}", *problem, host)
                continue
            good[key] = item
        return good


def _same_type(value: Any, default: Any) -> bool:
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(value, bool) and isinstance(default, bool)
    if isinstance(default, float):
        return isinstance(value, (int, float))
    return isinstance(value, type(default))


def parse_site(text: str, source: str = "<site>") -> Site:
    """Parse and validate site file text; raise SiteError listing every problem."""
    loader = _Loader(text)
    loader.duplicates = []
    try:
        raw = loader.get_single_data()
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown place"
        problem = Problem(
            "(file)",
            f"YAML syntax error at {where}: {error.problem or error.context}",
            "correct the YAML at that line (indentation, quotes, colons)",
        )
        raise SiteError(source, [problem]) from None
    finally:
        loader.dispose()

    check = _Checker()
    for key, line in loader.duplicates:
        check.add(f"(line {line})", f"key {key!r} is given twice", "keep one entry per key or host name")
    if raw is None:
        raw = {}
    top = check.mapping(raw, "(top level)")
    if top is None:
        raise SiteError(source, check.problems)

    check.unknown_keys(top, TOP_KEYS, "")
    for key in REQUIRED_TOP_KEYS:
        if key not in top:
            check.add(key, "required key is missing", f"add '{key}:' (see site.yaml for an example)")

    cluster = str(top.get("cluster", ""))
    if "cluster" in top and not CLUSTER_RE.match(cluster):
        check.add(
            "cluster",
            f"{cluster!r} is not a valid cluster name",
            "use 1-32 characters of a-z, 0-9 and '-', not starting or ending with '-'",
        )

    networks = _check_networks(check, top.get("networks"))
    vip = check.address(top["vip"], "vip") if "vip" in top else None
    ssh = _check_ssh(check, top.get("ssh", {}))
    site_data = check.data(top.get("data", {}), "data")
    hosts = _check_hosts(check, top.get("hosts"), networks)
    _check_cluster_shape(check, hosts, networks, vip)
    _check_arbiter(check, site_data, hosts)
    _check_agreement(check, site_data, hosts, ssh)
    warnings = _check_tls(check, site_data, hosts)

    lab = top.get("lab", False)
    lab_debian = None
    if isinstance(lab, dict) and set(lab) == {"debian"} and isinstance(lab["debian"], int):
        lab_debian = lab["debian"]
    elif not isinstance(lab, bool):
        check.add(
            "lab", f"expected true or {{debian: N}}, got {lab!r}", "leave it out: `hastack lab up` writes it"
        )
    if check.problems:
        raise SiteError(source, check.problems)
    assert vip is not None
    return Site(
        source, cluster, networks, vip, ssh, hosts, site_data, lab is not False, lab_debian, tuple(warnings)
    )


def _check_networks(check: _Checker, value: Any) -> dict[str, ipaddress.IPv4Network]:
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


def _check_ssh(check: _Checker, value: Any) -> SshSettings:
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


def _check_hosts(check: _Checker, value: Any, networks: dict) -> dict[str, Host]:
    if value is None:
        return {}
    mapping = check.mapping(value, "hosts")
    if mapping is None:
        return {}
    hosts = {}
    for name, spec in mapping.items():
        host = _check_host(check, str(name), spec, networks)
        if host is not None:
            hosts[host.name] = host
    return hosts


def _check_host(check: _Checker, name: str, spec: Any, networks: dict) -> Host | None:
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
        guess = _closest(str(role), ROLES)
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

    disks = _check_disks(check, spec, role, path, name)
    nics = _check_nics(check, spec.get("nics", {}), path, name)
    dhcp = spec.get("dhcp", [])
    if not isinstance(dhcp, list) or not all(_is_nic(item) for item in dhcp):
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
    data = check.data(spec.get("data", {}), f"{path}.data", name)
    if role is None:
        return None
    return Host(name, role, addresses, disks, ssh_host, nics, tuple(dhcp), data)


def _check_disks(check: _Checker, spec: dict, role: str | None, path: str, name: str) -> tuple:
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


def _is_nic(value: Any) -> bool:
    return isinstance(value, str) and bool(MAC_RE.match(value.lower()) or IFNAME_RE.match(value))


def _check_nics(check: _Checker, value: Any, path: str, name: str) -> dict[str, str]:
    mapping = check.mapping(value, f"{path}.nics", name)
    if mapping is None:
        return {}
    check.unknown_keys(mapping, NETWORKS, f"{path}.nics.", name)
    nics = {}
    for net_name, nic in mapping.items():
        if net_name not in NETWORKS:
            continue
        if not _is_nic(nic):
            check.add(
                f"{path}.nics.{net_name}",
                f"{nic!r} is neither an interface name nor a MAC",
                "give a name like enp0s8 or a MAC like 52:54:00:12:34:56",
                name,
            )
            continue
        nics[net_name] = nic.lower() if MAC_RE.match(nic.lower()) else nic
    return nics


def _check_cluster_shape(check: _Checker, hosts: dict[str, Host], networks: dict, vip) -> None:
    for role, needed in (("proxy", 2), ("web", 2)):
        count = sum(1 for host in hosts.values() if host.role == role)
        if count < needed:
            check.add(
                "hosts",
                f"{count} {role} host(s), at least {needed} are needed for HA",
                f"describe at least {needed} hosts with 'role: {role}'",
            )

    owners: dict[ipaddress.IPv4Address, str] = {}
    for host in hosts.values():
        for net_name, addr in host.addresses.items():
            if addr in owners:
                check.add(
                    f"hosts.{host.name}.{net_name}",
                    f"{addr} is also used by {owners[addr]}",
                    "give every host its own address",
                    host.name,
                )
            owners.setdefault(addr, f"hosts.{host.name}.{net_name}")

    front = networks.get("front")
    if vip is not None and front is not None:
        if vip not in front:
            check.add(
                "vip",
                f"{vip} is outside networks.front ({front})",
                f"choose a free address inside {front}",
            )
        elif vip in (front.network_address, front.broadcast_address):
            check.add(
                "vip",
                f"{vip} is the network or broadcast address of {front}",
                "choose a host address",
            )
    if vip is not None and vip in owners:
        check.add(
            "vip",
            f"{vip} is the address of {owners[vip]}",
            "choose an address that no host has: the VIP floats between the proxies",
        )


def _check_arbiter(check: _Checker, site_data: dict, hosts: dict[str, Host]) -> None:
    """gluster_arbiter names a host of the site, not a web host, on the back network."""
    for host in hosts.values():
        if "gluster_arbiter" in host.data:
            check.add(
                f"hosts.{host.name}.data.gluster_arbiter",
                "the arbiter is one for the whole volume",
                "set it under the site's 'data:' instead",
                host.name,
            )
    arbiter = site_data.get("gluster_arbiter", "")
    if not arbiter:
        return
    spec = hosts.get(arbiter)
    if spec is None:
        check.add(
            "data.gluster_arbiter",
            f"{arbiter!r} is not a host of the site",
            f"name a proxy host ({', '.join(h.name for h in hosts.values() if h.role == 'proxy')})",
        )
    elif spec.role == "web":
        check.add(
            "data.gluster_arbiter",
            f"{arbiter} is a web host, which already holds a data brick",
            "name a proxy host",
            arbiter,
        )
    elif (webs := sum(1 for host in hosts.values() if host.role == "web")) > 2:
        check.add(
            "data.gluster_arbiter",
            f"an arbiter is for two web hosts; with {webs} their copies keep quorum themselves",
            "remove gluster_arbiter from data: the next deploy removes the arbiter brick",
            arbiter,
        )
    elif "back" not in spec.addresses:
        check.add(
            "data.gluster_arbiter",
            f"{arbiter} is not on the back network, where the bricks talk",
            "name a proxy host, or give this host a back address",
            arbiter,
        )


def _check_agreement(check: _Checker, site_data: dict, hosts: dict[str, Host], ssh: SshSettings) -> None:
    """Keys that must agree, on each host's effective values: ports, STONITH, the arbiter, paths."""

    def where(key: str, host: Host) -> tuple[str, str | None]:
        """The key path that sets a host's value (its own data, else the site's), and the host."""
        return (f"hosts.{host.name}.data.{key}" if key in host.data else f"data.{key}"), host.name

    arbiter = site_data.get("gluster_arbiter", "")
    for host in hosts.values():

        def setting(key: str, host: Host = host) -> Any:
            return host.data.get(key, site_data.get(key, DEFAULTS[key]))

        for key, port, other in rules.port_conflicts(host.role, setting, ssh.port, host.name == arbiter):
            path, name = where(key, host)
            check.add(path, f"port {port} is also {other} on {name}", "give it a port of its own", name)
        if (
            host.role == "proxy"
            and setting("pacemaker_stonith_enabled")
            and not setting("pacemaker_fence_devices")
        ):
            path, name = where("pacemaker_stonith_enabled", host)
            check.add(
                path,
                "STONITH is on but no fence device is described",
                "describe pacemaker_fence_devices, or set pacemaker_stonith_enabled: false",
                name,
            )
        if host.role == "web":
            mount, content = setting("gluster_mount_point"), setting("web_content_dir")
            if not f"{content}/".startswith(f"{mount.rstrip('/')}/"):
                path, name = where("web_content_dir", host)
                check.add(
                    path,
                    f"{content} is outside the replicated volume at gluster_mount_point ({mount})",
                    f"put the content below {mount}",
                    name,
                )
            raid, bricks = setting("raid_mount_point"), setting("gluster_brick_root")
            if setting("raid_enabled") and not f"{bricks}/".startswith(f"{raid.rstrip('/')}/"):
                path, name = where("gluster_brick_root", host)
                check.add(
                    path,
                    f"{bricks} is not on the RAID at raid_mount_point ({raid})",
                    f"put the bricks below {raid}, or set raid_enabled: false",
                    name,
                )
    if arbiter and site_data.get("gluster_quorum_type", DEFAULTS["gluster_quorum_type"]) != "auto":
        check.add(
            "data.gluster_quorum_type",
            "an arbiter prevents split-brain only with client quorum",
            "set gluster_quorum_type: auto with gluster_arbiter",
        )


# The VIP's listener is one for both proxies: these keys must not differ between them.
VIP_LISTENER_KEYS = ("https_port", "tls_certificate", "tls_key", "tls_names", "tls_hsts_max_age")


def _check_tls(check: _Checker, site_data: dict, hosts: dict[str, Host]) -> list[str]:
    """The proxies agree on the VIP's listener, and the site's certificate (if it names one)
    is usable: the key matches, the chain is complete, nothing expired. Returns warnings."""
    proxies = [host for host in hosts.values() if host.role == "proxy"]

    def setting(key: str, host: Host) -> Any:
        return host.data.get(key, site_data.get(key, DEFAULTS[key]))

    for key in VIP_LISTENER_KEYS:
        values = {repr(setting(key, host)) for host in proxies}
        if len(values) > 1:
            own = next(host.name for host in proxies if key in host.data)
            check.add(
                f"hosts.{own}.data.{key}",
                f"the proxies differ on {key}: one VIP has one listener",
                f"set {key} under data: for the whole site, not for {own} alone",
                own,
            )
    if not proxies or check.problems:
        return []
    certificate, key = setting("tls_certificate", proxies[0]), setting("tls_key", proxies[0])
    if bool(certificate) != bool(key):
        given, missing = ("tls_certificate", "tls_key") if certificate else ("tls_key", "tls_certificate")
        check.add(
            f"data.{missing}",
            f"{given} is set but {missing} is not",
            "give both the certificate file and its key file, or neither (hastack then issues one)",
        )
        return []
    if not certificate:
        return []
    from hastack import tls  # cryptography, only for a site that brings its own certificate

    result = tls.check_files(Path(certificate), Path(key))
    for problem in result.problems:
        check.add("data.tls_certificate", problem, "give a current certificate, its chain and its own key")
    return result.warnings


def load_site(path: str | Path) -> Site:
    """Read and validate a site file; raise SiteError on any problem."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        problem = Problem(
            "(file)",
            f"cannot read the site file: {error.strerror}",
            "give the path of a site file, or set HASTACK_SITE",
        )
        raise SiteError(source, [problem]) from None
    return parse_site(text, source)


def load_site_or_exit(path: str | Path) -> Site:
    """For entry points: load the site, or print every problem and exit 2."""
    try:
        return load_site(path)
    except SiteError as error:
        print(error.report(), file=sys.stderr)
        raise SystemExit(2) from None
