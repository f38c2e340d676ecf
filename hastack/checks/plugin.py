"""The pytest plugin of hastack's checks: testinfra against the hosts of a site.

``hastack verify`` loads it (``-p hastack.checks.plugin``), and so does the
checkout's conftest.py for the test suite. With HASTACK_SITE set the checks
look at that site's hosts as they are (nothing is deployed). Without it (in a
checkout) they run against the lab: the session brings the lab up and deploys
the whole cluster into it first.
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path

import pytest
import testinfra
import testinfra.backend
import testinfra.host

from hastack import platforms, topology
from hastack.site import Site, load_site, parse_site, read_group_data
from hastack.ssh import site_client
from hastack.topology import ROLES

SITE_PATH = os.environ.get("HASTACK_SITE")
LAB_MODE = SITE_PATH is None


def _site() -> Site:
    if not LAB_MODE:
        # With the group data pyinfra reads for inventory.py: <cwd>/group_data, the checkout's.
        return load_site(SITE_PATH)
    from hastack import lab

    # In the lab the site is known before the lab is up, which collection needs; the group
    # data is what the lab's deploy (pyinfra inventory.py, from the checkout) reads too.
    return parse_site(lab.site_text(), str(lab.SITE_FILE), read_group_data())


SITE = _site()


def site_host_name(host, site) -> str:
    """The site's name of the host a testinfra host is connected to."""
    address = host.backend.host.name
    return next(h.name for h in site.hosts.values() if h.connect_address == address)


_platforms: dict[str, platforms.Platform] = {}


def host_platform(host, site) -> platforms.Platform:
    """The matrix's row for the host's /etc/os-release (what the deploy chose there)."""
    name = site_host_name(host, site)
    if name not in _platforms:
        os_release = platforms.parse_os_release(host.file("/etc/os-release").content_string)
        _platforms[name] = platforms.for_host(os_release, site.hosts[name].role)
    return _platforms[name]


def back_url(site, name: str, path: str = "/") -> str:
    """A URL on a host's back address, at the site's web port for that host."""
    spec = site.hosts[name]
    return f"http://{spec.addresses['back']}:{site.setting('web_port', spec)}{path}"


def get_from_proxy(
    connect, site, url: str, timeout: float = 5, headers: dict | None = None
) -> tuple[int, str]:
    """(status, body) of a GET run on the first proxy: with the firewall on, only the proxies
    reach the web hosts' port (what HAProxy needs), so a check of NGINX goes from there."""
    proxy = connect(site.hosts_in("proxy")[0].name)
    options = " ".join(f"-H {shlex.quote(f'{key}: {value}')}" for key, value in (headers or {}).items())
    result = proxy.run(f"curl -s -m {timeout} {options} -w '\\n%{{http_code}}' {shlex.quote(url)}")
    body, _, status = result.stdout.rpartition("\n")
    return (int(status) if status.strip().isdigit() else 0), body


def pytest_collection_modifyitems(session, config, items):
    """A check that waits for scheduled work (after a fresh deploy, two of Cacti's 5-minute
    polls) runs after the other checks, so that they pass part of the wait; still before
    any test that follows the checks (those may restart hosts)."""
    waiting = [item for item in items if item.get_closest_marker("after_the_other_checks")]
    if not waiting:
        return
    rest = [item for item in items if item not in waiting]
    checks = Path(__file__).parent
    last = max(
        (number for number, item in enumerate(rest) if Path(str(item.fspath)).parent == checks),
        default=len(rest) - 1,
    )
    items[:] = rest[: last + 1] + waiting + rest[last + 1 :]


def pytest_generate_tests(metafunc):
    """Tests that take ``host`` run once per host; ``@pytest.mark.roles(...)`` narrows it."""
    if "host" not in metafunc.fixturenames:
        return
    marker = metafunc.definition.get_closest_marker("roles")
    roles = marker.args if marker else ROLES
    names = [host.name for host in SITE.hosts.values() if host.role in roles]
    metafunc.parametrize("host", names, indirect=True)


def pytest_configure(config):
    config.addinivalue_line("markers", "roles(*roles): run the test on the hosts of these roles")
    config.addinivalue_line(
        "markers", "after_the_other_checks: waits for scheduled work (Cacti's polls), so it runs last"
    )
    config.addinivalue_line(
        "markers", "lab: breaks or redeploys hosts, so it runs against the lab only (verify leaves it out)"
    )


@pytest.fixture(scope="session")
def site():
    return SITE


# gmetad's XML: every host it holds and their metrics (its port 8651 answers on loopback only).
GMETAD_XML = (
    "python3 -c \"import socket; s=socket.create_connection(('127.0.0.1', 8651)); "
    "import sys; sys.stdout.write(b''.join(iter(lambda: s.recv(65536), b'')).decode())\""
)
# What the monitoring layer puts on a host, and where it shows in the other tiers' files.
MONITORING_PACKAGES = ["snmpd", "ganglia-monitor", "gmetad", "apache2", "ganglia-webfrontend", "cacti"]
# Where a release has no Ganglia packages: the units that run gmond and gmetad in Docker.
MONITORING_UNITS = ["hastack-gmond", "hastack-gmetad"]
MONITORING_TRACES = {"/opt/hastack/web/conf/nginx.conf": "ganglia", "/etc/haproxy/haproxy.cfg": "cacti"}
# In a fresh lab, the hosts after a deploy with monitoring_enabled false: host ->
# monitoring packages and traces found (None: the lab had monitoring already).
MONITORING_OFF: dict[str, list[str]] | None = None


def testinfra_host(site, name: str) -> testinfra.host.Host:
    """A new testinfra host for a site host, reached over SSH like pyinfra reaches it.

    Its connection checks the host's key against the site's known hosts, as the deploy does
    (testinfra's own paramiko client would accept any key).
    """
    key = site.ssh.key and str(Path(site.ssh.key).expanduser())
    url = f"paramiko://{site.ssh.user}@{site.hosts[name].connect_address}:{site.ssh.port}"
    # A non-root user reads what the checks need through sudo, as the deploys do.
    backend = testinfra.backend.get_backend(
        url, ssh_identity_file=key, timeout=30, sudo=site.ssh.user != "root"
    )
    backend.__dict__["client"] = site_client(site, name)  # its cached property `client`
    remote = testinfra.host.Host(backend)
    backend.set_host(remote)
    return remote


def monitoring_found(site, name: str) -> list[str]:
    remote = testinfra_host(site, name)
    found = [package for package in MONITORING_PACKAGES if remote.package(package).is_installed]
    found += [unit for unit in MONITORING_UNITS if remote.file(f"/etc/systemd/system/{unit}.service").exists]
    for path, word in MONITORING_TRACES.items():
        if remote.file(path).exists and word in remote.file(path).content_string:
            found.append(f"{word} in {path}")
    return found


def _deploy(site_file: Path, log: str):
    from hastack import lab
    from hastack.deploying import run_deploy

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
    from hastack import lab

    try:
        lab.up()
    except lab.LabError as error:
        pytest.fail(f"the lab cannot come up, so no lab test can run: {error}")
    wants_off = any("monitoring_off" in item.fixturenames for item in request.session.items)
    if wants_off and not any(monitoring_found(site, name) for name in site.hosts):
        off = lab.derived_site(lab.LAB_DIR / "site-monitoring-off.yaml", monitoring_enabled=False)
        _deploy(off, "deploy-monitoring-off.log")
        MONITORING_OFF = {name: monitoring_found(site, name) for name in site.hosts}
    return _deploy(lab.SITE_FILE, "deploy.log")


@pytest.fixture(scope="session")
def monitoring_off(deployed):
    """What the deploy with monitoring_enabled false left (see ``deployed``)."""
    return MONITORING_OFF


_connections: dict[str, testinfra.host.Host] = {}


@pytest.fixture(scope="session")
def connect(site, deployed):
    """A function from host name to a testinfra host, reached over SSH like pyinfra reaches it."""

    def connect_to(name: str, fresh: bool = False) -> testinfra.host.Host:
        """``fresh``: a new connection, for a host that was restarted."""
        if fresh or name not in _connections:
            _connections[name] = testinfra_host(site, name)
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
        return topology.vip_holders(
            site, lambda name: connect(name, fresh=True).check_output(topology.ADDRESSES_COMMAND)
        )

    return holders
