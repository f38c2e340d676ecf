"""The base layer on every host."""

import ipaddress
import json
import subprocess

import yaml

from hastack import neighbours
from hastack.checks.plugin import host_platform
from hastack.checks.plugin import site_host_name as _name
from hastack.components.base import (
    CLOUD_INIT_DIR,
    CLOUD_INIT_IDENTITY_FILE,
    CLOUD_INIT_IDENTITY_KEYS,
    CLOUD_INIT_IDENTITY_OFF,
    CLOUD_INIT_NETWORK_OFF,
)

LAYER = "base"


def netplan_file(host, site) -> str:
    """The netplan file hastack writes on this host (the site's netplan_file)."""
    return site.setting("netplan_file", site.hosts[_name(host, site)])


def test_hostname_is_the_site_name(host, site):
    name = _name(host, site)
    assert host.check_output("hostname") == name


def test_hostname_file(host, site):
    assert host.file("/etc/hostname").content_string.strip() == _name(host, site)


def test_hosts_file_resolves_every_cluster_host(host, site):
    resolved = {other: host.run(f"getent hosts {other}").stdout.split()[:1] for other in site.hosts}
    assert resolved == {name: [spec.primary_address] for name, spec in site.hosts.items()}


def test_hosts_file_names_the_vip(host, site):
    assert host.check_output(f"getent hosts {site.cluster}-vip").split()[0] == str(site.vip)


def test_chrony_running(host, site):
    assert host.service(host_platform(host, site).chrony_service).is_running


def test_chrony_enabled(host, site):
    assert host.service(host_platform(host, site).chrony_service).is_enabled


def test_chronyd_answers(host):
    assert host.run("chronyc -n tracking").rc == 0


def test_netplan_file_is_private(host, site):
    assert host.file(netplan_file(host, site)).mode == 0o600


def test_netplan_file_is_valid(host, site):
    cmd = host.run(
        f"d=$(mktemp -d) && mkdir -p $d/etc/netplan && cp {netplan_file(host, site)} "
        "$d/etc/netplan/ && netplan generate --root-dir $d; rc=$?; rm -rf $d; exit $rc"
    )
    assert cmd.rc == 0, cmd.stderr


def netplan_network(host, site) -> dict:
    """The ``network:`` mapping of hastack's netplan file on this host."""
    return yaml.safe_load(host.file(netplan_file(host, site)).content_string)["network"]


def definitions(host, site) -> dict[str, tuple[str, str, dict]]:
    """Each network of the host: netplan's section, the definition's id and the definition in
    hastack's netplan file (a card's under ethernets by the network's name; a bond's or a VLAN's
    by its own name, as the site's nics names it)."""
    spec = site.hosts[_name(host, site)]
    network = netplan_network(host, site)
    found = {}
    for net_name in spec.addresses:
        nic = spec.nics.get(net_name)
        section, ident = (
            ("bonds", nic)
            if nic in spec.bonds
            else ("vlans", nic)
            if nic in spec.vlans
            else ("ethernets", net_name)
        )
        found[net_name] = (section, ident, network.get(section, {}).get(ident, {}))
    return found


def test_netplan_has_the_site_addresses(host, site):
    spec = site.hosts[_name(host, site)]
    for net_name, (_, _, entry) in definitions(host, site).items():
        prefix = ipaddress.ip_network(site.networks[net_name]).prefixlen
        assert entry.get("addresses") == [f"{spec.addresses[net_name]}/{prefix}"], net_name


def test_netplan_has_the_sites_bonds_and_vlans(host, site):
    """Each bond of the host with its members (by name) and mode, each VLAN with its id and link
    (a bond, or a card by name): in hastack's netplan file, and in the kernel where the site
    applies netplan (networkd keeps a bond's or VLAN's old settings until it is made again)."""
    spec = site.hosts[_name(host, site)]
    network = netplan_network(host, site)
    ethernets = network.get("ethernets", {})
    by_mac = {
        link.get("address", "").lower(): link["ifname"]
        for link in json.loads(host.check_output("ip -j link show"))
        if link.get("ifname")
    }

    def card(ident: str) -> str | None:
        """The card a netplan id of the file matches, by name (a MAC looked up on the host)."""
        match = ethernets.get(ident, {}).get("match", {})
        return match.get("name") or by_mac.get(match.get("macaddress", "").lower())

    bonds = {
        name: (sorted(card(member) for member in entry["interfaces"]), entry["parameters"]["mode"])
        for name, entry in network.get("bonds", {}).items()
    }
    vlans = {
        name: (
            entry["id"],
            entry["link"] if entry["link"] in network.get("bonds", {}) else card(entry["link"]),
        )
        for name, entry in network.get("vlans", {}).items()
    }
    wanted_bonds = {name: (sorted(item["interfaces"]), item["mode"]) for name, item in spec.bonds.items()}
    wanted_vlans = {name: (item["id"], item["link"]) for name, item in spec.vlans.items()}
    assert (bonds, vlans) == (wanted_bonds, wanted_vlans), (
        f"{netplan_file(host, site)} has bonds (members, mode) {bonds} and VLANs (id, link) {vlans}, "
        f"the site's hosts.{spec.name}.bonds/vlans {wanted_bonds}, {wanted_vlans}: deploy the host again"
    )
    if not site.setting("netplan_apply", spec):
        return
    kernel_bonds = {
        name: (
            sorted(host.run(f"cat /sys/class/net/{name}/bonding/slaves").stdout.split()),
            host.run(f"cat /sys/class/net/{name}/bonding/mode").stdout.split()[:1],
        )
        for name in spec.bonds
    }
    shown = {link["ifname"]: link for link in json.loads(host.check_output("ip -j -d link show"))}
    kernel_vlans = {
        name: (
            shown.get(name, {}).get("linkinfo", {}).get("info_data", {}).get("id"),
            shown.get(name, {}).get("link"),
        )
        for name in spec.vlans
    }
    wanted = (
        {name: (members, [mode]) for name, (members, mode) in wanted_bonds.items()},
        wanted_vlans,
    )
    assert (kernel_bonds, kernel_vlans) == wanted, (
        f"the kernel's bonds (members, mode) {kernel_bonds} and VLANs (id, link) {kernel_vlans}, the "
        f"site's {wanted}: networkd keeps a bond's or a VLAN's old settings: reboot the host (or "
        "delete the link and run `netplan apply`)"
    )


def test_netplan_routes_are_the_sites(host, site):
    """Each network's routes in the netplan file: the site's default route (netplan_gateways),
    then its static routes (netplan_routes); where the site applies netplan, the kernel has the
    static ones too."""
    spec = site.hosts[_name(host, site)]
    entries = {name: entry for name, (_, _, entry) in definitions(host, site).items()}
    gateways, routes = site.setting("netplan_gateways", spec), site.setting("netplan_routes", spec)
    wanted = {
        name: ([{"to": "default", "via": str(gateways[name])}] if name in gateways else [])
        + [{"to": str(route["to"]), "via": str(route["via"])} for route in routes.get(name, [])]
        for name in spec.addresses
    }
    found = {name: entries[name].get("routes", []) for name in spec.addresses}
    assert found == wanted, (
        f"the routes of {netplan_file(host, site)} are {found}, the site's (netplan_gateways, "
        f"netplan_routes) {wanted}: deploy the host again"
    )
    if site.setting("netplan_apply", spec):
        kernel = {
            (str(route["to"]), str(route["via"])): host.check_output(f"ip -4 route show {route['to']}")
            for name in spec.addresses
            for route in routes.get(name, [])
        }
        missing = [key for key, shown in kernel.items() if f"via {key[1]} " not in f"{shown} "]
        assert missing == [], (
            f"the kernel has no route (to, via) {missing} of netplan_routes: run `netplan apply`"
        )


def test_netplan_matches_the_interface_that_carries_the_address(host, site):
    spec = site.hosts[_name(host, site)]
    links = json.loads(host.check_output("ip -j addr show"))
    for net_name, (section, ident, entry) in definitions(host, site).items():
        address = spec.addresses[net_name]
        # matched by MAC, or by interface name where the site names the NIC so (``nics``); a
        # bond or a VLAN by its own name
        (key, wanted), *_ = entry["match"].items() if section == "ethernets" else [("name", ident)]
        field = {"macaddress": "address", "name": "ifname"}[key]
        carrier = [
            link[field]
            for link in links
            if any(info.get("local") == str(address) for info in link["addr_info"])
        ]
        assert carrier == [wanted], f"{net_name}: {address} is on {carrier}, netplan matches {key} {wanted}"


def test_sshd_refuses_passwords(host):
    config = host.check_output("sshd -T")
    assert "passwordauthentication no" in config.splitlines()


def test_sshd_root_by_key_only(host):
    config = host.check_output("sshd -T")
    assert "permitrootlogin without-password" in config.splitlines()


def test_sshd_running(host, site):
    assert host.service(host_platform(host, site).ssh_service).is_running


def test_ssh_refuses_password_login(host, site):
    """A real login attempt with passwords only: the server must offer nothing but keys."""
    address = site.hosts[_name(host, site)].connect_address
    attempt = subprocess.run(
        [
            "ssh",
            "-o",
            "BatchMode=yes",
            "-o",
            "PubkeyAuthentication=no",
            "-o",
            "PreferredAuthentications=password,keyboard-interactive",
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
            "-o",
            "ConnectTimeout=10",
            "-p",
            str(site.ssh.port),
            f"root@{address}",
            "true",
        ],
        text=True,
        capture_output=True,
        timeout=30,
    )
    assert "Permission denied (publickey)" in attempt.stderr


def test_unattended_upgrades_follow_the_sites_policy(host, site):
    """`hold` or `off`: hastack's apt settings say so; no choice: none of hastack's (the preflight
    refuses a host where unattended-upgrades runs without one)."""
    policy = site.setting("unattended_upgrades", site.hosts[_name(host, site)])
    if host_platform(host, site).packager != "apt":
        return
    conf = host.file(neighbours.UNATTENDED_CONF)
    wanted = neighbours.unattended_conf(policy)
    found = conf.content_string if conf.exists else None
    # what apt makes of all its files (a later one can undo hastack's), where it matters
    effective: list[str] = []
    wanted_effective: list[str] = []
    if policy and host.package("unattended-upgrades").is_installed:
        dump = host.check_output("apt-config dump").splitlines()
        if policy == "disable":
            effective = [line for line in dump if line.startswith("APT::Periodic::Unattended-Upgrade ")]
            wanted_effective = ['APT::Periodic::Unattended-Upgrade "0";']
        else:
            held = "Unattended-Upgrade::Package-Blacklist:: "
            listed = {line.split(" ", 1)[1] for line in dump if line.startswith(held)}
            effective = [f'"{p}";' for p in neighbours.CLUSTER_PACKAGE_PATTERNS if f'"{p}";' not in listed]
            effective += [line for line in dump if line.startswith("Unattended-Upgrade::Automatic-Reboot ")]
            wanted_effective = ['Unattended-Upgrade::Automatic-Reboot "false";']
    assert (found == wanted, effective) == (True, wanted_effective), (
        f"deploy the host again: {neighbours.UNATTENDED_CONF} is not what unattended_upgrades says, "
        "or another file of /etc/apt/apt.conf.d undoes it (`apt-config dump`)"
    )


def test_cloud_init_leaves_the_network_hostname_and_hosts_to_hastack(host):
    """Where cloud-init is (its configuration folder), hastack's two files tell it to leave the
    network, the hostname and /etc/hosts alone (else it writes them again at each boot), and
    nothing that cloud-init reads after them sets the hostname's keys again: a configuration
    file named after hastack's, user-data or vendor-data."""
    if not host.file(CLOUD_INIT_DIR).is_directory:
        return
    network_file = f"{CLOUD_INIT_DIR}/99-hastack-network.cfg"
    found = {path: host.run(f"cat {path}").stdout for path in (network_file, CLOUD_INIT_IDENTITY_FILE)}
    # cloud-init merges its configuration folder's files in Python's sort order, the last winning.
    listed = host.run(
        f"ls -d {CLOUD_INIT_DIR}/*.cfg /var/lib/cloud/instance/cloud-config.txt "
        "/var/lib/cloud/instance/vendor-cloud-config.txt /run/cloud-init/cloud.cfg 2>/dev/null"
    ).stdout.split()
    later = [
        path
        for path in listed
        if not path.startswith(f"{CLOUD_INIT_DIR}/") or path > CLOUD_INIT_IDENTITY_FILE
    ]
    # Either key set the other way (YAML's booleans; manage_etc_hosts also takes localhost).
    pattern = (
        "^[[:space:]]*(preserve_hostname[[:space:]]*:[[:space:]]*(false|no|off)|"
        "manage_etc_hosts[[:space:]]*:[[:space:]]*(true|yes|on|localhost|template))"
    )
    overriding = host.run(f"grep -liE '{pattern}' {' '.join(later)}").stdout.split() if later else []
    assert (found, overriding) == (
        {network_file: CLOUD_INIT_NETWORK_OFF, CLOUD_INIT_IDENTITY_FILE: CLOUD_INIT_IDENTITY_OFF},
        [],
    ), (
        f"cloud-init: hastack's files ({network_file}, {CLOUD_INIT_IDENTITY_FILE}) missing or changed "
        f"(deploy the host again), or {overriding} set {' or '.join(CLOUD_INIT_IDENTITY_KEYS)} back "
        "after them: take those keys out of them (or out of the instance's user-data)"
    )
