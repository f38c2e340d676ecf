"""Facts about what a host's own HTTP services answer."""

from __future__ import annotations

import shlex

from pyinfra.api import FactBase


class HttpStatus(FactBase):
    """The HTTP status a GET of ``url`` answers on the host, 0 when nothing answers (connection
    refused or no answer within 5 s); fails for any other error of curl."""

    default = int

    def requires_command(self, url: str) -> str:
        return "curl"

    def command(self, url: str) -> str:
        return (
            f"curl -s -m 5 -o /dev/null -w '%{{http_code}}\\n' {shlex.quote(url)}; rc=$?; "
            '[ "$rc" -eq 0 ] || [ "$rc" -eq 7 ] || [ "$rc" -eq 28 ] || exit "$rc"'
        )

    def process(self, output):
        return int(output[-1].strip() or 0)
