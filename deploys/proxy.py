"""Deploy the proxy hosts again, alone: pyinfra inventory.py deploys/proxy.py"""

from hastack.components.roles import deploy_role

deploy_role("proxy")
