"""TLS for the shop's VIP: the site's own certificate, checked before any host is
touched, or one hastack issues from a site CA of its own, kept with the other secrets.

Everything here runs on the machine that runs pyinfra; nothing reaches a host.
"""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from hastack import secrets

# Below this many days to expiry a certificate is still used, with a warning.
WARN_DAYS = 30
# The CA hastack makes lives ten years; the VIP's certificate a year (renewed by a deploy
# once it has fewer than WARN_DAYS left).
CA_DAYS = 3650
LEAF_DAYS = 365
SYSTEM_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")


@dataclass
class Check:
    """What a certificate and key file are worth: problems refuse the site, warnings do not."""

    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def load_chain(path: Path) -> list[x509.Certificate]:
    return x509.load_pem_x509_certificates(Path(path).read_bytes())


def _issued_by(child: x509.Certificate, parent: x509.Certificate) -> bool:
    try:
        child.verify_directly_issued_by(parent)
        return True
    except (ValueError, TypeError, InvalidSignature):
        return False


def _self_signed(certificate: x509.Certificate) -> bool:
    return certificate.issuer == certificate.subject and _issued_by(certificate, certificate)


def _trusted_roots(bundle: Path | None) -> list[x509.Certificate]:
    if bundle is None or not bundle.exists():
        return []
    return x509.load_pem_x509_certificates(bundle.read_bytes())


def check_files(
    cert_path: Path, key_path: Path, now: datetime.datetime | None = None, bundle: Path | None = SYSTEM_BUNDLE
) -> Check:
    """The site's certificate file (the leaf first, then its intermediates) and key file:
    the key matches the leaf, each certificate is issued by the next, the last one is a root
    or issued by one the system trusts, and none has expired (a warning under WARN_DAYS)."""
    check, now = Check(), now or _now()
    try:
        chain = load_chain(cert_path)
    except (OSError, ValueError) as error:
        check.problems.append(f"{cert_path} holds no PEM certificate ({error})")
        return check
    try:
        key = serialization.load_pem_private_key(Path(key_path).read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as error:
        check.problems.append(f"{key_path} holds no unencrypted PEM private key ({error})")
        return check
    leaf = chain[0]
    public = serialization.PublicFormat.SubjectPublicKeyInfo
    encoding = serialization.Encoding.PEM
    if key.public_key().public_bytes(encoding, public) != leaf.public_key().public_bytes(encoding, public):
        check.problems.append(f"the key in {key_path} does not match the certificate in {cert_path}")
    for child, parent in zip(chain, chain[1:], strict=False):
        if not _issued_by(child, parent):
            check.problems.append(
                f"{cert_path}: {child.subject.rfc4514_string()} is not issued by the next certificate "
                f"({parent.subject.rfc4514_string()}): put the chain in order, leaf first"
            )
    last = chain[-1]
    if not _self_signed(last) and not any(_issued_by(last, root) for root in _trusted_roots(bundle)):
        check.problems.append(
            f"{cert_path}: the chain is incomplete: nothing in it or in the system's trust store issued "
            f"{last.subject.rfc4514_string()} (issuer {last.issuer.rfc4514_string()}): append the "
            "intermediate certificates"
        )
    for certificate in chain:
        name = certificate.subject.rfc4514_string()
        if certificate.not_valid_after_utc <= now:
            check.problems.append(
                f"{cert_path}: {name} expired on {certificate.not_valid_after_utc:%Y-%m-%d}"
            )
        elif certificate.not_valid_before_utc > now:
            check.problems.append(
                f"{cert_path}: {name} is not valid before {certificate.not_valid_before_utc:%Y-%m-%d}"
            )
        elif certificate.not_valid_after_utc - now < datetime.timedelta(days=WARN_DAYS):
            days = (certificate.not_valid_after_utc - now).days
            check.warnings.append(f"{cert_path}: {name} expires in {days} days: renew it")
    return check


def _write_secret(path: Path, content: bytes) -> None:
    path.unlink(missing_ok=True)
    secrets._write(path, content)


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _pem_key(key) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def site_ca(cluster: str) -> tuple[Path, Path]:
    """The site CA's certificate and key files (made on first use, kept with the secrets,
    0600): the file clients trust."""
    folder = secrets.secrets_dir(cluster)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    cert_path, key_path = folder / "tls_ca.pem", folder / "tls_ca.key"
    if cert_path.exists() and key_path.exists():
        return cert_path, key_path
    key, now = _key(), _now()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"hastack {cluster} site CA")])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write_secret(key_path, _pem_key(key))
    _write_secret(cert_path, certificate.public_bytes(serialization.Encoding.PEM))
    return cert_path, key_path


def vip_names(cluster: str, vip: str, names: list[str]) -> tuple[list[str], list[str]]:
    """(DNS names, IP addresses) the VIP's certificate carries."""
    return [f"{cluster}-vip", *[name for name in names if name != f"{cluster}-vip"]], [str(vip)]


def _sans(certificate: x509.Certificate) -> tuple[list[str], list[str]]:
    try:
        extension = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return [], []
    return extension.get_values_for_type(x509.DNSName), [
        str(address) for address in extension.get_values_for_type(x509.IPAddress)
    ]


def certificate_dns_names(path: str) -> list[str]:
    """The DNS names the leaf of a certificate file carries ([] when it cannot be read: the
    site's checks say so)."""
    try:
        return _sans(load_chain(Path(path))[0])[0]
    except (OSError, ValueError, IndexError):
        return []


def vip_certificate(
    cluster: str, vip: str, names: list[str], now: datetime.datetime | None = None
) -> tuple[Path, Path]:
    """The VIP's certificate (leaf, then the site CA) and key, issued by the site CA: kept, and
    issued again only when the names it must carry change or it has fewer than WARN_DAYS left
    (so that a second deploy changes nothing)."""
    now = now or _now()
    folder = secrets.secrets_dir(cluster)
    cert_path, key_path = folder / "tls_vip.pem", folder / "tls_vip.key"
    dns, ips = vip_names(cluster, vip, names)
    ca_cert_path, ca_key_path = site_ca(cluster)
    if cert_path.exists() and key_path.exists():
        leaf = load_chain(cert_path)[0]
        fresh = leaf.not_valid_after_utc - now >= datetime.timedelta(days=WARN_DAYS)
        if fresh and _sans(leaf) == (dns, ips):
            return cert_path, key_path
    chain, key = issue(ca_cert_path, ca_key_path, dns, ips, now, now + datetime.timedelta(days=LEAF_DAYS))
    _write_secret(key_path, key)
    _write_secret(cert_path, chain)
    return cert_path, key_path


def issue(
    ca_cert_path: Path,
    ca_key_path: Path,
    dns: list[str],
    ips: list[str],
    not_before: datetime.datetime,
    not_after: datetime.datetime,
) -> tuple[bytes, bytes]:
    """A server certificate from a CA's files: (PEM of the leaf then the CA, PEM of its key)."""
    ca_cert = load_chain(ca_cert_path)[0]
    ca_key = serialization.load_pem_private_key(Path(ca_key_path).read_bytes(), password=None)
    key = _key()
    alternative = [x509.DNSName(name) for name in dns] + [
        x509.IPAddress(ipaddress.ip_address(ip)) for ip in ips
    ]
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, dns[0])]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before - datetime.timedelta(minutes=5))
        .not_valid_after(not_after)
        .add_extension(x509.SubjectAlternativeName(alternative), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_cert.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    chain = certificate.public_bytes(serialization.Encoding.PEM) + ca_cert.public_bytes(
        serialization.Encoding.PEM
    )
    return chain, _pem_key(key)


def listener_pem(cluster: str, vip: str, certificate: str, key: str, names: list[str]) -> bytes:
    """What HAProxy's `crt` file holds: the certificate, its chain, then its key. The site's
    own files (checked when the site was loaded) or the VIP's certificate from the site CA."""
    if certificate:
        cert_path, key_path = Path(certificate), Path(key)
    else:
        cert_path, key_path = vip_certificate(cluster, vip, names)
    return cert_path.read_bytes().rstrip(b"\n") + b"\n" + key_path.read_bytes()


def client_ca(cluster: str, certificate: str) -> bytes | None:
    """The CA certificate the site's clients must trust: the site CA when hastack issues the
    VIP's certificate, the root at the end of the site's own chain when it carries one (a
    private CA), else None (a public CA, already trusted)."""
    if not certificate:
        return site_ca(cluster)[0].read_bytes()
    last = load_chain(Path(certificate))[-1]
    return last.public_bytes(serialization.Encoding.PEM) if _self_signed(last) else None


def client_ca_file(cluster: str, certificate: str) -> str | None:
    """client_ca as a file on this machine (kept with the secrets), for hastack's own probes;
    None where the system's CAs verify the site."""
    ca = client_ca(cluster, certificate)
    if ca is None:
        return None
    path = secrets.secrets_dir(cluster) / "tls_client_ca.pem"
    if not path.exists() or path.read_bytes() != ca:
        _write_secret(path, ca)
    return str(path)


def served_fingerprint_wanted(cluster: str, vip: str, certificate: str, names: list[str]) -> str:
    """SHA-256 fingerprint (openssl's form, AB:CD:...) of the leaf the VIP must serve."""
    path = Path(certificate) if certificate else vip_certificate(cluster, vip, names)[0]
    digest = load_chain(path)[0].fingerprint(hashes.SHA256())
    return ":".join(f"{byte:02X}" for byte in digest)
