"""The host's operating system: the preflight that refuses what hastack cannot serve, and
package installs through the platform's package manager.

What differs between releases is written in hastack/platforms.py only; deploys ask
``platform()`` and never compare releases themselves.
"""

from __future__ import annotations

from pyinfra import host, logger
from pyinfra.api.exceptions import DeployError
from pyinfra.operations import apt, dnf, files

from hastack import platforms
from hastack.facts.system import AptBusyAfterWait, OsRelease

ROLES = ("proxy", "web", "client")
APT_LOCK_WAIT = "/etc/apt/apt.conf.d/90hastack-lock-wait"


def role() -> str:
    return next(group for group in ROLES if group in host.groups)


def platform() -> platforms.Platform:
    """This host's row of the matrix; DeployError (naming the host, its OS and the list) if none."""
    try:
        return platforms.for_host(host.get_fact(OsRelease), role())
    except platforms.UnsupportedPlatform as error:
        raise DeployError(f"host {host.name} {error}. Nothing was changed on any host.") from None


def install(name: str, packages: list[str] | tuple[str, ...], no_recommends: bool = False):
    """Install packages with the platform's package manager (apt: its lists at most an hour old)."""
    if platform().packager == "dnf":
        return dnf.packages(name=name, packages=list(packages))
    return apt.packages(
        name=name, packages=list(packages), update=True, cache_time=3600, no_recommends=no_recommends
    )


def preflight() -> None:
    """Before anything changes on any host: the OS is in the matrix, and apt is free.

    pyinfra runs this for every host of the run while it prepares the operations,
    so a refused host stops the run before any operation is executed anywhere.
    """
    this = platform()
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
    busy = host.get_fact(AptBusyAfterWait, seconds=host.data.apt_wait_seconds)
    if busy:
        raise DeployError(
            f"host {host.name}: apt is still held by {', '.join(busy)} after {host.data.apt_wait_seconds} s "
            "(data key apt_wait_seconds): wait for it to finish, or stop it, and run again"
        )
    # Later apt runs wait for a lock taken meanwhile (an apt-daily timer) instead of failing.
    files.put(
        name="apt waits for its lock instead of failing",
        src=_lock_wait_conf(host.data.apt_wait_seconds),
        dest=APT_LOCK_WAIT,
        mode="644",
    )


def _lock_wait_conf(seconds: int):
    from io import StringIO

    return StringIO(f'// Managed by hastack.\nDPkg::Lock::Timeout "{int(seconds)}";\n')
