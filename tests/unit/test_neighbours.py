"""What the preflight refuses beside the cluster (hastack/neighbours.py), and the apt settings of
each unattended-upgrades policy."""

import re

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
        neighbours.problems("proxy1", found, False, "disable"),
    ) == ([True], [], [])


def test_an_enabled_ufw_is_refused_with_its_fix():
    assert [
        "`ufw disable`" in p for p in neighbours.problems("web2", {**NOTHING, "ufw": True}, True, "hold")
    ] == [True]


def test_each_policy_writes_what_it_says():
    hold, off = neighbours.unattended_conf("hold"), neighbours.unattended_conf("disable")
    assert (
        '    "pacemaker";' in hold and '    "glusterfs";' in hold and "Package-Blacklist" in hold,
        'APT::Periodic::Unattended-Upgrade "0";' in off,
        neighbours.unattended_conf(""),
    ) == (True, True, None)


# Package names of Debian 12 and 13 (with 13's t64 renames), as unattended-upgrades sees them.
CLUSTER = [
    "pacemaker",
    "pacemaker-cli-utils",
    "pacemaker-resource-agents",
    "corosync",
    "corosync-qdevice",
    "corosync-qnetd",
    "libcorosync-common4",
    "libcorosync-common4t64",
    "libknet1",
    "libknet1t64",
    "libnozzle1",
    "libqb100",
    "libcfg7",
    "libcmap4",
    "libcpg4",
    "libquorum5",
    "libvotequorum8",
    "libsam4",
    "libcib27",
    "libcrmcommon34",
    "libpe-status28",
    "libpe-rules26",
    "libstonithd26",
    "liblrmd28",
    "libpacemaker1",
    "pcs",
    "resource-agents",
    "resource-agents-base",
    "resource-agents-extra",
    "fence-agents",
    "fence-agents-base",
    "fence-agents-ipmilan",
    "haproxy",
    "glusterfs-server",
    "glusterfs-client",
    "glusterfs-common",
    "glusterfs-cli",
    "libglusterfs0",
    "libglusterfs0t64",
    "libglusterd0",
    "libgfapi0",
    "libgfrpc0",
    "libgfxdr0",
    "libgfchangelog0",
    "docker.io",
    "containerd",
    "runc",
]
OTHERS = [
    "libgfortran5",
    "libgflags2.2",
    "libgfshare2",
    "libstdc++6",
    "libgcc-s1",
    "libc6",
    "pcscd",
    "haproxy-doc",
    "docker-compose",
    "python3-docker",
    "nginx",
    "openssl",
    "libsasl2-2",
    "libcfitsio10",
    "libsamplerate0",
    "libqt5core5a",
    "libcpuid16",
    "gcc-12-base",
]


def held(name: str) -> bool:
    # unattended-upgrades: Python regular expressions matched from the start of the name
    return any(re.match(pattern, name) for pattern in neighbours.CLUSTER_PACKAGE_PATTERNS)


def test_hold_catches_every_cluster_package_and_nothing_else():
    assert ([n for n in CLUSTER if not held(n)], [n for n in OTHERS if held(n)]) == ([], [])
