"""Alerts by mail: which way each host's mail leaves, and what the firewall opens for it.

Every host runs nullmailer (hastack/components/alerts.py). A host with a front address sends to
the site's relay (``alert_relay``) itself. A host on the back network only (a web host) sends to
port 25 of each proxy's back address, where HAProxy passes the connection on to the relay (its
``listen alert-relay``, TCP): nullmailer tries the proxies in turn, so the mail leaves while
either runs HAProxy. The relay sees the proxies as the senders.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from hastack import topology

# Where HAProxy takes the back-only hosts' mail (each proxy's back address).
PROXY_RELAY_PORT = 25
SMTP_PORT = 25
CHECK_UNIT = "hastack-alert-check"
CHECK_SCRIPT = "/usr/local/sbin/hastack-alert-check"
CHECK_CONFIG = "/etc/hastack/alert-check.json"
STATE_DIR = "/var/lib/hastack/alerts"
# `hastack maintenance HOST on` writes HOST's name here on every cluster host (`off` removes
# it): the check and Pacemaker's alert agent keep the alerts about HOST quiet meanwhile, for
# at most alert_quiet_hours. Readable by hacluster (the agent), unlike STATE_DIR.
QUIET_DIR = "/var/lib/hastack/quiet"
PACEMAKER_ALERT_ID = "hastack-mail"
PACEMAKER_AGENT = "/usr/local/lib/hastack/pacemaker-alert"
# Whom the alerts are addressed to on the hosts: nullmailer's adminaddr turns it into the site's
# alert_mail_to (so do mdadm's MAILADDR and Pacemaker's recipient).
LOCAL_RECIPIENT = "root"
# Mail servers nullmailer would replace (they all provide mail-transport-agent): a host with one
# is refused rather than changed.
OTHER_MTAS = (
    "exim4-base",
    "postfix",
    "sendmail-bin",
    "opensmtpd",
    "msmtp-mta",
    "dma",
    "courier-mta",
    "ssmtp",
    "masqmail",
)


def enabled(setting: Callable[[str], Any]) -> bool:
    return bool(setting("alert_mail_to"))


def relay_parts(relay: str) -> tuple[str, int]:
    """``host`` or ``host:port`` (rules.relay has accepted it): the host and the port."""
    if ":" in relay:
        name, port = relay.rsplit(":", 1)
        return name, int(port)
    return relay, SMTP_PORT


def direct(addresses: Mapping[str, Any]) -> bool:
    """Whether a host sends to the relay itself: it has a front address."""
    return "front" in addresses


def remotes(hosts: Iterable[dict], addresses: Mapping[str, Any], relay: str) -> list[tuple[str, int]]:
    """Where the host with these addresses sends its mail, tried in this order."""
    if direct(addresses):
        return [relay_parts(relay)]
    return [(str(proxy["addresses"]["back"]), PROXY_RELAY_PORT) for proxy in topology.in_role(hosts, "proxy")]


def routed_through_proxies(hosts: Iterable[dict]) -> list[dict]:
    """The hosts whose mail HAProxy passes on (the back network only)."""
    return [other for other in hosts if not direct(other["addresses"])]


def relay_host(hosts: Iterable[dict], relay: str) -> tuple[dict, str] | None:
    """The site's host the relay runs on, with the address the others reach it at (the relay
    named by a host's name: the address /etc/hosts gives it, its back, else its front)."""
    name, _ = relay_parts(relay)
    for other in hosts:
        if other["name"] == name:
            return other, topology.primary_address(other["addresses"])
        for address in other["addresses"].values():
            if str(address) == name:
                return other, str(address)
    return None


def relay_senders(hosts: Iterable[dict], relay: str) -> tuple[str, str, list[str]] | None:
    """When the relay is a host of the site: that host's name, its address, and the addresses
    the direct senders reach it from (their address on its network; its own mail arrives over
    loopback)."""
    hosts = list(hosts)
    found = relay_host(hosts, relay)
    if found is None:
        return None
    spec, address = found
    network = next(net for net, value in spec["addresses"].items() if str(value) == address)
    return (
        spec["name"],
        address,
        [
            str(other["addresses"][network])
            for other in hosts
            if other["name"] != spec["name"] and direct(other["addresses"]) and network in other["addresses"]
        ],
    )
