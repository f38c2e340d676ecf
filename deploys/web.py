"""Deploy the web hosts again, alone: pyinfra inventory.py deploys/web.py"""

from deploys.roles import deploy_role

deploy_role("web")
