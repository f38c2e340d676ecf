"""Deploy the web hosts again, alone: pyinfra inventory.py deploys/web.py"""

from hastack.components.roles import deploy_role

deploy_role("web")
