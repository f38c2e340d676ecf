"""hastack verify trusts the site's known hosts, as the deploy does: a host whose key is not
the one recorded there is refused (testinfra's own client would take any key)."""

import paramiko
import pytest

from hastack import lab
from hastack.checks.plugin import testinfra_host as verify_connection
from hastack.site import dump_site, load_site

pytestmark = pytest.mark.lab


def test_verify_refuses_a_host_whose_key_changed(deployed, lab_mode, site, tmp_path):
    if not lab_mode:
        pytest.fail(
            "this test reads the lab's known hosts, so it runs against the lab only (unset HASTACK_SITE)"
        )
    known = dict(line.split(" ", 1) for line in lab.KNOWN_HOSTS.read_text().splitlines() if line.strip())
    web1, proxy1 = site.hosts["web1"].connect_address, site.hosts["proxy1"].connect_address
    # web1's line now carries proxy1's key: what a changed (or impostor) web1 looks like.
    known[web1] = known[proxy1]
    forged = tmp_path / "known_hosts"
    forged.write_text("".join(f"{address} {key}\n" for address, key in known.items()))
    document = load_site(lab.SITE_FILE).document()
    document["ssh"]["known_hosts"] = str(forged)
    forged_site_file = tmp_path / "site.yaml"
    forged_site_file.write_text(dump_site(document))
    forged_site = load_site(forged_site_file)
    # The same host with the true known hosts answers.
    assert verify_connection(site, "web1").check_output("hostname") == "web1"
    with pytest.raises(paramiko.BadHostKeyException):
        verify_connection(forged_site, "web1").check_output("hostname")
