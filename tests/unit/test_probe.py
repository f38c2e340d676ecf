"""The probes reach the VIP by address while asking for the shop's name: TLS SNI, the
certificate's check and the Host header carry the name (``Site.shop_name``), as a browser's
request to a name that resolves to the VIP would. Against an HTTPS server on loopback with a
certificate for a name that resolves nowhere."""

import datetime
import http.server
import json
import os
import ssl
import subprocess
import sys
import threading

import pytest

from hastack import tls
from hastack.drill import STREAM
from hastack.probe import http_get

NAME = "shop.probe.invalid"


@pytest.fixture
def server(tmp_path, monkeypatch):
    """(port, CA file, what it saw: [(SNI, Host)])."""
    monkeypatch.setenv("HASTACK_SECRETS_DIR", str(tmp_path / "secrets"))
    ca_cert, ca_key = tls.site_ca("probe")
    now = datetime.datetime.now(datetime.UTC)
    chain, key = tls.issue(ca_cert, ca_key, [NAME], [], now, now + datetime.timedelta(days=1))
    (tmp_path / "cert.pem").write_bytes(chain)
    (tmp_path / "key.pem").write_bytes(key)
    seen, names = [], {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            seen.append((names.get(self.connection.fileno()), self.headers["Host"], self.path))
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    context.sni_callback = lambda sock, name, _: names.__setitem__(sock.fileno(), name)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield httpd.server_address[1], str(ca_cert), seen
    finally:
        httpd.shutdown()


def test_http_get_connects_to_the_address_and_asks_for_the_name(server):
    port, ca, seen = server
    url = f"https://{NAME}:{port}/healthz?x=1"
    assert (
        http_get(url, cafile=ca, address="127.0.0.1"),
        seen,
        # without the address, the name resolves nowhere; without the CA, the chain fails
        http_get(url, cafile=ca)[0],
        http_get(url, address="127.0.0.1")[0],
    ) == ((200, "ok"), [(NAME, f"{NAME}:{port}", "/healthz?x=1")], 0, 0)


def test_the_stream_connects_to_the_address_and_asks_for_the_name(server):
    port, ca, seen = server
    url = f"https://{NAME}:{port}/"
    env = {**os.environ, "SSL_CERT_FILE": ca}

    def stream(*address: str) -> list[int]:
        run = subprocess.run(
            [sys.executable, "-c", STREAM, url, "0.5", "10", "", *address],
            capture_output=True,
            text=True,
            timeout=30,
            env=env,
        )
        return [json.loads(line)[1] for line in run.stdout.splitlines()]

    assert (stream("127.0.0.1"), set(seen), stream()) == (
        [200] * 5,
        {(NAME, f"{NAME}:{port}", "/")},
        [0] * 5,
    )
