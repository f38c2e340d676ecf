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
    wanted_release,
)
from hastack.lab.engine import docker, ensure_docker
from hastack.lab.hosts import (
    container_state,
    current_hosts,
    down,
    ensure_key,
    host_named,
    images,
    lab_release,
    remove_host,
    running_release,
    ssh,
    ssh_answers,
    status,
    up,
)
from hastack.lab.images import GANGLIA_IMAGE, GANGLIA_IMAGE_RELEASE, WEB_IMAGE
from hastack.lab.layout import HOSTS, NETWORKS, SUDO_USER, VIP, LabHost, lab_hosts, needs_ganglia_image
from hastack.lab.sitefile import derived_site, site_document


def site_text(release: int | None = None, hosts: list[LabHost] | None = None) -> str:
    """The lab's site file: on a Debian release (default: the lab's) with these hosts (default:
    the lab's now)."""
    from hastack.lab import sitefile

    return sitefile.site_text(release or lab_release(), hosts or current_hosts())


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
    "lab_hosts",
    "lab_release",
    "remove_host",
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


def deploy_scale_bench(counts: list[int], say_line=print) -> list[tuple[int, int, float, float, int]]:
    """For each count of web hosts: a fresh lab (`lab down`, `lab up --web N`), the whole
    deploy timed, then its no-op re-run timed. Rows: (web hosts, hosts, deploy s, re-run s,
    operations the re-run changed). Leaves the lab up with the last count, deployed."""
    import time

    from hastack.deploying import run_deploy

    rows = []
    for count in counts:
        down()
        up(web=count)
        timings = []
        for attempt in ("deploy", "re-run"):
            started = time.monotonic()
            run = run_deploy(SITE_FILE, log=LAB_DIR / f"bench-web{count}-{attempt}.log")
            timings.append(time.monotonic() - started)
            if run.returncode != 0:
                raise LabError(
                    f"the {attempt} with {count} web hosts failed: see .lab/bench-web{count}-{attempt}.log"
                )
        rows.append((count, count + 3, timings[0], timings[1], len(run.changed_operations)))
        say_line(f"[lab] {count} web hosts: deploy {timings[0]:.0f} s, re-run {timings[1]:.0f} s")
    return rows


def scale_table(rows: list[tuple[int, int, float, float, int]]) -> str:
    lines = [
        "| web hosts | hosts | whole deploy, fresh hosts | re-run | operations the re-run changed |",
        "|---|---|---|---|---|",
    ]
    lines += [f"| {w} | {h} | {d:.0f} s | {r:.0f} s | {c} |" for w, h, d, r, c in rows]
    return "\n".join(lines)


def main(args) -> int:
    try:
        if args.lab_command == "up":
            up(args.debian, args.web)
        elif args.lab_command == "images":
            release = args.debian or wanted_release()
            say(f"Debian {release}: base image {images(release)}, NGINX's image {WEB_IMAGE.name(release)}")
            if needs_ganglia_image(release):
                say(f"and Ganglia's image {GANGLIA_IMAGE.name(GANGLIA_IMAGE_RELEASE)}")
        elif args.lab_command == "down":
            down()
        elif args.lab_command == "status":
            return status()
        elif args.lab_command == "ssh":
            return ssh(args.host, args.remote_command)
        elif args.lab_command == "guard":
            from hastack.lab import guard

            if args.reset:
                guard.reset()
            print(guard.describe())
            found = guard.report()
            return 0 if found is None or found[0] == 0 else 1
        elif args.lab_command == "bench":
            print(scale_table(deploy_scale_bench(args.web)))
    except LabError as error:
        print(f"[lab] error: {error}", file=sys.stderr)
        return 1
    return 0
