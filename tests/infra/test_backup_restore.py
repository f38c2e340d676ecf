"""Backups on the lab (restic, SFTP to the repository the lab's site names): 1,000 files written
through the mount are backed up, deleted through the mount (every brick loses them), restored,
and compared by checksum: 0 missing, 0 different. The restore drill agrees, and loads each
proxy's Cacti dump into a scratch schema that holds its devices. The controller's secrets are
backed up and read back. A repository that one web host cannot reach is reported, naming it, the
other web host backs up instead, and the timer's failure is mailed."""

import json
import uuid

import pytest

from hastack import backup, lab
from hastack.backup_run import _site_repository
from tests.harness import hastack_cli, lab_only_fixture
from tests.infra.test_alert_mail import sink, wait_for_mail

pytestmark = pytest.mark.lab

lab_only = lab_only_fixture("these tests write to the lab's volume and its backup repository")

FILES = 1000
# Writes FILES files of 1 to 8 KiB of random bytes (os.urandom) into a folder: python3 on the host.
WRITE = (
    "python3 -c 'import os, sys\n"
    "folder = sys.argv[1]; os.makedirs(folder)\n"
    f"for i in range({FILES}):\n"
    '    open(os.path.join(folder, "f%04d" % i), "wb").write(os.urandom(1024 * (1 + i % 8)))\' '
)


def checksums(host, folder: str) -> dict[str, str]:
    out = host.check_output(f"cd {folder} && find . -type f -exec sha256sum {{}} +")
    return {line.split()[1]: line.split()[0] for line in out.splitlines() if line.strip()}


def snapshots(host) -> list[dict]:
    return json.loads(host.check_output(f"{backup.WRAPPER} snapshots --json"))


def test_files_deleted_through_the_mount_come_back_from_the_backup_with_the_same_checksums(
    lab_only, site, deployed, connect
):
    web1, web2 = connect("web1"), connect("web2")
    mount = site.setting("gluster_mount_point", site.hosts["web1"])
    brick = f"{site.setting('gluster_brick_root', site.hosts['web1'])}/brick"
    name = f".backup-test-{uuid.uuid4().hex[:8]}"
    folder = f"{mount}/{name}"
    web1.check_output(WRITE + folder)
    before = checksums(web1, folder)
    assert len(before) == FILES
    try:
        done = hastack_cli("backup", str(lab.SITE_FILE), timeout=1200)
        table = done.stdout + done.stderr
        assert done.returncode == 0, table
        rows = {line.split()[0]: line for line in done.stdout.splitlines()[1:] if line.strip()}
        assert {"cacti", "cluster", "secrets"} <= set(rows), table
        assert "read back: same checksum" in rows["secrets"], table

        web1.check_output(f"rm -rf {folder}")
        gone = [
            (host_name, connect(host_name).run(f"test -e {path}").rc)
            for host_name, path in (
                ("web1", f"{brick}/{name}"),
                ("web2", f"{brick}/{name}"),
                ("web2", folder),
            )
        ]
        assert [rc for _, rc in gone] == [1, 1, 1], f"still there after rm through the mount: {gone}"

        done = hastack_cli("restore", str(lab.SITE_FILE), "--path", name, timeout=1200)
        assert done.returncode == 0, done.stdout + done.stderr
        after = checksums(web2, folder)
        missing = sorted(set(before) - set(after))
        different = sorted(f for f in before if f in after and after[f] != before[f])
        assert (len(missing), len(different)) == (0, 0), (missing[:5], different[:5])

        done = hastack_cli("restore", str(lab.SITE_FILE), "--drill", "--json", timeout=1200)
        report = json.loads(done.stdout)
        cluster = next(r for what, r in report.items() if what.startswith("cluster drill"))
        cacti = [r for what, r in report.items() if what.startswith("cacti drill")]
        assert (
            done.returncode,
            cluster.get("missing"),
            cluster.get("different"),
            cluster.get("files", 0) >= FILES,
        ) == (
            0,
            0,
            0,
            True,
        ), done.stdout + done.stderr
        assert len(cacti) == len(site.hosts_in("proxy")), report
        assert all(r["devices"] > 0 and r["devices"] == r["live_devices"] for r in cacti), report
    finally:
        web1.run(f"rm -rf {folder}")


def test_a_repository_that_cannot_be_reached_is_named_and_the_next_web_host_backs_up(
    lab_only, site, deployed, connect
):
    """web1 cut off from the repository's SSH port (its own nftables table, removed after):
    `hastack backup` names the repository in web1's /cluster row, takes /cluster from web2 and
    exits 1; web1's timer run fails and mails it to the alert recipients."""
    web1 = connect("web1")
    repo = backup.parse(_site_repository(site))
    before = [s["id"] for s in snapshots(connect("web2")) if "cluster" in (s.get("tags") or [])]
    table = "hastack_test_backup_block"
    web1.check_output(
        f"nft add table inet {table} && nft add chain inet {table} out "
        "'{ type filter hook output priority 0; policy accept; }' && "
        f"nft add rule inet {table} out tcp dport {site.ssh.port} ip daddr "
        f"{site.hosts[repo.host].addresses['back']} reject with tcp reset"
    )
    seen = len(sink(connect))
    try:
        done = hastack_cli("backup", str(lab.SITE_FILE), timeout=600)
        timer_run = web1.run(f"systemctl start {backup.UNIT}.service")
        mail, _ = wait_for_mail(connect, lambda m: "backup FAILED on web1" in m["subject"], 60, seen)
    finally:
        web1.run(f"nft delete table inet {table}; systemctl reset-failed {backup.UNIT}.service")
    out = done.stdout + done.stderr
    rows = [line.split(None, 2) for line in done.stdout.splitlines() if line.startswith("cluster")]
    assert (
        done.returncode,
        [(row[1], "FAILED" in row[2], repo.url() in row[2]) for row in rows],
    ) == (1, [("web1", True, True), ("web2", False, False)]), out
    assert (timer_run.rc, mail is not None and repo.url() in mail["body"]) == (1, True), (timer_run, mail)
    after = [s["id"] for s in snapshots(connect("web2")) if "cluster" in (s.get("tags") or [])]
    assert len(set(after) - set(before)) == 1, (before, after)
