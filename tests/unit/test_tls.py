"""The VIP's certificate: the site's own checked before any host is touched, or issued from a
site CA hastack makes and keeps (the local half, no host involved)."""

import datetime
import stat
from pathlib import Path

import pytest
from cryptography import x509

from hastack import tls
from hastack.site import SiteError, parse_site

GOOD_SITE = Path(__file__).parent / "fixtures" / "good_site.yaml"


@pytest.fixture
def secrets_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("HASTACK_SECRETS_DIR", str(tmp_path / "secrets"))
    return tmp_path / "secrets" / "shop"


def sans(path):
    leaf = tls.load_chain(path)[0]
    names = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return names.get_values_for_type(x509.DNSName), [
        str(ip) for ip in names.get_values_for_type(x509.IPAddress)
    ]


def test_the_vip_certificate_names_the_vip_and_chains_to_the_site_ca(secrets_dir):
    cert, key = tls.vip_certificate("shop", "10.9.0.10", ["shop.example"])
    check = tls.check_files(cert, key, bundle=None)
    modes = {path.name: stat.S_IMODE(path.stat().st_mode) for path in secrets_dir.iterdir()}
    assert (sans(cert), check.problems, check.warnings, set(modes.values())) == (
        (["shop-vip", "shop.example"], ["10.9.0.10"]),
        [],
        [],
        {0o600},
    )


def test_a_second_deploy_keeps_the_certificate_and_new_names_renew_it(secrets_dir):
    first = tls.vip_certificate("shop", "10.9.0.10", [])[0].read_bytes()
    again = tls.vip_certificate("shop", "10.9.0.10", [])[0].read_bytes()
    renamed = tls.vip_certificate("shop", "10.9.0.10", ["www.shop.example"])[0].read_bytes()
    assert (again == first, renamed == first) == (True, False)


def test_a_certificate_near_its_end_is_issued_again(secrets_dir):
    first = tls.vip_certificate("shop", "10.9.0.10", [])[0].read_bytes()
    later = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=tls.LEAF_DAYS - 10)
    assert tls.vip_certificate("shop", "10.9.0.10", [], now=later)[0].read_bytes() != first


def test_a_key_that_does_not_match_is_refused(secrets_dir, tmp_path):
    cert, _ = tls.vip_certificate("shop", "10.9.0.10", [])
    _, other_key = tls.site_ca("shop")
    problems = tls.check_files(cert, other_key, bundle=None).problems
    assert any("does not match the certificate" in problem for problem in problems)


def test_an_expired_certificate_is_refused_and_one_near_expiry_warned(secrets_dir):
    cert, key = tls.vip_certificate("shop", "10.9.0.10", [])
    now = datetime.datetime.now(datetime.UTC)
    expired = tls.check_files(cert, key, now=now + datetime.timedelta(days=tls.LEAF_DAYS + 1), bundle=None)
    near = tls.check_files(cert, key, now=now + datetime.timedelta(days=tls.LEAF_DAYS - 10), bundle=None)
    assert (
        any("expired on" in problem for problem in expired.problems),
        near.problems,
        any("expires in" in warning for warning in near.warnings),
    ) == (True, [], True)


def test_a_chain_without_its_issuer_is_incomplete(secrets_dir, tmp_path):
    cert, key = tls.vip_certificate("shop", "10.9.0.10", [])
    leaf_only = tmp_path / "leaf.pem"
    leaf_only.write_bytes(
        cert.read_bytes().split(b"-----END CERTIFICATE-----")[0] + b"-----END CERTIFICATE-----\n"
    )
    problems = tls.check_files(leaf_only, key, bundle=None).problems
    assert any("the chain is incomplete" in problem for problem in problems)


def test_a_chain_out_of_order_is_refused(secrets_dir, tmp_path):
    cert, key = tls.vip_certificate("shop", "10.9.0.10", [])
    leaf, ca = tls.load_chain(cert)
    from cryptography.hazmat.primitives import serialization

    swapped = tmp_path / "swapped.pem"
    swapped.write_bytes(
        ca.public_bytes(serialization.Encoding.PEM) + leaf.public_bytes(serialization.Encoding.PEM)
    )
    problems = tls.check_files(swapped, key, bundle=None).problems
    assert any("is not issued by the next certificate" in problem for problem in problems)


def site_with_certificate(tmp_path, chain: bytes, key: bytes):
    """(the site, None) or (None, the SiteError) of the good fixture naming these files."""
    (tmp_path / "shop.pem").write_bytes(chain)
    (tmp_path / "shop.key").write_bytes(key)
    document = GOOD_SITE.read_text() + (
        f"\ndata: {{tls_certificate: {tmp_path / 'shop.pem'}, tls_key: {tmp_path / 'shop.key'}, "
        "quorum_device_host: client, gluster_arbiter: proxy1, gluster_quorum_type: auto}\n"
    )
    try:
        return parse_site(document, str(GOOD_SITE)), None
    except SiteError as error:
        return None, error


def test_a_site_with_an_unusable_certificate_is_refused_naming_the_key(secrets_dir, tmp_path):
    ca_cert, ca_key = tls.site_ca("shop")
    now = datetime.datetime.now(datetime.UTC)
    good_chain, good_key = tls.issue(
        ca_cert, ca_key, ["shop-vip"], [], now, now + datetime.timedelta(days=90)
    )
    _, other_key = tls.issue(ca_cert, ca_key, ["shop-vip"], [], now, now + datetime.timedelta(days=90))
    old_chain, old_key = tls.issue(
        ca_cert, ca_key, ["shop-vip"], [], now - datetime.timedelta(days=90), now - datetime.timedelta(days=1)
    )
    soon_chain, soon_key = tls.issue(ca_cert, ca_key, ["shop-vip"], [], now, now + datetime.timedelta(days=9))
    good, _ = site_with_certificate(tmp_path, good_chain, good_key)
    _, mismatched = site_with_certificate(tmp_path, good_chain, other_key)
    _, expired = site_with_certificate(tmp_path, old_chain, old_key)
    soon, _ = site_with_certificate(tmp_path, soon_chain, soon_key)
    assert (
        good.warnings,
        [(p.path, "does not match" in p.message) for p in mismatched.problems],
        [(p.path, "expired on" in p.message) for p in expired.problems],
        [("expires in 8 days" in w or "expires in 9 days" in w) for w in soon.warnings],
    ) == ((), [("data.tls_certificate", True)], [("data.tls_certificate", True)], [True])
