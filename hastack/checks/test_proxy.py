"""Proxy tier: HAProxy behind the Pacemaker/Corosync VIP."""

import hashlib
import stat

import pytest

from hastack import secrets
from hastack.probe import http_get

PROXY = pytest.mark.roles("proxy")

LAYER = "proxy/HA"


@PROXY
def test_haproxy_config_is_valid(host):
    assert host.run("haproxy -c -q -f /etc/haproxy/haproxy.cfg").rc == 0


@PROXY
def test_haproxy_left_to_pacemaker(host):
    assert not host.service("haproxy").is_enabled


@PROXY
@pytest.mark.parametrize("service", ["corosync", "pacemaker"])
def test_cluster_service_running(host, service):
    assert host.service(service).is_running


@PROXY
def test_crm_verify_is_clean(host):
    result = host.run("crm_verify -L")
    assert (result.rc, result.stdout + result.stderr) == (0, "")


@PROXY
def test_every_proxy_is_a_cluster_member(host, site):
    members = sorted(line.split()[1] for line in host.check_output("crm_node -l").splitlines())
    assert members == sorted(p.name for p in site.hosts_in("proxy"))


@PROXY
def test_corosync_uses_two_connected_links(host):
    status = host.check_output("corosync-cfgtool -s")
    assert ("LINK ID 0" in status, "LINK ID 1" in status, "disconnected" in status) == (True, True, False)


@PROXY
def test_corosync_encrypts(host):
    conf = host.file("/etc/corosync/corosync.conf").content_string
    assert ("crypto_cipher: aes256" in conf, "crypto_hash: sha256" in conf) == (True, True)


@PROXY
def test_authkey_is_private(host):
    assert host.file("/etc/corosync/authkey").mode == 0o400


@PROXY
def test_authkey_is_the_kept_secret(host, site):
    kept = secrets.key_file(site.cluster, "corosync_authkey").read_bytes()
    assert host.check_output("sha256sum /etc/corosync/authkey").split()[0] == hashlib.sha256(kept).hexdigest()


@pytest.mark.parametrize("name", ["corosync_authkey", "haproxy_stats_password", "hacluster_password"])
def test_secret_files_are_private(site, deployed, name):
    mode = stat.S_IMODE((secrets.secrets_dir(site.cluster) / name).stat().st_mode)
    assert mode == 0o600


def test_vip_is_on_exactly_one_proxy(vip_holders):
    assert len(vip_holders()) == 1


@pytest.mark.roles("client")
def test_client_gets_the_shop_through_the_vip(host, site):
    page = host.check_output(f"curl -fsS http://{site.vip}/")
    assert f"Welcome to the {site.cluster} shop" in page


@pytest.mark.roles("client")
def test_client_gets_200_from_healthz_through_the_vip(host, site):
    assert host.check_output(f"curl -s -o /dev/null -w '%{{http_code}}' http://{site.vip}/healthz") == "200"


@pytest.fixture
def stats_url(site, vip_holders) -> str:
    active = site.hosts[vip_holders()[0]]
    return f"http://{active.addresses['back']}:{site.setting('haproxy_stats_port', active)}/"


def test_stats_page_refuses_without_password(stats_url):
    assert http_get(stats_url)[0] == 401


def test_stats_page_answers_with_password(site, stats_url, vip_holders):
    password = secrets.password(site.cluster, "haproxy_stats_password")
    user = site.setting("haproxy_stats_user", site.hosts[vip_holders()[0]])
    assert http_get(stats_url, auth=(user, password))[0] == 200
