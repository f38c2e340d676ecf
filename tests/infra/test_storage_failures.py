"""Failures of the storage tier, in the lab: a web host dies or goes silent during writes."""

import json
import re
import subprocess
import time
import uuid
import xml.etree.ElementTree as ET

import pytest

from hastack import lab
from hastack.checks.test_storage import mount_away

pytestmark = pytest.mark.lab


@pytest.fixture
def web(site, connect):
    """testinfra hosts of the web tier by name."""
    return {h.name: connect(h.name) for h in site.hosts_in("web")}


def wait_until_the_mount_reaches_every_brick(host, site, name: str, limit: float = 120) -> None:
    """The web host's GlusterFS mount is connected to every brick of the volume, as the mount
    itself says now (the check's own reading): a brick that restarted (the arbiter on a proxy
    back from a failover) is reached again only at the mount's next retry, and until then one
    more brick away costs the mount its quorum."""
    deadline = time.monotonic() + limit
    while away := mount_away(host, site):
        if time.monotonic() > deadline:
            pytest.fail(f"{name}'s mount did not reach every brick within {limit:.0f} s: {', '.join(away)}")
        time.sleep(2)


def cut_and_mend(address: str) -> tuple[str, str]:
    """The commands that drop everything to and from ``address`` on a host (both ways: a cut
    cable, no reset), and that take the drop away again."""
    return (
        f"iptables -I INPUT -s {address} -j DROP && iptables -I OUTPUT -d {address} -j DROP",
        f"iptables -D INPUT -s {address} -j DROP; iptables -D OUTPUT -d {address} -j DROP",
    )


def test_surviving_web_host_writes_while_its_peer_is_dead_and_heals_after(web, site, lab_mode, connect):
    if not lab_mode:
        pytest.fail("this test kills a host, so it runs against the lab only (unset HASTACK_SITE)")
    survivor, victim = web["web1"], "web2"
    wait_until_the_mount_reaches_every_brick(survivor, site, "web1")
    mount_point = site.setting("gluster_mount_point", site.hosts["web1"])
    folder = f"{mount_point}/.outage-{uuid.uuid4().hex[:8]}"
    survivor.check_output(f"mkdir {folder}")
    subprocess.run(["docker", "kill", f"{lab.PREFIX}-{victim}"], check=True, capture_output=True)
    try:
        started = time.monotonic()
        first = survivor.run(f"timeout 60 sh -c 'echo first > {folder}/first'")
        seconds = time.monotonic() - started
        ping = site.setting("gluster_ping_timeout", site.hosts["web1"])
        print(f"\nfirst write on web1 with web2 dead: {seconds:.1f} s (gluster_ping_timeout {ping})")
        assert first.rc == 0, first.stderr
        survivor.check_output(f"for i in $(seq 20); do head -c 65536 /dev/urandom > {folder}/file-$i; done")
    finally:
        lab.up()
    web[victim] = connect(victim, fresh=True)
    brick = f"{site.setting('gluster_brick_root', site.hosts['web1'])}/brick{folder[len(mount_point) :]}"
    _wait_for_heal(survivor, site.cluster)
    sums = {
        name: json.dumps(sorted(host.check_output(f"cd {brick} && sha256sum *").splitlines()))
        for name, host in web.items()
    }
    survivor.run(f"rm -rf {folder}")
    assert (sums["web1"] == sums["web2"], web[victim].mount_point(mount_point).filesystem) == (
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


def test_silent_peer_stalls_writes_no_longer_than_the_ping_timeout(web, site):
    """web2 goes silent (no reset, as with a cut cable): web1's writes stall about gluster_ping_timeout."""
    survivor, victim = web["web1"], site.hosts["web2"]
    address = victim.addresses["back"]
    wait_until_the_mount_reaches_every_brick(survivor, site, "web1")
    name = f"{site.setting('gluster_mount_point', site.hosts['web1'])}/.silent-{uuid.uuid4().hex[:8]}"
    survivor.check_output(f"echo before > {name}")
    cut, mend = cut_and_mend(address)
    survivor.check_output(cut)
    try:
        started = time.monotonic()
        write = survivor.run(f"timeout 60 sh -c 'echo during >> {name}'")
        seconds = time.monotonic() - started
    finally:
        survivor.run(mend)
    ping = int(site.setting("gluster_ping_timeout", site.hosts["web1"]))
    print(f"\nfirst write on web1 with web2 silent: {seconds:.1f} s (gluster_ping_timeout {ping})")
    _wait_for_heal(survivor, site.cluster)
    survivor.run(f"rm -f {name}")
    # The client notices the silence between one and two ping timeouts after it began (measured
    # with 2 to 42 s: `hastack timers ping`, docs/measurements.md), plus this machine's slack.
    assert (write.rc, seconds <= 2 * ping + 3) == (0, True), (
        f"{seconds:.1f} s with gluster_ping_timeout {ping}"
    )


def test_writes_on_both_sides_of_a_cut_between_the_web_hosts_are_kept_or_refused_never_discarded(web, site):
    """web1 and web2 cut from each other (their own link, the arbiter still reaching both): each
    writes a file of its own, and both write one same file. After the cut heals, every write
    that was accepted is on both web hosts' bricks with what was written, and nothing is in
    split brain: a write that would have split the file's brain is refused, not accepted and
    then discarded (the arbiter's quorum; gluster_favorite_child_policy never has to choose)."""
    w1, w2 = web["web1"], web["web2"]
    address = site.hosts["web2"].addresses["back"]
    for name, host in web.items():
        wait_until_the_mount_reaches_every_brick(host, site, name)
    mount_point = site.setting("gluster_mount_point", site.hosts["web1"])
    folder = f"{mount_point}/.cut-{uuid.uuid4().hex[:8]}"
    w1.check_output(f"mkdir {folder}")
    w2.check_output(f"timeout 30 sh -c 'until [ -d {folder} ]; do sleep 1; done'")
    cut, mend = cut_and_mend(address)

    def write(host, text: str, file: str) -> bool:
        # synced, so that an error GlusterFS reports at flush is seen; a write still waiting
        # after 60 s is a failure of the test, not a refusal (it could land later)
        done = host.run(f"timeout 60 sh -c 'printf {text} | dd of={folder}/{file} conv=fsync status=none'")
        assert done.rc != 124, f"a write of {file} still waited after 60 s"
        return done.rc == 0

    try:
        w1.check_output(cut)
        reach = w1.run(f"timeout 2 bash -c 'echo > /dev/tcp/{address}/24007'")
        assert reach.rc != 0, "the cut did not take: web1 still reaches web2's glusterd"
        wrote = {
            "web1": {"own": write(w1, "one", "from-web1"), "same": write(w1, "web1", "same")},
            "web2": {"own": write(w2, "two", "from-web2"), "same": write(w2, "web2", "same")},
        }
    finally:
        w1.run(mend)
    for name, host in web.items():
        wait_until_the_mount_reaches_every_brick(host, site, name)
    _wait_for_heal(w1, site.cluster)
    split = w1.check_output(f"gluster volume heal {site.cluster} info split-brain")
    brick = f"{site.setting('gluster_brick_root', site.hosts['web1'])}/brick{folder[len(mount_point) :]}"
    found = {
        name: {
            file: host.run(f"cat {brick}/{file}").stdout.strip() or None
            for file in ("from-web1", "from-web2", "same")
        }
        for name, host in web.items()
    }
    w1.run(f"rm -rf {folder}")
    expected_own = {"from-web1": "one", "from-web2": "two"}
    lost = [
        f"{file} ({expected_own[file]}) on {name}'s brick: {found[name][file]!r}"
        for writer, file in (("web1", "from-web1"), ("web2", "from-web2"))
        if wrote[writer]["own"]
        for name in web
        if found[name][file] != expected_own[file]
    ]
    accepted_same = [writer for writer in ("web1", "web2") if wrote[writer]["same"]]
    lost += [
        f"same ({writer}) on {name}'s brick: {found[name]['same']!r}"
        for writer in accepted_same
        for name in web
        if found[name]["same"] != writer
    ]
    print(f"\naccepted during the cut: {wrote}; bricks after: {found}")
    entries = [int(n) for n in re.findall(r"Number of entries in split-brain: (\d+)", split)]
    # web1 and the arbiter are two of three bricks: web1 keeps writing (a cut that refused every
    # write, or web1's write of the same file, would prove nothing)
    web1_wrote = wrote["web1"] == {"own": True, "same": True}
    bricks = split.count("Brick ")
    assert (lost, sum(entries), len(entries) == bricks > 0, web1_wrote) == ([], 0, True, True), split
