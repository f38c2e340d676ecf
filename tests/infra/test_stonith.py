"""Fencing for real, in the lab: its site turns STONITH on with a fence_docker device per proxy
(hastack/lab/fence.py). The agent is installed, each device is made before `stonith-enabled`
is set, the client certificate reaches the proxies as private fence secrets; Pacemaker fences a
proxy (its container killed, then started: a power cut, not a clean stop) and the proxy comes
back into the cluster by itself, the VIP staying where it was; the gate passes nothing else.
"""

import json
import re
import subprocess
import time
import xml.etree.ElementTree as ET

import pytest

from hastack import lab
from hastack.components.pacemaker import FENCE_SECRET_DIR
from hastack.lab import fence
from tests.harness import lab_only_fixture

pytestmark = pytest.mark.lab


lab_only = lab_only_fixture("these tests fence a proxy")


def order_of(run, *ops: str) -> list[int]:
    names = [row["op"] for row in run.results]
    return [next((i for i, name in enumerate(names) if name.endswith(op)), -1) for op in ops]


def test_the_lab_fences_with_fence_docker_made_before_stonith_is_on(lab_only, deployed, site, connect):
    proxy1 = connect("proxy1")
    agents = [connect(p.name).file("/usr/sbin/fence_docker").exists for p in site.hosts_in("proxy")]
    enabled = proxy1.check_output("crm_attribute -t crm_config -n stonith-enabled -G -q")
    stonith = ET.fromstring(proxy1.check_output("cibadmin --query --xpath \"//primitive[@class='stonith']\""))
    devices = {primitive.get("id"): primitive.get("type") for primitive in stonith.iter("primitive")}
    first, second, then = order_of(
        deployed, "Fence device fence-proxy1", "Fence device fence-proxy2", "STONITH as the site says"
    )
    assert (agents, enabled, devices, 0 <= first < then, 0 <= second < then) == (
        [True, True],
        "true",
        {"fence-proxy1": "fence_docker", "fence-proxy2": "fence_docker"},
        True,
        True,
    ), [row["op"] for row in deployed.results][-60:]


def container_started(name: str) -> str:
    shown = subprocess.run(
        ["docker", "inspect", "-f", "{{.State.StartedAt}}", f"{lab.PREFIX}-{name}"],
        capture_output=True,
        text=True,
        check=True,
    )
    return shown.stdout.strip()


def online(host) -> set[str]:
    nodes = ET.fromstring(host.check_output("crm_mon -1 --output-as=xml")).iter("node")
    return {node.get("name") for node in nodes if node.get("online") == "true"}


def test_pacemaker_fences_a_proxy_for_real_and_it_comes_back_by_itself(
    lab_only, deployed, site, connect, vip_holders
):
    (holder,) = vip_holders()
    target = next(p.name for p in site.hosts_in("proxy") if p.name != holder)
    before = container_started(target)
    since = time.time() - 1
    fenced = connect(holder, fresh=True).run(f"timeout 120 pcs stonith fence {target}")
    deadline = time.monotonic() + 180
    back: set[str] = set()
    while time.monotonic() < deadline:
        try:
            back = online(connect(holder, fresh=True))
        except Exception:  # noqa: BLE001 - the holder's answer may fail while the cluster settles
            back = set()
        if target in back:
            break
        time.sleep(3)
    gate = [line for line in fence.fenced(since) if f"{lab.PREFIX}-{target}" in line]
    said = (re.search(rf" lab.proxies (\w+) {lab.PREFIX}-{target} : 20\d$", line) for line in gate)
    actions = [match.group(1) for match in said if match]
    assert (
        fenced.rc,
        "kill" in actions and "start" in actions and actions.index("kill") < actions.index("start"),
        container_started(target) != before,
        target in back,
        vip_holders(),
    ) == (0, True, True, True, [holder]), f"{fenced.stdout}{fenced.stderr}\ngate log:\n" + "\n".join(gate)


CURL = (
    f"curl -s -o /dev/null -w '%{{http_code}}' --max-time 10 --cert {FENCE_SECRET_DIR}/{fence.CLIENT_CERT} "
    f"--key {FENCE_SECRET_DIR}/{fence.CLIENT_KEY} --cacert {FENCE_SECRET_DIR}/{fence.CA_FILE} "
)


def test_the_gate_passes_only_the_fencing_of_the_proxies(lab_only, deployed, connect):
    proxy1 = connect("proxy1", fresh=True)
    base = f"https://{fence.gate_address()}:{fence.GATE_PORT}/v{fence.API_VERSION}"
    refused = {
        what: proxy1.check_output(
            CURL + ("-X POST " if what.endswith(("kill", "start")) else "") + f"{base}/{what}"
        )
        for what in (
            f"containers/{lab.PREFIX}-web1/json",
            # a start of a running container changes nothing, should the gate ever pass it
            f"containers/{lab.PREFIX}-client/start",
            f"containers/{lab.PREFIX}-proxy1/exec",
            "images/json",
            "info",
        )
    }
    listed = json.loads(
        proxy1.check_output(
            CURL.replace("-o /dev/null -w '%{http_code}' ", "") + f"'{base}/containers/json?all=1'"
        )
    )
    names = sorted(name for entry in listed for name in entry["Names"])
    without_certificate = connect("web1").run(
        f"curl -s --max-time 10 -k -o /dev/null -w '%{{http_code}}' {base}/containers/json?all=1"
    )
    assert (
        set(refused.values()),
        names,
        without_certificate.rc != 0 and without_certificate.stdout.strip() in ("", "000"),
    ) == ({"403"}, [f"/{lab.PREFIX}-proxy1", f"/{lab.PREFIX}-proxy2"], True), (refused, without_certificate)
