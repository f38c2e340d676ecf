"""A shop that publishes its own content, without hastack's sample `index.html`: its web hosts
stay in HAProxy's rotation (`/healthz` answers from hastack's own file on the volume), and
`hastack verify` passes once the site says so (`web_sample_page: false`); with the sample
expected, verify fails and says which key to set."""

import subprocess
import sys
import time

import pytest

from hastack import lab
from hastack.maintenance import STAT, server_row
from tests.harness import lab_only_fixture

pytestmark = pytest.mark.lab

lab_only = lab_only_fixture("this test takes the sample page away from the shop")

CHECKS = "sample or healthz or shop_through"


def verify(site_file) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "hastack.cli", "verify", str(site_file), "-k", CHECKS],
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_a_shop_without_index_html_stays_up_and_passes_verify(lab_only, site, deployed, connect):
    web1 = connect("web1")
    content = site.setting("web_content_dir", site.hosts["web1"])
    fall = site.setting("haproxy_check_fall", site.hosts_in("proxy")[0])
    web1.check_output(
        f"mv {content}/index.html {content}/.index.html.hastack-test && "
        f"echo '<h1>our own shop</h1>' > {content}/shop.html"
    )
    try:
        # long enough for HAProxy to take a host out, were its check to fail
        time.sleep(3 * (fall + 1))
        states = {
            (proxy.name, web.name): server_row(connect(proxy.name).check_output(STAT), web.name).get("status")
            for proxy in site.hosts_in("proxy")
            for web in site.hosts_in("web")
        }
        own = verify(lab.derived_site(lab.LAB_DIR / "site-own-content.yaml", web_sample_page=False))
        sample = verify(lab.SITE_FILE)
    finally:
        web1.check_output(
            f"rm -f {content}/shop.html && mv {content}/.index.html.hastack-test {content}/index.html"
        )
    assert (
        set(states.values()),
        own.returncode,
        sample.returncode,
        "set web_sample_page: false" in sample.stdout,
    ) == ({"UP"}, 0, 1, True), f"{states}\n{own.stdout[-2500:]}\n{sample.stdout[-2500:]}"
