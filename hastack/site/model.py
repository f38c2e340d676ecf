"""The site model: what a validated site file describes (hastack.site.loading makes it).

Problem and SiteError are how every check reports; the constants are the site file's shape.
"""

from __future__ import annotations

import copy
import ipaddress
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hastack import topology
from hastack.defaults import DEFAULTS

ROLES = topology.ROLES
NETWORKS = ("back", "front")
# Which networks a host of each role must have an address on.
ROLE_NETWORKS = {"proxy": ("back", "front"), "web": ("back",), "client": ("front",)}
TOP_KEYS = ("cluster", "networks", "vip", "ssh", "hosts", "data", "lab")
SSH_KEYS = ("user", "key", "port", "known_hosts")
HOST_KEYS = ("role", "back", "front", "disks", "ssh_host", "nics", "dhcp", "bonds", "vlans", "data")
# netplan's bond modes (the kernel's bonding driver).
BOND_MODES = (
    "active-backup",
    "802.3ad",
    "balance-rr",
    "balance-xor",
    "broadcast",
    "balance-tlb",
    "balance-alb",
)
REQUIRED_TOP_KEYS = ("cluster", "networks", "vip", "hosts")
# The group data files hastack reads (group_data/<group>.py): every host, and each role.
GROUPS = ("all", *ROLES)

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
    # name -> {"interfaces": [name or MAC, ...], "mode": one of BOND_MODES}
    bonds: dict[str, dict] = field(default_factory=dict)
    # name -> {"id": 1-4094, "link": a bond's name, an interface name or a MAC}
    vlans: dict[str, dict] = field(default_factory=dict)

    @property
    def connect_address(self) -> str:
        """Where SSH goes: ``ssh_host`` if given, else the back address, else the front."""
        return self.ssh_host or self.primary_address

    @property
    def primary_address(self) -> str:
        """Where its peers and agents reach it: the back address, else the front."""
        return topology.primary_address(self.addresses)


@dataclass(frozen=True)
class GroupFile:
    """One group data file (``group_data/<group>.py``): its group, its path as shown, its values."""

    group: str
    path: str
    values: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Layers:
    """Where a data key's value comes from, highest first: the host's ``data:``, the site's
    ``data:``, ``group_data/<role>.py``, ``group_data/all.py``, the default. Without a host:
    the site's ``data:``, ``group_data/all.py``, the default. Of two group data folders that
    hold one group's file, the later one's value wins (pyinfra's order)."""

    data: dict[str, Any]
    group_files: tuple[GroupFile, ...] = ()
    # The site's hosts, for values that follow from its shape (``gluster_arbiter: auto``).
    hosts: Mapping[str, Host] = field(default_factory=dict)

    def find(self, key: str, host: Host | None = None) -> tuple[Any, str]:
        """The effective value and the key path that sets it (``data.<key>`` for a default)."""
        value, path = self._find(key, host)
        if key == "gluster_arbiter" and value == ARBITER_AUTO:
            return auto_arbiter(self.hosts), path
        return value, path

    def _find(self, key: str, host: Host | None = None) -> tuple[Any, str]:
        if host is not None and key in host.data:
            return host.data[key], f"hosts.{host.name}.data.{key}"
        if key in self.data:
            return self.data[key], f"data.{key}"
        for group in ([host.role] if host is not None else []) + ["all"]:
            for group_file in reversed(self.group_files):
                if group_file.group == group and key in group_file.values:
                    return group_file.values[key], f"{group_file.path}: {key}"
        return DEFAULTS[key], f"data.{key}"

    def value(self, key: str, host: Host | None = None) -> Any:
        return self.find(key, host)[0]

    def origin(self, key: str, host: Host | None = None) -> str:
        return self.find(key, host)[1]


# gluster_arbiter's default: the site's shape picks it (auto_arbiter).
ARBITER_AUTO = "auto"


def auto_arbiter(hosts: Mapping[str, Host]) -> str:
    """``gluster_arbiter: auto``: with exactly two web hosts, the first proxy of the site file
    that has a back address (where the bricks talk); else none (three or more web hosts keep
    quorum themselves)."""
    if sum(1 for host in hosts.values() if host.role == "web") != 2:
        return ""
    return next((h.name for h in hosts.values() if h.role == "proxy" and "back" in h.addresses), "")


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
    # The group data files read with the site (validated), in the order they were read.
    group_files: tuple[GroupFile, ...] = ()

    @property
    def layers(self) -> Layers:
        return Layers(self.data, self.group_files, self.hosts)

    @property
    def group_data(self) -> dict[str, dict[str, Any]]:
        """Each group's values from its group data files (a later folder's value wins)."""
        merged: dict[str, dict[str, Any]] = {}
        for group_file in self.group_files:
            merged.setdefault(group_file.group, {}).update(group_file.values)
        return merged

    def cluster_hosts(self) -> list[str]:
        """The hosts that carry the shop (proxies and web hosts), in the site's order: what
        maintenance, upgrade and its drill may take out; never the client."""
        return [h.name for h in self.hosts.values() if h.role in topology.CLUSTER_ROLES]

    def hosts_in(self, role: str) -> list[Host]:
        return [self.hosts[other["name"]] for other in topology.in_role(self.topology_hosts(), role)]

    def topology_hosts(self) -> list[dict]:
        """Every host as deploys see it (``site_hosts``): name, role, addresses, and for a web host
        the port its NGINX listens on (its own web_port: a proxy sends there)."""
        return [
            {
                "name": other.name,
                "role": other.role,
                "addresses": {network: str(address) for network, address in other.addresses.items()},
                **({"web_port": self.setting("web_port", other)} if other.role == "web" else {}),
            }
            for other in self.hosts.values()
        ]

    def setting(self, key: str, host: Host | None = None) -> Any:
        """The value a data key has for a host (or the whole site): the host's data, the site's,
        group_data/<role>.py, group_data/all.py, the default (``Layers``)."""
        return self.layers.value(key, host)

    def proxy_setting(self, key: str) -> Any:
        """A key the proxies share (the validator makes them agree): the VIP's listeners."""
        proxies = self.hosts_in("proxy")
        return self.setting(key, proxies[0] if proxies else None)

    @property
    def shop_name(self) -> str:
        """The name hastack's probes ask the VIP for (TLS SNI, the Host header, the name the
        certificate is checked against): ``tls_names[0]``; with ``tls_certificate``, the first
        DNS name (not a wildcard) the certificate carries; else the VIP's address. An ACME
        certificate names hosts only, and the site's names may point elsewhere than the VIP (a
        NAT in front): the probes connect to the VIP whatever the name resolves to
        (``curl_to_vip``, ``hastack.probe``)."""
        from hastack import tls

        certificate = self.proxy_setting("tls_certificate")
        names = tls.certificate_dns_names(certificate) if certificate else self.proxy_setting("tls_names")
        return next((name for name in names if not name.startswith("*")), str(self.vip))

    @property
    def by_name(self) -> bool:
        """Whether the probes ask for a name (``shop_name``), not the VIP's address."""
        return self.shop_name != str(self.vip)

    @property
    def curl_to_vip(self) -> str:
        """curl's option that sends every request to the VIP, whatever ``shop_name`` resolves to
        (SNI and Host stay the name): empty when the URLs name the VIP's address."""
        return f"--connect-to ::{self.vip}:" if self.by_name else ""

    @property
    def servername_option(self) -> str:
        """openssl s_client's option for the name it asks the VIP for (SNI), with a space after;
        empty when the probes ask for the VIP's address."""
        return f"-servername {self.shop_name} " if self.by_name else ""

    def url(self, path: str = "/", scheme: str = "https", by_address: bool = False) -> str:
        """The shop's URL through the VIP: HTTPS on ``https_port``, or plain HTTP on 80; for
        ``shop_name`` (reach it with ``curl_to_vip``), or with ``by_address`` the VIP's address (a
        client that sends a Host header but checks no certificate: ab)."""
        return f"{scheme}://{self.vip if by_address else self.shop_name}{self._port_suffix(scheme)}{path}"

    def _port_suffix(self, scheme: str) -> str:
        """ ":port" where the VIP's listener for ``scheme`` is not on the scheme's own port."""
        port = self.proxy_setting("https_port") if scheme == "https" else 80
        return "" if port == {"https": 443, "http": 80}[scheme] else f":{port}"

    def ab_target(self, path: str = "/", scheme: str = "https") -> str:
        """What ab takes for the shop: the VIP's address in the URL (ab resolves names itself and
        checks no certificate), and ``shop_name`` as the Host header where it differs."""
        name = self.shop_name + self._port_suffix(scheme)
        host = f"-H {shlex.quote('Host: ' + name)} " if self.by_name else ""
        return host + shlex.quote(self.url(path, scheme, by_address=True))

    def probe_ca(self) -> str | None:
        """The CA file hastack's own probes verify the VIP with (None: the system's CAs): with
        ACME, the site's tls_acme_ca_bundle (a private ACME server) or none (a public one)."""
        from hastack import tls

        if self.proxy_setting("tls_acme_directory"):
            return self.proxy_setting("tls_acme_ca_bundle") or None
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
            "site_bonds": copy.deepcopy(host.bonds),
            "site_vlans": copy.deepcopy(host.vlans),
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
        into the site's data: derived sites are made from the model, never spliced as text.
        Group data stays in its files (it is not folded in): a derived site loaded with the
        same group data folders has the same effective values."""
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
                "bonds": copy.deepcopy(host.bonds),
                "vlans": copy.deepcopy(host.vlans),
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
        for group_file in self.group_files:
            if group_file.values:
                lines.append(f"  group data: {group_file.path}: {', '.join(group_file.values)}")
        return "\n".join(lines)
