"""Backups with restic: what each host backs up, where, and ``hastack backup`` / ``hastack
restore`` from the machine that runs pyinfra (the controller).

- Web hosts back up ``/cluster``'s content (one series for the site: the first web host whose
  timer fires takes it, the others see a fresh snapshot and skip), then apply the retention.
- Proxies back up a consistent dump of their Cacti database (``mysqldump --single-transaction``).
- The controller's secrets folder (the site's passwords, keys and CA) is streamed as a tar over
  SSH to the first web host's restic (never written on a host) and checked back by checksum.

Every host that backs up holds the repository's password (``/etc/hastack/backup/password``,
0600) and, for an SFTP repository, its own copy of the site's backup SSH key, accepted on the
repository host for SFTP only (``restrict`` and ``sftp-server`` as the forced command).
"""

from __future__ import annotations

import hashlib
import io
import re
import tarfile
from dataclasses import dataclass
from pathlib import Path

from hastack import secrets

CONFIG_DIR = "/etc/hastack/backup"
CONFIG = f"{CONFIG_DIR}/config.json"
PASSWORD = f"{CONFIG_DIR}/password"
SSH_KEY = f"{CONFIG_DIR}/id_ed25519"
KNOWN_HOSTS = f"{CONFIG_DIR}/known_hosts"
SCRIPT = "/usr/local/sbin/hastack-backup"
# restic with the site's repository, for a person at the host: hastack-restic snapshots
WRAPPER = "/usr/local/sbin/hastack-restic"
UNIT = "hastack-backup"
CACHE_DIR = "/var/cache/hastack-restic"
# The Cacti dump restic reads (kept between runs: a local copy too; 0600 in a 0700 folder).
DUMP_DIR = "/var/lib/hastack/backup"
SFTP_SERVER = "/usr/lib/openssh/sftp-server"
# The tags of the three kinds of snapshot.
CLUSTER, CACTI, SECRETS = "cluster", "cacti", "secrets"
# A web host whose timer fires finds a snapshot of /cluster younger than this: it skips.
FRESH_HOURS = 20
# The web hosts' timers fire this many minutes apart, after the proxies' (at backup_time).
STAGGER_MINUTES = 15

SFTP_RE = re.compile(
    r"^sftp:(?P<user>[a-z_][a-z0-9_-]{0,31})@(?P<host>[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?):(?P<path>/\S*)$"
)
TIME_RE = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")


@dataclass(frozen=True)
class Repository:
    """Where the snapshots go: SFTP to ``user@host:path``, or a folder (``host`` None)."""

    path: str
    user: str | None = None
    host: str | None = None

    @property
    def sftp(self) -> bool:
        return self.host is not None

    def url(self) -> str:
        return f"sftp:{self.user}@{self.host}:{self.path}" if self.sftp else self.path


def parse(value: str) -> Repository | None:
    """The repository a site names, or None when the value is neither form."""
    match = SFTP_RE.match(value)
    if match:
        return Repository(match["path"].rstrip("/") or "/", match["user"], match["host"])
    if value.startswith("/") and not re.search(r"\s", value) and value.rstrip("/"):
        return Repository(value.rstrip("/"))
    return None


def repository_problem(value: str) -> tuple[str, str] | None:
    """A rule for ``backup_repository`` (empty: no backups)."""
    if not value:
        return None
    repo = parse(value)
    if repo is None:
        return (
            f"{value!r} is neither an SFTP repository nor an absolute path",
            "give sftp:USER@HOST:/PATH (a user that is not root) or a folder like /mnt/backup/shop",
        )
    if repo.user == "root":
        return (
            f"{value!r} logs in as root: the backup key would open the whole host",
            "name a user of its own, like sftp:hastack-backup@backup.example.net:/srv/restic/shop",
        )
    if repo.path in ("/", "/cluster") or repo.path.startswith("/cluster/"):
        return f"{value!r} is not a folder of its own", "give a folder of its own, like /srv/restic/shop"
    return None


def time_problem(value: str) -> tuple[str, str] | None:
    if TIME_RE.match(value):
        return None
    return f"{value!r} is not a time of day", "give HH:MM on the hosts' clock, like 02:30"


def schedule(backup_time: str, role: str, index: int) -> str:
    """systemd's OnCalendar for a host: the proxies at ``backup_time``, the web hosts after
    them, ``STAGGER_MINUTES`` apart (the first that fires takes the site's /cluster snapshot)."""
    hours, minutes = (int(part) for part in backup_time.split(":"))
    total = hours * 60 + minutes + (STAGGER_MINUTES * (index + 1) if role == "web" else 0)
    total %= 24 * 60
    return f"*-*-* {total // 60:02d}:{total % 60:02d}:00"


def jobs(role: str, monitoring: bool) -> list[str]:
    """What a host of this role backs up (empty: it takes no part)."""
    if role == "web":
        return [CLUSTER]
    if role == "proxy" and monitoring:
        return [CACTI]
    return []


def sftp_command(repo: Repository, port: int) -> str | None:
    """restic's ``sftp.command``: the site's backup key and its own known hosts (a new repository
    host's key accepted once, then pinned there), never the host's root key or agent."""
    if not repo.sftp:
        return None
    return (
        f"ssh -i {SSH_KEY} -o IdentitiesOnly=yes -o IdentityAgent=none "
        f"-o UserKnownHostsFile={KNOWN_HOSTS} -o StrictHostKeyChecking=accept-new "
        f"-o BatchMode=yes -o ConnectTimeout=15 -o ServerAliveInterval=15 "
        f"-p {port} {repo.user}@{repo.host} -s sftp"
    )


def host_config(
    *,
    cluster: str,
    host: str,
    role: str,
    repository: str,
    port: int,
    monitoring: bool,
    keep: dict[str, int],
    mount: str = "/cluster",
    peers: list[str] | None = None,
) -> dict:
    """The settings the host's backup script reads (/etc/hastack/backup/config.json)."""
    repo = parse(repository)
    assert repo is not None, repository
    return {
        "cluster": cluster,
        "host": host,
        "jobs": jobs(role, monitoring),
        "mount": mount,
        # the other web hosts: one of them at work on /cluster's snapshot, this one skips
        "peers": [peer for peer in peers or [] if peer != host],
        "repository": repo.url(),
        "sftp_command": sftp_command(repo, port),
        "password_file": PASSWORD,
        "cache_dir": CACHE_DIR,
        "dump_dir": DUMP_DIR,
        "fresh_hours": FRESH_HOURS,
        "keep": keep,
    }


def authorized_key(public: str, repo: Repository, cluster: str) -> str:
    """The backup key's line on the repository host: SFTP only, nothing else (no shell, no
    forwarding), rooted nowhere special: the user's own folder rights keep it to the repository."""
    return f'restrict,command="{SFTP_SERVER}" {public} hastack-backup@{cluster}\n'


def ssh_key(cluster: str) -> tuple[Path, str]:
    """The site's backup SSH key (ed25519, made on first use, kept with the secrets): the private
    key's file and the public key's line."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    path = secrets._path(cluster, "backup_ssh_key")
    with secrets.made_alone(path.parent):
        if not path.exists():
            key = ed25519.Ed25519PrivateKey.generate()
            secrets._write(
                path,
                key.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.OpenSSH,
                    serialization.NoEncryption(),
                ),
            )
    key = serialization.load_ssh_private_key(path.read_bytes(), None)
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return path, public.decode()


def secrets_tar(cluster: str) -> bytes:
    """The controller's secrets folder of the site as a tar (in memory: never on a disk)."""
    folder = secrets.secrets_dir(cluster)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        tar.add(folder, arcname=cluster)
    return buffer.getvalue()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
