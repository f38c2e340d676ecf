"""`hastack maintenance` on the lab, under the open-loop stream through the VIP (hastack.drill:
fixed rate, a fresh connection and a 1 s timeout per request): a web host goes out and back
with no failed request and comes back healed; the VIP's holder goes out with failures only
inside the VIP's planned move, shorter than a proxy's death; a second `on` changes nothing;
taking out a host whose peer is out is refused and changes nothing."""

import subprocess
import time
import uuid

import pytest

from hastack import lab
from hastack.drill import Drills, failures, outage
from hastack.maintenance import MARKER, STAT, server_row
from hastack.timings import predicted_gap_s
from tests.harness import hastack_cli, lab_only_fixture

pytestmark = pytest.mark.lab

HEAL_WAIT = "120"


lab_only = lab_only_fixture("these tests take hosts out of service")


hastack = hastack_cli


def maintenance(name: str, state: str) -> subprocess.CompletedProcess:
    return hastack("maintenance", str(lab.SITE_FILE), name, state, "--heal-wait", HEAL_WAIT)


def said(runs: dict[str, subprocess.CompletedProcess]) -> str:
    return "\n".join(
        f"--- {k}: rc {r.returncode}\n{r.stdout[-2500:]}{r.stderr[-800:]}" for k, r in runs.items()
    )


def web_states(connect, site, name: str) -> list[str]:
    """``name``'s status in HAProxy on each proxy."""
    return [
        server_row(connect(p.name).check_output(STAT), name).get("status", "?")
        for p in site.hosts_in("proxy")
    ]


def test_a_web_host_goes_out_and_back_under_the_stream_with_no_failed_request(
    lab_only, site, deployed, connect
):
    web1 = connect("web1")
    mount = site.setting("gluster_mount_point", site.hosts["web1"])
    brick = f"{site.setting('gluster_brick_root', site.hosts['web2'])}/brick"
    name = f".maintenance-{uuid.uuid4().hex[:8]}"
    arbiter = site.setting("gluster_arbiter")
    runs: dict[str, subprocess.CompletedProcess] = {}
    seen: dict[str, list[str]] = {}

    def out_and_back() -> None:
        runs["on"] = maintenance("web2", "on")
        runs["on again"] = maintenance("web2", "on")
        # a reload (a deploy's) keeps the operator's MAINT: saved in HAProxy's server-state file
        connect("proxy1").check_output("systemctl reload haproxy")
        time.sleep(3)
        seen["web2 after a reload"] = web_states(connect, site, "web2")
        # written while web2's brick is away: its heal has work to do when it returns
        web1.check_output(f"echo written-in-maintenance > {mount}/{name}")
        runs["web1 on (its peer is out)"] = maintenance("web1", "on")
        seen["web1 after the refusal"] = web_states(connect, site, "web1")
        # the arbiter's proxy keeps a brick: with web2's away, it stays in
        runs["the arbiter's proxy on"] = maintenance(arbiter, "on")
        runs["status"] = hastack("status", str(lab.SITE_FILE))
        runs["off"] = maintenance("web2", "off")
        runs["off again"] = maintenance("web2", "off")

    drills = Drills(site)
    try:
        samples = drills.stream(out_and_back, until_done=600)
    finally:
        drills.close()
    copy = connect("web2").run(f"cat {brick}/{name}").stdout.strip()
    marked = connect("web2").file(MARKER).exists
    web1.run(f"rm -f {mount}/{name}")
    failed = [s for s in samples if s[1] != 200]
    print(f"\n{len(samples)} requests, {len(failed)} failed {failures(samples, None)}\n{said(runs)}")
    refusal = runs["web1 on (its peer is out)"].stdout
    assert (
        runs["on"].returncode,
        "web2 is in maintenance" in runs["on"].stdout,
        runs["on again"].returncode,
        "already in maintenance" in runs["on again"].stdout,
        runs["web1 on (its peer is out)"].returncode,
        "web2 is MAINT in HAProxy" in refusal and "web2's brick is offline" in refusal,
        seen["web1 after the refusal"],
        seen["web2 after a reload"],
        runs["the arbiter's proxy on"].returncode,
        "web2's brick is offline" in runs["the arbiter's proxy on"].stdout,
        runs["status"].returncode,
        "`hastack maintenance web2 off`" in runs["status"].stdout,
        runs["off"].returncode,
        "healed" in runs["off"].stdout,
        runs["off again"].returncode,
        "not in maintenance" in runs["off again"].stdout,
        web_states(connect, site, "web2"),
        copy,
        marked,
        len(failed),
    ) == (
        0,
        True,
        0,
        True,
        1,
        True,
        ["UP", "UP"],
        ["MAINT", "MAINT"],
        1,
        True,
        1,
        True,
        0,
        True,
        0,
        True,
        ["UP", "UP"],
        "written-in-maintenance",
        False,
        0,
    ), said(runs)


def test_a_web_host_back_while_a_proxy_was_out_is_served_by_that_proxy_on_its_return(
    lab_only, site, deployed, connect
):
    """web2 out, then a proxy out (its HAProxy stops with web2 saved as MAINT), web2 back, the
    proxy back: the proxy must send to web2 again, not keep the MAINT it read at its start."""
    proxy = next(p.name for p in site.hosts_in("proxy") if p.name != site.setting("gluster_arbiter"))
    runs = {}
    for step in (("web2", "on"), (proxy, "on"), ("web2", "off"), (proxy, "off")):
        runs[" ".join(step)] = maintenance(*step)
    assert ([r.returncode for r in runs.values()], web_states(connect, site, "web2")) == (
        [0, 0, 0, 0],
        ["UP", "UP"],
    ), said(runs)


def test_the_vip_holder_goes_out_with_less_than_a_death_without_service(lab_only, site, deployed, connect):
    drills = Drills(site)
    holder = drills.vip_holder()
    peer = next(p.name for p in site.hosts_in("proxy") if p.name != holder)
    runs: dict[str, subprocess.CompletedProcess] = {}
    holders: dict[str, list[str]] = {}

    def out_and_back() -> None:
        runs["on"] = maintenance(holder, "on")
        holders["in maintenance"] = drills.vip_holders()
        runs["on again"] = maintenance(holder, "on")
        runs["peer on (its peer is out)"] = maintenance(peer, "on")
        runs["status"] = hastack("status", str(lab.SITE_FILE))
        runs["off"] = maintenance(holder, "off")
        holders["back"] = drills.vip_holders()

    try:
        samples = drills.stream(out_and_back, until_done=600)
    finally:
        drills.close()
    constraints = connect(peer).check_output("pcs constraint --full")
    marked = connect(holder).file(MARKER).exists
    token = int(site.setting("corosync_token_ms", site.hosts_in("proxy")[0]))
    death = predicted_gap_s(token)
    gap = outage(samples)
    failed = [s for s in samples if s[1] != 200]
    print(
        f"\n{len(samples)} requests, {len(failed)} failed, {gap:.2f} s without service "
        f"(a death: {death:.1f} s) {failures(samples, drills.injected_at)}\n{said(runs)}"
    )
    assert (
        runs["on"].returncode,
        holders["in maintenance"],
        runs["on again"].returncode,
        "already in maintenance" in runs["on again"].stdout,
        runs["peer on (its peer is out)"].returncode,
        f"{holder} is in standby" in runs["peer on (its peer is out)"].stdout,
        runs["status"].returncode,
        f"`hastack maintenance {holder} off`" in runs["status"].stdout,
        runs["off"].returncode,
        holders["back"],
        "cli-ban" in constraints or "cli-prefer" in constraints,
        marked,
        gap < death,
    ) == (0, [peer], 0, True, 1, True, 1, True, 0, [peer], False, False, True), said(runs) + constraints


def test_an_upgrade_on_a_degraded_cluster_is_refused_and_changes_nothing(lab_only, site, deployed, connect):
    """web1 in maintenance: `hastack upgrade` names what is wrong and takes no host out."""
    runs = {"web1 on": maintenance("web1", "on")}
    try:
        runs["upgrade"] = hastack("upgrade", str(lab.SITE_FILE))
        web2 = web_states(connect, site, "web2")
        marked = [
            h.name
            for h in site.hosts_in("proxy") + site.hosts_in("web")
            if connect(h.name).file(MARKER).exists
        ]
    finally:
        runs["web1 off"] = maintenance("web1", "off")
    assert (
        runs["web1 on"].returncode,
        runs["upgrade"].returncode,
        "the cluster is not healthy, so no host is taken out" in runs["upgrade"].stdout,
        "web1 is MAINT" in runs["upgrade"].stdout,
        web2,
        marked,
        runs["web1 off"].returncode,
    ) == (0, 1, True, True, ["UP", "UP"], ["web1"], 0), said(runs)
