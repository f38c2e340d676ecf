"""The one entry point: every component, dispatched by the host's group.

pyinfra inventory.py deploys/all.py
"""

from deploys.roles import ROLES, deploy_role

for role in ROLES:
    deploy_role(role)
