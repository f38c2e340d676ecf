"""Small HTTP probes from the machine running hastack: used by the tests and drills."""

from __future__ import annotations

import http.client
import socket
import ssl
import urllib.error
import urllib.parse
import urllib.request


def _direct_get(
    url: str, address: str, timeout: float, headers: dict, context: ssl.SSLContext
) -> tuple[int, str]:
    """GET ``url`` over a connection to ``address`` (the URL's port): TLS SNI, the certificate's
    check and the Host header stay the URL's name, as ``curl --connect-to`` does."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "https":
        connection = http.client.HTTPSConnection(
            parts.hostname, parts.port or 443, timeout=timeout, context=context
        )
    else:
        connection = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=timeout)
    # http.client connects through this attribute; the name is kept for everything else.
    connection._create_connection = lambda where, wait, source=None: socket.create_connection(
        (address, where[1]), wait, source
    )
    try:
        connection.request(
            "GET", (parts.path or "/") + (f"?{parts.query}" if parts.query else ""), headers=headers
        )
        response = connection.getresponse()
        return response.status, response.read().decode(errors="replace")
    finally:
        connection.close()


def http_get(
    url: str,
    timeout: float = 5,
    auth: tuple[str, str] | None = None,
    headers: dict | None = None,
    cafile: str | None = None,
    address: str | None = None,
) -> tuple[int, str]:
    """(status, body) of a GET; status 0 when no HTTP answer came (refused, timed out, a
    certificate that does not verify against ``cafile`` or the system's CAs). With ``address``,
    the connection goes there whatever the URL's name resolves to (``Site.shop_name``)."""
    context = ssl.create_default_context(cafile=cafile)
    if address:
        if auth:
            raise ValueError("http_get: auth and address together are not supported")
        try:
            return _direct_get(url, address, timeout, headers or {}, context)
        except (OSError, http.client.HTTPException):
            return 0, ""
    handlers: list = [urllib.request.HTTPSHandler(context=context)]
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


def shop_get(site, path: str = "/", timeout: float = 5) -> tuple[int, str]:
    """(status, body) of a GET of the shop's ``path`` through the VIP, as a customer's browser
    asks for it (``Site.shop_name``), verified with the CA hastack's probes use."""
    return http_get(site.url(path), timeout=timeout, cafile=site.probe_ca(), address=str(site.vip))


def statuses_while(busy, site, path: str = "/", limit: int = 20000) -> list[int]:
    """Statuses of GETs of the shop's ``path`` through the VIP (``shop_get``), three at a time,
    each on a new connection, for as long as ``busy()`` says (a deploy running beside): what
    customers saw meanwhile."""
    from concurrent.futures import ThreadPoolExecutor

    statuses: list[int] = []
    url, ca, vip = site.url(path), site.probe_ca(), str(site.vip)
    with ThreadPoolExecutor(max_workers=3) as pool:
        while busy() and len(statuses) < limit:
            answers = pool.map(lambda u: http_get(u, timeout=5, cafile=ca, address=vip), [url] * 3)
            statuses += [status for status, _ in answers]
    return statuses
