"""The pytest plugin of hastack's checks: testinfra against the hosts of a site.

``hastack verify`` loads it (``-p hastack.checks.plugin``) with HASTACK_SITE set: the checks
look at that site's hosts as they are; nothing is deployed. The checkout's own test harness
(tests/harness.py) gives it the lab's site instead (``use_site``) and deploys it first, by
overriding the ``deployed`` fixture.
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
from hastack.site import Site, load_site
from hastack.ssh import site_client
from hastack.topology import ROLES

# `hastack verify --hosts web1,web2`: the checks that take a host run on these only.
HOSTS_ENV = "HASTACK_VERIFY_HOSTS"
NOT_APPLICABLE = "(no host)"

SITE: Site | None = None


def use_site(site: Site) -> None:
    """Check this site (a harness's, such as the lab's) instead of HASTACK_SITE's."""
    global SITE
    SITE = site


def current_site() -> Site:
    """The site the checks look at: the one given to ``use_site``, else HASTACK_SITE's."""
    global SITE
    if SITE is None:
        path = os.environ.get("HASTACK_SITE")
        if not path:
            raise pytest.UsageError(
                "hastack's checks need a site: set HASTACK_SITE (`hastack verify SITE` does)"
            )
        SITE = load_site(path)
    return SITE


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
    """Checks that apply to no host of the site are deselected (see pytest_generate_tests).

    A check that waits for scheduled work (after a fresh deploy, two of Cacti's 5-minute
    polls) runs after the other checks, so that they pass part of the wait; still before
    any test that follows the checks (those may restart hosts)."""
    idle = [
        item
        for item in items
        if getattr(item, "callspec", None) and item.callspec.params.get("host") == NOT_APPLICABLE
    ]
    if idle:
        config.hook.pytest_deselected(items=idle)
        items[:] = [item for item in items if item not in idle]
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
    site = current_site()
    names = [host.name for host in site.hosts.values() if host.role in roles]
    when = metafunc.definition.get_closest_marker("when_set")
    if when:
        # only the hosts whose effective setting is on (the RAID on a host with raid_enabled)
        names = [name for name in names if site.setting(when.args[0], site.hosts[name])]
    only = os.environ.get(HOSTS_ENV)
    if only:
        names = [name for name in names if name in only.split(",")]
    if metafunc.definition.get_closest_marker("one_host"):
        # what every host of the roles would see alike (a page through the VIP): asked once
        names = names[:1]
    # A check with no host to run on (no RAID in the site, none of --hosts) does not apply:
    # it is deselected below, not skipped.
    metafunc.parametrize("host", names or [NOT_APPLICABLE], indirect=True)


def pytest_configure(config):
    config.addinivalue_line("markers", "roles(*roles): run the test on the hosts of these roles")
    config.addinivalue_line("markers", "when_set(key): run the test on the hosts where this setting is on")
    config.addinivalue_line("markers", "one_host: run the test on the first of those hosts only")
    config.addinivalue_line(
        "markers", "after_the_other_checks: waits for scheduled work (Cacti's polls), so it runs last"
    )
    config.addinivalue_line(
        "markers", "lab: breaks or redeploys hosts, so it runs against the lab only (verify leaves it out)"
    )


@pytest.fixture(scope="session")
def site():
    return current_site()


# gmetad's XML: every host it holds and their metrics (its port 8651 answers on loopback only).
GMETAD_XML = (
    "python3 -c \"import socket; s=socket.create_connection(('127.0.0.1', 8651)); "
    "import sys; sys.stdout.write(b''.join(iter(lambda: s.recv(65536), b'')).decode())\""
)


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


@pytest.fixture(scope="session")
def deployed():
    """The cluster as it is: the checks deploy nothing (a harness may override this to deploy)."""
    return None


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


@pytest.fixture
def vip_holders(site, connect):
    """A function: the proxies that hold the VIP now (fresh connections: hosts may have restarted)."""

    def holders() -> list[str]:
        return topology.vip_holders(
            site, lambda name: connect(name, fresh=True).check_output(topology.ADDRESSES_COMMAND)
        )

    return holders
