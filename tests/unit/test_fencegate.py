"""The fence gate: its policy and filters, then the gate itself on real sockets, between a TLS client
and a fake Docker engine on a unix socket."""

import http.client
import ipaddress
import json
import socket
import socketserver
import ssl
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from hastack.lab.fencegate import FenceGate, decide, filter_inspect, filter_list, make_context, parse_response

SERVER, CLIENT = ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH
PEM = serialization.Encoding.PEM
ALLOWED = {"hastack-lab-proxy1", "hastack-lab-proxy2"}
P1 = "hastack-lab-proxy1"
INSPECT = {"Id": "a" * 64, "Name": f"/{P1}", "State": {"Running": True, "Status": "running", "Pid": 7}}
INSPECT["Config"] = {"Env": ["SECRET=hunter2"]}
LISTED = [
    {"Id": "a" * 64, "Names": [f"/{P1}"], "Status": "Up 2 hours", "Image": "lab", "Labels": {"k": "v"}},
    {"Id": "b" * 64, "Names": ["/hastack-lab-web1"], "Status": "Up 2 hours"},
]


@pytest.mark.parametrize("prefix", ["", "/v1.41"])
@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("GET", f"/containers/{P1}/json", ("inspect", P1)),
        ("POST", f"/containers/{P1}/kill", ("kill", P1)),
        ("POST", "/containers/hastack-lab-proxy2/start", ("start", "hastack-lab-proxy2")),
        ("POST", f"/containers/{P1}/restart", ("restart", P1)),
        ("GET", "/containers/json?all=1", ("list", "")),
    ],
)
def test_decide_allows_fence_dockers_calls(prefix, method, path, expected):
    assert decide(method, prefix + path, ALLOWED) == expected


@pytest.mark.parametrize(
    ("method", "target"),
    [
        ("GET", "/v1.41/containers/hastack-lab-web1/json"),
        ("POST", "/containers/hastack-lab-web1/kill"),
        ("POST", f"/containers/{'a' * 64}/kill"),
        ("POST", "/containers/hastack-lab-proxy/kill"),
        ("GET", f"/containers/{P1}/../hastack-lab-web1/json"),
        ("GET", "/containers/../json"),
        ("GET", f"/containers/{P1}%2e/json"),
        ("GET", "/v1.41/containers/%2e%2e/json"),
        ("POST", f"/v1.41/containers/{P1}/exec"),
        ("DELETE", f"/v1.41/containers/{P1}"),
        ("DELETE", f"/containers/{P1}/json"),
        ("POST", f"/v1.41/containers/{P1}/kill?signal=HUP"),
        ("GET", f"/containers/{P1}/json?size=1"),
        ("GET", f"/containers/{P1}/logs"),
        ("GET", "/images/json"),
        ("POST", "/v1.41/containers/create"),
        ("GET", f"/containers/{P1}/kill"),
        ("POST", f"/containers/{P1}/json"),
        ("POST", "/containers/json?all=1"),
        ("GET", "/containers/json?filters=x"),
        ("GET", f"/va.b/containers/{P1}/json"),
        ("GET", f"http://docker/containers/{P1}/json"),
        ("get", f"/containers/{P1}/json"),
    ],
)
def test_decide_refuses_everything_else(method, target):
    assert decide(method, target, ALLOWED) is None


def test_inspect_keeps_only_the_state():
    kept = json.loads(filter_inspect(json.dumps(INSPECT).encode()))
    assert kept == {"Id": "a" * 64, "Name": f"/{P1}", "State": {"Running": True, "Status": "running"}}


def test_list_keeps_only_the_allowed_containers():
    kept = json.loads(filter_list(json.dumps(LISTED).encode(), ALLOWED))
    assert kept == [{"Id": "a" * 64, "Names": [f"/{P1}"], "Status": "Up 2 hours"}]


@pytest.mark.parametrize(
    "raw",
    [
        b'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n{"a\r\n5;x=y\r\n": 1}\r\n0\r\n\r\n',
        b'HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\n{"a": 1}trailing',
        b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{"a": 1}',
    ],
)
def test_parse_response_reads_each_framing(raw):
    assert parse_response(raw)[0::2] == (200, b'{"a": 1}')


def _issue(cn, issuer=None, *, ip=None, usage=None):
    """A new key and its certificate: a CA's when ``issuer`` is None, else signed by (cert, key)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    (issuer_cert, issuer_key), now = issuer or (None, key), datetime.now(UTC)
    builder = (
        x509.CertificateBuilder(issuer_name=issuer_cert.subject if issuer else name, subject_name=name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=not issuer, path_length=None), critical=True)
    )
    if usage:
        builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    if ip:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.IPAddress(ip)]), critical=False)
    return builder.sign(issuer_key, hashes.SHA256()), key


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """PEM files: the fence CA, the gate's certificate, a client of the CA and one of another CA."""
    folder, files = tmp_path_factory.mktemp("pki"), {}
    ca, localhost = _issue("fence CA"), ipaddress.ip_address("127.0.0.1")
    issued = {"ca": ca, "server": _issue("gate", ca, ip=localhost, usage=SERVER)}
    issued["client"], issued["stranger"] = (
        _issue("fence-client", ca, usage=CLIENT),
        _issue("x", _issue("other")),
    )
    for label, (cert, key) in issued.items():
        files[label], files[f"{label}.key"] = folder / f"{label}.crt", folder / f"{label}.key"
        files[label].write_bytes(cert.public_bytes(PEM))
        pkcs8 = serialization.PrivateFormat.PKCS8
        files[f"{label}.key"].write_bytes(key.private_bytes(PEM, pkcs8, serialization.NoEncryption()))
    return {label: str(path) for label, path in files.items()}


class _EngineHandler(socketserver.StreamRequestHandler):
    def handle(self):
        method, target, _ = self.rfile.readline().decode().split(" ")
        while self.rfile.readline() not in (b"\r\n", b""):
            pass
        self.server.seen.append((method, target))
        path = target.partition("?")[0]
        if path.endswith("/containers/json"):
            body = json.dumps(LISTED).encode()
            self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
        elif path.endswith("/json"):  # inspect, chunked as Docker does
            body = json.dumps(INSPECT).encode()
            chunks = b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in (body[:10], body[10:]))
            self.wfile.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks + b"0\r\n\r\n")
        elif path.endswith("/kill"):
            self.wfile.write(b"HTTP/1.1 204 No Content\r\n\r\n")
        else:
            self.wfile.write(b'HTTP/1.1 404 Not Found\r\n\r\n{"message": "page not found"}')


@pytest.fixture
def engine(tmp_path):
    server = socketserver.ThreadingUnixStreamServer(str(tmp_path / "docker.sock"), _EngineHandler)
    server.daemon_threads, server.seen = True, []
    threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def gate(pki, engine, tmp_path):
    context = make_context(pki["server"], pki["server.key"], pki["ca"])
    server = FenceGate(("127.0.0.1", 0), context, engine.server_address, ALLOWED, str(tmp_path / "gate.log"))
    threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def _client(pki, who="client"):
    context = ssl.create_default_context(cafile=pki["ca"])
    if who:
        context.load_cert_chain(pki[who], pki[f"{who}.key"])
    return context


def _call(pki, port, method, target, who="client"):
    connection = http.client.HTTPSConnection("127.0.0.1", port, context=_client(pki, who), timeout=5)
    try:
        connection.request(method, target)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def test_gate_forwards_fence_dockers_calls_and_filters_the_answers(pki, engine, gate, tmp_path):
    port = gate.server_address[1]
    status, body = _call(pki, port, "GET", f"/v1.41/containers/{P1}/json")
    assert (status, json.loads(body)) == (200, json.loads(filter_inspect(json.dumps(INSPECT).encode())))
    assert b"hunter2" not in body
    assert _call(pki, port, "POST", f"/v1.41/containers/{P1}/kill") == (204, b"")
    status, body = _call(pki, port, "GET", "/v1.41/containers/json?all=1")
    assert (status, [entry["Names"] for entry in json.loads(body)]) == (200, [[f"/{P1}"]])
    # forwarded unversioned: the engine answers in its own API version (Docker 29 refuses 1.41)
    assert engine.seen == [
        ("GET", f"/containers/{P1}/json"),
        ("POST", f"/containers/{P1}/kill"),
        ("GET", "/containers/json?all=1"),
    ]
    log = (tmp_path / "gate.log").read_text().splitlines()
    assert len(log) == 3 and log[1].endswith(f" fence-client kill {P1} : 204")
    assert log[2].endswith(" fence-client list /v1.41/containers/json?all=1 : 200")


@pytest.mark.parametrize(
    ("method", "target"),
    [
        ("GET", "/v1.41/containers/hastack-lab-web1/json"),
        ("POST", f"/v1.41/containers/{P1}/kill?signal=HUP"),
        ("POST", f"/v1.41/containers/{P1}/exec"),
        ("GET", f"/containers/{P1}/../hastack-lab-web1/json"),
    ],
)
def test_gate_refuses_other_calls_without_reaching_the_engine(pki, engine, gate, tmp_path, method, target):
    assert _call(pki, gate.server_address[1], method, target)[0] == 403
    assert engine.seen == []
    assert (tmp_path / "gate.log").read_text().endswith(f" fence-client refused {target} : 403\n")


@pytest.mark.parametrize(
    ("head", "status"),
    [
        (b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", b"400"),
        (b"X-Pad: " + b"x" * 17000 + b"\r\n\r\n", b"400"),
    ]
    + [(b"Content-Length: 2000000\r\n\r\n", b"413"), (b"Content-Length: 5\r\n\r\nhello", b"200")],
)
def test_gate_reads_requests_within_limits(pki, engine, gate, head, status):
    connection = socket.create_connection(gate.server_address, 5)
    with _client(pki).wrap_socket(connection, server_hostname="127.0.0.1") as tls:
        tls.sendall(b"GET /containers/json?all=1 HTTP/1.1\r\n" + head)
        answer = b"".join(iter(lambda: tls.recv(4096), b""))
    assert answer.split(b" ")[1] == status
    assert len(engine.seen) == (status == b"200")


@pytest.mark.parametrize("who", [None, "stranger"])
def test_client_without_a_certificate_of_the_ca_is_turned_away(pki, engine, gate, tmp_path, who):
    with pytest.raises((ssl.SSLError, ConnectionError)):
        _call(pki, gate.server_address[1], "GET", f"/containers/{P1}/json", who=who)
    assert engine.seen == []
    assert (tmp_path / "gate.log").read_text() == ""


def test_gate_runs_as_a_module(pki, engine, tmp_path):
    options = (
        f"--listen 127.0.0.1:0 --cert {pki['server']} --key {pki['server.key']} --ca {pki['ca']}".split()
    )
    options += ["--docker-socket", engine.server_address, "--allow", P1, "--log", str(tmp_path / "gate.log")]
    command = [sys.executable, "-m", "hastack.lab.fencegate", *options]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        assert line.startswith("fence gate listening on 127.0.0.1:")
        port = int(line.rsplit(":", 1)[1])
        assert _call(pki, port, "POST", f"/containers/{P1}/kill") == (204, b"")
        assert _call(pki, port, "GET", "/containers/hastack-lab-proxy2/json")[0] == 403
    finally:
        process.terminate()
        process.wait(timeout=5)
        process.stdout.close()
