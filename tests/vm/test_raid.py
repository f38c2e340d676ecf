"""The RAID-1 layer, deployed into a real kernel: a qemu VM with spare disks.

In order: a disk carrying a filesystem is refused; an array of other disks already at the
array's device (the system's own) is refused, and kept in mdadm.conf; the deploy builds the array;
its second run changes nothing; `hastack verify`'s RAID checks hold; the array comes back under
its own name after a reboot into the initramfs the deploy built; a failed disk leaves it mounted
and fails verify, naming the fix; the disk is re-added and resynced, and verify holds again.
(A boot with a disk unplugged, then plugged back, is tested once, with the brick on top:
tests/vm/test_web_storage.py.)
Then `hastack disk replace`: a failing disk of the whole array is copied to a new one while it
still serves; with the array degraded, the last working disk is refused, a disk that is not
blank is refused, and the failed one is replaced; verify and a second deploy hold on the new
disks, and no data is lost.
"""

import re
import subprocess
import sys

import pytest

from hastack import lab
from hastack.facts.mdadm import MdArray
from hastack.lab import vm

DISKS = {"raid-a": "1G", "raid-b": "1G", "spare": "1G", "dirty": "256M", "os-a": "256M", "os-b": "256M"}


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
    # A stand-in for glusterd (the image's own is off, with no volume): it notes what /raid1 was
    # when it started.
    raid_vm.ssh(
        "printf '[Service]\\nType=oneshot\\nRemainAfterExit=yes\\nExecStart=/bin/sh -c \"findmnt -no SOURCE "
        "/raid1 > /run/glusterd-saw\"\\n[Install]\\nWantedBy=multi-user.target\\n' "
        "> /etc/systemd/system/glusterd.service && systemctl daemon-reload && systemctl enable -q glusterd"
    )
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


def test_glusterd_starts_only_once_raid1_is_mounted(rebooted):
    """The brick's filesystem first: a degraded array comes up about 30 s late, and a glusterd
    started before it gives up on the brick. The stand-in glusterd found /raid1 mounted."""
    shown = rebooted.ssh("systemctl show -p Requires -p After glusterd.service").stdout
    assert (
        "raid1.mount" in re.search(r"^Requires=(.*)$", shown, re.M).group(1).split(),
        "raid1.mount" in re.search(r"^After=(.*)$", shown, re.M).group(1).split(),
        rebooted.ssh("cat /run/glusterd-saw", check=False).stdout.strip(),
    ) == (True, True, "/dev/md0"), shown


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


def disk_replace(raid_vm, disks: list[str], old: str, new: str, *more: str) -> subprocess.CompletedProcess:
    """`hastack disk replace` on web1 (the VM), with a site naming these disks."""
    site = raid_vm.workdir / "replace.yaml"
    site.write_text(raid_vm.site_text(disks))
    command = [sys.executable, "-m", "hastack.cli", "disk", "replace", str(site), "web1", old, new, *more]
    return subprocess.run(command, capture_output=True, text=True, timeout=900)


def members(raid_vm) -> dict[str, str]:
    """The array's members, by their by-id names: role (a slot number, faulty or spare)."""
    detail = MdArray().process(raid_vm.ssh("mdadm --detail --export /dev/md0").stdout.splitlines()) or {}
    links = raid_vm.ssh('for l in /dev/disk/by-id/virtio-*; do echo "$(readlink -f $l) $l"; done').stdout
    names = dict(line.split() for line in links.splitlines() if line.strip())
    return {names.get(dev, dev): role for dev, role in detail.get("members", {}).items()}


@pytest.fixture(scope="module")
def hot_replaced(failed_disk, rebooted, raid_disks):
    """The whole array (after the resync above): raid-b, failing but in sync, replaced by spare."""
    rebooted.ssh("mdadm --wait /dev/md0 || true")
    return disk_replace(rebooted, raid_disks, raid_disks[1], rebooted.disk_path("spare"))


def test_a_failing_disk_is_copied_to_the_new_one_and_leaves(hot_replaced, rebooted, raid_disks):
    """mdadm --replace: the copy comes from the failing disk while both serve; the old disk's
    superblock is cleared, so it is never assembled again as a stale half."""
    old_examined = rebooted.ssh(f"mdadm --examine {raid_disks[1]}", check=False)
    assert (
        hot_replaced.returncode,
        "--replace" in hot_replaced.stdout,
        members(rebooted),
        "[UU]" in rebooted.ssh("cat /proc/mdstat").stdout,
        old_examined.returncode != 0,
        rebooted.ssh("cat /raid1/marker /raid1/degraded").stdout.split(),
    ) == (
        0,
        True,
        {raid_disks[0]: "0", rebooted.disk_path("spare"): "1"},
        True,
        True,
        ["kept-across-reboot", "written-degraded"],
    ), hot_replaced.stdout + hot_replaced.stderr


def test_verify_and_a_second_deploy_hold_on_the_new_disks(hot_replaced, rebooted, raid_disks):
    """And a deploy with the site still naming the old disk is refused before any change, saying
    so. The deploy with the new disk named changes the RAID's boot script only (it lists the
    site's disks), and the one after it nothing."""
    stale = rebooted.deploy_raid(raid_disks, "stale-disks")
    disks = [raid_disks[0], rebooted.disk_path("spare")]
    run = verify_raid(rebooted, disks)
    deploy = rebooted.deploy_raid(disks, "after-replace")
    again = rebooted.deploy_raid(disks, "after-replace-again")
    assert (
        stale.returncode != 0,
        "after a disk replacement (hastack disk replace)" in stale.output,
        stale.changed_operations,
        run.returncode,
        deploy.returncode,
        [name.split(" | ", 1)[-1].split(" (")[0] for name in deploy.changed_operations],
        again.changed_operations,
    ) == (True, True, [], 0, 0, ["The RAID at boot, a disk missing or back"], []), (
        stale.report(2000) + run.stdout + deploy.report(2000)
    )


@pytest.fixture(scope="module")
def degraded_again(hot_replaced, rebooted, raid_disks):
    rebooted.ssh(f"mdadm /dev/md0 --fail {raid_disks[0]}")
    return [raid_disks[0], rebooted.disk_path("spare")]


def test_the_last_working_disk_and_a_disk_not_blank_are_refused_with_nothing_changed(
    degraded_again, rebooted, raid_disks
):
    before = members(rebooted)
    last = disk_replace(rebooted, degraded_again, degraded_again[1], raid_disks[1])
    dirty = disk_replace(rebooted, degraded_again, degraded_again[0], rebooted.disk_path("dirty"))
    assert (
        last.returncode,
        "last working disk" in last.stdout,
        dirty.returncode,
        "is not blank" in dirty.stdout and "wipefs -a" in dirty.stdout,
        members(rebooted),
    ) == (1, True, 1, True, before), last.stdout + dirty.stdout


def test_the_failed_disk_is_replaced_and_the_array_rebuilt_with_no_data_lost(
    degraded_again, rebooted, raid_disks
):
    """raid-b, cleared by the replacement above, is the new disk in place of the failed raid-a:
    started with --no-wait, then the same command again waits for the rebuild and clears up."""
    started = disk_replace(rebooted, degraded_again, degraded_again[0], raid_disks[1], "--no-wait")
    run = disk_replace(rebooted, degraded_again, degraded_again[0], raid_disks[1])
    disks = [raid_disks[1], degraded_again[1]]
    verify = verify_raid(rebooted, disks)
    assert (
        started.returncode,
        "NEW is already in the array" in run.stdout,
        run.returncode,
        members(rebooted),
        "[UU]" in rebooted.ssh("cat /proc/mdstat").stdout,
        rebooted.ssh("cat /raid1/marker /raid1/degraded").stdout.split(),
        verify.returncode,
    ) == (
        0,
        True,
        0,
        {degraded_again[1]: "1", raid_disks[1]: "0"},
        True,
        ["kept-across-reboot", "written-degraded"],
        0,
    ), started.stdout + run.stdout + run.stderr + verify.stdout
