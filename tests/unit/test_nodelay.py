"""hastack's paramiko connections set TCP_NODELAY (hastack/nodelay.py): checked on a real TCP
socket on loopback, which a paramiko Transport is built on as pyinfra and testinfra build it."""

import socket

import paramiko

import hastack  # noqa: F401  (installs the wrapper, as any hastack process does)
from hastack import nodelay


def transport_nodelay(sock) -> int:
    transport = paramiko.Transport(sock)
    try:
        return transport.sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
    finally:
        transport.close()
        transport.sock.close()  # a Transport never started leaves its socket open


def test_a_transport_on_a_tcp_socket_sets_tcp_nodelay():
    with socket.create_server(("127.0.0.1", 0)) as server:
        client = socket.create_connection(server.getsockname())
        accepted, _ = server.accept()
        with client, accepted:
            assert client.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0
            assert transport_nodelay(client) != 0


def test_a_transport_to_an_address_sets_tcp_nodelay():
    with socket.create_server(("127.0.0.1", 0)) as server:
        host, port = server.getsockname()
        assert transport_nodelay((host, port)) != 0


class ProxyLike:
    """What a ProxyCommand gives paramiko: send, recv, close, settimeout, and no setsockopt."""

    def send(self, data):
        return len(data)

    def recv(self, size):
        return b""

    def settimeout(self, timeout):
        pass

    def close(self):
        pass


def test_a_transport_on_what_is_not_tcp_is_built_as_before():
    left, right = socket.socketpair()
    with left, right:
        assert nodelay.set_nodelay(left) is False
        paramiko.Transport(left).close()
    proxy = ProxyLike()
    assert paramiko.Transport(proxy).sock is proxy


def test_installing_twice_wraps_once():
    nodelay.install()
    wrapped = paramiko.Transport.__init__
    nodelay.install()
    assert paramiko.Transport.__init__ is wrapped
    assert wrapped.__wrapped__.__qualname__ == "Transport.__init__"
