"""Web, web hosts: Docker engine and NGINX (compose) serving the site from /cluster."""

import math
from io import StringIO

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.facts.systemd import SystemdStatus
from pyinfra.operations import files, server, systemd

from hastack import topology
from hastack.components.docker import compose_command, provide_image
from hastack.defaults import ROOT
from hastack.facts.docker import DockerContainerRunning, EntryCount
from hastack.facts.http import HttpStatus
from hastack.operations.files import render_template, validated_file
from hastack.rules import haproxy_seconds

TEMPLATES = ROOT / "templates" / "web"
CONTAINER = "hastack-web"
# NGINX's own unit: it starts the compose project once the volume is mounted (retrying the
# mount), so Docker itself no longer waits for the volume.
WEB_UNIT = "hastack-web"
WEB_UNIT_FILE = f"/etc/systemd/system/{WEB_UNIT}.service"
WEB_START_SCRIPT = "/usr/local/lib/hastack/web-start"
# How often the start tries the mount again, and how many failed tries between two messages.
MOUNT_RETRY_S = 5
MOUNT_RETRY_SAY_EVERY = 60
# The drop-in by which Docker itself waited for the volume, before hastack-web.service: removed.
OLD_DOCKER_MOUNT_DROPIN = "/etc/systemd/system/docker.service.d/10-hastack-volume.conf"
START_NGINX = "Start NGINX, one web host at a time, and wait until it is healthy and back in HAProxy"
# Where the compose project binds hastack's health folder in the container.
HEALTH_IN_CONTAINER = "/srv/hastack"


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
        health_in_container=HEALTH_IN_CONTAINER,
        container=CONTAINER,
    )
    unit_changed = web_unit(compose_dir)
    health = f"http://127.0.0.1:{host.data.web_port}/healthz"
    # HAProxy puts the host back after `rise` good checks: the next web host goes down only then,
    # or for those seconds neither would be in rotation (every request a 503).
    back_in = math.ceil(host.data.haproxy_check_rise * haproxy_seconds(host.data.haproxy_check_interval)) + 1
    running = host.get_fact(DockerContainerRunning, container=CONTAINER)
    # Running but not healthy (say, bound to the empty folder below a volume mounted after it
    # started): the unit's start makes it again, which binds the volume as it is now.
    sick = running and host.get_fact(HttpStatus, url=health) != 200
    unit_active = host.get_fact(SystemdStatus).get(f"{WEB_UNIT}.service", False)
    server.shell(
        name=START_NGINX,
        commands=[
            # The old NGINX stopped first (waited on; by Docker too where an older hastack ran it
            # without the unit), and the health read only once the unit's start has finished, so
            # it is the new one's. The start is not waited on: it tries the mount again for as
            # long as it takes.
            f"systemctl stop {WEB_UNIT}",
            f"docker stop {CONTAINER} >/dev/null 2>&1 || true",
            f"systemctl start --no-block {WEB_UNIT}",
            f"for i in $(seq 60); do systemctl -q is-active {WEB_UNIT} && curl -fsS -o /dev/null {health} "
            f"&& sleep {back_in} && exit 0; "
            "sleep 1; done; "
            "echo 'NGINX not healthy after 60 s:' >&2; "
            f"systemctl status --no-pager -n 5 {WEB_UNIT} >&2; exit 1",
        ],
        _serial=True,
        _if=lambda: compose.did_change() or unit_changed() or not running or sick or not unit_active,
    )
    server.shell(
        name="Reload NGINX with the new configuration",
        commands=[f"docker exec {CONTAINER} nginx -s reload -c /etc/nginx/hastack/nginx.conf"],
        _if=conf.did_change,
    )


def web_unit(compose_dir: str):
    """hastack-web.service and its start script: NGINX starts once the GlusterFS volume is
    mounted, the mount tried again until the volume answers (started before, NGINX would bind
    the empty folder beneath, which the mount never replaces). Returns a callable: whether
    either changed in this run."""
    compose_file = f"{compose_dir}/docker-compose.yml"
    script_dir = WEB_START_SCRIPT.rsplit("/", 1)[0]
    files.directory(name=f"Create {script_dir}", path=script_dir)
    script = files.template(
        name=f"NGINX's start, once {host.data.gluster_mount_point} is mounted ({WEB_START_SCRIPT})",
        src=str(TEMPLATES / "hastack-web-start.sh.j2"),
        dest=WEB_START_SCRIPT,
        mode="755",
        mount_point=host.data.gluster_mount_point,
        retry_seconds=MOUNT_RETRY_S,
        say_every=MOUNT_RETRY_SAY_EVERY,
        unit=f"{WEB_UNIT}.service",
        compose=compose_command(),
        compose_file=compose_file,
        container=CONTAINER,
        health_in_container=f"{HEALTH_IN_CONTAINER}/{HEALTH_FILE}",
    )
    unit = files.template(
        name=f"NGINX's unit ({WEB_UNIT}.service)",
        src=str(TEMPLATES / "hastack-web.service.j2"),
        dest=WEB_UNIT_FILE,
        mode="644",
        mount_point=host.data.gluster_mount_point,
        start_script=WEB_START_SCRIPT,
        retry_seconds=MOUNT_RETRY_S,
        compose=_compose_path(),
        compose_file=compose_file,
    )
    # Docker no longer waits for the volume (hastack before this unit made it).
    old = files.file(
        name="Docker no longer waits for the volume", path=OLD_DOCKER_MOUNT_DROPIN, present=False
    )
    systemd.daemon_reload(name=f"Load {WEB_UNIT}.service", _if=lambda: unit.did_change() or old.did_change())
    # Enabled only: NGINX's start below, one web host at a time, starts it.
    systemd.service(name=f"Start {WEB_UNIT}.service at boot", service=WEB_UNIT, running=None, enabled=True)
    return lambda: script.did_change() or unit.did_change()


def _compose_path() -> str:
    """The compose command with an absolute path, as a unit's ExecStop= wants it."""
    words = compose_command().split()
    return " ".join([f"/usr/bin/{words[0]}", *words[1:]])


@deploy("Web: Docker and NGINX")
def deploy_nginx() -> None:
    provide_image(host.data.web_image, host.data.web_image_archive)
    place_health_file()
    place_sample_content()
    configure_nginx()
