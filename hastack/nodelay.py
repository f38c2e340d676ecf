"""SSH without Nagle's delay: TCP_NODELAY on every paramiko connection hastack's processes open.

paramiko sets no socket option of its own. An SSH exec is a few small packets each way, so
Nagle's algorithm on this side meets the server's delayed ACK and each command waits for the
ACK timer (40 ms on Linux): measured on the lab, 2026-12-06, a command over a paramiko
connection took 48-60 ms with Nagle's algorithm and 3.7 ms without it (OpenSSH's own client,
over a master connection, 13 ms). pyinfra asks its facts one command at a time and testinfra
runs its checks the same way, so the whole deploy, its no-op re-run and `hastack verify` paid
that wait on every command.

``install()`` makes every ``paramiko.Transport`` set the option on its socket: pyinfra's
connector, testinfra's paramiko backend and ``hastack.ssh`` all build one. A socket that is not
TCP (a ProxyCommand, a Unix socket) is left as it is. Installed once, on ``import hastack``.
"""

from __future__ import annotations

import functools
import socket

import paramiko

_MARK = "_hastack_nodelay"


def set_nodelay(sock) -> bool:
    """Turn Nagle's algorithm off on ``sock`` if it is a TCP socket; whether it did."""
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except (AttributeError, OSError):
        return False
    return True


def install() -> None:
    """Wrap ``paramiko.Transport.__init__`` (once) so that its socket gets TCP_NODELAY."""
    original = paramiko.Transport.__init__
    if getattr(original, _MARK, False):
        return

    @functools.wraps(original)
    def __init__(self, sock, *args, **kwargs):
        original(self, sock, *args, **kwargs)
        set_nodelay(self.sock)

    setattr(__init__, _MARK, True)
    paramiko.Transport.__init__ = __init__
