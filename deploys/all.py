"""The one entry point: every component, dispatched by the host's group.

pyinfra inventory.py deploys/all.py
"""

from deploys.base import deploy_base

deploy_base()
