"""Alerts by mail, every host: nullmailer to the site's relay (the back-only hosts through the
proxies' HAProxy), the periodic check from a timer, and, on the proxies, Pacemaker's alert agent
(its ``pcs alert`` is set with the other resources: hastack/components/pacemaker.py). See
hastack/alerts.py for the routes and data_keys.alert_mail_to for what is mailed."""

import io
import json

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.api.exceptions import DeployError
from pyinfra.facts.files import File
from pyinfra.operations import apt, files, systemd

from hastack import alerts, topology
from hastack.components.host_os import install, platform, run_timer
from hastack.defaults import ROOT
from hastack.facts.system import MailServers
from hastack.tls import WARN_DAYS

TEMPLATES = ROOT / "templates" / "alerts"
NULLMAILER = "/etc/nullmailer"


def enabled() -> bool:
    return bool(host.data.alert_mail_to)


def refuse_another_mail_server() -> None:
    """nullmailer replaces the host's mail server (both are its mail-transport-agent). One that
    apt brought in for another package (mdadm recommends exim4, which hastack once let in) is
    replaced; one a person installed is refused, while pyinfra prepares, before any host changes."""
    if not enabled() or platform().packager != "apt":
        return
    chosen = sorted(
        name
        for name, how in host.get_fact(MailServers, packages=alerts.OTHER_MTAS).items()
        if how == "manual"
    )
    if chosen:
        raise DeployError(
            f"host {host.name} runs a mail server ({', '.join(chosen)}), which installing nullmailer "
            "for the alerts (alert_mail_to) would remove: point that server at your relay and remove "
            "it, then run again (hastack installs nullmailer in its place), or set alert_mail_to: [] "
            "to deploy without alerts. Nothing was changed on any host."
        )


def check_config() -> str:
    """The periodic check's settings (/etc/hastack/alert-check.json), one line."""
    pool = topology.storage_pool(host.data.site_hosts, host.data.gluster_arbiter)
    in_pool = any(member["name"] == host.name for member in pool)
    certificate = acme_state = None
    if "proxy" in host.groups:
        from hastack.components.acme import STATE
        from hastack.components.haproxy import certificate_file

        certificate = certificate_file()
        acme_state = STATE if host.data.tls_acme_directory else None
    return (
        json.dumps(
            {
                "cluster": host.data.site_cluster,
                "host": host.name,
                "volume": host.data.site_cluster if in_pool else None,
                "heal_stuck_minutes": host.data.alert_heal_stuck_minutes,
                "disk_percent": host.data.alert_disk_percent,
                "certificate": certificate,
                "acme_state": acme_state,
                "warn_days": WARN_DAYS,
                "mail_to": alerts.LOCAL_RECIPIENT,
                "mail_from": host.data.alert_mail_from,
                "state_dir": alerts.STATE_DIR,
                "quiet_dir": alerts.QUIET_DIR,
                "quiet_hours": host.data.alert_quiet_hours,
                "cluster_hosts": [
                    h["name"] for h in host.data.site_hosts if h["role"] in topology.CLUSTER_ROLES
                ],
                "relay": host.data.alert_relay,
                "relay_via_haproxy": "proxy" in host.groups
                and bool(alerts.routed_through_proxies(host.data.site_hosts)),
                "unit": f"{alerts.CHECK_UNIT}.service",
            }
        )
        + "\n"
    )


def remotes_file() -> str:
    routes = alerts.remotes(host.data.site_hosts, host.data.site_addresses, host.data.alert_relay)
    # No comment line: Debian's nullmailer scripts rewrite this file at each upgrade, splitting
    # lines at ':'.
    return "".join(f"{name} smtp --port={port}\n" for name, port in routes)


def configure_nullmailer() -> None:
    """nullmailer to the relay, root's mail to the recipients. Its name for the host is Debian's
    /etc/mailname (it disregards its own `me` there): mail to root@<that name> is remapped too."""
    install(
        "Install nullmailer (the alerts' mail) and python3 (the periodic check)", ["nullmailer", "python3"]
    )
    changes = [
        files.put(
            name="nullmailer sends to the alert relay (alert_relay)",
            src=io.StringIO(remotes_file()),
            dest=f"{NULLMAILER}/remotes",
            user="mail",
            group="mail",
            mode="600",
        ),
        files.put(
            name="Mail to root goes to the site's recipients (alert_mail_to)",
            src=io.StringIO(", ".join(host.data.alert_mail_to) + "\n"),
            dest=f"{NULLMAILER}/adminaddr",
            mode="644",
        ),
    ]
    if host.data.alert_mail_from:
        changes.append(
            files.put(
                name="The alerts' sender (alert_mail_from)",
                src=io.StringIO(host.data.alert_mail_from + "\n"),
                dest=f"{NULLMAILER}/allmailfrom",
                mode="644",
            )
        )
    else:
        changes.append(
            files.file(
                name="No fixed sender (alert_mail_from is empty)",
                path=f"{NULLMAILER}/allmailfrom",
                present=False,
            )
        )
    systemd.service(
        name="Restart nullmailer with its configuration",
        service="nullmailer",
        running=True,
        enabled=True,
        restarted=True,
        _if=lambda: any(change.did_change() for change in changes),
    )
    systemd.service(name="nullmailer runs", service="nullmailer", running=True, enabled=True)


def schedule_check() -> None:
    files.directory(name="The check's state (what was mailed)", path=alerts.STATE_DIR, mode="700")
    files.directory(name="hastack's configuration folder", path="/etc/hastack", mode="755")
    units = [
        files.put(
            name="The periodic check's script",
            src=str(TEMPLATES / "hastack-alert-check.py"),
            dest=alerts.CHECK_SCRIPT,
            mode="755",
        ),
        files.put(
            name="The periodic check's settings",
            src=io.StringIO(check_config()),
            dest=alerts.CHECK_CONFIG,
            mode="644",
        ),
        files.put(
            name=f"The periodic check as a service ({alerts.CHECK_UNIT}.service)",
            src=str(TEMPLATES / "hastack-alert-check.service"),
            dest=f"/etc/systemd/system/{alerts.CHECK_UNIT}.service",
            mode="644",
        ),
    ]
    timer = files.template(
        name=f"The check every {host.data.alert_check_minutes} minute(s) ({alerts.CHECK_UNIT}.timer)",
        src=str(TEMPLATES / "hastack-alert-check.timer.j2"),
        dest=f"/etc/systemd/system/{alerts.CHECK_UNIT}.timer",
        minutes=host.data.alert_check_minutes,
    )
    run_timer(alerts.CHECK_UNIT, "the check", units[2], timer)


def switch_off() -> None:
    """Alerts switched off on a host that had them (hastack's timer is there): the timer, the
    check, its state and the alert agent go, and so does nullmailer (hastack installed it), so
    root's mail no longer heads for a relay that the web hosts can no longer reach."""
    timer = f"/etc/systemd/system/{alerts.CHECK_UNIT}.timer"
    if not host.get_fact(File, path=timer):
        return
    systemd.service(
        name="Stop the check's timer (alerts are off)",
        service=f"{alerts.CHECK_UNIT}.timer",
        running=False,
        enabled=False,
    )
    for path in (
        timer,
        f"/etc/systemd/system/{alerts.CHECK_UNIT}.service",
        alerts.CHECK_SCRIPT,
        alerts.CHECK_CONFIG,
        alerts.PACEMAKER_AGENT,
    ):
        files.file(name=f"Remove {path} (alerts are off)", path=path, present=False)
    files.directory(name="Remove the check's state (alerts are off)", path=alerts.STATE_DIR, present=False)
    systemd.daemon_reload(name="Forget the check's units")
    apt.packages(
        name="Remove nullmailer (alerts are off)", packages=["nullmailer"], present=False, purge=True
    )


@deploy("Alerts: mail to a person")
def deploy_alerts() -> None:
    if platform().packager != "apt":
        # the matrix's dnf hosts are clients only: no volume, no certificate to watch
        return
    if not enabled():
        switch_off()
        return
    configure_nullmailer()
    schedule_check()
    if "proxy" in host.groups:
        files.directory(name="hastack's programs folder", path="/usr/local/lib/hastack", mode="755")
        files.put(
            name="Pacemaker's alert agent (mails node, resource and fencing events)",
            src=str(TEMPLATES / "pacemaker-alert.sh"),
            dest=alerts.PACEMAKER_AGENT,
            mode="755",
        )
