"""The rules that relate several keys or hosts of a site: the cluster's shape, the arbiter, the
keys that must agree on each host's effective values, the VIP's TLS listener.

The rules for one value alone are in hastack/rules.py; the site's structure is checked in
hastack/site/validation.py. Each rule adds its problems to the checker it is given.
"""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hastack import alerts, hsts, rules
from hastack.defaults import DEFAULTS

if TYPE_CHECKING:
    from hastack.site.model import Host, Layers, SshSettings
    from hastack.site.validation import Checker


def check_cluster_shape(check: Checker, hosts: dict[str, Host], networks: dict, vip) -> None:
    for role, needed in (("proxy", 2), ("web", 2)):
        count = sum(1 for host in hosts.values() if host.role == role)
        if count < needed:
            check.add(
                "hosts",
                f"{count} {role} host(s), at least {needed} are needed for HA",
                f"describe at least {needed} hosts with 'role: {role}'",
            )

    owners: dict[ipaddress.IPv4Address, str] = {}
    for host in hosts.values():
        for net_name, addr in host.addresses.items():
            if addr in owners:
                check.add(
                    f"hosts.{host.name}.{net_name}",
                    f"{addr} is also used by {owners[addr]}",
                    "give every host its own address",
                    host.name,
                )
            owners.setdefault(addr, f"hosts.{host.name}.{net_name}")

    front = networks.get("front")
    if vip is not None and front is not None:
        if vip not in front:
            check.add(
                "vip",
                f"{vip} is outside networks.front ({front})",
                f"choose a free address inside {front}",
            )
        elif vip in (front.network_address, front.broadcast_address):
            check.add(
                "vip",
                f"{vip} is the network or broadcast address of {front}",
                "choose a host address",
            )
    if vip is not None and vip in owners:
        check.add(
            "vip",
            f"{vip} is the address of {owners[vip]}",
            "choose an address that no host has: the VIP floats between the proxies",
        )


# Keys with one value for the whole cluster: the volume's options, the arbiter, whether there is
# monitoring at all, gmetad's schedule. The site's tools read them without a host, so they may be
# set in the site's data: or group_data/all.py only, never for a role or a host.
CLUSTER_WIDE_KEYS = (
    "monitoring_enabled",
    "ganglia_poll_seconds",
    "quorum_device_host",
    # the shop's one content: placed by the first web host, checked through the VIP from the client
    "web_sample_page",
    *(key for key in DEFAULTS if key.startswith("gluster_")),
    # who is told, by which relay: one answer for the cluster (the disk threshold may differ)
    *(key for key in DEFAULTS if key.startswith("alert_") and key != "alert_disk_percent"),
    # one repository, one schedule, one retention for the site's series
    *(key for key in DEFAULTS if key.startswith("backup_")),
)


def check_cluster_wide(check: Checker, layers: Layers, hosts: dict[str, Host]) -> None:
    """A cluster-wide key set for one host or one role is refused, naming where it is set."""
    for key in CLUSTER_WIDE_KEYS:
        why = (
            "the arbiter is one for the whole volume"
            if key == "gluster_arbiter"
            else ("one value for the whole cluster")
        )
        for host in hosts.values():
            if key in host.data:
                check.add(
                    f"hosts.{host.name}.data.{key}", why, "set it under the site's 'data:' instead", host.name
                )
        for group_file in layers.group_files:
            if group_file.group != "all" and key in group_file.values:
                check.add(
                    f"{group_file.path}: {key}",
                    why,
                    "set it under the site's 'data:' or in group_data/all.py instead",
                )


# Keys that act on one host's hardware, once: set for one host only, never for the site or a role
# (a web host that joins later would inherit raid_force and wipe its disks).
HOST_ONLY_KEYS = ("raid_force",)


def check_host_only(check: Checker, layers: Layers) -> None:
    """A host-only key set under the site's data: or in group_data/ is refused."""
    for key in HOST_ONLY_KEYS:
        where = [f"data.{key}"] if layers.data.get(key) else []
        where += [f"{g.path}: {key}" for g in layers.group_files if g.values.get(key)]
        for path in where:
            check.add(
                path,
                "it wipes the disks of every web host it applies to, including any that joins later",
                f"set it for the one host whose disks may be wiped, under hosts.<name>.data.{key}, "
                "and remove it after that host's run",
            )


def disk_name_warnings(hosts: dict[str, Host]) -> list[str]:
    """/dev/sdX and /dev/nvmeXnY names follow the order the kernel finds the disks in, which can
    change across boots: the RAID would then take another disk."""
    return [
        f"hosts.{host.name}.disks: {disk} is named by the order the kernel finds the disks in, "
        "which can change at a boot; name it by /dev/disk/by-id/... (ls -l /dev/disk/by-id shows them)"
        for host in hosts.values()
        for disk in host.disks
        if re.match(r"^/dev/(sd[a-z]+|nvme[0-9]+n[0-9]+)$", disk)
    ]


def check_fence_secrets(check: Checker, layers: Layers, hosts: dict[str, Host], cluster: str) -> None:
    """Each fence secret a proxy is to get is a file of the site's secrets folder, private:
    refused before any change when it is missing or open to others."""
    from hastack import secrets

    folder = secrets.secrets_dir(cluster)
    said: set[tuple[str, str]] = set()
    for host in hosts.values():
        if host.role != "proxy" or rules.check_value(
            "pacemaker_fence_secrets", layers.value("pacemaker_fence_secrets", host)
        ):
            continue
        for name in layers.value("pacemaker_fence_secrets", host):
            path = folder / name
            if not path.is_file():
                problem, fix = f"{path} does not exist", f"put the secret in {path} (chmod 600)"
            elif path.stat().st_mode & 0o077:
                problem, fix = (
                    f"{path} is open to others (mode {path.stat().st_mode & 0o777:o})",
                    f"chmod 600 {path}",
                )
            else:
                continue
            origin = layers.origin("pacemaker_fence_secrets", host)
            if (origin, problem) not in said:
                said.add((origin, problem))
                check.add(origin, problem, fix, host.name)


def check_arbiter(check: Checker, layers: Layers, hosts: dict[str, Host]) -> None:
    """gluster_arbiter names a host of the site, not a web host, on the back network."""
    arbiter, path = layers.find("gluster_arbiter")
    if not arbiter:
        return
    spec = hosts.get(arbiter)
    if spec is None:
        check.add(
            path,
            f"{arbiter!r} is not a host of the site",
            f"name a proxy host ({', '.join(h.name for h in hosts.values() if h.role == 'proxy')})",
        )
    elif spec.role == "web":
        check.add(
            path,
            f"{arbiter} is a web host, which already holds a data brick",
            "name a proxy host",
            arbiter,
        )
    elif (webs := sum(1 for host in hosts.values() if host.role == "web")) > 2:
        check.add(
            path,
            f"an arbiter is for two web hosts; with {webs} their copies keep quorum themselves",
            "remove gluster_arbiter from data: the next deploy removes the arbiter brick",
            arbiter,
        )
    elif "back" not in spec.addresses:
        check.add(
            path,
            f"{arbiter} is not on the back network, where the bricks talk",
            "name a proxy host, or give this host a back address",
            arbiter,
        )


def check_quorum_device(check: Checker, layers: Layers, hosts: dict[str, Host]) -> list[str]:
    """quorum_device_host names a host of the site that is not a proxy (the proxies are on both
    networks, so they reach it on the one it has). Returns warnings: none named (split brain)."""
    name, path = layers.find("quorum_device_host")
    proxies = [host for host in hosts.values() if host.role == "proxy"]
    others = ", ".join(host.name for host in hosts.values() if host.role != "proxy") or "a third host"
    if not name:
        if len(proxies) == 2:
            return [
                f"{path}: no quorum device: when the two proxies lose each other (both links down, "
                "or one frozen longer than the token), both take the VIP (split brain). Set "
                f"quorum_device_host under data: to a third host ({others})"
            ]
        return []
    spec = hosts.get(name)
    if spec is None:
        check.add(path, f"{name!r} is not a host of the site", f"name a host that is not a proxy ({others})")
    elif spec.role == "proxy":
        check.add(
            path,
            f"{name} is a proxy: the quorum device must be a third vote, apart from both proxies",
            f"name a host that is not a proxy ({others})",
            name,
        )
    return []


def check_alerts(check: Checker, layers: Layers, hosts: dict[str, Host]) -> list[str]:
    """Recipients need a relay (hosts send nowhere else); a relay without recipients is a
    warning. A relay named like a host of the site must be the host's name (or an address)."""
    recipients, path = layers.find("alert_mail_to")
    relay, relay_path = layers.find("alert_relay")
    if recipients and not relay:
        check.add(
            path,
            "alert mail is to go out, but no relay is named (hosts send to no mail server directly)",
            "set alert_relay under data: to your mail relay, like mail.example.com or 10.0.0.5:25",
        )
    if relay and not rules.relay(relay):
        name, _ = alerts.relay_parts(relay)
        proxies = [host for host in hosts.values() if host.role == "proxy"]
        on_proxy = next(
            (p.name for p in proxies if name in {p.name, *(str(a) for a in p.addresses.values())}), None
        )
        if on_proxy or name == "localhost" or name.startswith("127."):
            check.add(
                relay_path,
                f"{relay!r} is {on_proxy or 'this host'}: the proxies pass the web hosts' mail on to the "
                "relay, which would then be themselves (each connection opening another)",
                "name a mail relay that is not a proxy: your own, or a host of the site such as the client",
            )
    if relay and not recipients:
        return [f"{relay_path}: a relay but no recipients (alert_mail_to): no alert is sent"]
    return []


def check_backup(check: Checker, layers: Layers, hosts: dict[str, Host]) -> list[str]:
    """An SFTP repository on a host of the site: one the web hosts reach (a back address), and
    not a web host, whose loss would take the copy with the brick it backs up (a proxy is allowed:
    the lab has no other host the web hosts reach; data_keys says to name one outside the cluster)."""
    from hastack import backup

    value, path = layers.find("backup_repository")
    repo = backup.parse(value) if value else None
    if repo is None or not repo.sftp or repo.host not in hosts:
        return []
    spec = hosts[repo.host]
    if spec.role == "web":
        check.add(
            path,
            f"{repo.host} is a web host: its copy would be lost with the brick it backs up",
            "name a host outside the cluster, or at least one that is not a web host",
            repo.host,
        )
    elif "back" not in spec.addresses and any(host.role == "web" for host in hosts.values()):
        check.add(
            path,
            f"{repo.host} has no back address, and the web hosts reach only the back network",
            "name a host on the back network, or an SFTP server the web hosts can reach",
            repo.host,
        )
    return []


def token_warnings(layers: Layers, hosts: dict[str, Host]) -> list[str]:
    """A token that survives a shorter stall than STALL_GOAL_MS (measured: the timer table)."""
    from hastack.timings import STALL_GOAL_MS, stall_tolerance_ms

    proxies = [host for host in hosts.values() if host.role == "proxy"]
    if not proxies:
        return []
    token, path = layers.find("corosync_token_ms", proxies[0])
    if stall_tolerance_ms(token) >= STALL_GOAL_MS:
        return []
    return [
        f"{path}: {token} ms survives a stall of Corosync of about {stall_tolerance_ms(token) / 1000:g} s "
        f"(measured, docs/measurements.md): a proxy that stalls longer (a VM snapshot, a live migration, "
        f"a saturated link) is taken for dead. Leave the default, which survives {STALL_GOAL_MS / 1000:g} s, "
        "unless fencing is on and a shorter tolerance is wanted"
    ]


def ping_warnings(layers: Layers, hosts: dict[str, Host]) -> list[str]:
    """A GlusterFS ping timeout outside what the timer table found safe for the shop."""
    from hastack.timings import PING_GAP_RULE_S, PING_SHORTEST_MEASURED_S

    if not any(host.role == "web" for host in hosts.values()):
        return []
    # the volume's one value: a cluster-wide key, refused for one host or role (check_cluster_wide)
    ping, path = layers.find("gluster_ping_timeout")
    if ping > PING_GAP_RULE_S:
        return [
            f"{path}: {ping} s: a web host that goes silent (a power loss, a hang) stops the other "
            f"web host's reads for up to about {2 * ping} s, HAProxy takes both out, and the shop is "
            f"down for everyone that long (measured: 10.4 s at 5, 47 s at 42; docs/measurements.md). "
            f"Leave the default ({PING_GAP_RULE_S}) unless reconnecting is costly on your volume"
        ]
    if ping < PING_SHORTEST_MEASURED_S:
        return [
            f"{path}: {ping} s: a brick frozen longer than that (a VM snapshot, a busy host) is dropped "
            f"and healed after, and {PING_SHORTEST_MEASURED_S} s is the shortest measured "
            "(docs/measurements.md). Leave the default unless that is what you want"
        ]
    return []


def gluster_warnings(layers: Layers, hosts: dict[str, Host]) -> list[str]:
    """Two web hosts without the arbiter's quorum: the risk named, with the fix."""
    quorum, path = layers.find("gluster_quorum_type")
    arbiter, arbiter_path = layers.find("gluster_arbiter")
    webs = sum(1 for host in hosts.values() if host.role == "web")
    fix = (
        "Set gluster_arbiter: auto (the default: the first proxy, with a filesystem of its own at "
        "gluster_arbiter_brick_root) and gluster_quorum_type: auto (the default)"
    )
    if webs != 2:
        return []
    if quorum == "none":
        policy = layers.value("gluster_favorite_child_policy")
        outcome = (
            "it is reported and stays unreadable until a person picks a copy"
            if policy == "none"
            else f"gluster_favorite_child_policy {policy} keeps one copy and discards the other"
        )
        return [
            f"{path}: none: two web hosts cut off from each other both keep writing, and a file "
            f"written on both splits its brain ({outcome}). {fix}"
        ]
    if not arbiter:
        return [
            f"{arbiter_path}: no arbiter with two web hosts and client quorum: writes to the volume "
            f"stop whenever the first web host is away (the shop loses uploads). {fix}"
        ]
    return []


def check_agreement(check: Checker, layers: Layers, hosts: dict[str, Host], ssh: SshSettings) -> None:
    """Keys that must agree, on each host's effective values: ports, STONITH, the arbiter, paths."""

    def where(key: str, host: Host) -> tuple[str, str | None]:
        """The key path that sets a host's value (its data, the site's, a group data file), and the host."""
        return layers.origin(key, host), host.name

    arbiter = layers.value("gluster_arbiter")
    for host in hosts.values():

        def setting(key: str, host: Host = host) -> Any:
            return layers.value(key, host)

        for key, port, other in rules.port_conflicts(host.role, setting, ssh.port, host.name == arbiter):
            path, name = where(key, host)
            check.add(path, f"port {port} is also {other} on {name}", "give it a port of its own", name)
        if (
            host.role == "proxy"
            and setting("pacemaker_stonith_enabled")
            and not setting("pacemaker_fence_devices")
        ):
            path, name = where("pacemaker_stonith_enabled", host)
            check.add(
                path,
                "STONITH is on but no fence device is described",
                "describe pacemaker_fence_devices, or set pacemaker_stonith_enabled: false",
                name,
            )
        if host.role == "proxy" and setting("monitoring_enabled"):
            # Every device timing out must fit in one poller run (its unit stops it at the
            # interval less 20 s): Cacti asks the devices one after the other.
            tries, timeout = 1 + setting("cacti_snmp_retries"), setting("cacti_snmp_timeout_ms")
            budget = setting("cacti_poll_minutes") * 60 - 20
            if tries * timeout * len(hosts) > budget * 1000:
                path, name = where("cacti_snmp_timeout_ms", host)
                check.add(
                    path,
                    f"{len(hosts)} devices that all time out take {tries * timeout * len(hosts) / 1000:g} s "
                    f"({tries} tries of {timeout} ms each), more than the poller's {budget} s "
                    f"(cacti_poll_minutes {setting('cacti_poll_minutes')} less 20 s)",
                    "lower cacti_snmp_timeout_ms or cacti_snmp_retries, or poll every 5 minutes",
                    name,
                )
        if host.role == "web":
            mount, content = setting("gluster_mount_point"), setting("web_content_dir")
            if not f"{content}/".startswith(f"{mount.rstrip('/')}/"):
                path, name = where("web_content_dir", host)
                check.add(
                    path,
                    f"{content} is outside the replicated volume at gluster_mount_point ({mount})",
                    f"put the content below {mount}",
                    name,
                )
            raid, bricks = setting("raid_mount_point"), setting("gluster_brick_root")
            if setting("raid_enabled") and not f"{bricks}/".startswith(f"{raid.rstrip('/')}/"):
                path, name = where("gluster_brick_root", host)
                check.add(
                    path,
                    f"{bricks} is not on the RAID at raid_mount_point ({raid})",
                    f"put the bricks below {raid}, or set raid_enabled: false",
                    name,
                )
    quorum, path = layers.find("gluster_quorum_type")
    if arbiter and quorum != "auto":
        check.add(
            path,
            "an arbiter prevents split-brain only with client quorum",
            'set gluster_quorum_type: auto (the default), or gluster_arbiter: "" for no arbiter '
            "(gluster_arbiter's default, auto, makes one with two web hosts)",
        )


# The VIP's listener is one for both proxies: these keys must not differ between them.
VIP_LISTENER_KEYS = (
    "https_port",
    "tls_certificate",
    "tls_key",
    "tls_names",
    "tls_hsts_max_age",
    "tls_acme_directory",
    "tls_acme_email",
    "tls_acme_ca_bundle",
    "admin_web_networks",
)


def check_tls(check: Checker, layers: Layers, hosts: dict[str, Host]) -> list[str]:
    """The proxies agree on the VIP's listener, and the site's certificate (if it names one)
    is usable: the key matches, the chain is complete, nothing expired. Returns warnings."""
    proxies = [host for host in hosts.values() if host.role == "proxy"]

    def setting(key: str, host: Host) -> Any:
        return layers.value(key, host)

    for key in VIP_LISTENER_KEYS:
        values = {repr(setting(key, host)) for host in proxies}
        if len(values) > 1:
            own = next(host.name for host in proxies if key in host.data)
            check.add(
                f"hosts.{own}.data.{key}",
                f"the proxies differ on {key}: one VIP has one listener",
                f"set {key} under data: for the whole site, not for {own} alone",
                own,
            )
    if not proxies or check.problems:
        return []
    certificate, key = setting("tls_certificate", proxies[0]), setting("tls_key", proxies[0])
    if bool(certificate) != bool(key):
        given, missing = ("tls_certificate", "tls_key") if certificate else ("tls_key", "tls_certificate")
        check.add(
            layers.origin(missing, proxies[0]),
            f"{given} is set but {missing} is not",
            "give both the certificate file and its key file, or neither (hastack then issues one)",
        )
        return []
    if setting("tls_acme_directory", proxies[0]):
        return check_acme(check, layers, proxies[0])
    if not certificate:
        age = setting("tls_hsts_max_age", proxies[0])
        if age > hsts.SITE_CA_WARN_S:
            return [
                f"tls_hsts_max_age is {age} s with hastack's site CA, which only the clients given it "
                "trust: each of them is pinned that long, and if the CA is made again (its secrets "
                "lost) or taken from them, cannot get past the error until then. Leave it at -1 (0 "
                "with the site CA, two years with tls_certificate) until the certificate is one "
                "browsers trust"
            ]
        return []
    from hastack import tls  # cryptography, only for a site that brings its own certificate

    result = tls.check_files(Path(certificate), Path(key))
    for problem in result.problems:
        check.add(
            layers.origin("tls_certificate", proxies[0]),
            problem,
            "give a current certificate, its chain and its own key",
        )
    return result.warnings


def check_acme(check: Checker, layers: Layers, proxy: Host) -> list[str]:
    """ACME (tls_acme_directory): with the names it is for, a contact, no certificate of the
    site's own, no wildcard (HTTP-01 cannot validate one), a readable CA bundle if one is named."""

    def setting(key: str) -> Any:
        return layers.value(key, proxy)

    directory = "tls_acme_directory"
    if setting("tls_certificate"):
        check.add(
            layers.origin("tls_certificate", proxy),
            "tls_certificate and tls_acme_directory are both set: the VIP serves one certificate",
            "drop tls_certificate and tls_key (ACME then obtains the certificate), or tls_acme_directory",
        )
    names = setting("tls_names")
    if not names:
        check.add(
            layers.origin("tls_names", proxy),
            f"{directory} is set but tls_names is empty: an ACME certificate is for DNS names",
            "list the shop's DNS names (pointing at the VIP) in tls_names",
        )
    if len(set(names)) != len(names):
        check.add(
            layers.origin("tls_names", proxy),
            "tls_names lists a name twice: the certificate carries each once, and every deploy "
            "would find it wrong and ask the ACME server again (which limits how often it issues)",
            "list each name once",
        )
    for name in names:
        if name.startswith("*."):
            check.add(
                layers.origin("tls_names", proxy),
                f"{name}: a wildcard name, which ACME's HTTP-01 challenge cannot validate",
                "list each name the shop answers to instead of the wildcard",
            )
    if not setting("tls_acme_email"):
        check.add(
            layers.origin("tls_acme_email", proxy),
            f"{directory} is set but tls_acme_email is not",
            "give the address the ACME server writes to before a certificate expires unrenewed",
        )
    bundle = setting("tls_acme_ca_bundle")
    if bundle:
        try:
            text = Path(bundle).read_text()
        except OSError as error:
            text = ""
            reason = f"cannot be read ({error.strerror})"
        else:
            reason = "holds no PEM certificate"
        if "-----BEGIN CERTIFICATE-----" not in text:
            check.add(
                layers.origin("tls_acme_ca_bundle", proxy),
                f"{bundle} {reason}",
                "give the PEM file of the CA that issued the ACME server's HTTPS certificate",
            )
    return []


def check_gateways(check: Checker, layers: Layers, hosts: dict[str, Host], networks: dict, vip) -> list[str]:
    """Each host's default route (netplan_gateways): inside the network it is given for, not an
    address of the site, one network per host. A static one beside a DHCP interface (which may
    bring its own) is a warning. Returns warnings."""
    taken = {str(address): host.name for host in hosts.values() for address in host.addresses.values()}
    if vip is not None:
        taken[str(vip)] = "the VIP"
    warnings = []
    for host in hosts.values():
        gateways, path = layers.find("netplan_gateways", host)
        own = {name: gateway for name, gateway in gateways.items() if name in host.addresses}
        if len(own) > 1:
            check.add(
                path,
                f"host {host.name} would get a default route on {' and '.join(own)}: two default routes",
                f"keep one network's gateway for {host.name} (hosts.{host.name}.data.netplan_gateways)",
                host.name,
            )
        for name, gateway in own.items():
            network, address = networks.get(name), ipaddress.IPv4Address(str(gateway))
            if network is not None and (
                address not in network or address in (network.network_address, network.broadcast_address)
            ):
                check.add(
                    path,
                    f"{name}'s gateway {address} is not a host address of networks.{name} ({network})",
                    f"give the router's address on {network}, from which {host.name} reaches the rest",
                    host.name,
                )
            elif str(address) in taken:
                check.add(
                    path,
                    f"{name}'s gateway {address} is {taken[str(address)]}, not a router",
                    "give the router's address on that network",
                    host.name,
                )
        if own and host.dhcp:
            warnings.append(
                f"{path}: host {host.name} gets a static default route and DHCP on "
                f"{', '.join(host.dhcp)}, which may bring a second one"
            )
    return warnings


def check_routes(check: Checker, layers: Layers, hosts: dict[str, Host], networks: dict, vip) -> None:
    """Each host's static routes (netplan_routes): through a router that is a host address of the
    network they are given for and not an address of the site, to a network that is not one of
    the site's own (those are reached directly)."""
    taken = {str(address): host.name for host in hosts.values() for address in host.addresses.values()}
    if vip is not None:
        taken[str(vip)] = "the VIP"
    for host in hosts.values():
        routes, path = layers.find("netplan_routes", host)
        seen: dict[ipaddress.IPv4Network, str] = {}
        for name, entries in routes.items():
            network = networks.get(name)
            if name not in host.addresses or network is None:
                continue
            for route in entries:
                to, via = ipaddress.IPv4Network(str(route["to"])), ipaddress.IPv4Address(str(route["via"]))
                if to in seen:
                    # The kernel keeps one route per destination: the other would be lost.
                    check.add(
                        path,
                        f"{name}'s route to {to} is given twice for {host.name} (also on {seen[to]})",
                        "give each destination one router",
                        host.name,
                    )
                seen[to] = name
                if via not in network or via in (network.network_address, network.broadcast_address):
                    check.add(
                        path,
                        f"{name}'s route to {to} goes via {via}, not a host address of "
                        f"networks.{name} ({network})",
                        f"give the router's address on {network}",
                        host.name,
                    )
                elif str(via) in taken:
                    check.add(
                        path,
                        f"{name}'s route to {to} goes via {via}, which is {taken[str(via)]}, not a router",
                        "give the router's address on that network",
                        host.name,
                    )
                for own, cidr in networks.items():
                    if cidr is not None and to.overlaps(cidr):
                        check.add(
                            path,
                            f"{name}'s route to {to} overlaps networks.{own} ({cidr}), which the "
                            "hosts reach directly",
                            "route only networks beyond the site's own",
                            host.name,
                        )
