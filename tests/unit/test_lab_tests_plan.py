"""The lab's tests find every fixture they ask for: pytest's setup plan of the lab suites (it
sets nothing up, so it needs no lab). A fixture lost from tests/harness.py errored every lab
test in CI, an hour in; this says so in seconds."""

import subprocess
import sys

from hastack.defaults import ROOT


def test_every_lab_test_finds_its_fixtures():
    plan = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--setup-plan"]
        + ["tests/infra", "tests/drills", "tests/lab", "tests/vm"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    missing = sorted({line.strip() for line in plan.stdout.splitlines() if "not found" in line})
    assert (plan.returncode, missing) == (0, []), plan.stdout[-3000:]
