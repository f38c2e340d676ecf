"""Web, web hosts: Docker engine and NGINX (compose) serving the site from /cluster."""

import math
from io import StringIO

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.operations import files, server

from hastack import topology
from hastack.components.docker import compose_command, provide_image
from hastack.defaults import ROOT
from hastack.facts.docker import DockerContainerRunning, EntryCount
from hastack.facts.http import HttpStatus
from hastack.operations.files import render_template, start_after_mount, validated_file
from hastack.rules import haproxy_seconds

TEMPLATES = ROOT / "templates" / "web"
CONTAINER = "hastack-web"
DOCKER_MOUNT_DROPIN = "/etc/systemd/system/docker.service.d/10-hastack-volume.conf"
START_NGINX = "Start NGINX, one web host at a time, and wait until it is healthy and back in HAProxy"


def _template(name: str, **data) -> str:
    return render_template(str(TEMPLATES / name), **data)


# NGINX's /healthz answers from this file of hastack's on the volume, whatever the shop
# publishes: 200 while the volume can be read, 503 otherwise (HAProxy then takes the host out).
HEALTH_DIR = ".hastack"
HEALTH_FILE = "healthz"
HEALTH_TEXT = "hastack: this web host reads the volume\n"


def health_dir() -> str:
    return f"{host.data.gluster_mount_point}/{HEALTH_DIR}"


def place_health_file() -> None:
    """Every web host sees to it (the same file on the shared volume: no change after the
    first), so a web host deployed alone (--limit) finds it before NGINX asks for it."""
    files.directory(name=f"hastack's folder on the volume ({health_dir()})", path=health_dir())
    # One web host after the other: two creating the same file on the volume at once can fail
    # one of them ("File exists", seen in CI's Debian 12 pass).
    files.put(
        name="The health file NGINX's /healthz answers from",
        src=StringIO(HEALTH_TEXT),
        dest=f"{health_dir()}/{HEALTH_FILE}",
        mode="644",
        _serial=True,
    )


def place_sample_content() -> None:
    content_dir = host.data.web_content_dir
    first_web = topology.in_role(host.data.site_hosts, "web")[0]["name"]
    # The content is shared on /cluster: one host places it, and only into an empty folder,
    # and only while the site wants the sample (web_sample_page).
    if host.name != first_web or not host.data.web_sample_page:
        return
    files.directory(name=f"Create {content_dir}", path=content_dir)
    if host.get_fact(EntryCount, path=content_dir) == 0:
        files.template(
            name="Place the sample shop page (the folder is empty)",
            src=str(TEMPLATES / "index.html.j2"),
            dest=f"{content_dir}/index.html",
            cluster=host.data.site_cluster,
        )


def configure_nginx() -> None:
    compose_dir = host.data.web_compose_dir
    conf_dir = f"{compose_dir}/conf"
    files.directory(name=f"Create {conf_dir}", path=conf_dir)
    conf = validated_file(
        name="Configure NGINX (validated by nginx -t in the image)",
        dest=f"{conf_dir}/nginx.conf",
        content=_template(
            "nginx.conf.j2",
            port=host.data.web_port,
            keepalive_timeout=host.data.web_keepalive_timeout,
            monitoring_port=host.data.monitoring_enabled and host.data.monitoring_web_port,
        ),
        validate=(
            f"docker run --rm --network none -v {conf_dir}:{conf_dir}:ro {host.data.web_image} "
            "nginx -t -q -c {path}"
        ),
    )
    compose = files.template(
        name="Write the compose project",
        src=str(TEMPLATES / "docker-compose.yml.j2"),
        dest=f"{compose_dir}/docker-compose.yml",
        image=host.data.web_image,
        compose_dir=compose_dir,
        content_dir=host.data.web_content_dir,
        health_dir=health_dir(),
        container=CONTAINER,
    )
    health = f"http://127.0.0.1:{host.data.web_port}/healthz"
    # HAProxy puts the host back after `rise` good checks: the next web host goes down only then,
    # or for those seconds neither would be in rotation (every request a 503).
    back_in = math.ceil(host.data.haproxy_check_rise * haproxy_seconds(host.data.haproxy_check_interval)) + 1
    running = host.get_fact(DockerContainerRunning, container=CONTAINER)
    # Running but not healthy (say, bound to the empty folder below a volume mounted after it
    # started): made again, which binds the volume as it is now.
    sick = running and host.get_fact(HttpStatus, url=health) != 200
    recreate = " --force-recreate" if sick else ""
    server.shell(
        name=START_NGINX,
        commands=[
            f"{compose_command()} -p hastack-web -f {compose_dir}/docker-compose.yml up -d --remove-orphans"
            + recreate,
            f"for i in $(seq 60); do curl -fsS -o /dev/null {health} && sleep {back_in} && exit 0; "
            "sleep 1; done; "
            f"echo 'NGINX not healthy after 60 s' >&2; exit 1",
        ],
        _serial=True,
        _if=lambda: compose.did_change() or not running or sick,
    )
    server.shell(
        name="Reload NGINX with the new configuration",
        commands=[f"docker exec {CONTAINER} nginx -s reload -c /etc/nginx/hastack/nginx.conf"],
        _if=conf.did_change,
    )


def start_docker_after_the_volume() -> None:
    """Docker (and so the NGINX container) starts only once the GlusterFS volume is mounted:
    otherwise a slow mount at boot leaves NGINX bound to an empty folder of the root
    filesystem (Docker creates a missing bind source), which the mount never replaces."""
    start_after_mount(
        "Docker",
        DOCKER_MOUNT_DROPIN,
        host.data.gluster_mount_point,
        "Managed by hastack (hastack/components/nginx.py): NGINX serves the GlusterFS volume.",
    )


@deploy("Web: Docker and NGINX")
def deploy_nginx() -> None:
    start_docker_after_the_volume()
    provide_image(host.data.web_image, host.data.web_image_archive)
    place_health_file()
    place_sample_content()
    configure_nginx()
