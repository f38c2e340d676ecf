"""``hastack disk replace``: the site's refusals, and the plan read from the array's detail."""

import pytest

from hastack.defaults import ROOT
from hastack.disk import Refused, array_state, plan, rebuild_progress, site_problem
from hastack.site import load_site

SITE = load_site(ROOT / "site.yaml")
WEB = SITE.hosts_in("web")[0]


def state(members: dict[str, str], degraded: int = 0, action: str = "idle") -> dict:
    """An array's state as array_state reads it: member -> its flags (comma-separated)."""
    slots = ("0", "1", "none")
    pairs = zip(members.items(), slots, strict=False)
    lines = [f"member {dev} {flags} {slot}" for (dev, flags), slot in pairs]
    return array_state("\n".join([*lines, "raid_disks 2", f"degraded {degraded}", f"sync_action {action}"]))


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


def test_the_kernels_view_of_the_array_is_read():
    out = (
        "member /dev/vdb in_sync 0\nmember /dev/vdc faulty,write_mostly 1\n"
        "raid_disks 2\ndegraded 1\nsync_action idle\n"
    )
    assert array_state(out) == {
        "members": {
            "/dev/vdb": {"state": {"in_sync"}, "slot": "0"},
            "/dev/vdc": {"state": {"faulty", "write_mostly"}, "slot": "1"},
        },
        "raid_disks": 2,
        "degraded": 1,
        "sync_action": "idle",
    }


def test_a_degraded_array_with_the_failed_disk_listed_removes_it_then_adds_the_new_one():
    kind, commands = plan(
        state({"/dev/vdb": "in_sync", "/dev/vdc": "faulty"}, 1), "/dev/md0", "/dev/vdc", "/dev/vdd"
    )
    assert (kind, commands) == (
        "degraded",
        [
            "mdadm /dev/md0 --remove /dev/vdc",
            "mdadm /dev/md0 --remove detached || true",
            "mdadm /dev/md0 --add /dev/vdd",
        ],
    )


def test_a_degraded_array_whose_disk_is_gone_adds_the_new_one():
    kind, commands = plan(state({"/dev/vdb": "in_sync"}, 1), "/dev/md0", None, "/dev/vdd")
    assert (kind, commands[-1]) == ("degraded", "mdadm /dev/md0 --add /dev/vdd")


def test_a_whole_array_copies_the_failing_disk_while_it_still_serves():
    kind, commands = plan(
        state({"/dev/vdb": "in_sync", "/dev/vdc": "in_sync"}), "/dev/md0", "/dev/vdc", "/dev/vdd"
    )
    assert (kind, commands) == (
        "hot",
        ["mdadm /dev/md0 --add-spare /dev/vdd", "mdadm /dev/md0 --replace /dev/vdc"],
    )


def test_the_last_working_disk_of_a_degraded_array_is_refused():
    with pytest.raises(Refused, match="last working disk"):
        plan(state({"/dev/vdb": "in_sync", "/dev/vdc": "faulty"}, 1), "/dev/md0", "/dev/vdb", "/dev/vdd")


def test_nothing_is_started_while_a_check_or_a_rebuild_runs():
    """A recovery would take the new spare, or refuse --replace's slot (a monthly check too)."""
    with pytest.raises(Refused, match="a check is under way"):
        plan(
            state({"/dev/vdb": "in_sync", "/dev/vdc": "in_sync"}, 0, "check"),
            "/dev/md0",
            "/dev/vdc",
            "/dev/vdd",
        )


def test_a_whole_array_without_the_old_disk_has_nothing_to_replace():
    with pytest.raises(Refused, match="nothing to replace"):
        plan(state({"/dev/vdb": "in_sync", "/dev/vdc": "in_sync"}), "/dev/md0", None, "/dev/vdd")


def test_the_same_disk_as_old_and_new_is_refused():
    with pytest.raises(Refused, match="the same disk"):
        plan(state({"/dev/vdb": "in_sync"}, 1), "/dev/md0", "/dev/vdd", "/dev/vdd")


def test_a_new_disk_already_in_the_array_resumes_a_run_cut_short():
    """Run again after --no-wait or a lost connection: the wait and the clean-up only."""
    kind, commands = plan(
        state({"/dev/vdb": "in_sync", "/dev/vdd": "spare"}, 1, "recover"), "/dev/md0", None, "/dev/vdd"
    )
    assert (kind, commands) == ("resume", [])


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
