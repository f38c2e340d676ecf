"""``hastack disk replace``: the site's refusals, and the plan read from the array's detail."""

import pytest

from hastack.defaults import ROOT
from hastack.disk import Refused, plan, rebuild_progress, site_problem
from hastack.site import load_site

SITE = load_site(ROOT / "site.yaml")
WEB = SITE.hosts_in("web")[0]


def detail(members: dict[str, str], degraded: str = "0") -> dict:
    return {"device": "/dev/md0", "MD_DEVICES": "2", "MD_DEGRADED": degraded, "members": members}


@pytest.mark.parametrize(
    ("name", "old", "new", "says"),
    [
        ("nosuch", "/dev/sdb", "/dev/sdd", "host nosuch is not in the site"),
        (SITE.hosts_in("proxy")[0].name, "/dev/sdb", "/dev/sdd", "only web hosts carry the RAID-1"),
        (WEB.name, "/dev/sdx", "/dev/sdd", f"/dev/sdx is not one of host {WEB.name}'s disks"),
        (WEB.name, WEB.disks[0], WEB.disks[1], f"is already one of host {WEB.name}'s disks"),
        (WEB.name, WEB.disks[0], "sdd", "is not a device path"),
    ],
)
def test_the_site_refuses_before_any_host_is_contacted(name, old, new, says):
    assert says in (site_problem(SITE, name, old, new) or "")


def test_a_disk_of_the_sites_host_for_a_new_blank_path_is_accepted():
    assert site_problem(SITE, WEB.name, WEB.disks[0], "/dev/disk/by-id/ata-NEW") is None


def test_a_degraded_array_with_the_failed_disk_listed_removes_it_then_adds_the_new_one():
    kind, commands = plan(detail({"/dev/vdb": "0", "/dev/vdc": "faulty"}, "1"), "/dev/vdc", "/dev/vdd")
    assert (kind, commands) == (
        "degraded",
        [
            "mdadm /dev/md0 --remove /dev/vdc",
            "mdadm /dev/md0 --remove detached || true",
            "mdadm /dev/md0 --add /dev/vdd",
        ],
    )


def test_a_degraded_array_whose_disk_is_gone_adds_the_new_one():
    kind, commands = plan(detail({"/dev/vdb": "0"}, "1"), None, "/dev/vdd")
    assert (kind, commands[-1]) == ("degraded", "mdadm /dev/md0 --add /dev/vdd")


def test_a_whole_array_copies_the_failing_disk_while_it_still_serves():
    kind, commands = plan(detail({"/dev/vdb": "0", "/dev/vdc": "1"}), "/dev/vdc", "/dev/vdd")
    assert (kind, commands) == (
        "hot",
        ["mdadm /dev/md0 --add-spare /dev/vdd", "mdadm /dev/md0 --replace /dev/vdc --with /dev/vdd"],
    )


def test_the_last_working_disk_of_a_degraded_array_is_refused():
    with pytest.raises(Refused, match="last working disk"):
        plan(detail({"/dev/vdb": "0", "/dev/vdc": "faulty"}, "1"), "/dev/vdb", "/dev/vdd")


def test_a_disk_being_rebuilt_counts_as_missing():
    """mdadm gives a rebuilding disk its slot: the kernel's degraded count says it is not a copy yet."""
    with pytest.raises(Refused, match="last working disk"):
        plan(detail({"/dev/vdb": "0", "/dev/vdc": "1"}, "1"), "/dev/vdb", "/dev/vdd")


def test_a_whole_array_without_the_old_disk_has_nothing_to_replace():
    with pytest.raises(Refused, match="nothing to replace"):
        plan(detail({"/dev/vdb": "0", "/dev/vdc": "1"}), None, "/dev/vdd")


def test_a_new_disk_already_in_the_array_is_refused():
    with pytest.raises(Refused, match="already in /dev/md0"):
        plan(detail({"/dev/vdb": "0", "/dev/vdd": "spare"}, "1"), None, "/dev/vdd")


def test_the_rebuilds_line_is_read_for_its_array_only():
    mdstat = (
        "Personalities : [raid1]\n"
        "md9 : active raid1 vdf[1] vde[0]\n      261120 blocks super 1.2 [2/2] [UU]\n\n"
        "md0 : active raid1 vdd[2] vdb[0]\n      1046528 blocks super 1.2 [2/1] [U_]\n"
        "      [==>..................]  recovery = 12.5% (131072/1046528) finish=0.1min speed=131072K/sec\n"
        "      bitmap: 1/1 pages [4KB], 65536KB chunk\n"
    )
    assert (rebuild_progress(mdstat, "/dev/md0") or "").startswith("[==>..................] recovery = 12.5%")
    assert rebuild_progress(mdstat, "/dev/md9") is None
