"""Small HTTP probes from the machine running hastack: used by the tests and drills."""

from __future__ import annotations

import ssl
import urllib.error
import urllib.request


def http_get(
    url: str,
    timeout: float = 5,
    auth: tuple[str, str] | None = None,
    headers: dict | None = None,
    cafile: str | None = None,
) -> tuple[int, str]:
    """(status, body) of a GET; status 0 when no HTTP answer came (refused, timed out, a
    certificate that does not verify against ``cafile`` or the system's CAs)."""
    handlers: list = [urllib.request.HTTPSHandler(context=ssl.create_default_context(cafile=cafile))]
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


def statuses_while(busy, url: str, cafile: str | None = None, limit: int = 20000) -> list[int]:
    """Statuses of GETs of ``url``, three at a time, each on a new connection, for as long as
    ``busy()`` says (a deploy running beside): what customers saw meanwhile."""
    from concurrent.futures import ThreadPoolExecutor

    statuses: list[int] = []
    with ThreadPoolExecutor(max_workers=3) as pool:
        while busy() and len(statuses) < limit:
            answers = pool.map(lambda u: http_get(u, timeout=5, cafile=cafile), [url] * 3)
            statuses += [status for status, _ in answers]
    return statuses
