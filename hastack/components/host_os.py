"""The host's operating system: the preflight that refuses what hastack cannot serve, and
package installs through the platform's package manager.

What differs between releases is written in hastack/platforms.py only; deploys ask
``platform()`` and never compare releases themselves.
"""

from __future__ import annotations

import base64
import hashlib
import shlex
from pathlib import Path
from typing import Any

from pyinfra import config, host, logger, state
from pyinfra.api.exceptions import DeployError
from pyinfra.facts.files import Directory, File, Sha256File
from pyinfra.operations import apt, dnf, files, server, systemd
from pyinfra.operations.util import any_changed

from hastack import neighbours, platforms
from hastack.facts.network import ArpAnswer, Ipv4Interfaces
from hastack.facts.pacemaker import CibConfiguration
from hastack.facts.system import (
    AptBusyAfterWait,
    AptComponents,
    HostIdentities,
    HostNeighbours,
    OnRootFilesystem,
    OsRelease,
)
from hastack.topology import ROLES

APT_LOCK_WAIT = "/etc/apt/apt.conf.d/90hastack-lock-wait"
# Where a secret a command needs is handed over: a private file on a tmpfs, removed by the
# command that reads it. A secret on a command line would show in `ps` to every local user.
SECRET_DIR = "/run/hastack"


def secret_is_there(content: bytes, dest: str, mode: str = "600") -> bool:
    """``dest`` on the host holds ``content``, root's, in ``mode``."""
    there = host.get_fact(File, path=dest)
    return (
        bool(there)
        and host.get_fact(Sha256File, path=dest) == hashlib.sha256(content).hexdigest()
        and (there["user"], there["group"], there["mode"]) == ("root", "root", int(mode))
    )


def put_secret(name: str, src: Path | bytes, dest: str, mode: str = "600"):
    """A secret file put on the host as root's, mode 0600 (or ``mode``), readable by no one else
    on the way: its content goes through the command's standard input (base64) into `install`,
    never through a file a sudo user's upload leaves in /tmp (pyinfra's files.put does that) nor
    on a command line. Nothing changes when the file is already there, the same, root's, in that
    mode."""
    content = src if isinstance(src, bytes) else src.read_bytes()
    if secret_is_there(content, dest, mode):
        # known now: not even pyinfra's preview lists it as a change
        return None
    return server.shell(
        name=name,
        commands=[
            f"umask 077 && base64 -d | install -m {mode} -o root -g root /dev/stdin {shlex.quote(dest)}"
        ],
        _stdin=base64.encodebytes(content).decode(),
    )


def run_timer(unit: str, what: str, service, timer) -> None:
    """``unit``.timer running and enabled; systemd reloads when the service's or the timer's
    file (the operations ``service`` and ``timer``) changed, and the timer restarts when its
    schedule did. ``what`` names them in the operations ("the check": "Run the check's timer")."""
    systemd.daemon_reload(name=f"Load {what}'s units", _if=any_changed(service, timer))
    systemd.service(name=f"Run {what}'s timer", service=f"{unit}.timer", running=True, enabled=True)
    systemd.service(
        name=f"Restart {what}'s timer with its new schedule",
        service=f"{unit}.timer",
        restarted=True,
        _if=timer.did_change,
    )


def role() -> str:
    return next(group for group in ROLES if group in host.groups)


# Facts no operation of a run changes (the OS release, a machine's identities), asked once per
# host and run: most operations ask for the platform, and each question is a round trip.
_STEADY: dict[tuple[str, str], Any] = {}


def steady_fact(target, fact) -> Any:
    key = (target.name, fact.__name__)
    if key not in _STEADY:
        _STEADY[key] = target.get_fact(fact)
    return _STEADY[key]


def platform() -> platforms.Platform:
    """This host's row of the matrix; DeployError (naming the host, its OS and the list) if none."""
    try:
        return platforms.for_host(steady_fact(host, OsRelease), role())
    except platforms.UnsupportedPlatform as error:
        raise DeployError(f"host {host.name} {error}. Nothing was changed on any host.") from None


# The hosts whose apt lists this run has seen to already (by their first install).
_LISTS_SEEN: set[str] = set()


def install(name: str, packages: list[str] | tuple[str, ...], no_recommends: bool = False):
    """Install packages with the platform's package manager (apt: its lists at most an hour old,
    seen to by the host's first install of the run; no operation adds a source after it)."""
    if platform().packager == "dnf":
        return dnf.packages(name=name, packages=list(packages))
    first = host.name not in _LISTS_SEEN
    _LISTS_SEEN.add(host.name)
    return apt.packages(
        name=name,
        packages=list(packages),
        update=first,
        cache_time=3600 if first else None,
        no_recommends=no_recommends,
    )


def upload_dir(user: str) -> str:
    """Where pyinfra puts a file before sudo copies it into place, for a non-root SSH user: a
    folder of that user's alone (0700), so no file on its way (a key, a password in a
    configuration) is ever readable by another user. pyinfra's default, /tmp, leaves each one
    there with the SFTP server's umask, 0644."""
    return f"/var/tmp/hastack-upload-{user}"


def private_uploads() -> None:
    """For a non-root SSH user, pyinfra's uploads go through ``upload_dir`` (made here, as that
    user, before any upload; a folder there that is not the user's own and 0700, or a link, is
    refused). Root uploads straight into place: nothing to do."""
    user = host.data.ssh_user
    if user == "root" or not host.data.get("_sudo"):
        return
    folder = upload_dir(user)
    # Both the run's config and the deploy's copy of it, which operations read for their
    # `_temp_dir` (files.put names its upload's path while it prepares).
    host.state.config.TEMP_DIR = folder
    config.TEMP_DIR = folder
    there = host.get_fact(Directory, path=folder, _sudo=False)
    if there and (there["user"], there["mode"]) == (user, 700):
        return
    quoted = shlex.quote(folder)
    server.shell(
        name=f"A private folder for the uploads of {user} ({folder}, 0700)",
        commands=[
            f"umask 077; [ -e {quoted} ] || [ -L {quoted} ] || mkdir -m 700 {quoted}; "
            f'if [ -L {quoted} ] || [ "$(stat -c %u:%a {quoted})" != "$(id -u):700" ]; then '
            f"echo 'hastack: {folder} is not a folder of {user} alone (0700): remove it, run again' >&2; "
            "exit 1; fi"
        ],
        _sudo=False,
    )


def preflight() -> None:
    """Before anything changes on any host: the OS is in the matrix, and apt is free.

    pyinfra runs this for every host of the run while it prepares the operations,
    so a refused host stops the run before any operation is executed anywhere.
    """
    refuse_unreachable_hosts()
    private_uploads()
    this = platform()
    refuse_cloned_identities()
    refuse_a_taken_vip()
    if not this.tested:
        logger.warning(f"host {host.name}: {this.label} is mapped from its package lists, untested on hosts")
    if this.ganglia_in_container and host.data.monitoring_enabled and not host.data.ganglia_image:
        raise DeployError(
            f"host {host.name} runs {this.label}, which has no Ganglia packages: set data key "
            "ganglia_image (and ganglia_image_archive for hosts without a registry), made by "
            "`hastack ganglia-image`, or monitoring_enabled: false. Nothing was changed on any host."
        )
    if this.packager != "apt":
        return
    refuse_neighbours(this)
    busy = host.get_fact(AptBusyAfterWait, seconds=host.data.apt_wait_seconds)
    if busy:
        raise DeployError(
            f"host {host.name}: apt is still held by {', '.join(busy)} after {host.data.apt_wait_seconds} s "
            "(data key apt_wait_seconds): wait for it to finish, or stop it, and run again"
        )
    # after apt's own jobs: an apt-daily run may be fetching the lists it reads
    if host.data.apt_sources_checked:
        refuse_missing_apt_components(this)
    # Later apt runs wait for a lock taken meanwhile (an apt-daily timer) instead of failing.
    files.put(
        name="apt waits for its lock instead of failing",
        src=_lock_wait_conf(host.data.apt_wait_seconds),
        dest=APT_LOCK_WAIT,
        mode="644",
    )


def refuse_missing_apt_components(this) -> None:
    """The apt sources this release's packages come from (platforms.Platform.apt_components):
    without them, the run would stop halfway, at the first package apt cannot find."""
    missing = this.missing_apt_components(host.get_fact(AptComponents), role())
    if missing:
        fix = (
            "`add-apt-repository universe` (and the -updates suite in /etc/apt/sources.list or "
            "/etc/apt/sources.list.d/ubuntu.sources)"
            if this.distribution == "ubuntu"
            else "the release's sources in /etc/apt/sources.list or /etc/apt/sources.list.d/debian.sources"
        )
        raise DeployError(
            f"host {host.name} runs {this.label}, and apt's sources lack {', '.join(missing)}, where "
            f"hastack's packages come from: add them ({fix}) and run again; a mirror that publishes "
            "them under suites of its own names: set apt_sources_checked: false. Nothing was "
            "changed on any host."
        )


def refuse_neighbours(this) -> None:
    """Docker CE where hastack installs docker.io, an enabled ufw, unattended-upgrades without a
    policy (hastack/neighbours.py): refused, each with its fix, before any host changes."""
    found = host.get_fact(HostNeighbours, packages=neighbours.DOCKER_CE)
    needs_docker = "web" in host.groups or (bool(host.data.monitoring_enabled) and this.ganglia_in_container)
    refused = neighbours.problems(host.name, found, needs_docker, host.data.unattended_upgrades)
    if refused:
        raise DeployError("; ".join(refused) + ". Nothing was changed on any host.")


def refuse_a_brick_on_the_root_filesystem() -> None:
    """The arbiter's brick (and a web host's, where no RAID is made for it) on a filesystem of
    its own: GlusterFS refuses a brick on the root filesystem, which would stop the run halfway
    (the volume's hosts changed, the volume not). Called with the preflight by the entry points
    that deploy GlusterFS (not by base_only.py), while pyinfra prepares: before any change."""
    if host.name == host.data.gluster_arbiter:
        key, root = "gluster_arbiter_brick_root", host.data.gluster_arbiter_brick_root
        why = (
            f"host {host.name} holds the GlusterFS arbiter brick (gluster_arbiter; its default, auto, "
            "picks the first proxy when the site has two web hosts)"
        )
        way_out = (
            'or set gluster_arbiter: "" under data:, with gluster_quorum_type: none to keep writes '
            "going while web1 is away (no arbiter: hastack check names the risk of either)"
        )
    elif "web" in host.groups and not host.data.raid_enabled:
        key, root = "gluster_brick_root", host.data.gluster_brick_root
        why = f"host {host.name} holds a GlusterFS brick, and raid_enabled is false (no RAID is made for it)"
        way_out = "or set raid_enabled: true to build the RAID there"
    else:
        return
    if host.get_fact(OnRootFilesystem, path=root):
        raise DeployError(
            f"{why}, but {root} ({key}) is on the root filesystem, where GlusterFS refuses a brick: "
            f"mount a filesystem of its own at {root} (a small partition, LV or disk; the arbiter "
            f"keeps names and metadata only), or set {key} to where one is mounted, {way_out}. "
            "Nothing was changed on any host."
        )


def _lock_wait_conf(seconds: int):
    from io import StringIO

    return StringIO(f'// Managed by hastack.\nDPkg::Lock::Timeout "{int(seconds)}";\n')


def refuse_unreachable_hosts() -> None:
    """Every host of the run answers over SSH (pyinfra would carry on without the others)."""
    away = sorted(
        other.name for other in state.inventory if state.is_host_in_limit(other) and not other.connected
    )
    if away:
        raise DeployError(
            f"{', '.join(away)} did not answer over SSH, so the run stops before any change: bring "
            f"{'them' if len(away) > 1 else 'it'} back, or leave {'them' if len(away) > 1 else 'it'} out "
            "with --limit (for example --limit web1 --limit proxy1). Nothing was changed on any host."
        )


# How to give a cloned host an identity of its own, by what collides.
IDENTITY_FIXES = {
    # Not systemd-machine-id-setup: on a clone it copies the ID back from dbus's file or from
    # /run/machine-id (seen in the storage VM test).
    "machine-id": "as root: rm -f /var/lib/dbus/machine-id && systemd-id128 new > /etc/machine-id, "
    "then reboot",
    "SSH host key": "rm /etc/ssh/ssh_host_*; dpkg-reconfigure openssh-server, then update known_hosts",
    "glusterd UUID": "(before it joins a pool) systemctl stop glusterd; rm /var/lib/glusterd/glusterd.info; "
    "systemctl start glusterd",
}


def refuse_cloned_identities() -> None:
    """Hosts cloned from one VM share what must be theirs alone: their DHCP client ids
    (machine-id), their SSH identity, their place in the GlusterFS pool."""
    mine = steady_fact(host, HostIdentities)
    others = [other for other in state.inventory if other.name != host.name and other.connected]
    for what, value in mine.items():
        if not value:
            continue
        twins = sorted(o.name for o in others if steady_fact(o, HostIdentities).get(what) == value)
        if twins:
            raise DeployError(
                f"host {host.name} has the same {what} as {', '.join(twins)}: they were cloned from one "
                f"machine. Give each its own ({IDENTITY_FIXES[what]}) and run again. Nothing was changed "
                "on any host."
            )


def refuse_a_taken_vip() -> None:
    """Nothing but the site's proxies answers on the VIP: two hosts answering ARP for one
    address split the shop's traffic between them. Asked from each proxy, before the cluster
    has made the VIP (or moves it to a new address)."""
    if role() != "proxy":
        return
    proxies = [other for other in state.inventory if "proxy" in other.groups and other.connected]
    vip = host.data.site_vip
    for proxy in proxies:
        cib = proxy.get_fact(CibConfiguration)
        if cib and cib.get("resources", {}).get("vip", {}).get("params", {}).get("ip") == vip:
            return
    mac = host.get_fact(ArpAnswer, address=vip)
    ours = {
        nic["mac"] for proxy in proxies for nic in proxy.get_fact(Ipv4Interfaces).values() if nic.get("mac")
    }
    if mac and mac not in ours:
        raise DeployError(
            f"host {host.name}: the VIP {vip} already answers on the network (ARP: {mac}), and not "
            "from a proxy of this site: another machine has that address (the seed's .1 is "
            "VirtualBox's own host-side address). Choose a free address for vip in the site file "
            "(or, if it is a proxy of this site, run without --limit). Nothing was changed on any host."
        )
