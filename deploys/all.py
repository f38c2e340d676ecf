"""The one entry point: every component, dispatched by the host's group.

pyinfra inventory.py deploys/all.py
"""

from deploys.roles import ROLE_COMPONENTS, deploy_role

for role in ROLE_COMPONENTS:
    deploy_role(role)
