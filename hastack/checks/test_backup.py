"""Backups with restic, where the site names a repository (backup_repository): the daily timer on
the hosts that back up, at the site's time, with the site's repository and retention; the
password and key readable by root alone; an SFTP repository host of the site takes the backup
key for SFTP only. Without a repository: no timer runs. (That a backup restores is shown by
`hastack restore --drill`, not here: verify does not write to the repository.)"""

import json

import pytest

from hastack import backup, topology
from hastack.checks.plugin import host_platform, site_host_name

LAYER = "backup"


def spec(host, site):
    return site.hosts[site_host_name(host, site)]


@pytest.mark.roles("proxy", "web")
def test_the_daily_backup_runs_as_the_site_says(host, site):
    me = spec(host, site)
    if host_platform(host, site).packager != "apt":
        return
    timer = host.service(f"{backup.UNIT}.timer")
    jobs = backup.jobs(me.role, site.setting("monitoring_enabled", me))
    if not site.setting("backup_repository", me) or not jobs:
        assert timer.is_running is False, f"no backups here: `systemctl disable --now {backup.UNIT}.timer`"
        return
    index = [h["name"] for h in topology.in_role(site.topology_hosts(), me.role)].index(me.name)
    calendar = backup.schedule(site.setting("backup_time", me), me.role, index)
    unit = host.check_output(f"systemctl cat {backup.UNIT}.timer")
    result = host.check_output(f"systemctl show -p Result --value {backup.UNIT}.service")
    config = json.loads(host.check_output(f"cat {backup.CONFIG}"))
    password = host.file(backup.PASSWORD)
    assert (
        timer.is_running,
        timer.is_enabled,
        f"OnCalendar={calendar}" in unit,
        result,
        config["repository"],
        config["jobs"],
        config["keep"],
        (password.user, password.mode, password.size > 16),
    ) == (
        True,
        True,
        True,
        "success",
        backup.parse(site.setting("backup_repository", me)).url(),
        jobs,
        {
            "daily": site.setting("backup_keep_daily", me),
            "weekly": site.setting("backup_keep_weekly", me),
            "monthly": site.setting("backup_keep_monthly", me),
        },
        ("root", 0o600, True),
    ), f"`journalctl -u {backup.UNIT}` says why its last run failed; deploy the host again"


def test_the_repository_host_takes_the_backup_key_for_sftp_only(host, site):
    """On the SFTP repository's host, when it is a host of the site: its user's only key is the
    site's backup key, restricted to sftp-server, in a file, folder and home of root's; the
    repository's folder is that user's, 0700."""
    me = spec(host, site)
    value = site.setting("backup_repository", me)
    repo = backup.parse(value) if value else None
    if repo is None or repo.host != me.name:
        return
    home = f"/var/lib/{repo.user}"
    keys = [
        line for line in host.check_output(f"cat {home}/.ssh/authorized_keys").splitlines() if line.strip()
    ]
    folder = host.file(repo.path)
    # root's, written by no one else: over SFTP the key cannot put another key line in place
    owners = [
        (host.file(path).user, host.file(path).mode & 0o022)
        for path in (home, f"{home}/.ssh", f"{home}/.ssh/authorized_keys")
    ]
    assert (
        len(keys),
        all(line.startswith(f'restrict,command="{backup.SFTP_SERVER}" ') for line in keys),
        (folder.is_directory, folder.user, folder.mode),
        owners,
    ) == (1, True, (True, repo.user, 0o700), [("root", 0)] * 3), (
        f"deploy {me.name} again: {home}/.ssh/authorized_keys"
    )


@pytest.mark.roles("proxy", "web")
def test_the_repository_answers_with_the_site_s_password(host, site):
    """Each host that backs up opens the repository (restic cat config, no lock: read only): it
    is there, reachable from this host, and the password and key are the ones it was made with."""
    me = spec(host, site)
    value = site.setting("backup_repository", me)
    if not value or not backup.jobs(me.role, site.setting("monitoring_enabled", me)):
        return
    if host_platform(host, site).packager != "apt":
        return
    opened = host.run(f"{backup.WRAPPER} --no-lock cat config")
    assert opened.rc == 0, (
        f"{me.name} cannot open the backup repository {value}: {opened.stderr.strip()[-400:]}. A new "
        "site: `hastack backup` makes it; else check that the repository host answers from here"
    )
