"""Small HTTP probes from the machine running hastack: used by the tests and drills."""

from __future__ import annotations

import urllib.error
import urllib.request


def http_get(
    url: str, timeout: float = 5, auth: tuple[str, str] | None = None, headers: dict | None = None
) -> tuple[int, str]:
    """(status, body) of a GET; status 0 when no HTTP answer came (refused, timed out)."""
    handlers = []
    if auth:
        manager = urllib.request.HTTPPasswordMgrWithDefaultRealm()
        manager.add_password(None, url, *auth)
        handlers.append(urllib.request.HTTPBasicAuthHandler(manager))
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.build_opener(*handlers).open(request, timeout=timeout) as response:
            return response.status, response.read().decode(errors="replace")
    except urllib.error.HTTPError as error:
        return error.code, ""
    except OSError:
        return 0, ""
