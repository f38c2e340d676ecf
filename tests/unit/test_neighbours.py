"""What the preflight refuses beside the cluster (hastack/neighbours.py), and the apt settings of
each unattended-upgrades policy."""

from hastack import neighbours

NOTHING = {"packages": [], "ufw": False, "unattended_upgrades": False}


def test_docker_ce_is_refused_only_where_hastack_installs_docker():
    found = {**NOTHING, "packages": ["docker-ce", "containerd.io"]}
    web = neighbours.problems("web1", found, needs_docker=True, policy="")
    client = neighbours.problems("client", found, needs_docker=False, policy="")
    assert (len(web), "host web1 has Docker CE (docker-ce, containerd.io)" in web[0], client) == (1, True, [])


def test_unattended_upgrades_are_refused_until_a_policy_is_chosen():
    found = {**NOTHING, "unattended_upgrades": True}
    assert (
        ["data key unattended_upgrades" in p for p in neighbours.problems("proxy1", found, False, "")],
        neighbours.problems("proxy1", found, False, "hold"),
        neighbours.problems("proxy1", found, False, "off"),
    ) == ([True], [], [])


def test_an_enabled_ufw_is_refused_with_its_fix():
    assert [
        "`ufw disable`" in p for p in neighbours.problems("web2", {**NOTHING, "ufw": True}, True, "hold")
    ] == [True]


def test_each_policy_writes_what_it_says():
    hold, off = neighbours.unattended_conf("hold"), neighbours.unattended_conf("off")
    assert (
        '    "pacemaker";' in hold and '    "glusterfs";' in hold and "Package-Blacklist" in hold,
        'APT::Periodic::Unattended-Upgrade "0";' in off,
        neighbours.unattended_conf(""),
    ) == (True, True, None)
