"""Monitoring that sees a loaded host: with every host's CPU saturated, Cacti's availability check
and a GET of each device succeed with the site's cacti_snmp_timeout_ms and cacti_snmp_retries.

Cacti's own code runs them (hastack/snmp_probe.py), as its poller does, at the poller's
niceness; the poller's schedule is left alone. Saturated, a check costs up to about a second of
the poller's CPU, but the agent's answer still comes within 30 ms (docs/monitoring.md).
"""

import pytest

from hastack import snmp_probe
from hastack.ssh import SshRunner

# Long enough for both proxies' probes when saturated; each busy process ends by itself.
BUSY_SECONDS = 60


@pytest.mark.lab
def test_cacti_polls_every_device_with_every_cpu_saturated(site, lab_mode, deployed):
    if not lab_mode:
        pytest.fail(
            "this test saturates every host's CPU, so it runs against the lab only (unset HASTACK_SITE)"
        )
    runners = {name: SshRunner.to_host(site, name) for name in site.hosts}
    sudo = site.ssh.user != "root"
    missed = {}
    try:
        for runner in runners.values():
            snmp_probe.saturate(runner, BUSY_SECONDS)
        for proxy in site.hosts_in("proxy"):
            answers = snmp_probe.run_probe(runners[proxy.name], rounds=2, sudo=sudo)
            assert {answer.device for answer in answers} == set(site.hosts), answers
            missed[proxy.name] = [
                f"{a.device}: {'up' if a.up else 'down'} after {a.ms} ms, {a.said}"
                for a in answers
                if not a.polled
            ]
    finally:
        for runner in runners.values():
            snmp_probe.wait_until_calm(runner)
            runner.close()
    timeout = {proxy.name: site.setting("cacti_snmp_timeout_ms", proxy) for proxy in site.hosts_in("proxy")}
    assert missed == {name: [] for name in missed}, (
        f"with every CPU saturated (Cacti's timeouts {timeout} ms)"
    )
