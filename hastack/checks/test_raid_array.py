"""Disks on the web hosts with `raid_enabled`: the site's RAID-1, whole, under the bricks."""

import re

import pytest

from hastack.checks.plugin import site_host_name

LAYER = "storage/RAID"
pytestmark = [pytest.mark.roles("web"), pytest.mark.when_set("raid_enabled")]


def spec(host, site):
    return site.hosts[site_host_name(host, site)]


def array_problems(detail: str, disks: list[str]) -> list[str]:
    """What keeps an array (``mdadm --detail``, its member paths resolved) from being a whole
    RAID-1 of the site's ``disks`` (resolved too): each a sentence."""
    fields = dict(
        (key.strip(), value.strip())
        for key, value in (line.split(" : ", 1) for line in detail.splitlines() if " : " in line)
    )
    problems = []
    if fields.get("Raid Level") != "raid1":
        problems.append(f"its level is {fields.get('Raid Level')}, not raid1")
    state = fields.get("State", "")
    if "recovering" in state or "resyncing" in state:
        problems.append(f"its state is '{state}' (a resync is under way: wait for it, see /proc/mdstat)")
    elif "degraded" in state or "FAILED" in state or "inactive" in state:
        problems.append(f"its state is '{state}'")
    active, failed = fields.get("Active Devices"), fields.get("Failed Devices", "0")
    if active != str(len(disks)):
        problems.append(f"{active} of {len(disks)} disks are active")
    if failed != "0":
        problems.append(f"{failed} disk(s) failed")
    members = re.findall(r"\bactive sync\s+(/dev/\S+)", detail)
    missing = [disk for disk in disks if disk not in members]
    if missing:
        problems.append(f"{', '.join(missing)} not an active member")
    return problems


def test_the_array_is_whole(host, site):
    """Both disks active and in sync: an array that runs on one disk (a disk failed or
    pulled, a resync under way) holds the brick without its second copy."""
    device = site.setting("raid_device", spec(host, site))
    disks = list(spec(host, site).disks)
    resolved = host.check_output(f"readlink -f {' '.join(disks)}").split()
    detail = host.run(f"mdadm --detail {device}")
    problems = array_problems(detail.stdout, resolved) if detail.rc == 0 else [detail.stderr.strip()]
    assert not problems, (
        f"{device} on {site_host_name(host, site)}: {'; '.join(problems)}. Replace a failed disk "
        f"(`mdadm {device} --remove <old>`, then `mdadm {device} --add <new>`) and watch /proc/mdstat; "
        "docs/real-servers.md"
    )


def test_the_array_is_mounted_where_the_site_says(host, site):
    device = site.setting("raid_device", spec(host, site))
    point = site.setting("raid_mount_point", spec(host, site))
    mounted = host.run(f"findmnt -n -o SOURCE,FSTYPE {point}").stdout.split()
    assert mounted == [device, "ext4"], (
        f"{point} is {mounted or 'not mounted'}, not {device} (ext4): `mount {point}` (by UUID from "
        "/etc/fstab); a degraded array that started late needs `mdadm --run` first"
    )
