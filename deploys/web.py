"""Deploy the web hosts again, alone: pyinfra inventory.py deploys/web.py"""

from pyinfra import host

from deploys.base import deploy_base
from deploys.gluster import deploy_gluster

if "web" in host.groups:
    deploy_base()
    deploy_gluster()
