"""Quorum: the quorum device as the site says (qnetd on its host, a qdevice vote on each proxy,
no `two_node`), and Pacemaker stopping resources without quorum."""

import re
import time
import xml.etree.ElementTree as ET

import pytest

from hastack import qdevice, topology
from hastack.checks.plugin import site_host_name
from hastack.components.pacemaker import VIP_PRIORITY, fencing_delay_s
from hastack.health import vote_cast
from hastack.network import qdevice_timeout_ms

PROXY = pytest.mark.roles("proxy")

LAYER = "proxy/HA"


def quorum_host(site) -> str:
    return site.setting("quorum_device_host")


def qnetd_address(site) -> str:
    """The address the proxies reach the site's qnetd on (as the deploy chooses it)."""

    def addresses(spec) -> dict[str, str]:
        return {net: str(value) for net, value in spec.addresses.items()}

    return qdevice.qnetd_address(
        addresses(site.hosts[quorum_host(site)]), [addresses(p) for p in site.hosts_in("proxy")]
    )


def quorum_status(host, wait: float = 0) -> dict[str, str]:
    """``corosync-quorumtool -s`` as "key: value" pairs, with its member lines under "members".
    With ``wait``, asked again until the quorum device has voted (it connects after a start)."""
    deadline = time.monotonic() + wait
    while True:
        output = host.check_output("corosync-quorumtool -s")
        status = {
            key.strip(): value.strip()
            for key, value in (line.split(":", 1) for line in output.splitlines() if ":" in line)
        }
        status["members"] = output.split("Membership information", 1)[-1]
        if time.monotonic() >= deadline or vote_cast(status["members"], expect=True):
            return status
        time.sleep(2)


@PROXY
def test_quorum_as_the_site_says(host, site):
    """With a quorum device: expected and total votes one more than the proxies, the device's
    vote cast (A,V) and `two_node` gone; without: `two_node` (2Node) and the proxies' votes only."""
    proxies = len(site.hosts_in("proxy"))
    with_device = bool(quorum_host(site))
    status = quorum_status(host, wait=60 if with_device else 0)
    cast = vote_cast(status["members"], proxies)
    votes = proxies + 1 if with_device else proxies
    assert (
        status.get("Quorate"),
        status.get("Expected votes"),
        status.get("Total votes"),
        "2Node" in status.get("Flags", ""),
        "Qdevice" in status.get("Flags", ""),
        cast,
    ) == ("Yes", str(votes), str(votes), proxies == 2 and not with_device, with_device, with_device), status


@PROXY
def test_qdevice_is_connected_to_the_sites_qnetd(host, site):
    """Connected to the site's qnetd, enabled, and running with the timeout the site's token
    gives (hastack.network.qdevice_timeout_ms; a changed token restarts it)."""
    if not quorum_host(site):
        assert not host.service("corosync-qdevice").is_running
        return
    address = qnetd_address(site)
    deadline = time.monotonic() + 60
    while True:
        status = host.check_output("corosync-qdevice-tool -s -v")
        connected = re.search(r"State:\s+Connected", status) is not None
        if connected or time.monotonic() > deadline:
            break
        time.sleep(2)
    # The timeout it runs with (read at its start only): the one the site's token gives.
    running = re.search(r"^HB interval:\s*(\d+)ms$", status, re.MULTILINE)
    token = site.setting("corosync_token_ms", site.hosts[site_host_name(host, site)])
    assert (
        connected,
        f"{address}:{qdevice.QNETD_PORT}" in status,
        host.service("corosync-qdevice").is_enabled,
        int(running.group(1)) if running else None,
    ) == (
        True,
        True,
        True,
        qdevice_timeout_ms(int(token)),
    ), status


@PROXY
def test_no_quorum_stops_every_resource(host):
    policy = host.run("crm_attribute -t crm_config -n no-quorum-policy -G -q")
    assert policy.stdout.strip() == "stop"


def test_qnetd_serves_the_cluster_on_its_one_address(site, connect, deployed):
    """qnetd on the site's quorum host lists this cluster with every proxy, and listens on the
    address the proxies reach it on, nowhere else."""
    name = quorum_host(site)
    if not name:
        # Nothing to serve: the site is warned instead (the test below).
        assert any("split brain" in warning for warning in site.warnings) or len(site.hosts_in("proxy")) != 2
        return
    qnetd = connect(name)
    address = qnetd_address(site)
    listing = qnetd.check_output("corosync-qnetd-tool -l")
    nodes = sorted(int(node) for node in re.findall(r"Node ID (\d+)", listing))
    listening = sorted(
        {
            line.split()[3]
            for line in qnetd.check_output("ss -Hltn").splitlines()
            if line.split()[3].endswith(f":{qdevice.QNETD_PORT}")
        }
    )
    assert (f'Cluster "{site.cluster}"' in listing, nodes, listening) == (
        True,
        list(range(1, len(site.hosts_in("proxy")) + 1)),
        [f"{address}:{qdevice.QNETD_PORT}"],
    ), listing


def test_the_sites_split_brain_risk_is_said(site):
    """No quorum device with two proxies: `hastack check` says so (the risk and the fix)."""
    warned = any("split brain" in warning for warning in site.warnings)
    assert warned == (not quorum_host(site) and len(topology.in_role(site.topology_hosts(), "proxy")) == 2)


@PROXY
def test_fencing_is_as_the_site_says(host, site):
    """STONITH on or off as the site says, and with it on, exactly the site's fence devices,
    each with its agent."""
    spec = site.hosts[site_host_name(host, site)]
    enabled = host.run("crm_attribute -t crm_config -n stonith-enabled -G -q").stdout.strip()
    devices = host.run("cibadmin --query --xpath \"//primitive[@class='stonith']\"")
    found = (
        sorted((p.get("id"), p.get("type")) for p in ET.fromstring(devices.stdout).iter("primitive"))
        if devices.rc == 0
        else []
    )
    wanted = bool(site.setting("pacemaker_stonith_enabled", spec))
    assert (enabled, found) == (
        str(wanted).lower(),
        sorted((d["name"], d["agent"]) for d in site.setting("pacemaker_fence_devices", spec))
        if wanted
        else [],
    )


@PROXY
def test_the_vip_holder_is_fenced_last_without_a_quorum_device(host, site):
    """priority-fencing-delay as the site's settings make it (its delay with STONITH on and no
    quorum device, else 0), and the VIP's priority that makes its holder the one it spares."""
    spec = site.hosts[site_host_name(host, site)]
    delay = host.run("crm_attribute -t crm_config -n priority-fencing-delay -G -q").stdout.strip()
    priority = host.run("crm_resource --resource vip --meta --get-parameter priority").stdout.strip()
    wanted = fencing_delay_s(
        bool(site.setting("pacemaker_stonith_enabled", spec)),
        quorum_host(site),
        site.setting("pacemaker_fencing_delay_s", spec),
    )
    assert (delay, priority) == (f"{wanted}s", str(VIP_PRIORITY))
