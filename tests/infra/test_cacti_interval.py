"""Cacti's poller interval changed on a running site (cacti_poll_minutes): the timer and Cacti's
settings follow, and the RRDs are made again with the new step (their history is lost, as
docs/data-keys.md says). The lab polls every minute; this switches its proxies to 5 and back."""

import time

import pytest

from hastack import lab
from hastack.checks.test_monitoring import cacti_config, data_sources, rrd_steps
from hastack.deploying import run_deploy
from hastack.site import dump_site, load_site

pytestmark = [pytest.mark.lab]


def test_a_changed_interval_makes_the_rrds_again_with_its_step(site, deployed, lab_mode, connect, tmp_path):
    if not lab_mode:
        pytest.fail("this test redeploys the proxies, so it runs against the lab only (unset HASTACK_SITE)")
    proxy = site.hosts_in("proxy")[0].name
    host = connect(proxy)
    minutes = site.setting("cacti_poll_minutes", site.hosts[proxy])
    other = 5 if minutes == 1 else 1
    before = data_sources(host)
    assert set(before.values()) == {minutes * 60}, before

    switched = tmp_path / "site.yaml"
    switched.write_text(dump_site(load_site(lab.SITE_FILE).document({"cacti_poll_minutes": other})))
    run = run_deploy(switched, "deploys/proxy.py", log=lab.LAB_DIR / "cacti-interval.log")
    assert run.returncode == 0, run.report(3000)
    after = data_sources(host)
    # The old RRDs are gone (the deploy warns how many); Cacti has the new step for every one.
    assert (
        cacti_config(host)[0],
        set(after.values()),
        rrd_steps(host, before),
        f"{len(before)} RRDs are made again with a {other * 60} s step, their history lost" in run.output,
    ) == (other * 60, {other * 60}, {}, True), run.report(3000)

    back = run_deploy(lab.SITE_FILE, "deploys/proxy.py", log=lab.LAB_DIR / "cacti-interval-back.log")
    assert back.returncode == 0, back.report(3000)
    # The next scheduled polls make each RRD again, with the lab's step.
    again = data_sources(host)
    deadline = time.monotonic() + 3 * minutes * 60 + 60
    while len(made := rrd_steps(host, again)) < len(again) and time.monotonic() < deadline:
        time.sleep(10)
    assert (set(again.values()), made) == ({minutes * 60}, {path: minutes * 60 for path in again})
