"""The host firewall on every host (hastack's nftables table), and what listens less because
of the same issue: pcsd on the back address only, rpcbind off, gmond's ACLs."""

import pytest

from hastack import firewall
from hastack.checks.plugin import site_host_name as _name

LAYER = "firewall"


def setting(host, site, key: str):
    return site.setting(key, site.hosts[_name(host, site)])


def test_the_table_is_live_as_the_site_says(host, site):
    """On: hastack's table drops by default and holds one rule per allow-list entry of this host,
    as loaded from the confirmed file (also loaded at boot). Off: no table."""
    name = _name(host, site)
    listed = host.run("nft list table inet hastack")
    if not setting(host, site, "firewall_enabled"):
        assert (listed.rc != 0, host.file("/etc/hastack/firewall.nft").exists) == (True, False)
        return
    rules = firewall.for_site_host(site, name)
    comments = [
        line.split('comment "', 1)[1].rstrip('"')
        for line in listed.stdout.splitlines()
        if 'comment "' in line
    ]
    # What the deploy confirmed (a table changed by hand since would differ).
    confirmed = host.run(
        "[ \"$(nft list table inet hastack | sha256sum | cut -d' ' -f1)\" = "
        '"$(cat /var/lib/hastack/firewall/listed.sha256)" ]'
    )
    assert (
        "policy drop;" in listed.stdout,
        comments,
        confirmed.rc,
        host.service("hastack-firewall").is_enabled,
    ) == (True, [rule.why for rule in rules], 0, True)


def test_rpcbind_does_not_listen(host):
    assert host.run("ss -Hltn 'sport = :111'").stdout.strip() == ""


@pytest.mark.roles("proxy")
def test_pcsd_listens_on_the_back_address_only(host, site):
    back = str(site.hosts[_name(host, site)].addresses["back"])
    sockets = {line.split()[3] for line in host.check_output("ss -Hltn 'sport = :2224'").splitlines()}
    assert sockets == {f"{back}:2224"}
