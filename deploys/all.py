"""The one entry point: every component, dispatched by the host's group.

pyinfra inventory.py deploys/all.py
"""

from pyinfra import host

from deploys.base import deploy_base
from deploys.gluster import deploy_gluster

deploy_base()
if "web" in host.groups:
    deploy_gluster()
