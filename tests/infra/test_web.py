"""Web tier on the web hosts: Docker, NGINX in compose, serving /cluster/www."""

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from hastack import lab
from hastack.deploying import run_deploy
from hastack.probe import http_get as get

pytestmark = pytest.mark.roles("web")


def back_url(site, name: str, path: str = "/") -> str:
    return f"http://{site.hosts[name].addresses['back']}{path}"


def host_name(host, site) -> str:
    address = host.backend.host.name
    return next(h.name for h in site.hosts.values() if h.connect_address == address)


def test_docker_running(host):
    assert host.service("docker").is_running


def test_docker_enabled(host):
    assert host.service("docker").is_enabled


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


@pytest.mark.lab
def test_crashed_nginx_comes_back_by_itself(host, site, lab_mode):
    """The NGINX master (started by the deploy) is killed: Docker's restart policy brings it back."""
    if not lab_mode:
        pytest.fail("this test kills NGINX, so it runs against the lab only (unset HASTACK_SITE)")
    restarts = int(host.check_output("docker inspect -f '{{.RestartCount}}' hastack-web"))
    host.check_output("kill -9 $(docker inspect -f '{{.State.Pid}}' hastack-web)")
    started = time.monotonic()
    while time.monotonic() - started < 30:
        if get(back_url(site, host_name(host, site), "/healthz"), timeout=2)[0] == 200:
            break
        time.sleep(0.5)
    print(f"\nNGINX answered again {time.monotonic() - started:.1f} s after the kill")
    after = int(host.check_output("docker inspect -f '{{.RestartCount}}' hastack-web"))
    assert (get(back_url(site, host_name(host, site), "/healthz"))[0], after) == (200, restarts + 1)


@pytest.mark.lab
def test_config_change_under_load_drops_no_request(site, lab_mode, deployed):
    """A new NGINX configuration is deployed while requests stream to both web hosts."""
    if not lab_mode:
        pytest.fail("this test redeploys, so it runs against the lab only (unset HASTACK_SITE)")
    changed = lab.derived_site(lab.LAB_DIR / "site-web-change.yaml", web_keepalive_timeout=30)
    urls = [back_url(site, h.name) for h in site.hosts_in("web")]
    with ThreadPoolExecutor(max_workers=4) as pool:
        deploy = pool.submit(run_deploy, changed, "deploys/web.py")
        results = []
        while not deploy.done() and len(results) < 20000:
            results += list(pool.map(lambda url: get(url, timeout=5)[0], urls * 4))
        run = deploy.result()
    restore = run_deploy(lab.SITE_FILE, "deploys/web.py")
    failed = [status for status in results if status != 200]
    print(f"\n{len(results)} requests during the change, {len(failed)} failed")
    assert (
        run.returncode,
        "Reload NGINX with the new configuration" in run.output,
        failed,
        restore.returncode,
    ) == (
        0,
        True,
        [],
        0,
    )
