"""Storage tier on the web hosts: GlusterFS replica volume mounted at /cluster."""

import time
import uuid
import xml.etree.ElementTree as ET

import pytest

from hastack.checks.plugin import site_host_name as host_name
from hastack.components.gluster import HEAL_INTERVAL_S
from hastack.health import brick_pool, bricks_online, gluster_retrying, heal_entries, split_brain_counts

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
    return brick_pool(site)


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


def test_self_heal_daemon_is_on_and_crawls_as_hastack_sets(host, site):
    options = volume_options(host, site)
    assert (options.get("cluster.self-heal-daemon"), options.get("cluster.heal-timeout")) == (
        "on",
        str(HEAL_INTERVAL_S),
    ), f"deploy the web hosts again: hastack sets cluster.heal-timeout {HEAL_INTERVAL_S} on {site.cluster}"


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
    online = bricks_online(host.check_output(gluster_retrying(f"gluster --xml volume status {site.cluster}")))
    away = [name for name in pool(site) if online.get(name) != "1"]
    assert not away, (
        f"brick(s) of {', '.join(away)} offline: bring the host back (glusterd running), then "
        f"`gluster volume start {site.cluster} force` starts a brick process that stays down"
    )


def test_no_file_is_in_split_brain(host, site):
    """Files whose copies disagree with no majority: listed until a person picks a copy
    (with gluster_favorite_child_policy none, nothing picks one for them)."""
    output = host.check_output(f"gluster volume heal {site.cluster} info split-brain")
    counts = split_brain_counts(output)
    assert (len(counts), sum(counts)) == (len(pool(site)), 0), (
        f"{sum(counts)} file(s) in split-brain, or a brick did not answer ({len(counts)} of "
        f"{len(pool(site))} did): pick the good copy of each, "
        f"`gluster volume heal {site.cluster} split-brain latest-mtime|bigger-file|source-brick ...`"
        f" (docs/real-servers.md); {output.strip()[-300:]}"
    )


# How long verify lets the self-heal daemon drain the entries a short outage leaves (a brick
# back from a restart heals small files in seconds): longer is a heal that does not progress.
HEAL_DRAIN_S = 2 * HEAL_INTERVAL_S


def test_no_heal_entries_remain(host, site):
    """Files that one brick has and another lacks: the self-heal daemon copies them. Entries
    still there after HEAL_DRAIN_S, or a brick that does not answer (no heal can reach it),
    mean a copy is missing: the volume is degraded."""
    deadline = time.monotonic() + HEAL_DRAIN_S
    while True:
        output = host.check_output(f"gluster volume heal {site.cluster} info")
        entries = dict(zip(pool(site), heal_entries(output), strict=False))
        silent = [name for name in pool(site) if entries.get(name, "-") == "-"]
        assert not silent, (
            f"the brick(s) of {', '.join(silent)} did not answer heal info, so nothing heals onto "
            f"them: bring them back (`gluster volume status {site.cluster}`)"
        )
        if all(n == "0" for n in entries.values()) or time.monotonic() > deadline:
            break
        time.sleep(5)
    assert all(n == "0" for n in entries.values()), (
        f"heal entries {entries} did not drain within {HEAL_DRAIN_S} s: see "
        f"`gluster volume heal {site.cluster} info`; `gluster volume heal {site.cluster}` starts a heal"
    )


def mount_connections(host, site) -> dict[str, str]:
    """This web host's GlusterFS mount, as it says itself (its `.meta` tree): each of the
    volume's client translators ("VOL-client-N", one per brick in order) and whether it is
    connected ("1"). The self-heal daemon on the same host may be connected while the mount
    is not."""
    volume = site.cluster
    states = host.run(
        f"grep -H '^connected = ' {mount_point(host, site)}/.meta/graphs/active/{volume}-client-*/private"
    ).stdout
    return {
        line.split("/.meta/graphs/active/", 1)[1].split("/", 1)[0]: line.rsplit("=", 1)[1].strip()
        for line in states.splitlines()
        if "/.meta/graphs/active/" in line
    }


def mount_away(host, site) -> list[str]:
    """The bricks (by host) this web host's mount is not connected to now."""
    connected = mount_connections(host, site)
    return [name for n, name in enumerate(pool(site)) if connected.get(f"{site.cluster}-client-{n}") != "1"]


# A brick that restarted is reached again at the mount's next retry (every few seconds).
MOUNT_RECONNECT_S = 30


def test_the_mount_reaches_every_brick(host, site):
    """A mount cut from a brick writes without that copy (and, one more brick away, loses its
    quorum) even while `volume status` shows every brick online."""
    deadline = time.monotonic() + MOUNT_RECONNECT_S
    while (away := mount_away(host, site)) and time.monotonic() < deadline:
        time.sleep(2)
    assert not away, (
        f"the mount at {mount_point(host, site)} is not connected to the brick(s) of "
        f"{', '.join(away)} after {MOUNT_RECONNECT_S} s: check the back network and the firewall "
        f"between them; remounting ({mount_point(host, site)}) reconnects"
    )
