"""STONITH on, in the lab: the fence agent is installed, the device exists before
`stonith-enabled` is set (with it on and no device Pacemaker would stop every resource), the
cluster stays clean and the VIP stays up; switched off again by the lab's own site.

The device is fence_dummy (a fence agent that fences nothing): the lab's proxies are
containers, with no power switch or BMC to fence them with.
"""

import xml.etree.ElementTree as ET

import pytest

from hastack import lab
from hastack.deploying import run_deploy

pytestmark = pytest.mark.lab

DEVICE = {"name": "fence-lab", "agent": "fence_dummy", "options": {"pcmk_host_list": "proxy1 proxy2"}}


def order_of(run, *ops: str) -> list[int]:
    names = [row["op"] for row in run.results]
    return [next(i for i, name in enumerate(names) if name.endswith(op)) for op in ops]


def test_stonith_on_installs_the_agent_and_makes_the_device_first(
    deployed, lab_mode, site, connect, vip_holders
):
    if not lab_mode:
        pytest.fail(
            "this test reconfigures the cluster, so it runs against the lab only (unset HASTACK_SITE)"
        )
    site_file = lab.derived_site(
        lab.LAB_DIR / "site-stonith.yaml", pacemaker_stonith_enabled=True, pacemaker_fence_devices=[DEVICE]
    )
    proxy1 = connect("proxy1")
    try:
        run = run_deploy(site_file, "deploys/proxy.py", log=lab.LAB_DIR / "stonith-on.log")
        agents = [connect(p.name).file("/usr/sbin/fence_dummy").exists for p in site.hosts_in("proxy")]
        enabled = proxy1.check_output("crm_attribute -t crm_config -n stonith-enabled -G -q")
        stonith = ET.fromstring(
            proxy1.check_output("cibadmin --query --xpath \"//primitive[@class='stonith']\"")
        )
        devices = [primitive.get("id") for primitive in stonith.iter("primitive")]
        verify = proxy1.run("crm_verify -L")
        holders = vip_holders()
    finally:
        off = run_deploy(lab.SITE_FILE, "deploys/proxy.py", log=lab.LAB_DIR / "stonith-off.log")
        proxy1.run("pcs stonith delete fence-lab")
    assert run.returncode == 0, run.report(3000)
    first, then = order_of(run, "Fence device fence-lab", "STONITH as the site says")
    assert (agents, enabled, devices, first < then, verify.rc, len(holders), off.returncode) == (
        [True, True],
        "true",
        ["fence-lab"],
        True,
        0,
        1,
        0,
    ), verify.stdout + verify.stderr
