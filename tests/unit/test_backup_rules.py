"""Backups: the repository's forms, the schedule, what each host backs up, the site's refusals
and the firewall's opening on a repository host of the site, from fixtures."""

import pytest

from hastack import backup, firewall
from hastack.site import SiteError, dump_site, load_site, parse_site


def site_with(fixtures, **data):
    return parse_site(dump_site(load_site(fixtures / "good_site.yaml").document(data)))


def test_the_two_forms_of_a_repository_and_what_is_refused():
    assert (
        backup.parse("sftp:hastack-backup@backup.example.net:/srv/restic/shop/"),
        backup.parse("/mnt/backup/shop"),
        [
            backup.parse(value)
            for value in ("sftp:backup.example.net:/srv", "s3:bucket", "relative/path", "sftp:u@h:rel", "/")
        ],
    ) == (
        backup.Repository("/srv/restic/shop", "hastack-backup", "backup.example.net"),
        backup.Repository("/mnt/backup/shop"),
        [None] * 5,
    )
    assert backup.repository_problem("") is None
    assert "root" in backup.repository_problem("sftp:root@b:/srv/r")[0]
    assert "folder of its own" in backup.repository_problem("/cluster/backup")[0]
    assert "neither" in backup.repository_problem("rest:http://x")[0]


def test_the_proxies_back_up_at_the_time_and_the_web_hosts_after_them_apart():
    assert [
        backup.schedule("02:30", "proxy", 1),
        backup.schedule("02:30", "web", 0),
        backup.schedule("02:30", "web", 1),
        backup.schedule("23:50", "web", 0),
    ] == ["*-*-* 02:30:00", "*-*-* 02:45:00", "*-*-* 03:00:00", "*-*-* 00:05:00"]
    assert backup.time_problem("2:30") and backup.time_problem("24:00") and not backup.time_problem("00:00")
    assert [backup.jobs(role, True) for role in ("web", "proxy", "client")] == [["cluster"], ["cacti"], []]
    assert backup.jobs("proxy", False) == []


def test_the_sftp_command_uses_the_backup_key_alone_and_its_own_known_hosts():
    command = backup.sftp_command(backup.parse("sftp:bk@store:/r"), 2222)
    assert (
        f"-i {backup.SSH_KEY}" in command,
        "IdentitiesOnly=yes" in command,
        f"UserKnownHostsFile={backup.KNOWN_HOSTS}" in command,
        command.endswith("-p 2222 bk@store -s sftp"),
        backup.sftp_command(backup.parse("/mnt/b"), 22),
    ) == (True, True, True, True, None)
    line = backup.authorized_key("ssh-ed25519 AAAA", backup.parse("sftp:bk@store:/r"), "shop")
    assert line == f'restrict,command="{backup.SFTP_SERVER}" ssh-ed25519 AAAA hastack-backup@shop\n'


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("sftp:root@proxy2:/srv/r", "logs in as root"),
        ("sftp:bk@web1:/srv/r", "web host"),
        ("sftp:bk@client:/srv/r", "no back address"),
        ("backup.example.net:/srv", "neither an SFTP repository"),
    ],
)
def test_a_repository_the_web_hosts_cannot_reach_or_would_lose_is_refused(fixtures, value, words):
    with pytest.raises(SiteError) as error:
        site_with(fixtures, backup_repository=value)
    assert "backup_repository" in error.value.report() and words in error.value.report()


def test_a_backup_key_set_for_one_host_is_refused(fixtures):
    document = load_site(fixtures / "good_site.yaml").document({})
    document["hosts"]["web1"].setdefault("data", {})["backup_time"] = "04:00"
    with pytest.raises(SiteError) as error:
        parse_site(dump_site(document))
    assert "hosts.web1.data.backup_time" in error.value.report()


def test_the_repository_host_opens_ssh_to_the_hosts_that_back_up_and_nothing_without_backups(fixtures):
    def backup_rules(site, name):
        return [
            (rule.ports, rule.sources) for rule in firewall.for_site_host(site, name) if "backups" in rule.why
        ]

    on = site_with(fixtures, backup_repository="sftp:bk@proxy2:/srv/restic")
    off = site_with(fixtures)
    assert (backup_rules(on, "proxy2"), backup_rules(on, "proxy1"), backup_rules(off, "proxy2")) == (
        [(("22",), ("127.0.1.11", "127.0.1.21", "127.0.1.22"))],
        [],
        [],
    )


def test_the_secrets_tar_holds_the_site_s_secrets_folder(tmp_path, monkeypatch):
    import io
    import tarfile

    monkeypatch.setenv("HASTACK_SECRETS_DIR", str(tmp_path))
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "hacluster_password").write_text("x")
    _, public = backup.ssh_key("shop")
    with tarfile.open(fileobj=io.BytesIO(backup.secrets_tar("shop"))) as tar:
        names = tar.getnames()
    assert (public.startswith("ssh-ed25519 "), sorted(names)) == (
        True,
        ["shop", "shop/backup_ssh_key", "shop/hacluster_password"],
    )
    assert oct((tmp_path / "shop" / "backup_ssh_key").stat().st_mode & 0o777) == "0o600"


def host_script():
    import importlib.util

    from hastack.defaults import ROOT

    spec = importlib.util.spec_from_file_location(
        "hastack_backup_script", ROOT / "templates/backup/hastack-backup.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_host_script_reads_restic_s_times_and_errors():
    """restic's times with 9, 2 or no fractional digits (Go drops trailing zeros) and Z or an
    offset; its error told in a line: ssh's complaint and the Fatal line."""
    script = host_script()
    texts = ("2026-12-05T14:24:43.82434832Z", "2026-12-05T14:24:43.8Z", "2026-12-05T14:24:43+01:00")
    # what Python 3.10's fromisoformat takes: exactly 6 fractional digits (3.11 here takes more)
    assert [script.iso(text) for text in texts] == [
        "2026-12-05T14:24:43.824348+00:00",
        "2026-12-05T14:24:43.800000+00:00",
        "2026-12-05T14:24:43+01:00",
    ]
    assert script.when(texts[0]).isoformat() == "2026-12-05T14:24:43.824348+00:00"
    stderr = (
        b"subprocess ssh: ssh: connect to host proxy2 port 22: Connection refused\n"
        b"Fatal: unable to open repository at sftp:b@proxy2:/r: unable to start the sftp session\n"
    )
    assert script.brief(stderr) == (
        "subprocess ssh: ssh: connect to host proxy2 port 22: Connection refused / "
        "Fatal: unable to open repository at sftp:b@proxy2:/r: unable to start the sftp session"
    )
