"""The OS map: what hastack does differently on each release of the matrix, and what it refuses."""

import re
from pathlib import Path

import pytest

from hastack import platforms
from hastack.defaults import ROOT

TEMPLATES = ROOT / "templates" / "monitoring"


def row(distribution: str, release: str) -> platforms.Platform:
    return platforms.for_os(distribution, release)


# Per release: tested, packager, php, compose, Ganglia in Docker, gmond's and gmetad's units, ab's package.
CHOICES = {
    ("debian", "12"): (
        True,
        "apt",
        "8.2",
        "docker-compose",
        False,
        "ganglia-monitor",
        "gmetad",
        "apache2-utils",
    ),
    ("debian", "13"): (
        True,
        "apt",
        "8.4",
        "docker compose",
        True,
        "hastack-gmond",
        "hastack-gmetad",
        "apache2-utils",
    ),
    ("ubuntu", "22.04"): (
        False,
        "apt",
        "8.1",
        "docker compose",
        False,
        "ganglia-monitor",
        "gmetad",
        "apache2-utils",
    ),
    ("ubuntu", "24.04"): (
        False,
        "apt",
        "8.3",
        "docker compose",
        False,
        "ganglia-monitor",
        "gmetad",
        "apache2-utils",
    ),
    ("fedora", "41"): (False, "dnf", None, "docker-compose", False, "gmond", "gmetad", "httpd-tools"),
    ("fedora", "42"): (False, "dnf", None, "docker-compose", False, "gmond", "gmetad", "httpd-tools"),
}


def test_the_matrix_is_exactly_these_rows():
    assert sorted((p.distribution, p.release) for p in platforms.MATRIX) == sorted(CHOICES)


@pytest.mark.parametrize("key", sorted(CHOICES), ids=lambda key: " ".join(key))
def test_each_release_gets_its_own_choices(key):
    p = row(*key)
    chosen = (
        p.tested,
        p.packager,
        p.php,
        p.compose,
        p.ganglia_in_container,
        p.gmond_service,
        p.gmetad_service,
        p.ab_package,
    )
    assert chosen == CHOICES[key]


def test_only_debian_is_tested_on_hosts():
    assert [p.label for p in platforms.MATRIX if p.tested] == [
        "Debian 12 bookworm (debian 12)",
        "Debian 13 trixie (debian 13)",
    ]


def test_debian_13_runs_ganglia_from_docker_and_installs_only_rrdtool_for_gmetad():
    p = row("debian", "13")
    assert (p.gmond_packages, p.gmetad_packages, p.compose_command) == (
        (),
        ("rrdtool",),
        ["docker", "compose"],
    )


def test_debian_12_installs_ganglias_packages():
    p = row("debian", "12")
    assert (p.gmond_packages, p.gmetad_packages) == (("ganglia-monitor",), ("gmetad", "rrdtool"))


def test_ubuntu_takes_compose_v2_from_its_own_package_never_jammys_v1():
    """jammy's docker-compose is v1 (Python); both releases have docker-compose-v2
    (packages.ubuntu.com, 2026-12-05)."""
    for release in ("22.04", "24.04"):
        assert (row("ubuntu", release).docker_packages, row("ubuntu", release).compose_command) == (
            ("docker.io", "docker-compose-v2"),
            ["docker", "compose"],
        )


def test_noble_has_no_resource_agents_package_and_splits_its_fence_agents():
    noble, jammy = row("ubuntu", "24.04"), row("ubuntu", "22.04")
    assert (noble.resource_agents_package, noble.fence_packages(["fence_ipmilan"])) == (
        "resource-agents-base",
        ("fence-agents-ipmilan",),
    )
    # jammy's resource-agents and fence-agents are transitional: they pull in the real ones
    assert (jammy.resource_agents_package, jammy.fence_packages(["fence_ipmilan"])) == (
        "resource-agents",
        ("fence-agents",),
    )
    assert {row("debian", r).resource_agents_package for r in ("12", "13")} == {"resource-agents"}


def test_fedora_serves_the_client_only_with_its_own_paths():
    p = row("fedora", "41")
    assert (p.roles, p.chrony_conf, p.chrony_options, p.chrony_service, p.ssh_service) == (
        ("client",),
        "/etc/chrony.conf",
        ("/etc/sysconfig/chronyd", "OPTIONS"),
        "chronyd",
        "sshd",
    )
    assert p.gmond_modules("x86_64")["cpu_module"] == "/usr/lib64/ganglia/modcpu.so"
    assert (p.snmpd_package, p.snmpd_state, p.gmond_packages) == (
        "net-snmp",
        "/var/lib/net-snmp/snmpd.conf",
        ("ganglia-gmond",),
    )


def test_ubuntu_rows_follow_the_debian_release_of_their_time():
    jammy, noble = row("ubuntu", "22.04"), row("ubuntu", "24.04")
    assert (jammy.ganglia_web_patches, noble.ganglia_web_patches) == (
        row("debian", "12").ganglia_web_patches,
        row("debian", "13").ganglia_web_patches,
    )


@pytest.mark.parametrize("key", sorted(CHOICES), ids=lambda key: " ".join(key))
def test_each_ganglia_patch_of_the_map_exists_and_says_what_it_is_for(key):
    for patch in row(*key).ganglia_web_patches:
        text = (TEMPLATES / patch).read_text()
        assert text.startswith("hastack: ") and re.search(r"^--- a/", text, re.M)


def test_debian_13_patches_differ_from_debian_12s():
    assert row("debian", "12").ganglia_web_patches != row("debian", "13").ganglia_web_patches


DEBIAN_13 = """PRETTY_NAME="Debian GNU/Linux 13 (trixie)"
NAME="Debian GNU/Linux"
VERSION_ID="13"
ID=debian
"""


def test_os_release_is_read_with_its_quotes_removed():
    assert platforms.parse_os_release(DEBIAN_13) == {
        "PRETTY_NAME": "Debian GNU/Linux 13 (trixie)",
        "NAME": "Debian GNU/Linux",
        "VERSION_ID": "13",
        "ID": "debian",
    }


def test_a_host_in_the_matrix_gets_its_row():
    assert platforms.for_host(platforms.parse_os_release(DEBIAN_13), "web") is row("debian", "13")


@pytest.mark.parametrize(
    "os_release, role",
    [
        ('PRETTY_NAME="Debian GNU/Linux 11 (bullseye)"\nID=debian\nVERSION_ID="11"\n', "proxy"),
        ('PRETTY_NAME="Rocky Linux 9.4"\nID=rocky\nVERSION_ID="9.4"\n', "client"),
        ('PRETTY_NAME="Fedora Linux 41"\nID=fedora\nVERSION_ID=41\n', "web"),
    ],
)
def test_a_host_outside_the_matrix_is_refused_naming_its_os_and_the_list(os_release, role):
    pretty = platforms.parse_os_release(os_release)["PRETTY_NAME"]
    with pytest.raises(platforms.UnsupportedPlatform) as error:
        platforms.for_host(platforms.parse_os_release(os_release), role)
    message = str(error.value)
    assert (pretty in message, f"for a {role} host" in message, "Debian 13 trixie" in message) == (
        True,
        True,
        True,
    )
    assert ("Fedora" in message.split("supported:", 1)[1]) == (role == "client")


def test_the_lab_builds_ganglia_from_the_release_the_map_takes_it_from():
    from hastack.lab.images import GANGLIA_IMAGE, GANGLIA_IMAGE_RELEASE

    assert (GANGLIA_IMAGE_RELEASE, set(GANGLIA_IMAGE.packages) >= {"ganglia-monitor", "gmetad"}) == (12, True)
    assert not row("debian", str(GANGLIA_IMAGE_RELEASE)).ganglia_in_container


def test_the_map_is_the_only_place_that_names_a_release():
    """Deploys ask the map; none compares releases or names a code name itself."""
    offenders = []
    for path in sorted(Path(ROOT / "deploys").glob("*.py")):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if re.search(r"bookworm|trixie|jammy|noble|VERSION_ID|\b8\.[1-4]\b|os_release", line):
                offenders.append(f"{path.name}:{number}: {line.strip()}")
    assert offenders == []


def test_fence_agents_come_from_one_package_or_one_each():
    agents = ["fence_ipmilan", "fence_ilo_ssh", "fence_ipmilan"]
    assert (row("debian", "12").fence_packages(agents), row("debian", "13").fence_packages(agents)) == (
        ("fence-agents",),
        ("fence-agents-ipmilan", "fence-agents-ilo-ssh"),
    )


# `apt-get indextargets --no-release-info` then `apt-get indextargets` (both with --format
# '$(RELEASE) $(CODENAME) $(COMPONENT)'): a jammy host whose universe is off, a noble host whose
# lists were never fetched (the second lists nothing then), a Debian host that names its release
# by alias.
JAMMY_MAIN_ONLY = [
    "jammy $(CODENAME) main",
    "jammy-updates $(CODENAME) main",
    "jammy jammy main",
    "jammy-updates jammy-updates main",
]
NOBLE_UNFETCHED = ["noble $(CODENAME) main", "noble $(CODENAME) universe"]
TRIXIE_BY_ALIAS = [
    "stable $(CODENAME) main",
    "stable trixie main",
    "stable-updates trixie-updates main",
    "garbage",
]


def test_the_sources_a_release_needs_are_named_when_missing():
    from hastack.facts.system import apt_components

    jammy, noble, trixie = row("ubuntu", "22.04"), row("ubuntu", "24.04"), row("debian", "13")
    assert (
        jammy.missing_apt_components(apt_components(JAMMY_MAIN_ONLY), "web"),
        jammy.missing_apt_components(apt_components(JAMMY_MAIN_ONLY), "proxy"),
        jammy.missing_apt_components(apt_components([*JAMMY_MAIN_ONLY, "jammy jammy universe"]), "web"),
        noble.missing_apt_components(apt_components(NOBLE_UNFETCHED), "web"),
        trixie.missing_apt_components(apt_components(TRIXIE_BY_ALIAS), "proxy"),
        trixie.missing_apt_components(apt_components([]), "client"),
        row("fedora", "42").missing_apt_components([], "client"),
    ) == (
        ["jammy universe", "jammy-updates universe"],
        ["jammy universe"],
        ["jammy-updates universe"],
        [],
        [],
        ["trixie main"],
        [],
    )


@pytest.mark.parametrize(
    "key", [(p.distribution, p.release) for p in platforms.MATRIX if p.packager == "apt"]
)
def test_every_apt_release_needs_its_own_main(key):
    """The codename in each row's sources is the release's own (its name's last word)."""
    platform = row(*key)
    codename = platform.name.split()[-1]
    assert f"{codename} main" in platform.apt_components
    assert all(entry.split()[0].split("-")[0] == codename for entry in platform.apt_components)


def test_https_offers_the_intermediate_profiles_groups_and_ml_kem_only_with_openssl_3_5():
    groups = {(p.distribution, p.release): p.tls_groups for p in platforms.MATRIX if p.packager == "apt"}
    assert groups == {
        ("debian", "12"): "X25519:prime256v1:secp384r1",
        ("debian", "13"): "X25519MLKEM768:X25519:prime256v1:secp384r1",
        ("ubuntu", "22.04"): "X25519:prime256v1:secp384r1",
        ("ubuntu", "24.04"): "X25519:prime256v1:secp384r1",
    }
