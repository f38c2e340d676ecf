"""`hastack verify`'s netplan check on a host whose site names a card by interface (``nics``):
netplan matches that card by name, the check reads the name (it once read ``macaddress`` only
and raised KeyError), and it fails when the address sits on another card. The netplan file is
the one the deploy renders; the host's `ip -j addr` and file are given."""

import json
from types import SimpleNamespace

import pytest
import yaml

from hastack.checks.test_base import test_netplan_matches_the_interface_that_carries_the_address as check
from hastack.network import netplan_interfaces
from hastack.site import dump_site, load_site
from tests.unit.test_network_templates import render

MACS = {"ens3": "52:54:00:00:00:03", "ens4": "52:54:00:00:00:04"}


class Host:
    """What the check asks of a testinfra host: its address, `ip -j addr show` and a file."""

    def __init__(self, address: str, links: list[dict], files: dict[str, str]):
        self.backend = SimpleNamespace(host=SimpleNamespace(name=address))
        self.links, self.files = links, files

    def check_output(self, command: str) -> str:
        assert command == "ip -j addr show"
        return json.dumps(self.links)

    def file(self, path: str):
        return SimpleNamespace(content_string=self.files[path])


def links(on: dict[str, list[str]]) -> list[dict]:
    """The cards with these addresses (card -> addresses)."""
    return [
        {"ifname": card, "address": mac, "addr_info": [{"local": a} for a in on.get(card, [])]}
        for card, mac in MACS.items()
    ]


@pytest.fixture
def site(fixtures, tmp_path):
    document = load_site(fixtures / "good_site.yaml").document({})
    document["hosts"]["proxy1"]["nics"] = {"back": "ens3"}
    path = tmp_path / "site.yaml"
    path.write_text(dump_site(document))
    return load_site(path)


def proxy1(site, on: dict[str, list[str]]) -> Host:
    spec = site.hosts["proxy1"]
    networks = {name: str(network) for name, network in site.networks.items()}
    addresses = {name: str(address) for name, address in spec.addresses.items()}
    found = {card: {"mac": mac, "addresses": []} for card, mac in MACS.items()}
    found["ens4"]["addresses"] = [f"{addresses['front']}/24"]
    interfaces = netplan_interfaces(addresses, networks, dict(spec.nics), [], found)
    text = render("base/netplan.yaml.j2", interfaces=interfaces)
    assert yaml.safe_load(text)["network"]["ethernets"]["back"]["match"] == {"name": "ens3"}
    return Host(spec.connect_address, links(on), {site.setting("netplan_file", spec): text})


def test_a_card_named_by_interface_passes_where_it_carries_the_address(site):
    check(proxy1(site, {"ens3": ["127.0.1.11"], "ens4": ["127.0.2.11"]}), site)


def test_the_address_on_another_card_fails_naming_both(site):
    """Only the back network is wrong: the front card, matched by MAC, carries its address."""
    with pytest.raises(AssertionError, match=r"back: 127.0.1.11 is on \['ens4'\], netplan matches name ens3"):
        check(proxy1(site, {"ens4": ["127.0.1.11", "127.0.2.11"]}), site)
