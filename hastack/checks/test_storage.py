"""Storage tier on the web hosts: GlusterFS replica volume mounted at /cluster."""

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
    arbiter = site.data.get("gluster_arbiter", "")
    return [h.name for h in site.hosts_in("web")] + ([arbiter] if arbiter else [])


def test_volume_has_one_brick_per_web_host_and_the_arbiter(host, site):
    bricks = [b.findtext("name") for b in volume_info(host, site).iter("brick")]
    assert [brick.split(":")[0] for brick in bricks] == pool(site)


def test_arbiter_brick_is_an_arbiter(host, site):
    arbiters = [b.findtext("isArbiter") for b in volume_info(host, site).iter("brick")]
    assert arbiters == ["0", "0", "1"] if site.data.get("gluster_arbiter") else ["0", "0"]


def test_brick_is_below_the_brick_root_not_on_it(host, site):
    brick = volume_info(host, site).find(".//brick").findtext("name").split(":", 1)[1]
    assert brick.endswith("/brick")


def test_volume_replicates_across_the_pool(host, site):
    assert volume_info(host, site).findtext(".//volume/replicaCount") == str(len(pool(site)))


@pytest.mark.parametrize(
    "option, value",
    [("network.ping-timeout", "5"), ("cluster.self-heal-daemon", "on")],
)
def test_volume_option(host, site, option, value):
    options = {o.findtext("name"): o.findtext("value") for o in volume_info(host, site).iter("option")}
    assert options.get(option) == value


def test_quorum_is_the_sites_choice(host, site):
    options = {o.findtext("name"): o.findtext("value") for o in volume_info(host, site).iter("option")}
    assert options["cluster.quorum-type"] == site.data.get("gluster_quorum_type", "none")


def test_auth_allow_is_the_pool(host, site):
    options = {o.findtext("name"): o.findtext("value") for o in volume_info(host, site).iter("option")}
    assert options["auth.allow"].split(",") == [
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
