"""Alerts by mail, where the site names recipients (alert_mail_to): nullmailer to the relay on
every host, the periodic check on its timer, no mail stuck in a queue, and Pacemaker's alert on
the proxies. Without recipients: no check runs."""

import json

import pytest

from hastack import alerts
from hastack.checks.plugin import host_platform, site_host_name
from hastack.tls import WARN_DAYS

LAYER = "alerts"
ON = pytest.mark.when_set("alert_mail_to")
# A mail still queued after this long is not on its way (nullmailer tries again every minute).
STUCK_MINUTES = 5


def spec(host, site):
    return site.hosts[site_host_name(host, site)]


@ON
def test_mail_goes_to_the_relay_as_the_site_says(host, site):
    """nullmailer runs, sends to the relay (a web host: to the proxies' HAProxy, in order) and
    hands root's mail to the site's recipients."""
    me = spec(host, site)
    if host_platform(host, site).packager != "apt":
        return  # the matrix's dnf hosts (a Fedora client) get no mail transport: nothing to hold
    routes = alerts.remotes(
        site.topology_hosts(), {net: str(a) for net, a in me.addresses.items()}, site.setting("alert_relay")
    )
    remotes = [
        line.split()[0] + " " + line.split()[-1]
        for line in host.file("/etc/nullmailer/remotes").content_string.splitlines()
        if line.strip() and not line.startswith("#")
    ]
    admin = [a.strip() for a in host.file("/etc/nullmailer/adminaddr").content_string.strip().split(",")]
    assert (
        host.service("nullmailer").is_running,
        remotes,
        admin,
    ) == (True, [f"{name} --port={port}" for name, port in routes], list(site.setting("alert_mail_to"))), (
        "deploy the host again (pyinfra inventory.py deploys/all.py --limit HOST)"
    )


def test_the_periodic_check_runs_as_the_site_says(host, site):
    """With recipients: the timer is active at the site's period, its last run did not fail, and
    its settings are the site's. Without: no timer runs."""
    me = spec(host, site)
    if host_platform(host, site).packager != "apt":
        return  # no alerts on the matrix's dnf hosts (a Fedora client)
    timer = host.service(f"{alerts.CHECK_UNIT}.timer")
    if not site.setting("alert_mail_to", me):
        off = f"systemctl disable --now {alerts.CHECK_UNIT}.timer"
        assert timer.is_running is False, f"alerts are off: `{off}`"
        return
    unit = host.check_output(f"systemctl cat {alerts.CHECK_UNIT}.timer")
    result = host.check_output(f"systemctl show -p Result --value {alerts.CHECK_UNIT}.service")
    config = json.loads(host.file(alerts.CHECK_CONFIG).content_string)
    pool = {h.name for h in site.hosts_in("web")} | {site.setting("gluster_arbiter")}
    assert (
        timer.is_running,
        timer.is_enabled,
        f"OnUnitActiveSec={site.setting('alert_check_minutes', me)}min" in unit,
        result,
        config["disk_percent"],
        config["heal_stuck_minutes"],
        config.get("quiet_hours"),
        config["volume"],
        config["warn_days"],
    ) == (
        True,
        True,
        True,
        "success",
        site.setting("alert_disk_percent", me),
        site.setting("alert_heal_stuck_minutes", me),
        site.setting("alert_quiet_hours", me),
        site.cluster if me.name in pool else None,
        WARN_DAYS,
    ), f"`journalctl -u {alerts.CHECK_UNIT}` says why its last run failed; deploy the host again"


@ON
def test_no_mail_is_stuck_in_the_queue(host, site):
    """Every mail left: none queued for more than STUCK_MINUTES, none failed (a relay that is
    away, refuses the hosts, or refuses the sender: nullmailer's log names it)."""
    if host_platform(host, site).packager != "apt":
        return  # no alerts on the matrix's dnf hosts (a Fedora client)
    stuck = host.run(
        f"find /var/spool/nullmailer/queue -type f -mmin +{STUCK_MINUTES} 2>/dev/null | wc -l; "
        "find /var/spool/nullmailer/failed -type f 2>/dev/null | wc -l"
    ).stdout.split()
    why = ""
    if stuck != ["0", "0"]:
        why = host.run("journalctl -u nullmailer -n 5 --no-pager -o cat").stdout.strip()
    assert stuck == ["0", "0"], (
        f"{stuck[0]} mail(s) queued for more than {STUCK_MINUTES} min, {stuck[1]} failed: the relay "
        f"{site.setting('alert_relay')} (alert_relay) does not take them; nullmailer's log:\n{why}\n"
        "Once it does: `mv /var/spool/nullmailer/failed/* /var/spool/nullmailer/queue/` and "
        "`systemctl restart nullmailer` (or delete them)"
    )


@ON
@pytest.mark.roles("proxy")
def test_pacemaker_mails_its_events(host, site):
    """Pacemaker's alert runs hastack's agent (present here) for root (nullmailer's adminaddr)."""
    alerts_xml = host.check_output("cibadmin --query --scope alerts 2>/dev/null || true")
    agent = host.file(alerts.PACEMAKER_AGENT)
    assert (
        f'id="{alerts.PACEMAKER_ALERT_ID}"' in alerts_xml,
        f'path="{alerts.PACEMAKER_AGENT}"' in alerts_xml,
        f'value="{alerts.LOCAL_RECIPIENT}"' in alerts_xml,
        agent.exists and agent.mode & 0o111 != 0,
    ) == (True, True, True, True), "deploy the proxies again (deploys/proxy.py)"
