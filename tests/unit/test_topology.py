"""The cluster's shape from the site: roles, primary addresses, the storage pool, the collectors."""

from hastack import topology
from hastack.site import load_site

HOSTS = [
    {"name": "proxy1", "role": "proxy", "addresses": {"back": "10.0.1.11", "front": "10.0.2.11"}},
    {"name": "proxy2", "role": "proxy", "addresses": {"back": "10.0.1.12", "front": "10.0.2.12"}},
    {"name": "web1", "role": "web", "addresses": {"back": "10.0.1.21"}},
    {"name": "web2", "role": "web", "addresses": {"back": "10.0.1.22"}},
    {"name": "client", "role": "client", "addresses": {"front": "10.0.2.50"}},
]


def test_primary_address_is_the_back_one_else_the_front():
    assert [topology.primary_address(other["addresses"]) for other in HOSTS] == [
        "10.0.1.11",
        "10.0.1.12",
        "10.0.1.21",
        "10.0.1.22",
        "10.0.2.50",
    ]


def test_storage_pool_is_the_web_hosts_then_the_arbiter():
    pool = [other["name"] for other in topology.storage_pool(HOSTS, "proxy1")]
    assert (pool, [o["name"] for o in topology.storage_pool(HOSTS, "")]) == (
        ["web1", "web2", "proxy1"],
        ["web1", "web2"],
    )


def test_collectors_on_the_network_a_host_shares_with_them():
    assert (
        topology.collectors(HOSTS, HOSTS[2]["addresses"]),
        topology.collectors(HOSTS, HOSTS[4]["addresses"]),
    ) == (["10.0.1.11", "10.0.1.12"], ["10.0.2.11", "10.0.2.12"])


def test_admin_pages_open_to_the_admin_networks_and_the_proxies_never_the_client():
    sources = topology.admin_web_sources(HOSTS, "10.0.2.10", ["192.0.2.7/28"])
    assert (sources, topology.admin_web_sources(HOSTS, "10.0.2.10", [])) == (
        ["192.0.2.0/28", "10.0.1.11", "10.0.2.11", "10.0.1.12", "10.0.2.12", "10.0.2.10"],
        ["10.0.1.11", "10.0.2.11", "10.0.1.12", "10.0.2.12", "10.0.2.10"],
    )


def test_site_model_and_deploys_see_the_same_hosts(fixtures):
    site = load_site(fixtures / "good_site.yaml")
    web = site.hosts["web1"]
    assert (
        [other.name for other in site.hosts_in("web")],
        site.host_data(web)["site_hosts"] == site.topology_hosts(),
        web.connect_address == web.primary_address,
    ) == (["web1", "web2"], True, True)
