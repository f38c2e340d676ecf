"""What a data key's value must be, beyond its type: ranges, formats, and keys that must agree.

Each rule takes the value and returns None when it is good, else ``(message, fix)``.
The site validator (hastack/site/validation.py) applies them to the site's and each
host's data; hastack/cross_rules.py checks the effective values of every host together
(ports, STONITH, the arbiter), so that every problem is listed at once with its key
path, host and fix.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from typing import Any

from hastack import backup

Rule = Callable[[Any], "tuple[str, str] | None"]

LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
HOSTNAME_RE = re.compile(rf"^(?=.{{1,253}}$){LABEL}(\.{LABEL})*\.?$")
# HAProxy's time format: a number and an optional unit (ms when none).
HAPROXY_TIME_RE = re.compile(r"^[0-9]+(us|ms|s|m|h|d)?$")
# Pacemaker's interval format: a number and an optional unit (seconds when none).
PACEMAKER_TIME_RE = re.compile(r"^[0-9]+(ms|msec|us|usec|s|sec|m|min|h|hr)?$")
DOCKER_SIZE_RE = re.compile(r"^[0-9]+[kmg]?$")
USER_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,31}$")
# A Docker image reference: [registry[:port]/]path[:tag][@digest], lower-case path.
IMAGE_RE = re.compile(
    r"^([A-Za-z0-9.-]+(:[0-9]+)?/)?[a-z0-9]+([._-][a-z0-9]+)*(/[a-z0-9]+([._-][a-z0-9]+)*)*"
    r"(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[0-9a-f]{64})?$"
)


def port(value: int) -> tuple[str, str] | None:
    if 1 <= value <= 65535:
        return None
    return f"{value} is not a TCP/UDP port", "give a port from 1 to 65535"


def at_least(low: int) -> Rule:
    def rule(value: int) -> tuple[str, str] | None:
        if value >= low:
            return None
        return f"{value} is below {low}", f"give a whole number of at least {low}"

    return rule


def between(low: int, high: int) -> Rule:
    def rule(value: int) -> tuple[str, str] | None:
        if low <= value <= high:
            return None
        return f"{value} is not between {low} and {high}", f"give a whole number from {low} to {high}"

    return rule


def one_of(*choices: str | int) -> Rule:
    def rule(value: str | int) -> tuple[str, str] | None:
        if value in choices:
            return None
        named = ", ".join(map(str, choices))
        return f"{value!r} is not one of {named}", f"use one of {named}"

    return rule


def matches(pattern: re.Pattern, what: str, example: str) -> Rule:
    def rule(value: str) -> tuple[str, str] | None:
        if pattern.match(value):
            return None
        return f"{value!r} is not {what}", f"write it like {example!r}"

    return rule


def haproxy_seconds(value: str) -> float:
    """An HAProxy time (HAPROXY_TIME_RE; milliseconds without a unit) in seconds."""
    number, unit = re.match(r"^([0-9]+)(us|ms|s|m|h|d)?$", value).groups()
    scale = {"us": 1e-6, "ms": 1e-3, None: 1e-3, "s": 1, "m": 60, "h": 3600, "d": 86400}[unit]
    return int(number) * scale


def absolute_path(value: str) -> tuple[str, str] | None:
    if value.startswith("/") and "\n" not in value and " " not in value and "/../" not in f"{value}/":
        return None
    return f"{value!r} is not an absolute path", "write a path from the root without spaces, like '/srv/data'"


def optional(rule: Rule) -> Rule:
    """The rule, or an empty string for "none"."""

    def check(value: str) -> tuple[str, str] | None:
        return None if value == "" else rule(value)

    return check


def device_path(value: str) -> tuple[str, str] | None:
    if value.startswith("/dev/") and absolute_path(value) is None:
        return None
    return f"{value!r} is not a device below /dev", "write it like '/dev/md0'"


def netplan_path(value: str) -> tuple[str, str] | None:
    if re.match(r"^/etc/netplan/[A-Za-z0-9_.-]+\.yaml$", value):
        return None
    return (
        f"{value!r} is not a file netplan reads",
        "name a .yaml file in /etc/netplan, like '60-hastack.yaml'",
    )


def host_or_address(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
        return True
    except ValueError:
        return bool(HOSTNAME_RE.match(value)) and not value.replace(".", "").isdigit()


def servers(value: list) -> tuple[str, str] | None:
    bad = [item for item in value if not isinstance(item, str) or not host_or_address(item)]
    if not value:
        return "no server given", "name at least one NTP server"
    if bad:
        return f"{', '.join(map(repr, bad))}: not a host name or address", "write names like 'pool.ntp.org'"
    return None


DNS_LABEL = r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"
DNS_NAME_RE = re.compile(rf"^(?=.{{1,253}}$)(\*\.)?{DNS_LABEL}(\.{DNS_LABEL})*$")


def dns_names(value: list) -> tuple[str, str] | None:
    for name in value:
        if not isinstance(name, str) or not DNS_NAME_RE.match(name):
            return f"{name!r} is not a DNS name", "give lower-case DNS names, such as shop.example.com"
    return None


NETWORK_NAMES = ("back", "front")


def per_network(rule: Rule, example: str) -> Rule:
    """A mapping from the site's network names to values that pass ``rule``."""

    def check(value: dict) -> tuple[str, str] | None:
        for name, item in value.items():
            if name not in NETWORK_NAMES:
                return f"{name!r} is not a network of the site", f"key it by back or front, as in {example}"
            if problem := rule(item):
                return f"{name}: {problem[0]}", problem[1]
        return None

    return check


def ipv4_address(value: str) -> tuple[str, str] | None:
    try:
        ipaddress.IPv4Address(str(value))
    except ValueError:
        return f"{value!r} is not an IPv4 address", "write an address like 192.0.2.1"
    return None


def ip_addresses(value: list) -> tuple[str, str] | None:
    for item in value:
        try:
            ipaddress.ip_address(str(item))
        except ValueError:
            return f"{item!r} is not an IP address", "write addresses like 192.0.2.53"
    return None


def mtu(value: int) -> tuple[str, str] | None:
    if isinstance(value, int) and not isinstance(value, bool) and 576 <= value <= 9216:
        return None
    return f"{value!r} is not an MTU from 576 to 9216", "give the interface's MTU in bytes, such as 9000"


def static_routes(value: list) -> tuple[str, str] | None:
    """A list of routes, each ``{to: network, via: address}``; not the default route."""
    fix = "write routes like [{to: 10.50.0.0/16, via: 192.0.2.1}]"
    if not isinstance(value, list):
        return f"{value!r} is not a list of routes", fix
    for route in value:
        if not isinstance(route, dict) or {str(key) for key in route} != {"to", "via"} or len(route) != 2:
            return f"{route!r} is not a route with exactly `to` and `via`", fix
        if str(route["to"]).strip().lower() == "default":
            return "to default is the default route", "give the default route in netplan_gateways"
        try:
            network = ipaddress.IPv4Network(str(route["to"]))
        except ValueError:
            return (
                f"to {route['to']!r} is not an IPv4 network (with its host bits zero)",
                "write the network, like 10.50.0.0/16",
            )
        if network.prefixlen == 0:
            return f"to {network} is the default route", "give the default route in netplan_gateways"
        if problem := ipv4_address(route["via"]):
            return f"via: {problem[0]}", problem[1]
    return None


SEARCH_DOMAIN_RE = re.compile(rf"^(?=.{{1,253}}$){DNS_LABEL}(\.{DNS_LABEL})*$")


def search_domains(value: list) -> tuple[str, str] | None:
    for name in value:
        if not isinstance(name, str) or not SEARCH_DOMAIN_RE.match(name):
            return f"{name!r} is not a domain name", "give lower-case domains, such as shop.example.com"
    return None


def one_line(value: str) -> tuple[str, str] | None:
    if value and not re.search(r"[\n\r\"\\]", value):
        return None
    return f"{value!r} is empty or holds a line break, quote or backslash", "write one line of plain text"


# The fence agents hastack knows, with the options each device must give: where the agent
# reaches (ip), as whom, the secret by file, never by value. An agent that fences VMs takes the
# VM from pcmk_host_map (or a fixed plug for a device of one node). Every device also names
# the node(s) it fences (pcmk_host_list or pcmk_host_map). Examples that pass:
# docs/real-servers.md, "Fencing".
FENCE_AGENTS: dict[str, tuple[str, ...]] = {
    "fence_ipmilan": ("ip", "username", "password_script"),
    "fence_redfish": ("ip", "username", "password_script"),
    "fence_virsh": ("ip", "username", "identity_file"),
    "fence_vbox": ("ip", "username", "identity_file"),
    "fence_docker": ("ip", "ipport", "plug"),
    # fences nothing: for tests of the STONITH path only
    "fence_dummy": (),
}
# Options that would put a secret on pcs's command line (and in ps).
FENCE_SECRET_OPTIONS = ("password", "passwd")


def fence_devices(value: list) -> tuple[str, str] | None:
    for index, device in enumerate(value):
        if not (isinstance(device, dict) and isinstance(device.get("name"), str) and device.get("agent")):
            return (
                f"device {index} is not a mapping with 'name' and 'agent'",
                "write each as {name: fence-proxy1, agent: fence_ipmilan, options: {...}}",
            )
        agent = str(device["agent"])
        if not re.match(r"^fence_[a-z0-9_]+$", agent):
            return f"agent {device['agent']!r} is not a fence agent", "name one like 'fence_ipmilan'"
        if agent not in FENCE_AGENTS:
            return (
                f"agent {agent!r} of {device['name']!r} is not one hastack knows",
                f"use one of {', '.join(sorted(FENCE_AGENTS))} (see docs/real-servers.md, Fencing)",
            )
        options = device.get("options", {})
        if not isinstance(options, dict):
            return f"options of {device['name']!r} are not a mapping", "write options as key: value pairs"
        secret = [option for option in FENCE_SECRET_OPTIONS if option in options]
        if secret:
            return (
                f"{device['name']!r} gives {secret[0]} in its options: it would show on pcs's command line",
                "give password_script instead: a script on the proxies (mode 0700) that prints it",
            )
        # A fixed plug fences that VM whichever node Pacemaker asked for: with a device for
        # several nodes, the plug must come from pcmk_host_map (Pacemaker passes it per target).
        hosts = str(options.get("pcmk_host_list", "")).replace(",", " ").split()
        if "plug" in options and ("pcmk_host_map" in options or len(hosts) > 1):
            return (
                f"{device['name']!r} gives a fixed plug for more than one node: fencing one would "
                f"power off {options['plug']!r}",
                'leave plug out and map each node to its VM with pcmk_host_map: "proxy1:vm1;proxy2:vm2"',
            )
        missing = [option for option in FENCE_AGENTS[agent] if option not in options]
        if not ({"pcmk_host_list", "pcmk_host_map"} & set(options)):
            missing.append("pcmk_host_list")
        if missing:
            return (
                f"{device['name']!r} ({agent}) lacks {', '.join(missing)}",
                f"give {agent} the options {', '.join(FENCE_AGENTS[agent] + ('pcmk_host_list',))}",
            )
    names = [device["name"] for device in value]
    if len(set(names)) != len(names):
        return "two fence devices share a name", "give each device its own name"
    return None


FENCE_SECRET_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def fence_secret_names(value: list) -> tuple[str, str] | None:
    for name in value:
        if not (isinstance(name, str) and FENCE_SECRET_RE.match(name)):
            return (
                f"{name!r} is not a plain file name",
                "name a file of the site's secrets folder, like 'bmc-password' (no folder, no '..')",
            )
    if len(set(value)) != len(value):
        return "a name is given twice", "list each secret file once"
    return None


def cidr_list(value: list) -> tuple[str, str] | None:
    for item in value:
        try:
            ipaddress.IPv4Network(str(item), strict=False)
        except ValueError:
            return f"{item!r} is not an IPv4 network", "write networks like 10.0.0.0/24"
    return None


MAIL_RE = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@" + LABEL + r"(\." + LABEL + r")*$")


def https_url(value: str) -> tuple[str, str] | None:
    found = re.match(r"^https://[A-Za-z0-9.-]+(?::([0-9]{1,5}))?(/[^\s]*)?$", value)
    if found and 0 < int(found.group(1) or 443) < 65536:
        return None
    return (
        f"{value!r} is not an https:// URL",
        "write the ACME server's directory URL, like https://acme.example/directory",
    )


def mail_address(value: str) -> tuple[str, str] | None:
    if isinstance(value, str) and MAIL_RE.match(value):
        return None
    return f"{value!r} is not a mail address", "write an address like ops@example.com"


def mail_addresses(value: list) -> tuple[str, str] | None:
    for item in value:
        if problem := mail_address(item):
            return problem
    return None


def relay(value: str) -> tuple[str, str] | None:
    """``host`` or ``host:port`` (hastack.alerts.relay_parts reads it)."""
    name, _, given = value.rpartition(":") if ":" in value else (value, "", "")
    if host_or_address(name) and (not given or (given.isdigit() and 1 <= int(given) <= 65535)):
        return None
    return f"{value!r} is not a host or host:port", "write the relay like mail.example.com or 10.0.0.5:25"


PORT_KEYS = ("web_port", "haproxy_stats_port", "https_port", "monitoring_web_port", "ganglia_port")

RULES: dict[str, Rule] = {
    "netplan_file": netplan_path,
    "netplan_confirm_seconds": at_least(10),
    "chrony_servers": servers,
    "gluster_brick_root": absolute_path,
    "gluster_mount_point": absolute_path,
    "gluster_ping_timeout": at_least(1),
    # "fixed" would need a quorum count, which hastack does not set.
    "gluster_quorum_type": one_of("none", "auto"),
    "gluster_favorite_child_policy": one_of("none", "ctime", "mtime", "size", "majority"),
    "gluster_arbiter_brick_root": absolute_path,
    "raid_device": device_path,
    "raid_mount_point": absolute_path,
    "web_image": matches(IMAGE_RE, "a container image reference", "nginx:1.27"),
    "web_image_archive": optional(absolute_path),
    "web_compose_dir": absolute_path,
    "web_content_dir": absolute_path,
    "web_keepalive_timeout": at_least(0),
    "docker_log_max_size": matches(DOCKER_SIZE_RE, "a size for Docker's log files", "10m"),
    "docker_log_max_files": at_least(1),
    "haproxy_stats_user": matches(USER_RE, "a user name", "admin"),
    "haproxy_check_interval": matches(HAPROXY_TIME_RE, "an HAProxy time", "1s"),
    "haproxy_check_fall": at_least(1),
    "haproxy_check_rise": at_least(1),
    "haproxy_retries": at_least(0),
    "haproxy_error_limit": between(1, 100),
    "haproxy_timeout_connect": matches(HAPROXY_TIME_RE, "an HAProxy time", "2s"),
    "haproxy_timeout_client": matches(HAPROXY_TIME_RE, "an HAProxy time", "30s"),
    "haproxy_timeout_server": matches(HAPROXY_TIME_RE, "an HAProxy time", "30s"),
    "tls_certificate": optional(absolute_path),
    "tls_key": optional(absolute_path),
    "tls_names": dns_names,
    "tls_acme_directory": optional(https_url),
    "tls_acme_email": optional(mail_address),
    "tls_acme_ca_bundle": optional(absolute_path),
    "tls_hsts_max_age": at_least(-1),
    "corosync_token_ms": at_least(300),
    "corosync_start_delay_s": between(-1, 60),
    "quorum_device_host": optional(matches(HOSTNAME_RE, "a host of the site", "client")),
    "pacemaker_fence_devices": fence_devices,
    "pacemaker_fence_secrets": fence_secret_names,
    "pacemaker_fencing_delay_s": between(1, 120),
    "pacemaker_resource_stickiness": at_least(0),
    "pacemaker_migration_threshold": at_least(0),
    "pacemaker_failure_timeout": matches(PACEMAKER_TIME_RE, "a Pacemaker interval", "10s"),
    "pacemaker_monitor_interval": matches(PACEMAKER_TIME_RE, "a Pacemaker interval", "1s"),
    "pacemaker_haproxy_monitor_interval": matches(PACEMAKER_TIME_RE, "a Pacemaker interval", "500ms"),
    "snmp_user": matches(USER_RE, "an SNMP user name", "hastack"),
    "snmp_location": one_line,
    "snmp_contact": one_line,
    # At most 10 s: (1 + retries) x timeout for each device that is down must stay well inside
    # the poller's run (its unit stops it at the interval less 20 s).
    "cacti_snmp_timeout_ms": between(100, 10000),
    # Cacti's availability check takes 1 to 5 (any other number: 2).
    "cacti_snmp_retries": between(1, 5),
    # The intervals Cacti's profiles of data sources ship with (their RRDs' step).
    "cacti_poll_minutes": one_of(1, 5),
    "ganglia_poll_seconds": at_least(1),
    "ganglia_image": optional(matches(IMAGE_RE, "a container image reference", "hastack-ganglia:12")),
    "ganglia_image_archive": optional(absolute_path),
    "apt_wait_seconds": at_least(0),
    "unattended_upgrades": one_of("", "hold", "disable"),
    "netplan_gateways": per_network(ipv4_address, "{front: 192.0.2.1}"),
    "netplan_nameservers": ip_addresses,
    "netplan_search": search_domains,
    "netplan_mtu": per_network(mtu, "{back: 9000}"),
    "netplan_routes": per_network(static_routes, "{back: [{to: 10.50.0.0/16, via: 192.0.2.1}]}"),
    "admin_networks": cidr_list,
    "admin_web_networks": cidr_list,
    "alert_mail_to": mail_addresses,
    "alert_relay": optional(relay),
    "alert_mail_from": optional(mail_address),
    "alert_check_minutes": between(1, 60),
    "alert_heal_stuck_minutes": at_least(1),
    "alert_disk_percent": between(50, 99),
    "alert_quiet_hours": between(1, 168),
    "firewall_confirm_seconds": at_least(10),
    "backup_repository": backup.repository_problem,
    "backup_time": backup.time_problem,
    "backup_keep_daily": between(1, 3650),
    "backup_keep_weekly": between(0, 520),
    "backup_keep_monthly": between(0, 240),
    **{key: port for key in PORT_KEYS},
}

# Ports the hastack daemons take on a host whatever the data says, by role.
FIXED_PORTS = {
    "proxy": {80: "HAProxy's shop frontend on the VIP", 2224: "pcsd", 5405: "Corosync"},
    "web": {24007: "glusterd", 8651: "gmetad's XML", 8652: "gmetad's queries"},
    "client": {},
}
# Which port keys a host of each role listens on (with monitoring on).
ROLE_PORT_KEYS = {
    "proxy": ("https_port", "haproxy_stats_port", "monitoring_web_port", "ganglia_port"),
    "web": ("web_port", "monitoring_web_port"),
    "client": (),
}
MONITORING_PORT_KEYS = ("monitoring_web_port", "ganglia_port")


def check_value(key: str, value: Any) -> tuple[str, str] | None:
    """The problem with one data key's value, or None."""
    rule = RULES.get(key)
    return rule(value) if rule else None


def port_conflicts(
    role: str, setting: Callable[[str], Any], ssh_port: int, arbiter: bool
) -> list[tuple[str, int, str]]:
    """(key, port, the other service) for each port key of a host whose port is taken there."""
    taken: dict[int, str] = {ssh_port: "sshd (ssh.port)", **FIXED_PORTS[role]}
    if arbiter:
        taken[24007] = "glusterd (the arbiter)"
    conflicts = []
    for key in ROLE_PORT_KEYS[role]:
        if key in MONITORING_PORT_KEYS and not setting("monitoring_enabled"):
            continue
        value = setting(key)
        if value in taken:
            conflicts.append((key, value, taken[value]))
        else:
            taken[value] = key
    return conflicts
