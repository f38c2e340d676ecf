"""Storage tier on the web hosts: GlusterFS replica volume mounted at /cluster."""

import json
import subprocess
import time
import uuid
import xml.etree.ElementTree as ET

import pytest

from hastack import lab

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


def test_cluster_is_mounted_from_gluster(host):
    assert host.mount_point("/cluster").filesystem == "fuse.glusterfs"


def test_fstab_mounts_cluster_after_network_with_backups(host):
    line = host.check_output("awk '$2 == \"/cluster\"' /etc/fstab")
    options = line.split()[3].split(",")
    assert ("_netdev" in options, any(o.startswith("backup-volfile-servers=") for o in options)) == (
        True,
        True,
    )


@pytest.fixture
def web(site, connect):
    """testinfra hosts of the web tier by name."""
    return {h.name: connect(h.name) for h in site.hosts_in("web")}


@pytest.mark.parametrize("writer, reader", [("web1", "web2"), ("web2", "web1")])
def test_file_written_on_one_web_host_is_read_on_the_other(web, writer, reader):
    name = f"/cluster/.hastack-test-{uuid.uuid4().hex}"
    token = uuid.uuid4().hex
    web[writer].check_output(f"echo {token} > {name}")
    try:
        assert web[reader].file(name).content_string.strip() == token
    finally:
        web[writer].run(f"rm -f {name}")


@pytest.mark.lab
def test_surviving_web_host_writes_while_its_peer_is_dead_and_heals_after(web, site, lab_mode, connect):
    if not lab_mode:
        pytest.fail("this test kills a host, so it runs against the lab only (unset HASTACK_SITE)")
    survivor, victim = web["web1"], "web2"
    folder = f"/cluster/.outage-{uuid.uuid4().hex[:8]}"
    survivor.check_output(f"mkdir {folder}")
    subprocess.run(["docker", "kill", f"{lab.PREFIX}-{victim}"], check=True, capture_output=True)
    try:
        started = time.monotonic()
        first = survivor.run(f"timeout 60 sh -c 'echo first > {folder}/first'")
        seconds = time.monotonic() - started
        print(f"\nfirst write on web1 with web2 dead: {seconds:.1f} s (gluster_ping_timeout 5)")
        assert first.rc == 0, first.stderr
        survivor.check_output(f"for i in $(seq 20); do head -c 65536 /dev/urandom > {folder}/file-$i; done")
    finally:
        lab.up()
    web[victim] = connect(victim, fresh=True)
    brick = f"{site.data.get('gluster_brick_root', '/raid1')}/brick{folder[len('/cluster') :]}"
    _wait_for_heal(survivor, site.cluster)
    sums = {
        name: json.dumps(sorted(host.check_output(f"cd {brick} && sha256sum *").splitlines()))
        for name, host in web.items()
    }
    survivor.run(f"rm -rf {folder}")
    assert (sums["web1"] == sums["web2"], web[victim].mount_point("/cluster").filesystem) == (
        True,
        "fuse.glusterfs",
    )


def _wait_for_heal(host, volume, limit=120):
    # start an index heal now rather than at the self-heal daemon's next crawl
    host.run(f"gluster volume heal {volume}")
    deadline = time.monotonic() + limit
    pending = None
    while time.monotonic() < deadline:
        info = host.run(f"gluster --xml volume heal {volume} info")
        if info.rc == 0:
            root = ET.fromstring(info.stdout)
            bricks = list(root.iter("brick"))
            pending = [b.findtext("numberOfEntries") for b in bricks]
            connected = [b.findtext("status") for b in bricks]
            if connected and all(s == "Connected" for s in connected) and all(p == "0" for p in pending):
                return
        time.sleep(2)
    pytest.fail(f"heal info still shows pending entries after {limit} s: {pending}")


@pytest.mark.lab
def test_silent_peer_stalls_writes_no_longer_than_the_ping_timeout(web, site):
    """web2 goes silent (no reset, as with a cut cable): web1's writes stall about gluster_ping_timeout."""
    survivor, victim = web["web1"], site.hosts["web2"]
    address = victim.addresses["back"]
    name = f"/cluster/.silent-{uuid.uuid4().hex[:8]}"
    survivor.check_output(f"echo before > {name}")
    cut = f"iptables -I INPUT -s {address} -j DROP && iptables -I OUTPUT -d {address} -j DROP"
    mend = f"iptables -D INPUT -s {address} -j DROP; iptables -D OUTPUT -d {address} -j DROP"
    survivor.check_output(cut)
    try:
        started = time.monotonic()
        write = survivor.run(f"timeout 60 sh -c 'echo during >> {name}'")
        seconds = time.monotonic() - started
    finally:
        survivor.run(mend)
    print(f"\nfirst write on web1 with web2 silent: {seconds:.1f} s (gluster_ping_timeout 5)")
    _wait_for_heal(survivor, site.cluster)
    survivor.run(f"rm -f {name}")
    # the point of the setting: far below GlusterFS's default of 42 s
    assert (write.rc, seconds < 30) == (0, True)
