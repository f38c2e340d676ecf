"""The one entry point: every component, dispatched by the host's group.

pyinfra inventory.py deploys/all.py
"""

from hastack.components.roles import deploy_role
from hastack.topology import ROLES

for role in ROLES:
    deploy_role(role)
