"""The lab: real test hosts on this machine, reached over SSH like servers.

Each host is a systemd container in Docker, built from Debian packages (no
image is pulled), on two Docker networks that stand for the site's back and
front networks. ``hastack lab up`` also writes the lab's site file, which
``hastack check`` accepts and ``inventory.py`` reads through HASTACK_SITE.

One module per job: ``common`` (folders, names, errors), ``engine`` (the Docker
engine), ``images`` (the one image builder, for the containers and the VM),
``hosts`` (networks, containers, SSH; up, down, status), ``sitefile`` (the lab's
site file) and ``vm`` (the RAID VM). This module is their public face.
"""

from __future__ import annotations

import sys

from hastack.defaults import ROOT
from hastack.lab.common import (
    DEFAULT_RELEASE,
    KEY_FILE,
    KNOWN_HOSTS,
    LAB_DIR,
    LABEL,
    MIRROR,
    PREFIX,
    RELEASES,
    SITE_FILE,
    LabError,
    run,
    say,
)
from hastack.lab.engine import docker, ensure_docker
from hastack.lab.hosts import (
    HOSTS,
    NETWORKS,
    SUDO_USER,
    VIP,
    LabHost,
    container_state,
    down,
    ensure_key,
    host_named,
    lab_release,
    running_release,
    ssh,
    ssh_answers,
    status,
    up,
)
from hastack.lab.sitefile import derived_site, site_document, site_text

__all__ = [
    "HOSTS",
    "KEY_FILE",
    "KNOWN_HOSTS",
    "LAB_DIR",
    "LABEL",
    "MIRROR",
    "NETWORKS",
    "PREFIX",
    "ROOT",
    "SITE_FILE",
    "SUDO_USER",
    "DEFAULT_RELEASE",
    "RELEASES",
    "VIP",
    "LabError",
    "LabHost",
    "container_state",
    "deploy_into_lab",
    "derived_site",
    "docker",
    "ensure_docker",
    "down",
    "ensure_key",
    "host_named",
    "lab_release",
    "running_release",
    "main",
    "run",
    "say",
    "site_document",
    "site_text",
    "ssh",
    "ssh_answers",
    "status",
    "up",
]


def deploy_into_lab():
    """Bring the lab up and run deploys/all.py into it; the DeployRun (log: .lab/deploy.log)."""
    from hastack.deploying import run_deploy

    up()
    return run_deploy(SITE_FILE, log=LAB_DIR / "deploy.log")


def main(args) -> int:
    try:
        if args.lab_command == "up":
            up(args.debian)
        elif args.lab_command == "down":
            down()
        elif args.lab_command == "status":
            return status()
        elif args.lab_command == "ssh":
            return ssh(args.host, args.remote_command)
    except LabError as error:
        print(f"[lab] error: {error}", file=sys.stderr)
        return 1
    return 0
