"""Deploy the proxy hosts again, alone: pyinfra inventory.py deploys/proxy.py"""

from pyinfra import host

from deploys.base import deploy_base

if "proxy" in host.groups:
    deploy_base()
