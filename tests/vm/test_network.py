"""The network layer, deployed into a real kernel: a qemu VM with systemd-networkd and netplan,
set up as an installer leaves a server (its own netplan file, the second card named and
addressed its way).

In order: the deploy puts the installer's file aside (kept) and the host ends with the site's
addresses; its second run changes nothing; a site that maps the wrong card (the SSH card gets
the back network's static address, so the host drops off) is applied, no new SSH login
follows, the host puts the previous files back by itself, stays reachable, and the run fails
naming it.

Then a gateway: DNS servers are refused while systemd-resolved does not serve the names there
(nothing changed); the SSH card moves from DHCP to the same address with a static gateway
(qemu's), and still resolves and reaches the package mirror, as the host's own check confirms;
a wrong gateway leaves a default route but not the mirror, so the host's check fails the run
naming the host, and the host puts the previous files back. Last, with systemd-resolved
installed, the card moves to static DNS as well: the site's server is the card's in networkd and
resolved, and names resolve through resolved's stub.
"""

import time
import urllib.parse

import pytest

from hastack import lab
from hastack.lab import vm

BACK_MAC = "52:54:00:00:01:02"
# The second card's network (qemu's user network, vm.BACK_NET): the site's back network.
SITE_BACK = "10.0.3.21"
INSTALLER_BACK = "10.0.3.99"
INSTALLER_FILE = "/etc/netplan/50-cloud-init.yaml"
# As an installer writes it: the SSH card by DHCP, the second card under a name of its own
# with an address of its own.
INSTALLER_YAML = f"""network:
  version: 2
  ethernets:
    eth0:
      dhcp4: true
    enp0s8:
      match:
        macaddress: "{BACK_MAC}"
      addresses: [{INSTALLER_BACK}/24]
"""
LIVE = "/etc/netplan/60-hastack.yaml"
ASIDE = "/var/lib/hastack/netplan/aside"


@pytest.fixture(scope="module")
def net_vm():
    try:
        with vm.started("net", {}, nics={"back": BACK_MAC}) as machine:
            yield machine
    except lab.LabError as error:
        pytest.fail(f"the VM cannot start, so the network tests cannot run: {error}")


def site(machine, nics: dict, dhcp: list, confirm_seconds: int = vm.CONFIRM_SECONDS) -> dict:
    """The VM as web1 of a site whose back network is the second card's."""
    document = vm.on_test_networks(machine.site_document(["/dev/vdb", "/dev/vdc"]))
    document["hosts"]["web1"].update(back=SITE_BACK, nics=nics, dhcp=dhcp)
    document["data"] = {
        "raid_enabled": False,
        "monitoring_enabled": False,
        "chrony_set_clock": False,
        "netplan_confirm_seconds": confirm_seconds,
    }
    return document


def good_site(machine) -> dict:
    return site(machine, {"back": BACK_MAC}, [vm.FIRST_MAC])


@pytest.fixture(scope="module")
def installed(net_vm):
    """The VM's network handed to netplan with an installer's file, as a server comes."""
    vm.ensure_installed(net_vm, "netplan.io")
    net_vm.ssh(
        f"cat > {INSTALLER_FILE} << 'EOF'\n{INSTALLER_YAML}EOF\n"
        f"chmod 600 {INSTALLER_FILE} && rm -f /etc/systemd/network/10-eth0.network"
    )
    # The apply may cut this SSH session: run it apart, wait for it, and reconnect.
    net_vm.ssh("systemd-run --quiet --collect --wait netplan apply", check=False)
    net_vm.drop_connection()
    net_vm.wait_for_ssh()
    return net_vm


def addresses(machine, nic: str) -> list[str]:
    out = machine.ssh(f"ip -4 -o addr show dev {nic} | awk '{{print $4}}'").stdout
    return sorted(out.split())


def test_the_installer_file_gives_the_second_card_its_own_address(installed):
    assert addresses(installed, "eth1") == [f"{INSTALLER_BACK}/24"]


@pytest.fixture(scope="module")
def deployed(installed):
    run = installed.deploy("deploys/base_only.py", good_site(installed), "net-deploy")
    # sshd was reloaded last (its drop-in): a login in that moment is reset.
    installed.drop_connection()
    installed.wait_for_ssh(limit=60)
    return run


def test_deploy_succeeds(deployed):
    assert deployed.returncode == 0, deployed.report(3000)


def test_the_host_ends_with_the_sites_address_only(deployed, installed):
    assert addresses(installed, "eth1") == [f"{SITE_BACK}/24"]


def test_hastacks_file_is_the_only_live_one(deployed, installed):
    assert installed.ssh("ls /etc/netplan").stdout.split() == [LIVE.rsplit("/", 1)[1]]


def test_the_installer_file_is_kept_aside(deployed, installed):
    kept = installed.ssh(f"cat {ASIDE}/{INSTALLER_FILE.rsplit('/', 1)[1]}.*").stdout
    assert kept == INSTALLER_YAML


def test_the_apply_was_confirmed_by_a_new_login(deployed, installed):
    log = installed.ssh("cat /var/lib/hastack/netplan/switch.log").stdout
    assert ("confirmed by a new SSH login" in log, "rolled back" in log) == (True, False)


def test_second_run_changes_nothing(deployed, installed):
    run = installed.deploy("deploys/base_only.py", good_site(installed), "net-second")
    assert (run.returncode, run.changed_operations) == (0, []), run.report(3000)


def wait_for_the_rollback(machine) -> None:
    """Until the host's own rollback has run: the pending mark goes last, once logged."""
    deadline = time.monotonic() + 180
    while machine.ssh("test -e /var/lib/hastack/netplan/pending", check=False, timeout=10).returncode != 1:
        if time.monotonic() > deadline:
            pytest.fail("the host did not roll back within 180 s of the failed run (its pending mark stands)")
        time.sleep(2)


@pytest.fixture(scope="module")
def wrong_nic(deployed, installed):
    """The back network's static address on the SSH card, and no DHCP: the host drops off."""
    before = installed.ssh(f"sha256sum {LIVE}").stdout.split()[0]
    started = time.monotonic()
    wrong = site(installed, {"back": vm.FIRST_MAC}, [], confirm_seconds=30)
    run = installed.deploy("deploys/base_only.py", wrong, "net-wrong")
    installed.drop_connection()
    installed.wait_for_ssh(limit=120)
    # The host may answer before its timer fired (a slow host: the wrong file is still live):
    # the rollback is the host's own, so wait for it (the pending mark goes last, once logged).
    wait_for_the_rollback(installed)
    return run, before, time.monotonic() - started


def test_a_wrong_nic_mapping_fails_the_run_naming_the_host(wrong_nic):
    run, _, _ = wrong_nic
    # A slow host may still be applying when the logins come back: that is said as such.
    messages = [
        "host web1: no new SSH login to 127.0.0.1 within 30 s after `netplan apply`",
        "host web1: a new SSH login worked, but `netplan apply` had not finished within 30 s",
    ]
    said = [message in run.output for message in messages]
    assert (run.returncode != 0, any(said)) == (True, True), run.report(3000)


def test_a_wrong_nic_mapping_is_rolled_back(wrong_nic, installed):
    _, before, _ = wrong_nic
    after = installed.ssh(f"sha256sum {LIVE}").stdout.split()[0]
    log = installed.ssh("cat /var/lib/hastack/netplan/switch.log").stdout.splitlines()
    assert (after == before, "rolled back to the previous files" in log[-1]) == (True, True)


def test_the_host_is_reachable_with_its_addresses_after_the_rollback(wrong_nic, installed):
    assert (addresses(installed, "eth1"), addresses(installed, "eth0")) == (
        [f"{SITE_BACK}/24"],
        ["10.0.2.15/24"],
    )


# qemu's user network on the SSH card (DHCP gives 10.0.2.15, the gateway 10.0.2.2, DNS 10.0.2.3).
SSH_NET, SSH_ADDRESS, GATEWAY, DNS = "10.0.2.0/24", "10.0.2.15", "10.0.2.2", "10.0.2.3"
STATIC_ROUTE = "198.51.100.0/24"


def static_site(
    machine, gateway: str, nameservers: list[str], confirm_seconds: int = vm.CONFIRM_SECONDS
) -> dict:
    """The SSH card as the back network, static: its DHCP address, this gateway and DNS."""
    document = site(machine, {"back": vm.FIRST_MAC}, [], confirm_seconds)
    document["networks"]["back"] = SSH_NET
    document["hosts"]["proxy1"]["back"] = "10.0.2.11"
    document["hosts"]["proxy2"]["back"] = "10.0.2.12"
    document["hosts"]["web2"]["back"] = "10.0.2.22"
    document["hosts"]["web1"]["back"] = SSH_ADDRESS
    document["data"].update(netplan_gateways={"back": gateway}, netplan_nameservers=nameservers)
    return document


def live_digest(machine) -> str:
    return machine.ssh(f"sha256sum {LIVE}").stdout.split()[0]


@pytest.fixture(scope="module")
def dns_without_resolved(wrong_nic, installed):
    before = live_digest(installed)
    run = installed.deploy("deploys/base_only.py", static_site(installed, GATEWAY, [DNS]), "net-no-resolved")
    return run, before, live_digest(installed)


def test_dns_servers_where_systemd_resolved_does_not_run_are_refused_before_any_change(dns_without_resolved):
    run, before, after = dns_without_resolved
    said = "netplan hands netplan_nameservers to systemd-resolved, which does not serve the host's names"
    assert (run.returncode != 0, said in run.output, "host web1" in run.output, after == before) == (
        True,
        True,
        True,
        True,
    ), run.report(3000)


@pytest.fixture(scope="module")
def static_gateway(dns_without_resolved, installed):
    """The SSH card static, with qemu's gateway (its DNS server stays in /etc/resolv.conf), and a
    static route through it to a documentation network (nothing is sent there)."""
    document = static_site(installed, GATEWAY, [])
    document["data"]["netplan_routes"] = {"back": [{"to": STATIC_ROUTE, "via": GATEWAY}]}
    run = installed.deploy("deploys/base_only.py", document, "net-static")
    installed.drop_connection()
    installed.wait_for_ssh(limit=60)
    return run


def test_a_static_gateway_is_applied(static_gateway, installed):
    """Static now, not DHCP's: the route's protocol, an address without a lease, networkd's file."""
    assert static_gateway.returncode == 0, static_gateway.report(3000)
    route = installed.ssh("ip -4 route show default").stdout.split()
    address = installed.ssh("ip -4 addr show dev eth0").stdout
    network = installed.ssh("cat /run/systemd/network/10-netplan-back.network").stdout
    assert (
        route[:5],
        "proto static" in " ".join(route),
        "dynamic" in address,
        f"Gateway={GATEWAY}" in network,
    ) == (["default", "via", GATEWAY, "dev", "eth0"], True, False, True), network


def test_a_static_route_is_applied(static_gateway, installed):
    route = installed.ssh(f"ip -4 route show {STATIC_ROUTE}").stdout.split()
    assert route[:5] == [STATIC_ROUTE, "via", GATEWAY, "dev", "eth0"], route


def mirror_name(machine) -> str:
    """The package mirror's host name, as the VM's apt asks for it (a name: DNS is what the
    test is about)."""
    uri = machine.ssh("apt-get update --print-uris | awk -F\"'\" 'NR==1 {print $2}'").stdout.strip()
    name = urllib.parse.urlsplit(uri).hostname or ""
    if not name or name.replace(".", "").isdigit() or ":" in name:
        pytest.fail(f"the VM's package mirror is not named by a host name ({uri!r}): DNS cannot be tested")
    return name


def confirmations(machine) -> list[str]:
    log = machine.ssh("cat /var/lib/hastack/netplan/switch.log").stdout.splitlines()
    return [line for line in log if "confirmed by a new SSH login" in line]


def test_the_host_still_resolves_and_reaches_the_mirror_as_its_own_check_said(static_gateway, installed):
    """The confirmation came with the host's checks: a default route and the mirror, as before."""
    resolved = installed.ssh(f"getent hosts {mirror_name(installed)}", check=False).returncode
    confirmed = confirmations(installed)[-1]
    assert (resolved, "with route mirror as before" in confirmed) == (0, True), confirmed


WRONG_GATEWAY_SECONDS = 120


@pytest.fixture(scope="module")
def wrong_gateway(static_gateway, installed):
    """A gateway where no router is: the route is there, the mirror is not. The run waits out the
    whole bound (the check keeps failing), so it is 120 s, not 180. At 45 s, a clean-clone CI run
    (2026-12-06) failed: the starved VM had not finished `netplan apply` when the bound ran out, so
    the run said that instead of what the host's own check said."""
    before = live_digest(installed)
    run = installed.deploy(
        "deploys/base_only.py",
        static_site(installed, "10.0.2.99", [], confirm_seconds=WRONG_GATEWAY_SECONDS),
        "net-gw",
    )
    installed.drop_connection()
    installed.wait_for_ssh(limit=120)
    wait_for_the_rollback(installed)
    return run, before


def test_a_wrong_gateway_fails_the_run_with_the_hosts_own_check(wrong_gateway):
    """Whether the host's timer or this side's last login came first (a starved VM), the run
    says what the host's own check said."""
    run, _ = wrong_gateway
    phrases = (
        "host web1: a new SSH login worked after `netplan apply`",
        "the host's own check said: the package mirror",
        "no longer answers",
    )
    missing = [phrase for phrase in phrases if phrase not in run.output]
    assert (run.returncode != 0, missing) == (True, []), run.report(3000)


def test_the_host_logs_why_it_was_not_confirmed(wrong_gateway, installed):
    log = installed.ssh("cat /var/lib/hastack/netplan/switch.log").stdout.splitlines()
    why = [line for line in log if "not confirmed yet: the package mirror" in line]
    assert (len(why) > 0, "rolled back to the previous files" in log[-1]) == (True, True), log[-8:]


def test_a_wrong_gateway_is_rolled_back_to_the_working_one(wrong_gateway, installed):
    _, before = wrong_gateway
    route = installed.ssh("ip -4 route show default").stdout.split()
    assert (live_digest(installed), route[:3]) == (before, ["default", "via", GATEWAY])


IFUPDOWN_STANZA = "/etc/network/interfaces.d/50-cloud-init"


@pytest.fixture(scope="module")
def ifupdown_too(wrong_gateway, installed):
    """ifupdown installed, with a stanza for the SSH card as a cloud image leaves it (never
    brought up here: the stanza is `allow-hotplug`, read at boot, and ifup is not run)."""
    installed.ssh("DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends ifupdown")
    # as Debian's installer leaves /etc/network/interfaces
    installed.ssh(
        "mkdir -p /etc/network/interfaces.d && printf 'source /etc/network/interfaces.d/*\\n"
        "auto lo\\niface lo inet loopback\\n' > /etc/network/interfaces && "
        f"printf 'allow-hotplug eth0\\niface eth0 inet dhcp\\n' > {IFUPDOWN_STANZA}"
    )
    before = live_digest(installed)
    try:
        run = installed.deploy("deploys/base_only.py", static_site(installed, GATEWAY, []), "net-ifupdown")
        return run, before, live_digest(installed)
    finally:
        installed.ssh(
            f"rm -f {IFUPDOWN_STANZA} /etc/network/interfaces; "
            "DEBIAN_FRONTEND=noninteractive apt-get purge -y -q ifupdown"
        )


def test_a_nic_that_ifupdown_also_brings_up_is_refused_before_any_change(ifupdown_too):
    run, before, after = ifupdown_too
    said = f"host web1: ifupdown drives eth0 too (brought up at boot ({IFUPDOWN_STANZA}))"
    assert (
        run.returncode != 0,
        said in run.output,
        "Take eth0 out of ifupdown's stanzas" in run.output,
        after == before,
    ) == (
        True,
        True,
        True,
        True,
    ), run.report(3000)


LEASE_DNS = "/etc/systemd/resolved.conf.d/50-hastack-test-lease.conf"


@pytest.fixture(scope="module")
def static_dns(ifupdown_too, installed):
    """systemd-resolved installed (as on a server that has it), then the SSH card moved to
    static DNS beside its static gateway. Until the deploy, resolved has qemu's DNS server from a
    drop-in of the test's (where a DHCP lease would give it: the card is static at this point of
    the module, and an apt with no name resolving would stop the deploy first); the drop-in goes
    after the deploy, so what resolves then is the site's netplan_nameservers alone. The host's
    own check confirmed the change with the drop-in still there: it proves the route and the
    mirror, not the site's server; the test's reads after the drop-in is gone do."""
    installed.ssh(
        "DEBIAN_FRONTEND=noninteractive apt-get install -y -q systemd-resolved && "
        f"mkdir -p {LEASE_DNS.rsplit('/', 1)[0]} && printf '[Resolve]\\nDNS={DNS}\\n' > {LEASE_DNS} && "
        f"systemctl restart systemd-resolved && getent hosts {mirror_name(installed)}"
    )
    # a new login works before the deploy makes its own (the install restarted services)
    installed.drop_connection()
    installed.wait_for_ssh(limit=180)
    confirmed_before = len(confirmations(installed))
    run = installed.deploy("deploys/base_only.py", static_site(installed, GATEWAY, [DNS]), "net-dns")
    installed.drop_connection()
    installed.wait_for_ssh(limit=60)
    installed.ssh(f"rm {LEASE_DNS} && systemctl restart systemd-resolved")
    return run, confirmed_before


def test_static_dns_through_systemd_resolved_is_applied_and_resolves(static_dns, installed):
    """The site's DNS server is networkd's for the card and resolved's (its list of upstream
    servers, with the test's drop-in gone), names resolve through resolved's stub, and the host's
    own check confirmed this change (a route, the mirror by name)."""
    run, confirmed_before = static_dns
    assert run.returncode == 0, run.report(3000)
    network = installed.ssh("cat /run/systemd/network/10-netplan-back.network").stdout
    upstream = installed.ssh("grep '^nameserver' /run/systemd/resolve/resolv.conf", check=False)
    upstream = upstream.stdout.split()
    stub = installed.ssh("readlink -f /etc/resolv.conf").stdout.strip()
    resolves = installed.ssh(f"getent hosts {mirror_name(installed)}", check=False).returncode
    confirmed = confirmations(installed)
    assert (
        f"DNS={DNS}" in network,
        upstream,
        stub,
        resolves,
        len(confirmed) - confirmed_before,
        "with route mirror as before" in confirmed[-1],
    ) == (True, ["nameserver", DNS], "/run/systemd/resolve/stub-resolv.conf", 0, 1, True), network
