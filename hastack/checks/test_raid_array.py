"""Disks on the web hosts with `raid_enabled`: the site's RAID-1, whole, under the bricks."""

import shlex

import pytest

from hastack.checks.plugin import site_host_name
from hastack.health import array_problems

LAYER = "storage/RAID"
pytestmark = [pytest.mark.roles("web"), pytest.mark.when_set("raid_enabled")]


def spec(host, site):
    return site.hosts[site_host_name(host, site)]


def test_the_array_is_whole(host, site):
    """Both disks active and in sync: an array that runs on one disk (a disk failed or
    pulled, a resync under way) holds the brick without its second copy."""
    device = site.setting("raid_device", spec(host, site))
    disks = list(spec(host, site).disks)
    resolved = host.check_output(f"readlink -f {' '.join(shlex.quote(disk) for disk in disks)}").split()
    detail = host.run(f"mdadm --detail {shlex.quote(device)}")
    problems = array_problems(detail.stdout, resolved) if detail.rc == 0 else [detail.stderr.strip()]
    syncing = any("resync is under way" in problem for problem in problems)
    todo = (
        "A resync is under way (an array's first takes hours on large disks): wait for it"
        if syncing
        else f"Replace a failed disk (`mdadm {device} --remove failed`, then `mdadm {device} --add <new>`)"
    )
    assert not problems, (
        f"{device} on {site_host_name(host, site)}: {'; '.join(problems)}. {todo}; watch /proc/mdstat "
        "(docs/real-servers.md)"
    )


def test_the_array_is_mounted_where_the_site_says(host, site):
    device = site.setting("raid_device", spec(host, site))
    point = site.setting("raid_mount_point", spec(host, site))
    mounted = host.run(f"findmnt -n -o SOURCE,FSTYPE {point}").stdout.split()
    assert mounted == [device, "ext4"], (
        f"{point} is {mounted or 'not mounted'}, not {device} (ext4): `mount {point}` (by UUID from "
        "/etc/fstab); a degraded array that started late needs `mdadm --run` first"
    )
