"""The lab's layout: its networks, VIP, hosts and sudo user. Data only (no Docker, no site
file), so that the lab's other modules import it without importing each other."""

from __future__ import annotations

from dataclasses import dataclass

from hastack import topology
from hastack.lab.common import PREFIX

# Docker's own pool for each network is its upper half (--ip-range), so the
# fixed host addresses and the VIP below never collide with it.
NETWORKS = {"back": "10.231.1.0/24", "front": "10.231.2.0/24"}
VIP = "10.231.2.10"


@dataclass(frozen=True)
class LabHost:
    name: str
    role: str
    addresses: dict[str, str]

    @property
    def container(self) -> str:
        return f"{PREFIX}-{self.name}"

    @property
    def ssh_address(self) -> str:
        return topology.primary_address(self.addresses)


# `hastack lab up --web N`: web hosts web1..webN at 10.231.1.21 and on.
MAX_WEB = 9


def lab_hosts(web: int = 2) -> list[LabHost]:
    """The lab's hosts with ``web`` web hosts: two proxies, the web hosts, the client."""
    return [
        LabHost("proxy1", "proxy", {"back": "10.231.1.11", "front": "10.231.2.11"}),
        LabHost("proxy2", "proxy", {"back": "10.231.1.12", "front": "10.231.2.12"}),
        *[LabHost(f"web{n}", "web", {"back": f"10.231.1.{20 + n}"}) for n in range(1, web + 1)],
        LabHost("client", "client", {"front": "10.231.2.50"}),
    ]


# The lab a first `lab up` brings: two web hosts, as the seed.
HOSTS = lab_hosts()


# A non-root user with passwordless sudo on every lab host, as docs/real-servers.md asks of a site's
# ssh.user: the lab deploys through it with HASTACK_LAB_SSH_USER=deployer.
SUDO_USER = "deployer"
# The lab's SMTP sink on the client: its unit, and the Maildir that keeps what it takes.
SMTP_SINK = "lab-smtp-sink.service"
SMTP_SINK_MAILDIR = "/var/lib/lab-mail"


def needs_ganglia_image(release: int) -> bool:
    from hastack import platforms

    return platforms.for_os("debian", str(release)).ganglia_in_container
