"""The checkout's lab harness, a pytest plugin beside the checks' own (conftest.py loads both).

Without HASTACK_SITE the tests run against the lab: the lab's site is given to the checks
(known before the lab is up, which collection needs), and the session brings the lab up and
deploys the whole cluster into it first (``deployed``). With HASTACK_SITE set they look at that
site's hosts as they are, as ``hastack verify`` does, and the tests that deploy or break hosts fail
saying they need the lab.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hastack import lab
from hastack.checks import plugin
from hastack.checks.plugin import testinfra_host
from hastack.deploying import run_deploy
from hastack.lab.common import running_command
from hastack.site import parse_site, read_group_data

LAB_MODE = "HASTACK_SITE" not in os.environ
if LAB_MODE:
    # With the group data the lab's deploy reads (pyinfra inventory.py from the checkout:
    # <cwd>/group_data, the checkout's).
    plugin.use_site(parse_site(lab.site_text(), str(lab.SITE_FILE), read_group_data()))

# What the monitoring layer puts on a host, and where it shows in the other tiers' files.
MONITORING_PACKAGES = ["snmpd", "ganglia-monitor", "gmetad", "apache2", "ganglia-webfrontend", "cacti"]
# Where a release has no Ganglia packages: the units that run gmond and gmetad in Docker.
MONITORING_UNITS = ["hastack-gmond", "hastack-gmetad"]
MONITORING_TRACES = {"/opt/hastack/web/conf/nginx.conf": "ganglia", "/etc/haproxy/haproxy.cfg": "cacti"}
# In a fresh lab, the hosts after a deploy with monitoring_enabled false: host ->
# monitoring packages and traces found (None: the lab had monitoring already).
MONITORING_OFF: dict[str, list[str]] | None = None


def monitoring_found(site, name: str) -> list[str]:
    remote = testinfra_host(site, name)
    found = [package for package in MONITORING_PACKAGES if remote.package(package).is_installed]
    found += [unit for unit in MONITORING_UNITS if remote.file(f"/etc/systemd/system/{unit}.service").exists]
    for path, word in MONITORING_TRACES.items():
        if remote.file(path).exists and word in remote.file(path).content_string:
            found.append(f"{word} in {path}")
    return found


def _deploy(site_file: Path, log: str):
    run = run_deploy(site_file, log=lab.LAB_DIR / log)
    if run.returncode != 0:
        tail = "\n".join(run.output.splitlines()[-40:])
        pytest.fail(f"deploys/all.py with {site_file.name} failed against the lab (log .lab/{log}):\n{tail}")
    return run


@pytest.fixture(scope="session")
def deployed(request, site):
    """The cluster, deployed: in the lab, bring it up and run deploys/all.py.

    A fresh lab is deployed twice when a test of the session asks what a deploy
    with monitoring_enabled false leaves (``monitoring_off``): first with it
    false (kept in MONITORING_OFF), then with the lab's site, which switches
    monitoring on later.
    """
    global MONITORING_OFF
    if not LAB_MODE:
        return None
    try:
        lab.up()
    except lab.LabError as error:
        pytest.fail(f"the lab cannot come up, so no lab test can run: {error}")
    wants_off = any("monitoring_off" in item.fixturenames for item in request.session.items)
    if wants_off and not any(monitoring_found(site, name) for name in site.hosts):
        off = lab.derived_site(lab.LAB_DIR / "site-monitoring-off.yaml", monitoring_enabled=False)
        _deploy(off, "deploy-monitoring-off.log")
        MONITORING_OFF = {name: monitoring_found(site, name) for name in site.hosts}
    run = _deploy(lab.SITE_FILE, "deploy.log")
    wait_for_the_tests_beside()
    return run


# ./run's VM tests run beside the lab passes, in a qemu that emulates its CPUs (it would take
# both cores). Where ./run cannot give them a cgroup of small CPU weight, the timed tests
# (drills, Cacti's scheduled polls) wait for them: ./run then gives the process id of their pytest.
BESIDE = "HASTACK_TESTS_BESIDE"


def _running(pid: str) -> bool:
    return any(b"pytest" in arg for arg in running_command(pid) or [])


def wait_for_the_tests_beside(limit_s: float = 2400) -> None:
    pid = os.environ.get(BESIDE, "")
    if not _running(pid):
        return
    print(f"[tests] waiting for the VM tests beside this pass to end (pid {pid})", flush=True)
    deadline = time.monotonic() + limit_s
    while _running(pid):
        if time.monotonic() > deadline:
            # Their own result tells what held them; this pass goes on (its timings may suffer).
            print(f"[tests] the VM tests beside this pass still run after {limit_s:.0f} s: going on")
            return
        time.sleep(5)


@pytest.fixture(scope="session")
def monitoring_off(deployed):
    """What the deploy with monitoring_enabled false left (see ``deployed``)."""
    return MONITORING_OFF


@pytest.fixture(scope="session")
def lab_mode():
    return LAB_MODE


def lab_only_fixture(why: str, autouse: bool = False):
    """The ``lab_only`` fixture of a module whose tests change the lab's hosts: against another
    site (HASTACK_SITE set) each of them fails, saying ``why``."""

    @pytest.fixture(name="lab_only", autouse=autouse)
    def lab_only(lab_mode):
        if not lab_mode:
            pytest.fail(f"{why}, so they run against the lab only (unset HASTACK_SITE)")

    return lab_only


def restart_lab_host(connect, name: str, ready: str = "true", limit_s: float = 120):
    """Restart a lab host (its container: systemd halts and boots again, and its interfaces get
    new indexes) and return a new login to it once ``ready`` succeeds there. sshd answers before
    the boot has finished, so a login may be cut off until then."""
    subprocess.run(["docker", "restart", f"{lab.PREFIX}-{name}"], check=True, capture_output=True)
    lab.up()
    deadline = time.monotonic() + limit_s
    while True:
        try:
            remote = connect(name, fresh=True)
            remote.check_output(ready)
            return remote
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(3)


def hastack_cli(*args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    """A hastack command as a person runs it (this checkout's), its output captured."""
    return subprocess.run(
        [sys.executable, "-m", "hastack.cli", *args], capture_output=True, text=True, timeout=timeout
    )
