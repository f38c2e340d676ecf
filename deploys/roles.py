"""What each role gets, in order. all.py and the per-role entry points run these."""

from pyinfra import host

from deploys.base import deploy_base
from deploys.gluster import deploy_gluster
from deploys.haproxy import deploy_haproxy
from deploys.loadtest import deploy_loadtest
from deploys.monitoring import deploy_monitoring
from deploys.nginx import deploy_nginx
from deploys.pacemaker import deploy_pacemaker
from deploys.raid import deploy_raid


def deploy_web_components() -> None:
    if host.data.raid_enabled:
        deploy_raid()
    deploy_gluster()
    deploy_nginx()


# The components each role gets on top of the base layer.
ROLE_COMPONENTS = {
    # ab on the proxies too: only they reach both the VIP and the web hosts,
    # so the bench measures the proxy's cost from there on equal footing.
    "proxy": [deploy_haproxy, deploy_pacemaker, deploy_loadtest],
    "web": [deploy_web_components],
    "client": [deploy_loadtest],
}


def deploy_role(role: str) -> None:
    """Deploy this host if it belongs to ``role``; other hosts are left alone.

    The base layer is called from this one place, so that pyinfra sees one
    operation per step for every host, whatever its role, and runs it on all
    of them at once.
    """
    if role not in host.groups:
        return
    deploy_base()
    for component in ROLE_COMPONENTS[role]:
        component()
    if host.data.monitoring_enabled:
        deploy_monitoring()
