"""ACME (tls_acme_directory) in the lab, against Debian's pebble (the ACME test server) on the
client: each proxy obtains a certificate for the lab's name, whichever proxy holds the VIP serves
a valid one (also after the VIP moves), hastack's checks ask the shop by that name, a forced
renewal under the open-loop stream fails no request, a renewal while the ACME server's port is
blocked fails cleanly (the old certificate stays served and the failure is noted), and a
directory that does not answer is refused before any change. The lab goes back to its own site
at the end.

Pebble, set up for the test: HTTP-01 on port 80 (not its 5002), no sleep before validating, its
TLS certificate made here, the lab's name resolved to the VIP by the client's /etc/hosts (for
pebble's validation, Go's resolver reads it; hastack's probes connect to the VIP by address
anyway), and its port opened to the proxies in the client's firewall, both after the client's
deploy (which writes both anew). Its issuing root (made anew at each start) and its TLS
certificate make the site's tls_acme_ca_bundle."""

import re
import time

import pytest

from hastack import lab
from hastack.alerts import STATE_DIR
from hastack.components.acme import CONF_DIR, RUN, STATE, UNIT
from hastack.deploying import run_deploy
from hastack.drill import Drills, failures, outage
from tests.harness import hastack_cli, lab_only_fixture

pytestmark = [pytest.mark.lab]
lab_only = lab_only_fixture("these tests redeploy the proxies with ACME", autouse=True)

NAME = "shop.lab.invalid"
ALERT_STATE = f"{STATE_DIR}/state.json"
PEBBLE = "/etc/hastack-test-pebble"
PEBBLE_UNIT = "hastack-test-pebble"
PORT = 14000
TAG = "hastack-test-pebble"


def firewall_rule(client, rule: str) -> None:
    """A rule at the top of the client's hastack table, tagged to be taken out again."""
    client.check_output(f'nft insert rule inet hastack input {rule} comment "{TAG}"')


def firewall_rules_out(client) -> None:
    handles = client.check_output(
        f"nft -a list chain inet hastack input | grep '\"{TAG}\"' | sed 's/.*# handle //' || true"
    ).split()
    for handle in handles:
        client.run(f"nft delete rule inet hastack input handle {handle}")


def open_to_the_proxies(client, site) -> None:
    """Pebble's port open to the proxies, and nothing else of the test's in the firewall."""
    firewall_rules_out(client)
    sources = ", ".join(str(site.hosts[p.name].addresses["front"]) for p in site.hosts_in("proxy"))
    firewall_rule(client, f"ip saddr {{ {sources} }} tcp dport {PORT} accept")


def serial(connect, site, proxy: str) -> str:
    return connect(proxy).check_output(
        f"openssl x509 -in /etc/haproxy/certs/{site.cluster}.pem -noout -serial 2>/dev/null || true"
    )


def served(client, site) -> tuple[int, str]:
    """(the client's verification of the VIP's chain for NAME: 0 when good, the leaf's serial)."""
    port = site.proxy_setting("https_port")
    connect = f"openssl s_client -connect {site.vip}:{port} -servername {NAME} </dev/null 2>/dev/null"
    check = client.run(
        f"openssl s_client -connect {site.vip}:{port} -servername {NAME} -verify_return_error "
        f"-verify_hostname {NAME} </dev/null >/dev/null 2>&1"
    ).rc
    return check, client.check_output(f"{connect} | openssl x509 -noout -serial")


@pytest.fixture(scope="module")
def acme_site(site, deployed, connect):
    client_name = site.hosts_in("client")[0].name
    client = connect(client_name)
    address = site.hosts[client_name].addresses["front"]
    client.check_output(
        "DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pebble >/dev/null && "
        f"mkdir -p {PEBBLE} && cd {PEBBLE} && "
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj /CN=pebble "
        f'-addext "subjectAltName=IP:{address}" -keyout key.pem -out cert.pem 2>/dev/null && '
        f"printf '%s' '"
        '{"pebble": {"listenAddress": "0.0.0.0:14000", "managementListenAddress": "127.0.0.1:15000", '
        f'"certificate": "{PEBBLE}/cert.pem", "privateKey": "{PEBBLE}/key.pem", "httpPort": 80, '
        '"tlsPort": 5001, "ocspResponderURL": "", "externalAccountBindingRequired": false}}'
        "' > config.json && "
        f"systemctl stop {PEBBLE_UNIT} 2>/dev/null; systemctl reset-failed {PEBBLE_UNIT} 2>/dev/null; "
        f"systemd-run --quiet --unit={PEBBLE_UNIT} -E PEBBLE_VA_NOSLEEP=1 -E PEBBLE_WFE_NONCEREJECT=0 "
        f"/usr/bin/pebble -config {PEBBLE}/config.json && "
        "for i in $(seq 30); do curl -sfk https://127.0.0.1:15000/roots/0 >/dev/null && exit 0; sleep 1; "
        "done; exit 1"
    )
    bundle = lab.LAB_DIR / "acme-ca.pem"
    bundle.write_text(
        client.check_output(f"cat {PEBBLE}/cert.pem")
        + "\n"
        + client.check_output("curl -sfk https://127.0.0.1:15000/roots/0")
        + "\n"
    )
    path = lab.derived_site(
        lab.LAB_DIR / "site-acme.yaml",
        tls_names=[NAME],
        tls_acme_directory=f"https://{address}:{PORT}/dir",
        tls_acme_email="ops@lab.invalid",
        tls_acme_ca_bundle=str(bundle),
    )
    # Pebble forgot, at its start, the certificates it issued before (its root is new): so do
    # the proxies, or the deploy would find theirs current.
    for proxy in site.hosts_in("proxy"):
        connect(proxy.name).check_output(f"rm -rf {CONF_DIR}/{NAME} {CONF_DIR}/private/{NAME}")
    # The client first (it then trusts the bundle): its deploy writes /etc/hosts and loads its
    # firewall's table anew, so pebble's name and port come after it.
    runs = {"client": run_deploy(path, "deploys/client.py", log=lab.LAB_DIR / "acme-client.log")}
    client.check_output(f"grep -q ' {NAME}$' /etc/hosts || echo '{site.vip} {NAME}' >> /etc/hosts")
    open_to_the_proxies(client, site)
    runs["proxies"] = run_deploy(path, "deploys/proxy.py", log=lab.LAB_DIR / "acme-proxies.log")
    try:
        yield path, runs
    finally:
        client.run(f"systemctl stop {PEBBLE_UNIT}; sed -i '/ {NAME}$/d' /etc/hosts")
        firewall_rules_out(client)
        back = [run_deploy(lab.SITE_FILE, entry) for entry in ("deploys/proxy.py", "deploys/client.py")]
        assert [run.returncode for run in back] == [0, 0], back[0].report(1500) + back[1].report(1500)


def test_each_proxy_obtains_a_certificate_and_the_vip_serves_a_valid_one(acme_site, site, connect):
    _, runs = acme_site
    client = connect(site.hosts_in("client")[0].name)
    proxies = sorted(p.name for p in site.hosts_in("proxy"))
    states = [connect(p).check_output(f"cut -d' ' -f1 {STATE}") for p in proxies]
    issuers = [
        connect(p).check_output(f"openssl x509 -in /etc/haproxy/certs/{site.cluster}.pem -noout -issuer")
        for p in proxies
    ]
    assert (
        [run.returncode for run in runs.values()],
        states,
        all("Pebble" in issuer for issuer in issuers),
        served(client, site)[0],
    ) == ([0, 0], ["ok", "ok"], True, 0), runs["proxies"].report(3000)


def test_a_second_run_changes_nothing(acme_site):
    path, _ = acme_site
    again = run_deploy(path, "deploys/proxy.py", log=lab.LAB_DIR / "acme-again.log")
    assert (again.returncode, again.changed_operations) == (0, []), again.report(2000)


# hastack's checks that ask the shop through the VIP, by the name the certificate carries
# (Site.shop_name: SNI and Host tls_names[0], the connection to the VIP's address).
BY_NAME = (
    "through_the_vip or answers_301 or carry_hsts or alpn or sites_certificate or admin_pages "
    "or key_exchange or cacti_lets_admin or ganglia_page"
)


def test_verify_checks_the_acme_certificate_and_the_shop_by_its_name(acme_site):
    path, _ = acme_site
    run = hastack_cli("verify", str(path), "-k", BY_NAME, timeout=600)
    passed = re.search(r"(\d+) passed", run.stdout)
    assert (run.returncode, (int(passed.group(1)) if passed else 0) >= 12) == (0, True), (
        run.stdout[-3000:] + run.stderr[-1000:]
    )


def test_a_directory_that_does_not_answer_is_refused_before_any_change(acme_site, site, connect):
    """Nothing listens on the directory's port, and the proxies' certificates are for other
    names: the proxies' run stops in its preflight, naming the key and the host, and the
    certificate's run (which names the directory) is the one it was."""
    client_name = site.hosts_in("client")[0].name
    address = site.hosts[client_name].addresses["front"]
    silent = lab.derived_site(
        lab.LAB_DIR / "site-acme-silent.yaml",
        tls_names=[NAME, f"www.{NAME}"],
        tls_acme_directory=f"https://{address}:{PORT + 1}/dir",
        tls_acme_email="ops@lab.invalid",
        tls_acme_ca_bundle=str(lab.LAB_DIR / "acme-ca.pem"),
    )
    proxies = [p.name for p in site.hosts_in("proxy")]
    before = [connect(p).check_output(f"sha256sum {RUN} /etc/haproxy/haproxy.cfg") for p in proxies]
    run = run_deploy(silent, "deploys/proxy.py", log=lab.LAB_DIR / "acme-silent.log")
    after = [connect(p).check_output(f"sha256sum {RUN} /etc/haproxy/haproxy.cfg") for p in proxies]
    assert (
        run.returncode != 0,
        "(data key tls_acme_directory) does not answer from this host" in run.output,
        any(f"host {p}: the ACME directory" in run.output for p in proxies),
        after,
    ) == (True, True, True, before), run.output[-3000:]


def test_a_forced_renewal_under_the_stream_fails_no_request(acme_site, site, connect):
    client = connect(site.hosts_in("client")[0].name)
    drills = Drills(site)
    holder = drills.vip_holder()
    before = served(client, site)
    runs = {}

    def renew() -> None:
        runs["renew"] = connect(holder).run(f"{RUN} --force")

    try:
        samples = drills.stream(renew, until_done=120, url=f"https://{NAME}/")
    finally:
        drills.close()
    failed = [s for s in samples if s[1] != 200]
    print(f"\n{len(samples)} requests while {holder} renewed, {len(failed)} failed {failures(samples, None)}")
    after = served(client, site)
    assert (
        runs["renew"].rc,
        len(samples) > 50,
        failed,
        outage(samples),
        after[0],
        after[1] != before[1],
    ) == (
        0,
        True,
        [],
        0.0,
        0,
        True,
    ), runs["renew"].stdout + runs["renew"].stderr


def test_the_other_proxy_serves_its_valid_certificate_once_the_vip_moves(acme_site, site, connect):
    client = connect(site.hosts_in("client")[0].name)
    drills = Drills(site)
    try:
        holder = drills.vip_holder()
        other = next(p.name for p in site.hosts_in("proxy") if p.name != holder)
        connect(holder).check_output(f"pcs resource ban vip {holder} --wait=60")
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and drills.vip_holders() != [other]:
                time.sleep(1)
            moved = drills.vip_holders()
            after = served(client, site)
        finally:
            connect(holder).check_output(f"pcs resource clear vip {holder}")
    finally:
        drills.close()
    assert (moved, after) == ([other], (0, serial(connect, site, other))), after


def test_a_renewal_while_the_acme_server_is_blocked_keeps_the_old_certificate_and_says_so(
    acme_site, site, connect
):
    client = connect(site.hosts_in("client")[0].name)
    drills = Drills(site)
    try:
        holder = drills.vip_holder()
    finally:
        drills.close()
    path, _ = acme_site
    before = served(client, site)
    firewall_rule(client, f"tcp dport {PORT} reject with tcp reset")
    try:
        run = connect(holder).run(f"systemctl start {UNIT}")
        unit = connect(holder).run(f"systemctl is-failed {UNIT}").stdout.strip()
        state = connect(holder).check_output(f"cat {STATE}")
        status = hastack_cli("status", str(path))
        alert = connect(holder).run(f"systemctl start hastack-alert-check; cat {ALERT_STATE}").stdout
    finally:
        open_to_the_proxies(client, site)
    print(f"\n{holder}: {state}")
    assert (
        run.rc != 0,
        unit,
        state.startswith("failed "),
        served(client, site),
        f"{holder}: ACME failed at" in status.stdout,
        status.returncode != 0,
        "certificate renewal" in alert,
    ) == (True, "failed", True, before, True, True, True), status.stdout[-2000:] + alert[-1000:]
