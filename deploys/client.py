"""Deploy the client hosts again, alone: pyinfra inventory.py deploys/client.py"""

from pyinfra import host

from deploys.base import deploy_base

if "client" in host.groups:
    deploy_base()
