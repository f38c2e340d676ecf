"""The readings behind verify's checks of a degraded cluster (the checks themselves run against
the lab and the RAID VM): what each sees, from real output, and what it says to do."""

from hastack.checks.test_raid_array import array_problems
from hastack.checks.test_storage import heal_entries

DISKS = ["/dev/vdb", "/dev/vdc"]


def test_a_whole_array_has_no_problem(fixtures):
    assert array_problems((fixtures / "health/mdadm_detail_whole.txt").read_text(), DISKS) == []


def test_an_array_with_a_failed_disk_is_degraded(fixtures):
    problems = array_problems((fixtures / "health/mdadm_detail_failed.txt").read_text(), DISKS)
    assert problems == [
        "its state is 'clean, degraded'",
        "1 of 2 disks are active",
        "1 disk(s) failed",
        "/dev/vdc not an active member",
    ]


def test_a_resyncing_array_says_to_wait(fixtures):
    problems = array_problems((fixtures / "health/mdadm_detail_recovering.txt").read_text(), DISKS)
    assert ("wait for it" in problems[0], len(problems)) == (True, 3)


def test_an_array_of_other_disks_is_not_the_sites(fixtures):
    whole = (fixtures / "health/mdadm_detail_whole.txt").read_text()
    problems = array_problems(whole, ["/dev/sdb", "/dev/sdc"])
    assert problems == ["/dev/sdb, /dev/sdc not an active member"]


def test_heal_entries_per_brick_and_a_brick_away():
    info = (
        "Brick web1:/srv/gluster/brick\nStatus: Connected\nNumber of entries: 3\n\n"
        "Brick web2:/srv/gluster/brick\nStatus: Transport endpoint is not connected\nNumber of entries: -\n"
    )
    assert heal_entries(info) == ["3", "-"]
