"""testinfra against the hosts of a site.

Without HASTACK_SITE the tests run against the lab: the session brings the
lab up and deploys the whole cluster into it first. With HASTACK_SITE set they
check the hosts of that site as they are (nothing is deployed).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import testinfra

from hastack import lab
from hastack.site import load_site, parse_site

SITE_PATH = os.environ.get("HASTACK_SITE")
LAB_MODE = SITE_PATH is None
# In the lab the site is known before the lab is up, which collection needs.
SITE = parse_site(lab.site_text(), str(lab.SITE_FILE)) if LAB_MODE else load_site(SITE_PATH)


def pytest_generate_tests(metafunc):
    """Tests that take ``host`` run once per host; ``@pytest.mark.roles(...)`` narrows it."""
    if "host" not in metafunc.fixturenames:
        return
    marker = metafunc.definition.get_closest_marker("roles")
    roles = marker.args if marker else ("proxy", "web", "client")
    names = [host.name for host in SITE.hosts.values() if host.role in roles]
    metafunc.parametrize("host", names, indirect=True)


def pytest_configure(config):
    config.addinivalue_line("markers", "roles(*roles): run the test on the hosts of these roles")


@pytest.fixture(scope="session")
def site():
    return SITE


@pytest.fixture(scope="session")
def deployed(site):
    """The cluster, deployed: in the lab, bring it up and run deploys/all.py once."""
    if not LAB_MODE:
        return None
    try:
        run = lab.deploy_into_lab()
    except lab.LabError as error:
        pytest.fail(f"the lab cannot come up, so no lab test can run: {error}")
    if run.returncode != 0:
        tail = "\n".join(run.output.splitlines()[-40:])
        pytest.fail(f"deploys/all.py failed against the lab (full log .lab/deploy.log):\n{tail}")
    return run


_connections: dict[str, testinfra.host.Host] = {}


@pytest.fixture(scope="session")
def connect(site, deployed):
    """A function from host name to a testinfra host, reached over SSH like pyinfra reaches it."""

    def connect_to(name: str, fresh: bool = False) -> testinfra.host.Host:
        """``fresh``: a new connection, for a host that was restarted."""
        if fresh or name not in _connections:
            spec = site.hosts[name]
            key = site.ssh.key and str(Path(site.ssh.key).expanduser())
            url = f"paramiko://{site.ssh.user}@{spec.connect_address}:{site.ssh.port}"
            _connections[name] = testinfra.get_host(url, ssh_identity_file=key, timeout=30)
        return _connections[name]

    return connect_to


@pytest.fixture
def host(request, connect):
    """The testinfra host of this test's parameter."""
    return connect(request.param)


@pytest.fixture(scope="session")
def lab_mode():
    return LAB_MODE


@pytest.fixture
def vip_holders(site, connect):
    """A function: the proxies that hold the VIP now (fresh connections: hosts may have restarted)."""

    def holders() -> list[str]:
        return [
            proxy.name
            for proxy in site.hosts_in("proxy")
            if f" {site.vip}/" in connect(proxy.name, fresh=True).check_output("ip -4 -o addr show")
        ]

    return holders
