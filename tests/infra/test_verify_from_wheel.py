"""hastack verify works from an installed wheel, away from the checkout: the checks, the
data key defaults and the plugin are in the package."""

import subprocess
import sys

import pytest

from hastack import lab
from hastack.defaults import ROOT


@pytest.mark.lab
def test_verify_from_an_installed_wheel_holds_on_the_lab(tmp_path, deployed):
    wheels, target = tmp_path / "wheels", tmp_path / "installed"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run(
        [*pip, "wheel", "--no-deps", "-w", str(wheels), str(ROOT)], check=True, capture_output=True
    )
    wheel = next(wheels.glob("hastack-*.whl"))
    subprocess.run([*pip, "install", "--no-deps", "--target", str(target), str(wheel)], check=True)
    result = subprocess.run(
        [sys.executable, "-m", "hastack.cli", "verify", str(lab.SITE_FILE)],
        cwd=tmp_path,
        env={
            "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
            "PYTHONPATH": str(target),
            "HASTACK_SECRETS_DIR": str(ROOT / ".secrets"),
        },
        text=True,
        capture_output=True,
        timeout=1800,
    )
    assert (
        result.returncode,
        "all checks hold" in result.stdout,
        f"of {target}/hastack/checks" in result.stdout,
    ) == (
        0,
        True,
        True,
    ), result.stdout[-3000:] + result.stderr[-2000:]
