"""Client and proxy hosts: the tools that load-test the cluster (hastack bench)."""

from pyinfra.api import deploy
from pyinfra.operations import apt


@deploy("Client: load-test tools")
def deploy_loadtest() -> None:
    apt.packages(
        name="Install ApacheBench and curl", packages=["apache2-utils", "curl"], update=True, cache_time=3600
    )
