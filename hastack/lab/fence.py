"""The lab's fencing: Pacemaker fences a proxy with the real agent fence_docker (fence-agents),
through the fence gate (hastack.lab.fencegate) on this machine.

The gate listens on the back network's gateway (the bridge's own address), asks every client
for a certificate of the lab's fence CA, and passes on to the Docker engine only what
fence_docker does to the two proxies' containers: inspect, kill (power off: SIGKILL, no clean
stop), start, restart. The engine itself is never opened to the lab.

The TLS files are made here once, into the lab's secrets folder (mode 0600): the CA's
certificate and the client's certificate and key reach the proxies as fence secrets
(data_keys.pacemaker_fence_secrets, /etc/hastack/fence); the gate's own certificate and key
stay on this machine; the CA's key is not kept. Delete the ``fence_docker-*`` and
``lab_fence_gate*`` files to make new ones.
"""

from __future__ import annotations

import ipaddress
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID

from hastack import qdevice, secrets
from hastack.components.pacemaker import FENCE_SECRET_DIR
from hastack.lab.common import LAB_DIR, PREFIX, LabError, running_command
from hastack.lab.layout import NETWORKS

CLUSTER = "lab"
GATE_PORT = 2376
# The Docker API version fence_docker writes in its URLs (its default, 1.11, would do as well):
# the gate drops it and asks the engine in the engine's own version, so any engine answers
# (Debian 12's docker.io 20.10 speaks up to 1.41; Docker 29 refuses below 1.44).
API_VERSION = "1.41"
CA_FILE, CLIENT_CERT, CLIENT_KEY = "fence_docker-ca.crt", "fence_docker-client.crt", "fence_docker-client.key"
# What reaches the proxies (data_keys.pacemaker_fence_secrets).
SECRETS = [CA_FILE, CLIENT_CERT, CLIENT_KEY]
GATE_CERT, GATE_KEY = "lab_fence_gate.crt", "lab_fence_gate.key"
PID_FILE = LAB_DIR / "fence-gate.pid"
LOG_FILE = LAB_DIR / "fence-gate.log"
OUT_FILE = LAB_DIR / "fence-gate.out"
PROXIES = ("proxy1", "proxy2")


def gateway(subnet: str) -> str:
    """The bridge's address on a lab network: the first of the upper half (the range Docker
    hands out), as ``hosts.ensure_networks`` creates it."""
    return str(list(ipaddress.ip_network(subnet).subnets(prefixlen_diff=1))[1].network_address)


def gate_address() -> str:
    return gateway(NETWORKS["back"])


def _pem_key(key) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def material() -> Path:
    """The fence CA, the gate's and the client's certificates, made on first use and kept in
    the lab's secrets folder; that folder."""
    folder = secrets.secrets_dir(CLUSTER)
    names = [*SECRETS, GATE_CERT, GATE_KEY]
    if all((folder / name).exists() for name in names):
        return folder
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    with secrets.made_alone(folder):
        # another process (./run's VM tests beside the lab's) may have made them meanwhile
        if not all((folder / name).exists() for name in names):
            _make(folder)
    return folder


def _make(folder: Path) -> None:
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = qdevice.issue_certificate("hastack lab fence CA", ca_key, "hastack lab fence CA", ca_key, ca=True)
    gate_key, client_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    gate = qdevice.issue_certificate(
        "hastack lab fence gate",
        gate_key,
        "hastack lab fence CA",
        ca_key,
        ca=False,
        usage=ExtendedKeyUsageOID.SERVER_AUTH,
        addresses=(gate_address(),),
    )
    client = qdevice.issue_certificate(
        "lab proxies", client_key, "hastack lab fence CA", ca_key, False, ExtendedKeyUsageOID.CLIENT_AUTH
    )
    for name, content in (
        (CA_FILE, ca.public_bytes(serialization.Encoding.PEM)),
        (CLIENT_CERT, client.public_bytes(serialization.Encoding.PEM)),
        (CLIENT_KEY, _pem_key(client_key)),
        (GATE_CERT, gate.public_bytes(serialization.Encoding.PEM)),
        (GATE_KEY, _pem_key(gate_key)),
    ):
        (folder / name).unlink(missing_ok=True)
        secrets._write(folder / name, content)


def devices() -> list[dict]:
    """One fence_docker device per proxy, its container its plug, through the gate by TLS with
    the lab's client certificate (files on the proxies, never on the command line)."""
    return [
        {
            "name": f"fence-{name}",
            "agent": "fence_docker",
            "options": {
                "ip": gate_address(),
                "ipport": GATE_PORT,
                "ssl_secure": 1,
                "tlscert": f"{FENCE_SECRET_DIR}/{CLIENT_CERT}",
                "tlskey": f"{FENCE_SECRET_DIR}/{CLIENT_KEY}",
                "tlscacert": f"{FENCE_SECRET_DIR}/{CA_FILE}",
                "api_version": API_VERSION,
                # power off (kill), then on (start): a cut, not a clean stop
                "method": "onoff",
                "plug": f"{PREFIX}-{name}",
                "pcmk_host_list": name,
            },
        }
        for name in PROXIES
    ]


def gate_pid() -> int | None:
    """The running gate's pid (ours, by its pid file and its command line), else None."""
    try:
        pid = int(PID_FILE.read_text().strip())
    except (OSError, ValueError):
        return None
    command = running_command(pid)
    return pid if command and b"hastack.lab.fencegate" in b" ".join(command) else None


def _listening(limit: float) -> bool:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((gate_address(), GATE_PORT), timeout=1):
                return True
        except OSError:
            time.sleep(0.2)
    return False


def start_gate() -> None:
    """The gate up on the back network's gateway (after the networks exist); kept if it runs."""
    if gate_pid() is not None:
        return
    folder = material()
    command = [
        sys.executable,
        "-m",
        "hastack.lab.fencegate",
        "--listen",
        f"{gate_address()}:{GATE_PORT}",
        "--cert",
        str(folder / GATE_CERT),
        "--key",
        str(folder / GATE_KEY),
        "--ca",
        str(folder / CA_FILE),
        "--log",
        str(LOG_FILE),
        *(arg for name in PROXIES for arg in ("--allow", f"{PREFIX}-{name}")),
    ]
    with OUT_FILE.open("ab") as out:
        process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=out, stderr=out, start_new_session=True
        )
    PID_FILE.write_text(f"{process.pid}\n")
    if not _listening(15):
        raise LabError(f"the fence gate did not listen on {gate_address()}:{GATE_PORT}: see {OUT_FILE}")


def stop_gate() -> None:
    pid = gate_pid()
    if pid is not None:
        os.kill(pid, signal.SIGTERM)
    PID_FILE.unlink(missing_ok=True)


def fenced(since: float = 0) -> list[str]:
    """The gate's log lines (time, client, action, container: status), those written after
    ``since`` (a time.time())."""
    try:
        lines = LOG_FILE.read_text().splitlines()
    except OSError:
        return []
    if not since:
        return lines
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(since))
    return [line for line in lines if line[:19] >= stamp]
