"""The lab's own promises: up is idempotent, a stopped host comes back, down cleans up.

These run after tests/infra and end with the lab down.
"""

import subprocess
import sys
from pathlib import Path

import pytest

from hastack import lab
from hastack.site import load_site

HASTACK = [str(Path(sys.executable).with_name("hastack"))]


def hastack(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*HASTACK, *args], cwd=lab.ROOT, text=True, capture_output=True)


def lab_objects(kind: str) -> list[str]:
    extra = ["-a"] if kind == "container" else []
    listed = subprocess.run(
        ["docker", kind, "ls", "-q", *extra, "--filter", f"label={lab.LABEL}=1"],
        text=True,
        capture_output=True,
        check=True,
    )
    return listed.stdout.split()


@pytest.fixture(scope="module", autouse=True)
def lab_is_up():
    result = hastack("lab", "up")
    assert result.returncode == 0, result.stderr


def test_up_again_creates_and_starts_nothing():
    result = hastack("lab", "up")
    assert result.returncode == 0, result.stderr
    assert [line for line in result.stdout.splitlines() if "created" in line or "starting" in line] == []


def test_status_shows_every_host_with_ssh():
    result = hastack("lab", "status")
    rows = [line.split() for line in result.stdout.splitlines()[1 : 1 + len(lab.HOSTS)]]
    assert [(row[0], row[2], row[-1]) for row in rows] == [
        (host.name, "running", "yes") for host in lab.HOSTS
    ]


def test_stopped_host_shows_down():
    subprocess.run(["docker", "stop", "hastack-lab-web2"], check=True, capture_output=True)
    result = hastack("lab", "status")
    web2 = next(line.split() for line in result.stdout.splitlines() if line.startswith("web2 "))
    assert (result.returncode, web2[2], web2[-1]) == (1, "exited", "no")


def test_up_brings_a_stopped_host_back_as_it_was():
    result = hastack("lab", "up")
    assert "starting web2" in result.stdout
    hostname = hastack("lab", "ssh", "web2", "head -1 /etc/hosts")
    assert hostname.stdout.startswith("# Managed by hastack"), hostname.stdout + hostname.stderr


def test_the_site_file_and_status_say_which_release_runs():
    running = lab.running_release()
    site = load_site(lab.SITE_FILE)
    status = hastack("lab", "status").stdout
    assert (running in lab.RELEASES, site.lab_debian, f"release: Debian {running}" in status) == (
        True,
        running,
        True,
    )


def test_up_for_another_release_than_the_running_one_is_refused():
    running = lab.running_release()
    other = next(release for release in lab.RELEASES if release != running)
    result = hastack("lab", "up", "--debian", str(other))
    message = f"the lab runs Debian {running}; `hastack lab down` first to bring it up on Debian {other}"
    assert (result.returncode, message in result.stderr, lab.running_release()) == (1, True, running)


def test_down_leaves_no_container_network_or_volume():
    result = hastack("lab", "down")
    assert result.returncode == 0, result.stderr
    assert (lab_objects("container"), lab_objects("network"), lab_objects("volume")) == ([], [], [])


def test_status_after_down_shows_every_host_missing():
    result = hastack("lab", "status")
    states = [line.split()[2] for line in result.stdout.splitlines()[1 : 1 + len(lab.HOSTS)]]
    assert (result.returncode, states) == (1, ["missing"] * len(lab.HOSTS))
