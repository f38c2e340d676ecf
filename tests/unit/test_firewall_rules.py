"""The firewall's allow list, from the lab's site: each rule from the
topology and data keys, nothing open to the front network but the shop on the VIP."""

import pytest

from hastack import firewall, lab
from hastack.site import parse_site


@pytest.fixture
def site():
    return parse_site(lab.site_text(13, lab.HOSTS), "lab.yaml")


def allow(site, name):
    return firewall.for_site_host(site, name)


def by_why(rules):
    return {rule.why: rule for rule in rules}


def test_only_the_shop_is_open_to_anyone_and_only_on_the_vip(site):
    open_to_anyone = [rule for name in site.hosts for rule in allow(site, name) if not rule.sources]
    assert {(rule.ports, rule.destination) for rule in open_to_anyone} == {(("80", "443"), str(site.vip))}


def test_pcsd_and_corosync_come_from_the_other_proxy_only(site):
    rules = by_why(allow(site, "proxy1"))
    proxy2 = site.hosts["proxy2"].addresses
    assert (
        rules["pcsd, from the other proxies' back addresses"].sources,
        sorted(rules["Corosync's knet links, from the other proxies (both networks)"].sources),
    ) == ((str(proxy2["back"]),), sorted(str(address) for address in proxy2.values()))


def test_gluster_is_open_among_the_pool_only(site):
    arbiter, other = by_why(allow(site, "proxy1")), by_why(allow(site, "proxy2"))
    why = "GlusterFS management and bricks, from the pool's members"
    webs = tuple(str(site.hosts[name].addresses["back"]) for name in ("web1", "web2"))
    assert (arbiter[why].sources, why in other) == (webs, False)


def test_ports_follow_the_data_keys(site):
    site.data["web_port"] = 8081
    assert by_why(allow(site, "web1"))["NGINX, from the proxies' HAProxy"].ports == ("8081",)


def test_the_table_replaces_only_hastacks_own_and_drops_by_default(site):
    text = firewall.render_nft(allow(site, "web1"), "web1", "web")
    assert (
        "policy drop;" in text,
        "flush ruleset" in text,
        text.count("delete table inet hastack"),
        "tcp dport { 80 } accept" in text,
    ) == (True, False, 1, True)
