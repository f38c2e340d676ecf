"""Proxy, proxy hosts: HAProxy in front of the web hosts, run by Pacemaker with the VIP."""

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.operations import server, systemd

from deploys.host_os import install
from hastack import secrets, topology
from hastack.defaults import ROOT
from hastack.facts.pacemaker import CibConfiguration
from hastack.operations.files import render_template, validated_file

TEMPLATES = ROOT / "templates" / "proxy"


def haproxy_config() -> str:
    servers = [
        {"name": other["name"], "address": other["addresses"]["back"], "port": host.data.web_port}
        for other in topology.in_role(host.data.site_hosts, "web")
    ]
    return render_template(
        str(TEMPLATES / "haproxy.cfg.j2"),
        vip=host.data.site_vip,
        servers=servers,
        retries=host.data.haproxy_retries,
        timeout_connect=host.data.haproxy_timeout_connect,
        timeout_client=host.data.haproxy_timeout_client,
        timeout_server=host.data.haproxy_timeout_server,
        check_interval=host.data.haproxy_check_interval,
        check_fall=host.data.haproxy_check_fall,
        check_rise=host.data.haproxy_check_rise,
        stats_address=host.data.site_addresses["back"],
        stats_port=host.data.haproxy_stats_port,
        stats_user=host.data.haproxy_stats_user,
        stats_password=secrets.password(host.data.site_cluster, "haproxy_stats_password"),
        monitoring_port=host.data.monitoring_enabled and host.data.monitoring_web_port,
    )


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
    config = validated_file(
        name="Configure HAProxy (validated by haproxy -c)",
        dest="/etc/haproxy/haproxy.cfg",
        content=haproxy_config(),
        validate="haproxy -c -q -f {path}",
        mode="640",
        group="haproxy",
    )
    server.shell(
        name="Reload HAProxy where it runs (no restart: the VIP stays)",
        commands=["systemctl try-reload-or-restart haproxy"],
        _if=config.did_change,
    )
