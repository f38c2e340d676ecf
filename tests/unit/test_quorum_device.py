"""The quorum device, off the hosts: its certificates, its place in corosync.conf and the
firewall, the site's warning without one, and how the partition drill counts two holders."""

import stat

import pytest
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from hastack import firewall, lab, qdevice
from hastack.cli import main
from hastack.defaults import DEFAULTS
from hastack.drill import (
    DC_ELECTION_S,
    GAP_GOAL_S,
    gap_goal_s,
    parse_arp_rounds,
    parse_holder_samples,
    two_holders,
    unsampled_in_the_cut,
)
from hastack.network import qdevice_timeout_ms
from hastack.site import dump_site, load_site, parse_site
from hastack.timings import STALL_GOAL_MS, predicted_gap_s, stall_tolerance_ms
from tests.unit.test_network_templates import corosync


@pytest.fixture
def lab_site():
    return parse_site(lab.site_text(13, lab.HOSTS), "lab.yaml")


def test_material_is_made_once_kept_private_and_names_what_the_daemons_check(tmp_path, monkeypatch):
    monkeypatch.setenv("HASTACK_SECRETS_DIR", str(tmp_path))
    first, second = qdevice.material("shop"), qdevice.material("shop")
    password = first.password_file.read_bytes().strip()
    server = pkcs12.load_pkcs12(first.server_p12.read_bytes(), password)
    client = pkcs12.load_pkcs12(first.client_p12.read_bytes(), password)

    def common_name(entry):
        return entry.certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value

    modes = {stat.S_IMODE(path.stat().st_mode) for path in (tmp_path / "shop").iterdir()}
    assert (
        first == second,
        common_name(server.cert),
        server.cert.friendly_name,
        common_name(client.cert),
        client.cert.friendly_name,
        [common_name(ca) for ca in server.additional_certs],
        [ca.friendly_name for ca in client.additional_certs],
        modes,
    ) == (
        True,
        "Qnetd Server",
        b"QNetd Cert",
        "shop",
        b"Cluster Cert",
        ["QNet CA"],
        [b"QNet CA"],
        {0o600},
    )


def test_qnetd_is_reached_on_the_back_network_if_the_host_has_it():
    proxies = [{"back": "10.0.1.11", "front": "10.0.2.11"}, {"back": "10.0.1.12", "front": "10.0.2.12"}]
    assert (
        qdevice.qnetd_address({"front": "10.0.2.50"}, proxies),
        qdevice.qnetd_address({"back": "10.0.1.30", "front": "10.0.2.30"}, proxies),
    ) == ("10.0.2.50", "10.0.1.30")


def test_corosync_names_the_device_and_drops_two_node():
    qnetd = {
        "name": "client",
        "address": "10.0.2.50",
        "port": 5403,
        "heuristic": qdevice.HOLDS_VIP,
        "timeout_ms": qdevice_timeout_ms(1500),
    }
    text = corosync(qnetd=qnetd)
    assert (
        "timeout: 2250" in text,
        "two_node" in text,
        "host: 10.0.2.50" in text,
        "algorithm: ffsplit" in text,
        "tls: required" in text,
        f"exec_holds_vip: {qdevice.HOLDS_VIP}" in text,
        "two_node: 1" in corosync(),
    ) == (True, False, True, True, True, True, True)


def test_only_the_proxies_reach_qnetd_and_only_on_its_address(lab_site):
    rules = [rule for rule in firewall.for_site_host(lab_site, "client") if "qnetd" in rule.why]
    proxies = tuple(str(proxy.addresses["front"]) for proxy in lab_site.hosts_in("proxy"))
    assert [(rule.ports, rule.sources, rule.destination) for rule in rules] == [
        (("5403",), proxies, str(lab_site.hosts["client"].addresses["front"]))
    ]


def test_no_quorum_device_is_warned_with_the_fix(lab_site):
    document = lab_site.document({})
    document["data"].pop("quorum_device_host")
    site = parse_site(dump_site(document))
    warnings = [warning for warning in site.warnings if "split brain" in warning]
    assert (
        len(warnings),
        "quorum_device_host" in warnings[0],
        "client" in warnings[0],
        lab_site.warnings,
    ) == (
        1,
        True,
        True,
        (),
    )


def test_the_example_site_names_a_quorum_device():
    assert load_site("site.yaml").setting("quorum_device_host") == "client"


def test_two_holders_are_counted_only_where_both_samples_say_so():
    samples = {
        "proxy1": parse_holder_samples("10.0 1\n10.1 1\n10.2 1\n10.3 0\n"),
        "proxy2": parse_holder_samples("10.05 0\n10.15 1\n10.25 1\n10.35 1\nnoise\n"),
    }
    assert two_holders(samples) == [10.15, 10.2, 10.25]


def test_a_stale_sample_does_not_make_a_second_holder():
    samples = {"proxy1": [(10.0, 1), (11.0, 1)], "proxy2": [(9.0, 1), (11.0, 0)]}
    assert two_holders(samples) == []


def test_arp_rounds_are_read_with_their_macs():
    rounds = parse_arp_rounds('[1.0, ["02:42:0a:e7:02:0b"]]\n[1.2, ["a", "b"]]\nTraceback\n')
    assert [len(macs) for _, macs in rounds] == [1, 2]


def test_check_prints_each_warning_and_still_accepts(tmp_path, capsys):
    document = load_site("site.yaml").document({})
    document["data"].pop("quorum_device_host")
    path = tmp_path / "site.yaml"
    path.write_text(dump_site(document))
    code = main(["check", str(path)])
    out = capsys.readouterr().out
    assert (code, out.count("warning: "), "split brain" in out, "(1 warning(s) above)" in out) == (
        0,
        1,
        True,
        True,
    )


def example_with(**data):
    return parse_site(dump_site(load_site("site.yaml").document(data)))


def test_gluster_without_quorum_is_warned_naming_the_fix(lab_site):
    """Client quorum off, or no arbiter with two web hosts: each warned with the fix; the
    defaults (an arbiter, client quorum) and the lab are not warned."""
    off = [w for w in example_with(gluster_quorum_type="none", gluster_arbiter="").warnings if "gluster" in w]
    alone = [w for w in example_with(gluster_arbiter="").warnings if "gluster" in w]
    assert (
        len(off),
        "gluster_arbiter: auto" in off[0],
        "stays unreadable until a person picks a copy" in off[0],
        len(alone),
        "writes to the volume stop whenever the first web host is away" in alone[0],
        [w for w in load_site("site.yaml").warnings if "gluster" in w],
        [w for w in lab_site.warnings if "gluster" in w],
    ) == (1, True, True, 1, True, [], [])


def test_the_default_arbiter_is_the_first_proxy_with_two_web_hosts_only():
    """auto: proxy1 with two web hosts (the example); none with three; a name or "" as given."""
    example = load_site("site.yaml")
    document = example.document({})
    document["hosts"]["web3"] = {"role": "web", "back": "192.168.32.123", "disks": ["/dev/sdb", "/dev/sdc"]}
    three = parse_site(dump_site(document))
    assert (
        example.setting("gluster_arbiter"),
        example.host_data(example.hosts["web1"])["gluster_arbiter"],
        three.setting("gluster_arbiter"),
        example_with(gluster_arbiter="proxy2").setting("gluster_arbiter"),
        example_with(gluster_arbiter="").setting("gluster_arbiter"),
    ) == ("proxy1", "proxy1", "", "proxy2", "")


def test_the_default_token_meets_the_stated_rule():
    """The default survives a 1 s stall (STALL_GOAL_MS), the lowest token measured that does
    (1000 does not); the drill then holds the active proxy's death to the 5 s cap."""
    token = DEFAULTS["corosync_token_ms"]
    assert (
        stall_tolerance_ms(token) >= STALL_GOAL_MS,
        min(GAP_GOAL_S, predicted_gap_s(token)),
        stall_tolerance_ms(1000) >= STALL_GOAL_MS,
    ) == (True, GAP_GOAL_S, False)


def test_the_proxy_drill_allows_the_dcs_election_only_when_the_dc_died():
    """The gap goal: the token's prediction capped at 5 s, and a second more for the DC."""
    cases = ((1500, False), (1500, True), (400, False), (400, True))
    assert [gap_goal_s(token, dc) for token, dc in cases] == [
        GAP_GOAL_S,
        GAP_GOAL_S + DC_ELECTION_S,
        predicted_gap_s(400),
        predicted_gap_s(400) + DC_ELECTION_S,
    ]


def test_a_token_below_the_tolerance_is_warned(fixtures):
    site = parse_site(
        (fixtures / "good_site.yaml").read_text()
        + "data: {corosync_token_ms: 400, quorum_device_host: client}\n"
    )
    warnings = [warning for warning in site.warnings if "corosync_token_ms" in warning]
    assert (len(warnings), "0.266 s" in warnings[0]) == (1, True), warnings


def test_holder_samples_written_over_are_left_out_not_fatal():
    """Two partition drills in a row: the earlier run's sampler went on writing at its offset
    in a file the later run truncated, so the file began with NUL bytes (seen, 2026-12-06)."""
    written_over = "\x00" * 40 + "1796597066.904151 1\n" + "\x00" * 8 + "17965970\n1796597066.957551 0\n"
    assert parse_holder_samples(written_over) == [(1796597066.957551, 0)]


def test_a_proxy_not_sampled_in_the_cut_is_named():
    """The fenced proxy's file lost at its restart (an empty series), a sampler started late,
    and one that ended before the cut: none of them watched the cut."""
    samples = {
        "proxy1": [(9.0, 1), (10.5, 1), (30.0, 1)],
        "proxy2": [],
        "proxy3": [(10.2, 0), (12.0, 0)],
        "proxy4": [(8.0, 0), (9.5, 0)],
        "proxy5": [(9.9, 0), (10.1, 0)],
    }
    assert unsampled_in_the_cut(samples, 10.0) == ["proxy2", "proxy3", "proxy4"]
    assert unsampled_in_the_cut(samples, None) == sorted(samples)
