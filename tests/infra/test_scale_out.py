"""A third web host joins the running cluster, then leaves it, each under an open-loop stream
through the VIP (50 requests a second, fresh connections, 1 s timeout): no request fails, no
file is lost (sha256 of every file before and after), HAProxy reloads (its master PID stays)
and the VIP does not move.

Join: `hastack lab up --web 3`, then deploys/all.py: the volume drops the lab's arbiter and
grows to replica 3 (add-brick, full heal), HAProxy gains web3, monitoring collects from it.
Removal: `hastack lab up --web 2`, then deploys/all.py: HAProxy drains web3, its brick leaves
once nothing is left to heal from it, it is detached from the pool, the arbiter returns.
"""

import time

import pytest

from hastack import lab
from hastack.checks.plugin import GMETAD_XML
from hastack.components.haproxy import ADMIN_SOCKET
from hastack.deploying import run_deploy
from hastack.drill import Drills, outage
from hastack.site import load_site

pytestmark = [pytest.mark.lab]
FILES = "scale-test"
CACTI_WEB3 = 'mysql -N -B cacti -e \'SELECT hostname FROM host WHERE description="web3" AND disabled=""\''


def sums(drills: Drills, host: str, folder: str) -> str:
    """sha256 of every file of a folder on a host, by name (sorted)."""
    return drills.remote(host, fresh=True).run(f"cd {folder} && sha256sum $(ls | sort)")[1]


def volume_info(drills: Drills, site) -> str:
    return drills.remote(site.hosts_in("web")[0].name, fresh=True).run(f"gluster volume info {site.cluster}")[
        1
    ]


def haproxy_state(drills: Drills, site) -> dict[str, tuple[str, list[str]]]:
    """Per proxy: HAProxy's master PID and the servers of backend web that are UP."""
    state = {}
    for proxy in site.hosts_in("proxy"):
        run = drills.remote(proxy.name, fresh=True).run
        pid = run("systemctl show -P MainPID haproxy")[1].strip()
        stat = run(f"echo 'show stat' | socat stdio {ADMIN_SOCKET}")[1]
        up = sorted(
            f[1]
            for f in (line.split(",") for line in stat.splitlines())
            if f[0] == "web" and f[17:18] == ["UP"] and f[1] not in ("FRONTEND", "BACKEND")
        )
        state[proxy.name] = (pid, up)
    return state


def change_under_stream(drills: Drills, web: int) -> tuple[list, object]:
    """`lab up --web N` and a whole deploy, while the stream runs: its samples and the run."""
    runs = []

    def change():
        lab.up(web=web)
        runs.append(run_deploy(lab.SITE_FILE, log=lab.LAB_DIR / f"deploy-web{web}.log"))

    started = time.monotonic()
    samples = drills.stream(change, until_done=1800)
    print(
        f"\n`lab up --web {web}` and the deploy under the stream: {time.monotonic() - started:.0f} s, "
        f"{len(samples)} requests, {failed(samples)} failed, longest gap {outage(samples):.2f} s"
    )
    return samples, runs[0]


@pytest.fixture(scope="module")
def two(site, deployed):
    """The lab with its two web hosts, 100 files of random bytes in the volume, their sums."""
    drills = Drills(site)
    web1 = site.hosts_in("web")[0].name
    mount = site.setting("gluster_mount_point")
    drills.remote(web1).run(
        f"rm -rf {mount}/{FILES} && mkdir {mount}/{FILES} && for i in $(seq 100); do "
        f"head -c 65536 /dev/urandom > {mount}/{FILES}/f$i; done"
    )
    drills.healthy()
    yield drills, sums(drills, web1, f"{mount}/{FILES}"), haproxy_state(drills, site), drills.vip_holder()
    drills.remote(web1, fresh=True).run(f"rm -rf {mount}/{FILES}")
    drills.close()


@pytest.fixture(scope="module")
def joined(two):
    drills, before, _, _ = two
    samples, run = change_under_stream(drills, 3)
    site3 = load_site(lab.SITE_FILE)
    grown = Drills(site3)
    grown.healthy(limit=600)
    yield grown, samples, run
    grown.close()


@pytest.fixture(scope="module")
def removed(two, joined):
    drills, _, _, _ = two
    samples, run = change_under_stream(drills, 2)
    drills.healthy(limit=600)
    # web3 is out of the site: its container goes, as a retired server would
    lab.remove_host(lab.lab_hosts(3)[-2])
    return samples, run


def healed_onto(drills: Drills, host: str, folder: str, want: str, limit: float = 300) -> float:
    """Seconds until the files on a brick's folder sum as wanted (the full heal copies them in
    the background: `heal info` lists no entry for files that predate the brick), or -1."""
    started = time.monotonic()
    while time.monotonic() - started < limit:
        if sums(drills, host, folder) == want:
            return time.monotonic() - started
        time.sleep(5)
    return -1


def failed(samples) -> int:
    return sum(1 for _, status, *_ in samples if status != 200)


def test_a_third_web_host_joins_with_no_failed_request_and_every_file(site, two, joined):
    drills, before, proxies_before, holder = two
    grown, samples, run = joined
    brick = f"{site.setting('gluster_brick_root').rstrip('/')}/brick"
    info = volume_info(grown, grown.site)
    after = haproxy_state(grown, grown.site)
    assert run.returncode == 0, run.report(3000)
    assert (
        failed(samples),
        len(samples) > 100,
        "Number of Bricks: 1 x 3 = 3" in info,
        f"web3:{brick}" in info,
        "arbiter" not in info.lower(),
        # every file on web3's own brick, byte for byte (healed, not just readable through the mount)
        healed_onto(grown, "web3", f"{brick}/{FILES}", before) >= 0,
        {name: pid for name, (pid, _) in after.items()}
        == {name: pid for name, (pid, _) in proxies_before.items()},
        {name: up for name, (_, up) in after.items()}
        == {p.name: ["web1", "web2", "web3"] for p in site.hosts_in("proxy")},
        grown.vip_holder(),
    ) == (0, True, True, True, True, True, True, True, holder), info


def test_monitoring_collects_from_the_host_that_joined(joined):
    """Every web host's gmetad holds web3's metrics and both proxies' Cacti poll it (the checks'
    own tests, on the grown site, would wait 10 minutes for Cacti's polls: these ask the
    collectors directly)."""
    grown, _, _ = joined
    ganglia, deadline = {}, time.monotonic() + 120
    while time.monotonic() < deadline:
        ganglia = {
            web.name: 'HOST NAME="web3"' in grown.remote(web.name, fresh=True).run(GMETAD_XML)[1]
            for web in grown.site.hosts_in("web")
        }
        if all(ganglia.values()):
            break
        time.sleep(5)
    cacti = {
        proxy.name: grown.remote(proxy.name).run(CACTI_WEB3)[1].strip()
        for proxy in grown.site.hosts_in("proxy")
    }
    web3 = str(grown.site.hosts["web3"].addresses["back"])
    assert (ganglia, cacti) == (
        {web.name: True for web in grown.site.hosts_in("web")},
        {proxy.name: web3 for proxy in grown.site.hosts_in("proxy")},
    )


def test_removing_the_host_drains_it_and_keeps_every_file(site, two, removed):
    drills, before, proxies_before, holder = two
    samples, run = removed
    mount = site.setting("gluster_mount_point")
    info = volume_info(drills, site)
    after = haproxy_state(drills, site)
    assert run.returncode == 0, run.report(3000)
    assert (
        failed(samples),
        "Drain web3 in HAProxy" in run.output,
        "Number of Bricks: 1 x (2 + 1) = 3" in info,
        "web3:" not in info,
        sums(drills, site.hosts_in("web")[0].name, f"{mount}/{FILES}") == before,
        sums(drills, site.hosts_in("web")[1].name, f"{mount}/{FILES}") == before,
        {name: up for name, (_, up) in after.items()}
        == {p.name: ["web1", "web2"] for p in site.hosts_in("proxy")},
        {name: pid for name, (pid, _) in after.items()}
        == {name: pid for name, (pid, _) in proxies_before.items()},
        drills.vip_holder(),
    ) == (0, True, True, True, True, True, True, True, holder), info


def test_monitoring_forgets_the_host_that_left(site, two, removed):
    """No web host's gmetad lists web3 once it has left (gmetad would keep a departed host for
    its DMAX, a day, shown down, and `hastack verify` would fail all that time)."""
    drills = two[0]
    listed = {
        web.name: 'HOST NAME="web3"' in drills.remote(web.name, fresh=True).run(GMETAD_XML)[1]
        for web in site.hosts_in("web")
    }
    assert listed == {web.name: False for web in site.hosts_in("web")}


def test_the_cluster_after_the_removal_deploys_with_no_change(removed):
    run = run_deploy(lab.SITE_FILE)
    assert (run.returncode, run.changed_operations) == (0, []), run.report(3000)
