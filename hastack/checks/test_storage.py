"""Storage tier on the web hosts: GlusterFS replica volume mounted at /cluster."""

import re
import uuid
import xml.etree.ElementTree as ET

import pytest

from hastack.checks.plugin import site_host_name as host_name

LAYER = "storage"
pytestmark = pytest.mark.roles("web")


def volume_info(host, site) -> ET.Element:
    return ET.fromstring(host.check_output(f"gluster --xml volume info {site.cluster}"))


def test_glusterd_running(host):
    assert host.service("glusterd").is_running


def test_glusterd_enabled(host):
    assert host.service("glusterd").is_enabled


def test_volume_started(host, site):
    assert volume_info(host, site).findtext(".//volume/statusStr") == "Started"


def pool(site) -> list[str]:
    """The hosts with a brick: the web hosts, then the arbiter when the site has one."""
    arbiter = site.setting("gluster_arbiter")
    return [h.name for h in site.hosts_in("web")] + ([arbiter] if arbiter else [])


def volume_options(host, site) -> dict[str, str]:
    return {o.findtext("name"): o.findtext("value") for o in volume_info(host, site).iter("option")}


def test_volume_has_one_brick_per_web_host_and_the_arbiter(host, site):
    bricks = [b.findtext("name") for b in volume_info(host, site).iter("brick")]
    assert [brick.split(":")[0] for brick in bricks] == pool(site)


def test_arbiter_brick_is_an_arbiter(host, site):
    arbiters = [b.findtext("isArbiter") for b in volume_info(host, site).iter("brick")]
    expected = ["0"] * len(site.hosts_in("web")) + (["1"] if site.setting("gluster_arbiter") else [])
    assert arbiters == expected


def test_bricks_are_below_their_brick_roots_not_on_them(host, site):
    bricks = [b.findtext("name") for b in volume_info(host, site).iter("brick")]
    arbiter = site.setting("gluster_arbiter")
    root = {
        name: "gluster_arbiter_brick_root" if name == arbiter else "gluster_brick_root" for name in pool(site)
    }
    expected = [f"{name}:{site.setting(root[name], site.hosts[name])}/brick" for name in pool(site)]
    assert bricks == expected


def test_volume_replicates_across_the_pool(host, site):
    assert volume_info(host, site).findtext(".//volume/replicaCount") == str(len(pool(site)))


def test_self_heal_daemon_is_on(host, site):
    assert volume_options(host, site).get("cluster.self-heal-daemon") == "on"


@pytest.mark.parametrize(
    "option, key",
    [
        ("network.ping-timeout", "gluster_ping_timeout"),
        ("cluster.quorum-type", "gluster_quorum_type"),
        ("cluster.favorite-child-policy", "gluster_favorite_child_policy"),
    ],
)
def test_volume_option_is_the_sites_setting(host, site, option, key):
    assert volume_options(host, site).get(option) == str(site.setting(key))


def test_auth_allow_is_the_pool(host, site):
    assert volume_options(host, site)["auth.allow"].split(",") == [
        str(site.hosts[name].addresses["back"]) for name in pool(site)
    ]


def mount_point(host, site) -> str:
    return site.setting("gluster_mount_point", site.hosts[host_name(host, site)])


def test_cluster_is_mounted_from_gluster(host, site):
    assert host.mount_point(mount_point(host, site)).filesystem == "fuse.glusterfs"


def test_fstab_mounts_cluster_after_network_with_backups(host, site):
    line = host.check_output(f"awk '$2 == \"{mount_point(host, site)}\"' /etc/fstab")
    options = line.split()[3].split(",")
    assert ("_netdev" in options, any(o.startswith("backup-volfile-servers=") for o in options)) == (
        True,
        True,
    )


def test_file_written_here_is_read_on_every_other_web_host(host, site, connect):
    name = f"{mount_point(host, site)}/.hastack-test-{uuid.uuid4().hex}"
    token = uuid.uuid4().hex
    host.check_output(f"echo {token} > {name}")
    others = [other.name for other in site.hosts_in("web") if other.name != host_name(host, site)]
    try:
        read = {other: connect(other).file(name).content_string.strip() for other in others}
    finally:
        host.run(f"rm -f {name}")
    assert read == {other: token for other in others}


def test_every_brick_of_the_pool_is_online(host, site):
    """A brick away (its host down, glusterd or the brick process dead) is a degraded volume."""
    status = ET.fromstring(host.check_output(f"gluster --xml volume status {site.cluster}"))
    online = {
        node.findtext("hostname"): node.findtext("status")
        for node in status.iter("node")
        if (node.findtext("path") or "").endswith("/brick")
    }
    assert {name: online.get(name) for name in pool(site)} == {name: "1" for name in pool(site)}


def test_no_file_is_in_split_brain(host, site):
    """Files whose copies disagree with no majority: listed until a person picks a copy
    (with gluster_favorite_child_policy none, nothing picks one for them)."""
    output = host.check_output(f"gluster volume heal {site.cluster} info split-brain")
    counts = [int(n) for n in re.findall(r"Number of entries in split-brain:\s*(\d+)", output)]
    assert (len(counts), sum(counts)) == (len(pool(site)), 0), output
