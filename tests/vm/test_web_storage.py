"""The web hosts' storage as a whole, in real kernels: two qemu VMs (web1, web2), each with two
disks, on a back network of their own (a segment between the two qemu processes, nothing else on
it), deployed with deploys/storage_only.py: names and addresses, the RAID-1 on /raid1, the
GlusterFS replica volume with its bricks there, mounted at /cluster.

In order: the deploy succeeds, the volume is one between the two hosts, and `hastack verify`'s
storage and RAID checks hold on both; a second run changes nothing. Then web1 is powered off; web2
writes to the volume meanwhile; web1 boots with one of its disks missing: with no manual step its
array runs degraded, /raid1 and the brick are back, its /cluster serves what web2 wrote, the file
is healed onto its brick, and verify fails naming the degraded array. Then web1 boots with the
disk back: the array resyncs, and verify holds again on both hosts.

The site has no arbiter (a third host) and client quorum `none` (the seed's), so web2 stays
writable with web1 away; the lab tests the arbiter.
"""

import re
import shutil
import socket
import subprocess
import sys
from contextlib import ExitStack

import pytest

from hastack import lab
from hastack.lab import vm
from hastack.site import dump_site

CLUSTER = "storagevm"
DISKS = {"raid-a": "1G", "raid-b": "1G"}
HOSTS = {
    # name: (SSH's loopback address, back address, MAC of the back card)
    "web1": ("127.0.0.21", "10.0.3.21", "52:54:00:00:03:21"),
    "web2": ("127.0.0.22", "10.0.3.22", "52:54:00:00:03:22"),
}
BRICK = "/raid1/brick"
MOUNT = "/cluster"


def udp_ports(count: int) -> list[int]:
    """Ports for the back segment's ends, each its own: held open together while chosen."""
    with ExitStack() as stack:
        socks = [stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_DGRAM)) for _ in range(count)]
        for sock in socks:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in socks]


@pytest.fixture(scope="module")
def pair():
    """The two VMs, started together; powered off after."""
    addresses = tuple(address for address, _, _ in HOSTS.values())
    try:
        port = vm.free_port(addresses)
        udp = udp_ports(len(HOSTS))
        machines = {}
        with ExitStack() as stack:
            for index, (name, (address, _, mac)) in enumerate(HOSTS.items()):
                workdir = vm.VM_DIR / f"storage-{name}"
                shutil.rmtree(workdir, ignore_errors=True)
                workdir.mkdir(parents=True)
                link = {"back": (mac, udp[index], udp[1 - index])}
                machine = vm.RaidVM(DISKS, workdir, address=address, port=port, links=link, memory_mb=1024)
                stack.callback(machine.stop)
                machine.launch()
                machines[name] = machine
            for machine in machines.values():
                machine.wait_for_boot()
            yield machines
    except lab.LabError as error:
        pytest.fail(f"the storage VMs cannot start, so the storage tests cannot run: {error}")


def site_document(pair) -> dict:
    web1 = pair["web1"]
    document = vm.on_test_networks(web1.site_document([]))
    document["cluster"] = CLUSTER
    document["ssh"]["known_hosts"] = str(vm.VM_DIR / "storage-known_hosts")
    for name, (address, back, mac) in HOSTS.items():
        machine = pair[name]
        document["hosts"][name] = {
            "role": "web",
            "back": back,
            "ssh_host": address,
            "nics": {"back": mac},
            "dhcp": [vm.FIRST_MAC],
            "disks": [machine.disk_path(disk) for disk in DISKS],
        }
    document["data"] = {
        "monitoring_enabled": False,
        "chrony_set_clock": False,
        "gluster_arbiter": "",
        "gluster_quorum_type": "none",
        "netplan_confirm_seconds": vm.CONFIRM_SECONDS,
    }
    return document


def deploy(pair, name: str):
    return pair["web1"].deploy("deploys/storage_only.py", site_document(pair), name, limit="web1,web2")


def verify(pair, expression: str = "test_storage or the_array_is") -> subprocess.CompletedProcess:
    """`hastack verify` of the two VMs' site: its GlusterFS and RAID checks on both."""
    path = vm.VM_DIR / "storage-verify.yaml"
    path.write_text(dump_site(site_document(pair), "Written by the storage VM test: web1 and web2 are VMs."))
    command = [sys.executable, "-m", "hastack.cli", "verify", str(path), "--hosts", "web1,web2"]
    command += ["-k", expression]
    return subprocess.run(command, capture_output=True, text=True, timeout=900)


def wait_for(machine, condition: str, seconds: int) -> bool:
    """Whether ``condition`` (a shell test run in the VM) held within ``seconds``."""
    loop = f"for i in $(seq {seconds}); do {condition} && exit 0; sleep 1; done; exit 1"
    return machine.ssh(loop, check=False, timeout=seconds + 60).returncode == 0


def brick_online(name: str) -> str:
    status = f"gluster --mode=script volume status {CLUSTER} {name}:{BRICK} detail"
    return f"{status} 2>/dev/null | grep -Eq '^Online +: Y'"


@pytest.fixture(scope="module")
def deployed(pair):
    # Two VMs from one image share its SSH host keys and machine-id, which the preflight refuses
    # (cloned hosts): web2 is given its own, as its message says, and rebooted.
    web1, web2 = pair["web1"], pair["web2"]
    web2.ssh(
        "rm -f /etc/ssh/ssh_host_*_key* && ssh-keygen -A >/dev/null && "
        "rm -f /var/lib/dbus/machine-id && systemd-id128 new > /etc/machine-id"
    )
    given = web2.ssh("cat /etc/machine-id").stdout.strip()
    web2.power_cycle()
    ids = [machine.ssh("cat /etc/machine-id").stdout.strip() for machine in (web1, web2)]
    assert (ids[1], ids[0] != ids[1]) == (given, True), ids
    (vm.VM_DIR / "storage-known_hosts").unlink(missing_ok=True)
    run = deploy(pair, "storage-deploy")
    assert (run.returncode, "No host matches" in run.output) == (0, False), run.report(3000)
    return run


def test_the_volume_is_one_between_the_two_hosts(deployed, pair):
    pair["web1"].ssh(f"echo from-web1 > {MOUNT}/from-web1")
    assert pair["web2"].ssh(f"cat {MOUNT}/from-web1").stdout.strip() == "from-web1"


def test_the_bricks_sit_on_the_raid(deployed, pair):
    sources = [pair[name].ssh("findmnt -n -o SOURCE -T " + BRICK).stdout.strip() for name in HOSTS]
    assert sources == ["/dev/md0", "/dev/md0"]


def test_verify_holds_on_both_hosts(deployed, pair):
    run = verify(pair)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-1000:]


def test_second_run_changes_nothing(deployed, pair):
    run = deploy(pair, "storage-second")
    assert (run.returncode, run.changed_operations) == (0, []), run.report(3000)


@pytest.fixture(scope="module")
def booted_without_a_disk(deployed, pair):
    """web1 powered off; web2 writes to the volume; web1 started, from the initramfs it built,
    with its second disk unplugged, and left to itself until its brick is online (10 minutes at
    most)."""
    web1, web2 = pair["web1"], pair["web2"]
    # From its own initramfs, as a server boots: mdadm assembles the array there, and its
    # last-resort timer does not start it degraded (tests/vm/test_raid.py).
    web1.use_own_initramfs()
    web1.stop()
    web2.ssh(f"echo while-away > {MOUNT}/while-away")
    web1.unplugged = {"raid-b"}
    web1.start()
    online = wait_for(web2, brick_online("web1"), 600)
    mounted = wait_for(web1, f"mountpoint -q {MOUNT}", 300)
    # on the array itself, beside the brick (only where it is mounted): only the disk that
    # stayed has it
    web1.ssh(
        "findmnt -n -o SOURCE /raid1 | grep -qx /dev/md0 && "
        "echo written-without-b > /raid1/without-b && sync",
        check=False,
    )
    return online, mounted


def test_a_boot_without_a_disk_brings_the_brick_online_with_no_manual_step(booted_without_a_disk, pair):
    """The array runs degraded, started by hastack-raid-boot, which notes the disk away: without
    it the array stayed inactive here for good (Debian 13: mdadm's last-resort timer is not
    started), /raid1 unmounted, glusterd not started."""
    web1 = pair["web1"]
    journal = web1.ssh("journalctl -b -u hastack-raid-boot --no-pager -o cat", check=False).stdout
    mdstat = web1.ssh("cat /proc/mdstat").stdout
    noted = web1.ssh("ls /var/lib/hastack/raid-away/", check=False).stdout.split()
    away = web1.disk_path("raid-b").replace("/", "_")
    assert (
        booted_without_a_disk,
        bool(re.search(r"^md0 : active raid1 .*\n.*\[(U_|_U)\]", mdstat, re.M)),
        "started without it" in journal,
        noted,
        web1.ssh("findmnt -n -o SOURCE /raid1", check=False).stdout.strip(),
    ) == ((True, True), True, True, [away], "/dev/md0"), mdstat + journal


def test_what_was_written_meanwhile_is_healed_onto_its_brick(booted_without_a_disk, pair):
    """GlusterFS's self-heal daemon, once the brick is back (no `gluster volume heal` by hand).
    Before any read through web1's mount: a client's read could heal the file too."""
    web1 = pair["web1"]
    assert wait_for(web1, f"test -s {BRICK}/while-away", 300), web1.ssh(
        f"gluster --mode=script volume heal {CLUSTER} info", check=False
    ).stdout


def test_the_volume_serves_on_the_host_that_booted_degraded(booted_without_a_disk, pair):
    web1, web2 = pair["web1"], pair["web2"]
    web1.ssh(f"echo after-the-boot > {MOUNT}/after-the-boot")
    assert (
        web1.ssh(f"cat {MOUNT}/while-away {MOUNT}/from-web1").stdout.split(),
        web2.ssh(f"cat {MOUNT}/after-the-boot").stdout.strip(),
    ) == (["while-away", "from-web1"], "after-the-boot")


def test_verify_fails_on_the_degraded_array(booted_without_a_disk, pair):
    run = verify(pair, "the_array_is")
    assert (run.returncode, "/dev/md0 on web1: its state is" in run.stdout) == (1, True), run.stdout[-3000:]


@pytest.fixture(scope="module")
def booted_with_it_back(booted_without_a_disk, pair):
    web1 = pair["web1"]
    web1.power_cycle()
    whole = wait_for(web1, "grep -q '\\[UU\\]' /proc/mdstat", 300)
    web1.ssh("mdadm --wait /dev/md0 || true")
    online = wait_for(pair["web2"], brick_online("web1"), 600)
    mounted = wait_for(web1, f"mountpoint -q {MOUNT}", 300)
    return whole, online, mounted


def test_a_boot_with_the_disk_back_resyncs_it_and_verify_holds(booted_with_it_back, pair):
    """Whole again, the note of the disk's absence gone and hastack-raid-boot not failed. (Here,
    on Debian 13, mdadm's incremental assembly took the disk back itself, with the bitmap;
    hastack-raid-boot re-adds it where mdadm leaves it out, which its tests with a stand-in for
    mdadm hold.)"""
    web1 = pair["web1"]
    journal = web1.ssh("journalctl -b -u hastack-raid-boot --no-pager -o cat", check=False).stdout
    print(f"\nhastack-raid-boot at the boot with the disk back:\n{journal}")
    run = verify(pair)
    assert (
        booted_with_it_back,
        web1.ssh(f"cat {MOUNT}/after-the-boot").stdout.strip(),
        # md kept the copy of the disk that stayed (the newer), not the one plugged back
        web1.ssh("cat /raid1/without-b", check=False).stdout.strip(),
        web1.ssh("ls /var/lib/hastack/raid-away/", check=False).stdout.split(),
        web1.ssh("systemctl is-failed hastack-raid-boot", check=False).stdout.strip(),
        run.returncode,
    ) == ((True, True, True), "after-the-boot", "written-without-b", [], "inactive", 0), (
        run.stdout[-4000:] + run.stderr[-1000:]
    )
