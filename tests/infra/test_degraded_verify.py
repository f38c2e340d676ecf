"""`hastack verify` on a degraded lab: a proxy in standby, a web host out of HAProxy, a brick
away. Each time the very command a person runs fails, naming what is wrong and what to do, and
holds again once the cluster is whole. (The RAID's check is broken the same way in the VM:
tests/vm/test_raid.py.)"""

import json
import subprocess
import sys
import time

import pytest

from hastack import lab
from hastack.health import backend_rows
from hastack.maintenance import STAT
from tests.harness import lab_only_fixture

pytestmark = pytest.mark.lab


def verify(hosts: str, select: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "hastack.cli", "verify", str(lab.SITE_FILE), "--hosts", hosts, "-k", select],
        capture_output=True,
        text=True,
        timeout=900,
    )


def verdict(run: subprocess.CompletedProcess) -> str:
    return f"rc {run.returncode}\n{run.stdout[-3000:]}\n{run.stderr[-1000:]}"


def holds_again(hosts: str, select: str, limit: float = 180) -> subprocess.CompletedProcess:
    """verify, again until it holds (the cluster settles), at most ``limit`` seconds."""
    deadline = time.monotonic() + limit
    while (run := verify(hosts, select)).returncode != 0 and time.monotonic() < deadline:
        time.sleep(5)
    return run


lab_only = lab_only_fixture("these tests degrade the cluster")


def status(*extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "hastack.cli", "status", str(lab.SITE_FILE), *extra],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_a_proxy_in_standby_fails_verify_and_status_naming_the_fix(lab_only, deployed, connect):
    proxy1 = connect("proxy1")
    proxy1.check_output("pcs node standby proxy2")
    try:
        degraded = verify("proxy1", "online_and_can_take_the_vip")
        screen = status()
    finally:
        proxy1.check_output("pcs node unstandby proxy2")
    whole = holds_again("proxy1", "online_and_can_take_the_vip")
    pacemaker = [line for line in screen.stdout.splitlines() if " pacemaker " in line]
    assert (
        degraded.returncode,
        "proxy2 is in standby: `hastack maintenance proxy2 off`" in degraded.stdout,
        screen.returncode,
        len(pacemaker) == 1 and pacemaker[0].startswith("  !!") and "proxy2 is in standby" in pacemaker[0],
        whole.returncode,
    ) == (1, True, 1, True, 0), verdict(degraded) + verdict(screen) + verdict(whole)


def test_status_of_the_whole_lab_is_healthy_in_json_too(lab_only, deployed):
    """Every line ok (its timing is printed, not asserted: docs/operations.md has it)."""
    # the standby test before may have just restarted HAProxy on proxy2: settled within a minute
    deadline = time.monotonic() + 60
    while (screen := status()).returncode != 0 and time.monotonic() < deadline:
        time.sleep(3)
    data = json.loads(status("--json").stdout)
    print(f"\n{screen.stdout}")
    assert (screen.returncode, data["state"], [x for x in data["lines"] if not x["ok"]]) == (
        0,
        "healthy",
        [],
    ), verdict(screen)


def test_a_web_host_out_of_haproxy_fails_verify_naming_it(lab_only, deployed, connect):
    web2 = connect("web2")
    web2.check_output("docker stop hastack-web")
    try:
        # HAProxy marks it down after its own checks, each proxy at its own moment: verify asks
        # once both have (else one proxy's check may run before its HAProxy has), at most a minute
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not all(
            backend_rows(connect(p).check_output(STAT)).get("web2", {}).get("status", "").startswith("DOWN")
            for p in ("proxy1", "proxy2")
        ):
            time.sleep(1)
        degraded = verify("proxy1,proxy2", "sends_to_every_web_host")
    finally:
        web2.check_output("docker start hastack-web")
    whole = holds_again("proxy1,proxy2", "sends_to_every_web_host")
    reasons = [line for line in degraded.stdout.splitlines() if "sends_to_every_web_host:" in line]
    assert (
        degraded.returncode,
        len(reasons),
        all("web2 is DOWN" in line and "see NGINX on web2" in line for line in reasons),
        whole.returncode,
    ) == (1, 2, True, 0), verdict(degraded) + verdict(whole)


STORAGE = "every_brick_of_the_pool or heal_entries or reaches_every_brick"


def test_a_brick_away_fails_verify_and_a_healed_volume_holds(lab_only, site, deployed, connect):
    """web2's brick is taken offline the way GlusterFS offers (reset-brick start), a file is
    written on web1 (a heal entry), then the brick comes back (reset-brick commit force)."""
    web1 = connect("web1")
    brick = f"web2:{site.setting('gluster_brick_root', site.hosts['web2'])}/brick"
    volume = site.cluster
    mount_point = site.setting("gluster_mount_point", site.hosts["web1"])
    web1.check_output(f"gluster --mode=script volume reset-brick {volume} {brick} start")
    try:
        web1.check_output(f"echo written-while-away > {mount_point}/.degraded-verify")
        degraded = verify("web1", STORAGE)
        screen = status()
    finally:
        web1.check_output(f"gluster --mode=script volume reset-brick {volume} {brick} {brick} commit force")
    whole = holds_again("web1,web2", STORAGE)
    web1.run(f"rm -f {mount_point}/.degraded-verify")
    reasons = "\n".join(line for line in degraded.stdout.splitlines() if line.startswith("  web1: "))
    assert (
        degraded.returncode,
        "brick(s) of web2 offline" in reasons,
        "brick(s) of web2 did not answer heal info" in reasons,
        "not connected to the brick(s) of web2" in reasons,
        screen.returncode,
        "!!  storage      bricks online: 2 of 3; away: web2" in screen.stdout,
        whole.returncode,
    ) == (1, True, True, True, 1, True, 0), verdict(degraded) + verdict(screen) + verdict(whole)
