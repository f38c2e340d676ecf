"""The RAID-1 layer, deployed into a real kernel: a qemu VM with spare disks.

In order: a disk carrying a filesystem is refused; the deploy builds the array;
its second run changes nothing; the array comes back under its own name after
a reboot into the initramfs the deploy built; a failed disk leaves it mounted;
the disk is re-added and resynced.
"""

import re
import shutil

import pytest

from hastack import lab
from hastack.lab import vm

DISKS = {"raid-a": "1G", "raid-b": "1G", "dirty": "256M"}


@pytest.fixture(scope="module")
def raid_vm():
    workdir = vm.VM_DIR / "run"
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    try:
        machine = vm.RaidVM(DISKS, workdir)
        machine.start()
    except lab.LabError as error:
        pytest.fail(f"the RAID VM cannot start, so the RAID tests cannot run: {error}")
    yield machine
    machine.stop()


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
    ), refused.output[-2000:]


def test_refused_deploy_touched_nothing(refused, raid_vm):
    """Refused before any operation ran: not even mdadm was installed."""
    assert raid_vm.ssh("command -v mdadm", check=False).returncode != 0


def test_refused_deploy_left_the_other_disk_blank(refused, raid_vm, raid_disks):
    assert raid_vm.ssh(f"blkid -p {raid_disks[1]}", check=False).stdout == ""


@pytest.fixture(scope="module")
def deployed(refused, raid_vm, raid_disks):
    run = raid_vm.deploy_raid(raid_disks, "deploy")
    assert run.returncode == 0, run.output[-3000:]
    raid_vm.ssh("mdadm --wait /dev/md0 || true")
    return run


def test_array_is_raid1(deployed, raid_vm):
    assert "Raid Level : raid1" in raid_vm.ssh("mdadm --detail /dev/md0").stdout


def test_array_has_both_disks_active(deployed, raid_vm):
    assert re.search(r"Active Devices : 2\b", raid_vm.ssh("mdadm --detail /dev/md0").stdout)


def test_array_has_a_write_intent_bitmap(deployed, raid_vm):
    assert "Intent Bitmap : Internal" in raid_vm.ssh("mdadm --detail /dev/md0").stdout


def test_raid1_is_ext4_mounted_from_the_array(deployed, raid_vm):
    assert raid_vm.ssh("findmnt -n -o SOURCE,FSTYPE /raid1").stdout.split() == ["/dev/md0", "ext4"]


def test_fstab_mounts_raid1_by_uuid(deployed, raid_vm):
    line = raid_vm.ssh("awk '$2 == \"/raid1\"' /etc/fstab").stdout
    uuid = raid_vm.ssh("blkid -s UUID -o value /dev/md0").stdout.strip()
    assert line.split()[0] == f"UUID={uuid}"


def test_mdadm_conf_names_the_array(deployed, raid_vm):
    uuid = raid_vm.ssh("mdadm --detail --export /dev/md0 | sed -n 's/^MD_UUID=//p'").stdout.strip()
    conf = raid_vm.ssh("grep ^ARRAY /etc/mdadm/mdadm.conf").stdout
    assert conf.split()[:4] == ["ARRAY", "/dev/md0", "metadata=1.2", f"UUID={uuid}"]


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


def test_failed_disk_leaves_raid1_writable(failed_disk, rebooted):
    rebooted.ssh("echo written-degraded > /raid1/degraded && sync")
    assert rebooted.ssh("cat /raid1/degraded").stdout.strip() == "written-degraded"


def test_readded_disk_resyncs(failed_disk, rebooted):
    rebooted.ssh(f"mdadm /dev/md0 --remove {failed_disk} && mdadm /dev/md0 --re-add {failed_disk}")
    rebooted.ssh("mdadm --wait /dev/md0 || true")
    assert "[UU]" in rebooted.ssh("cat /proc/mdstat").stdout
