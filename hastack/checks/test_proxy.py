"""Proxy tier: HAProxy behind the Pacemaker/Corosync VIP."""

import hashlib
import ipaddress
import shlex
import stat
import time
import xml.etree.ElementTree as ET

import pytest

from hastack import hsts, secrets, tls, topology
from hastack.checks.plugin import host_platform, site_host_name
from hastack.components.haproxy import ADMIN_SOCKET
from hastack.components.pacemaker import (
    FENCE_SECRET_DIR,
    HACLUSTER_MARK,
    PCSD_STOP_TIMEOUT_S,
    PCSD_UNITS,
    RUNNING_AUTHKEY,
    START_DELAY_DROPIN,
    VIP_ARP_COUNT,
    hacluster_mark,
    haproxy_on_fail,
)
from hastack.health import backend_problems, node_problems
from hastack.probe import http_get
from hastack.timings import (
    SYSTEMD_START_TIMEOUT_S,
    backend_settle_s,
    corosync_start_delay_s,
    start_sleeps,
    systemd_span_s,
)

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
@pytest.mark.parametrize("unit", PCSD_UNITS)
def test_pcsd_stops_within_its_bound(host, unit):
    """pcsd runs, and a restart cannot wait systemd's default 90 s on its hung daemons."""
    shown = host.run(f"systemctl show {unit} -p ActiveState -p TimeoutStopUSec").stdout.splitlines()
    assert sorted(shown) == ["ActiveState=active", f"TimeoutStopUSec={PCSD_STOP_TIMEOUT_S}s"], (
        f"{unit}: {shown}; its drop-in /etc/systemd/system/{unit}.service.d/hastack-stop-timeout.conf "
        "bounds its stop: deploy the proxy again"
    )


@PROXY
def test_crm_verify_is_clean(host):
    result = host.run("crm_verify -L")
    assert (result.rc, result.stdout + result.stderr) == (0, "")


@PROXY
def test_every_proxy_is_a_cluster_member(host, site):
    members = sorted(line.split()[1] for line in host.check_output("crm_node -l").splitlines())
    assert members == sorted(p.name for p in site.hosts_in("proxy"))


@PROXY
def test_every_proxy_is_online_and_can_take_the_vip(host, site):
    """A proxy that is offline, unclean, in standby or in maintenance leaves the VIP with no
    place to go: the cluster is degraded (`crm_node -l` above lists lost nodes too)."""
    problems = node_problems(
        host.check_output("crm_mon -1 --output-as=xml"), [p.name for p in site.hosts_in("proxy")]
    )
    assert not problems, "; ".join(f"{name} is {what}" for name, what in problems.items())


SHOW_STAT = f"echo 'show stat' | socat stdio {ADMIN_SOCKET}"


@PROXY
def test_haproxy_sends_to_every_web_host(host, site):
    """Each web host is UP in HAProxy's web backend, on every proxy (either may hold the VIP)."""
    name = site.hosts[site_host_name(host, site)]
    settle = backend_settle_s(
        site.setting("haproxy_check_interval", name),
        site.setting("haproxy_check_rise", name),
        site.setting("haproxy_check_fall", name),
    )
    # a web host that has just come back (a deploy restarts NGINX) is UP after its checks
    deadline = time.monotonic() + settle
    webs = [w.name for w in site.hosts_in("web")]
    while (problems := backend_problems(host.check_output(SHOW_STAT), webs)) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not problems, "; ".join(f"{name} is {what}" for name, what in problems.items())


@PROXY
def test_the_fence_secrets_are_on_the_proxy_privately(host, site):
    """Each of the site's fence secrets, the same as kept, root's alone in a 0700 folder;
    nothing else there."""
    names = sorted(site.setting("pacemaker_fence_secrets", site.hosts[site_host_name(host, site)]))
    folder = host.file(FENCE_SECRET_DIR)
    if not names and not folder.exists:
        return
    found = {}
    for path in host.run(f"find {FENCE_SECRET_DIR} -mindepth 1 -maxdepth 1 -type f").stdout.splitlines():
        remote = host.file(path)
        digest = host.check_output(f"sha256sum {shlex.quote(path)}").split()[0]
        found[path.rsplit("/", 1)[-1]] = (remote.user, oct(remote.mode), digest)
    kept = {
        name: (
            "root",
            "0o600",
            hashlib.sha256((secrets.secrets_dir(site.cluster) / name).read_bytes()).hexdigest(),
        )
        for name in names
    }
    assert ((folder.user, oct(folder.mode)), found) == (("root", "0o700"), kept), (
        f"{FENCE_SECRET_DIR} differs from the site's pacemaker_fence_secrets: deploy the proxies"
    )


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


@PROXY
def test_corosync_runs_the_kept_authkey(host, site):
    """The key corosync read at its start or at hastack's last reload (noted by both) is the kept
    one: a rotation that a failed proxy cut short shows here until a deploy finishes it."""
    kept = hashlib.sha256(secrets.key_file(site.cluster, "corosync_authkey").read_bytes()).hexdigest()
    noted = host.file(RUNNING_AUTHKEY)
    running = noted.content_string.strip() if noted.exists else "(not noted)"
    assert running == kept, (
        f"corosync runs an authkey other than the kept one ({RUNNING_AUTHKEY}: {running[:12]}): deploy "
        "the proxies, all of them in one run (it reloads corosync with the kept key)"
    )


@PROXY
def test_the_hacluster_password_set_is_the_kept_secret(host, site):
    """The digest the deploy notes when it sets the hacluster password is the kept secret's: a
    new secret file is set on the next deploy (the rotation in docs/real-servers.md)."""
    mark = host.file(HACLUSTER_MARK)
    wanted = hacluster_mark(secrets.password(site.cluster, "hacluster_password")).decode()
    found = (mark.user, oct(mark.mode), mark.content_string) if mark.exists else None
    assert found == ("root", oct(0o600), wanted), (
        f"{HACLUSTER_MARK} is {'not the kept password' if found else 'missing'}: the hacluster password "
        "set is not known to be the site's. Deploy the proxies (deploys/proxy.py): it sets it"
    )


def test_secret_files_are_private(site, deployed):
    """The site's secrets folder on this machine is the owner's alone (0700), and so is every
    file in it (0600): the generated passwords and keys, the quorum device's material, the
    site CA. Corosync's key is always among them (the deploy made or used it)."""
    folder = secrets.secrets_dir(site.cluster)
    modes = {path.name: oct(stat.S_IMODE(path.stat().st_mode)) for path in folder.iterdir()}
    assert (
        oct(stat.S_IMODE(folder.stat().st_mode)),
        {name: mode for name, mode in modes.items() if mode != oct(0o600)},
        "corosync_authkey" in modes,
    ) == (oct(0o700), {}, True), f"{folder}: {modes}"


def test_vip_is_on_exactly_one_proxy(vip_holders):
    assert len(vip_holders()) == 1


@pytest.mark.roles("client")
@pytest.mark.when_set("web_sample_page")
def test_client_gets_the_shop_through_the_vip(host, site):
    """Over HTTPS, verified with the CAs the client trusts (the deploy added the site CA)."""
    page = host.check_output(f"curl {site.curl_to_vip} -fsS {site.url('/')}")
    assert f"Welcome to the {site.cluster} shop" in page


@pytest.mark.roles("client")
def test_client_gets_200_from_healthz_through_the_vip(host, site):
    assert (
        host.check_output(
            f"curl {site.curl_to_vip} -s -o /dev/null -w '%{{http_code}}' {site.url('/healthz')}"
        )
        == "200"
    )


@pytest.mark.roles("client")
@pytest.mark.parametrize("path", ["/", "/cacti/?x=1", "/ganglia/"])
def test_plain_http_answers_301_to_the_same_url_over_https(host, site, path):
    answer = host.check_output(
        f"curl {site.curl_to_vip} -s -o /dev/null -w '%{{http_code}} %{{redirect_url}}' "
        f"'{site.url(path, scheme='http')}'"
    )
    assert answer == f"301 {site.url(path)}"


@pytest.mark.roles("client")
def test_https_answers_carry_hsts(host, site):
    headers = (
        host.check_output(f"curl {site.curl_to_vip} -fsS -o /dev/null -D - {site.url('/')}")
        .lower()
        .splitlines()
    )
    age = hsts.max_age(
        site.proxy_setting("tls_hsts_max_age"),
        site.proxy_setting("tls_certificate"),
        site.proxy_setting("tls_acme_directory"),
        site.proxy_setting("tls_acme_ca_bundle"),
    )
    wanted = f"strict-transport-security: max-age={age}"
    assert [line.strip() for line in headers if line.startswith("strict-transport-security")] == [wanted]


def statuses_from(host, urls: list[str], options: str = "") -> dict[str, str]:
    """url -> HTTP status of a GET from this host (000: nothing answered within 3 s), all at once,
    each path sent as written (//x and /./x too); ``options``: curl's (``Site.curl_to_vip``)."""
    out = host.run(
        f"curl {options} -s --path-as-is --parallel --connect-timeout 3 -m 5 "
        "-w '%{url} %{http_code}\\n' " + " ".join(f"-o /dev/null {shlex.quote(url)}" for url in urls)
    ).stdout
    return dict(line.split(" ", 1) for line in out.splitlines() if " " in line)


@pytest.mark.roles("client")
@pytest.mark.when_set("monitoring_enabled")  # one value for the whole cluster (cross_rules)
def test_admin_pages_answer_403_to_a_client_outside_admin_web_networks(host, site):
    """The customers' side: /cacti/ and /ganglia/ through the VIP answer 403 unless the site's
    admin_web_networks holds this client's address, also when the path is written another way
    that the web hosts' NGINX reads as /ganglia/; the shop answers all the same."""
    me = site.hosts[site_host_name(host, site)]
    sources = topology.admin_web_sources(
        site.topology_hosts(), site.vip, site.proxy_setting("admin_web_networks")
    )
    address = ipaddress.ip_address(me.addresses["front"])
    listed = any(address in ipaddress.ip_network(source, strict=False) for source in sources)
    urls = [site.url("/cacti/"), site.url("/ganglia/"), site.url("/healthz")]
    wanted = dict(zip(urls, ["200", "200", "200"] if listed else ["403", "403", "200"], strict=True))
    if not listed:
        other_ways = ("//ganglia/", "/./ganglia/", "/%67anglia/")
        wanted.update(dict.fromkeys([site.url(path) for path in other_ways], "403"))
    assert statuses_from(host, list(wanted), site.curl_to_vip) == wanted, (
        f"{me.name} ({address}) is {'' if listed else 'not '}in admin_web_networks "
        f"{site.proxy_setting('admin_web_networks')} or a proxy's address"
    )


@pytest.mark.roles("client")
def test_haproxy_stats_do_not_answer_the_customers_side(host, site):
    """HAProxy's stats page listens on each proxy's back address only: from a client, neither
    the VIP nor a proxy's front or back address answers on its port."""
    urls = [
        f"http://{address}:{site.setting('haproxy_stats_port', proxy)}/"
        for proxy in site.hosts_in("proxy")
        for address in [site.vip, *proxy.addresses.values()]
    ]
    urls = list(dict.fromkeys(urls))
    assert statuses_from(host, urls) == dict.fromkeys(urls, "000")


@pytest.mark.roles("client")
@pytest.mark.parametrize("flag, version", [("--http2", "2"), ("--http1.1", "1.1")])
def test_alpn_offers_http2_and_http1(host, site, flag, version):
    out = host.check_output(
        f"curl {site.curl_to_vip} -fsS -o /dev/null {flag} -w '%{{http_version}}' {site.url('/')}"
    )
    assert out == version


def s_client(site, options: str) -> str:
    port = site.proxy_setting("https_port")
    return f"openssl s_client -connect {site.vip}:{port} {site.servername_option}{options} </dev/null 2>&1"


@pytest.mark.roles("client")
@pytest.mark.parametrize(
    "version, accepted", [("-tls1", False), ("-tls1_1", False), ("-tls1_2", True), ("-tls1_3", True)]
)
def test_only_tls_12_and_13_are_accepted(host, site, version, accepted):
    # SECLEVEL=0: the client's own OpenSSL would refuse TLS 1.0/1.1 itself; the listener must.
    result = host.run(s_client(site, f"{version} -cipher 'DEFAULT:@SECLEVEL=0'"))
    negotiated = result.rc == 0 and "Cipher is (NONE)" not in result.stdout
    assert negotiated == accepted, result.stdout[-600:]


# Groups OpenSSL 3 offers by default besides the profile's: HTTPS must refuse each.
GROUPS_REFUSED = ("X448", "secp521r1", "ffdhe2048")


@PROXY
def test_https_offers_the_profiles_key_exchange_groups_only(host, site):
    """HAProxy's HTTPS listener names the groups of this release's profile (platforms.Platform.
    tls_groups); on the VIP's holder, a handshake limited to each of them succeeds and one
    limited to any other group OpenSSL offers by default fails (TLS 1.3, where the client
    names its groups)."""
    wanted = host_platform(host, site).tls_groups
    config = host.file("/etc/haproxy/haproxy.cfg").content_string
    named = [
        line.split(" curves ", 1)[1].split()[0] if " curves " in line else "(none)"
        for line in config.splitlines()
        if " ssl crt " in line
    ]
    live = {}
    if host.run(f"ip -o -4 addr show | grep -q ' {site.vip}/'").rc == 0:
        for group in [*wanted.split(":"), *GROUPS_REFUSED]:
            result = host.run(s_client(site, f"-tls1_3 -groups {group}"))
            live[group] = result.rc == 0 and "Cipher is (NONE)" not in result.stdout
    expected = {group: group in wanted.split(":") for group in live}
    assert (named, live) == ([wanted], expected), (
        f"HTTPS on the VIP does not offer exactly the key-exchange groups {wanted} (configured: "
        f"{', '.join(named)}; handshakes: {live or 'not this proxy, which does not hold the VIP'}): "
        "deploy the proxies"
    )


@pytest.mark.roles("client")
def test_the_vip_serves_the_sites_certificate(host, site):
    """The leaf served is the site's own certificate, or the one hastack issued (kept with the
    secrets): a deploy that did not reach HAProxy shows here. With ACME: one for tls_names, not
    the site CA's, whose chain this host trusts."""
    if site.proxy_setting("tls_acme_directory"):
        assert served_acme_certificate(host, site) == (0, True, sorted(site.proxy_setting("tls_names")))
        return
    served = host.check_output(s_client(site, "") + " | openssl x509 -noout -fingerprint -sha256").split(
        "=", 1
    )[1]
    wanted = tls.served_fingerprint_wanted(
        site.cluster, str(site.vip), site.proxy_setting("tls_certificate"), site.proxy_setting("tls_names")
    )
    assert served == wanted


def served_acme_certificate(host, site) -> tuple[int, bool, list[str]]:
    """With ACME: (the handshake's verification on this host, for tls_names[0]: 0 when the chain
    leads to a CA it trusts and the name matches; not the site CA's; the names it carries)."""
    name = site.shop_name
    handshake = host.run(s_client(site, f"-verify_return_error -verify_hostname {name}"))
    leaf = host.run(s_client(site, "") + " | openssl x509 -noout -issuer -ext subjectAltName").stdout
    words = leaf.replace(",", " ").split()
    names = sorted(word.split(":", 1)[1] for word in words if word.startswith("DNS:"))
    site_ca = f"hastack {site.cluster} site CA" in leaf
    return handshake.rc, not site_ca, names


@PROXY
def test_haproxys_certificate_file_is_private(host, site):
    pem = host.file(f"/etc/haproxy/certs/{site.cluster}.pem")
    assert (pem.exists, pem.mode, pem.user) == (True, 0o600, "root")


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


def proxy_setting(host, site, key: str):
    return site.setting(key, site.hosts[site_host_name(host, site)])


@PROXY
def test_corosync_runs_with_the_sites_token(host, site):
    """The token Corosync runs with (its runtime map), not only the one in its file."""
    token = host.check_output("corosync-cmapctl -g runtime.config.totem.token").rsplit("=", 1)[1].strip()
    assert token == str(proxy_setting(host, site, "corosync_token_ms"))


@PROXY
def test_corosync_waits_the_sites_start_delay(host, site):
    """corosync's start waits the site's effective corosync_start_delay_s (none at 0), as
    systemd has loaded it: a fenced proxy up again too soon would stop its Pacemaker for good."""
    delay = corosync_start_delay_s(
        proxy_setting(host, site, "corosync_start_delay_s"),
        proxy_setting(host, site, "pacemaker_stonith_enabled"),
        proxy_setting(host, site, "corosync_token_ms"),
    )
    # Each property on its own: systemctl prints no ExecStartPre line at all without one, and one
    # line per command with several (another drop-in's).
    reload = host.check_output("systemctl show -P NeedDaemonReload corosync").strip()
    assert reload == "no", (
        f"systemd has not read corosync's drop-ins since they changed ({START_DELAY_DROPIN}): "
        "deploy the proxy again (it runs `systemctl daemon-reload`)"
    )
    sleeps = start_sleeps(host.check_output("systemctl show -p ExecStartPre corosync"))
    assert sleeps == ([str(delay)] if delay else []), (
        f"corosync's start waits {sleeps or 'nothing'}, the site's corosync_start_delay_s gives {delay} s "
        f"({START_DELAY_DROPIN}; a sleep of another drop-in is yours to remove): deploy the proxy again"
    )
    if delay:
        # the wait comes on top of systemd's start timeout, never out of it
        shown = host.check_output("systemctl show -P TimeoutStartUSec corosync").strip()
        assert systemd_span_s(shown) >= delay + SYSTEMD_START_TIMEOUT_S, (
            f"corosync's start times out after {shown}, within its wait of {delay} s and the start "
            "itself: deploy the proxy again"
        )


@PROXY
def test_haproxy_follows_the_sites_settings(host, site):
    lines = {line.strip() for line in host.file("/etc/haproxy/haproxy.cfg").content_string.splitlines()}

    def value(key):
        return proxy_setting(host, site, key)

    wanted = {
        f"retries {value('haproxy_retries')}",
        f"timeout connect {value('haproxy_timeout_connect')}",
        f"timeout client {value('haproxy_timeout_client')}",
        f"timeout server {value('haproxy_timeout_server')}",
        f"default-server inter {value('haproxy_check_interval')} fall {value('haproxy_check_fall')} "
        f"rise {value('haproxy_check_rise')} observe layer4 error-limit {value('haproxy_error_limit')} "
        "on-error mark-down",
        "retry-on conn-failure empty-response",
    } | {
        f"server {web.name} {web.addresses['back']}:{site.setting('web_port', web)} check"
        for web in site.hosts_in("web")
    }
    assert sorted(wanted - lines) == []


def cib_xpath(host, xpath: str) -> ET.Element:
    return ET.fromstring(host.check_output(f"cibadmin --query --xpath {shlex.quote(xpath)}"))


@PROXY
def test_haproxy_runs_on_every_proxy_and_the_vip_only_where_it_runs(host):
    """HAProxy is a clone (running here, VIP or not: the standby listens before the VIP
    arrives), and the VIP's one colocation is with that clone."""
    clone = cib_xpath(host, "//clone[primitive/@id='haproxy']")
    colocations = cib_xpath(host, "//constraints").iter("rsc_colocation")
    assert (
        host.service("haproxy").is_running,
        [(c.get("rsc"), c.get("with-rsc"), c.get("score")) for c in colocations],
    ) == (True, [("vip", clone.get("id"), "INFINITY")])


@PROXY
def test_a_failed_haproxy_does_what_the_sites_threshold_says(host, site):
    """With a migration threshold of 1, HAProxy's monitor fails with on-fail=standby (the VIP
    leaves in the transition that sees the failure, not after HAProxy's stop: hastack drill
    haproxy holds the gap); with any other, Pacemaker's default (restart in place)."""
    monitor = cib_xpath(host, "//primitive[@id='haproxy']/operations/op[@name='monitor']")
    threshold = int(proxy_setting(host, site, "pacemaker_migration_threshold"))
    assert monitor.get("on-fail") == haproxy_on_fail(threshold)


@PROXY
def test_pacemaker_follows_the_sites_settings(host, site):
    resources = "//primitive[@id='vip' or @id='haproxy']"
    monitors = [
        op.get("interval")
        for op in cib_xpath(host, f"{resources}//op").iter("op")
        if op.get("name") == "monitor"
    ]
    meta = cib_xpath(host, f"{resources}/meta_attributes").iter("nvpair")
    meta = [(pair.get("name"), pair.get("value")) for pair in meta]
    thresholds = [value for name, value in meta if name == "migration-threshold"]
    expiries = [value for name, value in meta if name == "failure-timeout"]
    defaults = cib_xpath(host, "//rsc_defaults").iter("nvpair")
    stickiness = [pair.get("value") for pair in defaults if pair.get("name") == "resource-stickiness"]
    assert (monitors, thresholds, expiries, stickiness) == (
        [
            proxy_setting(host, site, "pacemaker_monitor_interval"),
            proxy_setting(host, site, "pacemaker_haproxy_monitor_interval"),
        ],
        [str(proxy_setting(host, site, "pacemaker_migration_threshold"))] * 2,
        [str(proxy_setting(host, site, "pacemaker_failure_timeout"))] * 2,
        [str(proxy_setting(host, site, "pacemaker_resource_stickiness"))],
    )


@PROXY
def test_the_vip_is_the_sites_and_announces_itself_long_enough(host, site):
    """The VIP resource holds the site's VIP on the front network's prefix, and sends its
    gratuitous ARPs over 4 s (VIP_ARP_COUNT): a client still probing a silent holder ignores
    those that come within a second of its entry's last update."""
    params = cib_xpath(host, "//primitive[@id='vip']/instance_attributes").iter("nvpair")
    params = {pair.get("name"): pair.get("value") for pair in params}
    assert params == {
        "ip": str(site.vip),
        "cidr_netmask": str(site.networks["front"].prefixlen),
        "arp_count": str(VIP_ARP_COUNT),
    }
