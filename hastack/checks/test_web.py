"""Web tier on the web hosts: Docker, NGINX in compose, serving /cluster/www."""

import json

import pytest

from hastack.checks.plugin import back_url
from hastack.checks.plugin import get_from_proxy as get
from hastack.checks.plugin import site_host_name as host_name
from hastack.components.nginx import HEALTH_DIR, HEALTH_FILE, HEALTH_TEXT, WEB_START_SCRIPT, WEB_UNIT

LAYER = "web"
pytestmark = pytest.mark.roles("web")


def test_docker_running(host):
    assert host.service("docker").is_running


def test_docker_enabled(host):
    assert host.service("docker").is_enabled


def test_nginx_unit_enabled_and_active(host):
    """hastack-web.service starts NGINX at boot, once the volume is mounted."""
    state = host.run(f"systemctl is-enabled {WEB_UNIT}; systemctl is-active {WEB_UNIT}").stdout.split()
    assert state == ["enabled", "active"], host.run(f"systemctl status --no-pager -n 5 {WEB_UNIT}").stdout


def test_nginx_unit_mounts_the_sites_volume(host, site):
    """The unit's start mounts (and retries) the site's mount point before starting NGINX."""
    mount_point = site.setting("gluster_mount_point", site.hosts[host_name(host, site)])
    script = host.file(WEB_START_SCRIPT).content_string
    assert f"mount_point='{mount_point}'" in script.splitlines()


def test_docker_does_not_wait_for_the_volume(host, site):
    """Only NGINX's unit waits for the volume: Docker and its other containers start without it,
    and a restart of Docker (live-restore) does not stop NGINX."""
    mount_point = site.setting("gluster_mount_point", site.hosts[host_name(host, site)])
    unit = host.check_output(f"systemd-escape -p --suffix=mount {mount_point}")
    docker = host.check_output(
        "systemctl show -p Requires -p RequiresMountsFor --value docker.service"
    ).split()
    web = host.check_output(f"systemctl show -p Requires -p After --value {WEB_UNIT}").split()
    assert (unit in docker, mount_point in docker, "docker.service" in web) == (False, False, True)


def test_docker_keeps_containers_across_daemon_restarts(host):
    assert host.check_output("docker info --format '{{.LiveRestoreEnabled}}'") == "true"


def test_docker_rotates_logs(host):
    assert host.check_output("docker info --format '{{.LoggingDriver}}'") == "json-file"


def test_nginx_container_running(host):
    assert host.check_output("docker inspect -f '{{.State.Running}}' hastack-web") == "true"


def test_nginx_container_restarts_unless_stopped(host):
    """Docker brings a crashed NGINX back; stopped by its unit (at shutdown), it stays stopped
    until the unit starts it, once the volume is mounted."""
    policy = host.check_output("docker inspect -f '{{.HostConfig.RestartPolicy.Name}}' hastack-web")
    assert policy == "unless-stopped"


def test_content_is_mounted_read_only(host):
    mounts = host.check_output(
        "docker inspect -f '{{range .Mounts}}{{.Destination}}:{{.RW}} {{end}}' hastack-web"
    ).split()
    assert "/srv/www:false" in mounts


@pytest.mark.when_set("web_sample_page")
def test_web_host_serves_the_sample_page(host, site, connect):
    """Where the site places hastack's sample page (web_sample_page); a site that publishes its
    own content sets it false, and only the health below is checked."""
    status, body = get(connect, site, back_url(site, host_name(host, site)))
    assert (status, f"Welcome to the {site.cluster} shop" in body) == (200, True), (
        "the shop does not serve hastack's sample page: once your own content is published, "
        "set web_sample_page: false"
    )


def test_healthz_answers_200_from_hastacks_file_on_the_volume(host, site, connect):
    """/healthz answers hastack's own file on the volume, whatever the shop publishes."""
    status, body = get(connect, site, back_url(site, host_name(host, site), "/healthz"))
    assert (status, body.strip()) == (200, HEALTH_TEXT.strip()), (
        f"NGINX's /healthz does not read {web_setting(host, site, 'gluster_mount_point')}/{HEALTH_DIR}/"
        f"{HEALTH_FILE}: is the volume mounted? (`hastack status`; deploy the web hosts again)"
    )


def test_access_log_records_the_request_id(host, site, connect):
    get(connect, site, back_url(site, host_name(host, site)), headers={"X-Request-ID": "rid-test-42"})
    assert "rid=rid-test-42" in host.check_output("docker logs --tail 20 hastack-web 2>&1")


def web_setting(host, site, key: str):
    return site.setting(key, site.hosts[host_name(host, site)])


def test_nginx_runs_the_sites_settings(host, site):
    """What NGINX runs with (nginx -T in the container), not only what was written."""
    conf = host.check_output("docker exec hastack-web nginx -T -c /etc/nginx/hastack/nginx.conf 2>/dev/null")
    lines = {line.strip() for line in conf.splitlines()}
    wanted = {
        f"keepalive_timeout {web_setting(host, site, 'web_keepalive_timeout')};",
        f"listen {web_setting(host, site, 'web_port')} default_server;",
    }
    assert sorted(wanted - lines) == []


def test_nginx_container_is_the_sites_compose_project_and_content(host, site):
    shown = host.check_output(
        'docker inspect -f \'{{index .Config.Labels "com.docker.compose.project.working_dir"}} '
        "{{range .Mounts}}{{.Source}}:{{.Destination}} {{end}}' hastack-web"
    ).split()
    assert (shown[0], f"{web_setting(host, site, 'web_content_dir')}:/srv/www" in shown[1:]) == (
        web_setting(host, site, "web_compose_dir"),
        True,
    )


def test_container_logs_rotate_as_the_site_says(host, site):
    config = json.loads(host.check_output("docker inspect -f '{{json .HostConfig.LogConfig}}' hastack-web"))
    assert config == {
        "Type": "json-file",
        "Config": {
            "max-file": str(web_setting(host, site, "docker_log_max_files")),
            "max-size": str(web_setting(host, site, "docker_log_max_size")),
        },
    }
