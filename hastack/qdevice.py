"""The quorum device: corosync-qnetd on a third host, corosync-qdevice on the proxies.

Their TLS material is made here, on the machine that runs pyinfra, once, and kept with the
other secrets (mode 0600): a CA of its own ("QNet CA"), qnetd's server certificate (subject
"CN=Qnetd Server", which qdevice checks) and the cluster's client certificate (subject
"CN=<cluster>", which qnetd checks against the cluster's name). Each host gets a PKCS#12 file
and its password in a private file, imported into its NSS database with the nicknames both
daemons look for; no pcsd is needed on the qnetd host. To rotate them, delete the ``qnetd_*``
files in the secrets folder and deploy.
"""

from __future__ import annotations

import datetime
import hashlib
import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from hastack import secrets

QNETD_PORT = 5403
# The names corosync-qnetd and corosync-qdevice look for in their NSS databases.
CA_NICKNAME = "QNet CA"
SERVER_NICKNAME = "QNetd Cert"
CLIENT_NICKNAME = "Cluster Cert"
SERVER_CN = "Qnetd Server"
QNETD_DB = "/etc/corosync/qnetd/nssdb"
QDEVICE_DB = "/etc/corosync/qdevice/net/nssdb"
# The heuristic that makes the side holding the VIP win a tie (see data_keys.quorum_device_host).
HOLDS_VIP = "/usr/local/sbin/hastack-holds-vip"
DAYS = 3650


@dataclass(frozen=True)
class Material:
    """The files a deploy hands over: each PKCS#12 holds its key, its certificate and the CA."""

    ca_fingerprint: str
    server_fingerprint: str
    client_fingerprint: str
    server_p12: Path
    client_p12: Path
    password_file: Path


def fingerprint(certificate: x509.Certificate) -> str:
    """SHA-256 of the DER, as ``certutil -L -r | sha256sum`` gives it on a host."""
    return hashlib.sha256(certificate.public_bytes(serialization.Encoding.DER)).hexdigest()


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def issue_certificate(
    subject: str, key, issuer: str, issuer_key, ca: bool, usage=None, addresses: tuple[str, ...] = ()
) -> x509.Certificate:
    """A certificate of ``subject`` signed by ``issuer``; ``addresses``: its IP names (a server
    reached by address: the lab's fence gate)."""
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=DAYS))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None), critical=True)
    )
    if usage is not None:
        builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    if addresses:
        names = [x509.IPAddress(ipaddress.ip_address(address)) for address in addresses]
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def _p12(name: str, key, certificate: x509.Certificate, ca: x509.Certificate, password: bytes) -> bytes:
    encryption = (
        serialization.PrivateFormat.PKCS12.encryption_builder()
        .kdf_rounds(50000)
        .key_cert_algorithm(pkcs12.PBES.PBESv2SHA256AndAES256CBC)
        .hmac_hash(hashes.SHA256())
        .build(password)
    )
    ca_entry = pkcs12.PKCS12Certificate(ca, CA_NICKNAME.encode())
    return pkcs12.serialize_key_and_certificates(name.encode(), key, certificate, [ca_entry], encryption)


def material(cluster: str) -> Material:
    """The quorum device's TLS files for this cluster, made on first use and kept."""
    folder = secrets.secrets_dir(cluster)
    paths = {name: folder / f"qnetd_{name}" for name in ("ca.pem", "server.pem", "client.pem")}
    server_p12, client_p12 = folder / "qnetd_server.p12", folder / "qnetd_client.p12"
    if not all(path.exists() for path in (*paths.values(), server_p12, client_p12)):
        password = secrets.password(cluster, "qnetd_p12_password").encode()
        ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        ca = issue_certificate(CA_NICKNAME, ca_key, CA_NICKNAME, ca_key, ca=True)
        leaves = {}
        for label, subject, usage in (
            ("server", SERVER_CN, ExtendedKeyUsageOID.SERVER_AUTH),
            ("client", cluster, ExtendedKeyUsageOID.CLIENT_AUTH),
        ):
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            leaves[label] = (key, issue_certificate(subject, key, CA_NICKNAME, ca_key, ca=False, usage=usage))
        # The CA's key is not kept: nothing is signed after this.
        for path, content in (
            (server_p12, _p12(SERVER_NICKNAME, *leaves["server"], ca, password)),
            (client_p12, _p12(CLIENT_NICKNAME, *leaves["client"], ca, password)),
            (paths["ca.pem"], ca.public_bytes(serialization.Encoding.PEM)),
            (paths["server.pem"], leaves["server"][1].public_bytes(serialization.Encoding.PEM)),
            (paths["client.pem"], leaves["client"][1].public_bytes(serialization.Encoding.PEM)),
        ):
            path.unlink(missing_ok=True)
            secrets._write(path, content)
    loaded = {name: x509.load_pem_x509_certificate(path.read_bytes()) for name, path in paths.items()}
    secrets.password(cluster, "qnetd_p12_password")
    return Material(
        fingerprint(loaded["ca.pem"]),
        fingerprint(loaded["server.pem"]),
        fingerprint(loaded["client.pem"]),
        server_p12,
        client_p12,
        folder / "qnetd_p12_password",
    )


def qnetd_address(qnetd: Mapping[str, str], proxies: Iterable[Mapping[str, str]]) -> str:
    """The qnetd host's address the proxies reach it on: on the back network if they all share
    it, else the front (the site's rules refuse a qnetd host that shares neither)."""
    shared = set(qnetd)
    for addresses in proxies:
        shared &= set(addresses)
    network = "back" if "back" in shared else "front"
    return str(qnetd[network])
