"""What else on a host would fight the cluster, and what hastack asks of it (the preflight
refuses it before any host changes): Docker CE where hastack installs Debian's docker.io, an
enabled ufw, and unattended-upgrades restarting cluster daemons on both nodes at once unless the
site chose a policy (data key ``unattended_upgrades``)."""

from __future__ import annotations

# Docker's own packages (download.docker.com): they collide with Debian's docker.io.
DOCKER_CE = ("docker-ce", "docker-ce-cli", "containerd.io", "docker-compose-plugin")
# Where a policy writes its apt settings.
UNATTENDED_CONF = "/etc/apt/apt.conf.d/51hastack-unattended-upgrades"
UNATTENDED_POLICIES = ("", "hold", "disable")
# The packages whose upgrade restarts a cluster daemon (Pacemaker and Corosync with their
# libraries, pcs, the agents, HAProxy, GlusterFS, Docker and its runtime): held out of unattended
# upgrades with `unattended_upgrades: hold`. unattended-upgrades reads each as a Python regular
# expression matched from the start of a package's name.
CLUSTER_PACKAGE_PATTERNS = (
    "pacemaker",
    "corosync",
    "pcs$",
    "resource-agents",
    "fence-agents",
    "libcorosync",
    "lib(qb|knet|nozzle|cfg|cmap|cpg|quorum|votequorum|sam)[0-9]",
    "lib(pe-|cib|crm|lrmd|stonithd|pacemaker)",
    "haproxy$",
    "glusterfs",
    "libgluster",
    "libgf(api|rpc|xdr|changelog)[0-9]",
    "docker\\.io$",
    "containerd$",
    "runc$",
)


def problems(name: str, found: dict, needs_docker: bool, policy: str) -> list[str]:
    """What the preflight refuses on host ``name`` (``found``: its HostNeighbours fact)."""
    refused = []
    docker_ce = [package for package in found["packages"] if package in DOCKER_CE]
    if needs_docker and docker_ce:
        refused.append(
            f"host {name} has Docker CE ({', '.join(docker_ce)}), which collides with Debian's docker.io "
            "that hastack installs: remove it (apt-get purge docker-ce docker-ce-cli containerd.io; its "
            "images and containers stay in /var/lib/docker) and run again"
        )
    if found["ufw"]:
        refused.append(
            f"host {name} has ufw enabled, whose rules drop what the cluster needs (Corosync, GlusterFS, "
            "the shop) beside hastack's own nftables table (firewall_enabled): `ufw disable`, and run again"
        )
    if found["unattended_upgrades"] and not policy:
        refused.append(
            f"host {name} runs unattended-upgrades, which can restart Pacemaker, HAProxy or glusterd on "
            "both nodes in the same hour: choose a policy with the data key unattended_upgrades: `hold` "
            "(cluster packages left to `hastack upgrade`, security updates of the rest still automatic) "
            "or `disable` (every upgrade by `hastack upgrade`)"
        )
    return refused


def unattended_conf(policy: str) -> str | None:
    """The apt settings of a policy (None: the file is removed)."""
    if policy == "hold":
        patterns = "\n".join(f'    "{pattern}";' for pattern in CLUSTER_PACKAGE_PATTERNS)
        return (
            "// Managed by hastack (data key unattended_upgrades: hold): the cluster's packages are\n"
            "// upgraded one host at a time by `hastack upgrade`, never by unattended-upgrades.\n"
            f"Unattended-Upgrade::Package-Blacklist {{\n{patterns}\n}};\n"
            "// and no reboot of its own, which could take both nodes down in the same window\n"
            'Unattended-Upgrade::Automatic-Reboot "false";\n'
        )
    if policy == "disable":
        return (
            "// Managed by hastack (data key unattended_upgrades: disable): every upgrade is made one host\n"
            "// at a time by `hastack upgrade`.\n"
            'APT::Periodic::Unattended-Upgrade "0";\n'
        )
    return None
