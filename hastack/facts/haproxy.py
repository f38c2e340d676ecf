"""HAProxy facts, read from its configuration file."""

from __future__ import annotations

import shlex

from pyinfra.api import FactBase


class HaproxyServers(FactBase):
    """
    The servers of one backend in HAProxy's configuration file, in order; empty when there
    is no such file yet.

    .. code:: python

        ["web1", "web2"]
    """

    default = list

    def command(self, backend: str, path: str = "/etc/haproxy/haproxy.cfg") -> str:
        quoted = shlex.quote(path)
        program = (
            f'/^[^ \\t]/ {{ b = ($1 == "backend" && $2 == "{backend}") }} b && $1 == "server" {{ print $2 }}'
        )
        return f"if [ -f {quoted} ]; then awk {shlex.quote(program)} {quoted}; fi"

    def process(self, output):
        return [line.strip() for line in output if line.strip()]
