"""The fence gate: a TLS front to this machine's Docker engine, for the lab's fencing only.

Pacemaker fences the lab's proxies with fence_docker, which speaks the Docker Engine HTTP API; opening
the engine to the lab would give every lab host root here. The gate listens on the lab's bridge, wants a
client certificate signed by the lab's fence CA, and forwards to the Docker socket only fence_docker's
calls (inspect, kill, start, restart, list) on the allowed containers, cut down to the fields it reads.
"""

from __future__ import annotations

import argparse
import contextlib
import ipaddress
import json
import re
import socket
import socketserver
import ssl
import threading
from datetime import UTC, datetime
from http import HTTPStatus

CLIENT_TIMEOUT = 10.0
# Docker answers restart only once the container has stopped, which may take its stop timeout
# (10 s by default) and more: a shorter wait would report a failure for a restart that happens.
UPSTREAM_TIMEOUT = 60.0
MAX_HEAD = 16 * 1024
MAX_BODY = 1024 * 1024
MAX_UPSTREAM = 16 * 1024 * 1024

_PREFIX = r"(?:/v[0-9]+\.[0-9]+)?"
_ONE = re.compile(rf"{_PREFIX}/containers/([^/]+)/(json|kill|start|restart)")
_LIST = re.compile(rf"{_PREFIX}/containers/json")
_LIST_PARAM = r"(?:all|limit|size)=[A-Za-z0-9]{1,10}"
_LIST_QUERY = re.compile(rf"{_LIST_PARAM}(?:&{_LIST_PARAM})*")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_VERSION = re.compile(r"^/v[0-9]+\.[0-9]+(?=/)")


class BadRequest(Exception):
    """A request the gate cannot read; ``status`` is the answer it gets."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status


# --- policy -------------------------------------------------------------------------------------


def decide(method: str, target: str, allowed: set[str]) -> tuple[str, str] | None:
    """``(action, container)`` for a request fence_docker makes on an allowed container, else None.

    The target must be plain printable ASCII, without ``%`` or ``#``; only the list takes a query,
    and only its harmless parameters (all, limit, size)."""
    if not target.startswith("/") or "%" in target or "#" in target:
        return None
    if any(not 0x21 <= ord(char) <= 0x7E for char in target):
        return None
    path, has_query, query = target.partition("?")
    if _LIST.fullmatch(path):
        if method != "GET" or (has_query and not _LIST_QUERY.fullmatch(query)):
            return None
        return "list", ""
    match = _ONE.fullmatch(path)
    if match is None or has_query or match.group(1) not in allowed:
        return None
    name, call = match.groups()
    if call == "json":
        return ("inspect", name) if method == "GET" else None
    return (call, name) if method == "POST" else None


# --- answers ------------------------------------------------------------------------------------


def filter_inspect(body: bytes) -> bytes:
    """An inspect answer cut down to its Id, Name and State.Running/Status (no Env, no mounts)."""
    data = json.loads(body)
    state = data.get("State") or {}
    kept = {
        "Id": data.get("Id"),
        "Name": data.get("Name"),
        "State": {"Running": state.get("Running"), "Status": state.get("Status")},
    }
    return json.dumps(kept).encode()


def filter_list(body: bytes, allowed: set[str]) -> bytes:
    """A list answer cut down to the allowed containers, each to its Id, Names and Status."""
    wanted = {f"/{name}" for name in allowed}
    kept = []
    for entry in json.loads(body):
        names = [name for name in entry.get("Names") or [] if name in wanted]
        if names:
            kept.append({"Id": entry.get("Id"), "Names": names, "Status": entry.get("Status")})
    return json.dumps(kept).encode()


def filter_response(action: str, status: int, body: bytes, allowed: set[str]) -> tuple[int, bytes]:
    """The status and body the client gets for the engine's answer to ``action``."""
    if action not in ("inspect", "list"):
        return status, body
    try:
        if status != 200:
            message = json.loads(body).get("message", "") if body else ""
            return status, json.dumps({"message": str(message)}).encode()
        return status, filter_inspect(body) if action == "inspect" else filter_list(body, allowed)
    except (ValueError, AttributeError, TypeError):
        return 502, _message("unreadable answer from the engine")


def _message(text: str) -> bytes:
    return json.dumps({"message": text}).encode()


# --- HTTP ---------------------------------------------------------------------------------------


def parse_request_head(head: bytes) -> tuple[str, str, dict[str, str]]:
    """Method, target and headers (lower-case names) of a request head, without its blank line."""
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1.") or not parts[0].isalpha():
        raise BadRequest(400, "bad request line")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if not colon or not name or name != name.strip() or " " in name:
            raise BadRequest(400, "bad header")
        name, value = name.lower(), value.strip()
        if name == "content-length" and headers.get(name, value) != value:
            raise BadRequest(400, "conflicting Content-Length")
        headers[name] = value
    if "transfer-encoding" in headers:
        raise BadRequest(400, "Transfer-Encoding is not accepted")
    length = headers.get("content-length", "0")
    if not length.isdigit() or not length.isascii():
        raise BadRequest(400, "bad Content-Length")
    if int(length) > MAX_BODY:
        raise BadRequest(413, "body too large")
    return parts[0], parts[1], headers


def read_request(sock: socket.socket) -> tuple[str, str, dict[str, str]]:
    """Read one request's head from ``sock`` and drain its body (which the gate never needs)."""
    data = b""
    while (end := data.find(b"\r\n\r\n")) < 0:
        if len(data) > MAX_HEAD:
            raise BadRequest(400, "request head too large")
        chunk = sock.recv(4096)
        if not chunk:
            raise BadRequest(400, "incomplete request")
        data += chunk
    if end + 4 > MAX_HEAD:
        raise BadRequest(400, "request head too large")
    method, target, headers = parse_request_head(data[:end])
    remaining = int(headers.get("content-length", "0")) - (len(data) - end - 4)
    while remaining > 0:
        chunk = sock.recv(min(remaining, 65536))
        if not chunk:
            raise BadRequest(400, "incomplete body")
        remaining -= len(chunk)
    return method, target, headers


def decode_chunked(data: bytes) -> bytes:
    """The body carried by a chunked transfer coding (trailers ignored)."""
    body, position = b"", 0
    while True:
        line_end = data.index(b"\r\n", position)
        size = int(data[position:line_end].split(b";")[0].strip(), 16)
        if size == 0:
            return body
        start = line_end + 2
        if start + size > len(data):
            raise ValueError("truncated chunk")
        body += data[start : start + size]
        position = start + size + 2


def parse_response(raw: bytes) -> tuple[int, dict[str, str], bytes]:
    """Status, headers (lower-case names) and body of a whole HTTP/1.1 response read until close."""
    head, separator, rest = raw.partition(b"\r\n\r\n")
    if not separator:
        raise ValueError("incomplete response head")
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
        raise ValueError("bad status line")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    status = int(parts[1])
    if status in (204, 304) or 100 <= status < 200:
        return status, headers, b""
    if "chunked" in headers.get("transfer-encoding", "").lower():
        return status, headers, decode_chunked(rest)
    if "content-length" in headers:
        length = int(headers["content-length"])
        if len(rest) < length:
            raise ValueError("truncated body")
        return status, headers, rest[:length]
    return status, headers, rest


def forward(docker_socket: str, method: str, target: str) -> tuple[int, bytes]:
    """Send one body-less request to the engine's unix socket; its status and (decoded) body."""
    request = f"{method} {target} HTTP/1.1\r\nHost: docker\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as upstream:
        upstream.settimeout(UPSTREAM_TIMEOUT)
        upstream.connect(docker_socket)
        upstream.sendall(request.encode("ascii"))
        raw = b""
        while chunk := upstream.recv(65536):
            raw += chunk
            if len(raw) > MAX_UPSTREAM:
                raise ValueError("answer too large")
    status, _, body = parse_response(raw)
    return status, body


def render_response(status: int, body: bytes) -> bytes:
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = "Unknown"
    head = [f"HTTP/1.1 {status} {reason}"]
    if body:
        head.append("Content-Type: application/json")
    head += [f"Content-Length: {len(body)}", "Connection: close", "", ""]
    return "\r\n".join(head).encode("latin-1") + body


# --- server -------------------------------------------------------------------------------------


def make_context(cert: str, key: str, ca: str) -> ssl.SSLContext:
    """A server context that accepts only clients with a certificate signed by ``ca``."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.verify_mode = ssl.CERT_REQUIRED
    context.load_verify_locations(cafile=ca)
    context.load_cert_chain(certfile=cert, keyfile=key)
    return context


def common_name(peer: dict | None) -> str:
    for rdn in (peer or {}).get("subject", ()):
        for field, value in rdn:
            if field == "commonName":
                return _printable(value)
    return "-"


def _printable(text: str, limit: int = 200) -> str:
    cleaned = "".join(char if 0x21 <= ord(char) <= 0x7E else "?" for char in text[:limit])
    return cleaned or "-"


class _Handler(socketserver.BaseRequestHandler):
    server: FenceGate

    def handle(self) -> None:
        self.request.settimeout(CLIENT_TIMEOUT)
        try:
            tls = self.server.context.wrap_socket(self.request, server_side=True)
        except (ssl.SSLError, OSError):
            return  # no valid client certificate (or no handshake at all): no request
        with tls:
            cn = common_name(tls.getpeercert())
            try:
                status, body, action, what = self.answer(tls)
            except OSError:
                return  # the client went away, or was too slow, before its request was whole
            self.server.log(cn, action, what, status)
            with contextlib.suppress(OSError):
                tls.sendall(render_response(status, body))

    def answer(self, tls: ssl.SSLSocket) -> tuple[int, bytes, str, str]:
        """Status, body, action (or 'refused') and container (or target) for the one request."""
        try:
            method, target, _ = read_request(tls)
        except BadRequest as refused:
            return refused.status, _message(str(refused)), "refused", "-"
        allowed = self.server.allowed
        decision = decide(method, target, allowed)
        if decision is None:
            return 403, _message("refused by the fence gate"), "refused", _printable(target)
        action, container = decision
        try:
            # unversioned: the engine's own API version, whichever the agent was told (an engine
            # refuses versions below its minimum: Docker 29 wants 1.44)
            status, body = forward(self.server.docker_socket, method, _VERSION.sub("", target, count=1))
        except (OSError, ValueError):
            return 502, _message("the engine did not answer"), action, container or target
        status, body = filter_response(action, status, body, allowed)
        return status, body, action, container or target


class FenceGate(socketserver.ThreadingTCPServer):
    """The gate's TCP server: each connection is wrapped in TLS in its own thread."""

    allow_reuse_address = True
    daemon_threads = True

    def __init__(
        self,
        listen: tuple[str, int],
        context: ssl.SSLContext,
        docker_socket: str,
        allowed: set[str],
        log_path: str,
    ):
        self.context = context
        self.docker_socket = str(docker_socket)
        self.allowed = set(allowed)
        self._log_lock = threading.Lock()
        self._log_file = open(log_path, "a", encoding="utf-8")  # noqa: SIM115 (closed in server_close)
        try:
            super().__init__(listen, _Handler)
        except BaseException:
            self._log_file.close()
            raise

    def log(self, cn: str, action: str, what: str, status: int) -> None:
        when = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        with self._log_lock:
            self._log_file.write(f"{when} {cn} {action} {what} : {status}\n")
            self._log_file.flush()

    def handle_error(self, request, client_address) -> None:
        pass  # the gate writes nothing but its log; a broken connection is the client's affair

    def server_close(self) -> None:
        super().server_close()
        with self._log_lock:
            self._log_file.close()


def serve(
    listen: tuple[str, int],
    cert: str,
    key: str,
    ca: str,
    docker_socket: str,
    allowed: set[str],
    log_path: str,
) -> None:
    """Run the gate until interrupted."""
    with FenceGate(listen, make_context(cert, key, ca), docker_socket, allowed, log_path) as gate:
        host, port = gate.server_address[:2]
        print(f"fence gate listening on {host}:{port}", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            gate.serve_forever()


def _address(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    try:
        ipaddress.IPv4Address(host)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an IPv4 address: {host!r}") from None
    if not port.isdigit() or int(port) > 65535:
        raise argparse.ArgumentTypeError(f"not a port: {port!r}")
    return host, int(port)


def _container(text: str) -> str:
    if not _NAME.fullmatch(text):
        raise argparse.ArgumentTypeError(f"not a container name: {text!r}")
    return text


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m hastack.lab.fencegate", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--listen", required=True, type=_address, metavar="IP:PORT")
    parser.add_argument("--cert", required=True, help="the gate's certificate (PEM)")
    parser.add_argument("--key", required=True, help="the gate's private key (PEM)")
    parser.add_argument("--ca", required=True, help="the fence CA, which signs the clients' certificates")
    parser.add_argument("--docker-socket", default="/var/run/docker.sock")
    parser.add_argument("--allow", required=True, action="append", type=_container, metavar="NAME")
    parser.add_argument("--log", required=True, metavar="PATH")
    args = parser.parse_args(argv)
    serve(args.listen, args.cert, args.key, args.ca, args.docker_socket, set(args.allow), args.log)


if __name__ == "__main__":
    main()
