"""Failures and changes of the web tier, in the lab: NGINX crashes, a configuration changes
under load."""

import time

import pytest

from hastack import lab
from hastack.checks.plugin import back_url, get_from_proxy
from hastack.checks.plugin import site_host_name as host_name
from hastack.components.nginx import CONTAINER, HEALTH_FILE, HEALTH_IN_CONTAINER, START_NGINX, WEB_UNIT
from hastack.deploying import run_deploy
from tests.harness import restart_lab_host

pytestmark = [pytest.mark.lab, pytest.mark.roles("web")]


def test_crashed_nginx_comes_back_by_itself(host, site, lab_mode, connect):
    """The NGINX master (started by the deploy) is killed: Docker's restart policy brings it back."""
    if not lab_mode:
        pytest.fail("this test kills NGINX, so it runs against the lab only (unset HASTACK_SITE)")
    restarts = int(host.check_output("docker inspect -f '{{.RestartCount}}' hastack-web"))
    host.check_output("kill -9 $(docker inspect -f '{{.State.Pid}}' hastack-web)")
    started = time.monotonic()
    while time.monotonic() - started < 30:
        if (
            get_from_proxy(connect, site, back_url(site, host_name(host, site), "/healthz"), timeout=2)[0]
            == 200
        ):
            break
        time.sleep(0.5)
    print(f"\nNGINX answered again {time.monotonic() - started:.1f} s after the kill")
    after = int(host.check_output("docker inspect -f '{{.RestartCount}}' hastack-web"))
    healthz = get_from_proxy(connect, site, back_url(site, host_name(host, site), "/healthz"))[0]
    assert (healthz, after) == (200, restarts + 1)


def test_config_change_under_load_drops_no_request(site, lab_mode, deployed, connect):
    """A new NGINX configuration is deployed while requests stream to both web hosts (from a
    proxy: with the firewall on, only the proxies reach the web hosts' port)."""
    if not lab_mode:
        pytest.fail("this test redeploys, so it runs against the lab only (unset HASTACK_SITE)")
    changed = lab.derived_site(lab.LAB_DIR / "site-web-change.yaml", web_keepalive_timeout=30)
    urls = " ".join(back_url(site, h.name) for h in site.hosts_in("web"))
    proxy = connect(site.hosts_in("proxy")[0].name)
    stream = "/run/hastack-test-stream"
    proxy.check_output(
        f"rm -rf {stream} && mkdir {stream} && systemd-run --quiet --collect --unit=hastack-test-stream "
        f"sh -c 'while [ ! -e {stream}/stop ]; do for url in {urls}; do "
        f'curl -s -m 5 -o /dev/null -w "%{{http_code}}\\n" $url; done; done > {stream}/statuses\''
    )
    try:
        run = run_deploy(changed, "deploys/web.py")
    finally:
        proxy.check_output(
            f"touch {stream}/stop; while systemctl -q is-active hastack-test-stream; do sleep 0.2; done"
        )
    results = [int(line) for line in proxy.file(f"{stream}/statuses").content_string.split()]
    restore = run_deploy(lab.SITE_FILE, "deploys/web.py")
    failed = [status for status in results if status != 200]
    print(f"\n{len(results)} requests during the change, {len(failed)} failed")
    assert (
        run.returncode,
        "Reload NGINX with the new configuration" in run.output,
        len(results) > 50,
        failed,
        restore.returncode,
    ) == (
        0,
        True,
        True,
        [],
        0,
    )


def test_nginx_bound_to_an_empty_folder_is_made_again_by_a_deploy(host, site, lab_mode, connect):
    """A container that started before the volume was there (its content an empty folder:
    /healthz answers 503) is recreated by the next deploy, and serves the volume again."""
    if not lab_mode:
        pytest.fail("this test breaks NGINX's content, so it runs against the lab only (unset HASTACK_SITE)")
    name = host_name(host, site)
    volume = site.setting("gluster_mount_point", site.hosts[name])
    compose = f"{site.setting('web_compose_dir', site.hosts[name])}/docker-compose.yml"
    # An empty tmpfs over the whole volume's mount point while the container is made (Docker
    # makes the folders it binds, the shop's and hastack's health folder), then gone from the
    # host: the container keeps empty folders, as one started before the mount does.
    # The tmpfs goes whatever the container does (the volume would stay hidden under it).
    host.check_output(
        f"mount -t tmpfs none {volume} && {{ docker rm -f hastack-web && "
        f"(docker compose version >/dev/null 2>&1 && c='docker compose' || c=docker-compose; "
        f"$c -p hastack-web -f {compose} up -d); rc=$?; umount -l {volume}; exit $rc; }}"
    )
    healthz = back_url(site, name, "/healthz")
    time.sleep(2)
    before = get_from_proxy(connect, site, healthz)[0]
    run = run_deploy(lab.SITE_FILE, "deploys/web.py", "--limit", name, log=lab.LAB_DIR / f"sick-{name}.log")
    after = get_from_proxy(connect, site, healthz)[0]
    assert (before, run.returncode, run.changed_operations, after) == (
        503,
        0,
        [f"Web: Docker and NGINX | {START_NGINX} (1 hosts)"],
        200,
    )


def test_a_rebooted_web_host_starts_nginx_after_its_mount_and_serves_the_content(site, lab_mode, connect):
    """A clean reboot (systemd, PID 1 of the lab's container, halts and boots again): NGINX's
    container starts only once the GlusterFS volume is mounted, sees the volume, and NGINX serves
    its content."""
    if not lab_mode:
        pytest.fail("this test reboots a web host, so it runs against the lab only (unset HASTACK_SITE)")
    name = site.hosts_in("web")[-1].name
    remote = restart_lab_host(connect, name)
    mount_point = site.setting("gluster_mount_point", site.hosts[name])
    mount_unit = remote.check_output(f"systemd-escape -p --suffix=mount {mount_point}")
    deadline, status, body = time.monotonic() + 180, None, ""
    while time.monotonic() < deadline and status != 200:
        time.sleep(2)
        status, body = get_from_proxy(connect, site, back_url(site, name, "/"))
    # both in seconds since the epoch
    mounted, started = (
        float(value)
        for value in remote.check_output(
            f'date -d "$(systemctl show --timestamp=us+utc -p ActiveEnterTimestamp --value {mount_unit})" '
            "+%s.%N; "
            f"date -d \"$(docker inspect -f '{{{{.State.StartedAt}}}}' {CONTAINER})\" +%s.%N"
        ).split()
    )
    sees = remote.run(f"docker exec {CONTAINER} test -e {HEALTH_IN_CONTAINER}/{HEALTH_FILE}").rc
    assert (
        0 < mounted <= started,
        sees,
        status,
        f"Welcome to the {site.cluster} shop" in body,
        remote.check_output(f"systemctl is-active {WEB_UNIT}"),
    ) == (True, 0, 200, True, "active")


BLOCK_TABLE = "hastack_test_volfile"


def test_nginx_waits_for_a_volume_that_does_not_answer_and_the_mount_is_tried_again(site, lab_mode, connect):
    """The volume does not answer (every volfile server's port, 24007, refused from the web host)
    when NGINX's unit starts with /cluster unmounted, as at a boot where glusterd is slow: the
    unit waits, trying the mount again, while Docker runs; once the volume answers, it mounts it
    and NGINX serves, with no one stepping in."""
    if not lab_mode:
        pytest.fail(
            "this test unmounts a web host's volume, so it runs against the lab only (unset HASTACK_SITE)"
        )
    name = site.hosts_in("web")[-1].name
    remote = connect(name)
    mount_point = site.setting("gluster_mount_point", site.hosts[name])
    healthz = back_url(site, name, "/healthz")
    since = remote.check_output(
        f"date +%s; systemctl stop {WEB_UNIT}; umount {mount_point} || umount -l {mount_point}"
    )
    try:
        remote.check_output(
            f"nft add table inet {BLOCK_TABLE} && "
            f"nft add chain inet {BLOCK_TABLE} out '{{ type filter hook output priority 0; }}' && "
            f"nft add rule inet {BLOCK_TABLE} out tcp dport 24007 reject with tcp reset && "
            f"systemctl start --no-block {WEB_UNIT}"
        )
        time.sleep(15)
        waiting = remote.run(
            f"systemctl is-active {WEB_UNIT} docker; "
            f"mountpoint -q {mount_point} && echo mounted || echo not; "
            f"docker inspect -f '{{{{.State.Running}}}}' {CONTAINER}"
        ).stdout.split()
        proxied = get_from_proxy(connect, site, healthz)[0]
    finally:
        remote.run(f"nft delete table inet {BLOCK_TABLE}")
    unblocked = time.monotonic()
    status = None
    while time.monotonic() - unblocked < 60 and status != 200:
        time.sleep(1)
        status = get_from_proxy(connect, site, healthz, timeout=2)[0]
    print(f"\nNGINX answered {time.monotonic() - unblocked:.1f} s after the volume answered again")
    # The GlusterFS client the start mounted with is the mount's, not the service's: a restart
    # of the service leaves the volume mounted.
    # ... and the same container: made again only when it does not see the volume.
    container = f"docker inspect -f '{{{{.Id}}}}' {CONTAINER}"
    before = remote.check_output(container)
    remote.check_output(f"systemctl restart {WEB_UNIT}")
    kept = (remote.run(f"mountpoint -q {mount_point}").rc, remote.check_output(container) == before)
    tries = remote.check_output(
        f"journalctl -u {WEB_UNIT} --since @{since.split()[0]} --no-pager -o cat "
        "| grep -c 'is not mounted' || true"
    )
    assert (
        waiting,
        proxied,
        status,
        int(tries) >= 1,
        kept,
        remote.check_output(f"systemctl is-active {WEB_UNIT}"),
    ) == (
        ["activating", "active", "not", "false"],
        0,
        200,
        True,
        (0, True),
        "active",
    )
