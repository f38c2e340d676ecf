"""The RAID-1 layer, deployed into a real kernel: a qemu VM with spare disks.

In order: a disk carrying a filesystem is refused; an array of other disks already at the
array's device (the system's own) is refused, and kept in mdadm.conf; the deploy builds the array;
its second run changes nothing; `hastack verify`'s RAID checks hold; the array comes back under
its own name after a reboot into the initramfs the deploy built; a failed disk leaves it mounted
and fails verify, naming the fix; the disk is re-added and resynced, and verify holds again.
"""

import re
import subprocess
import sys

import pytest

from hastack import lab
from hastack.lab import vm

DISKS = {"raid-a": "1G", "raid-b": "1G", "dirty": "256M", "os-a": "256M", "os-b": "256M"}


@pytest.fixture(scope="module")
def raid_vm():
    try:
        with vm.started("run", DISKS) as machine:
            yield machine
    except lab.LabError as error:
        pytest.fail(f"the RAID VM cannot start, so the RAID tests cannot run: {error}")


@pytest.fixture(scope="module")
def raid_disks(raid_vm):
    return [raid_vm.disk_path("raid-a"), raid_vm.disk_path("raid-b")]


@pytest.fixture(scope="module")
def refused(raid_vm, raid_disks):
    raid_vm.ssh(f"mkfs.ext4 -q {raid_vm.disk_path('dirty')}")
    return raid_vm.deploy_raid([raid_vm.disk_path("dirty"), raid_disks[1]], "refused")


def test_disk_with_a_filesystem_is_refused_naming_it(refused, raid_vm):
    message = f"disk {raid_vm.disk_path('dirty')} on host web1 carries a ext4 filesystem"
    assert (refused.returncode != 0, message in refused.output, "raid_force: true" in refused.output) == (
        True,
        True,
        True,
    ), refused.report(2000)


def test_refused_deploy_touched_nothing(refused, raid_vm):
    """Refused before any operation ran: not even mdadm was installed."""
    assert raid_vm.ssh("command -v mdadm", check=False).returncode != 0


def test_refused_deploy_left_the_other_disk_blank(refused, raid_vm, raid_disks):
    assert raid_vm.ssh(f"blkid -p {raid_disks[1]}", check=False).stdout == ""


@pytest.fixture(scope="module")
def foreign(refused, raid_vm, raid_disks):
    """The system's own array at /dev/md0, of two other disks, listed in mdadm.conf as an
    installer lists it; then the deploy with raid_device /dev/md0."""
    os_disks = f"{raid_vm.disk_path('os-a')} {raid_vm.disk_path('os-b')}"
    raid_vm.ssh("apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mdadm e2fsprogs")
    raid_vm.ssh(
        f"mdadm --create /dev/md0 --run --level=1 --raid-devices=2 --metadata=1.2 {os_disks} && "
        "mkfs.ext4 -q -L system /dev/md0 && mdadm --detail --scan >> /etc/mdadm/mdadm.conf"
    )
    return raid_vm.deploy_raid(raid_disks, "foreign")


def test_a_foreign_array_at_raid_device_is_refused_naming_it(foreign, raid_vm):
    os_disks = f"{raid_vm.disk_path('os-a')} {raid_vm.disk_path('os-b')}"
    members = raid_vm.ssh(f"readlink -f {os_disks}").stdout.split()
    message = (
        f"host web1: /dev/md0 is already an array of {', '.join(members)}, not of the site's disks "
        f"({raid_vm.disk_path('raid-a')}, {raid_vm.disk_path('raid-b')})"
    )
    assert (
        foreign.returncode != 0,
        message in foreign.output,
        "raid_device" in foreign.output,
        "Beginning operation run" in foreign.output,
    ) == (True, True, True, False), foreign.report(2000)


def test_the_refused_foreign_array_is_neither_mounted_nor_changed(foreign, raid_vm):
    mounted = raid_vm.ssh("findmnt -n /raid1", check=False).returncode == 0
    assert (mounted, raid_vm.ssh("blkid -s LABEL -o value /dev/md0").stdout.strip()) == (False, "system")


@pytest.fixture(scope="module")
def system_array(foreign, raid_vm):
    """The system's array moved aside to /dev/md9 (its ARRAY line too): the deploy then
    builds the RAID at /dev/md0 beside it."""
    raid_vm.ssh(
        "mdadm --stop /dev/md0 && "
        f"mdadm --assemble /dev/md9 {raid_vm.disk_path('os-a')} {raid_vm.disk_path('os-b')} && "
        "sed -i 's#^ARRAY /dev/md0 #ARRAY /dev/md9 #' /etc/mdadm/mdadm.conf"
    )
    return raid_vm.ssh("grep '^ARRAY /dev/md9 ' /etc/mdadm/mdadm.conf").stdout.strip()


@pytest.fixture(scope="module")
def deployed(system_array, raid_vm, raid_disks):
    run = raid_vm.deploy_raid(raid_disks, "deploy")
    assert run.returncode == 0, run.report(3000)
    raid_vm.ssh("mdadm --wait /dev/md0 || true")
    return run


def test_array_is_raid1(deployed, raid_vm):
    assert "Raid Level : raid1" in raid_vm.ssh("mdadm --detail /dev/md0").stdout


def test_array_has_both_disks_active(deployed, raid_vm):
    assert re.search(r"Active Devices : 2\b", raid_vm.ssh("mdadm --detail /dev/md0").stdout)


def verify_raid(raid_vm, raid_disks) -> subprocess.CompletedProcess:
    """`hastack verify` of the VM's site, its RAID checks on web1 (the VM)."""
    site = raid_vm.workdir / "verify.yaml"
    site.write_text(raid_vm.site_text(raid_disks))
    command = [sys.executable, "-m", "hastack.cli", "verify", str(site), "--hosts", "web1"]
    return subprocess.run([*command, "-k", "the_array_is"], capture_output=True, text=True, timeout=600)


def test_verify_holds_on_the_whole_array(deployed, raid_vm, raid_disks):
    run = verify_raid(raid_vm, raid_disks)
    holds = re.search(r"^web1\s+web\s+storage/RAID\s+2\s+0\s*$", run.stdout, re.MULTILINE)
    assert (run.returncode, bool(holds)) == (0, True), run.stdout + run.stderr


def test_array_has_a_write_intent_bitmap(deployed, raid_vm):
    assert "Intent Bitmap : Internal" in raid_vm.ssh("mdadm --detail /dev/md0").stdout


def test_raid1_is_ext4_mounted_from_the_array(deployed, raid_vm):
    assert raid_vm.ssh("findmnt -n -o SOURCE,FSTYPE /raid1").stdout.split() == ["/dev/md0", "ext4"]


def test_fstab_mounts_raid1_by_uuid(deployed, raid_vm):
    line = raid_vm.ssh("awk '$2 == \"/raid1\"' /etc/fstab").stdout
    uuid = raid_vm.ssh("blkid -s UUID -o value /dev/md0").stdout.strip()
    assert line.split()[0] == f"UUID={uuid}"


def test_mdadm_conf_names_the_array_and_keeps_the_systems(deployed, raid_vm, system_array):
    uuid = raid_vm.ssh("mdadm --detail --export /dev/md0 | sed -n 's/^MD_UUID=//p'").stdout.strip()
    arrays = raid_vm.ssh("grep ^ARRAY /etc/mdadm/mdadm.conf").stdout.strip().splitlines()
    assert arrays == [system_array, f"ARRAY /dev/md0 metadata=1.2 UUID={uuid}"]


def test_second_run_changes_nothing(deployed, raid_vm, raid_disks):
    run = raid_vm.deploy_raid(raid_disks, "second")
    assert (run.returncode, run.changed_operations) == (0, [])


@pytest.fixture(scope="module")
def rebooted(deployed, raid_vm):
    raid_vm.ssh("echo kept-across-reboot > /raid1/marker && sync")
    raid_vm.reboot_with_own_initramfs()
    return raid_vm


def test_array_keeps_its_name_after_reboot(rebooted):
    assert "md0 : active raid1" in rebooted.ssh("cat /proc/mdstat").stdout


def test_the_systems_array_comes_back_too(rebooted):
    """Under its own name (read-only until written: nothing mounts it here)."""
    mdstat = rebooted.ssh("cat /proc/mdstat").stdout
    assert re.search(r"^md9 : active (\(auto-read-only\) )?raid1 ", mdstat, re.M)


def test_raid1_mounted_after_reboot(rebooted):
    assert rebooted.ssh("findmnt -n -o SOURCE /raid1").stdout.strip() == "/dev/md0"


def test_data_kept_across_reboot(rebooted):
    assert rebooted.ssh("cat /raid1/marker").stdout.strip() == "kept-across-reboot"


@pytest.fixture(scope="module")
def failed_disk(rebooted, raid_disks):
    rebooted.ssh(f"mdadm /dev/md0 --fail {raid_disks[1]}")
    return raid_disks[1]


def test_failed_disk_leaves_the_array_degraded(failed_disk, rebooted):
    assert "[U_]" in rebooted.ssh("cat /proc/mdstat").stdout


def test_verify_fails_on_the_degraded_array_naming_the_fix(failed_disk, rebooted, raid_disks):
    run = verify_raid(rebooted, raid_disks)
    assert (
        run.returncode,
        "/dev/md0 on web1: its state is 'clean, degraded'" in run.stdout,
        "mdadm /dev/md0 --add <new>" in run.stdout,
    ) == (1, True, True), run.stdout + run.stderr


def test_failed_disk_leaves_raid1_writable(failed_disk, rebooted):
    rebooted.ssh("echo written-degraded > /raid1/degraded && sync")
    assert rebooted.ssh("cat /raid1/degraded").stdout.strip() == "written-degraded"


def test_readded_disk_resyncs(failed_disk, rebooted):
    rebooted.ssh(f"mdadm /dev/md0 --remove {failed_disk} && mdadm /dev/md0 --re-add {failed_disk}")
    rebooted.ssh("mdadm --wait /dev/md0 || true")
    assert "[UU]" in rebooted.ssh("cat /proc/mdstat").stdout


def test_verify_holds_again_after_the_resync(failed_disk, rebooted, raid_disks):
    run = verify_raid(rebooted, raid_disks)
    assert run.returncode == 0, run.stdout + run.stderr
