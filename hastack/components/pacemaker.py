"""HA, proxy hosts: Corosync (knet, crypto, two links) and Pacemaker (VIP + HAProxy)."""

import hashlib
import io

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.api.exceptions import DeployError
from pyinfra.facts.files import FindFiles, FindInFile, Sha256File
from pyinfra.facts.server import Command
from pyinfra.operations import files, server, systemd
from pyinfra.operations.util import any_changed

from hastack import alerts, qdevice, secrets, topology
from hastack.components import quorum
from hastack.components.host_os import install, platform, put_secret, secret_is_there
from hastack.defaults import ROOT
from hastack.facts.pacemaker import CorosyncClusterName, PcsdKnownHosts
from hastack.facts.quorum import QdeviceTimeout
from hastack.facts.system import IsDirectory
from hastack.network import knet_link_timers, qdevice_timeout_ms
from hastack.operations import pacemaker
from hastack.operations.files import render_template, validated_file
from hastack.timings import SYSTEMD_START_TIMEOUT_S, corosync_start_delay_s

PCSD_DEFAULTS = "/etc/default/pcsd"
# pcsd's two daemons can hang on SIGTERM: the python one (its workers wait on their manager at
# exit: ClusterLabs/pcs#780, still in Debian 13's 0.12.0.2) and the ruby one (puma, idle). systemd
# then waits its default 90 s before SIGKILL: the deploy's restart of pcsd took 90 s. Neither
# holds state of its own that a kill could lose; 10 s bounds the stop.
PCSD_UNITS = ("pcsd", "pcsd-ruby")
PCSD_STOP_TIMEOUT_S = 10
# knet's link mode (templates/proxy/corosync.conf.j2), and where each corosync start notes its own.
LINK_MODE = "active"
# Gratuitous ARPs IPaddr2 sends when the VIP starts, 200 ms apart (its default: 5, 1 s). A
# client that kept sending to a silent holder probes that MAC every second, and Linux ignores
# an ARP that would change an entry within a second of its last update (locktime): all five
# fell in such windows, the client finding the new holder only once its entry failed. The
# isolate drill, proxy1 silent: 8.0 s without service twice with 5; with 20, 4.1 s once and 7.9 s
# once (not conclusive: docs/measurements.md, "A silent VIP holder").
VIP_ARP_COUNT = 20
# The VIP's resource priority: the proxy that holds it is the one priority-fencing-delay spares.
VIP_PRIORITY = 10
STARTED_LINK_MODE = "/run/corosync-link-mode"
# Where corosync's start waits (data_keys.corosync_start_delay_s).
START_DELAY_DROPIN = "/etc/systemd/system/corosync.service.d/hastack-start-delay.conf"
AUTHKEY = "/etc/corosync/authkey"
# The digest of the authkey corosync runs with, noted at its start and at hastack's reloads.
RUNNING_AUTHKEY = "/run/corosync-authkey.sha256"
# A digest of the hacluster password set on the host (authenticate_pcsd).
HACLUSTER_MARK = "/etc/hastack/hacluster-password.sha256"
TEMPLATES = ROOT / "templates" / "proxy"
# The one-node cluster Debian's pacemaker package starts on install.
DEBIAN_DEFAULT_CLUSTER = "debian"
# with the release's resource agents (platforms.Platform.resource_agents_package)
PACKAGES = ["corosync", "pacemaker", "pacemaker-cli-utils", "pcs"]


def proxies() -> list[dict]:
    return topology.in_role(host.data.site_hosts, "proxy")


def failed_proxies() -> list[str]:
    """The site's proxies that failed in this run so far."""
    names = {other["name"] for other in proxies()}
    return sorted(failed.name for failed in host.state.failed_hosts if failed.name in names)


def refuse_a_new_authkey_without_every_proxy() -> None:
    """A new authkey reaches every proxy in one run, or none: a proxy left with the old key could
    not talk to the others, and either side of that split would take the VIP. Refused before any
    host is touched (pyinfra plans every host before it runs an operation)."""
    state = host.state
    reached = {other.name for other in state.active_hosts if state.is_host_in_limit(other)}
    left_out = [other["name"] for other in proxies() if other["name"] not in reached]
    if left_out:
        raise DeployError(
            f"host {host.name}: corosync is to take up the kept authkey "
            f"({secrets.key_file(host.data.site_cluster, 'corosync_authkey')}: changed, or not yet the "
            f"one corosync runs), and this run does not reach {', '.join(left_out)} (--limit, --exclude "
            "or no connection). Every proxy takes a new authkey in the same run: run the deploy on all "
            "the proxies, every one reachable. Nothing was changed on any host."
        )


def check_existing_cluster() -> None:
    """A configured cluster of another name is never destroyed: stop before touching anything."""
    name = host.get_fact(CorosyncClusterName)
    if name not in (None, DEBIAN_DEFAULT_CLUSTER, host.data.site_cluster):
        raise DeployError(
            f"host {host.name} is already in the Corosync cluster {name!r}: hastack never destroys a "
            f"configured cluster. Set 'cluster: {name}' in the site file, or remove that cluster by "
            "hand (pcs cluster destroy) first"
        )


def configure_corosync(replace_default: bool, qdevice_rebuilt) -> None:
    cluster = host.data.site_cluster
    if replace_default:
        server.shell(
            name="Stop Debian's default one-node cluster",
            commands=[
                f"if grep -q 'cluster_name: {DEBIAN_DEFAULT_CLUSTER}$' /etc/corosync/corosync.conf; then "
                "systemctl stop pacemaker corosync && rm -f /var/lib/pacemaker/cib/cib*; fi"
            ],
        )
    key = secrets.key_file(cluster, "corosync_authkey").read_bytes()
    kept = hashlib.sha256(key).hexdigest()
    # A running cluster to move to the kept key (its file deleted to rotate it:
    # docs/real-servers.md): the file on the host differs, or corosync runs another key (a
    # rotation that a failed proxy cut short), or which one it runs is not known (started before
    # hastack noted it). Each proxy takes the key, then a reload moves every node to it.
    running = host.get_fact(FindInFile, path=RUNNING_AUTHKEY, pattern=".") or []
    rekey = not replace_default and (host.get_fact(Sha256File, path=AUTHKEY) != kept or running != [kept])
    if rekey:
        refuse_a_new_authkey_without_every_proxy()
    put_secret("Install the corosync authkey (a generated secret)", key, AUTHKEY, mode="400")
    nodes = [
        {"name": other["name"], "front": other["addresses"]["front"], "back": other["addresses"]["back"]}
        for other in proxies()
    ]
    knet_ping_ms, knet_timeout_ms = knet_link_timers(host.data.corosync_token_ms)
    qnetd = None
    if quorum.enabled():
        qnetd = {
            "name": host.data.quorum_device_host,
            "address": quorum.address(),
            "port": qdevice.QNETD_PORT,
            "heuristic": qdevice.HOLDS_VIP,
            "timeout_ms": qdevice_timeout_ms(host.data.corosync_token_ms),
        }
    conf = validated_file(
        name="Configure corosync (validated by corosync -t)",
        dest="/etc/corosync/corosync.conf",
        content=render_template(
            str(TEMPLATES / "corosync.conf.j2"),
            cluster=cluster,
            token_ms=host.data.corosync_token_ms,
            knet_ping_ms=knet_ping_ms,
            knet_timeout_ms=knet_timeout_ms,
            nodes=nodes,
            qnetd=qnetd,
            link_mode=LINK_MODE,
        ),
        validate="corosync -t -c {path}",
    )
    # knet's link mode is read when corosync starts, never on a reload: a drop-in notes the mode
    # each start used, so that a cluster running another restarts, one proxy at a time.
    dropin = files.put(
        name="Note the link mode corosync starts with",
        src=io.StringIO(
            "# Managed by hastack: the link mode this corosync started with (read at start only).\n"
            "[Service]\n"
            "ExecStartPost=/bin/sh -c \"sed -n 's/^ *link_mode: *//p' /etc/corosync/corosync.conf "
            f'> {STARTED_LINK_MODE}"\n'
            "# and the digest of the authkey it read (a reload by hastack notes it again)\n"
            f"ExecStartPost=/bin/sh -c \"sha256sum {AUTHKEY} | cut -d' ' -f1 > {RUNNING_AUTHKEY}\"\n"
        ),
        dest="/etc/systemd/system/corosync.service.d/hastack-link-mode.conf",
        mode="644",
    )
    # A fenced proxy up again before its fencing is confirmed would hear of it and stop
    # Pacemaker for good (data_keys.corosync_start_delay_s): corosync waits at its start.
    delay = start_delay_s()
    if delay:
        delay_dropin = files.put(
            name=f"corosync waits {delay} s at its start (corosync_start_delay_s)",
            src=io.StringIO(
                "# Managed by hastack (corosync_start_delay_s): a fenced proxy up again before its\n"
                "# fencing is confirmed would hear of it and stop Pacemaker for good.\n"
                f"[Service]\nExecStartPre=/bin/sleep {delay}\n"
                "# on top of systemd's start timeout, which the wait would otherwise eat\n"
                f"TimeoutStartSec={delay + SYSTEMD_START_TIMEOUT_S}s\n"
            ),
            dest=START_DELAY_DROPIN,
            mode="644",
        )
    else:
        delay_dropin = files.file(
            name="corosync starts without waiting (corosync_start_delay_s 0)",
            path=START_DELAY_DROPIN,
            present=False,
        )
    pcsd_dropins = [
        files.put(
            name=f"{unit} stops within {PCSD_STOP_TIMEOUT_S} s (its daemon can hang on SIGTERM)",
            src=io.StringIO(
                "# Managed by hastack: pcsd's daemons can hang on SIGTERM (ClusterLabs/pcs#780).\n"
                f"[Service]\nTimeoutStopSec={PCSD_STOP_TIMEOUT_S}s\n"
            ),
            dest=f"/etc/systemd/system/{unit}.service.d/hastack-stop-timeout.conf",
            mode="644",
        )
        for unit in PCSD_UNITS
    ]
    # also when a drop-in was written and a run stopped before systemd read it (one line a unit)
    units = " ".join(("corosync", *PCSD_UNITS))
    stale = "yes" in (
        host.get_fact(Command, f"systemctl show -P NeedDaemonReload {units} 2>/dev/null || true") or ""
    )
    changed = any_changed(dropin, delay_dropin, *pcsd_dropins)
    systemd.daemon_reload(
        name="systemd reads the drop-ins",
        _if=lambda: stale or changed(),
    )
    started = host.get_fact(FindInFile, path=STARTED_LINK_MODE, pattern=".") or []
    bind = configure_pcsd_address()
    for service in ("corosync", "pacemaker", "pcsd"):
        systemd.service(name=f"Run {service}", service=service, running=True, enabled=True)
    back = host.data.site_addresses["back"]
    server.shell(
        name="Restart pcsd on its back address (until it answers there)",
        commands=[
            "systemctl restart pcsd && for i in $(seq 90); do "
            f"curl -ks -o /dev/null https://{back}:2224/ && exit 0; sleep 1; done; "
            "echo 'pcsd did not answer on the back address' >&2; exit 1"
        ],
        _if=bind.did_change,
    )
    # A reload re-reads corosync.conf and the authkey on every node of the cluster: corosync 3.1
    # and newer move knet to a new key without a restart, nodes and VIP staying. With a key to
    # take up, only once every proxy has it: while a proxy that failed this run keeps the old
    # one, so do the others (the next run finds the key still to take up, and reloads then).
    # Each proxy that moves notes the key it runs; a second reload changes nothing.
    server.shell(
        name="Reload corosync's configuration and authkey on the cluster (no restart)",
        commands=[f"corosync-cfgtool -R && sha256sum {AUTHKEY} | cut -d' ' -f1 > {RUNNING_AUTHKEY}"],
        _if=lambda: not replace_default and (rekey or conf.did_change()) and not (rekey and failed_proxies()),
    )
    server.shell(
        name=f"Restart corosync with link mode {LINK_MODE}, one proxy at a time (until both are online)",
        commands=[
            f"systemctl restart corosync pacemaker{' corosync-qdevice' if qnetd else ''} && "
            + wait_until_every_proxy_is_online()
        ],
        _serial=True,
        _if=lambda: not replace_default and started != [LINK_MODE],
    )
    # After corosync has the device in its configuration (qdevice exits without it).
    systemd.service(
        name="Run corosync-qdevice (the quorum device's client)" if qnetd else "No corosync-qdevice",
        service="corosync-qdevice",
        running=bool(qnetd),
        enabled=bool(qnetd),
    )
    if qdevice_rebuilt is not None:
        systemd.service(
            name="Restart corosync-qdevice with its new certificate",
            service="corosync-qdevice",
            restarted=True,
            _if=qdevice_rebuilt.did_change,
        )
    if qnetd:
        # Its timeout is read at its start only (the running one says which it uses). One
        # proxy at a time, each waiting for its vote again: the other keeps quorum meanwhile.
        running = host.get_fact(QdeviceTimeout)
        every_vote = f"[ \"$(corosync-quorumtool -s | grep -c ' A,V')\" -ge {len(proxies())} ]"
        server.shell(
            name=f"Restart corosync-qdevice with its timeout, {qnetd['timeout_ms']} ms, one proxy at a time",
            commands=[
                # Not while a proxy lacks its qdevice vote (the other's restart may still be
                # settling): each restart takes one vote away for a moment.
                f"for i in $(seq 60); do {every_vote} && break; sleep 1; done; "
                f"{every_vote} || "
                "{ echo 'a proxy lacks its qdevice vote: corosync-qdevice not restarted' >&2; exit 1; }; "
                "systemctl restart corosync-qdevice && for i in $(seq 60); do "
                "corosync-qdevice-tool -s | grep -q '^State:[[:space:]]*Connected' && exit 0; sleep 1; done; "
                "echo 'corosync-qdevice did not connect to qnetd again within 60 s' >&2; exit 1"
            ],
            _serial=True,
            _if=lambda: running is not None and running != qnetd["timeout_ms"],
        )


def start_delay_s() -> int:
    """The seconds corosync waits at its start on this host (data_keys.corosync_start_delay_s)."""
    return corosync_start_delay_s(
        host.data.corosync_start_delay_s, host.data.pacemaker_stonith_enabled, host.data.corosync_token_ms
    )


def wait_until_every_proxy_is_online() -> str:
    """A shell command: wait up to 120 s for every proxy to be online in Pacemaker, else fail."""
    online = " ".join(sorted(other["name"] for other in proxies()))
    return (
        "for i in $(seq 120); do "
        f"crm_mon -1 2>/dev/null | grep -q 'Online: \\[ {online} \\]' && exit 0; sleep 1; done; "
        "echo 'the proxies did not come online' >&2; crm_mon -1 >&2; exit 1"
    )


def configure_pcsd_address():
    """pcsd (the cluster's web UI and API, 2224) listens on this proxy's back address only:
    the other proxy reaches it there (/etc/hosts names the proxies by their back address)."""
    wanted = f"PCSD_BIND_ADDR='{host.data.site_addresses['back']}'"
    found = host.get_fact(FindInFile, path=PCSD_DEFAULTS, pattern=r"^PCSD_BIND_ADDR=") or []
    return server.shell(
        name=f"pcsd on the back address only ({PCSD_DEFAULTS})",
        commands=[
            f"sed -i '/^#\\?PCSD_BIND_ADDR=/d' {PCSD_DEFAULTS} && echo \"{wanted}\" >> {PCSD_DEFAULTS}"
        ],
        _if=lambda: found != [wanted],
    )


def hacluster_mark(password: str) -> bytes:
    """What HACLUSTER_MARK holds for ``password``."""
    digest = hashlib.sha256(b"hastack hacluster password\n" + password.encode()).hexdigest()
    return f"{digest}\n".encode()


def authenticate_pcsd() -> None:
    """The hacluster user's password is the site's secret, set again when that file changes (a
    digest on the host, root's, says which one is set: a password changed by hand is not seen),
    and pcsd on each proxy is authenticated to every proxy with it. The password goes through the
    commands' standard input, never a file or a command line."""
    names = [other["name"] for other in proxies()]
    password = secrets.password(host.data.site_cluster, "hacluster_password")
    mark = hacluster_mark(password)
    new_password = not secret_is_there(mark, HACLUSTER_MARK)
    if new_password:
        # chpasswd reads "user:password" lines from standard input
        server.shell(
            name="Set the hacluster password (a generated secret)",
            commands=["sed 's/^/hacluster:/' | chpasswd"],
            _stdin=f"{password}\n",
        )
        # pcsd's tokens never expire: those that others (or anyone who had the old password)
        # use with this proxy's pcsd go, on every proxy, before new ones are made
        server.shell(name="Forget pcsd's tokens of the old password", commands=["pcs pcsd deauth"])
    if new_password or not set(names) <= set(host.get_fact(PcsdKnownHosts)):
        # once every proxy has the password (pyinfra runs an operation on every host first)
        server.shell(
            name="Authenticate pcsd to the other proxies",
            commands=[f"pcs host auth {' '.join(names)} -u hacluster"],
            _stdin=f"{password}\n",
        )
    if new_password:
        files.directory(name="hastack's configuration folder", path="/etc/hastack", mode="755")
        put_secret("Note which hacluster password is set (its digest)", mark, HACLUSTER_MARK)


def configure_resources(new_cluster: bool) -> None:
    """Cluster-wide: the first proxy writes the CIB, which Pacemaker copies to the other."""
    interval = host.data.pacemaker_monitor_interval
    prefix = host.data.site_networks["front"].split("/")[1]
    if new_cluster:
        server.shell(
            name="Wait until every proxy is online in the new cluster",
            commands=[wait_until_every_proxy_is_online()],
        )
    # The fence devices exist before STONITH is switched on: with it on and no device,
    # Pacemaker would stop every resource rather than run unfenced.
    if host.data.pacemaker_stonith_enabled:
        for device in host.data.pacemaker_fence_devices:
            pacemaker.resource(
                name=f"Fence device {device['name']}",
                resource_id=device["name"],
                agent=device["agent"],
                params=device.get("options", {}),
                monitor_interval="60s",
                stonith=True,
            )
    # The side of a split that has no quorum (no qnetd vote) stops its resources: the VIP.
    pacemaker.cluster_property(
        name="No quorum: stop every resource", property_name="no-quorum-policy", value="stop"
    )
    delay = fencing_delay_s(
        host.data.pacemaker_stonith_enabled, host.data.quorum_device_host, host.data.pacemaker_fencing_delay_s
    )
    # Without a quorum device both sides of a cut have quorum: the VIP holder's fencing waits,
    # so that it shoots first (data_keys.pacemaker_fencing_delay_s).
    pacemaker.cluster_property(
        name="Fencing delay for the VIP's holder (only without a quorum device)",
        property_name="priority-fencing-delay",
        value=f"{delay}s",
    )
    pacemaker.cluster_property(
        name="STONITH as the site says",
        property_name="stonith-enabled",
        value=str(host.data.pacemaker_stonith_enabled).lower(),
    )
    pacemaker.resource_default(
        name="Resource stickiness",
        option="resource-stickiness",
        value=host.data.pacemaker_resource_stickiness,
    )
    meta = {
        "migration-threshold": host.data.pacemaker_migration_threshold,
        "failure-timeout": host.data.pacemaker_failure_timeout,
    }
    pacemaker.resource(
        name="VIP resource",
        resource_id="vip",
        agent="ocf:heartbeat:IPaddr2",
        params={"ip": host.data.site_vip, "cidr_netmask": prefix, "arp_count": VIP_ARP_COUNT},
        meta={**meta, "priority": VIP_PRIORITY},
        monitor_interval=interval,
    )
    pacemaker.resource(
        name="HAProxy resource",
        resource_id="haproxy",
        agent="systemd:haproxy",
        meta=meta,
        monitor_interval=host.data.pacemaker_haproxy_monitor_interval,
        monitor_on_fail=haproxy_on_fail(host.data.pacemaker_migration_threshold),
    )
    # HAProxy runs on every proxy (it binds the VIP with ip_nonlocal_bind): when the VIP
    # moves, HAProxy is already listening where it lands. The VIP goes only where HAProxy
    # runs; a HAProxy restarted in place leaves the VIP where it is.
    pacemaker.clone(name="HAProxy on every proxy (a clone)", resource_id="haproxy")
    pacemaker.colocation(name="The VIP runs where HAProxy runs", resource_id="vip", with_id="haproxy-clone")
    # Every node runs the agent for its own events (hastack/components/alerts.py puts it there).
    pacemaker.alert(
        name="Mail node, resource and fencing events (alert_mail_to)"
        if host.data.alert_mail_to
        else "No Pacemaker alert (alert_mail_to is empty)",
        alert_id=alerts.PACEMAKER_ALERT_ID,
        path=alerts.PACEMAKER_AGENT,
        recipient=alerts.LOCAL_RECIPIENT,
        present=bool(host.data.alert_mail_to),
    )


def fencing_delay_s(stonith: bool, quorum_device_host: str, delay_s: int) -> int:
    """Pacemaker's priority-fencing-delay: the site's with STONITH on and no quorum device
    (two sides with quorum would shoot each other at once), else 0 (only the side with
    quorum fences, and a dead VIP holder is fenced at once)."""
    return delay_s if stonith and not quorum_device_host else 0


def haproxy_on_fail(migration_threshold: int) -> str | None:
    """What a failed HAProxy monitor does. With a migration threshold of 1 (the first failure
    moves the VIP) ``standby``: the VIP leaves in the very transition that sees the failure.
    With a restart in place instead, the DC, when it is the failed proxy, plans the restart
    before the fail count that forbids the node lands, and the VIP waits for HAProxy's stop
    (2 s for a systemd resource): 2.5-2.9 s without service, against 0.3-0.6 s. Any other
    threshold keeps Pacemaker's default, a restart in place until the threshold is reached."""
    return "standby" if migration_threshold == 1 else None


# Where the fence devices' secret files are (data_keys.pacemaker_fence_secrets).
FENCE_SECRET_DIR = "/etc/hastack/fence"


def deliver_fence_secrets() -> None:
    """The site's fence secrets, each a private file in a private folder (root only), the
    ones dropped from the site removed: a fence device reads its password or key there."""
    names = list(host.data.pacemaker_fence_secrets)
    present = (
        host.get_fact(FindFiles, path=FENCE_SECRET_DIR, maxdepth=1)
        if host.get_fact(IsDirectory, path=FENCE_SECRET_DIR)
        else []
    )
    if not names and not present:
        return
    files.directory(
        name=f"A private folder for the fence secrets ({FENCE_SECRET_DIR})",
        path=FENCE_SECRET_DIR,
        user="root",
        group="root",
        mode="700",
    )
    folder = secrets.secrets_dir(host.data.site_cluster)
    for name in names:
        put_secret(f"Fence secret {name} (private)", folder / name, f"{FENCE_SECRET_DIR}/{name}")
    for path in present:
        if path.rsplit("/", 1)[-1] not in names:
            files.file(name=f"Remove {path}: no longer a fence secret of the site", path=path, present=False)


@deploy("HA: Corosync and Pacemaker")
def deploy_pacemaker() -> None:
    check_existing_cluster()
    replace_default = host.get_fact(CorosyncClusterName) != host.data.site_cluster
    install("Install the cluster stack", [*PACKAGES, platform().resource_agents_package], no_recommends=True)
    if host.data.pacemaker_stonith_enabled:
        agents = [device["agent"] for device in host.data.pacemaker_fence_devices]
        install("Install the fence agents (STONITH is on)", list(platform().fence_packages(agents)))
    deliver_fence_secrets()
    rebuilt = quorum.deploy_qdevice() if quorum.enabled() else None
    configure_corosync(replace_default, rebuilt)
    authenticate_pcsd()
    if host.name == proxies()[0]["name"]:
        configure_resources(replace_default)
