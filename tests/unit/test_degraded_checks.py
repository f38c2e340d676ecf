"""The readings behind verify's checks of a degraded cluster (the checks themselves run against
the lab and the RAID VM): what each sees, from real output, and what it says to do."""

from hastack.health import array_problems, backend_problems, heal_entries, node_problems

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


def test_verify_refuses_a_host_the_site_does_not_have(fixtures, capsys):
    from hastack.site import load_site
    from hastack.verify import run_verify

    code = run_verify(load_site(fixtures / "good_site.yaml"), hosts=["web9"])
    assert (code, "--hosts names web9, not a host of" in capsys.readouterr().err) == (2, True)


PROXIES = ["proxy1", "proxy2"]


def test_both_proxies_online_have_no_problem(fixtures):
    """crm_mon's XML lists nodes twice: the cluster's, and under each resource where it runs."""
    assert node_problems((fixtures / "health/crm_mon_online.xml").read_text(), PROXIES) == {}


def test_a_proxy_offline_or_in_standby_is_named_with_the_fix(fixtures):
    offline = node_problems((fixtures / "health/crm_mon_proxy2_offline.xml").read_text(), PROXIES)
    standby = node_problems((fixtures / "health/crm_mon_proxy2_standby.xml").read_text(), PROXIES)
    assert (list(offline), "systemctl start corosync pacemaker" in offline["proxy2"], standby) == (
        ["proxy2"],
        True,
        {
            "proxy2": "in standby: `hastack maintenance proxy2 off` (or `pcs node unstandby proxy2`) when "
            "its work is done"
        },
    )


def test_a_proxy_the_cluster_does_not_know(fixtures):
    problems = node_problems((fixtures / "health/crm_mon_online.xml").read_text(), [*PROXIES, "proxy3"])
    assert list(problems) == ["proxy3"]


def test_haproxy_sends_to_both_web_hosts(fixtures):
    assert backend_problems((fixtures / "health/haproxy_show_stat.csv").read_text(), ["web1", "web2"]) == {}


def test_a_web_host_down_in_haproxy_is_named(fixtures):
    lines = (fixtures / "health/haproxy_show_stat.csv").read_text().splitlines()
    down = "\n".join(
        line.replace(",UP,", ",DOWN,", 1).replace("L7OK", "L4CON") if line.startswith("web,web2,") else line
        for line in lines
    )
    problems = backend_problems(down, ["web1", "web2", "web3"])
    assert (
        sorted(problems),
        problems["web2"].startswith("DOWN (last check: L4CON"),
        "not in" in problems["web3"],
    ) == (
        ["web2", "web3"],
        True,
        True,
    )


def test_haproxy_times_and_how_long_a_backend_may_take_to_settle():
    from hastack.timings import backend_settle_s, haproxy_time_s

    assert (
        haproxy_time_s("1s"),
        haproxy_time_s("500ms"),
        haproxy_time_s("2000"),
        backend_settle_s("2s", 3, 2),
    ) == (
        1,
        0.5,
        2,
        8,
    )
