"""Changes to how a host is reached (its network, its firewall), applied with a way back.

The host itself runs the change in a transient unit (so that a cut SSH session cannot stop
it halfway), after arming a timer that undoes it; the machine running pyinfra then opens a
*new* SSH login and confirms. Without a confirmation within the bound, the host undoes the
change by itself when its timer fires, the run fails naming the host, and the hosts after it
in the run are not changed (callers run this host by host, ``_serial=True``).

The switch script on the host takes ``apply ARGS... SECONDS`` (arm, change, mark applied or
failed) and ``confirm`` (exit 0: kept; 3: the apply has not finished; 4: it failed and was
undone; 5: no confirmation came in time and the host has put the previous state back: its
timer and this side's deadline are the same length, so a login in the last second may find
the old state back).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import paramiko
from pyinfra import host
from pyinfra.api import OperationError, StringCommand

from hastack.ssh import ssh_client


@dataclass
class Guard:
    """One kind of change: its name, its switch script on the host, and the hosts where it
    already failed in this run (which stops it on the hosts after them)."""

    what: str  # "network", "firewall"
    switch: str
    action: str  # what the host runs, as the person reads it: "`netplan apply`"
    unit: str  # the transient unit that runs the apply on the host
    failed: list[str] = field(default_factory=list)


def apply_confirmed(guard: Guard, args: list[str], seconds: int, hint: str) -> None:
    """Run ``switch apply ARGS SECONDS`` on this host and keep it only after a new SSH login
    confirms it within ``seconds``; ``hint`` tells the person what to check if none came."""
    if guard.failed:
        raise OperationError(
            f"host {host.name}: its {guard.what} was not changed, because the change failed on "
            f"{', '.join(guard.failed)} first"
        )
    sudo = bool(host.data.get("_sudo"))
    started, output = host.run_shell_command(
        StringCommand(
            f"systemd-run --quiet --collect --unit={guard.unit} "
            f"sh {guard.switch} apply {' '.join(args)} {seconds}"
        ),
        _sudo=sudo,
    )
    if not started:
        guard.failed.append(host.name)
        raise OperationError(f"host {host.name}: the {guard.what} switch did not start: {output.stderr}")
    confirm = f"{'sudo -n ' if sudo else ''}sh {guard.switch} confirm"
    started_at = time.monotonic()
    deadline, status, said, reached = started_at + seconds, None, "", False
    # What the host's own check said last (status 6) and when, kept when a later login fails or
    # finds the previous state back: a starved host's timer can fire before this side's last
    # login (a CI run, 2026-12-06, said something else after the host had said why for 2 minutes).
    check_said, check_at = "", 0.0
    while time.monotonic() < deadline and status not in (0, 4, 5):
        time.sleep(1)
        status, said = _confirm_over_a_new_login(confirm)
        reached = reached or status is not None
        if status == 6:
            check_said, check_at = said.strip(), time.monotonic() - started_at
    if status == 0:
        return
    guard.failed.append(host.name)
    undo = "the host undoes the change by itself when its timer fires"
    if status == 6:
        raise OperationError(
            f"host {host.name}: a new SSH login worked after {guard.action}, but for {seconds} s the "
            f"host's own check said: {check_said}: {undo}. {hint}"
        )
    if check_said and status == 5:
        raise OperationError(
            f"host {host.name}: a new SSH login worked after {guard.action}, but the host's own check "
            f"said: {check_said} (its last answer, {check_at:.0f} s after the change); then the host "
            f"put the previous state back by itself, its {seconds} s up. {hint}"
        )
    if check_said and status is None:
        raise OperationError(
            f"host {host.name}: a new SSH login worked after {guard.action}, and the host's own check "
            f"said: {check_said} (its last answer, {check_at:.0f} s after the change); no new SSH login "
            f"to {host.data.ssh_hostname} worked after it within {seconds} s: {undo}. {hint}"
        )
    if status == 4:
        raise OperationError(f"host {host.name}: {guard.action} failed; the change was undone. {hint}")
    if status == 5:
        raise OperationError(
            f"host {host.name}: no new SSH login to {host.data.ssh_hostname} within {seconds} s after "
            f"{guard.action}: the host has put the previous state back by itself. {hint}"
        )
    if status == 3:
        raise OperationError(
            f"host {host.name}: a new SSH login worked, but {guard.action} had not finished within "
            f"{seconds} s: {undo}. {hint}"
        )
    if status is not None:
        raise OperationError(
            f"host {host.name}: a new SSH login ran `{confirm}`, which exited {status} (not the "
            f"switch's answer: is the script there, may the user run it?): {undo}. {hint}"
        )
    earlier = f" (one worked earlier, while {guard.action} ran)" if reached else ""
    raise OperationError(
        f"host {host.name}: no new SSH login to {host.data.ssh_hostname} within {seconds} s after "
        f"{guard.action}{earlier}: {undo}. {hint}"
    )


def _confirm_over_a_new_login(command: str) -> tuple[int | None, str]:
    """(exit status, what it printed) of ``command`` over a new SSH login; (None, "") when no
    login worked."""
    try:
        client = ssh_client(
            host.data.ssh_hostname,
            port=host.data.ssh_port,
            user=host.data.ssh_user,
            key=host.data.get("ssh_key"),
            known_hosts=host.data.get("ssh_known_hosts_file"),
            timeout=5,
        )
    except (OSError, paramiko.SSHException):
        return None, ""
    try:
        # the host's own checks may take a while (the package mirror: 20 s at most)
        _, stdout, _ = client.exec_command(command, timeout=60)
        said = stdout.read().decode(errors="replace")
        return stdout.channel.recv_exit_status(), said
    except (OSError, paramiko.SSHException):
        return None, ""
    finally:
        client.close()
