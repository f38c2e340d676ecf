"""Client and proxy hosts: the tools that load-test the cluster (hastack bench), and the CA
that issued the VIP's certificate, trusted system-wide so that they verify it."""

import io
from pathlib import Path

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.operations import files, server

from hastack import tls
from hastack.components.host_os import install, platform


def ca_file() -> str:
    return f"{platform().ca_anchor_dir}/hastack-{host.data.site_cluster}.crt"


@deploy("Client: load-test tools")
def deploy_loadtest() -> None:
    install("Install ApacheBench and curl", [platform().ab_package, "curl", "ca-certificates"])
    ca = tls.client_ca(host.data.site_cluster, host.data.tls_certificate)
    if host.data.tls_acme_directory and host.data.tls_acme_ca_bundle:
        # A private ACME server's CA, besides the site CA (served until the first issuance).
        ca = (ca or b"") + Path(host.data.tls_acme_ca_bundle).read_bytes()
    if ca is None:
        # A public CA issued the site's certificate: the system trusts it already.
        anchor = files.file(name="No site CA to trust", path=ca_file(), present=False)
    else:
        anchor = files.put(
            name="Trust the CA of the VIP's certificate", src=io.BytesIO(ca), dest=ca_file(), mode="644"
        )
    server.shell(
        name="Add it to the system's CA bundle",
        commands=[platform().ca_update_command],
        _if=anchor.did_change,
    )
