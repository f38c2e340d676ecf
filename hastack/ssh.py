"""One SSH runner (paramiko) for everything hastack does on a host outside pyinfra: the
bench, the drills and the RAID VM."""

from __future__ import annotations

import subprocess
from pathlib import Path

import paramiko

from hastack.site import Site


class SshRunner:
    """Commands on one host over SSH.

    Host keys: with ``known_hosts``, that file's keys and new ones accepted once (as pyinfra's
    accept-new); with ``trust_any`` (a throwaway VM on loopback whose keys come with each
    image), any key, remembered nowhere; else the system's known hosts, unknown keys refused.
    """

    def __init__(
        self,
        address: str,
        port: int = 22,
        user: str = "root",
        key: str | None = None,
        known_hosts: str | None = None,
        trust_any: bool = False,
        timeout: float = 30,
    ):
        self.client = paramiko.SSHClient()
        if trust_any:
            self.client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
        elif known_hosts:
            known = Path(known_hosts).expanduser()
            if known.exists():
                self.client.load_host_keys(str(known))
            self.client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
        else:
            self.client.load_system_host_keys()
            self.client.set_missing_host_key_policy(paramiko.RejectPolicy())
        self.address = address
        self.client.connect(
            address,
            port=port,
            username=user,
            key_filename=str(Path(key).expanduser()) if key else None,
            timeout=timeout,
            allow_agent=not trust_any,
            look_for_keys=not trust_any,
        )

    @classmethod
    def to_host(cls, site: Site, name: str) -> SshRunner:
        """A site host, reached as pyinfra reaches it (the site's SSH settings)."""
        return cls(
            site.hosts[name].connect_address,
            port=site.ssh.port,
            user=site.ssh.user,
            key=site.ssh.key,
            known_hosts=site.ssh.known_hosts,
        )

    def execute(self, command: str, timeout: float = 900) -> subprocess.CompletedProcess:
        """The command's exit status, standard output and error (-1: the connection died)."""
        _, stdout, stderr = self.client.exec_command(command, timeout=timeout)
        out, err = stdout.read().decode(errors="replace"), stderr.read().decode(errors="replace")
        return subprocess.CompletedProcess(command, stdout.channel.recv_exit_status(), out, err)

    def run(self, command: str, timeout: float = 900) -> tuple[int, str]:
        """(exit status, output and errors together)."""
        result = self.execute(command, timeout)
        return result.returncode, result.stdout + result.stderr

    def get(self, remote: str, local: Path) -> None:
        with self.client.open_sftp() as sftp:
            sftp.get(remote, str(local))

    def close(self) -> None:
        self.client.close()
