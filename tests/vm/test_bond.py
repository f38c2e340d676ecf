"""A bond and a VLAN, deployed into a real kernel (a qemu VM: this machine's kernel, which the lab
shares, has neither driver): web1's back network on VLAN 20 of bond0, an active-backup bond of
two cards (by name). After the deploy and after a power cycle the bond has both members and the
VLAN carries the site's address; verify's network checks hold on the VM; a second run changes
nothing. The SSH card (eth0) stays the VM's own (DHCP, outside hastack's file)."""

import subprocess
import sys

import pytest

from hastack import lab
from hastack.lab import vm
from hastack.site import dump_site
from tests.vm.test_network import SITE_BACK
from tests.vm.test_network import site as network_site

MEMBERS = {"m1": "52:54:00:00:02:01", "m2": "52:54:00:00:02:02"}
BOND, VLAN, VLAN_ID = "bond0", "vlan20", 20


@pytest.fixture(scope="module")
def bond_vm():
    try:
        with vm.started("bond", {}, nics=MEMBERS) as machine:
            vm.ensure_installed(machine, "netplan.io")
            yield machine
    except lab.LabError as error:
        pytest.fail(f"the VM cannot start, so the bond tests cannot run: {error}")


def site(machine) -> dict:
    """The VM as web1 (the network tests' site), its back network on VLAN 20 of a bond of eth1
    and eth2 (the member cards, named in the order qemu gives them)."""
    document = network_site(machine, {"back": VLAN}, [])
    document["hosts"]["web1"].update(
        bonds={BOND: {"interfaces": ["eth1", "eth2"], "mode": "active-backup"}},
        vlans={VLAN: {"id": VLAN_ID, "link": BOND}},
    )
    return document


def state(machine) -> tuple:
    """(the bond's members, its mode, the VLAN's id line, the VLAN's IPv4 addresses)."""
    members = machine.ssh(f"cat /sys/class/net/{BOND}/bonding/slaves", check=False).stdout.split()
    mode = machine.ssh(f"cat /sys/class/net/{BOND}/bonding/mode", check=False).stdout.split()[:1]
    link = machine.ssh(f"ip -d link show {VLAN}", check=False).stdout
    addresses = machine.ssh(f"ip -4 -o addr show dev {VLAN} | awk '{{print $4}}'", check=False).stdout.split()
    return sorted(members), mode, f"vlan protocol 802.1Q id {VLAN_ID} " in link, addresses


WANTED = (["eth1", "eth2"], ["active-backup"], True, [f"{SITE_BACK}/24"])


@pytest.fixture(scope="module")
def deployed(bond_vm):
    run = bond_vm.deploy("deploys/base_only.py", site(bond_vm), "bond-deploy")
    bond_vm.drop_connection()
    bond_vm.wait_for_ssh(limit=60)
    return run


def test_the_deploy_makes_the_bond_and_the_vlan(deployed, bond_vm):
    assert (deployed.returncode, state(bond_vm)) == (0, WANTED), (
        deployed.report(3000) + "\nswitch.log:\n" + switch_log(bond_vm)
    )


def switch_log(machine) -> str:
    """The host's netplan switch log, read only for a failure's message."""
    return machine.ssh("tail -n 20 /var/lib/hastack/netplan/switch.log", check=False).stdout


def test_verify_network_checks_hold_on_the_bond(deployed, bond_vm):
    path = bond_vm.workdir / "verify.yaml"
    path.write_text(dump_site(site(bond_vm), "Written by the bond VM test: web1 is the VM."))
    command = [sys.executable, "-m", "hastack.cli", "verify", str(path), "--hosts", "web1", "-k", "netplan"]
    run = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-1000:]


def test_second_run_changes_nothing(deployed, bond_vm):
    run = bond_vm.deploy("deploys/base_only.py", site(bond_vm), "bond-second")
    assert (run.returncode, run.changed_operations) == (0, []), run.report(3000)


def test_the_bond_and_the_vlan_survive_a_power_cycle(deployed, bond_vm):
    bond_vm.stop()
    bond_vm.start()
    assert state(bond_vm) == WANTED
