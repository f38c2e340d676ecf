"""What each role gets, in order. all.py and the per-role entry points run these.

Every component is called from one line here, whatever the host's role, so
that pyinfra sees one operation per step for all hosts and orders the steps
the same way for every role (the GlusterFS arbiter, a proxy, installs
glusterd before the first web host probes it).
"""

from pyinfra import host

from hastack.components.acme import deploy_acme_certificate, refuse_an_acme_directory_that_does_not_answer
from hastack.components.alerts import deploy_alerts, refuse_another_mail_server
from hastack.components.backup import deploy_backup, refuse_an_old_restic
from hastack.components.base import deploy_base
from hastack.components.docker import deploy_docker, needs_docker
from hastack.components.firewall import deploy_firewall, rpcbind_off
from hastack.components.gluster import deploy_gluster
from hastack.components.haproxy import deploy_haproxy, drain_departing
from hastack.components.host_os import preflight, refuse_a_brick_on_the_root_filesystem
from hastack.components.loadtest import deploy_loadtest
from hastack.components.monitoring import deploy_monitoring
from hastack.components.nginx import deploy_nginx
from hastack.components.pacemaker import deploy_pacemaker
from hastack.components.quorum import deploy_qnetd
from hastack.components.raid import deploy_raid


def deploy_role(role: str) -> None:
    """Deploy this host if it belongs to ``role``; other hosts are left alone."""
    if role not in host.groups:
        return
    preflight()
    refuse_a_brick_on_the_root_filesystem()
    refuse_another_mail_server()
    refuse_an_old_restic()
    refuse_an_acme_directory_that_does_not_answer()
    deploy_base()
    # Before GlusterFS's packages, which bring rpcbind.
    rpcbind_off()
    # Early: the allow list follows the site, not what runs yet, and the steps below need it
    # (a site that switches monitoring on: Cacti's setup asks SNMP through the new rules).
    deploy_firewall()
    # Before Pacemaker: its alert agent is on every proxy before the alert names it.
    deploy_alerts()
    if needs_docker():
        deploy_docker()
    if role == "web" and host.data.raid_enabled:
        deploy_raid()
    if role == "proxy":
        # before the volume loses a leaving web host's brick
        drain_departing()
    if role == "web" or host.name == host.data.gluster_arbiter:
        deploy_gluster()
    if role == "web":
        deploy_nginx()
    if role == "proxy":
        deploy_haproxy()
        deploy_pacemaker()
        # Once HAProxy runs on the VIP's holder: it answers the ACME server's challenges.
        deploy_acme_certificate()
    # ab on the proxies too: only they reach both the VIP and the web hosts,
    # so the bench measures the proxy's cost from there on equal footing.
    if host.name == host.data.quorum_device_host:
        deploy_qnetd()
    if role in ("proxy", "client"):
        deploy_loadtest()
    if host.data.monitoring_enabled:
        deploy_monitoring()
    # After Cacti (its database is what a proxy backs up); the repository host's account too.
    deploy_backup()
