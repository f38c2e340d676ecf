"""`hastack upgrade`'s order and its reading of apt's summary, and its refusal of the client
before any host is asked. The upgrade itself runs on the lab under the stream
(tests/drills/test_drills.py: `hastack drill upgrade`)."""

import subprocess
import sys

from hastack.site import load_site
from hastack.upgrade import order, upgraded_count


def test_web_hosts_first_then_the_proxies_the_vip_holder_last(fixtures):
    site = load_site(fixtures / "good_site.yaml")
    everyone = ["proxy1", "proxy2", "web1", "web2"]
    assert (
        order(site, everyone, "proxy1"),
        order(site, everyone, "proxy2"),
        order(site, ["proxy1"], None),
    ) == (
        ["web1", "web2", "proxy2", "proxy1"],
        ["web1", "web2", "proxy1", "proxy2"],
        ["proxy1"],
    )


def test_the_packages_apt_upgraded():
    out = "Reading package lists...\n3 upgraded, 1 newly installed, 0 to remove and 0 not upgraded.\n"
    assert (upgraded_count(out), upgraded_count("0 upgraded, 0 newly installed, 0 to remove")) == (3, 0)


def test_the_client_is_not_upgraded_and_nothing_is_asked(fixtures):
    """The fixture site's addresses are the example's, never contacted: the refusal comes first."""
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "hastack.cli",
            "upgrade",
            str(fixtures / "good_site.yaml"),
            "--hosts",
            "client",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (run.returncode, "client: not a proxy or web host" in run.stdout) == (2, True), run.stdout
