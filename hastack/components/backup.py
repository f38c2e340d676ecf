"""Backups with restic (``backup_repository``): the web hosts back up /cluster, the proxies their
Cacti database, each from a daily timer; a repository host of the site gets the SFTP-only account.
What, where and how to restore: hastack/backup.py and docs/operations.md."""

import io
import json
import shlex

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.api.exceptions import DeployError
from pyinfra.facts.files import File
from pyinfra.operations import files, server, systemd

from hastack import backup, secrets, topology
from hastack.components.host_os import install, platform, put_secret, run_timer
from hastack.defaults import ROOT
from hastack.facts.system import ResticRepository

TEMPLATES = ROOT / "templates" / "backup"


def repository() -> backup.Repository | None:
    return backup.parse(host.data.backup_repository) if host.data.backup_repository else None


def sftp_port() -> int:
    """The site's SSH port for a repository host of the site, else SSH's own."""
    repo = repository()
    names = {other["name"] for other in host.data.site_hosts}
    return host.data.ssh_port if repo is not None and repo.host in names else 22


def my_jobs() -> list[str]:
    return backup.jobs(host.data.site_role, host.data.monitoring_enabled)


def config() -> str:
    return (
        json.dumps(
            backup.host_config(
                cluster=host.data.site_cluster,
                host=host.name,
                role=host.data.site_role,
                repository=host.data.backup_repository,
                port=sftp_port(),
                monitoring=host.data.monitoring_enabled,
                mount=host.data.gluster_mount_point,
                peers=[other["name"] for other in topology.in_role(host.data.site_hosts, "web")],
                keep={
                    "daily": host.data.backup_keep_daily,
                    "weekly": host.data.backup_keep_weekly,
                    "monthly": host.data.backup_keep_monthly,
                },
            ),
            indent=1,
        )
        + "\n"
    )


def serve_repository(repo: backup.Repository) -> None:
    """This host is the SFTP repository: a user of its own whose only way in is the site's
    backup key, for SFTP alone, and the repository's folder, its own, 0700. Its home, SSH folder
    and key file are root's: over SFTP the user cannot put another key line in place."""
    _, public = backup.ssh_key(host.data.site_cluster)
    home = f"/var/lib/{repo.user}"
    server.user(
        name=f"The backup repository's user ({repo.user}, SFTP only through its key)",
        user=repo.user,
        home=home,
        shell="/bin/sh",
        system=True,
        # the home is root's (below): pyinfra would otherwise give it to the user at each run
        ensure_home=False,
        create_home=False,
    )
    files.directory(name="Its home, root's", path=home, user="root", group="root", mode="755")
    files.directory(name="Its SSH folder, root's", path=f"{home}/.ssh", user="root", group="root", mode="755")
    files.put(
        name="The site's backup key, for SFTP alone (restrict, sftp-server forced), root's",
        src=io.StringIO(backup.authorized_key(public, repo, host.data.site_cluster)),
        dest=f"{home}/.ssh/authorized_keys",
        user="root",
        group="root",
        mode="644",
    )
    files.directory(
        name=f"The repository's folder ({repo.path}), the backup user's alone",
        path=repo.path,
        user=repo.user,
        group=repo.user,
        mode="700",
    )


def refuse_an_old_restic() -> None:
    """A host whose release ships a restic that cannot read the repository format the others
    make is refused while pyinfra prepares, before any host changes."""
    if repository() is None or not my_jobs() or platform().packager != "apt" or platform().restic_v2:
        return
    raise DeployError(
        f"host {host.name} runs {platform().name}, whose restic is older than 0.14 and cannot read "
        "the repository format (2) that restic makes on the other releases: upgrade the host to a "
        "release with restic 0.14 or later (Debian 12 or 13, Ubuntu 24.04), or set "
        "backup_repository: '' under data: (no backups). Nothing was changed on any host."
    )


def switch_off() -> None:
    timer = f"/etc/systemd/system/{backup.UNIT}.timer"
    if not host.get_fact(File, path=timer):
        return
    systemd.service(
        name="Stop the backup timer (backup_repository is empty)",
        service=f"{backup.UNIT}.timer",
        running=False,
        enabled=False,
    )
    for path in (timer, f"/etc/systemd/system/{backup.UNIT}.service", backup.SCRIPT, backup.WRAPPER):
        files.file(name=f"Remove {path} (no backups)", path=path, present=False)
    for folder, what in ((backup.CONFIG_DIR, "settings and keys"), (backup.DUMP_DIR, "local Cacti dump")):
        files.directory(name=f"Remove the backup {what} (no backups)", path=folder, present=False)
    systemd.daemon_reload(name="Forget the backup units")


@deploy("Backups: restic")
def deploy_backup() -> None:
    if platform().packager != "apt":
        return
    repo = repository()
    if repo is not None and repo.host == host.name:
        serve_repository(repo)
    # One operation every host runs at this line, so one step of pyinfra's order for all: it
    # orders each host's operations, not one host's against another's, and the repository host's
    # account (above) must be there before the first web host makes the repository (below). A
    # first deploy with monitoring off ran that the other way round.
    files.directory(name="hastack's configuration folder", path="/etc/hastack", mode="755")
    jobs = my_jobs()
    if repo is None or not jobs:
        switch_off()
        return
    install("Install restic (the backups) and python3 (their script)", ["restic", "python3"])
    files.directory(name="The backup settings' folder (keys inside)", path=backup.CONFIG_DIR, mode="700")
    put_secret(
        "The repository's password (a generated secret)",
        (secrets.password(host.data.site_cluster, "restic_password") + "\n").encode(),
        backup.PASSWORD,
    )
    if repo.sftp:
        key, _ = backup.ssh_key(host.data.site_cluster)
        put_secret("The site's backup SSH key (SFTP to the repository)", key, backup.SSH_KEY)
    settings = files.put(
        name="The backup settings",
        src=io.StringIO(config()),
        dest=backup.CONFIG,
        mode="600",
    )
    command = backup.sftp_command(repo, sftp_port())
    files.template(
        name=f"restic with the site's repository, for a person ({backup.WRAPPER})",
        src=str(TEMPLATES / "hastack-restic.j2"),
        dest=backup.WRAPPER,
        mode="700",
        repository=shlex.quote(repo.url()),
        password=backup.PASSWORD,
        cache=backup.CACHE_DIR,
        sftp=shlex.quote(command) if command else "",
    )
    files.directory(name="restic's cache", path=backup.CACHE_DIR, mode="700")
    files.put(
        name="The backup script", src=str(TEMPLATES / "hastack-backup.py"), dest=backup.SCRIPT, mode="755"
    )
    role = host.data.site_role
    index = [other["name"] for other in topology.in_role(host.data.site_hosts, role)].index(host.name)
    calendar = backup.schedule(host.data.backup_time, role, index)
    unit = files.put(
        name=f"The backup as a service ({backup.UNIT}.service)",
        src=str(TEMPLATES / "hastack-backup.service"),
        dest=f"/etc/systemd/system/{backup.UNIT}.service",
        mode="644",
    )
    timer = files.template(
        name=f"The backup daily at {calendar[6:11]} ({backup.UNIT}.timer, backup_time)",
        src=str(TEMPLATES / "hastack-backup.timer.j2"),
        dest=f"/etc/systemd/system/{backup.UNIT}.timer",
        calendar=calendar,
    )
    web = [other["name"] for other in topology.in_role(host.data.site_hosts, "web")]
    if web and host.name == web[0]:
        # one host makes the repository, once, after the repository host's account is there
        state = host.get_fact(ResticRepository, wrapper=backup.WRAPPER)
        server.shell(
            name="The backup repository there (made on first use: restic init)",
            commands=[f"{backup.SCRIPT} --init"],
            _if=lambda: state != "ready" or settings.did_change(),
        )
    run_timer(backup.UNIT, "the backup", unit, timer)
