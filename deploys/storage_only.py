"""The web hosts' storage alone: pyinfra inventory.py deploys/storage_only.py --limit web1 --limit web2

The preflight, the base layer (names, addresses), the RAID-1 and the GlusterFS volume with its
mount at boot, in the order deploys/all.py runs them, without Docker and NGINX. Used by the
storage VM test, whose two VMs are the site's web hosts (the site has no arbiter there).
"""

from pyinfra import host

from hastack.components.base import deploy_base
from hastack.components.firewall import rpcbind_off
from hastack.components.gluster import deploy_gluster
from hastack.components.host_os import preflight, refuse_a_brick_on_the_root_filesystem
from hastack.components.raid import deploy_raid

if "web" in host.groups:
    preflight()
    refuse_a_brick_on_the_root_filesystem()
    deploy_base()
    rpcbind_off()
    if host.data.raid_enabled:
        deploy_raid()
    deploy_gluster()
