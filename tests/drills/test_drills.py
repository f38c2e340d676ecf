"""The cluster as a person checks it: verify holds, and the drills lose no data.

Runs against the lab (deployed first when needed) with the hastack commands
themselves, as a person would; their tables are printed.
"""

import subprocess
import sys
from pathlib import Path

import pytest

from hastack import lab
from hastack.site import dump_site, load_site

HASTACK = str(Path(sys.executable).with_name("hastack"))


@pytest.fixture(scope="module", autouse=True)
def deployed():
    try:
        run = lab.deploy_into_lab()
    except lab.LabError as error:
        pytest.fail(f"the lab cannot come up, so the drills cannot run: {error}")
    assert run.returncode == 0, run.output[-3000:]


def hastack(*args: str) -> subprocess.CompletedProcess:
    result = subprocess.run([HASTACK, *args], cwd=lab.ROOT, text=True, capture_output=True, timeout=3000)
    print(result.stdout[-6000:])
    return result


def test_verify_holds_on_every_host():
    result = hastack("verify", str(lab.SITE_FILE))
    assert (result.returncode, "all checks hold" in result.stdout) == (0, True), result.stderr[-2000:]


@pytest.mark.parametrize("drill", ["haproxy", "proxy", "web", "gluster"])
def test_drill_loses_no_data_and_ends_healthy(drill):
    result = hastack("drill", str(lab.SITE_FILE), drill, "--seconds", "25")
    assert (result.returncode, "| YES |" in result.stdout) == (0, False), result.stderr[-2000:]


def test_raid_drill_in_the_vm_loses_no_data_and_resyncs():
    result = hastack("drill", str(lab.SITE_FILE), "raid", "--seconds", "20")
    assert (result.returncode, "| YES |" in result.stdout, "re-added (resynced)" in result.stdout) == (
        0,
        False,
        True,
    ), result.stderr[-2000:]


@pytest.fixture(scope="module")
def real_servers_site():
    """The lab's hosts under a site file of another name: to hastack, real servers."""
    document = load_site(lab.SITE_FILE).document()
    document.pop("lab")
    path = lab.LAB_DIR / "site-as-real-servers.yaml"
    path.write_text(dump_site(document))
    return path


def test_drills_on_real_servers_need_yes(real_servers_site):
    result = hastack("drill", str(real_servers_site), "web")
    assert (result.returncode, "--yes" in result.stderr) == (2, True)


@pytest.mark.parametrize("drill", ["proxy", "web"])
def test_drill_on_real_servers_resets_the_host_and_waits_for_it(real_servers_site, drill):
    """The real servers' way: a forced reboot; the host comes back by itself (lab hosts restart)."""
    result = hastack("drill", str(real_servers_site), drill, "--yes", "--seconds", "25")
    assert (result.returncode, "reset (forced reboot)" in result.stdout, "| YES |" in result.stdout) == (
        0,
        True,
        False,
    ), result.stderr[-2000:]
