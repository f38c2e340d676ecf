"""The cluster's shape, written once: which hosts hold which role, each host's primary
address, the storage pool, the collectors.

Deploys read it from a host's data (``site_hosts``: plain dicts, as pyinfra keeps them);
the site model and the tools call the same functions, so no rule is written twice.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Mapping
from typing import Any

# The roles a host can have, in the order they are deployed.
ROLES = ("proxy", "web", "client")
# The roles that carry the shop: what maintenance, upgrade and the alerts' quiet are about.
CLUSTER_ROLES = ("proxy", "web")


def primary_network(addresses: Mapping[str, Any]) -> str:
    """The network a host is reached on inside the cluster: back, else front (the client)."""
    return "back" if "back" in addresses else "front"


def primary_address(addresses: Mapping[str, Any]) -> str:
    """Where a host's peers, agents and SSH reach it: its back address, else its front."""
    return str(addresses[primary_network(addresses)])


def in_role(hosts: Iterable[dict], role: str) -> list[dict]:
    """The hosts of one role, in the site's order."""
    return [other for other in hosts if other["role"] == role]


def storage_pool(hosts: Iterable[dict], arbiter: str) -> list[dict]:
    """GlusterFS's pool: the web hosts (data bricks), then the arbiter when the site has one."""
    hosts = list(hosts)
    return in_role(hosts, "web") + [other for other in hosts if other["name"] == arbiter]


def collectors(hosts: Iterable[dict], addresses: Mapping[str, Any]) -> list[str]:
    """The metric collectors (the proxies, on every network) at their address on a network
    the host with these addresses shares with them."""
    network = primary_network(addresses)
    return [str(other["addresses"][network]) for other in in_role(hosts, "proxy")]


def back_addresses(hosts: Iterable[dict], role: str) -> list[str]:
    """The back addresses of a role's hosts (proxies and web hosts all have one)."""
    return [str(other["addresses"]["back"]) for other in in_role(hosts, role)]


# How every tool asks a proxy whether it holds the VIP now.
ADDRESSES_COMMAND = "ip -4 -o addr show"


def vip_holders(site: Any, addresses_of: Callable[[str], str]) -> list[str]:
    """The site's proxies that hold its VIP now. ``addresses_of(name)`` returns the output of
    ADDRESSES_COMMAND on that host (each tool runs it over its own connection)."""
    return [proxy.name for proxy in site.hosts_in("proxy") if f" {site.vip}/" in addresses_of(proxy.name)]


def admin_web_sources(hosts: Iterable[dict], vip: str, admin_web_networks: Iterable[str]) -> list[str]:
    """Who may open Cacti and Ganglia through the VIP: the site's admin networks
    (admin_web_networks), and the proxies themselves (their addresses: a proxy's request to
    the VIP, the holder's too, leaves from its front address; the VIP as well, in case):
    hastack verify reads the pages from a proxy, and a person can reach them through an SSH
    tunnel to one."""
    own = [str(address) for proxy in in_role(hosts, "proxy") for address in proxy["addresses"].values()]
    networks = [str(ipaddress.ip_network(str(network), strict=False)) for network in admin_web_networks]
    return list(dict.fromkeys([*networks, *own, str(vip)]))
