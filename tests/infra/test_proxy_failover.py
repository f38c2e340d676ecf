"""Failures of the proxy tier, in the lab: the VIP must keep answering.

Each test prints the seconds without service. They leave the cluster whole:
both proxies online again, checked, not assumed.
"""

import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from hastack import lab
from hastack.deploying import run_deploy
from hastack.probe import shop_get, statuses_while
from tests.harness import lab_only_fixture

pytestmark = pytest.mark.lab


lab_only = lab_only_fixture("failover tests break hosts", autouse=True)


def seconds_until_vip_answers(site, limit: float = 60) -> float:
    started = time.monotonic()
    while time.monotonic() - started < limit:
        if shop_get(site, "/healthz", timeout=1)[0] == 200:
            return time.monotonic() - started
        time.sleep(0.1)
    pytest.fail(f"the VIP did not answer within {limit} s")


def wait_until_both_proxies_online(site, connect, limit: float = 120) -> None:
    names = sorted(p.name for p in site.hosts_in("proxy"))
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        for name in names:
            status = connect(name, fresh=True).run("crm_mon -1 -r")
            if status.rc == 0 and f"Online: [ {' '.join(names)} ]" in status.stdout:
                return
        time.sleep(2)
    pytest.fail(f"the proxies were not both online again within {limit} s")


def test_killed_haproxy_is_brought_back(site, connect, vip_holders):
    active = vip_holders()[0]
    connect(active).check_output("systemctl kill -s KILL haproxy")
    seconds = seconds_until_vip_answers(site)
    print(f"\nhaproxy killed on {active}: the VIP answered again after {seconds:.1f} s")
    assert len(vip_holders()) == 1


def test_haproxy_config_change_under_load_moves_no_vip_and_fails_no_request(site, vip_holders):
    before = vip_holders()
    changed = lab.derived_site(lab.LAB_DIR / "site-proxy-change.yaml", haproxy_timeout_client="31s")
    with ThreadPoolExecutor(max_workers=1) as pool:
        deploy = pool.submit(run_deploy, changed, "deploys/proxy.py")
        statuses = statuses_while(lambda: not deploy.done(), site)
        run = deploy.result()
    restore = run_deploy(lab.SITE_FILE, "deploys/proxy.py")
    reloads = [row["changed"] for row in run.results if row["op"].endswith("(no restart: the VIP stays)")]
    failed = [status for status in statuses if status != 200]
    print(f"\n{len(statuses)} requests through the VIP during the change, {len(failed)} failed")
    assert (run.returncode, reloads, failed, vip_holders(), restore.returncode) == (
        0,
        ["2"],
        [],
        before,
        0,
    )


def test_active_proxy_dies_and_the_vip_moves(site, connect, vip_holders):
    active = vip_holders()[0]
    subprocess.run(["docker", "kill", f"{lab.PREFIX}-{active}"], check=True, capture_output=True)
    seconds = seconds_until_vip_answers(site)
    print(f"\n{active} killed: the VIP answered from the other proxy after {seconds:.1f} s")
    lab.up()
    wait_until_both_proxies_online(site, connect)
    after = vip_holders()
    assert (len(after), active in after) == (1, False), "stickiness: the VIP must not move back"
