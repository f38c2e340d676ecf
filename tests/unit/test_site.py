"""The site file: the example validates, each class of bad input is refused by name."""

import re
from pathlib import Path

import pytest

from hastack.cli import main
from hastack.defaults import ROOT
from hastack.site import SiteError, dump_site, load_site, parse_site

SITES = Path(__file__).parent / "fixtures" / "sites"
BAD_SITES = sorted(SITES.glob("*.yaml"))


def expectations(path: Path) -> dict[str, str]:
    header = re.findall(r"^# expect(-path|-host|): ?(.*)$", path.read_text(), re.M)
    return {key or "-message": value for key, value in header}


def test_example_site_validates():
    site = load_site(ROOT / "site.yaml")
    assert (site.cluster, len(site.hosts_in("proxy")), len(site.hosts_in("web"))) == ("shop", 2, 2)


def test_example_site_vip():
    assert str(load_site(ROOT / "site.yaml").vip) == "172.20.32.1"


def test_good_fixture_validates(fixtures):
    assert sorted(load_site(fixtures / "good_site.yaml").hosts) == [
        "client",
        "proxy1",
        "proxy2",
        "web1",
        "web2",
    ]


@pytest.mark.parametrize("path", BAD_SITES, ids=[p.stem for p in BAD_SITES])
def test_bad_site_is_refused_naming_key_and_host(path):
    want = expectations(path)
    with pytest.raises(SiteError) as caught:
        load_site(path)
    found = [(p.path, p.host or "") for p in caught.value.problems if want["-message"] in str(p)]
    assert (want["-path"], want["-host"]) in found, caught.value.report()


@pytest.mark.parametrize("path", BAD_SITES, ids=[p.stem for p in BAD_SITES])
def test_every_problem_says_how_to_fix_it(path):
    with pytest.raises(SiteError) as caught:
        load_site(path)
    assert all(". Fix: " in str(problem) for problem in caught.value.problems)


def test_every_problem_is_reported_at_once():
    with pytest.raises(SiteError) as caught:
        load_site(SITES / "many_problems.yaml")
    assert {p.path for p in caught.value.problems} >= {"vip", "hosts", "hosts.web2.back"}


def test_problem_names_the_host():
    with pytest.raises(SiteError) as caught:
        load_site(SITES / "one_disk.yaml")
    assert "hosts.web1.disks [host web1]:" in caught.value.report()


def test_missing_file_is_a_problem_not_a_traceback(tmp_path):
    with pytest.raises(SiteError) as caught:
        load_site(tmp_path / "nope.yaml")
    assert "cannot read the site file" in caught.value.report()


def test_empty_file_lists_the_required_keys():
    with pytest.raises(SiteError) as caught:
        parse_site("")
    assert [p.path for p in caught.value.problems][:4] == ["cluster", "networks", "vip", "hosts"]


def test_site_data_reaches_every_host(fixtures):
    text = (fixtures / "good_site.yaml").read_text() + "data: {netplan_apply: false}\n"
    site = parse_site(text)
    assert site.host_data(site.hosts["web1"])["netplan_apply"] is False


def with_data(fixtures, site_data: dict, client_data: dict):
    """The good fixture site with data for the site and for its client, made from the model."""
    document = load_site(fixtures / "good_site.yaml").document(site_data)
    document["hosts"]["client"]["data"] = client_data
    return parse_site(dump_site(document))


def test_host_data_overrides_site_data(fixtures):
    site = with_data(fixtures, {"netplan_apply": False}, {"netplan_apply": True})
    assert site.host_data(site.hosts["client"])["netplan_apply"] is True


def test_ssh_goes_to_the_back_address_by_default(fixtures):
    site = load_site(fixtures / "good_site.yaml")
    assert site.host_data(site.hosts["proxy1"])["ssh_hostname"] == "127.0.1.11"


def test_ssh_goes_to_the_front_address_without_back(fixtures):
    site = load_site(fixtures / "good_site.yaml")
    assert site.host_data(site.hosts["client"])["ssh_hostname"] == "127.0.2.50"


def test_check_command_accepts_the_example(capsys):
    assert main(["check", str(ROOT / "site.yaml")]) == 0
    assert "cluster 'shop', 5 hosts" in capsys.readouterr().out


def test_check_command_exits_2_on_bad_input(capsys):
    assert main(["check", str(SITES / "one_web.yaml")]) == 2
    assert "1 web host(s), at least 2 are needed" in capsys.readouterr().err


def test_setting_is_the_hosts_then_the_sites_then_the_default(fixtures):
    from hastack.defaults import DEFAULTS

    site = with_data(fixtures, {"web_port": 8000}, {"web_port": 8081})
    client, web1 = site.hosts["client"], site.hosts["web1"]
    assert (
        site.setting("web_port", client),
        site.setting("web_port", web1),
        site.setting("raid_device"),
    ) == (
        8081,
        8000,
        DEFAULTS["raid_device"],
    )


def test_a_dumped_site_reads_back_as_the_same_site(fixtures):
    site = load_site(fixtures / "good_site.yaml")
    again = parse_site(dump_site(site.document()), site.source)
    assert again == site


def test_dumping_refuses_a_document_that_is_not_a_valid_site(fixtures):
    document = load_site(fixtures / "good_site.yaml").document({"web_port": 0})
    with pytest.raises(SiteError, match="data.web_port"):
        dump_site(document)


def test_the_lab_site_is_made_from_the_model():
    from hastack import lab

    site = parse_site(lab.site_text(13, lab.HOSTS), "lab")
    assert (site.cluster, site.setting("gluster_arbiter"), sorted(site.hosts)) == (
        "lab",
        "proxy1",
        ["client", "proxy1", "proxy2", "web1", "web2"],
    )


def test_the_lab_site_with_three_web_hosts_has_no_arbiter():
    """`lab up --web 3`: web3 joins at the next address; the arbiter goes (three copies vote)."""
    from hastack import lab
    from hastack.lab.layout import lab_hosts

    site = parse_site(lab.site_text(13, lab_hosts(3)), "lab")
    assert (site.setting("gluster_arbiter"), [str(h.addresses["back"]) for h in site.hosts_in("web")]) == (
        "",
        ["10.231.1.21", "10.231.1.22", "10.231.1.23"],
    )


def test_the_lab_refuses_fewer_than_two_web_hosts_before_touching_docker():
    from hastack import lab

    with pytest.raises(lab.LabError, match="--web 1: the lab runs 2 to 9 web hosts"):
        lab.up(web=1)


def fencing_examples() -> list[str]:
    """The YAML blocks of docs/real-servers.md's "Fencing" section."""
    text = (ROOT / "docs" / "real-servers.md").read_text().split("## Fencing", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```yaml\n(.*?)```", text, re.S)


@pytest.fixture
def secrets_dir(tmp_path, monkeypatch):
    """An empty secrets folder for the sites of these tests (cluster of good_site.yaml: test)."""
    monkeypatch.setenv("HASTACK_SECRETS_DIR", str(tmp_path))
    folder = tmp_path / "test"
    folder.mkdir(mode=0o700)
    return folder


def put_secret(folder: Path, name: str, mode: int = 0o600) -> None:
    (folder / name).write_text("secret\n")
    (folder / name).chmod(mode)


@pytest.mark.parametrize("example", range(4))
def test_each_fencing_example_of_the_docs_passes_the_check(fixtures, example, secrets_dir):
    """fence_ipmilan, fence_redfish, fence_virsh and fence_vbox, as the docs show them, with
    the secret file each names in place."""
    for name in ("bmc-password", "fence_kvm", "fence_vbox"):
        put_secret(secrets_dir, name)
    block = fencing_examples()[example]
    data = "data:\n  quorum_device_host: client\n" + "".join(f"  {line}\n" for line in block.splitlines())
    site = parse_site((fixtures / "good_site.yaml").read_text() + data)
    agents = {device["agent"] for device in site.setting("pacemaker_fence_devices")}
    assert (len(fencing_examples()), site.setting("pacemaker_stonith_enabled"), len(agents)) == (4, True, 1)


FENCE_SECRET = "data:\n  pacemaker_fence_secrets: [bmc-password]\n"


def test_a_fence_secret_that_is_not_there_is_refused_naming_the_file(fixtures, secrets_dir):
    with pytest.raises(SiteError) as caught:
        parse_site((fixtures / "good_site.yaml").read_text() + FENCE_SECRET)
    report = caught.value.report()
    assert (
        f"{secrets_dir}/bmc-password does not exist" in report,
        "data.pacemaker_fence_secrets" in report,
        "chmod 600" in report,
    ) == (True, True, True), report


def test_a_fence_secret_open_to_others_is_refused(fixtures, secrets_dir):
    put_secret(secrets_dir, "bmc-password", 0o644)
    with pytest.raises(SiteError) as caught:
        parse_site((fixtures / "good_site.yaml").read_text() + FENCE_SECRET)
    assert f"chmod 600 {secrets_dir}/bmc-password" in caught.value.report()


def test_a_private_fence_secret_passes(fixtures, secrets_dir):
    put_secret(secrets_dir, "bmc-password")
    site = parse_site((fixtures / "good_site.yaml").read_text() + FENCE_SECRET)
    assert site.setting("pacemaker_fence_secrets") == ["bmc-password"]


@pytest.mark.parametrize("name", ["../bmc", "/root/bmc", "a b", ""])
def test_a_fence_secret_name_that_is_a_path_is_refused(fixtures, secrets_dir, name):
    with pytest.raises(SiteError) as caught:
        text = (fixtures / "good_site.yaml").read_text()
        parse_site(text + f"data:\n  pacemaker_fence_secrets: [{name!r}]\n")
    assert "not a plain file name" in caught.value.report()


def test_raid_force_for_one_host_is_accepted(fixtures):
    document = load_site(fixtures / "good_site.yaml").document({})
    document["hosts"]["web2"]["data"] = {"raid_force": True}
    assert parse_site(dump_site(document)).setting(
        "raid_force", parse_site(dump_site(document)).hosts["web2"]
    )


def test_disks_named_sdx_are_a_warning_by_id_is_not(fixtures):
    document = load_site(fixtures / "good_site.yaml").document({})
    document["hosts"]["web1"]["disks"] = ["/dev/sdb", "/dev/disk/by-id/ata-DISK-2"]
    warnings = parse_site(dump_site(document)).warnings
    assert [w.split(":")[0] for w in warnings if "/dev/disk/by-id" in w] == ["hosts.web1.disks"]


def test_hastack_check_says_the_sdx_warning_and_still_passes(fixtures, tmp_path, capsys):
    document = load_site(fixtures / "good_site.yaml").document({})
    document["hosts"]["web1"]["disks"] = ["/dev/sdb", "/dev/disk/by-id/ata-DISK-2"]
    path = tmp_path / "site.yaml"
    path.write_text(dump_site(document))
    assert main(["check", str(path)]) == 0
    said = [line for line in capsys.readouterr().out.splitlines() if line.startswith("warning: hosts.")]
    assert len(said) == 1 and said[0].startswith("warning: hosts.web1.disks: /dev/sdb "), said
    assert "name it by /dev/disk/by-id/" in said[0]


@pytest.mark.parametrize(
    "ping, said",
    [
        (None, None),
        (3, None),
        (2, None),
        (5, "HAProxy takes both out, and the shop is\ndown"),
        (1, "is dropped and healed after"),
    ],
)
def test_a_ping_timeout_outside_the_timer_tables_rule_is_a_warning(fixtures, ping, said):
    document = load_site(fixtures / "good_site.yaml").document({})
    if ping is not None:
        document.setdefault("data", {})["gluster_ping_timeout"] = ping
    warned = [w for w in parse_site(dump_site(document)).warnings if "gluster_ping_timeout" in w]
    if said is None:
        assert warned == []
    else:
        assert len(warned) == 1 and warned[0].startswith("data.gluster_ping_timeout: ")
        assert said.replace("\n", " ") in warned[0]


@pytest.mark.parametrize(
    "age, certificate, sent", [(-1, "", 0), (-1, "shop.pem", 63072000), (600, "", 600), (0, "shop.pem", 0)]
)
def test_hsts_is_off_with_the_site_ca_and_two_years_with_a_certificate_of_the_sites(age, certificate, sent):
    from hastack import hsts

    assert hsts.max_age(age, certificate) == sent


@pytest.mark.parametrize("age, warned", [(None, False), (86400, False), (86401, True), (63072000, True)])
def test_a_long_hsts_with_the_site_ca_is_a_warning(fixtures, age, warned):
    document = load_site(fixtures / "good_site.yaml").document({})
    if age is not None:
        document.setdefault("data", {})["tls_hsts_max_age"] = age
    said = [w for w in parse_site(dump_site(document)).warnings if "tls_hsts_max_age" in w]
    assert (len(said), all("only the clients given it" in w for w in said)) == (int(warned), True)


def test_an_hsts_max_age_below_minus_one_is_refused(fixtures):
    document = load_site(fixtures / "good_site.yaml").document({})
    document.setdefault("data", {})["tls_hsts_max_age"] = -2
    with pytest.raises(SiteError, match="tls_hsts_max_age"):
        parse_site(dump_site(document))


ACME = {
    "tls_acme_directory": "https://acme.example/directory",
    "tls_acme_email": "ops@example.com",
    "tls_names": ["shop.example.com"],
}


def acme_site(fixtures, **data):
    document = load_site(fixtures / "good_site.yaml").document({})
    document.setdefault("data", {}).update({**ACME, **data})
    return document


def test_an_acme_site_is_accepted(fixtures):
    warned = parse_site(dump_site(acme_site(fixtures))).warnings
    assert [w for w in warned if "tls_" in w] == []


def test_the_probes_ask_the_vip_for_the_shops_name(fixtures, tmp_path, monkeypatch):
    """The name the probes send (SNI, Host) and the address they connect to: the VIP's address
    with the site CA and no tls_names, tls_names[0] otherwise (ACME), a supplied certificate's
    first DNS name that is not a wildcard; with ACME, the probes trust the site's bundle or the
    system's CAs, not the site CA."""
    import datetime

    from hastack import tls

    monkeypatch.setenv("HASTACK_SECRETS_DIR", str(tmp_path / "secrets"))
    plain = load_site(fixtures / "good_site.yaml")
    acme = parse_site(dump_site(acme_site(fixtures)))
    bundle = tmp_path / "acme-ca.pem"
    ca_cert, ca_key = tls.site_ca("elsewhere")
    bundle.write_bytes(ca_cert.read_bytes())
    with_bundle = parse_site(dump_site(acme_site(fixtures, tls_acme_ca_bundle=str(bundle))))
    now = datetime.datetime.now(datetime.UTC)
    chain, key = tls.issue(
        ca_cert, ca_key, ["*.example.org", "www.example.org"], [], now, now + datetime.timedelta(days=9)
    )
    (tmp_path / "shop.pem").write_bytes(chain)
    (tmp_path / "shop.key").write_bytes(key)
    document = plain.document({})
    document.setdefault("data", {}).update(
        tls_certificate=str(tmp_path / "shop.pem"), tls_key=str(tmp_path / "shop.key")
    )
    supplied = parse_site(dump_site(document))
    vip = str(plain.vip)

    def probes(site):
        return site.shop_name, site.curl_to_vip, site.url("/x", scheme="http"), site.ab_target()

    assert (probes(plain), probes(acme), supplied.shop_name, acme.probe_ca(), with_bundle.probe_ca()) == (
        (vip, "", f"http://{vip}/x", f"https://{vip}/"),
        (
            "shop.example.com",
            f"--connect-to ::{vip}:",
            "http://shop.example.com/x",
            f"-H 'Host: shop.example.com' https://{vip}/",
        ),
        "www.example.org",
        None,
        str(bundle),
    )


@pytest.mark.parametrize(
    "data, key, said",
    [
        ({"tls_acme_email": ""}, "data.tls_acme_email", "tls_acme_email is not"),
        ({"tls_names": []}, "data.tls_names", "an ACME certificate is for DNS names"),
        ({"tls_names": ["*.example.com"]}, "data.tls_names", "*.example.com: a wildcard name"),
        ({"tls_names": ["a.example.com", "a.example.com"]}, "data.tls_names", "lists a name twice"),
        ({"tls_certificate": "/etc/a.pem", "tls_key": "/etc/a.key"}, "data.tls_certificate", "both set"),
        ({"tls_acme_ca_bundle": "/nonexistent/ca.pem"}, "data.tls_acme_ca_bundle", "cannot be read"),
        ({"tls_acme_directory": "http://acme.example/directory"}, "data.tls_acme_directory", "https:// URL"),
        ({"tls_acme_directory": "https://acme.example:70000/dir"}, "data.tls_acme_directory", "https:// URL"),
        ({"tls_acme_email": "not-an-address"}, "data.tls_acme_email", "not a mail address"),
    ],
)
def test_bad_acme_input_is_refused_naming_the_key(fixtures, data, key, said):
    with pytest.raises(SiteError) as refused:
        parse_site(dump_site(acme_site(fixtures, **data)))
    assert (key in str(refused.value), said in str(refused.value)) == (True, True), str(refused.value)


@pytest.mark.parametrize(
    "directory, bundle, sent",
    [
        ("https://acme-v02.api.letsencrypt.org/directory", "", 63072000),
        ("https://acme-staging-v02.api.letsencrypt.org/directory", "", 0),
        ("https://ca.internal/acme/directory", "/etc/ca.pem", 0),
    ],
)
def test_hsts_is_long_only_with_a_publicly_trusted_acme_server(directory, bundle, sent):
    from hastack import hsts

    assert hsts.max_age(-1, "", directory, bundle) == sent
