"""The lab's site file: made from the model and dumped, never spliced as text."""

from __future__ import annotations

import os
from pathlib import Path

from hastack.lab import fence
from hastack.lab.common import KEY_FILE, KNOWN_HOSTS, SITE_FILE, LabError
from hastack.lab.images import GANGLIA_IMAGE, GANGLIA_IMAGE_RELEASE, WEB_IMAGE
from hastack.lab.layout import NETWORKS, SUDO_USER, VIP, LabHost, needs_ganglia_image
from hastack.site import dump_site, load_site

# Why the lab's site differs from a real one, key by key (written into its header).
LAB_DATA_REASONS = {
    "netplan_apply": "Docker owns the lab's addresses",
    "chrony_set_clock": "the lab's hosts share this machine's clock",
    "chrony_servers": "loopback, where none answers: the lab asks no NTP server beyond itself",
    "raid_enabled": "no md driver in a container: the RAID is verified in a VM",
    "gluster_brick_root": "a volume of its own instead of the RAID",
    "gluster_arbiter_brick_root": "the proxies' volume of their own (the default arbiter is proxy1)",
    "cacti_poll_minutes": "its checks wait for two scheduled polls: about 2 minutes, not 10",
    "pacemaker_fence_devices": "fence_docker through the lab's fence gate (hastack/lab/fence.py)",
    "web_image": "built from Debian packages: no registry here",
    "ganglia_image": "gmond and gmetad from Debian 12's packages: no registry here",
    "alert_relay": "the lab's SMTP sink on the client, where the alert tests read the mail",
    "alert_check_minutes": "its alert test waits for one check, not five minutes",
    "backup_repository": "SFTP to proxy2: the lab has no host outside the cluster the web hosts reach",
    "admin_web_networks": "this machine's front address (its browser, lab status), not the client's",
}


# With HASTACK_LAB_OVERRIDES=1 the lab's site also sets every data key the lab can take to a
# value other than its default (ports, timeouts, paths, users): `hastack verify` must hold on
# it as on the defaults, since every check compares with the site's effective setting.
OVERRIDES = {
    "netplan_file": "/etc/netplan/70-shop.yaml",
    # Rendered and validated, not applied (netplan_apply: false): to a documentation network
    # through an address no lab host has.
    "netplan_routes": {"back": [{"to": "198.51.100.0/24", "via": "10.231.1.1"}]},
    "gluster_mount_point": "/srv/shop",
    "gluster_ping_timeout": 2,
    "gluster_favorite_child_policy": "majority",
    "web_compose_dir": "/opt/shop/web",
    "web_content_dir": "/srv/shop/site",
    "web_port": 8081,
    "web_keepalive_timeout": 30,
    "docker_log_max_size": "5m",
    "docker_log_max_files": 2,
    "haproxy_stats_port": 9404,
    "haproxy_stats_user": "ops",
    "haproxy_check_interval": "2s",
    "haproxy_check_fall": 3,
    "haproxy_check_rise": 3,
    "haproxy_retries": 2,
    "haproxy_error_limit": 3,
    "haproxy_timeout_connect": "1500ms",
    "haproxy_timeout_client": "20s",
    "haproxy_timeout_server": "25s",
    "https_port": 8443,
    "tls_names": ["shop.lab.invalid"],
    "tls_hsts_max_age": 600,
    "corosync_token_ms": 2000,
    # not the -1 default's choice (9 s at 2000 ms)
    "corosync_start_delay_s": 12,
    "pacemaker_resource_stickiness": 200,
    "pacemaker_migration_threshold": 5,
    "pacemaker_failure_timeout": "20s",
    "pacemaker_monitor_interval": "2s",
    "pacemaker_haproxy_monitor_interval": "700ms",
    "monitoring_web_port": 8090,
    "snmp_user": "shopmon",
    "snmp_location": "rack 7, shop",
    "snmp_contact": "ops@shop.invalid",
    "cacti_snmp_timeout_ms": 1000,
    "cacti_snmp_retries": 3,
    "ganglia_port": 8659,
    "ganglia_poll_seconds": 20,
    "apt_wait_seconds": 600,
    "backup_repository": "sftp:shop-backup@proxy2:/srv/shop-backup",
    "backup_time": "04:10",
    "backup_keep_daily": 3,
    "backup_keep_weekly": 2,
    "backup_keep_monthly": 1,
}


def overridden() -> bool:
    return os.environ.get("HASTACK_LAB_OVERRIDES", "") not in ("", "0")


def ssh_user() -> str:
    """The user the lab's site reaches its hosts as: root, or with HASTACK_LAB_SSH_USER the
    lab's sudo user (every operation through sudo)."""
    user = os.environ.get("HASTACK_LAB_SSH_USER", "root")
    if user not in ("root", SUDO_USER):
        raise LabError(f"HASTACK_LAB_SSH_USER={user!r}: the lab has root and {SUDO_USER}")
    return user


def site_document(release: int, lab_hosts: list[LabHost]) -> dict:
    """The lab's site on a Debian release with these hosts, as a site file holds it (its
    fence secrets made on first use: the site names them)."""
    fence.material()
    images = {"web_image": WEB_IMAGE.name(release), "web_image_archive": str(WEB_IMAGE.archive(release))}
    if needs_ganglia_image(release):
        images["ganglia_image"] = GANGLIA_IMAGE.name(GANGLIA_IMAGE_RELEASE)
        images["ganglia_image_archive"] = str(GANGLIA_IMAGE.archive(GANGLIA_IMAGE_RELEASE))
    hosts = {}
    for host in lab_hosts:
        spec: dict = {"role": host.role, **host.addresses}
        if host.role == "web":
            # The containers have no disks of their own; the RAID layer is verified in a VM.
            spec["disks"] = ["/dev/vdb", "/dev/vdc"]
        hosts[host.name] = spec
    return {
        "lab": {"debian": release},
        "cluster": "lab",
        "networks": dict(NETWORKS),
        "vip": VIP,
        "ssh": {"user": ssh_user(), "key": str(KEY_FILE), "port": 22, "known_hosts": str(KNOWN_HOSTS)},
        "data": {
            "netplan_apply": False,
            "chrony_set_clock": False,
            "chrony_servers": ["127.0.0.1"],
            "raid_enabled": False,
            "gluster_brick_root": "/srv/gluster",
            # The arbiter is the default's (proxy1 with two web hosts, none with three or more).
            "gluster_arbiter_brick_root": "/srv/gluster",
            "quorum_device_host": "client",
            # Real fencing: the proxies' containers are killed and started by fence_docker.
            "pacemaker_stonith_enabled": True,
            "pacemaker_fence_devices": fence.devices(),
            "pacemaker_fence_secrets": list(fence.SECRETS),
            "cacti_poll_minutes": 1,
            # Alerts by mail to the lab's SMTP sink on the client (lab-smtp-sink.service).
            "alert_mail_to": ["ops@lab.invalid"],
            "alert_relay": "client:25",
            "alert_check_minutes": 1,
            # Backups to proxy2 over SFTP: the lab has no host outside the cluster that the web
            # hosts reach (a real site names one; the site check warns).
            "backup_repository": "sftp:hastack-backup@proxy2:/srv/hastack-backup/lab",
            # Cacti and Ganglia to this machine only (the customers' client gets 403).
            "admin_web_networks": [f"{fence.gateway(NETWORKS['front'])}/32"],
            **images,
            **(OVERRIDES if overridden() else {}),
        },
        "hosts": hosts,
    }


def site_text(release: int, lab_hosts: list[LabHost]) -> str:
    header = [
        "Written by `hastack lab up`: the lab's own site file. Regenerated on",
        "every `lab up`; edit lab/ and hastack/lab/ instead. Where it differs from a real site:",
    ] + [f"  {key}: {reason}" for key, reason in LAB_DATA_REASONS.items()]
    if overridden():
        header.append("HASTACK_LAB_OVERRIDES: every other key it can take set apart from its default")
    return dump_site(site_document(release, lab_hosts), "\n".join(header))


def derived_site(path: Path, **data) -> Path:
    """A site file at ``path``: the lab's, with these data keys set (for tests that redeploy)."""
    path.write_text(dump_site(load_site(SITE_FILE).document(data)))
    return path
