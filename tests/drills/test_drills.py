"""The cluster as a person checks it: verify holds, and the drills lose no data.

Runs against the lab (deployed first when needed) with the hastack commands
themselves, as a person would; their tables are printed.
"""

import subprocess
import sys
from pathlib import Path

import pytest

from hastack import lab

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
