"""The host firewall's allow list: what each network and peer may
reach on a host, written from the site's topology and data keys only, so that no address or
port is listed by hand (the deploy renders it into nftables; the port scans of the tests
compare with it).

Inbound is dropped by default; established traffic, loopback and ICMP pass; everything else
is one of these rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from hastack import alerts, backup, topology
from hastack.defaults import ROOT
from hastack.qdevice import QNETD_PORT, qnetd_address
from hastack.rules import FIXED_PORTS

# Ports written once, in rules.py's table of what each role listens on.
PCSD = next(port for port, what in FIXED_PORTS["proxy"].items() if what == "pcsd")
COROSYNC = next(port for port, what in FIXED_PORTS["proxy"].items() if what == "Corosync")
GLUSTERD = next(port for port, what in FIXED_PORTS["web"].items() if what == "glusterd")
# glusterd's second port (RDMA/management) and the brick ports it hands out (its defaults:
# base-port 49152, max-port 60999).
GLUSTER_PORTS = (f"{GLUSTERD}-{GLUSTERD + 1}", "49152-60999")
SHOP_HTTP = str(next(port for port, what in FIXED_PORTS["proxy"].items() if "shop" in what))
SNMP = "161"


@dataclass(frozen=True)
class Allow:
    """One rule: these sources may reach these ports (optionally on one address of the host)."""

    why: str
    proto: str
    ports: tuple[str, ...]
    sources: tuple[str, ...] = ()  # empty: from anywhere
    destination: str | None = None


def _others(hosts: list[dict], role: str, name: str) -> list[dict]:
    return [other for other in topology.in_role(hosts, role) if other["name"] != name]


def allowed(
    hosts: list[dict],
    name: str,
    setting,
    networks: Mapping[str, str],
    vip: str,
    ssh_port: int,
) -> list[Allow]:
    """The allow list of the host ``name`` (``setting(key)``: its effective data key value)."""
    me = next(other for other in hosts if other["name"] == name)
    role = me["role"]
    admin = tuple(setting("admin_networks") or networks.values())
    rules = [Allow("SSH from the admin networks", "tcp", (str(ssh_port),), admin)]
    if role == "proxy":
        rules.append(
            Allow(
                "the shop, on the VIP, from anywhere",
                "tcp",
                (SHOP_HTTP, str(setting("https_port"))),
                destination=vip,
            )
        )
        peers = _others(hosts, "proxy", name)
        rules.append(
            Allow(
                "Corosync's knet links, from the other proxies (both networks)",
                "udp",
                (str(COROSYNC),),
                tuple(str(address) for peer in peers for address in peer["addresses"].values()),
            )
        )
        rules.append(
            Allow(
                "pcsd, from the other proxies' back addresses",
                "tcp",
                (str(PCSD),),
                tuple(str(peer["addresses"]["back"]) for peer in peers),
            )
        )
        rules.append(
            Allow(
                "HAProxy's stats page, on the back network",
                "tcp",
                (str(setting("haproxy_stats_port")),),
                (networks["back"],),
                destination=str(me["addresses"]["back"]),
            )
        )
    if name == setting("quorum_device_host"):
        proxies = topology.in_role(hosts, "proxy")
        address = qnetd_address(me["addresses"], [proxy["addresses"] for proxy in proxies])
        network = next(net for net, value in me["addresses"].items() if str(value) == address)
        rules.append(
            Allow(
                "corosync-qnetd (the quorum device), from the proxies",
                "tcp",
                (str(QNETD_PORT),),
                tuple(str(proxy["addresses"][network]) for proxy in proxies),
                destination=address,
            )
        )
    if role == "web":
        rules.append(
            Allow(
                "NGINX, from the proxies' HAProxy",
                "tcp",
                (str(setting("web_port")),),
                tuple(topology.back_addresses(hosts, "proxy")),
            )
        )
    pool = topology.storage_pool(hosts, setting("gluster_arbiter"))
    if any(member["name"] == name for member in pool):
        rules.append(
            Allow(
                "GlusterFS management and bricks, from the pool's members",
                "tcp",
                GLUSTER_PORTS,
                tuple(str(member["addresses"]["back"]) for member in pool if member["name"] != name),
            )
        )
    if alerts.enabled(setting):
        relay = setting("alert_relay")
        routed = alerts.routed_through_proxies(hosts)
        if role == "proxy" and routed:
            rules.append(
                Allow(
                    "alert mail of the back-only hosts (HAProxy passes it on to the relay)",
                    "tcp",
                    (str(alerts.PROXY_RELAY_PORT),),
                    tuple(str(other["addresses"]["back"]) for other in routed),
                    destination=str(me["addresses"]["back"]),
                )
            )
        on_a_host = alerts.relay_senders(hosts, relay)
        if on_a_host and on_a_host[0] == name and on_a_host[2]:
            _, address, senders = on_a_host
            rules.append(
                Allow(
                    "the alert relay on this host, from the hosts that send to it",
                    "tcp",
                    (str(alerts.relay_parts(relay)[1]),),
                    tuple(senders),
                    destination=address,
                )
            )
    repo = backup.parse(setting("backup_repository") or "")
    if repo is not None and repo.host == name:
        senders = [
            topology.primary_address(other["addresses"])
            if "back" not in other["addresses"]
            else other["addresses"]["back"]
            for other in hosts
            if backup.jobs(other["role"], setting("monitoring_enabled")) and other["name"] != name
        ]
        if senders:
            rules.append(
                Allow(
                    "SSH for the backups' SFTP, from the hosts that back up",
                    "tcp",
                    (str(ssh_port),),
                    tuple(map(str, senders)),
                )
            )
    if setting("monitoring_enabled"):
        collectors = tuple(topology.collectors(hosts, me["addresses"]))
        rules.append(Allow("SNMP, from the collectors (Cacti)", "udp", (SNMP,), collectors))
        if role == "proxy":
            senders = tuple(gmond_senders(hosts, name, others_only=True))
            rules.append(
                Allow(
                    "gmond's metrics, from every host's gmond",
                    "udp",
                    (str(setting("ganglia_port")),),
                    senders,
                )
            )
            rules.append(
                Allow(
                    "gmond's XML, from gmetad on the web hosts",
                    "tcp",
                    (str(setting("ganglia_port")),),
                    tuple(topology.back_addresses(hosts, "web")),
                )
            )
    return rules


def for_site_host(site, name: str) -> list[Allow]:
    """``allowed`` for a host of a site model (hastack.site.Site): the checks' and tests' way in."""
    spec = site.hosts[name]
    return allowed(
        site.topology_hosts(),
        name,
        lambda key: site.setting(key, spec),
        {net: str(cidr) for net, cidr in site.networks.items()},
        str(site.vip),
        site.ssh.port,
    )


def gmond_senders(hosts: list[dict], name: str, others_only: bool = False) -> list[str]:
    """Where the gmonds' metrics come from: every host's primary address (each sends to the
    collectors on the network it shares with them; this host's own arrives over loopback)."""
    return [
        topology.primary_address(other["addresses"])
        for other in hosts
        if not (others_only and other["name"] == name)
    ]


def render_nft(rules: list[Allow], name: str, role: str) -> str:
    """The nftables table of a host (templates/firewall/rules.nft.j2): its own table only,
    replaced in one transaction by ``nft -f``."""
    import jinja2

    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(ROOT / "templates" / "firewall")),
        trim_blocks=True,
        lstrip_blocks=False,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    return environment.get_template("rules.nft.j2").render(rules=rules, name=name, role=role)
