"""Proxy, proxy hosts: HAProxy in front of the web hosts, run by Pacemaker with the VIP."""

import shlex

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.facts.files import File
from pyinfra.operations import files, server, systemd

from hastack import acme, alerts, hsts, secrets, tls, topology
from hastack.components.host_os import install, platform, put_secret
from hastack.defaults import ROOT
from hastack.facts.haproxy import HaproxyServers
from hastack.facts.pacemaker import CibConfiguration
from hastack.operations.files import render_template, validated_file

TEMPLATES = ROOT / "templates" / "proxy"
# HAProxy's certificate file: certificate, chain and key (HAProxy reads it as root).
CERTIFICATE_DIR = "/etc/haproxy/certs"


def certificate_file() -> str:
    return f"{CERTIFICATE_DIR}/{host.data.site_cluster}.pem"


def acme_thumbprint() -> str:
    """The ACME account key's thumbprint HAProxy answers challenges with; empty without ACME."""
    if not host.data.tls_acme_directory:
        return ""
    return acme.thumbprint(acme.account_key(host.data.site_cluster).read_bytes())


def haproxy_config() -> str:
    servers = [
        {"name": other["name"], "address": other["addresses"]["back"], "port": other["web_port"]}
        for other in topology.in_role(host.data.site_hosts, "web")
    ]
    return render_template(
        str(TEMPLATES / "haproxy.cfg.j2"),
        vip=host.data.site_vip,
        https_port=host.data.https_port,
        https_suffix="" if host.data.https_port == 443 else f":{host.data.https_port}",
        certificate=certificate_file(),
        hsts_max_age=hsts.max_age(
            host.data.tls_hsts_max_age,
            host.data.tls_certificate,
            host.data.tls_acme_directory,
            host.data.tls_acme_ca_bundle,
        ),
        acme_thumbprint=acme_thumbprint(),
        acme_path=acme.CHALLENGE_PATH,
        tls_groups=platform().tls_groups,
        servers=servers,
        retries=host.data.haproxy_retries,
        timeout_connect=host.data.haproxy_timeout_connect,
        timeout_client=host.data.haproxy_timeout_client,
        timeout_server=host.data.haproxy_timeout_server,
        check_interval=host.data.haproxy_check_interval,
        check_fall=host.data.haproxy_check_fall,
        error_limit=host.data.haproxy_error_limit,
        check_rise=host.data.haproxy_check_rise,
        stats_address=host.data.site_addresses["back"],
        stats_port=host.data.haproxy_stats_port,
        server_state_file=SERVER_STATE_FILE,
        stats_user=host.data.haproxy_stats_user,
        stats_password=secrets.password(host.data.site_cluster, "haproxy_stats_password"),
        monitoring_port=host.data.monitoring_enabled and host.data.monitoring_web_port,
        admin_sources=topology.admin_web_sources(
            host.data.site_hosts, host.data.site_vip, host.data.admin_web_networks
        ),
        alert_relay=alert_relay(),
        alert_port=alerts.PROXY_RELAY_PORT,
    )


def alert_relay() -> str | None:
    """Where HAProxy passes the back-only hosts' alert mail on (``host:port``), if any does."""
    if not host.data.alert_mail_to or not alerts.routed_through_proxies(host.data.site_hosts):
        return None
    name, port = alerts.relay_parts(host.data.alert_relay)
    return f"{name}:{port}"


@deploy("Proxy: HAProxy")
def deploy_haproxy() -> None:
    install("Install HAProxy", ["haproxy", "curl"])
    # Pacemaker starts and stops HAProxy with the VIP; systemd must not start it at boot.
    systemd.service(name="Leave HAProxy to Pacemaker at boot", service="haproxy", running=None, enabled=False)
    # HAProxy binds the VIP: let it start (and reload) on a proxy that does not
    # hold the VIP yet, so a start racing the VIP never fails for good.
    server.sysctl(
        name="Allow binding the VIP before it is here",
        key="net.ipv4.ip_nonlocal_bind",
        value=1,
        persist=True,
        persist_file="/etc/sysctl.d/60-hastack.conf",
    )
    cib = host.get_fact(CibConfiguration)
    if not cib or "haproxy" not in cib["resources"]:
        # Until Pacemaker runs it, the copy the package started must not run
        # on both proxies at once.
        systemd.service(name="Stop the HAProxy the package started", service="haproxy", running=False)
    files.directory(
        name="HAProxy's certificate folder (root only)",
        path=CERTIFICATE_DIR,
        mode="700",
        user="root",
        group="root",
    )
    pem = tls.listener_pem(
        host.data.site_cluster,
        host.data.site_vip,
        host.data.tls_certificate,
        host.data.tls_key,
        host.data.tls_names,
    )
    if host.data.tls_acme_directory and host.get_fact(File, path=certificate_file()):
        # ACME's certificate, or the site CA's until the first is issued (hastack/components/acme.py)
        certificate = None
    else:
        certificate = put_secret("HAProxy's certificate, chain and key (0600)", pem, certificate_file())
    config = validated_file(
        name="Configure HAProxy (validated by haproxy -c)",
        dest="/etc/haproxy/haproxy.cfg",
        content=haproxy_config(),
        validate="haproxy -c -f {path}",
        mode="640",
        group="haproxy",
    )
    server.shell(
        name="Reload HAProxy where it runs, its servers' states kept (no restart: the VIP stays)",
        commands=[f"{SAVE_SERVER_STATE}; systemctl try-reload-or-restart haproxy"],
        _if=lambda: config.did_change() or (certificate is not None and certificate.did_change()),
    )


# The longest a web host that leaves the site is given to finish its requests in HAProxy.
DRAIN_SECONDS = 60
ADMIN_SOCKET = "/run/haproxy/admin.sock"
# Where HAProxy keeps its servers' runtime states across a reload or a restart (an operator's
# MAINT or DRAIN), and how they are saved there: nothing to save where HAProxy is not running.
SERVER_STATE_FILE = "/var/lib/haproxy/server-state"
# HAProxy takes a server's address and port from the state file over its configuration, so a
# saved line is kept only when the configuration still has that server at that address and
# port (``show servers state``, version 1: $2 backend, $4 server, $5 address, $19 port); a
# server whose port or address changed starts afresh from the configuration.
_KEEP_CURRENT = (
    'NR == FNR { if ($1 == "backend" || $1 == "listen") b = $2; '
    'if ($1 == "server") { n = split($3, a, ":"); ok[b " " $2 " " a[1] " " a[n]] = 1 }; next } '
    'FNR <= 2 || /^#/ || (($2 " " $4 " " $5 " " $19) in ok)'
)
SAVE_SERVER_STATE = (
    f"if [ -S {ADMIN_SOCKET} ] && systemctl is-active -q haproxy; then "
    f"echo 'show servers state' | socat stdio {ADMIN_SOCKET} > {SERVER_STATE_FILE}.all "
    f"&& awk {shlex.quote(_KEEP_CURRENT)} /etc/haproxy/haproxy.cfg {SERVER_STATE_FILE}.all "
    f"> {SERVER_STATE_FILE}.new && mv {SERVER_STATE_FILE}.new {SERVER_STATE_FILE}; "
    f"rm -f {SERVER_STATE_FILE}.all; fi"
)


def drain_command(server_name: str) -> str:
    """Drain one server in the HAProxy that runs here (through its admin socket), then wait
    until it has no session left, at most DRAIN_SECONDS; nothing to do where HAProxy is not
    running."""
    stat = f"echo 'show stat' | socat stdio {ADMIN_SOCKET}"
    return (
        f"[ -S {ADMIN_SOCKET} ] && systemctl is-active -q haproxy || exit 0; "
        f"echo 'set server web/{server_name} state drain' | socat stdio {ADMIN_SOCKET}; "
        f"for i in $(seq {DRAIN_SECONDS}); do "
        f'n=$({stat} | awk -F, \'$1 == "web" && $2 == "{server_name}" {{ print $5 }}\'); '
        '[ "${n:-0}" -eq 0 ] && exit 0; sleep 1; done; '
        f"echo '{server_name} still has sessions after {DRAIN_SECONDS}s; the reload lets them finish'"
    )


@deploy("Proxy: drain the web hosts that leave")
def drain_departing() -> None:
    """A web host gone from the site is drained in HAProxy first (no new request goes to it,
    those under way finish), before its brick leaves the volume and the new configuration,
    without it, is loaded."""
    install("Install socat (HAProxy's admin socket)", ["socat"])
    wanted = {other["name"] for other in topology.in_role(host.data.site_hosts, "web")}
    for server_name in host.get_fact(HaproxyServers, backend="web"):
        if server_name not in wanted:
            server.shell(
                name=f"Drain {server_name} in HAProxy (it leaves the site)",
                commands=[drain_command(server_name)],
            )
