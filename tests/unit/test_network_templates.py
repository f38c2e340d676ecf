"""What the deploys render: netplan interfaces, /etc/hosts, chrony, sshd, HAProxy, NGINX, monitoring."""

import os
import re
import subprocess

import pytest
import yaml
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from hastack import platforms
from hastack.components.monitoring import (
    CACTI_GRAPHS_POLLED_BY_COMMAND_LINE,
    CACTI_INTERFACE_KEYS,
    CACTI_INTERFACES_QUERY,
    CACTI_KEY_SETTING,
    CACTI_PROFILES,
    CACTI_REMAP,
    CACTI_STALE_INDEXES,
)
from hastack.components.pacemaker import fencing_delay_s, haproxy_on_fail
from hastack.defaults import ROOT
from hastack.network import (
    InterfaceError,
    hosts_entries,
    knet_link_timers,
    manager_refusals,
    netplan_interfaces,
    netplan_refusals,
    nic_names,
)
from hastack.timings import corosync_start_delay_s, start_sleeps, systemd_span_s

NETWORKS = {"back": "10.231.1.0/24", "front": "10.231.2.0/24"}
FOUND = {
    "eth0": {"mac": "02:42:0a:e7:01:0b", "addresses": ["10.231.1.11/24"]},
    "eth1": {"mac": "02:42:0a:e7:02:0b", "addresses": ["10.231.2.11/24"]},
}
ADDRESSES = {"back": "10.231.1.11", "front": "10.231.2.11"}


def render(name: str, **data) -> str:
    env = Environment(
        loader=FileSystemLoader(str(ROOT / "templates")),
        keep_trailing_newline=True,
        undefined=StrictUndefined,
    )
    return env.get_template(name).render(data)


def test_interfaces_found_by_subnet_match_by_mac():
    interfaces = netplan_interfaces(ADDRESSES, NETWORKS, {}, [], FOUND)
    assert [(i["id"], i["match_key"], i["match"]) for i in interfaces] == [
        ("back", "macaddress", "02:42:0a:e7:01:0b"),
        ("front", "macaddress", "02:42:0a:e7:02:0b"),
    ]


def test_interface_named_in_the_site_wins():
    interfaces = netplan_interfaces(ADDRESSES, NETWORKS, {"back": "enp0s8"}, [], FOUND)
    assert (interfaces[0]["match_key"], interfaces[0]["match"]) == ("name", "enp0s8")


def test_address_carries_the_network_prefix():
    interfaces = netplan_interfaces(ADDRESSES, NETWORKS, {}, [], FOUND)
    assert [i["address"] for i in interfaces] == ["10.231.1.11/24", "10.231.2.11/24"]


def test_dhcp_interfaces_follow():
    interfaces = netplan_interfaces(ADDRESSES, NETWORKS, {}, ["enp0s3"], FOUND)
    assert interfaces[-1] == {
        "id": "dhcp0",
        "section": "ethernets",
        "match_key": "name",
        "match": "enp0s3",
        "dhcp": True,
    }


def test_no_interface_in_the_subnet_names_the_fix():
    with pytest.raises(InterfaceError, match=r"set hosts.<host>.nics.front"):
        netplan_interfaces(ADDRESSES, NETWORKS, {}, [], {"eth0": FOUND["eth0"]})


def test_netplan_template_is_the_yaml_netplan_expects():
    interfaces = netplan_interfaces(ADDRESSES, NETWORKS, {}, ["enp0s3"], FOUND)
    document = yaml.safe_load(render("base/netplan.yaml.j2", interfaces=interfaces))
    assert document["network"]["ethernets"] == {
        "back": {
            "match": {"macaddress": "02:42:0a:e7:01:0b"},
            "dhcp4": False,
            "addresses": ["10.231.1.11/24"],
        },
        "front": {
            "match": {"macaddress": "02:42:0a:e7:02:0b"},
            "dhcp4": False,
            "addresses": ["10.231.2.11/24"],
        },
        "dhcp0": {"match": {"name": "enp0s3"}, "dhcp4": True},
    }


def test_netplan_template_gives_the_gateway_dns_and_mtu_to_their_interfaces():
    """The default route and DNS on the gateway's network (front here), the MTU where given."""
    interfaces = netplan_interfaces(
        ADDRESSES,
        NETWORKS,
        {},
        [],
        FOUND,
        gateways={"front": "10.231.2.1"},
        nameservers=["10.231.2.53", "2001:db8::53"],
        search=["shop.example"],
        mtu={"back": 9000},
    )
    ethernets = yaml.safe_load(render("base/netplan.yaml.j2", interfaces=interfaces))["network"]["ethernets"]
    assert (ethernets["back"], ethernets["front"]) == (
        {
            "match": {"macaddress": "02:42:0a:e7:01:0b"},
            "dhcp4": False,
            "addresses": ["10.231.1.11/24"],
            "mtu": 9000,
        },
        {
            "match": {"macaddress": "02:42:0a:e7:02:0b"},
            "dhcp4": False,
            "addresses": ["10.231.2.11/24"],
            "routes": [{"to": "default", "via": "10.231.2.1"}],
            "nameservers": {"addresses": ["10.231.2.53", "2001:db8::53"], "search": ["shop.example"]},
        },
    )


def test_static_routes_go_on_their_networks_interface_after_the_default_route():
    interfaces = netplan_interfaces(
        ADDRESSES,
        NETWORKS,
        {},
        [],
        FOUND,
        gateways={"front": "10.231.2.1"},
        routes={
            "front": [{"to": "198.51.100.0/24", "via": "10.231.2.254"}],
            "back": [
                {"to": "10.50.0.0/16", "via": "10.231.1.1"},
                {"to": "10.60.0.0/16", "via": "10.231.1.2"},
            ],
        },
    )
    ethernets = yaml.safe_load(render("base/netplan.yaml.j2", interfaces=interfaces))["network"]["ethernets"]
    assert (ethernets["back"]["routes"], ethernets["front"]["routes"]) == (
        [{"to": "10.50.0.0/16", "via": "10.231.1.1"}, {"to": "10.60.0.0/16", "via": "10.231.1.2"}],
        [{"to": "default", "via": "10.231.2.1"}, {"to": "198.51.100.0/24", "via": "10.231.2.254"}],
    )


BONDS = {"bond0": {"interfaces": ["enp1s0", "enp2s0"], "mode": "802.3ad"}}


def test_a_network_on_a_bond_and_one_on_a_vlan_of_it():
    """back on bond0 (two members by name, its mode, the carrier's check), front on VLAN 20 of it
    with the default route; the members carry nothing themselves."""
    interfaces = netplan_interfaces(
        ADDRESSES,
        NETWORKS,
        {"back": "bond0", "front": "vlan20"},
        [],
        FOUND,
        gateways={"front": "10.231.2.1"},
        bonds=BONDS,
        vlans={"vlan20": {"id": 20, "link": "bond0"}},
    )
    network = yaml.safe_load(render("base/netplan.yaml.j2", interfaces=interfaces))["network"]
    assert network == {
        "version": 2,
        "renderer": "networkd",
        "ethernets": {
            "bond0-member0": {"match": {"name": "enp1s0"}, "dhcp4": False},
            "bond0-member1": {"match": {"name": "enp2s0"}, "dhcp4": False},
        },
        "bonds": {
            "bond0": {
                "interfaces": ["bond0-member0", "bond0-member1"],
                "parameters": {
                    "mode": "802.3ad",
                    "mii-monitor-interval": 100,
                    "lacp-rate": "fast",
                    "transmit-hash-policy": "layer3+4",
                },
                "dhcp4": False,
                "addresses": ["10.231.1.11/24"],
            }
        },
        "vlans": {
            "vlan20": {
                "id": 20,
                "link": "bond0",
                "dhcp4": False,
                "addresses": ["10.231.2.11/24"],
                "routes": [{"to": "default", "via": "10.231.2.1"}],
            }
        },
    }
    assert nic_names(interfaces, FOUND) == ["enp1s0", "enp2s0", "bond0", "vlan20"]


def test_a_vlan_on_a_card_that_carries_a_network_links_to_that_networks_entry():
    interfaces = netplan_interfaces(
        ADDRESSES,
        NETWORKS,
        {"back": "enp1s0", "front": "vlan20"},
        [],
        FOUND,
        vlans={"vlan20": {"id": 20, "link": "enp1s0"}},
    )
    network = yaml.safe_load(render("base/netplan.yaml.j2", interfaces=interfaces))["network"]
    assert (list(network["ethernets"]), network["vlans"]["vlan20"]["link"]) == (["back"], "back")


def test_a_vlan_with_a_larger_mtu_raises_its_link_only_cards_and_bonds_mtu():
    """The kernel makes no VLAN larger than its link: a link that carries nothing else takes it."""
    interfaces = netplan_interfaces(
        {"back": "10.231.1.11"},
        NETWORKS,
        {"back": "vlan20"},
        [],
        FOUND,
        mtu={"back": 9000},
        bonds=BONDS,
        vlans={"vlan20": {"id": 20, "link": "bond0"}},
    )
    network = yaml.safe_load(render("base/netplan.yaml.j2", interfaces=interfaces))["network"]
    assert (network["bonds"]["bond0"]["mtu"], network["vlans"]["vlan20"]["mtu"]) == (9000, 9000)


def test_a_vlan_larger_than_the_network_on_its_card_is_refused():
    with pytest.raises(InterfaceError, match=r"vlan20's MTU \(9000\) is larger than that of its link enp1s0"):
        netplan_interfaces(
            ADDRESSES,
            NETWORKS,
            {"back": "enp1s0", "front": "vlan20"},
            [],
            FOUND,
            mtu={"front": 9000},
            vlans={"vlan20": {"id": 20, "link": "enp1s0"}},
        )


def test_a_vlan_larger_than_its_dhcp_card_is_refused():
    """A DHCP card's MTU is the lease's or the kernel's: hastack's file sets none on it."""
    with pytest.raises(InterfaceError, match=r"vlan20's MTU \(9000\) is larger than that of its link enp0s3"):
        netplan_interfaces(
            {"back": "10.231.1.11"},
            NETWORKS,
            {"back": "vlan20"},
            ["enp0s3"],
            FOUND,
            mtu={"back": 9000},
            vlans={"vlan20": {"id": 20, "link": "enp0s3"}},
        )


def test_a_card_by_mac_and_by_name_in_two_places_is_refused():
    """Two netplan definitions matching one card: networkd takes the first and drops the other."""
    with pytest.raises(InterfaceError, match=r"eth0, a member of bonds.bond0, is also the card of back"):
        netplan_interfaces(
            {"back": "10.231.1.11", "front": "10.231.2.11"},
            NETWORKS,
            {"front": "bond0"},
            [],
            FOUND,
            bonds={"bond0": {"interfaces": ["eth0", "enp9s0"], "mode": "active-backup"}},
        )


def test_a_vlan_on_the_card_of_a_network_found_by_mac_rides_on_that_networks_entry():
    interfaces = netplan_interfaces(
        {"back": "10.231.1.11"}, NETWORKS, {}, [], FOUND, vlans={"vlan20": {"id": 20, "link": "eth0"}}
    )
    assert [(i["id"], i.get("link")) for i in interfaces] == [("back", None), ("vlan20", "back")]


@pytest.mark.parametrize("kind", ["bridge", "macvlan", "dummy"])
def test_an_address_on_a_link_hastack_cannot_make_is_refused(kind):
    found = {"x0": {"mac": "02:42:0a:e7:01:0b", "addresses": ["10.231.1.11/24"], "kind": kind}}
    with pytest.raises(
        InterfaceError, match=rf"is on x0, a {kind}, which hastack's netplan file cannot make"
    ):
        netplan_interfaces({"back": "10.231.1.11"}, NETWORKS, {}, [], found)


def test_an_address_on_an_undeclared_bond_is_refused_naming_the_fix():
    """Matched by MAC (a bond's is a member's), hastack's file would put the address on a card."""
    found = {"bond0": {"mac": "02:42:0a:e7:01:0b", "addresses": ["10.231.1.11/24"], "kind": "bond"}, **FOUND}
    with pytest.raises(InterfaceError, match=r"is on bond0, a bond, .*nics.back: bond0"):
        netplan_interfaces({"back": "10.231.1.11"}, NETWORKS, {}, [], found)


def test_dns_without_a_gateway_goes_on_the_first_network():
    interfaces = netplan_interfaces(ADDRESSES, NETWORKS, {}, [], FOUND, nameservers=["10.231.1.53"])
    assert [i["nameservers"] for i in interfaces] == [["10.231.1.53"], []]


@pytest.mark.parametrize(
    "name", ["base/netplan.yaml.j2", "base/hosts.j2", "base/chrony.conf.j2", "base/sshd.conf.j2"]
)
def test_templates_start_with_the_managed_by_line(name):
    text = (ROOT / "templates" / name).read_text()
    assert text.startswith("# Managed by hastack")


HOSTS = [
    {"name": "proxy1", "role": "proxy", "addresses": {"back": "10.0.1.11", "front": "10.0.2.11"}},
    {"name": "web1", "role": "web", "addresses": {"back": "10.0.1.21"}},
    {"name": "client", "role": "client", "addresses": {"front": "10.0.2.50"}},
]


def test_hosts_entries_prefer_the_back_address():
    entries = hosts_entries(HOSTS, "shop", "10.0.2.10")
    assert [(e["address"], e["names"]) for e in entries] == [
        ("10.0.1.11", ["proxy1"]),
        ("10.0.2.11", ["proxy1-front"]),
        ("10.0.1.21", ["web1"]),
        ("10.0.2.50", ["client"]),
        ("10.0.2.10", ["shop-vip"]),
    ]


def test_hosts_template_lines():
    text = render("base/hosts.j2", cluster="shop", entries=hosts_entries(HOSTS, "shop", "10.0.2.10"))
    assert "10.0.1.21\tweb1\n" in text


def test_chrony_servers_become_pools():
    text = render("base/chrony.conf.j2", servers=["a.example", "b.example"])
    assert [line for line in text.splitlines() if line.startswith("pool")] == [
        "pool a.example iburst",
        "pool b.example iburst",
    ]


@pytest.mark.parametrize("set_clock, options", [(True, '"-F 1"'), (False, '"-F 1 -x"')])
def test_chrony_never_sets_the_clock_when_told(set_clock, options):
    text = render("base/chrony.default.j2", set_clock=set_clock, variable="DAEMON_OPTS")
    assert text.splitlines()[-1] == f"DAEMON_OPTS={options}"


def test_sshd_dropin_allows_root_by_key_only():
    lines = render("base/sshd.conf.j2").splitlines()
    assert {"PermitRootLogin prohibit-password", "PasswordAuthentication no"} <= set(lines)


HAPROXY = dict(
    vip="10.0.2.10",
    servers=[
        {"name": "web1", "address": "10.0.1.21", "port": 80},
        {"name": "web2", "address": "10.0.1.22", "port": 80},
    ],
    retries=3,
    timeout_connect="2s",
    timeout_client="30s",
    timeout_server="30s",
    check_interval="1s",
    check_fall=2,
    error_limit=1,
    check_rise=2,
    stats_address="10.0.1.11",
    stats_port=8404,
    stats_user="admin",
    stats_password="not-a-real-secret",
    monitoring_port=8080,
    https_port=443,
    https_suffix="",
    certificate="/etc/haproxy/certs/lab.pem",
    hsts_max_age=63072000,
    tls_groups="X25519:prime256v1:secp384r1",
    server_state_file="/var/lib/haproxy/server-state",
    alert_relay=None,
    alert_port=25,
    admin_sources=["192.0.2.0/28", "10.0.1.11", "10.0.2.11", "10.0.2.10"],
    acme_thumbprint="",
    acme_path="/.well-known/acme-challenge/",
)


def test_haproxy_frontend_binds_the_vip():
    assert "    bind 10.0.2.10:80\n" in render("proxy/haproxy.cfg.j2", **HAPROXY)


def test_haproxy_terminates_tls_on_the_vip_and_redirects_plain_http():
    lines = [line.strip() for line in render("proxy/haproxy.cfg.j2", **HAPROXY).splitlines()]
    other = render("proxy/haproxy.cfg.j2", **{**HAPROXY, "https_port": 8443, "https_suffix": ":8443"})
    assert (
        "bind 10.0.2.10:443 ssl crt /etc/haproxy/certs/lab.pem alpn h2,http/1.1"
        " curves X25519:prime256v1:secp384r1" in lines,
        "http-request redirect code 301 location https://%[req.hdr(host),field(1,:)]%[pathq]"
        " unless { ssl_fc }" in lines,
        'http-response set-header Strict-Transport-Security "max-age=63072000" if { ssl_fc }' in lines,
        "ssl-default-bind-options prefer-client-ciphers ssl-min-ver TLSv1.2 no-tls-tickets" in lines,
        "location https://%[req.hdr(host),field(1,:)]:8443%[pathq]" in other,
    ) == (True, True, True, True, True)


def test_haproxy_checks_every_web_host():
    lines = [line.strip() for line in render("proxy/haproxy.cfg.j2", **HAPROXY).splitlines()]
    assert [line for line in lines if line.startswith("server web")] == [
        "server web1 10.0.1.21:80 check",
        "server web2 10.0.1.22:80 check",
    ]


def test_haproxy_keeps_its_servers_states_across_a_reload():
    """An operator's MAINT (`hastack maintenance`) survives a reload: saved there, read at start."""
    lines = [line.strip() for line in render("proxy/haproxy.cfg.j2", **HAPROXY).splitlines()]
    assert (
        "server-state-file /var/lib/haproxy/server-state" in lines,
        "load-server-state-from-file global" in lines,
    ) == (True, True)


def test_haproxy_stats_only_on_the_back_address():
    assert "    bind 10.0.1.11:8404\n" in render("proxy/haproxy.cfg.j2", **HAPROXY)


def test_haproxy_sends_cacti_to_this_proxy_only_with_monitoring():
    on = render("proxy/haproxy.cfg.j2", **HAPROXY)
    off = render("proxy/haproxy.cfg.j2", **{**HAPROXY, "monitoring_port": False})
    assert (
        "use_backend cacti if { path /cacti } || { path_beg /cacti/ }" in on,
        "    server local 127.0.0.1:8080 check\n" in on,
        "cacti" in off,
    ) == (True, True, False)


def test_haproxy_answers_403_on_the_admin_pages_to_any_other_address():
    """Cacti's and Ganglia's pages (path and subpaths, not /cactiX) only to the sources given,
    before any backend is chosen; without monitoring there is nothing to keep."""
    on = [line.strip() for line in render("proxy/haproxy.cfg.j2", **HAPROXY).splitlines()]
    off = render("proxy/haproxy.cfg.j2", **{**HAPROXY, "monitoring_port": False})
    deny = "http-request deny deny_status 403 if admin_page !admin_source"
    assert (
        "acl admin_page path /cacti /ganglia" in on,
        "acl admin_page path_beg /cacti/ /ganglia/" in on,
        "acl admin_source src 192.0.2.0/28 10.0.1.11 10.0.2.11 10.0.2.10" in on,
        deny in on and on.index(deny) < on.index("default_backend web"),
        "admin_page" in off,
    ) == (True, True, True, True, False)


def test_haproxy_passes_the_back_hosts_alert_mail_to_the_relay_only_when_asked():
    """The web hosts' mail (back network only) reaches the relay through the proxies: a TCP
    listener on this proxy's back address, not on the VIP; none without alerts."""
    on = render("proxy/haproxy.cfg.j2", **{**HAPROXY, "alert_relay": "client:25"})
    off = render("proxy/haproxy.cfg.j2", **HAPROXY)
    section = on.split("listen alert-relay\n", 1)[-1].split("\n\n", 1)[0]
    assert (
        "    mode tcp" in section,
        "    bind 10.0.1.11:25" in section,
        "    server relay client:25 init-addr last,libc,none" in section,
        "alert-relay" in off,
    ) == (True, True, True, False)


NGINX = dict(port=80, keepalive_timeout=65, monitoring_port=8080)


def test_nginx_passes_ganglia_to_local_apache_only_with_monitoring():
    on = render("web/nginx.conf.j2", **NGINX)
    off = render("web/nginx.conf.j2", **{**NGINX, "monitoring_port": False})
    ganglia = on.split("location /ganglia/ {", 1)[1].split("\n        }", 1)[0]
    assert (
        "proxy_pass http://127.0.0.1:8080;" in ganglia,
        "ganglia" in off or "javascript" in off,
    ) == (True, False)


def test_nginx_serves_ganglia_only_to_a_request_haproxy_marked_as_an_admins():
    """NGINX matches /ganglia/ after decoding and merging the path (//ganglia/, /%67anglia/),
    which HAProxy's rule does not: it asks for HAProxy's mark, which HAProxy never passes on
    from outside."""
    ganglia = render("web/nginx.conf.j2", **NGINX).split("location /ganglia/ {", 1)[1]
    proxy = [line.strip() for line in render("proxy/haproxy.cfg.j2", **HAPROXY).splitlines()]
    assert (
        ganglia.index('if ($http_x_hastack_admin != "yes") {\n                return 403;')
        < ganglia.index("proxy_pass"),
        proxy.index("http-request del-header X-Hastack-Admin")
        < proxy.index("http-request set-header X-Hastack-Admin yes if admin_source"),
    ) == (True, True)


def test_healthz_answers_from_hastacks_file_not_the_shops_content():
    """A shop without index.html keeps its web hosts in rotation: /healthz reads hastack's file,
    mounted from the volume beside the content."""
    conf = render("web/nginx.conf.j2", **NGINX)
    health = conf.split("location = /healthz {", 1)[1].split("}", 1)[0]
    compose = render(
        "web/docker-compose.yml.j2",
        image="nginx:1.27",
        compose_dir="/opt/hastack/web",
        content_dir="/cluster/www",
        health_dir="/cluster/.hastack",
        health_in_container="/srv/hastack",
        container="hastack-web",
    )
    assert (
        "root /srv/hastack;" in health,
        "try_files /healthz =503;" in health,
        "index.html" in health,
        "      - /cluster/.hastack:/srv/hastack:ro" in compose,
    ) == (True, True, False, True)


def test_apache_listens_on_loopback_only():
    text = render("monitoring/apache-ports.conf.j2", server_name="web1", port=8080)
    assert [line for line in text.splitlines() if line.startswith("Listen")] == ["Listen 127.0.0.1:8080"]


def cacti_setup(devices: list[dict], step: int = 300) -> str:
    return render(
        "monitoring/cacti-setup.sh.j2",
        admin_user="admin",
        admin_password="a",
        snmp_user="hastack",
        snmp_auth="b",
        snmp_priv="c",
        devices=devices,
        snmp_timeout_ms=2500,
        snmp_retries=4,
        step=step,
        profile=CACTI_PROFILES[step],
        unsafe_graph_hashes=sorted(CACTI_GRAPHS_POLLED_BY_COMMAND_LINE),
        interfaces_query=CACTI_INTERFACES_QUERY,
    )


def test_cacti_setup_removes_the_graphs_polled_through_command_line_tools():
    """Both graph templates left out of every device template and their graphs removed."""
    text = cacti_setup([{"name": "web1", "address": "10.0.1.21"}])
    loop = next(line for line in text.splitlines() if line.startswith("for hash in"))
    assert (
        sorted(loop.removeprefix("for hash in ").removesuffix("; do").split()),
        "DELETE FROM host_template_graph WHERE graph_template_id='$unsafe'; "
        "DELETE FROM host_graph WHERE graph_template_id='$unsafe'" in text,
        'remove_graphs.php --graph-template-id="$unsafe" --force' in text,
    ) == (sorted(CACTI_GRAPHS_POLLED_BY_COMMAND_LINE), True, True)


def test_cacti_setup_asks_for_the_interface_query_the_remapper_and_verify_know():
    text = cacti_setup([{"name": "web1", "address": "10.0.1.21"}])
    assert f"FROM snmp_query WHERE hash='{CACTI_INTERFACES_QUERY}'" in text


def test_cacti_setup_adds_every_device_without_a_community():
    text = cacti_setup([{"name": "web1", "address": "10.0.1.21"}, {"name": "client", "address": "10.0.2.50"}])
    calls = [line for line in text.splitlines() if line.startswith("device ")]
    assert (calls, "snmp_community=''" in text, "--version=3" in text) == (
        ["device web1 10.0.1.21", "device client 10.0.2.50"],
        True,
        True,
    )
    # The site's SNMP timeout and retries for each device and as Cacti's defaults.
    assert (
        "snmp_timeout=2500, ping_timeout=2500, ping_retries=4" in text,
        "('snmp_timeout', '2500')," in text and "('snmp_retries', '4')" in text,
    ) == (True, True)


@pytest.mark.parametrize("step", [60, 300])
def test_cacti_setup_sets_the_interval_and_makes_rrds_of_another_step_again(step):
    """The poller's interval, the templates' profile and step, and the data sources of another
    step: their RRDs removed (the poller makes them again), then given this step."""
    text = cacti_setup([], step)
    assert (
        f"('poller_interval', '{step}'), ('cron_interval', '{step}')" in text,
        f"hash='{CACTI_PROFILES[step]}' AND step={step}" in text,
        f"rrd_step={step} WHERE local_data_id=0" in text,
        # The paths of the polled devices' data sources first, then their step, then the files
        # (the poller makes a missing RRD with the step Cacti has for it).
        text.index('> "$remade"')
        < text.index(f"dtd.rrd_step = {step}\n    WHERE h.disabled = ''")
        < text.index('rm -f "$rrd"'),
        text.count("h.disabled = ''"),
    ) == (True, True, True, True, 2)


def test_cacti_setup_switches_every_automation_network_off():
    """Cacti ships "Test Network" (192.168.1.0/24) enabled: the setup turns every one off, adds none."""
    text = cacti_setup([])
    statements = [line for line in text.splitlines() if "automation_networks" in line and "mysql" in line]
    assert statements == ["mysql cacti -e \"UPDATE automation_networks SET enabled='' WHERE enabled<>''\""]


NODES = [
    {"name": "proxy1", "front": "10.0.2.11", "back": "10.0.1.11"},
    {"name": "proxy2", "front": "10.0.2.12", "back": "10.0.1.12"},
]


@pytest.mark.parametrize(
    "token, timers", [(300, (200, 300)), (400, (200, 400)), (1000, (250, 1000)), (2000, (500, 2000))]
)
def test_knet_link_timers_wait_a_whole_token_never_under_knets_timer(token, timers):
    assert knet_link_timers(token) == timers


def corosync(nodes=NODES, token_ms=1000, qnetd=None) -> str:
    ping, timeout = knet_link_timers(token_ms)
    return render(
        "proxy/corosync.conf.j2",
        cluster="shop",
        token_ms=token_ms,
        knet_ping_ms=ping,
        knet_timeout_ms=timeout,
        nodes=nodes,
        qnetd=qnetd,
        link_mode="active",
    )


def test_corosync_writes_knets_timers_on_both_links_and_uses_both_at_once():
    text = corosync(token_ms=400)
    assert (
        text.count("knet_ping_interval: 200"),
        text.count("knet_ping_timeout: 400"),
        text.count("knet_pong_count: 1"),
        "link_mode: active" in text,
    ) == (2, 2, 2, True)


def test_corosync_two_links_per_node():
    text = corosync()
    assert ("ring0_addr: 10.0.2.11" in text, "ring1_addr: 10.0.1.11" in text) == (True, True)


@pytest.mark.parametrize("count, two_node", [(2, True), (3, False)])
def test_corosync_two_node_quorum_only_for_two(count, two_node):
    nodes = NODES + [{"name": "proxy3", "front": "10.0.2.13", "back": "10.0.1.13"}]
    assert ("two_node: 1" in corosync(nodes[:count])) == two_node


def gmond(**data) -> str:
    base = dict(cluster="shop", location="rack 1", send_to=["10.0.1.11"], port=8649, collector=False)
    return render("monitoring/gmond.conf.j2", **{**base, **data})


def test_gmond_names_each_metric_module_by_absolute_path():
    text = gmond(modules=platforms.ganglia_module_paths("x86_64"))
    named = dict(re.findall(r'module \{ name = "(\w+)" path = "([^"]+)" \}', text))
    assert named == {
        "cpu_module": "/usr/lib/x86_64-linux-gnu/ganglia/modcpu.so",
        "disk_module": "/usr/lib/x86_64-linux-gnu/ganglia/moddisk.so",
        "load_module": "/usr/lib/x86_64-linux-gnu/ganglia/modload.so",
        "mem_module": "/usr/lib/x86_64-linux-gnu/ganglia/modmem.so",
        "net_module": "/usr/lib/x86_64-linux-gnu/ganglia/modnet.so",
        "proc_module": "/usr/lib/x86_64-linux-gnu/ganglia/modproc.so",
        "sys_module": "/usr/lib/x86_64-linux-gnu/ganglia/modsys.so",
    }


def test_ganglia_modules_follow_debians_multiarch_folder():
    assert platforms.ganglia_module_dir("aarch64") == "/usr/lib/aarch64-linux-gnu/ganglia"


def test_unknown_architecture_is_refused_with_the_known_ones():
    with pytest.raises(platforms.UnsupportedPlatform, match="'sparc64'.*x86_64"):
        platforms.ganglia_module_dir("sparc64")


def test_cacti_poller_timer_runs_on_cactis_interval():
    timer = render("monitoring/cacti-poller.timer.j2", minutes=5)
    service = render("monitoring/cacti-poller.service.j2", timeout_seconds=280, remap=CACTI_REMAP)
    assert (
        "OnCalendar=*:0/5" in timer,
        "WantedBy=timers.target" in timer,
        "User=www-data" in service,
        "ExecStart=/usr/bin/php /usr/share/cacti/site/poller.php" in service,
        f"ExecStartPre=-/usr/bin/php {CACTI_REMAP}" in service,
    ) == (True, True, True, True, True)


def test_cacti_remapper_carries_its_queries_whole_in_php_strings():
    """The queries are put in PHP double-quoted strings: nothing in them may end or expand them."""
    text = render(
        "monitoring/cacti-remap.php.j2",
        stale_sql=CACTI_STALE_INDEXES,
        keys_sql=CACTI_INTERFACE_KEYS,
        key_setting=CACTI_KEY_SETTING,
    )
    assert (
        f'db_fetch_assoc("{CACTI_STALE_INDEXES}")' in text,
        f'db_fetch_assoc("{CACTI_INTERFACE_KEYS}")' in text,
        f"$keys = '{CACTI_KEY_SETTING}';" in text,
        [c for sql in (CACTI_STALE_INDEXES, CACTI_INTERFACE_KEYS) for c in '"$\\' if c in sql],
    ) == (True, True, True, [])


def test_a_collectors_gmond_answers_only_the_sites_hosts():
    text = gmond(
        collector=True, senders=["127.0.0.1", "10.0.1.21"], pollers=["127.0.0.1", "10.0.1.22"], modules={}
    )
    channels = dict(re.findall(r"(udp_recv_channel|tcp_accept_channel) \{(.*?)\n\}", text, re.S))
    allowed = {name: re.findall(r"ip = (\S+) mask = 32", body) for name, body in channels.items()}
    assert (allowed, text.count('default = "deny"')) == (
        {"udp_recv_channel": ["127.0.0.1", "10.0.1.21"], "tcp_accept_channel": ["127.0.0.1", "10.0.1.22"]},
        2,
    )


def test_a_failed_haproxy_empties_its_proxy_only_where_the_first_failure_moves_the_vip():
    assert [haproxy_on_fail(threshold) for threshold in (0, 1, 2, 5)] == [None, "standby", None, None]


def test_the_fencing_delay_applies_only_with_stonith_and_no_quorum_device():
    assert [
        fencing_delay_s(stonith, qdevice, 10)
        for stonith, qdevice in ((True, ""), (True, "client"), (False, ""), (False, "client"))
    ] == [10, 0, 0, 0]


def test_corosync_waits_at_its_start_twice_the_membership_timeout_with_stonith_else_what_is_set():
    """-1: with STONITH on, 2 x (token + consensus), rounded up, at most 60; off, 0; a value set
    stays."""
    assert [
        corosync_start_delay_s(setting, stonith, token)
        for setting, stonith, token in (
            (-1, True, 1500),
            (-1, True, 1000),
            (-1, True, 3000),
            (-1, False, 1500),
            (0, True, 1500),
            (-1, True, 20000),
            (20, False, 1500),
        )
    ] == [7, 5, 14, 0, 0, 60, 20]


@pytest.mark.parametrize(
    "shown, seconds",
    [
        ("1min 37s", 97),
        ("1min 37.500000s", 97.5),
        ("500ms", 0.5),
        ("2h 1s", 7201),
        ("1w", 604800),
        ("0", 0),
        ("infinity", float("inf")),
    ],
)
def test_systemd_time_spans_read_as_seconds(shown, seconds):
    assert systemd_span_s(shown) == seconds


SLEEP = "ExecStartPre={ path=/bin/sleep ; argv[]=/bin/sleep 7 ; ignore_errors=no ; start_time=[n/a] ; pid=0 }"
MODPROBE = "ExecStartPre={ path=/sbin/modprobe ; argv[]=/sbin/modprobe softdog ; ignore_errors=no ; pid=0 }"


@pytest.mark.parametrize(
    "shown, sleeps",
    [
        ("", []),
        (SLEEP, ["7"]),
        (f"{SLEEP}\n{MODPROBE}", ["7"]),
        (f"{MODPROBE}\n{SLEEP}\n{SLEEP}", ["7", "7"]),
    ],
)
def test_the_sleeps_among_a_units_start_commands(shown, sleeps):
    """None without an ExecStartPre line (systemctl prints none), each sleep among several."""
    assert start_sleeps(shown) == sleeps


@pytest.mark.parametrize("shown", ["", "1 fortnight", "97"])
def test_an_odd_systemd_time_span_is_refused(shown):
    with pytest.raises(ValueError, match="not a systemd time span"):
        systemd_span_s(shown)


CLOUD_INIT = "/etc/netplan/50-cloud-init.yaml"
LIVE = "/etc/netplan/60-hastack.yaml"


def refusals(provides: dict, **settings) -> list[str]:
    interfaces = netplan_interfaces(ADDRESSES, NETWORKS, {}, settings.pop("dhcp", []), FOUND, **settings)
    return netplan_refusals("proxy1", provides, LIVE, interfaces)


def test_a_file_going_aside_with_the_default_route_is_kept_unless_the_site_gives_one():
    """cloud-init's DHCP brings the route and DNS: refused bare, accepted with a gateway and
    DNS servers, or with that interface left to DHCP; hastack's own file never counts."""
    provides = {
        "files": {CLOUD_INIT: {"route": True, "dns": True}, LIVE: {"route": True, "dns": True}},
        "resolved": True,
    }
    bare = refusals(provides)
    assert (
        len(bare),
        "set netplan_gateways" in bare[0] and CLOUD_INIT in bare[0] and LIVE not in bare[0],
        "set netplan_nameservers" in bare[1],
        refusals(provides, gateways={"front": "10.231.2.1"}, nameservers=["10.231.2.53"]),
        refusals(provides, dhcp=["enp0s3"]),
    ) == (2, True, True, [], [])


def test_dns_going_aside_matters_only_under_systemd_resolved():
    provides = {"files": {CLOUD_INIT: {"route": False, "dns": True}}, "resolved": False}
    assert refusals(provides) == []


def test_dns_servers_without_systemd_resolved_are_refused():
    found = refusals({"files": {}, "resolved": False}, nameservers=["10.231.2.53"])
    assert len(found) == 1 and "apt-get install systemd-resolved" in found[0]


def test_the_nics_hastack_configures_are_named_whether_matched_by_mac_or_by_name():
    by_mac = netplan_interfaces(ADDRESSES, NETWORKS, {}, [], FOUND)
    by_name = netplan_interfaces(ADDRESSES, NETWORKS, {"back": "eth7"}, ["02:42:0A:E7:02:0B"], FOUND)
    assert (nic_names(by_mac, FOUND), nic_names(by_name, FOUND)) == (
        ["eth0", "eth1"],
        ["eth7", "eth1", "eth1"],
    )


def test_a_nic_that_ifupdown_or_networkmanager_also_drives_is_refused_naming_the_files_and_the_fix():
    boot = "brought up at boot (/etc/network/interfaces.d/50-cloud-init, /etc/network/interfaces)"
    managers = {
        "ifupdown": {"eth1": [boot, "up now (ifquery --state)"], "eth9": ["brought up at boot (x)"]},
        "networkmanager": {"eth0": "connected", "wlp2s0": "disconnected"},
    }
    refused = manager_refusals("web1", managers, ["eth0", "eth1"])
    assert len(refused) == 2
    assert refused[1].startswith(f"host web1: ifupdown drives eth1 too ({boot}; up now (ifquery --state))")
    assert "Take eth1 out of ifupdown's stanzas in those files" in refused[1]
    assert "network: {config: disabled}" in refused[1] and "then reboot the host" in refused[1]
    assert refused[0].startswith("host web1: NetworkManager manages eth0 (connected)")
    assert "`[keyfile]` and `unmanaged-devices+=interface-name:eth0`" in refused[0]
    assert manager_refusals("web1", {"ifupdown": {}, "networkmanager": {}}, ["eth0", "eth1"]) == []
    assert manager_refusals("web1", managers, ["eth2"]) == []


def test_a_nic_only_up_now_passes_and_a_bridge_of_all_ports_takes_every_nic():
    """Its stanza gone, ifupdown's DHCP client lasts until the reboot the refusal asked for: not
    refused again. `bridge_ports all` makes every interface a member."""
    up_now = {"ifupdown": {"eth5": ["up now (ifquery --state)"]}}
    every = {"ifupdown": {"*": ["a member of br0 (/etc/network/interfaces)"]}}
    assert manager_refusals("web1", up_now, ["eth5"]) == []
    assert [r.split(" (")[0] for r in manager_refusals("web1", every, ["eth0", "eth1"])] == [
        "host web1: ifupdown drives eth0 too",
        "host web1: ifupdown drives eth1 too",
    ]


def web_start(
    tmp_path, unmounted: int, sees_volume: bool, dead: bool = False
) -> tuple[list[int], str, list[str]]:
    """hastack-web.service's start script run as systemd runs it (again after each failure, up to
    10 times, NRestarts counting them) against stand-ins of systemctl, mountpoint, findmnt, stat
    and docker on PATH: the mount unit's start fails ``unmounted`` times, then mounts; ``dead``:
    the volume is listed as mounted at first but does not answer, until its unit is stopped.
    (each run's exit, their output, docker's calls)"""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls, starts, runs = tmp_path / "docker.calls", tmp_path / "starts", tmp_path / "runs"
    mounted, gone = tmp_path / "mounted", tmp_path / "dead"
    if dead:
        mounted.touch()
        gone.touch()
    stand_ins = {
        "mountpoint": f"[ -e {mounted} ] && [ ! -e {gone} ]",
        "findmnt": f"[ -e {mounted} ]",
        "stat": f"[ ! -e {gone} ]",
        "systemd-escape": "echo cluster.mount",
        "journalctl": "echo 'Mount failed. Check the log file for more details.'",
        "systemctl": (
            f'case "$1" in show) cat {runs};; stop) rm -f {mounted} {gone}; echo stop >> {starts};; '
            f"start) echo start >> {starts}; "
            f'[ "$(grep -c start {starts})" -gt {unmounted} ] && touch {mounted};; '
            "esac; true"
        ),
        "mount": "echo 'mount(8) is not to be used: the client would die with the service' >&2; exit 99",
        "docker": f'echo "$*" >> {calls}; case "$1" in exec) exit {0 if sees_volume else 1};; esac',
    }
    for name, body in stand_ins.items():
        (bin_dir / name).write_text(f"#!/bin/sh\n{body}\n")
        (bin_dir / name).chmod(0o755)
    script = tmp_path / "web-start"
    script.write_text(
        render(
            "web/hastack-web-start.sh.j2",
            mount_point="/cluster",
            retry_seconds=5,
            say_every=2,
            unit="hastack-web.service",
            compose="docker compose",
            compose_file="/opt/hastack/web/docker-compose.yml",
            container="hastack-web",
            health_in_container="/srv/hastack/healthz",
        )
    )
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    codes, output = [], ""
    while len(codes) < 10 and (not codes or codes[-1] != 0):
        runs.write_text(f"{len(codes)}\n")
        result = subprocess.run(["sh", str(script)], env=env, capture_output=True, text=True, timeout=30)
        codes.append(result.returncode)
        output += result.stderr + result.stdout
    output += "".join(
        f"systemctl {line}\n" for line in (starts.read_text().split() if starts.exists() else [])
    )
    return codes, output, calls.read_text().splitlines() if calls.exists() else []


def test_web_start_fails_while_the_volume_does_not_answer_then_mounts_and_starts_nginx(tmp_path):
    codes, output, docker = web_start(tmp_path, unmounted=3, sees_volume=True)
    up = "compose -p hastack-web -f /opt/hastack/web/docker-compose.yml up -d --remove-orphans"
    assert (codes, output.count("is not mounted"), "mounted after 3 failed tries" in output, docker) == (
        [1, 1, 1, 0],
        2,
        True,
        [up, "exec hastack-web test -e /srv/hastack/healthz"],
    ), output


def test_web_start_makes_again_a_container_that_does_not_see_the_volume(tmp_path):
    codes, output, docker = web_start(tmp_path, unmounted=0, sees_volume=False)
    recreated = docker[-1].endswith("up -d --remove-orphans --force-recreate")
    assert (codes, "failed tries" in output, recreated) == ([0], False, True), output


def test_web_start_mounts_again_a_volume_listed_but_not_answering(tmp_path):
    codes, output, _ = web_start(tmp_path, unmounted=0, sees_volume=True, dead=True)
    said = "does not answer (its GlusterFS client is gone?): mounted again" in output
    assert (codes, said, output.count("systemctl stop"), output.count("systemctl start")) == (
        [0],
        True,
        1,
        1,
    ), output


def test_haproxy_answers_acme_challenges_before_the_redirect_only_with_acme():
    """With ACME, plain HTTP answers a challenge's token with the token and the account key's
    thumbprint (stateless, whichever proxy ordered), before the redirect to HTTPS."""
    off = render("proxy/haproxy.cfg.j2", **HAPROXY)
    on = render("proxy/haproxy.cfg.j2", **{**HAPROXY, "acme_thumbprint": "p0dzUXpw"})
    answer = (
        'http-request return status 200 content-type text/plain lf-string "%[path,field(-1,/)].p0dzUXpw" '
        "if { path_beg /.well-known/acme-challenge/ }"
    )
    assert ("acme-challenge" in off, answer in on, on.index(answer) < on.index("http-request redirect")) == (
        False,
        True,
        True,
    )


def test_the_acme_hook_accepts_http_01_only():
    hook = str(ROOT / "templates" / "acme" / "acme-hook.sh")
    codes = [
        subprocess.run(["sh", hook, *args], check=False).returncode
        for args in (
            ["begin", "http-01", "shop.example.com", "tok", "tok.thumb"],
            ["begin", "tls-alpn-01", "shop.example.com", "tok", "tok.thumb"],
            ["begin", "dns-01", "shop.example.com", "tok", "tok.thumb"],
            ["done", "dns-01", "shop.example.com", "tok", "tok.thumb"],
        )
    ]
    assert codes == [0, 1, 1, 0]


def acme_run_script(tmp_path, names: list[str], **values: str):
    """The certificate's run (templates/acme/hastack-acme.sh.j2) rendered as the deploy renders
    it (site values shell-quoted), with these values over the defaults; its path."""
    import shlex

    values = {
        "conf_dir": "/etc/hastack/acme",
        "directory": "https://acme.example/directory",
        "email": "ops@example.com",
        "hook": "/usr/local/lib/hastack/acme-hook",
        "haproxy_pem": "/etc/haproxy/certs/shop.pem",
        "state_file": "/var/lib/hastack/acme.state",
        "admin_socket": "/run/haproxy/admin.sock",
        "vip": "10.0.2.10",
        "thumbprint": "p0dzUXpw",
        "first_name": names[0],
        **values,
    }
    script = tmp_path / "hastack-acme"
    script.write_text(
        render(
            "acme/hastack-acme.sh.j2",
            names_quoted=" ".join(names),
            names_text=" ".join(names),
            renew_days=30,
            timeout_s=300,
            **{key: shlex.quote(value) for key, value in values.items()},
        )
    )
    return script


def test_the_acme_run_script_is_valid_shell_whatever_the_site_gives(tmp_path):
    """Values from the site reach the script quoted: an e-mail with a quote (valid) does not
    break it; an empty line inside the pushed chain is dropped (HAProxy's CLI payload ends at
    the first one)."""
    script = acme_run_script(
        tmp_path,
        ["shop.example.com", "www.example.com"],
        directory="https://acme.example/directory?a=b&c",
        email="o'brien@example.com",
    )
    syntax = subprocess.run(["sh", "-n", str(script)], capture_output=True, text=True)
    text = script.read_text()
    assert (
        syntax.returncode,
        "email='o'\"'\"'brien@example.com'" in text,
        "grep -v '^[[:space:]]*$'" in text,
    ) == (
        0,
        True,
        True,
    ), syntax.stderr


def test_the_acme_run_ends_at_once_when_the_directory_does_not_answer(tmp_path):
    """With stand-ins for curl and uacme: the VIP answers the challenge probe, the directory's
    port refuses: the run fails in one step, says why in the state file, and never starts
    uacme (which would wait for the server, timeout_s a call, three calls)."""

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "curl").write_text(
        "#!/bin/sh\n"
        'for a; do url="$a"; done\n'
        'case "$url" in\n'
        '  */.well-known/acme-challenge/*) printf "%s.p0dzUXpw" "${url##*/}";;\n'
        '  *) echo "curl: (7) Failed to connect to acme.example port 443: Connection refused" >&2; exit 7;;\n'
        "esac\n"
    )
    (bin_dir / "uacme").write_text(f"#!/bin/sh\ntouch {tmp_path}/uacme-ran\n")
    for stand_in in bin_dir.iterdir():
        stand_in.chmod(0o755)
    script = acme_run_script(
        tmp_path,
        ["shop.example.com"],
        conf_dir=str(tmp_path / "acme"),
        haproxy_pem=str(tmp_path / "shop.pem"),
        state_file=str(tmp_path / "acme.state"),
        admin_socket=str(tmp_path / "admin.sock"),
    )
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    run = subprocess.run(["sh", str(script)], capture_output=True, text=True, env=env, timeout=30)
    state = (tmp_path / "acme.state").read_text()
    assert (
        run.returncode,
        state.startswith("failed "),
        "the ACME directory https://acme.example/directory does not answer as one (curl: (7)" in state,
        (tmp_path / "uacme-ran").exists(),
    ) == (1, True, True, False), run.stderr


def raid_boot_script(tmp_path, disks: list[str], away, sys_dir, **more):
    """The RAID's boot script (templates/raid/hastack-raid-boot.sh.j2) for /dev/md0 of these
    disks, its notes in ``away``, the kernel's md files under ``sys_dir``; its path."""
    import shlex

    script = tmp_path / "raid-boot"
    script.write_text(
        render(
            "raid/hastack-raid-boot.sh.j2",
            device="/dev/md0",
            uuid="11111111:22222222:33333333:44444444",
            disks=shlex.quote(" ".join(disks)),
            mount_point="/raid1",
            away_dir=str(away),
            sys_dir=str(sys_dir),
            map_file=str(tmp_path / "no-map"),
            **more,
        )
    )
    return script


def test_a_returning_disk_is_put_back_into_the_array_and_no_other(tmp_path):
    """The RAID's re-add at boot, with a stand-in for mdadm. Of the site's disks: one back after
    it was noted away, carrying this array's superblock, is re-added; a member and a disk of
    another array are left alone. Out of the array but never noted away (md failed it), or
    having run the array alone meanwhile (its own array state shows the other disk missing):
    left out, and the unit fails naming why. A refused re-add fails it too, naming the way out."""
    bin_dir, disks, away = tmp_path / "bin", tmp_path / "disks", tmp_path / "away"
    sys_dir = tmp_path / "sys"
    (sys_dir / "block" / "md0" / "md").mkdir(parents=True)
    (sys_dir / "block" / "md0" / "md" / "array_state").write_text("clean\n")
    bin_dir.mkdir()
    disks.mkdir()
    for name in ("member", "returning", "foreign", "unseen", "split"):
        (disks / name).write_text("")
    calls = tmp_path / "calls"
    (bin_dir / "mdadm").write_text(
        "#!/bin/sh\n"
        f'echo "$*" >> {calls}\n'
        'case "$*" in\n'
        f"  '--detail --export /dev/md0') printf 'MD_LEVEL=raid1\\nMD_DEVICE_dev_x_DEV={disks}/member\\n';;\n"
        f"  '--examine --export {disks}/foreign') echo MD_UUID=99999999:99999999:99999999:99999999;;\n"
        "  '--examine --export '*) echo MD_UUID=11111111:22222222:33333333:44444444;;\n"
        f"  '--examine {disks}/split') echo '   Array State : .A (A == active)';;\n"
        "  '--examine '*) echo '   Array State : AA (A == active)';;\n"
        '  *--re-add*) [ -e "$REFUSE" ] && { echo "mdadm: --re-add not possible" >&2; exit 1; }\n'
        '    echo "re-added";;\n'
        "esac\n"
    )
    (bin_dir / "mdadm").chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "REFUSE": str(tmp_path / "refuse")}

    def mark(name: str):
        return away / str(disks / name).replace("/", "_")

    def run(*names: str):
        script = raid_boot_script(tmp_path, [str(disks / name) for name in names], away, sys_dir)
        calls.write_text("")
        done = subprocess.run(["sh", str(script)], capture_output=True, text=True, env=env, timeout=30)
        readds = [line.rsplit("/", 1)[-1] for line in calls.read_text().splitlines() if "--re-add" in line]
        return done.returncode, readds, done.stderr

    away.mkdir()
    for name in ("returning", "split", "refused"):
        mark(name).write_text("")
    first = run("member", "returning", "foreign", "absent")
    noted = sorted(path.name.rsplit("_", 1)[-1] for path in away.iterdir())
    unseen, split = run("unseen"), run("split")
    (disks / "refused").write_text("")
    (tmp_path / "refuse").write_text("")
    refused = run("refused")
    assert (first[:2], noted, unseen[:2], split[:2], refused[:2]) == (
        (0, ["returning"]),
        ["refused", "split"],
        (1, []),
        (1, []),
        (1, ["refused"]),
    ), first
    assert (
        "was not noted away" in unseen[2],
        "ran /dev/md0 without the other disk" in split[2],
        "hastack disk replace" in refused[2],
    ) == (True, True, True)


def test_an_array_left_waiting_for_a_missing_disk_is_started_without_it(tmp_path):
    """At boot, the array inactive (waiting for its other half) once the system has been up
    start_after_s: started degraded with mdadm --run, the absent disk noted away, the mount
    started again. Not started: an array that runs, one inactive with every disk here, one whose
    disk here is the one that was away. An absent disk the present one already counted out
    (md failed it before) is not noted away."""
    bin_dir, disks, sys_dir, away = tmp_path / "bin", tmp_path / "disks", tmp_path / "sys", tmp_path / "away"
    state = sys_dir / "block" / "md0" / "md" / "array_state"
    state.parent.mkdir(parents=True)
    bin_dir.mkdir()
    disks.mkdir()
    (disks / "here").write_text("")
    calls = tmp_path / "calls"
    (bin_dir / "mdadm").write_text(
        "#!/bin/sh\n"
        f'echo "mdadm $*" >> {calls}\n'
        'case "$*" in\n'
        f"  '--run /dev/md0') echo clean > {state};;\n"
        "  '--examine '*) echo \"   Array State : $VIEW (A == active)\";;\n"
        "esac\n"
    )
    for tool in ("systemctl", "systemd-escape"):
        (bin_dir / tool).write_text(f'#!/bin/sh\necho "{tool} $*" >> {calls}\necho raid1.mount\n')
    for tool in bin_dir.iterdir():
        tool.chmod(0o755)

    def run(initial: str, names=("here", "absent"), view="AA") -> tuple[int, list[str], list[str], str]:
        for path in away.glob("*") if away.exists() else []:
            path.unlink()
        if view == "marked":
            away.mkdir(exist_ok=True)
            (away / str(disks / "here").replace("/", "_")).write_text("")
        state.write_text(initial + "\n")
        calls.write_text("")
        script = raid_boot_script(
            tmp_path, [str(disks / name) for name in names], away, sys_dir, wait_s=4, start_after_s=0
        )
        env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "VIEW": view}
        done = subprocess.run(["sh", str(script)], capture_output=True, text=True, env=env, timeout=30)
        said = [line for line in calls.read_text().splitlines() if not line.startswith("mdadm --examine")]
        noted = sorted(p.name.rsplit("_", 1)[-1] for p in away.glob("*")) if away.exists() else []
        return done.returncode, said, noted, done.stdout + done.stderr

    started = run("inactive")
    assert started[:3] == (
        0,
        [
            "mdadm --run /dev/md0",
            "systemd-escape -p --suffix=mount /raid1",
            "systemctl start raid1.mount",
            "systemctl is-enabled -q glusterd",
            "systemctl start --no-block glusterd",
            "mdadm --detail --export /dev/md0",
        ],
        ["absent"],
    ), started
    assert "started without it" in started[3]
    already_out = run("inactive", view=".A")
    assert (already_out[0], already_out[1][0], already_out[2]) == (0, "mdadm --run /dev/md0", []), already_out
    running = run("clean")
    assert running[:3] == (0, ["mdadm --detail --export /dev/md0"], []), running
    every_disk = run("inactive", names=("here",))
    assert (every_disk[0], every_disk[1], "with every disk here" in every_disk[3]) == (1, [], True), (
        every_disk
    )
    away_disk = run("inactive", view="marked")
    assert (away_disk[0], away_disk[1], "is the one that was away" in away_disk[3]) == (1, [], True), (
        away_disk
    )
