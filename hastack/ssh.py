"""One SSH runner (paramiko) for everything hastack does on a host outside pyinfra: the
bench, the drills and the RAID VM."""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

import paramiko

from hastack.site import Site


def ssh_client(
    address: str,
    port: int = 22,
    user: str = "root",
    key: str | None = None,
    known_hosts: str | None = None,
    trust_any: bool = False,
    timeout: float = 30,
) -> paramiko.SSHClient:
    """A connected paramiko client, host keys checked as pyinfra checks them for the site.

    With ``known_hosts``: that file's keys (a different key is refused) and new ones accepted
    once, remembered nowhere (as pyinfra's accept-new); with ``trust_any`` (a throwaway VM on
    loopback whose keys come with each image), any key; else the system's known hosts, unknown
    keys refused.
    """
    client = paramiko.SSHClient()
    if trust_any:
        client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    elif known_hosts:
        known = Path(known_hosts).expanduser()
        if known.exists():
            client.load_host_keys(str(known))
        client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    else:
        client.load_system_host_keys()
        client.set_missing_host_key_policy(paramiko.RejectPolicy())
    client.connect(
        address,
        port=port,
        username=user,
        key_filename=str(Path(key).expanduser()) if key else None,
        timeout=timeout,
        allow_agent=not trust_any,
        look_for_keys=not trust_any,
    )
    return client


def site_client(site: Site, name: str, timeout: float = 30) -> paramiko.SSHClient:
    """A site host, reached as pyinfra reaches it (the site's SSH settings and known hosts)."""
    return ssh_client(
        site.hosts[name].connect_address,
        port=site.ssh.port,
        user=site.ssh.user,
        key=site.ssh.key,
        known_hosts=site.ssh.known_hosts,
        timeout=timeout,
    )


class SshRunner:
    """Commands on one host over SSH (host keys: see ``ssh_client``)."""

    def __init__(self, address: str, client: paramiko.SSHClient | None = None, **connect):
        """A runner on this client, or on a new one (``connect``: ``ssh_client``'s arguments)."""
        self.client = client or ssh_client(address, **connect)
        self.address = address

    @classmethod
    def to_host(cls, site: Site, name: str) -> SshRunner:
        """A site host, reached as pyinfra reaches it (the site's SSH settings)."""
        return cls(site.hosts[name].connect_address, client=site_client(site, name))

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


class SiteHosts:
    """One SSH connection per host of a site, opened on first use (None: it does not answer);
    commands run as root (through ``sudo -n`` for another SSH user), each at most ``timeout`` s.
    `hastack status` and `hastack maintenance` ask the hosts through it."""

    def __init__(self, site: Site, timeout: float = 20) -> None:
        self.site = site
        self.timeout = timeout
        self.runners: dict[str, SshRunner | None] = {}
        self.errors: dict[str, str] = {}
        self.sudo = "" if site.ssh.user == "root" else "sudo -n "

    def connect(self, name: str) -> SshRunner | None:
        if name not in self.runners:
            try:
                self.runners[name] = SshRunner.to_host(self.site, name)
            except Exception as error:  # noqa: BLE001 - any failure to connect is "does not answer"
                self.runners[name] = None
                self.errors[name] = str(error).splitlines()[0] if str(error) else type(error).__name__
        return self.runners[name]

    def run(self, name: str, command: str, timeout: float | None = None) -> tuple[int, str]:
        """(exit status, output; with errors when it failed); 255: the host did not answer."""
        runner = self.connect(name)
        if runner is None:
            return 255, self.errors.get(name, "does not answer")
        try:
            done = runner.execute(f"{self.sudo}sh -c {shlex.quote(command)}", timeout=timeout or self.timeout)
        except Exception as error:  # noqa: BLE001 - a host that stops answering mid-way
            # its connection is dead: the next command opens a new one
            self.forget(name)
            return 255, str(error)
        # what succeeded is read from its output alone (a warning on stderr would spoil XML)
        return done.returncode, done.stdout if done.returncode == 0 else done.stdout + done.stderr

    def feed(self, name: str, command: str, data: bytes, timeout: float | None = None) -> tuple[int, str]:
        """``run``, with ``data`` on the command's standard input (then its end)."""
        runner = self.connect(name)
        if runner is None:
            return 255, self.errors.get(name, "does not answer")
        try:
            stdin, stdout, stderr = runner.client.exec_command(
                f"{self.sudo}sh -c {shlex.quote(command)}", timeout=timeout or self.timeout
            )
            stdin.write(data)
            stdin.channel.shutdown_write()
            out, err = stdout.read().decode(errors="replace"), stderr.read().decode(errors="replace")
            status = stdout.channel.recv_exit_status()
        except Exception as error:  # noqa: BLE001 - a host that stops answering mid-way
            self.forget(name)
            return 255, str(error)
        return status, out if status == 0 else out + err

    def forget(self, name: str) -> None:
        """Close ``name``'s connection: the next command opens a new one (after its reboot)."""
        runner = self.runners.pop(name, None)
        self.errors.pop(name, None)
        if runner is not None:
            runner.close()

    def forget_unanswered(self) -> None:
        """Forget the hosts that did not answer: the next command tries them again."""
        for name in [name for name, runner in self.runners.items() if runner is None]:
            self.forget(name)

    def first(self, role: str) -> str | None:
        return next((h.name for h in self.site.hosts_in(role) if self.connect(h.name) is not None), None)

    def close(self) -> None:
        for runner in self.runners.values():
            if runner is not None:
                runner.close()
