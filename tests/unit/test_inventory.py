"""inventory.py: groups and host data from the site file, and refusal before any connection."""

import os
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

from hastack.defaults import ROOT
from hastack.topology import ROLES

PYINFRA = str(Path(sys.executable).with_name("pyinfra"))


@pytest.fixture
def inventory(fixtures, monkeypatch):
    monkeypatch.setenv("HASTACK_SITE", str(fixtures / "good_site.yaml"))
    return runpy.run_path(str(ROOT / "inventory.py"))


def test_groups(inventory):
    groups = {name: [h for h, _ in inventory[name]] for name in ROLES}
    assert groups == {"proxy": ["proxy1", "proxy2"], "web": ["web1", "web2"], "client": ["client"]}


def test_host_data_carries_addresses(inventory):
    data = dict(inventory["web"])["web2"]
    assert (data["site_addresses"], data["site_disks"]) == (
        {"back": "127.0.1.22"},
        ["/dev/vdb", "/dev/vdc"],
    )


def test_host_data_carries_connection(inventory):
    data = dict(inventory["proxy"])["proxy2"]
    assert (data["ssh_hostname"], data["ssh_user"], data["ssh_key"]) == (
        "127.0.1.12",
        "root",
        "/nonexistent/key",
    )


def test_helpers_are_not_groups(inventory):
    groups = [k for k, v in inventory.items() if isinstance(v, list) and not k.startswith("_")]
    assert sorted(groups) == ["client", "proxy", "web"]


def dry_run(site: Path) -> str:
    """``pyinfra inventory.py deploys/all.py --dry`` on a site file; its whole output."""
    env = {**os.environ, "HASTACK_SITE": str(site)}
    result = subprocess.run(
        [PYINFRA, "inventory.py", "deploys/all.py", "--dry"],
        cwd=ROOT,
        env=env,
        text=True,
        capture_output=True,
        timeout=120,
    )
    return f"exit {result.returncode}\n{result.stdout}{result.stderr}"


def test_pyinfra_stops_on_a_bad_site_before_connecting(fixtures):
    output = dry_run(fixtures / "sites" / "vip_is_host_address.yaml")
    assert (
        output.startswith("exit 0"),
        "vip: 127.0.2.50 is the address of hosts.client.front" in output,
    ) == (
        False,
        True,
    ), output


def test_pyinfra_bad_site_output_mentions_no_connection(fixtures):
    assert "Connecting" not in dry_run(fixtures / "sites" / "one_proxy.yaml")
