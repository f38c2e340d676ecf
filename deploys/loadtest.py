"""Client and proxy hosts: the tools that load-test the cluster (hastack bench)."""

from pyinfra.api import deploy

from deploys.host_os import install, platform


@deploy("Client: load-test tools")
def deploy_loadtest() -> None:
    install("Install ApacheBench and curl", [platform().ab_package, "curl"])
