"""ACME (RFC 8555) for the VIP's certificate: the account key and its thumbprint.

Both proxies use one account key, made on the machine that runs pyinfra and kept with the other
secrets. HAProxy answers every HTTP-01 challenge itself, statelessly: the answer to the token
``T`` is ``T.<thumbprint of the account key>`` (RFC 8555, 8.1 and 8.3). So whichever proxy holds
the VIP answers the challenges of an order placed by either proxy, and no challenge file or
certificate has to travel between them: each proxy obtains and renews its own certificate.

Everything here runs on the machine that runs pyinfra; nothing reaches a host.
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from hastack import secrets

ACCOUNT_KEY = "acme_account.key"
# Where the token's answer is asked for (RFC 8555, 8.3).
CHALLENGE_PATH = "/.well-known/acme-challenge/"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def account_key(cluster: str) -> Path:
    """The ACME account's key (EC P-256, PEM), made on first use, 0600 with the secrets."""
    path = secrets._path(cluster, ACCOUNT_KEY)
    with secrets.made_alone(path.parent):
        if not path.exists():
            key = ec.generate_private_key(ec.SECP256R1())
            pem = key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
            secrets._write(path, pem)
    return path


def thumbprint(key_pem: bytes) -> str:
    """The JWK thumbprint (RFC 7638) of an EC P-256 key's public half: SHA-256 of the required
    members in lexical order, no whitespace, base64url without padding."""
    key = serialization.load_pem_private_key(key_pem, password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise ValueError("the ACME account key is not an EC P-256 key")
    numbers = key.public_key().public_numbers()
    jwk = {
        "crv": "P-256",
        "kty": "EC",
        "x": _b64url(numbers.x.to_bytes(32, "big")),
        "y": _b64url(numbers.y.to_bytes(32, "big")),
    }
    canonical = json.dumps(jwk, separators=(",", ":"), sort_keys=True).encode()
    return _b64url(hashlib.sha256(canonical).digest())
