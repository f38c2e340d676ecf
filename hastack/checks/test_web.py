"""Web tier on the web hosts: Docker, NGINX in compose, serving /cluster/www."""

import pytest

from hastack.checks.plugin import back_url
from hastack.checks.plugin import site_host_name as host_name
from hastack.probe import http_get as get

LAYER = "web"
pytestmark = pytest.mark.roles("web")


def test_docker_running(host):
    assert host.service("docker").is_running


def test_docker_enabled(host):
    assert host.service("docker").is_enabled


def test_docker_starts_only_after_the_volume_is_mounted(host, site):
    """systemd orders Docker after the GlusterFS mount and requires it (boot order)."""
    mount_point = site.setting("gluster_mount_point", site.hosts[host_name(host, site)])
    unit = host.check_output(f"systemd-escape -p --suffix=mount {mount_point}")
    shown = host.check_output("systemctl show -p After -p Requires -p RequiresMountsFor docker.service")
    props = dict(line.split("=", 1) for line in shown.splitlines())
    ordered = (unit in props["After"].split(), unit in props["Requires"].split())
    assert (ordered, props["RequiresMountsFor"]) == ((True, True), mount_point)


def test_docker_keeps_containers_across_daemon_restarts(host):
    assert host.check_output("docker info --format '{{.LiveRestoreEnabled}}'") == "true"


def test_docker_rotates_logs(host):
    assert host.check_output("docker info --format '{{.LoggingDriver}}'") == "json-file"


def test_nginx_container_running(host):
    assert host.check_output("docker inspect -f '{{.State.Running}}' hastack-web") == "true"


def test_nginx_container_restarts_always(host):
    assert host.check_output("docker inspect -f '{{.HostConfig.RestartPolicy.Name}}' hastack-web") == "always"


def test_content_is_mounted_read_only(host):
    mounts = host.check_output(
        "docker inspect -f '{{range .Mounts}}{{.Destination}}:{{.RW}} {{end}}' hastack-web"
    ).split()
    assert "/srv/www:false" in mounts


def test_web_host_serves_the_sample_page(host, site):
    status, body = get(back_url(site, host_name(host, site)))
    assert (status, f"Welcome to the {site.cluster} shop" in body) == (200, True)


def test_healthz_answers_200(host, site):
    assert get(back_url(site, host_name(host, site), "/healthz"))[0] == 200


def test_access_log_records_the_request_id(host, site):
    get(back_url(site, host_name(host, site)), headers={"X-Request-ID": "rid-test-42"})
    assert "rid=rid-test-42" in host.check_output("docker logs --tail 20 hastack-web 2>&1")
