"""The host firewall, in the lab: port scans from the client, a web host, a proxy and the lab
machine itself (an address that is no host of the site) find open exactly what the design
needs; Docker's rules and hastack's table leave each other alone; a table that would cut the
deploying SSH session off is rolled back by the host itself."""

import ipaddress
import json
import shlex
import subprocess

import pytest

from hastack import firewall, lab, topology
from hastack.deploying import run_deploy
from tests.harness import lab_only_fixture

pytestmark = pytest.mark.lab

# Run on a scanning host: try each (address, port) with a 1 s connect; print what happened.
SCAN = """
import json, socket, sys
from concurrent.futures import ThreadPoolExecutor
def probe(target):
    address, port = target
    try:
        socket.create_connection((address, port), timeout=1).close()
        return "open"
    except ConnectionRefusedError:
        return "refused"
    except OSError:
        return "dropped"
targets = [tuple(t) for t in json.loads(sys.argv[1])]
with ThreadPoolExecutor(32) as pool:
    print(json.dumps([[a, p, r] for (a, p), r in zip(targets, pool.map(probe, targets))]))
"""


lab_only = lab_only_fixture("the firewall tests scan and redeploy hosts")


def listening(connect, site) -> dict[str, list[tuple[str, int]]]:
    """Per host: every TCP socket it listens on beyond loopback, at each address of the host
    that the socket takes (a wildcard socket: every site address of the host, and the VIP on
    the proxy holding it)."""
    found = {}
    holders = topology.vip_holders(site, lambda name: connect(name).check_output(topology.ADDRESSES_COMMAND))
    for name, spec in site.hosts.items():
        lines = connect(name).check_output("ss -Hltn").splitlines()
        addresses = {str(a) for a in spec.addresses.values()}
        if spec.role == "proxy" and name in holders:
            addresses.add(str(site.vip))
        sockets = set()
        for line in lines:
            local = line.split()[3]
            address, port = local.rsplit(":", 1)
            address = address.strip("[]").split("%")[0]
            if address in ("0.0.0.0", "*", "::"):
                sockets |= {(a, int(port)) for a in addresses}
            elif address in addresses:
                sockets.add((address, int(port)))
        found[name] = sorted(sockets)
    return found


def scan_from(connect, name: str | None, targets: list[tuple[str, int]]) -> dict[tuple[str, int], str]:
    payload = json.dumps(targets)
    if name is None:  # the lab machine itself
        out = subprocess.run(
            ["python3", "-c", SCAN, payload], capture_output=True, text=True, check=True, timeout=120
        ).stdout
    else:
        out = connect(name).check_output(f"python3 -c {shlex.quote(SCAN)} {shlex.quote(payload)}")
    return {(a, p): r for a, p, r in json.loads(out)}


def source_address(site, scanner: str | None, target: str) -> str:
    """The address a scan to ``target`` comes from: the scanner's address on the target's
    network (the lab machine: its bridge's gateway, .1)."""
    network = next(net for net, cidr in site.networks.items() if ipaddress.ip_address(target) in cidr)
    if scanner is None:
        return str(next(site.networks[network].hosts()))
    return str(site.hosts[scanner].addresses[network])


def allowed(site, target_host: str, source: str, address: str, port: int) -> bool:
    """What hastack's allow list says for one TCP probe."""
    rules = firewall.for_site_host(site, target_host)
    for rule in rules:
        if rule.proto != "tcp" or (rule.destination and rule.destination != address):
            continue
        in_ports = any((int(p.split("-")[0]) <= port <= int(p.split("-")[-1])) for p in rule.ports)
        from_source = not rule.sources or any(
            ipaddress.ip_address(source) in ipaddress.ip_network(s, strict=False) for s in rule.sources
        )
        if in_ports and from_source:
            return True
    return False


SCANNERS = ["client", "web1", "proxy2", None]


@pytest.mark.parametrize("scanner", SCANNERS, ids=["client", "web1", "proxy2", "lab-machine"])
def test_a_scan_finds_open_exactly_the_allow_list(site, deployed, lab_only, connect, scanner):
    sockets = listening(connect, site)
    targets, owner = [], {}
    for name, found in sockets.items():
        for address, port in found:
            if scanner is not None and name == scanner:
                continue  # its own sockets: loopback traffic, always allowed
            if scanner is not None and not any(
                ipaddress.ip_address(address) in site.networks[net] for net in site.hosts[scanner].addresses
            ):
                continue  # a network the scanner is not on
            targets.append((address, port))
            owner[(address, port)] = name
    results = scan_from(connect, scanner, targets)
    wrong = {
        f"{owner[t]} {t[0]}:{t[1]}": result
        for t, result in results.items()
        if (result == "open") != allowed(site, owner[t], source_address(site, scanner, t[0]), *t)
    }
    print(f"\n{len(targets)} listening sockets probed from {scanner or 'the lab machine'}")
    assert (len(targets) > 5, wrong) == (True, {})


def test_the_front_network_reaches_only_the_shop_on_the_vip_and_ssh(site, deployed, lab_only, connect):
    """Independent of the allow list's code: from the client, on the front network, what opens
    is HTTP and HTTPS on the VIP, and SSH (the default admin networks take in both networks)."""
    sockets = listening(connect, site)
    front = site.networks["front"]
    targets = sorted(
        {
            (a, p)
            for name, found in sockets.items()
            if name != "client"
            for a, p in found
            if ipaddress.ip_address(a) in front
        }
    )
    results = scan_from(connect, "client", targets)
    opened = {t for t, result in results.items() if result == "open"}
    vip = str(site.vip)
    ssh = {(a, p) for a, p in targets if p == site.ssh.port}
    assert opened == {(vip, 80), (vip, site.proxy_setting("https_port"))} | ssh
    assert {(vip, 24007), (vip, 2224), (vip, 111)} & opened == set()


def test_snmp_answers_no_one_but_the_collectors(site, deployed, lab_only):
    """From the lab machine (no collector), SNMPv3 with the right user gets no answer at all."""
    from hastack import secrets

    web = site.hosts_in("web")[0]
    result = subprocess.run(
        [
            "snmpget",
            "-t",
            "2",
            "-r",
            "0",
            "-v3",
            "-l",
            "authPriv",
            "-u",
            site.setting("snmp_user", web),
            "-a",
            "SHA-256",
            "-A",
            secrets.password(site.cluster, "snmp_auth_password"),
            "-x",
            "AES",
            "-X",
            secrets.password(site.cluster, "snmp_priv_password"),
            str(web.addresses["back"]),
            "1.3.6.1.2.1.1.5.0",
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert (result.returncode != 0, "Timeout" in result.stderr + result.stdout) == (True, True)


def test_docker_and_hastack_keep_their_own_rules(site, deployed, lab_only, connect):
    """On a web host: Docker's NAT is there with hastack's table; restarting Docker keeps
    hastack's table as confirmed, and loading hastack's table again keeps Docker's NAT."""
    web = connect(site.hosts_in("web")[0].name)

    def state():
        tables = web.check_output("nft list tables")
        confirmed = (
            web.run(
                "[ \"$(nft list table inet hastack | sha256sum | cut -d' ' -f1)\" = "
                '"$(cat /var/lib/hastack/firewall/listed.sha256)" ]'
            ).rc
            == 0
        )
        nat = "DOCKER" in web.check_output("iptables -t nat -S 2>/dev/null || true")
        return "table inet hastack" in tables, confirmed, nat

    before = state()
    web.check_output("systemctl restart docker")
    after_docker = state()
    web.check_output("nft -f /etc/hastack/firewall.nft")
    after_reload = state()
    assert (before, after_docker, after_reload) == ((True, True, True),) * 3


def test_a_table_that_cuts_the_deploy_off_is_rolled_back_by_the_host(site, deployed, lab_only, connect):
    """admin_networks narrowed to a network the deploying machine is not on: the new table
    drops the new SSH login, the run fails naming the host, the host puts its previous table
    back by itself, and is reachable again."""
    name = site.hosts_in("web")[-1].name
    locked = lab.derived_site(
        lab.LAB_DIR / "site-locked-out.yaml", admin_networks=["192.0.2.0/24"], firewall_confirm_seconds=15
    )
    before = connect(name).check_output("cat /etc/hastack/firewall.nft")
    run = run_deploy(locked, "deploys/web.py", "--limit", name, log=lab.LAB_DIR / "locked-out.log")
    remote = connect(name, fresh=True)
    log = remote.check_output("tail -3 /var/lib/hastack/firewall/switch.log")
    after = remote.check_output("cat /etc/hastack/firewall.nft")
    restored = run_deploy(
        lab.SITE_FILE, "deploys/web.py", "--limit", name, log=lab.LAB_DIR / "locked-back.log"
    )
    assert (
        run.returncode != 0,
        f"host {name}: no new SSH login" in run.output,
        "rolled back to the previous table" in log,
        after == before,
        restored.returncode,
        restored.changed_operations,
    ) == (
        True,
        True,
        True,
        True,
        0,
        ["Firewall: nftables | Stage the host's nftables table (checked with nft -c) (1 hosts)"],
    ), run.report(2000)
