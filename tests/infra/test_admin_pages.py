"""The admin pages through the VIP answer an address that the site's admin_web_networks lists.
In the lab that is this machine alone (the front network's gateway): Cacti and Ganglia answer it
200, as they answer 403 to the customers' client (hastack/checks/test_proxy.py, in every verify,
reads the other side)."""

import ipaddress
import socket

import pytest

from hastack.probe import http_get

pytestmark = pytest.mark.lab

# What each page says it is (hastack/checks/test_monitoring.py asks the same from a proxy).
PAGES = {"/cacti/": "<title>Login to Cacti</title>", "/ganglia/": "<title>Ganglia::"}


def source_toward(address: str, port: int) -> str:
    """This machine's own address on its way to ``address``: what HAProxy sees as the source."""
    with socket.create_connection((address, port), timeout=5) as sock:
        return sock.getsockname()[0]


def test_cacti_and_ganglia_answer_200_to_an_address_in_admin_web_networks(site, deployed):
    if not site.setting("monitoring_enabled"):
        pytest.fail("the site deploys no monitoring (monitoring_enabled: false): no admin page to ask for")
    networks = site.proxy_setting("admin_web_networks")
    me = ipaddress.ip_address(source_toward(str(site.vip), site.proxy_setting("https_port")))
    if not any(me in ipaddress.ip_network(network, strict=False) for network in networks):
        pytest.fail(
            f"this machine ({me}) is not in admin_web_networks {networks}: the test asks from an "
            "address the site lists, as the lab's site lists this machine"
        )
    got = {}
    for page, title in PAGES.items():
        status, body = http_get(site.url(page), timeout=20, cafile=site.probe_ca(), address=str(site.vip))
        got[page] = (status, title in body)
    assert got == dict.fromkeys(PAGES, (200, True)), (
        f"{me} is in admin_web_networks {networks}, yet through the VIP {site.vip} (status, the "
        f"page's own title): {got}"
    )
