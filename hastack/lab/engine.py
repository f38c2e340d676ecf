"""The Docker engine the lab runs on: the one that answers, or a dockerd hastack starts."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

from hastack.lab.common import LAB_DIR, LabError, run, running_command, say


def docker(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return run(["docker", *args], check=check)


# The dockerd that hastack started itself (none when Docker runs as a service).
DOCKERD_PID = LAB_DIR / "dockerd.pid"


def own_dockerd() -> int | None:
    """The pid of a running dockerd that hastack started, or None."""
    try:
        pid = int(DOCKERD_PID.read_text())
    except (OSError, ValueError):
        return None
    command = running_command(pid)
    return pid if command and command[0].endswith(b"dockerd") else None


def restart_own_dockerd() -> bool:
    """Restart the dockerd hastack started (not one it did not); whether it did."""
    pid = own_dockerd()
    if pid is None:
        return False
    say("restarting the dockerd hastack started, to drop a stale network endpoint")
    os.kill(pid, signal.SIGTERM)
    for _ in range(60):
        if not Path(f"/proc/{pid}").exists():
            break
        time.sleep(1)
    ensure_docker()
    return True


def ensure_docker() -> None:
    """Use the running Docker engine, or start dockerd if none answers."""
    if shutil.which("docker") is None:
        raise LabError("the docker client is not installed: apt-get install docker.io")
    if docker("info", check=False).returncode == 0:
        return
    dockerd = shutil.which("dockerd")
    if dockerd is None:
        raise LabError("no Docker engine answers and dockerd is not installed: apt-get install docker.io")
    LAB_DIR.mkdir(exist_ok=True)
    say("starting dockerd (log: .lab/dockerd.log)")
    with open(LAB_DIR / "dockerd.log", "ab") as log:
        started = subprocess.Popen([dockerd], stdout=log, stderr=log, start_new_session=True)
    DOCKERD_PID.write_text(f"{started.pid}\n")
    for _ in range(60):
        if docker("info", check=False).returncode == 0:
            return
        time.sleep(1)
    raise LabError("dockerd did not answer within 60 s: see .lab/dockerd.log")
