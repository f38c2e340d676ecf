"""Docker engine, on the hosts that run containers: the web hosts (NGINX), and every host
whose OS has no Ganglia packages (gmond, gmetad). Images come from a registry, or from
an archive uploaded from the machine running pyinfra."""

from __future__ import annotations

import re

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.operations import files, server, systemd

from hastack.components.host_os import install, platform, role
from hastack.defaults import ROOT
from hastack.facts.docker import DockerImageId
from hastack.operations.files import render_template, validated_file


def needs_docker() -> bool:
    return role() == "web" or (bool(host.data.monitoring_enabled) and platform().ganglia_in_container)


def compose_command() -> str:
    return platform().compose


def provide_image(image: str, archive: str) -> None:
    """Make ``image`` present in the host's Docker: load it from ``archive``, else pull it."""
    if host.get_fact(DockerImageId, image=image) is not None:
        return
    if archive:
        upload = "/var/tmp/hastack-" + re.sub(r"[^A-Za-z0-9.-]+", "-", image) + ".tar"
        files.put(name=f"Upload the {image} archive", src=archive, dest=upload)
        server.shell(
            name=f"Load {image} into Docker", commands=[f"docker load -i {upload}", f"rm -f {upload}"]
        )
    else:
        server.shell(name=f"Pull {image}", commands=[f"docker pull {image}"])


@deploy("Docker engine")
def deploy_docker() -> None:
    files.directory(name="Create /etc/docker", path="/etc/docker")
    # Before the package: Docker's first start already rotates logs and keeps
    # containers running across daemon restarts.
    daemon = validated_file(
        name="Configure the Docker daemon (validated as JSON)",
        dest="/etc/docker/daemon.json",
        content=render_template(
            str(ROOT / "templates" / "web" / "daemon.json.j2"),
            log_max_size=host.data.docker_log_max_size,
            log_max_files=host.data.docker_log_max_files,
        ),
        validate="python3 -m json.tool {path} >/dev/null",
    )
    packages = install("Install Docker and compose", [*platform().docker_packages, "curl"])
    systemd.service(name="Run Docker", service="docker", running=True, enabled=True)
    systemd.service(
        name="Reload Docker's configuration",
        service="docker",
        reloaded=True,
        _if=lambda: daemon.did_change() and not packages.did_change(),
    )
