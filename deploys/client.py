"""Deploy the client hosts again, alone: pyinfra inventory.py deploys/client.py"""

from hastack.components.roles import deploy_role

deploy_role("client")
